# -*- coding: utf-8 -*-
# Copyright (c) spo.user_profiles contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Report files written on the controller by the tenant_report and combined_report action plugins.

Each run writes into its own directory, <dest>/<run id> (<dest>/<run id>-check in check mode), so that runs over
different --limit's, AWX job slices of other workflows and check-mode runs never overwrite or merge into each other.
Files are JSON with a stable key order and Markdown, each written atomically and only when its content changes,
without any module run.
"""

from __future__ import annotations

import json
import os
import tempfile

import re

from ansible.errors import AnsibleActionFail
from ansible.module_utils.common.text.converters import to_bytes, to_text
from ansible.plugins.action import ActionBase

try:
    from ansible.module_utils.common.json import get_encoder
except ImportError:  # ansible-core < 2.19: no data tagging
    from ansible.module_utils.common.json import AnsibleJSONEncoder

    def get_encoder(profile):
        return AnsibleJSONEncoder

REPORT_MODE = 0o644
DIRECTORY_MODE = 0o755
CHECK_SUFFIX = "-check"
# A plain file name: no path separator, no leading dot (no "..", no hidden file), nothing a shell would mangle.
SAFE_NAME = re.compile(r"^[A-Za-z0-9_][A-Za-z0-9._@+-]{0,199}$")


def safe_name(value, option):
    """value when it can be used as a file name; AnsibleActionFail naming the option otherwise."""
    if not isinstance(value, str) or not SAFE_NAME.match(value):
        raise AnsibleActionFail(f"{option} {value!r} is not a safe file name: use letters, digits and . _ @ + -, "
                                "not starting with a dot or a dash.")
    return value


# The base name of the run's combined report (combined_report), which users and the docs rely on. No tenant's report
# may have it, in any case: on a case-insensitive file system Combined.json is combined.json.
COMBINED_NAME = "combined"


def tenant_name(value):
    """value when it can be the base name of a tenant's report files; AnsibleActionFail naming the tenant otherwise."""
    safe_name(value, "tenant")
    if value.lower() == COMBINED_NAME:
        raise AnsibleActionFail(f"tenant {value!r} is the name of the run's combined report ({COMBINED_NAME}.json, "
                                f"{COMBINED_NAME}.md), which would overwrite this tenant's report: give the report "
                                f"another name (in the roles, the inventory host name: name the host {value}-tenant, "
                                "say, and set spo_tenant to the tenant's name).")
    return value


def run_directory(dest, run_id, check_mode):
    """The directory of one run's reports; check-mode runs have their own."""
    return os.path.join(dest, safe_name(str(run_id), "run_id") + (CHECK_SUFFIX if check_mode else ""))


def report_json(report):
    """The JSON text of a report: stable key order, so an unchanged report gives the same bytes."""
    return json.dumps(report, cls=get_encoder("tagless"), indent=2, sort_keys=True, ensure_ascii=False) + "\n"


def read_bytes(path):
    """The bytes of a file; None when there is none."""
    try:
        with open(to_bytes(path, errors="surrogate_or_strict"), "rb") as handle:
            return handle.read()
    except FileNotFoundError:
        return None
    except OSError as e:
        raise AnsibleActionFail(f"Cannot read {path}: {to_text(e)}") from e


def write_atomically(path, content):
    """Write bytes to path through a temporary file in the same directory, so readers never see half a file."""
    directory, name = os.path.split(path)
    descriptor, temporary = tempfile.mkstemp(dir=directory, prefix=f".{name}.", suffix=".tmp")
    try:
        with os.fdopen(descriptor, "wb") as handle:
            handle.write(content)
        os.chmod(temporary, REPORT_MODE)
        os.replace(temporary, path)
    except BaseException:
        try:
            os.unlink(temporary)
        except OSError:
            pass
        raise


class ReportAction(ActionBase):
    """Base of the report actions: everything happens on the controller, the connection is never used."""

    TRANSFERS_FILES = False
    # Tells the task executor not to start a persistent (network) connection for this action.
    _requires_connection = False

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self._supports_check_mode = True

    def start(self, tmp, task_vars, argument_spec):
        """(result, args, task_vars) for the start of run(): the base result and the validated arguments."""
        task_vars = task_vars or {}
        result = super().run(tmp, task_vars)
        dummy, args = self.validate_argument_spec(argument_spec)
        return result, args, task_vars

    def check_dest(self, dest):
        if os.path.exists(dest) and not os.path.isdir(dest):
            raise AnsibleActionFail(f"The report directory {dest} exists and is not a directory.")

    def write_changed(self, dest, files, what):
        """Write the (path, bytes) pairs whose content differs from the file's; the paths that differ.

        Check-mode runs write too, into their own run directory. `what` names the report in error messages.
        """
        writes = [(path, content) for path, content in files if content != read_bytes(path)]
        if writes:
            try:
                if not os.path.isdir(dest):
                    os.makedirs(dest, exist_ok=True)
                    os.chmod(dest, DIRECTORY_MODE)
                for path, content in writes:
                    write_atomically(path, content)
            except OSError as e:
                raise AnsibleActionFail(f"Cannot write the {what} in {dest}: {to_text(e)}") from e
        return [path for path, dummy in writes]
