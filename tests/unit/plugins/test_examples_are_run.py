# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Every plugin's EXAMPLES run against the emulator: some integration target runs setup_emulator's run_examples for it."""

from __future__ import annotations

import os
import re

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", "..", ".."))
TARGETS = os.path.join(ROOT, "tests", "integration", "targets")
# The plugin types whose documentation carries EXAMPLES, and where run_examples finds them (ansible-doc -t <type>).
DOCUMENTED = {"modules": "module", "lookup": "lookup"}


def _plugins():
    for directory, doc_type in DOCUMENTED.items():
        for name in sorted(os.listdir(os.path.join(ROOT, "plugins", directory))):
            if name.endswith(".py") and not name.startswith("_"):
                yield name[:-3], doc_type


def _examples_runs():
    """(plugin, type) for every include of run_examples in the integration targets."""
    runs = set()
    for directory, _dirs, files in os.walk(TARGETS):
        for name in files:
            if not name.endswith(".yml"):
                continue
            with open(os.path.join(directory, name), encoding="utf-8") as handle:
                text = handle.read()
            for block in re.split(r"\n\s*- name: ", text):
                if "tasks_from: run_examples" not in block:
                    continue
                plugin = re.search(r"setup_emulator_example_plugin: (\S+)", block).group(1)
                doc_type = re.search(r"setup_emulator_example_type: (\S+)", block)
                runs.add((plugin, doc_type.group(1) if doc_type else "module"))
    return runs


def test_every_module_and_lookup_has_its_examples_run():
    plugins = set(_plugins())
    assert len(plugins) >= 12, "the plugin directories were not found from %s" % ROOT
    assert sorted(plugins - _examples_runs()) == []


def test_the_runs_name_existing_plugins():
    assert sorted(_examples_runs() - set(_plugins())) == []
