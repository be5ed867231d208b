# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""upa_job_info against a scripted tenant: it reads, waits in rounds, decides each job's outcome, and changes nothing."""

from __future__ import annotations

import json

import pytest

from ansible_collections.spo.user_profiles.plugins.module_utils import permissions
from ansible_collections.spo.user_profiles.plugins.modules import upa_job_info
from ansible_collections.spo.user_profiles.tests.unit.plugins.module_utils.test_job_api import ROOT, FakeTenant
from ansible_collections.spo.user_profiles.tests.unit.plugins.module_utils.test_job_log import LOG_NOT_RESOLVABLE
from ansible_collections.spo.user_profiles.tests.unit.plugins.modules.module_runs import refuse_client, run_module, serve_client

FOLDER = "/Shared Documents/ProfileImport/j"


@pytest.fixture
def tenant(monkeypatch):
    fake = FakeTenant()
    fake.log_files[FOLDER] = {"j.log": LOG_NOT_RESOLVABLE.encode()}
    return serve_client(monkeypatch, fake)


def run(capsys, **args):
    return run_module(upa_job_info, capsys, **args)


def test_never_changes_anything(tenant, capsys):
    tenant.add_job(state=4)
    partial = tenant.add_job(state=4, error=30, log_folder=ROOT + FOLDER)
    listed = run(capsys, _ansible_check_mode=True)
    assert listed["changed"] is False and len(listed["jobs"]) == 2
    one = run(capsys, job_id=partial, include_log=True)
    assert one["job"]["failed_identities"] == ["unknown@contoso.com"]
    assert "QueueImportProfileProperties" not in tenant.methods()
    assert "DeleteImportProfilePropertiesJob" not in tenant.methods()
    assert tenant.asked_needs == [permissions.BULK_IMPORT] * 2


def test_job_states_filters_the_jobs_and_state_is_not_an_option(tenant, capsys):
    running = tenant.add_job(state=2)
    tenant.add_job(state=4)
    listed = run(capsys, job_states=["Processing", "Queued"])
    assert [job["job_id"] for job in listed["jobs"]] == [running]
    refused = run(capsys, state=["Processing"])
    assert refused["failed"] is True and "state" in refused["msg"]


def test_the_outcome_of_a_job_asked_for_by_id_reads_its_log_and_applies_allowed_failures(tenant, capsys):
    partial = tenant.add_job(state=4, error=30, log_folder=ROOT + FOLDER)
    strict = run(capsys, job_id=partial)
    assert "failed" not in strict, "a failed job does not fail an info task"
    assert strict["job"]["outcome"] == "failed" and "1 failed users" in strict["job"]["outcome_message"]
    lenient = run(capsys, job_id=partial, allowed_failures=1)
    assert lenient["job"]["outcome"] == "succeeded_with_failures" and lenient["job"]["outcome_message"] is None
    assert lenient["job"]["failed_count"] == 1


def test_outcomes_of_running_and_clean_jobs(tenant, capsys):
    running = tenant.add_job(state=2)
    clean = tenant.add_job(state=4)
    assert run(capsys, job_id=running)["job"]["outcome"] == "running"
    assert run(capsys, job_id=clean)["job"]["outcome"] == "succeeded"
    assert tenant.rest_calls == [], "no log is read for a job without errors"


def test_a_wait_that_runs_out_returns_a_running_job_without_failing(tenant, capsys):
    job_id = tenant.add_job(state=1, script=[(2, 0), (2, 0), (2, 0), (2, 0)])
    result = run(capsys, job_id=job_id, wait_seconds=1, poll_interval=1)
    assert "failed" not in result and result["job"]["outcome"] == "running"
    assert result["job"]["outcome_message"].startswith("import job %s is still Processing after waiting" % job_id)


def test_while_waiting_the_job_is_left_in_the_progress_file_for_the_action(tenant, capsys, tmp_path):
    job_id = tenant.add_job(state=1, script=[(2, 0), (4, 0)])
    result = run(capsys, job_id=job_id, wait_seconds=30, poll_interval=1, progress_interval=5,
                 _ansible_tmpdir=str(tmp_path))
    assert result["job"]["outcome"] == "succeeded"
    assert json.loads((tmp_path / "spo-progress.json").read_text())["job"]["job_id"] == job_id


@pytest.mark.parametrize("args, message", [
    ({"allowed_failures": -1}, "allowed_failures must be 0 or more, not -1 (nothing was sent)"),
    ({"wait_seconds": 5}, "wait_seconds needs job_id: only one job is waited for (nothing was sent)"),
    ({"job_id": ""}, "job_id is empty: give the id of the job to read (a GUID), or leave job_id out to read all jobs "
                     "(nothing was sent)"),
    ({"job_id": "", "wait_seconds": 5}, "job_id is empty: give the id of the job to read (a GUID), or leave job_id out "
                                        "to read all jobs (nothing was sent)"),
    ({"poll_interval": 0}, "poll_interval must be positive, not 0 (nothing was sent)"),
    ({"poll_interval": 5, "max_poll_interval": 2}, "max_poll_interval must be at least poll_interval (5), not 2 (nothing was sent)"),
    ({"progress_interval": -1}, "progress_interval must be 0 or more, not -1 (nothing was sent)"),
    ({"max_log_entries": -1, "poll_interval": 0},
     "2 option problems, nothing was sent: max_log_entries must be 0 or more, not -1; poll_interval must be positive, not 0"),
])
def test_bad_options_are_refused_before_connecting(monkeypatch, capsys, args, message):
    refuse_client(monkeypatch)
    result = run(capsys, **args)
    assert result["failed"] is True and result["msg"] == message
