"""Tenants, users, profile properties, apps, profiles and photos, kept on disk under the data dir.

Layout:  DIR/tenants/<name>/tenant.json            the tenant (users, properties, apps), written once
         DIR/tenants/<name>/profiles/<upn>.json    the properties set on one profile (overrides)
         DIR/tenants/<name>/photos/<oid>.img|.json  the Graph photo of one user and its metadata
         DIR/tenants/<name>/sites/<root|my>/       document libraries (owned by spfiles.py)
Every file is written atomically (temporary file + rename), so a restart never sees half a file.
"""

import json
import os
import re
import shutil
import threading
import uuid
from urllib.parse import quote

from . import permissions, pki

# Profile properties synchronised from Entra ID (the bulk API FAQ's list, plus CellPhone and Fax); the bulk
# import refuses to write them.
CORE_PROPERTIES = (
    "SPS-SavedSID", "UserName", "AccountName", "SPS-ClaimID", "SPS-UserPrincipalName", "FirstName", "LastName",
    "Manager", "PreferredName", "WorkPhone", "WorkEmail", "SPS-SIPAddress", "Office", "Title", "SPS-JobTitle",
    "Department", "SPS-Department", "ADGuid", "PublicSiteRedirect", "SPS-DistinguishedName", "msOnline-ObjectId",
    "SPS-MUILanguages", "SPS-HideFromAddressLists", "SPS-RecipientTypeDetails", "IsUnifiedGroup", "IsPublic",
    "SPS-UserType", "GroupType", "SPO-IsSPO", "CellPhone", "Fax",
)

# Properties no one can write through PeopleManager: the identity of the profile.
READ_ONLY_PROPERTIES = ("AccountName", "UserProfile_GUID", "SID", "msOnline-ObjectId")

# Standard SharePoint profile properties: name -> (user_editable, multi_value)
STANDARD_PROPERTIES = {
    "UserProfile_GUID": (False, False),
    "SID": (False, False),
    "AboutMe": (True, False),
    "SPS-Skills": (True, True),
    "SPS-Interests": (True, True),
    "SPS-PastProjects": (True, True),
    "SPS-School": (True, True),
    "SPS-Responsibility": (True, True),
    "SPS-Birthday": (True, False),
    "HomePhone": (True, False),
    "SPS-Location": (True, False),
    "PictureURL": (True, False),
    "SPS-PicturePlaceholderState": (False, False),
    "SPS-PictureExchangeSyncState": (False, False),
    "SPS-PictureTimestamp": (False, False),
    "PersonalSpace": (False, False),
    "SPS-HireDate": (False, False),
    "SPS-TimeZone": (False, False),
    "Assistant": (False, False),
    "SPS-Dotted-line": (False, True),
    "SPS-Peers": (False, True),
}

TENANT_NAME = re.compile(r"^[a-z0-9]{1,27}$")
SHAREPOINT_SUFFIX = ".sharepoint.com"
GUID_NAMESPACE = uuid.UUID("5b0b2d9e-7f4c-4c87-9d1a-2f0a6e1f3c11")


def stable_guid(*parts):
    """A GUID derived from names, so a tenant built twice from the same spec gets the same ids."""
    return str(uuid.uuid5(GUID_NAMESPACE, "/".join(parts)))


def write_json_atomic(path, obj):
    tmp = "%s.%d.tmp" % (path, threading.get_ident())
    with open(tmp, "w", encoding="utf-8") as handle:
        json.dump(obj, handle, separators=(",", ":"))
    os.replace(tmp, path)


def _file_key(value):
    return quote(value.lower(), safe="@._-")


class Tenant:
    def __init__(self, store, data, directory):
        self.store = store
        self.dir = directory
        self.lock = threading.RLock()
        self.name = data["name"]
        self.tenant_id = data["tenant_id"]
        self.users = data["users"]
        self.properties = data["properties"]
        self.apps = data["apps"]
        for client_id, app in self.apps.items():   # tenants saved before roles per resource and certificate lists
            app["roles"] = permissions.normalise_roles(app.get("roles"), client_id)
            if "certificates" not in app:
                app["certificates"] = [app.pop("certificate_pem")] if app.get("certificate_pem") else []
        self._data = data
        self._by_key = {}
        for user in self.users:
            for key in (user["upn"], user.get("mail"), user["object_id"]):
                if key:
                    self._by_key.setdefault(key.lower(), user)
        self._profiles = {}
        os.makedirs(os.path.join(directory, "profiles"), exist_ok=True)
        os.makedirs(os.path.join(directory, "photos"), exist_ok=True)

    @property
    def domain(self):
        return "%s.onmicrosoft.com" % self.name

    def to_json(self):
        return self._data

    def define_properties(self, raws):
        """Add or redefine custom profile properties (the control plane's POST .../properties); persisted."""
        defined = custom_properties(raws)
        with self.lock:
            by_lower = {name.lower(): name for name in self.properties}
            for name, spec in defined.items():
                self.properties.pop(by_lower.get(name.lower(), name), None)
                self.properties[name] = spec
            write_json_atomic(os.path.join(self.dir, "tenant.json"), self._data)
        return defined

    def summary(self):
        return {"name": self.name, "tenant_id": self.tenant_id, "domain": self.domain,
                "users": len(self.users), "properties": len(self.properties),
                "apps": sorted(self.apps), "hosts": [self.name + SHAREPOINT_SUFFIX,
                                                     self.name + "-admin" + SHAREPOINT_SUFFIX,
                                                     self.name + "-my" + SHAREPOINT_SUFFIX]}

    # -- users ----------------------------------------------------------
    def find_user(self, upn_or_mail_or_object_id):
        if not upn_or_mail_or_object_id:
            return None
        return self._by_key.get(upn_or_mail_or_object_id.lower())

    # -- profiles -------------------------------------------------------
    def _profile_path(self, upn):
        return os.path.join(self.dir, "profiles", _file_key(upn) + ".json")

    def _overrides(self, upn):
        key = upn.lower()
        values = self._profiles.get(key)
        if values is None:
            path = self._profile_path(upn)
            try:
                with open(path, encoding="utf-8") as handle:
                    values = json.load(handle)
            except FileNotFoundError:
                values = {}
            self._profiles[key] = values
        return values

    def default_profile(self, user):
        values = {name: ([] if spec["multi_value"] else "") for name, spec in self.properties.items()}
        upn = user["upn"]
        first = user.get("given_name") or ""
        last = user.get("surname") or ""
        values.update({
            "AccountName": "i:0#.f|membership|" + upn.lower(),
            "UserProfile_GUID": stable_guid(self.tenant_id, "profile", upn.lower()),
            "SID": "i:0h.f|membership|%s@live.com" % user["object_id"].replace("-", "")[:16],
            "FirstName": first,
            "LastName": last,
            "PreferredName": user.get("display_name") or upn,
            "WorkEmail": user.get("mail") or "",
            "UserName": upn,
            "SPS-UserPrincipalName": upn,
            "Department": user.get("department") or "",
            "SPS-Department": user.get("department") or "",
            "Title": user.get("job_title") or "",
            "SPS-JobTitle": user.get("job_title") or "",
            "Office": user.get("office") or "",
            "WorkPhone": user.get("phone") or "",
            "PersonalSpace": "/personal/%s/" % re.sub(r"[^a-z0-9]", "_", upn.lower()),
            "SPS-PicturePlaceholderState": "1",
            "msOnline-ObjectId": user["object_id"],
            "SPS-UserType": "1" if user.get("guest") else "0",
        })
        return values

    def profile(self, upn):
        """All properties of the user's profile ({} when the user is unknown or has no profile)."""
        user = self.find_user(upn)
        if user is None or not user.get("has_profile", True):
            return {}
        with self.lock:
            values = self.default_profile(user)
            values.update(self._overrides(user["upn"]))
        return values

    def set_profile_properties(self, upn, values):
        """Store property values on a profile and persist them (one small file per user)."""
        user = self.find_user(upn)
        if user is None:
            raise KeyError(upn)
        with self.lock:
            overrides = dict(self._overrides(user["upn"]))
            overrides.update(values)
            write_json_atomic(self._profile_path(user["upn"]), overrides)
            self._profiles[user["upn"].lower()] = overrides

    # -- photos (Graph) -------------------------------------------------
    def _photo_base(self, user):
        return os.path.join(self.dir, "photos", user["object_id"].lower())

    def photo_meta(self, user):
        try:
            with open(self._photo_base(user) + ".json", encoding="utf-8") as handle:
                return json.load(handle)
        except FileNotFoundError:
            return None

    def photo_path(self, user):
        return self._photo_base(user) + ".img"

    def set_photo(self, user, temp_path, meta):
        """Move an image file (already written under the tenant dir) into place with its metadata."""
        with self.lock:
            os.replace(temp_path, self.photo_path(user))
            write_json_atomic(self._photo_base(user) + ".json", meta)

    def delete_photo(self, user):
        with self.lock:
            existed = False
            for suffix in (".json", ".img"):
                try:
                    os.remove(self._photo_base(user) + suffix)
                    existed = True
                except FileNotFoundError:
                    pass
            return existed

    def temp_dir(self):
        path = os.path.join(self.dir, "tmp")
        os.makedirs(path, exist_ok=True)
        return path

    # -- SharePoint sites -----------------------------------------------
    def site_dir(self, host_kind):
        if host_kind not in ("root", "my", "admin"):
            raise ValueError("host kind must be root, my or admin")
        path = os.path.join(self.dir, "sites", host_kind)
        os.makedirs(path, exist_ok=True)
        return path


class Store:
    def __init__(self, data_dir):
        self.data_dir = os.path.abspath(data_dir)
        self.tenants_dir = os.path.join(self.data_dir, "tenants")
        os.makedirs(self.tenants_dir, exist_ok=True)
        self.lock = threading.RLock()
        self.signing_key, self.signing_kid = pki.load_or_create_signing_key(self.data_dir)
        self.signing_public_key = self.signing_key.public_key()
        self._tenants = {}
        self._by_id = {}
        for name in sorted(os.listdir(self.tenants_dir)):
            path = os.path.join(self.tenants_dir, name, "tenant.json")
            if os.path.exists(path):
                with open(path, encoding="utf-8") as handle:
                    self._add(Tenant(self, json.load(handle), os.path.dirname(path)))

    def _add(self, tenant):
        self._tenants[tenant.name] = tenant
        self._by_id[tenant.tenant_id.lower()] = tenant
        self._by_id[tenant.domain] = tenant

    def tenants(self):
        return list(self._tenants.values())

    def tenant(self, name):
        if not name:
            return None
        return self._tenants.get(name.lower())

    def tenant_by_id(self, tenant_id_or_domain):
        if not tenant_id_or_domain:
            return None
        return self._by_id.get(tenant_id_or_domain.lower())

    @staticmethod
    def host_kind(host):
        """'root', 'admin' or 'my' for a SharePoint host name (None for other hosts)."""
        host = host.lower()
        if not host.endswith(SHAREPOINT_SUFFIX):
            return None
        label = host[:-len(SHAREPOINT_SUFFIX)]
        if label.endswith("-admin"):
            return "admin"
        if label.endswith("-my"):
            return "my"
        return "root"

    def tenant_by_host(self, host):
        host = host.lower()
        if not host.endswith(SHAREPOINT_SUFFIX):
            return None
        label = host[:-len(SHAREPOINT_SUFFIX)]
        for suffix in ("-admin", "-my"):
            if label.endswith(suffix):
                label = label[:-len(suffix)]
                break
        return self._tenants.get(label)

    def create_tenant(self, spec):
        data = normalise_tenant_spec(spec)
        with self.lock:
            if data["name"] in self._tenants:
                raise ValueError("tenant %s already exists" % data["name"])
            if data["tenant_id"].lower() in self._by_id:
                raise ValueError("tenant id %s is already used" % data["tenant_id"])
            directory = os.path.join(self.tenants_dir, data["name"])
            os.makedirs(directory, exist_ok=True)
            write_json_atomic(os.path.join(directory, "tenant.json"), data)
            tenant = Tenant(self, data, directory)
            tenant.site_dir("root")
            tenant.site_dir("my")
            self._add(tenant)
            return tenant

    def delete_tenant(self, name):
        with self.lock:
            tenant = self._tenants.pop(name.lower(), None)
            if tenant is None:
                return False
            self._by_id.pop(tenant.tenant_id.lower(), None)
            self._by_id.pop(tenant.domain, None)
            shutil.rmtree(tenant.dir, ignore_errors=True)
            return True


def _property(name, core=False, user_editable=False, multi_value=False, taxonomy=False):
    return {"user_editable": user_editable, "multi_value": multi_value, "taxonomy": taxonomy, "core": core,
            "read_only": name in READ_ONLY_PROPERTIES}


PROPERTY_FLAGS = ("user_editable", "multi_value", "taxonomy")


def custom_properties(raws):
    """{name: spec} for custom property definitions [{"name", "user_editable"?, "multi_value"?, "taxonomy"?}]."""
    core = {name.lower() for name in CORE_PROPERTIES}
    result = {}
    for raw in raws:
        if not isinstance(raw, dict) or not isinstance(raw.get("name"), str) or not raw["name"]:
            raise ValueError("every property needs a name")
        if raw["name"].lower() in core:
            raise ValueError("%s is an Entra-synced core property" % raw["name"])
        unknown = sorted(set(raw) - set(PROPERTY_FLAGS) - {"name"})
        if unknown:
            raise ValueError("property %s: unknown settings %s" % (raw["name"], ", ".join(unknown)))
        flags = {}
        for flag in PROPERTY_FLAGS:
            if not isinstance(raw.get(flag, False), bool):
                raise ValueError("property %s: %s must be true or false" % (raw["name"], flag))
            flags[flag] = raw.get(flag, False)
        result[raw["name"]] = _property(raw["name"], **flags)
    return result


def normalise_tenant_spec(spec):
    """Validate a tenant spec (the POST /_emulator/tenants body) and fill in the defaults."""
    if not isinstance(spec, dict):
        raise ValueError("tenant spec must be an object")
    name = str(spec.get("name") or "").lower()
    if not TENANT_NAME.match(name):
        raise ValueError("tenant name must be 1-27 lower-case letters or digits")
    tenant_id = str(spec.get("tenant_id") or stable_guid("tenant", name)).lower()
    try:
        uuid.UUID(tenant_id)
    except ValueError:
        raise ValueError("tenant_id must be a GUID")

    users = []
    seen = set()
    for raw in spec.get("users") or []:
        if not isinstance(raw, dict) or not raw.get("upn"):
            raise ValueError("every user needs a upn")
        upn = str(raw["upn"])
        if upn.lower() in seen:
            raise ValueError("duplicate user %s" % upn)
        seen.add(upn.lower())
        user = dict(raw)
        user["upn"] = upn
        user["guest"] = bool(raw.get("guest", "#EXT#" in upn.upper()))
        user["mail"] = raw.get("mail") or upn
        user["object_id"] = str(raw.get("object_id") or stable_guid(tenant_id, "user", upn.lower())).lower()
        user["has_profile"] = bool(raw.get("has_profile", True))
        if not isinstance(raw.get("account_enabled", True), bool):
            raise ValueError("user %s: account_enabled must be true or false" % upn)
        user["account_enabled"] = raw.get("account_enabled", True)
        if not user.get("display_name"):
            local = upn.split("#EXT#", 1)[0].split("@", 1)[0]
            user["display_name"] = " ".join(part.capitalize() for part in re.split(r"[._]", local) if part)
        users.append(user)

    properties = {}
    for prop in CORE_PROPERTIES:
        properties[prop] = _property(prop, core=True)
    for prop, (editable, multi) in STANDARD_PROPERTIES.items():
        properties[prop] = _property(prop, user_editable=editable, multi_value=multi)
    properties.update(custom_properties(spec.get("properties") or []))

    apps = {}
    for raw in spec.get("apps") or []:
        if not isinstance(raw, dict) or not raw.get("client_id"):
            raise ValueError("every app needs a client_id")
        app = {"roles": permissions.normalise_roles(raw.get("roles"), raw["client_id"]),
               "certificates": _certificates(raw)}
        if raw.get("secret"):
            app["secret"] = raw["secret"]
        if not app["certificates"] and "secret" not in app:
            raise ValueError("app %s needs certificate_pem, certificates or secret" % raw["client_id"])
        apps[str(raw["client_id"]).lower()] = app

    return {"name": name, "tenant_id": tenant_id, "users": users, "properties": properties, "apps": apps,
            "sites": _sites(spec.get("sites") or [])}


def _certificates(raw):
    """The PEM certificates registered for an app: certificate_pem and/or the list certificates."""
    pems = ([raw["certificate_pem"]] if raw.get("certificate_pem") else []) + list(raw.get("certificates") or [])
    for pem in pems:
        if not isinstance(pem, str):
            raise ValueError("app %s: certificates must be PEM text" % raw["client_id"])
        pki.load_certificate(pem)  # fails early on a bad certificate
    return pems


def _sites(raws):
    """The webs a tenant spec declares on its root host: server-relative paths ("/sites/hr", "/sites/hr/emea")."""
    sites = []
    for raw in raws:
        if not isinstance(raw, str) or not raw.startswith("/") or raw.rstrip("/") == "" or "//" in raw:
            raise ValueError("every site must be a server-relative path such as /sites/hr, not %r" % (raw,))
        if any(part.lower() in ("_api", "_vti_bin", "_layouts") for part in raw.split("/")):
            raise ValueError("site %s has a reserved segment" % raw)
        sites.append(raw.rstrip("/"))
    return sites
