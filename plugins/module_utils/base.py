# -*- coding: utf-8 -*-
# Copyright (c) spo.user_profiles contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

"""SpoModule: the module base (shared argument spec, one client per run, errors as fail_json)."""

from __future__ import annotations

import os
import ssl

from ansible.module_utils.basic import AnsibleModule, env_fallback, missing_required_lib
from ansible.module_utils.common.parameters import remove_values

from ansible_collections.spo.user_profiles.plugins.module_utils import auth, http, permissions
from ansible_collections.spo.user_profiles.plugins.module_utils.errors import SpoError

CLOUD_CHOICES = sorted(auth.CLOUDS)

# Not a module option: an organisation-wide setting for the decorated User-Agent.
USER_AGENT_ORG_ENV = "SPO_USER_AGENT_ORG"
# An environment's tenant id belongs to the tenant the environment names (an AWX credential injects both).
TENANT_ENV = "SPO_TENANT"
TENANT_ID_ENV = "SPO_TENANT_ID"


def _same_tenant(name, tenant):
    try:
        return bool(name) and auth.normalize_tenant(name) == tenant
    except SpoError:
        return False


def resolve_tenant_id(tenant, tenant_id, cloud, environ=None):
    """(the directory to sign in to, a warning or None) for a tenant.

    The tenant_id option wins. SPO_TENANT_ID from the environment is used only for the tenant SPO_TENANT names, so
    that a tenant id injected for one tenant (an AWX credential) never signs the other tenants of a multi-tenant run
    into that tenant's directory. Otherwise it is the tenant's initial domain, <tenant>.onmicrosoft.com.
    """
    environ = os.environ if environ is None else environ
    if tenant_id:
        return tenant_id, None
    default = "%s.%s" % (tenant, cloud.default_domain_suffix)
    from_env = environ.get(TENANT_ID_ENV)
    if not from_env:
        return default, None
    if _same_tenant(environ.get(TENANT_ENV), tenant):
        return from_env, None
    named = environ.get(TENANT_ENV)
    return default, ("%s is set in the environment but not used for tenant %s: it is used only for the tenant %s names "
                     "(%s), so that one tenant's id never signs another tenant in. Signing in to %s; set tenant_id "
                     "(spo_tenant_id in the inventory) if the tenant's directory is another."
                     % (TENANT_ID_ENV, tenant, TENANT_ENV, "%s here" % named if named else "not set here", default))


def connection_argument_spec():
    """The connection options every module accepts; documented in the spo.user_profiles.connection fragment."""
    return dict(
        tenant=dict(type="str", required=True, fallback=(env_fallback, ["SPO_TENANT"])),
        # SPO_TENANT_ID is read by resolve_tenant_id, not as a fallback: it may only apply to the tenant SPO_TENANT names.
        tenant_id=dict(type="str"),
        client_id=dict(type="str", fallback=(env_fallback, ["SPO_CLIENT_ID"])),
        certificate_path=dict(type="path", fallback=(env_fallback, ["SPO_CERTIFICATE_PATH"])),
        certificate_password=dict(type="str", no_log=True, fallback=(env_fallback, ["SPO_CERTIFICATE_PASSWORD"])),
        client_secret=dict(type="str", no_log=True, fallback=(env_fallback, ["SPO_CLIENT_SECRET"])),
        access_token=dict(type="str", no_log=True, fallback=(env_fallback, ["SPO_ACCESS_TOKEN"])),
        cloud=dict(type="str", default="public", choices=CLOUD_CHOICES, fallback=(env_fallback, ["SPO_CLOUD"])),
        validate_certs=dict(type="bool", default=True),
        ca_path=dict(type="path", fallback=(env_fallback, ["SPO_CA_PATH"])),
        timeout=dict(type="int", default=60),
        max_retries=dict(type="int", default=10),
    )


def minimum_problems(params, minimums):
    """"<option> must be <least> or more, not <value>" for each integer option (name -> least) set below its least."""
    return ["%s must be %d or more, not %d" % (name, least, params[name])
            for name, least in minimums.items() if params[name] is not None and params[name] < least]


def _path_values(spec, params):
    """The value of every path-type option of spec in params, those of suboptions (dicts, lists of dicts) included."""
    for name, option in spec.items():
        value = params.get(name)
        if option.get("type") == "path":
            yield value
        elif option.get("options") and value:
            for item in value if isinstance(value, list) else [value]:
                if isinstance(item, dict):
                    yield from _path_values(option["options"], item)


class SpoModule:
    """Wraps AnsibleModule (composition, in the manner of amazon.aws's AnsibleAWSModule)."""

    def __init__(self, argument_spec, **kwargs):
        spec = connection_argument_spec()
        spec.update(argument_spec or {})
        self.module = AnsibleModule(argument_spec=spec, **kwargs)
        self._client = None
        for value in _path_values(spec, self.params):
            if auth.holds_pem_text(value):
                # The text of a key file given where a path belongs: kept out of every result and message, as a secret;
                # line by line too, as an error may quote it in another form (repr escapes its line breaks).
                self.module.no_log_values.add(value)
                self.module.no_log_values.update(line.strip() for line in value.splitlines() if line.strip())

    @property
    def params(self):
        return self.module.params

    @property
    def check_mode(self):
        return self.module.check_mode

    @property
    def diff_mode(self):
        return self.module._diff

    def credentials(self):
        params = self.params
        tenant = auth.normalize_tenant(params["tenant"])
        tenant_id, warning = resolve_tenant_id(tenant, params["tenant_id"], auth.get_cloud(params["cloud"]))
        if warning and not params["access_token"]:
            self.warn(warning)
        return auth.Credentials(
            client_id=params["client_id"],
            tenant_id=tenant_id,
            certificate_path=params["certificate_path"],
            certificate_password=params["certificate_password"],
            client_secret=params["client_secret"],
            access_token=params["access_token"],
        )

    def client(self, needs=()):
        """The SpoClient of this run, built on first use.

        `needs`: the application permissions the run needs (permissions.py); the module fails at once, naming each one
        the app lacks and where to grant it, before anything is changed.
        """
        if self._client is None:
            self._client = self._new_client()
        if needs:
            try:
                permissions.check(self._client, needs)
            except SpoError as err:
                self.fail_from_error(err)
        return self._client

    def _new_client(self):
        self._require_libraries()
        params = self.params
        if params["max_retries"] < 0:
            self.fail_json(msg="max_retries must be 0 or more")
        if params["timeout"] <= 0:
            self.fail_json(msg="timeout must be a positive number of seconds")
        if params["ca_path"]:
            self._check_ca_path(params["ca_path"])
        client = None
        try:
            client = http.SpoClient(
                params["tenant"], self.credentials(), cloud=params["cloud"], timeout=params["timeout"],
                max_retries=params["max_retries"], validate_certs=params["validate_certs"], ca_path=params["ca_path"],
                user_agent_org=os.environ.get(USER_AGENT_ORG_ENV) or http.DEFAULT_USER_AGENT_ORG,
            )
        except SpoError as err:
            self.fail_from_error(err)
        return client

    def _check_ca_path(self, ca_path):
        """A CA bundle that cannot be read fails here, naming ca_path, not as a crash or a certificate error later."""
        if not os.path.exists(ca_path):
            self.fail_json(msg="ca_path: %s does not exist; give the CA bundle (PEM) that issued the certificates of the "
                               "service or of your TLS-inspecting proxy" % ca_path)
        if os.path.isdir(ca_path):
            self.fail_json(msg="ca_path: %s is a directory; give a CA bundle file (PEM)" % ca_path)
        if not os.access(ca_path, os.R_OK):
            self.fail_json(msg="ca_path: %s cannot be read (permissions)" % ca_path)
        try:
            ssl.create_default_context(cafile=ca_path)
        except (ssl.SSLError, ValueError) as err:
            self.fail_json(msg="ca_path: %s holds no CA certificate in PEM form (%s)" % (ca_path, err))

    def tenant_urls(self):
        """The tenant's SharePoint URLs (root site host, then My Site host), from the options alone: no request."""
        try:
            cloud = auth.get_cloud(self.params["cloud"])
            tenant = auth.normalize_tenant(self.params["tenant"])
        except SpoError as err:
            self.fail_from_error(err)
        return ["https://%s" % cloud.sharepoint_host(tenant, kind) for kind in ("root", "my")]

    def fail_on_option_problems(self, messages, **result):
        """Fail with one message naming every option that is wrong (None entries stand for fine ones): before any request."""
        messages = [message for message in messages if message]
        if len(messages) == 1:
            self.fail_json(msg="%s (nothing was sent)" % messages[0], **result)
        if messages:
            self.fail_json(msg="%d option problems, nothing was sent: %s" % (len(messages), "; ".join(messages)), **result)

    def _require_libraries(self):
        params = self.params
        if not http.HAS_REQUESTS:
            self.fail_json(msg=missing_required_lib("requests"), exception=http.REQUESTS_IMP_ERR)
        if params["access_token"]:
            return
        if not auth.HAS_MSAL:
            self.fail_json(msg=missing_required_lib("msal"), exception=auth.MSAL_IMP_ERR)
        if params["certificate_path"] and not auth.HAS_CRYPTOGRAPHY:
            self.fail_json(msg=missing_required_lib("cryptography"), exception=auth.CRYPTOGRAPHY_IMP_ERR)

    def fail_from_error(self, err, **result):
        """SpoError -> fail_json with msg, status, error_code, request_id and operation; for a failed sign-in or a token
        refused (HTTP 401) also `credential`, the kind the module signed in with, so that the roles' reports say which
        variables to check."""
        fields = err.to_result()
        if err.operation == auth.SIGN_IN_OPERATION or err.status == 401:
            fields["credential"] = self._credential_kind()
        fields.update(result)
        self.fail_json(msg=str(err), **fields)

    def _credential_kind(self):
        """access_token, certificate or client_secret: what auth.TokenProvider signs in with (in that order), or None."""
        params = self.params
        if params["access_token"]:
            return "access_token"
        if params["certificate_path"]:
            return "certificate"
        return "client_secret" if params["client_secret"] else None

    def exit_json(self, **result):
        self.module.exit_json(**result)

    def fail_json(self, **result):
        self.module.fail_json(**result)

    def warn(self, msg):
        # Masked here: ansible-core 2.19 returns warnings as objects that its masking of the result passes over.
        self.module.warn(remove_values(msg, self.module.no_log_values))
