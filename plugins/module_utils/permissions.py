# -*- coding: utf-8 -*-
# Copyright (c) spo.user_profiles contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

"""The application permissions each API needs, checked from the access tokens' `roles` claims before anything is
changed, so that a missing permission fails a module at once, named, rather than with a 403 halfway through a batch.

Roles are granted per API: SharePoint and Microsoft Graph both have a permission called User.ReadWrite.All, and one
does not grant the other. Sources: docs/protocol_notes.md, "Permissions".
"""

from __future__ import annotations

from ansible_collections.spo.user_profiles.plugins.module_utils.auth import GRAPH, SHAREPOINT
from ansible_collections.spo.user_profiles.plugins.module_utils.errors import SpoError

API_NAMES = {SHAREPOINT: "SharePoint", GRAPH: "Microsoft Graph"}
OPERATION = "check permissions"
MISSING_PERMISSION = "MissingPermission"

_WHERE_TO_GRANT = ("Grant it in the Entra admin center: App registrations > the app > API permissions > Add a permission "
                   "> %s > Application permissions, then Grant admin consent; nothing was changed.")


class Need:
    """One permission an API needs: any one of `roles` on `resource` (the first is the one to grant), for `purpose`."""

    def __init__(self, resource, roles, purpose):
        self.resource = resource
        self.roles = tuple(roles)
        self.purpose = purpose

    def met_by(self, granted):
        return bool(granted.intersection(self.roles))

    def __repr__(self):
        return "Need(%s %s)" % (API_NAMES[self.resource], " or ".join(self.roles))


def _both(resource, roles, purpose):
    return tuple(Need(resource, (role,), purpose) for role in roles)


# PeopleManager and the bulk import API (Office365Tenant) need both SharePoint permissions (pnp/powershell#5084).
PEOPLE_MANAGER = _both(SHAREPOINT, ("Sites.FullControl.All", "User.ReadWrite.All"), "user profiles (PeopleManager)")
BULK_IMPORT = _both(SHAREPOINT, ("Sites.FullControl.All", "User.ReadWrite.All"), "the bulk import API")
SITE_FILES = (Need(SHAREPOINT, ("Sites.FullControl.All", "Sites.Manage.All", "Sites.ReadWrite.All"),
                   "files in document libraries"),)
GRAPH_PHOTOS = (Need(GRAPH, ("ProfilePhoto.ReadWrite.All", "User.ReadWrite.All"), "profile photos"),)
GRAPH_USERS = (Need(GRAPH, ("User.Read.All", "User.ReadWrite.All", "Directory.Read.All", "Directory.ReadWrite.All"),
                    "reading users"),)


def _missing_text(need):
    return "%s %s (for %s)" % (API_NAMES[need.resource], " or ".join(need.roles), need.purpose)


def missing_permissions(client, needs):
    """The needs the run's tokens do not meet; a resource whose token says nothing about roles is not judged."""
    missing = []
    for need in needs:
        granted = client.granted_roles(need.resource)
        if granted is not None and not need.met_by(granted) and all(need.roles != known.roles for known in missing):
            missing.append(need)
    return missing


def check(client, needs):
    """Raise SpoError (code MissingPermission) naming every permission of `needs` the app lacks, its API and where to
    grant it. Costs no request beyond the sign-in the run needs anyway: each resource's token is read once."""
    missing = missing_permissions(client, needs)
    if not missing:
        return
    apis = []
    for need in missing:
        if API_NAMES[need.resource] not in apis:
            apis.append(API_NAMES[need.resource])
    granted = "; ".join("the %s token carries %s" % (API_NAMES[resource], ", ".join(sorted(client.granted_roles(resource))) or "no roles")
                        for resource in sorted({need.resource for need in missing}))
    message = "the app registration lacks the application permission%s %s (%s). %s" % (
        "s" if len(missing) > 1 else "", "; ".join(_missing_text(need) for need in missing), granted,
        _WHERE_TO_GRANT % " or ".join(apis))
    raise SpoError(message, code=MISSING_PERMISSION, operation=OPERATION)
