"""Microsoft Graph v1.0: users (graphusers.py), profile photos, and JSON batching ($batch) of user reads."""

import hashlib
import json
import os
import struct
import uuid
from urllib.parse import parse_qsl, unquote

from . import graphusers
from .entra import verify_bearer
from .permissions import PHOTO_READ_ROLES, PHOTO_WRITE_ROLES, USER_READ_ROLES, require_any_graph
from .web import HttpError, Response, graph_error, json_response

MAX_PHOTO_BYTES = 4 * 1024 * 1024
MAX_BATCH = 20


def handle(store, request):
    parts = [unquote(p) for p in request.path.split("/") if p]
    if not parts or parts[0] not in ("v1.0", "beta"):
        raise HttpError(graph_error(400, "BadRequest", "Invalid version: %s" % (parts[0] if parts else "")))
    claims = verify_bearer(store, request, "graph")
    tenant = store.tenant_by_id(claims["tid"])
    parts = parts[1:]
    if parts == ["$batch"] and request.method == "POST":
        return _batch(tenant, claims, request.json())
    if parts and parts[0] == "users" and len(parts) <= 2 and request.method == "GET":
        return _read_users(tenant, claims, parts, request.query_params())
    if len(parts) >= 3 and parts[0] == "users":
        user = _user_or_404(tenant, parts[1])
        rest = parts[2:]
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


def _user_or_404(tenant, key):
    user = tenant.find_user(key)
    if user is None:
        raise HttpError(graph_error(404, "Request_ResourceNotFound",
                                    "Resource '%s' does not exist or one of its queried reference-property "
                                    "objects are not present." % key))
    return user


def _read_users(tenant, claims, parts, params):
    """GET /users (the list) or GET /users/{id | userPrincipalName}."""
    require_any_graph(claims, USER_READ_ROLES)
    if len(parts) == 1:
        return graphusers.list_users(tenant, params)
    return graphusers.get_user(_user_or_404(tenant, parts[1]), params)


# --------------------------------------------------------------------------- $batch
def _bad_batch(message):
    return HttpError(graph_error(400, "BadRequest", message))


def _batch(tenant, claims, body):
    """JSON batching: up to 20 requests; the emulator serves the user reads in them (GET /users...). Answers come
    in reverse order, since Graph does not keep the requests' order (clients match them by id)."""
    requests = body.get("requests") if isinstance(body, dict) else None
    if not isinstance(requests, list) or not requests:
        raise _bad_batch("Invalid batch payload format.")
    if len(requests) > MAX_BATCH:
        raise _bad_batch("Batch request limit exceeded. A batch may hold at most %d requests." % MAX_BATCH)
    ids = set()
    for item in requests:
        if not isinstance(item, dict) or not all(isinstance(item.get(key), str) and item.get(key)
                                                 for key in ("id", "method", "url")):
            raise _bad_batch("Invalid batch payload format: every request needs an id, a method and a url.")
        if item["id"] in ids:
            raise _bad_batch("Batch request ids must be unique: '%s' is used twice." % item["id"])
        ids.add(item["id"])
    return json_response(200, {"responses": [_batch_one(tenant, claims, item) for item in reversed(requests)]})


def _batch_one(tenant, claims, item):
    path, _sep, query = item["url"].partition("?")
    parts = [unquote(p) for p in path.split("/") if p]
    try:
        if item["method"].upper() != "GET" or not parts or parts[0] != "users" or len(parts) > 2:
            raise HttpError(graph_error(400, "BadRequest", "The emulator serves only user reads in a batch, not "
                                        "%s %s." % (item["method"], item["url"])))
        response = _read_users(tenant, claims, parts, dict(parse_qsl(query, keep_blank_values=True)))
    except HttpError as err:
        response = err.response
    return {"id": item["id"], "status": response.status, "headers": {"Content-Type": "application/json"},
            "body": json.loads(response.body.decode("utf-8"))}


# --------------------------------------------------------------------------- photos
def _image_not_found():
    return HttpError(graph_error(404, "ImageNotFound", "Exception of type "
                                 "'Microsoft.Fast.Profile.Core.Exception.ImageNotFoundException' was thrown."))


def _photo_metadata(tenant, user):
    meta = tenant.photo_meta(user)
    if meta is None:
        raise _image_not_found()
    return json_response(200, {
        "@odata.context": "%s/$metadata#users('%s')/photo/$entity" % (graphusers.GRAPH_BASE, user["object_id"]),
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
