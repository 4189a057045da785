"""An nbgrader course tree from ``solutions/``: ``python -m labkit release --nbgrader DIR``.

    python -m labkit release --nbgrader course/   # course/source/<assignment>/<notebook>.ipynb, one per chapter
    cd course && nbgrader generate_assignment 03_interconnects   # then collect, autograde, export

The instructor notebooks already use nbgrader's solution markers, but they carry no nbgrader cell
metadata and keep each ``check(...)`` in the answer cell, so ``nbgrader generate_assignment`` cannot use
them as they are. The export writes one notebook per chapter in which:

- each code cell with a solution region is an **answer cell** (``solution: true``); the
  ``check("NN.id", name)`` lines are moved out of it into a **locked autograded test cell** per exercise,
  worth the exercise's ``points``. In the students' copy that cell shows the check (✅/❌, never raising,
  so Run All goes on); its **hidden tests** (``### BEGIN HIDDEN TESTS`` … ``### END HIDDEN TESTS``,
  removed from the students' copy and put back by ``nbgrader autograde``) assert that the check passed —
  ``check()`` itself never raises, so a plain ``check(...)`` in a grade cell would score every answer as
  correct. A missing, wrong or untouched answer fails the cell with the check's message
  (``AssertionError: Not attempted yet ...``). A function answer is also run on random inputs drawn at
  grading time (:func:`fresh_check`), so one that memorised the inputs the visible check uses fails.
- each markdown answer (a reflection) becomes a **manually graded answer cell** worth
  ``REFLECTION_POINTS``; the question before it stays an ordinary markdown cell.
- the setup cell is labkit's (:func:`labkit.release.setup_source`) and the badge cell a short note for
  graded work (no placeholder left).

**Top-level answers keep Run All going.** nbgrader replaces a solution region with one fixed stub per
language, by default ``# YOUR CODE HERE`` + ``raise NotImplementedError()``, which would stop Run All at
the first top-level answer. The export writes ``nbgrader_config.py`` in DIR (nbgrader reads it from the
folder it runs in) setting ``c.ClearSolutions.code_stub = {"python": "# YOUR CODE HERE"}``, and emits the
rest of labkit's student stub outside the region: ``name = ...`` before a top-level region (for each
name it assigns; the solution assigns it again) and ``raise NotImplementedError()`` after a region
inside a function (after its ``return``, so never reached in the solutions). The students' notebook is
then the one ``python -m labkit release`` writes, up to a comment line. An existing
``nbgrader_config.py`` is never rewritten: without that setting the export says what line to add.

Nothing the user has is overwritten: a notebook already in DIR is replaced only when it is an unedited
earlier export (its metadata records a digest of its cells); otherwise the export stops, naming it,
before writing anything.

**Per-student variants.** A value exercise with ``variants`` is checked, in the test cell, against the
numbers of the student nbgrader autogrades: ``nbgrader autograde`` runs each notebook in
``autograded/<student>/<assignment>/`` with ``NBGRADER_EXECUTION=autograde``, and labkit's ``check()``
takes the student id from there (``labkit.exercises.current_student``); the course salt comes from
``LABKIT_COURSE_SALT`` in the environment autograde runs in (tests/test_nbgrader.py runs this for real).
A non-default ``directory_structure`` hides the student: everyone is then checked on the default numbers
(never on the user name of whoever runs autograde).

**Limits.** nbgrader runs every submission in a kernel on the grader's machine, unisolated, and the test
cells run in the student's own kernel after the student's code: a determined student can tamper with
labkit there (the checking code refuses every pass once it sees that, but cannot see everything). For
graded work on untrusted submissions prefer ``python -m labkit grade``, which re-checks each answer in a
sandboxed kernel with a fresh copy of the checking code.
"""

import ast
import copy
import hashlib
import json
import re
import secrets
import sys
from pathlib import Path

from .. import release as _release

SCHEMA_VERSION = 3
REFLECTION_POINTS = 1
CODE_STUB = "# YOUR CODE HERE"
CONFIG_NAME = "nbgrader_config.py"
CONFIG_TEXT = (
    "# Written by `python -m labkit release --nbgrader`; nbgrader reads it from the folder it runs in.\n"
    "c = get_config()  # noqa: F821\n"
    "# A solution region becomes this stub; labkit's export writes `name = ...` before top-level answers and\n"
    "# `raise NotImplementedError()` after answers inside functions, so the students' Run All never stops.\n"
    f"c.ClearSolutions.code_stub = {{\"python\": {json.dumps(CODE_STUB)}}}\n"
)
NOTE = ("*Graded assignment: answer in place of `...`, `# YOUR CODE HERE` and \"YOUR ANSWER HERE\"; the "
        "locked cell after each exercise is its test. Run every cell from the top before you submit.*")

_CHECK_LINE = re.compile(r"""^check\(\s*(["'])(?P<id>\d\d\.\w+)\1\s*,\s*(?P<answer>.+?)\s*\)\s*;?\s*$""")


class ExportError(_release.ReleaseError):
    """Solutions that cannot be exported, or a folder the export would overwrite; names file and cell."""


def assignment_name(source):
    """The nbgrader assignment of one solution notebook: its file name without .ipynb (``03_interconnects``)."""
    return Path(source).stem


def _grade_id(text):
    return re.sub(r"[^A-Za-z0-9_-]", "-", text)


def _meta(kind, grade_id, points=None):
    m = {"grade_id": grade_id, "schema_version": SCHEMA_VERSION}
    if kind == "answer":
        m.update(solution=True, grade=False, locked=False)
    elif kind == "test":
        m.update(solution=False, grade=True, locked=True, points=points)
    elif kind == "manual":
        m.update(solution=True, grade=True, locked=False, points=points)
    return {"nbgrader": m}


def _assigned_names(region, where, line):
    """Names a top-level region assigns, in order; ExportError when it reads one before assigning it
    (the ``name = ...`` written before the region would then change what the solution computes)."""
    try:
        tree = ast.parse(region)
    except SyntaxError as e:
        raise ExportError(f"{where}, line {line}: the solution region is not valid Python ({e.msg})") from None
    names = []
    for node in tree.body:
        targets = node.targets if isinstance(node, ast.Assign) else (
            [node.target] if isinstance(node, (ast.AnnAssign, ast.AugAssign)) else [])
        stored = [n.id for t in targets for n in ast.walk(t) if isinstance(n, ast.Name)]
        loaded = {n.id for n in ast.walk(node) if isinstance(n, ast.Name) and isinstance(n.ctx, ast.Load)}
        if isinstance(node, ast.AugAssign):
            loaded.update(stored)
        early = [n for n in loaded if n in stored and n not in names] if loaded else []
        if early:
            raise ExportError(f"{where}, line {line}: the solution reads {early[0]!r} before assigning it; "
                              "a top-level answer must assign its names from other values")
        names.extend(n for n in stored if n not in names)
    return names


def _ends_in_exit(region):
    try:
        body = ast.parse(region).body
    except SyntaxError:
        return False
    return bool(body) and isinstance(body[-1], (ast.Return, ast.Raise))


def _answer_code(source, where):
    """A code cell's source with labkit's student stub around each solution region (see the module doc)."""
    lines = source.split("\n")
    out, i = [], 0
    for b, e in _release._regions(source, where):
        out.extend(lines[i:b])
        indent = lines[b][: len(lines[b]) - len(lines[b].lstrip())]
        region = "\n".join(l[len(indent):] if l.startswith(indent) else l for l in lines[b + 1:e])
        if indent == "":
            out.extend(f"{n} = ...  # replace ... with your answer" for n in _assigned_names(region, where, b + 2))
            out.extend(lines[b:e + 1])
        else:
            if not _ends_in_exit(region):
                raise ExportError(f"{where}, line {b + 1}: a solution region inside a function must end with "
                                  "`return` (the students' copy raises NotImplementedError after it)")
            out.extend(lines[b:e + 1])
            out.append(indent + "raise NotImplementedError()")
        i = e + 1
    out.extend(lines[i:])
    return "\n".join(out)


def _split_checks(source):
    """(source without its top-level ``check("NN.id", answer)`` lines, [(id, answer expression), ...])."""
    kept, checks = [], []
    for line in source.split("\n"):
        m = _CHECK_LINE.match(line)
        if m:
            checks.append((m.group("id"), m.group("answer")))
        else:
            kept.append(line)
    while kept and not kept[-1].strip():
        kept.pop()
    return "\n".join(kept), checks


def grade_cell_source(exercise, answer):
    """The locked test cell of one exercise. The students' copy shows the check (✅/❌, never raising, so
    Run All goes on); the hidden region, which nbgrader puts back when it autogrades, fails the cell
    (AssertionError with the check's message) unless the answer passes, a function answer also on
    inputs drawn at grading time."""
    value = f"globals().get({answer!r}, ...)" if answer.isidentifier() else answer
    points = f"{exercise.points:g} point{'s' if exercise.points != 1 else ''}"
    lines = [f"# Test of {exercise.id} ({points}), run when your work is graded; here it shows the check.",
             "from labkit.exercises import check as _check",
             f"_result = _check({exercise.id!r}, {value})",
             "### BEGIN HIDDEN TESTS",
             "assert _result.passed, _result.message"]
    if exercise.kind == "function":
        lines += ["from labkit.grading.nbgrader_export import fresh_check as _fresh_check",
                  f"_result = _fresh_check({exercise.id!r}, {value})",
                  "assert _result.passed, 'On inputs drawn at grading time: ' + _result.message"]
    lines.append("### END HIDDEN TESTS")
    return "\n".join(lines)


def _cell(cell_type, source, cell_id, metadata=None):
    c = {"cell_type": cell_type, "id": cell_id[:64], "metadata": metadata or {}, "source": source}
    if cell_type == "code":
        c["outputs"], c["execution_count"] = [], None
    return c


def nbgrader_notebook(nb, name, where=None):
    """The nbgrader source version of one instructor notebook (a new dict; ``nb`` is not changed)."""
    from ..exercises import get, ids
    where = where or name
    chapter = name[:2]
    cells, tested, manual = [], [], 0
    for index, cell in enumerate(nb["cells"]):
        if not isinstance(cell, dict) or "cell_type" not in cell:
            raise ExportError(f"{where}, cell index {index}: not a notebook cell (no cell_type)")
        tags = cell.get("metadata", {}).get("tags", [])
        if _release.DROP_TAG in tags:
            continue
        here = f"{where}, cell index {index} ({cell['cell_type']})"
        cid = _grade_id(str(cell.get("id") or f"cell-{index}"))
        keep = {k: v for k, v in cell.get("metadata", {}).items() if k in ("tags",)}
        source = _release._text(cell.get("source", ""))
        if cell["cell_type"] == "code":
            if _release.SETUP_TAG in tags:
                source = _release.setup_source()
            code, checks = _split_checks(source)
            if _release._regions(code, here):
                label = checks[0][0] if checks else f"{chapter}-{cid}"
                cells.append(_cell("code", _answer_code(code, here), cid,
                                   {**keep, **_meta("answer", _grade_id(f"{label}-answer"))}))
            elif code.strip():
                cells.append(_cell("code", code, cid, keep))
            for k, (exercise_id, answer) in enumerate(checks):
                try:
                    exercise = get(exercise_id)
                except KeyError as e:
                    raise ExportError(f"{here}: {e.args[0]}") from None
                if exercise_id in tested:
                    raise ExportError(f"{here}: {exercise_id} is checked a second time (one test cell each)")
                tested.append(exercise_id)
                cells.append(_cell("code", grade_cell_source(exercise, answer), f"{cid}-test{k or ''}",
                                   _meta("test", _grade_id(exercise_id), exercise.points)))
        elif cell["cell_type"] == "markdown":
            if _release.BADGE_TAG in tags:
                cells.append(_cell("markdown", NOTE, cid, keep))
                continue
            lines, i = source.split("\n"), 0
            for k, (b, e) in enumerate(_release._regions(source, here)):
                before = "\n".join(lines[i:b]).strip("\n")
                if before.strip():
                    cells.append(_cell("markdown", before, f"{cid}-{k}" if k else cid, keep))
                manual += 1
                cells.append(_cell("markdown", "\n".join(lines[b:e + 1]), f"{cid}-answer{k or ''}",
                                   _meta("manual", f"{chapter}-reflection-{manual}", REFLECTION_POINTS)))
                i = e + 1
            rest = "\n".join(lines[i:]).strip("\n")
            if rest.strip() or i == 0:
                cells.append(_cell("markdown", rest if i else source, f"{cid}-after" if i else cid, keep))
        else:
            if _release._regions(source, here):
                raise ExportError(f"{here}: solution markers are only handled in code and markdown cells")
            cells.append(_cell(cell["cell_type"], source, cid, keep))
    missing = [i for i in ids(chapter) if i not in tested]
    if missing:
        raise ExportError(f"{where}: no `check(\"id\", answer)` line for {', '.join(missing)}: "
                          "it would not be graded")
    seen = set()
    for c in cells:            # nbgrader and nbformat need unique cell ids
        base, n = c["id"], 1
        while c["id"] in seen:
            n += 1
            c["id"] = f"{base[:58]}-{n}"
        seen.add(c["id"])
    metadata = {"kernelspec": {"display_name": "Python 3 (ipykernel)", "language": "python", "name": "python3"},
                "language_info": {"name": "python"}}
    out = {"cells": cells, "metadata": metadata, "nbformat": 4, "nbformat_minor": 5}
    out["metadata"]["labkit"] = {"nbgrader_export": {"source": f"solutions/{name}", "digest": _digest(out)}}
    return out


def _digest(nb):
    return hashlib.sha256(json.dumps(nb["cells"], sort_keys=True).encode()).hexdigest()


def _ours_unedited(path):
    """Whether ``path`` is an earlier export nobody edited since (so it may be replaced)."""
    try:
        nb = json.loads(Path(path).read_text(encoding="utf-8"))
        mark = nb["metadata"]["labkit"]
        recorded = (mark.get("nbgrader_export") or mark["otter_export"])["digest"]
    except (OSError, ValueError, KeyError, TypeError):
        return False
    cells = []
    for c in nb["cells"]:          # as Jupyter saves it: source as a list of lines, outputs kept
        c = dict(c, source=_release._text(c.get("source", "")))
        if c.get("cell_type") == "code":
            c["outputs"], c["execution_count"] = [], None
        cells.append(c)
    return _digest({"cells": cells}) == recorded


def plan(out_dir, root=None, fmt="nbgrader"):
    """{path: text} of every notebook the export writes under ``out_dir`` (nothing written): for
    ``fmt="nbgrader"`` ``source/<assignment>/<notebook>.ipynb``, for ``"otter"`` ``<assignment>/<notebook>.ipynb``
    (otter's master notebooks)."""
    from ..core import validate
    validate.instance("out_dir", out_dir, (str, Path), "a folder path (str or pathlib.Path)")
    validate.choice("fmt", fmt, ("nbgrader", "otter"))
    out_dir = Path(out_dir)
    if out_dir.exists() and not out_dir.is_dir():
        raise ValueError(f"out_dir: {out_dir} exists and is not a folder")
    root = Path(root) if root else _release.repo_root()
    planned, problems = {}, []
    for src in _release._sources(root):
        where = _release._shown(src, root)
        try:
            convert = nbgrader_notebook if fmt == "nbgrader" else otter_notebook
            nb = convert(_release._load(src, root), src.name, where)
        except _release.ReleaseError as e:
            problems.append(str(e))
            continue
        folder = out_dir / "source" if fmt == "nbgrader" else out_dir
        planned[folder / assignment_name(src) / src.name] = _release.dumps(nb)
    if problems:
        raise ExportError("cannot export; nothing was written:\n  " + "\n  ".join(problems))
    return planned


def export(out_dir, root=None, out=sys.stdout, fmt="nbgrader"):
    """Write the nbgrader course tree (or with ``fmt="otter"`` otter's master notebooks) under
    ``out_dir``; returns the paths written.

    Raises ExportError before writing anything when a solution cannot be exported or when a notebook in
    ``out_dir`` would be overwritten that is not an unedited earlier export.
    """
    planned = plan(out_dir, root, fmt)
    out_dir = Path(out_dir)
    blocked = [p for p, text in planned.items()
               if p.exists() and p.read_text(encoding="utf-8", errors="replace") != text and not _ours_unedited(p)]
    if blocked:
        raise ExportError("these files exist and are not unedited labkit exports; move them away to export "
                          "again (nothing was written):\n  " + "\n  ".join(map(str, blocked)))
    written = []
    for p, text in planned.items():
        if p.is_file() and p.read_text(encoding="utf-8") == text:
            continue
        _release._write(p, text)
        written.append(p)
        print(f"wrote {p}", file=out)
    config = out_dir / CONFIG_NAME
    if fmt == "otter":
        pass
    elif not config.exists():
        _release._write(config, CONFIG_TEXT)
        written.append(config)
        print(f"wrote {config}", file=out)
    elif "ClearSolutions.code_stub" not in config.read_text(encoding="utf-8", errors="replace"):
        print(f"note: {config} exists and was left alone; add this line to it, or top-level answers in the "
              f"students' copy will raise NotImplementedError and stop Run All:\n  "
              f"c.ClearSolutions.code_stub = {{\"python\": {json.dumps(CODE_STUB)}}}", file=out)
    if not written:
        print(f"{out_dir} is up to date with solutions/", file=out)
    names = ", ".join(sorted(p.parent.name for p in planned))
    if fmt == "otter":
        print(f"next: otter assign {out_dir}/<assignment>/<assignment>.ipynb dist/<assignment>   "
              f"(assignments: {names})", file=out)
    else:
        print(f"next: cd {out_dir} && nbgrader generate_assignment <assignment>   (assignments: {names})",
              file=out)
    return written


# ---------------------------------------------------------------------------------------------
# At grading time, in the submission's kernel (the hidden tests call this)
# ---------------------------------------------------------------------------------------------
def fresh_check(exercise_id, answer, seed=None):
    """Check a function answer on its edge cases and random inputs drawn now (``labkit.grading.draw_cases``;
    ``seed`` None: from the OS), not on the seeded inputs ``check()`` uses, which a learner can see;
    returns a CheckResult and shows nothing. It runs in the submission's kernel (nbgrader's and otter's
    model), so it is only as trustworthy as that kernel: see the module's Limits.

    Other kinds of exercise have no inputs to draw: they are checked as ``check()`` does.
    """
    from ..exercises import _core, _guard
    from ..exercises._base import FAILED, NOT_ATTEMPTED, PASSED, Answer, _type_name

    exercise = _core.get(exercise_id)
    if exercise.kind != "function":
        return _core.check(exercise_id, answer, show=False)
    from . import draw_cases           # the grader's fresh cases: edge cases, then random ones from `seed`
    seed = secrets.randbits(63) if seed is None else seed
    fresh = copy.copy(exercise)        # the registered exercise is left as it was (the seal checks it)
    fresh.inputs = lambda: draw_cases(exercise, seed)
    problem = _guard.tampered(_core._REGISTRY)
    if problem is not None:
        return _core.CheckResult(exercise.id, FAILED, problem)
    try:
        status, message = fresh.grade(answer)
    except Answer as verdict:
        status, message = (FAILED if verdict.status == PASSED else verdict.status), verdict.message
    except _core._NotAttempted:
        status, message = NOT_ATTEMPTED, "Not attempted yet: your function still raises NotImplementedError."
    except _core._Timeout as e:
        status, message = FAILED, str(e)
    except BaseException as e:   # a bug in a reference must not crash the grading either
        status, message = FAILED, f"Checking failed unexpectedly ({_type_name(e)})."
    problem = _guard.tampered(_core._REGISTRY)
    if problem is not None:
        status, message = FAILED, problem
    if status not in (PASSED, FAILED, NOT_ATTEMPTED) or type(message) is not str:
        status, message = FAILED, "Checking failed unexpectedly (no verdict)."
    return _core.CheckResult(exercise.id, status, message.strip())


# ---------------------------------------------------------------------------------------------
# otter-grader: the same cells, in otter's master-notebook format
# ---------------------------------------------------------------------------------------------
def _raw(text, cell_id):
    return _cell("raw", text, cell_id)


def _otter_code(source):
    """An answer cell in otter's markers: its solution region is dropped without otter's `...` prompt
    (labkit's stub lines around it stay, as in the nbgrader tree)."""
    out = []
    for line in source.split("\n"):
        marker = line.strip()
        indent = line[: len(line) - len(line.lstrip())]
        out.append(indent + "# BEGIN SOLUTION NO PROMPT" if marker == _release.BEGIN else
                   indent + "# END SOLUTION" if marker == _release.END else line)
    return "\n".join(out)


def _otter_test(exercise, answer, hidden):
    """One OK-format test case: it prints "passed", or the check's message (then the test fails)."""
    value = f"globals().get({answer!r}, ...)" if answer.isidentifier() else answer
    if hidden:
        lines = ["# HIDDEN: on inputs drawn at grading time",
                 "from labkit.grading.nbgrader_export import fresh_check as _fresh_check",
                 f"_result = _fresh_check({exercise.id!r}, {value})",
                 "print('passed' if _result.passed else 'On inputs drawn at grading time: ' + _result.message)"]
    else:
        lines = ["from labkit.exercises import check as _check",
                 f"_result = _check({exercise.id!r}, {value}, show=False)",
                 "print('passed' if _result.passed else _result.message)"]
    cell = _cell("code", "\n".join(lines), "")
    cell["outputs"] = [{"name": "stdout", "output_type": "stream", "text": "passed\n"}]
    return cell


def otter_notebook(nb, name, where=None):
    """The otter-grader master notebook of one instructor notebook (``otter assign`` input): each
    exercise a question worth its points (all or nothing) whose tests are the check and, for a function,
    a hidden check on inputs drawn at grading time; each reflection a manually graded question. The
    students' copy keeps labkit's inline ``check(...)`` after each answer."""
    from ..exercises import get
    from .. import REPO_BRANCH, REPO_URL
    graded = nbgrader_notebook(nb, name, where)
    config = ("# ASSIGNMENT CONFIG\n"
              f"name: {json.dumps(Path(name).stem)}\n"
              "init_cell: false\ncheck_all_cell: false\nexport_cell: false\nrun_tests: true\n"
              f"requirements:\n  - {json.dumps(f'labkit @ git+{REPO_URL}@{REPO_BRANCH}')}\n"
              "tests:\n  files: false\n  ok_format: true\n")
    cells = [_raw(config, "otter-config")]
    pending = None                      # the answer cell waiting for its test cells

    def close(question):
        answer_cell, tests = question
        if not tests:
            cells.append(answer_cell)
            return
        if len(tests) > 1:
            raise ExportError(f"{where or name}: otter takes one exercise per answer cell; "
                              f"{', '.join(e.id for e, _ in tests)} share one")
        exercise, answer = tests[0]
        qname = _grade_id(exercise.id).replace("-", "_")
        cells.append(_raw(f"# BEGIN QUESTION\nname: e{qname}\npoints: {exercise.points:g}\n"
                          "all_or_nothing: true\ncheck_cell: false", f"{qname}-q"))
        if answer_cell is not None:
            cells.append(_raw("# BEGIN SOLUTION", f"{qname}-s"))
            answer_cell = dict(answer_cell, metadata={},
                               source=_otter_code(answer_cell["source"]) + f"\n\ncheck({exercise.id!r}, {answer})")
            cells.append(answer_cell)
            cells.append(_raw("# END SOLUTION", f"{qname}-se"))
        cells.append(_raw("# BEGIN TESTS", f"{qname}-t"))
        cells.append(dict(_otter_test(exercise, answer, False), id=f"{qname}-t1"))
        if exercise.kind == "function":
            cells.append(dict(_otter_test(exercise, answer, True), id=f"{qname}-t2"))
        cells.append(_raw("# END TESTS", f"{qname}-te"))
        cells.append(_raw("# END QUESTION", f"{qname}-qe"))

    for cell in graded["cells"]:
        meta = cell["metadata"].get("nbgrader")
        if meta and meta["grade"] and not meta["solution"]:          # a test cell: this exercise's answer
            m = re.search(r"_check\('([^']+)', (?:globals\(\)\.get\('(\w+)', \.\.\.\)|(.+))\)\n", cell["source"])
            if pending is None:
                pending = (None, [])
            pending[1].append((get(m.group(1)), m.group(2) or m.group(3)))
            continue
        if pending is not None:
            close(pending)
            pending = None
        if meta and meta["solution"] and not meta["grade"]:          # an answer cell
            pending = (cell, [])
        elif meta and meta["solution"]:                               # a reflection, graded by hand
            qid = meta["grade_id"].replace("-", "_")
            text = "\n".join(l for l in cell["source"].split("\n") if l.strip() not in (_release.BEGIN, _release.END))
            cells += [_raw(f"# BEGIN QUESTION\nname: r{qid}\nmanual: true\npoints: {meta['points']:g}", f"{qid}-q"),
                      _raw("# BEGIN SOLUTION", f"{qid}-s"), _cell("markdown", text, f"{qid}-a"),
                      _raw("# END SOLUTION", f"{qid}-se"), _raw("# END QUESTION", f"{qid}-qe")]
        else:
            cells.append(dict(cell, metadata={k: v for k, v in cell["metadata"].items() if k == "tags"}))
    if pending is not None:
        close(pending)
    metadata = {k: v for k, v in graded["metadata"].items() if k != "labkit"}
    out = {"cells": cells, "metadata": metadata, "nbformat": 4, "nbformat_minor": 5}
    out["metadata"]["labkit"] = {"otter_export": {"source": f"solutions/{name}", "digest": _digest(out)}}
    return out
