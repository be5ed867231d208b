# -*- coding: utf-8 -*-
# Copyright (c) spo.user_profiles contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

"""SpoClient: one keep-alive session for SharePoint REST, CSOM, Graph and sign-in.

Every request is retried here, the same way, and only when trying again can help: 429/503/504 honour Retry-After
(else back off), connection failures and timeouts back off exponentially with jitter (backoff.Backoff); both are
bounded by max_retries and by an overall deadline per request. No other status is retried (a 500 carrying a
SharePoint error is deterministic), nor a certificate that could not be verified. A 401 refreshes the token once.
Failed answers become SpoErrors in http_errors.
"""

from __future__ import annotations

import contextlib
import json as jsonlib
import os
import random
import ssl
import time
import traceback
import uuid
from urllib.parse import urlsplit

from ansible_collections.spo.user_profiles.plugins.module_utils import auth
from ansible_collections.spo.user_profiles.plugins.module_utils.backoff import Backoff
from ansible_collections.spo.user_profiles.plugins.module_utils.errors import SpoError
from ansible_collections.spo.user_profiles.plugins.module_utils.http_errors import (
    RETRY_AFTER_STATUSES, error_from_response, parse_retry_after, redact, request_id_of,
)

try:
    import requests
    from requests.adapters import HTTPAdapter
    from requests.utils import get_environ_proxies
    HAS_REQUESTS = True
    REQUESTS_IMP_ERR = None
except ImportError:
    HAS_REQUESTS = False
    REQUESTS_IMP_ERR = traceback.format_exc()

COLLECTION_VERSION = "1.0.0"
DEFAULT_USER_AGENT_ORG = "spo"

# Throttled or too busy: the service refused the request without running it.
SURELY_NOT_RUN_STATUSES = (429, 503)
BACKOFF_BASE_SECONDS = 1.0
BACKOFF_CAP_SECONDS = 300.0
# Used when the caller gives no deadline: long enough for several real Retry-After waits.
DEFAULT_DEADLINE_SECONDS = 900.0

NOMETADATA = "application/json;odata=nometadata"
# Connections a requests session keeps per host (requests' default).
POOL_CONNECTIONS = 10


def unverified_certificate(exc):
    """The ssl.SSLCertVerificationError behind a failed request (requests and urllib3 wrap it several times), or None
    when the failure is not a certificate that could not be verified (a handshake cut off is a connection failure)."""
    pending, seen = [exc], set()
    while pending:
        error = pending.pop()
        if isinstance(error, ssl.SSLCertVerificationError):
            return error
        if id(error) in seen:
            continue
        seen.add(id(error))
        linked = list(getattr(error, "args", ())) + [getattr(error, "reason", None), error.__cause__, error.__context__]
        pending.extend(item for item in linked if isinstance(item, BaseException))
    return None


def user_agent(org=DEFAULT_USER_AGENT_ORG):
    return "NONISV|%s|spo.user_profiles/%s" % (org or DEFAULT_USER_AGENT_ORG, COLLECTION_VERSION)


class SpoClient:
    """HTTP client for one tenant. Build once per module run; it keeps one session and one token per resource."""

    def __init__(self, tenant, credentials, cloud="public", timeout=60, max_retries=10,
                 validate_certs=True, ca_path=None, deadline_seconds=None,
                 user_agent_org=DEFAULT_USER_AGENT_ORG, session=None, sleep=time.sleep, clock=time.monotonic,
                 wall_clock=time.time, jitter=random.random):
        self.cloud = auth.get_cloud(cloud) if isinstance(cloud, str) or cloud is None else cloud
        self.tenant = auth.normalize_tenant(tenant)
        self.timeout = timeout
        self.max_retries = max(int(max_retries), 0)
        self.validate_certs = validate_certs
        self.ca_path = ca_path
        self.deadline_seconds = DEFAULT_DEADLINE_SECONDS if deadline_seconds is None else deadline_seconds
        self.user_agent = user_agent(user_agent_org)
        self._sleep = sleep
        self._clock = clock
        self._wall_clock = wall_clock
        self._jitter = jitter
        if session is None:
            if not HAS_REQUESTS:
                raise SpoError("the requests Python library is required")
            session = requests.Session()
            # Proxies and CA bundle are computed per request below; trust_env would also let ~/.netrc
            # replace our Authorization header.
            session.trust_env = False
        self.session = session
        # A concurrency.AdaptiveLimit shared by the workers of a task (None: no limit; limited_by sets it): every request
        # to SharePoint or Graph waits for a place in it, and a throttled answer slows the whole pool.
        self.limiter = None
        self.retry_log = []
        self._sent_tokens = set()
        self._roles = {}  # token -> its roles claim, read once

        self.root_url = "https://%s" % self.cloud.sharepoint_host(self.tenant)
        self.admin_url = "https://%s" % self.cloud.sharepoint_host(self.tenant, "admin")
        self.my_url = "https://%s" % self.cloud.sharepoint_host(self.tenant, "my")
        self.graph_url = self.cloud.graph_url

        if isinstance(credentials, dict):
            credentials = auth.Credentials(**credentials)
        if hasattr(credentials, "token") and hasattr(credentials, "invalidate"):
            self.tokens = credentials  # a ready token provider (tests, or a caller with its own sign-in)
            self._secrets = list(getattr(getattr(credentials, "credentials", None), "secrets", lambda: [])())
        else:
            self.tokens = auth.TokenProvider(credentials, self.tenant, self.cloud, http_client=MsalHttpClient(self))
            self._secrets = credentials.secrets()

    # -- transport settings -------------------------------------------------------------

    def verify(self):
        """The `verify` value for every request; explicit, so REQUESTS_CA_BUNDLE cannot override ca_path."""
        if not self.validate_certs:
            return False
        if self.ca_path:
            return self.ca_path
        return os.environ.get("REQUESTS_CA_BUNDLE") or os.environ.get("CURL_CA_BUNDLE") or True

    def proxies(self, url):
        return get_environ_proxies(url) if HAS_REQUESTS else {}

    def resource_for(self, url):
        host = (urlsplit(url).hostname or "").lower()
        if host == self.cloud.graph_host:
            return auth.GRAPH
        if host.endswith("." + self.cloud.sharepoint_suffix):
            # A token for the tenant's SharePoint; never send it to another tenant's hosts.
            if host in (urlsplit(self.root_url).hostname, urlsplit(self.admin_url).hostname, urlsplit(self.my_url).hostname):
                return auth.SHAREPOINT
        return None

    def granted_roles(self, resource):
        """The application permissions of this run's token for `resource` (see auth.token_roles), read once per token."""
        token = self.tokens.token(resource)
        if token not in self._roles:
            self._roles[token] = auth.token_roles(token)
        return self._roles[token]

    def scrub(self, text):
        return redact(text, list(self._secrets) + sorted(self._sent_tokens))

    @contextlib.contextmanager
    def limited_by(self, limit):
        """Within: every request to SharePoint or Graph takes a place in `limit` (a concurrency.AdaptiveLimit shared by
        a task's workers), and the session keeps a connection per place, so that no worker opens (and signs a TLS
        handshake for) a connection the pool then throws away."""
        self._size_pool(limit.ceiling)
        self.limiter = limit
        try:
            yield limit
        finally:
            self.limiter = None

    def _size_pool(self, connections):
        if HAS_REQUESTS and isinstance(self.session, requests.Session) and connections > POOL_CONNECTIONS:
            adapter = HTTPAdapter(pool_maxsize=connections)
            self.session.mount("https://", adapter)
            self.session.mount("http://", adapter)

    def _can_refresh(self, resource):
        can_refresh = getattr(self.tokens, "can_refresh", None)
        return can_refresh(resource) if can_refresh else True

    # -- the retry loop -----------------------------------------------------------------

    def _backoff(self):
        """The waits between the tries of one request: exponential with jitter, within the request's deadline."""
        return Backoff(BACKOFF_BASE_SECONDS, growth=2.0, cap=BACKOFF_CAP_SECONDS, jitter=0.5, deadline=self.deadline_seconds,
                       clock=self._clock, sleep=self._sleep, rand=self._jitter)

    def send(self, method, url, operation, headers=None, params=None, data=None, json=None, stream=False,
             allow_status=(), timeout=None, resource=None, return_failures=False, idempotent=True):
        """Send with retries. Returns the final response; raises SpoError when there is none, or it failed.

        Tried again: 429, 503 and 504 (after Retry-After, else after a backoff step), and connection failures and
        timeouts (after a backoff step), up to max_retries and within the request's deadline. Never tried again: any
        other status, in particular a 500 (SharePoint answers deterministic profile errors that way), and a
        certificate that could not be verified.
        `return_failures` returns a failed response (after the retries) instead of raising: MSAL reads error bodies itself.
        `idempotent=False` is for a call that must not run twice (queueing a job): it is retried only when the service
        surely did not run it (429, 503, or no connection made); otherwise the SpoError has `may_have_run` set, and
        the caller finds out what happened.
        """
        backoff = self._backoff()
        start = data.tell() if hasattr(data, "seek") and hasattr(data, "tell") else None
        attempt = 0
        refreshed = False
        while True:
            if start is not None:
                data.seek(start)
            final_headers = self._headers(resource, headers)  # signing in first: it is not counted as a request in flight
            slot = self.limiter.acquire() if self.limiter is not None and resource is not None else None
            try:
                response = self.session.request(
                    method, url, headers=final_headers, params=params, data=data, json=json,
                    stream=stream, timeout=self._try_timeout(timeout, backoff), verify=self.verify(),
                    proxies=self.proxies(url), allow_redirects=True,
                )
            except requests.exceptions.RequestException as exc:
                if slot is not None:
                    self.limiter.abandon(slot)
                failure, retryable = self._transport_error(exc, url, operation, idempotent)
                delay = backoff.next_delay()
                if not retryable or attempt >= self.max_retries or not backoff.fits(delay):
                    raise failure
                self.retry_log.append({"operation": operation, "status": None, "wait": delay, "attempt": attempt + 1})
                backoff.sleep(delay)
                attempt += 1
                continue

            status = response.status_code
            retry_after = parse_retry_after(response.headers.get("Retry-After"), now=self._wall_clock())
            if slot is not None:
                self._tell_limiter(slot, status, retry_after)
            if status == 401 and resource is not None and not refreshed and self._can_refresh(resource):
                # The token may have expired or been revoked mid-run: get a new one, once.
                refreshed = True
                response.close()
                self.tokens.invalidate(resource)
                continue
            if status in RETRY_AFTER_STATUSES and status not in allow_status:
                if not idempotent and status not in SURELY_NOT_RUN_STATUSES:
                    raise self._error(response, operation, attempt).replace(may_have_run=True)
                delay = backoff.next_delay(instead=retry_after)
                in_time = backoff.fits(delay)
                if attempt >= self.max_retries or not in_time:
                    if return_failures:
                        return response
                    raise self._error(response, operation, attempt, beyond_deadline=None if in_time else delay)
                self.retry_log.append({"operation": operation, "status": status, "wait": delay, "attempt": attempt + 1})
                response.close()
                backoff.sleep(delay)
                attempt += 1
                continue
            if status >= 400 and status not in allow_status and not return_failures:
                # A 5xx of a call that must not run twice may have run: the caller looks before sending it again.
                raise self._error(response, operation, attempt).replace(may_have_run=not idempotent and status >= 500)
            return response

    def _tell_limiter(self, slot, status, retry_after):
        """A throttled answer (429, 503) halves the shared limit and, with Retry-After, pauses every worker."""
        if status in SURELY_NOT_RUN_STATUSES:
            self.limiter.throttled(slot, retry_after)
        else:
            self.limiter.done(slot)

    def _headers(self, resource, headers):
        final = {"User-Agent": self.user_agent, "client-request-id": str(uuid.uuid4())}
        if resource is not None:
            token = self.tokens.token(resource)
            self._sent_tokens.add(token)
            final["Authorization"] = "Bearer %s" % token
        final.update(headers or {})
        return final

    def _try_timeout(self, timeout, backoff):
        """The timeout of one try: the request's own, cut to what is left of its deadline (but at least 1 s)."""
        per_try = timeout or self.timeout
        remaining = backoff.remaining()
        if remaining > 0:
            per_try = min(per_try, max(remaining, 1.0))
        return per_try

    def _transport_error(self, exc, url, operation, idempotent):
        """(SpoError, whether to try again) for a request that got no answer."""
        unverified = unverified_certificate(exc)
        if unverified is not None:
            # Trying again cannot help, and the fix is in the options: say which ones.
            detail = getattr(unverified, "verify_message", None) or str(unverified)
            message = ("the TLS certificate of %s could not be verified (%s); if a proxy or a private CA issues it, give "
                       "that CA's bundle in ca_path (validate_certs: false turns the check off)"
                       % (urlsplit(url).hostname, detail))
            return SpoError(self.scrub(message), operation=operation), False
        may_have_run = not idempotent and not isinstance(exc, requests.exceptions.ConnectTimeout)
        failure = SpoError(self.scrub("connection failed: %s: %s" % (type(exc).__name__, exc)), operation=operation,
                           may_have_run=may_have_run)
        return failure, not may_have_run

    def _error(self, response, operation, attempt, beyond_deadline=None):
        """The SpoError of a failed response; `beyond_deadline`: the wait (seconds) that did not fit the deadline."""
        error = error_from_response(response, operation, list(self._secrets) + sorted(self._sent_tokens))
        if attempt:
            return error.replace(message="%s (gave up after %d %s)" % (error.message, attempt, "retry" if attempt == 1 else "retries"))
        if beyond_deadline and self.max_retries:
            return error.replace(message="%s (Retry-After %ds is beyond the request deadline)" % (error.message, beyond_deadline))
        return error

    # -- the public API -----------------------------------------------------------------

    def request(self, method, url, operation, *, headers=None, params=None, data=None, json=None,
                stream=False, allow_status=(), timeout=None, idempotent=True):
        """An authenticated request to SharePoint or Graph; SpoError for any non-2xx status not in allow_status."""
        return self.send(method, url, operation, headers=headers, params=params, data=data, json=json, stream=stream,
                         allow_status=allow_status, timeout=timeout, resource=self.resource_for(url), idempotent=idempotent)

    def sp(self, method, url, operation, **kw):
        """SharePoint REST with JSON (odata=nometadata). The parsed body, or None when it is empty."""
        headers = {"Accept": NOMETADATA}
        if kw.get("json") is not None:
            headers["Content-Type"] = NOMETADATA
        headers.update(kw.pop("headers", None) or {})
        response = self.request(method, url, operation, headers=headers, **kw)
        return self._json(response, operation)

    def graph(self, method, path_or_url, operation, **kw):
        """Microsoft Graph JSON; `path_or_url` is relative to graph_url ("/users") or absolute."""
        if path_or_url.startswith("https://"):
            url = path_or_url
        else:
            url = self.graph_url + ("" if path_or_url.startswith("/") else "/") + path_or_url
        headers = {"Accept": "application/json"}
        headers.update(kw.pop("headers", None) or {})
        response = self.request(method, url, operation, headers=headers, **kw)
        return self._json(response, operation)

    def _json(self, response, operation):
        if response.status_code == 204 or not response.content:
            return None
        try:
            return jsonlib.loads(response.content.decode("utf-8-sig"))
        except ValueError:
            raise SpoError("the answer is not JSON: %s" % self.scrub(response.content[:200].decode("utf-8", "replace")),
                           status=response.status_code, request_id=request_id_of(response), operation=operation)

    def close(self):
        self.session.close()


class MsalHttpClient:
    """The http_client given to MSAL: same session, proxies, CA settings, timeouts and retries as SpoClient.

    MSAL reads error bodies itself, so failed responses are returned to it, not raised.
    """

    def __init__(self, client):
        self._client = client

    def post(self, url, params=None, data=None, headers=None, **kwargs):
        return self._client.send("POST", url, auth.SIGN_IN_OPERATION, headers=headers, params=params, data=data,
                                 timeout=kwargs.get("timeout"), return_failures=True)

    def get(self, url, params=None, headers=None, **kwargs):
        return self._client.send("GET", url, auth.SIGN_IN_OPERATION, headers=headers, params=params,
                                 timeout=kwargs.get("timeout"), return_failures=True)

    def close(self):
        """The session belongs to SpoClient."""
