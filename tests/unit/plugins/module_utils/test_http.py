# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

import base64
import contextlib
import email.utils
import io
import json
import re
import ssl

import pytest
import requests
import urllib3
from requests.structures import CaseInsensitiveDict

from ansible_collections.spo.user_profiles.plugins.module_utils import auth, http
from ansible_collections.spo.user_profiles.plugins.module_utils.concurrency import AdaptiveLimit
from ansible_collections.spo.user_profiles.plugins.module_utils.errors import SpoError

SECRET = "s3cr3t-Value~1"
TOKEN_RE = re.compile(r"^Bearer tok-(sharepoint|graph)-\d+$")


class LimitedFake:
    """For fakes of SpoClient: limited_by hands them the run's limit for the run, as SpoClient's does."""

    limiter = None

    @contextlib.contextmanager
    def limited_by(self, limit):
        self.limiter = limit
        try:
            yield limit
        finally:
            self.limiter = None


def make_response(status=200, body=b"", headers=None, reason="Reason"):
    response = requests.Response()
    response.status_code = status
    response.reason = reason
    if isinstance(body, (dict, list)):
        body = json.dumps(body).encode("utf-8")
    elif isinstance(body, str):
        body = body.encode("utf-8")
    response._content = body
    response._content_consumed = True
    response.headers = CaseInsensitiveDict(headers or {})
    return response


class FakeSession:
    """Answers requests from a script of responses or exceptions, and records what was sent."""

    def __init__(self, *answers):
        self.answers = list(answers)
        self.calls = []

    def request(self, method, url, **kwargs):
        body = kwargs.get("data")
        sent = body.read() if hasattr(body, "read") else body
        self.calls.append(dict(kwargs, method=method, url=url, body=sent))
        answer = self.answers.pop(0)
        if isinstance(answer, Exception):
            raise answer
        return answer

    def close(self):
        pass


class FakeTokens:
    def __init__(self, refreshable=True):
        self.issued = 0
        self.current = {}
        self.invalidated = []
        self.refreshable = refreshable

    def token(self, resource):
        if resource not in self.current:
            self.issued += 1
            self.current[resource] = "tok-%s-%d" % (resource, self.issued)
        return self.current[resource]

    def invalidate(self, resource):
        self.invalidated.append(resource)
        self.current.pop(resource, None)
        return self.refreshable

    def can_refresh(self, resource):
        return self.refreshable


class FakeTime:
    def __init__(self, start=1000.0):
        self.now = start
        self.sleeps = []

    def clock(self):
        return self.now

    def sleep(self, seconds):
        self.sleeps.append(seconds)
        self.now += seconds


def make_client(*answers, tokens=None, max_retries=10, deadline_seconds=None, **kwargs):
    fake_time = FakeTime()
    session = FakeSession(*answers)
    client = http.SpoClient("contoso", tokens or FakeTokens(), max_retries=max_retries, deadline_seconds=deadline_seconds,
                            session=session, sleep=fake_time.sleep, clock=fake_time.clock,
                            wall_clock=lambda: 1700000000.0, jitter=lambda: 0.5, **kwargs)
    return client, session, fake_time


SP_URL = "https://contoso.sharepoint.com/_api/web"


def test_granted_roles_are_read_once_per_token():
    tokens = FakeTokens()
    claims = base64.urlsafe_b64encode(b'{"roles": ["Sites.FullControl.All"]}').decode().rstrip("=")
    tokens.current[auth.SHAREPOINT] = "e30.%s.c2ln" % claims
    client, session, _time = make_client(tokens=tokens)
    assert client.granted_roles(auth.SHAREPOINT) == {"Sites.FullControl.All"}
    assert client.granted_roles(auth.SHAREPOINT) == {"Sites.FullControl.All"}
    assert client.granted_roles(auth.GRAPH) is None  # the fake's Graph token is no JWT
    assert tokens.issued == 1 and session.calls == []


def test_urls_of_the_tenant():
    client, _session, _time = make_client()
    assert client.root_url == "https://contoso.sharepoint.com"
    assert client.admin_url == "https://contoso-admin.sharepoint.com"
    assert client.my_url == "https://contoso-my.sharepoint.com"
    assert client.graph_url == "https://graph.microsoft.com/v1.0"


def test_national_cloud_urls():
    client = http.SpoClient("https://fabrikam-admin.sharepoint.us/", FakeTokens(), cloud="gcc_high", session=FakeSession())
    assert client.root_url == "https://fabrikam.sharepoint.us"
    assert client.my_url == "https://fabrikam-my.sharepoint.us"
    assert client.graph_url == "https://graph.microsoft.us/v1.0"
    assert client.resource_for("https://graph.microsoft.us/v1.0/users") == auth.GRAPH
    assert client.resource_for("https://graph.microsoft.com/v1.0/users") is None


def test_every_request_is_decorated_and_authorised_per_resource():
    client, session, _time = make_client(make_response(200, {"Title": "Home"}), make_response(200, {"value": []}),
                                         make_response(200, b"ok"))
    assert client.sp("GET", SP_URL, "read web") == {"Title": "Home"}
    assert client.graph("GET", "/users", "list users", params={"$top": 1}) == {"value": []}
    client.request("GET", "https://example.org/file", "download")
    sp_call, graph_call, other_call = session.calls
    assert sp_call["headers"]["User-Agent"] == "NONISV|spo|spo.user_profiles/%s" % http.COLLECTION_VERSION
    assert sp_call["headers"]["Accept"] == "application/json;odata=nometadata"
    assert sp_call["headers"]["Authorization"] == "Bearer tok-sharepoint-1"
    assert graph_call["url"] == "https://graph.microsoft.com/v1.0/users"
    assert graph_call["headers"]["Authorization"] == "Bearer tok-graph-2"
    assert "Authorization" not in other_call["headers"]  # never send a token to a host that is not ours
    ids = [call["headers"]["client-request-id"] for call in session.calls]
    assert len(set(ids)) == 3 and all(re.match(r"^[0-9a-f-]{36}$", value) for value in ids)


def test_user_agent_org_is_configurable():
    client, session, _time = make_client(make_response(204), user_agent_org="Contoso IT")
    client.request("GET", SP_URL, "op")
    assert session.calls[0]["headers"]["User-Agent"].startswith("NONISV|Contoso IT|spo.user_profiles/")


def test_collection_version_matches_galaxy_yml():
    import os
    galaxy = os.path.join(os.path.dirname(__file__), "..", "..", "..", "..", "galaxy.yml")
    with open(galaxy, encoding="utf-8") as handle:
        version = re.search(r"^version:\s*(\S+)", handle.read(), re.M).group(1)
    assert http.COLLECTION_VERSION == version


def test_verify_is_passed_on_every_request(monkeypatch, tmp_path):
    monkeypatch.setenv("REQUESTS_CA_BUNDLE", "/etc/machine-bundle.pem")
    ca = tmp_path / "ca.pem"
    client, session, _time = make_client(make_response(204), make_response(204), make_response(204), ca_path=str(ca))
    client.request("GET", SP_URL, "op")
    client.validate_certs = False
    client.request("GET", SP_URL, "op")
    client.validate_certs, client.ca_path = True, None
    client.request("GET", SP_URL, "op")
    assert [call["verify"] for call in session.calls] == [str(ca), False, "/etc/machine-bundle.pem"]


def test_proxies_come_from_the_environment(monkeypatch):
    monkeypatch.setenv("HTTPS_PROXY", "http://127.0.0.1:3128")
    monkeypatch.setenv("NO_PROXY", "internal.example")
    client, session, _time = make_client(make_response(204), make_response(204))
    client.request("GET", SP_URL, "op")
    client.request("GET", "https://internal.example/x", "op")
    assert session.calls[0]["proxies"].get("https") == "http://127.0.0.1:3128"
    assert not session.calls[1]["proxies"]


@pytest.mark.parametrize("status", [429, 503, 504])
def test_retry_after_is_honoured_to_the_second(status):
    client, session, fake_time = make_client(
        make_response(status, headers={"Retry-After": "7"}),
        make_response(status, headers={"Retry-After": "31"}),
        make_response(200, {"ok": True}),
    )
    assert client.sp("GET", SP_URL, "read web") == {"ok": True}
    assert fake_time.sleeps == [7.0, 31.0]
    assert len(session.calls) == 3
    assert [entry["status"] for entry in client.retry_log] == [status, status]


def test_retry_after_as_an_http_date():
    when = email.utils.formatdate(1700000000.0 + 12, usegmt=True)
    client, _session, fake_time = make_client(make_response(429, headers={"Retry-After": when}), make_response(204))
    client.request("GET", SP_URL, "op")
    assert fake_time.sleeps == [12.0]


def test_backoff_without_retry_after_is_exponential_and_capped():
    answers = [make_response(504) for _attempt in range(10)] + [make_response(204)]
    client, _session, fake_time = make_client(*answers, max_retries=10, deadline_seconds=10000)
    client.request("GET", SP_URL, "op")
    # jitter fixed at 0.5 -> 75% of 1, 2, 4, ... capped at 300
    assert fake_time.sleeps == [0.75 * min(300, 2 ** n) for n in range(10)]


def test_connection_errors_are_retried_and_file_bodies_rewound():
    body = io.BytesIO(b"xxHEADER-payload")
    body.seek(2)
    client, session, fake_time = make_client(requests.ConnectionError("reset by peer"), requests.Timeout("slow"), make_response(201))
    client.request("POST", SP_URL, "upload", data=body)
    assert [call["body"] for call in session.calls] == [b"HEADER-payload"] * 3
    assert len(fake_time.sleeps) == 2


def test_a_504_and_a_connection_reset_are_retried():
    reset = requests.ConnectionError(ConnectionResetError(104, "Connection reset by peer"))
    client, session, fake_time = make_client(make_response(504), reset, make_response(200, {"ok": 1}))
    assert client.sp("GET", SP_URL, "read web") == {"ok": 1}
    assert len(session.calls) == 3
    assert fake_time.sleeps == [0.75, 1.5]
    assert [entry["status"] for entry in client.retry_log] == [504, None]


SERVICE_ERROR_500 = {"odata.error": {"code": "-1, Microsoft.Office.Server.UserProfiles.PropertyNotEditableException",
                                     "message": {"lang": "en-US", "value": "Property Not Editable: AboutMe"}}}


def test_a_500_with_a_service_error_is_not_retried():
    client, session, fake_time = make_client(make_response(500, SERVICE_ERROR_500, {"SPRequestGuid": "sp-500"}),
                                             make_response(200))
    with pytest.raises(SpoError) as caught:
        client.sp("POST", SP_URL, "set AboutMe")
    assert len(session.calls) == 1 and fake_time.sleeps == [] and client.retry_log == []
    assert (caught.value.status, caught.value.request_id) == (500, "sp-500")
    assert caught.value.code == "-1, Microsoft.Office.Server.UserProfiles.PropertyNotEditableException"
    assert caught.value.may_have_run is False and "gave up" not in str(caught.value)


@pytest.mark.parametrize("status", [500, 501, 502, 505])
def test_no_other_5xx_is_retried(status):
    client, session, fake_time = make_client(make_response(status, headers={"Retry-After": "1"}), make_response(200))
    with pytest.raises(SpoError) as caught:
        client.request("GET", SP_URL, "op")
    assert len(session.calls) == 1 and fake_time.sleeps == []
    assert caught.value.status == status


def _unverified(message="certificate verify failed: unable to get local issuer certificate"):
    """An SSLError the way requests raises it for an unverified certificate (three wrappings deep)."""
    cause = ssl.SSLCertVerificationError(1, "[SSL: CERTIFICATE_VERIFY_FAILED] %s (_ssl.c:1006)" % message)
    reason = urllib3.exceptions.SSLError(cause)
    return requests.exceptions.SSLError(urllib3.exceptions.MaxRetryError(None, "/_api/web", reason=reason))


def test_an_unverified_certificate_fails_at_once_and_names_the_options():
    client, session, fake_time = make_client(_unverified(), make_response(200))
    with pytest.raises(SpoError) as caught:
        client.request("GET", SP_URL, "read web")
    assert len(session.calls) == 1 and fake_time.sleeps == []
    message = str(caught.value)
    assert message.startswith("read web: the TLS certificate of contoso.sharepoint.com could not be verified")
    assert "unable to get local issuer certificate" in message
    assert "ca_path" in message and "validate_certs" in message
    assert caught.value.may_have_run is False


def test_an_unverified_certificate_is_found_through_the_exception_chain():
    assert http.unverified_certificate(_unverified()) is not None
    try:
        try:
            raise ssl.SSLCertVerificationError(1, "hostname mismatch")
        except ssl.SSLError as inner:
            raise requests.exceptions.SSLError("wrapped") from inner
    except requests.exceptions.SSLError as outer:
        assert http.unverified_certificate(outer) is not None
    assert http.unverified_certificate(requests.exceptions.SSLError("EOF occurred in violation of protocol")) is None


def test_a_tls_handshake_that_breaks_off_is_a_connection_failure_and_retried():
    cut_off = requests.exceptions.SSLError(ssl.SSLEOFError(8, "EOF occurred in violation of protocol"))
    client, session, fake_time = make_client(cut_off, make_response(204))
    client.request("GET", SP_URL, "op")
    assert len(session.calls) == 2 and len(fake_time.sleeps) == 1


@pytest.mark.parametrize("status", [429, 503])
def test_a_call_that_must_not_run_twice_is_retried_when_the_service_refused_it(status):
    client, session, fake_time = make_client(make_response(status, headers={"Retry-After": "3"}), make_response(200))
    client.request("POST", SP_URL, "queue", idempotent=False)
    assert len(session.calls) == 2
    assert fake_time.sleeps == [3.0]


@pytest.mark.parametrize("answer", [make_response(500), make_response(502), make_response(504, headers={"Retry-After": "1"}),
                                    requests.ConnectionError("reset by peer"), requests.ReadTimeout("no answer")])
def test_a_call_that_must_not_run_twice_is_not_retried_when_it_may_have_run(answer):
    client, session, fake_time = make_client(answer, make_response(200))
    with pytest.raises(SpoError) as caught:
        client.request("POST", SP_URL, "queue", idempotent=False)
    assert caught.value.may_have_run is True
    assert len(session.calls) == 1
    assert fake_time.sleeps == []


def test_a_call_that_must_not_run_twice_is_retried_when_no_connection_was_made():
    client, session, _fake_time = make_client(requests.ConnectTimeout("no route"), make_response(200))
    client.request("POST", SP_URL, "queue", idempotent=False)
    assert len(session.calls) == 2


def test_max_retries_bounds_the_attempts():
    answers = [make_response(429, {"odata.error": {"code": "-2147024860, Microsoft.SharePoint.SPQueryThrottledException",
                                                   "message": {"lang": "en-US", "value": "Throttled"}}},
                             headers={"Retry-After": "1", "SPRequestGuid": "guid-1"}) for _attempt in range(4)]
    client, session, fake_time = make_client(*answers, max_retries=3)
    with pytest.raises(SpoError) as caught:
        client.sp("GET", SP_URL, "read web")
    assert len(session.calls) == 4 and fake_time.sleeps == [1.0, 1.0, 1.0]
    err = caught.value
    assert (err.status, err.request_id, err.operation) == (429, "guid-1", "read web")
    assert err.code == "-2147024860, Microsoft.SharePoint.SPQueryThrottledException"
    assert "gave up after 3 retries" in str(err)


def test_the_deadline_is_respected():
    client, session, fake_time = make_client(make_response(503, headers={"Retry-After": "40"}),
                                             make_response(503, headers={"Retry-After": "40"}),
                                             make_response(204), deadline_seconds=60)
    with pytest.raises(SpoError) as caught:
        client.request("GET", SP_URL, "op")
    # 40 s fit in the 60 s deadline, a second 40 s would not: it gives up instead of sleeping past it.
    assert fake_time.sleeps == [40.0]
    assert len(session.calls) == 2
    assert caught.value.status == 503


def test_attempt_timeouts_shrink_to_the_remaining_deadline():
    client, session, _time = make_client(make_response(429, headers={"Retry-After": "50"}), make_response(204),
                                         deadline_seconds=55, timeout=30)
    client.request("GET", SP_URL, "op")
    assert [call["timeout"] for call in session.calls] == [30, 5]


@pytest.mark.parametrize("status", [400, 403, 404, 409])
def test_client_errors_are_not_retried(status):
    client, session, fake_time = make_client(make_response(status, {"error": {"code": "E", "message": "no"}}), make_response(204))
    with pytest.raises(SpoError) as caught:
        client.request("GET", SP_URL, "op")
    assert len(session.calls) == 1 and fake_time.sleeps == []
    assert caught.value.status == status


def test_allow_status_returns_the_response():
    client, _session, _time = make_client(make_response(404))
    assert client.request("GET", SP_URL, "op", allow_status=(404,)).status_code == 404


def test_a_401_refreshes_the_token_once():
    tokens = FakeTokens()
    client, session, fake_time = make_client(make_response(401, b'{"error_description":"Invalid issuer or signature."}'),
                                             make_response(200, {"ok": 1}), tokens=tokens)
    assert client.sp("GET", SP_URL, "op") == {"ok": 1}
    assert tokens.invalidated == [auth.SHAREPOINT]
    assert [call["headers"]["Authorization"] for call in session.calls] == ["Bearer tok-sharepoint-1", "Bearer tok-sharepoint-2"]
    assert fake_time.sleeps == []


def test_a_second_401_is_an_error():
    tokens = FakeTokens()
    client, session, _time = make_client(make_response(401, b"{}"), make_response(401, b'{"error_description":"Invalid issuer or signature."}'),
                                         tokens=tokens)
    with pytest.raises(SpoError) as caught:
        client.request("GET", SP_URL, "op")
    assert len(session.calls) == 2 and caught.value.status == 401
    assert "Invalid issuer or signature." in str(caught.value)


def test_a_given_access_token_is_not_refreshed():
    tokens = FakeTokens(refreshable=False)
    client, session, _time = make_client(make_response(401, b""), tokens=tokens)
    with pytest.raises(SpoError):
        client.request("GET", SP_URL, "op")
    assert len(session.calls) == 1 and tokens.invalidated == []


def test_secrets_never_appear_in_errors():
    tokens = FakeTokens()
    answer = make_response(400, {"error": {"code": "BadRequest", "message": "echo tok-sharepoint-1 and %s" % SECRET}})
    client = http.SpoClient("contoso", {"client_id": "id", "client_secret": SECRET, "certificate_path": "/x.pem"},
                            session=FakeSession(answer), sleep=lambda s: None)
    client.tokens = tokens
    with pytest.raises(SpoError) as caught:
        client.request("GET", SP_URL, "op")
    text = str(caught.value) + repr(caught.value.to_result())
    assert SECRET not in text and "tok-sharepoint-1" not in text


def test_connection_error_hides_proxy_credentials():
    client, _session, _time = make_client(requests.exceptions.ProxyError("Cannot connect to proxy http://user:pa55@proxy:3128 Bearer abc.def"),
                                          max_retries=0)
    with pytest.raises(SpoError) as caught:
        client.request("GET", SP_URL, "op")
    assert "pa55" not in str(caught.value) and "abc.def" not in str(caught.value)
    assert "connection failed: ProxyError" in str(caught.value)


def test_sp_json_body_and_empty_answer():
    client, session, _time = make_client(make_response(204), make_response(200, b"not json"))
    assert client.sp("POST", SP_URL, "op", json={"a": "Müller"}) is None
    assert session.calls[0]["headers"]["Content-Type"] == "application/json;odata=nometadata"
    assert session.calls[0]["json"] == {"a": "Müller"}
    with pytest.raises(SpoError, match="not JSON"):
        client.sp("GET", SP_URL, "op")


class FakeMsalTokens:
    """auth.TokenProvider shape for MsalHttpClient tests."""


def test_msal_http_client_returns_errors_and_retries_throttling():
    client, session, fake_time = make_client(
        make_response(429, headers={"Retry-After": "3"}),
        make_response(400, {"error": "invalid_client"}),
    )
    msal_client = http.MsalHttpClient(client)
    response = msal_client.post("https://login.microsoftonline.com/x/oauth2/v2.0/token", data={"a": "b"},
                                headers={"client-request-id": "msal-id"}, timeout=5)
    assert response.status_code == 400
    assert fake_time.sleeps == [3.0]
    assert session.calls[0]["headers"]["client-request-id"] == "msal-id"
    assert "Authorization" not in session.calls[0]["headers"]


def limited_client(*answers, **kwargs):
    """A client whose requests go through an AdaptiveLimit on the same fake clock."""
    client, session, fake_time = make_client(*answers, **kwargs)
    client.limiter = AdaptiveLimit(ceiling=8, start=8, clock=fake_time.clock, sleep=fake_time.sleep)
    return client, session, fake_time


def test_a_throttled_request_slows_the_whole_pool_and_its_retries_stay_bounded():
    throttled = [make_response(429, headers={"Retry-After": "2"}) for _attempt in range(3)]
    client, session, fake_time = limited_client(*throttled, max_retries=2)
    other_worker = client.limiter.acquire()
    with pytest.raises(SpoError) as caught:
        client.sp("GET", SP_URL, "read web")
    assert len(session.calls) == 3 and fake_time.sleeps == [2.0, 2.0]
    assert "gave up after 2 retries" in str(caught.value)
    # Each throttled answer was told to the shared limit: halved (once per round) and a pause for everyone.
    assert client.limiter.stats()["throttled"] == 3
    assert client.limiter.limit == 1
    client.limiter.done(other_worker)
    client.limiter.throttled(client.limiter.acquire(), retry_after=5)
    client.limiter.acquire()
    assert fake_time.sleeps[-1] == 5.0


def test_answers_and_failures_free_their_places():
    client, _session, _fake_time = limited_client(requests.ConnectionError("reset"), make_response(200, {"a": 1}),
                                                  make_response(404, {"odata.error": {"message": "no"}}))
    assert client.sp("GET", SP_URL, "read web") == {"a": 1}
    with pytest.raises(SpoError):
        client.sp("GET", SP_URL, "read web")
    assert client.limiter.in_flight == 0
    assert client.limiter.stats()["throttled"] == 0


def test_signing_in_takes_no_place_in_the_limit():
    client, _session, _fake_time = limited_client(make_response(200, {"access_token": "x"}))
    for _worker in range(8):
        client.limiter.acquire()
    response = http.MsalHttpClient(client).post("https://login.microsoftonline.com/x/oauth2/v2.0/token", data={})
    assert response.status_code == 200


def test_limited_by_shares_the_limit_for_the_run_only_and_keeps_a_connection_per_place():
    client = http.SpoClient("contoso", FakeTokens(), session=requests.Session())
    limit = AdaptiveLimit(ceiling=24)
    with pytest.raises(RuntimeError):
        with client.limited_by(limit):
            assert client.limiter is limit
            raise RuntimeError("a worker failed")
    assert client.limiter is None
    assert client.session.get_adapter("https://contoso-my.sharepoint.com/")._pool_maxsize == 24
    small = http.SpoClient("contoso", FakeTokens(), session=requests.Session())
    with small.limited_by(AdaptiveLimit(ceiling=4)):
        pass
    assert small.session.get_adapter("https://contoso-my.sharepoint.com/")._pool_maxsize == http.POOL_CONNECTIONS
