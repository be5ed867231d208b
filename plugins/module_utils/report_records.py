# -*- coding: utf-8 -*-
# Copyright (c) spo.user_profiles contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

"""A tenant's report record, built once from what the modules returned.

The roles hand the registered results of their steps to the tenant_report action, which calls the builders here; the
combined report and the terminal table read the records back. Nothing here decides whether a job succeeded: that is
the ``outcome`` the modules return. This file only counts, orders and explains.
"""

from __future__ import annotations

import datetime
import os
import re

# A job is this run's when this run queued it; the outcomes a job can have (decided by the modules).
JOB_SUCCEEDED = ("succeeded", "succeeded_with_failures")
# How much of each list goes into a record: the report is for people, the modules' results hold the rest.
MAX_LISTED_USERS = 100
MAX_LOG_ENTRIES = 20

# The step of a role a failed task belongs to, by its action.
STEPS = {
    "assert": "validate",
    "upa_import_file": "upload",
    "upa_import_job": "queue",
    "upa_job_info": "wait",
    "fail": "outcome",
    "upa_import_baseline": "record baseline",
    "upa_retention": "clean up",
    "user_profile_property": "write per user",
    "profile_photo": "sync",
}

_HINTS = {
    "validate": "Fix the variable named above; nothing was sent to the tenant.",
    "upload": "Fix the source; nothing was uploaded and no job was queued.",
    "queue": "Run again once the cause is fixed: a job already queued for the same file is followed, not queued twice.",
    "wait": ("The job keeps running on the service; the next run waits for it instead of queueing it again. "
             "Raise bulk_import_wait_timeout if jobs often take longer."),
    "outcome": "The job's log lines are in the tenant report; the import file stays in the tenant for diagnosis.",
    "record baseline": ("The import itself is done; the baseline did not advance, so the next run sends these users "
                        "again."),
    "clean up": "The import itself is done; the clean-up runs again next time.",
    "write per user": "Fix the cause named above and run again: users already in sync are not written again.",
    "sync": "Fix the cause named above and run again: users already in sync are not sent again.",
}
_STATUS_HINTS = {
    403: ("Grant the app registration the permissions the README lists for this step (application permissions, "
          "with admin consent), then run again."),
    429: "The tenant is throttling this app: run again later, or with fewer tenants at once.",
    503: "The service is busy: run again later, or with fewer tenants at once.",
}
# A sign-in that failed, or a token the service refused (HTTP 401), by the credential the module signed in with (the
# `credential` of its failure, base.py). The tenant signed in to is spo_tenant_id, else spo_tenant's initial domain.
_SIGN_IN_HINTS = {
    "access_token": ("Give a new spo_access_token, issued for this tenant (spo_tenant, the inventory host name unless "
                     "set) and for the API named above: a given token is used as is, never renewed."),
    "certificate": ("Check spo_certificate_path (and spo_certificate_password), that its certificate is the one uploaded "
                    "to the app registration spo_client_id names, and the tenant signed in to: spo_tenant_id, else "
                    "<spo_tenant>.onmicrosoft.com (spo_tenant is the inventory host name unless set)."),
    "client_secret": ("Sign in with a certificate: set spo_certificate_path (with spo_client_id); SharePoint, which every "
                      "step calls, refuses tokens obtained with spo_client_secret."),
}
_NO_CREDENTIAL_HINT = ("Check the credential (spo_client_id with spo_certificate_path, or spo_access_token) and the "
                       "tenant: spo_tenant (the inventory host name unless set) or spo_tenant_id.")
# The queue call's refusal of targets the bulk API cannot take (the service's words: sp-dev-docs#7159, the bulk API
# doc): in the role, such properties are declared and written user by user after the import.
_REFUSED_TARGETS = re.compile(r"Property Names \[([^\]]*)\] are (Taxonomic Properties|editable by user)", re.IGNORECASE)
_REFUSED_TARGETS_HINT = ("Declare %s in bulk_import_%s and set bulk_import_write_per_user: true: the role then leaves "
                         "them out of the bulk import and writes them user by user after it.")
# A module that found a permission missing in the token stopped before changing anything (permissions.py).
_MISSING_PERMISSION_HINT = ("Grant the app registration the permission named above (an application permission of the "
                            "API named, with admin consent), then run again; this step changed nothing.")


# The module options a failure's message may name, by the role variable that sets each in a role's tasks: the hint
# names the variable, which is what a user of the role changes. Only names that read as options, not as words, and
# those in _LEADING_OPTIONS only where a message starts its problem with them ("site: ...", "photos[2]: ...").
_CONNECTION_OPTIONS = ("tenant_id", "client_id", "certificate_path", "certificate_password", "client_secret",
                       "access_token", "ca_path", "validate_certs", "max_retries", "timeout", "cloud")
_LEADING_OPTIONS = ("site", "src", "photos")
ROLE_VARIABLES = {
    "bulk_import": {
        "id_property": "bulk_import_id_property", "id_type": "bulk_import_id_type",
        "property_map": "bulk_import_property_map", "record_schema": "bulk_import_record_schema",
        "skip_invalid": "bulk_import_skip_invalid", "clear_missing": "bulk_import_clear_missing",
        "check_identities": "bulk_import_check_identities", "max_diff_users": "bulk_import_diff_users",
        "encoding": "bulk_import_encoding", "delimiter": "bulk_import_csv_delimiter",
        "multi_value_properties": "bulk_import_multi_value_properties",
        "multi_value_separator": "bulk_import_multi_value_separator",
        "allowed_failures": "bulk_import_allowed_failures", "wait_seconds": "bulk_import_wait_timeout",
        "older_than_days": "bulk_import_retention_days", "site": "bulk_import_site", "src": "bulk_import_src",
        "changes_file": "bulk_import_report_dir",
    },
    "profile_photos": {
        "src_dir": "profile_photos_src_dir", "name_format": "profile_photos_name_format",
        "thumbnail_sizes": "profile_photos_thumbnail_sizes", "graph_max_px": "profile_photos_graph_max_px",
        "jpeg_quality": "profile_photos_jpeg_quality", "exchange_sync_state": "profile_photos_exchange_sync_state",
        "archive_dir": "profile_photos_archive_dir", "fail_on_error": "profile_photos_fail_on_error",
        "photos": "profile_photos_list",
    },
}
# Both roles set the connection options from the host's spo_ variables (the connection_options lookup).
CONNECTION_VARIABLES = dict((option, "spo_" + option) for option in _CONNECTION_OPTIONS)


def _option_names(options):
    """A pattern finding these option names as words of their own: not inside bulk_import_property_map, and not as the
    name of a source field ("field 'tenant_id'")."""
    words = [name for name in options if name not in _LEADING_OPTIONS]
    leading = [name for name in options if name in _LEADING_OPTIONS]
    alternatives = ["(?:%s)(?![\\w-])" % "|".join(sorted(words, key=len, reverse=True))]
    if leading:
        alternatives.append("(?:%s)(?=[:\\[])" % "|".join(leading))
    return re.compile(r"(?<![\w-])(?<!field ')(%s)" % "|".join(alternatives))


# Per role: every variable behind an option (its own and the connection's), and the pattern finding those options.
_VARIABLES = dict((section, dict(options, **CONNECTION_VARIABLES)) for section, options in ROLE_VARIABLES.items())
_OPTION_NAMES = dict((section, _option_names(variables)) for section, variables in _VARIABLES.items())


def _role_variables_named(section, message, hint):
    """"In this role, property_map is bulk_import_property_map." for the options the message names whose variable the
    hint does not name already, or ""."""
    if section not in _VARIABLES:
        return ""
    variables = _VARIABLES[section]
    named = []
    for option in _OPTION_NAMES[section].findall(message):
        if option not in named and variables[option] not in (hint or ""):
            named.append(option)
    if not named:
        return ""
    return "In this role, %s." % ", ".join("%s is %s" % (option, variables[option]) for option in named)


def count_text(number, noun, plural=None):
    """"1 user", "2 users", "0 users": a count and its noun (the reports' lines are built from counts)."""
    return "%s %s" % (number, noun if number == 1 else plural or noun + "s")


def _short_action(action):
    return (action or "").rsplit(".", 1)[-1]


def _first_failed(result):
    """The failed result itself, or the first failed item of a failed loop."""
    for item in (result or {}).get("results") or ():
        if isinstance(item, dict) and item.get("failed"):
            return item
    return result or {}


def failure(task_name, action, result, report_path=None, section=None):
    """The error of a record: {step, task, message, hint} from the task that failed and its result; the hint names the
    variables of the role (`section`) that set the options the message names."""
    step = STEPS.get(_short_action(action), _short_action(action) or "unknown")
    failed = _first_failed(result)
    message = str(failed.get("msg") or "").strip()
    job = failed.get("job") or (failed.get("item") or {}).get("job") or {}
    if job.get("outcome") == "running":
        step = "wait"  # the job did not end within the wait: waiting is what ran out
    if not message:
        message = "the task failed without a message"
    hint = _STATUS_HINTS.get(failed.get("status")) or _HINTS.get(step)
    if failed.get("status") == 401 or (failed.get("operation") == "sign in" and failed.get("status") != 403):
        hint = _SIGN_IN_HINTS.get(failed.get("credential"), _NO_CREDENTIAL_HINT)
    if failed.get("error_code") == "MissingPermission":
        hint = _MISSING_PERMISSION_HINT
    refused = _REFUSED_TARGETS.search(message) if step == "queue" else None
    if refused:
        kind = "multi_value_properties" if refused.group(2).lower().startswith("taxonomic") else "user_editable_properties"
        hint = _REFUSED_TARGETS_HINT % (refused.group(1), kind)
    if step == "outcome" and report_path:
        hint = "%s (%s)" % (hint, report_path)
    variables = _role_variables_named(section, message, hint)
    if variables:
        hint = "%s %s" % (hint, variables) if hint else variables
    return {"step": step, "task": task_name or None, "message": message, "hint": hint,
            "status": failed.get("status"), "job_id": job.get("job_id")}


def failure_line(tenant, section, error):
    """The one message a person reads when a tenant failed: what failed, why, and what to do."""
    what = section.replace("_", " ")
    reason = error["message"].rstrip(".")
    return "%s: %s failed at step '%s': %s. %s" % (tenant, what, error["step"], reason, error["hint"] or "")


def _results(registered):
    """The per-item results of a registered loop (skipped or missing: none)."""
    if not isinstance(registered, dict):
        return []
    return [item for item in registered.get("results") or () if isinstance(item, dict)]


def _ran(registered):
    return isinstance(registered, dict) and bool(registered) and not registered.get("skipped")


def _parse_time(text):
    try:
        return datetime.datetime.fromisoformat(text.replace("Z", "+00:00"))
    except (AttributeError, ValueError):
        return None


def _times(queued_job, job):
    """(queued_at, finished_at, elapsed_seconds) of a job this run queued.

    A job that ended between two rounds of waiting was first seen ended at the start of the next round: that moment,
    at most a poll late, stands for its end.
    """
    queued_at = queued_job.get("queued_at")
    finished_at = job.get("finished_at")
    if finished_at is None and job.get("state") in ("Succeeded", "Error"):
        finished_at = job.get("first_seen_at")
    start, end = _parse_time(queued_at), _parse_time(finished_at)
    elapsed = round((end - start).total_seconds(), 1) if start and end else None
    return queued_at, finished_at, elapsed


def _job_entry(file_info, queued, waited):
    """One job of the report, from the file it imports, its queue step and its wait step."""
    queued_job = (queued or {}).get("job") or {}
    job = dict(queued_job)
    if _ran(waited) and waited.get("job"):
        job.update(waited["job"])
    queued_here = bool((queued or {}).get("changed"))
    queued_at, finished_at, elapsed = _times(queued_job, job) if queued_here else (None, None, None)
    records = int(file_info.get("records") or 0)
    outcome = job.get("outcome")
    if queued and queued.get("failed"):
        outcome = "failed"
    elif job.get("job_id") is None:
        outcome = "would_queue" if queued_here else outcome
    failed_count = job.get("failed_count")
    if outcome == "failed" and job.get("error") not in (None, "NoError", "ImportCompleteWithError"):
        failed_count = records  # the whole file failed (no import took place)
    return {
        "file": file_info.get("name"),
        "records": records,
        "job_id": job.get("job_id"),
        "queued_by_this_run": queued_here,
        "state": job.get("state"),
        "error": job.get("error"),
        "error_message": job.get("error_message"),
        "outcome": outcome,
        "queued_at": queued_at,
        "finished_at": finished_at,
        "elapsed_seconds": elapsed,
        "log_folder_uri": job.get("log_folder_uri"),
        "failed_count": int(failed_count or 0),
        "failed_by_reason": dict(job.get("counts") or {}),
        "failed_identities": list(job.get("failed_identities") or [])[:MAX_LISTED_USERS],
        "log_entries": list(job.get("log_entries") or [])[:MAX_LOG_ENTRIES],
    }


def _users(jobs):
    """Counts of users over this run's jobs; jobs found already done count as unchanged."""
    counts = {"submitted": 0, "imported": 0, "failed": 0, "unchanged": 0, "failed_by_reason": {}}
    for job in jobs:
        if not job["queued_by_this_run"]:
            if job["outcome"] in JOB_SUCCEEDED:
                counts["unchanged"] += max(job["records"] - job["failed_count"], 0)
            continue
        if job["job_id"] is None:
            continue  # check mode: would be submitted
        counts["submitted"] += job["records"]
        counts["failed"] += job["failed_count"]
        if job["outcome"] in JOB_SUCCEEDED:
            counts["imported"] += max(job["records"] - job["failed_count"], 0)
        for reason, number in job["failed_by_reason"].items():
            counts["failed_by_reason"][reason] = counts["failed_by_reason"].get(reason, 0) + int(number)
    return counts


def _per_user(registered):
    """What the writes user by user did (user_profile_property's result), or None when they did not run."""
    if not _ran(registered) or not isinstance(registered.get("summary"), dict):
        return None
    summary = registered["summary"]
    return {
        "users": dict((key, int(summary.get(key, 0))) for key in ("total", "changed", "unchanged", "failed")),
        "written": int(summary.get("written", 0)),
        "failures": [{"user": item.get("user"), "error": item.get("error")} for item in registered.get("users") or ()
                     if isinstance(item, dict) and item.get("error")][:MAX_LISTED_USERS],
    }


def _bulk_outcome(check_mode, error, files, jobs, users, per_user):
    if error:
        return "failed"
    per_user = per_user or {"users": {"changed": 0, "failed": 0}}
    if check_mode:
        would = any(item.get("uploaded") for item in files) or any(job["outcome"] == "would_queue" for job in jobs)
        return "would_import" if would or per_user["users"]["changed"] else "unchanged"
    if not any(job["queued_by_this_run"] for job in jobs) and not per_user["users"]["changed"]:
        return "unchanged"
    return "imported_with_failures" if users["failed"] or per_user["users"]["failed"] else "imported"


def _bulk_summary(outcome, files, jobs, users, per_user):
    parts = [_jobs_summary(outcome, files, jobs, users)]
    if per_user and (per_user["users"]["changed"] or per_user["users"]["failed"]):
        parts = [part for part in parts if part not in ("-", "would import 0 users")]
        parts.append("%d %s user by user" % (per_user["users"]["changed"],
                                             "would be written" if outcome == "would_import" else "written"))
        if per_user["users"]["failed"]:
            parts[-1] += ", %d failed" % per_user["users"]["failed"]
    return "; ".join(parts)


def _jobs_summary(outcome, files, jobs, users):
    if outcome == "would_import":
        would_queue = {job["file"] for job in jobs if job["outcome"] == "would_queue"}
        records = sum(int(item.get("records") or 0) for item in files
                      if item.get("uploaded") or item.get("name") in would_queue)
        return "would import %s" % count_text(records, "user")
    if outcome == "unchanged":
        return "unchanged (%s)" % count_text(users["unchanged"], "user") if users["unchanged"] else "unchanged"
    if users["submitted"]:
        text = "%d imported" % users["imported"]
        if users["failed"]:
            text += ", %d failed" % users["failed"]
        return text
    return "-"


def _delta(upload, baseline):
    """What the delta sent and the baseline recorded: counts, the users listed, the full list's file; None without."""
    delta = upload.get("delta")
    if not isinstance(delta, dict):
        return None
    changes_file = delta.get("changes_file")
    recorded = baseline if _ran(baseline) and not baseline.get("failed") else None
    return {
        "baseline": dict(delta.get("baseline") or {}),
        "counts": dict(delta.get("counts") or {}),
        "users": list(delta.get("users") or [])[:MAX_LISTED_USERS],
        "users_listed_all": bool(delta.get("users_listed_all")),
        "changes_file": os.path.basename(changes_file) if changes_file else None,
        "recorded": None if recorded is None else {"counts": dict(recorded.get("counts") or {}),
                                                   "users": (recorded.get("baseline") or {}).get("users"),
                                                   "not_recorded": list(recorded.get("not_recorded") or [])[:MAX_LISTED_USERS]},
    }


def bulk_import(check_mode, source, upload=None, queue=None, wait=None, retention=None, per_user=None, baseline=None,
                error=None):
    """The bulk_import section: files, jobs, user counts, delta, writes user by user, clean-up and error, from the role's
    registered results.

    `queue` and `wait` are registered loops over the files (the wait loop over the queue results); `per_user` is
    user_profile_property's result, `baseline` upa_import_baseline's.
    """
    upload = upload if _ran(upload) else {}
    files = [dict(name=item.get("name"), records=item.get("records"), uploaded=item.get("uploaded"))
             for item in upload.get("files") or ()]
    queued = {(item.get("item") or {}).get("name"): item for item in _results(queue) if not item.get("skipped")}
    waited = {}
    for item in _results(wait):
        source_item = item.get("item") or {}
        waited[(source_item.get("item") or {}).get("name")] = item
    jobs = [_job_entry(item, queued[item["name"]], waited.get(item["name"]))
            for item in upload.get("files") or () if item.get("name") in queued]
    users = _users(jobs)
    per_user = _per_user(per_user)
    delta = _delta(upload, baseline)
    if delta:
        users["unchanged"] += int(delta["counts"].get("unchanged") or 0)
    outcome = _bulk_outcome(check_mode, error, files, jobs, users, per_user)
    retention = retention if _ran(retention) and not retention.get("failed") else None
    return {
        "outcome": outcome,
        "summary": _bulk_summary(outcome, files, jobs, users, per_user),
        "source": source,
        "records": upload.get("records"),
        "properties": upload.get("properties"),
        "ignored_fields": list(upload.get("ignored_fields") or []),
        "problems": list(upload.get("problems") or (error or {}).get("problems") or []),
        "left_out": list(upload.get("left_out") or [])[:MAX_LISTED_USERS],
        "left_out_count": int(upload.get("left_out_count") or 0),
        "delta": delta,
        "files": files,
        "jobs": jobs,
        "users": users,
        "per_user": per_user,
        "retention": None if retention is None else {
            "removed_files": list(retention.get("removed_files") or []),
            "removed_log_folders": list(retention.get("removed_log_folders") or []),
            "removed_jobs": list(retention.get("removed_jobs") or []),
            "protected": list(retention.get("protected") or []),
        },
        "error": error,
    }


def profile_photos(check_mode, sync=None, error=None):
    """The profile_photos section from the profile_photo result (also when it failed part-way)."""
    sync = sync if _ran(sync) else {}
    users = [item for item in sync.get("users") or () if isinstance(item, dict)]
    summary = dict(sync.get("summary") or {})
    counts = {
        "total": int(summary.get("total", len(users))),
        "changed": int(summary.get("changed", sum(1 for item in users if item.get("changed")))),
        "unchanged": int(summary.get("unchanged", 0)),
        "failed": int(summary.get("failed", sum(1 for item in users if item.get("action") == "failed"))),
    }
    if error:
        outcome = "failed"
    elif check_mode:
        outcome = "would_sync" if counts["changed"] else "unchanged"
    elif counts["failed"]:
        outcome = "synced_with_failures"
    else:
        outcome = "synced" if counts["changed"] else "unchanged"
    if outcome in ("unchanged",):
        text = "unchanged (%s)" % count_text(counts["total"], "user")
    elif outcome == "would_sync":
        text = "would change %d of %s" % (counts["changed"], count_text(counts["total"], "user"))
    else:
        text = "%d changed" % counts["changed"] + (", %d failed" % counts["failed"] if counts["failed"] else "")
    return {
        "outcome": outcome,
        "summary": text,
        "users": counts,
        "changed_users": [item.get("user") for item in users if item.get("changed")][:MAX_LISTED_USERS],
        "failures": [{"user": item.get("user"), "path": item.get("path"), "error": item.get("error")}
                     for item in users if item.get("action") == "failed"][:MAX_LISTED_USERS],
        "manifest_written": bool(sync.get("manifest_written")),
        "error": error,
    }


def table_row(tenant, section, record):
    """The compact row of the terminal table: tenant, section, outcome, changes, error."""
    error = record.get("error") or {}
    text = ("%s: %s" % (error.get("step"), error.get("message"))) if error else ""
    return {"tenant": tenant, "section": section, "outcome": record.get("outcome"), "changes": record.get("summary"),
            "error": text}
