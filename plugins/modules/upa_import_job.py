#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright (c) spo.user_profiles contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
module: upa_import_job
short_description: Queue SharePoint Online user profile bulk import jobs, wait for them, and explain the outcome
description:
  - Queues a bulk import of user profile properties from a JSON file already uploaded to the tenant
    (for example by M(spo.user_profiles.upa_import_file)), through the CSOM method
    C(Office365Tenant.QueueImportProfileProperties) on the tenant admin host.
  - Idempotent. Each job queued on a file is remembered in a small job record beside it (C(<file>.jobs.json) in the
    same folder), so before queueing it reads that record and the jobs it names, and never the tenant's whole job list
    (which only grows, and which SharePoint refuses to list or add to past its list view threshold). The import
    file's name carries a hash of its content, so the same URI means the same data; the record keeps the O(id_type),
    O(id_property) and O(property_map) each job was queued with, so the same data with another mapping is another
    import. A job queued on the file with the same mapping that exists and did not fail to import is returned
    with C(changed=false), and waited for if it is still running; a job that ended with C(ImportCompleteWithError)
    imported the file, whether the service shows it in state C(Succeeded) or C(Error). O(force=true) queues a new job
    anyway.
  - Waits for the job to reach C(Succeeded) or C(Error), polling every O(poll_interval) seconds at first and
    gently less often for long jobs (the interval grows by half each poll, up to O(max_poll_interval)). A timeout fails
    the task with the job id, its last state and how long it waited; the job keeps running on the service and a rerun
    picks it up instead of queueing a second one.
  - A job that ends in C(Error) without importing, or with C(ImportCompleteWithError) and more failed users than
    O(allowed_failures) (in either state), fails the task. The message names the error code, its meaning and the first lines of the job's log, and the job,
    with its parsed log, is in the result.
  - When the service answers the queue call with an empty job id (C(Guid.Empty), a known quirk), the job is found
    by its source URI in the job list; that, and a queue call whose answer was lost, are the only times the job list
    is read.
  - Validation errors raised when queueing (a user-editable, unknown or Entra-synced property, for example
    C(Property Names [AboutMe] are editable by user.)) fail the task with the service's message.
  - O(state=absent) deletes a job record (C(Office365Tenant.DeleteImportProfilePropertiesJob)).
version_added: 1.0.0
author:
  - Seed 085825a7 maintainers (@spo-user-profiles)
options:
  state:
    description:
      - V(present) queues (or finds) a job for each O(source_uri), or follows the job O(job_id).
      - V(absent) deletes the job record O(job_id); the files in its log folder are not deleted.
    type: str
    choices: [present, absent]
    default: present
  source_uri:
    description:
      - Absolute URL of the uploaded import file, for example
        C(https://contoso.sharepoint.com/Shared Documents/ProfileImport/profiles-3f2a.json), decoded or percent-encoded.
      - It must be a file of this tenant, and it must exist; otherwise nothing is queued, because the service would end
        the job in C(Error) and keep its record in the tenant's job list. A C(#) or C(%) in the file's folder or name is
        refused (the service's reading of them cannot be relied on).
      - Several files are run one after another, each job waited for before the next is queued, as Microsoft's
        documentation recommends. The first one that fails stops the run.
      - With O(state=present), give either this or O(job_id).
    type: list
    elements: str
  id_type:
    description:
      - How the service matches the id in the file to a user.
      - V(email) matches the Entra ID C(mail) attribute, V(cloud_id) the Entra ID object id,
        V(principal_name) the user principal name. Microsoft recommends V(cloud_id).
    type: str
    choices: [email, cloud_id, principal_name]
    default: email
  id_property:
    description:
      - The name of the property in the file that holds each user's id, for example V(IdName).
      - Required with O(source_uri).
    type: str
  property_map:
    description:
      - Maps the property names in the file (keys) to user profile property names (values).
      - Every property in the file other than O(id_property) must be mapped; an unmapped one aborts the import.
      - Two properties of the file mapped to the same profile property (names compared without regard to case) are
        refused before the job is queued, because the service would keep only one of their values.
      - A profile property name with a space at either end, or with an invisible character anywhere (a control or
        format character, such as U+200B, or whitespace other than the space, such as U+00A0), is refused before the
        job is queued.
      - Only properties that users cannot edit themselves can be imported; multi-value and taxonomy properties
        cannot be imported at all.
      - Required with O(source_uri).
    type: dict
  force:
    description:
      - Queue a new job even when one already exists for the same O(source_uri).
    type: bool
    default: false
  wait:
    description:
      - Wait until the job has finished, decide its outcome (RV(job.outcome)) and fail the task when that is a failure.
      - With V(false), the job is returned as it was queued or found, without a verdict, also when it has already
        ended. To wait for it and decide its outcome later, give its RV(job.job_id) to
        O(spo.user_profiles.upa_job_info#module:job_id), as the P(spo.user_profiles.bulk_import#role) role does.
      - With V(false) and several O(source_uri), every job but the last is still waited for and judged, so that the
        jobs run one after another.
    type: bool
    default: true
  wait_timeout:
    description:
      - How many seconds to wait for one job. Jobs commonly take minutes and may take hours.
    type: int
    default: 3600
  poll_interval:
    description:
      - Seconds between the first polls of the job's state.
    type: int
    default: 15
  max_poll_interval:
    description:
      - The longest interval between two polls, which the interval reaches by growing by half each poll.
    type: int
    default: 120
  allowed_failures:
    description:
      - How many failed users (named in the log of a job that ends in C(ImportCompleteWithError)) are accepted
        before the task fails. Records without an identity (C(MissingIdentity)) count as failed users too.
    type: int
    default: 0
  max_log_entries:
    description:
      - How many parsed log lines to return per job in RV(job.log_entries). RV(job.failed_identities) and
        RV(job.counts) always cover the whole log.
    type: int
    default: 1000
  job_id:
    description:
      - With O(state=present), a job queued earlier to wait for and judge instead of queueing one, for example the
        RV(job.job_id) of an earlier call with O(wait=false). Nothing is queued, not even when the job failed to import
        (a search by O(source_uri) would queue a new job then). Mutually exclusive with O(source_uri);
        O(id_type), O(id_property), O(property_map) and O(force) are not used.
      - The job to delete with O(state=absent).
      - An empty value (such as a variable that templated to nothing) is refused before anything is sent.
    type: str
extends_documentation_fragment:
  - spo.user_profiles.connection
  - spo.user_profiles.attributes
  - spo.user_profiles.attributes.ACTION_GROUP
attributes:
  check_mode:
    support: full
    description:
      - Reports the jobs that would be queued (RV(would_queue)) and queues nothing. An existing job for a source is
        reported with C(changed=false). With O(state=absent), reports whether the job exists.
  diff_mode:
    support: full
    description:
      - The jobs known for each source before and after, one line per job (id, state, error).
notes:
  - Needs the SharePoint application permissions C(Sites.FullControl.All) and C(User.ReadWrite.All) (the bulk import
    API refuses an app without the second).
    The permissions are read from the access token's C(roles) claim before anything is changed; a
    missing one fails the task at once, naming it, its API and where to grant it.
  - The service's job list does not record the id type or the property map of a job; the job record beside the file
    does. A job that the record does not name with this mapping (queued by another tool, or recorded by version
    1.0.0 of this collection, whose records do not keep it) is not reused; a new job is queued.
  - The service keeps no timestamps for jobs. RV(job.queued_at), RV(job.finished_at) and RV(job.elapsed_seconds) are
    the times this run observed.
  - The service never removes job records or log folders. M(spo.user_profiles.upa_retention) deletes the old ones (as
    the P(spo.user_profiles.bulk_import#role) role does after each run); O(state=absent) deletes one job record.
  - Past the list view threshold of the job list (5,000 records), the service refuses to queue; the task then fails
    saying so and how to delete old job records.
  - A job queued on the same file by another tool is not in the file's job record and is not looked for; the file is
    queued again, which imports the same values again.
seealso:
  - module: spo.user_profiles.upa_import_file
  - module: spo.user_profiles.upa_job_info
  - name: Bulk user profile update API for SharePoint Online
    description: Microsoft's documentation of the import file, the job states and the error codes.
    link: https://learn.microsoft.com/en-us/sharepoint/dev/solution-guidance/bulk-user-profile-update-api-for-sharepoint-online
"""

EXAMPLES = r"""
- name: Upload the import file
  spo.user_profiles.upa_import_file:
    tenant: contoso
    client_id: "{{ spo_client_id }}"
    certificate_path: "{{ spo_certificate_path }}"
    records: "{{ hr_records }}"
    id_property: IdName
    id_type: principal_name
    property_map:
      CostCenter: CostCenter
      Building: Building
    name: hr-sync
  register: upload

- name: Queue the import and wait for it
  spo.user_profiles.upa_import_job:
    tenant: contoso
    client_id: "{{ spo_client_id }}"
    certificate_path: "{{ spo_certificate_path }}"
    source_uri: "{{ upload.files | map(attribute='source_uri') | list }}"
    id_type: principal_name
    id_property: IdName
    property_map:
      CostCenter: CostCenter
      Building: Building
    wait_timeout: 7200
    allowed_failures: 5
  register: import_job

- name: Show the users the service could not update
  ansible.builtin.debug:
    var: import_job.job.failed_identities

# The connection options from module_defaults (group/spo.user_profiles.spo) from here on.
- name: Queue without waiting (a rerun finds the job already queued on the same file)
  spo.user_profiles.upa_import_job:
    source_uri: "{{ upload.files | map(attribute='source_uri') | list }}"
    id_type: principal_name
    id_property: IdName
    property_map:
      CostCenter: CostCenter
      Building: Building
    wait: false
  register: queued

- name: Later, wait for that job and judge it
  spo.user_profiles.upa_import_job:
    job_id: "{{ queued.job.job_id }}"
    allowed_failures: 5

- name: Delete the service's record of that job
  spo.user_profiles.upa_import_job:
    state: absent
    job_id: "{{ queued.job.job_id }}"
"""

RETURN = r"""
job:
  description: The last job handled (the last O(source_uri), or O(job_id)), or the deleted job with O(state=absent).
  returned: always
  type: dict
  contains:
    job_id:
      description: The job id. V(null) in check mode for a job that would be queued.
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
      sample: ImportCompleteWithError
    error_code:
      description: The error as the service's number.
      type: int
      sample: 30
    error_meaning:
      description: What the error means, in words.
      type: str
      sample: the import ran, but some users or values failed; the log names them
    error_message:
      description: The service's error message, if any.
      type: str
    source_uri:
      description: The import file.
      type: str
      sample: https://contoso.sharepoint.com/Shared Documents/ProfileImport/profiles-3f2a.json
    log_folder_uri:
      description: The folder where the service wrote the job's log, once it has run.
      type: str
      sample: https://contoso.sharepoint.com/Shared Documents/ProfileImport/5f4e7a2c-1111-2222-3333-444455556666
    queued_at:
      description: When this run queued the job (ISO 8601, UTC); V(null) for a job queued before this run.
      type: str
      sample: "2026-03-01T06:00:02.114Z"
    first_seen_at:
      description: When this run first read the job.
      type: str
    finished_at:
      description:
        - When this run saw the job reach C(Succeeded) or C(Error); V(null) while it runs, or when it had already
          finished when this run first saw it.
      type: str
    elapsed_seconds:
      description:
        - Seconds from RV(job.queued_at) (or, for an earlier job, RV(job.first_seen_at)) to RV(job.finished_at)
          or now; V(null) when this run saw neither the queueing nor the end.
      type: float
      sample: 312.4
    history:
      description: Each state this run saw, with the time it first saw it.
      type: list
      elements: dict
      sample: [{state: Submitted, at: "2026-03-01T06:00:02Z"}, {state: Succeeded, at: "2026-03-01T06:05:14Z"}]
    log_files:
      description: Server-relative paths of the log files read. Returned when the job ended with an error.
      type: list
      elements: str
    log_entries:
      description:
        - The log's lines, parsed. Lines without a recognisable code have C(code=Unknown) and the whole line as message.
        - At most O(max_log_entries); RV(job.log_entries_truncated) says whether there were more.
      type: list
      elements: dict
      sample: [{identity: unknown@contoso.com, code: IdentityNotResolvable, message: User identity cannot be resolved}]
    log_entries_truncated:
      description: Whether RV(job.log_entries) was cut at O(max_log_entries).
      type: bool
    failed_identities:
      description: Every user the log names, once each, in the order of the log.
      type: list
      elements: str
      sample: [unknown@contoso.com]
    counts:
      description: Number of log lines per code.
      type: dict
      sample: {IdentityNotResolvable: 2, MissingIdentity: 1}
    failed_count:
      description: Failed users (RV(job.failed_identities) plus records without identity); V(null) when there was no log.
      type: int
    outcome:
      description:
        - What the job's end means, decided once, when the job was waited for (not with O(wait=false)).
        - V(succeeded), V(succeeded_with_failures) (C(ImportCompleteWithError) with at most O(allowed_failures) failed
          users), V(failed) (the task fails), or V(running) (check mode, for a job that would be waited for).
      type: str
      sample: succeeded
    outcome_message:
      description: Why the outcome is V(failed), with the error, its meaning and the first log lines; V(null) otherwise.
      type: str
jobs:
  description: One entry per O(source_uri) (or the one O(job_id)), in order, each shaped like RV(job).
  returned: always
  type: list
  elements: dict
timed_out:
  description:
    - Whether the task failed because O(wait_timeout) ran out while the job was still running. The job keeps running
      on the service; a rerun waits for it instead of queueing another.
  returned: always
  type: bool
would_queue:
  description: In check mode, the jobs that would have been queued.
  returned: always
  type: list
  elements: dict
  sample: [{source_uri: "https://contoso.sharepoint.com/Shared Documents/p.json", id_type: email, id_property: IdName,
            property_map: {City: SPS-Location}}]
"""

from ansible_collections.spo.user_profiles.plugins.module_utils.base import SpoModule, minimum_problems
from ansible_collections.spo.user_profiles.plugins.module_utils.errors import SpoError
from ansible_collections.spo.user_profiles.plugins.module_utils import (
    import_location, import_run, import_validation, job_api, permissions,
)


def argument_spec():
    return dict(
        state=dict(type="str", choices=["present", "absent"], default="present"),
        source_uri=dict(type="list", elements="str"),
        id_type=dict(type="str", choices=sorted(job_api.ID_TYPES), default="email"),
        id_property=dict(type="str"),
        property_map=dict(type="dict"),
        force=dict(type="bool", default=False),
        wait=dict(type="bool", default=True),
        wait_timeout=dict(type="int", default=3600),
        poll_interval=dict(type="int", default=15),
        max_poll_interval=dict(type="int", default=120),
        allowed_failures=dict(type="int", default=0),
        max_log_entries=dict(type="int", default=1000),
        job_id=dict(type="str"),
    )


def delete(module):
    job_id = module.params["job_id"]
    client = module.client(permissions.BULK_IMPORT)
    job = job_api.get_job(client, job_id)
    result = {"changed": job is not None, "job": job, "jobs": [job] if job else [], "would_queue": []}
    if module.diff_mode:
        result["diff"] = {"before": {"job": job_api.job_line(job) if job else None}, "after": {"job": None}}
    if job is not None and not module.check_mode:
        job_api.delete_job(client, job_id)
    return result


def present(module):
    params = module.params
    problems = minimum_problems(params, {"wait_timeout": 0, "max_log_entries": 0, "allowed_failures": 0})
    problems.extend("%s must be positive, not %d" % (name, params[name])
                    for name in ("poll_interval", "max_poll_interval") if params[name] <= 0)
    # A job queued on a file it cannot read ends in Error and stays in the tenant's job list: refused first.
    problems.extend(import_location.source_uri_problem(uri, module.tenant_urls()) for uri in params["source_uri"] or [])
    problems.extend("property_map.%s: %s" % (found["field"], found["message"])
                    for found in import_validation.target_problems(params["property_map"] or {}))
    module.fail_on_option_problems(problems)
    client = module.client(permissions.BULK_IMPORT)
    run = import_run.ImportRun(
        client, params["id_type"], params["id_property"], params["property_map"], force=params["force"],
        wait=params["wait"], wait_timeout=params["wait_timeout"], poll_interval=params["poll_interval"],
        max_interval=params["max_poll_interval"], allowed_failures=params["allowed_failures"],
        check_mode=module.check_mode, max_log_entries=params["max_log_entries"], diff=module.diff_mode,
    )
    return run.follow(params["job_id"]) if params["job_id"] else run.run(params["source_uri"])


def main():
    module = SpoModule(
        argument_spec(),
        supports_check_mode=True,
        required_if=[
            ("state", "present", ("source_uri", "job_id"), True),
            ("state", "absent", ("job_id",)),
        ],
        required_by={"source_uri": ("id_property", "property_map")},
        mutually_exclusive=[("source_uri", "job_id")],
    )
    if module.params["job_id"] == "":
        # Not "unset": a job id that templated to nothing would queue the files, or delete nothing, instead of the job meant.
        module.fail_on_option_problems(["job_id is empty: give the id of the job to follow (state=present) or delete "
                                        "(state=absent), a GUID"])
    try:
        result = delete(module) if module.params["state"] == "absent" else present(module)
    except SpoError as err:
        module.fail_from_error(err, **getattr(err, "result", {}))
    module.exit_json(**result)


if __name__ == "__main__":
    main()
