"""Progress: the latest verdict of every exercise, kept on disk so it lasts across kernels.

Every verdict ``check()`` gives is written to ``progress.json`` in the learner's data folder
(``LABKIT_DATA_DIR`` if set, else the platform's user data folder, see :func:`data_dir`), so
``progress()`` in any chapter shows every chapter, across kernel restarts and several kernels at once.

What is kept, per exercise: the latest verdict (passed or failed) with its time, and whether it ever
passed. A later failed attempt shows ❌ (the latest verdict counts) with "passed before" beside it. A
"not attempted" check (the answer is still ``...``) records nothing, so re-running a fresh copy of a
notebook does not erase what was done.

The file is written atomically (a temporary file, then ``os.replace``) under a lock (``fcntl.flock`` on
POSIX, ``msvcrt.locking`` on Windows), reading and merging what is there first, so two kernels checking
at the same moment both keep their verdicts. A folder or file that cannot be read or written (corrupted,
read-only, missing and not creatable) never breaks a check: one plain warning per kernel, and progress
falls back to this kernel's memory. A corrupted file is kept aside as ``progress.json.bad``.
Hints shown are counted per kernel only (after a restart the ladder starts again).
"""

import html
import json
import os
import sys
import time
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from . import _core
from ._base import FAILED, NOT_ATTEMPTED, PASSED

FILENAME = "progress.json"
_LOCKNAME = "progress.lock"
_FORMAT = 1
_LOCK_TIMEOUT_S = 10.0

_STATUS = {}          # id -> {"status", "time", "ever_passed"}: this kernel's verdicts (the fallback)
_CLEARED = {}         # "all" or chapter -> time this kernel cleared it
_HINTS_SHOWN = {}     # id -> number of hints shown so far (this kernel only)
_WARNED = []          # non-empty once this kernel has warned about the progress file
_PROBLEM = []         # the latest reason the file could not be used ([] when it worked)


# ---------------------------------------------------------------------------------------------
# where the file lives
# ---------------------------------------------------------------------------------------------
def data_dir():
    """The folder labkit keeps progress in: ``LABKIT_DATA_DIR``, else the platform's user data folder.

    Linux, Colab, Binder: ``$XDG_DATA_HOME/labkit`` or ``~/.local/share/labkit``; macOS:
    ``~/Library/Application Support/labkit``; Windows: ``%APPDATA%\\labkit``.
    """
    override = os.environ.get("LABKIT_DATA_DIR")
    if override:
        return Path(override).expanduser()
    if sys.platform == "win32":
        appdata = os.environ.get("APPDATA")
        return (Path(appdata) if appdata else Path.home() / "AppData" / "Roaming") / "labkit"
    if sys.platform == "darwin":
        return Path.home() / "Library" / "Application Support" / "labkit"
    xdg = os.environ.get("XDG_DATA_HOME")
    if xdg and os.path.isabs(xdg):
        return Path(xdg) / "labkit"
    return Path.home() / ".local" / "share" / "labkit"


def progress_file():
    """The path of the progress file (it may not exist yet)."""
    return data_dir() / FILENAME


def _shown_path(path):
    try:
        return "~" + os.sep + str(Path(path).relative_to(Path.home()))
    except (ValueError, RuntimeError, KeyError):
        return str(path)


# ---------------------------------------------------------------------------------------------
# the file: lock, read, atomic write
# ---------------------------------------------------------------------------------------------
class _Unusable(Exception):
    """The progress file or its folder cannot be used; the message says why, in plain words."""


def _acquire(fd):
    deadline = time.monotonic() + _LOCK_TIMEOUT_S
    while True:
        try:
            if sys.platform == "win32":  # pragma: no cover - exercised on Windows only
                import msvcrt
                os.lseek(fd, 0, os.SEEK_SET)
                msvcrt.locking(fd, msvcrt.LK_NBLCK, 1)
            else:
                import fcntl
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            return
        except OSError:  # held by another kernel: wait a little
            if time.monotonic() > deadline:
                raise _Unusable(f"another process has held {_LOCKNAME} for over {_LOCK_TIMEOUT_S:.0f} s")
            time.sleep(0.005)


def _release(fd):
    if sys.platform == "win32":  # pragma: no cover
        import msvcrt
        os.lseek(fd, 0, os.SEEK_SET)
        msvcrt.locking(fd, msvcrt.LK_UNLCK, 1)
    else:
        import fcntl
        fcntl.flock(fd, fcntl.LOCK_UN)


@contextmanager
def _locked(folder, writing):
    """Hold the folder's lock. Reading a folder where no lock can be created goes on without one."""
    try:
        if writing:
            folder.mkdir(parents=True, exist_ok=True)
        fd = os.open(folder / _LOCKNAME, os.O_RDWR | os.O_CREAT, 0o644)
    except OSError as e:
        if writing:
            raise _Unusable(f"cannot write in {_shown_path(folder)} ({_reason(e)})") from None
        fd = None
    try:
        if fd is not None:
            _acquire(fd)
        try:
            yield
        finally:
            if fd is not None:
                _release(fd)
    finally:
        if fd is not None:
            os.close(fd)


def _reason(e):
    if isinstance(e, OSError):
        return e.strerror or type(e).__name__
    return str(e) or type(e).__name__


def _empty():
    return {"format": _FORMAT, "exercises": {}, "cleared": {}}


def _valid_entry(entry):
    return (isinstance(entry, dict) and entry.get("status") in (PASSED, FAILED)
            and isinstance(entry.get("time"), (int, float)) and not isinstance(entry.get("time"), bool))


def _read(path, writing):
    """The file's content ({} parts for a missing file). A corrupted file is set aside when writing."""
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        return _empty()
    except (OSError, UnicodeDecodeError) as e:
        raise _Unusable(f"cannot read {_shown_path(path)} ({_reason(e)})") from None
    try:
        data = json.loads(text)
        if not isinstance(data, dict) or not isinstance(data.get("exercises"), dict):
            raise ValueError("not a labkit progress file")
    except ValueError:
        if not writing:
            raise _Unusable(f"{_shown_path(path)} is corrupted (not a labkit progress file)") from None
        bad = path.with_name(path.name + ".bad")
        try:
            os.replace(path, bad)
        except OSError as e:
            raise _Unusable(f"{_shown_path(path)} is corrupted and cannot be moved aside ({_reason(e)})") from None
        _warn(f"{_shown_path(path)} was corrupted; it is kept as {bad.name} and a new one is started.")
        return _empty()
    cleared = data.get("cleared")
    return {"format": _FORMAT,
            "exercises": {i: e for i, e in data["exercises"].items() if isinstance(i, str) and _valid_entry(e)},
            "cleared": {k: v for k, v in cleared.items() if isinstance(v, (int, float))}
            if isinstance(cleared, dict) else {}}


def _write(path, data):
    from ..core.files import atomic_write
    atomic_write(path, lambda f: json.dump(data, f, indent=1, sort_keys=True))


def _update(change):
    """Read, change and write the file under its lock (``change`` returns False: nothing to write);
    False (after one warning) when the file cannot be used."""
    path = None
    try:
        path = progress_file()
        with _locked(path.parent, writing=True):
            data = _read(path, writing=True)
            if change(data) is not False:
                _write(path, data)
    except _Unusable as e:
        return _fallback(str(e))
    except (OSError, ValueError, TypeError, RuntimeError) as e:  # no home folder, disk full, ...
        where = _shown_path(path) if path is not None else "the progress file"
        return _fallback(f"cannot write {where} ({_reason(e)})")
    _PROBLEM.clear()
    return True


def _load():
    """What the file holds, or None (after one warning) when it cannot be read."""
    try:
        path = progress_file()
        with _locked(path.parent, writing=False):
            data = _read(path, writing=False)
    except _Unusable as e:
        _fallback(str(e))
        return None
    except (OSError, RuntimeError) as e:
        _fallback(f"cannot read the progress file ({_reason(e)})")
        return None
    return data


def _fallback(reason):
    _PROBLEM[:] = [reason]
    _warn(f"{reason}. Progress is kept in this kernel only for now.")
    return False


def _warn(text):
    if not _WARNED:
        _WARNED.append(text)
        print(f"⚠️ labkit: {text}", file=sys.stderr)


# ---------------------------------------------------------------------------------------------
# record / progress / reset
# ---------------------------------------------------------------------------------------------
def _merged(old, status, now):
    return {"status": status, "time": now,
            "ever_passed": status == PASSED or bool(old and old.get("ever_passed"))}


def record(exercise_id, status):
    """Remember the verdict of a check, in this kernel and on disk. "Not attempted" records nothing."""
    if status not in (PASSED, FAILED):
        return
    now = time.time()
    _STATUS[exercise_id] = _merged(_STATUS.get(exercise_id), status, now)

    def change(data):
        old = data["exercises"].get(exercise_id)
        new = _merged(old, status, now)
        if old and all(old.get(k) == new[k] for k in ("status", "ever_passed")):
            return False  # the same verdict again: the file keeps when it was first given
        data["exercises"][exercise_id] = new
    _update(change)


def _chapter_of(exercise_id):
    ex = _core._REGISTRY.get(exercise_id)
    return ex.chapter if ex is not None else str(exercise_id).split(".")[0]


def _entries():
    """Every known verdict: the file's, with this kernel's newer ones on top (newest wins)."""
    data = _load() or _empty()
    cleared = {**data["cleared"]}
    for k, t in _CLEARED.items():
        cleared[k] = max(t, cleared.get(k, t))
    entries = dict(data["exercises"])
    for i, mine in _STATUS.items():
        theirs = entries.get(i)
        if theirs is None or mine["time"] >= theirs["time"]:
            entries[i] = {**mine, "ever_passed": mine["ever_passed"] or bool(theirs and theirs.get("ever_passed"))}
        elif mine["ever_passed"]:
            entries[i] = {**theirs, "ever_passed": True}
    return {i: e for i, e in entries.items()
            if e["time"] >= max(cleared.get("all", float("-inf")), cleared.get(_chapter_of(i), float("-inf")))}


@dataclass
class Progress:
    """Per-chapter status of every exercise: ``{chapter: {id: status}}`` (the latest verdict).

    ``passed_before``: ids whose latest verdict is not a pass but which passed earlier.
    ``where``: one line saying where progress is kept.
    """
    chapters: dict
    passed_before: frozenset = frozenset()
    where: str = ""

    def counts(self, chapter=None):
        statuses = [s for ch, d in self.chapters.items() if chapter is None or ch == _core._chapter_key(chapter)
                    for s in d.values()]
        return {k: statuses.count(k) for k in (PASSED, FAILED, NOT_ATTEMPTED)}

    def _note(self, i):
        return "  (passed before)" if i in self.passed_before else ""

    def __str__(self):
        lines = []
        for ch, items in self.chapters.items():
            c = {k: list(items.values()).count(k) for k in (PASSED, FAILED, NOT_ATTEMPTED)}
            lines.append(f"Chapter {ch}: {c[PASSED]}/{len(items)} passed")
            for i, s in items.items():
                lines.append(f"  {_SYMBOL[s]} {i:<32} {_core._REGISTRY[i].title}{self._note(i)}")
        if self.where:
            lines.append(self.where)
        return "\n".join(lines)

    def _repr_html_(self):
        rows = []
        for ch, items in self.chapters.items():
            done = list(items.values()).count(PASSED)
            rows.append(f'<tr><th colspan="3" style="text-align:left">Chapter {ch} — {done}/{len(items)} passed</th></tr>')
            for i, s in items.items():
                rows.append(f"<tr><td>{_SYMBOL[s]}</td><td><code>{html.escape(i)}</code></td>"
                            f"<td style='text-align:left'>{html.escape(_core._REGISTRY[i].title)}"
                            f"{html.escape(self._note(i))}</td></tr>")
        where = (f'<p class="labkit-progress-where" style="font-size:smaller">{html.escape(self.where)}</p>'
                 if self.where else "")
        return '<table class="labkit-progress">' + "".join(rows) + "</table>" + where

    def __repr__(self):
        return str(self)


_SYMBOL = {PASSED: "✅", FAILED: "❌", NOT_ATTEMPTED: "⬜"}


def _where():
    if _PROBLEM:
        return f"📁 Kept in this kernel only: {_PROBLEM[0]}."
    try:
        path = _shown_path(progress_file())
    except RuntimeError:  # no home folder
        path = FILENAME
    return f"📁 Saved in {path}; progress(reset=True) clears it."


def progress(chapter=None, reset=False):
    """Which exercises passed, failed or were not attempted, per chapter, across kernels and restarts.

    ``chapter`` (1 or '01') narrows it to one chapter; ``reset=True`` first clears the recorded
    verdicts (of that chapter only, when one is given), on disk too.
    """
    key = _core._chapter_key(chapter)
    if reset:
        _clear(key)
    entries = _entries()
    chapters, before = {}, set()
    for i in _core.ids():
        ex = _core._REGISTRY[i]
        if key is None or ex.chapter == key:
            e = entries.get(i)
            chapters.setdefault(ex.chapter, {})[i] = e["status"] if e else NOT_ATTEMPTED
            if e and e["status"] != PASSED and e.get("ever_passed"):
                before.add(i)
    return Progress(chapters, frozenset(before), _where())


def reset(chapter=None):
    """Forget recorded verdicts (all, or one chapter's), on disk too, and the hints shown in this kernel."""
    _clear(_core._chapter_key(chapter))


def _clear(key):
    now = time.time()
    for i in [i for i in _STATUS if key is None or _chapter_of(i) == key]:
        del _STATUS[i]
    for i in [i for i in _HINTS_SHOWN if key is None or _chapter_of(i) == key]:
        del _HINTS_SHOWN[i]
    _CLEARED[key or "all"] = now

    def change(data):
        data["exercises"] = {i: e for i, e in data["exercises"].items()
                             if key is not None and _chapter_of(i) != key}
        data["cleared"][key or "all"] = now
    _update(change)
