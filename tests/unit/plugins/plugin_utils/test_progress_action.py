# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""ProgressAction, through the action of upa_job_info: one module run for the whole wait, a line per interval."""

from __future__ import annotations

import json
import threading
import types

import pytest

from ansible.parsing.dataloader import DataLoader
from ansible.template import Templar

from ansible_collections.spo.user_profiles.plugins.action import profile_photo, upa_job_info, user_profile_info, user_profile_property
from ansible_collections.spo.user_profiles.plugins.module_utils.progress import FILE_NAME
from ansible_collections.spo.user_profiles.plugins.plugin_utils import progress_action


class Task:
    def __init__(self, args, action="spo.user_profiles.upa_job_info"):
        self.args = args
        self.async_val = 0
        self.check_mode = False
        self.diff = False
        self.action = action


@pytest.fixture
def shown(monkeypatch):
    lines = []
    monkeypatch.setattr(progress_action.display, "display", lines.append)
    return lines


def action(tmp_path, args, transport="local", plugin_module=upa_job_info):
    shell = types.SimpleNamespace(tmpdir=str(tmp_path))
    connection = types.SimpleNamespace(_shell=shell, transport=transport, has_native_async=False)
    loader = DataLoader()
    name = "spo.user_profiles." + plugin_module.__name__.rsplit(".", 1)[-1]
    plugin = plugin_module.ActionModule(Task(args, name), connection, play_context=None, loader=loader,
                                        templar=Templar(loader=loader), shared_loader_obj=None)
    plugin._remove_tmp_path = lambda path: None
    return plugin


def test_prints_the_state_the_module_left_every_interval_and_returns_its_result(tmp_path, shown, monkeypatch):
    done = threading.Event()
    calls = []

    def module_run(self, task_vars=None, wrap_async=False):
        calls.append(dict(self._task.args))
        (tmp_path / FILE_NAME).write_text(json.dumps({"job": {"state": "Processing"}}))
        done.wait(timeout=10)
        return {"changed": False, "job": {"outcome": "succeeded"}}
    monkeypatch.setattr(upa_job_info.ActionModule, "_execute_module", module_run)
    plugin = action(tmp_path, {"job_id": "j-1", "wait_seconds": 60, "progress_interval": 1})
    timer = threading.Timer(2.5, done.set)
    timer.start()
    result = plugin.run(task_vars={"inventory_hostname": "contoso"})
    assert result["job"]["outcome"] == "succeeded" and len(calls) == 1, "one module run for the whole wait"
    assert len(shown) >= 2
    assert shown[0].startswith("contoso: import job j-1 is Processing after ") and "(at most 60 s)" in shown[0]


def test_without_a_local_connection_the_line_has_no_state(tmp_path, shown, monkeypatch):
    done = threading.Event()

    def module_run(self, task_vars=None, wrap_async=False):
        (tmp_path / FILE_NAME).write_text(json.dumps({"job": {"state": "Processing"}}))
        done.wait(timeout=10)
        return {"changed": False}
    monkeypatch.setattr(upa_job_info.ActionModule, "_execute_module", module_run)
    threading.Timer(1.5, done.set).start()
    action(tmp_path, {"job_id": "j-1", "wait_seconds": 60, "progress_interval": 1}, transport="ssh").run(
        task_vars={"inventory_hostname": "contoso"})
    assert shown and "is not read yet after" in shown[0]


def test_without_progress_interval_it_is_the_module_alone(tmp_path, shown, monkeypatch):
    monkeypatch.setattr(upa_job_info.ActionModule, "_execute_module",
                        lambda self, task_vars=None, wrap_async=False: {"changed": False, "jobs": []})
    assert action(tmp_path, {"job_id": "j-1"}).run(task_vars={})["jobs"] == [] and shown == []


@pytest.mark.parametrize("plugin_module, work", [
    (profile_photo, "photos"), (user_profile_property, "profile writes"), (user_profile_info, "profile reads"),
])
def test_a_many_users_module_gets_a_line_with_users_done_rate_and_throttled_answers(
        tmp_path, shown, monkeypatch, plugin_module, work):
    done = threading.Event()
    calls = []

    def module_run(self, task_vars=None, wrap_async=False):
        calls.append(dict(self._task.args))
        progress = {"users": {"done": 120, "total": 200, "throttled": 3, "seconds": 8.0}}
        (tmp_path / FILE_NAME).write_text(json.dumps(progress))
        done.wait(timeout=10)
        return {"changed": True, "summary": {"total": 200}}
    monkeypatch.setattr(plugin_module.ActionModule, "_execute_module", module_run)
    threading.Timer(1.5, done.set).start()
    result = action(tmp_path, {"src_dir": "/photos", "progress_interval": 1}, plugin_module=plugin_module).run(
        task_vars={"inventory_hostname": "contoso"})
    assert result["summary"] == {"total": 200} and len(calls) == 1
    assert shown and shown[0].startswith(
        "contoso: %s: 120 of 200 users done (15.0 a second), 3 throttled answers, " % work) and shown[0].endswith(" s so far")


def test_before_the_module_has_counted_its_users_the_line_says_it_is_starting(tmp_path, shown, monkeypatch):
    done = threading.Event()

    def module_run(self, task_vars=None, wrap_async=False):
        done.wait(timeout=10)
        return {"changed": False}
    monkeypatch.setattr(profile_photo.ActionModule, "_execute_module", module_run)
    threading.Timer(1.5, done.set).start()
    action(tmp_path, {"src_dir": "/photos", "progress_interval": 1}, plugin_module=profile_photo).run(
        task_vars={"inventory_hostname": "contoso"})
    assert shown and shown[0].startswith("contoso: photos: starting, ")
