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
# A property the tenant does not define: HTTP 500 with a message that starts "Property No" (pnp/pnpjs#340, cut off
# there); the emulator's whole form is PropertyNotDefinedException, "Property Not Defined: <name>". "Property Not
# Editable" starts the same way and is another error (docs/protocol_notes.md, "PeopleManager errors").
_UNKNOWN_PROPERTY_PREFIX = "property no"
_NOT_EDITABLE_PREFIX = "property not editable"
_UNKNOWN_PROPERTY_CODE = "PropertyNotDefinedException"


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


def read_property(client, upn, name):
    """GetUserProfilePropertyFor: one property of one user, as the text the service answers (None for none).

    SpoError when the service refuses; unknown_property(error) tells a property the tenant does not define.
    """
    url = (_people_manager_url(client, "GetUserProfilePropertyFor(accountName=@v,propertyName=@p)")
           + "?@v=" + alias_param(claims_account(upn)) + "&@p=" + alias_param(name))
    body = client.sp("GET", url, "read %s of %s" % (name, upn))
    if not isinstance(body, dict):
        return None
    if isinstance(body.get("d"), dict):
        return body["d"].get("GetUserProfilePropertyFor")
    return body.get("value")


def unknown_property(error):
    """Whether a PeopleManager SpoError says the property is not defined in the tenant."""
    if _UNKNOWN_PROPERTY_CODE in (error.code or ""):
        return True
    message = (error.message or "").lower()
    return (error.status == 500 and message.startswith(_UNKNOWN_PROPERTY_PREFIX)
            and not message.startswith(_NOT_EDITABLE_PREFIX))


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
