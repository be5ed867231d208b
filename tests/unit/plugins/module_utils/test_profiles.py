# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

import json
from urllib.parse import unquote

import pytest
import requests

from ansible_collections.spo.user_profiles.plugins.module_utils import profiles
from ansible_collections.spo.user_profiles.plugins.module_utils.errors import SpoError
from ansible_collections.spo.user_profiles.tests.unit.plugins.module_utils.test_http import LimitedFake


# The errors of GetUserProfilePropertyFor as the emulator answers them (tests/emulator/m365emu/people.py).
USER_NOT_FOUND = ("-1, Microsoft.Office.Server.UserProfiles.UserNotFoundException",
                  "User Profile Error 1000: User Not Found: Could not load profile data from the database.")
PROPERTY_NOT_DEFINED = "-1, Microsoft.Office.Server.UserProfiles.PropertyNotDefinedException"


def _aliases(url):
    """The parameter aliases of a URL's query (?@v='...'&@p='...'), decoded, quotes undoubled."""
    query = url.split("?", 1)[1]
    return dict((name, unquote(value)[1:-1].replace("''", "'"))
                for name, _sep, value in (part.partition("=") for part in query.split("&")))


class FakePeopleManager(LimitedFake):
    """Answers PeopleManager REST calls from an in-memory {upn: {name: value}}; records every call.

    `defined`: the tenant's property names (by default those the profiles hold); GetUserProfilePropertyFor refuses
    another, and an account without a profile, with the emulator's errors.
    """

    admin_url = "https://contoso-admin.sharepoint.com"
    my_url = "https://contoso-my.sharepoint.com"

    def __init__(self, people, verbose=False, defined=None):
        self.people = people
        self.verbose = verbose
        self.defined = defined
        self.calls = []

    def sp(self, method, url, operation, json=None, **kw):
        self.calls.append((method, url, json))
        assert url.startswith(self.admin_url + "/_api/SP.UserProfiles.PeopleManager/")
        if method == "GET" and "/GetUserProfilePropertyFor(accountName=@v,propertyName=@p)?" in url:
            return self._property(operation, **_aliases(url))
        if method == "GET" and "/GetPropertiesFor(accountName=@v)?@v=" in url:
            account = unquote(url.split("?@v=", 1)[1])[1:-1].replace("''", "'")
            upn = account.split("|")[-1]
            if upn not in self.people:
                return {"AccountName": account, "UserProfileProperties": []}
            entries = [{"Key": key, "Value": value, "ValueType": "Edm.String"} for key, value in self.people[upn].items()]
            if self.verbose:
                return {"d": {"UserProfileProperties": {"results": entries}}}
            return {"AccountName": account, "UserProfileProperties": entries}
        if method == "POST" and url.endswith("/SetSingleValueProfileProperty"):
            self.people[json["accountName"].split("|")[-1]][json["propertyName"]] = json["propertyValue"]
            return None
        if method == "POST" and url.endswith("/SetMultiValuedProfileProperty"):
            assert isinstance(json["propertyValues"], list)
            self.people[json["accountName"].split("|")[-1]][json["propertyName"]] = "|".join(json["propertyValues"])
            return None
        raise AssertionError("unexpected call %s %s" % (method, url))

    def _property(self, operation, **aliases):
        upn, name = aliases["@v"].split("|")[-1], aliases["@p"]
        if upn not in self.people:
            raise SpoError(USER_NOT_FOUND[1], status=500, code=USER_NOT_FOUND[0], operation=operation)
        defined = self.defined if self.defined is not None else {key for profile in self.people.values() for key in profile}
        if name.lower() not in {key.lower() for key in defined}:
            raise SpoError("Property Not Defined: %s" % name, status=500, code=PROPERTY_NOT_DEFINED, operation=operation)
        value = next((value for key, value in self.people[upn].items() if key.lower() == name.lower()), "")
        return {"d": {"GetUserProfilePropertyFor": value}} if self.verbose else {"value": value}

    def writes(self):
        return [call for call in self.calls if call[0] == "POST"]


@pytest.fixture
def client():
    return FakePeopleManager({"jdoe@contoso.com": {"Department": "Sales", "SPS-Skills": "python|ansible", "Office": ""}})


def test_get_properties_uses_admin_host_and_claims_alias(client):
    properties = profiles.get_properties(client, "jdoe@contoso.com")
    assert properties["Department"] == "Sales"
    url = client.calls[0][1]
    assert "?@v='i%3A0%23.f%7Cmembership%7Cjdoe%40contoso.com'" in url


def test_get_properties_reads_verbose_shape():
    client = FakePeopleManager({"a@contoso.com": {"Title": "Boss"}}, verbose=True)
    assert profiles.get_properties(client, "a@contoso.com") == {"Title": "Boss"}


def test_unknown_user_is_an_error(client):
    with pytest.raises(SpoError) as info:
        profiles.get_properties(client, "ghost@contoso.com")
    assert info.value.status == 404
    assert "ghost@contoso.com" in str(info.value)


def test_get_property(client):
    assert profiles.get_property(client, "jdoe@contoso.com", "Department") == "Sales"
    assert profiles.get_property(client, "jdoe@contoso.com", "Nope") is None


def test_ensure_writes_only_what_differs(client):
    desired = {"Department": "Sales", "Office": "Paris", "SPS-Skills": ["python", "ansible"]}
    changed, before, after = profiles.ensure_properties(client, "jdoe@contoso.com", desired, check_mode=False)
    assert changed
    assert [call[2]["propertyName"] for call in client.writes()] == ["Office"]
    assert before["Office"] == "" and after["Office"] == "Paris"
    assert client.people["jdoe@contoso.com"]["Office"] == "Paris"
    client.calls.clear()
    changed, before, after = profiles.ensure_properties(client, "jdoe@contoso.com", desired, check_mode=False)
    assert not changed and before == after
    assert client.writes() == []


def test_ensure_multi_value_order_and_check_mode(client):
    changed, before, after = profiles.ensure_properties(client, "jdoe@contoso.com", {"SPS-Skills": ["ansible", "python"]},
                                                        check_mode=True)
    assert changed
    assert before == {"SPS-Skills": ["python", "ansible"]} and after == {"SPS-Skills": ["ansible", "python"]}
    assert client.writes() == []
    profiles.ensure_properties(client, "jdoe@contoso.com", {"SPS-Skills": ["ansible", "python"]}, check_mode=False)
    body = client.writes()[0][2]
    assert body["propertyValues"] == ["ansible", "python"] and body["accountName"] == "i:0#.f|membership|jdoe@contoso.com"


def test_none_and_empty_are_the_same_empty_value(client):
    changed, _before, _after = profiles.ensure_properties(client, "jdoe@contoso.com", {"Office": None, "Missing": ""},
                                                          check_mode=False)
    assert not changed


def test_case_of_property_names_does_not_matter(client):
    changed, before, _after = profiles.ensure_properties(client, "jdoe@contoso.com", {"department": "Sales"}, check_mode=False)
    assert not changed and before == {"department": "Sales"}


ODD_UPN = "o'neil#ops%2@contoso.com"
ODD_VALUE = "Zürich 'HQ' #1, 100% Ελληνικά 日本"


def test_the_account_name_in_a_url_is_a_quoted_alias_with_quotes_doubled_and_escapes():
    client = FakePeopleManager({ODD_UPN: {"Office": ""}})
    profiles.get_properties(client, ODD_UPN)
    url = client.calls[0][1]
    assert url.endswith("GetPropertiesFor(accountName=@v)?@v='i%3A0%23.f%7Cmembership%7Co''neil%23ops%252%40contoso.com'")
    # What reaches the service is the claims name, once decoded and with the quote undoubled.
    assert unquote(url.split("?@v=", 1)[1])[1:-1].replace("''", "'") == "i:0#.f|membership|" + ODD_UPN


@pytest.mark.parametrize("value", [ODD_VALUE, ["C#", "100%", "l'été", "日本語"]])
def test_write_bodies_carry_names_and_values_unchanged(value):
    client = FakePeopleManager({ODD_UPN: {"Office": ""}})
    name = "Büro 'A' #%"
    profiles.write_property(client, ODD_UPN, name, value)
    method, url, body = client.calls[0]
    assert method == "POST"
    assert url.endswith("/SetMultiValuedProfileProperty" if isinstance(value, list) else "/SetSingleValueProfileProperty")
    assert body["accountName"] == "i:0#.f|membership|" + ODD_UPN
    assert body["propertyName"] == name
    assert body[("propertyValues" if isinstance(value, list) else "propertyValue")] == value
    # On the wire the body is JSON: decoded, it is the same text.
    wire = requests.Request("POST", url, json=body).prepare().body
    assert json.loads(wire) == body


def test_a_claims_name_is_sent_as_given():
    client = FakePeopleManager({"jdoe@contoso.com": {"Office": ""}})
    profiles.write_property(client, "i:0#.f|membership|jdoe@contoso.com", "Office", "x")
    assert client.calls[0][2]["accountName"] == "i:0#.f|membership|jdoe@contoso.com"


def test_read_property_names_the_user_and_the_property_in_aliases():
    client = FakePeopleManager({ODD_UPN: {"Büro 'A' #%": "x"}})
    assert profiles.read_property(client, ODD_UPN, "Büro 'A' #%") == "x"
    url = client.calls[0][1]
    assert "/GetUserProfilePropertyFor(accountName=@v,propertyName=@p)?@v='i%3A0%23.f%7Cmembership%7Co''neil" in url
    assert _aliases(url) == {"@v": "i:0#.f|membership|" + ODD_UPN, "@p": "Büro 'A' #%"}


def test_read_property_reads_both_shapes_and_an_empty_value():
    people = {"a@contoso.com": {"CostCenter": "4711", "Building": ""}}
    assert profiles.read_property(FakePeopleManager(people, verbose=True), "a@contoso.com", "costcenter") == "4711"
    assert profiles.read_property(FakePeopleManager(people), "a@contoso.com", "Building") == ""


@pytest.mark.parametrize("error, unknown", [
    # the emulator's whole answer, and what pnp/pnpjs#340 shows of the service's: a 500 that starts "Property No"
    (SpoError("Property Not Defined: CostCentre", status=500, code=PROPERTY_NOT_DEFINED), True),
    (SpoError("Property No", status=500), True),
    (SpoError("Property Not Found: CostCentre (gave up after 1 retry)", status=500), True),
    # other answers that are no unknown property
    (SpoError("Property Not Editable: This property can only be modified by an administrator.", status=500,
              code="-1, Microsoft.Office.Server.UserProfiles.PropertyNotEditableException"), False),
    (SpoError(USER_NOT_FOUND[1], status=500, code=USER_NOT_FOUND[0]), False),
    (SpoError("Property No", status=404), False),
    (SpoError("Access denied.", status=403, code="-2147024891, System.UnauthorizedAccessException"), False),
    (SpoError("Internal error", status=500), False),
])
def test_unknown_property_is_told_from_other_refusals(error, unknown):
    assert profiles.unknown_property(error) is unknown


def test_an_unknown_property_and_an_account_without_profile_are_refused():
    client = FakePeopleManager({"a@contoso.com": {"CostCenter": "1"}})
    with pytest.raises(SpoError) as info:
        profiles.read_property(client, "a@contoso.com", "CostCentre")
    assert profiles.unknown_property(info.value) and "CostCentre" in str(info.value)
    with pytest.raises(SpoError) as info:
        profiles.read_property(client, "ghost@contoso.com", "CostCenter")
    assert not profiles.unknown_property(info.value)
