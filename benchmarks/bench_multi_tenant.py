# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Many tenants in parallel: the bulk_import role over N tenants against one tenant, and an unchanged rerun.

Starts its own emulator on a free port with a temporary data dir, sets every import job to take
--job-seconds, and runs playbooks/sync_profiles.yml (the collection from this repository):
  1. one tenant alone (the baseline), with the role's defaults,
  2. --tenants tenants at once (one host each, forks = tenants): the target is at most 1.5x the baseline's time,
     and at most 2.0 CPU-seconds of the controller per tenant (ansible-playbook and every process it started, from
     rusage; the emulator is not counted),
  (1 and 2 --repeats times, interleaved, each time with new tenants; the verdict is on the median, since the speed of
  these shared machines drifts by 10% within minutes)
  3. the last repeat's tenants again with unchanged sources: the target is no upload and no queued job, counted in
     the emulator's request log and job lists,
  4. Ansible's own floor for a chain of this shape, for comparison (no target): the role's tasks over as many hosts,
     with ansible.builtin.ping for each module run and a sleep as long as a job for the wait - what any collection
     pays for these tasks before it does anything;
  5. the same floor with its dependencies (no target): each module run, the wait's too, a module that only imports
     what every module of the collection must import to sign in and send a request (msal, requests and the parts of
     cryptography that module_utils/auth.py imports) - what this collection pays before it does anything, with the
     dependencies it is built on.
Usage: python benchmarks/bench_multi_tenant.py [--tenants 20] [--job-seconds 60] [--users 50] [--repeats 3]
       python benchmarks/bench_multi_tenant.py --quick      (3 tenants, 6 s jobs, one repeat: a quick check)
"""

from __future__ import annotations

import argparse
import csv
import json
import os
import resource
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
SEEDS = os.path.join(ROOT, "tests", "emulator", "seeds")
CLIENT_ID = "6f1d2c4a-3b5e-4c7d-9e8f-0a1b2c3d4e5f"
TARGET_RATIO = 1.5
TARGET_CPU_PER_TENANT = 2.0


def free_port():
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class Emulator:
    def __init__(self, work):
        self.port = free_port()
        self.data_dir = os.path.join(work, "emulator")
        self.url = "http://127.0.0.1:%d/_emulator" % self.port
        self.log = open(os.path.join(work, "emulator.log"), "wb")
        self.process = subprocess.Popen([sys.executable, os.path.join(ROOT, "tests", "emulator", "m365-emulator"),
                                         "--port", str(self.port), "--data-dir", self.data_dir],
                                        stdout=self.log, stderr=subprocess.STDOUT)
        deadline = time.monotonic() + 60
        while True:
            try:
                self.call("GET", "/health")
                return
            except OSError:
                if self.process.poll() is not None or time.monotonic() > deadline:
                    raise RuntimeError("the emulator did not start; see %s" % self.log.name)
                time.sleep(0.3)

    def call(self, method, path, body=None):
        data = json.dumps(body).encode() if body is not None else None
        request = urllib.request.Request(self.url + path, data=data, method=method,
                                         headers={"Content-Type": "application/json"})
        opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))
        with opener.open(request, timeout=30) as response:
            text = response.read().decode()
        return json.loads(text) if text else None

    def stop(self):
        self.process.terminate()
        try:
            self.process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.process.kill()
        self.log.close()


def link_collection(work):
    """This checkout as spo.user_profiles under <work>/collections (the ANSIBLE_COLLECTIONS_PATH of the runs)."""
    collection = os.path.join(work, "collections", "ansible_collections", "spo")
    os.makedirs(collection)
    os.symlink(ROOT, os.path.join(collection, "user_profiles"))


def run_module(work, emulator, tenant, module, options):
    """(seconds, result) of one task of spo.user_profiles.<module> with these options and the test app's sign-in, run
    by ansible-playbook against the emulator; its time includes ansible-playbook's start."""
    playbook = os.path.join(work, "%s.yml" % module)
    args = dict(options, tenant=tenant, client_id=CLIENT_ID, certificate_path=os.path.join(SEEDS, "test-app.pem"),
                ca_path=os.path.join(emulator.data_dir, "ca.pem"))
    with open(playbook, "w", encoding="utf-8") as handle:
        json.dump([{"hosts": "localhost", "gather_facts": False, "tasks": [
            {"spo.user_profiles." + module: args, "register": "outcome"},
            {"ansible.builtin.copy": {"content": "{{ outcome | to_json }}", "dest": os.path.join(work, "result.json")}},
        ]}], handle)
    env = dict(os.environ, ANSIBLE_COLLECTIONS_PATH=os.path.join(work, "collections"), ANSIBLE_LOCALHOST_WARNING="false",
               ANSIBLE_PYTHON_INTERPRETER=sys.executable, HTTPS_PROXY="http://127.0.0.1:%d" % emulator.port,
               NO_PROXY="127.0.0.1,localhost")
    started = time.perf_counter()
    run = subprocess.run([os.path.join(os.path.dirname(sys.executable), "ansible-playbook"), "-i", "localhost,", "-c",
                          "local", playbook], env=env, cwd=work, capture_output=True, text=True, check=False)
    elapsed = time.perf_counter() - started
    if run.returncode:
        sys.stdout.write(run.stdout[-4000:] + run.stderr[-2000:])
        raise SystemExit("ansible-playbook failed with %d" % run.returncode)
    with open(os.path.join(work, "result.json"), encoding="utf-8") as handle:
        return elapsed, json.load(handle)


def certificate_pem():
    with open(os.path.join(SEEDS, "test-app.crt"), encoding="ascii") as handle:
        return handle.read()


def create_tenant(emulator, name, users):
    emulator.call("POST", "/tenants", {
        "name": name,
        "users": [{"upn": "user%03d@%s.example" % (index, name)} for index in range(users)],
        "properties": [{"name": "CostCenter"}, {"name": "EmployeeId"}],
        "apps": [{"client_id": CLIENT_ID, "certificate_pem": certificate_pem(),
                  "roles": ["Sites.FullControl.All", "User.ReadWrite.All"]}],
    })


def write_source(path, name, users):
    with open(path, "w", encoding="utf-8", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(["mail", "cost_center", "employee_id"])
        for index in range(users):
            writer.writerow(["user%03d@%s.example" % (index, name), "CC-%d" % (index % 9), "E%05d" % index])


def write_inventory(work, emulator, tenants, data_dir, label):
    inventory = os.path.join(work, "inventory-%s" % label)
    os.makedirs(os.path.join(inventory, "group_vars"), exist_ok=True)
    with open(os.path.join(inventory, "hosts.yml"), "w", encoding="utf-8") as handle:
        handle.write("spo_tenants:\n  hosts:\n" + "".join("    %s:\n" % name for name in tenants))
    settings = {
        "ansible_connection": "local",
        "ansible_python_interpreter": sys.executable,
        "spo_client_id": CLIENT_ID,
        "spo_certificate_path": os.path.join(SEEDS, "test-app.pem"),
        "spo_ca_path": os.path.join(emulator.data_dir, "ca.pem"),
        "bulk_import_src": os.path.join(data_dir, "{{ inventory_hostname }}.csv"),
        "bulk_import_id_property": "mail",
        "bulk_import_property_map": {"cost_center": "CostCenter", "employee_id": "EmployeeId"},
        "spo_report_dir": os.path.join(work, "reports-%s" % label),
    }
    with open(os.path.join(inventory, "group_vars", "spo_tenants.yml"), "w", encoding="utf-8") as handle:
        json.dump(settings, handle, indent=1)  # JSON is YAML
    return inventory


# The role's task list (roles/bulk_import/tasks/main.yml) with a module that does nothing for each of its modules, and a
# sleep as long as a job for the wait: Ansible's own cost for a chain of this shape. Keep it in step with the role.
# Its module is ansible.builtin.ping (and ansible.builtin.command for the wait), or spo_dependencies
# (DEPENDENCIES_MODULE below) for all of them.
FLOOR_PLAYBOOK = """
- name: Ansible's floor for the bulk_import chain
  hosts: spo_tenants
  gather_facts: false
  tasks:
    - name: Start the run record
      ansible.builtin.set_fact:
        run_id: "{{ now(utc=true).strftime('%%Y%%m%%dT%%H%%M%%SZ') }}"
      run_once: true
    - name: The steps
      block:
        - name: Validate
          ansible.builtin.assert:
            that: [true]
            quiet: true
        - name: Build, check and upload
          %(module)s:
          register: upload
        - name: Queue
          %(module)s:
          loop: [1]
          register: queue
        - name: Wait
          %(wait)s
          changed_when: false
          loop: [1]
          register: wait
        - name: Take the outcome
          ansible.builtin.fail:
          loop: [1]
          when: false
        - name: Record the baseline
          %(module)s:
          register: baseline
        - name: Write per user
          %(module)s:
          when: false
        - name: Clean up
          %(module)s:
          register: cleanup
      rescue:
        - name: Note the failure
          ansible.builtin.set_fact:
            failure: true
      always:
        - name: Report
          ansible.builtin.debug:
            msg: "{{ [upload, queue, wait, baseline, cleanup] | length }}"
        - name: Combined report
          ansible.builtin.debug:
            msg: combined
          run_once: true
        - name: Fail
          ansible.builtin.fail:
          when: false
"""

# A module that imports what every module of the collection imports to sign in and send requests, and does nothing:
# written as <work>/library/spo_dependencies.py, beside the playbooks that use it.
# As module_utils/auth.py imports them; module_utils/http.py imports requests, which msal imports too. With `seconds`,
# it sleeps that long (the wait for a job).
DEPENDENCIES_MODULE = """#!/usr/bin/python
import time

from ansible.module_utils.basic import AnsibleModule
import msal
import requests
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.serialization import pkcs12

module = AnsibleModule(argument_spec={"seconds": {"type": "int", "default": 0}}, supports_check_mode=True)
time.sleep(module.params["seconds"])
module.exit_json(changed=False, loaded=[item.__name__ for item in (msal, requests, x509, hashes, serialization, pkcs12)])
"""


def write_dependencies_module(work):
    """The module `spo_dependencies` (DEPENDENCIES_MODULE) for the playbooks in `work`."""
    os.makedirs(os.path.join(work, "library"), exist_ok=True)
    with open(os.path.join(work, "library", "spo_dependencies.py"), "w", encoding="utf-8") as handle:
        handle.write(DEPENDENCIES_MODULE)


def floor_cpu(work, tenants, job_seconds, module="ansible.builtin.ping"):
    """CPU-seconds of ansible-playbook and all it started for FLOOR_PLAYBOOK, with `module` for each module run, over
    `tenants` local hosts."""
    inventory = os.path.join(work, "inventory-floor.yml")
    with open(inventory, "w", encoding="utf-8") as handle:
        handle.write("spo_tenants:\n  hosts:\n" + "".join("    floor%02d:\n" % index for index in range(tenants))
                     + "  vars:\n    ansible_connection: local\n    ansible_python_interpreter: %s\n" % sys.executable)
    playbook = os.path.join(work, "floor.yml")
    with open(playbook, "w", encoding="utf-8") as handle:
        wait = ("ansible.builtin.command: sleep %d" % job_seconds if module == "ansible.builtin.ping"
                else "%s: {seconds: %d}" % (module, job_seconds))
        handle.write(FLOOR_PLAYBOOK % {"module": module, "wait": wait})
    write_dependencies_module(work)
    env = dict(os.environ, ANSIBLE_FORKS=str(tenants), ANSIBLE_LOCALHOST_WARNING="false", ANSIBLE_RETRY_FILES_ENABLED="false")
    cpu_before = children_cpu()
    run = subprocess.run([os.path.join(os.path.dirname(sys.executable), "ansible-playbook"), "-i", inventory, playbook],
                         env=env, cwd=work, capture_output=True, text=True, check=False)
    if run.returncode:
        sys.stdout.write(run.stdout[-4000:] + run.stderr[-2000:])
        raise RuntimeError("the floor playbook failed with %d" % run.returncode)
    return children_cpu() - cpu_before


def children_cpu():
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def run_playbook(work, emulator, inventory, forks):
    """(seconds, changed tasks, CPU-seconds of ansible-playbook and all it started)."""
    env = dict(os.environ, ANSIBLE_COLLECTIONS_PATH=os.path.join(work, "collections"), ANSIBLE_FORKS=str(forks),
               ANSIBLE_LOCALHOST_WARNING="false", ANSIBLE_RETRY_FILES_ENABLED="false",
               HTTPS_PROXY="http://127.0.0.1:%d" % emulator.port, NO_PROXY="127.0.0.1,localhost",
               REQUESTS_CA_BUNDLE=os.path.join(emulator.data_dir, "ca.pem"))
    command = [os.path.join(os.path.dirname(sys.executable), "ansible-playbook"), "-i", inventory,
               "spo.user_profiles.sync_profiles"]
    started, cpu_before = time.monotonic(), children_cpu()
    run = subprocess.run(command, env=env, cwd=work, capture_output=True, text=True, check=False)
    elapsed, cpu = time.monotonic() - started, children_cpu() - cpu_before
    if run.returncode:
        sys.stdout.write(run.stdout[-4000:] + run.stderr[-2000:])
        raise RuntimeError("ansible-playbook failed with %d" % run.returncode)
    recap = run.stdout[run.stdout.rfind("PLAY RECAP"):]
    changed = sum(int(part.split("=")[1]) for part in recap.split() if part.startswith("changed="))
    return elapsed, changed, cpu


def uploads_and_jobs(emulator, tenants, since):
    uploads = 0
    jobs = 0
    for name in tenants:
        log = emulator.call("GET", "/tenants/%s/requests?since=%d" % (name, since))["requests"]
        uploads += sum(1 for entry in log if entry["method"] == "POST"
                       and any(marker in entry["path"] for marker in ("/Files/add", "/StartUpload", "/Files/Add")))
        listing = emulator.call("GET", "/tenants/%s/jobs" % name)
        jobs += len(listing.get("jobs", listing) if isinstance(listing, dict) else listing)
    return uploads, jobs


def last_seq(emulator):
    log = emulator.call("GET", "/requests")["requests"]
    return max((entry["seq"] for entry in log), default=0)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tenants", type=int, default=20)
    parser.add_argument("--job-seconds", type=int, default=60)
    parser.add_argument("--users", type=int, default=50)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--quick", action="store_true", help="3 tenants, 6 s jobs, one repeat")
    args = parser.parse_args()
    if args.quick:
        args.tenants, args.job_seconds, args.repeats = 3, 6, 1
    work = tempfile.mkdtemp(prefix="bench-multi-tenant.")
    emulator = None
    try:
        link_collection(work)
        emulator = Emulator(work)
        delay = min(5, args.job_seconds // 3)
        emulator.call("POST", "/faults", {"job_delay": delay, "job_duration": args.job_seconds - delay})
        data_dir = os.path.join(work, "data")
        os.makedirs(data_dir)
        ratios = []
        cpus = []
        for repeat in range(args.repeats):
            single = ["single%d" % repeat]
            many = ["r%dt%02d" % (repeat, index) for index in range(args.tenants)]
            for name in single + many:
                create_tenant(emulator, name, args.users)
                write_source(os.path.join(data_dir, name + ".csv"), name, args.users)
            one_time, first_changed, one_cpu = run_playbook(
                work, emulator, write_inventory(work, emulator, single, data_dir, "one%d" % repeat), 1)
            inventory = write_inventory(work, emulator, many, data_dir, "many%d" % repeat)
            many_time, many_changed, many_cpu = run_playbook(work, emulator, inventory, args.tenants)
            ratios.append(many_time / one_time)
            cpus.append(many_cpu / args.tenants)
            print("repeat %d: jobs of %d s; one tenant: %.1f s, %.2f CPU-s (changed=%d); %d tenants in parallel: %.1f s, "
                  "%.2f CPU-s per tenant (changed=%d); %.2fx"
                  % (repeat + 1, args.job_seconds, one_time, one_cpu, first_changed, args.tenants, many_time, cpus[-1],
                     many_changed, ratios[-1]), flush=True)
        uploads_before, jobs_before = uploads_and_jobs(emulator, many, 0)
        mark = last_seq(emulator)
        rerun_time, rerun_changed, dummy = run_playbook(work, emulator, inventory, args.tenants)
        uploads_after, jobs_after = uploads_and_jobs(emulator, many, mark)

        floor = floor_cpu(work, args.tenants, args.job_seconds) / args.tenants
        dependencies_floor = floor_cpu(work, args.tenants, args.job_seconds, "spo_dependencies") / args.tenants

        ratio = statistics.median(ratios)
        cpu = statistics.median(cpus)
        print("unchanged rerun of %d tenants: %.1f s, changed=%d, uploads %d, new jobs %d (first run: %d uploads, %d jobs)"
              % (args.tenants, rerun_time, rerun_changed, uploads_after, jobs_after - jobs_before, uploads_before, jobs_before))
        rerun_ok = rerun_changed == 0 and uploads_after == 0 and jobs_after == jobs_before
        print("%d tenants / 1 tenant: median %.2fx of %s (target <= %.1fx: %s); unchanged rerun makes no upload and no job: %s"
              % (args.tenants, ratio, ", ".join("%.2fx" % value for value in ratios), TARGET_RATIO,
                 "met" if ratio <= TARGET_RATIO else "NOT met", "yes" if rerun_ok else "NO"))
        print("controller CPU per tenant with %d tenants: median %.2f CPU-s of %s (target <= %.1f: %s)"
              % (args.tenants, cpu, ", ".join("%.2f" % value for value in cpus), TARGET_CPU_PER_TENANT,
                 "met" if cpu <= TARGET_CPU_PER_TENANT else "NOT met"))
        print("Ansible's own floor for this chain (its tasks with ansible.builtin.ping for each module and a %d s sleep for "
              "the wait, %d hosts): %.2f CPU-s per tenant; the collection above it: %.2f CPU-s per tenant"
              % (args.job_seconds, args.tenants, floor, cpu - floor))
        print("the same floor with the collection's dependencies (each module run, the wait's too, imports msal, requests "
              "and cryptography as ours do, and does nothing else): %.2f CPU-s per tenant (target <= %.1f for the whole run: %s); the "
              "collection above it: %.2f CPU-s per tenant"
              % (dependencies_floor, TARGET_CPU_PER_TENANT,
                 "within reach" if dependencies_floor < TARGET_CPU_PER_TENANT else "out of reach: the floor is above it",
                 cpu - dependencies_floor))
        return 0
    finally:
        if emulator:
            emulator.stop()
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
