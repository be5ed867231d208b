# -*- coding: utf-8 -*-
# Copyright (c) spo.user_profiles contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

"""The target properties of an import checked against the tenant before its file is uploaded.

The service checks a job's property map only when the job is queued ("Property Names [X] do not exist"), after the
file was uploaded and its job record written. No client API lists a tenant's profile properties (profile_values.py),
but a profile can be read: GetPropertiesFor names the properties it answers, and GetUserProfilePropertyFor refuses a
property the tenant does not define (docs/protocol_notes.md, "PeopleManager errors"). So the profile of one user of
the file is read, and each target it does not name is asked for by name: a few requests per run, whatever the
number of users.
"""

from __future__ import annotations

import difflib
import itertools

from ansible_collections.spo.user_profiles.plugins.module_utils import permissions
from ansible_collections.spo.user_profiles.plugins.module_utils._json_stream import array_items
from ansible_collections.spo.user_profiles.plugins.module_utils.errors import SpoError
from ansible_collections.spo.user_profiles.plugins.module_utils.import_validation import problem
from ansible_collections.spo.user_profiles.plugins.module_utils.profiles import (
    NO_PROFILE_CODE, get_properties, read_property, unknown_property,
)

# Users of the file whose profile is read before the check gives up (one request each when there is none).
MAX_USERS_TRIED = 3
# The id types whose ids address a profile (as claims, i:0#.f|membership|<id>).
_PROFILE_ID_TYPES = ("email", "principal_name")
_UNCHECKED = ("the targets of property_map were not checked against the tenant's user profile properties (%s); a "
              "target the tenant does not have is found only when the import job is queued, after the upload")


def _first_ids(built_files, id_property, count):
    """The ids of the first `count` users of the files (ImportFileWriter's files: the records are read one by one)."""
    ids = []
    for built in built_files:
        with open(built["path"], "r", encoding="utf-8-sig") as stream:
            for record in itertools.islice(array_items(stream), count - len(ids)):
                ids.append(record[id_property])
        if len(ids) == count:
            break
    return ids


def _profile(client, ids):
    """(id, its profile's property names by their lower case) of the first of `ids` that has a profile, or None."""
    for user_id in ids:
        try:
            return user_id, dict((str(name).lower(), str(name)) for name in get_properties(client, user_id))
        except SpoError as err:
            if err.code != NO_PROFILE_CODE:
                raise
    return None


def _unknown(client, user_id, names, field, target):
    """The problem of a target the tenant does not define, or None: a name the profile answered exists; another is
    read by name."""
    if target.lower() in names:
        return None
    try:
        read_property(client, user_id, target)
    except SpoError as err:
        if not unknown_property(err):
            raise
        like = difflib.get_close_matches(target.lower(), sorted(names), n=1)
        message = ('target property %s does not exist in the tenant\'s user profiles (property_map: %s -> %s); '
                   'reading it for %s, the service answered "%s"%s. Check the name in the SharePoint admin center, '
                   'User profiles > Manage User Properties' % (target, field, target, user_id, err.message,
                                                               "; the profile has %s" % names[like[0]] if like else ""))
        return problem(None, None, field, message)
    return None


def unknown_targets(client, built_files, id_property, property_map, id_type):
    """(problems, warning): a problem for each target of property_map the tenant does not define, read from a user of
    built_files (ImportFileWriter's files); or a warning saying why the targets could not be checked (none when the
    ids address no profile: id_type neither email nor principal_name).

    A refusal of the service other than an unknown property or a user without a profile is raised (SpoError), except a
    403: the upload itself needs no permission to read profiles, so the check is left out then, with the warning.
    """
    if id_type not in _PROFILE_ID_TYPES:
        # Ids that address no profile: the check can never run for this mapping, which the module's documentation says;
        # a warning on every run would tell the user nothing new.
        return [], None
    missing = permissions.missing_permissions(client, permissions.PEOPLE_MANAGER)
    if missing:
        lacks = " and ".join(need.roles[0] for need in missing)
        return [], _UNCHECKED % ("reading a profile needs the SharePoint application permissions Sites.FullControl.All "
                                 "and User.ReadWrite.All; the app lacks %s" % lacks)
    ids = _first_ids(built_files, id_property, MAX_USERS_TRIED)
    try:
        found = _profile(client, ids)
        if found is None:
            return [], _UNCHECKED % ("none of the first %d users of the import has a SharePoint user profile to "
                                     "read: %s" % (len(ids), ", ".join(ids)))
        problems = [_unknown(client, found[0], found[1], field, target) for field, target in property_map.items()]
    except SpoError as err:
        if err.status != 403:
            raise
        return [], _UNCHECKED % ("reading a profile was refused: %s" % err.message)
    return [item for item in problems if item is not None], None
