# -*- coding: utf-8 -*-
# Copyright (c) spo.user_profiles contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

"""The patterns shared by every concern that meets them: GUIDs (job ids, log folder names, Entra object ids), user
principal names (import ids, photo and profile users) and the text of a PEM file given where its path belongs."""

from __future__ import annotations

import re

# A GUID in its 8-4-4-4-12 form, without anchors or braces, for composing; valid in Python and in ECMA-262.
GUID_PATTERN = r"[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}"
# A whole text that is a GUID, in braces or not (CSOM and .NET write "{...}").
GUID_TEXT = re.compile(r"^\{?%s\}?$" % GUID_PATTERN)
# A user principal name (or an email address) without anchors: one @, a domain with a dot that neither starts nor ends
# it, no whitespace; valid in Python and in ECMA-262.
PRINCIPAL_NAME_PATTERN = r"[^@\s]+@[^@\s.][^@\s]*\.[^@\s]*[^@\s.]"
# What the text of a PEM file (a private key, maybe) holds and a path does not: a path option holding it is a secret.
PEM_TEXT_MARKER = "-----BEGIN"
