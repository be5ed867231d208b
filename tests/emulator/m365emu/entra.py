"""Entra ID: instance discovery, OpenID configuration, the v2.0 token endpoint, and token verification."""

import base64
import hmac
import json
import re
import threading
import time
import uuid
from datetime import datetime, timezone
from urllib.parse import unquote

import jwt

from . import permissions, pki
from .faults import FAULTS
from .store import stable_guid
from .web import HttpError, Response, graph_error, json_response

LOGIN_HOST = "login.microsoftonline.com"
GRAPH_RESOURCE = "https://graph.microsoft.com"
GRAPH_APP_ID = "00000003-0000-0000-c000-000000000000"
SHAREPOINT_APP_ID = "00000003-0000-0ff1-ce00-000000000000"
ASSERTION_TYPE = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer"
DEFAULT_TOKEN_LIFETIME = 3599
CLOCK_SKEW = 30

_SHAREPOINT_SCOPE = re.compile(r"^https://([a-z0-9]+)(-admin|-my)?\.sharepoint\.com/?$")


# --------------------------------------------------------------------------- errors
def entra_error(status, error, code, description):
    trace_id = str(uuid.uuid4())
    correlation_id = str(uuid.uuid4())
    stamp = datetime.now(timezone.utc).strftime("%Y-%m-%d %H:%M:%SZ")
    body = {
        "error": error,
        "error_description": "AADSTS%d: %s Trace ID: %s Correlation ID: %s Timestamp: %s"
                             % (code, description, trace_id, correlation_id, stamp),
        "error_codes": [code], "timestamp": stamp, "trace_id": trace_id, "correlation_id": correlation_id,
        "error_uri": "https://login.microsoftonline.com/error?code=%d" % code,
    }
    return HttpError(json_response(status, body))


# --------------------------------------------------------------------------- endpoints
def handle(store, request):
    parts = [unquote(p) for p in request.path.split("/") if p]
    if len(parts) >= 3 and parts[0] == "common" and parts[1] == "discovery" and parts[2] == "instance":
        return _instance_discovery(request)
    if not parts:
        raise entra_error(404, "invalid_request", 900561, "The endpoint only accepts POST requests.")
    tenant_segment = parts[0]
    rest = "/".join(parts[1:])
    if rest in ("v2.0/.well-known/openid-configuration", ".well-known/openid-configuration"):
        return _openid_configuration(store, tenant_segment, request)
    if rest in ("discovery/v2.0/keys", "discovery/keys"):
        return _keys(store)
    if rest == "oauth2/v2.0/token":
        if request.method != "POST":
            raise entra_error(405, "invalid_request", 900561, "The endpoint only accepts POST requests.")
        return _token(store, request, tenant_segment)
    raise entra_error(404, "invalid_request", 900561, "The endpoint is not supported by the emulator.")


def _instance_discovery(request):
    params = request.query_params()
    endpoint = params.get("authorization_endpoint") or "https://%s/common/oauth2/v2.0/authorize" % LOGIN_HOST
    match = re.match(r"^https://([^/]+)/([^/]+)/", endpoint)
    tenant = match.group(2) if match else "common"
    aliases = [LOGIN_HOST, "login.windows.net", "login.microsoft.com", "sts.windows.net"]
    return json_response(200, {
        "tenant_discovery_endpoint": "https://%s/%s/v2.0/.well-known/openid-configuration" % (LOGIN_HOST, tenant),
        "api-version": "1.1",
        "metadata": [{"preferred_network": LOGIN_HOST, "preferred_cache": "login.windows.net",
                      "aliases": aliases}],
    })


def _resolve_tenant(store, segment):
    tenant = store.tenant_by_id(segment)
    if tenant is None:
        raise entra_error(400, "invalid_request", 90002,
                          "Tenant '%s' not found. Check to make sure you have the correct tenant ID and are "
                          "signing into the correct cloud." % segment)
    return tenant


def _openid_configuration(store, segment, request):
    if segment in ("common", "organizations"):
        tid = "{tenantid}"
    else:
        tenant = _resolve_tenant(store, segment)
        request.tenant = tenant.name
        tid = tenant.tenant_id
    base = "https://%s/%s" % (LOGIN_HOST, segment)
    return json_response(200, {
        "token_endpoint": base + "/oauth2/v2.0/token",
        "token_endpoint_auth_methods_supported": ["client_secret_post", "private_key_jwt", "client_secret_basic"],
        "jwks_uri": base + "/discovery/v2.0/keys",
        "response_modes_supported": ["query", "fragment", "form_post"],
        "subject_types_supported": ["pairwise"],
        "id_token_signing_alg_values_supported": ["RS256"],
        "response_types_supported": ["code", "id_token", "code id_token", "id_token token"],
        "scopes_supported": ["openid", "profile", "email", "offline_access"],
        "issuer": "https://%s/%s/v2.0" % (LOGIN_HOST, tid),
        "request_uri_parameter_supported": False,
        "authorization_endpoint": base + "/oauth2/v2.0/authorize",
        "device_authorization_endpoint": base + "/oauth2/v2.0/devicecode",
        "end_session_endpoint": base + "/oauth2/v2.0/logout",
        "tenant_region_scope": "EU",
        "cloud_instance_name": "microsoftonline.com",
        "msgraph_host": "graph.microsoft.com",
    })


def _keys(store):
    numbers = store.signing_public_key.public_numbers()

    def b64(value):
        raw = value.to_bytes((value.bit_length() + 7) // 8, "big")
        return base64.urlsafe_b64encode(raw).decode().rstrip("=")

    return json_response(200, {"keys": [{"kty": "RSA", "use": "sig", "kid": store.signing_kid,
                                         "x5t": store.signing_kid, "n": b64(numbers.n), "e": b64(numbers.e)}]})


def _resource_for_scope(scope):
    """(audience, kind) for a client-credentials scope, or an Entra error."""
    scopes = scope.split()
    resources = [s for s in scopes if s not in ("openid", "profile", "offline_access")]
    if len(resources) != 1 or not resources[0].endswith("/.default"):
        raise entra_error(400, "invalid_scope", 1002012,
                          "The provided value for scope %s is not valid. Client credential flows must have a scope "
                          "value with /.default suffixed to the resource identifier (application ID URI)." % scope)
    resource = resources[0][:-len("/.default")]
    if resource.rstrip("/") in (GRAPH_RESOURCE, GRAPH_APP_ID):
        return GRAPH_RESOURCE, "graph"
    match = _SHAREPOINT_SCOPE.match(resource.lower())
    if match:
        return "https://%s%s.sharepoint.com" % (match.group(1), match.group(2) or ""), "sharepoint"
    if resource == SHAREPOINT_APP_ID:
        return SHAREPOINT_APP_ID, "sharepoint"
    raise entra_error(400, "invalid_resource", 500011,
                      "The resource principal named %s was not found in the tenant." % resource)


class _CertCache:
    def __init__(self):
        self._lock = threading.Lock()
        self._entries = {}

    def get(self, pem):
        with self._lock:
            entry = self._entries.get(pem)
        if entry is None:
            cert = pki.load_certificate(pem)
            sha1_hex, x5t, x5t_s256 = pki.thumbprints(cert)
            entry = {"key": cert.public_key(), "x5t": x5t, "x5t#S256": x5t_s256, "sha1": sha1_hex}
            with self._lock:
                self._entries[pem] = entry
        return entry


_CERTS = _CertCache()


def _b64url_equal(a, b):
    return isinstance(a, str) and a.rstrip("=") == b.rstrip("=")


def _thumbprint_hex(value):
    """A header thumbprint as Entra prints it in errors: the hash in upper-case hex."""
    try:
        return base64.urlsafe_b64decode(value + "=" * (-len(value) % 4)).hex().upper()
    except (ValueError, TypeError):
        return str(value)


def _registered_certificate(client_id, app, header):
    """The registered certificate the assertion's x5t (SHA-1) or x5t#S256 (SHA-256) names, as Entra finds it;
    AADSTS700027 when it names none, AADSTS50027 when it names no thumbprint at all."""
    thumbprints = [(name, header[name]) for name in ("x5t#S256", "x5t") if header.get(name)]
    if not thumbprints:
        raise entra_error(401, "invalid_client", 50027, "Invalid JWT token. No certificate thumbprint specified in "
                          "token header.")
    for pem in app.get("certificates") or []:
        entry = _CERTS.get(pem)
        if any(_b64url_equal(value, entry[name]) for name, value in thumbprints):
            return entry
    raise entra_error(401, "invalid_client", 700027,
                      "The certificate with identifier used to sign the client assertion is not registered on "
                      "application. [Reason - The key was not found., Thumbprint of key used by client: '%s', Please "
                      "visit the Azure Portal, Graph Explorer or directly use MS Graph to see configured keys for app "
                      "Id '%s'. Review the documentation at https://docs.microsoft.com/en-us/graph/deployments to "
                      "determine the corresponding service endpoint and https://docs.microsoft.com/en-us/graph/api/"
                      "application-get?view=graph-rest-1.0&tabs=http to build a query request URL, such as "
                      "'https://graph.microsoft.com/beta/applications/%s']"
                      % (_thumbprint_hex(thumbprints[0][1]), client_id, client_id))


def _check_assertion(tenant, client_id, app, assertion, accepted_audiences):
    try:
        header = jwt.get_unverified_header(assertion)
        unverified = jwt.decode(assertion, options={"verify_signature": False})
    except jwt.PyJWTError:
        raise entra_error(400, "invalid_client", 50027, "JWT token is invalid or malformed.")
    entry = _registered_certificate(client_id, app, header)
    alg = header.get("alg")
    if alg not in ("RS256", "PS256"):
        raise entra_error(401, "invalid_client", 5002738, "Invalid JWT token. '%s' is not a supported signature "
                          "algorithm." % alg)
    try:
        claims = jwt.decode(assertion, entry["key"], algorithms=[alg], audience=accepted_audiences,
                            leeway=CLOCK_SKEW, options={"require": ["exp", "aud", "iss", "sub"]})
    except jwt.InvalidSignatureError:
        raise entra_error(401, "invalid_client", 700027, "Client assertion failed signature validation.")
    except jwt.ExpiredSignatureError:
        raise entra_error(401, "invalid_client", 700024,
                          "Client assertion is not within its valid time range. Current time: %s, expiry time of "
                          "assertion %s." % (int(time.time()), unverified.get("exp")))
    except jwt.ImmatureSignatureError:
        raise entra_error(401, "invalid_client", 700024, "Client assertion is not within its valid time range.")
    except jwt.InvalidAudienceError:
        raise entra_error(401, "invalid_client", 700212,
                          "No matching federated identity record found for presented assertion audience '%s'."
                          % unverified.get("aud"))
    except jwt.PyJWTError as err:
        raise entra_error(401, "invalid_client", 50027, "Invalid JWT token: %s." % err)
    if claims.get("iss") != claims.get("sub") or str(claims.get("iss")).lower() != client_id:
        raise entra_error(401, "invalid_client", 700021,
                          "Client assertion application identifier doesn't match 'client_id' parameter.")


def _token(store, request, tenant_segment):
    tenant = _resolve_tenant(store, tenant_segment)
    request.tenant = tenant.name
    form = request.form()
    grant_type = form.get("grant_type")
    if grant_type != "client_credentials":
        raise entra_error(400, "unsupported_grant_type", 70003,
                          "The app requested an unsupported grant type '%s'." % grant_type)
    assertion = form.get("client_assertion")
    secret = form.get("client_secret")
    client_id = (form.get("client_id") or "").lower()
    basic = request.headers.get("Authorization") or ""
    if basic.lower().startswith("basic "):
        try:
            user, dummy, password = base64.b64decode(basic[6:]).decode().partition(":")
            client_id, secret = unquote(user).lower(), unquote(password)
        except (ValueError, UnicodeDecodeError):
            raise entra_error(401, "invalid_client", 7000216, "Malformed Basic authorization header.")
    if assertion and not client_id:
        try:
            client_id = str(jwt.decode(assertion, options={"verify_signature": False}).get("iss", "")).lower()
        except jwt.PyJWTError:
            raise entra_error(400, "invalid_client", 50027, "JWT token is invalid or malformed.")
    if not client_id:
        raise entra_error(400, "invalid_request", 900144, "The request body must contain the following parameter: "
                          "'client_id'.")
    app = tenant.apps.get(client_id)
    if app is None:
        raise entra_error(400, "unauthorized_client", 700016,
                          "Application with identifier '%s' was not found in the directory '%s'. This can happen "
                          "if the application has not been installed by the administrator of the tenant."
                          % (client_id, tenant.domain))
    audience, kind = _resource_for_scope(form.get("scope") or "")
    if assertion:
        if form.get("client_assertion_type") != ASSERTION_TYPE:
            raise entra_error(400, "invalid_request", 50027, "Invalid client_assertion_type.")
        endpoints = ["https://%s/%s/oauth2/v2.0/token" % (LOGIN_HOST, seg)
                     for seg in sorted({tenant_segment, tenant.tenant_id, tenant.domain})]
        endpoints += ["https://%s/%s/oauth2/token" % (LOGIN_HOST, seg) for seg in (tenant.tenant_id, tenant.domain)]
        _check_assertion(tenant, client_id, app, assertion, endpoints)
        acr = "2"
    elif secret:
        expected = app.get("secret")
        if not expected or not hmac.compare_digest(expected.encode(), secret.encode()):
            raise entra_error(401, "invalid_client", 7000215,
                              "Invalid client secret provided. Ensure the secret being sent in the request is the "
                              "client secret value, not the client secret ID, for a secret added to app '%s'."
                              % client_id)
        acr = "1"
    else:
        raise entra_error(401, "invalid_client", 7000216,
                          "'client_assertion', 'client_secret' or 'request' is required for the "
                          "'client_credentials' grant type.")
    lifetime = int(FAULTS.get("token_lifetime", DEFAULT_TOKEN_LIFETIME, tenant=tenant.name))
    token = issue_token(store, tenant, client_id, permissions.roles_for(app, kind), audience, acr, lifetime)
    return json_response(200, {"token_type": "Bearer", "expires_in": lifetime, "ext_expires_in": lifetime,
                               "access_token": token})


def issue_token(store, tenant, client_id, roles, audience, acr, lifetime=DEFAULT_TOKEN_LIFETIME, now=None):
    """An access token for one resource; roles are the app's roles on that resource."""
    now = int(time.time() if now is None else now)
    service_principal = stable_guid(tenant.tenant_id, "service-principal", client_id)
    claims = {
        "aud": audience, "iss": "https://sts.windows.net/%s/" % tenant.tenant_id,
        "iat": now, "nbf": now, "exp": now + lifetime,
        "aio": base64.urlsafe_b64encode(uuid.uuid4().bytes).decode().rstrip("="),
        "app_displayname": "emulated app %s" % client_id[:8], "appid": client_id, "appidacr": acr,
        "idp": "https://sts.windows.net/%s/" % tenant.tenant_id, "idtyp": "app",
        "oid": service_principal, "roles": list(roles), "sub": service_principal,
        "tid": tenant.tenant_id, "uti": base64.urlsafe_b64encode(uuid.uuid4().bytes).decode().rstrip("="),
        "ver": "1.0",
    }
    return jwt.encode(claims, store.signing_key, algorithm="RS256",
                      headers={"kid": store.signing_kid, "x5t": store.signing_kid})


# --------------------------------------------------------------------------- verification
_REALM_HEADER = ('Bearer realm="%s",client_id="00000003-0000-0ff1-ce00-000000000000",'
                 'trusted_issuers="00000001-0000-0000-c000-000000000000@*,D3776938-3DBA-481F-A652-4BEDFCAB7CD8@*,'
                 'https://sts.windows.net/*/,https://login.microsoftonline.com/*/v2.0,'
                 '00000003-0000-0ff1-ce00-000000000000@90140122-8516-11e1-8eff-49304924019b",'
                 'authorization_uri="https://login.windows.net/common/oauth2/authorize"')


def _sp_unauthorized(tenant, description, reason):
    realm = tenant.tenant_id if tenant is not None else ""
    body = json.dumps({"error_description": description}).encode()
    return HttpError(Response(401, body, content_type="application/json; charset=utf-8", headers={
        "WWW-Authenticate": _REALM_HEADER % realm,
        "x-ms-diagnostics": '3000003;reason="%s";category="invalid_client"' % reason}))


def _graph_unauthorized(message):
    response = graph_error(401, "InvalidAuthenticationToken", message)
    response.headers["WWW-Authenticate"] = ('Bearer realm="", authorization_uri="https://login.microsoftonline.com/'
                                            'common/oauth2/authorize", client_id="00000003-0000-0000-c000-000000000000"')
    return HttpError(response)


class _TokenCache:
    """Tokens whose signature was already checked (RSA verification is the costly part)."""

    def __init__(self, size=4096):
        self._lock = threading.Lock()
        self._size = size
        self._entries = {}

    def get(self, token):
        return self._entries.get(token)

    def put(self, token, claims):
        with self._lock:
            if len(self._entries) >= self._size:
                self._entries.clear()
            self._entries[token] = claims


_VERIFIED = _TokenCache()


def _decode(store, token):
    claims = _VERIFIED.get(token)
    if claims is None:
        claims = jwt.decode(token, store.signing_public_key, algorithms=["RS256"],
                            options={"verify_exp": False, "verify_aud": False, "verify_nbf": False,
                                     "verify_iat": False})
        _VERIFIED.put(token, claims)
    return claims


def verify_bearer(store, request, resource, tenant=None):
    """Check the request's bearer token for `resource` ("sharepoint" or "graph"); returns its claims.

    For SharePoint the tenant is the one owning request.host unless given (a Tenant or a name).
    Sets request.tenant to the token's tenant name once the token is valid.
    """
    if resource not in ("sharepoint", "graph"):
        raise ValueError("resource must be sharepoint or graph")
    if isinstance(tenant, str):
        tenant = store.tenant(tenant)
    if resource == "sharepoint" and tenant is None:
        tenant = store.tenant_by_host(request.host)

    def fail(description, reason):
        if resource == "sharepoint":
            return _sp_unauthorized(tenant, description, reason)
        return _graph_unauthorized(description)

    header = request.headers.get("Authorization") or ""
    scheme, dummy, token = header.partition(" ")
    token = token.strip()
    if scheme.lower() != "bearer" or not token:
        raise fail("Invalid JWT token. No token provided." if resource == "sharepoint" else
                   "Access token is empty.", "Token is missing")
    try:
        claims = _decode(store, token)
    except jwt.PyJWTError:
        if resource == "sharepoint":
            raise fail("Invalid issuer or signature.", "Token contains invalid signature.")
        raise fail("Access token validation failure. Invalid signature.", "invalid signature")
    now = time.time()
    if claims.get("exp", 0) <= now:
        raise fail("Invalid JWT token. The token is expired." if resource == "sharepoint" else
                   "Lifetime validation failed, the token is expired.", "Token expired")
    if claims.get("nbf", 0) > now + CLOCK_SKEW:
        raise fail("Invalid JWT token. The token is not yet valid.", "Token not yet valid")
    token_tenant = store.tenant_by_id(claims.get("tid"))
    aud = str(claims.get("aud", "")).lower().rstrip("/")
    if resource == "sharepoint":
        if tenant is None or token_tenant is not tenant:
            raise fail("Invalid issuer or signature.", "Token issuer does not match the tenant.")
        accepted = {"https://%s%s.sharepoint.com" % (tenant.name, suffix) for suffix in ("", "-admin", "-my")}
        accepted.add(SHAREPOINT_APP_ID)
        accepted.add("%s/%s.sharepoint.com@%s" % (SHAREPOINT_APP_ID, tenant.name, tenant.tenant_id))
        if aud not in accepted:
            raise fail("Invalid issuer or signature.", "Invalid audience Uri '%s'." % claims.get("aud"))
        if claims.get("appidacr") == "1":
            raise fail("Unsupported app only token.", "Unsupported app only token.")
    else:
        if token_tenant is None or (tenant is not None and token_tenant is not tenant):
            raise fail("Access token validation failure. Invalid issuer.", "invalid issuer")
        if aud not in (GRAPH_RESOURCE, GRAPH_APP_ID):
            raise fail("Access token validation failure. Invalid audience.", "invalid audience")
    request.tenant = token_tenant.name
    return claims
