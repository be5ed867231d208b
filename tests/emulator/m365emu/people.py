"""PeopleManager REST: GetPropertiesFor, GetUserProfilePropertyFor, SetSingleValueProfileProperty,
SetMultiValuedProfileProperty, on every SharePoint host of the tenant.

Profile errors are HTTP 500 with an odata.error body whose code names the user profile exception, as
the service answers (docs/protocol_notes.md, "PeopleManager errors", has the sources):
- an account without a profile, for GetUserProfilePropertyFor and the Set* methods: UserNotFoundException
  "User Profile Error 1000: User Not Found: Could not load profile data from the database.";
- an unknown property: PropertyNotDefinedException "Property Not Defined: <name>";
- a property no one may write (the profile's identity): PropertyNotEditableException;
- a multi-value property through SetSingleValueProfileProperty, or a single-value one through
  SetMultiValuedProfileProperty: InvalidOperationException (unconfirmed: the emulator refuses both).
GetPropertiesFor for an unknown account answers 200 with an empty PersonProperties (unconfirmed).
"""

from urllib.parse import quote

from . import permissions
from . import sprest as sp

CLAIMS_PREFIX = "i:0#.f|membership|"
CODE_USER_NOT_FOUND = "-1, Microsoft.Office.Server.UserProfiles.UserNotFoundException"
MESSAGE_USER_NOT_FOUND = "User Profile Error 1000: User Not Found: Could not load profile data from the database."
CODE_PROPERTY_NOT_DEFINED = "-1, Microsoft.Office.Server.UserProfiles.PropertyNotDefinedException"
CODE_PROPERTY_NOT_EDITABLE = "-1, Microsoft.Office.Server.UserProfiles.PropertyNotEditableException"
MESSAGE_PROPERTY_NOT_EDITABLE = "Property Not Editable: This property can only be modified by an administrator."
CODE_INVALID_OPERATION = "-2146233079, System.InvalidOperationException"
PERSON_TYPE = "SP.UserProfiles.PersonProperties"


def upn_of(account_name):
    """The UPN inside a claims account name (or the value itself when it is not a claim)."""
    if not isinstance(account_name, str):
        return None
    value = account_name.strip()
    if "|" in value:
        value = value.rsplit("|", 1)[1]
    return value


def _user(ctx, account_name):
    """(user, profile) or (None, None) when the account is unknown or has no profile."""
    upn = upn_of(account_name)
    user = ctx.tenant.find_user(upn) if upn else None
    if user is None or not user.get("has_profile", True):
        return None, None
    return user, ctx.tenant.profile(user["upn"])


def handle(ctx, segments):
    if not permissions.has_all(ctx.claims, permissions.PROFILE_ROLES):
        raise permissions.sharepoint_denied(ctx.verbose, permissions.PROFILE_ACCESS_DENIED)
    if len(segments) != 1:
        sp.not_found_resource(ctx, "/".join(s.name for s in segments) or sp.PEOPLE_MANAGER)
    seg = segments[0]
    name = seg.lname
    param = sp.method_params(ctx, seg, limit=4 * 1024 * 1024)

    if name == "getpropertiesfor":
        return _get_properties(ctx, param("accountName", 0))
    if name == "getuserprofilepropertyfor":
        return _get_property(ctx, param("accountName", 0), param("propertyName", 1))
    if name in ("setsinglevalueprofileproperty", "setmultivaluedprofileproperty"):
        if ctx.request.method != "POST":
            sp.sp_fail(ctx, 405, sp.CODE_INVALID_QUERY, "The HTTP method 'GET' cannot be used to access the resource '%s'." % seg.name)
        multi = name == "setmultivaluedprofileproperty"
        value = param("propertyValues", 2) if multi else param("propertyValue", 2)
        return _set(ctx, seg.name, param("accountName", 0), param("propertyName", 1), value, multi)
    sp.not_found_resource(ctx, seg.name)


def _canonical_property(ctx, name):
    if isinstance(name, str):
        for candidate in ctx.tenant.properties:
            if candidate.lower() == name.lower():
                return candidate
    sp.sp_fail(ctx, 500, CODE_PROPERTY_NOT_DEFINED, "Property Not Defined: %s" % name)


def _as_text(value):
    if isinstance(value, list):
        return "|".join(str(v) for v in value)
    return "" if value is None else str(value)


def _set(ctx, function, account_name, property_name, value, multi):
    user, _profile = _user(ctx, account_name)
    if user is None:
        sp.sp_fail(ctx, 500, CODE_USER_NOT_FOUND, MESSAGE_USER_NOT_FOUND)
    prop = _canonical_property(ctx, property_name)
    spec = ctx.tenant.properties[prop]
    if spec.get("read_only"):
        sp.sp_fail(ctx, 500, CODE_PROPERTY_NOT_EDITABLE, MESSAGE_PROPERTY_NOT_EDITABLE)
    if multi and not spec.get("multi_value"):
        sp.sp_fail(ctx, 500, CODE_INVALID_OPERATION,
                   "Property %s is not a multi-valued property; use SetSingleValueProfileProperty." % prop)
    if not multi and spec.get("multi_value"):
        sp.sp_fail(ctx, 500, CODE_INVALID_OPERATION,
                   "Property %s is a multi-valued property; use SetMultiValuedProfileProperty." % prop)
    if multi:
        if isinstance(value, dict) and isinstance(value.get("results"), list):
            value = value["results"]
        if not isinstance(value, list) or not all(isinstance(v, (str, int, float)) for v in value):
            sp.sp_fail(ctx, 400, sp.CODE_INVALID_QUERY, "The parameter propertyValues must be a collection of strings.")
        stored = [str(v) for v in value]
    else:
        if isinstance(value, (dict, list)):
            sp.sp_fail(ctx, 400, sp.CODE_INVALID_QUERY, "The parameter propertyValue must be a string.")
        stored = "" if value is None else (("True" if value else "False") if isinstance(value, bool) else str(value))
    ctx.tenant.set_profile_properties(user["upn"], {prop: stored})
    return sp.reply_value(ctx, function, None)


def _get_property(ctx, account_name, property_name):
    user, profile = _user(ctx, account_name)
    if user is None:
        sp.sp_fail(ctx, 500, CODE_USER_NOT_FOUND, MESSAGE_USER_NOT_FOUND)
    prop = _canonical_property(ctx, property_name)
    return sp.reply_value(ctx, "GetUserProfilePropertyFor", _as_text(profile.get(prop)))


def _account_url_part(upn):
    return quote(CLAIMS_PREFIX + upn.replace("@", "_").replace(".", "_"), safe="").replace(".", "%2E").replace("_", "%5F")


def _get_properties(ctx, account_name):
    user, profile = _user(ctx, account_name)
    my_url = "https://%s-my.sharepoint.com" % ctx.tenant.name
    if user is None:
        person = {"AccountName": None, "DirectReports": [], "DisplayName": None, "Email": None,
                  "ExtendedManagers": [], "ExtendedReports": [], "IsFollowed": False, "LatestPost": None,
                  "Peers": [], "PersonalSiteHostUrl": my_url + ":443/", "PersonalUrl": None, "PictureUrl": None,
                  "Title": None, "UserProfileProperties": [], "UserUrl": None}
    else:
        upn = user["upn"]
        account = CLAIMS_PREFIX + upn.lower()
        ordered = ["UserProfile_GUID", "SID", "AccountName"]
        names = ordered + sorted((n for n in profile if n not in ordered), key=str.lower)
        properties = [{"Key": n, "Value": _as_text(profile.get(n)), "ValueType": "Edm.String"}
                      for n in names if n in profile]
        picture = profile.get("PictureURL") or None
        person = {
            "AccountName": account, "DirectReports": [],
            "DisplayName": profile.get("PreferredName") or user.get("display_name") or upn,
            "Email": user.get("mail") or None, "ExtendedManagers": [], "ExtendedReports": [account],
            "IsFollowed": False, "LatestPost": None, "Peers": [],
            "PersonalSiteHostUrl": my_url + ":443/",
            "PersonalUrl": my_url + (profile.get("PersonalSpace") or "/"),
            "PictureUrl": picture, "Title": profile.get("SPS-JobTitle") or profile.get("Title") or None,
            "UserProfileProperties": properties,
            "UserUrl": "%s:443/Person.aspx?accountname=%s" % (my_url, _account_url_part(upn)),
        }
    fields = ctx.query_list("$select")
    person = sp.select(person, fields)
    uri = "https://%s/_api/SP.UserProfiles.PeopleManager/GetPropertiesFor(accountName=@v)" % ctx.host
    if ctx.verbose:
        body = {"__metadata": {"id": uri, "uri": uri, "type": PERSON_TYPE}}
        for key, value in person.items():
            if key == "UserProfileProperties":
                body[key] = {"results": [dict({"__metadata": {"type": "SP.KeyValue"}}, **p) for p in value]}
            elif isinstance(value, list):
                body[key] = {"__metadata": {"type": "Collection(Edm.String)"}, "results": value}
            else:
                body[key] = value
        return sp.json_reply(ctx, {"d": body})
    return sp.json_reply(ctx, person)
