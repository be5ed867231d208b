# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The file helpers of the report actions (the actions themselves are tested under tests/unit/plugins/action)."""

from __future__ import annotations

import os

import pytest

from ansible.errors import AnsibleActionFail

from ansible_collections.spo.user_profiles.plugins.plugin_utils import report_files


def test_report_json_is_stable_and_keeps_non_ascii_text():
    first = report_files.report_json({"b": 1, "a": {"z": "Zoë", "y": None}})
    assert first == '{\n  "a": {\n    "y": null,\n    "z": "Zoë"\n  },\n  "b": 1\n}\n'
    assert report_files.report_json({"a": {"y": None, "z": "Zoë"}, "b": 1}) == first


def test_read_bytes_of_a_missing_file_is_none(tmp_path):
    assert report_files.read_bytes(str(tmp_path / "missing.json")) is None


def test_write_atomically_replaces_the_file_with_the_report_mode(tmp_path):
    path = tmp_path / "r.json"
    path.write_bytes(b"old")
    report_files.write_atomically(str(path), b"new")
    assert path.read_bytes() == b"new" and os.listdir(tmp_path) == ["r.json"]
    assert os.stat(path).st_mode & 0o777 == report_files.REPORT_MODE


def test_a_failed_write_leaves_the_old_file_and_no_temporary_file(tmp_path, monkeypatch):
    path = tmp_path / "r.json"
    path.write_bytes(b"old")

    def refuse(source, target):
        raise OSError("disk full")
    monkeypatch.setattr(report_files.os, "replace", refuse)
    with pytest.raises(OSError, match="disk full"):
        report_files.write_atomically(str(path), b"new")
    assert path.read_bytes() == b"old" and os.listdir(tmp_path) == ["r.json"]


def test_run_directory_is_per_run_and_apart_for_check_mode(tmp_path):
    assert report_files.run_directory(str(tmp_path), "20261207T010000Z-ab12", False) == str(tmp_path / "20261207T010000Z-ab12")
    assert report_files.run_directory(str(tmp_path), 4711, True) == str(tmp_path / "4711-check")


@pytest.mark.parametrize("name", ["", "..", ".hidden", "-dash", "a/b", "a b", "x" * 201])
def test_unsafe_names_are_refused_naming_the_option(name):
    with pytest.raises(AnsibleActionFail, match="^run_id .* is not a safe file name"):
        report_files.safe_name(name, "run_id")


@pytest.mark.parametrize("name", ["combined", "Combined", "COMBINED"])
def test_a_tenant_never_has_the_combined_reports_name_in_any_case(name):
    with pytest.raises(AnsibleActionFail, match="^tenant '%s' is the name of the run's combined report" % name):
        report_files.tenant_name(name)


@pytest.mark.parametrize("name", ["contoso", "combined-tenant", "combined.example"])
def test_other_tenant_names_are_their_own_file_names(name):
    assert report_files.tenant_name(name) == name
