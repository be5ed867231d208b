#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright (c) spo.user_profiles contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
---
module: tenant_report
short_description: Write a tenant's report of one run, built from the results of a role's steps, on the controller
description:
  - Builds the record of one tenant for one part of the sync (O(section)) from the registered results of the steps that
    ran (O(results)) and the failure, if one step failed (O(failure)), and writes it into the run's directory
    O(dest)/O(run_id)/ as C(<tenant>.json) and a Markdown summary C(<tenant>.md).
  - The record counts users submitted, imported, failed (by reason) and already imported before the run, lists the
    files and jobs with the times this run observed, and names the step that failed with what to do about it. It
    decides nothing; the outcome of each job is the one the modules returned.
  - Each run writes into its own directory, so runs over different C(--limit)s never overwrite each other. A
    check-mode run writes into C(<run_id>-check) and never into a real run's directory. Two sections of the same run
    (a playbook that runs both roles) go into one file; sections of other runs never do.
  - Returns the run's outcome for this tenant as AWX / Automation Controller statistics (C(set_stats) style, merged
    across hosts under the key C(spo_user_profiles)).
  - Used by the P(spo.user_profiles.bulk_import#role) and P(spo.user_profiles.profile_photos#role) roles.
  - This is an action plugin that does all its work on the Ansible controller, whatever the connection of the host
    is; no module is sent or run on the target, and the connection is never opened.
version_added: 1.0.0
author:
  - Seed 085825a7 maintainers (@spo-user-profiles)
options:
  dest:
    description:
      - The report directory on the controller. The run's directory is created in it (mode C(0755)) when missing.
    type: path
    required: true
  run_id:
    description:
      - The name of the run, and of its directory under O(dest). Letters, digits and C(. _ @ + -).
      - The roles use C(spo_run_id), else C(awx_workflow_job_id) (shared by the slices of a sliced job), else
        C(awx_job_id), else the start time.
    type: str
    required: true
  tenant:
    description:
      - The tenant name, used as the file base name. Letters, digits and C(. _ @ + -), not starting with a dot or a dash.
      - Not V(combined), in any case, the name of the run's combined report (M(spo.user_profiles.combined_report)).
    type: str
    required: true
  section:
    description: Which part of the sync the record is about.
    type: str
    required: true
    choices: [bulk_import, profile_photos]
  started_at:
    description:
      - When the tenant's run of this section started (ISO 8601, UTC), such as V(2026-03-01T06:00:00Z). A time without a
        zone is refused.
    type: str
    required: true
  results:
    description:
      - The registered results of the steps, as the role registered them; a step that did not run is an empty dict.
        A result of another shape (not a dict, or not as the module returns it) is refused, naming it.
      - For V(bulk_import), C(source) (a name for the source, required), C(upload)
        (M(spo.user_profiles.upa_import_file)), C(queue) (a loop of M(spo.user_profiles.upa_import_job) over the
        files), C(wait) (a loop of M(spo.user_profiles.upa_job_info) over the queue results), C(retention)
        (M(spo.user_profiles.upa_retention)),
        C(per_user) (M(spo.user_profiles.user_profile_property), the writes user by user) and C(baseline)
        (M(spo.user_profiles.upa_import_baseline)).
      - For V(profile_photos), C(sync) (M(spo.user_profiles.profile_photo)).
    type: dict
    required: true
  failure:
    description:
      - The step that failed, when one did - C(task) (its name), C(action) and C(result), as in a C(rescue) section
        (C(ansible_failed_task.name), C(ansible_failed_task.action), C(ansible_failed_result)); C(result) is a dict.
    type: dict
extends_documentation_fragment:
  # First, so that its descriptions of the attributes are the ones shown.
  - spo.user_profiles.attributes.CONTROLLER_REPORT
  - action_common_attributes
  - action_common_attributes.conn
  - action_common_attributes.flow
  - action_common_attributes.files
seealso:
  - module: spo.user_profiles.combined_report
"""

EXAMPLES = r"""
- name: Note when this tenant's run started
  ansible.builtin.set_fact:
    started_at: "{{ now(utc=true).strftime('%Y-%m-%dT%H:%M:%SZ') }}"

- name: Sync the photos, write this tenant's report of the run, and fail the tenant with one message if the sync failed
  block:
    - name: Sync the photos
      spo.user_profiles.profile_photo:
        src_dir: "{{ hr_exports }}/photos"
      register: photos
  rescue:
    - name: Remember the failure
      ansible.builtin.set_fact:
        photo_failure: {task: "{{ ansible_failed_task.name }}", action: "{{ ansible_failed_task.action }}",
                        result: "{{ ansible_failed_result }}"}
  always:
    - name: Write the report (on the controller)
      spo.user_profiles.tenant_report:
        dest: "{{ spo_report_dir }}"
        run_id: "{{ spo_run_id }}"
        tenant: "{{ inventory_hostname }}"
        section: profile_photos
        started_at: "{{ started_at }}"
        results:
          sync: "{{ photos }}"
        failure: "{{ photo_failure | default(none) }}"
      register: report

    - name: Fail with what failed and what to do
      ansible.builtin.fail:
        msg: "{{ report.failure_message }}"
      when: report.failure_message is defined
"""

RETURN = r"""
record:
  description: The record of this section, as written into the JSON report.
  returned: always
  type: dict
  sample: {"outcome": "imported_with_failures", "summary": "20 imported, 2 failed",
           "users": {"submitted": 22, "imported": 20, "failed": 2, "unchanged": 0,
                     "failed_by_reason": {"IdentityNotResolvable": 2}},
           "error": null, "started_at": "2026-03-01T06:00:00Z", "finished_at": "2026-03-01T06:05:12Z",
           "duration_seconds": 312}
failure_message:
  description: One line for a person - the tenant, the step that failed, why, and what to do.
  returned: when O(failure) is set
  type: str
  sample: >-
    contoso: bulk import failed at step 'upload': sign in: AADSTS700016: Application not found (HTTP 400).
    Check spo_certificate_path (and spo_certificate_password), that its certificate is the one uploaded to the app
    registration spo_client_id names, and the tenant signed in to: spo_tenant_id, else <spo_tenant>.onmicrosoft.com
    (spo_tenant is the inventory host name unless set).
json_path:
  description: The path of the JSON report.
  returned: always
  type: str
  sample: /var/log/spo/reports/20260301T060000Z-1a2b/contoso.json
markdown_path:
  description: The path of the Markdown summary.
  returned: always
  type: str
  sample: /var/log/spo/reports/20260301T060000Z-1a2b/contoso.md
run_directory:
  description: The run's directory (C(<run_id>-check) in check mode).
  returned: always
  type: str
  sample: /var/log/spo/reports/20260301T060000Z-1a2b
"""
