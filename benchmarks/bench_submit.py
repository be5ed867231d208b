#!/usr/bin/env python
# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Submitting --users users (issue 18): read, validate, build, upload and queue, against a plain script.

    python benchmarks/bench_submit.py [--users 100000] [--repeats 5] [--script-python PYTHON]

Starts its own emulator (import jobs are held back, so that no job runs while anything is timed) and, --repeats times,
interleaved, each on a new source file:
- the collection: ansible-playbook with upa_import_file (read, validate, build, upload) and upa_import_job (queue, no
  wait), minus a playbook of one no-op task (Ansible's own start-up): what the collection itself costs;
- the script: a plain office365-rest-python-client script doing the same without any validation - csv, one
  json.dumps, upload (an upload session, 10 MB chunks), queue (the REST form) - started as a new Python process.
- for comparison (no target): a playbook of the same two tasks with ansible.builtin.ping for each module, minus the
  no-op playbook: what any two module tasks cost before they do anything (Ansible's floor);
- for comparison (no target): the same two tasks with a module that only imports what every module of the collection
  needs to sign in and send requests (msal, requests and cryptography), minus the no-op playbook;
  and a Python process that imports the same for the script: the work alone (read, validate, build, upload, queue)
  of each, above the start-up and the imports both sides pay;
- for comparison (no target): the same two tasks, the first of which also reads the CSV and writes the file as the
  script does (csv.DictReader, one json.dumps; no check, no upload): what the script's own build costs in the two
  module runs of a submission, before any sign-in, upload or queue.
Targets: collection / script <= 1.0 (the best run of each: the machines are shared and a busy moment only ever slows
a run down); and memory flat: the peak RSS of upa_import_file (run as Ansible runs
it, in a process of its own) for 2 x --users minus --users <= 20 MB, where the script's grows with the users.
The script needs office365-rest-python-client: install it into a throwaway virtual environment and pass its Python
with --script-python (this benchmark installs nothing); without it the benchmark says so and skips.
"""

from __future__ import annotations

import argparse
import csv
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from bench_multi_tenant import (  # noqa: E402  (one emulator harness, one module of dependencies)
    CLIENT_ID, SEEDS, Emulator, certificate_pem, write_dependencies_module)

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
TIME_TARGET = 1.0
MEMORY_TARGET_MB = 20
PROPERTY_MAP = {"costcenter": "CostCenter", "building": "Building", "city": "City", "employee_id": "EmployeeId"}
TENANT = "benchsubmit"

# The plain script: what a user of office365-rest-python-client writes. argv: csv, json path, file name.
SCRIPT = r'''
import codecs, csv, json, os, sys
from cryptography import x509
from cryptography.hazmat.primitives import hashes
from office365.sharepoint.client_context import ClientContext
from office365.sharepoint.tenant.management.office365_tenant import Office365Tenant

src, out, name = sys.argv[1:4]
tenant, client_id, pem_path = os.environ["BENCH_TENANT"], os.environ["BENCH_CLIENT_ID"], os.environ["BENCH_PEM"]
property_map = json.loads(os.environ["BENCH_MAP"])
with open(src, encoding="utf-8", newline="") as handle:
    records = [dict([("upn", row["upn"])] + [(field, row[field]) for field in property_map]) for row in csv.DictReader(handle)]
with open(out, "wb") as handle:
    handle.write(codecs.BOM_UTF8 + json.dumps({"value": records}, ensure_ascii=False).encode("utf-8"))
pem = open(pem_path).read()
thumbprint = x509.load_pem_x509_certificate(pem.encode()).fingerprint(hashes.SHA1()).hex()

def context(host):
    return ClientContext("https://%s%s.sharepoint.com" % (tenant, host)).with_client_certificate(
        "%s.onmicrosoft.com" % tenant, client_id, thumbprint, private_key=pem)

ctx = context("")
os.rename(out, os.path.join(os.path.dirname(out), name))
folder = ctx.web.get_folder_by_server_relative_url("Shared Documents")
folder.files.create_upload_session(os.path.join(os.path.dirname(out), name), chunk_size=10 * 1024 * 1024).execute_query()
admin = context("-admin")
source = "https://%s.sharepoint.com/Shared Documents/%s" % (tenant, name)
job = Office365Tenant(admin).queue_import_profile_properties(0, "upn", property_map, source)
admin.execute_query()
print(job.value)
'''

PLAYBOOK = """
- name: Submit
  hosts: localhost
  connection: local
  gather_facts: false
  module_defaults:
    group/spo.user_profiles.spo: %(connection)s
  tasks:
    - name: Build, validate and upload
      spo.user_profiles.upa_import_file:
        src: "{{ src }}"
        id_property: upn
        id_type: email
        property_map: %(map)s
        name: "{{ prefix }}"
      register: built
    - name: Queue
      spo.user_profiles.upa_import_job:
        source_uri: "{{ built.files | map(attribute='source_uri') | list }}"
        id_property: upn
        id_type: email
        property_map: %(map)s
        wait: false
"""

NOOP = """
- name: Nothing
  hosts: localhost
  connection: local
  gather_facts: false
  tasks:
    - name: A no-op task
      ansible.builtin.debug:
        msg: nothing
"""

# The submission's two tasks with a module that does nothing for each: Ansible's own cost of two module tasks
# (ansible.builtin.ping), or that with the collection's dependencies (spo_dependencies, from bench_multi_tenant).
FLOOR = """
- name: Two module tasks that do nothing
  hosts: localhost
  connection: local
  gather_facts: false
  tasks:
    - name: Build, validate and upload
      %(module)s:
    - name: Queue
      %(module)s:
"""

# The script's own build (csv.DictReader, one json.dumps, the file with a BOM), in a module that also imports the
# collection's dependencies: for FLOOR, as the first of the two tasks.
SCRIPT_BUILD_MODULE = """#!/usr/bin/python
import codecs
import csv
import json

from ansible.module_utils.basic import AnsibleModule
import msal
import requests
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.serialization import pkcs12

module = AnsibleModule(argument_spec={"src": {"type": "path", "required": True}, "dest": {"type": "path", "required": True},
                                      "property_map": {"type": "dict", "required": True}})
src, property_map = module.params["src"], module.params["property_map"]
with open(src, encoding="utf-8", newline="") as handle:
    records = [dict([("upn", row["upn"])] + [(field, row[field]) for field in property_map])
               for row in csv.DictReader(handle)]
with open(module.params["dest"], "wb") as handle:
    handle.write(codecs.BOM_UTF8 + json.dumps({"value": records}, ensure_ascii=False).encode("utf-8"))
module.exit_json(changed=True, records=len(records),
                 loaded=[item.__name__ for item in (msal, requests, x509, hashes, serialization, pkcs12)])
"""

SCRIPT_BUILD = """
- name: Two module tasks that import the dependencies, the first building as the script does
  hosts: localhost
  connection: local
  gather_facts: false
  tasks:
    - name: Build as the script does
      spo_script_build:
        src: "{{ src }}"
        dest: "{{ dest }}"
        property_map: %(map)s
    - name: Queue
      spo_dependencies:
"""

# What the script imports before its work, in the script's Python: its start-up and the dependencies it shares with
# the collection (office365-rest-python-client signs in with msal).
SCRIPT_IMPORTS = "import msal, office365.sharepoint.client_context; from cryptography import x509"

# A process that runs a command and prints the peak RSS of it (and only it), in KiB: started while this benchmark is
# small, since Linux keeps ru_maxrss across fork and exec.
PEAK = ("import resource, subprocess, sys; subprocess.run(sys.argv[1:], check=True, stdout=subprocess.DEVNULL); "
        "print(resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss)")


def write_csv(path, users, seed):
    with open(path, "w", encoding="utf-8", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(["upn", "displayName"] + list(PROPERTY_MAP))
        for index in range(users):
            writer.writerow(["user%07d@%s.example" % (index, TENANT), "User %d" % index, "CC-%04d" % ((index + seed) % 9973),
                             "B%d" % (index % 40), "Zürich %d" % (index % 97), str(100000 + index)])


def environment(emulator, work):
    return dict(os.environ, ANSIBLE_COLLECTIONS_PATH=os.path.join(work, "collections"), ANSIBLE_LOCALHOST_WARNING="false",
                ANSIBLE_RETRY_FILES_ENABLED="false", HTTPS_PROXY="http://127.0.0.1:%d" % emulator.port,
                NO_PROXY="127.0.0.1,localhost", REQUESTS_CA_BUNDLE=os.path.join(emulator.data_dir, "ca.pem"),
                BENCH_TENANT=TENANT, BENCH_CLIENT_ID=CLIENT_ID, BENCH_PEM=os.path.join(SEEDS, "test-app.pem"),
                BENCH_MAP=json.dumps(PROPERTY_MAP), PYTHONPATH=os.path.join(work, "collections"))


def timed(command, env, cwd):
    started = time.monotonic()
    run = subprocess.run(command, env=env, cwd=cwd, capture_output=True, text=True, check=False)
    elapsed = time.monotonic() - started
    if run.returncode:
        sys.stdout.write(run.stdout[-3000:] + run.stderr[-3000:])
        raise RuntimeError("%s failed with %d" % (command[0], run.returncode))
    return elapsed


def module_args(emulator, src, prefix):
    """upa_import_file's arguments, as Ansible hands them to the module."""
    return {"ANSIBLE_MODULE_ARGS": {
        "src": src, "id_property": "upn", "id_type": "email", "property_map": PROPERTY_MAP, "name": prefix,
        "tenant": TENANT, "client_id": CLIENT_ID, "certificate_path": os.path.join(SEEDS, "test-app.pem"),
        "ca_path": os.path.join(emulator.data_dir, "ca.pem")}}


def peak_kib(command, env, cwd):
    output = subprocess.run([sys.executable, "-c", PEAK] + command, env=env, cwd=cwd, capture_output=True, text=True,
                            check=True).stdout
    return int(output.split()[-1])


def has_office365(python):
    return subprocess.run([python, "-c", "import office365"], capture_output=True, check=False).returncode == 0


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--users", type=int, default=100000)
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--script-python", default=sys.executable,
                        help="a Python with office365-rest-python-client (a throwaway virtual environment)")
    args = parser.parse_args()
    if not has_office365(args.script_python):
        print("SKIPPED: office365-rest-python-client is not installed for %s; install it into a throwaway virtual "
              "environment (python3 -m venv /tmp/o365 && /tmp/o365/bin/pip install office365-rest-python-client) and "
              "pass --script-python /tmp/o365/bin/python" % args.script_python)
        return 0
    work = tempfile.mkdtemp(prefix="bench-submit.")
    emulator = None
    try:
        collection = os.path.join(work, "collections", "ansible_collections", "spo")
        os.makedirs(collection)
        os.symlink(ROOT, os.path.join(collection, "user_profiles"))
        emulator = Emulator(work)
        emulator.call("POST", "/tenants", {
            "name": TENANT, "users": [{"upn": "user0000000@%s.example" % TENANT}],
            "properties": [{"name": target} for target in PROPERTY_MAP.values()],
            "apps": [{"client_id": CLIENT_ID, "certificate_pem": certificate_pem(),
                      "roles": ["Sites.FullControl.All", "User.ReadWrite.All"]}]})
        # No job runs while anything is timed: the import jobs would take the CPU the runs are measured on.
        emulator.call("POST", "/faults", {"tenant": TENANT, "job_delay": 86400})
        env = environment(emulator, work)
        connection = json.dumps({"tenant": TENANT, "client_id": CLIENT_ID, "certificate_path": os.path.join(SEEDS, "test-app.pem"),
                                 "ca_path": os.path.join(emulator.data_dir, "ca.pem")})
        with open(os.path.join(work, "submit.yml"), "w", encoding="utf-8") as handle:
            handle.write(PLAYBOOK % {"connection": connection, "map": json.dumps(PROPERTY_MAP)})
        with open(os.path.join(work, "noop.yml"), "w", encoding="utf-8") as handle:
            handle.write(NOOP)
        with open(os.path.join(work, "floor.yml"), "w", encoding="utf-8") as handle:
            handle.write(FLOOR % {"module": "ansible.builtin.ping"})
        with open(os.path.join(work, "dependencies.yml"), "w", encoding="utf-8") as handle:
            handle.write(FLOOR % {"module": "spo_dependencies"})
        write_dependencies_module(work)
        with open(os.path.join(work, "library", "spo_script_build.py"), "w", encoding="utf-8") as handle:
            handle.write(SCRIPT_BUILD_MODULE)
        with open(os.path.join(work, "script_build.yml"), "w", encoding="utf-8") as handle:
            handle.write(SCRIPT_BUILD % {"map": json.dumps(PROPERTY_MAP)})
        with open(os.path.join(work, "script.py"), "w", encoding="utf-8") as handle:
            handle.write(SCRIPT)
        playbook = os.path.join(os.path.dirname(sys.executable), "ansible-playbook")

        # Memory first, while this process is small.
        module = os.path.join(ROOT, "plugins", "modules", "upa_import_file.py")
        peaks = {}
        for label, users in (("small", args.users), ("big", 2 * args.users)):
            src = os.path.join(work, "memory-%s.csv" % label)
            write_csv(src, users, seed=users)
            args_path = os.path.join(work, "args-%s.json" % label)
            with open(args_path, "w", encoding="utf-8") as handle:
                json.dump(module_args(emulator, src, "mem" + label), handle)
            peaks[("collection", label)] = peak_kib([sys.executable, module, args_path], env, work) / 1024.0
            peaks[("script", label)] = peak_kib([args.script_python, "script.py", src, os.path.join(work, "m.json"),
                                                 "memory-%s.json" % label], env, work) / 1024.0

        collection_times, script_times, noop_times, floor_times = [], [], [], []
        dependencies_times, script_import_times, script_build_times = [], [], []
        for repeat in range(args.repeats):
            src = os.path.join(work, "users-%d.csv" % repeat)
            write_csv(src, args.users, seed=repeat)
            noop_times.append(timed([playbook, "noop.yml"], env, work))
            floor_times.append(timed([playbook, "floor.yml"], env, work))
            dependencies_times.append(timed([playbook, "dependencies.yml"], env, work))
            script_import_times.append(timed([args.script_python, "-c", SCRIPT_IMPORTS], env, work))
            script_build_times.append(timed([playbook, "script_build.yml", "-e", "src=%s" % src, "-e",
                                             "dest=%s" % os.path.join(work, "b.json")], env, work))
            collection_times.append(timed([playbook, "submit.yml", "-e", "src=%s" % src, "-e", "prefix=r%d" % repeat],
                                          env, work))
            script_times.append(timed([args.script_python, "script.py", src, os.path.join(work, "s.json"),
                                       "script-%d.json" % repeat], env, work))
            print("repeat %d: playbook %.2f s, no-op playbook %.2f s, two pings %.2f s, two dependency imports %.2f s, "
                  "the same with the script's build %.2f s, script %.2f s, the script's imports %.2f s" % (
                      repeat + 1, collection_times[-1], noop_times[-1], floor_times[-1], dependencies_times[-1],
                      script_build_times[-1], script_times[-1], script_import_times[-1]), flush=True)
        jobs = emulator.call("GET", "/tenants/%s/jobs" % TENANT)["jobs"]
        ours = min(collection_times) - min(noop_times)
        script = min(script_times)
        ratio = ours / script
        growth = peaks[("collection", "big")] - peaks[("collection", "small")]
        script_growth = peaks[("script", "big")] - peaks[("script", "small")]
        time_ok, memory_ok = ratio <= TIME_TARGET, growth <= MEMORY_TARGET_MB
        print("%d jobs queued (2 memory runs x 2, %d repeats x 2)" % (len(jobs), args.repeats))
        print("peak RSS, %d -> %d users: upa_import_file %.0f -> %.0f MB (+%.1f MB; target <= %d MB: %s); script %.0f -> "
              "%.0f MB (+%.1f MB)" % (
                  args.users, 2 * args.users, peaks[("collection", "small")], peaks[("collection", "big")], growth,
                  MEMORY_TARGET_MB, "met" if memory_ok else "NOT met", peaks[("script", "small")],
                  peaks[("script", "big")], script_growth))
        print("submitting %d users: collection %.2f s (playbook %.2f s - Ansible's start-up %.2f s), script %.2f s: "
              "%.2fx (target <= %.1fx: %s)" % (
                  args.users, ours, min(collection_times), min(noop_times), script, ratio, TIME_TARGET,
                  "met" if time_ok else "NOT met"))
        floor = min(floor_times) - min(noop_times)
        print("Ansible's floor for two module tasks (two pings - the no-op playbook): %.2f s; the collection above it: "
              "%.2f s, %.2fx the script" % (floor, ours - floor, (ours - floor) / script))
        print("two module tasks that import the collection's dependencies and do nothing else: %.2f s (%.2f s - the "
              "no-op playbook)" % (min(dependencies_times) - min(noop_times), min(dependencies_times)))
        ours_work = min(collection_times) - min(dependencies_times)
        script_work = script - min(script_import_times)
        print("the work alone: the collection above two module tasks that import its dependencies %.2f s (%.2f s - "
              "%.2f s), the script above its own imports %.2f s (%.2f s - %.2f s): %.2fx" % (
                  ours_work, min(collection_times), min(dependencies_times), script_work, script,
                  min(script_import_times), ours_work / script_work))
        script_build = min(script_build_times) - min(noop_times)
        print("two module tasks that import the dependencies, the first also reading and writing as the script does "
              "(no check, no sign-in, no upload, no queue): %.2f s (%.2f s - the no-op playbook), %.2fx the script: %s" % (
                  script_build, min(script_build_times), script_build / script,
                  "the target is within reach of a submission in two module runs" if script_build < script * TIME_TARGET
                  else "no submission in two module runs that reads and writes as the script does meets the target"))
        return 0 if time_ok and memory_ok else 1
    finally:
        if emulator:
            emulator.stop()
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
