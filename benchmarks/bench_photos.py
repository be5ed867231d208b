# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

"""Photo pipeline benchmark: ours (JPEG draft decoding + a process pool) against a naive Pillow pipeline.

Generates --count JPEG photos of 12 megapixels (4000x3000) in a temporary directory, then prepares
every thumbnail (48, 72, 200) and the Graph photo (648) for all of them:

- naive: open, convert to RGB (full decode), crop, resize, encode, one photo at a time;
- ours: plugins/module_utils/image_pipeline.prepare_many (draft decoding, all cores, bounded submission window).

PASS when ours is at least --target times faster (default 5), and when the peak memory of a run over
all photos stays within --memory-slack (default 1.3x) of a run over a fifth of them: memory bounded by the
worker count, not by the number of photos. Each memory run is a fresh process, measured with ru_maxrss of
itself and of its worker processes.

    .venv/bin/python benchmarks/bench_photos.py [--count 500] [--workers N] [--keep DIR]
"""

from __future__ import annotations

import argparse
import io
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from concurrent.futures import ProcessPoolExecutor

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def import_pipeline():
    """The collection's image pipeline, through a temporary ansible_collections tree when it is not installed."""
    try:
        from ansible_collections.spo.user_profiles.plugins.module_utils import image_pipeline
        return image_pipeline
    except ImportError:
        pass
    tree = os.path.join(tempfile.gettempdir(), "bench-photos-collections")
    link = os.path.join(tree, "ansible_collections", "spo", "user_profiles")
    os.makedirs(os.path.dirname(link), exist_ok=True)
    if os.path.realpath(link) != ROOT:  # a link left by another checkout would measure that checkout's code
        if os.path.islink(link):
            os.unlink(link)
        os.symlink(ROOT, link)
    sys.path.insert(0, tree)
    from ansible_collections.spo.user_profiles.plugins.module_utils import image_pipeline
    return image_pipeline


BASE_IMAGES = 8
_bases = {}


def base_photo(variant):
    """A 4000x3000 image that looks enough like a photo (gradients, texture, grain) to decode like one."""
    from PIL import Image, ImageChops
    if variant not in _bases:
        width, height = 4000, 3000
        horizontal = Image.linear_gradient("L").rotate(90 * (variant % 4)).resize((width, height))
        radial = Image.radial_gradient("L").resize((width, height))
        texture = Image.effect_noise((width // 8, height // 8), 40 + 5 * variant).resize((width, height), Image.BICUBIC)
        grain = Image.effect_noise((width, height), 12)
        red = ImageChops.add(horizontal, grain, scale=1.5)
        green = ImageChops.multiply(radial, texture)
        blue = ImageChops.add(texture, grain, scale=1.5, offset=variant * 5)
        _bases[variant] = Image.merge("RGB", (red, green, blue))
    return _bases[variant]


def make_photo(args):
    """One 12 MP JPEG: a base image (generating each is slow) with a unique patch, so every file differs."""
    index, directory = args
    image = base_photo(index % BASE_IMAGES).copy()
    image.paste((index % 256, (index * 7) % 256, (index * 13) % 256), (100 + index, 100, 400 + index, 400))
    path = os.path.join(directory, "user%04d@contoso.com.jpg" % index)
    image.save(path, format="JPEG", quality=90)
    return path


def generate(directory, count, workers):
    with ProcessPoolExecutor(max_workers=workers) as pool:
        return sorted(pool.map(make_photo, [(index, directory) for index in range(count)]))


def naive_prepare(path, sizes=(48, 72, 200), graph_px=648):
    """The straightforward pipeline: full decode, then each output from the full-size square; the JPEGs, smallest
    first."""
    from PIL import Image
    image = Image.open(path)
    image = image.convert("RGB")
    width, height = image.size
    side = min(width, height)
    left, top = (width - side) // 2, (height - side) // 2
    square = image.crop((left, top, left + side, top + side))
    outputs = []
    for size in list(sizes) + [graph_px]:
        buffer = io.BytesIO()
        square.resize((size, size), Image.LANCZOS).save(buffer, format="JPEG", quality=90)
        outputs.append(buffer.getvalue())
    return outputs


def run_naive(paths):
    started = time.perf_counter()
    for path in paths:
        naive_prepare(path)
    return time.perf_counter() - started


def run_ours(pipeline, paths, workers):
    settings = pipeline.PipelineSettings()
    started = time.perf_counter()
    failures = 0
    for _path, ok, _result in pipeline.prepare_many(paths, settings, workers=workers):
        failures += 0 if ok else 1
    if failures:
        raise SystemExit("ours: %d photos failed to prepare" % failures)
    return time.perf_counter() - started


def measure_memory(directory, count, workers):
    """Run ours over the first `count` photos in a fresh process; peak RSS in MiB of it and of its workers."""
    code = (
        "import json, resource, sys; sys.path[:0] = %r; import bench_photos as b; pipeline = b.import_pipeline();"
        "paths = sorted(__import__('glob').glob(%r))[:%d]; b.run_ours(pipeline, paths, %d);"
        "print(json.dumps({'self': resource.getrusage(resource.RUSAGE_SELF).ru_maxrss,"
        " 'children': resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss}))"
    ) % ([os.path.dirname(os.path.abspath(__file__))], os.path.join(directory, "*.jpg"), count, workers)
    output = subprocess.check_output([sys.executable, "-c", code], text=True)
    usage = json.loads(output.strip().splitlines()[-1])
    return usage["self"] / 1024.0, usage["children"] / 1024.0


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--count", type=int, default=500, help="number of 12 MP photos (default 500)")
    parser.add_argument("--workers", type=int, default=os.cpu_count() or 1, help="worker processes for ours")
    parser.add_argument("--target", type=float, default=5.0, help="required speed-up (default 5)")
    parser.add_argument("--memory-slack", type=float, default=1.3, help="allowed peak memory growth, all vs a fifth")
    parser.add_argument("--keep", help="generate into (or reuse) this directory instead of a temporary one")
    args = parser.parse_args()

    pipeline = import_pipeline()
    directory = args.keep or tempfile.mkdtemp(prefix="bench-photos-")
    try:
        os.makedirs(directory, exist_ok=True)
        paths = sorted(os.path.join(directory, name) for name in os.listdir(directory) if name.endswith(".jpg"))
        if len(paths) < args.count:
            started = time.perf_counter()
            paths = generate(directory, args.count, args.workers)
            print("generated %d photos of 4000x3000 in %.1f s" % (len(paths), time.perf_counter() - started))
        paths = paths[:args.count]

        naive = run_naive(paths)
        ours = run_ours(pipeline, paths, args.workers)
        ratio = naive / ours
        print("naive: %.2f s (%.1f ms/photo)   ours: %.2f s (%.1f ms/photo, %d workers)" % (
            naive, 1000 * naive / len(paths), ours, 1000 * ours / len(paths), args.workers))
        speed_ok = ratio >= args.target
        print("speed-up: %.2fx (target >= %.1fx) %s" % (ratio, args.target, "PASS" if speed_ok else "FAIL"))

        small = max(1, len(paths) // 5)
        small_self, small_children = measure_memory(directory, small, args.workers)
        all_self, all_children = measure_memory(directory, len(paths), args.workers)
        growth = (all_self + all_children) / (small_self + small_children)
        print("peak RSS, %d photos: main %.0f MiB, largest worker %.0f MiB" % (small, small_self, small_children))
        print("peak RSS, %d photos: main %.0f MiB, largest worker %.0f MiB" % (len(paths), all_self, all_children))
        memory_ok = growth <= args.memory_slack
        print("memory growth %d -> %d photos: %.2fx (limit %.2fx) %s" % (
            small, len(paths), growth, args.memory_slack, "PASS" if memory_ok else "FAIL"))
        print("RESULT: %s" % ("PASS" if speed_ok and memory_ok else "FAIL"))
        return 0 if speed_ok and memory_ok else 1
    finally:
        if not args.keep:
            shutil.rmtree(directory, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
