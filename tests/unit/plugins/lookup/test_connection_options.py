# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The connection_options lookup: the module options of a tenant host, from its spo_ variables."""

from __future__ import annotations

import pytest

from ansible.errors import AnsibleLookupError
from ansible.parsing.dataloader import DataLoader
from ansible.template import Templar

from ansible_collections.spo.user_profiles.plugins.lookup.connection_options import LookupModule


def lookup(terms, variables):
    loader = DataLoader()
    return LookupModule(loader=loader, templar=Templar(loader=loader)).run(terms, variables=variables)


def test_the_tenant_is_the_host_and_unset_variables_are_left_out():
    options = lookup([], {"inventory_hostname": "contoso", "spo_client_id": "abc", "spo_certificate_password": None,
                          "spo_client_secret": "", "upa_src": "x", "spo_max_retries": 3})
    assert options == [{"tenant": "contoso", "client_id": "abc", "max_retries": 3}]


def test_spo_tenant_wins_over_the_host_name():
    assert lookup([], {"inventory_hostname": "host1", "spo_tenant": "fabrikam"})[0]["tenant"] == "fabrikam"


def test_terms_are_refused():
    with pytest.raises(AnsibleLookupError, match="takes no terms"):
        lookup(["x"], {})
