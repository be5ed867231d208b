# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""upa_job_info's read of the jobs: filters, the log, waiting (growing interval, progress) and each job's outcome."""

from __future__ import annotations

import uuid

from ansible_collections.spo.user_profiles.plugins.module_utils.job_info import job_info
from ansible_collections.spo.user_profiles.tests.unit.plugins.module_utils import test_job_api
from ansible_collections.spo.user_profiles.tests.unit.plugins.module_utils.test_job_api import (
    OTHER_SOURCE, ROOT, SOURCE,
)
from ansible_collections.spo.user_profiles.tests.unit.plugins.module_utils.test_job_log import LOG_NOT_RESOLVABLE


# The job_api tests' scripted tenant and clock, as fixtures of these tests too.
tenant = test_job_api.tenant
fake_time = test_job_api.fake_time


def test_job_info_filters_by_state_and_source(tenant, fake_time):
    tenant.add_job(source=SOURCE, state=4)
    running = tenant.add_job(source=SOURCE, state=2)
    tenant.add_job(source=OTHER_SOURCE, state=2)
    result = job_info(tenant, states=["processing"], source_uri=SOURCE, now=fake_time.now)
    assert [job["job_id"] for job in result["jobs"]] == [running]
    assert result["job"]["first_seen_at"] == "2026-03-01T06:00:00Z"
    assert result["job"]["elapsed_seconds"] is None


def test_job_info_by_id_with_log(tenant, fake_time):
    folder = "/Shared Documents/ProfileImport/j1"
    tenant.log_files[folder] = {"log.txt": LOG_NOT_RESOLVABLE.encode()}
    job_id = tenant.add_job(state=4, error=30, log_folder=ROOT + folder)
    result = job_info(tenant, job_id=job_id, include_log=True)
    assert result["job"]["failed_identities"] == ["unknown@contoso.com"]
    assert job_info(tenant, job_id=str(uuid.uuid4())) == {"jobs": [], "job": None}


def test_job_info_waits_until_the_job_ends(tenant, fake_time):
    job_id = tenant.add_job(state=1, script=[(2, 0), (3, 0), (4, 0)])
    result = job_info(tenant, job_id=job_id, wait_seconds=60, poll_interval=10,
                      clock=fake_time.clock, sleep=fake_time.sleep, now=fake_time.now)
    assert result["job"]["state"] == "Succeeded"
    assert fake_time.sleeps == [10, 10], "polls every poll_interval, without growing, and stops at the end"
    assert tenant.methods().count("GetImportProfilePropertyJob") == 3, "one read a poll, the first one not repeated"
    assert [step["state"] for step in result["job"]["history"]] == ["Processing", "Queued", "Succeeded"]
    assert result["job"]["finished_at"] == "2026-03-01T06:00:20Z"


def test_job_info_returns_a_job_still_running_when_the_wait_is_over(tenant, fake_time):
    job_id = tenant.add_job(state=2, script=[(3, 0)] * 100)
    result = job_info(tenant, job_id=job_id, wait_seconds=45, poll_interval=10,
                      clock=fake_time.clock, sleep=fake_time.sleep, now=fake_time.now)
    assert result["job"]["state"] == "Queued"
    assert result["job"]["finished_at"] is None
    assert sum(fake_time.sleeps) == 45, "never sleeps past wait_seconds"
    assert result["job"]["outcome"] == "running"
    assert result["job"]["outcome_message"] == (
        "import job %s is still Queued after waiting 45 s (wait_seconds); it keeps running on the service" % job_id)


def test_job_info_does_not_wait_for_a_finished_or_unknown_job(tenant, fake_time):
    job_id = tenant.add_job(state=4)
    assert job_info(tenant, job_id=job_id, wait_seconds=60, clock=fake_time.clock, sleep=fake_time.sleep,
                    now=fake_time.now)["job"]["state"] == "Succeeded"
    assert job_info(tenant, job_id=str(uuid.uuid4()), wait_seconds=60, clock=fake_time.clock,
                    sleep=fake_time.sleep, now=fake_time.now) == {"jobs": [], "job": None}
    assert fake_time.sleeps == []


def test_the_wait_grows_its_interval_up_to_max_interval_and_reports_each_poll(tenant, fake_time):
    job_id = tenant.add_job(state=1, script=[(2, 0)] * 5 + [(4, 0)])
    seen = []
    result = job_info(tenant, job_id=job_id, wait_seconds=600, poll_interval=10, max_interval=20,
                      progress=lambda job, elapsed: seen.append(job["state"]),
                      clock=fake_time.clock, sleep=fake_time.sleep, now=fake_time.now)
    assert result["job"]["outcome"] == "succeeded"
    assert fake_time.sleeps == [10, 15, 20, 20, 20], "grows by half a poll, never beyond max_interval"
    assert seen[-1] == "Succeeded" and len(seen) == len(fake_time.sleeps) + 1, "a report after every poll"


def test_the_outcome_of_a_job_asked_for_by_id_reads_the_log_and_applies_allowed_failures(tenant, fake_time):
    folder = "/Shared Documents/ProfileImport/j2"
    tenant.log_files[folder] = {"log.txt": LOG_NOT_RESOLVABLE.encode()}
    job_id = tenant.add_job(state=4, error=30, log_folder=ROOT + folder)
    strict = job_info(tenant, job_id=job_id)["job"]
    assert strict["outcome"] == "failed" and "1 failed users, more than allowed_failures (0)" in strict["outcome_message"]
    lenient = job_info(tenant, job_id=job_id, allowed_failures=1)["job"]
    assert lenient["outcome"] == "succeeded_with_failures" and lenient["outcome_message"] is None
    listed = job_info(tenant)["jobs"][0]
    assert listed["outcome"] == "failed" and "log was not read" in listed["outcome_message"]
