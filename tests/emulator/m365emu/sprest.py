"""What every SharePoint REST handler shares: the request context, the OData response shapes, and errors."""

import json
import uuid

from . import permissions, web


OFFICE365_TENANT_REST = "microsoft.online.sharepoint.tenantmanagement.office365tenant"
PEOPLE_MANAGER = "sp.userprofiles.peoplemanager"

CODE_SP = "-2130575338, Microsoft.SharePoint.SPException"
CODE_NOT_FOUND = "-2147024894, System.IO.FileNotFoundException"
CODE_ACCESS_DENIED = "-2147024891, System.UnauthorizedAccessException"
CODE_INVALID_QUERY = "-1, Microsoft.SharePoint.Client.InvalidClientQueryException"
CODE_NO_RESOURCE = "-1, Microsoft.SharePoint.Client.ResourceNotFoundException"
CODE_ARGUMENT = "-2147024809, System.ArgumentException"


class Context:
    """Everything a SharePoint handler needs about one request."""

    def __init__(self, store, request, tenant, host_kind, web_path, segments, query, verbose):
        self.store = store
        self.request = request
        self.tenant = tenant
        self.host_kind = host_kind   # "root" | "my" | "admin"
        self.host = request.host
        self.web_path = web_path     # server-relative path of the web: "" or "/sites/x"
        self.segments = segments
        self.query = query           # {lower-case key: decoded value}
        self.verbose = verbose
        self.claims = None

    @property
    def base_url(self):
        return "https://" + self.host

    def web_api_url(self):
        return self.base_url + self.web_path + "/_api/Web"

    def query_list(self, key):
        value = self.query.get(key.lower())
        if not value:
            return []
        return [part.strip() for part in value.split(",") if part.strip()]

    def method(self):
        """The effective HTTP method: POST with X-HTTP-Method tunnels another verb."""
        tunnelled = self.request.headers.get("X-HTTP-Method")
        if self.request.method == "POST" and tunnelled:
            return tunnelled.strip().upper()
        return self.request.method


def wants_verbose(request):
    accept = (request.headers.get("Accept") or "").lower()
    return "odata=verbose" in accept


def host_kind_of(host):
    label = host.split(".", 1)[0]
    if label.endswith("-admin"):
        return "admin"
    if label.endswith("-my"):
        return "my"
    return "root"


# ---------------------------------------------------------------- responses

def _headers(extra=None):
    headers = {"request-id": str(uuid.uuid4()), "X-SharePointHealthScore": "0"}
    headers["SPRequestGuid"] = headers["request-id"]
    if extra:
        headers.update(extra)
    return headers


def json_reply(ctx, obj, status=200, headers=None):
    flavour = "verbose" if ctx.verbose else "nometadata"
    body = json.dumps(obj, separators=(",", ":")).encode("utf-8")
    return web.Response(status, body=body, headers=_headers(headers),
                        content_type="application/json;odata=%s;streaming=true;charset=utf-8" % flavour)


def _verbose_value(value):
    if isinstance(value, list):
        return {"results": [_verbose_value(v) for v in value]}
    return value


def entity_body(ctx, obj, type_name, uri=None, etag=None):
    """One entity in the requested flavour (without the outer "d")."""
    if not ctx.verbose:
        return obj
    metadata = {"type": type_name}
    if uri:
        metadata = {"id": uri, "uri": uri, "type": type_name}
    if etag:
        metadata["etag"] = etag
    body = {"__metadata": metadata}
    for key, value in obj.items():
        body[key] = _verbose_value(value)
    return body


def reply_entity(ctx, obj, type_name, uri=None, etag=None):
    body = entity_body(ctx, obj, type_name, uri, etag)
    return json_reply(ctx, {"d": body} if ctx.verbose else body)


def reply_collection(ctx, bodies):
    """bodies: already passed through entity_body."""
    if ctx.verbose:
        return json_reply(ctx, {"d": {"results": bodies}})
    return json_reply(ctx, {"value": bodies})


def reply_value(ctx, function_name, value):
    if ctx.verbose:
        return json_reply(ctx, {"d": {function_name: value}})
    if value is None:
        return json_reply(ctx, {"odata.null": True})
    return json_reply(ctx, {"value": value})


def select(obj, fields):
    if not fields:
        return obj
    wanted = {f.lower() for f in fields}
    return {k: v for k, v in obj.items() if k.lower() in wanted}


def json_body(ctx, limit):
    """The JSON object of a POST body with lower-cased keys ({} for no body or another method)."""
    raw = ctx.request.body(limit=limit) if ctx.request.method == "POST" else b""
    if not raw.strip():
        return {}
    try:
        body = json.loads(raw.decode("utf-8-sig"))
    except ValueError:
        sp_fail(ctx, 400, CODE_INVALID_QUERY, "Invalid JSON. A token was not recognized in the JSON content.")
    if not isinstance(body, dict):
        sp_fail(ctx, 400, CODE_INVALID_QUERY, "Invalid JSON. An object was expected.")
    return {k.lower(): v for k, v in body.items()}


def method_params(ctx, seg, limit):
    """param(key, position) for a REST method call: the JSON body's value (keys compared without case),
    else the call's own argument in the URL, by name or position."""
    body = json_body(ctx, limit=limit)

    def param(key, position=None):
        if key.lower() in body:
            return body[key.lower()]
        return seg.arg(key, position)
    return param


def sp_fail(ctx, status, code, message):
    """Raise a SharePoint-shaped REST error."""
    verbose = ctx.verbose if ctx is not None else False
    raise web.HttpError(web.sp_error(status, code, message, verbose=verbose))


def not_found_resource(ctx, name):
    sp_fail(ctx, 404, CODE_NO_RESOURCE, "Cannot find resource for the request %s." % name)


def require_any(ctx, roles):
    """403 Access denied unless the token holds one of the roles."""
    if not permissions.has_any(ctx.claims, roles):
        raise permissions.sharepoint_denied(ctx.verbose)
