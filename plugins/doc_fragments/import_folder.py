# -*- coding: utf-8 -*-
# Copyright (c) spo.user_profiles contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations


class ModuleDocFragment:
    # Where the import files live (spo.user_profiles.import_folder), for the modules that write, record or remove them.
    # Keep in step with FOLDER_OPTIONS in plugins/module_utils/import_location.py.
    DOCUMENTATION = r"""
options:
  site:
    description:
      - The site whose document library holds the import files, as an absolute URL or a server-relative path
        (V(/sites/hr)). The default is the tenant's root site.
      - It must be in the same tenant as the profiles; a site of another tenant is refused before anything is sent.
    type: str
  folder:
    description:
      - The import folder, relative to O(site), starting with the library (V(Shared Documents) is the default library
        of a site).
      - Names with C(#) or C(%) (which the bulk API's source URI cannot carry reliably) or with characters SharePoint
        refuses are refused before anything is sent.
    type: str
    default: Shared Documents/ProfileImport
"""
