"""Argument checks shared by every labkit module: bad input gets a clear error naming the argument
and its unit, raised at the public function's door rather than deep inside numpy or simpy.

Each check returns the value (a float, an int, or a float array when ``array=True``) so a function
can write ``nbytes = nonnegative("nbytes", nbytes, "bytes")``.
"""

import numbers

import numpy as np


def _number(name, value, unit, array):
    what = f"{name} ({unit})" if unit else name
    if isinstance(value, bool) or value is None or isinstance(value, (str, bytes)):
        raise TypeError(f"{what} must be a number, got {type(value).__name__} {value!r}")
    if array:
        try:
            arr = np.asarray(value, dtype=float)
        except (TypeError, ValueError):
            raise TypeError(f"{what} must be a number or an array of numbers, got {value!r}") from None
        if np.any(np.isnan(arr)):
            raise ValueError(f"{what} must not be NaN")
        return arr if arr.ndim else float(arr)
    if isinstance(value, np.ndarray) and value.size == 1:
        value = value.reshape(-1)[0]
    if not isinstance(value, (numbers.Real, np.generic)):
        raise TypeError(f"{what} must be a number, got {type(value).__name__} {value!r}")
    value = float(value)
    if np.isnan(value):
        raise ValueError(f"{what} must not be NaN")
    return value


def number(name, value, unit="", array=False):
    """Any real number (not NaN)."""
    return _number(name, value, unit, array)


def positive(name, value, unit="", array=False, finite=True):
    """A number > 0 (finite unless ``finite=False``)."""
    v = _number(name, value, unit, array)
    if np.any(np.asarray(v) <= 0) or (finite and not np.all(np.isfinite(v))):
        raise ValueError(f"{name} must be a positive{' finite' if finite else ''} number"
                         f"{f' in {unit}' if unit else ''}, got {value!r}")
    return v


def nonnegative(name, value, unit="", array=False, finite=True):
    """A number >= 0."""
    v = _number(name, value, unit, array)
    if np.any(np.asarray(v) < 0) or (finite and not np.all(np.isfinite(v))):
        raise ValueError(f"{name} must be zero or positive{f' (in {unit})' if unit else ''}, got {value!r}")
    return v


def fraction(name, value, array=False, allow_zero=True, allow_one=True):
    """A number in [0, 1] (a utilization, a probability): 0.4 means 40 %."""
    v = _number(name, value, "fraction", array)
    a = np.asarray(v)
    lo_ok = np.all(a >= 0) if allow_zero else np.all(a > 0)
    hi_ok = np.all(a <= 1) if allow_one else np.all(a < 1)
    if not (lo_ok and hi_ok):
        interval = ("[" if allow_zero else "(") + "0, 1" + ("]" if allow_one else ")")
        hint = " (write 40 % as 0.4)" if np.any(a > 1) else ""
        raise ValueError(f"{name} must be a fraction in {interval}{hint}, got {value!r}")
    return v


def integer(name, value, minimum=None, maximum=None):
    """A whole number, optionally bounded: ``integer("n", n, minimum=2)``."""
    if isinstance(value, bool) or not isinstance(value, (numbers.Integral, np.integer)):
        if isinstance(value, (float, np.floating)) and float(value).is_integer():
            value = int(value)
        else:
            raise TypeError(f"{name} must be a whole number, got {type(value).__name__} {value!r}")
    value = int(value)
    if minimum is not None and value < minimum:
        raise ValueError(f"{name} must be at least {minimum}, got {value}")
    if maximum is not None and value > maximum:
        raise ValueError(f"{name} must be at most {maximum}, got {value}")
    return value


def choice(name, value, options):
    """One of a few strings."""
    if value not in options:
        raise ValueError(f"{name} must be one of {', '.join(repr(o) for o in options)}; got {value!r}")
    return value
