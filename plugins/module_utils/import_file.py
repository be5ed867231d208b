# -*- coding: utf-8 -*-
# Copyright (c) spo.user_profiles contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

"""Bulk import files: read a source record by record, map, validate, write, split and upload.

The file format is the bulk API's ``{"value": [{"<id property>": "...", "<source field>": "..."}, ...]}``,
written as UTF-8 with a byte order mark (without one, SharePoint reads the file as ISO-8859-1), one record
per line, every value a JSON string. ``IMPORT_FILE_SCHEMA`` describes it (JSON Schema draft 2020-12; the
same document ships as ``docs/schemas/import_file.schema.json``) and ``record_schema`` gives the per-record
rules for one mapping; the hot path applies the same rules with precompiled checks.

Counting: ``properties`` are the name/value pairs in the file, the id included, because that is the stricter
reading of the service's limit of 500,000 properties per file. A file is closed before a record would take it
past ``max_properties`` or ``max_bytes``; a user is never split across files.

Memory stays flat: sources are read incrementally (JSON with ``JSONDecoder.raw_decode`` over a bounded
buffer), records are written as they come, and duplicate ids are found through a table of 64-bit hashes
(8 bytes per user, confirmed by comparing the ids themselves in a second pass only when two hashes meet).
"""

from __future__ import annotations

import codecs
import csv
import hashlib
import json
import operator
import os
import re
from array import array
from json.encoder import c_make_encoder, encode_basestring
from urllib.parse import urlsplit

from ansible_collections.spo.user_profiles.plugins.module_utils import files as spo_files

# Entra ID owns these profile properties: the bulk API ignores or refuses them (reference anchors §3.10).
ENTRA_SYNCED_CORE_PROPERTIES = frozenset([
    "FirstName", "LastName", "PreferredName", "WorkPhone", "CellPhone", "Fax", "Department", "Title",
    "SPS-JobTitle", "SPS-Department", "Manager", "Office", "WorkEmail", "UserName", "SPS-HideFromAddressLists",
    "SPS-UserPrincipalName",
])
ID_TYPES = ("email", "cloud_id", "principal_name")
FORMATS = ("auto", "csv", "json", "jsonl")
DEFAULT_MAX_PROPERTIES = 500000
DEFAULT_MAX_BYTES = 2 * 1024 ** 3
DEFAULT_MAX_PROBLEMS = 20
DEFAULT_FOLDER = "Shared Documents/ProfileImport"
BOM = codecs.BOM_UTF8

_FILE_HEAD = BOM + b'{"value":[\n'
_FILE_TAIL = b"\n]}\n"
_SEPARATOR = b",\n"
_SEPARATOR_LEN = len(_SEPARATOR)
_SEPARATOR_AND_TAIL = len(_SEPARATOR) + len(_FILE_TAIL)
_HEAD_AND_TAIL = len(_FILE_HEAD) + len(_FILE_TAIL)
_FLUSH_BYTES = 1024 * 1024
_READ_CHARS = 256 * 1024
_MAX_ITEM_CHARS = 64 * 1024 * 1024

# One pattern per id type, valid in both Python and ECMA-262 so that users' own validators agree.
# The lookahead refuses whitespace anywhere (Python's "$" would accept a trailing newline otherwise).
_NO_SPACE = r"(?![\s\S]*\s)"
ID_PATTERNS = {
    None: r"\S",
    "email": "^" + _NO_SPACE + r"[^@\s]+@[^@\s]+\.[^@\s]+$",
    "principal_name": "^" + _NO_SPACE + r"[^@\s]+@[^@\s]+\.[^@\s]+$",
    "cloud_id": "^" + _NO_SPACE + r"[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$",
}
# The same rules for the hot path, without the lookahead: fullmatch does what the lookahead and "$" do together.
_FAST_ID_PATTERNS = {
    "email": r"[^@\s]+@[^@\s]+\.[^@\s]+",
    "principal_name": r"[^@\s]+@[^@\s]+\.[^@\s]+",
    "cloud_id": r"[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}",
}
_ID_EXPECTED = {None: "a non-empty string", "email": "an email address", "principal_name": "a user principal name (name@domain)",
                "cloud_id": "an Entra object id (GUID)"}

_SCALAR = {"type": ["string", "number", "boolean"]}

IMPORT_FILE_SCHEMA = {
    "$schema": "https://json-schema.org/draft/2020-12/schema",
    "title": "SharePoint Online bulk user profile import file",
    "description": "The source file of Office365Tenant.QueueImportProfileProperties: one object per user with the id "
                   "property and the mapped source fields, single values only. Store it as UTF-8 with a byte order mark. "
                   "At most 500,000 properties and 2 GB per file.",
    "type": "object",
    "required": ["value"],
    "properties": {
        "value": {
            "type": "array",
            "items": {"$ref": "#/$defs/record"},
        },
    },
    "$defs": {
        "record": {
            "type": "object",
            "minProperties": 1,
            "additionalProperties": _SCALAR,
        },
    },
}

# The module's structured inputs, as a contract: check_inputs applies it before reading any record (the unit tests
# hold the two to the same verdicts).
INPUTS_SCHEMA = {
    "$schema": "https://json-schema.org/draft/2020-12/schema",
    "type": "object",
    "required": ["id_property", "property_map"],
    "properties": {
        "id_property": {"type": "string", "minLength": 1},
        "property_map": {
            "type": "object",
            "minProperties": 1,
            "propertyNames": {"minLength": 1},
            "additionalProperties": {"type": "string", "minLength": 1},
        },
        "id_type": {"enum": [None] + list(ID_TYPES)},
        "records": {"type": ["array", "null"]},
    },
}


class ImportFileError(Exception):
    """The source cannot be read at all (missing file, unknown format)."""


def record_schema(id_property, mapped_fields, id_type=None):
    """JSON Schema (draft 2020-12) of one source record for this mapping: what the fast checks enforce."""
    id_schema = {"type": "string", "pattern": ID_PATTERNS[None]}
    if id_type is not None:
        id_schema = {"type": "string", "allOf": [{"pattern": ID_PATTERNS[None]}, {"pattern": ID_PATTERNS[id_type]}]}
    properties = {field: _SCALAR for field in mapped_fields if field != id_property}
    properties[id_property] = id_schema
    return {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "type": "object",
        "required": [id_property] + [field for field in mapped_fields if field != id_property],
        "properties": properties,
    }


def _input_problems(id_property, property_map, id_type, records):
    """What INPUTS_SCHEMA refuses, as "<option>: <why>" lines, checked directly: importing jsonschema costs more
    (about 0.1 s of CPU on every module run) than the whole check of four options."""
    if not isinstance(id_property, str) or not id_property:
        yield "id_property: must be a non-empty string, not %r" % (id_property,)
    if not isinstance(property_map, dict) or not property_map:
        yield "property_map: must map at least one source field to a profile property, not %r" % (property_map,)
    else:
        for source, target in property_map.items():
            if not isinstance(source, str) or not source:
                yield "property_map: source field names must be non-empty strings, not %r" % (source,)
            if not isinstance(target, str) or not target:
                yield "property_map.%s: the target must be a profile property name (a non-empty string), not %r" % (source, target)
    if id_type is not None and id_type not in ID_TYPES:
        yield "id_type: %r is not one of %s" % (id_type, ", ".join(ID_TYPES))
    if records is not None and not isinstance(records, list):
        yield "records: must be a list of records, not %s" % type(records).__name__


def check_inputs(id_property, property_map, id_type=None, records=None):
    """Problems with the mapping itself (INPUTS_SCHEMA, Entra-synced targets); an empty list when fine."""
    problems = [_problem(None, None, None, message) for message in _input_problems(id_property, property_map, id_type, records)]
    if problems:
        return problems
    for source, target in property_map.items():
        if target in ENTRA_SYNCED_CORE_PROPERTIES:
            problems.append(_problem(None, None, source, "target property %s is synchronised from Entra ID and cannot be bulk "
                                     "imported; set it in Entra ID, or use spo.user_profiles.user_profile_property for a "
                                     "one-off write" % target))
    if id_property in property_map:
        problems.append(_problem(None, None, id_property, "the id property is written as the identity and must not be mapped"))
    return problems


def _problem(record, line, field, message):
    return {"record": record, "line": line, "field": field, "message": message}


def format_problem(problem):
    """One line for a person: where, which field, what is wrong."""
    where = []
    if problem.get("record") is not None:
        where.append("record %d" % problem["record"])
    if problem.get("line") is not None:
        where.append("line %d" % problem["line"])
    text = ", ".join(where)
    if problem.get("field") is not None:
        text = (text + ", " if text else "") + "field %r" % problem["field"]
    return (text + ": " if text else "") + problem["message"]


class _IdTable:
    """Set of 64-bit id hashes in 256 open-addressing arrays (8 bytes a slot).

    Each shard grows by half when 70% full, one shard at a time, so memory stays close to 12 bytes a user.
    """

    def __init__(self):
        self.shards = [array("q", bytes(8 * 256)) for dummy in range(256)]
        self.counts = [0] * 256

    def add(self, key):
        """False when the hash was already there (a possible duplicate)."""
        key = key or 1
        shard_no = key & 255
        table = self.shards[shard_no]
        size = len(table)
        slot = (key >> 8) % size
        while True:
            current = table[slot]
            if current == 0:
                break
            if current == key:
                return False
            slot = (slot + 1) % size
        table[slot] = key
        count = self.counts[shard_no] = self.counts[shard_no] + 1
        if count * 10 > size * 7:
            self._grow(shard_no)
        return True

    def _grow(self, shard_no):
        old = self.shards[shard_no]
        size = len(old) * 3 // 2
        table = array("q", bytes(8 * size))
        for key in old:
            if key:
                slot = (key >> 8) % size
                while table[slot]:
                    slot = (slot + 1) % size
                table[slot] = key
        self.shards[shard_no] = table


def _id_key(value):
    return hash(value.strip().lower())


def _to_text(value):
    """A value as written in the file: strings as they are, booleans and numbers as JSON would print them."""
    if isinstance(value, str):
        return value
    if value is True:
        return "true"
    if value is False:
        return "false"
    if isinstance(value, int):
        return str(value)
    return repr(value)


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


def _open_text(path, encoding):
    # Undecodable bytes become lone surrogates; encoding the output refuses them, naming record and line.
    codec = codecs.lookup(encoding).name
    if codec == "utf-8":
        encoding = "utf-8-sig"
    return open(path, "r", encoding=encoding, errors="surrogateescape", newline="")


def _json_number_constant(name):
    raise ValueError("%s is not a JSON number" % name)


_DECODER = json.JSONDecoder(parse_constant=_json_number_constant)
_WHITESPACE = re.compile(r"[ \t\n\r]*")


class _JsonStream:
    """Items of a top-level JSON array, or of the "value" array of a top-level object, one at a time."""

    def __init__(self, stream):
        self.stream = stream
        self.buffer = ""
        self.pos = 0
        self.eof = False

    def _fill(self):
        if self.eof:
            return False
        chunk = self.stream.read(_READ_CHARS)
        if not chunk:
            self.eof = True
            return False
        if self.pos > _READ_CHARS:
            self.buffer = self.buffer[self.pos:]
            self.pos = 0
        self.buffer += chunk
        return True

    def _peek(self):
        """The next non-whitespace character, or "" at the end."""
        while True:
            self.pos = _WHITESPACE.match(self.buffer, self.pos).end()
            if self.pos < len(self.buffer):
                return self.buffer[self.pos]
            if not self._fill():
                return ""

    def _expect(self, char):
        if self._peek() != char:
            raise ValueError("expected %r at character %d" % (char, self.pos))
        self.pos += 1

    def _value(self):
        self._peek()
        while True:
            try:
                value, end = _DECODER.raw_decode(self.buffer, self.pos)
            except ValueError:
                # Incomplete at the end of the buffer, or invalid: read on, but not without bound.
                if len(self.buffer) - self.pos < _MAX_ITEM_CHARS and self._fill():
                    continue
                raise
            if end == len(self.buffer) and self._fill():
                continue  # a number may go on in the next chunk
            self.pos = end
            return value

    def items(self):
        first = self._peek()
        if first == "{":
            self.pos += 1
            while True:
                if self._peek() == "}":
                    raise ValueError('the object has no "value" array (for one object per line, set format: jsonl)')
                key = self._value()
                self._expect(":")
                if key == "value":
                    break
                self._value()
                if self._peek() == ",":
                    self.pos += 1
        self._expect("[")
        if self._peek() == "]":
            return
        while True:
            yield self._value()
            separator = self._peek()
            self.pos += 1
            if separator == "]":
                return
            if separator != ",":
                raise ValueError("expected ',' or ']' at character %d" % (self.pos - 1))


def _record_encoder():
    """json's own C encoder for one record (what JSONEncoder.encode builds anew on every call); returns chunks."""
    encoder = json.JSONEncoder(ensure_ascii=False, separators=(",", ":"))
    if c_make_encoder is None:
        return lambda record, level: [encoder.encode(record)]
    return c_make_encoder(None, encoder.default, encode_basestring, None, ":", ",", False, False, True)


class Builder:
    """Validates mapped records and writes them into import files under ``tmpdir``."""

    def __init__(self, tmpdir, id_property, property_map, id_type=None, omit_empty=False,
                 max_properties=DEFAULT_MAX_PROPERTIES, max_bytes=DEFAULT_MAX_BYTES, max_problems=DEFAULT_MAX_PROBLEMS):
        self.tmpdir = tmpdir
        self.id_property = id_property
        self.fields = [field for field in property_map if field != id_property]
        self.id_type = id_type
        self.omit_empty = omit_empty
        self.max_properties = max_properties
        self.max_bytes = max_bytes
        self.max_problems = max_problems
        self.id_check = re.compile(ID_PATTERNS[None]).search
        self.id_format_check = re.compile(_FAST_ID_PATTERNS[id_type]).fullmatch if id_type else self.id_check
        self._encode = _record_encoder()
        self.ids = _IdTable()
        self.suspects = {}
        self.problems = []
        self.problem_count = 0
        self.silent = False
        self.ignored_fields = set()
        self.records = 0
        self.properties = 0
        self.parts = []
        self._handle = None
        self._part_path = None
        self._digest = None
        self._pending = []
        self._pending_bytes = 0
        self._part_bytes = 0
        self._part_records = 0
        self._part_properties = 0
        self._flushed_records = 0

    # problems -------------------------------------------------------------------------------------
    def problem(self, record, line, field, message):
        if self.silent:
            return
        self.problem_count += 1
        if len(self.problems) < self.max_problems:
            self.problems.append(_problem(record, line, field, message))

    # the hot path -----------------------------------------------------------------------------------
    def add(self, number, line, record_id, names, values, strings=False):
        """One record: its id and the mapped field names with their source values (same order).

        ``strings`` says every value is already a str (CSV), which skips the type checks.
        """
        if not isinstance(record_id, str):
            self.problem(number, line, self.id_property, "the id is missing" if record_id is None
                         else "the id must be a string, not %s" % type(record_id).__name__)
            return
        if not self.id_format_check(record_id):
            if not self.id_check(record_id):
                self.problem(number, line, self.id_property, "the id is empty")
            else:
                self.problem(number, line, self.id_property, "%r is not %s (id_type %s)" % (
                    record_id, _ID_EXPECTED[self.id_type], self.id_type))
            return
        key = _id_key(record_id)
        if not self.ids.add(key):
            self.suspects[key] = True
        if not strings:
            values = self._scalar_values(number, line, names, values)
            if values is None:
                return
        out = {self.id_property: record_id}
        if self.omit_empty:
            out.update((name, value) for name, value in zip(names, values) if value)
        else:
            out.update(zip(names, values))
        try:
            data = "".join(self._encode(out, 0)).encode("utf-8")
        except UnicodeEncodeError:
            bad = [name for name, value in out.items() if not _encodable(value)]
            self.problem(number, line, bad[0] if bad else None, "the text is not valid in the declared encoding")
            return
        if self.problem_count:
            return
        properties = len(out)
        size = len(data)
        if self._part_records and (self._part_properties + properties > self.max_properties
                                   or self._part_bytes + size + _SEPARATOR_AND_TAIL > self.max_bytes):
            self._close_part()
        if not self._part_records:
            if _HEAD_AND_TAIL + size > self.max_bytes or properties > self.max_properties:
                self.problem(number, line, None, "the record alone is larger than one file may be")
                return
            if self._handle is None:
                self._open_part()
            self._part_bytes += size
        else:
            self._part_bytes += size + _SEPARATOR_LEN
        self._pending.append(data)
        self._pending_bytes += size
        self._part_records += 1
        self._part_properties += properties
        self.records += 1
        self.properties += properties
        if self._pending_bytes >= _FLUSH_BYTES:
            self._flush()

    def _scalar_values(self, number, line, names, values):
        """The values as text, or None (after reporting) when one is not a string, number or boolean."""
        converted = []
        for name, value in zip(names, values):
            if not isinstance(value, str):
                if isinstance(value, (bool, int, float)):
                    value = _to_text(value)
                else:
                    self.problem(number, line, name, "a %s value cannot be imported: the bulk API takes single values "
                                 "(string, number or boolean) only" % ("null" if value is None else type(value).__name__))
                    return None
            converted.append(value)
        return converted

    def _open_part(self):
        self._part_path = os.path.join(self.tmpdir, "import-part-%d.json" % (len(self.parts) + 1))
        self._handle = open(self._part_path, "wb")
        self._digest = hashlib.sha256(_FILE_HEAD)
        self._handle.write(_FILE_HEAD)
        self._part_bytes = len(_FILE_HEAD)
        self._part_records = 0
        self._part_properties = 0
        self._flushed_records = 0

    def _flush(self, tail=b""):
        data = _SEPARATOR.join(self._pending)
        if self._flushed_records and data:
            data = _SEPARATOR + data
        data += tail
        self._handle.write(data)
        self._digest.update(data)
        self._flushed_records += len(self._pending)
        self._pending = []
        self._pending_bytes = 0

    def _close_part(self):
        self._flush(_FILE_TAIL)
        self._handle.close()
        self._handle = None
        self.parts.append({"path": self._part_path, "sha256": self._digest.hexdigest(), "bytes": self._part_bytes + len(_FILE_TAIL),
                           "records": self._part_records, "properties": self._part_properties})
        self._part_records = 0

    def finish(self):
        if self._handle is not None:
            self._close_part()
        return self.parts

    def discard(self):
        if self._handle is not None:
            self._handle.close()
            self._handle = None
            self.parts.append({"path": self._part_path})
        for part in self.parts:
            if os.path.exists(part["path"]):
                os.unlink(part["path"])
        self.parts = []


def _encodable(value):
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


# readers: each calls builder.add(number, line, id, names, values) per record and yields the ids for the
# duplicate confirmation pass when asked to ---------------------------------------------------------------

def _read_csv(path, builder, encoding, delimiter, ids_only=False):
    with _open_text(path, encoding) as stream:
        reader = csv.reader(stream, delimiter=delimiter, strict=False)
        try:
            header = next(reader)
        except StopIteration:
            builder.problem(None, 1, None, "the CSV file is empty; a header row is required")
            return
        except csv.Error as err:
            builder.problem(None, 1, None, "the CSV header cannot be parsed: %s" % err)
            return
        positions = {}
        for index, name in enumerate(header):
            if name in positions:
                builder.problem(None, 1, name, "the column appears twice in the header")
            positions.setdefault(name, index)
        if builder.id_property not in positions:
            builder.problem(None, 1, builder.id_property, "the id column is missing from the header")
        missing = [field for field in builder.fields if field not in positions]
        for field in missing:
            builder.problem(None, 1, field, "the mapped field is missing from the source")
        if builder.problem_count:
            return
        builder.ignored_fields.update(name for name in positions if name != builder.id_property and name not in builder.fields)
        id_index = positions[builder.id_property]
        pick = _picker([positions[field] for field in builder.fields])
        names = builder.fields
        width = len(header)
        add = builder.add
        number = 0
        line = 2
        try:
            for row in reader:
                if not row:
                    line = reader.line_num + 1
                    continue
                number += 1
                if len(row) != width:
                    builder.problem(number, line, None, "the row has %d fields, the header %d" % (len(row), width))
                elif ids_only:
                    yield number, line, row[id_index]
                else:
                    add(number, line, row[id_index], names, pick(row), True)
                line = reader.line_num + 1
        except csv.Error as err:
            builder.problem(number + 1, line, None, "the CSV cannot be parsed: %s" % err)


def _picker(indexes):
    """A function returning the values at these positions of a row, as a sequence."""
    if len(indexes) == 1:
        index = indexes[0]
        return lambda row: (row[index],)
    if not indexes:
        return lambda row: ()
    return operator.itemgetter(*indexes)


def _add_mapping(builder, number, line, record, ids_only):
    if not isinstance(record, dict):
        builder.problem(number, line, None, "the record is a %s, not an object" % type(record).__name__)
        return None
    missing = False
    for field in builder.fields:
        if field not in record:
            builder.problem(number, line, field, "the mapped field is missing from the record")
            missing = True
    if builder.id_property not in record:
        builder.problem(number, line, builder.id_property, "the id is missing")
        return None
    if missing:
        return None
    if ids_only:
        return record[builder.id_property]
    if len(record) > len(builder.fields) + 1:
        builder.ignored_fields.update(name for name in record if name != builder.id_property and name not in builder.fields)
    builder.add(number, line, record[builder.id_property], builder.fields, [record[field] for field in builder.fields])
    return None


def _read_records(records, builder, ids_only=False):
    for number, record in enumerate(records, 1):
        record_id = _add_mapping(builder, number, None, record, ids_only)
        if ids_only and record_id is not None:
            yield number, None, record_id


def _read_jsonl(path, builder, encoding, ids_only=False):
    number = 0
    with _open_text(path, encoding) as stream:
        for line_no, text in enumerate(stream, 1):
            if not text.strip():
                continue
            number += 1
            try:
                record = _DECODER.decode(text)
            except ValueError as err:
                builder.problem(number, line_no, None, "not valid JSON: %s" % err)
                continue
            record_id = _add_mapping(builder, number, line_no, record, ids_only)
            if ids_only and record_id is not None:
                yield number, line_no, record_id


def _read_json(path, builder, encoding, ids_only=False):
    number = 0
    with _open_text(path, encoding) as stream:
        items = _JsonStream(stream).items()
        while True:
            try:
                record = next(items)
            except StopIteration:
                return
            except ValueError as err:
                builder.problem(number + 1, None, None, "not valid JSON: %s" % err)
                return
            number += 1
            record_id = _add_mapping(builder, number, None, record, ids_only)
            if ids_only and record_id is not None:
                yield number, None, record_id


def _source_reader(builder, src, records, fmt, encoding, delimiter):
    """A function that runs one pass over the source (ids_only=True: yields (number, line, id))."""
    if records is not None:
        return lambda ids_only: _read_records(records, builder, ids_only)
    if not os.path.isfile(src):
        raise ImportFileError("the source file %s does not exist" % src)
    try:
        codecs.lookup(encoding)
    except LookupError:
        raise ImportFileError("unknown encoding %r" % encoding)
    if fmt == "auto":
        fmt = detect_format(src, encoding)
    if fmt == "csv":
        return lambda ids_only: _read_csv(src, builder, encoding, delimiter, ids_only)
    if fmt == "jsonl":
        return lambda ids_only: _read_jsonl(src, builder, encoding, ids_only)
    if fmt == "json":
        return lambda ids_only: _read_json(src, builder, encoding, ids_only)
    raise ImportFileError("unknown format %r" % fmt)


def _confirm_duplicates(builder, read):
    """Second pass, only when two id hashes met: report real duplicates with both record numbers."""
    suspects = builder.suspects
    first_seen = {}
    duplicates = []
    builder.silent = True  # the first pass reported everything else already
    try:
        for number, line, record_id in read(True):
            if not isinstance(record_id, str) or _id_key(record_id) not in suspects:
                continue
            normalized = record_id.strip().lower()
            seen = first_seen.setdefault(normalized, (number, line))
            if seen[0] != number:
                duplicates.append((number, line, record_id, seen))
    finally:
        builder.silent = False
    for number, line, record_id, seen in duplicates:
        where = "record %d" % seen[0] + (" (line %d)" % seen[1] if seen[1] is not None else "")
        builder.problem(number, line, builder.id_property, "duplicate id %r, first seen at %s" % (record_id, where))


def file_name(prefix, sha256, index=None):
    """The content-addressed name of an import file: same content, same name."""
    if index is None:
        return "%s-%s.json" % (prefix, sha256[:16])
    return "%s-%s-part%d.json" % (prefix, sha256[:16], index)


def name_pattern(prefix):
    """Matches the names file_name gives for this prefix, and nothing else."""
    return re.compile(r"^%s-[0-9a-f]{16}(-part\d+)?\.json$" % re.escape(prefix))


def build_import_files(tmpdir, prefix, id_property, property_map, id_type=None, src=None, records=None, fmt="auto",
                       encoding="utf-8", delimiter=",", omit_empty=False, max_properties=DEFAULT_MAX_PROPERTIES,
                       max_bytes=DEFAULT_MAX_BYTES, max_problems=DEFAULT_MAX_PROBLEMS):
    """Read, map, validate and write. Returns a dict:

    ``files`` (each ``name``, ``path`` (local), ``sha256``, ``bytes``, ``records``, ``properties``; empty when
    there are problems), ``records``, ``properties``, ``ignored_fields``, ``problems`` (the first
    ``max_problems``) and ``problem_count``.
    """
    builder = Builder(tmpdir, id_property, property_map, id_type=id_type, omit_empty=omit_empty,
                      max_properties=max_properties, max_bytes=max_bytes, max_problems=max_problems)
    for problem in check_inputs(id_property, property_map, id_type, records):
        builder.problem(problem["record"], problem["line"], problem["field"], problem["message"])
    if not builder.problem_count:
        read = _source_reader(builder, src, records, fmt, encoding, delimiter)
        try:
            for dummy in read(False) or ():
                pass
            if builder.suspects:
                _confirm_duplicates(builder, read)
        except BaseException:
            builder.discard()
            raise
    result = {"records": builder.records, "properties": builder.properties, "ignored_fields": sorted(builder.ignored_fields),
              "problems": builder.problems, "problem_count": builder.problem_count, "files": []}
    if builder.problem_count:
        builder.discard()
        result["records"] = 0
        result["properties"] = 0
        return result
    parts = builder.finish()
    for index, part in enumerate(parts, 1):
        name = file_name(prefix, part["sha256"], index if len(parts) > 1 else None)
        path = os.path.join(tmpdir, name)
        os.replace(part["path"], path)
        result["files"].append(dict(part, name=name, path=path))
    return result


# the library side --------------------------------------------------------------------------------------

def site_and_folder(root_url, site, folder):
    """(absolute site URL, server-relative folder) from the module's ``site`` and ``folder`` options."""
    if not site:
        site_url = root_url.rstrip("/")
    elif site.startswith("/"):
        site_url = root_url.rstrip("/") + site.rstrip("/")
    else:
        site_url = site.rstrip("/")
    site_path = urlsplit(site_url).path.rstrip("/")
    return site_url, site_path + "/" + folder.strip("/")


def _origin(site_url):
    parts = urlsplit(site_url)
    return "%s://%s" % (parts.scheme, parts.netloc)


def upload_import_files(client, site_url, folder_url, built_files, check_mode=False,
                        chunk_size=spo_files.DEFAULT_CHUNK_SIZE, chunk_threshold=spo_files.DEFAULT_CHUNK_THRESHOLD):
    """Upload what is not there yet (same name and size means same content). Returns (changed, files)."""
    existing = {item["name"]: item for item in spo_files.list_files(client, site_url, folder_url)}
    folder_checked = False
    changed = False
    results = []
    for built in built_files:
        server_relative_url = folder_url.rstrip("/") + "/" + built["name"]
        present = existing.get(built["name"])
        uploaded = not (present is not None and present["length"] == built["bytes"])
        if uploaded:
            changed = True
            if not check_mode:
                if not folder_checked:
                    spo_files.ensure_folder(client, site_url, folder_url)
                    folder_checked = True
                spo_files.upload_file(client, site_url, folder_url, built["name"], built["path"],
                                      chunk_size=chunk_size, chunk_threshold=chunk_threshold)
        results.append({"name": built["name"], "server_relative_url": server_relative_url,
                        "source_uri": _origin(site_url) + server_relative_url, "sha256": built["sha256"],
                        "bytes": built["bytes"], "records": built["records"], "properties": built["properties"],
                        "uploaded": uploaded})
    return changed, results


_GUID = re.compile(r"^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$")


def remove_import_files(client, site_url, folder_url, prefix, remove_logs=False, check_mode=False):
    """Delete this prefix's import files (and, with remove_logs, the job log folders: GUID-named subfolders).

    Returns (removed file names, removed log folder names).
    """
    pattern = name_pattern(prefix)
    removed = []
    for item in spo_files.list_files(client, site_url, folder_url):
        if pattern.match(item["name"]):
            if check_mode or spo_files.delete_file(client, site_url, item["server_relative_url"]):
                removed.append(item["name"])
    removed_logs = []
    if remove_logs:
        for item in spo_files.list_folders(client, site_url, folder_url):
            if _GUID.match(item["name"] or ""):
                if check_mode or spo_files.delete_folder(client, site_url, item["server_relative_url"]):
                    removed_logs.append(item["name"])
    return sorted(removed), sorted(removed_logs)
