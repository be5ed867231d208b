# -*- coding: utf-8 -*-
# Copyright (c) spo.user_profiles contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

"""The items of a JSON array read from a text stream one at a time, in bounded memory.

``JSONDecoder.raw_decode`` parses one item at a time out of a buffer that is refilled as it runs dry, so a
2 GB file never sits in memory; one item may not be larger than _MAX_ITEM_CHARS.
"""

from __future__ import annotations

import json
import re

_READ_CHARS = 256 * 1024
_MAX_ITEM_CHARS = 64 * 1024 * 1024
_WHITESPACE = re.compile(r"[ \t\n\r]*")
# What may still follow a number's prefix: digits, a decimal point, an exponent and its sign (or nothing yet).
_NUMBER_TAIL = re.compile(r"[0-9.eE+-]*")


def _json_number_constant(name):
    raise ValueError("%s is not a JSON number" % name)


# Strict JSON: NaN and Infinity, which Python's json accepts by default, are refused.
DECODER = json.JSONDecoder(parse_constant=_json_number_constant)


def array_items(stream):
    """The items of a top-level JSON array, or of the "value" array of a top-level object; ValueError when invalid."""
    return _JsonStream(stream).items()


class _JsonStream:

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
                value, end = DECODER.raw_decode(self.buffer, self.pos)
            except ValueError:
                # Incomplete at the end of the buffer, or invalid: read on, but not without bound.
                if len(self.buffer) - self.pos < _MAX_ITEM_CHARS and self._fill():
                    continue
                raise
            if _NUMBER_TAIL.fullmatch(self.buffer, end) and self._fill():
                continue  # a number may go on in the next chunk: "-1." parses as -1, "2e" as 2
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
