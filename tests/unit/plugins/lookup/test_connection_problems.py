# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The connection_problems lookup: what in a tenant host's spo_ variables and the environment stops a sign-in."""

from __future__ import annotations

import pytest

from ansible.errors import AnsibleLookupError
from ansible.parsing.dataloader import DataLoader
from ansible.template import Templar

from ansible_collections.spo.user_profiles.plugins.lookup.connection_problems import LookupModule
from ansible_collections.spo.user_profiles.plugins.plugin_utils.connection_variables import ENVIRONMENT


@pytest.fixture(autouse=True)
def no_spo_environment(monkeypatch):
    for name in ENVIRONMENT.values():
        monkeypatch.delenv(name, raising=False)


def lookup(terms, variables):
    loader = DataLoader()
    return LookupModule(loader=loader, templar=Templar(loader=loader)).run(terms, variables=variables)


def test_a_host_with_a_certificate_and_client_id_has_no_problem():
    assert lookup([], {"inventory_hostname": "contoso", "spo_client_id": "abc", "spo_certificate_path": "/k.pem"}) == []


def test_a_host_without_a_credential_is_told_what_to_set():
    assert lookup([], {"inventory_hostname": "contoso", "spo_client_id": "abc", "spo_certificate_path": None}) == [
        "no credential: set spo_certificate_path (with spo_client_id) or spo_access_token, or the SPO_CERTIFICATE_PATH "
        "/ SPO_ACCESS_TOKEN environment variables"]


def test_a_client_secret_in_the_environment_is_a_credential(monkeypatch):
    monkeypatch.setenv("SPO_CLIENT_SECRET", "s")
    monkeypatch.setenv("SPO_CLIENT_ID", "abc")
    assert lookup([], {"inventory_hostname": "contoso"}) == []


def test_a_certificate_without_a_client_id_names_spo_client_id():
    problems = lookup([], {"inventory_hostname": "contoso", "spo_certificate_path": "/k.pem", "spo_client_id": ""})
    assert len(problems) == 1 and problems[0].startswith("spo_client_id is not set")


def test_terms_are_refused():
    with pytest.raises(AnsibleLookupError, match="takes no terms"):
        lookup(["x"], {})
