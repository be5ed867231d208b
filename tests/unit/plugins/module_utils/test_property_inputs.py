# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

import json
import os

import pytest

from ansible_collections.spo.user_profiles.plugins.module_utils import import_build
from ansible_collections.spo.user_profiles.plugins.module_utils._json_stream import JsonFloat
from ansible_collections.spo.user_profiles.plugins.module_utils.import_readers import ImportFileError
from ansible_collections.spo.user_profiles.plugins.module_utils.import_validation import character_text
from ansible_collections.spo.user_profiles.plugins.module_utils.profile_values import PropertyKinds
from ansible_collections.spo.user_profiles.plugins.module_utils.property_inputs import (
    ProfileInput, user_problem, value_problem,
)

KINDS = PropertyKinds(multi_value=["Certifications"])


def entries(inputs, max_problems=20):
    with inputs:
        problems = inputs.check(max_problems)
        assert problems.count == 0, problems.listed
        return list(inputs)


def problems_of(inputs):
    with inputs:
        return inputs.check(20).listed


def test_one_user_strings_lists_and_clearing():
    inputs = ProfileInput(KINDS, user="adele@contoso.com", properties={
        "CostCenter": "CC-1", "SPS-Skills": ["Python", "Ansible"], "AboutMe": None, "Certifications": "", "Level": 3})
    assert entries(inputs) == [(1, "adele@contoso.com", {
        "CostCenter": "CC-1", "SPS-Skills": ["Python", "Ansible"], "AboutMe": "", "Certifications": [], "Level": "3"})]


def test_a_string_for_a_multi_valued_property_is_split_at_the_separator():
    inputs = ProfileInput(KINDS, profiles=[{"user": "a@contoso.com", "properties": {"sps-skills": "C#; .NET", "Note": "x;y"}}],
                          separator=";")
    assert entries(inputs)[0][2] == {"sps-skills": ["C#", ".NET"], "Note": "x;y"}


def test_a_csv_source_maps_fields_to_properties_and_ignores_the_rest(tmp_path):
    src = tmp_path / "people.csv"
    src.write_text("upn,skills,cc,nick\nadele@contoso.com,Python|Ansible,CC-1,ad\nalex@contoso.com,,CC-2,al\n", encoding="utf-8")
    inputs = ProfileInput(KINDS, src=str(src), id_property="upn", property_map={"skills": "SPS-Skills", "cc": "CostCenter"})
    assert entries(inputs) == [
        (1, "adele@contoso.com", {"SPS-Skills": ["Python", "Ansible"], "CostCenter": "CC-1"}),
        (2, "alex@contoso.com", {"SPS-Skills": [], "CostCenter": "CC-2"}),
    ]
    assert inputs.ignored_fields == ["nick"]


def test_a_json_lines_source_keeps_lists_and_non_latin_text(tmp_path):
    src = tmp_path / "people.jsonl"
    src.write_text("\n".join(json.dumps(record, ensure_ascii=False) for record in [
        {"upn": "zoë@contoso.com", "skills": ["日本語", "l'été"], "city": "Zürich #1 100%"},
    ]) + "\n", encoding="utf-8")
    inputs = ProfileInput(KINDS, src=str(src), id_property="upn", property_map={"skills": "SPS-Skills", "city": "City"})
    assert entries(inputs) == [(1, "zoë@contoso.com", {"SPS-Skills": ["日本語", "l'été"], "City": "Zürich #1 100%"})]


def test_inline_records_read_like_a_source():
    inputs = ProfileInput(KINDS, records=[{"mail": "a@contoso.com", "cc": 7}], id_property="mail", property_map={"cc": "CostCenter"})
    assert entries(inputs) == [(1, "a@contoso.com", {"CostCenter": "7"})]


def test_every_problem_names_its_record_line_and_field(tmp_path):
    src = tmp_path / "people.csv"
    src.write_text("upn,cc\njdoe,CC-1\n,CC-2\nadele@contoso.com,CC-3\nADELE@contoso.com,CC-4\n", encoding="utf-8")
    inputs = ProfileInput(KINDS, src=str(src), id_property="upn", property_map={"cc": "CostCenter"})
    assert [(found["record"], found["line"], found["field"]) for found in problems_of(inputs)] == [
        (1, 2, "upn"), (2, 3, "upn"), (4, 5, "upn")]
    assert "not a user principal name" in problems_of(inputs)[0]["message"]
    assert "duplicate id" in problems_of(inputs)[2]["message"] and "record 3" in problems_of(inputs)[2]["message"]


def test_undecodable_bytes_are_refused_not_sent(tmp_path):
    src = tmp_path / "people.csv"
    src.write_bytes(b"upn,city\nadele@contoso.com,Z\xfcrich\n")
    inputs = ProfileInput(KINDS, src=str(src), id_property="upn", property_map={"city": "City"})
    assert [(found["field"], found["message"]) for found in problems_of(inputs)] == [
        ("city", "the text is not valid in the declared encoding")]


def test_values_that_cannot_be_written_are_refused():
    inputs = ProfileInput(KINDS, profiles=[
        {"user": "a@contoso.com", "properties": {"A": {"x": 1}, "B": [1, None], "C": [["x"]], "": "x"}},
        {"user": "b@contoso.com", "properties": {"Office": "1", "office": "2"}},
        {"user": "c@contoso.com", "properties": "Office=1"},
    ])
    listed = [(found["record"], found["field"]) for found in problems_of(inputs)]
    assert listed == [(1, "profiles[].properties"), (1, "profiles[].properties.A"), (1, "profiles[].properties.B"),
                      (1, "profiles[].properties.C"), (2, "profiles[].properties.office"), (3, "properties")]


@pytest.mark.parametrize("value, expected", [
    (["Python|Ansible"], "the item 'Python|Ansible' of SPS-Skills holds '|', which SharePoint joins the items of a "
                         "multi value with when it reads them: give each value as an item of its own"),
    (["Python", ""], "an item of SPS-Skills is empty: leave it out (an empty list clears the property)"),
    ([" c "], "the item ' c ' of SPS-Skills has spaces at its ends: give 'c'"),
    (["Go", "C#\t"], "the item 'C#\\t' of SPS-Skills has spaces at its ends: give 'C#'"),
])
def test_a_list_item_that_would_not_be_read_back_as_written_is_refused(value, expected):
    inputs = ProfileInput(KINDS, profiles=[{"user": "a@contoso.com", "properties": {"CostCenter": "ok"}},
                                           {"user": "b@contoso.com", "properties": {"SPS-Skills": value}}])
    assert [(found["record"], found["field"], found["message"]) for found in problems_of(inputs)] == [
        (2, "profiles[].properties.SPS-Skills", expected)]


def test_text_is_split_stripped_and_loses_empty_items_but_a_split_item_holding_the_read_separator_is_refused(tmp_path):
    src = tmp_path / "people.csv"
    src.write_text("upn,skills,cc\na@contoso.com, Go ;;Rust,A|B\nb@contoso.com,C|D;Go,x\n", encoding="utf-8")
    mapping = {"skills": "SPS-Skills", "cc": "CostCenter"}
    inputs = ProfileInput(KINDS, src=str(src), id_property="upn", property_map=mapping, separator=";")
    assert [(found["record"], found["line"], found["field"], found["message"]) for found in problems_of(inputs)] == [
        (2, 3, "skills", "the item 'C|D' of SPS-Skills holds '|', which SharePoint joins the items of a multi value "
                         "with when it reads them: give each value as an item of its own")]
    src.write_text("upn,skills,cc\na@contoso.com, Go ;;Rust,A|B\n", encoding="utf-8")
    inputs = ProfileInput(KINDS, src=str(src), id_property="upn", property_map=mapping, separator=";")
    assert entries(inputs) == [(1, "a@contoso.com", {"SPS-Skills": ["Go", "Rust"], "CostCenter": "A|B"})]


def test_a_list_from_a_json_source_is_checked_as_an_inline_list(tmp_path):
    src = tmp_path / "people.jsonl"
    src.write_text('{"upn": "a@contoso.com", "certs": ["AZ-104", ""]}\n{"upn": "b@contoso.com", "certs": [" AZ-900"]}\n',
                   encoding="utf-8")
    inputs = ProfileInput(KINDS, src=str(src), id_property="upn", property_map={"certs": "Certifications"})
    assert [(found["record"], found["line"], found["field"]) for found in problems_of(inputs)] == [
        (1, 1, "certs"), (2, 2, "certs")]


def test_a_property_name_with_spaces_at_its_ends_or_invisible_characters_is_refused_naming_its_record():
    inputs = ProfileInput(KINDS, profiles=[
        {"user": "a@contoso.com", "properties": {"CostCenter": "1"}},
        {"user": "b@contoso.com", "properties": {" CostCenter": "1", "CostCenter": "2"}},
        {"user": "c@contoso.com", "properties": {"Cost\u200bCenter": "1"}},
        {"user": "d@contoso.com", "properties": {"Cost Center": "1", "Cost\u00a0Center": "2"}},
    ])
    assert [(found["record"], found["field"], found["message"].split(":")[0]) for found in problems_of(inputs)] == [
        (2, "profiles[].properties", "' CostCenter' holds U+0020 (SPACE) at character 1"),
        (3, "profiles[].properties", "'Cost\\u200bCenter' holds U+200B (ZERO WIDTH SPACE) at character 5"),
        (4, "profiles[].properties", "'Cost\\xa0Center' holds U+00A0 (NO-BREAK SPACE) at character 5")]


@pytest.mark.parametrize("property_map, expected", [
    ({}, "property_map: map at least one source field"),
    ({"cc": ""}, "source fields and properties must be non-empty text"),
    ({"cc": "CostCenter ", "cc2": "CostCenter"}, "property_map: cc: 'CostCenter ' holds U+0020 (SPACE) at character 11"),
    ({"cc": "Cost\ufeffCenter"}, "property_map: cc: 'Cost\\ufeffCenter' holds U+FEFF"),
    ({"upn": "UserName"}, "upn is the id field"),
    ({"a": "Office", "b": "office"}, "a and b both map to the property office"),
])
def test_a_wrong_property_map_is_refused_before_the_source_is_read(property_map, expected):
    inputs = ProfileInput(KINDS, src="/nonexistent.csv", id_property="upn", property_map=property_map)
    assert expected in problems_of(inputs)[0]["message"]


def test_a_missing_file_cannot_be_read():
    inputs = ProfileInput(KINDS, src="/nonexistent.csv", id_property="upn", property_map={"cc": "CostCenter"})
    with pytest.raises(ImportFileError):
        inputs.check(20)


def test_the_source_is_read_lazily_one_user_at_a_time(tmp_path):
    src = tmp_path / "many.jsonl"
    with open(src, "w", encoding="utf-8") as handle:
        for number in range(1000):
            handle.write(json.dumps({"upn": "u%d@contoso.com" % number, "cc": "CC-%d" % number}) + "\n")
    with ProfileInput(KINDS, src=str(src), id_property="upn", property_map={"cc": "CostCenter"}) as inputs:
        assert inputs.check(20).count == 0
        iterator = iter(inputs)
        assert next(iterator) == (1, "u0@contoso.com", {"CostCenter": "CC-0"})
        assert sum(1 for _entry in iterator) == 999


@pytest.mark.parametrize("user, expected", [
    ("jdoe@contoso.com", None),
    ("i:0#.f|membership|jdoe@contoso.com", None),
    ("i:0#.f|membership|jdoe_fabrikam.com#EXT#@contoso.onmicrosoft.com", None),  # a guest
    ("jdoe", "is not a user principal name"),
    ("", "the user is missing"),
    (None, "the user is missing"),
    (7, "must be text"),
    ("i:0#.f|membership|jdoe", "'i:0#.f|membership|jdoe' is not the claims name of a user (i:0#.f|membership|name@"),
    ("i:0#.f|membership|", "is not the claims name of a user"),
    ("i:0#.f|membership|i:0#.f|membership|jdoe@contoso.com", "is not the claims name of a user"),
    ("i:0#.w|contoso\\jdoe@contoso.com", "is not the claims name of a user"),
    ("c:0o.c|federateddirectoryclaimprovider|jdoe@contoso.com", "is not the claims name of a user"),
    ("c:0(.s|true", "is not the claims name of a user"),
    ("I:0#.F|MEMBERSHIP|jdoe@contoso.com", "is not the claims name of a user"),
    ("i:0-totally-not-a-user", "is not the claims name of a user"),
    ("   ", "'   ' is not a user principal name"),
    ("ann smith", "'ann smith' is not a user principal name"),
    ("i:0 totally not a user", "'i:0 totally not a user' is not the claims name of a user"),
])
def test_user_problem(user, expected):
    found = user_problem(user)
    assert found is None if expected is None else expected in found


@pytest.mark.parametrize("value, ok", [
    ("x", True), (1, True), (JsonFloat("1.50"), True), (True, True), (None, True), ([], True), (["a", 1, False], True),
    ({"a": 1}, False), ([None], False), ([["a"]], False), (1.5, False), (["a", 2.5], False),
])
def test_value_problem(value, ok):
    assert (value_problem(value) is None) is ok


@pytest.mark.parametrize("user, code_point", [
    (" jdoe@contoso.com", "U+0020 (SPACE) at character 1"),
    ("jdoe@contoso.com ", "U+0020 (SPACE) at character 17"),
    ("jdoe@contoso.com\t", "U+0009 at character 17"),
    ("jdoe@contoso.com\u200b", "U+200B (ZERO WIDTH SPACE) at character 17"),
    ("\ufeffjdoe@contoso.com", "U+FEFF (ZERO WIDTH NO-BREAK SPACE) at character 1"),
    ("jdoe\u00a0@contoso.com", "U+00A0 (NO-BREAK SPACE) at character 5"),
    ("jd\u2060oe@contoso.com", "U+2060 (WORD JOINER) at character 3"),
    ("jdoe@contoso.com\u3000", "U+3000 (IDEOGRAPHIC SPACE) at character 17"),
    ("i:0#.f|membership|jdoe@contoso.com\u200e", "U+200E (LEFT-TO-RIGHT MARK) at character 35"),
    ("jd\x00oe@contoso.com", "U+0000 at character 3"),
    # a format character since Unicode 15.0, named as this Python's Unicode can (by its code point alone before 3.12)
    ("jd\U00013439oe@contoso.com", "%s at character 3" % character_text("\U00013439")),
])
def test_spaces_and_invisible_characters_in_a_user_are_refused_naming_the_code_point(user, code_point):
    assert user_problem(user) == "%r holds %s: a user name has no spaces or invisible characters" % (user, code_point)


def test_a_user_with_an_invisible_character_is_refused_naming_its_line(tmp_path):
    src = tmp_path / "people.csv"
    src.write_text("upn,cc\nadele@contoso.com\u200b,CC-1\nadele@contoso.com,CC-2\n alex@contoso.com,CC-3\n",
                   encoding="utf-8")
    inputs = ProfileInput(KINDS, src=str(src), id_property="upn", property_map={"cc": "CostCenter"})
    assert [(found["record"], found["line"], found["field"], found["message"].split(": ")[0])
            for found in problems_of(inputs)] == [
        (1, 2, "upn", "'adele@contoso.com\\u200b' holds U+200B (ZERO WIDTH SPACE) at character 18"),
        (3, 4, "upn", "' alex@contoso.com' holds U+0020 (SPACE) at character 1")]


def test_a_user_given_as_a_claims_name_and_as_a_principal_name_is_a_duplicate(tmp_path):
    src = tmp_path / "people.csv"
    src.write_text("upn,cc\ni:0#.f|membership|Ann@X.com,CC-1\nbob@x.com,CC-2\nann@x.com,CC-3\n", encoding="utf-8")
    inputs = ProfileInput(KINDS, src=str(src), id_property="upn", property_map={"cc": "CostCenter"})
    assert [(found["record"], found["line"], found["field"], found["message"]) for found in problems_of(inputs)] == [
        (3, 4, "upn", "duplicate id 'ann@x.com', first seen at record 1 (line 2) as 'i:0#.f|membership|Ann@X.com'")]
    profiles = ProfileInput(KINDS, profiles=[{"user": "ann@x.com", "properties": {"X": "1"}},
                                             {"user": "i:0#.f|membership|ANN@x.com", "properties": {"X": "2"}}])
    assert [found["message"] for found in problems_of(profiles)] == [
        "duplicate id 'i:0#.f|membership|ANN@x.com', first seen at record 1 as 'ann@x.com'"]


def test_a_claims_name_of_a_user_is_written_as_given():
    inputs = ProfileInput(KINDS, user="i:0#.f|membership|ann@x.com", properties={"X": "1"})
    assert entries(inputs) == [(1, "i:0#.f|membership|ann@x.com", {"X": "1"})]


def test_what_is_written_is_what_was_checked_even_when_the_source_changes_in_between(tmp_path):
    src = tmp_path / "people.csv"
    src.write_text("upn,cc\nadele@contoso.com,CC-1\n", encoding="utf-8")
    with ProfileInput(KINDS, src=str(src), id_property="upn", property_map={"cc": "CostCenter"}) as inputs:
        assert inputs.check(20).count == 0
        # Unchecked users, a user that is no principal name, a duplicate, then a malformed row.
        src.write_text("upn,cc\nadele@contoso.com,CC-9\njdoe,x\nalex@contoso.com,1\nalex@contoso.com,2\nbob\n",
                       encoding="utf-8")
        assert list(inputs) == [(1, "adele@contoso.com", {"CostCenter": "CC-1"})]
        os.remove(src)
        assert list(inputs) == [(1, "adele@contoso.com", {"CostCenter": "CC-1"})]


def test_the_private_copy_is_removed_on_close(tmp_path):
    src = tmp_path / "people.csv"
    src.write_text("upn,cc\nadele@contoso.com,CC-1\n", encoding="utf-8")
    with ProfileInput(KINDS, src=str(src), id_property="upn", property_map={"cc": "CostCenter"}) as inputs:
        inputs.check(20)
        copy = inputs._snapshot
        assert os.path.basename(copy) == "people.csv" and copy != str(src)
        assert oct(os.stat(os.path.dirname(copy)).st_mode & 0o777) == "0o700"
        assert inputs.check(20).count == 0 and inputs._snapshot != copy and not os.path.exists(copy)
        copy = inputs._snapshot
    assert not os.path.exists(os.path.dirname(copy))
    with pytest.raises(ValueError, match="only after check"):  # not from src itself, unchecked
        list(inputs)


def test_a_file_that_cannot_be_read_is_named_by_its_own_path_not_its_copys(tmp_path):
    src = tmp_path / "people.data"
    src.write_bytes(b"\xff\xfeu\x00p\x00n\x00")
    with ProfileInput(KINDS, src=str(src), id_property="upn", property_map={"cc": "CostCenter"}) as inputs:
        with pytest.raises(ImportFileError) as raised:
            inputs.check(20)
    assert str(raised.value).startswith("%s starts with a UTF-16" % src)


@pytest.mark.parametrize("source", [None, "refused"])
def test_the_input_is_not_iterated_unless_check_found_nothing(source):
    user = "jdoe" if source == "refused" else "jdoe@contoso.com"
    inputs = ProfileInput(KINDS, user=user, properties={"CostCenter": "1"})
    if source == "refused":
        assert inputs.check(20).count == 1
    with pytest.raises(ValueError, match="only after check"):
        list(inputs)


def test_numbers_and_booleans_are_the_text_the_bulk_import_writes(tmp_path):
    src = tmp_path / "people.json"
    src.write_text('[{"upn": "a@x.com", "cc": true, "off": false, "n": 1.50, "big": 12345678901234567890, "m": -0}]',
                   encoding="utf-8")
    mapping = {"cc": "CostCenter", "off": "Off", "n": "N", "big": "Big", "m": "M"}
    built = import_build.build_import_files(str(tmp_path), "p", "upn", mapping, src=str(src))
    with open(built["files"][0]["path"], "rb") as handle:
        (bulk,) = json.loads(handle.read().decode("utf-8-sig"))["value"]
    (_number, _user, desired), = entries(ProfileInput(KINDS, src=str(src), id_property="upn", property_map=mapping))
    assert desired == dict((mapping[field], bulk[field]) for field in mapping)
    assert desired == {"CostCenter": "true", "Off": "false", "N": "1.50", "Big": "12345678901234567890", "M": "-0"}
    inline = ProfileInput(KINDS, user="a@x.com", properties={"CostCenter": True, "SPS-Skills": [False, 2]})
    assert entries(inline)[0][2] == {"CostCenter": "true", "SPS-Skills": ["false", "2"]}


@pytest.mark.parametrize("value", [1.50, 12345678901234567890.0, 1e16, 0.0])
def test_an_inline_float_is_refused_as_the_bulk_import_refuses_it(tmp_path, value):
    # YAML has already read 1.50 as 1.5: the text written is lost, whichever module is to write it
    message = ("the decimal number %r no longer holds the text it was written as (YAML reads 1.50 as 1.5); quote the "
               "value so that it stays text as written" % value)
    built = import_build.build_import_files(str(tmp_path), "p", "upn", {"cc": "CostCenter"},
                                            records=[{"upn": "a@x.com", "cc": value}])
    assert [found["message"] for found in built["problems"]] == [message]
    assert [found["message"] for found in problems_of(ProfileInput(KINDS, user="a@x.com", properties={"CostCenter": value}))] \
        == [message]
    records = ProfileInput(KINDS, records=[{"upn": "a@x.com", "cc": value}], id_property="upn", property_map={"cc": "CostCenter"})
    assert [(found["record"], found["field"], found["message"]) for found in problems_of(records)] == [(1, "cc", message)]
