#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright (c) spo.user_profiles contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
---
module: upa_retention
short_description: Remove old SharePoint Online bulk import files and job log folders
description:
  - Removes, from the import folder, the files this O(name) prefix produced and the job log folders (sub-folders
    named after a job id) whose last change is older than O(older_than_days).
  - Never removes a file a job still needs (a job on it that is not C(Succeeded) or C(Error)), the log folder
    of such a job, or anything named in O(keep).
  - Used by the C(spo.user_profiles.bulk_import) role at the end of a successful run, so the library stays under
    its list view threshold.
version_added: 1.0.0
author:
  - spo.user_profiles contributors !UNKNOWN
options:
  site:
    description: The site of the import folder, as for M(spo.user_profiles.upa_import_file); the root site by default.
    type: str
  folder:
    description: The import folder, relative to O(site), starting with the library.
    type: str
    default: Shared Documents/ProfileImport
  name:
    description: The file name prefix given to M(spo.user_profiles.upa_import_file).
    type: str
    required: true
  older_than_days:
    description: Remove what was last changed more than this many days ago.
    type: int
    required: true
  keep:
    description:
      - File names and job ids (log folder names) never removed, for example those of the current run.
    type: list
    elements: str
    default: []
  remove_logs:
    description: Also remove old job log folders.
    type: bool
    default: true
extends_documentation_fragment:
  - spo.user_profiles.connection
attributes:
  check_mode:
    support: full
    description: Reports what would be removed.
"""

EXAMPLES = r"""
- name: Remove import files and log folders older than 30 days
  spo.user_profiles.upa_retention:
    tenant: contoso
    name: hr-sync
    older_than_days: 30
    keep: "{{ import_file.files | map(attribute='name') | list + [import_job.job.job_id] }}"
"""

RETURN = r"""
removed_files:
  description: Names of the files removed (or that would be, in check mode).
  returned: always
  type: list
  elements: str
removed_log_folders:
  description: Names of the log folders removed (or that would be, in check mode).
  returned: always
  type: list
  elements: str
protected:
  description: Old files and log folders kept because a job that needs them has not finished.
  returned: always
  type: list
  elements: str
cutoff:
  description: Items last changed before this time (ISO 8601, UTC) were candidates.
  returned: always
  type: str
"""

import datetime
import re
from urllib.parse import unquote, urlsplit

from ansible_collections.spo.user_profiles.plugins.module_utils import files as spo_files
from ansible_collections.spo.user_profiles.plugins.module_utils import import_file
from ansible_collections.spo.user_profiles.plugins.module_utils import jobs
from ansible_collections.spo.user_profiles.plugins.module_utils.base import SpoModule
from ansible_collections.spo.user_profiles.plugins.module_utils.errors import SpoError

_GUID = re.compile(r"^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$")


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
    return [job for job in jobs.list_jobs(client) if job.get("state") not in jobs.TERMINAL_STATES]


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
        if not _GUID.match(name) or name.lower() in keep:
            continue
        (protected if name.lower() in busy_ids else remove_folders).append(item)
    return remove_files, remove_folders, sorted(item["name"] for item in protected)


def main():
    module = SpoModule(
        dict(
            site=dict(type="str"),
            folder=dict(type="str", default="Shared Documents/ProfileImport"),
            name=dict(type="str", required=True),
            older_than_days=dict(type="int", required=True),
            keep=dict(type="list", elements="str", default=[]),
            remove_logs=dict(type="bool", default=True),
        ),
        supports_check_mode=True,
    )
    params = module.params
    if params["older_than_days"] < 1:
        module.fail_json(msg="older_than_days must be 1 or more")
    cutoff = datetime.datetime.now(datetime.timezone.utc) - datetime.timedelta(days=params["older_than_days"])

    def is_old(item):
        moment = parse_time(item.get("time_last_modified"))
        return moment is not None and moment < cutoff

    try:
        client = module.client()
        site_url, folder_url = import_file.site_and_folder(client.root_url, params["site"], params["folder"])
        old_files = [item for item in spo_files.list_files(client, site_url, folder_url) if is_old(item)]
        old_folders = []
        if params["remove_logs"]:
            old_folders = [item for item in spo_files.list_folders(client, site_url, folder_url) if is_old(item)]
        running = running_jobs(client) if old_files or old_folders else []
        remove_files, remove_folders, protected = plan(old_files, old_folders, import_file.name_pattern(params["name"]),
                                                       params["keep"], running)
        if not module.check_mode:
            for item in remove_files:
                spo_files.delete_file(client, site_url, item["server_relative_url"])
            for item in remove_folders:
                spo_files.delete_folder(client, site_url, item["server_relative_url"])
    except SpoError as err:
        module.fail_from_error(err)
    module.exit_json(changed=bool(remove_files or remove_folders),
                     removed_files=sorted(item["name"] for item in remove_files),
                     removed_log_folders=sorted(item["name"] for item in remove_folders),
                     protected=protected, cutoff=cutoff.strftime("%Y-%m-%dT%H:%M:%SZ"))


if __name__ == "__main__":
    main()
