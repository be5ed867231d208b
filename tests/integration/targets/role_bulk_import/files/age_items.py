# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Test helper: make the items of an emulated document library folder look DAYS days old.

The emulator has no control endpoint for file ages (yet), so this rewrites the "modified" time in the
emulator's metadata files. Usage: age_items.py DATA_DIR TENANT FOLDER DAYS [NAME ...] (all items when no NAME).
"""
import json
import os
import sys
import time
import uuid


def main():
    data_dir, tenant, folder, days = sys.argv[1:5]
    names = set(sys.argv[5:])
    site = os.path.join(data_dir, "tenants", tenant, "sites", "root")
    files_dir = os.path.join(site, "files", *folder.strip("/").split("/"))
    meta_dir = os.path.join(site, "meta", *folder.strip("/").split("/"))
    moment = time.time() - float(days) * 86400
    aged = []
    for name in sorted(os.listdir(files_dir)):
        if names and name not in names:
            continue
        meta_path = os.path.join(meta_dir, name + ".meta")
        try:
            with open(meta_path, encoding="utf-8") as handle:
                meta = json.load(handle)
        except (OSError, ValueError):
            meta = {"unique_id": str(uuid.uuid4()), "created": moment, "version": 1}
        meta["modified"] = moment
        meta["created"] = min(meta.get("created", moment), moment)
        os.makedirs(os.path.dirname(meta_path), exist_ok=True)
        with open(meta_path, "w", encoding="utf-8") as handle:
            json.dump(meta, handle)
        os.utime(os.path.join(files_dir, name), (moment, moment))
        aged.append(name)
    sys.stdout.write(json.dumps(aged) + "\n")


if __name__ == "__main__":
    main()
