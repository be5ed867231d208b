# -*- coding: utf-8 -*-
# Copyright (c) spo.user_profiles contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

"""user_profile_info's read: the profile properties of many users (GetPropertiesFor, one request a user) on the same
adaptive worker pool as the writes; multi-valued properties as lists. Nothing is changed."""

from __future__ import annotations

from ansible_collections.spo.user_profiles.plugins.module_utils import profiles
from ansible_collections.spo.user_profiles.plugins.module_utils.concurrency import DEFAULT_CONCURRENCY, AdaptiveLimit, run_bounded
from ansible_collections.spo.user_profiles.plugins.module_utils.errors import SpoError
from ansible_collections.spo.user_profiles.plugins.module_utils.profile_values import current_value
from ansible_collections.spo.user_profiles.plugins.module_utils.progress import UsersProgress


def _properties(current, names, kinds):
    """The profile's properties (all, or those named, None for a name the profile does not have), multi values as lists."""
    if names is None:
        return dict((name, current_value(value, kinds.is_multi(name))) for name, value in current.items())
    by_name = dict((name.lower(), value) for name, value in current.items())
    return dict((name, None if name.lower() not in by_name else current_value(by_name[name.lower()], kinds.is_multi(name)))
                for name in names)


def read_profiles(client, users, kinds, names=None, concurrency=DEFAULT_CONCURRENCY, progress=None):
    """{"profiles": [{"user", "properties"}], "missing": [users without a profile], "concurrency": stats}, both lists in
    the order of `users`. SpoError for any other failure. `progress`: a progress.UsersProgress to tell."""
    limit = AdaptiveLimit(concurrency)
    progress = progress or UsersProgress(None)

    def read(numbered):
        _number, user = numbered
        try:
            return profiles.get_properties(client, user)
        except SpoError as err:
            if err.code == profiles.NO_PROFILE_CODE:
                return None
            raise

    found, missing = [], []
    progress.start(len(users), limit)
    try:
        with client.limited_by(limit):
            for (number, user), current in run_bounded(read, enumerate(users), limit.ceiling):
                if current is None:
                    missing.append((number, user))
                else:
                    found.append((number, {"user": user, "properties": _properties(current, names, kinds)}))
                progress.advance()
    finally:
        progress.finish()
    return {"profiles": [entry for _number, entry in sorted(found, key=lambda pair: pair[0])],
            "missing": [user for _number, user in sorted(missing)],
            "concurrency": limit.stats()}
