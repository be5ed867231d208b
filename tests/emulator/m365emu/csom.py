"""CSOM ProcessQuery (client.svc) and the REST forms of Office365Tenant's import job methods.

Served: the Office365Tenant type (TypeId {e45fd516-a408-4ca4-b6dc-268e2f1f0f83}) on the tenant admin host, and
the static Web.GetWebUrlFromPageUrl on every host (with its REST form SP.Web.GetWebUrlFromPageUrl). Server
errors come back as ErrorInfo in the first element with HTTP 200, as SharePoint does.
"""

import json
import re
import uuid
import xml.etree.ElementTree as ET
from urllib.parse import urlsplit

from . import importjobs, permissions, webs
from . import sprest as sp
from . import web
from .faults import FAULTS

NS = "{http://schemas.microsoft.com/sharepoint/clientquery/2009}"
OFFICE365_TENANT_TYPE_ID = "e45fd516-a408-4ca4-b6dc-268e2f1f0f83"
SCHEMA_VERSION = "15.0.0.0"
LIBRARY_VERSION = "16.0.24817.12008"
JOB_TYPE = "Microsoft.Online.SharePoint.TenantManagement.ImportProfilePropertiesJobInfo"
JOBS_TYPE = "Microsoft.Online.SharePoint.TenantManagement.ImportProfilePropertiesJobStatusCollection"
TENANT_TYPE = "Microsoft.Online.SharePoint.TenantManagement.Office365Tenant"
EMPTY_GUID = "00000000-0000-0000-0000-000000000000"

SP_EXCEPTION = (-2146232832, "Microsoft.SharePoint.SPException")
ARGUMENT_EXCEPTION = (-2147024809, "System.ArgumentException")
ARGUMENT_RANGE = (-2146233086, "System.ArgumentOutOfRangeException")
INVALID_QUERY = (-1, "Microsoft.SharePoint.Client.InvalidClientQueryException")
ACCESS_DENIED = (-2147024891, "System.UnauthorizedAccessException")
QUERY_THROTTLED = (-2147024860, "Microsoft.SharePoint.SPQueryThrottledException")
LIST_VIEW_THRESHOLD = "The attempted operation is prohibited because it exceeds the list view threshold."
DEFAULT_JOB_LIST_THRESHOLD = 5000   # the list view threshold of SharePoint lists


class CsomError(Exception):
    """A server exception: ErrorInfo in a CSOM answer; in a REST answer, odata.error with rest_status."""

    def __init__(self, message, kind=SP_EXCEPTION, rest_status=400):
        Exception.__init__(self, message)
        self.code, self.type_name = kind
        self.rest_status = rest_status


# ---------------------------------------------------------------- shared validation and job shapes

def validate_queue(tenant, id_type, id_property, property_map, source_uri):
    """Queue-time checks of QueueImportProfileProperties; raises CsomError."""
    if isinstance(id_type, bool) or not isinstance(id_type, int) or id_type not in (0, 1, 2):
        raise CsomError("Specified argument was out of the range of valid values.\r\nParameter name: idType",
                        ARGUMENT_RANGE)
    if not isinstance(id_property, str) or not id_property.strip():
        raise CsomError("Value cannot be null or empty.\r\nParameter name: sourceDataIdProperty", ARGUMENT_EXCEPTION)
    if not isinstance(property_map, dict) or not property_map:
        raise CsomError("Value cannot be null or empty.\r\nParameter name: propertyMap", ARGUMENT_EXCEPTION)
    parts = urlsplit(source_uri) if isinstance(source_uri, str) else None
    if parts is None or parts.scheme.lower() != "https" or not parts.hostname or not parts.path.strip("/"):
        raise CsomError("The sourceUri must be an absolute https URL of a file.\r\nParameter name: sourceUri",
                        ARGUMENT_EXCEPTION)
    by_lower = {name.lower(): name for name in tenant.properties}
    canonical, unknown, core, taxonomic, editable = {}, [], [], [], []
    for key, target in property_map.items():
        name = by_lower.get(str(target).lower()) if target is not None else None
        if name is None:
            unknown.append(str(target))
            continue
        canonical[key] = name
        spec = tenant.properties[name]
        if spec.get("core"):
            core.append(name)
        elif spec.get("multi_value") or spec.get("taxonomy"):
            taxonomic.append(name)
        elif spec.get("user_editable"):
            editable.append(name)
    if unknown:
        raise CsomError("Property Names [%s] do not exist in the user profile application." % ",".join(unknown))
    if core:
        raise CsomError("Property Names [%s] are synchronized from Microsoft Entra ID and cannot be imported."
                        % ",".join(core))
    if taxonomic:   # the service says so of string multi-value properties too (sp-dev-docs#7159)
        raise CsomError("Property Names [%s] are Taxonomic Properties" % ",".join(taxonomic))
    if editable:
        raise CsomError("Property Names [%s] are editable by user." % ",".join(editable))
    return canonical


def _jobs_within_threshold(ctx):
    """The job records, or the list view threshold error once there are more of them than the threshold
    (the job list is a SharePoint list that nothing empties: pnp/powershell#3814)."""
    jobs = importjobs.list_jobs(ctx.tenant)
    threshold = FAULTS.get("job_list_threshold", DEFAULT_JOB_LIST_THRESHOLD, tenant=ctx.tenant.name)
    if len(jobs) > threshold:
        raise CsomError(LIST_VIEW_THRESHOLD, QUERY_THROTTLED, rest_status=500)
    return jobs


def queue(ctx, id_type, id_property, property_map, source_uri):
    canonical = validate_queue(ctx.tenant, id_type, id_property, property_map, source_uri)
    _jobs_within_threshold(ctx)
    job_id = importjobs.queue(ctx.store, ctx.tenant, id_type, id_property, canonical, source_uri)
    if FAULTS.get("queue_empty_guid", False, tenant=ctx.tenant.name):
        return EMPTY_GUID
    return job_id


def web_url_from_page_url(ctx, page_url):
    """Web.GetWebUrlFromPageUrl; an ArgumentException for a URL that is not one of the tenant's (unconfirmed)."""
    if page_url is None:
        raise CsomError("Value cannot be null.\r\nParameter name: pageFullUrl", ARGUMENT_EXCEPTION)
    try:
        return webs.web_url_from_page_url(ctx.store, ctx.tenant, page_url)
    except ValueError:
        raise CsomError("Value does not fall within the expected range.", ARGUMENT_EXCEPTION)


def _job_or_fail(ctx, job_id):
    job = importjobs.get_job(ctx.tenant, job_id)
    if job is None:
        # Unconfirmed what SharePoint answers for an unknown job id; an SPException is the guess.
        raise CsomError("The import job %s does not exist." % job_id, rest_status=404)
    return job


# ---------------------------------------------------------------- ProcessQuery

def _local(tag):
    return tag.rsplit("}", 1)[-1]


def _children(element, name):
    return [child for child in element if _local(child.tag) == name]


def _child(element, name):
    found = _children(element, name)
    return found[0] if found else None


def parse_parameter(element):
    kind = (element.get("Type") or "").lower()
    text = element.text or ""
    if kind == "null":
        return None
    if kind == "string":
        return text
    if kind in ("enum", "int32", "int64", "int16", "byte", "uint32", "uint64"):
        return int(text.strip())
    if kind == "boolean":
        return text.strip().lower() == "true"
    if kind in ("double", "single"):
        return float(text.strip())
    if kind == "guid":
        return str(uuid.UUID(text.strip().strip("{}")))
    if kind == "dictionary":
        return {prop.get("Name"): parse_parameter(prop) for prop in _children(element, "Property")}
    if kind == "array":
        return [parse_parameter(item) for item in _children(element, "Object")]
    raise CsomError("The parameter type %s is not supported." % element.get("Type"), INVALID_QUERY)


def _parameters(element):
    holder = _child(element, "Parameters")
    return [parse_parameter(p) for p in _children(holder, "Parameter")] if holder is not None else []


class _Tenant:
    pass


class _Jobs:
    def __init__(self, jobs):
        self.jobs = jobs


def _job_json(job):
    info = importjobs.public(job)
    info["JobId"] = "/Guid(%s)/" % info["JobId"]
    return dict([("_ObjectType_", JOB_TYPE)] + list(info.items()))


def _selected(obj, query):
    """Apply <Query SelectAllProperties=.. ><Properties><Property Name=.. /></Properties></Query>."""
    if query is None or (query.get("SelectAllProperties") or "").lower() == "true":
        return obj
    props = _child(query, "Properties")
    names = {p.get("Name", "").lower() for p in _children(props, "Property")} if props is not None else set()
    return {k: v for k, v in obj.items() if k.startswith("_") or k.lower() in names}


class _Evaluator:
    def __init__(self, ctx, object_paths):
        self.ctx = ctx
        self.object_paths = object_paths
        self.cache = {}

    def object(self, path_id):
        if path_id in self.cache:
            return self.cache[path_id]
        element = self.object_paths.get(path_id)
        if element is None:
            raise CsomError("The object path %s is not defined in the request." % path_id, INVALID_QUERY)
        kind = _local(element.tag)
        if kind == "Constructor":
            type_id = (element.get("TypeId") or "").strip().strip("{}").lower()
            if type_id != OFFICE365_TENANT_TYPE_ID:
                raise CsomError("Cannot find stub for type with id \"%s\". The specified server library may be "
                                "unavailable." % element.get("TypeId"), INVALID_QUERY)
            if self.ctx.host_kind != "admin" or not permissions.has_all(self.ctx.claims, permissions.PROFILE_ROLES):
                raise CsomError(permissions.ACCESS_DENIED, ACCESS_DENIED)
            result = _Tenant()
        elif kind == "Method":
            parent = self.object(element.get("ParentId"))
            name = (element.get("Name") or "").lower()
            params = _parameters(element)
            if isinstance(parent, _Tenant) and name == "getimportprofilepropertyjob":
                if not params:
                    raise CsomError("Value cannot be null.\r\nParameter name: jobId", ARGUMENT_EXCEPTION)
                result = _job_or_fail(self.ctx, params[0])
            elif isinstance(parent, _Tenant) and name == "getimportprofilepropertyjobs":
                result = _Jobs(_jobs_within_threshold(self.ctx))
            else:
                raise CsomError("Method \"%s\" does not exist." % element.get("Name"), INVALID_QUERY)
        else:
            raise CsomError("The object path type %s is not supported by the emulator." % kind, INVALID_QUERY)
        self.cache[path_id] = result
        return result

    def action(self, element):
        kind = _local(element.tag)
        if kind == "ObjectPath":
            return {"IsNull": self.object(element.get("ObjectPathId")) is None}
        if kind == "Query":
            obj = self.object(element.get("ObjectPathId"))
            query = _child(element, "Query")
            if isinstance(obj, _Jobs):
                child_query = _child(element, "ChildItemQuery")
                return dict(_selected({"_ObjectType_": JOBS_TYPE}, query),
                            _Child_Items_=[_selected(_job_json(j), child_query) for j in obj.jobs])
            if isinstance(obj, dict):
                return _selected(_job_json(obj), query)
            return {"_ObjectType_": TENANT_TYPE}
        if kind == "Method":
            target = self.object(element.get("ObjectPathId"))
            name = (element.get("Name") or "").lower()
            params = _parameters(element)
            if isinstance(target, _Tenant) and name == "queueimportprofileproperties":
                if len(params) != 4:
                    raise CsomError("The number of parameters of QueueImportProfileProperties is not valid.",
                                    INVALID_QUERY)
                return "/Guid(%s)/" % queue(self.ctx, *params)
            if isinstance(target, _Tenant) and name == "deleteimportprofilepropertiesjob":
                if not params:
                    raise CsomError("Value cannot be null.\r\nParameter name: jobId", ARGUMENT_EXCEPTION)
                return importjobs.delete_job(self.ctx.tenant, params[0])
            raise CsomError("Method \"%s\" does not exist." % element.get("Name"), INVALID_QUERY)
        if kind == "StaticMethod":
            return self._static_method(element)
        raise CsomError("The action %s is not supported by the emulator." % kind, INVALID_QUERY)

    def _static_method(self, element):
        """Web.GetWebUrlFromPageUrl(pageFullUrl), the one static method served (on every host)."""
        type_id = (element.get("TypeId") or "").strip().strip("{}").lower()
        if type_id != webs.STATIC_TYPE_ID or (element.get("Name") or "").lower() != "getweburlfrompageurl":
            raise CsomError("Method \"%s\" does not exist." % element.get("Name"), INVALID_QUERY)
        if not permissions.has_any(self.ctx.claims, permissions.SITE_READ_ROLES):
            raise CsomError(permissions.ACCESS_DENIED, ACCESS_DENIED)
        params = _parameters(element)
        return web_url_from_page_url(self.ctx, params[0] if params else None)


def encode(items):
    """CSOM JSON: '/' escaped as \\u002f in strings, except the \\/Guid(..)\\/ and \\/Date(..)\\/ forms."""
    text = json.dumps(items, separators=(",", ":"), ensure_ascii=False).replace("/", "\\u002f")
    return re.sub(r'"\\u002f(Guid|Date|Base64Binary)\(([^)"]*)\)\\u002f"', r'"\\/\1(\2)\\/"', text)


def _csom_response(items):
    return web.Response(200, body=encode(items).encode("utf-8"),
                        headers={"request-id": items[0]["TraceCorrelationId"],
                                 "SPRequestGuid": items[0]["TraceCorrelationId"],
                                 "X-SharePointHealthScore": "0"},
                        content_type="application/json; charset=utf-8")


def process_query(ctx):
    trace = str(uuid.uuid4())
    header = {"SchemaVersion": SCHEMA_VERSION, "LibraryVersion": LIBRARY_VERSION, "ErrorInfo": None,
              "TraceCorrelationId": trace}
    items = [header]
    try:
        try:
            root = ET.fromstring(ctx.request.body(limit=16 * 1024 * 1024))
        except ET.ParseError as err:
            raise CsomError("The request XML is not valid: %s" % err, INVALID_QUERY)
        if _local(root.tag) != "Request":
            raise CsomError("The root element of the request must be Request.", INVALID_QUERY)
        paths_element = _child(root, "ObjectPaths")
        object_paths = {p.get("Id"): p for p in (paths_element if paths_element is not None else [])}
        evaluator = _Evaluator(ctx, object_paths)
        actions = _child(root, "Actions")
        for action in (actions if actions is not None else []):
            result = evaluator.action(action)
            items.extend([int(action.get("Id")), result])
    except CsomError as err:
        header["ErrorInfo"] = {"ErrorMessage": str(err), "ErrorValue": None, "TraceCorrelationId": trace,
                               "ErrorCode": err.code, "ErrorTypeName": err.type_name}
        items = [header]
    except ValueError as err:   # bad numbers or GUIDs in parameters
        header["ErrorInfo"] = {"ErrorMessage": "The request is not valid: %s" % err, "ErrorValue": None,
                               "TraceCorrelationId": trace, "ErrorCode": INVALID_QUERY[0],
                               "ErrorTypeName": INVALID_QUERY[1]}
        items = [header]
    return _csom_response(items)


# ---------------------------------------------------------------- REST forms

def _property_map(value):
    """propertyMap as a plain object, a verbose Collection(SP.KeyValue) or a bare list of KeyValue."""
    if isinstance(value, dict) and "results" in value and isinstance(value["results"], list):
        value = value["results"]
    if isinstance(value, list):
        result = {}
        for item in value:
            if not isinstance(item, dict) or "Key" not in item:
                raise CsomError("The propertyMap entries must be SP.KeyValue objects.", ARGUMENT_EXCEPTION)
            result[item["Key"]] = item.get("Value")
        return result
    if isinstance(value, dict):
        return {k: v for k, v in value.items() if k != "__metadata"}
    return value


def _rest_job(ctx, job):
    info = importjobs.public(job)
    return sp.entity_body(ctx, info, JOB_TYPE)


def handle_web_url_rest(ctx, seg):
    """REST SP.Web.GetWebUrlFromPageUrl: GET ...(@v)?@v='<url>' (pnpjs) or POST {"pageFullUrl": "<url>"} (o365)."""
    sp.require_any(ctx, permissions.SITE_READ_ROLES)
    param = sp.method_params(ctx, seg, limit=64 * 1024)
    try:
        return sp.reply_value(ctx, "GetWebUrlFromPageUrl", web_url_from_page_url(ctx, param("pageFullUrl", 0)))
    except CsomError as err:
        sp.sp_fail(ctx, err.rest_status, "%d, %s" % (err.code, err.type_name), str(err))


def handle_rest(ctx, segments):
    if not segments or len(segments) > 1:
        sp.not_found_resource(ctx, "/".join(s.name for s in segments) or sp.OFFICE365_TENANT_REST)
    if ctx.host_kind != "admin" or not permissions.has_all(ctx.claims, permissions.PROFILE_ROLES):
        raise permissions.sharepoint_denied(ctx.verbose)
    seg = segments[0]
    name = seg.lname
    param = sp.method_params(ctx, seg, limit=16 * 1024 * 1024)

    try:
        if name == "queueimportprofileproperties":
            id_type = param("idType", 0)
            if isinstance(id_type, str) and id_type.strip().lstrip("-").isdigit():
                id_type = int(id_type)
            job_id = queue(ctx, id_type, param("sourceDataIdProperty", 1), _property_map(param("propertyMap", 2)),
                           param("sourceUri", 3))
            return sp.reply_value(ctx, "QueueImportProfileProperties", job_id)
        if name == "getimportprofilepropertyjob":
            job = _job_or_fail(ctx, param("jobId", 0))
            body_ = _rest_job(ctx, job)
            return sp.json_reply(ctx, {"d": body_} if ctx.verbose else body_)
        if name == "getimportprofilepropertyjobs":
            return sp.reply_collection(ctx, [_rest_job(ctx, j) for j in _jobs_within_threshold(ctx)])
        if name == "deleteimportprofilepropertiesjob":
            return sp.reply_value(ctx, "DeleteImportProfilePropertiesJob",
                                  importjobs.delete_job(ctx.tenant, param("jobId", 0)))
    except CsomError as err:
        sp.sp_fail(ctx, err.rest_status, "%d, %s" % (err.code, err.type_name), str(err))
    sp.not_found_resource(ctx, seg.name)
