# -*- coding: utf-8 -*-
# Copyright (c) spo.user_profiles contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Action plugin of spo.user_profiles.tenant_report (documented in plugins/modules/tenant_report.py).

Merges one section into <dest>/<tenant>.json and renders <dest>/<tenant>.md, entirely on the controller:
no module runs and the connection is never used, which is what makes a report cheap with many tenants in parallel.
"""

from __future__ import annotations

import json
import os
import re
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

# A plain file name: no path separator, no leading dot (no "..", no hidden file), nothing a shell would mangle.
SAFE_NAME = re.compile(r"^[A-Za-z0-9_][A-Za-z0-9._@+-]{0,199}$")
REPORT_MODE = 0o644
DIRECTORY_MODE = 0o755

ARGUMENT_SPEC = {
    "dest": {"type": "path", "required": True},
    "tenant": {"type": "str", "required": True},
    "section": {"type": "str", "required": True},
    "data": {"type": "dict", "required": True},
    "markdown_template": {"type": "path", "required": True},
}


def report_json(report):
    """The JSON text of a report: stable key order, so an unchanged report gives the same bytes."""
    return json.dumps(report, cls=get_encoder("tagless"), indent=2, sort_keys=True, ensure_ascii=False) + "\n"


def read_report(path):
    """(report dict, JSON text) of an existing report; ({}, None) when there is none yet."""
    raw = read_bytes(path)
    if raw is None:
        return {}, None
    try:
        text = raw.decode("utf-8")
        report = json.loads(text)
    except ValueError as e:  # UnicodeDecodeError and JSONDecodeError are both ValueErrors
        raise AnsibleActionFail(f"The tenant report {path} is not valid JSON ({to_text(e)}); fix or remove it.") from e
    if not isinstance(report, dict):
        raise AnsibleActionFail(f"The tenant report {path} does not hold a JSON object; fix or remove it.")
    return report, text


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


class ActionModule(ActionBase):

    TRANSFERS_FILES = False
    # Tells the task executor not to start a persistent (network) connection for this action.
    _requires_connection = False

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self._supports_check_mode = True

    def run(self, tmp=None, task_vars=None):
        task_vars = task_vars or {}
        result = super().run(tmp, task_vars)
        del tmp

        dummy, args = self.validate_argument_spec(ARGUMENT_SPEC)
        dest, tenant, section = args["dest"], args["tenant"], args["section"]
        if not SAFE_NAME.match(tenant):
            raise AnsibleActionFail(
                f"tenant {tenant!r} is not a safe file name: use letters, digits and . _ @ + -, not starting with a dot or a dash.")
        if not section or section == "tenant":
            raise AnsibleActionFail(f"section {section!r} is not allowed: give a non-empty key other than 'tenant', which holds the tenant name.")
        if os.path.exists(dest) and not os.path.isdir(dest):
            raise AnsibleActionFail(f"The report directory {dest} exists and is not a directory.")

        json_path = os.path.join(dest, tenant + ".json")
        markdown_path = os.path.join(dest, tenant + ".md")
        existing, before_json = read_report(json_path)
        report = dict(existing)
        report.update({"tenant": tenant, section: args["data"]})
        try:
            after_json = report_json(report)
        except (TypeError, ValueError) as e:
            raise AnsibleActionFail(f"The {section} section cannot be written as JSON: {to_text(e)}") from e
        markdown = self._render(args["markdown_template"], report, task_vars)

        writes = []
        if after_json != before_json:
            writes.append((json_path, to_bytes(after_json)))
        markdown_bytes = to_bytes(markdown, errors="surrogate_or_strict")
        if markdown_bytes != read_bytes(markdown_path):
            writes.append((markdown_path, markdown_bytes))

        if writes and not self._task.check_mode:
            try:
                if not os.path.isdir(dest):
                    os.makedirs(dest, exist_ok=True)
                    os.chmod(dest, DIRECTORY_MODE)
                for path, content in writes:
                    write_atomically(path, content)
            except OSError as e:
                raise AnsibleActionFail(f"Cannot write the tenant report in {dest}: {to_text(e)}") from e

        result.update(changed=bool(writes), json_path=json_path, markdown_path=markdown_path, report=report)
        if section.isidentifier():
            # The combined report of the play reads each tenant's sections from these facts.
            result["ansible_facts"] = {"spo_report_" + section: args["data"]}
        if self._task.diff:
            result["diff"] = {"before": before_json or "", "after": after_json, "before_header": json_path, "after_header": json_path}
        return result

    def _render(self, template, report, task_vars):
        """The Markdown text: the template rendered by Ansible's templar, with the report as tenant_report."""
        try:
            path = self._find_needle("templates", template)
            with open(to_bytes(path, errors="surrogate_or_strict"), "rb") as handle:
                source = handle.read().decode("utf-8")
        except (AnsibleError, OSError, ValueError) as e:
            raise AnsibleActionFail(f"Cannot read the Markdown template {template}: {to_text(e)}") from e
        variables = dict(task_vars)
        variables["tenant_report"] = report
        templar = self._templar.copy_with_new_env(searchpath=[os.path.dirname(path)], available_variables=variables)
        try:
            rendered = templar.template(trust_as_template(source), escape_backslashes=False)
        except AnsibleError as e:
            raise AnsibleActionFail(f"Cannot render the Markdown template {path}: {to_text(e)}") from e
        return "" if rendered is None else to_text(rendered)
