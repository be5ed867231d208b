# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The bulk_refused_properties lookup: which of the given properties the bulk import API cannot take."""

from __future__ import annotations

import pytest

from ansible.errors import AnsibleLookupError
from ansible.parsing.dataloader import DataLoader
from ansible.template import Templar

from ansible_collections.spo.user_profiles.plugins.lookup.bulk_refused_properties import LookupModule


def lookup(terms, **kwargs):
    loader = DataLoader()
    return LookupModule(loader=loader, templar=Templar(loader=loader)).run(terms, variables={}, **kwargs)


def test_standard_properties_are_known_in_any_case_and_returned_as_given():
    assert lookup(["CostCenter", "sps-skills", "AboutMe", "Building"]) == ["sps-skills", "AboutMe"]


def test_the_tenants_own_are_added_and_lists_are_flattened():
    assert lookup([["CostCenter", "Certifications"], "FavoriteColor"], multi_value=["Certifications"],
                  user_editable=["favoritecolor"]) == ["Certifications", "FavoriteColor"]


def test_nothing_refused():
    assert lookup(["CostCenter"]) == []


def test_a_wrong_option_is_an_error():
    with pytest.raises(AnsibleLookupError, match="multi_value must be a list"):
        lookup(["x"], multi_value="Certifications")
    with pytest.raises(AnsibleLookupError, match="unknown option"):
        lookup(["x"], multivalue=["a"])


@pytest.mark.parametrize("terms, message", [
    ([{"skills": "SPS-Skills", "cc": "CostCenter"}], r"not a mapping \(keys skills, cc\): for a property map, give its values"),
    ([[{"skills": "SPS-Skills"}]], r"not a mapping \(keys skills\)"),
    ([["SPS-Skills", ["AboutMe"]]], r"not a list inside a list \(AboutMe\): flatten it"),
], ids=["a property map", "a map in a list", "a list in a list"])
def test_a_term_that_holds_names_in_another_shape_is_an_error_not_an_empty_answer(terms, message):
    with pytest.raises(AnsibleLookupError, match="^bulk_refused_properties: the terms are property names .*" + message):
        lookup(terms)
