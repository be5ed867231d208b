# -*- coding: utf-8 -*-
# Copyright (c) spo.user_profiles contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

"""PeopleManager reads and writes of user profile properties (SharePoint REST).

Other users' profiles are read and written on the tenant admin host: app-only writes to
someone else's profile are refused elsewhere (see anchors, pain point 12).
"""

from __future__ import annotations

from ansible_collections.spo.user_profiles.plugins.module_utils.errors import SpoError
from ansible_collections.spo.user_profiles.plugins.module_utils.odata import alias_param, claims_account

PEOPLE_MANAGER = "/_api/SP.UserProfiles.PeopleManager"

# GetPropertiesFor returns multi-valued properties as one string joined by "|".
MULTI_VALUE_SEPARATOR = "|"


def _people_manager_url(client, method):
    return client.admin_url + PEOPLE_MANAGER + "/" + method


def _key_values(body):
    """UserProfileProperties as a list of {Key, Value}, from a nometadata or a verbose body."""
    if body is None:
        return []
    if "d" in body and isinstance(body["d"], dict):
        body = body["d"]
    entries = body.get("UserProfileProperties") or []
    if isinstance(entries, dict):
        entries = entries.get("results") or []
    return entries


def get_properties(client, upn):
    """All profile properties of a user as {name: value}; SpoError when the user has no profile."""
    operation = "read profile of %s" % upn
    url = _people_manager_url(client, "GetPropertiesFor(accountName=@v)") + "?@v=" + alias_param(claims_account(upn))
    body = client.sp("GET", url, operation)
    entries = _key_values(body)
    if not entries:
        # SharePoint answers an empty PersonProperties (or null) for an account without a profile.
        raise SpoError("the user has no SharePoint user profile", status=404, code="UserProfileNotFound", operation=operation)
    return dict((entry.get("Key"), entry.get("Value")) for entry in entries)


def get_property(client, upn, name):
    """One profile property (None when the profile does not have it)."""
    return get_properties(client, upn).get(name)


def set_single(client, upn, name, value):
    """SetSingleValueProfileProperty; None writes an empty string (clears the property)."""
    body = {
        "accountName": claims_account(upn),
        "propertyName": name,
        "propertyValue": "" if value is None else str(value),
    }
    client.sp("POST", _people_manager_url(client, "SetSingleValueProfileProperty"), "set %s of %s" % (name, upn), json=body)


def set_multi(client, upn, name, values):
    """SetMultiValuedProfileProperty with a plain JSON array (the form the CLI for Microsoft 365 sends)."""
    body = {
        "accountName": claims_account(upn),
        "propertyName": name,
        "propertyValues": [str(value) for value in values],
    }
    client.sp("POST", _people_manager_url(client, "SetMultiValuedProfileProperty"), "set %s of %s" % (name, upn), json=body)


def normalize_value(value, multi):
    """A property value in the form used to compare current and desired values.

    Single values compare as strings (None and "" are the same: an empty property);
    multi values compare as ordered lists of strings, whether the service sent a list or a "|"-joined string.
    """
    if multi:
        if value is None or value == "":
            return []
        if isinstance(value, (list, tuple)):
            return [str(item) for item in value]
        return [part for part in str(value).split(MULTI_VALUE_SEPARATOR) if part != ""]
    if value is None:
        return ""
    if isinstance(value, bool):
        return "True" if value else "False"
    if isinstance(value, (list, tuple)):
        return MULTI_VALUE_SEPARATOR.join(str(item) for item in value)
    return str(value)


def ensure_properties(client, upn, desired, check_mode, current=None):
    """Read, compare, and write only the properties whose value differs.

    `desired` maps property names to values; a list or tuple value is a multi-valued property.
    `current` may pass an already read {name: value} to save the read.
    Returns (changed, before, after), both restricted to the desired names, in comparable form.
    """
    if current is None:
        current = get_properties(client, upn)
    before = {}
    after = {}
    to_write = []
    for name, value in desired.items():
        multi = isinstance(value, (list, tuple))
        wanted = normalize_value(value, multi)
        existing = normalize_value(current.get(name), multi)
        before[name] = existing
        after[name] = wanted
        if wanted != existing:
            to_write.append((name, multi, wanted))
    if not check_mode:
        for name, multi, wanted in to_write:
            if multi:
                set_multi(client, upn, name, wanted)
            else:
                set_single(client, upn, name, wanted)
    return bool(to_write), before, after
