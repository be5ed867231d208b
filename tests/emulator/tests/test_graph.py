"""Microsoft Graph: users (get, list, $select, paging) and photos."""

import hashlib
import io
from urllib.parse import quote

import pytest

from .conftest import TEST_CLIENT_ID, app_certificate

GRAPH = "https://graph.microsoft.com/v1.0"


def image(fmt, size=(96, 64)):
    from PIL import Image

    buffer = io.BytesIO()
    Image.new("RGB", size, (200, 30, 90)).save(buffer, format=fmt)
    return buffer.getvalue()


@pytest.fixture
def graph(emulator, tenant):
    session = emulator.session()
    session.headers["Authorization"] = "Bearer " + emulator.token(tenant, "graph")
    session.tenant = tenant
    return session


def test_list_users_pages_with_next_link(emulator):
    name = emulator.create_tenant(users=[{"upn": "user%03d@big.example" % i} for i in range(250)])["name"]
    session = emulator.session()
    session.headers["Authorization"] = "Bearer " + emulator.token(name, "graph")
    url = GRAPH + "/users?$top=100&$select=id,userPrincipalName"
    seen = []
    pages = 0
    while url:
        body = session.get(url).json()
        pages += 1
        assert all(set(user) == {"id", "userPrincipalName"} for user in body["value"])
        seen += [user["userPrincipalName"] for user in body["value"]]
        url = body.get("@odata.nextLink")
    assert pages == 3
    assert sorted(seen) == ["user%03d@big.example" % i for i in range(250)]


def test_list_users_default_properties_and_bad_top(graph):
    body = graph.get(GRAPH + "/users").json()
    assert "@odata.nextLink" not in body
    assert {"id", "displayName", "userPrincipalName", "mail", "jobTitle"} <= set(body["value"][0])
    response = graph.get(GRAPH + "/users?$top=1000")
    assert response.status_code == 400


def test_get_user_by_upn_id_and_guest_upn(emulator, graph):
    tenant = graph.tenant
    by_upn = graph.get(GRAPH + "/users/ben@%s.com" % tenant).json()
    assert by_upn["mail"] == "ben.mail@%s.com" % tenant
    by_id = graph.get(GRAPH + "/users/" + by_upn["id"] + "?$select=userPrincipalName,userType").json()
    assert by_id == {"@odata.context": GRAPH + "/$metadata#users/$entity",
                     "userPrincipalName": "ben@%s.com" % tenant, "userType": "Member"}
    guest_upn = "guest_partner.com#EXT#@%s.onmicrosoft.com" % tenant
    guest = graph.get(GRAPH + "/users/" + quote(guest_upn, safe="@")).json()
    assert guest["userPrincipalName"] == guest_upn
    missing = graph.get(GRAPH + "/users/nobody@nowhere.example")
    assert missing.status_code == 404
    assert missing.json()["error"]["code"] == "Request_ResourceNotFound"


@pytest.mark.parametrize("fmt, content_type", [("JPEG", "image/jpeg"), ("PNG", "image/png"),
                                               ("GIF", "image/gif"), ("BMP", "image/bmp")])
def test_photo_roundtrip(emulator, graph, fmt, content_type):
    user = "adele@%s.com" % graph.tenant
    data = image(fmt, (120, 80))
    assert graph.put(GRAPH + "/users/%s/photo/$value" % user, data=data,
                     headers={"Content-Type": content_type}).status_code == 200
    meta = graph.get(GRAPH + "/users/%s/photo" % user).json()
    assert (meta["width"], meta["height"], meta["id"]) == (120, 80, "120X80")
    assert meta["@odata.mediaContentType"] == content_type
    assert meta["@odata.mediaEtag"].startswith('"')
    value = graph.get(GRAPH + "/users/%s/photo/%%24value" % user)
    assert value.content == data
    assert value.headers["Content-Type"] == content_type
    control = emulator.control("GET", "tenants/%s/photos/%s" % (graph.tenant, user)).json()
    assert control["graph"]["sha256"] == hashlib.sha256(data).hexdigest()
    assert control["graph"]["bytes"] == len(data)


def test_photo_patch_delete_and_missing(graph):
    user = "ben@%s.com" % graph.tenant
    missing = graph.get(GRAPH + "/users/%s/photo/$value" % user)
    assert missing.status_code == 404 and missing.json()["error"]["code"] == "ImageNotFound"
    assert graph.get(GRAPH + "/users/%s/photo" % user).status_code == 404
    assert graph.patch(GRAPH + "/users/%s/photo/$value" % user, data=image("PNG")).status_code == 200
    assert graph.get(GRAPH + "/users/%s/photo" % user).json()["width"] == 96
    assert graph.delete(GRAPH + "/users/%s/photo/$value" % user).status_code == 204
    assert graph.get(GRAPH + "/users/%s/photo/$value" % user).status_code == 404


def test_photo_too_large_or_not_an_image(graph):
    user = "adele@%s.com" % graph.tenant
    big = image("BMP", (1200, 1200))  # 4.3 MB: a real image over the limit
    assert len(big) > 4 * 1024 * 1024
    response = graph.put(GRAPH + "/users/%s/photo/$value" % user, data=big, headers={"Content-Type": "image/bmp"})
    assert response.status_code == 413
    assert "4 MB" in response.json()["error"]["message"]
    response = graph.put(GRAPH + "/users/%s/photo/$value" % user, data=b"%PDF-1.7 not an image",
                         headers={"Content-Type": "image/jpeg"})
    assert response.status_code == 400
    assert response.json()["error"]["code"] == "ImageInvalid"
    assert graph.get(GRAPH + "/users/%s/photo" % user).status_code == 404


def test_photo_write_needs_a_write_role(emulator):
    name = emulator.create_tenant(apps=[{"client_id": TEST_CLIENT_ID, "certificate_pem": app_certificate(),
                                         "roles": ["User.Read.All"]}])["name"]
    session = emulator.session()
    session.headers["Authorization"] = "Bearer " + emulator.token(name, "graph")
    assert session.get(GRAPH + "/users").status_code == 200
    response = session.put(GRAPH + "/users/adele@%s.com/photo/$value" % name, data=image("PNG"))
    assert response.status_code == 403
    assert response.json()["error"]["code"] == "Authorization_RequestDenied"


def test_graph_accepts_secret_tokens(emulator, tenant):
    session = emulator.session()
    session.headers["Authorization"] = "Bearer " + emulator.token(tenant, "graph", credential="secret")
    assert session.get(GRAPH + "/users/adele@%s.com" % tenant).status_code == 200


def test_image_header_parser_rejects_truncated_files():
    from m365emu.graph import image_info

    assert image_info(image("JPEG")[:20]) is None
    assert image_info(b"\x89PNG\r\n\x1a\n") is None
    assert image_info(b"") is None
    assert image_info(image("JPEG", (33, 17))) == ("image/jpeg", 33, 17)


def test_list_users_filter(graph):
    tenant = graph.tenant
    body = graph.get(GRAPH + "/users", params={"$filter": "mail eq 'BEN.MAIL@%s.com'" % tenant}).json()
    assert [user["userPrincipalName"] for user in body["value"]] == ["ben@%s.com" % tenant]
    body = graph.get(GRAPH + "/users", params={"$filter": "userType eq 'Guest'", "$select": "id"}).json()
    assert len(body["value"]) == 1
    body = graph.get(GRAPH + "/users", params={"$filter": "startswith(userPrincipalName,'ad')"}).json()
    assert [user["userPrincipalName"] for user in body["value"]] == ["adele@%s.com" % tenant]
    response = graph.get(GRAPH + "/users", params={"$filter": "city eq 'Paris'"})
    assert response.status_code == 400
    assert response.json()["error"]["code"] == "Request_UnsupportedQuery"


@pytest.fixture
def directory(emulator):
    """A tenant with members, a guest and a disabled account, and a Graph session for it."""
    name = emulator.create_tenant(users=[
        {"upn": "ann@dir.example", "mail": "ann.smith@dir.example", "given_name": "Ann"},
        {"upn": "bob@dir.example", "account_enabled": False},
        {"upn": "cy_partner.example#EXT#@dir.onmicrosoft.com", "mail": "cy@partner.example"},
        {"upn": "dee@dir.example"}])["name"]
    session = emulator.session()
    session.headers["Authorization"] = "Bearer " + emulator.token(name, "graph")
    session.tenant = name
    return session


def upns(response):
    assert response.status_code == 200, response.text
    return sorted(user["userPrincipalName"] for user in response.json()["value"])


@pytest.mark.parametrize("expression, expected", [
    ("userPrincipalName eq 'ANN@dir.example'", ["ann@dir.example"]),
    ("mail eq 'cy@partner.example'", ["cy_partner.example#EXT#@dir.onmicrosoft.com"]),
    ("userPrincipalName in ('ann@dir.example', 'dee@dir.example', 'zed@dir.example')", ["ann@dir.example", "dee@dir.example"]),
    ("mail in ('ann.smith@dir.example','bob@dir.example')", ["ann@dir.example", "bob@dir.example"]),
    ("accountEnabled eq false", ["bob@dir.example"]),
    ("userType eq 'Guest'", ["cy_partner.example#EXT#@dir.onmicrosoft.com"]),
    ("userType eq 'Member' and accountEnabled eq true", ["ann@dir.example", "dee@dir.example"]),
    ("userPrincipalName eq 'ann@dir.example' or mail eq 'cy@partner.example'",
     ["ann@dir.example", "cy_partner.example#EXT#@dir.onmicrosoft.com"]),
    ("startswith(givenName,'an')", ["ann@dir.example"]),
    ("(userType eq 'Guest' or accountEnabled eq false) and startswith(userPrincipalName,'b')", ["bob@dir.example"]),
    ("userType eq 'Guest' or accountEnabled eq false and startswith(userPrincipalName,'b')",
     ["bob@dir.example", "cy_partner.example#EXT#@dir.onmicrosoft.com"]),
])
def test_list_users_filters(directory, expression, expected):
    assert upns(directory.get(GRAPH + "/users", params={"$filter": expression, "$select": "userPrincipalName"})) == expected


def test_guest_and_disabled_accounts_show_their_type_and_state(directory):
    users = {u["userPrincipalName"]: u for u in directory.get(GRAPH + "/users", params={
        "$select": "id,userPrincipalName,mail,userType,accountEnabled"}).json()["value"]}
    assert set(users["bob@dir.example"]) == {"id", "userPrincipalName", "mail", "userType", "accountEnabled"}
    assert users["bob@dir.example"]["accountEnabled"] is False and users["ann@dir.example"]["accountEnabled"] is True
    assert users["cy_partner.example#EXT#@dir.onmicrosoft.com"]["userType"] == "Guest"
    assert "accountEnabled" not in directory.get(GRAPH + "/users").json()["value"][0]   # not a default property


@pytest.mark.parametrize("expression", [
    "department eq 'Sales'", "userPrincipalName ne 'x'", "accountEnabled eq 'yes'", "startswith(id,'1')",
    "userPrincipalName in ('a'", "mail eq 'a' xor mail eq 'b'", "(mail eq 'a'", "mail eq 'a')",
    "id in (%s)" % ",".join("'%d'" % i for i in range(16)),
])
def test_unsupported_filters_answer_400(directory, expression):
    response = directory.get(GRAPH + "/users", params={"$filter": expression})
    assert response.status_code == 400 and response.json()["error"]["code"] == "Request_UnsupportedQuery"


def test_fifteen_expressions_are_accepted(directory):
    values = ["'u%d@dir.example'" % i for i in range(14)] + ["'dee@dir.example'"]
    response = directory.get(GRAPH + "/users", params={"$filter": "userPrincipalName in (%s)" % ",".join(values)})
    assert upns(response) == ["dee@dir.example"]


def test_filtered_list_pages_with_next_link(directory):
    url = GRAPH + "/users?$top=1&$select=userPrincipalName&$filter=accountEnabled%20eq%20true"
    seen = []
    while url:
        body = directory.get(url).json()
        seen += [user["userPrincipalName"] for user in body["value"]]
        url = body.get("@odata.nextLink")
    assert sorted(seen) == ["ann@dir.example", "cy_partner.example#EXT#@dir.onmicrosoft.com", "dee@dir.example"]


def test_batch_of_user_reads_answers_each_by_id(directory):
    ids = {u["userPrincipalName"]: u["id"] for u in directory.get(GRAPH + "/users?$select=id,userPrincipalName").json()["value"]}
    requests = [{"id": str(n), "method": "GET", "url": "/users/%s?$select=id,accountEnabled" % object_id}
                for n, object_id in enumerate(sorted(ids.values()))]
    requests.append({"id": "missing", "method": "GET", "url": "/users/00000000-0000-0000-0000-000000000000"})
    requests.append({"id": "list", "method": "GET", "url": "users?$filter=userType%20eq%20'Guest'&$select=mail"})
    response = directory.post(GRAPH + "/$batch", json={"requests": requests})
    assert response.status_code == 200
    answers = {answer["id"]: answer for answer in response.json()["responses"]}
    assert set(answers) == {r["id"] for r in requests}
    for n, object_id in enumerate(sorted(ids.values())):
        assert answers[str(n)]["status"] == 200
        assert answers[str(n)]["body"]["id"] == object_id
        assert answers[str(n)]["headers"]["Content-Type"].startswith("application/json")
    assert answers["missing"]["status"] == 404
    assert answers["missing"]["body"]["error"]["code"] == "Request_ResourceNotFound"
    assert answers["list"]["body"]["value"] == [{"mail": "cy@partner.example"}]


def test_batch_limits_and_shape(directory):
    one = {"id": "1", "method": "GET", "url": "/users"}
    assert directory.post(GRAPH + "/$batch", json={"requests": [dict(one, id=str(n)) for n in range(20)]}).status_code == 200
    too_many = directory.post(GRAPH + "/$batch", json={"requests": [dict(one, id=str(n)) for n in range(21)]})
    assert too_many.status_code == 400 and too_many.json()["error"]["code"] == "BadRequest"
    for bad in ({}, {"requests": []}, {"requests": [one, one]}, {"requests": [{"id": "1", "url": "/users"}]}):
        assert directory.post(GRAPH + "/$batch", json=bad).status_code == 400, bad


def test_batch_checks_permissions_per_request(emulator):
    name = emulator.create_tenant(apps=[{"client_id": TEST_CLIENT_ID, "certificate_pem": app_certificate(),
                                         "roles": {"graph": ["ProfilePhoto.ReadWrite.All"]}}])["name"]
    session = emulator.session()
    session.headers["Authorization"] = "Bearer " + emulator.token(name, "graph")
    answer = session.post(GRAPH + "/$batch", json={"requests": [{"id": "a", "method": "GET", "url": "/users"}]})
    assert answer.status_code == 200
    assert answer.json()["responses"][0]["status"] == 403
