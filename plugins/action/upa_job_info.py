# -*- coding: utf-8 -*-
# Copyright (c) spo.user_profiles contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Action plugin of spo.user_profiles.upa_job_info: with progress_interval, a line per interval while it waits."""

from __future__ import annotations

from ansible_collections.spo.user_profiles.plugins.plugin_utils.progress_action import ProgressAction


class ActionModule(ProgressAction):

    def describe(self, args, progress, elapsed):
        job = (progress or {}).get("job") or {}
        state = job.get("state") or "not read yet"
        return "import job %s is %s after %d s of waiting (at most %s s)" % (
            args.get("job_id"), state, elapsed, args.get("wait_seconds"))
