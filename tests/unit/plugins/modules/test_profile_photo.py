# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""profile_photo as a module: options refused before any request, what it hands the sync, failed users and diff."""

from __future__ import annotations

import types

import pytest

from ansible_collections.spo.user_profiles.plugins.module_utils.errors import SpoError
from ansible_collections.spo.user_profiles.plugins.modules import profile_photo
from ansible_collections.spo.user_profiles.tests.unit.plugins.modules.module_runs import refuse_client, run_module, serve_client


def run(capsys, **args):
    return run_module(profile_photo, capsys, **args)


class FakeSync:
    """Stands for PhotoSync: records its options and the entries, answers with a prepared result."""

    calls = []
    answer = None

    def __init__(self, client, options):
        self.options = options

    def run(self, entries):
        FakeSync.calls.append((self.options, entries))
        return dict(FakeSync.answer)


@pytest.fixture
def sync(monkeypatch):
    serve_client(monkeypatch, types.SimpleNamespace())
    monkeypatch.setattr(profile_photo.photo_sync, "PhotoSync", FakeSync)
    FakeSync.calls = []
    FakeSync.answer = {"changed": True, "users": [{"user": "ghost@contoso.com", "path": "/p/ghost.jpg", "action": "failed",
                                                   "error": "graph: set photo of ghost@contoso.com: user not found (HTTP 404)"}],
                       "summary": {"total": 2, "changed": 1, "unchanged": 0, "failed": 1},
                       "failed_users": ["ghost@contoso.com"], "diff": {"before": {}, "after": {"ann@contoso.com": "new"}},
                       "manifest_written": True}
    return FakeSync


@pytest.mark.parametrize("args, message", [
    ({"src_dir": "/x", "concurrency": 0}, "concurrency must be 1 or more, not 0 (nothing was sent)"),
    ({"src_dir": "/x", "workers": 0}, "workers must be 1 or more, not 0 (nothing was sent)"),
    ({"src_dir": "/x", "progress_interval": -1}, "progress_interval must be 0 or more, not -1 (nothing was sent)"),
    ({"photos": [{"user": "ann@contoso.com"}]},
     "photos[].path is required with state=present (missing for ann@contoso.com) (nothing was sent)"),
    ({"src_dir": "/x", "name_format": "{login}@contoso.com"},
     "name_format '{login}@contoso.com': unknown or bad placeholder ({login}); use {f}, {first}, {l}, {last}, {middle}, "
     "{stem}, {upn} (nothing was sent)"),
    ({"src_dir": "/x", "name_format": "{upn.real}@contoso.com"},
     "name_format '{upn.real}@contoso.com': unknown or bad placeholder ({upn.real}); use {f}, {first}, {l}, {last}, "
     "{middle}, {stem}, {upn} (nothing was sent)"),
    ({"src_dir": "/x", "concurrency": 0, "workers": 0, "targets": []},
     "3 option problems, nothing was sent: concurrency must be 1 or more, not 0; workers must be 1 or more, not 0; "
     "targets must name at least one of sharepoint, graph"),
])
def test_bad_options_are_refused_before_connecting(monkeypatch, capsys, args, message):
    refuse_client(monkeypatch)
    result = run(capsys, **args)
    assert result["failed"] is True and result["msg"] == message


def test_the_sync_gets_the_options_and_a_failed_user_fails_the_task_naming_them(sync, capsys, tmp_path):
    photo = tmp_path / "ann@contoso.com.jpg"
    photo.write_bytes(b"not decoded here")
    result = run(capsys, photos=[{"user": "ann@contoso.com", "path": str(photo)}], concurrency=3, _ansible_diff=True)
    options, entries = sync.calls[0]
    assert options["concurrency"] == 3 and options["targets"] == ["sharepoint", "graph"] and options["check_mode"] is False
    assert [entry["user"] for entry in entries] == ["ann@contoso.com"]
    assert result["failed"] is True and result["msg"] == (
        "1 of 2 users failed: ghost@contoso.com: graph: set photo of ghost@contoso.com: user not found (HTTP 404)")
    assert result["diff"]["after"] == {"ann@contoso.com": "new"}


def test_with_fail_on_error_false_failed_users_are_reported_not_fatal(sync, capsys, tmp_path):
    photo = tmp_path / "ann@contoso.com.jpg"
    photo.write_bytes(b"x")
    result = run(capsys, photos=[{"user": "ann@contoso.com", "path": str(photo)}], fail_on_error=False)
    assert "failed" not in result and result["failed_users"] == ["ghost@contoso.com"] and "diff" not in result


def test_a_sync_failing_after_its_writes_reports_them(sync, capsys, tmp_path, monkeypatch):
    def run_and_fail(self, entries):
        raise SpoError("throttled; the photos were sent (see users), but the photo manifest was not saved", status=429,
                       operation="upload manifest", result=dict(FakeSync.answer, manifest_written=False))
    monkeypatch.setattr(FakeSync, "run", run_and_fail)
    photo = tmp_path / "ann@contoso.com.jpg"
    photo.write_bytes(b"x")
    result = run(capsys, photos=[{"user": "ann@contoso.com", "path": str(photo)}])
    assert result["failed"] is True and result["changed"] is True and result["status"] == 429
    assert result["msg"] == ("upload manifest: throttled; the photos were sent (see users), but the photo manifest was "
                             "not saved (HTTP 429)")
    assert result["users"] == FakeSync.answer["users"] and result["summary"]["changed"] == 1
    assert result["manifest_written"] is False and "diff" not in result  # the diff in diff mode only
    assert run(capsys, photos=[{"user": "ann@contoso.com", "path": str(photo)}], _ansible_diff=True)["diff"] == (
        FakeSync.answer["diff"])


def test_by_default_the_ceiling_is_the_shared_one_and_no_progress_file_is_written(sync, capsys, tmp_path):
    photo = tmp_path / "ann@contoso.com.jpg"
    photo.write_bytes(b"x")
    run(capsys, photos=[{"user": "ann@contoso.com", "path": str(photo)}], _ansible_tmpdir=str(tmp_path))
    options = sync.calls[0][0]
    assert options["concurrency"] == 16 and options["progress"].file is None


def test_with_progress_interval_the_sync_gets_a_progress_file_in_the_module_tmpdir(sync, capsys, tmp_path):
    photo = tmp_path / "ann@contoso.com.jpg"
    photo.write_bytes(b"x")
    run(capsys, photos=[{"user": "ann@contoso.com", "path": str(photo)}], progress_interval=10,
        _ansible_tmpdir=str(tmp_path))
    assert sync.calls[0][0]["progress"].file.path == str(tmp_path / "spo-progress.json")


def test_sources_with_problems_are_refused_whole_before_connecting(monkeypatch, capsys, tmp_path):
    refuse_client(monkeypatch)
    photo = tmp_path / "ann.jpg"
    photo.write_bytes(b"x")
    result = run(capsys, photos=[{"user": "ann@contoso.com", "path": str(photo)}, {"user": "Bob Smith", "path": str(photo)},
                                 {"user": "cid@contoso.com", "path": str(tmp_path / "none.jpg")}])
    problems = ["photos[1]: 'Bob Smith' is not a user principal name (name@domain)",
                "photos[2].path: %s does not exist" % (tmp_path / "none.jpg")]
    assert result["failed"] is True and result["problems"] == problems
    assert result["msg"] == "2 problem(s) in the photo sources, nothing was sent: " + "; ".join(problems)


def test_users_whose_thumbnails_would_be_the_same_files_are_refused_only_when_thumbnails_are_sent(sync, capsys, tmp_path):
    photo = tmp_path / "photo.jpg"
    photo.write_bytes(b"x")
    photos = [{"user": "a.b@contoso.com", "path": str(photo)}, {"user": "a_b@contoso.com", "path": str(photo)}]
    result = run(capsys, photos=photos)
    assert result["failed"] is True and not sync.calls
    assert result["problems"] == [
        "a.b@contoso.com (photos[0]) and a_b@contoso.com (photos[1]) would share the SharePoint thumbnails "
        "a_b_contoso_com_SThumb.jpg, _MThumb.jpg and _LThumb.jpg (named after the user principal name with \"@\" and "
        "\".\" replaced by \"_\"), all of them showing the photo sent last; send all but one of them with targets: "
        "[graph]"]
    run(capsys, photos=photos, targets=["graph"])
    run(capsys, photos=photos, state="absent")
    assert [[entry["user"] for entry in entries] for _options, entries in sync.calls] == [
        ["a.b@contoso.com", "a_b@contoso.com"]] * 2


def test_a_bad_mapping_line_refuses_every_file_before_connecting(monkeypatch, capsys, tmp_path):
    refuse_client(monkeypatch)
    (tmp_path / "ann.jpg").write_bytes(b"x")
    (tmp_path / "bob.jpg").write_bytes(b"x")
    mapping = tmp_path / "map.csv"
    mapping.write_text("file,upn\nann.jpg,ann@contoso.com\nbob.jpg,notaupn\n", encoding="utf-8")
    result = run(capsys, src_dir=str(tmp_path), mapping=str(mapping))
    assert result["failed"] is True and result["msg"] == (
        "1 problem(s) in the photo sources, nothing was sent: %s line 3: 'notaupn' is not a user principal name "
        "(name@domain)" % mapping)


def test_with_state_absent_a_listed_path_is_not_read(sync, capsys, tmp_path):
    run(capsys, state="absent", photos=[{"user": "ann@contoso.com", "path": str(tmp_path / "gone.jpg")}])
    assert [entry["user"] for entry in sync.calls[0][1]] == ["ann@contoso.com"]
