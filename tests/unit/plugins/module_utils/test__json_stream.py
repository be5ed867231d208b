# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

import io
import re
import sys

import pytest

from ansible_collections.spo.user_profiles.plugins.module_utils import _json_stream


def items(text):
    return list(_json_stream.array_items(io.StringIO(text)))


@pytest.mark.parametrize("text, expected", [
    ('[1, {"a": [2, 3]}, "x", null]', [1, {"a": [2, 3]}, "x", None]),
    ('  [ ]  ', []),
    ('{"odata.metadata": "m", "value": [{"u": 1}], "after": true}', [{"u": 1}]),
    ('{"value": []}', []),
])
def test_items_of_an_array_or_of_the_value_array(text, expected):
    assert items(text) == expected


def test_items_come_one_at_a_time_across_small_reads(monkeypatch):
    monkeypatch.setattr(_json_stream, "_READ_CHARS", 2)
    stream = io.StringIO('[{"name": "Müller"}, 12345678901234567890, true]')
    reader = _json_stream.array_items(stream)
    assert next(reader) == {"name": "Müller"}
    assert stream.tell() < len(stream.getvalue()), "the rest is not read before it is needed"
    assert list(reader) == [12345678901234567890, True]


@pytest.mark.parametrize("text, message", [
    ('{"other": [1]}', 'no "value" array'),
    ('[1 2]', "expected ',' or ']'"),
    ('[NaN]', "NaN is not a JSON number"),
    ('"just text"', re.escape("expected '['")),
    ('[{"a": 1}', re.escape("expected ',' or ']'")),
])
def test_invalid_json_raises_value_error(text, message):
    with pytest.raises(ValueError, match=message):
        items(text)


@pytest.mark.skipif(not hasattr(sys, "get_int_max_str_digits"), reason="this Python converts integers of any length")
def test_an_integer_longer_than_python_converts_is_refused_without_python_s_advice():
    with pytest.raises(ValueError) as caught:
        items('[{"cc": %s}]' % ("1" * 5000))
    assert "an integer of 5000 digits, more than this reader takes" in str(caught.value)
    assert "set_int_max_str_digits" not in str(caught.value)


def test_an_item_larger_than_the_limit_is_refused(monkeypatch):
    monkeypatch.setattr(_json_stream, "_READ_CHARS", 4)
    monkeypatch.setattr(_json_stream, "_MAX_ITEM_CHARS", 16)
    assert items('["short"]') == ["short"]
    with pytest.raises(ValueError):
        items('["%s"]' % ("x" * 40))


@pytest.mark.parametrize("chars", [1, 2, 3, 4, 5, 7])
def test_a_number_cut_by_a_read_after_its_point_or_exponent_is_read_whole(monkeypatch, chars):
    # A read that ends at "-1." or "2e" leaves a prefix that json parses as a shorter number.
    monkeypatch.setattr(_json_stream, "_READ_CHARS", chars)
    assert items('[-1.5e3, 2e-2, 3.25, 4E+1, 50]') == [-1500.0, 0.02, 3.25, 40.0, 50]


@pytest.mark.parametrize("text, message", [
    ('[1] [2]', r"content after the end of the array: one JSON document per file .*\(line 1\)"),
    ('{"value": [1]}\n\n{"value": [2]}', r"content after the end of the object.*\(line 3\)"),
    ('{"value": [1], "value": [2]}', 'the object has a second "value" member'),
    ('{"value": [1], 5: 1}', "expected a member name in double quotes"),
    ('{5: 1, "value": [1]}', "expected a member name in double quotes"),
    ('{"value": [1] "x": 1}', "expected ',' or '}' after the \"value\" array"),
    ('[1,]', r"a comma after the last record: JSON allows none \(line 1\)"),
    ('[1,\n\n]', r"a comma after the last record: JSON allows none \(line 1\)"),
    ('[1,\n,2]', r"Expecting value \(line 2\)"),
    ('', r"expected '\[' \(an array of records\) or '{' \(an object whose \"value\" is one\) at the start of the "
         r"document, found the end of the text"),
    ('\n"text"', r"at the start of the document, found '\"' \(line 2\)"),
    ('{"value": {"a": 1}}', r"expected '\[' for the \"value\" member, an array of records, found '{'"),
    # a comma missing between the members before "value" is not passed over
    ('{"x": 1\n "value": [1]}', r"expected ',' or '}' after the member \"x\", found '\"' \(line 2\)"),
    ('["a\tb"]', r"Invalid control character at line 1 \(line 1\)"),
])
def test_anything_but_one_document_of_records_is_refused_with_its_line(text, message):
    with pytest.raises(_json_stream.JsonFormatError, match=message):
        items(text)


@pytest.mark.parametrize("text, where", [
    ('x', (True, False, False)),
    ('{"value": [1], "value": []}', (False, True, True)),
    ('[1] 2', (False, True, True)),
    ('[1, x]', (False, False, False)),
    ('[1 2]', (False, False, True)),
    ('[1,]', (False, False, True)),
])
def test_an_error_tells_whether_it_is_before_after_or_between_the_items(text, where):
    reader = _json_stream.array_items(io.StringIO(text))
    with pytest.raises(_json_stream.JsonFormatError):
        list(reader)
    assert (reader.before_records, reader.after_records, reader.after_item) == where


def test_each_item_carries_its_line_across_small_reads(monkeypatch):
    monkeypatch.setattr(_json_stream, "_READ_CHARS", 3)
    reader = _json_stream.array_items(io.StringIO('[\n 1,\n\n {"a":\n 2},\n "x"\n]'))
    assert [(item, reader.line) for item in reader] == [(1, 2), ({"a": 2}, 4), ("x", 6)]
    assert reader.after_records


@pytest.mark.parametrize("chars", [1, 2, 3, 5, 1024])
@pytest.mark.parametrize("end", ["\n", "\r", "\r\n"])
def test_cr_lf_and_cr_lf_each_end_a_line_across_small_reads(monkeypatch, chars, end):
    monkeypatch.setattr(_json_stream, "_READ_CHARS", chars)
    text = "[\n 1,\n\n {\"a\":\n 2},\n \"x\"\n]".replace("\n", end)
    reader = _json_stream.array_items(io.StringIO(text))
    assert [(item, reader.line) for item in reader] == [(1, 2), ({"a": 2}, 4), ("x", 6)]
    with pytest.raises(_json_stream.JsonFormatError) as caught:
        items(text.replace('"x"', "{oops}"))
    assert caught.value.line == 6


@pytest.mark.parametrize("chars", [1, 2, 3, 1024])
def test_mixed_line_ends_are_counted_as_a_text_reader_splits_lines(monkeypatch, chars):
    monkeypatch.setattr(_json_stream, "_READ_CHARS", chars)
    text = '[\r\n1,\r\r\n\n2, \r"a"\n,\r\n\r\n3]'
    expected_lines = [number for number, line in enumerate(io.StringIO(text, newline=""), 1) if line.strip(" [,\r\n")]
    reader = _json_stream.array_items(io.StringIO(text))
    assert [reader.line for _item in reader] == expected_lines == [2, 5, 6, 9]


@pytest.mark.parametrize("text, expected", [
    (r'{"a": "\udc80", "b": "\uDCFF"}', {"\udc80", "\udcff"}),
    (r'{"a": "\\udc80"}', set()),  # a backslash, then text
    (r'{"a": "\\\udc80"}', {"\udc80"}),
    (r'{"a": "\ud800\udc80"}', {"\udc80"}),  # a pair: the decoded text holds neither half
    (r'{"a": "\udc7f \ud800"}', set()),  # not a character an undecodable byte becomes
    ('{"a": "\udc80", "b": "\\udc80"}', set()),  # a byte the encoding could not decode is there too: not told apart
])
def test_escaped_surrogates_are_the_escapes_of_what_undecodable_bytes_become(text, expected):
    assert _json_stream.escaped_surrogates(text) == expected


def test_each_item_carries_the_surrogates_its_text_escapes_across_small_reads(monkeypatch):
    monkeypatch.setattr(_json_stream, "_READ_CHARS", 3)
    reader = _json_stream.array_items(io.StringIO(r'["\udc80", "x", {"a": "\udcfe"}]'))
    assert [reader.escaped for _item in reader] == [{"\udc80"}, set(), {"\udcfe"}]


def test_numbers_keep_their_text_and_repeated_names_are_marked():
    assert [_json_stream.literal_text(item) for item in items('[1.50, 1e2, -0, 7, 12345678901234567890]')] == [
        "1.50", "1e2", "-0", None, None]
    record = items('[{"a": 1, "b": 2, "a": 3}]')[0]
    assert isinstance(record, _json_stream.DuplicateKeys) and record.duplicates == ["a"] and record["a"] == 3


def test_line_breaks_count_cr_lf_and_cr_lf_once_also_when_a_cr_lf_is_split_between_two_counts():
    assert _json_stream.line_breaks("a\nb\rc\r\nd") == 3
    assert _json_stream.line_breaks("a\r") == 1 and _json_stream.line_breaks("\nb", after_cr=True) == 0
    assert _json_stream.line_breaks("x\r\ny\n", False, 0, 2) == 1
    assert _json_stream.line_breaks("x\r\ny\n", True, 2) == 1
