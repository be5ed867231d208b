# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

import os

import pytest

from ansible_collections.spo.user_profiles.plugins.module_utils import photo_sources
from ansible_collections.spo.user_profiles.tests.unit.plugins.module_utils.test_image_pipeline import RED, Image, encode


# -- name mapping ---------------------------------------------------------------------------------

@pytest.mark.parametrize("file_name, name_format, expected", [
    ("jdoe@contoso.com.jpg", "{upn}.jpg", "jdoe@contoso.com"),
    ("jdoe@contoso.com.PNG", "{upn}.jpg", "jdoe@contoso.com"),
    ("John Doe.jpg", "{first}.{last}@contoso.com", "john.doe@contoso.com"),
    ("Zoë Anne Müller.jpeg", "{first}.{last}@contoso.com", "zoe.muller@contoso.com"),
    ("Zoë Anne Müller.jpeg", "{f}{last}@contoso.com", "zmuller@contoso.com"),
    ("Mary_O'Neil.jpg", "{first}.{last}@contoso.com", "mary.oneil@contoso.com"),
    ("jdoe.jpg", "{stem}@contoso.com", "jdoe@contoso.com"),
])
def test_upn_from_name(file_name, name_format, expected):
    assert photo_sources.upn_from_name(file_name, name_format) == expected


@pytest.mark.parametrize("file_name, name_format, message", [
    ("jdoe.jpg", "{upn}.jpg", "not a user principal name"),
    ("John Doe.jpg", "{given}@contoso.com", "unknown or bad placeholder"),
])
def test_upn_from_name_errors(file_name, name_format, message):
    with pytest.raises(ValueError) as info:
        photo_sources.upn_from_name(file_name, name_format)
    assert message in str(info.value)


def write_image(path, colour=RED, size=(64, 64)):
    path.write_bytes(encode(Image.new("RGB", size, colour), "JPEG"))
    return str(path)


def test_resolve_sources_from_directory_reports_bad_names_and_duplicates(tmp_path):
    write_image(tmp_path / "a@contoso.com.jpg")
    write_image(tmp_path / "b@contoso.com.jpg")
    write_image(tmp_path / "B@contoso.com.png")
    write_image(tmp_path / "nobody.jpg")
    (tmp_path / "readme.txt").write_text("not a photo")
    entries, problems = photo_sources.resolve_sources(src_dir=str(tmp_path))
    assert [entry["user"] for entry in entries] == ["a@contoso.com"]
    errors = sorted(problem["error"] for problem in problems)
    assert len(errors) == 2
    assert "nobody.jpg" in errors[0] and "several source files" in errors[1]


def test_resolve_sources_with_csv_mapping(tmp_path):
    photo_dir = tmp_path / "photos"
    photo_dir.mkdir()
    write_image(photo_dir / "1001.jpg")
    write_image(photo_dir / "1002.jpg")
    write_image(photo_dir / "9999.jpg")
    mapping = tmp_path / "map.csv"
    mapping.write_text("file,upn\n1001.jpg,ann@contoso.com\n1002,bob@contoso.com\n", encoding="utf-8")
    entries, problems = photo_sources.resolve_sources(src_dir=str(photo_dir), mapping=str(mapping))
    assert [(entry["user"], os.path.basename(entry["path"])) for entry in entries] == [
        ("ann@contoso.com", "1001.jpg"), ("bob@contoso.com", "1002.jpg")]
    assert len(problems) == 1 and "9999.jpg is not in the mapping" in problems[0]["error"]


def test_resolve_sources_from_list():
    entries, problems = photo_sources.resolve_sources(photos=[{"user": " x@contoso.com ", "path": "/p/x.jpg"}])
    assert entries == [{"user": "x@contoso.com", "path": "/p/x.jpg"}] and problems == []


def test_a_listed_user_that_is_no_principal_name_is_a_problem_not_a_request():
    entries, problems = photo_sources.resolve_sources(photos=[{"user": "ann@contoso.com", "path": "/p/a.jpg"},
                                                              {"user": "Bob Smith", "path": "/p/default.jpg"},
                                                              {"user": "cid@contoso", "path": "/p/default.jpg"},
                                                              {"user": "ann@b@contoso.com", "path": "/p/a.jpg"}])
    assert entries == [{"user": "ann@contoso.com", "path": "/p/a.jpg"}]
    assert [(problem["user"], problem["error"]) for problem in problems] == [
        ("Bob Smith", "'Bob Smith' is not a user principal name (name@domain); nothing was sent for it"),
        ("cid@contoso", "'cid@contoso' is not a user principal name (name@domain); nothing was sent for it"),
        ("ann@b@contoso.com", "'ann@b@contoso.com' is not a user principal name (name@domain); nothing was sent for it")]


@pytest.mark.parametrize("make, expected", [
    (lambda path: path / "none", "does not exist"),
    (lambda path: (path / "file.jpg").write_bytes(b"x") and path / "file.jpg", "is not a directory"),
])
def test_a_src_dir_that_is_no_directory_is_named(tmp_path, make, expected):
    src_dir = make(tmp_path)
    with pytest.raises(ValueError, match="src_dir: %s %s" % (src_dir, expected)):
        photo_sources.resolve_sources(src_dir=str(src_dir))
