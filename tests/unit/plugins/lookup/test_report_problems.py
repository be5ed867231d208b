# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The report_problems lookup: what stops a run's reports from being written, before anything is sent."""

from __future__ import annotations

import pytest

from ansible.errors import AnsibleLookupError
from ansible.parsing.dataloader import DataLoader
from ansible.template import Templar

from ansible_collections.spo.user_profiles.plugins.lookup.report_problems import LookupModule
from ansible_collections.spo.user_profiles.plugins.plugin_utils.report_files import safe_name


def lookup(terms=(), **kwargs):
    loader = DataLoader()
    return LookupModule(loader=loader, templar=Templar(loader=loader)).run(list(terms), variables={}, **kwargs)


def test_a_run_id_and_a_directory_the_reports_can_use_are_no_problem(tmp_path):
    assert lookup(dest=str(tmp_path / "reports"), run_id="20240501T101500Z-0a1b") == []
    assert not (tmp_path / "reports").exists()


def test_a_run_id_that_is_no_file_name_names_spo_run_id_with_the_report_actions_words(tmp_path):
    with pytest.raises(Exception) as refused:
        safe_name("feature/x", "spo_run_id")
    assert lookup(dest=str(tmp_path), run_id="feature/x") == [
        "%s - it names the directory of the run's reports" % str(refused.value).rstrip(".")]
    assert lookup(dest=str(tmp_path), run_id="feature/x")[0].startswith(
        "spo_run_id 'feature/x' is not a safe file name: use letters, digits")


def test_a_report_directory_that_cannot_be_made_names_the_variable_given(tmp_path):
    (tmp_path / "reports").write_text("")
    assert lookup(dest=str(tmp_path / "reports" / "spo"), run_id="r1", dest_variable="bulk_import_report_dir") == [
        "bulk_import_report_dir: %s/reports is not a directory; give a directory where the reports can be written"
        % tmp_path]


def test_both_problems_are_told_together(tmp_path):
    (tmp_path / "reports").write_text("")
    problems = lookup(dest=str(tmp_path / "reports"), run_id="../up")
    assert [problem.split(" ")[0] for problem in problems] == ["spo_run_id", "spo_report_dir:"]


def test_terms_are_refused():
    with pytest.raises(AnsibleLookupError, match="takes no terms"):
        lookup(["x"], dest="/tmp", run_id="r")


def test_unknown_and_missing_options_are_refused():
    with pytest.raises(AnsibleLookupError, match="^report_problems: unknown option[(]s[)] dir$"):
        lookup(dest="/tmp", run_id="r", dir="/tmp")
    with pytest.raises(AnsibleLookupError, match="^report_problems: give run_id$"):
        lookup(dest="/tmp", run_id="")
