# -*- coding: utf-8 -*-
# Copyright (c) spo.user_profiles contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

"""OData literal helpers for SharePoint REST URLs."""

from __future__ import annotations

from urllib.parse import quote

CLAIMS_PREFIX = "i:0#.f|membership|"

# encodeURIComponent's unreserved set (what SharePoint clients send), plus "/" so that
# server-relative paths inside a literal stay readable.
_PATH_SAFE = "/-_.!~*'()"
_QUERY_SAFE = "-_.!~*'()"


def _text(value):
    if isinstance(value, bytes):
        return value.decode("utf-8")
    return str(value)


def quote_literal(value):
    """An OData string literal for a URL path segment: 'value' with ' doubled and percent-encoded.

    >>> quote_literal("/Shared Documents/O'Neil.json")
    "'/Shared%20Documents/O''Neil.json'"
    """
    return "'" + quote(_text(value), safe=_PATH_SAFE).replace("'", "''") + "'"


def claims_account(upn):
    """The SharePoint claims account name of a user principal name (unchanged if already a claim)."""
    upn = _text(upn).strip()
    if upn.startswith("i:0") or upn.startswith("c:0"):
        return upn
    return CLAIMS_PREFIX + upn


def alias_param(value):
    """The value of a parameter alias in a query string (``?@v=...``): ' doubled, quoted, percent-encoded.

    Append it to the URL yourself (``url + "?@v=" + alias_param(x)``); passing it through
    ``params=`` would encode it a second time.
    """
    return "'" + quote(_text(value), safe=_QUERY_SAFE).replace("'", "''") + "'"
