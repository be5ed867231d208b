# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

import pickle

from ansible_collections.spo.user_profiles.plugins.module_utils.errors import SpoError


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
