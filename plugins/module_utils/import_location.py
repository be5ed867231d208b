# -*- coding: utf-8 -*-
# Copyright (c) spo.user_profiles contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

"""Where an import file may live, checked before anything is sent: a site of the tenant, folder and file names the
bulk API's sourceUri carries without doubt, and a source_uri given to queue a job.

The sourceUri is sent as production clients send it, the decoded path after the host (PnP PowerShell: scheme, host
and ServerRelativeUrl; Microsoft's sample: the same, percent-encoded). Both forms work, so the service decodes the
URI once. A "#" in the decoded path starts a fragment (the job then looks for a file that does not exist, and ends in
DataFileNotExist), and whether a "%" is meant literally or as an escape cannot be told, so names with either are
refused (docs/protocol_notes.md, "The source URI of an import job").
"""

from __future__ import annotations

from urllib.parse import unquote, urlsplit

# Characters SharePoint Online refuses in file and folder names, and the two a sourceUri cannot carry reliably.
_REFUSED_BY_SHAREPOINT = '"*:<>?\\|'
_UNSAFE_IN_SOURCE_URI = "#%"

DEFAULT_FOLDER = "Shared Documents/ProfileImport"
# The options that say where the import files live, for every module that writes, records or removes them (documented
# by the import_folder doc fragment: keep both in step).
FOLDER_OPTIONS = dict(
    site=dict(type="str"),
    folder=dict(type="str", default=DEFAULT_FOLDER),
)


def _segment_problem(segment):
    if not segment.strip():
        return "an empty name"
    if segment != segment.strip():
        return "a name that starts or ends with a space (%r)" % segment
    if segment in (".", "..") or segment.endswith("."):
        return "a name that ends with a dot (%r)" % segment
    unsafe = sorted(set(char for char in segment if char in _UNSAFE_IN_SOURCE_URI))
    if unsafe:
        return ("%s in %r: the bulk API's sourceUri cannot carry it reliably (\"#\" starts a fragment, \"%%\" an escape)"
                % (" and ".join(repr(char) for char in unsafe), segment))
    refused = sorted(set(char for char in segment if char in _REFUSED_BY_SHAREPOINT or ord(char) < 32))
    if refused:
        return "%s in %r, which SharePoint does not allow in names" % (", ".join(repr(char) for char in refused), segment)
    return None


def path_problem(option, value):
    """Why a folder path (names separated by "/") cannot hold import files, as "<option>: <why>", or None."""
    if not isinstance(value, str) or not value.strip("/"):
        return "%s: give a folder, starting with the library (for example Shared Documents/ProfileImport)" % option
    for segment in value.strip("/").split("/"):
        reason = _segment_problem(segment)
        if reason:
            return "%s: %r has %s" % (option, value, reason)
    return None


def name_problem(option, value):
    """Why a file name (or a prefix of one) cannot name import files, as "<option>: <why>", or None."""
    if isinstance(value, str) and "/" in value:
        return "%s: %r is a file name prefix and cannot hold \"/\" (put folders in the folder option)" % (option, value)
    reason = _segment_problem(value) if isinstance(value, str) else "no name"
    return "%s: %r has %s" % (option, value, reason) if reason else None


def _tenant_hosts(tenant_urls):
    return [urlsplit(url).hostname for url in tenant_urls]


def site_problem(site, tenant_urls):
    """Why the site option does not name a site of this tenant, or None. `tenant_urls`: the tenant's SharePoint URLs
    (root first, then the My Site host)."""
    if site is None or site.startswith("/"):
        return path_problem("site", site) if site and site.strip("/") else None
    parts = urlsplit(site)
    if parts.scheme.lower() != "https" or not parts.hostname:
        return "site: %r is neither an https URL nor a server-relative path such as /sites/hr" % site
    if parts.hostname.lower() not in _tenant_hosts(tenant_urls):
        return ("site: %s is not in this tenant: its sites are on %s (the bulk API imports only files of the tenant whose "
                "profiles it changes)" % (site, " and ".join(_tenant_hosts(tenant_urls))))
    if parts.query or parts.fragment:
        return "site: %r has a query or a fragment; give the site's URL alone" % site
    return path_problem("site", parts.path) if parts.path.strip("/") else None


def folder_problems(params, tenant_urls):
    """Why the site and folder options cannot hold import files (None entries stand for fine options)."""
    return [site_problem(params["site"], tenant_urls), path_problem("folder", params["folder"])]


def source_uri_problem(source_uri, tenant_urls):
    """Why a source_uri cannot be given to the bulk API (a job queued on it could only fail), or None."""
    parts = urlsplit(source_uri.strip()) if isinstance(source_uri, str) else None
    if parts is None or parts.scheme.lower() != "https" or not parts.hostname:
        return "source_uri: %r is not an https URL of an import file" % (source_uri,)
    if parts.hostname.lower() not in _tenant_hosts(tenant_urls):
        return ("source_uri: %s is not in this tenant (its files are on %s): the job would end in Error with "
                "DataFileNotInTenant" % (source_uri, " and ".join(_tenant_hosts(tenant_urls))))
    if parts.fragment or "#" in source_uri:
        return ("source_uri: %s holds a \"#\", which the service reads as the start of a fragment: the job would look for "
                "another file; rename the file or folder" % source_uri)
    if parts.query:
        return "source_uri: %s has a query (?%s); give the file's URL alone" % (source_uri, parts.query)
    path = unquote(parts.path)
    folder, _sep, name = path.rstrip("/").rpartition("/")
    if not name or path.endswith("/"):
        return "source_uri: %s names a folder, not an import file" % source_uri
    reason = path_problem("source_uri", folder) if folder.strip("/") else None
    if reason is None:
        reason = name_problem("source_uri", name)
    return reason
