# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

import json

import pytest

from ansible_collections.spo.user_profiles.plugins.module_utils import import_upload
from ansible_collections.spo.user_profiles.tests.unit.plugins.module_utils.test_import_build import (
    build, user_records,
)
from ansible_collections.spo.user_profiles.tests.unit.plugins.module_utils.test_files import LIB, SITE, FakeSharePoint


def test_upload_is_idempotent_and_check_mode_uploads_nothing(tmp_path):
    sp = FakeSharePoint()
    built = build(tmp_path, prefix="hr", records=user_records(3))["files"]
    folder = LIB + "/ProfileImport"
    changed, files = import_upload.upload_import_files(sp, SITE, folder, built, check_mode=True)
    assert changed and files[0]["uploaded"] and not sp.files and folder not in sp.folders
    changed, files = import_upload.upload_import_files(sp, SITE, folder, built)
    assert changed and folder in sp.folders
    assert files[0]["source_uri"] == SITE + folder + "/" + built[0]["name"]
    assert sp.files[files[0]["server_relative_url"]] == open(built[0]["path"], "rb").read()
    changed, files = import_upload.upload_import_files(sp, SITE, folder, built)
    assert not changed and not files[0]["uploaded"]


def test_upload_replaces_a_truncated_file(tmp_path):
    sp = FakeSharePoint()
    built = build(tmp_path, prefix="hr", records=user_records(3))["files"]
    sp.folders.add(LIB + "/P")
    sp.files[LIB + "/P/" + built[0]["name"]] = b"partial"
    changed, files = import_upload.upload_import_files(sp, SITE, LIB + "/P", built)
    assert changed and len(sp.files[LIB + "/P/" + built[0]["name"]]) == built[0]["bytes"]


class Stop(Exception):
    pass


@pytest.mark.parametrize("check_mode", [True, False])
def test_before_upload_sees_the_files_not_there_yet_and_can_stop_the_upload(tmp_path, check_mode):
    sp = FakeSharePoint()
    built = build(tmp_path, prefix="hr", records=user_records(30), max_properties=20)["files"]
    folder = LIB + "/P"
    sp.folders.add(folder)
    sp.files[folder + "/" + built[0]["name"]] = open(built[0]["path"], "rb").read()
    seen = []

    def stop(pending):
        seen.append([item["name"] for item in pending])
        raise Stop()
    with pytest.raises(Stop):
        import_upload.upload_import_files(sp, SITE, folder, built, check_mode=check_mode, before_upload=stop)
    assert seen == [[item["name"] for item in built[1:]]]
    assert list(sp.files) == [folder + "/" + built[0]["name"]] and [call[0] for call in sp.calls] == ["GET"]


def test_before_upload_is_not_called_when_every_file_is_there(tmp_path):
    sp = FakeSharePoint()
    built = build(tmp_path, prefix="hr", records=user_records(3))["files"]
    import_upload.upload_import_files(sp, SITE, LIB + "/P", built)
    changed, _files = import_upload.upload_import_files(sp, SITE, LIB + "/P", built, before_upload=pytest.fail)
    assert not changed


def test_remove_import_files_with_their_records_and_only_their_log_folders(tmp_path):
    sp = FakeSharePoint()
    folder = LIB + "/P"
    recorded_job = "5f4e7a2c-9d1b-4c3e-8a7f-6b5d4c3e2f1a"
    unknown_job = "6a5b8c3d-9d1b-4c3e-8a7f-6b5d4c3e2f1a"
    pnp_folder = "hr-0123456789abcdef_7b6c9d4e-9d1b-4c3e-8a7f-6b5d4c3e2f1a"
    other_pnp_folder = "hrx-0123456789abcdef_8c7d0e5f-9d1b-4c3e-8a7f-6b5d4c3e2f1a"
    sp.folders.update({folder, folder + "/keep"}
                      | {folder + "/" + name for name in (recorded_job, unknown_job, pnp_folder, other_pnp_folder)})
    for name in ("hr-0123456789abcdef.json", "hr-0123456789abcdef-part2.json", "hr-other.json", "hrx-0123456789abcdef.json"):
        sp.files[folder + "/" + name] = b"x"
    sp.files[folder + "/hr-0123456789abcdef.jobs.json"] = json.dumps({"jobs": [{"job_id": recorded_job}]}).encode()
    mine = ["hr-0123456789abcdef-part2.json", "hr-0123456789abcdef.jobs.json", "hr-0123456789abcdef.json"]
    assert import_upload.remove_import_files(sp, SITE, folder, "hr", remove_logs=True, check_mode=True) == (
        mine, sorted([recorded_job, pnp_folder]))
    assert len(sp.files) == 5
    removed, logs = import_upload.remove_import_files(sp, SITE, folder, "hr", remove_logs=True)
    assert removed == mine and logs == sorted([recorded_job, pnp_folder])
    assert sorted(sp.files) == [folder + "/hr-other.json", folder + "/hrx-0123456789abcdef.json"]
    # another prefix's log folder, and a job id no record of this prefix names, stay
    assert {folder + "/keep", folder + "/" + unknown_job, folder + "/" + other_pnp_folder} <= sp.folders


def test_site_and_folder():
    assert import_upload.site_and_folder("https://c.sharepoint.com", None, "Shared Documents/ProfileImport") == (
        "https://c.sharepoint.com", "/Shared Documents/ProfileImport")
    assert import_upload.site_and_folder("https://c.sharepoint.com", "/sites/hr/", "/Docs/x/") == (
        "https://c.sharepoint.com/sites/hr", "/sites/hr/Docs/x")
    assert import_upload.site_and_folder("https://c.sharepoint.com", "https://c.sharepoint.com/sites/a", "D") == (
        "https://c.sharepoint.com/sites/a", "/sites/a/D")


@pytest.mark.parametrize("site_url, folder_url, places", [
    ("https://contoso.sharepoint.com", "/Shared Documents/ProfileImport", ["/Shared Documents", "/Shared Documents/ProfileImport"]),
    ("https://contoso.sharepoint.com/sites/hr", "/sites/hr/Dokumente/Profil/Import",
     ["/sites/hr/Dokumente", "/sites/hr/Dokumente/Profil/Import"]),
    ("https://contoso.sharepoint.com", "/Shared Documents", ["/Shared Documents"]),
])
def test_log_folders_are_looked_for_at_the_library_root_and_in_the_import_folder(site_url, folder_url, places):
    assert import_upload.log_folder_places(site_url, folder_url) == places
