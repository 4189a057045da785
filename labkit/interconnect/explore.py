"""The collective explorer: all-reduce time and busbw as sliders move."""

import numpy as np

from .. import units as u
from ..core.validate import choice, integer, number
from ._common import ALGORITHMS
from .collectives import allreduce_time, bus_bandwidth


# ---------------------------------------------------------------------------------------------
# Explorer
# ---------------------------------------------------------------------------------------------
_EXPLORER_SIZES = np.logspace(3, 10, 50)  # bytes: the message-size axis of the explorer
# Slider ranges (SI): message 1 kB–10 GB, 2–1,024 ranks, links 1 GB/s–1 TB/s, α 0.1–100 µs.
_EXPLORER_RANGES = {"nbytes": (1e3, 1e10), "n": (2, 1024), "bandwidth_bytes_per_s": (1e9, 1e12),
                    "latency": (1e-7, 1e-4)}
# s: covers every slider setting, from ≈0.1 µs (1 kB, 2 ranks, α = 0.1 µs) to ≈110 s (recursive doubling of
# 10 GB on 1,023 ranks over 1 GB/s links)
_EXPLORER_TIME_LIMITS = (1e-7, 1e3)


def _collective_curves(n, bandwidth_bytes_per_s, latency):
    """All-reduce time (s) and busbw/line rate over the explorer's message sizes, per algorithm."""
    times = [allreduce_time(_EXPLORER_SIZES, n, bandwidth_bytes_per_s, latency, alg) for alg in ALGORITHMS]
    return times, [bus_bandwidth(_EXPLORER_SIZES, t, n) / bandwidth_bytes_per_s for t in times]


def _build_collective(fig):
    """The explorer's two panels with fixed limits and ticks; returns the artists an update moves."""
    ax1, ax2 = fig.subplots(1, 2)
    fig.subplots_adjust(left=0.09, right=0.98, bottom=0.16, top=0.9, wspace=0.28)
    h = {"time": [], "busbw": []}
    flat = np.ones_like(_EXPLORER_SIZES)
    for i, alg in enumerate(ALGORITHMS):
        h["time"].append(ax1.plot(_EXPLORER_SIZES, flat, color=f"C{i}", label=alg)[0])
        h["busbw"].append(ax2.plot(_EXPLORER_SIZES, flat, color=f"C{i}")[0])
    h["time_dot"] = ax1.plot([1e6], [1e-3], "o", color="C3", clip_on=False)[0]
    h["busbw_dot"] = ax2.plot([1e6], [0.5], "o", color="C3", clip_on=False)[0]
    ax2.axhline(1.0, color="grey", ls=":", lw=1)
    ax1.set(xscale="log", yscale="log", xlim=(1e3, 1e10), ylim=_EXPLORER_TIME_LIMITS,
            xlabel="message", ylabel="all-reduce time", title="time")
    ax2.set(xscale="log", xlim=(1e3, 1e10), ylim=(0, 1.1), xlabel="message", ylabel="busbw ÷ link line rate")
    ax1.set_yticks([1e-6, 1e-3, 1.0, 1e3], ["1 µs", "1 ms", "1 s", "1000 s"])
    ax2.set_yticks([0, 0.25, 0.5, 0.75, 1.0], ["0", "25 %", "50 %", "75 %", "100 %"])
    for ax in (ax1, ax2):
        ax.set_xticks([1e3, 1e6, 1e9], ["1 kB", "1 MB", "1 GB"])
        ax.grid(True, which="major", alpha=0.3)
    ax1.legend(fontsize=7, loc="upper left")
    h["title"] = ax2.set_title(" ", y=1.0)  # a fixed position: no title layout on each update
    return h


def _update_collective(h, nbytes, n, bandwidth_bytes_per_s, latency, algorithm):
    """Move the 50-point analytic curves, the two dots and the title; return the readout.

    busbw is shown as a fraction of the link's line rate so its axis never rescales.
    """
    bw = bandwidth_bytes_per_s
    times, busbws = _collective_curves(n, bw, latency)
    for alg, t_line, b_line, t, b in zip(ALGORITHMS, h["time"], h["busbw"], times, busbws):
        width, alpha = (2.2, 1.0) if alg == algorithm else (1.0, 0.45)
        t_line.set_ydata(t)
        b_line.set_ydata(b)
        for line in (t_line, b_line):
            line.set_linewidth(width)
            line.set_alpha(alpha)
    t_here = allreduce_time(nbytes, n, bw, latency, algorithm)
    busbw = bus_bandwidth(nbytes, t_here, n)
    h["time_dot"].set_data([nbytes], [t_here])
    h["busbw_dot"].set_data([nbytes], [busbw / bw])
    h["title"].set_text(f"bus bandwidth (line rate {u.fmt_bandwidth(bw)} dotted)")
    return (f"{algorithm} all-reduce of {u.fmt_bytes(nbytes)} on {n:,} ranks: {u.fmt_seconds(t_here)}; "
            f"algbw {u.fmt_bandwidth(nbytes / t_here)}, busbw {u.fmt_bandwidth(busbw)} "
            f"({busbw / bw:.0%} of the {u.fmt_bandwidth(bw)} link)")


def collective_explorer(nbytes=64 * u.MB, n=64, bandwidth_bytes_per_s=50 * u.GB, latency=5 * u.US,
                        algorithm="ring"):
    """Sliders: message size ``nbytes``, ranks ``n``, link bandwidth (bytes/s, one way), latency α (s) and
    the algorithm → all-reduce time and busbw. Arguments are the sliders' starting values."""
    from ..core.explore import dropdown, explorer, int_slider, slider
    (lo_b, hi_b), (lo_n, hi_n), (lo_w, hi_w), (lo_a, hi_a) = _EXPLORER_RANGES.values()
    nbytes = number("nbytes", nbytes, "bytes", minimum=lo_b, maximum=hi_b)
    n = integer("n", n, minimum=lo_n, maximum=hi_n)
    bandwidth_bytes_per_s = number("bandwidth_bytes_per_s", bandwidth_bytes_per_s, "bytes/s", minimum=lo_w,
                                   maximum=hi_w)
    latency = number("latency", latency, "s", minimum=lo_a, maximum=hi_a)
    algorithm = choice("algorithm", algorithm, ALGORITHMS)
    return explorer(_build_collective, _update_collective, title="All-reduce: time and bus bandwidth",
                    figsize=(8.5, 3.8),
                    nbytes=slider(nbytes, lo_b, hi_b, None, "message (bytes)", log=True),
                    n=int_slider(n, lo_n, hi_n, 1, "ranks n"),
                    bandwidth_bytes_per_s=slider(bandwidth_bytes_per_s, lo_w, hi_w, None,
                                                 "link bytes/s (one way)", log=True),
                    latency=slider(latency, lo_a, hi_a, None, "latency α (s)", log=True),
                    algorithm=dropdown(algorithm, list(ALGORITHMS), "algorithm"))
