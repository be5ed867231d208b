# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Which old items upa_retention removes: only this prefix's files and job log folders, never what is kept
or what a running job still needs."""

from __future__ import annotations

import datetime

from ansible_collections.spo.user_profiles.plugins.module_utils.import_file import name_pattern
from ansible_collections.spo.user_profiles.plugins.modules import upa_retention

OLD_JOB = "5f4e7a2c-1111-2222-3333-444455556666"
RUNNING_JOB = "6a5b8c3d-1111-2222-3333-444455556666"
CURRENT_JOB = "7b6c9d4e-1111-2222-3333-444455556666"


def item(name):
    return {"name": name, "server_relative_url": "/Shared Documents/ProfileImport/" + name}


def plan(files, folders, keep=(), running=()):
    removed_files, removed_folders, protected = upa_retention.plan(
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
    moment = upa_retention.parse_time("2026-01-02T03:04:05Z")
    assert moment == datetime.datetime(2026, 1, 2, 3, 4, 5, tzinfo=datetime.timezone.utc)
    assert upa_retention.parse_time("2026-01-02T03:04:05") == moment
    assert upa_retention.parse_time("") is None
    assert upa_retention.parse_time("yesterday") is None
