"""The proxy: CONNECT + TLS with the emulator's CA, keep-alive, dispatch by Host, body framing."""

import http.client
import json
import os
import socket
import ssl
import time

import pytest
import requests


def tunnel(emulator, host):
    context = ssl.create_default_context(cafile=emulator.ca_path)
    conn = http.client.HTTPSConnection("127.0.0.1", emulator.port, context=context, timeout=10)
    conn.set_tunnel(host, 443)
    return conn


def raw_tls(emulator, host):
    sock = socket.create_connection(("127.0.0.1", emulator.port), timeout=10)
    sock.sendall(("CONNECT %s:443 HTTP/1.1\r\nHost: %s:443\r\n\r\n" % (host, host)).encode())
    reply = b""
    while b"\r\n\r\n" not in reply:
        reply += sock.recv(1024)
    assert reply.startswith(b"HTTP/1.1 200")
    context = ssl.create_default_context(cafile=emulator.ca_path)
    return context.wrap_socket(sock, server_hostname=host)


def read_response(tls):
    data = b""
    while b"\r\n\r\n" not in data:
        chunk = tls.recv(65536)
        if not chunk:
            break
        data += chunk
    head, dummy, body = data.partition(b"\r\n\r\n")
    length = int([line.split(b":")[1] for line in head.split(b"\r\n") if line.lower().startswith(b"content-length")][0])
    while len(body) < length:
        body += tls.recv(65536)
    return head.decode(), body


def test_ca_written_and_certificate_covers_every_host(emulator):
    assert os.path.exists(emulator.ca_path)
    session = emulator.session()
    for url in ("https://login.microsoftonline.com/common/discovery/instance",
                "https://graph.microsoft.com/v1.0/users",
                "https://contoso-admin.sharepoint.com/_api/contextinfo",
                "https://anything.sharepoint.com/"):
        # any HTTP answer proves the TLS handshake verified against the emulator's CA and host name
        assert session.get(url, timeout=10).status_code in (200, 400, 401, 404)


def test_untrusted_ca_is_refused(emulator):
    session = requests.Session()
    session.trust_env = False
    session.proxies = {"https": emulator.url}
    session.verify = True  # the system store does not know the emulator's CA
    with pytest.raises(requests.exceptions.SSLError):
        session.get("https://graph.microsoft.com/v1.0/users", timeout=10)


def test_keep_alive_serves_many_requests_on_one_tunnel(emulator):
    conn = tunnel(emulator, "login.microsoftonline.com")
    sockets = set()
    for dummy in range(5):
        conn.request("GET", "/common/discovery/instance?api-version=1.1")
        response = conn.getresponse()
        assert response.status == 200
        assert json.loads(response.read())["api-version"] == "1.1"
        assert response.getheader("Connection") == "keep-alive"
        sockets.add(id(conn.sock))
    assert len(sockets) == 1
    conn.close()


def test_connect_to_other_hosts_is_refused(emulator):
    conn = tunnel(emulator, "example.com")
    with pytest.raises(OSError, match="502"):
        conn.request("GET", "/")


def test_dispatch_by_host_header(emulator):
    conn = tunnel(emulator, "graph.microsoft.com")
    conn.request("GET", "/", headers={"Host": "example.com"})
    response = conn.getresponse()
    assert response.status == 502
    assert b"example.com" in response.read()
    conn.request("GET", "/common/discovery/instance", headers={"Host": "login.microsoftonline.com"})
    response = conn.getresponse()
    assert response.status == 200
    assert "tenant_discovery_endpoint" in json.loads(response.read())


def test_chunked_request_body(emulator, tenant):
    conn = tunnel(emulator, "login.microsoftonline.com")
    body = [b"grant_type=client_credentials&client_id=7a2e3d5b-4c6f-4d8e-8f90-1b2c3d4e5f60",
            b"&client_secret=emulator-test-secret-not-real",
            b"&scope=https%3A%2F%2Fgraph.microsoft.com%2F.default"]
    conn.request("POST", "/%s.onmicrosoft.com/oauth2/v2.0/token" % tenant, body=iter(body),
                 headers={"Content-Type": "application/x-www-form-urlencoded"}, encode_chunked=True)
    response = conn.getresponse()
    payload = json.loads(response.read())
    assert response.status == 200, payload
    assert payload["token_type"] == "Bearer"
    # the connection stays usable after a chunked body
    conn.request("GET", "/common/discovery/instance")
    assert conn.getresponse().status == 200


def test_expect_100_continue(emulator, tenant):
    tls = raw_tls(emulator, "login.microsoftonline.com")
    body = ("grant_type=client_credentials&client_id=7a2e3d5b-4c6f-4d8e-8f90-1b2c3d4e5f60"
            "&client_secret=emulator-test-secret-not-real&scope=https%3A%2F%2Fgraph.microsoft.com%2F.default").encode()
    tls.sendall(("POST /%s.onmicrosoft.com/oauth2/v2.0/token HTTP/1.1\r\nHost: login.microsoftonline.com\r\n"
                 "Content-Type: application/x-www-form-urlencoded\r\nContent-Length: %d\r\n"
                 "Expect: 100-continue\r\n\r\n" % (tenant, len(body))).encode())
    interim = tls.recv(1024)
    assert interim.startswith(b"HTTP/1.1 100 Continue\r\n\r\n")
    tls.sendall(body)
    head, payload = read_response(tls)
    assert head.startswith("HTTP/1.1 200")
    assert "access_token" in json.loads(payload)
    tls.close()


def test_plain_http_outside_control_plane_is_refused(emulator):
    response = emulator._control.get(emulator.url + "/not-control", timeout=5)
    assert response.status_code == 400
    assert "CONNECT" in response.json()["error"]


def test_responses_carry_request_id_and_echo_client_request_id(emulator):
    response = emulator.session().get("https://login.microsoftonline.com/common/discovery/instance",
                                      headers={"client-request-id": "abc-123"}, timeout=10)
    assert response.headers["client-request-id"] == "abc-123"
    assert response.headers["request-id"]


def test_pipelined_large_bodies_land_whole_and_the_next_request_is_read_intact(emulator, tenant):
    """Three uploads sent in one write, bodies not a whole number of megabytes: the body is read past the
    connection's buffered reader, so this checks that neither body loses or steals a byte of the next request."""
    host = "%s.sharepoint.com" % tenant
    tls = raw_tls(emulator, host)
    token = emulator.token(tenant)
    bodies = [os.urandom(1000), os.urandom(2 * 1024 * 1024 + 12345), os.urandom(1024 * 1024 + 1)]
    wire = b""
    for body in bodies:
        wire += ("POST /_api/web/GetFolderByServerRelativeUrl('Shared%%20Documents')/Files/add(url='p.bin',overwrite=true)"
                 " HTTP/1.1\r\nHost: %s\r\nAuthorization: Bearer %s\r\nAccept: application/json;odata=nometadata\r\n"
                 "Content-Length: %d\r\n\r\n" % (host, token, len(body))).encode() + body
    tls.sendall(wire)
    for body in bodies:
        head, payload = read_response(tls)
        assert head.startswith("HTTP/1.1 200"), payload[:300]
        assert json.loads(payload)["Length"] == str(len(body))
    tls.sendall(("GET /_api/web/GetFileByServerRelativeUrl('/Shared%%20Documents/p.bin')/$value HTTP/1.1\r\nHost: %s\r\n"
                 "Authorization: Bearer %s\r\n\r\n" % (host, token)).encode())
    head, payload = read_response(tls)
    assert head.startswith("HTTP/1.1 200")
    assert payload == bodies[-1]
    tls.close()


def _round_trip_ms(tls, head, body):
    started = time.perf_counter()
    tls.sendall(head)
    if body:
        tls.sendall(body)   # apart from the head, as urllib3 writes a request
    read_response(tls)
    return (time.perf_counter() - started) * 1000.0


def test_a_request_body_written_apart_from_its_head_is_not_held_back(emulator, tenant):
    """A client behind a proxy keeps Nagle's algorithm on (urllib3 does), so its body waits for the ACK of the
    head; the emulator must acknowledge at once, or every POST costs a 40 ms delayed ACK that a GET does not."""
    host = "%s.sharepoint.com" % tenant
    authorization = "Bearer " + emulator.token(tenant)
    sock = socket.create_connection(("127.0.0.1", emulator.port), timeout=10)
    sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 0)
    sock.sendall(("CONNECT %s:443 HTTP/1.1\r\nHost: %s:443\r\n\r\n" % (host, host)).encode())
    assert sock.recv(1024).startswith(b"HTTP/1.1 200")
    tls = ssl.create_default_context(cafile=emulator.ca_path).wrap_socket(sock, server_hostname=host)
    body = b'{"select": 1}'
    post = ("POST /_api/contextinfo HTTP/1.1\r\nHost: %s\r\nAuthorization: %s\r\nContent-Type: application/json\r\n"
            "Content-Length: %d\r\n\r\n" % (host, authorization, len(body))).encode()
    get = ("GET /_api/web/GetFolderByServerRelativeUrl('Shared%%20Documents') HTTP/1.1\r\nHost: %s\r\n"
           "Authorization: %s\r\n\r\n" % (host, authorization)).encode()
    try:
        _round_trip_ms(tls, get, b"")   # keep-alive from here on: the state where Linux delays ACKs
        posts, gets = [], []
        for dummy in range(9):
            posts.append(_round_trip_ms(tls, post, body))
            gets.append(_round_trip_ms(tls, get, b""))
    finally:
        tls.close()
    median_post, median_get = sorted(posts)[4], sorted(gets)[4]
    # a delayed ACK is at least 40 ms; the margin leaves room for a busy machine
    assert median_post < median_get + 20, (posts, gets)
