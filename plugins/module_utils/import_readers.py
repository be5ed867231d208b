# -*- coding: utf-8 -*-
# Copyright (c) spo.user_profiles contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

"""Readers of bulk import sources (CSV, JSON, JSON Lines, inline records): each yields the records of a source
for one mapping, in source order, one at a time.

Iterating a source reads it from its start (a second pass finds duplicates) and yields
- a record as a tuple ``(number, line, id, values)``: its number (1-based), its line (None for inline records), its
  id as the source has it, and the values of the mapped fields in their order; with ``whole_records`` a fifth item,
  the whole record as the source has it (a dict of every field, for record_schema); and
- a problem (import_validation.problem, a dict) where the source has no usable record: a missing column or field,
  a row of the wrong width, a quote that never closes, invalid JSON, content after the JSON document.
Values are not checked here (RecordChecks does that), but for a JSON escape of a lone surrogate U+DC80..U+DCFF: only
the reader can tell it from a byte the encoding could not decode, which becomes the same character. Files are read
incrementally, so memory stays flat.

A source is read only as what it says it is: an encoding its byte order mark contradicts, UTF-16 without a mark read
as UTF-8 (NUL bytes), or UTF-8 text declared as a one-byte encoding (it would turn "Müller" into "MÃ¼ller") is
refused before any record is read (ImportFileError), naming the cause.
"""

from __future__ import annotations

import codecs
import csv
import json
import operator
import os
import re

from ansible_collections.spo.user_profiles.plugins.module_utils._json_stream import (
    DuplicateKeys, JsonFormatError, array_items, decode_line, escaped_surrogates, line_breaks,
)
from ansible_collections.spo.user_profiles.plugins.module_utils.import_validation import problem

FORMATS = ("auto", "csv", "json", "jsonl")

# Byte order marks, the longer first (a UTF-32 LE mark starts with the UTF-16 LE one): (mark, family, name, byte order).
_BOMS = (
    (codecs.BOM_UTF32_LE, "utf-32", "UTF-32 (little-endian)", "le"),
    (codecs.BOM_UTF32_BE, "utf-32", "UTF-32 (big-endian)", "be"),
    (codecs.BOM_UTF8, "utf-8", "UTF-8", None),
    (codecs.BOM_UTF16_LE, "utf-16", "UTF-16 (little-endian)", "le"),
    (codecs.BOM_UTF16_BE, "utf-16", "UTF-16 (big-endian)", "be"),
)
# The codec that reads each family and skips its mark.
_BOM_CODECS = {"utf-8": "utf-8-sig", "utf-16": "utf-16", "utf-32": "utf-32"}
_SNIFF_BYTES = 4096
_SCAN_BYTES = 1024 * 1024
_LINE_BREAKS = ("\n", "\r")
# Up to the first line break: CR, LF or CR LF, as the readers split lines.
_FIRST_LINE = re.compile(r"[^\r\n]*")


class ImportFileError(Exception):
    """The source cannot be read at all (missing file, unknown format, an encoding the file contradicts)."""


def option_problems(fmt="auto", encoding="utf-8", delimiter=","):
    """What is wrong with the options that say how to read a source file, as "<option>: <why>" lines (none: fine)."""
    if fmt not in FORMATS:
        yield "format: unknown format %r; use one of %s" % (fmt, ", ".join(FORMATS))
    try:
        codec = codecs.lookup(encoding)
    except (LookupError, TypeError):
        yield "encoding: unknown encoding %r (Python's names: utf-8, utf-16, cp1252, ...)" % (encoding,)
    else:
        if not getattr(codec, "_is_text_encoding", True):
            yield "encoding: %r is not a text encoding (for example utf-8, utf-16, cp1252)" % (encoding,)
    if not isinstance(delimiter, str) or len(delimiter) != 1:
        yield "delimiter: must be exactly one character, not %r" % (delimiter,)
    elif delimiter in '"\r\n':
        yield "delimiter: %r cannot separate CSV fields (it quotes values or ends rows)" % (delimiter,)


def src_problem(src):
    """Why the source file cannot be read, or None."""
    if not os.path.exists(src):
        return "src: the source file %s does not exist" % src
    if os.path.isdir(src):
        return "src: %s is a directory; give the source file" % src
    if not os.path.isfile(src):
        return "src: %s is not a regular file" % src
    if not os.access(src, os.R_OK):
        return "src: the source file %s cannot be read (permissions)" % src
    return None


def _family(codec_name):
    """utf-8, utf-16 or utf-32 and the byte order a codec name fixes (None: the mark decides), or (None, None)."""
    for family in ("utf-8", "utf-16", "utf-32"):
        if codec_name == family or codec_name == family + "-sig":
            return family, None
        if codec_name.startswith(family + "-"):
            return family, codec_name[len(family) + 1:]
    return None, None


def _mark(head):
    """The byte order mark the file starts with, as an entry of _BOMS, or None (a UTF-16 text does not start with
    U+0000, so FF FE 00 00 is UTF-32)."""
    return next((entry for entry in _BOMS if head.startswith(entry[0])), None)


def _reading_codec(path, encoding):
    """The codec that reads the file as declared, skipping a byte order mark of the same encoding; ImportFileError
    when the file's first bytes contradict the declared encoding."""
    declared = codecs.lookup(encoding).name
    family, order = _family(declared)
    with open(path, "rb") as handle:
        head = handle.read(_SNIFF_BYTES)
    mark = _mark(head)
    if mark is not None:
        _bom, mark_family, name, mark_order = mark
        if mark_family == family and order in (None, mark_order):
            return _BOM_CODECS[family]
        raise ImportFileError("%s starts with a %s byte order mark, but encoding is %s: the file says it is %s; set "
                              "encoding: %s" % (path, name, encoding, name, mark_family))
    if family in ("utf-16", "utf-32") and order is None:
        raise ImportFileError("%s has no byte order mark, which encoding %s needs to tell the byte order; set encoding: "
                              "%s-le or %s-be" % (path, encoding, family, family))
    # ASCII text in UTF-16 is every other byte NUL; a NUL here and there is a control character in a value.
    if family != "utf-16" and family != "utf-32" and head.count(b"\x00") * 8 > len(head):
        raise ImportFileError("%s holds NUL bytes, so it is not %s text: it looks like UTF-16 or UTF-32 without a byte "
                              "order mark; set encoding (utf-16-le, utf-16-be, ...)" % (path, encoding))
    if family is None:
        _refuse_utf8_read_as(path, encoding, declared)
    return declared


def _refuse_utf8_read_as(path, encoding, declared):
    """ImportFileError when a file declared in a one-byte encoding is UTF-8 text with non-ASCII characters: read as
    declared, every one of them would be mangled without a word. A real one-byte file ends the scan at its first
    non-ASCII character (it is not valid UTF-8); an ASCII or a mislabelled file is read to its end once more."""
    decoder = codecs.getincrementaldecoder("utf-8")()
    non_ascii = False
    with open(path, "rb") as handle:
        while True:
            block = handle.read(_SCAN_BYTES)
            try:
                decoder.decode(block, final=not block)
            except UnicodeDecodeError:
                return
            non_ascii = non_ascii or not block.isascii()
            if not block:
                break
    if non_ascii:
        line, sample = _first_non_ascii_text(path)
        raise ImportFileError("%s is UTF-8 text (line %d holds %r), but encoding is %s, which would read it as %r; set "
                              "encoding: utf-8" % (path, line, sample, encoding,
                                                   sample.encode("utf-8").decode(declared, errors="replace")))


def _first_non_ascii_text(path):
    """The line of the first non-ASCII character of a UTF-8 file that holds one, and a few characters around it; lines
    end as the readers end them (CR, LF or CR LF)."""
    with open(path, "r", encoding="utf-8", newline="") as stream:
        number, text = next((number, text) for number, text in enumerate(stream, 1) if not text.isascii())
    at = next(index for index, char in enumerate(text) if not char.isascii())
    return number, text[max(0, at - 8):at + 8].strip()


def _undecodable_at(path, codec):
    """Where a file stops being text in ``codec`` even with surrogateescape: (line, "bytes ... are", the codec's
    reason), lines ending as the readers end them (CR, LF or CR LF)."""
    decoder = codecs.getincrementaldecoder(codec)(errors="surrogateescape")
    line, after_cr = 1, False
    with open(path, "rb") as handle:
        while True:
            block = handle.read(_SCAN_BYTES)
            state = decoder.getstate()
            try:
                text = decoder.decode(block, final=not block)
            except UnicodeDecodeError as err:
                # err.start counts from the bytes the decoder held back, then the block: decode up to the error
                _codec, data, start, end, reason = err.args
                decoder.setstate(state)
                line += line_breaks(decoder.decode(block[:max(0, start - len(state[0]))]), after_cr)
                return line, ("byte %s is" if end - start == 1 else "bytes %s are") % " ".join(
                    "0x%02X" % byte for byte in data[start:end]), reason
            line += line_breaks(text, after_cr)
            after_cr = text.endswith("\r") or (after_cr and not text)
            if not block:
                return None, "a part of the file is", "the file changed while it was read"


def _open_text(path, codec):
    # Undecodable bytes become lone surrogates; encoding the output refuses them, naming record and line.
    return open(path, "r", encoding=codec, errors="surrogateescape", newline="")


def undecodable_byte(text, escaped=()):
    """The first byte the source's encoding could not decode (a lone surrogate U+DC80..U+DCFF), or None; ``escaped``
    are the characters of that range a JSON source writes as escapes, not bytes (_json_stream.escaped_surrogates)."""
    for char in text:
        if "\udc80" <= char <= "\udcff" and char not in escaped:
            return ord(char) - 0xDC00
    return None


def detect_format(path, encoding="utf-8", codec=None):
    """csv, json or jsonl, from the file name and else from the first characters (read with `codec`, the reading
    codec of the file when the caller has it already)."""
    lower = path.lower()
    for suffixes, fmt in (((".csv", ".tsv", ".txt"), "csv"), ((".jsonl", ".ndjson"), "jsonl"), ((".json",), "json")):
        if lower.endswith(suffixes):
            return fmt
    # Bytes that are not text are the reader's to report, naming their line: here they only must not stop the look.
    with open(path, "r", encoding=codec or _reading_codec(path, encoding), errors="replace", newline="") as stream:
        head = stream.read(64 * 1024)
    stripped = head.lstrip()
    if stripped.startswith("["):
        return "json"
    if stripped.startswith("{"):
        first_line = _FIRST_LINE.match(stripped).group()
        try:
            first = json.loads(first_line)
        except ValueError:
            return "json"
        if _holds_records(first):
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
    for message in option_problems(fmt, encoding, delimiter):
        raise ImportFileError(message)
    message = src_problem(src)
    if message:
        raise ImportFileError(message)
    codec = _reading_codec(src, encoding)
    if fmt == "auto":
        fmt = detect_format(src, encoding, codec)
    if fmt == "csv":
        return CsvSource(id_property, fields, src, codec, encoding, delimiter)
    if fmt == "jsonl":
        return JsonLinesSource(id_property, fields, src, codec, encoding)
    return JsonSource(id_property, fields, src, codec, encoding)


class _Source:
    """A source for one mapping. ``ignored_fields`` collects the source's fields that are not mapped."""

    # Whether every value is a str already (no type checks needed).
    text_values = False
    # Whether each record tuple ends with the whole source record.
    whole_records = False
    # The encoding the source was declared in (None for inline records), for messages about undecodable bytes.
    encoding = None

    def __init__(self, id_property, fields):
        self.id_property = id_property
        self.fields = fields
        self.ignored_fields = set()

    def _mapped(self, number, line, record, escaped=()):
        """The record tuple of one JSON object, or the problems that keep it out; ``escaped``: the lone surrogates its
        text writes as JSON escapes (_json_stream.escaped_surrogates)."""
        if not isinstance(record, dict):
            yield problem(number, line, None, "the record is a %s, not an object" % type(record).__name__)
            return
        if isinstance(record, DuplicateKeys):
            for name in record.duplicates:
                yield problem(number, line, name, "the field appears more than once in the record; which value is meant "
                                                  "cannot be told")
            return
        missing = False
        for field in self.fields:
            if field not in record:
                yield problem(number, line, field, self._missing_message(record, "the mapped field is missing from the record",
                                                                         escaped))
                missing = True
        if self.id_property not in record:
            yield problem(number, line, self.id_property, self._missing_message(record, "the id is missing", escaped))
            return
        if missing:
            return
        if escaped:
            found = list(self._escape_problems(number, line, record, escaped))
            if found:
                yield from found
                return
        if len(record) > len(self.fields) + 1:
            self.ignored_fields.update(name for name in record if name != self.id_property and name not in self.fields)
        if self.whole_records:
            yield number, line, record[self.id_property], [record[field] for field in self.fields], record
        else:
            yield number, line, record[self.id_property], [record[field] for field in self.fields]

    def _escape_problems(self, number, line, record, escaped):
        """A JSON escape of a lone surrogate in a value to import: the character an undecodable byte becomes, so named
        here, where it is known to be an escape (the writer would take it for a byte of another encoding)."""
        for field in [self.id_property] + self.fields:
            value = record[field]
            char = next((char for char in value if char in escaped), None) if isinstance(value, str) else None
            if char is not None:
                yield problem(number, line, field, "the text holds a lone surrogate (U+%04X: half of a pair, written as "
                                                   "the JSON escape \\u%04x), which UTF-8 cannot carry"
                              % (ord(char), ord(char)))

    def _missing_message(self, names, message, escaped):
        """The message for a missing field, or the real cause when the names hold bytes the encoding cannot read."""
        for name in names:
            byte = undecodable_byte(name, escaped) if isinstance(name, str) else None
            if byte is not None:
                return ("the field names are not valid %s text (byte 0x%02X in %r): the source is in another encoding; "
                        "set encoding" % (self.encoding, byte, name.encode("utf-8", "surrogateescape").decode("latin-1")))
        return message


class InlineSource(_Source):
    """The module's ``records`` option: a list of objects."""

    def __init__(self, id_property, fields, records):
        super().__init__(id_property, fields)
        self.records = records

    def __iter__(self):
        for number, record in enumerate(self.records, 1):
            yield from self._mapped(number, None, record)


class _FileSource(_Source):
    """A source file, decoded with ``codec`` (the declared ``encoding``, skipping its byte order mark)."""

    def __init__(self, id_property, fields, path, codec, encoding):
        super().__init__(id_property, fields)
        self.path = path
        self.codec = codec
        self.encoding = encoding
        self._first_read = None

    def __iter__(self):
        # Every pass must read the file the first one read: the duplicate pass reads it again after the build, and a
        # file rewritten in between (or during a pass) could hide a duplicate in what is sent.
        self._check_unchanged()
        try:
            yield from self._items()
        except UnicodeDecodeError:
            # Bytes no character can stand in for (surrogateescape takes bytes from 0x80 only): UTF-16 and UTF-32
            # text can hold such. The reading stops there, so the rest of the file is not read.
            line, what, reason = _undecodable_at(self.path, self.codec)
            yield problem(None, line, None, "%s not valid %s text (%s): the source is in another encoding, or damaged; set "
                                            "encoding" % (what, self.encoding, reason))
        self._check_unchanged()

    def _check_unchanged(self):
        """ImportFileError when the file is not as the first pass found it (size and time of its last change)."""
        found = os.stat(self.path)
        state = (found.st_size, found.st_mtime_ns)
        if self._first_read is None:
            self._first_read = state
        elif state != self._first_read:
            raise ImportFileError("src: %s changed while it was read; nothing was sent: run again once it is written in "
                                  "full" % self.path)

    def _items(self):
        raise NotImplementedError


class JsonLinesSource(_FileSource):
    """One JSON object per line; blank lines are skipped."""

    def _items(self):
        number = 0
        with _open_text(self.path, self.codec) as stream:
            for line_no, text in enumerate(stream, 1):
                if not text.strip():
                    continue
                number += 1
                try:
                    record = decode_line(text, line_no)
                except JsonFormatError as err:
                    yield problem(number, line_no, None, "not valid JSON: %s" % err.reason)
                    continue
                if _holds_records(record):
                    yield problem(number, line_no, None, 'the line is a JSON document whose "value" array holds the '
                                                         "records, not a record: read the file with format json")
                    continue
                yield from self._mapped(number, line_no, record, escaped_surrogates(text))


def _holds_records(record):
    """Whether a JSON Lines line is a whole import-file document, {"value": [records]}, rather than one record."""
    return isinstance(record, dict) and list(record) == ["value"] and isinstance(record["value"], list)


class JsonSource(_FileSource):
    """A JSON array of objects, or an object whose "value" is one (the import file's own shape)."""

    def _items(self):
        number = 0
        with _open_text(self.path, self.codec) as stream:
            items = array_items(stream)
            while True:
                try:
                    record = next(items)
                except StopIteration:
                    return
                except JsonFormatError as err:
                    if items.before_records or items.after_records:
                        # about the document as a whole: there is no record to name
                        yield problem(None, err.line, None, "not valid JSON in the document %s: %s" % (self.path, err.reason))
                    else:
                        yield problem(number if items.after_item else number + 1, err.line, None,
                                      "not valid JSON: %s" % err.reason)
                    return
                number += 1
                yield from self._mapped(number, items.line, record, items.escaped)


def _picker(indexes):
    """A function returning the values at these positions of a row, as a sequence."""
    if len(indexes) == 1:
        index = indexes[0]
        return lambda row: (row[index],)
    if not indexes:
        return lambda row: ()
    return operator.itemgetter(*indexes)


def _csv_error(err, line):
    """A CSV parse error in words that name the cause."""
    text = str(err)
    if "unexpected end of data" in text:
        return ("a quoted value that starts in the row at line %d never closes: the file ends inside it (a quote is "
                "missing or one too many)" % line)
    if "expected after" in text:
        return "a character follows the closing quote of a value in the row at line %d (a quote inside a quoted value " \
               "is written twice: \"\")" % line
    if "field larger than field limit" in text:
        return ("a value in the row at line %d is longer than %d characters: most likely a quote that never closes"
                % (line, csv.field_size_limit()))
    return "the row at line %d cannot be parsed: %s" % (line, text)


class CsvSource(_FileSource):
    """A CSV file with a header row; every value is text.

    A value may not hold a line break: a quote that is missing or one too many makes the rows that follow part of
    one value, and the file still parses, so a value that runs over lines is refused (JSON and JSON Lines carry line
    breaks unambiguously, as escapes).
    """

    text_values = True

    def __init__(self, id_property, fields, path, codec, encoding, delimiter):
        super().__init__(id_property, fields, path, codec, encoding)
        self.delimiter = delimiter

    def _header_problems(self, positions, header):
        for name in header:
            byte = undecodable_byte(name)
            if byte is not None:
                yield problem(None, 1, None, "the header is not valid %s text (byte 0x%02X): the source is in another "
                                             "encoding; set encoding" % (self.encoding, byte))
                return
        for index, name in enumerate(header):
            if not name.strip():
                yield problem(None, 1, None, self._unnamed_message(index, header))
            elif positions[name] != index:
                yield problem(None, 1, name, "the column appears twice in the header")
        if self.id_property not in positions:
            yield problem(None, 1, self.id_property, "the id column is missing from the header" + (
                self._delimiter_hint(header) or self._unmapped_hint(self.id_property, header, "id_property")))
        for field in self.fields:
            if field not in positions:
                yield problem(None, 1, field, "the mapped field is missing from the source"
                              + self._unmapped_hint(field, header, "property_map"))

    def _unmapped_hint(self, name, header, option):
        """The header's columns that nothing maps, the likeliest first: a typo is as likely in the source as in the
        option, and either way the user needs to see what the header holds."""
        unmapped = [column for column in header if column != self.id_property and column not in self.fields]
        if not unmapped:
            return ""
        import difflib  # only on this path: a module run that meets no such problem does not pay for it
        spaced = [column for column in unmapped if column.strip() == name]
        if spaced:
            return " (the header has %r, with spaces around the name)" % spaced[0]
        close = difflib.get_close_matches(name, unmapped, n=1, cutoff=0.6)
        if close:
            return " (the header has %r, which nothing maps: a typo in the source or in %s?)" % (close[0], option)
        listed = ", ".join(repr(column) for column in unmapped[:10]) + (", ..." if len(unmapped) > 10 else "")
        return " (the header's columns that nothing maps: %s)" % listed

    def _unnamed_message(self, index, header):
        """Why a column without a name is refused: no mapping can name it, so its values would be left out unseen."""
        message = "column %d of the header has no name%s: every column needs one" % (
            index + 1, " (only whitespace)" if header[index] else "")
        if index == len(header) - 1 and not header[index]:
            message += " (the header ends with the delimiter %r)" % self.delimiter
        return message

    def _delimiter_hint(self, header):
        """When the whole header is one column holding another usual delimiter: the delimiter is likely wrong."""
        others = [mark for mark in ",;\t|" if mark != self.delimiter and len(header) == 1 and mark in header[0]]
        return " (the header is one column, %r: is the delimiter %r?)" % (header[0], others[0]) if others else ""

    def _items(self):
        with _open_text(self.path, self.codec) as stream:
            reader = csv.reader(stream, delimiter=self.delimiter, strict=True)
            try:
                header = next(reader)
            except StopIteration:
                yield problem(None, 1, None, "the CSV file is empty; a header row is required")
                return
            except csv.Error as err:
                yield problem(None, 1, None, "the CSV header cannot be parsed: %s" % _csv_error(err, 1))
                return
            if reader.line_num > 1:
                yield problem(None, 1, None, "the header runs over %d lines: a quote in it is missing or one too many"
                              % reader.line_num)
                return
            if not header:
                yield problem(None, 1, None, "the first line is empty: the header row must be the first line")
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
                if reader.line_num != line:
                    yield self._multiline_problem(number, line, reader.line_num, header, row)
                elif len(row) != width:
                    yield problem(number, line, None, "the row has %d fields, the header %d" % (len(row), width))
                elif whole:
                    yield number, line, row[id_index], pick(row), dict(zip(header, row))
                else:
                    yield number, line, row[id_index], pick(row)
                line = reader.line_num + 1
        except csv.Error as err:
            yield problem(number + 1, line, None, _csv_error(err, line))

    @staticmethod
    def _multiline_problem(number, line, last_line, header, row):
        index = next((index for index, value in enumerate(row) if any(mark in value for mark in _LINE_BREAKS)), None)
        field = header[index] if index is not None and index < len(header) else None
        return problem(number, line, field, "the quoted value runs over lines %d to %d: a CSV value may not hold a line "
                                            "break (a quote missing or one too many would make the rows after it part of "
                                            "one value); write values with line breaks as JSON or JSON Lines"
                       % (line, last_line))
