#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright (c) spo.user_profiles contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
module: profile_photo
short_description: Sync user photos to SharePoint Online profile thumbnails and to Exchange/Entra through Microsoft Graph
description:
  - Turns one source photo per user into the three square JPEG thumbnails SharePoint Online shows
    (C({account}_SThumb.jpg), C(_MThumb.jpg), C(_LThumb.jpg), where C({account}) is the user principal name with
    C(@) and C(.) replaced by C(_)) in the My Site host's photo library, and links them to the profile through
    C(PictureURL) and C(SPS-PicturePlaceholderState).
  - Two users whose C({account}) is the same (their names differ only by C(.) and C(_), as V(a.b@contoso.com) and
    V(a_b@contoso.com)) cannot both have SharePoint thumbnails. Both in one task with O(state=present) and
    O(targets) V(sharepoint) are refused with the sources. A user whose thumbnails an earlier run sent for the other
    (the manifest says so) fails its V(sharepoint) target, and those thumbnails are neither replaced nor deleted.
  - Sends the photo, square and at most O(graph_max_px) pixels, re-encoded until it is under 4 MB, to Microsoft Graph
    (C(PUT /users/{upn}/photo/$value)), from where Exchange Online, Teams and Entra ID show it.
  - Sources may be JPEG, PNG, GIF, BMP, TIFF or WebP. EXIF orientation is applied; CMYK, palette and transparent
    images become RGB on white; the photo is cropped to a centred square. Files that are not images, and images
    whose declared size exceeds O(max_pixels) (decompression bombs), are refused with the file named.
  - Many users in one task. Images are prepared in parallel on all processor cores while they are sent, many users
    at once. The number of requests in flight starts low, grows while the tenant answers promptly, and halves when it
    throttles (HTTP 429 or 503), every worker then waiting out its C(Retry-After), up to O(concurrency). One user's
    failure never stops the others; every user is reported, and the task fails at the end if any user failed (see
    O(fail_on_error)).
  - The sources are checked whole before anything is sent. An entry of O(photos), a file of O(src_dir) or a line of
    O(mapping) that is wrong (a user that is no user principal name, a user given two photos, two users whose
    thumbnails would be the same files, a file that maps to no user, a malformed line) fails the task with one message
    naming each, and nothing is sent (see RV(problems)).
  - Only the requests a change needs are sent. For a user the manifest does not know yet, three thumbnail uploads,
    C(PictureURL) and C(SPS-PicturePlaceholderState) (written without reading them first, since a photo being sent
    means they are written anyway) and the Graph photo; for a changed photo of a user it knows, the thumbnails and the
    Graph photo only, the profile already pointing at them.
  - The thumbnails are uploaded before C(PictureURL) is written, as Microsoft's uploader sample does, so that a
    profile never points at thumbnails that are not there. An account without a profile fails at the C(PictureURL)
    write, its thumbnails uploaded; RV(users[].error) names them.
  - Idempotent across machines. A small manifest of source-photo hashes is kept in the tenant, next to the
    thumbnails (C(spo-user-profiles-photo-manifest.json)), read once per run and written once at the end when
    something changed. An unchanged rerun, even from a fresh container, reads the manifest and writes nothing.
    A photo changed in the tenant by other means is not detected; use O(force) to send everything again.
  - Photos sent to Graph can take hours to appear in SharePoint; that is why both targets are written directly.
version_added: 1.0.0
author:
  - Seed 085825a7 maintainers (@spo-user-profiles)
requirements:
  - Pillow
options:
  photos:
    description:
      - The users and their source photos.
      - Mutually exclusive with O(src_dir). With O(state=absent), O(photos[].path) may be left out.
    type: list
    elements: dict
    suboptions:
      user:
        description:
          - The user principal name, for example V(jdoe@contoso.com). A user that is none, or that is in two
            entries, refuses the task.
          - A user with a space at either end, or with an invisible character (a control or format character such as
            U+200B, or whitespace such as U+00A0), refuses the task, as it would look like a user it is not. Users made
            by O(name_format) and the users of O(mapping) are checked the same way (in the mapping, spaces around a
            cell are its layout and ignored).
          - Several users may have the same O(photos[].path) (a default photo); each of them gets it.
        type: str
        required: true
      path:
        description:
          - Path of the source photo on the managed node. Required with O(state=present), and then a file that
            exists.
        type: path
  src_dir:
    description:
      - A directory of source photos (its files with an image extension; not recursive).
      - Each file name becomes a user principal name by O(mapping) if given, otherwise by O(name_format). A file that
        maps to no user, or two files for one user, refuse the task.
      - Mutually exclusive with O(photos).
    type: path
  name_format:
    description:
      - How a file name in O(src_dir) becomes a user principal name.
      - Placeholders, from the file name without its extension; V({upn}) (or V({stem})) is that name unchanged;
        V({first}) and V({last}) are its first and last words (split on spaces and underscores),
        lower-cased, with accents removed (V(Zoë Müller.jpg) gives V(zoe) and V(muller));
        V({middle}) the words in between joined by dots; V({f}) and V({l}) the first letters.
      - Only these plain placeholders are read. Anything else in braces, such as V({upn.real}), V({upn[0]}) or
        V({first:.1}), refuses the task, naming it.
      - A trailing image extension in the format is ignored, so the default V({upn}.jpg) reads
        V(jdoe@contoso.com.png) as well.
      - Example, V({first}.{last}@contoso.com) maps V(John Doe.jpg) to V(john.doe@contoso.com).
    type: str
    default: '{upn}.jpg'
  mapping:
    description:
      - A CSV file in UTF-8 with two columns, file name and user principal name, used instead of O(name_format).
      - The first row is a header, and skipped, only when it reads V(file,upn) (in any case). Every other row maps a
        file; blank lines are skipped. Spaces around a cell are ignored, as in V(ann.jpg, ann@contoso.com).
      - The file name may be given with or without its extension. It is compared with the names in O(src_dir) without
        regard to case, to spaces at its ends or to how accents are encoded; a row that matches several files is
        refused.
      - Several rows may name the same file, and each of their users gets that photo. A user is on one row only.
      - Rows whose file is not in O(src_dir) (a photo archived by an earlier run, for example) are ignored. Files of
        O(src_dir) that are not in the mapping refuse the task.
      - A row with other than two columns, an empty file name, a user that is no user principal name, a quoted value
        over several lines or text that is not UTF-8 refuses the task, its line named (the line it starts on).
    type: path
  state:
    description:
      - V(present) sends the photos. V(absent) deletes the thumbnails, clears C(PictureURL), sets
        C(SPS-PicturePlaceholderState) back to 1 and deletes the Graph photo.
    type: str
    choices: [present, absent]
    default: present
  targets:
    description: Where the photos go.
    type: list
    elements: str
    choices: [sharepoint, graph]
    default: [sharepoint, graph]
  library:
    description:
      - The photo library on the My Site host. Its name is localised with the My Site host's language.
    type: str
    default: User Photos
  folder:
    description: The folder in O(library) for the thumbnails (localised as well, for example V(Profielafbeeldingen)).
    type: str
    default: Profile Pictures
  thumbnail_sizes:
    description: Edge lengths in pixels of the square thumbnails.
    type: dict
    suboptions:
      small:
        description: The C(_SThumb) size.
        type: int
        default: 48
      medium:
        description: The C(_MThumb) size (the one C(PictureURL) points to).
        type: int
        default: 72
      large:
        description: The C(_LThumb) size.
        type: int
        default: 200
  graph_max_px:
    description: The largest edge of the photo sent to Graph; smaller sources are not enlarged.
    type: int
    default: 648
  jpeg_quality:
    description: JPEG quality of the thumbnails and the first try for the Graph photo (lowered until it is under 4 MB).
    type: int
    default: 90
  max_pixels:
    description: Sources whose declared width times height exceeds this are refused as possible decompression bombs.
    type: int
    default: 100000000
  exchange_sync_state:
    description:
      - When set, also writes C(SPS-PictureExchangeSyncState). V(0) stops Exchange from replacing the
        SharePoint picture.
    type: int
    choices: [0, 1]
  force:
    description: Send every photo again, ignoring the manifest.
    type: bool
    default: false
  concurrency:
    description:
      - The most requests in flight at once. The run starts below it and adapts to how the tenant answers; the return
        value RV(concurrency) shows how it adapted.
    type: int
    default: 16
  workers:
    description: How many processes prepare images. Defaults to the number of processor cores.
    type: int
  archive_dir:
    description:
      - Move each source file here once all its targets succeeded (or were already up to date).
        Sources of failed users stay where they are for the next run.
      - No file is ever replaced. A source whose name a file here already has (archived by an earlier run, or another
        source of this run with the same name from another directory) gets a number, as V(photo (2\).jpg);
        RV(users[].archived) says where each went.
    type: path
  fail_on_error:
    description:
      - Fail the task when any user failed. The result lists every user either way.
      - Problems of the sources fail the task whatever this says, before anything is sent.
    type: bool
    default: true
extends_documentation_fragment:
  - spo.user_profiles.connection
  - spo.user_profiles.users_progress
  - spo.user_profiles.attributes
  - spo.user_profiles.attributes.ACTION_GROUP
  - spo.user_profiles.attributes.PROGRESS_ACTION
attributes:
  check_mode:
    support: full
    description:
      - Reports which users would change and why, without sending anything.
      - The photos that would be sent are prepared as in a real run, so that one the run could not use (a truncated
        file, for example) fails its users here too.
  diff_mode:
    support: full
notes:
  - Needs the SharePoint application permissions C(Sites.FullControl.All) and C(User.ReadWrite.All) (PeopleManager
    links the thumbnails; with O(targets=[graph]) only a site permission, for the manifest), and with O(targets)
    C(graph) the Microsoft Graph application permission C(ProfilePhoto.ReadWrite.All) or C(User.ReadWrite.All).
    The permissions are read from the access token's C(roles) claim before anything is changed; a
    missing one fails the task at once, naming it, its API and where to grant it.
  - The manifest is written once at the end of a run; do not run two syncs for the same tenant at the same time.
    When it cannot be written, the task fails reporting every user as it does otherwise (what was written, with
    C(changed)), and the message says what the next run does; no source is archived then.
  - The manifest lives on the My Site host even with O(targets=[graph]), so SharePoint access is needed in every case.
"""

EXAMPLES = r"""
- name: Sync every photo of the HR share (files such as "Adele Vance.jpg"), archiving what was sent
  spo.user_profiles.profile_photo:
    tenant: contoso
    client_id: "{{ spo_client_id }}"
    certificate_path: "{{ spo_certificate_path }}"
    src_dir: "{{ hr_exports }}/photos"
    name_format: "{first}.{last}@contoso.com"
    archive_dir: "{{ hr_exports }}/photos/done"

# The connection options from module_defaults (group/spo.user_profiles.spo) from here on.
- name: Two users of a tenant whose My Site host is Dutch, SharePoint only
  spo.user_profiles.profile_photo:
    tenant: fabrikam
    photos:
      - user: adele.vance@fabrikam.com
        path: "{{ hr_exports }}/fabrikam/adele.jpg"
      - user: alex.vance@fabrikam.com
        path: "{{ hr_exports }}/fabrikam/alex.png"
    targets: [sharepoint]
    folder: Profielafbeeldingen
    exchange_sync_state: 0

- name: Map badge numbers to users through a CSV file
  spo.user_profiles.profile_photo:
    src_dir: "{{ hr_exports }}/badges"
    mapping: "{{ hr_exports }}/badges/people.csv"

- name: Remove the photo of a leaver
  spo.user_profiles.profile_photo:
    state: absent
    photos:
      - user: adele.vance@contoso.com
"""

RETURN = r"""
users:
  description: Every user, with what happened.
  returned: always
  type: list
  elements: dict
  contains:
    user:
      description: The user principal name.
      type: str
      sample: jdoe@contoso.com
    path:
      description: The source file.
      type: str
      sample: /srv/hr/photos/jdoe@contoso.com.jpg
    changed:
      description:
        - Whether anything was (or in check mode would be) changed for this user. A failed user is changed too when a
          target wrote a part of the photo before it failed; RV(users[].error) names those writes.
      type: bool
      sample: true
    action:
      description:
        - V(new) (never sent), V(changed) (the source changed), V(forced), V(removed), V(unchanged) or V(failed).
      type: str
      sample: new
    targets:
      description:
        - Outcome per target, V(updated), V(unchanged), V(removed), V(absent), V(failed), or in check mode
          V(would update) and V(would remove).
      type: dict
      sample: {"sharepoint": "updated", "graph": "failed"}
    error:
      description:
        - Why this user failed, per target, with what the target wrote before it failed, if anything; null when it
          did not.
      type: str
      sample: "graph: set Graph photo of jdoe@contoso.com: User not found (HTTP 404, Request_ResourceNotFound)"
    archived:
      description: Where the source was moved to with O(archive_dir) (in check mode, would be); null otherwise.
      type: str
      sample: /srv/hr/photos/done/jdoe@contoso.com.jpg
summary:
  description: Counts of users.
  returned: always
  type: dict
  sample: {"total": 1200, "changed": 3, "unchanged": 1196, "failed": 1}
failed_users:
  description: The users that failed.
  returned: always
  type: list
  elements: str
  sample: ["ghost@contoso.com"]
manifest_url:
  description: The absolute URL of the manifest in the tenant.
  returned: always
  type: str
  sample: https://contoso-my.sharepoint.com/User%20Photos/Profile%20Pictures/spo-user-profiles-photo-manifest.json
manifest_written:
  description: Whether the manifest was written in this run.
  returned: always
  type: bool
  sample: false
concurrency:
  description:
    - How the number of requests in flight adapted. C(ceiling) is O(concurrency), C(peak) the most reached, C(final)
      where it ended, C(throttled) the answers 429 or 503, C(paused_seconds) the time all workers waited out a
      C(Retry-After).
  returned: always
  type: dict
  sample: {"ceiling": 16, "peak": 16, "final": 16, "throttled": 0, "paused_seconds": 0.0}
problems:
  description:
    - Why the sources were refused, each entry of O(photos), file of O(src_dir) or line of O(mapping) at fault. Nothing
      was sent then.
  returned: when the sources were refused
  type: list
  elements: str
  sample: ["/srv/hr/badges/people.csv line 3: 'jdoe' is not a user principal name (name@domain)"]
"""

from ansible.module_utils.basic import missing_required_lib

from ansible_collections.spo.user_profiles.plugins.module_utils import image_pipeline, photo_sources, photo_sync, photo_targets
from ansible_collections.spo.user_profiles.plugins.module_utils.base import SpoModule, minimum_problems
from ansible_collections.spo.user_profiles.plugins.module_utils.concurrency import DEFAULT_CONCURRENCY
from ansible_collections.spo.user_profiles.plugins.module_utils.errors import SpoError
from ansible_collections.spo.user_profiles.plugins.module_utils.progress import UsersProgress


def argument_spec():
    return dict(
        photos=dict(type="list", elements="dict", options=dict(
            user=dict(type="str", required=True),
            path=dict(type="path"),
        )),
        src_dir=dict(type="path"),
        name_format=dict(type="str", default="{upn}.jpg"),
        mapping=dict(type="path"),
        state=dict(type="str", choices=["present", "absent"], default="present"),
        targets=dict(type="list", elements="str", choices=["sharepoint", "graph"], default=["sharepoint", "graph"]),
        library=dict(type="str", default=photo_targets.DEFAULT_LIBRARY),
        folder=dict(type="str", default=photo_targets.DEFAULT_FOLDER),
        thumbnail_sizes=dict(type="dict", options=dict(
            small=dict(type="int", default=48),
            medium=dict(type="int", default=72),
            large=dict(type="int", default=200),
        )),
        graph_max_px=dict(type="int", default=image_pipeline.DEFAULT_GRAPH_MAX_PX),
        jpeg_quality=dict(type="int", default=image_pipeline.DEFAULT_QUALITY),
        max_pixels=dict(type="int", default=image_pipeline.DEFAULT_MAX_PIXELS),
        exchange_sync_state=dict(type="int", choices=[0, 1]),
        force=dict(type="bool", default=False),
        concurrency=dict(type="int", default=DEFAULT_CONCURRENCY),
        workers=dict(type="int"),
        archive_dir=dict(type="path"),
        fail_on_error=dict(type="bool", default=True),
        progress_interval=dict(type="int"),
    )


def pipeline_settings(params):
    sizes = params["thumbnail_sizes"] or {"small": 48, "medium": 72, "large": 200}
    return image_pipeline.PipelineSettings(
        sizes=(("S", sizes["small"]), ("M", sizes["medium"]), ("L", sizes["large"])),
        graph_max_px=params["graph_max_px"],
        quality=params["jpeg_quality"],
        max_pixels=params["max_pixels"],
    )


def _reported(module, result):
    """The sync's result as the module returns it: the diff only in diff mode."""
    result = dict(result)
    diff = result.pop("diff", None)
    if module.diff_mode and diff is not None:
        result["diff"] = diff
    return result


def main():
    module = SpoModule(
        argument_spec(),
        supports_check_mode=True,
        mutually_exclusive=[("photos", "src_dir")],
        required_one_of=[("photos", "src_dir")],
        required_by={"mapping": "src_dir"},
    )
    params = module.params
    if not image_pipeline.HAS_PIL:
        module.fail_json(msg=missing_required_lib("Pillow"), exception=image_pipeline.PIL_IMP_ERR)
    problems = minimum_problems(params, {"concurrency": 1, "workers": 1, "progress_interval": 0})
    if not params["targets"]:
        problems.append("targets must name at least one of sharepoint, graph")
    if params["state"] == "present" and params["photos"]:
        missing = [item["user"] for item in params["photos"] if not item.get("path")]
        if missing:
            problems.append("photos[].path is required with state=present (missing for %s)" % ", ".join(missing))
    if params["src_dir"] and not params["mapping"]:
        problems.append(photo_sources.name_format_problem(params["name_format"]))
    settings = None
    try:
        settings = pipeline_settings(params)
    except ValueError as err:
        problems.append(str(err))
    module.fail_on_option_problems(problems)
    try:
        present = params["state"] == "present"
        entries, problems = photo_sources.resolve_sources(params["photos"], params["src_dir"], params["name_format"],
                                                          params["mapping"], need_files=present,
                                                          thumbnails=present and "sharepoint" in params["targets"])
    except (OSError, IOError, ValueError) as err:
        module.fail_json(msg="cannot read the sources: %s" % err)
    if problems:
        module.fail_json(msg=photo_sources.refusal_message(problems), problems=problems)

    sync = photo_sync.PhotoSync(module.client(photo_sync.permissions_needed(params["targets"])), {
        "state": params["state"],
        "targets": params["targets"],
        "library": params["library"],
        "folder": params["folder"],
        "settings": settings,
        "force": params["force"],
        "concurrency": params["concurrency"],
        "workers": params["workers"],
        "archive_dir": params["archive_dir"],
        "exchange_sync_state": params["exchange_sync_state"],
        "check_mode": module.check_mode,
        "progress": UsersProgress.of_module(module.module, params["progress_interval"]),
    })
    try:
        result = _reported(module, sync.run(entries))
    except SpoError as err:
        # Raised after the writes too (the manifest not saved): its result reports what was written all the same.
        module.fail_from_error(err, **_reported(module, err.result))
    failed = result["failed_users"]
    if failed and params["fail_on_error"]:
        module.fail_json(msg=photo_sync.failure_message(result), **result)
    module.exit_json(**result)


if __name__ == "__main__":
    main()
