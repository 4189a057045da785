"""Shared pieces of the exercise system: verdicts, and turning answers into numbers and text."""

import math

import numpy as np

PASSED, FAILED, NOT_ATTEMPTED = "passed", "failed", "not attempted"


class Answer(Exception):
    """Raised inside grading to stop with a verdict."""

    def __init__(self, status, message):
        super().__init__(message)
        self.status, self.message = status, message


# ---------------------------------------------------------------------------------------------
# Answers as numbers, and numbers as text
# ---------------------------------------------------------------------------------------------
def _plain(case):
    """numpy scalars -> Python numbers, so learners' code sees ordinary floats and ints."""
    out = {}
    for k, v in case.items():
        if isinstance(v, np.generic):
            v = v.item()
        out[k] = v
    return out


# Strict conversion: only exact built-in and numpy numeric types are numbers, so that converting an answer
# never runs code of the answer's own (a __float__, __eq__, __array__ or __index__ of a learner's class).
_NUMPY_NUMBERS = frozenset(np.dtype(c).type for c in "bBhHiIlLqQefdg")   # bool_ and complex excluded
_MAX_VALUES = 1_000_000


def _strict_floats(value, _depth=0):
    """A flat list of Python floats when ``value`` is a number, a numeric array or a (nested) list/tuple of
    numbers, built from exact types only; None otherwise (bool, str, objects, complex, object arrays...)."""
    t = type(value)
    if t is float:
        return [value]
    if t is int:
        try:
            return [float(value)]
        except OverflowError:
            return [math.inf if value > 0 else -math.inf]
    if t in _NUMPY_NUMBERS:
        return [float(value)]
    if t is np.ndarray:
        if value.dtype.kind not in "iuf" or value.size > _MAX_VALUES:
            return None
        return value.astype(float).reshape(-1).tolist()
    if (t is list or t is tuple) and _depth < 3 and len(value) <= _MAX_VALUES:
        out = []
        for item in value:
            part = _strict_floats(item, _depth + 1)
            if part is None or len(out) + len(part) > _MAX_VALUES:
                return None
            out.extend(part)
        return out
    return None


def _type_name(value):
    """The name of value's type, read without running code of the value's class or metaclass."""
    name = type.__dict__["__name__"].__get__(type(value), type)
    return name if len(name) <= 40 else name[:37] + "..."


def _safe_describe(value):
    """A short description of any answer that runs no code of the answer's own (no repr, str or len of a
    learner's class), for messages."""
    t, name = type(value), _type_name(value)
    if value is None or t in (bool, int, float, complex, str, bytes):
        try:
            text = repr(value)
        except ValueError:   # an int too long to print
            text = "(a very long number)"
        return f"{name} {text if len(text) <= 60 else text[:57] + '...'}"
    if t is np.ndarray:
        kind = {"U": "text", "S": "bytes", "O": "Python objects", "c": "complex numbers", "b": "booleans",
                "V": "records"}.get(value.dtype.kind, value.dtype.name)
        return f"an array of {kind} with shape {value.shape}"
    if t in _NUMPY_NUMBERS or t is np.bool_:
        return f"{name} {float(value)!r}"
    if t in (list, tuple, dict, set, frozenset):
        return f"a {name} of {len(value)} item(s)"
    if t is type(_safe_describe):
        return f"the function {value.__name__}"
    for base in (str, bytes, int, float, list, tuple, dict):
        if issubclass(t, base):
            return f"a {base.__name__} subclass {name}"
    return f"an object of type {name}"


def _as_array(value):
    """A numeric answer as a float array, or None when it is not numeric (strictly: see _strict_floats).
    A number gives a 0-d array, an array keeps its shape."""
    floats = _strict_floats(value)
    if floats is None:
        return None
    if type(value) is np.ndarray:
        return np.array(floats, dtype=float).reshape(value.shape)
    return np.array(floats[0] if len(floats) == 1 and type(value) not in (list, tuple) else floats, dtype=float)


def _scalar(answer, what):
    """An answer that must be one finite number, as a float (strictly converted: never calls the answer's
    own methods); an Answer(FAILED) that says what is wrong otherwise."""
    floats = _strict_floats(answer)
    if floats is None or type(answer) in (list, tuple):
        raise Answer(FAILED, f"{what} should be a number; got {_safe_describe(answer)}.")
    if len(floats) != 1:
        raise Answer(FAILED, f"{what} should be one number; got {len(floats)} values.")
    value = floats[0]
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


def _fmt(x, unit="", digits=4):
    """A number to ``digits`` significant digits (4: '1.746e+11'); with more than 4, trailing zeros are
    kept ('1.7460e+11') so that two numbers shown side by side line up digit for digit."""
    text = f"{x:.{digits}g}" if digits <= 4 else f"{x:#.{digits}g}"
    return f"{text}{(' ' + unit) if unit else ''}"


def _fmt_value(arr, unit="", digits=4):
    arr = np.asarray(arr, dtype=float)
    if arr.size == 1:
        return _fmt(float(arr.reshape(-1)[0]), unit, digits)
    return ("[" + ", ".join(_fmt(float(v), "", digits) for v in arr.reshape(-1)[:6])
            + (", ...]" if arr.size > 6 else "]") + ((' ' + unit) if unit else ""))


def _fmt_pair(got, expected, unit=""):
    """``got`` and ``expected`` as text, with the fewest significant digits (at least 4) that make the two
    differ visibly: 'returned 1.7463e+11, expected 1.7460e+11', never '1.746e+11, expected 1.746e+11'."""
    got, expected = np.asarray(got, dtype=float), np.asarray(expected, dtype=float)
    for digits in range(4, 18):
        a, b = _fmt_value(got, unit, digits), _fmt_value(expected, unit, digits)
        if a != b or got.shape != expected.shape:
            return a, b
    return a, b


def _fmt_case(case):
    return ", ".join(f"{k}={_fmt_arg(v)}" for k, v in case.items())


def _fmt_args(args):
    return ", ".join(_fmt_arg(v) for v in args)


def _fmt_arg(v):
    if isinstance(v, float):
        return f"{v:.6g}"
    text = repr(v)
    return text if len(text) < 40 else text[:37] + "..."


def _resolved(owner, attribute):
    """An expected answer (or a mistake's value): a value, or a zero-argument function computed once, on
    first use (the one way to defer an expensive one, so that importing a chapter stays fast)."""
    value = getattr(owner, attribute)
    if callable(value):
        value = value()
        setattr(owner, attribute, value)
    return value
