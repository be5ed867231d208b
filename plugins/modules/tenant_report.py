#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright (c) spo.user_profiles contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
---
module: tenant_report
short_description: Write one section of a tenant's JSON report and its Markdown summary, on the controller
description:
  - Sets the section O(section) of the JSON report O(dest)/O(tenant).json to O(data), keeping the other sections
    already in the file, and renders O(dest)/O(tenant).md from the whole report with O(markdown_template).
  - 'The JSON report is C({"tenant": <tenant>, <section>: <data>, ...}), indented by two spaces, keys sorted.'
  - Each file is written atomically (a temporary file in the same directory, then renamed), and only when its
    content changes, so an unchanged report keeps its modification time.
  - This is an action plugin that does all its work on the Ansible controller, whatever the connection of the host
    is; no module is sent or run on the target, and the connection is never opened. There is no need for
    C(delegate_to=localhost).
  - Sets the fact C(spo_report_<section>) to O(data) (when O(section) is a valid variable name), so that a later
    task, such as the combined report of the roles, can read this run's section from C(hostvars) without
    another task.
  - Used by the C(spo.user_profiles.bulk_import) and C(spo.user_profiles.profile_photos) roles for their reports.
version_added: 1.0.0
author:
  - spo.user_profiles contributors !UNKNOWN
options:
  dest:
    description:
      - The report directory on the controller. Created (mode C(0755)) when missing.
    type: path
    required: true
  tenant:
    description:
      - The tenant name, used as the file base name and as the value of the C(tenant) key of the JSON report.
      - Must be a plain file name of letters, digits and C(. _ @ + -), not starting with a dot or a dash.
    type: str
    required: true
  section:
    description:
      - The top-level key of the JSON report this task sets, for example C(bulk_import) or C(profile_photos).
      - Cannot be C(tenant).
    type: str
    required: true
  data:
    description:
      - The content of the section. It replaces the previous content of that section as a whole.
    type: dict
    required: true
  markdown_template:
    description:
      - The Jinja2 template of the Markdown summary, rendered on the controller with Ansible's templar, so all
        Ansible filters and tests are available.
      - The merged report (the whole JSON report after this update) is the variable C(tenant_report); the task's
        variables are available too.
      - A relative path is looked up as M(ansible.builtin.template) looks up its source, in the C(templates/)
        directory of the role, then of the playbook.
    type: path
    required: true
extends_documentation_fragment:
  # First, so that its descriptions of the attributes are the ones shown.
  - spo.user_profiles.attributes.CONTROLLER_REPORT
  - action_common_attributes
  - action_common_attributes.conn
  - action_common_attributes.flow
  - action_common_attributes.files
seealso:
  - module: ansible.builtin.template
"""

EXAMPLES = r"""
- name: Write the bulk import section of this tenant's report
  spo.user_profiles.tenant_report:
    dest: /var/log/spo/reports
    tenant: "{{ inventory_hostname }}"
    section: bulk_import
    data:
      status: succeeded
      users: {imported: "{{ imported | length }}", failed: "{{ failed | length }}"}
    markdown_template: "{{ role_path }}/templates/tenant_report.md.j2"

- name: This run's section is now also the fact spo_report_bulk_import
  ansible.builtin.debug:
    var: spo_report_bulk_import.users

- name: Reports are output of the run, not managed state - write them in check mode too, never count a change
  spo.user_profiles.tenant_report:
    dest: "{{ playbook_dir }}/reports"
    tenant: "{{ inventory_hostname }}"
    section: profile_photos
    data: {status: succeeded, changed: 3}
    markdown_template: summary.md.j2
  check_mode: false
  changed_when: false
  diff: false
"""

RETURN = r"""
json_path:
  description: The path of the JSON report.
  returned: always
  type: str
  sample: /var/log/spo/reports/contoso.json
markdown_path:
  description: The path of the Markdown summary.
  returned: always
  type: str
  sample: /var/log/spo/reports/contoso.md
ansible_facts:
  description: C(spo_report_<section>), set to O(data), when O(section) is a valid variable name.
  returned: when section is a valid variable name
  type: dict
  sample: {"spo_report_bulk_import": {"status": "succeeded"}}
report:
  description: The whole JSON report after this update (or that would be written, in check mode).
  returned: always
  type: dict
  sample: {"tenant": "contoso", "bulk_import": {"status": "succeeded"}, "profile_photos": {"status": "succeeded"}}
"""
