# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

import codecs
import json
import os
import tempfile

import pytest
from hypothesis import HealthCheck, given, settings, strategies as st

from ansible_collections.spo.user_profiles.plugins.module_utils import (
    identity_check, import_baseline, import_build, import_delta, import_diff, import_readers, import_schema,
    import_validation,
)

SCHEMA_PATH = os.path.join(os.path.dirname(__file__), "..", "..", "..", "..", "docs", "schemas", "import_file.schema.json")
MAP = {"City": "City", "Office": "SPS-Location"}


def build(tmp_path, prefix="p", property_map=None, **kw):
    return import_build.build_import_files(str(tmp_path), prefix, "upn", property_map or MAP, **kw)


def read_back(path):
    raw = open(path, "rb").read()
    assert raw.startswith(codecs.BOM_UTF8)
    return json.loads(raw[3:].decode("utf-8"))["value"]


def messages(result):
    return [import_validation.format_problem(problem) for problem in result["problems"]]


def write(tmp_path, name, text, encoding="utf-8"):
    path = tmp_path / name
    path.write_bytes(text.encode(encoding))
    return str(path)


def user_records(count):
    return [{"upn": "u%03d@x.com" % i, "City": "c%d" % i, "Office": "o"} for i in range(count)]


def test_missing_source_file(tmp_path):
    with pytest.raises(import_readers.ImportFileError):
        build(tmp_path, src=str(tmp_path / "nope.csv"))


def test_inputs_checked_before_any_record(tmp_path):
    result = build(tmp_path, property_map={"City": 5}, records=[])
    assert result["problem_count"] == 1 and "property_map.City" in messages(result)[0]
    assert result["files"] == []


def test_problem_list_is_bounded_but_counted(tmp_path):
    result = build(tmp_path, max_problems=3, records=[{"upn": "", "City": "A", "Office": "1"}] * 10)
    assert len(result["problems"]) == 3 and result["problem_count"] == 10


def test_omit_empty(tmp_path):
    result = build(tmp_path, omit_empty=True, records=[{"upn": "a@x.com", "City": "", "Office": "1"}])
    assert read_back(result["files"][0]["path"]) == [{"upn": "a@x.com", "Office": "1"}]
    assert result["properties"] == 2


# What inline records may hold: text without control characters (tab and line breaks aside), integers and booleans.
TEXT = st.text(st.characters(blacklist_categories=("Cs",), blacklist_characters=[
    chr(code) for code in list(range(0x20)) + list(range(0x7F, 0xA0)) if chr(code) not in "\t\n\r"]), max_size=8)
SCALARS = st.one_of(TEXT, st.booleans(), st.integers())
# Ids: no control, format or whitespace characters but the space, and no space at either end.
IDS = st.text(st.characters(blacklist_categories=("Cc", "Cf", "Cs", "Zl", "Zp", "Zs"), whitelist_characters=" "),
              min_size=1, max_size=10).filter(lambda text: text.strip(" ") == text)


def _as_written(value):
    return value if isinstance(value, str) else import_validation.value_text(value)


@settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(users=st.lists(st.tuples(IDS, SCALARS, SCALARS), max_size=12,
                      unique_by=lambda user: user[0].strip().lower()),
       max_properties=st.integers(min_value=3, max_value=10))
def test_valid_records_round_trip(tmp_path, users, max_properties):
    records = [{"upn": upn, "City": city, "Office": office} for upn, city, office in users]
    directory = tempfile.mkdtemp(dir=str(tmp_path))
    result = import_build.build_import_files(directory, "rt", "upn", MAP, records=records, max_properties=max_properties)
    assert result["problems"] == []
    written = sum((read_back(f["path"]) for f in result["files"]), [])
    assert written == [{key: _as_written(value) for key, value in record.items()} for record in records]
    assert all(f["properties"] <= max_properties for f in result["files"])


# --- delta, record_schema, skip_invalid, the identity check -------------------------------------------------------

BASELINE_USERS = [("a@x.com", ("Oslo", "1")), ("b@x.com", ("Rome", "2")), ("c@x.com", ("Lima", "3"))]


@pytest.fixture
def baseline(tmp_path):
    wanted = import_baseline.mapping("upn", None, MAP)
    writer = import_baseline.BaselineWriter(str(tmp_path / "baseline.gz"), wanted)
    for record_id, values in BASELINE_USERS:
        writer.write(record_id, values)
    index_dir = tmp_path / "index"
    index_dir.mkdir()
    loaded = import_baseline.Baseline.load(writer.finish(), str(index_dir), wanted)
    yield loaded
    loaded.close()


def delta_for(baseline, **kw):
    return import_delta.Delta(baseline, "upn", ["City", "Office"], **kw)


def statuses(result):
    return {status: count for status, count in result["changes"].counts.items() if count}


def test_delta_writes_only_changed_users_and_values(tmp_path, baseline):
    records = [{"upn": "a@x.com", "City": "Oslo", "Office": "1"}, {"upn": "B@x.com", "City": "Roma", "Office": "2"},
               {"upn": "d@x.com", "City": "Kyiv", "Office": "4"}]
    result = build(tmp_path, records=records, delta=delta_for(baseline))
    assert read_back(result["files"][0]["path"]) == [{"upn": "B@x.com", "City": "Roma"},
                                                     {"upn": "d@x.com", "City": "Kyiv", "Office": "4"}]
    assert statuses(result) == {"changed": 1, "added": 1, "unchanged": 1, "not_in_source": 1}
    assert result["records"] == 2


def test_an_unchanged_source_gives_no_file(tmp_path, baseline):
    records = [{"upn": record_id, "City": values[0], "Office": values[1]} for record_id, values in BASELINE_USERS]
    result = build(tmp_path, records=records, delta=delta_for(baseline))
    assert result["files"] == [] and result["records"] == 0 and result["problem_count"] == 0
    assert statuses(result) == {"unchanged": 3}


def test_clear_missing_clears_removed_values_and_users_gone_from_the_source(tmp_path, baseline):
    records = [{"upn": "a@x.com", "City": "", "Office": "1"}, {"upn": "b@x.com", "City": "Rome", "Office": "2"}]
    result = build(tmp_path, records=records, delta=delta_for(baseline, clear_missing=True))
    assert read_back(result["files"][0]["path"]) == [{"upn": "a@x.com", "City": ""},
                                                     {"upn": "c@x.com", "City": "", "Office": ""}]
    assert statuses(result) == {"cleared": 2, "unchanged": 1}


def test_a_refused_source_sends_nothing_and_reports_no_change(tmp_path, baseline):
    records = [{"upn": "a@x.com", "City": "Bergen", "Office": "1"}, {"upn": "", "City": "x", "Office": "y"}]
    result = build(tmp_path, records=records, delta=delta_for(baseline, clear_missing=True))
    assert result["problem_count"] == 1 and result["files"] == []
    assert sum(result["changes"].counts.values()) == 0 and result["changes"].listed == []


RULES = {"type": "object", "properties": {"Office": {"type": "string", "pattern": "^[0-9]+$"}}, "required": ["upn"]}


def test_record_schema_sees_the_whole_source_record_and_refuses_with_record_line_field_and_rule(tmp_path):
    src = write(tmp_path, "s.csv", "upn,City,Office,Note\na@x.com,Oslo,1,n\nb@x.com,Rome,2b,n\n")
    schema = import_schema.RecordSchema(dict(RULES, required=["upn", "Note"]))
    result = build(tmp_path, src=src, schema=schema)
    assert result["problem_count"] == 1 and result["files"] == []
    assert messages(result) == ["record 2, line 3, field 'Office': breaks record_schema rule pattern "
                                "(properties/Office/pattern): '2b' does not match '^[0-9]+$'"]


def test_skip_invalid_leaves_the_record_out_and_lists_it(tmp_path, baseline):
    records = [{"upn": "a@x.com", "City": "Oslo", "Office": "x1"}, {"upn": "e@x.com", "City": "Nice", "Office": "5"}]
    result = build(tmp_path, records=records, schema=import_schema.RecordSchema(RULES), skip_invalid=True,
                   delta=delta_for(baseline, clear_missing=True))
    assert read_back(result["files"][0]["path"]) == [
        {"upn": "e@x.com", "City": "Nice", "Office": "5"},
        {"upn": "b@x.com", "City": "", "Office": ""}, {"upn": "c@x.com", "City": "", "Office": ""}]
    left = result["changes"].left_out_listed
    assert [(entry["id"], entry["record"]) for entry in left] == [("a@x.com", 1)]
    assert left[0]["reason"].startswith("record_schema: field 'Office': breaks record_schema rule pattern")
    # a user left out is not missing from the source: it is not cleared
    assert statuses(result) == {"added": 1, "cleared": 2, "left_out": 1}


class FakeIdentities:
    def __init__(self, reasons):
        self.known = reasons
        self.calls = []

    def reasons(self, ids):
        self.calls.append(list(ids))
        return {key: reason for key, reason in self.known.items() if key in [value.lower() for value in ids]}


def test_the_identity_check_leaves_out_unusable_users_a_batch_at_a_time(tmp_path):
    records = [{"upn": "u%03d@x.com" % number, "City": "c", "Office": "o"} for number in range(identity_check.USERS_PER_BATCH + 5)]
    identities = FakeIdentities({"u001@x.com": identity_check.NOT_FOUND, "u302@x.com": identity_check.GUEST})
    result = build(tmp_path, records=records, identities=identities)
    assert [len(call) for call in identities.calls] == [300, 5]
    written = [record["upn"] for record in read_back(result["files"][0]["path"])]
    assert len(written) == 303 and "u001@x.com" not in written and "u302@x.com" not in written
    assert [(entry["id"], entry["reason"]) for entry in result["changes"].left_out_listed] == [
        ("u001@x.com", identity_check.NOT_FOUND), ("u302@x.com", identity_check.GUEST)]


def test_nobody_is_looked_up_once_the_source_is_refused(tmp_path):
    identities = FakeIdentities({})
    result = build(tmp_path, records=[{"upn": "", "City": "c", "Office": "o"}, {"upn": "a@x.com", "City": "c", "Office": "o"}],
                   identities=identities)
    assert result["problem_count"] == 1 and identities.calls == []


def test_a_delta_names_its_files_after_the_baseline_it_was_compared_with(tmp_path):
    records = [{"upn": "ghost@x.com", "City": "Nowhere", "Office": "0"}]
    names = []
    for jobs in ([], ["job-1"], ["job-2"], ["job-2"]):
        wanted = import_baseline.mapping("upn", None, MAP, jobs=jobs)
        work = tmp_path / ("w%d" % len(names))
        work.mkdir()
        writer = import_baseline.BaselineWriter(str(work / "b.gz"), wanted)
        writer.write("a@x.com", ("Oslo", "1"))
        loaded = import_baseline.Baseline.load(writer.finish(), str(work), wanted)
        result = build(work, records=records, delta=delta_for(loaded))
        loaded.close()
        names.append(result["files"][0]["name"])
        assert result["files"][0]["sha256"] == import_build.build_import_files(
            str(work), "p", "upn", MAP, records=records)["files"][0]["sha256"]
    # the same delta against the same baseline has the same name (a rerun follows its job); another baseline, another
    assert names[2] == names[3] and len(set(names[:3])) == 3


# --- a source without records ------------------------------------------------------------------------------------

@pytest.mark.parametrize("name,text", [("h.csv", "upn,City,Office\n"), ("e.json", "[]"), ("e.jsonl", "")])
def test_a_source_without_records_is_refused_when_it_would_clear_the_baseline(tmp_path, baseline, name, text):
    result = build(tmp_path, src=write(tmp_path, name, text), delta=delta_for(baseline, clear_missing=True))
    assert messages(result) == ["the source holds no records, and with clear_missing that would clear every user of the "
                                "baseline: an empty export is more likely a failed one than every user gone"]
    assert result["files"] == [] and sum(result["changes"].counts.values()) == 0


def test_a_source_without_records_sends_nothing_otherwise(tmp_path, baseline):
    src = write(tmp_path, "h.csv", "upn,City,Office\n")
    kept = build(tmp_path, src=src, delta=delta_for(baseline))
    assert kept["problems"] == [] and kept["files"] == [] and statuses(kept) == {"not_in_source": 3}
    plain = build(tmp_path, records=[])
    assert plain["problems"] == [] and plain["files"] == [] and plain["records"] == 0


# --- bytes the encoding cannot read: the whole file's problem -----------------------------------------------------

LATIN1_ID = "upn,City,Office,Note\na@x.com,Oslo,1,n\nm\xfcller@x.com,Rome,2b,n\nc@x.com,Lima,3,n\n".encode("latin-1")


def test_skip_invalid_does_not_leave_out_a_record_the_encoding_cannot_read(tmp_path):
    src = tmp_path / "l.csv"
    src.write_bytes(LATIN1_ID)
    result = build(tmp_path, src=str(src), schema=import_schema.RecordSchema(RULES), skip_invalid=True)
    assert messages(result) == ["record 2, line 3, field 'upn': byte 0xFC is not valid utf-8 text: the source is in "
                                "another encoding; set encoding"]
    assert result["files"] == [] and result["changes"].left_out_listed == []


class RecordingGraph:
    """Graph answering every user lookup with one user; the reads are recorded."""

    def __init__(self):
        self.batches = []

    def graph(self, method, path, operation, json=None):
        self.batches.append(json["requests"])
        return {"responses": [{"id": request["id"], "status": 200, "body": {"value": []}} for request in json["requests"]]}


@pytest.mark.parametrize("data", [LATIN1_ID, "upn,City,Office\na@x.com,Oslo,1\nb@x.com,M\xfcller,2\n".encode("latin-1")])
def test_the_identity_check_looks_nobody_up_in_a_file_the_encoding_cannot_read(tmp_path, data):
    src = tmp_path / "l.csv"
    src.write_bytes(data)
    graph = RecordingGraph()
    result = build(tmp_path, src=str(src), id_type="email", identities=identity_check.IdentityCheck(graph, "email"))
    assert result["problem_count"] == 1 and "byte 0xFC is not valid utf-8 text" in messages(result)[0]
    assert graph.batches == [] and result["changes"].left_out_listed == []


def test_the_identity_check_looks_nobody_up_when_a_late_record_is_refused(tmp_path):
    records = user_records(identity_check.USERS_PER_BATCH * 2) + [{"upn": "z@x.com", "City": "c\x00", "Office": "o"}]
    identities = FakeIdentities({})
    result = build(tmp_path, records=records, identities=identities)
    assert result["problem_count"] == 1 and identities.calls == []


def test_a_left_out_record_with_half_a_surrogate_pair_is_written_to_the_changes_file(tmp_path):
    src = write(tmp_path, "s.json", '[{"upn": "a\\ud800@x.com", "City": "Oslo", "Office": "x1"},'
                                    ' {"upn": "b@x.com", "City": "Rome", "Office": "2"}]')
    path = tmp_path / "changes.jsonl"
    result = build(tmp_path, src=src, schema=import_schema.RecordSchema(RULES), skip_invalid=True,
                   changes=import_diff.Changes(MAP, ["City", "Office"], path=str(path)))
    assert result["problems"] == [] and result["records"] == 1
    assert [json.loads(line)["id"] for line in path.read_text(encoding="utf-8").splitlines()] == ["a\ud800@x.com"]
