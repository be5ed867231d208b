# -*- coding: utf-8 -*-
# Copyright (c) spo.user_profiles contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations


class ModuleDocFragment:
    # Attributes shared by the modules (spo.user_profiles.attributes and its variants).
    # Every module extends DOCUMENTATION and ACTION_GROUP; add CHECK_MODE_READ_ONLY for modules that never change anything.
    DOCUMENTATION = r"""
options: {}
attributes:
  diff_mode:
    description: Will return details on what has changed (or possibly needs changing in check mode), when in diff mode.
"""

    ACTION_GROUP = r"""
options: {}
attributes:
  action_group:
    description: Use C(group/spo.user_profiles.spo) in C(module_defaults) to set the connection options once for all modules.
    support: full
    membership:
      - spo.user_profiles.spo
"""

    CHECK_MODE_READ_ONLY = r"""
options: {}
attributes:
  check_mode:
    support: full
    description: This module only reads; it runs normally in check mode and reports no change.
  diff_mode:
    support: N/A
    description: This module does not change anything, so there is no diff.
"""
