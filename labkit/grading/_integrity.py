"""Is the labkit that grades the labkit that was installed?

Two checks, because labkit is installed two ways:

- **A wheel install** (``pip install labkit...``, what a grading machine or hub image has): its
  ``*.dist-info/RECORD`` lists every file with its sha256. Before grading, every labkit file is compared
  with it: an edit made before grading started (by hand, or by an earlier unsandboxed run) is found.
- **An editable install** (the course checkout: ``pip install -e .``): RECORD lists no package file, so
  there is nothing independent to compare with; the grader says so in its report (``git status`` tells
  the instructor whether the checkout is clean).

In both cases a manifest (sha256 of every file of the package) is taken when grading starts, from the
package the grader itself imported, and taken again after each submission ran: a submission that
edited the installed labkit (possible only without the sandbox, whose system is read-only) is named, and
nothing graded after it is trusted. The sources sent into each kernel (``_base.py``, ``_guard.py``, the
grading cell) are read once, at that moment, and their hashes must match the manifest.
"""

import base64
import hashlib
from pathlib import Path


def package_dir():
    import labkit
    return Path(labkit.__file__).resolve().parent


def manifest(root=None):
    """{relative path: sha256 hex} of every file of the labkit package (caches excluded)."""
    root = Path(root) if root is not None else package_dir()
    out = {}
    for p in sorted(root.rglob("*")):
        if p.is_file() and "__pycache__" not in p.parts and not p.name.endswith((".pyc", ".pyo")):
            out[p.relative_to(root).as_posix()] = hashlib.sha256(p.read_bytes()).hexdigest()
    return out


def changed(before, after):
    """The files added, removed or edited between two manifests (sorted)."""
    return sorted(k for k in set(before) | set(after) if before.get(k) != after.get(k))


def against_record():
    """(problems, note): files that differ from the installed wheel's RECORD, and a plain note on what was
    checked (an editable install has no RECORD entries for the package's files)."""
    try:
        from importlib.metadata import PackageNotFoundError, distribution
        dist = distribution("labkit")
    except Exception:   # PackageNotFoundError, or a broken metadata folder
        return [], "labkit is not installed as a package (no RECORD): only the start-of-grading manifest was used"
    root = package_dir()
    problems, checked = [], 0
    for f in dist.files or ():
        parts = Path(str(f)).parts
        if not parts or parts[0] != "labkit" or f.hash is None or f.hash.mode != "sha256":
            continue
        target = root.joinpath(*parts[1:])
        if not target.is_file():
            problems.append(f"{f} is missing")
            continue
        digest = base64.urlsafe_b64encode(hashlib.sha256(target.read_bytes()).digest()).rstrip(b"=").decode()
        checked += 1
        if digest != f.hash.value:
            problems.append(f"{f} differs from the installed wheel")
    if not checked:
        _ = PackageNotFoundError
        return [], ("labkit is an editable install (its RECORD lists no package file): only the "
                    "start-of-grading manifest was used; `git status` shows whether the checkout is clean")
    return problems, f"{checked} labkit files checked against the installed wheel's RECORD"


class Snapshot:
    """What grading starts from: the manifest, and the text of the sources sent into each kernel."""

    def __init__(self):
        self.root = package_dir()
        self.files = manifest(self.root)
        self.record_problems, self.note = against_record()
        texts = {}
        for rel in ("exercises/_base.py", "exercises/_guard.py", "grading/_in_kernel.py"):
            data = (self.root / rel).read_bytes()
            if hashlib.sha256(data).hexdigest() != self.files.get(rel):
                raise RuntimeError(f"labkit/{rel} changed while grading started")
            texts[rel] = data.decode("utf-8")
        self.base_src = texts["exercises/_base.py"]
        self.guard_src = texts["exercises/_guard.py"]
        self.kernel_src = texts["grading/_in_kernel.py"]

    def edits_since(self):
        """The package files changed since the snapshot (empty when none)."""
        return changed(self.files, manifest(self.root))
