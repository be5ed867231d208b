# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

import io
import os
import random

import pytest

from ansible_collections.spo.user_profiles.plugins.module_utils import files, image_pipeline
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
    result = image_pipeline.prepare_image(data, "a.jpg", image_pipeline.PipelineSettings())
    sizes = dict((label, decode(jpeg).size) for label, jpeg in result["thumbnails"].items())
    assert sizes == {"S": (48, 48), "M": (72, 72), "L": (200, 200)}
    assert decode(result["graph"]).size == (648, 648)
    assert result["graph_px"] == 648


def test_configured_sizes_and_no_enlarged_graph_photo():
    data = encode(Image.new("RGB", (120, 90), RED), "PNG")
    settings = image_pipeline.PipelineSettings(sizes=(("S", 32), ("M", 64), ("L", 300)), graph_max_px=648)
    result = image_pipeline.prepare_image(data, "small.png", settings)
    assert decode(result["graph"]).size == (90, 90)
    assert decode(result["thumbnails"]["L"]).size == (300, 300)
    assert decode(result["thumbnails"]["S"]).size == (32, 32)


def test_jpeg_draft_decodes_large_sources_at_reduced_scale():
    data = encode(Image.new("RGB", (4000, 3000), RED), "JPEG")
    result = image_pipeline.prepare_image(data, "big.jpg", image_pipeline.PipelineSettings())
    # 1/4 scale still covers 648 px; a full decode would report 4000x3000.
    assert result["source_px"] == (1000, 750)
    assert decode(result["graph"]).size == (648, 648)


def test_centred_square_crop():
    image = Image.new("RGB", (300, 100), GREEN)
    image.paste(RED, (100, 0, 200, 100))
    image.paste(BLUE, (200, 0, 300, 100))
    result = image_pipeline.prepare_image(encode(image, "PNG"), "wide.png", image_pipeline.PipelineSettings())
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
    result = image_pipeline.prepare_image(encode(stored, fmt, exif=exif), "turned." + fmt.lower(), image_pipeline.PipelineSettings())
    large = decode(result["thumbnails"]["L"])
    assert close_to(large.getpixel((30, 20)), RED)
    assert close_to(large.getpixel((170, 20)), RED)
    assert close_to(large.getpixel((30, 180)), BLUE)
    assert close_to(large.getpixel((170, 180)), BLUE)


def test_cmyk_becomes_rgb():
    cmyk = Image.new("CMYK", (100, 100), (0, 255, 255, 0))  # red in CMYK
    result = image_pipeline.prepare_image(encode(cmyk, "JPEG"), "cmyk.jpg", image_pipeline.PipelineSettings())
    assert close_to(decode(result["thumbnails"]["M"]).getpixel((36, 36)), RED)


def test_alpha_is_flattened_on_white():
    rgba = Image.new("RGBA", (100, 100), (0, 0, 0, 0))
    rgba.paste((0, 0, 255, 255), (0, 50, 100, 100))
    result = image_pipeline.prepare_image(encode(rgba, "PNG"), "alpha.png", image_pipeline.PipelineSettings())
    large = decode(result["thumbnails"]["L"])
    assert close_to(large.getpixel((100, 20)), WHITE)
    assert close_to(large.getpixel((100, 180)), BLUE)


def test_palette_transparency_is_flattened_on_white():
    palette = Image.new("P", (64, 64), 0)
    palette.putpalette([0, 0, 0, 255, 0, 0] + [0] * 762)
    palette.paste(1, (0, 32, 64, 64))
    data = encode(palette, "GIF", transparency=0)
    result = image_pipeline.prepare_image(data, "pal.gif", image_pipeline.PipelineSettings())
    large = decode(result["thumbnails"]["L"])
    assert close_to(large.getpixel((100, 20)), WHITE)
    assert close_to(large.getpixel((100, 180)), RED)


@pytest.mark.parametrize("mode, fmt", [("L", "PNG"), ("I;16", "PNG"), ("1", "BMP"), ("RGB", "TIFF"), ("RGB", "WEBP"), ("LA", "PNG")])
def test_other_modes_and_formats(mode, fmt):
    image = Image.new(mode, (80, 60))
    result = image_pipeline.prepare_image(encode(image, fmt), "x." + fmt.lower(), image_pipeline.PipelineSettings())
    assert decode(result["graph"]).mode == "RGB"
    assert decode(result["thumbnails"]["S"]).size == (48, 48)


def noise(size, seed=7):
    """Random pixels: the worst case for JPEG, so the encoded size is large."""
    return Image.frombytes("RGB", (size, size), random.Random(seed).randbytes(size * size * 3))


def test_graph_photo_loop_lowers_quality_under_4_mb():
    image = noise(2500)
    settings = image_pipeline.PipelineSettings(graph_max_px=2500)
    assert len(image_pipeline.encode_jpeg(image, settings.quality)) >= image_pipeline.GRAPH_MAX_BYTES  # the loop is really needed
    result = image_pipeline.prepare_image(encode(image, "PNG"), "noise.png", settings)
    assert len(result["graph"]) < image_pipeline.GRAPH_MAX_BYTES
    assert result["graph_quality"] < settings.quality
    assert decode(result["graph"]).size == (2500, 2500)


def test_graph_photo_loop_shrinks_when_quality_is_not_enough():
    image = noise(400)
    data, _quality = image_pipeline.encode_under_limit(image, 90, 20000)
    assert len(data) < 20000
    assert decode(data).size[0] < 400


def test_decompression_bomb_is_refused_with_the_file_named():
    settings = image_pipeline.PipelineSettings(max_pixels=10000)
    for size in [(120, 100), (300, 300)]:  # Pillow warns above the limit and raises above twice the limit
        data = encode(Image.new("RGB", size), "PNG")
        with pytest.raises(SpoError) as info:
            image_pipeline.prepare_image(data, "bomb.png", settings)
        assert "bomb.png" in str(info.value)
        assert "decompression bomb" in str(info.value)


def test_non_image_and_truncated_image_are_refused():
    with pytest.raises(SpoError) as info:
        image_pipeline.prepare_image(b"%PDF-1.4 not a photo", "cv.jpg", image_pipeline.PipelineSettings())
    assert "cv.jpg" in str(info.value) and "not an image" in str(info.value)
    data = encode(Image.new("RGB", (500, 500), RED), "JPEG")
    with pytest.raises(SpoError) as info:
        image_pipeline.prepare_image(data[:300], "cut.jpg", image_pipeline.PipelineSettings())
    assert "cut.jpg" in str(info.value)


def test_settings_reject_nonsense():
    with pytest.raises(ValueError):
        image_pipeline.PipelineSettings(sizes=(("S", 0),))
    with pytest.raises(ValueError):
        image_pipeline.PipelineSettings(quality=5)
    assert image_pipeline.PipelineSettings().key() != image_pipeline.PipelineSettings(graph_max_px=240).key()


def test_prepare_many_in_a_process_pool_keeps_order_and_reports_failures(tmp_path):
    paths = []
    for index in range(5):
        path = tmp_path / ("p%d.png" % index)
        if index == 2:
            path.write_bytes(b"not an image")
        else:
            path.write_bytes(encode(Image.new("RGB", (60 + index, 50), RED), "PNG"))
        paths.append(str(path))
    results = list(image_pipeline.prepare_many(paths, image_pipeline.PipelineSettings(), workers=2, window=2))
    assert [path for path, _ok, _result in results] == paths
    assert [ok for _path, ok, _result in results] == [True, True, False, True, True]
    assert "p2.png" in str(results[2][2])
    assert results[0][2]["sha256"] == files.sha256_file(paths[0])


def _die_on_second_photo(path, settings):
    if path.endswith("p1.png"):
        os._exit(1)
    return True, {"sha256": "x"}


def test_a_dead_worker_fails_photos_not_the_run(tmp_path, monkeypatch):
    paths = [str(tmp_path / ("p%d.png" % index)) for index in range(4)]
    monkeypatch.setattr(image_pipeline, "prepare_file", _die_on_second_photo)  # the forked workers inherit it
    results = list(image_pipeline.prepare_many(paths, image_pipeline.PipelineSettings(), workers=2, window=1))
    assert [path for path, _ok, _result in results] == paths
    assert results[0][1] is True
    assert results[1][1] is False and "worker process failed" in str(results[1][2])
