# -*- coding: utf-8 -*-
# Copyright (c) spo.user_profiles contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

"""Profile photos: the image pipeline, source-to-user mapping, the in-tenant manifest and the sync.

One source photo per user becomes three square JPEG thumbnails in the My Site host's
"User Photos/Profile Pictures" library (linked through PictureURL) and one JPEG of at most
4 MB for Microsoft Graph. Images are prepared in a process pool (CPU bound), uploads run in a
thread pool (network bound); both are bounded so memory depends on the worker counts, not on
the number of photos.
"""

from __future__ import annotations

import csv
import hashlib
import io
import json
import multiprocessing
import os
import re
import shutil
import threading
import traceback
import unicodedata
import warnings
from collections import deque
from concurrent.futures import ProcessPoolExecutor, ThreadPoolExecutor
from urllib.parse import quote

try:
    from PIL import Image, ImageOps, UnidentifiedImageError
    HAS_PIL = True
    PIL_IMP_ERR = None
except ImportError:
    HAS_PIL = False
    PIL_IMP_ERR = traceback.format_exc()

from ansible_collections.spo.user_profiles.plugins.module_utils import files
from ansible_collections.spo.user_profiles.plugins.module_utils import profiles
from ansible_collections.spo.user_profiles.plugins.module_utils.errors import SpoError
from ansible_collections.spo.user_profiles.plugins.module_utils.odata import quote_literal

# Bump when the pipeline's output changes for the same input, so every photo is re-sent once.
PIPELINE_VERSION = 1

GRAPH_MAX_BYTES = 4 * 1024 * 1024
DEFAULT_SIZES = (("S", 48), ("M", 72), ("L", 200))
DEFAULT_GRAPH_MAX_PX = 648
DEFAULT_QUALITY = 90
MIN_QUALITY = 30
DEFAULT_MAX_PIXELS = 100 * 1000 * 1000
DEFAULT_LIBRARY = "User Photos"
DEFAULT_FOLDER = "Profile Pictures"
MANIFEST_NAME = "spo-user-profiles-photo-manifest.json"
IMAGE_EXTENSIONS = (".jpg", ".jpeg", ".png", ".gif", ".bmp", ".tif", ".tiff", ".webp")
TARGETS = ("sharepoint", "graph")

PICTURE_URL = "PictureURL"
PLACEHOLDER_STATE = "SPS-PicturePlaceholderState"
EXCHANGE_SYNC_STATE = "SPS-PictureExchangeSyncState"


class PipelineSettings(object):
    """What the image pipeline produces; part of every photo's fingerprint."""

    def __init__(self, sizes=DEFAULT_SIZES, graph_max_px=DEFAULT_GRAPH_MAX_PX, quality=DEFAULT_QUALITY,
                 max_pixels=DEFAULT_MAX_PIXELS, graph_max_bytes=GRAPH_MAX_BYTES):
        self.sizes = tuple((str(label), int(size)) for label, size in sizes)
        self.graph_max_px = int(graph_max_px)
        self.quality = int(quality)
        self.max_pixels = int(max_pixels)
        self.graph_max_bytes = int(graph_max_bytes)
        for label, size in self.sizes:
            if size < 1:
                raise ValueError("thumbnail size %s must be positive" % label)
        if self.graph_max_px < 1:
            raise ValueError("graph_max_px must be positive")
        if not MIN_QUALITY <= self.quality <= 100:
            raise ValueError("quality must be between %d and 100" % MIN_QUALITY)

    def key(self):
        """A short digest of everything that changes the output (max_pixels only refuses input)."""
        text = json.dumps([PIPELINE_VERSION, self.sizes, self.graph_max_px, self.quality, self.graph_max_bytes])
        return hashlib.sha256(text.encode("utf-8")).hexdigest()[:12]


# ---------------------------------------------------------------------------------------------
# The image pipeline
# ---------------------------------------------------------------------------------------------

def _refuse(name, why):
    return SpoError("%s: %s" % (name, why), code="InvalidImage", operation="prepare photo")


def open_image(data, name, max_pixels):
    """Open image bytes (or an open binary file), refusing non-images and images whose declared size exceeds max_pixels."""
    if not HAS_PIL:
        raise SpoError("Pillow is required to prepare photos", operation="prepare photo")
    # Pillow's own bomb check reads this global; the module runs in its own process, so setting it is safe.
    Image.MAX_IMAGE_PIXELS = max_pixels
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            image = Image.open(io.BytesIO(data) if isinstance(data, bytes) else data)
    except (Image.DecompressionBombError, Image.DecompressionBombWarning):
        raise _refuse(name, "declared image size exceeds %d pixels (decompression bomb?)" % max_pixels)
    except UnidentifiedImageError:
        raise _refuse(name, "not an image file (or a format Pillow cannot read)")
    except (OSError, ValueError, SyntaxError) as err:
        raise _refuse(name, "cannot read image: %s" % err)
    width, height = image.size
    if width < 1 or height < 1:
        raise _refuse(name, "empty image")
    if width * height > max_pixels:
        raise _refuse(name, "declared image size %dx%d exceeds %d pixels (decompression bomb?)" % (width, height, max_pixels))
    return image


def to_rgb(image):
    """RGB on a white background for any mode: alpha and palette transparency are flattened, CMYK converted."""
    if image.mode == "RGB":
        return image
    has_alpha = image.mode in ("RGBA", "LA", "PA", "RGBa", "La") or (image.mode == "P" and "transparency" in image.info)
    if has_alpha:
        rgba = image.convert("RGBA")
        background = Image.new("RGB", rgba.size, (255, 255, 255))
        background.paste(rgba, mask=rgba.getchannel("A"))
        return background
    if image.mode.startswith("I;16") or image.mode in ("I", "F"):
        # 16-bit and float greyscale: scale into 8 bits before going to RGB.
        low, high = image.getextrema()
        span = float(high - low) or 1.0
        image = image.convert("F").point(lambda value: (value - low) * 255.0 / span).convert("L")
    return image.convert("RGB")


def square_box(width, height):
    """The centred square crop box (left, upper, right, lower)."""
    side = min(width, height)
    left = (width - side) // 2
    top = (height - side) // 2
    return (left, top, left + side, top + side)


def encode_jpeg(image, quality):
    buffer = io.BytesIO()
    image.save(buffer, format="JPEG", quality=quality)
    return buffer.getvalue()


def encode_under_limit(image, start_quality, max_bytes):
    """JPEG bytes under max_bytes: lower the quality step by step, then the size, until it fits."""
    quality = start_quality
    while True:
        data = encode_jpeg(image, quality)
        if len(data) < max_bytes:
            return data, quality
        if quality > MIN_QUALITY:
            quality = max(MIN_QUALITY, quality - 10)
            continue
        width, height = image.size
        if width <= 16:
            raise SpoError("cannot encode the photo under %d bytes" % max_bytes, operation="prepare photo")
        image = image.resize((max(16, width * 3 // 4), max(16, height * 3 // 4)), Image.LANCZOS)
        quality = start_quality


def prepare_image(data, name, settings):
    """Prepare one source photo (bytes or an open binary file).

    Returns {"thumbnails": {label: jpeg}, "graph": jpeg, "graph_px", "graph_quality", "source_px"}.
    """
    image = open_image(data, name, settings.max_pixels)
    largest = max([settings.graph_max_px] + [size for _label, size in settings.sizes])
    try:
        if image.format == "JPEG":
            # Decode at the smallest 1/2, 1/4 or 1/8 scale that still covers the largest output: far less work.
            image.draft("RGB", (largest, largest))
        image.load()
        source_px = image.size
        image = ImageOps.exif_transpose(image)
        image = to_rgb(image)
    except SpoError:
        raise
    except Exception as err:  # Pillow raises many types for corrupt data; name the file whatever it is.
        raise _refuse(name, "cannot decode image: %s" % err)
    box = square_box(*image.size)
    side = box[2] - box[0]
    graph_side = min(side, settings.graph_max_px)
    graph_image = image.resize((graph_side, graph_side), Image.LANCZOS, box=box, reducing_gap=3.0)
    graph_bytes, graph_quality = encode_under_limit(graph_image, settings.quality, settings.graph_max_bytes)
    thumbnails = {}
    for label, size in settings.sizes:
        # Thumbnails have their exact size (SharePoint lays them out by it); small sources are enlarged.
        if size <= graph_side:
            thumb = graph_image.resize((size, size), Image.LANCZOS)
        else:
            thumb = image.resize((size, size), Image.LANCZOS, box=box)
        thumbnails[label] = encode_jpeg(thumb, settings.quality)
    return {
        "thumbnails": thumbnails,
        "graph": graph_bytes,
        "graph_px": graph_side,
        "graph_quality": graph_quality,
        "source_px": source_px,
    }


def inspect_image(path, settings):
    """A cheap validity check (header only) for check mode: raises SpoError like prepare_image would."""
    with open(path, "rb") as handle:
        open_image(handle, os.path.basename(path), settings.max_pixels).close()


def sha256_file(path):
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for block in iter(lambda: handle.read(1024 * 1024), b""):
            digest.update(block)
    return digest.hexdigest()


def fingerprint(source_sha256, settings):
    return "%s-%s" % (source_sha256, settings.key())


def prepare_file(path, settings):
    """Read, hash and prepare one file. Returns (True, result) or (False, SpoError); never raises.

    Runs in a worker process: results are plain bytes and strings, so they pickle cheaply.
    """
    name = os.path.basename(path)
    try:
        # Hash first: if the file is replaced meanwhile, the manifest holds the older hash and the next run resends.
        digest = sha256_file(path)
        with open(path, "rb") as handle:
            result = prepare_image(handle, name, settings)
        result["sha256"] = digest
        return True, result
    except SpoError as err:
        return False, err
    except (OSError, IOError) as err:
        return False, SpoError("%s: cannot read file: %s" % (name, err), operation="prepare photo")
    except Exception as err:  # a worker must report, not die: one bad photo never stops the others
        return False, SpoError("%s: %s: %s" % (name, type(err).__name__, err), operation="prepare photo")


def _process_context():
    # fork keeps the already imported collection code (AnsiballZ payloads cannot be re-imported by spawn).
    if "fork" in multiprocessing.get_all_start_methods():
        return multiprocessing.get_context("fork")
    return None


def prepare_many(paths, settings, workers=None, window=None):
    """Yield (path, ok, result) in input order, preparing in a process pool.

    At most `window` photos (default twice the worker count) are submitted and not yet consumed,
    so memory is bounded by the worker count, not by the number of photos.
    """
    paths = list(paths)
    workers = workers or os.cpu_count() or 1
    if workers <= 1 or len(paths) <= 1:
        for path in paths:
            ok, result = prepare_file(path, settings)
            yield path, ok, result
        return
    window = max(1, window or workers * 2)
    with ProcessPoolExecutor(max_workers=min(workers, len(paths)), mp_context=_process_context()) as pool:
        pending = deque()
        for path in paths:
            try:
                pending.append((path, pool.submit(prepare_file, path, settings)))
            except Exception as err:  # the pool broke earlier: this photo fails, the loop goes on
                pending.append((path, err))
            if len(pending) >= window:
                done_path, future = pending.popleft()
                yield (done_path,) + _outcome(done_path, future)
        while pending:
            done_path, future = pending.popleft()
            yield (done_path,) + _outcome(done_path, future)


def _outcome(path, future):
    """(ok, result) of a prepare_file future; a worker that died (killed for memory, say) fails only its photos."""
    try:
        if isinstance(future, Exception):
            raise future
        return future.result()
    except Exception as err:  # BrokenProcessPool and pickling errors: report per photo, keep the run going
        return False, SpoError("%s: the image worker process failed: %s" % (os.path.basename(path), err or type(err).__name__),
                               operation="prepare photo")


# ---------------------------------------------------------------------------------------------
# Which file belongs to which user
# ---------------------------------------------------------------------------------------------

def _ascii_word(word):
    """Lower-case ASCII form of a name part for a UPN ("Zoë" -> "zoe"; letters, digits, - and ' kept)."""
    text = unicodedata.normalize("NFKD", word).encode("ascii", "ignore").decode("ascii").lower()
    return re.sub(r"[^a-z0-9'-]", "", text).replace("'", "")


def _strip_image_extension(name):
    base, ext = os.path.splitext(name)
    return base if ext.lower() in IMAGE_EXTENSIONS else name


def name_fields(file_name):
    """Placeholders available to name_format, from a file name such as "Anne Marie Smith.jpg"."""
    stem = _strip_image_extension(file_name)
    words = [word for word in re.split(r"[\s_]+", stem) if word]
    ascii_words = [_ascii_word(word) for word in words]
    ascii_words = [word for word in ascii_words if word]
    first = ascii_words[0] if ascii_words else ""
    last = ascii_words[-1] if ascii_words else ""
    return {
        "upn": stem,
        "stem": stem,
        "first": first,
        "last": last,
        "f": first[:1],
        "l": last[:1],
        "middle": ".".join(ascii_words[1:-1]),
    }


def upn_from_name(file_name, name_format):
    """The UPN a file name maps to under name_format, or raise ValueError.

    A trailing image extension in name_format is ignored ("{upn}.jpg" means the file name
    without its extension is the UPN, whatever the image type).
    """
    template = _strip_image_extension(name_format)
    fields = name_fields(file_name)
    try:
        upn = template.format(**fields)
    except (KeyError, IndexError, ValueError) as err:
        raise ValueError("name_format %r: unknown or bad placeholder (%s); use %s" % (
            name_format, err, ", ".join("{%s}" % key for key in sorted(fields))))
    if "@" not in upn or upn.startswith("@") or upn.endswith("@") or ".." in upn:
        raise ValueError("%s maps to %r, which is not a user principal name" % (file_name, upn))
    return upn


def read_mapping(path):
    """A CSV of file name -> UPN (two columns; a header row is skipped when its second cell is no UPN)."""
    mapping = {}
    with open(path, newline="", encoding="utf-8-sig") as handle:
        for row_number, row in enumerate(csv.reader(handle), start=1):
            cells = [cell.strip() for cell in row]
            if not cells or not any(cells):
                continue
            if len(cells) < 2 or not cells[0] or not cells[1]:
                raise ValueError("%s line %d: expected two columns, file name and UPN" % (path, row_number))
            if row_number == 1 and "@" not in cells[1]:
                continue
            mapping[cells[0].lower()] = cells[1]
    return mapping


def list_sources(src_dir):
    """Image files directly in src_dir (not recursive), sorted by name."""
    names = []
    for entry in sorted(os.listdir(src_dir)):
        full = os.path.join(src_dir, entry)
        if os.path.isfile(full) and os.path.splitext(entry)[1].lower() in IMAGE_EXTENSIONS:
            names.append(entry)
    return names


def resolve_sources(photos=None, src_dir=None, name_format="{upn}.jpg", mapping=None):
    """Turn the module's inputs into ([{"user", "path"}], [problem dicts]).

    Problems are per file or per user ({"user"?, "path"?, "error"}); they are reported, never fatal.
    A user with two source files is a problem: which one is meant cannot be guessed.
    """
    entries = []
    problems = []
    if photos:
        for item in photos:
            entries.append({"user": item["user"].strip(), "path": item.get("path")})
    elif src_dir:
        table = read_mapping(mapping) if mapping else None
        for file_name in list_sources(src_dir):
            path = os.path.join(src_dir, file_name)
            if table is not None:
                upn = table.get(file_name.lower()) or table.get(_strip_image_extension(file_name).lower())
                if not upn:
                    problems.append({"path": path, "error": "%s is not in the mapping file" % file_name})
                    continue
            else:
                try:
                    upn = upn_from_name(file_name, name_format)
                except ValueError as err:
                    problems.append({"path": path, "error": str(err)})
                    continue
            entries.append({"user": upn, "path": path})
    by_user = {}
    for entry in entries:
        by_user.setdefault(entry["user"].lower(), []).append(entry)
    unique = []
    for key in sorted(by_user):
        group = by_user[key]
        if len(group) > 1:
            problems.append({"user": group[0]["user"], "path": group[0]["path"],
                             "error": "several source files for one user: %s" % ", ".join(str(e["path"]) for e in group)})
            continue
        unique.append(group[0])
    return unique, problems


# ---------------------------------------------------------------------------------------------
# SharePoint locations and the manifest
# ---------------------------------------------------------------------------------------------

def sharepoint_account(upn):
    """The account part of thumbnail names: the UPN with "@" and "." replaced by "_"."""
    return re.sub(r"[@.]", "_", upn)


def thumbnail_names(upn, labels=("S", "M", "L")):
    account = sharepoint_account(upn)
    return dict((label, "%s_%sThumb.jpg" % (account, label)) for label in labels)


def folder_url(library, folder):
    """Server-relative URL of the photo folder on the My Site host ("/User Photos/Profile Pictures")."""
    parts = [part.strip("/") for part in (library, folder) if part and part.strip("/")]
    return "/" + "/".join(parts)


def absolute_url(client, server_relative_url):
    return client.my_url.rstrip("/") + quote(server_relative_url)


def upload_bytes(client, site_url, folder, name, data):
    """Simple REST upload of a small in-memory file (thumbnails and the manifest are far below any chunk limit)."""
    url = "%s/_api/web/GetFolderByServerRelativePath(DecodedUrl=%s)/Files/add(url=%s,overwrite=true)" % (
        site_url.rstrip("/"), quote_literal(folder), quote_literal(name))
    client.sp("POST", url, "upload %s/%s" % (folder, name), data=data)


class PhotoManifest(object):
    """What was last sent for each user and target: {upn (lower case): {target: fingerprint}}.

    Stored as one JSON file next to the thumbnails, so a run from a fresh container knows what is
    already there with one read instead of one per user.
    """

    def __init__(self, users=None):
        self.users = users or {}
        self.dirty = False
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
    return PhotoManifest.from_bytes(data)


def save_manifest(client, site_url, folder, manifest):
    upload_bytes(client, site_url, folder, MANIFEST_NAME, manifest.to_bytes())


# ---------------------------------------------------------------------------------------------
# The sync
# ---------------------------------------------------------------------------------------------

class PhotoSync(object):
    """One run of the profile photo sync for one tenant.

    `options` keys: state, targets, library, folder, settings (PipelineSettings), force,
    concurrency, workers, archive_dir, exchange_sync_state, check_mode.
    """

    def __init__(self, client, options):
        self.client = client
        self.state = options.get("state", "present")
        self.targets = [target for target in TARGETS if target in options.get("targets", TARGETS)]
        self.settings = options.get("settings") or PipelineSettings()
        self.force = bool(options.get("force"))
        self.concurrency = max(1, int(options.get("concurrency") or 4))
        self.workers = options.get("workers")
        self.archive_dir = options.get("archive_dir")
        self.exchange_sync_state = options.get("exchange_sync_state")
        self.check_mode = bool(options.get("check_mode"))
        self.folder = folder_url(options.get("library", DEFAULT_LIBRARY), options.get("folder", DEFAULT_FOLDER))
        self.site_url = client.my_url
        self.manifest = PhotoManifest()
        self._folder_ready = False
        self._folder_lock = threading.Lock()
        self._existing_names = None

    # -- helpers -------------------------------------------------------------------------

    def _ensure_folder(self):
        with self._folder_lock:
            if not self._folder_ready:
                files.ensure_folder(self.client, self.site_url, self.folder)
                self._folder_ready = True

    def _picture_url(self, upn):
        return absolute_url(self.client, self.folder + "/" + thumbnail_names(upn)["M"])

    def _graph_photo_url(self, upn):
        return "%s/users/%s/photo/$value" % (self.client.graph_url.rstrip("/"), quote(upn, safe="@"))

    @staticmethod
    def _new_record(entry):
        return {"user": entry["user"], "path": entry.get("path"), "changed": False, "action": "unchanged",
                "targets": {}, "error": None, "archived": None}

    # -- present ---------------------------------------------------------------------------

    def _sharepoint_present(self, upn, prepared):
        current = profiles.get_properties(self.client, upn)  # first: an unknown user fails before any upload
        self._ensure_folder()
        names = thumbnail_names(upn, [label for label, _size in self.settings.sizes])
        for label, name in names.items():
            upload_bytes(self.client, self.site_url, self.folder, name, prepared["thumbnails"][label])
        desired = {PICTURE_URL: self._picture_url(upn), PLACEHOLDER_STATE: "0"}
        if self.exchange_sync_state is not None:
            desired[EXCHANGE_SYNC_STATE] = str(self.exchange_sync_state)
        profiles.ensure_properties(self.client, upn, desired, check_mode=False, current=current)

    def _graph_present(self, upn, prepared):
        self.client.request("PUT", self._graph_photo_url(upn), "set Graph photo of %s" % upn,
                            headers={"Content-Type": "image/jpeg"}, data=prepared["graph"])

    def _apply_present(self, record, needed, prepared):
        upn = record["user"]
        value = fingerprint(prepared["sha256"], self.settings)
        for target in needed:
            try:
                if target == "sharepoint":
                    self._sharepoint_present(upn, prepared)
                else:
                    self._graph_present(upn, prepared)
            except SpoError as err:
                record["targets"][target] = "failed"
                record["error"] = self._join_error(record["error"], "%s: %s" % (target, err))
                continue
            record["targets"][target] = "updated"
            record["changed"] = True
            self.manifest.record(upn, target, value)

    @staticmethod
    def _join_error(existing, message):
        return message if not existing else existing + "; " + message

    def _plan_present(self, entries, records):
        """Hash sources and decide per user which targets need a write. Returns [(record, needed)]."""
        hashes = {}
        paths = [entry["path"] for entry in entries if entry.get("path")]
        with ThreadPoolExecutor(max_workers=max(2, self.concurrency)) as pool:
            for path, digest in zip(paths, pool.map(self._safe_hash, paths)):
                hashes[path] = digest
        work = []
        for entry, record in zip(entries, records):
            path = entry.get("path")
            if not path:
                record["action"] = "failed"
                record["error"] = "no source photo path for this user"
                continue
            digest = hashes[path]
            if isinstance(digest, SpoError):
                record["action"] = "failed"
                record["error"] = str(digest)
                continue
            value = fingerprint(digest, self.settings)
            needed = []
            reasons = set()
            for target in self.targets:
                known = self.manifest.get(entry["user"], target)
                if self.force:
                    needed.append(target)
                    reasons.add("forced")
                elif known != value:
                    needed.append(target)
                    reasons.add("new" if known is None else "changed")
                else:
                    record["targets"][target] = "unchanged"
            if needed:
                record["action"] = next(reason for reason in ("changed", "new", "forced") if reason in reasons)
                work.append((record, needed))
        return work

    @staticmethod
    def _safe_hash(path):
        try:
            return sha256_file(path)
        except (OSError, IOError) as err:
            return SpoError("%s: cannot read file: %s" % (path, err), operation="prepare photo")

    def _run_present(self, entries, records):
        work = self._plan_present(entries, records)
        if self.check_mode:
            for record, needed in work:
                try:
                    inspect_image(record["path"], self.settings)
                except (SpoError, OSError, IOError) as err:
                    record["action"] = "failed"
                    record["error"] = str(err)
                    continue
                record["changed"] = True
                for target in needed:
                    record["targets"][target] = "would update"
            return
        by_path = dict((record["path"], (record, needed)) for record, needed in work)
        with ThreadPoolExecutor(max_workers=self.concurrency) as uploads:
            in_flight = deque()
            # The process pool forks its workers at the first submit, before any upload thread exists.
            for path, ok, result in prepare_many([record["path"] for record, _needed in work], self.settings, self.workers):
                record, needed = by_path[path]
                if not ok:
                    record["error"] = str(result)
                    for target in needed:
                        record["targets"][target] = "failed"
                    continue
                in_flight.append(uploads.submit(self._apply_present, record, needed, result))
                while len(in_flight) > self.concurrency * 2:
                    in_flight.popleft().result()
            while in_flight:
                in_flight.popleft().result()

    # -- absent ----------------------------------------------------------------------------

    def _existing_thumbnails(self):
        if self._existing_names is None:
            try:
                listing = files.list_files(self.client, self.site_url, self.folder)
            except SpoError as err:
                if err.status != 404:
                    raise
                listing = []
            self._existing_names = set(item["name"].lower() for item in listing)
        return self._existing_names

    def _sharepoint_absent(self, upn):
        changed = False
        names = thumbnail_names(upn, [label for label, _size in self.settings.sizes]).values()
        if self.check_mode:
            existing = self._existing_thumbnails()
            changed = any(name.lower() in existing for name in names)
        else:
            for name in names:
                if files.delete_file(self.client, self.site_url, self.folder + "/" + name):
                    changed = True
        desired = {PICTURE_URL: "", PLACEHOLDER_STATE: "1"}
        props_changed, _before, _after = profiles.ensure_properties(self.client, upn, desired, check_mode=self.check_mode)
        return changed or props_changed

    def _graph_absent(self, upn):
        url = self._graph_photo_url(upn)
        operation = "delete Graph photo of %s" % upn
        if self.check_mode:
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

    def _apply_absent(self, record):
        upn = record["user"]
        for target in self.targets:
            try:
                removed = self._sharepoint_absent(upn) if target == "sharepoint" else self._graph_absent(upn)
            except SpoError as err:
                record["targets"][target] = "failed"
                record["error"] = self._join_error(record["error"], "%s: %s" % (target, err))
                continue
            if removed:
                record["targets"][target] = "would remove" if self.check_mode else "removed"
                record["changed"] = True
                record["action"] = "removed"
            else:
                record["targets"][target] = "absent"
            if not self.check_mode:
                self.manifest.forget(upn, target)

    def _run_absent(self, records):
        with ThreadPoolExecutor(max_workers=self.concurrency) as pool:
            for future in [pool.submit(self._apply_absent, record) for record in records]:
                future.result()

    # -- the run ---------------------------------------------------------------------------

    def _archive(self, record):
        destination = os.path.join(self.archive_dir, os.path.basename(record["path"]))
        if self.check_mode:
            record["archived"] = destination
            return
        try:
            if not os.path.isdir(self.archive_dir):
                os.makedirs(self.archive_dir)
            shutil.move(record["path"], destination)
            record["archived"] = destination
        except (OSError, IOError, shutil.Error) as err:
            record["error"] = self._join_error(record["error"], "archive: %s" % err)

    def run(self, entries, problems=()):
        """Sync every entry ({"user", "path"}); returns the module result (without fail decisions)."""
        self.manifest = load_manifest(self.client, self.site_url, self.folder)
        records = [self._new_record(entry) for entry in entries]
        if self.state == "absent":
            self._run_absent(records)
        else:
            self._run_present(entries, records)
        for record in records:
            failed = record["error"] is not None or any(value == "failed" for value in record["targets"].values())
            if failed:
                record["action"] = "failed"
            elif self.archive_dir and record.get("path") and self.state == "present" and os.path.exists(record["path"]):
                self._archive(record)
                if record["archived"]:
                    record["changed"] = True
                if record["error"]:
                    record["action"] = "failed"
        for problem in problems:
            record = self._new_record({"user": problem.get("user"), "path": problem.get("path")})
            record["action"] = "failed"
            record["error"] = problem["error"]
            records.append(record)
        manifest_written = False
        if self.manifest.dirty and not self.check_mode:
            self._ensure_folder()
            save_manifest(self.client, self.site_url, self.folder, self.manifest)
            manifest_written = True
        return self._result(records, manifest_written)

    def _result(self, records, manifest_written):
        failed = [record for record in records if record["action"] == "failed"]
        changed = [record for record in records if record["changed"]]
        summary = {
            "total": len(records),
            "changed": len(changed),
            "unchanged": len([record for record in records if record["action"] == "unchanged"]),
            "failed": len(failed),
        }
        before_text = {"new": "no photo sent yet", "changed": "previous photo", "forced": "photo", "removed": "photo"}
        after_text = {"new": "new photo", "changed": "new photo", "forced": "photo sent again", "removed": "no photo"}
        diff = {"before": {}, "after": {}}
        for record in changed:
            key = record["user"] or record["path"]
            targets = ", ".join("%s %s" % item for item in sorted(record["targets"].items()))
            diff["before"][key] = before_text.get(record["action"], "photo")
            diff["after"][key] = "%s (%s)" % (after_text.get(record["action"], "photo"), targets)
        return {
            "changed": bool(changed),
            "users": records,
            "summary": summary,
            "failed_users": [record["user"] or record["path"] for record in failed],
            "manifest_url": absolute_url(self.client, self.folder + "/" + MANIFEST_NAME),
            "manifest_written": manifest_written,
            "diff": diff,
        }
