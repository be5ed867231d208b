# -*- coding: utf-8 -*-
# Copyright (c) spo.user_profiles contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

"""The items of a JSON array read from a text stream one at a time, in bounded memory, each with its line.

``JSONDecoder.raw_decode`` parses one item at a time out of a buffer that is refilled as it runs dry, so a
2 GB file never sits in memory; one item may not be larger than _MAX_ITEM_CHARS. The document must end where the
array (or the object holding it) ends: content after it is an error, never silently left unread.

Numbers keep the text they were written with (``literal_text``), so that ``1.50`` is imported as ``1.50``; an object
that names a member twice is a ``DuplicateKeys`` dict (json would keep the last value without a word).

A byte the source's encoding cannot decode is read as a lone surrogate U+DC80..U+DCFF, and so is a JSON escape such
as ``\\udc80``: ``escaped_surrogates`` tells which of them an item's text writes as escapes, so that neither is taken
for the other.
"""

from __future__ import annotations

import json
import re
import sys

_READ_CHARS = 256 * 1024
_MAX_ITEM_CHARS = 64 * 1024 * 1024
_WHITESPACE = re.compile(r"[ \t\n\r]*")
# What may still follow a number's prefix: digits, a decimal point, an exponent and its sign (or nothing yet).
_NUMBER_TAIL = re.compile(r"[0-9.eE+-]*")
# A JSON escape of U+DC80..U+DCFF, the lone surrogates that undecodable bytes become (surrogateescape).
_BYTE_SURROGATE_ESCAPE = re.compile(r"\\u[dD][cC][89a-fA-F][0-9a-fA-F]")
_NO_CHARS = frozenset()


class JsonFormatError(ValueError):
    """The text is not the JSON expected; ``line`` (1-based) is where, when known."""

    def __init__(self, message, line=None):
        super().__init__(message if line is None else "%s (line %d)" % (message, line))
        self.reason = message
        self.line = line


class JsonFloat(float):
    """A JSON number with a fraction or an exponent; ``text`` is how the source wrote it."""

    __slots__ = ("text",)

    def __new__(cls, text):
        value = super().__new__(cls, text)
        value.text = text
        return value


class JsonInt(int):
    """A JSON integer whose text Python would print otherwise ("-0"); ``text`` is how the source wrote it."""

    def __new__(cls, text):
        value = super().__new__(cls, text)
        value.text = text
        return value


class DuplicateKeys(dict):
    """An object that names a member more than once; ``duplicates`` are those names (the last value is kept)."""

    duplicates = ()


def literal_text(number):
    """The text a JSON number was written with, or None for a number that did not come from JSON text."""
    return getattr(number, "text", None)


def _parse_int(text):
    try:
        value = int(text)
    except ValueError:
        # Python refuses to convert integers of more digits than sys.get_int_max_str_digits() (4300 by default), with
        # a message about a setting a module's user cannot reach.
        raise ValueError("an integer of %d digits, more than this reader takes (%d); quote it if it is text"
                         % (len(text.lstrip("-")), sys.get_int_max_str_digits()))
    return value if text[0] != "-" or value else JsonInt(text)


def _object(pairs):
    record = dict(pairs)
    if len(record) == len(pairs):
        return record
    seen = set()
    duplicated = DuplicateKeys(record)
    duplicated.duplicates = sorted({key for key, _value in pairs if key in seen or seen.add(key)})
    return duplicated


def _json_number_constant(name):
    raise ValueError("%s is not a JSON number" % name)


# Strict JSON: NaN and Infinity, which Python's json accepts by default, are refused.
DECODER = json.JSONDecoder(parse_constant=_json_number_constant, parse_float=JsonFloat, parse_int=_parse_int,
                           object_pairs_hook=_object)


def escaped_surrogates(text, start=0, end=None):
    """The characters U+DC80..U+DCFF that text[start:end] (JSON) writes as escapes and never as themselves: where a
    decoded string holds one, it came from the escape, not from a byte the encoding could not decode."""
    end = len(text) if end is None else end
    if _BYTE_SURROGATE_ESCAPE.search(text, start, end) is None:
        return _NO_CHARS
    found = set()
    for match in _BYTE_SURROGATE_ESCAPE.finditer(text, start, end):
        backslash = match.start()
        while backslash > start and text[backslash - 1] == "\\":
            backslash -= 1
        if (match.start() - backslash) % 2 == 0:  # "\\udc80" is a backslash, then text
            found.add(chr(int(match.group()[2:], 16)))
    return {char for char in found if text.find(char, start, end) < 0}


def line_breaks(text, after_cr=False, start=0, end=None):
    """How many lines text[start:end] ends: CR, LF and CR LF each end one, as the readers split lines. After text
    that ended in CR (``after_cr``), a first LF ends none: it is the rest of that CR LF."""
    end = len(text) if end is None else end
    return (text.count("\n", start, end) + text.count("\r", start, end) - text.count("\r\n", start, end)
            - (after_cr and text.startswith("\n", start, end)))


def decode_line(text, line):
    """One JSON document in one line of text (JSON Lines); JsonFormatError naming the line and column."""
    try:
        return DECODER.decode(text)
    except json.JSONDecodeError as err:
        # some of json's messages end in "at", for the position to follow
        raise JsonFormatError("%s at column %d" % (err.msg[:-3] if err.msg.endswith(" at") else err.msg, err.colno), line)
    except ValueError as err:
        raise JsonFormatError(str(err), line)


def array_items(stream):
    """The items of a top-level JSON array, or of the "value" array of a top-level object; JsonFormatError when the
    text is not that, naming the line.

    The iterator tells where it is: ``line``, the line the last item started on; ``escaped``, the escaped_surrogates
    of its text; ``after_item``, whether an error came after that item (before the next one); ``before_records`` and
    ``after_records``, whether it is outside the array (an error there is about the document, not an item).
    """
    return _JsonStream(stream)


def _found(char):
    return repr(char) if char else "the end of the text"


class _JsonStream:

    def __init__(self, stream):
        self.stream = stream
        self.buffer = ""
        self.pos = 0
        self.eof = False
        self.line = None
        self.escaped = _NO_CHARS
        self.after_item = False
        self.before_records = True
        self.after_records = False
        self._value_start = 0
        # Lines before buffer[counted]: line breaks are counted once, as the position moves on.
        self._counted = 0
        self._lines = 1
        self._after_cr = False
        self._items = self._read()

    def __iter__(self):
        return self

    def __next__(self):
        return next(self._items)

    def _line_at(self, pos):
        """The line of buffer[pos]; CR, LF and CR LF each end a line, as for CSV and JSON Lines sources."""
        start, buffer = self._counted, self.buffer
        if pos > start:
            # a CR LF split between two counts is one line break, counted at its CR
            self._lines += line_breaks(buffer, self._after_cr, start, pos)
            self._after_cr = buffer[pos - 1] == "\r"
            self._counted = pos
        return self._lines

    def _error(self, message, pos=None):
        line = self._line_at(self.pos if pos is None else pos)
        # some of json's messages end in "at", for the position to follow
        return JsonFormatError(message + " line %d" % line if message.endswith(" at") else message, line)

    def _fill(self):
        if self.eof:
            return False
        chunk = self.stream.read(_READ_CHARS)
        if not chunk:
            self.eof = True
            return False
        if self.pos > _READ_CHARS:
            self._line_at(self.pos)
            self.buffer = self.buffer[self.pos:]
            self._counted -= self.pos
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

    def _expect(self, char, what):
        found = self._peek()
        if found != char:
            raise self._error("expected %r %s, found %s" % (char, what, _found(found)))
        self.pos += 1

    def _value(self):
        self._peek()
        while True:
            try:
                value, end = DECODER.raw_decode(self.buffer, self.pos)
            except json.JSONDecodeError as err:
                # Incomplete at the end of the buffer, or invalid: read on, but not without bound.
                if len(self.buffer) - self.pos < _MAX_ITEM_CHARS and self._fill():
                    continue
                raise self._error("%s" % err.msg, err.pos)
            except ValueError as err:
                raise self._error(str(err))
            if _NUMBER_TAIL.fullmatch(self.buffer, end) and self._fill():
                continue  # a number may go on in the next chunk: "-1." parses as -1, "2e" as 2
            self._value_start, self.pos = self.pos, end
            return value

    def _member_name(self):
        if self._peek() != '"':
            raise self._error("expected a member name in double quotes")
        key = self._value()
        self._expect(":", "after a member name")
        return key

    def _members_until_value(self):
        """Inside the top-level object, up to the "value" member's array; the other members are skipped."""
        self.pos += 1
        while True:
            if self._peek() == "}":
                raise self._error('the object has no "value" array (for one object per line, set format: jsonl)')
            key = self._member_name()
            if key == "value":
                return
            self._value()
            separator = self._peek()
            if separator == ",":
                self.pos += 1
            elif separator != "}":
                raise self._error("expected ',' or '}' after the member %s, found %s" % (json.dumps(key), _found(separator)))

    def _rest_of_object(self):
        """The top-level object's members after its "value" array, up to its closing brace."""
        while True:
            found = self._peek()
            if found == "}":
                self.pos += 1
                return
            if found != ",":
                raise self._error("expected ',' or '}' after the \"value\" array, found %s" % _found(found))
            self.pos += 1
            if self._member_name() == "value":
                raise self._error('the object has a second "value" member')
            self._value()

    def _read(self):
        first = self._peek()
        in_object = first == "{"
        if in_object:
            self._members_until_value()
            self._expect("[", 'for the "value" member, an array of records')
        elif first == "[":
            self.pos += 1
        else:
            raise self._error("expected '[' (an array of records) or '{' (an object whose \"value\" is one) at the start "
                              "of the document, found %s" % _found(first))
        self.before_records = False
        if self._peek() != "]":
            while True:
                self._peek()
                self.line = self._line_at(self.pos)
                self.after_item = False
                item = self._value()
                self.escaped = escaped_surrogates(self.buffer, self._value_start, self.pos)
                self.after_item = True
                yield item
                separator = self._peek()
                if separator == "]":
                    break
                if separator != ",":
                    raise self._error("expected ',' or ']' after the record, found %s" % _found(separator))
                comma_line = self._line_at(self.pos)
                self.pos += 1
                if self._peek() == "]":
                    raise JsonFormatError("a comma after the last record: JSON allows none", comma_line)
        self.pos += 1
        self.after_records = True
        if in_object:
            self._rest_of_object()
        if self._peek():
            raise self._error("content after the end of the %s: one JSON document per file (for one record per line, "
                              "set format: jsonl)" % ("object" if in_object else "array"))
