#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright (c) spo.user_profiles contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
---
module: combined_report
short_description: Print and write one table across the tenants of a run, on the controller
description:
  - Reads every tenant report of the run O(run_id) from O(dest)/O(run_id)/ (written by
    M(spo.user_profiles.tenant_report)), writes C(combined.json) and C(combined.md) beside them, and prints a compact
    table - tenant, sync, outcome, changes, error - of at most 99 characters a row.
  - The table comes from the run's files, not from the hosts of the play, so the slices of a sliced AWX job (which share
    a run id when they run in one workflow, and a report directory on shared storage) add up to one table; each slice
    rewrites it with what is there so far.
  - A check-mode run reads and writes C(<run_id>-check).
  - Run it once (C(run_once)) after the tenants' reports are written; the roles do.
  - This is an action plugin that does all its work on the Ansible controller; no module is sent or run on the target.
version_added: 1.0.0
author:
  - Seed 085825a7 maintainers (@spo-user-profiles)
options:
  dest:
    description: The report directory on the controller, as given to M(spo.user_profiles.tenant_report).
    type: path
    required: true
  run_id:
    description: The run whose tenant reports are combined.
    type: str
    required: true
  show:
    description: Print the table (plain lines in the output of the play).
    type: bool
    default: true
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
- name: Print and write one table across the tenants of this run (on the controller)
  spo.user_profiles.combined_report:
    dest: "{{ spo_report_dir }}"
    run_id: "{{ spo_run_id }}"
  run_once: true
"""

RETURN = r"""
rows:
  description: One row per tenant and section.
  returned: always
  type: list
  elements: dict
  sample: [{"tenant": "contoso", "section": "bulk_import", "outcome": "imported", "changes": "22 imported", "error": ""}]
table:
  description: The printed table, one line per row after the heading.
  returned: always
  type: list
  elements: str
json_path:
  description: The path of C(combined.json).
  returned: always
  type: str
  sample: /var/log/spo/reports/20260301T060000Z-1a2b/combined.json
markdown_path:
  description: The path of C(combined.md).
  returned: always
  type: str
  sample: /var/log/spo/reports/20260301T060000Z-1a2b/combined.md
run_directory:
  description: The run's directory (C(<run_id>-check) in check mode).
  returned: always
  type: str
"""
