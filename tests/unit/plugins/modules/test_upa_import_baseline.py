# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

import pytest

from ansible_collections.spo.user_profiles.plugins.module_utils.base import SpoModule
from ansible_collections.spo.user_profiles.plugins.modules import upa_import_baseline
from ansible_collections.spo.user_profiles.tests.unit.plugins.module_utils.test_import_record import (
    BASELINE, FakeSharePointAndJobs,
)
from ansible_collections.spo.user_profiles.tests.unit.plugins.modules.module_runs import refuse_client, run_module, serve_client

MAP = {"cc": "CostCenter", "bld": "Building"}


@pytest.fixture
def tenant(monkeypatch):
    return serve_client(monkeypatch, FakeSharePointAndJobs())


def run(capsys, **args):
    return run_module(upa_import_baseline, capsys, **args)


def record_args(job_ids, **extra):
    args = dict(job_id=job_ids, id_property="mail", id_type="email", property_map=MAP, name="hr")
    args.update(extra)
    return args


def test_a_folder_the_import_files_cannot_be_in_is_refused_before_connecting(monkeypatch, capsys):
    refuse_client(monkeypatch)
    result = run(capsys, **record_args(["5d8a4a3e-6a55-4e0c-9c4d-3e5a2d0f7b11"], folder="Shared Documents/100%", name="a/b"))
    assert result["failed"] is True and result["msg"].startswith("2 option problems, nothing was sent: ")
    assert "folder: 'Shared Documents/100%' has '%'" in result["msg"] and "name: 'a/b' is a file name prefix" in result["msg"]


def test_check_mode_then_record_then_nothing_new(tenant, capsys):
    job = tenant.job([{"mail": "anna@x.com", "cc": "1000", "bld": "B1"}])
    check = run(capsys, _ansible_check_mode=True, _ansible_diff=True, **record_args([job]))
    assert check["changed"] is True and BASELINE not in tenant.files
    assert check["diff"] == {"before": {"users": 0}, "after": {"users": 1, "recorded": 1}}
    recorded = run(capsys, **record_args([job]))
    assert recorded["changed"] is True and recorded["baseline"]["users"] == 1 and BASELINE in tenant.files
    assert run(capsys, **record_args([job]))["changed"] is False


def test_a_running_job_fails_and_records_nothing(tenant, capsys):
    job = tenant.job([{"mail": "anna@x.com", "cc": "1000", "bld": "B1"}], state=2)
    result = run(capsys, **record_args([job]))
    assert result["failed"] is True and "still Processing" in result["msg"]
    assert BASELINE not in tenant.files


def test_users_of_a_job_whose_failures_are_unknown_are_a_warning(tenant, capsys, monkeypatch):
    warnings = []
    monkeypatch.setattr(SpoModule, "warn", lambda self, msg: warnings.append(msg))
    job = tenant.job([{"mail": "anna@x.com", "cc": "1000", "bld": "B1"}], error=30)
    result = run(capsys, **record_args([job]))
    assert result["counts"] == {"recorded": 0, "unchanged": 0, "not_recorded": 1}
    assert len(warnings) == 1 and "none of its users is recorded" in warnings[0]


def test_no_job_records_nothing(tenant, capsys):
    result = run(capsys, **record_args([]))
    assert result["changed"] is False and result["baseline"]["users"] == 0 and BASELINE not in tenant.files


def test_absent_removes_the_baseline(tenant, capsys):
    run(capsys, **record_args([tenant.job([{"mail": "anna@x.com", "cc": "1000", "bld": "B1"}])]))
    check = run(capsys, state="absent", name="hr", _ansible_check_mode=True, _ansible_diff=True)
    assert check["changed"] is True and BASELINE in tenant.files
    assert check["diff"] == {"before": {"baseline": BASELINE}, "after": {"baseline": None}}
    assert run(capsys, state="absent", name="hr")["removed"] is True and BASELINE not in tenant.files
    assert run(capsys, state="absent", name="hr")["changed"] is False


def test_present_needs_the_mapping(tenant, capsys):
    result = run(capsys, job_id=["x"], name="hr")
    assert result["failed"] is True and "id_property" in result["msg"] and "property_map" in result["msg"]
