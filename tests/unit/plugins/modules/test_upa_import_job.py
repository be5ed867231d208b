# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

import pytest

from ansible_collections.spo.user_profiles.plugins.module_utils import permissions
from ansible_collections.spo.user_profiles.plugins.modules import upa_import_job
from ansible_collections.spo.user_profiles.tests.unit.plugins.module_utils.test_job_api import ROOT, SOURCE, FakeTenant
from ansible_collections.spo.user_profiles.tests.unit.plugins.module_utils.test_job_log import LOG_NOT_RESOLVABLE
from ansible_collections.spo.user_profiles.tests.unit.plugins.modules.module_runs import run_module, serve_client


@pytest.fixture
def tenant(monkeypatch):
    return serve_client(monkeypatch, FakeTenant())


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
    check = run_module(upa_import_job, capsys, _ansible_check_mode=True, _ansible_diff=True, **present())
    assert check["changed"] is True and check["would_queue"][0]["source_uri"] == SOURCE
    assert check["diff"]["after"][SOURCE] == ["(new job) Submitted"]
    assert tenant.jobs == []

    applied = run_module(upa_import_job, capsys, **present())
    assert applied["changed"] is True and applied["job"]["state"] == "Succeeded"
    assert applied["job"]["queued_at"].endswith("Z") and "diff" not in applied

    again = run_module(upa_import_job, capsys, **present())
    assert again["changed"] is False and again["job"]["job_id"] == applied["job"]["job_id"]
    assert len(tenant.jobs) == 1
    # every run had the bulk import API's permissions checked before it did anything
    assert tenant.asked_needs == [permissions.BULK_IMPORT] * 3


def test_failed_job_fails_the_task_with_the_job_in_the_result(tenant, capsys):
    finish_at_once(tenant, state=4, error=30, log=LOG_NOT_RESOLVABLE)
    result = run_module(upa_import_job, capsys, **present())
    assert result["failed"] is True and result["changed"] is True
    assert "ImportCompleteWithError" in result["msg"] and "unknown@contoso.com" in result["msg"]
    assert result["job"]["failed_identities"] == ["unknown@contoso.com"]
    assert result["error_code"] == "ImportCompleteWithError"


def test_queue_time_refusal_is_reported(tenant, capsys):
    tenant.queue_error = {"ErrorMessage": "Property Names [AboutMe] are editable by user.", "ErrorCode": -1,
                          "ErrorTypeName": "Microsoft.SharePoint.SPException"}
    result = run_module(upa_import_job, capsys, **present(property_map={"About": "AboutMe"}))
    assert result["failed"] is True and "Property Names [AboutMe] are editable by user." in result["msg"]
    assert result["jobs"] == [] and result["changed"] is False


def test_state_absent(tenant, capsys):
    job_id = tenant.add_job(state=4)
    check = run_module(upa_import_job, capsys, _ansible_check_mode=True, state="absent", job_id=job_id)
    assert check["changed"] is True and tenant.job(job_id) is not None
    deleted = run_module(upa_import_job, capsys, state="absent", job_id=job_id)
    assert deleted["changed"] is True and deleted["job"]["job_id"] == job_id and tenant.job(job_id) is None
    again = run_module(upa_import_job, capsys, state="absent", job_id=job_id)
    assert again["changed"] is False and again["job"] is None


def test_required_options(tenant, capsys):
    result = run_module(upa_import_job, capsys, source_uri=[SOURCE])
    assert result["failed"] is True and "id_property" in result["msg"]
    result = run_module(upa_import_job, capsys, state="absent")
    assert result["failed"] is True and "job_id" in result["msg"]
    result = run_module(upa_import_job, capsys, id_property="IdName", property_map={"City": "City"})
    assert result["failed"] is True and "source_uri, job_id" in result["msg"]
    result = run_module(upa_import_job, capsys, **present(job_id="5f4e7a2c-1111-2222-3333-444455556666"))
    assert result["failed"] is True and "mutually exclusive" in result["msg"]


@pytest.mark.parametrize("state", ["present", "absent"])
def test_an_empty_job_id_is_refused_before_anything_is_sent(tenant, capsys, state):
    job_id = tenant.add_job(state=4)
    result = run_module(upa_import_job, capsys, state=state, job_id="")
    assert result["failed"] is True
    assert result["msg"] == ("job_id is empty: give the id of the job to follow (state=present) or delete (state=absent), "
                             "a GUID (nothing was sent)")
    assert tenant.requests == [] and tenant.rest_calls == [] and tenant.job(job_id) is not None


def test_every_wrong_number_is_named_in_one_message_before_anything_is_sent(tenant, capsys):
    result = run_module(upa_import_job, capsys, **present(wait_timeout=-1, poll_interval=0, allowed_failures=-2))
    assert result["failed"] is True and result["msg"] == (
        "3 option problems, nothing was sent: wait_timeout must be 0 or more, not -1; allowed_failures must be 0 or "
        "more, not -2; poll_interval must be positive, not 0")
    assert tenant.asked_needs == [] and tenant.requests == [] and tenant.rest_calls == []


def test_job_id_follows_a_job_queued_earlier(tenant, capsys):
    job_id = tenant.add_job(state=1, script=[(4, 0)])
    result = run_module(upa_import_job, capsys, _ansible_diff=True, job_id=job_id, poll_interval=1)
    assert result["changed"] is False and result["job"]["job_id"] == job_id and result["job"]["state"] == "Succeeded"
    assert result["diff"]["after"] == {SOURCE: ["%s Succeeded" % job_id]}
    assert "QueueImportProfileProperties" not in tenant.methods()


def test_job_id_of_a_job_in_error_fails_without_queueing_again(tenant, capsys):
    job_id = tenant.add_job(state=5, error=20)
    result = run_module(upa_import_job, capsys, job_id=job_id)
    assert result["failed"] is True and "DataFileNotExist" in result["msg"]
    assert result["job"]["job_id"] == job_id and result["changed"] is False
    assert "QueueImportProfileProperties" not in tenant.methods() and len(tenant.jobs) == 1


def test_without_waiting_an_ended_job_is_returned_without_a_verdict(tenant, capsys):
    folder = "/Shared Documents/ProfileImport/old"
    tenant.log_files[folder] = {"old.log": LOG_NOT_RESOLVABLE.encode()}
    tenant.remember(tenant.add_job(source=SOURCE, state=4, error=30, log_folder=ROOT + folder))
    found = run_module(upa_import_job, capsys, wait=False, **present())
    assert "failed" not in found and found["changed"] is False
    assert found["job"]["error"] == "ImportCompleteWithError" and "outcome" not in found["job"]
    assert [url for _method, url in tenant.rest_calls if "/old" in url] == [], "the log is read by whoever judges the job"


def test_waiting_decides_the_outcome_once(tenant, capsys):
    folder = "/Shared Documents/ProfileImport/old"
    tenant.log_files[folder] = {"old.log": LOG_NOT_RESOLVABLE.encode()}
    job_id = tenant.add_job(source=SOURCE, state=4, error=30, log_folder=ROOT + folder)
    within = run_module(upa_import_job, capsys, job_id=job_id, allowed_failures=5)
    assert "failed" not in within and within["job"]["outcome"] == "succeeded_with_failures"
    assert within["job"]["outcome_message"] is None
    beyond = run_module(upa_import_job, capsys, job_id=job_id)
    assert beyond["failed"] is True and beyond["job"]["outcome"] == "failed"
    assert beyond["job"]["outcome_message"] in beyond["msg"]


def test_retention_is_no_longer_an_option(capsys):
    result = run_module(upa_import_job, capsys, job_id="5f4e7a2c-1111-2222-3333-444455556666", retention={"name": "hr"})
    assert result["failed"] is True and "Unsupported parameters" in result["msg"] and "retention" in result["msg"]


def test_two_fields_on_one_property_are_refused_before_anything_is_sent(tenant, capsys):
    result = run_module(upa_import_job, capsys, wait=False,
                        **present(property_map={"cc": "CostCenter", "cost": "costcenter"}))
    assert result["failed"] is True and result["msg"] == (
        "property_map.cost: cc and cost both map to the property costcenter (nothing was sent)")
    assert tenant.asked_needs == [] and tenant.requests == [] and tenant.rest_calls == []
