"""Chapter 06 — energy: power, PUE, training energy and carbon, idle silicon, power caps, cleaner hours.

SI inside: watts, joules, seconds, FLOP, bytes. Two exceptions follow the way the field publishes them:
grid carbon intensity is in grams of CO2e per kWh (``grid_g_per_kwh``) and ``training_energy`` takes
``hours`` (its name says so). Emissions come out in kilograms of CO2e.

Models (each stated where it is defined):
- power grows linearly with utilization, from idle to maximum (``device_power``);
- the facility adds cooling and power-distribution overhead: total = IT × PUE (``facility_power``);
- energy = devices × time × average power × PUE (``training_energy``), carbon = energy × grid intensity;
- a decode step is memory- or compute-bound, whichever takes longer (roofline; ``decode_step_time``);
- DVFS under a power cap: dynamic power ∝ clock³, compute-bound time ∝ 1/clock (``power_cap_tradeoff``);
- a deferrable job may start up to ``max_delay_s`` late; the grid profile repeats daily (``carbon_aware_schedule``).
"""

import functools
import math
from dataclasses import dataclass

import numpy as np

from . import units as u
from .core.validate import choice, fraction, integer, nonnegative, number, positive

# Accelerators used in this chapter's examples: our short name -> the row of datasets/hardware.csv, the
# cited source (vendor datasheets) of their dense BF16/FP16 tensor peak, HBM bandwidth and TDP.
_GPU_ROWS = {"V100": "NVIDIA V100 SXM2", "A100": "NVIDIA A100 SXM 80GB", "H100": "NVIDIA H100 SXM"}

STATIC_POWER_FRACTION = 0.3
"""Assumption, not a datasheet figure: a GPU's static (clock-independent) power as a fraction of its
TDP, used for the power-cap examples (H100: 0.3 × 700 W = 210 W). Leakage and memory power make up
most of it; the true share varies by chip, temperature and workload."""


@functools.lru_cache(maxsize=1)
def _gpus():
    from .hardware import datasheet
    rows = {name: datasheet(row) for name, row in _GPU_ROWS.items()}
    return {name: {"peak_flops_per_s": m.peak_flops_per_s, "bandwidth_bytes_per_s": m.bandwidth_bytes_per_s,
                   "tdp_w": m.power_w} for name, m in rows.items()}


def __getattr__(name):
    # GPUS: {"V100" | "A100" | "H100": {"peak_flops_per_s", "bandwidth_bytes_per_s", "tdp_w"}}, read from
    # datasets/hardware.csv on first use so that ``import labkit.energy`` stays fast.
    if name == "GPUS":
        return _gpus()
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


# Lifecycle emissions of electricity by source, g CO2e per kWh: medians of IPCC AR5 WG3 Annex III
# (Schlömer et al. 2014, Table A.III.2). Oil is not in that table: 650 is an assumption.
LIFECYCLE_G_PER_KWH = {"wind": 11.0, "solar": 41.0, "hydro": 24.0, "oil": 650.0, "gas": 490.0,
                       "coal": 820.0, "nuclear": 12.0, "other": 230.0}

GPT3_FLOP = 3.14e23  # Brown et al. 2020, Table D.1


# ---------------------------------------------------------------------------------------------
# Power, PUE, energy and carbon
# ---------------------------------------------------------------------------------------------
def device_power(utilization, idle_power, max_power):
    """Power (W) of a device busy a fraction ``utilization`` of the time (0..1, scalar or array).

    Model: linear from ``idle_power`` at 0 to ``max_power`` at 1 — an idle device still draws its idle
    power (Barroso & Hölzle 2007 found even energy-efficient servers drew about half their peak when idle).
    """
    utilization = fraction("utilization", utilization, array=True)
    idle_power = nonnegative("idle_power", idle_power, "W")
    max_power = positive("max_power", max_power, "W")
    if idle_power > max_power:
        raise ValueError(f"idle_power ({idle_power} W) must not exceed max_power ({max_power} W)")
    return idle_power + (max_power - idle_power) * utilization


def facility_power(it_power, pue):
    """Total facility power (W) for an IT load ``it_power`` (W): IT × PUE (PUE ≥ 1; 1.10 adds 10 % for
    cooling, power conversion and lighting)."""
    it_power = nonnegative("it_power", it_power, "W", array=True)
    pue = _pue(pue)
    return it_power * pue


def training_energy(n_devices, hours, avg_power_w, pue=1.0):
    """Energy (J) of a run: n_devices × hours × average power per device (W) × PUE.

    ``hours`` is wall-clock hours (not seconds). ``avg_power_w`` is what the devices (or, in Patterson
    et al. 2021, the whole system per accelerator) draw on average — not the TDP unless you assume so.
    Example: GPT-3, 10,000 V100 × 14.8 days × 330 W × PUE 1.10 ≈ 4.64e12 J ≈ 1,289 MWh (published: 1,287).
    """
    n_devices = positive("n_devices", n_devices, "devices", array=True)
    hours = nonnegative("hours", hours, "h", array=True)
    avg_power_w = nonnegative("avg_power_w", avg_power_w, "W", array=True)
    return n_devices * hours * u.HOUR * avg_power_w * _pue(pue, array=True)


def carbon_emissions(energy_j, grid_g_per_kwh):
    """Emissions (kg CO2e) of ``energy_j`` joules drawn from a grid emitting ``grid_g_per_kwh`` g/kWh."""
    energy_j = nonnegative("energy_j", energy_j, "J", array=True)
    grid_g_per_kwh = nonnegative("grid_g_per_kwh", grid_g_per_kwh, "g CO2e/kWh", array=True)
    return energy_j / u.kWh * grid_g_per_kwh / 1000.0


def _pue(pue, array=False):
    pue = number("pue", pue, "ratio", array=array)
    if np.any(np.asarray(pue) < 1) or not np.all(np.isfinite(pue)):
        raise ValueError(f"pue must be a finite number ≥ 1 (total facility power / IT power), got {pue!r}")
    return pue


def published_training_runs():
    """``datasets/training_energy.csv`` with our recomputation: a list of dicts with the published
    ``energy_j`` and ``co2e_kg`` and, where the inputs are published, ``model_energy_j`` and
    ``model_co2e_kg`` from :func:`training_energy` and :func:`carbon_emissions`."""
    from .data import load
    out = []
    for row in load("training_energy").rows():
        row = dict(row)
        device_s, power = row["device_time_s"], row["avg_power_per_device_w"]
        if np.isfinite(device_s) and np.isfinite(power):
            pue = row["pue"] if (row["energy_includes_pue"] == 1 and np.isfinite(row["pue"])) else 1.0
            row["model_energy_j"] = float(training_energy(1, device_s / u.HOUR, power, pue))
        else:
            row["model_energy_j"] = math.nan
        grid = row["grid_g_per_kwh"]
        row["model_co2e_kg"] = (float(carbon_emissions(row["model_energy_j"], grid))
                                if np.isfinite(row["model_energy_j"]) and np.isfinite(grid) else math.nan)
        out.append(row)
    return out


# ---------------------------------------------------------------------------------------------
# Idle silicon: energy per useful FLOP from a utilization timeline
# ---------------------------------------------------------------------------------------------
def joules_per_flop(utilization, idle_power, max_power, peak_flops):
    """Energy per useful FLOP (J/FLOP) of a device busy a fraction ``utilization`` (> 0) of the time:
    device_power(u) / (u × peak). Idle power is spread over fewer useful FLOPs as u falls."""
    utilization = fraction("utilization", utilization, array=True)
    if np.any(np.asarray(utilization) <= 0):
        raise ValueError("utilization must be > 0: a device that does no work has no energy per FLOP")
    peak_flops = positive("peak_flops", peak_flops, "FLOP/s")
    return device_power(utilization, idle_power, max_power) / (utilization * peak_flops)


@dataclass
class TimelineEnergy:
    """Energy of a utilization timeline. Energies in J, FLOP in FLOP, times in s."""
    wall_time_s: float
    mean_utilization: float
    useful_flop: float
    energy_j: float           # facility energy, PUE included
    ideal_energy_j: float     # the same FLOPs at 100 % utilization (no idle time), PUE included
    joules_per_flop: float

    @property
    def wasted_energy_j(self):
        """Energy beyond what the same work needs at full utilization."""
        return self.energy_j - self.ideal_energy_j

    @property
    def wasted_fraction(self):
        return self.wasted_energy_j / self.energy_j if self.energy_j > 0 else 0.0


def timeline_energy(start_s, end_s, utilization, peak_flops, idle_power, max_power, pue=1.0, useful=None):
    """Energy of one device following a utilization timeline.

    ``start_s``, ``end_s``: interval bounds (s, arrays); ``utilization``: utilization in each interval
    (0..1; a busy flag True/False works too). Time inside [min start, max end] that no interval covers
    counts as idle. ``useful`` (same shape, default = utilization) is the fraction of each interval's
    time that produced work that was kept: compute later lost to a failure burns power (utilization 1)
    but is not useful (0). Useful FLOPs = Σ useful × peak × duration. Works with any simulation's
    timeline: an input pipeline that starves the GPU, a run interrupted by failures (see
    :func:`simulation_energy`).
    """
    start, end, util, good = _timeline(start_s, end_s, utilization, useful)
    peak_flops = positive("peak_flops", peak_flops, "FLOP/s")
    pue = _pue(pue)
    power = device_power(util, idle_power, max_power)
    dt = end - start
    wall = float(end.max() - start.min())
    gap = max(0.0, wall - float(dt.sum()))
    it_energy = float(np.sum(power * dt)) + float(idle_power) * gap
    useful_flop = float(np.sum(good * dt)) * peak_flops
    energy = it_energy * pue
    ideal = useful_flop / peak_flops * float(max_power) * pue
    mean_u = float(np.sum(util * dt)) / wall if wall > 0 else 0.0
    jpf = energy / useful_flop if useful_flop > 0 else math.inf
    return TimelineEnergy(wall, mean_u, useful_flop, energy, ideal, jpf)


def energy_per_useful_flop(start_s, end_s, utilization, peak_flops, idle_power, max_power, pue=1.0, useful=None):
    """Joules per useful FLOP (J/FLOP) of a utilization timeline; see :func:`timeline_energy`."""
    return timeline_energy(start_s, end_s, utilization, peak_flops, idle_power, max_power, pue,
                           useful).joules_per_flop


def _as_fraction_array(name, value):
    value = np.asarray(value)
    if value.dtype == bool:
        value = value.astype(float)
    return fraction(name, value, array=True)


def _timeline(start_s, end_s, utilization, useful=None):
    start = number("start_s", start_s, "s", array=True)
    end = number("end_s", end_s, "s", array=True)
    util = _as_fraction_array("utilization", utilization)
    good = util if useful is None else _as_fraction_array("useful", useful)
    start, end, util, good = (np.atleast_1d(np.asarray(a, dtype=float)) for a in (start, end, util, good))
    if not (start.shape == end.shape == util.shape == good.shape) or start.ndim != 1:
        raise ValueError(f"start_s, end_s, utilization (and useful) must be 1-D arrays of equal length, got "
                         f"shapes {start.shape}, {end.shape}, {util.shape}, {good.shape}")
    if start.size == 0:
        raise ValueError("the timeline is empty: give at least one interval")
    if np.any(end < start):
        raise ValueError("every interval must end at or after its start (end_s ≥ start_s)")
    if np.any(good > util + 1e-12):
        raise ValueError("useful must not exceed utilization in any interval")
    order = np.argsort(start, kind="stable")
    start, end, util, good = start[order], end[order], util[order], good[order]
    if np.any(start[1:] < end[:-1] - 1e-9 * max(1.0, float(np.abs(end).max()))):
        raise ValueError("timeline intervals overlap: give one device's timeline, intervals side by side")
    return start, end, util, good


def timeline_from(result):
    """(start_s, end_s, utilization, useful) arrays from a simulation result or a tuple.

    Accepts a tuple of 3 (start, end, utilization) or 4 arrays, or an object whose ``.timeline`` has
    ``start``, ``end`` and either ``busy`` (chapter 04's input pipeline: busy time is useful) or
    ``state`` (chapter 05's training run: 0 compute, 1 checkpoint, 2 lost, 3 restart — the devices
    compute in states 0 and 2 but only state 0's work is kept).
    """
    if isinstance(result, (tuple, list)) and len(result) in (3, 4):
        arrays = [np.asarray(a) for a in result]
        util = arrays[2].astype(float)
        return arrays[0], arrays[1], util, (arrays[3].astype(float) if len(arrays) == 4 else util)
    tl = getattr(result, "timeline", result)
    start, end = getattr(tl, "start", None), getattr(tl, "end", None)
    if start is not None and end is not None:
        if hasattr(tl, "busy"):
            busy = np.asarray(tl.busy, dtype=float)
            return np.asarray(start), np.asarray(end), busy, busy
        if hasattr(tl, "state"):
            state = np.asarray(tl.state)
            compute, lost = 0, 2   # chapter 05's state codes (labkit.faults.COMPUTE, LOST)
            return (np.asarray(start), np.asarray(end), np.isin(state, (compute, lost)).astype(float),
                    (state == compute).astype(float))
        if hasattr(tl, "utilization") and np.ndim(tl.utilization) == 1:
            util = np.asarray(tl.utilization, dtype=float)
            return np.asarray(start), np.asarray(end), util, util
    raise TypeError("cannot read a utilization timeline from this object: pass (start_s, end_s, utilization) "
                    "or a result whose .timeline has start, end and busy or state")


def simulation_energy(result, peak_flops, idle_power, max_power, pue=1.0):
    """Per-device :class:`TimelineEnergy` of a simulated run (chapter 04's ``simulate_input_pipeline``,
    chapter 05's ``simulate_training``, or a (start, end, utilization[, useful]) tuple)."""
    start, end, util, good = timeline_from(result)
    return timeline_energy(start, end, util, peak_flops, idle_power, max_power, pue, useful=good)


def stepped_timeline(busy_s, idle_s, n_cycles, utilization_busy=1.0):
    """A simple repeating timeline: ``busy_s`` of work at ``utilization_busy`` then ``idle_s`` idle,
    ``n_cycles`` times. Returns (start_s, end_s, utilization) arrays."""
    busy_s = positive("busy_s", busy_s, "s")
    idle_s = nonnegative("idle_s", idle_s, "s")
    n_cycles = integer("n_cycles", n_cycles, minimum=1)
    utilization_busy = fraction("utilization_busy", utilization_busy)
    period = busy_s + idle_s
    t0 = np.arange(n_cycles) * period
    start = np.column_stack([t0, t0 + busy_s]).ravel()
    end = np.column_stack([t0 + busy_s, t0 + period]).ravel()
    util = np.tile([utilization_busy, 0.0], n_cycles)
    keep = end > start
    return start[keep], end[keep], util[keep]


# ---------------------------------------------------------------------------------------------
# Inference: energy per token from the decode roofline
# ---------------------------------------------------------------------------------------------
def decode_step_time(batch, n_params, peak_flops, mem_bandwidth, bytes_per_param=2.0, kv_bytes_per_seq=0.0):
    """Time (s) of one decode step that emits one token for each of ``batch`` sequences: chapter 04's
    roofline, :func:`labkit.utilization.decode_step_time`.

    Work: 2 × n_params FLOP per token. Traffic: the weights once per step (n_params × bytes_per_param)
    plus each sequence's KV cache (``kv_bytes_per_seq`` bytes). Time = max(compute time, memory time):
    small batches are memory-bound, so the step time barely grows with the batch.
    """
    from .utilization import decode_step_time as roofline_step
    return roofline_step(batch, n_params, peak_flops_per_s=peak_flops, memory_bandwidth_bytes_per_s=mem_bandwidth,
                         bytes_per_param=bytes_per_param, kv_bytes_per_sequence=kv_bytes_per_seq)


def inference_energy_per_token(batch, n_params, peak_flops, mem_bandwidth, power_w, bytes_per_param=2.0,
                               kv_bytes_per_seq=0.0, pue=1.0):
    """Energy per generated token (J/token) of batched decoding: power × step time / batch × PUE.

    Assumes the device draws ``power_w`` while it decodes, whatever the bottleneck. While decoding is
    memory-bound the step time is nearly fixed, so J/token falls as 1/batch; once compute-bound (or once
    KV-cache reads dominate) it levels off.
    """
    power_w = positive("power_w", power_w, "W")
    t = decode_step_time(batch, n_params, peak_flops, mem_bandwidth, bytes_per_param, kv_bytes_per_seq)
    return power_w * t / np.asarray(batch, dtype=float) * _pue(pue)


def kv_bytes_per_token(n_layers, n_kv_heads, head_dim, bytes_per_value=2.0):
    """KV-cache bytes one token occupies: 2 (K and V) × layers × KV heads × head dimension × bytes."""
    n_layers = integer("n_layers", n_layers, minimum=1)
    n_kv_heads = integer("n_kv_heads", n_kv_heads, minimum=1)
    head_dim = integer("head_dim", head_dim, minimum=1)
    bytes_per_value = positive("bytes_per_value", bytes_per_value, "bytes")
    return 2.0 * n_layers * n_kv_heads * head_dim * bytes_per_value


# ---------------------------------------------------------------------------------------------
# Power capping (DVFS)
# ---------------------------------------------------------------------------------------------
def dvfs_clock(cap_w, max_power, static_power, exponent=3.0):
    """Clock (fraction of maximum, 0..1] a device runs at under a power cap ``cap_w`` (W).

    Model: power at clock s (fraction of max) is static + (max − static) × s**exponent — dynamic power
    ∝ f·V² with voltage ∝ frequency gives the exponent 3. The device picks the fastest clock within the
    cap. Requires static_power < cap.
    """
    cap_w = positive("cap_w", cap_w, "W", array=True)
    max_power = positive("max_power", max_power, "W")
    static_power = nonnegative("static_power", static_power, "W")
    exponent = positive("exponent", exponent)
    if static_power >= max_power:
        raise ValueError(f"static_power ({static_power} W) must be below max_power ({max_power} W)")
    if np.any(np.asarray(cap_w) <= static_power):
        raise ValueError(f"cap_w must exceed static_power ({static_power} W): below it the clock would stop")
    s = ((np.minimum(cap_w, max_power) - static_power) / (max_power - static_power)) ** (1.0 / exponent)
    return s


def power_cap_tradeoff(cap_w, max_power, static_power, compute_fraction=1.0, exponent=3.0, host_power=0.0):
    """(time_ratio, energy_ratio) of a run under power cap ``cap_w`` relative to the uncapped run.

    Model: the device runs at clock s = :func:`dvfs_clock` and draws min(cap, max). The compute-bound
    fraction ``compute_fraction`` of the uncapped time stretches as 1/s; the memory-bound rest does not
    (memory clocks are not capped). ``host_power`` (W: CPUs, fans, the node's share of the network) is
    drawn for the whole run and is not capped, so slowing down costs its energy too.
    """
    compute_fraction = fraction("compute_fraction", compute_fraction)
    host_power = nonnegative("host_power", host_power, "W")
    s = dvfs_clock(cap_w, max_power, static_power, exponent)
    power = static_power + (max_power - static_power) * s ** exponent
    time_ratio = compute_fraction / s + (1.0 - compute_fraction)
    energy_ratio = (power + host_power) * time_ratio / (max_power + host_power)
    return time_ratio, energy_ratio


def optimal_power_cap(max_power, static_power, compute_fraction=1.0, objective="energy", min_cap=None,
                      exponent=3.0, host_power=0.0):
    """The power cap (W) in [min_cap, max_power] that minimizes energy (``objective="energy"``) or the
    energy-delay product (``"edp"``: energy × time) under the model of :func:`power_cap_tradeoff`.

    ``min_cap`` defaults to static + 5 % of the dynamic range (the lowest limit a driver would accept is
    device-specific). Zeus (You, Chung & Chowdhury, NSDI 2023) found on real GPUs that the energy-optimal
    power limit is often below the maximum and that navigating this energy-time trade-off (with the batch
    size) improved training energy efficiency by 15.3–75.8 %; EDP weighs time more and lands nearer the max.
    """
    objective = choice("objective", objective, ("energy", "edp"))
    max_power = positive("max_power", max_power, "W")
    static_power = nonnegative("static_power", static_power, "W")
    if static_power >= max_power:
        raise ValueError(f"static_power ({static_power} W) must be below max_power ({max_power} W)")
    lo = static_power + 0.05 * (max_power - static_power) if min_cap is None else positive("min_cap", min_cap, "W")
    if not static_power < lo <= max_power:
        raise ValueError(f"min_cap must lie in (static_power, max_power] = ({static_power}, {max_power}] W")

    def cost(cap):
        t, e = power_cap_tradeoff(cap, max_power, static_power, compute_fraction, exponent, host_power)
        return e * t if objective == "edp" else e

    caps = np.linspace(lo, max_power, 401)
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


# ---------------------------------------------------------------------------------------------
# Carbon-aware scheduling
# ---------------------------------------------------------------------------------------------
def grid_intensity_profile(day="mean"):
    """An hourly grid-intensity profile (g CO2e/kWh, 24 values, local hours 0..23) for California
    (CAISO), April 2022, from ``datasets/grid_intensity_caiso.csv``: one local day ("2022-04-20" …
    "2022-04-26") or the hour-of-day mean over that week (``"mean"``)."""
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
    if profile.ndim != 1 or profile.size == 0:
        raise ValueError("profile_g_per_kwh must be a 1-D array with at least one value")
    return profile, positive("step_s", step_s, "s")


def _cumulative(t, profile, step_s):
    """∫₀ᵗ intensity dτ (g/kWh × s) for a profile that repeats every len(profile) × step_s."""
    period = profile.size * step_s
    cum = np.concatenate([[0.0], np.cumsum(profile) * step_s])
    t = np.asarray(t, dtype=float)
    n, r = np.floor_divide(t, period), np.mod(t, period)
    k = np.minimum((r // step_s).astype(int), profile.size - 1)
    return n * cum[-1] + cum[k] + (r - k * step_s) * profile[k]


def job_carbon(start_s, duration_s, power_w, profile_g_per_kwh, step_s=u.HOUR, pue=1.0):
    """Emissions (kg CO2e) of a job drawing ``power_w`` (W, IT) from ``start_s`` for ``duration_s``
    (s) on a grid whose intensity follows ``profile_g_per_kwh`` (one value per ``step_s``, repeating —
    e.g. 24 hourly values for a day that repeats). Scalars or arrays."""
    profile, step_s = _profile(profile_g_per_kwh, step_s)
    start_s = nonnegative("start_s", start_s, "s", array=True)
    duration_s = nonnegative("duration_s", duration_s, "s", array=True)
    power_w = nonnegative("power_w", power_w, "W", array=True)
    gs = _cumulative(np.add(start_s, duration_s), profile, step_s) - _cumulative(start_s, profile, step_s)
    return power_w * _pue(pue) * gs / u.kWh / 1000.0


@dataclass
class Schedule:
    """Result of :func:`carbon_aware_schedule`; arrays have one entry per job (s, kg CO2e)."""
    start_s: np.ndarray
    delay_s: np.ndarray
    baseline_kg: np.ndarray      # each job started at its release time
    scheduled_kg: np.ndarray     # each job started at its chosen time

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
        return Schedule(self.start_s[jobs], self.delay_s[jobs], self.baseline_kg[jobs], self.scheduled_kg[jobs])


def carbon_aware_schedule(profile_g_per_kwh, duration_s, power_w, release_s=0.0, max_delay_s=12 * u.HOUR,
                          granularity_s=u.HOUR / 4, step_s=u.HOUR, pue=1.0):
    """Start each deferrable job at the time in [release, release + max_delay] (a multiple of
    ``granularity_s`` after release) that minimizes its emissions; jobs run uninterrupted and do not
    compete for capacity. Ties go to the earliest start. Returns a :class:`Schedule`.
    """
    profile, step_s = _profile(profile_g_per_kwh, step_s)
    duration = np.atleast_1d(positive("duration_s", duration_s, "s", array=True)).astype(float)
    power = np.broadcast_to(nonnegative("power_w", power_w, "W", array=True), duration.shape).astype(float)
    release = np.broadcast_to(nonnegative("release_s", release_s, "s", array=True), duration.shape).astype(float)
    max_delay_s = nonnegative("max_delay_s", max_delay_s, "s")
    granularity_s = positive("granularity_s", granularity_s, "s")
    offsets = np.arange(0.0, max_delay_s + 1e-9, granularity_s)
    starts = release[:, None] + offsets[None, :]
    kg = job_carbon(starts, duration[:, None], power[:, None], profile, step_s, pue)
    best = np.argmin(np.round(kg, 12), axis=1)
    rows = np.arange(duration.size)
    return Schedule(starts[rows, best], offsets[best], kg[:, 0], kg[rows, best])


# ---------------------------------------------------------------------------------------------
# A whole run: GPUs, utilization, power cap, PUE and grid → time, energy, carbon
# ---------------------------------------------------------------------------------------------
@dataclass
class Footprint:
    """Time (s), energies (J) and carbon (kg CO2e) of a run; see :func:`run_footprint`."""
    time_s: float
    busy_energy_j: float      # IT energy while the devices compute
    idle_energy_j: float      # IT energy while they wait
    overhead_energy_j: float  # cooling and power distribution: IT × (PUE − 1)
    carbon_kg: float

    @property
    def it_energy_j(self):
        return self.busy_energy_j + self.idle_energy_j

    @property
    def energy_j(self):
        return self.it_energy_j + self.overhead_energy_j


def run_footprint(total_flop, n_devices, peak_flops, utilization, max_power, idle_power, pue=1.0,
                  grid_g_per_kwh=0.0, power_cap=None, static_power=None, compute_fraction=1.0):
    """Time, energy and carbon of ``total_flop`` of work on ``n_devices`` devices.

    ``utilization``: fraction of wall time the devices compute at the uncapped clock (the rest they wait
    for data, peers or restarts, drawing ``idle_power``). Busy, they draw ``max_power`` — or, under
    ``power_cap``, the cap, and compute slower as in :func:`power_cap_tradeoff` (``static_power``
    defaults to ``idle_power``). Waiting time does not stretch under a cap; compute time does.
    """
    total_flop = nonnegative("total_flop", total_flop, "FLOP")
    n_devices = positive("n_devices", n_devices, "devices")
    peak_flops = positive("peak_flops", peak_flops, "FLOP/s")
    utilization = fraction("utilization", utilization, allow_zero=False)
    max_power = positive("max_power", max_power, "W")
    idle_power = nonnegative("idle_power", idle_power, "W")
    pue = _pue(pue)
    time_ratio, busy_power = 1.0, max_power
    if power_cap is not None:
        static = idle_power if static_power is None else static_power
        time_ratio, _ = power_cap_tradeoff(power_cap, max_power, static, compute_fraction)
        busy_power = min(float(power_cap), max_power)
    busy0 = total_flop / (n_devices * peak_flops)          # seconds each device computes at full clock
    busy = busy0 * time_ratio
    idle = busy0 * (1.0 - utilization) / utilization
    busy_e = n_devices * busy * busy_power
    idle_e = n_devices * idle * idle_power
    overhead = (busy_e + idle_e) * (pue - 1.0)
    carbon = float(carbon_emissions(busy_e + idle_e + overhead, grid_g_per_kwh))
    return Footprint(busy + idle, busy_e, idle_e, overhead, carbon)


# ---------------------------------------------------------------------------------------------
# Plots (each returns the Figure; pass ``ax`` to draw into an existing axes)
# ---------------------------------------------------------------------------------------------
def _axes(ax, figsize=(6.5, 3.8)):
    if ax is not None:
        return ax.figure, ax
    import matplotlib.pyplot as plt
    fig, ax = plt.subplots(figsize=figsize)
    return fig, ax


def plot_pue(ax=None):
    """PUE over the years: Google's fleet against industry surveys (``datasets/pue.csv``)."""
    from .data import load
    fig, ax = _axes(ax)
    t = load("pue")
    styles = {"google_fleet": ("Google fleet", "o-", "C2"), "industry_survey": ("industry (Uptime surveys)", "s-", "C3"),
              "epa_energy_star": ("US EPA ENERGY STAR sample", "^", "C1")}
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
    fig, ax = _axes(ax, (7, 3.8))
    runs = [r for r in published_training_runs() if np.isfinite(r["energy_j"])]
    names = [r["model"] for r in runs]
    x = np.arange(len(runs))
    pub = np.array([r["energy_j"] for r in runs]) / u.MWh
    ours = np.array([r["model_energy_j"] for r in runs]) / u.MWh
    ax.bar(x - 0.2, pub, 0.4, label="published", color="C0")
    ax.bar(x + 0.2, np.nan_to_num(ours), 0.4, label="devices × time × power × PUE", color="C1")
    ax.set_yscale("log")
    ax.set_xticks(x, names, rotation=30, ha="right", fontsize=8)
    ax.set(ylabel="training energy (MWh)", title="Published training energy, and ours from the same inputs")
    ax.legend(fontsize=8)
    fig.tight_layout()
    return fig


def plot_joules_per_flop(peak_flops, max_power, idle_fractions=(0.1, 0.3, 0.5), pue=1.0, ax=None, marks=()):
    """Energy per useful FLOP against utilization, one curve per idle power (fraction of max);
    ``marks``: (label, utilization, J/FLOP) points to add (e.g. simulated timelines)."""
    fig, ax = _axes(ax)
    util = np.linspace(0.05, 1.0, 96)
    for f in idle_fractions:
        ax.plot(util, joules_per_flop(util, f * max_power, max_power, peak_flops) * pue * 1e12,
                label=f"idle power = {f:.0%} of max")
    for k, (label, uu, jpf) in enumerate(marks):
        ax.plot([uu], [jpf * 1e12], "o", color=f"C{k + 3}", label=label)
    ax.set(xlabel="utilization (fraction of time busy)", ylabel="energy per useful FLOP (pJ)",
           title="Idle silicon: energy per useful FLOP", ylim=(0, None))
    ax.legend(fontsize=8)
    return fig


def plot_inference_energy(batches, n_params, peak_flops, mem_bandwidth, power_w, bytes_per_param=2.0,
                          kv_bytes_per_seq=(0.0,), labels=None, ax=None):
    """J/token against batch size (log-log) for one or more KV-cache sizes per sequence."""
    fig, ax = _axes(ax)
    b = np.asarray(batches, dtype=float)
    for k, kv in enumerate(kv_bytes_per_seq):
        e = inference_energy_per_token(b, n_params, peak_flops, mem_bandwidth, power_w, bytes_per_param, kv)
        ax.loglog(b, e, "-", label=(labels[k] if labels else f"KV cache {u.fmt_bytes(kv)} per sequence"))
    ridge = peak_flops / mem_bandwidth * bytes_per_param / 2  # batch where weights-only decode turns compute-bound
    ax.axvline(ridge, color="grey", ls=":", lw=1)
    ax.text(ridge * 1.05, ax.get_ylim()[1] * 0.5 if ax.get_ylim()[1] > 0 else 1, "compute-bound →", color="grey", fontsize=8)
    ax.set(xlabel="batch size (sequences decoded together)", ylabel="energy per token (J)",
           title="Batching amortizes the weight reads")
    ax.legend(fontsize=8)
    return fig


def plot_power_cap(max_power, static_power, compute_fractions=(1.0, 0.5), host_power=0.0, ax=None):
    """Energy and time (relative to no cap) against the power cap; marks each energy-optimal cap."""
    fig, ax = _axes(ax)
    lo = static_power + 0.05 * (max_power - static_power)
    caps = np.linspace(lo, max_power, 200)
    for k, phi in enumerate(compute_fractions):
        t, e = power_cap_tradeoff(caps, max_power, static_power, phi, host_power=host_power)
        ax.plot(caps, e, "-", color=f"C{k}", label=f"energy, {phi:.0%} compute-bound")
        ax.plot(caps, t, "--", color=f"C{k}", label=f"time, {phi:.0%} compute-bound")
        best = optimal_power_cap(max_power, static_power, phi, host_power=host_power)
        tb, eb = power_cap_tradeoff(best, max_power, static_power, phi, host_power=host_power)
        ax.plot([best], [eb], "o", color=f"C{k}")
    ax.axhline(1.0, color="grey", lw=0.8, ls=":")
    ax.set(xlabel="power cap (W)", ylabel="relative to no cap", ylim=(0.4, 2.5),
           title="Power capping: energy falls, time rises")
    ax.legend(fontsize=7, ncol=2)
    return fig


def plot_grid_profile(profile=None, schedule=None, job_hours=None, ax=None):
    """The hourly grid intensity (default: CAISO, April 2022 week mean) with, optionally, each
    job's release-time run and its carbon-aware run drawn as bars above it."""
    fig, ax = _axes(ax)
    from .data import load
    t = load("grid_intensity_caiso")
    for day in sorted(set(t["local_day"])):
        rows = t.where(local_day=day).sort("local_hour")
        ax.plot(rows["local_hour"] + 0.5, rows["grid_g_per_kwh"], color="0.8", lw=0.8)
    prof = grid_intensity_profile() if profile is None else np.asarray(profile, dtype=float)
    ax.step(np.arange(25), np.append(prof, prof[-1]), where="post", color="C0", lw=2, label="hour-of-day mean")
    if schedule is not None and job_hours is not None:
        top = prof.max() * 1.05
        for k, (d, s) in enumerate(zip(np.atleast_1d(job_hours), schedule.start_s / u.HOUR)):
            y = top + 12 * k
            release = s - schedule.delay_s[k] / u.HOUR
            ax.plot([release, release + d], [y, y], color="C3", lw=4, solid_capstyle="butt",
                    label="run at release" if k == 0 else None)
            ax.plot([s, s + d], [y + 5, y + 5], color="C2", lw=4, solid_capstyle="butt",
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


def explorer_draw(fig, gpus=4096, utilization=0.4, cap_fraction=1.0, pue=1.1, grid_g_per_kwh=400.0,
                  gpu="A100", idle_fraction=0.2, total_flop=GPT3_FLOP):
    """Draw function for the chapter's explorer: GPT-3's training compute (3.14e23 FLOP) on ``gpus``
    GPUs → energy added up from compute, idle and cooling, against the same work done 100 % busy at
    PUE 1; a power cap (fraction of TDP) slows the compute and lowers its power. Returns a readout.

    Retained drawing (``explorer(..., retained=True)``): the first call on an empty figure builds the
    bars and labels; later calls on the same figure only move the bars and change the title. The
    energy axis takes the smallest of a few fixed limits (50, 100, 200, 300, 500 … MWh) that holds
    both totals, so its ticks change only when the run crosses one of them.
    """
    specs = _gpus()
    spec = specs[choice("gpu", gpu, tuple(specs))]
    tdp, peak = spec["tdp_w"], spec["peak_flops_per_s"]
    idle = fraction("idle_fraction", idle_fraction, allow_one=False) * tdp
    cap = None if cap_fraction >= 0.999 else max(cap_fraction * tdp, idle + 0.05 * (tdp - idle))
    run = run_footprint(total_flop, gpus, peak, utilization, tdp, idle, pue, grid_g_per_kwh, cap, idle)
    ideal = run_footprint(total_flop, gpus, peak, 1.0, tdp, idle, 1.0)
    parts = np.array([run.busy_energy_j, run.idle_energy_j, run.overhead_energy_j]) / u.MWh
    ideal_mwh = ideal.energy_j / u.MWh
    h = getattr(fig, "_labkit", None) if fig.axes else None
    if h is None:
        h = _build_explorer(fig)
    for bar, left, width in zip(h["run"], np.cumsum(parts) - parts, parts):  # a waterfall: each part
        bar.set_x(left)                                                      # starts where the last ends
        bar.set_width(width)
    h["ideal"].set_width(ideal_mwh)
    xmax = _explorer_xmax(max(parts.sum(), ideal_mwh) * 1.1)
    if xmax != h["xmax"]:
        ticks = np.linspace(0, xmax, 6)
        h["ax"].set_xlim(0, xmax)
        h["ax"].set_xticks(ticks, [f"{t:,.0f}" for t in ticks])
        h["xmax"] = xmax
    h["title"].set_text(f"GPT-3 on {gpus:,} {gpu}s: {u.fmt_seconds(run.time_s)}, {parts.sum():,.0f} MWh, "
                        f"{run.carbon_kg / u.TONNE:,.0f} t CO2e")
    return (f"{gpus:,} × {gpu}, {utilization:.0%} busy, cap {cap_fraction:.0%} of {tdp:.0f} W, PUE {pue:.2f}: "
            f"{u.fmt_seconds(run.time_s)}, {u.fmt_energy(run.energy_j)}, "
            f"{run.carbon_kg / u.TONNE:,.0f} t CO2e at {grid_g_per_kwh:.0f} g/kWh")


def _build_explorer(fig):
    """The explorer's axes and bars, built once; returns the handles that updates change.
    The row labels name the colours (no legend): text is most of what a redraw costs."""
    ax = fig.add_subplot()
    run = [ax.barh(y, 0.0, color=colour)[0] for y, colour in ((3, "C0"), (2, "C3"), (1, "C7"))]
    ideal = ax.barh(0, 0.0, color="C2")[0]
    ax.set_yticks([0, 1, 2, 3], ["ideal: 100 % busy,\nno cap, PUE 1", "+ cooling & power delivery", "+ idle", "compute"])
    ax.tick_params(axis="y", length=0)
    ax.set_ylim(-0.6, 3.6)
    ax.set_xlabel("energy (MWh)")
    title = ax.set_title("", fontsize=10)
    fig.subplots_adjust(left=0.26, right=0.96)
    fig._labkit = {"ax": ax, "run": run, "ideal": ideal, "xmax": None, "title": title}
    return fig._labkit


def energy_explorer(gpus=4096, utilization=0.4, cap_fraction=1.0, pue=1.1, grid_g_per_kwh=400.0, gpu="A100",
                    idle_fraction=0.2):
    """The chapter's explorer (sliders → :func:`explorer_draw`), shown in a notebook; returns the Explorer."""
    from .core.explore import dropdown, explorer, int_slider, slider
    return explorer(explorer_draw, title="Energy, carbon and time of a training run", retained=True,
                    gpus=int_slider(gpus, 256, 20_000, 256, "GPUs"),
                    utilization=slider(utilization, 0.05, 1.0, 0.05, "utilization"),
                    cap_fraction=slider(cap_fraction, 0.4, 1.0, 0.05, "power cap (× TDP)"),
                    pue=slider(pue, 1.0, 2.0, 0.02, "PUE"),
                    grid_g_per_kwh=slider(grid_g_per_kwh, 0, 900, 10, "grid g CO2e/kWh"),
                    gpu=dropdown(gpu, list(_gpus()), "GPU"),
                    idle_fraction=slider(idle_fraction, 0.0, 0.6, 0.05, "idle power (× TDP)"))
