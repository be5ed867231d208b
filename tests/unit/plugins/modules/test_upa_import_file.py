# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

import pytest

from ansible_collections.spo.user_profiles.plugins.module_utils import permissions
from ansible_collections.spo.user_profiles.plugins.module_utils.base import SpoModule
from ansible_collections.spo.user_profiles.plugins.modules import upa_import_file
from ansible_collections.spo.user_profiles.tests.unit.plugins.module_utils.test_files import FakeSharePoint, SITE
from ansible_collections.spo.user_profiles.tests.unit.plugins.module_utils.test_profiles import FakePeopleManager
from ansible_collections.spo.user_profiles.tests.unit.plugins.modules.module_runs import run_module, serve_client

FOLDER = "/Shared Documents/ProfileImport"
RECORDS = [{"mail": "anna@contoso.com", "cc": "Müller", "office": "x"}, {"mail": "bjorn@contoso.com", "cc": "東京", "office": "y"}]


class FakeTenant(FakeSharePoint):
    """The document library of FakeSharePoint, and the tenant's profiles (FakePeopleManager) on its admin host; its
    SharePoint token carries both roles PeopleManager needs."""

    def __init__(self):
        super().__init__()
        self.root_url = SITE
        self.people = FakePeopleManager({"anna@contoso.com": {"CostCenter": "", "Building": ""},
                                         "bjorn@contoso.com": {"CostCenter": "", "Building": ""}})
        self.admin_url = self.people.admin_url

    def granted_roles(self, resource):
        return {"Sites.FullControl.All", "User.ReadWrite.All"}

    def sp(self, method, url, operation, **kw):
        if url.startswith(self.admin_url):
            return self.people.sp(method, url, operation, **kw)
        return super().sp(method, url, operation, **kw)


@pytest.fixture
def sharepoint(monkeypatch):
    return serve_client(monkeypatch, FakeTenant())


def run(capsys, **args):
    return run_module(upa_import_file, capsys, **args)


def present_args(**extra):
    args = dict(records=RECORDS, id_property="mail", id_type="email", property_map={"cc": "CostCenter"}, name="hr")
    args.update(extra)
    return args


def test_check_mode_and_diff_then_upload_then_idempotent(sharepoint, capsys):
    check = run(capsys, _ansible_check_mode=True, _ansible_diff=True, **present_args())
    assert check["changed"] is True
    assert not sharepoint.files
    name = check["files"][0]["name"]
    assert check["diff"]["after"]["files"][name] == {"bytes": check["files"][0]["bytes"], "records": 2, "properties": 4}
    assert check["ignored_fields"] == ["office"]

    applied = run(capsys, **present_args())
    assert applied["changed"] is True and applied["files"][0]["name"] == name
    assert applied["files"][0]["source_uri"] == SITE + FOLDER + "/" + name
    content = sharepoint.files[FOLDER + "/" + name]
    assert content.startswith(b"\xef\xbb\xbf") and "Müller".encode("utf-8") in content

    again = run(capsys, **present_args())
    assert again["changed"] is False and again["files"][0]["uploaded"] is False
    assert sharepoint.asked_needs == [permissions.SITE_FILES] * 3


def test_problems_fail_before_any_request(sharepoint, capsys):
    result = run(capsys, **present_args(records=[{"mail": "nope", "cc": ["a"]}, {"mail": "b@contoso.com", "cc": None}]))
    assert result["failed"] is True
    assert result["problem_count"] == 2
    assert "2 problem(s)" in result["msg"] and "record 1, field 'mail'" in result["msg"]
    assert sharepoint.calls == [] and sharepoint.asked_needs == []


def test_absent_removes_only_this_prefix(sharepoint, capsys):
    run(capsys, **present_args())
    run(capsys, **present_args(name="other"))
    removed = run(capsys, state="absent", name="hr", _ansible_diff=True)
    assert removed["changed"] is True and len(removed["removed_files"]) == 1
    assert [path.rsplit("/", 1)[1].split("-")[0] for path in sharepoint.files] == ["other"]
    assert run(capsys, state="absent", name="hr")["changed"] is False


def test_queue_job_is_no_longer_an_option(capsys):
    result = run(capsys, **present_args(queue_job=True))
    assert result["failed"] is True and "Unsupported parameters" in result["msg"] and "queue_job" in result["msg"]


def test_delta_without_a_baseline_sends_everyone_and_shows_the_users(sharepoint, capsys, tmp_path):
    changes = tmp_path / "changes.jsonl"
    result = run(capsys, _ansible_diff=True, _ansible_check_mode=True,
                 **present_args(delta=True, changes_file=str(changes), max_diff_users=1))
    assert result["changed"] is True and result["records"] == 2
    assert result["delta"]["baseline"]["status"] == "absent"
    assert result["delta"]["counts"]["added"] == 2 and not result["delta"]["users_listed_all"]
    assert result["diff"]["prepared"].startswith("delta against no baseline (every user is sent): 2 added")
    assert "... and 1 more user(s): every one is in %s" % changes in result["diff"]["prepared"]
    assert len(changes.read_text(encoding="utf-8").splitlines()) == 2


def test_delta_against_a_recorded_baseline_sends_only_the_change(sharepoint, capsys, tmp_path):
    from ansible_collections.spo.user_profiles.plugins.module_utils import import_baseline
    writer = import_baseline.BaselineWriter(str(tmp_path / "b.gz"), import_baseline.mapping("mail", "email", {"cc": "CostCenter"}))
    writer.write("anna@contoso.com", ("Müller",))
    writer.write("bjorn@contoso.com", ("Oslo",))
    sharepoint.folders.add(FOLDER)
    sharepoint.files[FOLDER + "/hr-baseline.jsonl.gz"] = open(writer.finish(), "rb").read()
    result = run(capsys, _ansible_diff=True, **present_args(delta=True))
    assert result["records"] == 1 and result["delta"]["counts"]["changed"] == 1
    assert result["delta"]["users"] == [{"id": "bjorn@contoso.com", "status": "changed",
                                         "properties": {"CostCenter": {"before": "Oslo", "after": "東京"}}}]
    assert 'CostCenter: "Oslo" -> "東京"' in result["diff"]["prepared"]
    again = run(capsys, **present_args(delta=True, records=[RECORDS[0]]))
    assert again["changed"] is False and again["files"] == [] and again["delta"]["counts"]["unchanged"] == 1


def test_a_damaged_baseline_is_a_warning_and_a_full_import(sharepoint, capsys, monkeypatch):
    warnings = []
    monkeypatch.setattr(SpoModule, "warn", lambda self, msg: warnings.append(msg))
    sharepoint.folders.add(FOLDER)
    sharepoint.files[FOLDER + "/hr-baseline.jsonl.gz"] = b"not gzip"
    result = run(capsys, **present_args(delta=True))
    assert result["records"] == 2 and result["delta"]["baseline"]["status"] == "unusable"
    assert len(warnings) == 1 and "cannot be used" in warnings[0] and "a full import" in warnings[0]


def test_a_baseline_of_another_mapping_is_a_warning_that_says_what_changed(sharepoint, capsys, monkeypatch, tmp_path):
    from ansible_collections.spo.user_profiles.plugins.module_utils import import_baseline
    warnings = []
    monkeypatch.setattr(SpoModule, "warn", lambda self, msg: warnings.append(msg))
    writer = import_baseline.BaselineWriter(str(tmp_path / "b.gz"), import_baseline.mapping("mail", "email", {"cc": "Cost"}))
    writer.write("anna@contoso.com", ("Müller",))
    sharepoint.folders.add(FOLDER)
    sharepoint.files[FOLDER + "/hr-baseline.jsonl.gz"] = open(writer.finish(), "rb").read()
    result = run(capsys, **present_args(delta=True))
    assert result["records"] == 2 and result["delta"]["baseline"]["status"] == "mapping_changed"
    assert warnings == ["the baseline %s/hr-baseline.jsonl.gz was recorded with another mapping: cc -> Cost "
                        "(now CostCenter), so every user is sent (a full import)" % FOLDER]


def test_check_identities_needs_an_id_type(sharepoint, capsys):
    args = present_args(check_identities=True)
    del args["id_type"]
    result = run(capsys, **args)
    assert result["failed"] is True and "check_identities needs id_type" in result["msg"]
    assert sharepoint.calls == []


def test_wrong_options_are_named_together_before_anything_is_read(sharepoint, capsys):
    args = present_args(check_identities=True, max_diff_users=-1, max_problems=-1)
    del args["id_type"]
    result = run(capsys, **args)
    assert result["failed"] is True and result["msg"] == (
        "3 option problems, nothing was sent: max_problems: must be 0 or more, not -1; max_diff_users must be 0 or "
        "more, not -1; check_identities needs id_type: it says which Entra ID attribute the ids are")
    assert sharepoint.calls == []


def test_a_changes_file_that_cannot_be_written_is_an_option_problem_before_anything_is_read(sharepoint, capsys, tmp_path):
    (tmp_path / "reports").write_text("a file where the report directory belongs")
    result = run(capsys, **present_args(delta=True, changes_file=str(tmp_path / "reports" / "run" / "c.changes.jsonl")))
    assert result["failed"] is True and result["msg"] == (
        "changes_file: cannot write %s/reports/run/c.changes.jsonl: %s/reports is not a directory (nothing was sent)"
        % (tmp_path, tmp_path))
    assert sharepoint.calls == [] and sharepoint.asked_needs == []


def test_a_broken_rule_of_record_schema_uploads_nothing(sharepoint, capsys):
    schema = {"properties": {"cc": {"type": "string", "pattern": "^[0-9]{4}$"}}}
    result = run(capsys, **present_args(record_schema=schema))
    assert result["failed"] is True and result["problem_count"] == 2
    assert "record 1, field 'cc': breaks record_schema rule pattern" in result["msg"]
    assert sharepoint.calls == []


def test_skip_invalid_leaves_records_out_and_lists_them(sharepoint, capsys):
    schema = {"properties": {"cc": {"const": "Müller"}}}
    result = run(capsys, **present_args(record_schema=schema, skip_invalid=True))
    assert result["records"] == 1 and result["left_out_count"] == 1
    assert result["left_out"][0]["id"] == "bjorn@contoso.com" and result["left_out"][0]["record"] == 2
    assert "rule const" in result["left_out"][0]["reason"]


@pytest.mark.parametrize("schema, words", [
    ({"type": "nonsense"}, "record_schema is not a valid JSON Schema"),
    ("/nonexistent/rules.json", "record_schema: cannot read /nonexistent/rules.json"),
])
def test_an_unusable_record_schema_fails_naming_it(sharepoint, capsys, schema, words):
    result = run(capsys, **present_args(record_schema=schema))
    assert result["failed"] is True and words in result["msg"]
    assert sharepoint.calls == []


def test_a_missing_jsonschema_is_named(sharepoint, capsys, monkeypatch):
    import builtins
    real_import = builtins.__import__

    def no_jsonschema(name, *args, **kwargs):
        if name == "jsonschema" or name.startswith("jsonschema."):
            raise ImportError("No module named 'jsonschema'")
        return real_import(name, *args, **kwargs)
    monkeypatch.setattr(builtins, "__import__", no_jsonschema)
    result = run(capsys, **present_args(record_schema={"type": "object"}))
    assert result["failed"] is True and "jsonschema" in result["msg"] and "record_schema" in result["msg"]


def test_two_fields_on_one_property_fail_before_any_request(sharepoint, capsys):
    records = [{"mail": "anna@contoso.com", "cc": "1", "cost": "2"}]
    result = run(capsys, **present_args(records=records, property_map={"cc": "CostCenter", "cost": "costcenter"}))
    assert result["failed"] is True and "cc and cost both map to the property costcenter" in result["msg"]
    assert sharepoint.calls == [] and sharepoint.asked_needs == []


def test_a_source_without_records_uploads_no_file(sharepoint, capsys, tmp_path):
    src = tmp_path / "header-only.csv"
    src.write_text("mail,cc\n", encoding="utf-8")
    args = present_args(src=str(src))
    del args["records"]
    result = run(capsys, **args)
    assert result["changed"] is False and result["files"] == [] and result["records"] == 0
    assert not sharepoint.files


def test_a_source_without_records_that_would_clear_the_baseline_fails(sharepoint, capsys, tmp_path):
    from ansible_collections.spo.user_profiles.plugins.module_utils import import_baseline
    writer = import_baseline.BaselineWriter(str(tmp_path / "b.gz"), import_baseline.mapping("mail", "email", {"cc": "CostCenter"}))
    writer.write("anna@contoso.com", ("Müller",))
    sharepoint.folders.add(FOLDER)
    sharepoint.files[FOLDER + "/hr-baseline.jsonl.gz"] = open(writer.finish(), "rb").read()
    result = run(capsys, **present_args(records=[], delta=True, clear_missing=True))
    assert result["failed"] is True and "the source holds no records, and with clear_missing" in result["msg"]
    assert list(sharepoint.files) == [FOLDER + "/hr-baseline.jsonl.gz"]


@pytest.mark.parametrize("check_mode", [True, False])
def test_a_target_the_tenant_does_not_have_uploads_nothing(sharepoint, capsys, check_mode):
    result = run(capsys, _ansible_check_mode=check_mode, **present_args(property_map={"cc": "CostCentre"}))
    assert result["failed"] is True and result["problem_count"] == 1
    assert result["msg"].startswith(
        "1 problem(s) in property_map, nothing was uploaded: field 'cc': target property CostCentre does not exist in the "
        "tenant's user profiles (property_map: cc -> CostCentre); reading it for anna@contoso.com, the service answered "
        "\"Property Not Defined: CostCentre\"; the profile has CostCenter.")
    assert result["problems"][0]["field"] == "cc"
    assert not sharepoint.files and [call[0] for call in sharepoint.calls] == ["GET"]  # the folder's listing alone
    assert len(sharepoint.people.calls) == 2


def test_targets_are_checked_only_when_a_file_would_be_uploaded(sharepoint, capsys):
    assert run(capsys, **present_args())["changed"] is True
    assert len(sharepoint.people.calls) == 1  # anna's profile names CostCenter
    sharepoint.people.calls.clear()
    again = run(capsys, **present_args())
    assert again["changed"] is False and sharepoint.people.calls == []


def test_targets_are_not_checked_without_ids_that_address_profiles_and_nothing_warns(sharepoint, capsys, monkeypatch):
    warnings = []
    monkeypatch.setattr(SpoModule, "warn", lambda self, msg: warnings.append(msg))
    args = present_args(property_map={"cc": "CostCentre"})
    del args["id_type"]
    result = run(capsys, **args)
    assert result["changed"] is True and sharepoint.people.calls == []
    assert warnings == []
