# -*- coding: utf-8 -*-
# Copyright (c) spo.user_profiles contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

"""What a failed answer says: the error of SharePoint REST, CSOM, Graph or Entra ID as an SpoError (status, service
error code, message, request id), when to come back (Retry-After); and the redaction that keeps credentials out of
every text shown to people.
"""

from __future__ import annotations

import email.utils
import json
import re
import time

from ansible_collections.spo.user_profiles.plugins.module_utils import auth
from ansible_collections.spo.user_profiles.plugins.module_utils.errors import SpoError

# How much of an error body is kept when it is not a recognised error document.
ERROR_TEXT_LIMIT = 500

_REQUEST_ID_HEADERS = ("SPRequestGuid", "request-id", "x-ms-request-id", "client-request-id")
_URL_USERINFO = re.compile(r"(?<=//)[^/@\s:]+:[^/@\s]+@")
_BEARER = re.compile(r"(?i)bearer\s+[A-Za-z0-9._~+/=-]+")


def redact(text, secrets=()):
    """Remove credentials from text shown to people: given secrets, bearer tokens, user:password@ in URLs."""
    text = _URL_USERINFO.sub("***@", text)
    text = _BEARER.sub("Bearer ***", text)
    for secret in secrets:
        if secret:
            text = text.replace(secret, "***")
    return text


# The statuses that are retried: throttled, unavailable, or timed out at a gateway (PnP Framework and the CLI for
# Microsoft 365 retry 429 and 503; Microsoft Graph's SDK design adds 504).
RETRY_AFTER_STATUSES = (429, 503, 504)


def parse_retry_after(value, now=None):
    """Seconds to wait from a Retry-After header (delta-seconds or an HTTP date); None if absent or unreadable."""
    if value is None:
        return None
    value = value.strip()
    try:
        return max(float(value), 0.0)
    except ValueError:
        pass
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError, IndexError):
        return None
    if when is None:
        return None
    now = time.time() if now is None else now
    return max(when.timestamp() - now, 0.0)


def request_id_of(response):
    for name in _REQUEST_ID_HEADERS:
        value = response.headers.get(name)
        if value:
            return value
    return None


def _message_value(message):
    if isinstance(message, dict):
        return message.get("value") or message.get("Value")
    return message


def _error_fields(body):
    """(code, message, request id) from the error documents of SharePoint, CSOM, Graph and Entra ID."""
    if isinstance(body, list) and body and isinstance(body[0], dict) and body[0].get("ErrorInfo"):
        info = body[0]["ErrorInfo"]
        code = info.get("ErrorTypeName")
        if info.get("ErrorCode") is not None and code:
            code = "%s, %s" % (info["ErrorCode"], code)
        return code, info.get("ErrorMessage"), info.get("TraceCorrelationId")
    if not isinstance(body, dict):
        return None, None, None
    if isinstance(body.get("odata.error"), dict):  # SharePoint nometadata / minimalmetadata
        error = body["odata.error"]
        return error.get("code"), _message_value(error.get("message")), None
    error = body.get("error")
    if isinstance(error, dict):  # SharePoint verbose, Graph
        inner = error.get("innerError") or error.get("innererror") or {}
        request_id = inner.get("request-id") or inner.get("client-request-id") if isinstance(inner, dict) else None
        return error.get("code"), _message_value(error.get("message")), request_id
    if isinstance(error, str) or body.get("error_description"):  # Entra ID (OAuth) and SharePoint's pre-REST 401s
        description = body.get("error_description") or error
        match = re.search(r"AADSTS\d+", description or "")
        code = match.group(0) if match else error
        return code, (description or "").splitlines()[0] if description else None, body.get("correlation_id") or body.get("trace_id")
    return None, None, None


def error_from_response(response, operation, secrets=()):
    """SpoError(status, service error code, message, request id, operation) from a failed response."""
    status = response.status_code
    text = ""
    try:
        text = response.content.decode("utf-8", "replace") if response.content else ""
    except Exception:  # the body of a streamed response may already be gone
        text = ""
    body = None
    if text.strip():
        try:
            body = json.loads(text)
        except ValueError:
            body = None
    code, message, body_request_id = _error_fields(body)
    if not message:
        plain = re.sub(r"<[^>]+>", " ", text) if "<" in text else text
        plain = " ".join(plain.split())
        message = plain[:ERROR_TEXT_LIMIT] if plain else (response.reason or "HTTP error %s" % status)
    if status == 401 and "unsupported app only token" in message.lower():
        message = "%s %s" % (message, auth.SECRET_FOR_SHAREPOINT_MESSAGE)
    elif status == 403:
        message = "%s (check the app registration's API permissions and admin consent)" % message
    return SpoError(redact(str(message), secrets), status=status, code=code,
                    request_id=request_id_of(response) or body_request_id, operation=operation)
