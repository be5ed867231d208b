# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

import json
import tempfile

import pytest

from ansible_collections.spo.user_profiles.plugins.module_utils.property_inputs import ProfileInput
from ansible_collections.spo.user_profiles.plugins.modules import user_profile_property
from ansible_collections.spo.user_profiles.tests.unit.plugins.module_utils.test_property_sync import FakeTenantPeople
from ansible_collections.spo.user_profiles.tests.unit.plugins.modules.module_runs import run_module, serve_client


@pytest.fixture
def tenant(monkeypatch):
    fake = FakeTenantPeople({
        "adele@contoso.com": {"CostCenter": "CC-1", "SPS-Skills": "Python|Ansible", "Certifications": ""},
        "alex@contoso.com": {"CostCenter": "CC-2", "SPS-Skills": "", "Certifications": ""},
    })
    return serve_client(monkeypatch, fake)


def run(capsys, **args):
    return run_module(user_profile_property, capsys, **args)


def test_check_mode_with_diff_then_apply_then_idempotent(tenant, capsys):
    args = dict(user="adele@contoso.com", properties={"CostCenter": "CC-9", "SPS-Skills": ["Ansible", "Python"]})
    check = run(capsys, _ansible_check_mode=True, _ansible_diff=True, **args)
    assert check["changed"] is True and tenant.writes() == []
    assert check["diff"] == {"before": {"adele@contoso.com": {"CostCenter": "CC-1"}},
                             "after": {"adele@contoso.com": {"CostCenter": "CC-9"}}}
    applied = run(capsys, **args)
    assert applied["changed"] is True and "diff" not in applied
    assert applied["users"] == [{"user": "adele@contoso.com", "changed": True, "written": ["CostCenter"], "error": None}]
    again = run(capsys, **args)
    assert again["changed"] is False and again["summary"]["unchanged"] == 1
    assert len(tenant.writes()) == 1


def test_a_csv_source_with_a_separator_and_the_tenants_multi_valued_property(tenant, capsys, tmp_path):
    src = tmp_path / "skills.csv"
    src.write_text("upn;skills;certs\nadele@contoso.com;Python, Ansible;AZ-104\nalex@contoso.com;Go;AZ-900, MS-900\n",
                   encoding="utf-8")
    result = run(capsys, src=str(src), delimiter=";", id_property="upn", multi_value_separator=",",
                 property_map={"skills": "SPS-Skills", "certs": "Certifications"}, multi_value_properties=["Certifications"])
    assert result["changed"] is True
    assert tenant.people["alex@contoso.com"]["Certifications"] == "AZ-900|MS-900"
    written = dict((record["user"], record["written"]) for record in result["users"])
    assert written == {"adele@contoso.com": ["Certifications"], "alex@contoso.com": ["SPS-Skills", "Certifications"]}
    assert all(call[1].endswith("/SetMultiValuedProfileProperty") for call in tenant.writes())


def test_a_bad_input_is_refused_naming_record_line_and_field_and_nothing_is_sent(tenant, capsys):
    result = run(capsys, records=[{"upn": "adele@contoso.com", "cc": "x"}, {"upn": "alex", "cc": {"a": 1}}],
                 id_property="upn", property_map={"cc": "CostCenter"})
    assert result["failed"] is True and result["problem_count"] == 2
    assert result["msg"].startswith("2 problem(s) in the input, nothing was written: record 2, field 'upn'")
    assert tenant.calls == []


def test_what_is_written_is_what_was_checked_though_src_changes_after_the_check(tenant, capsys, tmp_path, monkeypatch):
    src = tmp_path / "people.csv"
    src.write_text("upn,cc\nadele@contoso.com,CC-7\n", encoding="utf-8")
    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path))
    check = ProfileInput.check

    def check_then_change(inputs, max_problems):
        found = check(inputs, max_problems)
        src.write_text("upn,cc\nadele@contoso.com,CC-8\nalex@contoso.com,CC-9\nalex\n", encoding="utf-8")
        return found

    monkeypatch.setattr(ProfileInput, "check", check_then_change)
    result = run(capsys, src=str(src), id_property="upn", property_map={"cc": "CostCenter"})
    assert result["summary"]["total"] == 1 and "failed" not in result
    assert [call[2] for call in tenant.writes()] == [
        {"accountName": "i:0#.f|membership|adele@contoso.com", "propertyName": "CostCenter", "propertyValue": "CC-7"}]
    assert sorted(path.name for path in tmp_path.iterdir()) == ["people.csv"]  # the private copy is gone


def test_a_user_given_twice_as_claims_name_and_principal_name_is_refused_and_nothing_is_sent(tenant, capsys):
    result = run(capsys, profiles=[{"user": "i:0#.f|membership|adele@contoso.com", "properties": {"CostCenter": "1"}},
                                   {"user": "Adele@contoso.com", "properties": {"CostCenter": "2"}}])
    assert result["failed"] is True and result["problem_count"] == 1
    assert result["msg"].endswith("record 2, field 'user': duplicate id 'Adele@contoso.com', first seen at record 1 "
                                  "as 'i:0#.f|membership|adele@contoso.com'")
    assert tenant.calls == []


def test_a_list_item_holding_the_read_separator_is_refused_and_nothing_is_sent(tenant, capsys):
    result = run(capsys, profiles=[{"user": "adele@contoso.com", "properties": {"CostCenter": "CC-9"}},
                                   {"user": "alex@contoso.com", "properties": {"SPS-Skills": ["Go", "Python|Ansible"]}}])
    assert result["failed"] is True and result["problem_count"] == 1
    assert ("record 2, field 'profiles[].properties.SPS-Skills': the item 'Python|Ansible' of SPS-Skills holds '|'"
            in result["msg"])
    assert tenant.calls == []


def test_a_boolean_is_written_as_upa_import_file_writes_it(tenant, capsys):
    result = run(capsys, user="adele@contoso.com", properties={"CostCenter": True})
    assert result["users"][0]["written"] == ["CostCenter"]
    assert tenant.people["adele@contoso.com"]["CostCenter"] == "true"


def test_a_boolean_for_a_property_sharepoint_types_as_boolean_is_unchanged_on_a_rerun(tenant, capsys):
    tenant.booleans = {"SPS-HideFromAddressLists"}
    tenant.people["adele@contoso.com"]["SPS-HideFromAddressLists"] = "False"
    args = dict(user="adele@contoso.com", properties={"SPS-HideFromAddressLists": True})
    assert run(capsys, **args)["changed"] is True
    assert tenant.people["adele@contoso.com"]["SPS-HideFromAddressLists"] == "True"
    again = run(capsys, **args)
    assert again["changed"] is False and again["summary"]["unchanged"] == 1 and len(tenant.writes()) == 1


def test_more_failed_users_than_allowed_fails_the_task_listing_them(tenant, capsys):
    profiles = [{"user": "adele@contoso.com", "properties": {"CostCenter": "CC-7"}},
                {"user": "ghost@contoso.com", "properties": {"CostCenter": "CC-7"}}]
    failed = run(capsys, profiles=profiles)
    assert failed["failed"] is True and failed["changed"] is True
    assert failed["msg"].startswith("1 of 2 users failed: ghost@contoso.com: read profile of ghost@contoso.com")
    assert failed["failed_users"] == ["ghost@contoso.com"]
    allowed = run(capsys, profiles=profiles, allowed_failures=1)
    assert "failed" not in allowed and allowed["failed_users"] == ["ghost@contoso.com"]


def test_a_failure_of_the_run_fails_with_what_was_done(tenant, capsys):
    tenant.fail_after = 0
    result = run(capsys, user="adele@contoso.com", properties={"CostCenter": "x"})
    assert result["failed"] is True and result["status"] == 403
    assert result["summary"]["total"] == 0 and result["changed"] is False


def test_with_progress_interval_the_users_done_are_left_for_the_action(tenant, capsys, tmp_path):
    profiles = [{"user": "adele@contoso.com", "properties": {"CostCenter": "CC-7"}},
                {"user": "alex@contoso.com", "properties": {"CostCenter": "CC-2"}}]
    run(capsys, profiles=profiles, progress_interval=5, _ansible_tmpdir=str(tmp_path))
    users = json.loads((tmp_path / "spo-progress.json").read_text())["users"]
    assert users["done"] == users["total"] == 2 and users["throttled"] == 0


@pytest.mark.parametrize("args, expected", [
    (dict(user="a@contoso.com", properties={}, concurrency=0), "concurrency must be 1 or more"),
    (dict(user="a@contoso.com", properties={}, progress_interval=-1), "progress_interval must be 0 or more"),
    (dict(user="a@contoso.com", properties={}, multi_value_separator=""), "multi_value_separator must not be empty"),
    (dict(user="a@contoso.com", properties={}, multi_value_properties=["Certifications", " Certifications"]),
     "multi_value_properties: ' Certifications' holds U+0020 (SPACE) at character 1"),
    (dict(src="/x.csv"), "missing parameter(s) required by 'src': id_property, property_map"),
    (dict(user="a@contoso.com"), "parameters are required together: user, properties"),
])
def test_option_errors(tenant, capsys, args, expected):
    result = run(capsys, **args)
    assert result["failed"] is True and expected in result["msg"]
