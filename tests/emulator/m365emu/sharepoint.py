"""Router for *.sharepoint.com: token check, OData URL parsing, then the handlers.

The helpers here (URL segment parsing, literals, OData response shapes, SharePoint errors) are shared by
spfiles.py, people.py and csom.py.
"""

import json
import re
import uuid
from urllib.parse import unquote, unquote_plus

from . import entra, web

# Roles that let an app-only token use SharePoint. Sites.FullControl.All is needed for the tenant admin
# (Office365Tenant) and the user profile (PeopleManager) endpoints; document libraries also accept
# the narrower site roles, as SharePoint does for file operations.
FULL_CONTROL = ("Sites.FullControl.All",)
FILE_WRITE_ROLES = ("Sites.FullControl.All", "Sites.Manage.All", "Sites.ReadWrite.All")
FILE_READ_ROLES = FILE_WRITE_ROLES + ("Sites.Read.All",)

OFFICE365_TENANT_REST = "microsoft.online.sharepoint.tenantmanagement.office365tenant"
PEOPLE_MANAGER = "sp.userprofiles.peoplemanager"

CODE_SP = "-2130575338, Microsoft.SharePoint.SPException"
CODE_NOT_FOUND = "-2147024894, System.IO.FileNotFoundException"
CODE_ACCESS_DENIED = "-2147024891, System.UnauthorizedAccessException"
CODE_INVALID_QUERY = "-1, Microsoft.SharePoint.Client.InvalidClientQueryException"
CODE_NO_RESOURCE = "-1, Microsoft.SharePoint.Client.ResourceNotFoundException"
CODE_ARGUMENT = "-2147024809, System.ArgumentException"


class Segment:
    """One path segment: a name, optionally called like a function with positional/named arguments."""

    def __init__(self, name, args=None, named=None):
        self.name = name
        self.lname = name.lower()
        self.args = args          # None when the segment had no parentheses
        self.named = named or {}  # lower-case names

    def arg(self, name, position=None, default=None):
        key = name.lower()
        if key in self.named:
            return self.named[key]
        if position is not None and self.args is not None and position < len(self.args):
            return self.args[position]
        return default

    def __repr__(self):
        return "Segment(%r, %r, %r)" % (self.name, self.args, self.named)


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


# ---------------------------------------------------------------- parsing

def parse_query(raw):
    result = {}
    if not raw:
        return result
    for part in raw.split("&"):
        if not part:
            continue
        key, _sep, value = part.partition("=")
        # query strings are form-encoded: '+' is a space, as ASP.NET decodes it
        result[unquote_plus(key).lower()] = unquote_plus(value)
    return result


def _find_close(text, start):
    """Index of the ')' matching the '(' at text[start], skipping quoted literals."""
    depth = 0
    in_quote = False
    i = start
    while i < len(text):
        char = text[i]
        if in_quote:
            if char == "'":
                if i + 1 < len(text) and text[i + 1] == "'":
                    i += 2
                    continue
                in_quote = False
        elif char == "'":
            in_quote = True
        elif char == "(":
            depth += 1
        elif char == ")":
            depth -= 1
            if depth == 0:
                return i
        i += 1
    return -1


def _split_args(text):
    parts, current, in_quote, i = [], [], False, 0
    while i < len(text):
        char = text[i]
        if in_quote:
            current.append(char)
            if char == "'":
                if i + 1 < len(text) and text[i + 1] == "'":
                    current.append("'")
                    i += 2
                    continue
                in_quote = False
        elif char == "'":
            in_quote = True
            current.append(char)
        elif char == ",":
            parts.append("".join(current))
            current = []
        else:
            current.append(char)
        i += 1
    parts.append("".join(current))
    return [p.strip() for p in parts if p.strip() != ""]


_NAMED_ARG = re.compile(r"^([A-Za-z_@$][\w.]*)\s*=\s*(.*)$", re.S)


def parse_literal(text, aliases):
    """An OData literal: 'str' (with '' for '), guid'..', X'..', true/false, null, numbers, @alias."""
    text = text.strip()
    if text.startswith("@"):
        if text.lower() not in aliases:
            raise bad_request("The parameter alias %s is not defined." % text)
        return parse_literal(aliases[text.lower()], {})
    match = re.match(r"^([A-Za-z]*)'(.*)'$", text, re.S)
    if match:
        return match.group(2).replace("''", "'")
    lowered = text.lower()
    if lowered == "true":
        return True
    if lowered == "false":
        return False
    if lowered == "null":
        return None
    number = re.match(r"^-?\d+[lL]?$", text)
    if number:
        return int(text.rstrip("lL"))
    raise bad_request("The expression \"%s\" is not valid." % text)


def parse_segments(api_path, aliases):
    """Split the decoded path after /_api/ into Segment objects (quotes may contain '/' and parentheses)."""
    segments = []
    i = 0
    while i < len(api_path):
        j = i
        while j < len(api_path) and api_path[j] not in "/(":
            j += 1
        name = api_path[i:j].strip()
        args = None
        named = {}
        if j < len(api_path) and api_path[j] == "(":
            close = _find_close(api_path, j)
            if close < 0:
                raise bad_request("The expression \"%s\" is not valid." % api_path)
            args = []
            for part in _split_args(api_path[j + 1:close]):
                match = _NAMED_ARG.match(part)
                if match and not part.startswith("'"):
                    named[match.group(1).lower()] = parse_literal(match.group(2), aliases)
                else:
                    args.append(parse_literal(part, aliases))
            j = close + 1
        if j < len(api_path) and api_path[j] != "/":
            raise bad_request("The expression \"%s\" is not valid." % api_path)
        if name or args is not None:
            segments.append(Segment(name, args, named))
        i = j + 1
    return segments


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


class _BadRequest(Exception):
    pass


def bad_request(message):
    return _BadRequest(message)


def not_found_resource(ctx, name):
    sp_fail(ctx, 404, CODE_NO_RESOURCE, "Cannot find resource for the request %s." % name)


def require(ctx, *roles):
    entra.require_role(ctx.claims, *roles)


# ---------------------------------------------------------------- entry point

def handle(store, request):
    verbose = wants_verbose(request)
    tenant = store.tenant_by_host(request.host)
    if tenant is None:
        raise web.HttpError(web.sp_error(404, CODE_NOT_FOUND, "The site %s does not exist." % request.host, verbose=verbose))
    request.tenant = tenant.name
    claims = entra.verify_bearer(store, request, "sharepoint", tenant=tenant)

    decoded = unquote(request.path)
    lowered = decoded.lower()
    query = parse_query(request.query)
    aliases = {k: v for k, v in query.items() if k.startswith("@")}
    ctx = Context(store, request, tenant, host_kind_of(request.host), "", [], query, verbose)
    ctx.claims = claims

    from . import csom, importjobs, people, spfiles   # imported here: they import this module
    importjobs.touch(store, tenant)

    index = lowered.find("/_vti_bin/")
    if index >= 0:
        ctx.web_path = decoded[:index].rstrip("/")
        rest = lowered[index + len("/_vti_bin/"):].rstrip("/")
        if rest == "client.svc/processquery":
            if request.method != "POST":
                sp_fail(ctx, 405, CODE_INVALID_QUERY, "The HTTP method '%s' cannot be used." % request.method)
            require(ctx, *FULL_CONTROL)
            return csom.process_query(ctx)
        not_found_resource(ctx, decoded[index:])

    index = lowered.find("/_api")
    if index < 0 or (len(lowered) > index + 5 and lowered[index + 5] != "/"):
        sp_fail(ctx, 404, CODE_NOT_FOUND, "File Not Found.")
    ctx.web_path = decoded[:index].rstrip("/")
    try:
        ctx.segments = parse_segments(decoded[index + 5:], aliases)
    except _BadRequest as err:
        sp_fail(ctx, 400, CODE_INVALID_QUERY, str(err))
    if not ctx.segments:
        not_found_resource(ctx, "_api")
    first = ctx.segments[0].lname
    try:
        if first == "contextinfo":
            require(ctx, *FILE_READ_ROLES)
            return contextinfo(ctx)
        if first == "web":
            require(ctx, *(FILE_READ_ROLES if ctx.method() == "GET" else FILE_WRITE_ROLES))
            return spfiles.handle(ctx, ctx.segments[1:])
        if first == PEOPLE_MANAGER:
            require(ctx, *FULL_CONTROL)
            return people.handle(ctx, ctx.segments[1:])
        if first == OFFICE365_TENANT_REST:
            require(ctx, *FULL_CONTROL)
            return csom.handle_rest(ctx, ctx.segments[1:])
    except _BadRequest as err:
        sp_fail(ctx, 400, CODE_INVALID_QUERY, str(err))
    not_found_resource(ctx, ctx.segments[0].name)


def contextinfo(ctx):
    if ctx.request.method != "POST":
        sp_fail(ctx, 400, CODE_INVALID_QUERY, "The HTTP method 'GET' cannot be used to access the resource 'GetContextWebInformation'.")
    site_url = ctx.base_url + ctx.web_path
    info = {
        "FormDigestTimeoutSeconds": 1800,
        "FormDigestValue": "0x%s,%s" % (uuid.uuid4().hex.upper() * 4, "23 Nov 2026 00:00:00 -0000"),
        "LibraryVersion": "16.0.24817.12008",
        "SiteFullUrl": site_url,
        "SupportedSchemaVersions": ["14.0.0.0", "15.0.0.0"],
        "WebFullUrl": site_url,
    }
    if ctx.verbose:
        body = {"__metadata": {"type": "SP.ContextWebInformation"}}
        body.update(info)
        body["SupportedSchemaVersions"] = {"__metadata": {"type": "Collection(Edm.String)"},
                                           "results": info["SupportedSchemaVersions"]}
        return json_reply(ctx, {"d": {"GetContextWebInformation": body}})
    return json_reply(ctx, info)
