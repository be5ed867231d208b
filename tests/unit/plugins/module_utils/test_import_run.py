# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

import json
import re
from urllib.parse import unquote

import pytest

from ansible_collections.spo.user_profiles.plugins.module_utils import import_run, job_api, job_wait
from ansible_collections.spo.user_profiles.plugins.module_utils.errors import SpoError
from ansible_collections.spo.user_profiles.tests.unit.plugins.module_utils import test_job_api
from ansible_collections.spo.user_profiles.tests.unit.plugins.module_utils.test_job_api import (
    OTHER_SOURCE, ROOT, SOURCE,
)
from ansible_collections.spo.user_profiles.tests.unit.plugins.module_utils.test_job_log import (
    LOG_MISSING_IDENTITY, LOG_NOT_JSON, LOG_NOT_RESOLVABLE,
)


# The job_api tests' scripted tenant and clock, as fixtures of these tests too.
tenant = test_job_api.tenant
fake_time = test_job_api.fake_time


# --- the upa_import_job flow ----------------------------------------------------------------------------------------


def _run(tenant, fake_time, **kwargs):
    options = dict(force=False, wait=True, wait_timeout=600, poll_interval=5, check_mode=False, diff=True,
                   clock=fake_time.clock, sleep=fake_time.sleep, now=fake_time.now)
    options.update(kwargs)
    return import_run.ImportRun(tenant, "principal_name", "IdName", {"City": "City"}, **options)


def test_run_queues_and_waits_until_succeeded(tenant, fake_time):
    def script(fake, params):
        fake.queue_answers.append(fake.add_job(source=params[3][1], script=[(2, 0), (3, 0), (4, 0)]))
    tenant.on_queue = script

    result = _run(tenant, fake_time).run([SOURCE])

    assert result["changed"] is True
    job = result["job"]
    assert job["state"] == "Succeeded" and job["queued_at"] == "2026-03-01T06:00:00Z"
    assert job["elapsed_seconds"] == 12.5
    assert [entry["state"] for entry in job["history"]] == ["Processing", "Queued", "Succeeded"]
    assert "log_entries" not in job
    assert result["diff"]["before"] == {SOURCE: []}
    assert result["diff"]["after"] == {SOURCE: ["%s Succeeded" % job["job_id"]]}
    assert tenant.methods().count("QueueImportProfileProperties") == 1
    # the job is remembered beside the file, and the tenant's job list was never read
    assert tenant.record_of() == [job["job_id"]]
    assert "GetImportProfilePropertyJobs" not in tenant.methods()


def test_a_files_job_is_found_from_its_record_past_the_list_view_threshold(tenant, fake_time):
    existing = tenant.remember(tenant.add_job(source=SOURCE, state=4))
    tenant.over_threshold = True
    result = _run(tenant, fake_time).run([SOURCE])
    assert result["changed"] is False and result["job"]["job_id"] == existing
    assert "GetImportProfilePropertyJobs" not in tenant.methods()


def test_jobs_the_record_does_not_name_are_not_looked_up(tenant, fake_time):
    """A job queued on the file by an earlier version or another tool is not found without listing: the file is
    queued again, which imports the same values again."""
    tenant.add_job(source=SOURCE, state=4)
    result = _run(tenant, fake_time, wait=False).run([SOURCE])
    assert result["changed"] is True and len(tenant.jobs) == 2
    assert "GetImportProfilePropertyJobs" not in tenant.methods()
    assert tenant.record_of() == [result["job"]["job_id"]]


@pytest.mark.parametrize("mapping, legacy", [
    ({"id_type": "principal_name", "id_property": "IdName", "property_map": {"City": "Office"}}, False),  # another target
    ({"id_type": "email", "id_property": "IdName", "property_map": {"City": "City"}}, False),  # another id type
    (None, True),  # a record of collection 1.0.0, which does not say what its jobs were queued with
])
def test_a_job_of_the_file_queued_with_another_mapping_is_not_followed_a_new_one_is_queued(tenant, fake_time, mapping, legacy):
    # the file holds the source's field names only: with another map or id type it is another import
    old = tenant.remember(tenant.add_job(source=SOURCE, state=4), mapping=mapping, legacy=legacy)
    result = _run(tenant, fake_time, wait=False).run([SOURCE])
    assert result["changed"] is True and tenant.queue_calls == 1 and result["job"]["job_id"] != old
    assert tenant.record_of() == [result["job"]["job_id"], old]
    assert result["diff"]["before"] == {SOURCE: ["%s Succeeded" % old]}
    rerun = _run(tenant, fake_time, wait=False).run([SOURCE])
    assert rerun["changed"] is False and rerun["job"]["job_id"] == result["job"]["job_id"] and tenant.queue_calls == 1


def test_a_recorded_job_the_service_no_longer_knows_is_queued_again_and_recorded_first(tenant, fake_time):
    deleted = tenant.remember("5f4e7a2c-9d1b-4c3e-8a7f-6b5d4c3e2f1a")
    result = _run(tenant, fake_time, wait=False).run([SOURCE])
    assert result["changed"] is True and result["diff"]["before"] == {SOURCE: []}
    assert tenant.record_of() == [result["job"]["job_id"], deleted]


def test_a_record_that_cannot_be_written_after_queueing_fails_with_the_job_and_a_rerun_follows_it(tenant, fake_time):
    # the record saying "queueing" is written; the one naming the job is not (as when the run is stopped in between)
    tenant.record_write_errors = [None, SpoError("Access denied.", status=403, operation="upload profiles-3f2a.jobs.json")]
    with pytest.raises(SpoError) as caught:
        _run(tenant, fake_time, wait=False).run([SOURCE])
    job_id = tenant.jobs[0]["JobId"][len("/Guid("):-len(")/")]
    assert "import job %s was queued, but its record beside the file could not be written" % job_id in caught.value.message
    assert "a rerun finds the job in the job list and follows it" in caught.value.message and caught.value.status == 403
    assert caught.value.result["job"]["job_id"] == job_id and caught.value.result["changed"] is True
    assert tenant.record_of() == []

    rerun = _run(tenant, fake_time, wait=False).run([SOURCE])
    assert rerun["changed"] is False and rerun["job"]["job_id"] == job_id
    assert tenant.queue_calls == 1 and tenant.record_of() == [job_id]
    assert "queueing_since" not in _record_content(tenant)


def test_a_record_that_cannot_be_written_before_queueing_queues_nothing(tenant, fake_time):
    tenant.record_write_errors = [SpoError("Access denied.", status=403, operation="upload profiles-3f2a.jobs.json")]
    with pytest.raises(SpoError, match="Access denied"):
        _run(tenant, fake_time, wait=False).run([SOURCE])
    assert tenant.queue_calls == 0 and tenant.jobs == []


def test_a_run_stopped_before_its_queue_call_leaves_a_mark_the_rerun_clears_by_queueing_once(tenant, fake_time):
    earlier = tenant.remember(tenant.add_job(source=SOURCE, state=5, error=1))  # recorded, ended in Error
    folder, name = _record_location()
    content = json.loads(tenant.log_files[folder][name])
    tenant.log_files[folder][name] = json.dumps(dict(content, queueing_since="2026-03-01T05:00:00Z")).encode()
    result = _run(tenant, fake_time, wait=False).run([SOURCE])
    assert result["changed"] is True and tenant.queue_calls == 1
    assert tenant.record_of() == [result["job"]["job_id"], earlier]
    assert "queueing_since" not in _record_content(tenant)


def _record_location():
    folder, name = unquote(SOURCE.split(".com", 1)[1]).rsplit("/", 1)
    return folder, name[:-len(".json")] + ".jobs.json"


def _record_content(tenant):
    folder, name = _record_location()
    return json.loads(tenant.log_files[folder][name])


def test_run_is_idempotent_for_a_job_on_the_same_source(tenant, fake_time):
    existing = tenant.remember(tenant.add_job(source=SOURCE.replace(" ", "%20"), state=4))
    result = _run(tenant, fake_time).run([SOURCE])
    assert result["changed"] is False and result["job"]["job_id"] == existing
    assert result["job"]["queued_at"] is None and result["job"]["elapsed_seconds"] is None
    assert "QueueImportProfileProperties" not in tenant.methods()


def test_run_waits_for_a_running_job_instead_of_queueing(tenant, fake_time):
    existing = tenant.remember(tenant.add_job(source=SOURCE, state=1, script=[(2, 0), (4, 0)]))
    result = _run(tenant, fake_time).run([SOURCE])
    assert result["changed"] is False
    assert result["job"]["job_id"] == existing and result["job"]["state"] == "Succeeded"
    assert result["job"]["finished_at"] is not None and result["job"]["elapsed_seconds"] == 5
    assert "QueueImportProfileProperties" not in tenant.methods()
    # The job named by the record has just been read running: the next read of the job comes one interval later.
    assert tenant.methods().count("GetImportProfilePropertyJob") == 2 and fake_time.sleeps == [5]
    assert "GetImportProfilePropertyJobs" not in tenant.methods()


@pytest.mark.parametrize("force, state", [(False, 5), (True, 4)])
def test_run_queues_again_after_an_error_or_when_forced(tenant, fake_time, force, state):
    tenant.remember(tenant.add_job(source=SOURCE, state=state, error=1 if state == 5 else 0))
    result = _run(tenant, fake_time, force=force, wait=False).run([SOURCE])
    assert result["changed"] is True
    assert tenant.methods().count("QueueImportProfileProperties") == 1
    assert len(result["diff"]["after"][SOURCE]) == 2


@pytest.mark.parametrize("state", [4, 5])
@pytest.mark.parametrize("allowed, outcome", [(1, "succeeded_with_failures"), (0, "failed")])
def test_an_import_that_completed_with_errors_is_never_queued_again_in_either_state(tenant, fake_time, state, allowed, outcome):
    """ImportCompleteWithError is an import that ran; the service may end it in Succeeded or in Error."""
    folder = "/Shared Documents/ProfileImport/done"
    tenant.log_files[folder] = {"done.log": LOG_NOT_RESOLVABLE.encode()}
    existing = tenant.remember(tenant.add_job(source=SOURCE, state=state, error=30, log_folder=ROOT + folder))
    run = _run(tenant, fake_time, allowed_failures=allowed)
    if outcome == "failed":
        with pytest.raises(import_run.JobFailedError) as caught:
            run.run([SOURCE])
        result = caught.value.result
    else:
        result = run.run([SOURCE])
    assert result["changed"] is False and result["job"]["job_id"] == existing
    assert result["job"]["outcome"] == outcome and result["job"]["failed_count"] == 1
    assert "QueueImportProfileProperties" not in tenant.methods()


def test_check_mode_queues_nothing(tenant, fake_time):
    tenant.remember(tenant.add_job(source=OTHER_SOURCE, state=4), OTHER_SOURCE)
    result = _run(tenant, fake_time, check_mode=True).run([SOURCE, OTHER_SOURCE])
    assert result["changed"] is True
    assert [item["source_uri"] for item in result["would_queue"]] == [SOURCE]
    assert result["jobs"][0]["job_id"] is None and result["jobs"][1]["state"] == "Succeeded"
    assert "QueueImportProfileProperties" not in tenant.methods()
    assert result["diff"]["after"][SOURCE] == ["(new job) Submitted"]


@pytest.mark.parametrize("size, expected", [
    (None, "there is no file at %s" % SOURCE),
    (2 * 1024 ** 3 + 1, "the file is 2147483649 bytes, more than the service imports from one file"),
])
def test_a_job_the_service_could_only_fail_is_not_queued(tenant, fake_time, size, expected):
    tenant.import_files["/Shared Documents/ProfileImport/profiles-3f2a.json"] = size
    with pytest.raises(SpoError, match=re.escape(expected)) as caught:
        _run(tenant, fake_time).run([SOURCE])
    assert "nothing was queued" in caught.value.message
    assert "QueueImportProfileProperties" not in tenant.methods() and tenant.record_of() == []


def test_check_mode_plans_a_job_on_a_file_not_uploaded_yet(tenant, fake_time):
    # a check run of upa_import_file does not upload the file the check run of upa_import_job plans a job on
    tenant.import_files["/Shared Documents/ProfileImport/profiles-3f2a.json"] = None
    result = _run(tenant, fake_time, check_mode=True).run([SOURCE])
    assert result["changed"] is True and [item["source_uri"] for item in result["would_queue"]] == [SOURCE]


def test_a_job_already_queued_is_followed_even_when_its_file_is_gone(tenant, fake_time):
    tenant.remember(tenant.add_job(source=SOURCE, state=4))
    tenant.import_files["/Shared Documents/ProfileImport/profiles-3f2a.json"] = None
    assert _run(tenant, fake_time).run([SOURCE])["job"]["state"] == "Succeeded"


def test_check_mode_reports_no_change_when_the_job_exists(tenant, fake_time):
    tenant.remember(tenant.add_job(source=SOURCE, state=4))
    result = _run(tenant, fake_time, check_mode=True).run([SOURCE])
    assert result["changed"] is False and result["would_queue"] == []


def test_without_waiting_an_ended_job_is_returned_without_a_verdict(tenant, fake_time):
    folder = "/Shared Documents/ProfileImport/old"
    tenant.log_files[folder] = {"old.log": LOG_NOT_RESOLVABLE.encode()}
    existing = tenant.remember(tenant.add_job(source=SOURCE, state=4, error=30, log_folder=ROOT + folder))
    result = _run(tenant, fake_time, wait=False).run([SOURCE])
    assert result["changed"] is False and result["job"]["job_id"] == existing
    assert result["job"]["error"] == "ImportCompleteWithError" and "log_entries" not in result["job"]
    assert "outcome" not in result["job"]
    assert [url for method, url in tenant.rest_calls if "/old" in url] == [], "the log is read by whoever judges the job"


def test_follow_waits_for_the_job_by_its_id_and_queues_nothing(tenant, fake_time):
    job_id = tenant.add_job(source=SOURCE, state=1, script=[(2, 0), (4, 0)])
    result = _run(tenant, fake_time).follow(job_id)
    assert result["changed"] is False and result["jobs"] == [result["job"]]
    assert result["job"]["job_id"] == job_id and result["job"]["state"] == "Succeeded"
    assert result["job"]["queued_at"] is None and result["job"]["finished_at"] is not None
    assert result["diff"]["before"] == {SOURCE: ["%s Processing" % job_id]}  # each read moves the fake job on
    assert result["diff"]["after"] == {SOURCE: ["%s Succeeded" % job_id]}
    assert "QueueImportProfileProperties" not in tenant.methods()


def test_follow_reports_a_job_that_ended_in_error_instead_of_queueing_again(tenant, fake_time):
    job_id = tenant.add_job(source=SOURCE, state=5, error=23, message="bad file")
    with pytest.raises(import_run.JobFailedError) as failure:
        _run(tenant, fake_time).follow(job_id)
    assert "InvalidDataFile" in str(failure.value) and "bad file" in str(failure.value)
    assert failure.value.result["job"]["job_id"] == job_id and failure.value.result["changed"] is False
    assert "QueueImportProfileProperties" not in tenant.methods()


def test_follow_applies_allowed_failures(tenant, fake_time):
    folder = "/Shared Documents/ProfileImport/f"
    tenant.log_files[folder] = {"f.log": LOG_NOT_RESOLVABLE.encode()}
    job_id = tenant.add_job(source=SOURCE, state=2, script=[(4, 30)], log_folder=ROOT + folder)
    result = _run(tenant, fake_time, allowed_failures=1).follow(job_id)
    assert result["job"]["failed_identities"] == ["unknown@contoso.com"]
    with pytest.raises(import_run.JobFailedError):
        _run(tenant, fake_time, allowed_failures=0).follow(job_id)


def test_follow_fails_on_an_unknown_job(tenant, fake_time):
    with pytest.raises(SpoError) as failure:
        _run(tenant, fake_time).follow("9f1d2c4a-3b5e-4c7d-9e8f-0a1b2c3d4e5f")
    assert "9f1d2c4a-3b5e-4c7d-9e8f-0a1b2c3d4e5f is not in the tenant's job list" in str(failure.value)
    assert failure.value.result["jobs"] == []


def test_follow_in_check_mode_reads_the_job_without_waiting(tenant, fake_time):
    job_id = tenant.add_job(source=SOURCE, state=1, script=[(2, 0), (4, 0)])
    result = _run(tenant, fake_time, check_mode=True).follow(job_id)
    assert result["job"]["state"] == "Processing" and fake_time.sleeps == []


def test_several_sources_run_one_after_another(tenant, fake_time):
    order = []

    def script(fake, params):
        order.append(("queue", params[3][1]))
        for raw in fake.jobs:
            assert raw["State"] in (4, 5), "a job was queued while another one was still running"
        fake.queue_answers.append(fake.add_job(source=params[3][1], script=[(2, 0), (4, 0)]))
    tenant.on_queue = script

    result = _run(tenant, fake_time, wait=False).run([SOURCE, OTHER_SOURCE])

    assert [job["source_uri"] for job in result["jobs"]] == [SOURCE, OTHER_SOURCE]
    assert result["jobs"][0]["state"] == "Succeeded"
    assert result["jobs"][1]["state"] == "Processing", "wait=false: the last job is read once, not waited for"
    assert order == [("queue", SOURCE), ("queue", OTHER_SOURCE)]


def test_run_finds_the_job_after_an_empty_guid(tenant, fake_time):
    old = tenant.add_job(source=SOURCE, state=5, error=1)

    def empty(fake, params):
        fake.add_job(source=params[3][1], script=[(4, 0)], job_id="11111111-2222-3333-4444-555555555555")
        fake.queue_answers.append(job_api.EMPTY_GUID)
    tenant.on_queue = empty

    result = _run(tenant, fake_time).run([SOURCE])
    assert result["job"]["job_id"] == "11111111-2222-3333-4444-555555555555" != old
    assert result["job"]["state"] == "Succeeded" and result["changed"] is True


def _finish_with_log(tenant, error, lines, state=4):
    folder = "/Shared Documents/ProfileImport/logjob"

    def script(fake, params):
        fake.log_files[folder] = {"ImportLog.txt": "\n".join(lines).encode("utf-8")}
        fake.queue_answers.append(fake.add_job(source=params[3][1], script=[(state, error)], log_folder=ROOT + folder))
    tenant.on_queue = script


def test_import_complete_with_error_within_allowed_failures_passes(tenant, fake_time):
    _finish_with_log(tenant, 30, [LOG_NOT_RESOLVABLE, LOG_MISSING_IDENTITY])
    result = _run(tenant, fake_time, allowed_failures=2).run([SOURCE])
    job = result["job"]
    assert job["error"] == "ImportCompleteWithError" and job["outcome"] == "succeeded_with_failures"
    assert job["failed_identities"] == ["unknown@contoso.com"] and job["failed_count"] == 2
    assert job["counts"] == {"IdentityNotResolvable": 1, "MissingIdentity": 1}


def test_import_complete_with_too_many_failures_fails_with_the_log(tenant, fake_time):
    _finish_with_log(tenant, 30, [LOG_NOT_RESOLVABLE, LOG_MISSING_IDENTITY])
    with pytest.raises(import_run.JobFailedError) as info:
        _run(tenant, fake_time, allowed_failures=1).run([SOURCE])
    message = str(info.value)
    assert "ImportCompleteWithError" in message and "2 failed users, more than allowed_failures (1)" in message
    assert "IdentityNotResolvable unknown@contoso.com User identity cannot be resolved" in message
    assert info.value.result["job"]["failed_identities"] == ["unknown@contoso.com"]
    assert info.value.result["changed"] is True


def test_import_complete_with_error_and_no_log_fails(tenant, fake_time):
    def script(fake, params):
        fake.queue_answers.append(fake.add_job(source=params[3][1], script=[(4, 30)]))
    tenant.on_queue = script
    with pytest.raises(import_run.JobFailedError, match="number of failed users is unknown"):
        _run(tenant, fake_time, allowed_failures=100).run([SOURCE])


def test_invalid_data_file_fails_with_meaning_and_first_log_lines(tenant, fake_time):
    _finish_with_log(tenant, 23, [LOG_NOT_JSON], state=5)
    with pytest.raises(import_run.JobFailedError) as info:
        _run(tenant, fake_time, allowed_failures=1000).run([SOURCE, OTHER_SOURCE])
    message = str(info.value)
    assert "state Error with InvalidDataFile" in message
    assert job_api.ERROR_MEANINGS["InvalidDataFile"] in message
    assert "DataFileNotJson JsonToken EndObject" in message
    assert len(info.value.result["jobs"]) == 1, "the second source must not be queued after a failure"
    assert tenant.methods().count("QueueImportProfileProperties") == 1


def test_timeout_keeps_the_last_job_in_the_result(tenant, fake_time):
    def script(fake, params):
        fake.queue_answers.append(fake.add_job(source=params[3][1], script=[(3, 0)] * 100))
    tenant.on_queue = script
    with pytest.raises(job_wait.JobTimeoutError) as info:
        _run(tenant, fake_time, wait_timeout=30).run([SOURCE])
    assert info.value.result["job"]["state"] == "Queued"
    assert info.value.result["changed"] is True
    assert info.value.result["timed_out"] is True
    assert info.value.result["diff"]["after"][SOURCE] == ["%s Submitted" % info.value.job["job_id"]]
    assert "a rerun with the same source_uri waits for it instead of queueing another" in str(info.value)


def test_timeout_of_a_job_followed_by_id_says_to_rerun_with_the_job_id(tenant, fake_time):
    job_id = tenant.add_job(source=SOURCE, state=2, script=[(3, 0)] * 100)
    with pytest.raises(job_wait.JobTimeoutError) as info:
        _run(tenant, fake_time, wait_timeout=30).follow(job_id)
    assert info.value.result["timed_out"] is True and info.value.result["job"]["job_id"] == job_id
    assert "a rerun with the same job_id waits for it again" in str(info.value)
    assert "source_uri" not in str(info.value)


def test_queue_time_errors_carry_the_partial_result(tenant, fake_time):
    tenant.remember(tenant.add_job(source=SOURCE, state=4))
    tenant.queue_error = {"ErrorMessage": "Property Names [AboutMe] are editable by user.", "ErrorCode": -1,
                          "ErrorTypeName": "Microsoft.SharePoint.SPException"}
    with pytest.raises(SpoError, match=re.escape("[AboutMe]")) as info:
        _run(tenant, fake_time).run([SOURCE, OTHER_SOURCE])
    assert [job["source_uri"] for job in info.value.result["jobs"]] == [SOURCE]
    assert info.value.result["changed"] is False
    assert info.value.result["timed_out"] is False


def test_a_queue_call_that_failed_after_queueing_is_not_queued_twice(tenant, fake_time):
    tenant.add_job(source=SOURCE, state=5, error=1)  # an earlier job in Error: a new one is queued
    made = []

    def script(fake, params):
        made.append(fake.add_job(source=params[3][1], script=[(2, 0), (4, 0)]))
        fake.queue_answers.append(made[-1])
    tenant.on_queue = script
    tenant.queue_lost_answers = [True]
    result = _run(tenant, fake_time).run([SOURCE])
    assert tenant.queue_calls == 1
    assert len(tenant.jobs) == 2
    assert result["changed"] is True
    assert result["job"]["job_id"] == made[0]
    assert result["job"]["state"] == "Succeeded"


def test_a_queue_call_that_failed_before_queueing_is_sent_again_after_checking_the_job_list(tenant, fake_time):
    tenant.queue_lost_answers = [False]
    result = _run(tenant, fake_time, wait=False).run([SOURCE])
    assert tenant.queue_calls == 2
    assert len(tenant.jobs) == 1
    assert result["job"]["job_id"] == tenant.jobs[0]["JobId"][len("/Guid("):-len(")/")]
    assert fake_time.sleeps[0] == import_run.QUEUE_SETTLE_SECONDS


def test_queue_calls_that_keep_failing_without_queueing_give_up_and_say_so(tenant, fake_time):
    tenant.queue_lost_answers = [False] * import_run.QUEUE_ATTEMPTS
    with pytest.raises(SpoError, match="tried 3 times, and the job list shows no new job on this file") as info:
        _run(tenant, fake_time).run([SOURCE])
    assert tenant.jobs == []
    assert info.value.status == 500
    assert tenant.queue_calls == import_run.QUEUE_ATTEMPTS
