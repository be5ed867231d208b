#!/usr/bin/env python
# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""What record_schema costs (issue 18): the data owner's JSON Schema checked on every source record of a build.

    python benchmarks/bench_record_schema.py [--users 100000] [--repeat 5]

- jsonschema: jsonschema's own loop, ``validator.iter_errors(record)`` over the same records already in memory as dicts
  (csv.DictReader), with the same validator (the schema's draft, formats checked);
- ours: import_build.build_import_files with record_schema minus the same build without it, so that what is measured is
  what the rules add to a build: the whole source records handed over, the validation, the problems.
Times are CPU seconds of this process (a busy shared machine slows the wall clock, not the CPU a run needs).
Targets: ours / jsonschema <= 1.1 (the best of --repeat runs of each, interleaved); peak RSS of the build with
record_schema for 2 x --users minus --users <= 20 MB (each in a fresh process). Exit status 1 when a target fails.
"""

from __future__ import annotations

import argparse
import csv
import json
import os
import resource
import shutil
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from bench_import_file import PROPERTY_MAP, collection_path, generate_csv  # noqa: E402  (one source shape for both)

TIME_TARGET = 1.1
MEMORY_TARGET_MB = 20
# The data owner's rules, on the source's own field names.
RULES = {
    "$schema": "https://json-schema.org/draft/2020-12/schema",
    "type": "object",
    "required": ["upn", "costcenter", "building", "employee_id"],
    "properties": {
        "upn": {"type": "string", "format": "email"},
        "costcenter": {"type": "string", "pattern": "^CC-[0-9]{4}$"},
        "building": {"enum": ["B%d" % number for number in range(40)]},
        "city": {"type": "string", "minLength": 1, "maxLength": 40},
        "skills_note": {"type": "string", "maxLength": 200},
        "employee_id": {"type": "string", "pattern": "^[0-9]{6}$"},
    },
}


def build(src, out_dir, with_schema):
    from ansible_collections.spo.user_profiles.plugins.module_utils import import_build, import_schema
    schema = import_schema.RecordSchema(RULES) if with_schema else None
    started = time.process_time()
    result = import_build.build_import_files(out_dir, "bench", "upn", PROPERTY_MAP, id_type="email", src=src,
                                             schema=schema)
    elapsed = time.process_time() - started
    if result["problem_count"]:
        raise SystemExit("unexpected problems: %r" % result["problems"][:3])
    for item in result["files"]:
        os.unlink(item["path"])
    return elapsed


def jsonschema_loop(records):
    from jsonschema import validators
    validator_class = validators.validator_for(RULES)
    iter_errors = validator_class(RULES, format_checker=validator_class.FORMAT_CHECKER).iter_errors
    started = time.process_time()
    broken = 0
    for record in records:
        for dummy in iter_errors(record):
            broken += 1
    elapsed = time.process_time() - started
    if broken:
        raise SystemExit("unexpected errors in the records: %d" % broken)
    return elapsed


def peak_of_build(src, out_dir):
    """Peak RSS (MB) of a build with record_schema in a fresh process."""
    child = subprocess.run([sys.executable, os.path.abspath(__file__), "--child", src, out_dir],
                           capture_output=True, text=True, check=True)
    return json.loads(child.stdout.strip().splitlines()[-1])["peak_mb"]


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--users", type=int, default=100000)
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--child", nargs=2, help=argparse.SUPPRESS)
    args = parser.parse_args()
    sys.path.insert(0, collection_path())
    try:
        import jsonschema  # noqa: F401  pylint: disable=unused-import
    except ImportError:
        print("SKIPPED: the jsonschema library is not installed (pip install jsonschema)")
        return 0
    if args.child:
        build(args.child[0], args.child[1], True)
        print(json.dumps({"peak_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0}))
        return 0
    work = tempfile.mkdtemp(prefix="bench-record-schema.")
    try:
        src = os.path.join(work, "users.csv")
        generate_csv(src, args.users)
        big = os.path.join(work, "users-2x.csv")
        generate_csv(big, 2 * args.users)
        # Memory first, while this process is small: Linux keeps ru_maxrss across fork and exec.
        small_peak, big_peak = peak_of_build(src, work), peak_of_build(big, work)
        with open(src, encoding="utf-8", newline="") as handle:
            records = list(csv.DictReader(handle))
        plain, checked, loop = [], [], []
        for dummy in range(args.repeat):
            plain.append(build(src, work, False))
            checked.append(build(src, work, True))
            loop.append(jsonschema_loop(records))
        ours = min(checked) - min(plain)
        ratio = ours / min(loop)
        print("%d records, CPU seconds: build %.2f s, with record_schema %.2f s (record_schema adds %.2f s); jsonschema's "
              "own loop %.2f s" % (args.users, min(plain), min(checked), ours, min(loop)))
        time_ok = ratio <= TIME_TARGET
        memory_ok = big_peak - small_peak <= MEMORY_TARGET_MB
        print("peak RSS with record_schema: %.0f MB for %d records, %.0f MB for %d (+%.1f MB; target <= %d MB: %s)"
              % (small_peak, args.users, big_peak, 2 * args.users, big_peak - small_peak, MEMORY_TARGET_MB,
                 "met" if memory_ok else "NOT met"))
        print("record_schema / jsonschema's own loop: %.2fx (target <= %.1fx: %s)" % (
            ratio, TIME_TARGET, "met" if time_ok else "NOT met"))
        return 0 if time_ok and memory_ok else 1
    finally:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
