"""Chapter 01 — the CPU era and the move to accelerators.

Measure this machine, place it on fifty years of computers (``datasets/hardware.csv``), fit a
doubling time, and use the roofline model to see why accelerators won and why moving data, not
arithmetic, now limits most operations.

SI units in and out: FLOP, FLOP/s, bytes, bytes/s, seconds, watts. FLOPs are dense: a multiply
and an add are two FLOP; a matrix product of (m×k)·(k×n) is 2·m·n·k FLOP.
"""

import functools
import math
import time
from dataclasses import dataclass

import numpy as np

from . import units as u
from .core.validate import choice, fraction, integer, nonnegative, number, positive

GPT3_TRAINING_FLOP = 3.14e23
"""GPT-3 175B's training compute: Brown et al. 2020, "Language Models are Few-Shot Learners", Table D.1."""

KINDS = ("cpu", "gpu", "accelerator", "supercomputer")


# ---------------------------------------------------------------------------------------------
# Measuring this machine
# ---------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class Measurement:
    """A measured rate: ``value`` is the median of ``samples`` (one per timed repeat).

    ``unit`` is "FLOP/s" or "B/s"; ``size`` is the matrix order n or the array size in bytes;
    ``counted`` says what one repeat counts as work; ``seconds`` is the wall time spent, warm-up
    included. ``float(m)`` is the median.
    """
    value: float
    samples: np.ndarray
    size: int
    unit: str
    counted: str
    seconds: float

    def __float__(self):
        return float(self.value)

    @property
    def spread(self):
        """(fastest − slowest) / median of the samples: how noisy the measurement was."""
        return float((self.samples.max() - self.samples.min()) / self.value)

    def __str__(self):
        text = u.fmt_flop_rate(self.value) if self.unit == "FLOP/s" else u.fmt_bandwidth(self.value)
        return (f"{text} (median of {len(self.samples)}, spread ±{self.spread / 2:.0%}, "
                f"size {self.size:,}; {self.counted})")

    __repr__ = __str__


def _time_repeats(run, repeats, max_seconds):
    """Seconds of each timed call of run() after one warm-up call; stops early past max_seconds."""
    start = time.perf_counter()
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
    max_seconds = positive("max_seconds", max_seconds, "s")
    return repeats, max_seconds


def measure_matmul_flops(n=512, repeats=5, max_seconds=1.0, dtype="float64"):
    """This machine's matrix-multiply rate through numpy (its BLAS, all cores): a :class:`Measurement`.

    Counts 2·n³ FLOP per n×n product (n³ multiplies and n³ adds, the usual convention), times
    ``repeats`` products after one warm-up and returns the median FLOP/s. Stops early once
    ``max_seconds`` have passed (at least one timed repeat). n=512 in float64 takes ~20 ms per
    product on a 2-core laptop.
    """
    n = integer("n", n, minimum=1, maximum=8192)
    repeats, max_seconds = _check_repeats(repeats, max_seconds)
    dtype = choice("dtype", dtype, ("float64", "float32"))
    rng = np.random.default_rng(0)
    a, b = (rng.random((n, n)).astype(dtype) for _ in range(2))
    c = np.empty((n, n), dtype=dtype)
    durations, spent = _time_repeats(lambda: np.matmul(a, b, out=c), repeats, max_seconds)
    samples = 2.0 * n**3 / durations
    return Measurement(float(np.median(samples)), samples, n, "FLOP/s",
                       f"2·n³ FLOP per {n}×{n} {dtype} matrix product (numpy/BLAS)", spent)


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
    """The same matrix product written as three nested pure-Python loops: a :class:`Measurement`.

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
    return Measurement(float(np.median(samples)), samples, n, "FLOP/s",
                       f"2·n³ FLOP per {n}×{n} product in pure-Python loops", spent)


def measure_memory_bandwidth(nbytes=64 * 2**20, repeats=5, max_seconds=1.0):
    """This machine's main-memory bandwidth from copying a large array: a :class:`Measurement`.

    Copies an array of ``nbytes`` into another (numpy ``copyto``) and counts 2·nbytes per copy:
    every byte read once and written once, as the STREAM "copy" kernel counts. (Most CPUs also read
    each destination line before writing it, so the hardware moves up to 3·nbytes: the figure is a
    floor.) Keep ``nbytes`` well above the last-level cache (tens of MB) or you measure the cache.
    """
    nbytes = integer("nbytes", nbytes, minimum=8 * 1024, maximum=4 * 2**30)
    repeats, max_seconds = _check_repeats(repeats, max_seconds)
    src = np.ones(nbytes // 8)
    dst = np.zeros_like(src)
    durations, spent = _time_repeats(lambda: np.copyto(dst, src), repeats, max_seconds)
    samples = 2.0 * src.nbytes / durations
    return Measurement(float(np.median(samples)), samples, int(src.nbytes), "B/s",
                       f"2 × {u.fmt_bytes(src.nbytes)} per copy (read + write)", spent)


# ---------------------------------------------------------------------------------------------
# Fifty years of computers
# ---------------------------------------------------------------------------------------------
def load_hardware():
    """``datasets/hardware.csv`` as a :class:`labkit.data.Table` (see datasets/README.md)."""
    from . import data
    return data.load("hardware")


def load_algorithms():
    """``datasets/algorithms.csv``: when machine-learning ideas were first published."""
    from . import data
    return data.load("algorithms")


@dataclass(frozen=True)
class Machine:
    """One row of hardware.csv. Peak FLOP/s is dense, in ``precision``; NaN where unknown.

    ``memory_bytes`` is the device's own memory (HBM/GDDR) in SI bytes, for GPUs and accelerators.
    """
    name: str
    year: int
    kind: str
    peak_flops_per_s: float
    precision: str
    bandwidth_bytes_per_s: float
    power_w: float
    linpack_flops_per_s: float
    source: str
    memory_bytes: float = math.nan

    @property
    def ridge_point(self):
        """Peak FLOP/s ÷ memory bandwidth, in FLOP/byte (NaN without a bandwidth)."""
        return self.peak_flops_per_s / self.bandwidth_bytes_per_s


def machine(name, table=None):
    """The row of hardware.csv whose name is ``name`` (case-insensitive) or uniquely contains it."""
    if not isinstance(name, str) or not name.strip():
        raise TypeError(f"name must be a machine name such as 'A100' or 'Frontier', got {name!r}")
    table = load_hardware() if table is None else table
    names = [str(n) for n in table["name"]]
    key = name.strip().lower()
    hits = [i for i, n in enumerate(names) if n.lower() == key] or \
           [i for i, n in enumerate(names) if key in n.lower()]
    if len(hits) != 1:
        what = "no machine" if not hits else f"{len(hits)} machines"
        options = [names[i] for i in hits] if hits else names
        raise ValueError(f"{what} in hardware.csv match {name!r}; choose one of: {', '.join(options)}")
    row = table.rows()[hits[0]]
    return Machine(row["name"], int(row["year"]), row["kind"], row["peak_flops_per_s"], row["precision"],
                   row["bandwidth_bytes_per_s"], row["power_w"], row["linpack_flops_per_s"], row["source"],
                   row.get("memory_bytes", math.nan))


@functools.lru_cache(maxsize=None)
def datasheet(name):
    """:func:`machine` for library constants: the same row, read from hardware.csv once per session
    and cached. The other chapters' datasheet figures (``scaling.ACCELERATORS``, ``energy.GPUS``,
    ``utilization.H100_PEAK_FLOPS`` …) come from here, so hardware.csv is their one source."""
    return machine(name, _cached_table())


@functools.lru_cache(maxsize=1)
def _cached_table():
    return load_hardware()


def top500_leader_until(flop_per_s, table=None):
    """The last year in hardware.csv whose Top500 #1 ran LINPACK no faster than ``flop_per_s``:
    until then a machine of that speed would have led the list. None if it is slower than the
    first list's #1 (CM-5/1024, 59.7 GFLOP/s, June 1993)."""
    flop_per_s = _rate(flop_per_s, "flop_per_s")
    table = load_hardware() if table is None else table
    rmax = table["linpack_flops_per_s"]
    led = table["year"][~np.isnan(rmax) & (rmax <= flop_per_s)]
    return int(led.max()) if led.size else None


@dataclass(frozen=True)
class Trend:
    """An exponential fit value = 2**((year − year0) / doubling_years) × value0 (log-linear least squares)."""
    doubling_years: float
    year0: float
    value0: float

    @property
    def factor_per_year(self):
        """Growth factor per year, 2**(1 / doubling_years)."""
        return 2.0 ** (1.0 / self.doubling_years)

    def predict(self, years):
        """The fitted value at ``years`` (a number or an array)."""
        years = number("years", years, "years", array=True)
        return self.value0 * 2.0 ** ((np.asarray(years) - self.year0) / self.doubling_years)


def _series(years, values):
    years = np.atleast_1d(number("years", years, "years", array=True))
    values = np.atleast_1d(positive("values", values, "e.g. FLOP/s", array=True))
    if years.ndim != 1 or values.shape != years.shape:
        raise ValueError(f"years and values must be 1-D and of equal length; got {years.shape} and {values.shape}")
    if len(years) < 2 or np.ptp(years) == 0:
        raise ValueError("a trend needs at least two different years")
    return years, values


def fit_trend(years, values):
    """Least-squares line through (year, log2 value): a :class:`Trend` with its doubling time."""
    years, values = _series(years, values)
    logs = np.log2(values)
    year0, log0 = float(np.mean(years)), float(np.mean(logs))
    slope = np.sum((years - year0) * (logs - log0)) / np.sum((years - year0) ** 2)  # doublings per year
    if abs(slope) < 1e-12:
        raise ValueError("the values do not grow or shrink: no doubling time")
    return Trend(float(1.0 / slope), year0, float(2.0 ** log0))


def doubling_time(years, values):
    """Years for ``values`` to double, from a least-squares fit of log2(values) against years.

    Negative when the values shrink (the halving time, with a minus sign).
    """
    return fit_trend(years, values).doubling_years


# ---------------------------------------------------------------------------------------------
# The roofline model
# ---------------------------------------------------------------------------------------------
def matmul_flops(m, n, k):
    """FLOP of an (m×k)·(k×n) matrix product: 2·m·n·k (one multiply and one add per term)."""
    m, n, k = (positive(name, v, "elements", array=True) for name, v in (("m", m), ("n", n), ("k", k)))
    return 2.0 * m * n * k


def matmul_bytes(m, n, k, bytes_per_element=2):
    """Bytes an (m×k)·(k×n) product must move at least: read A and B once, write C once."""
    m, n, k = (positive(name, v, "elements", array=True) for name, v in (("m", m), ("n", n), ("k", k)))
    b = positive("bytes_per_element", bytes_per_element, "bytes")
    return (np.multiply(m, k) + np.multiply(k, n) + np.multiply(m, n)) * b


def elementwise_flops(n_elements, flops_per_element=1):
    """FLOP of an element-wise operation (an add: 1 per element; a GELU or softmax: a handful)."""
    n_elements = nonnegative("n_elements", n_elements, "elements", array=True)
    return n_elements * positive("flops_per_element", flops_per_element, "FLOP")


def elementwise_bytes(n_elements, bytes_per_element=2, n_inputs=2, n_outputs=1):
    """Bytes an element-wise operation moves: each input read once, each output written once."""
    n_elements = nonnegative("n_elements", n_elements, "elements", array=True)
    b = positive("bytes_per_element", bytes_per_element, "bytes")
    n_inputs = integer("n_inputs", n_inputs, minimum=0)
    n_outputs = integer("n_outputs", n_outputs, minimum=1)
    return n_elements * (n_inputs + n_outputs) * b


def arithmetic_intensity(flops, nbytes):
    """FLOP per byte moved to or from memory: how much work each byte pays for."""
    flops = nonnegative("flops", flops, "FLOP", array=True)
    nbytes = positive("nbytes", nbytes, "bytes", array=True)
    return flops / nbytes


def roofline(peak_flops, bandwidth, intensity):
    """Attainable FLOP/s = min(peak, bandwidth × intensity), vectorized over ``intensity``.

    ``peak_flops`` in FLOP/s, ``bandwidth`` in bytes/s, ``intensity`` in FLOP/byte. Assumes compute
    and data movement overlap perfectly and nothing else (latency, caches) limits the operation.
    """
    peak_flops = positive("peak_flops", peak_flops, "FLOP/s", array=True)
    bandwidth = positive("bandwidth", bandwidth, "bytes/s", array=True)
    intensity = nonnegative("intensity", intensity, "FLOP/byte", array=True)
    out = np.minimum(peak_flops, np.multiply(bandwidth, intensity))
    return float(out) if np.ndim(out) == 0 else out


def ridge_point(peak_flops, bandwidth):
    """The intensity (FLOP/byte) where the roofline bends: peak ÷ bandwidth.

    Operations below it are memory-bound, above it compute-bound.
    """
    peak_flops = positive("peak_flops", peak_flops, "FLOP/s", array=True)
    bandwidth = positive("bandwidth", bandwidth, "bytes/s", array=True)
    return peak_flops / bandwidth


def bound(intensity, peak_flops, bandwidth):
    """"memory" when ``intensity`` is below the ridge point, else "compute"."""
    intensity = nonnegative("intensity", intensity, "FLOP/byte")
    return "memory" if intensity < ridge_point(peak_flops, bandwidth) else "compute"


def roofline_time(flops, nbytes, peak_flops, bandwidth):
    """Seconds an operation takes on the roofline: max(flops / peak, nbytes / bandwidth)."""
    flops = nonnegative("flops", flops, "FLOP", array=True)
    nbytes = nonnegative("nbytes", nbytes, "bytes", array=True)
    peak_flops = positive("peak_flops", peak_flops, "FLOP/s")
    bandwidth = positive("bandwidth", bandwidth, "bytes/s")
    out = np.maximum(np.divide(flops, peak_flops), np.divide(nbytes, bandwidth))
    return float(out) if np.ndim(out) == 0 else out


# ---------------------------------------------------------------------------------------------
# How long would it take?
# ---------------------------------------------------------------------------------------------
def time_to_train(total_flop, flop_per_s, utilization=1.0, n_devices=1):
    """Seconds to do ``total_flop`` on ``n_devices`` devices of ``flop_per_s`` peak each, busy a
    fraction ``utilization`` of that peak (0.4 means 40 %): total / (flop_per_s × utilization × n).

    Assumes the work divides perfectly across devices and nothing stops (no failures, no waits).
    """
    total_flop = nonnegative("total_flop", total_flop, "FLOP", array=True)
    flop_per_s = positive("flop_per_s", flop_per_s, "FLOP/s", array=True)
    utilization = fraction("utilization", utilization, array=True, allow_zero=False)
    n_devices = positive("n_devices", n_devices, "devices", array=True)
    return total_flop / (flop_per_s * utilization * n_devices)


# ---------------------------------------------------------------------------------------------
# Plots (each returns its Figure; pass ax to draw into your own)
# ---------------------------------------------------------------------------------------------
_STYLE = {"supercomputer": ("s", "C0", "supercomputers (Top500 #1, fp64)"),
          "cpu": ("o", "C2", "CPUs (fp64)"),
          "gpu": ("^", "C3", "GPUs (fp32, then fp16/bf16 tensor cores)"),
          "accelerator": ("D", "C4", "TPUs (int8, then bf16)")}
_LABELLED = ("Cray-1", "CM-5/1024 (Los Alamos)", "ASCI Red (Sandia)", "Roadrunner (Los Alamos)",
             "El Capitan (LLNL)", "Intel Pentium 66 MHz", "AMD EPYC 9654", "NVIDIA GeForce 8800 GTX",
             "NVIDIA GeForce GTX 580", "NVIDIA H100 SXM", "NVIDIA B200", "Google TPU v1")


def _axes(ax, figsize=(8, 4.8)):
    if ax is not None:
        return ax.figure, ax
    import matplotlib.pyplot as plt
    fig, ax = plt.subplots(figsize=figsize)
    return fig, ax


def _lean_log(ax, x=False, y=True, numticks=8):
    """Major ticks only on log axes: minor log ticks cost most of a figure's drawing time."""
    from matplotlib.ticker import LogLocator, NullLocator
    for on, axis in ((x, ax.xaxis), (y, ax.yaxis)):
        if on:
            axis.set_major_locator(LogLocator(numticks=numticks))
            axis.set_minor_locator(NullLocator())


def _rate(x, name):
    return positive(name, float(x), "FLOP/s")


def plot_hardware(ax=None, table=None, measured=None, measured_year=None, trend_kind="supercomputer",
                  label=_LABELLED):
    """Peak FLOP/s of every machine in hardware.csv against its year, on a log scale.

    ``measured`` (FLOP/s or a :class:`Measurement`) is drawn as a star at ``measured_year`` (this
    year by default); ``trend_kind`` adds a fitted doubling-time line for that kind (None: none).
    """
    table = load_hardware() if table is None else table
    fig, ax = _axes(ax)
    for kind, (marker, colour, text) in _STYLE.items():
        rows = table.where(kind=kind)
        ax.scatter(rows["year"], rows["peak_flops_per_s"], marker=marker, color=colour, label=text,
                   s=28, zorder=3)
    for row in table.rows():
        if row["name"] in label:
            ax.annotate(row["name"].split(" (")[0], (row["year"], row["peak_flops_per_s"]), fontsize=7,
                        xytext=(4, -9), textcoords="offset points")
    if trend_kind is not None:
        rows = table.where(kind=choice("trend_kind", trend_kind, KINDS))
        fit = fit_trend(rows["year"], rows["peak_flops_per_s"])
        years = np.linspace(rows["year"].min(), rows["year"].max(), 50)
        ax.plot(years, fit.predict(years), ls="--", color=_STYLE[trend_kind][1], lw=1,
                label=f"fit: doubles every {fit.doubling_years:.2f} years")
    if measured is not None:
        year = measured_year if measured_year is not None else time.localtime().tm_year
        ax.scatter([year], [_rate(measured, "measured")], marker="*", s=220, color="gold",
                   edgecolor="black", zorder=4, label=f"your machine: {u.fmt_flop_rate(float(measured))}")
    ax.set_yscale("log")
    _lean_log(ax)
    ax.set(xlabel="year", ylabel="peak FLOP/s (dense)", title="Fifty years of peak compute")
    ax.grid(True, which="major", alpha=0.3)
    ax.legend(fontsize=7, loc="upper left")
    return fig


def plot_ridge_history(ax=None, table=None):
    """Ridge point (peak FLOP/s ÷ memory bandwidth) of each machine with a known bandwidth, by year."""
    table = load_hardware() if table is None else table
    fig, ax = _axes(ax, figsize=(7, 4))
    known = table.where(~np.isnan(table["bandwidth_bytes_per_s"]))
    for kind, (marker, colour, text) in _STYLE.items():
        rows = known.where(kind=kind)
        if len(rows):
            ax.scatter(rows["year"], rows["peak_flops_per_s"] / rows["bandwidth_bytes_per_s"], marker=marker,
                       color=colour, label=text, s=28, zorder=3)
    ax.set_yscale("log")
    _lean_log(ax)
    ax.set(xlabel="year", ylabel="ridge point (FLOP per byte)",
           title="Compute grew faster than memory bandwidth")
    ax.grid(True, which="major", alpha=0.3)
    ax.legend(fontsize=7, loc="upper left")
    return fig


def plot_roofline(ax=None, machines=(), operations=(), intensity_range=(1e-2, 1e4)):
    """Rooflines of ``machines`` [(label, peak FLOP/s, bandwidth B/s), ...] on log-log axes, with
    ``operations`` [(label, intensity FLOP/byte), ...] placed on each roof."""
    fig, ax = _axes(ax)
    lo, hi = (positive("intensity_range", v, "FLOP/byte") for v in intensity_range)
    x = np.logspace(np.log10(lo), np.log10(hi), 200)
    for i, (label, peak, bw) in enumerate(machines):
        ax.plot(x, roofline(peak, bw, x), color=f"C{i}", lw=2,
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
    ax.set_xscale("log")
    ax.set_yscale("log")
    _lean_log(ax, x=True)
    ax.set(xlabel="arithmetic intensity (FLOP per byte)", ylabel="attainable FLOP/s",
           title="Roofline: attainable = min(peak, bandwidth × intensity)")
    ax.grid(True, which="major", alpha=0.3)
    ax.legend(fontsize=7, loc="upper left")
    return fig


def plot_algorithms(ax=None, algorithms=None, hardware=None):
    """When ML ideas were published (the timeline along the bottom) against the fastest machine of
    each year (the record peak FLOP/s in hardware.csv): the algorithms are old, the infrastructure new."""
    from matplotlib.ticker import NullLocator
    from matplotlib.transforms import blended_transform_factory
    algorithms = load_algorithms() if algorithms is None else algorithms
    hardware = load_hardware() if hardware is None else hardware
    fig, ax = _axes(ax, figsize=(9, 5))
    order = np.argsort(hardware["year"], kind="stable")
    years, peaks = hardware["year"][order], np.maximum.accumulate(hardware["peak_flops_per_s"][order])
    ax.step(years, peaks, where="post", color="C0", lw=2, label="fastest machine in hardware.csv (peak FLOP/s)")
    ax.set_yscale("log")
    ax.set_ylim(1e-3, peaks.max() * 30)  # the lower half of the axes holds the timeline
    ax.set_yticks([1e6, 1e9, 1e12, 1e15, 1e18])
    ax.yaxis.set_minor_locator(NullLocator())
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
    operation = choice("operation", operation, tuple(OPERATIONS))
    n = positive("n", n, "elements")
    flops, nbytes = OPERATIONS[operation](n, positive("bytes_per_element", bytes_per_element, "bytes"))
    return float(flops / nbytes)


# Fixed axes of the explorer, wide enough for every slider and dropdown position: a slider move then
# only moves three lines and a title, never the ticks, labels or grid.
_EXPLORER_X = (1e-2, 1e5)    # FLOP/byte: element-wise fp32 (1/12) … matmul n=65536 fp8 (~44,000)
_EXPLORER_Y = (1e6, 3e16)    # FLOP/s: 1 GB/s × 0.01 FLOP/B = 10 MFLOP/s … 10 PFLOP/s peak
_EXPLORER_XTICKS = {1e-2: "0.01", 1e-1: "0.1", 1.0: "1", 10.0: "10", 1e2: "100", 1e3: "1k",
                    1e4: "10k", 1e5: "100k"}
_EXPLORER_YTICKS = {1e6: "1 M", 1e8: "100 M", 1e10: "10 G", 1e12: "1 T", 1e14: "100 T", 1e16: "10 P"}


def _roofline_artists(fig):
    """Build the explorer's axes and artists once; later slider moves only update their data."""
    from matplotlib.ticker import NullLocator
    ax = fig.add_subplot()
    ax.set_xscale("log")
    ax.set_yscale("log")
    ax.set_xlim(*_EXPLORER_X)
    ax.set_ylim(*_EXPLORER_Y)
    for axis, ticks in ((ax.xaxis, _EXPLORER_XTICKS), (ax.yaxis, _EXPLORER_YTICKS)):
        axis.set_ticks(list(ticks), list(ticks.values()))
        axis.set_minor_locator(NullLocator())
    ax.set(xlabel="arithmetic intensity (FLOP per byte)", ylabel="attainable FLOP/s")
    ax.grid(True, alpha=0.3)
    ax.text(0.99, 0.03, "● memory-bound", color="C3", ha="right", fontsize=8, transform=ax.transAxes)
    ax.text(0.99, 0.09, "● compute-bound", color="C2", ha="right", fontsize=8, transform=ax.transAxes)
    parts = {"ax": ax,
             "roof": ax.plot([], [], color="C0", lw=2)[0],
             "ridge": ax.plot([], [], color="C0", ls=":", lw=1)[0],
             "point": ax.plot([], [], "o", ms=8)[0],
             "title": ax.set_title(" ", y=1.01)}  # a fixed position: no layout of the axis per draw
    fig._labkit = parts
    return parts


def draw_roofline(fig, peak_flops, bandwidth, operation, n, precision):
    """The explorer's drawing: one roofline, its ridge, and the chosen operation on it (red when
    memory-bound, green when compute-bound), on fixed axes. The first call builds the figure;
    later calls on the same figure only move the lines (the explorer's retained mode)."""
    b = PRECISIONS[precision]
    flops, nbytes = OPERATIONS[operation](float(n), b)
    intensity = flops / nbytes
    attainable = roofline(peak_flops, bandwidth, intensity)
    ridge = ridge_point(peak_flops, bandwidth)
    kind = bound(intensity, peak_flops, bandwidth)
    parts = getattr(fig, "_labkit", None)
    fresh = parts is None or parts["ax"] not in fig.axes
    parts = _roofline_artists(fig) if fresh else parts
    x = np.array([_EXPLORER_X[0], min(max(ridge, _EXPLORER_X[0]), _EXPLORER_X[1]), _EXPLORER_X[1]])
    parts["roof"].set_data(x, roofline(peak_flops, bandwidth, x))
    parts["ridge"].set_data([ridge, ridge], [_EXPLORER_Y[0], peak_flops])
    parts["point"].set_data([intensity], [attainable])
    parts["point"].set_color("C3" if kind == "memory" else "C2")
    parts["title"].set_text(f"{operation}, n = {int(n):,}, {precision}")
    if fresh:
        from .core.explore import freeze_background
        freeze_background(fig, [parts[k] for k in ("roof", "ridge", "point", "title")])
    seconds = float(roofline_time(flops, nbytes, peak_flops, bandwidth))
    return (f"intensity {intensity:.3g} FLOP/B vs ridge {ridge:.3g} FLOP/B → {kind}-bound; "
            f"attainable {u.fmt_flop_rate(attainable)} ({attainable / peak_flops:.1%} of peak); "
            f"{u.fmt_flops(flops)} and {u.fmt_bytes(nbytes)} take ≥ {u.fmt_seconds(seconds)}")


def roofline_explorer(peak_flops=312e12, bandwidth=2.039e12, operation="matmul n×n×n", n=1024,
                      precision="bf16 (2 B)"):
    """An explorer: sliders for peak FLOP/s, bandwidth and operation size on one roofline.

    Defaults are the A100's datasheet (312 TFLOP/s dense BF16, 2,039 GB/s). Shows a static plot
    where widgets cannot render.
    """
    from .core.explore import dropdown, explorer, slider
    positive("peak_flops", peak_flops, "FLOP/s")
    positive("bandwidth", bandwidth, "bytes/s")
    choice("operation", operation, tuple(OPERATIONS))
    choice("precision", precision, tuple(PRECISIONS))
    integer("n", n, minimum=16, maximum=65536)
    return explorer(draw_roofline, title="Roofline explorer: is it compute- or memory-bound?",
                    retained=True,
                    peak_flops=slider(peak_flops, 1e9, 1e16, None, "peak FLOP/s", log=True),
                    bandwidth=slider(bandwidth, 1e9, 1e13, None, "bandwidth B/s", log=True),
                    operation=dropdown(operation, list(OPERATIONS), "operation"),
                    n=slider(n, 16, 65536, None, "size n", log=True),
                    precision=dropdown(precision, list(PRECISIONS), "precision"))
