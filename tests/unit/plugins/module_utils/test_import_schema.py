# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest

from ansible_collections.spo.user_profiles.plugins.module_utils import import_schema

RULES = {
    "type": "object",
    "required": ["mail", "costcenter"],
    "properties": {
        "costcenter": {"type": "string", "pattern": "^[0-9]{4}$"},
        "building": {"enum": ["HQ", "North"]},
    },
}


def test_a_valid_record_has_no_problem():
    assert import_schema.RecordSchema(RULES).problems(1, 2, {"mail": "a@x.com", "costcenter": "1234", "building": "HQ"}) == []


def test_each_broken_rule_names_record_line_field_and_rule():
    problems = import_schema.RecordSchema(RULES).problems(7, 8, {"mail": "a@x.com", "costcenter": "12a4", "building": "Mars"})
    assert [(p["record"], p["line"], p["field"]) for p in problems] == [(7, 8, "costcenter"), (7, 8, "building")]
    assert problems[0]["message"].startswith("breaks record_schema rule pattern (properties/costcenter/pattern): ")
    assert "'12a4' does not match" in problems[0]["message"]
    assert "rule enum (properties/building/enum)" in problems[1]["message"]


def test_a_missing_field_names_the_required_rule():
    problems = import_schema.RecordSchema(RULES).problems(1, None, {"mail": "a@x.com"})
    assert len(problems) == 1 and problems[0]["field"] is None
    assert "rule required (required)" in problems[0]["message"] and "'costcenter' is a required property" in problems[0]["message"]


def test_formats_are_checked():
    schema = {"properties": {"mail": {"type": "string", "format": "email"}}}
    assert import_schema.RecordSchema(schema).problems(1, None, {"mail": "not an address"})
    assert not import_schema.RecordSchema(schema).problems(1, None, {"mail": "a@x.com"})


def test_the_draft_the_schema_names_is_used():
    draft4 = {"$schema": "http://json-schema.org/draft-04/schema#", "properties": {"n": {"maximum": 5, "exclusiveMaximum": True}}}
    assert import_schema.RecordSchema(draft4).problems(1, None, {"n": 5})


def test_an_invalid_schema_is_refused_naming_where():
    with pytest.raises(import_schema.SchemaInputError, match=r"not a valid JSON Schema: .* \(at properties/costcenter/type\)"):
        import_schema.RecordSchema({"properties": {"costcenter": {"type": "digits"}}})


def test_load_schema_from_a_dict_or_a_json_file(tmp_path):
    assert import_schema.load_schema(RULES) is RULES
    path = tmp_path / "rules.json"
    path.write_text(json.dumps(RULES), encoding="utf-8")
    assert import_schema.load_schema(str(path)) == RULES


@pytest.mark.parametrize("content, words", [
    (None, "cannot read"),
    ("{not json", "is not JSON"),
    ("[1, 2]", "holds a list, not a JSON Schema object"),
])
def test_load_schema_refuses_what_is_not_a_schema_file(tmp_path, content, words):
    path = tmp_path / "rules.json"
    if content is not None:
        path.write_text(content, encoding="utf-8")
    with pytest.raises(import_schema.SchemaInputError, match="record_schema: .*" + words):
        import_schema.load_schema(str(path))


def test_load_schema_refuses_other_types():
    with pytest.raises(import_schema.SchemaInputError, match="must be a JSON Schema"):
        import_schema.load_schema(["a"])


def test_jsonschema_is_not_imported_until_a_schema_is_used():
    # A fresh interpreter, which finds the collection where this one did (the directory above ansible_collections).
    collections_root = import_schema.__file__
    for dummy in range(6):
        collections_root = os.path.dirname(collections_root)
    code = ("import sys; from ansible_collections.spo.user_profiles.plugins.module_utils import import_build, import_schema; "
            "assert 'jsonschema' not in sys.modules; import_schema.RecordSchema({}); assert 'jsonschema' in sys.modules")
    env = dict(os.environ, PYTHONPATH=os.pathsep.join(filter(None, [collections_root, os.environ.get("PYTHONPATH")])))
    subprocess.run([sys.executable, "-c", code], check=True, env=env)
