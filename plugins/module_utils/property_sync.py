# -*- coding: utf-8 -*-
# Copyright (c) spo.user_profiles contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

"""Per-user profile writes for many users: read each profile once (GetPropertiesFor), compare, and write only the
properties that differ, on a worker pool whose requests in flight adapt to the tenant's throttling
(concurrency.AdaptiveLimit, shared through the client).

A user fails alone when the service refuses something about that user (no profile, an unknown property, a property it
will not write: answers it gives every time, such as HTTP 500 with an odata.error body); the others go on. A failure
that is not about one user (sign-in, permissions, throttling that outlasts the retries, no connection) stops the run:
the calls under way finish, no other starts, and the error carries what was done (err.result), the properties already
written for a user it stopped in the middle of included.
"""

from __future__ import annotations

from ansible_collections.spo.user_profiles.plugins.module_utils import profiles
from ansible_collections.spo.user_profiles.plugins.module_utils.concurrency import AdaptiveLimit, run_bounded
from ansible_collections.spo.user_profiles.plugins.module_utils.errors import SpoError, failed_users_message
from ansible_collections.spo.user_profiles.plugins.module_utils.profile_values import compare
from ansible_collections.spo.user_profiles.plugins.module_utils.progress import UsersProgress

# Answers about the request or the pool, not about one user: trying the next user cannot help.
_RUN_STATUSES = (401, 403, 407, 429, 503, 504)


def is_user_failure(err):
    """Whether an SpoError concerns one user only (the others may go on)."""
    return err.status is not None and err.status not in _RUN_STATUSES


def failure_message(result):
    """One line for a run with failed users: each user with the reason."""
    return failed_users_message([(record["user"], record["error"]) for record in result["users"]
                                 if record["error"] is not None], result["summary"]["total"])


class PropertySync:
    """One run of user_profile_property over a ProfileInput (or any iterable of (number, user, desired))."""

    def __init__(self, client, concurrency, ordered=False, check_mode=False, progress=None):
        self.client = client
        self.ordered = ordered
        self.check_mode = check_mode
        self.limit = AdaptiveLimit(concurrency)
        self.progress = progress or UsersProgress(None)
        self._stopped = []

    def run(self, entries, total=None):
        """The module result (without the decision to fail): changed, users (those written or failed), summary,
        failed_users, concurrency and diff. `total`: how many entries there are, for the progress file."""
        counts = {"total": 0, "changed": 0, "unchanged": 0, "failed": 0, "written": 0}
        records = []
        # (number, record) of the users a run-stopping failure came in the middle of: their calls raise, so run_bounded
        # yields no record of them, and it raises the first error only (list.append is atomic: workers add here).
        self._stopped = []
        self.progress.start(total, self.limit)
        try:
            with self.client.limited_by(self.limit):
                for (number, _user, _desired), record in run_bounded(self._one, entries, self.limit.ceiling):
                    self._count(counts, records, number, record)
                    self.progress.advance()
        except SpoError as err:
            for number, record in self._stopped:
                self._count(counts, records, number, record)
            raise err.replace(result=self._result(records, counts))
        finally:
            self.progress.finish()
        return self._result(records, counts)

    def _count(self, counts, records, number, record):
        """Add a user's record to the counts, and to the records when it changed or failed."""
        counts["total"] += 1
        counts["written"] += 0 if self.check_mode else len(record["written"])
        if record["error"] is not None:
            counts["failed"] += 1
        elif not record["changed"]:
            counts["unchanged"] += 1
        if record["changed"]:
            counts["changed"] += 1
        if record["changed"] or record["error"] is not None:
            records.append((number, record))

    def _one(self, entry):
        """Read, compare and write one user's properties; the user's record."""
        number, user, desired = entry
        record = {"user": user, "changed": False, "written": [], "error": None, "before": {}, "after": {}}
        try:
            current = profiles.get_properties(self.client, user)
        except SpoError as err:
            if not is_user_failure(err):
                raise
            record["error"] = str(err)
            return record
        errors = []
        for name, before, after, differs in compare(current, desired, self.ordered):
            if not differs:
                continue
            if not self.check_mode:
                try:
                    profiles.write_property(self.client, user, name, after)
                except SpoError as err:
                    errors.append(str(err))  # names the property and the user (the operation)
                    if not is_user_failure(err):
                        # The properties written for this user before, and the failure, are part of what the run did.
                        stopped = dict(record, changed=bool(record["written"]), error="; ".join(errors))
                        self._stopped.append((number, stopped))
                        raise
                    continue
            record["written"].append(name)
            record["before"][name] = before
            record["after"][name] = after
        record["changed"] = bool(record["written"])
        record["error"] = "; ".join(errors) if errors else None
        return record

    def _result(self, numbered, counts):
        numbered.sort(key=lambda pair: pair[0])
        records = [record for _number, record in numbered]
        diff = {"before": {}, "after": {}}
        for record in records:
            if record["written"]:
                diff["before"][record["user"]] = record.pop("before")
                diff["after"][record["user"]] = record.pop("after")
            else:
                record.pop("before")
                record.pop("after")
        return {
            "changed": counts["changed"] > 0,
            "users": records,
            "summary": counts,
            "failed_users": [record["user"] for record in records if record["error"] is not None],
            "concurrency": self.limit.stats(),
            "diff": diff,
        }
