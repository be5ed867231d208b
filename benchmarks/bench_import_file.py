#!/usr/bin/env python
# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Speed and memory of building bulk import files (issue 4), as ratios against a floor measured in the same run.

    python benchmarks/bench_import_file.py [--users 100000] [--big-users 1000000] [--repeat 3]

- floor: csv.DictReader over the CSV and json.dumps of each row into a file (no mapping, no checks);
- ours:  import_build.build_import_files (read, map, validate, write UTF-8 with BOM, split);
- naive: jsonschema on every record, then one json.dump of the whole list (for the record; no target).
Targets: ours/floor <= 1.5; peak RSS of ours for --big-users minus --users <= 20 MB (each in a fresh process).
Exit status 1 when a target fails.
"""

from __future__ import annotations

import argparse
import csv
import json
import os
import resource
import subprocess
import sys
import tempfile
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
FIELDS = ["costcenter", "building", "city", "skills_note", "employee_id"]
PROPERTY_MAP = {"costcenter": "CostCenter", "building": "SPS-Building", "city": "City", "skills_note": "Notes",
                "employee_id": "EmployeeId"}
TIME_TARGET = 1.5
MEMORY_TARGET_MB = 20


def collection_path():
    """A directory to put on sys.path so that ansible_collections.spo.user_profiles imports this checkout."""
    parent = os.path.dirname(ROOT)
    if os.path.basename(parent) == "spo" and os.path.basename(os.path.dirname(parent)) == "ansible_collections":
        return os.path.dirname(os.path.dirname(parent))
    base = os.path.join(tempfile.gettempdir(), "spo-bench-collections")
    link = os.path.join(base, "ansible_collections", "spo", "user_profiles")
    os.makedirs(os.path.dirname(link), exist_ok=True)
    if os.path.realpath(link) != ROOT:
        if os.path.islink(link):
            os.unlink(link)
        os.symlink(ROOT, link)
    return base


def generate_csv(path, users):
    cities = ["Helsinki", "München", "Øresund", "東京", "São Paulo", 'Quote "Q"', "Back\\slash"]
    with open(path, "w", encoding="utf-8", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(["upn", "displayName"] + FIELDS)
        for i in range(users):
            writer.writerow(["user%07d@contoso.com" % i, "User %d" % i, "CC-%04d" % (i % 9973), "B%d" % (i % 40),
                             cities[i % len(cities)], "likes ansible, json; and csv %d" % i, str(100000 + i)])


def run_floor(src, out_dir):
    with open(src, encoding="utf-8", newline="") as handle, open(os.path.join(out_dir, "floor.json"), "w", encoding="utf-8") as out:
        for row in csv.DictReader(handle):
            out.write(json.dumps(row))
            out.write("\n")


def run_ours(src, out_dir):
    from ansible_collections.spo.user_profiles.plugins.module_utils import import_build
    result = import_build.build_import_files(out_dir, "bench", "upn", PROPERTY_MAP, id_type="email", src=src)
    if result["problem_count"]:
        raise SystemExit("unexpected problems: %r" % result["problems"][:3])
    return result


def run_naive(src, out_dir):
    import jsonschema
    from ansible_collections.spo.user_profiles.plugins.module_utils import import_validation
    validator = jsonschema.Draft202012Validator(import_validation.record_schema("upn", FIELDS, "email"))
    records = []
    with open(src, encoding="utf-8", newline="") as handle:
        for row in csv.DictReader(handle):
            validator.validate(row)
            records.append({key: row[key] for key in ["upn"] + FIELDS})
    with open(os.path.join(out_dir, "naive.json"), "w", encoding="utf-8-sig") as out:
        json.dump({"value": records}, out, ensure_ascii=False)


def best_times(functions, src, repeat):
    """Best CPU time of each function; the runs are interleaved so that a busy machine hurts all alike."""
    best = [float("inf")] * len(functions)
    for dummy in range(repeat):
        for index, function in enumerate(functions):
            with tempfile.TemporaryDirectory() as out_dir:
                start = time.process_time()
                function(src, out_dir)
                best[index] = min(best[index], time.process_time() - start)
    return best


def child(src):
    """Run ours once in this (fresh) process and print the peak RSS in KiB.

    Linux keeps ru_maxrss across exec, so the parent starts these children while it is still small.
    """
    with tempfile.TemporaryDirectory() as out_dir:
        run_ours(src, out_dir)
    print(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss)


def peak_rss_kib(src):
    output = subprocess.check_output([sys.executable, os.path.abspath(__file__), "--child", src])
    return int(output.decode().split()[-1])


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--users", type=int, default=100000)
    parser.add_argument("--big-users", type=int, default=1000000)
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--child", help=argparse.SUPPRESS)
    args = parser.parse_args()
    sys.path.insert(0, collection_path())
    if args.child:
        child(args.child)
        return 0

    failed = False
    with tempfile.TemporaryDirectory() as work:
        small = os.path.join(work, "small.csv")
        big = os.path.join(work, "big.csv")
        generate_csv(small, args.users)
        generate_csv(big, args.big_users)
        # Memory first: the parent has imported nothing of the collection yet (see child()).
        small_rss = peak_rss_kib(small)
        big_rss = peak_rss_kib(big)
        os.unlink(big)
        floor, ours = best_times([run_floor, run_ours], small, args.repeat)
        naive = best_times([run_naive], small, 1)[0]

        print("%d users x %d properties, best CPU time of %d interleaved runs" % (args.users, len(FIELDS), args.repeat))
        print("%-8s %10s %8s %8s" % ("run", "seconds", "ratio", "target"))
        print("%-8s %10.3f %8.2f %8s" % ("floor", floor, 1.0, "-"))
        verdict = "PASS" if ours / floor <= TIME_TARGET else "FAIL"
        failed |= verdict == "FAIL"
        print("%-8s %10.3f %8.2f %8s  %s" % ("ours", ours, ours / floor, "<=%.1f" % TIME_TARGET, verdict))
        print("%-8s %10.3f %8.2f %8s" % ("naive", naive, naive / floor, "-"))

        growth_mb = (big_rss - small_rss) / 1024.0
        verdict = "PASS" if growth_mb <= MEMORY_TARGET_MB else "FAIL"
        failed |= verdict == "FAIL"
        print()
        print("%-22s %12s" % ("peak RSS of ours", "MiB"))
        print("%-22s %12.1f" % ("%d users" % args.users, small_rss / 1024.0))
        print("%-22s %12.1f" % ("%d users" % args.big_users, big_rss / 1024.0))
        print("%-22s %12.1f  target <=%d  %s" % ("growth", growth_mb, MEMORY_TARGET_MB, verdict))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
