# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""profile_photo end to end against a plain sequential script, at realistic latency (issue #21).

Starts its own emulator on a free port with a temporary data dir, generates --users (default 200) JPEG photos of
12 megapixels (4000x3000), creates three tenants of those users, and adds --latency-ms (default 100) to every request.

1. baseline: a plain sequential script, user after user: decode the photo with Pillow, resize it to the three
   thumbnails and the Graph photo, upload the thumbnails (Files/add), set PictureURL and SPS-PicturePlaceholderState
   (SetSingleValueProfileProperty) and put the Graph photo: 6 requests a user, with one keep-alive session per host and
   ready tokens. It runs over --baseline-users users (default 50, the first ones) and its time per user is scaled to all
   users (a sequential loop is linear in its users); --baseline-users 0 runs it over all of them.
2. ours: the module, profile_photo over the photo directory, run by ansible-playbook with its default settings,
   signing in with the test certificate; its time includes ansible-playbook's start. PASS when baseline / ours >=
   --target (default 10) and the request log holds, per user, each thumbnail uploaded once, PictureURL and the
   placeholder state set once and the Graph photo put once, and nothing else per user (the run's own requests: the
   manifest read and write).
3. the same under load: the tenant throttles (429 with Retry-After 1 s) beyond --max-in-flight (default 12) requests in
   flight. PASS when baseline / ours >= --limited-target (default 7), fewer than --throttled-share (default 5%) of the
   requests were answered 429/503, and every photo and value was still written once.

    .venv/bin/python benchmarks/bench_profile_photo.py [--users 200] [--latency-ms 100] [--baseline-users 50]
        [--max-in-flight 12] [--keep DIR]   (generate the photos into DIR, or reuse them from there)
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import sys
import tempfile
import time
from urllib.parse import quote

import requests

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from bench_multi_tenant import (  # noqa: E402  (sibling scripts)
    CLIENT_ID, Emulator, certificate_pem, link_collection, run_module,
)
from bench_photos import generate, naive_prepare  # noqa: E402

FOLDER = "/User Photos/Profile Pictures"
NOMETADATA = "application/json;odata=nometadata"
PROPERTY_WRITE = "SetSingleValueProfileProperty"


def account(upn):
    return upn.replace("@", "_").replace(".", "_")


def users_of(paths):
    return [os.path.basename(path)[:-len(".jpg")] for path in paths]


def create_tenant(emulator, name, upns):
    emulator.call("POST", "/tenants", {
        "name": name, "users": [{"upn": upn} for upn in upns],
        "apps": [{"client_id": CLIENT_ID, "certificate_pem": certificate_pem(),
                  "roles": ["Sites.FullControl.All", "User.ReadWrite.All"]}]})


def requests_of(emulator, tenant):
    """The tenant's request log, SharePoint and Graph only (sign-in is not a request of the sync)."""
    log = emulator.call("GET", "/tenants/%s/requests" % tenant)["requests"]
    return [entry for entry in log if entry["host"] != "login.microsoftonline.com"]


# -- 1. the baseline: one user after another ---------------------------------------------------------------------

def _session(emulator, tenant, audience):
    token = emulator.call("POST", "/tenants/%s/tokens" % tenant, {"client_id": CLIENT_ID, "audience": audience})
    session = requests.Session()
    session.trust_env = False
    session.proxies = {"https": "http://127.0.0.1:%d" % emulator.port}
    session.verify = os.path.join(emulator.data_dir, "ca.pem")
    session.headers.update({"Authorization": "Bearer " + token["access_token"]})
    return session


def baseline(emulator, tenant, paths):
    """Seconds for the plain script over these photos, and the seconds of it spent preparing images."""
    sharepoint = _session(emulator, tenant, "https://%s.sharepoint.com" % tenant)
    sharepoint.headers["Accept"] = NOMETADATA
    graph = _session(emulator, tenant, "https://graph.microsoft.com")
    my_host = "https://%s-my.sharepoint.com" % tenant
    files = "%s/_api/web/GetFolderByServerRelativeUrl('%s')/Files" % (my_host, quote(FOLDER))
    people = "https://%s-admin.sharepoint.com/_api/SP.UserProfiles.PeopleManager/%s" % (tenant, PROPERTY_WRITE)
    preparing = 0.0
    started = time.perf_counter()
    for path, upn in zip(paths, users_of(paths)):
        began = time.perf_counter()
        small, medium, large, graph_photo = naive_prepare(path)
        preparing += time.perf_counter() - began
        for label, data in (("S", small), ("M", medium), ("L", large)):
            name = "%s_%sThumb.jpg" % (account(upn), label)
            sharepoint.post("%s/add(url='%s',overwrite=true)" % (files, name), data=data).raise_for_status()
        picture_url = "%s%s/%s_MThumb.jpg" % (my_host, quote(FOLDER), account(upn))
        for name, value in (("PictureURL", picture_url), ("SPS-PicturePlaceholderState", "0")):
            body = {"accountName": "i:0#.f|membership|" + upn, "propertyName": name, "propertyValue": value}
            sharepoint.post(people, json=body).raise_for_status()
        graph.put("https://graph.microsoft.com/v1.0/users/%s/photo/$value" % upn, data=graph_photo,
                  headers={"Content-Type": "image/jpeg"}).raise_for_status()
    return time.perf_counter() - started, preparing


# -- 2. and 3. ours: the module ---------------------------------------------------------------------------------------

def written_once(log, upns):
    """Problems with the run's writes: every thumbnail, property and Graph photo once per user, nothing else per user."""
    served = [entry for entry in log if not entry["throttled"]]
    problems = []
    expected = {}
    for upn in upns:
        for label in "SML":
            expected["upload " + "%s_%sThumb.jpg" % (account(upn), label)] = 1
        expected["graph " + upn] = 1
    counted = dict((key, 0) for key in expected)
    property_writes = 0
    others = []
    for entry in served:
        path = requests.utils.unquote(entry["path"])
        if entry["method"] == "POST" and "/Files/add" in path and "Thumb.jpg" in path:
            key = "upload " + path.split("url='", 1)[1].split("'", 1)[0]
        elif entry["method"] == "PUT" and path.endswith("/photo/$value"):
            key = "graph " + path.split("/users/", 1)[1].split("/", 1)[0]
        elif path.endswith(PROPERTY_WRITE):
            property_writes += 1
            continue
        else:
            others.append("%s %s" % (entry["method"], path))
            continue
        counted[key] = counted.get(key, 0) + 1
    wrong = [key for key, count in counted.items() if count != expected.get(key)]
    if wrong:
        problems.append("%d writes not done exactly once (%s)" % (len(wrong), ", ".join(sorted(wrong)[:5])))
    if property_writes != 2 * len(upns):
        problems.append("%d property writes for %d users (2 each expected)" % (property_writes, len(upns)))
    if len(others) > 3:  # the manifest's read and write, and the folder's check when there is no manifest yet
        problems.append("%d other requests: %s" % (len(others), ", ".join(others[:5])))
    return problems, len(others)


def measure(work, emulator, tenant, photos, upns, base_all, target, label):
    """Run the module on the tenant, print its figures; whether it passed."""
    emulator.call("DELETE", "/tenants/%s/requests" % tenant)
    seconds, result = run_module(work, emulator, tenant, "profile_photo", {"src_dir": photos})
    log = requests_of(emulator, tenant)
    throttled = len([entry for entry in log if entry["throttled"]])
    problems, others = written_once(log, upns)
    served = len(log) - throttled
    ratio = base_all / seconds
    share = 100.0 * throttled / max(1, len(log))
    print("%s: %.1f s for %d users, concurrency %s" % (label, seconds, len(upns), json.dumps(result.get("concurrency"), sort_keys=True)))
    print("%s: %d requests answered (%.2f per user, %d for the run itself), %d throttled (%.1f%%)" % (
        label, served, float(served) / len(upns), others, throttled, share))
    ok = ratio >= target and not problems and result["summary"]["changed"] == len(upns)
    for problem in problems:
        print("%s: %s" % (label, problem))
    print("%s: speed-up %.1fx (target >= %.1fx), every photo and value written once: %s -> %s" % (
        label, ratio, target, "no" if problems else "yes", "PASS" if ok else "FAIL"))
    return ok, ratio, share


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--users", type=int, default=200)
    parser.add_argument("--latency-ms", type=int, default=100)
    parser.add_argument("--baseline-users", type=int, default=50, help="0: all users")
    parser.add_argument("--target", type=float, default=10.0)
    parser.add_argument("--max-in-flight", type=int, default=12)
    parser.add_argument("--limited-target", type=float, default=7.0)
    parser.add_argument("--throttled-share", type=float, default=5.0, help="percent")
    parser.add_argument("--keep", help="generate the photos into (or reuse them from) this directory")
    args = parser.parse_args()
    work = tempfile.mkdtemp(prefix="bench-profile-photo.")
    emulator = None
    try:
        link_collection(work)
        photos = args.keep or os.path.join(work, "photos")
        os.makedirs(photos, exist_ok=True)
        paths = sorted(os.path.join(photos, name) for name in os.listdir(photos) if name.endswith(".jpg"))
        if len(paths) < args.users:
            started = time.perf_counter()
            paths = generate(photos, args.users, os.cpu_count() or 1)
            print("generated %d photos of 4000x3000 in %.1f s" % (len(paths), time.perf_counter() - started))
        if len(paths) != args.users:
            raise SystemExit("%s holds %d photos; give a directory with exactly --users photos" % (photos, len(paths)))
        upns = users_of(paths)
        emulator = Emulator(work)
        for tenant in ("photobase", "photoours", "photoload"):
            create_tenant(emulator, tenant, upns)
            emulator.call("POST", "/faults", {"tenant": tenant, "latency_ms": args.latency_ms})

        # 1. the baseline, over the first users
        sample = paths[:args.baseline_users or args.users]
        base_seconds, preparing = baseline(emulator, "photobase", sample)
        per_user = base_seconds / len(sample)
        base_all = per_user * args.users
        print("baseline: %d users in %.1f s (%.0f ms/user: %.0f preparing, %.0f on the network) -> %.1f s for %d users%s" % (
            len(sample), base_seconds, 1000 * per_user, 1000 * preparing / len(sample),
            1000 * (base_seconds - preparing) / len(sample), base_all, args.users,
            "" if len(sample) == args.users else " (scaled)"))

        # 2. ours, defaults
        free_ok, free_ratio, _share = measure(work, emulator, "photoours", photos, upns, base_all, args.target, "ours")

        # 3. ours, under load
        emulator.call("POST", "/faults", {"tenant": "photoload", "load": {
            "max_in_flight": args.max_in_flight, "status": 429, "retry_after": 1}})
        limited_ok, ratio, share = measure(work, emulator, "photoload", photos, upns, base_all, args.limited_target,
                                           "ours, at most %d in flight" % args.max_in_flight)
        share_ok = share < args.throttled_share
        print("throttled share %.1f%% (limit < %.1f%%) %s" % (share, args.throttled_share, "PASS" if share_ok else "FAIL"))
        ok = free_ok and limited_ok and share_ok
        print("RESULT: %s (%.1fx at %d ms; %.1fx and %.1f%% throttled at %d in flight)" % (
            "PASS" if ok else "FAIL", free_ratio, args.latency_ms, ratio, share, args.max_in_flight))
        return 0 if ok else 1
    finally:
        if emulator is not None:
            emulator.stop()
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
