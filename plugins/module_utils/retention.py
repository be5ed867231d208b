# -*- coding: utf-8 -*-
# Copyright (c) spo.user_profiles contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

"""Retention of the import folder: remove old import files and job log folders, never what a job still needs.

Used by upa_retention, and by upa_import_job right after its jobs succeeded (one module run fewer per tenant).
"""

from __future__ import annotations

import datetime
from urllib.parse import unquote, urlsplit

from ansible_collections.spo.user_profiles.plugins.module_utils import files as spo_files
from ansible_collections.spo.user_profiles.plugins.module_utils import import_upload
from ansible_collections.spo.user_profiles.plugins.module_utils import job_api
from ansible_collections.spo.user_profiles.plugins.module_utils.errors import SpoError
from ansible_collections.spo.user_profiles.plugins.module_utils.import_writer import name_pattern
from ansible_collections.spo.user_profiles.plugins.module_utils.job_log import is_log_folder_name

# The options of a clean-up, as upa_retention takes them and as upa_import_job's retention suboptions.
# Documented twice, as upa_retention's options and as upa_import_job's retention suboptions: keep both in step
# (ansible-test accepts only literal doc fragments, so one text cannot serve both nesting levels).
ARGUMENT_SPEC = dict(
    site=dict(type="str"),
    folder=dict(type="str", default=import_upload.DEFAULT_FOLDER),
    name=dict(type="str", required=True),
    older_than_days=dict(type="int", required=True),
    keep=dict(type="list", elements="str", default=[]),
    remove_logs=dict(type="bool", default=True),
)


def parse_time(value):
    """SharePoint's TimeLastModified ("2026-01-02T03:04:05Z") as an aware UTC datetime; None when unknown."""
    if not value:
        return None
    text = str(value).replace("Z", "+00:00")
    try:
        moment = datetime.datetime.fromisoformat(text)
    except ValueError:
        return None
    return moment if moment.tzinfo else moment.replace(tzinfo=datetime.timezone.utc)


def running_jobs(client):
    """Jobs that have not finished: the service may still read their files and write their logs."""
    return [job for job in job_api.list_jobs(client) if job.get("state") not in job_api.TERMINAL_STATES]


def file_name_of(source_uri):
    return unquote(urlsplit(source_uri or "").path.rsplit("/", 1)[-1])


def plan(old_files, old_folders, pattern, keep, running):
    """(files to remove, folders to remove, protected names) from the old items of the folder."""
    busy_files = {file_name_of(job.get("source_uri")).lower() for job in running}
    busy_ids = {(job.get("job_id") or "").lower() for job in running}
    keep = {name.lower() for name in keep}
    remove_files, remove_folders, protected = [], [], []
    for item in old_files:
        name = item["name"] or ""
        if not pattern.match(name) or name.lower() in keep:
            continue
        (protected if name.lower() in busy_files else remove_files).append(item)
    for item in old_folders:
        name = item["name"] or ""
        if not is_log_folder_name(name) or name.lower() in keep:
            continue
        (protected if name.lower() in busy_ids else remove_folders).append(item)
    return remove_files, remove_folders, sorted(item["name"] for item in protected)


def option_problem(options):
    """What is wrong with the options of ARGUMENT_SPEC, checked before connecting; None when nothing is."""
    if options["older_than_days"] < 1:
        return "older_than_days must be 1 or more"
    return None


def clean(client, options, check_mode=False):
    """Apply retention with the options of ARGUMENT_SPEC. Returns the result upa_retention reports."""
    problem = option_problem(options)
    if problem:
        raise SpoError(problem)
    cutoff = datetime.datetime.now(datetime.timezone.utc) - datetime.timedelta(days=options["older_than_days"])

    def is_old(item):
        moment = parse_time(item.get("time_last_modified"))
        return moment is not None and moment < cutoff

    site_url, folder_url = import_upload.site_and_folder(client.root_url, options["site"], options["folder"])
    old_files = [item for item in spo_files.list_files(client, site_url, folder_url) if is_old(item)]
    old_folders = []
    if options["remove_logs"]:
        old_folders = [item for item in spo_files.list_folders(client, site_url, folder_url) if is_old(item)]
    running = running_jobs(client) if old_files or old_folders else []
    remove_files, remove_folders, protected = plan(old_files, old_folders, name_pattern(options["name"]),
                                                   options["keep"], running)
    if not check_mode:
        for item in remove_files:
            spo_files.delete_file(client, site_url, item["server_relative_url"])
        for item in remove_folders:
            spo_files.delete_folder(client, site_url, item["server_relative_url"])
    return {
        "changed": bool(remove_files or remove_folders),
        "removed_files": sorted(item["name"] for item in remove_files),
        "removed_log_folders": sorted(item["name"] for item in remove_folders),
        "protected": protected,
        "cutoff": cutoff.strftime("%Y-%m-%dT%H:%M:%SZ"),
    }
