# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The bad-input corpus (bad_inputs.yml): every case fails with a message that names what is wrong, and no tenant
changes: the request log since the case began shows no write (upload, folder, profile, photo), and no tenant's job
list changed (a queue or a delete shows there; CSOM reads and writes share one URL)."""

from __future__ import annotations

import codecs
import os
import re
import string

import pytest
import yaml

from ansible_collections.spo.user_profiles.tests.reliability.lab import fatal_lines, run_module, writes

with open(os.path.join(os.path.dirname(__file__), "bad_inputs.yml"), encoding="utf-8") as _handle:
    CORPUS = yaml.safe_load(_handle)
CASES = CORPUS["cases"]
ROLE_CASES = [(playbook, case) for playbook, run in CORPUS["roles"].items() for case in run["cases"]]
_BOMS = {"utf-8": codecs.BOM_UTF8, "utf-16-le": codecs.BOM_UTF16_LE, "utf-16-be": codecs.BOM_UTF16_BE,
         "utf-32-le": codecs.BOM_UTF32_LE}


def _filled(value, values):
    """The value with its ${...} placeholders filled in, recursively."""
    if isinstance(value, str):
        return string.Template(value).substitute(values)
    if isinstance(value, list):
        return [_filled(item, values) for item in value]
    if isinstance(value, dict):
        return {key: _filled(item, values) for key, item in value.items()}
    return value


def _write_files(directory, files, values):
    from PIL import Image  # the image files of photo cases

    os.makedirs(directory, exist_ok=True)
    for name, spec in (files or {}).items():
        path = os.path.join(directory, name)
        if isinstance(spec, str):
            spec = {"text": spec}
        if spec.get("dir"):
            os.makedirs(path, exist_ok=True)
        elif spec.get("image"):
            Image.new("RGB", tuple(spec["image"]), (200, 30, 30)).save(path, "PNG" if name.endswith(".png") else "JPEG")
        else:
            data = _filled(spec["text"], values).encode(spec.get("encoding", "utf-8"))
            with open(path, "wb") as handle:
                handle.write(_BOMS.get(spec.get("bom"), b"") + data)


def _tenants(lab):
    return [lab.values[name] for name in ("tenant", "other", "limited")]


def test_the_corpus_covers_every_module_and_class():
    modules = {case["module"] for case in CASES}
    assert modules >= {"upa_import_file", "upa_import_job", "upa_job_info", "upa_import_baseline", "upa_retention",
                       "profile_photo", "user_profile_property", "user_profile_info"}
    assert len(CASES) + len(ROLE_CASES) >= 100
    ids = [case["id"] for case in CASES] + [case["id"] for _playbook, case in ROLE_CASES]
    assert len(ids) == len(set(ids)), "case ids are unique"


@pytest.mark.parametrize("case", CASES, ids=[case["id"] for case in CASES])
def test_bad_input_is_refused_naming_it_and_changes_nothing(lab, case):
    values = dict(lab.values, work=os.path.join(lab.work, "cases", case["id"]))
    _write_files(values["work"], case.get("files"), values)
    args = lab.connection(values["tenant"])
    args.update(_filled(case.get("connection") or {}, values))
    args.update(_filled(case.get("args") or {}, values))
    if case.get("check_mode"):
        args["_ansible_check_mode"] = True
    jobs_before, seq = lab.jobs(*_tenants(lab)), lab.last_seq()

    result = run_module(case["module"], args)

    assert result.get("failed") is True, result
    assert re.search(case["expect"], result["msg"]), "%r does not match %r" % (result["msg"], case["expect"])
    log = lab.log_since(seq)
    # A write the service itself refuses (refused_write: the request) changes nothing; any other write is a side effect.
    refused = [entry for entry in log if entry["status"] >= 400]
    assert writes(log) == ([case["refused_write"] % values] if case.get("refused_write") else [])
    assert writes(refused) == writes(log)
    assert lab.jobs(*_tenants(lab)) == jobs_before


@pytest.fixture(scope="module")
def role_runs(lab):
    """Each role's corpus run once: its tenant hosts' fatal lines, and the writes of the whole run."""
    runs = {}
    for playbook, run in CORPUS["roles"].items():
        values = dict(lab.values, work=os.path.join(lab.work, "roles", playbook))
        _write_files(values["work"], run.get("files"), values)
        hosts = {case["id"]: dict(_filled(case["vars"], values), spo_tenant=values["tenant"]) for case in run["cases"]}
        inventory = lab.inventory(playbook + "-corpus", hosts, _filled(run.get("common") or {}, values))
        jobs_before, seq = lab.jobs(*_tenants(lab)), lab.last_seq()
        code, output = lab.playbook(playbook, inventory, "-e", "spo_run_id=corpus-" + playbook)
        runs[playbook] = {"code": code, "output": output, "fatal": fatal_lines(output), "writes": writes(lab.log_since(seq)),
                          "jobs_changed": lab.jobs(*_tenants(lab)) != jobs_before}
    return runs


@pytest.mark.parametrize("playbook, case", ROLE_CASES, ids=[case["id"] for _playbook, case in ROLE_CASES])
def test_bad_role_input_fails_its_tenant_naming_it_and_changes_nothing(role_runs, playbook, case):
    run = role_runs[playbook]
    assert run["code"] != 0
    assert case["id"] in run["fatal"], run["output"][-3000:]
    assert re.search(case["expect"], run["fatal"][case["id"]]), run["fatal"][case["id"]]
    assert run["writes"] == [] and not run["jobs_changed"]


def test_a_baseline_under_another_mapping_than_its_job_was_queued_with_is_refused_and_records_nothing(lab):
    """A case the corpus cannot hold, as it needs a finished job first: upa_import_baseline given another property map
    than the job was queued with (the job record beside its file says which). Recorded, the next delta would send
    nothing for the property the job never imported."""
    values = dict(lab.values, work=os.path.join(lab.work, "cases", "baseline-another-mapping"))
    _write_files(values["work"], {"src.csv": "mail,cc\nann@main.example,CC-baseline\n"}, values)
    connection = lab.connection(values["tenant"])
    queued_with = dict(id_property="mail", property_map={"cc": "CostCenter"})
    lab.emulator.faults(tenant=values["tenant"], job_delay=0, job_duration=0.5)
    try:
        upload = run_module("upa_import_file", dict(connection, src=values["work"] + "/src.csv", name="baseline-mapping",
                                                    **queued_with))
        job = run_module("upa_import_job", dict(connection, source_uri=[upload["files"][0]["source_uri"]], poll_interval=1,
                                                max_poll_interval=1, wait_timeout=60, **queued_with))
    finally:
        lab.emulator.faults(tenant=values["tenant"], job_delay=None, job_duration=None)
    assert job.get("failed") is not True and job["job"]["state"] == "Succeeded", job
    jobs_before, seq = lab.jobs(*_tenants(lab)), lab.last_seq()

    result = run_module("upa_import_baseline", dict(connection, job_id=[job["job"]["job_id"]], id_property="mail",
                                                    property_map={"cc": "Building"}, name="baseline-mapping"))

    assert result.get("failed") is True, result
    assert re.search(r"import job %s was queued with property_map \{'cc': 'CostCenter'\} \(given: \{'cc': 'Building'\}\)"
                     % job["job"]["job_id"], result["msg"]), result["msg"]
    assert writes(lab.log_since(seq)) == [] and lab.jobs(*_tenants(lab)) == jobs_before


# controls: the checks above can fail, and what they refuse is not what works ------------------------------------------

def test_the_side_effect_check_sees_an_upload_and_a_queue(lab):
    values = dict(lab.values, work=os.path.join(lab.work, "controls", "side-effects"))
    _write_files(values["work"], {"src.csv": "mail,cc\nann@main.example,CC-control\n"}, values)
    jobs_before, seq = lab.jobs(*_tenants(lab)), lab.last_seq()
    upload = run_module("upa_import_file", dict(lab.connection(values["tenant"]), src=values["work"] + "/src.csv",
                                                id_property="mail", property_map={"cc": "CostCenter"}, name="control"))
    assert upload["changed"] is True and any("/Files/add" in write for write in writes(lab.log_since(seq)))
    queued = run_module("upa_import_job", dict(lab.connection(values["tenant"]), source_uri=[upload["files"][0]["source_uri"]],
                                               id_property="mail", property_map={"cc": "CostCenter"}, wait=False))
    assert queued["changed"] is True and lab.jobs(*_tenants(lab)) != jobs_before


def test_names_with_spaces_quotes_and_other_scripts_import_end_to_end(lab):
    """What must be encoded in a URL but is not refused: spaces, ' and non-ASCII in the folder and the file name."""
    values = dict(lab.values, work=os.path.join(lab.work, "controls", "names"))
    _write_files(values["work"], {"src.csv": "mail,cc\nbob@main.example,CC-Ünïcode 'quoted'\n"}, values)
    connection = lab.connection(values["tenant"])
    lab.emulator.faults(tenant=values["tenant"], job_delay=0, job_duration=0.5)
    try:
        upload = run_module("upa_import_file", dict(connection, src=values["work"] + "/src.csv", id_property="mail",
                                                    property_map={"cc": "CostCenter"}, name="O'Neil import é",
                                                    folder="Shared Documents/Ünïcode & Co's imports (2024)"))
        assert upload["changed"] is True, upload
        job = run_module("upa_import_job", dict(connection, source_uri=[upload["files"][0]["source_uri"]], id_property="mail",
                                                property_map={"cc": "CostCenter"}, poll_interval=1, max_poll_interval=1,
                                                wait_timeout=60))
    finally:
        lab.emulator.faults(tenant=values["tenant"], job_delay=None, job_duration=None)
    assert job.get("failed") is not True and job["job"]["state"] == "Succeeded", job
    profile = lab.emulator.control("GET", "tenants/%s/profiles/bob@main.example" % values["tenant"]).json()
    assert profile["properties"]["CostCenter"] == "CC-Ünïcode 'quoted'"
