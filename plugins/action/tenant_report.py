# -*- coding: utf-8 -*-
# Copyright (c) spo.user_profiles contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Action plugin of spo.user_profiles.tenant_report (documented in plugins/modules/tenant_report.py).

Builds a role's record of one tenant from the registered results of its steps (module_utils/report_records.py),
writes it into <dest>/<run id>/<tenant>.json and .md, and returns it, entirely on the controller.
"""

from __future__ import annotations

import datetime
import json
import os

from ansible.errors import AnsibleActionFail
from ansible.module_utils.common.text.converters import to_bytes, to_text

from ansible_collections.spo.user_profiles.plugins.module_utils import report_records
from ansible_collections.spo.user_profiles.plugins.plugin_utils.report_files import (
    ReportAction, read_bytes, report_json, run_directory, tenant_name,
)
from ansible_collections.spo.user_profiles.plugins.plugin_utils.report_markdown import tenant_markdown

SECTIONS = ("bulk_import", "profile_photos")
ARGUMENT_SPEC = {
    "dest": {"type": "path", "required": True},
    "run_id": {"type": "str", "required": True},
    "tenant": {"type": "str", "required": True},
    "section": {"type": "str", "required": True, "choices": list(SECTIONS)},
    "started_at": {"type": "str", "required": True},
    "results": {"type": "dict", "required": True},
    "failure": {"type": "dict"},
}
# What each section's builder takes from `results`.
RESULT_KEYS = {"bulk_import": ("source", "upload", "queue", "wait", "retention", "per_user", "baseline"),
               "profile_photos": ("sync",)}


def utc_now():
    return datetime.datetime.now(datetime.timezone.utc).replace(microsecond=0)


def _iso(moment):
    return moment.isoformat().replace("+00:00", "Z")


def read_report(path):
    """An existing report of this run (another role's section), or None."""
    raw = read_bytes(path)
    if raw is None:
        return None
    try:
        report = json.loads(raw.decode("utf-8"))
    except ValueError as e:  # UnicodeDecodeError and JSONDecodeError are both ValueErrors
        raise AnsibleActionFail(f"The tenant report {path} is not valid JSON ({to_text(e)}); fix or remove it.") from e
    if not isinstance(report, dict) or not isinstance(report.get("sections"), dict):
        raise AnsibleActionFail(f"The tenant report {path} is not a report of this collection; fix or remove it.")
    return report


def build_record(section, check_mode, results, failure, markdown_path):
    unknown = sorted(set(results) - set(RESULT_KEYS[section]))
    if unknown:
        raise AnsibleActionFail(f"results: {', '.join(unknown)} not known for section {section}; "
                                f"expected {', '.join(RESULT_KEYS[section])}")
    error = None
    if failure:
        error = report_records.failure(failure.get("task"), failure.get("action"), failure.get("result"), markdown_path,
                                       section)
    if section == "bulk_import":
        return report_records.bulk_import(check_mode, error=error, **results)
    return report_records.profile_photos(check_mode, error=error, **results)


class ActionModule(ReportAction):

    def run(self, tmp=None, task_vars=None):
        result, args, task_vars = self.start(tmp, task_vars, ARGUMENT_SPEC)
        tenant, section = tenant_name(args["tenant"]), args["section"]
        self.check_dest(args["dest"])
        check_mode = bool(self._task.check_mode)
        directory = run_directory(args["dest"], args["run_id"], check_mode)
        json_path = os.path.join(directory, tenant + ".json")
        markdown_path = os.path.join(directory, tenant + ".md")

        record = build_record(section, check_mode, args["results"], args["failure"], markdown_path)
        finished = utc_now()
        record["started_at"] = args["started_at"]
        record["finished_at"] = _iso(finished)
        try:
            started = datetime.datetime.fromisoformat(args["started_at"].replace("Z", "+00:00"))
            record["duration_seconds"] = int((finished - started).total_seconds())
        except ValueError:
            raise AnsibleActionFail(f"started_at {args['started_at']!r} is not an ISO 8601 time")

        report = read_report(json_path) or {"tenant": tenant, "run_id": args["run_id"], "check_mode": check_mode,
                                            "sections": {}}
        report["sections"][section] = record
        try:
            text = report_json(report)
        except (TypeError, ValueError) as e:
            raise AnsibleActionFail(f"The {section} record cannot be written as JSON: {to_text(e)}") from e
        self.write_changed(directory, [(json_path, to_bytes(text)),
                                       (markdown_path, to_bytes(tenant_markdown(report), errors="surrogate_or_strict"))],
                           "tenant report")

        # Reports are output of the run, not managed state: never a change, in check mode or not.
        result.update(changed=False, record=record, json_path=json_path, markdown_path=markdown_path,
                      run_directory=directory)
        if record["error"]:
            result["failure_message"] = report_records.failure_line(tenant, section, record["error"])
        # For AWX / Automation Controller: the run's outcome per tenant as job artifacts, merged across hosts.
        result["ansible_stats"] = {
            "data": {"spo_user_profiles": {"run_id": args["run_id"], "check_mode": check_mode, "tenants": {
                tenant: {section: report_records.table_row(tenant, section, record)}}}},
            "per_host": False,
            "aggregate": True,
        }
        return result
