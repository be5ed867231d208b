# -*- coding: utf-8 -*-
# Copyright (c) spo.user_profiles contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

"""Sign-in: national clouds, certificates, MSAL app-only tokens cached per resource."""

from __future__ import annotations

import base64
import binascii
import functools
import json
import re
import threading
import time
import traceback

from ansible_collections.spo.user_profiles.plugins.module_utils.constants import PEM_TEXT_MARKER
from ansible_collections.spo.user_profiles.plugins.module_utils.errors import SpoError

try:
    import msal
    HAS_MSAL = True
    MSAL_IMP_ERR = None
except ImportError:
    HAS_MSAL = False
    MSAL_IMP_ERR = traceback.format_exc()

try:
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.serialization import pkcs12
    HAS_CRYPTOGRAPHY = True
    CRYPTOGRAPHY_IMP_ERR = None
except ImportError:
    HAS_CRYPTOGRAPHY = False
    CRYPTOGRAPHY_IMP_ERR = traceback.format_exc()

SHAREPOINT = "sharepoint"
GRAPH = "graph"

SIGN_IN_OPERATION = "sign in"

SECRET_FOR_SHAREPOINT_MESSAGE = (
    "SharePoint Online refuses app-only tokens obtained with a client secret ('Unsupported app only token'). "
    "Give the Entra ID (Azure AD) app registration a certificate credential and set certificate_path "
    "(and certificate_password if the key is encrypted); a client secret only works for Microsoft Graph."
)

# Tokens are renewed this many seconds before their announced expiry.
EXPIRY_MARGIN_SECONDS = 120

# The first MSAL that signs a certificate assertion with the SHA-256 thumbprint when given the certificate.
MSAL_SHA256_VERSION = (1, 35)


class Cloud:
    """The host names of one Microsoft 365 cloud."""

    def __init__(self, name, login_host, sharepoint_suffix, graph_host, default_domain_suffix):
        self.name = name
        self.login_host = login_host
        self.sharepoint_suffix = sharepoint_suffix
        self.graph_host = graph_host
        self.default_domain_suffix = default_domain_suffix

    @property
    def authority_base(self):
        return "https://%s" % self.login_host

    @property
    def graph_url(self):
        return "https://%s/v1.0" % self.graph_host

    def sharepoint_host(self, tenant, kind="root"):
        suffix = {"root": "", "admin": "-admin", "my": "-my"}[kind]
        return "%s%s.%s" % (tenant, suffix, self.sharepoint_suffix)


CLOUDS = {
    "public": Cloud("public", "login.microsoftonline.com", "sharepoint.com", "graph.microsoft.com", "onmicrosoft.com"),
    # GCC (moderate) runs on the commercial endpoints.
    "gcc": Cloud("gcc", "login.microsoftonline.com", "sharepoint.com", "graph.microsoft.com", "onmicrosoft.com"),
    "gcc_high": Cloud("gcc_high", "login.microsoftonline.us", "sharepoint.us", "graph.microsoft.us", "onmicrosoft.us"),
    "dod": Cloud("dod", "login.microsoftonline.us", "sharepoint-mil.us", "dod-graph.microsoft.us", "onmicrosoft.us"),
    "china": Cloud("china", "login.chinacloudapi.cn", "sharepoint.cn", "microsoftgraph.chinacloudapi.cn", "partner.onmschina.cn"),
}


def get_cloud(name):
    try:
        return CLOUDS[name or "public"]
    except KeyError:
        raise SpoError("unknown cloud %r; use one of %s" % (name, ", ".join(sorted(CLOUDS))), operation=SIGN_IN_OPERATION)


# SharePoint Online tenant names: 1 to 27 letters or digits.
_TENANT_RE = re.compile(r"^[a-z0-9]{1,27}$")


def normalize_tenant(tenant):
    """'contoso' from 'contoso', 'contoso.onmicrosoft.com', 'https://contoso-admin.sharepoint.com/' and similar."""
    text = (tenant or "").strip().lower()
    text = re.sub(r"^https?://", "", text).split("/", 1)[0]
    name = text.split(".", 1)[0]
    for suffix in ("-admin", "-my"):
        if name.endswith(suffix):
            name = name[:-len(suffix)]
    if not _TENANT_RE.match(name):
        raise SpoError("tenant %r is not a tenant name such as 'contoso'" % (tenant,), operation=SIGN_IN_OPERATION)
    return name


class Credentials:
    """What the caller gave to sign in with. Secrets stay in memory and out of repr()."""

    def __init__(self, client_id=None, tenant_id=None, certificate_path=None, certificate_password=None,
                 client_secret=None, access_token=None):
        self.client_id = client_id
        self.tenant_id = tenant_id
        self.certificate_path = certificate_path
        self.certificate_password = certificate_password
        self.client_secret = client_secret
        self.access_token = access_token

    def secrets(self):
        """The secret values, so that callers can scrub them from any text they show."""
        return [value for value in (self.certificate_password, self.client_secret, self.access_token) if value]

    def __repr__(self):
        kind = "access token" if self.access_token else "certificate" if self.certificate_path else "client secret" if self.client_secret else "none"
        return "Credentials(client_id=%r, tenant_id=%r, kind=%s)" % (self.client_id, self.tenant_id, kind)


class Certificate:
    """A certificate credential: the loaded private key (in memory only) and the certificate's thumbprints."""

    def __init__(self, private_key, certificate_pem, sha1_thumbprint, sha256_thumbprint):
        self.private_key = private_key
        self.certificate_pem = certificate_pem
        self.sha1_thumbprint = sha1_thumbprint
        self.sha256_thumbprint = sha256_thumbprint

    def __repr__(self):
        return "Certificate(sha1=%s)" % self.sha1_thumbprint

    def msal_credential(self):
        # Given the certificate and no thumbprint, MSAL (1.35 and later) signs PS256 with the SHA-256 thumbprint in
        # x5t#S256, as Entra ID documents certificate credentials; a SHA-1 "thumbprint" would make it sign RS256 with
        # the SHA-1 x5t. MSAL signs with the key object as it is (its assertion creator takes a cryptography key);
        # given PEM text, PyJWT would load the key again on every sign-in, with a 45 ms RSA consistency check each time.
        return {"private_key": self.private_key, "public_certificate": self.certificate_pem}


def _password_bytes(password):
    if password is None or password == "":
        return None
    return password.encode("utf-8") if isinstance(password, str) else password


def holds_pem_text(path):
    """Whether the value of a path option is the text of a PEM file (a private key, maybe) rather than a path."""
    return isinstance(path, str) and PEM_TEXT_MARKER in path


def load_certificate(path, password=None):
    """Load a PEM file (private key + certificate) or a PFX/PKCS#12 file. Errors never contain the password."""
    if holds_pem_text(path):
        raise SpoError("certificate_path holds the text of a PEM file, not a path: give the path of the PEM or PFX file "
                       "(the text is not shown, as it may hold the private key)", operation=SIGN_IN_OPERATION)
    if not HAS_CRYPTOGRAPHY:
        raise SpoError("the cryptography Python library is required to use certificate_path", operation=SIGN_IN_OPERATION)
    try:
        with open(path, "rb") as handle:
            data = handle.read()
    except (IOError, OSError) as exc:
        raise SpoError("cannot read certificate_path %s: %s" % (path, exc.strerror or exc), operation=SIGN_IN_OPERATION)
    secret = _password_bytes(password)
    if b"-----BEGIN" in data:
        key, cert = _load_pem(path, data, secret)
    else:
        key, cert = _load_pfx(path, data, secret)
    sha1 = cert.fingerprint(hashes.SHA1()).hex().upper()
    if not _same_public_key(key, cert):
        raise SpoError("the private key in %s does not belong to its certificate (thumbprint %s): every sign-in would fail "
                       "with 'Client assertion failed signature validation'; put the key and the certificate of one pair "
                       "in the file" % (path, sha1), operation=SIGN_IN_OPERATION)
    cert_pem = cert.public_bytes(serialization.Encoding.PEM).decode("ascii")
    return Certificate(key, cert_pem, sha1, cert.fingerprint(hashes.SHA256()).hex().upper())


def _same_public_key(key, cert):
    """Whether the private key is the one whose public half the certificate carries."""
    public = serialization.PublicFormat.SubjectPublicKeyInfo
    return (key.public_key().public_bytes(serialization.Encoding.DER, public)
            == cert.public_key().public_bytes(serialization.Encoding.DER, public))


def _load_pem(path, data, secret):
    if b"PRIVATE KEY-----" not in data:
        raise SpoError("certificate_path %s holds no private key; give a PEM with the key and the certificate, or a PFX" % path,
                       operation=SIGN_IN_OPERATION)
    if b"-----BEGIN CERTIFICATE-----" not in data:
        raise SpoError("certificate_path %s holds no certificate; give a PEM with the key and the certificate, or a PFX" % path,
                       operation=SIGN_IN_OPERATION)
    try:
        # Loaded once, without the RSA consistency check (45 ms on every module run): Entra ID rejects an assertion
        # signed with a broken key, with an error that names it.
        key = serialization.load_pem_private_key(data, password=secret, unsafe_skip_rsa_key_validation=True)
    except TypeError:
        if secret is None:
            raise SpoError("the private key in %s is encrypted; set certificate_password" % path, operation=SIGN_IN_OPERATION)
        raise SpoError("the private key in %s is not encrypted; leave certificate_password unset" % path, operation=SIGN_IN_OPERATION)
    except ValueError:
        raise SpoError("cannot load the private key in %s (wrong certificate_password, or not a supported key)" % path,
                       operation=SIGN_IN_OPERATION)
    certificate = x509.load_pem_x509_certificates(data)[0]
    return key, certificate


def _load_pfx(path, data, secret):
    try:
        key, certificate, _chain = pkcs12.load_key_and_certificates(data, secret)
    except (ValueError, TypeError):
        raise SpoError("cannot open the PFX file %s (wrong certificate_password, or not a PEM/PFX file)" % path,
                       operation=SIGN_IN_OPERATION)
    if key is None or certificate is None:
        raise SpoError("the PFX file %s must hold both the private key and the certificate" % path, operation=SIGN_IN_OPERATION)
    return key, certificate


@functools.lru_cache(maxsize=8)
def _claims(token):
    """The payload of a JWT, unverified; None when the token is not one. Read once per token (a given access_token is
    checked before every request); callers must not change it."""
    parts = (token or "").split(".")
    if len(parts) != 3:
        return None
    try:
        claims = json.loads(base64.urlsafe_b64decode(parts[1] + "=" * (-len(parts[1]) % 4)).decode("utf-8"))
    except (binascii.Error, ValueError):
        return None
    return claims if isinstance(claims, dict) else None


# The application ids Entra also puts in a token's aud claim for SharePoint Online and Microsoft Graph.
_RESOURCE_APP_IDS = {SHAREPOINT: "00000003-0000-0ff1-ce00-000000000000", GRAPH: "00000003-0000-0000-c000-000000000000"}


def access_token_problem(token, resource, resource_host, now):
    """Why a given access token cannot work for `resource` (its host `resource_host`), told from its own claims before
    it is sent, or None (also for a token whose claims cannot be read: the service then judges it)."""
    claims = _claims(token)
    if claims is None:
        return None
    expires = claims.get("exp")
    if isinstance(expires, (int, float)) and expires <= now:
        return ("access_token expired %d seconds ago (at %s UTC): a given token is never renewed; give a new one, or "
                "credentials to sign in with" % (now - expires, time.strftime("%Y-%m-%d %H:%M:%S", time.gmtime(expires))))
    audience = str(claims.get("aud") or "").lower().rstrip("/")
    other = GRAPH if resource == SHAREPOINT else SHAREPOINT
    if audience and (audience == _RESOURCE_APP_IDS[other] or (resource == SHAREPOINT and "graph." in audience)
                     or (resource == GRAPH and ".sharepoint." in audience)):
        return ("access_token is a token for %s (aud %s), and this call goes to %s (%s): a token has one audience; give "
                "one for %s, or credentials to sign in with" % (other, claims.get("aud"), resource, resource_host, resource))
    return None


def token_roles(token):
    """The application permissions an access token carries (its `roles` claim), read from the JWT payload without
    checking the signature (the service checks it; this only tells what the token claims).

    An empty set for an app-only token without application permissions (Entra leaves the claim out then); None when
    the token says nothing about application permissions: not a JWT, or a delegated token (`scp`, no `roles`).
    """
    claims = _claims(token)
    if claims is None or ("scp" in claims and "roles" not in claims):
        return None
    roles = claims.get("roles") or []
    return {role for role in roles if isinstance(role, str)} if isinstance(roles, list) else None


def _version(text):
    """(major, minor) of a version string such as "1.39.0"; (0, 0) when it is not one."""
    match = re.match(r"(\d+)\.(\d+)", text or "")
    return (int(match.group(1)), int(match.group(2))) if match else (0, 0)


# What the sign-in errors met most often mean for whoever set the credentials up, in plain words; Entra's text follows.
# (code, words the description must hold or None, the meaning)
_SIGN_IN_MEANINGS = (
    ("AADSTS700027", "not registered", "the certificate in certificate_path is not registered on the app in this tenant's "
                                       "directory: upload its public part under the app registration's Certificates & "
                                       "secrets, or give the certificate that is registered"),
    ("AADSTS700027", "signature validation", "the private key does not belong to the certificate Entra ID has registered "
                                             "for the app: give the key of that certificate"),
    ("AADSTS700016", None, "no app with this client_id is known in the tenant's directory: check client_id and tenant_id, "
                           "and that an administrator of this tenant has consented to the app"),
    ("AADSTS7000215", None, "the client secret is wrong: give the secret's value (not its id)"),
    ("AADSTS7000222", None, "the client secret has expired: create a new one"),
    ("AADSTS700024", None, "the sign-in assertion is outside its valid time: check this machine's clock"),
    ("AADSTS90002", None, "no such tenant: check tenant and tenant_id"),
    ("AADSTS500011", None, "the tenant has no such service (SharePoint or Graph): check tenant and cloud"),
)


def _meaning(code, description):
    for known, words, meaning in _SIGN_IN_MEANINGS:
        if code == known and (words is None or words in description):
            return meaning
    return None


def error_from_msal(result, operation=SIGN_IN_OPERATION):
    """SpoError from an MSAL error dict (AADSTS code and description; the request carries no secret back)."""
    description = (result.get("error_description") or result.get("error") or "sign-in failed").strip()
    codes = result.get("error_codes") or []
    match = re.search(r"AADSTS\d+", description)
    if match:
        code = match.group(0)
    elif codes:
        code = "AADSTS%s" % codes[0]
    else:
        code = result.get("error")
    # Entra appends "Trace ID: … Correlation ID: … Timestamp: …"; the correlation id is kept as the request id.
    message = re.split(r"\s*Trace ID:", description.splitlines()[0])[0]
    if result.get("error") and result.get("error") not in message:
        message = "%s: %s" % (result["error"], message)
    meaning = _meaning(code, description)
    if meaning:
        message = "%s. Entra ID says: %s" % (meaning, message)
    return SpoError(message, code=code, request_id=result.get("correlation_id") or result.get("trace_id"), operation=operation,
                    details={"error": result.get("error"), "error_codes": codes or None})


class TokenProvider:
    """One token per resource (the tenant's SharePoint, Graph), cached for the run.

    `http_client` is what MSAL sends its requests through (see http.MsalHttpClient),
    so that proxies, CA settings, timeouts and retries are the same as for every other call.
    """

    def __init__(self, credentials, tenant, cloud, http_client=None, clock=time.time):
        self.credentials = credentials
        self.tenant = tenant
        self.cloud = cloud
        self.http_client = http_client
        self._clock = clock
        self._tokens = {}
        self.acquired = {}  # resource -> how many tokens were obtained this run
        self._certificate = None
        self._app = None
        # Workers of one task share the provider: one sign-in per resource, not one per worker.
        self._lock = threading.Lock()

    @property
    def tenant_id(self):
        return self.credentials.tenant_id or "%s.%s" % (self.tenant, self.cloud.default_domain_suffix)

    def scope(self, resource):
        if resource == SHAREPOINT:
            return "https://%s/.default" % self.cloud.sharepoint_host(self.tenant)
        if resource == GRAPH:
            return "https://%s/.default" % self.cloud.graph_host
        raise ValueError("unknown resource %r" % (resource,))

    def can_refresh(self, resource):
        return not self.credentials.access_token

    def token(self, resource):
        """A bearer token for the resource; raises SpoError when it cannot be had."""
        if self.credentials.access_token:
            problem = access_token_problem(self.credentials.access_token, resource, self.scope(resource).split("/")[2],
                                           self._clock())
            if problem:
                raise SpoError(problem, operation=SIGN_IN_OPERATION)
            return self.credentials.access_token
        with self._lock:
            return self._cached_or_new(resource)

    def _cached_or_new(self, resource):
        cached = self._tokens.get(resource)
        if cached and cached[1] > self._clock():
            return cached[0]
        self._check_credentials(resource)
        app = self._msal_app()
        scopes = [self.scope(resource)]
        result = app.acquire_token_for_client(scopes=scopes)
        if not result or "access_token" not in result:
            raise error_from_msal(result or {})
        self.acquired[resource] = self.acquired.get(resource, 0) + 1
        try:
            lifetime = int(result.get("expires_in", 600))
        except (TypeError, ValueError):
            lifetime = 600
        # Short-lived tokens keep most of their life: the margin is at most a tenth of it.
        margin = min(EXPIRY_MARGIN_SECONDS, lifetime / 10.0)
        self._tokens[resource] = (result["access_token"], self._clock() + max(lifetime - margin, 0))
        return result["access_token"]

    def invalidate(self, resource):
        """Forget the resource's token (after a 401). False when there is nothing to refresh."""
        if self.credentials.access_token:
            return False
        self._tokens.pop(resource, None)
        if self._app is not None:
            cache = self._app.token_cache
            for item in list(cache.search(msal.TokenCache.CredentialType.ACCESS_TOKEN, target=[self.scope(resource)])):
                cache.remove_at(item)
        return True

    def _check_credentials(self, resource):
        creds = self.credentials
        if not creds.client_id:
            raise SpoError("client_id is required to sign in (or give access_token)", operation=SIGN_IN_OPERATION)
        if not creds.certificate_path and not creds.client_secret:
            raise SpoError("give certificate_path (or access_token) to sign in", operation=SIGN_IN_OPERATION)
        if resource == SHAREPOINT and not creds.certificate_path:
            raise SpoError(SECRET_FOR_SHAREPOINT_MESSAGE, operation=SIGN_IN_OPERATION)
        if not HAS_MSAL:
            raise SpoError("the msal Python library is required to sign in", operation=SIGN_IN_OPERATION)
        if creds.certificate_path and _version(msal.__version__) < MSAL_SHA256_VERSION:
            # Older MSAL signs only with a SHA-1 thumbprint given to it, and without one sends no thumbprint at all.
            raise SpoError("signing in with a certificate needs the msal Python library %d.%d or later (it signs with "
                           "the certificate's SHA-256 thumbprint, x5t#S256, as Entra ID documents); %s is installed"
                           % (MSAL_SHA256_VERSION + (msal.__version__,)), operation=SIGN_IN_OPERATION)

    def _msal_app(self):
        if self._app is not None:
            return self._app
        creds = self.credentials
        if creds.certificate_path:
            self._certificate = load_certificate(creds.certificate_path, creds.certificate_password)
            client_credential = self._certificate.msal_credential()
        else:
            client_credential = creds.client_secret
        kwargs = {}
        if self.http_client is not None:
            kwargs["http_client"] = self.http_client
        try:
            self._app = msal.ConfidentialClientApplication(
                creds.client_id,
                authority="%s/%s" % (self.cloud.authority_base, self.tenant_id),
                client_credential=client_credential,
                **kwargs
            )
        except ValueError as exc:
            # MSAL validates the authority while building the app (tenant discovery).
            raise SpoError("cannot use the sign-in authority for tenant_id %s: %s" % (self.tenant_id, exc), operation=SIGN_IN_OPERATION)
        return self._app
