"""The webs (site collections and subsites) of a tenant's hosts, and Web.GetWebUrlFromPageUrl.

A host's webs are its root web, the sites named in the tenant spec ("sites": ["/sites/hr", "/teams/dev",
"/sites/hr/emea", "/projects/apollo"], on the root host), and every web a client has used through a REST URL
(the emulator makes a web's document library on first use). GetWebUrlFromPageUrl answers the deepest of them
that holds the URL, as SharePoint resolves a page URL to its web rather than guessing from the path.
"""

import json
import os
from urllib.parse import unquote, urlsplit

from .store import write_json_atomic

STATIC_TYPE_ID = "a489add2-5d3a-4de8-9445-49259462dceb"   # SP.Web, for CSOM <StaticMethod TypeId=...>


def _registry(tenant, host_kind):
    return os.path.join(tenant.site_dir(host_kind), "webs.json")


def _used(tenant, host_kind):
    try:
        with open(_registry(tenant, host_kind), encoding="utf-8") as handle:
            return json.load(handle)
    except (OSError, ValueError):
        return []


def known(tenant, host_kind):
    """The server-relative paths of a host's webs ("" is the root web)."""
    declared = list(tenant.to_json().get("sites") or []) if host_kind == "root" else []
    return [""] + declared + _used(tenant, host_kind)


def register(tenant, host_kind, web_path):
    """Remember a web a client used (idempotent)."""
    if not web_path or web_path.lower() in {path.lower() for path in known(tenant, host_kind)}:
        return
    with tenant.lock:
        used = _used(tenant, host_kind)
        if web_path.lower() not in {path.lower() for path in used}:
            write_json_atomic(_registry(tenant, host_kind), used + [web_path])


def _segments(path):
    return [part.lower() for part in path.split("/") if part]


def web_of(tenant, host_kind, server_relative_path):
    """The deepest known web whose path holds server_relative_path."""
    wanted = _segments(server_relative_path)
    best = ""
    for path in known(tenant, host_kind):
        parts = _segments(path)
        if wanted[:len(parts)] == parts and len(parts) > len(_segments(best)):
            best = path
    return best


def web_url_from_page_url(store, tenant, page_url):
    """The absolute URL of the web holding page_url; ValueError when the URL is not one of the tenant's."""
    parts = urlsplit(page_url if isinstance(page_url, str) else "")
    host = (parts.hostname or "").lower()
    if parts.scheme.lower() != "https" or store.tenant_by_host(host) is not tenant:
        raise ValueError(page_url)
    host_kind = store.host_kind(host)
    return "https://%s%s" % (host, web_of(tenant, host_kind, unquote(parts.path)))
