"""Document libraries: folders, files, metadata, deletes and chunked uploads (spfiles.py)."""

import io
import re
import uuid

import pytest

from .sp_harness import MY, ROOT, SharePoint

from m365emu import spfiles

LIB = ROOT + "/_api/web/GetFolderByServerRelativeUrl('Shared Documents')"


@pytest.fixture
def sp(tmp_path):
    return SharePoint(str(tmp_path))


def test_simple_upload_returns_file_metadata_in_sharepoint_formats(sp):
    info = sp.upload("Shared Documents", "a.txt", b"hello")
    assert info["Length"] == "5"
    assert info["Name"] == "a.txt"
    assert info["ServerRelativeUrl"] == "/Shared Documents/a.txt"
    assert re.match(r'^"\{[0-9A-F-]{36}\},1"$', info["ETag"])
    assert re.match(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$", info["TimeLastModified"])
    assert info["UniqueId"] == info["UniqueId"].lower() and info["UniqueId"].upper() in info["ETag"]
    assert info["Exists"] is True and info["MajorVersion"] == 1


def test_cli_form_with_decoded_path_and_spaces_after_commas(sp):
    url = (ROOT + "/_api/web/GetFolderByServerRelativePath(DecodedUrl='%2FShared%20Documents')"
           "/Files/Add(url='b.txt', overwrite=true)")
    reply = sp.request("POST", url, b"abc")
    assert reply.status == 200
    content = sp.request("GET", ROOT + "/_api/web/GetFileByServerRelativePath(DecodedUrl='/Shared Documents/b.txt')/$value")
    assert content.content == b"abc"


def test_overwrite_bumps_version_keeps_unique_id_and_overwrite_false_is_refused(sp):
    first = sp.upload("Shared Documents", "a.txt", b"1")
    second = sp.upload("Shared Documents", "a.txt", b"22")
    assert second["UniqueId"] == first["UniqueId"]
    assert second["MajorVersion"] == 2 and second["ETag"].endswith(',2"')
    refused = sp.request("POST", LIB + "/Files/add(url='a.txt',overwrite=false)", b"333")
    assert refused.status == 400
    error = refused.json()["odata.error"]
    assert error["code"].startswith("-2130575257,")
    assert "already exists" in error["message"]["value"]
    assert sp.request("GET", LIB + "/Files('a.txt')/$value").content == b"22"


def test_add_using_path_and_quotes_doubled_in_names(sp):
    reply = sp.request("POST", LIB + "/Files/AddUsingPath(DecodedUrl='it''s.txt',Overwrite=true)", b"q")
    assert reply.json()["ServerRelativeUrl"] == "/Shared Documents/it's.txt"
    found = sp.request("GET", ROOT + "/_api/web/GetFileByServerRelativeUrl('%2FShared%20Documents%2Fit''s.txt')?$select=Name,Exists")
    assert found.json() == {"Name": "it's.txt", "Exists": True}


def test_verbose_answers_wrap_in_d_with_metadata(sp):
    sp.upload("Shared Documents", "a.txt", b"x")
    reply = sp.request("GET", ROOT + "/_api/web/GetFileByServerRelativeUrl('/Shared Documents/a.txt')", verbose=True)
    body = reply.json()["d"]
    assert body["__metadata"]["type"] == "SP.File"
    assert body["Length"] == "1"
    listing = sp.request("GET", LIB + "/Files?$select=Name", verbose=True).json()
    assert listing["d"]["results"][0]["Name"] == "a.txt"


def test_folders_listing_expand_and_add(sp):
    assert sp.request("POST", LIB + "/Folders/add('import')").status == 200
    assert sp.request("POST", ROOT + "/_api/web/GetFolderByServerRelativeUrl('Shared Documents/import')/Folders/Add(url='sub')").status == 200
    # a site-relative path given to Folders/add lands at that path, parents created
    made = sp.request("POST", LIB + "/Folders/add('Shared Documents/x/y')").json()
    assert made["ServerRelativeUrl"] == "/Shared Documents/x/y"
    sp.upload("Shared Documents/import", "f.json", b"{}")
    folder = sp.request("GET", ROOT + "/_api/web/GetFolderByServerRelativeUrl('/Shared Documents/import')?$expand=Folders,Files").json()
    assert [f["Name"] for f in folder["Files"]] == ["f.json"]
    assert [f["Name"] for f in folder["Folders"]] == ["sub"]
    names = [f["Name"] for f in sp.request("GET", LIB + "/Folders").json()["value"]]
    assert names == ["Forms", "import", "x"]   # real libraries have a Forms folder


def test_paths_are_case_insensitive_and_site_relative(sp):
    sp.upload("Shared Documents", "Case.txt", b"x")
    for form in ("'/shared documents/case.TXT'", "'Shared Documents/Case.txt'"):
        reply = sp.request("GET", ROOT + "/_api/web/GetFileByServerRelativeUrl(%s)?$select=ServerRelativeUrl" % form)
        assert reply.json() == {"ServerRelativeUrl": "/Shared Documents/Case.txt"}


def test_missing_file_and_folder_are_404_in_sharepoint_shape(sp):
    missing = sp.request("GET", ROOT + "/_api/web/GetFileByServerRelativeUrl('/Shared Documents/none.txt')")
    assert missing.status == 404
    assert missing.json()["odata.error"]["message"]["value"] == "The file /Shared Documents/none.txt does not exist."
    folder = sp.request("GET", ROOT + "/_api/web/GetFolderByServerRelativeUrl('/Shared Documents/none')", verbose=True)
    assert folder.status == 404
    assert folder.json()["error"]["code"] == "-2147024894, System.IO.FileNotFoundException"


def test_delete_by_verb_and_by_x_http_method_and_recursive_folders(sp):
    sp.upload("Shared Documents", "a.txt", b"x")
    sp.upload("Shared Documents", "b.txt", b"x")
    file_a = ROOT + "/_api/web/GetFileByServerRelativeUrl('/Shared Documents/a.txt')"
    assert sp.request("DELETE", file_a).status == 200
    assert sp.request("GET", file_a).status == 404
    file_b = ROOT + "/_api/Web/getFileByServerRelativeUrl('/Shared Documents/b.txt')"
    assert sp.request("POST", file_b, headers={"X-HTTP-Method": "DELETE", "IF-MATCH": "*"}).status == 200
    assert sp.request("GET", file_b).status == 404
    sp.request("POST", LIB + "/Folders/add('tree/deep')")
    sp.upload("Shared Documents/tree/deep", "c.txt", b"x")
    tree = ROOT + "/_api/web/GetFolderByServerRelativeUrl('/Shared Documents/tree')"
    assert sp.request("POST", tree, headers={"X-HTTP-Method": "DELETE"}).status == 200
    assert sp.request("GET", tree).status == 404
    assert spfiles.list_for_control(sp.tenant, "root", "/Shared Documents")["folders"] == [
        {"name": "Forms", "server_relative_url": "/Shared Documents/Forms",
         "time_last_modified": spfiles.list_for_control(sp.tenant, "root", "/Shared Documents")["folders"][0]["time_last_modified"]}]


def test_recycle_returns_the_guid(sp):
    info = sp.upload("Shared Documents", "a.txt", b"x")
    reply = sp.request("POST", ROOT + "/_api/web/GetFileByServerRelativeUrl('/Shared Documents/a.txt')/recycle()")
    assert reply.json() == {"value": info["UniqueId"]}


def test_my_site_has_user_photos_library(sp):
    reply = sp.request("GET", MY + "/_api/web/GetFolderByServerRelativeUrl('User Photos/Profile Pictures')?$select=ServerRelativeUrl")
    assert reply.json() == {"ServerRelativeUrl": "/User Photos/Profile Pictures"}
    sp.upload("User Photos/Profile Pictures", "jdoe_contoso_com_MThumb.jpg", b"\xff\xd8", host=MY)
    listing = spfiles.list_for_control(sp.tenant, "my", "/User Photos/Profile Pictures")
    assert [(f["name"], f["length"]) for f in listing["files"]] == [("jdoe_contoso_com_MThumb.jpg", 2)]
    assert spfiles.list_for_control(sp.tenant, "root", "/User Photos") is None


def test_site_collections_get_their_own_library(sp):
    site = "https://contoso.sharepoint.com/sites/team"
    reply = sp.request("POST", site + "/_api/web/GetFolderByServerRelativeUrl('Shared Documents')/Files/add(url='t.txt',overwrite=true)", b"t")
    assert reply.json()["ServerRelativeUrl"] == "/sites/team/Shared Documents/t.txt"


# ---------------------------------------------------------------- chunked uploads

def _file(sp, name="big.bin"):
    return ROOT + "/_api/Web/getFileByServerRelativeUrl('/Shared Documents/%s')" % name


def test_chunked_upload_python_library_form(sp):
    sp.upload("Shared Documents", "big.bin", b"old content")
    upload_id = str(uuid.uuid4())
    assert sp.request("POST", _file(sp) + "/startUpload(uploadID='%s')" % upload_id, b"a" * 10).json() == {"value": "10"}
    cont = sp.request("POST", _file(sp) + "/continueUpload(uploadID='%s',fileOffset=10)" % upload_id, b"b" * 10, verbose=True)
    assert cont.json() == {"d": {"ContinueUpload": "20"}}
    # content is unchanged until FinishUpload
    assert sp.request("GET", _file(sp) + "/$value").content == b"old content"
    done = sp.request("POST", _file(sp) + "/finishUpload(uploadID='%s',fileOffset=20)" % upload_id, b"c" * 5).json()
    assert done["Length"] == "25" and done["MajorVersion"] == 2
    assert sp.request("GET", _file(sp) + "/$value").content == b"a" * 10 + b"b" * 10 + b"c" * 5


def test_chunked_upload_cli_form_with_stub_and_empty_start(sp):
    folder = ROOT + "/_api/web/GetFolderByServerRelativePath(DecodedUrl='%2FShared%20Documents')"
    upload_id = str(uuid.uuid4())
    start = sp.request("POST", folder + "/Files/GetByPathOrAddStub(DecodedUrl='c.bin')/StartUpload(uploadId=guid'%s')" % upload_id)
    assert start.json() == {"value": "0"}
    cont = sp.request("POST", folder + "/Files('c.bin')/ContinueUpload(uploadId=guid'%s',fileOffset=0)" % upload_id, b"xyz")
    assert cont.json() == {"value": "3"}
    done = sp.request("POST", folder + "/Files('c.bin')/FinishUpload(uploadId=guid'%s',fileOffset=3)" % upload_id, b"!")
    assert done.json()["Length"] == "4"


def test_wrong_offset_is_an_error_naming_the_expected_offset(sp):
    sp.upload("Shared Documents", "big.bin", b"")
    upload_id = str(uuid.uuid4())
    sp.request("POST", _file(sp) + "/StartUpload(uploadId='%s')" % upload_id, b"a" * 10)
    sp.request("POST", _file(sp) + "/ContinueUpload(uploadId='%s',fileOffset=10)" % upload_id, b"b" * 10)
    repeated = sp.request("POST", _file(sp) + "/ContinueUpload(uploadId='%s',fileOffset=10)" % upload_id, b"b" * 10)
    assert repeated.status == 400
    assert "expected offset 20" in repeated.json()["odata.error"]["message"]["value"]
    finish = sp.request("POST", _file(sp) + "/FinishUpload(uploadId='%s',fileOffset=20)" % upload_id, b"c")
    assert finish.json()["Length"] == "21"


class _CutStream(io.BytesIO):
    """A body that ends early, like a connection lost in the middle of a chunk."""

    def read(self, size=-1):
        data = super().read(size)
        if not data:
            raise ConnectionError("connection reset")
        return data


def test_a_chunk_cut_in_the_middle_is_not_counted_so_the_client_can_resume(sp):
    sp.upload("Shared Documents", "big.bin", b"")
    upload_id = str(uuid.uuid4())
    sp.request("POST", _file(sp) + "/StartUpload(uploadId='%s')" % upload_id, b"a" * 10)
    with pytest.raises(ConnectionError):
        sp.request("POST", _file(sp) + "/ContinueUpload(uploadId='%s',fileOffset=10)" % upload_id,
                   rfile=_CutStream(b"b" * 4), content_length=10)
    wrong = sp.request("POST", _file(sp) + "/ContinueUpload(uploadId='%s',fileOffset=14)" % upload_id, b"b" * 6)
    assert "expected offset 10" in wrong.json()["odata.error"]["message"]["value"]
    resumed = sp.request("POST", _file(sp) + "/ContinueUpload(uploadId='%s',fileOffset=10)" % upload_id, b"b" * 10)
    assert resumed.json() == {"value": "20"}
    done = sp.request("POST", _file(sp) + "/FinishUpload(uploadId='%s',fileOffset=20)" % upload_id, b"")
    assert sp.request("GET", _file(sp) + "/$value").content == b"a" * 10 + b"b" * 10
    assert done.json()["Length"] == "20"


def test_cancel_upload_forgets_the_session(sp):
    sp.upload("Shared Documents", "big.bin", b"keep")
    upload_id = str(uuid.uuid4())
    sp.request("POST", _file(sp) + "/StartUpload(uploadId=guid'%s')" % upload_id, b"zz")
    assert sp.request("POST", _file(sp) + "/CancelUpload(uploadId=guid'%s')" % upload_id).status == 200
    gone = sp.request("POST", _file(sp) + "/FinishUpload(uploadId=guid'%s',fileOffset=2)" % upload_id, b"")
    assert gone.status == 404
    assert sp.request("GET", _file(sp) + "/$value").content == b"keep"


def test_chunked_upload_survives_a_restart(sp, tmp_path):
    sp.upload("Shared Documents", "big.bin", b"")
    upload_id = str(uuid.uuid4())
    sp.request("POST", _file(sp) + "/StartUpload(uploadId='%s')" % upload_id, b"a" * 3)
    again = SharePoint(str(tmp_path))
    assert again.request("POST", _file(again) + "/FinishUpload(uploadId='%s',fileOffset=3)" % upload_id, b"b").json()["Length"] == "4"


# ---------------------------------------------------------------- router: tokens, roles, odata flavours

def test_secret_token_is_refused_with_unsupported_app_only_token(sp):
    reply = sp.request("GET", LIB, token=sp.token_for(["Sites.FullControl.All"], acr="1"))
    assert reply.status == 401 and reply.json()["error_description"] == "Unsupported app only token."


def test_token_of_another_tenant_is_refused(sp):
    other = sp.store.create_tenant({"name": "fabrikam", "users": [], "apps": []})
    assert sp.request("GET", LIB, token=sp.token_for(["Sites.FullControl.All"], tenant=other)).status == 401


def test_expired_and_wrong_audience_tokens_are_refused(sp):
    from m365emu import entra

    expired = entra.issue_token(sp.store, sp.tenant, "app1", ["Sites.FullControl.All"],
                                "https://contoso.sharepoint.com", "2", lifetime=-60)
    assert sp.request("GET", LIB, token=expired).status == 401
    graph = sp.token_for(["Sites.FullControl.All"], audience="https://graph.microsoft.com")
    assert sp.request("GET", LIB, token=graph).status == 401
    assert sp.request("GET", LIB, token="not-a-jwt").status == 401


def test_roles_full_control_needed_for_admin_endpoints_read_write_enough_for_files(sp):
    read_write = sp.token_for(["Sites.ReadWrite.All"])
    assert sp.request("POST", LIB + "/Files/add(url='a.txt',overwrite=true)", b"x", token=read_write).status == 200
    denied = sp.request("GET", ROOT + "/_api/SP.UserProfiles.PeopleManager/GetPropertiesFor(accountName=@v)?@v='jdoe@contoso.com'",
                        token=read_write)
    assert denied.status == 403
    assert denied.json()["odata.error"]["code"] == "-2147024891, System.UnauthorizedAccessException"
    none = sp.token_for(["User.Read.All"])
    assert sp.request("GET", LIB, token=none).status == 403


def test_contextinfo_in_both_flavours(sp):
    plain = sp.request("POST", ROOT + "/sites/team/_api/contextinfo").json()
    assert plain["WebFullUrl"] == "https://contoso.sharepoint.com/sites/team" and plain["FormDigestValue"]
    verbose = sp.request("POST", ROOT + "/_api/contextinfo", verbose=True).json()
    assert verbose["d"]["GetContextWebInformation"]["FormDigestTimeoutSeconds"] == 1800


def test_unknown_endpoints_and_bad_expressions_answer_in_sharepoint_shape(sp):
    unknown = sp.request("GET", ROOT + "/_api/web/NoSuchThing")
    assert unknown.status == 404 and "odata.error" in unknown.json()
    assert sp.request("GET", ROOT + "/_api/nothing", verbose=True).json()["error"]["code"].startswith("-1,")
    bad = sp.request("GET", ROOT + "/_api/web/GetFolderByServerRelativeUrl('unterminated")
    assert bad.status == 400 and "odata.error" in bad.json()


def test_get_file_by_id(sp):
    info = sp.upload("Shared Documents", "a.txt", b"x")
    reply = sp.request("GET", ROOT + "/_api/web/GetFileById('%s')?$select=ServerRelativeUrl" % info["UniqueId"])
    assert reply.json() == {"ServerRelativeUrl": "/Shared Documents/a.txt"}
    assert sp.request("GET", ROOT + "/_api/web/GetFileById('%s')" % uuid.uuid4()).status == 404


def test_end_to_end_resume_after_a_connection_reset_in_the_middle_of_a_chunk(emulator, tenant):
    import requests

    session = emulator.session()
    session.headers.update({"Authorization": "Bearer " + emulator.token(tenant), "Accept": "application/json;odata=nometadata"})
    web_api = "https://%s.sharepoint.com/_api/web" % tenant
    assert session.post(web_api + "/GetFolderByServerRelativeUrl('Shared Documents')/Files/add(url='r.bin',overwrite=true)",
                        data=b"").status_code == 200
    file_api = web_api + "/GetFileByServerRelativeUrl('/Shared Documents/r.bin')"
    upload_id = str(uuid.uuid4())
    chunk = b"x" * 300000
    assert session.post(file_api + "/StartUpload(uploadId=guid'%s')" % upload_id, data=chunk).json() == {"value": "300000"}
    emulator.faults(tenant=tenant, reset={"rate": 1.0, "mid_body": True, "count": 1})
    try:
        with pytest.raises(requests.ConnectionError):
            session.post(file_api + "/ContinueUpload(uploadId=guid'%s',fileOffset=300000)" % upload_id, data=b"y" * 300000)
    finally:
        emulator.clear_faults()
    resumed = session.post(file_api + "/ContinueUpload(uploadId=guid'%s',fileOffset=300000)" % upload_id, data=b"y" * 300000)
    assert resumed.json() == {"value": "600000"}
    done = session.post(file_api + "/FinishUpload(uploadId=guid'%s',fileOffset=600000)" % upload_id, data=b"z")
    assert done.json()["Length"] == "600001"
    assert session.get(file_api + "/$value").content == chunk + b"y" * 300000 + b"z"


def _file_api(url):
    return ROOT + "/_api/web/GetFileByServerRelativePath(DecodedUrl='%s')" % url.replace("'", "''")


def test_moveto_renames_a_file_and_refuses_an_existing_target_without_the_overwrite_flag(sp):
    first = sp.upload("Shared Documents", "upload.tmp", b"new")
    sp.upload("Shared Documents", "current.json", b"old")
    refused = sp.request("POST", _file_api("/Shared Documents/upload.tmp") + "/moveto(newurl='/Shared Documents/current.json',flags=0)")
    assert refused.status == 400
    assert refused.json()["odata.error"]["code"].startswith("-2130575257,")
    assert sp.request("GET", LIB + "/Files('current.json')/$value").content == b"old"
    moved = sp.request("POST", _file_api("/Shared Documents/upload.tmp") + "/moveto(newurl='/Shared Documents/current.json',flags=1)")
    assert moved.status == 200
    assert sp.request("GET", LIB + "/Files('current.json')/$value").content == b"new"
    assert sp.request("GET", _file_api("/Shared Documents/upload.tmp")).status == 404
    # the item keeps its identity when it moves
    info = sp.request("GET", _file_api("/Shared Documents/current.json")).json()
    assert info["UniqueId"] == first["UniqueId"]


def test_move_forms_of_real_clients_body_and_using_path(sp):
    sp.upload("Shared Documents", "a.bin", b"a")
    body = sp.request("POST", _file_api("/Shared Documents/a.bin") + "/MoveTo",
                      {"newUrl": "/Shared Documents/b.bin", "flags": 1})
    assert body.status == 200
    using_path = sp.request("POST", _file_api("/Shared Documents/b.bin")
                            + "/MoveToUsingPath(DecodedUrl='/Shared Documents/c.bin',moveOperations=1)")
    assert using_path.status == 200
    new_path = sp.request("POST", _file_api("/Shared Documents/c.bin") + "/MoveToUsingPath",
                          {"newPath": {"DecodedUrl": "/Shared Documents/d.bin"}, "moveOperations": 1})
    assert new_path.status == 200
    names = [item["Name"] for item in sp.request("GET", LIB + "/Files").json()["value"]]
    assert names == ["d.bin"]


def test_move_into_a_missing_folder_or_of_a_missing_file_is_not_found(sp):
    sp.upload("Shared Documents", "a.bin", b"a")
    assert sp.request("POST", _file_api("/Shared Documents/a.bin") + "/moveto(newurl='/Shared Documents/nope/a.bin',flags=1)").status == 404
    assert sp.request("POST", _file_api("/Shared Documents/zz.bin") + "/moveto(newurl='/Shared Documents/b.bin',flags=1)").status == 404
