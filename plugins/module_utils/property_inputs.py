# -*- coding: utf-8 -*-
# Copyright (c) spo.user_profiles contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

"""What user_profile_property is asked to set, from one of its inputs: ``user`` with ``properties``; ``profiles`` (a
list of {user, properties}); or a source read record by record with an id field and a property map, as
upa_import_file reads it (``src``: CSV, JSON, JSON Lines; or inline ``records``).

``check()`` reads the whole input once and finds every problem, each naming its record, line and field, before
anything is sent. Iterating then reads the input again and yields ``(number, user, desired)`` one user at a time, so
memory stays flat in the number of users; ``desired`` maps property names to values in
profile_values.desired_value's form (a list for a multi-valued property, text otherwise).

A source file is copied once, by check(), to a private file that both readings read: what is written is what was
checked, whatever happens to the file in between. close() (or leaving a ``with`` block) removes the copy.
"""

from __future__ import annotations

import os
import re
import shutil
import tempfile

from ansible_collections.spo.user_profiles.plugins.module_utils._id_table import IdTable
from ansible_collections.spo.user_profiles.plugins.module_utils.import_readers import ImportFileError, open_source, src_problem
from ansible_collections.spo.user_profiles.plugins.module_utils.import_validation import (
    ID_PATTERNS, Problems, duplicate_problems, hidden_character, hidden_in_name, id_key, number_problem, problem,
    property_name_problem, target_clashes,
)
from ansible_collections.spo.user_profiles.plugins.module_utils.odata import CLAIMS_PREFIX
from ansible_collections.spo.user_profiles.plugins.module_utils.profile_values import (
    DEFAULT_SEPARATOR, READ_SEPARATOR, desired_value,
)

_SCALARS = (str, bool, int, float)
_PRINCIPAL_NAME = re.compile(ID_PATTERNS["principal_name"]).search
# The starts of claims names (odata.claims_account sends such a name as it is). Of them, a user's profile is named by
# CLAIMS_PREFIX and the user principal name only (what the CLI for Microsoft 365 and PnP send to PeopleManager).
# Compared without case, so that "I:0#.F|..." is not taken for a principal name.
_CLAIMS_PREFIXES = ("i:0", "c:0")


def _text_problem(text):
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:  # undecodable bytes of a source file are lone surrogates here
        return "the text is not valid in the declared encoding"
    return None


def value_problem(value):
    """Why a value cannot be written, or None: text, a number, a boolean, null, or a list of text, numbers and
    booleans can, numbers by the rule of the bulk import (number_problem: a float no longer holding its text is
    refused)."""
    items = value if isinstance(value, list) else [value]
    for item in items:
        if item is None and not isinstance(value, list):
            continue
        if not isinstance(item, _SCALARS):
            if isinstance(value, list):
                return "a list may hold text, numbers and booleans, not %s" % ("null" if item is None else type(item).__name__)
            return "a %s value cannot be written: give text, a number, a boolean, null, or a list" % type(item).__name__
        if isinstance(item, str) and _text_problem(item):
            return _text_problem(item)
        if number_problem(item):
            return number_problem(item)
    return None


def _items_problem(name, items):
    """Why the items of a multi value of the property `name` (in desired_value's form) cannot be written as they are,
    or None. GetPropertiesFor answers the items joined with READ_SEPARATOR, so an item holding it, or an empty one,
    is not read back as it was written, and would be written again on every run. Text split at the separator is
    stripped and loses its empty items; a list is taken as it is given, so an item with spaces at its ends, which the
    same text would not give, is refused rather than stripped."""
    for item in items:
        if item == "":
            return "an item of %s is empty: leave it out (an empty list clears the property)" % name
        if item != item.strip():
            return "the item %r of %s has spaces at its ends: give %r" % (item, name, item.strip())
        if READ_SEPARATOR in item:
            return ("the item %r of %s holds %r, which SharePoint joins the items of a multi value with when it reads "
                    "them: give each value as an item of its own" % (item, name, READ_SEPARATOR))
    return None


def _hidden(char):
    """Whether a user cannot hold a character: one hidden in a name, or a space, which no user name has.
    "ann@contoso.com" with a space or a U+200B after it would look like "ann@contoso.com" and yet not be the same
    user."""
    return char == " " or hidden_in_name(char)


def _visible(user):
    """The user without its hidden characters."""
    if user.isprintable() and " " not in user:  # most users: no hidden character (C speed)
        return user
    return "".join(char for char in user if not _hidden(char))


def _principal_name(user):
    """The user principal name a user names (the user itself, or the name in a user's claims name), or None."""
    name = user[len(CLAIMS_PREFIX):] if user.startswith(CLAIMS_PREFIX) else user
    if name.lower().startswith(_CLAIMS_PREFIXES) or not _PRINCIPAL_NAME(name):
        return None
    return name


def user_problem(user):
    """Why a user cannot be addressed, or None: a user principal name, or a user's claims name
    (i:0#.f|membership|<user principal name>), is needed."""
    if user is None or user == "":
        return "the user is missing"
    if not isinstance(user, str):
        return "the user must be text, not %s" % type(user).__name__
    reason = _text_problem(user)
    if reason:
        return reason
    visible = _visible(user)
    if _principal_name(visible) is None:
        if visible.lower().startswith(_CLAIMS_PREFIXES):
            return "%r is not the claims name of a user (%sname@domain)" % (user, CLAIMS_PREFIX)
        return "%r is not a user principal name (name@domain)" % user
    if visible != user:
        return "%r %s: a user name has no spaces or invisible characters" % (user, hidden_character(user, _hidden))
    return None


def _user_key(user):
    """What a user compares by: its principal name, without case (the claims name of a user is that user), or
    None for a value that names no user."""
    name = _principal_name(user) if isinstance(user, str) else None
    return None if name is None else name.lower()


def _map_problems(id_property, property_map):
    """Problems with the id field and the property map of a source, as "<option>: <why>" lines."""
    if not isinstance(id_property, str) or not id_property:
        yield "id_property: name the source field that holds each user's principal name"
    if not isinstance(property_map, dict) or not property_map:
        yield "property_map: map at least one source field to a profile property"
        return
    named = {}
    for field, target in property_map.items():
        if not isinstance(field, str) or not field or not isinstance(target, str) or not target:
            yield "property_map: %r: %r: source fields and properties must be non-empty text" % (field, target)
            continue
        reason = property_name_problem(target)
        if reason:
            yield "property_map: %s: %s" % (field, reason)
            continue
        if field == id_property:
            yield "property_map: %s is the id field (id_property) and cannot also be a property" % field
        named[field] = target
    for dummy, message in target_clashes(named):
        yield "property_map: " + message


class ProfileInput:
    """The users and values of one module run; see the module docstring. `kinds` (profile_values.PropertyKinds)
    tells which properties are multi-valued: their text values are split at `separator`."""

    def __init__(self, kinds, user=None, properties=None, profiles=None, src=None, records=None, id_property=None,
                 property_map=None, fmt="auto", encoding="utf-8", delimiter=",", separator=DEFAULT_SEPARATOR):
        self.kinds = kinds
        self.separator = separator
        self._single = None if user is None else [{"user": user, "properties": properties}]
        self._profiles = profiles
        self._source_options = None
        if src is not None or records is not None:
            self._source_options = dict(src=src, records=records, fmt=fmt, encoding=encoding, delimiter=delimiter)
        self.id_property = id_property
        self.property_map = property_map
        self.id_field = id_property if self._source_options else "user"
        self.ignored_fields = []
        self.count = None  # the users of the input, once check() has read it
        self._snapshot = None  # the private copy of src that check() took
        self._checked = False  # whether check() found nothing: only then is the input iterated

    def __enter__(self):
        return self

    def __exit__(self, *exc_info):
        self.close()

    def close(self):
        """Remove the private copy of src, if check() took one; the input is not iterated after."""
        self._checked = False  # else the iteration would read src itself, unchecked
        if self._snapshot is not None:
            shutil.rmtree(os.path.dirname(self._snapshot), ignore_errors=True)
            self._snapshot = None

    def check(self, max_problems):
        """Every problem of the input (import_validation.Problems: counted, the first max_problems listed)."""
        self._checked = False
        problems = Problems(max_problems)
        if self._source_options is not None:
            for message in _map_problems(self.id_property, self.property_map):
                problems.add(problem(None, None, None, message))
            if problems.count:
                return problems
            self._take_snapshot()
        ids = IdTable()
        suspects = set()
        self.count = 0
        for item in self._items():
            if isinstance(item, dict):
                problems.add(item)
                continue
            self.count += 1
            number, line, user, values = item
            reason = user_problem(user)
            if reason:
                problems.report(number, line, self.id_field, reason)
            else:
                key = id_key(_user_key(user))
                if not ids.add(key):
                    suspects.add(key)
            for field, name, value in values:
                reason = value_problem(value) or self._multi_value_problem(name, value)
                if reason:
                    problems.report(number, line, field, reason)
        if suspects:
            for found in duplicate_problems(self._items(), suspects, self.id_field, key=_user_key):
                problems.add(found)
        self._checked = not problems.count
        return problems

    def __iter__(self):
        """(number, user, desired) per user, in input order; only after check() found nothing."""
        if not self._checked:
            raise ValueError("the input is written only after check() found no problem in it")
        for number, _line, user, values in self._items():
            desired = dict((name, desired_value(value, self.kinds.is_multi(name), self.separator))
                           for _field, name, value in values)
            yield number, user, desired

    def _multi_value_problem(self, name, value):
        """_items_problem of the value as it would be written (None for a single value)."""
        written = desired_value(value, self.kinds.is_multi(name), self.separator)
        return _items_problem(name, written) if isinstance(written, list) else None

    def _take_snapshot(self):
        """Copy src to a private directory, for check() and the iteration to read (records need no copy)."""
        self.close()
        src = self._source_options["src"]
        if src is None:
            return
        message = src_problem(src)
        if message:
            raise ImportFileError(message)
        # The copy keeps the file's name: format auto tells the format by its extension.
        snapshot = os.path.join(tempfile.mkdtemp(prefix="spo-profile-input-"), os.path.basename(src))
        self._snapshot = snapshot
        try:
            shutil.copyfile(src, snapshot)
        except OSError as err:
            raise ImportFileError("src: the source file %s cannot be read: %s" % (src, err.strerror or err)) from None

    def _items(self):
        """The input as (number, line, user, [(field, property, value)]) and problems (dicts), in order."""
        if self._source_options is not None:
            return self._source_items()
        return self._inline_items(self._single if self._single is not None else self._profiles or [])

    def _source_items(self):
        fields = list(self.property_map)
        options = self._source_options
        if self._snapshot is not None:
            options = dict(options, src=self._snapshot)
        try:
            source = open_source(self.id_property, fields, **options)
        except ImportFileError as err:
            if self._snapshot is None:
                raise
            # The user knows the file by its own name, not by its private copy's.
            raise ImportFileError(str(err).replace(self._snapshot, self._source_options["src"])) from None
        targets = [self.property_map[field] for field in fields]
        for item in source:
            if isinstance(item, dict):
                yield item
                continue
            number, line, user, values = item
            yield number, line, user, list(zip(fields, targets, values))
        self.ignored_fields = sorted(source.ignored_fields)

    def _inline_items(self, entries):
        prefix = "properties" if self._single is not None else "profiles[].properties"
        for number, entry in enumerate(entries, 1):
            if not isinstance(entry, dict) or not isinstance(entry.get("properties"), dict):
                yield problem(number, None, "properties", "give the user's properties as a dictionary of names and values")
                continue
            values, seen = [], {}
            for name, value in entry["properties"].items():
                reason = property_name_problem(name)
                if reason:
                    yield problem(number, None, prefix, reason)
                    continue
                first = seen.setdefault(name.lower(), name)
                if first != name:
                    yield problem(number, None, "%s.%s" % (prefix, name), "the property is also given as %s" % first)
                    continue
                values.append(("%s.%s" % (prefix, name), name, value))
            yield number, None, entry.get("user"), values
