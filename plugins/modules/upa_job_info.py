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
    service keeps (C(Office365Tenant.GetImportProfilePropertyJobs)), optionally filtered by O(job_states) and O(source_uri).
  - With O(include_log=true), reads every file in each job's log folder and parses each line into
    C(identity), C(code) and C(message), with the users that failed and the number of lines per code.
  - Decides what each job's end means (RV(jobs[].outcome)), with the same rules as M(spo.user_profiles.upa_import_job)
    - a job still running, one that succeeded, one that ended in C(ImportCompleteWithError) with at most
    O(allowed_failures) failed users, or one that failed. A failed job does not fail this task.
  - Never changes anything.
version_added: 1.0.0
author:
  - Seed 085825a7 maintainers (@spo-user-profiles)
options:
  job_id:
    description:
      - The job to read (a GUID). When not set, all jobs are read; an empty job id is refused.
    type: str
  job_states:
    description:
      - Return only jobs in these states (a filter; this module never changes a job).
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
      - Each job costs at least two more requests, so combine it with O(job_id), O(job_states) or O(source_uri).
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
      - A job still running when the time is up is returned as it is (RV(jobs[].outcome=running)); that is not a
        failure here. The P(spo.user_profiles.bulk_import#role) role waits this way (with O(progress_interval)) and
        then fails the run on a job that failed or is still running; to wait for a job and fail on a timeout or a
        failed import in one task, use M(spo.user_profiles.upa_import_job).
      - V(0) reads the job once.
    type: int
    default: 0
  poll_interval:
    description:
      - Seconds before the first poll while waiting (O(wait_seconds)); the interval then grows by half each poll, up
        to O(max_poll_interval).
    type: int
    default: 15
  max_poll_interval:
    description:
      - The longest interval between two polls while waiting. Not set, it is O(poll_interval) (a fixed interval).
    type: int
  progress_interval:
    description:
      - While waiting (O(wait_seconds)), print a line every this many seconds with the job's state and the time waited
        so far, so that a long wait is one module run and still shows that it goes on. Printed by the action plugin on
        the controller; the job's state is in the line with a C(local) connection (the module leaves it in its
        temporary directory), the time waited otherwise.
      - Not set (or V(0)), nothing is printed until the task ends.
    type: int
  allowed_failures:
    description:
      - How many failed users a job that ended in C(ImportCompleteWithError) may have for its outcome to be
        V(succeeded_with_failures) rather than V(failed). Records without an identity count as failed users too.
      - The log of the job asked for with O(job_id) is read when it ended with errors, since the outcome depends on it.
        For other jobs the number of failed users is only known with O(include_log=true).
    type: int
    default: 0
extends_documentation_fragment:
  # First, so that its descriptions of check_mode and diff_mode are the ones shown.
  - spo.user_profiles.attributes.CHECK_MODE_READ_ONLY
  - spo.user_profiles.connection
  - spo.user_profiles.attributes
  - spo.user_profiles.attributes.ACTION_GROUP
  - spo.user_profiles.attributes.PROGRESS_ACTION
notes:
  - Needs the SharePoint application permissions C(Sites.FullControl.All) and C(User.ReadWrite.All) (the bulk import
    API).
    The permissions are read from the access token's C(roles) claim before anything is changed; a
    missing one fails the task at once, naming it, its API and where to grant it.
  - The service keeps no timestamps for jobs; RV(jobs[].first_seen_at) is when this module read the job.
  - The job list is returned in the service's order, newest first.
seealso:
  - module: spo.user_profiles.upa_import_job
"""

EXAMPLES = r"""
- name: All jobs that are still running
  spo.user_profiles.upa_job_info:
    tenant: contoso
    client_id: "{{ spo_client_id }}"
    certificate_path: "{{ spo_certificate_path }}"
    job_states: [Submitted, Processing, Queued]
  register: running

# The connection options from module_defaults (group/spo.user_profiles.spo) from here on.
# import_job is the registered result of spo.user_profiles.upa_import_job.
- name: Read one job with its log
  spo.user_profiles.upa_job_info:
    job_id: "{{ import_job.job.job_id }}"
    include_log: true
  register: info

- name: List the users that failed
  ansible.builtin.debug:
    var: info.job.failed_identities

- name: Wait up to a minute for a job to end, then show where it is
  spo.user_profiles.upa_job_info:
    job_id: "{{ import_job.job.job_id }}"
    wait_seconds: 60
  register: progress

- name: Print the job's state
  ansible.builtin.debug:
    msg: "The job is {{ progress.job.state }}"

- name: Wait up to an hour for a job, with a line every 30 s, and read its outcome
  spo.user_profiles.upa_job_info:
    job_id: "{{ import_job.job.job_id }}"
    wait_seconds: 3600
    poll_interval: 5
    max_poll_interval: 30
    progress_interval: 30
    allowed_failures: 5
  register: waited

- name: Fail unless the job succeeded (with at most 5 failed users)
  ansible.builtin.fail:
    msg: "{{ waited.job.outcome_message }}"
  when: waited.job.outcome in ['failed', 'running']

- name: The jobs of one import file, with their logs
  spo.user_profiles.upa_job_info:
    source_uri: "{{ import_job.job.source_uri }}"
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
      returned: with O(include_log=true), or with O(job_id) for a job that ended with errors
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
      returned: with O(include_log=true), or with O(job_id) for a job that ended with errors
      type: int
    outcome:
      description:
        - What the job's end means, decided with O(allowed_failures). V(running) (not ended yet), V(succeeded),
          V(succeeded_with_failures) (C(ImportCompleteWithError) with at most O(allowed_failures) failed users), or
          V(failed).
        - A job in C(ImportCompleteWithError) whose log was not read has an unknown number of failed users, and is
          V(failed) unless O(include_log=true) (or O(job_id)) shows otherwise.
      returned: always
      type: str
      sample: succeeded_with_failures
    outcome_message:
      description:
        - Why the outcome is V(failed), with the error, its meaning and the first log lines; for a job still running
          after O(wait_seconds), how long it was waited for; V(null) otherwise.
      returned: always
      type: str
job:
  description: The first job of RV(jobs) (the one asked for with O(job_id)), or V(null) when none was found.
  returned: always
  type: dict
"""

from ansible_collections.spo.user_profiles.plugins.module_utils import permissions
from ansible_collections.spo.user_profiles.plugins.module_utils.base import SpoModule, minimum_problems
from ansible_collections.spo.user_profiles.plugins.module_utils.errors import SpoError
from ansible_collections.spo.user_profiles.plugins.module_utils.job_info import job_info
from ansible_collections.spo.user_profiles.plugins.module_utils.progress import ProgressFile


def main():
    module = SpoModule(
        dict(
            job_id=dict(type="str"),
            job_states=dict(type="list", elements="str", choices=["Unknown", "Submitted", "Processing", "Queued", "Succeeded", "Error"]),
            source_uri=dict(type="str"),
            include_log=dict(type="bool", default=False),
            max_log_entries=dict(type="int", default=1000),
            wait_seconds=dict(type="int", default=0),
            poll_interval=dict(type="int", default=15),
            max_poll_interval=dict(type="int"),
            progress_interval=dict(type="int"),
            allowed_failures=dict(type="int", default=0),
        ),
        supports_check_mode=True,
    )
    params = module.params
    problems = minimum_problems(params, {"max_log_entries": 0, "wait_seconds": 0, "progress_interval": 0, "allowed_failures": 0})
    if params["poll_interval"] <= 0:
        problems.append("poll_interval must be positive, not %d" % params["poll_interval"])
    elif params["max_poll_interval"] is not None and params["max_poll_interval"] < params["poll_interval"]:
        problems.append("max_poll_interval must be at least poll_interval (%d), not %d" % (
            params["poll_interval"], params["max_poll_interval"]))
    if params["job_id"] == "":
        # Not "unset": a job id that templated to nothing would read every job instead of the one meant.
        problems.append("job_id is empty: give the id of the job to read (a GUID), or leave job_id out to read all jobs")
    elif params["wait_seconds"] and params["job_id"] is None:
        problems.append("wait_seconds needs job_id: only one job is waited for")
    module.fail_on_option_problems(problems)
    progress_file = ProgressFile.of_module(module.module) if params["progress_interval"] else None
    try:
        result = job_info(module.client(permissions.BULK_IMPORT), job_id=params["job_id"], states=params["job_states"],
                          source_uri=params["source_uri"], include_log=params["include_log"],
                          max_log_entries=params["max_log_entries"], wait_seconds=params["wait_seconds"],
                          poll_interval=params["poll_interval"], max_interval=params["max_poll_interval"],
                          allowed_failures=params["allowed_failures"],
                          progress=progress_file and (lambda job, elapsed: progress_file.write({"job": job})))
    except SpoError as err:
        module.fail_from_error(err)
    module.exit_json(changed=False, **result)


if __name__ == "__main__":
    main()
