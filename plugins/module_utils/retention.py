# -*- coding: utf-8 -*-
# Copyright (c) spo.user_profiles contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

"""Retention of the import folder for one file name prefix: remove the prefix's old import files with their job
records, delete the service's records of their jobs (DeleteImportProfilePropertiesJob) and remove the jobs' log
folders; never what a running job needs, what is named in keep, or another prefix's files.

The service keeps no timestamps for jobs: a job is as old as its record beside the import file (written when it was
queued) or its log folder (written when it ended). Jobs are found from those, not from the tenant's job list, which
nothing else empties and which SharePoint refuses to list past its list view threshold: retention is the way back
under it. Only an old import file without a record (from before job records, or never queued) needs the job list, to
know whether a job still reads it; when the service refuses the list, such a file is kept.
"""

from __future__ import annotations

import datetime

from ansible_collections.spo.user_profiles.plugins.module_utils import files as spo_files
from ansible_collections.spo.user_profiles.plugins.module_utils import import_location, import_upload
from ansible_collections.spo.user_profiles.plugins.module_utils import job_api
from ansible_collections.spo.user_profiles.plugins.module_utils import job_records
from ansible_collections.spo.user_profiles.plugins.module_utils.errors import SpoError
from ansible_collections.spo.user_profiles.plugins.module_utils.import_writer import name_pattern
from ansible_collections.spo.user_profiles.plugins.module_utils.job_log import log_folder_name

# The options of a clean-up, as upa_retention takes them (and documents them: keep both in step).
ARGUMENT_SPEC = dict(
    **import_location.FOLDER_OPTIONS,
    name=dict(type="str", required=True),
    older_than_days=dict(type="int", required=True),
    keep=dict(type="list", elements="str", default=[]),
    remove_logs=dict(type="bool", default=True),
)


def parse_time(value):
    """SharePoint's TimeLastModified ("2026-01-02T03:04:05Z") as an aware UTC datetime; None when unknown."""
    if not value:
        return None
    text = str(value).replace("Z", "+00:00")
    try:
        moment = datetime.datetime.fromisoformat(text)
    except ValueError:
        return None
    return moment if moment.tzinfo else moment.replace(tzinfo=datetime.timezone.utc)


# 100 years: older than any SharePoint file, and a cutoff a date can still hold (past year 1 it cannot).
MAX_DAYS = 36500


def option_problems(options):
    """What is wrong with the options of ARGUMENT_SPEC, checked before connecting (None entries stand for fine ones)."""
    days = options["older_than_days"]
    return [None if 1 <= days <= MAX_DAYS else
            "older_than_days must be from 1 to %d (100 years), not %d" % (MAX_DAYS, days),
            # the prefix is matched in file and folder names: one that cannot name an import file matches none
            import_location.name_problem("name", options["name"])]


class _Plan:
    """What retention removes from one import folder for one prefix, and what it keeps because a job needs it."""

    def __init__(self, client, site_url, prefix, keep, cutoff):
        self.client = client
        self.site_url = site_url
        self.keep = {name.lower() for name in keep}
        self.cutoff = cutoff
        self.prefix = prefix
        self.import_pattern = name_pattern(prefix)
        self.record_pattern = job_records.record_pattern(prefix)
        self.jobs = {}             # job id -> the job as the service has it, None when it knows none
        self.prefix_job_ids = set()
        self.remove_files, self.remove_folders, self.protected = [], [], []
        self.delete_jobs = set()
        self.notices = []

    def _kept(self, name):
        return (name or "").lower() in self.keep

    def _kept_job(self, job_id):
        """A job named in keep, or whose source the service names as a kept file."""
        if self._kept(job_id):
            return True
        job = self._job(job_id)
        return job is not None and self._kept(job_api.source_file_name(job.get("source_uri")))

    def _old(self, item):
        moment = parse_time(item.get("time_last_modified"))
        return moment is not None and moment < self.cutoff and not self._kept(item["name"])

    def _job(self, job_id):
        if job_id not in self.jobs:
            self.jobs[job_id] = job_api.get_job(self.client, job_id)
        return self.jobs[job_id]

    def _running(self, job_ids):
        return any((self._job(job_id) or {}).get("state") not in (None,) + job_api.TERMINAL_STATES for job_id in job_ids)

    def _record_jobs(self, record):
        job_ids = job_records.recorded_job_ids(self.client, self.site_url, record["server_relative_url"])
        self.prefix_job_ids.update(job_ids)
        return job_ids

    def _listed_jobs(self, unrecorded):
        """{file name: job ids} of import files without a record, from the job list; None per file when the service
        refuses the list (past its list view threshold)."""
        try:
            listed = job_api.list_jobs(self.client)
        except SpoError as err:
            if not job_api.is_past_list_view_threshold(err):
                raise
            self.notices.append("kept %d old import file(s) without a job record (%s): whether a job still reads them "
                                "is only in the job list, which the service refuses past its list view threshold"
                                % (len(unrecorded), ", ".join(sorted(item["name"] for item in unrecorded))))
            return dict((item["name"].lower(), None) for item in unrecorded)
        by_file = {}
        for job in listed:
            self.jobs.setdefault(job["job_id"], job)
            by_file.setdefault(job_api.source_file_name(job["source_uri"]).lower(), []).append(job["job_id"])
        found = dict((item["name"].lower(), by_file.get(item["name"].lower(), [])) for item in unrecorded)
        self.prefix_job_ids.update(job_id for job_ids in found.values() for job_id in job_ids)
        return found

    def _settle(self, items, job_ids):
        """Remove items whose jobs have all ended (and those jobs' records), or keep them all for a running job (the
        old ones are reported as protected)."""
        if job_ids is None or self._running(job_ids):
            self.protected.extend(item["name"] for item in items if self._old(item))
            return
        self.remove_files.extend(items)
        self.delete_jobs.update(job_ids)

    def survey_files(self, listed):
        imports = [item for item in listed if self.import_pattern.match(item["name"] or "")]
        records = dict((item["name"].lower(), item) for item in listed if self.record_pattern.match(item["name"] or ""))
        present = set(item["name"].lower() for item in imports)
        old_imports = [(item, records.get(job_records.record_name(item["name"]).lower()))
                       for item in imports if self._old(item)]
        jobs_of = dict((item["name"].lower(), self._record_jobs(record)) for item, record in old_imports if record)
        unrecorded = [item for item, record in old_imports if record is None]
        if unrecorded:
            jobs_of.update(self._listed_jobs(unrecorded))
        for item, record in old_imports:
            self._settle([item] + ([record] if record else []), jobs_of[item["name"].lower()])
        # a record left behind by an import file removed earlier
        for name, record in records.items():
            file_name = job_records.import_file_name(name)
            if file_name not in present and self._old(record) and not self._kept(file_name):
                self._settle([record], self._record_jobs(record))

    def _prefix_owns(self, item):
        """The job id of an old log folder of this prefix's jobs, or None: named after one of its files, after a job
        its records or the job list tie to one of them, or after a job whose source the service names as one of them.
        Never the folder of a kept job, or one named after a kept file.
        """
        if not self._old(item):
            return None
        job_id, owned = job_records.log_folder_owner(item["name"], self.prefix, self.prefix_job_ids)
        if owned is None:
            job = self._job(job_id)
            owned = job is not None and bool(self.import_pattern.match(job_api.source_file_name(job.get("source_uri"))))
        if not owned or self._kept_job(job_id) or self._named_after_kept_file(item["name"]):
            return None
        return job_id

    def _named_after_kept_file(self, folder_name):
        stem = log_folder_name(folder_name)[0]  # PnP's form: "<file>_<job id>", the file with or without ".json"
        return stem is not None and (self._kept(stem) or self._kept(stem + ".json"))

    def survey_folders(self, listed):
        for item in listed:
            job_id = self._prefix_owns(item)
            if job_id is None:
                continue
            if self._running([job_id]):
                self.protected.append(item["name"])
            else:
                self.remove_folders.append(item)
                self.delete_jobs.add(job_id)

    def jobs_to_delete(self):
        """The job records to delete: ended jobs (only those were added) the service still knows, never a kept one."""
        return sorted(job_id for job_id in self.delete_jobs
                      if self._job(job_id) is not None and not self._kept_job(job_id))


def clean(client, options, check_mode=False):
    """Apply retention with the options of ARGUMENT_SPEC. Returns the result upa_retention reports; its "notices" are
    for the module to show as warnings."""
    problems = [problem for problem in option_problems(options) if problem]
    if problems:
        raise SpoError("; ".join(problems))
    cutoff = datetime.datetime.now(datetime.timezone.utc) - datetime.timedelta(days=options["older_than_days"])
    site_url, folder_url = import_upload.site_and_folder(client.root_url, options["site"], options["folder"])
    plan = _Plan(client, site_url, options["name"], options["keep"], cutoff)
    plan.survey_files(spo_files.list_files(client, site_url, folder_url))
    # Log folders name their jobs even when the folders stay (remove_logs=false): the job records still go.
    for place in import_upload.log_folder_places(site_url, folder_url):
        plan.survey_folders(spo_files.list_folders(client, site_url, place))
    remove_folders = plan.remove_folders if options["remove_logs"] else []
    remove_files = sorted(plan.remove_files, key=lambda item: item["name"].endswith(job_records.RECORD_SUFFIX))
    delete_jobs = plan.jobs_to_delete()
    result = {"protected": sorted(plan.protected), "cutoff": cutoff.strftime("%Y-%m-%dT%H:%M:%SZ"),
              "notices": plan.notices}
    if check_mode:
        return _report(result, remove_files, remove_folders, delete_jobs)
    deleted_jobs, deleted_folders, deleted_files = [], [], []
    try:
        # Job records first, files last: a run cut short leaves the records that name what is left to delete.
        for job_id in delete_jobs:
            job_api.delete_job(client, job_id)
            deleted_jobs.append(job_id)
        for item in remove_folders:
            spo_files.delete_folder(client, site_url, item["server_relative_url"])
            deleted_folders.append(item)
        for item in remove_files:
            spo_files.delete_file(client, site_url, item["server_relative_url"])
            deleted_files.append(item)
    except SpoError as err:
        partial = _report(result, deleted_files, deleted_folders, deleted_jobs)
        # the call that failed may have removed its item too
        partial["changed"] = partial["changed"] or err.may_have_run
        raise err.replace(result=partial) from err
    return _report(result, deleted_files, deleted_folders, deleted_jobs)


def _report(result, files, folders, job_ids):
    """`result` with what was removed (or would be, in check mode), as upa_retention returns it."""
    return dict(result, changed=bool(files or folders or job_ids), removed_files=sorted(item["name"] for item in files),
                removed_log_folders=sorted(item["name"] for item in folders), removed_jobs=sorted(job_ids))
