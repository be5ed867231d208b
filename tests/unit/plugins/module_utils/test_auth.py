# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

import base64
import datetime
import json
import threading
from concurrent.futures import ThreadPoolExecutor
from urllib.parse import parse_qs

import jwt
import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.hazmat.primitives.serialization import pkcs12
from cryptography.x509.oid import NameOID
from msal.oauth2cli.assertion import JwtAssertionCreator

from ansible_collections.spo.user_profiles.plugins.module_utils import auth
from ansible_collections.spo.user_profiles.plugins.module_utils.errors import SpoError

PASSWORD = "p@ss-W0rd!"
SECRET = "client~secret.value"


@pytest.fixture(scope="module")
def key_and_cert():
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "spo.user_profiles unit test")])
    now = datetime.datetime.now(datetime.timezone.utc)
    cert = (x509.CertificateBuilder().subject_name(name).issuer_name(name).public_key(key.public_key())
            .serial_number(x509.random_serial_number()).not_valid_before(now - datetime.timedelta(days=1))
            .not_valid_after(now + datetime.timedelta(days=30)).sign(key, hashes.SHA256()))
    return key, cert


def _pem(key, cert, password=None):
    encryption = serialization.BestAvailableEncryption(password.encode()) if password else serialization.NoEncryption()
    return key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, encryption) + cert.public_bytes(serialization.Encoding.PEM)


@pytest.fixture
def pem_path(tmp_path, key_and_cert):
    path = tmp_path / "app.pem"
    path.write_bytes(_pem(*key_and_cert))
    return str(path)


def test_clouds_have_their_hosts():
    assert auth.get_cloud("public").sharepoint_host("contoso", "admin") == "contoso-admin.sharepoint.com"
    assert auth.get_cloud("gcc").login_host == "login.microsoftonline.com"
    gcc_high = auth.get_cloud("gcc_high")
    assert (gcc_high.login_host, gcc_high.sharepoint_suffix, gcc_high.graph_host) == ("login.microsoftonline.us", "sharepoint.us", "graph.microsoft.us")
    dod = auth.get_cloud("dod")
    assert (dod.sharepoint_host("contoso", "my"), dod.graph_host) == ("contoso-my.sharepoint-mil.us", "dod-graph.microsoft.us")
    china = auth.get_cloud("china")
    assert (china.login_host, china.sharepoint_suffix, china.graph_url) == (
        "login.chinacloudapi.cn", "sharepoint.cn", "https://microsoftgraph.chinacloudapi.cn/v1.0")
    with pytest.raises(SpoError, match="unknown cloud"):
        auth.get_cloud("moon")


@pytest.mark.parametrize("given", ["contoso", "Contoso", "contoso.onmicrosoft.com", "https://contoso.sharepoint.com",
                                   "https://contoso-admin.sharepoint.com/", "contoso-my.sharepoint.com"])
def test_normalize_tenant(given):
    assert auth.normalize_tenant(given) == "contoso"


@pytest.mark.parametrize("given", ["con toso", "", "north-wind", "a" * 28, "contoso_1"])
def test_normalize_tenant_refuses_what_is_not_a_tenant_name(given):
    with pytest.raises(SpoError, match="is not a tenant name"):
        auth.normalize_tenant(given)


def test_load_pem_certificate(pem_path, key_and_cert):
    _key, cert = key_and_cert
    loaded = auth.load_certificate(pem_path)
    assert loaded.sha1_thumbprint == cert.fingerprint(hashes.SHA1()).hex().upper()
    assert loaded.sha256_thumbprint == cert.fingerprint(hashes.SHA256()).hex().upper()
    assert loaded.private_key.public_key().public_numbers() == cert.public_key().public_numbers()
    assert loaded.msal_credential() == {"private_key": loaded.private_key, "public_certificate": loaded.certificate_pem}
    assert x509.load_pem_x509_certificate(loaded.certificate_pem.encode()) == cert
    assert "PRIVATE" not in repr(loaded)


def test_msal_signs_with_the_loaded_key_object(pem_path, key_and_cert):
    """The credential MSAL gets holds a key object, not PEM text: its assertion must still verify with the certificate."""
    _key, cert = key_and_cert
    credential = auth.load_certificate(pem_path).msal_credential()
    creator = JwtAssertionCreator(credential["private_key"], "PS256", sha256_thumbprint=cert.fingerprint(hashes.SHA256()).hex())
    token = creator.create_normal_assertion(audience="https://login.example/token", issuer="client")
    claims = jwt.decode(token, cert.public_key(), algorithms=["PS256"], audience="https://login.example/token")
    assert claims["iss"] == "client"
    assert jwt.get_unverified_header(token)["x5t#S256"]


def test_load_encrypted_pem_and_pfx(tmp_path, key_and_cert):
    key, cert = key_and_cert
    encrypted = tmp_path / "enc.pem"
    encrypted.write_bytes(_pem(key, cert, PASSWORD))
    pfx = tmp_path / "app.pfx"
    pfx.write_bytes(pkcs12.serialize_key_and_certificates(b"app", key, cert, None,
                                                          serialization.BestAvailableEncryption(PASSWORD.encode())))
    expected = cert.fingerprint(hashes.SHA1()).hex().upper()
    assert auth.load_certificate(str(encrypted), PASSWORD).sha1_thumbprint == expected
    assert auth.load_certificate(str(pfx), PASSWORD).sha1_thumbprint == expected


@pytest.mark.parametrize("kind, password, message", [
    ("enc", None, "is encrypted; set certificate_password"),
    ("enc", "wrong-password", "wrong certificate_password"),
    ("pfx", "wrong-password", "wrong certificate_password"),
    ("junk", None, "not a PEM/PFX"),
    ("cert-only", None, "holds no private key"),
])
def test_certificate_errors_are_clear_and_hide_the_password(tmp_path, key_and_cert, kind, password, message):
    key, cert = key_and_cert
    path = tmp_path / "c"
    if kind == "enc":
        path.write_bytes(_pem(key, cert, PASSWORD))
    elif kind == "pfx":
        path.write_bytes(pkcs12.serialize_key_and_certificates(b"a", key, cert, None, serialization.BestAvailableEncryption(PASSWORD.encode())))
    elif kind == "junk":
        path.write_bytes(b"\x00\x01junk")
    else:
        path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    with pytest.raises(SpoError, match=message) as caught:
        auth.load_certificate(str(path), password)
    assert PASSWORD not in str(caught.value) and "wrong-password" not in str(caught.value)
    assert caught.value.operation == "sign in"


def test_the_text_of_a_pem_given_as_its_path_is_refused_and_not_shown():
    text = "-----BEGIN PRIVATE KEY-----\nMIIEvQIBADANBgkqhkiG9w0BAQEFAASC\n-----END PRIVATE KEY-----\n"
    with pytest.raises(SpoError, match="certificate_path holds the text of a PEM file, not a path") as caught:
        auth.load_certificate(text)
    assert "MIIEvQ" not in str(caught.value)


def test_missing_certificate_file(tmp_path):
    with pytest.raises(SpoError, match="cannot read certificate_path"):
        auth.load_certificate(str(tmp_path / "nope.pem"))


class FakeApp:
    """Stands in for msal.ConfidentialClientApplication."""

    instances = []

    def __init__(self, client_id, authority=None, client_credential=None, http_client=None):
        self.client_id, self.authority, self.client_credential, self.http_client = client_id, authority, client_credential, http_client
        self.requests = []
        self.answers = []
        self.token_cache = FakeCache()
        FakeApp.instances.append(self)

    def acquire_token_for_client(self, scopes):
        self.requests.append(scopes)
        if self.answers:
            return self.answers.pop(0)
        return {"access_token": "at-%d" % len(self.requests), "expires_in": 3599, "token_type": "Bearer"}


class FakeCache:
    def __init__(self):
        self.removed = []

    def search(self, credential_type, target=None):
        return [{"target": target}]

    def remove_at(self, item):
        self.removed.append(item)


class Clock:
    def __init__(self):
        self.now = 0.0

    def __call__(self):
        return self.now


@pytest.fixture
def fake_msal(monkeypatch):
    FakeApp.instances = []
    monkeypatch.setattr(auth.msal, "ConfidentialClientApplication", FakeApp)
    return FakeApp


def provider(clock=None, **credentials):
    return auth.TokenProvider(auth.Credentials(**credentials), "contoso", auth.get_cloud("public"), http_client="HTTP", clock=clock or Clock())


def test_certificate_tokens_per_resource_are_cached(fake_msal, pem_path):
    clock = Clock()
    tokens = provider(clock, client_id="app", certificate_path=pem_path)
    first = tokens.token(auth.SHAREPOINT)
    assert tokens.token(auth.SHAREPOINT) == first
    graph = tokens.token(auth.GRAPH)
    assert graph != first
    app = fake_msal.instances[0]
    assert len(fake_msal.instances) == 1
    assert app.authority == "https://login.microsoftonline.com/contoso.onmicrosoft.com"
    assert app.http_client == "HTTP"
    assert "thumbprint" not in app.client_credential
    assert app.client_credential["public_certificate"] == auth.load_certificate(pem_path).certificate_pem
    assert app.requests == [["https://contoso.sharepoint.com/.default"], ["https://graph.microsoft.com/.default"]]


def test_workers_of_a_task_sign_in_once(fake_msal, pem_path):
    tokens = provider(client_id="app", certificate_path=pem_path)
    start = threading.Barrier(8)

    def worker(_number):
        start.wait(5)
        return tokens.token(auth.SHAREPOINT)

    with ThreadPoolExecutor(max_workers=8) as pool:
        issued = set(pool.map(worker, range(8)))
    assert issued == {"at-1"}
    assert tokens.acquired == {auth.SHAREPOINT: 1}


def test_tokens_are_renewed_before_they_expire(fake_msal, pem_path):
    clock = Clock()
    tokens = provider(clock, client_id="app", certificate_path=pem_path)
    first = tokens.token(auth.SHAREPOINT)
    clock.now = 3599 - auth.EXPIRY_MARGIN_SECONDS - 1
    assert tokens.token(auth.SHAREPOINT) == first
    clock.now += 2
    assert tokens.token(auth.SHAREPOINT) != first


def test_invalidate_forgets_the_token_and_msal_cache(fake_msal, pem_path):
    tokens = provider(client_id="app", certificate_path=pem_path)
    first = tokens.token(auth.SHAREPOINT)
    assert tokens.invalidate(auth.SHAREPOINT) is True
    assert tokens.token(auth.SHAREPOINT) != first
    assert fake_msal.instances[0].token_cache.removed == [{"target": ["https://contoso.sharepoint.com/.default"]}]


def test_a_secret_for_sharepoint_is_refused_before_any_call(fake_msal):
    tokens = provider(client_id="app", client_secret=SECRET)
    with pytest.raises(SpoError) as caught:
        tokens.token(auth.SHAREPOINT)
    assert "certificate" in str(caught.value) and "Unsupported app only token" in str(caught.value)
    assert SECRET not in str(caught.value)
    assert fake_msal.instances == []
    # Graph accepts a secret.
    assert tokens.token(auth.GRAPH) == "at-1"
    assert fake_msal.instances[0].client_credential == SECRET


def test_a_given_access_token_is_used_as_is(fake_msal):
    tokens = provider(access_token="given.token.value")
    assert tokens.token(auth.SHAREPOINT) == "given.token.value"
    assert tokens.token(auth.GRAPH) == "given.token.value"
    assert tokens.can_refresh(auth.SHAREPOINT) is False
    assert tokens.invalidate(auth.SHAREPOINT) is False
    assert fake_msal.instances == []


def test_missing_credentials_are_explained(fake_msal):
    with pytest.raises(SpoError, match="client_id is required"):
        provider(certificate_path="/x").token(auth.GRAPH)
    # Not a client secret: SharePoint, which every module calls, refuses tokens obtained with one.
    with pytest.raises(SpoError, match=r"^sign in: give certificate_path \(or access_token\) to sign in$"):
        provider(client_id="app").token(auth.GRAPH)


def test_msal_errors_carry_the_aadsts_code_and_never_the_secret(fake_msal):
    tokens = provider(client_id="app", client_secret=SECRET, tenant_id="11111111-2222-3333-4444-555555555555")
    tokens._msal_app().answers.append({
        "error": "invalid_client",
        "error_description": "AADSTS7000215: Invalid client secret provided. Ensure the secret being sent in the request is the client "
                             "secret value.\r\nTrace ID: t-1\r\nCorrelation ID: c-1\r\nTimestamp: 2024-01-01 00:00:00Z",
        "error_codes": [7000215], "correlation_id": "c-1", "trace_id": "t-1"})
    with pytest.raises(SpoError) as caught:
        tokens.token(auth.GRAPH)
    err = caught.value
    assert err.code == "AADSTS7000215" and err.request_id == "c-1" and err.operation == "sign in"
    assert err.message.startswith("the client secret is wrong: give the secret's value (not its id). Entra ID says: "
                                  "invalid_client: AADSTS7000215: Invalid client secret provided.")
    assert "Trace ID" not in err.message
    assert SECRET not in str(err)
    assert fake_msal.instances[0].authority.endswith("/11111111-2222-3333-4444-555555555555")


@pytest.mark.parametrize("description, meaning", [
    ("AADSTS700027: The certificate with identifier used to sign the client assertion is not registered on application.",
     "the certificate in certificate_path is not registered on the app"),
    ("AADSTS700027: Client assertion failed signature validation.", "the private key does not belong to the certificate"),
    ("AADSTS700016: Application with identifier 'x' was not found in the directory 'y'.", "no app with this client_id"),
    ("AADSTS90002: Tenant 'nope' not found.", "no such tenant"),
    ("AADSTS50011: The redirect URI does not match.", None),
])
def test_sign_in_errors_say_what_they_mean_before_entras_text(description, meaning):
    err = auth.error_from_msal({"error": "invalid_client", "error_description": description + "\r\nTrace ID: t"})
    assert err.message.endswith("invalid_client: " + description)
    if meaning:
        assert err.message.startswith(meaning) and ". Entra ID says: " in err.message
    else:
        assert err.message == "invalid_client: " + description


def test_a_key_that_does_not_belong_to_its_certificate_is_refused_before_any_sign_in(tmp_path, pem_path):
    other_key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    with open(pem_path, "rb") as handle:
        certificate = x509.load_pem_x509_certificates(handle.read())[0]
    mixed = tmp_path / "mixed.pem"
    mixed.write_bytes(other_key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                              serialization.NoEncryption())
                      + certificate.public_bytes(serialization.Encoding.PEM))
    with pytest.raises(SpoError) as caught:
        auth.load_certificate(str(mixed))
    assert "does not belong to its certificate (thumbprint %s)" % certificate.fingerprint(hashes.SHA1()).hex().upper() \
        in caught.value.message


def test_an_msal_too_old_to_sign_with_the_sha256_thumbprint_is_named(fake_msal, pem_path, monkeypatch):
    monkeypatch.setattr(auth.msal, "__version__", "1.34.0")
    with pytest.raises(SpoError) as caught:
        provider(client_id="app", certificate_path=pem_path).token(auth.SHAREPOINT)
    assert "msal Python library 1.35 or later" in caught.value.message and "1.34.0 is installed" in caught.value.message
    assert fake_msal.instances == []


def test_credentials_repr_hides_secrets():
    creds = auth.Credentials(client_id="app", client_secret=SECRET, certificate_password=PASSWORD, access_token="tok")
    assert SECRET not in repr(creds) and PASSWORD not in repr(creds) and "tok'" not in repr(creds)
    assert sorted(creds.secrets()) == sorted([SECRET, PASSWORD, "tok"])


class FakeHttp:
    """What real MSAL sends through the http_client, answered like Entra ID."""

    def __init__(self):
        self.posts = []

    class Response:
        def __init__(self, body, status=200):
            self.status_code = status
            self.text = json.dumps(body)
            self.headers = {}

        def raise_for_status(self):
            pass

    def get(self, url, params=None, headers=None, **kwargs):
        base = url.split("/v2.0/")[0]
        return self.Response({"issuer": base + "/v2.0", "authorization_endpoint": base + "/oauth2/v2.0/authorize",
                              "token_endpoint": base + "/oauth2/v2.0/token"})

    def post(self, url, params=None, data=None, headers=None, **kwargs):
        self.posts.append((url, data))
        return self.Response({"token_type": "Bearer", "expires_in": 3599, "access_token": "real-msal-token-%d" % len(self.posts)})

    def close(self):
        pass


def test_real_msal_signs_a_client_assertion_with_the_certificate(pem_path, key_and_cert):
    _key, cert = key_and_cert
    fake_http = FakeHttp()
    tokens = auth.TokenProvider(auth.Credentials(client_id="app-id", certificate_path=pem_path), "contoso",
                                auth.get_cloud("public"), http_client=fake_http)
    assert tokens.token(auth.SHAREPOINT) == "real-msal-token-1"
    url, data = fake_http.posts[0]
    assert url == "https://login.microsoftonline.com/contoso.onmicrosoft.com/oauth2/v2.0/token"
    form = parse_qs(data) if isinstance(data, str) else dict((key, [value]) for key, value in data.items())
    assert form["scope"] == ["https://contoso.sharepoint.com/.default"]
    assertion = form["client_assertion"][0]
    # As Entra ID documents certificate credentials: PS256, with the certificate's SHA-256 thumbprint in x5t#S256.
    header = jwt.get_unverified_header(assertion)
    assert header["alg"] == "PS256" and "x5t" not in header
    padded = header["x5t#S256"] + "=" * (-len(header["x5t#S256"]) % 4)
    assert base64.urlsafe_b64decode(padded) == cert.fingerprint(hashes.SHA256())
    claims = jwt.decode(assertion, cert.public_key(), algorithms=["PS256"], audience=url)
    assert claims["iss"] == claims["sub"] == "app-id"
    # Refreshing after a 401 really asks Entra again (the MSAL cache is emptied too).
    tokens.invalidate(auth.SHAREPOINT)
    assert tokens.token(auth.SHAREPOINT) == "real-msal-token-2"


def _jwt(claims):
    def part(value):
        return base64.urlsafe_b64encode(json.dumps(value).encode()).decode().rstrip("=")
    return "%s.%s.%s" % (part({"alg": "RS256", "typ": "JWT"}), part(claims), "c2lnbmF0dXJl")


@pytest.mark.parametrize("token, roles", [
    (_jwt({"aud": "https://contoso.sharepoint.com", "roles": ["Sites.FullControl.All", "User.ReadWrite.All"]}),
     {"Sites.FullControl.All", "User.ReadWrite.All"}),
    # an app-only token without application permissions: Entra leaves the claim out
    (_jwt({"aud": "https://graph.microsoft.com", "idtyp": "app"}), set()),
    # a delegated token says nothing about application permissions
    (_jwt({"aud": "https://graph.microsoft.com", "scp": "User.Read"}), None),
    ("not-a-jwt", None),
    ("a.%%%.b", None),
    ("a.%s.b" % base64.urlsafe_b64encode(b"[1, 2]").decode(), None),
    (None, None),
])
def test_token_roles_reads_the_roles_claim_without_a_signature_check(token, roles):
    assert auth.token_roles(token) == roles


@pytest.mark.parametrize("claims, resource, expected", [
    ({"exp": 900, "aud": "https://contoso.sharepoint.com"}, auth.SHAREPOINT, "access_token expired 100 seconds ago"),
    ({"exp": 2000, "aud": "https://graph.microsoft.com"}, auth.SHAREPOINT, "access_token is a token for graph"),
    ({"exp": 2000, "aud": "00000003-0000-0000-c000-000000000000"}, auth.SHAREPOINT, "access_token is a token for graph"),
    ({"exp": 2000, "aud": "https://contoso.sharepoint.com/"}, auth.GRAPH, "access_token is a token for sharepoint"),
    ({"exp": 2000, "aud": "https://contoso.sharepoint.com"}, auth.SHAREPOINT, None),
    ({"exp": 2000, "aud": "00000003-0000-0ff1-ce00-000000000000/contoso.sharepoint.com@t"}, auth.SHAREPOINT, None),
])
def test_a_given_access_token_that_cannot_work_is_refused_before_it_is_sent(claims, resource, expected):
    tokens = provider(access_token=_jwt(claims), clock=lambda: 1000)
    if expected is None:
        assert tokens.token(resource) == _jwt(claims)
        return
    with pytest.raises(SpoError) as caught:
        tokens.token(resource)
    assert caught.value.message.startswith(expected) and _jwt(claims) not in str(caught.value)


def test_a_given_token_is_decoded_once_however_many_requests_it_serves():
    auth._claims.cache_clear()
    tokens = provider(access_token=_jwt({"exp": 2000, "aud": "https://contoso.sharepoint.com"}), clock=lambda: 1000)
    for dummy in range(5):
        tokens.token(auth.SHAREPOINT)
    assert auth._claims.cache_info().misses == 1 and auth._claims.cache_info().hits == 4


def test_a_given_token_whose_claims_cannot_be_read_is_left_to_the_service():
    assert provider(access_token="opaque-token", clock=lambda: 1000).token(auth.SHAREPOINT) == "opaque-token"
