# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

import pytest

from ansible_collections.spo.user_profiles.plugins.module_utils import import_baseline, import_delta
from ansible_collections.spo.user_profiles.plugins.module_utils.import_delta import Decision

MAP = {"cc": "CostCenter", "bld": "Building"}
FIELDS = ["cc", "bld"]
WANTED = import_baseline.mapping("mail", "email", MAP)
USERS = [("anna@x.com", ("1000", "B1")), ("bjorn@x.com", ("2000", "B2")), ("chie@x.com", ("3000", ""))]


@pytest.fixture
def baseline(tmp_path):
    writer = import_baseline.BaselineWriter(str(tmp_path / "b.gz"), WANTED)
    for record_id, values in USERS:
        writer.write(record_id, values)
    loaded = import_baseline.Baseline.load(writer.finish(), str(tmp_path), WANTED)
    yield loaded
    loaded.close()


def delta(baseline, **kw):
    return import_delta.Delta(baseline, "mail", FIELDS, **kw)


def test_unchanged_user_sends_nothing(baseline):
    assert delta(baseline).compare("ANNA@x.com", ("1000", "B1")) == Decision("unchanged", None, None, 0)


def test_added_user_sends_every_value(baseline):
    assert delta(baseline).compare("new@x.com", ["5", ""]) == Decision(
        "added", {"mail": "new@x.com", "cc": "5", "bld": ""}, None, 0)


def test_added_user_with_omit_empty_leaves_empty_values_out(baseline):
    assert delta(baseline, omit_empty=True).compare("new@x.com", ["5", ""]).record == {"mail": "new@x.com", "cc": "5"}


def test_changed_user_sends_only_the_values_that_differ(baseline):
    assert delta(baseline).compare("anna@x.com", ("1001", "B1")) == Decision(
        "changed", {"mail": "anna@x.com", "cc": "1001"}, ("1000", "B1"), 0)


def test_a_removed_value_is_kept_unless_clear_missing(baseline):
    kept = delta(baseline).compare("anna@x.com", ("1000", ""))
    assert kept == Decision("unchanged", None, ("1000", "B1"), 1)
    cleared = delta(baseline, clear_missing=True).compare("anna@x.com", ("1000", ""))
    assert cleared == Decision("cleared", {"mail": "anna@x.com", "bld": ""}, ("1000", "B1"), 0)


def test_a_change_and_a_removal_together(baseline):
    both = delta(baseline).compare("anna@x.com", ("1001", ""))
    assert both == Decision("changed", {"mail": "anna@x.com", "cc": "1001"}, ("1000", "B1"), 1)
    cleared = delta(baseline, clear_missing=True).compare("anna@x.com", ("1001", ""))
    assert cleared.status == "changed" and cleared.record == {"mail": "anna@x.com", "cc": "1001", "bld": ""}


def test_users_missing_from_the_source_are_left_alone_or_cleared(baseline):
    left = delta(baseline)
    left.compare("anna@x.com", ("1000", "B1"))
    assert list(left.missing()) == [
        ("bjorn@x.com", Decision("not_in_source", None, ("2000", "B2"), 0)),
        ("chie@x.com", Decision("not_in_source", None, ("3000", ""), 0)),
    ]


def test_clear_missing_clears_users_missing_from_the_source_but_not_the_ones_left_out(tmp_path, baseline):
    cleared = delta(baseline, clear_missing=True)
    cleared.compare("anna@x.com", ("1000", "B1"))
    cleared.seen("Bjorn@x.com")
    assert list(cleared.missing()) == [("chie@x.com", Decision("cleared", {"mail": "chie@x.com", "cc": ""}, ("3000", ""), 0))]


def test_without_a_baseline_everyone_is_added_and_nothing_is_missing():
    plain = delta(None)
    assert plain.compare("anna@x.com", ("1000", "B1")).status == "added"
    plain.seen("anna@x.com")
    assert list(plain.missing()) == []
