"""Verdicts, computed in the grader's own process from the plain data a kernel reported.

The kernel reports only what the learner's answer *is* (a plain value, a choice) or what their function
*returned* on the cases the grader drew; this module decides: the references run here, on the same fresh
cases, and the comparison and diagnosis are the exercise classes' own (``FunctionExercise.judge``,
``ValueExercise.grade``, ``ChoiceExercise.grade``, ``CustomExercise.grade`` on plain data).
"""

import json
import zlib

import numpy as np

from ..exercises import _guard
from ..exercises._base import FAILED, NOT_ATTEMPTED, PASSED, Answer, _plain
from ..exercises._guard import _NotAttempted, _Timeout

ERROR = "error"     # the submission could not be graded (the message says why); worth 0 points

_STOPS = {"timeout": int, "too_slow": int, "forbidden": str, "died": str}


def draw_cases(exercise, seed, student=""):
    """A function exercise's cases for one grading: its edge cases, then ``n_random`` random cases drawn
    now from ``seed`` and the student id (not the fixed cases a learner's notebook was checked on)."""
    rng = np.random.default_rng([int(seed) % 2**63, zlib.crc32(str(student).encode()),
                                 zlib.crc32(exercise.id.encode())])
    return [_plain(c) for c in exercise.edge_cases] + [_plain(exercise.cases(rng)) for _ in range(exercise.n_random)]


def encode_value(value):
    """A case argument as JSON-able data the grading cell decodes exactly (arrays and tuples tagged)."""
    if isinstance(value, np.ndarray):
        return {"nd": value.tolist(), "dtype": value.dtype.str}
    if isinstance(value, tuple):
        return {"tuple": [encode_value(v) for v in value]}
    if isinstance(value, list):
        return [encode_value(v) for v in value]
    if isinstance(value, np.generic):
        return value.item()
    return value


def _plain_back(value, depth=0):
    """A reported plain value (JSON: lists for tuples) as the plain Python data plain_answer gives."""
    if value is None or type(value) in (str, bool, int, float):
        return value
    if type(value) is list and depth < 3 and len(value) <= 1000:
        return tuple(_plain_back(v, depth + 1) for v in value)
    raise ValueError("not plain data")


def _run_from(report):
    """A _guard.Run rebuilt from a kernel's report, every outcome re-validated as the parent of a forked
    child validates its messages; ValueError when anything is malformed."""
    run = _guard.Run()
    outcomes = report.get("outcomes")
    if type(outcomes) is not list:
        raise ValueError("outcomes")
    for o in outcomes:
        message = _guard._parse(json.dumps(o, allow_nan=True).encode())
        if message is None or message[0] in ("end", "forbidden"):
            raise ValueError("outcome")
        run.outcomes.append(tuple(message))
    stop = report.get("stop")
    if stop is not None:
        if type(stop) is not list or not stop or stop[0] not in (*_STOPS, "interrupted"):
            raise ValueError("stop")
        if stop[0] == "interrupted":
            run.stop = ("interrupted",)
        else:
            if len(stop) != 2 or type(stop[1]) is not _STOPS[stop[0]]:
                raise ValueError("stop")
            run.stop = (stop[0], stop[1][:200] if isinstance(stop[1], str) else stop[1])
    printed, head = report.get("printed", 0), report.get("head", "")
    run.printed = printed if type(printed) is int and printed >= 0 else 0
    run.head = head[:_guard._OUTPUT_CAP] if type(head) is str else ""
    return run


def _settle(call):
    """Run a grading call as check() does: (status, message), whatever it raises."""
    try:
        status, message = call()
    except Answer as verdict:
        status, message = verdict.status, verdict.message
        if status == PASSED:
            status = FAILED
    except _NotAttempted:
        status, message = NOT_ATTEMPTED, "Not attempted: the function still raises NotImplementedError."
    except _Timeout as e:
        status, message = FAILED, str(e)
    except Exception as e:   # a bug in a reference: the instructor must see it, the learner loses nothing silently
        status, message = ERROR, f"grading failed unexpectedly ({type(e).__name__}: {str(e)[:200]})"
    if status not in (PASSED, FAILED, NOT_ATTEMPTED, ERROR) or type(message) is not str:
        status, message = ERROR, "grading failed unexpectedly (no verdict)"
    return status, message.strip()


def recheck(exercise, report, cases=None, numbers=None):
    """The verdict ``(status, message)`` on one exercise from a kernel's ``report`` (the dict the grading
    cell printed for it: ``{"kind": "run", "outcomes": ..., "stop": ...}``, ``{"kind": "plain", "value":
    ...}``, ``{"kind": "missing"}`` ...). ``cases``: for a function exercise, the cases (dicts) its function
    was run on, in order. ``numbers``: for a value exercise with per-student variants, the student's numbers
    (``exercise.numbers_for(student, salt)``); None checks against the default numbers, never against a
    student id this process may have. ``exercise``: an Exercise or its id. Computed here, never in the kernel."""
    if isinstance(exercise, str):
        from ..exercises import get
        exercise = get(exercise)
    if type(report) is not dict:
        return ERROR, "the grading cell reported nothing readable for this exercise"
    kind = report.get("kind")
    if kind == "missing":
        return NOT_ATTEMPTED, "Not attempted: the notebook defines no answer for it."
    if kind == "ellipsis":
        return NOT_ATTEMPTED, "Not attempted: the answer is still `...`."
    if kind == "grader_error":
        return ERROR, f"the grading cell failed on this exercise ({str(report.get('detail'))[:200]})"
    if kind == "replaced":
        what = ", ".join(str(w)[:80] for w in (report.get("what") or [])[:4])
        return FAILED, (f"The notebook replaced labkit's own code ({what}), so its own-work check cannot run: "
                        "not graded as correct.")
    if kind == "forbidden":
        return FAILED, _guard.own_work_message(str(report.get("what"))[:200])
    if kind in ("not_callable", "not_plain"):
        describe = str(report.get("describe"))[:120]
        if kind == "not_callable":
            return FAILED, f"Expected a function; the answer is {describe}."
        return FAILED, f"Answer with a plain number, string or tuple of numbers; got {describe}."
    if exercise.kind == "function":
        if kind != "run" or cases is None:
            return ERROR, "the grading cell did not run this function"
        try:
            run = _run_from(report)
        except (ValueError, TypeError):
            return ERROR, "the grading cell's report for this function was malformed"
        if len(run.outcomes) > len(cases):
            return ERROR, "the grading cell's report for this function was malformed"
        return _settle(lambda: exercise.judge(cases, exercise.expected_outputs(cases), run))
    if kind != "plain":
        return ERROR, "the grading cell's report for this exercise was malformed"
    try:
        value = _plain_back(report.get("value"))
    except ValueError:
        return ERROR, "the grading cell's report for this exercise was malformed"
    if exercise.kind == "value" and getattr(exercise, "variants", None):
        chosen = exercise.default_numbers if numbers is None else numbers
        return _settle(lambda: exercise.grade(value, numbers=chosen))
    return _settle(lambda: exercise.grade(value))
