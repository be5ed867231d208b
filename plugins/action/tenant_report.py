# -*- coding: utf-8 -*-
# Copyright (c) spo.user_profiles contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Action plugin of spo.user_profiles.tenant_report (documented in plugins/modules/tenant_report.py).

Merges one section into <dest>/<tenant>.json and renders <dest>/<tenant>.md, entirely on the controller:
no module runs and the connection is never used, which is what makes a report cheap with many tenants in parallel.
"""

from __future__ import annotations

import json
import os
import re

from ansible.errors import AnsibleActionFail
from ansible.module_utils.common.text.converters import to_bytes, to_text

from ansible_collections.spo.user_profiles.plugins.plugin_utils.report_files import ReportAction, read_bytes, report_json

# A plain file name: no path separator, no leading dot (no "..", no hidden file), nothing a shell would mangle.
SAFE_NAME = re.compile(r"^[A-Za-z0-9_][A-Za-z0-9._@+-]{0,199}$")

ARGUMENT_SPEC = {
    "dest": {"type": "path", "required": True},
    "tenant": {"type": "str", "required": True},
    "section": {"type": "str", "required": True},
    "data": {"type": "dict", "required": True},
    "markdown_template": {"type": "path", "required": True},
}


def read_report(path):
    """(report dict, JSON text) of an existing report; ({}, None) when there is none yet."""
    raw = read_bytes(path)
    if raw is None:
        return {}, None
    try:
        text = raw.decode("utf-8")
        report = json.loads(text)
    except ValueError as e:  # UnicodeDecodeError and JSONDecodeError are both ValueErrors
        raise AnsibleActionFail(f"The tenant report {path} is not valid JSON ({to_text(e)}); fix or remove it.") from e
    if not isinstance(report, dict):
        raise AnsibleActionFail(f"The tenant report {path} does not hold a JSON object; fix or remove it.")
    return report, text


class ActionModule(ReportAction):

    def run(self, tmp=None, task_vars=None):
        result, args, task_vars = self.start(tmp, task_vars, ARGUMENT_SPEC)
        dest, tenant, section = args["dest"], args["tenant"], args["section"]
        if not SAFE_NAME.match(tenant):
            raise AnsibleActionFail(
                f"tenant {tenant!r} is not a safe file name: use letters, digits and . _ @ + -, not starting with a dot or a dash.")
        if not section or section == "tenant":
            raise AnsibleActionFail(f"section {section!r} is not allowed: give a non-empty key other than 'tenant', which holds the tenant name.")
        self.check_dest(dest)

        json_path = os.path.join(dest, tenant + ".json")
        markdown_path = os.path.join(dest, tenant + ".md")
        existing, before_json = read_report(json_path)
        report = dict(existing)
        report.update({"tenant": tenant, section: args["data"]})
        try:
            after_json = report_json(report)
        except (TypeError, ValueError) as e:
            raise AnsibleActionFail(f"The {section} section cannot be written as JSON: {to_text(e)}") from e
        markdown = self.render(args["markdown_template"], "tenant_report", report, task_vars)
        written = self.write_changed(dest, [(json_path, to_bytes(after_json)),
                                            (markdown_path, to_bytes(markdown, errors="surrogate_or_strict"))],
                                     "tenant report")

        result.update(changed=bool(written), json_path=json_path, markdown_path=markdown_path, report=report)
        if section.isidentifier():
            # The combined report of the play reads each tenant's sections from these facts.
            result["ansible_facts"] = {"spo_report_" + section: args["data"]}
        if self._task.diff:
            result["diff"] = {"before": before_json or "", "after": after_json, "before_header": json_path, "after_header": json_path}
        return result
