# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""upa_retention as a module: options refused before any request; what it removes and reports, in check mode too."""

from __future__ import annotations

import pytest

from ansible_collections.spo.user_profiles.plugins.module_utils import retention
from ansible_collections.spo.user_profiles.plugins.module_utils.errors import SpoError
from ansible_collections.spo.user_profiles.plugins.modules import upa_retention
from ansible_collections.spo.user_profiles.tests.unit.plugins.module_utils import test_retention
from ansible_collections.spo.user_profiles.tests.unit.plugins.module_utils.test_retention import (
    HR_A, HR_B, OLD_JOB, PNP_JOB, FakeClient,
)
from ansible_collections.spo.user_profiles.tests.unit.plugins.modules.module_runs import refuse_client, run_module, serve_client

# The import folder of the module_utils tests, as a fixture of these tests too.
library = test_retention.library


def run(capsys, **args):
    return run_module(upa_retention, capsys, **args)


@pytest.fixture
def client(monkeypatch):
    return serve_client(monkeypatch, FakeClient())


@pytest.mark.parametrize("days", [0, 10 ** 6])
def test_less_than_a_day_or_more_than_100_years_is_refused_before_connecting(monkeypatch, capsys, days):
    refuse_client(monkeypatch)
    result = run(capsys, name="hr", older_than_days=days)
    assert result["failed"] is True
    assert result["msg"] == "older_than_days must be from 1 to 36500 (100 years), not %d (nothing was sent)" % days


def test_a_prefix_no_import_file_can_have_is_refused_with_the_other_problems_before_connecting(monkeypatch, capsys):
    refuse_client(monkeypatch)
    result = run(capsys, name="hr/a", older_than_days=0)
    assert result["failed"] is True and result["msg"].startswith("2 option problems, nothing was sent: ")
    assert "name: 'hr/a' is a file name prefix and cannot hold \"/\"" in result["msg"]


def test_a_site_of_another_tenant_and_a_folder_no_import_file_can_be_in_are_refused_together(monkeypatch, capsys):
    refuse_client(monkeypatch)
    result = run(capsys, name="hr", older_than_days=30, site="https://fabrikam.sharepoint.com", folder="Shared Documents/A#B")
    assert result["failed"] is True and result["msg"].startswith("2 option problems, nothing was sent: ")
    assert "site: https://fabrikam.sharepoint.com is not in this tenant" in result["msg"]
    assert "folder: 'Shared Documents/A#B' has '#'" in result["msg"]


def test_removes_the_old_file_and_keeps_what_is_named(client, library, capsys):
    library["add_file"](HR_A + ".json", 40)
    library["add_file"](HR_B + ".json", 40)
    library["add_record"](HR_A, 40, OLD_JOB)
    library["add_job"](OLD_JOB, HR_A + ".json")
    result = run(capsys, name="hr", older_than_days=30, keep=[HR_B + ".json"])
    assert result["changed"] is True
    assert HR_A + ".json" in result["removed_files"] and HR_B + ".json" not in result["removed_files"]
    assert ("file", HR_B + ".json") not in library["deleted"] and ("file", HR_A + ".json") in library["deleted"]


def test_check_mode_reports_and_removes_nothing(client, library, capsys):
    library["add_file"](HR_A + ".json", 40)
    result = run(capsys, name="hr", older_than_days=30, _ansible_check_mode=True)
    assert result["changed"] is True and result["removed_files"] == [HR_A + ".json"]
    assert library["deleted"] == []


def test_a_failure_part_way_reports_what_was_removed_before_it(client, library, monkeypatch, capsys):
    library["add_file"](HR_A + ".json", 40)
    library["add_record"](HR_A, 40, OLD_JOB, PNP_JOB)
    library["add_job"](OLD_JOB, HR_A + ".json")
    library["add_job"](PNP_JOB, HR_A + ".json")
    delete_job = retention.job_api.delete_job

    def throttled_after_the_first(client, job_id):
        if library["deleted"]:
            raise SpoError("Server Too Busy.", status=503, operation="delete import job %s" % job_id)
        return delete_job(client, job_id)

    monkeypatch.setattr(retention.job_api, "delete_job", throttled_after_the_first)
    result = run(capsys, name="hr", older_than_days=30)
    assert result["failed"] is True and result["changed"] is True
    assert result["msg"] == "delete import job %s: Server Too Busy. (HTTP 503)" % PNP_JOB
    assert result["removed_jobs"] == [OLD_JOB] and result["removed_files"] == result["removed_log_folders"] == []
    assert library["deleted"] == [("job", OLD_JOB)]
