# -*- coding: utf-8 -*-
# Copyright (c) spo.user_profiles contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

"""Watching an import job: what this run observed of it (the service keeps no timestamps), and waiting for it
to end, or to appear in the job list at all.
"""

from __future__ import annotations

import datetime
import time

from ansible_collections.spo.user_profiles.plugins.module_utils.backoff import Backoff
from ansible_collections.spo.user_profiles.plugins.module_utils.errors import JobError, SpoError
from ansible_collections.spo.user_profiles.plugins.module_utils.job_api import (
    TERMINAL_STATES, find_job_by_source, get_job,
)

# Poll failures that say "try again later"; the job itself keeps running on the service.
RETRYABLE_POLL_STATUSES = (429, 500, 502, 503, 504)
DEFAULT_MAX_INTERVAL = 120
INTERVAL_GROWTH = 1.5
# How often the job list is read when the queue call answered Guid.Empty before giving up.
EMPTY_GUID_LOOKUPS = 5


class JobTimeoutError(JobError):
    """wait_for_job ran out of time; the job keeps running on the service."""

    # What a rerun does about the job, by how the run found it.
    RERUN_BY_SOURCE = "a rerun with the same source_uri waits for it instead of queueing another"
    RERUN_BY_ID = "a rerun with the same job_id waits for it again"

    def __init__(self, job, waited_seconds, timeout, rerun=RERUN_BY_SOURCE):
        self.waited_seconds = waited_seconds
        state = job.get("state") if job else None
        job_id = job.get("job_id") if job else None
        message = ("the job is still %s after waiting %s s (wait_timeout %s s); it keeps running on the service, and %s"
                   % (state or "not visible in the job list", _round(waited_seconds), timeout, rerun))
        super().__init__(job, message, code=state, operation="wait for import job %s" % job_id)


def utcnow():
    return datetime.datetime.now(datetime.timezone.utc)


def iso_time(moment):
    return moment.isoformat().replace("+00:00", "Z") if moment else None


def _round(seconds):
    return round(seconds, 1)


class Observation:
    """What this run saw of one job: when it queued it, first saw it, saw it finish, and each state change."""

    def __init__(self, now, queued=False):
        self.queued_at = now if queued else None
        self.first_seen_at = now
        self.finished_at = None
        self.watched_running = False
        self.history = []

    def record(self, job, now):
        if not self.history or self.history[-1]["state"] != job["state"]:
            self.history.append({"state": job["state"], "at": iso_time(now)})
        if job["state"] in TERMINAL_STATES:
            if self.watched_running and self.finished_at is None:
                self.finished_at = now
        else:
            self.watched_running = True

    def stamp(self, job, now):
        """job with queued_at, first_seen_at, finished_at, elapsed_seconds and history."""
        start = self.queued_at or (self.first_seen_at if self.finished_at else None)
        end = self.finished_at or now
        stamped = dict(job)
        stamped.update({
            "queued_at": iso_time(self.queued_at),
            "first_seen_at": iso_time(self.first_seen_at),
            "finished_at": iso_time(self.finished_at),
            "elapsed_seconds": _round((end - start).total_seconds()) if start else None,
            "history": list(self.history),
        })
        return stamped


def wait_for_job(client, job_id, timeout, poll_interval=15, max_interval=DEFAULT_MAX_INTERVAL,
                 clock=time.monotonic, sleep=time.sleep, progress=None, now=utcnow, observation=None,
                 rerun=JobTimeoutError.RERUN_BY_SOURCE, read=None):
    """Poll until the job is Succeeded or Error; the job, stamped with what was observed.

    `read` is the job as the caller has just read it, if it has: the first poll is then one interval later.

    The interval grows by INTERVAL_GROWTH per poll up to max_interval (a Backoff) and never sleeps past the deadline.
    A poll answered 429/5xx (after the client's own retries) is skipped, not fatal: the job keeps running.
    Raises JobTimeoutError (job id, last state, seconds waited; its message tells what a rerun does: `rerun`) when the
    deadline passes.
    """
    observation = observation or Observation(now())
    polls = Backoff(poll_interval, growth=INTERVAL_GROWTH, cap=max(poll_interval, max_interval), deadline=timeout,
                    clock=clock, sleep=sleep)
    last = None
    seen = False
    while True:
        try:
            if read is not None:
                # The job the caller has just read stands for the first poll: reading it again at once costs a request.
                job, read = read, None
            else:
                job = get_job(client, job_id)
        except SpoError as err:
            if err.status not in RETRYABLE_POLL_STATUSES:
                raise
        else:
            if job is None and seen:
                raise SpoError("import job %s disappeared from the service while it was being waited for" % job_id,
                               operation="wait for import job %s" % job_id)
            if job is not None:
                seen = True
                moment = now()
                observation.record(job, moment)
                last = observation.stamp(job, moment)
                if progress:
                    progress(last, polls.elapsed())
                if job["state"] in TERMINAL_STATES:
                    return last
        if not polls.wait():
            raise JobTimeoutError(last or {"job_id": job_id, "state": None}, polls.elapsed(), timeout, rerun)


def resolve_empty_job_id(client, source_uri, known_ids, poll_interval=15, sleep=time.sleep,
                         attempts=EMPTY_GUID_LOOKUPS):
    """The job the service started although the queue call answered Guid.Empty (pnp/powershell#2125).

    It is the newest job on source_uri that was not there before queueing; the list is read a few times
    because the job may show up late.
    """
    lookups = Backoff(poll_interval, growth=INTERVAL_GROWTH, cap=DEFAULT_MAX_INTERVAL, sleep=sleep)
    for attempt in range(attempts):
        job = find_job_by_source(client, source_uri, exclude_ids=known_ids)
        if job is not None:
            return job
        if attempt + 1 < attempts:
            lookups.wait()
    raise SpoError("the service answered an empty job id (Guid.Empty) and no new job for %s appeared in the job list "
                   "after %d lookups; the file may still be imported: run again later (an existing job is picked up) "
                   "or list the jobs with spo.user_profiles.upa_job_info" % (source_uri, attempts),
                   code="Guid.Empty", operation="queue import job for %s" % source_uri)
