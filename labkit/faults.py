"""Chapter 05 · fault tolerance: failures at scale, checkpoint intervals and goodput.

SI units in and out: seconds for every time (MTBF, checkpoint, restart, interval, work).

- ``cluster_mtbf``, ``probability_no_failure``: independent failures; a synchronous job stops when
  any of its N devices fails, so the cluster's MTBF is the device MTBF divided by N.
- ``young_interval``, ``daly_interval``, ``optimal_interval``: how much computing to do between
  checkpoints (Young 1974; Daly 2006; the exact optimum of the model below).
- ``expected_waste``, ``expected_goodput``, ``expected_wall_time``: the analytic model (Daly 2006's
  exact form for exponential failures): a segment of τ compute + δ checkpoint must run without a
  failure; a failure loses the segment and costs a restart R, which can itself be hit by a failure.
- What practitioners plan for: ``checkpoint_nbytes``, ``checkpoint_write_time``, ``checkpoint_tiers`` (δ is
  bytes ÷ bandwidth); ``restart_time_for`` and ``NCCL_DEFAULT_TIMEOUT`` (R is detection + rescheduling +
  reload); ``sdc_rollback``, ``checkpoints_to_keep``, ``sdc_waste`` (silent data corruption noticed late);
  ``spare_shortfall``, ``spares_needed`` (hot spares as an Erlang loss system); ``elastic_goodput``;
  ``goodput_split`` (Google's scheduling × runtime × program goodput).
- ``simulate_training``: the same job in simpy, with options the formula lacks (asynchronous
  checkpoints, hot spares that run out, Weibull failures that renew at restarts, silent data
  corruptions); ``simulate_seeds`` runs it over seeds. Its ``.timeline`` is a :class:`labkit.core.timeline.Timeline`
  in the states of ``FAULT_STATES``: computing (kept), checkpointing, computing work that was later
  lost, or restarting. Each state says how hard the devices work and how much of it is kept, so
  chapter 06 prices the timeline in joules without knowing these states.
- ``goodput_explorer``: sliders for devices, MTBF, checkpoint bytes per GPU and write bandwidth (δ is
  their ratio), restart time, interval.
"""

import math
from dataclasses import dataclass, field

import numpy as np

from . import units as u
from .core.plotting import log_axis, new_axes, no_minor_ticks
from .core.timeline import FAULT_STATES, Timeline
from .core.validate import (choice, finite_result, fraction, instance, integer, nonnegative, number, positive,
                            scalar_or_array, sequence)

# The Llama 3 405B pre-training run: Dubey et al., "The Llama 3 Herd of Models", arXiv:2407.21783
# (2024), Section 3.3.4 and Table 5: a 54-day snapshot on 16,384 H100 GPUs with 466 job
# interruptions, 47 planned and 419 unexpected; > 90 % effective training time.
LLAMA3_GPUS = 16_384
LLAMA3_DAYS = 54
LLAMA3_UNEXPECTED = 419
LLAMA3_PLANNED = 47
LLAMA3_EFFECTIVE_TRAINING = 0.90  # "higher than 90 %"

# The run's timeline states are core's FAULT_STATES (compute, checkpoint, lost, restart); the
# simulation writes their codes, the plots colour them by name.
_COMPUTE, _CHECKPOINT, _LOST, _RESTART = (FAULT_STATES.code(k) for k in ("compute", "checkpoint", "lost", "restart"))
STATE_COLORS = dict(zip(FAULT_STATES.names, ("#2e7d32", "#1565c0", "#c62828", "#f9a825")))   # green blue red amber

# Bounds that keep every call finite in time: a simulation runs at most this many seeds per point,
# and a Weibull shape outside this range is not a model of hardware failures (and overflows Γ).
_MAX_SEEDS = 1000
_SHAPE_RANGE = (0.1, 20.0)


# ---------------------------------------------------------------------------------------------
# Failures at scale
# ---------------------------------------------------------------------------------------------
def cluster_mtbf(component_mtbf, n_components):
    """Mean time between failures (s) of N components in series: ``component_mtbf / N``.

    Assumes independent, exponentially distributed failures and that any one failure stops the
    job (synchronous training): failure rates add, so the MTBF shrinks as 1/N. Broadcasts.
    """
    m = positive("component_mtbf", component_mtbf, "s", array=True)
    n = number("n_components", n_components, "components", array=True, minimum=1)
    return scalar_or_array(finite_result(m / n, "cluster_mtbf (component_mtbf / n_components)"))


def component_mtbf(cluster_mtbf, n_components):
    """The inverse of :func:`cluster_mtbf`: per-component MTBF (s) = cluster MTBF × N."""
    m = positive("cluster_mtbf", cluster_mtbf, "s", array=True)
    n = number("n_components", n_components, "components", array=True, minimum=1)
    with np.errstate(over="ignore"):
        return scalar_or_array(finite_result(m * n, "component_mtbf (cluster_mtbf × n_components)"))


def observed_mtbf(duration, n_failures):
    """MTBF (s) estimated from an observation: ``duration / n_failures``."""
    t = positive("duration", duration, "s", array=True)
    n = positive("n_failures", n_failures, "failures", array=True)
    with np.errstate(over="ignore"):
        return scalar_or_array(finite_result(t / n, "observed_mtbf (duration / n_failures)"))


def system_mtbf(component_mtbfs, counts):
    """MTBF (s) of a system of several component kinds: ``1 / Σ counts_i / mtbf_i``.

    ``component_mtbfs[i]`` (s) is the MTBF of one component of kind i, ``counts[i]`` how many there
    are. Independent exponential failures; any failure stops the job.
    """
    m = np.atleast_1d(positive("component_mtbfs", component_mtbfs, "s", array=True))
    n = np.atleast_1d(nonnegative("counts", counts, "components", array=True))
    if m.shape != n.shape:
        raise ValueError(f"component_mtbfs and counts must have the same length, got {m.size} and {n.size}")
    with np.errstate(over="ignore"):
        rate = float(np.sum(n / m))
    if rate == 0:
        raise ValueError("counts must include at least one component")
    return float(finite_result(1.0 / rate, "system_mtbf (1 / Σ counts / component_mtbfs)"))


def _weibull_scale(mtbf, shape):
    return mtbf / math.gamma(1.0 + 1.0 / shape)


def _shape(name, value):
    lo, hi = _SHAPE_RANGE
    return number(name, value, "Weibull shape", minimum=lo, maximum=hi)


def probability_no_failure(duration, mtbf, shape=1.0):
    """Probability that a job running ``duration`` seconds sees no failure, given the MTBF (s).

    Exponential failures (``shape=1``): ``exp(-duration / mtbf)``. For a Weibull time to failure
    with the same mean, ``exp(-(duration / scale) ** shape)`` with ``scale = mtbf / Γ(1 + 1/shape)``
    (shape between 0.1 and 20). Broadcasts.
    """
    t = nonnegative("duration", duration, "s", array=True)
    m = positive("mtbf", mtbf, "s", array=True)
    k = _shape("shape", shape)
    with np.errstate(over="ignore"):
        return scalar_or_array(np.exp(-(t / _weibull_scale(m, k)) ** k))


# ---------------------------------------------------------------------------------------------
# Checkpoint intervals
# ---------------------------------------------------------------------------------------------
def young_interval(checkpoint_time, mtbf):
    """Young's (1974) checkpoint interval (s of compute between checkpoints): ``sqrt(2 δ M)``.

    δ = checkpoint_time (s), M = mtbf (s) of the whole job. First-order: good when δ ≪ M.
    """
    d = positive("checkpoint_time", checkpoint_time, "s", array=True)
    m = positive("mtbf", mtbf, "s", array=True)
    with np.errstate(over="ignore"):
        return scalar_or_array(finite_result(np.sqrt(2.0 * d) * np.sqrt(m),
                                             "young_interval sqrt(2 × checkpoint_time × mtbf)"))


def daly_interval(checkpoint_time, mtbf):
    """Daly's (2006) higher-order checkpoint interval (s of compute between checkpoints).

    ``sqrt(2δM)·[1 + ⅓·sqrt(δ/2M) + (1/9)·(δ/2M)] − δ`` for δ < 2M, else ``M``
    (J. T. Daly, Future Generation Computer Systems 22(3), 2006, 303–312).
    """
    d = positive("checkpoint_time", checkpoint_time, "s", array=True)
    m = positive("mtbf", mtbf, "s", array=True)
    with np.errstate(over="ignore", invalid="ignore"):
        x = d / (2.0 * m)
        tau = np.where(d < 2.0 * m, np.sqrt(2.0 * d) * np.sqrt(m) * (1.0 + np.sqrt(x) / 3.0 + x / 9.0) - d, m)
    return scalar_or_array(finite_result(tau, "daly_interval (from checkpoint_time and mtbf)"))


def optimal_interval(checkpoint_time, mtbf):
    """The interval (s) that maximizes :func:`expected_goodput` exactly (exponential failures).

    Setting the derivative of ``τ / (e^((τ+δ)/M) − 1)`` to zero gives ``(1 − τ/M)·e^((τ+δ)/M) = 1``,
    i.e. ``τ = M·(1 + W₀(−e^(−1−δ/M)))`` with W₀ the Lambert W function; solved here by bisection.
    It does not depend on the restart time. Young's and Daly's formulas approximate it.
    """
    d = positive("checkpoint_time", checkpoint_time, "s", array=True)
    m = positive("mtbf", mtbf, "s", array=True)
    with np.errstate(over="ignore"):
        ratio = np.asarray(d / m, dtype=float)
    lo, hi = np.zeros_like(ratio), np.ones_like(ratio)
    for _ in range(64):  # g(y) = y + δ/M + ln(1 − y) falls from δ/M > 0 at y = 0 to −∞ at y = 1
        mid = 0.5 * (lo + hi)
        above = mid + ratio + np.log1p(-mid) > 0
        lo, hi = np.where(above, mid, lo), np.where(above, hi, mid)
    return scalar_or_array(0.5 * (lo + hi) * m)


# ---------------------------------------------------------------------------------------------
# The analytic model
# ---------------------------------------------------------------------------------------------
def _segment_time(length, restart_time, mtbf):
    """Expected wall time (s) to get ``length`` seconds done without a failure (Daly 2006)."""
    with np.errstate(over="ignore", invalid="ignore"):
        return mtbf * np.exp(restart_time / mtbf) * np.expm1(length / mtbf)


def expected_waste(interval, checkpoint_time, restart_time, mtbf):
    """Expected fraction of wall time that is not useful compute (0..1), in steady state.

    interval τ (s of compute between checkpoints), checkpoint_time δ (s the job stalls to save),
    restart_time R (s to get going again after a failure), mtbf M (s, the whole job's).
    Model (Daly 2006, exact for it): failures are a Poisson process at rate 1/M, also during
    checkpoints and restarts; a failure loses everything since the last completed checkpoint.
    Each τ + δ segment then takes ``M·e^(R/M)·(e^((τ+δ)/M) − 1)`` on average and
    ``waste = 1 − τ / that``: checkpoint overhead + rework + restarts. Broadcasts over arrays.
    For small δ, R ≪ τ ≪ M it is ≈ :func:`first_order_waste`.
    """
    tau = positive("interval", interval, "s", array=True)
    d = nonnegative("checkpoint_time", checkpoint_time, "s", array=True)
    r = nonnegative("restart_time", restart_time, "s", array=True)
    m = positive("mtbf", mtbf, "s", array=True)
    with np.errstate(over="ignore", invalid="ignore", divide="ignore"):
        waste = 1.0 - tau / _segment_time(tau + d, r, m)
    waste = np.clip(np.nan_to_num(waste, nan=1.0), 0.0, 1.0)
    return scalar_or_array(waste)


def expected_goodput(interval, checkpoint_time, restart_time, mtbf):
    """Useful compute / wall time implied by :func:`expected_waste` (``1 − waste``)."""
    return 1.0 - expected_waste(interval, checkpoint_time, restart_time, mtbf)


def first_order_waste(interval, checkpoint_time, restart_time, mtbf):
    """Young's first-order waste: ``δ/τ + τ/(2M) + R/M`` (checkpoints, half an interval of rework
    per failure, restarts). Minimized at ``τ = sqrt(2δM)``; only meaningful while it is small."""
    tau = positive("interval", interval, "s", array=True)
    d = nonnegative("checkpoint_time", checkpoint_time, "s", array=True)
    r = nonnegative("restart_time", restart_time, "s", array=True)
    m = positive("mtbf", mtbf, "s", array=True)
    with np.errstate(over="ignore", invalid="ignore"):
        return scalar_or_array(finite_result(d / tau + tau / (2.0 * m) + r / m,
                                             "first_order_waste checkpoint_time/interval + interval/(2 mtbf) "
                                             "+ restart_time/mtbf"))


def expected_wall_time(work, interval, checkpoint_time, restart_time, mtbf):
    """Expected wall time (s) to finish ``work`` seconds of compute, the analytic twin of
    :func:`simulate_training` (exponential failures, synchronous checkpoints, one checkpoint after
    every interval and after the last, shorter segment). An interval longer than the work is one
    segment. Raises ValueError when the expected time is beyond any float (failures far more
    frequent than the segments are long)."""
    w = positive("work", work, "s")
    tau = positive("interval", interval, "s")
    d = nonnegative("checkpoint_time", checkpoint_time, "s")
    r = nonnegative("restart_time", restart_time, "s")
    m = positive("mtbf", mtbf, "s")
    full = math.floor(w / tau * (1 + 1e-12))
    rest = w - full * tau
    total = full * _segment_time(tau + d, r, m) if full else 0.0
    if rest > 1e-9 * tau:
        total += _segment_time(rest + d, r, m)
    return float(finite_result(total, "the expected wall time for this work, interval, checkpoint_time, "
                                      "restart_time and mtbf (failures far more frequent than segments are long)"))


def goodput_map(checkpoint_times, restart_times, mtbf, interval="optimal"):
    """Expected goodput on a grid: rows = restart_times, columns = checkpoint_times (s).

    Each point uses the ``interval`` rule ("optimal", "daly" or "young") for its checkpoint time.
    """
    d = np.atleast_1d(positive("checkpoint_times", checkpoint_times, "s", array=True)).ravel()
    r = np.atleast_1d(nonnegative("restart_times", restart_times, "s", array=True)).ravel()
    m = positive("mtbf", mtbf, "s")
    if not isinstance(interval, str):
        raise TypeError(f"interval must be a rule's name, 'optimal', 'daly' or 'young'; got {type(interval).__name__}")
    rule = {"optimal": optimal_interval, "daly": daly_interval, "young": young_interval}[
        choice("interval", interval, ("optimal", "daly", "young"))]
    tau = np.atleast_1d(np.asarray(rule(d, m), dtype=float))
    return expected_goodput(tau[None, :], d[None, :], r[:, None], m)


def max_restart_for_goodput(target, checkpoint_time, mtbf):
    """Longest restart time (s) that still reaches goodput ``target`` at the optimal interval
    (0 when even an instant restart cannot). Exact under the :func:`expected_waste` model."""
    g = fraction("target", target, allow_zero=False, allow_one=False)
    d = positive("checkpoint_time", checkpoint_time, "s", array=True)
    m = positive("mtbf", mtbf, "s", array=True)
    tau = optimal_interval(d, m)
    best = expected_goodput(tau, d, 0.0, m)  # goodput with R = 0; R multiplies time by e^(R/M)
    with np.errstate(divide="ignore", over="ignore"):
        r = m * np.log(best / g)
    return scalar_or_array(finite_result(np.maximum(r, 0.0), "max_restart_for_goodput (from target, "
                                                               "checkpoint_time and mtbf)"))


def max_checkpoint_time(target, restart_time, mtbf):
    """Longest checkpoint time δ (s) that still reaches goodput ``target`` at the optimal interval
    (0 when even an instant checkpoint with this restart time cannot). Exact under the
    :func:`expected_waste` model, in closed form: at the optimum ``(1 − y)·e^((τ+δ)/M) = 1`` with
    ``y = τ/M``, so the goodput there is ``(1 − y)·e^(−R/M)``; reaching ``target`` needs
    ``y ≤ 1 − target·e^(R/M)``, and δ/M = −y − ln(1 − y) grows with y. Broadcasts."""
    g = fraction("target", target, allow_zero=False, allow_one=False)
    r = nonnegative("restart_time", restart_time, "s", array=True)
    m = positive("mtbf", mtbf, "s", array=True)
    with np.errstate(over="ignore", invalid="ignore"):
        y = np.clip(1.0 - g * np.exp(r / m), 0.0, None)
        small = y < 1e-4   # −y − ln(1 − y) = y²/2 + y³/3 + y⁴/4 + …, without the cancellation
        ratio = np.where(small, y * y * (0.5 + y / 3.0 + y * y / 4.0), -y - np.log1p(-y))
    return scalar_or_array(finite_result(ratio * m, "max_checkpoint_time (from target, restart_time and mtbf)"))

# ---------------------------------------------------------------------------------------------
# What practitioners plan for: checkpoint bytes, detection, silent corruption, spares, elastic
# training, and goodput split the way Google reports it
# ---------------------------------------------------------------------------------------------
# Llama 3's checkpoint storage (Dubey et al. 2024, arXiv:2407.21783, Sec. 3.3.1 "Storage"): Tectonic,
# 240 PB on 7,500 SSD servers, "a sustainable throughput of 2 TB/s and a peak throughput of 7 TB/s";
# each checkpoint saves every GPU's model state, "ranging from 1 MB to 4 GB per GPU".
LLAMA3_STORAGE_SUSTAINED_BYTES_PER_S = 2e12
LLAMA3_STORAGE_PEAK_BYTES_PER_S = 7e12
LLAMA3_CHECKPOINT_BYTES_PER_GPU = (1e6, 4e9)
# PyTorch's default collective timeout for NCCL process groups: 10 minutes since PyTorch 2.2
# (pytorch/pytorch PR #110947, "Change ProcessGroupNCCL default timeout to 10 min"; 30 min before,
# still the default of the other backends). A hung collective is noticed only when it expires.
NCCL_DEFAULT_TIMEOUT = 10 * u.MINUTE


def checkpoint_nbytes(n_params, weight_bytes=2, optimizer_bytes=12):
    """Bytes of one full training checkpoint: ``n_params × (weight_bytes + optimizer_bytes)``.

    Default: mixed-precision Adam, BF16 weights (2 bytes) and FP32 master weights, momentum and
    variance (12 bytes; Rajbhandari et al. 2020), 14 bytes per parameter: chapter 02's training
    state (:func:`labkit.scaling.training_memory`) without the gradients, which are not saved.
    Ignores the data loader's and RNG state (kilobytes to megabytes).
    """
    n = positive("n_params", n_params, "parameters", array=True)
    w = nonnegative("weight_bytes", weight_bytes, "bytes per parameter")
    o = nonnegative("optimizer_bytes", optimizer_bytes, "bytes per parameter")
    if w + o == 0:
        raise ValueError("weight_bytes + optimizer_bytes must be positive: a checkpoint saves something")
    with np.errstate(over="ignore"):
        return scalar_or_array(finite_result(n * (w + o), "checkpoint_nbytes n_params × (weight_bytes + "
                                                          "optimizer_bytes)"))


def checkpoint_write_time(nbytes, bandwidth_bytes_per_s, n_devices=1):
    """Seconds to write a checkpoint of ``nbytes`` bytes: ``nbytes / n_devices / bandwidth``.

    Two readings of the same division: a shared store (``n_devices=1``, the store's aggregate
    bandwidth, e.g. Llama 3's 2 TB/s), or every device writing its shard in parallel over its own
    link (``n_devices`` shards, ``bandwidth_bytes_per_s`` per device: PCIe to host memory, a NIC to a
    peer's memory). The checkpoint's δ is the time of the slowest tier the save waits for. Assumes
    the bandwidth is sustained for the whole write (no per-file latency, no contention beyond it).
    """
    b = positive("nbytes", nbytes, "bytes", array=True)
    bw = positive("bandwidth_bytes_per_s", bandwidth_bytes_per_s, "bytes/s", array=True)
    n = number("n_devices", n_devices, "devices", array=True, minimum=1)
    with np.errstate(over="ignore", under="ignore"):
        return scalar_or_array(finite_result(b / n / bw, "checkpoint_write_time nbytes / n_devices / "
                                                         "bandwidth_bytes_per_s"))


def llama3_checkpoint(n_params=405e9, bandwidth_bytes_per_s=LLAMA3_STORAGE_SUSTAINED_BYTES_PER_S):
    """(checkpoint bytes, bytes per GPU, write time in s) for Llama 3 405B's 16,384 GPUs writing to
    a store of ``bandwidth_bytes_per_s`` (default: Tectonic's sustained 2 TB/s). Even shards assumed;
    the paper's 1 MB–4 GB per GPU says real shards are not even."""
    total = checkpoint_nbytes(n_params)
    return total, total / LLAMA3_GPUS, checkpoint_write_time(total, bandwidth_bytes_per_s)


def restart_time_for(detection_time, reschedule_time, nbytes, bandwidth_bytes_per_s, n_devices=1):
    """A restart's R (s) as three parts: notice the failure (``detection_time``), get healthy
    machines and start the processes (``reschedule_time``), read the checkpoint back
    (:func:`checkpoint_write_time` of ``nbytes`` at the read bandwidth). A crashed process is seen in
    seconds; a hung collective only when its timeout expires (:data:`NCCL_DEFAULT_TIMEOUT`)."""
    d = nonnegative("detection_time", detection_time, "s", array=True)
    s = nonnegative("reschedule_time", reschedule_time, "s", array=True)
    read = checkpoint_write_time(nbytes, bandwidth_bytes_per_s, n_devices)
    return scalar_or_array(finite_result(d + s + read, "restart_time_for (detection + reschedule + read)"))


# --- silent data corruption -------------------------------------------------------------------
def llama3_sdc_mtbf():
    """Mean time (s) between silent data corruptions in the Llama 3 run: 54 days / the 6 that
    interrupted it (Table 5's "Silent Data Corruption" row, read from the dataset)."""
    t = llama3_interruptions()
    return observed_mtbf(LLAMA3_DAYS * u.DAY, float(t.where(component="Silent Data Corruption")["interruptions"][0]))


def sdc_rollback(interval, detection_time):
    """Expected compute (s) an SDC costs: the job rolls back to the last checkpoint saved BEFORE the
    corruption, so it loses the part of the interval done before it (τ/2 on average) plus everything
    computed until it is noticed (``detection_time``, s of compute); checkpoints saved meanwhile
    hold corrupt state and are useless. A fail-stop failure costs τ/2; an SDC τ/2 + D.
    Assumes the corruption strikes at a uniformly random moment of computing."""
    tau = positive("interval", interval, "s", array=True)
    d = nonnegative("detection_time", detection_time, "s", array=True)
    return scalar_or_array(finite_result(tau / 2.0 + d, "sdc_rollback interval / 2 + detection_time"))


def checkpoints_to_keep(interval, detection_time):
    """How many checkpoints to retain so that one from before an SDC still exists when it is
    noticed ``detection_time`` seconds of compute later: ``ceil(D / τ) + 1``. Saves come every
    ``interval`` τ (s of compute); up to ceil(D/τ) of them land between the corruption and its
    detection and hold corrupt state, and the newest clean one must survive them (with D = 0, a
    fail-stop failure, the latest checkpoint is enough). Broadcasts."""
    tau = positive("interval", interval, "s", array=True)
    d = nonnegative("detection_time", detection_time, "s", array=True)
    with np.errstate(over="ignore"):
        ratio = finite_result(d / tau, "checkpoints_to_keep detection_time / interval")
    if np.any(ratio > 1e12):
        raise ValueError("detection_time / interval must be below 10¹² checkpoints to keep")
    keep = np.ceil(ratio) + 1
    return int(keep) if np.ndim(keep) == 0 else keep.astype(int)


def sdc_waste(interval, detection_time, restart_time, sdc_mtbf):
    """First-order fraction of time SDCs waste: ``(τ/2 + D + R) / M_sdc`` — each corruption, one per
    ``sdc_mtbf`` seconds, costs :func:`sdc_rollback` plus a restart. Add it to the fail-stop waste
    while both are small (it is the same first-order reasoning as :func:`first_order_waste`)."""
    lost = sdc_rollback(interval, detection_time)
    r = nonnegative("restart_time", restart_time, "s", array=True)
    m = positive("sdc_mtbf", sdc_mtbf, "s", array=True)
    with np.errstate(over="ignore"):
        return scalar_or_array(np.clip(finite_result((lost + r) / m, "sdc_waste"), 0.0, 1.0))


# --- hot spares ------------------------------------------------------------------------------
def spare_shortfall(n_spares, mtbf, repair_time):
    """Fraction of failures that find every hot spare still in repair (0..1): Erlang's loss formula.

    Failures arrive at random at rate 1/``mtbf`` (s, the job's); each takes a spare out of the pool
    for ``repair_time`` seconds (any distribution); a failure that finds the pool empty takes none
    and pays the slow restart. The pool is then an Erlang loss system with ``n_spares`` servers and
    offered load a = repair_time / mtbf, and the share turned away is Erlang B(n, a) (A. K. Erlang
    1917), computed by the stable recursion B(k) = a·B(k−1) / (k + a·B(k−1)). Broadcasts over mtbf
    and repair_time; ``n_spares`` is one count (0 to 100,000). The twin of :func:`simulate_training`'s
    ``hot_spares`` (``.spare_misses / .failures``).
    """
    s = integer("n_spares", n_spares, minimum=0, maximum=100_000)
    m = positive("mtbf", mtbf, "s", array=True)
    r = nonnegative("repair_time", repair_time, "s", array=True)
    with np.errstate(over="ignore", invalid="ignore"):
        a = np.asarray(finite_result(r / m, "the offered load repair_time / mtbf"), dtype=float)
    b = np.ones_like(a)
    for k in range(1, s + 1):
        b = a * b / (k + a * b)
    return scalar_or_array(np.clip(np.nan_to_num(b, nan=1.0), 0.0, 1.0))


def spares_needed(mtbf, repair_time, target=0.01):
    """Fewest hot spares (a count) for which at most a fraction ``target`` of failures finds the
    pool empty (:func:`spare_shortfall`); mtbf and repair_time in s. About the failures in repair at
    once (repair_time / mtbf, Little's law) plus a margin for bursts."""
    m = positive("mtbf", mtbf, "s")
    r = nonnegative("repair_time", repair_time, "s")
    g = fraction("target", target, allow_zero=False, allow_one=False)
    a = r / m
    if a > 50_000:
        raise ValueError(f"repair_time / mtbf = {a:.3g} failures in repair at once: too many spares to count "
                         "(at most 50,000 on average)")
    b, k = 1.0, 0
    while b > g:
        k += 1
        b = a * b / (k + a * b)
    return k


# --- elastic training --------------------------------------------------------------------------
def elastic_goodput(data_parallel, replica_mtbf, repair_time, reconfigure_time):
    """Expected goodput (0..1) of elastic data-parallel training: a failed replica drops out, the
    others go on (the global batch is kept by more accumulation steps), and it rejoins once repaired.

    Each of the ``data_parallel`` replicas alternates up (mean ``replica_mtbf`` s) and in repair
    (mean ``repair_time`` s), independently, so it is up a fraction A = M / (M + r) of the time and
    the job runs at A of full speed on average. Each failure and each rejoin pauses every replica
    for ``reconfigure_time`` s (rebuilding communicators; the step in flight is redone from memory,
    not from a checkpoint); there are 2·N / (M + r) of them per second. Goodput = A·(1 − pauses).
    Assumes a replica is a unit that fails as one (a node, or a tensor/pipeline group) and that the
    job never drops below one replica.
    """
    n = integer("data_parallel", data_parallel, minimum=1)
    m = positive("replica_mtbf", replica_mtbf, "s")
    r = nonnegative("repair_time", repair_time, "s")
    c = nonnegative("reconfigure_time", reconfigure_time, "s")
    up = m / (m + r)
    pauses = min(1.0, 2.0 * n * c / (m + r))
    return float(np.clip(up * (1.0 - pauses), 0.0, 1.0))


# --- goodput split --------------------------------------------------------------------------------
@dataclass
class GoodputSplit:
    """ML Productivity Goodput as Google reports it (Singh and Herrington, Google Cloud blog, "Introducing
    ML Productivity Goodput", April 2024): the product of three fractions.

    scheduling: share of the time all the resources the job needs are available to it; runtime:
    share of that time spent on training progress that is kept (checkpoints, restarts and lost
    work are its badput; :func:`expected_goodput`); program: share of the hardware's peak the
    training code extracts (its MFU; chapter 04).
    """
    scheduling: float
    runtime: float
    program: float

    @property
    def total(self):
        """scheduling × runtime × program."""
        return self.scheduling * self.runtime * self.program

    def as_dict(self):
        return {"scheduling": self.scheduling, "runtime": self.runtime, "program": self.program,
                "total": self.total}

    def __str__(self):
        return (f"goodput {self.total:.1%} = scheduling {self.scheduling:.1%} × runtime {self.runtime:.1%} "
                f"× program {self.program:.1%}")


def goodput_split(scheduling, runtime, program):
    """A :class:`GoodputSplit` from its three fractions (0..1; see there); ``.total`` is their product."""
    return GoodputSplit(fraction("scheduling", scheduling), fraction("runtime", runtime),
                        fraction("program", program))


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


# ---------------------------------------------------------------------------------------------
# The simulation
# ---------------------------------------------------------------------------------------------
@dataclass
class TrainingRun:
    """Result of :func:`simulate_training` (all times in seconds).

    ``timeline``: a :class:`labkit.core.timeline.Timeline` in the ``FAULT_STATES`` (compute: work
    that was kept; checkpoint: training stalled to save, including saves cut short by a failure;
    lost: compute later rolled back by a failure; restart: detecting, replacing, reloading, including
    restarts cut short). Its intervals tile [0, wall_time] without gaps; the devices compute in
    compute and lost (``interval_utilization`` 1) and only compute's work is kept
    (``interval_useful``), which is all chapter 06 needs to price it.
    """
    n_devices: int
    work: float                 # compute the job needed
    work_done: float            # compute kept (== work when completed)
    wall_time: float            # time from start to the end (completion or max_wall_time)
    failures: int               # failures that hit the job
    checkpoints: int            # checkpoints completed (durable)
    completed: bool
    timeline: Timeline
    n_events: int               # simpy events the model's processes scheduled
    failure_times: np.ndarray = field(repr=False)
    params: dict = field(default_factory=dict, repr=False)
    spare_misses: int = 0       # restarts that found no hot spare ready (0 without spares)
    sdc_rollbacks: int = 0      # silent corruptions detected (each rolled back past corrupt saves)

    @property
    def goodput(self):
        """Useful compute / wall time."""
        return self.work_done / self.wall_time if self.wall_time > 0 else 0.0

    @property
    def time_in(self):
        """``{state: seconds}``: compute, checkpoint, lost, restart."""
        return self.timeline.totals()

    def __str__(self):
        t = self.time_in
        parts = ", ".join(f"{k} {t[k] / self.wall_time:.1%}" for k in FAULT_STATES.names) if self.wall_time else ""
        return (f"{self.n_devices:,} devices: {self.failures} failures in {u.fmt_seconds(self.wall_time)}; "
                f"goodput {self.goodput:.1%} ({parts})")


def _failure_gaps(rng, mean, shape, chunk=256):
    """Endless times between failures (s): exponential, or Weibull with the same mean."""
    if shape == 1.0:
        while True:
            yield from rng.exponential(mean, chunk).tolist()
    scale = _weibull_scale(mean, shape)
    while True:
        yield from (scale * rng.weibull(shape, chunk)).tolist()


def _failures(env, job, gaps, times, clock):
    """Interrupt the job at each failure: a renewal process that starts afresh at each failure,
    whatever the job is doing. When the job renews the clock (``clock["generation"]`` moves on, a
    new process takes over), this one's pending failure is dropped."""
    generation = clock["generation"]
    for gap in gaps:
        yield env.timeout(gap)
        if not job.is_alive or clock["generation"] != generation:
            return
        times.append(env.now)
        job.interrupt()


def _corruptions(env, job, rng, p):
    """Silent data corruptions: Poisson arrivals at rate 1/sdc_mtbf in wall time; one that strikes
    while the job computes is noticed ``detection_time`` later (a separate waiting process), unless a
    rollback has meanwhile taken the job back to before it."""
    mean, delay = p["sdc_mtbf"], p["detection_time"]
    while True:
        yield env.timeout(float(rng.exponential(mean)))
        if not job.is_alive:
            return
        if p["phase"] == _COMPUTE:
            env.process(_detection(env, job, env.now, delay, p))


def _detection(env, job, t_corrupt, delay, p):
    yield env.timeout(delay)
    # erased if the job rolled back, since the corruption, to a state saved before it
    for when, snapshot in reversed(p["rollbacks"]):
        if when < t_corrupt:
            break
        if snapshot <= t_corrupt:
            return
    if job.is_alive:
        job.interrupt(("sdc", t_corrupt))


def _training(env, p, ends, states, spares_ready):
    """The job: compute τ, checkpoint, repeat; on a failure roll back to the last durable
    checkpoint and restart. Appends each interval's end time and state (intervals are contiguous
    from t = 0). Returns (timeouts yielded, checkpoints completed)."""
    import simpy

    work, tau, delta, stall, horizon = p["work"], p["interval"], p["checkpoint_time"], p["stall"], p["horizon"]
    progress = durable = 0.0       # compute done / compute saved
    durable_index = 0              # timeline entries from here on are not yet saved
    pending = None                 # async save in flight: (progress, ready_time, index, snapshot time)
    history = p["history"]         # saves in the current lineage: (progress, index, snapshot time)
    track = p["sdc_mtbf"] is not None   # only silent corruptions need the phase and the history
    phase = _COMPUTE
    yields = checkpoints = 0
    while True:
        now = env.now
        if track:
            p["phase"] = phase
        if pending is not None and now >= pending[1]:
            durable, durable_index = pending[0], pending[2]
            if track:
                history.append((durable, durable_index, pending[3]))
            pending = None
            checkpoints += 1
        if durable >= work * (1 - 1e-12):
            return yields, checkpoints
        yields += 1
        try:
            if phase == _COMPUTE:
                remaining = work - progress
                seg = min(remaining if remaining <= tau * (1 + 1e-9) else tau, horizon - now)
                yield env.timeout(seg)
                progress += seg
                ends.append(now + seg); states.append(_COMPUTE)
                if now + seg >= horizon:
                    return yields, checkpoints
                phase = _CHECKPOINT
            elif phase == _CHECKPOINT:
                final = progress >= work * (1 - 1e-12)
                previous = max(0.0, pending[1] - now) if pending is not None else 0.0
                wanted = previous + (delta if final else stall)
                wait = min(wanted, horizon - now)
                yield env.timeout(wait)
                ends.append(now + wait); states.append(_CHECKPOINT)
                if wait < wanted:                        # stopped at max_wall_time
                    return yields, checkpoints
                if pending is not None:                  # waited for it above: it is on disk now
                    durable, durable_index = pending[0], pending[2]
                    if track:
                        history.append((durable, durable_index, pending[3]))
                    pending = None
                    checkpoints += 1
                if final or stall >= delta:              # synchronous save: durable now
                    durable, durable_index = progress, len(states)
                    if track:
                        history.append((durable, durable_index, now))
                    checkpoints += 1
                else:                                    # the rest of the write overlaps compute
                    pending = (progress, now + delta - stall, len(states), now)
                phase = _COMPUTE
            else:  # _RESTART
                restart = p["restart_time"]
                if spares_ready and spares_ready[0] <= now:   # a hot spare is ready: swap it in
                    spares_ready.pop(0)
                    spares_ready.append(now + p["repair_time"])
                    spares_ready.sort()
                    restart = p["spare_restart_time"]
                elif spares_ready:                            # every spare is still in repair
                    p["spare_misses"] += 1
                wait = min(restart, horizon - now)
                yield env.timeout(wait)
                ends.append(now + wait); states.append(_RESTART)
                if wait < restart:
                    return yields, checkpoints
                if p["renew"] is not None:                    # the failure clock starts afresh
                    p["renew"]()
                phase = _COMPUTE
        except simpy.Interrupt as interrupt:
            if env.now > now:
                ends.append(env.now); states.append(phase)
            if phase == _COMPUTE:
                progress += env.now - now
            if pending is not None and env.now >= pending[1]:
                durable, durable_index = pending[0], pending[2]
                if track:
                    history.append((durable, durable_index, pending[3]))
                checkpoints += 1
            pending = None
            if interrupt.cause is not None:             # a silent corruption, noticed now: go back to the
                t_corrupt = interrupt.cause[1]          # newest save taken before it (later ones are corrupt)
                while len(history) > 1 and history[-1][2] >= t_corrupt:
                    history.pop()
                durable, first = history[-1][0], history[-1][1]
                p["sdc_rollbacks"] += 1
            else:
                first = durable_index
            for i in range(first, len(states)):        # roll back: unsaved compute is lost
                if states[i] == _COMPUTE:
                    states[i] = _LOST
            if track:
                p["rollbacks"].append((env.now, history[-1][2]))
            durable_index = len(states)
            progress = durable
            phase = _RESTART


def simulate_training(n_devices, device_mtbf, work, interval, checkpoint_time, restart_time,
                      *, seed=0, checkpoint_stall=None, hot_spares=0, spare_restart_time=None,
                      repair_time=u.DAY, failure_shape=1.0, failure_renewal="restart", sdc_mtbf=None,
                      detection_time=0.0, max_wall_time=None):
    """Simulate a synchronous training job with failures, checkpoints and restarts (simpy).

    n_devices: devices the job needs (a failure of any one stops it); device_mtbf (s);
    work (s of failure-free compute the job needs); interval τ (s of compute between
    checkpoints); checkpoint_time δ (s to save a checkpoint); restart_time R (s from a failure to
    computing again: detect, replace, reload).

    Options:
      checkpoint_stall: seconds each save stalls training (default δ, synchronous). With
        0 ≤ stall < δ the save is asynchronous: training resumes after the stall and the rest of the
        write overlaps compute; the checkpoint protects work only once the write completes, and the
        next save waits for the previous write to finish.
      hot_spares, spare_restart_time, repair_time: with a spare ready, a restart takes
        spare_restart_time instead of R; each failure takes one spare (a device or node) out of the
        pool for repair_time (s), after which it is a spare again. When every spare is in repair the
        restart falls back to R and the pool is not touched (``.spare_misses`` counts these); the
        pool is then an Erlang loss system, whose twin is :func:`spare_shortfall`.
      failure_shape: Weibull shape k of the times between failures (1 = exponential; 0.1 ≤ k ≤ 20);
        the mean gap stays device_mtbf / n_devices. With k < 1 a failure is likeliest soon after the
        failure clock last started afresh.
      failure_renewal: when that clock starts afresh: "restart" (default) at each failure and again
        when the job resumes computing after its restart (fresh processes, a swapped node), so with
        k < 1 failures cluster just after restarts; "failure" only at each failure, as one renewal
        process for the whole job. Exponential failures have no memory: both are the same model
        (and the same random draws).
      sdc_mtbf, detection_time: silent data corruptions, arriving at random at rate 1/sdc_mtbf (s);
        one that strikes while the job computes (so at that rate per second of computing) is noticed
        detection_time seconds later, and the job then rolls back to the newest checkpoint taken
        before it (every later one holds corrupt state) and restarts (``.sdc_rollbacks``). A
        rollback in the meantime to a save from before the corruption erases it. A corruption still
        unnoticed when the run ends goes unnoticed. Twin: :func:`sdc_waste` (first order).
      max_wall_time: stop there even if unfinished (default: 100 × work or 20,000 MTBFs, whichever
        is shorter; at most 10⁶ MTBFs); see ``.completed``.

    Assumptions: failures strike the job as a whole (also during checkpoints and restarts, so a
    restart can fail and start again); a failure loses all compute since the last completed
    checkpoint; the job saves after every interval and after the last, shorter segment. With the
    defaults this is exactly the model of :func:`expected_wall_time`.

    Returns a :class:`TrainingRun`: ``.goodput``, ``.wall_time``, ``.failures``, ``.timeline`` (a
    core Timeline in ``FAULT_STATES``), ``.time_in``, ``.n_events``, ``.spare_misses``.
    """
    n = integer("n_devices", n_devices, minimum=1)
    m_dev = positive("device_mtbf", device_mtbf, "s")
    w = positive("work", work, "s")
    tau = positive("interval", interval, "s")
    delta = nonnegative("checkpoint_time", checkpoint_time, "s")
    r = nonnegative("restart_time", restart_time, "s")
    seed = integer("seed", seed, minimum=0, maximum=2**63 - 1)
    stall = delta if checkpoint_stall is None else nonnegative("checkpoint_stall", checkpoint_stall, "s")
    if stall > delta:
        raise ValueError(f"checkpoint_stall ({stall} s) cannot exceed checkpoint_time ({delta} s)")
    spares = integer("hot_spares", hot_spares, minimum=0, maximum=min(n, 10**6))
    if spares and spare_restart_time is None:
        raise ValueError("with hot_spares > 0, give spare_restart_time (s): the restart time when a spare is ready")
    r_spare = r if spare_restart_time is None else nonnegative("spare_restart_time", spare_restart_time, "s")
    repair = nonnegative("repair_time", repair_time, "s")
    shape = _shape("failure_shape", failure_shape)
    renewal = choice("failure_renewal", failure_renewal, ("restart", "failure"))
    m_sdc = None if sdc_mtbf is None else positive("sdc_mtbf", sdc_mtbf, "s")
    detect = nonnegative("detection_time", detection_time, "s")
    mtbf = m_dev / n
    if mtbf <= 0 or not math.isfinite(mtbf):
        raise ValueError(f"device_mtbf / n_devices must be a positive time, got {mtbf!r} s")
    if max_wall_time is None:   # bounded so that a hopeless setting returns quickly
        horizon = min(100.0 * w, 20_000.0 * mtbf)
    else:
        horizon = positive("max_wall_time", max_wall_time, "s")
        if horizon > 1e6 * mtbf:
            raise ValueError(f"max_wall_time covers {horizon / mtbf:.3g} mean times between failures "
                             f"(device_mtbf / n_devices = {mtbf:.3g} s): at most 10⁶ can be simulated")
    if w / tau > 5e6:
        raise ValueError(f"{w / tau:.3g} checkpoint intervals is too many to simulate: "
                         "make interval longer or work shorter")
    import simpy

    rng = np.random.default_rng(seed)
    env = simpy.Environment()
    ends, states, failure_times = [], [], []
    params = {"work": w, "interval": tau, "checkpoint_time": delta, "stall": stall, "restart_time": r,
              "spare_restart_time": r_spare, "repair_time": repair, "horizon": horizon, "spare_misses": 0,
              "renew": None, "phase": _COMPUTE, "history": [(0.0, 0, 0.0)], "rollbacks": [], "sdc_rollbacks": 0,
              "sdc_mtbf": m_sdc, "detection_time": detect}
    job = env.process(_training(env, params, ends, states, [0.0] * spares))
    gaps, clock = _failure_gaps(rng, mtbf, shape), {"generation": 0}
    if renewal == "restart" and shape != 1.0:
        def renew():
            clock["generation"] += 1
            env.process(_failures(env, job, gaps, failure_times, clock))
        params["renew"] = renew
    env.process(_failures(env, job, gaps, failure_times, clock))
    if m_sdc is not None:     # its own stream, so adding SDCs leaves the fail-stop draws as they were
        env.process(_corruptions(env, job, np.random.default_rng([seed, 1]), params))
    yields, checkpoints = env.run(until=job)
    renewals = clock["generation"]

    ends = np.asarray(ends, dtype=float)
    starts = np.concatenate([[0.0], ends[:-1]])
    timeline = Timeline(starts, ends, np.asarray(states, dtype=int), FAULT_STATES)
    done = timeline.time_in(_COMPUTE)
    failures = len(failure_times)
    misses, sdcs = params.pop("spare_misses"), params.pop("sdc_rollbacks")
    for key in ("renew", "phase", "history", "rollbacks"):
        params.pop(key)
    params.update(n_devices=n, device_mtbf=m_dev, mtbf=mtbf, seed=seed, failure_shape=shape,
                  hot_spares=spares, failure_renewal=renewal)
    # simpy events: the job's timeouts, each failure's timeout and interrupt, the pending failure
    # timeout, and the two process starts; each renewal starts a process and leaves a stale timeout
    return TrainingRun(n_devices=n, work=w, work_done=min(done, w), wall_time=float(env.now),
                       failures=failures, checkpoints=checkpoints, completed=done >= w * (1 - 1e-9),
                       timeline=timeline, n_events=yields + 2 * failures + 3 + 2 * renewals,
                       failure_times=np.asarray(failure_times, dtype=float), params=params,
                       spare_misses=misses, sdc_rollbacks=sdcs)


def simulate_goodput(intervals, n_devices, device_mtbf, work, checkpoint_time, restart_time,
                     *, seeds=4, **options):
    """Mean and standard error of simulated goodput for each interval (s), over ``seeds`` seeds
    (1 to 1,000).

    Returns ``(mean, stderr)`` arrays, one entry per interval; options go to :func:`simulate_training`.
    """
    taus = np.atleast_1d(positive("intervals", intervals, "s", array=True)).ravel()
    if taus.size > 1000:
        raise ValueError(f"intervals must hold at most 1,000 values, got {taus.size:,}")
    k = integer("seeds", seeds, minimum=1, maximum=_MAX_SEEDS)
    g = np.array([[simulate_training(n_devices, device_mtbf, work, t, checkpoint_time, restart_time,
                                     seed=s, **options).goodput for s in range(k)] for t in taus])
    err = g.std(axis=1, ddof=1) / math.sqrt(k) if k > 1 else np.zeros(len(taus))
    return g.mean(axis=1), err


@dataclass
class SeedSpread:
    """Result of :func:`simulate_seeds`: one entry per seed (arrays), and the job's MTBF (s)."""
    seeds: np.ndarray
    failures: np.ndarray
    goodput: np.ndarray
    wall_time: np.ndarray
    mtbf: float
    spare_misses: np.ndarray = field(default=None, repr=False)

    @property
    def expected_failures(self):
        """Failures a Poisson process at rate 1/mtbf gives in each seed's wall time (mean of that)."""
        return float(np.mean(self.wall_time) / self.mtbf)

    def __str__(self):
        e = self.expected_failures
        spread = np.std(self.failures, ddof=1)
        return (f"{len(self.seeds)} seeds: failures {np.mean(self.failures):.0f} ± {spread:.0f} "
                f"(range {self.failures.min()}–{self.failures.max()}; Poisson {e:.0f} ± {math.sqrt(e):.0f}); "
                f"goodput {np.mean(self.goodput):.1%} ± {np.std(self.goodput, ddof=1):.1%}")


def simulate_seeds(n_devices, device_mtbf, work, interval, checkpoint_time, restart_time, *, seeds=20,
                   **options):
    """The same run under ``seeds`` seeds (2 to 1,000; seeds 0, 1, …): how much one run's failure
    count and goodput vary by chance. Options go to :func:`simulate_training`. Returns a
    :class:`SeedSpread`."""
    k = integer("seeds", seeds, minimum=2, maximum=_MAX_SEEDS)
    runs = [simulate_training(n_devices, device_mtbf, work, interval, checkpoint_time, restart_time, seed=s,
                              **options) for s in range(k)]
    return SeedSpread(seeds=np.arange(k), failures=np.array([r.failures for r in runs]),
                      goodput=np.array([r.goodput for r in runs]), wall_time=np.array([r.wall_time for r in runs]),
                      mtbf=runs[0].params["mtbf"], spare_misses=np.array([r.spare_misses for r in runs]))


_STRATEGY_KEYS = {"checkpoint_time", "restart_time", "interval", "checkpoint_stall", "hot_spares",
                  "spare_restart_time", "repair_time", "failure_shape", "failure_renewal", "sdc_mtbf",
                  "detection_time", "max_wall_time"}


def compare_strategies(n_devices, device_mtbf, work, strategies, *, seeds=2):
    """Simulate several checkpoint/restart strategies on the same job; one row per strategy.

    ``strategies``: ``{name: dict(checkpoint_time=…, restart_time=…, [interval=…],
    [other simulate_training options])}``. Without an interval each uses the exact optimum for the
    time it stalls (the checkpoint_stall when asynchronous), but never shorter than the background
    write, so saves do not queue. ``seeds``: 1 to 1,000 per strategy. Returns a list of dicts: name,
    interval (s), goodput (mean), failures (mean), spare_misses (mean restarts that found no spare),
    and the mean share of wall time in each state.
    """
    n = integer("n_devices", n_devices, minimum=1)
    m_dev = positive("device_mtbf", device_mtbf, "s")
    positive("work", work, "s")
    k = integer("seeds", seeds, minimum=1, maximum=_MAX_SEEDS)
    if not isinstance(strategies, dict):
        raise TypeError(f"strategies must be a dict {{name: dict(checkpoint_time=…, restart_time=…)}}, "
                        f"got {type(strategies).__name__}")
    if not strategies:
        raise ValueError("strategies must name at least one strategy")
    if len(strategies) > 100:
        raise ValueError(f"strategies must hold at most 100 strategies, got {len(strategies)}")
    specs = {}
    for name, spec in strategies.items():
        if not isinstance(name, str) or not name.strip():
            raise TypeError(f"strategies must be keyed by names (strings), got {name!r}")
        if not isinstance(spec, dict) or not {"checkpoint_time", "restart_time"} <= set(spec):
            raise ValueError(f"strategies[{name!r}] must be a dict with checkpoint_time and restart_time (s), "
                             f"got {spec!r:.80}")
        unknown = set(spec) - _STRATEGY_KEYS
        if unknown:
            raise TypeError(f"strategies[{name!r}] has unknown option(s) {', '.join(sorted(map(str, unknown)))}; "
                            f"known: {', '.join(sorted(_STRATEGY_KEYS))}")
        specs[name] = dict(spec)
    m = m_dev / n
    rows = []
    for name, spec in specs.items():
        delta = nonnegative(f"strategies[{name!r}].checkpoint_time", spec.pop("checkpoint_time"), "s")
        restart = spec.pop("restart_time")
        tau = spec.pop("interval", None)
        if tau is None:
            stall = spec.get("checkpoint_stall", delta)
            stall = nonnegative(f"strategies[{name!r}].checkpoint_stall", stall, "s")
            tau = max(optimal_interval(max(stall, 1e-3), m), delta - stall)
        runs = [simulate_training(n, m_dev, work, tau, delta, restart, seed=s, **spec) for s in range(k)]
        shares = {st: float(np.mean([r.timeline.fractions()[st] for r in runs])) for st in FAULT_STATES.names}
        rows.append({"name": name, "interval": float(tau), "goodput": float(np.mean([r.goodput for r in runs])),
                     "failures": float(np.mean([r.failures for r in runs])),
                     "spare_misses": float(np.mean([r.spare_misses for r in runs])), **shares})
    return rows


def plot_strategies(ax=None, rows=None):
    """Stacked bars: where the wall time of each strategy in :func:`compare_strategies` went
    (``rows``: its result)."""
    rows = sequence("rows", [] if rows is None else rows, maximum=100)
    keys = {"name", "goodput", *FAULT_STATES.names}
    for r in rows:
        if not isinstance(r, dict) or not keys <= set(r):
            raise ValueError(f"rows must be compare_strategies' rows (dicts with {', '.join(sorted(keys))}), "
                             f"got {r!r:.80}")
        for key in ("goodput", *FAULT_STATES.names):
            fraction(f"rows[{r['name']!r}][{key!r}]", r[key])
    fig, ax = new_axes(ax, figsize=(7, 0.5 * len(rows) + 1.6))
    y = np.arange(len(rows))[::-1]
    left = np.zeros(len(rows))
    for state in FAULT_STATES.names:
        share = np.array([100 * r[state] for r in rows])
        ax.barh(y, share, left=left, color=STATE_COLORS[state], label=state)
        left += share
    ax.set_yticks(y, [f"{r['name']} ({r['goodput']:.0%})" for r in rows], fontsize=8)
    ax.set(xlim=(0, 100), xlabel="share of wall time (%)")
    ax.legend(ncol=4, fontsize=8, loc="lower center", bbox_to_anchor=(0.5, 1.0), frameon=False)
    return fig


# ---------------------------------------------------------------------------------------------
# Data and plots
# ---------------------------------------------------------------------------------------------
def llama3_interruptions():
    """The Llama 3 paper's Table 5 (unexpected interruptions by cause) as a labkit Table."""
    from .data import load
    return load("llama3_interruptions")


def llama3_mtbf():
    """(cluster MTBF, per-GPU MTBF) in seconds from the Llama 3 run: 54 days / 419 unexpected
    interruptions, times 16,384 GPUs. Counts every unexpected interruption (software too) as if
    each GPU caused its share."""
    m = observed_mtbf(LLAMA3_DAYS * u.DAY, LLAMA3_UNEXPECTED)
    return m, component_mtbf(m, LLAMA3_GPUS)


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
    from .data import Table
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
    y = np.arange(len(order))
    ax.barh(y, counts[order], color=[colors[c] for c in t["category"][order]])
    ax.set_yticks(y, t["component"][order], fontsize=8)
    from matplotlib.patches import Patch
    ax.set(xlabel="unexpected interruptions in 54 days", title="Llama 3 405B: what interrupted training")
    ax.legend(handles=[Patch(color=colors[c], label=c) for c in cats], fontsize=8, loc="lower right")
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
    for rule, style in ((young_interval, "--"), (daly_interval, ":"), (optimal_interval, "-")):
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


def checkpoint_tiers(n_params=405e9, n_devices=LLAMA3_GPUS, largest_shard_nbytes=None):
    """Where a checkpoint of an ``n_params`` model sharded over ``n_devices`` GPUs can be written,
    and how long each takes (s), from cited bandwidths: Llama 3's shared store (2 TB/s sustained,
    7 TB/s peak; Dubey et al. 2024) and, per GPU in parallel, a peer's memory over one InfiniBand NDR
    port and the GPU's own host memory over PCIe 5.0 x16 (datasets/interconnects.csv).

    A save ends when the slowest GPU is done: the largest shard (``largest_shard_nbytes``; None: the
    paper's 4 GB; 0: even shards, :func:`checkpoint_nbytes` / n_devices) over that GPU's bandwidth,
    which on the shared store is its 1/n_devices share. The first row is the store with
    even shards, for comparison. Host memory is CheckFreq's snapshot (Mohan et al. FAST 2021:
    overhead within 3.5 %, recovery in seconds); a peer's memory is Gemini's in-memory checkpoint
    (Wang et al. SOSP 2023: recovery more than 13× faster). Returns a list of dicts: tier,
    bandwidth_bytes_per_s (per GPU), shard_nbytes, seconds."""
    from .data import load
    n = number("n_devices", n_devices, "devices", minimum=1)
    even = checkpoint_nbytes(positive("n_params", n_params, "parameters")) / n
    largest = LLAMA3_CHECKPOINT_BYTES_PER_GPU[1] if largest_shard_nbytes is None else \
        nonnegative("largest_shard_nbytes", largest_shard_nbytes, "bytes")
    shard = max(even, largest)
    links = load("interconnects")
    pcie = float(links.where(name="PCIe 5.0 x16")["bandwidth_bytes_per_s"][0])
    ndr = float(links.where(name="InfiniBand NDR")["bandwidth_bytes_per_s"][0])
    rows = [("store 2 TB/s, even shards", LLAMA3_STORAGE_SUSTAINED_BYTES_PER_S / n, even),
            ("store 2 TB/s (sustained)", LLAMA3_STORAGE_SUSTAINED_BYTES_PER_S / n, shard),
            ("store 7 TB/s (peak)", LLAMA3_STORAGE_PEAK_BYTES_PER_S / n, shard),
            ("peer CPU memory (IB NDR)", ndr, shard),
            ("own host memory (PCIe 5.0)", pcie, shard)]
    return [{"tier": name, "bandwidth_bytes_per_s": bw, "shard_nbytes": b,
             "seconds": float(checkpoint_write_time(b, bw))} for name, bw, b in rows]


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
        ax.semilogx(sizes, 100 * np.array(g), "o-", color=f"C{i}", ms=3,
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
    fig, ax = new_axes(ax, figsize=(8, 1.8))
    tl = tl.window(t0, t1)
    for name in FAULT_STATES.names:
        sel = tl.state == FAULT_STATES.code(name)
        ax.broken_barh(np.column_stack([tl.start[sel] / unit, tl.duration[sel] / unit]), (0, 1),
                       facecolors=STATE_COLORS[name], label=name, linewidth=0)
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
        ax.set_title("green compute · blue checkpoint · red lost · amber restart · ▼ failure", fontsize=8)
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
    from matplotlib.collections import PolyCollection
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
    # the timeline: one polygon per interval, coloured by state (one collection: one draw call)
    h["bars"] = ax2.add_collection(PolyCollection(np.zeros((0, 4, 2)), linewidth=0))
    h["failures"], = ax2.plot([], [], "v", color="k", ms=4)
    ax2.set(xlim=(0, _WINDOW_HOURS), ylim=(0, 1.2), yticks=[])
    ax2.set_title("green compute · blue checkpoint · red lost · amber restart · ▼ failure", fontsize=8)
    ax2.set_xlabel(f"hours (one seeded simulation of the first {_WINDOW_HOURS:.0f} h)", fontsize=8, labelpad=1)
    return h


def _update_goodput(h, n_devices, device_mtbf_hours, checkpoint_gb_per_gpu, write_gb_per_s, restart_time_min,
                    interval_min):
    """One slider move: devices, per-device MTBF (hours), checkpoint shard per GPU (GB) and the write
    bandwidth each GPU gets (GB/s), restart time (minutes) and interval (minutes of compute), the
    explorer's units; the model gets SI seconds, with δ = shard ÷ bandwidth."""
    from matplotlib.colors import to_rgba_array

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
    verts = np.empty((len(tl), 4, 2))
    verts[:, :, 0] = np.column_stack([x0, x0, x1, x1])
    verts[:, :, 1] = (0, 1, 1, 0)
    h["bars"].set_verts(verts)
    h["bars"].set_facecolor(to_rgba_array([STATE_COLORS[k] for k in FAULT_STATES.names])[tl.state])
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
    from .core.explore import explorer, slider

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
