# -*- coding: utf-8 -*-
# Copyright (c) spo.user_profiles contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations


class ModuleDocFragment:
    # The progress line of the modules that work through many users (spo.user_profiles.users_progress); their action
    # plugins are plugin_utils/progress_action.UsersProgressAction, the module writes module_utils/progress.UsersProgress.
    DOCUMENTATION = r"""
options:
  progress_interval:
    description:
      - Print a line every this many seconds while the task runs, with the users done so far (of how many), how many
        a second, and how many answers the service throttled (HTTP 429 or 503). Printed by the action plugin on the
        controller; the counts are in the line with a C(local) connection (the module leaves them in its temporary
        directory), the time so far otherwise.
      - Not set (or V(0)), nothing is printed until the task ends.
    type: int
"""
