# -*- coding: utf-8 -*-
# Copyright (c) spo.user_profiles contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Action plugin of spo.user_profiles.combined_report (documented in plugins/modules/combined_report.py).

Writes <dest>/combined.json and renders <dest>/combined.md on the controller, with no module run: the two
ansible.builtin.copy tasks it replaces made four module runs (stat and copy each), about 2 s at the end of every play.
"""

from __future__ import annotations

import os

from ansible.errors import AnsibleActionFail
from ansible.module_utils.common.text.converters import to_bytes, to_text

from ansible_collections.spo.user_profiles.plugins.plugin_utils.report_files import ReportAction, read_bytes, report_json

ARGUMENT_SPEC = {
    "dest": {"type": "path", "required": True},
    "data": {"type": "dict", "required": True},
    "markdown_template": {"type": "path", "required": True},
}
BASE_NAME = "combined"


class ActionModule(ReportAction):

    def run(self, tmp=None, task_vars=None):
        result, args, task_vars = self.start(tmp, task_vars, ARGUMENT_SPEC)
        dest = args["dest"]
        self.check_dest(dest)
        json_path = os.path.join(dest, BASE_NAME + ".json")
        markdown_path = os.path.join(dest, BASE_NAME + ".md")
        try:
            after_json = report_json(args["data"])
        except (TypeError, ValueError) as e:
            raise AnsibleActionFail(f"The combined report cannot be written as JSON: {to_text(e)}") from e
        markdown = self.render(args["markdown_template"], "combined_report", args["data"], task_vars)
        # Read before the write, and only for the diff: write_changed compares the contents itself.
        before_json = read_bytes(json_path) if self._task.diff else None
        written = self.write_changed(dest, [(json_path, to_bytes(after_json)),
                                            (markdown_path, to_bytes(markdown, errors="surrogate_or_strict"))],
                                     "combined report")

        result.update(changed=bool(written), json_path=json_path, markdown_path=markdown_path, markdown=markdown)
        if self._task.diff:
            result["diff"] = {"before": to_text(before_json or b"", errors="surrogate_or_strict"), "after": after_json,
                              "before_header": json_path, "after_header": json_path}
        return result
