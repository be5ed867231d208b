"""OData URLs as SharePoint REST reads them: query strings, literals, and the path segments after /_api/."""

import re
from urllib.parse import unquote_plus


class BadRequest(Exception):
    """A URL SharePoint would refuse as not valid (the router answers 400 InvalidClientQueryException)."""


def bad_request(message):
    return BadRequest(message)


class Segment:
    """One path segment: a name, optionally called like a function with positional/named arguments."""

    def __init__(self, name, args=None, named=None):
        self.name = name
        self.lname = name.lower()
        self.args = args          # None when the segment had no parentheses
        self.named = named or {}  # lower-case names

    def arg(self, name, position=None, default=None):
        key = name.lower()
        if key in self.named:
            return self.named[key]
        if position is not None and self.args is not None and position < len(self.args):
            return self.args[position]
        return default

    def __repr__(self):
        return "Segment(%r, %r, %r)" % (self.name, self.args, self.named)


def parse_query(raw):
    result = {}
    if not raw:
        return result
    for part in raw.split("&"):
        if not part:
            continue
        key, _sep, value = part.partition("=")
        # query strings are form-encoded: '+' is a space, as ASP.NET decodes it
        result[unquote_plus(key).lower()] = unquote_plus(value)
    return result


def _find_close(text, start):
    """Index of the ')' matching the '(' at text[start], skipping quoted literals."""
    depth = 0
    in_quote = False
    i = start
    while i < len(text):
        char = text[i]
        if in_quote:
            if char == "'":
                if i + 1 < len(text) and text[i + 1] == "'":
                    i += 2
                    continue
                in_quote = False
        elif char == "'":
            in_quote = True
        elif char == "(":
            depth += 1
        elif char == ")":
            depth -= 1
            if depth == 0:
                return i
        i += 1
    return -1


def _split_args(text):
    parts, current, in_quote, i = [], [], False, 0
    while i < len(text):
        char = text[i]
        if in_quote:
            current.append(char)
            if char == "'":
                if i + 1 < len(text) and text[i + 1] == "'":
                    current.append("'")
                    i += 2
                    continue
                in_quote = False
        elif char == "'":
            in_quote = True
            current.append(char)
        elif char == ",":
            parts.append("".join(current))
            current = []
        else:
            current.append(char)
        i += 1
    parts.append("".join(current))
    return [p.strip() for p in parts if p.strip() != ""]


_NAMED_ARG = re.compile(r"^([A-Za-z_@$][\w.]*)\s*=\s*(.*)$", re.S)


def parse_literal(text, aliases):
    """An OData literal: 'str' (with '' for '), guid'..', X'..', true/false, null, numbers, @alias."""
    text = text.strip()
    if text.startswith("@"):
        if text.lower() not in aliases:
            raise bad_request("The parameter alias %s is not defined." % text)
        return parse_literal(aliases[text.lower()], {})
    match = re.match(r"^([A-Za-z]*)'(.*)'$", text, re.S)
    if match:
        return match.group(2).replace("''", "'")
    lowered = text.lower()
    if lowered == "true":
        return True
    if lowered == "false":
        return False
    if lowered == "null":
        return None
    number = re.match(r"^-?\d+[lL]?$", text)
    if number:
        return int(text.rstrip("lL"))
    raise bad_request("The expression \"%s\" is not valid." % text)


def parse_segments(api_path, aliases):
    """Split the decoded path after /_api/ into Segment objects (quotes may contain '/' and parentheses)."""
    segments = []
    i = 0
    while i < len(api_path):
        j = i
        while j < len(api_path) and api_path[j] not in "/(":
            j += 1
        name = api_path[i:j].strip()
        args = None
        named = {}
        if j < len(api_path) and api_path[j] == "(":
            close = _find_close(api_path, j)
            if close < 0:
                raise bad_request("The expression \"%s\" is not valid." % api_path)
            args = []
            for part in _split_args(api_path[j + 1:close]):
                match = _NAMED_ARG.match(part)
                if match and not part.startswith("'"):
                    named[match.group(1).lower()] = parse_literal(match.group(2), aliases)
                else:
                    args.append(parse_literal(part, aliases))
            j = close + 1
        if j < len(api_path) and api_path[j] != "/":
            raise bad_request("The expression \"%s\" is not valid." % api_path)
        if name or args is not None:
            segments.append(Segment(name, args, named))
        i = j + 1
    return segments
