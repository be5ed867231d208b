#!/usr/bin/env python
# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Generate the demo's source data from the users of a running emulator.

For each tenant: <out>/<tenant>.csv, an HR export with a few rows the service will reject (unknown users and
users without a profile, reported as IdentityNotResolvable) and a column that is not mapped (reported as
ignored), and <out>/photos/<tenant>/ with generated photos for some users (JPEG, PNG with transparency,
an EXIF-rotated JPEG) plus one photo of a user who does not exist (reported as failed).
"""
import argparse
import csv
import json
import os
import sys
import urllib.request

from PIL import Image, ImageDraw

BUILDINGS = ["Zürich Tower", "Øresund House", "東京 Office", "Main Street 1", "Harbour \"Quay\" 7"]
COLOURS = [(31, 119, 180), (255, 127, 14), (44, 160, 44), (214, 39, 40), (148, 103, 189), (140, 86, 75)]


def control_get(url):
    # The control plane is plain HTTP on 127.0.0.1: never send it through HTTPS_PROXY/HTTP_PROXY.
    opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))
    with opener.open(url, timeout=30) as response:
        return json.load(response)


def write_csv(path, tenant, users, rows):
    members = [u for u in users if not u.get("guest") and u.get("has_profile", True)]
    without_profile = [u for u in users if not u.get("has_profile", True)][:2]
    chosen = members[:rows]
    with open(path, "w", encoding="utf-8", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(["mail", "employee_id", "cost_center", "building", "nickname"])
        for index, user in enumerate(chosen):
            writer.writerow([user["mail"], user.get("employee_id") or "E%06d" % index,
                             "CC-%03d" % (100 + index % 7), BUILDINGS[index % len(BUILDINGS)],
                             user.get("given_name", "")])
        # Rows the service refuses: reported per user, the rest of the file still imports.
        for number in (1, 2):
            writer.writerow(["nobody%d@%s.com" % (number, tenant), "X%06d" % number, "CC-999", "Nowhere", ""])
        for user in without_profile:
            writer.writerow([user["mail"], user.get("employee_id", ""), "CC-998", "Remote", ""])
    return len(chosen) + 2 + len(without_profile)


def portrait(size, colour, label):
    image = Image.new("RGB", size, colour)
    draw = ImageDraw.Draw(image)
    width, height = size
    draw.ellipse((width * 0.3, height * 0.15, width * 0.7, height * 0.55), fill=(250, 224, 196))
    draw.rectangle((width * 0.2, height * 0.6, width * 0.8, height), fill=(60, 60, 60))
    draw.text((10, 10), label, fill=(255, 255, 255))
    return image


def write_photos(folder, tenant, users, count):
    os.makedirs(folder, exist_ok=True)
    members = [u for u in users if not u.get("guest") and u.get("has_profile", True)][:count]
    for index, user in enumerate(members):
        colour = COLOURS[index % len(COLOURS)]
        image = portrait((640 + 16 * index, 480 + 8 * index), colour, user["upn"])
        base = os.path.join(folder, user["upn"])
        if index % 5 == 1:
            rgba = image.convert("RGBA")
            rgba.putalpha(200)
            rgba.save(base + ".png")
        elif index % 5 == 2:
            exif = Image.Exif()
            exif[0x0112] = 6  # Orientation: rotate 90 degrees when shown
            image.save(base + ".jpg", quality=90, exif=exif)
        else:
            image.save(base + ".jpg", quality=90)
    portrait((320, 320), (0, 0, 0), "ghost").save(os.path.join(folder, "ghost@%s.com.jpg" % tenant), quality=85)
    return len(members) + 1


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--emulator-url", required=True, help="http://127.0.0.1:PORT")
    parser.add_argument("--out", required=True, help="output directory")
    parser.add_argument("--tenants", nargs="*", help="tenant names (default: all tenants of the emulator)")
    parser.add_argument("--rows", type=int, default=300, help="good rows per tenant CSV")
    parser.add_argument("--photos", type=int, default=12, help="photos per tenant")
    args = parser.parse_args(argv)
    base = args.emulator_url.rstrip("/") + "/_emulator"
    tenants = args.tenants or [t["name"] for t in control_get(base + "/tenants")["tenants"]]
    os.makedirs(args.out, exist_ok=True)
    for tenant in tenants:
        users = control_get("%s/tenants/%s/users" % (base, tenant))["users"]
        rows = write_csv(os.path.join(args.out, tenant + ".csv"), tenant, users, args.rows)
        photos = write_photos(os.path.join(args.out, "photos", tenant), tenant, users, args.photos)
        sys.stdout.write("%s: %d rows (4 the service will refuse), %d photos (1 of an unknown user)\n" % (tenant, rows, photos))
    return 0


if __name__ == "__main__":
    sys.exit(main())
