"""Progress that lasts: verdicts on disk, across kernel restarts, several kernels, and broken folders."""

import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import pytest

from labkit import check, progress
from labkit.exercises import FAILED, NOT_ATTEMPTED, PASSED, ids, reset
from labkit.exercises import _progress

ROOT = Path(__file__).resolve().parents[1]
_RUN_DATA_DIR = os.environ.get("LABKIT_DATA_DIR", "")


def _forget_this_kernel():
    """What a kernel restart does: this process's memory of verdicts, hints and warnings is gone."""
    for state in (_progress._STATUS, _progress._CLEARED, _progress._HINTS_SHOWN):
        state.clear()
    _progress._WARNED.clear()
    _progress._PROBLEM.clear()


@pytest.fixture(autouse=True)
def data_dir(tmp_path, monkeypatch):
    folder = tmp_path / "labkit-data"
    monkeypatch.setenv("LABKIT_DATA_DIR", str(folder))
    _forget_this_kernel()
    yield folder
    _forget_this_kernel()


def _python(code, **env):
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120,
                          cwd=ROOT, env={**os.environ, **env})
    assert done.returncode == 0, done.stderr
    return done


def _on_disk(folder):
    return json.loads((folder / "progress.json").read_text())["exercises"]


def test_a_verdict_survives_a_kernel_restart(data_dir):
    check("00.hbm_bytes", 80e9, show=False)
    check("00.gb_or_gib", "gb", show=False)
    assert _on_disk(data_dir)["00.hbm_bytes"]["status"] == PASSED
    _forget_this_kernel()
    p = progress(0)
    assert p.chapters["00"]["00.hbm_bytes"] == PASSED
    assert p.chapters["00"]["00.gb_or_gib"] == FAILED
    assert p.chapters["00"]["00.gb_to_gib"] == NOT_ATTEMPTED


def test_a_fresh_process_sees_what_another_one_checked(data_dir):
    """End to end: one kernel checks, a later one (any chapter) shows every chapter's verdicts."""
    _python("from labkit import check; check('00.hbm_bytes', 80e9); check('01.h100_ridge', -1.0)")
    shown = _python("from labkit import progress; print(progress())").stdout
    assert "✅ 00.hbm_bytes" in shown and "❌ 01.h100_ridge" in shown
    assert "Chapter 00: 1/" in shown and "Chapter 06: 0/" in shown
    assert f"Saved in {data_dir / 'progress.json'}" in shown
    assert progress(0).chapters["00"]["00.hbm_bytes"] == PASSED  # this process too


def test_two_kernels_recording_at_once_both_keep_their_verdicts(data_dir):
    every = ids()
    first, second = every[0:40:2], every[1:40:2]
    start = time.time() + 2.0  # both start together, so their read-merge-writes overlap
    code = ("import sys, time; from labkit.exercises import _progress; "
            "start = float(sys.argv[1]); time.sleep(max(0.0, start - time.time())); "
            "[_progress.record(i, 'passed') for i in sys.argv[2:]]")
    runs = [subprocess.Popen([sys.executable, "-c", code, str(start), *group], cwd=ROOT, env=dict(os.environ),
                             stderr=subprocess.PIPE, text=True) for group in (first, second)]
    for run in runs:
        assert run.wait(timeout=120) == 0, run.stderr.read()
        assert run.stderr.read() == ""  # no warning: the lock was always had
    recorded = _on_disk(data_dir)
    assert set(first + second) <= set(recorded)
    assert not list(data_dir.glob(".progress-*.tmp"))  # no temporary file left behind


def test_the_latest_verdict_counts_and_an_earlier_pass_is_shown():
    check("00.hbm_bytes", 80e9, show=False)
    check("00.hbm_bytes", 80 * 2**30, show=False)
    _forget_this_kernel()
    p = progress(0)
    assert p.chapters["00"]["00.hbm_bytes"] == FAILED and p.counts("00")[PASSED] == 0
    assert "00.hbm_bytes" in p.passed_before
    assert "passed before" in str(p) and "passed before" in p._repr_html_()
    check("00.hbm_bytes", 80e9, show=False)
    assert progress(0).chapters["00"]["00.hbm_bytes"] == PASSED and "passed before" not in str(progress(0))


def test_a_not_attempted_check_does_not_erase_a_verdict(data_dir):
    check("00.hbm_bytes", 80e9, show=False)
    assert check("00.hbm_bytes", ..., show=False).status == NOT_ATTEMPTED
    assert progress(0).chapters["00"]["00.hbm_bytes"] == PASSED
    assert _on_disk(data_dir)["00.hbm_bytes"]["status"] == PASSED


def test_the_newest_verdict_wins_between_kernels(data_dir):
    check("00.hbm_bytes", 80e9, show=False)  # this kernel passes, then another kernel fails it
    _python("from labkit import check; check('00.hbm_bytes', 1.0, show=False)")
    assert progress(0).chapters["00"]["00.hbm_bytes"] == FAILED
    check("00.hbm_bytes", 80e9, show=False)
    assert _on_disk(data_dir)["00.hbm_bytes"]["status"] == PASSED


def test_reset_clears_the_disk_too(data_dir):
    check("00.hbm_bytes", 80e9, show=False)
    check("01.h100_ridge", -1.0, show=False)
    p = progress(1, reset=True)
    assert p.chapters["01"]["01.h100_ridge"] == NOT_ATTEMPTED
    assert set(_on_disk(data_dir)) == {"00.hbm_bytes"}  # only chapter 01 was cleared
    reset()
    assert _on_disk(data_dir) == {}
    shown = _python("from labkit import progress; print(progress(0))").stdout
    assert "✅" not in shown and "❌" not in shown


def test_a_reset_in_another_kernel_hides_this_kernels_older_verdicts(data_dir):
    check("00.hbm_bytes", 80e9, show=False)
    _python("from labkit import progress; progress(reset=True)")
    assert progress(0).chapters["00"]["00.hbm_bytes"] == NOT_ATTEMPTED
    check("00.gb_or_gib", "gib", show=False)  # a verdict given after the reset is kept
    assert progress(0).chapters["00"]["00.gb_or_gib"] == PASSED


def test_a_corrupted_file_gives_one_warning_and_is_set_aside(data_dir, capsys):
    data_dir.mkdir()
    (data_dir / "progress.json").write_text('{"exercises": {"00.hbm_bytes": {"status": "pas')
    p = progress(0)  # reading: a warning, no traceback, nothing recorded yet
    assert p.counts()[PASSED] == 0 and "Kept in this kernel only" in p.where
    assert check("00.hbm_bytes", 80e9, show=False).status == PASSED  # writing starts a new file
    err = capsys.readouterr().err
    assert err.count("labkit:") == 1 and "corrupted" in err and "Traceback" not in err
    assert (data_dir / "progress.json.bad").exists()
    assert _on_disk(data_dir)["00.hbm_bytes"]["status"] == PASSED
    assert "Saved in" in progress(0).where


@pytest.mark.parametrize("garbage", [b"\xff\xfe\x00", b"[1, 2, 3]", b'{"exercises": {"00.hbm_bytes": "passed"}}'])
def test_a_file_of_another_shape_never_breaks_a_check(data_dir, capsys, garbage):
    data_dir.mkdir()
    (data_dir / "progress.json").write_bytes(garbage)
    assert check("00.hbm_bytes", 80e9, show=False).status == PASSED
    assert progress(0).chapters["00"]["00.hbm_bytes"] == PASSED
    assert "Traceback" not in capsys.readouterr().err


def test_a_folder_that_cannot_be_created_falls_back_to_this_kernel(tmp_path, monkeypatch, capsys):
    blocker = tmp_path / "a-file"
    blocker.write_text("not a folder")
    monkeypatch.setenv("LABKIT_DATA_DIR", str(blocker / "labkit"))
    assert check("00.hbm_bytes", 80e9, show=False).status == PASSED
    assert check("00.gb_or_gib", "gb", show=False).status == FAILED
    p = progress(0)
    assert p.chapters["00"]["00.hbm_bytes"] == PASSED and p.chapters["00"]["00.gb_or_gib"] == FAILED
    assert p.where.startswith("📁 Kept in this kernel only") and p.where in str(p)
    err = capsys.readouterr().err
    assert err.count("labkit:") == 1 and "this kernel only" in err and "Traceback" not in err


def test_a_read_only_folder_keeps_what_was_saved_and_warns_once(data_dir, monkeypatch, capsys):
    check("00.hbm_bytes", 80e9, show=False)
    _forget_this_kernel()

    def read_only(*args, **kwargs):
        raise PermissionError(13, "Permission denied")
    from labkit.core import files
    monkeypatch.setattr(files.tempfile, "mkstemp", read_only)
    assert check("00.gb_or_gib", "gib", show=False).status == PASSED
    assert check("00.gb_to_gib", lambda n: n * 1e9 / 2**30, show=False).status == PASSED
    p = progress(0)
    assert p.counts("00")[PASSED] == 3  # the saved one, and this kernel's two
    err = capsys.readouterr().err
    assert err.count("labkit:") == 1 and "Permission denied" in err and "Traceback" not in err
    assert set(_on_disk(data_dir)) == {"00.hbm_bytes"}


@pytest.mark.skipif(os.name != "posix" or os.geteuid() == 0, reason="needs POSIX permissions, not root")
def test_a_really_read_only_folder(data_dir, capsys):  # pragma: no cover - CI runs as a user
    check("00.hbm_bytes", 80e9, show=False)
    data_dir.chmod(0o555)
    try:
        assert check("00.gb_or_gib", "gib", show=False).status == PASSED
        assert progress(0).counts("00")[PASSED] == 2
    finally:
        data_dir.chmod(0o755)
    assert capsys.readouterr().err.count("labkit:") == 1


def test_the_data_folder_follows_the_platform(monkeypatch, tmp_path):
    monkeypatch.delenv("LABKIT_DATA_DIR")
    monkeypatch.setenv("HOME", str(tmp_path))
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "xdg"))
    monkeypatch.setattr(sys, "platform", "linux")
    assert _progress.data_dir() == tmp_path / "xdg" / "labkit"
    monkeypatch.delenv("XDG_DATA_HOME")
    assert _progress.data_dir() == tmp_path / ".local" / "share" / "labkit"
    monkeypatch.setattr(sys, "platform", "darwin")
    assert _progress.data_dir() == tmp_path / "Library" / "Application Support" / "labkit"
    monkeypatch.setattr(sys, "platform", "win32")
    monkeypatch.setenv("APPDATA", str(tmp_path / "Roaming"))
    assert _progress.data_dir() == tmp_path / "Roaming" / "labkit"
    monkeypatch.setenv("LABKIT_DATA_DIR", str(tmp_path / "mine"))
    assert _progress.data_dir() == tmp_path / "mine"


def test_no_home_folder_falls_back_to_this_kernel(monkeypatch, capsys):
    monkeypatch.delenv("LABKIT_DATA_DIR")
    monkeypatch.delenv("XDG_DATA_HOME", raising=False)

    def no_home(cls=None):
        raise RuntimeError("Could not determine home directory.")
    monkeypatch.setattr(Path, "home", classmethod(no_home))
    assert check("00.hbm_bytes", 80e9, show=False).status == PASSED
    p = progress(0)
    assert p.chapters["00"]["00.hbm_bytes"] == PASSED and "this kernel only" in p.where
    err = capsys.readouterr().err
    assert err.count("labkit:") == 1 and "Traceback" not in err


def test_the_display_says_where_progress_is_kept(data_dir):
    p = progress(0)
    assert str(p).splitlines()[-1] == f"📁 Saved in {data_dir / 'progress.json'}; progress(reset=True) clears it."
    assert "labkit-progress-where" in p._repr_html_() and "labkit-check" not in p._repr_html_()


def test_the_test_run_never_writes_into_home():
    folder = Path(_RUN_DATA_DIR)  # set by the root conftest.py for the whole run, nbval's kernels included
    assert folder.parent == Path(tempfile.gettempdir()) and folder.name.startswith("labkit-test-data-")
    assert folder.is_dir()
