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
  - Uploads each file to O(folder) (created, with its parents, when missing) under a name made of O(name) and a hash
    of its content, so the same data always has the same name and new data never overwrites a file a pending job
    still reads.
    An existing file with that name and size is left alone.
  - Large files go up in chunks (C(StartUpload), C(ContinueUpload), C(FinishUpload)) streamed from disk; a chunk
    whose connection drops is sent again from the last offset the server committed.
  - Queue the import with M(spo.user_profiles.upa_import_job), passing the returned RV(files[].source_uri).
  - With O(delta=true), only what changed since the tenant's baseline is written - the users whose values differ, and
    for them only the values that differ. The baseline is a file in O(folder) that
    M(spo.user_profiles.upa_import_baseline) writes after the jobs succeeded. An unchanged source gives no file.
  - A source without records (a CSV file with its header only, an empty JSON list) gives no file, so there is no job
    to queue; with O(delta=true) and O(clear_missing=true) it is refused (see O(clear_missing)).
  - With O(record_schema), every source record must satisfy the data owner's JSON Schema before anything leaves the
    machine; with O(check_identities=true), users that do not exist in Entra ID, guests and disabled accounts are left
    out of the file and listed with the reason.
  - Before a file is uploaded (in check mode too), the targets of O(property_map) are checked against the tenant's
    user profile properties, so that a misspelled property fails the task (and the dry run) instead of the job queued
    later; see O(property_map).
  - With O(state=absent), removes the files this O(name) produced, and optionally the log folders of their jobs.
author:
  - Seed 085825a7 maintainers (@spo-user-profiles)
extends_documentation_fragment:
  - spo.user_profiles.connection
  - spo.user_profiles.import_folder
  - spo.user_profiles.attributes
  - spo.user_profiles.attributes.ACTION_GROUP
attributes:
  check_mode:
    description:
      - Validates and builds the files, checks the targets of O(property_map) against the tenant, and reports what
        would be uploaded or removed without changing the tenant.
    support: full
  diff_mode:
    description:
      - Shows the names of the files with their record and property counts, before and after.
      - With O(delta=true), also each user that changes, property by property, before -> after (the first
        O(max_diff_users) users, then counts; every one in O(changes_file)). Without a baseline, and when the whole
        change is that small, the values before are read from the users' profiles (O(id_type=email) or
        O(id_type=principal_name)).
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
      - Values are text, integers (written as digits) and booleans (written V(true) and V(false)). A decimal number
        such as V(1.50) is refused, naming the record and field, because YAML has already turned it into a
        floating-point number that no longer holds the text written (V(1.5)); quote it (V("1.50")) so it stays text as
        written.
      - Mutually exclusive with O(src).
    type: list
    elements: dict
  format:
    description:
      - Format of O(src). V(auto) decides from the file extension (C(.csv), C(.json), C(.jsonl)/C(.ndjson)) and
        else from the first characters.
      - V(csv) needs a header row that names every column (a column without a name is refused). V(json) is an object
        whose C(value) member is the list of records, or a bare list. V(jsonl) is one object per line.
      - A JSON source is one document. Content after it, a field named twice in a record and a number beyond the range
        of a double are refused, naming the record and line. Numbers are written as the source writes them (V(1.50)
        stays C(1.50)).
      - In every format, a value may hold tabs and line breaks but no other control character (C0, DEL, C1); such a
        value is refused, naming the record, line, field and character.
    type: str
    choices: [auto, csv, json, jsonl]
    default: auto
  encoding:
    description:
      - Text encoding of O(src). A byte order mark of this encoding is skipped.
      - Bytes that are not valid in this encoding are reported with their record and line; nothing is uploaded (with
        O(skip_invalid) too, as such bytes mean the encoding is wrong for the whole file).
      - A file whose own bytes say otherwise (a byte order mark of another encoding, the NUL bytes of UTF-16 without a
        mark, UTF-8 text under a one-byte encoding such as V(latin-1)) is refused, naming the encoding to set.
      - A C1 control character (U+0080 to U+009F) in a value most likely is a cp1252 file read in another encoding
        (cp1252's euro sign is byte 0x80, which V(latin-1) reads as U+0080); the problem says so.
    type: str
    default: utf-8
  delimiter:
    description:
      - Field delimiter of a CSV source, one character (not a quote or a line break).
      - A CSV value may not hold a line break, and a quote must close before the next delimiter or the end of its row;
        a quote missing or one too many would otherwise make the rows after it part of one value. Values with line
        breaks can come from JSON or JSON Lines.
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
      - With any id type, and without one, an id may not start or end with a space, nor hold control characters,
        whitespace other than the space (such as the no-break space U+00A0) or invisible format characters (such as
        the zero width space U+200B or a byte order mark U+FEFF); such an id looks like another user's and is not.
    type: str
    choices: [email, cloud_id, principal_name]
  property_map:
    description:
      - Source field to SharePoint user profile property. The file contains the id field and these fields only.
      - A mapped field missing from the source is an error; source fields that are not mapped are left out and
        listed in RV(ignored_fields).
      - Two source fields mapped to the same property (names compared without regard to case) are refused, because the
        service keeps one value of a property and the other would be lost.
      - A target with a space at either end, or with an invisible character anywhere (a control or format character,
        such as U+200B, or whitespace other than the space, such as U+00A0), is refused, because it would look like
        another property and not be it.
      - Targets synchronised from Entra ID (for example V(Department), V(Title), V(Manager), V(Office), V(WorkPhone))
        are refused, because the service does not import them; use M(spo.user_profiles.user_profile_property) or
        change them in Entra ID.
      - A target the tenant does not have (a misspelled V(CostCentre) where the tenant has V(CostCenter)) is refused
        before anything is uploaded, in check mode too, naming the source field, the target and the service's answer.
        (The service itself refuses it only when the job is queued, after the upload.)
      - That check runs when a file is to be uploaded, not when every file is already in O(folder) nor for a delta
        without changes. It reads the profile of one user of the file (the first of its first three users who has
        one) and asks by name for each target that profile does not list, a few requests whatever the number of
        users.
      - The check needs O(id_type=email) or O(id_type=principal_name), whose ids address the profiles; with
        O(id_type=cloud_id) or no O(id_type) it is left out, and a target the tenant does not have is found when the job
        is queued. It also needs the SharePoint application permissions C(Sites.FullControl.All) and
        C(User.ReadWrite.All) (the bulk import needs them anyway). Without them, when none of the first three users has
        a profile, or when reading a profile is refused, the targets are not checked and a warning says so.
      - Required with O(state=present).
    type: dict
  omit_empty:
    description: Leave out empty values instead of writing them as empty strings (which clear the property).
    type: bool
    default: false
  name:
    description:
      - Prefix of the file names; files are named C(<name>-<first 16 hex digits of the SHA-256>.json), with C(-partN)
        when split.
      - A file name, without C(/); C(#), C(%) and the characters SharePoint refuses in names are refused.
    type: str
    default: profiles
  max_properties:
    description:
      - Largest number of properties in one file. Every name/value pair counts, the id included.
      - From 1 to 500,000, the service's limit.
    type: int
    default: 500000
  max_bytes:
    description: Largest size of one file in bytes, from 1 to 2147483648 (2 GB, the service's limit).
    type: int
    default: 2147483648
  chunk_size:
    description: Size of each chunk of a chunked upload in bytes; positive.
    type: int
    default: 10485760
  chunk_threshold:
    description: Files larger than this many bytes (0 or more) are uploaded in chunks; smaller ones in one request.
    type: int
    default: 10485760
  max_problems:
    description: How many validation problems are listed when the source is refused (all are counted).
    type: int
    default: 20
  delta:
    description:
      - Compare the source with the tenant's baseline (the values last imported, recorded by
        M(spo.user_profiles.upa_import_baseline)) and write only the users whose mapped values differ, and for them only
        the values that differ. An unchanged source gives no file (and C(changed=false)).
      - Without a baseline, or with one built for another O(property_map), O(id_property) or O(id_type), every user is
        written, as without O(delta). A damaged baseline is reported as a warning and ignored (a full import).
      - The baseline is C(<name>-baseline.jsonl.gz) in O(folder).
      - The file names' hash also covers the baseline the source was compared with (the jobs last recorded into it), so
        users a job could not import are sent again in a new job next run, while a rerun before the baseline was
        recorded finds the job it queued.
    type: bool
    default: false
  clear_missing:
    description:
      - With O(delta=true), a value removed from the source (an empty value where the baseline has one) is written as
        an empty string, which clears the property; so are the values of users the baseline has and the source no
        longer has.
      - When false, removed values are not sent and the profiles keep them (C(kept_values) in RV(delta.counts) counts
        them).
      - Careful with a truncated source, which looks like users removed. A source without any record is refused, as it
        would clear every user of the baseline; nothing is written.
    type: bool
    default: false
  check_identities:
    description:
      - Look the users of the file up in Microsoft Graph first, in bulk (C($batch) of C(GET /users) with C($filter),
        300 users a request), and leave out those that do not exist, guests (C(#EXT#)) and disabled accounts; they are
        listed in RV(left_out) with the reason.
      - Needs O(id_type), and the Graph application permission C(User.Read.All).
    type: bool
    default: false
  record_schema:
    description:
      - A JSON Schema (a dict, or the path of a JSON file) that every source record must satisfy, with the fields named
        as in the source, before any mapping - the data owner's rules, for example a cost centre of four digits.
      - Checked with the Python library C(jsonschema), in the draft the schema's C($schema) names (2020-12 when it names
        none), with formats checked. Each broken rule is a problem naming the record, line, field and rule, and nothing
        is uploaded; see O(skip_invalid).
    type: raw
  skip_invalid:
    description:
      - Leave out the records that break O(record_schema) instead of refusing the source; they are listed in
        RV(left_out) with the rules they break.
    type: bool
    default: false
  max_diff_users:
    description: How many users the diff and RV(delta.users) show in full; the others are counted.
    type: int
    default: 20
  changes_file:
    description:
      - A file on the managed host that receives every user that changes or is left out, one JSON object per line
        (C(id), C(status), C(properties) with C(before) and C(after), or C(reason)). Written in check mode too; it is a
        report, not a change to the tenant.
      - Its directory is created when missing. A file that cannot be written there (a parent that is a file, a
        directory that cannot be created) fails the module with the other option problems, before anything is read or
        sent.
    type: path
  remove_logs:
    description:
      - With O(state=absent), also remove the log folders of this prefix's import jobs - the sub-folders of O(folder)
        named after one of its files followed by a job id, or after a job id that one of its job records names.
        Another prefix's log folders stay.
    type: bool
    default: false
notes:
  - Needs a SharePoint application permission that writes files, C(Sites.FullControl.All) (which the bulk import
    modules need anyway), C(Sites.Manage.All) or C(Sites.ReadWrite.All). The check of the targets of O(property_map)
    also reads a user profile, which needs C(Sites.FullControl.All) and C(User.ReadWrite.All); without them it is left
    out with a warning.
    The permissions are read from the access token's C(roles) claim before anything is changed; a
    missing one fails the task at once, naming it, its API and where to grant it.
  - The files are built in a temporary directory on the managed host and removed afterwards.
  - O(record_schema) needs the Python library C(jsonschema) on the managed host.
  - Do not remove files while a job that reads them may still be queued; the service downloads them later.
seealso:
  - module: spo.user_profiles.upa_import_job
  - module: spo.user_profiles.upa_import_baseline
  - name: Bulk user profile update API for SharePoint Online
    link: https://learn.microsoft.com/sharepoint/dev/solution-guidance/bulk-user-profile-update-api-for-sharepoint-online
    description: Microsoft's description of the file format and its limits.
"""

EXAMPLES = r"""
- name: Build and upload the import file from an HR export
  spo.user_profiles.upa_import_file:
    tenant: contoso
    client_id: "{{ spo_client_id }}"
    certificate_path: "{{ spo_certificate_path }}"
    src: "{{ hr_exports }}/export.csv"
    delimiter: ";"
    encoding: cp1252
    id_property: mail
    id_type: email
    property_map:
      costcenter: CostCenter
      building: Building
    name: hr-sync
  register: import_file

# The connection options from module_defaults (group/spo.user_profiles.spo) from here on.
- name: Queue the import of each file and wait for it
  spo.user_profiles.upa_import_job:
    source_uri: "{{ import_file.files | map(attribute='source_uri') | list }}"
    id_type: email
    id_property: mail
    property_map:
      costcenter: CostCenter
      building: Building

- name: Inline records, matched by Entra object id
  spo.user_profiles.upa_import_file:
    records:
      - objectId: 2c0cbe14-3e0b-4f4d-9f0b-5b2d0a5e8f11
        building: Zürich Süd
    id_property: objectId
    id_type: cloud_id
    property_map:
      building: Building
    name: zurich

- name: Only what changed since the last recorded import, after the data owner's rules, to users that exist
  spo.user_profiles.upa_import_file:
    src: "{{ hr_exports }}/export.csv"
    delimiter: ";"
    id_property: mail
    id_type: email
    property_map:
      costcenter: CostCenter
      building: Building
    name: hr-sync
    delta: true
    check_identities: true
    record_schema:
      type: object
      required: [mail, costcenter]
      properties:
        costcenter: {type: string, pattern: "^[0-9]{4}$"}
        building: {enum: [HQ, North, South]}
    changes_file: "{{ spo_report_dir }}/hr-sync-changes.jsonl"
  register: import_file
  diff: true

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
      description:
        - Line of the source file where the record starts, or where the problem was found (the header, a JSON
          syntax error, the JSON document as a whole); null for inline records and for problems with the options.
        - A CR, an LF and a CR LF each end a line.
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
left_out:
  description:
    - The first O(max_diff_users) users left out of the file, by O(check_identities) or O(skip_invalid), with why.
  returned: state is present and the source is valid
  type: list
  elements: dict
  contains:
    id:
      description: The user's id as the source has it.
      type: str
    record:
      description: Number of the record in the source (none for a user of the baseline).
      type: int
    line:
      description: Line of the record in the source.
      type: int
    reason:
      description: Why the user was left out.
      type: str
      sample: no such user in Entra ID
left_out_count:
  description: Number of users left out of the file.
  returned: state is present and the source is valid
  type: int
  sample: 0
delta:
  description: What the delta against the baseline found.
  returned: state is present, O(delta=true) and the source is valid
  type: dict
  contains:
    baseline:
      description:
        - C(file), C(status) (V(used), V(absent), V(mapping_changed) or V(unusable)), C(users) (in the baseline used)
          and C(message) (why it was not used).
      type: dict
    counts:
      description:
        - Users C(added), C(changed), C(cleared), C(unchanged), C(left_out), C(not_in_source) (in the baseline, not in
          the source, left alone), and C(kept_values) (values removed from the source and not sent).
      type: dict
      sample: {added: 1, changed: 3, cleared: 0, unchanged: 995, left_out: 1, not_in_source: 0, kept_values: 0}
    users:
      description:
        - The first O(max_diff_users) users that change or are left out - C(id), C(status), and C(properties) (profile
          property to C(before) and C(after)) or C(reason).
      type: list
      elements: dict
    users_listed_all:
      description: Whether RV(delta.users) holds every user that changes or is left out.
      type: bool
    changes_file:
      description: O(changes_file), which holds every one of them.
      type: str
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

from ansible.module_utils.basic import missing_required_lib

from ansible_collections.spo.user_profiles.plugins.module_utils.base import SpoModule, minimum_problems
from ansible_collections.spo.user_profiles.plugins.module_utils.errors import SpoError
from ansible_collections.spo.user_profiles.plugins.module_utils import (
    files, identity_check, import_baseline, import_build, import_delta, import_diff, import_location, import_readers,
    import_schema, import_targets, import_upload, import_validation, import_writer, permissions,
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
        **import_location.FOLDER_OPTIONS,
        name=dict(type="str", default="profiles"),
        max_properties=dict(type="int", default=import_writer.DEFAULT_MAX_PROPERTIES),
        max_bytes=dict(type="int", default=import_writer.DEFAULT_MAX_BYTES),
        chunk_size=dict(type="int", default=10485760),
        chunk_threshold=dict(type="int", default=10485760),
        max_problems=dict(type="int", default=import_validation.DEFAULT_MAX_PROBLEMS),
        remove_logs=dict(type="bool", default=False),
        delta=dict(type="bool", default=False),
        clear_missing=dict(type="bool", default=False),
        check_identities=dict(type="bool", default=False),
        record_schema=dict(type="raw"),
        skip_invalid=dict(type="bool", default=False),
        max_diff_users=dict(type="int", default=import_diff.DEFAULT_MAX_USERS),
        changes_file=dict(type="path"),
    )


def _diff_entry(item):
    return {key: item[key] for key in ("bytes", "records", "properties") if key in item}


def _record_schema(module, params):
    """The record_schema option as a validator (jsonschema imported only then), or None."""
    if params["record_schema"] is None:
        return None
    try:
        return import_schema.RecordSchema(import_schema.load_schema(params["record_schema"]))
    except import_schema.SchemaInputError as err:
        module.fail_json(msg=str(err), problems=[], problem_count=0)
    except ImportError:
        module.fail_json(msg=missing_required_lib("jsonschema", reason="for record_schema"), problems=[], problem_count=0)


def _delta(module, client, params, where, tmpdir):
    """The delta against the tenant's baseline (a warning when the baseline cannot be used), and the baseline's info."""
    wanted = import_baseline.mapping(params["id_property"], params["id_type"], params["property_map"])
    baseline, info = import_baseline.read_baseline(client, where[0], where[1], params["name"], tmpdir, wanted)
    if info["message"]:
        module.warn("%s, so every user is sent (a full import)" % info["message"])
    return import_delta.Delta(baseline, params["id_property"], wanted["fields"], clear_missing=params["clear_missing"],
                              omit_empty=params["omit_empty"]), info


def _refuse(module, built, found_in="in the source"):
    listed = "; ".join(import_validation.format_problem(problem) for problem in built["problems"])
    module.fail_json(msg="%d problem(s) %s, nothing was uploaded: %s%s" % (
        built["problem_count"], found_in, listed, "; ..." if built["problem_count"] > len(built["problems"]) else ""),
        problems=built["problems"], problem_count=built["problem_count"], ignored_fields=built["ignored_fields"])


def _target_check(module, client, params, built):
    """What runs before a file is uploaded: the targets of property_map are checked against the tenant's profiles."""
    def check(pending):
        problems, warning = import_targets.unknown_targets(client, pending, params["id_property"], params["property_map"],
                                                           params["id_type"])
        if warning:
            module.warn(warning)
        if problems:
            _refuse(module, dict(built, problems=problems, problem_count=len(problems)), "in property_map")
    return check


def _diff(client, params, files, delta):
    """The files before and after; with a delta, also the users' changes as text a reviewer reads."""
    diff = {"before": {"files": {item["name"]: {"bytes": item["bytes"]} for item in files if not item["uploaded"]}},
            "after": {"files": {item["name"]: _diff_entry(item) for item in files}}}
    if delta is not None:
        if (delta["baseline"]["status"] != "used" and delta["users_listed_all"]
                and params["id_type"] in ("email", "principal_name")):
            import_diff.read_profile_befores(client, delta["users"])
        diff["prepared"] = import_diff.prepared_diff(delta)
    return diff


def _option_problems(module, params):
    """Every option that is wrong, before anything is read or sent (None entries stand for fine options)."""
    problems = import_location.folder_problems(params, module.tenant_urls())
    if params["state"] == "absent":
        return problems
    if params["src"] is not None:
        problems.extend(import_readers.option_problems(params["format"], params["encoding"], params["delimiter"]))
        problems.append(import_readers.src_problem(params["src"]))
    problems.extend(import_writer.limit_problems(params["max_properties"], params["max_bytes"]))
    problems.extend(files.chunk_problems(params["chunk_size"], params["chunk_threshold"]))
    problems.append(import_location.name_problem("name", params["name"]))
    if params["max_problems"] < 0:
        problems.append("max_problems: must be 0 or more, not %d" % params["max_problems"])
    problems.extend(minimum_problems(params, {"max_diff_users": 0}))
    if params["check_identities"] and not params["id_type"]:
        problems.append("check_identities needs id_type: it says which Entra ID attribute the ids are")
    if params["changes_file"]:
        problems.append(import_diff.changes_file_problem(params["changes_file"]))
    return problems


def present(module, params):
    schema = _record_schema(module, params)
    inputs = import_validation.check_inputs(params["id_property"], params["property_map"], params["id_type"], params["records"])
    # Without a delta or an identity check the tenant is not needed until the source has passed every check.
    needs = permissions.SITE_FILES + (permissions.GRAPH_USERS if params["check_identities"] else ())
    client = module.client(needs) if (params["delta"] or params["check_identities"]) and not inputs else None
    with tempfile.TemporaryDirectory(prefix="spo-import-") as tmpdir:
        delta, baseline_info = (None, None)
        if params["delta"] and not inputs:
            where = import_upload.site_and_folder(client.root_url, params["site"], params["folder"])
            delta, baseline_info = _delta(module, client, params, where, tmpdir)
        fields = import_baseline.mapped_fields(params["id_property"], params["property_map"])
        changes = import_diff.Changes(params["property_map"], fields if not inputs else [],
                                      max_users=params["max_diff_users"], path=params["changes_file"])
        try:
            built = import_build.build_import_files(
                tmpdir, params["name"], params["id_property"], params["property_map"], id_type=params["id_type"],
                src=params["src"], records=params["records"], fmt=params["format"], encoding=params["encoding"],
                delimiter=params["delimiter"], omit_empty=params["omit_empty"], max_properties=params["max_properties"],
                max_bytes=params["max_bytes"], max_problems=params["max_problems"], delta=delta, schema=schema,
                skip_invalid=params["skip_invalid"], changes=changes,
                identities=identity_check.IdentityCheck(client, params["id_type"]) if params["check_identities"] else None)
        except import_readers.ImportFileError as err:
            module.fail_json(msg=str(err), problems=[], problem_count=0)
        finally:
            if delta is not None and delta.baseline is not None:
                delta.baseline.close()
        if built["problem_count"]:
            _refuse(module, built)
        client = client or module.client(needs)
        where = import_upload.site_and_folder(client.root_url, params["site"], params["folder"])
        changed, files = import_upload.upload_import_files(
            client, where[0], where[1], built["files"], check_mode=module.check_mode,
            chunk_size=params["chunk_size"], chunk_threshold=params["chunk_threshold"],
            before_upload=_target_check(module, client, params, built))
    result = dict(changed=changed, files=files, records=built["records"], properties=built["properties"],
                  ignored_fields=built["ignored_fields"], problems=[], problem_count=0,
                  left_out=[dict((key, entry[key]) for key in ("id", "record", "line", "reason")) for entry in changes.left_out_listed],
                  left_out_count=changes.counts[import_diff.LEFT_OUT])
    if delta is not None:
        result["delta"] = import_diff.summary(changes, baseline_info)
    if module.diff_mode:
        result["diff"] = _diff(client, params, files, result.get("delta"))
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
    module.fail_on_option_problems(_option_problems(module, params), problems=[], problem_count=0)
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
