# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""How the records are laid out for people: Markdown and the terminal table."""

from __future__ import annotations

from ansible_collections.spo.user_profiles.plugins.plugin_utils import report_markdown


def bulk_record(**changes):
    record = {"outcome": "imported_with_failures", "summary": "20 imported, 2 failed", "source": "/srv/hr.csv",
              "records": 22, "properties": 44, "ignored_fields": ["nickname"], "problems": [],
              "files": [{"name": "hr-1.json", "records": 22, "uploaded": True}],
              "jobs": [{"job_id": "j-1", "file": "hr-1.json", "queued_by_this_run": True, "state": "Succeeded",
                        "outcome": "succeeded_with_failures", "queued_at": "t0", "finished_at": "t1",
                        "elapsed_seconds": 61.5, "failed_count": 2,
                        "log_entries": [{"identity": "a|b@x.com", "code": "IdentityNotResolvable", "message": "no"}]}],
              "users": {"submitted": 22, "imported": 20, "failed": 2, "unchanged": 0,
                        "failed_by_reason": {"IdentityNotResolvable": 2}},
              "retention": {"removed_files": ["old.json"], "removed_log_folders": [],
                            "removed_jobs": ["5f4e7a2c-1111-2222-3333-444455556666"], "protected": []},
              "error": None, "started_at": "t0", "finished_at": "t2", "duration_seconds": 70}
    record.update(changes)
    return record


def test_tenant_markdown_names_counts_job_and_log_lines_with_pipes_escaped():
    text = report_markdown.tenant_markdown({"tenant": "contoso", "run_id": "r1", "check_mode": False,
                                            "sections": {"bulk_import": bulk_record()}})
    assert "## Bulk import: imported with failures" in text
    assert "- Users submitted 22, imported 20, failed 2" in text and "  - IdentityNotResolvable: 2" in text
    assert "| j-1 | hr-1.json | yes | Succeeded | succeeded_with_failures | t0 | t1 | 61.5 | 2 |" in text
    assert "| a\\|b@x.com | IdentityNotResolvable | no |" in text
    assert "Clean-up: 1 old file, 0 log folders and 1 job record removed" in text


def test_a_check_mode_report_says_what_would_be_uploaded_and_removed_not_that_it_was():
    record = bulk_record(files=[{"name": "hr-1.json", "records": 22, "uploaded": True},
                                {"name": "hr-0.json", "records": 3, "uploaded": False}])
    check = report_markdown.tenant_markdown({"tenant": "contoso", "run_id": "r1", "check_mode": True,
                                             "sections": {"bulk_import": record}})
    assert "Clean-up: 1 old file, 0 log folders and 1 job record would be removed" in check
    assert "| hr-1.json | 22 | would be |" in check and "| hr-0.json | 3 | no (already there) |" in check
    applied = report_markdown.tenant_markdown({"tenant": "contoso", "run_id": "r1", "check_mode": False,
                                               "sections": {"bulk_import": record}})
    assert "1 job record removed" in applied and "| hr-1.json | 22 | yes |" in applied


def test_the_counts_of_the_import_files_are_not_called_the_sources():
    # upa_import_file's counts: the users in the files and their name/value pairs, ids included (a source of 3 rows
    # with 1 user left out gives 2 users).
    record = bulk_record(records=2, properties=4, left_out=[{"id": "ghost@x.com", "reason": "no such user"}],
                         left_out_count=1)
    text = report_markdown.tenant_markdown({"tenant": "contoso", "run_id": "r1", "sections": {"bulk_import": record}})
    assert "- Source: `/srv/hr.csv`\n- Import files: 2 users, 4 name/value pairs (ids included)\n" in text
    assert "2 records" not in text and "4 properties" not in text
    one = report_markdown.tenant_markdown({"tenant": "contoso", "run_id": "r1",
                                           "sections": {"bulk_import": bulk_record(records=1, properties=1)}})
    assert "- Import files: 1 user, 1 name/value pair (ids included)" in one


def test_a_count_of_one_takes_the_singular():
    per_user = {"users": {"total": 2, "changed": 1, "unchanged": 1, "failed": 0}, "written": 1, "failures": []}
    delta = {"baseline": {"status": "used", "users": 1}, "users_listed_all": True, "counts": {"unchanged": 1},
             "users": [], "recorded": {"users": 1, "counts": {}}}
    text = report_markdown.tenant_markdown({"tenant": "contoso", "run_id": "r1", "sections": {
        "bulk_import": bulk_record(per_user=per_user, delta=delta)}})
    assert "- Written user by user: 1 user changed (1 property), 1 unchanged, 0 failed" in text
    assert "- Delta against the baseline of 1 user:" in text and "- Baseline recorded: 1 user," in text


def test_writes_user_by_user_are_a_line_with_their_failures():
    per_user = {"users": {"total": 30, "changed": 3, "unchanged": 26, "failed": 1}, "written": 5,
                "failures": [{"user": "ghost@x.com", "error": "no profile | gone"}]}
    text = report_markdown.tenant_markdown({"tenant": "contoso", "run_id": "r1", "check_mode": False,
                                            "sections": {"bulk_import": bulk_record(per_user=per_user)}})
    assert "- Written user by user: 3 users changed (5 properties), 26 unchanged, 1 failed" in text
    assert "  - ghost@x.com: no profile \\| gone" in text
    assert "Written user by user" not in report_markdown.tenant_markdown(
        {"tenant": "contoso", "run_id": "r1", "check_mode": False, "sections": {"bulk_import": bulk_record()}})


def test_a_failed_record_says_where_and_what_to_do_and_lists_problems():
    record = bulk_record(outcome="failed", jobs=[], problems=[{"record": 3, "line": 4, "field": "mail",
                                                               "message": "not an email address"}],
                         error={"step": "upload", "message": "1 problem", "hint": "Fix the source."})
    text = report_markdown.tenant_markdown({"tenant": "t", "run_id": "r", "check_mode": True,
                                            "sections": {"bulk_import": record}})
    assert "(check mode: nothing was changed)" in text
    assert "- record 3, line 4, field 'mail': not an email address" in text
    assert "**Failed at step `upload`**: 1 problem" in text and "What to do: Fix the source." in text


def test_a_delta_shows_its_counts_each_change_and_where_the_rest_is():
    delta = {"baseline": {"status": "used", "users": 1000}, "users_listed_all": False, "changes_file": "contoso.changes.jsonl",
             "counts": {"added": 1, "changed": 2, "cleared": 0, "unchanged": 996, "left_out": 1, "not_in_source": 0},
             "users": [{"id": "anna@x.com", "status": "changed", "properties": {"CostCenter": {"before": "1|0", "after": "11"}}},
                       {"id": "ghost@x.com", "status": "left_out", "reason": "no such user in Entra ID"}],
             "recorded": {"users": 1001, "counts": {"recorded": 3, "not_recorded": 1}}}
    record = bulk_record(delta=delta, left_out=[{"id": "ghost@x.com", "reason": "no such user in Entra ID"}], left_out_count=1)
    text = report_markdown.tenant_markdown({"tenant": "contoso", "run_id": "r1", "sections": {"bulk_import": record}})
    assert ("- Delta against the baseline of 1000 users: 1 added, 2 changed, 0 cleared, 996 unchanged, 1 left out, "
            "0 not in source") in text
    assert "- Baseline recorded: 1001 users, 3 with new values, 1 to be sent again" in text
    assert "| anna@x.com | changed | CostCenter | 1\\|0 | 11 |" in text
    assert "every one is in `contoso.changes.jsonl`" in text
    assert "- Left out of the file (1): ghost@x.com: no such user in Entra ID" in text


def test_terminal_table_gives_a_failed_tenant_s_error_the_room_the_other_columns_leave():
    message = ("upload: sign in: cannot use the sign-in authority for tenant_id contosso.onmicrosoft.com: Unable to "
               "get authority configuration")
    table = report_markdown.terminal_table([{"tenant": "contoso", "section": "bulk_import", "outcome": "failed",
                                             "changes": "-", "error": message}])
    assert table[0].startswith("Tenant  Sync       Outcome Changes Error")
    assert all(len(line) <= 99 for line in table)
    # 64 characters of the message, not its first 22.
    assert table[1].endswith(" upload: sign in: cannot use the sign-in authority for tenant_id…")
    mixed = report_markdown.terminal_table([
        {"tenant": "contoso", "section": "bulk_import", "outcome": "failed", "changes": "-", "error": message},
        {"tenant": "fabrikam", "section": "bulk_import", "outcome": "imported_with_failures",
         "changes": "300 imported, 4 failed", "error": ""}])
    assert all(len(line) <= 99 for line in mixed) and "fabrikam properties imported with failures 300 imported" in mixed[2]


def test_terminal_table_cuts_long_cells_and_keeps_rows_short():
    rows = [{"tenant": "t" * 40, "section": "profile_photos", "outcome": "synced_with_failures",
             "changes": "1200 changed, 3 failed, and more", "error": "sync: " + "e" * 200}]
    table = report_markdown.terminal_table(rows)
    assert len(table) == 2 and all(len(line) <= 99 for line in table)
    assert table[1].startswith("t" * 17 + "… photos") and "…" in table[1][-3:]
