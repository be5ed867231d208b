# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

import re
import uuid

import pytest

from ansible_collections.spo.user_profiles.plugins.module_utils import constants


def test_the_pattern_matches_every_form_of_a_uuid():
    value = uuid.uuid4()
    for text in (str(value), str(value).upper()):
        assert re.fullmatch(constants.GUID_PATTERN, text)


@pytest.mark.parametrize("text, expected", [
    ("5f4e7a2c-1111-2222-3333-444455556666", True),
    ("{5F4E7A2C-1111-2222-3333-444455556666}", True),
    ("5f4e7a2c-1111-2222-3333-44445555666", False),
    ("5f4e7a2c111122223333444455556666", False),
    ("5f4e7a2c-1111-2222-3333-444455556666x", False),
    ("g0000000-1111-2222-3333-444455556666", False),
])
def test_guid_text_is_a_whole_guid_in_braces_or_not(text, expected):
    assert bool(constants.GUID_TEXT.match(text)) is expected


@pytest.mark.parametrize("text, expected", [
    ("ann@contoso.com", True),
    ("ann.lee+hr@sub.contoso.co.uk", True),
    ("ann@contoso", False),
    ("ann@b@contoso.com", False),
    ("ann@.contoso.com", False),
    ("ann@contoso.com.", False),
    ("ann lee@contoso.com", False),
    ("@contoso.com", False),
])
def test_a_principal_name_has_one_at_and_a_dotted_domain(text, expected):
    assert bool(re.fullmatch(constants.PRINCIPAL_NAME_PATTERN, text)) is expected
