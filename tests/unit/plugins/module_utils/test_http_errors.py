# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

import email.utils

import pytest

from ansible_collections.spo.user_profiles.plugins.module_utils import http_errors
from ansible_collections.spo.user_profiles.tests.unit.plugins.module_utils.test_http import make_response


# -- error bodies of each service ---------------------------------------------------------------

@pytest.mark.parametrize("status, body, headers, code, message, request_id", [
    (404, {"odata.error": {"code": "-2130575338, Microsoft.SharePoint.SPException",
                           "message": {"lang": "en-US", "value": "The file /x does not exist."}}},
     {"SPRequestGuid": "sp-guid"}, "-2130575338, Microsoft.SharePoint.SPException", "The file /x does not exist.", "sp-guid"),
    (404, {"error": {"code": "-2147024894, System.IO.FileNotFoundException", "message": {"lang": "en-US", "value": "File Not Found."}}},
     {"SPRequestGuid": "sp-guid-2"}, "-2147024894, System.IO.FileNotFoundException", "File Not Found.", "sp-guid-2"),
    (400, {"odata.error": {"code": "-1, Microsoft.SharePoint.Client.InvalidClientQueryException", "message": "The expression is not valid."}},
     {}, "-1, Microsoft.SharePoint.Client.InvalidClientQueryException", "The expression is not valid.", None),
    (404, {"error": {"code": "Request_ResourceNotFound", "message": "Resource 'x' does not exist.",
                     "innerError": {"date": "2024-01-01T00:00:00", "request-id": "graph-req", "client-request-id": "c"}}},
     {}, "Request_ResourceNotFound", "Resource 'x' does not exist.", "graph-req"),
    (400, {"error": {"code": "ErrorInvalidImage", "message": "The photo is not an image."}},
     {"request-id": "graph-header-req"}, "ErrorInvalidImage", "The photo is not an image.", "graph-header-req"),
    (401, {"error": "invalid_client", "error_description": "AADSTS7000215: Invalid client secret provided.\r\nTrace ID: t\r\nCorrelation ID: corr",
           "error_codes": [7000215], "trace_id": "t", "correlation_id": "corr"},
     {}, "AADSTS7000215", "AADSTS7000215: Invalid client secret provided.", "corr"),
    (401, {"error_description": "Invalid issuer or signature."}, {}, None, "Invalid issuer or signature.", None),
    (500, [{"SchemaVersion": "15.0.0.0", "LibraryVersion": "16.0", "ErrorInfo": {
        "ErrorMessage": "Unexpected", "ErrorCode": -1, "ErrorTypeName": "System.Exception", "TraceCorrelationId": "csom-trace"}}],
     {}, "-1, System.Exception", "Unexpected", "csom-trace"),
    (502, "<html><body><h1>Bad gateway</h1></body></html>", {"client-request-id": "cri"}, None, "Bad gateway", "cri"),
    (418, "", {}, None, "Reason", None),
])
def test_error_mapping(status, body, headers, code, message, request_id):
    err = http_errors.error_from_response(make_response(status, body, headers), "the operation")
    assert (err.status, err.code, err.message, err.request_id, err.operation) == (status, code, message, request_id, "the operation")


def test_unsupported_app_only_token_explains_the_certificate_rule():
    err = http_errors.error_from_response(make_response(401, "Unsupported app only token."), "read web")
    assert "Unsupported app only token." in err.message
    assert "certificate" in err.message


def test_parse_retry_after():
    assert http_errors.parse_retry_after(None) is None
    assert http_errors.parse_retry_after("5") == 5.0
    assert http_errors.parse_retry_after("-3") == 0.0
    assert http_errors.parse_retry_after("soon") is None
    assert http_errors.parse_retry_after(email.utils.formatdate(100.0, usegmt=True), now=40.0) == 60.0


def test_redact_removes_secrets_bearer_tokens_and_url_credentials():
    text = "proxy http://user:pa55@proxy:3128 sent Authorization: Bearer eyJ0.abc-_~+/= with s3cr3t"
    assert http_errors.redact(text, secrets=["s3cr3t", ""]) == "proxy http://***@proxy:3128 sent Authorization: Bearer *** with ***"


def test_the_request_id_comes_from_the_first_header_that_has_one():
    response = make_response(500, headers={"request-id": "graph-1", "SPRequestGuid": "sp-1"})
    assert http_errors.request_id_of(response) == "sp-1"
    assert http_errors.request_id_of(make_response(500)) is None
