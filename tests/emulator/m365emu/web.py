"""HTTP request/response objects shared by every handler, and the error bodies of each service."""

import json
import uuid
from datetime import datetime, timezone

READ_CHUNK = 1024 * 1024


class Headers:
    """Case-insensitive header lookup over the raw (name, value) pairs."""

    def __init__(self, pairs=()):
        self._pairs = list(pairs)
        self._index = {}
        for name, value in self._pairs:
            self._index.setdefault(name.lower(), value)

    def get(self, name, default=None):
        return self._index.get(name.lower(), default)

    def __contains__(self, name):
        return name.lower() in self._index

    def __getitem__(self, name):
        return self._index[name.lower()]

    def items(self):
        return list(self._pairs)

    def __iter__(self):
        return iter(self._index)


class Request:
    """One HTTP request. The body is read lazily from the connection, so big uploads are streamed."""

    def __init__(self, method, host, path, query, headers, rfile=None, content_length=None, chunked=False,
                 send_continue=None, sock=None):
        self.method = method
        self.host = host
        self.path = path
        self.query = query
        self.headers = headers
        self.content_length = content_length
        self.tenant = None
        self._rfile = rfile
        self._sock = sock
        self._chunked = chunked
        self._remaining = content_length or 0
        self._chunk_left = 0
        self._chunked_done = not chunked
        self._send_continue = send_continue
        self._body_cache = None
        self.body_started = False

    # -- body reading -------------------------------------------------
    def _start_body(self):
        if not self.body_started:
            self.body_started = True
            if self._send_continue is not None:
                self._send_continue()
                self._send_continue = None

    def has_body(self):
        return self._chunked or bool(self.content_length)

    def read(self, size=READ_CHUNK):
        """Read up to size bytes of the body; b"" at its end."""
        self._start_body()
        if not self._chunked:
            if self._remaining <= 0:
                return b""
            data = self._rfile.read(min(size, self._remaining))
            if not data:
                raise ConnectionError("client closed the connection in the middle of the body")
            self._remaining -= len(data)
            return data
        return self._read_chunked(size)

    def _read_chunked(self, size):
        if self._chunked_done:
            return b""
        if self._chunk_left == 0:
            line = self._rfile.readline(65537)
            if not line:
                raise ConnectionError("client closed the connection in the middle of the body")
            try:
                self._chunk_left = int(line.split(b";", 1)[0].strip(), 16)
            except ValueError:
                raise HttpError(Response(400, b"bad chunk size", content_type="text/plain"))
            if self._chunk_left == 0:
                while True:  # trailers end with an empty line
                    trailer = self._rfile.readline(65537)
                    if trailer in (b"\r\n", b"\n", b""):
                        break
                self._chunked_done = True
                return b""
        data = self._rfile.read(min(size, self._chunk_left))
        if not data:
            raise ConnectionError("client closed the connection in the middle of the body")
        self._chunk_left -= len(data)
        if self._chunk_left == 0:
            self._rfile.readline(3)
        return data

    def body(self, limit=64 * 1024 * 1024):
        """The whole body as bytes (HttpError 413 when it is larger than limit)."""
        if self._body_cache is not None:
            return self._body_cache
        if self.content_length is not None and self.content_length > limit:
            raise HttpError(Response(413, b"Request body too large", content_type="text/plain"))
        parts = []
        total = 0
        while True:
            data = self.read()
            if not data:
                break
            total += len(data)
            if total > limit:
                raise HttpError(Response(413, b"Request body too large", content_type="text/plain"))
            parts.append(data)
        self._body_cache = b"".join(parts)
        return self._body_cache

    def body_to_file(self, fileobj):
        """Stream the body into an open binary file; returns the number of bytes written."""
        if self._body_cache is not None:
            fileobj.write(self._body_cache)
            return len(self._body_cache)
        total = 0
        if not self._chunked and self._sock is not None:
            return self._body_from_socket(fileobj)
        while True:
            data = self.read()
            if not data:
                return total
            fileobj.write(data)
            total += len(data)

    def _body_from_socket(self, fileobj):
        """What the connection's reader already buffered, then the rest straight from the socket into a
        reused buffer, written a megabyte at a time: the reader's own buffering (a copy and a Python call per
        TLS record) would double the emulator's CPU per uploaded megabyte."""
        self._start_body()
        total = 0
        buffered = self._rfile.read1(min(READ_CHUNK, self._remaining)) if self._remaining > 0 else b""
        if buffered:
            fileobj.write(buffered)
            self._remaining -= len(buffered)
            total += len(buffered)
        buffer = memoryview(bytearray(READ_CHUNK))
        while self._remaining > 0:
            wanted = min(READ_CHUNK, self._remaining)
            filled = 0
            while filled < wanted:
                count = self._sock.recv_into(buffer[filled:wanted])
                if not count:
                    raise ConnectionError("client closed the connection in the middle of the body")
                filled += count
            fileobj.write(buffer[:filled])
            self._remaining -= filled
            total += filled
        return total

    def body_complete(self):
        return self._chunked_done if self._chunked else self._remaining <= 0

    def unread_length(self):
        """Bytes of body still on the wire (None when unknown: chunked)."""
        return None if self._chunked else self._remaining

    def json(self):
        raw = self.body()
        if not raw.strip():
            raise HttpError(json_response(400, {"error": "empty body, JSON expected"}))
        try:
            return json.loads(raw.decode("utf-8-sig"))
        except (UnicodeDecodeError, ValueError) as err:
            raise HttpError(json_response(400, {"error": "invalid JSON: %s" % err}))

    # -- helpers -------------------------------------------------------
    def query_params(self):
        """Query string decoded into {name: value} (last one wins)."""
        from urllib.parse import parse_qsl
        return dict(parse_qsl(self.query, keep_blank_values=True))

    def form(self):
        from urllib.parse import parse_qsl
        return dict(parse_qsl(self.body().decode("utf-8", "replace"), keep_blank_values=True))

    def __repr__(self):
        return "<Request %s %s%s>" % (self.method, self.host, self.path)


class Response:
    def __init__(self, status, body=b"", headers=None, file_path=None, content_type=None):
        self.status = status
        if isinstance(body, str):
            body = body.encode("utf-8")
        self.body = body
        self.headers = dict(headers or {})
        self.file_path = file_path
        if content_type:
            self.headers["Content-Type"] = content_type

    def __repr__(self):
        return "<Response %s>" % self.status


class HttpError(Exception):
    """Raise anywhere in a handler; the proxy answers with e.response."""

    def __init__(self, response):
        super().__init__("HTTP %s" % response.status)
        self.response = response


def json_response(status, obj, headers=None):
    return Response(status, json.dumps(obj).encode("utf-8"), headers=headers,
                    content_type="application/json; charset=utf-8")


def sp_error(status, code, message, verbose=False):
    """SharePoint REST error: nometadata shape, or verbose when the client asked for odata=verbose."""
    key = "error" if verbose else "odata.error"
    ctype = "application/json;odata=verbose;charset=utf-8" if verbose else "application/json;odata=nometadata;charset=utf-8"
    body = {key: {"code": code, "message": {"lang": "en-US", "value": message}}}
    return Response(status, json.dumps(body).encode("utf-8"), content_type=ctype,
                    headers={"X-MS-Diagnostics": "1;reason=\"%s\"" % message[:100].replace('"', "'")})


def graph_error(status, code, message):
    now = datetime.now(timezone.utc).strftime("%Y-%m-%dT%H:%M:%S")
    request_id = str(uuid.uuid4())
    body = {"error": {"code": code, "message": message,
                      "innerError": {"date": now, "request-id": request_id, "client-request-id": request_id}}}
    return Response(status, json.dumps(body).encode("utf-8"), content_type="application/json",
                    headers={"request-id": request_id})


def wants_verbose(request):
    return "odata=verbose" in (request.headers.get("Accept") or "").lower()
