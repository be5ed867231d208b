# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

from urllib.parse import unquote

from hypothesis import given, strategies as st

from ansible_collections.spo.user_profiles.plugins.module_utils.odata import alias_param, claims_account, quote_literal


def _unquote_literal(literal):
    """What SharePoint does with a literal: percent-decode, strip the quotes, undouble the quotes."""
    text = unquote(literal)
    assert text[0] == "'" and text[-1] == "'"
    return text[1:-1].replace("''", "'")


def test_quote_literal_examples():
    assert quote_literal("/Shared Documents/O'Neil.json") == "'/Shared%20Documents/O''Neil.json'"
    assert quote_literal("") == "''"
    assert quote_literal("a#b?c&d") == "'a%23b%3Fc%26d'"
    assert quote_literal("Müller") == "'M%C3%BCller'"


def test_claims_account():
    assert claims_account("adele@contoso.com") == "i:0#.f|membership|adele@contoso.com"
    assert claims_account("i:0#.f|membership|adele@contoso.com") == "i:0#.f|membership|adele@contoso.com"
    assert claims_account(" adele@contoso.com ") == "i:0#.f|membership|adele@contoso.com"


def test_alias_param_encodes_claims_for_a_query_string():
    value = alias_param(claims_account("o'neil@contoso.com"))
    assert value == "'i%3A0%23.f%7Cmembership%7Co''neil%40contoso.com'"
    assert "#" not in value and "|" not in value and "&" not in value


@given(st.text())
def test_quote_literal_round_trips(value):
    literal = quote_literal(value)
    assert _unquote_literal(literal) == value
    # Nothing that would end the path segment or start a query/fragment survives unencoded.
    body = literal[1:-1]
    for char in "?#& \"":
        assert char not in body


@given(st.text())
def test_alias_param_round_trips(value):
    param = alias_param(value)
    assert _unquote_literal(param) == value
    for char in "?#&=/ +\"":
        assert char not in param


@given(st.text(min_size=1).filter(lambda text: not text.strip().startswith(("i:0", "c:0"))))
def test_claims_account_is_idempotent(upn):
    once = claims_account(upn)
    assert claims_account(once) == once
    assert once.startswith("i:0#.f|membership|")
