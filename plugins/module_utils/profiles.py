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
from ansible_collections.spo.user_profiles.plugins.module_utils.profile_values import compare, desired_value

PEOPLE_MANAGER = "/_api/SP.UserProfiles.PeopleManager"
# The code of the error get_properties raises for an account without a profile.
NO_PROFILE_CODE = "UserProfileNotFound"


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
        raise SpoError("the user has no SharePoint user profile", status=404, code=NO_PROFILE_CODE, operation=operation)
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


def write_property(client, upn, name, value):
    """One property: a list through SetMultiValuedProfileProperty, anything else through SetSingleValueProfileProperty."""
    if isinstance(value, list):
        set_multi(client, upn, name, value)
    else:
        set_single(client, upn, name, value)


def ensure_properties(client, upn, desired, check_mode):
    """Read, compare, and write only the properties whose value differs (multi values in their order).

    `desired` maps property names to values; a list or tuple value is a multi-valued property.
    Returns (changed, before, after), both restricted to the desired names, in comparable form.
    """
    current = get_properties(client, upn)
    wanted = dict((name, desired_value(value, isinstance(value, (list, tuple)))) for name, value in desired.items())
    compared = compare(current, wanted, ordered=True)
    if not check_mode:
        for name, _before, value, differs in compared:
            if differs:
                write_property(client, upn, name, value)
    before = dict((name, existing) for name, existing, _after, _differs in compared)
    return any(differs for _name, _before, _after, differs in compared), before, wanted
