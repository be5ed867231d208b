# -*- coding: utf-8 -*-
# Copyright (c) spo.user_profiles contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations


class ModuleDocFragment:
    # Attributes shared by the modules (spo.user_profiles.attributes and its variants).
    # Every module that talks to a tenant extends DOCUMENTATION and ACTION_GROUP, and states its own check_mode and
    # diff_mode support; add CHECK_MODE_READ_ONLY (first: the first fragment that describes an attribute is the one
    # shown) for modules that never change anything, and PROGRESS_ACTION for those with an action plugin that prints
    # progress lines. The report action plugins (tenant_report, combined_report) extend CONTROLLER_REPORT instead, with
    # the action_common_attributes fragments of ansible-core.
    DOCUMENTATION = r"""
options: {}
attributes:
  check_mode:
    description: Can run in check mode and return changed status prediction without modifying the tenant.
  diff_mode:
    description: Will return details on what has changed (or possibly needs changing in check mode), when in diff mode.
  platform:
    support: full
    platforms: posix
    description:
      - Runs where Ansible runs it, which for this collection is the controller (the C(local) connection, which the
        collection's playbooks set; one inventory host per tenant), and talks to Microsoft 365 over HTTPS. The
        collection's Python requirements must be installed for the Python that runs it (C(ansible_python_interpreter)).
"""

    PROGRESS_ACTION = r"""
options: {}
attributes:
  action:
    support: full
    description:
      - An action plugin of the same name runs the module and, with O(progress_interval), prints a line every interval
        while the module works, on the controller. Without O(progress_interval) it only runs the module.
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

    CONTROLLER_REPORT = r"""
options: {}
attributes:
  action:
    support: full
  async:
    support: none
  become:
    support: none
  bypass_host_loop:
    support: none
  connection:
    support: none
    description: Never uses the connection; the files are written on the controller.
  delegation:
    support: N/A
    description: Always runs on the controller.
  check_mode:
    support: full
    description:
      - Reports are output of a run, not managed state. A check-mode run writes its reports into a directory of its own
        (C(<run_id>-check)), never into a real run's, and reports no change.
  diff_mode:
    support: N/A
    description: Reports are not managed state; there is no diff.
  platform:
    platforms: all
    description: Runs on the controller only; the target's platform does not matter.
  safe_file_operations:
    support: full
    description: Each file is written to a temporary file in the same directory and renamed over the old one.
  vault:
    support: none
notes:
  - Not part of the C(group/spo.user_profiles.spo) action group, which sets the connection options of the modules
    that talk to a tenant; this one talks to no tenant.
"""
