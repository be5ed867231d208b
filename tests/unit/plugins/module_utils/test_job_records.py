# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

import json

import pytest

from ansible_collections.spo.user_profiles.plugins.module_utils import job_records
from ansible_collections.spo.user_profiles.tests.unit.plugins.module_utils.test_job_api import FakeTenant, ROOT

JOB = "5f4e7a2c-9d1b-4c3e-8a7f-6b5d4c3e2f1a"
MAPPING = job_records.job_mapping("email", "mail", {"cc": "CostCenter"})
SUBSITE_SOURCE = ROOT + "/sites/hr/emea/Shared%20Documents/ProfileImport/hr-0123456789abcdef.json"


def test_the_record_sits_beside_its_import_file_under_a_name_of_the_same_prefix():
    assert job_records.record_name("hr-0123456789abcdef.json") == "hr-0123456789abcdef.jobs.json"
    assert job_records.record_name("data.txt") == "data.txt.jobs.json"
    assert job_records.import_file_name("hr-0123456789abcdef-part2.jobs.json") == "hr-0123456789abcdef-part2.json"
    pattern = job_records.record_pattern("hr")
    assert pattern.match("hr-0123456789abcdef-part2.jobs.json")
    assert not pattern.match("hr-0123456789abcdef.json") and not pattern.match("hrx-0123456789abcdef.jobs.json")


@pytest.mark.parametrize("data, jobs", [
    (json.dumps({"jobs": [{"job_id": JOB.upper(), "queued_at": "2026-03-01T06:00:00Z", "mapping": MAPPING}]}).encode(),
     [{"job_id": JOB, "queued_at": "2026-03-01T06:00:00Z", "mapping": MAPPING}]),
    # a record of collection 1.0.0 does not say the mapping; a mapping without a property map is none
    (b"\xef\xbb\xbf" + json.dumps({"jobs": [{"job_id": JOB}, {"nothing": 1}, "x"]}).encode(),
     [{"job_id": JOB, "queued_at": None, "mapping": None}]),
    (json.dumps({"jobs": [{"job_id": JOB, "mapping": {"id_type": "email"}}]}).encode(),
     [{"job_id": JOB, "queued_at": None, "mapping": None}]),
    (None, []),
    (b"", []),
    (b"not json", []),
    (b'{"jobs": {"job_id": "x"}}', []),
    (b"[1]", []),
])
def test_a_record_that_cannot_be_read_names_no_job(data, jobs):
    assert job_records.parse_record(data) == jobs


def test_read_add_and_write_a_record_in_the_web_the_server_names():
    tenant = FakeTenant()
    record = job_records.read_record(tenant, SUBSITE_SOURCE)
    assert record.job_ids == [] and record.web_url == ROOT + "/sites/hr/emea"
    assert record.folder == "/sites/hr/emea/Shared Documents/ProfileImport" and record.name == "hr-0123456789abcdef.jobs.json"
    record.add(JOB, "2026-03-01T06:00:00Z", MAPPING)
    job_records.write_record(tenant, record)
    assert tenant.rest_calls[-1][1].startswith(ROOT + "/sites/hr/emea/_api/web/")
    again = job_records.read_record(tenant, SUBSITE_SOURCE)
    assert again.jobs == [{"job_id": JOB, "queued_at": "2026-03-01T06:00:00Z", "mapping": MAPPING}]
    assert again.job_ids_queued_with(MAPPING) == [JOB]
    assert again.job_ids_queued_with(job_records.job_mapping("email", "mail", {"cc": "EmployeeId"})) == []
    assert json.loads(tenant.log_files[record.folder][record.name])["source_uri"] == SUBSITE_SOURCE


def test_recorded_job_ids_of_a_record_file_and_of_none():
    tenant = FakeTenant()
    record = job_records.read_record(tenant, SUBSITE_SOURCE)
    record_url = record.folder + "/" + record.name
    assert job_records.recorded_job_ids(tenant, record.web_url, record_url) == []
    record.add(JOB, None, MAPPING)
    job_records.write_record(tenant, record)
    assert job_records.recorded_job_ids(tenant, record.web_url, record_url) == [JOB]


def test_a_record_says_since_when_a_job_is_being_queued_until_the_job_is_added():
    tenant = FakeTenant()
    record = job_records.read_record(tenant, SUBSITE_SOURCE)
    record.queueing("2026-03-01T06:00:00Z", MAPPING)
    job_records.write_record(tenant, record)
    queueing = job_records.read_record(tenant, SUBSITE_SOURCE)
    assert (queueing.queueing_since, queueing.queueing_mapping) == ("2026-03-01T06:00:00Z", MAPPING)
    record.add(JOB, "2026-03-01T06:00:00Z", MAPPING)
    job_records.write_record(tenant, record)
    again = job_records.read_record(tenant, SUBSITE_SOURCE)
    assert again.queueing_since is None and again.queueing_mapping is None and again.job_ids == [JOB]
    content = json.loads(tenant.log_files[record.folder][record.name])
    assert "queueing_since" not in content and "queueing_mapping" not in content


@pytest.mark.parametrize("name, job_ids, expected", [
    (JOB, [JOB], (JOB, True)),
    (JOB, [], (JOB, None)),
    ("hr-0123456789abcdef_" + JOB, [], (JOB, True)),
    ("hr-0123456789abcdef.json_" + JOB, [], (JOB, True)),
    ("hrx-0123456789abcdef_" + JOB, [JOB], (JOB, False)),
    ("notes_" + JOB, [], (JOB, False)),
    ("Archive", [], (None, False)),
])
def test_whose_log_folder_a_folder_is(name, job_ids, expected):
    assert job_records.log_folder_owner(name, "hr", set(job_ids)) == expected
