# -*- coding: utf-8 -*-
# Copyright (c) spo.user_profiles contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

"""Directories on the machine that runs the code (the controller, for the local connection the collection uses) that
a run writes into: whether they can be, found before anything is sent."""

from __future__ import annotations

import os
import tempfile


def directory_problem(path):
    """Why files cannot be written in the directory at path, creating it (and its parents) when missing; None when they
    can. The message names the directory at fault.

    Tried by creating a temporary directory in it, or in the nearest directory that exists, and removing it at once:
    permission bits do not tell (root passes them; a file system such as /proc refuses even root).
    """
    path = os.path.abspath(path)
    existing, missing = path, None
    while not os.path.lexists(existing):
        existing, missing = os.path.dirname(existing), existing
    if not os.path.isdir(existing):
        return "%s is not a directory" % existing
    try:
        os.rmdir(tempfile.mkdtemp(prefix=".spo-probe-", dir=existing))
    except OSError as err:
        if missing:
            return "%s cannot be created (%s)" % (missing, err.strerror or err)
        return "%s cannot be written to (%s)" % (existing, err.strerror or err)
    return None
