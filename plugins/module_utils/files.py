# -*- coding: utf-8 -*-
# Copyright (c) spo.user_profiles contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

"""Files and folders in SharePoint document libraries, over SharePoint REST.

Paths are server-relative and decoded (``/Shared Documents/ProfileImport``); they are sent with the
``…ByServerRelativePath(DecodedUrl=…)`` forms, quoted by ``odata.quote_literal``.
Uploads stream from disk: small files in one ``Files/add`` request, larger ones through
``StartUpload`` / ``ContinueUpload`` / ``FinishUpload`` with bounded file slices, resuming from the
server's running total after a failed chunk and cancelling the session when the upload gives up.
"""

from __future__ import annotations

import hashlib
import os
import re
import uuid

from ansible_collections.spo.user_profiles.plugins.module_utils.constants import GUID_PATTERN
from ansible_collections.spo.user_profiles.plugins.module_utils.errors import SpoError
from ansible_collections.spo.user_profiles.plugins.module_utils.odata import quote_literal

# Microsoft's large-file guidance uses 10 MB fragments; the per-request limit of SharePoint REST is
# unconfirmed (clients use 4 MB to 250 MB). A file that fits in one chunk goes in one request, so no
# request body is ever larger than a chunk.
DEFAULT_CHUNK_SIZE = 10 * 1024 * 1024
DEFAULT_CHUNK_THRESHOLD = DEFAULT_CHUNK_SIZE
# How often one chunk is tried again from the last committed offset after the client's own retries gave up.
CHUNK_RESUME_ATTEMPTS = 3
# A download whose body is cut short is read again from the start this many times.
DOWNLOAD_ATTEMPTS = 3
DOWNLOAD_BLOCK = 1024 * 1024
# MoveOperations.Overwrite (docs/protocol_notes.md, "Moving a file").
MOVE_OVERWRITE = 1

_NOMETADATA = {"Accept": "application/json;odata=nometadata"}
_INTEGER = re.compile(r"\d+")
_EXPECTED = re.compile(r"expected\D{0,20}?(\d+)", re.IGNORECASE)
_GUID = re.compile(GUID_PATTERN)


def sha256_file(path):
    """The SHA-256 (hex) of a local file, read in blocks of 1 MiB."""
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for block in iter(lambda: handle.read(1024 * 1024), b""):
            digest.update(block)
    return digest.hexdigest()


def chunk_problems(chunk_size, chunk_threshold):
    """What is wrong with the chunked upload options, as "<option>: <why>" lines."""
    if chunk_size < 1:
        yield "chunk_size: must be a positive number of bytes, not %d" % chunk_size
    if chunk_threshold < 0:
        yield "chunk_threshold: must be 0 or more bytes, not %d" % chunk_threshold


class FileSlice:
    """A read-only window ``[start, start + length)`` of an open binary file.

    ``tell`` and ``seek`` are relative to the window, and it has ``__len__`` but no ``fileno``, so requests
    sends exactly ``length`` bytes and SpoClient's retry (seek back to the start position) re-sends the same bytes.
    """

    def __init__(self, fileobj, start, length):
        self._file = fileobj
        self._start = start
        self._length = length
        self._position = 0
        self._file.seek(start)

    def __len__(self):
        return self._length

    def tell(self):
        return self._position

    def seek(self, offset, whence=os.SEEK_SET):
        if whence == os.SEEK_SET:
            target = offset
        elif whence == os.SEEK_CUR:
            target = self._position + offset
        elif whence == os.SEEK_END:
            target = self._length + offset
        else:
            raise ValueError("invalid whence %r" % (whence,))
        self._position = min(max(target, 0), self._length)
        self._file.seek(self._start + self._position)
        return self._position

    def read(self, size=-1):
        remaining = self._length - self._position
        if size is None or size < 0 or size > remaining:
            size = remaining
        if size <= 0:
            return b""
        self._file.seek(self._start + self._position)
        data = self._file.read(size)
        self._position += len(data)
        return data


def _api(site_url):
    return site_url.rstrip("/") + "/_api/web"


def _file_path(site_url, server_relative_url):
    return "%s/GetFileByServerRelativePath(DecodedUrl=%s)" % (_api(site_url), quote_literal(server_relative_url))


def _folder_path(site_url, folder_url):
    return "%s/GetFolderByServerRelativePath(DecodedUrl=%s)" % (_api(site_url), quote_literal(folder_url))


def _decoded_url(entity):
    path = entity.get("ServerRelativePath")
    if isinstance(path, dict) and path.get("DecodedUrl"):
        return path["DecodedUrl"]
    return entity.get("ServerRelativeUrl")


def _file_info(entity):
    return {
        "name": entity.get("Name"),
        "server_relative_url": _decoded_url(entity),
        "length": int(entity.get("Length") or 0),
        "time_last_modified": entity.get("TimeLastModified"),
        "etag": entity.get("ETag"),
    }


def _folder_info(entity):
    return {
        "name": entity.get("Name"),
        "server_relative_url": _decoded_url(entity),
        "time_last_modified": entity.get("TimeLastModified"),
    }


def _get_entity(client, url, operation):
    """The nometadata JSON of ``url``, or None on 404 or ``Exists: false``."""
    response = client.request("GET", url, operation, headers=dict(_NOMETADATA), allow_status=(404,))
    if response.status_code == 404:
        return None
    entity = response.json() if response.content else {}
    if entity.get("Exists") is False:
        return None
    return entity


def _collection(client, url, operation):
    """All items of a REST collection, following ``odata.nextLink``; an empty list when the parent is missing."""
    items = []
    while url:
        response = client.request("GET", url, operation, headers=dict(_NOMETADATA), allow_status=(404,))
        if response.status_code == 404:
            return []
        body = response.json()
        items.extend(body.get("value", []))
        url = body.get("odata.nextLink")
    return items


def get_file(client, site_url, server_relative_url):
    entity = _get_entity(client, _file_path(site_url, server_relative_url), "get file %s" % server_relative_url)
    return None if entity is None else _file_info(entity)


def list_files(client, site_url, folder_url):
    items = _collection(client, _folder_path(site_url, folder_url) + "/Files", "list files in %s" % folder_url)
    return [_file_info(item) for item in items]


def list_folders(client, site_url, folder_url):
    items = _collection(client, _folder_path(site_url, folder_url) + "/Folders", "list folders in %s" % folder_url)
    return [_folder_info(item) for item in items]


def _folder_exists(client, site_url, folder_url):
    return _get_entity(client, _folder_path(site_url, folder_url), "get folder %s" % folder_url) is not None


def ensure_folder(client, site_url, folder_url):
    """Create ``folder_url`` and its missing parents; True when something was created."""
    folder_url = "/" + folder_url.strip("/")
    if _folder_exists(client, site_url, folder_url):
        return False
    parent = folder_url.rsplit("/", 1)[0]
    if parent:
        ensure_folder(client, site_url, parent)
    client.sp("POST", "%s/Folders/AddUsingPath(DecodedUrl=%s)" % (_api(site_url), quote_literal(folder_url)),
              "create folder %s" % folder_url)
    return True


def read_file(client, site_url, server_relative_url, missing_ok=False):
    """The file's bytes; with missing_ok, None when there is no such file."""
    response = client.request("GET", _file_path(site_url, server_relative_url) + "/$value",
                              "read file %s" % server_relative_url, allow_status=(404,) if missing_ok else ())
    if response.status_code == 404:
        return None
    return response.content


def _write_body(response, path):
    """Stream a response body into path; the byte count. OSError (requests' errors are OSErrors) when cut short."""
    size = 0
    with open(path, "wb") as handle:
        for block in response.iter_content(DOWNLOAD_BLOCK):
            handle.write(block)
            size += len(block)
    expected = response.headers.get("Content-Length")
    # With a Content-Encoding the length counts the encoded bytes, not the ones written.
    if expected is not None and expected.isdigit() and not response.headers.get("Content-Encoding") and int(expected) != size:
        raise OSError("received %d of %s bytes" % (size, expected))
    return size


def download_file(client, site_url, server_relative_url, path):
    """Stream a file into the local ``path`` (memory stays flat); its size, or None when there is no such file.

    A body cut short is read again from the start, DOWNLOAD_ATTEMPTS times in all.
    """
    operation = "read file %s" % server_relative_url
    url = _file_path(site_url, server_relative_url) + "/$value"
    for attempt in range(1, DOWNLOAD_ATTEMPTS + 1):
        response = client.request("GET", url, operation, stream=True, allow_status=(404,))
        if response.status_code == 404:
            return None
        try:
            return _write_body(response, path)
        except OSError as err:
            if attempt == DOWNLOAD_ATTEMPTS:
                raise SpoError("the download was cut short %d times: %s" % (attempt, err), operation=operation)
        finally:
            response.close()


def move_file(client, site_url, server_relative_url, new_url, overwrite=True):
    """Rename a file within its site (SP.File moveTo); with overwrite, a file already at new_url is replaced."""
    client.sp("POST", "%s/moveTo(newUrl=%s,flags=%d)" % (_file_path(site_url, server_relative_url), quote_literal(new_url),
                                                         MOVE_OVERWRITE if overwrite else 0),
              "move %s to %s" % (server_relative_url, new_url))


def _delete(client, url, operation):
    response = client.request("DELETE", url, operation, headers={"IF-MATCH": "*"}, allow_status=(404,))
    return response.status_code != 404


def delete_file(client, site_url, server_relative_url):
    return _delete(client, _file_path(site_url, server_relative_url), "delete file %s" % server_relative_url)


def delete_folder(client, site_url, folder_url):
    return _delete(client, _folder_path(site_url, folder_url), "delete folder %s" % folder_url)


def _running_total(body):
    """StartUpload / ContinueUpload answer ``{"value": "<Int64>"}`` (nometadata) or the verbose form."""
    if isinstance(body, dict):
        if "value" in body:
            return int(body["value"])
        inner = body.get("d")
        if isinstance(inner, dict) and inner:
            return int(next(iter(inner.values())))
    raise SpoError("unexpected answer to a chunk upload: %r" % (body,), operation="upload")


def _expected_offset(err, committed, chunk_end):
    """The offset the server says it expects, read from its error; None when it names none in range.

    A number right after "expected" wins; otherwise the first number in range that is not part of a GUID.
    """
    for text in (err.message, str(err.details or "")):
        text = _GUID.sub("", text or "")
        numbers = _EXPECTED.findall(text) + _INTEGER.findall(text)
        for number in numbers:
            value = int(number)
            if committed < value <= chunk_end:
                return value
    return None


def _add_file_url(site_url, folder_url, name):
    return "%s/Files/add(url=%s,overwrite=true)" % (_folder_path(site_url, folder_url), quote_literal(name))


def upload_bytes(client, site_url, folder_url, name, data):
    """Upload a small in-memory file in one request, overwriting (thumbnails, manifests: far below a chunk)."""
    client.sp("POST", _add_file_url(site_url, folder_url, name), "upload %s/%s" % (folder_url, name), data=data)


def _upload_simple(client, site_url, folder_url, name, fileobj, size):
    return client.sp("POST", _add_file_url(site_url, folder_url, name), "upload %s" % name, data=FileSlice(fileobj, 0, size))


def _upload_chunked(client, site_url, folder_url, name, fileobj, size, chunk_size):
    server_relative_url = folder_url.rstrip("/") + "/" + name
    upload_id = str(uuid.uuid4())
    file_url = _file_path(site_url, server_relative_url)
    operation = "upload %s" % name
    # The Python library's form: an empty file first, then the session on it (reference §4.2).
    client.sp("POST", _add_file_url(site_url, folder_url, name), operation, data=b"")
    committed = 0
    try:
        # Fragments end at multiples of chunk_size; the last one goes with FinishUpload. When the whole file
        # is one fragment, StartUpload opens the session with an empty body.
        first_end = min(chunk_size, size) if size > chunk_size else 0
        body = client.sp("POST", "%s/StartUpload(uploadId=guid'%s')" % (file_url, upload_id), operation,
                         data=FileSlice(fileobj, 0, first_end))
        committed = _running_total(body)
        while True:
            chunk_end = min(committed + chunk_size, size)
            finish = chunk_end >= size
            method = "FinishUpload" if finish else "ContinueUpload"
            result = _send_chunk(client, file_url, upload_id, method, fileobj, committed, chunk_end, operation)
            if finish and result[0] == "finished":
                return result[1]
            if result[1] <= committed:
                raise SpoError("the server's running total %s did not advance past %d" % (result[1], committed), operation=operation)
            committed = result[1]
    except Exception:
        # Until FinishUpload commits, the file stays the empty stub: its full size means the commit happened
        # and only the answer was lost.
        try:
            present = get_file(client, site_url, server_relative_url)
        except SpoError:
            present = None
        if present is not None and present["length"] == size:
            return None
        try:
            client.sp("POST", "%s/CancelUpload(uploadId=guid'%s')" % (file_url, upload_id), operation)
        except SpoError:
            pass
        try:
            delete_file(client, site_url, server_relative_url)
        except SpoError:
            pass
        raise


def _send_chunk(client, file_url, upload_id, method, fileobj, committed, chunk_end, operation):
    """Send ``[committed, chunk_end)``; returns ("finished", file entity) or ("committed", running total).

    After a transport or server failure the chunk is sent again from the last committed offset; when the
    server names another offset (it had the bytes after all), the upload continues from there.
    """
    start = committed
    last_error = None
    for dummy in range(CHUNK_RESUME_ATTEMPTS + 1):
        url = "%s/%s(uploadId=guid'%s',fileOffset=%d)" % (file_url, method, upload_id, start)
        try:
            body = client.sp("POST", url, operation, data=FileSlice(fileobj, start, chunk_end - start))
        except SpoError as err:
            last_error = err
            expected = _expected_offset(err, committed, chunk_end)
            if expected is None and err.status is not None and err.status < 500:
                raise  # refused for a reason other than the offset: sending again will not help
            if expected is not None and expected != start:
                if expected == chunk_end and method == "ContinueUpload":
                    return ("committed", expected)
                start = expected
            continue
        if method == "FinishUpload":
            return ("finished", body)
        return ("committed", _running_total(body))
    raise last_error


def upload_file(client, site_url, folder_url, name, path, chunk_size=DEFAULT_CHUNK_SIZE, chunk_threshold=DEFAULT_CHUNK_THRESHOLD):
    """Upload the local file ``path`` as ``folder_url/name`` (overwriting); returns its file dict."""
    if chunk_size <= 0:
        raise ValueError("chunk_size must be positive")
    size = os.path.getsize(path)
    with open(path, "rb") as fileobj:
        if size <= chunk_threshold:
            entity = _upload_simple(client, site_url, folder_url, name, fileobj, size)
        else:
            entity = _upload_chunked(client, site_url, folder_url, name, fileobj, size, chunk_size)
    info = _file_info(entity or {})
    if not info["name"]:
        info = get_file(client, site_url, folder_url.rstrip("/") + "/" + name)
    return info
