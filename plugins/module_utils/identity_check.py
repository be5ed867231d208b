# -*- coding: utf-8 -*-
# Copyright (c) spo.user_profiles contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

"""The pre-flight identity check: which users of an import do not exist in Entra ID, are guests or are disabled.

Users are looked up in bulk through Microsoft Graph, never one request per user: ``GET /users`` with
``$filter=<attribute> in (...)`` (at most 15 values in a filter) and ``$select``, 20 such reads in one ``$batch``
request, so 300 users per request (docs/protocol_notes.md, "Graph users", "Graph JSON batching"). Needs the Graph
application permission User.Read.All (or User.ReadWrite.All, Directory.Read.All).

IdentityCheck buffers the users of a build and looks them up a batch at a time, so memory stays flat whatever the
number of users.
"""

from __future__ import annotations

import json
import time
from urllib.parse import quote

from ansible_collections.spo.user_profiles.plugins.module_utils.backoff import Backoff
from ansible_collections.spo.user_profiles.plugins.module_utils.errors import SpoError
from ansible_collections.spo.user_profiles.plugins.module_utils.http_errors import RETRY_AFTER_STATUSES, parse_retry_after
from ansible_collections.spo.user_profiles.plugins.module_utils.import_baseline import user_key

# The Entra ID attribute each id type is resolved against (reference §1.1).
ATTRIBUTES = {"email": "mail", "principal_name": "userPrincipalName", "cloud_id": "id"}
IDS_PER_FILTER = 15
READS_PER_BATCH = 20
USERS_PER_BATCH = IDS_PER_FILTER * READS_PER_BATCH
_SELECT = "id,userPrincipalName,mail,accountEnabled,userType"
# Reads of a batch that were throttled are sent again, at most this many times.
_MAX_ROUNDS = 6

NOT_FOUND = "no such user in Entra ID"
GUEST = "a guest account (#EXT#)"
DISABLED = "a disabled account"


def _literal(value):
    return "'%s'" % value.replace("'", "''")


def _read_url(attribute, ids):
    query = "%s in (%s)" % (attribute, ",".join(_literal(value) for value in ids))
    return "/users?$filter=%s&$select=%s" % (quote(query, safe="(),='"), _SELECT)


def _reason(user):
    if user.get("userType") == "Guest" or "#ext#" in (user.get("userPrincipalName") or "").lower():
        return GUEST
    if user.get("accountEnabled") is False:
        return DISABLED
    return None


class IdentityCheck:
    """Looks up users USERS_PER_BATCH at a time; ``reasons(ids)`` answers {id key: reason} for the unusable ones."""

    def __init__(self, client, id_type, clock=time.monotonic, sleep=time.sleep):
        if id_type not in ATTRIBUTES:
            raise ValueError("the identity check needs id_type (one of %s)" % ", ".join(ATTRIBUTES))
        self.client = client
        self.attribute = ATTRIBUTES[id_type]
        self.requests = 0
        self._clock = clock
        self._sleep = sleep

    def reasons(self, ids):
        """{user_key(id): reason} for the ids (at most USERS_PER_BATCH) that do not exist, are guests or disabled."""
        keys = {user_key(value): value for value in ids}
        chunks = [list(keys.values())[start:start + IDS_PER_FILTER] for start in range(0, len(keys), IDS_PER_FILTER)]
        found = {}
        for user in self._read(chunks):
            value = user.get(self.attribute)
            if isinstance(value, str):
                key = user_key(value)
                # One usable account with the id is enough (mail need not be unique).
                if key not in found or found[key] is not None:
                    found[key] = _reason(user)
        reasons = {}
        for key in keys:
            reason = found[key] if key in found else NOT_FOUND
            if reason:
                reasons[key] = reason
        return reasons

    def _read(self, chunks):
        """The users of every chunk's read, the batch sent again for reads the service throttled."""
        pending = {str(number): _read_url(self.attribute, chunk) for number, chunk in enumerate(chunks, 1)}
        backoff = Backoff(2.0, growth=2.0, cap=60.0, jitter=0.5, clock=self._clock, sleep=self._sleep)
        for dummy in range(_MAX_ROUNDS):
            body = {"requests": [{"id": number, "method": "GET", "url": url} for number, url in pending.items()]}
            self.requests += 1
            answer = self.client.graph("POST", "/$batch", "look up %d users" % sum(len(chunk) for chunk in chunks),
                                       json=body) or {}
            waits = []
            for response in answer.get("responses") or ():
                number = str(response.get("id"))
                if number not in pending:
                    continue
                status = response.get("status")
                if status in RETRY_AFTER_STATUSES:
                    headers = {key.lower(): value for key, value in (response.get("headers") or {}).items()}
                    waits.append(parse_retry_after(headers.get("retry-after")))
                    continue
                del pending[number]
                yield from self._users(status, response.get("body"))
            if not pending:
                return
            wait = max((value for value in waits if value is not None), default=None)
            backoff.sleep(backoff.next_delay(wait))
        raise SpoError("Microsoft Graph kept throttling %d of the user lookups" % len(pending), status=429,
                       operation="look up users")

    def _users(self, status, body):
        if isinstance(body, str):
            try:
                body = json.loads(body)
            except ValueError:
                body = {}
        body = body or {}
        if status != 200:
            error = body.get("error") or {}
            raise SpoError(error.get("message") or "the user lookup failed", status=status, code=error.get("code"),
                           operation="look up users")
        yield from body.get("value") or ()
        next_link = body.get("@odata.nextLink")
        while next_link:
            page = self.client.graph("GET", next_link, "look up users") or {}
            self.requests += 1
            yield from page.get("value") or ()
            next_link = page.get("@odata.nextLink")
