# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The combined_report action plugin: one table from every tenant report of a run directory."""

from __future__ import annotations

import json
import os

import pytest

from ansible.errors import AnsibleActionFail

from ansible_collections.spo.user_profiles.plugins.action import combined_report
from ansible_collections.spo.user_profiles.plugins.action.combined_report import ActionModule


def tenant_file(directory, tenant, outcome="imported", error=None, section="bulk_import"):
    directory.mkdir(parents=True, exist_ok=True)
    report = {"tenant": tenant, "run_id": directory.name, "check_mode": False,
              "sections": {section: {"outcome": outcome, "summary": "3 imported", "error": error}}}
    (directory / (tenant + ".json")).write_text(json.dumps(report), encoding="utf-8")


@pytest.fixture
def run(run_action, monkeypatch):
    shown = []
    monkeypatch.setattr(combined_report.display, "display", shown.append)

    def run_combined(args, **kwargs):
        result = run_action(ActionModule, "spo.user_profiles.combined_report", args, **kwargs)
        result["shown"] = list(shown)
        return result
    return run_combined


def test_every_tenant_report_of_the_run_is_in_the_table(run, tmp_path):
    tenant_file(tmp_path / "run-1", "contoso")
    tenant_file(tmp_path / "run-1", "fabrikam", outcome="failed", error={"step": "upload", "message": "no such file"})
    tenant_file(tmp_path / "run-2", "northwind")
    result = run({"dest": str(tmp_path), "run_id": "run-1"})
    assert [row["tenant"] for row in result["rows"]] == ["contoso", "fabrikam"]
    assert result["rows"][1]["error"] == "upload: no such file"
    combined = json.loads((tmp_path / "run-1" / "combined.json").read_text(encoding="utf-8"))
    assert combined["tenants"] == ["contoso", "fabrikam"] and combined["run_id"] == "run-1"
    markdown = (tmp_path / "run-1" / "combined.md").read_text(encoding="utf-8")
    assert "| fabrikam | properties | failed | 3 imported | upload: no such file |" in markdown
    assert "2 tenants" in markdown and "northwind" not in markdown


def test_the_terminal_table_is_plain_text_under_100_columns(run, tmp_path):
    tenant_file(tmp_path / "r", "a-tenant-with-a-rather-long-name", outcome="imported_with_failures",
                error={"step": "outcome", "message": "x" * 300})
    result = run({"dest": str(tmp_path), "run_id": "r"})
    assert all(len(line) < 100 for line in result["table"])
    assert result["table"][0].split() == ["Tenant", "Sync", "Outcome", "Changes", "Error"]
    assert "imported with failures" in result["table"][1]
    assert result["shown"][0].splitlines()[:2] == result["table"]


def test_show_false_prints_nothing(run, tmp_path):
    tenant_file(tmp_path / "r", "contoso")
    assert run({"dest": str(tmp_path), "run_id": "r", "show": False})["shown"] == []


def test_slices_of_one_run_add_up_and_an_unchanged_table_keeps_its_time(run, tmp_path):
    tenant_file(tmp_path / "wf-7", "contoso")
    first = run({"dest": str(tmp_path), "run_id": "wf-7"})
    tenant_file(tmp_path / "wf-7", "fabrikam")
    second = run({"dest": str(tmp_path), "run_id": "wf-7"})
    assert len(first["rows"]) == 1 and len(second["rows"]) == 2
    before = (tmp_path / "wf-7" / "combined.json").read_bytes()
    run({"dest": str(tmp_path), "run_id": "wf-7"})
    assert (tmp_path / "wf-7" / "combined.json").read_bytes() == before


def test_check_mode_reads_and_writes_the_check_directory(run, tmp_path):
    tenant_file(tmp_path / "r", "contoso")
    tenant_file(tmp_path / "r-check", "fabrikam")
    result = run({"dest": str(tmp_path), "run_id": "r"}, check_mode=True)
    assert [row["tenant"] for row in result["rows"]] == ["fabrikam"]
    assert "combined.json" not in os.listdir(tmp_path / "r")


def test_a_tenant_report_that_is_not_json_is_named(run, tmp_path):
    (tmp_path / "r").mkdir()
    (tmp_path / "r" / "contoso.json").write_text("{", encoding="utf-8")
    with pytest.raises(AnsibleActionFail, match="contoso.json is not valid JSON"):
        run({"dest": str(tmp_path), "run_id": "r"})
