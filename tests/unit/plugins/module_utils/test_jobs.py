# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

import codecs
import datetime
import json
import re
import uuid
import xml.etree.ElementTree as ET
from urllib.parse import unquote

import pytest

from ansible_collections.spo.user_profiles.plugins.module_utils import csom, jobs
from ansible_collections.spo.user_profiles.plugins.module_utils.errors import SpoError

NS = "{%s}" % csom.CSOM_NAMESPACE
ADMIN = "https://contoso-admin.sharepoint.com"
ROOT = "https://contoso.sharepoint.com"
SOURCE = ROOT + "/Shared Documents/ProfileImport/profiles-3f2a.json"
OTHER_SOURCE = ROOT + "/Shared Documents/ProfileImport/profiles-77aa.json"
JOB_INFO_TYPE = "Microsoft.Online.SharePoint.TenantManagement.ImportProfilePropertiesJobInfo"
HEADER = {"SchemaVersion": "15.0.0.0", "LibraryVersion": "16.0.24817.12008", "ErrorInfo": None,
          "TraceCorrelationId": "ab1127a1-5044-8000-b17c-4aafdd265386"}

LOG_INVALID_PROPERTY = "InvalidProperty - vesaj@contoso.com Property 'AboutMe' is not mapped to any property in the user profile application."
LOG_MISSING_IDENTITY = "MissingIdentity - The identity is missing for the user object"
LOG_NOT_RESOLVABLE = "IdentityNotResolvable unknown@contoso.com User identity cannot be resolved"
LOG_NOT_JSON = "DataFileNotJson - JsonToken EndObject is not valid for closing JsonType Array. Path 'value', line 8, position 10."


class FakeResponse:
    def __init__(self, status, content):
        self.status_code = status
        self.content = content

    def json(self):
        return json.loads(self.content)


def _parameters(element):
    values = []
    container = element.find(NS + "Parameters")
    for param in [] if container is None else container:
        kind = param.get("Type")
        if kind == "Dictionary":
            values.append(("Dictionary", dict((prop.get("Name"), prop.text or "") for prop in param)))
        elif kind == "Null":
            values.append(("Null", None))
        else:
            values.append((kind, param.text or ""))
    return values


def _guid(value):
    return "/Guid(%s)/" % value


class FakeTenant:
    """Office365Tenant over CSOM plus the log folders over REST, the way the service answers (spo_protocol.md §1-§3).

    Each job has a script of (state, error) pairs; each GetImportProfilePropertyJob read moves it one step on.
    """

    def __init__(self):
        self.jobs = []              # newest first, as the service lists them
        self.scripts = {}
        self.requests = []          # parsed CSOM requests
        self.queue_answers = []     # job ids to answer QueueImportProfileProperties with (default: a new job)
        self.queue_error = None     # a CSOM ErrorInfo answered to the next request calling error_on
        self.error_on = "QueueImportProfileProperties"
        self.get_failures = []      # SpoErrors raised by the next GetImportProfilePropertyJob calls
        self.log_files = {}         # server-relative folder -> {name: bytes}
        self.rest_calls = []
        self.on_queue = None
        self.queue_calls = 0
        self.queue_lost_answers = []  # per queue call, True/False: it fails after queueing / without queueing

    def add_job(self, source=SOURCE, state=1, error=0, script=(), job_id=None, log_folder=None, message=None):
        job_id = job_id or str(uuid.uuid4())
        self.jobs.insert(0, {"_ObjectType_": JOB_INFO_TYPE, "JobId": _guid(job_id), "SourceUri": source, "State": state,
                             "Error": error, "ErrorMessage": message, "LogFolderUri": log_folder})
        self.scripts[job_id] = list(script)
        return job_id

    def job(self, job_id):
        for raw in self.jobs:
            if raw["JobId"] == _guid(job_id):
                return raw
        return None

    # transport

    def request(self, method, url, operation, headers=None, params=None, data=None, json=None, stream=False,
                allow_status=(), timeout=None, idempotent=True):
        if url == ADMIN + "/_vti_bin/client.svc/ProcessQuery":
            assert method == "POST" and headers["Content-Type"] == "text/xml"
            body = data.decode("utf-8")
            queueing = "QueueImportProfileProperties" in body
            assert idempotent is not queueing, "only the queue call must not be retried"
            self.queue_calls += queueing
            if queueing and self.queue_lost_answers:
                # The service answered 500 or the connection broke: the job may or may not have been queued.
                queued = self.queue_lost_answers.pop(0)
                if queued:
                    self._process_query(body)
                raise SpoError("HTTP 500", status=500, operation=operation, may_have_run=True)
            return FakeResponse(200, self._process_query(body))
        return self._rest(method, url, allow_status)

    def sp(self, method, url, operation, **kw):
        response = self.request(method, url, operation, **kw)
        return response.json() if response.content else None

    @property
    def admin_url(self):
        return ADMIN

    @property
    def root_url(self):
        return ROOT

    def _rest(self, method, url, allow_status):
        self.rest_calls.append((method, url))
        literal = unquote(re.search(r"DecodedUrl='((?:[^']|'')*)'", url).group(1)).replace("''", "'")
        if url.endswith(")/Files"):
            folder = self.log_files.get(literal)
            if folder is None:
                return FakeResponse(404, b"")
            items = [{"Name": name, "ServerRelativeUrl": literal + "/" + name, "Length": str(len(body))}
                     for name, body in folder.items()]
            return FakeResponse(200, json.dumps({"value": items}).encode())
        if url.endswith(")/$value"):
            folder, name = literal.rsplit("/", 1)
            return FakeResponse(200, self.log_files[folder][name])
        raise AssertionError("unexpected REST call %s %s" % (method, url))

    def _process_query(self, body):
        root = ET.fromstring(body)
        assert root.tag == NS + "Request"
        paths = {}
        for element in root.find(NS + "ObjectPaths"):
            paths[element.get("Id")] = element
        actions = list(root.find(NS + "Actions"))
        self.requests.append({"root": root, "paths": paths, "actions": actions})
        names = [element.get("Name") for element in actions + list(paths.values())]
        if self.queue_error and self.error_on in names:
            header = dict(HEADER, ErrorInfo=self.queue_error)
            self.queue_error = None
            return json.dumps([header]).encode()
        answer = [HEADER]
        for action in actions:
            answer.extend([int(action.get("Id")), self._answer(action, paths)])
        return json.dumps(answer).encode()

    def _answer(self, action, paths):
        path = paths[action.get("ObjectPathId")]
        if action.tag == NS + "ObjectPath":
            if path.tag == NS + "Method" and path.get("Name") == "GetImportProfilePropertyJob":
                return {"IsNull": self.job(_parameters(path)[0][1].strip("{}")) is None}
            return {"IsNull": False}
        if action.tag == NS + "Method":
            name = action.get("Name")
            params = _parameters(action)
            if name == "QueueImportProfileProperties":
                if self.on_queue:
                    self.on_queue(self, params)
                if self.queue_answers:
                    return _guid(self.queue_answers.pop(0))
                return _guid(self.add_job(source=params[3][1]))
            if name == "DeleteImportProfilePropertiesJob":
                raw = self.job(params[0][1].strip("{}"))
                if raw is not None:
                    self.jobs.remove(raw)
                return raw is not None
        if action.tag == NS + "Query":
            name = path.get("Name")
            if name == "GetImportProfilePropertyJob":
                if self.get_failures:
                    raise self.get_failures.pop(0)
                job_id = _parameters(path)[0][1].strip("{}")
                raw = self.job(job_id)
                if raw is None:
                    return None
                if self.scripts.get(job_id):
                    raw["State"], raw["Error"] = self.scripts[job_id].pop(0)
                return raw
            if name == "GetImportProfilePropertyJobs":
                assert action.find(NS + "ChildItemQuery") is not None
                return {"_ObjectType_": "Microsoft.Online.SharePoint.TenantManagement.ImportProfilePropertiesJobStatusCollection",
                        "_Child_Items_": list(self.jobs)}
        raise AssertionError("unexpected action %s" % ET.tostring(action))

    def methods(self):
        """Names of the Office365Tenant methods called, in order."""
        names = []
        for request in self.requests:
            for action in request["actions"]:
                if action.tag == NS + "Method":
                    names.append(action.get("Name"))
            for path in request["paths"].values():
                if path.tag == NS + "Method":
                    names.append(path.get("Name"))
        return names


class FakeTime:
    def __init__(self):
        self.monotonic = 1000.0
        self.sleeps = []

    def clock(self):
        return self.monotonic

    def sleep(self, seconds):
        assert seconds > 0
        self.sleeps.append(seconds)
        self.monotonic += seconds

    def now(self):
        return datetime.datetime(2026, 3, 1, 6, 0, tzinfo=datetime.timezone.utc) + datetime.timedelta(seconds=self.monotonic - 1000.0)


@pytest.fixture
def tenant():
    return FakeTenant()


@pytest.fixture
def fake_time():
    return FakeTime()


# --- the CSOM requests, compared with spo_protocol.md -------------------------------------------------------------


@pytest.mark.parametrize("id_type, code", [("email", 0), ("cloud_id", 1), ("principal_name", 2), ("CloudId", 1), (2, 2)])
def test_queue_job_sends_the_documented_csom_form(tenant, id_type, code):
    job_id = jobs.queue_job(tenant, id_type, "IdName", {"City": "City", "Office": "OfficeCode"}, SOURCE)

    request = tenant.requests[-1]
    constructor, = request["paths"].values()
    assert constructor.tag == NS + "Constructor"
    assert constructor.get("TypeId") == "{e45fd516-a408-4ca4-b6dc-268e2f1f0f83}"
    object_path, method = request["actions"]
    assert object_path.tag == NS + "ObjectPath" and object_path.get("ObjectPathId") == constructor.get("Id")
    assert method.tag == NS + "Method" and method.get("Name") == "QueueImportProfileProperties"
    assert method.get("ObjectPathId") == constructor.get("Id")
    assert _parameters(method) == [("Enum", str(code)), ("String", "IdName"),
                                   ("Dictionary", {"City": "City", "Office": "OfficeCode"}), ("String", SOURCE)]
    assert tenant.job(job_id)["SourceUri"] == SOURCE


def test_queue_job_rejects_an_unknown_id_type(tenant):
    with pytest.raises(SpoError, match="id_type"):
        jobs.queue_job(tenant, "upn", "IdName", {}, SOURCE)
    assert tenant.requests == []


def test_queue_job_surfaces_the_validation_error_naming_the_property(tenant):
    tenant.queue_error = {"ErrorMessage": "Property Names [AboutMe] are editable by user.", "ErrorValue": None,
                          "TraceCorrelationId": "731127a1", "ErrorCode": -2146232832,
                          "ErrorTypeName": "Microsoft.SharePoint.SPException"}
    with pytest.raises(SpoError) as info:
        jobs.queue_job(tenant, "email", "IdName", {"AboutMe": "AboutMe"}, SOURCE)
    assert "Property Names [AboutMe] are editable by user." in str(info.value)
    assert info.value.request_id == "731127a1"


def test_queue_job_returns_the_empty_guid_as_is(tenant):
    tenant.queue_answers.append(jobs.EMPTY_GUID)
    assert jobs.queue_job(tenant, "email", "IdName", {"City": "City"}, SOURCE) == jobs.EMPTY_GUID


def test_get_job_sends_the_documented_csom_form(tenant):
    job_id = tenant.add_job(state=2)
    job = jobs.get_job(tenant, job_id.upper())

    request = tenant.requests[-1]
    paths = request["paths"]
    constructor = next(path for path in paths.values() if path.tag == NS + "Constructor")
    method = next(path for path in paths.values() if path.tag == NS + "Method")
    assert constructor.get("TypeId") == csom.OFFICE365_TENANT_TYPE_ID
    assert method.get("Name") == "GetImportProfilePropertyJob" and method.get("ParentId") == constructor.get("Id")
    assert _parameters(method) == [("Guid", "{%s}" % job_id)]
    object_path, query = request["actions"]
    assert object_path.tag == NS + "ObjectPath" and object_path.get("ObjectPathId") == method.get("Id")
    assert query.tag == NS + "Query" and query.get("ObjectPathId") == method.get("Id")
    assert query.find(NS + "Query").get("SelectAllProperties") == "true"
    assert query.find(NS + "ChildItemQuery") is None
    assert job["job_id"] == job_id and job["state"] == "Processing"


def test_get_job_of_an_unknown_id_is_none(tenant):
    assert jobs.get_job(tenant, str(uuid.uuid4())) is None


def test_get_job_of_a_job_the_service_says_does_not_exist_is_none(tenant):
    tenant.queue_error = {"ErrorMessage": "The import job 5f4e7a2c-1111-2222-3333-444455556666 does not exist.",
                          "ErrorCode": -2146232832, "ErrorTypeName": "Microsoft.SharePoint.SPException"}
    tenant.error_on = "GetImportProfilePropertyJob"
    assert jobs.get_job(tenant, "5f4e7a2c-1111-2222-3333-444455556666") is None


def test_get_job_raises_other_service_errors(tenant):
    tenant.queue_error = {"ErrorMessage": "Access denied.", "ErrorCode": -2147024891,
                          "ErrorTypeName": "System.UnauthorizedAccessException"}
    tenant.error_on = "GetImportProfilePropertyJob"
    with pytest.raises(SpoError, match="Access denied"):
        jobs.get_job(tenant, "5f4e7a2c-1111-2222-3333-444455556666")


def test_get_job_refuses_an_id_that_is_not_a_guid(tenant):
    with pytest.raises(SpoError, match="not a GUID"):
        jobs.get_job(tenant, "job-1")
    assert tenant.requests == []


@pytest.mark.parametrize("code, name", sorted(jobs.JOB_STATES.items()))
def test_every_state_is_named(code, name):
    job = jobs.normalize_job({"JobId": "5f4e7a2c-1111-2222-3333-444455556666", "State": code, "Error": 0})
    assert (job["state"], job["state_code"]) == (name, code)


@pytest.mark.parametrize("code, name", sorted(jobs.JOB_ERRORS.items()))
def test_every_error_is_named_and_explained(code, name):
    job = jobs.normalize_job({"JobId": "5f4e7a2c-1111-2222-3333-444455556666", "State": 5, "Error": code,
                              "ErrorMessage": "", "LogFolderUri": ""})
    assert (job["error"], job["error_code"]) == (name, code)
    assert job["error_meaning"] == jobs.ERROR_MEANINGS[name]
    assert job["error_message"] is None and job["log_folder_uri"] is None


def test_normalize_job_accepts_names_and_unknown_numbers():
    job = jobs.normalize_job({"JobId": "{5F4E7A2C-1111-2222-3333-444455556666}", "State": "Succeeded", "Error": 31})
    assert job["job_id"] == "5f4e7a2c-1111-2222-3333-444455556666"
    assert (job["state"], job["state_code"]) == ("Succeeded", 4)
    assert (job["error"], job["error_code"]) == ("Unknown31", 31)


def test_list_jobs_sends_a_child_item_query_and_reads_the_child_items(tenant):
    first = tenant.add_job(source=SOURCE, state=4)
    second = tenant.add_job(source=OTHER_SOURCE, state=5, error=23, message="bad file")

    listed = jobs.list_jobs(tenant)

    request = tenant.requests[-1]
    method = next(path for path in request["paths"].values() if path.tag == NS + "Method")
    assert method.get("Name") == "GetImportProfilePropertyJobs" and _parameters(method) == []
    query = request["actions"][-1]
    assert query.find(NS + "ChildItemQuery").get("SelectAllProperties") == "true"
    assert [job["job_id"] for job in listed] == [second, first]
    assert listed[0]["error"] == "InvalidDataFile" and listed[0]["error_message"] == "bad file"
    assert listed[1]["source_uri"] == SOURCE


def test_delete_job_calls_the_method_with_the_guid(tenant):
    job_id = tenant.add_job()
    assert jobs.delete_job(tenant, job_id) is True
    method = tenant.requests[-1]["actions"][-1]
    assert method.get("Name") == "DeleteImportProfilePropertiesJob"
    assert _parameters(method) == [("Guid", "{%s}" % job_id)]
    assert tenant.job(job_id) is None
    assert jobs.delete_job(tenant, job_id) is False


# --- finding jobs ---------------------------------------------------------------------------------------------------


def test_same_source_ignores_case_and_percent_encoding():
    assert jobs.same_source(SOURCE, SOURCE.replace(" ", "%20").replace("contoso", "CONTOSO"))
    assert not jobs.same_source(SOURCE, OTHER_SOURCE)
    assert not jobs.same_source(SOURCE, None)


def test_find_job_by_source_returns_the_newest_matching_job(tenant):
    tenant.add_job(source=SOURCE, state=4)
    errored = tenant.add_job(source=SOURCE, state=5, error=1)
    tenant.add_job(source=OTHER_SOURCE, state=4)
    assert jobs.find_job_by_source(tenant, SOURCE)["job_id"] == errored
    assert jobs.find_job_by_source(tenant, SOURCE, skip_states=("Error",))["state"] == "Succeeded"
    assert jobs.find_job_by_source(tenant, ROOT + "/Shared Documents/none.json") is None


def test_resolve_empty_job_id_waits_for_a_new_job_to_appear(tenant, fake_time):
    old = tenant.add_job(source=SOURCE, state=4)
    calls = []

    def appear_late(*args, **kwargs):
        calls.append(1)
        if len(calls) == 3:
            tenant.add_job(source=SOURCE, state=1, job_id="11111111-2222-3333-4444-555555555555")
        return original(*args, **kwargs)

    original = jobs.list_jobs
    jobs.list_jobs = appear_late
    try:
        job = jobs.resolve_empty_job_id(tenant, SOURCE, {old}, poll_interval=2, sleep=fake_time.sleep)
    finally:
        jobs.list_jobs = original
    assert job["job_id"] == "11111111-2222-3333-4444-555555555555"
    assert fake_time.sleeps == [2, 3.0]


def test_resolve_empty_job_id_gives_up_with_advice(tenant, fake_time):
    old = tenant.add_job(source=SOURCE, state=4)
    with pytest.raises(SpoError) as info:
        jobs.resolve_empty_job_id(tenant, SOURCE, {old}, poll_interval=1, sleep=fake_time.sleep, attempts=3)
    assert "Guid.Empty" in str(info.value) and SOURCE in str(info.value)
    assert len(fake_time.sleeps) == 2


# --- waiting --------------------------------------------------------------------------------------------------------


def test_wait_for_job_polls_with_a_growing_capped_interval(tenant, fake_time):
    job_id = tenant.add_job(script=[(1, 0)] * 6 + [(2, 0), (4, 0)])
    seen = []
    job = jobs.wait_for_job(tenant, job_id, timeout=3600, poll_interval=10, max_interval=40, clock=fake_time.clock,
                            sleep=fake_time.sleep, now=fake_time.now, progress=lambda job, waited: seen.append((job["state"], waited)))
    assert fake_time.sleeps == [10, 15, 22.5, 33.75, 40, 40, 40]
    assert job["state"] == "Succeeded"
    assert [entry["state"] for entry in job["history"]] == ["Submitted", "Processing", "Succeeded"]
    assert job["finished_at"] == "2026-03-01T06:03:21.250000Z"
    assert job["elapsed_seconds"] == 201.2
    assert seen[-1] == ("Succeeded", 201.25) and len(seen) == 8


def test_wait_for_job_times_out_with_job_id_state_and_waited_seconds(tenant, fake_time):
    job_id = tenant.add_job(state=3, script=[(3, 0)] * 50)
    with pytest.raises(jobs.JobTimeoutError) as info:
        jobs.wait_for_job(tenant, job_id, timeout=60, poll_interval=15, clock=fake_time.clock, sleep=fake_time.sleep,
                          now=fake_time.now)
    err = info.value
    assert job_id in str(err) and "still Queued" in str(err) and "after waiting 60" in str(err)
    assert err.job["state"] == "Queued" and err.waited_seconds == 60
    assert sum(fake_time.sleeps) == 60 and fake_time.sleeps[-1] == pytest.approx(60 - 15 - 22.5)


def test_wait_for_job_rides_out_throttled_polls(tenant, fake_time):
    job_id = tenant.add_job(script=[(2, 0), (4, 0)])
    tenant.get_failures = [SpoError("Too Many Requests", status=429), SpoError("Server Too Busy", status=503)]
    job = jobs.wait_for_job(tenant, job_id, timeout=600, poll_interval=5, clock=fake_time.clock, sleep=fake_time.sleep,
                            now=fake_time.now)
    assert job["state"] == "Succeeded"
    assert len(fake_time.sleeps) == 3


def test_wait_for_job_does_not_hide_other_errors(tenant, fake_time):
    job_id = tenant.add_job(script=[(2, 0)])
    tenant.get_failures = [SpoError("Access denied", status=403)]
    with pytest.raises(SpoError, match="Access denied"):
        jobs.wait_for_job(tenant, job_id, timeout=600, clock=fake_time.clock, sleep=fake_time.sleep, now=fake_time.now)


def test_wait_for_job_reports_a_job_deleted_while_waiting(tenant, fake_time):
    job_id = tenant.add_job(script=[(2, 0)])

    def delete_on_sleep(seconds):
        fake_time.sleep(seconds)
        tenant.jobs.clear()
    with pytest.raises(SpoError, match="disappeared"):
        jobs.wait_for_job(tenant, job_id, timeout=600, clock=fake_time.clock, sleep=delete_on_sleep, now=fake_time.now)


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
    entry, = jobs.parse_log_text(line + "\r\n")
    assert (entry["identity"], entry["code"], entry["message"]) == expected


@pytest.mark.parametrize("line", ["Import finished.", "   at Microsoft.Office.Server.UserProfiles.Import()",
                                  "The identity is missing", "2026-03-01 06:02:11 processing 12 records"])
def test_unrecognised_lines_are_kept_whole_as_unknown(line):
    entry, = jobs.parse_log_text(line)
    assert entry == {"identity": None, "code": "Unknown", "message": line.strip()}


def test_parse_log_text_skips_blank_lines_and_summarises():
    text = "\n".join([LOG_NOT_RESOLVABLE, "", LOG_MISSING_IDENTITY, LOG_NOT_RESOLVABLE.replace("unknown", "Unknown"),
                      "IdentityNotResolvable gone@contoso.com User identity cannot be resolved", "odd line"])
    entries = jobs.parse_log_text(text)
    summary = jobs.summarize_log(entries)
    assert len(entries) == 5
    assert summary["failed_identities"] == ["unknown@contoso.com", "gone@contoso.com"]
    assert summary["counts"] == {"IdentityNotResolvable": 3, "MissingIdentity": 1, "Unknown": 1}
    assert summary["failed_count"] == 3


@pytest.mark.parametrize("uri, site, folder", [
    (ROOT + "/Shared%20Documents/ProfileImport/abc", ROOT, "/Shared Documents/ProfileImport/abc"),
    (ROOT + "/Shared Documents/abc/", ROOT, "/Shared Documents/abc"),
    (ROOT + "/sites/HR/Shared%20Documents/abc", ROOT + "/sites/HR", "/sites/HR/Shared Documents/abc"),
    (ROOT + "/teams/ops/Docs/abc", ROOT + "/teams/ops", "/teams/ops/Docs/abc"),
    (ROOT + "/sitesx/Docs/abc", ROOT, "/sitesx/Docs/abc"),
])
def test_split_log_folder_uri(uri, site, folder):
    assert jobs.split_log_folder_uri(uri) == (site, folder)


@pytest.mark.parametrize("data", [
    codecs.BOM_UTF8 + "Müller – 東京".encode("utf-8"),
    "Müller – 東京".encode("utf-8"),
    codecs.BOM_UTF16_LE + "Müller – 東京".encode("utf-16-le"),
])
def test_decode_log(data):
    assert jobs.decode_log(data) == "Müller – 東京"


def test_decode_log_falls_back_to_latin1():
    assert jobs.decode_log("Müller".encode("iso-8859-1")) == "Müller"


def test_with_log_reads_every_file_of_the_folder(tenant):
    job = jobs.normalize_job({"JobId": "5f4e7a2c-1111-2222-3333-444455556666", "State": 4, "Error": 30,
                              "SourceUri": SOURCE, "LogFolderUri": ROOT + "/Shared%20Documents/ProfileImport/5f4e7a2c"})
    tenant.log_files["/Shared Documents/ProfileImport/5f4e7a2c"] = {
        "b.log": (LOG_MISSING_IDENTITY + "\n").encode(),
        "a.log": codecs.BOM_UTF8 + (LOG_NOT_RESOLVABLE + "\r\n").encode(),
    }
    result = jobs.with_log(tenant, job, max_entries=1)
    assert result["log_files"] == ["/Shared Documents/ProfileImport/5f4e7a2c/a.log", "/Shared Documents/ProfileImport/5f4e7a2c/b.log"]
    assert [entry["code"] for entry in result["log_entries"]] == ["IdentityNotResolvable"]
    assert result["log_entries_truncated"] is True
    assert result["counts"] == {"IdentityNotResolvable": 1, "MissingIdentity": 1}
    assert result["failed_count"] == 2
    assert all(url.startswith(ROOT + "/_api/web/") for method, url in tenant.rest_calls if method == "GET")


def test_with_log_of_a_missing_folder_has_no_entries(tenant):
    job = jobs.normalize_job({"JobId": "5f4e7a2c-1111-2222-3333-444455556666", "State": 5, "Error": 1,
                              "LogFolderUri": ROOT + "/Shared Documents/none"})
    result = jobs.with_log(tenant, job)
    assert result["log_entries"] == [] and result["failed_count"] is None
    no_folder = jobs.with_log(tenant, dict(job, log_folder_uri=None))
    assert no_folder["log_files"] == []


# --- the upa_import_job flow ----------------------------------------------------------------------------------------


def _run(tenant, fake_time, **kwargs):
    options = dict(force=False, wait=True, wait_timeout=600, poll_interval=5, check_mode=False, diff=True,
                   clock=fake_time.clock, sleep=fake_time.sleep, now=fake_time.now)
    options.update(kwargs)
    return jobs.ImportRun(tenant, "principal_name", "IdName", {"City": "City"}, **options)


def test_run_queues_and_waits_until_succeeded(tenant, fake_time):
    def script(fake, params):
        fake.queue_answers.append(fake.add_job(source=params[3][1], script=[(2, 0), (3, 0), (4, 0)]))
    tenant.on_queue = script

    result = _run(tenant, fake_time).run([SOURCE])

    assert result["changed"] is True
    job = result["job"]
    assert job["state"] == "Succeeded" and job["queued_at"] == "2026-03-01T06:00:00Z"
    assert job["elapsed_seconds"] == 12.5
    assert [entry["state"] for entry in job["history"]] == ["Processing", "Queued", "Succeeded"]
    assert "log_entries" not in job
    assert result["diff"]["before"] == {SOURCE: []}
    assert result["diff"]["after"] == {SOURCE: ["%s Succeeded" % job["job_id"]]}
    assert tenant.methods().count("QueueImportProfileProperties") == 1


def test_run_is_idempotent_for_a_job_on_the_same_source(tenant, fake_time):
    existing = tenant.add_job(source=SOURCE.replace(" ", "%20"), state=4)
    result = _run(tenant, fake_time).run([SOURCE])
    assert result["changed"] is False and result["job"]["job_id"] == existing
    assert result["job"]["queued_at"] is None and result["job"]["elapsed_seconds"] is None
    assert "QueueImportProfileProperties" not in tenant.methods()


def test_run_waits_for_a_running_job_instead_of_queueing(tenant, fake_time):
    existing = tenant.add_job(source=SOURCE, state=2, script=[(4, 0)])
    result = _run(tenant, fake_time).run([SOURCE])
    assert result["changed"] is False
    assert result["job"]["job_id"] == existing and result["job"]["state"] == "Succeeded"
    assert result["job"]["finished_at"] is not None and result["job"]["elapsed_seconds"] == 5
    assert "QueueImportProfileProperties" not in tenant.methods()
    # The job list has just shown the job running: the first read of the job comes one interval later.
    assert tenant.methods().count("GetImportProfilePropertyJob") == 1 and fake_time.sleeps == [5]


@pytest.mark.parametrize("force, state", [(False, 5), (True, 4)])
def test_run_queues_again_after_an_error_or_when_forced(tenant, fake_time, force, state):
    tenant.add_job(source=SOURCE, state=state, error=1 if state == 5 else 0)
    result = _run(tenant, fake_time, force=force, wait=False).run([SOURCE])
    assert result["changed"] is True
    assert tenant.methods().count("QueueImportProfileProperties") == 1
    assert len(result["diff"]["after"][SOURCE]) == 2


def test_check_mode_queues_nothing(tenant, fake_time):
    tenant.add_job(source=OTHER_SOURCE, state=4)
    result = _run(tenant, fake_time, check_mode=True).run([SOURCE, OTHER_SOURCE])
    assert result["changed"] is True
    assert [item["source_uri"] for item in result["would_queue"]] == [SOURCE]
    assert result["jobs"][0]["job_id"] is None and result["jobs"][1]["state"] == "Succeeded"
    assert "QueueImportProfileProperties" not in tenant.methods()
    assert result["diff"]["after"][SOURCE] == ["(new job) Submitted"]


def test_check_mode_reports_no_change_when_the_job_exists(tenant, fake_time):
    tenant.add_job(source=SOURCE, state=4)
    result = _run(tenant, fake_time, check_mode=True).run([SOURCE])
    assert result["changed"] is False and result["would_queue"] == []


def test_without_judging_an_ended_job_is_returned_as_it_is(tenant, fake_time):
    folder = "/Shared Documents/ProfileImport/old"
    tenant.log_files[folder] = {"old.log": LOG_NOT_RESOLVABLE.encode()}
    existing = tenant.add_job(source=SOURCE, state=4, error=30, log_folder=ROOT + folder)
    result = _run(tenant, fake_time, wait=False, judge=False).run([SOURCE])
    assert result["changed"] is False and result["job"]["job_id"] == existing
    assert result["job"]["error"] == "ImportCompleteWithError" and "log_entries" not in result["job"]
    assert tenant.rest_calls == [], "the log is read by whoever judges the job"


def test_follow_waits_for_the_job_by_its_id_and_queues_nothing(tenant, fake_time):
    job_id = tenant.add_job(source=SOURCE, state=1, script=[(2, 0), (4, 0)])
    result = _run(tenant, fake_time).follow(job_id)
    assert result["changed"] is False and result["jobs"] == [result["job"]]
    assert result["job"]["job_id"] == job_id and result["job"]["state"] == "Succeeded"
    assert result["job"]["queued_at"] is None and result["job"]["finished_at"] is not None
    assert result["diff"]["before"] == {SOURCE: ["%s Processing" % job_id]}  # each read moves the fake job on
    assert result["diff"]["after"] == {SOURCE: ["%s Succeeded" % job_id]}
    assert "QueueImportProfileProperties" not in tenant.methods()


def test_follow_reports_a_job_that_ended_in_error_instead_of_queueing_again(tenant, fake_time):
    job_id = tenant.add_job(source=SOURCE, state=5, error=23, message="bad file")
    with pytest.raises(jobs.JobFailedError) as failure:
        _run(tenant, fake_time).follow(job_id)
    assert "InvalidDataFile" in str(failure.value) and "bad file" in str(failure.value)
    assert failure.value.result["job"]["job_id"] == job_id and failure.value.result["changed"] is False
    assert "QueueImportProfileProperties" not in tenant.methods()


def test_follow_applies_allowed_failures(tenant, fake_time):
    folder = "/Shared Documents/ProfileImport/f"
    tenant.log_files[folder] = {"f.log": LOG_NOT_RESOLVABLE.encode()}
    job_id = tenant.add_job(source=SOURCE, state=2, script=[(4, 30)], log_folder=ROOT + folder)
    result = _run(tenant, fake_time, allowed_failures=1).follow(job_id)
    assert result["job"]["failed_identities"] == ["unknown@contoso.com"]
    with pytest.raises(jobs.JobFailedError):
        _run(tenant, fake_time, allowed_failures=0).follow(job_id)


def test_follow_fails_on_an_unknown_job(tenant, fake_time):
    with pytest.raises(SpoError) as failure:
        _run(tenant, fake_time).follow("9f1d2c4a-3b5e-4c7d-9e8f-0a1b2c3d4e5f")
    assert "9f1d2c4a-3b5e-4c7d-9e8f-0a1b2c3d4e5f is not in the tenant's job list" in str(failure.value)
    assert failure.value.result["jobs"] == []


def test_follow_in_check_mode_reads_the_job_without_waiting(tenant, fake_time):
    job_id = tenant.add_job(source=SOURCE, state=1, script=[(2, 0), (4, 0)])
    result = _run(tenant, fake_time, check_mode=True).follow(job_id)
    assert result["job"]["state"] == "Processing" and fake_time.sleeps == []


def test_several_sources_run_one_after_another(tenant, fake_time):
    order = []

    def script(fake, params):
        order.append(("queue", params[3][1]))
        for raw in fake.jobs:
            assert raw["State"] in (4, 5), "a job was queued while another one was still running"
        fake.queue_answers.append(fake.add_job(source=params[3][1], script=[(2, 0), (4, 0)]))
    tenant.on_queue = script

    result = _run(tenant, fake_time, wait=False).run([SOURCE, OTHER_SOURCE])

    assert [job["source_uri"] for job in result["jobs"]] == [SOURCE, OTHER_SOURCE]
    assert result["jobs"][0]["state"] == "Succeeded"
    assert result["jobs"][1]["state"] == "Processing", "wait=false: the last job is read once, not waited for"
    assert order == [("queue", SOURCE), ("queue", OTHER_SOURCE)]


def test_run_finds_the_job_after_an_empty_guid(tenant, fake_time):
    old = tenant.add_job(source=SOURCE, state=5, error=1)

    def empty(fake, params):
        fake.add_job(source=params[3][1], script=[(4, 0)], job_id="11111111-2222-3333-4444-555555555555")
        fake.queue_answers.append(jobs.EMPTY_GUID)
    tenant.on_queue = empty

    result = _run(tenant, fake_time).run([SOURCE])
    assert result["job"]["job_id"] == "11111111-2222-3333-4444-555555555555" != old
    assert result["job"]["state"] == "Succeeded" and result["changed"] is True


def _finish_with_log(tenant, error, lines, state=4):
    folder = "/Shared Documents/ProfileImport/logjob"

    def script(fake, params):
        fake.log_files[folder] = {"ImportLog.txt": "\n".join(lines).encode("utf-8")}
        fake.queue_answers.append(fake.add_job(source=params[3][1], script=[(state, error)], log_folder=ROOT + folder))
    tenant.on_queue = script


def test_import_complete_with_error_within_allowed_failures_passes(tenant, fake_time):
    _finish_with_log(tenant, 30, [LOG_NOT_RESOLVABLE, LOG_MISSING_IDENTITY])
    result = _run(tenant, fake_time, allowed_failures=2).run([SOURCE])
    job = result["job"]
    assert job["error"] == "ImportCompleteWithError"
    assert job["failed_identities"] == ["unknown@contoso.com"] and job["failed_count"] == 2
    assert job["counts"] == {"IdentityNotResolvable": 1, "MissingIdentity": 1}


def test_import_complete_with_too_many_failures_fails_with_the_log(tenant, fake_time):
    _finish_with_log(tenant, 30, [LOG_NOT_RESOLVABLE, LOG_MISSING_IDENTITY])
    with pytest.raises(jobs.JobFailedError) as info:
        _run(tenant, fake_time, allowed_failures=1).run([SOURCE])
    message = str(info.value)
    assert "ImportCompleteWithError" in message and "2 failed users, more than allowed_failures (1)" in message
    assert "IdentityNotResolvable unknown@contoso.com User identity cannot be resolved" in message
    assert info.value.result["job"]["failed_identities"] == ["unknown@contoso.com"]
    assert info.value.result["changed"] is True


def test_import_complete_with_error_and_no_log_fails(tenant, fake_time):
    def script(fake, params):
        fake.queue_answers.append(fake.add_job(source=params[3][1], script=[(4, 30)]))
    tenant.on_queue = script
    with pytest.raises(jobs.JobFailedError, match="number of failed users is unknown"):
        _run(tenant, fake_time, allowed_failures=100).run([SOURCE])


def test_invalid_data_file_fails_with_meaning_and_first_log_lines(tenant, fake_time):
    _finish_with_log(tenant, 23, [LOG_NOT_JSON], state=5)
    with pytest.raises(jobs.JobFailedError) as info:
        _run(tenant, fake_time, allowed_failures=1000).run([SOURCE, OTHER_SOURCE])
    message = str(info.value)
    assert "state Error with InvalidDataFile" in message
    assert jobs.ERROR_MEANINGS["InvalidDataFile"] in message
    assert "DataFileNotJson JsonToken EndObject" in message
    assert len(info.value.result["jobs"]) == 1, "the second source must not be queued after a failure"
    assert tenant.methods().count("QueueImportProfileProperties") == 1


def test_timeout_keeps_the_last_job_in_the_result(tenant, fake_time):
    def script(fake, params):
        fake.queue_answers.append(fake.add_job(source=params[3][1], script=[(3, 0)] * 100))
    tenant.on_queue = script
    with pytest.raises(jobs.JobTimeoutError) as info:
        _run(tenant, fake_time, wait_timeout=30).run([SOURCE])
    assert info.value.result["job"]["state"] == "Queued"
    assert info.value.result["changed"] is True
    assert info.value.result["timed_out"] is True
    assert info.value.result["diff"]["after"][SOURCE] == ["%s Submitted" % info.value.job["job_id"]]
    assert "a rerun with the same source_uri waits for it instead of queueing another" in str(info.value)


def test_timeout_of_a_job_followed_by_id_says_to_rerun_with_the_job_id(tenant, fake_time):
    job_id = tenant.add_job(source=SOURCE, state=2, script=[(3, 0)] * 100)
    with pytest.raises(jobs.JobTimeoutError) as info:
        _run(tenant, fake_time, wait_timeout=30).follow(job_id)
    assert info.value.result["timed_out"] is True and info.value.result["job"]["job_id"] == job_id
    assert "a rerun with the same job_id waits for it again" in str(info.value)
    assert "source_uri" not in str(info.value)


def test_queue_time_errors_carry_the_partial_result(tenant, fake_time):
    tenant.add_job(source=SOURCE, state=4)
    tenant.queue_error = {"ErrorMessage": "Property Names [AboutMe] are editable by user.", "ErrorCode": -1,
                          "ErrorTypeName": "Microsoft.SharePoint.SPException"}
    with pytest.raises(SpoError, match=re.escape("[AboutMe]")) as info:
        _run(tenant, fake_time).run([SOURCE, OTHER_SOURCE])
    assert [job["source_uri"] for job in info.value.result["jobs"]] == [SOURCE]
    assert info.value.result["changed"] is False
    assert info.value.result["timed_out"] is False


# --- upa_job_info ---------------------------------------------------------------------------------------------------


def test_job_info_filters_by_state_and_source(tenant, fake_time):
    tenant.add_job(source=SOURCE, state=4)
    running = tenant.add_job(source=SOURCE, state=2)
    tenant.add_job(source=OTHER_SOURCE, state=2)
    result = jobs.job_info(tenant, states=["processing"], source_uri=SOURCE, now=fake_time.now)
    assert [job["job_id"] for job in result["jobs"]] == [running]
    assert result["job"]["first_seen_at"] == "2026-03-01T06:00:00Z"
    assert result["job"]["elapsed_seconds"] is None


def test_job_info_by_id_with_log(tenant, fake_time):
    folder = "/Shared Documents/ProfileImport/j1"
    tenant.log_files[folder] = {"log.txt": LOG_NOT_RESOLVABLE.encode()}
    job_id = tenant.add_job(state=4, error=30, log_folder=ROOT + folder)
    result = jobs.job_info(tenant, job_id=job_id, include_log=True)
    assert result["job"]["failed_identities"] == ["unknown@contoso.com"]
    assert jobs.job_info(tenant, job_id=str(uuid.uuid4())) == {"jobs": [], "job": None}


def test_job_info_waits_until_the_job_ends(tenant, fake_time):
    job_id = tenant.add_job(state=1, script=[(2, 0), (3, 0), (4, 0)])
    result = jobs.job_info(tenant, job_id=job_id, wait_seconds=60, poll_interval=10,
                           clock=fake_time.clock, sleep=fake_time.sleep, now=fake_time.now)
    assert result["job"]["state"] == "Succeeded"
    assert fake_time.sleeps == [10, 10], "polls every poll_interval, without growing, and stops at the end"
    assert tenant.methods().count("GetImportProfilePropertyJob") == 3, "one read a poll, the first one not repeated"
    assert [step["state"] for step in result["job"]["history"]] == ["Processing", "Queued", "Succeeded"]
    assert result["job"]["finished_at"] == "2026-03-01T06:00:20Z"


def test_job_info_returns_a_job_still_running_when_the_wait_is_over(tenant, fake_time):
    job_id = tenant.add_job(state=2, script=[(3, 0)] * 100)
    result = jobs.job_info(tenant, job_id=job_id, wait_seconds=45, poll_interval=10,
                           clock=fake_time.clock, sleep=fake_time.sleep, now=fake_time.now)
    assert result["job"]["state"] == "Queued"
    assert result["job"]["finished_at"] is None
    assert sum(fake_time.sleeps) == 45, "never sleeps past wait_seconds"


def test_job_info_does_not_wait_for_a_finished_or_unknown_job(tenant, fake_time):
    job_id = tenant.add_job(state=4)
    assert jobs.job_info(tenant, job_id=job_id, wait_seconds=60, clock=fake_time.clock, sleep=fake_time.sleep,
                         now=fake_time.now)["job"]["state"] == "Succeeded"
    assert jobs.job_info(tenant, job_id=str(uuid.uuid4()), wait_seconds=60, clock=fake_time.clock,
                         sleep=fake_time.sleep, now=fake_time.now) == {"jobs": [], "job": None}
    assert fake_time.sleeps == []


def test_a_queue_call_that_failed_after_queueing_is_not_queued_twice(tenant, fake_time):
    tenant.add_job(source=SOURCE, state=5, error=1)  # an earlier job in Error: a new one is queued
    made = []

    def script(fake, params):
        made.append(fake.add_job(source=params[3][1], script=[(2, 0), (4, 0)]))
        fake.queue_answers.append(made[-1])
    tenant.on_queue = script
    tenant.queue_lost_answers = [True]
    result = _run(tenant, fake_time).run([SOURCE])
    assert tenant.queue_calls == 1
    assert len(tenant.jobs) == 2
    assert result["changed"] is True
    assert result["job"]["job_id"] == made[0]
    assert result["job"]["state"] == "Succeeded"


def test_a_queue_call_that_failed_before_queueing_is_sent_again_after_checking_the_job_list(tenant, fake_time):
    tenant.queue_lost_answers = [False]
    result = _run(tenant, fake_time, wait=False).run([SOURCE])
    assert tenant.queue_calls == 2
    assert len(tenant.jobs) == 1
    assert result["job"]["job_id"] == tenant.jobs[0]["JobId"][len("/Guid("):-len(")/")]
    assert fake_time.sleeps[0] == jobs.QUEUE_SETTLE_SECONDS


def test_queue_calls_that_keep_failing_without_queueing_give_up_and_say_so(tenant, fake_time):
    tenant.queue_lost_answers = [False] * jobs.QUEUE_ATTEMPTS
    with pytest.raises(SpoError, match="tried 3 times, and the job list shows no new job on this file") as info:
        _run(tenant, fake_time).run([SOURCE])
    assert tenant.jobs == []
    assert info.value.status == 500
    assert tenant.queue_calls == jobs.QUEUE_ATTEMPTS
