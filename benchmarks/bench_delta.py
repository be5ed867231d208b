#!/usr/bin/env python
# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Speed and memory of a delta import (issue 18): a source of --users users against a baseline of the same users, with
--changed-percent of them changed.

    python benchmarks/bench_delta.py [--users 1000000] [--changed-percent 1]

Measured in a fresh process: the baseline (gzip, as it is stored in the tenant) decompressed and indexed
(import_baseline.Baseline.load), then import_build.build_import_files with the delta: read the CSV, check every record,
compare it with the baseline, write the file of what changed. Downloading the baseline from the tenant is not part of it.
Targets: at most 10 s and 400 MB peak RSS for 1,000,000 users, and the file holds exactly the changed users with only
their changed values. Exit status 1 when a target fails.
"""

from __future__ import annotations

import argparse
import codecs
import json
import os
import resource
import shutil
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from bench_import_file import FIELDS, PROPERTY_MAP, collection_path  # noqa: E402  (one checkout path, one source shape)

TIME_TARGET = 10.0
MEMORY_TARGET_MB = 400


def _values(index):
    return ["CC-%04d" % (index % 9973), "B%d" % (index % 40), "City %d" % (index % 311), "note %d" % index,
            str(100000 + index)]


def changed(index, every):
    return index % every == every // 2


def generate(work, users, every):
    """The source CSV (users with their current values) and the baseline (gzip) of the values imported before."""
    sys.path.insert(0, collection_path())
    from ansible_collections.spo.user_profiles.plugins.module_utils import import_baseline
    src = os.path.join(work, "source.csv")
    with open(src, "w", encoding="utf-8", newline="") as handle:
        handle.write("upn,displayName,%s\n" % ",".join(FIELDS))
        for index in range(users):
            values = _values(index)
            if changed(index, every):
                values[0] = "CC-NEW-%d" % index
            handle.write("user%07d@contoso.com,User %d,%s\n" % (index, index, ",".join(values)))
    wanted = import_baseline.mapping("upn", "email", PROPERTY_MAP, jobs=["5f4e7a2c-1111-2222-3333-444455556666"])
    writer = import_baseline.BaselineWriter(os.path.join(work, "baseline.jsonl.gz"), wanted)
    for index in range(users):
        writer.write("user%07d@contoso.com" % index, _values(index))
    return src, writer.finish()


def run_delta(src, baseline_path, out_dir):
    """The measured part (run in a child process)."""
    sys.path.insert(0, collection_path())
    from ansible_collections.spo.user_profiles.plugins.module_utils import import_baseline, import_build, import_delta
    started = time.monotonic()
    wanted = import_baseline.mapping("upn", "email", PROPERTY_MAP)
    baseline = import_baseline.Baseline.load(baseline_path, out_dir, wanted)
    loaded = time.monotonic()
    delta = import_delta.Delta(baseline, "upn", wanted["fields"])
    result = import_build.build_import_files(out_dir, "bench", "upn", PROPERTY_MAP, id_type="email", src=src, delta=delta)
    finished = time.monotonic()
    if result["problem_count"]:
        raise SystemExit("unexpected problems: %r" % result["problems"][:3])
    peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0
    print(json.dumps({"seconds": finished - started, "load_seconds": loaded - started, "peak_mb": peak_mb,
                      "files": [item["path"] for item in result["files"]], "counts": result["changes"].counts}))


def check_file(paths, users, every):
    """Whether the files hold exactly the changed users, each with only its changed value."""
    written = []
    for path in paths:
        with open(path, "rb") as handle:
            written.extend(json.loads(handle.read()[len(codecs.BOM_UTF8):].decode("utf-8"))["value"])
    expected = [{"upn": "user%07d@contoso.com" % index, FIELDS[0]: "CC-NEW-%d" % index}
                for index in range(users) if changed(index, every)]
    return written == expected, len(written), len(expected)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--users", type=int, default=1000000)
    parser.add_argument("--changed-percent", type=float, default=1.0)
    parser.add_argument("--child", nargs=3, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        run_delta(*args.child)
        return 0
    every = max(1, int(round(100 / args.changed_percent)))
    work = tempfile.mkdtemp(prefix="bench-delta.")
    try:
        started = time.monotonic()
        src, baseline_path = generate(work, args.users, every)
        print("generated %d users (%.0f MB CSV, %.0f MB baseline) in %.1f s" % (
            args.users, os.path.getsize(src) / 1e6, os.path.getsize(baseline_path) / 1e6, time.monotonic() - started),
            flush=True)
        out_dir = os.path.join(work, "out")
        os.makedirs(out_dir)
        child = subprocess.run([sys.executable, os.path.abspath(__file__), "--child", src, baseline_path, out_dir],
                               capture_output=True, text=True, check=False)
        if child.returncode:
            sys.stdout.write(child.stdout + child.stderr)
            return 1
        measured = json.loads(child.stdout.strip().splitlines()[-1])
        exact, written, expected = check_file(measured["files"], args.users, every)
        time_ok = measured["seconds"] <= TIME_TARGET
        memory_ok = measured["peak_mb"] <= MEMORY_TARGET_MB
        print("counts: %s" % json.dumps(measured["counts"], sort_keys=True))
        print("the file holds %d users, %d changed: exactly the changed users with only their changed value: %s"
              % (written, expected, "yes" if exact else "NO"))
        print("delta of %d users (%g%% changed): %.1f s (baseline loaded in %.1f s; target <= %.0f s: %s), peak RSS %.0f MB "
              "(target <= %d MB: %s)" % (args.users, args.changed_percent, measured["seconds"], measured["load_seconds"],
                                         TIME_TARGET, "met" if time_ok else "NOT met", measured["peak_mb"],
                                         MEMORY_TARGET_MB, "met" if memory_ok else "NOT met"))
        return 0 if exact and time_ok and memory_ok else 1
    finally:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
