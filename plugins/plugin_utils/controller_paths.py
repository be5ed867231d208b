# -*- coding: utf-8 -*-
# Copyright (c) spo.user_profiles contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Paths a user gives on the controller, made to mean one file everywhere: read on the controller they are relative
to the directory ansible-playbook was started from, but a module run by the local connection starts in the playbook's
directory (ActionBase._low_level_execute_command sets the connection's cwd to the loader's basedir), which for the
collection's playbooks is inside the installed collection. Made absolute on the controller, they read the same in
both."""

from __future__ import annotations

import os

from ansible_collections.spo.user_profiles.plugins.module_utils.constants import PEM_TEXT_MARKER


def controller_path(path):
    """path with $VARIABLES and ~ expanded, as a module's path option expands them, made absolute against the
    directory ansible-playbook was started from (the controller's working directory).

    The text of a PEM file given where a path belongs is returned as it is: the modules refuse it and keep it out of
    their results (module_utils/base.py), as they could not keep out a text changed on the way.
    """
    if PEM_TEXT_MARKER in path:
        return path
    return os.path.abspath(os.path.expanduser(os.path.expandvars(path)))
