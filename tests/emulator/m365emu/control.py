"""The /_emulator/ control plane (plain HTTP, JSON): tenants, profiles, request log, faults, files, jobs."""

from urllib.parse import unquote

from . import entra, importjobs, permissions, spfiles
from .faults import FAULTS
from .web import HttpError, Response, json_response

PREFIX = "/_emulator/"


def _not_found(what):
    return HttpError(json_response(404, {"error": "%s not found" % what}))


def _bad_request(message):
    return HttpError(json_response(400, {"error": message}))


def _host_kind(value):
    """The document library host a files endpoint is about: root (default) or my."""
    host_kind = value or "root"
    if host_kind not in ("root", "my"):
        raise _bad_request("host must be root or my")
    return host_kind


def _as_response(result):
    if isinstance(result, Response):
        return result
    if result is None:
        raise _not_found("path")
    return json_response(200, result)


def handle(server, request):
    store = server.store
    if not request.path.startswith(PREFIX):
        raise HttpError(json_response(400, {"error": "this is an HTTPS proxy: use CONNECT, or /_emulator/ for control"}))
    parts = [unquote(p) for p in request.path[len(PREFIX):].split("/") if p]
    method = request.method
    if parts == ["health"]:
        return json_response(200, {"status": "ok", "tenants": len(store.tenants()), "port": server.port})
    if parts == ["faults"]:
        return _faults(request)
    if parts == ["requests"]:
        return _requests(server, request, None)
    if parts and parts[0] == "tenants":
        if len(parts) == 1:
            if method == "GET":
                return json_response(200, {"tenants": [t.summary() for t in store.tenants()]})
            if method == "POST":
                try:
                    tenant = store.create_tenant(request.json())
                except ValueError as err:
                    status = 409 if "already" in str(err) else 400
                    raise HttpError(json_response(status, {"error": str(err)}))
                return json_response(201, tenant.summary())
        else:
            tenant = store.tenant(parts[1])
            if tenant is None:
                raise _not_found("tenant %s" % parts[1])
            return _tenant(server, request, tenant, parts[2:])
    raise HttpError(json_response(404, {"error": "no such control endpoint: %s %s" % (method, request.path)}))


def _faults(request):
    if request.method == "GET":
        return json_response(200, FAULTS.snapshot())
    if request.method == "DELETE":
        FAULTS.clear()
        return json_response(200, FAULTS.snapshot())
    if request.method == "POST":
        body = request.json()
        if not isinstance(body, dict):
            raise _bad_request("faults must be an object")
        try:
            FAULTS.update(body)
        except (TypeError, ValueError) as err:
            raise _bad_request(str(err))
        return json_response(200, FAULTS.snapshot())
    raise HttpError(json_response(405, {"error": "method not allowed"}))


def _requests(server, request, tenant_name):
    if request.method == "DELETE":
        server.log.clear(tenant_name)
        return json_response(200, {"requests": []})
    params = request.query_params()
    try:
        since = int(params.get("since") or 0)
    except ValueError:
        raise _bad_request("since must be an integer")
    if params.get("summary") == "true":
        return json_response(200, {"summary": server.log.summary(tenant_name, since)})
    return json_response(200, {"requests": server.log.query(tenant_name, since)})


def _tenant(server, request, tenant, rest):
    store = server.store
    method = request.method
    if not rest:
        if method == "DELETE":
            store.delete_tenant(tenant.name)
            return Response(204)
        detail = tenant.summary()
        detail["properties"] = tenant.properties
        detail["sites"] = list(tenant.to_json().get("sites") or [])
        detail["apps"] = {cid: {"roles": app["roles"], "credential": "certificate" if app["certificates"]
                                else "secret"} for cid, app in tenant.apps.items()}
        return json_response(200, detail)
    kind = rest[0]
    if kind == "properties" and len(rest) == 1:
        if method == "POST":
            body = request.json()
            try:
                tenant.define_properties(body if isinstance(body, list) else [body])
            except ValueError as err:
                raise _bad_request(str(err))
        return json_response(200, {"properties": tenant.properties})
    if kind == "users" and len(rest) == 1:
        return json_response(200, {"users": tenant.users})
    if kind == "requests" and len(rest) == 1:
        return _requests(server, request, tenant.name)
    if kind == "profiles" and len(rest) == 2:
        user = tenant.find_user(rest[1])
        if user is None or not user.get("has_profile", True):
            raise _not_found("profile %s" % rest[1])
        if method in ("POST", "PATCH"):
            values = request.json()
            if not isinstance(values, dict):
                raise _bad_request("expected {property: value}")
            unknown = sorted(set(values) - set(tenant.properties))
            if unknown:
                raise _bad_request("unknown properties: %s" % ", ".join(unknown))
            tenant.set_profile_properties(user["upn"], values)
        return json_response(200, {"upn": user["upn"], "properties": tenant.profile(user["upn"])})
    if kind == "photos" and len(rest) == 2:
        user = tenant.find_user(rest[1])
        if user is None:
            raise _not_found("user %s" % rest[1])
        meta = tenant.photo_meta(user)
        graph = None
        if meta is not None:
            graph = {key: meta[key] for key in ("bytes", "width", "height", "sha256", "content_type")}
        return json_response(200, {"upn": user["upn"], "graph": graph})
    if kind == "files" and len(rest) == 1:
        params = request.query_params()
        host_kind = _host_kind(params.get("host"))
        return _as_response(spfiles.list_for_control(tenant, host_kind, params.get("path") or "/"))
    if kind == "files" and rest[1:] == ["age"] and method == "POST":
        body = request.json()
        host_kind = _host_kind(body.get("host"))
        days = body.get("days")
        if not isinstance(days, (int, float)) or isinstance(days, bool) or days < 0:
            raise _bad_request("days must be a number of days, 0 or more")
        names = body.get("names")
        if names is not None and not (isinstance(names, list) and all(isinstance(n, str) for n in names)):
            raise _bad_request("names must be a list of item names")
        aged = spfiles.age_for_control(tenant, host_kind, body.get("path") or "/", days, names)
        return _as_response(None if aged is None else {"aged": aged})
    if kind == "jobs" and len(rest) == 1:
        return json_response(200, {"jobs": importjobs.list_for_control(tenant)})
    if kind == "tokens" and len(rest) == 1 and method == "POST":
        return _mint_token(store, request, tenant)
    raise HttpError(json_response(404, {"error": "no such control endpoint: %s %s" % (method, request.path)}))


def _mint_token(store, request, tenant):
    """Test helper: an access token with chosen claims (e.g. already expired, or secret-based)."""
    body = request.json()
    client_id = str(body.get("client_id") or "").lower()
    app = tenant.apps.get(client_id)
    if app is None:
        raise _bad_request("unknown client_id")
    resource = body.get("audience") or "https://%s.sharepoint.com" % tenant.name
    kind = "graph" if resource.rstrip("/") in (entra.GRAPH_RESOURCE, entra.GRAPH_APP_ID) else "sharepoint"
    acr = str(body.get("appidacr") or ("2" if app["certificates"] else "1"))
    lifetime = int(body.get("lifetime", entra.DEFAULT_TOKEN_LIFETIME))
    now = body.get("now")
    roles = list(body["roles"]) if "roles" in body else permissions.roles_for(app, kind)
    token = entra.issue_token(store, tenant, client_id, roles, resource, acr, lifetime, now=now)
    return json_response(200, {"access_token": token, "token_type": "Bearer", "expires_in": lifetime})
