#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright (c) spo.user_profiles contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
module: upa_job_info
short_description: Read SharePoint Online user profile bulk import jobs and their logs
description:
  - Reads one bulk import job by O(job_id) (C(Office365Tenant.GetImportProfilePropertyJob)), or all the jobs the
    service keeps (C(Office365Tenant.GetImportProfilePropertyJobs)), optionally filtered by O(state) and O(source_uri).
  - With O(include_log=true), reads every file in each job's log folder and parses each line into
    C(identity), C(code) and C(message), with the users that failed and the number of lines per code.
  - Never changes anything.
version_added: 1.0.0
author:
  - spo.user_profiles contributors !UNKNOWN
options:
  job_id:
    description:
      - The job to read. When not set, all jobs are read.
    type: str
  state:
    description:
      - Return only jobs in these states.
    type: list
    elements: str
    choices: [Unknown, Submitted, Processing, Queued, Succeeded, Error]
  source_uri:
    description:
      - Return only jobs of this import file (absolute URL; compared without regard to case or percent-encoding).
    type: str
  include_log:
    description:
      - Read and parse the log folder of each job returned.
      - Each job costs at least two more requests, so combine it with O(job_id), O(state) or O(source_uri).
    type: bool
    default: false
  max_log_entries:
    description:
      - How many parsed log lines to return per job in RV(jobs[].log_entries).
    type: int
    default: 1000
  wait_seconds:
    description:
      - With O(job_id), wait up to this many seconds for a running job to end (C(Succeeded) or C(Error)), polling it
        every O(poll_interval) seconds, and return as soon as it has ended.
      - A job still running when the time is up is returned as it is; that is not a failure. This is for playbooks that
        print a job's progress between waits (the P(spo.user_profiles.bulk_import#role) role does); to wait for a job and
        fail on a timeout or a failed import, use M(spo.user_profiles.upa_import_job).
      - V(0) reads the job once.
    type: int
    default: 0
  poll_interval:
    description:
      - Seconds between two polls while waiting (O(wait_seconds)).
    type: int
    default: 15
extends_documentation_fragment:
  - spo.user_profiles.connection
  - spo.user_profiles.attributes
  - spo.user_profiles.attributes.ACTION_GROUP
  - spo.user_profiles.attributes.CHECK_MODE_READ_ONLY
notes:
  - The service keeps no timestamps for jobs; RV(jobs[].first_seen_at) is when this module read the job.
  - The job list is returned in the service's order, newest first.
seealso:
  - module: spo.user_profiles.upa_import_job
"""

EXAMPLES = r"""
- name: Read one job with its log
  spo.user_profiles.upa_job_info:
    tenant: contoso
    client_id: "{{ spo_client_id }}"
    certificate_path: /etc/spo/app.pem
    job_id: 5f4e7a2c-1111-2222-3333-444455556666
    include_log: true
  register: info

- name: List the users that failed
  ansible.builtin.debug:
    var: info.job.failed_identities

- name: All jobs that are still running
  spo.user_profiles.upa_job_info:
    tenant: contoso
    client_id: "{{ spo_client_id }}"
    certificate_path: /etc/spo/app.pem
    state: [Submitted, Processing, Queued]
  register: running

- name: Wait up to a minute for a job to end, then show where it is
  spo.user_profiles.upa_job_info:
    tenant: contoso
    client_id: "{{ spo_client_id }}"
    certificate_path: /etc/spo/app.pem
    job_id: 5f4e7a2c-1111-2222-3333-444455556666
    wait_seconds: 60
  register: progress

- name: Print the job's state
  ansible.builtin.debug:
    msg: "The job is {{ progress.job.state }}"

- name: The jobs of one import file, with their logs
  spo.user_profiles.upa_job_info:
    tenant: contoso
    client_id: "{{ spo_client_id }}"
    certificate_path: /etc/spo/app.pem
    source_uri: https://contoso.sharepoint.com/Shared Documents/ProfileImport/profiles-3f2a.json
    include_log: true
"""

RETURN = r"""
jobs:
  description: The jobs found, in the service's order.
  returned: always
  type: list
  elements: dict
  contains:
    job_id:
      description: The job id.
      type: str
      sample: 5f4e7a2c-1111-2222-3333-444455556666
    state:
      description: C(Submitted), C(Processing), C(Queued), C(Succeeded), C(Error) (or C(Unknown)).
      type: str
      sample: Succeeded
    state_code:
      description: The state as the service's number.
      type: int
      sample: 4
    error:
      description:
        - C(NoError), C(InternalError), C(DataFileNotExist), C(DataFileNotInTenant), C(DataFileTooBig),
          C(InvalidDataFile) or C(ImportCompleteWithError).
      type: str
      sample: NoError
    error_code:
      description: The error as the service's number.
      type: int
      sample: 0
    error_meaning:
      description: What the error means, in words.
      type: str
    error_message:
      description: The service's error message, if any.
      type: str
    source_uri:
      description: The import file.
      type: str
    log_folder_uri:
      description: The folder of the job's log, once the job has run.
      type: str
    queued_at:
      description: Always V(null) here; the service does not say when a job was queued.
      type: str
    first_seen_at:
      description: When this module read the job (ISO 8601, UTC).
      type: str
    finished_at:
      description: Always V(null) here; see M(spo.user_profiles.upa_import_job), which watches jobs finish.
      type: str
    elapsed_seconds:
      description: Always V(null) here.
      type: float
    history:
      description: The state read, with the time it was read.
      type: list
      elements: dict
    log_files:
      description: Server-relative paths of the log files read.
      returned: with O(include_log=true)
      type: list
      elements: str
    log_entries:
      description: Parsed log lines; lines without a recognisable code have C(code=Unknown) and the whole line as message.
      returned: with O(include_log=true)
      type: list
      elements: dict
      sample: [{identity: unknown@contoso.com, code: IdentityNotResolvable, message: User identity cannot be resolved}]
    log_entries_truncated:
      description: Whether RV(jobs[].log_entries) was cut at O(max_log_entries).
      returned: with O(include_log=true)
      type: bool
    failed_identities:
      description: Every user the log names, once each.
      returned: with O(include_log=true)
      type: list
      elements: str
    counts:
      description: Number of log lines per code.
      returned: with O(include_log=true)
      type: dict
      sample: {IdentityNotResolvable: 2}
    failed_count:
      description: Failed users (identities plus records without identity); V(null) when there was no log.
      returned: with O(include_log=true)
      type: int
job:
  description: The first job of RV(jobs) (the one asked for with O(job_id)), or V(null) when none was found.
  returned: always
  type: dict
"""

from ansible_collections.spo.user_profiles.plugins.module_utils.base import SpoModule
from ansible_collections.spo.user_profiles.plugins.module_utils.errors import SpoError
from ansible_collections.spo.user_profiles.plugins.module_utils import import_run


def main():
    module = SpoModule(
        dict(
            job_id=dict(type="str"),
            state=dict(type="list", elements="str", choices=["Unknown", "Submitted", "Processing", "Queued", "Succeeded", "Error"]),
            source_uri=dict(type="str"),
            include_log=dict(type="bool", default=False),
            max_log_entries=dict(type="int", default=1000),
            wait_seconds=dict(type="int", default=0),
            poll_interval=dict(type="int", default=15),
        ),
        supports_check_mode=True,
    )
    params = module.params
    if params["max_log_entries"] < 0:
        module.fail_json(msg="max_log_entries must be 0 or more")
    if params["wait_seconds"] < 0:
        module.fail_json(msg="wait_seconds must be 0 or more")
    if params["poll_interval"] <= 0:
        module.fail_json(msg="poll_interval must be positive")
    if params["wait_seconds"] and not params["job_id"]:
        module.fail_json(msg="wait_seconds needs job_id: only one job is waited for")
    try:
        result = import_run.job_info(module.client(), job_id=params["job_id"], states=params["state"],
                                     source_uri=params["source_uri"], include_log=params["include_log"],
                                     max_log_entries=params["max_log_entries"], wait_seconds=params["wait_seconds"],
                                     poll_interval=params["poll_interval"])
    except SpoError as err:
        module.fail_from_error(err)
    module.exit_json(changed=False, **result)


if __name__ == "__main__":
    main()
