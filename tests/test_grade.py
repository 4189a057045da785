"""The grader, end to end: a corpus of chapter 00 submissions (correct, partly wrong, untouched, moved and
renamed, each bad kind, tampering, an LMS zip) graded with labkit.grading.grade; every row of grades.csv,
the companions' numbers and the submissions' bytes are checked. One run goes through the sandbox, with a
submission that tries to escape (skipped, with the reason, where no sandbox works).

Three grading runs, about 40-60 s in all on two cores.
"""

import copy
import csv
import hashlib
import json
import zipfile
from pathlib import Path

import pytest

pytest.importorskip("nbclient")

from labkit import grading  # noqa: E402
from labkit.grading import sandbox  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent
RELEASED = json.loads((ROOT / "notebooks" / "00_start_here.ipynb").read_text(encoding="utf-8"))
SOLUTION = (ROOT / "solutions" / "00_start_here.ipynb").read_bytes()
IDS = ["00.days_to_train", "00.gb_or_gib", "00.gb_to_gib", "00.hbm_bytes"]

RIGHT = {
    "00.hbm_bytes": "hbm_bytes = 80e9\ncheck('00.hbm_bytes', hbm_bytes)",
    "00.gb_to_gib": "def gb_to_gib(n_gb):\n    return n_gb * 1e9 / 2**30\n\ncheck('00.gb_to_gib', gb_to_gib)",
    "00.days_to_train": ("def days_to_train(total_flops, flops_per_s):\n    return total_flops / flops_per_s / 86400\n\n"
                         "check('00.days_to_train', days_to_train)"),
    "00.gb_or_gib": "larger = 'gib'\ncheck('00.gb_or_gib', larger)",
}


def _code(source, tags=()):
    return {"cell_type": "code", "execution_count": None, "metadata": {"tags": list(tags)} if tags else {},
            "outputs": [], "source": source}


def _filled(answers):
    """The released notebook with the exercise cells of ``answers`` ({id: source}) replaced."""
    nb = copy.deepcopy(RELEASED)
    for cell in nb["cells"]:
        text = "".join(cell["source"]) if isinstance(cell["source"], list) else cell["source"]
        for exercise_id, source in answers.items():
            if cell["cell_type"] == "code" and f'check("{exercise_id}"' in text:
                cell["source"] = source
    return nb


def _small(*cells):
    """A learner's short notebook: the released setup and import cells, then ``cells`` (sources)."""
    nb = copy.deepcopy(RELEASED)
    nb["cells"] = [nb["cells"][2], nb["cells"][3]] + [_code(c) for c in cells]
    return nb


def _dump(path, nb):
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(nb if isinstance(nb, str) else json.dumps(nb, indent=1), encoding="utf-8")


def _hashes(folder):
    return {str(p.relative_to(folder)): hashlib.sha256(p.read_bytes()).hexdigest()
            for p in sorted(folder.rglob("*")) if p.is_file()}


def _rows(path):
    with open(path, newline="", encoding="utf-8") as f:
        rows = list(csv.DictReader(f))
    return {(r["student"], r["exercise_id"]): r for r in rows}, rows


def _expect(rows, student, statuses, contains=None):
    """Each of the student's four rows has the given status ('p', 'f', 'n', 'e' per id, in IDS order) and,
    where given, a message containing a text."""
    contains = contains or {}
    for exercise_id, s in zip(IDS, statuses):
        row = rows[(student, exercise_id)]
        status = {"p": "passed", "f": "failed", "n": "not attempted", "e": "error"}[s]
        assert row["status"] == status, f"{student} {exercise_id}: {row['status']} — {row['message']}"
        assert row["chapter"] == "00" and row["max_points"] == "1", row
        assert row["points"] == ("1" if s == "p" else "0"), row
        for text in ([contains[exercise_id]] if isinstance(contains.get(exercise_id), str)
                     else contains.get(exercise_id, [])):
            assert text in row["message"], (student, exercise_id, text, row["message"])
    for text in contains.get("all", []):
        assert all(text in rows[(student, i)]["message"] for i in IDS), (student, text)


# ---------------------------------------------------------------------------------------------
def test_whole_notebooks_bad_files_and_the_report(tmp_path):
    subs = tmp_path / "class"
    (subs / "submitted" / "correct" / "00_start_here").mkdir(parents=True)
    (subs / "submitted" / "correct" / "00_start_here" / "00_start_here.ipynb").write_bytes(SOLUTION)
    _dump(subs / "partly_00_start_here.ipynb", _filled({
        "00.hbm_bytes": "hbm_bytes = 80 * 2**30\ncheck('00.hbm_bytes', hbm_bytes)",          # GiB, not GB
        "00.gb_to_gib": RIGHT["00.gb_to_gib"],
        "00.days_to_train": "def days_to_train(total_flops, flops_per_s):\n    return total_flops / flops_per_s\n"
                            "check('00.days_to_train', days_to_train)",                      # seconds
        "00.gb_or_gib": "larger = 'gb'\ncheck('00.gb_or_gib', larger)"}))
    _dump(subs / "untouched.ipynb", RELEASED)
    import nbformat                                     # saved as JupyterLab saves: sources as lists of lines
    nbformat.write(nbformat.from_dict(_filled(RIGHT)), str(subs / "saved_by_jupyter.ipynb"))
    assert isinstance(json.loads((subs / "saved_by_jupyter.ipynb").read_text())["cells"][2]["source"], list)
    # answers moved to the end in another order, one check call gone, one id renamed
    _dump(subs / "moved.ipynb", _small("x = 1", RIGHT["00.gb_or_gib"],
                                       RIGHT["00.hbm_bytes"].replace("'00.hbm_bytes'", "'00.hbm_byte'"),
                                       "def days_to_train(total_flops, flops_per_s):\n"
                                       "    return total_flops / flops_per_s / 86400",
                                       RIGHT["00.gb_to_gib"]))
    (subs / "empty.ipynb").write_bytes(b"")
    (subs / "badjson.ipynb").write_text('{"cells": [', encoding="utf-8")
    _dump(subs / "old.ipynb", {"nbformat": 3, "nbformat_minor": 0, "metadata": {}, "worksheets": []})
    (subs / "other.ipynb").write_bytes((ROOT / "notebooks" / "03_interconnects.ipynb").read_bytes())
    before = _hashes(subs)

    lines = []
    report = grading.grade([subs], out=tmp_path / "grades.csv", jobs=2, sandbox=False, seed=7, chapter="00",
                           cell_timeout=30, progress=lines.append)

    assert _hashes(subs) == before                      # every submission byte-identical
    rows, all_rows = _rows(tmp_path / "grades.csv")
    assert len(all_rows) == 9 * 4 and len(lines) == 9 and lines[-1].startswith("graded 9/9")
    _expect(rows, "correct", "pppp")
    _expect(rows, "saved_by_jupyter", "pppp")
    _expect(rows, "partly", "ffpf", {"00.hbm_bytes": "80 GiB", "00.days_to_train": "in seconds",
                                     "00.gb_or_gib": "Not this one"})
    _expect(rows, "untouched", "nnnn", {"00.gb_to_gib": "NotImplementedError", "00.hbm_bytes": "`...`"})
    _expect(rows, "moved", "pppp", {"all": ["'00.hbm_byte', which is no exercise"]})
    _expect(rows, "empty", "eeee", {"all": ["the file is empty"]})
    _expect(rows, "badjson", "eeee", {"all": ["not valid JSON"]})
    _expect(rows, "old", "eeee", {"all": ["nbformat 3"]})
    _expect(rows, "other", "eeee", {"all": ["chapter 03's notebook, not chapter 00's"]})

    with open(tmp_path / "grades_totals.csv", newline="", encoding="utf-8") as f:
        totals = {r["student"]: r for r in csv.DictReader(f)}
    assert {s: totals[s]["points"] for s in totals} == {"correct": "4", "saved_by_jupyter": "4", "partly": "1",
                                                        "untouched": "0", "moved": "4",
                                                        "empty": "0", "badjson": "0", "old": "0", "other": "0"}
    assert totals["empty"]["errors"] == "4" and totals["untouched"]["not_attempted"] == "4"
    text = (tmp_path / "grades_report.md").read_text(encoding="utf-8")
    # 9 submissions each: hbm_bytes passed by correct, saved_by_jupyter and moved (3/9 = 33 %), gb_to_gib
    # also by partly (4/9 = 44 %)
    assert "| 00.hbm_bytes | 9 | 3 | 33% | 1 | 1 | 4 |" in text
    assert "| 00.gb_to_gib | 9 | 4 | 44% | 0 | 1 | 4 |" in text
    assert "That is 80 GiB" in text and "seed 7" in text
    png = (tmp_path / "grades_totals.png").read_bytes()
    assert png.startswith(b"\x89PNG") and len(png) > 2000
    assert report.seed == 7 and len(report.verdicts) == 36

    # nothing is overwritten without asking
    with pytest.raises(FileExistsError, match="grades.csv"):
        grading.grade([subs / "empty.ipynb"], out=tmp_path / "grades.csv", sandbox=False)


def test_misbehaving_notebooks_tampering_and_a_zip(tmp_path):
    subs = tmp_path / "class"
    right = [RIGHT[i] for i in IDS]
    _dump(subs / "loop.ipynb", _small("while True:\n    pass",
                                      "while True:\n    try:\n        while True:\n            pass\n    except KeyboardInterrupt:\n        pass",
                                      *right))
    _dump(subs / "exits.ipynb", _small("import sys\nsys.exit(1)", right[0], "import os\nos._exit(3)", *right[1:]))
    _dump(subs / "memory.ipynb", _small("hog = bytearray(64 * 2**30)", *right))
    _dump(subs / "spam.ipynb", _small("for _ in range(40):\n    print('x' * 100_000)", *right))
    # a tampered check, a patched kernel-side checker and a replaced reference, with wrong answers
    _dump(subs / "tampered.ipynb", _small(
        "import labkit.exercises._guard as g, labkit.exercises._core as c\n"
        "check = lambda *a, **k: True\n"
        "c.FunctionExercise.grade = lambda self, answer: ('passed', 'Correct')\n"
        "c.ValueExercise.grade = lambda self, answer: ('passed', 'Correct')\n"
        "def fake_run(fn, inputs, *a, **k):\n"
        "    return g.Run()\n"
        "g.run_function = fake_run",
        "hbm_bytes = 1.0\ncheck('00.hbm_bytes', hbm_bytes)",
        "def gb_to_gib(n_gb):\n    return 0.0\nlabkit.exercises.get('00.gb_to_gib').reference = gb_to_gib\n"
        "check('00.gb_to_gib', gb_to_gib)",
        "def days_to_train(total_flops, flops_per_s):\n    return 1.0\ncheck('00.days_to_train', days_to_train)",
        "larger = 'same'\ncheck('00.gb_or_gib', larger)"))
    # answers that call labkit's own implementation (the reference, and the function taught)
    _dump(subs / "cheater.ipynb", _small(
        right[3], right[1],
        "import labkit.exercises\n_ref = labkit.exercises.get('00.gb_to_gib').reference\n"
        "def gb_to_gib(n_gb):\n    return _ref(n_gb)",
        "from labkit.core.roofline import training_time\n"
        "def days_to_train(total_flops, flops_per_s):\n"
        "    return training_time(total_flops, n_devices=1, peak_flops_per_s=flops_per_s) / 86400"))
    # an LMS export: one student folder (Moodle), a zip-slip entry and a zip bomb
    lms = subs / "lms_export.zip"
    with zipfile.ZipFile(lms, "w", compression=zipfile.ZIP_DEFLATED) as z:
        z.writestr("Dana Scully_1234_assignsubmission_file_/00_start_here.ipynb", json.dumps(_small(*right)))
        z.writestr("../evil_00_start_here.ipynb", json.dumps(_small(*right)))
        z.writestr("bomb/00_start_here.ipynb", " " * (8 * 2**20))
        z.writestr("__MACOSX/._00_start_here.ipynb", "junk")
    before = _hashes(subs)

    # 5 s per cell: room for a right answer's randomized check on a loaded 2-core machine (2 s flaked there)
    grading.grade([subs], out=tmp_path / "g.csv", jobs=2, sandbox=False, seed=11, chapter=0, cell_timeout=5,
                  wall=120)

    assert _hashes(subs) == before
    rows, all_rows = _rows(tmp_path / "g.csv")
    assert len(all_rows) == 9 * 4
    _expect(rows, "loop", "pppp", {"all": ["cell 2 ran past 5 s and was interrupted",
                                           "cell 3 ran past 5 s and ignored the interrupt"]})
    _expect(rows, "exits", "pppp", {"all": ["called sys.exit()", "exit code 3"]})
    _expect(rows, "memory", "pppp", {"all": ["ran out of memory"]})
    _expect(rows, "spam", "pppp", {"all": ["of output beyond the 2 MB kept was dropped"]})
    _expect(rows, "tampered", "ffff", {"00.gb_to_gib": "replaced labkit's own code",
                                       "00.days_to_train": "your function returned 1"})
    _expect(rows, "cheater", "fpfp", {"00.gb_to_gib": "this exercise's reference solution",
                                      "00.days_to_train": "training_time`, which is what this exercise asks"})
    _expect(rows, "Dana Scully_1234", "pppp")
    _expect(rows, "evil_00_start_here", "eeee", {"all": ["zip-slip"]})
    _expect(rows, "bomb", "eeee", {"all": ["zip bomb"]})


_OK, _WHY = sandbox.available()


@pytest.mark.skipif(not _OK, reason=f"no sandbox here: {_WHY}")
def test_through_the_sandbox_escapes_fail(tmp_path):
    subs = tmp_path / "class"
    home = tmp_path / "instructor_home"
    home.mkdir()
    (home / "secret.txt").write_text("exam answers", encoding="utf-8")
    _dump(subs / "alice.ipynb", _small(*[RIGHT[i] for i in IDS]))
    other = subs / "alice.ipynb"
    # each answer is right only if its escape attempt failed: the grade shows what the kernel could do
    escape = (
        "import os, socket\n"
        "def _fails(f):\n"
        "    try:\n        f()\n        return False\n    except Exception:\n        return True\n"
        f"write_out = _fails(lambda: open({str(tmp_path / 'escaped.txt')!r}, 'w').write('x'))\n"
        f"edit_other = _fails(lambda: open({str(other)!r}, 'a').write('x'))\n"
        f"read_home = _fails(lambda: open({str(home / 'secret.txt')!r}).read())\n"
        "network = _fails(lambda: socket.create_connection(('1.1.1.1', 53), timeout=3))\n"
        "hbm_bytes = 80e9 if write_out else 1.0\n"
        "larger = 'gib' if edit_other and read_home else 'gb'\n"
        "_net = network\n"
        "def gb_to_gib(n_gb):\n    return n_gb * 1e9 / 2**30 if _net else 0.0\n")
    _dump(subs / "mallory.ipynb", _small(escape, RIGHT["00.days_to_train"]))
    before = _hashes(subs)

    grading.grade([subs], out=tmp_path / "g.csv", jobs=2, sandbox=True, seed=3, cell_timeout=20)

    assert _hashes(subs) == before
    assert not (tmp_path / "escaped.txt").exists()
    rows, all_rows = _rows(tmp_path / "g.csv")
    assert len(all_rows) == 8
    _expect(rows, "alice", "pppp")
    _expect(rows, "mallory", "pppp")     # every escape attempt failed inside the sandbox

    # the control: without the sandbox the same write succeeds, so the answer above could have been wrong
    control = tmp_path / "control"
    _dump(control / "trudy.ipynb", _small(escape.split("edit_other")[0] + "hbm_bytes = 80e9 if write_out else 1.0"))
    grading.grade([control], out=tmp_path / "c.csv", sandbox=False, seed=3, chapter="00")
    rows, _ = _rows(tmp_path / "c.csv")
    assert rows[("trudy", "00.hbm_bytes")]["status"] == "failed"
    assert (tmp_path / "escaped.txt").read_text() == "x"


def test_student_ids_and_arguments(tmp_path):
    parts = grading._submissions.student_from_parts
    released = ["00_start_here"]
    assert parts(["course", "submitted", "bob", "ps0", "00_start_here.ipynb"], released) == "bob"
    assert parts(["Ada Lovelace_1234_assignsubmission_file_", "x.ipynb"], released) == "Ada Lovelace_1234"
    assert parts(["alice_00_start_here.ipynb"], released) == "alice"
    assert parts(["lovelaceada_12345_67890_00_start_here.ipynb"], released) == "lovelaceada"
    assert parts(["carol.ipynb"], released) == "carol"
    with pytest.raises(TypeError, match="paths"):
        grading.grade([], out=tmp_path / "g.csv", sandbox=False)
    with pytest.raises(ValueError, match="jobs"):
        grading.grade([tmp_path], out=tmp_path / "g.csv", jobs=0, sandbox=False)
    with pytest.raises(ValueError, match="chapter"):
        grading.grade([tmp_path], out=tmp_path / "g.csv", chapter="99", sandbox=False)
    # a missing path is a row, never a silent skip; the CLI says where the grades went
    from labkit.__main__ import main
    assert main(["grade", str(tmp_path / "nobody_00_start_here.ipynb"), "--out", str(tmp_path / "g.csv"),
                 "--no-sandbox", "--chapter", "00"]) == 0
    rows, _ = _rows(tmp_path / "g.csv")
    assert rows[("nobody", "00.hbm_bytes")]["status"] == "error"
    assert "does not exist" in rows[("nobody", "00.hbm_bytes")]["message"]
    assert main(["grade", str(tmp_path), "--out", str(tmp_path / "g.csv"), "--no-sandbox"]) == 2   # exists


# ---------------------------------------------------------------------------------------------
RELEASED_03 = json.loads((ROOT / "notebooks" / "03_interconnects.ipynb").read_text(encoding="utf-8"))


def test_each_student_is_graded_on_their_own_numbers(tmp_path):
    """Per-student variants: alice answers for her numbers, bob copies alice's answers, carol submits the
    instructor's solution (which computes from numbers()), dave answers with the numbers the notebook
    states; graded with a course salt, then again with --no-variants."""
    from labkit.exercises import get
    salt = "fall-2026 s3cret"
    torus, line = get("03.torus_bisection"), get("03.h100_line_rate_time")

    def answers(student):
        return {"torus_bisection": torus.expected_for(torus.numbers_for(student, salt)),
                "predicted_time": line.expected_for(line.numbers_for(student, salt))}

    assert all(a != b for a, b in zip(answers("alice").values(), answers("bob").values()))

    def small(values):
        nb = copy.deepcopy(RELEASED_03)
        cells = [_code(f"{name} = {value!r}\ncheck('{eid}', {name})") for (name, value), eid in
                 zip(values.items(), ("03.torus_bisection", "03.h100_line_rate_time"))]
        nb["cells"] = [nb["cells"][2], nb["cells"][3]] + cells
        return nb

    subs = tmp_path / "class"
    _dump(subs / "submitted" / "alice" / "03_interconnects" / "03_interconnects.ipynb", small(answers("alice")))
    _dump(subs / "submitted" / "bob" / "03_interconnects" / "03_interconnects.ipynb", small(answers("alice")))
    _dump(subs / "submitted" / "dave" / "03_interconnects" / "03_interconnects.ipynb",
          small({"torus_bisection": torus.expected, "predicted_time": line.expected}))
    carol = subs / "submitted" / "carol" / "03_interconnects" / "03_interconnects.ipynb"
    carol.parent.mkdir(parents=True)
    carol.write_bytes((ROOT / "solutions" / "03_interconnects.ipynb").read_bytes())
    before = _hashes(subs)

    grading.grade([subs], out=tmp_path / "g.csv", jobs=2, sandbox=False, seed=5, chapter="03", salt=salt,
                  cell_timeout=60)
    assert _hashes(subs) == before
    rows, _ = _rows(tmp_path / "g.csv")
    for eid in ("03.torus_bisection", "03.h100_line_rate_time"):
        ex = get(eid)
        assert rows[("alice", eid)]["status"] == "passed", rows[("alice", eid)]
        assert ex.describe_numbers(ex.numbers_for("alice", salt)) in rows[("alice", eid)]["message"]
        bob = rows[("bob", eid)]
        assert bob["status"] == "failed" and "It is the answer for other numbers" in bob["message"], bob
        assert "Off by" not in bob["message"]
        dave = rows[("dave", eid)]
        assert dave["status"] == "failed" and "It is the answer for the default numbers" in dave["message"], dave
    # the solution computes from numbers(): the grader told carol's kernel her numbers
    carol_rows = [r for (s, _), r in rows.items() if s == "carol"]
    assert carol_rows and all(r["status"] == "passed" for r in carol_rows), [r for r in carol_rows
                                                                             if r["status"] != "passed"]
    report = (tmp_path / "g_report.md").read_text(encoding="utf-8")
    assert "per-student variants: on, with a course salt" in report
    assert "It is the answer for other numbers: work it out with your own numbers" in report   # counted together
    assert "1 student(s) answered for the default numbers, not their own** (dave)" in report

    # a class that did not run on a hub: everyone on the default numbers
    grading.grade([subs / "submitted" / "dave", subs / "submitted" / "alice"], out=tmp_path / "d.csv",
                  sandbox=False, seed=5, chapter="03", variants=False)
    rows, _ = _rows(tmp_path / "d.csv")
    assert rows[("dave", "03.torus_bisection")]["status"] == "passed"
    assert rows[("alice", "03.torus_bisection")]["status"] == "failed"
