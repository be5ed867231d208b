# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

import json

import pytest
from ansible.module_utils.testing import patch_module_args

from ansible_collections.spo.user_profiles.plugins.module_utils import permissions
from ansible_collections.spo.user_profiles.plugins.module_utils.base import SpoModule
from ansible_collections.spo.user_profiles.plugins.modules import upa_import_file
from ansible_collections.spo.user_profiles.tests.unit.plugins.module_utils.test_files import FakeSharePoint, SITE
from ansible_collections.spo.user_profiles.tests.unit.plugins.module_utils.test_job_api import ADMIN, FakeTenant

FOLDER = "/Shared Documents/ProfileImport"
RECORDS = [{"mail": "anna@contoso.com", "cc": "Müller", "office": "x"}, {"mail": "bjorn@contoso.com", "cc": "東京", "office": "y"}]


@pytest.fixture
def sharepoint(monkeypatch):
    fake = FakeSharePoint()
    fake.root_url = SITE
    fake.asked_needs = []  # the permissions each module run asked SpoModule.client to check
    monkeypatch.setattr(SpoModule, "client", lambda self, needs=(): fake.asked_needs.append(needs) or fake)
    return fake


class FakeSharePointAndJobs(FakeSharePoint):
    """The document library of FakeSharePoint and the job API (on the admin host) of FakeTenant, in one client."""

    def __init__(self):
        super().__init__()
        self.root_url = SITE
        self.admin_url = ADMIN
        self.tenant = FakeTenant()

    def request(self, method, url, operation, **kw):
        if url.startswith(ADMIN):
            return self.tenant.request(method, url, operation, **kw)
        return super().request(method, url, operation, **kw)


@pytest.fixture
def tenant(monkeypatch):
    fake = FakeSharePointAndJobs()
    fake.asked_needs = []  # the permissions each module run asked SpoModule.client to check
    monkeypatch.setattr(SpoModule, "client", lambda self, needs=(): fake.asked_needs.append(needs) or fake)
    return fake


def run(capsys, **args):
    args.setdefault("tenant", "contoso")
    with patch_module_args(args):
        with pytest.raises(SystemExit):
            upa_import_file.main()
    return json.loads(capsys.readouterr().out)


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
