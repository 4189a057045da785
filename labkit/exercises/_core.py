"""The exercise system: register exercises, check answers, give hints, keep progress.

An exercise id is ``"NN.name"``, NN being the chapter (``"01.ridge_point"``). Chapters define
their exercises in ``labkit/exercises/chNN_*.py`` modules, which are found and imported on first use.

``check()`` never raises into the notebook: whatever the answer (None, a string, a function that
raises, loops or returns NaN), it returns a :class:`CheckResult` and shows ✅ or ❌ with a message.
"""

import html
import importlib
import math
import numbers
import pkgutil
import signal
import threading
import time
import zlib
from dataclasses import dataclass, field

import numpy as np

PASSED, FAILED, NOT_ATTEMPTED = "passed", "failed", "not attempted"

_REGISTRY = {}        # id -> Exercise
_STATUS = {}          # id -> last status in this kernel
_HINTS_SHOWN = {}     # id -> number of hints shown so far
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


class Answer(Exception):
    """Raised inside grading to stop with a verdict."""

    def __init__(self, status, message):
        super().__init__(message)
        self.status, self.message = status, message


# ---------------------------------------------------------------------------------------------
# Mistakes and diagnosis
# ---------------------------------------------------------------------------------------------
@dataclass
class Mistake:
    """A common mistake and what to say about it.

    Give exactly one of:
      factor: the wrong answer is the right one times this factor (2, 8, 1/1000, -1, ...);
      fn:     a wrong formula with the reference's signature (function exercises);
      value:  a specific wrong value (value exercises), or a function computing it on first use.
    """
    message: str
    factor: float = None
    fn: object = None
    value: float = None
    rtol: float = 0.02

    @property
    def wrong_value(self):
        """The specific wrong value; given as a function, computed on first use and kept."""
        return _resolved(self, "value")

    def matches(self, got, expected, args=None):
        try:
            if self.fn is not None:
                if args is None:
                    return False
                wrong = _as_array(self.fn(*args))
                return wrong is not None and _close(got, wrong, self.rtol)
            if self.value is not None:
                return _close(got, _as_array(self.wrong_value), self.rtol)
            if self.factor is not None:
                return _close(got, expected * self.factor, self.rtol) and not _close(got, expected, self.rtol)
        except Exception:
            return False
        return False


# Generic diagnoses, tried after an exercise's own mistakes. (factor, message)
GENERIC_FACTORS = [
    (-1, "The sign is wrong."),
    (2, "Off by a factor of 2 (too large): did you count something twice — both directions, or forward and backward?"),
    (0.5, "Off by a factor of 2 (too small): is a factor of 2 missing — forward and backward, multiply and add, both directions?"),
    (8, "Off by a factor of 8 (too large): bits versus bytes? A byte is 8 bits."),
    (1 / 8, "Off by a factor of 8 (too small): bits versus bytes? A byte is 8 bits."),
    (2**30 / 1e9, "Off by 7.4 %: GB (10⁹ bytes) versus GiB (2³⁰ bytes)?"),
    (1e9 / 2**30, "Off by 7.4 %: GiB (2³⁰ bytes) versus GB (10⁹ bytes)?"),
    (1.024, "Off by 2.4 %: KB (1000) versus KiB (1024)?"),
    (1 / 1.024, "Off by 2.4 %: KiB (1024) versus KB (1000)?"),
]


def _power_of_ten(ratio):
    if not np.isfinite(ratio) or ratio <= 0:
        return None
    k = math.log10(ratio)
    if abs(k - round(k)) < 0.01 and round(k) != 0:
        return int(round(k))
    return None


def diagnose_ratio(ratio):
    """A generic diagnosis of ``answer / expected``; None when nothing common fits."""
    for factor, message in GENERIC_FACTORS:
        if np.isfinite(ratio) and abs(ratio / factor - 1) < 0.01:
            return message
    k = _power_of_ten(ratio)
    if k is not None:
        direction = "large" if k > 0 else "small"
        return (f"Off by a factor of 10^{k} (too {direction}): check your units and prefixes "
                f"(kilo 10³, mega 10⁶, giga 10⁹, tera 10¹²; milliseconds vs seconds).")
    if np.isfinite(ratio) and ratio < 0:
        return "The sign is wrong, and the size is off too."
    return None


def diagnose_exponent(got, expected):
    """Wrong exponent: got ≈ expected**p for some simple p (square, root, inverse)."""
    with np.errstate(all="ignore"):
        if np.all(expected > 0) and np.all(got > 0) and np.all(np.abs(np.log(expected)) > 1e-3):
            p = np.log(got) / np.log(expected)
            if np.all(np.isfinite(p)) and np.ptp(p) < 0.01:
                p0 = float(np.mean(p))
                for q, name in ((-1, "the inverse"), (2, "the square"), (0.5, "the square root"),
                                (3, "the cube"), (1 / 3, "the cube root")):
                    if abs(p0 - q) < 0.01:
                        return f"Wrong exponent: your answer looks like {name} of the right one."
    return None


# ---------------------------------------------------------------------------------------------
# Exercises
# ---------------------------------------------------------------------------------------------
class Exercise:
    """Base class. Subclasses implement ``grade(answer) -> (status, message)``."""
    kind = "base"

    def __init__(self, id, title, hints, mistakes=(), chapter=None):
        if not isinstance(id, str) or "." not in id:
            raise ValueError(f"exercise id must look like 'NN.name', got {id!r}")
        if len(hints) < 2:
            raise ValueError(f"exercise {id} needs at least two hints")
        self.id, self.title, self.hints, self.mistakes = id, title, list(hints), list(mistakes)
        self.chapter = chapter or id.split(".")[0]

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


def _resolved(exercise, attribute):
    """An exercise's expected answer: a value, or a zero-argument function computed once, on first use
    (the one way to defer an expensive expected answer, so that importing a chapter stays fast)."""
    value = getattr(exercise, attribute)
    if callable(value):
        value = value()
        setattr(exercise, attribute, value)
    return value


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
    _STATUS[exercise.id] = status
    return _shown(result) if show else result


def hint(exercise_id):
    """Show the next hint for an exercise (at least two per exercise, each more specific)."""
    try:
        exercise = get(exercise_id)
    except KeyError as e:
        _print(e.args[0])
        return None
    n = min(_HINTS_SHOWN.get(exercise.id, 0), len(exercise.hints) - 1)
    _HINTS_SHOWN[exercise.id] = n + 1
    last = " (that is the last hint)" if n == len(exercise.hints) - 1 else ""
    text = f"💡 Hint {n + 1} of {len(exercise.hints)} for {exercise.id}{last}: {exercise.hints[n]}"
    _print(text)
    return None


@dataclass
class Progress:
    """Per-chapter status of every exercise in this kernel: ``{chapter: {id: status}}``."""
    chapters: dict

    def counts(self, chapter=None):
        statuses = [s for ch, d in self.chapters.items() if chapter is None or ch == _chapter_key(chapter)
                    for s in d.values()]
        return {k: statuses.count(k) for k in (PASSED, FAILED, NOT_ATTEMPTED)}

    def __str__(self):
        lines = []
        for ch, items in self.chapters.items():
            c = {k: list(items.values()).count(k) for k in (PASSED, FAILED, NOT_ATTEMPTED)}
            lines.append(f"Chapter {ch}: {c[PASSED]}/{len(items)} passed")
            for i, s in items.items():
                lines.append(f"  {_SYMBOL[s]} {i:<32} {_REGISTRY[i].title}")
        return "\n".join(lines)

    def _repr_html_(self):
        rows = []
        for ch, items in self.chapters.items():
            done = list(items.values()).count(PASSED)
            rows.append(f'<tr><th colspan="3" style="text-align:left">Chapter {ch} — {done}/{len(items)} passed</th></tr>')
            for i, s in items.items():
                rows.append(f"<tr><td>{_SYMBOL[s]}</td><td><code>{html.escape(i)}</code></td>"
                            f"<td style='text-align:left'>{html.escape(_REGISTRY[i].title)}</td></tr>")
        return '<table class="labkit-progress">' + "".join(rows) + "</table>"

    def __repr__(self):
        return str(self)


_SYMBOL = {PASSED: "✅", FAILED: "❌", NOT_ATTEMPTED: "⬜"}


def progress(chapter=None):
    """Which exercises passed, failed or were not attempted in this kernel, per chapter."""
    key = _chapter_key(chapter)
    chapters = {}
    for i in ids():
        ex = _REGISTRY[i]
        if key is None or ex.chapter == key:
            chapters.setdefault(ex.chapter, {})[i] = _STATUS.get(i, NOT_ATTEMPTED)
    return Progress(chapters)


def reset():
    """Forget all check results and hints shown in this kernel."""
    _STATUS.clear()
    _HINTS_SHOWN.clear()


# ---------------------------------------------------------------------------------------------
# Running the learner's code safely
# ---------------------------------------------------------------------------------------------
class _Timeout(Exception):
    pass


class _NotAttempted(Exception):
    pass


def _call(fn, args, timeout):
    """Call fn(*args) with a time limit; learner's errors become verdicts, never exceptions."""
    try:
        return _with_time_limit(fn, args, timeout)
    except NotImplementedError:
        raise _NotAttempted() from None
    except _Timeout:
        raise _Timeout(f"Your function ran longer than {timeout:g} s on one input "
                       f"({_fmt_args(args)}): an endless loop, or a loop over something huge?") from None
    except RecursionError:
        raise Answer(FAILED, "Your function recursed too deeply (RecursionError).") from None
    except Exception as e:
        raise Answer(FAILED, f"Your function raised {type(e).__name__}: {e} — on input {_fmt_args(args)}.") from None
    except BaseException as e:  # KeyboardInterrupt, SystemExit
        raise Answer(FAILED, f"Your function was interrupted ({type(e).__name__}).") from None


def _with_time_limit(fn, args, timeout):
    use_alarm = hasattr(signal, "setitimer") and threading.current_thread() is threading.main_thread()
    if use_alarm:
        def on_alarm(signum, frame):
            raise _Timeout()
        previous = signal.signal(signal.SIGALRM, on_alarm)
        signal.setitimer(signal.ITIMER_REAL, timeout)
        try:
            return fn(*args)
        finally:
            signal.setitimer(signal.ITIMER_REAL, 0)
            signal.signal(signal.SIGALRM, previous)
    box = {}

    def target():
        try:
            box["value"] = fn(*args)
        except BaseException as e:  # re-raised in the caller's thread
            box["error"] = e
    worker = threading.Thread(target=target, daemon=True)
    worker.start()
    worker.join(timeout)
    if worker.is_alive():
        raise _Timeout()
    if "error" in box:
        raise box["error"]
    return box.get("value")


# ---------------------------------------------------------------------------------------------
# Small helpers
# ---------------------------------------------------------------------------------------------
def _plain(case):
    """numpy scalars -> Python numbers, so learners' code sees ordinary floats and ints."""
    out = {}
    for k, v in case.items():
        if isinstance(v, np.generic):
            v = v.item()
        out[k] = v
    return out


def _as_array(value):
    """A numeric answer as a float array, or None when it is not numeric."""
    if isinstance(value, (str, bytes)) or value is None:
        return None
    if isinstance(value, bool):
        return None
    try:
        arr = np.asarray(value, dtype=float)
    except (TypeError, ValueError):
        return None
    return arr


def _scalar(answer, what):
    if isinstance(answer, bool) or not isinstance(answer, (numbers.Real, np.generic, np.ndarray)):
        raise Answer(FAILED, f"{what} should be a number; got {_describe(answer)}.")
    arr = np.asarray(answer, dtype=float)
    if arr.size != 1:
        raise Answer(FAILED, f"{what} should be one number; got {arr.size} values.")
    value = float(arr.reshape(-1)[0])
    if not math.isfinite(value):
        raise Answer(FAILED, f"{what} is {value}: a division by zero somewhere?")
    return value


def _close(got, expected, rtol, atol=0.0):
    if got is None or expected is None:
        return False
    got, expected = np.asarray(got, dtype=float), np.asarray(expected, dtype=float)
    if got.shape != expected.shape:
        if got.size != expected.size:
            return False
        got, expected = got.reshape(-1), expected.reshape(-1)
    with np.errstate(all="ignore"):
        return bool(np.all(np.isclose(got, expected, rtol=rtol, atol=atol, equal_nan=True)))


def _describe(value):
    text = repr(value)
    if len(text) > 60:
        text = text[:57] + "..."
    return f"{type(value).__name__} {text}" if not callable(value) else f"the function {getattr(value, '__name__', text)}"


def _fmt(x, unit=""):
    return f"{x:.4g}{(' ' + unit) if unit else ''}"


def _fmt_value(arr, unit=""):
    arr = np.asarray(arr, dtype=float)
    if arr.size == 1:
        return _fmt(float(arr.reshape(-1)[0]), unit)
    return "[" + ", ".join(f"{v:.4g}" for v in arr.reshape(-1)[:6]) + (", ...]" if arr.size > 6 else "]")


def _fmt_case(case):
    return ", ".join(f"{k}={_fmt_arg(v)}" for k, v in case.items())


def _fmt_args(args):
    return ", ".join(_fmt_arg(v) for v in args)


def _fmt_arg(v):
    if isinstance(v, float):
        return f"{v:.4g}"
    text = repr(v)
    return text if len(text) < 40 else text[:37] + "..."


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
