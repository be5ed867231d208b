"""The /_emulator/ control plane, persistence across restarts, and the demo seed."""

import calendar
import time

from .conftest import DEMO_SEED, TEST_CLIENT_ID, Emulator

GRAPH = "https://graph.microsoft.com/v1.0"


def test_health(emulator):
    response = emulator.control("GET", "health")
    assert response.status_code == 200
    assert response.json()["status"] == "ok"


def test_create_list_get_delete_tenant(emulator):
    created = emulator.create_tenant(properties=[{"name": "CostCenter"},
                                                 {"name": "FavoriteColor", "user_editable": True},
                                                 {"name": "Certifications", "multi_value": True}])
    name = created["name"]
    assert created["hosts"] == ["%s.sharepoint.com" % name, "%s-admin.sharepoint.com" % name,
                                "%s-my.sharepoint.com" % name]
    assert name in [t["name"] for t in emulator.control("GET", "tenants").json()["tenants"]]
    detail = emulator.control("GET", "tenants/" + name).json()
    props = detail["properties"]
    assert props["CostCenter"] == {"user_editable": False, "multi_value": False, "taxonomy": False, "core": False,
                                   "read_only": False}
    assert props["FavoriteColor"]["user_editable"] is True
    assert props["Certifications"]["multi_value"] is True
    assert props["AboutMe"]["user_editable"] is True and props["SPS-Skills"]["multi_value"] is True
    assert props["Department"]["core"] is True and props["PictureURL"]["core"] is False
    all_roles = ["Sites.FullControl.All", "User.ReadWrite.All", "ProfilePhoto.ReadWrite.All"]
    assert detail["apps"][TEST_CLIENT_ID] == {"roles": {"sharepoint": all_roles, "graph": all_roles},
                                              "credential": "certificate"}
    assert "emulator-test-secret-not-real" not in str(detail)
    assert emulator.control("DELETE", "tenants/" + name).status_code == 204
    assert emulator.control("GET", "tenants/" + name).status_code == 404


def test_tenant_validation(emulator):
    created = emulator.create_tenant()
    duplicate = emulator.control("POST", "tenants", json={"name": created["name"]})
    assert duplicate.status_code == 409
    for bad in ({"name": "Bad Name"}, {"name": "ok1", "tenant_id": "not-a-guid"},
                {"name": "ok2", "users": [{"mail": "no-upn@x"}]},
                {"name": "ok3", "apps": [{"client_id": "x", "roles": []}]},
                {"name": "ok4", "properties": [{"name": "Department"}]}):
        response = emulator.control("POST", "tenants", json=bad)
        assert response.status_code == 400, bad
    assert emulator.control("POST", "tenants", data=b"{not json").status_code == 400


def test_ids_are_generated_and_deterministic(emulator):
    first = emulator.create_tenant(name="detid1")
    users = emulator.control("GET", "tenants/detid1/users").json()["users"]
    emulator.control("DELETE", "tenants/detid1")
    again = emulator.create_tenant(name="detid1")
    assert again["tenant_id"] == first["tenant_id"]
    assert emulator.control("GET", "tenants/detid1/users").json()["users"] == users
    assert all(len(user["object_id"]) == 36 for user in users)
    guest = [user for user in users if "#EXT#" in user["upn"]][0]
    assert guest["guest"] is True


def test_core_properties_constant_matches_tenant(emulator, tenant):
    from m365emu.store import CORE_PROPERTIES

    props = emulator.control("GET", "tenants/" + tenant).json()["properties"]
    assert sorted(name for name, spec in props.items() if spec["core"]) == sorted(CORE_PROPERTIES)


def test_profiles(emulator, tenant):
    profile = emulator.control("GET", "tenants/%s/profiles/ben@%s.com" % (tenant, tenant)).json()
    assert profile["upn"] == "ben@%s.com" % tenant
    assert profile["properties"]["WorkEmail"] == "ben.mail@%s.com" % tenant
    assert profile["properties"]["AccountName"] == "i:0#.f|membership|ben@%s.com" % tenant
    assert profile["properties"]["SPS-Skills"] == []
    updated = emulator.control("PATCH", "tenants/%s/profiles/ben@%s.com" % (tenant, tenant),
                               json={"AboutMe": "Hi", "SPS-Skills": ["a", "b"]}).json()
    assert updated["properties"]["AboutMe"] == "Hi"
    by_mail = emulator.control("GET", "tenants/%s/profiles/ben.mail@%s.com" % (tenant, tenant)).json()
    assert by_mail["properties"]["SPS-Skills"] == ["a", "b"]
    assert emulator.control("GET", "tenants/%s/profiles/nopro@%s.com" % (tenant, tenant)).status_code == 404
    assert emulator.control("GET", "tenants/%s/profiles/nobody@x" % tenant).status_code == 404
    bad = emulator.control("PATCH", "tenants/%s/profiles/ben@%s.com" % (tenant, tenant), json={"Nope": "x"})
    assert bad.status_code == 400


def test_request_log_with_since_and_clear(emulator, tenant):
    session = emulator.session()
    session.headers["Authorization"] = "Bearer " + emulator.token(tenant, "graph")
    before = emulator.request_log(tenant)
    assert [entry["path"] for entry in before][-2:] == [
        "/%s.onmicrosoft.com/v2.0/.well-known/openid-configuration" % tenant,
        "/%s.onmicrosoft.com/oauth2/v2.0/token" % tenant]
    since = before[-1]["seq"]
    session.get(GRAPH + "/users?$top=1")
    session.get(GRAPH + "/users/nobody@x")
    after = emulator.request_log(tenant, since)
    assert [(e["method"], e["host"], e["path"], e["status"], e["tenant"], e["throttled"]) for e in after] == [
        ("GET", "graph.microsoft.com", "/v1.0/users", 200, tenant, False),
        ("GET", "graph.microsoft.com", "/v1.0/users/nobody@x", 404, tenant, False)]
    assert abs(after[0]["time"] - time.time()) < 60
    assert emulator.control("DELETE", "tenants/%s/requests" % tenant).status_code == 200
    assert emulator.request_log(tenant) == []


def test_control_plane_errors(emulator):
    assert emulator.control("GET", "nothing").status_code == 404
    assert emulator.control("GET", "tenants/nosuch/profiles/x").status_code == 404


def test_state_survives_a_restart(fresh_emulator):
    emulator = fresh_emulator.start()
    with open(emulator.ca_path, encoding="ascii") as handle:
        ca_before = handle.read()
    name = emulator.create_tenant()["name"]
    emulator.control("PATCH", "tenants/%s/profiles/adele@%s.com" % (name, name), json={"AboutMe": "persisted"})
    graph_token = emulator.token(name, "graph")
    session = emulator.session()
    session.headers["Authorization"] = "Bearer " + graph_token
    assert session.put(GRAPH + "/users/adele@%s.com/photo/$value" % name,
                       data=b"GIF89a\x10\x00\x08\x00" + b"\x00" * 30).status_code == 200
    emulator.restart()
    with open(emulator.ca_path, encoding="ascii") as handle:
        assert handle.read() == ca_before
    profile = emulator.control("GET", "tenants/%s/profiles/adele@%s.com" % (name, name)).json()
    assert profile["properties"]["AboutMe"] == "persisted"
    photo = emulator.control("GET", "tenants/%s/photos/adele@%s.com" % (name, name)).json()["graph"]
    assert (photo["width"], photo["height"]) == (16, 8)
    session = emulator.session()
    session.headers["Authorization"] = "Bearer " + graph_token  # the signing key is kept too
    assert session.get(GRAPH + "/users/adele@%s.com/photo/$value" % name).content.startswith(b"GIF89a")


def test_demo_seed(tmp_path):
    emulator = Emulator(tmp_path / "data", seed=DEMO_SEED).start()
    try:
        tenants = {t["name"]: t for t in emulator.control("GET", "tenants").json()["tenants"]}
        assert set(tenants) == {"contoso", "fabrikam", "northwind"}
        assert all(t["users"] >= 1000 for t in tenants.values())
        users = emulator.control("GET", "tenants/contoso/users").json()["users"]
        assert sum(1 for u in users if u["guest"]) >= 3
        assert sum(1 for u in users if not u["has_profile"]) >= 3
        assert len({u["upn"].lower() for u in users}) == len(users)
        props = emulator.control("GET", "tenants/contoso").json()["properties"]
        assert props["FavoriteColor"]["user_editable"] and props["Certifications"]["multi_value"]
        assert not props["CostCenter"]["user_editable"]
        for name in tenants:  # the shipped test certificate works in every tenant
            assert emulator.token(name)
        emulator.restart()  # the seed does not duplicate or reset existing tenants
        assert len(emulator.control("GET", "tenants").json()["tenants"]) == 3
    finally:
        emulator.stop()


def test_age_files_and_folders_of_a_library_folder(emulator, tenant):
    session = emulator.session()
    session.headers.update({"Authorization": "Bearer " + emulator.token(tenant), "Accept": "application/json;odata=nometadata"})
    web = "https://%s.sharepoint.com/_api/web" % tenant
    assert session.post(web + "/Folders/AddUsingPath(DecodedUrl='Shared Documents/Imports/job-1')").status_code == 200
    for name in ("old.json", "new.json"):
        assert session.post(web + "/GetFolderByServerRelativeUrl('Shared Documents/Imports')/Files/add(url='%s',overwrite=true)"
                            % name, data=b"{}").status_code == 200

    aged = emulator.control("POST", "tenants/%s/files/age" % tenant,
                            json={"path": "/Shared Documents/Imports", "days": 40, "names": ["old.json", "JOB-1"]})
    assert aged.status_code == 200
    assert aged.json() == {"aged": ["job-1", "old.json"]}

    def modified(kind, name):
        item = session.get(web + "/GetFolderByServerRelativeUrl('Shared Documents/Imports')/%s('%s')" % (kind, name)).json()
        return calendar.timegm(time.strptime(item["TimeLastModified"], "%Y-%m-%dT%H:%M:%SZ"))

    now = time.time()
    assert 39.9 * 86400 < now - modified("Files", "old.json") < 40.1 * 86400
    assert 39.9 * 86400 < now - modified("Folders", "job-1") < 40.1 * 86400
    assert now - modified("Files", "new.json") < 3600
    assert emulator.control("POST", "tenants/%s/files/age" % tenant, json={"path": "/Shared Documents/Nope", "days": 1}).status_code == 404
    assert emulator.control("POST", "tenants/%s/files/age" % tenant, json={"path": "/Shared Documents", "days": "x"}).status_code == 400


def test_properties_can_be_defined_after_the_tenant_exists(emulator, tenant):
    defined = emulator.control("POST", "tenants/%s/properties" % tenant, json=[
        {"name": "Expertise", "multi_value": True, "taxonomy": True},
        {"name": "Nickname", "user_editable": True}]).json()["properties"]
    assert defined["Expertise"] == {"user_editable": False, "multi_value": True, "taxonomy": True, "core": False,
                                    "read_only": False}
    assert defined["Nickname"]["user_editable"] is True
    redefined = emulator.control("POST", "tenants/%s/properties" % tenant, json={"name": "nickname"}).json()["properties"]
    assert "Nickname" not in redefined and redefined["nickname"]["user_editable"] is False   # names match without case
    assert emulator.control("GET", "tenants/%s/properties" % tenant).json()["properties"] == redefined
    profile = emulator.control("GET", "tenants/%s/profiles/adele@%s.com" % (tenant, tenant)).json()["properties"]
    assert profile["Expertise"] == [] and profile["nickname"] == ""
    for bad in ({"name": "Department"}, {"name": "X", "multi_value": "yes"}, {"name": "Y", "policy": "hidden"}, {}):
        response = emulator.control("POST", "tenants/%s/properties" % tenant, json=bad)
        assert response.status_code == 400, bad
