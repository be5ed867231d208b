# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

import codecs
import json
import os

import jsonschema
import pytest
from hypothesis import given, settings, strategies as st

from ansible_collections.spo.user_profiles.plugins.module_utils import import_delta, import_validation, import_writer
from ansible_collections.spo.user_profiles.tests.unit.plugins.module_utils.test_import_build import (
    build, messages, read_back, user_records,
)


def test_text_invalid_in_declared_encoding(tmp_path):
    path = tmp_path / "bad.csv"
    path.write_bytes(b"upn,City,Office\na@x.com,ok,1\nb@x.com,M\xfcller,1\n")
    result = build(tmp_path, src=str(path))
    assert messages(result) == ["record 2, line 3, field 'City': byte 0xFC is not valid utf-8 text: the source is in another encoding; set encoding"]


def test_escaping_bom_and_strings(tmp_path):
    values = ['say "hi"', "C:\\wx\\new", "tab\there\nnl\r", "Müller Øresund 東京 😀", True, 12]
    records = [{"upn": "u%d@x.com" % i, "City": value, "Office": "o"} for i, value in enumerate(values)]
    result = build(tmp_path, records=records)
    path = result["files"][0]["path"]
    raw = open(path, "rb").read()
    assert raw.startswith(codecs.BOM_UTF8 + b'{"value":[')
    assert "Müller Øresund 東京".encode("utf-8") in raw
    expected = ['say "hi"', "C:\\wx\\new", "tab\there\nnl\r", "Müller Øresund 東京 😀", "true", "12"]
    assert [record["City"] for record in read_back(path)] == expected
    jsonschema.validate(json.loads(raw[3:].decode("utf-8")), import_validation.IMPORT_FILE_SCHEMA)
    assert result["files"][0]["bytes"] == len(raw)


def test_the_writer_escapes_every_control_character(tmp_path):
    # The checks refuse most controls before a record gets here; the writer still writes any text as valid JSON.
    text = "".join(map(chr, range(0x20))) + "\x7f\x85"
    data = import_writer.ImportFileWriter(str(tmp_path)).encode({"upn": "a@x.com", "City": text})
    assert json.loads(data.decode("utf-8")) == {"upn": "a@x.com", "City": text}


def test_split_exactly_at_max_properties(tmp_path):
    result = build(tmp_path, records=user_records(7), max_properties=6)
    assert [f["records"] for f in result["files"]] == [2, 2, 2, 1]
    assert [f["properties"] for f in result["files"]] == [6, 6, 6, 3]
    assert [f["name"] for f in result["files"]][0].endswith("-part1.json")
    assert sum((read_back(f["path"]) for f in result["files"]), []) == user_records(7)


def test_split_exactly_at_max_bytes(tmp_path):
    single = build(tmp_path, prefix="one", records=user_records(3))["files"][0]
    limit = single["bytes"]
    exact = build(tmp_path, prefix="exact", records=user_records(3), max_bytes=limit)
    assert [f["records"] for f in exact["files"]] == [3]
    under = build(tmp_path, prefix="under", records=user_records(3), max_bytes=limit - 1)
    assert [f["records"] for f in under["files"]] == [2, 1]
    assert all(f["bytes"] <= limit - 1 for f in under["files"])
    assert all(os.path.getsize(f["path"]) == f["bytes"] for f in under["files"])


def test_record_larger_than_a_file_is_a_problem(tmp_path):
    result = build(tmp_path, records=user_records(1), max_bytes=30)
    assert result["problem_count"] == 1 and result["files"] == []


def test_names_are_content_addressed(tmp_path):
    first = build(tmp_path / "..", prefix="hr", records=user_records(2))["files"][0]
    second = build(tmp_path, prefix="hr", records=user_records(2))["files"][0]
    other = build(tmp_path, prefix="hr", records=user_records(3))["files"][0]
    assert first["name"] == second["name"] == "hr-%s.json" % first["sha256"][:16]
    assert other["name"] != first["name"]
    assert import_writer.name_pattern("hr").match(first["name"]) and not import_writer.name_pattern("h").match(first["name"])


# the writer on its own ---------------------------------------------------------------------------------------------

def add(writer, record):
    """A record written as the build writes one: encoded, then added."""
    return writer.add_encoded(writer.encode(record), len(record))


def test_the_writer_refuses_a_record_larger_than_a_file_and_writes_nothing_of_it(tmp_path):
    writer = import_writer.ImportFileWriter(str(tmp_path), max_bytes=40)
    assert add(writer, {"upn": "a@x.com"}) is True
    assert add(writer, {"upn": "b@x.com", "City": "a long value that does not fit"}) is False
    files = writer.finish("w")
    assert (writer.records, writer.properties) == (1, 1)
    assert [read_back(f["path"]) for f in files] == [[{"upn": "a@x.com"}]]


def test_encode_names_the_field_utf8_cannot_carry(tmp_path):
    writer = import_writer.ImportFileWriter(str(tmp_path))
    with pytest.raises(import_writer.UnencodableText) as info:
        add(writer, {"upn": "a@x.com", "City": "M\udcfcller"})
    assert info.value.field == "City"
    assert writer.records == 0


def test_finish_names_the_parts_by_content_and_discard_removes_them(tmp_path):
    writer = import_writer.ImportFileWriter(str(tmp_path), max_properties=2)
    for record in user_records(2):
        add(writer, {"upn": record["upn"], "City": record["City"]})
    files = writer.finish("hr")
    assert [f["name"] for f in files] == [import_writer.file_name("hr", f["sha256"], index) for index, f in enumerate(files, 1)]
    assert sorted(os.listdir(str(tmp_path))) == sorted(f["name"] for f in files)
    other = tmp_path / "other"
    other.mkdir()
    unfinished = import_writer.ImportFileWriter(str(other))
    add(unfinished, {"upn": "z@x.com"})
    assert os.listdir(str(other)) == ["import-part-1.json"]
    unfinished.discard()
    assert os.listdir(str(other)) == []


@pytest.mark.parametrize("max_properties, max_bytes, expected", [
    (500000, 2 * 1024 ** 3, []),
    (1, 1, []),
    (0, 100, ["max_properties: 0; give 1 to 500000 (the service's limit per file)"]),
    (500001, 0, ["max_properties: 500001; give 1 to 500000 (the service's limit per file)",
                 "max_bytes: 0; give 1 to 2147483648 (the service's limit of 2 GB per file)"]),
])
def test_limits_may_not_pass_the_services(max_properties, max_bytes, expected):
    assert list(import_writer.limit_problems(max_properties, max_bytes)) == expected


def test_a_record_too_large_for_any_file_names_the_limit(tmp_path):
    assert messages(build(tmp_path, records=user_records(1), max_properties=2)) == [
        "record 1: the record has 3 properties, more than max_properties (2) allows in one file"]
    size = build(tmp_path / "..", records=user_records(1))["files"][0]["bytes"]
    assert messages(build(tmp_path, records=user_records(1), max_bytes=30)) == [
        "record 1: the record takes %d bytes in a file, more than max_bytes (30) allows" % size]


@settings(max_examples=200, deadline=None)
@given(names=st.lists(st.text(st.characters(blacklist_categories=("Cs",))).filter(lambda name: name != "upn"), max_size=4,
                      unique=True),
       texts=st.lists(st.text(), min_size=5, max_size=5))
def test_a_full_record_is_encoded_as_encode_gives_it_or_refused_where_encode_refuses_it(names, texts):
    """full_record_encoder's format: the same bytes as the record built and encoded, for any names (a "%" among them)
    and any text (lone surrogates among it)."""
    record_id, values = texts[0], texts[1:len(names) + 1]
    record = import_delta.full_record("upn", names, record_id, values)
    fast = import_writer.full_record_encoder("upn", names)
    try:
        expected = import_writer.ImportFileWriter("unused").encode(record)
    except import_writer.UnencodableText:
        with pytest.raises(UnicodeEncodeError):
            fast(record_id, values)
    else:
        assert fast(record_id, values) == expected


def test_full_record_encoder_keeps_a_percent_sign_in_a_name():
    encode = import_writer.full_record_encoder("upn", ["100%s", "%d%%"])
    assert encode("a@x.com", ("1", "2")) == '{"upn":"a@x.com","100%s":"1","%d%%":"2"}'.encode("utf-8")
