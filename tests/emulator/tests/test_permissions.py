"""Application permissions per API and per resource (permissions.py), end to end through the proxy."""

import jwt
import pytest

from .conftest import TEST_CLIENT_ID, app_certificate

GRAPH = "https://graph.microsoft.com/v1.0"
TENANT_API = "_api/Microsoft.Online.SharePoint.TenantManagement.Office365Tenant/"
PROCESS_QUERY = "_vti_bin/client.svc/ProcessQuery"
LIST_JOBS = ('<Request AddExpandoFieldTypeSuffix="true" SchemaVersion="15.0.0.0" LibraryVersion="16.0.0.0" '
             'ApplicationName="tests" xmlns="http://schemas.microsoft.com/sharepoint/clientquery/2009"><Actions>'
             '<Query Id="5" ObjectPathId="3"><Query SelectAllProperties="true"><Properties /></Query>'
             '<ChildItemQuery SelectAllProperties="true"><Properties /></ChildItemQuery></Query></Actions><ObjectPaths>'
             '<Constructor Id="1" TypeId="{e45fd516-a408-4ca4-b6dc-268e2f1f0f83}" />'
             '<Method Id="3" ParentId="1" Name="GetImportProfilePropertyJobs" /></ObjectPaths></Request>')


class App:
    """One app registration in its own tenant, with sessions for SharePoint and Graph."""

    def __init__(self, emulator, roles):
        self.tenant = emulator.create_tenant(apps=[{"client_id": TEST_CLIENT_ID, "certificate_pem": app_certificate(),
                                                    "roles": roles}])["name"]
        self.sharepoint_token = emulator.token(self.tenant)
        self.graph_token = emulator.token(self.tenant, "graph")
        self.sp = emulator.session()
        self.sp.headers.update({"Authorization": "Bearer " + self.sharepoint_token,
                                "Accept": "application/json;odata=nometadata"})
        self.graph = emulator.session()
        self.graph.headers["Authorization"] = "Bearer " + self.graph_token

    def url(self, path, host=""):
        return "https://%s%s.sharepoint.com/%s" % (self.tenant, host, path)

    def get_properties(self):
        return self.sp.get(self.url("_api/SP.UserProfiles.PeopleManager/GetPropertiesFor(accountName=@v)"
                                    "?@v='i:0%%23.f|membership|adele@%s.com'" % self.tenant, "-admin"))

    def list_jobs_rest(self):
        return self.sp.post(self.url(TENANT_API + "GetImportProfilePropertyJobs", "-admin"))

    def list_jobs_csom(self):
        return self.sp.post(self.url(PROCESS_QUERY, "-admin"), data=LIST_JOBS, headers={"Content-Type": "text/xml"})

    def upload(self):
        return self.sp.post(self.url("_api/web/GetFolderByServerRelativeUrl('Shared Documents')/Files/"
                                     "add(url='p.txt',overwrite=true)"), data=b"x")


def roles_of(token):
    return jwt.decode(token, options={"verify_signature": False})["roles"]


def test_roles_are_kept_per_resource_and_tokens_carry_their_resource_roles(emulator):
    app = App(emulator, {"sharepoint": ["Sites.FullControl.All", "User.ReadWrite.All"],
                         "graph": ["ProfilePhoto.ReadWrite.All"]})
    assert roles_of(app.sharepoint_token) == ["Sites.FullControl.All", "User.ReadWrite.All"]
    assert roles_of(app.graph_token) == ["ProfilePhoto.ReadWrite.All"]
    detail = emulator.control("GET", "tenants/" + app.tenant).json()["apps"][TEST_CLIENT_ID]
    assert detail["roles"] == {"sharepoint": ["Sites.FullControl.All", "User.ReadWrite.All"],
                               "graph": ["ProfilePhoto.ReadWrite.All"]}


def test_a_plain_list_grants_the_same_roles_on_both_resources(emulator):
    app = App(emulator, ["Sites.FullControl.All", "User.ReadWrite.All"])
    assert roles_of(app.sharepoint_token) == roles_of(app.graph_token) == ["Sites.FullControl.All", "User.ReadWrite.All"]
    assert app.get_properties().status_code == 200
    assert app.graph.get(GRAPH + "/users").status_code == 200


def test_full_control_alone_is_refused_by_people_manager_and_the_bulk_import_api(emulator):
    app = App(emulator, {"sharepoint": ["Sites.FullControl.All"], "graph": ["User.ReadWrite.All"]})
    denied = app.get_properties()
    assert denied.status_code == 403
    assert denied.json()["odata.error"] == {
        "code": "-2147024891, System.UnauthorizedAccessException",
        "message": {"lang": "en-US", "value": "Access Denied: This application does not have the required "
                                              "permissions to access profile information."}}
    rest = app.list_jobs_rest()
    assert rest.status_code == 403
    assert rest.json()["odata.error"]["code"] == "-2147024891, System.UnauthorizedAccessException"
    csom = app.list_jobs_csom()
    assert csom.status_code == 200   # CSOM reports a server exception in the answer, on HTTP 200
    error = csom.json()[0]["ErrorInfo"]
    assert (error["ErrorCode"], error["ErrorTypeName"]) == (-2147024891, "System.UnauthorizedAccessException")
    assert error["ErrorMessage"].startswith("Access denied.")
    assert app.upload().status_code == 200                       # files need a site role only
    assert app.graph.get(GRAPH + "/users").status_code == 200     # the Graph User.ReadWrite.All is another permission


def test_sharepoint_user_readwrite_alone_does_not_reach_graph(emulator):
    app = App(emulator, {"sharepoint": ["Sites.FullControl.All", "User.ReadWrite.All"], "graph": []})
    assert app.get_properties().status_code == 200
    assert app.list_jobs_rest().status_code == 200
    assert app.list_jobs_csom().json()[0]["ErrorInfo"] is None
    denied = app.graph.get(GRAPH + "/users")
    assert denied.status_code == 403 and denied.json()["error"]["code"] == "Authorization_RequestDenied"


@pytest.mark.parametrize("role", ["Sites.ReadWrite.All", "Sites.Manage.All", "Sites.FullControl.All"])
def test_any_site_write_role_writes_files(emulator, role):
    app = App(emulator, {"sharepoint": [role]})
    assert app.upload().status_code == 200


def test_sites_read_reads_files_but_does_not_write_them(emulator):
    app = App(emulator, {"sharepoint": ["Sites.Read.All"]})
    assert app.sp.get(app.url("_api/web/GetFolderByServerRelativeUrl('Shared Documents')")).status_code == 200
    denied = app.upload()
    assert denied.status_code == 403
    assert denied.json()["odata.error"]["message"]["value"].startswith("Access denied.")


@pytest.mark.parametrize("roles, read_users, write_photo", [
    (["User.Read.All"], 200, 403),
    (["ProfilePhoto.ReadWrite.All"], 403, 200),
    (["User.ReadWrite.All"], 200, 200),
    (["Directory.Read.All"], 200, 403),
])
def test_graph_roles_for_users_and_photos(emulator, roles, read_users, write_photo):
    from .test_graph import image

    app = App(emulator, {"graph": roles})
    assert app.graph.get(GRAPH + "/users?$select=id").status_code == read_users
    put = app.graph.put(GRAPH + "/users/adele@%s.com/photo/$value" % app.tenant, data=image("PNG"),
                        headers={"Content-Type": "image/png"})
    assert put.status_code == write_photo


@pytest.mark.parametrize("roles", [{"exchange": ["x"]}, {"graph": "User.Read.All"}, "Sites.FullControl.All", [1]])
def test_bad_role_specs_are_refused(emulator, roles):
    response = emulator.control("POST", "tenants", json={
        "name": "badroles", "apps": [{"client_id": TEST_CLIENT_ID, "certificate_pem": app_certificate(), "roles": roles}]})
    assert response.status_code == 400 and "roles" in response.json()["error"]
