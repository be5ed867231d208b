"""CSOM ProcessQuery and the REST forms of Office365Tenant (csom.py)."""

import json

import pytest

from .sp_harness import ADMIN, CONSTRUCTOR, ROOT, TENANT_API, SharePoint, csom_request, fast_jobs, get_job_xml, guid_of, queue_xml

from m365emu import csom
from m365emu.faults import FAULTS

SOURCE = "https://contoso.sharepoint.com/Shared Documents/p.json"


@pytest.fixture
def sp(tmp_path):
    FAULTS.clear()
    fast_jobs()
    yield SharePoint(str(tmp_path))
    FAULTS.clear()


def error_of(answer):
    assert len(answer) == 1
    return answer[0]["ErrorInfo"]


@pytest.mark.parametrize("with_object_path", [True, False])
def test_queue_returns_a_guid_with_and_without_the_object_path_action(sp, with_object_path):
    answer = sp.process_query(queue_xml(0, "IdName", {"CC": "CostCenter"}, SOURCE, with_object_path))
    header = answer[0]
    assert header["ErrorInfo"] is None
    assert header["SchemaVersion"] == "15.0.0.0" and header["LibraryVersion"]
    if with_object_path:
        assert answer[1:3] == [2, {"IsNull": False}]
    assert answer[-2] == 3
    job_id = guid_of(answer[-1])
    job = sp.process_query(get_job_xml(job_id))
    assert job[1:3] == [4, {"IsNull": False}] and job[3] == 5
    info = job[4]
    assert info["_ObjectType_"] == "Microsoft.Online.SharePoint.TenantManagement.ImportProfilePropertiesJobInfo"
    assert info["JobId"] == "/Guid(%s)/" % job_id
    assert info["SourceUri"] == SOURCE
    assert set(info) >= {"Error", "ErrorMessage", "LogFolderUri", "State"}


def test_wire_text_escapes_slashes_like_sharepoint(sp):
    reply = sp.request("POST", ADMIN + "/_vti_bin/client.svc/ProcessQuery",
                       queue_xml(0, "IdName", {"CC": "CostCenter"}, SOURCE))
    assert reply.headers["Content-Type"].startswith("application/json")
    text = reply.content.decode()
    assert '"\\/Guid(' in text
    job_id = guid_of(reply.json()[-1])
    text = sp.request("POST", ADMIN + "/_vti_bin/client.svc/ProcessQuery", get_job_xml(job_id)).content.decode()
    assert "https:\\u002f\\u002fcontoso.sharepoint.com\\u002fShared Documents\\u002fp.json" in text


def test_type_id_is_case_insensitive_and_guid_parameters_accept_braceless(sp):
    xml = queue_xml(2, "IdName", {"CC": "CostCenter"}, SOURCE).replace("e45fd516-a408", "E45FD516-A408")
    job_id = guid_of(sp.process_query(xml)[-1])
    braceless = get_job_xml(job_id).replace("{%s}" % job_id, job_id.upper())
    assert sp.process_query(braceless)[4]["JobId"] == "/Guid(%s)/" % job_id


def test_user_editable_properties_are_refused_with_the_documented_message(sp):
    answer = sp.process_query(queue_xml(0, "IdName", {"A": "AboutMe", "B": "Hobby", "C": "CostCenter"}, SOURCE))
    error = error_of(answer)
    assert error["ErrorMessage"] == "Property Names [AboutMe,Hobby] are editable by user."
    assert error["ErrorValue"] is None and error["TraceCorrelationId"]
    assert isinstance(error["ErrorCode"], int) and error["ErrorTypeName"]


@pytest.mark.parametrize("mapping,fragment", [
    ({"X": "NoSuchProperty"}, "[NoSuchProperty]"),
    ({"X": "Department"}, "synchronized from Microsoft Entra ID"),
    ({"X": "sps-muilanguages"}, "synchronized from Microsoft Entra ID"),
])
def test_unknown_and_core_targets_are_refused(sp, mapping, fragment):
    assert fragment in error_of(sp.process_query(queue_xml(0, "IdName", mapping, SOURCE)))["ErrorMessage"]


@pytest.mark.parametrize("target", ["Tags", "tags", "Expertise", "SPS-Skills"])
def test_multi_value_and_taxonomy_targets_are_refused_as_taxonomic_properties(sp, target):
    sp.tenant.define_properties([{"name": "Expertise", "taxonomy": True, "multi_value": True}])
    error = error_of(sp.process_query(queue_xml(0, "IdName", {"X": target, "C": "CostCenter"}, SOURCE)))
    canonical = {"tags": "Tags"}.get(target.lower(), target)
    assert error["ErrorMessage"] == "Property Names [%s] are Taxonomic Properties" % canonical


@pytest.mark.parametrize("name", ["SPS-SIPAddress", "SPS-MUILanguages", "SPS-RecipientTypeDetails", "SPS-UserType",
                                  "PublicSiteRedirect", "msOnline-ObjectId", "SPS-DistinguishedName", "AccountName"])
def test_the_synced_properties_of_the_bulk_api_faq_are_core(sp, name):
    assert sp.tenant.properties[name]["core"] is True
    assert "synchronized" in error_of(sp.process_query(queue_xml(0, "IdName", {"X": name.upper()}, SOURCE)))["ErrorMessage"]


@pytest.mark.parametrize("id_type,source", [(3, SOURCE), (0, "http://contoso.sharepoint.com/x.json"), (0, "Shared Documents/p.json")])
def test_id_type_and_source_uri_are_checked(sp, id_type, source):
    assert error_of(sp.process_query(queue_xml(id_type, "IdName", {"CC": "CostCenter"}, source)))["ErrorMessage"]


def test_queue_with_empty_guid_fault_still_starts_the_job(sp):
    FAULTS.update({"queue_empty_guid": True})
    answer = sp.process_query(queue_xml(0, "IdName", {"CC": "CostCenter"}, SOURCE))
    assert answer[-1] == "/Guid(00000000-0000-0000-0000-000000000000)/"
    jobs = sp.request("POST", TENANT_API + "GetImportProfilePropertyJobs").json()["value"]
    assert len(jobs) == 1 and jobs[0]["SourceUri"] == SOURCE


def test_job_collection_and_delete(sp):
    first = guid_of(sp.process_query(queue_xml(0, "IdName", {"CC": "CostCenter"}, SOURCE))[-1])
    second = guid_of(sp.process_query(queue_xml(0, "IdName", {"CC": "CostCenter"}, SOURCE))[-1])
    listing = csom_request('<Query Id="5" ObjectPathId="3"><Query SelectAllProperties="true"><Properties /></Query>'
                           '<ChildItemQuery SelectAllProperties="true"><Properties /></ChildItemQuery></Query>',
                           CONSTRUCTOR + '<Method Id="3" ParentId="1" Name="GetImportProfilePropertyJobs" />')
    collection = sp.process_query(listing)[2]
    assert collection["_ObjectType_"].endswith("ImportProfilePropertiesJobStatusCollection")
    assert [j["JobId"] for j in collection["_Child_Items_"]] == ["/Guid(%s)/" % second, "/Guid(%s)/" % first]
    delete = csom_request('<Method Name="DeleteImportProfilePropertiesJob" Id="7" ObjectPathId="1"><Parameters>'
                          '<Parameter Type="Guid">{%s}</Parameter></Parameters></Method>' % first, CONSTRUCTOR)
    assert sp.process_query(delete)[1:] == [7, True]
    assert sp.process_query(delete)[1:] == [7, False]
    assert error_of(sp.process_query(get_job_xml(first)))["ErrorMessage"]


LIST_JOBS = csom_request('<Query Id="5" ObjectPathId="3"><Query SelectAllProperties="true"><Properties /></Query>'
                         '<ChildItemQuery SelectAllProperties="true"><Properties /></ChildItemQuery></Query>',
                         CONSTRUCTOR + '<Method Id="3" ParentId="1" Name="GetImportProfilePropertyJobs" />')
THRESHOLD = "The attempted operation is prohibited because it exceeds the list view threshold."


def _delete_xml(job_id):
    return csom_request('<Method Name="DeleteImportProfilePropertiesJob" Id="7" ObjectPathId="1"><Parameters>'
                        '<Parameter Type="Guid">{%s}</Parameter></Parameters></Method>' % job_id, CONSTRUCTOR)


def test_beyond_the_list_view_threshold_listing_and_queueing_fail_until_jobs_are_deleted(sp):
    FAULTS.update({"tenant": "contoso", "job_list_threshold": 2})
    ids = [guid_of(sp.process_query(queue_xml(0, "IdName", {"CC": "CostCenter"}, SOURCE))[-1]) for dummy in range(3)]
    # three job records, more than the threshold of two: the list and the queue both query it and fail
    for answer in (sp.process_query(LIST_JOBS), sp.process_query(queue_xml(0, "IdName", {"CC": "CostCenter"}, SOURCE))):
        error = error_of(answer)
        assert (error["ErrorMessage"], error["ErrorCode"], error["ErrorTypeName"]) == (
            THRESHOLD, -2147024860, "Microsoft.SharePoint.SPQueryThrottledException")
    rest = sp.request("POST", TENANT_API + "GetImportProfilePropertyJobs")
    assert rest.status == 500
    assert rest.json()["odata.error"] == {"code": "-2147024860, Microsoft.SharePoint.SPQueryThrottledException",
                                          "message": {"lang": "en-US", "value": THRESHOLD}}
    queued = sp.request("POST", TENANT_API + "QueueImportProfileProperties", {
        "idType": 0, "sourceDataIdProperty": "IdName", "propertyMap": {"CC": "CostCenter"}, "sourceUri": SOURCE})
    assert queued.status == 500 and queued.json()["odata.error"]["message"]["value"] == THRESHOLD
    # one job is still read by its id, and deleting records is the way out
    assert sp.process_query(get_job_xml(ids[0]))[0]["ErrorInfo"] is None
    assert sp.process_query(_delete_xml(ids[0]))[1:] == [7, True]
    assert sp.request("POST", TENANT_API + "DeleteImportProfilePropertiesJob", {"jobId": ids[1]}).json() == {"value": True}
    assert [j["JobId"] for j in sp.process_query(LIST_JOBS)[2]["_Child_Items_"]] == ["/Guid(%s)/" % ids[2]]
    assert sp.process_query(queue_xml(0, "IdName", {"CC": "CostCenter"}, SOURCE))[0]["ErrorInfo"] is None


def test_the_default_threshold_is_the_list_view_threshold(sp):
    assert csom.DEFAULT_JOB_LIST_THRESHOLD == 5000
    FAULTS.update({"tenant": "contoso", "job_list_threshold": None})
    sp.process_query(queue_xml(0, "IdName", {"CC": "CostCenter"}, SOURCE))
    assert len(sp.process_query(LIST_JOBS)[2]["_Child_Items_"]) == 1


def test_select_limits_the_properties(sp):
    job_id = guid_of(sp.process_query(queue_xml(0, "IdName", {"CC": "CostCenter"}, SOURCE))[-1])
    xml = get_job_xml(job_id).replace('SelectAllProperties="true"><Properties />',
                                      'SelectAllProperties="false"><Properties><Property Name="State" ScalarProperty="true" />'
                                      '</Properties>')
    assert set(sp.process_query(xml)[4]) == {"_ObjectType_", "State"}


def test_unknown_types_methods_and_bad_xml_are_error_info_on_http_200(sp):
    assert "Cannot find stub" in error_of(sp.process_query(csom_request(
        '<ObjectPath Id="2" ObjectPathId="1" />', '<Constructor Id="1" TypeId="{268004ae-ef6b-4e9b-8425-127220d84719}" />')))["ErrorMessage"]
    assert error_of(sp.process_query(csom_request('<Method Name="Nope" Id="2" ObjectPathId="1" />', CONSTRUCTOR)))
    assert error_of(sp.process_query("<Request"))


def test_office365_tenant_only_on_the_admin_host(sp):
    reply = sp.request("POST", ROOT + "/_vti_bin/client.svc/ProcessQuery", queue_xml(0, "IdName", {"CC": "CostCenter"}, SOURCE))
    assert reply.json()[0]["ErrorInfo"]["ErrorTypeName"] == "System.UnauthorizedAccessException"


# ---------------------------------------------------------------- REST forms

@pytest.mark.parametrize("property_map", [
    {"CC": "CostCenter"},
    {"__metadata": {"type": "Collection(SP.KeyValue)"}, "results": [{"Key": "CC", "Value": "CostCenter", "ValueType": "Edm.String"}]},
    [{"Key": "CC", "Value": "CostCenter", "ValueType": "Edm.String"}],
])
def test_rest_queue_accepts_every_property_map_shape(sp, property_map):
    body = {"idType": 0, "sourceDataIdProperty": "IdName", "propertyMap": property_map, "sourceUri": SOURCE}
    verbose = sp.request("POST", TENANT_API + "QueueImportProfileProperties", body, verbose=True)
    job_id = verbose.json()["d"]["QueueImportProfileProperties"]
    job = sp.request("POST", TENANT_API + "getimportprofilepropertyjob", {"jobId": job_id}).json()
    assert job["JobId"] == job_id and job["SourceUri"] == SOURCE


def test_rest_errors_and_verbose_collections(sp):
    body = {"idType": 0, "sourceDataIdProperty": "IdName", "propertyMap": {"X": "AboutMe"}, "sourceUri": SOURCE}
    refused = sp.request("POST", TENANT_API + "QueueImportProfileProperties", body)
    assert refused.status == 400
    assert refused.json()["odata.error"]["message"]["value"] == "Property Names [AboutMe] are editable by user."
    body["propertyMap"] = {"CC": "CostCenter"}
    job_id = sp.request("POST", TENANT_API + "QueueImportProfileProperties", body).json()["value"]
    jobs = sp.request("POST", TENANT_API + "GetImportProfilePropertyJobs", verbose=True).json()["d"]["results"]
    assert jobs[0]["JobId"] == job_id and jobs[0]["__metadata"]["type"] == csom.JOB_TYPE
    assert sp.request("POST", TENANT_API + "DeleteImportProfilePropertiesJob", {"jobId": job_id}).json() == {"value": True}
    assert sp.request("POST", TENANT_API + "GetImportProfilePropertyJob", {"jobId": job_id}).status == 404


def test_encode_keeps_guid_and_date_markers():
    text = csom.encode([{"a": "/Guid(x)/", "b": "/Date(1)/", "c": "a/b"}])
    assert json.loads(text) == [{"a": "/Guid(x)/", "b": "/Date(1)/", "c": "a/b"}]
    assert '"\\/Guid(x)\\/"' in text and '"a\\u002fb"' in text
