#!/usr/bin/env python
# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Mirror the repository into DEST (…/ansible_collections/spo/user_profiles), where ansible-test needs it.

Copies the files git knows (tracked, plus untracked ones that are not ignored), only those that changed,
and removes files that disappeared; tests/output (ansible-test's results) is kept.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys

KEEP = ("tests/output/", "tests/integration/integration_config.yml")
# Without git (an exported tree), these directories are skipped.
SKIP_DIRS = {".git", ".venv", ".cache", ".pytest_cache", ".hypothesis", "__pycache__", "emulator-data", "build"}


def source_files(root):
    try:
        out = subprocess.run(["git", "ls-files", "-z", "-co", "--exclude-standard"], cwd=root, check=True,
                             capture_output=True).stdout
        return sorted(name for name in out.decode("utf-8").split("\0") if name and os.path.isfile(os.path.join(root, name)))
    except (OSError, subprocess.CalledProcessError):
        found = []
        for directory, dirs, files in os.walk(root):
            dirs[:] = [name for name in dirs if name not in SKIP_DIRS and os.path.relpath(os.path.join(directory, name), root) != "tests/output"]
            found.extend(os.path.relpath(os.path.join(directory, name), root) for name in files)
        return sorted(found)


def same(src, dst):
    try:
        a, b = os.stat(src), os.lstat(dst)
    except OSError:
        return False
    return a.st_size == b.st_size and int(a.st_mtime) == int(b.st_mtime) and (a.st_mode & 0o777) == (b.st_mode & 0o777)


def main():
    root, dest = os.path.abspath(sys.argv[1]), os.path.abspath(sys.argv[2])
    wanted = source_files(root)
    wanted_set = set(wanted)
    copied = 0
    for name in wanted:
        src, dst = os.path.join(root, name), os.path.join(dest, name)
        if not same(src, dst):
            os.makedirs(os.path.dirname(dst), exist_ok=True)
            if os.path.lexists(dst):
                os.unlink(dst)
            shutil.copy2(src, dst)
            copied += 1
    removed = 0
    for directory, dirs, files in os.walk(dest, topdown=False):
        for name in files:
            path = os.path.join(directory, name)
            rel = os.path.relpath(path, dest)
            if rel not in wanted_set and not rel.startswith(KEEP):
                os.unlink(path)
                removed += 1
        if directory != dest and not os.listdir(directory) and not os.path.relpath(directory, dest).startswith("tests/output"):
            os.rmdir(directory)
    sys.stdout.write("staged %d files in %s (%d copied, %d removed)\n" % (len(wanted), dest, copied, removed))


if __name__ == "__main__":
    main()
