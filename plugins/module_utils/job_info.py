# -*- coding: utf-8 -*-
# Copyright (c) spo.user_profiles contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

"""upa_job_info's read of the import jobs: one job (waited for, if asked) or the list, each with its outcome."""

from __future__ import annotations

import time

from ansible_collections.spo.user_profiles.plugins.module_utils.job_api import (
    TERMINAL_STATES, get_job, has_errors, jobs_for_source, list_jobs,
)
from ansible_collections.spo.user_profiles.plugins.module_utils.job_log import DEFAULT_MAX_LOG_ENTRIES, with_log
from ansible_collections.spo.user_profiles.plugins.module_utils.job_outcome import with_outcome
from ansible_collections.spo.user_profiles.plugins.module_utils.job_wait import (
    JobTimeoutError, Observation, utcnow, wait_for_job,
)


def job_info(client, job_id=None, states=None, source_uri=None, include_log=False,
             max_log_entries=DEFAULT_MAX_LOG_ENTRIES, wait_seconds=0, poll_interval=15, max_interval=None,
             allowed_failures=0, progress=None, clock=time.monotonic, sleep=time.sleep, now=utcnow):
    """{"jobs": [...], "job": first or None} for upa_job_info; nothing is changed.

    With job_id and wait_seconds, a running job is polled until it ends or wait_seconds pass, first after
    poll_interval seconds, the interval growing up to max_interval (poll_interval when not given); `progress` is
    called with the job after each poll. A job still running then is returned as it is (not an error here), its
    outcome_message saying how long it was waited for.
    Every job carries its outcome (with_outcome). The log of the job asked for by job_id is read when it ended with
    errors, since its outcome depends on the number of failed users; other jobs' logs only with include_log.
    """
    observations = {}
    waited = None
    if job_id:
        job = get_job(client, job_id)
        if job and wait_seconds > 0 and job["state"] not in TERMINAL_STATES:
            observation = Observation(now())
            observation.record(job, now())
            try:
                job = wait_for_job(client, job_id, wait_seconds, poll_interval, max_interval=max_interval or poll_interval,
                                   clock=clock, sleep=sleep, now=now, observation=observation, read=job,
                                   progress=progress)
            except JobTimeoutError as err:
                job, waited = err.job, err.waited_seconds
            observations[job_id] = observation
        jobs = [job] if job else []
    else:
        jobs = list_jobs(client)
    if source_uri:
        jobs = jobs_for_source(jobs, source_uri)
    if states:
        wanted = {state.lower() for state in states}
        jobs = [job for job in jobs if (job["state"] or "").lower() in wanted]
    result = []
    for job in jobs:
        moment = now()
        observation = observations.get(job["job_id"]) or Observation(moment)
        observation.record(job, moment)
        job = observation.stamp(job, moment)
        if include_log or (job_id and job["state"] in TERMINAL_STATES and has_errors(job)):
            job = with_log(client, job, max_log_entries)
        job = with_outcome(job, allowed_failures)
        if waited is not None and job["outcome"] == "running":
            job["outcome_message"] = ("import job %s is still %s after waiting %s s (wait_seconds); it keeps running on "
                                      "the service" % (job["job_id"], job["state"], int(round(waited))))
        result.append(job)
    return {"jobs": result, "job": result[0] if result else None}
