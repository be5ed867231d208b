# -*- coding: utf-8 -*-
# Copyright (c) spo.user_profiles contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

"""The data owner's rules: a JSON Schema (``record_schema``) every source record must satisfy, with the fields
named as in the source, before any mapping.

jsonschema is imported only when a schema is given: it costs about 0.1 s of CPU on every module run, which a run
without rules should not pay (docs/developer_guide.md, "What a task costs"). Each record is validated once, by
jsonschema's own validator for the schema's draft (formats checked), with nothing of ours around it but the
conversion of a problem into a line naming the record, line, field and rule.
"""

from __future__ import annotations

import json
import os

from ansible_collections.spo.user_profiles.plugins.module_utils.import_validation import problem


class SchemaInputError(ValueError):
    """The record_schema option itself is unusable (unreadable file, not a schema); the message names why."""


def load_schema(value):
    """The schema of the record_schema option: a dict as given, or the JSON file a string names."""
    if isinstance(value, dict):
        return value
    if not isinstance(value, str) or not value:
        raise SchemaInputError("record_schema: must be a JSON Schema (a dict) or the path of a JSON file holding one, "
                               "not %r" % (value,))
    path = os.path.expanduser(value)
    try:
        with open(path, "r", encoding="utf-8-sig") as handle:
            schema = json.load(handle)
    except OSError as err:
        raise SchemaInputError("record_schema: cannot read %s: %s" % (value, err.strerror or err))
    except ValueError as err:
        raise SchemaInputError("record_schema: %s is not JSON: %s" % (value, err))
    if not isinstance(schema, dict):
        raise SchemaInputError("record_schema: %s holds a %s, not a JSON Schema object" % (value, type(schema).__name__))
    return schema


def _path_text(parts):
    return "/".join(str(part) for part in parts)


class RecordSchema:
    """A validator for the source records. ImportError when jsonschema is missing; SchemaInputError when the schema
    is not a valid schema of its draft."""

    def __init__(self, schema):
        from jsonschema import exceptions, validators  # here, not at the top: see the docstring

        validator_class = validators.validator_for(schema, default=validators.Draft202012Validator)
        try:
            validator_class.check_schema(schema)
        except exceptions.SchemaError as err:
            raise SchemaInputError("record_schema is not a valid JSON Schema: %s (at %s)" % (
                err.message, _path_text(err.absolute_path) or "the top"))
        self.iter_errors = validator_class(schema, format_checker=validator_class.FORMAT_CHECKER).iter_errors

    def problems(self, number, line, record):
        """A problem per rule the record breaks: record, line, field (the path in the record) and rule."""
        return [self.problem(number, line, error) for error in self.iter_errors(record)]

    @staticmethod
    def problem(number, line, error):
        """The problem of one of jsonschema's errors."""
        return problem(number, line, _path_text(error.absolute_path) or None, "breaks record_schema rule %s (%s): %s" % (
            error.validator, _path_text(error.absolute_schema_path), error.message))
