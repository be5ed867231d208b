# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""What the reliability suite works with: the emulator of the session with its tenants and broken credentials, modules
run in this process against it, the shipped playbooks run as an administrator runs them, and the emulator's request
log read for side effects."""

from __future__ import annotations

import contextlib
import datetime
import importlib
import io
import json
import os
import re
import subprocess
import sys

from ansible.module_utils.testing import patch_module_args
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.hazmat.primitives.serialization import pkcs12
from cryptography.x509.oid import NameOID

from ansible_collections.spo.user_profiles.tests.emulator.tests.conftest import (
    ALL_ROLES, SECRET_CLIENT_ID, TEST_APP_PEM, TEST_CLIENT_ID, TEST_SECRET, app_certificate,
)

HERE = os.path.dirname(os.path.abspath(__file__))
# The directory that holds ansible_collections/ (make reliability runs the suite from the staged collection).
COLLECTIONS_PATH = os.path.abspath(os.path.join(HERE, "..", "..", "..", "..", ".."))
PLAYBOOK_BIN = os.path.join(os.path.dirname(sys.executable), "ansible-playbook")
# Known test-only values: the password of the generated PFX and key, and the emulator's secret app.
PFX_PASSWORD = "pfx-test-password-not-real"
_READS = ("GET", "HEAD")


def writes(log):
    """The requests of a request log that may change a tenant: all but reads, sign-ins, Graph $batch (of reads) and
    CSOM ProcessQuery (whose reads and writes look alike here: the job list is compared instead, see Lab.state)."""
    return ["%s %s%s" % (entry["method"], entry["host"], entry["path"]) for entry in log
            if entry["method"] not in _READS and entry["host"] != "login.microsoftonline.com"
            and not entry["path"].endswith("/$batch") and not entry["path"].endswith("/client.svc/ProcessQuery")]


def _self_signed(common_name, days=365):
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, common_name)])
    now = datetime.datetime.now(datetime.timezone.utc)
    certificate = (x509.CertificateBuilder().subject_name(name).issuer_name(name).public_key(key.public_key())
                   .serial_number(x509.random_serial_number()).not_valid_before(now - datetime.timedelta(days=1))
                   .not_valid_after(now + datetime.timedelta(days=days))
                   .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
                   .sign(key, hashes.SHA256()))
    return key, certificate


def _pem(key=None, certificate=None, password=None):
    data = b""
    if key is not None:
        encryption = serialization.BestAvailableEncryption(password) if password else serialization.NoEncryption()
        data += key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, encryption)
    if certificate is not None:
        data += certificate.public_bytes(serialization.Encoding.PEM)
    return data


class Lab:
    """The emulator of the session, its tenants, and the test credentials; `values` are the ${...} placeholders."""

    def __init__(self, emulator, work):
        self.emulator = emulator
        self.work = str(work)
        self.values = {"work": self.work, "ca": emulator.ca_path, "test_pem": TEST_APP_PEM, "client_id": TEST_CLIENT_ID,
                       "secret_client_id": SECRET_CLIENT_ID, "client_secret": TEST_SECRET, "pfx_password": PFX_PASSWORD}

    # -- tenants ---------------------------------------------------------------------------------------------------
    def tenant(self, name=None, roles=None, **spec):
        apps = [{"client_id": TEST_CLIENT_ID, "certificate_pem": app_certificate(), "roles": roles or ALL_ROLES},
                {"client_id": SECRET_CLIENT_ID, "secret": TEST_SECRET, "roles": roles or ALL_ROLES}]
        return self.emulator.create_tenant(name, apps=apps, **spec)["name"]

    def add_tenants(self):
        """The corpus's tenants: main (users, custom properties), other (another tenant), limited (an app without
        User.ReadWrite.All)."""
        main = self.tenant(users=[{"upn": "ann@main.example"}, {"upn": "bob@main.example"}],
                           properties=[{"name": "CostCenter"}, {"name": "Building"}])
        self.values.update(tenant=main, other=self.tenant(), limited=self.tenant(roles=["Sites.FullControl.All"]))
        self.values["import_folder"] = "https://%s.sharepoint.com/Shared Documents/ProfileImport" % main

    def token(self, tenant, **claims):
        response = self.emulator.control("POST", "tenants/%s/tokens" % tenant, json=dict(client_id=TEST_CLIENT_ID, **claims))
        assert response.status_code == 200, response.text
        return response.json()["access_token"]

    def add_credentials(self):
        """Broken credentials of every kind, written once under the work directory."""
        with open(TEST_APP_PEM, "rb") as handle:
            test_pem = handle.read()
        key = serialization.load_pem_private_key(test_pem, password=None)
        certificate = x509.load_pem_x509_certificates(test_pem)[0]
        other_key, other_certificate = _self_signed("unregistered app")
        _wrong_ca_key, wrong_ca = _self_signed("a CA that issued nothing here")
        files = {
            "mismatched_pem": _pem(other_key, certificate),
            "unregistered_pem": _pem(other_key, other_certificate),
            "encrypted_pem": _pem(key, certificate, PFX_PASSWORD.encode()),
            "key_only_pem": _pem(key),
            "cert_only_pem": _pem(certificate=certificate),
            "pfx": pkcs12.serialize_key_and_certificates(b"test", key, certificate, None,
                                                         serialization.BestAvailableEncryption(PFX_PASSWORD.encode())),
            "wrong_ca": _pem(certificate=wrong_ca),
        }
        for name, data in files.items():
            path = os.path.join(self.work, "credentials", name + (".pfx" if name == "pfx" else ".pem"))
            os.makedirs(os.path.dirname(path), exist_ok=True)
            with open(path, "wb") as handle:
                handle.write(data)
            self.values[name] = path
        main = self.values["tenant"]
        self.values.update(
            token_expired=self.token(main, lifetime=600, now=1000000000),
            token_graph=self.token(main, audience="https://graph.microsoft.com"),
            token_no_roles=self.token(main, roles=[]),
        )

    # -- the request log and the tenant's state ------------------------------------------------------------------------
    def last_seq(self):
        entries = self.emulator.control("GET", "requests").json()["requests"]
        return entries[-1]["seq"] if entries else 0

    def log_since(self, seq):
        return self.emulator.control("GET", "requests?since=%d" % seq).json()["requests"]

    def jobs(self, *tenants):
        """Every tenant's import job records (id and state): a queue or a delete shows here."""
        return {tenant: sorted((job["JobId"], job["State"]) for job in self.emulator.control(
            "GET", "tenants/%s/jobs" % tenant).json()["jobs"]) for tenant in tenants}

    # -- module runs ---------------------------------------------------------------------------------------------------
    def connection(self, tenant):
        """The connection options of a module run against `tenant` with the test app's certificate."""
        return {"tenant": tenant, "client_id": TEST_CLIENT_ID, "certificate_path": TEST_APP_PEM,
                "ca_path": self.emulator.ca_path, "timeout": 10, "max_retries": 2}

    def environment(self):
        return {"HTTPS_PROXY": self.emulator.url, "NO_PROXY": "127.0.0.1,localhost", "REQUESTS_CA_BUNDLE": self.emulator.ca_path}

    # -- playbook runs -------------------------------------------------------------------------------------------------
    def playbook_command(self, playbook, inventory, *args):
        return [PLAYBOOK_BIN, "-i", inventory, "spo.user_profiles." + playbook, "-f", "10"] + list(args)

    def playbook_environment(self, **extra):
        """ansible-playbook's environment: the staged collection, this emulator as the proxy and its CA."""
        environment = dict(os.environ, ANSIBLE_COLLECTIONS_PATH=COLLECTIONS_PATH, ANSIBLE_NOCOLOR="1",
                           ANSIBLE_LOCALHOST_WARNING="false", ANSIBLE_RETRY_FILES_ENABLED="false",
                           ANSIBLE_HOME=os.path.join(self.work, "ansible-home"), **self.environment())
        environment.update(extra)
        return environment

    def playbook(self, playbook, inventory, *args, env=None):
        """Run a shipped playbook by its name, as an administrator would; (return code, output)."""
        completed = subprocess.run(self.playbook_command(playbook, inventory, *args), cwd=self.work,
                                   env=self.playbook_environment(**(env or {})), capture_output=True, text=True,
                                   check=False, timeout=900)
        return completed.returncode, completed.stdout + completed.stderr

    def inventory(self, name, hosts, common=None):
        """An inventory file of tenant hosts (each with its variables), on this emulator with the test app."""
        group_vars = {"ansible_connection": "local", "ansible_python_interpreter": sys.executable,
                      "spo_client_id": TEST_CLIENT_ID, "spo_certificate_path": TEST_APP_PEM,
                      "spo_ca_path": self.emulator.ca_path, "spo_report_dir": os.path.join(self.work, "reports")}
        group_vars.update(common or {})
        path = os.path.join(self.work, name + ".json")
        with open(path, "w", encoding="utf-8") as handle:
            json.dump({"spo_tenants": {"hosts": hosts, "vars": group_vars}}, handle, indent=1)
        return path


def fatal_lines(output):
    """{host: the text of its fatal result} from a playbook's output (one line, or at -v and more an indented block)."""
    found = {}
    lines = output.splitlines()
    for index, line in enumerate(lines):
        match = re.match(r"^fatal: \[([^\]]+)\]: FAILED! => (.*)$", line)
        if not match:
            continue
        text = match.group(2)
        if text == "{":
            block = lines[index + 1:]
            text += "\n".join(block[:next((number for number, rest in enumerate(block) if rest == "}"), len(block)) + 1])
        found[match.group(1)] = found.get(match.group(1), "") + text
    return found


def run_module(name, args):
    """Run a module of the collection in this process, as Ansible would with these arguments; its result.

    An exception out of the module (a crash, which Ansible shows as MODULE FAILURE) propagates.
    """
    module = importlib.import_module("ansible_collections.spo.user_profiles.plugins.modules." + name)
    output = io.StringIO()
    with patch_module_args(args), contextlib.redirect_stdout(output):
        try:
            module.main()
        except SystemExit:
            pass
    return json.loads(output.getvalue())
