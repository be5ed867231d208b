# -*- coding: utf-8 -*-
# Copyright (c) spo.user_profiles contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

"""The image pipeline: one source photo becomes square JPEG thumbnails and one JPEG of at most 4 MB for Graph.

Pillow decodes (at a reduced scale when it can), applies the EXIF orientation, flattens to RGB, crops the centred
square, resizes and encodes. Photos are prepared in a process pool (CPU bound), a bounded number at a time, so
memory depends on the worker count, not on the number of photos.
"""

from __future__ import annotations

import hashlib
import io
import json
import multiprocessing
import os
import traceback
import warnings
from collections import deque
from concurrent.futures import ProcessPoolExecutor

try:
    from PIL import Image, ImageOps, UnidentifiedImageError
    HAS_PIL = True
    PIL_IMP_ERR = None
except ImportError:
    HAS_PIL = False
    PIL_IMP_ERR = traceback.format_exc()

from ansible_collections.spo.user_profiles.plugins.module_utils.errors import SpoError
from ansible_collections.spo.user_profiles.plugins.module_utils.files import sha256_file

# Bump when the pipeline's output changes for the same input, so every photo is re-sent once.
PIPELINE_VERSION = 1

GRAPH_MAX_BYTES = 4 * 1024 * 1024
DEFAULT_SIZES = (("S", 48), ("M", 72), ("L", 200))
DEFAULT_GRAPH_MAX_PX = 648
DEFAULT_QUALITY = 90
MIN_QUALITY = 30
DEFAULT_MAX_PIXELS = 100 * 1000 * 1000


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
        if self.max_pixels < 1:
            raise ValueError("max_pixels must be positive")
        if not MIN_QUALITY <= self.quality <= 100:
            raise ValueError("quality must be between %d and 100" % MIN_QUALITY)

    def key(self):
        """A short digest of everything that changes the output (max_pixels only refuses input)."""
        text = json.dumps([PIPELINE_VERSION, self.sizes, self.graph_max_px, self.quality, self.graph_max_bytes])
        return hashlib.sha256(text.encode("utf-8")).hexdigest()[:12]


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
