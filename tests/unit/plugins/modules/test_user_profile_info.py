# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

import json

import pytest

from ansible_collections.spo.user_profiles.plugins.modules import user_profile_info
from ansible_collections.spo.user_profiles.tests.unit.plugins.module_utils.test_property_sync import FakeTenantPeople
from ansible_collections.spo.user_profiles.tests.unit.plugins.modules.module_runs import run_module, serve_client


@pytest.fixture
def tenant(monkeypatch):
    return serve_client(monkeypatch, FakeTenantPeople({"adele@contoso.com": {"CostCenter": "CC-1", "SPS-Skills": "Python|Ansible"}}))


def run(capsys, **args):
    return run_module(user_profile_info, capsys, **args)


def test_reads_profiles_and_lists_missing_users_changing_nothing(tenant, capsys):
    result = run(capsys, users=["adele@contoso.com", "ghost@contoso.com"], properties=["SPS-Skills"], _ansible_check_mode=True)
    assert result["changed"] is False
    assert result["profiles"] == [{"user": "adele@contoso.com", "properties": {"SPS-Skills": ["Python", "Ansible"]}}]
    assert result["missing"] == ["ghost@contoso.com"]
    assert tenant.writes() == []


def test_a_user_that_is_no_principal_name_is_refused_before_any_request(tenant, capsys):
    result = run(capsys, users=["adele@contoso.com", "adele"])
    assert result["failed"] is True and "users[1]" in result["msg"]
    assert tenant.calls == []


def test_a_user_with_a_space_or_an_invisible_character_is_refused_before_any_request(tenant, capsys):
    result = run(capsys, users=["adele@contoso.com ", "adele@contoso.com\u200b"])
    assert result["failed"] is True
    assert "users[0]: 'adele@contoso.com ' holds U+0020 (SPACE)" in result["msg"]
    assert "users[1]: 'adele@contoso.com\\u200b' holds U+200B (ZERO WIDTH SPACE)" in result["msg"]
    assert tenant.calls == []


def test_a_property_name_with_an_invisible_character_is_refused_before_any_request(tenant, capsys):
    result = run(capsys, users=["adele@contoso.com"], properties=["CostCenter", "CostCenter\u200b"],
                 multi_value_properties=[" Certifications"])
    assert result["failed"] is True
    assert "properties[1]: 'CostCenter\\u200b' holds U+200B (ZERO WIDTH SPACE) at character 11" in result["msg"]
    assert "multi_value_properties[0]: ' Certifications' holds U+0020 (SPACE) at character 1" in result["msg"]
    assert tenant.calls == []


def test_with_progress_interval_the_users_read_are_left_for_the_action(tenant, capsys, tmp_path):
    run(capsys, users=["adele@contoso.com", "ghost@contoso.com"], progress_interval=5, _ansible_tmpdir=str(tmp_path))
    users = json.loads((tmp_path / "spo-progress.json").read_text())["users"]
    assert users["done"] == users["total"] == 2


def test_a_negative_progress_interval_is_refused(tenant, capsys):
    result = run(capsys, users=["adele@contoso.com"], progress_interval=-1)
    assert result["failed"] is True and result["msg"] == "progress_interval must be 0 or more, not -1 (nothing was sent)" and tenant.calls == []
