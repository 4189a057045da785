"""Grading a class: ``python -m labkit grade SUBMISSIONS... --out grades.csv``, the sandbox and the exporters.

The grader (this package's :func:`grade`):

1. finds the submissions (``_submissions``: notebooks, folders, nbgrader's ``submitted/<student>/<assignment>/``
   layout, zip files as an LMS exports them, read in memory; the student id rules are in that module) —
   the files given are only read, never written;
2. runs a **copy** of each notebook in a fresh kernel in a private working folder, sandboxed by
   ``sandbox.kernel_manager`` (``_run``: per-cell timeout with interrupt, a wall limit, a memory limit,
   capped outputs; install lines are not run; a cell that kills its kernel is skipped and the notebook run
   again without it);
3. runs one extra grading cell (``_in_kernel``) that finds each exercise's answer by the name the released
   notebook passes to ``check("NN.id", name)`` (or the submission's own ``check`` call), runs function
   answers on **fresh cases drawn at grading time** (a seed per run, mixed with the student id) through
   fresh copies of labkit's ``_guard.run_function`` (limits and own-work tripwires), converts value and
   choice answers strictly, and prints plain JSON only;
4. decides every verdict in this process, with its own labkit (:func:`recheck`): references on the same
   cases, the exercise classes' comparison and diagnosis. A notebook that replaced ``check``, ``labkit`` or
   a reference gains nothing: no verdict and no expected answer is ever computed in the kernel;
5. checks the installed labkit was not edited (``_integrity``), and writes ``grades.csv`` (student, chapter,
   exercise_id, status, points, max_points, message), ``<out>_totals.csv``, ``<out>_report.md`` and
   ``<out>_totals.png`` (``_report``).

What a submission can still do (the limits of this design): the grading cell runs in the learner's kernel
after the learner's code, so a notebook written *against this grader* — one that replaces Python's own
``builtins.exec``, ``json.dumps``, ``os.fork`` or ``sys.stdout`` so as to forge the grading cell's report —
could claim outputs its function never returned. The report carries a per-run nonce the notebook cannot know
in advance, the outcomes are re-validated here, replaced labkit functions (by their code's file) are refused,
and the expected answers never enter the kernel; forging still takes deliberate work that the notebook's
source shows, so keep the submissions (the grader never changes them) for review.

**Per-student variants.** A value exercise that declares ``variants`` is graded against the numbers of the
student id this grader derives from the layout or the file name (``alice``, from ``submitted/alice/...`` or
``alice_03_interconnects.ipynb``), drawn with the course salt (``salt=``, ``--salt``, else
``$LABKIT_COURSE_SALT``) exactly as the student's kernel drew them from ``$JUPYTERHUB_USER``: the same id
and the same salt on both sides, or every student is graded against numbers they never saw. The kernel is
told the student's own numbers (``LABKIT_NUMBERS``, nothing else), so a notebook that prints them or computes
from them sees what the student saw. ``variants=False`` (``--no-variants``) grades everyone against the
default numbers: for a class that did not run on a hub.

Statuses: ``passed``, ``failed``, ``not attempted`` and ``error`` (the submission could not be graded: the
message says why in plain words). Every submission found gets rows; none is skipped silently.

For other tools (G3's exporters):

``recheck(exercise, report, cases=None) -> (status, message)``
    The verdict on one exercise from a kernel's plain report (``{"kind": "run", "outcomes": [...],
    "stop": ...}`` for a function run on ``cases``; ``{"kind": "plain", "value": ...}``; ``{"kind":
    "missing"}`` ...), computed in the calling process. ``exercise``: an Exercise or its id.
``draw_cases(exercise, seed, student="") -> [dict]``
    A function exercise's edge cases plus fresh random cases for one grading.
``answer_names(chapter) -> {exercise_id: name}``
    The names the released notebook passes to ``check``.
"""

import ast
import json
import os
import re
import secrets
import sys
import threading
import time
from collections import Counter
from concurrent.futures import ThreadPoolExecutor, as_completed
from dataclasses import asdict, dataclass, field
from pathlib import Path

from ..exercises._base import PASSED
from ._recheck import ERROR, draw_cases, encode_value, recheck
from ._submissions import Submission, find_submissions

__all__ = ["grade", "recheck", "draw_cases", "answer_names", "find_submissions", "Verdict", "GradeReport",
           "Submission", "ERROR"]


@dataclass
class Verdict:
    """One row of grades.csv."""
    student: str
    chapter: str
    exercise_id: str
    status: str
    points: float
    max_points: float
    message: str

    def as_dict(self):
        return asdict(self)


@dataclass
class GradeReport:
    """What :func:`grade` did: every verdict, the totals, the files written, the seed and the integrity note."""
    verdicts: list
    totals: list
    paths: dict
    seed: int
    integrity: str
    notes: dict = field(default_factory=dict)
    elapsed: float = 0.0

    def __str__(self):
        n = len(self.totals)
        return (f"graded {n} submission(s) in {self.elapsed:.0f} s: {self.paths['grades']} "
                f"(+ {self.paths['totals'].name}, {self.paths['report'].name}, {self.paths['histogram'].name})")


# ---------------------------------------------------------------------------------------------
# Which name holds each answer
# ---------------------------------------------------------------------------------------------
_MAGIC = re.compile(r"^(\s*)[%!].*$", re.M)


def check_calls(nb):
    """[(exercise_id, answer name or None)] of every ``check("id", name)`` call in a notebook's code cells
    (cells moved around or renamed do not matter; a cell that does not parse is skipped)."""
    calls = []
    for cell in nb.get("cells", []):
        if cell.get("cell_type") != "code":
            continue
        source = cell.get("source", "")
        source = "".join(source) if isinstance(source, list) else str(source)
        try:
            tree = ast.parse(_MAGIC.sub(r"\1pass", source))
        except (SyntaxError, ValueError, RecursionError, MemoryError):
            continue
        for node in ast.walk(tree):
            if (isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id == "check"
                    and node.args and isinstance(node.args[0], ast.Constant) and isinstance(node.args[0].value, str)):
                arg = node.args[1] if len(node.args) > 1 else None
                calls.append((node.args[0].value, arg.id if isinstance(arg, ast.Name) else None))
    return calls


_RELEASED_NAMES = {}


def answer_names(chapter):
    """{exercise_id: name} the released notebook ``notebooks/NN_*.ipynb`` passes to ``check`` ({} when the
    course checkout is not found)."""
    from ..exercises._core import _chapter_key
    key = _chapter_key(chapter)
    if key in _RELEASED_NAMES:
        return _RELEASED_NAMES[key]
    names = {}
    try:
        from ..release import repo_root
        for path in sorted((repo_root() / "notebooks").glob(f"{key}_*.ipynb")):
            with open(path, encoding="utf-8") as f:
                for exercise_id, name in check_calls(json.load(f)):
                    if name is not None:
                        names.setdefault(exercise_id, name)
    except (OSError, ValueError, FileNotFoundError):
        names = {}
    _RELEASED_NAMES[key] = names
    return names


def _known(exercise_id):
    from ..exercises import get
    try:
        get(exercise_id)
        return True
    except KeyError:
        return False


# ---------------------------------------------------------------------------------------------
# One submission
# ---------------------------------------------------------------------------------------------
class _Context:
    def __init__(self, chapter, seed, limits, make_km, snapshot, salt="", variants=True):
        self.chapter, self.seed, self.limits, self.make_km, self.snapshot = chapter, seed, limits, make_km, snapshot
        self.salt, self.variants = salt, variants
        self.compromised = None
        self.lock = threading.Lock()


def _rows(student, chapter, status, message, exercise_ids=None):
    from ..exercises import get, ids
    if exercise_ids is None:
        exercise_ids = ids(chapter) if chapter else []
    if not exercise_ids:
        return [Verdict(student, chapter or "", "", status, 0, 0, message)]
    return [Verdict(student, chapter, i, status, 0, get(i).points, message) for i in exercise_ids]


def _grading_cell(snapshot, request):
    return ("import builtins as _labkit_b\n"
            "_labkit_ns = {'__builtins__': _labkit_b, '__name__': '_labkit_grader'}\n"
            f"_labkit_b.exec(_labkit_b.compile({snapshot.kernel_src!r}, '<labkit grader>', 'exec'), _labkit_ns)\n"
            f"_labkit_ns['main'](_labkit_b.globals(), _labkit_b.__import__('json').loads({json.dumps(request)!r}), "
            f"{snapshot.base_src!r}, {snapshot.guard_src!r})\n")


def _grade_one(sub, ctx):
    """(verdicts, notes) for one submission; never raises."""
    try:
        return _grade_one_unsafe(sub, ctx)
    except Exception as e:    # a grader bug must still give the student rows, and say so
        chapter = ctx.chapter or sub.chapter_hint
        return _rows(sub.student, chapter, ERROR, f"the grader failed on this submission ({type(e).__name__}: "
                                                  f"{str(e)[:200]}); grade it by hand"), []


def _grade_one_unsafe(sub, ctx):
    from ..exercises import get, ids
    from ._run import execute, prepare, read_notebook

    if ctx.compromised:
        return _rows(sub.student, ctx.chapter or sub.chapter_hint, ERROR,
                     f"not graded: the installed labkit was modified while grading {ctx.compromised}; "
                     "reinstall labkit and grade again"), []
    if sub.problem:
        return _rows(sub.student, ctx.chapter or sub.chapter_hint, ERROR, f"not gradable: {sub.problem}"), []
    nb, problem = read_notebook(sub.data)
    if problem:
        return _rows(sub.student, ctx.chapter or sub.chapter_hint, ERROR, f"not gradable: {problem}"), []
    calls = check_calls(nb)
    known = [i for i, _ in calls if _known(i)]
    chapters = Counter(i.split(".")[0] for i in known)
    own_chapter = chapters.most_common(1)[0][0] if chapters else sub.chapter_hint
    chapter = ctx.chapter or own_chapter
    if ctx.chapter and own_chapter and own_chapter != ctx.chapter:
        return _rows(sub.student, ctx.chapter, ERROR,
                     f"not gradable: this is chapter {own_chapter}'s notebook, not chapter {ctx.chapter}'s"), []
    if not chapter or not ids(chapter):
        return _rows(sub.student, chapter, ERROR,
                     "not gradable: no chapter found (the notebook checks no known exercise); "
                     "give the chapter with --chapter"), []
    notes = []
    unknown = sorted({i for i, _ in calls if not _known(i)})
    if unknown:
        notes.append("the notebook checks " + ", ".join(repr(u) for u in unknown[:5])
                     + ", which is no exercise (renamed?); answers were found by their names")
    released = answer_names(chapter)
    own = {}
    for exercise_id, name in calls:
        if name is not None:
            own.setdefault(exercise_id, []).append(name)
    specs, cases, numbers = [], {}, {}
    total_budget = 30.0
    for exercise_id in ids(chapter):
        ex = get(exercise_id)
        if getattr(ex, "variants", None):
            numbers[exercise_id] = ex.numbers_for(sub.student if ctx.variants else None, ctx.salt)
        names = [n for n in [released.get(exercise_id), *own.get(exercise_id, [])] if n]
        spec = {"id": exercise_id, "kind": ex.kind, "names": list(dict.fromkeys(names))}
        if ex.kind == "function":
            cases[exercise_id] = draw_cases(ex, ctx.seed, sub.student)
            spec.update(cases=[[encode_value(v) for v in c.values()] for c in cases[exercise_id]],
                        timeout=ex.timeout, total_timeout=10 * ex.timeout, teaches=list(ex.teaches))
            total_budget += 10 * ex.timeout + 5
        specs.append(spec)
    nonce = secrets.token_hex(16)
    request = {"nonce": nonce, "begin": f"<<<labkit-grade {nonce} begin>>>", "end": f"<<<labkit-grade {nonce} end>>>",
               "labkit_dir": str(ctx.snapshot.root), "exercises": specs}
    notes += prepare(nb)
    given = {"LABKIT_NUMBERS": json.dumps(numbers)} if numbers else None

    def make_km(workdir):
        return ctx.make_km(workdir, env=given)
    executed = execute(nb, _grading_cell(ctx.snapshot, request), total_budget, ctx.limits, make_km)
    notes += executed.notes
    edits = ctx.snapshot.edits_since()
    if edits:
        with ctx.lock:
            ctx.compromised = ctx.compromised or sub.student
        return _rows(sub.student, chapter, ERROR,
                     "not graded: while this submission ran, the installed labkit changed ("
                     + ", ".join(edits[:5]) + "); reinstall labkit"), notes
    if executed.problem:
        return _rows(sub.student, chapter, ERROR, f"not gradable: {executed.problem}"), notes
    results = _parse(executed.text or "", request)
    if results is None:
        return _rows(sub.student, chapter, ERROR,
                     "not gradable: the grading cell gave no result (did the notebook replace sys.stdout or "
                     "builtins?)"), notes
    verdicts = []
    for spec in specs:
        ex = get(spec["id"])
        status, message = recheck(ex, results.get(spec["id"]), cases.get(spec["id"]), numbers.get(spec["id"]))
        verdicts.append(Verdict(sub.student, chapter, ex.id, status, ex.points if status == PASSED else 0,
                                ex.points, message))
    return verdicts, notes


def _parse(text, request):
    begin, end = request["begin"], request["end"]
    start = text.rfind(begin)
    stop = text.find(end, start) if start >= 0 else -1
    if start < 0 or stop < 0:
        return None
    try:
        payload = json.loads(text[start + len(begin):stop])
    except ValueError:
        return None
    if type(payload) is not dict or payload.get("nonce") != request["nonce"] or type(payload.get("results")) is not dict:
        return None
    return payload["results"]


# ---------------------------------------------------------------------------------------------
# The class
# ---------------------------------------------------------------------------------------------
def _kernel_factory(sandbox, limits):
    from .sandbox import kernel_manager
    backstop = limits.wall + 900          # killed from outside even if every other limit failed

    def make(workdir, env=None):
        return kernel_manager(workdir, sandbox=sandbox, memory_bytes=limits.memory_bytes, timeout=backstop, env=env)
    return make


def grade(paths, out="grades.csv", jobs=None, sandbox=True, seed=None, chapter=None, cell_timeout=60.0,
          wall=600.0, memory_bytes=2 * 2**30, output_bytes=2 * 2**20, overwrite=False, progress=None, salt=None,
          variants=True):
    """Grade every submission under ``paths`` and write ``out`` (grades.csv) and its companions.

    ``paths``: notebooks, folders or zip files. ``jobs``: submissions run at once (default: the CPU count).
    ``sandbox``: run kernels in the bubblewrap sandbox (``sandbox.available()``); False runs them unisolated
    (trusted notebooks only). ``seed``: the seed of the fresh function cases (default: a new one, recorded in
    the report). ``chapter``: the chapter expected (``"00"`` or 0): another chapter's notebook is then an
    error. ``cell_timeout``, ``wall`` (s), ``memory_bytes``, ``output_bytes``: the limits of each run.
    ``overwrite``: replace existing output files (otherwise a FileExistsError names them). ``progress``:
    a function called with one line of text after each submission (e.g. ``print``). ``salt``: the course
    salt of per-student variants (default ``$LABKIT_COURSE_SALT``, else none); ``variants``: False grades
    every student against the default numbers (see the module's docstring).
    Returns a :class:`GradeReport`.
    """
    from ..core import validate
    from ..exercises._core import _chapter_key
    from . import _integrity, _report
    from ._run import Limits

    if isinstance(paths, (str, os.PathLike)):
        paths = [paths]
    if not isinstance(paths, (list, tuple)) or not paths:
        raise TypeError("paths must be a list of notebooks, folders or zip files (at least one)")
    if not isinstance(out, (str, os.PathLike)):
        raise TypeError(f"out must be a file path such as 'grades.csv'; got {type(out).__name__}")
    jobs = (os.cpu_count() or 1) if jobs is None else validate.integer("jobs", jobs, minimum=1, maximum=256)
    sandbox = validate.flag("sandbox", sandbox)
    overwrite = validate.flag("overwrite", overwrite)
    seed = secrets.randbits(32) if seed is None else validate.integer("seed", seed, minimum=0, maximum=2**63 - 1)
    chapter = _chapter_key(chapter)
    limits = Limits(cell_timeout=validate.positive("cell_timeout", cell_timeout, "s", maximum=3600),
                    wall=validate.positive("wall", wall, "s", maximum=24 * 3600),
                    memory_bytes=None if memory_bytes is None else validate.integer(
                        "memory_bytes", memory_bytes, minimum=256 * 2**20, maximum=None),
                    output_bytes=validate.integer("output_bytes", output_bytes, minimum=1, maximum=2**31))
    from ..exercises._core import SALT_ENV
    salt = os.environ.get(SALT_ENV, "") if salt is None else salt
    if not isinstance(salt, str):
        raise TypeError(f"salt must be a string (the course salt), got {type(salt).__name__}")
    variants = validate.flag("variants", variants)
    if progress is not None and not callable(progress):
        raise TypeError("progress must be a function taking one line of text, or None")
    if chapter is not None:
        from ..exercises import ids
        if not ids(chapter):
            raise ValueError(f"chapter must be one of the course's chapters; {chapter!r} has no exercises")
    targets = _report.output_paths(out)
    if not Path(out).resolve().parent.is_dir():
        raise ValueError(f"out: the folder {Path(out).parent} does not exist")
    existing = [str(p) for p in targets.values() if p.exists()]
    if existing and not overwrite:
        raise FileExistsError("these files exist and would be replaced: " + ", ".join(existing)
                              + " (pass overwrite=True, or --force, to replace them)")
    if sandbox:
        from .sandbox import SandboxUnavailable, available
        ok, reason = available()
        if not ok:
            raise SandboxUnavailable(reason)

    start = time.monotonic()
    snapshot = _integrity.Snapshot()
    if snapshot.record_problems:
        raise RuntimeError("the installed labkit differs from its wheel, so grades could not be trusted: "
                           + "; ".join(snapshot.record_problems[:5]) + " (reinstall labkit)")
    submissions = find_submissions(paths)
    ctx = _Context(chapter, seed, limits, _kernel_factory(sandbox, limits), snapshot, salt, variants)
    verdicts, notes = [], {}
    done = 0
    with ThreadPoolExecutor(max_workers=max(1, min(jobs, len(submissions)))) as pool:
        futures = {pool.submit(_grade_one, s, ctx): s for s in submissions}
        for future in as_completed(futures):
            sub = futures[future]
            rows, sub_notes = future.result()
            if sub_notes:
                notes[sub.student] = sub_notes
                rows = [Verdict(**{**r.as_dict(), "message": r.message + " Note: " + "; ".join(sub_notes) + "."})
                        for r in rows]
            verdicts.extend(rows)
            done += 1
            if progress is not None:
                got = sum(r.points for r in rows)
                top = sum(r.max_points for r in rows)
                progress(f"graded {done}/{len(submissions)} ({sub.student}: {got:g}/{top:g})")
    elapsed = time.monotonic() - start
    integrity = snapshot.note + ("" if sandbox else "; kernels ran WITHOUT the sandbox (--no-sandbox)")
    integrity += ("; per-student variants: " + ("on, with a course salt" if salt else "on, without a course salt")
                  if variants else "; per-student variants: off (--no-variants), everyone graded on the default numbers")
    paths_written, table = _report.write_all(verdicts, notes, out, seed, integrity, elapsed)
    return GradeReport(sorted(verdicts, key=lambda v: (v.student, v.chapter or "", v.exercise_id)), table,
                       paths_written, seed, integrity, notes, elapsed)


def main(argv=None):
    """``python -m labkit grade``: see :func:`grade`."""
    import argparse
    parser = argparse.ArgumentParser(prog="python -m labkit grade")
    add_arguments(parser)
    return run_cli(parser.parse_args(argv))


def add_arguments(parser):
    parser.add_argument("submissions", nargs="+", help="notebooks, folders (nbgrader's submitted/ too) or zip files")
    parser.add_argument("--out", default="grades.csv", help="the grades CSV to write (default grades.csv); "
                        "<out>_totals.csv, <out>_report.md and <out>_totals.png are written beside it")
    parser.add_argument("--chapter", help="the chapter expected (e.g. 03): another chapter's notebook is an error")
    parser.add_argument("--jobs", type=int, default=None, help="submissions run at once (default: the CPU count)")
    parser.add_argument("--seed", type=int, default=None, help="seed of the fresh function cases (default: new)")
    parser.add_argument("--cell-timeout", type=float, default=60.0, help="seconds per cell (default 60)")
    parser.add_argument("--wall", type=float, default=600.0, help="seconds per notebook (default 600)")
    parser.add_argument("--memory", type=float, default=2.0, help="GiB of memory per kernel (default 2)")
    parser.add_argument("--no-sandbox", action="store_true",
                        help="run the kernels WITHOUT isolation (only for notebooks you trust)")
    parser.add_argument("--force", action="store_true", help="replace existing output files")
    parser.add_argument("--salt", default=None, help="the course salt of per-student variants (default: "
                        "$LABKIT_COURSE_SALT); it must be the one the students' hub sets")
    parser.add_argument("--no-variants", action="store_true",
                        help="grade everyone against the default numbers (a class that did not run on a hub)")


def run_cli(args):
    from .sandbox import SandboxUnavailable
    try:
        report = grade(args.submissions, out=args.out, jobs=args.jobs, sandbox=not args.no_sandbox, seed=args.seed,
                       chapter=args.chapter, cell_timeout=args.cell_timeout, wall=args.wall,
                       memory_bytes=int(args.memory * 2**30), overwrite=args.force, salt=args.salt,
                       variants=not args.no_variants,
                       progress=lambda line: print(line, file=sys.stderr, flush=True))
    except SandboxUnavailable as e:
        print(f"error: {e}", file=sys.stderr)
        return 2
    except (FileExistsError, TypeError, ValueError, RuntimeError) as e:
        print(f"error: {e}", file=sys.stderr)
        return 2
    print(report)
    if args.no_sandbox:
        print("note: the kernels ran WITHOUT the sandbox", file=sys.stderr)
    return 0
