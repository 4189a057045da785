"""Fuzz every public labkit function: bad input gets a clean error naming the argument, never a deep
traceback, a hang, a NaN or an infinity from finite input.

For each public function (defined in a labkit module, name without a leading underscore) a valid base
call is built from the examples of the vocabulary table in labkit/ARCHITECTURE.md, overridden by a
chapter's ``FUZZ_EXAMPLES`` (in its tests/test_<chapter>.py: ``{"param": value,
"function.param": value}``; a ``lambda: ...`` value is built on first use). Then each parameter in turn
gets each of the bad values below while the others keep their base value. Seeded and deterministic;
a few thousand calls in all.
"""

import ast
import importlib
import inspect
import math
import re
import signal
from pathlib import Path

import numpy as np
import pytest

ROOT = Path(__file__).resolve().parents[1]

# module -> the test file holding its FUZZ_EXAMPLES (None: no chapter-local examples)
MODULES = {
    "labkit.units": "test_units",
    "labkit.data": "test_data",
    "labkit.core.devices": "test_core",
    "labkit.core.roofline": "test_core",
    "labkit.core.timeline": "test_core",
    "labkit.core.trend": "test_core",
    "labkit.core.published": "test_core",
    "labkit.core.plotting": "test_core",
    "labkit.core.explore": "test_core",
    "labkit.start_here": "test_start_here",
    "labkit.hardware": "test_hardware",
    "labkit.scaling": "test_scaling",
    "labkit.interconnect": "test_interconnect",
    "labkit.utilization": "test_utilization",
    "labkit.faults": "test_faults",
    "labkit.energy": "test_energy",
    "labkit.codesign": "test_codesign",
}

# Functions that cannot be fuzzed this way, each with its reason.
SKIP = {
    "labkit.core.explore.explorer": "takes functions (build, update); its controls are fuzzed through slider/dropdown",
    "labkit.core.explore.freeze_background": "takes a figure and artists; tested in test_core",
    "labkit.core.explore.moving_artists": "takes any handles object by design",
}

BAD = [None, "abc", -1, 0, float("nan"), float("inf"), -float("inf"), 1e308, 10**400, True, [],
       np.array([1.0, 2.0]), object()]
TIME_LIMIT_S = 3.0


class _Timeout(BaseException):
    pass


def vocabulary():
    """{name: example} from the vocabulary table of labkit/ARCHITECTURE.md."""
    text = (ROOT / "labkit" / "ARCHITECTURE.md").read_text(encoding="utf-8")
    table = text.split("<!-- vocabulary", 1)[1]
    out = {}
    for line in table.splitlines():
        cells = [c.strip() for c in line.strip().strip("|").split("|")]
        if len(cells) >= 4 and cells[0].startswith("`"):
            out[cells[0].strip("`")] = ast.literal_eval(cells[3].strip("`"))
    return out


def public_functions(module):
    for name, obj in sorted(vars(module).items()):
        if name.startswith("_") or not inspect.isfunction(obj):
            continue
        if obj.__module__ != module.__name__:
            continue
        yield name, obj


def _module_functions(modname):
    module = importlib.import_module(modname)
    funcs = list(public_functions(module))
    # a package (labkit.utilization) re-exports its submodules' functions: fuzz those too
    if hasattr(module, "__path__"):
        seen = {f for _, f in funcs}
        for name in sorted(getattr(module, "__all__", dir(module))):
            obj = getattr(module, name, None)
            if inspect.isfunction(obj) and obj.__module__.startswith(modname + ".") and obj not in seen \
                    and not name.startswith("_"):
                funcs.append((name, obj))
    return funcs


def _examples(testmod):
    if testmod is None:
        return {}
    try:
        return dict(getattr(importlib.import_module(testmod), "FUZZ_EXAMPLES", {}))
    except ImportError:
        return {}


def _value(v):
    if callable(v) and getattr(v, "__name__", "") == "<lambda>":
        return v()
    return v


def _bad_results(x, depth=0):
    """Names of NaN/inf found in a result (numbers, arrays, dataclasses, dicts, sequences)."""
    if depth > 3:
        return set()
    if isinstance(x, (bool, np.bool_)):
        return set()
    if isinstance(x, (int, float, np.number)):
        v = float(x) if not isinstance(x, int) or abs(x) < 1e308 else math.inf
        return {"nan"} if math.isnan(v) else ({"inf"} if math.isinf(v) else set())
    if isinstance(x, np.ndarray) and x.dtype.kind in "fc":
        found = set()
        if np.any(np.isnan(x)):
            found.add("nan")
        if np.any(np.isinf(x)):
            found.add("inf")
        return found
    if isinstance(x, dict):
        return set().union(*(_bad_results(v, depth + 1) for v in list(x.values())[:50])) if x else set()
    if isinstance(x, (list, tuple)):
        return set().union(*(_bad_results(v, depth + 1) for v in list(x)[:50])) if x else set()
    if hasattr(x, "__dataclass_fields__"):
        return set().union(*(_bad_results(getattr(x, f, None), depth + 1) for f in x.__dataclass_fields__)) \
            if x.__dataclass_fields__ else set()
    return set()


def _call(fn, kwargs):
    def alarm(signum, frame):
        raise _Timeout()
    old = signal.signal(signal.SIGALRM, alarm)
    signal.setitimer(signal.ITIMER_REAL, TIME_LIMIT_S)
    try:
        return fn(**kwargs)
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, old)


def _outcome(fn, kwargs):
    """("returned", result) | ("raised", exception) | ("hung", text): one call, figures closed after."""
    import matplotlib.pyplot as plt
    try:
        return "returned", _call(fn, kwargs)
    except _Timeout:
        return "hung", f"took over {TIME_LIMIT_S} s"
    except Exception as e:  # noqa: BLE001
        return "raised", e
    finally:
        plt.close("all")


def _allowed(bad, default, example):
    """Bad values that are good for this parameter: None where None is the default, True for a flag,
    a string for a string option, an array for an array parameter."""
    if bad is None and (default is None or example is None):
        return True
    if bad is True and isinstance(default if default is not inspect.Parameter.empty else example, (bool, np.bool_)):
        return True
    if isinstance(bad, str) and isinstance(example, str):
        return True
    return isinstance(bad, np.ndarray) and isinstance(example, (list, tuple, np.ndarray))


def _judge(name, bad, kind, out):
    """What is wrong with this outcome of calling with ``name=bad`` (None when it is fine)."""
    if kind == "hung":
        return f"hung ({out})"
    if kind == "raised":
        if not isinstance(out, (ValueError, TypeError)):
            return f"{type(out).__name__}: {str(out)[:120]}"
        if name not in str(out) and not re.search(r"\b" + re.escape(name) + r"\b", repr(out.args)):
            return f"{type(out).__name__} does not name the argument: {str(out)[:120]}"
        return None
    if bad is None or isinstance(bad, str) or type(bad) is object or bad is True or \
            (isinstance(bad, float) and math.isnan(bad)):
        return f"accepted and returned {type(out).__name__}"
    found = _bad_results(out)
    if "nan" in found or ("inf" in found and not (isinstance(bad, float) and math.isinf(bad))):
        return f"returned {'/'.join(sorted(found))}"
    return None


def fuzz_module(modname):
    """Every problem found in this module's public functions, as lines of text."""
    import matplotlib
    matplotlib.use("Agg")

    vocab = vocabulary()
    local = _examples(MODULES[modname])
    problems, calls = [], 0
    for fname, fn in _module_functions(modname):
        qual = f"{modname}.{fname}"
        if qual in SKIP:
            continue
        params = [p for p in inspect.signature(fn).parameters.values()
                  if p.kind not in (p.VAR_POSITIONAL, p.VAR_KEYWORD)]
        base = {}
        missing = []
        for p in params:
            for key in (f"{fname}.{p.name}", p.name):
                if key in local:
                    base[p.name] = _value(local[key])
                    break
            else:
                if p.default is inspect.Parameter.empty:
                    if p.name in vocab:
                        base[p.name] = vocab[p.name]
                    else:
                        missing.append(p.name)
        if missing:
            problems.append(f"{qual}: no example for {', '.join(missing)} (add it to FUZZ_EXAMPLES in "
                            f"tests/{MODULES[modname]}.py, or to the vocabulary)")
            continue
        calls += 1
        kind, out = _outcome(fn, base)
        if kind != "returned" or _bad_results(out):
            problems.append(f"{qual}: the base call {base} " + (f"returned {_bad_results(out)}" if kind == "returned"
                                                                  else out))
            continue
        calls += 1
        kind, out = _outcome(fn, {**base, "zz_not_a_parameter": 1})
        if kind == "returned" or (kind == "raised" and not isinstance(out, TypeError)):
            problems.append(f"{qual}: an unknown keyword was {'accepted' if kind == 'returned' else out}")
        for p in params:
            example = base.get(p.name, p.default)
            for bad in BAD:
                if _allowed(bad, p.default, example):
                    continue
                calls += 1
                problem = _judge(p.name, bad, *_outcome(fn, {**base, p.name: bad}))
                if problem:
                    problems.append(f"{qual}({p.name}={bad!r:.20}): {problem}")
    return problems, calls


@pytest.mark.parametrize("modname", list(MODULES))
def test_public_functions_reject_bad_input_cleanly(modname):
    pytest.importorskip(modname)
    with np.errstate(all="ignore"):
        problems, calls = fuzz_module(modname)
    assert calls > 0
    assert not problems, f"{len(problems)} problems in {calls} calls:\n" + "\n".join(problems[:80])
