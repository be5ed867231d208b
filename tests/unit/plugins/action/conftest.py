# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Runs an action plugin with Ansible's real loader and templar and a connection it must not use."""

from __future__ import annotations

import types

import pytest

from ansible.parsing.dataloader import DataLoader
from ansible.template import Templar


class FakeTask:
    """The parts of a Task an action plugin reads."""

    def __init__(self, action, args, check_mode=False, diff=False, search_path=()):
        self.args = args
        self.check_mode = check_mode
        self.diff = diff
        self.async_val = 0
        self.action = action
        self._search_path = list(search_path)

    def get_search_path(self):
        return self._search_path


@pytest.fixture
def run_action():
    def run(action_class, action, args, check_mode=False, diff=False, search_path=(), task_vars=None):
        loader = DataLoader()
        # A connection with nothing but the shell's tmpdir: any other use of the connection raises AttributeError.
        connection = types.SimpleNamespace(_shell=types.SimpleNamespace(tmpdir=None))
        task = FakeTask(action, dict(args), check_mode=check_mode, diff=diff, search_path=search_path)
        plugin = action_class(task, connection, play_context=None, loader=loader, templar=Templar(loader=loader),
                              shared_loader_obj=None)
        return plugin.run(task_vars=dict(task_vars or {"greeting": "hello"}))
    return run
