"""The exercise system: register exercises, check answers, give hints, keep progress.

An exercise id is ``"NN.name"``, NN being the chapter (``"01.ridge_point"``). Chapters define
their exercises in ``labkit/exercises/chNN_*.py`` modules, which are found and imported on first use.

``check()`` never raises into the notebook: whatever the answer (None, a string, a function that
raises, loops or returns NaN), it returns a :class:`CheckResult` and shows ✅ or ❌ with a message.
"""


import html
import importlib
import pkgutil
import zlib
from dataclasses import dataclass, field

import numpy as np

from . import _base, _guard, _progress
from ._base import (FAILED, NOT_ATTEMPTED, PASSED, Answer, _as_array, _describe, _fmt, _fmt_case, _fmt_value,
                    _plain, _resolved, _safe_describe, _scalar, _type_name)
from ._base import _close  # noqa: F401  (was the comparison here; replacing it must be detected, see _guard.seal)
from ._diagnose import SEVERAL, Mistake, check_quantity, diagnose_cases  # noqa: F401  (Mistake: the chapters' API)
from ._guard import _NotAttempted, _Timeout

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
    ``points``: what the exercise is worth when graded (default 1).
    ``quantity``: the kind of quantity the answer is (``"bytes"``, ``"time"``, ``"rate"`` …: one of
    ``_diagnose.QUANTITIES``), so that a diagnosis only names the unit slips that quantity can have
    (``_diagnose.SLIPS``); every chapter exercise declares it (tests/test_diagnose.py).
    """
    kind = "base"

    def __init__(self, id, title, hints, mistakes=(), chapter=None, teaches=(), quantity=None, points=1):
        if not isinstance(id, str) or "." not in id:
            raise ValueError(f"exercise id must look like 'NN.name', got {id!r}")
        if len(hints) < 2:
            raise ValueError(f"exercise {id} needs at least two hints")
        if isinstance(teaches, str) or not all(isinstance(t, str) and t.startswith("labkit.") for t in teaches):
            raise ValueError(f"exercise {id}: teaches must be a tuple of dotted names such as 'labkit.units.fmt_bytes'")
        self.id, self.title, self.hints, self.mistakes = id, title, list(hints), list(mistakes)
        self.chapter = chapter or id.split(".")[0]
        self.teaches, self.quantity = tuple(teaches), check_quantity(quantity, id)
        if isinstance(points, bool) or not isinstance(points, (int, float)) or not 0 < points <= 100:
            raise ValueError(f"exercise {id}: points must be a number in (0, 100], got {points!r}")
        self.points = points

    def grade(self, answer):  # pragma: no cover - abstract
        raise NotImplementedError

    def diagnose_cases(self, cases):
        """What went wrong, from every case ``(args, got, expected)`` the answer gave numbers for (the
        failing one first), or None: this exercise's mistakes (a function exercise's only when they match
        on several inputs), a near miss, then the generic slips its ``quantity`` can have
        (``_diagnose.diagnose_cases``)."""
        several = SEVERAL if self.kind == "function" else 1
        return diagnose_cases(cases, self.mistakes, self.quantity, getattr(self, "rtol", None), several)

    def diagnose(self, got, expected, args=None):
        """One answer's diagnosis (a value exercise's); a function exercise's needs diagnose_cases."""
        return self.diagnose_cases([(args, got, expected)])


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
        number = _scalar(answer, "Your answer")           # strict: runs no code of the answer's own
        expected = _guard.expected_value(self)           # from what the exercise was registered with
        if _guard.same([number], [expected], self.rtol):
            return PASSED, f"Correct: {_fmt(number, self.unit)} (tolerance ±{self.rtol * 100:.2g} %)."
        try:
            why = self.diagnose(np.array([number]), np.array([expected]))
        except Exception:   # a diagnosis is a help, never a reason for the check to fail
            why = None
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
                            f"got {_safe_describe(answer)}.")
        forbid = _guard.forbidden(self)
        name = _guard.direct_violation(answer, forbid)
        if name is not None:
            return FAILED, _guard.own_work_message(name)
        cases = self.inputs()
        expected = self.expected_outputs(cases)   # computed here, in the checking process, never by the answer
        run = _guard.run_function(answer, [tuple(c.values()) for c in cases], self.timeout, 10 * self.timeout,
                                  forbid)
        return self.judge(cases, expected, run)

    def expected_outputs(self, cases):
        """The reference's answer to each case (a dict of keyword arguments), as float arrays."""
        expected = []
        for case in cases:
            value = _as_array(self.reference(*case.values()))
            if value is None:
                raise RuntimeError(f"the reference of {self.id} returned no number")
            expected.append(value)
        return expected

    def judge(self, cases, expected, run):
        """The verdict ``(status, message)`` on a :class:`_guard.Run` of the answer over ``cases`` given the
        reference's ``expected`` outputs; raises ``Answer``, ``_NotAttempted`` or ``_Timeout`` as grade does.
        Plain data in, so a grader can judge outputs that came from another process (labkit.grading)."""
        inputs = [tuple(c.values()) for c in cases]
        if run.stop is not None and run.stop[0] == "forbidden":
            return FAILED, _guard.own_work_message(run.stop[1])
        printed = ""
        if run.printed:
            head = run.head[:300] + ("…" if run.printed > 300 else "")
            printed = f" (Your function printed {run.printed:,} characters, not shown while checking: {head!r}.)"
        numeric, failing = [], None
        for i, outcome in enumerate(run.outcomes):
            case, kind = cases[i], outcome[0]
            if failing is not None:      # past the first wrong number: keep the others for the diagnosis
                if kind == _guard.VALUE and len(outcome[1]) == expected[i].size:
                    numeric.append((i, np.array(outcome[1], dtype=float).reshape(expected[i].shape)))
                continue
            if kind == _guard.ELLIPSIS:
                raise Answer(NOT_ATTEMPTED, "Not attempted yet: your function still returns `...`.")
            if kind == _guard.NOT_IMPLEMENTED:
                raise _NotAttempted()
            if kind == _guard.NONE:
                raise Answer(FAILED, f"Your function returned None for {_fmt_case(case)}: did you forget `return`?"
                             + printed)
            if kind == _guard.ERROR:
                if outcome[1] == "RecursionError":
                    raise Answer(FAILED, "Your function recursed too deeply (RecursionError)." + printed)
                raise Answer(FAILED, f"Your function raised {outcome[1]}: {outcome[2]} — on input "
                                     f"{_fmt_case(case)}." + printed)
            if kind == _guard.NOT_NUMBER:
                raise Answer(FAILED, f"Your function returned {outcome[1]} for {_fmt_case(case)}; expected a number."
                             + printed)
            floats, want = outcome[1], expected[i]
            if len(floats) != want.size:
                raise Answer(FAILED, f"For {_fmt_case(case)} your function returned {len(floats)} value(s); "
                                     f"expected {want.size}." + printed)
            got = np.array(floats, dtype=float).reshape(want.shape)
            if not np.all(np.isfinite(got)) and np.all(np.isfinite(want)):
                raise Answer(FAILED, f"Your function returned {_fmt_value(got)} for {_fmt_case(case)}: "
                                     "a NaN or infinity — a division by zero, or a log of zero?" + printed)
            numeric.append((i, got))
            if not _guard.same(floats, want.reshape(-1).tolist(), self.rtol, self.atol):
                failing = len(numeric) - 1
        if failing is not None:
            i, got = numeric[failing]
            others = [numeric[failing]] + numeric[:failing] + numeric[failing + 1:]
            why = self._constant_answer(numeric, expected) or self._diagnosis(
                [(inputs[k], g, expected[k]) for k, g in others])
            pair = getattr(_base, "_fmt_pair", None)
            shown = pair(got, expected[i], self.unit) if pair else (_fmt_value(got, self.unit),
                                                                    _fmt_value(expected[i], self.unit))
            return FAILED, (f"For {_fmt_case(cases[i])} your function returned {shown[0]}, expected {shown[1]}. "
                            + (why or "Try hint() for a nudge.") + printed)
        if run.stop is not None:
            kind = run.stop[0]
            if kind == "timeout":
                where = _fmt_case(cases[run.stop[1]]) if run.stop[1] < len(cases) else "the last input"
                raise _Timeout(f"Your function ran longer than {self.timeout:g} s on one input "
                               f"({where}): an endless loop, or a loop over something huge?" + printed)
            if kind == "too_slow":
                raise Answer(FAILED, "Your function is too slow: the checks ran out of time." + printed)
            if kind == "died":
                where = f" on input {_fmt_case(cases[len(run.outcomes)])}" if len(run.outcomes) < len(cases) else ""
                raise Answer(FAILED, f"Your function could not be checked{where}: {run.stop[1]}." + printed)
            raise Answer(FAILED, "The check was interrupted before your function finished: run the cell again.")
        if len(run.outcomes) != len(inputs):
            raise Answer(FAILED, "Your function could not be checked: it did not give a result for every input.")
        return PASSED, f"Correct on all {len(inputs)} test inputs (edge cases included)."

    def _diagnosis(self, cases):
        """The diagnosis of every case (args, got, expected), the failing one first; None when silent."""
        try:
            diagnose_all = getattr(self, "diagnose_cases", None)
            if diagnose_all is not None:
                return diagnose_all(cases)
            args, got, expected = cases[0]
            return self.diagnose(got, expected, args)
        except Exception:   # a diagnosis is a help, never a reason for the check to fail
            return None

    def _constant_answer(self, numeric, expected):
        """A diagnosis when the function ignores its inputs (a hard-coded number): at least three inputs
        gave the same numbers while the right answers differ."""
        if len(numeric) < 3:
            return None
        first = numeric[0][1].reshape(-1).tolist()
        if any(g.reshape(-1).tolist() != first for _, g in numeric[1:]):
            return None
        refs = [expected[i].reshape(-1).tolist() for i, _ in numeric]
        if all(r == refs[0] for r in refs):
            return None
        return ("Your function returns the same value whatever its inputs: it must compute the "
                "answer from its arguments (a hard-coded number cannot pass).")


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
        if type(answer) is not str:   # a str subclass could rig its own comparisons
            return FAILED, f"Answer with one of {self._options()} (a plain string); got {_safe_describe(answer)}."
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
        plain = _guard.plain_answer(answer)   # plain Python values: grade_fn never runs the answer's code
        if plain is _guard.NOT_PLAIN:
            return FAILED, f"Answer with a number (or a tuple of numbers); got {_safe_describe(answer)}."
        ok, message = self.grade_fn(plain)
        return (PASSED if bool(ok) else FAILED), message


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
    """Check an answer; shows ✅/❌ with a message and returns a CheckResult (truthy iff passed).

    Nothing the answer does gets out of here: a function answer runs in a child process under time limits
    (``_guard``), a value is converted strictly (no code of the answer's own runs), only this process's
    comparison decides, and once the checking code was modified in this kernel every check says so.
    """
    show = _guard.flag(show)
    if type(exercise_id) is not str:
        result = CheckResult("?", FAILED, f"Exercise ids are strings like '01.ridge_point'; got "
                                          f"{_safe_describe(exercise_id)}.")
        return _shown(result) if show else result
    try:
        exercise = get(exercise_id)
    except KeyError as e:
        result = CheckResult(exercise_id, FAILED, e.args[0])
        return _shown(result) if show else result
    try:
        status, message = _guard.tampered(_REGISTRY), None
        if status is not None:
            status, message = FAILED, status
        else:
            try:
                status, message = exercise.grade(answer)
            except Answer as verdict:   # raised by the checking code only: answers never run here
                status, message = verdict.status, verdict.message
                if status == PASSED:
                    status = FAILED
            problem = _guard.tampered(_REGISTRY)
            if problem is not None:
                status, message = FAILED, problem
    except _NotAttempted:
        status, message = NOT_ATTEMPTED, "Not attempted yet: your function still raises NotImplementedError."
    except _Timeout as e:
        status, message = FAILED, str(e)
    except KeyboardInterrupt:
        status, message = FAILED, "The check was interrupted: run the cell again."
    except BaseException as e:  # a bug in a reference must not crash the notebook either
        try:
            detail = f"{_type_name(e)}: {str(e)[:200]}"
        except BaseException:
            detail = _type_name(e)
        status, message = FAILED, f"Checking failed unexpectedly ({detail})."
    if status not in (PASSED, FAILED, NOT_ATTEMPTED) or type(message) is not str:
        status, message = FAILED, "Checking failed unexpectedly (no verdict)."
    result = CheckResult(exercise.id, status, message.strip())
    try:
        _progress.record(exercise.id, status)
    except Exception:   # progress is a convenience; the verdict is still shown
        pass
    return _shown(result) if show else result


_guard.seal(_base, importlib.import_module(__name__), _guard)   # what every later check() verifies was not replaced


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
