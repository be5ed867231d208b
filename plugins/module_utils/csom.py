# -*- coding: utf-8 -*-
# Copyright (c) spo.user_profiles contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

"""CSOM ProcessQuery: request builder and response parser.

Serialisation follows the .NET CSOM runtime (DataConvert, ObjectPathMethod, ClientActionInvokeMethod):
value-returning methods are <Actions>, object-returning methods are <ObjectPaths>.
"""

from __future__ import annotations

import base64
import datetime
import json
import re
import uuid

from ansible_collections.spo.user_profiles.plugins.module_utils.constants import GUID_PATTERN
from ansible_collections.spo.user_profiles.plugins.module_utils.errors import SpoError

OFFICE365_TENANT_TYPE_ID = "{e45fd516-a408-4ca4-b6dc-268e2f1f0f83}"
TENANT_TYPE_ID = "{268004ae-ef6b-4e9b-8425-127220d84719}"

CSOM_NAMESPACE = "http://schemas.microsoft.com/sharepoint/clientquery/2009"
PROCESS_QUERY_PATH = "/_vti_bin/client.svc/ProcessQuery"

_INT32_MIN, _INT32_MAX = -2 ** 31, 2 ** 31 - 1

# Characters XML 1.0 cannot carry at all, even escaped.
_XML_INVALID = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff\ud800-\udfff]")

_GUID_RE = re.compile(r"^/Guid\((%s)\)/$" % GUID_PATTERN)
_DATE_MS_RE = re.compile(r"^/Date\((-?\d+)\)/$")
_DATE_PARTS_RE = re.compile(r"^/Date\((\d+),(\d+),(\d+),(\d+),(\d+),(\d+),(\d+)\)/$")
_BASE64_RE = re.compile(r"^/Base64Binary\(([A-Za-z0-9+/=]*)\)/$")

_EPOCH = datetime.datetime(1970, 1, 1, tzinfo=datetime.timezone.utc)


class Enum(int):
    """A parameter sent as Type="Enum" (the enum's underlying integer)."""


class Guid(str):
    """A parameter sent as Type="Guid", in .NET "B" format ({xxxxxxxx-...})."""

    def __new__(cls, value):
        return super().__new__(cls, "{%s}" % uuid.UUID(str(value)))


def _check_xml_text(value):
    match = _XML_INVALID.search(value)
    if match:
        raise ValueError("CSOM values cannot contain the character U+%04X (not allowed in XML 1.0)" % ord(match.group(0)))


def escape_text(value):
    """Escape element content. Carriage returns are written as &#13; because XML parsers turn a raw CR into LF."""
    _check_xml_text(value)
    return value.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;").replace("\r", "&#13;")


def escape_attribute(value):
    """Escape a double-quoted attribute value; whitespace escapes survive attribute-value normalisation."""
    return (escape_text(value).replace('"', "&quot;").replace("\n", "&#10;").replace("\t", "&#9;"))


def _parameter(value):
    if value is None:
        return '<Parameter Type="Null" />'
    if isinstance(value, bool):
        return '<Parameter Type="Boolean">%s</Parameter>' % ("true" if value else "false")
    if isinstance(value, Enum):
        return '<Parameter Type="Enum">%d</Parameter>' % int(value)
    if isinstance(value, int):
        kind = "Int32" if _INT32_MIN <= value <= _INT32_MAX else "Int64"
        return '<Parameter Type="%s">%d</Parameter>' % (kind, value)
    if isinstance(value, Guid):
        return '<Parameter Type="Guid">%s</Parameter>' % value
    if isinstance(value, str):
        return '<Parameter Type="String">%s</Parameter>' % escape_text(value)
    if isinstance(value, dict):
        properties = []
        for key, item in value.items():
            if not isinstance(key, str) or not isinstance(item, str):
                raise TypeError("CSOM dictionaries hold strings only, got %r: %r" % (type(key).__name__, type(item).__name__))
            properties.append('<Property Name="%s" Type="String">%s</Property>' % (escape_attribute(key), escape_text(item)))
        return '<Parameter Type="Dictionary">%s</Parameter>' % "".join(properties)
    raise TypeError("cannot send a %s as a CSOM parameter" % type(value).__name__)


def _parameters(params):
    if not params:
        return ""
    return "<Parameters>%s</Parameters>" % "".join(_parameter(value) for value in params)


class CsomRequest:
    """One ProcessQuery request. Every method returns the id the response is keyed by."""

    def __init__(self, application_name="spo.user_profiles"):
        self.application_name = application_name
        self._next_id = 0
        self._actions = []
        self._object_paths = []

    def _new_id(self):
        self._next_id += 1
        return self._next_id

    def constructor(self, type_id):
        """An object path that constructs a server object (e.g. Office365Tenant)."""
        path_id = self._new_id()
        self._object_paths.append('<Constructor Id="%d" TypeId="%s" />' % (path_id, escape_attribute(type_id)))
        return path_id

    def method_path(self, parent_id, name, params=()):
        """An object path: a method of parent_id that returns a client object."""
        path_id = self._new_id()
        self._object_paths.append('<Method Id="%d" ParentId="%d" Name="%s">%s</Method>'
                                  % (path_id, parent_id, escape_attribute(name), _parameters(params)))
        return path_id

    def object_path(self, object_path_id):
        """An <ObjectPath> action: asks the server to instantiate the path (answer {"IsNull": false})."""
        action_id = self._new_id()
        self._actions.append('<ObjectPath Id="%d" ObjectPathId="%d" />' % (action_id, object_path_id))
        return action_id

    def call(self, object_path_id, name, params=()):
        """A value-returning method call on an object path."""
        action_id = self._new_id()
        self._actions.append('<Method Name="%s" Id="%d" ObjectPathId="%d">%s</Method>'
                             % (escape_attribute(name), action_id, object_path_id, _parameters(params)))
        return action_id

    def static_method(self, type_id, name, params=()):
        """A value-returning static method of a server type (e.g. Web.GetWebUrlFromPageUrl)."""
        action_id = self._new_id()
        self._actions.append('<StaticMethod TypeId="%s" Name="%s" Id="%d">%s</StaticMethod>'
                             % (escape_attribute(type_id), escape_attribute(name), action_id, _parameters(params)))
        return action_id

    def query(self, object_path_id, child_items=False):
        """Read all scalar properties of an object (and of its child items for collections)."""
        action_id = self._new_id()
        select = '<Query SelectAllProperties="true"><Properties /></Query>'
        children = '<ChildItemQuery SelectAllProperties="true"><Properties /></ChildItemQuery>' if child_items else ""
        self._actions.append('<Query Id="%d" ObjectPathId="%d">%s%s</Query>' % (action_id, object_path_id, select, children))
        return action_id

    def to_xml(self):
        return ('<Request AddExpandoFieldTypeSuffix="true" SchemaVersion="15.0.0.0" LibraryVersion="16.0.0.0" '
                'ApplicationName="%s" xmlns="%s"><Actions>%s</Actions><ObjectPaths>%s</ObjectPaths></Request>'
                % (escape_attribute(self.application_name), CSOM_NAMESPACE, "".join(self._actions), "".join(self._object_paths)))


def _decode_special(value):
    match = _GUID_RE.match(value)
    if match:
        return match.group(1).lower()
    match = _DATE_MS_RE.match(value)
    if match:
        return _EPOCH + datetime.timedelta(milliseconds=int(match.group(1)))
    match = _DATE_PARTS_RE.match(value)
    if match:
        year, month0, day, hour, minute, second, millis = (int(part) for part in match.groups())
        return datetime.datetime(year, month0 + 1, day, hour, minute, second, millis * 1000, tzinfo=datetime.timezone.utc)
    match = _BASE64_RE.match(value)
    if match:
        return base64.b64decode(match.group(1))
    return value


def _decode(value):
    if isinstance(value, str):
        return _decode_special(value) if value.startswith("/") else value
    if isinstance(value, list):
        return [_decode(item) for item in value]
    if isinstance(value, dict):
        return dict((key, _decode(item)) for key, item in value.items())
    return value


def _error_from_info(info, operation, header):
    code = info.get("ErrorCode")
    type_name = info.get("ErrorTypeName")
    if code is not None and type_name:
        error_code = "%s, %s" % (code, type_name)
    else:
        error_code = type_name or (str(code) if code is not None else None)
    details = dict((key, info[key]) for key in ("ErrorCode", "ErrorTypeName", "ErrorValue", "ErrorDetails") if info.get(key) is not None)
    return SpoError(info.get("ErrorMessage") or "the server reported an error without a message",
                    code=error_code, request_id=info.get("TraceCorrelationId") or header.get("TraceCorrelationId"),
                    operation=operation, details=details or None)


def parse_response(text, operation):
    """{action_id: result} from a ProcessQuery answer. Raises SpoError for ErrorInfo or a malformed answer."""
    if isinstance(text, bytes):
        text = text.decode("utf-8-sig")
    try:
        data = json.loads(text)
    except ValueError:
        raise SpoError("the ProcessQuery answer is not JSON: %s" % text[:200], operation=operation)
    if not isinstance(data, list) or not data or not isinstance(data[0], dict) or "ErrorInfo" not in data[0]:
        raise SpoError("the ProcessQuery answer has no CSOM header: %s" % text[:200], operation=operation)
    header = data[0]
    if header["ErrorInfo"]:
        info = header["ErrorInfo"] if isinstance(header["ErrorInfo"], dict) else {"ErrorMessage": str(header["ErrorInfo"])}
        raise _error_from_info(info, operation, header)
    pairs = data[1:]
    if len(pairs) % 2:
        raise SpoError("the ProcessQuery answer has an action id without a result", operation=operation)
    results = {}
    for index in range(0, len(pairs), 2):
        action_id = pairs[index]
        if not isinstance(action_id, int) or isinstance(action_id, bool):
            raise SpoError("the ProcessQuery answer has a non-numeric action id %r" % (action_id,), operation=operation)
        results[action_id] = _decode(pairs[index + 1])
    return results


def execute(client, request, operation, idempotent=True):
    """POST the request to the tenant admin site's ProcessQuery and parse the answer.

    `idempotent=False` for a request that must not run twice (see SpoClient.send)."""
    response = client.request(
        "POST", client.admin_url + PROCESS_QUERY_PATH, operation,
        headers={"Content-Type": "text/xml", "Accept": "application/json"},
        data=request.to_xml().encode("utf-8"), idempotent=idempotent,
    )
    return parse_response(response.content, operation)
