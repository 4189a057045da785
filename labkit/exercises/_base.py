"""Shared pieces of the exercise system: verdicts, and turning answers into numbers and text."""

import math
import numbers

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


def _resolved(owner, attribute):
    """An expected answer (or a mistake's value): a value, or a zero-argument function computed once, on
    first use (the one way to defer an expensive one, so that importing a chapter stays fast)."""
    value = getattr(owner, attribute)
    if callable(value):
        value = value()
        setattr(owner, attribute, value)
    return value
