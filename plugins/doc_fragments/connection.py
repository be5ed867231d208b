# -*- coding: utf-8 -*-
# Copyright (c) spo.user_profiles contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations


class ModuleDocFragment:
    # Connection options shared by every module (spo.user_profiles.connection).
    # Keep in step with connection_argument_spec() in plugins/module_utils/base.py.
    DOCUMENTATION = r"""
options:
  tenant:
    description:
      - The tenant name, the part before C(.sharepoint.com), for example V(contoso).
      - C(contoso.onmicrosoft.com) and C(https://contoso.sharepoint.com) are accepted too.
      - If not set, the value of the E(SPO_TENANT) environment variable is used.
    type: str
    required: true
  tenant_id:
    description:
      - The Entra ID (Azure AD) tenant to sign in to, as a GUID or a domain.
      - Defaults to the tenant's initial domain, for example C(contoso.onmicrosoft.com)
        (C(.onmicrosoft.us) for O(cloud=gcc_high) and O(cloud=dod), C(.partner.onmschina.cn) for O(cloud=china)).
      - If not set, the value of the E(SPO_TENANT_ID) environment variable is used, but only for the tenant the
        E(SPO_TENANT) environment variable names, so that a tenant id injected for one tenant (for example by an AWX
        credential) never signs the other tenants of a run into that tenant. For any other tenant it is not used and
        the module warns; set O(tenant_id) per tenant (C(spo_tenant_id) in the inventory) when a tenant's directory
        is not its initial domain.
    type: str
  client_id:
    description:
      - The application (client) id of the Entra ID app registration.
      - Required unless O(access_token) is given.
      - If not set, the value of the E(SPO_CLIENT_ID) environment variable is used.
    type: str
  certificate_path:
    description:
      - Path to the app registration's certificate credential on the host that runs the module.
      - Either a PEM file holding the private key and the certificate, or a PFX (PKCS#12) file.
      - The text of a PEM file given here instead of its path is refused, and kept out of the task's output.
      - SharePoint Online accepts app-only access only with a certificate, so this is needed for every SharePoint call.
      - If not set, the value of the E(SPO_CERTIFICATE_PATH) environment variable is used.
    type: path
  certificate_password:
    description:
      - The password of an encrypted private key in O(certificate_path), or of the PFX file.
      - If not set, the value of the E(SPO_CERTIFICATE_PASSWORD) environment variable is used.
    type: str
  client_secret:
    description:
      - A client secret of the app registration.
      - Not enough on its own for any module of this collection. Microsoft Graph accepts a token obtained with it,
        but SharePoint Online does not (it answers C(Unsupported app only token)), and every module calls SharePoint
        (M(spo.user_profiles.profile_photo) too, even with only V(graph) in its targets, since its manifest is on
        SharePoint). With only a secret, a module fails when it signs in, before any request, saying so.
      - When O(certificate_path) is given as well, the certificate is used.
      - If not set, the value of the E(SPO_CLIENT_SECRET) environment variable is used.
    type: str
  access_token:
    description:
      - A ready bearer token, used as is for every call instead of signing in.
      - A token has one audience, so this suits modules that call one service only. It is not refreshed.
      - If not set, the value of the E(SPO_ACCESS_TOKEN) environment variable is used.
    type: str
  cloud:
    description:
      - The Microsoft 365 cloud that hosts the tenant; it selects the sign-in, SharePoint and Graph host names.
      - V(public) and V(gcc) use C(login.microsoftonline.com), C(*.sharepoint.com) and C(graph.microsoft.com).
      - V(gcc_high) uses C(login.microsoftonline.us), C(*.sharepoint.us) and C(graph.microsoft.us).
      - V(dod) uses C(login.microsoftonline.us), C(*.sharepoint-mil.us) and C(dod-graph.microsoft.us).
      - V(china) (operated by 21Vianet) uses C(login.chinacloudapi.cn), C(*.sharepoint.cn) and C(microsoftgraph.chinacloudapi.cn).
      - If not set, the value of the E(SPO_CLOUD) environment variable is used.
    type: str
    choices: [china, dod, gcc, gcc_high, public]
    default: public
  validate_certs:
    description:
      - Whether to verify the TLS certificates of the services (and of a TLS-inspecting proxy).
      - Only set to V(false) on a test system you control.
    type: bool
    default: true
  ca_path:
    description:
      - A CA bundle (PEM) to verify TLS certificates with, instead of the system's or E(REQUESTS_CA_BUNDLE).
      - Use it behind a TLS-inspecting proxy.
      - If not set, the value of the E(SPO_CA_PATH) environment variable is used.
    type: path
  timeout:
    description:
      - Seconds to wait for a connection or an answer, for each HTTP request.
    type: int
    default: 60
  max_retries:
    description:
      - How many times one request is retried after throttling (HTTP 429, 503, 504, waiting as the C(Retry-After)
        header asks), or after a connection error or timeout (waiting 1, 2, 4, ... seconds with jitter, at most 300).
      - No other answer is retried. Client errors (4xx) are not, except that an expired token is renewed once after
        a 401; nor are other server errors, since SharePoint answers errors such as a property that cannot be edited
        with HTTP 500, and they are the same on every try.
      - A TLS certificate that cannot be verified fails the request at once, naming O(ca_path) and O(validate_certs).
    type: int
    default: 10
notes:
  - Proxies are taken from the E(HTTPS_PROXY) and E(NO_PROXY) environment variables.
  - Every request carries the User-Agent C(NONISV|<org>|spo.user_profiles/<version>) that Microsoft asks for;
    C(<org>) is V(spo) unless the E(SPO_USER_AGENT_ORG) environment variable says otherwise.
  - Errors name the operation, the HTTP status, the service's error code and the request id to quote to Microsoft support.
    Tokens, secrets and keys never appear in results or errors.
requirements:
  - requests >= 2.28
  - msal >= 1.35 (unless O(access_token) is given; signing in with O(certificate_path) needs 1.35 or later)
  - cryptography (with O(certificate_path))
"""
