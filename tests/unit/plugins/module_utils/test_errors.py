# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

import pickle

import pytest

from ansible_collections.spo.user_profiles.plugins.module_utils.errors import JobError, SpoError, failed_users_message


def test_str_with_every_part():
    err = SpoError("File Not Found.", status=404, code="-2147024894, System.IO.FileNotFoundException",
                   request_id="731127a1-9041", operation="read file")
    assert str(err) == "read file: File Not Found. (HTTP 404, -2147024894, System.IO.FileNotFoundException, request id 731127a1-9041)"


def test_str_omits_missing_parts():
    assert str(SpoError("boom")) == "boom"
    assert str(SpoError("boom", operation="queue job")) == "queue job: boom"
    assert str(SpoError("boom", status=500)) == "boom (HTTP 500)"
    assert str(SpoError("boom", request_id="r1")) == "boom (request id r1)"


def test_to_result_has_the_fail_json_fields():
    err = SpoError("m", status=429, code="TooMany", request_id="rid", operation="op", details={"x": 1})
    assert err.to_result() == {"status": 429, "error_code": "TooMany", "request_id": "rid", "operation": "op"}
    assert err.details == {"x": 1}


def test_is_an_exception_that_survives_pickling():
    err = SpoError("m", status=400, code="c", request_id="r", operation="o")
    copy = pickle.loads(pickle.dumps(err))
    assert isinstance(copy, Exception)
    assert str(copy) == str(err)
    assert copy.to_result() == err.to_result()


def test_the_whole_payload_is_declared():
    err = SpoError("m")
    assert (err.may_have_run, err.result, err.details) == (False, {}, None)
    err = SpoError("m", may_have_run=True, result={"changed": True})
    assert err.may_have_run is True and err.result == {"changed": True}


def test_replace_makes_a_new_error_with_a_longer_message_or_a_result():
    err = SpoError("Access denied", status=403, operation="list files", may_have_run=True)
    longer = err.replace(message="the import succeeded, but: %s" % err.message, result={"changed": False})
    assert str(longer) == "list files: the import succeeded, but: Access denied (HTTP 403)"
    assert longer.args == (str(longer),)
    assert (longer.status, longer.may_have_run, longer.result) == (403, True, {"changed": False})
    assert str(err) == "list files: Access denied (HTTP 403)" and err.result == {}


def test_replace_refuses_a_field_that_is_not_part_of_the_payload():
    with pytest.raises(TypeError, match="no payload field job"):
        SpoError("m").replace(job={})


class _OwnArguments(JobError):
    def __init__(self, job, seconds):
        self.seconds = seconds
        super().__init__(job, "waited %d s" % seconds, code="Queued")


def test_a_job_error_keeps_its_class_and_job_through_replace_and_pickling():
    err = _OwnArguments({"job_id": "j1"}, 30)
    for copy in (err.replace(result={"jobs": []}), pickle.loads(pickle.dumps(err))):
        assert copy.__class__ is _OwnArguments
        assert copy.job == {"job_id": "j1"} and copy.seconds == 30 and str(copy) == "waited 30 s (Queued)"


def test_failed_users_message_names_the_first_users_with_their_reasons():
    failures = [("u%d@contoso.com" % number, "User Not Found") for number in range(22)]
    message = failed_users_message(failures, 50)
    assert message.startswith("22 of 50 users failed: u0@contoso.com: User Not Found; u1@contoso.com: User Not Found")
    assert "u19@contoso.com" in message and "u20@contoso.com" not in message and message.endswith("; and 2 more")
    assert failed_users_message(failures[:1], 3) == "1 of 3 users failed: u0@contoso.com: User Not Found"
