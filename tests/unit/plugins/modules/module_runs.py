# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""What the module tests share: running a module's main() for its result, and the client it connects with."""

from __future__ import annotations

import json

import pytest
from ansible.module_utils.testing import patch_module_args

from ansible_collections.spo.user_profiles.plugins.module_utils.base import SpoModule


def run_module(module, capsys, **args):
    """The result the module's main() prints for these options (tenant contoso unless given)."""
    args.setdefault("tenant", "contoso")
    with patch_module_args(args):
        with pytest.raises(SystemExit):
            module.main()
    return json.loads(capsys.readouterr().out)


def serve_client(monkeypatch, fake):
    """Module runs connect to fake; fake.asked_needs lists the permissions each run asked SpoModule.client to check."""
    fake.asked_needs = []
    monkeypatch.setattr(SpoModule, "client", lambda self, needs=(): fake.asked_needs.append(needs) or fake)
    return fake


def refuse_client(monkeypatch):
    """A module run that connects fails the test: for options that must be refused before any request."""
    monkeypatch.setattr(SpoModule, "client", lambda self, needs=(): pytest.fail("connected"))
