# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

import pytest

from ansible_collections.spo.user_profiles.plugins.module_utils import webs
from ansible_collections.spo.user_profiles.plugins.module_utils.errors import SpoError
from ansible_collections.spo.user_profiles.tests.unit.plugins.module_utils.test_job_api import FakeTenant, ROOT


@pytest.mark.parametrize("url, web", [
    (ROOT + "/Shared%20Documents/ProfileImport/a.json", ROOT),
    (ROOT + "/sites/hr/Shared Documents/a.json", ROOT + "/sites/hr"),
    # a subsite, which the path alone would give to /sites/hr
    (ROOT + "/sites/hr/emea/Shared Documents/a.json", ROOT + "/sites/hr/emea"),
    # a custom managed path and a OneDrive, which the path alone would give to the root web
    (ROOT + "/projects/apollo/Shared Documents/a.json", ROOT + "/projects/apollo"),
    (ROOT + "/personal/anna_contoso_com/Documents/a.json", ROOT + "/personal/anna_contoso_com"),
])
def test_the_server_says_which_web_holds_a_url(url, web):
    tenant = FakeTenant()
    assert webs.web_url_of(tenant, url) == web
    assert tenant.web_lookups == [url]
    assert tenant.methods() == []  # a static method: no Office365Tenant call


def test_web_and_path_decode_the_path_for_the_file_api():
    tenant = FakeTenant()
    assert webs.web_and_path(tenant, ROOT + "/sites/hr/emea/Shared%20Documents/Log%20%C3%A4/") == (
        ROOT + "/sites/hr/emea", "/sites/hr/emea/Shared Documents/Log ä")


def test_an_answer_that_is_no_web_url_is_an_error(monkeypatch):
    tenant = FakeTenant()
    monkeypatch.setattr(tenant, "_web_of", lambda url: None)
    with pytest.raises(SpoError, match="instead of the URL of a web"):
        webs.web_url_of(tenant, ROOT + "/x")
