# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

import datetime
import json
import re
import uuid
import xml.etree.ElementTree as ET
from urllib.parse import unquote

import pytest

from ansible_collections.spo.user_profiles.plugins.module_utils import csom, job_api
from ansible_collections.spo.user_profiles.plugins.module_utils.errors import SpoError

NS = "{%s}" % csom.CSOM_NAMESPACE
ADMIN = "https://contoso-admin.sharepoint.com"
ROOT = "https://contoso.sharepoint.com"
SOURCE = ROOT + "/Shared Documents/ProfileImport/profiles-3f2a.json"
OTHER_SOURCE = ROOT + "/Shared Documents/ProfileImport/profiles-77aa.json"
# The mapping the import run tests (test_import_run, test_upa_import_job) queue their jobs with, as a job record keeps it.
RUN_MAPPING = {"id_type": "principal_name", "id_property": "IdName", "property_map": {"City": "City"}}
JOB_INFO_TYPE = "Microsoft.Online.SharePoint.TenantManagement.ImportProfilePropertiesJobInfo"
HEADER = {"SchemaVersion": "15.0.0.0", "LibraryVersion": "16.0.24817.12008", "ErrorInfo": None,
          "TraceCorrelationId": "ab1127a1-5044-8000-b17c-4aafdd265386"}


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


LIST_VIEW_THRESHOLD_ERROR = {"ErrorMessage": "The attempted operation is prohibited because it exceeds the list view threshold.",
                             "ErrorValue": None, "TraceCorrelationId": "931127a1", "ErrorCode": -2147024860,
                             "ErrorTypeName": "Microsoft.SharePoint.SPQueryThrottledException"}


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
        self.log_files = {}         # server-relative folder -> {name: bytes}: log folders, and job records beside files
        self.rest_calls = []
        self.on_queue = None
        self.queue_calls = 0
        self.queue_lost_answers = []  # per queue call, True/False: it fails after queueing / without queueing
        # The webs of every host besides its root web (site collections anywhere, subsites), for GetWebUrlFromPageUrl.
        self.webs = ["/sites/hr", "/sites/hr/emea", "/projects/apollo", "/personal/anna_contoso_com"]
        self.web_lookups = []
        self.record_write_errors = []  # SpoErrors raised by the next record uploads (None: that upload works)
        # Past the list view threshold the service refuses to list jobs and to queue one (pnp/powershell#3814).
        self.over_threshold = False
        # Import files are there (100 bytes) unless named here: server-relative path -> size, None for a missing file.
        self.import_files = {}

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
        return self._rest(method, url, allow_status, data)

    def sp(self, method, url, operation, **kw):
        response = self.request(method, url, operation, **kw)
        return response.json() if response.content else None

    @property
    def admin_url(self):
        return ADMIN

    @property
    def root_url(self):
        return ROOT

    def _rest(self, method, url, allow_status, data=None):
        self.rest_calls.append((method, url))
        literal = unquote(re.search(r"DecodedUrl='((?:[^']|'')*)'", url).group(1)).replace("''", "'")
        if url.endswith(")/Files"):
            folder = self.log_files.get(literal)
            if folder is None:
                return FakeResponse(404, b"")
            items = [{"Name": name, "ServerRelativeUrl": literal + "/" + name, "Length": str(len(body))}
                     for name, body in folder.items()]
            return FakeResponse(200, json.dumps({"value": items}).encode())
        if method == "GET" and "GetFileByServerRelativePath" in url and url.endswith(")"):
            size = self.import_files.get(literal, 100)
            if size is None:
                return FakeResponse(404, b"")
            return FakeResponse(200, json.dumps({"Name": literal.rsplit("/", 1)[1], "ServerRelativeUrl": literal,
                                                 "Length": str(size)}).encode())
        if url.endswith(")/$value"):
            folder, name = literal.rsplit("/", 1)
            if name not in self.log_files.get(folder, {}):
                if 404 in allow_status:
                    return FakeResponse(404, b"")
                raise SpoError("File Not Found.", status=404, operation="read file")
            return FakeResponse(200, self.log_files[folder][name])
        added = re.search(r"/Files/add\(url='((?:[^']|'')*)',overwrite=true\)$", url)
        if method == "POST" and added:
            error = self.record_write_errors.pop(0) if self.record_write_errors else None
            if error is not None:
                raise error
            name = unquote(added.group(1)).replace("''", "'")
            self.log_files.setdefault(literal, {})[name] = bytes(data)
            return FakeResponse(200, json.dumps({"Name": name, "ServerRelativeUrl": literal + "/" + name}).encode())
        raise AssertionError("unexpected REST call %s %s" % (method, url))

    def record_of(self, source=SOURCE):
        """The job ids of the record beside an import file, newest first ([] without a record)."""
        folder, name = unquote(source.split(".com", 1)[1]).rsplit("/", 1)
        data = self.log_files.get(folder, {}).get(name[:-len(".json")] + ".jobs.json")
        return [job["job_id"] for job in json.loads(data)["jobs"]] if data else []

    def remember(self, job_id, source=SOURCE, mapping=None, legacy=False):
        """Write the record of a job queued on source earlier (with RUN_MAPPING unless another mapping is given), as
        upa_import_job leaves it; legacy: as collection 1.0.0 left it, without the mapping."""
        folder, name = unquote(source.split(".com", 1)[1]).rsplit("/", 1)
        records = self.log_files.setdefault(folder, {})
        record = name[:-len(".json")] + ".jobs.json"
        jobs = json.loads(records[record])["jobs"] if record in records else []
        job = {"job_id": job_id, "queued_at": None}
        if not legacy:
            job["mapping"] = mapping or RUN_MAPPING
        records[record] = json.dumps({"source_uri": source, "jobs": [job] + jobs}).encode()
        return job_id

    def _process_query(self, body):
        root = ET.fromstring(body)
        assert root.tag == NS + "Request"
        paths = {}
        for element in root.find(NS + "ObjectPaths"):
            paths[element.get("Id")] = element
        actions = list(root.find(NS + "Actions"))
        self.requests.append({"root": root, "paths": paths, "actions": actions})
        names = [element.get("Name") for element in actions + list(paths.values())]
        if self.over_threshold and {"GetImportProfilePropertyJobs", "QueueImportProfileProperties"} & set(names):
            return json.dumps([dict(HEADER, ErrorInfo=LIST_VIEW_THRESHOLD_ERROR)]).encode()
        if self.queue_error and self.error_on in names:
            header = dict(HEADER, ErrorInfo=self.queue_error)
            self.queue_error = None
            return json.dumps([header]).encode()
        answer = [HEADER]
        for action in actions:
            answer.extend([int(action.get("Id")), self._answer(action, paths)])
        return json.dumps(answer).encode()

    def _web_of(self, page_url):
        """Web.GetWebUrlFromPageUrl: the deepest web holding the URL, as SharePoint resolves it."""
        self.web_lookups.append(page_url)
        scheme, rest = page_url.split("://", 1)
        host, _sep, path = rest.partition("/")
        segments = unquote("/" + path).lower().rstrip("/").split("/")
        best = ""
        for web in self.webs:
            parts = web.lower().split("/")
            if segments[:len(parts)] == parts and len(web) > len(best):
                best = web
        return "%s://%s%s" % (scheme, host, best)

    def _answer(self, action, paths):
        if action.tag == NS + "StaticMethod":
            assert action.get("TypeId") == "{a489add2-5d3a-4de8-9445-49259462dceb}"
            assert action.get("Name") == "GetWebUrlFromPageUrl"
            return self._web_of(_parameters(action)[0][1])
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
    job_id = job_api.queue_job(tenant, id_type, "IdName", {"City": "City", "Office": "OfficeCode"}, SOURCE)

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
        job_api.queue_job(tenant, "upn", "IdName", {}, SOURCE)
    assert tenant.requests == []


def test_queue_job_surfaces_the_validation_error_naming_the_property(tenant):
    tenant.queue_error = {"ErrorMessage": "Property Names [AboutMe] are editable by user.", "ErrorValue": None,
                          "TraceCorrelationId": "731127a1", "ErrorCode": -2146232832,
                          "ErrorTypeName": "Microsoft.SharePoint.SPException"}
    with pytest.raises(SpoError) as info:
        job_api.queue_job(tenant, "email", "IdName", {"AboutMe": "AboutMe"}, SOURCE)
    assert "Property Names [AboutMe] are editable by user." in str(info.value)
    assert info.value.request_id == "731127a1"


def test_queue_job_explains_the_taxonomy_refusal_and_names_the_per_user_module(tenant):
    tenant.queue_error = {"ErrorMessage": "Property Names [Skills,Certifications] are Taxonomic Properties",
                          "ErrorValue": None, "TraceCorrelationId": "831127a1", "ErrorCode": -2146232832,
                          "ErrorTypeName": "Microsoft.SharePoint.SPException"}
    with pytest.raises(SpoError) as info:
        job_api.queue_job(tenant, "email", "IdName", {"skills": "Skills", "certs": "Certifications"}, SOURCE)
    message = info.value.message
    assert message.startswith("Property Names [Skills,Certifications] are Taxonomic Properties: ")
    assert "cannot import multi-value or taxonomy properties (Skills,Certifications)" in message
    assert "spo.user_profiles.user_profile_property" in message and "out of property_map" in message
    assert info.value.request_id == "831127a1" and not info.value.may_have_run


@pytest.mark.parametrize("call", [
    lambda tenant: job_api.queue_job(tenant, "email", "IdName", {"City": "City"}, SOURCE),
    job_api.list_jobs,
])
def test_past_the_list_view_threshold_the_refusal_says_what_happened_and_how_to_recover(tenant, call):
    tenant.over_threshold = True
    with pytest.raises(SpoError) as info:
        call(tenant)
    err = info.value
    assert job_api.is_past_list_view_threshold(err)
    assert err.message.startswith("The attempted operation is prohibited because it exceeds the list view threshold: this ")
    assert "import job list is longer than SharePoint's list view threshold (5,000 records" in err.message
    assert "spo.user_profiles.upa_retention" in err.message
    assert "spo.user_profiles.upa_import_job state=absent job_id=<id>" in err.message
    assert err.code == "-2147024860, Microsoft.SharePoint.SPQueryThrottledException" and err.request_id == "931127a1"


def test_queue_job_returns_the_empty_guid_as_is(tenant):
    tenant.queue_answers.append(job_api.EMPTY_GUID)
    assert job_api.queue_job(tenant, "email", "IdName", {"City": "City"}, SOURCE) == job_api.EMPTY_GUID


def test_get_job_sends_the_documented_csom_form(tenant):
    job_id = tenant.add_job(state=2)
    job = job_api.get_job(tenant, job_id.upper())

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
    assert job_api.get_job(tenant, str(uuid.uuid4())) is None


def test_get_job_of_a_job_the_service_says_does_not_exist_is_none(tenant):
    tenant.queue_error = {"ErrorMessage": "The import job 5f4e7a2c-1111-2222-3333-444455556666 does not exist.",
                          "ErrorCode": -2146232832, "ErrorTypeName": "Microsoft.SharePoint.SPException"}
    tenant.error_on = "GetImportProfilePropertyJob"
    assert job_api.get_job(tenant, "5f4e7a2c-1111-2222-3333-444455556666") is None


def test_get_job_raises_other_service_errors(tenant):
    tenant.queue_error = {"ErrorMessage": "Access denied.", "ErrorCode": -2147024891,
                          "ErrorTypeName": "System.UnauthorizedAccessException"}
    tenant.error_on = "GetImportProfilePropertyJob"
    with pytest.raises(SpoError, match="Access denied"):
        job_api.get_job(tenant, "5f4e7a2c-1111-2222-3333-444455556666")


def test_get_job_refuses_an_id_that_is_not_a_guid(tenant):
    with pytest.raises(SpoError, match="not a GUID"):
        job_api.get_job(tenant, "job-1")
    assert tenant.requests == []


@pytest.mark.parametrize("code, name", sorted(job_api.JOB_STATES.items()))
def test_every_state_is_named(code, name):
    job = job_api.normalize_job({"JobId": "5f4e7a2c-1111-2222-3333-444455556666", "State": code, "Error": 0})
    assert (job["state"], job["state_code"]) == (name, code)


@pytest.mark.parametrize("code, name", sorted(job_api.JOB_ERRORS.items()))
def test_every_error_is_named_and_explained(code, name):
    job = job_api.normalize_job({"JobId": "5f4e7a2c-1111-2222-3333-444455556666", "State": 5, "Error": code,
                                 "ErrorMessage": "", "LogFolderUri": ""})
    assert (job["error"], job["error_code"]) == (name, code)
    assert job["error_meaning"] == job_api.ERROR_MEANINGS[name]
    assert job["error_message"] is None and job["log_folder_uri"] is None


def test_normalize_job_accepts_names_and_unknown_numbers():
    job = job_api.normalize_job({"JobId": "{5F4E7A2C-1111-2222-3333-444455556666}", "State": "Succeeded", "Error": 31})
    assert job["job_id"] == "5f4e7a2c-1111-2222-3333-444455556666"
    assert (job["state"], job["state_code"]) == ("Succeeded", 4)
    assert (job["error"], job["error_code"]) == ("Unknown31", 31)


def test_list_jobs_sends_a_child_item_query_and_reads_the_child_items(tenant):
    first = tenant.add_job(source=SOURCE, state=4)
    second = tenant.add_job(source=OTHER_SOURCE, state=5, error=23, message="bad file")

    listed = job_api.list_jobs(tenant)

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
    assert job_api.delete_job(tenant, job_id) is True
    method = tenant.requests[-1]["actions"][-1]
    assert method.get("Name") == "DeleteImportProfilePropertiesJob"
    assert _parameters(method) == [("Guid", "{%s}" % job_id)]
    assert tenant.job(job_id) is None
    assert job_api.delete_job(tenant, job_id) is False


# --- finding jobs ---------------------------------------------------------------------------------------------------


def test_same_source_ignores_case_and_percent_encoding():
    assert job_api.same_source(SOURCE, SOURCE.replace(" ", "%20").replace("contoso", "CONTOSO"))
    assert not job_api.same_source(SOURCE, OTHER_SOURCE)
    assert not job_api.same_source(SOURCE, None)


def test_find_job_by_source_returns_the_newest_matching_job(tenant):
    tenant.add_job(source=SOURCE, state=4)
    errored = tenant.add_job(source=SOURCE, state=5, error=1)
    tenant.add_job(source=OTHER_SOURCE, state=4)
    assert job_api.find_job_by_source(tenant, SOURCE)["job_id"] == errored
    assert job_api.find_job_by_source(tenant, SOURCE, skip_states=("Error",))["state"] == "Succeeded"
    assert job_api.find_job_by_source(tenant, ROOT + "/Shared Documents/none.json") is None


@pytest.mark.parametrize("source_uri, name", [
    ("https://contoso.sharepoint.com/Shared%20Documents/ProfileImport/hr%20data.json", "hr data.json"),
    ("https://contoso.sharepoint.com/sites/hr/Shared Documents/hr-0123.json", "hr-0123.json"),
    (None, ""),
])
def test_the_file_name_of_a_source_uri_is_decoded(source_uri, name):
    assert job_api.source_file_name(source_uri) == name
