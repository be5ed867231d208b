# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

import pytest

from ansible_collections.spo.user_profiles.plugins.module_utils.profile_values import (
    PropertyKinds, compare, current_value, desired_value, same,
)


def test_standard_kinds_are_known_and_the_tenants_own_are_added():
    kinds = PropertyKinds(multi_value=["Certifications"], user_editable=["FavoriteColor"])
    assert kinds.is_multi("SPS-Skills") and kinds.is_multi("sps-skills") and kinds.is_multi("certifications")
    assert not kinds.is_multi("AboutMe") and not kinds.is_multi("CostCenter")
    assert kinds.bulk_refused(["CostCenter", "aboutme", "Certifications", "FavoriteColor", "SPS-Skills"]) == [
        "aboutme", "Certifications", "FavoriteColor", "SPS-Skills"]


@pytest.mark.parametrize("value, multi, expected", [
    (None, False, ""),
    ("", False, ""),
    (None, True, []),
    ("", True, []),
    (True, False, "true"),  # as upa_import_file writes it
    (False, True, ["false"]),
    (3, False, "3"),
    (2.5, False, "2.5"),
    ("Zürich", False, "Zürich"),
    ("a | b ||c", True, ["a", "b", "c"]),
    (["b", "a", 1, False], True, ["b", "a", "1", "false"]),
    (["only"], False, ["only"]),  # a list is a list, whatever the property was thought to be
])
def test_desired_value(value, multi, expected):
    assert desired_value(value, multi) == expected


def test_a_string_splits_at_the_given_separator():
    assert desired_value("C#; .NET ;", True, separator=";") == ["C#", ".NET"]
    assert desired_value("a;b", False, separator=";") == "a;b"


@pytest.mark.parametrize("value, multi, expected", [
    (None, False, ""),
    (None, True, []),
    ("a|b", True, ["a", "b"]),
    ("a|b", False, "a|b"),
    (["a", "b"], False, "a|b"),
    ("True", False, "True"),
])
def test_current_value(value, multi, expected):
    assert current_value(value, multi) == expected


def test_multi_values_compare_without_order_unless_ordered():
    assert same(["a", "b"], ["b", "a"])
    assert not same(["a", "b"], ["b", "a"], ordered=True)
    assert not same(["a", "a"], ["a"])  # a multiset: a repeated value is a difference
    assert same("x", "x") and not same("x", "X")


@pytest.mark.parametrize("current, value, expected", [
    ("True", True, True),  # as GetPropertiesFor answers a property SharePoint types as boolean
    ("False", False, True),
    ("true", True, True),  # as written to a text property
    ("False", True, False),
    ("TRUE", True, False),
    ("1", True, False),
    ("True", "true", False),  # text is text: only a boolean given as one is compared as a boolean
    ("true", "True", False),
])
def test_a_boolean_given_as_one_is_the_same_as_sharepoints_text_for_it(current, value, expected):
    assert same(current, desired_value(value, False)) is expected
    assert compare({"IsPublic": current}, {"IsPublic": desired_value(value, False)})[0][3] is not expected


def test_compare_finds_what_differs_case_insensitive_names_and_clearing():
    current = {"Department": "Sales", "SPS-Skills": "python|ansible", "AboutMe": "hi", "Office": ""}
    desired = {"department": "Sales", "SPS-Skills": ["ansible", "python"], "AboutMe": "", "Office": "", "Unknown": ""}
    assert compare(current, desired) == [
        ("department", "Sales", "Sales", False),
        ("SPS-Skills", ["python", "ansible"], ["ansible", "python"], False),
        ("AboutMe", "hi", "", True),
        ("Office", "", "", False),
        ("Unknown", "", "", False),
    ]
    assert compare(current, {"SPS-Skills": ["ansible", "python"]}, ordered=True)[0][3] is True
    assert compare(current, {"SPS-Skills": []})[0][1:] == (["python", "ansible"], [], True)
