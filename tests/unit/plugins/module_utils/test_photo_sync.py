# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

import json
import os

import pytest

from ansible_collections.spo.user_profiles.plugins.module_utils import files, image_pipeline, photo_manifest, photo_sync
from ansible_collections.spo.user_profiles.plugins.module_utils.errors import SpoError
from ansible_collections.spo.user_profiles.plugins.module_utils.progress import FILE_NAME, ProgressFile, UsersProgress
from ansible_collections.spo.user_profiles.tests.unit.plugins.module_utils.test_image_pipeline import (
    BLUE, GREEN, RED, decode,
)
from ansible_collections.spo.user_profiles.tests.unit.plugins.module_utils.test_photo_sources import write_image
from ansible_collections.spo.user_profiles.tests.unit.plugins.module_utils.test_photo_targets import (
    FOLDER, fake_tenant, sent, throttle,
)


@pytest.fixture
def tenant(monkeypatch):
    return fake_tenant(monkeypatch)


def run_sync(tenant, entries, **options):
    options.setdefault("workers", 1)
    return photo_sync.PhotoSync(tenant, options).run(entries)


@pytest.fixture
def sources(tmp_path):
    colours = {"ann@contoso.com": RED, "bob@contoso.com": GREEN, "cid@contoso.com": BLUE}
    return [{"user": upn, "path": write_image(tmp_path / (upn + ".jpg"), colour)} for upn, colour in colours.items()]


def test_first_run_sends_everything_and_links_the_profile(tenant, sources):
    result = run_sync(tenant, sources)
    assert result["changed"] and result["summary"] == {"total": 3, "changed": 3, "unchanged": 0, "failed": 0}
    assert all(user["action"] == "new" for user in result["users"])
    assert decode(tenant.files[FOLDER + "/ann_contoso_com_MThumb.jpg"]).size == (72, 72)
    assert decode(tenant.files[FOLDER + "/bob_contoso_com_LThumb.jpg"]).size == (200, 200)
    assert decode(tenant.graph["cid@contoso.com"]).size == (64, 64)
    profile = tenant.profiles["ann@contoso.com"]
    assert profile["PictureURL"] == "https://contoso-my.sharepoint.com/User%20Photos/Profile%20Pictures/ann_contoso_com_MThumb.jpg"
    assert profile["SPS-PicturePlaceholderState"] == "0"
    manifest = json.loads(tenant.files[FOLDER + "/" + photo_manifest.MANIFEST_NAME])
    assert set(manifest["users"]) == {"ann@contoso.com", "bob@contoso.com", "cid@contoso.com"}
    assert result["manifest_written"]


def test_unchanged_rerun_reads_the_manifest_once_and_writes_nothing(tenant, sources):
    run_sync(tenant, sources)
    tenant.log.clear()
    result = run_sync(tenant, sources)
    assert not result["changed"]
    assert tenant.log == [("GET", FOLDER + "/" + photo_manifest.MANIFEST_NAME)]
    assert all(user["targets"] == {"sharepoint": "unchanged", "graph": "unchanged"} for user in result["users"])


def test_a_new_user_gets_only_the_requests_the_change_needs(tenant, sources):
    result = run_sync(tenant, sources)
    assert result["summary"]["changed"] == 3
    described = sent(tenant)
    # The run: the manifest read (not there yet), the folder checked once, the manifest written once.
    assert described[0] == "GET " + FOLDER + "/" + photo_manifest.MANIFEST_NAME
    assert described.count("GET " + FOLDER) == 1
    assert described[-1] == "upload " + photo_manifest.MANIFEST_NAME
    # Each user: the link, three thumbnails, the placeholder state, the Graph photo; no read.
    assert len(described) == 3 + 3 * 6
    assert described.count("set PictureURL") == 3 and described.count("set SPS-PicturePlaceholderState") == 3
    assert len([item for item in described if item.startswith("upload ") and item.endswith("Thumb.jpg")]) == 9
    assert len([item for item in described if item.startswith("PUT ")]) == 3
    assert "read profile" not in described


def test_a_changed_photo_of_a_known_user_sends_the_photos_only_and_force_links_again(tenant, sources):
    run_sync(tenant, sources)
    write_image(tenant_path(sources, "bob@contoso.com"), BLUE)
    tenant.log.clear()
    tenant.properties_set.clear()
    run_sync(tenant, sources)
    described = sent(tenant)
    # the manifest read (the folder is known from it), bob's three thumbnails and Graph photo, the manifest written
    assert len(described) == 1 + 3 + 1 + 1 and not [item for item in described if item.startswith("set ")]
    tenant.log.clear()
    tenant.properties_set.clear()
    run_sync(tenant, sources[1:2], force=True)
    assert sent(tenant).count("set PictureURL") == 1 and sent(tenant).count("set SPS-PicturePlaceholderState") == 1


def test_the_run_hands_its_limit_to_the_client_and_reports_what_it_did(tenant, sources):
    seen = []
    put = tenant.request

    def request(method, url, operation, **kw):
        seen.append(tenant.limiter)
        return put(method, url, operation, **kw)
    tenant.request = request
    result = run_sync(tenant, sources, concurrency=5)
    assert seen and all(limit is not None and limit.ceiling == 5 for limit in seen)
    assert tenant.limiter is None
    assert result["concurrency"]["ceiling"] == 5 and result["concurrency"]["throttled"] == 0


def test_the_concurrency_ceiling_defaults_to_the_shared_default(tenant):
    assert photo_sync.PhotoSync(tenant, {}).limit.ceiling == 16


def test_progress_counts_the_users_to_send_as_they_are_done(tenant, sources, tmp_path):
    progress_dir = tmp_path / "module-tmp"
    progress_dir.mkdir()
    progress = UsersProgress(ProgressFile(str(progress_dir)))
    (tmp_path / "dan.jpg").write_bytes(b"not an image")
    run_sync(tenant, sources[1:] + [{"user": "dan@contoso.com", "path": str(tmp_path / "dan.jpg")}], progress=progress)
    users = json.loads((progress_dir / FILE_NAME).read_text())["users"]
    # bob, cid and dan to send, dan's photo failing to prepare
    assert users["done"] == users["total"] == 3 and users["throttled"] == 0


def test_changed_photo_rewrites_only_that_user(tenant, sources):
    run_sync(tenant, sources)
    write_image(tenant_path(sources, "bob@contoso.com"), BLUE)
    tenant.log.clear()
    result = run_sync(tenant, sources)
    actions = dict((user["user"], user["action"]) for user in result["users"])
    assert actions == {"ann@contoso.com": "unchanged", "bob@contoso.com": "changed", "cid@contoso.com": "unchanged"}
    written = " ".join(url for _method, url in tenant.writes())
    assert "bob" in written and "ann" not in written and "cid" not in written


def tenant_path(sources, upn):
    from pathlib import Path
    return Path(next(entry["path"] for entry in sources if entry["user"] == upn))


def test_force_and_changed_settings_resend(tenant, sources):
    run_sync(tenant, sources)
    assert run_sync(tenant, sources, force=True)["summary"]["changed"] == 3
    result = run_sync(tenant, sources, settings=image_pipeline.PipelineSettings(graph_max_px=240))
    assert all(user["action"] == "changed" for user in result["users"])


def test_one_failed_user_does_not_stop_the_others(tenant, sources, tmp_path):
    entries = sources + [{"user": "ghost@contoso.com", "path": write_image(tmp_path / "ghost.jpg")},
                         {"user": "broken@contoso.com", "path": str(tmp_path / "missing.jpg")}]
    tenant.profiles.pop("cid@contoso.com")  # cid has no SharePoint profile and no Graph user any more
    result = run_sync(tenant, entries, concurrency=2)
    outcome = dict((user["user"], user) for user in result["users"])
    assert sorted(result["failed_users"]) == ["broken@contoso.com", "cid@contoso.com", "ghost@contoso.com"]
    assert outcome["ann@contoso.com"]["targets"] == {"sharepoint": "updated", "graph": "updated"}
    assert "User Not Found" in outcome["ghost@contoso.com"]["error"]
    assert "User not found" in outcome["ghost@contoso.com"]["error"]
    assert "missing.jpg" in outcome["broken@contoso.com"]["error"]
    # an account without a profile fails at the profile link, after its thumbnails: a change, named in its error
    assert outcome["ghost@contoso.com"]["changed"] and "written before it failed: ghost_contoso_com_SThumb.jpg" in (
        outcome["ghost@contoso.com"]["error"])
    manifest = json.loads(tenant.files[FOLDER + "/" + photo_manifest.MANIFEST_NAME])
    assert set(manifest["users"]) == {"ann@contoso.com", "bob@contoso.com"}
    # the failed users are retried next time, the others are not
    tenant.log.clear()
    again = run_sync(tenant, entries)
    assert sorted(user["user"] for user in again["users"] if user["action"] == "unchanged") == ["ann@contoso.com", "bob@contoso.com"]


def test_a_user_whose_target_failed_after_writing_is_reported_changed(tenant, sources):
    throttle(tenant, "_LThumb.jpg")
    result = run_sync(tenant, sources[:1], targets=["sharepoint"])
    user = result["users"][0]
    assert result["changed"] is True and user["changed"] is True and user["action"] == "failed"
    assert user["targets"] == {"sharepoint": "failed"}
    assert user["error"] == ("sharepoint: upload %s/ann_contoso_com_LThumb.jpg: The request has been throttled. (HTTP 429) "
                             "(written before it failed: ann_contoso_com_SThumb.jpg, ann_contoso_com_MThumb.jpg)" % FOLDER)
    assert tenant.profiles["ann@contoso.com"]["PictureURL"] == ""  # not pointed at thumbnails that are not there
    assert result["summary"] == {"total": 1, "changed": 1, "unchanged": 0, "failed": 1}
    # nothing recorded as sent (the manifest is not even written): the next run sends the whole photo again
    assert FOLDER + "/" + photo_manifest.MANIFEST_NAME not in tenant.files and not result["manifest_written"]


def test_targets_are_tracked_separately(tenant, sources):
    run_sync(tenant, sources, targets=["graph"])
    assert tenant.graph and not any(path.endswith("Thumb.jpg") for path in tenant.files)
    result = run_sync(tenant, sources)
    assert all(user["targets"] == {"sharepoint": "updated", "graph": "unchanged"} for user in result["users"])


def refuse_the_manifest(monkeypatch):
    def save(client, site_url, folder, manifest):
        raise SpoError("The request has been throttled.", status=429, operation="upload " + photo_manifest.MANIFEST_NAME)
    monkeypatch.setattr(photo_sync, "save_manifest", save)


def test_a_manifest_not_saved_fails_the_run_with_what_was_written_and_what_the_next_run_does(tenant, sources, tmp_path,
                                                                                             monkeypatch):
    refuse_the_manifest(monkeypatch)
    archive = tmp_path / "done"
    with pytest.raises(SpoError) as info:
        run_sync(tenant, sources[:2], archive_dir=str(archive))
    assert str(info.value) == (
        "upload %s: The request has been throttled.; the photos were sent (see users), but the photo manifest was not "
        "saved: the next run does not know they were, and sends them again; no source was archived (HTTP 429)"
        % photo_manifest.MANIFEST_NAME)
    result = info.value.result
    assert result["changed"] is True and result["manifest_written"] is False
    assert result["summary"] == {"total": 2, "changed": 2, "unchanged": 0, "failed": 0}
    assert [(user["user"], user["targets"]) for user in result["users"]] == [
        (upn, {"sharepoint": "updated", "graph": "updated"}) for upn in ("ann@contoso.com", "bob@contoso.com")]
    assert not archive.exists() and all(os.path.exists(entry["path"]) for entry in sources)


def test_a_manifest_not_saved_after_removals_says_a_photo_given_again_needs_force(tenant, sources, monkeypatch):
    run_sync(tenant, sources)
    refuse_the_manifest(monkeypatch)
    with pytest.raises(SpoError, match="the photos were removed \\(see users\\), but the photo manifest was not saved: it "
                                       "still lists them as sent, so a user given a photo again needs force: true") as info:
        run_sync(tenant, [{"user": "ann@contoso.com", "path": None}], state="absent")
    assert info.value.result["users"][0]["action"] == "removed" and info.value.result["changed"] is True


def test_check_mode_writes_nothing_and_says_why(tenant, sources, tmp_path):
    run_sync(tenant, sources[:1])
    bad = {"user": "bob@contoso.com", "path": str(tmp_path / "bad.jpg")}
    (tmp_path / "bad.jpg").write_bytes(b"nope")
    tenant.log.clear()
    result = run_sync(tenant, [sources[0], bad, sources[2]], check_mode=True)
    assert tenant.writes() == []
    actions = dict((user["user"], user["action"]) for user in result["users"])
    assert actions == {"ann@contoso.com": "unchanged", "bob@contoso.com": "failed", "cid@contoso.com": "new"}
    assert result["diff"]["after"]["cid@contoso.com"].startswith("new photo")
    assert "ann@contoso.com" not in result["diff"]["after"]


def test_check_mode_fails_a_photo_the_run_cannot_use_though_its_header_is_good(tenant, sources):
    """A truncated JPEG opens (its header is whole) and fails only when decoded: check mode says what the run does."""
    data = open(write_image(tenant_path(sources, "bob@contoso.com"), GREEN, size=(400, 400)), "rb").read()
    tenant_path(sources, "bob@contoso.com").write_bytes(data[:len(data) // 3])
    preview = run_sync(tenant, sources, check_mode=True)
    assert tenant.writes() == []
    failed = preview["users"][1]
    assert preview["failed_users"] == ["bob@contoso.com"] and "bob@contoso.com.jpg: cannot decode image" in failed["error"]
    result = run_sync(tenant, sources)
    assert result["failed_users"] == ["bob@contoso.com"] and result["users"][1]["error"] == failed["error"]
    assert [user["action"] for user in preview["users"]] == [user["action"] for user in result["users"]]


def test_absent_removes_everything_and_is_idempotent(tenant, sources):
    run_sync(tenant, sources)
    leaver = [{"user": "ann@contoso.com", "path": None}]
    preview = run_sync(tenant, leaver, state="absent", check_mode=True)
    assert preview["users"][0]["targets"] == {"sharepoint": "would remove", "graph": "would remove"}
    assert "ann@contoso.com" in tenant.graph
    result = run_sync(tenant, leaver, state="absent")
    assert result["users"][0]["action"] == "removed"
    assert not any(path.startswith(FOLDER + "/ann_") for path in tenant.files)
    assert "ann@contoso.com" not in tenant.graph
    assert tenant.profiles["ann@contoso.com"]["PictureURL"] == ""
    assert tenant.profiles["ann@contoso.com"]["SPS-PicturePlaceholderState"] == "1"
    manifest = json.loads(tenant.files[FOLDER + "/" + photo_manifest.MANIFEST_NAME])
    assert "ann@contoso.com" not in manifest["users"]
    again = run_sync(tenant, leaver, state="absent")
    assert not again["changed"] and again["users"][0]["targets"] == {"sharepoint": "absent", "graph": "absent"}


def test_archive_moves_only_fully_successful_sources(tenant, sources, tmp_path):
    tenant.profiles.pop("bob@contoso.com")
    archive = tmp_path / "done"
    result = run_sync(tenant, sources, archive_dir=str(archive))
    assert sorted(os.listdir(str(archive))) == ["ann@contoso.com.jpg", "cid@contoso.com.jpg"]
    assert os.path.exists(tenant_path(sources, "bob@contoso.com"))
    assert result["failed_users"] == ["bob@contoso.com"]


def test_archiving_never_replaces_a_file(tenant, tmp_path):
    """Sources of one run with one name, and a photo an earlier run archived under that name: each file is kept."""
    (tmp_path / "one").mkdir()
    (tmp_path / "two").mkdir()
    archive = tmp_path / "done"
    archive.mkdir()
    (archive / "photo.jpg").write_bytes(b"archived by an earlier run")
    (archive / "photo (3).jpg").write_bytes(b"archived by hand")
    entries = [{"user": "ann@contoso.com", "path": write_image(tmp_path / "one" / "photo.jpg", RED)},
               {"user": "bob@contoso.com", "path": write_image(tmp_path / "two" / "photo.jpg", GREEN)}]
    originals = dict((entry["user"], open(entry["path"], "rb").read()) for entry in entries)
    preview = run_sync(tenant, entries, archive_dir=str(archive), check_mode=True)
    expected = {"ann@contoso.com": str(archive / "photo (2).jpg"), "bob@contoso.com": str(archive / "photo (4).jpg")}
    assert dict((user["user"], user["archived"]) for user in preview["users"]) == expected
    assert sorted(os.listdir(str(archive))) == ["photo (3).jpg", "photo.jpg"]
    result = run_sync(tenant, entries, archive_dir=str(archive))
    assert dict((user["user"], user["archived"]) for user in result["users"]) == expected
    assert all(open(expected[upn], "rb").read() == data for upn, data in originals.items())
    assert (archive / "photo.jpg").read_bytes() == b"archived by an earlier run"
    assert (archive / "photo (3).jpg").read_bytes() == b"archived by hand"
    assert not any(os.path.exists(entry["path"]) for entry in entries)


def test_a_source_that_cannot_be_moved_stays_and_leaves_no_empty_file_in_the_archive(tenant, sources, tmp_path, monkeypatch):
    def refuse(source, destination):
        raise OSError("permission denied")
    monkeypatch.setattr(photo_sync.shutil, "move", refuse)
    archive = tmp_path / "done"
    result = run_sync(tenant, sources[:1], archive_dir=str(archive))
    assert result["failed_users"] == ["ann@contoso.com"] and result["users"][0]["error"] == "archive: permission denied"
    assert os.listdir(str(archive)) == [] and os.path.exists(sources[0]["path"])


def test_users_sharing_one_source_file_each_get_the_photo(tenant, tmp_path):
    avatar = write_image(tmp_path / "default-avatar.jpg", GREEN)
    entries = [{"user": upn, "path": avatar} for upn in ("ann@contoso.com", "bob@contoso.com", "cid@contoso.com")]
    result = run_sync(tenant, entries, concurrency=2)
    assert result["summary"] == {"total": 3, "changed": 3, "unchanged": 0, "failed": 0}
    for upn in ("ann", "bob", "cid"):
        assert decode(tenant.graph["%s@contoso.com" % upn]).size == (64, 64)
        assert FOLDER + "/%s_contoso_com_LThumb.jpg" % upn in tenant.files
        assert tenant.profiles["%s@contoso.com" % upn]["PictureURL"].endswith("/%s_contoso_com_MThumb.jpg" % upn)
    manifest = json.loads(tenant.files[FOLDER + "/" + photo_manifest.MANIFEST_NAME])
    assert set(manifest["users"]) == {"ann@contoso.com", "bob@contoso.com", "cid@contoso.com"}
    assert not run_sync(tenant, entries)["changed"]


def test_a_shared_source_is_hashed_once_and_in_check_mode_opened_once(tenant, tmp_path, monkeypatch):
    avatar = write_image(tmp_path / "default-avatar.jpg", GREEN)
    entries = [{"user": upn, "path": avatar} for upn in ("ann@contoso.com", "bob@contoso.com", "cid@contoso.com")]
    hashed, opened = [], []
    prepare = image_pipeline.prepare_file
    monkeypatch.setattr(photo_sync, "sha256_file", lambda path: hashed.append(path) or files.sha256_file(path))
    monkeypatch.setattr(image_pipeline, "prepare_file", lambda path, settings: opened.append(path) or prepare(path, settings))
    result = run_sync(tenant, entries, check_mode=True)
    assert result["summary"] == {"total": 3, "changed": 3, "unchanged": 0, "failed": 0}
    assert hashed == [avatar] and opened == [avatar]


def test_a_shared_source_is_archived_only_when_every_user_of_it_has_it(tenant, tmp_path):
    avatar = write_image(tmp_path / "default-avatar.jpg", GREEN)
    tenant.profiles.pop("bob@contoso.com")
    archive = tmp_path / "done"
    result = run_sync(tenant, [{"user": "ann@contoso.com", "path": avatar}, {"user": "bob@contoso.com", "path": avatar}],
                      archive_dir=str(archive))
    assert result["failed_users"] == ["bob@contoso.com"] and "User Not Found" in result["users"][1]["error"]
    assert os.path.exists(avatar) and not archive.exists()
    message = photo_sync.failure_message(result)
    assert message.startswith("1 of 2 users failed: bob@contoso.com: sharepoint: ") and "User Not Found" in message


def test_thumbnails_an_earlier_run_sent_for_another_user_are_neither_replaced_nor_deleted(monkeypatch, tmp_path):
    tenant = fake_tenant(monkeypatch, users=("a.b@contoso.com", "a_b@contoso.com"))
    run_sync(tenant, [{"user": "a_b@contoso.com", "path": write_image(tmp_path / "blue.jpg", BLUE)}])
    thumbnails = dict((path, data) for path, data in tenant.files.items() if path.endswith("Thumb.jpg"))
    result = run_sync(tenant, [{"user": "a.b@contoso.com", "path": write_image(tmp_path / "red.jpg", RED)}])
    user = result["users"][0]
    assert result["failed_users"] == ["a.b@contoso.com"] and user["targets"] == {"sharepoint": "failed", "graph": "updated"}
    assert user["error"] == (
        "sharepoint: its thumbnails would be a_b_contoso_com_SThumb.jpg, _MThumb.jpg and _LThumb.jpg, which an earlier "
        "run sent for a_b@contoso.com; they were left alone (send a.b@contoso.com with targets: [graph], or remove the "
        "photo of a_b@contoso.com first)")
    assert tenant.profiles["a.b@contoso.com"]["PictureURL"] == ""
    removed = run_sync(tenant, [{"user": "a.b@contoso.com", "path": None}], state="absent")
    assert removed["users"][0]["targets"] == {"sharepoint": "failed", "graph": "removed"}
    assert dict((path, data) for path, data in tenant.files.items() if path.endswith("Thumb.jpg")) == thumbnails
    # Removed together, neither takes the other's photo away.
    both = run_sync(tenant, [{"user": "a.b@contoso.com", "path": None}, {"user": "a_b@contoso.com", "path": None}],
                    state="absent")
    assert both["failed_users"] == [] and not any(path.endswith("Thumb.jpg") for path in tenant.files)


def test_exchange_sync_state_is_written_when_asked(tenant, sources):
    run_sync(tenant, sources[:1], exchange_sync_state=0)
    assert tenant.profiles["ann@contoso.com"]["SPS-PictureExchangeSyncState"] == "0"


@pytest.mark.parametrize("targets, expected", [
    (["sharepoint", "graph"], {"Sites.FullControl.All or Sites.Manage.All or Sites.ReadWrite.All", "Sites.FullControl.All",
                               "User.ReadWrite.All", "ProfilePhoto.ReadWrite.All or User.ReadWrite.All"}),
    (["sharepoint"], {"Sites.FullControl.All or Sites.Manage.All or Sites.ReadWrite.All", "Sites.FullControl.All",
                      "User.ReadWrite.All"}),
    # the manifest lives on the My Site host whatever the targets
    (["graph"], {"Sites.FullControl.All or Sites.Manage.All or Sites.ReadWrite.All",
                 "ProfilePhoto.ReadWrite.All or User.ReadWrite.All"}),
])
def test_the_permissions_a_sync_needs_follow_its_targets(targets, expected):
    needs = photo_sync.permissions_needed(targets)
    assert {" or ".join(need.roles) for need in needs} == expected
    assert {need.resource for need in needs if need.roles[0] == "ProfilePhoto.ReadWrite.All"} <= {"graph"}
