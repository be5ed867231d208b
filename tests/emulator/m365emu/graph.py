"""Microsoft Graph v1.0: users (get, list with $select/$top/paging) and profile photos."""

import base64
import hashlib
import os
import re
import struct
import uuid
from urllib.parse import quote, unquote

from .entra import verify_bearer
from .permissions import PHOTO_READ_ROLES, PHOTO_WRITE_ROLES, USER_READ_ROLES, require_any_graph
from .web import HttpError, Response, graph_error, json_response

GRAPH_BASE = "https://graph.microsoft.com/v1.0"
MAX_PHOTO_BYTES = 4 * 1024 * 1024
DEFAULT_PAGE = 100
MAX_PAGE = 999
DEFAULT_SELECT = ("businessPhones", "displayName", "givenName", "jobTitle", "mail", "mobilePhone",
                  "officeLocation", "preferredLanguage", "surname", "userPrincipalName", "id")


def handle(store, request):
    parts = [unquote(p) for p in request.path.split("/") if p]
    if not parts or parts[0] not in ("v1.0", "beta"):
        raise HttpError(graph_error(400, "BadRequest", "Invalid version: %s" % (parts[0] if parts else "")))
    claims = verify_bearer(store, request, "graph")
    tenant = store.tenant_by_id(claims["tid"])
    parts = parts[1:]
    if parts == ["users"]:
        require_any_graph(claims, USER_READ_ROLES)
        return _list_users(tenant, request)
    if len(parts) >= 2 and parts[0] == "users":
        user = tenant.find_user(parts[1])
        if user is None:
            raise HttpError(graph_error(404, "Request_ResourceNotFound",
                                        "Resource '%s' does not exist or one of its queried reference-property "
                                        "objects are not present." % parts[1]))
        rest = parts[2:]
        if not rest:
            require_any_graph(claims, USER_READ_ROLES)
            select = _select(request)
            entity = {"@odata.context": GRAPH_BASE + "/$metadata#users/$entity"}
            entity.update(_user_entity(user, select))
            return json_response(200, entity)
        if rest == ["photo"] and request.method == "GET":
            require_any_graph(claims, PHOTO_READ_ROLES)
            return _photo_metadata(tenant, user)
        if rest == ["photo", "$value"]:
            if request.method == "GET":
                require_any_graph(claims, PHOTO_READ_ROLES)
                return _photo_value(tenant, user)
            if request.method in ("PUT", "PATCH"):
                require_any_graph(claims, PHOTO_WRITE_ROLES)
                return _photo_put(tenant, user, request)
            if request.method == "DELETE":
                require_any_graph(claims, PHOTO_WRITE_ROLES)
                if not tenant.delete_photo(user):
                    raise _image_not_found()
                return Response(204)
    raise HttpError(graph_error(400, "BadRequest", "Resource not found for the segment '%s'." % "/".join(parts)))


# --------------------------------------------------------------------------- users
def _select(request):
    raw = request.query_params().get("$select")
    if not raw:
        return DEFAULT_SELECT
    return tuple(name.strip() for name in raw.split(",") if name.strip())


def _user_entity(user, select):
    phone = user.get("phone")
    full = {
        "id": user["object_id"],
        "userPrincipalName": user["upn"],
        "displayName": user.get("display_name"),
        "givenName": user.get("given_name") or None,
        "surname": user.get("surname") or None,
        "mail": user.get("mail"),
        "jobTitle": user.get("job_title") or None,
        "department": user.get("department") or None,
        "officeLocation": user.get("office") or None,
        "businessPhones": [phone] if phone else [],
        "mobilePhone": None,
        "preferredLanguage": None,
        "userType": "Guest" if user.get("guest") else "Member",
        "accountEnabled": True,
        "employeeId": user.get("employee_id"),
    }
    return {name: full.get(name) for name in select}


def _list_users(tenant, request):
    params = request.query_params()
    try:
        top = int(params.get("$top") or DEFAULT_PAGE)
    except ValueError:
        raise HttpError(graph_error(400, "BadRequest", "Invalid value for $top."))
    if not 1 <= top <= MAX_PAGE:
        raise HttpError(graph_error(400, "Request_UnsupportedQuery", "Invalid page size specified: '%d'. Must be "
                                    "between 1 and %d inclusive." % (top, MAX_PAGE)))
    offset = 0
    if params.get("$skiptoken"):
        try:
            offset = int(base64.urlsafe_b64decode(params["$skiptoken"].encode() + b"==").decode().split(":")[1])
        except (ValueError, IndexError, UnicodeDecodeError):
            raise HttpError(graph_error(400, "Directory_InvalidPagingToken", "The paging token is invalid."))
    select = _select(request)
    users = _filtered(tenant.users, params.get("$filter"))
    page = users[offset:offset + top]
    body = {"@odata.context": GRAPH_BASE + "/$metadata#users",
            "value": [_user_entity(user, select) for user in page]}
    if offset + top < len(users):
        token = base64.urlsafe_b64encode(("users:%d" % (offset + top)).encode()).decode().rstrip("=")
        query = {"$top": str(top), "$skiptoken": token}
        for key in ("$select", "$filter"):
            if params.get(key):
                query[key] = params[key]
        body["@odata.nextLink"] = GRAPH_BASE + "/users?" + "&".join(
            "%s=%s" % (key, quote(value, safe=",")) for key, value in query.items())
    if params.get("$count") == "true":
        body["@odata.count"] = len(users)
    return json_response(200, body)


_FILTER = re.compile(r"^\s*(?:(\w+)\s+eq\s+'((?:[^']|'')*)'|startswith\(\s*(\w+)\s*,\s*'((?:[^']|'')*)'\s*\))\s*$",
                     re.IGNORECASE)
_FILTER_FIELDS = {"userprincipalname": "upn", "mail": "mail", "id": "object_id", "displayname": "display_name",
                  "usertype": None}


def _filtered(users, expression):
    """The users matching a $filter of one clause: `<property> eq '<value>'` or `startswith(<property>,'<value>')`."""
    if not expression:
        return users
    match = _FILTER.match(expression)
    field = match and (match.group(1) or match.group(3)).lower()
    if not match or field not in _FILTER_FIELDS:
        raise HttpError(graph_error(400, "Request_UnsupportedQuery", "Unsupported or invalid query filter clause "
                                    "specified for property of resource 'User'."))
    value = (match.group(2) if match.group(1) else match.group(4)).replace("''", "'").lower()

    def field_value(user):
        if field == "usertype":
            return "guest" if user.get("guest") else "member"
        return str(user.get(_FILTER_FIELDS[field]) or "").lower()

    if match.group(1):
        return [user for user in users if field_value(user) == value]
    return [user for user in users if field_value(user).startswith(value)]


# --------------------------------------------------------------------------- photos
def _image_not_found():
    return HttpError(graph_error(404, "ImageNotFound", "Exception of type "
                                 "'Microsoft.Fast.Profile.Core.Exception.ImageNotFoundException' was thrown."))


def _photo_metadata(tenant, user):
    meta = tenant.photo_meta(user)
    if meta is None:
        raise _image_not_found()
    return json_response(200, {
        "@odata.context": "%s/$metadata#users('%s')/photo/$entity" % (GRAPH_BASE, user["object_id"]),
        "@odata.mediaContentType": meta["content_type"],
        "@odata.mediaEtag": meta["etag"],
        "id": "%dX%d" % (meta["width"], meta["height"]),
        "width": meta["width"], "height": meta["height"],
    })


def _photo_value(tenant, user):
    meta = tenant.photo_meta(user)
    if meta is None or not os.path.exists(tenant.photo_path(user)):
        raise _image_not_found()
    return Response(200, file_path=tenant.photo_path(user), content_type=meta["content_type"],
                    headers={"ETag": meta["etag"]})


def _photo_put(tenant, user, request):
    if request.content_length is not None and request.content_length > MAX_PHOTO_BYTES:
        raise HttpError(graph_error(413, "RequestEntityTooLarge",
                                    "The photo is larger than the maximum of 4 MB."))
    data = request.body(limit=MAX_PHOTO_BYTES + 1) if request.content_length is None else request.body()
    if len(data) > MAX_PHOTO_BYTES:
        raise HttpError(graph_error(413, "RequestEntityTooLarge", "The photo is larger than the maximum of 4 MB."))
    info = image_info(data)
    if info is None:
        raise HttpError(graph_error(400, "ImageInvalid", "The photo is not a valid image: the content must be a "
                                    "JPEG, PNG, GIF or BMP image."))
    content_type, width, height = info
    digest = hashlib.sha256(data).hexdigest()
    temp = os.path.join(tenant.temp_dir(), "photo-%s.tmp" % uuid.uuid4().hex)
    with open(temp, "wb") as handle:
        handle.write(data)
    meta = {"content_type": content_type, "width": width, "height": height, "bytes": len(data), "sha256": digest,
            "etag": '"%s"' % digest[:8].upper()}
    tenant.set_photo(user, temp, meta)
    return Response(200)


def image_info(data):
    """(content type, width, height) read from the image header, or None when it is not an image."""
    try:
        if data[:3] == b"\xff\xd8\xff":
            return _jpeg_info(data)
        if data[:8] == b"\x89PNG\r\n\x1a\n" and data[12:16] == b"IHDR":
            width, height = struct.unpack(">II", data[16:24])
            return "image/png", width, height
        if data[:6] in (b"GIF87a", b"GIF89a"):
            width, height = struct.unpack("<HH", data[6:10])
            return "image/gif", width, height
        if data[:2] == b"BM" and len(data) >= 26:
            header_size = struct.unpack("<I", data[14:18])[0]
            if header_size == 12:
                width, height = struct.unpack("<HH", data[18:22])
            else:
                width, height = struct.unpack("<ii", data[18:26])
            return "image/bmp", abs(width), abs(height)
    except struct.error:
        return None
    return None


_SOF_MARKERS = {0xC0, 0xC1, 0xC2, 0xC3, 0xC5, 0xC6, 0xC7, 0xC9, 0xCA, 0xCB, 0xCD, 0xCE, 0xCF}


def _jpeg_info(data):
    index = 2
    size = len(data)
    while index + 4 <= size:
        if data[index] != 0xFF:
            return None
        marker = data[index + 1]
        if marker == 0xFF:  # fill byte
            index += 1
            continue
        if marker in (0xD8, 0x01) or 0xD0 <= marker <= 0xD7:
            index += 2
            continue
        length = struct.unpack(">H", data[index + 2:index + 4])[0]
        if marker in _SOF_MARKERS:
            height, width = struct.unpack(">HH", data[index + 5:index + 9])
            if width and height:
                return "image/jpeg", width, height
            return None
        if marker == 0xDA:  # start of scan before any frame header
            return None
        index += 2 + length
    return None
