# -*- coding: utf-8 -*-
# Copyright (c) spo.user_profiles contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

"""The profile photo sync of one tenant: decide from the manifest who needs what, prepare the photos (process
pool), send them to each target or remove them (concurrency.run_bounded, the requests in flight adapting to the
tenant's throttling through a concurrency.AdaptiveLimit shared by every worker), and report per user.

Only the requests a change needs are sent: the manifest (one read) says who needs what, that the photo folder exists,
and whose profile already links the thumbnails; a user it does not know yet gets the profile link written without a
read first (see photo_targets.SharePointPhotos.put).
"""

from __future__ import annotations

import os
import shutil

from ansible_collections.spo.user_profiles.plugins.module_utils import permissions
from ansible_collections.spo.user_profiles.plugins.module_utils.concurrency import DEFAULT_CONCURRENCY, AdaptiveLimit, run_bounded
from ansible_collections.spo.user_profiles.plugins.module_utils.errors import SpoError, failed_users_message
from ansible_collections.spo.user_profiles.plugins.module_utils.files import sha256_file
from ansible_collections.spo.user_profiles.plugins.module_utils.image_pipeline import PipelineSettings, prepare_many
from ansible_collections.spo.user_profiles.plugins.module_utils.photo_manifest import (
    MANIFEST_NAME, PhotoManifest, fingerprint, load_manifest, save_manifest,
)
from ansible_collections.spo.user_profiles.plugins.module_utils.photo_targets import (
    DEFAULT_FOLDER, DEFAULT_LIBRARY, TARGETS, GraphPhotos, SharePointPhotos, absolute_url, folder_url, sharepoint_account,
    thumbnail_key,
)
from ansible_collections.spo.user_profiles.plugins.module_utils.progress import UsersProgress


def permissions_needed(targets):
    """What a sync to `targets` needs: the manifest's files on the My Site host always; the thumbnails' profile link
    (PeopleManager) for sharepoint; photo writes for graph."""
    needs = permissions.SITE_FILES
    if "sharepoint" in targets:
        needs += permissions.PEOPLE_MANAGER
    if "graph" in targets:
        needs += permissions.GRAPH_PHOTOS
    return needs


_BEFORE_TEXT = {"new": "no photo sent yet", "changed": "previous photo", "forced": "photo", "removed": "photo"}
_AFTER_TEXT = {"new": "new photo", "changed": "new photo", "forced": "photo sent again", "removed": "no photo"}


def _new_record(entry):
    return {"user": entry["user"], "path": entry.get("path"), "changed": False, "action": "unchanged",
            "targets": {}, "error": None, "archived": None}


def _join_error(existing, message):
    return message if not existing else existing + "; " + message


def _fail_target(record, target, err):
    """A target failed for the user: what it wrote before it failed, if anything (photo_targets), is a change."""
    written = err.result.get("written")
    record["targets"][target] = "failed"
    record["error"] = _join_error(record["error"], "%s: %s%s" % (
        target, err, " (written before it failed: %s)" % ", ".join(written) if written else ""))
    if written:
        record["changed"] = True


def _safe_hash(path):
    try:
        return sha256_file(path)
    except (OSError, IOError) as err:
        return SpoError("%s: cannot read file: %s" % (path, err), operation="prepare photo")


def _free_destination(archive_dir, file_name, check_mode, promised):
    """A path in archive_dir that no file has: the file's name, or failing that "photo (2).jpg", "photo (3).jpg"...
    Outside check mode the path is taken at once, as an empty file the move replaces, so that nothing else takes it;
    in check mode `promised` holds the paths already said for this run's other sources."""
    base, extension = os.path.splitext(file_name)
    number = 1
    while True:
        destination = os.path.join(archive_dir, file_name if number == 1 else "%s (%d)%s" % (base, number, extension))
        number += 1
        if check_mode:
            if not os.path.lexists(destination) and destination not in promised.values():
                return destination
            continue
        try:
            os.close(os.open(destination, os.O_WRONLY | os.O_CREAT | os.O_EXCL))
        except FileExistsError:
            continue
        return destination


def _archive(record, archive_dir, check_mode, promised):
    """Move a source that was sent everywhere into archive_dir (check mode: only say where it would go), never onto
    another file: sources of one run may share a name (/one/photo.jpg, /two/photo.jpg), and an earlier run may have
    archived a photo of the same name. `promised`: {source: destination} of the sources archived so far."""
    source = record["path"]
    try:
        if source not in promised:
            if not check_mode and not os.path.isdir(archive_dir):
                os.makedirs(archive_dir)
            destination = _free_destination(archive_dir, os.path.basename(source), check_mode, promised)
            if not check_mode:
                try:
                    shutil.move(source, destination)
                except BaseException:
                    os.remove(destination)  # the empty file that held the name
                    raise
            promised[source] = destination
        record["archived"] = promised[source]
    except (OSError, IOError, shutil.Error) as err:
        record["error"] = _join_error(record["error"], "archive: %s" % err)


def _result(records, manifest_url, manifest_written, concurrency):
    """The module result of a sync: the records, a summary, the failed users, the manifest, what the limit of requests
    in flight did, and the diff."""
    failed = [record for record in records if record["action"] == "failed"]
    changed = [record for record in records if record["changed"]]
    summary = {
        "total": len(records),
        "changed": len(changed),
        "unchanged": len([record for record in records if record["action"] == "unchanged"]),
        "failed": len(failed),
    }
    return {
        "changed": bool(changed),
        "users": records,
        "summary": summary,
        "failed_users": [record["user"] for record in failed],
        "manifest_url": manifest_url,
        "manifest_written": manifest_written,
        "concurrency": concurrency,
        "diff": _diff(changed),
    }


def failure_message(result):
    """One line for a sync with failed users: each user with the reason."""
    return failed_users_message([(record["user"], record["error"] or "failed")
                                 for record in result["users"] if record["action"] == "failed"], result["summary"]["total"])


def _diff(changed_records):
    diff = {"before": {}, "after": {}}
    for record in changed_records:
        key = record["user"]
        targets = ", ".join("%s %s" % item for item in sorted(record["targets"].items()))
        diff["before"][key] = _BEFORE_TEXT.get(record["action"], "photo")
        diff["after"][key] = "%s (%s)" % (_AFTER_TEXT.get(record["action"], "photo"), targets)
    return diff


class PhotoSync(object):
    """One run of the profile photo sync for one tenant.

    `options` keys: state, targets, library, folder, settings (PipelineSettings), force,
    concurrency (the ceiling of requests in flight), workers, archive_dir, exchange_sync_state, check_mode,
    progress (a progress.UsersProgress).
    """

    def __init__(self, client, options):
        self.client = client
        self.state = options.get("state", "present")
        self.targets = [target for target in TARGETS if target in options.get("targets", TARGETS)]
        self.settings = options.get("settings") or PipelineSettings()
        self.force = bool(options.get("force"))
        self.limit = AdaptiveLimit(options.get("concurrency") or DEFAULT_CONCURRENCY)
        self.progress = options.get("progress") or UsersProgress(None)
        self.workers = options.get("workers")
        self.archive_dir = options.get("archive_dir")
        self.check_mode = bool(options.get("check_mode"))
        self.folder = folder_url(options.get("library", DEFAULT_LIBRARY), options.get("folder", DEFAULT_FOLDER))
        self.sharepoint = SharePointPhotos(client, self.folder, [label for label, _size in self.settings.sizes],
                                           exchange_sync_state=options.get("exchange_sync_state"))
        self._writers = {"sharepoint": self.sharepoint, "graph": GraphPhotos(client)}
        self.manifest = PhotoManifest()
        self._taken = {}

    def run(self, entries):
        """Sync every entry ({"user", "path"}, from sources photo_sources found no problem in); returns the module
        result (without fail decisions)."""
        self.manifest = load_manifest(self.client, self.sharepoint.site_url, self.folder)
        if self.manifest.stored:
            self.sharepoint.folder_ready = True  # the manifest is in it
        self._taken = self._thumbnails_taken(entries)
        records = [_new_record(entry) for entry in entries]
        with self.client.limited_by(self.limit):
            if self.state == "absent":
                self._run_absent(records)
            else:
                self._run_present(entries, records)
        self.progress.finish()
        for record in records:
            self._settle(record)
        manifest_written = self._save_manifest(records)
        # Archived only once the manifest holds what was sent: a source the next run must send again stays.
        # A source shared by several users is archived once every one of them has it.
        failed_paths = set(record["path"] for record in records if record["action"] == "failed")
        promised = {}
        for record in records:
            self._archive_when_done(record, failed_paths, promised)
        return self._result(records, manifest_written)

    def _result(self, records, manifest_written):
        return _result(records, absolute_url(self.client, self.folder + "/" + MANIFEST_NAME), manifest_written,
                       self.limit.stats())

    def _save_manifest(self, records):
        """Write the manifest when it changed (not in check mode); whether it was written. When it cannot be, the error
        raised holds the result (what was written for each user) and says what the next run does."""
        if not self.manifest.dirty or self.check_mode:
            return False
        try:
            self.sharepoint.ensure_folder()
            save_manifest(self.client, self.sharepoint.site_url, self.folder, self.manifest)
        except SpoError as err:
            if self.state == "absent":
                what = ("the photos were removed (see users), but the photo manifest was not saved: it still lists them "
                        "as sent, so a user given a photo again needs force: true")
            else:
                what = ("the photos were sent (see users), but the photo manifest was not saved: the next run does not "
                        "know they were, and sends them again%s" % ("; no source was archived" if self.archive_dir else ""))
            raise err.replace(message="%s; %s" % (err.message, what), result=self._result(records, False)) from err
        return True

    def _thumbnails_taken(self, entries):
        """{thumbnail_key: user} of the users outside this run to whom an earlier run sent SharePoint thumbnails (the
        manifest says so). Users of one run who would share thumbnails were refused with the sources."""
        if "sharepoint" not in self.targets:
            return {}
        in_run = set(entry["user"].lower() for entry in entries)
        return dict((thumbnail_key(upn), upn) for upn, sent in self.manifest.users.items()
                    if "sharepoint" in sent and upn not in in_run)

    def _thumbnails_of_another(self, record):
        """Fail the user's SharePoint target, sending nothing there, when its thumbnails are another user's: writing
        them would show this photo for that user, deleting them would take that user's photo away."""
        upn = record["user"]
        holder = self._taken.get(thumbnail_key(upn))
        if holder is None:
            return False
        record["targets"]["sharepoint"] = "failed"
        record["error"] = _join_error(record["error"], (
            "sharepoint: its thumbnails would be %s_SThumb.jpg, _MThumb.jpg and _LThumb.jpg, which an earlier run sent "
            "for %s; they were left alone (send %s with targets: [graph], or remove the photo of %s first)"
            % (sharepoint_account(upn), holder, upn, holder)))
        return True

    # -- present ---------------------------------------------------------------------------

    def _plan_present(self, entries, records):
        """Hash sources and decide per user which targets need a write. Returns [(record, needed)]."""
        # A source shared by several users (a default avatar) is hashed once.
        paths = list(dict.fromkeys(entry["path"] for entry in entries if entry.get("path")))
        hashes = dict(run_bounded(_safe_hash, paths, max(2, self.limit.ceiling)))
        work = []
        for entry, record in zip(entries, records):
            path = entry.get("path")
            if not path:
                record["action"] = "failed"
                record["error"] = "no source photo path for this user"
                continue
            digest = hashes[path]
            if isinstance(digest, SpoError):
                record["action"] = "failed"
                record["error"] = str(digest)
                continue
            needed = self._needed(entry["user"], record, fingerprint(digest, self.settings))
            if needed:
                work.append((record, needed))
        return work

    def _needed(self, upn, record, value):
        """The targets that need this photo (value: its fingerprint); sets the record's action when there are any."""
        needed = []
        reasons = set()
        for target in self.targets:
            if target == "sharepoint" and self._thumbnails_of_another(record):
                continue
            known = self.manifest.get(upn, target)
            if self.force:
                needed.append(target)
                reasons.add("forced")
            elif known != value:
                needed.append(target)
                reasons.add("new" if known is None else "changed")
            else:
                record["targets"][target] = "unchanged"
        if needed:
            record["action"] = next(reason for reason in ("changed", "new", "forced") if reason in reasons)
        return needed

    def _run_present(self, entries, records):
        work = self._plan_present(entries, records)
        self.progress.start(len(work), self.limit)
        if self.check_mode:
            # Prepared as in a real run, so that a photo the run cannot use fails here too (a truncated JPEG has a good
            # header); nothing is sent.
            for record, needed, _prepared in self._prepared(work):
                record["changed"] = True
                for target in needed:
                    record["targets"][target] = "would update"
                self.progress.advance()
            return
        for _item, _sent in run_bounded(self._apply_present, self._prepared(work), self.limit.ceiling):
            self.progress.advance()

    def _prepared(self, work):
        """(record, needed, prepared photo) of each user whose photo could be prepared, as the process pool finishes
        them; a photo that cannot be prepared fails its users here."""
        # Users may share a source file (a default avatar): it is prepared once and sent for each of them.
        by_path = {}
        for record, needed in work:
            by_path.setdefault(record["path"], []).append((record, needed))
        # The process pool forks its workers at the first submit, before any upload thread exists.
        for path, ok, result in prepare_many(list(by_path), self.settings, self.workers):
            for record, needed in by_path[path]:
                if ok:
                    yield record, needed, result
                    continue
                record["error"] = str(result)
                for target in needed:
                    record["targets"][target] = "failed"
                self.progress.advance()

    def _apply_present(self, item):
        record, needed, prepared = item
        upn = record["user"]
        value = fingerprint(prepared["sha256"], self.settings)
        for target in needed:
            try:
                self._writers[target].put(upn, prepared, linked=self._linked(upn, target))
            except SpoError as err:
                _fail_target(record, target, err)
                continue
            record["targets"][target] = "updated"
            record["changed"] = True
            self.manifest.record(upn, target, value)

    def _linked(self, upn, target):
        """Whether the target already shows this user a photo sent by an earlier run (the manifest has one), so that
        only the photo itself changes; never with force, which is there to repair what changed by other means."""
        return not self.force and self.manifest.get(upn, target) is not None

    # -- absent ----------------------------------------------------------------------------

    def _run_absent(self, records):
        self.progress.start(len(records), self.limit)
        for _record, _removed in run_bounded(self._apply_absent, records, self.limit.ceiling):
            self.progress.advance()

    def _apply_absent(self, record):
        upn = record["user"]
        for target in self.targets:
            if target == "sharepoint" and self._thumbnails_of_another(record):
                continue
            try:
                removed = self._writers[target].remove(upn, self.check_mode)
            except SpoError as err:
                _fail_target(record, target, err)
                continue
            if removed:
                record["targets"][target] = "would remove" if self.check_mode else "removed"
                record["changed"] = True
                record["action"] = "removed"
            else:
                record["targets"][target] = "absent"
            if not self.check_mode:
                self.manifest.forget(upn, target)

    # -- the outcome -----------------------------------------------------------------------

    def _settle(self, record):
        """A record with a failed target fails."""
        if record["error"] is not None or any(value == "failed" for value in record["targets"].values()):
            record["action"] = "failed"

    def _archive_when_done(self, record, failed_paths, promised):
        """A source sent everywhere for every user that has it is archived when asked."""
        if (self.archive_dir and record.get("path") and self.state == "present" and record["action"] != "failed"
                and record["path"] not in failed_paths and os.path.exists(record["path"])):
            _archive(record, self.archive_dir, self.check_mode, promised)
            if record["archived"]:
                record["changed"] = True
            if record["error"]:
                record["action"] = "failed"
