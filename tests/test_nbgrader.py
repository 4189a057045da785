"""``python -m labkit release --nbgrader DIR``: the exported nbgrader tree, and a real nbgrader round trip.

The round trip installs nbgrader from the package index into a venv of its own (cached under the
temporary folder, keyed by labkit's version and nbgrader's pin, so it installs once per machine), runs
``nbgrader generate_assignment``, ``autograde`` and ``export`` on chapter 00 with four submissions
(correct, partly wrong, the untouched student copy, and one that memorised the visible check's inputs)
and asserts grades.csv. nbgrader runs the notebooks in this interpreter's kernel (a ``python3`` kernelspec
put first on JUPYTER_PATH), so the labkit under test is the one graded. It is skipped with a reason when
pip cannot reach the index, or when LABKIT_SKIP_NBGRADER=1.
"""

import copy
import csv
import hashlib
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import pytest

import labkit
from labkit import release
from labkit.exercises import PASSED, FAILED, NOT_ATTEMPTED, get, ids
from labkit.grading import nbgrader_export as nx

ROOT = Path(__file__).resolve().parent.parent
NBGRADER = "nbgrader>=0.9,<0.10"
OTTER = "otter-grader>=6,<8"
CHAPTER = "00_start_here"


def _text(source):
    return "".join(source) if isinstance(source, list) else source


@pytest.fixture(scope="module")
def tree(tmp_path_factory):
    out = tmp_path_factory.mktemp("course")
    nx.export(out, root=ROOT, out=open(os.devnull, "w"))
    return out


def _load(path):
    return json.loads(Path(path).read_text(encoding="utf-8"))


# ---------------------------------------------------------------------------------------------
# The exported tree (no nbgrader needed)
# ---------------------------------------------------------------------------------------------
def test_every_exercise_is_a_locked_test_cell_worth_its_points(tree):
    sources = sorted((ROOT / "solutions").glob("[0-9][0-9]_*.ipynb"))
    assert sources
    for src in sources:
        nb = _load(tree / "source" / src.stem / src.name)
        grades = {}
        for cell in nb["cells"]:
            meta = cell["metadata"].get("nbgrader")
            text = _text(cell["source"])
            if meta is None:   # nbgrader refuses a solution region outside a solution cell
                assert "BEGIN SOLUTION" not in text and "END SOLUTION" not in text, (src.name, text)
                continue
            assert meta["schema_version"] == 3
            assert meta["grade_id"] not in grades, f"{src.name}: duplicate grade_id {meta['grade_id']}"
            grades[meta["grade_id"]] = meta
            if meta["grade"] and not meta["solution"]:       # autograded test
                assert meta["locked"] and cell["cell_type"] == "code"
                ex = get(meta["grade_id"].replace("-", ".", 1))
                assert meta["points"] == ex.points
                hidden = text.split("### BEGIN HIDDEN TESTS")[1]
                assert "assert _result.passed" in hidden          # graded only by the hidden part
                assert "assert" not in text.split("### BEGIN HIDDEN TESTS")[0]   # students' Run All goes on
                assert ("_fresh_check" in hidden) == (ex.kind == "function")
            elif meta["solution"] and meta["grade"]:          # reflection, graded by hand
                assert cell["cell_type"] == "markdown" and meta["points"] == nx.REFLECTION_POINTS
                assert text.startswith("### BEGIN SOLUTION") and text.endswith("### END SOLUTION")
            else:                                             # answer cell
                assert cell["cell_type"] == "code" and not meta["locked"]
                assert "### BEGIN SOLUTION" in text and "check(" not in text
        tested = sorted(g.replace("-", ".", 1) for g, m in grades.items() if m["grade"] and not m["solution"])
        assert tested == sorted(ids(src.name[:2])), src.name
        regions = sum(len(release._regions(_text(c["source"]))) for c in _load(src)["cells"]
                      if c["cell_type"] == "markdown")
        assert sum(1 for m in grades.values() if m["solution"] and m["grade"]) == regions
        ids_ = [c["id"] for c in nb["cells"]]
        assert len(ids_) == len(set(ids_)) and all(re.fullmatch(r"[A-Za-z0-9_-]{1,64}", i) for i in ids_)
        text = json.dumps(nb)
        assert "written here by" not in text and "{{" not in text       # no placeholder left
        setup = [c for c in nb["cells"] if "setup" in c["metadata"].get("tags", [])]
        assert [_text(c["source"]) for c in setup] == [release.setup_source()]


def test_stubs_around_regions(tree):
    nb = _load(tree / "source" / "03_interconnects" / "03_interconnects.ipynb")
    by_id = {c["metadata"]["nbgrader"]["grade_id"]: _text(c["source"]) for c in nb["cells"]
             if "nbgrader" in c["metadata"]}
    top = by_id["03-slow_link_slowdown-answer"]    # top-level: name = ... before the region, for each name
    head = top.split("### BEGIN SOLUTION")[0]
    for name in ("my_uniform", "my_slow", "slowdown"):
        assert f"{name} = ...  # replace ... with your answer" in head
    inside = by_id["03-ring_allreduce-answer"]      # in a function: raise after the region
    assert inside.rstrip().endswith("### END SOLUTION\n    raise NotImplementedError()")
    assert (tree / "nbgrader_config.py").read_text().count('c.ClearSolutions.code_stub = {"python": "# YOUR CODE HERE"}') == 1


def test_export_is_stable_and_overwrites_nothing_of_the_users(tmp_path):
    import io
    log = io.StringIO()
    nx.export(tmp_path, root=ROOT, out=log)
    assert nx.export(tmp_path, root=ROOT, out=log) == []            # twice: nothing changes
    target = tmp_path / "source" / CHAPTER / f"{CHAPTER}.ipynb"
    nb = _load(target)                                              # as Jupyter saves it: lists of lines
    for c in nb["cells"]:
        c["source"] = c["source"].splitlines(keepends=True)
    target.write_text(json.dumps(nb, indent=2))
    assert target in nx.export(tmp_path, root=ROOT, out=log)       # unedited: replaced
    nb = _load(target)
    nb["cells"][0]["source"] = "my own notes"                       # edited by the instructor
    target.write_text(json.dumps(nb))
    before = {p: p.read_bytes() for p in tmp_path.rglob("*") if p.is_file()}
    with pytest.raises(nx.ExportError, match=re.escape(str(target))):
        nx.export(tmp_path, root=ROOT, out=log)
    assert before == {p: p.read_bytes() for p in tmp_path.rglob("*") if p.is_file()}

    other = tmp_path / "other"                                      # a course with its own config
    other.mkdir()
    (other / "nbgrader_config.py").write_text("c = get_config()\n")
    log = io.StringIO()
    nx.export(other, root=ROOT, out=log)
    assert (other / "nbgrader_config.py").read_text() == "c = get_config()\n"
    assert "ClearSolutions.code_stub" in log.getvalue() and "left alone" in log.getvalue()


def test_bad_arguments(tmp_path):
    with pytest.raises(TypeError, match="out_dir"):
        nx.export(None, root=ROOT)
    (tmp_path / "file").write_text("x")
    with pytest.raises(ValueError, match="out_dir"):
        nx.export(tmp_path / "file", root=ROOT)
    with pytest.raises(TypeError, match="out_dir"):
        nx.plan(3, root=ROOT)


def test_broken_solution_is_reported_and_nothing_written(tmp_path):
    root = tmp_path / "repo"
    (root / "solutions").mkdir(parents=True)
    nb = _load(ROOT / "solutions" / f"{CHAPTER}.ipynb")
    for c in nb["cells"]:                       # a check line lost: that exercise would not be graded
        c["source"] = re.sub(r'^check\("00\.gb_to_gib".*$', "", _text(c["source"]), flags=re.M)
    (root / "solutions" / f"{CHAPTER}.ipynb").write_text(json.dumps(nb))
    with pytest.raises(nx.ExportError, match=r"00\.gb_to_gib.*would not be graded"):
        nx.export(tmp_path / "out", root=root)
    assert not (tmp_path / "out").exists()


def _memorising(exercise_id):
    """A function that returns the reference's numbers on exactly the inputs the visible check uses."""
    ex = get(exercise_id)
    table = {tuple(c.values()): ex.reference(*c.values()) for c in ex.inputs()}
    return lambda *args: table.get(tuple(args), 0.0), table


def test_fresh_check_catches_an_answer_that_memorised_the_visible_inputs():
    memorised, _ = _memorising("00.gb_to_gib")
    assert labkit.check("00.gb_to_gib", memorised, show=False).passed      # the visible check is fooled
    fresh = nx.fresh_check("00.gb_to_gib", memorised, seed=12345)
    assert fresh.status == FAILED and "expected" in fresh.message
    right = lambda n_gb: n_gb * 1e9 / 2**30                                 # noqa: E731
    assert nx.fresh_check("00.gb_to_gib", right).status == PASSED
    assert nx.fresh_check("00.gb_to_gib", ...).status == NOT_ATTEMPTED

    def todo(n_gb):
        raise NotImplementedError()
    assert nx.fresh_check("00.gb_to_gib", todo).status == NOT_ATTEMPTED
    assert nx.fresh_check("00.hbm_bytes", 80e9).status == PASSED             # a value: as check() does
    assert nx.fresh_check("00.hbm_bytes", 80 * 2**30).status == FAILED


# ---------------------------------------------------------------------------------------------
# A real nbgrader round trip
# ---------------------------------------------------------------------------------------------
_OFFLINE = ("No matching distribution found", "Could not find a version", "NewConnectionError",
            "Failed to establish a new connection", "Temporary failure in name resolution",
            "Network is unreachable", "Max retries exceeded", "ProxyError")


def _venv(name, requirements, skip_var):
    """bin/ of a venv holding ``requirements`` (made once, kept under the temporary folder, keyed by
    labkit's version, the requirements and this checkout)."""
    if os.environ.get(skip_var) == "1":
        pytest.skip(f"{skip_var}=1")
    digest = hashlib.sha256(json.dumps([labkit.__version__, requirements, sys.version_info[:2]]).encode())
    venv = Path(tempfile.gettempdir()) / f"labkit-{name}-venv-{labkit.__version__}-{digest.hexdigest()[:12]}"
    ready = venv / "labkit-ready"
    if ready.is_file():
        return venv / "bin"
    shutil.rmtree(venv, ignore_errors=True)
    subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True, capture_output=True)
    run = subprocess.run([str(venv / "bin" / "python"), "-m", "pip", "install", "-q", "--disable-pip-version-check",
                          *requirements], capture_output=True, text=True, timeout=600)
    if run.returncode != 0:
        shutil.rmtree(venv, ignore_errors=True)
        output = run.stdout + run.stderr
        if any(s in output for s in _OFFLINE):
            pytest.skip(f"pip could not install {name} from the package index: {output.strip()[-300:]}")
        raise AssertionError(f"pip install {' '.join(requirements)} failed:\n{output[-3000:]}")
    ready.write_text("\n".join(requirements))
    return venv / "bin"


def nbgrader_env(folder, bin_dir):
    """The environment nbgrader runs in: its venv's bin first, Jupyter's paths inside ``folder``, and one
    kernel, ``python3``, that is this interpreter (so the kernels import the labkit under test)."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("JUPYTER", "PYTHONPATH"))}
    kernels = Path(folder) / "jupyter" / "kernels" / "python3"
    kernels.mkdir(parents=True, exist_ok=True)
    (kernels / "kernel.json").write_text(json.dumps({
        "argv": [sys.executable, "-m", "ipykernel_launcher", "-f", "{connection_file}"],
        "display_name": "Python 3 (labkit under test)", "language": "python"}))
    env.update(JUPYTER_PATH=str(Path(folder) / "jupyter"), JUPYTER_CONFIG_DIR=str(Path(folder) / "config"),
               JUPYTER_DATA_DIR=str(Path(folder) / "data"), PATH=f"{bin_dir}{os.pathsep}{env.get('PATH', '')}")
    return env


def _nbgrader(bin_dir, course, env, *args):
    run = subprocess.run([str(bin_dir / "nbgrader"), *args], cwd=course, env=env, capture_output=True, text=True,
                         timeout=600)
    assert run.returncode == 0, f"nbgrader {' '.join(args)} failed:\n{(run.stdout + run.stderr)[-4000:]}"
    return run.stdout + run.stderr


def _submission(student_nb, source_nb, answers):
    """The student copy with some answer cells filled: answers maps grade_id to new source, or to
    "solution" (the instructor's solution, markers and stub lines dropped)."""
    nb = copy.deepcopy(student_nb)
    solutions = {c["metadata"]["nbgrader"]["grade_id"]: _text(c["source"]) for c in source_nb["cells"]
                 if c["metadata"].get("nbgrader", {}).get("solution")}
    for cell in nb["cells"]:
        gid = cell["metadata"].get("nbgrader", {}).get("grade_id")
        if gid in answers:
            new = answers[gid]
            if new == "solution":
                new = _solution_lines(solutions[gid])
            cell["source"] = new
    return nb


def _class():
    """Four students' answers by exercise id ("solution": the instructor's), on chapter 00: alice all
    correct, bob two wrong, carol the untouched copy, dave a gb_to_gib that memorised the visible inputs."""
    every = {i: "solution" for i in ids(0)}
    every["reflection"] = "About 20 %: most of the GPUs' capacity went unused."
    _, table = _memorising("00.gb_to_gib")
    lookup = ("_SEEN = {" + ", ".join(f"{k[0]!r}: {v!r}" for k, v in table.items()) + "}\n"
              "def gb_to_gib(n_gb):\n    return _SEEN.get(n_gb, 0.0)")
    return {
        "alice": every,
        "bob": {**every, "00.hbm_bytes": "hbm_bytes = 80 * u.GiB",
                "00.gb_to_gib": "def gb_to_gib(n_gb):\n    return n_gb * u.GiB / u.GB"},
        "carol": {},
        "dave": {**every, "00.gb_to_gib": lookup},
    }


def _expected_scores():
    points = {i: get(i).points for i in ids(0)}
    auto = sum(points.values())
    return {"alice": auto, "bob": auto - points["00.hbm_bytes"] - points["00.gb_to_gib"], "carol": 0.0,
            "dave": auto - points["00.gb_to_gib"]}


def _solution_lines(text):
    return "\n".join(l for l in text.split("\n") if "SOLUTION" not in l and "replace ... with your answer" not in l
                     and l.strip() != "raise NotImplementedError()")


def test_nbgrader_round_trip(tmp_path):
    started = time.perf_counter()
    bin_dir = _venv("nbgrader", [NBGRADER], "LABKIT_SKIP_NBGRADER")
    installed = time.perf_counter()
    course = tmp_path / "course"
    env = nbgrader_env(tmp_path, bin_dir)
    cli = subprocess.run([sys.executable, "-m", "labkit", "release", "--nbgrader", str(course)], cwd=ROOT,
                         capture_output=True, text=True, timeout=120)
    assert cli.returncode == 0, cli.stderr
    _nbgrader(bin_dir, course, env, "generate_assignment", CHAPTER)
    student_nb = _load(course / "release" / CHAPTER / f"{CHAPTER}.ipynb")
    source_nb = _load(course / "source" / CHAPTER / f"{CHAPTER}.ipynb")
    shown = json.dumps(student_nb)
    assert "BEGIN SOLUTION" not in shown and "HIDDEN TESTS" not in shown and "return n_gb * u.GB / u.GiB" not in shown
    assert "raise NotImplementedError()" in shown

    # The students' copy runs top to bottom: every check says "not attempted", nothing raises.
    import nbclient
    import nbformat
    run = nbformat.reads(json.dumps(student_nb), as_version=4)
    nbclient.NotebookClient(run, timeout=300, kernel_name="python3", resources={"metadata": {"path": str(tmp_path)}}
                            ).execute()
    html = json.dumps([o for c in run.cells if c.cell_type == "code" for o in c.outputs])
    assert html.count("labkit-check labkit-not-attempted") == 4 and "labkit-check labkit-passed" not in html

    submissions = _class()
    for student, answers in submissions.items():
        folder = course / "submitted" / student / CHAPTER
        folder.mkdir(parents=True)
        answers = {(k.replace(".", "-") + "-answer" if k != "reflection" else "00-reflection-1"): v
                   for k, v in answers.items()}
        (folder / f"{CHAPTER}.ipynb").write_text(json.dumps(_submission(student_nb, source_nb, answers)))
    before = {p: p.read_bytes() for p in (course / "submitted").rglob("*.ipynb")}
    graded = time.perf_counter()
    _nbgrader(bin_dir, course, env, "autograde", CHAPTER)
    _nbgrader(bin_dir, course, env, "export", "--to", "grades.csv")
    finished = time.perf_counter()
    assert before == {p: p.read_bytes() for p in (course / "submitted").rglob("*.ipynb")}

    with open(course / "grades.csv", newline="") as f:
        rows = {r["student_id"]: r for r in csv.DictReader(f)}
    auto = sum(get(i).points for i in ids(0))
    total = auto + nx.REFLECTION_POINTS
    scores = {s: float(r["score"]) for s, r in rows.items()}
    assert scores == _expected_scores(), scores
    assert all(float(r["max_score"]) == total for r in rows.values())

    def failures(student):
        nb = _load(course / "autograded" / student / CHAPTER / f"{CHAPTER}.ipynb")
        out = {}
        for c in nb["cells"]:
            meta = c["metadata"].get("nbgrader", {})
            if meta.get("grade") and not meta.get("solution"):
                errors = [o for o in c["outputs"] if o["output_type"] == "error"]
                out[meta["grade_id"]] = (errors[0]["ename"] + ": " + errors[0]["evalue"]) if errors else None
        return out

    assert all(v is None for v in failures("alice").values())
    bob = failures("bob")
    assert bob["00-hbm_bytes"].startswith("AssertionError: Not quite") and bob["00-gb_to_gib"].startswith(
        "AssertionError: For") and bob["00-days_to_train"] is None and bob["00-gb_or_gib"] is None
    carol = failures("carol")       # a 0 for the right reason: each test fails as "not attempted"
    assert len(carol) == 4 and all(v.startswith("AssertionError: Not attempted") for v in carol.values()), carol
    dave = failures("dave")         # passes the visible check, fails the hidden one on fresh inputs
    assert dave["00-gb_to_gib"].startswith("AssertionError: On inputs drawn at grading time"), dave
    assert [k for k, v in dave.items() if v] == ["00-gb_to_gib"]
    print(f"\nnbgrader round trip: venv {installed - started:.1f} s, generate+student run {graded - installed:.1f} s,"
          f" autograde+export of {len(submissions)} submissions {finished - graded:.1f} s\n"
          + (course / "grades.csv").read_text())


def test_nbgrader_autograde_uses_each_students_numbers(tmp_path):
    """Per-student variants under nbgrader: autograde runs each notebook in autograded/<student>/<assignment>/
    with NBGRADER_EXECUTION=autograde, which is where labkit's check() finds the student id; the course salt
    comes from the environment nbgrader runs in. alice answers two chapter-03 questions for her numbers, bob
    copies alice's answers."""
    bin_dir = _venv("nbgrader", [NBGRADER], "LABKIT_SKIP_NBGRADER")
    chapter, salt = "03_interconnects", "fall-2026 s3cret"
    course = tmp_path / "course"
    env = {**nbgrader_env(tmp_path, bin_dir), "LABKIT_COURSE_SALT": salt}
    env.pop("JUPYTERHUB_USER", None)
    cli = subprocess.run([sys.executable, "-m", "labkit", "release", "--nbgrader", str(course)], cwd=ROOT,
                         capture_output=True, text=True, timeout=120)
    assert cli.returncode == 0, cli.stderr
    _nbgrader(bin_dir, course, env, "generate_assignment", chapter)
    student_nb = _load(course / "release" / chapter / f"{chapter}.ipynb")
    source_nb = _load(course / "source" / chapter / f"{chapter}.ipynb")
    torus, line = get("03.torus_bisection"), get("03.h100_line_rate_time")

    def answers(student):
        return {"03-torus_bisection-answer":
                f"torus_bisection = {torus.expected_for(torus.numbers_for(student, salt))!r}",
                "03-h100_line_rate_time-answer":
                f"predicted_time = {line.expected_for(line.numbers_for(student, salt))!r}"}

    for student, given in (("alice", answers("alice")), ("bob", answers("alice"))):
        folder = course / "submitted" / student / chapter
        folder.mkdir(parents=True)
        (folder / f"{chapter}.ipynb").write_text(json.dumps(_submission(student_nb, source_nb, given)))
    _nbgrader(bin_dir, course, env, "autograde", chapter)

    def outcome(student, grade_id):
        nb = _load(course / "autograded" / student / chapter / f"{chapter}.ipynb")
        cell = next(c for c in nb["cells"] if c["metadata"].get("nbgrader", {}).get("grade_id") == grade_id)
        errors = [o for o in cell["outputs"] if o["output_type"] == "error"]
        return (errors[0]["ename"] + ": " + errors[0]["evalue"]) if errors else None

    for grade_id in ("03-torus_bisection", "03-h100_line_rate_time"):
        assert outcome("alice", grade_id) is None, outcome("alice", grade_id)
        bob = outcome("bob", grade_id)
        assert bob and bob.startswith("AssertionError: Not quite for your numbers") and \
            "It is the answer for other numbers" in bob, bob


def test_otter_round_trip(tmp_path):
    """otter assign on the exported master notebook, then otter run (no Docker) on the four submissions."""
    started = time.perf_counter()
    try:
        import tomllib                   # Python 3.11+
    except ModuleNotFoundError:          # Python 3.10: the same parser, from PyPI (the test extra installs it)
        import tomli as tomllib
    deps = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["dependencies"]
    bin_dir = _venv("otter", [OTTER, "ipykernel", *deps], "LABKIT_SKIP_OTTER")
    # otter runs the notebooks in its own venv's kernel: this checkout's labkit goes on its path (a .pth,
    # rewritten each run, so the venv is shared by every checkout and installed once per machine)
    (site,) = (bin_dir.parent / "lib").glob("python3*/site-packages")
    (site / "labkit-under-test.pth").write_text(str(ROOT) + "\n")
    installed = time.perf_counter()
    env = {k: v for k, v in os.environ.items() if not k.startswith(("JUPYTER", "PYTHONPATH"))}
    env.update(JUPYTER_CONFIG_DIR=str(tmp_path / "config"), JUPYTER_DATA_DIR=str(tmp_path / "data"),
               JUPYTER_PATH=str(tmp_path / "data"), PATH=f"{bin_dir}{os.pathsep}{env.get('PATH', '')}")
    masters = tmp_path / "otter"
    cli = subprocess.run([sys.executable, "-m", "labkit", "release", "--otter", str(masters)], cwd=ROOT,
                         capture_output=True, text=True, timeout=120)
    assert cli.returncode == 0, cli.stderr

    def otter(*args):
        run = subprocess.run([str(bin_dir / "otter"), *args], cwd=tmp_path, env=env, capture_output=True,
                             text=True, timeout=600)
        assert run.returncode == 0, f"otter {' '.join(args)} failed:\n{(run.stdout + run.stderr)[-4000:]}"

    otter("assign", str(masters / CHAPTER / f"{CHAPTER}.ipynb"), "dist")
    student_nb = _load(tmp_path / "dist" / "student" / f"{CHAPTER}.ipynb")
    shown = json.dumps(student_nb)
    assert "SOLUTION" not in shown and "_fresh_check" not in shown and "return n_gb * u.GB / u.GiB" not in shown
    solved = {tuple(c["metadata"]["otter"]["tests"]): _text(c["source"])
              for c in _load(tmp_path / "dist" / "autograder" / f"{CHAPTER}.ipynb")["cells"]
              if c["metadata"].get("otter", {}).get("tests")}
    (autograder,) = (tmp_path / "dist" / "autograder").glob("*.zip")
    scores, outputs = {}, {}
    for student, answers in _class().items():
        nb = copy.deepcopy(student_nb)
        for cell in nb["cells"]:
            tests = tuple(cell["metadata"].get("otter", {}).get("tests", ()))
            key = tests and tests[0][1:3] + "." + tests[0][4:]          # e00_gb_to_gib -> 00.gb_to_gib
            if tests and key in answers:
                cell["source"] = _solution_lines(solved[tests]) if answers[key] == "solution" else answers[key]
            elif "otter_answer_cell" in cell["metadata"].get("tags", []) and "reflection" in answers:
                cell["source"] = answers["reflection"]
        (tmp_path / f"{student}.ipynb").write_text(json.dumps(nb))
        (tmp_path / student).mkdir()
        otter("run", "-a", str(autograder), "-o", str(tmp_path / student), f"{student}.ipynb")
        results = json.loads((tmp_path / student / "results.json").read_text())
        graded = [t for t in results["tests"] if "max_score" in t]
        assert sorted(t["name"] for t in graded) == sorted("e" + i.replace(".", "_") for i in ids(0))
        scores[student] = sum(t["score"] for t in graded)
        outputs[student] = {t["name"]: t["output"] for t in graded}
    finished = time.perf_counter()
    assert scores == _expected_scores(), scores
    assert all("Not attempted" in o for o in outputs["carol"].values()), outputs["carol"]
    assert "On inputs drawn at grading time" in outputs["dave"]["e00_gb_to_gib"]
    assert "Not quite" in outputs["bob"]["e00_hbm_bytes"]
    print(f"\notter round trip: venv {installed - started:.1f} s, assign + {len(scores)} runs "
          f"{finished - installed:.1f} s; scores {scores}")
