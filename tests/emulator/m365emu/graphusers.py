"""Microsoft Graph users: one user, and the list with $select, $filter, $top, $count and @odata.nextLink paging.

$filter takes what Graph's default (not "advanced") queries take on these properties: `eq` and `in` on
userPrincipalName, mail, id, displayName, givenName, surname, userType and accountEnabled, `startswith` on
the string ones, clauses joined with `and` / `or` and grouped in parentheses, at most 15 expressions (each value
of an `in` counts).
Anything else answers 400 Request_UnsupportedQuery, as Graph does for a clause it does not support.
"""

import base64
import re
from urllib.parse import quote

from .web import HttpError, graph_error, json_response

GRAPH_BASE = "https://graph.microsoft.com/v1.0"
DEFAULT_PAGE = 100
MAX_PAGE = 999
MAX_FILTER_EXPRESSIONS = 15
DEFAULT_SELECT = ("businessPhones", "displayName", "givenName", "jobTitle", "mail", "mobilePhone",
                  "officeLocation", "preferredLanguage", "surname", "userPrincipalName", "id")
# filterable property -> (its value for a user, whether startswith applies)
_FILTERABLE = {
    "userprincipalname": (lambda user: user["upn"], True),
    "mail": (lambda user: user.get("mail"), True),
    "id": (lambda user: user["object_id"], False),
    "displayname": (lambda user: user.get("display_name"), True),
    "givenname": (lambda user: user.get("given_name"), True),
    "surname": (lambda user: user.get("surname"), True),
    "usertype": (lambda user: "Guest" if user.get("guest") else "Member", False),
    "accountenabled": (lambda user: user.get("account_enabled", True), False),
}
_TOKEN = re.compile(r"\s*(?:(?P<string>'(?:[^']|'')*')|(?P<word>[A-Za-z_][\w.]*)|(?P<punct>[(),]))")


def user_entity(user, select):
    phone = user.get("phone")
    full = {
        "id": user["object_id"],
        "userPrincipalName": user["upn"],
        "displayName": user.get("display_name"),
        "givenName": user.get("given_name") or None,
        "surname": user.get("surname") or None,
        "mail": user.get("mail"),
        "jobTitle": user.get("job_title") or None,
        "department": user.get("department") or None,
        "officeLocation": user.get("office") or None,
        "businessPhones": [phone] if phone else [],
        "mobilePhone": None,
        "preferredLanguage": None,
        "userType": "Guest" if user.get("guest") else "Member",
        "accountEnabled": user.get("account_enabled", True),
        "employeeId": user.get("employee_id"),
    }
    return {name: full.get(name) for name in select}


def selected(params):
    raw = params.get("$select")
    if not raw:
        return DEFAULT_SELECT
    return tuple(name.strip() for name in raw.split(",") if name.strip())


def get_user(user, params):
    entity = {"@odata.context": GRAPH_BASE + "/$metadata#users/$entity"}
    entity.update(user_entity(user, selected(params)))
    return json_response(200, entity)


def list_users(tenant, params):
    try:
        top = int(params.get("$top") or DEFAULT_PAGE)
    except ValueError:
        raise HttpError(graph_error(400, "BadRequest", "Invalid value for $top."))
    if not 1 <= top <= MAX_PAGE:
        raise HttpError(graph_error(400, "Request_UnsupportedQuery", "Invalid page size specified: '%d'. Must be "
                                    "between 1 and %d inclusive." % (top, MAX_PAGE)))
    offset = 0
    if params.get("$skiptoken"):
        try:
            offset = int(base64.urlsafe_b64decode(params["$skiptoken"].encode() + b"==").decode().split(":")[1])
        except (ValueError, IndexError, UnicodeDecodeError):
            raise HttpError(graph_error(400, "Directory_InvalidPagingToken", "The paging token is invalid."))
    select = selected(params)
    users = filtered(tenant.users, params.get("$filter"))
    page = users[offset:offset + top]
    body = {"@odata.context": GRAPH_BASE + "/$metadata#users",
            "value": [user_entity(user, select) for user in page]}
    if offset + top < len(users):
        token = base64.urlsafe_b64encode(("users:%d" % (offset + top)).encode()).decode().rstrip("=")
        query = {"$top": str(top), "$skiptoken": token}
        for key in ("$select", "$filter"):
            if params.get(key):
                query[key] = params[key]
        body["@odata.nextLink"] = GRAPH_BASE + "/users?" + "&".join(
            "%s=%s" % (key, quote(value, safe=",")) for key, value in query.items())
    if params.get("$count") == "true":
        body["@odata.count"] = len(users)
    return json_response(200, body)


# --------------------------------------------------------------------------- $filter
def _unsupported():
    return HttpError(graph_error(400, "Request_UnsupportedQuery", "Unsupported or invalid query filter clause "
                                 "specified for property of resource 'User'."))


def _tokens(expression):
    tokens, position = [], 0
    while position < len(expression):
        if expression[position:].strip() == "":
            break
        match = _TOKEN.match(expression, position)
        if not match:
            raise _unsupported()
        kind = match.lastgroup
        tokens.append((kind, match.group(kind)))
        position = match.end()
    return tokens


def _literal(token):
    kind, text = token
    if kind == "string":
        return text[1:-1].replace("''", "'")
    if kind == "word" and text.lower() in ("true", "false"):
        return text.lower() == "true"
    raise _unsupported()


class _Parser:
    """A $filter as a tree: ("or", [...]), ("and", [...]) or a clause ("eq" | "startswith", property, values)."""

    def __init__(self, expression):
        self.tokens = _tokens(expression)
        self.position = 0
        self.expressions = 0

    def _peek(self):
        return self.tokens[self.position][1].lower() if self.position < len(self.tokens) else None

    def _next(self):
        if self.position >= len(self.tokens):
            raise _unsupported()
        self.position += 1
        return self.tokens[self.position - 1]

    def _expect(self, text):
        if self._next()[1].lower() != text:
            raise _unsupported()

    def _property(self, token):
        if token[0] != "word" or token[1].lower() not in _FILTERABLE:
            raise _unsupported()
        return token[1].lower()

    def _joined(self, joiner, operand):
        operands = [operand()]
        while self._peek() == joiner:
            self._next()
            operands.append(operand())
        return operands[0] if len(operands) == 1 else (joiner, operands)

    def _or(self):
        return self._joined("or", self._and)

    def _and(self):
        return self._joined("and", self._operand)

    def _operand(self):
        if self._peek() == "(":
            self._next()
            node = self._or()
            self._expect(")")
            return node
        return self._clause()

    def _clause(self):
        first = self._next()
        if first[0] == "word" and first[1].lower() == "startswith":
            self._expect("(")
            name = self._property(self._next())
            self._expect(",")
            prefix = _literal(self._next())
            self._expect(")")
            if not _FILTERABLE[name][1] or not isinstance(prefix, str):
                raise _unsupported()
            self.expressions += 1
            return ("startswith", name, [prefix])
        name = self._property(first)
        operator = self._next()[1].lower()
        if operator == "eq":
            values = [_literal(self._next())]
        elif operator == "in":
            self._expect("(")
            values = [_literal(self._next())]
            while True:
                separator = self._next()[1]
                if separator == ")":
                    break
                if separator != ",":
                    raise _unsupported()
                values.append(_literal(self._next()))
        else:
            raise _unsupported()
        if any(isinstance(value, bool) != (name == "accountenabled") for value in values):
            raise _unsupported()
        self.expressions += len(values)
        return ("eq", name, values)

    def parse(self):
        tree = self._or()
        if self.position < len(self.tokens):
            raise _unsupported()
        if self.expressions > MAX_FILTER_EXPRESSIONS:
            raise HttpError(graph_error(400, "Request_UnsupportedQuery", "The filter has %d expressions; at most %d "
                                        "are supported." % (self.expressions, MAX_FILTER_EXPRESSIONS)))
        return tree


def _matches(user, node):
    kind = node[0]
    if kind in ("and", "or"):
        results = (_matches(user, operand) for operand in node[1])
        return all(results) if kind == "and" else any(results)
    _kind, name, values = node
    actual = _FILTERABLE[name][0](user)
    if isinstance(actual, bool):
        return actual in values
    actual = (actual or "").lower()
    if kind == "startswith":
        return actual.startswith(values[0].lower())
    return actual in {value.lower() for value in values}


def filtered(users, expression):
    """The users a $filter selects (Graph compares these strings without regard to case)."""
    if not expression:
        return users
    tree = _Parser(expression).parse()
    return [user for user in users if _matches(user, tree)]
