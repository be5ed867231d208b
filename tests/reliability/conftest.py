# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Fixtures of the reliability suite (make reliability runs it from the staged collection): one emulator and its
tenants for the session."""

from __future__ import annotations

import os

import pytest

from ansible_collections.spo.user_profiles.tests.emulator.tests.conftest import Emulator
from ansible_collections.spo.user_profiles.tests.reliability.lab import Lab


@pytest.fixture(scope="session")
def lab(tmp_path_factory):
    """The emulator (its proxy and CA in this process's environment), its tenants and the broken credentials."""
    work = tmp_path_factory.mktemp("reliability")
    emulator = Emulator(work / "emulator-data").start()
    saved = {key: os.environ.get(key) for key in ("HTTPS_PROXY", "https_proxy", "NO_PROXY", "no_proxy", "REQUESTS_CA_BUNDLE")}
    for key in ("https_proxy", "no_proxy"):
        os.environ.pop(key, None)
    instance = Lab(emulator, work)
    os.environ.update(instance.environment())
    instance.add_tenants()
    instance.add_credentials()
    yield instance
    emulator.stop()
    for key, value in saved.items():
        if value is None:
            os.environ.pop(key, None)
        else:
            os.environ[key] = value
