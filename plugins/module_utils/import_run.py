# -*- coding: utf-8 -*-
# Copyright (c) spo.user_profiles contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

"""The run of an import (upa_import_job): queue a job per file (or find the one there is), wait for it and judge how
it ended.

A file's jobs are found through its job record (job_records.py), never by listing the tenant's job list.
"""

from __future__ import annotations

import contextlib
import time

from ansible_collections.spo.user_profiles.plugins.module_utils.backoff import Backoff
from ansible_collections.spo.user_profiles.plugins.module_utils.errors import JobError, SpoError
from ansible_collections.spo.user_profiles.plugins.module_utils.files import get_file
from ansible_collections.spo.user_profiles.plugins.module_utils.import_writer import DEFAULT_MAX_BYTES
from ansible_collections.spo.user_profiles.plugins.module_utils.job_api import (
    EMPTY_GUID, TERMINAL_STATES, ended_without_import, find_job_by_source, get_job, has_errors, id_type_code, job_line,
    queue_job,
)
from ansible_collections.spo.user_profiles.plugins.module_utils.job_records import job_mapping, read_record, write_record
from ansible_collections.spo.user_profiles.plugins.module_utils.job_log import DEFAULT_MAX_LOG_ENTRIES, with_log
from ansible_collections.spo.user_profiles.plugins.module_utils.job_outcome import with_outcome
from ansible_collections.spo.user_profiles.plugins.module_utils.job_wait import (
    DEFAULT_MAX_INTERVAL, JobTimeoutError, Observation, iso_time, resolve_empty_job_id, utcnow, wait_for_job,
)

# Queue calls that failed without a job to show for it are tried this many times in all, each after a pause.
QUEUE_ATTEMPTS = 3
QUEUE_SETTLE_SECONDS = 5


class JobFailedError(JobError):
    """A job ended in Error, or with more failed users than allowed."""

    def __init__(self, job, message):
        super().__init__(job, message, code=job.get("error"), operation="import job %s" % job.get("job_id"))


def _planned_job(source_uri):
    return {"job_id": None, "state": None, "state_code": None, "error": None, "error_code": None,
            "error_meaning": None, "error_message": None, "source_uri": source_uri, "log_folder_uri": None,
            "queued_at": None, "first_seen_at": None, "finished_at": None, "elapsed_seconds": None, "history": []}


def queue_job_once(client, id_type, id_property, property_map, source_uri, known_ids, sleep=time.sleep):
    """Queue a job on source_uri and return its id, never queueing the file twice for one call.

    A call that failed in a way that may have queued the job anyway (HTTP 500, a broken connection) is not simply
    sent again: the job list tells whether it made a job (one not in known_ids), and only when it did not is the call
    repeated, QUEUE_ATTEMPTS times in all. (Only then is the job list read: it is the one place a job the answer did
    not name can be found.)
    """
    pauses = Backoff(QUEUE_SETTLE_SECONDS, sleep=sleep)
    attempt = 1
    while True:
        try:
            return queue_job(client, id_type, id_property, property_map, source_uri)
        except SpoError as err:
            if not err.may_have_run:
                raise
            pauses.wait()  # a call the service is still running ends before the list is read
            made = find_job_by_source(client, source_uri, exclude_ids=known_ids)
            if made is not None:
                return made["job_id"]
            if attempt == QUEUE_ATTEMPTS:
                raise err.replace(message="%s; tried %d times, and the job list shows no new job on this file"
                                  % (err.message, attempt)) from err
        attempt += 1


def _check_source_file(client, record):
    """SpoError, before a job is queued on it, when the service could only fail the job: the file is missing, or
    larger than the service takes. (Such a job would end in Error and stay in the tenant's job list for good.)"""
    found = get_file(client, record.web_url, record.file_url)
    operation = "queue import job for %s" % record.source_uri
    if found is None:
        raise SpoError("there is no file at %s (looked for %s in the web %s), so the job would end in Error with "
                       "DataFileNotExist; upload the import file first (upa_import_file), nothing was queued"
                       % (record.source_uri, record.file_url, record.web_url), operation=operation)
    if found["length"] > DEFAULT_MAX_BYTES:
        raise SpoError("the file is %d bytes, more than the service imports from one file (%d), so the job would end in "
                       "Error with DataFileTooBig; nothing was queued" % (found["length"], DEFAULT_MAX_BYTES),
                       operation=operation)


class ImportRun:
    """Queue (or find) and wait for one job per source file, one after another, or follow a job queued earlier by its id
    (upa_import_job's job_id).

    A job that was waited for is judged (its outcome, and JobFailedError when that is a failure); with wait=False the
    last job is returned as queued or found, without a verdict: the caller leaves that to upa_job_info or a later
    upa_import_job call.
    """

    def __init__(self, client, id_type, id_property, property_map, force=False, wait=True, wait_timeout=3600,
                 poll_interval=15, max_interval=DEFAULT_MAX_INTERVAL, allowed_failures=0, check_mode=False,
                 max_log_entries=DEFAULT_MAX_LOG_ENTRIES, diff=False, clock=time.monotonic, sleep=time.sleep, now=utcnow):
        self.client = client
        self.want_diff = diff
        self.id_type = id_type
        self.id_property = id_property
        self.property_map = dict(property_map or {})
        self.force = force
        self.wait = wait
        self.wait_timeout = wait_timeout
        self.poll_interval = poll_interval
        self.max_interval = max_interval
        self.allowed_failures = allowed_failures
        self.check_mode = check_mode
        self.max_log_entries = max_log_entries
        self.clock = clock
        self.sleep = sleep
        self.now = now
        self.changed = False
        self.timed_out = False
        self.jobs = []
        self.would_queue = []
        self.diff = {"before": {}, "after": {}}

    def result(self):
        result = {"changed": self.changed, "jobs": self.jobs, "job": self.jobs[-1] if self.jobs else None,
                  "would_queue": self.would_queue, "timed_out": self.timed_out}
        if self.want_diff:
            result["diff"] = self.diff
        return result

    def run(self, source_uris):
        """The result dict; raises SpoError with its result (the jobs so far) on any failure."""
        id_type_code(self.id_type)
        with self._results_on_error():
            for index, source_uri in enumerate(source_uris):
                self._one(source_uri, must_wait=self.wait or index + 1 < len(source_uris))
        return self.result()

    def follow(self, job_id):
        """Wait for and judge a job queued earlier (unless wait=False), found by its id; nothing is queued.

        A job that has already ended in Error is reported, not queued again as a search by source file would.
        """
        with self._results_on_error():
            job = get_job(self.client, job_id)
            if job is None:
                raise SpoError("import job %s is not in the tenant's job list (deleted, or never queued)" % job_id,
                               operation="wait for import job %s" % job_id)
            self.diff["before"][job["source_uri"]] = [job_line(job)]
            observation, job = self._observed(job)
            if self.wait:
                job = self._wait(job, observation, JobTimeoutError.RERUN_BY_ID)
            self._conclude(job, job["source_uri"], [job], judge=self.wait)
        return self.result()

    @contextlib.contextmanager
    def _results_on_error(self):
        """Any SpoError raised inside again, with the jobs handled so far as its result."""
        try:
            yield
        except SpoError as err:
            job = err.job if isinstance(err, JobError) else None
            if job and all(job is not known for known in self.jobs):
                self.jobs.append(job)
            self.timed_out = isinstance(err, JobTimeoutError)
            raise err.replace(result=self.result()) from err

    def _one(self, source_uri, must_wait):
        if self.property_map and not self.id_property:
            raise SpoError("id_property is required to queue a job", operation="queue import job for %s" % source_uri)
        record = read_record(self.client, source_uri)
        if record.queueing_since:
            self._adopt_unrecorded_job(record)
        # Jobs the record names that the service no longer knows were deleted (retention): they are no one's to reuse.
        before = [job for job in (get_job(self.client, job_id) for job_id in record.job_ids) if job is not None]
        self.diff["before"][source_uri] = [job_line(job) for job in before]
        # Only a job queued with this run's mapping imported what this run asks for (job_records.py says why).
        same_mapping = set(record.job_ids_queued_with(self._mapping()))
        existing = None if self.force else next(
            (job for job in before if job["job_id"] in same_mapping and not ended_without_import(job)), None)
        # (In check mode the file may be one the check run of upa_import_file would have uploaded.)
        if existing is None and not self.check_mode:
            _check_source_file(self.client, record)
        if existing is None and self.check_mode:
            self._plan(source_uri, before)
            return
        if existing is not None:
            observation, job = self._observed(existing)
        else:
            observation, job = self._queue(record, must_wait)
        queued = existing is None
        self.diff["after"][source_uri] = [job_line(item) for item in ([job] if queued else []) + before]
        if must_wait:
            # A job only just queued has not been read yet (no state_code): wait_for_job reads it first thing.
            job = self._wait(job, observation, read=job.get("state_code") is not None)
        self._conclude(job, source_uri, ([job] if queued else []) + before, judge=must_wait)

    def _plan(self, source_uri, before):
        """Check mode: record the job that would be queued on the file."""
        self.changed = True
        self.would_queue.append({"source_uri": source_uri, "id_type": self.id_type, "id_property": self.id_property,
                                 "property_map": self.property_map})
        self.diff["after"][source_uri] = [job_line(job) for job in before] + ["(new job) Submitted"]
        self.jobs.append(_planned_job(source_uri))

    def _adopt_unrecorded_job(self, record):
        """A run stopped between queueing a job on the file and recording it (the record says since when it was
        queueing): the job list has the job, if the queue call made one; it goes into the record so that it is followed,
        not queued again."""
        found = find_job_by_source(self.client, record.source_uri, exclude_ids=set(record.job_ids))
        if found is None:
            return
        record.add(found["job_id"], record.queueing_since, record.queueing_mapping)
        if not self.check_mode:
            write_record(self.client, record)

    def _queue(self, record, must_wait):
        """Queue a job on the record's file and add it to the record: its Observation, and the job as known right after
        queueing. The record says it is queueing before the queue call (job_records.py says why)."""
        source_uri = record.source_uri
        observation = Observation(self.now(), queued=True)
        known = set(record.job_ids)
        record.queueing(iso_time(observation.queued_at), self._mapping())
        write_record(self.client, record)
        job_id = queue_job_once(self.client, self.id_type, self.id_property, self.property_map, source_uri, known,
                                sleep=self.sleep)
        self.changed = True
        if job_id == EMPTY_GUID:
            found = resolve_empty_job_id(self.client, source_uri, known, poll_interval=self.poll_interval, sleep=self.sleep)
        elif must_wait:
            found = dict(_planned_job(source_uri), job_id=job_id, state="Submitted")
        else:
            found = get_job(self.client, job_id) or dict(_planned_job(source_uri), job_id=job_id, state="Submitted")
        if found.get("state_code") is not None:
            observation.record(found, self.now())
        job = observation.stamp(found, self.now())
        record.add(job["job_id"], job["queued_at"], self._mapping())
        try:
            write_record(self.client, record)
        except SpoError as err:
            raise JobError(job, "import job %s was queued, but its record beside the file could not be written (%s); "
                           "a rerun finds the job in the job list and follows it" % (job["job_id"], err), operation=err.operation,
                           status=err.status, code=err.code, request_id=err.request_id) from err
        return observation, job

    def _mapping(self):
        return job_mapping(self.id_type, self.id_property, self.property_map)

    def _observed(self, job):
        """An Observation of a job this run did not queue, having read it once, and the job stamped with it."""
        observation = Observation(self.now())
        observation.record(job, self.now())
        return observation, observation.stamp(job, self.now())

    def _wait(self, job, observation, rerun=JobTimeoutError.RERUN_BY_SOURCE, read=True):
        """The job once it has ended (wait_for_job); as it is when it has already ended, or in check mode.

        `read`: whether `job` was just read from the service (False for a job only just queued, not read yet).
        """
        if job["state"] in TERMINAL_STATES or self.check_mode:
            return job
        return wait_for_job(self.client, job["job_id"], self.wait_timeout, self.poll_interval, self.max_interval,
                            clock=self.clock, sleep=self.sleep, now=self.now, observation=observation, rerun=rerun,
                            read=job if read else None)

    def _conclude(self, job, source_uri, listed, judge):
        """Record the job; when it was waited for (judge), read its log if it ended with errors, decide its outcome and
        fail when that is a failure.

        listed: the jobs on the file after this run, for the diff.
        """
        if judge and job["state"] in TERMINAL_STATES and has_errors(job):
            job = with_log(self.client, job, self.max_log_entries)
        if judge:
            job = with_outcome(job, self.allowed_failures)
        self.diff["after"][source_uri] = [job_line(item) for item in listed]
        self.jobs.append(job)
        if job.get("outcome") == "failed":
            raise JobFailedError(job, job["outcome_message"])
