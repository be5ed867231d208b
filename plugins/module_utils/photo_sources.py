# -*- coding: utf-8 -*-
# Copyright (c) spo.user_profiles contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

"""Which user has which source photo: a list of users and paths, or the image files of src_dir, named after the
user (name_format) or looked up in a mapping CSV.
"""

from __future__ import annotations

import csv
import io
import os
import re
import string
import unicodedata

from ansible_collections.spo.user_profiles.plugins.module_utils.constants import PRINCIPAL_NAME_PATTERN
from ansible_collections.spo.user_profiles.plugins.module_utils.import_validation import hidden_character
from ansible_collections.spo.user_profiles.plugins.module_utils.photo_targets import sharepoint_account, thumbnail_key

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


def _upn_problem(user):
    """What is wrong with a user as a user principal name a photo can go to ("is not a user principal name ..."), or
    None. A space at its ends or a character hidden in a name is refused, not removed, as the other modules refuse it:
    "ann@contoso.com" with a U+200B in it looks like that user and is another."""
    if user != user.strip(" "):
        return "starts or ends with a space: a user principal name has none"
    hidden = hidden_character(user)
    if hidden:
        return hidden + ": a user principal name has no invisible characters"
    if not _looks_like_upn(user):
        return "is not a user principal name (name@domain)"
    return None


# The first row of a mapping file is a header only when it is exactly these names (in any case): a first row that
# differs is a mapping like the others, never skipped unseen.
MAPPING_HEADER = ("file", "upn")
# How many problems the refusal message names; the result lists all of them.
LISTED_PROBLEMS = 20


def _placeholder_problem(name_format, fields):
    """The first placeholder of name_format that is not a plain {field} of `fields`, or a brace that opens none;
    None when there is none. Attribute, index, conversion and format parts ("{upn.real}", "{upn[0]}", "{upn!r}") are
    refused, not evaluated: a file name is text, and those would read other things than its words."""
    try:
        parsed = list(string.Formatter().parse(name_format))
    except ValueError as err:
        return str(err)
    for _literal, field, spec, conversion in parsed:
        if field is not None and (field not in fields or spec or conversion):
            return "{%s%s%s}" % (field, "!" + conversion if conversion else "", ":" + spec if spec else "")
    return None


def _format_name(name_format, fields):
    pattern = _strip_image_extension(name_format)
    problem = _placeholder_problem(pattern, fields)
    if problem:
        raise ValueError("name_format %r: unknown or bad placeholder (%s); use %s" % (
            name_format, problem, ", ".join("{%s}" % key for key in sorted(fields))))
    return pattern.format(**fields)


def name_format_problem(name_format):
    """Why name_format is no format of the placeholders, or None (checked once, not for every file)."""
    try:
        _format_name(name_format, name_fields("Anne Marie Smith.jpg"))
    except ValueError as err:
        return str(err)
    return None


def upn_from_name(file_name, name_format):
    """The UPN a file name maps to under name_format, or raise ValueError.

    A trailing image extension in name_format is ignored ("{upn}.jpg" means the file name
    without its extension is the UPN, whatever the image type).
    """
    upn = _format_name(name_format, name_fields(file_name))
    # {middle} of a name with no middle words, or dots in a name, can join two dots
    reason = _upn_problem(upn) or (".." in upn and "is not a user principal name (name@domain)")
    if reason:
        raise ValueError("%s maps to %r, which %s" % (file_name, upn, reason))
    return upn


def _file_key(name):
    """How a mapping's file name is compared with the names in src_dir: without case, spaces at its ends, and in one
    Unicode form (a file copied from macOS has its accents decomposed, a name typed in a spreadsheet composed). Names
    that meet so are told apart by _mapped: a row matching several files is refused."""
    return unicodedata.normalize("NFC", name.strip(" ")).lower()


def _not_utf8(path, data, err):
    """The problem of a mapping file that is not UTF-8: the line of the first byte that is not."""
    line = len(re.split(r"\r\n|\r|\n", data[:err.start].decode("utf-8-sig")))
    return "%s line %d: not UTF-8 text (byte 0x%02x); save the mapping file as UTF-8" % (path, line, data[err.start])


def read_mapping(path):
    """The rows of a mapping CSV, ([{"line", "file", "user"}], [problem]).

    Two columns, file name and UPN; "line" is the physical line a row starts on. The first row is skipped only when it
    is MAPPING_HEADER. Each user is on one row; several rows may name one file (its users share the photo).
    """
    with open(path, "rb") as handle:
        data = handle.read()
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as err:
        return [], [_not_utf8(path, data, err)]
    rows = []
    problems = []
    line_of_user = {}
    reader = csv.reader(io.StringIO(text, newline=""))
    end = 0
    first = True
    try:
        for row in reader:
            line, end = end + 1, reader.line_num
            # Spaces around a cell are the CSV's layout ("ann.jpg, ann@contoso.com"): neither a file name in the
            # mapping (matched without case or extension) nor a user principal name is told apart by them.
            cells = [cell.strip(" ") for cell in row]
            if not any(cell.strip() for cell in cells):
                continue  # a blank line maps nothing
            is_first, first = first, False
            where = "%s line %d" % (path, line)
            if end > line:
                # A file name or a UPN never holds a line break: a quote that does not close swallows the rows after it.
                problems.append("%s: a quoted value runs over lines %d to %d" % (where, line, end))
                continue
            if len(cells) != 2:
                problems.append("%s: expected two columns, file name and UPN, not %d%s" % (
                    where, len(cells), " (quote a file name that holds a comma)" if len(cells) > 2 else ""))
                continue
            if is_first and tuple(cell.lower() for cell in cells) == MAPPING_HEADER:
                continue
            name, user = cells
            if not name.strip():
                problems.append("%s: the file name is empty" % where)
                continue
            reason = _upn_problem(user)
            if reason:
                problems.append("%s: %r %s%s" % (
                    where, user, reason, "; a header row is %s" % ",".join(MAPPING_HEADER) if is_first else ""))
                continue
            earlier = line_of_user.setdefault(user.lower(), line)
            if earlier != line:
                problems.append("%s: %s already has a photo at line %d; a user has one photo" % (where, user, earlier))
                continue
            rows.append({"line": line, "file": name, "user": user})
    except csv.Error as err:
        problems.append("%s line %d: %s" % (path, end + 1, err))
    return rows, problems


def list_sources(src_dir):
    """Image files directly in src_dir (not recursive), sorted by name."""
    names = []
    for entry in sorted(os.listdir(src_dir)):
        full = os.path.join(src_dir, entry)
        if os.path.isfile(full) and os.path.splitext(entry)[1].lower() in IMAGE_EXTENSIONS:
            names.append(entry)
    return names


def _listed(photos, need_files):
    """(where, user, path) of each entry of the photos option, and its problems."""
    sources = []
    problems = []
    for index, item in enumerate(photos):
        where = "photos[%d]" % index
        user = item["user"]
        path = item.get("path")
        reason = _upn_problem(user)
        if reason:
            problems.append("%s: %r %s" % (where, user, reason))
            continue
        if need_files and path and not os.path.isfile(path):
            problems.append("%s.path: %s %s" % (where, path, "is not a file" if os.path.exists(path) else "does not exist"))
            continue
        sources.append((where, user, path))
    return sources, problems


def _named(src_dir, names, name_format):
    """(where, user, path) of each file of src_dir named after its user, and the files that name no user."""
    sources = []
    problems = []
    for name in names:
        try:
            sources.append((name, upn_from_name(name, name_format), os.path.join(src_dir, name)))
        except ValueError as err:
            problems.append(str(err))
    return sources, problems


def _mapped(src_dir, names, mapping):
    """(where, user, path) of each file of src_dir the mapping file gives to one or more users, and the problems of the
    mapping and of the files it does not name."""
    rows, problems = read_mapping(mapping)
    if problems:
        # Files are matched once the mapping reads whole: against a part of it, a file whose row is refused would be
        # said to be missing from it.
        return [], problems
    rows_of = {}
    for row in rows:
        rows_of.setdefault(_file_key(row["file"]), []).append(row)
    files_of_line = {}
    sources = []
    for name in names:
        found = rows_of.get(_file_key(name), []) + rows_of.get(_file_key(_strip_image_extension(name)), [])
        if not found:
            problems.append("%s is not in the mapping file %s" % (name, mapping))
            continue
        for row in found:
            files_of_line.setdefault(row["line"], []).append(name)
            sources.append(("%s line %d" % (mapping, row["line"]), row["user"], os.path.join(src_dir, name)))
    for line, files in sorted(files_of_line.items()):
        if len(files) > 1:
            problems.append("%s line %d: matches several files, %s (file names are compared without regard to case "
                            "or to spaces at their ends); name one" % (mapping, line, ", ".join(files)))
    return sources, problems


def _one_photo_per_user(sources):
    """A user with two sources is a problem naming both: which one is meant cannot be guessed."""
    wheres_of = {}
    for where, user, _path in sources:
        wheres_of.setdefault(user.lower(), (user, []))[1].append(where)
    problems = []
    for user, wheres in wheres_of.values():
        if len(wheres) > 1:
            problems.append("%s is given several photos: %s; a user has one photo" % (user, ", ".join(wheres)))
    return problems


def _one_set_of_thumbnails_per_user(sources):
    """Users whose SharePoint thumbnails would be the same files are a problem naming them: all of them would show
    the photo sent last. The same user twice is _one_photo_per_user's problem, not this one."""
    users_of = {}
    for where, user, _path in sources:
        users_of.setdefault(thumbnail_key(user), {}).setdefault(user.lower(), (user, where))
    problems = []
    for users in users_of.values():
        if len(users) > 1:
            named = ["%s (%s)" % pair for pair in users.values()]
            problems.append(
                "%s and %s would share the SharePoint thumbnails %s_SThumb.jpg, _MThumb.jpg and _LThumb.jpg (named after "
                "the user principal name with \"@\" and \".\" replaced by \"_\"), all of them showing the photo sent "
                "last; send all but one of them with targets: [graph]" % (
                    ", ".join(named[:-1]), named[-1], sharepoint_account(next(iter(users.values()))[0])))
    return problems


def resolve_sources(photos=None, src_dir=None, name_format="{upn}.jpg", mapping=None, need_files=False,
                    thumbnails=False):
    """Turn the module's inputs into ([{"user", "path"}], [problem]), the entries sorted by user.

    A problem is one line naming the entry of photos, the file of src_dir or the line of the mapping at fault; any
    problem refuses the whole run, so that nothing is sent from a source that is partly wrong. need_files: each path
    of photos must be a file (state=present). thumbnails: the photos are sent to SharePoint, where users whose
    thumbnails would be the same files are refused.
    """
    if photos:
        sources, problems = _listed(photos, need_files)
        problems.extend(_one_photo_per_user(sources))
    elif src_dir:
        if not os.path.isdir(src_dir):
            raise ValueError("src_dir: %s %s" % (src_dir, "is not a directory" if os.path.exists(src_dir) else "does not exist"))
        names = list_sources(src_dir)
        if mapping:
            # read_mapping refuses a user on two rows itself, naming the lines
            sources, problems = _mapped(src_dir, names, mapping)
        else:
            sources, problems = _named(src_dir, names, name_format)
            problems.extend(_one_photo_per_user(sources))
    else:
        return [], []
    if thumbnails:
        problems.extend(_one_set_of_thumbnails_per_user(sources))
    entries = [{"user": user, "path": path} for _where, user, path in sources]
    return sorted(entries, key=lambda entry: entry["user"].lower()), problems


def refusal_message(problems):
    """One line for sources that were refused: how many problems, and the first LISTED_PROBLEMS of them."""
    more = "; and %d more" % (len(problems) - LISTED_PROBLEMS) if len(problems) > LISTED_PROBLEMS else ""
    return "%d problem(s) in the photo sources, nothing was sent: %s%s" % (
        len(problems), "; ".join(problems[:LISTED_PROBLEMS]), more)
