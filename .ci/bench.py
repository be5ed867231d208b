# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""`make bench`: run every benchmarks/bench_*.py and print a table of their results.

Each benchmark prints its own measurements (ratios against a baseline in the same run); the table shows
whether it ran, how long it took, and its last line of output.
"""

from __future__ import annotations

import glob
import os
import subprocess
import sys
import time


def main():
    directory = sys.argv[1] if len(sys.argv) > 1 else "benchmarks"
    scripts = sorted(glob.glob(os.path.join(directory, "bench_*.py")))
    if not scripts:
        sys.stderr.write("no benchmarks found in %s\n" % directory)
        sys.exit(1)
    rows, failed = [], 0
    for script in scripts:
        started = time.monotonic()
        run = subprocess.run([sys.executable, script], capture_output=True, text=True, check=False)
        elapsed = time.monotonic() - started
        sys.stdout.write("== %s\n%s" % (script, run.stdout))
        if run.returncode:
            failed += 1
            sys.stdout.write(run.stderr[-2000:])
        lines = [line for line in run.stdout.splitlines() if line.strip()]
        rows.append((os.path.basename(script), "ok" if run.returncode == 0 else "FAILED (%d)" % run.returncode,
                     "%.1f s" % elapsed, lines[-1] if lines else ""))
    widths = [max(len(row[index]) for row in rows + [("benchmark", "status", "time", "result")]) for index in range(3)]
    sys.stdout.write("\n%-*s  %-*s  %*s  %s\n" % (widths[0], "benchmark", widths[1], "status", widths[2], "time", "result"))
    for row in rows:
        sys.stdout.write("%-*s  %-*s  %*s  %s\n" % (widths[0], row[0], widths[1], row[1], widths[2], row[2], row[3]))
    sys.exit(1 if failed else 0)


if __name__ == "__main__":
    main()
