# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

import ast
import json
import os

import jsonschema
import pytest
from hypothesis import HealthCheck, given, settings, strategies as st

from ansible_collections.spo.user_profiles.plugins.module_utils import import_validation
from ansible_collections.spo.user_profiles.tests.unit.plugins.module_utils.test_import_build import (
    SCHEMA_PATH, build, messages, write,
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
    ({"upn": "a@x.com", "City": {"a": 1}, "Office": "1"}, "record 1, field 'City': a dict value cannot be imported"),
    ({"upn": "a@x.com", "City": "A", "Office": None}, "record 1, field 'Office': a null value cannot be imported"),
    ("a@x.com", "record 1: the record is a str, not an object"),
])
def test_record_problems(tmp_path, record, expected):
    result = build(tmp_path, records=[record])
    assert messages(result)[0].startswith(expected)
    assert result["files"] == [] and result["records"] == 0


def test_duplicate_ids_case_insensitive_with_lines(tmp_path):
    src = write(tmp_path, "d.csv", "upn,City,Office\na@x.com,A,1\nb@x.com,B,2\nA@X.com ,C,3\n")
    result = build(tmp_path, src=src)
    assert messages(result) == ["record 3, line 4, field 'upn': duplicate id 'A@X.com ', first seen at record 1 (line 2)"]
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
    result = build(tmp_path, id_type=id_type, records=[record])
    assert (result["problem_count"] == 0) == schema_ok, (record, result["problems"])


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
    assert checks.values(1, None, "a@x.com", ["A", 1.5]) == ["A", "1.5"]
    assert checks.values(2, None, "b@x.com", [True, 7]) == ["true", "7"]
    assert checks.values(3, None, " A@X.COM", ["C", "3"]) is None  # not an email address: refused, not remembered
    assert checks.values(4, None, "A@X.com", ["D", None]) is None  # a null value; the id still counts
    assert [(found["record"], found["field"]) for found in problems.listed] == [(3, "upn"), (4, "Office")]
    assert len(checks.suspects) == 1
    items = [(1, None, "a@x.com", []), {"record": 2}, (4, 6, "A@X.com", [])]
    assert list(import_validation.duplicate_problems(items, checks.suspects, "upn")) == [
        {"record": 4, "line": 6, "field": "upn", "message": "duplicate id 'A@X.com', first seen at record 1"}]
