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
from .core.plotting import log_axis, new_axes, no_minor_ticks
from .core.roofline import bound, ridge_point, roofline, roofline_time, training_time  # noqa: F401
from .core.trend import doubling_time, fit_trend  # noqa: F401
from .core.validate import (choice, finite_result, instance, integer, nonnegative, number, positive, records,
                            scalar_or_array, sequence, text)



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
    dtype = choice("dtype", text("dtype", dtype), ("float64", "float32"))
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
# Plots (each returns its Figure; pass ax to draw into your own)
# ---------------------------------------------------------------------------------------------
_STYLE = {"supercomputer": ("s", "C0", "supercomputers (Top500 #1, fp64)"),
          "cpu": ("o", "C2", "CPUs (fp64)"),
          "gpu": ("^", "C3", "GPUs (fp32, then fp16/bf16 tensor cores)"),
          "accelerator": ("D", "C4", "TPUs (int8, then bf16)")}
_LABELLED = ("Cray-1", "CM-5/1024 (Los Alamos)", "ASCI Red (Sandia)", "Roadrunner (Los Alamos)",
             "El Capitan (LLNL)", "Intel Pentium 66 MHz", "AMD EPYC 9654", "NVIDIA GeForce 8800 GTX",
             "NVIDIA GeForce GTX 580", "NVIDIA H100 SXM", "NVIDIA B200", "Google TPU v1")


def _measured_rate(measured):
    """A rate in FLOP/s from a number or a :class:`Measurement`."""
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
    kind; ``"none"`` draws no fit.
    """
    fig, ax = new_axes(ax, figsize=(8, 4.8))
    table = _table("table", table, load_hardware, ("name", "year", "kind", "peak_flops_per_s"))
    label = _names("label", label)
    trend_kind = choice("trend_kind", text("trend_kind", trend_kind), (*KINDS, "none"))
    if measured is not None:
        measured = _measured_rate(measured)
    year = time.localtime().tm_year if measured_year is None else \
        number("measured_year", measured_year, "year", minimum=1900, maximum=2200)
    for kind, (marker, colour, name) in _STYLE.items():
        rows = table.where(kind=kind)
        ax.scatter(rows["year"], rows["peak_flops_per_s"], marker=marker, color=colour, label=name,
                   s=28, zorder=3)
    for row in table.rows():
        if row["name"] in label:
            ax.annotate(row["name"].split(" (")[0], (row["year"], row["peak_flops_per_s"]), fontsize=7,
                        xytext=(4, -9), textcoords="offset points")
    if trend_kind != "none":
        rows = table.where(kind=trend_kind)
        fit = fit_trend(rows["year"], rows["peak_flops_per_s"])
        years = np.linspace(rows["year"].min(), rows["year"].max(), 50)
        ax.plot(years, fit.predict(years), ls="--", color=_STYLE[trend_kind][1], lw=1,
                label=f"fit: doubles every {fit.doubling_years:.2f} years")
    if measured is not None:
        ax.scatter([year], [measured], marker="*", s=220, color="gold",
                   edgecolor="black", zorder=4, label=f"your machine: {u.fmt_flop_rate(measured)}")
    log_axis(ax, "y")
    ax.set(xlabel="year", ylabel="peak FLOP/s (dense)", title="Fifty years of peak compute")
    ax.grid(True, which="major", alpha=0.3)
    ax.legend(fontsize=7, loc="upper left")
    return fig


def plot_ridge_history(ax=None, table=None):
    """Ridge point (peak FLOP/s ÷ memory bandwidth) of each machine with a known bandwidth, by year."""
    fig, ax = new_axes(ax, figsize=(7, 4))
    table = _table("table", table, load_hardware, ("year", "kind", "peak_flops_per_s", "bandwidth_bytes_per_s"))
    known = table.where(~np.isnan(table["bandwidth_bytes_per_s"]))
    for kind, (marker, colour, name) in _STYLE.items():
        rows = known.where(kind=kind)
        if len(rows):
            ax.scatter(rows["year"], ridge_point(rows["peak_flops_per_s"], rows["bandwidth_bytes_per_s"]),
                       marker=marker, color=colour, label=name, s=28, zorder=3)
    log_axis(ax, "y")
    ax.set(xlabel="year", ylabel="ridge point (FLOP per byte)",
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
    ax.text(0.99, 0.09, "● compute-bound", color="C2", ha="right", fontsize=8, transform=ax.transAxes)
    return {"roof": ax.plot([], [], color="C0", lw=2)[0],
            "ridge": ax.plot([], [], color="C0", ls=":", lw=1)[0],
            "point": ax.plot([], [], "o", ms=8)[0],
            "title": ax.set_title(" ", y=1.01)}  # a fixed position: no layout of the axis per move


def _update_roofline(h, peak_flops_per_s, bandwidth_bytes_per_s, operation, n, precision):
    """One roofline, its ridge, and the chosen operation on it (red when memory-bound, green when
    compute-bound); returns the readout."""
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
