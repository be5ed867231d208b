# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

import pytest

from ansible_collections.spo.user_profiles.plugins.module_utils import _json_stream, import_readers
from ansible_collections.spo.user_profiles.tests.unit.plugins.module_utils.test_import_build import (
    build, messages, read_back, write,
)


def test_csv_with_delimiter_encoding_and_ignored_fields(tmp_path):
    src = write(tmp_path, "hr.csv", "upn;City;Office;Manager\r\na@x.com;Zürich;\"B;1\";m\r\n", encoding="cp1252")
    result = build(tmp_path, src=src, delimiter=";", encoding="cp1252")
    assert result["problems"] == []
    assert result["ignored_fields"] == ["Manager"]
    assert read_back(result["files"][0]["path"]) == [{"upn": "a@x.com", "City": "Zürich", "Office": "B;1"}]


def test_csv_utf8_bom_is_skipped(tmp_path):
    src = write(tmp_path, "bom.csv", "\ufeffupn,City,Office\na@x.com,東京,1\n")
    result = build(tmp_path, src=src)
    assert read_back(result["files"][0]["path"]) == [{"upn": "a@x.com", "City": "東京", "Office": "1"}]


@pytest.mark.parametrize("text", [
    '{"value": [{"upn": "a@x.com", "City": "A", "Office": 1}, {"upn": "b@x.com", "City": "B", "Office": true}]}',
    '{"odata.metadata": {"x": [1]}, "value":[{"upn":"a@x.com","City":"A","Office":1},\n{"upn":"b@x.com","City":"B","Office":true}]}',
    '[{"upn": "a@x.com", "City": "A", "Office": 1}, {"upn": "b@x.com", "City": "B", "Office": true}]',
])
def test_json_streaming_reader_across_buffer_boundaries(tmp_path, monkeypatch, text):
    monkeypatch.setattr(_json_stream, "_READ_CHARS", 5)
    result = build(tmp_path, src=write(tmp_path, "in.json", text))
    assert result["problems"] == []
    expected = [{"upn": "a@x.com", "City": "A", "Office": "1"}, {"upn": "b@x.com", "City": "B", "Office": "true"}]
    assert read_back(result["files"][0]["path"]) == expected


def test_json_number_split_by_buffer_is_read_whole(tmp_path, monkeypatch):
    monkeypatch.setattr(_json_stream, "_READ_CHARS", 3)
    result = build(tmp_path, src=write(tmp_path, "n.json", '[{"upn":"a@x.com","City":123456789,"Office":-1.25e3}]'))
    assert read_back(result["files"][0]["path"])[0] == {"upn": "a@x.com", "City": "123456789", "Office": "-1250.0"}


def test_invalid_json_is_a_problem(tmp_path):
    result = build(tmp_path, src=write(tmp_path, "bad.json", '[{"upn":"a@x.com","City":"A","Office":"1"}, {"upn": ]'))
    assert result["problem_count"] == 1
    assert "record 2" in messages(result)[0] and "not valid JSON" in messages(result)[0]
    assert result["files"] == []


def test_jsonl_with_line_numbers(tmp_path):
    text = '{"upn":"a@x.com","City":"A","Office":"1"}\n\n{"upn":"b@x.com","City":["x"],"Office":"1"}\n'
    result = build(tmp_path, src=write(tmp_path, "in.jsonl", text))
    assert result["problems"] == [{"record": 2, "line": 3, "field": "City", "message": result["problems"][0]["message"]}]
    assert "single values" in result["problems"][0]["message"]


@pytest.mark.parametrize("name,text,expected", [
    ("a.data", "upn,City,Office\n", "csv"),
    ("a.data", '  [{"upn": 1}]', "json"),
    ("a.data", '{"value": []}', "json"),
    ("a.data", '{\n  "value": []\n}', "json"),
    ("a.data", '{"upn": "a"}\n{"upn": "b"}\n', "jsonl"),
    ("a.ndjson", '{"value": []}', "jsonl"),
    ("a.CSV", "[", "csv"),
])
def test_detect_format(tmp_path, name, text, expected):
    assert import_readers.detect_format(write(tmp_path, name, text)) == expected


def test_mapped_field_missing_from_csv_header(tmp_path):
    result = build(tmp_path, src=write(tmp_path, "a.csv", "upn,City\na@x.com,A\n"))
    assert messages(result) == ["line 1, field 'Office': the mapped field is missing from the source"]


def test_mapped_field_missing_from_record(tmp_path):
    result = build(tmp_path, records=[{"upn": "a@x.com", "City": "A"}])
    assert messages(result) == ["record 1, field 'Office': the mapped field is missing from the record"]


def test_csv_row_with_wrong_width(tmp_path):
    result = build(tmp_path, src=write(tmp_path, "w.csv", 'upn,City,Office\na@x.com,"multi\nline",1\nb@x.com,B\n'))
    assert messages(result) == ["record 2, line 4: the row has 2 fields, the header 3"]


# the readers on their own: records and problems, in source order ------------------------------------------------

def test_a_csv_source_yields_records_and_problems_in_source_order_on_every_pass(tmp_path):
    path = write(tmp_path, "s.csv", "Office,upn,City,Extra\n1,a@x.com,A,e\n\n2,b@x.com\n3,c@x.com,C,e\n")
    source = import_readers.open_source("upn", ["City", "Office"], src=path)
    assert source.text_values is True
    expected = [(1, 2, "a@x.com", ("A", "1")),
                {"record": 2, "line": 4, "field": None, "message": "the row has 2 fields, the header 4"},
                (3, 5, "c@x.com", ("C", "3"))]
    assert list(source) == expected
    assert list(source) == expected, "a second pass reads the file again"
    assert source.ignored_fields == {"Extra"}


def test_a_csv_header_without_the_mapped_columns_yields_only_problems(tmp_path):
    source = import_readers.open_source("upn", ["City"], src=write(tmp_path, "h.csv", "upn,upn,Town\na@x.com,a,b\n"))
    assert [(item["field"], item["message"]) for item in source] == [
        ("upn", "the column appears twice in the header"), ("City", "the mapped field is missing from the source")]


@pytest.mark.parametrize("name, text", [
    ("r.json", '{"value": [{"upn": "a@x.com", "City": 5, "x": 1}, [1], {"City": "B"}]}'),
    ("r.jsonl", '{"upn": "a@x.com", "City": 5, "x": 1}\n[1]\n{"City": "B"}\n'),
])
def test_json_sources_map_objects_and_name_what_is_wrong(tmp_path, name, text):
    source = import_readers.open_source("upn", ["City"], src=write(tmp_path, name, text))
    items = list(source)
    line = 1 if name.endswith("jsonl") else None
    assert items[0] == (1, line, "a@x.com", [5])
    assert items[1]["record"] == 2 and items[1]["message"] == "the record is a list, not an object"
    assert (items[2]["record"], items[2]["field"], items[2]["message"]) == (3, "upn", "the id is missing")
    assert source.text_values is False and source.ignored_fields == {"x"}


def test_inline_records_are_a_source_too():
    source = import_readers.open_source("upn", ["City", "Office"], records=[{"upn": "a@x.com", "City": "A", "Office": None}])
    assert list(source) == [(1, None, "a@x.com", ["A", None])]


@pytest.mark.parametrize("kwargs, message", [
    ({"encoding": "no-such-codec"}, "unknown encoding"),
    ({"fmt": "xml"}, "unknown format"),
])
def test_open_source_refuses_a_source_it_cannot_read(tmp_path, kwargs, message):
    with pytest.raises(import_readers.ImportFileError, match=message):
        import_readers.open_source("upn", ["City"], src=write(tmp_path, "a.csv", "upn,City\n"), **kwargs)
