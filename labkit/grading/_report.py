"""What the grader writes: grades.csv, the per-student totals, the instructor's report and a histogram."""

import csv
import re
from collections import Counter, defaultdict
from pathlib import Path

from ..core.files import atomic_write
from ..exercises._base import FAILED, NOT_ATTEMPTED, PASSED

FIELDS = ["student", "chapter", "exercise_id", "status", "points", "max_points", "message"]
TOTAL_FIELDS = ["student", "chapter", "points", "max_points", "passed", "failed", "not_attempted", "errors",
                "notes"]

_FUNCTION_FAIL = re.compile(r"^For .*? your function returned .*?, expected .*?\. (.+)$", re.S)
_VALUE_FAIL = re.compile(r"^Not quite(?: for (?:your|the default) numbers \(.*?\))?: .*? is too (?:large|small)\. (.+)$",
                         re.S)
DEFAULT_NUMBERS_ANSWER = "It is the answer for the default numbers"   # the variant check's message (_core)
_OTHER_NUMBERS = re.compile(r"^(It is the answer for [^(]*?) \(.*?\)(: .*)$", re.S)   # whose numbers: not shown
_PRINTED = re.compile(r" \(Your function printed .*$", re.S)
_NOTE = re.compile(r" Note: .*$", re.S)


def output_paths(out):
    """{kind: path} of everything written next to ``out`` (grades.csv)."""
    out = Path(out)
    stem = out.stem if out.suffix.lower() == ".csv" else out.name
    return {"grades": out, "totals": out.with_name(stem + "_totals.csv"),
            "report": out.with_name(stem + "_report.md"), "histogram": out.with_name(stem + "_totals.png")}




def _num(x):
    return int(x) if float(x).is_integer() else round(float(x), 6)


def totals(verdicts, notes):
    """One dict per (student, chapter): points, max_points, counts and notes."""
    table = {}
    for v in verdicts:
        t = table.setdefault((v.student, v.chapter), {"student": v.student, "chapter": v.chapter, "points": 0,
                                                        "max_points": 0, "passed": 0, "failed": 0,
                                                        "not_attempted": 0, "errors": 0})
        t["points"] += v.points
        t["max_points"] += v.max_points
        key = {PASSED: "passed", FAILED: "failed", NOT_ATTEMPTED: "not_attempted"}.get(v.status, "errors")
        t[key] += 1
    for (student, chapter), t in table.items():
        t["notes"] = "; ".join(notes.get(student, []))
        t["points"], t["max_points"] = _num(t["points"]), _num(t["max_points"])
    return sorted(table.values(), key=lambda t: (t["student"], t["chapter"] or ""))


def diagnosis(message):
    """The diagnosed mistake of a failed verdict's message, without the case-specific numbers."""
    message = _NOTE.sub("", _PRINTED.sub("", message))
    for pattern in (_FUNCTION_FAIL, _VALUE_FAIL):
        m = pattern.match(message)
        if m:
            message = m.group(1)
            break
    other = _OTHER_NUMBERS.match(message.strip())
    return (other.group(1) + other.group(2) if other else message).strip()


def write_all(verdicts, notes, out, seed, integrity_note, elapsed):
    """Write the four files; returns their paths and the totals."""
    paths = output_paths(out)
    rows = sorted(verdicts, key=lambda v: (v.student, v.chapter or "", v.exercise_id))

    def grades(f):
        w = csv.DictWriter(f, FIELDS)
        w.writeheader()
        for v in rows:
            w.writerow({**v.as_dict(), "points": _num(v.points), "max_points": _num(v.max_points)})

    table = totals(verdicts, notes)

    def totals_csv(f):
        w = csv.DictWriter(f, TOTAL_FIELDS)
        w.writeheader()
        w.writerows(table)

    atomic_write(paths["grades"], grades)
    atomic_write(paths["totals"], totals_csv)
    _histogram(table, paths["histogram"])
    atomic_write(paths["report"], lambda f: f.write(report_text(verdicts, table, seed, integrity_note, elapsed,
                                                                 paths["histogram"].name)))
    return paths, table


def _histogram(table, path):
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure
    fig = Figure(figsize=(6, 3.5))
    FigureCanvasAgg(fig)
    ax = fig.add_subplot()
    values = [t["points"] for t in table]
    top = max([t["max_points"] for t in table] + [1])
    bins = [x - 0.5 for x in range(int(top) + 2)] if float(top).is_integer() and top <= 60 else 20
    ax.hist(values, bins=bins, color="#4c72b0", edgecolor="white")
    ax.set_xlabel("points per submission")
    ax.set_ylabel("submissions")
    ax.set_title(f"Totals of {len(values)} submission(s)")
    fig.tight_layout()
    atomic_write(path, lambda f: fig.savefig(f, format="png", dpi=100), binary=True)


def per_exercise(verdicts):
    """{exercise_id: {"n", "passed", "failed", "not_attempted", "errors", "pass_rate", "mistakes"}}."""
    stats = defaultdict(lambda: {"n": 0, "passed": 0, "failed": 0, "not_attempted": 0, "errors": 0,
                                 "mistakes": Counter()})
    for v in verdicts:
        if not v.exercise_id:
            continue
        s = stats[v.exercise_id]
        s["n"] += 1
        key = {PASSED: "passed", FAILED: "failed", NOT_ATTEMPTED: "not_attempted"}.get(v.status, "errors")
        s[key] += 1
        if v.status == FAILED:
            s["mistakes"][diagnosis(v.message)] += 1
    for s in stats.values():
        s["pass_rate"] = s["passed"] / s["n"] if s["n"] else 0.0
    return dict(sorted(stats.items()))


def report_text(verdicts, table, seed, integrity_note, elapsed, histogram_name):
    stats = per_exercise(verdicts)
    lines = ["# Grading report", "",
             f"{len(table)} submission(s), {len(verdicts)} verdict(s); fresh function cases drawn with seed "
             f"{seed} (rerun with `--seed {seed}` for the same cases); graded in {elapsed:.0f} s.", "",
             f"Integrity: {integrity_note}.", ""]
    default = sorted({v.student for v in verdicts if v.status == FAILED and DEFAULT_NUMBERS_ANSWER in v.message})
    if default:
        lines += [f"**{len(default)} student(s) answered for the default numbers, not their own** "
                  f"({', '.join(default[:8])}{', ...' if len(default) > 8 else ''}): if they worked where no student "
                  "id was set (not on your hub, or under another user name), grade with `--no-variants`; if the hub "
                  "sets a course salt, check that `--salt` is the same one.", ""]
    lines += ["| exercise | submissions | passed | pass rate | failed | not attempted | errors |",
             "|---|---:|---:|---:|---:|---:|---:|"]
    for ex, s in stats.items():
        lines.append(f"| {ex} | {s['n']} | {s['passed']} | {s['pass_rate']:.0%} | {s['failed']} | "
                     f"{s['not_attempted']} | {s['errors']} |")
    lines += ["", "## Most frequent mistakes", ""]
    any_mistake = False
    for ex, s in stats.items():
        common = s["mistakes"].most_common(3)
        if not common:
            continue
        any_mistake = True
        lines.append(f"**{ex}**")
        lines += [f"- {n}× {text[:300]}" for text, n in common]
        lines.append("")
    if not any_mistake:
        lines += ["No failed answers.", ""]
    points = [t["points"] for t in table]
    if points:
        lines += ["## Totals", "",
                  f"Mean {sum(points) / len(points):.2f}, lowest {min(points)}, highest {max(points)} "
                  f"(of {max(t['max_points'] for t in table)}).", "", f"![histogram of totals]({histogram_name})", ""]
    problems = [t for t in table if t["errors"] or t["notes"]]
    if problems:
        lines += ["## Submissions that need a look", ""]
        lines += [f"- {t['student']}: {t['errors']} exercise(s) not gradable. {t['notes']}".rstrip() for t in problems]
        lines.append("")
    return "\n".join(lines)
