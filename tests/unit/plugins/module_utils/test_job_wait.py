# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

import pytest

from ansible_collections.spo.user_profiles.plugins.module_utils import job_api, job_wait
from ansible_collections.spo.user_profiles.plugins.module_utils.errors import SpoError
from ansible_collections.spo.user_profiles.tests.unit.plugins.module_utils import test_job_api
from ansible_collections.spo.user_profiles.tests.unit.plugins.module_utils.test_job_api import SOURCE


# The job_api tests' scripted tenant and clock, as fixtures of these tests too.
tenant = test_job_api.tenant
fake_time = test_job_api.fake_time


def test_resolve_empty_job_id_waits_for_a_new_job_to_appear(tenant, fake_time):
    old = tenant.add_job(source=SOURCE, state=4)
    calls = []

    def appear_late(*args, **kwargs):
        calls.append(1)
        if len(calls) == 3:
            tenant.add_job(source=SOURCE, state=1, job_id="11111111-2222-3333-4444-555555555555")
        return original(*args, **kwargs)

    original = job_api.list_jobs
    job_api.list_jobs = appear_late
    try:
        job = job_wait.resolve_empty_job_id(tenant, SOURCE, {old}, poll_interval=2, sleep=fake_time.sleep)
    finally:
        job_api.list_jobs = original
    assert job["job_id"] == "11111111-2222-3333-4444-555555555555"
    assert fake_time.sleeps == [2, 3.0]


def test_resolve_empty_job_id_gives_up_with_advice(tenant, fake_time):
    old = tenant.add_job(source=SOURCE, state=4)
    with pytest.raises(SpoError) as info:
        job_wait.resolve_empty_job_id(tenant, SOURCE, {old}, poll_interval=1, sleep=fake_time.sleep, attempts=3)
    assert "Guid.Empty" in str(info.value) and SOURCE in str(info.value)
    assert len(fake_time.sleeps) == 2


# --- waiting --------------------------------------------------------------------------------------------------------


def test_wait_for_job_polls_with_a_growing_capped_interval(tenant, fake_time):
    job_id = tenant.add_job(script=[(1, 0)] * 6 + [(2, 0), (4, 0)])
    seen = []
    job = job_wait.wait_for_job(tenant, job_id, timeout=3600, poll_interval=10, max_interval=40, clock=fake_time.clock,
                                sleep=fake_time.sleep, now=fake_time.now, progress=lambda job, waited: seen.append((job["state"], waited)))
    assert fake_time.sleeps == [10, 15, 22.5, 33.75, 40, 40, 40]
    assert job["state"] == "Succeeded"
    assert [entry["state"] for entry in job["history"]] == ["Submitted", "Processing", "Succeeded"]
    assert job["finished_at"] == "2026-03-01T06:03:21.250000Z"
    assert job["elapsed_seconds"] == 201.2
    assert seen[-1] == ("Succeeded", 201.25) and len(seen) == 8


def test_wait_for_job_times_out_with_job_id_state_and_waited_seconds(tenant, fake_time):
    job_id = tenant.add_job(state=3, script=[(3, 0)] * 50)
    with pytest.raises(job_wait.JobTimeoutError) as info:
        job_wait.wait_for_job(tenant, job_id, timeout=60, poll_interval=15, clock=fake_time.clock, sleep=fake_time.sleep,
                              now=fake_time.now)
    err = info.value
    assert job_id in str(err) and "still Queued" in str(err) and "after waiting 60" in str(err)
    assert err.job["state"] == "Queued" and err.waited_seconds == 60
    assert sum(fake_time.sleeps) == 60 and fake_time.sleeps[-1] == pytest.approx(60 - 15 - 22.5)


def test_wait_for_job_rides_out_throttled_polls(tenant, fake_time):
    job_id = tenant.add_job(script=[(2, 0), (4, 0)])
    tenant.get_failures = [SpoError("Too Many Requests", status=429), SpoError("Server Too Busy", status=503)]
    job = job_wait.wait_for_job(tenant, job_id, timeout=600, poll_interval=5, clock=fake_time.clock, sleep=fake_time.sleep,
                                now=fake_time.now)
    assert job["state"] == "Succeeded"
    assert len(fake_time.sleeps) == 3


def test_wait_for_job_does_not_hide_other_errors(tenant, fake_time):
    job_id = tenant.add_job(script=[(2, 0)])
    tenant.get_failures = [SpoError("Access denied", status=403)]
    with pytest.raises(SpoError, match="Access denied"):
        job_wait.wait_for_job(tenant, job_id, timeout=600, clock=fake_time.clock, sleep=fake_time.sleep, now=fake_time.now)


def test_wait_for_job_reports_a_job_deleted_while_waiting(tenant, fake_time):
    job_id = tenant.add_job(script=[(2, 0)])

    def delete_on_sleep(seconds):
        fake_time.sleep(seconds)
        tenant.jobs.clear()
    with pytest.raises(SpoError, match="disappeared"):
        job_wait.wait_for_job(tenant, job_id, timeout=600, clock=fake_time.clock, sleep=delete_on_sleep, now=fake_time.now)
