# -*- coding: utf-8 -*-
# Copyright (c) spo.user_profiles contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

"""The delta of a bulk import: each source user compared with the baseline (import_baseline), and what to send.

- added: not in the baseline (or there is no baseline): every value is sent.
- changed: some value differs from the baseline: only the values that differ are sent.
- cleared: the only differences are values removed from the source (an empty value where the baseline has one),
  sent as empty strings because ``clear_missing`` is set; users of the baseline missing from the source are
  cleared the same way.
- unchanged: nothing to send. Removed values are not sent without ``clear_missing`` (``kept`` counts them).
- not_in_source: a baseline user the source no longer has, left as it is without ``clear_missing``.

Each decision is a Decision(status, record, before, kept): the record to write (None when nothing is sent), the
baseline's values (None for an added user) and the number of removed values kept.
"""

from __future__ import annotations

from collections import namedtuple

from ansible_collections.spo.user_profiles.plugins.module_utils.import_baseline import user_key

ADDED = "added"
CHANGED = "changed"
CLEARED = "cleared"
UNCHANGED = "unchanged"
NOT_IN_SOURCE = "not_in_source"

Decision = namedtuple("Decision", "status record before kept")
_UNCHANGED = Decision(UNCHANGED, None, None, 0)


def full_record(id_property, fields, record_id, values, omit_empty=False):
    """The record of a user sent in full: the id and every value (but the empty ones, with omit_empty)."""
    record = {id_property: record_id}
    if omit_empty:
        record.update((name, value) for name, value in zip(fields, values) if value)
    else:
        record.update(zip(fields, values))
    return record


class Delta:
    """Compares source users with a baseline (None: no usable baseline, every user is added)."""

    def __init__(self, baseline, id_property, fields, clear_missing=False, omit_empty=False):
        self.baseline = baseline
        self._match = baseline.match if baseline is not None else None
        self.id_property = id_property
        self.fields = fields
        self.clear_missing = clear_missing
        self.omit_empty = omit_empty

    def _added(self, record_id, values):
        return Decision(ADDED, full_record(self.id_property, self.fields, record_id, values, self.omit_empty), None, 0)

    def compare(self, record_id, values):
        """The Decision for one source user (values: text, in the order of fields)."""
        if self._match is None:
            return self._added(record_id, values)
        slot, unchanged = self._match(record_id, values)
        if slot is None:
            return self._added(record_id, values)
        if unchanged:
            return _UNCHANGED
        dummy, before = self.baseline.entry(slot)
        record = {self.id_property: record_id}
        changed = cleared = False
        kept = 0
        for name, value, previous in zip(self.fields, values, before):
            if value == previous:
                continue
            if value:
                record[name] = value
                changed = True
            elif self.clear_missing:
                record[name] = ""
                cleared = True
            else:
                kept += 1
        if changed:
            return Decision(CHANGED, record, before, kept)
        if cleared:
            return Decision(CLEARED, record, before, kept)
        return Decision(UNCHANGED, None, before, kept)

    def seen(self, record_id):
        """A source user left out before comparing (record_schema with skip_invalid): not missing from the source."""
        if self.baseline is not None:
            self.baseline.find(user_key(record_id))

    def missing(self):
        """((id, Decision)) for the baseline's users the source does not have: cleared with clear_missing."""
        if self.baseline is None:
            return
        for record_id, before in self.baseline.unseen():
            record = None
            if self.clear_missing:
                cleared = [name for name, previous in zip(self.fields, before) if previous]
                if cleared:
                    record = {self.id_property: record_id}
                    record.update((name, "") for name in cleared)
            yield record_id, Decision(CLEARED if record else NOT_IN_SOURCE, record, before, 0)
