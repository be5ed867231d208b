#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright (c) spo.user_profiles contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
---
module: upa_import_baseline
short_description: Record what SharePoint Online bulk import jobs imported as the tenant's baseline for delta imports
version_added: 1.0.0
description:
  - After import jobs have ended, records the values they imported for each user as the tenant's baseline, which
    O(spo.user_profiles.upa_import_file#module:delta=true) compares the next source with, so that only what changed
    is sent.
  - The baseline is one file in the import folder (C(<name>-baseline.jsonl.gz)), so a run from a fresh container or
    another machine sees it. It carries the O(property_map), O(id_property) and O(id_type) it was built with; a
    baseline built with others is replaced.
  - Each job's import file is laid over the old baseline user by user. The users a job's log names as failed are not
    recorded, so the next run sends them again; when a job's log cannot be read, or names failures without a user,
    none of that job's users is recorded (a warning says so).
  - Every job must have ended with an import (C(Succeeded), or C(ImportCompleteWithError)); a job still running, or one
    that imported nothing (for example C(InternalError)), fails the task and the baseline stays as it was.
  - Each job must be recorded with the O(property_map), O(id_property) and O(id_type) it was queued with, as the job
    record M(spo.user_profiles.upa_import_job) keeps beside its file says. A job queued with others fails the task,
    naming the job and both values, and nothing is recorded; else the baseline would hold values the job never
    imported, and the next delta import would leave them out. A job that no such record names (queued by other means)
    cannot be checked.
  - A job given twice (its id in another case, too) is recorded once.
  - The new baseline is uploaded under a temporary name and then moved over the old one, so an interruption leaves
    the old baseline whole.
  - With O(state=absent), removes the baseline, so that the next delta import sends every user.
author:
  - Seed 085825a7 maintainers (@spo-user-profiles)
extends_documentation_fragment:
  - spo.user_profiles.connection
  - spo.user_profiles.import_folder
  - spo.user_profiles.attributes
  - spo.user_profiles.attributes.ACTION_GROUP
attributes:
  check_mode:
    description: Reads the jobs, their logs and files and the baseline, and reports what would be recorded.
    support: full
  diff_mode:
    description: Shows the number of users in the baseline before and after, and how many were recorded.
    support: full
options:
  state:
    description:
      - V(present) records what the jobs O(job_id) imported.
      - V(absent) removes the baseline.
    type: str
    choices: [present, absent]
    default: present
  job_id:
    description:
      - The import jobs whose files to record, for example the RV(spo.user_profiles.upa_import_job#module:job.job_id)
        of each file of one run. Required with O(state=present).
      - An empty list records nothing.
    type: list
    elements: str
  id_property:
    description:
      - The id field of the import files, as given to M(spo.user_profiles.upa_import_file) and
        M(spo.user_profiles.upa_import_job). Required with O(state=present).
    type: str
  id_type:
    description:
      - The id type the files were built and queued with.
      - When not given, it is not compared with the jobs', and the baseline holds none (a delta import without
        O(spo.user_profiles.upa_import_file#module:id_type) then uses it).
    type: str
    choices: [email, cloud_id, principal_name]
  property_map:
    description: The property map the files were built and queued with. Required with O(state=present).
    type: dict
  name:
    description: The file name prefix given to M(spo.user_profiles.upa_import_file); the baseline is C(<name>-baseline.jsonl.gz).
    type: str
    default: profiles
seealso:
  - module: spo.user_profiles.upa_import_file
  - module: spo.user_profiles.upa_import_job
"""

EXAMPLES = r"""
- name: Build and upload only what changed since the baseline
  spo.user_profiles.upa_import_file:
    tenant: contoso
    client_id: "{{ spo_client_id }}"
    certificate_path: "{{ spo_certificate_path }}"
    src: "{{ hr_exports }}/export.csv"
    id_property: mail
    id_type: email
    property_map: {costcenter: CostCenter}
    name: hr-sync
    delta: true
  register: import_file

# The connection options from module_defaults (group/spo.user_profiles.spo) from here on.
- name: Queue and wait for each file's job
  spo.user_profiles.upa_import_job:
    source_uri: "{{ import_file.files | map(attribute='source_uri') | list }}"
    id_type: email
    id_property: mail
    property_map: {costcenter: CostCenter}
  register: import_job
  when: import_file.files | length > 0

- name: Record what was imported as the tenant's baseline
  spo.user_profiles.upa_import_baseline:
    job_id: "{{ import_job.jobs | map(attribute='job_id') | list }}"
    id_property: mail
    id_type: email
    property_map: {costcenter: CostCenter}
    name: hr-sync
  when: import_file.files | length > 0

- name: Forget the baseline, so that the next run imports every user
  spo.user_profiles.upa_import_baseline:
    state: absent
    name: hr-sync
"""

RETURN = r"""
baseline:
  description: The baseline after the call.
  returned: state is present
  type: dict
  contains:
    file:
      description: Its server-relative URL.
      type: str
      sample: /Shared Documents/ProfileImport/hr-sync-baseline.jsonl.gz
    users:
      description: Users in it.
      type: int
      sample: 1200
    previous:
      description:
        - The baseline before, as M(spo.user_profiles.upa_import_file) reports it - C(status) (V(used), V(absent),
          V(mapping_changed), V(unusable)), C(users), C(message).
      type: dict
counts:
  description:
    - Users of the jobs' files C(recorded) (with new values), C(unchanged) (values the baseline had already) and
      C(not_recorded) (failed in their job, or of a job whose failures are unknown).
  returned: state is present
  type: dict
  sample: {recorded: 12, unchanged: 0, not_recorded: 1}
not_recorded:
  description: The first 100 users not recorded; they are sent again next run.
  returned: state is present
  type: list
  elements: str
jobs:
  description: Each job with C(job_id), C(source_uri), C(state), C(error), its counts, and C(not_recorded_reason).
  returned: state is present
  type: list
  elements: dict
removed:
  description: Whether a baseline was removed (or would be, in check mode).
  returned: state is absent
  type: bool
"""

import tempfile

from ansible_collections.spo.user_profiles.plugins.module_utils.base import SpoModule
from ansible_collections.spo.user_profiles.plugins.module_utils.errors import SpoError
from ansible_collections.spo.user_profiles.plugins.module_utils import (
    files, import_baseline, import_location, import_record, import_upload, permissions,
)


def present(module, client, where):
    params = module.params
    with tempfile.TemporaryDirectory(prefix="spo-baseline-") as workdir:
        result = import_record.record_jobs(client, where[0], where[1], params["name"], workdir, params["id_property"],
                                           params["id_type"], params["property_map"], params["job_id"],
                                           check_mode=module.check_mode)
    for warning in result.pop("warnings"):
        module.warn(warning)
    if module.diff_mode:
        result["diff"] = {"before": {"users": result["baseline"]["previous"]["users"]},
                          "after": {"users": result["baseline"]["users"], "recorded": result["counts"]["recorded"]}}
    return result


def absent(module, client, where):
    name = import_baseline.baseline_name(module.params["name"])
    url = where[1].rstrip("/") + "/" + name
    if module.check_mode:
        removed = files.get_file(client, where[0], url) is not None
    else:
        removed = import_baseline.remove_baseline(client, where[0], where[1], module.params["name"])
    result = dict(changed=removed, removed=removed)
    if module.diff_mode:
        result["diff"] = {"before": {"baseline": url if removed else None}, "after": {"baseline": None}}
    return result


def main():
    module = SpoModule(
        dict(
            state=dict(type="str", choices=["present", "absent"], default="present"),
            job_id=dict(type="list", elements="str"),
            id_property=dict(type="str"),
            id_type=dict(type="str", choices=["email", "cloud_id", "principal_name"]),
            property_map=dict(type="dict"),
            **import_location.FOLDER_OPTIONS,
            name=dict(type="str", default="profiles"),
        ),
        supports_check_mode=True,
        required_if=[("state", "present", ("job_id", "id_property", "property_map"))],
    )
    module.fail_on_option_problems(import_location.folder_problems(module.params, module.tenant_urls())
                                   + [import_location.name_problem("name", module.params["name"])])
    try:
        # Recording reads the jobs (the bulk import API); forgetting only deletes a file.
        client = module.client(permissions.BULK_IMPORT if module.params["state"] == "present" else permissions.SITE_FILES)
        where = import_upload.site_and_folder(client.root_url, module.params["site"], module.params["folder"])
        result = (present if module.params["state"] == "present" else absent)(module, client, where)
    except SpoError as err:
        module.fail_from_error(err)
    module.exit_json(**result)


if __name__ == "__main__":
    main()
