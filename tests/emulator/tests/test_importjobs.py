"""The bulk import timer job (importjobs.py): states, errors, decoding, log folders, limits."""

import codecs
import json
import time
from urllib.parse import unquote

import pytest

from .sp_harness import ROOT, TENANT_API, SharePoint, fast_jobs, wait_for_job

from m365emu import importjobs
from m365emu.faults import FAULTS

SOURCE = "https://contoso.sharepoint.com/Shared Documents/import/p.json"


@pytest.fixture
def sp(tmp_path):
    FAULTS.clear()
    fast_jobs()
    instance = SharePoint(str(tmp_path))
    instance.request("POST", ROOT + "/_api/web/GetFolderByServerRelativeUrl('Shared Documents')/Folders/add('import')")
    yield instance
    FAULTS.clear()


def queue(sp, mapping=None, source=SOURCE, id_type=2, id_property="IdName"):
    body = {"idType": id_type, "sourceDataIdProperty": id_property, "sourceUri": source,
            "propertyMap": mapping or {"CC": "CostCenter", "Building": "Building"}}
    reply = sp.request("POST", TENANT_API + "QueueImportProfileProperties", body)
    assert reply.status == 200, reply.content
    return reply.json()["value"]


def put(sp, records, raw=None, bom=True):
    data = raw if raw is not None else json.dumps({"value": records}, ensure_ascii=False).encode("utf-8")
    if bom and raw is None:
        data = codecs.BOM_UTF8 + data
    sp.upload("Shared Documents/import", "p.json", data)


def log_of(sp, job):
    """The log folder's files, read as PnP does: the web from GetWebUrlFromPageUrl, then the folder's files."""
    web_url = sp.request("GET", ROOT + "/_api/SP.Web.GetWebUrlFromPageUrl(@v)?@v='%s'" % job["LogFolderUri"]).json()["value"]
    folder = unquote(job["LogFolderUri"].split("sharepoint.com", 1)[1])
    files = sp.request("GET", web_url + "/_api/web/GetFolderByServerRelativeUrl('%s')/Files" % folder).json()["value"]
    return "".join(sp.request("GET", web_url + "/_api/web/GetFileByServerRelativeUrl('%s')/$value" % f["ServerRelativeUrl"])
                   .content.decode() for f in files)


def test_states_go_submitted_processing_queued_succeeded(sp):
    FAULTS.update({"tenant": "contoso", "job_delay": 0.3, "job_duration": 0.6})
    put(sp, [{"IdName": "jdoe@contoso.com", "CC": "4711"}])
    job_id = queue(sp)
    seen = []
    deadline = time.time() + 10
    while time.time() < deadline:
        state = sp.request("POST", TENANT_API + "GetImportProfilePropertyJob", {"jobId": job_id}).json()["State"]
        if not seen or seen[-1] != state:
            seen.append(state)
        if state in (4, 5):
            break
        time.sleep(0.02)
    assert seen == [1, 2, 3, 4]
    assert sp.tenant.profile("jdoe@contoso.com")["CostCenter"] == "4711"


def test_success_applies_values_and_writes_an_empty_log_in_the_library_of_the_source(sp):
    put(sp, [{"IdName": "jdoe@contoso.com", "CC": "1", "Building": "B7"}, {"IdName": "ANN@contoso.com", "CC": 2}])
    job = wait_for_job(sp, queue(sp))
    assert (job["State"], job["Error"]) == (4, 0)
    assert job["LogFolderUri"] == "https://contoso.sharepoint.com/Shared%%20Documents/%s" % job["JobId"]
    assert log_of(sp, job) == ""
    assert sp.tenant.profile("jdoe@contoso.com")["Building"] == "B7"
    assert sp.tenant.profile("ann@contoso.com")["CostCenter"] == "2"


@pytest.mark.parametrize("id_type,identity", [(0, "ann.mail@contoso.com"), (1, "11111111-2222-3333-4444-555555555555"),
                                              (2, "ann@contoso.com")])
def test_identity_is_matched_by_id_type(sp, id_type, identity):
    put(sp, [{"IdName": identity, "CC": "x%d" % id_type}])
    job = wait_for_job(sp, queue(sp, id_type=id_type))
    assert (job["State"], job["Error"]) == (4, 0)
    assert sp.tenant.profile("ann@contoso.com")["CostCenter"] == "x%d" % id_type


def test_per_record_problems_complete_with_error(sp):
    put(sp, [{"IdName": "jdoe@contoso.com", "CC": "ok"},
             {"CC": "no identity"},
             {"IdName": "ghost@contoso.com", "CC": "x"},
             {"IdName": "noprofile@contoso.com", "CC": "x"},
             {"IdName": "ann@contoso.com", "CC": ["a", "b"]}])
    job = wait_for_job(sp, queue(sp))
    assert (job["State"], job["Error"]) == (4, 30)
    log = log_of(sp, job)
    assert "MissingIdentity - " in log
    assert "IdentityNotResolvable - ghost@contoso.com" in log
    assert "IdentityNotResolvable - noprofile@contoso.com" in log
    assert "InvalidPropertyValue - ann@contoso.com Property 'CC'" in log
    assert sp.tenant.profile("jdoe@contoso.com")["CostCenter"] == "ok"
    assert sp.tenant.profile("ann@contoso.com")["CostCenter"] == ""


def test_complete_with_error_can_end_in_the_error_state(sp):
    put(sp, [{"IdName": "jdoe@contoso.com", "CC": "ok"}, {"IdName": "ghost@contoso.com", "CC": "x"}])
    FAULTS.update({"tenant": "contoso", "complete_with_error_state": "Error"})
    job = wait_for_job(sp, queue(sp))
    assert (job["State"], job["Error"]) == (5, 30)
    assert "IdentityNotResolvable - ghost@contoso.com" in log_of(sp, job)
    assert sp.tenant.profile("jdoe@contoso.com")["CostCenter"] == "ok"   # imported all the same
    FAULTS.update({"tenant": "contoso", "complete_with_error_state": "Succeeded"})
    assert (wait_for_job(sp, queue(sp))["State"]) == 4
    put(sp, [{"IdName": "jdoe@contoso.com", "CC": "clean"}])
    FAULTS.update({"tenant": "contoso", "complete_with_error_state": "Error"})
    assert (wait_for_job(sp, queue(sp))["State"], sp.tenant.profile("jdoe@contoso.com")["CostCenter"]) == (4, "clean")


@pytest.mark.parametrize("naming, folder", [("job_id", "{job}"), ("file_name", "p_{job}")])
def test_log_folder_named_after_the_job_or_starting_with_the_file_name(sp, naming, folder):
    FAULTS.update({"tenant": "contoso", "log_folder_naming": naming})
    put(sp, [{"IdName": "ghost@contoso.com", "CC": "x"}])
    job = wait_for_job(sp, queue(sp))
    expected = "https://contoso.sharepoint.com/Shared%20Documents/" + folder.format(job=job["JobId"])
    assert job["LogFolderUri"] == expected
    assert "IdentityNotResolvable - ghost@contoso.com" in log_of(sp, job)


@pytest.mark.parametrize("location, parent", [("library", "/Shared%20Documents/"), ("file_folder", "/Shared%20Documents/in/")])
def test_a_job_in_a_subsite_logs_in_its_files_library_or_beside_it(sp, location, parent):
    # the bulk API doc: in the library of the import file (its root); the setting: in the file's own folder
    FAULTS.update({"tenant": "contoso", "log_folder_location": location})
    site = ROOT + "/sites/hr/emea"
    sp.request("POST", site + "/_api/web/GetFolderByServerRelativeUrl('Shared Documents')/Folders/add('in')")
    sp.upload("/sites/hr/emea/Shared Documents/in", "p.json",
              codecs.BOM_UTF8 + json.dumps({"value": [{"IdName": "ghost@contoso.com", "CC": "x"}]}).encode())
    job = wait_for_job(sp, queue(sp, source=site + "/Shared Documents/in/p.json"))
    assert job["LogFolderUri"] == site + parent + job["JobId"]
    assert "IdentityNotResolvable" in log_of(sp, job)


def test_unmapped_property_aborts_before_anything_is_applied(sp):
    put(sp, [{"IdName": "jdoe@contoso.com", "CC": "1"}, {"IdName": "ann@contoso.com", "AboutMe": "hi"}])
    job = wait_for_job(sp, queue(sp))
    assert (job["State"], job["Error"]) == (5, 23)
    assert ("InvalidProperty - ann@contoso.com Property 'AboutMe' is not mapped to any property in the user profile "
            "application.") in log_of(sp, job)
    assert sp.tenant.profile("jdoe@contoso.com")["CostCenter"] == ""


def test_utf8_without_bom_is_read_as_iso_8859_1(sp):
    put(sp, None, raw=json.dumps({"value": [{"IdName": "jdoe@contoso.com", "CC": "Müller"}]}, ensure_ascii=False).encode())
    wait_for_job(sp, queue(sp))
    assert sp.tenant.profile("jdoe@contoso.com")["CostCenter"] == "MÃ¼ller"
    put(sp, [{"IdName": "jdoe@contoso.com", "CC": "Müller"}])
    wait_for_job(sp, queue(sp))
    assert sp.tenant.profile("jdoe@contoso.com")["CostCenter"] == "Müller"


def test_invalid_json_reports_line_and_position(sp):
    put(sp, None, raw=b'{"value": [\n  {"IdName": "jdoe@contoso.com", "CC": "1"},\n  {"IdName" "x"}\n]}')
    job = wait_for_job(sp, queue(sp))
    assert (job["State"], job["Error"]) == (5, 23)
    log = log_of(sp, job)
    assert log.startswith("DataFileNotJson - ") and ", line 3, position " in log


def test_missing_file_and_file_of_another_tenant(sp):
    job = wait_for_job(sp, queue(sp, source="https://contoso.sharepoint.com/Shared Documents/import/none.json"))
    assert (job["State"], job["Error"]) == (5, 20)
    other = sp.store.create_tenant({"name": "fabrikam", "users": [], "apps": []})
    assert other is not None
    job = wait_for_job(sp, queue(sp, source="https://fabrikam.sharepoint.com/Shared Documents/p.json"))
    assert (job["State"], job["Error"]) == (5, 21)


def test_size_and_property_limits(sp):
    put(sp, [{"IdName": "jdoe@contoso.com", "CC": "1", "Building": "2"}, {"IdName": "ann@contoso.com", "CC": "3"}])
    FAULTS.update({"tenant": "contoso", "max_properties": 2})
    assert wait_for_job(sp, queue(sp))["Error"] == 22
    FAULTS.update({"tenant": "contoso", "max_properties": 3, "max_file_bytes": 10})
    assert wait_for_job(sp, queue(sp))["Error"] == 22
    FAULTS.update({"tenant": "contoso", "max_file_bytes": 10 ** 6})
    assert wait_for_job(sp, queue(sp))["Error"] == 0


def test_fault_outcomes(sp):
    put(sp, [{"IdName": "jdoe@contoso.com", "CC": "1"}])
    FAULTS.update({"tenant": "contoso", "job_outcome": "InternalError"})
    job = wait_for_job(sp, queue(sp))
    assert (job["State"], job["Error"]) == (5, 1)
    assert job["ErrorMessage"] == "Failed to import the custom properties due to an unexpected error."
    FAULTS.update({"tenant": "contoso", "job_outcome": "stuck_queued"})
    job_id = queue(sp)
    assert wait_for_job(sp, job_id, timeout=1.5)["State"] == 3
    FAULTS.update({"tenant": "contoso", "job_outcome": None})
    assert wait_for_job(sp, job_id)["State"] == 4


def test_jobs_survive_a_restart_and_unfinished_ones_run_again(sp, tmp_path):
    put(sp, [{"IdName": "jdoe@contoso.com", "CC": "after-restart"}])
    FAULTS.update({"tenant": "contoso", "job_delay": 3600})
    job_id = queue(sp)
    FAULTS.update({"tenant": "contoso", "job_delay": 0.05})
    again = SharePoint(str(tmp_path))
    job = wait_for_job(again, job_id)
    assert job["State"] == 4
    assert again.tenant.profile("jdoe@contoso.com")["CostCenter"] == "after-restart"
    assert [j["JobId"] for j in importjobs.list_for_control(again.tenant)] == [job_id]


def test_streaming_reader_handles_records_across_buffer_boundaries(tmp_path, monkeypatch):
    monkeypatch.setattr(importjobs, "READ_SIZE", 7)
    path = tmp_path / "f.json"
    records = [{"IdName": "u%d@x.com" % i, "P": "v" * (i % 13), "N": i} for i in range(50)]
    path.write_bytes(codecs.BOM_UTF8 + json.dumps({"other": [1, {"a": 2}], "value": records}, indent=1).encode())
    reader = importjobs.RecordReader(str(path))
    try:
        assert list(reader.records()) == records
    finally:
        reader.close()


def test_end_to_end_a_job_queued_before_a_restart_finishes_after_it(fresh_emulator):
    emulator = fresh_emulator.start()
    name = emulator.create_tenant(properties=[{"name": "CostCenter"}])["name"]
    upn = "adele@%s.com" % name
    session = emulator.session()
    session.headers.update({"Authorization": "Bearer " + emulator.token(name), "Accept": "application/json;odata=nometadata"})
    data = codecs.BOM_UTF8 + json.dumps({"value": [{"IdName": upn, "CostCenter": "R-1"}]}).encode()
    add = "https://%s.sharepoint.com/_api/web/GetFolderByServerRelativeUrl('Shared Documents')/Files/add(url='p.json',overwrite=true)"
    assert session.post(add % name, data=data).status_code == 200
    emulator.faults(tenant=name, job_delay=3600)
    body = {"idType": 2, "sourceDataIdProperty": "IdName", "propertyMap": {"CostCenter": "CostCenter"},
            "sourceUri": "https://%s.sharepoint.com/Shared Documents/p.json" % name}
    job_id = session.post("https://%s-admin.sharepoint.com/_api/Microsoft.Online.SharePoint.TenantManagement.Office365Tenant/"
                          "QueueImportProfileProperties" % name, json=body).json()["value"]
    emulator.restart()   # faults are not persisted: the default (short) job delay applies again
    deadline = time.time() + 20
    while time.time() < deadline:
        jobs = {j["JobId"]: j for j in emulator.control("GET", "tenants/%s/jobs" % name).json()["jobs"]}
        if jobs[job_id]["State"] in (4, 5):
            break
        time.sleep(0.1)
    assert (jobs[job_id]["State"], jobs[job_id]["Error"]) == (4, 0)
    assert emulator.control("GET", "tenants/%s/profiles/%s" % (name, upn)).json()["properties"]["CostCenter"] == "R-1"
