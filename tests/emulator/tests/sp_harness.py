"""In-process driver for the SharePoint handlers (no sockets): a real Store in a temporary folder,
real tokens from entra.issue_token, real web.Request objects fed from memory.

The end-to-end path through the proxy is covered by test_conformance.py; these tests exercise the
SharePoint behaviours one by one, quickly.
"""

import io
import json
import time

from m365emu import entra, sharepoint, store as store_module, web
from m365emu.faults import FAULTS

ROOT = "https://contoso.sharepoint.com"
ADMIN = "https://contoso-admin.sharepoint.com"
MY = "https://contoso-my.sharepoint.com"
TENANT_API = ADMIN + "/_api/Microsoft.Online.SharePoint.TenantManagement.Office365Tenant/"

USERS = [
    {"upn": "jdoe@contoso.com"},
    {"upn": "noprofile@contoso.com", "has_profile": False},
    {"upn": "ann@contoso.com", "mail": "ann.mail@contoso.com", "object_id": "11111111-2222-3333-4444-555555555555"},
]
PROPERTIES = [{"name": "CostCenter"}, {"name": "Hobby", "user_editable": True},
              {"name": "Tags", "multi_value": True}, {"name": "Building"}]


class Reply:
    def __init__(self, response):
        self.status = response.status
        self.headers = response.headers
        if response.file_path:
            with open(response.file_path, "rb") as handle:
                self.content = handle.read()
        else:
            self.content = response.body or b""

    def json(self):
        return json.loads(self.content.decode("utf-8"))


class SharePoint:
    def __init__(self, data_dir, name="contoso", roles=("Sites.FullControl.All", "User.ReadWrite.All"), acr="2"):
        self.store = store_module.Store(data_dir)
        self.tenant = self.store.tenant(name) or self.store.create_tenant(
            {"name": name, "users": USERS, "properties": PROPERTIES,
             "apps": [{"client_id": "app1", "secret": "unused", "roles": list(roles)}]})
        self.token = self.token_for(roles, acr)

    def token_for(self, roles, acr="2", audience=None, tenant=None):
        tenant = tenant or self.tenant
        return entra.issue_token(self.store, tenant, "app1", list(roles),
                                 audience or "https://%s.sharepoint.com" % tenant.name, acr)

    def request(self, method, url, body=b"", headers=None, verbose=False, token=None, rfile=None,
                content_length=None):
        host, _sep, rest = url.partition("://")[2].partition("/")
        path, _sep, query = ("/" + rest).partition("?")
        if isinstance(body, (dict, list)):
            body = json.dumps(body).encode("utf-8")
        elif isinstance(body, str):
            body = body.encode("utf-8")
        sent = {"Authorization": "Bearer " + (token or self.token),
                "Accept": "application/json;odata=%s" % ("verbose" if verbose else "nometadata")}
        sent.update(headers or {})
        request = web.Request(method, host, path, query, web.Headers(sent.items()),
                              rfile=rfile or io.BytesIO(body),
                              content_length=len(body) if content_length is None else content_length)
        try:
            return Reply(sharepoint.handle(self.store, request))
        except web.HttpError as err:
            return Reply(err.response)

    def upload(self, folder, name, data, host=ROOT):
        reply = self.request("POST", "%s/_api/web/GetFolderByServerRelativeUrl('%s')/Files/add(url='%s',overwrite=true)"
                             % (host, folder, name), data)
        assert reply.status == 200, reply.content
        return reply.json()

    def process_query(self, xml):
        reply = self.request("POST", ADMIN + "/_vti_bin/client.svc/ProcessQuery", xml,
                             headers={"Content-Type": "text/xml"})
        assert reply.status == 200
        return reply.json()


def csom_request(actions, object_paths):
    return ('<Request AddExpandoFieldTypeSuffix="true" SchemaVersion="15.0.0.0" LibraryVersion="16.0.0.0" '
            'ApplicationName="tests" xmlns="http://schemas.microsoft.com/sharepoint/clientquery/2009">'
            '<Actions>%s</Actions><ObjectPaths>%s</ObjectPaths></Request>' % (actions, object_paths))


CONSTRUCTOR = '<Constructor Id="1" TypeId="{e45fd516-a408-4ca4-b6dc-268e2f1f0f83}" />'


def queue_xml(id_type, id_property, mapping, source_uri, with_object_path=True):
    props = "".join('<Property Name="%s" Type="String">%s</Property>' % (k, v) for k, v in mapping.items())
    action = ('<Method Name="QueueImportProfileProperties" Id="3" ObjectPathId="1"><Parameters>'
              '<Parameter Type="Enum">%d</Parameter><Parameter Type="String">%s</Parameter>'
              '<Parameter Type="Dictionary">%s</Parameter><Parameter Type="String">%s</Parameter>'
              '</Parameters></Method>' % (id_type, id_property, props, source_uri))
    if with_object_path:
        action = '<ObjectPath Id="2" ObjectPathId="1" />' + action
    return csom_request(action, CONSTRUCTOR)


def get_job_xml(job_id):
    return csom_request('<ObjectPath Id="4" ObjectPathId="3" /><Query Id="5" ObjectPathId="3"><Query '
                        'SelectAllProperties="true"><Properties /></Query></Query>',
                        CONSTRUCTOR + '<Method Id="3" ParentId="1" Name="GetImportProfilePropertyJob"><Parameters>'
                        '<Parameter Type="Guid">{%s}</Parameter></Parameters></Method>' % job_id)


def guid_of(csom_value):
    assert csom_value.startswith("/Guid(") and csom_value.endswith(")/"), csom_value
    return csom_value[6:-2]


def wait_for_job(sp, job_id, timeout=15):
    deadline = time.time() + timeout
    while True:
        reply = sp.request("POST", TENANT_API + "GetImportProfilePropertyJob", {"jobId": job_id})
        job = reply.json()
        if job["State"] in (4, 5) or time.time() > deadline:
            return job
        time.sleep(0.05)


def fast_jobs(tenant_name="contoso"):
    FAULTS.update({"tenant": tenant_name, "job_delay": 0.05, "job_duration": 0.05})
