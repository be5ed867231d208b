# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

import pytest

from ansible_collections.spo.user_profiles.plugins.module_utils.errors import SpoError
from ansible_collections.spo.user_profiles.plugins.module_utils.profile_info import read_profiles
from ansible_collections.spo.user_profiles.plugins.module_utils.profile_values import PropertyKinds
from ansible_collections.spo.user_profiles.tests.unit.plugins.module_utils.test_property_sync import FakeTenantPeople

PEOPLE = dict(("u%02d@contoso.com" % number, {
    "AccountName": "i:0#.f|membership|u%02d@contoso.com" % number,
    "SPS-Skills": "a|b", "Certifications": "x|y", "CostCenter": "CC|%d" % number,
}) for number in range(30))


def test_every_user_in_order_multi_values_as_lists_and_missing_users_apart():
    users = sorted(PEOPLE) + ["ghost@contoso.com"]
    users.insert(5, "nobody@contoso.com")
    result = read_profiles(FakeTenantPeople(dict(PEOPLE)), users, PropertyKinds(multi_value=["Certifications"]), concurrency=4)
    assert [entry["user"] for entry in result["profiles"]] == sorted(PEOPLE)
    assert result["missing"] == ["nobody@contoso.com", "ghost@contoso.com"]
    first = result["profiles"][0]["properties"]
    # AccountName holds "|" but is not multi-valued; nor is CostCenter, unless named.
    assert first == {"AccountName": "i:0#.f|membership|u00@contoso.com", "SPS-Skills": ["a", "b"],
                     "Certifications": ["x", "y"], "CostCenter": "CC|0"}


def test_only_the_named_properties_any_case_and_null_for_unknown_ones():
    result = read_profiles(FakeTenantPeople(dict(PEOPLE)), ["u01@contoso.com"], PropertyKinds(),
                           names=["sps-skills", "Nope"], concurrency=1)
    assert result["profiles"] == [{"user": "u01@contoso.com", "properties": {"sps-skills": ["a", "b"], "Nope": None}}]


def test_nothing_is_written():
    client = FakeTenantPeople(dict(PEOPLE))
    read_profiles(client, sorted(PEOPLE), PropertyKinds())
    assert client.writes() == []


def test_any_other_failure_is_raised():
    with pytest.raises(SpoError):
        read_profiles(FakeTenantPeople(dict(PEOPLE), fail_after=3), sorted(PEOPLE), PropertyKinds(), concurrency=2)
