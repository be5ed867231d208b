# -*- coding: utf-8 -*-
# Copyright (c) spo.user_profiles contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

"""A set of 64-bit hashes in about 12 bytes each: how possible duplicate ids are found among millions of users."""

from __future__ import annotations

from array import array


class IdTable:
    """Set of 64-bit id hashes in 256 open-addressing arrays (8 bytes a slot).

    Each shard grows by half when 70% full, one shard at a time, so memory stays close to 12 bytes a user.
    """

    def __init__(self):
        self.shards = [array("q", bytes(8 * 256)) for dummy in range(256)]
        self.counts = [0] * 256

    def add(self, key):
        """False when the hash was already there (a possible duplicate)."""
        key = key or 1
        shard_no = key & 255
        table = self.shards[shard_no]
        size = len(table)
        slot = (key >> 8) % size
        while True:
            current = table[slot]
            if current == 0:
                break
            if current == key:
                return False
            slot = (slot + 1) % size
        table[slot] = key
        count = self.counts[shard_no] = self.counts[shard_no] + 1
        if count * 10 > size * 7:
            self._grow(shard_no)
        return True

    def _grow(self, shard_no):
        old = self.shards[shard_no]
        size = len(old) * 3 // 2
        table = array("q", bytes(8 * size))
        for key in old:
            if key:
                slot = (key >> 8) % size
                while table[slot]:
                    slot = (slot + 1) % size
                table[slot] = key
        self.shards[shard_no] = table
