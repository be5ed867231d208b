# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The tenant_report action plugin, driven with Ansible's real loader and templar in a temporary directory:
what it writes, what it keeps, when it reports a change, and what it refuses."""

from __future__ import annotations

import json
import os
import pathlib

import pytest

from ansible.errors import AnsibleActionFail

from ansible_collections.spo.user_profiles.plugins.action.tenant_report import ActionModule

ROLE_TEMPLATE = pathlib.Path(__file__).resolve().parents[4] / "roles" / "bulk_import" / "templates" / "tenant_report.md.j2"

SIMPLE_TEMPLATE = """\
# {{ tenant_report.tenant }} ({{ greeting }})
{% for key, value in tenant_report.bulk_import | default({}) | dictsort %}
- {{ key }}: {{ value | to_json }}
{% endfor %}
"""


@pytest.fixture
def template(tmp_path):
    path = tmp_path / "summary.md.j2"
    path.write_text(SIMPLE_TEMPLATE, encoding="utf-8")
    return path


@pytest.fixture
def run(run_action):
    def run_tenant_report(args, **kwargs):
        return run_action(ActionModule, "spo.user_profiles.tenant_report", args, **kwargs)
    return run_tenant_report


def report_args(dest, template, section="bulk_import", data=None, tenant="contoso"):
    return {"dest": str(dest), "tenant": tenant, "section": section, "markdown_template": str(template),
            "data": data if data is not None else {"status": "succeeded", "users": {"imported": 5, "failed": 1}}}


def test_creates_the_directory_and_both_files(run, tmp_path, template):
    dest = tmp_path / "reports" / "nested"
    result = run(report_args(dest, template))

    assert result["changed"] is True
    assert sorted(os.listdir(dest)) == ["contoso.json", "contoso.md"]  # no temporary file left behind
    assert oct(os.stat(dest).st_mode & 0o777) == "0o755"
    json_text = (dest / "contoso.json").read_text(encoding="utf-8")
    expected = {"tenant": "contoso", "bulk_import": {"status": "succeeded", "users": {"imported": 5, "failed": 1}}}
    assert json_text == json.dumps(expected, indent=2, sort_keys=True) + "\n"
    assert oct(os.stat(dest / "contoso.json").st_mode & 0o777) == "0o644"
    assert (dest / "contoso.md").read_text(encoding="utf-8") == (
        '# contoso (hello)\n- status: "succeeded"\n- users: {"imported": 5, "failed": 1}\n')
    assert result["json_path"] == str(dest / "contoso.json")
    assert result["markdown_path"] == str(dest / "contoso.md")
    assert result["report"] == expected
    assert result["ansible_facts"] == {"spo_report_bulk_import": expected["bulk_import"]}


def test_a_section_that_is_no_variable_name_sets_no_fact(run, tmp_path, template):
    result = run(report_args(tmp_path, template, section="photo-sync"))
    assert result["report"]["photo-sync"]["status"] == "succeeded" and "ansible_facts" not in result


def test_a_second_section_keeps_the_first_and_a_section_is_replaced_whole(run, tmp_path, template):
    run(report_args(tmp_path, template, data={"status": "failed", "old_key": 1}))
    run(report_args(tmp_path, template, section="profile_photos", data={"status": "succeeded", "changed": 3}))
    result = run(report_args(tmp_path, template, data={"status": "succeeded"}))

    on_disk = json.loads((tmp_path / "contoso.json").read_text(encoding="utf-8"))
    assert on_disk == {"tenant": "contoso", "bulk_import": {"status": "succeeded"},
                       "profile_photos": {"status": "succeeded", "changed": 3}}
    assert result["report"] == on_disk


def test_the_same_data_again_changes_nothing_and_keeps_the_modification_times(run, tmp_path, template):
    run(report_args(tmp_path, template))
    paths = [tmp_path / "contoso.json", tmp_path / "contoso.md"]
    for path in paths:
        os.utime(path, ns=(1_000_000_000, 1_000_000_000))

    result = run(report_args(tmp_path, template))

    assert result["changed"] is False
    assert [os.stat(path).st_mtime_ns for path in paths] == [1_000_000_000, 1_000_000_000]


def test_only_the_markdown_changing_is_a_change(run, tmp_path, template):
    run(report_args(tmp_path, template))
    json_before = (tmp_path / "contoso.json").read_bytes()

    result = run(report_args(tmp_path, template), task_vars={"greeting": "bye"})

    assert result["changed"] is True
    assert (tmp_path / "contoso.json").read_bytes() == json_before
    assert (tmp_path / "contoso.md").read_text(encoding="utf-8").startswith("# contoso (bye)\n")


def test_check_mode_writes_nothing_and_says_what_would_change(run, tmp_path, template):
    dest = tmp_path / "reports"
    result = run(report_args(dest, template), check_mode=True)

    assert result["changed"] is True
    assert not dest.exists()
    assert result["report"]["bulk_import"]["status"] == "succeeded"

    run(report_args(dest, template))
    before = (dest / "contoso.json").read_bytes()
    unchanged = run(report_args(dest, template), check_mode=True)
    changed = run(report_args(dest, template, data={"status": "failed"}), check_mode=True)
    assert unchanged["changed"] is False
    assert changed["changed"] is True
    assert (dest / "contoso.json").read_bytes() == before


def test_diff_shows_the_json_before_and_after(run, tmp_path, template):
    run(report_args(tmp_path, template, data={"status": "failed"}))
    before = (tmp_path / "contoso.json").read_text(encoding="utf-8")

    result = run(report_args(tmp_path, template, data={"status": "succeeded"}), diff=True)

    assert result["diff"]["before"] == before
    assert result["diff"]["after"] == (tmp_path / "contoso.json").read_text(encoding="utf-8")
    assert '"status": "succeeded"' in result["diff"]["after"]
    assert result["diff"]["after_header"] == str(tmp_path / "contoso.json")
    assert "diff" not in run(report_args(tmp_path, template))


@pytest.mark.parametrize("content", ["{not json", "[1, 2]", "\xff\xfe"])
def test_an_existing_file_that_is_not_a_json_object_fails_naming_the_file(run, tmp_path, template, content):
    path = tmp_path / "contoso.json"
    path.write_bytes(content.encode("latin-1"))

    with pytest.raises(AnsibleActionFail) as failure:
        run(report_args(tmp_path, template))

    assert str(path) in str(failure.value)
    assert path.read_bytes() == content.encode("latin-1")
    assert not (tmp_path / "contoso.md").exists()


@pytest.mark.parametrize("tenant", ["../escape", "a/b", ".hidden", "-rf", "", "con\ntoso", "x" * 201])
def test_an_unsafe_tenant_name_is_refused(run, tmp_path, template, tenant):
    dest = tmp_path / "reports"
    with pytest.raises(AnsibleActionFail, match="not a safe file name"):
        run(report_args(dest, template, tenant=tenant))
    assert not dest.exists()
    assert sorted(os.listdir(tmp_path)) == ["summary.md.j2"]


def test_the_section_cannot_overwrite_the_tenant_key(run, tmp_path, template):
    with pytest.raises(AnsibleActionFail, match="'tenant'"):
        run(report_args(tmp_path, template, section="tenant"))


def test_a_relative_template_is_found_in_the_templates_directory_of_the_search_path(run, tmp_path):
    role = tmp_path / "role"
    (role / "templates").mkdir(parents=True)
    (role / "templates" / "short.md.j2").write_text("{{ tenant_report | dictsort | map('first') | join(',') }}\n", encoding="utf-8")

    run(report_args(tmp_path / "out", "short.md.j2"), search_path=[str(role)])

    assert (tmp_path / "out" / "contoso.md").read_text(encoding="utf-8") == "bulk_import,tenant\n"


def test_a_template_error_fails_naming_the_template(run, tmp_path):
    broken = tmp_path / "broken.md.j2"
    broken.write_text("{{ no_such_variable.field }}\n", encoding="utf-8")

    with pytest.raises(AnsibleActionFail) as failure:
        run(report_args(tmp_path / "out", broken))

    assert str(broken) in str(failure.value)
    assert not (tmp_path / "out").exists()


def test_the_role_template_renders_both_sections(run, tmp_path):
    bulk_import = {
        "status": "succeeded", "check_mode": False, "started_at": "2026-01-02T03:04:05Z", "finished_at": "2026-01-02T03:05:05Z",
        "duration_seconds": 60, "source": "/data/hr.csv", "records": 6, "properties": 12, "ignored_fields": ["nickname"],
        "users": {"submitted": 6, "imported": 5, "failed": 1, "failed_by_reason": {"IdentityNotResolvable": 1}},
        "retention": {}, "files": [{"name": "hr-0123.json", "records": 6, "uploaded": True}],
        "jobs": [{"job_id": "5f4e7a2c-1111-2222-3333-444455556666", "file": "hr-0123.json", "state": "Succeeded",
                  "error": "ImportCompleteWithError", "queued_at": "2026-01-02T03:04:10Z", "finished_at": "2026-01-02T03:05:00Z",
                  "elapsed_seconds": 50, "failed_count": 1,
                  "log_entries": [{"identity": "ghost@contoso.example", "code": "IdentityNotResolvable", "message": "a | b"}]}],
        "error": None,
    }
    photos = {"status": "failed", "check_mode": False, "started_at": "s", "finished_at": "f", "duration_seconds": 2,
              "users": 2, "changed": 1, "unchanged": 0, "failed": 1, "failures": [{"user": "u1@contoso.example", "error": "too big"}],
              "error": {"step": "sync", "message": "1 user failed"}}
    run(report_args(tmp_path, ROLE_TEMPLATE, data=bulk_import))
    run(report_args(tmp_path, ROLE_TEMPLATE, section="profile_photos", data=photos))

    markdown = (tmp_path / "contoso.md").read_text(encoding="utf-8")
    assert markdown.startswith("# Tenant contoso\n")
    assert "## Bulk import: succeeded\n" in markdown
    assert "  - IdentityNotResolvable: 1\n" in markdown
    assert "| 5f4e7a2c-1111-2222-3333-444455556666 | hr-0123.json | Succeeded | ImportCompleteWithError |" in markdown
    assert "| ghost@contoso.example | IdentityNotResolvable | a \\| b |" in markdown
    assert "## Profile photos: failed\n" in markdown
    assert "| u1@contoso.example | too big |" in markdown
    assert "**Failed at step `sync`**: 1 user failed" in markdown
