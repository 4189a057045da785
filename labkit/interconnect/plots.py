"""The chapter's plots (pyplot imported lazily; each returns its Figure) and its dataset."""

import numpy as np

from .. import units as u
from ..core.plotting import LINESTYLES, MARKERS, new_axes, no_minor_ticks
from ..core.validate import axes, instance, integer, nonnegative, positive, sequence
from ._common import ALGORITHMS, DDP_BUCKET_BYTES, _fraction_open
from .alphabeta import crossover_size, effective_bandwidth
from .collectives import allreduce_time, bus_bandwidth
from .dataparallel import ScalingResult, data_parallel_step
from .fabric import FabricSimResult, PLACEMENTS
from .nccl import (NCCL_PROTOCOLS, _nccl_args, compare_allreduce_strategies, nccl_allreduce_busbw, nccl_bus_bandwidth,
                   nccl_size_for_busbw_fraction)
from .ringsim import RingSimResult
from .topology import Topology


# ---------------------------------------------------------------------------------------------
# Data: the bandwidth hierarchy
# ---------------------------------------------------------------------------------------------
def load_interconnects():
    """datasets/interconnects.csv as a Table (bandwidth per direction in bytes/s, latency in s)."""
    from ..data import load
    return load("interconnects")


# ---------------------------------------------------------------------------------------------
# Plots (pyplot imported lazily; each returns the Figure)
# ---------------------------------------------------------------------------------------------
_KIND_COLOURS = {"cache": "C4", "hbm": "C3", "nvlink": "C2", "pcie": "C1", "infiniband": "C0", "ethernet": "C7"}


def plot_bandwidth_hierarchy(table=None, ax=None):
    """One log-scale chart: bandwidth per direction by year, from on-chip cache to the data-center network.

    ``table``: a Table with the columns of datasets/interconnects.csv (default: that file).
    """
    from ..data import Table
    if table is not None:
        instance("table", table, Table, "a labkit.data.Table like load_interconnects() returns, or None")
        missing = {"kind", "year", "name", "bandwidth_bytes_per_s"} - set(table.columns)
        if missing:
            raise ValueError(f"table lacks the column(s) {', '.join(sorted(missing))} of datasets/interconnects.csv")
    t = load_interconnects() if table is None else table
    fig, ax = new_axes(ax, (8, 4.6), margins={})
    for i, (kind, colour) in enumerate(_KIND_COLOURS.items()):
        rows = t.where(kind=kind).sort("year")
        if len(rows) == 0:
            continue
        ax.semilogy(rows["year"], rows["bandwidth_bytes_per_s"], "-", marker=MARKERS[i % len(MARKERS)], color=colour,
                    label=kind, ms=5)
        last = rows.rows()[-1]
        label = last["name"].split(" (")[0].replace(" x16", "")
        ax.annotate(label, (last["year"], last["bandwidth_bytes_per_s"]), fontsize=7, color=colour,
                    xytext=(5, -7 if kind == "ethernet" else 2), textcoords="offset points", va="center")
    ax.set(xlabel="year", ylabel="bandwidth, one direction (bytes/s)",
           title="The bandwidth hierarchy: each step away from the chip costs roughly 10×")
    ax.set_xlim(right=float(np.nanmax(t["year"])) + 3)
    ax.grid(True, which="major", alpha=0.3)
    ax.legend(fontsize=8, ncol=3, loc="upper left")
    no_minor_ticks(ax)
    return fig


def plot_alpha_beta(bandwidth_bytes_per_s, latency, ax=None):
    """Effective bandwidth vs message size for one link, with the α·β crossover marked."""
    bandwidth = positive("bandwidth_bytes_per_s", bandwidth_bytes_per_s, "bytes/s")
    latency = nonnegative("latency", latency, "s")
    x = crossover_size(bandwidth, latency)
    fig, ax = new_axes(ax, margins={})
    sizes = np.logspace(1, 11, 200)
    ax.loglog(sizes, effective_bandwidth(sizes, bandwidth, latency), label="effective bandwidth")
    ax.axhline(bandwidth, color="grey", ls=":", label=f"link bandwidth {u.fmt_bandwidth(bandwidth)}")
    if x > 0:
        ax.axvline(x, color="C3", ls="--", label=f"α·β = {u.fmt_bytes(x)}: half the bandwidth")
    ax.set(xlabel="message size (bytes)", ylabel="achieved bytes/s",
           title=f"α-β model: α = {u.fmt_seconds(latency)}, β = {u.fmt_bandwidth(bandwidth)}")
    ax.legend(fontsize=8)
    no_minor_ticks(ax)
    return fig


def plot_allreduce_algorithms(n, bandwidth_bytes_per_s, latency, ax=None, sizes=None):
    """All-reduce time vs message size (``sizes``, bytes) for ring, tree and recursive doubling on n ranks."""
    n = integer("n", n, minimum=1)
    bandwidth = positive("bandwidth_bytes_per_s", bandwidth_bytes_per_s, "bytes/s")
    latency = nonnegative("latency", latency, "s")
    sizes = np.logspace(2, 10, 120) if sizes is None else \
        np.atleast_1d(positive("sizes", sizes, "bytes", array=True, maximum=1e18))
    if sizes.size > 100_000:
        raise ValueError(f"sizes must hold at most 100,000 message sizes, got {sizes.size:,}")
    times = [allreduce_time(sizes, n, bandwidth, latency, alg) for alg in ALGORITHMS]
    fig, ax = new_axes(ax, margins={})
    for i, (alg, t) in enumerate(zip(ALGORITHMS, times)):
        ax.loglog(sizes, t, color=f"C{i}", ls=LINESTYLES[i % len(LINESTYLES)], label=alg)
    ax.set(xlabel="message size (bytes)", ylabel="all-reduce time (s)",
           title=f"All-reduce on {n:,} ranks, α = {u.fmt_seconds(latency)}, β = {u.fmt_bandwidth(bandwidth)}")
    ax.legend(fontsize=8)
    ax.grid(True, which="major", alpha=0.3)
    no_minor_ticks(ax)
    return fig


_BUSBW_SIZES = 2.0 ** np.arange(3, 35)  # bytes: nccl-tests' default sweep, 8 B to 16 GiB (-b 8 -e 16G -f 2)


def _busbw_ticks(ax):
    ax.set_xticks([1e3, 1e6, 1e9], ["1 kB", "1 MB", "1 GB"])
    ax.grid(True, which="major", alpha=0.3)
    no_minor_ticks(ax)


def plot_busbw_vs_size(gpus_per_node, nodes, intra_bandwidth_bytes_per_s, inter_bandwidth_bytes_per_s,
                       fractions=(0.8, 0.9), ax=None):
    """The busbw column of an all_reduce_perf run (8 B to 16 GiB, ×2 steps) as NCCL's model predicts it.

    One line per ring protocol and NCCL's pick ("auto"), a dotted line at the bus bandwidth, and the
    sizes where the pick first reaches each of ``fractions`` of it marked.
    """
    fractions = [float(_fraction_open(f"fractions[{i}]", f)) for i, f in
                 enumerate(sequence("fractions", fractions, maximum=10))]
    _, g, m, b_in, b_out = _nccl_args(0.0, gpus_per_node, nodes, intra_bandwidth_bytes_per_s,
                                      inter_bandwidth_bytes_per_s)
    if g * m < 2:
        raise ValueError("gpus_per_node × nodes must be at least 2: one GPU has no all-reduce to measure")
    peak = nccl_bus_bandwidth(g, m, b_in, b_out)
    fig, ax = new_axes(ax, (8, 4.2), margins={})
    sizes = _BUSBW_SIZES
    for i, proto in enumerate(NCCL_PROTOCOLS):
        bw = nccl_allreduce_busbw(sizes, g, m, b_in, b_out, "ring", proto)
        ax.semilogx(sizes, bw / u.GB, color=f"C{i}", ls=LINESTYLES[i % len(LINESTYLES)], lw=1, alpha=0.7,
                    label=f"ring, {proto}")
    best = nccl_allreduce_busbw(sizes, g, m, b_in, b_out)
    ax.semilogx(sizes, best / u.GB, "k.-", lw=2, ms=4, label="NCCL's pick (ring or tree, any protocol)")
    ax.axhline(peak / u.GB, color="grey", ls=":", lw=1)
    ax.text(sizes[0], peak / u.GB, f" bus bandwidth {u.fmt_bandwidth(peak)}", va="bottom", fontsize=8, color="grey")
    for f in fractions:
        size = nccl_size_for_busbw_fraction(f, g, m, b_in, b_out)
        if size <= sizes[-1]:
            ax.axvline(size, color="C3", ls="--", lw=1)
            ax.text(size, f * peak / u.GB, f"{f:.0%} at {u.fmt_bytes(size)} ", fontsize=8, color="C3",
                    va="top", ha="right")
    ax.set(xlabel="all-reduce size (bytes)", ylabel="busbw (GB/s)", ylim=(0, peak / u.GB * 1.12),
           title=f"all_reduce_perf as NCCL's model predicts it: {m} node(s) × {g} GPUs")
    ax.legend(fontsize=8, loc="center left")
    _busbw_ticks(ax)
    return fig


def plot_allreduce_strategies(gpus_per_node, nodes, intra_bandwidth_bytes_per_s, inter_bandwidth_bytes_per_s,
                              ax=None):
    """busbw vs size of the five strategies of compare_allreduce_strategies (NCCL's ring and tree, the
    flat ring NCCL never builds, the three-phase hierarchy, SHARP across nodes)."""
    _, g, m, b_in, b_out = _nccl_args(0.0, gpus_per_node, nodes, intra_bandwidth_bytes_per_s,
                                      inter_bandwidth_bytes_per_s)
    n = g * m
    if n < 2:
        raise ValueError("gpus_per_node × nodes must be at least 2: one GPU has no all-reduce to compare")
    sizes = _BUSBW_SIZES
    fig, ax = new_axes(ax, (8, 4.2), margins={})
    for i, (name, t) in enumerate(compare_allreduce_strategies(sizes, g, m, b_in, b_out).items()):
        ax.semilogx(sizes, bus_bandwidth(sizes, t, n) / u.GB, color=f"C{i}", ls=LINESTYLES[i % len(LINESTYLES)],
                    label=name)
    ax.set(xlabel="all-reduce size (bytes)", ylabel="busbw (GB/s)", ylim=(0, None),
           title=f"All-reduce on {m} nodes × {g} GPUs: NVLink {u.fmt_bandwidth(b_in)}, NIC {u.fmt_bandwidth(b_out)}")
    ax.legend(fontsize=8)
    _busbw_ticks(ax)
    return fig


def plot_oversubscription(runs, ax=None):
    """Simulated all-reduce time by leaf oversubscription, one line per placement, from FabricSimResults."""
    results = list(runs) if isinstance(runs, (list, tuple)) else [runs]
    sequence("runs", results, maximum=100)
    for i, r in enumerate(results):
        instance(f"runs[{i}]", r, FabricSimResult, "a FabricSimResult from simulate_fat_tree_allreduce")
    fig, ax = new_axes(ax, (7, 3.8), margins={})
    for i, placement in enumerate(PLACEMENTS):
        rows = sorted((r for r in results if r.placement == placement), key=lambda r: r.oversubscription)
        if rows:
            ax.plot([r.oversubscription for r in rows], [r.time * 1e3 for r in rows], "-", marker=MARKERS[i],
                    color=f"C{i}", label=f"{placement}: simulated")
            ax.plot([r.oversubscription for r in rows], [r.analytic_time * 1e3 for r in rows], ":", marker=MARKERS[i],
                    mfc="none", color=f"C{i}", label=f"{placement}: fluid bound")
    first = results[0]
    ax.set(xlabel="leaf oversubscription (down : up ports)", ylabel="all-reduce time (ms)", ylim=(0, None),
           title=f"Ring all-reduce of {u.fmt_bytes(first.nbytes)} on {first.n_devices} GPUs, "
                 f"{first.gpus_per_leaf} per leaf")
    ax.legend(fontsize=8)
    return fig


def plot_ring_timeline(result, ax=None, max_links=16):
    """A Gantt chart of a RingSimResult: one row per link (the first ``max_links``), one bar per message,
    coloured by step."""
    import matplotlib.pyplot as plt
    instance("result", result, RingSimResult, "a RingSimResult from simulate_ring_allreduce")
    max_links = integer("max_links", max_links, minimum=1, maximum=256)
    rows = min(result.n, max_links)
    height = 0.35 * rows + 1.6
    fig, ax = new_axes(ax, (8, height), {"bottom": 0.75 / height, "top": 1 - 0.45 / height, "left": 0.08})
    steps = max(1, int(result.step.max()) + 1) if result.step.size else 1
    cmap = plt.get_cmap("viridis")
    colours = [cmap(s / max(1, steps - 1)) for s in result.step]
    bws = result.link_bandwidths_bytes_per_s
    for i in range(rows):
        starts, ends = result.busy_start[i], result.busy_end[i]
        ax.broken_barh(list(zip(starts, ends - starts)), (i - 0.4, 0.8), facecolors=colours, edgecolor="white",
                       linewidth=0.3)
        if i == result.slowest_link and bws.min() < bws.max():
            ax.text(result.time, i, " slow link", va="center", fontsize=8, color="C3")
    ax.set(xlabel="time (s)", ylabel="link (rank i → i+1)", ylim=(rows - 0.5, -0.5),
           title=f"Ring all-reduce, {result.n} ranks, {result.chunks} chunk(s)/step: "
                 f"{u.fmt_seconds(result.time)} (colour = step, 2(n−1) = {steps} steps)")
    if result.time > 0:
        ax.set_xlim(0, result.time * 1.12)
    return fig


def _switch_label(t):
    """Network switches, and the NVSwitches inside nodes separately: a fat tree's count has none."""
    nvs = t.switches.get("nvswitch", 0)
    net = t.n_switches - nvs
    return f"{net:,} network switches" + (f"\n+ {nvs:,} NVSwitches" if nvs else "")


def plot_topologies(topologies, ax=None):
    """Bisection bandwidth per GPU and diameter of several Topology objects, side by side.

    The right-hand labels count network switches; NVSwitches inside nodes (rail_optimized) are listed
    apart, so a fat tree and a rail-optimized tree of the same GPUs compare like with like.
    """
    topologies = sequence("topologies", topologies, maximum=100)
    for i, t in enumerate(topologies):
        instance(f"topologies[{i}]", t, Topology, "a Topology (from fat_tree, rail_optimized or torus)")
    axes("ax", ax)
    if ax is None:
        import matplotlib.pyplot as plt
        fig, (ax, ax2) = plt.subplots(1, 2, figsize=(9, 3.8))
        fig.subplots_adjust(left=0.24, right=0.76, bottom=0.15, top=0.9, wspace=0.1)
    else:
        fig, ax2 = ax.figure, ax.twinx()
    names = [t.name for t in topologies]
    y = np.arange(len(names))
    ax.barh(y, [t.bisection_per_gpu / u.GB for t in topologies], color="C0")
    ax.set_yticks(y, names)
    ax.invert_yaxis()
    ax.set(xlabel="bisection bandwidth per GPU (GB/s)", title=f"{topologies[0].n_devices:,} GPUs")
    ax2.barh(y, [t.diameter for t in topologies], color="C1")
    ax2.set_yticks(y, [_switch_label(t) for t in topologies])
    ax2.invert_yaxis()
    ax2.yaxis.tick_right()
    ax2.set(xlabel="diameter (links, worst case)")
    return fig


def plot_overlap(n_devices, grad_bytes, compute_time, bandwidth_bytes_per_s, latency=0.0, *,
                 bucket_bytes=DDP_BUCKET_BYTES, backward_fraction=2 / 3, ax=None):
    """The timeline of one data-parallel step: forward, backward, and the bucket all-reduces after it."""
    n_devices = integer("n_devices", n_devices, minimum=1)
    compute_time = positive("compute_time", compute_time, "s")
    bandwidth_bytes_per_s = positive("bandwidth_bytes_per_s", bandwidth_bytes_per_s, "bytes/s")
    latency = nonnegative("latency", latency, "s")
    axes("ax", ax)
    r = data_parallel_step(n_devices, grad_bytes, compute_time, bandwidth_bytes_per_s, latency,
                           bucket_bytes=bucket_bytes, backward_fraction=backward_fraction)
    backward_fraction = float(backward_fraction)
    fig, ax = new_axes(ax, (8, 2.6), {"left": 0.14, "bottom": 0.2, "top": 0.86})
    fwd = compute_time * (1 - backward_fraction)
    ax.broken_barh([(0, fwd)], (1.6, 0.8), facecolors="C0")
    ax.broken_barh([(fwd, compute_time - fwd)], (1.6, 0.8), facecolors="C1")
    ax.text(fwd / 2, 2, "forward", ha="center", va="center", color="white", fontsize=8)
    ax.text(fwd + (compute_time - fwd) / 2, 2, "backward", ha="center", va="center", color="white", fontsize=8)
    B, t_b = r.n_buckets, float(r.bucket_time)
    ready = fwd + (np.arange(B) + 1) * (compute_time - fwd) / B
    done, bars = 0.0, []
    for j in range(B):
        begin = max(ready[j], done)
        done = begin + t_b
        bars.append((begin, t_b))
    if n_devices > 1:
        ax.broken_barh(bars, (0.6, 0.8), facecolors="C2", edgecolor="white", linewidth=0.3)
    ax.axvline(float(r.step_time), color="C3", ls="--")
    ax.set_yticks([1, 2], ["all-reduce\n(buckets)", "compute"])
    ax.set(xlabel="time (s)", title=f"{n_devices:,} GPUs, {B} buckets: step {u.fmt_seconds(float(r.step_time))}, "
                                    f"efficiency {float(r.efficiency):.0%}")
    return fig


def plot_scaling(results, ax=None):
    """Scaling efficiency vs GPU count for one ScalingResult or a list of them."""
    results = list(results) if isinstance(results, (list, tuple)) else [results]
    sequence("results", results, maximum=100)
    for i, r in enumerate(results):
        instance(f"results[{i}]" if len(results) > 1 else "results", r, ScalingResult,
                 "a ScalingResult from scaling(), or a list of them")
    fig, ax = new_axes(ax, margins={})
    for i, r in enumerate(results):
        ax.semilogx(r.n_devices, r.efficiency, color=f"C{i % 8}", ls=LINESTYLES[i % 8], marker=MARKERS[i % 8], ms=3,
                    label=f"{r.mode} scaling")
    ax.axhline(0.9, color="grey", ls=":", lw=1)
    ax.set(xlabel="GPUs", ylabel="scaling efficiency", ylim=(0, 1.05), title="Data parallelism: weak vs strong scaling")
    ax.legend(fontsize=8)
    no_minor_ticks(ax)
    return fig
