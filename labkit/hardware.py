"""Chapter 01 — the CPU era and the move to accelerators.

Measure this machine, place it on fifty years of computers (``datasets/hardware.csv``), fit a
doubling time, and use the roofline model to see why accelerators won and why moving data, not
arithmetic, now limits most operations.

SI units in and out: FLOP, FLOP/s, bytes, bytes/s, seconds, watts. FLOPs are dense: a multiply
and an add are two FLOP; a matrix product of (m×k)·(k×n) is 2·m·n·k FLOP.

The shared ideas this chapter teaches live in :mod:`labkit.core` and are re-exported here for the
notebook: ``device``, ``Device``, ``load_hardware``, ``KINDS`` (core.devices); ``roofline``,
``ridge_point``, ``bound``, ``roofline_time``, ``training_time`` (core.roofline); ``fit_trend``,
``doubling_time`` (core.trend). What is chapter 01's own: measuring this machine, counting the FLOP
and bytes of an operation, the plots and the roofline explorer.
"""

import time
from dataclasses import dataclass

import numpy as np

from . import units as u
from .core.devices import KINDS, Device, device, load_hardware  # noqa: F401  (chapter 01 teaches the table)
from .core.published import published_run  # noqa: F401  (GPT-3's 3.14e23 FLOP, datasets/models.csv)
from .core.plotting import LINESTYLES, PALETTE, log_axis, new_axes, no_minor_ticks
from .core.roofline import bound, ridge_point, roofline, roofline_time, training_time  # noqa: F401
from .core.trend import doubling_time, fit_trend  # noqa: F401
from .core.validate import (choice, finite_result, instance, integer, nonnegative, number, positive, records,
                            scalar_or_array, sequence, text)



# ---------------------------------------------------------------------------------------------
# Measuring this machine
# ---------------------------------------------------------------------------------------------
#: A measurement whose slowest repeat ran below this share of its fastest gets a warning.
STEADY_SHARE = 0.75


@dataclass(frozen=True)
class Measurement:
    """A measured rate: ``value`` is the best (fastest) of ``samples``, one per timed repeat.

    Best-of, not the median: other programs can only slow a repeat down, never speed it up, so the
    fastest repeat is the closest to what the machine can do. ``unit`` is "FLOP/s" or "B/s"; ``size``
    is the matrix order n or the array size in bytes; ``counted`` says what one repeat counts as work;
    ``seconds`` is the wall time spent, warm-up and sizing included; ``n_threads`` is how many threads
    ran (None: the library's default, every core). ``float(m)`` is the best rate.
    """
    value: float
    samples: np.ndarray
    size: int
    unit: str
    counted: str
    seconds: float
    n_threads: int = None

    def __float__(self):
        return float(self.value)

    @property
    def median(self):
        """The median rate of the repeats (FLOP/s or B/s)."""
        return float(np.median(self.samples))

    @property
    def steadiness(self):
        """Slowest repeat ÷ fastest, a fraction: 1.0 is perfectly steady, 0.11 means the slowest repeat
        ran at 11 % of the best one's speed (the machine was busy with something else)."""
        return float(self.samples.min() / self.samples.max())

    @property
    def spread(self):
        """(fastest − slowest) ÷ fastest, a fraction: 0 is perfectly steady."""
        return 1.0 - self.steadiness

    @property
    def warning(self):
        """A plain-words warning when the figure is shaky (a large spread, too few repeats), else ""."""
        if self.steadiness < STEADY_SHARE:
            return (f"noisy: the slowest repeat ran at {self.steadiness:.0%} of the fastest, so something else "
                    "was using the processor; the best repeat is reported (rerun when the machine is idle).")
        if len(self.samples) < 3:
            return (f"only {len(self.samples)} timed repeat(s) fitted in the time allowed: raise max_seconds "
                    "for a steadier figure.")
        return ""

    def __str__(self):
        text = u.fmt_flop_rate(self.value) if self.unit == "FLOP/s" else u.fmt_bandwidth(self.value)
        threads = "" if self.n_threads is None else f", {self.n_threads} thread{'s' if self.n_threads > 1 else ''}"
        line = (f"{text} (best of {len(self.samples)}, slowest {self.steadiness:.0%} of best, "
                f"size {self.size:,}{threads}; {self.counted})")
        return line + (f"\n    ⚠ {self.warning}" if self.warning else "")

    __repr__ = __str__


def _time_repeats(run, repeats, max_seconds, start=None, warm=False):
    """Seconds of each timed call of run() after one warm-up call (skipped when ``warm``); stops early
    past max_seconds from ``start`` (at least one timed repeat)."""
    start = time.perf_counter() if start is None else start
    if not warm:
        run()  # warm-up: caches, page faults, BLAS thread start-up
    durations = []
    while len(durations) < repeats:
        t0 = time.perf_counter()
        run()
        durations.append(max(time.perf_counter() - t0, 1e-9))
        if time.perf_counter() - start > max_seconds:
            break
    return np.array(durations), time.perf_counter() - start


def _check_repeats(repeats, max_seconds):
    repeats = integer("repeats", repeats, minimum=1, maximum=1000)
    max_seconds = positive("max_seconds", max_seconds, "s", maximum=3600.0)
    return repeats, max_seconds


# Matrix orders the automatic sizing picks from: the largest, 2048, holds three 32 MiB float64 matrices.
_MATMUL_SIZES = (128, 192, 256, 384, 512, 768, 1024, 1536, 2048)
# Environment variables the common BLAS libraries read at start-up for their thread count.
_THREAD_VARIABLES = ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS", "BLIS_NUM_THREADS",
                     "VECLIB_MAXIMUM_THREADS", "NUMEXPR_NUM_THREADS")


def _matmul_run(n, repeats, max_seconds, dtype):
    """Time n×n products in this process: {"n", "durations", "seconds"}. With n None, first times one
    256×256 product and picks the largest order in _MATMUL_SIZES whose repeats fill about half the
    budget (the rest absorbs the warm-up and a slow repeat)."""
    start = time.perf_counter()
    rng = np.random.default_rng(0)

    def product(order):
        a, b = (rng.random((order, order)).astype(dtype) for _ in range(2))
        c = np.empty((order, order), dtype=dtype)
        return lambda: np.matmul(a, b, out=c)

    warm, probe = False, None
    if n is None:
        probe = product(256)
        probe()  # the first call starts the BLAS threads and touches the pages: not timed
        t0 = time.perf_counter()
        probe()
        per_flop = (time.perf_counter() - t0) / (2.0 * 256**3)
        fits = [m for m in _MATMUL_SIZES if 2.0 * m**3 * per_flop * repeats <= 0.5 * max_seconds]
        n = fits[-1] if fits else _MATMUL_SIZES[0]
        warm = n == 256
    durations, spent = _time_repeats(probe if warm else product(n), repeats, max_seconds, start, warm)
    return {"n": int(n), "durations": durations.tolist(), "seconds": spent}


def _matmul_in_fresh_process(n, repeats, max_seconds, dtype, threads):
    """_matmul_run in a new Python process whose BLAS was told to use ``threads`` threads: the thread
    count is read once, when the library loads, so it cannot be changed portably inside this process."""
    import json
    import os
    import subprocess
    import sys
    from pathlib import Path
    env = dict(os.environ, **{name: str(threads) for name in _THREAD_VARIABLES})
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(Path(__file__).resolve().parents[1]),
                                                       env.get("PYTHONPATH")]))
    code = ("import json, sys; from labkit.hardware import _matmul_run; "
            "print(json.dumps(_matmul_run(*json.loads(sys.argv[1]))))")
    try:
        done = subprocess.run([sys.executable, "-c", code, json.dumps([n, repeats, max_seconds, dtype])],
                              env=env, capture_output=True, text=True, timeout=2 * max_seconds + 30)
        if done.returncode != 0:
            raise RuntimeError(done.stderr.strip().splitlines()[-1] if done.stderr.strip() else "no output")
        return json.loads(done.stdout.strip().splitlines()[-1])
    except (OSError, ValueError, IndexError, subprocess.SubprocessError, RuntimeError) as exc:
        raise RuntimeError(f"could not measure with {threads} BLAS thread(s) in a fresh Python process "
                           f"({type(exc).__name__}: {exc})") from None


def measure_matmul_flops(n=None, repeats=5, max_seconds=1.0, dtype="float64", n_threads=None):
    """This machine's matrix-multiply rate through numpy's BLAS: a :class:`Measurement` (best of the repeats).

    Counts 2·n³ FLOP per n×n product (n³ multiplies and n³ adds), times ``repeats`` products after a
    warm-up and keeps the fastest. ``n`` None picks the largest order (128 … 2048) whose repeats fill
    about half of ``max_seconds`` (s): big products run nearer the peak, and timing them dwarfs the
    noise. ``n_threads`` None lets the BLAS use every core, in this process; an integer (1 for a single
    core) measures in a fresh Python process started with OMP/OPENBLAS/MKL/BLIS_NUM_THREADS set to it
    (~0.2 s more), and raises RuntimeError if no such process can run here.
    """
    if n is not None:
        n = integer("n", n, minimum=1, maximum=_MATMUL_SIZES[-1])
    repeats, max_seconds = _check_repeats(repeats, max_seconds)
    dtype = choice("dtype", text("dtype", dtype), ("float64", "float32"))
    if n_threads is not None:
        n_threads = integer("n_threads", n_threads, minimum=1, maximum=1024)
    start = time.perf_counter()
    if n_threads is None:
        run = _matmul_run(n, repeats, max_seconds, dtype)
    else:
        run = _matmul_in_fresh_process(n, repeats, max_seconds, dtype, n_threads)
    order, samples = run["n"], 2.0 * run["n"] ** 3 / np.array(run["durations"])
    return Measurement(float(samples.max()), samples, order, "FLOP/s",
                       f"2·n³ FLOP per {order}×{order} {dtype} matrix product (numpy/BLAS)",
                       time.perf_counter() - start, n_threads)


def _python_matmul(a, b, n):
    c = [[0.0] * n for _ in range(n)]
    for i in range(n):
        ai, ci = a[i], c[i]
        for k in range(n):
            aik, bk = ai[k], b[k]
            for j in range(n):
                ci[j] += aik * bk[j]
    return c


def measure_python_flops(n=64, repeats=3, max_seconds=1.0):
    """The same matrix product written as three nested pure-Python loops: a :class:`Measurement` (best of
    the repeats).

    Counts 2·n³ FLOP per product (one multiply and one add in the inner loop). One core, no
    vector instructions, an interpreter step per FLOP pair: this is what numpy's BLAS saves you
    from. n=64 takes ~20–50 ms per product.
    """
    n = integer("n", n, minimum=1, maximum=512)
    repeats, max_seconds = _check_repeats(repeats, max_seconds)
    rng = np.random.default_rng(0)
    a, b = (rng.random((n, n)).tolist() for _ in range(2))
    durations, spent = _time_repeats(lambda: _python_matmul(a, b, n), repeats, max_seconds)
    samples = 2.0 * n**3 / durations
    return Measurement(float(samples.max()), samples, n, "FLOP/s",
                       f"2·n³ FLOP per {n}×{n} product in pure-Python loops", spent, 1)


def measure_memory_bandwidth(nbytes=64 * 2**20, repeats=5, max_seconds=1.0):
    """This machine's main-memory bandwidth from copying a large array: a :class:`Measurement` (best of
    the repeats).

    Copies an array of ``nbytes`` into another (numpy ``copyto``, one thread) and counts 2·nbytes per
    copy: every byte read once and written once, as the STREAM "copy" kernel counts. (Most CPUs also
    read each destination line before writing it, so the hardware moves up to 3·nbytes: the figure is a
    floor; and one thread may not saturate a server's many memory channels.) Keep ``nbytes`` well above
    the last-level cache (tens of MB) or you measure the cache.
    """
    nbytes = integer("nbytes", nbytes, minimum=8 * 1024, maximum=4 * 2**30)
    repeats, max_seconds = _check_repeats(repeats, max_seconds)
    src = np.ones(nbytes // 8)
    dst = np.zeros_like(src)
    durations, spent = _time_repeats(lambda: np.copyto(dst, src), repeats, max_seconds)
    samples = 2.0 * src.nbytes / durations
    return Measurement(float(samples.max()), samples, int(src.nbytes), "B/s",
                       f"2 × {u.fmt_bytes(src.nbytes)} per copy (read + write)", spent, 1)


def parallel_efficiency(all_threads_flops_per_s, one_thread_flops_per_s, n_threads):
    """How well ``n_threads`` cores share a job: the all-thread rate ÷ (n_threads × the one-thread rate),
    a fraction (1.0: perfect scaling). Rates in FLOP/s. Below 1 when the cores share a memory bus,
    caches, a power budget (clocks drop as more cores run) or another program's load."""
    all_rate = positive("all_threads_flops_per_s", all_threads_flops_per_s, "FLOP/s")
    one_rate = positive("one_thread_flops_per_s", one_thread_flops_per_s, "FLOP/s")
    n_threads = integer("n_threads", n_threads, minimum=1, maximum=1_000_000)
    return finite_result(all_rate / (n_threads * one_rate), "the efficiency", "all_threads_flops_per_s",
                         "one_thread_flops_per_s")


@dataclass(frozen=True)
class MachineMeasurement:
    """What :func:`measure_machine` found: matrix products on every core (``matmul``) and on one core
    (``matmul_one_thread``; None where no fresh Python process could run, ``note`` says why), the same
    arithmetic in Python loops (``python_loops``), a memory copy (``memory``), and ``n_threads``, the
    logical cores this process may run on (a BLAS told otherwise by OMP_NUM_THREADS uses that many). Every figure is a :class:`Measurement`, best of its repeats."""
    matmul: Measurement
    matmul_one_thread: Measurement
    python_loops: Measurement
    memory: Measurement
    n_threads: int
    note: str = ""

    @property
    def best_matmul(self):
        """The machine's matrix-multiply capability: the faster of the every-core and one-thread BLAS
        figures (a :class:`Measurement`). On a loaded machine every core can run slower than one."""
        one = self.matmul_one_thread
        return self.matmul if one is None or self.matmul.value >= one.value else one

    @property
    def blas_speedup(self):
        """The best BLAS rate ÷ Python loops: how much the library's use of the hardware is worth."""
        return self.best_matmul.value / self.python_loops.value

    @property
    def thread_speedup(self):
        """Every core ÷ one core, for the same BLAS product (None without a one-thread figure)."""
        return None if self.matmul_one_thread is None else self.matmul.value / self.matmul_one_thread.value

    @property
    def ridge_point(self):
        """This machine's ridge point: the best matmul rate ÷ the copy bandwidth, in FLOP/byte."""
        return ridge_point(self.best_matmul.value, self.memory.value)

    @property
    def warnings(self):
        """Every plain-words warning: each measurement's own, then any the comparison between them raises."""
        return [f"{name}: {m.warning}" for name, m in self._named() if m is not None and m.warning] + \
            self._comparison_warnings()

    def _comparison_warnings(self):
        one = self.matmul_one_thread
        if one is not None and self.matmul.value < one.value:
            return [f"every core ran slower than one ({u.fmt_flop_rate(self.matmul.value)} vs "
                    f"{u.fmt_flop_rate(one.value)}): other programs are competing for the cores. The "
                    "one-thread figure is used below as this machine's matrix-multiply rate."]
        return []

    def _named(self):
        return [("BLAS, every core", self.matmul), ("BLAS, one thread", self.matmul_one_thread),
                ("Python loops", self.python_loops), ("memory copy", self.memory)]

    def __str__(self):
        lines = [f"{name:17s} {m}" if m is not None else f"{name:17s} not measured ({self.note})"
                 for name, m in self._named()]
        lines.append(f"\nSame arithmetic, {self.blas_speedup:,.0f}× faster through BLAS than in Python loops "
                     f"({_factor_words(self.blas_speedup)}).")
        if self.thread_speedup is not None:
            efficiency = parallel_efficiency(self.matmul.value, self.matmul_one_thread.value, self.n_threads)
            lines.append(f"Every core ({self.n_threads} threads) vs one: {self.thread_speedup:.2g}× "
                         f"(parallel efficiency {efficiency:.0%}).")
        lines.append(f"Ridge point of this machine: {self.ridge_point:.1f} FLOP/byte "
                     "(best matmul rate ÷ copy bandwidth).")
        lines += [f"⚠ {w}" for w in self._comparison_warnings()]
        return "\n".join(lines)

    __repr__ = __str__


def _factor_words(factor):
    """A factor in words a sentence can use: "thousands of times", "hundreds of times", ..."""
    for threshold, words in ((1e6, "millions of times"), (1e3, "thousands of times"), (1e2, "hundreds of times"),
                             (10.0, "tens of times")):
        if factor >= threshold:
            return words
    return f"{factor:.1f} times" if factor >= 1 else f"{1 / factor:.1f} times slower"


def measure_machine(max_seconds=2.0):
    """Measure this machine in about ``max_seconds`` (s): BLAS matrix products on every core and on one
    (in a fresh process), the same arithmetic in Python loops, and a memory copy. Returns a
    :class:`MachineMeasurement`; each figure is the best of its repeats, with a warning in plain words
    when its repeats disagree. A one-thread figure that cannot be measured here (no subprocesses, as in a
    browser-only Python) is None, with the reason in ``note``."""
    import os
    max_seconds = positive("max_seconds", max_seconds, "s", maximum=600.0)
    matmul = measure_matmul_flops(max_seconds=0.3 * max_seconds)
    one, note = None, ""
    try:
        one = measure_matmul_flops(max_seconds=0.25 * max_seconds, n_threads=1)
    except RuntimeError as exc:
        note = str(exc)
    python_loops = measure_python_flops(n=48, repeats=3, max_seconds=0.15 * max_seconds)
    memory = measure_memory_bandwidth(repeats=5, max_seconds=0.2 * max_seconds)
    cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else (os.cpu_count() or 1)
    return MachineMeasurement(matmul, one, python_loops, memory, cores, note)


# ---------------------------------------------------------------------------------------------
# Fifty years of computers (the table: load_hardware, device, Device and KINDS from labkit.core.devices)
# ---------------------------------------------------------------------------------------------
def load_algorithms():
    """``datasets/algorithms.csv``: when machine-learning ideas were first published."""
    from . import data
    return data.load("algorithms")


def _table(name, table, loader, columns):
    """``table`` (a :class:`labkit.data.Table` holding ``columns``), or ``loader()`` when it is None."""
    if table is None:
        return loader()
    from .data import Table
    instance(name, table, Table, f"a labkit.data.Table (e.g. from {loader.__name__}()) or None")
    missing = [c for c in columns if c not in table.column_names]
    if missing:
        raise ValueError(f"{name} has no column {', '.join(missing)}; it needs {', '.join(columns)}")
    return table


def top500_leader_until(linpack_flops_per_s, table=None):
    """The last year in hardware.csv whose Top500 #1 ran LINPACK no faster than ``linpack_flops_per_s``
    (FLOP/s, a measured LINPACK rate): until then a machine of that speed would have led the list. None
    if it is slower than the first list's #1 (CM-5/1024, 59.7 GFLOP/s, June 1993)."""
    rate = positive("linpack_flops_per_s", linpack_flops_per_s, "FLOP/s")
    table = _table("table", table, load_hardware, ("year", "linpack_flops_per_s"))
    rmax = table["linpack_flops_per_s"]
    led = table["year"][~np.isnan(rmax) & (rmax <= rate)]
    return int(led.max()) if led.size else None


def compare_with_history(measured, table=None):
    """Where a measured matrix-multiply rate (FLOP/s, a :class:`Measurement`, or a
    :class:`MachineMeasurement`, whose best BLAS rate is used) stands among the
    machines of hardware.csv, in sentences computed from it: its multiple of the Cray-1's peak, and
    whether (and until when) it would have topped the Top500 list. The list ranks by LINPACK (Rmax),
    which is mostly large matrix products, so a BLAS matmul rate is a fair, slightly generous, stand-in.
    Returns one string, a sentence a line."""
    rate = _measured_rate(measured)
    table = _table("table", table, load_hardware, ("name", "year", "peak_flops_per_s", "linpack_flops_per_s"))
    cray = device("Cray-1", table)
    times = rate / cray.peak_flops_per_s
    lines = [f"Your machine's BLAS rate, {u.fmt_flop_rate(rate)}, is " +
             (f"{times:,.0f}× the Cray-1's peak ({u.fmt_flop_rate(cray.peak_flops_per_s)}, {cray.year})."
              if times >= 1 else f"{1 / times:.1f}× below the Cray-1's peak "
                                 f"({u.fmt_flop_rate(cray.peak_flops_per_s)}, {cray.year}).")]
    rmax = table["linpack_flops_per_s"]
    listed = ~np.isnan(rmax)
    order = np.lexsort((rmax[listed], table["year"][listed]))
    names, years, rates = (np.asarray(table[c])[listed][order] for c in ("name", "year", "linpack_flops_per_s"))
    beaten = rates <= rate
    if not beaten.any():
        lines.append(f"It would not have topped even the first Top500 list: {names[0]} ran LINPACK at "
                     f"{u.fmt_flop_rate(rates[0])} in {int(years[0])}.")
    elif beaten.all():
        lines.append(f"It beats every Top500 #1 in hardware.csv, up to {names[-1]} ({u.fmt_flop_rate(rates[-1])}, "
                     f"{int(years[-1])}).")
    else:
        last = int(np.flatnonzero(beaten).max())
        later = np.flatnonzero(~beaten & (np.arange(len(rates)) > last))
        first_faster = int(later[0]) if later.size else int(np.flatnonzero(~beaten)[0])
        lines.append(f"It would have topped the Top500 list until {int(years[last])}: faster than the LINPACK "
                     f"speed of {names[last]}, {u.fmt_flop_rate(rates[last])}; slower than {names[first_faster]}, "
                     f"{u.fmt_flop_rate(rates[first_faster])} ({int(years[first_faster])}).")
    return "\n".join(lines)


# ---------------------------------------------------------------------------------------------
# The roofline model
# ---------------------------------------------------------------------------------------------
# Bounds that keep every count finite: a matrix side up to 10^15, 10^18 elements, 64-byte elements.
_MAX_SIDE, _MAX_ELEMENTS, _MAX_ELEMENT_BYTES = 1e15, 1e18, 64


def _sides(m, n, k):
    return tuple(positive(name, v, "elements", array=True, maximum=_MAX_SIDE)
                 for name, v in (("m", m), ("n", n), ("k", k)))


def matmul_flops(m, n, k):
    """FLOP of an (m×k)·(k×n) matrix product: 2·m·n·k (one multiply and one add per term)."""
    m, n, k = _sides(m, n, k)
    return 2.0 * m * n * k


def matmul_bytes(m, n, k, bytes_per_element=2):
    """Bytes an (m×k)·(k×n) product must move at least: read A and B once, write C once."""
    m, n, k = _sides(m, n, k)
    b = positive("bytes_per_element", bytes_per_element, "bytes", maximum=_MAX_ELEMENT_BYTES)
    return (np.multiply(m, k) + np.multiply(k, n) + np.multiply(m, n)) * b


def elementwise_flops(n_elements, flops_per_element=1):
    """FLOP of an element-wise operation (an add: 1 per element; a GELU or softmax: a handful)."""
    n_elements = nonnegative("n_elements", n_elements, "elements", array=True, maximum=_MAX_ELEMENTS)
    return n_elements * positive("flops_per_element", flops_per_element, "FLOP", maximum=1e6)


def elementwise_bytes(n_elements, bytes_per_element=2, n_inputs=2, n_outputs=1):
    """Bytes an element-wise operation moves: each input read once, each output written once."""
    n_elements = nonnegative("n_elements", n_elements, "elements", array=True, maximum=_MAX_ELEMENTS)
    b = positive("bytes_per_element", bytes_per_element, "bytes", maximum=_MAX_ELEMENT_BYTES)
    n_inputs = integer("n_inputs", n_inputs, minimum=0, maximum=1000)
    n_outputs = integer("n_outputs", n_outputs, minimum=1, maximum=1000)
    return n_elements * (n_inputs + n_outputs) * b


def arithmetic_intensity(flops, nbytes):
    """FLOP per byte moved to or from memory: how much work each byte pays for."""
    flops = nonnegative("flops", flops, "FLOP", array=True)
    nbytes = positive("nbytes", nbytes, "bytes", array=True)
    with np.errstate(over="ignore"):
        out = np.divide(flops, nbytes)
    return scalar_or_array(finite_result(out, "the intensity", "flops", "nbytes"))


# roofline, ridge_point, bound, roofline_time and training_time are labkit.core.roofline's, imported above.


# ---------------------------------------------------------------------------------------------
# Decoding a language model: what batching helps, and what it cannot
# ---------------------------------------------------------------------------------------------
def weight_matmul_intensity(batch_size, d_in, d_out, bytes_per_element=2):
    """FLOP/byte of multiplying ``batch_size`` token vectors by one (d_in × d_out) weight matrix, as a
    decode step does in every projection and MLP: 2·B·d_in·d_out FLOP over (d_in·d_out + B·d_in +
    B·d_out) elements moved (the weights read once for the whole batch, inputs read, outputs written).
    ≈ 2·B / bytes_per_element while B ≪ d: batching raises it. Accepts arrays for ``batch_size``."""
    b = positive("batch_size", batch_size, "sequences", array=True, maximum=1e9)
    d_in = positive("d_in", d_in, "elements", maximum=1e7)
    d_out = positive("d_out", d_out, "elements", maximum=1e7)
    e = positive("bytes_per_element", bytes_per_element, "bytes", maximum=_MAX_ELEMENT_BYTES)
    flops = 2.0 * b * d_in * d_out
    nbytes = (d_in * d_out + b * d_in + b * d_out) * e
    return scalar_or_array(finite_result(flops / nbytes, "the intensity", "batch_size", "d_in", "d_out"))


def attention_intensity(batch_size, seq_len, n_heads, n_kv_heads, n_new_tokens=1, bytes_per_element=2):
    """FLOP/byte of dot-product attention for ``n_new_tokens`` new tokens per sequence over ``seq_len``
    cached ones, fused as FlashAttention does (the scores never go to memory). Per sequence and layer:
    4·T·S·N·h FLOP (Q·Kᵀ and the weighted sum of V, N query heads of size h) over (2·S·K·h + 2·T·N·h)
    elements (its own K and V cache with K key/value heads; Q read and the output written). The head
    size and the batch cancel: intensity = 2·T·S·N / (bytes_per_element · (S·K + T·N)). Decoding
    (T = 1) gives ≈ 2·N / (bytes_per_element · K), about 1 in bf16 without grouped-query attention:
    every sequence reads its own KV cache, so batching adds bytes as fast as FLOP and the intensity does
    not move (Austin et al., "How to Scale Your Model", inference chapter). Accepts arrays for
    ``batch_size`` and ``seq_len``."""
    b = positive("batch_size", batch_size, "sequences", array=True, maximum=1e9)
    s = positive("seq_len", seq_len, "tokens", array=True, maximum=1e9)
    n_heads = integer("n_heads", n_heads, minimum=1, maximum=1_000_000)
    n_kv_heads = integer("n_kv_heads", n_kv_heads, minimum=1, maximum=n_heads)
    t = positive("n_new_tokens", n_new_tokens, "tokens", maximum=1e9)
    e = positive("bytes_per_element", bytes_per_element, "bytes", maximum=_MAX_ELEMENT_BYTES)
    flops = 4.0 * b * t * s * n_heads
    nbytes = e * b * (2.0 * s * n_kv_heads + 2.0 * t * n_heads)
    return scalar_or_array(finite_result(flops / nbytes, "the intensity", "batch_size", "seq_len", "n_new_tokens"))


def plot_decode_intensity(ax=None, batch_sizes=(1, 4096), seq_len=8192, d_model=8192, n_heads=64, n_kv_heads=8,
                          machines=(), bytes_per_element=2):
    """Intensity (FLOP/byte) of one decode step's weight matmuls (a d_model × d_model projection) and of
    its attention, against the batch size, on log-log axes, with each machine's ridge point [(label,
    peak_flops_per_s, bandwidth_bytes_per_s), ...] as a horizontal line: the matmuls climb past the ridge
    as the batch grows; attention stays flat. Defaults: a Llama-2-70B-like layer (d_model 8,192, 64 query
    heads, 8 key/value heads) at 8,192 tokens of context, bf16."""
    fig, ax = new_axes(ax, figsize=(7.5, 4.5))
    span = sequence("batch_sizes", batch_sizes, minimum=2, maximum=2)
    lo, hi = (positive("batch_sizes", v, "sequences", maximum=1e9) for v in span)
    if not lo < hi:
        raise ValueError(f"batch_sizes must be (smallest, largest) with smallest < largest, got {batch_sizes!r}")
    machines = records("machines", machines, _ROOFLINE_FIELDS)
    d_model = positive("d_model", d_model, "elements", maximum=1e7)
    seq_len = positive("seq_len", seq_len, "tokens", maximum=1e9)
    batch = np.unique(np.round(np.logspace(np.log10(lo), np.log10(hi), 60)))
    ax.plot(batch, weight_matmul_intensity(batch, d_model, d_model, bytes_per_element), color="C0", ls="-", lw=2,
            label="weight matmuls (the weights are read once for the whole batch)")
    ax.plot(batch, np.broadcast_to(attention_intensity(batch, seq_len, n_heads, n_kv_heads,
                                                       bytes_per_element=bytes_per_element), batch.shape),
            color="C3", ls="-.", lw=2, label=f"attention ({n_heads} query / {n_kv_heads} KV heads, {int(seq_len):,} "
                                     "tokens: each sequence reads its own KV cache)")
    for i, (label, peak, bw) in enumerate(machines):
        ax.axhline(ridge_point(peak, bw), color="grey", ls="--", lw=1)
        ax.text(lo, ridge_point(peak, bw), f" {label} ridge {ridge_point(peak, bw):.0f}", fontsize=7, va="bottom")
    log_axis(ax, "both")
    ax.set(xlabel="decode batch size (sequences)", ylabel="arithmetic intensity (FLOP per byte)",
           title="Batching lifts the weight matmuls, not attention")
    ax.grid(True, which="major", alpha=0.3)
    ax.legend(fontsize=7, loc="upper left")
    return fig


# ---------------------------------------------------------------------------------------------
# Plots (each returns its Figure; pass ax to draw into your own)
# ---------------------------------------------------------------------------------------------
_STYLE = {"supercomputer": ("s", "C0", "supercomputers (Top500 #1, fp64)"),
          "cpu": ("o", "C2", "CPUs (fp64)"),
          "gpu": ("^", "C3", "GPUs (fp32, then fp16/bf16 tensor cores)"),
          "accelerator": ("D", "C4", "TPUs (bf16)")}
# TPU v1 counts 8-bit integer operations, not floating-point ones: plotted hollow, labelled, never fitted.
_INTEGER_LABEL = "TPU v1: int8 operations/s, not FLOP (hollow; left out of fits)"
_LABELLED = ("Cray-1", "CM-5/1024 (Los Alamos)", "ASCI Red (Sandia)", "Roadrunner (Los Alamos)",
             "El Capitan (LLNL)", "Intel Pentium 66 MHz", "AMD EPYC 9654", "NVIDIA GeForce 8800 GTX",
             "NVIDIA GeForce GTX 580", "NVIDIA H100 SXM", "NVIDIA B200", "Google TPU v1")


def _integer_ops(table):
    """True for the rows whose peak counts integer operations (precision "int8"), not FLOP."""
    if "precision" not in table.column_names:
        return np.zeros(len(table), dtype=bool)
    return np.array([str(p).startswith("int") for p in table["precision"]], dtype=bool)


def _scatter_kinds(ax, table, y):
    """Each kind's rows at (year, y), floating-point rows filled, integer-operation rows hollow."""
    integer_rows = _integer_ops(table)
    for kind, (marker, colour, name) in _STYLE.items():
        rows = np.asarray(table["kind"]) == kind
        if np.any(rows & ~integer_rows):
            ax.scatter(table["year"][rows & ~integer_rows], y[rows & ~integer_rows], marker=marker, color=colour,
                       label=name, s=28, zorder=3)
        if np.any(rows & integer_rows):
            ax.scatter(table["year"][rows & integer_rows], y[rows & integer_rows], marker=marker, s=28, zorder=3,
                       facecolors="none", edgecolors=colour, label=_INTEGER_LABEL)


def _measured_rate(measured):
    """A rate in FLOP/s from a number, a :class:`Measurement` or a :class:`MachineMeasurement` (its best
    matrix-multiply rate)."""
    if isinstance(measured, MachineMeasurement):
        measured = measured.best_matmul
    value = measured.value if isinstance(measured, Measurement) else measured
    return positive("measured", value, "FLOP/s")


def _names(name, value):
    items = sequence(name, value, minimum=0, maximum=1000)
    for item in items:
        if not isinstance(item, str):
            raise TypeError(f"{name} must be a list of machine names (strings), got {item!r} in it")
    return items


def plot_hardware(ax=None, table=None, measured=None, measured_year=None, trend_kind="supercomputer",
                  label=_LABELLED):
    """Peak FLOP/s of every machine in hardware.csv against its year, on a log scale.

    ``measured`` (FLOP/s or a :class:`Measurement`) is drawn as a star at ``measured_year`` (this
    year by default); ``trend_kind`` (one of :data:`KINDS`) adds a fitted doubling-time line for that
    kind; ``"none"`` draws no fit. Rows counting integer operations (TPU v1's int8) are drawn hollow,
    labelled "int8 OPS", and left out of the fit.
    """
    fig, ax = new_axes(ax, figsize=(8, 4.8))
    table = _table("table", table, load_hardware, ("name", "year", "kind", "peak_flops_per_s"))
    label = _names("label", label)
    trend_kind = choice("trend_kind", text("trend_kind", trend_kind), (*KINDS, "none"))
    if measured is not None:
        measured = _measured_rate(measured)
    year = time.localtime().tm_year if measured_year is None else \
        number("measured_year", measured_year, "year", minimum=1900, maximum=2200)
    _scatter_kinds(ax, table, table["peak_flops_per_s"])
    integer_rows = _integer_ops(table)
    for row, integer_row in zip(table.rows(), integer_rows):
        if row["name"] in label:
            ax.annotate(row["name"].split(" (")[0] + (" (int8 OPS)" if integer_row else ""),
                        (row["year"], row["peak_flops_per_s"]), fontsize=7, xytext=(4, -9), textcoords="offset points")
    if trend_kind != "none":
        rows = table.where(~integer_rows, kind=trend_kind)
        fit = fit_trend(rows["year"], rows["peak_flops_per_s"])
        years = np.linspace(rows["year"].min(), rows["year"].max(), 50)
        ax.plot(years, fit.predict(years), ls="--", color=_STYLE[trend_kind][1], lw=1,
                label=f"fit: doubles every {fit.doubling_years:.2f} years")
    if measured is not None:
        ax.scatter([year], [measured], marker="*", s=220, color=PALETTE[7],   # Okabe–Ito yellow
                   edgecolor="black", zorder=4, label=f"your machine: {u.fmt_flop_rate(measured)}")
    log_axis(ax, "y")
    ax.set(xlabel="year", ylabel="peak FLOP/s (dense)", title="Fifty years of peak compute")
    ax.grid(True, which="major", alpha=0.3)
    ax.legend(fontsize=7, loc="upper left")
    return fig


def plot_ridge_history(ax=None, table=None):
    """Ridge point (peak FLOP/s ÷ memory bandwidth) of each machine with a known bandwidth, by year
    (TPU v1's, in int8 operations per byte, hollow)."""
    fig, ax = new_axes(ax, figsize=(7, 4))
    table = _table("table", table, load_hardware, ("year", "kind", "peak_flops_per_s", "bandwidth_bytes_per_s"))
    known = table.where(~np.isnan(table["bandwidth_bytes_per_s"]))
    _scatter_kinds(ax, known, ridge_point(known["peak_flops_per_s"], known["bandwidth_bytes_per_s"]))
    log_axis(ax, "y")
    ax.set(xlabel="year", ylabel="ridge point (FLOP, or int8 operations, per byte)",
           title="Compute grew faster than memory bandwidth")
    ax.grid(True, which="major", alpha=0.3)
    ax.legend(fontsize=7, loc="upper left")
    return fig


_ROOFLINE_FIELDS = [("label", text), ("peak_flops_per_s", lambda n, v: positive(n, v, "FLOP/s")),
                   ("bandwidth_bytes_per_s", lambda n, v: positive(n, v, "bytes/s"))]
_OPERATION_FIELDS = [("label", text), ("intensity", lambda n, v: positive(n, v, "FLOP/byte"))]


def plot_roofline(ax=None, machines=(), operations=(), intensity_range=(1e-2, 1e4)):
    """Rooflines of ``machines`` [(label, peak_flops_per_s, bandwidth_bytes_per_s), ...] on log-log axes,
    with ``operations`` [(label, intensity FLOP/byte), ...] placed on each roof, over ``intensity_range``
    (FLOP/byte, low and high)."""
    fig, ax = new_axes(ax, figsize=(8, 4.8))
    machines = records("machines", machines, _ROOFLINE_FIELDS)
    operations = records("operations", operations, _OPERATION_FIELDS)
    span = sequence("intensity_range", intensity_range, minimum=2, maximum=2)
    lo, hi = (positive("intensity_range", v, "FLOP/byte") for v in span)
    if not lo < hi:
        raise ValueError(f"intensity_range must be (low, high) with low < high, got {intensity_range!r}")
    x = np.logspace(np.log10(lo), np.log10(hi), 200)
    for i, (label, peak, bw) in enumerate(machines):
        ax.plot(x, roofline(peak, bw, x), color=f"C{i}", ls=LINESTYLES[i % len(LINESTYLES)], lw=2,
                label=f"{label}: ridge {ridge_point(peak, bw):.3g} FLOP/B")
    for j, (_, intensity) in enumerate(operations):
        ax.scatter([intensity] * len(machines), [roofline(p, b, intensity) for _, p, b in machines],
                   marker="os^vDP"[j % 6], color="black", s=25, zorder=4)
    from matplotlib.transforms import blended_transform_factory
    band = blended_transform_factory(ax.transData, ax.transAxes)
    for j, (label, intensity) in enumerate(operations):
        ax.axvline(intensity, color="grey", lw=0.6, ls=":")
        ax.text(intensity, 0.02, f" {label}", rotation=90, fontsize=7, va="bottom", ha="right",
                transform=band)
    log_axis(ax, "both")
    ax.set(xlabel="arithmetic intensity (FLOP per byte)", ylabel="attainable FLOP/s",
           title="Roofline: attainable = min(peak, bandwidth × intensity)")
    ax.grid(True, which="major", alpha=0.3)
    if machines:
        ax.legend(fontsize=7, loc="upper left")
    return fig


def plot_algorithms(ax=None, algorithms=None, hardware=None):
    """When ML ideas were published (the timeline along the bottom) against the fastest machine of
    each year (the record peak FLOP/s in hardware.csv): the algorithms are old, the infrastructure new."""
    from matplotlib.transforms import blended_transform_factory
    fig, ax = new_axes(ax, figsize=(9, 5))
    algorithms = _table("algorithms", algorithms, load_algorithms, ("name", "year"))
    hardware = _table("hardware", hardware, load_hardware, ("year", "peak_flops_per_s"))
    hardware = hardware.where(~_integer_ops(hardware))  # FLOP/s only: TPU v1's int8 operations are not FLOP
    order = np.argsort(hardware["year"], kind="stable")
    years, peaks = hardware["year"][order], np.maximum.accumulate(hardware["peak_flops_per_s"][order])
    ax.step(years, peaks, where="post", color="C0", lw=2, label="fastest machine in hardware.csv (peak FLOP/s)")
    ax.set_yscale("log")
    ax.set_ylim(1e-3, peaks.max() * 30)  # the lower half of the axes holds the timeline
    ax.set_yticks([1e6, 1e9, 1e12, 1e15, 1e18])
    no_minor_ticks(ax, x=False)
    ax.set_xlim(min(algorithms["year"].min(), years.min()) - 3, max(years.max(), algorithms["year"].max()) + 8)
    band = blended_transform_factory(ax.transData, ax.transAxes)
    ax.axhline(1e6, color="grey", lw=0.5)
    rows = algorithms.sort("year")
    levels = 0.03 + 0.04 * (np.arange(len(rows)) % 10)
    ax.vlines(rows["year"], 0, levels, color="C3", lw=0.8, transform=band)
    ax.scatter(rows["year"], levels, color="C3", s=8, transform=band)
    for year, name, level in zip(rows["year"], rows["name"], levels):
        ax.text(year, level, f" {name} ({int(year)})", fontsize=7, transform=band, va="center", ha="left",
                color="C3")
    ax.set(xlabel="year", ylabel="peak FLOP/s of the fastest machine",
           title="The algorithms are old; the infrastructure is new")
    ax.grid(True, which="major", axis="x", alpha=0.3)
    ax.legend(fontsize=7, loc="upper left")
    return fig


# ---------------------------------------------------------------------------------------------
# Explorer
# ---------------------------------------------------------------------------------------------
OPERATIONS = {
    "matmul n×n×n": lambda n, b: (matmul_flops(n, n, n), matmul_bytes(n, n, n, b)),
    "matrix × vector (n×n)": lambda n, b: (2.0 * n * n, (n * n + 2 * n) * b),
    "element-wise add (n² elements)": lambda n, b: (elementwise_flops(n * n), elementwise_bytes(n * n, b)),
    "softmax-like (n², ~5 FLOP each)": lambda n, b: (elementwise_flops(n * n, 5),
                                                      elementwise_bytes(n * n, b, n_inputs=1)),
}
PRECISIONS = {"fp32 (4 B)": 4, "bf16 (2 B)": 2, "fp8 (1 B)": 1}


def operation_intensity(operation, n, bytes_per_element=2):
    """Arithmetic intensity (FLOP/byte) of one of :data:`OPERATIONS` at size ``n`` (see its label)."""
    operation = choice("operation", text("operation", operation), tuple(OPERATIONS))
    n = positive("n", n, "elements", maximum=1e9)
    b = positive("bytes_per_element", bytes_per_element, "bytes", maximum=_MAX_ELEMENT_BYTES)
    flops, nbytes = OPERATIONS[operation](n, b)
    return float(flops / nbytes)


# Fixed axes of the explorer, wide enough for every slider and dropdown position: a slider move then
# only moves three lines and a title, never the ticks, labels or grid.
_EXPLORER_X = (1e-2, 1e5)    # FLOP/byte: element-wise fp32 (1/12) … matmul n=65536 fp8 (~44,000)
_EXPLORER_Y = (1e6, 3e16)    # FLOP/s: 1 GB/s × 0.01 FLOP/B = 10 MFLOP/s … 10 PFLOP/s peak
_EXPLORER_XTICKS = {1e-2: "0.01", 1e-1: "0.1", 1.0: "1", 10.0: "10", 1e2: "100", 1e3: "1k",
                    1e4: "10k", 1e5: "100k"}
_EXPLORER_YTICKS = {1e6: "1 M", 1e8: "100 M", 1e10: "10 G", 1e12: "1 T", 1e14: "100 T", 1e16: "10 P"}
# The explorer's slider ranges: peak FLOP/s, bandwidth (bytes/s) and the size n.
_PEAK_RANGE, _BANDWIDTH_RANGE, _N_RANGE = (1e9, 1e16), (1e9, 1e13), (16, 65536)


def _build_roofline(fig):
    """The explorer's fixed axes, labels and key, and its empty moving artists."""
    ax = fig.add_subplot()
    log_axis(ax, "x", ticks=_EXPLORER_XTICKS)
    log_axis(ax, "y", ticks=_EXPLORER_YTICKS)
    ax.set_xlim(*_EXPLORER_X)
    ax.set_ylim(*_EXPLORER_Y)
    ax.set(xlabel="arithmetic intensity (FLOP per byte)", ylabel="attainable FLOP/s")
    ax.grid(True, alpha=0.3)
    ax.text(0.99, 0.03, "● memory-bound", color="C3", ha="right", fontsize=8, transform=ax.transAxes)
    ax.text(0.99, 0.09, "■ compute-bound", color="C2", ha="right", fontsize=8, transform=ax.transAxes)
    return {"roof": ax.plot([], [], color="C0", lw=2)[0],
            "ridge": ax.plot([], [], color="C0", ls=":", lw=1)[0],
            "point": ax.plot([], [], "o", ms=8)[0],
            "title": ax.set_title(" ", y=1.01)}  # a fixed position: no layout of the axis per move


def _update_roofline(h, peak_flops_per_s, bandwidth_bytes_per_s, operation, n, precision):
    """One roofline, its ridge, and the chosen operation on it (a red circle when memory-bound, a green
    square when compute-bound); returns the readout."""
    flops, nbytes = OPERATIONS[operation](float(n), PRECISIONS[precision])
    intensity = flops / nbytes
    attainable = roofline(peak_flops_per_s, bandwidth_bytes_per_s, intensity)
    ridge = ridge_point(peak_flops_per_s, bandwidth_bytes_per_s)
    kind = bound(intensity, peak_flops_per_s, bandwidth_bytes_per_s)
    x = np.array([_EXPLORER_X[0], min(max(ridge, _EXPLORER_X[0]), _EXPLORER_X[1]), _EXPLORER_X[1]])
    h["roof"].set_data(x, roofline(peak_flops_per_s, bandwidth_bytes_per_s, x))
    h["ridge"].set_data([ridge, ridge], [_EXPLORER_Y[0], peak_flops_per_s])
    h["point"].set_data([intensity], [attainable])
    h["point"].set_color("C3" if kind == "memory" else "C2")
    h["point"].set_marker("o" if kind == "memory" else "s")
    h["title"].set_text(f"{operation}, n = {int(n):,}, {precision}")
    seconds = roofline_time(flops, nbytes, peak_flops_per_s, bandwidth_bytes_per_s)
    return (f"intensity {intensity:.3g} FLOP/B vs ridge {ridge:.3g} FLOP/B → {kind}-bound; "
            f"attainable {u.fmt_flop_rate(attainable)} ({attainable / peak_flops_per_s:.1%} of peak); "
            f"{u.fmt_flops(flops)} and {u.fmt_bytes(nbytes)} take ≥ {u.fmt_seconds(seconds)}")


def roofline_explorer(peak_flops_per_s=None, bandwidth_bytes_per_s=None, operation="matmul n×n×n", n=1024,
                      precision="bf16 (2 B)"):
    """An explorer: sliders for peak FLOP/s, memory bandwidth (bytes/s) and operation size on one roofline.

    Defaults (None) are the A100's datasheet row in hardware.csv (312 TFLOP/s dense BF16, 2,039 GB/s).
    Peak from 10⁹ to 10¹⁶ FLOP/s, bandwidth from 10⁹ to 10¹³ bytes/s, n from 16 to 65,536. Shows a
    static plot where widgets cannot render.
    """
    from .core.devices import datasheet
    from .core.explore import dropdown, explorer, slider
    a100 = datasheet("A100")
    peak = number("peak_flops_per_s", a100.peak_flops_per_s if peak_flops_per_s is None else peak_flops_per_s,
                  "FLOP/s", minimum=_PEAK_RANGE[0], maximum=_PEAK_RANGE[1])
    bw = number("bandwidth_bytes_per_s",
                a100.bandwidth_bytes_per_s if bandwidth_bytes_per_s is None else bandwidth_bytes_per_s,
                "bytes/s", minimum=_BANDWIDTH_RANGE[0], maximum=_BANDWIDTH_RANGE[1])
    operation = choice("operation", text("operation", operation), tuple(OPERATIONS))
    precision = choice("precision", text("precision", precision), tuple(PRECISIONS))
    n = integer("n", n, minimum=_N_RANGE[0], maximum=_N_RANGE[1])
    return explorer(_build_roofline, _update_roofline,
                    title="Roofline explorer: is it compute- or memory-bound?",
                    peak_flops_per_s=slider(peak, *_PEAK_RANGE, None, "peak FLOP/s", log=True),
                    bandwidth_bytes_per_s=slider(bw, *_BANDWIDTH_RANGE, None, "bandwidth B/s", log=True),
                    operation=dropdown(operation, list(OPERATIONS), "operation"),
                    n=slider(n, *_N_RANGE, None, "size n", log=True),
                    precision=dropdown(precision, list(PRECISIONS), "precision"))
