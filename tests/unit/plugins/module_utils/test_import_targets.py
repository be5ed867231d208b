# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

import pytest

from ansible_collections.spo.user_profiles.plugins.module_utils import import_targets
from ansible_collections.spo.user_profiles.plugins.module_utils.errors import SpoError
from ansible_collections.spo.user_profiles.plugins.module_utils.import_writer import ImportFileWriter
from ansible_collections.spo.user_profiles.tests.unit.plugins.module_utils.test_profiles import FakePeopleManager

BOTH_ROLES = ("Sites.FullControl.All", "User.ReadWrite.All")


class FakeTenant(FakePeopleManager):
    """FakePeopleManager whose SharePoint token carries `roles` (None: a token that says nothing about roles)."""

    def __init__(self, people, defined=None, roles=BOTH_ROLES):
        super().__init__(people, defined=defined)
        self.roles = roles

    def granted_roles(self, resource):
        return None if self.roles is None else set(self.roles)

    def reads(self, method):
        return [call[1] for call in self.calls if "/%s(" % method in call[1]]


def built_files(tmp_path, ids, per_file=None):
    """Import files (ImportFileWriter's) holding a user for each id, `per_file` users a file."""
    writer = ImportFileWriter(str(tmp_path), max_properties=2 * per_file if per_file else 500000)
    for user_id in ids:
        assert writer.add_encoded(writer.encode({"mail": user_id, "cc": "1"}), 2)
    return writer.finish("hr")


def check(client, files, property_map, id_type="email"):
    return import_targets.unknown_targets(client, files, "mail", property_map, id_type)


@pytest.fixture
def tenant():
    return FakeTenant({"anna@contoso.com": {"CostCenter": "", "Building": "B1", "AccountName": "x"}})


def test_a_misspelled_target_is_a_problem_naming_the_map_entry_and_the_answer(tenant, tmp_path):
    problems, warning = check(tenant, built_files(tmp_path, ["anna@contoso.com"]),
                              {"cost_center": "CostCentre", "building": "building"})
    assert warning is None
    assert len(problems) == 1 and problems[0]["field"] == "cost_center" and problems[0]["record"] is None
    assert problems[0]["message"] == (
        "target property CostCentre does not exist in the tenant's user profiles (property_map: cost_center -> "
        "CostCentre); reading it for anna@contoso.com, the service answered \"Property Not Defined: CostCentre\"; the "
        "profile has CostCenter. Check the name in the SharePoint admin center, User profiles > Manage User Properties")
    # One profile read, and one read by name for the target the profile does not name: never one a user.
    assert len(tenant.reads("GetPropertiesFor")) == 1 and len(tenant.reads("GetUserProfilePropertyFor")) == 1


def test_targets_the_profile_names_cost_one_request_whatever_the_users(tenant, tmp_path):
    files = built_files(tmp_path, ["anna@contoso.com"] + ["u%d@contoso.com" % number for number in range(50)])
    assert check(tenant, files, {"cc": "costcenter", "b": "Building"}) == ([], None)
    assert len(tenant.calls) == 1


def test_a_target_the_profile_does_not_name_is_read_by_name(tmp_path):
    client = FakeTenant({"anna@contoso.com": {"CostCenter": "1"}}, defined={"CostCenter", "Hidden"})
    assert check(client, built_files(tmp_path, ["anna@contoso.com"]), {"cc": "CostCenter", "h": "Hidden"}) == ([], None)
    assert len(client.reads("GetUserProfilePropertyFor")) == 1


def test_users_without_a_profile_are_passed_over_for_the_next(tenant, tmp_path):
    files = built_files(tmp_path, ["ghost@contoso.com", "anna@contoso.com"])
    problems, warning = check(tenant, files, {"cc": "CostCentre"})
    assert warning is None and [found["field"] for found in problems] == ["cc"]
    assert "reading it for anna@contoso.com" in problems[0]["message"]


def test_when_none_of_the_first_users_has_a_profile_the_check_is_left_out_with_a_warning(tenant, tmp_path):
    # Two files: the users tried are the first of the whole upload, across files.
    ids = ["g1@contoso.com", "g2@contoso.com", "g3@contoso.com", "anna@contoso.com"]
    problems, warning = check(tenant, built_files(tmp_path, ids, per_file=2), {"cc": "CostCentre"})
    assert problems == []
    assert warning == (
        "the targets of property_map were not checked against the tenant's user profile properties (none of the first 3 "
        "users of the import has a SharePoint user profile to read: g1@contoso.com, g2@contoso.com, g3@contoso.com); a "
        "target the tenant does not have is found only when the import job is queued, after the upload")
    assert len(tenant.calls) == import_targets.MAX_USERS_TRIED


@pytest.mark.parametrize("id_type", ["cloud_id", None])
def test_ids_that_address_no_profile_leave_the_check_out_without_a_word(tenant, tmp_path, id_type):
    assert check(tenant, built_files(tmp_path, ["anna@contoso.com"]), {"cc": "CostCentre"}, id_type) == ([], None)
    assert tenant.calls == []


def test_an_app_that_may_not_read_profiles_leaves_the_check_out(tmp_path):
    client = FakeTenant({"anna@contoso.com": {"CostCenter": ""}}, roles=("Sites.FullControl.All",))
    problems, warning = check(client, built_files(tmp_path, ["anna@contoso.com"]), {"cc": "CostCentre"})
    assert problems == [] and "the app lacks User.ReadWrite.All" in warning
    assert client.calls == []


def test_a_refused_read_leaves_the_check_out(tmp_path):
    client = FakeTenant({"anna@contoso.com": {"CostCenter": ""}}, roles=None)

    def denied(method, url, operation, **kw):
        raise SpoError("Access denied", status=403, operation=operation)
    client.sp = denied
    problems, warning = check(client, built_files(tmp_path, ["anna@contoso.com"]), {"cc": "CostCentre"})
    assert problems == [] and "reading a profile was refused: Access denied" in warning


def test_another_refusal_is_raised(tenant, tmp_path):
    def failing(method, url, operation, **kw):
        if "GetUserProfilePropertyFor" in url:
            raise SpoError("Something else went wrong", status=500, operation=operation)
        return FakeTenant.sp(tenant, method, url, operation, **kw)
    tenant.sp = failing
    with pytest.raises(SpoError, match="Something else went wrong"):
        check(tenant, built_files(tmp_path, ["anna@contoso.com"]), {"cc": "CostCentre"})
