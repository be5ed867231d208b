# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

import base64
import json
import os

import pytest
from ansible.module_utils import basic

from ansible_collections.spo.user_profiles.plugins.module_utils import auth, base, http, permissions
from ansible_collections.spo.user_profiles.plugins.module_utils.errors import SpoError

try:
    from ansible.module_utils.testing import patch_module_args
except ImportError:  # ansible-core < 2.19
    import contextlib
    from unittest import mock

    from ansible.module_utils.common.text.converters import to_bytes

    @contextlib.contextmanager
    def patch_module_args(args):
        with mock.patch.object(basic, "_ANSIBLE_ARGS", to_bytes(json.dumps({"ANSIBLE_MODULE_ARGS": args}))):
            yield

SEED_CERTIFICATE = os.path.join(os.path.dirname(__file__), "..", "..", "..", "emulator", "seeds", "test-app.crt")
SECRET = "very-secret-value-123"
TOKEN = "given-access-token-value"
ENV_NAMES = ("SPO_TENANT", "SPO_TENANT_ID", "SPO_CLIENT_ID", "SPO_CERTIFICATE_PATH", "SPO_CERTIFICATE_PASSWORD",
             "SPO_CLIENT_SECRET", "SPO_ACCESS_TOKEN", "SPO_CLOUD", "SPO_CA_PATH", "SPO_USER_AGENT_ORG")


@pytest.fixture(autouse=True)
def clean_env(monkeypatch):
    for name in ENV_NAMES:
        monkeypatch.delenv(name, raising=False)


def run_module(capsys, args, body, argument_spec=None, **kwargs):
    """Build an SpoModule with args, call body(module); returns (exit code, result JSON)."""
    with patch_module_args(args):
        with pytest.raises(SystemExit) as caught:
            module = base.SpoModule(argument_spec or {}, **kwargs)
            body(module)
    return caught.value.code, json.loads(capsys.readouterr().out)


def test_argument_spec_has_env_fallbacks_and_no_log():
    spec = base.connection_argument_spec()
    assert set(spec) == {"tenant", "tenant_id", "client_id", "certificate_path", "certificate_password", "client_secret",
                         "access_token", "cloud", "validate_certs", "ca_path", "timeout", "max_retries"}
    for name in ("certificate_password", "client_secret", "access_token"):
        assert spec[name].get("no_log") is True
    fallbacks = dict((name, option["fallback"][1]) for name, option in spec.items() if "fallback" in option)
    # SPO_TENANT_ID is no fallback: resolve_tenant_id applies it only to the tenant SPO_TENANT names.
    assert fallbacks == {"tenant": ["SPO_TENANT"], "client_id": ["SPO_CLIENT_ID"],
                         "certificate_path": ["SPO_CERTIFICATE_PATH"], "certificate_password": ["SPO_CERTIFICATE_PASSWORD"],
                         "client_secret": ["SPO_CLIENT_SECRET"], "access_token": ["SPO_ACCESS_TOKEN"], "cloud": ["SPO_CLOUD"],
                         "ca_path": ["SPO_CA_PATH"]}
    assert spec["cloud"]["choices"] == ["china", "dod", "gcc", "gcc_high", "public"]


def test_environment_supplies_the_connection(capsys, monkeypatch):
    monkeypatch.setenv("SPO_TENANT", "fabrikam")
    monkeypatch.setenv("SPO_CLIENT_ID", "app-id")
    monkeypatch.setenv("SPO_CLIENT_SECRET", SECRET)
    monkeypatch.setenv("SPO_CLOUD", "gcc_high")

    def body(module):
        creds = module.credentials()
        module.exit_json(changed=False, tenant=module.params["tenant"], tenant_id=creds.tenant_id,
                         client_id=creds.client_id, has_secret=creds.client_secret == SECRET, cloud=module.params["cloud"])

    code, result = run_module(capsys, {}, body)
    assert code == 0
    assert result["tenant"] == "fabrikam" and result["client_id"] == "app-id" and result["has_secret"] is True
    assert result["tenant_id"] == "fabrikam.onmicrosoft.us" and result["cloud"] == "gcc_high"


def test_tenant_id_defaults_to_the_initial_domain(capsys):
    def body(module):
        module.exit_json(tenant_id=module.credentials().tenant_id)

    _code, result = run_module(capsys, {"tenant": "https://contoso.sharepoint.com", "access_token": TOKEN}, body)
    assert result["tenant_id"] == "contoso.onmicrosoft.com"


TENANT_A_ID = "11111111-aaaa-4aaa-8aaa-111111111111"


@pytest.mark.parametrize("tenant, option, environ, expected, warned", [
    # the option wins, whatever the environment says
    ("contoso", "22222222-bbbb-4bbb-8bbb-222222222222", {"SPO_TENANT_ID": TENANT_A_ID, "SPO_TENANT": "contoso"},
     "22222222-bbbb-4bbb-8bbb-222222222222", False),
    # the environment's id for the environment's tenant (also given as a URL or a domain)
    ("contoso", None, {"SPO_TENANT_ID": TENANT_A_ID, "SPO_TENANT": "contoso"}, TENANT_A_ID, False),
    ("contoso", None, {"SPO_TENANT_ID": TENANT_A_ID, "SPO_TENANT": "https://contoso-admin.sharepoint.com"}, TENANT_A_ID, False),
    # another tenant of the same run never signs in to that directory
    ("fabrikam", None, {"SPO_TENANT_ID": TENANT_A_ID, "SPO_TENANT": "contoso"}, "fabrikam.onmicrosoft.com", True),
    # an id without the tenant it belongs to is no one's
    ("contoso", None, {"SPO_TENANT_ID": TENANT_A_ID}, "contoso.onmicrosoft.com", True),
    ("contoso", None, {"SPO_TENANT_ID": TENANT_A_ID, "SPO_TENANT": "not a tenant"}, "contoso.onmicrosoft.com", True),
    ("contoso", None, {}, "contoso.onmicrosoft.com", False),
])
def test_an_environment_tenant_id_only_signs_in_its_own_tenant(tenant, option, environ, expected, warned):
    tenant_id, warning = base.resolve_tenant_id(tenant, option, auth.get_cloud("public"), environ)
    assert tenant_id == expected
    assert bool(warning) is warned
    if warning:
        assert "SPO_TENANT_ID" in warning and tenant in warning and "spo_tenant_id" in warning


def test_a_run_over_two_tenants_with_one_tenant_id_in_the_environment(capsys, monkeypatch):
    """The AWX case: one credential injects SPO_TENANT and SPO_TENANT_ID; the inventory names each tenant."""
    monkeypatch.setenv("SPO_TENANT", "contoso")
    monkeypatch.setenv("SPO_TENANT_ID", TENANT_A_ID)
    # Where AnsibleModule puts a warning depends on what else the test process imported: record them here.
    warnings = []
    monkeypatch.setattr(base.SpoModule, "warn", lambda self, msg: warnings.append((self.params["tenant"], msg)))

    def body(module):
        module.exit_json(tenant_id=module.credentials().tenant_id)

    _code, first = run_module(capsys, {"tenant": "contoso", "client_id": "app", "certificate_path": "/x.pem"}, body)
    _code, second = run_module(capsys, {"tenant": "fabrikam", "client_id": "app", "certificate_path": "/x.pem"}, body)
    assert first["tenant_id"] == TENANT_A_ID
    assert second["tenant_id"] == "fabrikam.onmicrosoft.com"
    assert len(warnings) == 1 and warnings[0][0] == "fabrikam" and "not used for tenant fabrikam" in warnings[0][1]


def test_module_options_are_merged_and_check_mode_is_exposed(capsys):
    def body(module):
        module.exit_json(changed=False, extra=module.params["extra"], check=module.check_mode, diff=module.diff_mode)

    _code, result = run_module(capsys, {"tenant": "contoso", "access_token": TOKEN, "extra": "x", "_ansible_check_mode": True,
                                        "_ansible_diff": True},
                               body, {"extra": {"type": "str"}}, supports_check_mode=True)
    assert (result["extra"], result["check"], result["diff"]) == ("x", True, True)


def test_client_is_built_once_with_the_options(capsys, tmp_path, monkeypatch):
    monkeypatch.setenv("SPO_USER_AGENT_ORG", "Contoso IT")
    ca = tmp_path / "ca.pem"
    with open(SEED_CERTIFICATE, encoding="ascii") as handle:
        ca.write_text(handle.read())

    def body(module):
        client = module.client()
        assert module.client() is client
        module.exit_json(root=client.root_url, timeout=client.timeout, retries=client.max_retries, verify=client.verify(),
                         agent=client.user_agent)

    _code, result = run_module(capsys, {"tenant": "contoso", "access_token": TOKEN, "timeout": 5, "max_retries": 2,
                                        "ca_path": str(ca)}, body)
    assert dict((key, result[key]) for key in ("root", "timeout", "retries", "verify", "agent")) == {
        "root": "https://contoso.sharepoint.com", "timeout": 5, "retries": 2, "verify": str(ca),
        "agent": "NONISV|Contoso IT|spo.user_profiles/%s" % http.COLLECTION_VERSION}
    assert TOKEN not in json.dumps(result)


def _token_with_roles(roles):
    claims = base64.urlsafe_b64encode(json.dumps({"roles": roles}).encode()).decode().rstrip("=")
    return "e30.%s.c2ln" % claims


def test_a_missing_permission_fails_before_any_request(capsys, monkeypatch):
    sent = []
    monkeypatch.setattr(http.SpoClient, "send", lambda *args, **kwargs: sent.append(args))

    def body(module):
        module.client(permissions.BULK_IMPORT)
        module.exit_json(reached=True)

    code, result = run_module(capsys, {"tenant": "contoso", "access_token": _token_with_roles(["Sites.FullControl.All"])}, body)
    assert code == 1 and "reached" not in result
    assert result["error_code"] == "MissingPermission" and result["operation"] == "check permissions"
    assert "SharePoint User.ReadWrite.All" in result["msg"] and "Entra admin center" in result["msg"]
    assert sent == []


def test_granted_permissions_let_the_module_go_on(capsys):
    token = _token_with_roles(["Sites.FullControl.All", "User.ReadWrite.All"])
    code, result = run_module(capsys, {"tenant": "contoso", "access_token": token},
                              lambda module: module.exit_json(same=module.client(permissions.BULK_IMPORT) is module.client()))
    assert code == 0 and result["same"] is True


def test_fail_from_error_reports_every_field_and_hides_secrets(capsys):
    def body(module):
        module.fail_from_error(SpoError("Access denied.", status=403, code="-2147024891, System.UnauthorizedAccessException",
                                        request_id="rid-1", operation="read profile"), user="adele@contoso.com")

    code, result = run_module(capsys, {"tenant": "contoso", "client_id": "app", "client_secret": SECRET}, body)
    assert code == 1 and result["failed"] is True
    assert result["msg"] == "read profile: Access denied. (HTTP 403, -2147024891, System.UnauthorizedAccessException, request id rid-1)"
    assert (result["status"], result["error_code"], result["request_id"], result["operation"], result["user"]) == (
        403, "-2147024891, System.UnauthorizedAccessException", "rid-1", "read profile", "adele@contoso.com")
    assert "credential" not in result
    assert SECRET not in json.dumps(result)


@pytest.mark.parametrize("options, kind", [
    ({"access_token": TOKEN, "client_id": "app", "certificate_path": "/secure/app.pem"}, "access_token"),
    ({"client_id": "app", "certificate_path": "/secure/app.pem", "client_secret": SECRET}, "certificate"),
    ({"client_id": "app", "client_secret": SECRET}, "client_secret"),
    ({"client_id": "app"}, None),
])
@pytest.mark.parametrize("error", [SpoError("refused", operation=auth.SIGN_IN_OPERATION),
                                   SpoError("Unauthorized", status=401, operation="read job list")])
def test_a_failed_sign_in_or_refused_token_names_the_kind_of_credential_used_never_its_value(capsys, options, kind, error):
    code, result = run_module(capsys, dict(options, tenant="contoso"), lambda module: module.fail_from_error(error))
    assert code == 1 and result["credential"] == kind
    assert SECRET not in json.dumps(result) and TOKEN not in json.dumps(result)


def test_the_text_of_a_key_file_given_as_certificate_path_appears_nowhere(capsys):
    text = "-----BEGIN PRIVATE KEY-----\nMIIEvQIBADANBgkqhkiG9w0BAQEFAASC\n-----END PRIVATE KEY-----\n"
    code, result = run_module(capsys, {"tenant": "contoso", "client_id": "app", "certificate_path": text},
                              lambda module: module.client(permissions.BULK_IMPORT))  # signs in
    assert code == 1 and "certificate_path holds the text of a PEM file, not a path" in result["msg"]
    assert "MIIEvQ" not in json.dumps(result)  # nor in the invocation Ansible returns with the options


KEY_TEXT = "-----BEGIN PRIVATE KEY-----\nMIIEvQIBADANBgkqhkiG9w0BAQEFAASC\nBKcwggSjAgEAAoIBAQC7\n-----END PRIVATE KEY-----\n"
PATH_OPTIONS = {"src": {"type": "path"}, "photos": {"type": "list", "elements": "dict", "options": {
    "user": {"type": "str"}, "path": {"type": "path"}}}}


@pytest.mark.parametrize("args", [
    {"ca_path": KEY_TEXT},
    {"src": KEY_TEXT},
    {"photos": [{"user": "a", "path": "/photos/a.jpg"}, {"user": "b", "path": KEY_TEXT}]},
], ids=["connection option", "module option", "suboption"])
def test_the_text_of_a_key_file_given_as_any_path_option_appears_nowhere(capsys, monkeypatch, args):
    warnings = []
    monkeypatch.setattr(basic.AnsibleModule, "warn", lambda self, msg: warnings.append(msg))

    def body(module):
        module.warn("cannot use %s" % KEY_TEXT)
        # As an OSError quotes a file name: repr, its line breaks escaped.
        module.fail_json(msg="cannot read the sources: %r" % KEY_TEXT)

    code, result = run_module(capsys, dict(args, tenant="contoso", access_token=TOKEN), body, argument_spec=PATH_OPTIONS)
    assert code == 1 and result["msg"].startswith("cannot read the sources: ")
    assert "MIIEvQ" not in json.dumps(result) and "BKcwgg" not in json.dumps(result)
    assert len(warnings) == 1 and warnings[0].startswith("cannot use ") and "MIIEvQ" not in warnings[0]


def test_missing_requests_library(capsys, monkeypatch):
    monkeypatch.setattr(http, "HAS_REQUESTS", False)
    monkeypatch.setattr(http, "REQUESTS_IMP_ERR", "Traceback: no requests")
    code, result = run_module(capsys, {"tenant": "contoso", "access_token": TOKEN}, lambda module: module.client())
    assert code == 1
    assert "Failed to import the required Python library (requests)" in result["msg"]


def test_missing_msal_library_unless_a_token_is_given(capsys, monkeypatch):
    monkeypatch.setattr(auth, "HAS_MSAL", False)
    code, result = run_module(capsys, {"tenant": "contoso", "client_id": "a", "certificate_path": "/x.pem"}, lambda module: module.client())
    assert code == 1 and "msal" in result["msg"]
    code, result = run_module(capsys, {"tenant": "contoso", "access_token": TOKEN}, lambda module: module.exit_json(ok=bool(module.client())))
    assert code == 0 and result["ok"] is True


@pytest.mark.parametrize("args, message", [
    ({"max_retries": -1}, "max_retries must be 0 or more"),
    ({"timeout": 0}, "timeout must be a positive"),
    ({"tenant": "not a tenant"}, "is not a tenant name"),
    ({"ca_path": "/nonexistent/ca.pem"}, "ca_path: /nonexistent/ca.pem does not exist"),
    ({"ca_path": os.path.dirname(SEED_CERTIFICATE)}, "is a directory; give a CA bundle file (PEM)"),
    ({"ca_path": __file__}, "holds no CA certificate in PEM form"),
])
def test_invalid_connection_settings(capsys, args, message):
    params = {"tenant": "contoso", "access_token": TOKEN}
    params.update(args)
    code, result = run_module(capsys, params, lambda module: module.client())
    assert code == 1 and message in result["msg"]


def test_tenant_urls_come_from_the_options_alone(capsys, monkeypatch):
    monkeypatch.setattr(http.SpoClient, "send", lambda *args, **kwargs: pytest.fail("sent"))
    code, result = run_module(capsys, {"tenant": "Contoso.onmicrosoft.com", "cloud": "gcc_high", "access_token": TOKEN},
                              lambda module: module.exit_json(urls=module.tenant_urls()))
    assert code == 0 and result["urls"] == ["https://contoso.sharepoint.us", "https://contoso-my.sharepoint.us"]


@pytest.mark.parametrize("messages, expected", [
    ([None, "a: wrong"], "a: wrong (nothing was sent)"),
    (["a: wrong", None, "b: wrong too"], "2 option problems, nothing was sent: a: wrong; b: wrong too"),
])
def test_option_problems_fail_in_one_message(capsys, messages, expected):
    code, result = run_module(capsys, {"tenant": "contoso", "access_token": TOKEN},
                              lambda module: module.fail_on_option_problems(messages, problems=[]))
    assert code == 1 and result["msg"] == expected and result["problems"] == []


def test_no_option_problem_goes_on(capsys):
    code, result = run_module(capsys, {"tenant": "contoso", "access_token": TOKEN},
                              lambda module: module.fail_on_option_problems([None]) or module.exit_json(went_on=True))
    assert code == 0 and result["went_on"] is True


def test_tenant_is_required(capsys):
    code, result = run_module(capsys, {"access_token": TOKEN}, lambda module: module.exit_json())
    assert code == 1 and "tenant" in result["msg"]


def test_minimum_problems_name_each_option_below_its_least_with_the_value_and_pass_unset_ones():
    params = {"concurrency": 0, "workers": None, "wait_seconds": -3, "retries": 2}
    assert base.minimum_problems(params, {"concurrency": 1, "workers": 1, "wait_seconds": 0, "retries": 2}) == [
        "concurrency must be 1 or more, not 0", "wait_seconds must be 0 or more, not -3"]
