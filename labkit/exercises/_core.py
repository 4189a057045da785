"""The exercise system: register exercises, check answers, give hints, keep progress.

An exercise id is ``"NN.name"``, NN being the chapter (``"01.ridge_point"``). Chapters define
their exercises in ``labkit/exercises/chNN_*.py`` modules, which are found and imported on first use.

``check()`` never raises into the notebook: whatever the answer (None, a string, a function that
raises, loops or returns NaN), it returns a :class:`CheckResult` and shows ✅ or ❌ with a message.
"""


import html
import importlib
import pkgutil
import time
import zlib
from dataclasses import dataclass, field

import numpy as np

from . import _progress
from ._base import (FAILED, NOT_ATTEMPTED, PASSED, Answer, _as_array, _close, _describe, _fmt, _fmt_case,
                    _fmt_value, _plain, _resolved, _scalar)
from ._diagnose import Mistake, diagnose_exponent, diagnose_ratio  # noqa: F401  (Mistake: the chapters' API)
from ._guard import _call, _NotAttempted, _Timeout, _with_time_limit

_REGISTRY = {}        # id -> Exercise
_LOADED = False


# ---------------------------------------------------------------------------------------------
# Results
# ---------------------------------------------------------------------------------------------
@dataclass
class CheckResult:
    """What ``check()`` returns: truthy exactly when the answer passed."""
    exercise_id: str
    status: str
    message: str
    _shown_at: object = field(default=None, repr=False, compare=False)

    @property
    def passed(self):
        return self.status == PASSED

    def __bool__(self):
        return self.passed

    @property
    def symbol(self):
        return {PASSED: "✅", FAILED: "❌", NOT_ATTEMPTED: "⬜"}[self.status]

    def __str__(self):
        return f"{self.symbol} {self.exercise_id}: {self.message}"

    def _repr_html_(self):
        colour = {PASSED: "#1a7f37", FAILED: "#cf222e", NOT_ATTEMPTED: "#6e7781"}[self.status]
        body = html.escape(self.message).replace("\n", "<br>")
        return (f'<div class="labkit-check labkit-{self.status.replace(" ", "-")}" '
                f'style="border-left:4px solid {colour};padding:4px 10px;margin:4px 0">'
                f'{self.symbol} <b>{html.escape(self.exercise_id)}</b> — {body}</div>')

    def _ipython_display_(self):
        # check() has already shown this result; do not show it twice when it is also the
        # cell's last expression.
        ip = _ipython()
        if ip is not None and self._shown_at == ip.execution_count:
            return
        _show(self)


# ---------------------------------------------------------------------------------------------
# Exercises
# ---------------------------------------------------------------------------------------------
class Exercise:
    """Base class. Subclasses implement ``grade(answer) -> (status, message)``.

    ``teaches``: the dotted names of the labkit functions the learner is asked to write
    (``("labkit.hardware.matmul_flops",)``): an answer that calls them is not the learner's own work.
    ``quantity``: the kind of quantity the answer is (``"bytes"``, ``"time"``, ``"rate"`` …), so that a
    diagnosis only names the unit slips that quantity can have.
    """
    kind = "base"

    def __init__(self, id, title, hints, mistakes=(), chapter=None, teaches=(), quantity=None):
        if not isinstance(id, str) or "." not in id:
            raise ValueError(f"exercise id must look like 'NN.name', got {id!r}")
        if len(hints) < 2:
            raise ValueError(f"exercise {id} needs at least two hints")
        if isinstance(teaches, str) or not all(isinstance(t, str) and t.startswith("labkit.") for t in teaches):
            raise ValueError(f"exercise {id}: teaches must be a tuple of dotted names such as 'labkit.units.fmt_bytes'")
        self.id, self.title, self.hints, self.mistakes = id, title, list(hints), list(mistakes)
        self.chapter = chapter or id.split(".")[0]
        self.teaches, self.quantity = tuple(teaches), quantity

    def grade(self, answer):  # pragma: no cover - abstract
        raise NotImplementedError

    def diagnose(self, got, expected, args=None):
        """Exercise-specific mistakes first, then generic ratios and exponents."""
        for m in self.mistakes:
            if m.matches(got, expected, args):
                return m.message
        with np.errstate(all="ignore"):
            nonzero = expected != 0
            if np.any(nonzero):
                ratios = got[nonzero] / expected[nonzero]
                if np.all(np.isfinite(ratios)) and np.ptp(ratios) <= 0.01 * max(1e-300, np.max(np.abs(ratios))):
                    message = diagnose_ratio(float(np.mean(ratios)))
                    if message:
                        return message
        return diagnose_exponent(got, expected)


class ValueExercise(Exercise):
    """The answer is a number, compared with ``expected`` within ``rtol`` (relative)."""
    kind = "value"

    def __init__(self, id, title, expected, hints, mistakes=(), rtol=0.01, unit="", **kw):
        super().__init__(id, title, hints, mistakes, **kw)
        self._expected, self.rtol, self.unit = expected, rtol, unit

    @property
    def expected(self):
        """The expected value; given as a function, it is computed on first use and kept."""
        return float(_resolved(self, "_expected"))

    def grade(self, answer):
        if answer is None or answer is Ellipsis:
            return NOT_ATTEMPTED, "Not attempted yet: replace the `...` with your answer and run the cell again."
        number = _scalar(answer, "Your answer")
        expected = self.expected
        if _close(np.array(number), np.array(expected), self.rtol):
            return PASSED, f"Correct: {_fmt(number, self.unit)} (tolerance ±{self.rtol * 100:.2g} %)."
        why = self.diagnose(np.array([number]), np.array([expected]))
        direction = "too large" if number > expected else "too small"
        return FAILED, f"Not quite: {_fmt(number, self.unit)} is {direction}. " + (why or "Try hint() for a nudge.")


class FunctionExercise(Exercise):
    """The answer is a function, run on randomized seeded inputs and edge cases.

    cases(rng) returns one dict of keyword arguments; the learner's function is called with them
    positionally, in order. At least ``n_random`` random cases plus every edge case are run.
    """
    kind = "function"

    def __init__(self, id, title, reference, cases, hints, mistakes=(), edge_cases=(),
                 n_random=24, rtol=1e-6, atol=0.0, timeout=2.0, unit="", **kw):
        super().__init__(id, title, hints, mistakes, **kw)
        self.reference, self.cases, self.edge_cases = reference, cases, list(edge_cases)
        self.n_random, self.rtol, self.atol, self.timeout, self.unit = n_random, rtol, atol, timeout, unit

    def inputs(self):
        rng = np.random.default_rng(zlib.crc32(self.id.encode()))
        random_cases = [_plain(self.cases(rng)) for _ in range(self.n_random)]
        return [_plain(c) for c in self.edge_cases] + random_cases

    def grade(self, answer):
        if answer is None or answer is Ellipsis:
            return NOT_ATTEMPTED, "Not attempted yet: write the function, then run the cell again."
        if not callable(answer):
            return FAILED, (f"Expected a function (pass its name without calling it, e.g. check(id, my_function)); "
                            f"got {_describe(answer)}.")
        deadline = time.perf_counter() + 10 * self.timeout
        for case in self.inputs():
            args = tuple(case.values())
            expected = _as_array(self.reference(*args))
            got_raw = _call(answer, args, self.timeout)
            if got_raw is Ellipsis:
                raise Answer(NOT_ATTEMPTED, "Not attempted yet: your function still returns `...`.")
            if got_raw is None:
                raise Answer(FAILED, f"Your function returned None for {_fmt_case(case)}: did you forget `return`?")
            got = _as_array(got_raw)
            if got is None:
                raise Answer(FAILED, f"Your function returned {_describe(got_raw)} for {_fmt_case(case)}; expected a number.")
            if got.size != expected.size:
                raise Answer(FAILED, f"For {_fmt_case(case)} your function returned {got.size} value(s); "
                                     f"expected {expected.size}.")
            if not np.all(np.isfinite(got)) and np.all(np.isfinite(expected)):
                raise Answer(FAILED, f"Your function returned {_fmt_value(got)} for {_fmt_case(case)}: "
                                     "a NaN or infinity — a division by zero, or a log of zero?")
            if not _close(got, expected, self.rtol, self.atol):
                why = self._constant_answer(answer, got) or self.diagnose(got, expected, args)
                return FAILED, (f"For {_fmt_case(case)} your function returned {_fmt_value(got, self.unit)}, "
                                f"expected {_fmt_value(expected, self.unit)}. " + (why or "Try hint() for a nudge."))
            if time.perf_counter() > deadline:
                raise Answer(FAILED, "Your function is too slow: the checks ran out of time.")
        n = len(self.inputs())
        return PASSED, f"Correct on all {n} test inputs (edge cases included)."


    def _constant_answer(self, answer, got):
        """A diagnosis when the function ignores its inputs (a hard-coded number)."""
        cases = self.inputs()[-3:]
        try:
            outs = [_as_array(_with_time_limit(answer, tuple(c.values()), self.timeout)) for c in cases]
            refs = [_as_array(self.reference(*c.values())) for c in cases]
        except BaseException:
            return None
        if all(o is not None and o.size == got.size and np.array_equal(o.reshape(-1), got.reshape(-1)) for o in outs) and \
                not all(np.array_equal(r, refs[0]) for r in refs):
            return ("Your function returns the same value whatever its inputs: it must compute the "
                    "answer from its arguments (a hard-coded number cannot pass).")
        return None


class ChoiceExercise(Exercise):
    """The answer is one of a few options (strings); each wrong option has its own explanation."""
    kind = "choice"

    def __init__(self, id, title, answer, choices, hints, explanations=None, **kw):
        super().__init__(id, title, hints, (), **kw)
        self.answer, self.choices = answer, dict(choices)
        self.explanations = dict(explanations or {})

    def grade(self, answer):
        if answer is None or answer is Ellipsis:
            return NOT_ATTEMPTED, "Not attempted yet: set your answer to one of " + self._options() + "."
        if not isinstance(answer, str):
            return FAILED, f"Answer with one of {self._options()} (a string); got {_describe(answer)}."
        key = answer.strip().lower()
        if key not in self.choices:
            return FAILED, f"{answer!r} is not one of the options: {self._options()}."
        if key == self.answer:
            return PASSED, "Correct. " + self.explanations.get(key, "")
        return FAILED, "Not this one. " + self.explanations.get(key, "Try hint() for a nudge.")

    def _options(self):
        return ", ".join(repr(k) for k in self.choices)


class CustomExercise(Exercise):
    """The answer is graded by ``grade_fn(answer) -> (passed: bool, message)``.

    ``example`` is a passing answer (used by the tests), or a function that computes it on first use
    (when that is expensive); ``constant`` a wrong constant answer.
    """
    kind = "custom"

    def __init__(self, id, title, grade_fn, hints, example, constant=0, **kw):
        super().__init__(id, title, hints, (), **kw)
        self.grade_fn, self._example, self.constant = grade_fn, example, constant

    @property
    def example(self):
        """A passing answer; given as a function, it is computed on first use and kept."""
        return _resolved(self, "_example")

    def grade(self, answer):
        if answer is None or answer is Ellipsis:
            return NOT_ATTEMPTED, "Not attempted yet: replace the `...` with your answer and run the cell again."
        ok, message = self.grade_fn(answer)
        return (PASSED if ok else FAILED), message


# ---------------------------------------------------------------------------------------------
# Registry
# ---------------------------------------------------------------------------------------------
def register(exercise):
    """Add an exercise to the registry (chapter modules call this at import)."""
    _REGISTRY[exercise.id] = exercise
    return exercise


def _chapter_modules():
    package = importlib.import_module("labkit.exercises")
    return sorted(i.name for i in pkgutil.iter_modules(package.__path__) if i.name.startswith("ch"))


def _load_all():
    global _LOADED
    if _LOADED:
        return
    for name in _chapter_modules():
        importlib.import_module(f"labkit.exercises.{name}")
    _LOADED = True


def _load_chapter(chapter):
    """Import only one chapter's exercises (check() in chapter 00 need not import chapter 06's models)."""
    for name in _chapter_modules():
        if name.startswith(f"ch{chapter}"):
            importlib.import_module(f"labkit.exercises.{name}")


def _chapter_key(chapter):
    if chapter is None:
        return None
    if isinstance(chapter, bool) or not isinstance(chapter, (int, str)):
        raise TypeError(f"chapter must be a number like 1 or a string like '01', got {chapter!r}")
    try:
        return f"{int(chapter):02d}"
    except ValueError:
        raise ValueError(f"chapter must be a number like 1 or '01', got {chapter!r}") from None


def ids(chapter=None):
    """Every registered exercise id, in order; ``chapter`` (1 or '01') narrows it to one chapter."""
    _load_all()
    key = _chapter_key(chapter)
    ordered = sorted(_REGISTRY, key=lambda i: _REGISTRY[i].chapter)  # stable: file order within a chapter
    return [i for i in ordered if key is None or _REGISTRY[i].chapter == key]


def get(exercise_id):
    """The exercise with this id; a KeyError with the chapter's ids when there is none."""
    if exercise_id in _REGISTRY:
        return _REGISTRY[exercise_id]
    if isinstance(exercise_id, str) and "." in exercise_id:
        _load_chapter(exercise_id.split(".")[0])
        if exercise_id in _REGISTRY:
            return _REGISTRY[exercise_id]
    _load_all()
    if exercise_id in _REGISTRY:
        return _REGISTRY[exercise_id]
    raise KeyError(_unknown_message(exercise_id))


def _unknown_message(exercise_id):
    if not isinstance(exercise_id, str):
        return f"Exercise ids are strings like '01.ridge_point'; got {_describe(exercise_id)}."
    chapter = exercise_id.split(".")[0]
    same = [i for i in _REGISTRY if _REGISTRY[i].chapter == chapter]
    if same:
        return f"There is no exercise {exercise_id!r}. Chapter {chapter} has: " + ", ".join(same) + "."
    return f"There is no exercise {exercise_id!r}. Known ids: " + ", ".join(_REGISTRY) + "."


# ---------------------------------------------------------------------------------------------
# check / hint / progress
# ---------------------------------------------------------------------------------------------
def check(exercise_id, answer=Ellipsis, show=True):
    """Check an answer; shows ✅/❌ with a message and returns a CheckResult (truthy iff passed)."""
    try:
        exercise = get(exercise_id)
    except KeyError as e:
        result = CheckResult(str(exercise_id), FAILED, e.args[0])
        return _shown(result) if show else result
    try:
        status, message = exercise.grade(answer)
    except Answer as verdict:
        status, message = verdict.status, verdict.message
    except _NotAttempted:
        status, message = NOT_ATTEMPTED, "Not attempted yet: your function still raises NotImplementedError."
    except _Timeout as e:
        status, message = FAILED, str(e)
    except Exception as e:  # a bug in a reference must not crash the notebook either
        status, message = FAILED, f"Checking failed unexpectedly ({type(e).__name__}: {e})."
    result = CheckResult(exercise.id, status, message.strip())
    _progress.record(exercise.id, status)
    return _shown(result) if show else result


def hint(exercise_id):
    """Show the next hint for an exercise (at least two per exercise, each more specific)."""
    try:
        exercise = get(exercise_id)
    except KeyError as e:
        _print(e.args[0])
        return None
    n = min(_progress._HINTS_SHOWN.get(exercise.id, 0), len(exercise.hints) - 1)
    _progress._HINTS_SHOWN[exercise.id] = n + 1
    last = " (that is the last hint)" if n == len(exercise.hints) - 1 else ""
    text = f"💡 Hint {n + 1} of {len(exercise.hints)} for {exercise.id}{last}: {exercise.hints[n]}"
    _print(text)
    return None


def _ipython():
    try:
        from IPython import get_ipython
    except ImportError:  # pragma: no cover
        return None
    return get_ipython()


def _show(result):
    ip = _ipython()
    if ip is None:
        print(str(result))
        return
    from IPython.display import display
    display({"text/plain": str(result), "text/html": result._repr_html_()}, raw=True)


def _shown(result):
    _show(result)
    ip = _ipython()
    result._shown_at = ip.execution_count if ip is not None else None
    return result


def _print(text):
    print(text)
