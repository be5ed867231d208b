# -*- coding: utf-8 -*-
# Copyright (c) spo.user_profiles contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The reports as people read them: a tenant's Markdown summary, the combined Markdown table and the terminal table.

The records themselves are built by module_utils/report_records.py; this file only lays them out.
"""

from __future__ import annotations

from ansible_collections.spo.user_profiles.plugins.module_utils.report_records import count_text

SECTION_TITLES = {"bulk_import": "Bulk import", "profile_photos": "Profile photos"}
SECTION_LABELS = {"bulk_import": "properties", "profile_photos": "photos"}
# The terminal table fits in 100 columns: tenant, sync, outcome, changes (each at most this wide), and what is left
# for the error.
TABLE_WIDTHS = (18, 10, 22, 22)
TABLE_WIDTH = 99


def _one_line(value):
    return " ".join(str(value or "").split())


def _cell(value):
    """A Markdown table cell: one line, pipes escaped."""
    text = "" if value is None else str(value)
    return " ".join(text.split()).replace("|", "\\|")


def _words(outcome):
    """imported_with_failures -> imported with failures."""
    return (outcome or "").replace("_", " ")


def _fit(text, width):
    text = _one_line(text)
    return text if len(text) <= width else text[:width - 1] + "…"


def _problem_text(problem):
    """"record 3, line 4, field 'mail': why" from a problem of upa_import_file."""
    where = ["%s %s" % (key, problem[key]) for key in ("record", "line") if problem.get(key) is not None]
    if problem.get("field") is not None:
        where.append("field %r" % problem["field"])
    return "%s%s" % (", ".join(where) + ": " if where else "", problem.get("message"))


def _bulk_import(lines, record, check_mode=False):
    lines.append("- Source: `%s`" % record.get("source"))
    if record.get("records") is not None:
        # upa_import_file's counts: what went into the import files (with a delta, only the users that changed).
        lines.append("- Import files: %s, %s (ids included)" % (
            count_text(record["records"], "user"), count_text(record.get("properties"), "name/value pair")))
    if record.get("ignored_fields"):
        lines.append("- Source fields not mapped (left out): %s" % ", ".join(record["ignored_fields"]))
    users = record.get("users") or {}
    lines.append("- Users submitted %s, imported %s, failed %s, already imported before this run %s" % (
        users.get("submitted", 0), users.get("imported", 0), users.get("failed", 0), users.get("unchanged", 0)))
    for reason, count in sorted((users.get("failed_by_reason") or {}).items()):
        lines.append("  - %s: %s" % (reason, count))
    per_user = record.get("per_user")
    if per_user:
        counts = per_user.get("users") or {}
        lines.append("- Written user by user: %s changed (%s), %s unchanged, %s failed" % (
            count_text(counts.get("changed", 0), "user"), count_text(per_user.get("written", 0), "property", "properties"),
            counts.get("unchanged", 0), counts.get("failed", 0)))
        for item in per_user.get("failures") or ():
            lines.append("  - %s: %s" % (_cell(item.get("user")), _cell(item.get("error"))))
    if record.get("delta"):
        _delta(lines, record["delta"])
    if record.get("left_out"):
        lines.append("- Left out of the file (%d): %s" % (record.get("left_out_count", 0), "; ".join(
            "%s: %s" % (item.get("id"), item.get("reason")) for item in record["left_out"])))
    retention = record.get("retention")
    if retention:
        lines.append("- Clean-up: %s, %s and %s %s" % (
            count_text(len(retention.get("removed_files") or ()), "old file"),
            count_text(len(retention.get("removed_log_folders") or ()), "log folder"),
            count_text(len(retention.get("removed_jobs") or ()), "job record"),
            "would be removed" if check_mode else "removed"))
    if record.get("files"):
        lines += ["", "| File | Records | Uploaded |", "|---|---:|---|"]
        for item in record["files"]:
            # In check mode the module says what it would do: a file is never uploaded then.
            uploaded = ("would be" if check_mode else "yes") if item.get("uploaded") else "no (already there)"
            lines.append("| %s | %s | %s |" % (_cell(item.get("name")), _cell(item.get("records")), uploaded))
    if record.get("jobs"):
        lines += ["", "| Job | File | Queued by this run | State | Outcome | Queued at | Finished at | Seconds | Failed users |",
                  "|---|---|---|---|---|---|---|---:|---:|"]
        for job in record["jobs"]:
            lines.append("| %s |" % " | ".join(_cell(value) for value in (
                job.get("job_id") or "(would be queued)", job.get("file"), "yes" if job.get("queued_by_this_run") else "no",
                job.get("state"), job.get("outcome"), job.get("queued_at"), job.get("finished_at"),
                job.get("elapsed_seconds"), job.get("failed_count"))))
    entries = [entry for job in record.get("jobs") or () for entry in job.get("log_entries") or ()]
    if entries:
        lines += ["", "Job log (first %d lines):" % len(entries), "", "| Identity | Reason | Message |", "|---|---|---|"]
        for entry in entries:
            lines.append("| %s | %s | %s |" % (_cell(entry.get("identity")), _cell(entry.get("code")),
                                               _cell(entry.get("message"))))
    if record.get("problems"):
        lines += ["", "Problems in the source (first %d):" % len(record["problems"]), ""]
        for problem in record["problems"]:
            lines.append("- %s" % _cell(_problem_text(problem)))


def _delta(lines, delta):
    counts = delta.get("counts") or {}
    baseline = delta.get("baseline") or {}
    against = ("the baseline of %s" % count_text(baseline.get("users"), "user") if baseline.get("status") == "used"
               else "no baseline (%s)" % (baseline.get("message") or "every user sent"))
    statuses = ("added", "changed", "cleared", "unchanged", "left_out", "not_in_source")
    lines.append("- Delta against %s: %s" % (against, ", ".join(
        "%s %s" % (counts.get(key, 0), key.replace("_", " ")) for key in statuses)))
    recorded = delta.get("recorded")
    if recorded:
        lines.append("- Baseline recorded: %s, %s with new values, %s to be sent again" % (
            count_text(recorded.get("users"), "user"), (recorded.get("counts") or {}).get("recorded", 0),
            (recorded.get("counts") or {}).get("not_recorded", 0)))
    changed = [entry for entry in delta.get("users") or () if entry.get("status") != "left_out"]
    if changed:
        lines += ["", "| User | Change | Property | Before | After |", "|---|---|---|---|---|"]
        for entry in changed:
            for target, change in sorted((entry.get("properties") or {}).items()):
                lines.append("| %s |" % " | ".join(_cell(value) for value in (
                    entry.get("id"), entry.get("status"), target, change.get("before"), change.get("after"))))
        if not delta.get("users_listed_all"):
            lines.append("")
            lines.append("Only the first users are listed%s." % (
                "; every one is in `%s`" % delta["changes_file"] if delta.get("changes_file") else ""))
        lines.append("")


def _profile_photos(lines, record):
    users = record.get("users") or {}
    lines.append("- Users %s, changed %s, unchanged %s, failed %s" % (
        users.get("total", 0), users.get("changed", 0), users.get("unchanged", 0), users.get("failed", 0)))
    if record.get("failures"):
        lines += ["", "| User | Error |", "|---|---|"]
        for item in record["failures"]:
            lines.append("| %s | %s |" % (_cell(item.get("user") or item.get("path")), _cell(item.get("error"))))


def tenant_markdown(report):
    """The Markdown summary of one tenant's report of one run."""
    lines = ["# Tenant %s" % report["tenant"], "",
             "Run `%s`%s." % (report["run_id"], " (check mode: nothing was changed)" if report.get("check_mode") else "")]
    for section, record in sorted(report.get("sections", {}).items()):
        lines += ["", "## %s: %s" % (SECTION_TITLES.get(section, section), _words(record.get("outcome"))), "",
                  "- Started %s, finished %s (%s s)" % (
                      record.get("started_at"), record.get("finished_at"), record.get("duration_seconds")),
                  "- Result: %s" % record.get("summary")]
        if section == "bulk_import":
            _bulk_import(lines, record, check_mode=bool(report.get("check_mode")))
        elif section == "profile_photos":
            _profile_photos(lines, record)
        error = record.get("error")
        if error:
            lines += ["", "**Failed at step `%s`**: %s" % (error.get("step"), _cell(error.get("message"))), "",
                      "What to do: %s" % error.get("hint")]
    return "\n".join(lines) + "\n"


def combined_markdown(combined):
    """The Markdown table across the tenants of one run."""
    lines = ["# SharePoint user profile sync, run `%s`%s" % (
        combined["run_id"], " (check mode: nothing was changed)" if combined.get("check_mode") else ""), "",
        "%d %s, written %s." % (len(combined["tenants"]), "tenant" if len(combined["tenants"]) == 1 else "tenants",
                                combined["generated_at"]), "",
        "| Tenant | Sync | Outcome | Changes | Error |", "|---|---|---|---|---|"]
    for row in combined["rows"]:
        lines.append("| %s |" % " | ".join(_cell(value) for value in (
            row["tenant"], SECTION_LABELS.get(row["section"], row["section"]), _words(row["outcome"]), row["changes"],
            row["error"])))
    return "\n".join(lines) + "\n"


def terminal_table(rows):
    """The compact table for the terminal: one line a tenant and job, at most 99 characters.

    Each column is as wide as its longest cell, up to TABLE_WIDTHS, so that the error keeps the rest of the line: a
    failed tenant's row (outcome "failed", no changes) shows most of its message, not only its first words.
    """
    head = ("Tenant", "Sync", "Outcome", "Changes")
    lines = [(head, "Error")] + [((row["tenant"], SECTION_LABELS.get(row["section"], row["section"]),
                                   _words(row["outcome"]), row["changes"]), row["error"]) for row in rows]
    widths = [min(limit, max(len(_one_line(values[column])) for values, _error in lines))
              for column, limit in enumerate(TABLE_WIDTHS)]
    error_width = TABLE_WIDTH - sum(widths) - len(widths)

    def line(values, error):
        cells = [_fit(value, width).ljust(width) for value, width in zip(values, widths)]
        return (" ".join(cells) + " " + _fit(error, error_width)).rstrip()

    return [line(values, error) for values, error in lines]
