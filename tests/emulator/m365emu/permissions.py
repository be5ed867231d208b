"""Application permissions (app roles): which ones each API needs, and what the service answers without them.

Roles are granted per resource, as in Entra: a SharePoint token's `roles` claim holds the app's SharePoint
roles, a Graph token's its Graph roles. SharePoint and Graph both have a permission named User.ReadWrite.All;
they are different permissions. A tenant spec grants them per resource ({"sharepoint": [...], "graph": [...]})
or with a plain list, the shorthand for the same roles on both resources.
Sources and how sure each rule is: docs/protocol_notes.md, "Permissions".
"""

from .web import HttpError, graph_error, sp_error

RESOURCES = ("sharepoint", "graph")

# SharePoint: PeopleManager and the bulk import API (Office365Tenant) need both; files need any site role.
PROFILE_ROLES = ("Sites.FullControl.All", "User.ReadWrite.All")
SITE_WRITE_ROLES = ("Sites.FullControl.All", "Sites.Manage.All", "Sites.ReadWrite.All")
SITE_READ_ROLES = SITE_WRITE_ROLES + ("Sites.Read.All",)

# Graph: any one of these.
USER_READ_ROLES = ("User.Read.All", "User.ReadWrite.All", "Directory.Read.All", "Directory.ReadWrite.All")
PHOTO_READ_ROLES = USER_READ_ROLES + ("ProfilePhoto.Read.All", "ProfilePhoto.ReadWrite.All")
PHOTO_WRITE_ROLES = ("User.ReadWrite.All", "ProfilePhoto.ReadWrite.All")

CODE_ACCESS_DENIED = "-2147024891, System.UnauthorizedAccessException"
ACCESS_DENIED = "Access denied. You do not have permission to perform this action or access this resource."
PROFILE_ACCESS_DENIED = ("Access Denied: This application does not have the required permissions to access "
                         "profile information.")


def normalise_roles(raw, client_id):
    """{"sharepoint": [...], "graph": [...]} from a tenant spec's roles: a list (both resources) or that object."""
    if raw is None:
        raw = []
    if isinstance(raw, list):
        if not all(isinstance(role, str) for role in raw):
            raise ValueError("app %s: roles must be names" % client_id)
        return {resource: list(raw) for resource in RESOURCES}
    if isinstance(raw, dict):
        unknown = sorted(set(raw) - set(RESOURCES))
        if unknown:
            raise ValueError("app %s: roles are granted on sharepoint and graph, not %s" % (client_id, ", ".join(unknown)))
        result = {}
        for resource in RESOURCES:
            roles = raw.get(resource) or []
            if not isinstance(roles, list) or not all(isinstance(role, str) for role in roles):
                raise ValueError("app %s: roles.%s must be a list of names" % (client_id, resource))
            result[resource] = list(roles)
        return result
    raise ValueError("app %s: roles must be a list or {\"sharepoint\": [...], \"graph\": [...]}" % client_id)


def roles_for(app, resource):
    """The roles an app holds on one resource (what its token for that resource carries)."""
    return list(normalise_roles(app.get("roles"), "?")[resource])


def _granted(claims):
    return set(claims.get("roles") or [])


def has_any(claims, roles):
    return bool(_granted(claims).intersection(roles))


def has_all(claims, roles):
    return _granted(claims).issuperset(roles)


def sharepoint_denied(verbose=False, message=ACCESS_DENIED):
    """SharePoint REST's answer to a token without the permission: 403 UnauthorizedAccessException."""
    return HttpError(sp_error(403, CODE_ACCESS_DENIED, message, verbose=verbose))


def graph_denied():
    return HttpError(graph_error(403, "Authorization_RequestDenied", "Insufficient privileges to complete the operation."))


def require_any_graph(claims, roles):
    if not has_any(claims, roles):
        raise graph_denied()
