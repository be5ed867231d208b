# -*- coding: utf-8 -*-
# Copyright (c) spo.user_profiles contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

"""Where a user's photo goes, and how it is put there or removed: SharePoint (three thumbnails in the My Site
host's "User Photos/Profile Pictures", linked through the profile's PictureURL) and Microsoft Graph (the photo of
the user in Exchange and Entra ID).

Each target has put(upn, prepared, linked) and remove(upn, check_mode) -> whether something was (or would be) removed.
`linked`: an earlier run sent this user's photo to the target (the manifest says so), so only the photo changes.
An SpoError out of either, raised after a part of its writes, names them in its result: {"written": [what]}.
"""

from __future__ import annotations

import re
import threading
from urllib.parse import quote

from ansible_collections.spo.user_profiles.plugins.module_utils import files
from ansible_collections.spo.user_profiles.plugins.module_utils import profiles
from ansible_collections.spo.user_profiles.plugins.module_utils.errors import SpoError

DEFAULT_LIBRARY = "User Photos"
DEFAULT_FOLDER = "Profile Pictures"
TARGETS = ("sharepoint", "graph")

PICTURE_URL = "PictureURL"
PLACEHOLDER_STATE = "SPS-PicturePlaceholderState"
EXCHANGE_SYNC_STATE = "SPS-PictureExchangeSyncState"


def sharepoint_account(upn):
    """The account part of thumbnail names: the UPN with "@" and "." replaced by "_"."""
    return re.sub(r"[@.]", "_", upn)


def thumbnail_key(upn):
    """What a user's thumbnail file names are made of, as SharePoint compares file names (without case): users with
    the same key ("a.b@x.com" and "a_b@x.com") would share one set of thumbnails."""
    return sharepoint_account(upn).lower()


def thumbnail_names(upn, labels=("S", "M", "L")):
    account = sharepoint_account(upn)
    return dict((label, "%s_%sThumb.jpg" % (account, label)) for label in labels)


def _after_writes(err, written):
    """err, with the writes done before it in its result when there were any."""
    return err.replace(result=dict(err.result, written=list(written))) if written else err


def folder_url(library, folder):
    """Server-relative URL of the photo folder on the My Site host ("/User Photos/Profile Pictures")."""
    parts = [part.strip("/") for part in (library, folder) if part and part.strip("/")]
    return "/" + "/".join(parts)


def absolute_url(client, server_relative_url):
    return client.my_url.rstrip("/") + quote(server_relative_url)


class SharePointPhotos(object):
    """A user's thumbnails in the photo folder of the My Site host, and the profile properties that link them."""

    def __init__(self, client, folder, labels, exchange_sync_state=None):
        self.client = client
        self.site_url = client.my_url
        self.folder = folder
        self.labels = list(labels)
        self.exchange_sync_state = exchange_sync_state
        self.folder_ready = False  # set when the folder is known to exist (the manifest was read from it)
        self._folder_lock = threading.Lock()
        self._existing_names = None

    def ensure_folder(self):
        """Whether the folder was created now."""
        with self._folder_lock:
            if self.folder_ready:
                return False
            created = files.ensure_folder(self.client, self.site_url, self.folder)
            self.folder_ready = True
            return created

    def picture_url(self, upn):
        return absolute_url(self.client, self.folder + "/" + thumbnail_names(upn)["M"])

    def put(self, upn, prepared, linked=False):
        """Upload the thumbnails, then link them to the profile: PictureURL, and the placeholder state, which shows the
        photo, last. Uploaded first, as Microsoft's uploader sample does, so that the profile never points at
        thumbnails that are not there; an account without a profile then fails at the PictureURL write, after the
        uploads (the error names them). Nothing is read first: a photo being sent means those values are written
        anyway. When `linked`, the profile already points at these thumbnails, and only they are sent.
        SPS-PictureExchangeSyncState, when asked for, is written every time: what it holds is known only from a read,
        which costs as much."""
        written = []
        try:
            if self.ensure_folder():
                written.append("the folder " + self.folder)
            for label, name in thumbnail_names(upn, self.labels).items():
                files.upload_bytes(self.client, self.site_url, self.folder, name, prepared["thumbnails"][label])
                written.append(name)
            if not linked:
                profiles.set_single(self.client, upn, PICTURE_URL, self.picture_url(upn))
                written.append(PICTURE_URL)
                profiles.set_single(self.client, upn, PLACEHOLDER_STATE, "0")
                written.append(PLACEHOLDER_STATE)
            if self.exchange_sync_state is not None:
                profiles.set_single(self.client, upn, EXCHANGE_SYNC_STATE, str(self.exchange_sync_state))
        except SpoError as err:
            raise _after_writes(err, written) from err

    def remove(self, upn, check_mode):
        names = thumbnail_names(upn, self.labels).values()
        deleted = []
        try:
            if check_mode:
                existing = self._existing_thumbnails()
                found = any(name.lower() in existing for name in names)
            else:
                for name in names:
                    if files.delete_file(self.client, self.site_url, self.folder + "/" + name):
                        deleted.append("deleted " + name)
                found = bool(deleted)
            desired = {PICTURE_URL: "", PLACEHOLDER_STATE: "1"}
            props_changed, _before, _after = profiles.ensure_properties(self.client, upn, desired, check_mode=check_mode)
        except SpoError as err:
            raise _after_writes(err, deleted) from err
        return found or props_changed

    def _existing_thumbnails(self):
        """Lower-case names in the photo folder, listed once (check mode reads instead of deleting)."""
        if self._existing_names is None:
            try:
                listing = files.list_files(self.client, self.site_url, self.folder)
            except SpoError as err:
                if err.status != 404:
                    raise
                listing = []
            self._existing_names = set(item["name"].lower() for item in listing)
        return self._existing_names


class GraphPhotos(object):
    """A user's photo in Microsoft Graph (Exchange and Entra ID)."""

    def __init__(self, client):
        self.client = client

    def _url(self, upn):
        return "%s/users/%s/photo/$value" % (self.client.graph_url.rstrip("/"), quote(upn, safe="@"))

    def put(self, upn, prepared, linked=False):
        """One request, linked or not: the photo is the whole of what Graph holds."""
        del linked
        self.client.request("PUT", self._url(upn), "set Graph photo of %s" % upn,
                            headers={"Content-Type": "image/jpeg"}, data=prepared["graph"])

    def remove(self, upn, check_mode):
        url = self._url(upn)
        operation = "delete Graph photo of %s" % upn
        if check_mode:
            response = self.client.request("GET", url.rsplit("/", 1)[0], operation, allow_status=(404,))
            if response.status_code == 404:
                return False
            try:
                meta = response.json()
            except ValueError:
                return True
            return meta.get("id") != "1x1"  # Graph's "no photo" placeholder
        response = self.client.request("DELETE", url, operation, allow_status=(404,))
        return response.status_code != 404
