# -*- coding: utf-8 -*-
# Copyright (c) spo.user_profiles contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

"""Which user has which source photo: a list of users and paths, or the image files of src_dir, named after the
user (name_format) or looked up in a mapping CSV.
"""

from __future__ import annotations

import csv
import os
import re
import unicodedata

from ansible_collections.spo.user_profiles.plugins.module_utils.constants import PRINCIPAL_NAME_PATTERN

IMAGE_EXTENSIONS = (".jpg", ".jpeg", ".png", ".gif", ".bmp", ".tif", ".tiff", ".webp")


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


_looks_like_upn = re.compile(PRINCIPAL_NAME_PATTERN).fullmatch


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
    if not _looks_like_upn(upn) or ".." in upn:
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
            user = item["user"].strip()
            if not _looks_like_upn(user):
                problems.append({"user": user, "path": item.get("path"),
                                 "error": "%r is not a user principal name (name@domain); nothing was sent for it" % user})
                continue
            entries.append({"user": user, "path": item.get("path")})
    elif src_dir:
        if not os.path.isdir(src_dir):
            raise ValueError("src_dir: %s %s" % (src_dir, "is not a directory" if os.path.exists(src_dir) else "does not exist"))
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
