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
  - Used by the P(spo.user_profiles.bulk_import#role) role at the end of a successful run, so the library stays
    under its list view threshold.
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
notes:
  - Needs the SharePoint application permissions C(Sites.FullControl.All) and C(User.ReadWrite.All) (it reads the
    bulk import API's jobs). The permissions are read from the access token's C(roles) claim before anything is changed; a missing one fails the task at once, naming it, its API and where to grant it.
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

from ansible_collections.spo.user_profiles.plugins.module_utils import permissions, retention
from ansible_collections.spo.user_profiles.plugins.module_utils.base import SpoModule
from ansible_collections.spo.user_profiles.plugins.module_utils.errors import SpoError


def main():
    module = SpoModule(retention.ARGUMENT_SPEC, supports_check_mode=True)
    problem = retention.option_problem(module.params)
    if problem:
        module.fail_json(msg=problem)
    try:
        result = retention.clean(module.client(permissions.BULK_IMPORT), module.params, check_mode=module.check_mode)
    except SpoError as err:
        module.fail_from_error(err)
    module.exit_json(**result)


if __name__ == "__main__":
    main()
