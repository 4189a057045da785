"""The goodput explorer: sliders for scale, MTBF, checkpoint bytes and bandwidth, restart, interval."""

import math

import numpy as np

from .. import units as u
from ..core.plotting import log_axis
from ..core.timeline import FAULT_STATES
from ..core.validate import number
from ._common import LLAMA3_GPUS, STATE_COLORS, STATE_HATCHES, STATE_KEY, _bars_path, _set_path
from .mtbf import cluster_mtbf, llama3_mtbf
from .intervals import optimal_interval, young_interval
from .analytic import expected_goodput
from .practice import checkpoint_write_time, LLAMA3_STORAGE_SUSTAINED_BYTES_PER_S
from .simulation import simulate_training

# ---------------------------------------------------------------------------------------------
# Explorer
# ---------------------------------------------------------------------------------------------
_WINDOW_CACHE = {}
_WINDOW_HOURS = 24.0                                      # the simulated day under the curve
_EXPLORER_TAUS_MIN = np.logspace(0, math.log10(600), 160)   # the goodput curve's x (minutes)


def _window_run(n, device_mtbf, interval, checkpoint_time, restart_time, window):
    """A short seeded simulation for the explorer's timeline, cached by its parameters."""
    key = (n, device_mtbf, interval, checkpoint_time, restart_time, window)
    if key not in _WINDOW_CACHE:
        if len(_WINDOW_CACHE) > 256:
            _WINDOW_CACHE.clear()
        _WINDOW_CACHE[key] = simulate_training(n, device_mtbf, window, interval, checkpoint_time, restart_time,
                                               seed=0, max_wall_time=window)
    return _WINDOW_CACHE[key]


def _build_goodput(fig):
    """The explorer's axes, built once with fixed limits: expected goodput against the interval
    (top) and one seeded simulated day (bottom). Returns the artists that move."""
    from matplotlib.patches import PathPatch
    from matplotlib.ticker import ScalarFormatter

    ax1, ax2 = fig.subplots(2, 1, gridspec_kw={"height_ratios": [3, 1]})
    fig.subplots_adjust(hspace=0.6, bottom=0.1, top=0.93)
    x = _EXPLORER_TAUS_MIN
    h = {}
    h["curve"], = ax1.plot(x, np.full_like(x, np.nan), color="C0")
    h["young"] = ax1.axvline(1.0, color="grey", ls="--", lw=1, label="Young")
    h["best"] = ax1.axvline(1.0, color="grey", lw=1, label="optimal")
    h["yours"], = ax1.plot([1.0], [0.0], "o", color="C3", label="yours")
    ax1.axhline(90, color="C2", ls=":", lw=1)
    ax1.set(xlim=(0.8, 750), ylim=(0, 100), yticks=[0, 20, 40, 60, 80, 90, 100], ylabel="goodput (%)")
    log_axis(ax1, "x", ticks=[1, 3, 10, 30, 100, 300])
    ax1.xaxis.set_major_formatter(ScalarFormatter())
    ax1.set_xlim(0.8, 750)
    ax1.set_xlabel("checkpoint interval (minutes of compute)", fontsize=8, labelpad=1)
    h["title"] = ax1.set_title("", y=1.0)   # a fixed place: auto-placing reads the hidden axis
    h["legend"] = ax1.legend(fontsize=7, loc="lower left")
    # the timeline: per state one compound path of its intervals (its colour and hatch; one draw call)
    h["bars"] = [ax2.add_patch(PathPatch(_bars_path([], []), facecolor=STATE_COLORS[k], edgecolor="white",
                                         hatch=STATE_HATCHES[k], linewidth=0))
                 for k in FAULT_STATES.names]
    h["failures"], = ax2.plot([], [], "v", color="k", ms=4)
    ax2.set(xlim=(0, _WINDOW_HOURS), ylim=(0, 1.2), yticks=[])
    ax2.set_title(STATE_KEY, fontsize=8)
    ax2.set_xlabel(f"hours (one seeded simulation of the first {_WINDOW_HOURS:.0f} h)", fontsize=8, labelpad=1)
    return h


def _update_goodput(h, n_devices, device_mtbf_hours, checkpoint_gb_per_gpu, write_gb_per_s, restart_time_min,
                    interval_min):
    """One slider move: devices, per-device MTBF (hours), checkpoint shard per GPU (GB) and the write
    bandwidth each GPU gets (GB/s), restart time (minutes) and interval (minutes of compute), the
    explorer's units; the model gets SI seconds, with δ = shard ÷ bandwidth."""
    n = max(1, int(round(n_devices)))
    device_mtbf = device_mtbf_hours * u.HOUR
    delta = float(checkpoint_write_time(checkpoint_gb_per_gpu * u.GB, write_gb_per_s * u.GB))
    restart, tau = restart_time_min * u.MINUTE, interval_min * u.MINUTE
    m = float(cluster_mtbf(device_mtbf, n))
    best = optimal_interval(delta, m)
    young = float(young_interval(delta, m))
    g_here = expected_goodput(tau, delta, restart, m)
    g_best = expected_goodput(best, delta, restart, m)
    h["curve"].set_ydata(100 * expected_goodput(_EXPLORER_TAUS_MIN * u.MINUTE, delta, restart, m))
    h["young"].set_xdata([young / u.MINUTE] * 2)
    h["best"].set_xdata([best / u.MINUTE] * 2)
    h["yours"].set_data([interval_min], [100 * g_here])
    labels = (f"Young {young / u.MINUTE:.1f} min", f"optimal {best / u.MINUTE:.1f} min", f"yours: {g_here:.1%}")
    for text, label in zip(h["legend"].get_texts(), labels):
        text.set_text(label)
    h["title"].set_text(f"{n:,} GPUs → cluster MTBF {u.fmt_seconds(m)}")

    window = _WINDOW_HOURS * u.HOUR
    run = _window_run(n, device_mtbf, tau, delta, restart, window)
    tl = run.timeline
    x0, x1 = tl.start / u.HOUR, tl.end / u.HOUR
    for code, bars in enumerate(h["bars"]):
        sel = tl.state == code
        _set_path(bars, _bars_path(x0[sel], x1[sel]))
    ft = run.failure_times[run.failure_times <= window] / u.HOUR
    h["failures"].set_data(ft, np.full(len(ft), 1.08))
    share = tl.fractions()
    return (f"δ = {u.fmt_seconds(delta)} ({checkpoint_gb_per_gpu:.3g} GB at {write_gb_per_s:.3g} GB/s); "
            f"expected goodput {g_here:.1%} at {interval_min:.1f} min (best {g_best:.1%} at "
            f"{best / u.MINUTE:.1f} min); simulated day: {run.failures} failures, "
            + ", ".join(f"{k} {v:.0%}" for k, v in share.items()))


def goodput_explorer(n_devices=LLAMA3_GPUS, device_mtbf_hours=None, checkpoint_gb_per_gpu=4.0, write_gb_per_s=None,
                     restart_time_min=5.0, interval_min=None):
    """Sliders: devices, per-device MTBF (hours), checkpoint shard per GPU (GB) and each GPU's write
    bandwidth (GB/s; δ is their ratio, not a slider of its own), restart time (minutes) and interval
    (minutes of compute) → expected goodput and a simulated day. Defaults: Llama 3's per-GPU MTBF,
    its largest 4 GB shard at a 1/16,384 share of its store's 2 TB/s (δ ≈ 33 s), Young's interval."""
    from ..core.explore import explorer, slider

    n_devices = number("n_devices", n_devices, "devices", minimum=1_000, maximum=200_000)
    device_mtbf_hours = round(llama3_mtbf()[1] / u.HOUR) if device_mtbf_hours is None else \
        number("device_mtbf_hours", device_mtbf_hours, "hours", minimum=5_000, maximum=500_000)
    checkpoint_gb_per_gpu = number("checkpoint_gb_per_gpu", checkpoint_gb_per_gpu, "GB", minimum=0.01, maximum=10)
    write_gb_per_s = round(LLAMA3_STORAGE_SUSTAINED_BYTES_PER_S / LLAMA3_GPUS / u.GB, 3) if write_gb_per_s is None \
        else number("write_gb_per_s", write_gb_per_s, "GB/s", minimum=0.01, maximum=100)
    restart_time_min = number("restart_time_min", restart_time_min, "minutes", minimum=0.5, maximum=60)
    if interval_min is None:
        m = float(cluster_mtbf(device_mtbf_hours * u.HOUR, n_devices))
        delta = checkpoint_gb_per_gpu / write_gb_per_s
        interval_min = min(600.0, max(1.0, round(float(young_interval(delta, m)) / u.MINUTE, 1)))
    interval_min = number("interval_min", interval_min, "minutes", minimum=1, maximum=600)
    return explorer(_build_goodput, _update_goodput, title="Checkpointing at scale: goodput and a simulated day",
                    figsize=(7.5, 5.0),
                    n_devices=slider(n_devices, 1_000, 200_000, None, "GPUs", log=True, readout_format=",.0f"),
                    device_mtbf_hours=slider(device_mtbf_hours, 5_000, 500_000, None, "per-GPU MTBF (h)", log=True,
                                             readout_format=",.0f"),
                    checkpoint_gb_per_gpu=slider(checkpoint_gb_per_gpu, 0.01, 10, None, "checkpoint GB per GPU",
                                                 log=True),
                    write_gb_per_s=slider(write_gb_per_s, 0.01, 100, None, "write GB/s per GPU", log=True),
                    restart_time_min=slider(restart_time_min, 0.5, 60, 0.5, "restart (min)"),
                    interval_min=slider(interval_min, 1, 600, None, "interval (min)", log=True))
