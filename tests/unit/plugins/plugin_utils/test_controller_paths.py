# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""controller_paths: a path given on the controller, absolute against the directory ansible-playbook started in."""

from __future__ import annotations

from ansible.module_utils.common.validation import check_type_path

from ansible_collections.spo.user_profiles.plugins.plugin_utils.controller_paths import controller_path


def test_a_relative_path_is_made_absolute_against_the_working_directory(tmp_path, monkeypatch):
    monkeypatch.chdir(str(tmp_path))
    assert controller_path("hr/contoso.csv") == "%s/hr/contoso.csv" % tmp_path
    assert controller_path("./hr/../hr/contoso.csv") == "%s/hr/contoso.csv" % tmp_path
    assert controller_path("/srv/hr.csv") == "/srv/hr.csv"


def test_the_text_of_a_pem_file_given_as_a_path_is_left_as_it_is_for_the_modules_to_refuse_and_mask(tmp_path, monkeypatch):
    monkeypatch.chdir(str(tmp_path))
    text = "-----BEGIN PRIVATE KEY-----\nMIIE//a/./b/../c\n-----END PRIVATE KEY-----\n"
    assert controller_path(text) == text


def test_home_and_variables_are_expanded_as_a_modules_path_option_expands_them(monkeypatch):
    monkeypatch.setenv("HOME", "/home/admin")
    monkeypatch.setenv("HR", "/srv/hr")
    for given in ("~/sync/hr.csv", "$HR/contoso.csv", "${HOME}/x"):
        assert controller_path(given) == check_type_path(given)
