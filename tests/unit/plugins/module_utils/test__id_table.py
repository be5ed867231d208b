# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

from ansible_collections.spo.user_profiles.plugins.module_utils import _id_table


def test_id_table_remembers_every_key_through_growth():
    table = _id_table.IdTable()
    keys = [((i * 2654435761) % 2 ** 64) - 2 ** 63 for i in range(1, 200000)] + [0]
    assert all(table.add(key) for key in keys)
    assert not any(table.add(key) for key in keys)
    assert sum(len(shard) for shard in table.shards) < len(keys) * 2
