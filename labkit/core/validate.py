"""Argument checks: the one validation path of every public labkit function.

Bad input gets a clear error naming the argument and its unit, raised at the public function's door
rather than deep inside numpy, matplotlib or simpy; and a result that would be nonsense (NaN, an
infinity from finite inputs, a utilization above 100 %) is refused instead of returned.

Each check returns the cleaned value (a float, an int, or a float array when ``array=True``), so a
function can write ``nbytes = nonnegative("nbytes", nbytes, "bytes")``. Only ``TypeError`` (wrong kind
of thing) and ``ValueError`` (right kind, impossible value) are raised, and both name the argument.

    number / positive / nonnegative / fraction   real numbers (finite unless ``finite=False``)
    integer / counts                             whole numbers, one or an array
    choice                                       one of a few options
    sequence                                     a non-empty list of things
    axes                                         a matplotlib Axes or None
    finite_result                                a computed result must be finite (overflow guard)
"""

import numbers

import numpy as np

#: Above this a count is refused: no model in the course has more than ~10^15 of anything
#: countable (devices, steps, requests) and a simulation of more would not finish.
MAX_COUNT = 10**15


def _what(name, unit):
    return f"{name} ({unit})" if unit else name


def _is_bool(value):
    return isinstance(value, (bool, np.bool_))


def _number(name, value, unit, array, finite):
    what = _what(name, unit)
    if _is_bool(value) or value is None or isinstance(value, (str, bytes)):
        raise TypeError(f"{what} must be a number, got {type(value).__name__} {value!r}")
    if array:
        if isinstance(value, (dict, set)):
            raise TypeError(f"{what} must be a number or an array of numbers, got {type(value).__name__}")
        try:
            arr = np.asarray(value)
            if arr.dtype == bool or arr.dtype.kind not in "biuf":
                if arr.dtype.kind == "O" and arr.size and all(isinstance(v, numbers.Real) and not _is_bool(v)
                                                              for v in arr.reshape(-1)):
                    arr = arr.astype(float)
                else:
                    raise TypeError
            arr = arr.astype(float)
        except (TypeError, ValueError, OverflowError):
            raise TypeError(f"{what} must be a number or an array of numbers, got {_short(value)}") from None
        if arr.size == 0:
            raise ValueError(f"{what} must not be empty")
        if np.any(np.isnan(arr)):
            raise ValueError(f"{what} must not be NaN")
        if finite and not np.all(np.isfinite(arr)):
            raise ValueError(f"{what} must be finite, got {_short(value)}")
        return arr if arr.ndim else float(arr)
    if isinstance(value, np.ndarray) and value.size == 1:
        value = value.reshape(-1)[0]
    if _is_bool(value) or not isinstance(value, (numbers.Real, np.generic)) or isinstance(value, np.bool_):
        raise TypeError(f"{what} must be a number, got {type(value).__name__} {_short(value)}")
    try:
        value = float(value)
    except (OverflowError, TypeError, ValueError):
        raise ValueError(f"{what} is too large to be a number of this course (above 1e308), got {_short(value)}") \
            from None
    if np.isnan(value):
        raise ValueError(f"{what} must not be NaN")
    if finite and not np.isfinite(value):
        raise ValueError(f"{what} must be finite, got {value!r}")
    return value


def _short(value, limit=60):
    text = repr(value)
    return text if len(text) <= limit else text[:limit] + "…"


def _bounded(name, v, unit, maximum):
    if maximum is not None and np.any(np.asarray(v) > maximum):
        raise ValueError(f"{_what(name, unit)} must be at most {maximum:g}, got {_short(v)}")
    return v


def number(name, value, unit="", array=False, finite=True, minimum=None, maximum=None):
    """Any real number (not NaN; finite unless ``finite=False``), optionally within [minimum, maximum]."""
    v = _number(name, value, unit, array, finite)
    if minimum is not None and np.any(np.asarray(v) < minimum):
        raise ValueError(f"{_what(name, unit)} must be at least {minimum:g}, got {_short(value)}")
    return _bounded(name, v, unit, maximum)


def positive(name, value, unit="", array=False, finite=True, maximum=None):
    """A number > 0 (finite unless ``finite=False``)."""
    v = _number(name, value, unit, array, finite)
    if np.any(np.asarray(v) <= 0):
        raise ValueError(f"{name} must be a positive{' finite' if finite else ''} number"
                         f"{f' in {unit}' if unit else ''}, got {_short(value)}")
    return _bounded(name, v, unit, maximum)


def nonnegative(name, value, unit="", array=False, finite=True, maximum=None):
    """A number >= 0."""
    v = _number(name, value, unit, array, finite)
    if np.any(np.asarray(v) < 0):
        raise ValueError(f"{name} must be zero or positive{f' (in {unit})' if unit else ''}, got {_short(value)}")
    return _bounded(name, v, unit, maximum)


def fraction(name, value, array=False, allow_zero=True, allow_one=True):
    """A number in [0, 1] (a utilization, a probability): 0.4 means 40 %."""
    v = _number(name, value, "fraction", array, True)
    a = np.asarray(v)
    lo_ok = np.all(a >= 0) if allow_zero else np.all(a > 0)
    hi_ok = np.all(a <= 1) if allow_one else np.all(a < 1)
    if not (lo_ok and hi_ok):
        interval = ("[" if allow_zero else "(") + "0, 1" + ("]" if allow_one else ")")
        hint = " (write 40 % as 0.4)" if np.any(a > 1) else ""
        raise ValueError(f"{name} must be a fraction in {interval}{hint}, got {_short(value)}")
    return v


def integer(name, value, minimum=None, maximum=MAX_COUNT):
    """A whole number, bounded: ``integer("n", n, minimum=2)``. Whole floats (4.0) are accepted;
    True/False are not numbers here. ``maximum`` defaults to :data:`MAX_COUNT`."""
    if isinstance(value, np.ndarray) and value.size == 1 and value.dtype != bool:
        value = value.reshape(-1)[0]
    if _is_bool(value) or not isinstance(value, (numbers.Integral, np.integer)):
        if isinstance(value, (float, np.floating)) and np.isfinite(value) and float(value).is_integer():
            value = int(value)
        else:
            raise TypeError(f"{name} must be a whole number, got {type(value).__name__} {_short(value)}")
    value = int(value)
    if minimum is not None and value < minimum:
        raise ValueError(f"{name} must be at least {minimum}, got {value}")
    if maximum is not None and value > maximum:
        raise ValueError(f"{name} must be at most {maximum:,}, got {_short(value)}")
    return value


def counts(name, value, minimum=1, maximum=MAX_COUNT):
    """A whole number >= minimum, or an array of them (a float array of whole numbers is accepted)."""
    if isinstance(value, (list, tuple, np.ndarray)):
        arr = np.atleast_1d(_number(name, value, "count", True, True))
        if np.any(arr != np.round(arr)) or np.any(arr < minimum) or np.any(arr > maximum):
            raise ValueError(f"{name} must hold whole numbers from {minimum} to {maximum:,}, got {_short(value)}")
        return arr
    return integer(name, value, minimum=minimum, maximum=maximum)


def choice(name, value, options):
    """One of a few options (strings, numbers or None)."""
    if isinstance(options, (str, bytes)):
        raise TypeError(f"the options for {name} must be a list, got {options!r}")
    try:
        ok = not isinstance(value, np.ndarray) and any(value is o or (type(value) is type(o) and value == o)
                                                       or (isinstance(value, str) is isinstance(o, str) and value == o)
                                                       for o in options)
    except (TypeError, ValueError):  # a value that cannot be compared with the options
        ok = False
    if not ok or _is_bool(value) and not any(_is_bool(o) for o in options):
        raise ValueError(f"{name} must be one of {', '.join(repr(o) for o in options)}; got {_short(value)}")
    return value


def text(name, value):
    """A non-empty string."""
    if not isinstance(value, str) or not value.strip():
        raise TypeError(f"{name} must be a non-empty string, got {_short(value)}")
    return value


def sequence(name, value, minimum=1, maximum=100_000):
    """A list or tuple (or array) of at least ``minimum`` items: returned as a list."""
    if isinstance(value, (str, bytes, dict)) or not isinstance(value, (list, tuple, np.ndarray, range)):
        raise TypeError(f"{name} must be a list, got {type(value).__name__} {_short(value)}")
    items = list(value)
    if len(items) < minimum:
        raise ValueError(f"{name} must hold at least {minimum} item{'s' if minimum != 1 else ''}, got {len(items)}")
    if len(items) > maximum:
        raise ValueError(f"{name} must hold at most {maximum:,} items, got {len(items):,}")
    return items


def records(name, value, fields, maximum=50):
    """A list of tuples, each checked field by field: ``fields`` is ``[(field name, check), ...]`` where
    ``check(label, value)`` is one of this module's checks (``text``, or ``lambda n, v: positive(n, v, "W")``).
    ``records("machines", [("A100", 312e12, 2.039e12)], [("label", text), ...])`` -> a list of tuples."""
    out = []
    shape = ", ".join(f for f, _ in fields)
    for i, item in enumerate(sequence(name, value, minimum=0, maximum=maximum)):
        if isinstance(item, (str, bytes, dict)) or not hasattr(item, "__len__") or len(item) != len(fields):
            raise TypeError(f"{name}[{i}] must be ({shape}), got {_short(item)}")
        out.append(tuple(check(f"{name}[{i}] {field}", v) for (field, check), v in zip(fields, item)))
    return out


def axes(name, ax):
    """``ax`` must be a matplotlib Axes to draw into, or None for a new figure."""
    if ax is None:
        return None
    from matplotlib.axes import Axes
    if not isinstance(ax, Axes):
        raise TypeError(f"{name} must be a matplotlib Axes (e.g. from plt.subplots()) or None, "
                        f"got {type(ax).__name__}")
    return ax


def instance(name, value, cls, what):
    """``value`` must be an instance of ``cls`` (described as ``what`` in the error)."""
    if not isinstance(value, cls):
        raise TypeError(f"{name} must be {what}, got {type(value).__name__} {_short(value)}")
    return value


def finite_result(value, what="the result", *names):
    """Refuse a result that overflowed or is undefined (inf or NaN from finite inputs); the error
    names the arguments it was computed from (``names``)."""
    with np.errstate(all="ignore"):
        a = np.asarray(value, dtype=float)
    if not np.all(np.isfinite(a)):
        inputs = f" from {', '.join(names)}" if names else ""
        raise ValueError(f"{what} is not finite for these inputs{inputs} (too large or undefined): "
                         "use values within the course's range")
    return value


def flag(name, value):
    """True or False (numpy bools too)."""
    if not _is_bool(value):
        raise TypeError(f"{name} must be True or False, got {type(value).__name__} {_short(value)}")
    return bool(value)


def figsize(name, value):
    """A figure size: (width, height) in inches, each in (0, 100]."""
    if isinstance(value, (str, bytes, dict)) or not hasattr(value, "__len__") or len(value) != 2:
        raise TypeError(f"{name} must be (width, height) in inches, got {_short(value)}")
    return tuple(positive(name, v, "inches", maximum=100) for v in value)


def scalar_or_array(out):
    """A 0-d result as a float, an array as it is (what vectorized functions return)."""
    return float(out) if np.ndim(out) == 0 else out
