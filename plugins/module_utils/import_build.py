# -*- coding: utf-8 -*-
# Copyright (c) spo.user_profiles contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

"""Building bulk import files: the inputs checked, the source read record by record (import_readers), each record
checked against the data owner's rules (import_schema) and the import's own (import_validation), compared with the
baseline (import_delta), looked up in Entra ID (identity_check) and written (import_writer); nothing is kept when
anything is wrong. Every step takes one record at a time, so memory stays flat.
"""

from __future__ import annotations

from ansible_collections.spo.user_profiles.plugins.module_utils.import_baseline import mapped_fields, user_key
from ansible_collections.spo.user_profiles.plugins.module_utils.import_delta import ADDED, Delta, full_record
from ansible_collections.spo.user_profiles.plugins.module_utils.import_diff import Changes
from ansible_collections.spo.user_profiles.plugins.module_utils.import_readers import open_source
from ansible_collections.spo.user_profiles.plugins.module_utils.import_validation import (
    DEFAULT_MAX_PROBLEMS, Problems, RecordChecks, check_inputs, duplicate_problems, format_problem,
)
from ansible_collections.spo.user_profiles.plugins.module_utils.import_writer import (
    DEFAULT_MAX_BYTES, DEFAULT_MAX_PROPERTIES, ImportFileWriter, full_record_encoder,
)
from ansible_collections.spo.user_profiles.plugins.module_utils.identity_check import USERS_PER_BATCH

# How many source records record_schema validates at once (see _with_schema_errors).
_SCHEMA_BATCH = 256


def build_import_files(tmpdir, prefix, id_property, property_map, id_type=None, src=None, records=None, fmt="auto",
                       encoding="utf-8", delimiter=",", omit_empty=False, max_properties=DEFAULT_MAX_PROPERTIES,
                       max_bytes=DEFAULT_MAX_BYTES, max_problems=DEFAULT_MAX_PROBLEMS, delta=None, schema=None,
                       skip_invalid=False, identities=None, changes=None):
    """Read, check, compare, look up and write. Returns a dict:

    ``files`` (each ``name``, ``path`` (local), ``sha256``, ``bytes``, ``records``, ``properties``; empty when
    there are problems), ``records``, ``properties``, ``ignored_fields``, ``problems`` (the first
    ``max_problems``), ``problem_count`` and ``changes`` (import_diff.Changes: what each user gets, who is left out).
    Raises import_readers.ImportFileError when the source cannot be read.

    ``delta`` (import_delta.Delta) decides what each user is sent; without one, every value of every user. A source
    without records is refused when the delta clears missing users (it would clear every user of the baseline).
    ``schema`` (import_schema.RecordSchema) checks each source record; a record that breaks it is a problem, or, with
    ``skip_invalid``, a user left out (but for bytes the source's encoding cannot read, which are a problem always).
    ``identities`` (identity_check.IdentityCheck) leaves out the users that do not exist, are guests or are disabled;
    they are looked up only once every record has passed its checks.
    """
    problems = Problems(max_problems)
    for found in check_inputs(id_property, property_map, id_type, records):
        problems.add(found)
    writer = ImportFileWriter(tmpdir, max_properties=max_properties, max_bytes=max_bytes)
    fields = mapped_fields(id_property, property_map) if not problems.count else []
    if changes is None:
        changes = Changes(property_map, fields)
    ignored_fields = set()
    if not problems.count:
        source = open_source(id_property, fields, src=src, records=records, fmt=fmt, encoding=encoding, delimiter=delimiter,
                             whole_records=schema is not None)
        output = _Output(writer, problems, changes, identities, id_property, fields, omit_empty)
        if delta is None and identities is not None:
            delta = Delta(None, id_property, fields, omit_empty=omit_empty)
        try:
            if identities is not None:
                # Graph is asked about no user of a source that is refused: a first pass checks every record and
                # finds the duplicates; it compares, looks up and writes nothing.
                _read_and_find_duplicates(source, _record_checks(source, id_property, fields, problems, id_type), None,
                                          schema, skip_invalid, Changes(property_map, fields, max_users=0), _ChecksOnly())
            if not problems.count:
                # After that first pass, the duplicates are known already.
                read = _read if identities is not None else _read_and_find_duplicates
                read(source, _record_checks(source, id_property, fields, problems, id_type), delta, schema, skip_invalid,
                     changes, output)
                if delta is None:
                    changes.counts[ADDED] += writer.records
        except BaseException:
            writer.discard()
            changes.close()
            raise
        ignored_fields = source.ignored_fields
    changes.close()
    result = {"records": writer.records, "properties": writer.properties, "ignored_fields": sorted(ignored_fields),
              "problems": problems.listed, "problem_count": problems.count, "files": [], "changes": changes}
    if problems.count:
        writer.discard()
        changes.discard()
        result["records"] = 0
        result["properties"] = 0
        return result
    # A delta's files name the baseline they were compared with, so failed users are sent again in a new job.
    result["files"] = writer.finish(prefix, salt=delta.baseline.tag if delta is not None and delta.baseline is not None else "")
    return result


def _record_checks(source, id_property, fields, problems, id_type):
    return RecordChecks(id_property, fields, problems, id_type=id_type, text_values=source.text_values,
                        encoding=source.encoding)


def _read_and_find_duplicates(source, checks, delta, schema, skip_invalid, changes, output):
    """_read, then the second pass for duplicate ids when two id hashes met."""
    _read(source, checks, delta, schema, skip_invalid, changes, output)
    if checks.suspects:
        for found in duplicate_problems(source, checks.suspects, checks.id_property):
            checks.problems.add(found)


def _read(source, checks, delta, schema, skip_invalid, changes, output):
    """The pass over the source: every record checked; sent on while no problem has been found.

    Without a delta (and without the identity check) every user is written in full, straight to the writer: the plain
    build pays for nothing it does not use.
    """
    problems = checks.problems
    # bound once: this loop runs once per user
    checked_values = checks.values
    compare = delta.compare if delta is not None else None
    count = changes.add
    send = output.send
    write_full = output.write_full
    items = source if schema is None else _with_schema_errors(source, schema.iter_errors)
    number = 0
    for item in items:
        if isinstance(item, dict):
            problems.add(item)
            continue
        number, line, record_id = item[0], item[1], item[2]
        if schema is not None:
            errors = item[5]
            if errors:
                # Bytes the encoding cannot read are the file's problem, not the record's: never left out.
                if checks.undecodable(number, line, record_id, item[3]):
                    continue
                broken = [schema.problem(number, line, error) for error in errors]
                if skip_invalid:
                    _leave_out_invalid(record_id, number, line, broken, delta, changes)
                else:
                    for found in broken:
                        problems.add(found)
                continue
        values = checked_values(number, line, record_id, item[3])
        if values is None:
            continue
        if compare is None:
            write_full(number, line, record_id, values)
            continue
        decision = compare(record_id, values)
        if decision.record is None:
            count(record_id, decision)
        else:
            send(number, line, record_id, decision)
    if not problems.count and delta is not None:
        if not number and delta.clear_missing:
            problems.report(None, None, None, "the source holds no records, and with clear_missing that would clear every "
                                              "user of the baseline: an empty export is more likely a failed one than "
                                              "every user gone")
            return
        for record_id, decision in delta.missing():
            if decision.record is None:
                count(record_id, decision)
            else:
                send(None, None, record_id, decision)
    output.flush()


def _with_schema_errors(source, iter_errors):
    """The source's items, each record with a sixth item: the errors jsonschema finds in it (an empty list for none).

    Records are validated a batch at a time, in a loop of jsonschema's alone: interleaved with the rest of a build,
    validation runs about 10% slower (caches), which a batch of a few hundred records, bounded in memory, avoids.
    """
    batch = []
    append = batch.append
    for item in source:
        append(item)
        if len(batch) == _SCHEMA_BATCH:
            yield from _validated(batch, iter_errors)
            batch.clear()
    yield from _validated(batch, iter_errors)


def _validated(batch, iter_errors):
    errors = [[] if isinstance(item, dict) else list(iter_errors(item[4])) for item in batch]
    return [item if isinstance(item, dict) else item + (found,) for item, found in zip(batch, errors)]


def _leave_out_invalid(record_id, number, line, broken, delta, changes):
    """skip_invalid: a record that breaks record_schema is left out, listed with the rules it breaks."""
    if isinstance(record_id, str):
        if delta is not None:
            delta.seen(record_id)
    else:
        record_id = None
    changes.left_out(record_id, number, line, "record_schema: " + "; ".join(
        format_problem(dict(found, record=None, line=None)) for found in broken))


class _ChecksOnly:
    """The output of a pass that only checks the records: nothing is looked up or written."""

    def send(self, number, line, record_id, decision):
        pass

    def write_full(self, number, line, record_id, values):
        pass

    def flush(self):
        pass


class _Output:
    """Where the records to send go: through the identity check, a batch of users at a time, into the writer."""

    def __init__(self, writer, problems, changes, identities, id_property, fields, omit_empty):
        self.writer = writer
        self.problems = problems
        self.changes = changes
        self.identities = identities
        self.pending = []
        self.id_property = id_property
        self.fields = fields
        self.omit_empty = omit_empty
        self._encode_full = full_record_encoder(id_property, fields)
        self._full_properties = len(fields) + 1
        self._add_encoded = writer.add_encoded

    def send(self, number, line, record_id, decision):
        if self.identities is None:
            self._write(number, line, record_id, decision)
            return
        self.pending.append((number, line, record_id, decision))
        if len(self.pending) >= USERS_PER_BATCH:
            self.flush()

    def flush(self):
        pending, self.pending = self.pending, []
        if not pending or self.problems.count:
            return  # once the build is refused, nobody is looked up and nothing is written
        reasons = self.identities.reasons([item[2] for item in pending])
        for number, line, record_id, decision in pending:
            reason = reasons.get(user_key(record_id))
            if reason:
                self.changes.left_out(record_id, number, line, reason)
            else:
                self._write(number, line, record_id, decision)

    def _write(self, number, line, record_id, decision):
        if self.write(number, line, decision.record):
            self.changes.add(record_id, decision)

    def write(self, number, line, record):
        """Write one record; False (and a problem) when it cannot be, or once the build is refused."""
        problems = self.problems
        if problems.count:
            return False
        # RecordChecks let no text through that UTF-8 cannot carry: the writer's UnencodableText is not met here.
        data = self.writer.encode(record)
        if self.writer.add_encoded(data, len(record)):
            return True
        problems.report(number, line, None, self.writer.oversize(len(record), len(data)))
        return False

    def write_full(self, number, line, record_id, values):
        """write() of a user's full record (import_delta.full_record), encoded from the id and values without building
        the record: every user of a plain build comes this way."""
        if not self.problems.count and (not self.omit_empty or all(values)):
            if self._add_encoded(self._encode_full(record_id, values), self._full_properties):
                return True
        # Not written so: write() of the record built leaves out empty values (omit_empty), or says why it cannot be
        # written (the limit a record too large for a file passes, as it is refused again).
        return self.write(number, line, full_record(self.id_property, self.fields, record_id, values, self.omit_empty))
