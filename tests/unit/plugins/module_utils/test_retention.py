# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""What retention removes: only this prefix's old files, job records and log folders (both naming forms) and the
service's records of their ended jobs; never what is kept, what a running job needs, or another prefix's files;
and the job list only for old files without a job record."""

from __future__ import annotations

import datetime
import json
import re

import pytest

from ansible_collections.spo.user_profiles.plugins.module_utils import retention
from ansible_collections.spo.user_profiles.plugins.module_utils.errors import SpoError
from ansible_collections.spo.user_profiles.tests.unit.plugins.module_utils.test_job_api import LIST_VIEW_THRESHOLD_ERROR

FOLDER = "/Shared Documents/ProfileImport"
ROOT = "https://contoso.sharepoint.com"
HR_A = "hr-0123456789abcdef"
HR_B = "hr-fedcba9876543210"
OTHER = "other-0123456789abcdef"
OLD_JOB = "5f4e7a2c-1111-2222-3333-444455556666"
RUNNING_JOB = "6a5b8c3d-1111-2222-3333-444455556666"
CURRENT_JOB = "7b6c9d4e-1111-2222-3333-444455556666"
OTHER_JOB = "8c7d0e5f-1111-2222-3333-444455556666"
PNP_JOB = "9d8e1f60-1111-2222-3333-444455556666"
GONE_JOB = "a09f2071-1111-2222-3333-444455556666"


class FakeClient:
    root_url = ROOT


def entry(name, days_old, parent=FOLDER):
    moment = datetime.datetime.now(datetime.timezone.utc) - datetime.timedelta(days=days_old)
    return {"name": name, "server_relative_url": parent + "/" + name, "time_last_modified": moment.strftime("%Y-%m-%dT%H:%M:%SZ")}


@pytest.fixture
def library(monkeypatch):
    """The import folder (files with their bytes, folders) and the service's jobs; what clean() read and deleted."""
    state = {"files": {}, "folders": [], "jobs": {}, "deleted": [], "job_lists": 0, "gets": [], "listed": [],
             "listed_folders": [], "list_refused": False}

    def add_file(name, days_old, data=b"{}"):
        state["files"][name] = (entry(name, days_old), data)

    def add_record(import_name, days_old, *job_ids):
        jobs = [{"job_id": job_id, "queued_at": None} for job_id in job_ids]
        add_file(import_name + ".jobs.json", days_old, json.dumps({"jobs": jobs}).encode())

    def add_job(job_id, file_name, job_state="Succeeded"):
        state["jobs"][job_id] = {"job_id": job_id, "state": job_state, "error": "NoError",
                                 "source_uri": ROOT + "/Shared%20Documents/ProfileImport/" + file_name}

    def list_files(client, site_url, folder_url):
        state["listed"].append((site_url, folder_url))
        return [item for item, _data in state["files"].values()]

    def read_file(client, site_url, url, missing_ok=False):
        return state["files"][url.rsplit("/", 1)[1]][1]

    def get_job(client, job_id):
        state["gets"].append(job_id)
        return state["jobs"].get(job_id)

    def list_jobs(client):
        state["job_lists"] += 1
        if state["list_refused"]:
            raise SpoError(LIST_VIEW_THRESHOLD_ERROR["ErrorMessage"], code="-2147024860, Microsoft.SharePoint.SPQueryThrottledException")
        return list(state["jobs"].values())

    def delete_job(client, job_id):
        state["deleted"].append(("job", job_id))
        return state["jobs"].pop(job_id, None) is not None

    def list_folders(client, site_url, folder_url):
        state["listed_folders"].append(folder_url)
        return [item for item in state["folders"] if item["server_relative_url"].rpartition("/")[0] == folder_url]

    monkeypatch.setattr(retention.spo_files, "list_files", list_files)
    monkeypatch.setattr(retention.spo_files, "list_folders", list_folders)
    monkeypatch.setattr(retention.spo_files, "read_file", read_file)
    monkeypatch.setattr(retention.spo_files, "delete_file", lambda client, site_url, url: state["deleted"].append(("file", url.rsplit("/", 1)[1])))
    monkeypatch.setattr(retention.spo_files, "delete_folder", lambda client, site_url, url: state["deleted"].append(("folder", url.rsplit("/", 1)[1])))
    monkeypatch.setattr(retention.job_api, "get_job", get_job)
    monkeypatch.setattr(retention.job_api, "list_jobs", list_jobs)
    monkeypatch.setattr(retention.job_api, "delete_job", delete_job)
    state.update(add_file=add_file, add_record=add_record, add_job=add_job)
    return state


def options(**overrides):
    values = {"site": None, "folder": "Shared Documents/ProfileImport", "name": "hr", "older_than_days": 30,
              "keep": [], "remove_logs": True}
    values.update(overrides)
    return values


def test_only_the_prefixs_old_files_records_and_log_folders_go_with_their_job_records(library):
    library["add_file"](HR_A + ".json", 40)
    library["add_record"](HR_A, 40, OLD_JOB)
    library["add_file"](HR_B + ".json", 2)
    library["add_file"](OTHER + ".json", 40)
    library["add_record"](OTHER, 40, OTHER_JOB)
    library["add_file"]("hr-notes.json", 40)
    library["add_job"](OLD_JOB, HR_A + ".json")
    library["add_job"](OTHER_JOB, OTHER + ".json")
    library["add_job"](PNP_JOB, HR_A + ".json", job_state="Error")
    library["folders"] = [
        entry(OLD_JOB, 40),                        # Microsoft's form, a job the prefix's record names
        entry("%s_%s" % (HR_A, PNP_JOB), 40),      # PnP's form, named after one of the prefix's files
        entry("%s_%s" % (OTHER, OTHER_JOB), 40),   # another prefix's, in PnP's form
        entry(OTHER_JOB, 40),                      # another prefix's job, as the service says
        entry(GONE_JOB, 40),                       # a job no record names and the service no longer knows
        entry("Archive", 40),
    ]
    result = retention.clean(FakeClient(), options())
    assert result["changed"] is True
    assert result["removed_files"] == [HR_A + ".jobs.json", HR_A + ".json"]
    assert result["removed_log_folders"] == sorted([OLD_JOB, "%s_%s" % (HR_A, PNP_JOB)])
    assert result["removed_jobs"] == sorted([OLD_JOB, PNP_JOB])
    assert result["protected"] == [] and result["notices"] == []
    # the job records go first and the record files last, so that a run cut short can be run again
    kinds = [kind for kind, _name in library["deleted"]]
    assert kinds == ["job", "job", "folder", "folder", "file", "file"]
    assert library["deleted"][-1] == ("file", HR_A + ".jobs.json")
    assert library["job_lists"] == 0, "every old file had a record: the job list is not read"
    assert set(library["jobs"]) == {OTHER_JOB}


def test_log_folders_at_the_root_of_the_library_go_too(library):
    # the bulk API doc puts a job's log folder in the import file's library, named after the job: at its root
    library["add_file"](HR_A + ".json", 40)
    library["add_record"](HR_A, 40, OLD_JOB)
    library["add_job"](OLD_JOB, HR_A + ".json")
    library["add_job"](OTHER_JOB, OTHER + ".json")
    library["folders"] = [entry(OLD_JOB, 40, parent="/Shared Documents"), entry(OTHER_JOB, 40, parent="/Shared Documents"),
                          entry("ProfileImport", 40, parent="/Shared Documents")]
    result = retention.clean(FakeClient(), options())
    assert result["removed_log_folders"] == [OLD_JOB] and result["removed_jobs"] == [OLD_JOB]
    assert library["listed_folders"] == ["/Shared Documents", FOLDER]
    assert ("folder", OTHER_JOB) not in library["deleted"]


def test_the_current_runs_files_and_jobs_are_kept(library):
    library["add_file"](HR_A + ".json", 40)
    library["add_record"](HR_A, 40, CURRENT_JOB)
    library["add_job"](CURRENT_JOB, HR_A + ".json")
    library["folders"] = [entry(CURRENT_JOB, 40)]
    result = retention.clean(FakeClient(), options(keep=[HR_A + ".json", CURRENT_JOB.upper()]))
    assert result["changed"] is False and library["deleted"] == []
    assert result["removed_files"] == result["removed_log_folders"] == result["removed_jobs"] == []


def test_a_kept_file_keeps_its_jobs_their_log_folders_and_its_record(library):
    old_file, kept_job = "hr-1111111111111111", "b1a03182-1111-2222-3333-444455556666"
    library["add_file"](HR_A + ".json", 40)
    library["add_record"](HR_A, 40, CURRENT_JOB)
    library["add_file"](old_file + ".json", 40)   # not kept: it goes, with its record, job and log folder
    library["add_record"](old_file, 40, OLD_JOB)
    library["add_job"](CURRENT_JOB, HR_A + ".json")
    library["add_job"](PNP_JOB, HR_A + ".json")   # no record names it: only the service ties it to the kept file
    library["add_job"](kept_job, HR_B + ".json")
    library["add_job"](OLD_JOB, old_file + ".json")
    library["folders"] = [entry(CURRENT_JOB, 40), entry(PNP_JOB, 40), entry("%s_%s" % (HR_B, kept_job), 40),
                          entry("%s_%s" % (HR_A, GONE_JOB), 40),  # named after a kept file, its job forgotten
                          entry(OLD_JOB, 40)]
    result = retention.clean(FakeClient(), options(keep=[HR_A + ".json", HR_B.upper() + ".json"]))
    assert result["removed_jobs"] == [OLD_JOB] and result["removed_log_folders"] == [OLD_JOB]
    assert result["removed_files"] == [old_file + ".jobs.json", old_file + ".json"]
    assert set(library["jobs"]) == {CURRENT_JOB, PNP_JOB, kept_job}
    assert sorted(library["deleted"]) == sorted([("job", OLD_JOB), ("folder", OLD_JOB), ("file", old_file + ".json"),
                                                 ("file", old_file + ".jobs.json")])


def test_never_what_a_running_job_needs(library):
    library["add_file"](HR_A + ".json", 40)
    library["add_record"](HR_A, 40, RUNNING_JOB)
    library["add_job"](RUNNING_JOB, HR_A + ".json", job_state="Queued")
    library["folders"] = [entry(RUNNING_JOB, 40)]
    result = retention.clean(FakeClient(), options())
    assert result["protected"] == sorted([HR_A + ".json", HR_A + ".jobs.json", RUNNING_JOB])
    assert result["changed"] is False and library["deleted"] == []


@pytest.mark.parametrize("state, removed", [("Processing", False), ("Succeeded", True)])
def test_an_old_file_without_a_record_is_judged_from_the_job_list(library, state, removed):
    library["add_file"](HR_A + ".json", 40)
    library["add_job"](OLD_JOB, HR_A + ".json", job_state=state)
    result = retention.clean(FakeClient(), options())
    assert library["job_lists"] == 1
    assert result["removed_files"] == ([HR_A + ".json"] if removed else [])
    assert result["removed_jobs"] == ([OLD_JOB] if removed else [])
    assert result["protected"] == ([] if removed else [HR_A + ".json"])


def test_past_the_list_view_threshold_records_and_log_folders_still_bring_the_list_down(library):
    library["list_refused"] = True
    library["add_file"](HR_A + ".json", 40)
    library["add_record"](HR_A, 40, OLD_JOB)
    library["add_file"](HR_B + ".json", 40)  # no record: whether a job reads it is only in the list
    library["add_job"](OLD_JOB, HR_A + ".json")
    library["add_job"](PNP_JOB, HR_B + ".json")
    library["folders"] = [entry(PNP_JOB, 40)]
    result = retention.clean(FakeClient(), options())
    assert result["removed_jobs"] == sorted([OLD_JOB, PNP_JOB])
    assert result["removed_files"] == [HR_A + ".jobs.json", HR_A + ".json"]
    assert result["protected"] == [HR_B + ".json"]
    assert len(result["notices"]) == 1 and HR_B + ".json" in result["notices"][0]
    assert "list view threshold" in result["notices"][0]


def test_a_record_left_by_a_file_removed_earlier_goes_with_its_jobs(library):
    library["add_record"](HR_A, 40, OLD_JOB, GONE_JOB)
    library["add_job"](OLD_JOB, HR_A + ".json")
    result = retention.clean(FakeClient(), options())
    assert result["removed_files"] == [HR_A + ".jobs.json"] and result["removed_jobs"] == [OLD_JOB]


def test_log_folders_stay_without_remove_logs_but_their_job_records_go(library):
    library["add_job"](PNP_JOB, HR_A + ".json")
    library["folders"] = [entry("%s_%s" % (HR_A, PNP_JOB), 40)]
    result = retention.clean(FakeClient(), options(remove_logs=False))
    assert result["removed_log_folders"] == [] and result["removed_jobs"] == [PNP_JOB]
    assert library["deleted"] == [("job", PNP_JOB)]


def test_check_mode_reports_and_deletes_nothing(library):
    library["add_file"](HR_A + ".json", 40)
    library["add_record"](HR_A, 40, OLD_JOB)
    library["add_job"](OLD_JOB, HR_A + ".json")
    result = retention.clean(FakeClient(), options(), check_mode=True)
    assert result["changed"] is True and result["removed_jobs"] == [OLD_JOB]
    assert result["removed_files"] == [HR_A + ".jobs.json", HR_A + ".json"]
    assert library["deleted"] == []


def test_a_run_cut_short_reports_what_it_removed_before(library, monkeypatch):
    library["add_file"](HR_A + ".json", 40)
    library["add_record"](HR_A, 40, OLD_JOB, PNP_JOB)
    library["add_job"](OLD_JOB, HR_A + ".json")
    library["add_job"](PNP_JOB, HR_A + ".json")
    library["folders"] = [entry(OLD_JOB, 40)]
    delete_file = retention.spo_files.delete_file

    def refused_for_the_record(client, site_url, url):
        if url.endswith(".jobs.json"):
            raise SpoError("Server Too Busy.", status=503, operation="delete file %s" % url)
        delete_file(client, site_url, url)

    monkeypatch.setattr(retention.spo_files, "delete_file", refused_for_the_record)
    with pytest.raises(SpoError, match="delete file %s/%s.jobs.json: Server Too Busy" % (FOLDER, HR_A)) as caught:
        retention.clean(FakeClient(), options())
    assert library["deleted"] == [("job", OLD_JOB), ("job", PNP_JOB), ("folder", OLD_JOB), ("file", HR_A + ".json")]
    result = caught.value.result
    assert result["changed"] is True and result["removed_jobs"] == [OLD_JOB, PNP_JOB]
    assert result["removed_log_folders"] == [OLD_JOB] and result["removed_files"] == [HR_A + ".json"]
    assert result["protected"] == [] and result["notices"] == [] and result["cutoff"]


@pytest.mark.parametrize("may_have_run", [False, True])
def test_a_run_cut_short_at_its_first_removal_changed_only_what_that_call_may_have(library, monkeypatch, may_have_run):
    library["add_file"](HR_A + ".json", 40)
    library["add_record"](HR_A, 40, OLD_JOB)
    library["add_job"](OLD_JOB, HR_A + ".json")

    def cut_off(client, job_id):
        raise SpoError("Connection reset.", operation="delete import job %s" % job_id, may_have_run=may_have_run)

    monkeypatch.setattr(retention.job_api, "delete_job", cut_off)
    with pytest.raises(SpoError, match="delete import job") as caught:
        retention.clean(FakeClient(), options())
    result = caught.value.result
    assert result["changed"] is may_have_run
    assert result["removed_jobs"] == result["removed_log_folders"] == result["removed_files"] == []


def test_nothing_old_reads_no_job(library):
    library["add_file"](HR_A + ".json", 2)
    library["add_record"](HR_A, 2, OLD_JOB)
    library["folders"] = [entry(OLD_JOB, 2), entry("%s_%s" % (HR_A, PNP_JOB), 2)]
    result = retention.clean(FakeClient(), options())
    assert result["changed"] is False
    assert library["job_lists"] == 0 and library["gets"] == []
    assert library["listed"] == [(ROOT, FOLDER)]


def test_parse_time_reads_sharepoint_times_and_refuses_garbage():
    moment = retention.parse_time("2026-01-02T03:04:05Z")
    assert moment == datetime.datetime(2026, 1, 2, 3, 4, 5, tzinfo=datetime.timezone.utc)
    assert retention.parse_time("2026-01-02T03:04:05") == moment
    assert retention.parse_time("") is None
    assert retention.parse_time("yesterday") is None


@pytest.mark.parametrize("days", [0, retention.MAX_DAYS + 1, 10 ** 6])
def test_a_retention_of_less_than_a_day_or_more_than_100_years_is_refused_before_anything_is_read(library, days):
    message = "older_than_days must be from 1 to 36500 (100 years), not %d" % days
    assert retention.option_problems(options(older_than_days=days)) == [message, None]
    with pytest.raises(SpoError, match=re.escape(message)):
        retention.clean(FakeClient(), options(older_than_days=days))
    assert library["listed"] == []


def test_100_years_is_a_retention(library):
    assert retention.option_problems(options(older_than_days=retention.MAX_DAYS)) == [None, None]
    assert retention.clean(FakeClient(), options(older_than_days=retention.MAX_DAYS))["changed"] is False


@pytest.mark.parametrize("name, reason", [
    ("a/b", "name: 'a/b' is a file name prefix and cannot hold \"/\""),
    ("", "name: '' has an empty name"),
    ("hr*", "name: 'hr*' has '*' in 'hr*', which SharePoint does not allow in names"),
    (" hr", "name: ' hr' has a name that starts or ends with a space (' hr')"),
    ("hr#1", "name: 'hr#1' has '#' in 'hr#1'"),
])
def test_a_prefix_no_import_file_can_have_is_refused_before_anything_is_read(library, name, reason):
    problems = retention.option_problems(options(name=name))
    assert problems[0] is None and problems[1].startswith(reason)
    with pytest.raises(SpoError, match=re.escape(reason)):
        retention.clean(FakeClient(), options(name=name))
    assert library["listed"] == []
