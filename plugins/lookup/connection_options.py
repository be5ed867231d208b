# -*- coding: utf-8 -*-
# Copyright (c) spo.user_profiles contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
---
name: connection_options
short_description: The connection options of the spo action group, from a tenant host's spo_ variables
description:
  - Returns the options every module of the C(group/spo.user_profiles.spo) action group takes to reach a tenant,
    built from the host's C(spo_) variables, for C(module_defaults). Both roles of the collection use it, so a tenant's
    inventory variables mean the same thing to each of them.
  - C(tenant) is C(spo_tenant), or the inventory host name when it is not set (one host per tenant).
  - Variables that are not set (or set to null) are left out, so the modules' own defaults and their C(SPO_*)
    environment fallbacks apply.
  - C(spo_certificate_path) and C(spo_ca_path) are files on the controller - C($VARIABLES) and C(~) are expanded, and
    a relative path is made absolute against the directory ansible-playbook was started from, so that a module, which
    the C(local) connection starts in the playbook's directory, reads the file the path names where the run started.
    The text of a PEM file given as C(spo_certificate_path) is left as it is, for the module to refuse.
  - Takes no terms.
version_added: 1.0.0
author:
  - Seed 085825a7 maintainers (@spo-user-profiles)
notes:
  - The variables read are C(spo_tenant), C(spo_tenant_id), C(spo_client_id), C(spo_certificate_path),
    C(spo_certificate_password), C(spo_client_secret), C(spo_access_token), C(spo_cloud), C(spo_ca_path),
    C(spo_validate_certs), C(spo_timeout) and C(spo_max_retries); each becomes the module option without the prefix.
"""

EXAMPLES = r"""
- name: Set the connection once for every module of the collection, from the host's spo_ variables
  module_defaults:
    group/spo.user_profiles.spo: "{{ lookup('spo.user_profiles.connection_options') }}"
  block:
    - name: List the import jobs of this tenant
      spo.user_profiles.upa_job_info:
      register: jobs

    - name: Read a user's profile in the same tenant
      spo.user_profiles.user_profile_info:
        users: [adele.vance@contoso.com]
        properties: [CostCenter]
"""

RETURN = r"""
_raw:
  description: The connection options, one dict.
  type: list
  elements: dict
"""

from ansible.errors import AnsibleLookupError
from ansible.plugins.lookup import LookupBase

from ansible_collections.spo.user_profiles.plugins.plugin_utils.connection_variables import host_options


class LookupModule(LookupBase):

    def run(self, terms, variables=None, **kwargs):
        if terms:
            raise AnsibleLookupError("connection_options takes no terms; it reads the host's spo_ variables")
        return [host_options(self._templar, variables or {})]
