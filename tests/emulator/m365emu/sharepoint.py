"""Router for *.sharepoint.com: the token check, then the handler for the endpoint asked for."""

import uuid
from urllib.parse import unquote

from . import csom, entra, importjobs, odata, people, permissions, spfiles, web
from . import sprest as sp


def handle(store, request):
    verbose = sp.wants_verbose(request)
    tenant = store.tenant_by_host(request.host)
    if tenant is None:
        raise web.HttpError(web.sp_error(404, sp.CODE_NOT_FOUND, "The site %s does not exist." % request.host, verbose=verbose))
    request.tenant = tenant.name
    claims = entra.verify_bearer(store, request, "sharepoint", tenant=tenant)

    decoded = unquote(request.path)
    lowered = decoded.lower()
    query = odata.parse_query(request.query)
    aliases = {k: v for k, v in query.items() if k.startswith("@")}
    ctx = sp.Context(store, request, tenant, sp.host_kind_of(request.host), "", [], query, verbose)
    ctx.claims = claims

    importjobs.touch(store, tenant)

    index = lowered.find("/_vti_bin/")
    if index >= 0:
        ctx.web_path = decoded[:index].rstrip("/")
        rest = lowered[index + len("/_vti_bin/"):].rstrip("/")
        if rest == "client.svc/processquery":
            if request.method != "POST":
                sp.sp_fail(ctx, 405, sp.CODE_INVALID_QUERY, "The HTTP method '%s' cannot be used." % request.method)
            return csom.process_query(ctx)
        sp.not_found_resource(ctx, decoded[index:])

    index = lowered.find("/_api")
    if index < 0 or (len(lowered) > index + 5 and lowered[index + 5] != "/"):
        sp.sp_fail(ctx, 404, sp.CODE_NOT_FOUND, "File Not Found.")
    ctx.web_path = decoded[:index].rstrip("/")
    try:
        ctx.segments = odata.parse_segments(decoded[index + 5:], aliases)
    except odata.BadRequest as err:
        sp.sp_fail(ctx, 400, sp.CODE_INVALID_QUERY, str(err))
    if not ctx.segments:
        sp.not_found_resource(ctx, "_api")
    first = ctx.segments[0].lname
    try:
        if first == "contextinfo":
            sp.require_any(ctx, permissions.SITE_READ_ROLES)
            return contextinfo(ctx)
        if first == "web":
            sp.require_any(ctx, permissions.SITE_READ_ROLES if ctx.method() == "GET" else permissions.SITE_WRITE_ROLES)
            return spfiles.handle(ctx, ctx.segments[1:])
        if first == sp.PEOPLE_MANAGER:
            return people.handle(ctx, ctx.segments[1:])
        if first == sp.OFFICE365_TENANT_REST:
            return csom.handle_rest(ctx, ctx.segments[1:])
        if first == "sp.web.getweburlfrompageurl" and len(ctx.segments) == 1:
            return csom.handle_web_url_rest(ctx, ctx.segments[0])
    except odata.BadRequest as err:
        sp.sp_fail(ctx, 400, sp.CODE_INVALID_QUERY, str(err))
    sp.not_found_resource(ctx, ctx.segments[0].name)


def contextinfo(ctx):
    if ctx.request.method != "POST":
        sp.sp_fail(ctx, 400, sp.CODE_INVALID_QUERY, "The HTTP method 'GET' cannot be used to access the resource 'GetContextWebInformation'.")
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
        return sp.json_reply(ctx, {"d": {"GetContextWebInformation": body}})
    return sp.json_reply(ctx, info)
