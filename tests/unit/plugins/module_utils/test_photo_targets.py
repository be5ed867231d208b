# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

import json
from urllib.parse import unquote

import pytest

from ansible_collections.spo.user_profiles.plugins.module_utils import files, photo_targets
from ansible_collections.spo.user_profiles.plugins.module_utils.errors import SpoError
from ansible_collections.spo.user_profiles.tests.unit.plugins.module_utils.test_http import LimitedFake

FOLDER = "/User Photos/Profile Pictures"


class FakeResponse:
    def __init__(self, status_code, body=b""):
        self.status_code = status_code
        self.content = body if isinstance(body, bytes) else json.dumps(body).encode("utf-8")

    def json(self):
        return json.loads(self.content.decode("utf-8"))


class FakeTenant(LimitedFake):
    """The parts of SharePoint and Graph the photo sync uses; records every request (method, url)."""

    my_url = "https://contoso-my.sharepoint.com"
    admin_url = "https://contoso-admin.sharepoint.com"
    graph_url = "https://graph.microsoft.com/v1.0"

    def __init__(self, users):
        self.profiles = dict((upn, {"PictureURL": "", "SPS-PicturePlaceholderState": "1"}) for upn in users)
        self.files = {}
        self.graph = {}
        self.log = []
        self.properties_set = []

    def writes(self):
        return [entry for entry in self.log if entry[0] in ("POST", "PUT", "DELETE", "PATCH")]

    def _user(self, url):
        upn = unquote(url.split("/users/", 1)[1].split("/", 1)[0])
        return upn if upn in self.profiles else None

    def request(self, method, url, operation, headers=None, data=None, json=None, allow_status=(), **kw):
        self.log.append((method, url))
        if url.startswith(self.graph_url):
            upn = self._user(url)
            if upn is None:
                raise SpoError("User not found", status=404, code="Request_ResourceNotFound", operation=operation)
            if method == "PUT":
                assert headers["Content-Type"] == "image/jpeg"
                self.graph[upn] = data
                return FakeResponse(200)
            exists = upn in self.graph
            if method == "DELETE":
                self.graph.pop(upn, None)
            if method == "GET" and exists:
                return FakeResponse(200, {"id": "648X648"})
            return FakeResponse(204 if exists else 404)
        raise AssertionError("unexpected request %s %s" % (method, url))

    def sp(self, method, url, operation, json=None, data=None, **kw):
        self.log.append((method, url))
        if "/Files/add(" in url:
            folder = unquote(url.split("DecodedUrl='", 1)[1].split("')", 1)[0])
            name = unquote(url.split("url='", 1)[1].split("'", 1)[0])
            self.files[folder + "/" + name] = bytes(data)
            return {"Name": name}
        if "GetPropertiesFor" in url:
            upn = unquote(url.split("?@v=", 1)[1]).strip("'").split("|")[-1]
            if upn not in self.profiles:
                return {"UserProfileProperties": []}
            return {"UserProfileProperties": [{"Key": k, "Value": v} for k, v in self.profiles[upn].items()]}
        if url.endswith("/SetSingleValueProfileProperty"):
            upn = json["accountName"].split("|")[-1]
            self.properties_set.append(json["propertyName"])
            if upn not in self.profiles:  # as the service answers a write for an account without a profile
                raise SpoError("User Profile Error 1000: User Not Found: Could not load profile data from the database.",
                               status=500, code="-1, Microsoft.Office.Server.UserProfiles.UserNotFoundException",
                               operation=operation)
            self.profiles[upn][json["propertyName"]] = json["propertyValue"]
            return None
        raise AssertionError("unexpected call %s %s" % (method, url))


def fake_tenant(monkeypatch, users=("ann@contoso.com", "bob@contoso.com", "cid@contoso.com")):
    """A FakeTenant, with the document library functions of files.py answered from its files."""
    fake = FakeTenant(users)

    def read_file(client, site_url, path):
        client.log.append(("GET", path))
        if path not in client.files:
            raise SpoError("File Not Found.", status=404)
        return client.files[path]

    def delete_file(client, site_url, path):
        client.log.append(("DELETE", path))
        return client.files.pop(path, None) is not None

    def list_files(client, site_url, folder):
        client.log.append(("GET", folder))
        return [{"name": path.rsplit("/", 1)[1]} for path in client.files if path.startswith(folder + "/")]

    def ensure_folder(client, site_url, folder):
        client.log.append(("GET", folder))
        return False

    monkeypatch.setattr(files, "read_file", read_file)
    monkeypatch.setattr(files, "delete_file", delete_file)
    monkeypatch.setattr(files, "list_files", list_files)
    monkeypatch.setattr(files, "ensure_folder", ensure_folder)
    return fake


def test_thumbnail_names():
    assert photo_targets.thumbnail_names("j.doe@contoso.com") == {
        "S": "j_doe_contoso_com_SThumb.jpg", "M": "j_doe_contoso_com_MThumb.jpg", "L": "j_doe_contoso_com_LThumb.jpg"}
    assert photo_targets.folder_url("User Photos", "Profile Pictures") == "/User Photos/Profile Pictures"


PREPARED = {"thumbnails": {"S": b"s", "M": b"m", "L": b"l"}, "graph": b"graph-jpeg"}


def sent(tenant):
    """The requests to the tenant, each as what it did: "read profile", "set <property>", "upload <name>", ..."""
    described = []
    properties = iter(tenant.properties_set)
    for method, url in tenant.log:
        if "GetPropertiesFor" in url:
            described.append("read profile")
        elif url.endswith("/SetSingleValueProfileProperty"):
            described.append("set " + next(properties))
        elif "/Files/add(" in url:
            described.append("upload " + unquote(url.split("url='", 1)[1].split("'", 1)[0]).split("_contoso_com_")[-1])
        else:
            described.append("%s %s" % (method, url))
    return described


def test_sharepoint_put_uploads_first_then_links_the_profile_and_shows_the_photo_last_without_a_read(monkeypatch):
    tenant = fake_tenant(monkeypatch)
    sharepoint = photo_targets.SharePointPhotos(tenant, FOLDER, ["S", "M", "L"], exchange_sync_state=1)
    sharepoint.folder_ready = True
    sharepoint.put("ann@contoso.com", PREPARED)
    assert tenant.files[FOLDER + "/ann_contoso_com_LThumb.jpg"] == b"l"
    assert tenant.profiles["ann@contoso.com"] == {
        "PictureURL": "https://contoso-my.sharepoint.com/User%20Photos/Profile%20Pictures/ann_contoso_com_MThumb.jpg",
        "SPS-PicturePlaceholderState": "0", "SPS-PictureExchangeSyncState": "1"}
    assert sent(tenant) == ["upload SThumb.jpg", "upload MThumb.jpg", "upload LThumb.jpg", "set PictureURL",
                            "set SPS-PicturePlaceholderState", "set SPS-PictureExchangeSyncState"]


def throttle(tenant, name):
    """Make the tenant refuse the upload of files whose name ends with `name` (as past the retries of throttling)."""
    answer = tenant.sp

    def sp(method, url, operation, **kw):
        if "/Files/add(" in url and unquote(url).split("url='", 1)[1].split("'", 1)[0].endswith(name):
            tenant.log.append((method, url))
            raise SpoError("The request has been throttled.", status=429, operation=operation)
        return answer(method, url, operation, **kw)
    tenant.sp = sp


def test_a_put_that_fails_after_some_of_its_writes_names_them(monkeypatch):
    tenant = fake_tenant(monkeypatch)
    monkeypatch.setattr(files, "ensure_folder", lambda client, site_url, folder: True)
    throttle(tenant, "_MThumb.jpg")
    with pytest.raises(SpoError, match="throttled") as info:
        photo_targets.SharePointPhotos(tenant, FOLDER, ["S", "M", "L"]).put("ann@contoso.com", PREPARED)
    assert info.value.result == {"written": ["the folder " + FOLDER, "ann_contoso_com_SThumb.jpg"]}
    assert tenant.properties_set == []  # the profile does not point at thumbnails that are not there
    tenant.log.clear()
    with pytest.raises(SpoError) as info:
        photo_targets.SharePointPhotos(tenant, FOLDER, ["S", "M", "L"]).put("bob@contoso.com", PREPARED, linked=True)
    assert info.value.result == {"written": ["the folder " + FOLDER, "bob_contoso_com_SThumb.jpg"]}


def test_a_put_that_fails_before_any_write_says_none():
    tenant = FakeTenant(["ann@contoso.com"])
    sharepoint = photo_targets.SharePointPhotos(tenant, FOLDER, ["S", "M", "L"])
    sharepoint.folder_ready = True
    throttle(tenant, "_SThumb.jpg")
    with pytest.raises(SpoError) as info:
        sharepoint.put("ann@contoso.com", PREPARED, linked=True)
    assert info.value.result == {}


def test_a_remove_that_fails_after_deleting_names_what_it_deleted(monkeypatch):
    tenant = fake_tenant(monkeypatch)
    sharepoint = photo_targets.SharePointPhotos(tenant, FOLDER, ["S", "M", "L"])
    sharepoint.put("ann@contoso.com", PREPARED)
    del tenant.profiles["ann@contoso.com"]  # the profile is gone: reading it fails

    def get_properties(client, upn):
        raise SpoError("User Not Found", status=500, operation="read profile of %s" % upn)
    monkeypatch.setattr(photo_targets.profiles, "get_properties", get_properties)
    with pytest.raises(SpoError, match="User Not Found") as info:
        sharepoint.remove("ann@contoso.com", check_mode=False)
    assert info.value.result == {"written": ["deleted ann_contoso_com_%sThumb.jpg" % label for label in "SML"]}


def test_a_linked_put_sends_the_thumbnails_only(monkeypatch):
    tenant = fake_tenant(monkeypatch)
    sharepoint = photo_targets.SharePointPhotos(tenant, FOLDER, ["S", "M", "L"])
    sharepoint.folder_ready = True
    sharepoint.put("ann@contoso.com", PREPARED, linked=True)
    assert sent(tenant) == ["upload SThumb.jpg", "upload MThumb.jpg", "upload LThumb.jpg"]
    assert tenant.profiles["ann@contoso.com"]["PictureURL"] == ""  # left as it is: the manifest says it is linked
    asked = photo_targets.SharePointPhotos(tenant, FOLDER, ["S", "M", "L"], exchange_sync_state=0)
    asked.folder_ready = True
    tenant.log.clear()
    asked.put("ann@contoso.com", PREPARED, linked=True)
    assert sent(tenant) == ["upload SThumb.jpg", "upload MThumb.jpg", "upload LThumb.jpg", "set SPS-PictureExchangeSyncState"]
    assert tenant.profiles["ann@contoso.com"]["SPS-PictureExchangeSyncState"] == "0"


def test_the_folder_is_checked_once_unless_it_is_known(monkeypatch):
    tenant = fake_tenant(monkeypatch)
    sharepoint = photo_targets.SharePointPhotos(tenant, FOLDER, ["S", "M", "L"])
    sharepoint.put("ann@contoso.com", PREPARED)
    sharepoint.put("bob@contoso.com", PREPARED)
    assert tenant.log.count(("GET", FOLDER)) == 1


def test_sharepoint_put_for_an_account_without_a_profile_fails_at_the_link_naming_the_uploads(monkeypatch):
    tenant = fake_tenant(monkeypatch)
    sharepoint = photo_targets.SharePointPhotos(tenant, FOLDER, ["S", "M", "L"])
    with pytest.raises(SpoError, match="User Not Found") as info:
        sharepoint.put("ghost@contoso.com", PREPARED)
    assert info.value.result == {"written": ["ghost_contoso_com_%sThumb.jpg" % label for label in "SML"]}


def test_sharepoint_remove_in_check_mode_lists_once_and_deletes_nothing(monkeypatch):
    tenant = fake_tenant(monkeypatch)
    sharepoint = photo_targets.SharePointPhotos(tenant, FOLDER, ["S", "M", "L"])
    sharepoint.put("ann@contoso.com", PREPARED)
    assert sharepoint.remove("ann@contoso.com", check_mode=True) is True
    assert sharepoint.remove("bob@contoso.com", check_mode=True) is False
    assert len(tenant.files) == 3 and tenant.profiles["ann@contoso.com"]["SPS-PicturePlaceholderState"] == "0"
    assert tenant.log.count(("GET", FOLDER)) == 2  # the folder ensured by put, then listed once for both users


class _GraphAnswer(object):
    graph_url = "https://graph.microsoft.com/v1.0"

    def __init__(self, status, body):
        self.answer = FakeResponse(status, body)
        self.sent = []

    def request(self, method, url, operation, **kw):
        self.sent.append((method, url))
        return self.answer


def test_graph_remove_in_check_mode_treats_the_placeholder_as_no_photo():
    placeholder = _GraphAnswer(200, {"id": "1x1"})
    assert photo_targets.GraphPhotos(placeholder).remove("ann@contoso.com", check_mode=True) is False
    assert placeholder.sent == [("GET", "https://graph.microsoft.com/v1.0/users/ann@contoso.com/photo")]
    assert photo_targets.GraphPhotos(_GraphAnswer(200, {"id": "648X648"})).remove("ann@contoso.com", check_mode=True) is True
    assert photo_targets.GraphPhotos(_GraphAnswer(404, b"")).remove("ann@contoso.com", check_mode=True) is False


def test_graph_put_and_remove(monkeypatch):
    tenant = fake_tenant(monkeypatch)
    graph = photo_targets.GraphPhotos(tenant)
    graph.put("bob@contoso.com", PREPARED)
    assert tenant.graph == {"bob@contoso.com": b"graph-jpeg"}
    assert graph.remove("bob@contoso.com", check_mode=False) is True
    assert graph.remove("bob@contoso.com", check_mode=False) is False
