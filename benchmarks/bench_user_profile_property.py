# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""user_profile_property against a sequential read-then-write loop, at realistic latency (issues #17 and #21).

Starts its own emulator on a free port with a temporary data dir, creates a tenant of --users users (default 2,000)
with three properties each (CostCenter, Building, and the multi-valued Certifications), all set through the control
API, and adds --latency-ms (default 100) to every request. A quarter of the users change (CostCenter and
Certifications: two writes each); the rest of the source equals what the tenant holds, Certifications in another order.

1. baseline: a plain sequential script, user after user: GetPropertiesFor, compare, SetSingleValueProfileProperty /
   SetMultiValuedProfileProperty for what differs (what PnP PowerShell's Set-PnPUserProfileProperty loop or the CLI
   does, plus the comparison), with one keep-alive session and a ready token. It runs over --baseline-users users
   (default 240, the first ones: a quarter of them changed, like the whole) and its time per user is scaled to all
   users: a sequential loop's time is linear in its users. --baseline-users 0 runs it over all of them (~3 minutes
   more at 50 ms). The users it changed are set back before step 2.
2. ours: the module, user_profile_property, run by ansible-playbook over a CSV of all users, with its defaults
   (concurrency 16), signing in with the test certificate. Its wall time includes ansible-playbook's start.
   PASS when baseline / ours >= --target (default 10) and the emulator's request log holds exactly one write per
   changed property (no write for an unchanged user) and one read per user.
2b. the same under load, the tenant's values set back first: the tenant throttles (429 with Retry-After 1 s) beyond
   --max-in-flight (default 12) requests in flight. PASS when baseline / ours >= --limited-target (default 7), fewer
   than --throttled-share (default 5%) of the requests were answered 429/503, and the writes are as in step 2.
   --max-in-flight 0 leaves this step out.
3. memory: PropertySync over a CSV source in check mode (reads, compares, writes nothing) in a fresh process, measured
   with tracemalloc, over a quarter of the users and over all: once with nothing to change (PASS when the peak grows
   at most --memory-slack, default 1.3x, from a quarter to all: flat in the number of users), and once with a quarter
   changed (reported: what grows is the result, one record per changed user).

    .venv/bin/python benchmarks/bench_user_profile_property.py [--users 2000] [--latency-ms 100] [--baseline-users 240]
        [--max-in-flight 12]
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
from urllib.parse import quote

import requests

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from bench_multi_tenant import (  # noqa: E402  (a sibling script)
    CLIENT_ID, Emulator, certificate_pem, link_collection, run_module,
)

TENANT = "perusers"
PEOPLE_MANAGER = "https://%s-admin.sharepoint.com/_api/SP.UserProfiles.PeopleManager/" % TENANT
WRITES = ("SetSingleValueProfileProperty", "SetMultiValuedProfileProperty")
NOMETADATA = "application/json;odata=nometadata"


def upn(index):
    return "user%05d@%s.example" % (index, TENANT)


def current_values(index):
    return {"CostCenter": "CC-%d" % (index % 97), "Building": "Building %d" % (index % 13),
            "Certifications": ["AZ-900", "MS-%d" % (100 + index % 7)]}


def desired_values(index):
    """What the source says: a quarter of the users change CostCenter and Certifications."""
    values = current_values(index)
    if index % 4 == 0:
        values["CostCenter"] = "CC-new-%d" % index
        values["Certifications"] = values["Certifications"] + ["SC-900"]
    else:
        values["Certifications"] = list(reversed(values["Certifications"]))  # same set, another order: no write
    return values


def set_current(emulator, indexes):
    for index in indexes:
        emulator.call("PATCH", "/tenants/%s/profiles/%s" % (TENANT, upn(index)), current_values(index))


def write_source(path, count, values_of=desired_values):
    """The CSV of the first `count` users with the values of values_of(index) (by default what the source says)."""
    with open(path, "w", encoding="utf-8", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(["upn", "cost_center", "building", "certifications"])
        for index in range(count):
            values = values_of(index)
            writer.writerow([upn(index), values["CostCenter"], values["Building"], ";".join(values["Certifications"])])


def last_seq(emulator):
    return max((entry["seq"] for entry in emulator.call("GET", "/tenants/%s/requests" % TENANT)["requests"]), default=0)


def requests_since(emulator, since):
    return emulator.call("GET", "/tenants/%s/requests?since=%d" % (TENANT, since))["requests"]


# -- 1. the baseline: one user after another ---------------------------------------------------------------------

def baseline(emulator, indexes):
    """Seconds for a sequential read-compare-write loop over these users."""
    token = emulator.call("POST", "/tenants/%s/tokens" % TENANT, {
        "client_id": CLIENT_ID, "audience": "https://%s.sharepoint.com" % TENANT})["access_token"]
    session = requests.Session()
    session.trust_env = False
    session.proxies = {"https": "http://127.0.0.1:%d" % emulator.port}
    session.verify = os.path.join(emulator.data_dir, "ca.pem")
    session.headers.update({"Authorization": "Bearer " + token, "Accept": NOMETADATA})
    started = time.perf_counter()
    for index in indexes:
        account = "i:0#.f|membership|" + upn(index)
        alias = quote(account, safe="-_.!~*'()").replace("'", "''")
        response = session.get(PEOPLE_MANAGER + "GetPropertiesFor(accountName=@v)?@v='%s'" % alias)
        response.raise_for_status()
        current = dict((item["Key"], item["Value"]) for item in response.json()["UserProfileProperties"])
        for name, value in desired_values(index).items():
            if isinstance(value, list):
                if sorted(current.get(name, "").split("|")) != sorted(value):
                    body = {"accountName": account, "propertyName": name, "propertyValues": value}
                    session.post(PEOPLE_MANAGER + WRITES[1], json=body).raise_for_status()
            elif current.get(name, "") != value:
                body = {"accountName": account, "propertyName": name, "propertyValue": value}
                session.post(PEOPLE_MANAGER + WRITES[0], json=body).raise_for_status()
    return time.perf_counter() - started


# -- 2. ours: the module ----------------------------------------------------------------------------------------------

def run_ours(work, emulator, source):
    """(seconds, the module's result) of user_profile_property over the source, run by ansible-playbook."""
    return run_module(work, emulator, TENANT, "user_profile_property", {
        "src": source, "id_property": "upn",
        "property_map": {"cost_center": "CostCenter", "building": "Building", "certifications": "Certifications"},
        "multi_value_properties": ["Certifications"], "multi_value_separator": ";"})


def measure(work, emulator, source, args, base_all, target, label):
    """Run the module over the source, print its figures; (whether it passed, speed-up, share throttled in percent)."""
    since = last_seq(emulator)
    ours, result = run_ours(work, emulator, source)
    log = requests_since(emulator, since)
    served = [entry for entry in log if not entry["throttled"]]
    writes = [entry for entry in served if entry["path"].endswith(WRITES)]
    reads = [entry for entry in served if "GetPropertiesFor" in entry["path"]]
    throttled = len(log) - len(served)
    share = 100.0 * throttled / max(1, len(log))
    changed_users = len([index for index in range(args.users) if index % 4 == 0])
    ratio = base_all / ours
    print("%s: %.1f s for %d users (%.2f ms/user), concurrency %s" % (
        label, ours, args.users, 1000 * ours / args.users, json.dumps(result["concurrency"], sort_keys=True)))
    print("%s: %d reads, %d writes (%d changed users x 2 properties expected), %d throttled (%.1f%%), %d in all" % (
        label, len(reads), len(writes), changed_users, throttled, share, len(log)))
    writes_ok = (len(writes) == 2 * changed_users and len(reads) == args.users
                 and result["summary"]["changed"] == changed_users and result["summary"]["written"] == len(writes))
    print("%s: only the changed quarter written, once: %s" % (label, "PASS" if writes_ok else "FAIL"))
    speed_ok = ratio >= target
    print("%s: speed-up %.1fx (target >= %.1fx) %s" % (label, ratio, target, "PASS" if speed_ok else "FAIL"))
    return speed_ok and writes_ok, ratio, share


# -- 3. memory -------------------------------------------------------------------------------------------------------

MEMORY_RUN = r"""
import json, os, sys, tracemalloc
sys.path.insert(0, %(collections)r)
from ansible_collections.spo.user_profiles.plugins.module_utils import auth
from ansible_collections.spo.user_profiles.plugins.module_utils.http import SpoClient
from ansible_collections.spo.user_profiles.plugins.module_utils.profile_values import PropertyKinds
from ansible_collections.spo.user_profiles.plugins.module_utils.property_inputs import ProfileInput
from ansible_collections.spo.user_profiles.plugins.module_utils.property_sync import PropertySync
os.environ["HTTPS_PROXY"] = %(proxy)r
client = SpoClient(%(tenant)r, auth.Credentials(access_token=%(token)r), ca_path=%(ca)r)
inputs = ProfileInput(PropertyKinds(multi_value=["Certifications"]), src=%(source)r, id_property="upn",
                      property_map={"cost_center": "CostCenter", "building": "Building", "certifications": "Certifications"},
                      separator=";")
assert inputs.check(20).count == 0
tracemalloc.start()
result = PropertySync(client, 16, check_mode=True).run(inputs)
inputs.close()
print(json.dumps({"peak": tracemalloc.get_traced_memory()[1], "changed": result["summary"]["changed"],
                  "total": result["summary"]["total"]}))
"""


def memory_peak(work, emulator, source):
    """(peak bytes traced, users changed, users) of a check-mode PropertySync over the source, in a fresh process."""
    token = emulator.call("POST", "/tenants/%s/tokens" % TENANT, {
        "client_id": CLIENT_ID, "audience": "https://%s.sharepoint.com" % TENANT})["access_token"]
    code = MEMORY_RUN % {"collections": os.path.join(work, "collections"), "proxy": "http://127.0.0.1:%d" % emulator.port,
                         "tenant": TENANT, "token": token, "ca": os.path.join(emulator.data_dir, "ca.pem"),
                         "source": source}
    output = subprocess.check_output([sys.executable, "-c", code], text=True)
    measured = json.loads(output.strip().splitlines()[-1])
    return measured["peak"], measured["changed"], measured["total"]


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--users", type=int, default=2000)
    parser.add_argument("--latency-ms", type=int, default=100)
    parser.add_argument("--baseline-users", type=int, default=240, help="0: all users")
    parser.add_argument("--target", type=float, default=10.0)
    parser.add_argument("--memory-slack", type=float, default=1.3)
    parser.add_argument("--max-in-flight", type=int, default=12,
                        help="the tenant's load limit for the app in step 2b (429 with Retry-After 1 beyond); 0: no step 2b")
    parser.add_argument("--limited-target", type=float, default=7.0)
    parser.add_argument("--throttled-share", type=float, default=5.0, help="percent")
    args = parser.parse_args()
    work = tempfile.mkdtemp(prefix="bench-user-profile-property.")
    emulator = None
    try:
        link_collection(work)
        emulator = Emulator(work)
        emulator.call("POST", "/tenants", {
            "name": TENANT, "users": [{"upn": upn(index)} for index in range(args.users)],
            "properties": [{"name": "CostCenter"}, {"name": "Building"}, {"name": "Certifications", "multi_value": True}],
            "apps": [{"client_id": CLIENT_ID, "certificate_pem": certificate_pem(),
                      "roles": ["Sites.FullControl.All", "User.ReadWrite.All"]}]})
        set_current(emulator, range(args.users))
        source = os.path.join(work, "source.csv")
        write_source(source, args.users)
        emulator.call("POST", "/faults", {"tenant": TENANT, "latency_ms": args.latency_ms})

        # 1. the baseline, over a sample that keeps the share of changed users
        sample = list(range(min(args.baseline_users or args.users, args.users)))
        base_seconds = baseline(emulator, sample)
        per_user = base_seconds / len(sample)
        base_all = per_user * args.users
        set_current(emulator, sample)  # the control API is not delayed
        print("baseline: %d users in %.1f s (%.1f ms/user, %d%% changed) -> %.1f s for %d users%s" % (
            len(sample), base_seconds, 1000 * per_user, round(100.0 * sum(1 for i in sample if i % 4 == 0) / len(sample)),
            base_all, args.users, "" if len(sample) == args.users else " (scaled)"))

        # 2. ours
        free_ok, ratio, _share = measure(work, emulator, source, args, base_all, args.target, "ours")
        limited_ok, limited = True, ""
        if args.max_in_flight:
            # 2b. ours under load, from the same values
            set_current(emulator, range(args.users))
            emulator.call("POST", "/faults", {"tenant": TENANT, "load": {
                "max_in_flight": args.max_in_flight, "status": 429, "retry_after": 1}})
            label = "ours, at most %d in flight" % args.max_in_flight
            limited_ok, limited_ratio, share = measure(work, emulator, source, args, base_all, args.limited_target, label)
            share_ok = share < args.throttled_share
            print("%s: throttled share %.1f%% (limit < %.1f%%) %s" % (
                label, share, args.throttled_share, "PASS" if share_ok else "FAIL"))
            limited_ok = limited_ok and share_ok
            limited = "; %.1fx and %.1f%% throttled at %d in flight" % (limited_ratio, share, args.max_in_flight)

        # 3. memory, without latency (check mode: reads and compares only), the tenant as before step 2
        emulator.call("POST", "/faults", {"tenant": TENANT, "latency_ms": None, "load": None})
        set_current(emulator, range(args.users))
        quarter = max(1, args.users // 4)
        peaks = {}
        for label, values_of in (("unchanged", current_values), ("quarter changed", desired_values)):
            for users in (quarter, args.users):
                path = os.path.join(work, "memory-%s-%d.csv" % (label.replace(" ", "-"), users))
                write_source(path, users, values_of)
                peaks[label, users] = memory_peak(work, emulator, path)
        flat = peaks["unchanged", args.users][0] / float(peaks["unchanged", quarter][0])
        for (label, users), (peak, changed, total) in sorted(peaks.items()):
            print("memory, %s, %d users (%d changed): peak %.0f KiB traced" % (label, total, changed, peak / 1024.0))
        grown = peaks["quarter changed", args.users]
        small = peaks["quarter changed", quarter]
        print("memory per changed user (the result's records): %.0f bytes" % (
            (grown[0] - small[0]) / float(max(1, grown[1] - small[1]))))
        memory_ok = flat <= args.memory_slack
        print("memory growth %d -> %d users, nothing to change: %.2fx (limit %.2fx) %s" % (
            quarter, args.users, flat, args.memory_slack, "PASS" if memory_ok else "FAIL"))
        ok = free_ok and limited_ok and memory_ok
        print("RESULT: %s (%.1fx at %d ms%s; memory %.2fx)" % ("PASS" if ok else "FAIL", ratio, args.latency_ms, limited, flat))
        return 0 if ok else 1
    finally:
        if emulator is not None:
            emulator.stop()
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
