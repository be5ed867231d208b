# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

import codecs
import csv
import io
import json
import os
import tempfile

import pytest
from hypothesis import HealthCheck, assume, example, given, settings, strategies as st

from ansible_collections.spo.user_profiles.plugins.module_utils import _json_stream, import_build, import_readers
from ansible_collections.spo.user_profiles.tests.unit.plugins.module_utils.test_import_build import (
    MAP, build, messages, read_back, write,
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


def test_json_number_split_by_buffer_is_read_whole_and_written_as_the_source_wrote_it(tmp_path, monkeypatch):
    monkeypatch.setattr(_json_stream, "_READ_CHARS", 3)
    result = build(tmp_path, src=write(tmp_path, "n.json", '[{"upn":"a@x.com","City":123456789,"Office":-1.25e3}]'))
    assert read_back(result["files"][0]["path"])[0] == {"upn": "a@x.com", "City": "123456789", "Office": "-1.25e3"}


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
    ("a.data", '{"upn": "a"}\r{"upn": "b"}\r', "jsonl"),
    # records of one field named "value": an import file's "value" is an array
    ("a.data", '{"value": "a"}\n{"value": "b"}\n', "jsonl"),
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
    result = build(tmp_path, src=write(tmp_path, "w.csv", 'upn,City,Office\na@x.com,"one, line",1\n\nb@x.com,B\n'))
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
        ("upn", "the column appears twice in the header"),
        ("City", "the mapped field is missing from the source (the header's columns that nothing maps: 'Town')")]


@pytest.mark.parametrize("header, expected", [
    ("mial,cost_centre\n", ["line 1, field 'mail': the id column is missing from the header (the header has 'mial', which "
                            "nothing maps: a typo in the source or in id_property?)",
                            "line 1, field 'cost_center': the mapped field is missing from the source (the header has "
                            "'cost_centre', which nothing maps: a typo in the source or in property_map?)"]),
    ("mail, cost_center \n", ["line 1, field 'cost_center': the mapped field is missing from the source (the header has "
                              "' cost_center ', with spaces around the name)"]),
])
def test_a_missing_column_is_named_with_what_the_header_has_instead(tmp_path, header, expected):
    source = import_readers.open_source("mail", ["cost_center"], src=write(tmp_path, "t.csv", header + "a@x.com,1\n"))
    assert ["line %d, field %r: %s" % (item["line"], item["field"], item["message"]) for item in source] == expected


@pytest.mark.parametrize("header, expected", [
    ("upn,City,,Office", ["line 1: column 3 of the header has no name: every column needs one"]),
    ("upn,City, ,Office", ["line 1: column 3 of the header has no name (only whitespace): every column needs one"]),
    # two columns without a name are not "a column that appears twice"
    ("upn,,City,Office,", ["line 1: column 2 of the header has no name: every column needs one",
                           "line 1: column 5 of the header has no name: every column needs one (the header ends with "
                           "the delimiter ',')"]),
])
def test_a_csv_column_without_a_name_is_refused_naming_its_number(tmp_path, header, expected):
    row = ",".join(["a@x.com"] + ["v"] * header.count(","))
    result = build(tmp_path, src=write(tmp_path, "n.csv", "%s\n%s\n" % (header, row)))
    assert messages(result) == expected
    assert result["files"] == []


def test_a_csv_whose_first_line_is_empty_says_so_not_that_columns_are_missing(tmp_path):
    result = build(tmp_path, src=write(tmp_path, "b.csv", "\nupn,City,Office\na@x.com,A,1\n"))
    assert messages(result) == ["line 1: the first line is empty: the header row must be the first line"]


@pytest.mark.parametrize("name, text", [
    ("r.json", '{"value": [{"upn": "a@x.com", "City": 5, "x": 1}, [1], {"City": "B"}]}'),
    ("r.jsonl", '{"upn": "a@x.com", "City": 5, "x": 1}\n[1]\n{"City": "B"}\n'),
])
def test_json_sources_map_objects_and_name_what_is_wrong(tmp_path, name, text):
    source = import_readers.open_source("upn", ["City"], src=write(tmp_path, name, text))
    items = list(source)
    assert items[0] == (1, 1, "a@x.com", [5])
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


# malformed sources are refused, naming line, record and the cause -------------------------------------------------

@pytest.mark.parametrize("text, expected", [
    ('upn,City,Office\na@x.com,"Oslo,1\nb@x.com,Rome,2\n',
     "record 1, line 2: a quoted value that starts in the row at line 2 never closes"),
    ('upn,City,Office\na@x.com,"Os"lo,1\n', "record 1, line 2: a character follows the closing quote"),
    # a stray quote closed by another one lines later: the file parses, but the rows between became one value
    ('upn,City,Office\na@x.com,A,"1\nb@x.com,B,2\nc@x.com,C,"\n',
     "record 1, line 2, field 'Office': the quoted value runs over lines 2 to 4"),
    ('upn,"Ci\nty",Office\n', "line 1: the header runs over 2 lines"),
])
def test_csv_quotes_that_swallow_rows_are_refused(tmp_path, text, expected):
    result = build(tmp_path, src=write(tmp_path, "q.csv", text))
    assert messages(result)[0].startswith(expected)
    assert result["files"] == []


def test_a_quote_that_never_closes_in_a_long_file_names_its_row(tmp_path):
    rows = "".join("u%d@x.com,C%d,1\n" % (index, index) for index in range(20000))
    result = build(tmp_path, src=write(tmp_path, "long.csv", 'upn,City,Office\na@x.com,"open,1\n' + rows))
    assert result["problem_count"] == 1
    assert "line 2" in messages(result)[0] and "quote that never closes" in messages(result)[0]


@pytest.mark.parametrize("text, expected", [
    ('[{"upn": "a@x.com", "City": "A", "Office": "1"}] [{"upn": "b@x.com", "City": "B", "Office": "2"}]',
     "line 1: not valid JSON in the document %s: content after the end of the array"),
    ('[{"upn": "a@x.com", "City": "A", "Office": "1"}]\n\n{"upn": "b@x.com"}\n',
     "line 3: not valid JSON in the document %s: content after the end of the array"),
    ('{"value": [{"upn": "a@x.com", "City": "A", "Office": "1"}]}\n{"value": []}',
     "line 2: not valid JSON in the document %s: content after the end of the object"),
    ('{"value": [{"upn": "a@x.com", "City": "A", "Office": "1"}], "value": [{"upn": "b@x.com"}]}',
     'line 1: not valid JSON in the document %s: the object has a second "value" member'),
    ('{"value": [{"upn": "a@x.com", "City": "A", "Office": "1"}] "next": 1}',
     "line 1: not valid JSON in the document %s: expected ',' or '}' after the \"value\" array"),
])
def test_json_content_after_the_records_is_refused(tmp_path, text, expected):
    path = write(tmp_path, "t.json", text)
    result = build(tmp_path, src=path)
    assert len(messages(result)) == 1 and messages(result)[0].startswith(expected % path)
    assert result["files"] == []


@pytest.mark.parametrize("text, line, reason", [
    ('"abc"', 1, "expected '[' (an array of records) or '{' (an object whose \"value\" is one) at the start of the "
                 "document, found '\"'"),
    ('', 1, "expected '[' (an array of records) or '{' (an object whose \"value\" is one) at the start of the document, "
            "found the end of the text"),
    ('\n\n{"users": [{"upn": "a@x.com"}]}', 3,
     'the object has no "value" array (for one object per line, set format: jsonl)'),
    ('{"value":\n {"upn": "a@x.com"}}', 2, "expected '[' for the \"value\" member, an array of records, found '{'"),
    ('{"x": 1\n "value": [{"upn": "a@x.com", "City": "A", "Office": "1"}]}', 2,
     "expected ',' or '}' after the member \"x\", found '\"'"),
])
def test_a_json_document_without_its_array_of_records_is_named_not_a_record(tmp_path, text, line, reason):
    path = write(tmp_path, "d.json", text)
    result = build(tmp_path, src=path)
    assert result["problems"] == [
        {"record": None, "line": line, "field": None, "message": "not valid JSON in the document %s: %s" % (path, reason)}]
    assert result["files"] == []


@pytest.mark.parametrize("text, expected", [
    ('[\n{"upn": "a@x.com", "City": "A", "Office": "1"},\n\n]',
     "record 1, line 2: not valid JSON: a comma after the last record: JSON allows none"),
    ('[{"upn": "a@x.com", "City": "A", "Office": "1"}\n',
     "record 1, line 2: not valid JSON: expected ',' or ']' after the record, found the end of the text"),
    ('[{"upn": "a@x.com", "City": "A", "Office": "1"}\n{"upn": "b@x.com", "City": "B", "Office": "2"}]',
     "record 1, line 2: not valid JSON: expected ',' or ']' after the record, found '{'"),
    ('[\n{"upn": "a@x.com", "City": "A\tB", "Office": "1"}]',
     "record 1, line 2: not valid JSON: Invalid control character at line 2"),
])
def test_what_is_wrong_after_a_json_record_names_that_record(tmp_path, text, expected):
    assert messages(build(tmp_path, src=write(tmp_path, "a.json", text))) == [expected]


def test_a_json_lines_error_at_a_position_names_its_column_once(tmp_path):
    result = build(tmp_path, src=write(tmp_path, "c.jsonl", '{"upn": "a@x.com", "City": "A\tB", "Office": "1"}\n'))
    assert messages(result) == ["record 1, line 1: not valid JSON: Invalid control character at column 30"]


def test_json_errors_name_the_line_across_buffer_refills(tmp_path, monkeypatch):
    monkeypatch.setattr(_json_stream, "_READ_CHARS", 7)
    text = "[\n" + ",\n".join('{"upn": "u%d@x.com", "City": "C", "Office": "1"}' % index for index in range(30)) + ",\n{oops}\n]"
    result = build(tmp_path, src=write(tmp_path, "lines.json", text))
    assert messages(result) == ["record 31, line 32: not valid JSON: Expecting property name enclosed in double quotes"]


@pytest.mark.parametrize("name, end", [("cr.json", "\r"), ("crlf.json", "\r\n"), ("cr.jsonl", "\r")])
def test_json_records_carry_their_line_whatever_ends_the_lines(tmp_path, name, end):
    records = ['{"upn": "a@x.com", "City": "A"}', '{"upn": "b@x.com", "City": ["B"]}']
    text = ("[%s%s%s,%s%s%s]" % (end, records[0], end, end, records[1], end) if name.endswith(".json")
            else "%s%s%s%s" % (records[0], end, records[1], end))
    source = import_readers.open_source("upn", ["City"], src=write(tmp_path, name, text))
    assert [item[1] for item in source] == ([2, 4] if name.endswith(".json") else [1, 2])


def test_json_records_carry_the_line_they_start_on(tmp_path):
    path = write(tmp_path, "l.json", '{"value": [\n  {"upn": "a@x.com", "City": "A"},\n\n  {"upn": "b@x.com",\n "City": "B"}]}')
    assert [item[:2] for item in import_readers.open_source("upn", ["City"], src=path)] == [(1, 2), (2, 4)]


@pytest.mark.parametrize("name, text", [
    ("d.json", '[{"upn": "a@x.com", "City": "A", "City": "B", "Office": "1"}]'),
    ("d.jsonl", '{"upn": "a@x.com", "City": "A", "Office": "1", "City": "B"}\n'),
])
def test_a_field_named_twice_in_a_json_record_is_refused(tmp_path, name, text):
    result = build(tmp_path, src=write(tmp_path, name, text))
    assert messages(result) == ["record 1, line 1, field 'City': the field appears more than once in the record; which "
                                "value is meant cannot be told"]


@pytest.mark.parametrize("literal, written", [
    ("1.50", "1.50"), ("1e2", "1e2"), ("-0", "-0"), ("-0.0", "-0.0"), ("123456789012345678901234567890", "123456789012345678901234567890"),
    ("0.1000000000000000000001", "0.1000000000000000000001"), ("2E-3", "2E-3"), ("0e-400", "0e-400"),
])
def test_json_numbers_are_written_as_the_source_wrote_them(tmp_path, literal, written):
    result = build(tmp_path, src=write(tmp_path, "n.jsonl", '{"upn": "a@x.com", "City": %s, "Office": "1"}\n' % literal))
    assert read_back(result["files"][0]["path"]) == [{"upn": "a@x.com", "City": written, "Office": "1"}]


@pytest.mark.parametrize("literal", ["1e400", "-1.5e309", "1e-400", "-0.00001e-330"])
def test_json_numbers_beyond_the_range_of_a_double_are_refused(tmp_path, literal):
    result = build(tmp_path, src=write(tmp_path, "n.json", '[{"upn": "a@x.com", "City": "A", "Office": %s}]' % literal))
    assert messages(result) == ["record 1, line 1, field 'Office': the number %s is beyond the range of a double-precision "
                                "number, the form JSON tools read it in; write it as a string (\"%s\") if that text is meant"
                                % (literal, literal)]


@pytest.mark.parametrize("value", [float("inf"), float("-inf"), float("nan")])
def test_inline_numbers_that_are_not_finite_are_refused(tmp_path, value):
    result = build(tmp_path, records=[{"upn": "a@x.com", "City": value, "Office": "1"}])
    assert messages(result) == ["record 1, field 'City': %r is not a finite number: the import takes text, finite numbers "
                                "and booleans" % value]


def test_a_json_escape_of_half_a_surrogate_pair_is_named_as_such(tmp_path):
    result = build(tmp_path, src=write(tmp_path, "s.json", '[{"upn": "a@x.com", "City": "x\\ud83d", "Office": "1"}]'))
    assert messages(result) == ["record 1, line 1, field 'City': the text holds a lone surrogate (U+D83D: half of a pair, "
                                "as a JSON \\u escape can give it), which UTF-8 cannot carry"]


@pytest.mark.parametrize("name, text", [
    ("e.json", '[{"upn": "\\udc80a@x.com", "City": "A", "Office": "x\\uDCFF"}]'),
    ("e.jsonl", '{"upn": "\\udc80a@x.com", "City": "A", "Office": "x\\uDCFF"}\n'),
])
def test_a_json_escape_of_what_an_undecodable_byte_becomes_is_named_as_an_escape_not_an_encoding(tmp_path, name, text):
    result = build(tmp_path, src=write(tmp_path, name, text))
    assert messages(result) == [
        "record 1, line 1, field 'upn': the text holds a lone surrogate (U+DC80: half of a pair, written as the JSON "
        "escape \\udc80), which UTF-8 cannot carry",
        "record 1, line 1, field 'Office': the text holds a lone surrogate (U+DCFF: half of a pair, written as the JSON "
        "escape \\udcff), which UTF-8 cannot carry"]
    assert result["files"] == []


def test_an_undecodable_byte_in_a_json_source_is_still_named_as_one(tmp_path):
    path = tmp_path / "b.json"
    path.write_bytes(b'[{"upn": "a@x.com", "City": "M\xfcller", "Office": "\\\\udc80"}]')
    assert messages(build(tmp_path, src=str(path))) == [
        "record 1, line 1, field 'City': byte 0xFC is not valid utf-8 text: the source is in another encoding; set encoding"]


def test_a_field_name_with_an_escaped_surrogate_is_a_missing_field_not_an_encoding(tmp_path):
    result = build(tmp_path, src=write(tmp_path, "n.jsonl", '{"upn": "a@x.com", "City": "A", "Off\\udc80ice": "1"}\n'))
    assert messages(result) == ["record 1, line 1, field 'Office': the mapped field is missing from the record"]


# encodings: what the file's own bytes say wins over a wrong declaration, with the cause named ------------------------

def _encoded(text, encoding, bom=b""):
    return bom + text.encode(encoding)


CSV_TEXT = "upn,City,Office\na@x.com,Zürich,1\n"


@pytest.mark.parametrize("data, encoding, expected", [
    (_encoded(CSV_TEXT, "utf-16-le", codecs.BOM_UTF16_LE), "utf-8",
     "starts with a UTF-16 (little-endian) byte order mark, but encoding is utf-8: the file says it is UTF-16 "
     "(little-endian); set encoding: utf-16"),
    (_encoded(CSV_TEXT, "utf-16-be", codecs.BOM_UTF16_BE), "utf-8", "starts with a UTF-16 (big-endian) byte order mark"),
    (_encoded(CSV_TEXT, "utf-8", codecs.BOM_UTF8), "latin-1", "starts with a UTF-8 byte order mark, but encoding is latin-1"),
    (_encoded(CSV_TEXT, "utf-8", codecs.BOM_UTF8), "utf-16", "starts with a UTF-8 byte order mark, but encoding is utf-16"),
    (_encoded(CSV_TEXT, "utf-16-be", codecs.BOM_UTF16_BE), "utf-16-le", "starts with a UTF-16 (big-endian) byte order mark"),
    (_encoded(CSV_TEXT, "utf-32-le", codecs.BOM_UTF32_LE), "cp1252", "starts with a UTF-32 (little-endian) byte order mark"),
    (_encoded(CSV_TEXT, "utf-16-le"), "utf-8", "holds NUL bytes, so it is not utf-8 text: it looks like UTF-16 or UTF-32"),
    (_encoded(CSV_TEXT, "utf-16-le"), "cp1252", "holds NUL bytes, so it is not cp1252 text"),
    (_encoded(CSV_TEXT, "utf-16-le"), "utf-16", "has no byte order mark, which encoding utf-16 needs"),
    (_encoded(CSV_TEXT, "utf-8"), "latin-1", "is UTF-8 text (line 2 holds '@x.com,Zürich,1'), but encoding is latin-1, "
                                             "which would read it as '@x.com,ZÃ¼rich,1'; set encoding: utf-8"),
    (_encoded(CSV_TEXT.replace("\n", "\r"), "utf-8"), "cp1252", "is UTF-8 text (line 2 holds '@x.com,Zürich,1')"),
    (_encoded("upn,City\ra@x.com,A\nb@x.com,Zürich\r\n", "utf-8"), "latin-1", "is UTF-8 text (line 3 holds"),
])
def test_an_encoding_the_file_contradicts_is_refused_before_any_record(tmp_path, data, encoding, expected):
    path = tmp_path / "e.csv"
    path.write_bytes(data)
    with pytest.raises(import_readers.ImportFileError) as caught:
        import_readers.open_source("upn", ["City"], src=str(path), encoding=encoding)
    assert expected in str(caught.value)


@pytest.mark.parametrize("data, encoding", [
    (_encoded(CSV_TEXT, "utf-16-le", codecs.BOM_UTF16_LE), "utf-16"),
    (_encoded(CSV_TEXT, "utf-16-le", codecs.BOM_UTF16_LE), "utf-16-le"),
    (_encoded(CSV_TEXT, "utf-16-be", codecs.BOM_UTF16_BE), "UTF-16BE"),
    (_encoded(CSV_TEXT, "utf-16-be"), "utf-16-be"),
    (_encoded(CSV_TEXT, "utf-32-le", codecs.BOM_UTF32_LE), "utf-32"),
    (_encoded(CSV_TEXT, "utf-8", codecs.BOM_UTF8), "utf-8"),
    (_encoded(CSV_TEXT, "utf-8", codecs.BOM_UTF8), "utf-8-sig"),
    (_encoded(CSV_TEXT, "cp1252"), "cp1252"),
    (_encoded(CSV_TEXT, "latin-1"), "latin-1"),
])
def test_an_encoding_the_file_agrees_with_reads_it_without_its_mark(tmp_path, data, encoding):
    path = tmp_path / "e.csv"
    path.write_bytes(data)
    assert list(import_readers.open_source("upn", ["City"], src=str(path), encoding=encoding)) == [(1, 2, "a@x.com", ("Zürich",))]


def test_a_header_in_another_encoding_is_named_as_such_not_as_a_missing_column(tmp_path):
    path = tmp_path / "h.csv"
    path.write_bytes("upn,Stadt,Büro\na@x.com,A,1\n".encode("cp1252"))
    source = import_readers.open_source("upn", ["Stadt"], src=str(path))
    assert [item["message"] for item in source] == [
        "the header is not valid utf-8 text (byte 0xFC): the source is in another encoding; set encoding"]


_BEFORE_BAD_BYTES = {
    "u.csv": ('upn,City,Office\r\na@x.com,A,1\r\nb@x.com,', 3),
    "u.json": ('[{"upn": "a@x.com", "City": "A", "Office": "1"},\r\n{"upn": "b@x.com", "City": "', 2),
    "u.dat": ('{"upn": "a@x.com", "City": "A", "Office": "1"}\r{"upn": "b@x.com", "City": "', 2),  # JSON Lines, detected
}


@pytest.mark.parametrize("scan_bytes", [3, 1024 * 1024])
@pytest.mark.parametrize("name", sorted(_BEFORE_BAD_BYTES))
def test_bytes_no_character_can_stand_in_for_are_refused_naming_their_line(tmp_path, monkeypatch, name, scan_bytes):
    # surrogateescape stands in only for bytes from 0x80: half a surrogate pair in UTF-16 is 00 D8
    monkeypatch.setattr(import_readers, "_SCAN_BYTES", scan_bytes)
    path = tmp_path / name
    text, line = _BEFORE_BAD_BYTES[name]
    path.write_bytes(codecs.BOM_UTF16_LE + text.encode("utf-16-le") + b"\x00\xd8" + "B".encode("utf-16-le"))
    result = build(tmp_path, src=str(path), encoding="utf-16")
    assert result["problems"] == [{"record": None, "line": line, "field": None, "message": (
        "bytes 0x00 0xD8 are not valid utf-16 text (illegal UTF-16 surrogate): the source is in another encoding, or "
        "damaged; set encoding")}]
    assert result["files"] == []


def test_a_utf16_file_cut_inside_a_character_names_its_last_line(tmp_path):
    path = tmp_path / "cut.csv"
    path.write_bytes("upn,City,Office\na@x.com,A,1\nb@x.com,B,".encode("utf-16-be") + b"\x00")
    assert messages(build(tmp_path, src=str(path), encoding="utf-16-be")) == [
        "line 3: byte 0x00 is not valid utf-16-be text (truncated data): the source is in another encoding, or damaged; "
        "set encoding"]


def test_json_field_names_in_another_encoding_are_named_as_such(tmp_path):
    path = tmp_path / "k.jsonl"
    path.write_bytes('{"upn": "a@x.com", "Büro": "1"}\n'.encode("cp1252"))
    source = import_readers.open_source("upn", ["Büro"], src=str(path))
    assert "the field names are not valid utf-8 text (byte 0xFC" in list(source)[0]["message"]


@pytest.mark.parametrize("kwargs, expected", [
    ({"delimiter": ""}, "delimiter: must be exactly one character, not ''"),
    ({"delimiter": ";;"}, "delimiter: must be exactly one character, not ';;'"),
    ({"delimiter": '"'}, "delimiter: '\"' cannot separate CSV fields"),
    ({"delimiter": "\n"}, "delimiter: '\\n' cannot separate CSV fields"),
    ({"encoding": "rot13"}, "encoding: 'rot13' is not a text encoding"),
    ({"encoding": "no-such-codec"}, "encoding: unknown encoding 'no-such-codec'"),
])
def test_option_problems_name_the_option(kwargs, expected):
    assert list(import_readers.option_problems(**kwargs)) == [expected + list(import_readers.option_problems(**kwargs))[0][len(expected):]]


def test_a_directory_as_src_is_named_as_one(tmp_path):
    assert import_readers.src_problem(str(tmp_path)) == "src: %s is a directory; give the source file" % tmp_path
    assert import_readers.src_problem(str(tmp_path / "none.csv")).endswith("does not exist")


# generated sources: whatever is accepted is written exactly; whatever cannot be is refused -------------------------

class _Literal(str):
    """A JSON number written as this text into the generated source."""


_FIELD_TEXT = st.text(st.characters(blacklist_categories=("Cs",)), max_size=12)
_ANY_TEXT = st.text(max_size=12)  # lone surrogates included
_NUMBER_LITERALS = st.from_regex(r"-?(0|[1-9][0-9]{0,3})(\.[0-9]{1,4})?([eE][+-]?[0-9]{1,3})?", fullmatch=True).map(_Literal)
_JSON_VALUES = st.one_of(_ANY_TEXT, st.booleans(), st.integers(), st.floats(allow_nan=False, allow_infinity=False),
                         _NUMBER_LITERALS, st.none())
_IDS = st.from_regex(r"[a-z0-9]{1,8}@[a-z]{1,6}\.com", fullmatch=True)


def _json_text(value):
    return value if isinstance(value, _Literal) else json.dumps(value)


def _expected_text(value):
    return value if isinstance(value, str) and not isinstance(value, _Literal) else _json_text(value)


# The control characters no value may hold: C0 but tab, line feed and carriage return; DEL; C1.
_CONTROLS = set(map(chr, range(0x20))) - set("\t\n\r") | set(map(chr, range(0x7F, 0xA0)))


def _representable(value):
    """Whether the import can hold the value as the source wrote it: not null, not half a surrogate pair, not a control
    character but tab and line breaks, not a number a double cannot hold (one that reads as infinity, or as 0 though
    its digits are not all 0)."""
    if value is None:
        return False
    if isinstance(value, _Literal):
        number = float(value)
        mantissa = value.lower().split("e")[0]
        return number not in (float("inf"), float("-inf")) and (number != 0 or not any(digit in mantissa for digit in "123456789"))
    return not isinstance(value, str) or not any("\ud800" <= char <= "\udfff" or char in _CONTROLS for char in value)


def _refused_fields(record):
    """The fields a record is refused for: those whose text escapes what an undecodable byte becomes (U+DC80..U+DCFF,
    named by the reader, which knows it is an escape), else the first value the import cannot hold."""
    escaped = [field for field in ("City", "Office")
               if isinstance(record[field], str) and any("\udc80" <= char <= "\udcff" for char in record[field])]
    return escaped or [field for field in ("City", "Office") if not _representable(record[field])][:1]


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(users=st.lists(st.tuples(_IDS, _JSON_VALUES, _JSON_VALUES), min_size=1, max_size=6, unique_by=lambda user: user[0]),
       fmt=st.sampled_from(["json", "jsonl"]), encoding=st.sampled_from(["utf-8", "utf-16", "utf-32"]))
@example(users=[("a@x.com", "\ud800", "\udc80"), ("b@x.com", None, "x\udcff\udc80")], fmt="json", encoding="utf-8")
def test_generated_json_sources_round_trip_exactly_or_are_refused(tmp_path, users, fmt, encoding):
    records = [{"upn": upn, "City": city, "Office": office} for upn, city, office in users]
    lines = ["{%s}" % ", ".join("%s: %s" % (json.dumps(key), _json_text(value)) for key, value in record.items())
             for record in records]
    text = '{"value": [\n%s\n]}' % ",\n".join(lines) if fmt == "json" else "".join(line + "\n" for line in lines)
    directory = tempfile.mkdtemp(dir=str(tmp_path))
    path = os.path.join(directory, "src." + fmt)
    with open(path, "wb") as handle:
        handle.write(text.encode(encoding, "surrogatepass"))
    result = import_build.build_import_files(directory, "g", "upn", MAP, src=path, encoding=encoding)
    refused = [(number, field) for number, record in enumerate(records, 1) for field in _refused_fields(record)]
    if refused:
        assert sorted((found["record"], found["field"]) for found in result["problems"]) == refused
        assert result["files"] == []
        return
    assert result["problems"] == []
    assert read_back(result["files"][0]["path"]) == [
        {key: _expected_text(value) for key, value in record.items()} for record in records]


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(users=st.lists(st.tuples(_IDS, _FIELD_TEXT, _FIELD_TEXT), min_size=1, max_size=6, unique_by=lambda user: user[0]),
       delimiter=st.sampled_from([",", ";", "\t", "|"]), encoding=st.sampled_from(["utf-8", "utf-8-sig", "utf-16"]),
       line_end=st.sampled_from(["\n", "\r\n"]), quoting=st.sampled_from([csv.QUOTE_MINIMAL, csv.QUOTE_ALL]))
def test_generated_csv_sources_round_trip_exactly_or_are_refused(tmp_path, users, delimiter, encoding, line_end, quoting):
    # csv.writer leaves a lone "\r" unquoted when rows end in "\n" alone: that file does not hold the value it was given
    assume(quoting == csv.QUOTE_ALL or line_end == "\r\n" or not any("\r" in value for user in users for value in user))
    buffer = io.StringIO()
    writer = csv.writer(buffer, delimiter=delimiter, lineterminator=line_end, quoting=quoting)
    writer.writerow(["upn", "City", "Office"])
    writer.writerows(users)
    directory = tempfile.mkdtemp(dir=str(tmp_path))
    path = os.path.join(directory, "src.csv")
    with open(path, "wb") as handle:
        handle.write(buffer.getvalue().encode(encoding))
    try:
        result = import_build.build_import_files(directory, "g", "upn", MAP, src=path, encoding=encoding, delimiter=delimiter)
    except import_readers.ImportFileError as err:  # mostly NUL characters: not text in a one-byte-per-character encoding
        assert "NUL bytes" in str(err) and any("\0" in value for user in users for value in user)
        return
    broken = [number for number, user in enumerate(users, 1)
              if any(mark in value for value in user for mark in "\r\n") or not all(map(_representable, user))]
    if broken:
        assert result["problems"] and result["problems"][0]["record"] == broken[0]
        assert result["files"] == []
        return
    assert result["problems"] == []
    assert read_back(result["files"][0]["path"]) == [{"upn": upn, "City": city, "Office": office} for upn, city, office in users]


def test_a_header_of_one_column_holding_another_delimiter_says_so(tmp_path):
    result = build(tmp_path, src=write(tmp_path, "semi.csv", "upn;City;Office\na@x.com;A;1\n"))
    assert messages(result)[0] == ("line 1, field 'upn': the id column is missing from the header (the header is one "
                                   "column, 'upn;City;Office': is the delimiter ';'?)")


@pytest.mark.parametrize("change", ["rewritten", "touched"])
def test_a_source_file_that_changes_between_passes_is_refused(tmp_path, change):
    # the duplicate pass reads the file again: it must be the file the first pass read
    path = write(tmp_path, "s.csv", "upn,City\na@x.com,A\n")
    source = import_readers.open_source("upn", ["City"], src=path)
    assert list(source) == [(1, 2, "a@x.com", ("A",))]
    if change == "rewritten":
        write(tmp_path, "s.csv", "upn,City\na@x.com,A\nb@x.com,B\n")
    else:
        os.utime(path, ns=(os.stat(path).st_atime_ns, os.stat(path).st_mtime_ns + 1))
    with pytest.raises(import_readers.ImportFileError, match="changed while it was read; nothing was sent"):
        list(source)


def test_a_json_document_read_as_json_lines_is_named_as_such(tmp_path):
    path = write(tmp_path, "s.txt", '{"value": [{"upn": "a@x.com", "City": "A"}]}\n')
    source = import_readers.open_source("upn", ["City"], src=path, fmt="jsonl")
    message = 'the line is a JSON document whose "value" array holds the records, not a record: read the file with format json'
    assert list(source) == [{"record": 1, "line": 1, "field": None, "message": message}]
