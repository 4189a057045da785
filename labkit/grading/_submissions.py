"""Finding submissions: notebooks, folders (nbgrader's ``submitted/<student>/<assignment>/``) and zip files.

Nothing here writes anywhere: every submission is read into memory (a zip's entries with a bounded read,
never extracted), so the files given stay byte-identical.

Student ids, in this order (the first rule that applies):

1. nbgrader's layout: a notebook at ``.../submitted/<student>/<assignment>/<name>.ipynb`` (or
   ``autograded/``) belongs to ``<student>``.
2. A notebook in a folder below the folder or zip given: the first folder below it is the student
   (``alice/00_start_here.ipynb`` → ``alice``; Moodle's ``Ada Lovelace_1234_assignsubmission_file_/...``
   → ``Ada Lovelace_1234``).
3. A notebook on its own (given directly, or at the top of a folder or zip): its file name without the
   released notebook's name and the extension (``alice_00_start_here.ipynb`` → ``alice``,
   ``alice.ipynb`` → ``alice``); Canvas's ``<name>_<digits>_<digits>_<file>`` → ``<name>``
   (``_late_`` kept out). A file named exactly like a released notebook, alone, uses its folder's name.

Two submissions that end with the same student id are both graded, the second as ``<id>#2``.
Checkpoints (``.ipynb_checkpoints``), macOS's ``__MACOSX`` and hidden files are ignored.
"""

import os
import re
import stat
import zipfile
from dataclasses import dataclass
from pathlib import Path, PurePosixPath

#: Largest notebook read (bytes); a zip entry larger than this, or expanding more than MAX_RATIO times its
#: compressed size, is refused as a possible zip bomb; a zip's notebooks together are read up to MAX_ZIP_TOTAL.
MAX_NOTEBOOK_BYTES = 50 * 2**20
MAX_RATIO = 200
MAX_ZIP_TOTAL = 2 * 2**30
MAX_ZIP_ENTRIES = 100_000

_RELEASED = re.compile(r"\d\d_[a-z0-9_]+")
_CANVAS = re.compile(r"^(.+?)_(?:late_)?\d+_\d+(?:_.*)?$")
_MOODLE = "_assignsubmission_file_"


@dataclass
class Submission:
    """One notebook to grade: ``student`` id, ``source`` (where it came from, for messages), ``data`` (its
    bytes, or None when it could not be read) and ``problem`` (why not, plainly)."""
    student: str
    source: str
    data: bytes = None
    problem: str = None
    chapter_hint: str = None      # NN from the file or assignment name, used when the notebook says nothing


def _ignored(parts):
    return any((p.startswith(".") and p not in (".", "..")) or p == "__MACOSX" for p in parts)


def _chapter_from_name(*names):
    for name in names:
        m = re.match(r"^(\d\d)(?:_|$)", name or "")
        if m:
            return m.group(1)
        m = re.search(r"(?:^|_)(\d\d)_[a-z]", name or "")
        if m:
            return m.group(1)
    return None


def _released_names():
    try:
        from ..release import repo_root
        return sorted(p.stem for p in (repo_root() / "notebooks").glob("*.ipynb"))
    except Exception:
        return []


def student_from_parts(parts, released=None):
    """The student id of a notebook at ``parts`` (path components below what was given; the last is the
    file name), by the rules of this module's docstring."""
    released = _released_names() if released is None else released
    parts = [p for p in parts if p]
    for i, p in enumerate(parts):
        if p in ("submitted", "autograded") and len(parts) - 1 >= i + 3:   # <student>/<assignment>/<file>
            return parts[i + 1]
    if len(parts) >= 2:
        top = parts[0]
        return top[:-len(_MOODLE)] if top.endswith(_MOODLE) else top.rstrip("_") or top
    stem = parts[-1][:-len(".ipynb")] if parts[-1].endswith(".ipynb") else parts[-1]
    for name in sorted(released, key=len, reverse=True):
        if name in stem and stem != name:
            stem = stem.replace(name, "").strip("_- .")
            break
    m = _CANVAS.match(stem)
    if m:
        stem = m.group(1)
    return stem


def _read_file(path):
    size = path.stat().st_size
    if size > MAX_NOTEBOOK_BYTES:
        return None, f"the file is {size / 2**20:.0f} MB, more than the {MAX_NOTEBOOK_BYTES // 2**20} MB a notebook may be"
    with open(path, "rb") as f:
        return f.read(MAX_NOTEBOOK_BYTES + 1), None


def _zip_entry_problem(info):
    name = info.filename
    pure = PurePosixPath(name.replace("\\", "/"))
    if name.startswith(("/", "\\")) or re.match(r"^[A-Za-z]:", name) or ".." in pure.parts:
        return "its path in the zip points outside the zip (zip-slip): refused"
    if stat.S_ISLNK(info.external_attr >> 16):
        return "it is a symbolic link in the zip: refused"
    if info.file_size > MAX_NOTEBOOK_BYTES:
        return (f"it would expand to {info.file_size / 2**20:.0f} MB, more than the "
                f"{MAX_NOTEBOOK_BYTES // 2**20} MB a notebook may be: refused (a zip bomb?)")
    if info.compress_size and info.file_size > 2**20 and info.file_size / info.compress_size > MAX_RATIO:
        return f"it expands {info.file_size / info.compress_size:.0f} times its compressed size: refused (a zip bomb?)"
    return None


def _read_zip(path, label):
    """(parts, data, problem) for each notebook in a zip, read in memory with bounded reads."""
    out = []
    try:
        zf = zipfile.ZipFile(path)
    except (zipfile.BadZipFile, OSError) as e:
        return [((path.stem + ".ipynb",), None, f"{label} is not a readable zip file ({e})")]
    with zf:
        infos = zf.infolist()
        if len(infos) > MAX_ZIP_ENTRIES:
            return [((path.stem + ".ipynb",), None, f"{label} holds {len(infos):,} entries: refused (a zip bomb?)")]
        total = 0
        for info in infos:
            name = info.filename.replace("\\", "/")
            parts = [p for p in name.split("/") if p]
            if info.is_dir() or not parts or not parts[-1].endswith(".ipynb") or _ignored(parts):
                continue
            problem = _zip_entry_problem(info)
            data = None
            if problem is None:
                total += info.file_size
                if total > MAX_ZIP_TOTAL:
                    problem = "the zip's notebooks together expand past 2 GB: refused (a zip bomb?)"
            if problem is None:
                try:
                    with zf.open(info) as f:          # bounded: a header that lies about its size is caught
                        data = f.read(MAX_NOTEBOOK_BYTES + 1)
                    if len(data) > MAX_NOTEBOOK_BYTES:
                        data, problem = None, "it expands past the size a notebook may be: refused (a zip bomb?)"
                except (zipfile.BadZipFile, OSError, RuntimeError, NotImplementedError, EOFError) as e:
                    problem = f"it could not be read from the zip ({e})"
            out.append((parts, data, problem))
    if not out:
        out.append(((path.stem + ".ipynb",), None, f"{label} holds no notebook (.ipynb)"))
    return out


def _zip_submissions(path, label, released):
    found = []
    for parts, data, problem in _read_zip(path, label):
        student = student_from_parts(list(parts), released)
        if problem and (".." in parts or parts[0].endswith(":")):
            student = Path(parts[-1]).stem
        if len(parts) == 1 and parts[0][:-6] in released:
            student = path.stem
        found.append(Submission(student, f"{label}:{'/'.join(parts)}", data, problem,
                                _chapter_from_name(parts[-1], *parts[:-1])))
    return found


def find_submissions(paths):
    """Every submission under ``paths`` (notebooks, folders, zip files), each a :class:`Submission`;
    a path that does not exist or holds no notebook gives a Submission with its ``problem``."""
    if isinstance(paths, (str, os.PathLike)):
        paths = [paths]
    released = _released_names()
    found = []
    for given in paths:
        if not isinstance(given, (str, os.PathLike)):
            raise TypeError(f"paths must be file or folder paths; got {type(given).__name__}")
        path = Path(given)
        label = str(path)
        if not path.exists():
            student = student_from_parts([path.name], released) if path.name.endswith(".ipynb") else path.name
            found.append(Submission(student or label, label, problem=f"{label} does not exist",
                                    chapter_hint=_chapter_from_name(path.name)))
            continue
        if path.is_file() and zipfile.is_zipfile(path) and not path.name.endswith(".ipynb"):
            found += _zip_submissions(path, label, released)
            continue
        if path.is_file():
            data, problem = _read_file(path)
            student = student_from_parts([path.name], released)
            if path.stem in released or not student:
                student = path.resolve().parent.name
            nbgrader = student_from_parts(list(path.resolve().parts), released)
            if "submitted" in path.resolve().parts or "autograded" in path.resolve().parts:
                student = nbgrader
            found.append(Submission(student, label, data, problem,
                                    _chapter_from_name(path.name, path.resolve().parent.name)))
            continue
        notebooks = sorted(p for p in path.rglob("*.ipynb")
                           if p.is_file() and not _ignored(p.relative_to(path).parts[:-1] + (p.name,)))
        zips = sorted(p for p in path.rglob("*.zip") if p.is_file() and not _ignored(p.relative_to(path).parts))
        for z in zips:
            found += _zip_submissions(z, str(z), released)
        if not notebooks and not zips:
            found.append(Submission(path.name, label, problem=f"{label} holds no notebook (.ipynb)"))
        for nb in notebooks:
            rel = nb.relative_to(path).parts
            full = nb.resolve().parts
            student = student_from_parts(list(rel), released)
            if "submitted" in full or "autograded" in full:
                student = student_from_parts(list(full), released)
            elif len(rel) == 1 and nb.stem in released:
                student = path.resolve().name
            data, problem = _read_file(nb)
            found.append(Submission(student, str(nb), data, problem, _chapter_from_name(nb.name, *rel[:-1])))
    seen = {}
    for s in found:
        n = seen.get(s.student, 0) + 1
        seen[s.student] = n
        if n > 1:
            s.student = f"{s.student}#{n}"
    return found
