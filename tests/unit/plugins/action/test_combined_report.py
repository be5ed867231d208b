# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The combined_report action plugin: what it writes, when it reports a change, what it returns and refuses."""

from __future__ import annotations

import json
import os
import pathlib

import pytest

from ansible.errors import AnsibleActionFail

from ansible_collections.spo.user_profiles.plugins.action.combined_report import ActionModule

ROLE_TEMPLATE = pathlib.Path(__file__).resolve().parents[4] / "roles" / "bulk_import" / "templates" / "combined_report.md.j2"
DATA = {"generated_at": "2026-01-02T03:04:05Z",
        "tenants": [{"tenant": "contoso", "import_status": "succeeded"}, {"tenant": "fabrikam", "import_status": "failed"}]}


@pytest.fixture
def run(run_action):
    def run_combined_report(args, **kwargs):
        return run_action(ActionModule, "spo.user_profiles.combined_report", args, **kwargs)
    return run_combined_report


@pytest.fixture
def template(tmp_path):
    path = tmp_path / "table.md.j2"
    path.write_text("{% for row in combined_report.tenants %}{{ row.tenant }}={{ row.import_status }} ({{ greeting }})\n"
                    "{% endfor %}", encoding="utf-8")
    return path


def args(dest, template, data=None):
    return {"dest": str(dest), "data": DATA if data is None else data, "markdown_template": str(template)}


def test_writes_both_files_and_returns_the_markdown(run, tmp_path, template):
    dest = tmp_path / "reports"
    result = run(args(dest, template))

    assert result["changed"] is True
    assert sorted(os.listdir(dest)) == ["combined.json", "combined.md"]
    assert (dest / "combined.json").read_text(encoding="utf-8") == json.dumps(DATA, indent=2, sort_keys=True) + "\n"
    assert result["markdown"] == "contoso=succeeded (hello)\nfabrikam=failed (hello)\n"
    assert (dest / "combined.md").read_text(encoding="utf-8") == result["markdown"]
    assert result["json_path"] == str(dest / "combined.json") and result["markdown_path"] == str(dest / "combined.md")


def test_the_same_report_again_changes_nothing(run, tmp_path, template):
    run(args(tmp_path, template))
    times = [os.stat(tmp_path / name).st_mtime_ns for name in ("combined.json", "combined.md")]
    assert run(args(tmp_path, template))["changed"] is False
    assert [os.stat(tmp_path / name).st_mtime_ns for name in ("combined.json", "combined.md")] == times


def test_check_mode_writes_nothing_but_returns_the_markdown(run, tmp_path, template):
    result = run(args(tmp_path / "reports", template), check_mode=True)
    assert result["changed"] is True and result["markdown"].startswith("contoso=succeeded")
    assert not (tmp_path / "reports").exists()


def test_diff_shows_the_json_before_and_after(run, tmp_path, template):
    run(args(tmp_path, template))
    later = dict(DATA, generated_at="2026-01-02T04:00:00Z")
    diff = run(args(tmp_path, template, later), diff=True)["diff"]
    assert '"2026-01-02T03:04:05Z"' in diff["before"] and '"2026-01-02T04:00:00Z"' in diff["after"]


def test_a_file_in_place_of_the_directory_is_refused(run, tmp_path, template):
    (tmp_path / "reports").write_text("not a directory", encoding="utf-8")
    with pytest.raises(AnsibleActionFail, match="exists and is not a directory"):
        run(args(tmp_path / "reports", template))


def test_the_role_template_renders_a_row_per_tenant(run, tmp_path):
    row = {"tenant": "contoso", "import_status": "failed", "job_ids": ["5f4e7a2c"], "job_states": ["Error"],
           "import_seconds": 61, "users_submitted": 6, "users_imported": 0, "users_failed": 6,
           "failed_by_reason": {"IdentityNotResolvable": 6}, "files_uploaded": 1, "files_removed": 0,
           "photos_status": None, "photos_changed": None, "photos_failed": None, "error": "verdict: a | b"}
    markdown = run(args(tmp_path, ROLE_TEMPLATE, {"generated_at": "2026-01-02T03:04:05Z", "tenants": [row]}))["markdown"]
    assert markdown.startswith("# SharePoint user profile sync: 1 tenants (2026-01-02T03:04:05Z)\n")
    assert "| contoso | failed | 5f4e7a2c | Error | 61 | 6 | 0 | 6 (IdentityNotResolvable: 6) | 0 | - | - | - | verdict: a / b |" in markdown
