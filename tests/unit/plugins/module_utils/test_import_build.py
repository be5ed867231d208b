# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

import codecs
import json
import os
import tempfile

import pytest
from hypothesis import HealthCheck, given, settings, strategies as st

from ansible_collections.spo.user_profiles.plugins.module_utils import import_build, import_readers, import_validation

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


SCALARS = st.one_of(st.text(max_size=8), st.booleans(), st.integers(), st.floats(allow_nan=False, allow_infinity=False))


def _as_written(value):
    return value if isinstance(value, str) else import_validation._to_text(value)


@settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(users=st.lists(st.tuples(st.text(min_size=1, max_size=10).filter(str.strip), SCALARS, SCALARS), max_size=12,
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
