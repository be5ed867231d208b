"""The socket server: an HTTPS forward proxy that answers for the Microsoft hosts itself.

CONNECT opens a tunnel; the emulator terminates TLS in it with its own server certificate and serves
HTTP/1.1 with keep-alive, dispatching by Host. Plain HTTP requests on the same port are the control
plane (/_emulator/). Every proxied request goes through the fault switches and into the request log.
"""

import base64
import collections
import email.utils
import http
import json
import os
import socket
import ssl
import struct
import sys
import threading
import time
import traceback
import uuid
from urllib.parse import unquote

from . import control, entra, graph, sharepoint
from .faults import FAULTS
from .loadlimit import LOAD
from .web import Headers, HttpError, Request, Response, graph_error, sp_error

LOGIN_HOST = "login.microsoftonline.com"
GRAPH_HOST = "graph.microsoft.com"
SHAREPOINT_SUFFIX = ".sharepoint.com"
MAX_LINE = 65536
MAX_HEADERS = 200
DRAIN_LIMIT = 1024 * 1024 * 1024
IDLE_TIMEOUT = 120
_TCP_QUICKACK = getattr(socket, "TCP_QUICKACK", None)  # Linux only
_REASONS = {status.value: status.phrase for status in http.HTTPStatus}


class RequestLog:
    """Every proxied request, newest last, with a sequence number tests can page on."""

    def __init__(self, maxlen=100000):
        self._lock = threading.Lock()
        self._entries = collections.deque(maxlen=maxlen)
        self._seq = 0

    def add(self, entry):
        with self._lock:
            self._seq += 1
            entry["seq"] = self._seq
            self._entries.append(entry)

    def query(self, tenant=None, since=0):
        with self._lock:
            entries = list(self._entries)
        return [e for e in entries if e["seq"] > since and (tenant is None or e["tenant"] == tenant)]

    def summary(self, tenant=None, since=0):
        """Counts for benchmarks: {"total", "throttled", "by_status": {"200": n, ...}}."""
        entries = self.query(tenant, since)
        by_status = collections.Counter(str(e["status"]) for e in entries)
        return {"total": len(entries), "throttled": sum(1 for e in entries if e["throttled"]),
                "by_status": dict(sorted(by_status.items()))}

    def clear(self, tenant=None):
        with self._lock:
            if tenant is None:
                self._entries.clear()
            else:
                kept = [e for e in self._entries if e["tenant"] != tenant]
                self._entries.clear()
                self._entries.extend(kept)


class _CloseConnection(Exception):
    """Stop serving this connection (after a reset fault or a protocol error)."""


def _read_headers(rfile):
    pairs = []
    while True:
        line = rfile.readline(MAX_LINE + 1)
        if not line:
            raise _CloseConnection()
        if line in (b"\r\n", b"\n"):
            return Headers(pairs)
        if len(line) > MAX_LINE or len(pairs) >= MAX_HEADERS:
            raise _CloseConnection()
        name, sep, value = line.decode("latin-1").partition(":")
        if sep:
            pairs.append((name.strip(), value.strip()))


def _acknowledge_now(sock):
    """Acknowledge what has arrived at once. A client behind a proxy often keeps Nagle's algorithm on (urllib3
    does) and writes a request's head and body apart: its body waits for the head's ACK, which Linux delays by
    40 ms on a keep-alive connection that has already answered. TCP_QUICKACK sends the pending ACK now; Linux
    clears it again by itself, hence once per request."""
    if _TCP_QUICKACK is None:
        return
    try:
        sock.setsockopt(socket.IPPROTO_TCP, _TCP_QUICKACK, 1)
    except OSError:
        pass


def _unverified_claims(authorization):
    """The claims of a bearer token, unverified (only used to file a request under its tenant and app)."""
    try:
        token = authorization.split(" ", 1)[1]
        payload = token.split(".")[1]
        payload += "=" * (-len(payload) % 4)
        claims = json.loads(base64.urlsafe_b64decode(payload))
        return claims if isinstance(claims, dict) else {}
    except (IndexError, ValueError, AttributeError):
        return {}


def _served(host):
    """The hosts the emulator answers for (no other host can be reached through it)."""
    return host in (LOGIN_HOST, GRAPH_HOST) or host.endswith(SHAREPOINT_SUFFIX)


class EmulatorServer:
    def __init__(self, store, host, port, ssl_context):
        self.store = store
        self.ssl_context = ssl_context
        self.log = RequestLog()
        self.started = time.time()
        self._stopping = threading.Event()
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.sock.bind((host, port))
        self.sock.listen(256)
        self.port = self.sock.getsockname()[1]

    # -- accept loop -----------------------------------------------------
    def serve_forever(self):
        while not self._stopping.is_set():
            try:
                conn = self.sock.accept()[0]
            except OSError:
                if self._stopping.is_set():
                    return
                raise
            threading.Thread(target=self._connection, args=(conn,), daemon=True).start()

    def shutdown(self):
        self._stopping.set()
        try:
            self.sock.close()
        except OSError:
            pass

    # -- one connection ----------------------------------------------------
    def _connection(self, conn):
        conn.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        conn.settimeout(IDLE_TIMEOUT)
        sock = conn
        try:
            rfile = conn.makefile("rb", 65536)
            first = self._read_request_line(rfile)
            if first is None:
                return
            method, target, version = first
            headers = _read_headers(rfile)
            if method == "CONNECT":
                tunnel_host = target.rsplit(":", 1)[0].lower()
                if not _served(tunnel_host):
                    conn.sendall(b"HTTP/1.1 502 Bad Gateway\r\nContent-Length: 0\r\nConnection: close\r\n\r\n")
                    return
                conn.sendall(b"HTTP/1.1 200 Connection Established\r\n\r\n")
                rfile.close()
                sock = self.ssl_context.wrap_socket(conn, server_side=True)
                rfile = sock.makefile("rb", 256 * 1024)
                self._serve(sock, rfile, tunnel_host, None)
            else:
                self._serve(sock, rfile, None, (method, target, version, headers))
        except (_CloseConnection, ConnectionError, ssl.SSLError, socket.timeout, OSError):
            pass
        finally:
            try:
                sock.close()
            except OSError:
                pass

    @staticmethod
    def _read_request_line(rfile):
        while True:
            line = rfile.readline(MAX_LINE + 1)
            if not line:
                return None
            if line not in (b"\r\n", b"\n"):
                break
        parts = line.decode("latin-1").split()
        if len(parts) != 3 or len(line) > MAX_LINE:
            raise _CloseConnection()
        return parts[0].upper(), parts[1], parts[2].upper()

    def _serve(self, sock, rfile, tunnel_host, first):
        while True:
            if first is not None:
                method, target, version, headers = first
                first = None
            else:
                line = self._read_request_line(rfile)
                if line is None:
                    return
                method, target, version = line
                headers = _read_headers(rfile)
            _acknowledge_now(sock)
            if not self._handle_one(sock, rfile, tunnel_host, method, target, version, headers):
                return

    # -- one request ---------------------------------------------------------
    def _handle_one(self, sock, rfile, tunnel_host, method, target, version, headers):
        started = time.time()
        host = (headers.get("Host") or tunnel_host or "").lower()
        if target.startswith(("http://", "https://")):
            rest = target.split("://", 1)[1]
            host_part, slash, target = rest.partition("/")
            target = slash + target
            host = host or host_part.lower()
        host = host.rsplit(":", 1)[0] if ":" in host and not host.endswith("]") else host
        path, dummy, query = target.partition("?")
        transfer_encoding = (headers.get("Transfer-Encoding") or "").lower()
        chunked = "chunked" in transfer_encoding
        content_length = None
        if not chunked and headers.get("Content-Length") is not None:
            try:
                content_length = int(headers.get("Content-Length"))
            except ValueError:
                raise _CloseConnection()
        expect_continue = (headers.get("Expect") or "").lower() == "100-continue"
        send_continue = (lambda: sock.sendall(b"HTTP/1.1 100 Continue\r\n\r\n")) if expect_continue else None
        request = Request(method, host, path, query, headers, rfile, content_length, chunked, send_continue,
                          sock=sock)
        connection_header = (headers.get("Connection") or "").lower()
        keep_alive = "close" not in connection_header and (version == "HTTP/1.1" or "keep-alive" in connection_header)

        if tunnel_host is None:
            response = self._control(request)
            return self._finish(sock, request, response, keep_alive, log=False)

        request.tenant = self._guess_tenant(request)
        throttled = False
        response = None
        admitted = None
        if FAULTS.active:
            reset = FAULTS.draw_reset(host, request.tenant)
            if reset is not None:
                if reset.get("mid_body") and request.has_body():
                    part = (content_length or 2 * 65536) // 2
                    while part > 0:
                        data = request.read(min(part, 65536))
                        if not data:
                            break
                        part -= len(data)
                self._log(request, started, 0, throttled=False, reset=True)
                self._reset(sock)
                raise _CloseConnection()
            limits = FAULTS.load_limits(host, request.tenant)
            if limits is not None:
                key = (request.tenant, _unverified_claims(request.headers.get("Authorization")).get("appid"))
                throttled = LOAD.admit(key, limits) or False
                if throttled:
                    response = self._throttled(request, limits)
                else:
                    admitted = key
            if response is None:
                latency = FAULTS.get("latency_ms", 0, tenant=request.tenant)
                if latency:
                    time.sleep(float(latency) / 1000.0)
                throttle = FAULTS.draw_throttle(host, request.tenant)
                if throttle is not None:
                    response = self._throttled(request, throttle)
                    throttled = "fault"
        try:
            if response is None:
                response = self._dispatch(request)
            return self._finish(sock, request, response, keep_alive, log=True, started=started, throttled=throttled)
        finally:
            if admitted is not None:
                LOAD.release(admitted)

    def _finish(self, sock, request, response, keep_alive, log, started=None, throttled=False):
        if not request.body_complete():
            if request._send_continue is not None:
                keep_alive = False  # the client is still waiting to send: don't read, close after answering
            else:
                unread = request.unread_length()
                if unread is not None and unread > DRAIN_LIMIT:
                    keep_alive = False
                else:
                    while request.read(1024 * 1024):
                        pass
        if log:  # logged before answering, so a client that has its answer also finds the entry
            self._log(request, started, response.status, throttled=throttled)
        self._write(sock, request, response, keep_alive)
        return keep_alive

    def _log(self, request, started, status, throttled, reset=False):
        """throttled: False, or why the request was throttled ("fault", "in_flight", "per_second")."""
        entry = {"time": started, "method": request.method, "host": request.host, "path": request.path,
                 "query": request.query, "status": status, "tenant": request.tenant, "throttled": bool(throttled),
                 "duration_ms": round((time.time() - started) * 1000.0, 3)}
        if throttled:
            entry["throttle_reason"] = throttled
        if reset:
            entry["reset"] = True
        self.log.add(entry)

    @staticmethod
    def _reset(sock):
        """Drop the connection with a TCP reset, as a broken network would."""
        try:
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        except OSError:
            pass
        try:
            sock.close()
        except OSError:
            pass

    def _write(self, sock, request, response, keep_alive):
        headers = response.headers
        lines = ["HTTP/1.1 %d %s" % (response.status, _REASONS.get(response.status, "Unknown"))]
        size = None
        if response.file_path is not None:
            size = os.path.getsize(response.file_path)
        else:
            size = len(response.body)
        has_type = False
        has_request_id = False
        for name, value in headers.items():
            lower = name.lower()
            if lower in ("content-length", "connection", "transfer-encoding"):
                continue
            if lower == "content-type":
                has_type = True
            elif lower == "request-id":
                has_request_id = True
            lines.append("%s: %s" % (name, value))
        if not has_type and size:
            lines.append("Content-Type: application/octet-stream")
        if not has_request_id and request.host != "":
            lines.append("request-id: %s" % uuid.uuid4())
        client_request_id = request.headers.get("client-request-id")
        if client_request_id and "client-request-id" not in (n.lower() for n in headers):
            lines.append("client-request-id: %s" % client_request_id)
        lines.append("Date: %s" % email.utils.formatdate(usegmt=True))
        lines.append("Content-Length: %d" % size)
        lines.append("Connection: %s" % ("keep-alive" if keep_alive else "close"))
        head = ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1")
        if request.method == "HEAD":
            sock.sendall(head)
            return
        if response.file_path is None:
            sock.sendall(head + response.body if len(response.body) < 65536 else head)
            if len(response.body) >= 65536:
                sock.sendall(response.body)
            return
        sock.sendall(head)
        with open(response.file_path, "rb") as handle:
            while True:
                chunk = handle.read(1024 * 1024)
                if not chunk:
                    break
                sock.sendall(chunk)

    # -- routing ---------------------------------------------------------------
    def _guess_tenant(self, request):
        host = request.host
        tenant = None
        if host.endswith(SHAREPOINT_SUFFIX):
            tenant = self.store.tenant_by_host(host)
        elif host == LOGIN_HOST:
            segment = request.path.split("/", 2)[1] if request.path.count("/") >= 1 else ""
            tenant = self.store.tenant_by_id(unquote(segment))
        elif host == GRAPH_HOST:
            authorization = request.headers.get("Authorization")
            if authorization:
                tenant = self.store.tenant_by_id(_unverified_claims(authorization).get("tid"))
        return tenant.name if tenant is not None else None

    def _throttled(self, request, throttle):
        status = throttle["status"]
        retry_after = throttle.get("retry_after", 1)
        if request.host == GRAPH_HOST:
            if status == 429:
                response = graph_error(429, "TooManyRequests", "Too many requests. Retry after %s seconds." % retry_after)
            else:
                response = graph_error(503, "serviceNotAvailable", "Service is temporarily unavailable.")
        elif request.host == LOGIN_HOST:
            response = Response(status, json.dumps({"error": "temporarily_unavailable",
                                                    "error_description": "AADSTS90033: The service is temporarily "
                                                                         "unavailable."}),
                                content_type="application/json; charset=utf-8")
        elif status == 429:
            response = sp_error(429, "-2147024860, Microsoft.SharePoint.SPRequestThrottledException",
                                "The request has been throttled. Retry after %s seconds." % retry_after)
        else:
            response = sp_error(503, "-2147024891, Microsoft.SharePoint.SPServerTooBusyException",
                                "Server Too Busy.")
        response.headers["Retry-After"] = str(retry_after)
        return response

    def _dispatch(self, request):
        host = request.host
        try:
            if host == LOGIN_HOST:
                return entra.handle(self.store, request)
            if host == GRAPH_HOST:
                return graph.handle(self.store, request)
            if host.endswith(SHAREPOINT_SUFFIX):
                return sharepoint.handle(self.store, request)
            return Response(502, ("The emulator does not serve %s" % host).encode(), content_type="text/plain")
        except HttpError as err:
            return err.response
        except (ConnectionError, ssl.SSLError, socket.timeout):
            raise
        except Exception:  # a bug in a handler: answer 500 and show it on stderr
            traceback.print_exc(file=sys.stderr)
            return Response(500, b"emulator internal error (see its stderr)", content_type="text/plain")

    def _control(self, request):
        try:
            return control.handle(self, request)
        except HttpError as err:
            return err.response
        except (ConnectionError, ssl.SSLError, socket.timeout):
            raise
        except Exception:
            traceback.print_exc(file=sys.stderr)
            return Response(500, b"emulator internal error (see its stderr)", content_type="text/plain")
