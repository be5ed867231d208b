# -*- coding: utf-8 -*-
# Copyright (c) spo.user_profiles contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The controller_path filter (documented in controller_path.yml)."""

from __future__ import annotations

from collections.abc import Mapping

from ansible.errors import AnsibleFilterError

from ansible_collections.spo.user_profiles.plugins.plugin_utils import controller_paths


def controller_path(value, key=None):
    """A controller path made absolute (None stays None); with key, a copy of a dict with its key item made so."""
    if key is not None:
        if not isinstance(value, Mapping) or not isinstance(value.get(key), str):
            # Not a path: left for the module's own check, which names the item.
            return value
        return dict(value, **{key: controller_paths.controller_path(value[key])})
    if value is None:
        return None
    if not isinstance(value, str):
        raise AnsibleFilterError("controller_path takes a path (a string), not %s" % type(value).__name__)
    return controller_paths.controller_path(value)


class FilterModule:

    def filters(self):
        return {"controller_path": controller_path}
