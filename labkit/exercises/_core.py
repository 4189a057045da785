"""The exercise system: register exercises, check answers, give hints, keep progress.

An exercise id is ``"NN.name"``, NN being the chapter (``"01.ridge_point"``). Chapters define
their exercises in ``labkit/exercises/chNN_*.py`` modules, which are found and imported on first use.

``check()`` never raises into the notebook: whatever the answer (None, a string, a function that
raises, loops or returns NaN), it returns a :class:`CheckResult` and shows ✅ or ❌ with a message.
"""


import hashlib
import html
import importlib
import inspect
import itertools
import json
import os
import pkgutil
import zlib
from pathlib import Path
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


def _takes(fn, numbers):
    """Whether ``fn`` accepts every one of ``numbers``' names as a keyword argument."""
    try:
        inspect.signature(fn).bind(**numbers)
    except (TypeError, ValueError):
        return False
    return True


class ValueExercise(Exercise):
    """The answer is a number, compared with ``expected`` within ``rtol`` (relative).

    **Per-student variants.** ``variants`` declares the numbers of the question each student may get
    (``{"k": (4, 6, 8, 10), "link_gb": (25, 50, 100)}``: each a sequence of choices); ``expected`` is then
    a function of those numbers as keyword arguments whose defaults are the question's own numbers, the
    *default variant* every notebook's text states (``lambda k=8, link_gb=50: ...``). A student's
    numbers are drawn from the student id, the exercise id and the course salt (:func:`numbers`);
    without a student id the default variant is used. ``numbers_text`` says the numbers to people
    (``"an {k}×{k}×{k} torus, {link_gb:g} GB/s links"``); the hints and the mistakes' messages may use the
    same ``{name}`` fields, and a mistake's ``value`` is then a function of the numbers too.
    ``no_variants``: why an exercise keeps one answer for everyone (a published figure, a simulation).
    """
    kind = "value"

    def __init__(self, id, title, expected, hints, mistakes=(), rtol=0.01, unit="", variants=None,
                 numbers_text=None, no_variants=None, **kw):
        super().__init__(id, title, hints, mistakes, **kw)
        self._expected, self.rtol, self.unit = expected, rtol, unit
        self.variants, self.no_variants, self.numbers_text = None, no_variants, None
        if variants is not None:
            self._declare_variants(expected, variants, numbers_text)

    @property
    def expected(self):
        """The expected value (of the default variant); given as a function, computed on first use and kept."""
        return float(_resolved(self, "_expected"))

    # --- variants ----------------------------------------------------------------------------------
    def _declare_variants(self, expected, variants, numbers_text):
        where = f"exercise {self.id}"
        if not isinstance(variants, dict) or not variants:
            raise ValueError(f"{where}: variants must be a dict {{name: (choice, ...)}}")
        if not callable(expected):
            raise ValueError(f"{where}: with variants, expected must be a function of the numbers")
        signature = inspect.signature(expected)
        default = {}
        for name, choices in variants.items():
            if not isinstance(choices, (tuple, list, range)) or len(set(choices)) < 2:
                raise ValueError(f"{where}: variants[{name!r}] must be a tuple of at least two different choices")
            param = signature.parameters.get(name)
            if param is None or param.default is inspect.Parameter.empty:
                raise ValueError(f"{where}: expected must take {name}= with the question's own number as default")
            if param.default not in choices:
                raise ValueError(f"{where}: the default {name}={param.default!r} must be one of its choices")
            default[name] = param.default
        size = 1
        for choices in variants.values():
            size *= len(choices)
        if size > 5000:
            raise ValueError(f"{where}: {size} combinations of numbers; keep it under 5,000")
        self.variants = {name: tuple(choices) for name, choices in variants.items()}
        self.default_numbers = default
        self.reference = expected          # sealed like a function exercise's reference (_guard)
        self.numbers_text = numbers_text or ", ".join(f"{k}={{{k}}}" for k in default)
        self._variant_mistakes = [(m.message, m.value, m.factor, m.rtol) for m in self.mistakes]
        for message, value, factor, _ in self._variant_mistakes:
            if factor is None and not (callable(value) and _takes(value, default)):
                raise ValueError(f"{where}: with variants, a mistake needs factor= or a value= function of "
                                 f"the numbers ({message[:40]!r})")
        self.mistakes = self.mistakes_for(default)      # what the default variant says, for the tests
        for text in (self.numbers_text, *self.hints):
            text.format_map(default)                    # a bad {field} fails here, at import
        self._table_cache = None

    def mistakes_for(self, numbers):
        """This exercise's mistakes for one variant's ``numbers`` (messages and values filled in)."""
        if not self.variants:
            return self.mistakes
        return [Mistake(message.format_map(numbers), factor=factor, rtol=rtol,
                        value=None if factor is not None else (lambda f=value, n=dict(numbers): f(**n)))
                for message, value, factor, rtol in self._variant_mistakes]

    def expected_for(self, numbers):
        """The expected answer for one variant's ``numbers`` (a dict: name -> number)."""
        if not self.variants or numbers == self.default_numbers:
            return _guard.expected_value(self)
        return float(self.reference(**numbers))

    def hint_text(self, n, numbers=None):
        """Hint ``n`` (from 0), filled with ``numbers`` (default: the current learner's)."""
        if not self.variants:
            return self.hints[n]
        return self.hints[n].format_map(self.numbers_now() if numbers is None else numbers)

    def describe_numbers(self, numbers):
        """``numbers`` in words (``numbers_text`` filled in)."""
        return self.numbers_text.format_map(numbers) if self.variants else ""

    def _table(self):
        """[(numbers, expected)] for every combination of the declared choices, computed once."""
        if self._table_cache is None:
            names = list(self.variants)
            table = []
            for combo in itertools.product(*(self.variants[n] for n in names)):
                numbers = dict(zip(names, combo))
                table.append((numbers, self.expected_for(numbers)))
            self._table_cache = table
        return self._table_cache

    def numbers_for(self, student=None, salt=""):
        """The numbers of ``student`` (an id; None or "" for the default variant) in a course whose salt is
        ``salt``: one of the declared combinations, never the default one nor one with the default's
        answer, picked by a hash of (salt, student, exercise id). Deterministic; {} without variants."""
        if not self.variants:
            return {}
        student = _student_key(student)
        if not student:
            return dict(self.default_numbers)
        base = self.expected_for(self.default_numbers)
        pool = [numbers for numbers, value in self._table()
                if numbers != self.default_numbers and not _guard.same([value], [base], self.rtol)]
        digest = hashlib.sha256("\x1f".join(["labkit-variant", str(salt or ""), student, self.id]).encode()).digest()
        return dict(pool[int.from_bytes(digest[:8], "big") % len(pool)])

    def numbers_now(self):
        """The current learner's numbers: those the grader passed in (``LABKIT_NUMBERS``), else those of
        the student :func:`current_student` finds, else the default variant."""
        if not self.variants:
            return {}
        given = _numbers_given().get(self.id)
        if isinstance(given, dict) and set(given) == set(self.variants) and all(
                given[k] in self.variants[k] for k in given):
            return dict(given)
        student, salt = current_student()
        return self.numbers_for(student, salt)

    def _other_variant(self, number, numbers):
        """The numbers of another variant whose answer ``number`` is (the default first), or None."""
        default = self.default_numbers
        ordered = sorted(self._table(), key=lambda row: row[0] != default)
        for other, value in ordered:
            if other != numbers and _guard.same([number], [value], self.rtol):
                return other
        return None

    # --- grading -----------------------------------------------------------------------------------
    def grade(self, answer, numbers=None):
        """``(status, message)``; ``numbers``: the variant to check against (default: the current
        learner's, :meth:`numbers_now`; ignored without variants)."""
        if answer is None or answer is Ellipsis:
            return NOT_ATTEMPTED, "Not attempted yet: replace the `...` with your answer and run the cell again."
        number = _scalar(answer, "Your answer")           # strict: runs no code of the answer's own
        if self.variants:
            return self._grade_variant(number, self.numbers_now() if numbers is None else dict(numbers))
        expected = _guard.expected_value(self)           # from what the exercise was registered with
        if _guard.same([number], [expected], self.rtol):
            return PASSED, f"Correct: {_fmt(number, self.unit)} (tolerance ±{self.rtol * 100:.2g} %)."
        try:
            why = self.diagnose(np.array([number]), np.array([expected]))
        except Exception:   # a diagnosis is a help, never a reason for the check to fail
            why = None
        direction = "too large" if number > expected else "too small"
        return FAILED, f"Not quite: {_fmt(number, self.unit)} is {direction}. " + (why or "Try hint() for a nudge.")

    def _grade_variant(self, number, numbers):
        if set(numbers) != set(self.variants):
            raise ValueError(f"numbers must give {', '.join(self.variants)}")
        default = numbers == self.default_numbers
        whose = "the default numbers" if default else "your numbers"
        used = f"{whose} ({self.describe_numbers(numbers)})"
        expected = self.expected_for(numbers)
        if _guard.same([number], [expected], self.rtol):
            return PASSED, f"Correct for {used}: {_fmt(number, self.unit)} (tolerance ±{self.rtol * 100:.2g} %)."
        direction = "too large" if number > expected else "too small"
        head = f"Not quite for {used}: {_fmt(number, self.unit)} is {direction}. "
        got, want = np.array([number]), np.array([expected])
        try:   # this exercise's own mistakes first, then another variant's answer, then generic slips
            why = next((m.message for m in self.mistakes_for(numbers) if m.matches(got, want)), None)
        except Exception:   # a diagnosis is a help, never a reason for the check to fail
            why = None
        other = None if why is not None or default else self._other_variant(number, numbers)
        if other is not None:
            which = ("the default numbers, those a notebook shows where no student id is set"
                     if other == self.default_numbers else "other numbers")
            return FAILED, (head + f"It is the answer for {which} ({self.describe_numbers(other)}): "
                                   "work it out with your own numbers, which numbers() shows.")
        if why is None:
            try:
                why = diagnose_cases([(None, got, want)], (), self.quantity, self.rtol, 1)
            except Exception:
                why = None
        return FAILED, head + (why or "Try hint() for a nudge.")


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
# Whose numbers: the student id and the course salt
# ---------------------------------------------------------------------------------------------
#: Where the student id comes from on a hub (JupyterHub sets it in every user's server).
STUDENT_ENV = "JUPYTERHUB_USER"
#: The course salt: an instructor's secret mixed into every variant (see the README, "For instructors").
SALT_ENV = "LABKIT_COURSE_SALT"
#: The numbers a grader passes into a submission's kernel ({exercise id: {name: number}}), as JSON.
NUMBERS_ENV = "LABKIT_NUMBERS"
#: "off" on a hub whose class is graded without variants (otter, or any grader that cannot know the student).
VARIANTS_ENV = "LABKIT_VARIANTS"
_CHOSEN = {"student": None, "salt": None}


def _student_key(student):
    """A student id as variants use it: stripped and case-folded ('' for none); a grader's duplicate
    suffix ('alice#2') is not part of it."""
    if student is None:
        return ""
    if not isinstance(student, str):
        raise TypeError(f"student must be a student id (a string), got {_type_name(student)}")
    return student.split("#", 1)[0].strip().casefold()


def set_student(student, salt=None):
    """Use ``student``'s numbers in this kernel (``None``: back to finding the id, see
    :func:`current_student`); ``salt``: the course salt, when the instructor gave one and the hub does not
    set ``LABKIT_COURSE_SALT``. Only changes which numbers are shown and checked here: a grader derives
    each student's numbers itself."""
    if student is not None:
        _student_key(student)
    if salt is not None and not isinstance(salt, str):
        raise TypeError(f"salt must be a string, got {_type_name(salt)}")
    _CHOSEN["student"], _CHOSEN["salt"] = student, salt


def _nbgrader_student():
    """The student nbgrader autogrades (it runs each notebook in ``autograded/<student>/<assignment>/`` and
    sets ``NBGRADER_EXECUTION=autograde``), or None."""
    try:
        here = Path.cwd()
    except OSError:
        return None
    return here.parent.name if here.parent.parent.name == "autograded" else None


def current_student():
    """``(student id or None, salt)`` for this kernel: the student nbgrader is autograding (None when its
    folders do not say), else the one :func:`set_student` chose, else ``$JUPYTERHUB_USER``; the salt from set_student or
    ``$LABKIT_COURSE_SALT`` ('' when none). No student (the default numbers) when ``$LABKIT_VARIANTS`` is
    ``off``."""
    salt = _CHOSEN["salt"] if _CHOSEN["salt"] is not None else os.environ.get(SALT_ENV, "")
    if os.environ.get(VARIANTS_ENV, "").strip().lower() in ("0", "off", "no", "false"):
        return None, salt
    if os.environ.get("NBGRADER_EXECUTION") == "autograde":   # never the grader's own hub user name
        return _nbgrader_student(), salt
    student = _CHOSEN["student"] or os.environ.get(STUDENT_ENV) or None
    return student, salt


def _numbers_given():
    try:
        given = json.loads(os.environ.get(NUMBERS_ENV) or "{}")
    except ValueError:
        return {}
    return given if isinstance(given, dict) else {}


class Numbers(dict):
    """One exercise's numbers for one learner (a dict name -> number) that shows itself in words."""

    def __init__(self, exercise_id, numbers, text, student):
        super().__init__(numbers)
        self.exercise_id, self.text, self.student = exercise_id, text, student

    def __repr__(self):
        if not self.text:
            return f"{self.exercise_id}: the same numbers for everyone, as the question states them."
        if self.student:
            return f"{self.exercise_id}: your numbers are {self.text} (student {self.student})."
        return f"{self.exercise_id}: the default numbers, {self.text} (no student id set)."

    _repr_pretty_ = lambda self, p, cycle: p.text(repr(self))   # noqa: E731  (IPython's display)


def numbers(exercise_id, student=None, salt=None):
    """The numbers of exercise ``exercise_id``'s question for a learner, shown in words: the current
    learner's (see :func:`current_student`), or ``student``'s in a course with ``salt`` (an instructor's
    view). Without a student id they are the default numbers the notebook states. Display only: nothing in
    a notebook depends on them beyond showing them."""
    exercise = get(exercise_id)
    if not getattr(exercise, "variants", None):
        return Numbers(exercise.id, {}, "", None)
    if student is None:
        chosen = exercise.numbers_now()
        student = current_student()[0]
    else:
        chosen = exercise.numbers_for(student, current_student()[1] if salt is None else salt)
    if chosen == exercise.default_numbers:
        student = None
    return Numbers(exercise.id, chosen, exercise.describe_numbers(chosen), student)


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
    shown = exercise.hint_text(n) if isinstance(exercise, ValueExercise) else exercise.hints[n]
    text = f"💡 Hint {n + 1} of {len(exercise.hints)} for {exercise.id}{last}: {shown}"
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
