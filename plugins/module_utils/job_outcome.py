# -*- coding: utf-8 -*-
# Copyright (c) spo.user_profiles contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

"""What a job's end means for a run, decided in one place for every module that returns a job."""

from __future__ import annotations

from ansible_collections.spo.user_profiles.plugins.module_utils.job_api import TERMINAL_STATES, has_errors

FAILURE_MESSAGE_LOG_LINES = 5
OUTCOMES = ("running", "succeeded", "succeeded_with_failures", "failed")


def _entry_text(entry):
    return " ".join(part for part in (entry["code"], entry["identity"], entry["message"]) if part)


def failure_message(job, allowed_failures=0):
    """Why a finished job fails the task, or None when it does not."""
    if job.get("state") not in TERMINAL_STATES or not has_errors(job):
        return None
    failed = job.get("failed_count")
    if job.get("error") == "ImportCompleteWithError":
        if failed is not None and failed <= allowed_failures:
            return None
        if failed is None:
            count = "the number of failed users is unknown because the job's log was not read or could not be read"
        else:
            count = "%d failed users, more than allowed_failures (%d)" % (failed, allowed_failures)
    else:
        count = None
    parts = ["the job for %s ended in state %s with %s (%s)"
             % (job.get("source_uri"), job.get("state"), job.get("error"),
                job.get("error_meaning") or "no description known")]
    if job.get("error_message"):
        parts.append("service message: %s" % job["error_message"])
    if count:
        parts.append(count)
    entries = job.get("log_entries") or []
    if entries:
        parts.append("first log lines: %s" % " | ".join(_entry_text(entry) for entry in entries[:FAILURE_MESSAGE_LOG_LINES]))
    elif job.get("log_files") == [] or job.get("log_folder_uri") is None:
        parts.append("the job left no log")
    return "; ".join(parts)


def outcome(job, allowed_failures=0):
    """(outcome, message) of a job: one of OUTCOMES, and failure_message when it failed.

    running: not ended yet; succeeded: ended without errors; succeeded_with_failures: ended in ImportCompleteWithError
    with at most allowed_failures failed users; failed: anything else.
    """
    if job.get("state") not in TERMINAL_STATES:
        return "running", None
    message = failure_message(job, allowed_failures)
    if message:
        return "failed", message
    return ("succeeded_with_failures" if has_errors(job) else "succeeded"), None


def with_outcome(job, allowed_failures=0):
    """job plus its outcome and outcome_message (see outcome())."""
    decided, message = outcome(job, allowed_failures)
    return dict(job, outcome=decided, outcome_message=message)
