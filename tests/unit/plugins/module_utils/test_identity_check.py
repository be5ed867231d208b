# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

import re
from urllib.parse import parse_qsl, unquote

import pytest

from ansible_collections.spo.user_profiles.plugins.module_utils import identity_check
from ansible_collections.spo.user_profiles.plugins.module_utils.errors import SpoError

USERS = [
    {"id": "1", "userPrincipalName": "anna@x.com", "mail": "anna@x.com", "accountEnabled": True, "userType": "Member"},
    {"id": "2", "userPrincipalName": "guest_y.com#EXT#@x.onmicrosoft.com", "mail": "guest@y.com", "accountEnabled": True,
     "userType": "Guest"},
    {"id": "3", "userPrincipalName": "gone@x.com", "mail": "gone@x.com", "accountEnabled": False, "userType": "Member"},
    {"id": "4", "userPrincipalName": "o'neil@x.com", "mail": "o'neil@x.com", "accountEnabled": True, "userType": "Member"},
]


class FakeGraph:
    """Graph's $batch of user reads with $filter=<attribute> in (...), as the service answers (protocol notes)."""

    def __init__(self, users=None, throttle=0, page_size=100):
        self.users = USERS if users is None else users
        self.batches = []
        self.throttle = throttle
        self.page_size = page_size
        self.pages = {}

    def graph(self, method, path, operation, json=None):
        if method == "GET":
            return self.pages.pop(path)
        assert method == "POST" and path == "/$batch"
        assert len(json["requests"]) <= 20
        self.batches.append(json["requests"])
        responses = []
        for request in reversed(json["requests"]):
            if self.throttle:
                self.throttle -= 1
                responses.append({"id": request["id"], "status": 429, "headers": {"Retry-After": "3"},
                                  "body": {"error": {"code": "TooManyRequests"}}})
                continue
            responses.append({"id": request["id"], "status": 200, "body": self._read(request["url"])})
        return {"responses": responses}

    def _read(self, url):
        path, query = url.split("?", 1)
        params = dict(parse_qsl(query))
        assert path == "/users" and params["$select"] == "id,userPrincipalName,mail,accountEnabled,userType"
        match = re.match(r"^(\w+) in \((.*)\)$", params["$filter"])
        attribute, values = match.group(1), re.findall(r"'((?:[^']|'')*)'", match.group(2))
        assert len(values) <= 15
        wanted = {value.replace("''", "'").lower() for value in values}
        found = [user for user in self.users if (user.get(attribute) or "").lower() in wanted]
        body = {"value": found[:self.page_size]}
        if len(found) > self.page_size:
            link = "https://graph.microsoft.com/v1.0/users?$skiptoken=%d" % len(self.pages)
            self.pages[link] = {"value": found[self.page_size:]}
            body["@odata.nextLink"] = link
        return body


def test_unknown_guest_and_disabled_users_are_named_in_one_request():
    graph = FakeGraph()
    check = identity_check.IdentityCheck(graph, "email")
    reasons = check.reasons(["ANNA@x.com", "guest@y.com", "gone@x.com", "nobody@x.com", "o'neil@x.com"])
    assert reasons == {"guest@y.com": identity_check.GUEST, "gone@x.com": identity_check.DISABLED,
                       "nobody@x.com": identity_check.NOT_FOUND}
    assert len(graph.batches) == 1 and check.requests == 1


def test_300_users_in_one_batch_of_20_reads_of_15():
    graph = FakeGraph(users=[])
    ids = ["u%03d@x.com" % number for number in range(identity_check.USERS_PER_BATCH)]
    reasons = identity_check.IdentityCheck(graph, "email").reasons(ids)
    assert len(reasons) == 300
    assert len(graph.batches) == 1 and len(graph.batches[0]) == 20


@pytest.mark.parametrize("id_type, attribute", [("principal_name", "userPrincipalName"), ("cloud_id", "id")])
def test_the_id_type_chooses_the_attribute(id_type, attribute):
    graph = FakeGraph()
    value = "anna@x.com" if id_type == "principal_name" else "1"
    assert identity_check.IdentityCheck(graph, id_type).reasons([value]) == {}
    assert unquote(graph.batches[0][0]["url"]).startswith("/users?$filter=%s in (" % attribute)


def test_the_filter_is_encoded_for_a_url():
    graph = FakeGraph()
    identity_check.IdentityCheck(graph, "principal_name").reasons(["a+b#EXT#@x.com"])
    url = graph.batches[0][0]["url"]
    assert "#" not in url and "+" not in url and " " not in url


def test_one_usable_account_is_enough_when_two_share_a_mail():
    users = USERS + [{"id": "5", "userPrincipalName": "anna2@x.com", "mail": "anna@x.com", "accountEnabled": False}]
    assert identity_check.IdentityCheck(FakeGraph(users=users), "email").reasons(["anna@x.com"]) == {}
    assert identity_check.IdentityCheck(FakeGraph(users=list(reversed(users))), "email").reasons(["anna@x.com"]) == {}


def test_throttled_reads_are_sent_again_after_retry_after():
    graph = FakeGraph(throttle=1)
    slept = []
    check = identity_check.IdentityCheck(graph, "email", sleep=slept.append)
    assert check.reasons(["anna@x.com", "nobody@x.com"]) == {"nobody@x.com": identity_check.NOT_FOUND}
    assert slept == [3.0] and len(graph.batches) == 2


def test_throttling_without_end_fails():
    check = identity_check.IdentityCheck(FakeGraph(throttle=1000), "email", sleep=lambda delay: None)
    with pytest.raises(SpoError, match="kept throttling"):
        check.reasons(["anna@x.com"])


def test_another_error_fails_with_the_services_message():
    class Denied(FakeGraph):
        def _read(self, url):
            raise AssertionError("not reached")

        def graph(self, method, path, operation, json=None):
            error = {"code": "Authorization_RequestDenied", "message": "Insufficient privileges"}
            return {"responses": [{"id": "1", "status": 403, "body": {"error": error}}]}
    with pytest.raises(SpoError, match="Insufficient privileges") as caught:
        identity_check.IdentityCheck(Denied(), "email").reasons(["anna@x.com"])
    assert caught.value.status == 403 and caught.value.code == "Authorization_RequestDenied"


def test_pages_of_a_read_are_followed():
    graph = FakeGraph(page_size=1)
    reasons = identity_check.IdentityCheck(graph, "email").reasons(["anna@x.com", "guest@y.com"])
    assert reasons == {"guest@y.com": identity_check.GUEST}
    assert not graph.pages


def test_an_id_type_is_needed():
    with pytest.raises(ValueError, match="needs id_type"):
        identity_check.IdentityCheck(FakeGraph(), None)
