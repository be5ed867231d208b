# -*- coding: utf-8 -*-
# Copyright (c) spo.user_profiles contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
---
name: report_problems
short_description: What stops a run's reports from being written, before anything is sent
description:
  - Returns what would stop M(spo.user_profiles.tenant_report) and M(spo.user_profiles.combined_report) from writing
    the reports of a run, one message per problem, naming the variable to change. Both roles of the collection check
    it in their first step, so that a run whose reports cannot be written fails before any request, not after its
    work is done.
  - The problems are a run id that cannot be a directory name (the report actions' rule for file names), and a report
    directory in which files cannot be written, or that cannot be created.
  - Whether the directory can be written is tried by creating a temporary directory in it (or in its nearest parent
    that exists) and removing it at once; nothing is left behind.
  - Returns an empty list when nothing is wrong. Takes no terms.
version_added: 1.0.0
author:
  - Seed 085825a7 maintainers (@spo-user-profiles)
options:
  dest:
    description:
      - The report directory on the controller, as the report actions take it (a relative path is tried against the
        directory ansible-playbook was started from).
    type: str
    required: true
  run_id:
    description: The run id, which names the run's directory of reports.
    type: str
    required: true
  dest_variable:
    description: The variable a problem with O(dest) names.
    type: str
    default: spo_report_dir
  run_id_variable:
    description: The variable a problem with O(run_id) names.
    type: str
    default: spo_run_id
"""

EXAMPLES = r"""
- name: Fail before any request when this run's reports cannot be written, naming the variable to change
  ansible.builtin.assert:
    that: report_problems | length == 0
    fail_msg: "{{ report_problems | join('; ') }}"
    quiet: true
  vars:
    report_problems: "{{ query('spo.user_profiles.report_problems', dest=spo_report_dir, run_id=spo_run_id) }}"
"""

RETURN = r"""
_raw:
  description: One message for each problem found; none when nothing is wrong.
  type: list
  elements: str
"""

from ansible.errors import AnsibleActionFail, AnsibleLookupError
from ansible.module_utils.common.text.converters import to_text
from ansible.plugins.lookup import LookupBase

from ansible_collections.spo.user_profiles.plugins.module_utils.local_paths import directory_problem
from ansible_collections.spo.user_profiles.plugins.plugin_utils.report_files import safe_name


# Option -> its default; dest and run_id have none.
OPTIONS = {"dest": None, "run_id": None, "dest_variable": "spo_report_dir", "run_id_variable": "spo_run_id"}


class LookupModule(LookupBase):

    def run(self, terms, variables=None, **kwargs):
        if terms:
            raise AnsibleLookupError("report_problems takes no terms; give dest and run_id")
        unknown = sorted(set(kwargs) - set(OPTIONS))
        if unknown:
            raise AnsibleLookupError("report_problems: unknown option(s) %s" % ", ".join(unknown))
        options = dict((name, default if kwargs.get(name) in (None, "") else to_text(kwargs[name]))
                       for name, default in OPTIONS.items())
        missing = [name for name, value in options.items() if value is None]
        if missing:
            raise AnsibleLookupError("report_problems: give %s" % " and ".join(missing))
        problems = []
        try:
            safe_name(options["run_id"], options["run_id_variable"])
        except AnsibleActionFail as err:
            problems.append("%s - it names the directory of the run's reports" % to_text(err.message).rstrip("."))
        problem = directory_problem(options["dest"])
        if problem:
            problems.append("%s: %s; give a directory where the reports can be written" % (
                options["dest_variable"], problem))
        return problems
