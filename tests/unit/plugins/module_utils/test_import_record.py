# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

import codecs
import gzip
import json

import pytest

from ansible_collections.spo.user_profiles.plugins.module_utils import import_baseline, import_record, job_records
from ansible_collections.spo.user_profiles.plugins.module_utils.errors import SpoError
from ansible_collections.spo.user_profiles.tests.unit.plugins.module_utils.test_files import FakeSharePoint, SITE
from ansible_collections.spo.user_profiles.tests.unit.plugins.module_utils.test_job_api import ADMIN, FakeTenant

FOLDER = "/Shared Documents/ProfileImport"
BASELINE = FOLDER + "/hr-baseline.jsonl.gz"
MAP = {"cc": "CostCenter", "bld": "Building"}
WANTED = import_baseline.mapping("mail", "email", MAP)


class FakeSharePointAndJobs(FakeSharePoint):
    """The document library of FakeSharePoint and the job API (on the admin host) of FakeTenant, in one client."""

    def __init__(self):
        super().__init__()
        self.root_url = SITE
        self.admin_url = ADMIN
        self.tenant = FakeTenant()
        self.folders.add(FOLDER)

    def request(self, method, url, operation, **kw):
        if url.startswith(ADMIN):
            return self.tenant.request(method, url, operation, **kw)
        return super().request(method, url, operation, **kw)

    def import_file(self, name, records):
        self.files[FOLDER + "/" + name] = codecs.BOM_UTF8 + json.dumps({"value": records}).encode("utf-8")
        return SITE + FOLDER + "/" + name

    def job(self, records, name="hr-1.json", state=4, error=0, log=None):
        """A finished job of an import file; `log`: its log lines (a log folder is written when given)."""
        source = self.import_file(name, records)
        folder = None
        if log is not None:
            folder = FOLDER + "/log-" + name
            self.folders.add(folder)
            self.files[folder + "/job.log"] = "\r\n".join(log).encode("utf-8")
        return self.tenant.add_job(source=source, state=state, error=error,
                                   log_folder=SITE + folder if folder else None)

    def record_job(self, job_id, name="hr-1.json", mapping=None):
        """The job record beside the import file `name`, saying the job was queued with `mapping` (the test's)."""
        queued_with = mapping or job_records.job_mapping("email", "mail", MAP)
        jobs = [{"job_id": job_id, "queued_at": "2026-03-01T06:00:00Z", "mapping": queued_with}]
        self.files[FOLDER + "/" + job_records.record_name(name)] = json.dumps({"jobs": jobs}).encode("utf-8")

    def baseline(self):
        data = gzip.decompress(self.files[BASELINE]).decode("utf-8")
        lines = [json.loads(line) for line in data.splitlines()]
        return lines[0], {row[0]: row[1:] for row in lines[1:-1]}, lines[-1]


@pytest.fixture
def sp():
    return FakeSharePointAndJobs()


def record(sp, tmp_path, job_ids, check_mode=False, property_map=None, id_property="mail", id_type="email"):
    return import_record.record_jobs(sp, SITE, FOLDER, "hr", str(tmp_path), id_property, id_type, property_map or MAP,
                                     job_ids, check_mode=check_mode)


def test_a_first_job_becomes_the_baseline(sp, tmp_path):
    job = sp.job([{"mail": "anna@x.com", "cc": "1000", "bld": "B1"}, {"mail": "bjorn@x.com", "cc": "2000", "bld": ""}])
    result = record(sp, tmp_path, [job])
    assert result["changed"] and result["counts"] == {"recorded": 2, "unchanged": 0, "not_recorded": 0}
    header, users, end = sp.baseline()
    assert header == dict(WANTED, jobs=[job]) and end == {"users": 2}
    assert users == {"anna@x.com": ["1000", "B1"], "bjorn@x.com": ["2000", ""]}
    assert result["baseline"] == {"file": BASELINE, "users": 2, "previous": {"file": BASELINE, "status": "absent",
                                                                             "users": 0, "message": None}}
    assert not [name for name in sp.files if name.endswith(".tmp")]


def test_a_delta_is_laid_over_the_old_baseline(sp, tmp_path):
    record(sp, tmp_path, [sp.job([{"mail": "anna@x.com", "cc": "1000", "bld": "B1"}, {"mail": "bjorn@x.com", "cc": "2000", "bld": "B2"}])])
    delta = sp.job([{"mail": "Anna@x.com", "cc": "1001"}, {"mail": "chie@x.com", "cc": "3000", "bld": "B3"}], name="hr-2.json")
    result = record(sp, tmp_path, [delta])
    assert result["counts"] == {"recorded": 2, "unchanged": 0, "not_recorded": 0}
    assert sp.baseline()[1] == {"Anna@x.com": ["1001", "B1"], "chie@x.com": ["3000", "B3"], "bjorn@x.com": ["2000", "B2"]}


def test_failed_users_keep_their_old_values_and_new_ones_stay_out(sp, tmp_path):
    record(sp, tmp_path, [sp.job([{"mail": "anna@x.com", "cc": "1000", "bld": "B1"}])])
    job = sp.job([{"mail": "anna@x.com", "cc": "1001"}, {"mail": "ghost@x.com", "cc": "9", "bld": "B9"},
                  {"mail": "bjorn@x.com", "cc": "2000", "bld": "B2"}], name="hr-2.json", error=30,
                 log=["IdentityNotResolvable - ANNA@x.com user identity cannot be resolved",
                      "IdentityNotResolvable - ghost@x.com user identity cannot be resolved"])
    result = record(sp, tmp_path, [job])
    assert result["counts"] == {"recorded": 1, "unchanged": 0, "not_recorded": 2}
    assert result["not_recorded"] == ["anna@x.com", "ghost@x.com"]
    assert sp.baseline()[1] == {"bjorn@x.com": ["2000", "B2"], "anna@x.com": ["1000", "B1"]}


@pytest.mark.parametrize("failed_as", [
    "i:0#.f|membership|ghost@x.com",  # a claims name
    "{6F1C2B3A-0D4E-4F5A-9B8C-7D6E5F4A3B2C}",  # a braced GUID, for a file of cloud ids
])
def test_failed_users_named_in_another_form_are_still_left_out(sp, tmp_path, failed_as):
    ghost = "ghost@x.com" if "@" in failed_as else "6f1c2b3a-0d4e-4f5a-9b8c-7d6e5f4a3b2c"
    job = sp.job([{"mail": ghost, "cc": "9", "bld": "B9"}, {"mail": "bjorn@x.com", "cc": "2000", "bld": "B2"}], error=30,
                 log=["IdentityNotResolvable\t%s\tuser identity cannot be resolved" % failed_as])
    result = record(sp, tmp_path, [job])
    assert result["counts"] == {"recorded": 1, "unchanged": 0, "not_recorded": 1} and result["not_recorded"] == [ghost]
    assert sp.baseline()[1] == {"bjorn@x.com": ["2000", "B2"]}


def test_a_log_naming_a_user_the_file_does_not_hold_records_no_user_of_the_job(sp, tmp_path):
    # the failed user cannot be matched to the file's ids, so anna may be the one that failed: nobody is recorded
    job = sp.job([{"mail": "anna@x.com", "cc": "1000", "bld": "B1"}], error=30,
                 log=["IdentityNotResolvable - someone.else@x.com user identity cannot be resolved"])
    result = record(sp, tmp_path, [job])
    assert result["counts"] == {"recorded": 0, "unchanged": 0, "not_recorded": 1} and sp.baseline()[1] == {}
    reason = "its log names users its file does not hold (someone.else@x.com), so who failed is unknown"
    assert result["jobs"][0]["not_recorded_reason"] == reason and reason in result["warnings"][0]


@pytest.mark.parametrize("log, reason", [
    (None, "its log could not be read"),
    (["Something went wrong for a record"], "its log has failures that name no user"),
])
def test_when_who_failed_is_unknown_no_user_of_the_job_is_recorded(sp, tmp_path, log, reason):
    job = sp.job([{"mail": "anna@x.com", "cc": "1000", "bld": "B1"}], error=30, log=log)
    result = record(sp, tmp_path, [job])
    assert result["counts"]["not_recorded"] == 1
    # the baseline notes the job, so that the next delta is a new file and anna is sent again in a new job
    assert result["changed"] is True and sp.baseline()[0]["jobs"] == [job] and sp.baseline()[1] == {}
    assert reason in result["warnings"][0] and result["jobs"][0]["not_recorded_reason"].startswith(reason)


@pytest.mark.parametrize("state, error, words", [
    (2, 0, "still Processing"),
    (5, 1, "ended in Error \\(InternalError\\): it imported nothing"),
])
def test_a_job_running_or_without_an_import_records_nothing(sp, tmp_path, state, error, words):
    record(sp, tmp_path, [sp.job([{"mail": "anna@x.com", "cc": "1000", "bld": "B1"}])])
    before = sp.files[BASELINE]
    good = sp.job([{"mail": "anna@x.com", "cc": "2"}], name="hr-2.json")
    bad = sp.job([{"mail": "anna@x.com", "cc": "3"}], name="hr-3.json", state=state, error=error)
    with pytest.raises(SpoError, match=words):
        record(sp, tmp_path, [good, bad])
    assert sp.files[BASELINE] == before


def test_an_unknown_job_records_nothing(sp, tmp_path):
    with pytest.raises(SpoError, match="not in the tenant's job list"):
        record(sp, tmp_path, ["5f4e7a2c-1111-2222-3333-444455556666"])


def test_check_mode_writes_nothing(sp, tmp_path):
    result = record(sp, tmp_path, [sp.job([{"mail": "anna@x.com", "cc": "1000", "bld": "B1"}])], check_mode=True)
    assert result["changed"] is True and result["baseline"]["users"] == 1
    assert BASELINE not in sp.files


def test_recording_the_same_job_again_changes_nothing(sp, tmp_path):
    job = sp.job([{"mail": "anna@x.com", "cc": "1000", "bld": "B1"}])
    record(sp, tmp_path, [job])
    again = record(sp, tmp_path, [job])
    assert again["changed"] is False and again["counts"] == {"recorded": 0, "unchanged": 1, "not_recorded": 0}


def test_a_job_that_brought_no_new_value_is_still_noted(sp, tmp_path):
    record(sp, tmp_path, [sp.job([{"mail": "anna@x.com", "cc": "1000", "bld": "B1"}])])
    ghost = sp.job([{"mail": "ghost@x.com", "cc": "9", "bld": "B9"}], name="hr-2.json", error=30,
                   log=["IdentityNotResolvable - ghost@x.com user identity cannot be resolved"])
    result = record(sp, tmp_path, [ghost])
    assert result["changed"] is True and result["counts"] == {"recorded": 0, "unchanged": 0, "not_recorded": 1}
    assert sp.baseline()[0]["jobs"] == [ghost] and sp.baseline()[1] == {"anna@x.com": ["1000", "B1"]}


def test_another_mapping_replaces_the_baseline_with_a_warning(sp, tmp_path):
    record(sp, tmp_path, [sp.job([{"mail": "anna@x.com", "cc": "1000", "bld": "B1"}])])
    job = sp.job([{"mail": "bjorn@x.com", "cc": "2000"}], name="hr-2.json")
    result = record(sp, tmp_path, [job], property_map={"cc": "CostCenter"})
    assert result["changed"] and result["warnings"][0].endswith(
        "was recorded with another mapping: bld -> Building (no longer mapped); it is replaced by one of this mapping")
    header, users, dummy = sp.baseline()
    assert header["property_map"] == {"cc": "CostCenter"} and users == {"bjorn@x.com": ["2000"]}


def test_a_damaged_baseline_is_replaced(sp, tmp_path):
    sp.files[BASELINE] = b"\x1f\x8b damaged"
    job = sp.job([{"mail": "anna@x.com", "cc": "1000", "bld": "B1"}])
    result = record(sp, tmp_path, [job])
    assert result["changed"] and "cannot be used" in result["warnings"][0]
    assert sp.baseline()[1] == {"anna@x.com": ["1000", "B1"]}


@pytest.mark.parametrize("records, words", [
    ([{"mail": "anna@x.com", "other": "x"}], "not one of this mapping's"),
    ([{"cc": "1"}], "not one of this mapping's"),
    ([{"mail": "anna@x.com", "cc": 5}], "a value of anna@x.com that is not text"),
])
def test_a_file_of_another_mapping_is_refused(sp, tmp_path, records, words):
    with pytest.raises(SpoError, match=words):
        record(sp, tmp_path, [sp.job(records)])
    assert BASELINE not in sp.files


def test_a_user_in_two_files_is_refused(sp, tmp_path):
    first = sp.job([{"mail": "anna@x.com", "cc": "1", "bld": "B"}])
    second = sp.job([{"mail": "ANNA@x.com", "cc": "2", "bld": "B"}], name="hr-2.json")
    with pytest.raises(SpoError, match="in more than one of the jobs' files"):
        record(sp, tmp_path, [first, second])


def test_the_same_job_given_twice_is_one_job(sp, tmp_path):
    job = sp.job([{"mail": "anna@x.com", "cc": "1", "bld": "B"}])
    result = record(sp, tmp_path, [job, "{%s}" % job.upper()])
    assert result["counts"] == {"recorded": 1, "unchanged": 0, "not_recorded": 0} and len(result["jobs"]) == 1
    assert sp.baseline()[0]["jobs"] == [job]


def test_a_job_recorded_with_the_mapping_it_was_queued_with(sp, tmp_path):
    job = sp.job([{"mail": "anna@x.com", "cc": "1", "bld": "B"}])
    sp.record_job(job)
    assert record(sp, tmp_path, [job])["counts"]["recorded"] == 1
    # an id_type not given is not compared: the baseline then holds none, and the delta run gives none either
    assert record(sp, tmp_path, [job], id_type=None)["counts"]["recorded"] == 1
    assert sp.baseline()[0]["id_type"] is None


@pytest.mark.parametrize("given, words", [
    (dict(property_map={"cc": "Building", "bld": "CostCenter"}),
     "property_map {'cc': 'CostCenter', 'bld': 'Building'} (given: {'cc': 'Building', 'bld': 'CostCenter'})"),
    (dict(id_property="upn"), "id_property 'mail' (given: 'upn')"),
    (dict(id_type="principal_name"), "id_type 'email' (given: 'principal_name')"),
])
def test_a_job_queued_with_another_mapping_records_nothing(sp, tmp_path, given, words):
    record(sp, tmp_path, [sp.job([{"mail": "anna@x.com", "cc": "1000", "bld": "B1"}])])
    before = sp.files[BASELINE]
    good = sp.job([{"mail": "anna@x.com", "cc": "2"}], name="hr-2.json")
    other = sp.job([{"mail": "bjorn@x.com", "cc": "3"}], name="hr-3.json")
    given_mapping = dict(job_records.job_mapping("email", "mail", MAP), **given)
    sp.record_job(good, name="hr-2.json", mapping=given_mapping)
    sp.record_job(other, name="hr-3.json")
    with pytest.raises(SpoError) as caught:
        record(sp, tmp_path, [good, other], **given)
    assert str(caught.value).startswith("record the import baseline: import job %s was queued with %s: " % (other, words))
    assert "nothing is recorded" in str(caught.value) and sp.files[BASELINE] == before


def test_a_missing_import_file_is_refused(sp, tmp_path):
    job = sp.job([{"mail": "anna@x.com", "cc": "1", "bld": "B"}])
    del sp.files[FOLDER + "/hr-1.json"]
    with pytest.raises(SpoError, match="is gone"):
        record(sp, tmp_path, [job])
