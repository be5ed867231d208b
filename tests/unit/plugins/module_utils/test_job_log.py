# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

import codecs

import pytest

from ansible_collections.spo.user_profiles.plugins.module_utils import job_api, job_log
from ansible_collections.spo.user_profiles.tests.unit.plugins.module_utils import test_job_api
from ansible_collections.spo.user_profiles.tests.unit.plugins.module_utils.test_job_api import ROOT, SOURCE

LOG_INVALID_PROPERTY = "InvalidProperty - vesaj@contoso.com Property 'AboutMe' is not mapped to any property in the user profile application."
LOG_MISSING_IDENTITY = "MissingIdentity - The identity is missing for the user object"
LOG_NOT_RESOLVABLE = "IdentityNotResolvable unknown@contoso.com User identity cannot be resolved"
LOG_NOT_JSON = "DataFileNotJson - JsonToken EndObject is not valid for closing JsonType Array. Path 'value', line 8, position 10."


# The job_api tests' scripted tenant, as a fixture of these tests too.
tenant = test_job_api.tenant


# --- logs -----------------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("line, expected", [
    (LOG_INVALID_PROPERTY, ("vesaj@contoso.com", "InvalidProperty",
                            "Property 'AboutMe' is not mapped to any property in the user profile application.")),
    (LOG_MISSING_IDENTITY, (None, "MissingIdentity", "The identity is missing for the user object")),
    (LOG_NOT_RESOLVABLE, ("unknown@contoso.com", "IdentityNotResolvable", "User identity cannot be resolved")),
    (LOG_NOT_JSON, (None, "DataFileNotJson",
                    "JsonToken EndObject is not valid for closing JsonType Array. Path 'value', line 8, position 10.")),
    # variants: tabs, timestamps, levels, a colon, GUID identities
    ("IdentityNotResolvable\tunknown@contoso.com\tUser identity cannot be resolved",
     ("unknown@contoso.com", "IdentityNotResolvable", "User identity cannot be resolved")),
    ("MissingIdentity\t\tThe identity is missing for the user object",
     (None, "MissingIdentity", "The identity is missing for the user object")),
    ("2026-03-01T06:02:11.123Z IdentityNotResolvable - Ärne.Øresund@contoso.com User identity cannot be resolved",
     ("Ärne.Øresund@contoso.com", "IdentityNotResolvable", "User identity cannot be resolved")),
    ("[3/1/2026 6:02:11 AM] Error: InvalidProperty: vesaj@contoso.com Property 'AboutMe' is not mapped",
     ("vesaj@contoso.com", "InvalidProperty", "Property 'AboutMe' is not mapped")),
    ("2026-03-01 06:02:11\tIdentityNotResolvable\t8a1d6c2e-32b1-4c4f-9b55-3e1c8f0d2a11\tUser identity cannot be resolved",
     ("8a1d6c2e-32b1-4c4f-9b55-3e1c8f0d2a11", "IdentityNotResolvable", "User identity cannot be resolved")),
    ("IdentityNotResolvable - User identity 'lost@contoso.com' cannot be resolved",
     ("lost@contoso.com", "IdentityNotResolvable", "User identity 'lost@contoso.com' cannot be resolved")),
    ("SomeNewCode - x@contoso.com Something new", ("x@contoso.com", "SomeNewCode", "Something new")),
])
def test_parse_log_line(line, expected):
    entry, = job_log.parse_log_text(line + "\r\n")
    assert (entry["identity"], entry["code"], entry["message"]) == expected


@pytest.mark.parametrize("line", ["Import finished.", "   at Microsoft.Office.Server.UserProfiles.Import()",
                                  "The identity is missing", "2026-03-01 06:02:11 processing 12 records"])
def test_unrecognised_lines_are_kept_whole_as_unknown(line):
    entry, = job_log.parse_log_text(line)
    assert entry == {"identity": None, "code": "Unknown", "message": line.strip()}


def test_parse_log_text_skips_blank_lines_and_summarises():
    text = "\n".join([LOG_NOT_RESOLVABLE, "", LOG_MISSING_IDENTITY, LOG_NOT_RESOLVABLE.replace("unknown", "Unknown"),
                      "IdentityNotResolvable gone@contoso.com User identity cannot be resolved", "odd line"])
    entries = job_log.parse_log_text(text)
    summary = job_log.summarize_log(entries)
    assert len(entries) == 5
    assert summary["failed_identities"] == ["unknown@contoso.com", "gone@contoso.com"]
    assert summary["counts"] == {"IdentityNotResolvable": 3, "MissingIdentity": 1, "Unknown": 1}
    assert summary["failed_count"] == 3


@pytest.mark.parametrize("data", [
    codecs.BOM_UTF8 + "Müller – 東京".encode("utf-8"),
    "Müller – 東京".encode("utf-8"),
    codecs.BOM_UTF16_LE + "Müller – 東京".encode("utf-16-le"),
])
def test_decode_log(data):
    assert job_log.decode_log(data) == "Müller – 東京"


def test_decode_log_falls_back_to_latin1():
    assert job_log.decode_log("Müller".encode("iso-8859-1")) == "Müller"


def test_with_log_reads_every_file_of_the_folder(tenant):
    job = job_api.normalize_job({"JobId": "5f4e7a2c-1111-2222-3333-444455556666", "State": 4, "Error": 30,
                                 "SourceUri": SOURCE, "LogFolderUri": ROOT + "/Shared%20Documents/ProfileImport/5f4e7a2c"})
    tenant.log_files["/Shared Documents/ProfileImport/5f4e7a2c"] = {
        "b.log": (LOG_MISSING_IDENTITY + "\n").encode(),
        "a.log": codecs.BOM_UTF8 + (LOG_NOT_RESOLVABLE + "\r\n").encode(),
    }
    result = job_log.with_log(tenant, job, max_entries=1)
    assert result["log_files"] == ["/Shared Documents/ProfileImport/5f4e7a2c/a.log", "/Shared Documents/ProfileImport/5f4e7a2c/b.log"]
    assert [entry["code"] for entry in result["log_entries"]] == ["IdentityNotResolvable"]
    assert result["log_entries_truncated"] is True
    assert result["counts"] == {"IdentityNotResolvable": 1, "MissingIdentity": 1}
    assert result["failed_count"] == 2
    assert all(url.startswith(ROOT + "/_api/web/") for method, url in tenant.rest_calls if method == "GET")
    assert tenant.web_lookups == [job["log_folder_uri"]]


def test_read_log_entries_gives_the_files_and_their_entries_in_order(tenant):
    job = job_api.normalize_job({"JobId": "5f4e7a2c-1111-2222-3333-444455556666", "State": 4, "Error": 30,
                                 "SourceUri": SOURCE, "LogFolderUri": ROOT + "/Shared%20Documents/ProfileImport/5f4e7a2c"})
    tenant.log_files["/Shared Documents/ProfileImport/5f4e7a2c"] = {
        "b.log": (LOG_MISSING_IDENTITY + "\n").encode(), "a.log": (LOG_NOT_RESOLVABLE + "\n").encode()}
    logs, entries = job_log.read_log_entries(tenant, job)
    assert [log["server_relative_url"].rsplit("/", 1)[1] for log in logs] == ["a.log", "b.log"]
    assert [entry["code"] for entry in entries] == ["IdentityNotResolvable", "MissingIdentity"]
    assert job_log.read_log_entries(tenant, dict(job, log_folder_uri=None)) == ([], [])


@pytest.mark.parametrize("web", ["/sites/hr/emea", "/projects/apollo", "/personal/anna_contoso_com", ""])
def test_the_web_of_a_log_folder_is_asked_of_the_server_not_guessed_from_the_path(tenant, web):
    """A subsite, a custom managed path, a OneDrive or the root web: the server says which web holds the folder."""
    folder = web + "/Shared Documents/ProfileImport/5f4e7a2c"
    tenant.log_files[folder] = {"a.log": (LOG_NOT_RESOLVABLE + "\n").encode()}
    job = job_api.normalize_job({"JobId": "5f4e7a2c-1111-2222-3333-444455556666", "State": 4, "Error": 30,
                                 "SourceUri": SOURCE, "LogFolderUri": ROOT + folder.replace(" ", "%20")})
    result = job_log.with_log(tenant, job)
    assert result["failed_identities"] == ["unknown@contoso.com"]
    reads = [url for method, url in tenant.rest_calls if method == "GET"]
    assert reads and all(url.startswith(ROOT + web + "/_api/web/") for url in reads)


def test_with_log_of_a_missing_folder_has_no_entries(tenant):
    job = job_api.normalize_job({"JobId": "5f4e7a2c-1111-2222-3333-444455556666", "State": 5, "Error": 1,
                                 "LogFolderUri": ROOT + "/Shared Documents/none"})
    result = job_log.with_log(tenant, job)
    assert result["log_entries"] == [] and result["failed_count"] is None
    no_folder = job_log.with_log(tenant, dict(job, log_folder_uri=None))
    assert no_folder["log_files"] == []


@pytest.mark.parametrize("name, expected", [
    # Microsoft's form: the job id
    ("5f4e7a2c-9d1b-4c3e-8a7f-6b5d4c3e2f1a", (None, "5f4e7a2c-9d1b-4c3e-8a7f-6b5d4c3e2f1a")),
    ("5F4E7A2C-9D1B-4C3E-8A7F-6B5D4C3E2F1A", (None, "5f4e7a2c-9d1b-4c3e-8a7f-6b5d4c3e2f1a")),
    # PnP's form: the file's name first
    ("hr-0123456789abcdef_5f4e7a2c-9d1b-4c3e-8a7f-6b5d4c3e2f1a", ("hr-0123456789abcdef", "5f4e7a2c-9d1b-4c3e-8a7f-6b5d4c3e2f1a")),
    ("hr-0123456789abcdef.json_5f4e7a2c-9d1b-4c3e-8a7f-6b5d4c3e2f1a",
     ("hr-0123456789abcdef.json", "5f4e7a2c-9d1b-4c3e-8a7f-6b5d4c3e2f1a")),
    ("hr-0123456789abcdef-part2 5F4E7A2C-9D1B-4C3E-8A7F-6B5D4C3E2F1A",
     ("hr-0123456789abcdef-part2", "5f4e7a2c-9d1b-4c3e-8a7f-6b5d4c3e2f1a")),
    ("{5f4e7a2c-9d1b-4c3e-8a7f-6b5d4c3e2f1a}", None),
    ("5f4e7a2c-9d1b-4c3e-8a7f-6b5d4c3e2f1a_old", None),
    ("profiles-5f4e7a2c", None),
    ("keep", None),
    (None, None),
])
def test_log_folders_are_named_after_the_job_id_with_or_without_the_file_name_first(name, expected):
    assert job_log.log_folder_name(name) == expected
