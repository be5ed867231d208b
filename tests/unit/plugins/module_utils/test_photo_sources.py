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
    _entries, problems = photo_sources.resolve_sources(src_dir=str(tmp_path))
    assert problems == ["nobody.jpg maps to 'nobody', which is not a user principal name (name@domain)",
                        "B@contoso.com is given several photos: B@contoso.com.png, b@contoso.com.jpg; "
                        "a user has one photo"]


def test_resolve_sources_with_csv_mapping(tmp_path):
    photo_dir = tmp_path / "photos"
    photo_dir.mkdir()
    write_image(photo_dir / "1001.jpg")
    write_image(photo_dir / "1002.jpg")
    mapping = tmp_path / "map.csv"
    mapping.write_text("file,upn\n1001.jpg,ann@contoso.com\n1002,bob@contoso.com\n", encoding="utf-8")
    entries, problems = photo_sources.resolve_sources(src_dir=str(photo_dir), mapping=str(mapping))
    assert [(entry["user"], os.path.basename(entry["path"])) for entry in entries] == [
        ("ann@contoso.com", "1001.jpg"), ("bob@contoso.com", "1002.jpg")]
    assert problems == []


def test_resolve_sources_from_list():
    entries, problems = photo_sources.resolve_sources(photos=[{"user": "x@contoso.com", "path": "/p/x.jpg"}])
    assert entries == [{"user": "x@contoso.com", "path": "/p/x.jpg"}] and problems == []


@pytest.mark.parametrize("user, problem", [
    (" x@contoso.com ", "starts or ends with a space: a user principal name has none"),
    ("x@contoso.com\u200b", "holds U+200B (ZERO WIDTH SPACE) at character 14: a user principal name has no invisible"),
    ("x\u00a0y@contoso.com", "holds U+00A0 (NO-BREAK SPACE) at character 2"),
    ("\ufeffx@contoso.com", "holds U+FEFF (ZERO WIDTH NO-BREAK SPACE) at character 1"),
])
def test_a_listed_user_with_spaces_at_its_ends_or_invisible_characters_is_refused_not_trimmed(user, problem):
    """As user_profile_property and user_profile_info refuse it: the user it looks like is another one."""
    entries, problems = photo_sources.resolve_sources(photos=[{"user": user, "path": "/p/x.jpg"}])
    assert entries == [] and len(problems) == 1 and problems[0].startswith("photos[0]: %r " % user)
    assert problem in problems[0]


@pytest.mark.parametrize("user, problem", [
    ("x@contoso.com\u200b", "holds U+200B (ZERO WIDTH SPACE) at character 14: a user principal name has no invisible"),
    ("x\u00a0y@contoso.com", "holds U+00A0 (NO-BREAK SPACE) at character 2"),
    ("\ufeffx@contoso.com", "holds U+FEFF (ZERO WIDTH NO-BREAK SPACE) at character 1"),
])
def test_a_mapped_user_with_invisible_characters_is_refused_naming_its_line(photo_dir, user, problem):
    entries, problems = mapped(photo_dir, "file,upn\nann.jpg,%s\nbob.jpg,bob@contoso.com\ncat.png,cat@contoso.com\n" % user)
    assert entries == [] and len(problems) == 1 and problems[0].startswith("map.csv line 2: %r " % user)
    assert problem in problems[0]


def test_a_file_named_after_a_user_with_an_invisible_character_is_refused(tmp_path):
    write_image(tmp_path / "ann@contoso.com\u200b.jpg")
    entries, problems = photo_sources.resolve_sources(src_dir=str(tmp_path))
    assert entries == [] and problems == [
        "ann@contoso.com\u200b.jpg maps to %r, which holds U+200B (ZERO WIDTH SPACE) at character 16: a user principal "
        "name has no invisible characters" % "ann@contoso.com\u200b"]


def test_spaces_around_the_cells_of_a_mapping_are_its_layout(photo_dir):
    assert mapped(photo_dir, " File , UPN \nann.jpg, ann@contoso.com\nbob.jpg ,bob@contoso.com\ncat.png,cat@contoso.com\n") == (
        [("ann@contoso.com", "ann.jpg"), ("bob@contoso.com", "bob.jpg"), ("cat@contoso.com", "cat.png")], [])


def test_a_mapping_row_that_matches_two_files_apart_only_by_spaces_is_refused(photo_dir):
    write_image(photo_dir / " ann.jpg")
    _entries, problems = mapped(photo_dir, "file,upn\nann.jpg,ann@contoso.com\nbob.jpg,bob@contoso.com\ncat.png,cat@contoso.com\n")
    assert problems == ["map.csv line 2: matches several files,  ann.jpg, ann.jpg (file names are compared without "
                        "regard to case or to spaces at their ends); name one"]


def test_a_mapping_row_with_a_file_name_of_spaces_is_refused(photo_dir):
    assert mapped(photo_dir, "file,upn\n  ,ann@contoso.com\n")[1] == ["map.csv line 2: the file name is empty"]


def test_a_listed_user_that_is_no_principal_name_is_a_problem_naming_its_entry():
    _entries, problems = photo_sources.resolve_sources(photos=[{"user": "ann@contoso.com", "path": "/p/a.jpg"},
                                                               {"user": "Bob Smith", "path": "/p/default.jpg"},
                                                               {"user": "cid@contoso", "path": "/p/default.jpg"},
                                                               {"user": "ann@b@contoso.com", "path": "/p/a.jpg"}])
    assert problems == ["photos[1]: 'Bob Smith' is not a user principal name (name@domain)",
                        "photos[2]: 'cid@contoso' is not a user principal name (name@domain)",
                        "photos[3]: 'ann@b@contoso.com' is not a user principal name (name@domain)"]


def test_a_listed_user_in_two_entries_is_a_problem_naming_both():
    _entries, problems = photo_sources.resolve_sources(photos=[{"user": "ann@contoso.com", "path": "/p/a.jpg"},
                                                               {"user": "bob@contoso.com", "path": "/p/a.jpg"},
                                                               {"user": "ANN@contoso.com", "path": "/p/a.jpg"}])
    assert problems == ["ann@contoso.com is given several photos: photos[0], photos[2]; a user has one photo"]


def shared_thumbnails(account):
    return ("would share the SharePoint thumbnails %s_SThumb.jpg, _MThumb.jpg and _LThumb.jpg (named after the user "
            "principal name with \"@\" and \".\" replaced by \"_\"), all of them showing the photo sent last; send all "
            "but one of them with targets: [graph]" % account)


SHARED_THUMBNAILS = shared_thumbnails("a_b_contoso_com")


def test_listed_users_whose_thumbnails_would_be_the_same_files_are_a_problem_naming_them():
    photos = [{"user": "a.b@contoso.com", "path": "/p/red.jpg"}, {"user": "ann@contoso.com", "path": "/p/a.jpg"},
              {"user": "A_b@contoso.com", "path": "/p/blue.jpg"}, {"user": "j.d_x@contoso.com", "path": "/p/c.jpg"},
              {"user": "j_d.x@contoso.com", "path": "/p/c.jpg"}, {"user": "j.d.x@contoso.com", "path": "/p/c.jpg"}]
    _entries, problems = photo_sources.resolve_sources(photos=photos, thumbnails=True)
    assert problems == ["a.b@contoso.com (photos[0]) and A_b@contoso.com (photos[2]) " + SHARED_THUMBNAILS,
                        "j.d_x@contoso.com (photos[3]), j_d.x@contoso.com (photos[4]) and j.d.x@contoso.com (photos[5]) "
                        + shared_thumbnails("j_d_x_contoso_com")]
    # Graph only, or removing them: no thumbnail is written
    assert photo_sources.resolve_sources(photos=photos)[1] == []


def test_a_user_given_two_photos_is_not_also_said_to_share_thumbnails_with_itself():
    _entries, problems = photo_sources.resolve_sources(photos=[{"user": "ann@contoso.com", "path": "/p/a.jpg"},
                                                               {"user": "ANN@contoso.com", "path": "/p/b.jpg"}],
                                                       thumbnails=True)
    assert problems == ["ann@contoso.com is given several photos: photos[0], photos[1]; a user has one photo"]


def test_files_named_after_users_whose_thumbnails_would_be_the_same_files_are_a_problem(tmp_path):
    write_image(tmp_path / "a.b@contoso.com.jpg")
    write_image(tmp_path / "a_b@contoso.com.jpg")
    _entries, problems = photo_sources.resolve_sources(src_dir=str(tmp_path), thumbnails=True)
    assert problems == ["a.b@contoso.com (a.b@contoso.com.jpg) and a_b@contoso.com (a_b@contoso.com.jpg) "
                        + SHARED_THUMBNAILS]


def test_with_need_files_a_listed_path_must_be_a_file(tmp_path):
    photo = write_image(tmp_path / "ann.jpg")
    photos = [{"user": "ann@contoso.com", "path": photo}, {"user": "bob@contoso.com", "path": str(tmp_path / "none.jpg")},
              {"user": "cid@contoso.com", "path": str(tmp_path)}]
    _entries, problems = photo_sources.resolve_sources(photos=photos, need_files=True)
    assert problems == ["photos[1].path: %s does not exist" % (tmp_path / "none.jpg"),
                        "photos[2].path: %s is not a file" % tmp_path]
    # state=absent: the paths are not read
    assert photo_sources.resolve_sources(photos=photos)[1] == []


@pytest.mark.parametrize("make, expected", [
    (lambda path: path / "none", "does not exist"),
    (lambda path: (path / "file.jpg").write_bytes(b"x") and path / "file.jpg", "is not a directory"),
])
def test_a_src_dir_that_is_no_directory_is_named(tmp_path, make, expected):
    src_dir = make(tmp_path)
    with pytest.raises(ValueError, match="src_dir: %s %s" % (src_dir, expected)):
        photo_sources.resolve_sources(src_dir=str(src_dir))


def test_a_bad_name_format_is_one_problem_not_one_per_file():
    assert photo_sources.name_format_problem("{first}.{last}@contoso.com") is None
    assert photo_sources.name_format_problem("{login}@contoso.com").startswith(
        "name_format '{login}@contoso.com': unknown or bad placeholder ({login}); use {f}, {first}")


@pytest.mark.parametrize("name_format, placeholder", [
    ("{upn.real}@contoso.com.jpg", "{upn.real}"),
    ("{upn[x]}.jpg", "{upn[x]}"),
    ("{upn[0]}.jpg", "{upn[0]}"),
    ("{first!r}@contoso.com", "{first!r}"),
    ("{first:.1}{last}@contoso.com", "{first:.1}"),
    ("{}@contoso.com", "{}"),
])
def test_a_placeholder_that_is_no_plain_field_is_refused_not_evaluated(name_format, placeholder):
    assert photo_sources.name_format_problem(name_format) == (
        "name_format %r: unknown or bad placeholder (%s); use {f}, {first}, {l}, {last}, {middle}, {stem}, {upn}"
        % (name_format, placeholder))


# -- the mapping CSV ------------------------------------------------------------------------------

@pytest.fixture
def photo_dir(tmp_path):
    photos = tmp_path / "photos"
    photos.mkdir()
    for name in ("ann.jpg", "bob.jpg", "cat.png"):
        write_image(photos / name)
    return photos


def mapped(photo_dir, text, thumbnails=False):
    """(user, file name) of each entry, and the problems (the mapping file's path written as map.csv)."""
    mapping = photo_dir.parent / "map.csv"
    mapping.write_bytes(text if isinstance(text, bytes) else text.encode("utf-8"))
    entries, problems = photo_sources.resolve_sources(src_dir=str(photo_dir), mapping=str(mapping), thumbnails=thumbnails)
    return ([(entry["user"], os.path.basename(entry["path"])) for entry in entries],
            [problem.replace(str(mapping), "map.csv") for problem in problems])


@pytest.mark.parametrize("second", ["ann.jpg", "ANN.JPG", "ann"])
def test_a_file_on_two_rows_goes_to_both_users(photo_dir, second):
    entries, problems = mapped(photo_dir, "ann.jpg,ann@contoso.com\n%s,zed@contoso.com\nbob.jpg,bob@contoso.com\n"
                                          "cat.png,cat@contoso.com\n" % second)
    assert problems == []
    assert entries == [("ann@contoso.com", "ann.jpg"), ("bob@contoso.com", "bob.jpg"), ("cat@contoso.com", "cat.png"),
                       ("zed@contoso.com", "ann.jpg")]


def test_mapped_users_whose_thumbnails_would_be_the_same_files_are_a_problem_naming_their_lines(photo_dir):
    text = "ann.jpg,a.b@contoso.com\nbob.jpg,bob@contoso.com\ncat.png,a_b@contoso.com\n"
    assert mapped(photo_dir, text, thumbnails=True)[1] == [
        "a.b@contoso.com (map.csv line 1) and a_b@contoso.com (map.csv line 3) " + SHARED_THUMBNAILS]


@pytest.mark.parametrize("second", ["bob.jpg,ANN@contoso.com", "ann.jpg,ann@contoso.com"])
def test_a_user_on_two_rows_is_refused_naming_both_lines(photo_dir, second):
    _entries, problems = mapped(photo_dir, "file,upn\nann.jpg,ann@contoso.com\n%s\ncat.png,cat@contoso.com\n" % second)
    user = second.split(",")[1]
    assert problems == ["map.csv line 3: %s already has a photo at line 2; a user has one photo" % user]


@pytest.mark.parametrize("text, problem", [
    ("ann.jpg,ann@contoso.com\nbob.jpg,notaupn\n", "map.csv line 2: 'notaupn' is not a user principal name (name@domain)"),
    ("ann.jpg,ann@contoso.com\nbob.jpg,a\u00a0b@contoso.com\n",
     "map.csv line 2: 'a\\xa0b@contoso.com' holds U+00A0 (NO-BREAK SPACE) at character 2: a user principal name has no "
     "invisible characters"),
    ("ann.jpg,ann@contoso.com\ncat.png,cat@contoso.com,extra\n",
     "map.csv line 2: expected two columns, file name and UPN, not 3 (quote a file name that holds a comma)"),
    ("ann.jpg,ann@contoso.com\nSmith, John.jpg,smith@contoso.com\n",
     "map.csv line 2: expected two columns, file name and UPN, not 3 (quote a file name that holds a comma)"),
    ("ann.jpg,ann@contoso.com\nbob.jpg\n", "map.csv line 2: expected two columns, file name and UPN, not 1"),
    ("ann.jpg,ann@contoso.com\n,bob@contoso.com\n", "map.csv line 2: the file name is empty"),
    # a first row is a header only when it is file,upn: any other is a mapping, checked like the others
    ("ann.jpg,annx.com\nbob.jpg,bob@contoso.com\n",
     "map.csv line 1: 'annx.com' is not a user principal name (name@domain); a header row is file,upn"),
    ("file name,user\nbob.jpg,bob@contoso.com\n",
     "map.csv line 1: 'user' is not a user principal name (name@domain); a header row is file,upn"),
])
def test_a_bad_row_is_refused_naming_its_line(photo_dir, text, problem):
    assert mapped(photo_dir, text)[1] == [problem]


def test_every_bad_row_is_named_and_files_are_matched_only_against_a_whole_mapping(photo_dir):
    _entries, problems = mapped(photo_dir, "file,upn\nann.jpg,ann@contoso.com\nbob.jpg,notaupn\ncat.png,cat@contoso.com,x\n")
    assert problems == ["map.csv line 3: 'notaupn' is not a user principal name (name@domain)",
                        "map.csv line 4: expected two columns, file name and UPN, not 3 (quote a file name that holds a "
                        "comma)"]


@pytest.mark.parametrize("header", ["file,upn", "File,UPN", "\ufefffile,upn", " file , upn "])
def test_the_header_row_is_skipped(photo_dir, header):
    entries, problems = mapped(photo_dir, "%s\nann.jpg,ann@contoso.com\nbob.jpg,bob@contoso.com\ncat,cat@contoso.com\n"
                               % header)
    assert problems == [] and len(entries) == 3


def test_without_a_header_the_first_row_is_a_mapping(photo_dir):
    entries, problems = mapped(photo_dir, "ann.jpg,ann@contoso.com\r\n\r\nbob.jpg,bob@contoso.com\r\ncat,cat@contoso.com")
    assert problems == [] and entries[0] == ("ann@contoso.com", "ann.jpg")


def test_lines_are_the_file_s_lines_not_its_records(photo_dir):
    _entries, problems = mapped(photo_dir, 'file,upn\n"ann\n.jpg",ann@contoso.com\nbob.jpg\n')
    assert problems == ["map.csv line 2: a quoted value runs over lines 2 to 3",
                        "map.csv line 4: expected two columns, file name and UPN, not 1"]


def test_a_quote_that_never_closes_is_named(photo_dir):
    _entries, problems = mapped(photo_dir, 'ann.jpg,ann@contoso.com\n"bob.jpg,bob@contoso.com\ncat.png,cat@contoso.com\n')
    assert problems == ["map.csv line 2: a quoted value runs over lines 2 to 3"]


@pytest.mark.parametrize("data, line", [
    ("file,upn\nann.jpg,M\u00fcller@contoso.com\n".encode("latin-1"), 2),
    ("file,upn\r\nann.jpg,ann@contoso.com\r\nbob.jpg,J\u00f6rg@contoso.com\r\n".encode("latin-1"), 3),
    ("file,upn\rann.jpg,ann@contoso.com\rbob.jpg,J\u00f6rg@contoso.com\r".encode("latin-1"), 3),
    ("file,upn\n".encode("utf-16"), 1),
])
def test_a_mapping_that_is_not_utf8_is_named_with_its_line(photo_dir, data, line):
    _entries, problems = mapped(photo_dir, data)
    assert len(problems) == 1
    assert problems[0].startswith("map.csv line %d: not UTF-8 text (byte 0x" % line)
    assert problems[0].endswith("); save the mapping file as UTF-8")


def test_files_not_in_the_mapping_are_refused_and_rows_without_a_file_are_not(photo_dir):
    _entries, problems = mapped(photo_dir, "ann.jpg,ann@contoso.com\ndone.jpg,dan@contoso.com\n")
    assert problems == ["bob.jpg is not in the mapping file map.csv", "cat.png is not in the mapping file map.csv"]


def test_a_row_that_matches_several_files_is_refused(photo_dir):
    write_image(photo_dir / "ann.png")
    _entries, problems = mapped(photo_dir, "ann,ann@contoso.com\nbob.jpg,bob@contoso.com\ncat.png,cat@contoso.com\n")
    assert problems == ["map.csv line 1: matches several files, ann.jpg, ann.png (file names are compared without "
                        "regard to case or to spaces at their ends); name one"]


def test_file_names_that_differ_only_in_case_are_one_name_for_the_mapping(photo_dir):
    write_image(photo_dir / "ANN.JPG")
    if len(os.listdir(str(photo_dir))) != 4:
        pytest.skip("the file system does not tell names apart by case")
    _entries, problems = mapped(photo_dir, "ann.jpg,ann@contoso.com\nbob.jpg,bob@contoso.com\ncat.png,cat@contoso.com\n")
    assert problems == ["map.csv line 1: matches several files, ANN.JPG, ann.jpg (file names are compared without "
                        "regard to case or to spaces at their ends); name one"]


def test_file_names_are_compared_in_one_unicode_form(photo_dir):
    write_image(photo_dir / "Zoe\u0308.jpg")  # decomposed, as copied from macOS
    entries, problems = mapped(photo_dir, "ann.jpg,ann@contoso.com\nbob.jpg,bob@contoso.com\ncat.png,cat@contoso.com\n"
                                          "Zo\u00eb.jpg,zoe@contoso.com\n")
    assert problems == [] and ("zoe@contoso.com", "Zoe\u0308.jpg") in entries


def test_the_refusal_names_the_first_problems_and_counts_all():
    message = photo_sources.refusal_message(["problem %d" % number for number in range(25)])
    assert message.startswith("25 problem(s) in the photo sources, nothing was sent: problem 0; problem 1; ")
    assert message.endswith("; problem 19; and 5 more")
