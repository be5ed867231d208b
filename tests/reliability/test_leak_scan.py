# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The leak scan: both shipped playbooks at -vvvv with every kind of credential (an encrypted key and its password, a
PFX and its password, a client secret, an access token), each in a run that succeeds and in one that fails. No
password (right or wrong), secret, token, client assertion or line of a private key may show in the output, the
reports, the files a run leaves (its temporary directory, Ansible's home) or the tenants' files.
"""

from __future__ import annotations

import os
import re
import secrets

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.serialization import pkcs12
from PIL import Image

from ansible_collections.spo.user_profiles.tests.reliability.lab import SECRET_CLIENT_ID, TEST_APP_PEM, TEST_SECRET, fatal_lines

# A JSON Web Token (an access token, or a client assertion signed with the app's key): header and payload are JSON.
JWT = re.compile(r"eyJ[A-Za-z0-9_-]{8,}\.eyJ[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]*")


def _key_files(directory):
    """The test app's key and certificate as an encrypted PEM and as a PFX, each with a password of its own."""
    with open(TEST_APP_PEM, "rb") as handle:
        data = handle.read()
    key = serialization.load_pem_private_key(data, password=None)
    certificate = data[data.index(b"-----BEGIN CERTIFICATE-----"):]
    passwords = {name: name + "-" + secrets.token_hex(12) for name in ("pem", "pfx", "wrong")}
    pem = key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                            serialization.BestAvailableEncryption(passwords["pem"].encode())) + certificate
    pfx = pkcs12.serialize_key_and_certificates(b"app", key, x509.load_pem_x509_certificate(certificate), None,
                                                serialization.BestAvailableEncryption(passwords["pfx"].encode()))
    paths = {"pem": os.path.join(directory, "app-encrypted.pem"), "pfx": os.path.join(directory, "app.pfx")}
    for name, content in (("pem", pem), ("pfx", pfx)):
        with open(paths[name], "wb") as handle:
            handle.write(content)
    key_lines = [line for line in (data + pem).decode("ascii").splitlines() if len(line) >= 16 and "-----" not in line
                 and line not in certificate.decode("ascii")]
    return paths, passwords, key_lines


def _scan(texts, outputs, directories):
    """[(where, what)] for every secret text, and every JWT, found in the outputs or the files under the directories."""
    hits = []
    places = list(outputs.items())
    for top in directories:
        for directory, _dirs, names in os.walk(top):
            for name in names:
                path = os.path.join(directory, name)
                with open(path, "rb") as handle:
                    places.append((path, handle.read().decode("utf-8", errors="replace")))
    for where, content in places:
        hits.extend((where, what) for what, text in texts.items() if text in content)
        hits.extend((where, "a JWT (token or client assertion)") for _match in JWT.finditer(content))
    return hits


@pytest.fixture(scope="module")
def leak_runs(lab):
    work = os.path.join(lab.work, "leak-scan")
    inputs, run_tmp, reports = (os.path.join(work, name) for name in ("inputs", "tmp", "reports"))
    for directory in (inputs, run_tmp, reports):
        os.makedirs(directory)
    paths, passwords, key_lines = _key_files(inputs)
    tenants = {label: lab.tenant("leak%s%d" % (label.replace("_", "")[:12], os.getpid() % 1000),
                                 users=[{"upn": "u1@%s.example" % label.replace("_", "")}], properties=[{"name": "CostCenter"}])
               for label in ("pem_ok", "pem_wrong", "pfx_ok", "pfx_wrong", "secret_only", "secret_and_certificate",
                             "token_ok", "token_expired", "job_fails")}
    tokens = {"token_ok": lab.token(tenants["token_ok"]),
              "token_expired": lab.token(tenants["token_expired"], lifetime=600, now=1000000000)}
    lab.emulator.faults(tenant=tenants["job_fails"], job_outcome="InternalError", job_delay=0, job_duration=1)
    for name in tenants.values():
        if name != tenants["job_fails"]:
            lab.emulator.faults(tenant=name, job_delay=0, job_duration=1)
    pem = {"spo_certificate_path": paths["pem"], "spo_certificate_password": passwords["pem"]}
    credentials = {
        "pem_ok": pem,
        "pem_wrong": dict(pem, spo_certificate_password=passwords["wrong"]),
        "pfx_ok": {"spo_certificate_path": paths["pfx"], "spo_certificate_password": passwords["pfx"]},
        "pfx_wrong": {"spo_certificate_path": paths["pfx"], "spo_certificate_password": passwords["wrong"]},
        "secret_only": {"spo_certificate_path": None, "spo_client_id": SECRET_CLIENT_ID, "spo_client_secret": TEST_SECRET},
        "secret_and_certificate": dict(pem, spo_client_secret=TEST_SECRET),
        "token_ok": {"spo_certificate_path": None, "spo_access_token": tokens["token_ok"]},
        "token_expired": {"spo_certificate_path": None, "spo_access_token": tokens["token_expired"]},
        "job_fails": pem,
    }
    for label in credentials:
        with open(os.path.join(inputs, label + ".csv"), "w", encoding="utf-8") as handle:
            handle.write("mail,cc\nu1@%s.example,CC-1\n" % label.replace("_", ""))
    Image.new("RGB", (64, 64), (10, 120, 200)).save(os.path.join(inputs, "photo.jpg"))
    hosts = {tenants[label]: dict(credentials[label], bulk_import_src=os.path.join(inputs, label + ".csv"),
                                  profile_photos_list=[{"user": "u1@%s.example" % label.replace("_", ""),
                                                        "path": os.path.join(inputs, "photo.jpg")}])
             for label in credentials}
    inventory = lab.inventory("leak-scan", hosts, {
        "spo_report_dir": reports, "bulk_import_id_property": "mail", "bulk_import_property_map": {"cc": "CostCenter"},
        "bulk_import_poll_delay": 1, "bulk_import_progress_interval": 2, "bulk_import_wait_timeout": 30})
    # The inventory and the key files are the inputs: they hold the secrets by design, and are not scanned.
    environment = {"TMPDIR": run_tmp}
    runs = {playbook: lab.playbook(playbook, inventory, "-vvvv", "-e", "spo_run_id=leak-" + playbook, env=environment)
            for playbook in ("sync_profiles", "sync_photos")}
    for name in tenants.values():
        lab.emulator.faults(tenant=name, job_outcome=None, job_delay=None, job_duration=None)
    texts = dict({"the %s password" % name: password for name, password in passwords.items()},
                 **{"the client secret": TEST_SECRET, "the access token": tokens["token_ok"],
                    "the expired access token": tokens["token_expired"]})
    texts.update(("a line of the private key (%d)" % index, line) for index, line in enumerate(key_lines))
    # What the runs wrote into the tenants (files, job records, profiles), not the emulator's own records of its apps.
    written = [os.path.join(lab.emulator.data_dir, "tenants", name, part) for name in tenants.values()
               for part in ("sites", "profiles", "importjobs")]
    return {"tenants": tenants, "runs": runs, "texts": texts,
            "directories": [reports, run_tmp, os.path.join(lab.work, "ansible-home")] + written}


def test_every_credential_kind_ran_at_high_verbosity_in_a_run_that_succeeds_and_one_that_fails(leak_runs):
    output = leak_runs["runs"]["sync_profiles"][1]
    fatal = fatal_lines(output)
    tenants = leak_runs["tenants"]
    assert "ESTABLISH LOCAL CONNECTION" in output and "VALUE_SPECIFIED_IN_NO_LOG_PARAMETER" in output
    assert {label for label, name in tenants.items() if name in fatal} == {
        "pem_wrong", "pfx_wrong", "secret_only", "token_expired", "job_fails"}
    assert "InternalError" in fatal[tenants["job_fails"]] and "certificate_password" in fatal[tenants["pfx_wrong"]]
    assert "refuses app-only tokens obtained with a client secret" in fatal[tenants["secret_only"]]
    assert "access_token expired" in fatal[tenants["token_expired"]]


def test_no_secret_key_or_token_in_output_reports_or_files_left_behind(leak_runs):
    outputs = {"%s output" % playbook: run[1] for playbook, run in leak_runs["runs"].items()}
    assert len(leak_runs["texts"]) > 10
    assert _scan(leak_runs["texts"], outputs, leak_runs["directories"]) == []


def test_the_scan_finds_what_it_looks_for(leak_runs, tmp_path):
    planted = tmp_path / "report.md"
    planted.write_text("a leaked " + leak_runs["texts"]["the pem password"])
    assert _scan(leak_runs["texts"], {"output": "token eyJhbGciOiJSUzI1NiJ9.eyJhdWQiOiJodHRwcyJ9.c2ln"}, [str(tmp_path)]) == [
        ("output", "a JWT (token or client assertion)"), (str(planted), "the pem password")]
