"""PeopleManager REST (people.py)."""

import pytest

from .sp_harness import ADMIN, MY, ROOT, SharePoint

PM = "/_api/SP.UserProfiles.PeopleManager/"


@pytest.fixture
def sp(tmp_path):
    return SharePoint(str(tmp_path))


@pytest.mark.parametrize("host", [ROOT, ADMIN, MY])
def test_get_properties_alias_form_on_every_host(sp, host):
    url = host + PM + "GetPropertiesFor(accountName=@v)?@v='i%3A0%23.f%7Cmembership%7Cjdoe%40contoso.com'"
    person = sp.request("GET", url).json()
    assert person["AccountName"] == "i:0#.f|membership|jdoe@contoso.com"
    assert person["Email"] == "jdoe@contoso.com"
    keys = [p["Key"] for p in person["UserProfileProperties"]]
    assert keys[:3] == ["UserProfile_GUID", "SID", "AccountName"] and "CostCenter" in keys
    assert all(p["ValueType"] == "Edm.String" for p in person["UserProfileProperties"])


def test_get_properties_inline_post_form_with_literal_hash_and_verbose(sp):
    url = ADMIN + PM + "GetPropertiesFor(accountName='i:0%23.f|membership|jdoe@contoso.com')"
    body = sp.request("POST", url, verbose=True).json()["d"]
    assert body["__metadata"]["type"] == "SP.UserProfiles.PersonProperties"
    assert body["UserProfileProperties"]["results"][0]["__metadata"]["type"] == "SP.KeyValue"
    literal = sp.request("POST", ADMIN + PM + "GetPropertiesFor(accountName='i:0#.f|membership|jdoe@contoso.com')").json()
    assert literal["AccountName"] == "i:0#.f|membership|jdoe@contoso.com"


def test_unknown_account_gives_empty_person_properties(sp):
    for upn in ("ghost@contoso.com", "noprofile@contoso.com"):
        person = sp.request("GET", ADMIN + PM + "GetPropertiesFor(accountName=@v)?@v='i:0%%23.f|membership|%s'" % upn).json()
        assert person["AccountName"] is None and person["UserProfileProperties"] == []


def test_set_single_value_then_read_back_in_both_forms(sp):
    body = {"accountName": "i:0#.f|membership|jdoe@contoso.com", "propertyName": "PictureURL",
            "propertyValue": "https://contoso-my.sharepoint.com:443/User Photos/Profile Pictures/jdoe_contoso_com_MThumb.jpg"}
    reply = sp.request("POST", ADMIN + PM + "SetSingleValueProfileProperty", body,
                       headers={"Content-Type": "application/json;odata=verbose"})
    assert reply.status == 200 and reply.json() == {"odata.null": True}
    positional = sp.request("GET", ADMIN + PM + "GetUserProfilePropertyFor('i:0%23.f|membership|jdoe@contoso.com','PictureURL')")
    assert positional.json() == {"value": body["propertyValue"]}
    named = sp.request("GET", ADMIN + PM + "GetUserProfilePropertyFor(accountName=@v,propertyName='pictureurl')"
                       "?@v='i%3A0%23.f%7Cmembership%7Cjdoe%40contoso.com'", verbose=True)
    assert named.json() == {"d": {"GetUserProfilePropertyFor": body["propertyValue"]}}
    person = sp.request("GET", ADMIN + PM + "GetPropertiesFor(accountName=@v)?@v='jdoe@contoso.com'").json()
    assert person["PictureUrl"] == body["propertyValue"]
    assert sp.tenant.profile("jdoe@contoso.com")["PictureURL"] == body["propertyValue"]


@pytest.mark.parametrize("values", [["a", "b"], {"__metadata": {"type": "Collection(Edm.String)"}, "results": ["a", "b"]}])
def test_set_multi_value_plain_and_verbose_arrays(sp, values):
    body = {"accountName": "i:0#.f|membership|jdoe@contoso.com", "propertyName": "Tags", "propertyValues": values}
    assert sp.request("POST", ROOT + PM + "SetMultiValuedProfileProperty", body).status == 200
    assert sp.tenant.profile("jdoe@contoso.com")["Tags"] == ["a", "b"]
    read = sp.request("GET", ROOT + PM + "GetUserProfilePropertyFor(accountName=@v,propertyName='Tags')?@v='jdoe@contoso.com'")
    assert read.json() == {"value": "a|b"}


def _error(reply, verbose=False):
    return reply.json()["error" if verbose else "odata.error"]


def assert_profile_error(reply, exception, message, verbose=False):
    """A 500 whose odata.error names a user profile exception, as the service answers profile errors."""
    assert reply.status == 500
    assert _error(reply, verbose) == {"code": "-1, Microsoft.Office.Server.UserProfiles." + exception,
                                      "message": {"lang": "en-US", "value": message}}


@pytest.mark.parametrize("upn", ["ghost@contoso.com", "noprofile@contoso.com"])
def test_an_account_without_a_profile_is_a_500_user_not_found(sp, upn):
    account = "i:0#.f|membership|" + upn
    for reply in (sp.request("POST", ADMIN + PM + "SetSingleValueProfileProperty",
                             {"accountName": account, "propertyName": "CostCenter", "propertyValue": "1"}),
                  sp.request("POST", ADMIN + PM + "SetMultiValuedProfileProperty",
                             {"accountName": account, "propertyName": "Tags", "propertyValues": ["1"]}),
                  sp.request("GET", ADMIN + PM + "GetUserProfilePropertyFor(accountName=@v,propertyName='CostCenter')"
                                                 "?@v='%s'" % account.replace("#", "%23"))):
        assert_profile_error(reply, "UserNotFoundException",
                             "User Profile Error 1000: User Not Found: Could not load profile data from the database.")


def test_an_unknown_property_is_a_500_property_not_defined_in_both_flavours(sp):
    account = "i:0#.f|membership|jdoe@contoso.com"
    reply = sp.request("POST", ADMIN + PM + "SetSingleValueProfileProperty",
                       {"accountName": account, "propertyName": "Nope", "propertyValue": "1"}, verbose=True)
    assert_profile_error(reply, "PropertyNotDefinedException", "Property Not Defined: Nope", verbose=True)
    read = sp.request("GET", ADMIN + PM + "GetUserProfilePropertyFor(accountName=@v,propertyName='Nope')?@v='jdoe@contoso.com'")
    assert read.status == 500 and _error(read)["code"].endswith("PropertyNotDefinedException")


@pytest.mark.parametrize("name", ["AccountName", "UserProfile_GUID", "SID", "msOnline-ObjectId"])
def test_the_identity_of_a_profile_is_not_editable(sp, name):
    reply = sp.request("POST", ADMIN + PM + "SetSingleValueProfileProperty",
                       {"accountName": "i:0#.f|membership|jdoe@contoso.com", "propertyName": name, "propertyValue": "x"})
    assert_profile_error(reply, "PropertyNotEditableException",
                         "Property Not Editable: This property can only be modified by an administrator.")


def test_single_and_multi_value_written_the_wrong_way_are_refused(sp):
    account = "i:0#.f|membership|jdoe@contoso.com"
    single_on_multi = sp.request("POST", ADMIN + PM + "SetSingleValueProfileProperty",
                                 {"accountName": account, "propertyName": "Tags", "propertyValue": "1"})
    assert single_on_multi.status == 500
    assert _error(single_on_multi)["code"] == "-2146233079, System.InvalidOperationException"
    multi_on_single = sp.request("POST", ADMIN + PM + "SetMultiValuedProfileProperty",
                                 {"accountName": account, "propertyName": "CostCenter", "propertyValues": ["1"]})
    assert multi_on_single.status == 500
    assert sp.tenant.profile("jdoe@contoso.com")["CostCenter"] == ""
    assert sp.tenant.profile("jdoe@contoso.com")["Tags"] == []


def test_user_editable_and_taxonomy_properties_are_written_by_an_admin_app(sp):
    sp.tenant.define_properties([{"name": "Expertise", "multi_value": True, "taxonomy": True}])
    account = "i:0#.f|membership|jdoe@contoso.com"
    assert sp.request("POST", ADMIN + PM + "SetSingleValueProfileProperty",
                      {"accountName": account, "propertyName": "Hobby", "propertyValue": "chess"}).status == 200
    assert sp.request("POST", ADMIN + PM + "SetMultiValuedProfileProperty",
                      {"accountName": account, "propertyName": "expertise", "propertyValues": ["Go", "Rust"]}).status == 200
    person = sp.request("GET", ADMIN + PM + "GetPropertiesFor(accountName=@v)?@v='jdoe@contoso.com'").json()
    values = {p["Key"]: p["Value"] for p in person["UserProfileProperties"]}
    assert values["Hobby"] == "chess" and values["Expertise"] == "Go|Rust"


def test_alias_in_query_string_may_use_plus_for_spaces_and_percent_2b_for_plus(sp):
    sp.tenant.set_profile_properties("jdoe@contoso.com", {"CostCenter": "a+b c"})
    url = ROOT + PM + "GetUserProfilePropertyFor(accountName=@v,propertyName=@p)?@v='jdoe%40contoso.com'&@p='Cost%43enter'"
    assert sp.request("GET", url).json() == {"value": "a+b c"}
    missing = sp.request("GET", ROOT + PM + "GetPropertiesFor(accountName=@v)?@v='j+doe%2Bx@contoso.com'").json()
    assert missing["AccountName"] is None
