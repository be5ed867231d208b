# -*- coding: utf-8 -*-
# Copyright (c) spo.user_profiles contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

"""Building bulk import files: the inputs checked, the source read record by record (import_readers), each record
checked (import_validation) and written (import_writer); nothing is kept when anything is wrong.
"""

from __future__ import annotations

from ansible_collections.spo.user_profiles.plugins.module_utils.import_readers import open_source
from ansible_collections.spo.user_profiles.plugins.module_utils.import_validation import (
    DEFAULT_MAX_PROBLEMS, Problems, RecordChecks, check_inputs, duplicate_problems,
)
from ansible_collections.spo.user_profiles.plugins.module_utils.import_writer import (
    DEFAULT_MAX_BYTES, DEFAULT_MAX_PROPERTIES, ImportFileWriter, UnencodableText,
)


def build_import_files(tmpdir, prefix, id_property, property_map, id_type=None, src=None, records=None, fmt="auto",
                       encoding="utf-8", delimiter=",", omit_empty=False, max_properties=DEFAULT_MAX_PROPERTIES,
                       max_bytes=DEFAULT_MAX_BYTES, max_problems=DEFAULT_MAX_PROBLEMS):
    """Read, map, validate and write. Returns a dict:

    ``files`` (each ``name``, ``path`` (local), ``sha256``, ``bytes``, ``records``, ``properties``; empty when
    there are problems), ``records``, ``properties``, ``ignored_fields``, ``problems`` (the first
    ``max_problems``) and ``problem_count``. Raises import_readers.ImportFileError when the source cannot be read.
    """
    problems = Problems(max_problems)
    for found in check_inputs(id_property, property_map, id_type, records):
        problems.add(found)
    writer = ImportFileWriter(tmpdir, max_properties=max_properties, max_bytes=max_bytes)
    ignored_fields = set()
    if not problems.count:
        fields = [field for field in property_map if field != id_property]
        source = open_source(id_property, fields, src=src, records=records, fmt=fmt, encoding=encoding, delimiter=delimiter)
        checks = RecordChecks(id_property, fields, problems, id_type=id_type, text_values=source.text_values)
        try:
            _write(source, checks, writer, omit_empty)
            if checks.suspects:
                for found in duplicate_problems(source, checks.suspects, id_property):
                    problems.add(found)
        except BaseException:
            writer.discard()
            raise
        ignored_fields = source.ignored_fields
    result = {"records": writer.records, "properties": writer.properties, "ignored_fields": sorted(ignored_fields),
              "problems": problems.listed, "problem_count": problems.count, "files": []}
    if problems.count:
        writer.discard()
        result["records"] = 0
        result["properties"] = 0
        return result
    result["files"] = writer.finish(prefix)
    return result


def _write(source, checks, writer, omit_empty):
    """The first pass: every record checked; written while no problem has been found, only encoded after one."""
    problems = checks.problems
    id_property = checks.id_property
    fields = checks.fields
    checked_values = checks.values  # bound once: this loop runs once per user
    add = writer.add
    for item in source:
        if isinstance(item, dict):
            problems.add(item)
            continue
        number, line, record_id, values = item
        values = checked_values(number, line, record_id, values)
        if values is None:
            continue
        record = {id_property: record_id}
        if omit_empty:
            record.update((name, value) for name, value in zip(fields, values) if value)
        else:
            record.update(zip(fields, values))
        try:
            if problems.count:
                writer.encode(record)  # nothing more is written, but text the encoding cannot carry is still reported
            elif not add(record):
                problems.report(number, line, None, "the record alone is larger than one file may be")
        except UnencodableText as err:
            problems.report(number, line, err.field, "the text is not valid in the declared encoding")
