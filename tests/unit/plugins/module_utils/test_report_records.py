# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The report records, from registered results shaped as Ansible registers them for the bulk_import role."""

from __future__ import annotations

import os

import pytest
import yaml

from ansible_collections.spo.user_profiles.plugins.module_utils import report_records

FILE = {"name": "hr-0123456789abcdef.json", "records": 22, "uploaded": True,
        "source_uri": "https://contoso.sharepoint.com/Shared Documents/ProfileImport/hr-0123456789abcdef.json"}
JOB_ID = "5f4e7a2c-1111-2222-3333-444455556666"


def upload(files=(FILE,), changed=True):
    return {"changed": changed, "files": [dict(item) for item in files], "records": sum(f["records"] for f in files),
            "properties": 66, "ignored_fields": ["nickname"], "problems": [], "problem_count": 0}


def queued(changed=True, job_id=JOB_ID, state="Submitted", queued_at="2026-03-01T06:00:00Z"):
    job = {"job_id": job_id, "state": state, "error": "NoError", "queued_at": queued_at if changed else None,
           "first_seen_at": "2026-03-01T06:00:00Z"}
    return {"results": [{"item": dict(FILE), "changed": changed, "job": job}]}


def waited(queue, **job):
    final = {"job_id": JOB_ID, "state": "Succeeded", "error": "NoError", "outcome": "succeeded", "failed_count": None,
             "counts": {}, "failed_identities": [], "log_entries": [], "finished_at": "2026-03-01T06:05:00Z",
             "first_seen_at": "2026-03-01T06:04:30Z"}
    final.update(job)
    return {"results": [{"item": queue["results"][0], "changed": False, "job": final, "attempts": 3}]}


def test_a_clean_import_counts_every_user_as_imported_with_its_times():
    queue = queued()
    record = report_records.bulk_import(False, "/srv/hr.csv", upload(), queue, waited(queue))
    assert record["outcome"] == "imported"
    assert record["users"] == {"submitted": 22, "imported": 22, "failed": 0, "unchanged": 0, "failed_by_reason": {}}
    job = record["jobs"][0]
    assert job["queued_by_this_run"] and job["queued_at"] == "2026-03-01T06:00:00Z"
    assert job["finished_at"] == "2026-03-01T06:05:00Z" and job["elapsed_seconds"] == 300.0
    assert record["summary"] == "22 imported" and record["error"] is None


def test_the_clean_up_lists_the_files_log_folders_and_job_records_it_removed():
    queue = queued()
    cleanup = {"changed": True, "removed_files": ["hr-old.json", "hr-old.jobs.json"], "removed_log_folders": [JOB_ID],
               "removed_jobs": [JOB_ID], "protected": [], "cutoff": "2026-02-01T00:00:00Z"}
    record = report_records.bulk_import(False, "/srv/hr.csv", upload(), queue, waited(queue), retention=cleanup)
    assert record["retention"] == {"removed_files": ["hr-old.json", "hr-old.jobs.json"], "removed_log_folders": [JOB_ID],
                                   "removed_jobs": [JOB_ID], "protected": []}


def test_import_complete_with_error_counts_the_failed_users_of_the_log():
    queue = queued()
    wait = waited(queue, state="Succeeded", error="ImportCompleteWithError", outcome="succeeded_with_failures",
                  failed_count=2, counts={"IdentityNotResolvable": 2}, failed_identities=["a@x.com", "b@x.com"])
    record = report_records.bulk_import(False, "/srv/hr.csv", upload(), queue, wait)
    assert record["outcome"] == "imported_with_failures"
    assert record["users"]["submitted"] == 22 and record["users"]["imported"] == 20 and record["users"]["failed"] == 2
    assert record["users"]["failed_by_reason"] == {"IdentityNotResolvable": 2}
    assert record["jobs"][0]["elapsed_seconds"] == 300.0 and record["summary"] == "20 imported, 2 failed"


def test_a_job_that_ended_between_two_rounds_is_timed_from_when_it_was_first_seen_ended():
    queue = queued()
    record = report_records.bulk_import(False, "src", upload(), queue, waited(queue, finished_at=None))
    assert record["jobs"][0]["finished_at"] == "2026-03-01T06:04:30Z"
    assert record["jobs"][0]["elapsed_seconds"] == 270.0


def test_an_unchanged_rerun_submits_nothing_and_counts_the_users_imported_before():
    queue = queued(changed=False, state="Succeeded")
    wait = waited(queue, error="ImportCompleteWithError", outcome="succeeded_with_failures", failed_count=2)
    record = report_records.bulk_import(False, "src", upload(changed=False), queue, wait)
    assert record["outcome"] == "unchanged"
    assert record["users"] == {"submitted": 0, "imported": 0, "failed": 0, "unchanged": 20, "failed_by_reason": {}}
    assert record["jobs"][0]["queued_at"] is None and record["jobs"][0]["elapsed_seconds"] is None
    assert record["summary"] == "unchanged (20 users)"


def test_check_mode_reports_what_would_be_imported():
    queue = {"results": [{"item": FILE, "changed": True, "job": {"job_id": None, "state": None}}]}
    wait = {"results": [{"item": queue["results"][0], "skipped": True, "changed": False}]}
    record = report_records.bulk_import(True, "src", upload(), queue, wait)
    assert record["outcome"] == "would_import" and record["summary"] == "would import 22 users"
    assert record["jobs"][0]["outcome"] == "would_queue" and record["users"]["submitted"] == 0


def test_check_mode_without_change_is_unchanged():
    queue = queued(changed=False, state="Succeeded")
    unchanged_upload = upload(files=[dict(FILE, uploaded=False)], changed=False)
    record = report_records.bulk_import(True, "src", unchanged_upload, queue, waited(queue))
    assert record["outcome"] == "unchanged"


def test_a_job_that_failed_as_a_whole_counts_every_user_as_failed():
    queue = queued()
    wait = waited(queue, state="Error", error="InternalError", outcome="failed", outcome_message="the job failed")
    error = report_records.failure("Fail on a job whose outcome is a failure", "ansible.builtin.fail",
                                   {"failed": True, "results": [{"failed": True, "msg": "the job failed",
                                                                 "item": wait["results"][0]}]}, "/r/t.md")
    record = report_records.bulk_import(False, "src", upload(), queue, wait, error=error)
    assert record["outcome"] == "failed"
    assert record["users"]["submitted"] == 22 and record["users"]["imported"] == 0 and record["users"]["failed"] == 22
    assert error["step"] == "outcome" and error["job_id"] == JOB_ID
    assert error["hint"].endswith("(/r/t.md)")


def test_a_failed_upload_keeps_its_problems_and_says_nothing_was_uploaded():
    result = {"failed": True, "msg": "2 problem(s) in the source, nothing was uploaded: ...", "problem_count": 2,
              "problems": [{"record": 3, "line": 4, "field": "mail", "message": "not an email address"}]}
    error = report_records.failure("Build, check and upload the import files", "spo.user_profiles.upa_import_file",
                                   result)
    record = report_records.bulk_import(False, "src", result, {}, {}, error=error)
    assert error["step"] == "upload" and "nothing was uploaded" in error["hint"]
    assert record["problems"][0]["record"] == 3 and record["jobs"] == [] and record["outcome"] == "failed"


def test_a_sign_in_failure_points_at_the_credentials_not_at_uploaded_files():
    result = {"failed": True, "msg": "sign in: AADSTS700027: Client assertion failed signature validation.",
              "status": 401, "operation": "sign in", "error_code": "AADSTS700027"}
    error = report_records.failure("Build, check and upload the import files", "spo.user_profiles.upa_import_file",
                                   result)
    line = report_records.failure_line("contoso", "bulk_import", error)
    assert "spo_client_id" in line and "certificate" in line
    assert "left in place" not in line and "uploaded" not in error["hint"]
    assert line.startswith("contoso: bulk import failed at step 'upload': sign in: AADSTS700027")


@pytest.mark.parametrize("result, named, not_named", [
    # An expired token: nothing else to check but the token and the tenant it was issued for.
    ({"msg": "sign in: access_token expired 60 seconds ago (at 2026-03-01 06:00:00 UTC): a given token is never "
             "renewed; give a new one, or credentials to sign in with", "operation": "sign in", "status": None,
      "credential": "access_token"},
     ["spo_access_token", "spo_tenant"], ["spo_certificate_path", "spo_client_id"]),
    # A token the service refused, in a step after the sign-in.
    ({"msg": "read job list: Unauthorized (HTTP 401)", "operation": "read job list", "status": 401,
      "credential": "access_token"},
     ["spo_access_token", "spo_tenant"], ["spo_certificate_path"]),
    # A mistyped tenant: the tenant signed in to is spo_tenant's initial domain.
    ({"msg": "sign in: cannot use the sign-in authority for tenant_id contosso.onmicrosoft.com: Unable to get "
             "authority configuration", "operation": "sign in", "status": None, "credential": "certificate"},
     ["spo_tenant_id", "<spo_tenant>.onmicrosoft.com", "spo_client_id"], ["spo_access_token"]),
    ({"msg": "sign in: cannot read certificate_path /secure/nope.pem: No such file or directory",
      "operation": "sign in", "status": None, "credential": "certificate"},
     ["spo_certificate_path", "spo_certificate_password"], ["spo_access_token", "spo_client_secret"]),
    ({"msg": "sign in: SharePoint Online refuses app-only tokens obtained with a client secret",
      "operation": "sign in", "status": None, "credential": "client_secret"},
     ["spo_certificate_path", "spo_client_id", "spo_client_secret"], ["spo_access_token"]),
    # No credential at all (a module run outside the roles, which check that one is set).
    ({"msg": "sign in: give certificate_path (or access_token) to sign in",
      "operation": "sign in", "status": None, "credential": None},
     ["spo_client_id", "spo_certificate_path", "spo_access_token", "spo_tenant"], []),
])
def test_a_sign_in_failure_names_the_variables_of_the_credential_used(result, named, not_named):
    error = report_records.failure("Build, check and upload the import files", "spo.user_profiles.upa_import_file",
                                   dict(result, failed=True))
    assert [name for name in named if name not in error["hint"]] == []
    assert [name for name in not_named if name in error["hint"]] == []


def test_a_wait_that_ran_out_is_a_failure_of_the_wait_and_says_the_job_goes_on():
    queue = queued()
    waited_item = {"item": queue["results"][0], "job": {"job_id": JOB_ID, "state": "Processing", "outcome": "running"}}
    outcome = {"failed": True, "results": [{"item": waited_item, "failed": True,
                                            "msg": "import job %s is still Processing after waiting 3600 s" % JOB_ID}]}
    error = report_records.failure("Take each job's outcome", "ansible.builtin.fail", outcome)
    assert error["step"] == "wait" and "still Processing after waiting 3600 s" in error["message"]
    assert "next run waits for it" in error["hint"] and error["job_id"] == JOB_ID


@pytest.mark.parametrize("refusal, variable", [
    ("Property Names [Languages] are Taxonomic Properties: the bulk import API cannot import multi-value or taxonomy "
     "properties (Languages); leave them out of property_map and write them user by user with "
     "spo.user_profiles.user_profile_property", "bulk_import_multi_value_properties"),
    ("Property Names [AboutMe] are editable by user.", "bulk_import_user_editable_properties"),
])
def test_a_property_the_bulk_api_refuses_is_explained_with_the_role_s_variables(refusal, variable):
    failed = {"failed": True, "results": [{"failed": True, "msg": "queue import job for hr-1.json: %s" % refusal}]}
    error = report_records.failure("Queue", "spo.user_profiles.upa_import_job", failed)
    assert error["step"] == "queue" and variable in error["hint"] and "bulk_import_write_per_user: true" in error["hint"]
    assert error["hint"].startswith("Declare %s in " % refusal.split("[")[1].split("]")[0])


def test_a_permission_error_says_what_to_grant():
    error = report_records.failure("Queue", "spo.user_profiles.upa_import_job",
                                   {"failed": True, "results": [{"failed": True, "msg": "Access denied", "status": 403}]})
    assert error["step"] == "queue" and "permissions" in error["hint"]


def test_a_permission_found_missing_before_the_step_says_what_to_grant_and_that_nothing_changed():
    result = {"failed": True, "msg": "check permissions: the app registration lacks the application permission SharePoint "
              "User.ReadWrite.All (for files in document libraries) ...", "operation": "check permissions",
              "error_code": "MissingPermission", "status": None}
    error = report_records.failure("Build, check and upload the import files", "spo.user_profiles.upa_import_file", result)
    assert error["step"] == "upload"
    assert "Grant the app registration the permission named above" in error["hint"] and "changed nothing" in error["hint"]
    assert "Fix the source" not in error["hint"]


def per_user(changed=2, failed=0, unchanged=20):
    users = [{"user": "u%d@x.com" % number, "changed": True, "written": ["SPS-Skills"], "error": None}
             for number in range(changed)]
    users += [{"user": "ghost%d@x.com" % number, "changed": False, "written": [], "error": "no profile"}
              for number in range(failed)]
    return {"changed": bool(changed), "users": users, "failed_users": [item["user"] for item in users if item["error"]],
            "summary": {"total": changed + failed + unchanged, "changed": changed, "unchanged": unchanged,
                        "failed": failed, "written": changed}}


def test_writes_user_by_user_are_counted_beside_the_import():
    queue = queued()
    record = report_records.bulk_import(False, "src", upload(), queue, waited(queue), per_user=per_user(failed=1))
    assert record["per_user"] == {"users": {"total": 23, "changed": 2, "unchanged": 20, "failed": 1}, "written": 2,
                                  "failures": [{"user": "ghost0@x.com", "error": "no profile"}]}
    assert record["outcome"] == "imported_with_failures"
    assert record["summary"] == "22 imported; 2 written user by user, 1 failed"


def test_writes_user_by_user_alone_make_a_change_and_their_absence_none():
    queue = queued(changed=False, state="Succeeded")
    record = report_records.bulk_import(False, "src", upload(changed=False), queue, waited(queue), per_user=per_user())
    assert record["outcome"] == "imported" and record["summary"] == "2 written user by user"
    skipped = {"skipped": True, "changed": False}
    record = report_records.bulk_import(False, "src", upload(changed=False), queue, waited(queue), per_user=skipped)
    assert record["per_user"] is None and record["outcome"] == "unchanged"
    only = report_records.bulk_import(True, "src", {"skipped": True}, {"results": []}, {"results": []}, per_user=per_user())
    assert only["outcome"] == "would_import" and only["summary"] == "2 would be written user by user"


def test_a_failure_of_the_writes_user_by_user_names_its_step():
    error = report_records.failure("Write the properties the bulk API cannot take, user by user",
                                   "spo.user_profiles.user_profile_property",
                                   {"failed": True, "msg": "2 of 30 users failed: ..."})
    assert error["step"] == "write per user" and "not written again" in error["hint"]


def test_profile_photos_counts_and_outcomes():
    sync = {"changed": True, "summary": {"total": 3, "changed": 1, "unchanged": 1, "failed": 1},
            "users": [{"user": "a@x.com", "changed": True, "action": "new"},
                      {"user": "b@x.com", "changed": False, "action": "unchanged"},
                      {"user": None, "path": "/p/x.jpg", "changed": False, "action": "failed", "error": "no user"}]}
    record = report_records.profile_photos(False, sync)
    assert record["outcome"] == "synced_with_failures" and record["summary"] == "1 changed, 1 failed"
    assert record["changed_users"] == ["a@x.com"] and record["failures"][0]["path"] == "/p/x.jpg"
    unchanged = dict(sync, summary={"total": 3, "changed": 0, "unchanged": 3, "failed": 0}, users=[])
    assert report_records.profile_photos(False, unchanged)["outcome"] == "unchanged"
    assert report_records.profile_photos(True, sync)["outcome"] == "would_sync"


def test_table_row_names_the_step_of_an_error():
    error = {"step": "upload", "message": "boom", "hint": "fix it"}
    row = report_records.table_row("contoso", "bulk_import", {"outcome": "failed", "summary": "-", "error": error})
    assert row == {"tenant": "contoso", "section": "bulk_import", "outcome": "failed", "changes": "-",
                   "error": "upload: boom"}


DELTA = {"baseline": {"file": "/Shared Documents/ProfileImport/hr-baseline.jsonl.gz", "status": "used", "users": 1000,
                      "message": None},
         "counts": {"added": 1, "changed": 20, "cleared": 0, "unchanged": 978, "left_out": 1, "not_in_source": 0,
                    "kept_values": 0},
         "users": [{"id": "u%d@x.com" % number, "status": "changed",
                    "properties": {"CostCenter": {"before": "1", "after": "2"}}} for number in range(20)],
         "users_listed_all": False, "changes_file": "/srv/reports/full/contoso.changes.jsonl"}


def test_a_delta_run_reports_its_counts_users_left_out_and_the_baseline_it_recorded():
    queue = queued()
    sent = dict(upload(), delta=DELTA, left_out=[{"id": "ghost@x.com", "record": 4, "line": 5, "reason": "no such user"}],
                left_out_count=1)
    baseline = {"changed": True, "baseline": {"users": 1001}, "counts": {"recorded": 21, "unchanged": 0, "not_recorded": 1},
                "not_recorded": ["u3@x.com"]}
    record = report_records.bulk_import(False, "src", sent, queue, waited(queue), baseline=baseline)
    assert record["users"]["unchanged"] == 978
    assert record["left_out"] == sent["left_out"] and record["left_out_count"] == 1
    delta = record["delta"]
    assert delta["counts"] == DELTA["counts"] and delta["users"] == DELTA["users"] and not delta["users_listed_all"]
    assert delta["changes_file"] == "contoso.changes.jsonl"
    assert delta["recorded"] == {"counts": {"recorded": 21, "unchanged": 0, "not_recorded": 1}, "users": 1001,
                                 "not_recorded": ["u3@x.com"]}


def test_an_unchanged_delta_queues_nothing_and_says_how_many_users_are_unchanged():
    unchanged = dict(DELTA, counts=dict(DELTA["counts"], added=0, changed=0, left_out=0, unchanged=1000), users=[])
    record = report_records.bulk_import(False, "src", dict(upload(files=()), changed=False, delta=unchanged),
                                        {"results": [], "skipped": True}, {"results": [], "skipped": True},
                                        baseline={"skipped": True})
    assert record["outcome"] == "unchanged" and record["summary"] == "unchanged (1000 users)"
    assert record["delta"]["recorded"] is None


def test_a_failed_baseline_record_says_the_users_are_sent_again():
    error = report_records.failure("Record what was imported", "spo.user_profiles.upa_import_baseline",
                                   {"failed": True, "msg": "import job x is still Processing"})
    assert error["step"] == "record baseline" and "sends these users again" in error["hint"]


def test_without_delta_there_is_no_delta_section():
    queue = queued()
    assert report_records.bulk_import(False, "src", upload(), queue, waited(queue))["delta"] is None


def test_one_user_is_counted_in_the_singular():
    one = dict(FILE, records=1)
    queue = {"results": [{"item": one, "changed": True, "job": {"job_id": None, "state": None}}]}
    record = report_records.bulk_import(True, "src", upload(files=[one]), queue, {"results": []})
    assert record["summary"] == "would import 1 user"
    queue = queued(changed=False, state="Succeeded")
    queue["results"][0]["item"] = one
    record = report_records.bulk_import(False, "src", upload(files=[one], changed=False), queue, waited(queue))
    assert record["summary"] == "unchanged (1 user)"
    photos = report_records.profile_photos(False, {"summary": {"total": 1, "changed": 0, "unchanged": 1, "failed": 0}})
    assert photos["summary"] == "unchanged (1 user)"


@pytest.mark.parametrize("section, action, message, named", [
    ("bulk_import", "spo.user_profiles.upa_import_file",
     "1 problem, nothing was uploaded: field 'cc': cost_center and cc both map to the property CostCenter; "
     "property_map maps two source fields to one property", ["property_map is bulk_import_property_map"]),
    ("bulk_import", "spo.user_profiles.upa_import_file",
     "record 3 (line 4), field 'city': the value holds the control character U+0096, most likely byte 0x96 of cp1252 "
     "text read as utf-8: the file is probably cp1252; set encoding: cp1252", ["encoding is bulk_import_encoding"]),
    ("bulk_import", "spo.user_profiles.user_profile_property",
     "2 option problems, nothing was sent: id_property: mail is also mapped; multi_value_separator: must not be empty",
     ["id_property is bulk_import_id_property", "multi_value_separator is bulk_import_multi_value_separator"]),
    ("profile_photos", "spo.user_profiles.profile_photo",
     "thumbnail_sizes: give three sizes (small, medium, large), not 2", ["thumbnail_sizes is profile_photos_thumbnail_sizes"]),
    ("profile_photos", "spo.user_profiles.profile_photo",
     "ca_path: /etc/ssl/proxy.pem does not exist; give the CA bundle (PEM) that issued the certificates of the service",
     ["ca_path is spo_ca_path"]),
    ("bulk_import", "spo.user_profiles.upa_import_file",
     "site: https://fabrikam.sharepoint.com/sites/hr is not in this tenant (contoso.sharepoint.com)",
     ["site is bulk_import_site"]),
    ("profile_photos", "spo.user_profiles.profile_photo",
     "photos[2]: 'ann@contoso.com\\u200b' holds U+200B (ZERO WIDTH SPACE) at character 16",
     ["photos is profile_photos_list"]),
    ("bulk_import", "spo.user_profiles.upa_import_file", "timeout must be a positive number of seconds",
     ["timeout is spo_timeout"]),
    ("bulk_import", "spo.user_profiles.upa_import_file",
     "changes_file: cannot write /proc/nope/r1/contoso.changes.jsonl: /proc/nope cannot be created (No such file or "
     "directory) (nothing was sent)", ["changes_file is bulk_import_report_dir"]),
])
def test_a_failure_that_names_a_module_option_names_the_role_variable_that_sets_it(section, action, message, named):
    error = report_records.failure("A step", action, {"failed": True, "msg": message}, section=section)
    assert [text for text in named if text not in error["hint"]] == []
    assert error["hint"].count("In this role,") == 1


@pytest.mark.parametrize("section, message", [
    ("bulk_import", "bulk_import_property_map is not set: map at least one source field to a profile property"),
    ("bulk_import", "the file is not UTF-8 text"),
    (None, "property_map: cost_center and cc both map to the property CostCenter"),
    ("profile_photos", "property_map: an option of another role"),
    ("bulk_import", "record 2 (line 3), field 'tenant_id': the value holds the control character U+0007"),
    ("bulk_import", "the site of the import files is read only; the src of a photo is another thing"),
])
def test_a_failure_names_no_role_variable_where_its_message_names_no_option_of_the_role(section, message):
    error = report_records.failure("A step", "spo.user_profiles.upa_import_file", {"failed": True, "msg": message},
                                   section=section)
    assert "In this role" not in (error["hint"] or "")


@pytest.mark.parametrize("section", sorted(report_records.ROLE_VARIABLES))
def test_the_role_variables_of_the_hints_are_the_ones_the_role_s_tasks_pass_to_those_options(section):
    """Each option is set in the role's tasks from an expression naming its variable (directly, or through a variable
    of the role's own that is defined from it), and each variable is one the role documents."""
    root = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(report_records.__file__))))
    with open(os.path.join(root, "roles", section, "tasks", "main.yml"), encoding="utf-8") as handle:
        tasks = yaml.safe_load(handle)
    with open(os.path.join(root, "roles", section, "meta", "argument_specs.yml"), encoding="utf-8") as handle:
        documented = yaml.safe_load(handle)["argument_specs"]["main"]["options"]
    options, derived = {}, {}
    for block in tasks:
        derived.update(block.get("vars") or {})
        for task in block.get("block") or []:
            for action, args in task.items():
                if action.startswith("spo.user_profiles.") and isinstance(args, dict):
                    for option, value in args.items():
                        options.setdefault(option, []).append(str(value))
    wrong = []
    for option, variable in report_records.ROLE_VARIABLES[section].items():
        values = options.get(option, [])
        sources = values + [str(derived[name]) for name in derived for value in values if name in value]
        if variable not in documented or not any(variable in text for text in sources):
            wrong.append((option, variable))
    assert wrong == []


def test_a_sign_in_failure_does_not_name_again_the_variables_its_hint_names():
    result = {"failed": True, "msg": "sign in: cannot read certificate_path /secure/nope.pem: No such file or directory",
              "operation": "sign in", "status": None, "credential": "certificate"}
    error = report_records.failure("Build, check and upload the import files", "spo.user_profiles.upa_import_file",
                                   result, section="bulk_import")
    assert "spo_certificate_path" in error["hint"] and "In this role" not in error["hint"]
