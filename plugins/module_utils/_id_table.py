# -*- coding: utf-8 -*-
# Copyright (c) spo.user_profiles contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

"""A set of 64-bit hashes in about 9 bytes each: how possible duplicate ids are found among millions of users."""

from __future__ import annotations

from array import array
from bisect import bisect_left

_SHARD_BITS = 12
_SHARD_MASK = (1 << _SHARD_BITS) - 1


class IdTable:
    """Set of 64-bit id hashes in 4096 sorted arrays (8 bytes a hash, and the arrays' spare room of about 6%).

    A hash is looked up by binary search and inserted in place, both in C (bisect, array.insert): no Python loop per
    probe and no table to rehash as it grows. An insert moves the larger hashes of its shard up by one, which stays
    small for millions of users (1,000,000 users: about 250 hashes, 2 KB, a shard).
    """

    def __init__(self):
        self.shards = [array("q") for dummy in range(1 << _SHARD_BITS)]

    def add(self, key):
        """False when the hash was already there (a possible duplicate)."""
        shard = self.shards[key & _SHARD_MASK]
        at = bisect_left(shard, key)
        if at < len(shard) and shard[at] == key:
            return False
        shard.insert(at, key)
        return True
