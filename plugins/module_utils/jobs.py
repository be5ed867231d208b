# -*- coding: utf-8 -*-
# Copyright (c) spo.user_profiles contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

"""Bulk import jobs: queue, get, list, delete, wait, and read the job's log.

The Office365Tenant methods go through CSOM ProcessQuery on the admin host (the form PnP PowerShell and
.NET CSOM use). The service gives no timestamps, so the ones returned here are the times this run observed.
"""

from __future__ import annotations

import codecs
import contextlib
import datetime
import re
import time
from urllib.parse import unquote, urlsplit

from ansible_collections.spo.user_profiles.plugins.module_utils import files
from ansible_collections.spo.user_profiles.plugins.module_utils.csom import (
    OFFICE365_TENANT_TYPE_ID, CsomRequest, Enum, Guid, execute,
)
from ansible_collections.spo.user_profiles.plugins.module_utils.errors import JobError, SpoError

ID_TYPES = {"email": 0, "cloud_id": 1, "principal_name": 2}

JOB_STATES = {0: "Unknown", 1: "Submitted", 2: "Processing", 3: "Queued", 4: "Succeeded", 5: "Error", 99: "WontStart"}
JOB_ERRORS = {0: "NoError", 1: "InternalError", 20: "DataFileNotExist", 21: "DataFileNotInTenant",
              22: "DataFileTooBig", 23: "InvalidDataFile", 30: "ImportCompleteWithError"}
TERMINAL_STATES = ("Succeeded", "Error")

ERROR_MEANINGS = {
    "NoError": "no error",
    "InternalError": "the service failed while processing the job; queue it again later",
    "DataFileNotExist": "the source file was not found (it must stay in place until the job has run)",
    "DataFileNotInTenant": "the source file is in another tenant",
    "DataFileTooBig": "the source file is larger than 2 GB or has more than 500,000 properties",
    "InvalidDataFile": "the source file failed validation; the log has the details",
    "ImportCompleteWithError": "the import ran, but some users or values failed; the log names them",
}

LOG_CODE_MEANINGS = {
    "IdentityNotResolvable": "no profile matches this identity (unknown user, or a user who never signed in)",
    "MissingIdentity": "a record has no value in the id property",
    "InvalidProperty": "a property in the file is not in the property map, or cannot be imported",
    "DataFileNotJson": "the file is not valid JSON (line and position given)",
}

EMPTY_GUID = "00000000-0000-0000-0000-000000000000"

# Poll failures that say "try again later"; the job itself keeps running on the service.
RETRYABLE_POLL_STATUSES = (429, 500, 502, 503, 504)
DEFAULT_MAX_INTERVAL = 120
# Queue calls that failed without a job to show for it are tried this many times in all, each after a pause.
QUEUE_ATTEMPTS = 3
QUEUE_SETTLE_SECONDS = 5
INTERVAL_GROWTH = 1.5
# How often the job list is read when the queue call answered Guid.Empty before giving up.
EMPTY_GUID_LOOKUPS = 5
DEFAULT_MAX_LOG_ENTRIES = 1000
FAILURE_MESSAGE_LOG_LINES = 5

_NOT_FOUND = re.compile(r"does not exist|not found|cannot be found|no such", re.IGNORECASE)
_SITE_PATH = re.compile(r"^(/(?:sites|teams)/[^/]+)(?:/|$)", re.IGNORECASE)
_TIMESTAMP = re.compile(
    r"^\s*[\[(]?(?:\d{4}-\d{2}-\d{2}[T ]\d{1,2}:\d{2}(?::\d{2}(?:[.,]\d+)?)?(?:\s?(?:Z|UTC|[+-]\d{2}:?\d{2}))?"
    r"|\d{1,2}/\d{1,2}/\d{2,4}\s+\d{1,2}:\d{2}(?::\d{2})?(?:\s?[AP]M)?)[\])]?\s*(?:[-|,;:]\s*)?",
    re.IGNORECASE)
_LEVEL = re.compile(r"^[\[(]?(?:error|warning|warn|info)[\])]?\s*(?:[-|:]\s*)?(?=\S)", re.IGNORECASE)
# A log code is one CamelCase word with at least two humps (IdentityNotResolvable, DataFileNotJson).
_CODE = re.compile(r"^([A-Z][a-z0-9]+(?:[A-Z][A-Za-z0-9]*)+)(?=$|[\s\-:|,;])")
_SEPARATOR = re.compile(r"^\s*(?:[-:|;,]\s*)?")
_GUID_TEXT = re.compile(r"^\{?[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}\}?$")
_EMAIL_IN_TEXT = re.compile(r"[^\s'\"<>()\[\],;:@]+@[^\s'\"<>()\[\],;:@]+\.[^\s'\"<>()\[\],;:@.]+")
_IDENTITY_TRIM = "'\"<>[](),;"
# Codes about the whole file: they name no user.
_FILE_CODES = ("DataFileNotJson",)


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


class JobFailedError(JobError):
    """A job ended in Error, or with more failed users than allowed."""

    def __init__(self, job, message):
        super().__init__(job, message, code=job.get("error"), operation="import job %s" % job.get("job_id"))


def _utcnow():
    return datetime.datetime.now(datetime.timezone.utc)


def _iso(moment):
    return moment.isoformat().replace("+00:00", "Z") if moment else None


def _round(seconds):
    return round(seconds, 1)


def _operation_guid(job_id):
    try:
        return Guid(job_id)
    except (ValueError, TypeError, AttributeError):
        raise SpoError("job_id %r is not a GUID" % (job_id,), operation="import job")


def _enum(value, table):
    """(name, code) of an enum value the service sent as a number or as a name."""
    if isinstance(value, bool):
        value = int(value)
    if isinstance(value, int):
        return table.get(value, "Unknown%d" % value), value
    if isinstance(value, str) and value:
        if value.lstrip("-").isdigit():
            return _enum(int(value), table)
        for code, name in table.items():
            if name.lower() == value.lower():
                return name, code
        return value, None
    return None, None


def normalize_job(raw):
    """A job as the modules return it, from an ImportProfilePropertiesJobInfo object."""
    state, state_code = _enum(raw.get("State"), JOB_STATES)
    error, error_code = _enum(raw.get("Error"), JOB_ERRORS)
    job_id = raw.get("JobId")
    return {
        "job_id": str(job_id).strip("{}").lower() if job_id else None,
        "state": state,
        "state_code": state_code,
        "error": error,
        "error_code": error_code,
        "error_meaning": ERROR_MEANINGS.get(error),
        "error_message": raw.get("ErrorMessage") or None,
        "source_uri": raw.get("SourceUri"),
        "log_folder_uri": raw.get("LogFolderUri") or None,
    }


def id_type_code(id_type):
    """0, 1 or 2 from email / cloud_id / principal_name (also the CSOM names Email / CloudId / PrincipalName)."""
    if isinstance(id_type, int) and not isinstance(id_type, bool) and id_type in ID_TYPES.values():
        return id_type
    key = re.sub(r"(?<=[a-z])(?=[A-Z])", "_", str(id_type)).lower()
    if key not in ID_TYPES:
        raise SpoError("id_type must be one of %s, got %r" % (", ".join(ID_TYPES), id_type), operation="queue import job")
    return ID_TYPES[key]


def queue_job(client, id_type, id_property, property_map, source_uri):
    """Office365Tenant.QueueImportProfileProperties; the job id (lower case), possibly EMPTY_GUID."""
    request = CsomRequest()
    tenant = request.constructor(OFFICE365_TENANT_TYPE_ID)
    request.object_path(tenant)
    action = request.call(tenant, "QueueImportProfileProperties",
                          [Enum(id_type_code(id_type)), id_property, dict(property_map), source_uri])
    # Not retried when it may have run: a second call would queue a second import of the same file.
    results = execute(client, request, "queue import job for %s" % source_uri, idempotent=False)
    job_id = results.get(action)
    if not isinstance(job_id, str) or not _GUID_TEXT.match(job_id):
        raise SpoError("the service answered %r instead of a job id" % (job_id,), operation="queue import job for %s" % source_uri)
    return job_id.strip("{}").lower()


def get_job(client, job_id):
    """Office365Tenant.GetImportProfilePropertyJob; None when the service knows no such job."""
    request = CsomRequest()
    tenant = request.constructor(OFFICE365_TENANT_TYPE_ID)
    path = request.method_path(tenant, "GetImportProfilePropertyJob", [_operation_guid(job_id)])
    instance = request.object_path(path)
    query = request.query(path)
    try:
        results = execute(client, request, "get import job %s" % job_id)
    except SpoError as err:
        # A CSOM ErrorInfo (HTTP 200) saying the job does not exist; transport errors carry a status.
        if err.status is None and _NOT_FOUND.search(err.message or ""):
            return None
        raise
    if isinstance(results.get(instance), dict) and results[instance].get("IsNull"):
        return None
    raw = results.get(query)
    if not isinstance(raw, dict):
        return None
    job = normalize_job(raw)
    if job["job_id"] in (None, EMPTY_GUID):
        return None
    return job


def list_jobs(client):
    """Office365Tenant.GetImportProfilePropertyJobs, in the service's order (newest first)."""
    request = CsomRequest()
    tenant = request.constructor(OFFICE365_TENANT_TYPE_ID)
    path = request.method_path(tenant, "GetImportProfilePropertyJobs")
    request.object_path(path)
    query = request.query(path, child_items=True)
    results = execute(client, request, "list import jobs")
    collection = results.get(query)
    if isinstance(collection, dict):
        items = collection.get("_Child_Items_") or []
    elif isinstance(collection, list):
        items = collection
    else:
        items = []
    return [normalize_job(item) for item in items if isinstance(item, dict)]


def delete_job(client, job_id):
    """Office365Tenant.DeleteImportProfilePropertiesJob; the service's boolean answer."""
    request = CsomRequest()
    tenant = request.constructor(OFFICE365_TENANT_TYPE_ID)
    request.object_path(tenant)
    action = request.call(tenant, "DeleteImportProfilePropertiesJob", [_operation_guid(job_id)])
    results = execute(client, request, "delete import job %s" % job_id)
    return bool(results.get(action))


def same_source(left, right):
    """Whether two source URIs name the same file (host and path compared case-insensitively, decoded)."""
    if not left or not right:
        return False

    def key(uri):
        parts = urlsplit(uri.strip())
        return parts.scheme.lower(), parts.netloc.lower(), unquote(parts.path).rstrip("/").casefold()
    return key(left) == key(right)


def jobs_for_source(jobs, source_uri):
    return [job for job in jobs if same_source(job.get("source_uri"), source_uri)]


def find_job_by_source(client, source_uri, exclude_ids=(), skip_states=(), jobs=None):
    """The newest job on source_uri whose id is not excluded and whose state is not skipped, or None."""
    if jobs is None:
        jobs = list_jobs(client)
    for job in jobs_for_source(jobs, source_uri):
        if job["job_id"] in exclude_ids or job["state"] in skip_states:
            continue
        return job
    return None


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
            self.history.append({"state": job["state"], "at": _iso(now)})
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
            "queued_at": _iso(self.queued_at),
            "first_seen_at": _iso(self.first_seen_at),
            "finished_at": _iso(self.finished_at),
            "elapsed_seconds": _round((end - start).total_seconds()) if start else None,
            "history": list(self.history),
        })
        return stamped


def wait_for_job(client, job_id, timeout, poll_interval=15, max_interval=DEFAULT_MAX_INTERVAL,
                 clock=time.monotonic, sleep=time.sleep, progress=None, now=_utcnow, observation=None,
                 rerun=JobTimeoutError.RERUN_BY_SOURCE, read=None):
    """Poll until the job is Succeeded or Error; the job, stamped with what was observed.

    `read` is the job as the caller has just read it, if it has: the first poll is then one interval later.

    The interval grows by INTERVAL_GROWTH per poll up to max_interval and never sleeps past the deadline.
    A poll answered 429/5xx (after the client's own retries) is skipped, not fatal: the job keeps running.
    Raises JobTimeoutError (job id, last state, seconds waited; its message tells what a rerun does: `rerun`) when the
    deadline passes.
    """
    observation = observation or Observation(now())
    max_interval = max(poll_interval, max_interval)
    interval = poll_interval
    start = clock()
    deadline = start + timeout
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
                    progress(last, clock() - start)
                if job["state"] in TERMINAL_STATES:
                    return last
        remaining = deadline - clock()
        if remaining <= 0:
            raise JobTimeoutError(last or {"job_id": job_id, "state": None}, clock() - start, timeout, rerun)
        sleep(min(interval, remaining))
        interval = min(interval * INTERVAL_GROWTH, max_interval)


def resolve_empty_job_id(client, source_uri, known_ids, poll_interval=15, sleep=time.sleep,
                         attempts=EMPTY_GUID_LOOKUPS):
    """The job the service started although the queue call answered Guid.Empty (pnp/powershell#2125).

    It is the newest job on source_uri that was not there before queueing; the list is read a few times
    because the job may show up late.
    """
    interval = poll_interval
    for attempt in range(attempts):
        job = find_job_by_source(client, source_uri, exclude_ids=known_ids)
        if job is not None:
            return job
        if attempt + 1 < attempts:
            sleep(interval)
            interval = min(interval * INTERVAL_GROWTH, DEFAULT_MAX_INTERVAL)
    raise SpoError("the service answered an empty job id (Guid.Empty) and no new job for %s appeared in the job list "
                   "after %d lookups; the file may still be imported: run again later (an existing job is picked up) "
                   "or list the jobs with spo.user_profiles.upa_job_info" % (source_uri, attempts),
                   code="Guid.Empty", operation="queue import job for %s" % source_uri)


def split_log_folder_uri(uri):
    """(site URL, decoded server-relative folder) of an absolute LogFolderUri.

    The site is the host's root site unless the path starts with /sites/<x>/ or /teams/<x>/.
    """
    parts = urlsplit(uri.strip())
    path = unquote(parts.path).rstrip("/") or "/"
    match = _SITE_PATH.match(path)
    site_url = "%s://%s%s" % (parts.scheme, parts.netloc, match.group(1) if match else "")
    return site_url, path


def decode_log(data):
    """Log bytes as text: UTF-16 or UTF-8 by BOM, UTF-8 without, ISO-8859-1 when it is not UTF-8."""
    if data.startswith(codecs.BOM_UTF16_LE) or data.startswith(codecs.BOM_UTF16_BE):
        return data.decode("utf-16", errors="replace")
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError:
        return data.decode("iso-8859-1")


def read_job_log(client, job):
    """Every file of the job's log folder: [{"name", "server_relative_url", "text"}]; [] without a folder."""
    if not job.get("log_folder_uri"):
        return []
    site_url, folder = split_log_folder_uri(job["log_folder_uri"])
    logs = []
    for info in sorted(files.list_files(client, site_url, folder), key=lambda item: item.get("name") or ""):
        data = files.read_file(client, site_url, info["server_relative_url"])
        logs.append({"name": info["name"], "server_relative_url": info["server_relative_url"], "text": decode_log(data)})
    return logs


def _is_identity(token):
    if not token:
        return False
    if "@" in token.strip("@") or _GUID_TEXT.match(token):
        return True
    return token.startswith(("i:0#.f|", "i:0#.w|"))


def _parse_line(line):
    text = _TIMESTAMP.sub("", line, count=1)
    text = _LEVEL.sub("", text, count=1)
    match = _CODE.match(text)
    if not match:
        return {"identity": None, "code": "Unknown", "message": line.strip()}
    code = match.group(1)
    rest = text[match.end():]
    identity = None
    if "\t" in rest:
        fields = [field.strip() for field in rest.split("\t")]
        if fields and not fields[0]:
            fields = fields[1:]
        if fields and (not fields[0] or _is_identity(fields[0].strip(_IDENTITY_TRIM))):
            identity = fields[0].strip(_IDENTITY_TRIM) or None
            fields = fields[1:]
        message = " ".join(field for field in fields if field)
    else:
        rest = _SEPARATOR.sub("", rest, count=1)
        pieces = rest.split(None, 1)
        candidate = pieces[0].strip(_IDENTITY_TRIM) if pieces else ""
        if _is_identity(candidate):
            identity = candidate
            message = _SEPARATOR.sub("", pieces[1], count=1) if len(pieces) > 1 else ""
        else:
            message = rest
    if identity is None and code not in _FILE_CODES:
        found = _EMAIL_IN_TEXT.search(message)
        identity = found.group(0) if found else None
    return {"identity": identity, "code": code, "message": message.strip()}


def parse_log_text(text):
    """Log lines as [{identity, code, message}]; a line without a recognisable code is kept whole as Unknown."""
    return [_parse_line(line) for line in text.splitlines() if line.strip()]


def summarize_log(entries):
    """{"failed_identities", "counts", "failed_count"} over parsed entries.

    failed_count is the number of distinct identities named, plus records without any identity (MissingIdentity).
    """
    identities = []
    seen = set()
    counts = {}
    anonymous = 0
    for entry in entries:
        counts[entry["code"]] = counts.get(entry["code"], 0) + 1
        identity = entry["identity"]
        if identity:
            if identity.lower() not in seen:
                seen.add(identity.lower())
                identities.append(identity)
        elif entry["code"] == "MissingIdentity":
            anonymous += 1
    return {"failed_identities": identities, "counts": counts, "failed_count": len(identities) + anonymous}


def with_log(client, job, max_entries=DEFAULT_MAX_LOG_ENTRIES):
    """job plus log_files, log_entries (at most max_entries), log_entries_truncated, failed_identities, counts."""
    logs = read_job_log(client, job)
    entries = []
    for log in logs:
        entries.extend(parse_log_text(log["text"]))
    summary = summarize_log(entries)
    result = dict(job)
    result.update({
        "log_files": [log["server_relative_url"] for log in logs],
        "log_entries": entries[:max_entries],
        "log_entries_truncated": len(entries) > max_entries,
        "failed_identities": summary["failed_identities"],
        "counts": summary["counts"],
        "failed_count": summary["failed_count"] if logs else None,
    })
    return result


def has_errors(job):
    return job.get("state") == "Error" or job.get("error") not in (None, "NoError")


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
            count = "the number of failed users is unknown because the job's log could not be read"
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


def job_line(job):
    """One line per job for diffs: id, state and error."""
    return "%s %s%s" % (job.get("job_id"), job.get("state"),
                        "" if job.get("error") in (None, "NoError") else " (%s)" % job.get("error"))


def _planned_job(source_uri):
    return {"job_id": None, "state": None, "state_code": None, "error": None, "error_code": None,
            "error_meaning": None, "error_message": None, "source_uri": source_uri, "log_folder_uri": None,
            "queued_at": None, "first_seen_at": None, "finished_at": None, "elapsed_seconds": None, "history": []}


class ImportRun:
    """Queue (or find) and wait for one job per source file, one after another (upa_import_job), follow a job queued
    earlier by its id (upa_import_job's job_id), or only queue the first file's job (upa_import_file's queue_job).

    With judge=False a job found already ended is returned as it is: the caller leaves the verdict to a later
    upa_import_job call.
    """

    def __init__(self, client, id_type, id_property, property_map, force=False, wait=True, wait_timeout=3600,
                 poll_interval=15, max_interval=DEFAULT_MAX_INTERVAL, allowed_failures=0, judge=True, check_mode=False,
                 max_log_entries=DEFAULT_MAX_LOG_ENTRIES, diff=False, clock=time.monotonic, sleep=time.sleep, now=_utcnow):
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
        self.judge = judge
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
        """Wait for (unless wait=False) and judge a job queued earlier, found by its id; nothing is queued.

        This is how a job queued by upa_import_file (queue_job) is waited for: by its id, so a job that has
        already ended in Error is reported, not queued again as a search by source file would.
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
            self._conclude(job, job["source_uri"], [job])
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

    def _queue(self, source_uri, before):
        """Queue a job and return its id. A call that failed in a way that may have queued the job anyway (HTTP 500,
        a broken connection) is not simply sent again: the job list tells whether it made a job, and only when it
        did not is the call repeated."""
        known = {job["job_id"] for job in before}
        attempt = 1
        while True:
            try:
                return queue_job(self.client, self.id_type, self.id_property, self.property_map, source_uri)
            except SpoError as err:
                if not err.may_have_run:
                    raise
                self.sleep(QUEUE_SETTLE_SECONDS)  # a call the service is still running ends before the list is read
                made = find_job_by_source(self.client, source_uri, exclude_ids=known)
                if made is not None:
                    return made["job_id"]
                if attempt == QUEUE_ATTEMPTS:
                    raise err.replace(message="%s; tried %d times, and the job list shows no new job on this file"
                                      % (err.message, attempt)) from err
            attempt += 1

    def _one(self, source_uri, must_wait):
        if self.property_map and not self.id_property:
            raise SpoError("id_property is required to queue a job", operation="queue import job for %s" % source_uri)
        before = jobs_for_source(list_jobs(self.client), source_uri)
        self.diff["before"][source_uri] = [job_line(job) for job in before]
        existing = None if self.force else next((job for job in before if job["state"] != "Error"), None)
        if existing is not None:
            observation, job = self._observed(existing)
        elif self.check_mode:
            self.changed = True
            self.would_queue.append({"source_uri": source_uri, "id_type": self.id_type, "id_property": self.id_property,
                                     "property_map": self.property_map})
            self.diff["after"][source_uri] = [job_line(job) for job in before] + ["(new job) Submitted"]
            self.jobs.append(_planned_job(source_uri))
            return
        else:
            observation = Observation(self.now(), queued=True)
            job_id = self._queue(source_uri, before)
            self.changed = True
            if job_id == EMPTY_GUID:
                found = resolve_empty_job_id(self.client, source_uri, {job["job_id"] for job in before},
                                             poll_interval=self.poll_interval, sleep=self.sleep)
            elif must_wait:
                found = dict(_planned_job(source_uri), job_id=job_id, state="Submitted")
            else:
                found = get_job(self.client, job_id) or dict(_planned_job(source_uri), job_id=job_id, state="Submitted")
            if found.get("state_code") is not None:
                observation.record(found, self.now())
            job = observation.stamp(found, self.now())
        self.diff["after"][source_uri] = [job_line(item) for item in ([] if existing is not None else [job]) + before]
        if must_wait:
            # A job only just queued has not been read yet (no state_code): wait_for_job reads it first thing.
            job = self._wait(job, observation, read=job.get("state_code") is not None)
        self._conclude(job, source_uri, ([] if existing is not None else [job]) + before)

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

    def _conclude(self, job, source_uri, listed):
        """Read the log of a job that ended with errors, record the job, and fail it when the rules say so.

        listed: the jobs on the file after this run, for the diff.
        """
        if self.judge and job["state"] in TERMINAL_STATES and has_errors(job):
            job = with_log(self.client, job, self.max_log_entries)
        self.diff["after"][source_uri] = [job_line(item) for item in listed]
        self.jobs.append(job)
        message = failure_message(job, self.allowed_failures) if self.judge else None
        if message:
            raise JobFailedError(job, message)


def job_info(client, job_id=None, states=None, source_uri=None, include_log=False,
             max_log_entries=DEFAULT_MAX_LOG_ENTRIES, wait_seconds=0, poll_interval=15,
             clock=time.monotonic, sleep=time.sleep, now=_utcnow):
    """{"jobs": [...], "job": first or None} for upa_job_info; nothing is changed.

    With job_id and wait_seconds, a running job is polled every poll_interval seconds until it ends or
    wait_seconds pass; then it is returned as it is (still running is not an error here).
    """
    observations = {}
    if job_id:
        job = get_job(client, job_id)
        if job and wait_seconds > 0 and job["state"] not in TERMINAL_STATES:
            observation = Observation(now())
            observation.record(job, now())
            try:
                job = wait_for_job(client, job_id, wait_seconds, poll_interval, max_interval=poll_interval,
                                   clock=clock, sleep=sleep, now=now, observation=observation, read=job)
            except JobTimeoutError as err:
                job = err.job
            observations[job_id] = observation
        jobs = [job] if job else []
    else:
        jobs = list_jobs(client)
    if source_uri:
        jobs = jobs_for_source(jobs, source_uri)
    if states:
        wanted = {state.lower() for state in states}
        jobs = [job for job in jobs if (job["state"] or "").lower() in wanted]
    result = []
    for job in jobs:
        moment = now()
        observation = observations.get(job["job_id"]) or Observation(moment)
        observation.record(job, moment)
        job = observation.stamp(job, moment)
        if include_log:
            job = with_log(client, job, max_log_entries)
        result.append(job)
    return {"jobs": result, "job": result[0] if result else None}
