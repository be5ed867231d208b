# -*- coding: utf-8 -*-
# Copyright (c) spo.user_profiles contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Report files written on the controller by the tenant_report and combined_report action plugins.

A JSON file with a stable key order and a Markdown file rendered with Ansible's templar, each written atomically and
only when its content changes, without any module run (a module run costs each tenant about half a CPU-second).
"""

from __future__ import annotations

import json
import os
import tempfile

from ansible.errors import AnsibleActionFail, AnsibleError
from ansible.module_utils.common.text.converters import to_bytes, to_text
from ansible.plugins.action import ActionBase

try:
    from ansible.module_utils.common.json import get_encoder
    from ansible.template import trust_as_template
except ImportError:  # ansible-core < 2.19: no data tagging, every template is trusted
    from ansible.module_utils.common.json import AnsibleJSONEncoder

    def get_encoder(profile):
        return AnsibleJSONEncoder

    def trust_as_template(text):
        return text

REPORT_MODE = 0o644
DIRECTORY_MODE = 0o755


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

        Nothing is written in check mode. `what` names the report in error messages.
        """
        writes = [(path, content) for path, content in files if content != read_bytes(path)]
        if writes and not self._task.check_mode:
            try:
                if not os.path.isdir(dest):
                    os.makedirs(dest, exist_ok=True)
                    os.chmod(dest, DIRECTORY_MODE)
                for path, content in writes:
                    write_atomically(path, content)
            except OSError as e:
                raise AnsibleActionFail(f"Cannot write the {what} in {dest}: {to_text(e)}") from e
        return [path for path, dummy in writes]

    def render(self, template, variable, value, task_vars):
        """The Markdown text: the template rendered by Ansible's templar, with `value` as the variable `variable`.

        A relative template path is looked up as ansible.builtin.template looks up its source.
        """
        try:
            path = self._find_needle("templates", template)
            with open(to_bytes(path, errors="surrogate_or_strict"), "rb") as handle:
                source = handle.read().decode("utf-8")
        except (AnsibleError, OSError, ValueError) as e:
            raise AnsibleActionFail(f"Cannot read the Markdown template {template}: {to_text(e)}") from e
        variables = dict(task_vars)
        variables[variable] = value
        templar = self._templar.copy_with_new_env(searchpath=[os.path.dirname(path)], available_variables=variables)
        try:
            rendered = templar.template(trust_as_template(source), escape_backslashes=False)
        except AnsibleError as e:
            raise AnsibleActionFail(f"Cannot render the Markdown template {path}: {to_text(e)}") from e
        return "" if rendered is None else to_text(rendered)
