# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

import json

import pytest
from ansible.module_utils.testing import patch_module_args

from ansible_collections.spo.user_profiles.plugins.module_utils.base import SpoModule
from ansible_collections.spo.user_profiles.plugins.modules import upa_import_job, upa_job_info
from ansible_collections.spo.user_profiles.tests.unit.plugins.module_utils.test_job_api import ROOT, SOURCE, FakeTenant
from ansible_collections.spo.user_profiles.tests.unit.plugins.module_utils.test_job_log import LOG_NOT_RESOLVABLE


@pytest.fixture
def tenant(monkeypatch):
    fake = FakeTenant()
    monkeypatch.setattr(SpoModule, "client", lambda self: fake)
    return fake


def run(module, capsys, **args):
    args.setdefault("tenant", "contoso")
    with patch_module_args(args):
        with pytest.raises(SystemExit):
            module.main()
    return json.loads(capsys.readouterr().out)


def present(**extra):
    args = dict(source_uri=[SOURCE], id_type="principal_name", id_property="IdName", property_map={"City": "City"})
    args.update(extra)
    return args


def finish_at_once(tenant, state=4, error=0, log=None):
    """Jobs queued from now on are already finished at the first read, so the module never sleeps."""
    folder = "/Shared Documents/ProfileImport/job"

    def script(fake, params):
        if log is not None:
            fake.log_files[folder] = {"job.log": log.encode("utf-8")}
        fake.queue_answers.append(fake.add_job(source=params[3][1], script=[(state, error)], log_folder=ROOT + folder))
    tenant.on_queue = script


def test_check_mode_then_queue_then_idempotent(tenant, capsys):
    finish_at_once(tenant)
    check = run(upa_import_job, capsys, _ansible_check_mode=True, _ansible_diff=True, **present())
    assert check["changed"] is True and check["would_queue"][0]["source_uri"] == SOURCE
    assert check["diff"]["after"][SOURCE] == ["(new job) Submitted"]
    assert tenant.jobs == []

    applied = run(upa_import_job, capsys, **present())
    assert applied["changed"] is True and applied["job"]["state"] == "Succeeded"
    assert applied["job"]["queued_at"].endswith("Z") and "diff" not in applied

    again = run(upa_import_job, capsys, **present())
    assert again["changed"] is False and again["job"]["job_id"] == applied["job"]["job_id"]
    assert len(tenant.jobs) == 1


def test_failed_job_fails_the_task_with_the_job_in_the_result(tenant, capsys):
    finish_at_once(tenant, state=4, error=30, log=LOG_NOT_RESOLVABLE)
    result = run(upa_import_job, capsys, **present())
    assert result["failed"] is True and result["changed"] is True
    assert "ImportCompleteWithError" in result["msg"] and "unknown@contoso.com" in result["msg"]
    assert result["job"]["failed_identities"] == ["unknown@contoso.com"]
    assert result["error_code"] == "ImportCompleteWithError"


def test_queue_time_refusal_is_reported(tenant, capsys):
    tenant.queue_error = {"ErrorMessage": "Property Names [AboutMe] are editable by user.", "ErrorCode": -1,
                          "ErrorTypeName": "Microsoft.SharePoint.SPException"}
    result = run(upa_import_job, capsys, **present(property_map={"About": "AboutMe"}))
    assert result["failed"] is True and "Property Names [AboutMe] are editable by user." in result["msg"]
    assert result["jobs"] == [] and result["changed"] is False


def test_state_absent(tenant, capsys):
    job_id = tenant.add_job(state=4)
    check = run(upa_import_job, capsys, _ansible_check_mode=True, state="absent", job_id=job_id)
    assert check["changed"] is True and tenant.job(job_id) is not None
    deleted = run(upa_import_job, capsys, state="absent", job_id=job_id)
    assert deleted["changed"] is True and deleted["job"]["job_id"] == job_id and tenant.job(job_id) is None
    again = run(upa_import_job, capsys, state="absent", job_id=job_id)
    assert again["changed"] is False and again["job"] is None


def test_required_options(tenant, capsys):
    result = run(upa_import_job, capsys, source_uri=[SOURCE])
    assert result["failed"] is True and "id_property" in result["msg"]
    result = run(upa_import_job, capsys, state="absent")
    assert result["failed"] is True and "job_id" in result["msg"]
    result = run(upa_import_job, capsys, id_property="IdName", property_map={"City": "City"})
    assert result["failed"] is True and "source_uri, job_id" in result["msg"]
    result = run(upa_import_job, capsys, **present(job_id="5f4e7a2c-1111-2222-3333-444455556666"))
    assert result["failed"] is True and "mutually exclusive" in result["msg"]


def test_job_id_follows_a_job_queued_earlier(tenant, capsys):
    job_id = tenant.add_job(state=1, script=[(4, 0)])
    result = run(upa_import_job, capsys, _ansible_diff=True, job_id=job_id, poll_interval=1)
    assert result["changed"] is False and result["job"]["job_id"] == job_id and result["job"]["state"] == "Succeeded"
    assert result["diff"]["after"] == {SOURCE: ["%s Succeeded" % job_id]}
    assert "QueueImportProfileProperties" not in tenant.methods()


def test_job_id_of_a_job_in_error_fails_without_queueing_again(tenant, capsys):
    job_id = tenant.add_job(state=5, error=20)
    result = run(upa_import_job, capsys, job_id=job_id)
    assert result["failed"] is True and "DataFileNotExist" in result["msg"]
    assert result["job"]["job_id"] == job_id and result["changed"] is False
    assert "QueueImportProfileProperties" not in tenant.methods() and len(tenant.jobs) == 1


def test_job_info_never_changes_anything(tenant, capsys):
    folder = "/Shared Documents/ProfileImport/j"
    tenant.log_files[folder] = {"j.log": LOG_NOT_RESOLVABLE.encode()}
    tenant.add_job(state=4)
    partial = tenant.add_job(state=4, error=30, log_folder=ROOT + folder)
    listed = run(upa_job_info, capsys, _ansible_check_mode=True)
    assert listed["changed"] is False and len(listed["jobs"]) == 2
    one = run(upa_job_info, capsys, job_id=partial, include_log=True)
    assert one["job"]["failed_identities"] == ["unknown@contoso.com"]
    assert "QueueImportProfileProperties" not in tenant.methods()
    assert "DeleteImportProfilePropertiesJob" not in tenant.methods()


RETENTION = {"name": "hr", "older_than_days": 30, "keep": ["hr-0123456789abcdef.json"]}


@pytest.fixture
def cleanups(monkeypatch):
    """Records each retention.clean call (options, check mode) and answers with one removed file."""
    calls = []

    def clean(client, options, check_mode=False):
        calls.append((dict(options), check_mode))
        return {"changed": True, "removed_files": ["hr-fedcba9876543210.json"], "removed_log_folders": [],
                "protected": [], "cutoff": "2026-01-01T00:00:00Z"}
    monkeypatch.setattr(upa_import_job.retention, "clean", clean)
    return calls


def test_retention_runs_in_the_same_module_run_once_the_job_succeeded(tenant, capsys, cleanups):
    job_id = tenant.add_job(state=1, script=[(4, 0)])
    result = run(upa_import_job, capsys, _ansible_diff=True, job_id=job_id, poll_interval=1, retention=RETENTION)
    assert result["job"]["state"] == "Succeeded"
    assert result["changed"] is True  # the job was only followed; the clean-up removed a file
    assert result["retention"]["removed_files"] == ["hr-fedcba9876543210.json"] and "changed" not in result["retention"]
    assert result["diff"]["before"]["retention"] == ["hr-fedcba9876543210.json"]
    assert result["diff"]["after"]["retention"] == []
    options, check_mode = cleanups[0]
    assert len(cleanups) == 1 and check_mode is False
    assert options["folder"] == "Shared Documents/ProfileImport"
    # The followed job's own log folder and file are kept, with what the caller named.
    assert options["keep"] == RETENTION["keep"] + [job_id, "profiles-3f2a.json"]


def test_retention_in_check_mode_only_reports(tenant, capsys, cleanups):
    job_id = tenant.add_job(state=4)
    result = run(upa_import_job, capsys, _ansible_check_mode=True, job_id=job_id, retention=RETENTION)
    assert result["retention"]["removed_files"] == ["hr-fedcba9876543210.json"]
    assert cleanups[0][1] is True


def test_no_retention_after_a_failed_job_or_without_waiting(tenant, capsys, cleanups):
    failed = run(upa_import_job, capsys, job_id=tenant.add_job(state=5, error=20), retention=RETENTION)
    assert failed["failed"] is True and "retention" not in failed
    running = run(upa_import_job, capsys, job_id=tenant.add_job(state=1), wait=False, retention=RETENTION)
    assert running["job"]["state"] == "Submitted" and "retention" not in running
    assert cleanups == []


def test_a_failed_clean_up_fails_the_task_and_keeps_the_job(tenant, capsys, monkeypatch):
    def refuse(client, options, check_mode=False):
        raise upa_import_job.SpoError("Access denied", status=403, operation="list the import folder")
    monkeypatch.setattr(upa_import_job.retention, "clean", refuse)
    job_id = tenant.add_job(state=4)
    result = run(upa_import_job, capsys, job_id=job_id, retention=RETENTION)
    assert result["failed"] is True
    assert "the import succeeded, but the clean-up by retention failed" in result["msg"] and "403" in result["msg"]
    assert result["job"]["job_id"] == job_id and "Access denied" in result["retention"]["error"]


def test_a_retention_of_less_than_a_day_is_refused_before_connecting(monkeypatch, capsys):
    monkeypatch.setattr(SpoModule, "client", lambda self: pytest.fail("connected"))
    result = run(upa_import_job, capsys, job_id="5f4e7a2c-1111-2222-3333-444455556666",
                 retention=dict(RETENTION, older_than_days=0))
    assert result["failed"] is True and result["msg"] == "retention: older_than_days must be 1 or more"
