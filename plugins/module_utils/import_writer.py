# -*- coding: utf-8 -*-
# Copyright (c) spo.user_profiles contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

"""Writing bulk import files: ``{"value": [{"<id property>": "...", "<source field>": "..."}, ...]}`` as UTF-8
with a byte order mark (without one, SharePoint reads the file as ISO-8859-1), one record per line, every value a
JSON string (import_validation.IMPORT_FILE_SCHEMA), split into parts and named by content.

Counting: ``properties`` are the name/value pairs in the file, the id included, because that is the stricter
reading of the service's limit of 500,000 properties per file. A file is closed before a record would take it
past ``max_properties`` or ``max_bytes``; a user is never split across files. Records are written as they come,
so memory stays flat.
"""

from __future__ import annotations

import codecs
import hashlib
import json
import os
import re
from json.encoder import c_make_encoder, encode_basestring

DEFAULT_MAX_PROPERTIES = 500000
DEFAULT_MAX_BYTES = 2 * 1024 ** 3
BOM = codecs.BOM_UTF8

_FILE_HEAD = BOM + b'{"value":[\n'
_FILE_TAIL = b"\n]}\n"
_SEPARATOR = b",\n"
_SEPARATOR_LEN = len(_SEPARATOR)
_HEAD_AND_TAIL = len(_FILE_HEAD) + len(_FILE_TAIL)
_FLUSH_BYTES = 1024 * 1024


class UnencodableText(ValueError):
    """A value holds text UTF-8 cannot carry: a lone surrogate, ``char`` (bytes the declared encoding could not decode
    become U+DC80..U+DCFF; a JSON escape of half a surrogate pair gives any of them)."""

    def __init__(self, field, char=None):
        self.field = field
        self.char = char
        super().__init__("the text of field %r is not valid in the declared encoding" % (field,))


def limit_problems(max_properties, max_bytes):
    """What is wrong with the file limits, as "<option>: <why>" lines: none may pass the service's own."""
    if not 1 <= max_properties <= DEFAULT_MAX_PROPERTIES:
        yield "max_properties: %d; give 1 to %d (the service's limit per file)" % (max_properties, DEFAULT_MAX_PROPERTIES)
    if not 1 <= max_bytes <= DEFAULT_MAX_BYTES:
        yield "max_bytes: %d; give 1 to %d (the service's limit of 2 GB per file)" % (max_bytes, DEFAULT_MAX_BYTES)


def file_name(prefix, sha256, index=None):
    """The content-addressed name of an import file: same content, same name."""
    if index is None:
        return "%s-%s.json" % (prefix, sha256[:16])
    return "%s-%s-part%d.json" % (prefix, sha256[:16], index)


def name_pattern(prefix, ending=r"\.json"):
    """Matches the names file_name gives for this prefix, and nothing else; `ending` (a regular expression) replaces
    the ".json" extension, for names made from them (job records, log folders)."""
    return re.compile(r"^%s-[0-9a-f]{16}(-part\d+)?%s$" % (re.escape(prefix), ending))


def _record_encoder():
    """json's own C encoder for one record (what JSONEncoder.encode builds anew on every call); returns chunks."""
    encoder = json.JSONEncoder(ensure_ascii=False, separators=(",", ":"))
    if c_make_encoder is None:
        return lambda record, level: [encoder.encode(record)]
    return c_make_encoder(None, encoder.default, encode_basestring, None, ":", ",", False, False, True)


def full_record_encoder(id_property, fields):
    """A function giving what ImportFileWriter.encode gives for a user's full record (import_delta.full_record without
    omit_empty: the id, then every field, every value text), from the id and the values, without building the record:
    one format of the escaped strings instead of a dict for json's encoder, per user of a plain build. Raises
    UnicodeEncodeError where encode raises UnencodableText (encode then names the field)."""
    # json's own escaping of each name, with "%" doubled for the format
    template = "{%s}" % ",".join("%s:%%s" % encode_basestring(name).replace("%", "%%") for name in [id_property] + list(fields))
    escape = encode_basestring

    def encode(record_id, values):
        return (template % (escape(record_id), *map(escape, values))).encode("utf-8")
    return encode


def _unencodable_char(value):
    """The first character of a value that UTF-8 cannot carry, or None."""
    try:
        value.encode("utf-8")
    except UnicodeEncodeError as err:
        return err.object[err.start]
    return None


class ImportFileWriter:
    """Writes records (dicts of text) into import files under ``tmpdir``, starting a new part at the limits."""

    def __init__(self, tmpdir, max_properties=DEFAULT_MAX_PROPERTIES, max_bytes=DEFAULT_MAX_BYTES):
        self.tmpdir = tmpdir
        self.max_properties = max_properties
        self.max_bytes = max_bytes
        # The bytes of records an empty part has room for, each counted with a separator (the first has none).
        self._empty_part_bytes = max_bytes - _HEAD_AND_TAIL + _SEPARATOR_LEN
        self.records = 0
        self.properties = 0
        self.parts = []
        self._encode = _record_encoder()
        self._handle = None
        self._part_path = None
        self._digest = None
        self._pending = []
        self._pending_bytes = 0
        self._part_bytes = 0
        self._flushed_records = 0
        # The room left in the open part (none while no part is open), checked once per record: bytes, counting with
        # every record the separator before it (the first of a part has none: a part starts with room for one more),
        # and properties.
        self._room_bytes = 0
        self._room_properties = 0

    def encode(self, record):
        """The record as it is written (UTF-8 JSON); UnencodableText names a field UTF-8 cannot carry."""
        try:
            return "".join(self._encode(record, 0)).encode("utf-8")
        except UnicodeEncodeError:
            for name, value in record.items():
                char = _unencodable_char(value)
                if char is not None:
                    raise UnencodableText(name, char)
            raise UnencodableText(None)

    def oversize(self, properties, size):
        """Why a record that add_encoded() refused fits in no file (its number of properties, its encoded size): the
        limit it passes, in words."""
        if properties > self.max_properties:
            return "the record has %d properties, more than max_properties (%d) allows in one file" % (
                properties, self.max_properties)
        return "the record takes %d bytes in a file, more than max_bytes (%d) allows" % (
            _HEAD_AND_TAIL + size, self.max_bytes)

    def add_encoded(self, data, properties):
        """Write one record, encoded (encode, full_record_encoder), with its number of properties; False (nothing
        written) when the record alone is larger than one file may be."""
        cost = len(data) + _SEPARATOR_LEN
        if (cost > self._room_bytes or properties > self._room_properties) and not self._next_part(cost, properties):
            return False
        self._pending.append(data)
        self._pending_bytes += cost
        self._room_bytes -= cost
        self._room_properties -= properties
        self.records += 1
        self.properties += properties
        if self._pending_bytes >= _FLUSH_BYTES:
            self._flush()
        return True

    def _next_part(self, cost, properties):
        """Close the open part, which has no room for the record, and open the next; False (and no part open) when
        the record alone is larger than one file may be."""
        if self._handle is not None:
            self._close_part()
        if cost > self._empty_part_bytes or properties > self.max_properties:
            return False
        self._open_part()
        return True

    def _open_part(self):
        self._part_path = os.path.join(self.tmpdir, "import-part-%d.json" % (len(self.parts) + 1))
        self._handle = open(self._part_path, "wb")
        self._digest = hashlib.sha256(_FILE_HEAD)
        self._handle.write(_FILE_HEAD)
        self._part_bytes = len(_FILE_HEAD)
        self._flushed_records = 0
        self._room_bytes = self._empty_part_bytes
        self._room_properties = self.max_properties

    def _flush(self, tail=b""):
        data = _SEPARATOR.join(self._pending)
        if self._flushed_records and data:
            data = _SEPARATOR + data
        data += tail
        self._handle.write(data)
        self._digest.update(data)
        self._part_bytes += len(data)
        self._flushed_records += len(self._pending)
        self._pending = []
        self._pending_bytes = 0

    def _close_part(self):
        self._flush(_FILE_TAIL)
        self._handle.close()
        self._handle = None
        self.parts.append({"path": self._part_path, "sha256": self._digest.hexdigest(), "bytes": self._part_bytes,
                           "records": self._flushed_records, "properties": self.max_properties - self._room_properties})
        self._room_bytes = 0
        self._room_properties = 0

    def finish(self, prefix, salt=""):
        """Close the last part and give every part its content-addressed name (file_name). Returns the files:
        ``name``, ``path`` (local), ``sha256``, ``bytes``, ``records``, ``properties``.

        A ``salt`` goes into the names' hash (not into ``sha256``): a delta names the baseline it was compared with, so
        the same delta against a newer baseline is a new file (and a new job), not the old job followed again.
        """
        if self._handle is not None:
            self._close_part()
        named = []
        for index, part in enumerate(self.parts, 1):
            digest = part["sha256"] if not salt else hashlib.sha256((salt + "\n" + part["sha256"]).encode("utf-8")).hexdigest()
            name = file_name(prefix, digest, index if len(self.parts) > 1 else None)
            path = os.path.join(self.tmpdir, name)
            os.replace(part["path"], path)
            named.append(dict(part, name=name, path=path))
        return named

    def discard(self):
        """Remove every part written so far."""
        if self._handle is not None:
            self._handle.close()
            self._handle = None
            self.parts.append({"path": self._part_path})
        for part in self.parts:
            if os.path.exists(part["path"]):
                os.unlink(part["path"])
        self.parts = []
