# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The tenant_report action plugin in a temporary directory: where it writes, what it keeps, what it refuses,
and the statistics it hands to AWX."""

from __future__ import annotations

import json
import os

import pytest

from ansible.errors import AnsibleActionFail

from ansible_collections.spo.user_profiles.plugins.action.tenant_report import ActionModule

UPLOAD = {"changed": True, "records": 3, "properties": 6, "ignored_fields": [],
          "files": [{"name": "hr-0123456789abcdef.json", "records": 3, "uploaded": True}]}
QUEUE = {"results": [{"item": UPLOAD["files"][0], "changed": True,
                      "job": {"job_id": "5f4e7a2c-1111-2222-3333-444455556666", "state": "Submitted",
                              "queued_at": "2026-03-01T06:00:00Z"}}]}
WAIT = {"results": [{"item": QUEUE["results"][0], "job": {
    "job_id": "5f4e7a2c-1111-2222-3333-444455556666", "state": "Succeeded", "error": "NoError", "outcome": "succeeded",
    "finished_at": "2026-03-01T06:01:00Z"}}]}


@pytest.fixture
def run(run_action):
    def run_tenant_report(args, **kwargs):
        return run_action(ActionModule, "spo.user_profiles.tenant_report", args, **kwargs)
    return run_tenant_report


def bulk_args(dest, tenant="contoso", run_id="run-1", failure=None, **results):
    return {"dest": str(dest), "run_id": run_id, "tenant": tenant, "section": "bulk_import",
            "started_at": "2026-03-01T05:59:30Z", "failure": failure,
            "results": dict({"source": "/srv/hr.csv", "upload": UPLOAD, "queue": QUEUE, "wait": WAIT}, **results)}


def test_writes_the_record_into_the_run_directory(run, tmp_path):
    result = run(bulk_args(tmp_path / "reports"))
    directory = tmp_path / "reports" / "run-1"
    assert sorted(os.listdir(directory)) == ["contoso.json", "contoso.md"]
    report = json.loads((directory / "contoso.json").read_text(encoding="utf-8"))
    record = report["sections"]["bulk_import"]
    assert report["tenant"] == "contoso" and report["run_id"] == "run-1" and report["check_mode"] is False
    assert record["outcome"] == "imported" and record["users"]["imported"] == 3
    assert record["started_at"] == "2026-03-01T05:59:30Z" and isinstance(record["duration_seconds"], int)
    assert result["record"] == record and result["changed"] is False and "failure_message" not in result
    markdown = (directory / "contoso.md").read_text(encoding="utf-8")
    assert "5f4e7a2c-1111-2222-3333-444455556666" in markdown and "## Bulk import: imported" in markdown


def test_statistics_for_awx_are_merged_across_hosts(run, tmp_path):
    stats = run(bulk_args(tmp_path))["ansible_stats"]
    assert stats["per_host"] is False and stats["aggregate"] is True
    tenant = stats["data"]["spo_user_profiles"]["tenants"]["contoso"]["bulk_import"]
    assert tenant["outcome"] == "imported" and stats["data"]["spo_user_profiles"]["run_id"] == "run-1"


def test_check_mode_writes_into_its_own_directory_never_the_real_one(run, tmp_path):
    run(bulk_args(tmp_path), check_mode=True)
    assert os.listdir(tmp_path) == ["run-1-check"]
    real = run(bulk_args(tmp_path))
    assert sorted(os.listdir(tmp_path)) == ["run-1", "run-1-check"]
    assert "check mode" not in (tmp_path / "run-1" / "contoso.md").read_text(encoding="utf-8")
    assert real["record"]["outcome"] == "imported"


def test_sections_of_the_same_run_are_kept_and_other_runs_are_not_merged(run, tmp_path):
    run(bulk_args(tmp_path))
    photos = {"dest": str(tmp_path), "run_id": "run-1", "tenant": "contoso", "section": "profile_photos",
              "started_at": "2026-03-01T06:02:00Z",
              "results": {"sync": {"summary": {"total": 1, "changed": 1, "unchanged": 0, "failed": 0}, "users": []}}}
    run(photos)
    run(dict(photos, run_id="run-2"))
    same_run = json.loads((tmp_path / "run-1" / "contoso.json").read_text(encoding="utf-8"))
    other_run = json.loads((tmp_path / "run-2" / "contoso.json").read_text(encoding="utf-8"))
    assert sorted(same_run["sections"]) == ["bulk_import", "profile_photos"]
    assert sorted(other_run["sections"]) == ["profile_photos"]


def test_a_failure_gives_one_line_with_step_reason_and_what_to_do(run, tmp_path):
    failure = {"task": "Build, check and upload the import files", "action": "spo.user_profiles.upa_import_file",
               "result": {"failed": True, "msg": "sign in: AADSTS700016: Application not found", "status": 400,
                          "operation": "sign in"}}
    result = run(bulk_args(tmp_path, failure=failure, upload={}, queue={}, wait={}))
    assert result["record"]["outcome"] == "failed" and result["record"]["error"]["step"] == "upload"
    assert result["failure_message"].startswith("contoso: bulk import failed at step 'upload': sign in: AADSTS700016")
    assert "spo_client_id" in result["failure_message"]


@pytest.mark.parametrize("field, value, message", [
    ("tenant", "../evil", "tenant '../evil' is not a safe file name"),
    ("run_id", "a/b", "run_id 'a/b' is not a safe file name"),
    ("started_at", "yesterday", "started_at 'yesterday' is not an ISO 8601 time"),
    ("started_at", "2026-03-01T05:59:30", "started_at '2026-03-01T05:59:30' has no time zone: give it in UTC, such as "
                                          "2026-03-01T05:59:30Z"),
])
def test_refuses_unsafe_names_and_bad_times(run, tmp_path, field, value, message):
    args = bulk_args(tmp_path)
    args[field] = value
    with pytest.raises(AnsibleActionFail, match=message.replace("(", r"\(")):
        run(args)


def test_a_tenant_named_combined_is_refused_and_writes_nothing(run, tmp_path):
    with pytest.raises(AnsibleActionFail, match="tenant 'combined' is the name of the run's combined report"):
        run(bulk_args(tmp_path, tenant="combined"))
    assert os.listdir(tmp_path) == []


def test_refuses_results_the_section_does_not_know(run, tmp_path):
    with pytest.raises(AnsibleActionFail, match="results: sync not known for section bulk_import"):
        run(bulk_args(tmp_path, sync={}))


PHOTOS = {"summary": {"total": 1, "changed": 1, "unchanged": 0, "failed": 0}, "users": []}
FAILED_STEP = {"task": "Sync the photos", "action": "spo.user_profiles.profile_photo", "result": {"failed": True, "msg": "x"}}


@pytest.mark.parametrize("section, results, failure, message", [
    ("profile_photos", {"sync": "oops"}, None,
     r"^results.sync must be the step's registered result \(a dict, \{\} when the step did not run\), not a text$"),
    ("profile_photos", {"sync": PHOTOS}, dict(FAILED_STEP, result="it failed"),
     r"^failure.result must be the failed task's result \(a dict, as ansible_failed_result\), not a text$"),
    ("profile_photos", {"sync": {"users": ["a"], "summary": 5}}, None,
     "^results.sync does not have the shape of the step's registered result: 'int' object is not iterable$"),
    ("profile_photos", {"sync": PHOTOS}, dict(FAILED_STEP, result={"failed": True, "job": "j-1"}),
     "^failure.result does not have the shape of a failed task's result: 'str' object has no attribute 'get'$"),
    ("bulk_import", {"source": "/srv/hr.csv", "upload": UPLOAD, "queue": QUEUE, "wait": {"results": [{"item": 5}]}}, None,
     "^results.wait does not have the shape of the step's registered result: 'int' object has no attribute 'get'$"),
    ("bulk_import", {"upload": [UPLOAD], "retention": True, "wait": None}, None,
     r"^results.source must be a name for the source \(a text\), not null; results.upload must be the step's "
     r"registered result \(a dict, \{\} when the step did not run\), not a list; results.retention .* not a boolean$"),
], ids=["result not a dict", "failure result not a dict", "in a result", "in the failure", "in a loop's item",
        "several"])
def test_results_of_the_wrong_shape_are_refused_naming_the_result_and_nothing_is_written(
        run, tmp_path, section, results, failure, message):
    args = {"dest": str(tmp_path), "run_id": "run-1", "tenant": "contoso", "section": section,
            "started_at": "2026-03-01T05:59:30Z", "results": results, "failure": failure}
    with pytest.raises(AnsibleActionFail, match=message):
        run(args)
    assert os.listdir(tmp_path) == []


def test_refuses_to_merge_into_a_file_that_is_not_a_report(run, tmp_path):
    (tmp_path / "run-1").mkdir()
    (tmp_path / "run-1" / "contoso.json").write_text("[1, 2]", encoding="utf-8")
    with pytest.raises(AnsibleActionFail, match="is not a report of this collection"):
        run(bulk_args(tmp_path))


def test_a_file_where_the_directory_should_be_is_refused(run, tmp_path):
    (tmp_path / "file").write_text("x", encoding="utf-8")
    with pytest.raises(AnsibleActionFail, match="exists and is not a directory"):
        run(bulk_args(tmp_path / "file"))
