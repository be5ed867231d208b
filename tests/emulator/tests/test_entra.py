"""Entra ID: discovery, OpenID configuration, client credentials (certificate and secret), token checks."""

import base64
import hashlib
import time
import uuid

import jwt
import pytest
from cryptography import x509
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

from .conftest import SECRET_CLIENT_ID, TEST_CLIENT_ID, TEST_SECRET, app_certificate, app_pem

LOGIN = "https://login.microsoftonline.com"
ASSERTION_TYPE = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer"


def b64url(data):
    return base64.urlsafe_b64encode(data).decode().rstrip("=")


def decode(token):
    return jwt.decode(token, options={"verify_signature": False})


def test_instance_discovery(emulator):
    response = emulator.session().get(LOGIN + "/common/discovery/instance", params={
        "api-version": "1.1", "authorization_endpoint": LOGIN + "/contoso.onmicrosoft.com/oauth2/v2.0/authorize"})
    body = response.json()
    assert response.status_code == 200
    assert body["tenant_discovery_endpoint"] == LOGIN + "/contoso.onmicrosoft.com/v2.0/.well-known/openid-configuration"
    assert body["api-version"] == "1.1"
    assert LOGIN[8:] in body["metadata"][0]["aliases"]


def test_openid_configuration_by_guid_and_domain(emulator):
    created = emulator.create_tenant()
    session = emulator.session()
    for segment in (created["tenant_id"], created["name"] + ".onmicrosoft.com"):
        body = session.get(LOGIN + "/%s/v2.0/.well-known/openid-configuration" % segment).json()
        assert body["token_endpoint"] == LOGIN + "/%s/oauth2/v2.0/token" % segment
        assert body["issuer"] == LOGIN + "/%s/v2.0" % created["tenant_id"]


def test_unknown_tenant(emulator):
    response = emulator.session().get(LOGIN + "/nosuch.onmicrosoft.com/v2.0/.well-known/openid-configuration")
    assert response.status_code == 400
    assert response.json()["error"] == "invalid_request"
    assert response.json()["error_description"].startswith("AADSTS90002:")


@pytest.mark.parametrize("credential", ["thumbprint", "public_certificate"])
def test_msal_certificate_flow(emulator, credential):
    created = emulator.create_tenant()
    app = emulator.msal_app(created["tenant_id"], credential=credential)
    result = app.acquire_token_for_client(["https://%s.sharepoint.com/.default" % created["name"]])
    assert "access_token" in result, result
    claims = decode(result["access_token"])
    assert claims["aud"] == "https://%s.sharepoint.com" % created["name"]
    assert claims["tid"] == created["tenant_id"]
    assert claims["appid"] == TEST_CLIENT_ID
    assert claims["appidacr"] == "2"
    assert set(claims["roles"]) == {"Sites.FullControl.All", "User.ReadWrite.All", "ProfilePhoto.ReadWrite.All"}
    assert claims["exp"] - claims["iat"] == 3599
    assert result["expires_in"] == 3599


def test_msal_secret_flow_and_graph_audience(emulator, tenant):
    claims = decode(emulator.token(tenant, "graph", credential="secret"))
    assert claims["aud"] == "https://graph.microsoft.com"
    assert claims["appid"] == SECRET_CLIENT_ID
    assert claims["appidacr"] == "1"


def token_request(emulator, tenant, **form):
    form.setdefault("grant_type", "client_credentials")
    form.setdefault("scope", "https://%s.sharepoint.com/.default" % tenant)
    return emulator.session().post(LOGIN + "/%s.onmicrosoft.com/oauth2/v2.0/token" % tenant, data=form)


def assertion(tenant, key=None, alg="RS256", header=None, **claims):
    cert = x509.load_pem_x509_certificate(app_certificate().encode())
    der = cert.public_bytes(serialization.Encoding.DER)
    if header is None:
        header = ({"x5t": b64url(hashlib.sha1(der).digest())} if alg == "RS256"
                  else {"x5t#S256": b64url(hashlib.sha256(der).digest())})
    now = time.time()
    payload = {"aud": LOGIN + "/%s.onmicrosoft.com/oauth2/v2.0/token" % tenant, "iss": TEST_CLIENT_ID,
               "sub": TEST_CLIENT_ID, "exp": now + 600, "iat": now, "nbf": now, "jti": str(uuid.uuid4())}
    payload.update(claims)
    if key is None:
        key = serialization.load_pem_private_key(app_pem().encode(), password=None)
    return jwt.encode(payload, key, algorithm=alg, headers=header)


def thumbprints(cert_pem=None):
    cert = x509.load_pem_x509_certificate((cert_pem or app_certificate()).encode())
    der = cert.public_bytes(serialization.Encoding.DER)
    return {"x5t": b64url(hashlib.sha1(der).digest()), "x5t#S256": b64url(hashlib.sha256(der).digest())}


def self_signed():
    """(certificate PEM, private key) of a throwaway certificate."""
    import datetime

    from cryptography.hazmat.primitives import hashes
    from cryptography.x509.oid import NameOID

    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "other app")])
    now = datetime.datetime.now(datetime.timezone.utc)
    cert = (x509.CertificateBuilder().subject_name(name).issuer_name(name).public_key(key.public_key())
            .serial_number(x509.random_serial_number()).not_valid_before(now)
            .not_valid_after(now + datetime.timedelta(days=1)).sign(key, hashes.SHA256()))
    return cert.public_bytes(serialization.Encoding.PEM).decode(), key


@pytest.mark.parametrize("alg", ["RS256", "PS256"])
@pytest.mark.parametrize("names", [("x5t",), ("x5t#S256",), ("x5t", "x5t#S256")])
def test_hand_made_assertions_are_accepted_with_either_thumbprint_and_either_algorithm(emulator, tenant, alg, names):
    header = {name: value for name, value in thumbprints().items() if name in names}
    response = token_request(emulator, tenant, client_id=TEST_CLIENT_ID, client_assertion_type=ASSERTION_TYPE,
                             client_assertion=assertion(tenant, alg=alg, header=header))
    assert response.status_code == 200, response.text
    assert decode(response.json()["access_token"])["appidacr"] == "2"


def test_an_app_with_two_certificates_signs_with_either(emulator):
    other_pem, other_key = self_signed()
    name = emulator.create_tenant(apps=[{"client_id": TEST_CLIENT_ID, "certificates": [other_pem, app_certificate()],
                                         "roles": ["Sites.FullControl.All"]}])["name"]
    for key, pem in ((None, app_certificate()), (other_key, other_pem)):
        response = token_request(emulator, name, client_id=TEST_CLIENT_ID, client_assertion_type=ASSERTION_TYPE,
                                 client_assertion=assertion(name, key=key, alg="PS256",
                                                            header={"x5t#S256": thumbprints(pem)["x5t#S256"]}))
        assert response.status_code == 200, response.text


@pytest.mark.parametrize("name", ["x5t", "x5t#S256"])
def test_a_certificate_that_is_not_registered_is_refused_naming_its_thumbprint(emulator, tenant, name):
    other_pem, other_key = self_signed()
    value = thumbprints(other_pem)[name]
    response = token_request(emulator, tenant, client_id=TEST_CLIENT_ID, client_assertion_type=ASSERTION_TYPE,
                             client_assertion=assertion(tenant, key=other_key, header={name: value}))
    assert response.status_code == 401
    body = response.json()
    assert body["error"] == "invalid_client" and body["error_codes"] == [700027]
    hex_thumbprint = base64.urlsafe_b64decode(value + "=" * (-len(value) % 4)).hex().upper()
    assert body["error_description"].startswith(
        "AADSTS700027: The certificate with identifier used to sign the client assertion is not registered on "
        "application. [Reason - The key was not found., Thumbprint of key used by client: '%s'" % hex_thumbprint)
    assert "app Id '%s'" % TEST_CLIENT_ID in body["error_description"]


def test_an_assertion_without_a_thumbprint_is_refused(emulator, tenant):
    response = token_request(emulator, tenant, client_id=TEST_CLIENT_ID, client_assertion_type=ASSERTION_TYPE,
                             client_assertion=assertion(tenant, header={}))
    assert response.status_code == 401
    assert response.json()["error_description"].startswith(
        "AADSTS50027: Invalid JWT token. No certificate thumbprint specified in token header.")


@pytest.mark.parametrize("change, code", [
    ({"key": "other"}, "AADSTS700027"),
    ({"exp": time.time() - 3600, "iat": time.time() - 4000, "nbf": time.time() - 4000}, "AADSTS700024"),
    ({"nbf": time.time() + 3600}, "AADSTS700024"),
    ({"aud": "https://login.microsoftonline.com/other/oauth2/v2.0/token"}, "AADSTS700212"),
    ({"iss": "someone-else", "sub": "someone-else"}, "AADSTS700021"),
    ({"header": {"x5t": b64url(b"0" * 20)}}, "AADSTS700027"),
])
def test_bad_assertions_are_refused(emulator, tenant, change, code):
    change = dict(change)
    if change.get("key") == "other":
        change["key"] = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    response = token_request(emulator, tenant, client_id=TEST_CLIENT_ID, client_assertion_type=ASSERTION_TYPE,
                             client_assertion=assertion(tenant, **change))
    assert response.status_code == 401
    body = response.json()
    assert body["error"] == "invalid_client"
    assert body["error_description"].startswith(code + ":"), body


def test_wrong_secret(emulator, tenant):
    response = token_request(emulator, tenant, client_id=SECRET_CLIENT_ID, client_secret="wrong")
    assert response.status_code == 401
    assert response.json()["error_description"].startswith("AADSTS7000215:")


def test_certificate_app_cannot_use_a_secret_nor_the_secret_app_an_assertion(emulator, tenant):
    response = token_request(emulator, tenant, client_id=TEST_CLIENT_ID, client_secret=TEST_SECRET)
    assert response.status_code == 401
    response = token_request(emulator, tenant, client_id=SECRET_CLIENT_ID, client_assertion_type=ASSERTION_TYPE,
                             client_assertion=assertion(tenant, iss=SECRET_CLIENT_ID, sub=SECRET_CLIENT_ID))
    assert response.status_code == 401
    assert response.json()["error_description"].startswith("AADSTS700027:")


def test_unknown_client_bad_scope_bad_grant_missing_credentials(emulator, tenant):
    response = token_request(emulator, tenant, client_id=str(uuid.uuid4()), client_secret="x")
    assert (response.status_code, response.json()["error"]) == (400, "unauthorized_client")
    assert response.json()["error_description"].startswith("AADSTS700016:")
    response = token_request(emulator, tenant, client_id=SECRET_CLIENT_ID, client_secret=TEST_SECRET,
                             scope="https://%s.sharepoint.com/AllSites.Read" % tenant)
    assert (response.status_code, response.json()["error"]) == (400, "invalid_scope")
    assert response.json()["error_description"].startswith("AADSTS1002012:")
    response = token_request(emulator, tenant, client_id=SECRET_CLIENT_ID, client_secret=TEST_SECRET,
                             grant_type="password")
    assert (response.status_code, response.json()["error"]) == (400, "unsupported_grant_type")
    response = token_request(emulator, tenant, client_id=SECRET_CLIENT_ID)
    assert (response.status_code, response.json()["error"]) == (401, "invalid_client")


def test_msal_reports_entra_errors(emulator, tenant):
    app = emulator.msal_app("%s.onmicrosoft.com" % tenant, SECRET_CLIENT_ID, "not-the-secret")
    result = app.acquire_token_for_client(["https://graph.microsoft.com/.default"])
    assert result["error"] == "invalid_client"
    assert "AADSTS7000215" in result["error_description"]


# --------------------------------------------------------------------------- token verification
def mint(emulator, tenant, **claims):
    claims.setdefault("client_id", TEST_CLIENT_ID)
    response = emulator.control("POST", "tenants/%s/tokens" % tenant, json=claims)
    assert response.status_code == 200, response.text
    return response.json()["access_token"]


def sharepoint_call(emulator, tenant, token, host_suffix=""):
    return emulator.session().post("https://%s%s.sharepoint.com/_api/contextinfo" % (tenant, host_suffix),
                                   headers={"Authorization": "Bearer " + token, "Accept": "application/json"})


def test_sharepoint_accepts_a_certificate_token_on_every_host(emulator, tenant):
    token = emulator.token(tenant)
    for suffix in ("", "-admin", "-my"):
        assert sharepoint_call(emulator, tenant, token, suffix).status_code == 200


def test_sharepoint_refuses_secret_tokens(emulator, tenant):
    response = sharepoint_call(emulator, tenant, emulator.token(tenant, credential="secret"))
    assert response.status_code == 401
    assert response.json()["error_description"] == "Unsupported app only token."
    assert response.headers["WWW-Authenticate"].startswith("Bearer realm=")


@pytest.mark.parametrize("case", ["wrong_audience", "expired", "other_tenant", "bad_signature", "missing"])
def test_sharepoint_refuses_bad_tokens(emulator, tenant, case):
    other = emulator.create_tenant()["name"]
    if case == "wrong_audience":
        token = mint(emulator, tenant, audience="https://graph.microsoft.com")
    elif case == "expired":
        token = mint(emulator, tenant, now=time.time() - 7200, lifetime=3599)
    elif case == "other_tenant":
        token = mint(emulator, other, audience="https://%s.sharepoint.com" % tenant)
    elif case == "bad_signature":
        token = mint(emulator, tenant)
        head, payload, signature = token.split(".")
        token = ".".join((head, payload, signature[::-1]))
    else:
        token = ""
    response = emulator.session().post("https://%s.sharepoint.com/_api/contextinfo" % tenant,
                                       headers={"Authorization": "Bearer " + token} if token else {})
    assert response.status_code == 401
    assert "error_description" in response.json()
    if case in ("wrong_audience", "other_tenant", "bad_signature"):
        assert response.json()["error_description"] == "Invalid issuer or signature."


def test_graph_refuses_bad_tokens(emulator, tenant):
    session = emulator.session()
    sharepoint_token = mint(emulator, tenant)
    expired_token = mint(emulator, tenant, audience="https://graph.microsoft.com", now=time.time() - 7200)
    for token in (sharepoint_token, expired_token):
        response = session.get("https://graph.microsoft.com/v1.0/users", headers={"Authorization": "Bearer " + token})
        assert response.status_code == 401
        assert response.json()["error"]["code"] == "InvalidAuthenticationToken"


class FakeRequest:
    def __init__(self, host, token):
        self.host = host
        self.headers = {"Authorization": "Bearer " + token}
        self.tenant = None


def test_verify_bearer_directly(tmp_path):
    from m365emu import entra
    from m365emu.store import Store
    from m365emu.web import HttpError

    store = Store(str(tmp_path))
    tenant = store.create_tenant({"name": "direct", "apps": [
        {"client_id": TEST_CLIENT_ID, "certificate_pem": app_certificate(), "roles": ["User.Read.All"]}]})
    token = entra.issue_token(store, tenant, TEST_CLIENT_ID, ["User.Read.All"], "https://direct.sharepoint.com", "2")
    request = FakeRequest("direct-my.sharepoint.com", token)
    claims = entra.verify_bearer(store, request, "sharepoint")
    assert claims["tid"] == tenant.tenant_id and request.tenant == "direct"
    secret_token = entra.issue_token(store, tenant, TEST_CLIENT_ID, [], "https://direct.sharepoint.com", "1")
    with pytest.raises(HttpError) as raised:
        entra.verify_bearer(store, FakeRequest("direct.sharepoint.com", secret_token), "sharepoint")
    assert raised.value.response.status == 401
    assert b"Unsupported app only token." in raised.value.response.body
    graph_token = entra.issue_token(store, tenant, TEST_CLIENT_ID, [], "https://graph.microsoft.com", "1")
    assert entra.verify_bearer(store, FakeRequest("graph.microsoft.com", graph_token), "graph")["aud"] == \
        "https://graph.microsoft.com"
