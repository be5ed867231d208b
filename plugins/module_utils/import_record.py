# -*- coding: utf-8 -*-
# Copyright (c) spo.user_profiles contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

"""Recording what finished import jobs imported as the tenant's baseline (import_baseline).

The new baseline is the old one (when it was built for the same mapping) with each job's import file laid over it,
user by user, except the users the job's log names as failed: they keep their old values (or stay out), so the next
delta sends them again. A log that names a user its file does not hold (in a form the file's ids cannot be matched
to) says nothing sure about who failed, so none of that job's users is recorded. Jobs are checked first, and nothing
is recorded unless every one of them has ended with an import: a job still running, or one that imported nothing,
fails the call with the baseline as it was, and so does a job its record (job_records.py) says was queued with another
mapping than the one given. Files are streamed; memory holds the old baseline's index and the ids of users new to it.
"""

from __future__ import annotations

import os

from ansible_collections.spo.user_profiles.plugins.module_utils import files
from ansible_collections.spo.user_profiles.plugins.module_utils._json_stream import array_items
from ansible_collections.spo.user_profiles.plugins.module_utils.errors import SpoError
from ansible_collections.spo.user_profiles.plugins.module_utils.import_baseline import (
    BaselineWriter, mapping, read_baseline, save_baseline, user_key,
)
from ansible_collections.spo.user_profiles.plugins.module_utils.job_api import (
    TERMINAL_STATES, get_job, has_errors, source_file_name,
)
from ansible_collections.spo.user_profiles.plugins.module_utils.job_log import (
    read_log_entries, summarize_log,
)
from ansible_collections.spo.user_profiles.plugins.module_utils.job_records import job_mapping, record_name, recorded_jobs

MAX_LISTED = 100
_OPERATION = "record the import baseline"


def _failed_users(client, job):
    """(keys of the users the job's log names as failed, None) or (None, why no user of the job can be recorded)."""
    if not has_errors(job):
        return set(), None
    if job.get("error") != "ImportCompleteWithError":
        raise SpoError("import job %s ended in %s (%s): it imported nothing, so nothing is recorded; the baseline is "
                       "unchanged" % (job["job_id"], job["state"], job["error"]), operation=_OPERATION)
    logs, entries = read_log_entries(client, job)
    if not logs:
        return None, "its log could not be read, so who failed is unknown"
    if any(entry["identity"] is None for entry in entries):
        return None, "its log has failures that name no user"
    return {_log_user_key(identity) for identity in summarize_log(entries)["failed_identities"]}, None


def _log_user_key(identity):
    """A user the log names, as the import file's id of that user compares (user_key): a claims name
    (i:0#.f|membership|ann@contoso.com) by the name it ends with, a GUID without braces."""
    return user_key(identity.rpartition("|")[2].strip().strip("{}"))


def _strangers(path, id_property, failed):
    """The failed users (keys) that no record of the import file at path is (the records are read for their ids only)."""
    left = set(failed)
    for record in _file_records(path):
        record_id = record.get(id_property) if isinstance(record, dict) else None
        if isinstance(record_id, str):
            left.discard(user_key(record_id))
            if not left:
                break
    return left


def _queued_with_problem(client, site_url, folder_url, job, given):
    """Why the job cannot be recorded under the `given` mapping (job_records.job_mapping), or None.

    The record beside the job's file says the mapping it was queued with. Under another one the baseline would hold
    values the job never imported (a property it did not send), and the next delta would leave them out for good. A job
    the record does not name, or names without its mapping (queued by other means, or by collection 1.0.0), cannot be
    checked. An id_type not given is not compared: the baseline then holds none, and fits a delta run that gives none.
    """
    record_url = folder_url.rstrip("/") + "/" + record_name(source_file_name(job["source_uri"]))
    queued = next((found["mapping"] for found in recorded_jobs(client, site_url, record_url)
                   if found["job_id"] == job["job_id"]), None)
    if queued is None:
        return None
    differences = ["%s %r (given: %r)" % (option, queued[option], given[option])
                   for option in ("property_map", "id_property", "id_type")
                   if queued[option] != given[option] and not (option == "id_type" and given[option] is None)]
    if not differences:
        return None
    return ("import job %s was queued with %s: under the mapping given, the baseline would hold values the job did not "
            "import; give the mapping the job was queued with; nothing is recorded"
            % (job["job_id"], ", ".join(differences)))


def check_jobs(client, site_url, folder_url, job_ids, given):
    """The jobs, each with ``failed`` (the keys of its failed users) or ``skip`` (why none of its users is recorded).
    ``given``: the mapping to record them under (job_records.job_mapping). A job given twice (its id in another case,
    or in braces) is one job.

    SpoError, before anything is read or written, when a job is unknown, still running, imported nothing or was queued
    with another mapping.
    """
    jobs = []
    seen = set()
    for job_id in job_ids:
        job = get_job(client, job_id)
        if job is None:
            raise SpoError("import job %s is not in the tenant's job list; nothing is recorded" % job_id, operation=_OPERATION)
        if job["job_id"] in seen:
            continue
        seen.add(job["job_id"])
        if job["state"] not in TERMINAL_STATES:
            raise SpoError("import job %s is still %s: the baseline records only what a finished job imported; nothing "
                           "is recorded" % (job_id, job["state"]), operation=_OPERATION)
        problem = _queued_with_problem(client, site_url, folder_url, job, given)
        if problem:
            raise SpoError(problem, operation=_OPERATION)
        failed, skip = _failed_users(client, job)
        jobs.append(dict(job, failed=failed, skip=skip))
    return jobs


def _file_records(path):
    with open(path, "r", encoding="utf-8-sig") as stream:
        try:
            yield from array_items(stream)
        except ValueError as err:
            raise SpoError("the import file %s is not valid JSON: %s" % (os.path.basename(path), err), operation=_OPERATION)


class _Merge:
    """The new baseline, written as the jobs' files are read: the old one's users laid over with what was imported."""

    def __init__(self, writer, old, id_property, fields):
        self.writer = writer
        self.old = old
        self.id_property = id_property
        self.fields = fields
        self.field_set = set(fields)
        self.new_users = set()
        self.old_written = bytearray(old.users if old is not None else 0)
        self.counts = {"recorded": 0, "unchanged": 0, "not_recorded": 0}
        self.not_recorded = []

    def add_file(self, name, records, failed):
        for record in records:
            record_id = record.get(self.id_property) if isinstance(record, dict) else None
            if not isinstance(record_id, str) or not set(record) - {self.id_property} <= self.field_set:
                raise SpoError("the import file %s holds a record that is not one of this mapping's (%r); nothing is "
                               "recorded" % (name, record if not isinstance(record, dict) else sorted(record)),
                               operation=_OPERATION)
            key = user_key(record_id)
            if failed is None or key in failed:
                self.counts["not_recorded"] += 1
                if len(self.not_recorded) < MAX_LISTED:
                    self.not_recorded.append(record_id)
                continue
            self._write(key, record_id, record, name)

    def _write(self, key, record_id, record, name):
        slot = self.old.find(key) if self.old is not None else None
        if (key in self.new_users) if slot is None else self.old_written[slot]:
            raise SpoError("user %s is in more than one of the jobs' files; record the jobs of one run at a time"
                           % record_id, operation=_OPERATION)
        if slot is None:
            self.new_users.add(key)
            before = ("",) * len(self.fields)
        else:
            self.old_written[slot] = 1
            before = self.old.entry(slot)[1]
        values = tuple(record.get(field, previous) for field, previous in zip(self.fields, before))
        if not all(isinstance(value, str) for value in values):
            raise SpoError("the import file %s holds a value of %s that is not text; nothing is recorded" % (name, record_id),
                           operation=_OPERATION)
        self.counts["unchanged" if slot is not None and values == before else "recorded"] += 1
        self.writer.write(record_id, values)

    def finish(self):
        if self.old is not None:
            for record_id, values in self.old.unseen():
                self.writer.write(record_id, values)
            self.old.close()
        return self.writer.finish()


def record_jobs(client, site_url, folder_url, prefix, workdir, id_property, id_type, property_map, job_ids,
                check_mode=False):
    """Advance the tenant's baseline with what the jobs imported. The module's result (see upa_import_baseline)."""
    jobs = check_jobs(client, site_url, folder_url, job_ids, job_mapping(id_type, id_property, property_map))
    wanted = mapping(id_property, id_type, property_map, jobs=[job["job_id"] for job in jobs])
    old, previous = read_baseline(client, site_url, folder_url, prefix, workdir, wanted)
    old_jobs = old.jobs if old is not None else []
    merge = _Merge(BaselineWriter(os.path.join(workdir, "new-baseline.jsonl.gz"), wanted), old, id_property,
                   wanted["fields"])
    reported = []
    for number, job in enumerate(jobs):
        # The jobs were queued on files of this import folder: the file's name is all that is needed of its URI.
        file_url = folder_url.rstrip("/") + "/" + source_file_name(job["source_uri"])
        local = os.path.join(workdir, "import-%d.json" % number)
        if files.download_file(client, site_url, file_url, local) is None:
            raise SpoError("the import file %s of job %s is gone; nothing is recorded" % (file_url, job["job_id"]),
                           operation=_OPERATION)
        strangers = _strangers(local, id_property, job["failed"]) if job["failed"] else ()
        if strangers:
            job.update(failed=None, skip="its log names users its file does not hold (%s), so who failed is unknown"
                       % ", ".join(sorted(strangers)[:5] + (["..."] if len(strangers) > 5 else [])))
        before = dict(merge.counts)
        merge.add_file(os.path.basename(file_url), _file_records(local), job["failed"])
        os.unlink(local)
        reported.append({"job_id": job["job_id"], "source_uri": job["source_uri"], "state": job["state"],
                         "error": job["error"], "not_recorded_reason": job["skip"],
                         **{key: merge.counts[key] - before[key] for key in merge.counts}})
    path = merge.finish()
    # A damaged or foreign baseline is replaced even when nothing new is recorded, and a job not recorded before is
    # noted even when it brought no new value: the next delta then names another baseline and is a new job.
    changed = (merge.counts["recorded"] > 0 or previous["status"] in ("unusable", "mapping_changed")
               or (bool(jobs) and wanted["jobs"] != old_jobs))
    url = previous["file"]
    if changed and not check_mode:
        url = save_baseline(client, site_url, folder_url, prefix, path)
    warnings = ["import job %s: none of its users is recorded (they are sent again next run): %s" % (job["job_id"], job["skip"])
                for job in jobs if job["skip"]]
    if previous["message"]:
        warnings.append("%s; it is replaced by one of this mapping" % previous["message"])
    return {
        "changed": changed,
        "baseline": {"file": url, "users": merge.writer.users, "previous": previous},
        "counts": dict(merge.counts),
        "not_recorded": merge.not_recorded,
        "jobs": reported,
        "warnings": warnings,
    }
