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


def parse_started_at(text):
    """(the time started_at gives, None), or (None, the problem) when it is no ISO 8601 time with a zone."""
    try:
        started = datetime.datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        return None, f"started_at {text!r} is not an ISO 8601 time"
    if started.tzinfo is None:
        # A time without a zone cannot be compared with the finish time (UTC); guessing a zone would skew the duration.
        return None, (f"started_at {text!r} has no time zone: give it in UTC, such as "
                      f"{started.strftime('%Y-%m-%dT%H:%M:%S')}Z")
    return started, None


def _kind(value):
    """What a value is, in the words of YAML and JSON (a bool is no number there)."""
    kinds = ((bool, "a boolean"), (str, "a text"), (int, "a number"), (float, "a number"), (list, "a list"),
             (dict, "a dict"))
    return "null" if value is None else next((name for kind, name in kinds if isinstance(value, kind)), "unknown")


def plain(value):
    """The value as the report's JSON holds it: plain types (ansible-core 2.19 tags the values of options, and an error
    about a value would name its tagged type)."""
    try:
        return json.loads(report_json(value))
    except (TypeError, ValueError):
        return value  # what JSON cannot hold is refused where the report is written


def option_problems(section, results, failure):
    """What in results and failure is not what a role hands over: each step's registered result is a dict ({} when
    the step did not run), the source of bulk_import a text, the failure's result the failed task's result (a dict)."""
    problems = []
    unknown = sorted(set(results) - set(RESULT_KEYS[section]))
    if unknown:
        problems.append(f"results: {', '.join(unknown)} not known for section {section}; "
                        f"expected {', '.join(RESULT_KEYS[section])}")
    for key in RESULT_KEYS[section]:
        if key == "source":
            if not isinstance(results.get(key), str):
                problems.append(f"results.source must be a name for the source (a text), not {_kind(results.get(key))}")
        elif results.get(key) is not None and not isinstance(results[key], dict):
            problems.append(f"results.{key} must be the step's registered result (a dict, {{}} when the step did not "
                            f"run), not {_kind(results[key])}")
    if failure and not isinstance(failure.get("result"), dict):
        problems.append(f"failure.result must be the failed task's result (a dict, as ansible_failed_result), not "
                        f"{_kind(failure.get('result'))}")
    return problems


def build_record(section, check_mode, results, failure, markdown_path):
    """The section's record; a result that is not shaped as the module returns it is an error naming it."""
    error = None
    if failure:
        try:
            error = report_records.failure(failure.get("task"), failure.get("action"), failure["result"],
                                           markdown_path, section)
        except (AttributeError, TypeError, ValueError) as e:
            raise AnsibleActionFail(f"failure.result does not have the shape of a failed task's result: "
                                    f"{to_text(e)}") from e
    builder = report_records.bulk_import if section == "bulk_import" else report_records.profile_photos
    try:
        return builder(check_mode, error=error, **results)
    except (AttributeError, TypeError, ValueError) as e:
        # The result at fault is the first that fails on its own (the source alone never does).
        given = dict(source=results["source"]) if "source" in results else {}
        at_fault = next((key for key in results
                         if key != "source" and _fails_alone(builder, check_mode, given, key, results)), None)
        where = f"results.{at_fault}" if at_fault else "results"
        raise AnsibleActionFail(f"{where} does not have the shape of the step's registered result: {to_text(e)}") from e


def _fails_alone(builder, check_mode, given, key, results):
    try:
        builder(check_mode, **dict(given, **{key: results[key]}))
    except (AttributeError, TypeError, ValueError):
        return True
    return False


class ActionModule(ReportAction):

    def run(self, tmp=None, task_vars=None):
        result, args, task_vars = self.start(tmp, task_vars, ARGUMENT_SPEC)
        tenant, section = tenant_name(args["tenant"]), args["section"]
        self.check_dest(args["dest"])
        check_mode = bool(self._task.check_mode)
        directory = run_directory(args["dest"], args["run_id"], check_mode)
        json_path = os.path.join(directory, tenant + ".json")
        markdown_path = os.path.join(directory, tenant + ".md")
        started, problem = parse_started_at(args["started_at"])
        results, failure = plain(args["results"]), plain(args["failure"])
        problems = ([problem] if problem else []) + option_problems(section, results, failure)
        if problems:
            raise AnsibleActionFail("; ".join(problems))

        record = build_record(section, check_mode, results, failure, markdown_path)
        finished = utc_now()
        record["started_at"] = args["started_at"]
        record["finished_at"] = _iso(finished)
        record["duration_seconds"] = int((finished - started).total_seconds())

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
