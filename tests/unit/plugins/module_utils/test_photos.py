# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

import io
import json
import os
import random
from urllib.parse import unquote

import pytest

from ansible_collections.spo.user_profiles.plugins.module_utils import photos
from ansible_collections.spo.user_profiles.plugins.module_utils.errors import SpoError

Image = pytest.importorskip("PIL.Image")

RED = (255, 0, 0)
BLUE = (0, 0, 255)
GREEN = (0, 255, 0)
WHITE = (255, 255, 255)


def encode(image, fmt, **kw):
    buffer = io.BytesIO()
    image.save(buffer, format=fmt, **kw)
    return buffer.getvalue()


def decode(data):
    image = Image.open(io.BytesIO(data))
    assert image.format == "JPEG"
    return image.convert("RGB")


def close_to(pixel, colour, tolerance=40):
    return all(abs(a - b) <= tolerance for a, b in zip(pixel, colour))


def two_halves(width, height, first, second, vertical_split=True):
    image = Image.new("RGB", (width, height), first)
    box = (width // 2, 0, width, height) if vertical_split else (0, height // 2, width, height)
    image.paste(second, box)
    return image


# -- the pipeline ---------------------------------------------------------------------------------

def test_sizes_are_exact_squares_and_graph_is_capped():
    data = encode(Image.new("RGB", (1600, 1200), RED), "JPEG")
    result = photos.prepare_image(data, "a.jpg", photos.PipelineSettings())
    sizes = dict((label, decode(jpeg).size) for label, jpeg in result["thumbnails"].items())
    assert sizes == {"S": (48, 48), "M": (72, 72), "L": (200, 200)}
    assert decode(result["graph"]).size == (648, 648)
    assert result["graph_px"] == 648


def test_configured_sizes_and_no_enlarged_graph_photo():
    data = encode(Image.new("RGB", (120, 90), RED), "PNG")
    settings = photos.PipelineSettings(sizes=(("S", 32), ("M", 64), ("L", 300)), graph_max_px=648)
    result = photos.prepare_image(data, "small.png", settings)
    assert decode(result["graph"]).size == (90, 90)
    assert decode(result["thumbnails"]["L"]).size == (300, 300)
    assert decode(result["thumbnails"]["S"]).size == (32, 32)


def test_jpeg_draft_decodes_large_sources_at_reduced_scale():
    data = encode(Image.new("RGB", (4000, 3000), RED), "JPEG")
    result = photos.prepare_image(data, "big.jpg", photos.PipelineSettings())
    # 1/4 scale still covers 648 px; a full decode would report 4000x3000.
    assert result["source_px"] == (1000, 750)
    assert decode(result["graph"]).size == (648, 648)


def test_centred_square_crop():
    image = Image.new("RGB", (300, 100), GREEN)
    image.paste(RED, (100, 0, 200, 100))
    image.paste(BLUE, (200, 0, 300, 100))
    result = photos.prepare_image(encode(image, "PNG"), "wide.png", photos.PipelineSettings())
    large = decode(result["thumbnails"]["L"])
    for point in [(5, 5), (195, 5), (100, 100), (5, 195), (195, 195)]:
        assert close_to(large.getpixel(point), RED), point


@pytest.mark.parametrize("fmt", ["JPEG", "PNG"])
def test_exif_orientation_is_applied(fmt):
    # Stored landscape, left red / right blue; orientation 6 = rotate 90 degrees clockwise to display,
    # which puts red on top and blue at the bottom.
    stored = two_halves(400, 200, RED, BLUE)
    exif = Image.Exif()
    exif[0x0112] = 6
    result = photos.prepare_image(encode(stored, fmt, exif=exif), "turned." + fmt.lower(), photos.PipelineSettings())
    large = decode(result["thumbnails"]["L"])
    assert close_to(large.getpixel((30, 20)), RED)
    assert close_to(large.getpixel((170, 20)), RED)
    assert close_to(large.getpixel((30, 180)), BLUE)
    assert close_to(large.getpixel((170, 180)), BLUE)


def test_cmyk_becomes_rgb():
    cmyk = Image.new("CMYK", (100, 100), (0, 255, 255, 0))  # red in CMYK
    result = photos.prepare_image(encode(cmyk, "JPEG"), "cmyk.jpg", photos.PipelineSettings())
    assert close_to(decode(result["thumbnails"]["M"]).getpixel((36, 36)), RED)


def test_alpha_is_flattened_on_white():
    rgba = Image.new("RGBA", (100, 100), (0, 0, 0, 0))
    rgba.paste((0, 0, 255, 255), (0, 50, 100, 100))
    result = photos.prepare_image(encode(rgba, "PNG"), "alpha.png", photos.PipelineSettings())
    large = decode(result["thumbnails"]["L"])
    assert close_to(large.getpixel((100, 20)), WHITE)
    assert close_to(large.getpixel((100, 180)), BLUE)


def test_palette_transparency_is_flattened_on_white():
    palette = Image.new("P", (64, 64), 0)
    palette.putpalette([0, 0, 0, 255, 0, 0] + [0] * 762)
    palette.paste(1, (0, 32, 64, 64))
    data = encode(palette, "GIF", transparency=0)
    result = photos.prepare_image(data, "pal.gif", photos.PipelineSettings())
    large = decode(result["thumbnails"]["L"])
    assert close_to(large.getpixel((100, 20)), WHITE)
    assert close_to(large.getpixel((100, 180)), RED)


@pytest.mark.parametrize("mode, fmt", [("L", "PNG"), ("I;16", "PNG"), ("1", "BMP"), ("RGB", "TIFF"), ("RGB", "WEBP"), ("LA", "PNG")])
def test_other_modes_and_formats(mode, fmt):
    image = Image.new(mode, (80, 60))
    result = photos.prepare_image(encode(image, fmt), "x." + fmt.lower(), photos.PipelineSettings())
    assert decode(result["graph"]).mode == "RGB"
    assert decode(result["thumbnails"]["S"]).size == (48, 48)


def noise(size, seed=7):
    """Random pixels: the worst case for JPEG, so the encoded size is large."""
    return Image.frombytes("RGB", (size, size), random.Random(seed).randbytes(size * size * 3))


def test_graph_photo_loop_lowers_quality_under_4_mb():
    image = noise(2500)
    settings = photos.PipelineSettings(graph_max_px=2500)
    assert len(photos.encode_jpeg(image, settings.quality)) >= photos.GRAPH_MAX_BYTES  # the loop is really needed
    result = photos.prepare_image(encode(image, "PNG"), "noise.png", settings)
    assert len(result["graph"]) < photos.GRAPH_MAX_BYTES
    assert result["graph_quality"] < settings.quality
    assert decode(result["graph"]).size == (2500, 2500)


def test_graph_photo_loop_shrinks_when_quality_is_not_enough():
    image = noise(400)
    data, _quality = photos.encode_under_limit(image, 90, 20000)
    assert len(data) < 20000
    assert decode(data).size[0] < 400


def test_decompression_bomb_is_refused_with_the_file_named():
    settings = photos.PipelineSettings(max_pixels=10000)
    for size in [(120, 100), (300, 300)]:  # Pillow warns above the limit and raises above twice the limit
        data = encode(Image.new("RGB", size), "PNG")
        with pytest.raises(SpoError) as info:
            photos.prepare_image(data, "bomb.png", settings)
        assert "bomb.png" in str(info.value)
        assert "decompression bomb" in str(info.value)


def test_non_image_and_truncated_image_are_refused():
    with pytest.raises(SpoError) as info:
        photos.prepare_image(b"%PDF-1.4 not a photo", "cv.jpg", photos.PipelineSettings())
    assert "cv.jpg" in str(info.value) and "not an image" in str(info.value)
    data = encode(Image.new("RGB", (500, 500), RED), "JPEG")
    with pytest.raises(SpoError) as info:
        photos.prepare_image(data[:300], "cut.jpg", photos.PipelineSettings())
    assert "cut.jpg" in str(info.value)


def test_settings_reject_nonsense():
    with pytest.raises(ValueError):
        photos.PipelineSettings(sizes=(("S", 0),))
    with pytest.raises(ValueError):
        photos.PipelineSettings(quality=5)
    assert photos.PipelineSettings().key() != photos.PipelineSettings(graph_max_px=240).key()


def test_prepare_many_in_a_process_pool_keeps_order_and_reports_failures(tmp_path):
    paths = []
    for index in range(5):
        path = tmp_path / ("p%d.png" % index)
        if index == 2:
            path.write_bytes(b"not an image")
        else:
            path.write_bytes(encode(Image.new("RGB", (60 + index, 50), RED), "PNG"))
        paths.append(str(path))
    results = list(photos.prepare_many(paths, photos.PipelineSettings(), workers=2, window=2))
    assert [path for path, _ok, _result in results] == paths
    assert [ok for _path, ok, _result in results] == [True, True, False, True, True]
    assert "p2.png" in str(results[2][2])
    assert results[0][2]["sha256"] == photos.sha256_file(paths[0])


def _die_on_second_photo(path, settings):
    if path.endswith("p1.png"):
        os._exit(1)
    return True, {"sha256": "x"}


def test_a_dead_worker_fails_photos_not_the_run(tmp_path, monkeypatch):
    paths = [str(tmp_path / ("p%d.png" % index)) for index in range(4)]
    monkeypatch.setattr(photos, "prepare_file", _die_on_second_photo)  # the forked workers inherit it
    results = list(photos.prepare_many(paths, photos.PipelineSettings(), workers=2, window=1))
    assert [path for path, _ok, _result in results] == paths
    assert results[0][1] is True
    assert results[1][1] is False and "worker process failed" in str(results[1][2])


# -- name mapping ---------------------------------------------------------------------------------

@pytest.mark.parametrize("file_name, name_format, expected", [
    ("jdoe@contoso.com.jpg", "{upn}.jpg", "jdoe@contoso.com"),
    ("jdoe@contoso.com.PNG", "{upn}.jpg", "jdoe@contoso.com"),
    ("John Doe.jpg", "{first}.{last}@contoso.com", "john.doe@contoso.com"),
    ("Zoë Anne Müller.jpeg", "{first}.{last}@contoso.com", "zoe.muller@contoso.com"),
    ("Zoë Anne Müller.jpeg", "{f}{last}@contoso.com", "zmuller@contoso.com"),
    ("Mary_O'Neil.jpg", "{first}.{last}@contoso.com", "mary.oneil@contoso.com"),
    ("jdoe.jpg", "{stem}@contoso.com", "jdoe@contoso.com"),
])
def test_upn_from_name(file_name, name_format, expected):
    assert photos.upn_from_name(file_name, name_format) == expected


@pytest.mark.parametrize("file_name, name_format, message", [
    ("jdoe.jpg", "{upn}.jpg", "not a user principal name"),
    ("John Doe.jpg", "{given}@contoso.com", "unknown or bad placeholder"),
])
def test_upn_from_name_errors(file_name, name_format, message):
    with pytest.raises(ValueError) as info:
        photos.upn_from_name(file_name, name_format)
    assert message in str(info.value)


def write_image(path, colour=RED, size=(64, 64)):
    path.write_bytes(encode(Image.new("RGB", size, colour), "JPEG"))
    return str(path)


def test_resolve_sources_from_directory_reports_bad_names_and_duplicates(tmp_path):
    write_image(tmp_path / "a@contoso.com.jpg")
    write_image(tmp_path / "b@contoso.com.jpg")
    write_image(tmp_path / "B@contoso.com.png")
    write_image(tmp_path / "nobody.jpg")
    (tmp_path / "readme.txt").write_text("not a photo")
    entries, problems = photos.resolve_sources(src_dir=str(tmp_path))
    assert [entry["user"] for entry in entries] == ["a@contoso.com"]
    errors = sorted(problem["error"] for problem in problems)
    assert len(errors) == 2
    assert "nobody.jpg" in errors[0] and "several source files" in errors[1]


def test_resolve_sources_with_csv_mapping(tmp_path):
    photo_dir = tmp_path / "photos"
    photo_dir.mkdir()
    write_image(photo_dir / "1001.jpg")
    write_image(photo_dir / "1002.jpg")
    write_image(photo_dir / "9999.jpg")
    mapping = tmp_path / "map.csv"
    mapping.write_text("file,upn\n1001.jpg,ann@contoso.com\n1002,bob@contoso.com\n", encoding="utf-8")
    entries, problems = photos.resolve_sources(src_dir=str(photo_dir), mapping=str(mapping))
    assert [(entry["user"], os.path.basename(entry["path"])) for entry in entries] == [
        ("ann@contoso.com", "1001.jpg"), ("bob@contoso.com", "1002.jpg")]
    assert len(problems) == 1 and "9999.jpg is not in the mapping" in problems[0]["error"]


def test_resolve_sources_from_list():
    entries, problems = photos.resolve_sources(photos=[{"user": " x@contoso.com ", "path": "/p/x.jpg"}])
    assert entries == [{"user": "x@contoso.com", "path": "/p/x.jpg"}] and problems == []


def test_thumbnail_names():
    assert photos.thumbnail_names("j.doe@contoso.com") == {
        "S": "j_doe_contoso_com_SThumb.jpg", "M": "j_doe_contoso_com_MThumb.jpg", "L": "j_doe_contoso_com_LThumb.jpg"}
    assert photos.folder_url("User Photos", "Profile Pictures") == "/User Photos/Profile Pictures"


# -- manifest -------------------------------------------------------------------------------------

def test_manifest_round_trip_and_dirty_tracking():
    manifest = photos.PhotoManifest()
    manifest.record("A@Contoso.com", "graph", "h1")
    assert manifest.dirty
    again = photos.PhotoManifest.from_bytes(manifest.to_bytes())
    assert again.get("a@contoso.com", "graph") == "h1" and not again.dirty
    again.record("a@contoso.com", "graph", "h1")
    assert not again.dirty
    again.forget("a@contoso.com", "graph")
    assert again.dirty and again.users == {}


def test_damaged_manifest_reads_as_empty():
    assert photos.PhotoManifest.from_bytes(b"{not json").users == {}
    assert photos.PhotoManifest.from_bytes(b'["a"]').users == {}


# -- the sync against a fake tenant ---------------------------------------------------------------

class FakeResponse:
    def __init__(self, status_code, body=b""):
        self.status_code = status_code
        self.content = body if isinstance(body, bytes) else json.dumps(body).encode("utf-8")

    def json(self):
        return json.loads(self.content.decode("utf-8"))


class FakeTenant:
    """The parts of SharePoint and Graph the photo sync uses; records every request (method, url)."""

    my_url = "https://contoso-my.sharepoint.com"
    admin_url = "https://contoso-admin.sharepoint.com"
    graph_url = "https://graph.microsoft.com/v1.0"

    def __init__(self, users):
        self.profiles = dict((upn, {"PictureURL": "", "SPS-PicturePlaceholderState": "1"}) for upn in users)
        self.files = {}
        self.graph = {}
        self.log = []

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
            self.profiles[json["accountName"].split("|")[-1]][json["propertyName"]] = json["propertyValue"]
            return None
        raise AssertionError("unexpected call %s %s" % (method, url))


@pytest.fixture
def tenant(monkeypatch):
    fake = FakeTenant(["ann@contoso.com", "bob@contoso.com", "cid@contoso.com"])

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

    monkeypatch.setattr(photos.files, "read_file", read_file)
    monkeypatch.setattr(photos.files, "delete_file", delete_file)
    monkeypatch.setattr(photos.files, "list_files", list_files)
    monkeypatch.setattr(photos.files, "ensure_folder", ensure_folder)
    return fake


FOLDER = "/User Photos/Profile Pictures"


def run_sync(tenant, entries, **options):
    options.setdefault("workers", 1)
    return photos.PhotoSync(tenant, options).run(entries)


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
    manifest = json.loads(tenant.files[FOLDER + "/" + photos.MANIFEST_NAME])
    assert set(manifest["users"]) == {"ann@contoso.com", "bob@contoso.com", "cid@contoso.com"}
    assert result["manifest_written"]


def test_unchanged_rerun_reads_the_manifest_once_and_writes_nothing(tenant, sources):
    run_sync(tenant, sources)
    tenant.log.clear()
    result = run_sync(tenant, sources)
    assert not result["changed"]
    assert tenant.log == [("GET", FOLDER + "/" + photos.MANIFEST_NAME)]
    assert all(user["targets"] == {"sharepoint": "unchanged", "graph": "unchanged"} for user in result["users"])


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
    result = run_sync(tenant, sources, settings=photos.PipelineSettings(graph_max_px=240))
    assert all(user["action"] == "changed" for user in result["users"])


def test_one_failed_user_does_not_stop_the_others(tenant, sources, tmp_path):
    entries = sources + [{"user": "ghost@contoso.com", "path": write_image(tmp_path / "ghost.jpg")},
                         {"user": "broken@contoso.com", "path": str(tmp_path / "missing.jpg")}]
    tenant.profiles.pop("cid@contoso.com")  # cid has no SharePoint profile and no Graph user any more
    result = run_sync(tenant, entries, concurrency=2)
    outcome = dict((user["user"], user) for user in result["users"])
    assert sorted(result["failed_users"]) == ["broken@contoso.com", "cid@contoso.com", "ghost@contoso.com"]
    assert outcome["ann@contoso.com"]["targets"] == {"sharepoint": "updated", "graph": "updated"}
    assert "no SharePoint user profile" in outcome["ghost@contoso.com"]["error"]
    assert "User not found" in outcome["ghost@contoso.com"]["error"]
    assert "missing.jpg" in outcome["broken@contoso.com"]["error"]
    assert not any("ghost" in path for path in tenant.files)  # no orphan thumbnails for an unknown user
    manifest = json.loads(tenant.files[FOLDER + "/" + photos.MANIFEST_NAME])
    assert set(manifest["users"]) == {"ann@contoso.com", "bob@contoso.com"}
    # the failed users are retried next time, the others are not
    tenant.log.clear()
    again = run_sync(tenant, entries)
    assert sorted(user["user"] for user in again["users"] if user["action"] == "unchanged") == ["ann@contoso.com", "bob@contoso.com"]


def test_targets_are_tracked_separately(tenant, sources):
    run_sync(tenant, sources, targets=["graph"])
    assert tenant.graph and not any(path.endswith("Thumb.jpg") for path in tenant.files)
    result = run_sync(tenant, sources)
    assert all(user["targets"] == {"sharepoint": "updated", "graph": "unchanged"} for user in result["users"])


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
    manifest = json.loads(tenant.files[FOLDER + "/" + photos.MANIFEST_NAME])
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


def test_exchange_sync_state_is_written_when_asked(tenant, sources):
    run_sync(tenant, sources[:1], exchange_sync_state=0)
    assert tenant.profiles["ann@contoso.com"]["SPS-PictureExchangeSyncState"] == "0"


def test_problems_are_reported_as_failed_users(tenant, sources):
    result = photos.PhotoSync(tenant, {"workers": 1}).run(sources[:1], [{"path": "/x/nobody.jpg", "error": "bad name"}])
    assert result["failed_users"] == ["/x/nobody.jpg"]
    assert result["summary"]["total"] == 2
