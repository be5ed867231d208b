# -*- coding: utf-8 -*-
# Copyright (c) spo.user_profiles contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Action plugin of spo.user_profiles.combined_report (documented in plugins/modules/combined_report.py).

Reads every tenant report of one run from <dest>/<run id>/, writes combined.json and combined.md there and prints the
compact table, on the controller with no module run. Built from the run's files rather than from this play's hosts, so
that AWX job slices of one workflow (which share a run id) and reruns of a run add up to one table.
"""

from __future__ import annotations

import datetime
import json
import os

from ansible.errors import AnsibleActionFail
from ansible.module_utils.common.text.converters import to_bytes, to_text
from ansible.utils.display import Display

from ansible_collections.spo.user_profiles.plugins.module_utils import report_records
from ansible_collections.spo.user_profiles.plugins.plugin_utils.report_files import (
    COMBINED_NAME, ReportAction, read_bytes, report_json, run_directory,
)
from ansible_collections.spo.user_profiles.plugins.plugin_utils.report_markdown import combined_markdown, terminal_table

display = Display()

ARGUMENT_SPEC = {
    "dest": {"type": "path", "required": True},
    "run_id": {"type": "str", "required": True},
    "show": {"type": "bool", "default": True},
}


def tenant_reports(directory):
    """The tenant reports of a run directory, by tenant name; unreadable files are an error naming them."""
    reports = []
    try:
        names = sorted(os.listdir(directory))
    except FileNotFoundError:
        return reports
    for name in names:
        if not name.endswith(".json") or name == COMBINED_NAME + ".json" or name.startswith("."):
            continue
        path = os.path.join(directory, name)
        try:
            report = json.loads(read_bytes(path).decode("utf-8"))
        except ValueError as e:
            raise AnsibleActionFail(f"The tenant report {path} is not valid JSON ({to_text(e)}); fix or remove it.") from e
        if isinstance(report, dict) and isinstance(report.get("sections"), dict) and report.get("tenant"):
            reports.append(report)
    return reports


class ActionModule(ReportAction):

    def run(self, tmp=None, task_vars=None):
        result, args, task_vars = self.start(tmp, task_vars, ARGUMENT_SPEC)
        self.check_dest(args["dest"])
        check_mode = bool(self._task.check_mode)
        directory = run_directory(args["dest"], args["run_id"], check_mode)
        reports = tenant_reports(directory)
        rows = [report_records.table_row(report["tenant"], section, record)
                for report in reports for section, record in sorted(report["sections"].items())]
        combined = {
            "run_id": args["run_id"],
            "check_mode": check_mode,
            "generated_at": datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ"),
            "tenants": [report["tenant"] for report in reports],
            "rows": rows,
        }
        json_path = os.path.join(directory, COMBINED_NAME + ".json")
        markdown_path = os.path.join(directory, COMBINED_NAME + ".md")
        # The time stamp alone does not make a new combined report.
        previous = read_bytes(json_path)
        if previous is not None:
            try:
                if dict(json.loads(previous.decode("utf-8")), generated_at=combined["generated_at"]) == combined:
                    combined["generated_at"] = json.loads(previous.decode("utf-8"))["generated_at"]
            except (ValueError, TypeError, KeyError):
                pass
        self.write_changed(directory, [(json_path, to_bytes(report_json(combined))),
                                       (markdown_path, to_bytes(combined_markdown(combined), errors="surrogate_or_strict"))],
                           "combined report")
        table = terminal_table(rows)
        if args["show"]:
            display.display("\n".join(table + ["", "Reports: %s" % directory]))
        result.update(changed=False, rows=rows, table=table, json_path=json_path, markdown_path=markdown_path,
                      run_directory=directory)
        return result
