# -*- coding: utf-8 -*-
# Copyright (c) spo.user_profiles contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

"""The log of an import job: read the files of its log folder, parse each line, and summarise who failed and why.

The service writes no fixed log format that is documented; the parser accepts the forms seen in logs and docs
(tab- or dash-separated, with or without timestamps and levels) and keeps any other line whole, as Unknown.
"""

from __future__ import annotations

import codecs
import re

from ansible_collections.spo.user_profiles.plugins.module_utils import files, webs
from ansible_collections.spo.user_profiles.plugins.module_utils.constants import GUID_PATTERN, GUID_TEXT

DEFAULT_MAX_LOG_ENTRIES = 1000

_TIMESTAMP = re.compile(
    r"^\s*[\[(]?(?:\d{4}-\d{2}-\d{2}[T ]\d{1,2}:\d{2}(?::\d{2}(?:[.,]\d+)?)?(?:\s?(?:Z|UTC|[+-]\d{2}:?\d{2}))?"
    r"|\d{1,2}/\d{1,2}/\d{2,4}\s+\d{1,2}:\d{2}(?::\d{2})?(?:\s?[AP]M)?)[\])]?\s*(?:[-|,;:]\s*)?",
    re.IGNORECASE)
_LEVEL = re.compile(r"^[\[(]?(?:error|warning|warn|info)[\])]?\s*(?:[-|:]\s*)?(?=\S)", re.IGNORECASE)
# A log code is one CamelCase word with at least two humps (IdentityNotResolvable, DataFileNotJson).
_CODE = re.compile(r"^([A-Z][a-z0-9]+(?:[A-Z][A-Za-z0-9]*)+)(?=$|[\s\-:|,;])")
_SEPARATOR = re.compile(r"^\s*(?:[-:|;,]\s*)?")
# Log folders are named after the job id (Microsoft's docs), or start with the import file's name (PnP's docs): the
# job id, alone or after the file's name and a separator.
_LOG_FOLDER_NAME = re.compile(r"^(?:(?P<stem>.+?)[ ._-]?)?(?P<job_id>%s)$" % GUID_PATTERN)
_EMAIL_IN_TEXT = re.compile(r"[^\s'\"<>()\[\],;:@]+@[^\s'\"<>()\[\],;:@]+\.[^\s'\"<>()\[\],;:@.]+")
_IDENTITY_TRIM = "'\"<>[](),;"
# Codes about the whole file: they name no user.
_FILE_CODES = ("DataFileNotJson",)


def log_folder_name(name):
    """(the file name the folder starts with, or None; the job id, lower case) when a folder of the import folder is a
    job's log folder, in either naming form; None otherwise."""
    match = _LOG_FOLDER_NAME.match(name or "")
    if not match:
        return None
    return match.group("stem"), match.group("job_id").lower()


def decode_log(data):
    """Log bytes as text: UTF-16 or UTF-8 by BOM, UTF-8 without, ISO-8859-1 when it is not UTF-8."""
    if data.startswith(codecs.BOM_UTF16_LE) or data.startswith(codecs.BOM_UTF16_BE):
        return data.decode("utf-16", errors="replace")
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError:
        return data.decode("iso-8859-1")


def read_job_log(client, job):
    """Every file of the job's log folder: [{"name", "server_relative_url", "text"}]; [] without a folder."""
    if not job.get("log_folder_uri"):
        return []
    site_url, folder = webs.web_and_path(client, job["log_folder_uri"])
    logs = []
    for info in sorted(files.list_files(client, site_url, folder), key=lambda item: item.get("name") or ""):
        data = files.read_file(client, site_url, info["server_relative_url"])
        logs.append({"name": info["name"], "server_relative_url": info["server_relative_url"], "text": decode_log(data)})
    return logs


def _is_identity(token):
    if not token:
        return False
    if "@" in token.strip("@") or GUID_TEXT.match(token):
        return True
    return token.startswith(("i:0#.f|", "i:0#.w|"))


def _parse_line(line):
    text = _TIMESTAMP.sub("", line, count=1)
    text = _LEVEL.sub("", text, count=1)
    match = _CODE.match(text)
    if not match:
        return {"identity": None, "code": "Unknown", "message": line.strip()}
    code = match.group(1)
    rest = text[match.end():]
    identity = None
    if "\t" in rest:
        fields = [field.strip() for field in rest.split("\t")]
        if fields and not fields[0]:
            fields = fields[1:]
        if fields and (not fields[0] or _is_identity(fields[0].strip(_IDENTITY_TRIM))):
            identity = fields[0].strip(_IDENTITY_TRIM) or None
            fields = fields[1:]
        message = " ".join(field for field in fields if field)
    else:
        rest = _SEPARATOR.sub("", rest, count=1)
        pieces = rest.split(None, 1)
        candidate = pieces[0].strip(_IDENTITY_TRIM) if pieces else ""
        if _is_identity(candidate):
            identity = candidate
            message = _SEPARATOR.sub("", pieces[1], count=1) if len(pieces) > 1 else ""
        else:
            message = rest
    if identity is None and code not in _FILE_CODES:
        found = _EMAIL_IN_TEXT.search(message)
        identity = found.group(0) if found else None
    return {"identity": identity, "code": code, "message": message.strip()}


def parse_log_text(text):
    """Log lines as [{identity, code, message}]; a line without a recognisable code is kept whole as Unknown."""
    return [_parse_line(line) for line in text.splitlines() if line.strip()]


def summarize_log(entries):
    """{"failed_identities", "counts", "failed_count"} over parsed entries.

    failed_count is the number of distinct identities named, plus records without any identity (MissingIdentity).
    """
    identities = []
    seen = set()
    counts = {}
    anonymous = 0
    for entry in entries:
        counts[entry["code"]] = counts.get(entry["code"], 0) + 1
        identity = entry["identity"]
        if identity:
            if identity.lower() not in seen:
                seen.add(identity.lower())
                identities.append(identity)
        elif entry["code"] == "MissingIdentity":
            anonymous += 1
    return {"failed_identities": identities, "counts": counts, "failed_count": len(identities) + anonymous}


def read_log_entries(client, job):
    """(the job's log files, the entries of all of them in order); no files when the log cannot be read."""
    logs = read_job_log(client, job)
    return logs, [entry for log in logs for entry in parse_log_text(log["text"])]


def with_log(client, job, max_entries=DEFAULT_MAX_LOG_ENTRIES):
    """job plus log_files, log_entries (at most max_entries), log_entries_truncated, failed_identities, counts."""
    logs, entries = read_log_entries(client, job)
    summary = summarize_log(entries)
    result = dict(job)
    result.update({
        "log_files": [log["server_relative_url"] for log in logs],
        "log_entries": entries[:max_entries],
        "log_entries_truncated": len(entries) > max_entries,
        "failed_identities": summary["failed_identities"],
        "counts": summary["counts"],
        "failed_count": summary["failed_count"] if logs else None,
    })
    return result
