# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

import datetime
import json
import xml.etree.ElementTree as ET

import pytest
from hypothesis import given, strategies as st

from ansible_collections.spo.user_profiles.plugins.module_utils import csom
from ansible_collections.spo.user_profiles.plugins.module_utils.errors import SpoError

NS = "{%s}" % csom.CSOM_NAMESPACE
UTC = datetime.timezone.utc

# Text XML 1.0 can carry (what a profile property value can be).
XML_FORBIDDEN = "".join(chr(code) for code in range(0x20) if chr(code) not in "\t\n\r") + "\ufffe\uffff"
xml_text = st.text(alphabet=st.characters(blacklist_categories=("Cs",), blacklist_characters=XML_FORBIDDEN))


def _queue_request(id_type, id_property, mapping, source):
    request = csom.CsomRequest(application_name="tests")
    tenant = request.constructor(csom.OFFICE365_TENANT_TYPE_ID)
    request.object_path(tenant)
    action = request.call(tenant, "QueueImportProfileProperties", (csom.Enum(id_type), id_property, mapping, source))
    return request, tenant, action


def _parameters(method):
    values = []
    for param in method.find(NS + "Parameters"):
        kind = param.get("Type")
        if kind == "Dictionary":
            values.append((kind, dict((prop.get("Name"), prop.text or "") for prop in param)))
        else:
            values.append((kind, param.text or ""))
    return values


def test_a_static_method_is_an_action_of_its_type_with_no_object_path():
    """The .NET CSOM form (ClientActionInvokeStaticMethod), as for Web.GetWebUrlFromPageUrl."""
    request = csom.CsomRequest(application_name="tests")
    action = request.static_method("{a489add2-5d3a-4de8-9445-49259462dceb}", "GetWebUrlFromPageUrl",
                                   ["https://contoso.sharepoint.com/sites/hr/Shared Documents/a & b"])
    actions, paths = list(ET.fromstring(request.to_xml()))
    assert list(paths) == []
    method, = list(actions)
    assert method.tag == NS + "StaticMethod" and method.get("Id") == str(action)
    assert method.get("TypeId") == "{a489add2-5d3a-4de8-9445-49259462dceb}" and method.get("Name") == "GetWebUrlFromPageUrl"
    assert _parameters(method) == [("String", "https://contoso.sharepoint.com/sites/hr/Shared Documents/a & b")]


def test_queue_request_matches_the_documented_shape():
    request, tenant, action = _queue_request(0, "IdName", {"City": "City", "Office": "OfficeCode"},
                                             "https://contoso.sharepoint.com/Shared Documents/profiles.json")
    root = ET.fromstring(request.to_xml())
    assert root.tag == NS + "Request"
    assert root.get("SchemaVersion") == "15.0.0.0" and root.get("LibraryVersion") == "16.0.0.0"
    assert root.get("ApplicationName") == "tests"
    actions, paths = list(root)
    assert actions.tag == NS + "Actions" and paths.tag == NS + "ObjectPaths"
    constructor = paths.find(NS + "Constructor")
    assert constructor.get("TypeId") == "{e45fd516-a408-4ca4-b6dc-268e2f1f0f83}"
    assert constructor.get("Id") == str(tenant)
    object_path, method = list(actions)
    assert object_path.tag == NS + "ObjectPath" and object_path.get("ObjectPathId") == str(tenant)
    assert method.get("Name") == "QueueImportProfileProperties"
    assert method.get("Id") == str(action) and method.get("ObjectPathId") == str(tenant)
    assert _parameters(method) == [
        ("Enum", "0"), ("String", "IdName"), ("Dictionary", {"City": "City", "Office": "OfficeCode"}),
        ("String", "https://contoso.sharepoint.com/Shared Documents/profiles.json"),
    ]


def test_ids_are_unique_and_increasing():
    request = csom.CsomRequest()
    ids = [request.constructor(csom.OFFICE365_TENANT_TYPE_ID)]
    ids.append(request.method_path(ids[0], "GetImportProfilePropertyJobs"))
    ids.append(request.object_path(ids[1]))
    ids.append(request.query(ids[1], child_items=True))
    ids.append(request.call(ids[0], "DeleteImportProfilePropertiesJob", (csom.Guid("5F4E7A2C-1111-2222-3333-444455556666"),)))
    assert ids == sorted(set(ids))
    root = ET.fromstring(request.to_xml())
    method_path = root.find(NS + "ObjectPaths").find(NS + "Method")
    assert method_path.get("ParentId") == str(ids[0]) and method_path.get("Name") == "GetImportProfilePropertyJobs"
    query = root.find(NS + "Actions").find(NS + "Query")
    assert query.find(NS + "Query").get("SelectAllProperties") == "true"
    assert query.find(NS + "ChildItemQuery").get("SelectAllProperties") == "true"
    guid = root.find(NS + "Actions").find(NS + "Method").find(NS + "Parameters")[0]
    assert (guid.get("Type"), guid.text) == ("Guid", "{5f4e7a2c-1111-2222-3333-444455556666}")


@pytest.mark.parametrize("value, kind, text", [
    (None, "Null", None),
    (True, "Boolean", "true"),
    (False, "Boolean", "false"),
    (7, "Int32", "7"),
    (2 ** 40, "Int64", str(2 ** 40)),
    (csom.Enum(2), "Enum", "2"),
    ("", "String", None),
])
def test_parameter_types(value, kind, text):
    request = csom.CsomRequest()
    request.call(request.constructor(csom.OFFICE365_TENANT_TYPE_ID), "M", (value,))
    param = ET.fromstring(request.to_xml()).find(NS + "Actions").find(NS + "Method").find(NS + "Parameters")[0]
    assert (param.get("Type"), param.text) == (kind, text)


def test_unsupported_values_are_refused():
    request = csom.CsomRequest()
    with pytest.raises(TypeError):
        request.call(1, "M", (1.5,))
    with pytest.raises(TypeError):
        request.call(1, "M", ({"a": 1},))
    with pytest.raises(ValueError, match="U\\+0001"):
        request.call(1, "M", ("bad\x01value",))


@pytest.mark.parametrize("text", ["<b>&amp;</b>", "O'Neil \"Jr\"", "Müller – 東京 – Ελληνικά 🎉", "", "line1\r\nline2\tend", "]]>"])
def test_special_text_round_trips(text):
    request, _tenant, _action = _queue_request(2, text, {text or "k": text, "plain": "x"}, text)
    method = ET.fromstring(request.to_xml()).find(NS + "Actions").find(NS + "Method")
    assert _parameters(method) == [("Enum", "2"), ("String", text), ("Dictionary", {text or "k": text, "plain": "x"}), ("String", text)]


@given(id_property=xml_text, mapping=st.dictionaries(xml_text, xml_text, max_size=5), source=xml_text)
def test_builder_round_trips_any_text(id_property, mapping, source):
    request, _tenant, _action = _queue_request(1, id_property, mapping, source)
    method = ET.fromstring(request.to_xml()).find(NS + "Actions").find(NS + "Method")
    assert _parameters(method) == [("Enum", "1"), ("String", id_property), ("Dictionary", mapping), ("String", source)]


def _answer(*pairs, error=None):
    header = {"SchemaVersion": "15.0.0.0", "LibraryVersion": "16.0.24817.12008", "ErrorInfo": error,
              "TraceCorrelationId": "ab1127a1-5044-8000-b17c-4aafdd265386"}
    return json.dumps([header] + list(pairs))


def test_parse_response_decodes_special_values():
    # The server escapes the slashes: "\/Guid(...)\/".
    text = _answer(2, {"IsNull": False}, 3, "/Guid(5f4e7a2c-1111-2222-3333-444455556666)/").replace("/", "\\/")
    assert '"\\/Guid(5f4e7a2c-1111-2222-3333-444455556666)\\/"' in text
    results = csom.parse_response(text, "queue")
    assert results == {2: {"IsNull": False}, 3: "5f4e7a2c-1111-2222-3333-444455556666"}


def test_parse_response_dates_and_escaped_slashes():
    raw = ('[{"SchemaVersion":"15.0.0.0","LibraryVersion":"16.0.1","ErrorInfo":null},'
           '4,{"_ObjectType_":"Job","SubmitTime":"\\/Date(1536839575320)\\/","Due":"\\/Date(2018,1,7,18,57,20,530)\\/",'
           '"LogFolderUri":"https:\\u002f\\u002fcontoso.sharepoint.com\\u002fShared Documents\\u002fjob",'
           '"Blob":"\\/Base64Binary(aGk=)\\/","Items":["\\/Guid(00000000-0000-0000-0000-000000000000)\\/"],'
           '"Name":"M\\u00fcller"},5,12,6,true]')
    results = csom.parse_response(raw.encode("utf-8"), "get job")
    job = results[4]
    assert job["SubmitTime"] == datetime.datetime(2018, 9, 13, 11, 52, 55, 320000, tzinfo=UTC)
    # The component form has a 0-based month: 1 is February.
    assert job["Due"] == datetime.datetime(2018, 2, 7, 18, 57, 20, 530000, tzinfo=UTC)
    assert job["LogFolderUri"] == "https://contoso.sharepoint.com/Shared Documents/job"
    assert job["Blob"] == b"hi"
    assert job["Items"] == ["00000000-0000-0000-0000-000000000000"]
    assert job["Name"] == "Müller"
    assert results[5] == 12 and results[6] is True


def test_parse_response_error_info_on_http_200():
    info = {"ErrorMessage": "Property Names [AboutMe] are editable by user.", "ErrorValue": None,
            "TraceCorrelationId": "731127a1-9041-8000-99fd-2865e0d78b49", "ErrorCode": -2146232832,
            "ErrorTypeName": "Microsoft.SharePoint.SPException"}
    with pytest.raises(SpoError) as caught:
        csom.parse_response(_answer(error=info), "queue import job")
    err = caught.value
    assert err.message == "Property Names [AboutMe] are editable by user."
    assert err.code == "-2146232832, Microsoft.SharePoint.SPException"
    assert err.request_id == "731127a1-9041-8000-99fd-2865e0d78b49"
    assert err.operation == "queue import job"
    assert str(err).startswith("queue import job: Property Names [AboutMe]")


@pytest.mark.parametrize("text", ["", "<html>oops</html>", "{}", "[]", "[1, 2]", '[{"SchemaVersion": "15"}]',
                                  _answer(2), _answer("x", 1)])
def test_parse_response_rejects_malformed_answers(text):
    with pytest.raises(SpoError) as caught:
        csom.parse_response(text, "op")
    assert caught.value.operation == "op"


@given(values=st.lists(st.one_of(xml_text, st.integers(), st.booleans(), st.none()), max_size=6))
def test_parse_response_keeps_plain_values(values):
    pairs = []
    for index, value in enumerate(values):
        pairs.extend([index + 2, value])
    results = csom.parse_response(_answer(*pairs), "op")
    expected = dict((index + 2, value) for index, value in enumerate(values))
    for key, value in expected.items():
        if isinstance(value, str) and value.startswith("/") and csom._decode_special(value) != value:
            continue  # a text that happens to look like a CSOM special value is decoded, as CSOM clients do
        assert results[key] == value


class _Client:
    admin_url = "https://contoso-admin.sharepoint.com"

    def __init__(self, body):
        self.body = body
        self.calls = []

    def request(self, method, url, operation, **kwargs):
        self.calls.append((method, url, operation, kwargs))

        class _Response:
            content = self.body.encode("utf-8")
        return _Response()


def test_execute_posts_xml_to_the_admin_process_query():
    request, _tenant, action = _queue_request(0, "Id", {"a": "b"}, "src")
    client = _Client(_answer(2, {"IsNull": False}, action, "/Guid(5f4e7a2c-1111-2222-3333-444455556666)/"))
    results = csom.execute(client, request, "queue")
    method, url, operation, kwargs = client.calls[0]
    assert (method, url, operation) == ("POST", "https://contoso-admin.sharepoint.com/_vti_bin/client.svc/ProcessQuery", "queue")
    assert kwargs["headers"]["Content-Type"] == "text/xml"
    assert kwargs["data"] == request.to_xml().encode("utf-8")
    assert results[action] == "5f4e7a2c-1111-2222-3333-444455556666"
