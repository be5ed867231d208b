# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

import pytest

from ansible_collections.spo.user_profiles.plugins.module_utils.errors import SpoError
from ansible_collections.spo.user_profiles.plugins.module_utils.profile_values import desired_value
from ansible_collections.spo.user_profiles.plugins.module_utils.property_sync import PropertySync, is_user_failure
from ansible_collections.spo.user_profiles.tests.unit.plugins.module_utils.test_profiles import FakePeopleManager

NOT_EDITABLE = "-1, Microsoft.Office.Server.UserProfiles.PropertyNotEditableException"


class FakeTenantPeople(FakePeopleManager):
    """FakePeopleManager that refuses some properties the way SharePoint does (HTTP 500, odata.error), types some as
    boolean (stored as a boolean, read back as .NET prints it: "True"), and can fail every request after some number
    of them (as a revoked permission would)."""

    def __init__(self, people, refused=(), fail_after=None, fail_status=403, booleans=()):
        super().__init__(people)
        self.refused = set(refused)
        self.booleans = set(booleans)
        self.fail_after = fail_after
        self.fail_status = fail_status
        self.limiter = None

    def sp(self, method, url, operation, json=None, **kw):
        if self.fail_after is not None and len(self.calls) >= self.fail_after:
            raise SpoError("Access denied", status=self.fail_status, operation=operation)
        if json is not None and json.get("propertyName") in self.refused:
            self.calls.append((method, url, json))
            raise SpoError("Property Not Editable: This property can only be modified by an administrator.", status=500,
                           code=NOT_EDITABLE, operation=operation)
        answer = super().sp(method, url, operation, json=json, **kw)
        if json is not None and json.get("propertyName") in self.booleans:
            profile = self.people[json["accountName"].split("|")[-1]]
            profile[json["propertyName"]] = str(json["propertyValue"].lower() == "true")
        return answer


def people(count):
    return dict(("u%02d@contoso.com" % number, {"CostCenter": "CC-%d" % number, "SPS-Skills": "a|b", "AboutMe": ""})
                for number in range(count))


def desired_for(count, changed=()):
    return [(number, "u%02d@contoso.com" % number,
             {"CostCenter": "NEW" if number in changed else "CC-%d" % number, "SPS-Skills": ["b", "a"]})
            for number in range(count)]


def test_writes_only_what_differs_and_reports_only_those_users():
    client = FakeTenantPeople(people(20))
    result = PropertySync(client, concurrency=4).run(desired_for(20, changed={3, 11}))
    assert result["changed"] is True
    assert result["summary"] == {"total": 20, "changed": 2, "unchanged": 18, "failed": 0, "written": 2}
    assert [record["user"] for record in result["users"]] == ["u03@contoso.com", "u11@contoso.com"]
    assert result["users"][0] == {"user": "u03@contoso.com", "changed": True, "written": ["CostCenter"], "error": None}
    assert [call[2]["propertyName"] for call in client.writes()] == ["CostCenter", "CostCenter"]
    assert len([call for call in client.calls if call[0] == "GET"]) == 20  # one read a user
    assert result["diff"] == {"before": {"u03@contoso.com": {"CostCenter": "CC-3"}, "u11@contoso.com": {"CostCenter": "CC-11"}},
                              "after": {"u03@contoso.com": {"CostCenter": "NEW"}, "u11@contoso.com": {"CostCenter": "NEW"}}}
    assert client.limiter is None  # the shared limit is the run's only
    assert result["concurrency"]["ceiling"] == 4


def test_an_unchanged_rerun_writes_nothing():
    client = FakeTenantPeople(people(5))
    result = PropertySync(client, concurrency=2).run(desired_for(5))
    assert result["changed"] is False and result["users"] == [] and client.writes() == []
    assert result["diff"] == {"before": {}, "after": {}}


def test_ordered_writes_a_different_order():
    client = FakeTenantPeople(people(1))
    result = PropertySync(client, concurrency=1, ordered=True).run(desired_for(1))
    assert result["users"][0]["written"] == ["SPS-Skills"]
    assert client.writes()[0][2]["propertyValues"] == ["b", "a"]


def test_a_boolean_rerun_against_a_property_sharepoint_types_as_boolean_writes_nothing():
    client = FakeTenantPeople({"u@contoso.com": {"IsPublic": "False", "Flag": "False", "Note": "True"}},
                              booleans={"IsPublic", "Flag"})
    desired = {"IsPublic": True, "Flag": "true", "Note": "true"}
    entries = [(1, "u@contoso.com", dict((name, desired_value(value, False)) for name, value in desired.items()))]
    first = PropertySync(client, concurrency=1).run(entries)
    assert first["users"][0]["written"] == ["IsPublic", "Flag", "Note"]
    assert client.people["u@contoso.com"] == {"IsPublic": "True", "Flag": "True", "Note": "true"}
    again = PropertySync(client, concurrency=1).run(entries)
    # A boolean given as one is unchanged; the text "true" is text, and differs from "True".
    assert again["changed"] is True and again["users"][0]["written"] == ["Flag"]
    assert again["diff"] == {"before": {"u@contoso.com": {"Flag": "True"}}, "after": {"u@contoso.com": {"Flag": "true"}}}


def test_check_mode_reads_compares_and_writes_nothing():
    client = FakeTenantPeople(people(4))
    result = PropertySync(client, concurrency=2, check_mode=True).run(desired_for(4, changed={1}))
    assert result["changed"] is True and client.writes() == []
    assert result["users"] == [{"user": "u01@contoso.com", "changed": True, "written": ["CostCenter"], "error": None}]
    assert result["summary"]["written"] == 0
    assert result["diff"]["after"] == {"u01@contoso.com": {"CostCenter": "NEW"}}


def test_a_user_without_a_profile_fails_alone():
    client = FakeTenantPeople(people(50))
    entries = desired_for(50, changed=set(range(50)))
    entries[17] = (17, "ghost@contoso.com", {"CostCenter": "NEW"})
    result = PropertySync(client, concurrency=8).run(entries)
    assert result["failed_users"] == ["ghost@contoso.com"]
    assert result["summary"] == {"total": 50, "changed": 49, "unchanged": 0, "failed": 1, "written": 49}
    ghost = result["users"][17]
    assert ghost["user"] == "ghost@contoso.com" and ghost["changed"] is False
    assert "no SharePoint user profile" in ghost["error"]
    assert not any(call[2] and call[2]["accountName"].endswith("ghost@contoso.com") for call in client.writes())


def test_a_refused_property_fails_its_user_with_the_service_message_and_the_rest_is_written():
    client = FakeTenantPeople(people(3), refused={"AboutMe"})
    entries = [(number, user, dict(desired, AboutMe="hello")) for number, user, desired in desired_for(3, changed={0})]
    result = PropertySync(client, concurrency=2).run(entries)
    assert result["summary"]["failed"] == 3
    first = result["users"][0]
    assert first["written"] == ["CostCenter"] and first["changed"] is True
    assert "Property Not Editable" in first["error"] and "set AboutMe of u00@contoso.com" in first["error"]
    assert "HTTP 500" in first["error"]
    # Refused answers are not retried: one attempt per user.
    assert len([call for call in client.writes() if call[2]["propertyName"] == "AboutMe"]) == 3


def test_a_failure_that_concerns_every_user_stops_the_run_with_what_was_done():
    client = FakeTenantPeople(people(40), fail_after=12)
    with pytest.raises(SpoError) as caught:
        PropertySync(client, concurrency=2).run(desired_for(40, changed=set(range(40))))
    err = caught.value
    assert err.status == 403
    done = err.result
    assert 0 < done["summary"]["total"] < 40
    # (a user the failure came in the middle of is listed too, with the error)
    assert done["summary"]["changed"] == len([user for user in done["users"] if user["changed"]]) == len(client.writes())
    assert client.limiter is None


def test_a_run_stopped_in_the_middle_of_a_user_reports_what_was_written_for_it():
    client = FakeTenantPeople(people(2), fail_after=5, fail_status=429)
    desired = [(number, "u%02d@contoso.com" % number, {"CostCenter": "NEW", "AboutMe": "hi"}) for number in range(2)]
    with pytest.raises(SpoError) as caught:
        PropertySync(client, concurrency=1).run(desired)
    err = caught.value
    # u00 was done; u01 got CostCenter, then its AboutMe was throttled past the retries
    assert [call[2]["propertyName"] for call in client.writes()] == ["CostCenter", "AboutMe", "CostCenter"]
    assert str(err).startswith("set AboutMe of u01@contoso.com: ")
    assert err.result["changed"] is True
    assert err.result["summary"] == {"total": 2, "changed": 2, "unchanged": 0, "failed": 1, "written": 3}
    assert err.result["users"] == [
        {"user": "u00@contoso.com", "changed": True, "written": ["CostCenter", "AboutMe"], "error": None},
        {"user": "u01@contoso.com", "changed": True, "written": ["CostCenter"], "error": str(err)}]
    assert err.result["diff"]["after"]["u01@contoso.com"] == {"CostCenter": "NEW"}


@pytest.mark.parametrize("status, per_user", [(500, True), (404, True), (400, True), (403, False), (401, False),
                                              (429, False), (503, False), (None, False)])
def test_is_user_failure(status, per_user):
    assert is_user_failure(SpoError("x", status=status)) is per_user
