# -*- coding: utf-8 -*-
# Copyright (c) spo.user_profiles contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

"""The baseline of a bulk import: the values last imported for each user, one gzip file in the import folder.

The file is JSON Lines in gzip: a header naming the mapping it was built with (id property, id type, property
map, the order of the fields) and the jobs last recorded into it, one ``[id, value, ...]`` line per user, and an end
line with the number of users.
Gzip's checksum and the end line tell a complete file from a damaged one; a damaged, unreadable or foreign file
is reported, never trusted (the import is then a full one).

In memory a baseline is an index over its lines, decompressed into a local file: per user a slot, the hash of its
values (so an unchanged user costs one dict lookup and one hash) and the offset of its line (read back only for the
users that changed). Saving goes through a temporary name and a move (files.move_file), so a reader sees the old
file or the new one, never half of one.
"""

from __future__ import annotations

import gzip
import json
import os
import shutil
import zlib
from array import array

from ansible_collections.spo.user_profiles.plugins.module_utils import files
from ansible_collections.spo.user_profiles.plugins.module_utils.errors import SpoError

FORMAT = "spo.user_profiles.import-baseline"
VERSION = 1
# Level 1 writes about three times faster than the default and the file is about a third larger.
_COMPRESS_LEVEL = 1
_COPY_BLOCK = 1024 * 1024
# How many bytes of lines the index parses at once.
_INDEX_BATCH_BYTES = 1024 * 1024


class BaselineUnusable(ValueError):
    """The baseline cannot be used: damaged, unreadable, or built for another mapping (``mapping_changed``)."""

    def __init__(self, message, mapping_changed=False):
        super().__init__(message)
        self.mapping_changed = mapping_changed


def baseline_name(prefix):
    """The baseline's file name for a prefix of import files (the import files' own pattern never matches it)."""
    return "%s-baseline.jsonl.gz" % prefix


def user_key(record_id):
    """How ids are compared: without surrounding space or case, as duplicate ids are."""
    return record_id.strip().lower()


def mapped_fields(id_property, property_map):
    """The source fields of a mapping, in the order of each record's values (as import_build has them)."""
    return [field for field in property_map if field != id_property]


def mapping(id_property, id_type, property_map, jobs=()):
    """The header of a baseline for this mapping; ``jobs``: the import jobs last recorded into it."""
    return {"format": FORMAT, "version": VERSION, "id_property": id_property, "id_type": id_type,
            "property_map": dict(property_map), "fields": mapped_fields(id_property, property_map), "jobs": sorted(jobs)}


def _map_changes(before, now):
    """What changed between two property maps, field by field, as a person reads it: the baseline's mapping first (the
    sentence is about what the baseline was recorded with), then what it is now."""
    if not isinstance(before, dict):
        return ["another property map"]
    changes = []
    for field in sorted(set(before) | set(now)):
        if field not in now:
            changes.append("%s -> %s (no longer mapped)" % (field, before[field]))
        elif field not in before:
            changes.append("%s -> %s (added)" % (field, now[field]))
        elif before[field] != now[field]:
            changes.append("%s -> %s (now %s)" % (field, before[field], now[field]))
    return changes


def _mapping_difference(header, wanted):
    """Why a baseline's header does not fit the wanted mapping, or None when it does."""
    if not isinstance(header, dict) or header.get("format") != FORMAT:
        raise BaselineUnusable("it is not a baseline of this collection")
    if header.get("version") != VERSION:
        raise BaselineUnusable("it has format version %r, this collection reads %d" % (header.get("version"), VERSION))
    changes = ["%s %s (now %s)" % (what, header.get(key), wanted[key])
               for key, what in (("id_property", "id property"), ("id_type", "id type"))
               if header.get(key) != wanted[key]]
    if header.get("property_map") != wanted["property_map"]:
        changes += _map_changes(header.get("property_map"), wanted["property_map"])
    if changes:
        return "was recorded with another mapping: %s" % ", ".join(changes)
    fields = header.get("fields")
    if not isinstance(fields, list) or sorted(fields) != sorted(wanted["fields"]):
        raise BaselineUnusable("its fields %r do not match its property map" % (fields,))
    return None


def _picker(positions):
    """A function giving the items of a list at these positions, as a tuple."""
    if positions == list(range(1, len(positions) + 1)):
        end = len(positions) + 1
        return lambda row: tuple(row[1:end])
    return lambda row: tuple(row[index] for index in positions)


class Baseline:
    """The index of a baseline's users over its decompressed local file (see the module's docstring)."""

    def __init__(self, path, header, fields):
        self.path = path
        self.header = header
        self.fields = fields
        self.slots = {}
        self.hashes = array("q")
        self.offsets = array("q")
        self.seen = bytearray()
        self._pick = _picker([header["fields"].index(field) + 1 for field in fields])
        self._handle = None

    @classmethod
    def load(cls, gz_path, workdir, wanted):
        """Decompress and index a downloaded baseline; BaselineUnusable when it cannot be used for `wanted`."""
        path = os.path.join(workdir, "baseline.jsonl")
        try:
            with gzip.open(gz_path, "rb") as source, open(path, "wb") as target:
                shutil.copyfileobj(source, target, _COPY_BLOCK)
        except (OSError, EOFError, zlib.error) as err:
            raise BaselineUnusable("it is not a complete gzip file (%s)" % err)
        with open(path, "rb") as handle:
            header = _json_line(handle.readline(), 1)
            difference = _mapping_difference(header, wanted)
            if difference:
                raise BaselineUnusable(difference, mapping_changed=True)
            baseline = cls(path, header, wanted["fields"])
            baseline._index(handle)
        return baseline

    def _index(self, handle):
        """Read every user line once: its key, the hash of its values and its offset.

        Lines are parsed a batch at a time, as one JSON array (json's C parser, not a Python call per line); a batch
        that does not parse is read again line by line, to name the line.
        """
        width = len(self.fields) + 1
        slots, hashes, offsets = self.slots, self.hashes, self.offsets
        pick = self._pick
        offset = handle.tell()
        line_no = 1
        end = None
        while True:
            batch = handle.readlines(_INDEX_BATCH_BYTES)
            if not batch:
                break
            try:
                rows = json.loads(b"[" + b",".join(batch) + b"]")
            except ValueError:
                rows = [_json_line(line, line_no + 1 + index) for index, line in enumerate(batch)]
            for line, row in zip(batch, rows):
                line_no += 1
                if end is not None:
                    raise BaselineUnusable("line %d follows the end line" % line_no)
                if row.__class__ is not list:
                    if not isinstance(row, dict):
                        raise BaselineUnusable("line %d is not a user of %d values" % (line_no, width - 1))
                    end = row
                elif len(row) != width:
                    raise BaselineUnusable("line %d is not a user of %d values" % (line_no, width - 1))
                else:
                    try:
                        key = row[0].strip().lower()  # user_key, inlined
                        values_hash = hash(pick(row))
                    except (AttributeError, TypeError):
                        raise BaselineUnusable("line %d holds a value that is not text" % line_no)
                    if slots.setdefault(key, len(offsets)) != len(offsets):
                        raise BaselineUnusable("line %d repeats the user %s" % (line_no, row[0]))
                    hashes.append(values_hash)
                    offsets.append(offset)
                offset += len(line)
        if end is None or end.get("users") != len(offsets):
            raise BaselineUnusable("its end line is missing or does not count its %d users" % len(offsets))
        self.seen = bytearray(len(offsets))

    @property
    def users(self):
        return len(self.offsets)

    @property
    def jobs(self):
        """The import jobs last recorded into this baseline."""
        jobs = self.header.get("jobs")
        return [job for job in jobs if isinstance(job, str)] if isinstance(jobs, list) else []

    @property
    def tag(self):
        """What tells this baseline from the one before it: the jobs last recorded (see ImportFileWriter.finish)."""
        return "baseline after jobs " + ",".join(self.jobs) if self.jobs else ""

    def find(self, key):
        """The slot of a user (marked as seen), or None."""
        slot = self.slots.get(key)
        if slot is not None:
            self.seen[slot] = 1
        return slot

    def match(self, record_id, values):
        """(slot, unchanged) of a source user (marked as seen): None when the baseline does not have it; whether its
        values (in the order of fields) are those of the baseline, by their 64-bit hashes. One call: it runs per user."""
        slot = self.slots.get(record_id.strip().lower())  # user_key, inlined
        if slot is None:
            return None, False
        self.seen[slot] = 1
        return slot, hash(tuple(values)) == self.hashes[slot]

    def entry(self, slot):
        """(id, values in the order of fields) of a slot, read back from the file."""
        if self._handle is None:
            self._handle = open(self.path, "rb")
        self._handle.seek(self.offsets[slot])
        row = json.loads(self._handle.readline())
        return row[0], self._pick(row)

    def unseen(self):
        """(id, values) of every user not found since loading, in file order."""
        seen = self.seen
        with open(self.path, "rb") as handle:
            handle.readline()
            for slot in range(len(seen)):
                line = handle.readline()
                if not seen[slot]:
                    row = json.loads(line)
                    yield row[0], self._pick(row)

    def close(self):
        if self._handle is not None:
            self._handle.close()
            self._handle = None


def _json_line(line, line_no):
    try:
        return json.loads(line)
    except ValueError:
        raise BaselineUnusable("line %d is not JSON" % line_no)


class BaselineWriter:
    """Writes a baseline file (gzip JSON Lines) for a mapping; ``finish`` adds the end line."""

    def __init__(self, path, header):
        self.path = path
        self.users = 0
        self._encode = json.JSONEncoder(ensure_ascii=False, separators=(",", ":")).encode
        self._handle = gzip.open(path, "wb", compresslevel=_COMPRESS_LEVEL)
        self._handle.write(self._encode(header).encode("utf-8") + b"\n")

    def write(self, record_id, values):
        self._handle.write((self._encode([record_id] + list(values)) + "\n").encode("utf-8"))
        self.users += 1

    def finish(self):
        self._handle.write(self._encode({"users": self.users}).encode("utf-8") + b"\n")
        self._handle.close()
        return self.path


def _baseline_url(folder_url, prefix):
    """The server-relative URL of the baseline in the import folder."""
    return folder_url.rstrip("/") + "/" + baseline_name(prefix)


def read_baseline(client, site_url, folder_url, prefix, workdir, wanted):
    """The tenant's baseline for this mapping: (Baseline or None, info).

    info: ``file`` (server-relative), ``status`` (``used``, ``absent``, ``mapping_changed`` or ``unusable``),
    ``users`` (in the baseline used) and ``message`` (why it was not used). Errors reading the file from the tenant
    (after the client's retries) are raised: a run that cannot read its baseline stops rather than guessing.
    """
    url = _baseline_url(folder_url, prefix)
    info = {"file": url, "status": "absent", "users": 0, "message": None}
    gz_path = os.path.join(workdir, baseline_name(prefix))
    if files.download_file(client, site_url, url, gz_path) is None:
        return None, info
    try:
        baseline = Baseline.load(gz_path, workdir, wanted)
    except BaselineUnusable as err:
        info["status"] = "mapping_changed" if err.mapping_changed else "unusable"
        info["message"] = "the baseline %s %s" % (url, err) if err.mapping_changed else "the baseline %s cannot be used: %s" % (url, err)
        return None, info
    finally:
        os.unlink(gz_path)
    info.update(status="used", users=baseline.users)
    return baseline, info


def save_baseline(client, site_url, folder_url, prefix, local_path):
    """Replace the tenant's baseline with the local file: uploaded under a temporary name, then moved over the old one.

    An interruption leaves the old baseline whole (and at most a temporary file, which the next save replaces).
    Returns the baseline's server-relative URL.
    """
    name = baseline_name(prefix)
    temporary = "%s.%s.tmp" % (name, files.sha256_file(local_path)[:16])
    folder = folder_url.rstrip("/")
    files.ensure_folder(client, site_url, folder)
    files.upload_file(client, site_url, folder, temporary, local_path)
    try:
        files.move_file(client, site_url, folder + "/" + temporary, _baseline_url(folder, prefix))
    except SpoError:
        try:
            files.delete_file(client, site_url, folder + "/" + temporary)
        except SpoError:
            pass
        raise
    return _baseline_url(folder, prefix)


def remove_baseline(client, site_url, folder_url, prefix):
    """Delete the tenant's baseline (the next delta import is a full one); False when there was none."""
    return files.delete_file(client, site_url, _baseline_url(folder_url, prefix))
