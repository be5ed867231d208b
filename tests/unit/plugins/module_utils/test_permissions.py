# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

import pytest

from ansible_collections.spo.user_profiles.plugins.module_utils import auth, permissions
from ansible_collections.spo.user_profiles.plugins.module_utils.errors import SpoError


class FakeClient:
    """granted_roles as SpoClient answers it: the roles of each resource's token, None when the token tells nothing."""

    def __init__(self, sharepoint=None, graph=None):
        self.roles = {auth.SHAREPOINT: sharepoint, auth.GRAPH: graph}
        self.asked = []

    def granted_roles(self, resource):
        self.asked.append(resource)
        return None if self.roles[resource] is None else set(self.roles[resource])


def test_the_bulk_api_needs_both_sharepoint_permissions():
    client = FakeClient(sharepoint=["Sites.FullControl.All"])
    with pytest.raises(SpoError) as caught:
        permissions.check(client, permissions.BULK_IMPORT)
    err = caught.value
    assert err.code == "MissingPermission" and err.operation == "check permissions" and err.status is None
    # the permission, its API, what needs it, what the token has and where to grant it
    assert "SharePoint User.ReadWrite.All (for the bulk import API)" in err.message
    assert "the SharePoint token carries Sites.FullControl.All" in err.message
    assert ("Entra admin center: App registrations > the app > API permissions > Add a permission > SharePoint > "
            "Application permissions, then Grant admin consent" in err.message)
    assert "nothing was changed" in err.message
    assert "Sites.FullControl.All (for" not in err.message


def test_every_missing_permission_is_named_once_with_each_api():
    client = FakeClient(sharepoint=[], graph=["User.Read.All"])
    needs = permissions.SITE_FILES + permissions.PEOPLE_MANAGER + permissions.BULK_IMPORT + permissions.GRAPH_PHOTOS
    with pytest.raises(SpoError) as caught:
        permissions.check(client, needs)
    message = caught.value.message
    assert message.count("Sites.FullControl.All") == 2  # files (with its alternatives) and PeopleManager, not thrice
    assert "SharePoint Sites.FullControl.All or Sites.Manage.All or Sites.ReadWrite.All (for files in document libraries)" in message
    assert "SharePoint User.ReadWrite.All (for user profiles (PeopleManager))" in message
    assert "Microsoft Graph ProfilePhoto.ReadWrite.All or User.ReadWrite.All (for profile photos)" in message
    assert "the SharePoint token carries no roles" in message and "the Microsoft Graph token carries User.Read.All" in message
    assert "> SharePoint or Microsoft Graph >" in message


@pytest.mark.parametrize("sharepoint, graph, needs", [
    (["Sites.FullControl.All", "User.ReadWrite.All"], None, permissions.BULK_IMPORT + permissions.PEOPLE_MANAGER),
    (["Sites.ReadWrite.All"], None, permissions.SITE_FILES),
    ([], ["ProfilePhoto.ReadWrite.All"], permissions.GRAPH_PHOTOS),
    ([], ["User.ReadWrite.All"], permissions.GRAPH_PHOTOS),
    ([], ["Directory.Read.All"], permissions.GRAPH_USERS),
    # a token that tells nothing about roles (not a JWT, or delegated) is left to the service
    (None, None, permissions.BULK_IMPORT + permissions.GRAPH_USERS),
])
def test_what_is_granted_passes(sharepoint, graph, needs):
    permissions.check(FakeClient(sharepoint, graph), needs)


def test_sharepoint_roles_never_stand_in_for_graph_roles():
    """Both APIs have a User.ReadWrite.All; the SharePoint one grants nothing in Graph."""
    client = FakeClient(sharepoint=["User.ReadWrite.All", "Sites.FullControl.All"], graph=[])
    with pytest.raises(SpoError) as caught:
        permissions.check(client, permissions.GRAPH_PHOTOS)
    assert "Microsoft Graph ProfilePhoto.ReadWrite.All or User.ReadWrite.All" in caught.value.message


def test_only_the_resources_needed_are_asked_for():
    client = FakeClient(sharepoint=["Sites.FullControl.All", "User.ReadWrite.All"])
    permissions.check(client, permissions.BULK_IMPORT)
    assert set(client.asked) == {auth.SHAREPOINT}
    permissions.check(client, ())
