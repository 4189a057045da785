"""Measure the course against its budgets (COURSE.md §6) and print a Markdown table.

    .venv/bin/python benchmarks/notebooks.py [--which notebooks|solutions|both] [--out FILE]
                                             [--repeat N] [--nbval]

Figures, each against its budget:
- each notebook, run in a fresh kernel (nbclient): wall seconds above an empty notebook's floor
  (the same kernel start and client, no cells; median of a few runs), and the kernel's peak memory
  (VmHWM from /proc/<pid>/status; the kernel's own getrusage elsewhere);
- widget update: after a notebook has run, in its kernel, every ``labkit.core.explore.Explorer`` found
  through ``gc`` is redrawn with ``update()`` a few times; the slowest explorer's median counts;
- ``import labkit`` (and each labkit module) in fresh interpreters, above importing its
  dependencies first (numpy, matplotlib, ipywidgets, simpy, IPython); median of several;
- SimPy event rate: each labkit simulation's ``n_events / wall seconds`` (``simulate_*`` functions
  in labkit.interconnect, labkit.utilization, labkit.faults, called with the arguments in
  ``SIMULATIONS`` below) as a fraction of a bare SimPy loop's events per second;
- with ``--nbval``: the whole course under nbval (``pytest notebooks solutions``), timed.

Everything runs in a fixed order with fixed seeds. Timings depend on the machine and its load (the
load average is printed); the budgets are for a 2-core machine. A script, not a test: it exits 0
whatever it measures (2 on a usage error).
"""

import argparse
import importlib
import inspect
import json
import os
import platform
import statistics
import subprocess
import sys
import time
from datetime import datetime, timezone
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
DEFAULT_OUT = ROOT / "benchmarks" / "results" / "latest.md"

# COURSE.md §6
BUDGET_NOTEBOOK_S = 10.0        # s of execution above the empty notebook's floor
BUDGET_NOTEBOOK_MB = 400.0      # MB (10^6 bytes) peak kernel memory
BUDGET_COURSE_S = 180.0         # whole course under nbval
BUDGET_WIDGET_MS = 100.0        # one widget update (compute + redraw)
BUDGET_IMPORT_S = 0.3           # import labkit above its dependencies
BUDGET_SIMPY_FRACTION = 0.5     # a model's event rate / bare SimPy's

FLOOR_RUNS = 3
IMPORT_RUNS = 7                 # for `import labkit`
MODULE_IMPORT_RUNS = 3          # for each labkit.<module>
WIDGET_RUNS = 5                 # update() calls per explorer (after one warm-up)
SIM_RUNS = 5
DEPENDENCIES = ("numpy", "matplotlib", "ipywidgets", "simpy", "IPython")
SIM_MODULES = ("labkit.interconnect", "labkit.utilization", "labkit.faults")


def _u():
    from labkit import units
    return units


# Small, default-ish arguments per simulation: name -> function(module) returning (args, kwargs),
# or None for a function that is not a model of its own (a sweep over one that is). A simulate_*
# function missing here is listed as "not benchmarked" with a note to add it.
SIMULATIONS = {
    "labkit.interconnect.simulate_ring_allreduce":
        lambda m: ((1 * _u().GB, 64, 50 * _u().GB, 5e-6), {"chunks": 4, "jitter": 0.1, "seed": 0}),
    "labkit.interconnect.simulate_hierarchical_allreduce":
        lambda m: ((1 * _u().GB, 8, 8, 300 * _u().GB, 50 * _u().GB, 1e-6, 5e-6), {"chunks": 4, "seed": 0}),
    "labkit.interconnect.simulate_fat_tree_allreduce":
        lambda m: ((64 * _u().MB, 64, 50 * _u().GB, 2.7e-6), {"gpus_per_leaf": 8, "oversubscription": 4,
                                                             "placement": "scattered", "seed": 0}),
    "labkit.utilization.simulate_input_pipeline":
        lambda m: ((4, 0.35, 0.1), {"n_steps": 5000, "load_jitter": 0.5, "seed": 0}),
    "labkit.utilization.simulate_serving":
        lambda m: ((20.0,), {"n_requests": 10_000, "seed": 0}),
    "labkit.utilization.simulate_scheduler":
        lambda m: ((m.make_job_trace(3000, n_devices=64, seed=0), 64), {"policy": "backfill"}),
    "labkit.utilization.simulate_stragglers":
        lambda m: ((64, 1.0, 0.1), {"n_steps": 200, "seed": 0}),
    "labkit.faults.simulate_training":
        lambda m: ((1024, 5 * _u().YEAR, 180 * _u().DAY, _u().HOUR, 60.0, 600.0), {"seed": 0}),
    "labkit.faults.simulate_goodput": None,
    "labkit.faults.simulate_seeds": None,
}

WIDGET_CODE = f"""
import gc as _gc, json as _json, math as _math, statistics as _st, time as _time
try:
    from labkit.core.explore import Explorer as _Explorer
except Exception:
    _Explorer = None

def _moved(spec, k):
    # a slider moved to another position (k-th of a few), as a learner would move it
    if not isinstance(spec, dict):
        return getattr(spec, "value", None)
    if spec["kind"] == "dropdown":
        opts = list(spec["options"].values()) if isinstance(spec["options"], dict) else list(spec["options"])
        return opts[k % len(opts)]
    f = (0.2, 0.7, 0.4, 0.9, 0.55)[k % 5]
    lo, hi = spec["min"], spec["max"]
    if spec["kind"] == "log":
        v = 10 ** (_math.log10(lo) + f * (_math.log10(hi) - _math.log10(lo)))
    else:
        v = lo + f * (hi - lo)
    return int(round(v)) if spec["kind"] == "int" else v

_medians = []
for _ex in ([o for o in _gc.get_objects() if isinstance(o, _Explorer)] if _Explorer else []):
    _ex.update()
    _times = []
    for _k in range({WIDGET_RUNS}):
        _name = list(_ex.controls)[_k % len(_ex.controls)] if _ex.controls else None
        _vals = {{_name: _moved(_ex.controls[_name], _k)}} if _name else {{}}
        _t = _time.perf_counter(); _ex.update(**_vals); _times.append(_time.perf_counter() - _t)
    _medians.append((_st.median(_times), _ex.title or type(_ex).__name__))
print("LABKIT_WIDGETS " + _json.dumps(_medians))
"""

RUSAGE_CODE = """
import resource as _r, sys as _s, json as _json
_m = _r.getrusage(_r.RUSAGE_SELF).ru_maxrss
print("LABKIT_MAXRSS " + _json.dumps(_m if _s.platform == "darwin" else _m * 1024))
"""


# --- running notebooks ------------------------------------------------------------------------

def _kernel_pid(client):
    provisioner = getattr(client.km, "provisioner", None)
    for owner, attr in ((provisioner, "pid"), (getattr(provisioner, "process", None), "pid"),
                        (getattr(client.km, "kernel", None), "pid")):
        pid = getattr(owner, attr, None) if owner is not None else None
        if isinstance(pid, int):
            return pid
    return None


def _vm_hwm_bytes(pid):
    """Peak resident memory of a process (Linux /proc), or None."""
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) * 1024
    except (OSError, ValueError, IndexError):
        pass
    return None


def _cpu_seconds(pid):
    """User + system CPU seconds of a process so far (Linux /proc), or None."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
    except (OSError, ValueError, IndexError, AttributeError):
        return None


def _run_code(client, nb, code, tag):
    """Run code in the client's kernel (as an extra cell); return the JSON it printed after ``tag``."""
    import nbformat
    cell = nbformat.v4.new_code_cell(code)
    nb.cells.append(cell)
    client.execute_cell(cell, len(nb.cells) - 1)
    for out in cell.outputs:
        for line in (out.get("text") or "").splitlines():
            if line.startswith(tag + " "):
                return json.loads(line[len(tag) + 1:])
    return None


def run_notebook(path=None, measure_widgets=False):
    """Execute a notebook (None: an empty one) in a fresh kernel; return a dict of measurements.

    seconds: from starting the kernel to the last cell's end (kernel shutdown not counted, for the
    empty notebook neither); cpu_seconds: the kernel process's CPU time by then (less sensitive to
    other load than wall time); peak_bytes: the kernel's peak resident memory after the cells ran.
    """
    import nbformat
    from nbclient import NotebookClient
    from nbclient.exceptions import CellExecutionError

    if path is None:
        nb, cwd = nbformat.v4.new_notebook(), ROOT
    else:
        nb, cwd = nbformat.read(path, as_version=4), Path(path).parent
    kernel = (nb.metadata.get("kernelspec") or {}).get("name", "python3")
    client = NotebookClient(nb, timeout=600, kernel_name=kernel, allow_errors=False,
                            resources={"metadata": {"path": str(cwd)}})
    result = {"seconds": None, "cpu_seconds": None, "peak_bytes": None, "widgets": None, "error": None}
    start = time.perf_counter()
    try:
        with client.setup_kernel():
            for index, cell in enumerate(list(nb.cells)):
                client.execute_cell(cell, index)
            result["seconds"] = time.perf_counter() - start
            pid = _kernel_pid(client)
            result["cpu_seconds"] = _cpu_seconds(pid) if pid else None
            result["peak_bytes"] = _vm_hwm_bytes(pid) if pid else None
            if result["peak_bytes"] is None:
                result["peak_bytes"] = _run_code(client, nb, RUSAGE_CODE, "LABKIT_MAXRSS")
            if measure_widgets:
                result["widgets"] = _run_code(client, nb, WIDGET_CODE, "LABKIT_WIDGETS")
    except CellExecutionError as exc:
        text = str(exc).strip().splitlines()
        result["error"] = next((l for l in reversed(text) if l.strip()), "cell error")[:200]
    except Exception as exc:  # a kernel that dies or times out is a measurement too
        result["error"] = f"{type(exc).__name__}: {exc}"[:200]
    return result


# --- imports ------------------------------------------------------------------------------------

def _import_seconds(module, runs):
    """Median seconds to import ``module`` in a fresh interpreter that has imported the deps first."""
    deps = "; ".join(f"import {d}" for d in DEPENDENCIES)
    code = (f"{deps}\nimport time\nt = time.perf_counter()\nimport {module}\n"
            f"print(time.perf_counter() - t)")
    times = []
    for _ in range(runs):
        out = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True,
                             timeout=120)
        if out.returncode != 0:
            last = (out.stderr.strip().splitlines() or ["failed"])[-1]
            return None, last[:200]
        times.append(float(out.stdout.strip().splitlines()[-1]))
    return statistics.median(times), None


def _labkit_modules():
    names = sorted(p.stem for p in (ROOT / "labkit").glob("*.py")
                   if not p.stem.startswith("_"))
    if (ROOT / "labkit" / "exercises" / "__init__.py").exists():
        names.append("exercises")
    # chapters that are packages (labkit.scaling, labkit.interconnect, labkit.utilization) count too
    names += [p.parent.name for p in (ROOT / "labkit").glob("*/__init__.py")
              if p.parent.name not in ("core", "grading") and not p.parent.name.startswith("_")]
    return [f"labkit.{n}" for n in sorted(set(names))]


# --- SimPy ----------------------------------------------------------------------------------------

def bare_simpy_rate(n_processes=50, n_steps=2000, runs=SIM_RUNS):
    """Events per second of a bare SimPy loop: processes that only yield timeouts (median)."""
    import simpy

    def ticker(env):
        for _ in range(n_steps):
            yield env.timeout(1.0)

    rates = []
    for _ in range(runs):
        env = simpy.Environment()
        for _ in range(n_processes):
            env.process(ticker(env))
        start = time.perf_counter()
        env.run()
        rates.append(n_processes * n_steps / (time.perf_counter() - start))
    return statistics.median(rates)


def simulation_rates():
    """[(name, n_events, median wall s, events/s or None, note)] for every simulate_* function."""
    rows = []
    for module_name in SIM_MODULES:
        try:
            module = importlib.import_module(module_name)
        except ModuleNotFoundError as exc:
            if exc.name == module_name:
                rows.append((module_name, None, None, None, "module does not exist yet"))
                continue
            rows.append((module_name, None, None, None, f"import failed: {exc}"))
            continue
        except Exception as exc:
            rows.append((module_name, None, None, None, f"import failed: {type(exc).__name__}: {exc}"))
            continue
        names = sorted(n for n, f in vars(module).items()      # a package's submodules count too
                       if n.startswith("simulate_") and inspect.isfunction(f)
                       and (f.__module__ == module_name or f.__module__.startswith(module_name + ".")))
        for name in names:
            full = f"{module_name}.{name}"
            if full not in SIMULATIONS:
                rows.append((full, None, None, None, "not benchmarked: add its arguments to SIMULATIONS "
                             "in benchmarks/notebooks.py"))
                continue
            if SIMULATIONS[full] is None:
                rows.append((full, None, None, None, "a sweep over another simulation: not timed on its own"))
                continue
            try:
                args, kwargs = SIMULATIONS[full](module)
                function = getattr(module, name)
                function(*args, **kwargs)  # warm-up (imports, caches)
                walls, result = [], None
                for _ in range(SIM_RUNS):
                    start = time.perf_counter()
                    result = function(*args, **kwargs)
                    walls.append(time.perf_counter() - start)
            except Exception as exc:
                rows.append((full, None, None, None, f"call failed: {type(exc).__name__}: {exc}"[:200]))
                continue
            events = getattr(result, "n_events", None)
            if events is None:
                rows.append((full, None, statistics.median(walls), None, "result has no n_events: not a SimPy model"))
                continue
            wall = statistics.median(walls)
            rows.append((full, int(events), wall, events / wall if wall > 0 else None, ""))
    return rows


# --- the whole course under nbval ------------------------------------------------------------------

def course_under_nbval():
    cmd = [sys.executable, "-m", "pytest", "notebooks", "solutions", "-q", "-p", "no:cacheprovider"]
    start = time.perf_counter()
    out = subprocess.run(cmd, cwd=ROOT, capture_output=True, text=True)
    seconds = time.perf_counter() - start
    lines = [l for l in (out.stdout + out.stderr).strip().splitlines() if l.strip()]
    return seconds, out.returncode, (lines[-1] if lines else "")[:200]


# --- the table ---------------------------------------------------------------------------------------

def _verdict(value, budget, at_least=False):
    if value is None:
        return "n/a"
    return "PASS" if (value >= budget if at_least else value <= budget) else "OVER"


def _git_commit():
    try:
        out = subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=ROOT, capture_output=True, text=True)
        dirty = subprocess.run(["git", "status", "--porcelain"], cwd=ROOT, capture_output=True, text=True)
        return out.stdout.strip() + (" (+ uncommitted changes)" if dirty.stdout.strip() else "")
    except OSError:
        return "unknown"


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--which", choices=("notebooks", "solutions", "both"), default="both",
                        help="which notebooks to execute (default: both folders)")
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT, help=f"Markdown file (default: {DEFAULT_OUT.relative_to(ROOT)})")
    parser.add_argument("--repeat", type=int, default=1, help="runs per notebook (median seconds, max memory)")
    parser.add_argument("--nbval", action="store_true", help="also time the whole course under nbval (slow)")
    args = parser.parse_args(argv)
    if args.repeat < 1:
        parser.error("--repeat must be at least 1")

    rows, notes = [], []

    def row(figure, measured, budget, verdict):
        rows.append((figure, measured, budget, verdict))
        print(f"  {figure}: {measured} [{verdict}]", file=sys.stderr, flush=True)

    import timeit
    loop_ms = min(timeit.repeat("sum(range(10**6))", number=1, repeat=5)) * 1e3
    row("this machine's speed: pure-Python `sum(range(10**6))` (best of 5)", f"{loop_ms:.0f} ms", "reference", "info")

    print("empty notebook floor ...", file=sys.stderr, flush=True)
    floors = [run_notebook(None) for _ in range(FLOOR_RUNS)]
    bad = [f["error"] for f in floors if f["error"]]
    if bad:
        print(f"cannot run an empty notebook: {bad[0]}", file=sys.stderr)
        return 1
    floor = statistics.median(f["seconds"] for f in floors)
    floor_cpu = statistics.median(f["cpu_seconds"] for f in floors) if floors[0]["cpu_seconds"] else None
    floor_mb = statistics.median(f["peak_bytes"] for f in floors) / 1e6 if floors[0]["peak_bytes"] else None
    row(f"empty notebook: kernel start to last cell (median of {FLOOR_RUNS})",
        f"{floor:.2f} s" + (f" (kernel CPU {floor_cpu:.2f} s)" if floor_cpu is not None else ""), "floor", "info")
    if floor_mb:
        row("empty notebook: peak kernel memory", f"{floor_mb:.0f} MB", "floor", "info")

    folders = ("notebooks", "solutions") if args.which == "both" else (args.which,)
    paths = [p for folder in folders for p in sorted((ROOT / folder).glob("*.ipynb"))]
    if not paths:
        notes.append(f"no notebooks found in {', '.join(folders)}/")
    worst_widget = None
    for path in paths:
        name = path.relative_to(ROOT).as_posix()
        print(f"{name} ...", file=sys.stderr, flush=True)
        runs = [run_notebook(path, measure_widgets=(i == 0)) for i in range(args.repeat)]
        errors = [r["error"] for r in runs if r["error"]]
        if errors:
            row(f"{name}: runs top to bottom", "error", "no error", "ERROR")
            notes.append(f"{name}: {errors[0]}")
            continue
        above = statistics.median(r["seconds"] for r in runs) - floor
        cpus = [r["cpu_seconds"] for r in runs if r["cpu_seconds"] is not None]
        cpu = f" (kernel CPU {statistics.median(cpus) - floor_cpu:.2f} s)" if cpus and floor_cpu is not None else ""
        row(f"{name}: seconds above the floor", f"{above:.2f} s{cpu}", f"≤ {BUDGET_NOTEBOOK_S:g} s",
            _verdict(above, BUDGET_NOTEBOOK_S))
        peaks = [r["peak_bytes"] for r in runs if r["peak_bytes"]]
        mb = max(peaks) / 1e6 if peaks else None
        row(f"{name}: peak kernel memory", f"{mb:.0f} MB" if mb else "unavailable", f"≤ {BUDGET_NOTEBOOK_MB:g} MB",
            _verdict(mb, BUDGET_NOTEBOOK_MB))
        widgets = runs[0]["widgets"]
        if widgets:
            slowest_s, title = max(widgets)
            ms = slowest_s * 1000
            row(f"{name}: widget update, slowest of {len(widgets)} explorer(s) ({title}; median of {WIDGET_RUNS})",
                f"{ms:.0f} ms", f"≤ {BUDGET_WIDGET_MS:g} ms", _verdict(ms, BUDGET_WIDGET_MS))
            worst_widget = ms if worst_widget is None else max(worst_widget, ms)
        elif widgets is not None:
            notes.append(f"{name}: no labkit explorer found in the kernel after the run")

    if worst_widget is not None:
        row("widget update, slowest explorer in the course", f"{worst_widget:.0f} ms", f"≤ {BUDGET_WIDGET_MS:g} ms",
            _verdict(worst_widget, BUDGET_WIDGET_MS))

    print("imports ...", file=sys.stderr, flush=True)
    deps = ", ".join(DEPENDENCIES)
    for module in ["labkit"] + _labkit_modules():
        runs = IMPORT_RUNS if module == "labkit" else MODULE_IMPORT_RUNS
        seconds, error = _import_seconds(module, runs)
        if error:
            row(f"import {module} above its dependencies", "error", f"≤ {BUDGET_IMPORT_S:g} s", "ERROR")
            notes.append(f"import {module}: {error}")
            continue
        row(f"import {module} above its dependencies (median of {runs})", f"{seconds:.3f} s",
            f"≤ {BUDGET_IMPORT_S:g} s", _verdict(seconds, BUDGET_IMPORT_S))
    notes.append(f"import times: a fresh interpreter imports {deps} first, then times the import.")
    notes.append("notebook seconds are wall time (the budget); the kernel CPU seconds beside them (above the "
                 "empty kernel's) change less with other load on the machine. PASS/OVER uses wall time.")

    print("SimPy ...", file=sys.stderr, flush=True)
    bare = bare_simpy_rate()
    row(f"bare SimPy loop (timeouts only; median of {SIM_RUNS})", f"{bare / 1e3:,.0f} k events/s", "reference", "info")
    for name, events, wall, rate, note in simulation_rates():
        if rate is None:
            notes.append(f"{name}: {note}")
            continue
        fraction = rate / bare
        row(f"{name}: event rate ({events:,} events in {wall * 1e3:.0f} ms)",
            f"{rate / 1e3:,.0f} k events/s = {fraction:.0%} of bare", f"≥ {BUDGET_SIMPY_FRACTION:.0%}",
            _verdict(fraction, BUDGET_SIMPY_FRACTION, at_least=True))

    if args.nbval:
        print("whole course under nbval ...", file=sys.stderr, flush=True)
        seconds, code, summary = course_under_nbval()
        verdict = _verdict(seconds, BUDGET_COURSE_S) if code == 0 else "FAILED"
        row("whole course under nbval (pytest notebooks solutions)", f"{seconds:.0f} s", f"≤ {BUDGET_COURSE_S:g} s",
            verdict)
        notes.append(f"nbval: exit {code}: {summary}")
    else:
        row("whole course under nbval", "not run (use --nbval)", f"≤ {BUDGET_COURSE_S:g} s", "n/a")

    load = os.getloadavg() if hasattr(os, "getloadavg") else None
    header = (f"# Benchmarks: {datetime.now(timezone.utc):%Y-%m-%d %H:%M} UTC, commit {_git_commit()}\n\n"
              f"Python {platform.python_version()} on {platform.system()} {platform.machine()}, "
              f"{os.cpu_count()} CPUs" + (f", load average {load[0]:.1f} / {load[1]:.1f} / {load[2]:.1f}" if load else "")
              + f". Budgets: COURSE.md §6. Command: `python benchmarks/notebooks.py "
              f"{' '.join(sys.argv[1:] if argv is None else argv)}`.\n")
    table = ["| figure | measured | budget | result |", "|---|---|---|---|"]
    table += [f"| {f} | {m} | {b} | {v} |" for f, m, b, v in rows]
    text = header + "\n" + "\n".join(table) + "\n"
    if notes:
        text += "\nNotes:\n\n" + "\n".join(f"- {n}" for n in notes) + "\n"
    print(text)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(text, encoding="utf-8")
    print(f"written to {args.out}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
