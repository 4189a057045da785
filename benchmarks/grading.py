"""Grading speed: `python -m labkit grade` against `nbgrader autograde` on the same submissions.

    .venv/bin/python benchmarks/grading.py                 # 200 submissions of chapter 00
    .venv/bin/python benchmarks/grading.py --n 40 --jobs 2

Builds an nbgrader course from solutions/ (`python -m labkit release --nbgrader`), fills N students'
copies with the four answer patterns of tests/test_nbgrader.py (all correct, two wrong, untouched, an
answer that memorised the visible inputs), puts them in nbgrader's `submitted/<student>/<chapter>/`
layout, then times, one after the other on the same files: nbgrader's `autograde` (its own venv, made
once under the temporary folder; it runs one kernel at a time, unisolated) and labkit's grader
(sandboxed unless --no-sandbox, --jobs kernels at a time). Prints seconds per submission and the ratio,
and checks that both gave every student the same score. A script, not a test.
"""

import argparse
import csv
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tests"))

import test_nbgrader as tn  # noqa: E402  (the round-trip test's class of four answer patterns)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--n", type=int, default=200, help="submissions (default 200)")
    parser.add_argument("--jobs", type=int, default=os.cpu_count(), help="labkit grader's parallel kernels")
    parser.add_argument("--no-sandbox", action="store_true", help="run labkit's grader without bubblewrap")
    args = parser.parse_args(argv)
    if args.n < 1:
        parser.error("--n must be at least 1")

    work = Path(tempfile.mkdtemp(prefix="labkit-grading-bench-"))
    try:
        bin_dir = tn._venv("nbgrader", [tn.NBGRADER], "LABKIT_SKIP_NBGRADER")
        course = work / "course"
        subprocess.run([sys.executable, "-m", "labkit", "release", "--nbgrader", str(course)], cwd=ROOT,
                       check=True, capture_output=True)
        env = tn.nbgrader_env(work, bin_dir)
        tn._nbgrader(bin_dir, course, env, "generate_assignment", tn.CHAPTER)
        student_nb = tn._load(course / "release" / tn.CHAPTER / f"{tn.CHAPTER}.ipynb")
        source_nb = tn._load(course / "source" / tn.CHAPTER / f"{tn.CHAPTER}.ipynb")
        patterns = tn._class()
        expected_by_pattern = tn._expected_scores()
        expected = {}
        for k in range(args.n):
            name = list(patterns)[k % len(patterns)]
            student = f"{name}{k:03d}"
            answers = {(i.replace(".", "-") + "-answer" if i != "reflection" else "00-reflection-1"): v
                       for i, v in patterns[name].items()}
            folder = course / "submitted" / student / tn.CHAPTER
            folder.mkdir(parents=True)
            (folder / f"{tn.CHAPTER}.ipynb").write_text(json.dumps(tn._submission(student_nb, source_nb, answers)))
            expected[student] = expected_by_pattern[name]

        t0 = time.perf_counter()
        tn._nbgrader(bin_dir, course, env, "autograde", tn.CHAPTER)
        t_nbgrader = time.perf_counter() - t0
        tn._nbgrader(bin_dir, course, env, "export", "--to", "grades.csv")
        with open(course / "grades.csv", newline="") as f:
            nbgrader_scores = {r["student_id"]: float(r["score"]) for r in csv.DictReader(f)}

        out = work / "labkit" / "grades.csv"
        out.parent.mkdir()
        cmd = [sys.executable, "-m", "labkit", "grade", str(course / "submitted"), "--chapter", "00",
               "--out", str(out), "--jobs", str(args.jobs), "--seed", "1"] + (["--no-sandbox"] if args.no_sandbox else [])
        t0 = time.perf_counter()
        run = subprocess.run(cmd, cwd=work, capture_output=True, text=True)
        t_labkit = time.perf_counter() - t0
        if run.returncode != 0:
            print(run.stdout[-2000:], run.stderr[-2000:])
            return 1
        labkit_scores = {}
        with open(out, newline="") as f:
            for r in csv.DictReader(f):
                labkit_scores[r["student"]] = labkit_scores.get(r["student"], 0.0) + float(r["points"] or 0)

        n = args.n
        print(f"{n} submissions of chapter {tn.CHAPTER}, {os.cpu_count()} CPUs, load {os.getloadavg()[0]:.1f}")
        print("| grader | seconds | per submission |")
        print("|---|---|---|")
        print(f"| nbgrader autograde (one kernel at a time, unisolated) | {t_nbgrader:.1f} | {t_nbgrader / n:.2f} s |")
        sandbox = "no sandbox" if args.no_sandbox else "bubblewrap"
        print(f"| python -m labkit grade (--jobs {args.jobs}, {sandbox}) | {t_labkit:.1f} | {t_labkit / n:.2f} s |")
        print(f"ratio labkit / nbgrader: {t_labkit / t_nbgrader:.2f}")
        auto_nb = nbgrader_scores
        same = all(abs(auto_nb.get(s, -1) - e) < 1e-9 and abs(labkit_scores.get(s, -1) - e) < 1e-9
                   for s, e in expected.items())
        print("both graders gave every student the expected score" if same else
              "SCORES DIFFER: " + json.dumps({s: (expected[s], auto_nb.get(s), labkit_scores.get(s))
                                              for s in expected if not (auto_nb.get(s) == labkit_scores.get(s)
                                                                        == expected[s])})[:2000])
        return 0
    finally:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
