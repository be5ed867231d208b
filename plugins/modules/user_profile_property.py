#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright (c) spo.user_profiles contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
---
module: user_profile_property
short_description: Set SharePoint Online user profile properties user by user, writing only what differs
version_added: 1.0.0
description:
  - Sets profile properties through the user profile service (PeopleManager C(SetSingleValueProfileProperty) and
    C(SetMultiValuedProfileProperty)), one user at a time, for what the bulk import API cannot do (multi-valued
    and taxonomy properties, properties users may edit such as C(AboutMe) or C(SPS-Skills), a change needed now).
  - Reads each profile once (C(GetPropertiesFor)), compares, and writes only the properties whose value differs. A rerun
    with the same values sends no write and reports no change.
  - A string sets a single value, a list sets a multi-valued property, V(null) or an empty string clears the property.
    Multi values compare without regard to order unless O(ordered=true).
  - Users come from O(user) with O(properties), from O(profiles), or from a source read record by record
    (O(src) or O(records)) with an id field and a O(property_map), as M(spo.user_profiles.upa_import_file) reads it.
    The whole input is checked before anything is sent; a problem anywhere is reported with its record, line and field,
    and nothing is written. A user given twice (in another case, or once by its claims name) is such a problem.
  - Many users run side by side. The number of requests in flight starts at 4 and grows while the tenant answers
    quickly, is halved when it throttles (HTTP 429 or 503), and every worker waits out a C(Retry-After) together;
    O(concurrency) is the most it may reach.
  - A user fails alone when the service refuses something about that user (no profile, an unknown property, a property
    it will not write); the others go on, and the task fails at the end when more than O(allowed_failures) users
    failed, naming them. A failure that concerns every user (sign-in, permissions, throttling that outlasts the
    retries) stops the run at once, with what was done so far in the result, the properties already written for the
    user it stopped at included.
author:
  - Seed 085825a7 maintainers (@spo-user-profiles)
extends_documentation_fragment:
  - spo.user_profiles.connection
  - spo.user_profiles.users_progress
  - spo.user_profiles.attributes
  - spo.user_profiles.attributes.ACTION_GROUP
  - spo.user_profiles.attributes.PROGRESS_ACTION
attributes:
  check_mode:
    support: full
    description: Reads every profile and reports what would be written; writes nothing.
  diff_mode:
    support: full
    description: Shows, per user that changes, the value of each property before and after.
options:
  user:
    description:
      - The user principal name of one user (V(jdoe@contoso.com)); the claims name (V(i:0#.f|membership|jdoe@contoso.com))
        is built from it. The claims name of a user, in that form, is also accepted as it is; other claims names
        (V(c:0...), or of another form) are refused.
      - A user with a space or an invisible character (such as U+00A0, U+200B or U+FEFF) anywhere, its ends too, is
        refused, naming the character.
      - Requires O(properties). Mutually exclusive with O(profiles), O(src) and O(records).
    type: str
  properties:
    description:
      - Property name to value for O(user). A string (or a number or boolean) sets a single value; a list sets a
        multi-valued property; V(null) or V("") clears it.
      - Numbers and booleans are written as the text M(spo.user_profiles.upa_import_file) writes for them. Booleans are
        V(true) and V(false), integers are written as digits, and the numbers of a JSON source (O(src)) as it writes
        them (V(1.50) stays V(1.50)).
      - A decimal number given in the task, such as V(1.50), is refused, naming the record and property, as
        M(spo.user_profiles.upa_import_file) refuses it. YAML has already turned it into a floating-point number that
        no longer holds the text written (V(1.5)); quote it (V("1.50")) so that it stays text as written.
      - SharePoint reads a property it types as boolean back as V(True) or V(False). A boolean (V(true) in YAML or JSON)
        is taken to be the same value as that text, so a rerun writes nothing. Text is compared as text, so a CSV cell or a
        string V("true") differs from V(True), and is written again on every run; give such a property V(True) or
        V(False) in text.
      - A string for a multi-valued property (see O(multi_value_properties)) is split at O(multi_value_separator).
      - The items of a list are written as they are given. SharePoint joins the items of a multi-valued property with
        V(|) when it reads them, so an empty item, or an item holding V(|), would not read back as written and would be
        written again on every run. Such items, and items with spaces at their ends (which text split at
        O(multi_value_separator) never has), are refused, naming the record, the property and the item. Leave empty
        items out; V([]) clears the property.
      - A property name with a space at either end, or with an invisible character anywhere (a control or format
        character, such as U+200B or U+FEFF, or whitespace other than the space, such as U+00A0), is refused, naming
        the record and the name.
    type: dict
  profiles:
    description: Several users, each with its O(properties).
    type: list
    elements: dict
    suboptions:
      user:
        description: The user principal name, or the claims name of a user, as O(user).
        type: str
        required: true
      properties:
        description: Property name to value, as O(properties).
        type: dict
        required: true
  src:
    description:
      - A CSV (with a header row that names every column), JSON or JSON Lines file on the managed node, with a column
        (field) naming the user (O(id_property)) and the columns that O(property_map) maps to profile properties. Other
        columns are ignored.
      - Empty cells clear the property. The cells of multi-valued properties are split at O(multi_value_separator).
        A list (in a JSON or JSON Lines source, or in O(records)) takes the rules of a list in O(properties).
      - The file is copied once to a private temporary file on the managed node, which is checked and then written from,
        so what is written is what was checked even if O(src) changes while the task runs. The copy is removed at the
        end.
    type: path
  records:
    description: The records of a source inline, a list of dictionaries, instead of O(src).
    type: list
    elements: dict
  format:
    description: Format of O(src); V(auto) decides from the file extension and else from the first characters.
    type: str
    choices: [auto, csv, json, jsonl]
    default: auto
  encoding:
    description:
      - Text encoding of O(src). Bytes that are not valid in it are reported with their record and line.
      - A file whose own bytes say otherwise (a byte order mark of another encoding, UTF-16 without a mark, UTF-8 text
        under a one-byte encoding) is refused, naming the encoding to set.
    type: str
    default: utf-8
  delimiter:
    description:
      - Field delimiter of a CSV source, one character (not a quote or a line break).
      - A CSV value may not hold a line break (a quote missing or one too many would make the rows after it one value);
        give values with line breaks, such as C(AboutMe), in JSON or JSON Lines.
    type: str
    default: ","
  id_property:
    description:
      - The source field holding each user's principal name (or claims name), as O(user) takes it.
      - Required with O(src) and O(records).
    type: str
  property_map:
    description:
      - Source field to profile property. Required with O(src) and O(records).
      - A property with a space at either end of its name, or with an invisible character anywhere, is refused, as in
        O(properties).
    type: dict
  multi_value_properties:
    description:
      - The tenant's own multi-valued properties. SharePoint's standard ones (V(SPS-Skills), V(SPS-Interests),
        V(SPS-PastProjects), V(SPS-School), V(SPS-Responsibility), V(SPS-MemberOf)) are known.
      - A text value for one of them is split at O(multi_value_separator), and clearing one writes an empty list.
      - A name with a space at either end, or with an invisible character anywhere, is refused, as in O(properties).
    type: list
    elements: str
    default: []
  multi_value_separator:
    description:
      - Where a text value of a multi-valued property is split; items are stripped of spaces and empty ones dropped.
        With another separator, an item that holds V(|) is refused, as an item of a list in O(properties) is.
      - The default is the separator SharePoint itself uses when it returns a multi-valued property as one string.
    type: str
    default: "|"
  ordered:
    description: Compare multi values in their order, so a different order is written.
    type: bool
    default: false
  concurrency:
    description:
      - The most requests in flight at once. The run starts below it and adapts to how the tenant answers.
    type: int
    default: 16
  allowed_failures:
    description: How many users may fail before the task fails. Every failed user is in the result either way.
    type: int
    default: 0
  max_problems:
    description: How many problems of the input are listed when it is refused (all are counted).
    type: int
    default: 20
notes:
  - The app needs the SharePoint application permissions C(Sites.FullControl.All) and C(User.ReadWrite.All); the
    module reads them from its access token and fails before the first request to a profile when one is missing.
  - Properties synchronised from Entra ID (such as C(Department)) can be written, but the next synchronisation may
    replace them; change them in Entra ID instead.
  - SharePoint cannot tell a client which properties are multi-valued, only their values; name your own in
    O(multi_value_properties).
seealso:
  - module: spo.user_profiles.user_profile_info
  - module: spo.user_profiles.upa_import_file
"""

EXAMPLES = r"""
- name: Set one person's cost centre and skills now
  spo.user_profiles.user_profile_property:
    tenant: contoso
    client_id: "{{ spo_client_id }}"
    certificate_path: "{{ spo_certificate_path }}"
    user: adele.vance@contoso.com
    properties:
      CostCenter: CC-4711
      SPS-Skills: [Ansible, Python, SharePoint]
      AboutMe: null

# The connection options from module_defaults (group/spo.user_profiles.spo) from here on.
- name: Several users at once
  spo.user_profiles.user_profile_property:
    profiles:
      - user: adele.vance@contoso.com
        properties: {SPS-Interests: [Sailing, Chess]}
      - user: alex.vance@contoso.com
        properties: {SPS-Interests: []}

- name: Skills and certifications of every user from an HR export (cells such as "AZ-104;AZ-900")
  spo.user_profiles.user_profile_property:
    src: "{{ hr_exports }}/skills.csv"
    id_property: upn
    property_map:
      skills: SPS-Skills
      certifications: Certifications
    multi_value_properties: [Certifications]
    multi_value_separator: ";"
    allowed_failures: 10
  register: skills

- name: Preview the changes of a pull request
  spo.user_profiles.user_profile_property:
    src: "{{ hr_exports }}/skills.csv"
    id_property: upn
    property_map:
      skills: SPS-Skills
    multi_value_separator: ";"
  check_mode: true
  diff: true
"""

RETURN = r"""
users:
  description:
    - The users that were written (or would be, in check mode) or failed, in input order. Users already in sync are
      only counted, in RV(summary).
  returned: always
  type: list
  elements: dict
  contains:
    user:
      description: The user principal name.
      type: str
      sample: adele.vance@contoso.com
    changed:
      description: Whether a property of this user was written (or would be, in check mode).
      type: bool
      sample: true
    written:
      description: The properties written (in check mode, that would be written).
      type: list
      elements: str
      sample: [SPS-Skills]
    error:
      description: Why this user failed, with the service's message; null when it did not.
      type: str
      sample: >-
        read profile of ghost@contoso.com: the user has no SharePoint user profile (HTTP 404, UserProfileNotFound)
summary:
  description: Counts over all users, and the number of property writes.
  returned: always
  type: dict
  sample: {"total": 2000, "changed": 500, "unchanged": 1499, "failed": 1, "written": 1500}
failed_users:
  description: The users that failed.
  returned: always
  type: list
  elements: str
  sample: [ghost@contoso.com]
concurrency:
  description:
    - How the number of requests in flight adapted. C(ceiling) is O(concurrency), C(peak) the most reached, C(final)
      where it ended, C(throttled) the answers 429 or 503, C(paused_seconds) the time all workers waited out a
      C(Retry-After).
  returned: when the input was valid
  type: dict
  sample: {"ceiling": 16, "peak": 16, "final": 16, "throttled": 0, "paused_seconds": 0.0}
ignored_fields:
  description: Source fields that are neither the id nor mapped (O(src) and O(records)).
  returned: when the input was valid
  type: list
  elements: str
  sample: [displayName]
problems:
  description: The first O(max_problems) problems of the input, when it was refused; nothing was written then.
  returned: always
  type: list
  elements: dict
  contains:
    record:
      description: Number of the record (or of the entry of O(profiles)), from 1.
      type: int
      sample: 17
    line:
      description:
        - Line of the source file where the record starts, or where the problem was found (the header, a JSON
          syntax error, the JSON document as a whole); null for inline records and for problems with the options.
        - A CR, an LF and a CR LF each end a line.
      type: int
      sample: 18
    field:
      description: The field (or property) concerned.
      type: str
      sample: skills
    message:
      description: What is wrong.
      type: str
      sample: "'jdoe' is not a user principal name (name@domain)"
problem_count:
  description: Number of problems found, all of them.
  returned: always
  type: int
  sample: 0
"""

from ansible_collections.spo.user_profiles.plugins.module_utils import import_readers, import_validation, permissions
from ansible_collections.spo.user_profiles.plugins.module_utils.base import SpoModule, minimum_problems
from ansible_collections.spo.user_profiles.plugins.module_utils.concurrency import DEFAULT_CONCURRENCY
from ansible_collections.spo.user_profiles.plugins.module_utils.errors import SpoError
from ansible_collections.spo.user_profiles.plugins.module_utils.profile_values import DEFAULT_SEPARATOR, PropertyKinds
from ansible_collections.spo.user_profiles.plugins.module_utils.progress import UsersProgress
from ansible_collections.spo.user_profiles.plugins.module_utils.property_inputs import ProfileInput
from ansible_collections.spo.user_profiles.plugins.module_utils.property_sync import PropertySync, failure_message

INPUTS = ("user", "profiles", "src", "records")


def argument_spec():
    return dict(
        user=dict(type="str"),
        properties=dict(type="dict"),
        profiles=dict(type="list", elements="dict", options=dict(
            user=dict(type="str", required=True),
            properties=dict(type="dict", required=True),
        )),
        src=dict(type="path"),
        records=dict(type="list", elements="dict"),
        format=dict(type="str", choices=list(import_readers.FORMATS), default="auto"),
        encoding=dict(type="str", default="utf-8"),
        delimiter=dict(type="str", default=","),
        id_property=dict(type="str"),
        property_map=dict(type="dict"),
        multi_value_properties=dict(type="list", elements="str", default=[]),
        multi_value_separator=dict(type="str", default=DEFAULT_SEPARATOR),
        ordered=dict(type="bool", default=False),
        concurrency=dict(type="int", default=DEFAULT_CONCURRENCY),
        allowed_failures=dict(type="int", default=0),
        max_problems=dict(type="int", default=import_validation.DEFAULT_MAX_PROBLEMS),
        progress_interval=dict(type="int"),
    )


def option_problems(params):
    yield from minimum_problems(params, {"concurrency": 1, "allowed_failures": 0, "max_problems": 1, "progress_interval": 0})
    if not params["multi_value_separator"]:
        yield "multi_value_separator must not be empty"
    for name in params["multi_value_properties"]:
        reason = import_validation.property_name_problem(name)
        if reason:
            yield "multi_value_properties: %s" % reason
    if params["src"] is not None:
        yield from import_readers.option_problems(params["format"], params["encoding"], params["delimiter"])
        message = import_readers.src_problem(params["src"])
        if message:
            yield message


def profile_input(params):
    return ProfileInput(
        PropertyKinds(multi_value=params["multi_value_properties"]), user=params["user"], properties=params["properties"],
        profiles=params["profiles"], src=params["src"], records=params["records"], id_property=params["id_property"],
        property_map=params["property_map"], fmt=params["format"], encoding=params["encoding"],
        delimiter=params["delimiter"], separator=params["multi_value_separator"])


def main():
    module = SpoModule(
        argument_spec(),
        supports_check_mode=True,
        mutually_exclusive=[INPUTS],
        required_one_of=[INPUTS],
        required_together=[("user", "properties")],
        required_by={"properties": "user", "src": ("id_property", "property_map"),
                     "records": ("id_property", "property_map")},
    )
    params = module.params
    module.fail_on_option_problems(option_problems(params))

    with profile_input(params) as inputs:
        _check_and_write(module, params, inputs)


def _check_and_write(module, params, inputs):
    """Check the whole input, then write it (the module exits in here, with its result or failure)."""
    try:
        problems = inputs.check(params["max_problems"])
    except import_readers.ImportFileError as err:
        module.fail_json(msg=str(err), problems=[], problem_count=0)
    if problems.count:
        listed = "; ".join(import_validation.format_problem(found) for found in problems.listed)
        module.fail_json(msg="%d problem(s) in the input, nothing was written: %s%s" % (
            problems.count, listed, "; ..." if problems.count > len(problems.listed) else ""),
            problems=problems.listed, problem_count=problems.count)

    sync = PropertySync(module.client(permissions.PEOPLE_MANAGER), params["concurrency"], ordered=params["ordered"],
                        check_mode=module.check_mode,
                        progress=UsersProgress.of_module(module.module, params["progress_interval"]))
    try:
        result = sync.run(inputs, total=inputs.count)
    except SpoError as err:
        result = dict(err.result or {})
        result.pop("diff", None)
        module.fail_from_error(err, problems=[], problem_count=0, **result)
    diff = result.pop("diff")
    if module.diff_mode:
        result["diff"] = diff
    result.update(problems=[], problem_count=0, ignored_fields=inputs.ignored_fields)
    if result["summary"]["failed"] > params["allowed_failures"]:
        module.fail_json(msg=failure_message(result), **result)
    module.exit_json(**result)


if __name__ == "__main__":
    main()
