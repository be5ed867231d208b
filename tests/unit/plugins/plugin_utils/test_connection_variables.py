# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""connection_variables: a host's spo_ variables as connection options, and what in them stops a sign-in."""

from __future__ import annotations

import pytest

from ansible.parsing.dataloader import DataLoader
from ansible.template import Templar

try:
    from ansible.template import trust_as_template
except ImportError:  # ansible-core < 2.19 templates every string
    def trust_as_template(value):
        return value

from ansible_collections.spo.user_profiles.plugins.module_utils import report_records
from ansible_collections.spo.user_profiles.plugins.module_utils.base import connection_argument_spec
from ansible_collections.spo.user_profiles.plugins.plugin_utils.connection_variables import (
    ENVIRONMENT, NO_CLIENT_ID, NO_CREDENTIAL, OPTIONS, PREFIX, host_options, sign_in_problems)


def options_of(variables):
    return host_options(Templar(loader=DataLoader()), variables)


def test_variables_are_templated_and_unset_null_and_empty_ones_left_out():
    options = options_of({"inventory_hostname": "contoso", "client": "abc", "spo_client_id": trust_as_template("{{ client }}"),
                          "spo_certificate_password": None, "spo_client_secret": "", "spo_max_retries": 3,
                          "upa_src": "x"})
    assert options == {"tenant": "contoso", "client_id": "abc", "max_retries": 3}


def test_certificate_and_ca_paths_are_made_absolute_against_the_working_directory(tmp_path, monkeypatch):
    monkeypatch.chdir(str(tmp_path))
    monkeypatch.setenv("HOME", "/home/admin")
    options = options_of({"inventory_hostname": "contoso", "spo_certificate_path": "certs/app.pem",
                          "spo_ca_path": "~/ca.pem", "spo_client_id": "certs/not-a-path"})
    assert options == {"tenant": "contoso", "certificate_path": "%s/certs/app.pem" % tmp_path,
                       "ca_path": "/home/admin/ca.pem", "client_id": "certs/not-a-path"}


def test_the_text_of_a_pem_file_given_as_certificate_path_is_left_for_the_module_to_refuse():
    text = "-----BEGIN PRIVATE KEY-----\nMIIE/a/../b\n-----END PRIVATE KEY-----\n"
    assert options_of({"inventory_hostname": "contoso", "spo_certificate_path": text})["certificate_path"] == text


def test_the_options_are_the_modules_connection_options():
    assert set(OPTIONS) == set(connection_argument_spec())


def test_the_environment_is_what_the_modules_fall_back_on():
    spec = connection_argument_spec()
    assert all(spec[option]["fallback"][1] == [name] for option, name in ENVIRONMENT.items())


def test_the_variables_the_roles_failure_hints_name_for_connection_options_are_the_ones_read_here():
    assert report_records.CONNECTION_VARIABLES
    assert all(PREFIX + option == variable and option in OPTIONS
               for option, variable in report_records.CONNECTION_VARIABLES.items())


@pytest.mark.parametrize("options", [
    {"client_id": "abc", "certificate_path": "/k.pem"},
    {"client_id": "abc", "client_secret": "s"},
    {"access_token": "t"},
], ids=["certificate", "client secret", "access token without a client id"])
def test_a_credential_with_what_it_needs_is_no_problem(options):
    assert sign_in_problems(options, environ={}) == []


def test_no_credential_names_the_variables_to_set():
    assert sign_in_problems({"tenant": "contoso", "client_id": "abc"}, environ={}) == [NO_CREDENTIAL]
    assert NO_CREDENTIAL.startswith("no credential: set spo_certificate_path")


@pytest.mark.parametrize("options", [{"certificate_path": "/k.pem"}, {"client_secret": "s"}],
                         ids=["certificate", "client secret"])
def test_a_certificate_or_secret_without_a_client_id_names_spo_client_id(options):
    assert sign_in_problems(options, environ={}) == [NO_CLIENT_ID]
    assert NO_CLIENT_ID.startswith("spo_client_id is not set")


@pytest.mark.parametrize("name", sorted(set(ENVIRONMENT.values()) - {"SPO_CLIENT_ID"}))
def test_a_credential_in_the_environment_counts_as_the_modules_take_it(name):
    environ = {name: "x", "SPO_CLIENT_ID": "abc"}
    assert sign_in_problems({"tenant": "contoso"}, environ=environ) == []
    if name != "SPO_ACCESS_TOKEN":
        del environ["SPO_CLIENT_ID"]
        assert sign_in_problems({"tenant": "contoso"}, environ=environ) == [NO_CLIENT_ID]


def test_an_empty_environment_variable_is_not_a_credential():
    assert sign_in_problems({}, environ={"SPO_CERTIFICATE_PATH": "", "SPO_CLIENT_SECRET": ""}) == [NO_CREDENTIAL]
