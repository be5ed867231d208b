# -*- coding: utf-8 -*-
# Copyright (c) spo.user_profiles contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

"""The import jobs queued on an import file, remembered in a small JSON file beside it, "<file stem>.jobs.json".

A rerun finds a file's job by reading that file, and retention finds the jobs to delete the same way, so neither
lists the tenant's job list: nothing empties that list, and past SharePoint's list view threshold the service refuses
to list it and to queue new jobs (pnp/powershell#3814).

Why a file beside the import file, and not the import file's own list item fields: a document library may have no
column to hold a job id (Title may be hidden, required columns or check-out may refuse an update), changing the item
makes a new version of the very file a queued job is about to read, and it needs calls the collection makes nowhere
else. A record file uses the file calls every run makes already (one read before queueing, a small upload before and
one after), works in any library, goes away with its import file, and an administrator can read it.

The record is written before the queue call too, saying since when a job is being queued ("queueing_since"): a run
stopped between the queue call and the record's update (the controller killed, the connection lost) leaves that mark,
and the rerun looks for the job in the job list, once, instead of queueing the file a second time.

Each job is recorded with the mapping it was queued with (id type, id property, property map): the file holds the
source's field names only, so the same file queued with another map is another import, and a job of the old map must
not stand for it.
"""

from __future__ import annotations

import json

from ansible_collections.spo.user_profiles.plugins.module_utils import files, webs
from ansible_collections.spo.user_profiles.plugins.module_utils.import_writer import name_pattern
from ansible_collections.spo.user_profiles.plugins.module_utils.job_log import log_folder_name

RECORD_SUFFIX = ".jobs.json"


def record_name(file_name):
    """The record's name for an import file: "hr-0123456789abcdef.json" -> "hr-0123456789abcdef.jobs.json"."""
    stem = file_name[:-len(".json")] if file_name.lower().endswith(".json") else file_name
    return stem + RECORD_SUFFIX


def import_file_name(name):
    """The import file a record is about (the inverse of record_name for the collection's own files)."""
    return name[:-len(RECORD_SUFFIX)] + ".json"


def record_pattern(prefix):
    """Matches the names of the records of this prefix's import files, and nothing else."""
    return name_pattern(prefix, r"\.jobs\.json")


def log_folder_owner(name, prefix, job_ids):
    """(job id, whether the folder is the log folder of one of this prefix's jobs) for a folder of the import folder.

    True when it is named after one of the prefix's files (PnP's form) or after a job of `job_ids` (the jobs the
    prefix's records name); False for another prefix's folder or no log folder at all (job id None); None when only
    the service can tell: a job id alone (Microsoft's form) that no record names.
    """
    parsed = log_folder_name(name)
    if parsed is None:
        return None, False
    stem, job_id = parsed
    if stem is not None:
        return job_id, bool(name_pattern(prefix, r"(\.json)?").match(stem))
    return job_id, True if job_id in job_ids else None


def job_mapping(id_type, id_property, property_map):
    """What a job was queued with besides its file, as the record keeps it."""
    return {"id_type": id_type, "id_property": id_property, "property_map": dict(property_map or {})}


def parse_record(data):
    """The jobs of a record, newest first: [{"job_id", "queued_at", "mapping"}] (mapping None when the record does not
    say it: a record of collection 1.0.0); [] for a record that cannot be read (a job is then queued again, which
    imports the same values again: harmless), or for None (no record)."""
    return _jobs(_parsed(data))


def _jobs(content):
    jobs = content.get("jobs")
    if not isinstance(jobs, list):
        return []
    return [{"job_id": str(job["job_id"]).lower(), "queued_at": job.get("queued_at"), "mapping": _mapping(job.get("mapping"))}
            for job in jobs if isinstance(job, dict) and job.get("job_id")]


def _mapping(found):
    if not isinstance(found, dict) or not isinstance(found.get("property_map"), dict):
        return None
    return job_mapping(found.get("id_type"), found.get("id_property"), found["property_map"])


def _parsed(data):
    try:
        content = json.loads(data.decode("utf-8-sig")) if data else {}
    except (ValueError, TypeError, AttributeError):
        return {}
    return content if isinstance(content, dict) else {}


class JobRecord:
    """The jobs queued on one import file (newest first), and where their record lives."""

    def __init__(self, web_url, folder, file_name, source_uri, jobs, queueing_since=None, queueing_mapping=None):
        self.web_url = web_url
        self.folder = folder
        self.file_name = file_name
        self.name = record_name(file_name)
        self.source_uri = source_uri
        self.jobs = list(jobs)
        self.queueing_since = queueing_since
        self.queueing_mapping = queueing_mapping

    @property
    def file_url(self):
        """The server-relative URL of the import file the record is about."""
        return self.folder + "/" + self.file_name

    @property
    def job_ids(self):
        return [job["job_id"] for job in self.jobs]

    def job_ids_queued_with(self, mapping):
        """The recorded jobs queued with this mapping, newest first."""
        return [job["job_id"] for job in self.jobs if job["mapping"] == mapping]

    def queueing(self, since, mapping):
        """Mark the record as queueing a job with `mapping` since `since` (until add)."""
        self.queueing_since = since
        self.queueing_mapping = mapping

    def add(self, job_id, queued_at, mapping):
        self.jobs.insert(0, {"job_id": job_id, "queued_at": queued_at, "mapping": mapping})
        self.queueing_since = None
        self.queueing_mapping = None

    def encode(self):
        content = {"source_uri": self.source_uri, "jobs": self.jobs}
        if self.queueing_since:
            content["queueing_since"] = self.queueing_since
            content["queueing_mapping"] = self.queueing_mapping
        return json.dumps(content, indent=1, sort_keys=True).encode("utf-8")


def read_record(client, source_uri):
    """The record of the import file at source_uri (with no jobs when there is none yet)."""
    web_url, path = webs.web_and_path(client, source_uri)
    folder, _sep, file_name = path.rpartition("/")
    data = files.read_file(client, web_url, folder + "/" + record_name(file_name), missing_ok=True)
    content = _parsed(data)
    queueing_since = content.get("queueing_since")
    return JobRecord(web_url, folder, file_name, source_uri, _jobs(content),
                     queueing_since=str(queueing_since) if queueing_since else None,
                     queueing_mapping=_mapping(content.get("queueing_mapping")))


def recorded_jobs(client, web_url, record_url):
    """The jobs of the record file at record_url (server-relative), as parse_record gives them; [] when there is none."""
    return parse_record(files.read_file(client, web_url, record_url, missing_ok=True))


def recorded_job_ids(client, web_url, record_url):
    """The job ids of the record file at record_url (server-relative), newest first; [] when there is none."""
    return [job["job_id"] for job in recorded_jobs(client, web_url, record_url)]


def write_record(client, record):
    files.upload_bytes(client, record.web_url, record.folder, record.name, record.encode())
