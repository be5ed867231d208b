"""Faults switched at run time: throttling, connection resets, latency, token lifetime, job switches."""

import socket
import ssl
import threading
import time

import jwt
import pytest
import requests

GRAPH = "https://graph.microsoft.com/v1.0"


@pytest.fixture
def graph(no_faults, tenant):
    session = no_faults.session()
    session.headers["Authorization"] = "Bearer " + no_faults.token(tenant, "graph")
    session.tenant = tenant
    return session


def test_throttle_with_count_and_request_log(no_faults, graph):
    emulator = no_faults
    since = emulator.request_log(graph.tenant)[-1]["seq"]
    emulator.faults(throttle={"rate": 1.0, "status": 429, "retry_after": 1, "host": "graph.microsoft.com", "count": 2})
    statuses = []
    for dummy in range(3):
        response = graph.get(GRAPH + "/users?$top=1")
        statuses.append(response.status_code)
        if response.status_code == 429:
            assert response.headers["Retry-After"] == "1"
            assert response.json()["error"]["code"] == "TooManyRequests"
            time.sleep(int(response.headers["Retry-After"]))  # a well-behaved client
    assert statuses == [429, 429, 200]
    assert emulator.control("GET", "health").status_code == 200  # control plane is never throttled
    log = emulator.request_log(graph.tenant, since)
    assert [(e["status"], e["throttled"]) for e in log] == [(429, True), (429, True), (200, False)]
    assert log[1]["time"] - log[0]["time"] >= 1.0 and log[2]["time"] - log[1]["time"] >= 1.0
    assert "throttle" not in emulator.control("GET", "faults").json()  # count used up


def test_throttle_503_for_one_tenant_and_host_suffix(no_faults, graph):
    emulator = no_faults
    other = emulator.create_tenant()["name"]
    emulator.faults(tenant=graph.tenant, throttle={"rate": 1.0, "status": 503, "retry_after": 7,
                                                   "host": ".sharepoint.com"})
    token = emulator.token(graph.tenant)  # login is spared
    session = emulator.session()
    response = session.post("https://%s-admin.sharepoint.com/_api/contextinfo" % graph.tenant,
                            headers={"Authorization": "Bearer " + token})
    assert response.status_code == 503
    assert response.headers["Retry-After"] == "7"
    assert "odata.error" in response.json()
    assert graph.get(GRAPH + "/users?$top=1").status_code == 200  # Graph is not throttled
    other_token = emulator.token(other)
    response = session.post("https://%s.sharepoint.com/_api/contextinfo" % other,
                            headers={"Authorization": "Bearer " + other_token})
    assert response.status_code != 503  # another tenant is not throttled
    snapshot = emulator.control("GET", "faults").json()
    assert snapshot["tenants"][graph.tenant]["throttle"]["status"] == 503


def test_throttle_rate_is_a_share(no_faults, graph):
    no_faults.faults(throttle={"rate": 0.5, "status": 429, "retry_after": 0, "host": "graph.microsoft.com"})
    statuses = [graph.get(GRAPH + "/users?$top=1").status_code for dummy in range(60)]
    assert 10 <= statuses.count(429) <= 50
    assert set(statuses) == {200, 429}


def test_connection_reset(no_faults, graph):
    no_faults.faults(reset={"rate": 1.0, "count": 1, "host": "graph.microsoft.com"})
    with pytest.raises(requests.ConnectionError):
        graph.get(GRAPH + "/users?$top=1")
    assert graph.get(GRAPH + "/users?$top=1").status_code == 200
    log = no_faults.request_log(graph.tenant)
    assert [(e["status"], e.get("reset", False)) for e in log[-2:]] == [(0, True), (200, False)], log


def test_connection_reset_in_the_middle_of_an_upload_body(no_faults, graph):
    emulator = no_faults
    emulator.faults(reset={"rate": 1.0, "count": 1, "mid_body": True, "host": "graph.microsoft.com"})
    sock = socket.create_connection(("127.0.0.1", emulator.port), timeout=10)
    sock.sendall(b"CONNECT graph.microsoft.com:443 HTTP/1.1\r\nHost: graph.microsoft.com:443\r\n\r\n")
    assert sock.recv(1024).startswith(b"HTTP/1.1 200")
    tls = ssl.create_default_context(cafile=emulator.ca_path).wrap_socket(sock, server_hostname="graph.microsoft.com")
    body_size = 2 * 1024 * 1024
    tls.sendall(("PUT /v1.0/users/adele@%s.com/photo/$value HTTP/1.1\r\nHost: graph.microsoft.com\r\n"
                 "Authorization: %s\r\nContent-Type: image/png\r\nContent-Length: %d\r\n\r\n"
                 % (graph.tenant, graph.headers["Authorization"], body_size)).encode())
    try:
        for dummy in range(0, body_size, 65536):
            tls.sendall(b"\0" * 65536)
        reply = tls.recv(1024)
    except OSError:  # reset while sending or reading
        reply = b""
    assert reply == b""  # no HTTP answer: the connection was dropped
    entry = emulator.request_log(graph.tenant)[-1]
    assert entry["reset"] is True and entry["method"] == "PUT"
    assert graph.get(GRAPH + "/users/adele@%s.com/photo" % graph.tenant).status_code == 404  # nothing stored


def _warm_sessions(emulator, graph, count):
    """Sessions with an open connection each, so that requests sent together arrive together."""
    sessions = []
    for dummy in range(count):
        session = emulator.session()
        session.headers["Authorization"] = graph.headers["Authorization"]
        assert session.get(GRAPH + "/users?$top=1").status_code == 200
        sessions.append(session)
    return sessions


def _at_once(sessions, url):
    """Send one GET per session at the same moment; the responses in session order."""
    barrier = threading.Barrier(len(sessions))
    responses = [None] * len(sessions)

    def send(index):
        barrier.wait()
        responses[index] = sessions[index].get(url)

    threads = [threading.Thread(target=send, args=(i,)) for i in range(len(sessions))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    return responses


def test_load_limit_in_flight_answers_429_with_retry_after_beyond_the_limit(no_faults, graph):
    emulator = no_faults
    sessions = _warm_sessions(emulator, graph, 5)
    since = emulator.request_log(graph.tenant)[-1]["seq"]
    # each request stays in flight for 1.5 s, long after the five have arrived together
    emulator.faults(tenant=graph.tenant, latency_ms=1500,
                    load={"max_in_flight": 2, "retry_after": 3, "host": "graph.microsoft.com"})
    responses = _at_once(sessions, GRAPH + "/users?$top=1")
    assert sorted(r.status_code for r in responses) == [200, 200, 429, 429, 429]
    for response in responses:
        if response.status_code == 429:
            assert response.headers["Retry-After"] == "3"
            assert response.json()["error"]["code"] == "TooManyRequests"
    log = emulator.request_log(graph.tenant, since)
    throttled = [e for e in log if e["throttled"]]
    assert len(throttled) == 3 and {e["throttle_reason"] for e in throttled} == {"in_flight"}
    assert all("throttle_reason" not in e for e in log if not e["throttled"])
    emulator.faults(tenant=graph.tenant, latency_ms=None)
    assert graph.get(GRAPH + "/users?$top=1").status_code == 200   # the slots are free again


def test_load_limit_per_second_counts_every_request_and_frees_up_after_a_second(no_faults, graph):
    emulator = no_faults
    emulator.faults(tenant=graph.tenant, load={"per_second": 2, "status": 503, "retry_after": 1})
    responses = [graph.get(GRAPH + "/users?$top=1") for dummy in range(8)]
    statuses = [response.status_code for response in responses]
    assert statuses[:2] == [200, 200] and 503 in statuses
    assert {response.headers["Retry-After"] for response in responses if response.status_code == 503} == {"1"}
    time.sleep(1.1)   # what a client honouring Retry-After does
    assert graph.get(GRAPH + "/users?$top=1").status_code == 200
    summary = emulator.control("GET", "tenants/%s/requests?summary=true" % graph.tenant).json()["summary"]
    assert summary["throttled"] == statuses.count(503) and summary["by_status"]["503"] == statuses.count(503)
    assert summary["total"] == summary["by_status"]["200"] + summary["by_status"]["503"]


def test_load_limit_is_per_app_and_per_tenant(no_faults, graph):
    """Another app in the same tenant, and the same app in another tenant, have their own counts."""
    emulator = no_faults
    other_tenant = emulator.create_tenant()["name"]
    emulator.faults(load={"per_second": 1, "retry_after": 5})   # global scope: applies to every tenant
    assert graph.get(GRAPH + "/users?$top=1").status_code == 200
    assert graph.get(GRAPH + "/users?$top=1").status_code == 429
    secret_app = emulator.session()
    secret_app.headers["Authorization"] = "Bearer " + emulator.token(graph.tenant, "graph", credential="secret")
    assert secret_app.get(GRAPH + "/users?$top=1").status_code == 200
    elsewhere = emulator.session()
    elsewhere.headers["Authorization"] = "Bearer " + emulator.token(other_tenant, "graph")
    assert elsewhere.get(GRAPH + "/users?$top=1").status_code == 200


def test_load_limiter_counts_with_a_clock():
    from m365emu.loadlimit import LoadLimiter

    now = [100.0]
    limiter = LoadLimiter(clock=lambda: now[0])
    key = ("contoso", "app")
    assert limiter.admit(key, {"max_in_flight": 2}) is None
    assert limiter.admit(key, {"max_in_flight": 2}) is None
    assert limiter.admit(key, {"max_in_flight": 2}) == "in_flight"
    limiter.release(key)
    assert limiter.in_flight(key) == 1
    assert limiter.admit(key, {"max_in_flight": 2}) is None
    limiter.release(key)
    limiter.release(key)
    assert limiter.in_flight(key) == 0
    # per second: a sliding one-second window in which throttled requests count too
    assert [limiter.admit(("t", "a"), {"per_second": 2}) for dummy in range(3)] == [None, None, "per_second"]
    now[0] += 0.5
    assert limiter.admit(("t", "a"), {"per_second": 2}) == "per_second"
    now[0] += 0.6   # the first three left the window, the fourth is still in it
    assert limiter.admit(("t", "a"), {"per_second": 2}) is None
    assert limiter.admit(("t", "a"), {"per_second": 2}) == "per_second"


def test_latency(no_faults, graph):
    start = time.time()
    graph.get(GRAPH + "/users?$top=1")
    fast = time.time() - start
    no_faults.faults(latency_ms=400)
    start = time.time()
    assert graph.get(GRAPH + "/users?$top=1").status_code == 200
    assert time.time() - start >= 0.4 > fast


def test_token_lifetime(no_faults, tenant):
    no_faults.faults(token_lifetime=60)
    claims = jwt.decode(no_faults.token(tenant, "graph"), options={"verify_signature": False})
    assert claims["exp"] - claims["iat"] == 60


def test_job_switches_are_stored_per_scope(no_faults, tenant):
    snapshot = no_faults.faults(job_delay=2, job_duration=1, job_outcome="InternalError", queue_empty_guid=True)
    assert snapshot["job_outcome"] == "InternalError" and snapshot["job_delay"] == 2
    snapshot = no_faults.faults(tenant=tenant, job_outcome="stuck_queued")
    assert snapshot["tenants"][tenant]["job_outcome"] == "stuck_queued"
    snapshot = no_faults.faults(job_outcome=None)
    assert "job_outcome" not in snapshot
    assert no_faults.control("DELETE", "faults").json() == {}


def test_fault_settings_lookup():
    from m365emu.faults import FaultSettings

    faults = FaultSettings()
    faults.update({"job_delay": 5})
    faults.update({"tenant": "contoso", "job_delay": 1, "job_outcome": "InternalError"})
    assert faults.get("job_delay") == 5
    assert faults.get("job_delay", tenant="contoso") == 1
    assert faults.get("job_delay", tenant="fabrikam") == 5
    assert faults.get("job_outcome", tenant="fabrikam") is None
    assert faults.get("job_duration", 3, tenant="contoso") == 3
    with pytest.raises(ValueError):
        faults.update({"throttle": {"rate": 2}})
    with pytest.raises(ValueError):
        faults.update({"throttle": {"status": 500}})
    for bad in ({}, {"max_in_flight": 0}, {"max_in_flight": 1.5}, {"per_second": 0}, {"per_second": 1, "status": 500},
                []):
        with pytest.raises(ValueError):
            faults.update({"load": bad})
    faults.update({"load": {"per_second": 5, "host": "graph.microsoft.com"}})
    expected = {"per_second": 5, "host": "graph.microsoft.com", "status": 429, "retry_after": 1}
    assert faults.load_limits("graph.microsoft.com", None) == expected
    assert faults.load_limits("contoso.sharepoint.com", None) is None
    assert faults.load_limits("login.microsoftonline.com", "contoso") is None


def test_invalid_fault_request(no_faults):
    assert no_faults.control("POST", "faults", json={"throttle": {"rate": -1}}).status_code == 400
    assert no_faults.control("POST", "faults", json=[1]).status_code == 400
