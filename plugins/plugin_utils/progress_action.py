# -*- coding: utf-8 -*-
# Copyright (c) spo.user_profiles contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Run a long module and print a line every interval while it runs: one module run for the whole wait.

The module runs in a thread of the worker; the worker's own thread prints. With a local connection the line carries
what the module last wrote to its progress file (module_utils/progress.py); otherwise the time so far.
"""

from __future__ import annotations

import json
import threading
import time

from ansible.plugins.action import ActionBase
from ansible.utils.display import Display
from ansible.utils.vars import merge_hash

from ansible_collections.spo.user_profiles.plugins.module_utils.progress import progress_path

display = Display()


class ProgressAction(ActionBase):
    """Base of the actions of modules that can run long; subclasses say what a line reads (describe)."""

    _supports_check_mode = True
    _supports_async = True

    def describe(self, args, progress, elapsed):
        """The line to print: args are the module's arguments, progress the module's last report (or None)."""
        raise NotImplementedError

    def run(self, tmp=None, task_vars=None):
        result = super().run(tmp, task_vars)
        del tmp
        interval = self._task.args.get("progress_interval")
        if self._task.async_val or not interval or int(interval) <= 0:
            return self._run_module(result, task_vars)
        outcome = {}
        worker = threading.Thread(target=lambda: outcome.update(result=self._run_module(result, task_vars)), daemon=True)
        started = time.monotonic()
        worker.start()
        while True:
            worker.join(int(interval))
            if not worker.is_alive():
                break
            display.display("%s: %s" % (task_vars.get("inventory_hostname"),
                                        self.describe(self._task.args, self._read_progress(), time.monotonic() - started)))
        if "result" not in outcome:
            return dict(result, failed=True, msg="the module run ended without a result")
        return outcome["result"]

    def _run_module(self, result, task_vars):
        wrap_async = self._task.async_val and not self._connection.has_native_async
        result = merge_hash(result, self._execute_module(task_vars=task_vars, wrap_async=wrap_async))
        if not wrap_async:
            self._remove_tmp_path(self._connection._shell.tmpdir)
        return result

    def _read_progress(self):
        """What the module last wrote, when its temporary directory is on this machine; None otherwise."""
        directory = getattr(self._connection._shell, "tmpdir", None)
        if not directory or self._connection.transport not in ("local", "ansible.builtin.local"):
            return None
        try:
            with open(progress_path(directory), encoding="utf-8") as handle:
                return json.load(handle)
        except (OSError, ValueError):
            return None


class UsersProgressAction(ProgressAction):
    """The action of a module that works through many users (module_utils/progress.UsersProgress): a line with the
    users done, their rate and the throttled answers. Subclasses say what the module does (`work`)."""

    work = "users"

    def describe(self, args, progress, elapsed):
        users = (progress or {}).get("users")
        if not users or users.get("total") is None:
            return "%s: starting, %d s so far" % (self.work, elapsed)
        seconds = users.get("seconds") or 0
        rate = users["done"] / seconds if seconds > 0 else 0.0
        throttled = users.get("throttled", 0)
        return "%s: %d of %d users done (%.1f a second), %d throttled answer%s, %d s so far" % (
            self.work, users["done"], users["total"], rate, throttled, "" if throttled == 1 else "s", elapsed)
