"""The bulk import timer job (Office365Tenant.QueueImportProfileProperties).

Jobs live in <tenant dir>/importjobs/<job id>.json and survive a restart. One engine thread per Store
moves them through the states:

    Submitted(1) --job_delay--> Processing(2): the file is checked and parsed (streaming, one record at
    a time) --job_duration--> Queued(3) --> values applied --> Succeeded(4) or Error(5)

A job found in Submitted, Processing or Queued after a restart is run again from the start (applying the
same values twice is harmless). main.py calls on_start() at start-up, which resumes every tenant's
unfinished jobs; tenants created later join when their first SharePoint request arrives (touch()).

Outcome rules (the reference, §1.4 and §2.1):
- file missing -> Error/DataFileNotExist(20); on another tenant's host -> Error/DataFileNotInTenant(21);
  larger than 2 GB or more than 500,000 properties -> Error/DataFileTooBig(22) (FAULTS max_file_bytes,
  max_properties override the limits); not JSON or not {"value": [...]} -> Error/InvalidDataFile(23)
  with "DataFileNotJson - <message>, line L, position P." in the log.
- a property in the file that the map does not name aborts the whole import before anything is applied:
  Error/InvalidDataFile(23), logged as InvalidProperty.
- per-record problems (MissingIdentity, IdentityNotResolvable, InvalidPropertyValue for arrays and
  objects) skip that record only; the job ends with Error ImportCompleteWithError(30), in state
  Succeeded(4), or Error(5) when the complete_with_error_state setting says so (undocumented).
- Once the source file was found, the log folder "<library of the source file>/<job id>/" is written: in the
  document library the file is in, named after the job (the bulk API doc; spo_protocol.md §3.2 and §9.4), or
  "<folder of the source file>/<job id>/" with the log_folder_location setting "file_folder" (unconfirmed), and
  named "<file name stem>_<job id>/" with the log_folder_naming setting "file_name" (PnP's docs),
  holding "<job id>.log" with one line per problem ("Code - identity message", CRLF line ends; empty
  when all went well), and LogFolderUri is its absolute URL. DataFileNotExist, DataFileNotInTenant and
  the InternalError fault leave LogFolderUri null (there is no folder to write into).
- Record values are stored as strings (numbers as written, booleans "True"/"False", null as "").
- The file is parsed as a stream (1 MiB reads, one record at a time), twice: a validating pass, then
  the applying pass, so memory stays small whatever the file size.
"""

import codecs
import json
import os
import threading
import time
import uuid
from urllib.parse import quote, unquote, urlsplit

from . import spfiles, webs
from .faults import FAULTS

SUBMITTED, PROCESSING, QUEUED, SUCCEEDED, ERROR = 1, 2, 3, 4, 5
NO_ERROR, INTERNAL_ERROR = 0, 1
DATA_FILE_NOT_EXIST, DATA_FILE_NOT_IN_TENANT, DATA_FILE_TOO_BIG, INVALID_DATA_FILE = 20, 21, 22, 23
IMPORT_COMPLETE_WITH_ERROR = 30

DEFAULT_JOB_DELAY = 0.5
DEFAULT_JOB_DURATION = 0.5
MAX_FILE_BYTES = 2 * 1024 ** 3
MAX_PROPERTIES = 500000
READ_SIZE = 1024 * 1024
MAX_RECORD_CHARS = 64 * 1024 * 1024
ID_TYPE_FIELDS = {0: "mail", 1: "object_id", 2: "upn"}

MESSAGES = {
    INTERNAL_ERROR: "Failed to import the custom properties due to an unexpected error.",
    DATA_FILE_NOT_EXIST: "The data file does not exist.",
    DATA_FILE_NOT_IN_TENANT: "The data file is not in the tenant.",
    DATA_FILE_TOO_BIG: "The data file is too big.",
    INVALID_DATA_FILE: "The data file is not valid. See the log files for details.",
    IMPORT_COMPLETE_WITH_ERROR: "The import completed with errors. See the log files for details.",
}

_engines = {}
_engines_guard = threading.Lock()


class JobFailed(Exception):
    def __init__(self, error, log_lines=()):
        Exception.__init__(self, MESSAGES[error])
        self.error = error
        self.log_lines = list(log_lines)


# ---------------------------------------------------------------- storage

def _jobs_dir(tenant):
    return os.path.join(tenant.dir, "importjobs")


def _save(tenant, job):
    folder = _jobs_dir(tenant)
    os.makedirs(folder, exist_ok=True)
    temp = os.path.join(folder, "%s.json.%s.tmp" % (job["JobId"], uuid.uuid4().hex))
    with open(temp, "w", encoding="utf-8") as handle:
        json.dump(job, handle)
    os.replace(temp, os.path.join(folder, job["JobId"] + ".json"))


def _load_all(tenant):
    folder = _jobs_dir(tenant)
    jobs = []
    if os.path.isdir(folder):
        for name in os.listdir(folder):
            if name.endswith(".json"):
                try:
                    with open(os.path.join(folder, name), "r", encoding="utf-8") as handle:
                        jobs.append(json.load(handle))
                except (OSError, ValueError):
                    continue
    return jobs


def public(job):
    """The ImportProfilePropertiesJobInfo fields of a job."""
    return {"Error": job["Error"], "ErrorMessage": job["ErrorMessage"], "JobId": job["JobId"],
            "LogFolderUri": job["LogFolderUri"], "SourceUri": job["SourceUri"], "State": job["State"]}


def get_job(tenant, job_id):
    job_id = _norm_id(job_id)
    if job_id is None:
        return None
    try:
        with open(os.path.join(_jobs_dir(tenant), job_id + ".json"), "r", encoding="utf-8") as handle:
            return json.load(handle)
    except (OSError, ValueError):
        return None


def list_jobs(tenant):
    """Jobs newest first."""
    return sorted(_load_all(tenant), key=lambda j: (j["Created"], j["JobId"]), reverse=True)


def list_for_control(tenant):
    store = getattr(tenant, "store", None)
    if store is not None:   # after a restart, a look at the jobs also wakes the engine for this tenant
        touch(store, tenant)
    return [dict(public(j), Created=j["Created"], IdType=j["IdType"], SourceDataIdProperty=j["SourceDataIdProperty"],
                 PropertyMap=j["PropertyMap"]) for j in list_jobs(tenant)]


def delete_job(tenant, job_id):
    job_id = _norm_id(job_id)
    if job_id is None:
        return False
    with tenant.lock:
        try:
            os.remove(os.path.join(_jobs_dir(tenant), job_id + ".json"))
            return True
        except OSError:
            return False


def _norm_id(job_id):
    try:
        return str(uuid.UUID(str(job_id).strip().strip("{}")))
    except ValueError:
        return None


def queue(store, tenant, id_type, id_property, property_map, source_uri):
    """Create a job (validation is done by the caller, csom.validate_queue). Returns the job id."""
    job = {"JobId": str(uuid.uuid4()), "State": SUBMITTED, "Error": NO_ERROR, "ErrorMessage": None,
           "LogFolderUri": None, "SourceUri": source_uri, "IdType": id_type, "SourceDataIdProperty": id_property,
           "PropertyMap": property_map, "Created": time.time(), "NextAt": None}
    with tenant.lock:
        _save(tenant, job)
    _engine(store).add(tenant, job["JobId"])
    return job["JobId"]


# ---------------------------------------------------------------- engine

def touch(store, tenant):
    _engine(store).add(tenant)


def start(store, tenants=()):
    engine = _engine(store)
    for tenant in tenants:
        engine.add(tenant)
    return engine


def on_start(store):
    """Called by main.py at start-up: resume the unfinished jobs of every tenant."""
    start(store, store.tenants())


def _engine(store):
    with _engines_guard:
        engine = _engines.get(id(store))
        if engine is None or engine.store is not store:
            engine = Engine(store)
            _engines[id(store)] = engine
            engine.start()
        return engine


class Engine(threading.Thread):
    def __init__(self, store):
        threading.Thread.__init__(self, name="import-jobs", daemon=True)
        self.store = store
        self.tenants = {}
        self.pending = {}       # tenant name -> set of job ids not yet finished
        self.guard = threading.Lock()
        self.wake = threading.Event()

    def add(self, tenant, job_id=None):
        with self.guard:
            if self.tenants.get(tenant.name) is not tenant:
                self.tenants[tenant.name] = tenant
                self.pending[tenant.name] = {j["JobId"] for j in _load_all(tenant)
                                             if j["State"] in (SUBMITTED, PROCESSING, QUEUED)}
            if job_id:
                self.pending[tenant.name].add(job_id)
        self.wake.set()

    def run(self):
        while True:
            self.wake.wait(0.05)
            self.wake.clear()
            with self.guard:
                work = [(self.tenants[name], set(ids)) for name, ids in self.pending.items() if ids]
            for tenant, job_ids in work:
                if self.store.tenant(tenant.name) is not tenant:
                    with self.guard:
                        self.tenants.pop(tenant.name, None)
                        self.pending.pop(tenant.name, None)
                    continue
                for job_id in job_ids:
                    job = get_job(tenant, job_id)
                    if job is None or job["State"] not in (SUBMITTED, PROCESSING, QUEUED):
                        with self.guard:
                            self.pending.get(tenant.name, set()).discard(job_id)
                        continue
                    try:
                        step(self.store, tenant, job)
                    except Exception as err:   # never let one job stop the engine
                        finish(tenant, job, ERROR, INTERNAL_ERROR, ["InternalError - %s" % err])


def _setting(key, default, tenant):
    value = FAULTS.get(key, None, tenant=tenant.name)
    return default if value is None else value


def step(store, tenant, job):
    now = time.time()
    if job["State"] == SUBMITTED:
        if now < job["Created"] + float(_setting("job_delay", DEFAULT_JOB_DELAY, tenant)):
            return
        job["State"] = PROCESSING
        job["NextAt"] = now + float(_setting("job_duration", DEFAULT_JOB_DURATION, tenant)) / 2
        _save_if_exists(tenant, job)
        return
    if job["State"] == PROCESSING:
        if now < job["NextAt"]:
            return
        if _setting("job_outcome", None, tenant) == "InternalError":
            finish(tenant, job, ERROR, INTERNAL_ERROR, [])
            return
        try:
            _check_source(store, tenant, job)
        except JobFailed as failed:
            finish(tenant, job, ERROR, failed.error, failed.log_lines)
            return
        job["State"] = QUEUED
        job["NextAt"] = now + float(_setting("job_duration", DEFAULT_JOB_DURATION, tenant)) / 2
        _save_if_exists(tenant, job)
        return
    if job["State"] == QUEUED:
        if now < job["NextAt"] or _setting("job_outcome", None, tenant) == "stuck_queued":
            return
        try:
            problems = run_import(store, tenant, job)
        except JobFailed as failed:
            finish(tenant, job, ERROR, failed.error, failed.log_lines)
            return
        if problems:   # the state of such a job is undocumented: a setting chooses (Succeeded by default)
            state = ERROR if _setting("complete_with_error_state", "Succeeded", tenant) == "Error" else SUCCEEDED
            finish(tenant, job, state, IMPORT_COMPLETE_WITH_ERROR, problems)
        else:
            finish(tenant, job, SUCCEEDED, NO_ERROR, problems)


def _save_if_exists(tenant, job):
    with tenant.lock:
        if os.path.exists(os.path.join(_jobs_dir(tenant), job["JobId"] + ".json")):
            _save(tenant, job)


def _log_folder_name(tenant, job_id, file_name):
    """Microsoft's docs name the log folder after the job id; PnP's say its name starts with the file's name.
    The log_folder_naming setting chooses ("job_id" by default, or "file_name": <file name stem>_<job id>)."""
    if _setting("log_folder_naming", "job_id", tenant) == "file_name":
        return "%s_%s" % (os.path.splitext(file_name)[0], job_id)
    return job_id


def _log_folder_parent(tenant, kind, file_url):
    """Where a job's log folder goes: the root of the file's document library (the first folder of its path within
    its web), or the file's own folder with the log_folder_location setting "file_folder"."""
    folder = file_url.rpartition("/")[0]
    if _setting("log_folder_location", "library", tenant) == "file_folder":
        return folder
    web = webs.web_of(tenant, kind, file_url)
    library = [part for part in file_url[len(web):].split("/") if part][0]
    return "%s/%s" % (web, library)


def finish(tenant, job, state, error, log_lines):
    job["State"] = state
    job["Error"] = error
    job["ErrorMessage"] = MESSAGES.get(error)
    location = job.get("_source")
    if location and error not in (DATA_FILE_NOT_EXIST, DATA_FILE_NOT_IN_TENANT):
        kind, file_url, host = location
        file_name = file_url.rpartition("/")[2]
        log_folder = "%s/%s" % (_log_folder_parent(tenant, kind, file_url), _log_folder_name(tenant, job["JobId"], file_name))
        text = "".join(line + "\r\n" for line in log_lines)
        spfiles.write_small_file(tenant, kind, "%s/%s.log" % (log_folder, job["JobId"]), text.encode("utf-8"))
        job["LogFolderUri"] = "https://%s%s" % (host, quote(log_folder))
    job.pop("_source", None)
    _save_if_exists(tenant, job)


# ---------------------------------------------------------------- the import itself

def _locate(store, tenant, job):
    parts = urlsplit(job["SourceUri"])
    host = (parts.hostname or "").lower()
    owner = store.tenant_by_host(host) if host.endswith(".sharepoint.com") else None
    if owner is None or owner.name != tenant.name:
        raise JobFailed(DATA_FILE_NOT_IN_TENANT, ["DataFileNotInTenant - %s" % job["SourceUri"]])
    label = host.split(".", 1)[0]
    kind = "my" if label.endswith("-my") else ("admin" if label.endswith("-admin") else "root")
    url = unquote(parts.path)
    path = spfiles.local_path(tenant, kind, url) if kind != "admin" else None
    if path is None:
        raise JobFailed(DATA_FILE_NOT_EXIST, ["DataFileNotExist - %s" % job["SourceUri"]])
    job["_source"] = (kind, spfiles.Library(tenant, kind).canonical_url(path), host)
    return path


def _check_source(store, tenant, job):
    path = _locate(store, tenant, job)
    size = os.path.getsize(path)
    limit = int(_setting("max_file_bytes", MAX_FILE_BYTES, tenant))
    if size > limit:
        raise JobFailed(DATA_FILE_TOO_BIG, ["DataFileTooBig - The file is %d bytes; the limit is %d bytes." % (size, limit)])


def _open_text(path):
    """Decoder as SharePoint does it: UTF-8 when the file starts with a UTF-8 BOM, else ISO-8859-1."""
    handle = open(path, "rb")
    bom = handle.read(3)
    if bom == codecs.BOM_UTF8:
        return handle, codecs.getincrementaldecoder("utf-8")(errors="replace")
    handle.seek(0)
    return handle, codecs.getincrementaldecoder("latin-1")()


class NotJson(Exception):
    def __init__(self, message, line, position):
        Exception.__init__(self, "%s, line %d, position %d." % (message, line, position))


class RecordReader:
    """Streams the records of {"value": [ {...}, ... ]} without loading the file whole."""

    def __init__(self, path):
        self.handle, self.decoder = _open_text(path)
        self.buffer = ""
        self.pos = 0
        self.eof = False
        self.consumed_lines = 0     # newlines before self.buffer[0]
        self.line_start = 0         # offset in buffer after the last newline before buffer[0] (negative allowed)
        self.decoder_json = json.JSONDecoder()

    def close(self):
        self.handle.close()

    def _fill(self):
        if self.eof:
            return False
        chunk = self.handle.read(READ_SIZE)
        if not chunk:
            self.eof = True
            tail = self.decoder.decode(b"", final=True)
            self.buffer += tail
            return bool(tail)
        # drop what is consumed, keeping line/position counting right
        dropped = self.buffer[:self.pos]
        newlines = dropped.count("\n")
        if newlines:
            self.consumed_lines += newlines
            self.line_start = dropped.rfind("\n") + 1 - self.pos
        else:
            self.line_start -= self.pos
        self.buffer = self.buffer[self.pos:] + self.decoder.decode(chunk)
        self.pos = 0
        return True

    def _where(self, index):
        before = self.buffer[:index]
        newlines = before.count("\n")
        line = self.consumed_lines + newlines + 1
        if newlines:
            column = index - (before.rfind("\n") + 1)
        else:
            column = index - self.line_start
        return line, column + 1

    def fail(self, message, index=None):
        line, position = self._where(self.pos if index is None else index)
        raise NotJson(message, line, position)

    def _skip_ws(self):
        while True:
            while self.pos < len(self.buffer) and self.buffer[self.pos] in " \t\r\n":
                self.pos += 1
            if self.pos < len(self.buffer) or not self._fill():
                return

    def _peek(self):
        self._skip_ws()
        return self.buffer[self.pos] if self.pos < len(self.buffer) else ""

    def _expect(self, char):
        if self._peek() != char:
            found = self._peek() or "end of file"
            self.fail("Unexpected character encountered while parsing value: %s. Expected '%s'" % (found, char))
        self.pos += 1

    def _value(self):
        self._skip_ws()
        while True:
            try:
                value, end = self.decoder_json.raw_decode(self.buffer, self.pos)
            except json.JSONDecodeError as err:
                # maybe the value is cut by the end of the buffer: read more and try again (records are
                # small; a value longer than MAX_RECORD_CHARS is reported instead of buffered)
                if not self.eof and len(self.buffer) - self.pos < MAX_RECORD_CHARS and self._fill():
                    continue
                self.fail(err.msg, err.pos)
            if end == len(self.buffer) and not self.eof and isinstance(value, (int, float)):
                if self._fill():
                    continue
            self.pos = end
            return value

    def records(self):
        """Yields each record of "value"; other top-level keys are skipped."""
        self._expect("{")
        found = False
        if self._peek() == "}":
            self.pos += 1
        else:
            while True:
                key = self._value()
                if not isinstance(key, str):
                    self.fail("Invalid property identifier character")
                self._expect(":")
                if key == "value":
                    found = True
                    self._expect("[")
                    if self._peek() == "]":
                        self.pos += 1
                    else:
                        while True:
                            yield self._value()
                            char = self._peek()
                            if char == ",":
                                self.pos += 1
                                continue
                            if char == "]":
                                self.pos += 1
                                break
                            self.fail("After parsing a value an unexpected character was encountered: %s" % (char or "end of file"))
                else:
                    self._value()
                char = self._peek()
                if char == ",":
                    self.pos += 1
                    continue
                if char == "}":
                    self.pos += 1
                    break
                self.fail("After parsing a value an unexpected character was encountered: %s" % (char or "end of file"))
        if self._peek() != "":
            self.fail("Additional text encountered after finished reading JSON content: %s" % self._peek())
        if not found:
            self.fail("Required property 'value' not found in JSON")


def _scan(path, job, tenant):
    """First pass: JSON well-formed, every property mapped, limits. Returns nothing; raises JobFailed."""
    property_map = job["PropertyMap"]
    id_property = job["SourceDataIdProperty"]
    max_properties = int(_setting("max_properties", MAX_PROPERTIES, tenant))
    count = 0
    reader = RecordReader(path)
    try:
        for record in reader.records():
            if not isinstance(record, dict):
                reader.fail("Unexpected JSON token while reading a user object")
            for key in record:
                if key == id_property:
                    continue
                if key not in property_map:
                    identity = record.get(id_property)
                    raise JobFailed(INVALID_DATA_FILE, [
                        "InvalidProperty - %s Property '%s' is not mapped to any property in the user profile application."
                        % (identity, key)])
                count += 1
            if count > max_properties:
                raise JobFailed(DATA_FILE_TOO_BIG, [
                    "DataFileTooBig - The file has more than %d properties." % max_properties])
    except NotJson as err:
        raise JobFailed(INVALID_DATA_FILE, ["DataFileNotJson - %s" % err])
    finally:
        reader.close()


def _user_index(tenant, id_type):
    field = ID_TYPE_FIELDS[id_type]
    return {str(u.get(field) or "").lower(): u for u in tenant.users if u.get(field)}


def _text(value):
    if isinstance(value, bool):
        return "True" if value else "False"
    if value is None:
        return ""
    return str(value)


def run_import(store, tenant, job):
    path = _locate(store, tenant, job)
    _check_source(store, tenant, job)
    _scan(path, job, tenant)
    property_map = job["PropertyMap"]
    id_property = job["SourceDataIdProperty"]
    users = _user_index(tenant, job["IdType"])
    problems = []
    reader = RecordReader(path)
    try:
        for record in reader.records():
            identity = record.get(id_property)
            if identity is None or identity == "":
                problems.append("MissingIdentity - The identity is missing for the user object")
                continue
            user = users.get(str(identity).lower()) if isinstance(identity, str) else None
            if user is None or not user.get("has_profile", True):
                problems.append("IdentityNotResolvable - %s User identity cannot be resolved" % identity)
                continue
            values = {}
            rejected = None
            for key, value in record.items():
                if key == id_property:
                    continue
                if isinstance(value, (list, dict)):
                    rejected = key
                    break
                values[property_map[key]] = _text(value)
            if rejected is not None:
                problems.append("InvalidPropertyValue - %s Property '%s' has a value that is an array or an object; "
                                "multi-value properties are not supported." % (identity, rejected))
                continue
            if values:
                tenant.set_profile_properties(user["upn"], values)
    except NotJson as err:
        raise JobFailed(INVALID_DATA_FILE, ["DataFileNotJson - %s" % err])
    finally:
        reader.close()
    return problems
