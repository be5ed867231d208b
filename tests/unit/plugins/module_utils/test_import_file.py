# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

import codecs
import json
import os
import tempfile

import jsonschema
import pytest
from hypothesis import HealthCheck, given, settings, strategies as st

from ansible_collections.spo.user_profiles.plugins.module_utils import import_file as imp

from ansible_collections.spo.user_profiles.tests.unit.plugins.module_utils.test_files import FakeSharePoint, LIB, SITE

SCHEMA_PATH = os.path.join(os.path.dirname(__file__), "..", "..", "..", "..", "docs", "schemas", "import_file.schema.json")
MAP = {"City": "City", "Office": "SPS-Location"}


def build(tmp_path, prefix="p", property_map=None, **kw):
    return imp.build_import_files(str(tmp_path), prefix, "upn", property_map or MAP, **kw)


def read_back(path):
    raw = open(path, "rb").read()
    assert raw.startswith(codecs.BOM_UTF8)
    return json.loads(raw[3:].decode("utf-8"))["value"]


def messages(result):
    return [imp.format_problem(problem) for problem in result["problems"]]


def write(tmp_path, name, text, encoding="utf-8"):
    path = tmp_path / name
    path.write_bytes(text.encode(encoding))
    return str(path)


# sources ---------------------------------------------------------------------------------------------

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
    monkeypatch.setattr(imp, "_READ_CHARS", 5)
    result = build(tmp_path, src=write(tmp_path, "in.json", text))
    assert result["problems"] == []
    expected = [{"upn": "a@x.com", "City": "A", "Office": "1"}, {"upn": "b@x.com", "City": "B", "Office": "true"}]
    assert read_back(result["files"][0]["path"]) == expected


def test_json_number_split_by_buffer_is_read_whole(tmp_path, monkeypatch):
    monkeypatch.setattr(imp, "_READ_CHARS", 3)
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
    assert imp.detect_format(write(tmp_path, name, text)) == expected


def test_missing_source_file(tmp_path):
    with pytest.raises(imp.ImportFileError):
        build(tmp_path, src=str(tmp_path / "nope.csv"))


# mapping and validation -------------------------------------------------------------------------------

def test_mapped_field_missing_from_csv_header(tmp_path):
    result = build(tmp_path, src=write(tmp_path, "a.csv", "upn,City\na@x.com,A\n"))
    assert messages(result) == ["line 1, field 'Office': the mapped field is missing from the source"]


def test_mapped_field_missing_from_record(tmp_path):
    result = build(tmp_path, records=[{"upn": "a@x.com", "City": "A"}])
    assert messages(result) == ["record 1, field 'Office': the mapped field is missing from the record"]


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
    monkeypatch.setattr(imp, "_id_key", lambda value: 42)
    result = build(tmp_path, records=[{"upn": "a@x.com", "City": "A", "Office": "1"}, {"upn": "b@x.com", "City": "B", "Office": "2"}])
    assert result["problems"] == [] and result["records"] == 2


def test_entra_synced_target_refused_with_hint(tmp_path):
    result = build(tmp_path, property_map={"dept": "Department", "City": "City"},
                   records=[{"upn": "a@x.com", "dept": "x", "City": "y"}])
    assert result["problem_count"] == 1
    assert "Department is synchronised from Entra ID" in result["problems"][0]["message"]
    assert "user_profile_property" in result["problems"][0]["message"]
    assert result["problems"][0]["field"] == "dept"


def test_inputs_checked_before_any_record(tmp_path):
    result = build(tmp_path, property_map={"City": 5}, records=[])
    assert result["problem_count"] == 1 and "property_map.City" in messages(result)[0]
    assert result["files"] == []


# Option values as they come from YAML or JSON: JSON objects have string keys only.
_option_values = st.recursive(st.none() | st.booleans() | st.integers() | st.text(max_size=3),
                              lambda inner: st.lists(inner, max_size=2) | st.dictionaries(st.text(max_size=3), inner, max_size=3),
                              max_leaves=4)


# Mostly valid values, so that one bad option at a time is common.
_names = st.text(min_size=1, max_size=3)


@given(id_property=_names | _option_values,
       property_map=st.dictionaries(st.text(max_size=3), st.text(max_size=3), min_size=1, max_size=3) | _option_values,
       id_type=st.sampled_from([None] + list(imp.ID_TYPES)) | _option_values,
       records=st.none() | st.lists(st.dictionaries(_names, _names, max_size=2), max_size=2) | _option_values)
def test_input_checks_agree_with_the_inputs_schema(id_property, property_map, id_type, records):
    inputs = {"id_property": id_property, "property_map": property_map, "id_type": id_type, "records": records}
    schema_ok = jsonschema.Draft202012Validator(imp.INPUTS_SCHEMA).is_valid(inputs)
    assert (list(imp._input_problems(id_property, property_map, id_type, records)) == []) == schema_ok


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


def test_text_invalid_in_declared_encoding(tmp_path):
    path = tmp_path / "bad.csv"
    path.write_bytes(b"upn,City,Office\na@x.com,ok,1\nb@x.com,M\xfcller,1\n")
    result = build(tmp_path, src=str(path))
    assert messages(result) == ["record 2, line 3, field 'City': the text is not valid in the declared encoding"]


def test_problem_list_is_bounded_but_counted(tmp_path):
    result = build(tmp_path, max_problems=3, records=[{"upn": "", "City": "A", "Office": "1"}] * 10)
    assert len(result["problems"]) == 3 and result["problem_count"] == 10


def test_csv_row_with_wrong_width(tmp_path):
    result = build(tmp_path, src=write(tmp_path, "w.csv", 'upn,City,Office\na@x.com,"multi\nline",1\nb@x.com,B\n'))
    assert messages(result) == ["record 2, line 4: the row has 2 fields, the header 3"]


# writing ------------------------------------------------------------------------------------------------

def test_escaping_bom_and_strings(tmp_path):
    values = ['say "hi"', "C:\\wx\\new", "tab\there\nnl\x01\x7f", "Müller Øresund 東京 😀", True, 12, 1.5]
    records = [{"upn": "u%d@x.com" % i, "City": value, "Office": "o"} for i, value in enumerate(values)]
    result = build(tmp_path, records=records)
    path = result["files"][0]["path"]
    raw = open(path, "rb").read()
    assert raw.startswith(codecs.BOM_UTF8 + b'{"value":[')
    assert "Müller Øresund 東京".encode("utf-8") in raw
    expected = ['say "hi"', "C:\\wx\\new", "tab\there\nnl\x01\x7f", "Müller Øresund 東京 😀", "true", "12", "1.5"]
    assert [record["City"] for record in read_back(path)] == expected
    jsonschema.validate(json.loads(raw[3:].decode("utf-8")), imp.IMPORT_FILE_SCHEMA)
    assert result["files"][0]["bytes"] == len(raw)


def test_omit_empty(tmp_path):
    result = build(tmp_path, omit_empty=True, records=[{"upn": "a@x.com", "City": "", "Office": "1"}])
    assert read_back(result["files"][0]["path"]) == [{"upn": "a@x.com", "Office": "1"}]
    assert result["properties"] == 2


def _users(count):
    return [{"upn": "u%03d@x.com" % i, "City": "c%d" % i, "Office": "o"} for i in range(count)]


def test_split_exactly_at_max_properties(tmp_path):
    result = build(tmp_path, records=_users(7), max_properties=6)
    assert [f["records"] for f in result["files"]] == [2, 2, 2, 1]
    assert [f["properties"] for f in result["files"]] == [6, 6, 6, 3]
    assert [f["name"] for f in result["files"]][0].endswith("-part1.json")
    assert sum((read_back(f["path"]) for f in result["files"]), []) == _users(7)


def test_split_exactly_at_max_bytes(tmp_path):
    single = build(tmp_path, prefix="one", records=_users(3))["files"][0]
    limit = single["bytes"]
    exact = build(tmp_path, prefix="exact", records=_users(3), max_bytes=limit)
    assert [f["records"] for f in exact["files"]] == [3]
    under = build(tmp_path, prefix="under", records=_users(3), max_bytes=limit - 1)
    assert [f["records"] for f in under["files"]] == [2, 1]
    assert all(f["bytes"] <= limit - 1 for f in under["files"])
    assert all(os.path.getsize(f["path"]) == f["bytes"] for f in under["files"])


def test_record_larger_than_a_file_is_a_problem(tmp_path):
    result = build(tmp_path, records=_users(1), max_bytes=30)
    assert result["problem_count"] == 1 and result["files"] == []


def test_names_are_content_addressed(tmp_path):
    first = build(tmp_path / "..", prefix="hr", records=_users(2))["files"][0]
    second = build(tmp_path, prefix="hr", records=_users(2))["files"][0]
    other = build(tmp_path, prefix="hr", records=_users(3))["files"][0]
    assert first["name"] == second["name"] == "hr-%s.json" % first["sha256"][:16]
    assert other["name"] != first["name"]
    assert imp.name_pattern("hr").match(first["name"]) and not imp.name_pattern("h").match(first["name"])


def test_shipped_schema_equals_the_constant():
    with open(SCHEMA_PATH, encoding="utf-8") as handle:
        assert json.load(handle) == imp.IMPORT_FILE_SCHEMA
    jsonschema.Draft202012Validator.check_schema(imp.IMPORT_FILE_SCHEMA)
    jsonschema.Draft202012Validator.check_schema(imp.record_schema("upn", ["City"], "cloud_id"))


# property-based ------------------------------------------------------------------------------------------

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
@given(record=records_st, id_type=st.sampled_from([None] + list(imp.ID_TYPES)))
def test_fast_checks_agree_with_the_schema(tmp_path, record, id_type):
    schema = imp.record_schema("upn", ["City", "Office"], id_type)
    schema_ok = jsonschema.Draft202012Validator(schema).is_valid(record)
    builder = imp.Builder(str(tmp_path), "upn", MAP, id_type=id_type)
    imp._add_mapping(builder, 1, None, record, False)
    builder.discard()
    assert (builder.problem_count == 0) == schema_ok, (record, builder.problems)


@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(record_id=ids, id_type=st.sampled_from([None] + list(imp.ID_TYPES)))
def test_id_checks_agree_with_the_schema(tmp_path, record_id, id_type):
    record = {"upn": record_id, "City": "c", "Office": "o"}
    schema_ok = jsonschema.Draft202012Validator(imp.record_schema("upn", ["City", "Office"], id_type)).is_valid(record)
    builder = imp.Builder(str(tmp_path), "upn", MAP, id_type=id_type)
    imp._add_mapping(builder, 1, None, record, False)
    builder.discard()
    assert (builder.problem_count == 0) == schema_ok, (record, builder.problems)


def _as_written(value):
    return value if isinstance(value, str) else imp._to_text(value)


@settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(users=st.lists(st.tuples(st.text(min_size=1, max_size=10).filter(str.strip), scalars, scalars), max_size=12,
                      unique_by=lambda user: user[0].strip().lower()),
       max_properties=st.integers(min_value=3, max_value=10))
def test_valid_records_round_trip(tmp_path, users, max_properties):
    records = [{"upn": upn, "City": city, "Office": office} for upn, city, office in users]
    directory = tempfile.mkdtemp(dir=str(tmp_path))
    result = imp.build_import_files(directory, "rt", "upn", MAP, records=records, max_properties=max_properties)
    assert result["problems"] == []
    written = sum((read_back(f["path"]) for f in result["files"]), [])
    assert written == [{key: _as_written(value) for key, value in record.items()} for record in records]
    assert all(f["properties"] <= max_properties for f in result["files"])


# upload and removal ------------------------------------------------------------------------------------------

def test_upload_is_idempotent_and_check_mode_uploads_nothing(tmp_path):
    sp = FakeSharePoint()
    built = build(tmp_path, prefix="hr", records=_users(3))["files"]
    folder = LIB + "/ProfileImport"
    changed, files = imp.upload_import_files(sp, SITE, folder, built, check_mode=True)
    assert changed and files[0]["uploaded"] and not sp.files and folder not in sp.folders
    changed, files = imp.upload_import_files(sp, SITE, folder, built)
    assert changed and folder in sp.folders
    assert files[0]["source_uri"] == SITE + folder + "/" + built[0]["name"]
    assert sp.files[files[0]["server_relative_url"]] == open(built[0]["path"], "rb").read()
    changed, files = imp.upload_import_files(sp, SITE, folder, built)
    assert not changed and not files[0]["uploaded"]


def test_upload_replaces_a_truncated_file(tmp_path):
    sp = FakeSharePoint()
    built = build(tmp_path, prefix="hr", records=_users(3))["files"]
    sp.folders.add(LIB + "/P")
    sp.files[LIB + "/P/" + built[0]["name"]] = b"partial"
    changed, files = imp.upload_import_files(sp, SITE, LIB + "/P", built)
    assert changed and len(sp.files[LIB + "/P/" + built[0]["name"]]) == built[0]["bytes"]


def test_remove_import_files_and_logs(tmp_path):
    sp = FakeSharePoint()
    folder = LIB + "/P"
    sp.folders.update({folder, folder + "/5f4e7a2c-9d1b-4c3e-8a7f-6b5d4c3e2f1a", folder + "/keep"})
    for name in ("hr-0123456789abcdef.json", "hr-0123456789abcdef-part2.json", "hr-other.json", "hrx-0123456789abcdef.json"):
        sp.files[folder + "/" + name] = b"x"
    assert imp.remove_import_files(sp, SITE, folder, "hr", remove_logs=True, check_mode=True)[0] == [
        "hr-0123456789abcdef-part2.json", "hr-0123456789abcdef.json"]
    assert len(sp.files) == 4
    removed, logs = imp.remove_import_files(sp, SITE, folder, "hr", remove_logs=True)
    assert len(removed) == 2 and logs == ["5f4e7a2c-9d1b-4c3e-8a7f-6b5d4c3e2f1a"]
    assert sorted(sp.files) == [folder + "/hr-other.json", folder + "/hrx-0123456789abcdef.json"]
    assert folder + "/keep" in sp.folders


def test_site_and_folder():
    assert imp.site_and_folder("https://c.sharepoint.com", None, "Shared Documents/ProfileImport") == (
        "https://c.sharepoint.com", "/Shared Documents/ProfileImport")
    assert imp.site_and_folder("https://c.sharepoint.com", "/sites/hr/", "/Docs/x/") == (
        "https://c.sharepoint.com/sites/hr", "/sites/hr/Docs/x")
    assert imp.site_and_folder("https://c.sharepoint.com", "https://c.sharepoint.com/sites/a", "D") == (
        "https://c.sharepoint.com/sites/a", "/sites/a/D")


def test_id_table_remembers_every_key_through_growth():
    table = imp._IdTable()
    keys = [((i * 2654435761) % 2 ** 64) - 2 ** 63 for i in range(1, 200000)] + [0]
    assert all(table.add(key) for key in keys)
    assert not any(table.add(key) for key in keys)
    assert sum(len(shard) for shard in table.shards) < len(keys) * 2
