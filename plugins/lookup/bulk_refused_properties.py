# -*- coding: utf-8 -*-
# Copyright (c) spo.user_profiles contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
---
name: bulk_refused_properties
short_description: The profile properties, of those given, that the bulk import API cannot take
description:
  - Returns those of the given profile property names that the bulk user profile import API refuses, multi-valued
    properties and properties users may edit, so that they can be written user by user with
    M(spo.user_profiles.user_profile_property) instead.
  - SharePoint's standard ones are known (V(SPS-Skills), V(SPS-Interests), V(SPS-PastProjects), V(SPS-School),
    V(SPS-Responsibility), V(SPS-MemberOf), V(AboutMe), V(HomePhone), V(SPS-Birthday)); a tenant's own are given in
    O(multi_value) and O(user_editable), because SharePoint does not tell a client how a property is defined.
  - Names compare without regard to case and are returned as given, in their order.
version_added: 1.0.0
author:
  - Seed 085825a7 maintainers (@spo-user-profiles)
options:
  _terms:
    description:
      - Profile property names, or lists of them. A mapping (give a property map's values) or a list inside a list is
        refused.
    type: list
    elements: str
    required: true
  multi_value:
    description: The tenant's own multi-valued properties.
    type: list
    elements: str
    default: []
  user_editable:
    description: The tenant's own properties that users may edit.
    type: list
    elements: str
    default: []
"""

EXAMPLES = r"""
- name: The properties the bulk API refuses, SharePoint's own (SPS-Skills, AboutMe) and the tenant's (Certifications)
  ansible.builtin.debug:
    msg: "{{ query('spo.user_profiles.bulk_refused_properties', ['CostCenter', 'SPS-Skills', 'AboutMe', 'Certifications'],
                   multi_value=['Certifications']) }}"

- name: Stop before anything is sent when the property map holds properties the bulk API refuses
  ansible.builtin.assert:
    that: refused | length == 0
    fail_msg: "The bulk API cannot take {{ refused | join(', ') }}; write them with spo.user_profiles.user_profile_property"
  vars:
    refused: "{{ query('spo.user_profiles.bulk_refused_properties', property_map.values() | list, multi_value=['Certifications']) }}"
"""

RETURN = r"""
_raw:
  description: The names the bulk import API cannot take.
  type: list
  elements: str
"""

from collections.abc import Iterable, Mapping

from ansible.errors import AnsibleLookupError
from ansible.plugins.lookup import LookupBase

from ansible_collections.spo.user_profiles.plugins.module_utils.profile_values import PropertyKinds

OPTIONS = ("multi_value", "user_editable")


class LookupModule(LookupBase):

    def run(self, terms, variables=None, **kwargs):
        unknown = sorted(set(kwargs) - set(OPTIONS))
        if unknown:
            raise AnsibleLookupError("bulk_refused_properties: unknown option(s) %s" % ", ".join(unknown))
        lists = {}
        for name in OPTIONS:
            value = kwargs.get(name) or []
            if not isinstance(value, list):
                raise AnsibleLookupError("bulk_refused_properties: %s must be a list of property names" % name)
            lists[name] = [str(item) for item in value]
        names = []
        for term in terms:
            names.extend(_name(name) for name in (term if _is_list(term) else [term]))
        return PropertyKinds(**lists).bulk_refused(names)


def _is_list(value):
    return isinstance(value, Iterable) and not isinstance(value, (str, bytes, Mapping))


def _name(value):
    """A term as a property name; a mapping or a list where a name belongs is an error, not a name that matches none."""
    if isinstance(value, Mapping):
        raise AnsibleLookupError("bulk_refused_properties: the terms are property names (or lists of them), not a mapping "
                                 "(keys %s): for a property map, give its values, such as property_map.values() | list"
                                 % ", ".join(str(key) for key in value))
    if _is_list(value):
        raise AnsibleLookupError("bulk_refused_properties: the terms are property names (or lists of them), not a list inside a "
                                 "list (%s): flatten it, such as names | flatten" % ", ".join(str(item) for item in value))
    return str(value)
