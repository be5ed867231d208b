"""An independent client against the emulator, through the proxy with the real host names.

office365-rest-python-client (with the MSAL it creates itself, certificate credentials) uploads files
simply and in chunks and queues an import job by the REST form; the results are read back through the
emulator's control plane. This is evidence that the emulator speaks what other clients speak.
"""

import os
import time

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes

from .conftest import TEST_CLIENT_ID, app_pem

office365 = pytest.importorskip("office365")
from office365.sharepoint.client_context import ClientContext  # noqa: E402
from office365.sharepoint.tenant.management.office365_tenant import Office365Tenant  # noqa: E402


@pytest.fixture
def through_proxy(emulator, monkeypatch):
    """The environment a user sets for a proxy with its own CA: nothing else changes in the client."""
    for name in ("NO_PROXY", "no_proxy", "HTTP_PROXY", "http_proxy", "CURL_CA_BUNDLE"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("HTTPS_PROXY", emulator.url)
    monkeypatch.setenv("REQUESTS_CA_BUNDLE", emulator.ca_path)
    return emulator


def context(tenant, host=""):
    pem = app_pem()
    thumbprint = x509.load_pem_x509_certificate(pem.encode()).fingerprint(hashes.SHA1()).hex()
    return ClientContext("https://%s%s.sharepoint.com" % (tenant, host)).with_client_certificate(
        "%s.onmicrosoft.com" % tenant, TEST_CLIENT_ID, thumbprint, private_key=pem)


def control_files(emulator, tenant, folder):
    reply = emulator.control("GET", "tenants/%s/files" % tenant, params={"path": folder, "host": "root"})
    assert reply.status_code == 200, reply.text
    return {f["name"]: f for f in reply.json()["files"]}


def test_o365_library_uploads_simple_and_chunked(through_proxy, tmp_path):
    emulator = through_proxy
    tenant = emulator.create_tenant()["name"]
    ctx = context(tenant)
    folder = ctx.web.get_folder_by_server_relative_url("Shared Documents")
    folder.folders.add("conformance").execute_query()

    small = ctx.web.get_folder_by_server_relative_url("Shared Documents/conformance").files.upload_file(
        _write(tmp_path / "small.txt", b"small body"), chunk_size=1024 * 1024).execute_query()
    assert small.length == 10 and small.server_relative_url == "/Shared Documents/conformance/small.txt"

    big_data = os.urandom(3 * 1024 * 1024 + 17)
    big = ctx.web.get_folder_by_server_relative_url("Shared Documents/conformance").files.create_upload_session(
        _write(tmp_path / "big.bin", big_data), chunk_size=1024 * 1024).execute_query()
    assert big.length == len(big_data)

    files = control_files(emulator, tenant, "/Shared Documents/conformance")
    assert files["small.txt"]["length"] == 10 and files["big.bin"]["length"] == len(big_data)
    downloaded = ctx.web.get_file_by_server_relative_url("/Shared Documents/conformance/big.bin").get_content().execute_query()
    assert downloaded.value == big_data
    chunk_requests = [r for r in emulator.request_log(tenant) if "upload(" in r["path"].lower()]
    assert [r["path"].split("/")[-1].split("(")[0].lower() for r in chunk_requests] == [
        "startupload", "continueupload", "continueupload", "finishupload"]


def test_o365_library_queues_an_import_job_by_rest(through_proxy, tmp_path):
    emulator = through_proxy
    tenant = emulator.create_tenant(properties=[{"name": "CostCenter"}])["name"]
    upn = "adele@%s.com" % tenant
    data = b'\xef\xbb\xbf{"value":[{"IdName":"%s","CostCenter":"K-42"}]}' % upn.encode()
    ctx = context(tenant)
    ctx.web.get_folder_by_server_relative_url("Shared Documents").files.upload_file(
        _write(tmp_path / "profiles.json", data)).execute_query()

    admin = context(tenant, "-admin")
    source = "https://%s.sharepoint.com/Shared Documents/profiles.json" % tenant
    result = Office365Tenant(admin).queue_import_profile_properties(2, "IdName", {"CostCenter": "CostCenter"}, source)
    admin.execute_query()
    job_id = result.value
    assert len(job_id) == 36

    deadline = time.time() + 20
    while time.time() < deadline:
        jobs = {j["JobId"]: j for j in emulator.control("GET", "tenants/%s/jobs" % tenant).json()["jobs"]}
        if jobs.get(job_id, {}).get("State") in (4, 5):
            break
        time.sleep(0.2)
    assert (jobs[job_id]["State"], jobs[job_id]["Error"]) == (4, 0)
    profile = emulator.control("GET", "tenants/%s/profiles/%s" % (tenant, upn)).json()
    assert profile["properties"]["CostCenter"] == "K-42"


def test_o365_library_resolves_the_web_of_a_log_folder(through_proxy):
    from office365.sharepoint.webs.web import Web

    emulator = through_proxy
    tenant = emulator.create_tenant(sites=["/sites/hr", "/sites/hr/emea"])["name"]
    ctx = context(tenant)
    page = "https://%s.sharepoint.com/sites/hr/emea/Shared Documents/5f4e7a2c-1111-2222-3333-444455556666" % tenant
    result = Web.get_web_url_from_page_url(ctx, page).execute_query()
    assert result.value == "https://%s.sharepoint.com/sites/hr/emea" % tenant
    calls = [r for r in emulator.request_log(tenant) if "getweburlfrompageurl" in r["path"].lower()]
    assert calls and calls[-1]["method"] == "POST" and calls[-1]["status"] == 200


def _write(path, data):
    path.write_bytes(data)
    return str(path)


def test_msal_certificate_token_works_on_sharepoint_rest(through_proxy):
    import msal
    import requests

    emulator = through_proxy
    tenant = emulator.create_tenant()["name"]
    pem = app_pem()
    thumbprint = x509.load_pem_x509_certificate(pem.encode()).fingerprint(hashes.SHA1()).hex()
    app = msal.ConfidentialClientApplication(TEST_CLIENT_ID, authority="https://login.microsoftonline.com/%s.onmicrosoft.com" % tenant,
                                             client_credential={"private_key": pem, "thumbprint": thumbprint})
    result = app.acquire_token_for_client(["https://%s.sharepoint.com/.default" % tenant])
    assert "access_token" in result, result.get("error_description")
    reply = requests.get("https://%s.sharepoint.com/_api/web/GetFolderByServerRelativeUrl('Shared Documents')?$select=Name" % tenant,
                         headers={"Authorization": "Bearer " + result["access_token"], "Accept": "application/json;odata=nometadata"},
                         timeout=30)
    assert reply.status_code == 200 and reply.json() == {"Name": "Shared Documents"}
