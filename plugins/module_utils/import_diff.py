# -*- coding: utf-8 -*-
# Copyright (c) spo.user_profiles contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

"""What a delta import changes, for a reviewer: per user and property, before -> after, bounded.

Changes counts every user by status (import_delta's, and ``left_out`` for users kept out of the file), keeps the
first ``max_users`` users that change or are left out in full, and writes every one of them to ``path`` (JSON
Lines) when given, so that a change to 200,000 users neither floods a pull request nor holds them all in memory.
Entries are built only for the users listed or written.
"""

from __future__ import annotations

import json
import os

from ansible_collections.spo.user_profiles.plugins.module_utils.import_delta import (
    ADDED, CHANGED, CLEARED, NOT_IN_SOURCE, UNCHANGED,
)
from ansible_collections.spo.user_profiles.plugins.module_utils.profiles import get_properties
from ansible_collections.spo.user_profiles.plugins.module_utils.errors import SpoError
from ansible_collections.spo.user_profiles.plugins.module_utils.local_paths import directory_problem

LEFT_OUT = "left_out"
STATUSES = (ADDED, CHANGED, CLEARED, UNCHANGED, LEFT_OUT, NOT_IN_SOURCE)
DEFAULT_MAX_USERS = 20
_MARKS = {ADDED: "+", CHANGED: "~", CLEARED: "-", LEFT_OUT: "!"}


def changes_file_problem(path):
    """Why the changes file cannot be written at path, or None: told with the other options, before anything is read
    or sent."""
    if os.path.isdir(path):
        return "changes_file: %s is a directory; give the path of a file" % path
    problem = directory_problem(os.path.dirname(os.path.abspath(path)))
    return "changes_file: cannot write %s: %s" % (path, problem) if problem else None


def _value_text(value):
    return "(none)" if value is None else json.dumps(value, ensure_ascii=False)


class Changes:
    """The changes of one build: counts, the first max_users entries, and every entry in the file at ``path``."""

    def __init__(self, property_map, fields, max_users=DEFAULT_MAX_USERS, path=None):
        self.fields = fields
        self.targets = dict((field, property_map[field]) for field in fields)
        self.max_users = max_users
        self.path = path
        self.counts = dict.fromkeys(STATUSES, 0)
        self.kept_values = 0
        self.listed = []
        self.left_out_listed = []
        self._handle = None
        if path:
            try:
                if os.path.dirname(path):
                    os.makedirs(os.path.dirname(path), exist_ok=True)
                # A left-out record's id or reason may hold half a surrogate pair (a JSON escape, or a byte the
                # source's encoding could not read): written as the JSON escape it stands for, not a UnicodeEncodeError.
                self._handle = open(path, "w", encoding="utf-8", errors="backslashreplace")
            except OSError as err:
                # Its directory was checked with the options (changes_file_problem); the file itself may still be
                # read-only, or the directory gone since.
                raise SpoError("changes_file: cannot write %s: %s" % (path, err.strerror or err))

    def add(self, record_id, decision):
        """Count a decision of import_delta; list or write it when it changes something."""
        self.counts[decision.status] += 1
        self.kept_values += decision.kept
        if decision.record is None:
            return
        if self._handle is None and len(self.listed) >= self.max_users:
            return
        self._keep(self._entry(record_id, decision))

    def left_out(self, record_id, number, line, reason):
        """A user kept out of the file (identity check, record_schema with skip_invalid) and why."""
        self.counts[LEFT_OUT] += 1
        entry = {"id": record_id, "status": LEFT_OUT, "record": number, "line": line, "reason": reason}
        if len(self.left_out_listed) < self.max_users:
            self.left_out_listed.append(entry)
        self._keep(entry)

    def _entry(self, record_id, decision):
        record, before = decision.record, decision.before
        properties = {}
        for index, field in enumerate(self.fields):
            if field in record:
                properties[self.targets[field]] = {"before": None if before is None else before[index],
                                                   "after": record[field]}
        return {"id": record_id, "status": decision.status, "properties": properties}

    def _keep(self, entry):
        if len(self.listed) < self.max_users:
            self.listed.append(entry)
        if self._handle is not None:
            self._handle.write(json.dumps(entry, ensure_ascii=False, sort_keys=True) + "\n")

    @property
    def listed_all(self):
        """Whether every user that changes or is left out is in ``listed``."""
        return sum(self.counts[status] for status in (ADDED, CHANGED, CLEARED, LEFT_OUT)) <= len(self.listed)

    def close(self):
        if self._handle is not None:
            self._handle.close()
            self._handle = None

    def discard(self):
        """Nothing of a refused build is reported: no counts, no list, no file."""
        self.close()
        self.counts = dict.fromkeys(STATUSES, 0)
        self.kept_values = 0
        self.listed = []
        self.left_out_listed = []
        if self.path:
            open(self.path, "w").close()


def read_profile_befores(client, entries):
    """Fill in 'before' from the users' profiles (PeopleManager, one request per user) for entries that have none.

    For a first import, when the set is small: the diff then shows what the profiles hold now. A user without a
    profile keeps None and gets ``profile`` "not found".
    """
    for entry in entries:
        if entry["status"] != ADDED:
            continue
        try:
            current = get_properties(client, entry["id"])
        except SpoError as err:
            if err.status != 404:
                raise
            entry["profile"] = "not found"
            continue
        entry["profile"] = "read"
        for target, change in entry["properties"].items():
            change["before"] = current.get(target)


def summary(changes, baseline_info):
    """The ``delta`` of the module's result: the baseline used, the counts, the users listed."""
    return {
        "baseline": baseline_info,
        "counts": dict(changes.counts, kept_values=changes.kept_values),
        "users": changes.listed,
        "users_listed_all": changes.listed_all,
        "changes_file": changes.path,
    }


def prepared_diff(delta):
    """The diff a reviewer reads: one line of counts, then each listed user with its properties, before -> after."""
    counts = delta["counts"]
    baseline = delta["baseline"]
    lines = ["delta against %s: %d added, %d changed, %d cleared, %d unchanged, %d left out, %d not in the source" % (
        "the baseline of %d users" % baseline["users"] if baseline["status"] == "used" else "no baseline (every user is sent)",
        counts[ADDED], counts[CHANGED], counts[CLEARED], counts[UNCHANGED], counts[LEFT_OUT], counts[NOT_IN_SOURCE])]
    if baseline.get("message"):
        lines.append("note: %s" % baseline["message"])
    if counts["kept_values"]:
        lines.append("note: %d value(s) removed from the source are kept in the profiles (clear_missing is false)"
                     % counts["kept_values"])
    for entry in delta["users"]:
        if entry["status"] == LEFT_OUT:
            where = ", ".join("%s %d" % (key, entry[key]) for key in ("record", "line") if entry.get(key) is not None)
            lines.append("%s %s (left out%s): %s" % (_MARKS[LEFT_OUT], entry["id"], ", " + where if where else "", entry["reason"]))
            continue
        profile = " (profile not found)" if entry.get("profile") == "not found" else ""
        lines.append("%s %s (%s)%s" % (_MARKS[entry["status"]], entry["id"], entry["status"], profile))
        for target in sorted(entry["properties"]):
            change = entry["properties"][target]
            lines.append("    %s: %s -> %s" % (target, _value_text(change["before"]), _value_text(change["after"])))
    if not delta["users_listed_all"]:
        total = sum(counts[status] for status in (ADDED, CHANGED, CLEARED, LEFT_OUT))
        more = "... and %d more user(s)" % (total - len(delta["users"]))
        lines.append(more + (": every one is in %s" % delta["changes_file"] if delta["changes_file"] else ""))
    return "\n".join(lines) + "\n"
