# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

import hashlib
import io
import json
import os
import re
from urllib.parse import unquote

import pytest

from ansible_collections.spo.user_profiles.plugins.module_utils import files
from ansible_collections.spo.user_profiles.plugins.module_utils.errors import SpoError

SITE = "https://contoso.sharepoint.com"
LIB = "/Shared Documents"


class FakeResponse:
    def __init__(self, status, body=None, content=None, cut_at=None):
        self.status_code = status
        if content is None:
            content = b"" if body is None else json.dumps(body).encode()
        self.content = content
        self.headers = {"Content-Length": str(len(content))}
        self.cut_at = cut_at
        self.closed = False

    def json(self):
        return json.loads(self.content)

    def iter_content(self, size):
        end = len(self.content) if self.cut_at is None else self.cut_at
        for start in range(0, end, 3):
            yield self.content[start:min(start + 3, end)]
        if self.cut_at is not None:
            raise ConnectionResetError("connection reset by peer")

    def close(self):
        self.closed = True


def _literal(text):
    """Decode the first OData literal in text."""
    match = re.search(r"'((?:[^']|'')*)'", text)
    return unquote(match.group(1).replace("''", "'"))


class FakeSharePoint:
    """An in-memory document library answering the REST forms files.py sends (spo_protocol.md §4)."""

    def __init__(self):
        self.folders = {LIB}
        self.files = {}
        self.sessions = {}
        self.calls = []
        # faults: list of (method name, call number) -> "drop" (body lost) or "lost_reply" (committed, reply lost)
        self.faults = {}
        self.method_counts = {}
        # downloads whose body is cut short after this many bytes, one entry per attempt
        self.cut_downloads = []

    def _read(self, data):
        if data is None:
            return b""
        if isinstance(data, bytes):
            return data
        chunks = []
        while True:
            block = data.read(7)
            if not block:
                return b"".join(chunks)
            chunks.append(block)

    def _entity(self, path):
        content = self.files[path]
        return {"Name": path.rsplit("/", 1)[1], "ServerRelativeUrl": path, "Length": str(len(content)),
                "TimeLastModified": "2026-01-01T00:00:00Z", "ETag": '"{X},1"', "Exists": True}

    def request(self, method, url, operation, headers=None, params=None, data=None, json=None, stream=False,
                allow_status=(), timeout=None):
        assert url.startswith(SITE + "/_api/web/")
        tail = url[len(SITE) + len("/_api/web/"):]
        name_match = re.search(r"/(\w+)\(uploadId=guid'([^']+)'(?:,fileOffset=(\d+))?\)$", tail)
        self.calls.append((method, tail))
        status, body, content = self._dispatch(method, tail, name_match, data)
        if status >= 300 and status not in allow_status:
            raise SpoError(body["odata.error"]["message"]["value"], status=status, operation=operation)
        cut_at = self.cut_downloads.pop(0) if stream and self.cut_downloads else None
        return FakeResponse(status, body, content, cut_at=cut_at)

    def sp(self, method, url, operation, **kw):
        response = self.request(method, url, operation, **kw)
        return response.json() if response.content else None

    def _not_found(self):
        return 404, {"odata.error": {"code": "-2147024894, System.IO.FileNotFoundException",
                                     "message": {"lang": "en-US", "value": "File Not Found."}}}, None

    def _dispatch(self, method, tail, upload, data):
        if upload:
            return self._upload(tail, upload, data)
        path = _literal(tail)
        if tail.startswith("GetFileByServerRelativePath"):
            if path not in self.files:
                return self._not_found()
            if method == "DELETE":
                del self.files[path]
                return 200, None, None
            if tail.endswith("/$value"):
                return 200, None, self.files[path]
            move = re.search(r"/moveTo\(newUrl=('(?:[^']|'')*'),flags=(\d)\)$", tail)
            if move:
                target = _literal(move.group(1))
                if target in self.files and move.group(2) != "1":
                    return 400, {"odata.error": {"code": "-2130575257, Microsoft.SharePoint.SPException",
                                                 "message": {"lang": "en-US", "value": "A file with the name already exists."}}}, None
                self.files[target] = self.files.pop(path)
                return 200, {"odata.null": True}, None
            return 200, self._entity(path), None
        if tail.startswith("GetFolderByServerRelativePath"):
            if path not in self.folders:
                return self._not_found()
            if method == "DELETE":
                self.folders = {f for f in self.folders if f != path and not f.startswith(path + "/")}
                self.files = {f: c for f, c in self.files.items() if not f.startswith(path + "/")}
                return 200, None, None
            if "/Files/add(" in tail:
                name = _literal(tail.split("/Files/add(", 1)[1])
                self.files[path + "/" + name] = self._read(data)
                return 200, self._entity(path + "/" + name), None
            if tail.endswith("/Files"):
                return 200, {"value": [self._entity(f) for f in sorted(self.files) if f.rsplit("/", 1)[0] == path]}, None
            if tail.endswith("/Folders"):
                return 200, {"value": [{"Name": f.rsplit("/", 1)[1], "ServerRelativeUrl": f}
                                       for f in sorted(self.folders) if f.rsplit("/", 1)[0] == path]}, None
            return 200, {"Name": path.rsplit("/", 1)[1], "ServerRelativeUrl": path, "Exists": True}, None
        if tail.startswith("Folders/AddUsingPath"):
            assert path.rsplit("/", 1)[0] in self.folders, "parent must exist first"
            self.folders.add(path)
            return 200, {"Name": path.rsplit("/", 1)[1], "ServerRelativeUrl": path}, None
        raise AssertionError("unexpected request " + tail)

    def _upload(self, tail, match, data):
        name, upload_id, offset = match.group(1), match.group(2), match.group(3)
        path = _literal(tail)
        count = self.method_counts[name] = self.method_counts.get(name, 0) + 1
        fault = self.faults.get((name, count))
        if name == "CancelUpload":
            self.sessions.pop(upload_id, None)
            return 200, None, None
        if name == "StartUpload":
            self.sessions[upload_id] = bytearray(self._read(data))
            return 200, {"value": str(len(self.sessions[upload_id]))}, None
        if upload_id not in self.sessions:
            return 404, {"odata.error": {"code": "-2130575338, Microsoft.SharePoint.SPException",
                                         "message": {"lang": "en-US", "value": "The upload session does not exist."}}}, None
        session = self.sessions[upload_id]
        if int(offset) != len(session):
            return 400, {"odata.error": {"code": "-1, Microsoft.SharePoint.Client.InvalidClientQueryException",
                                         "message": {"lang": "en-US", "value": "The fileOffset %s does not match the expected "
                                                     "offset %d of upload session %s." % (offset, len(session), upload_id)}}}, None
        if fault == "forbidden":
            return 403, {"odata.error": {"code": "-2147024891, System.UnauthorizedAccessException",
                                         "message": {"lang": "en-US", "value": "Access denied."}}}, None
        chunk = self._read(data)
        if fault == "drop":
            raise SpoError("Connection aborted.", operation="upload")
        session.extend(chunk)
        if name == "FinishUpload":
            self.files[path] = bytes(self.sessions.pop(upload_id))
        if fault == "lost_reply":
            raise SpoError("Connection aborted.", operation="upload")
        if name == "FinishUpload":
            return 200, self._entity(path), None
        return 200, {"value": str(len(session))}, None


@pytest.fixture
def sp():
    return FakeSharePoint()


@pytest.fixture
def payload(tmp_path):
    path = tmp_path / "data.bin"
    path.write_bytes(os.urandom(1000))
    return path


def test_file_slice_reads_only_its_window_and_reseeks():
    source = io.BytesIO(b"0123456789")
    window = files.FileSlice(source, 3, 4)
    assert len(window) == 4
    assert window.read(3) == b"345"
    assert window.read() == b"6"
    assert window.read() == b""
    window.seek(0)
    assert window.tell() == 0
    assert window.read(100) == b"3456"
    window.seek(-1, os.SEEK_END)
    assert window.read() == b"6"
    assert not hasattr(window, "fileno")


def test_file_slice_length_seen_by_requests():
    requests_utils = pytest.importorskip("requests.utils")
    window = files.FileSlice(io.BytesIO(b"0123456789"), 2, 5)
    assert requests_utils.super_len(window) == 5


def test_simple_upload_below_threshold(sp, payload):
    info = files.upload_file(sp, SITE, LIB, "a.json", str(payload), chunk_size=400, chunk_threshold=1000)
    assert info["server_relative_url"] == LIB + "/a.json"
    assert info["length"] == 1000
    assert sp.files[LIB + "/a.json"] == payload.read_bytes()
    assert not any("StartUpload" in tail for dummy, tail in sp.calls)


def test_chunked_upload_sends_fragments_in_order(sp, payload):
    info = files.upload_file(sp, SITE, LIB, "big.json", str(payload), chunk_size=300, chunk_threshold=500)
    assert sp.files[LIB + "/big.json"] == payload.read_bytes()
    assert info["length"] == 1000
    names = [re.search(r"/(\w+)\(uploadId", tail).group(1) for dummy, tail in sp.calls if "uploadId" in tail]
    assert names == ["StartUpload", "ContinueUpload", "ContinueUpload", "FinishUpload"]
    offsets = [int(m.group(1)) for dummy, tail in sp.calls for m in [re.search(r"fileOffset=(\d+)", tail)] if m]
    assert offsets == [300, 600, 900]


def test_single_fragment_above_threshold_starts_empty(sp, payload):
    files.upload_file(sp, SITE, LIB, "one.json", str(payload), chunk_size=4000, chunk_threshold=10)
    assert sp.files[LIB + "/one.json"] == payload.read_bytes()


def test_chunk_dropped_mid_body_is_resent_from_committed_offset(sp, payload):
    sp.faults[("ContinueUpload", 1)] = "drop"
    files.upload_file(sp, SITE, LIB, "big.json", str(payload), chunk_size=300, chunk_threshold=500)
    assert sp.files[LIB + "/big.json"] == payload.read_bytes()
    continues = [tail for dummy, tail in sp.calls if "ContinueUpload" in tail]
    assert "fileOffset=300" in continues[0] and "fileOffset=300" in continues[1]


def test_lost_reply_continues_from_offset_the_server_names(sp, payload):
    sp.faults[("ContinueUpload", 1)] = "lost_reply"
    files.upload_file(sp, SITE, LIB, "big.json", str(payload), chunk_size=300, chunk_threshold=500)
    assert sp.files[LIB + "/big.json"] == payload.read_bytes()


def test_lost_reply_to_finish_keeps_the_committed_file(sp, payload):
    sp.faults[("FinishUpload", 1)] = "lost_reply"
    info = files.upload_file(sp, SITE, LIB, "big.json", str(payload), chunk_size=300, chunk_threshold=500)
    assert sp.files[LIB + "/big.json"] == payload.read_bytes()
    assert info["length"] == 1000
    assert not any("CancelUpload" in tail for dummy, tail in sp.calls)


def test_refusal_is_not_retried(sp, payload):
    sp.faults[("ContinueUpload", 1)] = "forbidden"
    with pytest.raises(SpoError) as caught:
        files.upload_file(sp, SITE, LIB, "big.json", str(payload), chunk_size=300, chunk_threshold=500)
    assert caught.value.status == 403
    assert sum("ContinueUpload" in tail for dummy, tail in sp.calls) == 1
    assert LIB + "/big.json" not in sp.files


def test_final_failure_cancels_and_leaves_no_file(sp, payload):
    for attempt in range(1, 10):
        sp.faults[("ContinueUpload", attempt)] = "drop"
    with pytest.raises(SpoError):
        files.upload_file(sp, SITE, LIB, "big.json", str(payload), chunk_size=300, chunk_threshold=500)
    assert LIB + "/big.json" not in sp.files
    assert any("CancelUpload" in tail for dummy, tail in sp.calls)
    assert not sp.sessions


@pytest.mark.parametrize("message,expected", [
    ("The fileOffset 300 does not match the expected offset 600 of upload session 5f4e7a2c-9d1b-4c3e-8a7f-6b5d4c3e2f1a.", 600),
    ("Expected offset: 450", 450),
    ("upload session 5f4e7a2c-9d1b-4c3e-8a7f-6b5d4c3e2f1a is broken", None),
    ("offset 900 is wrong", None),
])
def test_expected_offset_parsing(message, expected):
    assert files._expected_offset(SpoError(message, status=400), 300, 600) == expected


def test_get_list_read_delete(sp, payload):
    files.upload_file(sp, SITE, LIB, "O'Neil ü.json", str(payload))
    path = LIB + "/O'Neil ü.json"
    assert files.get_file(sp, SITE, path)["length"] == 1000
    assert files.get_file(sp, SITE, LIB + "/missing.json") is None
    assert [f["name"] for f in files.list_files(sp, SITE, LIB)] == ["O'Neil ü.json"]
    assert files.read_file(sp, SITE, path) == payload.read_bytes()
    assert files.delete_file(sp, SITE, path) is True
    assert files.delete_file(sp, SITE, path) is False
    assert files.list_files(sp, SITE, LIB + "/nowhere") == []


def test_urls_quote_literals(sp, payload):
    files.upload_file(sp, SITE, LIB, "O'Neil.json", str(payload))
    tail = sp.calls[-1][1]
    assert "GetFolderByServerRelativePath(DecodedUrl='/Shared%20Documents')/Files/add(url='O''Neil.json',overwrite=true)" == tail


def test_ensure_folder_creates_parents_once(sp):
    assert files.ensure_folder(sp, SITE, LIB + "/a/b/c") is True
    assert {LIB + "/a", LIB + "/a/b", LIB + "/a/b/c"} <= sp.folders
    assert files.ensure_folder(sp, SITE, LIB + "/a/b/c") is False
    assert [f["name"] for f in files.list_folders(sp, SITE, LIB + "/a")] == ["b"]


def test_delete_folder(sp):
    files.ensure_folder(sp, SITE, LIB + "/x")
    assert files.delete_folder(sp, SITE, LIB + "/x") is True
    assert files.delete_folder(sp, SITE, LIB + "/x") is False


def test_upload_bytes_sends_one_request_and_overwrites(sp):
    folder = LIB + "/O'Neil photos"
    sp.folders.add(folder)
    files.upload_bytes(sp, SITE, folder, "a b.json", b"first")
    files.upload_bytes(sp, SITE, folder, "a b.json", b"second")
    assert sp.files == {folder + "/a b.json": b"second"}
    assert [method for method, _tail in sp.calls] == ["POST", "POST"]
    assert sp.calls[0][1] == ("GetFolderByServerRelativePath(DecodedUrl='/Shared%20Documents/O''Neil%20photos')"
                              "/Files/add(url='a%20b.json',overwrite=true)")


def test_download_streams_into_a_file_and_says_none_when_missing(sp, tmp_path):
    sp.files[LIB + "/b.gz"] = b"0123456789"
    target = tmp_path / "b.gz"
    assert files.download_file(sp, SITE, LIB + "/b.gz", str(target)) == 10
    assert target.read_bytes() == b"0123456789"
    assert files.download_file(sp, SITE, LIB + "/none.gz", str(tmp_path / "none")) is None


def test_download_cut_short_is_read_again_then_given_up(sp, tmp_path):
    sp.files[LIB + "/b.gz"] = b"0123456789"
    target = tmp_path / "b.gz"
    sp.cut_downloads = [4]
    assert files.download_file(sp, SITE, LIB + "/b.gz", str(target)) == 10
    assert target.read_bytes() == b"0123456789"
    sp.cut_downloads = [4] * files.DOWNLOAD_ATTEMPTS
    with pytest.raises(SpoError, match="cut short 3 times"):
        files.download_file(sp, SITE, LIB + "/b.gz", str(target))


def test_move_replaces_only_with_overwrite(sp):
    sp.files[LIB + "/new.tmp"] = b"new"
    sp.files[LIB + "/current"] = b"old"
    with pytest.raises(SpoError, match="already exists"):
        files.move_file(sp, SITE, LIB + "/new.tmp", LIB + "/current", overwrite=False)
    files.move_file(sp, SITE, LIB + "/new.tmp", LIB + "/current")
    assert sp.files == {LIB + "/current": b"new"}


@pytest.mark.parametrize("chunk_size, chunk_threshold, expected", [
    (1, 0, []),
    (0, -1, ["chunk_size: must be a positive number of bytes, not 0", "chunk_threshold: must be 0 or more bytes, not -1"]),
])
def test_chunk_options(chunk_size, chunk_threshold, expected):
    assert list(files.chunk_problems(chunk_size, chunk_threshold)) == expected


def test_sha256_file_reads_a_file_of_several_blocks_whole(tmp_path):
    data = bytes(range(256)) * (5 * 1024 * 1024 // 256 + 7)
    path = tmp_path / "big.bin"
    path.write_bytes(data)
    assert files.sha256_file(str(path)) == hashlib.sha256(data).hexdigest()
