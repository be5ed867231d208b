# -*- coding: utf-8 -*-
# Copyright (c) spo.user_profiles contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""A tenant host's spo_ variables as the connection options of the spo action group, and what in them stops a
sign-in before any module runs; read on the controller by the connection_options and connection_problems lookups."""

from __future__ import annotations

import os

from ansible_collections.spo.user_profiles.plugins.plugin_utils.controller_paths import controller_path

# Module option -> inventory variable. The modules' argument spec (module_utils/base.py) has the same options.
OPTIONS = ("tenant", "tenant_id", "client_id", "certificate_path", "certificate_password", "client_secret",
           "access_token", "cloud", "ca_path", "validate_certs", "timeout", "max_retries")
PREFIX = "spo_"
# The options that name a file on the controller: made absolute here, so that a relative one names the same file for
# the roles' first step and for the modules (plugin_utils/controller_paths.py says why they would differ).
PATH_OPTIONS = ("certificate_path", "ca_path")
# The environment variables the modules fall back on for the options a sign-in needs (module_utils/base.py).
ENVIRONMENT = {"client_id": "SPO_CLIENT_ID", "certificate_path": "SPO_CERTIFICATE_PATH",
               "client_secret": "SPO_CLIENT_SECRET", "access_token": "SPO_ACCESS_TOKEN"}

NO_CREDENTIAL = ("no credential: set spo_certificate_path (with spo_client_id) or spo_access_token, or the "
                 "SPO_CERTIFICATE_PATH / SPO_ACCESS_TOKEN environment variables")
NO_CLIENT_ID = ("spo_client_id is not set: give the application (client) id of the app registration that "
                "spo_certificate_path (or spo_client_secret) belongs to, or set the SPO_CLIENT_ID environment variable")


def host_options(templar, variables):
    """The options the host's spo_ variables set (templated; unset, null and empty ones left out; paths absolute), the
    tenant being the inventory host name when spo_tenant is not set."""
    templar.available_variables = variables
    options = {}
    for name in OPTIONS:
        key = PREFIX + name
        if key in variables:
            value = templar.template(variables[key])
            if value is not None and value != "":
                options[name] = controller_path(value) if name in PATH_OPTIONS and isinstance(value, str) else value
    if "tenant" not in options:
        options["tenant"] = variables.get("inventory_hostname")
    return options


def sign_in_problems(options, environ=None):
    """What stops a sign-in with these options and the SPO_* environment the modules fall back on: no credential, or a
    certificate or client secret without the client id it belongs to. An empty list when nothing is seen missing."""
    environ = os.environ if environ is None else environ

    def given(option):
        return bool(options.get(option)) or bool(environ.get(ENVIRONMENT[option]))

    if not (given("certificate_path") or given("client_secret") or given("access_token")):
        return [NO_CREDENTIAL]
    if not given("access_token") and not given("client_id"):
        return [NO_CLIENT_ID]
    return []
