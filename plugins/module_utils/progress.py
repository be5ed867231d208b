# -*- coding: utf-8 -*-
# Copyright (c) spo.user_profiles contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

"""Where a long module run leaves its latest progress, for the action plugin that prints a line per interval.

The action plugin (plugin_utils/progress_action.py) runs the module and, every interval, reads this file from the module's
temporary directory and prints a line. The module writes the file atomically, so a reader never sees half of it.
Without a temporary directory shared with the action (pipelining, or a remote host), nothing is written and the
action prints the time waited only.
"""

from __future__ import annotations

import json
import os
import tempfile
import time

FILE_NAME = "spo-progress.json"


def progress_path(directory):
    return os.path.join(directory, FILE_NAME)


class ProgressFile:
    """Writes the latest progress of a run, at most once per min_interval seconds (always when final)."""

    def __init__(self, directory, min_interval=1.0, clock=time.monotonic):
        self.path = progress_path(directory) if directory else None
        self.min_interval = min_interval
        self._clock = clock
        self._written_at = None

    @classmethod
    def of_module(cls, ansible_module):
        """The progress file in the temporary directory the action gave the module (_ansible_tmpdir), if any."""
        return cls(getattr(ansible_module, "_tmpdir", None))

    def write(self, data, final=False):
        if self.path is None:
            return
        now = self._clock()
        if not final and self._written_at is not None and now - self._written_at < self.min_interval:
            return
        directory = os.path.dirname(self.path)
        try:
            descriptor, temporary = tempfile.mkstemp(dir=directory, prefix=".progress-")
            with os.fdopen(descriptor, "w", encoding="utf-8") as handle:
                json.dump(data, handle)
            os.replace(temporary, self.path)
        except OSError:
            return  # progress is a courtesy: never fail a run over it
        self._written_at = now


class UsersProgress:
    """A run over many users, as its progress file tells it: {"users": {"done", "total", "throttled", "seconds"}}.

    `total` is the number of users the run works on (None until start), `throttled` the answers 429/503 so far (from the
    run's concurrency.AdaptiveLimit), `seconds` the time since start. Without a progress file it only counts.
    """

    def __init__(self, progress_file, clock=time.monotonic):
        self.file = progress_file
        self.done = 0
        self.total = None
        self._limit = None
        self._clock = clock
        self._started = clock()

    @classmethod
    def of_module(cls, ansible_module, interval):
        """The progress of a module run asked for a line every `interval` seconds: counted only when not asked."""
        return cls(ProgressFile.of_module(ansible_module) if interval else None)

    def start(self, total, limit=None):
        self.total = total
        self._limit = limit
        self._started = self._clock()
        self._write(final=True)  # the total, at once

    def advance(self, count=1):
        self.done += count
        self._write(final=False)

    def finish(self):
        self._write(final=True)

    def _write(self, final):
        if self.file is None:
            return
        throttled = self._limit.throttled_count if self._limit is not None else 0
        self.file.write({"users": {"done": self.done, "total": self.total, "throttled": throttled,
                                   "seconds": round(self._clock() - self._started, 3)}}, final=final)
