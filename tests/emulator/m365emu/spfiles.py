"""Document libraries: folders, files and chunked uploads, stored on disk.

Layout under Tenant.site_dir(kind) (kind "root" or "my"):
    files/<server-relative path>        the folders and the file contents
    meta/<server-relative path>.meta    sidecar JSON per file or folder: unique id, times, version
    uploads/<upload id>/state.json|data chunked upload sessions
    tmp/                                bodies being received (renamed into place when complete)
Paths are matched case-insensitively, as SharePoint URLs are. Every library has a hidden "Forms"
folder, as real document libraries do (clients listing folders must cope with it).
"""

import datetime
import json
import os
import shutil
import threading
import time
import uuid
from urllib.parse import quote

from . import odata, web, webs
from . import sprest as sp

LIBRARIES = {
    "root": ["Shared Documents"],
    "my": ["User Photos", "User Photos/Profile Pictures"],
}
LIBRARY_ROOTS = {"root": ["Shared Documents"], "my": ["User Photos"]}
CODE_FILE_EXISTS = "-2130575257, Microsoft.SharePoint.SPException"
COPY_BUFFER = 1024 * 1024

_upload_locks = {}
_upload_locks_guard = threading.Lock()


# ---------------------------------------------------------------- storage

def receive_body(request, handle):
    """Stream the request body into handle; returns the byte count. Raises ConnectionError when the body
    is shorter than its Content-Length (the caller then discards what was written)."""
    received = request.body_to_file(handle)
    expected = request.content_length
    if expected is not None and received != expected:
        raise ConnectionError("request body cut short")
    return received


class Library:
    """The document storage of one host (root or my) of one tenant."""

    def __init__(self, tenant, kind):
        self.tenant = tenant
        self.kind = kind
        self.base = tenant.site_dir(kind)
        self.files = os.path.join(self.base, "files")
        self.meta = os.path.join(self.base, "meta")
        self.uploads = os.path.join(self.base, "uploads")
        self.tmp = os.path.join(self.base, "tmp")
        self.ensure_site("")

    def ensure_site(self, web_path):
        webs.register(self.tenant, self.kind, web_path)
        libraries = LIBRARIES[self.kind] if not web_path else ["Shared Documents"]
        roots = LIBRARY_ROOTS[self.kind] if not web_path else ["Shared Documents"]
        for library in libraries:
            path = self.fs(web_path + "/" + library, exact=True)
            if not os.path.isdir(path):
                os.makedirs(path, exist_ok=True)
        for library in roots:
            forms = self.fs(web_path + "/" + library + "/Forms", exact=True)
            if not os.path.isdir(forms):
                os.makedirs(forms, exist_ok=True)

    # paths -----------------------------------------------------------
    def fs(self, url, exact=False, base=None):
        """File system path for a normalised server-relative URL, resolving case-insensitively."""
        base = base or self.files
        parts = [p for p in url.split("/") if p]
        path = base
        for part in parts:
            if part in (".", ".."):
                raise odata.bad_request("The expression \"%s\" is not valid." % url)
            candidate = os.path.join(path, part)
            if not exact and not os.path.exists(candidate) and os.path.isdir(path):
                lowered = part.lower()
                for entry in os.listdir(path):
                    if entry.lower() == lowered:
                        candidate = os.path.join(path, entry)
                        break
            path = candidate
        return path

    def canonical_url(self, fs_path):
        rel = os.path.relpath(fs_path, self.files)
        return "/" if rel == "." else "/" + rel.replace(os.sep, "/")

    def meta_path(self, fs_path):
        rel = os.path.relpath(fs_path, self.files)
        return os.path.join(self.meta, rel + ".meta")

    # metadata --------------------------------------------------------
    def read_meta(self, fs_path):
        try:
            with open(self.meta_path(fs_path), "r", encoding="utf-8") as handle:
                return json.load(handle)
        except (OSError, ValueError):
            stat = os.stat(fs_path)
            return {"unique_id": str(uuid.uuid5(uuid.NAMESPACE_URL, self.canonical_url(fs_path).lower())),
                    "created": stat.st_mtime, "modified": stat.st_mtime, "version": 1}

    def write_meta(self, fs_path, meta):
        target = self.meta_path(fs_path)
        os.makedirs(os.path.dirname(target), exist_ok=True)
        temp = target + ".%s.tmp" % uuid.uuid4().hex
        with open(temp, "w", encoding="utf-8") as handle:
            json.dump(meta, handle)
        os.replace(temp, target)

    def new_meta(self, fs_path, previous=None):
        now = time.time()
        if previous:
            return {"unique_id": previous["unique_id"], "created": previous["created"], "modified": now,
                    "version": previous.get("version", 1) + 1}
        return {"unique_id": str(uuid.uuid4()), "created": now, "modified": now, "version": 1}

    # operations --------------------------------------------------------
    def temp_file(self):
        os.makedirs(self.tmp, exist_ok=True)
        return os.path.join(self.tmp, uuid.uuid4().hex)

    def commit_file(self, temp_path, fs_path):
        """Move a completely received file into place and bump its version."""
        with self.tenant.lock:
            previous = self.read_meta(fs_path) if os.path.isfile(fs_path) else None
            if previous is not None:
                # ext4 flushes a file renamed over an existing one to disk first (auto_da_alloc), 0.2 s per
                # 512 MB; moving the old one aside makes it a plain rename
                aside = self.temp_file()
                os.replace(fs_path, aside)
                os.replace(temp_path, fs_path)
                os.unlink(aside)
            else:
                os.replace(temp_path, fs_path)
            meta = self.new_meta(fs_path, previous)
            self.write_meta(fs_path, meta)
        return meta

    def make_folder(self, fs_path):
        created = False
        with self.tenant.lock:
            missing = []
            path = fs_path
            while not os.path.isdir(path) and os.path.normpath(path) != os.path.normpath(self.files):
                missing.append(path)
                path = os.path.dirname(path)
            for folder in reversed(missing):
                if os.path.exists(folder):
                    raise odata.bad_request("A file with the name %s already exists." % self.canonical_url(folder))
                os.mkdir(folder)
                self.write_meta(folder, self.new_meta(folder))
                created = True
        return created

    def move_file(self, fs_path, target_path, overwrite):
        """Rename a file (its metadata goes with it); False when the target exists and overwrite is not set."""
        with self.tenant.lock:
            if os.path.isfile(target_path) and not overwrite:
                return False
            meta = self.read_meta(fs_path)
            os.replace(fs_path, target_path)
            self.write_meta(target_path, dict(meta, modified=time.time()))
            try:
                os.remove(self.meta_path(fs_path))
            except OSError:
                pass
        return True

    def remove(self, fs_path):
        with self.tenant.lock:
            if os.path.isdir(fs_path):
                shutil.rmtree(fs_path)
                shutil.rmtree(os.path.splitext(self.meta_path(fs_path))[0], ignore_errors=True)
            else:
                os.remove(fs_path)
            try:
                os.remove(self.meta_path(fs_path))
            except OSError:
                pass


def normalise(url, web_path=""):
    """Server-relative URL from what a client sent: server- or site-relative, with or without '/'."""
    url = (url or "").replace("\\", "/")
    if url.lower().startswith("https://"):
        url = "/" + url.split("/", 3)[3] if url.count("/") >= 3 else "/"
    parts = [p for p in url.split("/") if p]
    web_parts = [p for p in web_path.split("/") if p]
    if not url.startswith("/"):
        starts_with_web = web_parts and [p.lower() for p in parts[:len(web_parts)]] == [p.lower() for p in web_parts]
        if not starts_with_web:
            parts = web_parts + parts
    return "/" + "/".join(parts)


def iso(timestamp):
    return datetime.datetime.fromtimestamp(timestamp, datetime.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def file_info(library, fs_path):
    meta = library.read_meta(fs_path)
    size = os.path.getsize(fs_path)
    version = meta.get("version", 1)
    unique = meta["unique_id"].lower()
    return {
        "CheckInComment": "", "CheckOutType": 2,
        "ContentTag": "{%s},%d,%d" % (unique.upper(), version, version),
        "CustomizedPageStatus": 0,
        "ETag": "\"{%s},%d\"" % (unique.upper(), version),
        "Exists": True, "IrmEnabled": False, "Length": str(size), "Level": 1,
        "LinkingUri": None, "LinkingUrl": "", "MajorVersion": version, "MinorVersion": 0,
        "Name": os.path.basename(fs_path), "ServerRelativeUrl": library.canonical_url(fs_path),
        "TimeCreated": iso(meta["created"]), "TimeLastModified": iso(meta["modified"]),
        "Title": None, "UIVersion": 512 * version, "UIVersionLabel": "%d.0" % version,
        "UniqueId": unique,
    }


def folder_info(library, fs_path):
    meta = library.read_meta(fs_path)
    try:
        count = len(os.listdir(fs_path))
    except OSError:
        count = 0
    url = library.canonical_url(fs_path)
    return {
        "Exists": True, "IsWOPIEnabled": False, "ItemCount": count,
        "Name": "" if url == "/" else os.path.basename(fs_path), "ProgID": None,
        "ServerRelativeUrl": url, "TimeCreated": iso(meta["created"]),
        "TimeLastModified": iso(meta["modified"]), "UniqueId": meta["unique_id"].lower(), "WelcomePage": "",
    }


def _children(fs_path):
    files, folders = [], []
    for entry in sorted(os.listdir(fs_path), key=str.lower):
        full = os.path.join(fs_path, entry)
        (folders if os.path.isdir(full) else files).append(full)
    return files, folders


def list_for_control(tenant, host_kind, path):
    """Listing for the control plane: {"files": [...], "folders": [...]} or None if the folder is missing."""
    library = Library(tenant, host_kind)
    folder = library.fs(normalise(path))
    if not os.path.isdir(folder):
        return None
    files, folders = _children(folder)
    result = {"files": [], "folders": []}
    for path_ in files:
        info = file_info(library, path_)
        result["files"].append({"name": info["Name"], "length": int(info["Length"]),
                                "time_last_modified": info["TimeLastModified"],
                                "server_relative_url": info["ServerRelativeUrl"]})
    for path_ in folders:
        info = folder_info(library, path_)
        result["folders"].append({"name": info["Name"], "server_relative_url": info["ServerRelativeUrl"],
                                  "time_last_modified": info["TimeLastModified"]})
    return result


def age_for_control(tenant, host_kind, path, days, names=None):
    """Make the items of a folder (files and sub-folders) last changed `days` days ago, for retention tests; the
    names aged, or None if the folder is missing. `names` limits it to those items."""
    library = Library(tenant, host_kind)
    folder = library.fs(normalise(path))
    if not os.path.isdir(folder):
        return None
    moment = time.time() - float(days) * 86400
    wanted = {name.lower() for name in names} if names else None
    aged = []
    with tenant.lock:
        for name in sorted(os.listdir(folder)):
            if wanted is not None and name.lower() not in wanted:
                continue
            item = os.path.join(folder, name)
            meta = library.read_meta(item)
            meta["modified"] = moment
            meta["created"] = min(meta.get("created", moment), moment)
            library.write_meta(item, meta)
            os.utime(item, (moment, moment))
            aged.append(name)
    return aged


# Helpers for the import job engine -----------------------------------------

def local_path(tenant, host_kind, server_relative_url):
    """File system path of a file, or None if it does not exist."""
    library = Library(tenant, host_kind)
    path = library.fs(normalise(server_relative_url))
    return path if os.path.isfile(path) else None


def write_small_file(tenant, host_kind, server_relative_url, data):
    """Create or replace a small file (creating its folders); returns its canonical server-relative URL."""
    library = Library(tenant, host_kind)
    url = normalise(server_relative_url)
    folder_url, _sep, name = url.rpartition("/")
    folder = library.fs(folder_url)
    library.make_folder(folder)
    target = os.path.join(folder, name)
    temp = library.temp_file()
    with open(temp, "wb") as handle:
        handle.write(data)
    library.commit_file(temp, target)
    return library.canonical_url(target)


# ---------------------------------------------------------------- REST

class Target:
    def __init__(self, kind, library, fs_path, url):
        self.kind = kind          # "folder" | "file" | "web"
        self.library = library
        self.fs_path = fs_path
        self.url = url            # normalised server-relative URL as requested


def _uri(ctx, target):
    if target.kind == "file":
        return "%s/GetFileByServerRelativePath(decodedurl='%s')" % (ctx.web_api_url(), quote(target.url.replace("'", "''")))
    return "%s/GetFolderByServerRelativePath(decodedurl='%s')" % (ctx.web_api_url(), quote(target.url.replace("'", "''")))


def _deferred(ctx, uri, names):
    return {name: {"__deferred": {"uri": "%s/%s" % (uri, name)}} for name in names}


def file_body(ctx, target, fields=None):
    info = sp.select(file_info(target.library, target.fs_path), fields)
    uri = _uri(ctx, target)
    body = sp.entity_body(ctx, info, "SP.File", uri, file_info(target.library, target.fs_path)["ETag"] if ctx.verbose else None)
    if ctx.verbose and not fields:
        body.update(_deferred(ctx, uri, ["Author", "ListItemAllFields", "Versions"]))
    return body


def folder_body(ctx, target, fields=None, expand=()):
    info = sp.select(folder_info(target.library, target.fs_path), fields)
    uri = _uri(ctx, target)
    body = sp.entity_body(ctx, info, "SP.Folder", uri)
    expand = {e.lower() for e in expand}
    files, folders = (None, None)
    if expand & {"files", "folders"}:
        files, folders = _children(target.fs_path)
    if "files" in expand:
        items = [file_body(ctx, Target("file", target.library, p, target.library.canonical_url(p))) for p in files]
        body["Files"] = {"results": items} if ctx.verbose else items
    if "folders" in expand:
        items = [folder_body(ctx, Target("folder", target.library, p, target.library.canonical_url(p))) for p in folders]
        body["Folders"] = {"results": items} if ctx.verbose else items
    if ctx.verbose and not fields:
        for name in ("Files", "Folders", "ListItemAllFields", "ParentFolder", "Properties"):
            body.setdefault(name, {"__deferred": {"uri": "%s/%s" % (uri, name)}})
    return body


def _library_for(ctx):
    if ctx.host_kind == "admin":
        sp.sp_fail(ctx, 404, sp.CODE_NOT_FOUND, "File Not Found.")
    library = Library(ctx.tenant, ctx.host_kind)
    if ctx.web_path:
        library.ensure_site(ctx.web_path)
    return library


def _file_missing(ctx, url):
    sp.sp_fail(ctx, 404, sp.CODE_SP, "The file %s does not exist." % url)


def _folder_missing(ctx):
    sp.sp_fail(ctx, 404, sp.CODE_NOT_FOUND, "File Not Found.")


def _path_arg(segment):
    value = segment.arg("decodedurl", 0)
    if value is None:
        value = segment.arg("url", 0)
    if value is None:
        value = segment.arg("serverrelativeurl", 0)
    if not isinstance(value, str):
        raise odata.bad_request("The expression \"%s\" is not valid." % segment.name)
    return value


def _folder_target(ctx, library, url):
    path = library.fs(url)
    if not os.path.isdir(path):
        _folder_missing(ctx)
    return Target("folder", library, path, url)


def _file_target(ctx, library, url):
    path = library.fs(url)
    if not os.path.isfile(path):
        _file_missing(ctx, url)
    return Target("file", library, path, url)


def handle(ctx, segments):
    library = _library_for(ctx)
    target = Target("web", library, library.fs(ctx.web_path or "/"), ctx.web_path or "/")
    index = 0
    while index < len(segments):
        seg = segments[index]
        name = seg.lname
        if target.kind == "web":
            if name in ("getfolderbyserverrelativeurl", "getfolderbyserverrelativepath"):
                target = _folder_target(ctx, library, normalise(_path_arg(seg), ctx.web_path))
            elif name in ("getfilebyserverrelativeurl", "getfilebyserverrelativepath", "getfilebyurl"):
                target = _file_target(ctx, library, normalise(_path_arg(seg), ctx.web_path))
            elif name in ("getfilebyid", "getfolderbyid"):
                target = _by_unique_id(ctx, library, seg.arg("uniqueid", 0), name == "getfilebyid")
            elif name == "rootfolder":
                target = _folder_target(ctx, library, ctx.web_path or "/")
            elif name == "folders" and seg.args is None:
                return _folders_collection(ctx, target, segments[index + 1:])
            else:
                sp.not_found_resource(ctx, seg.name)
        elif target.kind == "folder":
            if name == "files":
                if seg.args:
                    target = _file_target(ctx, library, target.url.rstrip("/") + "/" + seg.args[0])
                else:
                    return _files_collection(ctx, target, segments[index + 1:])
            elif name == "folders":
                if seg.args:
                    target = _folder_target(ctx, library, target.url.rstrip("/") + "/" + seg.args[0])
                else:
                    return _folders_collection(ctx, target, segments[index + 1:])
            elif name == "parentfolder":
                parent = target.url.rsplit("/", 1)[0] or "/"
                target = _folder_target(ctx, library, parent)
            elif name in ("recycle", "deleteobject"):
                return _delete(ctx, target, recycle=name == "recycle")
            elif name in ("exists", "name", "serverrelativeurl", "itemcount", "uniqueid"):
                info = folder_info(library, target.fs_path)
                return sp.reply_value(ctx, seg.name, sp.select(info, [name]).popitem()[1])
            else:
                sp.not_found_resource(ctx, seg.name)
        else:
            return _file_op(ctx, target, seg, segments[index + 1:])
        index += 1
    return _entity(ctx, target)


def _by_unique_id(ctx, library, unique_id, want_file):
    """Find a file or folder by its UniqueId (a walk over the sidecar files: fine for test-sized sites)."""
    try:
        wanted = str(uuid.UUID(str(unique_id).strip("{}")))
    except ValueError:
        raise odata.bad_request("The expression \"%s\" is not a valid GUID." % unique_id)
    for folder, _dirs, names in os.walk(library.meta):
        for meta_name in names:
            if not meta_name.endswith(".meta"):
                continue
            meta_file = os.path.join(folder, meta_name)
            try:
                with open(meta_file, "r", encoding="utf-8") as handle:
                    found = json.load(handle).get("unique_id", "").lower() == wanted
            except (OSError, ValueError):
                continue
            if found:
                rel = os.path.relpath(meta_file, library.meta)[:-len(".meta")]
                path = os.path.join(library.files, rel)
                if want_file and os.path.isfile(path):
                    return Target("file", library, path, library.canonical_url(path))
                if not want_file and os.path.isdir(path):
                    return Target("folder", library, path, library.canonical_url(path))
    if want_file:
        sp.sp_fail(ctx, 404, sp.CODE_NOT_FOUND, "File Not Found.")
    _folder_missing(ctx)


def _entity(ctx, target):
    method = ctx.method()
    if method == "DELETE":
        return _delete(ctx, target)
    if method not in ("GET", "POST", "MERGE", "PATCH"):
        sp.sp_fail(ctx, 405, sp.CODE_INVALID_QUERY, "The HTTP method '%s' cannot be used." % method)
    if target.kind == "web":
        info = {"Id": str(uuid.uuid5(uuid.NAMESPACE_URL, ctx.base_url + ctx.web_path)),
                "ServerRelativeUrl": ctx.web_path or "/", "Title": "Communication site",
                "Url": ctx.base_url + ctx.web_path}
        return sp.reply_entity(ctx, sp.select(info, ctx.query_list("$select")), "SP.Web", ctx.web_api_url())
    fields = ctx.query_list("$select")
    if target.kind == "file":
        body = file_body(ctx, target, fields)
    else:
        body = folder_body(ctx, target, fields, ctx.query_list("$expand"))
    return sp.json_reply(ctx, {"d": body} if ctx.verbose else body)


def _delete(ctx, target, recycle=False):
    if target.kind == "web":
        sp.sp_fail(ctx, 403, sp.CODE_ACCESS_DENIED, "Attempted to perform an unauthorized operation.")
    unique = target.library.read_meta(target.fs_path)["unique_id"]
    target.library.remove(target.fs_path)
    if recycle:
        return sp.reply_value(ctx, "Recycle", unique)
    return web.Response(200, body=b"", headers={"request-id": str(uuid.uuid4())})


def _files_collection(ctx, folder, rest):
    if not rest:
        files, _folders = _children(folder.fs_path)
        fields = ctx.query_list("$select")
        items = [file_body(ctx, Target("file", folder.library, p, folder.library.canonical_url(p)), fields) for p in files]
        return sp.reply_collection(ctx, items)
    seg = rest[0]
    name = seg.lname
    if name in ("add", "addusingpath"):
        url = seg.arg("url") if name == "add" else seg.arg("decodedurl")
        if url is None and seg.args:
            url = seg.args[0]
        overwrite = seg.arg("overwrite", default=False)
        if not isinstance(url, str) or not url or "/" in url.strip("/"):
            raise odata.bad_request("The expression \"%s\" is not valid." % seg.name)
        return _add_file(ctx, folder, url.strip("/"), bool(overwrite), rest[1:])
    if name in ("getbypathoraddstub", "getbyurl", "getbypath"):
        file_name = _path_arg(seg).strip("/")
        target_url = folder.url.rstrip("/") + "/" + file_name
        path = folder.library.fs(target_url)
        if not os.path.isfile(path):
            if name != "getbypathoraddstub":
                _file_missing(ctx, target_url)
            temp = folder.library.temp_file()
            open(temp, "wb").close()
            path = os.path.join(folder.fs_path, file_name)
            folder.library.commit_file(temp, path)
        target = Target("file", folder.library, path, target_url)
        if rest[1:]:
            return _file_op(ctx, target, rest[1], rest[2:])
        return _entity(ctx, target)
    sp.not_found_resource(ctx, seg.name)


def _add_file(ctx, folder, name, overwrite, rest):
    if ctx.request.method != "POST":
        sp.sp_fail(ctx, 405, sp.CODE_INVALID_QUERY, "The HTTP method '%s' cannot be used." % ctx.request.method)
    library = folder.library
    target_path = library.fs(folder.url.rstrip("/") + "/" + name)
    if os.path.isdir(target_path):
        sp.sp_fail(ctx, 400, CODE_FILE_EXISTS, "A folder with the name %s already exists." % library.canonical_url(target_path))
    if os.path.isfile(target_path) and not overwrite:
        sp.sp_fail(ctx, 400, CODE_FILE_EXISTS,
                   "A file with the name %s already exists. It was last modified by SHAREPOINT\\app on %s."
                   % (library.canonical_url(target_path).lstrip("/"), iso(library.read_meta(target_path)["modified"])))
    temp = library.temp_file()
    try:
        with open(temp, "wb", buffering=COPY_BUFFER) as handle:
            receive_body(ctx.request, handle)
        library.commit_file(temp, target_path)
    finally:
        if os.path.exists(temp):
            os.remove(temp)
    target = Target("file", library, target_path, library.canonical_url(target_path))
    if rest:
        return _file_op(ctx, target, rest[0], rest[1:])
    return sp.json_reply(ctx, {"d": file_body(ctx, target)} if ctx.verbose else file_body(ctx, target))


def _folders_collection(ctx, folder, rest):
    library = folder.library
    if not rest:
        _files, folders = _children(folder.fs_path)
        fields = ctx.query_list("$select")
        items = [folder_body(ctx, Target("folder", library, p, library.canonical_url(p)), fields) for p in folders]
        return sp.reply_collection(ctx, items)
    seg = rest[0]
    if seg.lname in ("add", "addusingpath"):
        url = seg.arg("url", 0) if seg.lname == "add" else seg.arg("decodedurl", 0)
        if not isinstance(url, str) or not url.strip("/"):
            raise odata.bad_request("The expression \"%s\" is not valid." % seg.name)
        # the url may be server-relative, site-relative (starting with the folder's own path) or a name
        folder_in_web = folder.url[len(ctx.web_path):].strip("/").lower()
        site_relative = not folder_in_web or url.strip("/").lower().startswith(folder_in_web + "/")
        if url.startswith("/") or site_relative:
            new_url = normalise(url, ctx.web_path)
        else:
            new_url = folder.url.rstrip("/") + "/" + url.strip("/")
        path = library.fs(new_url)
        if os.path.isfile(path):
            sp.sp_fail(ctx, 400, CODE_FILE_EXISTS, "A file with the name %s already exists." % new_url)
        try:
            library.make_folder(path)
        except Exception as err:  # a file in the way of a parent folder
            if isinstance(err, web.HttpError):
                raise
            sp.sp_fail(ctx, 400, CODE_FILE_EXISTS, str(err))
        target = Target("folder", library, path, library.canonical_url(path))
        return sp.json_reply(ctx, {"d": folder_body(ctx, target)} if ctx.verbose else folder_body(ctx, target))
    if seg.args:
        target = _folder_target(ctx, library, folder.url.rstrip("/") + "/" + seg.args[0])
        return handle_folder_rest(ctx, target, rest[1:])
    sp.not_found_resource(ctx, seg.name)


def handle_folder_rest(ctx, target, rest):
    if not rest:
        return _entity(ctx, target)
    seg = rest[0]
    if seg.lname == "files":
        return _files_collection(ctx, target, rest[1:])
    if seg.lname == "folders":
        return _folders_collection(ctx, target, rest[1:])
    if seg.lname == "recycle":
        return _delete(ctx, target, recycle=True)
    sp.not_found_resource(ctx, seg.name)


# ---------------------------------------------------------------- file operations

def _file_op(ctx, target, seg, rest):
    name = seg.lname
    if name == "$value":
        if ctx.request.method == "GET":
            return web.Response(200, file_path=target.fs_path, content_type="application/octet-stream",
                                headers={"ETag": file_info(target.library, target.fs_path)["ETag"]})
        if ctx.request.method in ("PUT", "POST"):
            return _add_file(ctx, Target("folder", target.library, os.path.dirname(target.fs_path),
                                         target.url.rsplit("/", 1)[0] or "/"),
                             os.path.basename(target.fs_path), True, [])
        sp.sp_fail(ctx, 405, sp.CODE_INVALID_QUERY, "The HTTP method '%s' cannot be used." % ctx.request.method)
    if name in ("recycle", "deleteobject"):
        return _delete(ctx, target, recycle=name == "recycle")
    if name in ("startupload", "continueupload", "finishupload", "cancelupload"):
        return _chunk(ctx, target, seg, name)
    if name in ("moveto", "movetousingpath"):
        return _move(ctx, target, seg)
    if name in ("exists", "length", "name", "serverrelativeurl", "timelastmodified", "uniqueid", "etag"):
        info = sp.select(file_info(target.library, target.fs_path), [name])
        return sp.reply_value(ctx, seg.name, next(iter(info.values())))
    sp.not_found_resource(ctx, seg.name)


MOVE_OVERWRITE = 1


def _move_destination(param):
    """The destination of MoveTo (newUrl) or MoveToUsingPath (DecodedUrl, or newPath: {DecodedUrl})."""
    for key in ("newurl", "decodedurl"):
        value = param(key, 0)
        if isinstance(value, str):
            return value
    path = param("newpath")
    if isinstance(path, dict):
        return {k.lower(): v for k, v in path.items()}.get("decodedurl")
    return None


def _move(ctx, target, seg):
    """SP.File MoveTo(newUrl, flags) and MoveToUsingPath(DecodedUrl, moveOperations): the file renamed within its
    site's libraries; a file already at the destination is replaced only with the Overwrite flag (1)."""
    if ctx.request.method != "POST":
        sp.sp_fail(ctx, 405, sp.CODE_INVALID_QUERY, "The HTTP method '%s' cannot be used." % ctx.request.method)
    param = sp.method_params(ctx, seg, limit=64 * 1024)
    destination = _move_destination(param)
    flags = param("flags", 1)
    if flags is None:
        flags = param("moveoperations", 1)
    if not isinstance(destination, str) or not destination.strip("/") or not isinstance(flags or 0, int):
        raise odata.bad_request("The expression \"%s\" is not valid." % seg.name)
    library = target.library
    url = normalise(destination, ctx.web_path)
    folder_url, _sep, name = url.rpartition("/")
    folder = library.fs(folder_url or "/")
    if not os.path.isdir(folder):
        sp.sp_fail(ctx, 404, sp.CODE_NOT_FOUND, "File Not Found.")
    target_path = os.path.join(folder, name)
    existing = library.fs(url)
    if os.path.isdir(existing):
        sp.sp_fail(ctx, 400, CODE_FILE_EXISTS, "A folder with the name %s already exists." % library.canonical_url(existing))
    if os.path.isfile(existing):
        target_path = existing  # the same file name in another case is the same file
    if os.path.normcase(target_path) != os.path.normcase(target.fs_path):
        if not library.move_file(target.fs_path, target_path, bool((flags or 0) & MOVE_OVERWRITE)):
            sp.sp_fail(ctx, 400, CODE_FILE_EXISTS, "A file with the name %s already exists." % library.canonical_url(existing))
    return sp.reply_value(ctx, seg.name, None)


def _upload_lock(upload_id):
    with _upload_locks_guard:
        return _upload_locks.setdefault(upload_id, threading.Lock())


def _forget_upload_lock(upload_id):
    with _upload_locks_guard:
        _upload_locks.pop(upload_id, None)


def _chunk(ctx, target, seg, name):
    if ctx.request.method != "POST":
        sp.sp_fail(ctx, 405, sp.CODE_INVALID_QUERY, "The HTTP method '%s' cannot be used." % ctx.request.method)
    upload_id = seg.arg("uploadid", 0)
    try:
        upload_id = str(uuid.UUID(str(upload_id).strip("{}")))
    except ValueError:
        raise odata.bad_request("The expression \"%s\" is not valid: uploadId is not a GUID." % seg.name)
    library = target.library
    session_dir = os.path.join(library.uploads, upload_id)
    state_path = os.path.join(session_dir, "state.json")
    data_path = os.path.join(session_dir, "data")
    file_url = library.canonical_url(target.fs_path)

    with _upload_lock(upload_id):
        if name == "startupload":
            os.makedirs(session_dir, exist_ok=True)
            state = {"file": file_url, "committed": 0}
            open(data_path, "wb").close()
        else:
            try:
                with open(state_path, "r", encoding="utf-8") as handle:
                    state = json.load(handle)
            except (OSError, ValueError):
                sp.sp_fail(ctx, 404, sp.CODE_SP, "The upload session %s does not exist or has expired." % upload_id)
            if state["file"].lower() != file_url.lower():
                sp.sp_fail(ctx, 400, sp.CODE_ARGUMENT, "The upload session %s belongs to another file." % upload_id)
            if name == "cancelupload":
                shutil.rmtree(session_dir, ignore_errors=True)
                _forget_upload_lock(upload_id)
                return sp.reply_value(ctx, "CancelUpload", None)
            offset = seg.arg("fileoffset", 1)
            if not isinstance(offset, int) or offset != state["committed"]:
                sp.sp_fail(ctx, 400, sp.CODE_ARGUMENT,
                           "The fileOffset %s does not match the expected offset %d of upload session %s."
                           % (offset, state["committed"], upload_id))
        committed = state["committed"]
        with open(data_path, "r+b", buffering=COPY_BUFFER) as handle:
            handle.seek(committed)
            handle.truncate()
            try:
                received = receive_body(ctx.request, handle)
                handle.flush()
            except BaseException:
                handle.flush()
                handle.truncate(committed)
                raise
        state["committed"] = committed + received
        if name == "finishupload":
            library.commit_file(data_path, target.fs_path)
            shutil.rmtree(session_dir, ignore_errors=True)
            _forget_upload_lock(upload_id)
            body = file_body(ctx, target)
            return sp.json_reply(ctx, {"d": body} if ctx.verbose else body)
        temp = state_path + ".tmp"
        with open(temp, "w", encoding="utf-8") as handle:
            json.dump(state, handle)
        os.replace(temp, state_path)
        function = "StartUpload" if name == "startupload" else "ContinueUpload"
        return sp.reply_value(ctx, function, str(state["committed"]))
