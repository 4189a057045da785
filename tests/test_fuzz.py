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


def fuzz_module(modname):
    """Every problem found in this module's public functions, as lines of text."""
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

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
        try:
            calls += 1
            out = _call(fn, base)
            if _bad_results(out):
                problems.append(f"{qual}: the base call {base} returned {_bad_results(out)}")
        except _Timeout:
            problems.append(f"{qual}: the base call {base} took over {TIME_LIMIT_S} s")
            continue
        except Exception as e:  # noqa: BLE001
            problems.append(f"{qual}: the base call {base} raised {type(e).__name__}: {e}")
            continue
        finally:
            plt.close("all")
        try:
            calls += 1
            _call(fn, {**base, "zz_not_a_parameter": 1})
            problems.append(f"{qual}: accepted an unknown keyword")
        except TypeError:
            pass
        except BaseException as e:  # noqa: BLE001
            problems.append(f"{qual}: an unknown keyword raised {type(e).__name__}")
        for p in params:
            default = p.default
            example = base.get(p.name, default)
            for bad in BAD:
                if bad is None and (default is None or example is None):
                    continue
                if bad is True and isinstance(default if default is not inspect.Parameter.empty else example,
                                              (bool, np.bool_)):
                    continue
                if isinstance(bad, str) and isinstance(example, str):
                    continue
                if isinstance(bad, (list, np.ndarray)) and isinstance(example, (list, tuple, np.ndarray)) \
                        and not isinstance(bad, list):
                    continue
                args = {**base, p.name: bad}
                calls += 1
                what = f"{qual}({p.name}={bad!r:.20})"
                try:
                    out = _call(fn, args)
                except _Timeout:
                    problems.append(f"{what}: hung (over {TIME_LIMIT_S} s)")
                    continue
                except (ValueError, TypeError) as e:
                    if p.name not in str(e) and not re.search(r"\b" + re.escape(p.name) + r"\b", repr(e.args)):
                        problems.append(f"{what}: {type(e).__name__} does not name the argument: {str(e)[:120]}")
                    continue
                except Exception as e:  # noqa: BLE001
                    problems.append(f"{what}: {type(e).__name__}: {str(e)[:120]}")
                    continue
                finally:
                    plt.close("all")
                must_raise = (bad is None or isinstance(bad, str) or type(bad) is object or bad is True
                              or (isinstance(bad, float) and math.isnan(bad)))
                if must_raise:
                    problems.append(f"{what}: accepted and returned {type(out).__name__}")
                    continue
                found = _bad_results(out)
                if "nan" in found or ("inf" in found and not (isinstance(bad, float) and math.isinf(bad))):
                    problems.append(f"{what}: returned {'/'.join(sorted(found))}")
    return problems, calls


@pytest.mark.parametrize("modname", list(MODULES))
def test_public_functions_reject_bad_input_cleanly(modname):
    pytest.importorskip(modname)
    with np.errstate(all="ignore"):
        problems, calls = fuzz_module(modname)
    assert calls > 0
    assert not problems, f"{len(problems)} problems in {calls} calls:\n" + "\n".join(problems[:80])
