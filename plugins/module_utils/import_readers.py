# -*- coding: utf-8 -*-
# Copyright (c) spo.user_profiles contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

"""Readers of bulk import sources (CSV, JSON, JSON Lines, inline records): each yields the records of a source
for one mapping, in source order, one at a time.

Iterating a source reads it from its start (a second pass finds duplicates) and yields
- a record as a tuple ``(number, line, id, values)``: its number (1-based), its line (None where the format has
  none), its id as the source has it, and the values of the mapped fields in their order; with ``whole_records``
  a fifth item, the whole record as the source has it (a dict of every field, for record_schema); and
- a problem (import_validation.problem, a dict) where the source has no usable record: a missing column or field,
  a row of the wrong width, invalid JSON.
Values are not checked here (RecordChecks does that). Files are read incrementally, so memory stays flat.
"""

from __future__ import annotations

import codecs
import csv
import json
import operator
import os

from ansible_collections.spo.user_profiles.plugins.module_utils._json_stream import DECODER, array_items
from ansible_collections.spo.user_profiles.plugins.module_utils.import_validation import problem

FORMATS = ("auto", "csv", "json", "jsonl")


class ImportFileError(Exception):
    """The source cannot be read at all (missing file, unknown format)."""


def _open_text(path, encoding):
    # Undecodable bytes become lone surrogates; encoding the output refuses them, naming record and line.
    codec = codecs.lookup(encoding).name
    if codec == "utf-8":
        encoding = "utf-8-sig"
    return open(path, "r", encoding=encoding, errors="surrogateescape", newline="")


def detect_format(path, encoding="utf-8"):
    """csv, json or jsonl, from the file name and else from the first characters."""
    lower = path.lower()
    for suffixes, fmt in (((".csv", ".tsv", ".txt"), "csv"), ((".jsonl", ".ndjson"), "jsonl"), ((".json",), "json")):
        if lower.endswith(suffixes):
            return fmt
    with _open_text(path, encoding) as stream:
        head = stream.read(64 * 1024)
    stripped = head.lstrip()
    if stripped.startswith("["):
        return "json"
    if stripped.startswith("{"):
        first_line = stripped.split("\n", 1)[0]
        try:
            first = json.loads(first_line)
        except ValueError:
            return "json"
        if isinstance(first, dict) and list(first) == ["value"]:
            return "json"
        return "jsonl"
    return "csv"


def open_source(id_property, fields, src=None, records=None, fmt="auto", encoding="utf-8", delimiter=",",
                whole_records=False):
    """The source of the module's options: inline ``records``, or the file ``src`` in format ``fmt``.

    ``fields`` are the mapped source fields. Raises ImportFileError when the file cannot be read at all.
    """
    source = _open(id_property, fields, src, records, fmt, encoding, delimiter)
    source.whole_records = whole_records
    return source


def _open(id_property, fields, src, records, fmt, encoding, delimiter):
    if records is not None:
        return InlineSource(id_property, fields, records)
    if not os.path.isfile(src):
        raise ImportFileError("the source file %s does not exist" % src)
    try:
        codecs.lookup(encoding)
    except LookupError:
        raise ImportFileError("unknown encoding %r" % encoding)
    if fmt == "auto":
        fmt = detect_format(src, encoding)
    if fmt == "csv":
        return CsvSource(id_property, fields, src, encoding, delimiter)
    if fmt == "jsonl":
        return JsonLinesSource(id_property, fields, src, encoding)
    if fmt == "json":
        return JsonSource(id_property, fields, src, encoding)
    raise ImportFileError("unknown format %r" % fmt)


class _Source:
    """A source for one mapping. ``ignored_fields`` collects the source's fields that are not mapped."""

    # Whether every value is a str already (no type checks needed).
    text_values = False
    # Whether each record tuple ends with the whole source record.
    whole_records = False

    def __init__(self, id_property, fields):
        self.id_property = id_property
        self.fields = fields
        self.ignored_fields = set()

    def _mapped(self, number, line, record):
        """The record tuple of one JSON object, or the problems that keep it out."""
        if not isinstance(record, dict):
            yield problem(number, line, None, "the record is a %s, not an object" % type(record).__name__)
            return
        missing = False
        for field in self.fields:
            if field not in record:
                yield problem(number, line, field, "the mapped field is missing from the record")
                missing = True
        if self.id_property not in record:
            yield problem(number, line, self.id_property, "the id is missing")
            return
        if missing:
            return
        if len(record) > len(self.fields) + 1:
            self.ignored_fields.update(name for name in record if name != self.id_property and name not in self.fields)
        if self.whole_records:
            yield number, line, record[self.id_property], [record[field] for field in self.fields], record
        else:
            yield number, line, record[self.id_property], [record[field] for field in self.fields]


class InlineSource(_Source):
    """The module's ``records`` option: a list of objects."""

    def __init__(self, id_property, fields, records):
        super().__init__(id_property, fields)
        self.records = records

    def __iter__(self):
        for number, record in enumerate(self.records, 1):
            yield from self._mapped(number, None, record)


class _FileSource(_Source):
    """A source file, decoded from ``encoding``."""

    def __init__(self, id_property, fields, path, encoding):
        super().__init__(id_property, fields)
        self.path = path
        self.encoding = encoding


class JsonLinesSource(_FileSource):
    """One JSON object per line; blank lines are skipped."""

    def __iter__(self):
        number = 0
        with _open_text(self.path, self.encoding) as stream:
            for line_no, text in enumerate(stream, 1):
                if not text.strip():
                    continue
                number += 1
                try:
                    record = DECODER.decode(text)
                except ValueError as err:
                    yield problem(number, line_no, None, "not valid JSON: %s" % err)
                    continue
                yield from self._mapped(number, line_no, record)


class JsonSource(_FileSource):
    """A JSON array of objects, or an object whose "value" is one (the import file's own shape)."""

    def __iter__(self):
        number = 0
        with _open_text(self.path, self.encoding) as stream:
            items = array_items(stream)
            while True:
                try:
                    record = next(items)
                except StopIteration:
                    return
                except ValueError as err:
                    yield problem(number + 1, None, None, "not valid JSON: %s" % err)
                    return
                number += 1
                yield from self._mapped(number, None, record)


def _picker(indexes):
    """A function returning the values at these positions of a row, as a sequence."""
    if len(indexes) == 1:
        index = indexes[0]
        return lambda row: (row[index],)
    if not indexes:
        return lambda row: ()
    return operator.itemgetter(*indexes)


class CsvSource(_FileSource):
    """A CSV file with a header row; every value is text."""

    text_values = True

    def __init__(self, id_property, fields, path, encoding, delimiter):
        super().__init__(id_property, fields, path, encoding)
        self.delimiter = delimiter

    def _header_problems(self, positions, header):
        for index, name in enumerate(header):
            if positions[name] != index:
                yield problem(None, 1, name, "the column appears twice in the header")
        if self.id_property not in positions:
            yield problem(None, 1, self.id_property, "the id column is missing from the header")
        for field in self.fields:
            if field not in positions:
                yield problem(None, 1, field, "the mapped field is missing from the source")

    def __iter__(self):
        with _open_text(self.path, self.encoding) as stream:
            reader = csv.reader(stream, delimiter=self.delimiter, strict=False)
            try:
                header = next(reader)
            except StopIteration:
                yield problem(None, 1, None, "the CSV file is empty; a header row is required")
                return
            except csv.Error as err:
                yield problem(None, 1, None, "the CSV header cannot be parsed: %s" % err)
                return
            positions = {}
            for index, name in enumerate(header):
                positions.setdefault(name, index)
            header_problems = list(self._header_problems(positions, header))
            if header_problems:
                yield from header_problems
                return
            self.ignored_fields.update(name for name in positions if name != self.id_property and name not in self.fields)
            yield from self._rows(reader, positions[self.id_property], _picker([positions[field] for field in self.fields]),
                                  header)

    def _rows(self, reader, id_index, pick, header):
        number = 0
        line = 2
        width = len(header)
        whole = self.whole_records
        try:
            for row in reader:
                if not row:
                    line = reader.line_num + 1
                    continue
                number += 1
                if len(row) != width:
                    yield problem(number, line, None, "the row has %d fields, the header %d" % (len(row), width))
                elif whole:
                    yield number, line, row[id_index], pick(row), dict(zip(header, row))
                else:
                    yield number, line, row[id_index], pick(row)
                line = reader.line_num + 1
        except csv.Error as err:
            yield problem(number + 1, line, None, "the CSV cannot be parsed: %s" % err)
