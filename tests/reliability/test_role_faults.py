# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Faults across a multi-tenant run of the shipped sync_profiles playbook: each tenant ends with every value imported
by exactly one job, or with a clear failure that a rerun recovers without a second job on the same file.

One run of six tenants, each under its own fault (30% throttling with Retry-After, connection resets mid-upload,
tokens that live 2 seconds, a queue answered with Guid.Empty, a job that ends in InternalError, a job stuck past the
wait timeout), then a rerun with the last two faults gone. And a run of three tenants whose emulator is killed while
the jobs run, then started again on the same data, and a rerun.
"""

from __future__ import annotations

import os
import re
import subprocess
import time

import pytest

from ansible_collections.spo.user_profiles.tests.emulator.tests.conftest import Emulator
from ansible_collections.spo.user_profiles.tests.reliability.lab import Lab, fatal_lines

USERS = 5
SUCCEEDED, ERROR = 4, 5
RUNNING = (1, 2, 3)
ROLE_VARS = {"bulk_import_id_property": "mail", "bulk_import_property_map": {"cost_center": "CostCenter", "building": "Building"},
             "bulk_import_file_prefix": "faults", "bulk_import_poll_delay": 1, "bulk_import_progress_interval": 2,
             "bulk_import_wait_timeout": 60, "spo_timeout": 10}
# Each tenant's fault, and the host variables that go with it.
FAULTS = {
    "throttled": ({"throttle": {"rate": 0.3, "status": 429, "retry_after": 1}}, {}),
    "resets": ({"reset": {"rate": 0.3, "mid_body": True}}, {}),
    "shorttokens": ({"token_lifetime": 2, "job_duration": 5}, {}),
    "emptyguid": ({"queue_empty_guid": True}, {}),
    "internal": ({"job_outcome": "InternalError"}, {}),
    "stuck": ({"job_outcome": "stuck_queued"}, {"bulk_import_wait_timeout": 5}),
}
# What a rerun takes away: the faults that a rerun must recover from.
CLEARED = {"internal": {"job_outcome": None}, "stuck": {"job_outcome": None}}


def _tenant(lab, label):
    name = lab.tenant(label + "%d" % (os.getpid() % 1000),
                      users=[{"upn": "u%d@%s.example" % (user, label)} for user in range(1, USERS + 1)],
                      properties=[{"name": "CostCenter"}, {"name": "Building"}])
    with open(os.path.join(lab.work, name + ".csv"), "w", encoding="utf-8") as handle:
        handle.write("mail,cost_center,building\n" + "".join(
            "u%d@%s.example,CC-%s-%d,B%d\n" % (user, label, name, user, user) for user in range(1, USERS + 1)))
    return name


def _expected(name, label):
    return {"u%d@%s.example" % (user, label): ("CC-%s-%d" % (name, user), "B%d" % user) for user in range(1, USERS + 1)}


def _imported(lab, name, label):
    found = {}
    for upn in _expected(name, label):
        properties = lab.emulator.control("GET", "tenants/%s/profiles/%s" % (name, upn)).json()["properties"]
        found[upn] = (properties.get("CostCenter"), properties.get("Building"))
    return found


def _jobs(lab, name):
    return [(job["State"], job["Error"]) for job in lab.emulator.control("GET", "tenants/%s/jobs" % name).json()["jobs"]]


def _hosts(lab, tenants, extra):
    return {name: dict(extra.get(name, {}), bulk_import_src=os.path.join(lab.work, name + ".csv")) for name in tenants}


@pytest.fixture(scope="module")
def faulted(lab):
    """The six-tenant run under faults and its rerun: what each left."""
    tenants = {label: _tenant(lab, label) for label in FAULTS}
    for label, (faults, _vars) in FAULTS.items():
        lab.emulator.faults(tenant=tenants[label], **dict({"job_delay": 0.5, "job_duration": 2}, **faults))
    inventory = lab.inventory("faults", _hosts(lab, tenants.values(), {tenants[label]: FAULTS[label][1] for label in FAULTS}),
                              ROLE_VARS)
    seq = lab.last_seq()
    try:
        first = lab.playbook("sync_profiles", inventory, "-e", "spo_run_id=faults-first")
        after_first = {label: _jobs(lab, name) for label, name in tenants.items()}
        log = lab.log_since(seq)
        for label, cleared in CLEARED.items():
            lab.emulator.faults(tenant=tenants[label], **cleared)
        rerun = lab.playbook("sync_profiles", inventory, "-e", "spo_run_id=faults-rerun")
    finally:
        for name in tenants.values():
            lab.emulator.faults(tenant=name, throttle=None, reset=None, token_lifetime=None, queue_empty_guid=None,
                                job_outcome=None, job_delay=None, job_duration=None)
    return {"tenants": tenants, "first": first, "rerun": rerun, "after_first": after_first, "log": log}


@pytest.mark.parametrize("label", ["throttled", "resets", "shorttokens", "emptyguid"])
def test_a_tenant_under_a_transient_fault_imports_every_value_with_one_job(lab, faulted, label):
    name = faulted["tenants"][label]
    assert name not in fatal_lines(faulted["first"][1]), faulted["first"][1][-3000:]
    assert faulted["after_first"][label] == [(SUCCEEDED, 0)]
    assert _imported(lab, name, label) == _expected(name, label)
    # the rerun finds nothing changed: no new file, no new job
    assert name not in fatal_lines(faulted["rerun"][1])
    assert _jobs(lab, name) == [(SUCCEEDED, 0)]


@pytest.mark.parametrize("label, exercised", [
    ("throttled", lambda entry: entry["throttled"]),
    ("resets", lambda entry: entry.get("reset")),
])
def test_the_transient_faults_were_met(faulted, label, exercised):
    assert sum(1 for entry in faulted["log"] if entry["tenant"] == faulted["tenants"][label] and exercised(entry)) >= 2


@pytest.mark.parametrize("label, message", [
    ("internal", "ended in state Error with InternalError"),
    ("stuck", "is still Queued after waiting 5 s"),
])
def test_a_failed_or_stuck_job_fails_clearly_and_a_rerun_recovers_without_a_second_job(lab, faulted, label, message):
    name = faulted["tenants"][label]
    fatal = fatal_lines(faulted["first"][1])
    assert faulted["first"][0] != 0 and name in fatal
    assert re.search(message, fatal[name]), fatal[name]
    assert name not in fatal_lines(faulted["rerun"][1]), faulted["rerun"][1][-3000:]
    assert _imported(lab, name, label) == _expected(name, label)
    jobs = _jobs(lab, name)
    if label == "internal":
        # the job that ended in InternalError imported nothing; the rerun queued the file once more
        assert faulted["after_first"][label] == [(ERROR, 1)] and sorted(jobs) == [(SUCCEEDED, 0), (ERROR, 1)]
    else:
        # the rerun followed the job that was stuck instead of queueing the file again
        assert faulted["after_first"][label][0][0] in RUNNING and jobs == [(SUCCEEDED, 0)]


def test_the_emulator_killed_mid_job_fails_the_run_and_a_rerun_imports_with_the_same_jobs(tmp_path):
    emulator = Emulator(tmp_path / "data").start()
    lab = Lab(emulator, tmp_path)
    try:
        labels = ("killa", "killb", "killc")
        tenants = {label: _tenant(lab, label) for label in labels}
        for name in tenants.values():
            emulator.faults(tenant=name, job_delay=1, job_duration=16)
        inventory = lab.inventory("killed", _hosts(lab, tenants.values(), {}), dict(ROLE_VARS, spo_max_retries=1))
        background = subprocess.Popen(  # pylint: disable=consider-using-with
            lab.playbook_command("sync_profiles", inventory, "-e", "spo_run_id=killed"),
            cwd=lab.work, env=lab.playbook_environment(), stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
        deadline = time.monotonic() + 120
        while not all(_jobs(lab, name) and _jobs(lab, name)[0][0] in RUNNING for name in tenants.values()):
            assert time.monotonic() < deadline and background.poll() is None, "the jobs never ran"
            time.sleep(0.5)
        queued = {label: emulator.control("GET", "tenants/%s/jobs" % name).json()["jobs"][0]["JobId"]
                  for label, name in tenants.items()}
        emulator.stop()
        output = background.communicate(timeout=300)[0]
        assert background.returncode != 0 and set(fatal_lines(output)) >= set(tenants.values())
        emulator.start()
        for name in tenants.values():
            emulator.faults(tenant=name, job_duration=1)
        code, output = lab.playbook("sync_profiles", inventory, "-e", "spo_run_id=killed-rerun")
        assert code == 0, output[-3000:]
        for label, name in tenants.items():
            jobs = emulator.control("GET", "tenants/%s/jobs" % name).json()["jobs"]
            assert [(job["JobId"], job["State"]) for job in jobs] == [(queued[label], SUCCEEDED)]
            assert _imported(lab, name, label) == _expected(name, label)
    finally:
        emulator.stop()
