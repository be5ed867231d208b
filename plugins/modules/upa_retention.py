#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright (c) spo.user_profiles contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
---
module: upa_retention
short_description: Remove old SharePoint Online bulk import files, job log folders and job records
description:
  - Removes, from the import folder, the import files this O(name) prefix produced, the job record beside each
    (C(<file>.jobs.json), written by M(spo.user_profiles.upa_import_job)) and the log folders of their jobs, whose last
    change is older than O(older_than_days).
  - Deletes the service's records of those jobs (C(Office365Tenant.DeleteImportProfilePropertiesJob)), so that the
    tenant's job list, which nothing else empties, stays under SharePoint's list view threshold (past it, the service
    refuses to list or queue jobs). The service keeps no dates for jobs; a job is as old as its record file or its log
    folder.
  - Log folders are recognised in both forms, named after the job id (Microsoft's documentation) or after the import
    file followed by the job id (PnP's). A folder named after another prefix's file, or after a job of another
    prefix's file, is never removed.
  - Jobs are found from the job records and log folders, without listing the tenant's job list, so retention also
    works past the list view threshold and brings the list back under it. Only an old import file without a job
    record (never queued, or queued by another tool) needs the job list, to know whether a job still reads it;
    when the service refuses the list, such a file is kept and the module warns.
  - Never removes a file a job still needs (a job on it that is not C(Succeeded) or C(Error)), the log folder or the
    record of such a job, or anything named in O(keep).
  - A failure part way (for example throttling that outlasts the retries) stops the run and fails the task, with
    what was removed before it in the result (and C(changed) when anything was).
  - Used by the P(spo.user_profiles.bulk_import#role) role at the end of a successful run.
version_added: 1.0.0
author:
  - Seed 085825a7 maintainers (@spo-user-profiles)
options:
  name:
    description:
      - The file name prefix given to M(spo.user_profiles.upa_import_file).
      - A prefix that no import file can have (empty, with C(/), C(#), C(%), a character SharePoint refuses in names, or
        a space at an end) is refused, as M(spo.user_profiles.upa_import_file) refuses it.
    type: str
    required: true
  older_than_days:
    description: Remove what was last changed more than this many days ago, from 1 to 36500 (100 years).
    type: int
    required: true
  keep:
    description:
      - Import file names and job ids never removed, for example those of the current run.
      - A kept file keeps its job record file, the service's records of the jobs on it and their log folders; a kept
        job id keeps the service's record of that job and its log folder.
    type: list
    elements: str
    default: []
  remove_logs:
    description:
      - Also remove old job log folders. The records of their jobs are deleted either way.
    type: bool
    default: true
extends_documentation_fragment:
  - spo.user_profiles.connection
  - spo.user_profiles.import_folder
  - spo.user_profiles.attributes
  - spo.user_profiles.attributes.ACTION_GROUP
attributes:
  check_mode:
    support: full
    description: Reports what would be removed, and removes nothing.
  diff_mode:
    support: none
    description: What is removed (or would be) is listed in RV(removed_files), RV(removed_jobs) and RV(removed_log_folders).
notes:
  - Needs the SharePoint application permissions C(Sites.FullControl.All) and C(User.ReadWrite.All) (it reads the
    bulk import API's jobs).
    The permissions are read from the access token's C(roles) claim before anything is changed; a
    missing one fails the task at once, naming it, its API and where to grant it.
"""

EXAMPLES = r"""
- name: At the end of a run, remove what is older than 30 days, but never this run's files and jobs
  spo.user_profiles.upa_retention:
    tenant: contoso
    client_id: "{{ spo_client_id }}"
    certificate_path: "{{ spo_certificate_path }}"
    name: hr-sync
    older_than_days: 30
    keep: "{{ import_file.files | map(attribute='name') | list + import_job.jobs | map(attribute='job_id') | list }}"
  register: cleanup

- name: Show what was removed
  ansible.builtin.debug:
    msg: "{{ cleanup.removed_files | length }} files, {{ cleanup.removed_jobs | length }} job records and
      {{ cleanup.removed_log_folders | length }} log folders removed"

# The connection options from module_defaults (group/spo.user_profiles.spo) from here on.
- name: What a 7-day retention would remove, without removing anything
  spo.user_profiles.upa_retention:
    name: hr-sync
    older_than_days: 7
  check_mode: true
"""

RETURN = r"""
removed_files:
  description: Names of the import files and job record files removed (or that would be, in check mode).
  returned: always
  type: list
  elements: str
removed_jobs:
  description: Ids of the jobs whose records were deleted from the service (or would be, in check mode).
  returned: always
  type: list
  elements: str
removed_log_folders:
  description: Names of the log folders removed (or that would be, in check mode).
  returned: always
  type: list
  elements: str
protected:
  description:
    - Old files, job records and log folders kept because a job that needs them has not finished, or because whether
      one does could not be known (see the warning).
  returned: always
  type: list
  elements: str
cutoff:
  description: Items last changed before this time (ISO 8601, UTC) were candidates.
  returned: always
  type: str
"""

from ansible_collections.spo.user_profiles.plugins.module_utils import import_location, permissions, retention
from ansible_collections.spo.user_profiles.plugins.module_utils.base import SpoModule
from ansible_collections.spo.user_profiles.plugins.module_utils.errors import SpoError


def main():
    module = SpoModule(retention.ARGUMENT_SPEC, supports_check_mode=True)
    module.fail_on_option_problems(retention.option_problems(module.params)
                                   + import_location.folder_problems(module.params, module.tenant_urls()))
    try:
        result = retention.clean(module.client(permissions.BULK_IMPORT), module.params, check_mode=module.check_mode)
    except SpoError as err:
        # a failure part way through reports what was removed before it (err.result)
        result = dict(err.result)
        for notice in result.pop("notices", []):
            module.warn(notice)
        module.fail_from_error(err, **result)
    for notice in result.pop("notices"):
        module.warn(notice)
    module.exit_json(**result)


if __name__ == "__main__":
    main()
