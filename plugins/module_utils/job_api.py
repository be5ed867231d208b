# -*- coding: utf-8 -*-
# Copyright (c) spo.user_profiles contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

"""The bulk import job API: Office365Tenant's queue, get, list and delete calls, and a job as the modules return it.

The calls go through CSOM ProcessQuery on the admin host (the form PnP PowerShell and .NET CSOM use).
"""

from __future__ import annotations

import re
from urllib.parse import unquote, urlsplit

from ansible_collections.spo.user_profiles.plugins.module_utils.constants import GUID_TEXT
from ansible_collections.spo.user_profiles.plugins.module_utils.csom import (
    OFFICE365_TENANT_TYPE_ID, CsomRequest, Enum, Guid, execute,
)
from ansible_collections.spo.user_profiles.plugins.module_utils.errors import SpoError

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

EMPTY_GUID = "00000000-0000-0000-0000-000000000000"

_NOT_FOUND = re.compile(r"does not exist|not found|cannot be found|no such", re.IGNORECASE)
# The queue call's refusal of multi-value targets, string or taxonomy alike (sp-dev-docs#7159).
_TAXONOMIC = re.compile(r"Property Names \[([^\]]*)\] are Taxonomic Properties", re.IGNORECASE)
# Past SharePoint's list view threshold, listing jobs and queueing one fail with SPQueryThrottledException.
_LIST_VIEW_THRESHOLD = re.compile(r"SPQueryThrottledException|list view threshold", re.IGNORECASE)
LIST_VIEW_THRESHOLD_HELP = (
    "this tenant's import job list is longer than SharePoint's list view threshold (5,000 records; nothing empties it), "
    "so the service refuses to list import jobs or to queue one until old job records are deleted. Delete them with "
    "spo.user_profiles.upa_retention on the import folder (it finds the jobs of the prefix's files from the job "
    "records and log folders beside them, without listing, and deletes the records of the jobs that ended before "
    "older_than_days), or one by one with spo.user_profiles.upa_import_job state=absent job_id=<id> (the reports of "
    "earlier runs name their jobs); then run again")


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
    try:
        results = execute(client, request, "queue import job for %s" % source_uri, idempotent=False)
    except SpoError as err:
        raise _explained_refusal(err) from err
    job_id = results.get(action)
    if not isinstance(job_id, str) or not GUID_TEXT.match(job_id):
        raise SpoError("the service answered %r instead of a job id" % (job_id,), operation="queue import job for %s" % source_uri)
    return job_id.strip("{}").lower()


def is_past_list_view_threshold(err):
    """Whether an SpoError is the service refusing the job list (or a queue call) past the list view threshold."""
    return bool(_LIST_VIEW_THRESHOLD.search("%s %s" % (err.code or "", err.message or "")))


def _explained_refusal(err):
    """A refusal of a queue or list call, with what to do about it when the service's words alone do not say."""
    if is_past_list_view_threshold(err):
        return err.replace(message="%s: %s" % (err.message.rstrip("."), LIST_VIEW_THRESHOLD_HELP))
    taxonomic = _TAXONOMIC.search(err.message or "")
    if taxonomic:
        return err.replace(message="%s: the bulk import API cannot import multi-value or taxonomy properties (%s); leave "
                           "them out of property_map and write them user by user with spo.user_profiles.user_profile_property"
                           % (err.message, taxonomic.group(1)))
    return err


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
    try:
        results = execute(client, request, "list import jobs")
    except SpoError as err:
        raise _explained_refusal(err) from err
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


def source_file_name(source_uri):
    """The decoded name of the file a source URI names: ".../Shared%20Documents/a%20b.json" -> "a b.json"."""
    return unquote(urlsplit(source_uri or "").path.rsplit("/", 1)[-1])


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


def ended_without_import(job):
    """Whether a job ended in Error without importing: any error but ImportCompleteWithError, an import that ran (the
    service's state for it is undocumented, Succeeded or Error), so that its file is not queued again."""
    return job.get("state") == "Error" and job.get("error") != "ImportCompleteWithError"


def has_errors(job):
    return job.get("state") == "Error" or job.get("error") not in (None, "NoError")


def job_line(job):
    """One line per job for diffs: id, state and error."""
    return "%s %s%s" % (job.get("job_id"), job.get("state"),
                        "" if job.get("error") in (None, "NoError") else " (%s)" % job.get("error"))
