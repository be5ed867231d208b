# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Fixtures of the reliability suite: one emulator for the session, tenants, modules run in this process against it,
the shipped playbooks run as an administrator runs them, and the emulator's request log read as side effects."""

from __future__ import annotations

import contextlib
import importlib
import io
import json
import os
import subprocess
import sys

import pytest
from ansible.module_utils.testing import patch_module_args

from ansible_collections.spo.user_profiles.tests.emulator.tests.conftest import (
    ALL_ROLES, SECRET_CLIENT_ID, TEST_APP_PEM, TEST_CLIENT_ID, TEST_SECRET, Emulator, app_certificate,
)

HERE = os.path.dirname(os.path.abspath(__file__))
# The staged collection's ansible_collections directory (make reliability runs the suite from the stage).
COLLECTIONS_PATH = os.path.abspath(os.path.join(HERE, "..", "..", "..", "..", ".."))
ANSIBLE_PLAYBOOK = os.path.join(os.path.dirname(sys.executable), "ansible-playbook")
# Methods that read; anything else sent to SharePoint or Graph is a side effect (sign-in and Graph's $batch of reads
# excepted, see writes()).
_READS = ("GET", "HEAD")


def writes(log):
    """The requests of a request log that change something in a tenant: every request but reads and sign-ins."""
    return ["%s %s%s" % (entry["method"], entry["host"], entry["path"]) for entry in log
            if entry["method"] not in _READS and entry["host"] != "login.microsoftonline.com"
            and not (entry["host"] == "graph.microsoft.com" and entry["path"].endswith("/$batch"))]


class Lab:
    """The emulator of the session and what the suite does with it."""

    def __init__(self, emulator, work):
        self.emulator = emulator
        self.work = work

    def tenant(self, name=None, **spec):
        return self.emulator.create_tenant(name, **spec)["name"]

    def last_seq(self):
        entries = self.emulator.control("GET", "requests").json()["requests"]
        return entries[-1]["seq"] if entries else 0

    def log_since(self, seq):
        return self.emulator.control("GET", "requests?since=%d" % seq).json()["requests"]

    def connection(self, tenant):
        """The connection options of a module run against `tenant` with the test app's certificate."""
        return {"tenant": tenant, "client_id": TEST_CLIENT_ID, "certificate_path": TEST_APP_PEM,
                "ca_path": self.emulator.ca_path, "timeout": 10, "max_retries": 2}

    def environment(self):
        return {"HTTPS_PROXY": self.emulator.url, "NO_PROXY": "127.0.0.1,localhost",
                "REQUESTS_CA_BUNDLE": self.emulator.ca_path}


@pytest.fixture(scope="session")
def lab(tmp_path_factory):
    work = tmp_path_factory.mktemp("reliability")
    emulator = Emulator(work / "emulator-data").start()
    saved = {key: os.environ.get(key) for key in ("HTTPS_PROXY", "https_proxy", "NO_PROXY", "REQUESTS_CA_BUNDLE")}
    os.environ.pop("https_proxy", None)
    instance = Lab(emulator, work)
    os.environ.update(instance.environment())
    yield instance
    emulator.stop()
    for key, value in saved.items():
        if value is None:
            os.environ.pop(key, None)
        else:
            os.environ[key] = value


def run_module(name, args):
    """Run a module of the collection in this process, as Ansible would with these arguments; its result.

    An exception out of the module (a crash, where Ansible shows MODULE FAILURE) propagates.
    """
    module = importlib.import_module("ansible_collections.spo.user_profiles.plugins.modules." + name)
    output = io.StringIO()
    with patch_module_args(args), contextlib.redirect_stdout(output):
        try:
            module.main()
        except SystemExit:
            pass
    return json.loads(output.getvalue())
