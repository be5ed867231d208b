# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The progress file a long module run leaves for its action plugin."""

from __future__ import annotations

import json
import os
import types

from ansible_collections.spo.user_profiles.plugins.module_utils.concurrency import AdaptiveLimit
from ansible_collections.spo.user_profiles.plugins.module_utils.progress import FILE_NAME, ProgressFile, UsersProgress


class Clock:
    def __init__(self):
        self.now = 0.0

    def __call__(self):
        return self.now


def test_writes_atomically_and_at_most_once_per_interval_unless_final(tmp_path):
    clock = Clock()
    progress = ProgressFile(str(tmp_path), min_interval=5, clock=clock)
    progress.write({"n": 1})
    clock.now = 2
    progress.write({"n": 2})
    assert json.loads((tmp_path / FILE_NAME).read_text()) == {"n": 1}
    progress.write({"n": 3}, final=True)
    assert json.loads((tmp_path / FILE_NAME).read_text()) == {"n": 3}
    clock.now = 8
    progress.write({"n": 4})
    assert json.loads((tmp_path / FILE_NAME).read_text()) == {"n": 4}
    assert os.listdir(tmp_path) == [FILE_NAME], "no temporary file is left behind"


def test_without_a_directory_nothing_is_written(tmp_path):
    progress = ProgressFile.of_module(types.SimpleNamespace(_tmpdir=None))
    progress.write({"n": 1})
    assert progress.path is None


def test_a_directory_that_is_gone_does_not_fail_the_run(tmp_path):
    progress = ProgressFile(str(tmp_path / "gone"))
    progress.write({"n": 1}, final=True)
    assert not (tmp_path / "gone").exists()


def test_users_progress_tells_the_total_at_once_then_the_users_done_and_the_throttled_answers(tmp_path):
    clock = Clock()
    progress = UsersProgress(ProgressFile(str(tmp_path), min_interval=5, clock=clock), clock=clock)
    limit = AdaptiveLimit(ceiling=4)
    clock.now = 10
    progress.start(200, limit)

    def users():
        return json.loads((tmp_path / FILE_NAME).read_text())["users"]
    assert users() == {"done": 0, "total": 200, "throttled": 0, "seconds": 0}
    clock.now = 16
    limit.throttled(limit.acquire(), retry_after=None)
    progress.advance(30)
    assert users() == {"done": 30, "total": 200, "throttled": 1, "seconds": 6}
    clock.now = 17
    progress.advance()
    assert users()["done"] == 30, "at most one write per interval"
    progress.finish()
    assert users()["done"] == 31


def test_users_progress_of_a_module_not_asked_for_a_line_only_counts(tmp_path):
    module = types.SimpleNamespace(_tmpdir=str(tmp_path))
    progress = UsersProgress.of_module(module, None)
    progress.start(3)
    progress.advance()
    assert progress.done == 1 and progress.total == 3 and os.listdir(tmp_path) == []
    UsersProgress.of_module(module, 30).start(3)
    assert os.listdir(tmp_path) == [FILE_NAME]
