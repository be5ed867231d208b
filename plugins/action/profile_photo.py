# -*- coding: utf-8 -*-
# Copyright (c) spo.user_profiles contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Action plugin of spo.user_profiles.profile_photo: with progress_interval, a line per interval while it works."""

from __future__ import annotations

from ansible_collections.spo.user_profiles.plugins.plugin_utils.progress_action import UsersProgressAction


class ActionModule(UsersProgressAction):
    work = "photos"
