# -*- coding: utf-8 -*-
# Copyright (c) spo.user_profiles contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

"""The web (site collection or subsite) that holds a URL, as SharePoint resolves it: Web.GetWebUrlFromPageUrl.

A client cannot tell it from the path: site collections live under /sites/, /teams/, /personal/ or custom managed
paths, and subsites nest. PnP PowerShell asks the server the same way before it reads a job's log folder.
"""

from __future__ import annotations

from urllib.parse import unquote, urlsplit

from ansible_collections.spo.user_profiles.plugins.module_utils.csom import CsomRequest, execute
from ansible_collections.spo.user_profiles.plugins.module_utils.errors import SpoError

# SP.Web, whose static GetWebUrlFromPageUrl(pageFullUrl) answers the URL of the web holding a page.
WEB_TYPE_ID = "{a489add2-5d3a-4de8-9445-49259462dceb}"


def web_url_of(client, url):
    """The absolute URL of the web that holds `url` (an absolute URL of a file or folder of the tenant)."""
    request = CsomRequest()
    action = request.static_method(WEB_TYPE_ID, "GetWebUrlFromPageUrl", [url])
    operation = "find the web of %s" % url
    web_url = execute(client, request, operation).get(action)
    if not isinstance(web_url, str) or not web_url.lower().startswith("https://"):
        raise SpoError("the service answered %r instead of the URL of a web" % (web_url,), operation=operation)
    return web_url.rstrip("/")


def web_and_path(client, url):
    """(web URL, decoded server-relative path) of an absolute URL, for the file API (files.py)."""
    return web_url_of(client, url), unquote(urlsplit(url.strip()).path).rstrip("/") or "/"
