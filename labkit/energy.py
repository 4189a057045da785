"""Chapter 06 — energy: power, PUE, training energy and carbon, idle silicon, power caps, cleaner hours.

SI inside: watts, joules, seconds, FLOP, bytes. One exception follows the way the field publishes it:
grid carbon intensity is in grams of CO2e per kWh (``grid_g_per_kwh``). Emissions come out in
kilograms of CO2e.

Models (each stated where it is defined):
- power grows linearly with utilization, from idle to maximum (``device_power``);
- the facility adds cooling and power-distribution overhead: total = IT × PUE (``facility_power``);
- energy = devices × time × average power × PUE (``training_energy``), carbon = energy × grid intensity;
- a decode step is memory- or compute-bound, whichever takes longer (``labkit.core.roofline.decode_step_time``);
- a timeline (``labkit.core.timeline.Timeline``, what chapters 04 and 05 simulate) says per interval how
  hard the devices work and how much of that work is kept (``timeline_energy``, ``timeline_power``);
- DVFS under a power cap: dynamic power ∝ clock × voltage², voltage ∝ clock down to a floor; compute-bound
  time ∝ 1/clock, memory-bound phases draw less and do not stretch (``power_cap_tradeoff``);
- a deferrable job may start up to ``max_delay_s`` late; the grid profile repeats daily; GPUs held for a
  waiting job may draw power while it waits (``carbon_aware_schedule``).

One set of power assumptions serves the whole chapter (``IDLE_POWER_FRACTION``, ``MIN_CLOCK_FRACTION``,
``MEMORY_BOUND_ACTIVITY``, ``HOST_POWER_W``), each cited or named as an assumption where it is defined.
Datasheet figures (peak FLOP/s, bandwidth, TDP) come from ``labkit.core.devices.datasheet``.
"""

import math
from dataclasses import dataclass

import numpy as np

from . import units as u
from .core.devices import TRAINING_GPUS, datasheet
from .core.plotting import LINESTYLES, MARKERS
from .core.published import published_run  # noqa: F401  (re-exported: GPT-3 and the other runs of models.csv)
from .core.roofline import decode_step_time
from .core.timeline import Timeline
from .core.validate import (MAX_COUNT, choice, finite_result, fraction, instance, integer, nonnegative, number,
                            positive, records, scalar_or_array, sequence, text)

# ---------------------------------------------------------------------------------------------
# The chapter's one set of power assumptions
# ---------------------------------------------------------------------------------------------
IDLE_POWER_FRACTION = 0.2
"""A GPU that waits (for data, for its peers, for a checkpoint or a restart) draws 20 % of its TDP
(H100: 140 W). Measured range: GPUs starved by their input pipeline (Zeus trace, ShuffleNet at batch 8)
drew 39 W of a V100's 250 W (16 %) and about 90 W of an A40's 300 W (30 %), whatever the power limit
(``datasets/power_limit_sweeps.csv`` cites the trace); 20 % is inside that range, not a datasheet figure.
The same number is the DVFS model's clock-independent (static) power: leakage, memory and board power
that a cap cannot remove, so a busy GPU at its lowest clock draws no less than a waiting one."""

STATIC_POWER_FRACTION = IDLE_POWER_FRACTION
"""The DVFS model's static power as a fraction of TDP: the same assumption as ``IDLE_POWER_FRACTION``
(kept as a name for older code; it was a separate 30 % before)."""

MIN_CLOCK_FRACTION = 0.8
"""Assumption: below 80 % of its maximum clock a GPU's voltage is already at its minimum, so power falls
only linearly with the clock (dynamic power ∝ f·V²; above the floor V ∝ f gives f³). No datasheet publishes
the floor; 0.8 is chosen to agree with Zeus's measured sweeps: capping an A40 to half its TDP slowed
ResNet-50 by 64 %, where the cube law alone predicts 39 % and the floor 71 % (``tests/test_energy.py``)."""

MEMORY_BOUND_ACTIVITY = 0.5
"""Assumption: a memory-bound phase draws half the clock-dependent power of a compute-bound one (its
arithmetic units mostly wait on HBM), so memory-bound work runs below TDP even uncapped. Consistent with
Zeus's A40 trace: uncapped, memory-heavier DeepSpeech2 drew 177 W and ResNet-50 235 W of the 300 W limit."""

HOST_POWER_W = (10_200.0 - 8 * 700.0) / 8
"""Host power per GPU at most: a DGX H100's maximum input is 10.2 kW against 8 × 700 W of GPUs, so CPUs,
DRAM, NICs, NVSwitches, storage and fans may add up to 575 W per GPU (``datasets/system_power.csv``; a
provisioning maximum, the average is lower). A GPU power cap does not lower it, and a slower run pays it
for longer."""

HOST_POWER_FRACTION = 0.10
"""Host power per accelerator on AVERAGE over a training run, as a fraction of its TDP: Patterson et al.
2021 (arXiv:2104.10350), Table 4, give GPT-3's average system power as 330 W per 300 W V100 — 10 % on top
of the GPU. The capstone (``labkit.codesign``) uses it; ``HOST_POWER_W`` above is the provisioning maximum
of a DGX H100, not an average. One home for both, so the chapters cannot drift apart."""

# Lifecycle emissions of electricity by source, g CO2e per kWh: medians of IPCC AR5 WG3 Annex III
# (Schlömer et al. 2014, Table A.III.2). Oil is not in that table: 650 is an assumption.
LIFECYCLE_G_PER_KWH = {"wind": 11.0, "solar": 41.0, "hydro": 24.0, "oil": 650.0, "gas": 490.0,
                       "coal": 820.0, "nuclear": 12.0, "other": 230.0}


#: The highest PUE accepted: surveyed data centers range from about 1.05 to 3 (datasets/pue.csv).
MAX_PUE = 10.0


def _finite(value, what, *names):
    """``finite_result`` whose message names the arguments that produced ``what``."""
    return finite_result(value, f"{what} (from {', '.join(names)})")


# ---------------------------------------------------------------------------------------------
# Power, PUE, energy and carbon
# ---------------------------------------------------------------------------------------------
def device_power(utilization, idle_power_w, max_power_w):
    """Power (W) of a device busy a fraction ``utilization`` of the time (0..1, scalar or array).

    Model: linear from ``idle_power_w`` at 0 to ``max_power_w`` at 1 — an idle device still draws its
    idle power (Barroso & Hölzle 2007 found even energy-efficient servers drew about half their peak
    power when idle).
    """
    utilization = fraction("utilization", utilization, array=True)
    idle_power_w = nonnegative("idle_power_w", idle_power_w, "W")
    max_power_w = positive("max_power_w", max_power_w, "W")
    if idle_power_w > max_power_w:
        raise ValueError(f"idle_power_w ({idle_power_w} W) must not exceed max_power_w ({max_power_w} W)")
    return scalar_or_array(idle_power_w + (max_power_w - idle_power_w) * utilization)


def facility_power(it_power_w, pue):
    """Total facility power (W) for an IT load ``it_power_w`` (W): IT × PUE (PUE ≥ 1; 1.10 adds 10 % for
    cooling, power conversion and lighting)."""
    it_power_w = nonnegative("it_power_w", it_power_w, "W", array=True)
    with np.errstate(over="ignore"):
        out = it_power_w * _pue(pue)
    return scalar_or_array(_finite(out, "the facility power", "it_power_w", "pue"))


def training_energy(n_devices, seconds, avg_power_w, pue=1.0):
    """Energy (J) of a run: n_devices × seconds × average power per device (W) × PUE.

    ``seconds`` is the wall-clock duration (s; 14.8 days is ``14.8 * u.DAY``). ``avg_power_w`` is what
    the devices (or, in Patterson et al. 2021, the whole system per accelerator) draw on average — not
    the TDP unless you assume so. Example: GPT-3, 10,000 V100 × 14.8 days × 330 W × PUE 1.10 ≈ 4.64e12 J
    ≈ 1,289 MWh (published: 1,287).
    """
    n_devices = positive("n_devices", n_devices, "devices", array=True)
    seconds = nonnegative("seconds", seconds, "s", array=True)
    avg_power_w = nonnegative("avg_power_w", avg_power_w, "W", array=True)
    pue = _pue(pue, array=True)
    with np.errstate(over="ignore", invalid="ignore"):
        out = n_devices * seconds * avg_power_w * pue
    return scalar_or_array(_finite(out, "the energy", "n_devices", "seconds", "avg_power_w", "pue"))


def carbon_emissions(energy_j, grid_g_per_kwh):
    """Emissions (kg CO2e) of ``energy_j`` joules drawn from a grid emitting ``grid_g_per_kwh`` g/kWh."""
    energy_j = nonnegative("energy_j", energy_j, "J", array=True)
    grid_g_per_kwh = nonnegative("grid_g_per_kwh", grid_g_per_kwh, "g CO2e/kWh", array=True)
    with np.errstate(over="ignore", invalid="ignore"):
        out = energy_j / u.kWh * grid_g_per_kwh / 1000.0
    return scalar_or_array(_finite(out, "the emissions", "energy_j", "grid_g_per_kwh"))


def _pue(pue, array=False):
    pue = number("pue", pue, "ratio", array=array)
    if np.any(np.asarray(pue) < 1) or np.any(np.asarray(pue) > MAX_PUE):
        raise ValueError(f"pue must be a ratio from 1 to {MAX_PUE:g} (total facility power / IT power), "
                         f"got {pue!r}")
    return pue


def _missing_as_none(row):
    return {k: (None if isinstance(v, float) and math.isnan(v) else v) for k, v in row.items()}


def published_training_runs():
    """``datasets/training_energy.csv`` with our recomputation: a list of dicts with the published
    ``energy_j`` and ``co2e_kg`` and, where the inputs are published, ``model_energy_j`` and
    ``model_co2e_kg`` from :func:`training_energy` and :func:`carbon_emissions`. A figure that is
    not published (or cannot be recomputed) is ``None``."""
    from .data import load
    out = []
    for row in load("training_energy").rows():
        row = dict(row)
        device_s, power = row["device_time_s"], row["avg_power_per_device_w"]
        if np.isfinite(device_s) and np.isfinite(power):
            pue = row["pue"] if (row["energy_includes_pue"] == 1 and np.isfinite(row["pue"])) else 1.0
            row["model_energy_j"] = float(training_energy(1, device_s, power, pue))
        else:
            row["model_energy_j"] = math.nan
        grid = row["grid_g_per_kwh"]
        row["model_co2e_kg"] = (float(carbon_emissions(row["model_energy_j"], grid))
                                if np.isfinite(row["model_energy_j"]) and np.isfinite(grid) else math.nan)
        out.append(_missing_as_none(row))
    return out


# ---------------------------------------------------------------------------------------------
# Idle silicon: energy per useful FLOP from a timeline
# ---------------------------------------------------------------------------------------------
def joules_per_flop(utilization, idle_power_w, max_power_w, peak_flops_per_s):
    """Energy per useful FLOP (J/FLOP) of a device busy a fraction ``utilization`` (> 0) of the time:
    device_power(u) / (u × peak). Idle power is spread over fewer useful FLOPs as u falls."""
    utilization = fraction("utilization", utilization, array=True)
    if np.any(np.asarray(utilization) <= 0):
        raise ValueError("utilization must be > 0: a device that does no work has no energy per FLOP")
    peak_flops_per_s = positive("peak_flops_per_s", peak_flops_per_s, "FLOP/s")
    with np.errstate(over="ignore", under="ignore"):
        out = device_power(utilization, idle_power_w, max_power_w) / (utilization * peak_flops_per_s)
    return scalar_or_array(_finite(out, "the energy per FLOP", "utilization", "peak_flops_per_s"))


@dataclass
class TimelineEnergy:
    """Energy of a timeline. Energies in J, FLOPs in FLOP, times in s."""
    wall_time_s: float
    mean_utilization: float
    useful_flops: float
    energy_j: float           # facility energy, PUE included
    ideal_energy_j: float     # the same useful FLOPs at 100 % utilization (no idle time), PUE included

    @property
    def joules_per_flop(self):
        """Energy per useful FLOP (J/FLOP); a timeline that kept no work has none (ValueError)."""
        if self.useful_flops <= 0:
            raise ValueError("the timeline kept no work: it has no energy per useful FLOP")
        return self.energy_j / self.useful_flops

    @property
    def wasted_energy_j(self):
        """Energy beyond what the same work needs at full utilization."""
        return self.energy_j - self.ideal_energy_j

    @property
    def wasted_fraction(self):
        return self.wasted_energy_j / self.energy_j if self.energy_j > 0 else 0.0


def timeline_energy(timeline, peak_flops_per_s, idle_power_w, max_power_w, pue=1.0):
    """Energy of one device following ``timeline`` (a :class:`labkit.core.timeline.Timeline`).

    In each interval the device runs at ``timeline.interval_utilization`` of its peak and draws
    :func:`device_power` of it; ``timeline.interval_useful`` is the fraction of that interval's time
    that produced work that was kept — compute later lost to a failure burns power (utilization 1) but
    is not useful (0). Time inside the timeline that no interval covers counts as idle. Useful FLOPs =
    Σ useful × peak × duration. Chapter 04's and 05's simulations return such timelines (see
    :func:`simulation_energy`); ``labkit.core.timeline.stepped`` builds a simple one.
    """
    timeline = instance("timeline", timeline, Timeline, "a labkit.core.timeline.Timeline")
    if len(timeline) == 0:
        raise ValueError("timeline is empty: give at least one interval")
    peak_flops_per_s = positive("peak_flops_per_s", peak_flops_per_s, "FLOP/s")
    pue = _pue(pue)
    util, good, dt = timeline.interval_utilization, timeline.interval_useful, timeline.duration
    power = device_power(util, idle_power_w, max_power_w)
    idle_power_w, max_power_w = float(idle_power_w), float(max_power_w)
    wall = timeline.makespan
    gap = max(0.0, wall - float(dt.sum()))
    names = ("timeline", "peak_flops_per_s", "idle_power_w", "max_power_w", "pue")
    with np.errstate(over="ignore", invalid="ignore"):
        it_energy = float(np.sum(power * dt)) + idle_power_w * gap
        useful_flops = float(np.sum(good * dt)) * peak_flops_per_s
        energy = _finite(it_energy * pue, "the energy", *names)
        useful_flops = _finite(useful_flops, "the useful FLOPs", *names)
        ideal = _finite(float(np.sum(good * dt)) * max_power_w * pue, "the ideal energy", *names)
    mean_u = float(np.sum(util * dt)) / wall if wall > 0 else 0.0
    return TimelineEnergy(wall, mean_u, useful_flops, energy, ideal)


def energy_per_useful_flop(timeline, peak_flops_per_s, idle_power_w, max_power_w, pue=1.0):
    """Joules per useful FLOP (J/FLOP) of a timeline; see :func:`timeline_energy`. A timeline that kept
    no work has none (ValueError)."""
    result = timeline_energy(timeline, peak_flops_per_s, idle_power_w, max_power_w, pue)
    if result.useful_flops <= 0:
        raise ValueError("timeline kept no work: it has no energy per useful FLOP")
    return result.joules_per_flop


def simulation_energy(result, peak_flops_per_s, idle_power_w, max_power_w, pue=1.0):
    """Per-device :class:`TimelineEnergy` of a simulated run: any result whose ``.timeline`` is a
    :class:`labkit.core.timeline.Timeline` (chapter 04's ``simulate_input_pipeline``, chapter 05's
    ``simulate_training``)."""
    timeline = getattr(result, "timeline", None)
    if not isinstance(timeline, Timeline):
        raise TypeError(f"result must be a simulation result whose .timeline is a labkit.core.timeline.Timeline "
                        f"(chapter 04's or 05's simulations), got {type(result).__name__}")
    return timeline_energy(timeline, peak_flops_per_s, idle_power_w, max_power_w, pue)


# ---------------------------------------------------------------------------------------------
# Inference: energy per token from the decode roofline
# ---------------------------------------------------------------------------------------------
def _decode_args(batch_size, n_params, bytes_per_param, kv_bytes_per_sequence):
    """Bound the decode step's inputs so its FLOPs and bytes stay finite (core checks the rest)."""
    arrays = {"batch_size": positive("batch_size", batch_size, "sequences", array=True, maximum=MAX_COUNT),
              "n_params": positive("n_params", n_params, "parameters", array=True, maximum=MAX_COUNT),
              "bytes_per_param": positive("bytes_per_param", bytes_per_param, "bytes", array=True, maximum=64),
              "kv_bytes_per_sequence": nonnegative("kv_bytes_per_sequence", kv_bytes_per_sequence, "bytes",
                                                   array=True, maximum=1e18)}
    try:
        np.broadcast_shapes(*(np.shape(a) for a in arrays.values()))
    except ValueError:
        raise ValueError("batch_size, n_params, bytes_per_param and kv_bytes_per_sequence must be numbers or "
                         "arrays of matching shapes, got shapes " +
                         ", ".join(f"{k} {np.shape(a)}" for k, a in arrays.items())) from None


def inference_energy_per_token(batch_size, n_params, peak_flops_per_s, bandwidth_bytes_per_s, power_w,
                               bytes_per_param=2.0, kv_bytes_per_sequence=0.0, pue=1.0):
    """Energy per generated token (J/token) of batched decoding: power × step time / batch size × PUE,
    with the step time of :func:`labkit.core.roofline.decode_step_time`.

    Assumes the device draws ``power_w`` while it decodes, whatever the bottleneck. While decoding is
    memory-bound the step time is nearly fixed, so J/token falls as 1/batch; once compute-bound (or once
    KV-cache reads dominate) it levels off.
    """
    _decode_args(batch_size, n_params, bytes_per_param, kv_bytes_per_sequence)
    power_w = positive("power_w", power_w, "W")
    pue = _pue(pue)
    t = decode_step_time(batch_size, n_params, peak_flops_per_s, bandwidth_bytes_per_s, bytes_per_param,
                         kv_bytes_per_sequence)
    with np.errstate(over="ignore"):
        out = power_w * t / np.asarray(batch_size, dtype=float) * pue
    return scalar_or_array(_finite(out, "the energy per token", "power_w", "n_params", "peak_flops_per_s",
                                   "bandwidth_bytes_per_s", "batch_size"))


def kv_bytes_per_token(n_layers, n_kv_heads, head_dim, bytes_per_value=2.0):
    """KV-cache bytes one token occupies: 2 (K and V) × layers × KV heads × head dimension × bytes — chapter
    04's :func:`labkit.utilization.kv_bytes_per_token` (one home), imported when first used."""
    from .utilization import kv_bytes_per_token as home
    return home(n_layers, n_kv_heads, head_dim, bytes_per_value)


# ---------------------------------------------------------------------------------------------
# Power capping (DVFS)
# ---------------------------------------------------------------------------------------------
def _static_below_max(max_power_w, static_power_w):
    max_power_w = positive("max_power_w", max_power_w, "W")
    static_power_w = (IDLE_POWER_FRACTION * max_power_w if static_power_w is None
                      else nonnegative("static_power_w", static_power_w, "W"))
    if static_power_w >= max_power_w:
        raise ValueError(f"static_power_w ({static_power_w} W) must be below max_power_w ({max_power_w} W)")
    return max_power_w, static_power_w


def _dvfs_shape(exponent, min_clock, memory_activity):
    exponent = positive("exponent", exponent, maximum=100)
    min_clock = fraction("min_clock", min_clock)
    memory_activity = fraction("memory_activity", memory_activity)
    return float(exponent), float(min_clock), float(memory_activity)


def dvfs_clock(cap_w, max_power_w, static_power_w=None, exponent=3.0, min_clock=MIN_CLOCK_FRACTION):
    """Clock (fraction of maximum, 0..1] a device runs at under a power cap ``cap_w`` (W).

    Model: compute-bound work at clock s draws static + (max − static) × s × v(s)**(exponent − 1), with the
    voltage v(s) = max(s, ``min_clock``) (fractions of their maxima): dynamic power ∝ f·V², V ∝ f down to
    the voltage floor (exponent 3 gives s³ above it), then only ∝ f below it. The device picks the fastest
    clock within the cap. ``static_power_w`` defaults to ``IDLE_POWER_FRACTION`` × max; ``min_clock=0``
    is the pure cube law. Requires static_power_w < cap_w.
    """
    cap_w = positive("cap_w", cap_w, "W", array=True)
    max_power_w, static_power_w = _static_below_max(max_power_w, static_power_w)
    exponent, min_clock, _ = _dvfs_shape(exponent, min_clock, 1.0)
    if np.any(np.asarray(cap_w) <= static_power_w):
        raise ValueError(f"cap_w must exceed static_power_w ({static_power_w:.4g} W; by default IDLE_POWER_FRACTION × "
                         f"max_power_w): below it the clock would stop")
    g = (np.minimum(cap_w, max_power_w) - static_power_w) / (max_power_w - static_power_w)
    with np.errstate(all="ignore"):
        knee = min_clock ** exponent                # dynamic power (fraction) at the voltage floor
        s = np.where(g >= knee, g ** (1.0 / exponent), g / min_clock ** (exponent - 1) if min_clock > 0 else 0.0)
    return scalar_or_array(_finite(s, "the clock", "cap_w", "max_power_w", "static_power_w", "exponent", "min_clock"))


def power_cap_tradeoff(cap_w, max_power_w, static_power_w=None, compute_fraction=1.0, exponent=3.0, host_power_w=0.0,
                       min_clock=MIN_CLOCK_FRACTION, memory_activity=MEMORY_BOUND_ACTIVITY):
    """(time_ratio, energy_ratio) of a run under power cap ``cap_w`` relative to the uncapped run.

    Model (defaults: the chapter's realistic assumptions): the cap binds the compute-bound phases, which
    run at clock s = :func:`dvfs_clock` and stretch as 1/s; they draw static + (max − static) × g, where g
    is the dynamic-power fraction the cap leaves. The memory-bound phases (1 − ``compute_fraction`` of the
    uncapped time) do not stretch (memory clocks are not capped) and draw static + ``memory_activity`` ×
    (max − static) × g — below TDP even uncapped. ``host_power_w`` (W per device: CPUs, DRAM, NICs, fans;
    at most ``HOST_POWER_W`` on a DGX H100) is not capped and is drawn for the whole, longer run.
    ``min_clock=0, memory_activity=1`` is the optimistic model: every phase draws the TDP uncapped and
    the cube law runs all the way down.
    """
    compute_fraction = fraction("compute_fraction", compute_fraction)
    host_power_w = nonnegative("host_power_w", host_power_w, "W")
    exponent, min_clock, memory_activity = _dvfs_shape(exponent, min_clock, memory_activity)
    s = dvfs_clock(cap_w, max_power_w, static_power_w, exponent, min_clock)
    max_power_w, static_power_w = _static_below_max(max_power_w, static_power_w)
    names = ("cap_w", "max_power_w", "static_power_w", "exponent", "host_power_w", "min_clock", "memory_activity")
    dyn = max_power_w - static_power_w
    with np.errstate(over="ignore", under="ignore", invalid="ignore", divide="ignore"):
        g = (np.minimum(cap_w, max_power_w) - static_power_w) / dyn
        compute_time = compute_fraction / s
        time_ratio = _finite(compute_time + (1.0 - compute_fraction), "the time ratio", *names)
        energy = (compute_time * (static_power_w + dyn * g)
                  + (1.0 - compute_fraction) * (static_power_w + memory_activity * dyn * g) + host_power_w * time_ratio)
        uncapped = (compute_fraction * max_power_w
                    + (1.0 - compute_fraction) * (static_power_w + memory_activity * dyn) + host_power_w)
        energy_ratio = energy / uncapped
    return scalar_or_array(time_ratio), scalar_or_array(_finite(energy_ratio, "the energy ratio", *names))


def busy_power(max_power_w, cap_w=None, static_power_w=None, compute_fraction=1.0, exponent=3.0,
               min_clock=MIN_CLOCK_FRACTION, memory_activity=MEMORY_BOUND_ACTIVITY):
    """Average power (W) of a busy device under a power cap ``cap_w`` (``None``: uncapped), the model of
    :func:`power_cap_tradeoff` without host power: its energy per unit of (stretched) time. Uncapped and
    fully compute-bound it is ``max_power_w``; memory-bound phases draw less."""
    max_power_w, static_power_w = _static_below_max(max_power_w, static_power_w)
    compute_fraction = fraction("compute_fraction", compute_fraction)
    exponent, min_clock, memory_activity = _dvfs_shape(exponent, min_clock, memory_activity)
    dyn = max_power_w - static_power_w
    uncapped = compute_fraction * max_power_w + (1.0 - compute_fraction) * (static_power_w + memory_activity * dyn)
    if cap_w is None:
        return float(uncapped)
    t, e = power_cap_tradeoff(cap_w, max_power_w, static_power_w, compute_fraction, exponent, 0.0, min_clock,
                              memory_activity)
    return scalar_or_array(uncapped * np.asarray(e) / np.asarray(t))


def optimal_power_cap(max_power_w, static_power_w=None, compute_fraction=1.0, objective="energy", min_cap_w=None,
                      exponent=3.0, host_power_w=0.0, min_clock=MIN_CLOCK_FRACTION, memory_activity=MEMORY_BOUND_ACTIVITY):
    """The power cap (W) in [min_cap_w, max_power_w] that minimizes energy (``objective="energy"``) or the
    energy-delay product (``"edp"``: energy × time) under the model of :func:`power_cap_tradeoff`.

    ``min_cap_w`` defaults to static + 5 % of the dynamic range (the lowest limit a driver would accept
    is device-specific). With a voltage floor the energy optimum sits near the floor's power, static +
    (max − static) × min_clock³ (61 % of TDP with the chapter's assumptions). Zeus's measured sweeps
    (``datasets/power_limit_sweeps.csv``) put the energy-optimal limit at 58–67 % of the maximum; Zeus
    reports 15.3–75.8 % better energy efficiency when the power limit is tuned together with the batch size
    (You, Chung & Chowdhury, NSDI 2023). EDP weighs time more: never below the energy optimum, and at or near
    the max once host power is counted.
    """
    objective = choice("objective", text("objective", objective), ("energy", "edp"))
    max_power_w, static_power_w = _static_below_max(max_power_w, static_power_w)
    compute_fraction = fraction("compute_fraction", compute_fraction)
    exponent, min_clock, memory_activity = _dvfs_shape(exponent, min_clock, memory_activity)
    host_power_w = nonnegative("host_power_w", host_power_w, "W")
    lo = static_power_w + 0.05 * (max_power_w - static_power_w) if min_cap_w is None else \
        positive("min_cap_w", min_cap_w, "W")
    if not static_power_w < lo <= max_power_w:
        raise ValueError(f"min_cap_w must lie in (static_power_w, max_power_w] = ({static_power_w}, {max_power_w}] W")

    def cost(cap):
        t, e = power_cap_tradeoff(cap, max_power_w, static_power_w, compute_fraction, exponent, host_power_w,
                                  min_clock, memory_activity)
        return e * t if objective == "edp" else e

    caps = np.linspace(lo, max_power_w, 401)
    i = int(np.argmin(cost(caps)))
    a, b = caps[max(i - 1, 0)], caps[min(i + 1, len(caps) - 1)]
    g = (math.sqrt(5) - 1) / 2  # golden-section refinement inside the bracket
    c, d = b - g * (b - a), a + g * (b - a)
    for _ in range(40):
        if cost(c) < cost(d):
            b = d
        else:
            a = c
        c, d = b - g * (b - a), a + g * (b - a)
    best = (a + b) / 2
    return float(best) if cost(best) <= cost(caps[i]) else float(caps[i])


def power_limit_sweeps():
    """Zeus's measured power-limit sweeps (``datasets/power_limit_sweeps.csv``) as a list of dicts, one per
    (gpu, workload): ``gpu``, ``workload``, ``batch_size``, ``max_power_w`` and numpy arrays ``power_limit_w``,
    ``time_ratio`` and ``energy_ratio`` (each relative to the highest limit; energy = measured average power ×
    time per epoch, GPU only), ``average_power_w``, plus the energy-optimal ``best_limit_w``,
    ``best_saving`` (fraction of energy saved there) and ``best_slowdown`` (fraction of time added)."""
    from .data import load
    t = load("power_limit_sweeps")
    out = []
    keys = sorted({(g, w) for g, w in zip(t["gpu"], t["workload"])}, key=lambda k: (k[0] != "A40", k))
    for gpu, workload in keys:
        rows = t.where(gpu=gpu, workload=workload).sort("power_limit_w")
        limit, secs, watts = rows["power_limit_w"], rows["time_per_epoch_s"], rows["average_power_w"]
        time_ratio, energy_ratio = secs / secs[-1], secs * watts / (secs[-1] * watts[-1])
        k = int(np.argmin(energy_ratio))
        out.append(dict(gpu=gpu, workload=workload, batch_size=int(rows["batch_size"][0]),
                        max_power_w=float(rows["max_power_w"][0]), power_limit_w=limit, time_ratio=time_ratio,
                        energy_ratio=energy_ratio, average_power_w=watts, best_limit_w=float(limit[k]),
                        best_saving=float(1 - energy_ratio[k]), best_slowdown=float(time_ratio[k] - 1)))
    return out


# ---------------------------------------------------------------------------------------------
# Carbon-aware scheduling
# ---------------------------------------------------------------------------------------------
def grid_intensity_profile(day="mean"):
    """An hourly grid-intensity profile (g CO2e/kWh, 24 values, local hours 0..23) for California
    (CAISO), April 2022, from ``datasets/grid_intensity_caiso.csv``: one local day ("2022-04-20" …
    "2022-04-26") or the hour-of-day mean over that week (``"mean"``).

    What it is and is not: the **average** lifecycle intensity of the electricity **generated inside**
    CAISO's balancing area — imports from neighbouring states (a large share of California's supply, with a
    different mix of plants) are excluded, so it is the intensity of what is generated there, not of what is
    consumed. And it is
    an average, not the **marginal** intensity: a job moved into the solar trough changes which plant
    ramps up to serve it (at midday often none, when solar is curtailed; in the evening a gas turbine), so
    the carbon a shift really saves can be larger or smaller than the difference of averages. Carbon-aware
    schedulers that act on the grid use marginal signals; this profile teaches the arithmetic."""
    from .data import load
    t = load("grid_intensity_caiso")
    days = sorted(set(t["local_day"]))
    if not isinstance(day, str) or (day != "mean" and day not in days):
        raise ValueError(f"day must be 'mean' or one of {', '.join(days)}; got {day!r}")
    hours = t["local_hour"].astype(int)
    if day == "mean":
        return np.array([t["grid_g_per_kwh"][hours == h].mean() for h in range(24)])
    rows = t.where(local_day=day)
    return rows["grid_g_per_kwh"][np.argsort(rows["local_hour"])]


def _profile(profile, step_s):
    profile = nonnegative("profile_g_per_kwh", profile, "g CO2e/kWh", array=True)
    profile = np.atleast_1d(np.asarray(profile, dtype=float))
    if profile.ndim != 1 or profile.size > 1_000_000:
        raise ValueError("profile_g_per_kwh must be a 1-D array of at most 1,000,000 values")
    return profile, positive("step_s", step_s, "s")


def _cumulative(t, profile, step_s):
    """∫₀ᵗ intensity dτ (g/kWh × s) for a profile that repeats every len(profile) × step_s."""
    period = profile.size * step_s
    cum = np.concatenate([[0.0], np.cumsum(profile) * step_s])
    t = np.asarray(t, dtype=float)
    n, r = np.floor_divide(t, period), np.mod(t, period)
    k = np.clip((r // step_s), 0, profile.size - 1).astype(int)
    return n * cum[-1] + cum[k] + (r - k * step_s) * profile[k]


_JOB_NAMES = ("start_s", "duration_s", "power_w", "profile_g_per_kwh", "step_s", "pue")


def job_carbon(start_s, duration_s, power_w, profile_g_per_kwh, step_s=u.HOUR, pue=1.0):
    """Emissions (kg CO2e) of a job drawing ``power_w`` (W, IT) from ``start_s`` for ``duration_s``
    (s) on a grid whose intensity follows ``profile_g_per_kwh`` (one value per ``step_s``, repeating —
    e.g. 24 hourly values for a day that repeats). Scalars or arrays."""
    profile, step_s = _profile(profile_g_per_kwh, step_s)
    start_s = nonnegative("start_s", start_s, "s", array=True)
    duration_s = nonnegative("duration_s", duration_s, "s", array=True)
    power_w = nonnegative("power_w", power_w, "W", array=True)
    pue = _pue(pue)
    with np.errstate(all="ignore"):
        gs = _cumulative(np.add(start_s, duration_s), profile, step_s) - _cumulative(start_s, profile, step_s)
        out = power_w * pue * gs / u.kWh / 1000.0
    return scalar_or_array(_finite(out, "the emissions", *_JOB_NAMES))


@dataclass
class Schedule:
    """Result of :func:`carbon_aware_schedule`; arrays have one entry per job (s, kg CO2e).
    ``scheduled_kg`` includes ``waiting_kg``: the carbon of the power held while a job waits to start."""
    start_s: np.ndarray
    delay_s: np.ndarray
    baseline_kg: np.ndarray      # each job started at its release time
    scheduled_kg: np.ndarray     # each job started at its chosen time, waiting included
    waiting_kg: np.ndarray = None  # the part of scheduled_kg drawn while waiting (None: nothing drawn)

    def __post_init__(self):
        if self.waiting_kg is None:
            self.waiting_kg = np.zeros_like(np.asarray(self.scheduled_kg, dtype=float))

    @property
    def saved_kg(self):
        return float(self.baseline_kg.sum() - self.scheduled_kg.sum())

    @property
    def saved_fraction(self):
        total = float(self.baseline_kg.sum())
        return self.saved_kg / total if total > 0 else 0.0

    @property
    def mean_delay_s(self):
        return float(self.delay_s.mean())

    def select(self, jobs):
        """The schedule of some jobs only (an index array or a boolean mask)."""
        return Schedule(self.start_s[jobs], self.delay_s[jobs], self.baseline_kg[jobs], self.scheduled_kg[jobs],
                        self.waiting_kg[jobs])

    def __len__(self):
        return len(self.start_s)


#: The most start times carbon_aware_schedule tries per job (max_delay_s / granularity_s).
MAX_SCHEDULE_OFFSETS = 100_000


def carbon_aware_schedule(profile_g_per_kwh, duration_s, power_w, release_s=0.0, max_delay_s=12 * u.HOUR,
                          granularity_s=u.HOUR / 4, step_s=u.HOUR, pue=1.0, waiting_power_w=0.0):
    """Start each deferrable job at the time in [release, release + max_delay] (a multiple of
    ``granularity_s`` after release) that minimizes its emissions; jobs run uninterrupted and do not
    compete for capacity. Ties go to the earliest start. Returns a :class:`Schedule`.

    ``waiting_power_w`` (W, one value or one per job): power drawn from release until the job starts —
    e.g. the idle power of GPUs reserved for it (``IDLE_POWER_FRACTION`` of their TDP) when they cannot run
    anything else. Its carbon is counted in each start's cost, so a long wait must pay for itself.
    """
    profile, step_s = _profile(profile_g_per_kwh, step_s)
    duration = np.atleast_1d(positive("duration_s", duration_s, "s", array=True)).astype(float)
    if duration.ndim != 1 or duration.size > 100_000:
        raise ValueError("duration_s must be one duration or a 1-D array of at most 100,000 of them")
    per_job = {}
    for name, value, unit in (("power_w", power_w, "W"), ("release_s", release_s, "s"),
                              ("waiting_power_w", waiting_power_w, "W")):
        try:
            per_job[name] = np.broadcast_to(nonnegative(name, value, unit, array=True), duration.shape).astype(float)
        except ValueError as err:
            if name in str(err) and "broadcast" not in str(err) and "shape" not in str(err):
                raise
            raise ValueError(f"{name} must be one value or one per job ({duration.size})") from None
    power, release, waiting = per_job["power_w"], per_job["release_s"], per_job["waiting_power_w"]
    max_delay_s = nonnegative("max_delay_s", max_delay_s, "s")
    granularity_s = positive("granularity_s", granularity_s, "s")
    if max_delay_s / granularity_s > MAX_SCHEDULE_OFFSETS:
        raise ValueError(f"max_delay_s / granularity_s must be at most {MAX_SCHEDULE_OFFSETS:,} start times per "
                         f"job, got {max_delay_s / granularity_s:.3g}")
    if duration.size * (max_delay_s / granularity_s + 1) > 10_000_000:
        raise ValueError("duration_s × (max_delay_s / granularity_s) is too many start times to try; use fewer "
                         "jobs or a coarser granularity_s")
    pue = _pue(pue)
    offsets = np.arange(0.0, max_delay_s + 1e-9, granularity_s)
    starts = release[:, None] + offsets[None, :]
    try:
        kg = job_carbon(starts, duration[:, None], power[:, None], profile, step_s, pue)
        wait_kg = job_carbon(release[:, None], offsets[None, :], waiting[:, None], profile, step_s, pue)
    except ValueError:
        raise ValueError("the emissions are not finite for these inputs (from release_s, max_delay_s, duration_s, "
                         "power_w, waiting_power_w, profile_g_per_kwh, step_s, pue): use values within the course's "
                         "range") from None
    total = kg + wait_kg
    best = np.argmin(np.round(total, 12), axis=1)
    rows = np.arange(duration.size)
    return Schedule(starts[rows, best], offsets[best], kg[:, 0], total[rows, best], wait_kg[rows, best])


# ---------------------------------------------------------------------------------------------
# Power over time: synchronized swings (chapter 05's stalls seen from the grid)
# ---------------------------------------------------------------------------------------------
def power_swing(n_devices, busy_power_w, waiting_power_w, pue=1.0):
    """How far a synchronous job's facility power (W) jumps when all ``n_devices`` go from busy
    (``busy_power_w`` each) to waiting (``waiting_power_w``) at once — a checkpoint, a collective that
    stalls, a failure, a job's start or end: n × (busy − waiting) × PUE. Llama 3's authors report that such
    synchronized changes across tens of thousands of GPUs swing the data center's power by "on the order
    of tens of megawatts" (Dubey et al. 2024, arXiv:2407.21783, Sec. 3.3.4)."""
    n_devices = positive("n_devices", n_devices, "devices", array=True, maximum=MAX_COUNT)
    busy_power_w = nonnegative("busy_power_w", busy_power_w, "W", array=True, maximum=1e6)
    waiting_power_w = nonnegative("waiting_power_w", waiting_power_w, "W", array=True, maximum=1e6)
    if np.any(np.asarray(waiting_power_w) > np.asarray(busy_power_w)):
        raise ValueError(f"waiting_power_w ({waiting_power_w!r} W) must not exceed busy_power_w ({busy_power_w!r} W)")
    pue = _pue(pue, array=True)
    with np.errstate(all="ignore"):
        out = np.asarray(n_devices) * (np.asarray(busy_power_w) - waiting_power_w) * pue
    return scalar_or_array(_finite(out, "the power swing", "n_devices", "busy_power_w", "waiting_power_w", "pue"))


def timeline_power(timeline, idle_power_w, max_power_w, n_devices=1, pue=1.0):
    """Facility power over time of ``n_devices`` devices all following ``timeline`` (a synchronous job):
    (edges_s, power_w) — ``len(timeline) + 1`` interval edges (s) and one power per interval (W), each
    n × :func:`device_power` of the interval's utilization × PUE. Chapter 05's ``simulate_training``
    result's ``.timeline`` shows the drops at every checkpoint and failure."""
    timeline = instance("timeline", timeline, Timeline, "a labkit.core.timeline.Timeline")
    if len(timeline) == 0:
        raise ValueError("timeline is empty: give at least one interval")
    n_devices = positive("n_devices", n_devices, "devices", maximum=MAX_COUNT)
    pue = _pue(pue)
    power = device_power(timeline.interval_utilization, idle_power_w, max_power_w)
    with np.errstate(over="ignore"):
        power = _finite(np.atleast_1d(power) * n_devices * pue, "the power", "n_devices", "max_power_w", "pue")
    edges = np.append(timeline.start, timeline.end[-1])
    return edges, power


# ---------------------------------------------------------------------------------------------
# Systems: host power and rack density
# ---------------------------------------------------------------------------------------------
def system_power():
    """``datasets/system_power.csv`` with per-GPU figures: a list of dicts with the system's ``n_gpus``,
    ``gpu_power_w``, ``system_power_w`` (maximum input), ``cooling``, plus ``power_per_gpu_w`` (system ÷ GPUs)
    and ``host_power_per_gpu_w`` (what the rest of the system may add per GPU: system ÷ GPUs − GPU)."""
    from .data import load
    out = []
    for row in load("system_power").rows():
        row = dict(row)
        row["n_gpus"] = int(row["n_gpus"])
        row["power_per_gpu_w"] = row["system_power_w"] / row["n_gpus"]
        row["host_power_per_gpu_w"] = row["power_per_gpu_w"] - row["gpu_power_w"]
        out.append(row)
    return out


# ---------------------------------------------------------------------------------------------
# A whole run: devices, utilization, power cap, PUE and grid → time, energy, carbon
# ---------------------------------------------------------------------------------------------
@dataclass
class Footprint:
    """Time (s), energies (J) and carbon (kg CO2e) of a run; see :func:`run_footprint`."""
    time_s: float
    busy_energy_j: float      # IT energy while the devices compute
    idle_energy_j: float      # IT energy while they wait
    overhead_energy_j: float  # cooling and power distribution: IT × (PUE − 1)
    carbon_kg: float
    host_energy_j: float = 0.0  # IT energy of the hosts (CPUs, DRAM, NICs, fans) over the whole run

    @property
    def it_energy_j(self):
        return self.busy_energy_j + self.idle_energy_j + self.host_energy_j

    @property
    def energy_j(self):
        return self.it_energy_j + self.overhead_energy_j


def run_footprint(total_flops, n_devices, peak_flops_per_s, utilization, max_power_w, idle_power_w, pue=1.0,
                  grid_g_per_kwh=0.0, cap_w=None, static_power_w=None, compute_fraction=1.0, host_power_w=0.0):
    """Time, energy and carbon of ``total_flops`` of work on ``n_devices`` devices.

    ``utilization``: fraction of wall time the devices compute at the uncapped clock (the rest they wait
    for data, peers or restarts, drawing ``idle_power_w``). Busy, they draw :func:`busy_power` — the TDP
    ``max_power_w`` when fully compute-bound and uncapped; under a power cap ``cap_w`` they draw less and
    compute slower as in :func:`power_cap_tradeoff` (the chapter's DVFS assumptions). ``static_power_w``
    defaults to ``idle_power_w``: one number for what a GPU draws when its clock does no work. Waiting time
    does not stretch under a cap; compute time does. ``host_power_w`` (W per device, e.g. ``HOST_POWER_W``)
    is drawn for the whole run.
    """
    total_flops = nonnegative("total_flops", total_flops, "FLOP")
    n_devices = integer("n_devices", n_devices, minimum=1)
    peak_flops_per_s = positive("peak_flops_per_s", peak_flops_per_s, "FLOP/s")
    utilization = fraction("utilization", utilization, allow_zero=False)
    max_power_w = positive("max_power_w", max_power_w, "W")
    idle_power_w = nonnegative("idle_power_w", idle_power_w, "W")
    if idle_power_w > max_power_w:
        raise ValueError(f"idle_power_w ({idle_power_w} W) must not exceed max_power_w ({max_power_w} W)")
    pue = _pue(pue)
    grid_g_per_kwh = nonnegative("grid_g_per_kwh", grid_g_per_kwh, "g CO2e/kWh")
    compute_fraction = fraction("compute_fraction", compute_fraction)
    host_power_w = nonnegative("host_power_w", host_power_w, "W", maximum=1e6)
    static = idle_power_w if static_power_w is None else nonnegative("static_power_w", static_power_w, "W")
    if static >= max_power_w:
        raise ValueError(f"static_power_w ({static} W) must be below max_power_w ({max_power_w} W)")
    time_ratio = 1.0
    power0 = busy_power(max_power_w, None, static, compute_fraction)
    busy_power_w = power0
    if cap_w is not None:
        time_ratio, energy_ratio = power_cap_tradeoff(cap_w, max_power_w, static, compute_fraction)
        busy_power_w = power0 * energy_ratio / time_ratio
    names = ("total_flops", "n_devices", "peak_flops_per_s", "utilization", "max_power_w", "idle_power_w",
             "cap_w", "static_power_w", "host_power_w")
    with np.errstate(all="ignore"):
        busy0 = total_flops / (n_devices * peak_flops_per_s)   # seconds each device computes at full clock
        busy = busy0 * time_ratio
        idle = busy0 * (1.0 - utilization) / utilization
        busy_e = _finite(n_devices * busy * busy_power_w, "the busy energy", *names)
        idle_e = _finite(n_devices * idle * idle_power_w, "the idle energy", *names)
        host_e = _finite(n_devices * (busy + idle) * host_power_w, "the host energy", *names)
        overhead = (busy_e + idle_e + host_e) * (pue - 1.0)
        total_time = _finite(busy + idle, "the run's time", *names)
        _finite(busy_e + idle_e + host_e + overhead, "the energy", *names, "pue")
    carbon = float(carbon_emissions(busy_e + idle_e + host_e + overhead, grid_g_per_kwh))
    return Footprint(float(total_time), float(busy_e), float(idle_e), float(overhead), carbon, float(host_e))


# ---------------------------------------------------------------------------------------------
# Plots (each returns the Figure; pass ``ax`` to draw into an existing axes)
# ---------------------------------------------------------------------------------------------
_FIGSIZE = (6.5, 3.8)


def plot_pue(ax=None):
    """PUE over the years: Google's fleet against industry surveys (``datasets/pue.csv``)."""
    from .core.plotting import new_axes
    from .data import load
    fig, ax = new_axes(ax, _FIGSIZE)
    t = load("pue")
    styles = {"google_fleet": ("Google fleet", "o-", "C2"), "industry_survey": ("industry (Uptime surveys)", "s-", "C3"),
              "epa_energy_star": ("US EPA ENERGY STAR sample", "^", "C1"),
              "liquid_cooled_hpc": ("warm-water liquid-cooled HPC (NREL)", "D", "C0")}
    for series, (label, fmt, colour) in styles.items():
        rows = t.where(series=series).sort("year")
        ax.plot(rows["year"], rows["pue"], fmt, color=colour, label=label)
    ax.axhline(1.0, color="grey", lw=0.8, ls=":")
    ax.set(xlabel="year", ylabel="PUE (facility / IT energy)", ylim=(0.95, 2.05),
           title="Cooling and power-delivery overhead: PUE over the years")
    ax.legend(loc="upper right", fontsize=8)
    return fig


def plot_training_energy(ax=None):
    """Published training energies against :func:`training_energy` recomputed from their inputs."""
    from .core.plotting import new_axes
    fig, ax = new_axes(ax, (7, 3.8))
    runs = [r for r in published_training_runs() if r["energy_j"] is not None]
    names = [r["model"] for r in runs]
    x = np.arange(len(runs))
    pub = np.array([r["energy_j"] for r in runs]) / u.MWh
    ours = np.array([r["model_energy_j"] or 0.0 for r in runs]) / u.MWh
    ax.bar(x - 0.2, pub, 0.4, label="published", color="C0")
    ax.bar(x + 0.2, ours, 0.4, label="devices × time × power × PUE", color="C1", hatch="//", edgecolor="white",
           linewidth=0)
    ax.set_yscale("log")
    ax.set_xticks(x, names, rotation=30, ha="right", fontsize=8)
    ax.set(ylabel="training energy (MWh)", title="Published training energy, and ours from the same inputs")
    ax.legend(fontsize=8)
    fig.tight_layout()
    return fig


_MARK_FIELDS = [("label", text), ("utilization", fraction),
                ("joules per FLOP", lambda n, v: positive(n, v, "J/FLOP"))]


def plot_joules_per_flop(peak_flops_per_s, max_power_w, idle_fractions=(0.1, 0.3, 0.5), pue=1.0, ax=None, marks=()):
    """Energy per useful FLOP against utilization, one curve per idle power (fraction of max);
    ``marks``: (label, utilization, J/FLOP) points to add (e.g. simulated timelines)."""
    from .core.plotting import new_axes
    peak_flops_per_s = positive("peak_flops_per_s", peak_flops_per_s, "FLOP/s")
    max_power_w = positive("max_power_w", max_power_w, "W")
    idle_fractions = np.atleast_1d(fraction("idle_fractions", idle_fractions, array=True))
    if idle_fractions.ndim != 1 or idle_fractions.size > 10:
        raise ValueError("idle_fractions must be a list of at most 10 fractions of max_power_w")
    pue = _pue(pue)
    marks = records("marks", marks, _MARK_FIELDS, maximum=20)
    fig, ax = new_axes(ax, _FIGSIZE)
    util = np.linspace(0.05, 1.0, 96)
    for f in idle_fractions:
        ax.plot(util, joules_per_flop(util, f * max_power_w, max_power_w, peak_flops_per_s) * pue * 1e12,
                label=f"idle power = {f:.0%} of max")
    for k, (label, uu, jpf) in enumerate(marks):
        ax.plot([uu], [jpf * 1e12], "o", color=f"C{k + 3}", label=label)
    ax.set(xlabel="utilization (fraction of time busy)", ylabel="energy per useful FLOP (pJ)",
           title="Idle silicon: energy per useful FLOP", ylim=(0, None))
    ax.legend(fontsize=8)
    return fig


def plot_inference_energy(batch_sizes, n_params, peak_flops_per_s, bandwidth_bytes_per_s, power_w, bytes_per_param=2.0,
                          kv_bytes_per_sequence=(0.0,), labels=None, ax=None):
    """J/token against batch size (log-log) for one or more KV-cache sizes per sequence
    (``kv_bytes_per_sequence``: one value or a list, bytes; ``labels``: one per value, or None)."""
    from .core.plotting import new_axes
    b = np.atleast_1d(positive("batch_sizes", batch_sizes, "sequences", array=True, maximum=MAX_COUNT))
    n_params = positive("n_params", n_params, "parameters", maximum=MAX_COUNT)
    if b.ndim != 1 or b.size > 10_000:
        raise ValueError("batch_sizes must be a 1-D list of at most 10,000 batch sizes")
    kvs = np.atleast_1d(nonnegative("kv_bytes_per_sequence", kv_bytes_per_sequence, "bytes", array=True,
                                    maximum=1e18))
    if kvs.ndim != 1 or kvs.size > 10:
        raise ValueError("kv_bytes_per_sequence must be one value or a list of at most 10")
    if labels is not None:
        labels = [text("labels", s) for s in sequence("labels", labels)]
        if len(labels) != kvs.size:
            raise ValueError(f"labels must hold one label per kv_bytes_per_sequence value ({kvs.size}), "
                             f"got {len(labels)}")
    peak_flops_per_s = positive("peak_flops_per_s", peak_flops_per_s, "FLOP/s")
    bandwidth_bytes_per_s = positive("bandwidth_bytes_per_s", bandwidth_bytes_per_s, "bytes/s")
    bytes_per_param = positive("bytes_per_param", bytes_per_param, "bytes", maximum=64)
    curves = [inference_energy_per_token(b, n_params, peak_flops_per_s, bandwidth_bytes_per_s, power_w,
                                         bytes_per_param, kv) for kv in kvs]
    fig, ax = new_axes(ax, _FIGSIZE)
    for k, (kv, e) in enumerate(zip(kvs, curves)):
        ax.loglog(b, e, "-", label=(labels[k] if labels else f"KV cache {u.fmt_bytes(kv)} per sequence"))
    # the batch size where the weights-only decode turns compute-bound
    ridge = peak_flops_per_s / bandwidth_bytes_per_s * bytes_per_param / 2
    ax.axvline(ridge, color="grey", ls=":", lw=1)
    ax.text(ridge * 1.05, ax.get_ylim()[1] * 0.5 if ax.get_ylim()[1] > 0 else 1, "compute-bound →", color="grey",
            fontsize=8)
    ax.set(xlabel="batch size (sequences decoded together)", ylabel="energy per token (J)",
           title="Batching amortizes the weight reads")
    ax.legend(fontsize=8)
    return fig


def plot_power_cap(max_power_w, static_power_w=None, compute_fractions=(1.0, 0.5), host_power_w=0.0, ax=None,
                   optimistic=False):
    """Energy and time (relative to no cap) against the power cap under the chapter's DVFS assumptions;
    marks each energy-optimal cap. ``optimistic=True`` adds, dotted, the energy of the optimistic model
    (no voltage floor, memory-bound work at full power) for comparison."""
    from .core.plotting import new_axes
    max_power_w, static_power_w = _static_below_max(max_power_w, static_power_w)
    compute_fractions = np.atleast_1d(fraction("compute_fractions", compute_fractions, array=True))
    if compute_fractions.ndim != 1 or compute_fractions.size > 10:
        raise ValueError("compute_fractions must be a list of at most 10 fractions")
    host_power_w = nonnegative("host_power_w", host_power_w, "W")
    if not isinstance(optimistic, bool):
        raise TypeError(f"optimistic must be True or False, got {optimistic!r}")
    fig, ax = new_axes(ax, _FIGSIZE)
    lo = static_power_w + 0.05 * (max_power_w - static_power_w)
    caps = np.linspace(lo, max_power_w, 200)
    for k, phi in enumerate(compute_fractions):
        t, e = power_cap_tradeoff(caps, max_power_w, static_power_w, phi, host_power_w=host_power_w)
        mark = {"marker": MARKERS[k % len(MARKERS)], "markevery": 0.1, "ms": 4}   # which fraction, beyond colour
        ax.plot(caps, e, "-", color=f"C{k}", label=f"energy, {phi:.0%} compute-bound", **mark)
        ax.plot(caps, t, "--", color=f"C{k}", label=f"time, {phi:.0%} compute-bound", **mark)
        best = optimal_power_cap(max_power_w, static_power_w, phi, host_power_w=host_power_w)
        tb, eb = power_cap_tradeoff(best, max_power_w, static_power_w, phi, host_power_w=host_power_w)
        ax.plot([best], [eb], "o", color=f"C{k}")
        if optimistic:
            _, eo = power_cap_tradeoff(caps, max_power_w, static_power_w, phi, host_power_w=host_power_w,
                                       min_clock=0.0, memory_activity=1.0)
            ax.plot(caps, eo, ":", color=f"C{k}", label=f"energy, optimistic model, {phi:.0%}", **mark)
    ax.axhline(1.0, color="grey", lw=0.8, ls=":")
    ax.set(xlabel="power cap (W)", ylabel="relative to no cap", ylim=(0.4, 2.5),
           title="Power capping: energy falls, time rises")
    ax.legend(fontsize=7, ncol=2)
    return fig


def plot_power_limit_sweeps(compute_fractions=(0.5, 1.0), ax=None):
    """Zeus's measured energy against the power limit (fraction of the highest limit; one marker series
    per sweep of ``datasets/power_limit_sweeps.csv``) with the model's curves: the chapter's assumptions for
    each compute-bound fraction (solid) and the optimistic model (dotted), static power
    ``IDLE_POWER_FRACTION`` of the maximum, GPU only (Zeus measured the GPU, not the host)."""
    from .core.plotting import new_axes
    compute_fractions = np.atleast_1d(fraction("compute_fractions", compute_fractions, array=True))
    if compute_fractions.ndim != 1 or compute_fractions.size > 5:
        raise ValueError("compute_fractions must be a list of at most 5 fractions")
    fig, ax = new_axes(ax, _FIGSIZE)
    for k, sweep in enumerate(power_limit_sweeps()):
        ax.plot(sweep["power_limit_w"] / sweep["max_power_w"], sweep["energy_ratio"], "os^"[k % 3], color=f"C{k + 3}",
                label=f"measured: {sweep['gpu']}, {sweep['workload']}")
    x = np.linspace(0.3, 1.0, 141)
    for k, phi in enumerate(compute_fractions):
        _, e = power_cap_tradeoff(x, 1.0, None, phi)
        ax.plot(x, e, color=f"C{k}", ls=LINESTYLES[(0, 3, 4, 5, 7)[k]], label=f"model, {phi:.0%} compute-bound")
    _, e = power_cap_tradeoff(x, 1.0, None, 0.5, min_clock=0.0, memory_activity=1.0)
    ax.plot(x, e, ":", color="grey", label="optimistic model, 50 %")
    ax.axhline(1.0, color="grey", lw=0.8, ls=":")
    ax.set(xlabel="power limit (fraction of the maximum)", ylabel="energy relative to no cap", ylim=(0.4, 1.6),
           title="Power limits measured (Zeus, NSDI 2023) and modelled")
    ax.legend(fontsize=7)
    return fig


def plot_wait_carbon(profile_g_per_kwh, duration_s, power_w, release_s=0.0, max_delay_s=12 * u.HOUR,
                     waiting_powers_w=(0.0,), ax=None):
    """Emissions (t CO2e) of one deferrable job against how long it waits (hours), one curve per power held
    while it waits (``waiting_powers_w``, W): the job's own carbon plus the waiting carbon, on an hourly
    profile (:func:`job_carbon`); each curve's minimum — the start :func:`carbon_aware_schedule` picks — is
    marked."""
    from .core.plotting import new_axes
    profile, _ = _profile(profile_g_per_kwh, u.HOUR)
    duration_s = positive("duration_s", duration_s, "s")
    power_w = nonnegative("power_w", power_w, "W")
    release_s = nonnegative("release_s", release_s, "s")
    max_delay_s = positive("max_delay_s", max_delay_s, "s", maximum=30 * u.DAY)
    waiting = np.atleast_1d(nonnegative("waiting_powers_w", waiting_powers_w, "W", array=True))
    if waiting.ndim != 1 or waiting.size > 8:
        raise ValueError("waiting_powers_w must be a list of at most 8 powers")
    delays = np.linspace(0.0, max_delay_s, 241)
    try:
        run = job_carbon(release_s + delays, duration_s, power_w, profile)
        totals = [(run + job_carbon(release_s, delays, w, profile)) / 1000 for w in waiting]
    except ValueError:
        raise ValueError("the emissions are not finite for these inputs (from release_s, duration_s, power_w, "
                         "waiting_powers_w, profile_g_per_kwh): use values within the course's range") from None
    fig, ax = new_axes(ax, _FIGSIZE)
    for k, (w, total) in enumerate(zip(waiting, totals)):
        best = int(np.argmin(np.round(total, 12)))
        ax.plot(delays / u.HOUR, total, color=f"C{k}", ls=LINESTYLES[k % len(LINESTYLES)],
                label=f"{u.fmt_power(w)} held while waiting")
        ax.plot([delays[best] / u.HOUR], [total[best]], "o", color=f"C{k}")
    ax.set(xlabel="hours the job waits after its release", ylabel="emissions, waiting included (t CO2e)",
           title="A wait pays only if the GPUs it holds draw little", ylim=(0, None))
    ax.legend(fontsize=8)
    return fig


def plot_power_swings(result, n_devices, idle_power_w, max_power_w, pue=1.0, hours=None, ax=None):
    """Facility power (MW) over time of ``n_devices`` GPUs following a simulated run's ``.timeline``
    (chapter 05's ``simulate_training``): :func:`timeline_power` drawn as steps; ``hours`` limits the
    time axis to the first hours (None: the whole run)."""
    from .core.plotting import new_axes
    timeline = getattr(result, "timeline", None)
    if not isinstance(timeline, Timeline):
        raise TypeError(f"result must be a simulation result whose .timeline is a labkit.core.timeline.Timeline "
                        f"(chapter 05's simulate_training), got {type(result).__name__}")
    if hours is not None:
        hours = positive("hours", hours, "hours")
    edges, power = timeline_power(timeline, idle_power_w, max_power_w, n_devices, pue)
    fig, ax = new_axes(ax, _FIGSIZE)
    ax.stairs(power / u.MW, edges / u.HOUR, color="C0", lw=1)
    ax.set(xlabel="time (hours)", ylabel="facility power (MW)", ylim=(0, power.max() / u.MW * 1.15),
           xlim=(0, edges[-1] / u.HOUR if hours is None else min(hours, edges[-1] / u.HOUR)),
           title=f"{n_devices:,.0f} GPUs in lockstep: every checkpoint and failure is a power swing")
    return fig


def plot_grid_profile(profile_g_per_kwh=None, schedule=None, duration_s=None, ax=None):
    """The hourly grid intensity (default: CAISO, April 2022 week mean) with, optionally, each job of a
    :class:`Schedule` (``duration_s``: one duration per job, s) drawn as two bars above it: its run at
    release time and its carbon-aware run."""
    from .core.plotting import new_axes
    from .data import load
    prof = grid_intensity_profile() if profile_g_per_kwh is None else _profile(profile_g_per_kwh, u.HOUR)[0]
    if prof.size != 24:
        raise ValueError(f"profile_g_per_kwh must hold 24 hourly values (local hours 0..23), got {prof.size}")
    if schedule is not None:
        instance("schedule", schedule, Schedule, "a Schedule from carbon_aware_schedule, or None")
    if duration_s is not None:
        duration_s = np.atleast_1d(positive("duration_s", duration_s, "s", array=True))
    if (schedule is None) != (duration_s is None):
        raise ValueError("schedule and duration_s go together: give both (one duration per scheduled job) or neither")
    if schedule is not None and (duration_s.ndim != 1 or duration_s.size != len(schedule) or len(schedule) > 50):
        raise ValueError(f"duration_s must hold one duration per job of the schedule ({len(schedule)}, at most 50)")
    fig, ax = new_axes(ax, _FIGSIZE)
    t = load("grid_intensity_caiso")
    for day in sorted(set(t["local_day"])):
        rows = t.where(local_day=day).sort("local_hour")
        ax.plot(rows["local_hour"] + 0.5, rows["grid_g_per_kwh"], color="0.8", lw=0.8)
    ax.step(np.arange(25), np.append(prof, prof[-1]), where="post", color="C0", lw=2, label="hour-of-day mean")
    if schedule is not None:
        top = prof.max() * 1.05
        for k, (d, s) in enumerate(zip(duration_s / u.HOUR, schedule.start_s / u.HOUR)):
            y = top + 12 * k
            release = s - schedule.delay_s[k] / u.HOUR
            ax.plot([release, release + d], [y, y], color="C3", lw=4, solid_capstyle="butt",
                    label="run at release" if k == 0 else None)
            ax.plot([s, s + d], [y + 5, y + 5], color="C2", lw=4, ls=(0, (1, 0.5)), solid_capstyle="butt",
                    label="carbon-aware run" if k == 0 else None)
    ax.set(xlabel="local hour (PDT)", ylabel="grid intensity (g CO2e/kWh)", xlim=(0, 24),
           title="California, 20–26 April 2022: the midday solar trough")
    ax.set_xticks(range(0, 25, 3))
    ax.legend(fontsize=8, loc="lower left")
    return fig


# ---------------------------------------------------------------------------------------------
# The chapter's explorer
# ---------------------------------------------------------------------------------------------
# The energy axis steps through these limits (MWh), each cut into the same 5 intervals, so the tick
# marks are reused and their labels change only when the run outgrows (or shrinks below) a limit.
_EXPLORER_XMAX_MWH = (50, 100, 200, 300, 500, 1000, 2000, 3000, 5000, 10000, 20000, 50000)


def _explorer_xmax(mwh):
    return next((x for x in _EXPLORER_XMAX_MWH if x >= mwh), _EXPLORER_XMAX_MWH[-1])


def _set_energy_axis(ax, xmax):
    ticks = np.linspace(0, xmax, 6)
    ax.set_xlim(0, xmax)
    ax.set_xticks(ticks, [f"{t:,.0f}" for t in ticks])


def _build_energy(fig):
    """The explorer's axes and bars. The row labels name the colours (no legend): text is most of what
    a redraw costs."""
    ax = fig.add_subplot()
    run = [ax.barh(y, 0.0, color=colour)[0] for y, colour in ((3, "C0"), (2, "C3"), (1, "C7"))]
    ideal = ax.barh(0, 0.0, color="C2")[0]
    ax.set_yticks([0, 1, 2, 3], ["ideal: 100 % busy,\nno cap, PUE 1", "+ cooling & power delivery", "+ idle",
                                 "compute"])
    ax.tick_params(axis="y", length=0)
    ax.set_ylim(-0.6, 3.6)
    _set_energy_axis(ax, _EXPLORER_XMAX_MWH[0])
    ax.set_xlabel("energy (MWh)")
    title = ax.set_title(" ", fontsize=10)
    fig.subplots_adjust(left=0.26, right=0.96)
    return {"ax": ax, "run": run, "ideal": ideal, "title": title}


def _energy_run(n_devices, utilization, cap_fraction, pue, grid_g_per_kwh, gpu, idle_fraction):
    """GPT-3's training compute on ``n_devices`` of ``gpu``: the run and the ideal (100 % busy, no cap,
    PUE 1) footprints, the TDP (W) and the cap (W, or None)."""
    d = datasheet(gpu)
    tdp, peak = d.power_w, d.peak_flops_per_s
    idle = idle_fraction * tdp
    cap = None if cap_fraction >= 0.999 else max(cap_fraction * tdp, idle + 0.05 * (tdp - idle))
    gpt3_flops = published_run("GPT-3").total_flops     # 3.14e23 FLOP (datasets/models.csv)
    run = run_footprint(gpt3_flops, n_devices, peak, utilization, tdp, idle, pue, grid_g_per_kwh,
                        cap_w=cap, static_power_w=idle)
    ideal = run_footprint(gpt3_flops, n_devices, peak, 1.0, tdp, idle, 1.0)
    return run, ideal, tdp, cap


def _update_energy(h, n_devices, utilization, cap_fraction, pue, grid_g_per_kwh, gpu, idle_fraction):
    """One slider move: the waterfall of compute, idle and overhead energy, the ideal bar, the title;
    the energy axis steps to the smallest fixed limit that holds both totals."""
    run, ideal, tdp, _ = _energy_run(n_devices, utilization, cap_fraction, pue, grid_g_per_kwh, gpu, idle_fraction)
    parts = np.array([run.busy_energy_j, run.idle_energy_j, run.overhead_energy_j]) / u.MWh
    ideal_mwh = ideal.energy_j / u.MWh
    for bar, left, width in zip(h["run"], np.cumsum(parts) - parts, parts):  # a waterfall: each part
        bar.set_x(left)                                                      # starts where the last ends
        bar.set_width(width)
    h["ideal"].set_width(ideal_mwh)
    xmax = _explorer_xmax(max(parts.sum(), ideal_mwh) * 1.1)
    if h["ax"].get_xlim()[1] != xmax:
        _set_energy_axis(h["ax"], xmax)
    h["title"].set_text(f"GPT-3 on {n_devices:,} {gpu}s: {u.fmt_seconds(run.time_s)}, {parts.sum():,.0f} MWh, "
                        f"{run.carbon_kg / u.TONNE:,.0f} t CO2e")
    return (f"{n_devices:,} × {gpu}, {utilization:.0%} busy, cap {cap_fraction:.0%} of {tdp:.0f} W, PUE {pue:.2f}: "
            f"{u.fmt_seconds(run.time_s)}, {u.fmt_energy(run.energy_j)}, "
            f"{run.carbon_kg / u.TONNE:,.0f} t CO2e at {grid_g_per_kwh:.0f} g/kWh")


def energy_explorer(n_devices=4096, utilization=0.4, cap_fraction=1.0, pue=1.1, grid_g_per_kwh=400.0, gpu="A100",
                    idle_fraction=IDLE_POWER_FRACTION):
    """The chapter's explorer: GPT-3's training compute (3.14e23 FLOP) on ``n_devices`` GPUs (``gpu``:
    one of :data:`labkit.core.devices.TRAINING_GPUS`) → energy added up from compute, idle and cooling,
    against the same work done 100 % busy at PUE 1; a power cap (``cap_fraction`` of TDP) slows the
    compute and lowers its power (the chapter's DVFS model, compute-bound); idle power is ``idle_fraction`` of
    TDP (default ``IDLE_POWER_FRACTION``), and it is also the static power the cap cannot remove — one number,
    by design. Shown in a notebook; returns the Explorer."""
    from .core.explore import dropdown, explorer, int_slider, slider
    n_devices = integer("n_devices", n_devices, minimum=256, maximum=20_000)
    utilization = number("utilization", utilization, "fraction", minimum=0.05, maximum=1.0)
    cap_fraction = number("cap_fraction", cap_fraction, "fraction of TDP", minimum=0.4, maximum=1.0)
    pue = number("pue", pue, "ratio", minimum=1.0, maximum=2.0)
    grid_g_per_kwh = number("grid_g_per_kwh", grid_g_per_kwh, "g CO2e/kWh", minimum=0.0, maximum=900.0)
    gpu = choice("gpu", text("gpu", gpu), TRAINING_GPUS)
    idle_fraction = number("idle_fraction", idle_fraction, "fraction of TDP", minimum=0.0, maximum=0.6)
    return explorer(_build_energy, _update_energy, title="Energy, carbon and time of a training run",
                    n_devices=int_slider(n_devices, 256, 20_000, 256, "GPUs"),
                    utilization=slider(utilization, 0.05, 1.0, 0.05, "utilization"),
                    cap_fraction=slider(cap_fraction, 0.4, 1.0, 0.05, "power cap (× TDP)"),
                    pue=slider(pue, 1.0, 2.0, 0.02, "PUE"),
                    grid_g_per_kwh=slider(grid_g_per_kwh, 0, 900, 10, "grid g CO2e/kWh"),
                    gpu=dropdown(gpu, list(TRAINING_GPUS), "GPU"),
                    idle_fraction=slider(idle_fraction, 0.0, 0.6, 0.05, "idle power (× TDP)"))
