# -*- coding: utf-8 -*-
# Copyright (c) spo.user_profiles contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

"""Import files in the tenant: where they go (site and folder), uploading the built files that are not there yet,
and removing a prefix's files, their job records and their jobs' log folders.
"""

from __future__ import annotations

from urllib.parse import urlsplit

from ansible_collections.spo.user_profiles.plugins.module_utils import files as spo_files
from ansible_collections.spo.user_profiles.plugins.module_utils import job_records
from ansible_collections.spo.user_profiles.plugins.module_utils.import_writer import name_pattern


def site_and_folder(root_url, site, folder):
    """(absolute site URL, server-relative folder) from the module's ``site`` and ``folder`` options."""
    if not site:
        site_url = root_url.rstrip("/")
    elif site.startswith("/"):
        site_url = root_url.rstrip("/") + site.rstrip("/")
    else:
        site_url = site.rstrip("/")
    site_path = urlsplit(site_url).path.rstrip("/")
    return site_url, site_path + "/" + folder.strip("/")


def log_folder_places(site_url, folder_url):
    """Where the log folders of jobs on files of folder_url may be: the root of its document library (where the bulk
    API doc puts them) and the folder itself (docs/protocol_notes.md, "Log folders")."""
    site_path = urlsplit(site_url).path.rstrip("/")
    library = site_path + "/" + folder_url[len(site_path):].strip("/").split("/")[0]
    return [library] if library.rstrip("/") == folder_url.rstrip("/") else [library, folder_url]


def _origin(site_url):
    parts = urlsplit(site_url)
    return "%s://%s" % (parts.scheme, parts.netloc)


def _present(item, built):
    return item is not None and item["length"] == built["bytes"]


def upload_import_files(client, site_url, folder_url, built_files, check_mode=False,
                        chunk_size=spo_files.DEFAULT_CHUNK_SIZE, chunk_threshold=spo_files.DEFAULT_CHUNK_THRESHOLD,
                        before_upload=None):
    """Upload what is not there yet (same name and size means same content). Returns (changed, files).

    ``before_upload``: called with the built files that are not there yet, when there are any, before anything is sent
    (in check mode too); it raises to stop the upload.
    """
    existing = {item["name"]: item for item in spo_files.list_files(client, site_url, folder_url)}
    uploads = [not _present(existing.get(built["name"]), built) for built in built_files]
    if any(uploads) and before_upload is not None:
        before_upload([built for built, uploaded in zip(built_files, uploads) if uploaded])
    folder_checked = False
    changed = False
    results = []
    for built, uploaded in zip(built_files, uploads):
        server_relative_url = folder_url.rstrip("/") + "/" + built["name"]
        if uploaded:
            changed = True
            if not check_mode:
                if not folder_checked:
                    spo_files.ensure_folder(client, site_url, folder_url)
                    folder_checked = True
                spo_files.upload_file(client, site_url, folder_url, built["name"], built["path"],
                                      chunk_size=chunk_size, chunk_threshold=chunk_threshold)
        results.append({"name": built["name"], "server_relative_url": server_relative_url,
                        "source_uri": _origin(site_url) + server_relative_url, "sha256": built["sha256"],
                        "bytes": built["bytes"], "records": built["records"], "properties": built["properties"],
                        "uploaded": uploaded})
    return changed, results


def _prefix_log_folders(client, site_url, folder_url, prefix, records):
    """The log folders of this prefix's jobs: named after one of its files (PnP's form), or after a job one of its
    records names (Microsoft's form, the job id alone); never another prefix's."""
    job_ids = set()
    for item in records:
        job_ids.update(job_records.recorded_job_ids(client, site_url, item["server_relative_url"]))
    return [item for place in log_folder_places(site_url, folder_url) for item in spo_files.list_folders(client, site_url, place)
            if job_records.log_folder_owner(item["name"], prefix, job_ids)[1]]


def remove_import_files(client, site_url, folder_url, prefix, remove_logs=False, check_mode=False):
    """Delete this prefix's import files and their job records (and, with remove_logs, its jobs' log folders).

    Returns (removed file names, removed log folder names).
    """
    patterns = (name_pattern(prefix), job_records.record_pattern(prefix))
    listed = [item for item in spo_files.list_files(client, site_url, folder_url)
              if any(pattern.match(item["name"]) for pattern in patterns)]
    logs = []
    if remove_logs:
        logs = _prefix_log_folders(client, site_url, folder_url, prefix,
                                   [item for item in listed if patterns[1].match(item["name"])])
    removed_logs = [item["name"] for item in logs
                    if check_mode or spo_files.delete_folder(client, site_url, item["server_relative_url"])]
    removed = [item["name"] for item in listed
               if check_mode or spo_files.delete_file(client, site_url, item["server_relative_url"])]
    return sorted(removed), sorted(removed_logs)
