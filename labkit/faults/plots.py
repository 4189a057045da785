"""Chapter 05's plots: MTBF at scale, the interruption table, goodput curves and maps, timelines,
the spread over seeds, checkpoint tiers, spares, SDC and elastic training."""

import math

import numpy as np

from .. import units as u
from ..core.plotting import HATCHES, LINESTYLES, MARKERS, log_axis, new_axes, no_minor_ticks
from ..core.timeline import FAULT_STATES, Timeline
from ..core.validate import fraction, instance, integer, nonnegative, positive, sequence
from ._common import LLAMA3_DAYS, LLAMA3_GPUS, STATE_COLORS, STATE_HATCHES, STATE_KEY, _bars_path
from .mtbf import cluster_mtbf, llama3_interruptions, llama3_mtbf
from .intervals import daly_interval, optimal_interval, young_interval
from .analytic import expected_goodput, goodput_map
from .practice import checkpoint_tiers, elastic_goodput, GoodputSplit, llama3_sdc_mtbf, sdc_waste, spare_shortfall
from .simulation import SeedSpread, TrainingRun

# ---------------------------------------------------------------------------------------------
# Data and plots
# ---------------------------------------------------------------------------------------------
def plot_mtbf_vs_scale(ax=None, device_mtbf=None, n_max=200_000, job_time=LLAMA3_DAYS * u.DAY):
    """Cluster MTBF (hours) against device count up to ``n_max``, and the job length ``job_time`` (s)
    for comparison. ``device_mtbf`` (s): Llama 3's per-GPU MTBF when None."""
    device_mtbf = llama3_mtbf()[1] if device_mtbf is None else positive("device_mtbf", device_mtbf, "s",
                                                                          maximum=1e300)
    n_max = integer("n_max", n_max, minimum=2, maximum=10**9)
    job_time = positive("job_time", job_time, "s", maximum=1e300)
    fig, ax = new_axes(ax, figsize=(7, 4))
    n = np.logspace(0, math.log10(n_max), 200)
    m = cluster_mtbf(device_mtbf, n)
    ax.loglog(n, m / u.HOUR, color="C0", label="cluster MTBF = device MTBF / N")
    ax.axhline(job_time / u.HOUR, color="grey", ls=":", lw=1)
    ax.text(1.3, job_time / u.HOUR * 1.2, f"job length ({u.fmt_seconds(job_time)})", color="grey")
    ax.plot([LLAMA3_GPUS], [cluster_mtbf(device_mtbf, LLAMA3_GPUS) / u.HOUR], "o", color="C3",
            label="Llama 3: 16,384 GPUs")
    ax.set(xlabel="devices in the job (N)", ylabel="mean time between failures (hours)",
           title=f"Device MTBF {device_mtbf / u.HOUR:,.0f} h: failures at scale")
    no_minor_ticks(ax)
    ax.legend(loc="lower left")
    return fig


def plot_interruptions(ax=None, table=None):
    """Horizontal bars of the Llama 3 unexpected interruptions by cause, coloured by category
    (``table``: :func:`llama3_interruptions` or a table with its columns)."""
    from ..data import Table
    t = llama3_interruptions() if table is None else instance("table", table, Table, "a labkit Table")
    missing = {"interruptions", "category", "component"} - set(t.columns)
    if missing or len(t) == 0:
        raise ValueError(f"table must hold rows with columns interruptions, category and component; "
                         f"missing {', '.join(sorted(missing)) or 'rows'}")
    counts = nonnegative("table['interruptions']", t["interruptions"], "interruptions", array=True)
    fig, ax = new_axes(ax, figsize=(7, 5))
    order = np.argsort(counts)
    cats = sorted(set(t["category"]))
    colors = {c: f"C{i}" for i, c in enumerate(cats)}
    hatches = {c: HATCHES[i % len(HATCHES)] for i, c in enumerate(cats)}
    y = np.arange(len(order))
    bars = ax.barh(y, counts[order], color=[colors[c] for c in t["category"][order]], edgecolor="white", linewidth=0)
    for bar, c in zip(bars, t["category"][order]):
        bar.set_hatch(hatches[c])
    ax.set_yticks(y, t["component"][order], fontsize=8)
    from matplotlib.patches import Patch
    ax.set(xlabel="unexpected interruptions in 54 days", title="Llama 3 405B: what interrupted training")
    ax.legend(handles=[Patch(facecolor=colors[c], edgecolor="white", hatch=hatches[c], label=c) for c in cats],
              fontsize=8, loc="lower right")
    return fig


def plot_waste_vs_interval(ax=None, checkpoint_time=60.0, restart_time=300.0, mtbf=None, intervals=None,
                           simulated=None):
    """Expected goodput against the checkpoint interval (a ∩ curve; waste is the U), with Young's,
    Daly's and the exact optimum marked. ``simulated=(intervals, mean, stderr)`` adds points."""
    checkpoint_time = positive("checkpoint_time", checkpoint_time, "s", maximum=1e300)
    restart_time = nonnegative("restart_time", restart_time, "s")
    mtbf = llama3_mtbf()[0] if mtbf is None else positive("mtbf", mtbf, "s", maximum=1e300)
    if intervals is None:
        taus = np.logspace(math.log10(max(checkpoint_time, 1.0) / 5), math.log10(5 * mtbf), 300)
    else:
        taus = np.sort(np.atleast_1d(positive("intervals", intervals, "s", array=True)).ravel())
    if simulated is not None:
        if not isinstance(simulated, (tuple, list)) or len(simulated) != 3:
            raise TypeError(f"simulated must be a tuple (intervals, mean, stderr), got {simulated!r:.60}")
        st = np.atleast_1d(positive("simulated[0] (intervals)", simulated[0], "s", array=True))
        mean = np.atleast_1d(fraction("simulated[1] (mean goodput)", simulated[1], array=True))
        err = np.atleast_1d(nonnegative("simulated[2] (stderr)", simulated[2], array=True))
        if not st.shape == mean.shape == err.shape:
            raise ValueError(f"simulated must hold three arrays of one length, got {st.size}, {mean.size}, {err.size}")
    fig, ax = new_axes(ax, figsize=(7, 4))
    ax.semilogx(taus / u.MINUTE, expected_goodput(taus, checkpoint_time, restart_time, mtbf), color="C0",
                label="analytic (Daly's exact model)")
    for rule, style in ((young_interval, "--"), (daly_interval, ":"), (optimal_interval, "-.")):
        t = float(rule(checkpoint_time, mtbf))
        ax.axvline(t / u.MINUTE, color="grey", ls=style, lw=1,
                   label=f"{rule.__name__.replace('_interval', '')}: {t / u.MINUTE:.1f} min")
    if simulated is not None:
        ax.errorbar(st / u.MINUTE, mean, yerr=err, fmt="o", color="C3", ms=4, label="simulated (mean ± s.e.)")
    ax.set(xlabel="checkpoint interval τ (minutes of compute)", ylabel="goodput (useful / wall time)",
           title=f"δ = {u.fmt_seconds(checkpoint_time)}, R = {u.fmt_seconds(restart_time)}, "
                 f"MTBF = {u.fmt_seconds(mtbf)}")
    no_minor_ticks(ax, y=False)
    ax.legend(fontsize=8, loc="lower center")
    return fig


def plot_seed_spread(ax=None, spread=None, mark=None):
    """Histogram of the failure counts of a :class:`SeedSpread`, the Poisson spread expected from the
    mean wall time (a line), and seed ``mark``'s run (a dashed line; None for none)."""
    spread = instance("spread", spread, SeedSpread, "a SeedSpread from simulate_seeds()")
    fig, ax = new_axes(ax, figsize=(7, 3.5), margins={"bottom": 0.15})
    counts = spread.failures
    lo, hi = int(counts.min()), int(counts.max())
    width = max(1, (hi - lo) // 12 + 1)
    bins = np.arange(lo - width, hi + 2 * width, width)
    ax.hist(counts, bins=bins, color="C0", alpha=0.7, label=f"{len(counts)} seeds")
    e = spread.expected_failures
    k = np.arange(max(0, int(e - 4.5 * math.sqrt(e))), int(e + 4.5 * math.sqrt(e)) + 1)
    log_pmf = k * math.log(e) - e - np.array([math.lgamma(x + 1) for x in k])
    ax.plot(k, len(counts) * width * np.exp(log_pmf), color="C3",
            label=f"Poisson, mean {e:.0f} ± {math.sqrt(e):.0f}")
    if mark is not None:
        i = integer("mark", mark, minimum=0, maximum=len(counts) - 1)
        ax.axvline(counts[i], color="k", ls="--", lw=1, label=f"seed {i}: {counts[i]} failures")
    ax.set(xlabel="failures in the run", ylabel="seeds", title="One run is one draw: failure counts over seeds")
    ax.legend(fontsize=8)
    return fig


def plot_checkpoint_tiers(ax=None, rows=None, mtbf=None, restart_time=300.0):
    """Checkpoint time per tier (bars, log scale; ``rows`` from :func:`checkpoint_tiers`) and the
    expected goodput each gives at the optimal interval (text) for ``mtbf`` (s; Llama 3's when None)
    and ``restart_time`` (s)."""
    rows = checkpoint_tiers() if rows is None else sequence("rows", rows, maximum=20)
    for r in rows:
        if not isinstance(r, dict) or not {"tier", "seconds"} <= set(r):
            raise ValueError(f"rows must be checkpoint_tiers' rows (dicts with tier and seconds), got {r!r:.80}")
    mtbf = llama3_mtbf()[0] if mtbf is None else positive("mtbf", mtbf, "s")
    restart_time = nonnegative("restart_time", restart_time, "s")
    seconds = np.array([positive(f"rows[{i}]['seconds']", r["seconds"], "s") for i, r in enumerate(rows)])
    fig, ax = new_axes(ax, figsize=(7.5, 0.55 * len(rows) + 1.5), margins={"left": 0.3, "bottom": 0.2})
    y = np.arange(len(rows))[::-1]
    ax.barh(y, seconds, color="C0")
    for yi, d in zip(y, seconds):
        g = expected_goodput(optimal_interval(d, mtbf), d, restart_time, mtbf)
        ax.text(d * 1.15, yi, f"{u.fmt_seconds(d)} → goodput {g:.1%}", va="center", fontsize=8)
    ax.set_xscale("log")
    ax.set_xlim(seconds.min() / 3, seconds.max() * 60)
    ax.set_yticks(y, [r["tier"] for r in rows], fontsize=8)
    ax.set_xlabel("time to write one checkpoint δ (s)")
    ax.set_title(f"Checkpoint time by tier (R = {u.fmt_seconds(restart_time)}, MTBF {u.fmt_seconds(mtbf)})",
                 fontsize=10)
    return fig


def plot_spares(ax=None, mtbf=None, repair_time=u.DAY, n_spares=None, simulated=None):
    """Share of failures that find no hot spare ready, against the pool size (Erlang B,
    :func:`spare_shortfall`), with ``simulated=(n_spares, shares)`` from simulations as points.
    ``mtbf`` (s): a 100,000-GPU job at Llama 3's per-GPU MTBF when None."""
    mtbf = float(cluster_mtbf(llama3_mtbf()[1], 100_000)) if mtbf is None else positive("mtbf", mtbf, "s")
    repair_time = positive("repair_time", repair_time, "s")
    load = repair_time / mtbf
    if load > 50_000:
        raise ValueError(f"repair_time / mtbf = {load:.3g}: too many failures in repair at once to plot")
    if n_spares is None:
        n_spares = np.arange(0, int(load + 6 * math.sqrt(load) + 10))
    s = np.atleast_1d(nonnegative("n_spares", n_spares, "spares", array=True)).astype(int)
    if s.max() > 100_000:
        raise ValueError("n_spares must be at most 100,000")
    fig, ax = new_axes(ax, figsize=(7, 3.5), margins={"bottom": 0.15})
    ax.plot(s, [100 * spare_shortfall(int(k), mtbf, repair_time) for k in s], color="C0",
            label="Erlang B (analytic)")
    if simulated is not None:
        if not isinstance(simulated, (tuple, list)) or len(simulated) != 2:
            raise TypeError(f"simulated must be a tuple (n_spares, shares), got {simulated!r:.60}")
        xs = np.atleast_1d(nonnegative("simulated[0] (n_spares)", simulated[0], array=True))
        ys = np.atleast_1d(fraction("simulated[1] (shares)", simulated[1], array=True))
        if xs.shape != ys.shape:
            raise ValueError(f"simulated must hold two arrays of one length, got {xs.size} and {ys.size}")
        ax.plot(xs, 100 * ys, "o", color="C3", ms=5, label="simulated")
    ax.axvline(load, color="grey", ls=":", lw=1)
    ax.text(load, 95, f" {load:.0f} in repair\n on average", fontsize=8, va="top", color="grey")
    ax.set(xlabel="hot spares in the pool", ylabel="failures finding no spare (%)", ylim=(0, 100),
           title=f"A failure every {u.fmt_seconds(mtbf)}, {u.fmt_seconds(repair_time)} to repair")
    ax.legend(fontsize=8)
    return fig


def plot_sdc_waste(ax=None, sdc_mtbf=None, intervals=(10 * u.MINUTE, u.HOUR, 3 * u.HOUR), restart_time=300.0):
    """Share of time silent data corruptions waste (:func:`sdc_waste`) against how long they take to
    notice, one line per checkpoint interval (s). ``sdc_mtbf`` (s): Llama 3's when None."""
    sdc_mtbf = llama3_sdc_mtbf() if sdc_mtbf is None else positive("sdc_mtbf", sdc_mtbf, "s")
    taus = np.atleast_1d(positive("intervals", intervals, "s", array=True)).ravel()
    if taus.size > 10:
        raise ValueError(f"intervals must hold at most 10 intervals, got {taus.size}")
    restart_time = nonnegative("restart_time", restart_time, "s")
    d = np.logspace(1, math.log10(2 * u.DAY), 200)
    fig, ax = new_axes(ax, figsize=(7, 3.5), margins={"bottom": 0.15})
    for i, tau in enumerate(taus):
        ax.semilogx(d / u.HOUR, 100 * sdc_waste(tau, d, restart_time, sdc_mtbf), color=f"C{i}",
                    label=f"checkpoint every {u.fmt_seconds(tau)}")
    ax.set(xlabel="time to notice a silent corruption (hours)", ylabel="time wasted (%)",
           title=f"One SDC every {u.fmt_seconds(sdc_mtbf)}: detection, not checkpoints, sets the cost")
    log_axis(ax, "x", ticks={v: f"{v:g}" for v in (0.01, 0.1, 1, 10, 48)})
    ax.legend(fontsize=8)
    return fig


def plot_elastic(ax=None, n_devices=LLAMA3_GPUS, device_mtbf=None, repair_times=(10 * u.MINUTE, u.DAY),
                 reconfigure_time=60.0, checkpoint_time=60.0, restart_time=300.0):
    """Goodput of elastic training (:func:`elastic_goodput`) against the size of one replica (GPUs
    per data-parallel replica: its tensor × pipeline group), one line per repair time (s: a spare
    swapped in, or a real repair), next to checkpoint/restart at the optimal interval."""
    n = integer("n_devices", n_devices, minimum=16, maximum=10**7)
    device_mtbf = llama3_mtbf()[1] if device_mtbf is None else positive("device_mtbf", device_mtbf, "s")
    reps = np.atleast_1d(nonnegative("repair_times", repair_times, "s", array=True)).ravel()
    if reps.size > 6:
        raise ValueError(f"repair_times must hold at most 6 times, got {reps.size}")
    reconfigure_time = nonnegative("reconfigure_time", reconfigure_time, "s")
    checkpoint_time = positive("checkpoint_time", checkpoint_time, "s")
    restart_time = nonnegative("restart_time", restart_time, "s")
    sizes = 2 ** np.arange(3, int(math.log2(n)))          # 8 GPUs (a node) up to half the job
    fig, ax = new_axes(ax, figsize=(7, 3.8), margins={"bottom": 0.15})
    for i, r in enumerate(reps):
        g = [elastic_goodput(n // int(k), device_mtbf / k, r, reconfigure_time) for k in sizes]
        ax.semilogx(sizes, 100 * np.array(g), color=f"C{i}", ls=LINESTYLES[i], marker=MARKERS[i], ms=3,
                    label=f"elastic, replica back after {u.fmt_seconds(r)}")
    m = float(cluster_mtbf(device_mtbf, n))
    g_restart = expected_goodput(optimal_interval(checkpoint_time, m), checkpoint_time, restart_time, m)
    ax.axhline(100 * g_restart, color="grey", ls="--", lw=1,
               label=f"checkpoint/restart (δ {u.fmt_seconds(checkpoint_time)}, R {u.fmt_seconds(restart_time)})")
    ax.set(xlabel="GPUs per data-parallel replica (tensor × pipeline)", ylabel="goodput (%)",
           title=f"{n:,} GPUs: continue on fewer replicas, or restart?")
    log_axis(ax, "x", ticks={int(v): f"{int(v):,}" for v in sizes[::2]})
    ax.legend(fontsize=8)
    return fig


_UNIT_LABELS = {u.HOUR: "hours", u.DAY: "days", u.MINUTE: "minutes", 1.0: "seconds"}


def _fault_timeline(name, run):
    """The FAULT_STATES timeline of a TrainingRun (or the Timeline itself)."""
    tl = run.timeline if isinstance(run, TrainingRun) else run
    if not isinstance(tl, Timeline) or tl.states != FAULT_STATES:
        raise TypeError(f"{name} must be a TrainingRun from simulate_training (or its .timeline), "
                        f"got {type(run).__name__}")
    if len(tl) == 0:
        raise ValueError(f"{name} has an empty timeline")
    return tl


def plot_timeline(ax=None, run=None, t0=0.0, t1=None, unit=u.HOUR, legend=True):
    """The run's timeline as coloured bars (compute, checkpoint, lost, restart) from t0 to t1 (s),
    in units of ``unit`` seconds (3600: hours); ▼ marks failures. ``legend=False`` puts a one-line
    colour key in the title instead (cheaper)."""
    tl = _fault_timeline("run", run)
    t0 = nonnegative("t0", t0, "s")
    t1 = float(tl.end[-1]) if t1 is None else positive("t1", t1, "s")
    if t1 <= t0:
        raise ValueError(f"t1 ({t1:g} s) must be after t0 ({t0:g} s)")
    unit = positive("unit", unit, "s")
    if not math.isfinite(t1 / unit) or t1 / unit == 0 or (t1 - t0) / unit < 1e-12 * max(1.0, t1 / unit):
        raise ValueError(f"unit ({unit:g} s) does not fit the window {t0:g}..{t1:g} s")
    legend = instance("legend", legend, (bool, np.bool_), "True or False")
    from matplotlib.patches import PathPatch
    fig, ax = new_axes(ax, figsize=(8, 1.8))
    tl = tl.window(t0, t1)
    for name in FAULT_STATES.names:
        sel = tl.state == FAULT_STATES.code(name)
        ax.add_patch(PathPatch(_bars_path(tl.start[sel] / unit, (tl.start[sel] + tl.duration[sel]) / unit),
                               facecolor=STATE_COLORS[name], hatch=STATE_HATCHES[name], edgecolor="white",
                               linewidth=0, label=name))     # one compound path per state: one hatched draw
    if isinstance(run, TrainingRun) and len(run.failure_times):
        ft = run.failure_times[(run.failure_times >= t0) & (run.failure_times <= t1)]
        ax.plot(ft / unit, np.full(len(ft), 1.08), "v", color="k", ms=4, label="failure")
    ax.set_xlim(t0 / unit, t1 / unit)
    ax.set_ylim(0, 1.2)
    ax.set_yticks([])
    ax.set_xlabel(_UNIT_LABELS.get(unit, f"time (units of {unit:g} s)"))
    if legend:
        ax.legend(ncol=5, fontsize=8, loc="upper center", bbox_to_anchor=(0.5, -0.35), frameon=False)
    else:
        ax.set_title(STATE_KEY, fontsize=8)
    return fig


def plot_goodput_map(ax=None, mtbf=None, checkpoint_times=None, restart_times=None, target=0.9):
    """Goodput (optimal interval) over checkpoint time × restart time (s; at least two of each),
    with the ``target`` contour."""
    mtbf = llama3_mtbf()[0] if mtbf is None else positive("mtbf", mtbf, "s")
    d = np.logspace(0, math.log10(1800), 40) if checkpoint_times is None else \
        np.sort(np.atleast_1d(positive("checkpoint_times", checkpoint_times, "s", array=True)).ravel())
    r = np.logspace(1, math.log10(3600), 40) if restart_times is None else \
        np.sort(np.atleast_1d(positive("restart_times", restart_times, "s", array=True)).ravel())
    for name, values in (("checkpoint_times", d), ("restart_times", r)):
        if len(np.unique(values)) < 2:
            raise ValueError(f"{name} must hold at least two different times (s) to map, got {values.size}")
    target = fraction("target", target, allow_zero=False, allow_one=False)
    g = goodput_map(d, r, mtbf)
    fig, ax = new_axes(ax, figsize=(6, 4.5))
    mesh = ax.pcolormesh(d, r / u.MINUTE, g, shading="auto", cmap="viridis", vmin=0.5, vmax=1.0)
    fig.colorbar(mesh, ax=ax, label="goodput at the optimal interval")
    if np.any(g >= target) and np.any(g < target):
        ax.contour(d, r / u.MINUTE, g, levels=[target], colors="w", linewidths=2)
        ax.plot([], [], color="w", lw=2, label=f"goodput = {target:.0%}")
        ax.legend(loc="upper right", fontsize=8, facecolor="0.3", labelcolor="w")
    ax.set(xlabel="checkpoint time δ (s)", ylabel="restart time R (minutes)",
           title=f"Goodput at MTBF = {mtbf / u.HOUR:.2f} h")
    log_axis(ax, "x", ticks={v: f"{v:g}" for v in (1, 10, 60, 300, 1800)})
    log_axis(ax, "y", ticks={v: f"{v:g}" for v in (0.5, 1, 2, 5, 10, 30, 60)})
    return fig


def plot_goodput_split(ax=None, split=None):
    """Where peak compute goes, the way Google splits goodput: a bar from 100 % of peak down to what
    is left after scheduling, runtime and program losses (``split``: a :class:`GoodputSplit`)."""
    split = instance("split", split, GoodputSplit, "a GoodputSplit from goodput_split()")
    fig, ax = new_axes(ax, figsize=(7, 3.2), margins={"bottom": 0.1, "top": 0.88})
    level, x = 100.0, 0
    ax.bar(x, level, color="0.7")
    ax.text(x, level + 1, "peak", ha="center", fontsize=8)
    for name, share, color in (("scheduling", split.scheduling, "C1"), ("runtime", split.runtime, "C3"),
                               ("program", split.program, "C4")):
        x += 1
        kept = level * share
        ax.bar(x, level - kept, bottom=kept, color=color, alpha=0.8)
        ax.text(x, level + 1, f"−{level - kept:.1f} pts\n({name} {share:.0%})", ha="center", fontsize=8)
        level = kept
    ax.bar(x + 1, level, color="C2")
    ax.text(x + 1, level + 1, f"{level:.1f} %", ha="center", fontsize=8)
    ax.set_xticks(range(x + 2), ["peak", "scheduling", "runtime", "program", "goodput"])
    ax.set(ylim=(0, 118), ylabel="% of peak device-time", title="ML productivity goodput = "
                                                                 "scheduling × runtime × program")
    return fig
