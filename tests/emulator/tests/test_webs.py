"""Webs of a tenant and Web.GetWebUrlFromPageUrl (webs.py), in its CSOM and REST forms."""

import pytest

from .sp_harness import SharePoint, csom_request

SITES = ["/sites/hr", "/teams/dev", "/sites/hr/emea", "/projects/apollo"]
ROOT = "https://webs.sharepoint.com"
STATIC = ('<StaticMethod TypeId="{a489add2-5d3a-4de8-9445-49259462dceb}" Name="GetWebUrlFromPageUrl" Id="9">'
          '<Parameters><Parameter Type="String">%s</Parameter></Parameters></StaticMethod>')


@pytest.fixture
def sp(tmp_path):
    instance = SharePoint(str(tmp_path))
    tenant = instance.store.create_tenant({"name": "webs", "sites": SITES, "apps": []})
    instance.token = instance.token_for(["Sites.Read.All"], tenant=tenant)
    return instance


def csom_answer(sp, page_url, host="webs-admin"):
    xml = csom_request(STATIC % page_url.replace("&", "&amp;"), "")
    reply = sp.request("POST", "https://%s.sharepoint.com/_vti_bin/client.svc/ProcessQuery" % host, xml,
                       headers={"Content-Type": "text/xml"})
    assert reply.status == 200
    return reply.json()


@pytest.mark.parametrize("page, web", [
    ("/Shared Documents/import/5f4e7a2c-1111-2222-3333-444455556666", ""),
    ("/SitePages/Home.aspx", ""),
    ("/sites/hr/Shared Documents/x.json", "/sites/hr"),
    ("/sites/HR/shared documents", "/sites/hr"),
    ("/sites/hr/emea/Shared%20Documents/log/1", "/sites/hr/emea"),
    ("/sites/hrx/Shared Documents", ""),
    ("/teams/dev/Shared Documents/a", "/teams/dev"),
    ("/projects/apollo/Shared Documents/a", "/projects/apollo"),
])
def test_csom_static_method_answers_the_deepest_web_holding_the_url(sp, page, web):
    answer = csom_answer(sp, ROOT + page)
    assert answer[0]["ErrorInfo"] is None
    assert answer[1:] == [9, ROOT + web]


def test_rest_forms_get_with_an_alias_and_post_with_a_body(sp):
    page = ROOT + "/sites/hr/emea/Shared Documents/x"
    by_alias = sp.request("GET", "https://webs.sharepoint.com/_api/SP.Web.GetWebUrlFromPageUrl(@v)?@v='%s'"
                          % page.replace(" ", "%20"))
    assert by_alias.json() == {"value": ROOT + "/sites/hr/emea"}
    by_body = sp.request("POST", "https://webs.sharepoint.com/sites/hr/_api/SP.Web.GetWebUrlFromPageUrl",
                         {"pageFullUrl": page}, verbose=True)
    assert by_body.json() == {"d": {"GetWebUrlFromPageUrl": ROOT + "/sites/hr/emea"}}


def test_a_web_a_client_used_is_known_too(sp):
    assert csom_answer(sp, ROOT + "/sites/adhoc/Shared Documents/f")[1:] == [9, ROOT]
    assert sp.request("GET", ROOT + "/sites/adhoc/_api/web/GetFolderByServerRelativeUrl('Shared Documents')").status == 200
    assert csom_answer(sp, ROOT + "/sites/adhoc/Shared Documents/f")[1:] == [9, ROOT + "/sites/adhoc"]


def test_my_site_host_and_admin_host_urls(sp):
    assert csom_answer(sp, "https://webs-my.sharepoint.com/User Photos/Profile Pictures/a.jpg")[1:] == [
        9, "https://webs-my.sharepoint.com"]
    assert csom_answer(sp, "https://webs.sharepoint.com:443/sites/hr/x", host="webs")[1:] == [9, ROOT + "/sites/hr"]


@pytest.mark.parametrize("page", ["https://contoso.sharepoint.com/sites/hr", "https://example.com/x", "not a url"])
def test_urls_outside_the_tenant_are_refused(sp, page):
    error = csom_answer(sp, page)[0]["ErrorInfo"]
    assert error["ErrorTypeName"] == "System.ArgumentException"
    rest = sp.request("POST", ROOT + "/_api/SP.Web.GetWebUrlFromPageUrl", {"pageFullUrl": page})
    assert rest.status == 400 and rest.json()["odata.error"]["code"] == "-2147024809, System.ArgumentException"


def test_a_token_without_a_site_role_is_denied(sp):
    sp.token = sp.token_for(["User.ReadWrite.All"], tenant=sp.store.tenant("webs"))
    error = csom_answer(sp, ROOT + "/sites/hr")[0]["ErrorInfo"]
    assert error["ErrorTypeName"] == "System.UnauthorizedAccessException"
    assert sp.request("POST", ROOT + "/_api/SP.Web.GetWebUrlFromPageUrl", {"pageFullUrl": ROOT}).status == 403


@pytest.mark.parametrize("sites", [["sites/hr"], ["/"], ["/sites//hr"], ["/sites/x/_api"], [3]])
def test_bad_site_specs_are_refused(sp, sites):
    with pytest.raises(ValueError):
        sp.store.create_tenant({"name": "badsites", "sites": sites, "apps": []})
