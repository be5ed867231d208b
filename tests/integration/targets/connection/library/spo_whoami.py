#!/usr/bin/python
# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
module: spo_whoami
short_description: Test-only module that signs in and reads the tenant's root web and one Graph user
description:
  - Exercises the collection's module base, sign-in and HTTP client in the integration tests.
  - Not shipped; lives in the connection target's library.
author: spo.user_profiles contributors (@spo-user-profiles)
extends_documentation_fragment:
  - spo.user_profiles.connection
options:
  sharepoint:
    description: Read C(/_api/web) of the root site.
    type: bool
    default: true
  graph:
    description: Read one user through Microsoft Graph.
    type: bool
    default: true
  repeat:
    description: How many times to do the reads.
    type: int
    default: 1
  pause:
    description: Seconds to wait between two rounds of reads.
    type: float
    default: 0
"""

EXAMPLES = r"""
- name: Sign in and read
  spo_whoami:
    tenant: contoso
    client_id: 6f1d2c4a-3b5e-4c7d-9e8f-0a1b2c3d4e5f
    certificate_path: /path/app.pem
"""

RETURN = r"""
web:
  description: The root web (Title, Url) as read in the last round.
  returned: when O(sharepoint=true)
  type: dict
user:
  description: The userPrincipalName of the first Graph user.
  returned: when O(graph=true)
  type: str
retries:
  description: The retries the client made (operation, status, wait, attempt).
  returned: always
  type: list
  elements: dict
token_requests:
  description: Tokens obtained per resource during the run.
  returned: always
  type: dict
"""

import time

from ansible_collections.spo.user_profiles.plugins.module_utils import permissions
from ansible_collections.spo.user_profiles.plugins.module_utils.base import SpoModule
from ansible_collections.spo.user_profiles.plugins.module_utils.errors import SpoError


def read(client, module):
    result = {}
    for round_number in range(module.params["repeat"]):
        if round_number:
            time.sleep(module.params["pause"])
        if module.params["sharepoint"]:
            web = client.sp("GET", client.root_url + "/_api/web", "read root web", params={"$select": "Title,Url"})
            result["web"] = {"Title": web.get("Title"), "Url": web.get("Url")}
        if module.params["graph"]:
            users = client.graph("GET", "/users", "read one user", params={"$top": "1", "$select": "userPrincipalName"})
            result["user"] = users["value"][0]["userPrincipalName"] if users.get("value") else None
    return result


def main():
    module = SpoModule(
        dict(
            sharepoint=dict(type="bool", default=True),
            graph=dict(type="bool", default=True),
            repeat=dict(type="int", default=1),
            pause=dict(type="float", default=0),
        ),
        supports_check_mode=True,
    )
    client = module.client(permissions.GRAPH_USERS if module.params["graph"] else ())
    try:
        result = read(client, module)
    except SpoError as err:
        module.fail_from_error(err, retries=client.retry_log, token_requests=getattr(client.tokens, "acquired", {}))
    module.exit_json(changed=False, retries=client.retry_log, token_requests=getattr(client.tokens, "acquired", {}), **result)


if __name__ == "__main__":
    main()
