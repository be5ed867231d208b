# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

import json

import pytest

from ansible_collections.spo.user_profiles.plugins.module_utils import import_diff
from ansible_collections.spo.user_profiles.plugins.module_utils.errors import SpoError
from ansible_collections.spo.user_profiles.plugins.module_utils.import_delta import Decision

MAP = {"cc": "CostCenter", "bld": "Building"}
FIELDS = ["cc", "bld"]
USED = {"file": "/Shared Documents/ProfileImport/hr-baseline.jsonl.gz", "status": "used", "users": 3, "message": None}


def changes(**kw):
    return import_diff.Changes(MAP, FIELDS, **kw)


def test_counts_every_status_and_lists_only_users_that_change_or_are_left_out():
    found = changes()
    found.add("anna@x.com", Decision("changed", {"mail": "anna@x.com", "cc": "1001"}, ("1000", "B1"), 1))
    found.add("bjorn@x.com", Decision("unchanged", None, None, 0))
    found.add("new@x.com", Decision("added", {"mail": "new@x.com", "cc": "5", "bld": ""}, None, 0))
    found.left_out("ghost@x.com", 4, 5, "no such user in Entra ID")
    assert found.counts == {"added": 1, "changed": 1, "cleared": 0, "unchanged": 1, "left_out": 1, "not_in_source": 0}
    assert found.kept_values == 1
    assert found.listed == [
        {"id": "anna@x.com", "status": "changed", "properties": {"CostCenter": {"before": "1000", "after": "1001"}}},
        {"id": "new@x.com", "status": "added", "properties": {"CostCenter": {"before": None, "after": "5"},
                                                              "Building": {"before": None, "after": ""}}},
        {"id": "ghost@x.com", "status": "left_out", "record": 4, "line": 5, "reason": "no such user in Entra ID"},
    ]
    assert found.left_out_listed == found.listed[2:]
    assert found.listed_all


def test_the_list_is_bounded_and_the_file_has_every_user(tmp_path):
    path = tmp_path / "reports" / "changes.jsonl"
    found = changes(max_users=2, path=str(path))
    for number in range(5):
        found.add("u%d@x.com" % number, Decision("changed", {"mail": "u%d@x.com" % number, "bld": "B"}, ("1", "A"), 0))
    found.close()
    assert [entry["id"] for entry in found.listed] == ["u0@x.com", "u1@x.com"]
    assert not found.listed_all
    lines = [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()]
    assert [entry["id"] for entry in lines] == ["u%d@x.com" % number for number in range(5)]
    assert lines[4]["properties"] == {"Building": {"before": "A", "after": "B"}}


def test_discard_forgets_everything_and_empties_the_file(tmp_path):
    path = tmp_path / "changes.jsonl"
    found = changes(path=str(path))
    found.add("u@x.com", Decision("added", {"mail": "u@x.com", "cc": "1", "bld": "2"}, None, 0))
    found.discard()
    assert found.listed == [] and sum(found.counts.values()) == 0
    assert path.read_text() == ""


def test_prepared_diff_names_users_properties_and_counts():
    found = changes(max_users=2, path="/tmp/x.jsonl")
    found.add("anna@x.com", Decision("changed", {"mail": "anna@x.com", "cc": "1001"}, ("1000", "B1"), 0))
    found.left_out("ghost@x.com", 4, 5, "no such user in Entra ID")
    found.add("chie@x.com", Decision("cleared", {"mail": "chie@x.com", "bld": ""}, ("3000", "B3"), 0))
    found.close()
    text = import_diff.prepared_diff(import_diff.summary(found, USED))
    assert text.splitlines() == [
        "delta against the baseline of 3 users: 0 added, 1 changed, 1 cleared, 0 unchanged, 1 left out, 0 not in the source",
        "~ anna@x.com (changed)",
        '    CostCenter: "1000" -> "1001"',
        "! ghost@x.com (left out, record 4, line 5): no such user in Entra ID",
        "... and 1 more user(s): every one is in /tmp/x.jsonl",
    ]


def test_prepared_diff_without_a_baseline_says_so_and_notes_kept_values():
    found = changes()
    found.add("new@x.com", Decision("added", {"mail": "new@x.com", "cc": "5"}, None, 0))
    found.add("anna@x.com", Decision("unchanged", None, ("1", "2"), 2))
    info = {"file": USED["file"], "status": "unusable", "users": 0, "message": "the baseline x cannot be used: damaged"}
    text = import_diff.prepared_diff(import_diff.summary(found, info))
    assert "no baseline (every user is sent)" in text
    assert "note: the baseline x cannot be used: damaged" in text
    assert "note: 2 value(s) removed from the source are kept in the profiles (clear_missing is false)" in text
    assert '    CostCenter: (none) -> "5"' in text


def test_read_profile_befores_fills_in_what_the_profiles_hold(monkeypatch):
    profiles = {"anna@x.com": {"CostCenter": "0999", "Building": None}}
    reads = []

    def get_properties(client, upn):
        reads.append(upn)
        if upn not in profiles:
            raise SpoError("the user has no SharePoint user profile", status=404)
        return profiles[upn]
    monkeypatch.setattr(import_diff, "get_properties", get_properties)
    entries = [
        {"id": "anna@x.com", "status": "added", "properties": {"CostCenter": {"before": None, "after": "1000"}}},
        {"id": "ghost@x.com", "status": "added", "properties": {"CostCenter": {"before": None, "after": "1"}}},
        {"id": "bjorn@x.com", "status": "left_out", "reason": "a guest account (#EXT#)"},
    ]
    import_diff.read_profile_befores(object(), entries)
    assert reads == ["anna@x.com", "ghost@x.com"]
    assert entries[0]["properties"]["CostCenter"]["before"] == "0999" and entries[0]["profile"] == "read"
    assert entries[1]["profile"] == "not found" and entries[1]["properties"]["CostCenter"]["before"] is None


def test_half_a_surrogate_pair_is_written_to_the_file_as_its_json_escape(tmp_path):
    path = tmp_path / "changes.jsonl"
    found = changes(path=str(path))
    found.left_out("a\udcfc@x.com", 2, 3, "record_schema: '\udcfc' does not match")
    found.close()
    entry = json.loads(path.read_text(encoding="utf-8"))
    assert entry["id"] == "a\udcfc@x.com" and entry["reason"] == "record_schema: '\udcfc' does not match"


def test_a_changes_file_in_a_directory_that_can_be_made_has_no_problem(tmp_path):
    assert import_diff.changes_file_problem(str(tmp_path / "reports" / "run" / "c.changes.jsonl")) is None
    assert not (tmp_path / "reports").exists()


def test_a_changes_file_under_a_file_or_that_is_a_directory_is_a_problem_naming_changes_file(tmp_path):
    (tmp_path / "reports").write_text("")
    assert import_diff.changes_file_problem(str(tmp_path / "reports" / "c.jsonl")) == (
        "changes_file: cannot write %s/reports/c.jsonl: %s/reports is not a directory" % (tmp_path, tmp_path))
    assert import_diff.changes_file_problem(str(tmp_path)) == (
        "changes_file: %s is a directory; give the path of a file" % tmp_path)


def test_a_changes_file_that_cannot_be_opened_is_an_spo_error_naming_changes_file(tmp_path):
    (tmp_path / "reports").write_text("")
    with pytest.raises(SpoError, match="^changes_file: cannot write .*/reports/c.jsonl: "):
        changes(path=str(tmp_path / "reports" / "c.jsonl"))
