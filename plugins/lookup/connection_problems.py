# -*- coding: utf-8 -*-
# Copyright (c) spo.user_profiles contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
---
name: connection_problems
short_description: What in a tenant host's spo_ variables stops a sign-in, before any module runs
description:
  - Returns what stops the modules of the C(group/spo.user_profiles.spo) action group from signing in to a tenant, as
    far as can be told without signing in, one message per problem, naming the variables to set. Both roles of the
    collection check it in their first step, so a run without a credential fails before any request.
  - The problems are no credential at all (no certificate, client secret or access token), and a certificate or client
    secret without the client id of the app registration it belongs to.
  - Reads the host's C(spo_) variables as P(spo.user_profiles.connection_options#lookup) does, and the C(SPO_CLIENT_ID),
    C(SPO_CERTIFICATE_PATH), C(SPO_CLIENT_SECRET) and C(SPO_ACCESS_TOKEN) environment variables the modules fall back
    on. The environment is the controller's, which is the modules' for the C(local) connection the roles use.
  - Returns an empty list when nothing is missing. Takes no terms.
  - Whether the credential is valid, and whether the app may do what a module asks, only a sign-in can tell; the modules
    say so when they sign in.
version_added: 1.0.0
author:
  - Seed 085825a7 maintainers (@spo-user-profiles)
"""

EXAMPLES = r"""
- name: Fail before any request when this tenant cannot sign in, naming the variables to set
  ansible.builtin.assert:
    that: spo_problems | length == 0
    fail_msg: "{{ spo_problems | join('; ') }}"
    quiet: true
  vars:
    spo_problems: "{{ query('spo.user_profiles.connection_problems') }}"

- name: Then list the import jobs of this tenant
  spo.user_profiles.upa_job_info:
  module_defaults:
    group/spo.user_profiles.spo: "{{ lookup('spo.user_profiles.connection_options') }}"
"""

RETURN = r"""
_raw:
  description: One message for each problem found; none when nothing is missing.
  type: list
  elements: str
"""

from ansible.errors import AnsibleLookupError
from ansible.plugins.lookup import LookupBase

from ansible_collections.spo.user_profiles.plugins.plugin_utils.connection_variables import host_options, sign_in_problems


class LookupModule(LookupBase):

    def run(self, terms, variables=None, **kwargs):
        if terms:
            raise AnsibleLookupError("connection_problems takes no terms; it reads the host's spo_ variables")
        return sign_in_problems(host_options(self._templar, variables or {}))
