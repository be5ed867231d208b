# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

import ast
import json
import os
import re
import unicodedata

import jsonschema
import pytest
from hypothesis import HealthCheck, given, settings, strategies as st

from ansible_collections.spo.user_profiles.plugins.module_utils import _json_stream, import_validation
from ansible_collections.spo.user_profiles.tests.unit.plugins.module_utils.test_import_build import (
    SCHEMA_PATH, build, messages, read_back, write,
)


# Option values as they come from YAML or JSON: JSON objects have string keys only.
_option_values = st.recursive(st.none() | st.booleans() | st.integers() | st.text(max_size=3),
                              lambda inner: st.lists(inner, max_size=2) | st.dictionaries(st.text(max_size=3), inner, max_size=3),
                              max_leaves=4)


# Mostly valid values, so that one bad option at a time is common.
_names = st.text(min_size=1, max_size=3)


@pytest.mark.parametrize("record,expected", [
    ({"City": "A", "Office": "1"}, "record 1, field 'upn': the id is missing"),
    ({"upn": None, "City": "A", "Office": "1"}, "record 1, field 'upn': the id is missing"),
    ({"upn": "  ", "City": "A", "Office": "1"}, "record 1, field 'upn': the id is empty"),
    ({"upn": 5, "City": "A", "Office": "1"}, "record 1, field 'upn': the id must be a string, not int"),
    ({"upn": "a@x.com", "City": {"a": 1}, "Office": "1"}, "record 1, field 'City': an object cannot be imported"),
    # an object that names a member twice is an object all the same
    ({"upn": "a@x.com", "City": _json_stream.DECODER.decode('{"a": 1, "a": 2}'), "Office": "1"},
     "record 1, field 'City': an object cannot be imported"),
    ({"upn": "a@x.com", "City": ["A"], "Office": "1"}, "record 1, field 'City': a list cannot be imported"),
    ({"upn": "a@x.com", "City": "A", "Office": None}, "record 1, field 'Office': a null value cannot be imported"),
    ("a@x.com", "record 1: the record is a str, not an object"),
])
def test_record_problems(tmp_path, record, expected):
    result = build(tmp_path, records=[record])
    assert messages(result)[0].startswith(expected)
    assert result["files"] == [] and result["records"] == 0


def test_duplicate_ids_case_insensitive_with_lines(tmp_path):
    src = write(tmp_path, "d.csv", "upn,City,Office\na@x.com,A,1\nb@x.com,B,2\nA@X.com,C,3\n")
    result = build(tmp_path, src=src)
    assert messages(result) == [
        "record 3, line 4, field 'upn': duplicate id 'A@X.com', first seen at record 1 (line 2) as 'a@x.com'"]
    assert os.listdir(str(tmp_path)) == ["d.csv"]


def test_hash_collisions_are_not_reported_as_duplicates(tmp_path, monkeypatch):
    monkeypatch.setattr(import_validation, "id_key", lambda value: 42)
    result = build(tmp_path, records=[{"upn": "a@x.com", "City": "A", "Office": "1"}, {"upn": "b@x.com", "City": "B", "Office": "2"}])
    assert result["problems"] == [] and result["records"] == 2


def test_entra_synced_target_refused_with_hint(tmp_path):
    result = build(tmp_path, property_map={"dept": "Department", "City": "City"},
                   records=[{"upn": "a@x.com", "dept": "x", "City": "y"}])
    assert result["problem_count"] == 1
    assert "Department is synchronised from Entra ID" in result["problems"][0]["message"]
    assert "user_profile_property" in result["problems"][0]["message"]
    assert result["problems"][0]["field"] == "dept"


def _emulator_core_properties():
    """The emulator's list of Entra-synced core properties (tests/emulator/m365emu/store.py), the reference."""
    store = os.path.join(os.path.dirname(__file__), "..", "..", "..", "emulator", "m365emu", "store.py")
    with open(store, encoding="utf-8") as handle:
        tree = ast.parse(handle.read())
    for node in tree.body:
        if isinstance(node, ast.Assign) and [target.id for target in node.targets] == ["CORE_PROPERTIES"]:
            return ast.literal_eval(node.value)
    raise AssertionError("no CORE_PROPERTIES in the emulator's store.py")


def test_the_synced_properties_are_those_of_the_bulk_api_faq():
    assert sorted(import_validation.ENTRA_SYNCED_CORE_PROPERTIES) == sorted(_emulator_core_properties())
    assert {"SPS-SIPAddress", "SPS-MUILanguages", "SPS-RecipientTypeDetails", "SPS-UserType",
            "PublicSiteRedirect"} <= set(import_validation.ENTRA_SYNCED_CORE_PROPERTIES)


@pytest.mark.parametrize("target", ["SPS-SIPAddress", "sps-sipaddress", "PUBLICSITEREDIRECT", "sps-usertype", "title"])
def test_synced_targets_are_refused_whatever_their_case(target):
    problems = import_validation.check_inputs("upn", {"src": target})
    assert len(problems) == 1 and problems[0]["field"] == "src"
    assert "is synchronised from Entra ID" in problems[0]["message"]


@given(id_property=_names | _option_values,
       property_map=st.dictionaries(st.text(max_size=3), st.text(max_size=3), min_size=1, max_size=3) | _option_values,
       id_type=st.sampled_from([None] + list(import_validation.ID_TYPES)) | _option_values,
       records=st.none() | st.lists(st.dictionaries(_names, _names, max_size=2), max_size=2) | _option_values)
def test_input_checks_agree_with_the_inputs_schema(id_property, property_map, id_type, records):
    inputs = {"id_property": id_property, "property_map": property_map, "id_type": id_type, "records": records}
    schema_ok = jsonschema.Draft202012Validator(import_validation.INPUTS_SCHEMA).is_valid(inputs)
    assert (list(import_validation._input_problems(id_property, property_map, id_type, records)) == []) == schema_ok


@pytest.mark.parametrize("id_type,good,bad", [
    ("email", "jane.doe@contoso.com", "jane.doe"),
    ("principal_name", "jane@contoso.onmicrosoft.com", "jane@contoso com"),
    ("cloud_id", "2c0cbe14-3e0b-4f4d-9f0b-5b2d0a5e8f11", "2c0cbe14-3e0b-4f4d-9f0b"),
])
def test_id_formats(tmp_path, id_type, good, bad):
    ok = build(tmp_path, id_type=id_type, records=[{"upn": good, "City": "A", "Office": "1"}])
    assert ok["problems"] == []
    refused = build(tmp_path, id_type=id_type, records=[{"upn": bad, "City": "A", "Office": "1"}, {"upn": good + "\n", "City": "A", "Office": "1"}])
    assert refused["problem_count"] == 2
    assert "(id_type %s)" % id_type in refused["problems"][0]["message"]


def test_shipped_schema_equals_the_constant():
    with open(SCHEMA_PATH, encoding="utf-8") as handle:
        assert json.load(handle) == import_validation.IMPORT_FILE_SCHEMA
    jsonschema.Draft202012Validator.check_schema(import_validation.IMPORT_FILE_SCHEMA)
    jsonschema.Draft202012Validator.check_schema(import_validation.record_schema("upn", ["City"], "cloud_id"))


# property-based: the fast checks against record_schema ---------------------------------------------------------

FIELDS = ["upn", "City", "Office"]
scalars = st.one_of(st.text(max_size=8), st.booleans(), st.integers(), st.floats(allow_nan=False, allow_infinity=False))
values = st.one_of(scalars, st.none(), st.lists(st.integers(), max_size=2), st.dictionaries(st.text(max_size=2), st.integers(), max_size=1))
# Near misses on purpose: whitespace, a second "@", dots and newlines where the id patterns must refuse them.
ids = st.one_of(st.text(max_size=6), st.from_regex(r"[a-z @\t]{1,4}@[a-z. @]{1,4}\.[a-z.]{1,2}\n?", fullmatch=True),
                st.uuids().map(str), st.uuids().map(lambda value: str(value).upper()),
                st.uuids().map(lambda value: str(value) + "\n"), st.uuids().map(lambda value: " " + str(value)),
                st.from_regex(r"[a-z]{1,3}@[a-z]{1,3}", fullmatch=True), st.from_regex(r"[0-9a-fA-Fg-]{36}", fullmatch=True),
                st.integers(), st.none())
complete = st.fixed_dictionaries({"upn": ids, "City": scalars, "Office": values}, optional={"extra": values})
records_st = st.one_of(
    complete,
    complete.flatmap(lambda record: st.sampled_from(sorted(record)).map(
        lambda dropped: {key: value for key, value in record.items() if key != dropped})),
    st.dictionaries(st.sampled_from(FIELDS + ["extra"]), values, max_size=4),
)


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(record=records_st, id_type=st.sampled_from([None] + list(import_validation.ID_TYPES)))
def test_fast_checks_agree_with_the_schema(tmp_path, record, id_type):
    schema = import_validation.record_schema("upn", ["City", "Office"], id_type)
    schema_ok = jsonschema.Draft202012Validator(schema).is_valid(record)
    # A float of an inline record is refused as well (its text is lost), which JSON Schema cannot tell from an integer.
    inline_float = any(isinstance(record.get(field), float) for field in ("City", "Office"))
    result = build(tmp_path, id_type=id_type, records=[record])
    assert (result["problem_count"] == 0) == (schema_ok and not inline_float), (record, result["problems"])


@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(record_id=ids, id_type=st.sampled_from([None] + list(import_validation.ID_TYPES)))
def test_id_checks_agree_with_the_schema(tmp_path, record_id, id_type):
    record = {"upn": record_id, "City": "c", "Office": "o"}
    schema_ok = jsonschema.Draft202012Validator(import_validation.record_schema("upn", ["City", "Office"], id_type)).is_valid(record)
    result = build(tmp_path, id_type=id_type, records=[record])
    assert (result["problem_count"] == 0) == schema_ok, (record, result["problems"])


# the checks on their own -------------------------------------------------------------------------------------------

def test_problems_are_all_counted_and_the_first_kept():
    problems = import_validation.Problems(max_problems=2)
    for number in range(1, 5):
        problems.report(number, None, "upn", "bad")
    assert problems.count == 4 and [found["record"] for found in problems.listed] == [1, 2]


def test_record_checks_give_text_values_and_remember_ids_that_met():
    problems = import_validation.Problems()
    checks = import_validation.RecordChecks("upn", ["City", "Office"], problems, id_type="email")
    assert checks.values(1, None, "a@x.com", ["A", _json_stream.JsonFloat("1.50")]) == ["A", "1.50"]
    assert checks.values(2, None, "b@x.com", [True, 7]) == ["true", "7"]
    assert checks.values(3, None, " A@X.COM", ["C", "3"]) is None  # not an email address: refused, not remembered
    assert checks.values(4, None, "A@X.com", ["D", None]) is None  # a null value; the id still counts
    assert [(found["record"], found["field"]) for found in problems.listed] == [(3, "upn"), (4, "Office")]
    assert len(checks.suspects) == 1
    items = [(1, None, "a@x.com", []), {"record": 2}, (4, 6, "A@X.com", [])]
    assert list(import_validation.duplicate_problems(items, checks.suspects, "upn")) == [
        {"record": 4, "line": 6, "field": "upn", "message": "duplicate id 'A@X.com', first seen at record 1 as 'a@x.com'"}]


def test_duplicate_problems_compare_ids_by_their_key_and_name_the_form_first_seen():
    # The key of "a@x.com" and of "user:A@X.com" is one user; None names nobody and is never a duplicate.
    def key(record_id):
        return None if record_id.startswith("nobody") else record_id.split(":")[-1]

    suspects = {import_validation.id_key("a@x.com"), import_validation.id_key("nobody")}
    items = [(1, 2, "user:A@X.com", []), (2, 3, "b@x.com", []), (3, 4, "a@x.com", []), (4, 5, "nobody", []),
             (5, 6, "nobody", []), (6, 7, "user:A@X.com", [])]
    assert [(found["record"], found["message"])
            for found in import_validation.duplicate_problems(items, suspects, "user", key=key)] == [
        (3, "duplicate id 'a@x.com', first seen at record 1 (line 2) as 'user:A@X.com'"),
        (6, "duplicate id 'user:A@X.com', first seen at record 1 (line 2)")]


# two fields on one property ----------------------------------------------------------------------------------------

def test_two_fields_mapped_to_one_property_are_refused_naming_both():
    problems = import_validation.check_inputs("upn", {"cc": "CostCenter", "City": "City", "cost": "costcenter"})
    assert [(found["field"], found["message"]) for found in problems] == [
        ("cost", "cc and cost both map to the property costcenter")]


def test_two_fields_mapped_to_one_property_read_no_record(tmp_path):
    result = build(tmp_path, property_map={"City": "City", "Office": "CITY"}, src=str(tmp_path / "not-read.csv"))
    assert messages(result) == ["field 'Office': City and Office both map to the property CITY"]


# ids: invisible characters, whitespace, controls --------------------------------------------------------------------

@pytest.mark.parametrize("id_type,record_id,expected", [
    ("email", "ann@x.com\u200b", "the id holds U+200B (ZERO WIDTH SPACE), an invisible format character"),
    (None, "\ufeffann@x.com", "the id holds U+FEFF (ZERO WIDTH NO-BREAK SPACE), an invisible format character"),
    (None, "ann@x.com\u00a0", "the id holds U+00A0 (NO-BREAK SPACE), whitespace other than the space"),
    (None, "ann\u2028@x.com", "the id holds U+2028 (LINE SEPARATOR), whitespace other than the space"),
    (None, "ann@x.com\U000e0041", "the id holds U+E0041 (TAG LATIN CAPITAL LETTER A), an invisible format character"),
    (None, "ann\x1b@x.com", "the id holds the control character U+001B"),
    (None, "ann@x.com\t", "the id holds the control character U+0009"),
    (None, "ann@x.com ", "the id 'ann@x.com ' starts or ends with a space"),
    ("principal_name", " ann@x.com", "the id ' ann@x.com' starts or ends with a space"),
])
def test_ids_with_invisible_characters_or_surrounding_space_are_refused(tmp_path, id_type, record_id, expected):
    result = build(tmp_path, id_type=id_type, records=[{"upn": record_id, "City": "A", "Office": "1"},
                                                       {"upn": "ann@x.com", "City": "B", "Office": "2"}])
    assert result["problem_count"] == 1 and result["files"] == []
    assert messages(result)[0].startswith("record 1, field 'upn': " + expected)


@pytest.mark.parametrize("char", ["\u200b", "\U00013439"])
def test_an_id_names_a_character_as_character_text_does(tmp_path, char):
    # U+13439, a format character since Unicode 15.0, has no name in a Python of an older Unicode (3.11 and before):
    # its code point alone names it, as in the messages about users and property names.
    result = build(tmp_path, records=[{"upn": "ann@x.com" + char, "City": "A", "Office": "1"}])
    assert messages(result) == [
        "record 1, field 'upn': the id holds %s, an invisible format character: an id may hold no control or format "
        "characters and no whitespace but the space" % import_validation.character_text(char)]


def test_an_id_with_a_zero_width_space_is_named_with_its_line(tmp_path):
    src = write(tmp_path, "z.csv", "upn,City,Office\nann@x.com,A,1\nann@x.com\u200b,B,2\n")
    assert messages(build(tmp_path, src=src, id_type="email")) == [
        "record 2, line 3, field 'upn': the id holds U+200B (ZERO WIDTH SPACE), an invisible format character: an id may "
        "hold no control or format characters and no whitespace but the space"]


def test_spaces_inside_an_untyped_id_are_allowed(tmp_path):
    result = build(tmp_path, records=[{"upn": "Ann Smith", "City": "A", "Office": "1"}])
    assert result["problems"] == [] and result["records"] == 1


def test_hidden_in_name_is_what_no_id_may_hold_and_no_name_shows():
    # One rule for ids, users and property names: inside a name, the ids' pattern (exported to JSON Schema) refuses
    # a character just when hidden_in_name says it is hidden; every control, format and surrogate character and all
    # whitespace but the space is; and none of them is printable, which the fast paths rely on.
    id_pattern = re.compile(import_validation.ID_PATTERNS[None]).match
    wrong = []
    for code in range(0x110000):
        char = chr(code)
        hidden = import_validation.hidden_in_name(char)
        invisible = char != " " and (char.isspace() or unicodedata.category(char) in ("Cc", "Cf", "Cs"))
        if hidden != (id_pattern("a%sa" % char) is None) or (invisible and not hidden) or (hidden and char.isprintable()):
            wrong.append("U+%04X" % code)
    assert wrong == []


def test_every_format_character_of_this_python_is_refused_in_ids():
    refused = re.compile("[%s]" % import_validation._FORMAT_CHARACTERS)
    missing = ["U+%04X" % code for code in range(0x110000)
               if unicodedata.category(chr(code)) == "Cf" and not refused.match(chr(code))]
    assert missing == []


# values: control characters -----------------------------------------------------------------------------------------

@pytest.mark.parametrize("value,code", [("1\x0000", "U+0000"), ("\x1b[31m", "U+001B"), ("Sa\x7fles", "U+007F"),
                                        ("a\x0cb", "U+000C")])
def test_control_characters_in_csv_values_are_refused(tmp_path, value, code):
    src = write(tmp_path, "c.csv", "upn,City,Office\na@x.com,ok,1\nb@x.com,%s,2\n" % value)
    assert messages(build(tmp_path, src=src)) == [
        "record 2, line 3, field 'City': the value holds the control character %s: a value may hold tabs and line "
        "breaks, no other control characters" % code]


def test_a_json_escape_of_a_control_character_is_refused(tmp_path):
    src = write(tmp_path, "c.json", '[{"upn": "a@x.com", "City": "a\\u0000b", "Office": "1"}]')
    assert messages(build(tmp_path, src=src))[0].startswith(
        "record 1, line 1, field 'City': the value holds the control character U+0000")


def test_tabs_and_line_breaks_in_json_values_are_kept(tmp_path):
    src = write(tmp_path, "t.json", '[{"upn": "a@x.com", "City": "a\\tb\\r\\nc", "Office": "\\u00a0\\u200b"}]')
    result = build(tmp_path, src=src)
    assert read_back(result["files"][0]["path"]) == [{"upn": "a@x.com", "City": "a\tb\r\nc", "Office": "\u00a0\u200b"}]


def test_a_c1_control_says_the_file_is_probably_cp1252(tmp_path):
    src = tmp_path / "eur.csv"
    src.write_bytes(b"upn,City,Office\na@x.com,5\x80,Caf\xe9\n")
    assert messages(build(tmp_path, src=str(src), encoding="latin-1")) == [
        "record 1, line 2, field 'City': the value holds the control character U+0080, most likely byte 0x80 of cp1252 "
        "text (\u20ac) read as latin-1: the file is probably cp1252; set encoding: cp1252"]


def test_a_c1_control_in_utf8_text_was_cp1252_read_as_latin1_before(tmp_path):
    src = write(tmp_path, "eur.csv", "upn,City,Office\na@x.com,5\x9d,x\n")
    assert messages(build(tmp_path, src=src)) == [
        "record 1, line 2, field 'City': the value holds the control character U+009D, most likely byte 0x9D of cp1252 "
        "text read as latin-1 before it came here; a value may hold tabs and line breaks, no other control characters"]


# inline records: floats -------------------------------------------------------------------------------------------------

@pytest.mark.parametrize("value", [1.50, 12345678901234567890.0, 1e16, 0.0])
def test_a_float_of_an_inline_record_is_refused(tmp_path, value):
    result = build(tmp_path, records=[{"upn": "a@x.com", "City": value, "Office": "1"}])
    assert messages(result) == ["record 1, field 'City': the decimal number %r no longer holds the text it was written as "
                                "(YAML reads 1.50 as 1.5); quote the value so that it stays text as written" % value]


def test_integers_and_booleans_of_inline_records_are_written_as_text(tmp_path):
    result = build(tmp_path, records=[{"upn": "a@x.com", "City": 12345678901234567890, "Office": True}])
    assert read_back(result["files"][0]["path"]) == [{"upn": "a@x.com", "City": "12345678901234567890", "Office": "true"}]


@pytest.mark.parametrize("name, expected", [
    ("CostCenter", None),
    ("SPS-Skills", None),
    ("Cost Center", None),  # a space inside is seen
    (" CostCenter", "' CostCenter' holds U+0020 (SPACE) at character 1"),
    ("CostCenter\u00a0", "'CostCenter\\xa0' holds U+00A0 (NO-BREAK SPACE) at character 11"),
    ("Cost\u200bCenter", "'Cost\\u200bCenter' holds U+200B (ZERO WIDTH SPACE) at character 5"),
    ("\ufeffCostCenter", "'\\ufeffCostCenter' holds U+FEFF (ZERO WIDTH NO-BREAK SPACE) at character 1"),
    ("Cost\tCenter", "'Cost\\tCenter' holds U+0009 at character 5"),
    # whitespace but the space, inside the name too: "Cost\u00a0Center" looks like "Cost Center" and is not
    ("Cost\u00a0Center", "'Cost\\xa0Center' holds U+00A0 (NO-BREAK SPACE) at character 5"),
    ("Cost\u3000Center", "'Cost\\u3000Center' holds U+3000 (IDEOGRAPHIC SPACE) at character 5"),
    ("Cost\u2028Center", "'Cost\\u2028Center' holds U+2028 (LINE SEPARATOR) at character 5"),
    ("CostCenter\ud800", "'CostCenter\\ud800' holds U+D800 at character 11"),  # half a surrogate pair
    ("  ", "property names must be non-empty text, not '  '"),
    (7, "property names must be non-empty text, not 7"),
])
def test_property_name_problem(name, expected):
    found = import_validation.property_name_problem(name)
    assert found is None if expected is None else found.startswith(expected)
    if found and "holds" in found:
        assert found.endswith(": a property name has no invisible characters, nor spaces at its ends")


@pytest.mark.parametrize("target", [" CostCenter", "Cost\u200bCenter"])
def test_a_target_with_hidden_characters_is_refused_naming_its_field(target):
    found = list(import_validation.target_problems({"cc": target}))
    assert [(item["field"], item["message"].split(":")[0]) for item in found] == [
        ("cc", "%r holds %s at character %d" % (target, "U+0020 (SPACE)" if target[0] == " " else "U+200B (ZERO WIDTH SPACE)",
                                                1 if target[0] == " " else 5))]


def test_hidden_character_names_the_first_hidden_one_and_where_it_is():
    assert import_validation.hidden_character("ann@x.com") is None
    assert import_validation.hidden_character("a\u00a0b\u200b") == "holds U+00A0 (NO-BREAK SPACE) at character 2"
    assert import_validation.hidden_character("a b") is None
    assert import_validation.hidden_character("a b", lambda char: char == " ") == "holds U+0020 (SPACE) at character 2"
