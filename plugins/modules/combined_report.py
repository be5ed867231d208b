#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright (c) spo.user_profiles contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
---
module: combined_report
short_description: Write the report across tenants, as JSON and as a Markdown table, on the controller
description:
  - Writes O(data) to O(dest)/combined.json (indented by two spaces, keys sorted) and renders O(dest)/combined.md
    from it with O(markdown_template).
  - Each file is written atomically (a temporary file in the same directory, then renamed), and only when its
    content changes.
  - This is an action plugin that does all its work on the Ansible controller, whatever the connection of the host
    is; no module is sent or run on the target, and the connection is never opened. There is no need for
    C(delegate_to=localhost); run it once (C(run_once=true)) for the play.
  - Returns the Markdown text as RV(markdown), so that the play can print the table without reading the file.
  - Used by the C(spo.user_profiles.bulk_import) role (entry point C(combined_report)) at the end of the
    C(sync_profiles) and C(sync_photos) playbooks.
version_added: 1.0.0
author:
  - spo.user_profiles contributors !UNKNOWN
options:
  dest:
    description:
      - The report directory on the controller. Created (mode C(0755)) when missing.
    type: path
    required: true
  data:
    description:
      - The combined report, for example one row per tenant under C(tenants) and the time it was made under
        C(generated_at).
    type: dict
    required: true
  markdown_template:
    description:
      - The Jinja2 template of the Markdown file, rendered on the controller with Ansible's templar, so all Ansible
        filters and tests are available.
      - O(data) is the variable C(combined_report); the task's variables are available too.
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
  - module: spo.user_profiles.tenant_report
"""

EXAMPLES = r"""
- name: Write and print one table across the tenants of the play
  spo.user_profiles.combined_report:
    dest: /var/log/spo/reports
    data:
      generated_at: "{{ now(utc=true).isoformat() }}"
      tenants:
        - {tenant: contoso, import_status: succeeded}
        - {tenant: fabrikam, import_status: failed}
    markdown_template: combined.md.j2
  run_once: true
  register: combined

- name: Show it
  ansible.builtin.debug:
    msg: "{{ combined.markdown.splitlines() }}"
  run_once: true
"""

RETURN = r"""
json_path:
  description: The path of the JSON file.
  returned: always
  type: str
  sample: /var/log/spo/reports/combined.json
markdown_path:
  description: The path of the Markdown file.
  returned: always
  type: str
  sample: /var/log/spo/reports/combined.md
markdown:
  description: The rendered Markdown text (also in check mode, when nothing is written).
  returned: always
  type: str
  sample: "# SharePoint user profile sync: 2 tenants\n\n| Tenant | Import | ..."
"""
