#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright (c) spo.user_profiles contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
---
module: upa_import_file
short_description: Build, validate and upload SharePoint Online bulk user profile import files
version_added: 1.0.0
description:
  - Reads user records from a CSV, JSON or JSON Lines file on the controller, or from an inline list, record by record.
  - Keeps the id field and the mapped fields, validates every record before anything leaves the machine, and writes
    the import file of the bulk user profile API (C(Office365Tenant.QueueImportProfileProperties)) - real JSON,
    UTF-8 with a byte order mark, every value a string.
  - Splits the data into several files when one would pass O(max_properties) or O(max_bytes); a user is never split.
  - Uploads each file to a document library under a name made of O(name) and a hash of its content, so the same
    data always has the same name and new data never overwrites a file a pending job still reads.
    An existing file with that name and size is left alone.
  - Large files go up in chunks (C(StartUpload), C(ContinueUpload), C(FinishUpload)) streamed from disk; a chunk
    whose connection drops is sent again from the last offset the server committed.
  - Queue the import with M(spo.user_profiles.upa_import_job), passing the returned RV(files[].source_uri).
  - With O(state=absent), removes the files this O(name) produced, and optionally the log folders of their jobs.
author:
  - spo.user_profiles contributors !UNKNOWN
extends_documentation_fragment:
  - spo.user_profiles.connection
  - spo.user_profiles.attributes
  - spo.user_profiles.attributes.ACTION_GROUP
attributes:
  check_mode:
    description:
      - Validates and builds the files, and reports what would be uploaded or removed without changing the tenant.
    support: full
  diff_mode:
    description:
      - Shows the names of the files with their record and property counts, before and after.
    support: full
options:
  state:
    description:
      - V(present) builds and uploads the import files.
      - V(absent) removes every file in O(folder) whose name O(name) produced (C(<name>-<16 hex digits>[-partN].json)),
        and the job record beside each (C(.jobs.json) instead of C(.json)).
    type: str
    choices: [present, absent]
    default: present
  src:
    description:
      - Path of the source file on the managed host (usually the controller, with C(delegate_to) or a local connection).
      - Mutually exclusive with O(records).
    type: path
  records:
    description:
      - The records inline, a list of dictionaries.
      - Mutually exclusive with O(src).
    type: list
    elements: dict
  format:
    description:
      - Format of O(src). V(auto) decides from the file extension (C(.csv), C(.json), C(.jsonl)/C(.ndjson)) and
        else from the first characters.
      - V(csv) needs a header row. V(json) is an object whose C(value) member is the list of records, or a bare list.
        V(jsonl) is one object per line.
    type: str
    choices: [auto, csv, json, jsonl]
    default: auto
  encoding:
    description:
      - Text encoding of O(src). A UTF-8 byte order mark is skipped.
      - Bytes that are not valid in this encoding are reported with their record and line; nothing is uploaded.
    type: str
    default: utf-8
  delimiter:
    description: Field delimiter of a CSV source.
    type: str
    default: ","
  id_property:
    description:
      - The source field holding the user's identity. It is written into the file under this name; pass the same
        name as C(id_property) to M(spo.user_profiles.upa_import_job).
      - Required with O(state=present).
    type: str
  id_type:
    description:
      - When given, every id must look like one; V(email) and V(principal_name) need C(name@domain),
        V(cloud_id) needs an Entra object id (a GUID).
    type: str
    choices: [email, cloud_id, principal_name]
  property_map:
    description:
      - Source field to SharePoint user profile property. The file contains the id field and these fields only.
      - A mapped field missing from the source is an error; source fields that are not mapped are left out and
        listed in RV(ignored_fields).
      - Targets synchronised from Entra ID (for example V(Department), V(Title), V(Manager), V(Office), V(WorkPhone))
        are refused, because the service does not import them; use M(spo.user_profiles.user_profile_property) or
        change them in Entra ID.
      - Required with O(state=present).
    type: dict
  omit_empty:
    description: Leave out empty values instead of writing them as empty strings (which clear the property).
    type: bool
    default: false
  site:
    description:
      - The site whose document library receives the files, as an absolute URL or a server-relative path
        (V(/sites/hr)). The default is the tenant's root site.
      - It must be in the same tenant as the profiles.
    type: str
  folder:
    description:
      - Folder relative to O(site), starting with the library (V(Shared Documents) is the default library of a site).
      - Created, with its parents, when missing.
    type: str
    default: Shared Documents/ProfileImport
  name:
    description: Prefix of the file names; files are named C(<name>-<first 16 hex digits of the SHA-256>.json), with C(-partN) when split.
    type: str
    default: profiles
  max_properties:
    description:
      - Largest number of properties in one file. Every name/value pair counts, the id included.
      - The service allows 500,000.
    type: int
    default: 500000
  max_bytes:
    description: Largest size of one file in bytes. The service allows 2 GB.
    type: int
    default: 2147483648
  chunk_size:
    description: Size of each chunk of a chunked upload in bytes.
    type: int
    default: 10485760
  chunk_threshold:
    description: Files larger than this many bytes are uploaded in chunks; smaller ones in one request.
    type: int
    default: 10485760
  max_problems:
    description: How many validation problems are listed when the source is refused (all are counted).
    type: int
    default: 20
  remove_logs:
    description:
      - With O(state=absent), also remove the log folders of this prefix's import jobs - the sub-folders of O(folder)
        named after one of its files followed by a job id, or after a job id that one of its job records names.
        Another prefix's log folders stay.
    type: bool
    default: false
notes:
  - Needs a SharePoint application permission that writes files, C(Sites.FullControl.All) (which the bulk import
    modules need anyway), C(Sites.Manage.All) or C(Sites.ReadWrite.All).
    The permissions are read from the access token's C(roles) claim before anything is changed; a
    missing one fails the task at once, naming it, its API and where to grant it.
  - The files are built in a temporary directory on the managed host and removed afterwards.
  - Do not remove files while a job that reads them may still be queued; the service downloads them later.
seealso:
  - module: spo.user_profiles.upa_import_job
  - name: Bulk user profile update API for SharePoint Online
    link: https://learn.microsoft.com/sharepoint/dev/solution-guidance/bulk-user-profile-update-api-for-sharepoint-online
    description: Microsoft's description of the file format and its limits.
"""

EXAMPLES = r"""
- name: Build and upload the import file from an HR export
  spo.user_profiles.upa_import_file:
    tenant: contoso
    client_id: "{{ spo_client_id }}"
    certificate_path: /etc/spo/app.pem
    src: /data/hr/export.csv
    delimiter: ";"
    encoding: cp1252
    id_property: mail
    id_type: email
    property_map:
      costcenter: CostCenter
      building: SPS-Building
    name: hr-sync
  register: import_file

- name: Queue the import of each file
  spo.user_profiles.upa_import_job:
    source_uri: "{{ import_file.files | map(attribute='source_uri') | list }}"
    id_type: email
    id_property: mail
    property_map:
      costcenter: CostCenter
      building: SPS-Building

- name: Inline records, checked against Entra object ids
  spo.user_profiles.upa_import_file:
    records:
      - objectId: 2c0cbe14-3e0b-4f4d-9f0b-5b2d0a5e8f11
        city: Zürich
    id_property: objectId
    id_type: cloud_id
    property_map:
      city: City

- name: Remove the files of earlier runs and the log folders of their jobs
  spo.user_profiles.upa_import_file:
    state: absent
    name: hr-sync
    remove_logs: true
"""

RETURN = r"""
files:
  description: The import files, in the order the jobs should run.
  returned: state is present and the source is valid
  type: list
  elements: dict
  contains:
    name:
      description: File name.
      type: str
      sample: hr-sync-3f7a9c2e1b0d4e5f.json
    server_relative_url:
      description: Server-relative URL of the file.
      type: str
      sample: /Shared Documents/ProfileImport/hr-sync-3f7a9c2e1b0d4e5f.json
    source_uri:
      description: Absolute URL of the file, the C(source_uri) the import job needs.
      type: str
      sample: https://contoso.sharepoint.com/Shared Documents/ProfileImport/hr-sync-3f7a9c2e1b0d4e5f.json
    sha256:
      description: SHA-256 of the file's bytes.
      type: str
      sample: 3f7a9c2e1b0d4e5f8a6b5c4d3e2f1a0b9c8d7e6f5a4b3c2d1e0f9a8b7c6d5e4f
    bytes:
      description: Size of the file, the byte order mark included.
      type: int
      sample: 52311
    records:
      description: Users in the file.
      type: int
      sample: 1200
    properties:
      description: Name/value pairs in the file, ids included.
      type: int
      sample: 3600
    uploaded:
      description: Whether the file was uploaded now (or would be, in check mode); false when it was already there.
      type: bool
      sample: true
records:
  description: Users written, over all files.
  returned: state is present
  type: int
  sample: 1200
properties:
  description: Name/value pairs written, over all files, ids included.
  returned: state is present
  type: int
  sample: 3600
ignored_fields:
  description: Source fields that are neither the id nor mapped, and so left out.
  returned: state is present
  type: list
  elements: str
  sample: [displayName, manager]
problems:
  description:
    - The first O(max_problems) validation problems. Empty on success; on failure nothing was uploaded.
  returned: always
  type: list
  elements: dict
  contains:
    record:
      description: Number of the record in the source, from 1; null for problems with the options or the header.
      type: int
      sample: 17
    line:
      description: Line of the source where the record starts (CSV and JSON Lines).
      type: int
      sample: 18
    field:
      description: The field concerned.
      type: str
      sample: building
    message:
      description: What is wrong.
      type: str
      sample: "a list value cannot be imported: the bulk API takes single values (string, number or boolean) only"
problem_count:
  description: Number of problems found, all of them.
  returned: always
  type: int
  sample: 0
removed_files:
  description: Names of the import files removed (or that would be, in check mode).
  returned: state is absent
  type: list
  elements: str
  sample: [hr-sync-3f7a9c2e1b0d4e5f.json]
removed_log_folders:
  description: Names of the job log folders removed (or that would be, in check mode).
  returned: state is absent and remove_logs is true
  type: list
  elements: str
  sample: [5f4e7a2c-9d1b-4c3e-8a7f-6b5d4c3e2f1a]
"""

import tempfile

from ansible_collections.spo.user_profiles.plugins.module_utils.base import SpoModule
from ansible_collections.spo.user_profiles.plugins.module_utils.errors import SpoError
from ansible_collections.spo.user_profiles.plugins.module_utils import (
    import_build, import_readers, import_upload, import_validation, import_writer, permissions,
)


def argument_spec():
    return dict(
        state=dict(type="str", choices=["present", "absent"], default="present"),
        src=dict(type="path"),
        records=dict(type="list", elements="dict"),
        format=dict(type="str", choices=list(import_readers.FORMATS), default="auto"),
        encoding=dict(type="str", default="utf-8"),
        delimiter=dict(type="str", default=","),
        id_property=dict(type="str"),
        id_type=dict(type="str", choices=list(import_validation.ID_TYPES)),
        property_map=dict(type="dict"),
        omit_empty=dict(type="bool", default=False),
        site=dict(type="str"),
        folder=dict(type="str", default=import_upload.DEFAULT_FOLDER),
        name=dict(type="str", default="profiles"),
        max_properties=dict(type="int", default=import_writer.DEFAULT_MAX_PROPERTIES),
        max_bytes=dict(type="int", default=import_writer.DEFAULT_MAX_BYTES),
        chunk_size=dict(type="int", default=10485760),
        chunk_threshold=dict(type="int", default=10485760),
        max_problems=dict(type="int", default=import_validation.DEFAULT_MAX_PROBLEMS),
        remove_logs=dict(type="bool", default=False),
    )


def _diff_entry(item):
    return {key: item[key] for key in ("bytes", "records", "properties") if key in item}


def present(module, params):
    with tempfile.TemporaryDirectory(prefix="spo-import-") as tmpdir:
        try:
            built = import_build.build_import_files(
                tmpdir, params["name"], params["id_property"], params["property_map"], id_type=params["id_type"],
                src=params["src"], records=params["records"], fmt=params["format"], encoding=params["encoding"],
                delimiter=params["delimiter"], omit_empty=params["omit_empty"], max_properties=params["max_properties"],
                max_bytes=params["max_bytes"], max_problems=params["max_problems"])
        except import_readers.ImportFileError as err:
            module.fail_json(msg=str(err), problems=[], problem_count=0)
        if built["problem_count"]:
            listed = "; ".join(import_validation.format_problem(problem) for problem in built["problems"])
            module.fail_json(msg="%d problem(s) in the source, nothing was uploaded: %s%s" % (
                built["problem_count"], listed, "; ..." if built["problem_count"] > len(built["problems"]) else ""),
                problems=built["problems"], problem_count=built["problem_count"], ignored_fields=built["ignored_fields"])
        client = module.client(permissions.SITE_FILES)
        site_url, folder_url = import_upload.site_and_folder(client.root_url, params["site"], params["folder"])
        changed, files = import_upload.upload_import_files(
            client, site_url, folder_url, built["files"], check_mode=module.check_mode,
            chunk_size=params["chunk_size"], chunk_threshold=params["chunk_threshold"])
    result = dict(changed=changed, files=files, records=built["records"], properties=built["properties"],
                  ignored_fields=built["ignored_fields"], problems=[], problem_count=0)
    if module.diff_mode:
        result["diff"] = {
            "before": {"files": {item["name"]: {"bytes": item["bytes"]} for item in files if not item["uploaded"]}},
            "after": {"files": {item["name"]: _diff_entry(item) for item in files}},
        }
    return result


def absent(module, params):
    client = module.client(permissions.SITE_FILES)
    site_url, folder_url = import_upload.site_and_folder(client.root_url, params["site"], params["folder"])
    removed, removed_logs = import_upload.remove_import_files(client, site_url, folder_url, params["name"],
                                                              remove_logs=params["remove_logs"], check_mode=module.check_mode)
    result = dict(changed=bool(removed or removed_logs), removed_files=removed, problems=[], problem_count=0)
    if params["remove_logs"]:
        result["removed_log_folders"] = removed_logs
    if module.diff_mode:
        result["diff"] = {"before": {"files": removed, "log_folders": removed_logs}, "after": {"files": [], "log_folders": []}}
    return result


def main():
    module = SpoModule(
        argument_spec(),
        supports_check_mode=True,
        mutually_exclusive=[("src", "records")],
        required_if=[("state", "present", ("id_property", "property_map")),
                     ("state", "present", ("src", "records"), True)],
    )
    params = module.params
    try:
        if params["state"] == "present":
            result = present(module, params)
        else:
            result = absent(module, params)
    except SpoError as err:
        module.fail_from_error(err)
    module.exit_json(**result)


if __name__ == "__main__":
    main()
