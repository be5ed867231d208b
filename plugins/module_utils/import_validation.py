# -*- coding: utf-8 -*-
# Copyright (c) spo.user_profiles contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

"""What a valid bulk import is: the module's inputs, each record's id and values, unique ids, and the problems
found, each naming record, line and field.

``IMPORT_FILE_SCHEMA`` describes the file (JSON Schema draft 2020-12; the same document ships as
``docs/schemas/import_file.schema.json``), ``INPUTS_SCHEMA`` the module's structured inputs, and ``record_schema``
one source record for one mapping. The hot path applies the same rules with precompiled checks; the unit tests
hold both to the same verdicts.

Duplicate ids are found through a table of 64-bit hashes (8 bytes per user), confirmed by comparing the ids
themselves in a second pass over the source only when two hashes meet.
"""

from __future__ import annotations

import codecs
import math
import re
import unicodedata

from ansible_collections.spo.user_profiles.plugins.module_utils._id_table import IdTable
from ansible_collections.spo.user_profiles.plugins.module_utils._json_stream import literal_text
from ansible_collections.spo.user_profiles.plugins.module_utils.constants import GUID_PATTERN, PRINCIPAL_NAME_PATTERN

# Entra ID owns these profile properties, and the bulk API does not import them: the list of the bulk API FAQ
# ("Which Azure Active Directory attributes are being sync'd"), plus the mobile and fax numbers that profile sync
# also keeps (docs/protocol_notes.md, "Synced and taxonomic properties"). SharePoint property names do not depend on
# case, so neither does the check.
ENTRA_SYNCED_CORE_PROPERTIES = (
    "SPS-SavedSID", "UserName", "AccountName", "SPS-ClaimID", "SPS-UserPrincipalName", "FirstName", "LastName",
    "Manager", "PreferredName", "WorkPhone", "WorkEmail", "SPS-SIPAddress", "Office", "Title", "SPS-JobTitle",
    "Department", "SPS-Department", "ADGuid", "PublicSiteRedirect", "SPS-DistinguishedName", "msOnline-ObjectId",
    "SPS-MUILanguages", "SPS-HideFromAddressLists", "SPS-RecipientTypeDetails", "IsUnifiedGroup", "IsPublic",
    "SPS-UserType", "GroupType", "SPO-IsSPO", "CellPhone", "Fax",
)
_SYNCED_BY_LOWER_NAME = {name.lower(): name for name in ENTRA_SYNCED_CORE_PROPERTIES}
ID_TYPES = ("email", "cloud_id", "principal_name")
DEFAULT_MAX_PROBLEMS = 20

# What no value may hold: the C0 controls but tab, line feed and carriage return, DEL, the C1 controls, and
# surrogates (bytes the source's encoding could not read, or half a pair from a JSON escape), which UTF-8 cannot carry.
_VALUE_REFUSED = r"\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\ud800-\udfff"
# The format characters (Unicode category Cf, Unicode 15.1): invisible, so an id with a zero width space looks like
# the id without it, and is another. Those beyond U+FFFF are the characters themselves, not escapes: Python and
# ECMA-262 with the "u" flag (which JSON Schema validators set) read them so, and neither reads the other's escape.
_FORMAT_CHARACTERS = (r"\xad\u0600-\u0605\u061c\u06dd\u070f\u0890\u0891\u08e2\u180e\u200b-\u200f\u202a-\u202e"
                      r"\u2060-\u2064\u2066-\u206f\ufeff\ufff9-\ufffb"
                      "\U000110bd\U000110cd\U00013430-\U0001343f\U0001bca0-\U0001bca3\U0001d173-\U0001d17a"
                      "\U000e0001\U000e0020-\U000e007f")
# What no id may hold: every control, whitespace but the space (the no-break space U+00A0 too), the format characters
# and surrogates.
_ID_REFUSED = r"\x00-\x1f\x7f-\xa0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000" + _FORMAT_CHARACTERS + r"\ud800-\udfff"

# One pattern per id type, valid in both Python and ECMA-262 so that users' own validators agree. Every id matches
# the first (None): no refused character, no space at either end. "(?![\s\S])" ends the text, and the lookahead
# refuses whitespace anywhere, where Python's "$" would accept a trailing newline.
_NO_SPACE = r"(?![\s\S]*\s)"
ID_PATTERNS = {
    None: r"^[^ %s](?:[^%s]*[^ %s])?(?![\s\S])" % (_ID_REFUSED, _ID_REFUSED, _ID_REFUSED),
    "email": "^" + _NO_SPACE + PRINCIPAL_NAME_PATTERN + "$",
    "principal_name": "^" + _NO_SPACE + PRINCIPAL_NAME_PATTERN + "$",
    "cloud_id": "^" + _NO_SPACE + GUID_PATTERN + "$",
}
# Every text value matches this (a value may end in a line break, so "$" is enough).
VALUE_PATTERN = "^[^%s]*$" % _VALUE_REFUSED
# The same rules for the hot path, without the lookahead: fullmatch does what the lookahead and "$" do together.
_FAST_ID_PATTERNS = {
    "email": PRINCIPAL_NAME_PATTERN,
    "principal_name": PRINCIPAL_NAME_PATTERN,
    "cloud_id": GUID_PATTERN,
}
# The hot paths look for these only in text that is not printable (str.isprintable is false for every one of them).
_id_refused = re.compile("[%s]" % _ID_REFUSED).search
_value_refused = re.compile("[%s]" % _VALUE_REFUSED).search
_undecodable = re.compile(r"[\udc80-\udcff]").search
_format_character = re.compile("[%s]" % _FORMAT_CHARACTERS).match
_ID_EXPECTED = {"email": "an email address", "principal_name": "a user principal name (name@domain)",
                "cloud_id": "an Entra object id (GUID)"}

_SCALAR = {"type": ["string", "number", "boolean"]}
# A source value: a scalar, and text without the characters no value may hold (pattern applies to strings only).
_SOURCE_VALUE = {"type": ["string", "number", "boolean"], "pattern": VALUE_PATTERN}

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


def record_schema(id_property, mapped_fields, id_type=None):
    """JSON Schema (draft 2020-12) of one source record for this mapping: what the fast checks enforce."""
    id_schema = {"type": "string", "pattern": ID_PATTERNS[None]}
    if id_type is not None:
        id_schema = {"type": "string", "allOf": [{"pattern": ID_PATTERNS[None]}, {"pattern": ID_PATTERNS[id_type]}]}
    properties = {field: _SOURCE_VALUE for field in mapped_fields if field != id_property}
    properties[id_property] = id_schema
    return {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "type": "object",
        "required": [id_property] + [field for field in mapped_fields if field != id_property],
        "properties": properties,
    }


def problem(record, line, field, message):
    """One problem: where (record number, line number, field; each may be None) and what is wrong."""
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


class Problems:
    """The problems found: all counted, the first max_problems kept."""

    def __init__(self, max_problems=DEFAULT_MAX_PROBLEMS):
        self.max_problems = max_problems
        self.listed = []
        self.count = 0

    def add(self, found):
        self.count += 1
        if len(self.listed) < self.max_problems:
            self.listed.append(found)

    def report(self, record, line, field, message):
        self.add(problem(record, line, field, message))


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


def character_text(char):
    """A character as one can look it up: U+200B (ZERO WIDTH SPACE)."""
    name = unicodedata.name(char, "")
    return "U+%04X%s" % (ord(char), " (%s)" % name if name else "")


def hidden_in_name(char):
    """Whether a character is one no one sees in a name (an id, a user, a property name): a control or format
    character, whitespace but the space, or half a surrogate pair; what no id may hold (ID_PATTERNS). "ann@x.com"
    with a U+200B or a U+00A0 in it would look like a name it is not. The space is seen, but not at a name's ends:
    where a name may not hold it, the caller refuses it too."""
    return _id_refused(char) is not None


def hidden_character(text, hidden=hidden_in_name):
    """Where text holds its first character that ``hidden`` is true of (by default one hidden in a name), in words:
    "holds U+200B (ZERO WIDTH SPACE) at character 16"; None when it holds none."""
    for at, char in enumerate(text, 1):
        if hidden(char):
            return "holds %s at character %d" % (character_text(char), at)
    return None


def property_name_problem(name):
    """Why a property name cannot be sent, or None. A character hidden in a name (hidden_in_name) anywhere, or
    whitespace at its ends, is refused: " CostCenter" would look like CostCenter and yet count as another property."""
    if not isinstance(name, str) or not name.strip():
        return "property names must be non-empty text, not %r" % (name,)
    start, end = len(name) - len(name.lstrip()), len(name.rstrip())
    for at, char in enumerate(name):
        if at < start or at >= end or hidden_in_name(char):
            where = "%r holds %s at character %d" % (name, character_text(char), at + 1)
            return where + ": a property name has no invisible characters, nor spaces at its ends"
    return None


def target_clashes(property_map):
    """(field, message) for each source field mapped to a property an earlier field is mapped to already: the
    service keeps one value of a property, so the other would be lost. Property names do not depend on case."""
    first = {}
    for field, target in property_map.items():
        if isinstance(target, str) and target:
            earlier = first.setdefault(target.lower(), field)
            if earlier != field:
                yield field, "%s and %s both map to the property %s" % (earlier, field, target)


def target_problems(property_map):
    """The property map's targets the bulk API cannot take: names with hidden characters, Entra-synced ones, and two
    fields mapped to one."""
    for field, target in property_map.items():
        reason = property_name_problem(target)
        if reason:
            yield problem(None, None, field, reason)
    yield from _synced_target_problems(property_map)
    for field, message in target_clashes(property_map):
        yield problem(None, None, field, message)


def _synced_target_problems(property_map):
    """A problem for each target the bulk API does not import because Entra ID owns it (names compared without case)."""
    for source, target in property_map.items():
        synced = _SYNCED_BY_LOWER_NAME.get(str(target).lower())
        if synced:
            yield problem(None, None, source, "target property %s is synchronised from Entra ID and cannot be bulk "
                                              "imported; set it in Entra ID, or use spo.user_profiles.user_profile_property "
                                              "for a one-off write" % synced)


def check_inputs(id_property, property_map, id_type=None, records=None):
    """Problems with the mapping itself (INPUTS_SCHEMA, target_problems); an empty list when fine."""
    problems = [problem(None, None, None, message) for message in _input_problems(id_property, property_map, id_type, records)]
    if problems:
        return problems
    problems.extend(target_problems(property_map))
    if id_property in property_map:
        problems.append(problem(None, None, id_property, "the id property is written as the identity and must not be mapped"))
    return problems


def _compared(value):
    """An id as ids are compared: case and spaces around ignored."""
    return value.strip().lower()


def id_key(value):
    """The key of an id in the table of seen ids (duplicate_problems compares ids as it does)."""
    return hash(_compared(value))


# A number's text with a non-zero digit before its exponent: if it reads as 0, it was too small for a double.
_NONZERO_MANTISSA = re.compile(r"-?[0.]*[1-9]")


def number_problem(value):
    """Why a number cannot be written as the text it says, or None: a JSON number beyond the range of a double (JSON
    tools, record_schema among them, read 1e400 as infinity and 1e-400 as 0), a float that is not finite, or an inline
    float (one that did not come from JSON text): YAML read 1.50 as 1.5, and 12345678901234567890.0 as
    1.2345678901234567e+19, so the text written is lost. Both the bulk import and the per-user writes ask this."""
    if not isinstance(value, float):
        return None
    text = literal_text(value)
    if math.isfinite(value) and not (value == 0 and text and _NONZERO_MANTISSA.match(text)):
        if text is not None:
            return None
        return ("the decimal number %r no longer holds the text it was written as (YAML reads 1.50 as 1.5); quote the "
                "value so that it stays text as written" % value)
    if text is None:
        return "%r is not a finite number: the import takes text, finite numbers and booleans" % value
    return ("the number %s is beyond the range of a double-precision number, the form JSON tools read it in; write it "
            "as a string (\"%s\") if that text is meant" % (text, text))


def _kind_of(value):
    """What a value that is not a single value is, in JSON's words (an object that names a member twice is an object)."""
    if value is None:
        return "a null value"
    if isinstance(value, dict):
        return "an object"
    if isinstance(value, (list, tuple)):
        return "a list"
    return "a %s value" % type(value).__name__


def value_text(value):
    """A value as written in the file: strings as they are, booleans as JSON prints them, numbers as the source wrote
    them (JSON) or as Python prints them (the integers of inline records)."""
    if isinstance(value, str):
        return value
    if value is True:
        return "true"
    if value is False:
        return "false"
    text = literal_text(value)
    return text if text is not None else str(value)


def unencodable_message(char, encoding):
    """Why a value with a lone surrogate cannot be imported: the source's bytes, or a JSON escape, in words."""
    code = ord(char) if char else None
    if code is None:
        return "the text cannot be written as UTF-8"
    if encoding is not None and 0xDC80 <= code <= 0xDCFF:
        return "byte 0x%02X is not valid %s text: the source is in another encoding; set encoding" % (code - 0xDC00, encoding)
    return ("the text holds a lone surrogate (U+%04X: half of a pair, as a JSON \\u escape can give it), which UTF-8 "
            "cannot carry" % code)


def _c1_problem(what, code, encoding, rule):
    """A C1 control, in words: most likely a byte of cp1252 (0x80 is the euro sign) that latin-1 read as U+0080..U+009F."""
    try:
        meant = " (%s)" % bytes([code]).decode("cp1252")
    except UnicodeDecodeError:
        meant = ""
    text = "the %s holds the control character U+%04X, most likely byte 0x%02X of cp1252 text%s read as " % (
        what, code, code, meant)
    if encoding is not None and not codecs.lookup(encoding).name.startswith("utf"):
        return text + "%s: the file is probably cp1252; set encoding: cp1252" % encoding
    return text + "latin-1 before it came here; %s" % rule


def _character_problem(what, char, encoding):
    """Why the id or a value ("what") cannot hold this character, naming its code point."""
    code = ord(char)
    if 0xD800 <= code <= 0xDFFF:
        return unencodable_message(char, encoding)
    if what == "id":
        rule = "an id may hold no control or format characters and no whitespace but the space"
    else:
        rule = "a value may hold tabs and line breaks, no other control characters"
    if 0x80 <= code <= 0x9F:
        return _c1_problem(what, code, encoding, rule)
    if code < 0x20 or code == 0x7F:
        return "the %s holds the control character U+%04X: %s" % (what, code, rule)
    kind = "an invisible format character" if _format_character(char) else "whitespace other than the space"
    return "the %s holds %s, %s: %s" % (what, character_text(char), kind, rule)


class RecordChecks:
    """The per-record rules of one mapping (record_schema, precompiled) and the first pass of duplicate detection.

    ``fields``: the mapped source fields, in the order of each record's values. ``text_values``: every value is a
    str already (CSV), so the type checks are skipped. ``encoding``: the encoding the source file was declared in
    (None for inline records), for the messages about bytes it cannot read. The ids whose hashes met are in
    ``suspects``.
    """

    def __init__(self, id_property, fields, problems, id_type=None, text_values=False, encoding=None):
        self.id_property = id_property
        self.fields = fields
        self.problems = problems
        self.id_type = id_type
        self.text_values = text_values
        self.encoding = encoding
        self.id_format_check = re.compile(_FAST_ID_PATTERNS[id_type]).fullmatch if id_type else None
        self.ids = IdTable()
        self.suspects = set()

    def values(self, number, line, record_id, values):
        """The values to write for one record (text, in the order of fields), or None after reporting why not."""
        if not isinstance(record_id, str):
            self.problems.report(number, line, self.id_property, "the id is missing" if record_id is None
                                 else "the id must be a string, not %s" % type(record_id).__name__)
            return None
        # Printable text holds no refused character, and the id types' formats hold no space: only other ids are
        # looked into, and told what is wrong with them.
        id_format_check = self.id_format_check
        if id_format_check is None:
            good = record_id and record_id[0] != " " and record_id[-1] != " " and record_id.isprintable()
        else:
            good = record_id.isprintable() and id_format_check(record_id)
        if not good:
            reason = self._id_problem(record_id)
            if reason:
                self.problems.report(number, line, self.id_property, reason)
                return None
        key = id_key(record_id)
        if not self.ids.add(key):
            self.suspects.add(key)
        if not self.text_values:
            return self._scalar_values(number, line, values)
        # Printable text holds no refused character: only the values of records with other text are looked into.
        if not "".join(values).isprintable():
            for name, value in zip(self.fields, values):
                if self._refused_text(number, line, name, value):
                    return None
        return values

    def _refused_text(self, number, line, name, value):
        """Whether the value holds a character no value may hold, reported if so."""
        found = _value_refused(value)
        if found:
            self.problems.report(number, line, name, _character_problem("value", found.group(), self.encoding))
        return found is not None

    def _id_problem(self, record_id):
        """Why the id cannot be one, or None: text no id can be, or not the form of id_type."""
        if not record_id.strip():
            return "the id is empty"
        found = _id_refused(record_id)
        if found:
            return _character_problem("id", found.group(), self.encoding)
        if record_id[0] == " " or record_id[-1] == " ":
            return "the id %r starts or ends with a space" % record_id
        if self.id_format_check is not None and not self.id_format_check(record_id):
            return "%r is not %s (id_type %s)" % (record_id, _ID_EXPECTED[self.id_type], self.id_type)
        return None

    def undecodable(self, number, line, record_id, values):
        """Whether the id or a value holds bytes the source's encoding cannot read, reported if so: for a record left
        out (skip_invalid), as such bytes say that the encoding option is wrong for the whole file."""
        if self.encoding is None:
            return False
        for name, value in zip([self.id_property] + list(self.fields), [record_id] + list(values)):
            found = _undecodable(value) if isinstance(value, str) else None
            if found:
                self.problems.report(number, line, name, unencodable_message(found.group(), self.encoding))
                return True
        return False

    def _scalar_values(self, number, line, values):
        """The values as text, or None (after reporting) when one is not a string, number or boolean, or is text no
        value may be."""
        converted = []
        for name, value in zip(self.fields, values):
            if isinstance(value, str):
                if not value.isprintable() and self._refused_text(number, line, name, value):
                    return None
            elif isinstance(value, (bool, int, float)):
                reason = number_problem(value)
                if reason:
                    self.problems.report(number, line, name, reason)
                    return None
                value = value_text(value)
            else:
                self.problems.report(number, line, name, "%s cannot be imported: the bulk API takes single values "
                                     "(string, number or boolean) only" % _kind_of(value))
                return None
            converted.append(value)
        return converted


def duplicate_problems(items, suspects, id_property, key=None):
    """The second pass, over a source's items again when two id hashes met: a problem for each real duplicate,
    naming where the id was first seen, and as what when it was written otherwise. Other problems of the source were
    reported by the first pass.

    ``key``: a function from an id to what it stands for, as the first pass gave that to id_key (the claims name and
    the principal name of a user stand for the same user), or to None for an id that names nobody; without it, an id
    stands for itself."""
    first_seen = {}
    for item in items:
        if isinstance(item, dict):
            continue
        number, line, record_id = item[0], item[1], item[2]
        if not isinstance(record_id, str):
            continue
        named = record_id if key is None else key(record_id)
        if named is None or id_key(named) not in suspects:
            continue
        seen = first_seen.setdefault(_compared(named), (number, line, record_id))
        if seen[0] != number:
            where = "record %d" % seen[0] + (" (line %d)" % seen[1] if seen[1] is not None else "")
            yield problem(number, line, id_property, "duplicate id %r, first seen at %s%s" % (
                record_id, where, " as %r" % seen[2] if seen[2] != record_id else ""))
