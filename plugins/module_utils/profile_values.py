# -*- coding: utf-8 -*-
# Copyright (c) spo.user_profiles contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

"""Profile property values: which properties are multi-valued or editable by users, a value as it is written, and
whether the current value already is the desired one.

A client cannot read a property's definition from SharePoint Online, only its value (GetPropertiesFor answers every
value as a string, multi values joined by "|"). So the kinds of SharePoint's standard properties are known here
(docs/protocol_notes.md, "Per-user profile writes", has the sources) and a tenant's own multi-valued or user-editable
properties are named by the caller.
"""

from __future__ import annotations

from ansible_collections.spo.user_profiles.plugins.module_utils._json_stream import literal_text
# The text upa_import_file writes for a number or a boolean: one source gives one value whichever module writes it.
from ansible_collections.spo.user_profiles.plugins.module_utils.import_validation import value_text as written_text

# SharePoint's standard multi-valued string properties.
STANDARD_MULTI_VALUE = ("SPS-Interests", "SPS-MemberOf", "SPS-PastProjects", "SPS-Responsibility", "SPS-School",
                        "SPS-Skills")
# SharePoint's standard properties that users edit themselves ("About me", birthday, home phone, and the lists above
# but SPS-MemberOf). The bulk import API refuses both kinds.
STANDARD_USER_EDITABLE = ("AboutMe", "HomePhone", "SPS-Birthday", "SPS-Interests", "SPS-PastProjects",
                          "SPS-Responsibility", "SPS-School", "SPS-Skills")
# GetPropertiesFor joins the values of a multi-valued property with this.
READ_SEPARATOR = "|"
# Module inputs split a multi value given as one string (a CSV cell) at this, unless told otherwise: the separator
# SharePoint itself reads back, so a value holding it could not be read unambiguously anyway.
DEFAULT_SEPARATOR = "|"


class _BooleanText(str):
    """The text written for a boolean given as one (a JSON or YAML true: "true"). GetPropertiesFor answers a property
    SharePoint types as boolean as .NET prints it ("True"): the same value, which same() sees as such."""


def _folded(names):
    return frozenset(name.lower() for name in names)


class PropertyKinds:
    """The multi-valued and user-editable properties: SharePoint's standard ones and the tenant's own."""

    def __init__(self, multi_value=(), user_editable=()):
        self._multi = _folded(STANDARD_MULTI_VALUE + tuple(multi_value))
        self._bulk_refused = self._multi | _folded(STANDARD_USER_EDITABLE + tuple(user_editable))

    def is_multi(self, name):
        """Whether the property holds a list (names compare without case, as SharePoint's do)."""
        return name.lower() in self._multi

    def bulk_refused(self, names):
        """The names, in their order, of properties the bulk import API cannot take (multi-valued or user-editable)."""
        return [name for name in names if name.lower() in self._bulk_refused]


def _text(value):
    """A single value GetPropertiesFor answered, as text: booleans as .NET prints them ("True"); numbers as
    written."""
    if isinstance(value, bool):
        return "True" if value else "False"
    return literal_text(value) or str(value)


def desired_value(value, multi, separator=DEFAULT_SEPARATOR):
    """A module input as it is written: a list of text for a multi-valued property (a string is split at
    `separator`, items stripped, empty ones dropped), text for a single value. None and "" clear either kind.
    Numbers and booleans are the text upa_import_file writes for them ("true", "1.50"); a single boolean's text
    remembers it was one, for same()."""
    if value is None or value == "":
        return [] if multi else ""
    if isinstance(value, (list, tuple)):
        return [written_text(item) for item in value]
    if multi:
        return [part.strip() for part in written_text(value).split(separator) if part.strip()]
    if isinstance(value, bool):
        return _BooleanText(written_text(value))
    return written_text(value)


def current_value(value, multi):
    """A value as GetPropertiesFor answers it, in the form desired_value gives (None: the profile has no such value)."""
    if value is None or value == "":
        return [] if multi else ""
    if isinstance(value, (list, tuple)):
        return [_text(item) for item in value] if multi else READ_SEPARATOR.join(_text(item) for item in value)
    if multi:
        return [part for part in _text(value).split(READ_SEPARATOR) if part != ""]
    return _text(value)


def same(current, desired, ordered=False):
    """Whether a property already has the desired value (both in desired_value's form). Multi values compare as
    multisets unless `ordered`; a boolean given as one is also the same as SharePoint's text for it ("True")."""
    if isinstance(desired, list) and not ordered:
        return sorted(current) == sorted(desired)
    if isinstance(desired, _BooleanText):
        # The .NET text of the same boolean ("True") is the same value; the text "true" given as text is only text.
        return current in (desired, desired.capitalize())
    return current == desired


def compare(current, desired, ordered=False):
    """[(name, before, after, differs)] for each desired property (in desired_value's form: a list is multi-valued),
    `before` being its value in `current` (GetPropertiesFor's {name: text}; names compare without case)."""
    by_name = dict((name.lower(), value) for name, value in current.items())
    compared = []
    for name, wanted in desired.items():
        existing = current_value(by_name.get(name.lower()), isinstance(wanted, list))
        compared.append((name, existing, wanted, not same(existing, wanted, ordered)))
    return compared
