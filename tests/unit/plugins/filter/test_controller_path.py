# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The controller_path filter: a path, or the path item of each dict of a list, made absolute on the controller."""

from __future__ import annotations

import pytest

from ansible.errors import AnsibleFilterError

from ansible_collections.spo.user_profiles.plugins.filter.controller_path import FilterModule

controller_path = FilterModule().filters()["controller_path"]


@pytest.fixture(autouse=True)
def in_sync(tmp_path, monkeypatch):
    monkeypatch.chdir(str(tmp_path))
    monkeypatch.setenv("HOME", "/home/admin")


def test_a_path_is_made_absolute_and_null_stays_null(tmp_path):
    assert controller_path("photos/contoso") == "%s/photos/contoso" % tmp_path
    assert controller_path("~/photos") == "/home/admin/photos"
    assert controller_path(None) is None


def test_with_key_the_path_item_of_a_dict_is_made_absolute_in_a_copy(tmp_path):
    item = {"user": "adele@contoso.com", "path": "photos/adele.jpg"}
    assert controller_path(item, key="path") == {"user": "adele@contoso.com", "path": "%s/photos/adele.jpg" % tmp_path}
    assert item["path"] == "photos/adele.jpg"


@pytest.mark.parametrize("value", [{"user": "adele@contoso.com"}, {"user": "a@contoso.com", "path": None}, "photo.jpg"],
                         ids=["no path", "null path", "not a dict"])
def test_with_key_what_holds_no_path_is_left_for_the_module_to_refuse(value):
    assert controller_path(value, key="path") == value


def test_what_is_no_path_is_refused():
    with pytest.raises(AnsibleFilterError, match="controller_path takes a path [(]a string[)], not list"):
        controller_path(["a"])
