#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright (c) spo.user_profiles contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
---
module: user_profile_info
short_description: Read SharePoint Online user profile properties of one or many users
version_added: 1.0.0
description:
  - Reads the profile properties of each user (PeopleManager C(GetPropertiesFor), one request a user), all of them or
    those named in O(properties), for example to check the result of an import or of
    M(spo.user_profiles.user_profile_property).
  - Multi-valued properties are returned as lists. SharePoint answers them as one string joined by C(|) and cannot tell a
    client which properties are multi-valued, so SharePoint's standard ones are known and the tenant's own are named in
    O(multi_value_properties); any other property is returned as text.
  - Users without a profile are listed in RV(missing), not failed.
  - Many users are read side by side, with the number of requests in flight adapting to the tenant's throttling, up to
    O(concurrency).
  - Never changes anything.
author:
  - Seed 085825a7 maintainers (@spo-user-profiles)
extends_documentation_fragment:
  # First, so that its descriptions of check_mode and diff_mode are the ones shown.
  - spo.user_profiles.attributes.CHECK_MODE_READ_ONLY
  - spo.user_profiles.connection
  - spo.user_profiles.users_progress
  - spo.user_profiles.attributes
  - spo.user_profiles.attributes.ACTION_GROUP
  - spo.user_profiles.attributes.PROGRESS_ACTION
options:
  users:
    description:
      - The user principal names of the users to read, or their claims names (V(i:0#.f|membership|jdoe@contoso.com)).
      - A user with a space or an invisible character (such as U+00A0, U+200B or U+FEFF) anywhere, its ends too, is
        refused, naming the character.
    type: list
    elements: str
    required: true
  properties:
    description:
      - The properties to return; all of them when not given. Names compare without regard to case. A property a
        profile does not have is returned as null.
      - A name with a space at either end, or with an invisible character anywhere (a control or format character, such
        as U+200B or U+FEFF, or whitespace other than the space, such as U+00A0), is refused, naming it, before any
        request. Such a name would look like a property's and yet be returned as null.
    type: list
    elements: str
  multi_value_properties:
    description:
      - The tenant's own multi-valued properties, returned as lists. SharePoint's standard ones (V(SPS-Skills),
        V(SPS-Interests), V(SPS-PastProjects), V(SPS-School), V(SPS-Responsibility), V(SPS-MemberOf)) are known.
      - A name with a space at either end, or with an invisible character anywhere, is refused, as in O(properties).
    type: list
    elements: str
    default: []
  concurrency:
    description: The most requests in flight at once.
    type: int
    default: 16
notes:
  - The app needs the SharePoint application permissions C(Sites.FullControl.All) and C(User.ReadWrite.All); the
    module reads them from its access token and fails before reading a profile when one is missing.
seealso:
  - module: spo.user_profiles.user_profile_property
"""

EXAMPLES = r"""
- name: Read three properties of three users
  spo.user_profiles.user_profile_info:
    tenant: contoso
    client_id: "{{ spo_client_id }}"
    certificate_path: "{{ spo_certificate_path }}"
    users:
      - adele.vance@contoso.com
      - alex.vance@contoso.com
      - allan.vance@contoso.com
    properties: [CostCenter, SPS-Skills, Certifications]
    multi_value_properties: [Certifications]
  register: info

- name: The users without a profile
  ansible.builtin.debug:
    var: info.missing

- name: Everyone's skills, one line each
  ansible.builtin.debug:
    msg: "{{ item.user }}: {{ item.properties['SPS-Skills'] | join(', ') }}"
  loop: "{{ info.profiles }}"
  loop_control:
    label: "{{ item.user }}"
"""

RETURN = r"""
profiles:
  description: The users that have a profile, in the order of O(users), with their properties.
  returned: always
  type: list
  elements: dict
  contains:
    user:
      description: The user, as given.
      type: str
      sample: adele.vance@contoso.com
    properties:
      description: Property name to value; multi-valued properties as lists, the others as text.
      type: dict
      sample: {"CostCenter": "CC-4711", "SPS-Skills": ["Ansible", "Python"]}
missing:
  description: The users without a profile (unknown accounts too), in the order of O(users).
  returned: always
  type: list
  elements: str
  sample: [ghost@contoso.com]
concurrency:
  description: How the number of requests in flight adapted (see M(spo.user_profiles.user_profile_property)).
  returned: always
  type: dict
  sample: {"ceiling": 16, "peak": 16, "final": 16, "throttled": 0, "paused_seconds": 0.0}
"""

from ansible_collections.spo.user_profiles.plugins.module_utils import permissions
from ansible_collections.spo.user_profiles.plugins.module_utils.base import SpoModule, minimum_problems
from ansible_collections.spo.user_profiles.plugins.module_utils.concurrency import DEFAULT_CONCURRENCY
from ansible_collections.spo.user_profiles.plugins.module_utils.errors import SpoError
from ansible_collections.spo.user_profiles.plugins.module_utils.import_validation import property_name_problem
from ansible_collections.spo.user_profiles.plugins.module_utils.profile_info import read_profiles
from ansible_collections.spo.user_profiles.plugins.module_utils.profile_values import PropertyKinds
from ansible_collections.spo.user_profiles.plugins.module_utils.progress import UsersProgress
from ansible_collections.spo.user_profiles.plugins.module_utils.property_inputs import user_problem


def argument_spec():
    return dict(
        users=dict(type="list", elements="str", required=True),
        properties=dict(type="list", elements="str"),
        multi_value_properties=dict(type="list", elements="str", default=[]),
        concurrency=dict(type="int", default=DEFAULT_CONCURRENCY),
        progress_interval=dict(type="int"),
    )


def main():
    module = SpoModule(argument_spec(), supports_check_mode=True)
    params = module.params
    problems = ["users[%d]: %s" % (index, user_problem(user)) for index, user in enumerate(params["users"]) if user_problem(user)]
    # A name with a hidden character names no property: it would be returned as null, as if the profiles had none.
    problems.extend("%s[%d]: %s" % (option, index, property_name_problem(name))
                    for option in ("properties", "multi_value_properties")
                    for index, name in enumerate(params[option] or []) if property_name_problem(name))
    problems.extend(minimum_problems(params, {"concurrency": 1, "progress_interval": 0}))
    module.fail_on_option_problems(problems)
    try:
        result = read_profiles(module.client(permissions.PEOPLE_MANAGER), params["users"],
                               PropertyKinds(multi_value=params["multi_value_properties"]),
                               names=params["properties"], concurrency=params["concurrency"],
                               progress=UsersProgress.of_module(module.module, params["progress_interval"]))
    except SpoError as err:
        module.fail_from_error(err)
    module.exit_json(changed=False, **result)


if __name__ == "__main__":
    main()
