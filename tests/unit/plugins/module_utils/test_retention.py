# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Which old items retention removes: only this prefix's files and job log folders, never what is kept
or what a running job still needs."""

from __future__ import annotations

import datetime

import pytest

from ansible_collections.spo.user_profiles.plugins.module_utils import retention
from ansible_collections.spo.user_profiles.plugins.module_utils.errors import SpoError
from ansible_collections.spo.user_profiles.plugins.module_utils.import_writer import name_pattern

OLD_JOB = "5f4e7a2c-1111-2222-3333-444455556666"
RUNNING_JOB = "6a5b8c3d-1111-2222-3333-444455556666"
CURRENT_JOB = "7b6c9d4e-1111-2222-3333-444455556666"


def item(name):
    return {"name": name, "server_relative_url": "/Shared Documents/ProfileImport/" + name}


def plan(files, folders, keep=(), running=()):
    removed_files, removed_folders, protected = retention.plan(
        [item(name) for name in files], [item(name) for name in folders], name_pattern("hr"), list(keep), list(running))
    return [i["name"] for i in removed_files], [i["name"] for i in removed_folders], protected


def test_removes_only_files_of_the_prefix_and_guid_folders():
    files, folders, protected = plan(
        ["hr-0123456789abcdef.json", "hr-0123456789abcdef-part2.json", "other-0123456789abcdef.json", "hr-notes.json"],
        [OLD_JOB, "Archive"])
    assert files == ["hr-0123456789abcdef.json", "hr-0123456789abcdef-part2.json"]
    assert folders == [OLD_JOB]
    assert protected == []


def test_keeps_the_current_runs_file_and_job_folder():
    files, folders, dummy = plan(["hr-0123456789abcdef.json", "hr-fedcba9876543210.json"], [OLD_JOB, CURRENT_JOB],
                                 keep=["hr-fedcba9876543210.json", CURRENT_JOB.upper()])
    assert files == ["hr-0123456789abcdef.json"]
    assert folders == [OLD_JOB]


def test_never_removes_what_a_running_job_needs():
    running = [{"job_id": RUNNING_JOB, "state": "Queued",
                "source_uri": "https://contoso.sharepoint.com/Shared%20Documents/ProfileImport/hr-0123456789abcdef.json"}]
    files, folders, protected = plan(["hr-0123456789abcdef.json", "hr-fedcba9876543210.json"], [RUNNING_JOB, OLD_JOB],
                                     running=running)
    assert files == ["hr-fedcba9876543210.json"]
    assert folders == [OLD_JOB]
    assert protected == sorted(["hr-0123456789abcdef.json", RUNNING_JOB])


def test_parse_time_reads_sharepoint_times_and_refuses_garbage():
    moment = retention.parse_time("2026-01-02T03:04:05Z")
    assert moment == datetime.datetime(2026, 1, 2, 3, 4, 5, tzinfo=datetime.timezone.utc)
    assert retention.parse_time("2026-01-02T03:04:05") == moment
    assert retention.parse_time("") is None
    assert retention.parse_time("yesterday") is None


class FakeClient:
    root_url = "https://contoso.sharepoint.com"


def folder_item(name, days_old):
    moment = datetime.datetime.now(datetime.timezone.utc) - datetime.timedelta(days=days_old)
    entry = item(name)
    entry["time_last_modified"] = moment.strftime("%Y-%m-%dT%H:%M:%SZ")
    return entry


@pytest.fixture
def library(monkeypatch):
    """The import folder's files, folders and jobs, and what clean() deleted and listed."""
    state = {"files": [], "folders": [], "jobs": [], "deleted": [], "job_lists": 0, "listed": []}

    def list_files(client, site_url, folder_url):
        state["listed"].append((site_url, folder_url))
        return state["files"]

    def list_jobs(client):
        state["job_lists"] += 1
        return state["jobs"]

    monkeypatch.setattr(retention.spo_files, "list_files", list_files)
    monkeypatch.setattr(retention.spo_files, "list_folders", lambda client, site_url, folder_url: state["folders"])
    monkeypatch.setattr(retention.spo_files, "delete_file", lambda client, site_url, url: state["deleted"].append(url))
    monkeypatch.setattr(retention.spo_files, "delete_folder", lambda client, site_url, url: state["deleted"].append(url))
    monkeypatch.setattr(retention.job_api, "list_jobs", list_jobs)
    return state


def options(**overrides):
    values = {"site": None, "folder": "Shared Documents/ProfileImport", "name": "hr", "older_than_days": 30,
              "keep": [], "remove_logs": True}
    values.update(overrides)
    return values


def test_clean_removes_only_what_is_older_than_the_cutoff(library):
    library["files"] = [folder_item("hr-0123456789abcdef.json", 40), folder_item("hr-fedcba9876543210.json", 2)]
    library["folders"] = [folder_item(OLD_JOB, 40), folder_item(CURRENT_JOB, 2)]
    result = retention.clean(FakeClient(), options())
    assert result["changed"] is True
    assert result["removed_files"] == ["hr-0123456789abcdef.json"]
    assert result["removed_log_folders"] == [OLD_JOB]
    assert sorted(library["deleted"]) == sorted(["/Shared Documents/ProfileImport/hr-0123456789abcdef.json",
                                                 "/Shared Documents/ProfileImport/" + OLD_JOB])
    assert library["listed"] == [("https://contoso.sharepoint.com", "/Shared Documents/ProfileImport")]
    assert library["job_lists"] == 1


def test_clean_in_check_mode_reports_and_deletes_nothing(library):
    library["files"] = [folder_item("hr-0123456789abcdef.json", 40)]
    result = retention.clean(FakeClient(), options(), check_mode=True)
    assert result["changed"] is True
    assert result["removed_files"] == ["hr-0123456789abcdef.json"]
    assert library["deleted"] == []


def test_clean_reads_no_job_list_when_nothing_is_old(library):
    library["files"] = [folder_item("hr-0123456789abcdef.json", 2)]
    library["folders"] = [folder_item(OLD_JOB, 40)]
    result = retention.clean(FakeClient(), options(remove_logs=False))
    assert result == {"changed": False, "removed_files": [], "removed_log_folders": [], "protected": [],
                      "cutoff": result["cutoff"]}
    assert library["job_lists"] == 0


def test_a_retention_of_less_than_a_day_is_refused_before_anything_is_read(library):
    assert retention.option_problem(options(older_than_days=0)) == "older_than_days must be 1 or more"
    assert retention.option_problem(options()) is None
    with pytest.raises(SpoError, match="older_than_days must be 1 or more"):
        retention.clean(FakeClient(), options(older_than_days=0))
    assert library["listed"] == []
