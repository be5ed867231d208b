# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

import pytest

from ansible_collections.spo.user_profiles.plugins.module_utils import import_location

TENANT = ["https://contoso.sharepoint.com", "https://contoso-my.sharepoint.com"]


@pytest.mark.parametrize("folder", ["Shared Documents/ProfileImport", "/Dokumente/Profil Import/", "Shared Documents/O'Neil Ünïcode",
                                    "Shared Documents/a (1)/b&c"])
def test_folders_the_source_uri_carries(folder):
    assert import_location.path_problem("folder", folder) is None


@pytest.mark.parametrize("folder, expected", [
    ("Shared Documents/A#B", "folder: 'Shared Documents/A#B' has '#' in 'A#B': the bulk API's sourceUri cannot carry it"),
    ("Shared Documents/100%", "has '%' in '100%'"),
    ("Shared Documents/a:b", "has ':' in 'a:b', which SharePoint does not allow in names"),
    ("Shared Documents//x", "has an empty name"),
    ("Shared Documents/x.", "has a name that ends with a dot ('x.')"),
    ("Shared Documents/ x", "has a name that starts or ends with a space (' x')"),
    ("", "folder: give a folder, starting with the library"),
])
def test_folders_refused_name_the_reason(folder, expected):
    found = import_location.path_problem("folder", folder)
    assert found.startswith(expected) if expected.startswith("folder:") else expected in found


@pytest.mark.parametrize("name, expected", [
    ("profiles", None), ("hr-import_2024.v2", None), ("Ünïcode 'x'", None),
    ("a/b", "name: 'a/b' is a file name prefix and cannot hold \"/\""),
    ("p#1", "name: 'p#1' has '#' in 'p#1'"),
    ("p|1", "name: 'p|1' has '|' in 'p|1', which SharePoint does not allow"),
])
def test_file_name_prefixes(name, expected):
    found = import_location.name_problem("name", name)
    assert found == expected if expected is None else found.startswith(expected)


@pytest.mark.parametrize("site, expected", [
    (None, None), ("/sites/hr", None), ("/", None), ("https://contoso.sharepoint.com/sites/hr/", None),
    ("https://CONTOSO-my.sharepoint.com/personal/x", None),
    ("https://fabrikam.sharepoint.com/sites/hr", "site: https://fabrikam.sharepoint.com/sites/hr is not in this tenant: its "
                                                 "sites are on contoso.sharepoint.com and contoso-my.sharepoint.com"),
    ("http://contoso.sharepoint.com/sites/hr", "site: 'http://contoso.sharepoint.com/sites/hr' is neither an https URL"),
    ("sites/hr", "site: 'sites/hr' is neither an https URL nor a server-relative path"),
    ("/sites/h#r", "site: '/sites/h#r' has '#'"),
    ("https://contoso.sharepoint.com/sites/hr?x=1", "site: 'https://contoso.sharepoint.com/sites/hr?x=1' has a query"),
])
def test_sites(site, expected):
    found = import_location.site_problem(site, TENANT)
    assert found == expected if expected is None else found.startswith(expected)


@pytest.mark.parametrize("uri", [
    "https://contoso.sharepoint.com/Shared Documents/ProfileImport/p-0123.json",
    "https://contoso.sharepoint.com/Shared%20Documents/ProfileImport/p-0123.json",
    "https://contoso.sharepoint.com/sites/hr/Dokumente/M%C3%BCller.json",
])
def test_source_uris_the_service_can_read(uri):
    assert import_location.source_uri_problem(uri, TENANT) is None


@pytest.mark.parametrize("uri, expected", [
    ("https://fabrikam.sharepoint.com/Shared Documents/p.json", "is not in this tenant (its files are on contoso.sharepoint.com"),
    ("http://contoso.sharepoint.com/Shared Documents/p.json", "is not an https URL of an import file"),
    ("Shared Documents/p.json", "is not an https URL of an import file"),
    ("https://contoso.sharepoint.com/Shared Documents/p#1.json", "holds a \"#\", which the service reads as the start"),
    ("https://contoso.sharepoint.com/Shared Documents/p.json?web=1", "has a query (?web=1)"),
    ("https://contoso.sharepoint.com/Shared Documents/", "names a folder, not an import file"),
    ("https://contoso.sharepoint.com/Shared Documents/100%25.json", "has '%' in '100%.json'"),
    ("https://contoso.sharepoint.com/Shared Documents/a:b/p.json", "has ':' in 'a:b'"),
])
def test_source_uris_refused_say_why(uri, expected):
    assert expected in import_location.source_uri_problem(uri, TENANT)


def test_folder_problems_name_the_site_and_the_folder_together():
    found = import_location.folder_problems({"site": "https://fabrikam.sharepoint.com", "folder": "Shared Documents/A#B"}, TENANT)
    assert found[0].startswith("site: https://fabrikam.sharepoint.com is not in this tenant")
    assert found[1].startswith("folder: 'Shared Documents/A#B' has '#'")
    assert import_location.folder_problems({"site": None, "folder": import_location.DEFAULT_FOLDER}, TENANT) == [None, None]
