# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

import errno
import os

from ansible_collections.spo.user_profiles.plugins.module_utils import local_paths


def refuse_mkdtemp(monkeypatch, number):
    def mkdtemp(**kwargs):
        raise OSError(number, os.strerror(number))
    monkeypatch.setattr(local_paths.tempfile, "mkdtemp", mkdtemp)


def test_a_directory_that_exists_or_can_be_made_has_no_problem_and_nothing_is_left_behind(tmp_path):
    assert local_paths.directory_problem(str(tmp_path)) is None
    assert local_paths.directory_problem(str(tmp_path / "a" / "b")) is None
    assert os.listdir(str(tmp_path)) == []


def test_a_file_where_a_directory_belongs_is_named(tmp_path):
    (tmp_path / "a").write_text("")
    assert local_paths.directory_problem(str(tmp_path / "a" / "b")) == "%s/a is not a directory" % tmp_path
    assert local_paths.directory_problem(str(tmp_path / "a")) == "%s/a is not a directory" % tmp_path


def test_a_directory_that_cannot_be_made_names_the_first_missing_one(tmp_path, monkeypatch):
    # As /proc refuses a new directory even to root.
    refuse_mkdtemp(monkeypatch, errno.ENOENT)
    assert local_paths.directory_problem(str(tmp_path / "a" / "b")) == (
        "%s/a cannot be created (No such file or directory)" % tmp_path)


def test_a_directory_that_cannot_be_written_to_is_named(tmp_path, monkeypatch):
    refuse_mkdtemp(monkeypatch, errno.EACCES)
    assert local_paths.directory_problem(str(tmp_path)) == "%s cannot be written to (Permission denied)" % tmp_path


def test_a_relative_path_is_tried_where_it_points(tmp_path, monkeypatch):
    monkeypatch.chdir(str(tmp_path))
    (tmp_path / "a").write_text("")
    assert local_paths.directory_problem("a/b") == "%s/a is not a directory" % tmp_path
