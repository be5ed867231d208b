# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

import gzip
import json

import pytest

from ansible_collections.spo.user_profiles.plugins.module_utils import import_baseline
from ansible_collections.spo.user_profiles.plugins.module_utils.errors import SpoError
from ansible_collections.spo.user_profiles.plugins.module_utils.import_writer import name_pattern
from ansible_collections.spo.user_profiles.tests.unit.plugins.module_utils.test_files import FakeSharePoint, SITE

FOLDER = "/Shared Documents/ProfileImport"
MAP = {"cc": "CostCenter", "bld": "Building"}
WANTED = import_baseline.mapping("mail", "email", MAP)


def write_baseline(path, users, header=None):
    writer = import_baseline.BaselineWriter(str(path), header or WANTED)
    for record_id, values in users:
        writer.write(record_id, values)
    return writer.finish()


def write_lines(path, lines):
    with gzip.open(str(path), "wb") as handle:
        for line in lines:
            handle.write((line if isinstance(line, str) else json.dumps(line)).encode("utf-8") + b"\n")
    return str(path)


def load(tmp_path, path, wanted=None):
    return import_baseline.Baseline.load(str(path), str(tmp_path), wanted or WANTED)


def test_round_trip_finds_users_without_case_and_reads_their_values(tmp_path):
    path = write_baseline(tmp_path / "b.gz", [("Anna@X.com", ("1000", "B1")), ("bjorn@x.com", ("2000", ""))])
    baseline = load(tmp_path, path)
    assert baseline.users == 2
    slot = baseline.find(import_baseline.user_key(" anna@x.com "))
    assert baseline.entry(slot) == ("Anna@X.com", ("1000", "B1"))
    assert baseline.match(" ANNA@x.com", ["1000", "B1"]) == (slot, True)
    assert baseline.match("anna@x.com", ("1001", "B1")) == (slot, False)
    assert baseline.find("nobody@x.com") is None and baseline.match("nobody@x.com", ("1", "2")) == (None, False)
    assert list(baseline.unseen()) == [("bjorn@x.com", ("2000", ""))]
    baseline.close()


def test_values_follow_the_current_field_order_when_the_map_is_the_same(tmp_path):
    header = dict(WANTED, fields=["bld", "cc"])
    path = write_baseline(tmp_path / "b.gz", [("anna@x.com", ("B1", "1000"))], header=header)
    baseline = load(tmp_path, path)
    assert baseline.entry(baseline.find("anna@x.com"))[1] == ("1000", "B1")
    assert baseline.match("anna@x.com", ("1000", "B1")) == (0, True)


@pytest.mark.parametrize("change, words", [
    ({"property_map": {"cc": "CostCenter"}}, r"^was recorded with another mapping: bld -> Building \(no longer mapped\)$"),
    ({"id_type": "principal_name"}, r"^was recorded with another mapping: id type email \(now principal_name\)$"),
    ({"id_property": "upn"}, r"^was recorded with another mapping: id property mail \(now upn\)$"),
])
def test_another_mapping_means_mapping_changed(tmp_path, change, words):
    path = write_baseline(tmp_path / "b.gz", [("anna@x.com", ("1000", "B1"))])
    wanted = dict(WANTED, **change)
    wanted["fields"] = import_baseline.mapped_fields(wanted["id_property"], wanted["property_map"])
    with pytest.raises(import_baseline.BaselineUnusable, match=words) as caught:
        load(tmp_path, path, wanted)
    assert caught.value.mapping_changed


def test_a_mapping_change_is_told_field_by_field_in_words_not_as_python_values(tmp_path):
    path = write_baseline(tmp_path / "b.gz", [("anna@x.com", ("1000", "B1"))])
    wanted = import_baseline.mapping("upn", "principal_name", {"cc": "CostCentre", "dept": "Department"})
    with pytest.raises(import_baseline.BaselineUnusable) as caught:
        load(tmp_path, path, wanted)
    assert str(caught.value) == (
        "was recorded with another mapping: id property mail (now upn), id type email (now principal_name), "
        "bld -> Building (no longer mapped), cc -> CostCenter (now CostCentre), dept -> Department (added)")


def test_a_truncated_file_is_unusable(tmp_path):
    path = write_baseline(tmp_path / "b.gz", [("u%d@x.com" % i, ("%d" % i, "B")) for i in range(2000)])
    data = (tmp_path / "b.gz").read_bytes()
    (tmp_path / "b.gz").write_bytes(data[:len(data) // 2])
    with pytest.raises(import_baseline.BaselineUnusable, match="not a complete gzip file") as caught:
        load(tmp_path, path)
    assert not caught.value.mapping_changed


@pytest.mark.parametrize("lines, words", [
    (["not json"], "line 1 is not JSON"),
    ([{"format": "something else"}], "not a baseline of this collection"),
    ([dict(WANTED, version=99)], "format version 99"),
    ([WANTED, ["a@x.com", "1"], {"users": 1}], "line 2 is not a user of 2 values"),
    ([WANTED, ["a@x.com", "1", {"x": 1}], {"users": 1}], "line 2 holds a value that is not text"),
    ([WANTED, [7, "1", "2"], {"users": 1}], "line 2 holds a value that is not text"),
    ([WANTED, ["a@x.com", "1", "2"], ["A@x.com", "1", "2"], {"users": 2}], "line 3 repeats the user"),
    ([WANTED, ["a@x.com", "1", "2"]], "end line is missing"),
    ([WANTED, ["a@x.com", "1", "2"], {"users": 5}], "does not count its 1 users"),
    ([WANTED, {"users": 0}, ["a@x.com", "1", "2"]], "line 3 follows the end line"),
    ([dict(WANTED, fields=["cc"])], "do not match its property map"),
])
def test_damaged_content_is_unusable_and_says_where(tmp_path, lines, words):
    path = write_lines(tmp_path / "b.gz", lines)
    with pytest.raises(import_baseline.BaselineUnusable, match=words):
        load(tmp_path, path)


def test_read_baseline_statuses(tmp_path):
    sp = FakeSharePoint()
    sp.folders.add(FOLDER)
    baseline, info = import_baseline.read_baseline(sp, SITE, FOLDER, "hr", str(tmp_path), WANTED)
    assert baseline is None and info == {"file": FOLDER + "/hr-baseline.jsonl.gz", "status": "absent", "users": 0,
                                         "message": None}

    sp.files[FOLDER + "/hr-baseline.jsonl.gz"] = open(write_baseline(tmp_path / "b.gz", [("a@x.com", ("1", "2"))]), "rb").read()
    baseline, info = import_baseline.read_baseline(sp, SITE, FOLDER, "hr", str(tmp_path), WANTED)
    assert info["status"] == "used" and info["users"] == 1 and baseline.find("a@x.com") == 0

    other = import_baseline.mapping("mail", "email", {"cc": "CostCenter"})
    baseline, info = import_baseline.read_baseline(sp, SITE, FOLDER, "hr", str(tmp_path), other)
    assert baseline is None and info["status"] == "mapping_changed"
    assert info["message"] == ("the baseline %s/hr-baseline.jsonl.gz was recorded with another mapping: "
                               "bld -> Building (no longer mapped)" % FOLDER)

    sp.files[FOLDER + "/hr-baseline.jsonl.gz"] = b"\x1f\x8b garbage"
    baseline, info = import_baseline.read_baseline(sp, SITE, FOLDER, "hr", str(tmp_path), WANTED)
    assert baseline is None and info["status"] == "unusable" and "cannot be used" in info["message"]


def test_save_uploads_under_a_temporary_name_then_moves_it_over_the_old_one(tmp_path):
    sp = FakeSharePoint()
    sp.files[FOLDER + "/hr-baseline.jsonl.gz"] = b"old"
    path = write_baseline(tmp_path / "new.gz", [("a@x.com", ("1", "2"))])
    url = import_baseline.save_baseline(sp, SITE, FOLDER, "hr", path)
    assert url == FOLDER + "/hr-baseline.jsonl.gz"
    assert sp.files == {url: open(path, "rb").read()}
    uploads = [tail for method, tail in sp.calls if "/Files/add(" in tail]
    moves = [tail for method, tail in sp.calls if "/moveTo(" in tail]
    assert len(uploads) == 1 and ".tmp'" in uploads[0] and "hr-baseline.jsonl.gz." in uploads[0]
    assert len(moves) == 1 and moves[0].endswith(",flags=1)")
    assert sp.calls.index(("POST", moves[0])) > sp.calls.index(("POST", uploads[0]))


@pytest.mark.parametrize("interrupted", ["upload_file", "move_file"])
def test_an_interrupted_save_leaves_the_old_baseline_whole_and_no_temporary_file(tmp_path, monkeypatch, interrupted):
    sp = FakeSharePoint()
    sp.files[FOLDER + "/hr-baseline.jsonl.gz"] = b"old"
    path = write_baseline(tmp_path / "new.gz", [("a@x.com", ("1", "2"))])

    def cut(*args, **kwargs):
        raise SpoError("connection reset", operation=interrupted)
    monkeypatch.setattr(import_baseline.files, interrupted, cut)
    with pytest.raises(SpoError):
        import_baseline.save_baseline(sp, SITE, FOLDER, "hr", path)
    assert sp.files == {FOLDER + "/hr-baseline.jsonl.gz": b"old"}


def test_remove(tmp_path):
    sp = FakeSharePoint()
    sp.files[FOLDER + "/hr-baseline.jsonl.gz"] = b"x"
    assert import_baseline.remove_baseline(sp, SITE, FOLDER, "hr") is True
    assert import_baseline.remove_baseline(sp, SITE, FOLDER, "hr") is False


def test_the_baseline_name_is_never_an_import_file_name():
    assert not name_pattern("hr").match(import_baseline.baseline_name("hr"))
