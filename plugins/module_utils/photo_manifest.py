# -*- coding: utf-8 -*-
# Copyright (c) spo.user_profiles contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

"""The photo manifest: what was last sent for each user and target, stored as one JSON file in the tenant."""

from __future__ import annotations

import json
import threading

from ansible_collections.spo.user_profiles.plugins.module_utils import files
from ansible_collections.spo.user_profiles.plugins.module_utils.errors import SpoError

MANIFEST_NAME = "spo-user-profiles-photo-manifest.json"


def fingerprint(source_sha256, settings):
    """What the manifest records for a photo: the source's hash and the pipeline settings that prepared it."""
    return "%s-%s" % (source_sha256, settings.key())


class PhotoManifest(object):
    """What was last sent for each user and target: {upn (lower case): {target: fingerprint}}.

    Stored as one JSON file next to the thumbnails, so a run from a fresh container knows what is
    already there with one read instead of one per user.
    """

    def __init__(self, users=None):
        self.users = users or {}
        self.dirty = False
        self.stored = False  # read from the tenant (so its folder exists)
        self._lock = threading.Lock()

    @classmethod
    def from_bytes(cls, data):
        try:
            body = json.loads(data.decode("utf-8-sig"))
        except ValueError:
            # A damaged manifest costs one full re-send, never a failed run.
            return cls()
        users = body.get("users") if isinstance(body, dict) else None
        if not isinstance(users, dict):
            return cls()
        return cls(dict((key.lower(), dict(value)) for key, value in users.items() if isinstance(value, dict)))

    def to_bytes(self):
        body = {"version": 1, "generator": "spo.user_profiles.profile_photo", "users": self.users}
        return json.dumps(body, sort_keys=True, separators=(",", ":")).encode("utf-8")

    def get(self, upn, target):
        return self.users.get(upn.lower(), {}).get(target)

    def record(self, upn, target, value):
        with self._lock:
            entry = self.users.setdefault(upn.lower(), {})
            if entry.get(target) != value:
                entry[target] = value
                self.dirty = True

    def forget(self, upn, target):
        with self._lock:
            entry = self.users.get(upn.lower())
            if entry and target in entry:
                del entry[target]
                if not entry:
                    del self.users[upn.lower()]
                self.dirty = True


def load_manifest(client, site_url, folder):
    try:
        data = files.read_file(client, site_url, folder + "/" + MANIFEST_NAME)
    except SpoError as err:
        if err.status == 404:
            return PhotoManifest()
        raise
    manifest = PhotoManifest.from_bytes(data)
    manifest.stored = True
    return manifest


def save_manifest(client, site_url, folder, manifest):
    files.upload_bytes(client, site_url, folder, MANIFEST_NAME, manifest.to_bytes())
