# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

from ansible_collections.spo.user_profiles.plugins.module_utils import photo_manifest


# -- manifest -------------------------------------------------------------------------------------

def test_manifest_round_trip_and_dirty_tracking():
    manifest = photo_manifest.PhotoManifest()
    manifest.record("A@Contoso.com", "graph", "h1")
    assert manifest.dirty
    again = photo_manifest.PhotoManifest.from_bytes(manifest.to_bytes())
    assert again.get("a@contoso.com", "graph") == "h1" and not again.dirty
    again.record("a@contoso.com", "graph", "h1")
    assert not again.dirty
    again.forget("a@contoso.com", "graph")
    assert again.dirty and again.users == {}


def test_damaged_manifest_reads_as_empty():
    assert photo_manifest.PhotoManifest.from_bytes(b"{not json").users == {}
    assert photo_manifest.PhotoManifest.from_bytes(b'["a"]').users == {}
