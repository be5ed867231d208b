"""Fixtures: a real m365-emulator process per test session, and helpers to talk to it."""

import itertools
import os
import socket
import subprocess
import sys
import time

import pytest
import requests

HERE = os.path.dirname(os.path.abspath(__file__))
EMULATOR_DIR = os.path.dirname(HERE)
EMULATOR_SCRIPT = os.path.join(EMULATOR_DIR, "m365-emulator")
SEEDS = os.path.join(EMULATOR_DIR, "seeds")
DEMO_SEED = os.path.join(SEEDS, "demo.json")
TEST_APP_PEM = os.path.join(SEEDS, "test-app.pem")
TEST_CLIENT_ID = "6f1d2c4a-3b5e-4c7d-9e8f-0a1b2c3d4e5f"
SECRET_CLIENT_ID = "7a2e3d5b-4c6f-4d8e-8f90-1b2c3d4e5f60"
TEST_SECRET = "emulator-test-secret-not-real"
ALL_ROLES = ["Sites.FullControl.All", "User.ReadWrite.All", "ProfilePhoto.ReadWrite.All"]

if EMULATOR_DIR not in sys.path:
    sys.path.insert(0, EMULATOR_DIR)

_names = itertools.count(1)


def free_port():
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def app_pem():
    with open(TEST_APP_PEM, encoding="ascii") as handle:
        return handle.read()


def app_certificate():
    pem = app_pem()
    return pem[:pem.index("-----END CERTIFICATE-----") + len("-----END CERTIFICATE-----")] + "\n"


class Emulator:
    """A running emulator process: .port, .url, .ca_path, .data_dir and helpers."""

    def __init__(self, data_dir, seed=None):
        self.data_dir = str(data_dir)
        self.seed = seed
        self.port = free_port()
        self.url = "http://127.0.0.1:%d" % self.port
        self.ca_path = os.path.join(self.data_dir, "ca.pem")
        self.process = None
        self._control = requests.Session()
        self._control.trust_env = False

    def start(self, timeout=20):
        command = [sys.executable, EMULATOR_SCRIPT, "--port", str(self.port), "--data-dir", self.data_dir]
        if self.seed:
            command += ["--seed", self.seed]
        self.stderr_path = os.path.join(os.path.dirname(self.data_dir), "emulator-%d.log" % self.port)
        self._stderr = open(self.stderr_path, "ab")
        self.process = subprocess.Popen(command, stdout=self._stderr, stderr=self._stderr)
        deadline = time.time() + timeout
        while time.time() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError("emulator exited with %s" % self.process.returncode)
            try:
                if self._control.get(self.url + "/_emulator/health", timeout=1).status_code == 200:
                    return self
            except requests.ConnectionError:
                pass
            time.sleep(0.05)
        raise RuntimeError("emulator did not become healthy")

    def stop(self):
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(5)
        self.process = None
        if getattr(self, "_stderr", None):
            self._stderr.close()

    def restart(self):
        self.stop()
        return self.start()

    # -- control plane -------------------------------------------------------
    def control(self, method, path, **kwargs):
        return self._control.request(method, self.url + "/_emulator/" + path.lstrip("/"), timeout=30, **kwargs)

    def create_tenant(self, name=None, users=None, properties=None, apps=None, **extra):
        """Create a tenant (unique name by default) with the test app (certificate) and the secret app."""
        name = name or "t%d%d" % (os.getpid() % 10000, next(_names))
        if users is None:
            users = [{"upn": "adele@%s.com" % name}, {"upn": "ben@%s.com" % name, "mail": "ben.mail@%s.com" % name},
                     {"upn": "nopro@%s.com" % name, "has_profile": False},
                     {"upn": "guest_partner.com#EXT#@%s.onmicrosoft.com" % name, "mail": "guest@partner.com"}]
        if apps is None:
            apps = [{"client_id": TEST_CLIENT_ID, "certificate_pem": app_certificate(), "roles": ALL_ROLES},
                    {"client_id": SECRET_CLIENT_ID, "secret": TEST_SECRET, "roles": ALL_ROLES}]
        spec = dict({"name": name, "users": users, "properties": properties or [], "apps": apps}, **extra)
        response = self.control("POST", "tenants", json=spec)
        assert response.status_code == 201, response.text
        return response.json()

    def session(self):
        """A requests.Session that reaches the real Microsoft URLs through the emulator."""
        session = requests.Session()
        session.trust_env = False
        session.verify = self.ca_path
        session.proxies = {"https": self.url, "http": self.url}
        return session

    def msal_app(self, tenant, client_id=TEST_CLIENT_ID, credential="thumbprint", session=None):
        import msal
        from cryptography import x509
        from cryptography.hazmat.primitives import hashes

        pem = app_pem()
        if credential == "thumbprint":
            cert = x509.load_pem_x509_certificate(pem.encode())
            client_credential = {"private_key": pem, "thumbprint": cert.fingerprint(hashes.SHA1()).hex()}
        elif credential == "public_certificate":
            client_credential = {"private_key": pem, "public_certificate": app_certificate()}
        else:
            client_credential = credential
        return msal.ConfidentialClientApplication(
            client_id, authority="https://login.microsoftonline.com/%s" % tenant,
            client_credential=client_credential, http_client=session or self.session())

    def token(self, tenant, resource="sharepoint", credential="thumbprint", client_id=TEST_CLIENT_ID):
        scope = ("https://graph.microsoft.com/.default" if resource == "graph"
                 else "https://%s.sharepoint.com/.default" % tenant)
        if credential == "secret":
            client_id = SECRET_CLIENT_ID
            credential = TEST_SECRET
        result = self.msal_app("%s.onmicrosoft.com" % tenant, client_id, credential).acquire_token_for_client([scope])
        assert "access_token" in result, result
        return result["access_token"]

    def faults(self, **settings):
        response = self.control("POST", "faults", json=settings)
        assert response.status_code == 200, response.text
        return response.json()

    def clear_faults(self):
        self.control("DELETE", "faults")

    def request_log(self, tenant, since=0):
        return self.control("GET", "tenants/%s/requests?since=%d" % (tenant, since)).json()["requests"]


@pytest.fixture(scope="session")
def emulator(tmp_path_factory):
    """One emulator for the whole session; tests isolate themselves with their own tenants."""
    instance = Emulator(tmp_path_factory.mktemp("emulator") / "data").start()
    yield instance
    instance.stop()


@pytest.fixture
def fresh_emulator(tmp_path):
    """An emulator of its own (for restart tests)."""
    instance = Emulator(tmp_path / "data")
    yield instance
    instance.stop()


@pytest.fixture
def tenant(emulator):
    return emulator.create_tenant()["name"]


@pytest.fixture
def no_faults(emulator):
    emulator.clear_faults()
    yield emulator
    emulator.clear_faults()
