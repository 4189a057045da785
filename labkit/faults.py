"""Chapter 05 · fault tolerance: failures at scale, checkpoint intervals and goodput.

SI units in and out: seconds for every time (MTBF, checkpoint, restart, interval, work).

- ``cluster_mtbf``, ``probability_no_failure``: independent failures; a synchronous job stops when
  any of its N devices fails, so the cluster's MTBF is the device MTBF divided by N.
- ``young_interval``, ``daly_interval``, ``optimal_interval``: how much computing to do between
  checkpoints (Young 1974; Daly 2006; the exact optimum of the model below).
- ``expected_waste``, ``expected_goodput``, ``expected_wall_time``: the analytic model (Daly 2006's
  exact form for exponential failures): a segment of τ compute + δ checkpoint must run without a
  failure; a failure loses the segment and costs a restart R, which can itself be hit by a failure.
- ``simulate_training``: the same job in simpy, with options the formula lacks (asynchronous
  checkpoints, hot spares, Weibull failures). Its ``.timeline`` (numpy ``start``, ``end``, ``state``)
  says what the cluster was doing at every moment: computing, checkpointing, computing work that was
  later lost, or restarting (chapter 06 prices that timeline in joules).
"""

import math
from dataclasses import dataclass, field

import numpy as np

from . import units as u
from .core.validate import choice, fraction, integer, nonnegative, positive
from .core.explore import freeze_background

# The Llama 3 405B pre-training run: Dubey et al., "The Llama 3 Herd of Models", arXiv:2407.21783
# (2024), Section 3.3.4 and Table 5: a 54-day snapshot on 16,384 H100 GPUs with 466 job
# interruptions, 47 planned and 419 unexpected; > 90 % effective training time.
LLAMA3_GPUS = 16_384
LLAMA3_DAYS = 54
LLAMA3_UNEXPECTED = 419
LLAMA3_PLANNED = 47
LLAMA3_EFFECTIVE_TRAINING = 0.90  # "higher than 90 %"

# Timeline states (codes in Timeline.state).
COMPUTE, CHECKPOINT, LOST, RESTART = 0, 1, 2, 3
STATES = ("compute", "checkpoint", "lost", "restart")
STATE_COLORS = ("#2e7d32", "#1565c0", "#c62828", "#f9a825")


# ---------------------------------------------------------------------------------------------
# Failures at scale
# ---------------------------------------------------------------------------------------------
def cluster_mtbf(component_mtbf, n_components):
    """Mean time between failures (s) of N components in series: ``component_mtbf / N``.

    Assumes independent, exponentially distributed failures and that any one failure stops the
    job (synchronous training): failure rates add, so the MTBF shrinks as 1/N. Broadcasts.
    """
    m = positive("component_mtbf", component_mtbf, "s", array=True)
    n = positive("n_components", n_components, "components", array=True)
    if np.any(np.asarray(n) < 1):
        raise ValueError(f"n_components must be at least 1, got {n_components!r}")
    return m / n


def component_mtbf(cluster_mtbf, n_components):
    """The inverse of :func:`cluster_mtbf`: per-component MTBF (s) = cluster MTBF × N."""
    m = positive("cluster_mtbf", cluster_mtbf, "s", array=True)
    n = positive("n_components", n_components, "components", array=True)
    if np.any(np.asarray(n) < 1):
        raise ValueError(f"n_components must be at least 1, got {n_components!r}")
    return m * n


def observed_mtbf(duration, n_failures):
    """MTBF (s) estimated from an observation: ``duration / n_failures``."""
    t = positive("duration", duration, "s", array=True)
    n = positive("n_failures", n_failures, "failures", array=True)
    return t / n


def system_mtbf(component_mtbfs, counts):
    """MTBF (s) of a system of several component kinds: ``1 / Σ counts_i / mtbf_i``.

    ``component_mtbfs[i]`` (s) is the MTBF of one component of kind i, ``counts[i]`` how many there
    are. Independent exponential failures; any failure stops the job.
    """
    m = np.atleast_1d(positive("component_mtbfs", component_mtbfs, "s", array=True))
    n = np.atleast_1d(nonnegative("counts", counts, "components", array=True))
    if m.shape != n.shape:
        raise ValueError(f"component_mtbfs and counts must have the same length, got {m.size} and {n.size}")
    rate = float(np.sum(n / m))
    if rate == 0:
        raise ValueError("counts must include at least one component")
    return 1.0 / rate


def _weibull_scale(mtbf, shape):
    return mtbf / math.gamma(1.0 + 1.0 / shape)


def probability_no_failure(duration, mtbf, shape=1.0):
    """Probability that a job running ``duration`` seconds sees no failure, given the MTBF (s).

    Exponential failures (``shape=1``): ``exp(-duration / mtbf)``. For a Weibull time to failure
    with the same mean, ``exp(-(duration / scale) ** shape)`` with ``scale = mtbf / Γ(1 + 1/shape)``.
    Broadcasts.
    """
    t = nonnegative("duration", duration, "s", array=True)
    m = positive("mtbf", mtbf, "s", array=True)
    k = positive("shape", shape, "Weibull shape")
    return np.exp(-(t / _weibull_scale(m, k)) ** k)


# ---------------------------------------------------------------------------------------------
# Checkpoint intervals
# ---------------------------------------------------------------------------------------------
def young_interval(checkpoint_time, mtbf):
    """Young's (1974) checkpoint interval (s of compute between checkpoints): ``sqrt(2 δ M)``.

    δ = checkpoint_time (s), M = mtbf (s) of the whole job. First-order: good when δ ≪ M.
    """
    d = positive("checkpoint_time", checkpoint_time, "s", array=True)
    m = positive("mtbf", mtbf, "s", array=True)
    return np.sqrt(2.0 * d * m)


def daly_interval(checkpoint_time, mtbf):
    """Daly's (2006) higher-order checkpoint interval (s of compute between checkpoints).

    ``sqrt(2δM)·[1 + ⅓·sqrt(δ/2M) + (1/9)·(δ/2M)] − δ`` for δ < 2M, else ``M``
    (J. T. Daly, Future Generation Computer Systems 22(3), 2006, 303–312).
    """
    d = positive("checkpoint_time", checkpoint_time, "s", array=True)
    m = positive("mtbf", mtbf, "s", array=True)
    x = d / (2.0 * m)
    with np.errstate(invalid="ignore"):
        tau = np.where(d < 2.0 * m, np.sqrt(2.0 * d * m) * (1.0 + np.sqrt(x) / 3.0 + x / 9.0) - d, m)
    return float(tau) if np.ndim(tau) == 0 else tau


def optimal_interval(checkpoint_time, mtbf):
    """The interval (s) that maximizes :func:`expected_goodput` exactly (exponential failures).

    Setting the derivative of ``τ / (e^((τ+δ)/M) − 1)`` to zero gives ``(1 − τ/M)·e^((τ+δ)/M) = 1``,
    i.e. ``τ = M·(1 + W₀(−e^(−1−δ/M)))`` with W₀ the Lambert W function; solved here by bisection.
    It does not depend on the restart time. Young's and Daly's formulas approximate it.
    """
    d = positive("checkpoint_time", checkpoint_time, "s", array=True)
    m = positive("mtbf", mtbf, "s", array=True)
    ratio = np.asarray(d / m, dtype=float)
    lo, hi = np.zeros_like(ratio), np.ones_like(ratio)
    for _ in range(64):  # g(y) = y + δ/M + ln(1 − y) falls from δ/M > 0 at y = 0 to −∞ at y = 1
        mid = 0.5 * (lo + hi)
        above = mid + ratio + np.log1p(-mid) > 0
        lo, hi = np.where(above, mid, lo), np.where(above, hi, mid)
    tau = 0.5 * (lo + hi) * m
    return float(tau) if np.ndim(tau) == 0 else tau


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
    return float(waste) if np.ndim(waste) == 0 else waste


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
    return d / tau + tau / (2.0 * m) + r / m


def expected_wall_time(work, interval, checkpoint_time, restart_time, mtbf):
    """Expected wall time (s) to finish ``work`` seconds of compute, the analytic twin of
    :func:`simulate_training` (exponential failures, synchronous checkpoints, one checkpoint after
    every interval and after the last, shorter segment)."""
    w = positive("work", work, "s")
    tau = positive("interval", interval, "s")
    d = nonnegative("checkpoint_time", checkpoint_time, "s")
    r = nonnegative("restart_time", restart_time, "s")
    m = positive("mtbf", mtbf, "s")
    full = math.floor(w / tau * (1 + 1e-12))
    rest = w - full * tau
    total = full * _segment_time(tau + d, r, m)
    if rest > 1e-9 * tau:
        total += _segment_time(rest + d, r, m)
    return float(total)


def goodput_map(checkpoint_times, restart_times, mtbf, interval="optimal"):
    """Expected goodput on a grid: rows = restart_times, columns = checkpoint_times (s).

    Each point uses the ``interval`` rule ("optimal", "daly" or "young") for its checkpoint time.
    """
    d = np.atleast_1d(positive("checkpoint_times", checkpoint_times, "s", array=True))
    r = np.atleast_1d(nonnegative("restart_times", restart_times, "s", array=True))
    m = positive("mtbf", mtbf, "s")
    rule = {"optimal": optimal_interval, "daly": daly_interval, "young": young_interval}[
        choice("interval", interval, ("optimal", "daly", "young"))]
    tau = np.asarray(rule(d, m), dtype=float)
    return expected_goodput(tau[None, :], d[None, :], r[:, None], m)


def max_restart_for_goodput(target, checkpoint_time, mtbf):
    """Longest restart time (s) that still reaches goodput ``target`` at the optimal interval
    (0 when even an instant restart cannot). Exact under the :func:`expected_waste` model."""
    g = fraction("target", target, allow_zero=False, allow_one=False)
    d = positive("checkpoint_time", checkpoint_time, "s", array=True)
    m = positive("mtbf", mtbf, "s", array=True)
    tau = optimal_interval(d, m)
    best = expected_goodput(tau, d, 0.0, m)  # goodput with R = 0; R multiplies time by e^(R/M)
    with np.errstate(divide="ignore"):
        r = m * np.log(best / g)
    r = np.maximum(r, 0.0)
    return float(r) if np.ndim(r) == 0 else r


def max_checkpoint_time(target, restart_time, mtbf):
    """Longest checkpoint time δ (s) that still reaches goodput ``target`` at the optimal interval
    (0 when even an instant checkpoint cannot). Exact under the :func:`expected_waste` model, found by
    zooming in on a log grid (goodput falls as δ grows); relative precision ≈ 1e-6."""
    g = fraction("target", target, allow_zero=False, allow_one=False)
    r = nonnegative("restart_time", restart_time, "s")
    m = positive("mtbf", mtbf, "s")

    def best(d):
        return expected_goodput(optimal_interval(d, m), d, r, m)
    lo, hi = 1e-9 * m, 10.0 * m
    if best(lo) < g:
        return 0.0
    for _ in range(4):
        d = np.geomspace(lo, hi, 64)
        ok = np.nonzero(best(d) >= g)[0]
        i = int(ok[-1])
        if i == len(d) - 1:
            return float(d[-1])
        lo, hi = d[i], d[i + 1]
    return float(lo)


# ---------------------------------------------------------------------------------------------
# The simulation
# ---------------------------------------------------------------------------------------------
@dataclass
class Timeline:
    """What the job was doing, as contiguous intervals: ``start[i]``..``end[i]`` (s) in ``state[i]``.

    States (codes, names in ``STATES``): 0 compute (work that was kept), 1 checkpoint (training
    stalled to save, including saves cut short by a failure), 2 lost (compute later rolled back by
    a failure), 3 restart (detecting, replacing, reloading; includes restarts cut short). The
    intervals tile [0, wall_time] without gaps. Devices compute in states 0 and 2 and wait in 1 and
    3, so energy = Σ power(state) × duration × devices (chapter 06).
    """
    start: np.ndarray
    end: np.ndarray
    state: np.ndarray

    @property
    def duration(self):
        """Seconds of each interval."""
        return self.end - self.start

    def time_in(self, state):
        """Total seconds in a state (a name from ``STATES`` or its code)."""
        code = STATES.index(state) if isinstance(state, str) else int(state)
        return float(np.sum(self.duration[self.state == code]))

    def totals(self):
        """``{state name: seconds}`` for every state."""
        return {name: self.time_in(code) for code, name in enumerate(STATES)}

    def fractions(self):
        """``{state name: fraction of wall time}``."""
        total = float(self.end[-1] - self.start[0]) if len(self.end) else 0.0
        return {k: (v / total if total else 0.0) for k, v in self.totals().items()}

    def window(self, t0, t1):
        """The part of the timeline between t0 and t1 (s), intervals clipped to it."""
        keep = (self.end > t0) & (self.start < t1)
        return Timeline(np.clip(self.start[keep], t0, t1), np.clip(self.end[keep], t0, t1), self.state[keep])

    def __len__(self):
        return len(self.start)


@dataclass
class TrainingRun:
    """Result of :func:`simulate_training` (all times in seconds)."""
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
        parts = ", ".join(f"{k} {t[k] / self.wall_time:.1%}" for k in STATES) if self.wall_time else ""
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


def _failures(env, job, gaps, times):
    """Interrupt the job at each failure (a renewal process, whatever the job is doing)."""
    for gap in gaps:
        yield env.timeout(gap)
        if not job.is_alive:
            return
        times.append(env.now)
        job.interrupt()


def _training(env, p, ends, states, spares_ready):
    """The job: compute τ, checkpoint, repeat; on a failure roll back to the last durable
    checkpoint and restart. Appends each interval's end time and state (intervals are contiguous
    from t = 0). Returns (timeouts yielded, checkpoints completed)."""
    import simpy

    work, tau, delta, stall, horizon = p["work"], p["interval"], p["checkpoint_time"], p["stall"], p["horizon"]
    progress = durable = 0.0       # compute done / compute saved
    durable_index = 0              # timeline entries from here on are not yet saved
    pending = None                 # async save in flight: (progress, ready_time, index)
    phase = COMPUTE
    yields = checkpoints = 0
    while True:
        now = env.now
        if pending is not None and now >= pending[1]:
            durable, durable_index, pending = pending[0], pending[2], None
            checkpoints += 1
        if durable >= work * (1 - 1e-12):
            return yields, checkpoints
        yields += 1
        try:
            if phase == COMPUTE:
                remaining = work - progress
                seg = min(remaining if remaining <= tau * (1 + 1e-9) else tau, horizon - now)
                yield env.timeout(seg)
                progress += seg
                ends.append(now + seg); states.append(COMPUTE)
                if now + seg >= horizon:
                    return yields, checkpoints
                phase = CHECKPOINT
            elif phase == CHECKPOINT:
                final = progress >= work * (1 - 1e-12)
                previous = max(0.0, pending[1] - now) if pending is not None else 0.0
                wanted = previous + (delta if final else stall)
                wait = min(wanted, horizon - now)
                yield env.timeout(wait)
                ends.append(now + wait); states.append(CHECKPOINT)
                if wait < wanted:                        # stopped at max_wall_time
                    return yields, checkpoints
                if pending is not None:                  # waited for it above: it is on disk now
                    durable, durable_index, pending = pending[0], pending[2], None
                    checkpoints += 1
                if final or stall >= delta:              # synchronous save: durable now
                    durable, durable_index = progress, len(states)
                    checkpoints += 1
                else:                                    # the rest of the write overlaps compute
                    pending = (progress, now + delta - stall, len(states))
                phase = COMPUTE
            else:  # RESTART
                restart = p["restart_time"]
                if spares_ready and spares_ready[0] <= now:   # a hot spare is ready: swap it in
                    spares_ready.pop(0)
                    spares_ready.append(now + p["repair_time"])
                    spares_ready.sort()
                    restart = p["spare_restart_time"]
                wait = min(restart, horizon - now)
                yield env.timeout(wait)
                ends.append(now + wait); states.append(RESTART)
                if wait < restart:
                    return yields, checkpoints
                phase = COMPUTE
        except simpy.Interrupt:
            if env.now > now:
                ends.append(env.now); states.append(phase)
            if phase == COMPUTE:
                progress += env.now - now
            if pending is not None and env.now >= pending[1]:
                durable, durable_index = pending[0], pending[2]
                checkpoints += 1
            pending = None
            for i in range(durable_index, len(states)):   # roll back: unsaved compute is lost
                if states[i] == COMPUTE:
                    states[i] = LOST
            durable_index = len(states)
            progress = durable
            phase = RESTART


def simulate_training(n_devices, device_mtbf, work, checkpoint_interval, checkpoint_time, restart_time,
                      *, seed=0, checkpoint_stall=None, hot_spares=0, spare_restart_time=None,
                      repair_time=u.DAY, failure_shape=1.0, max_wall_time=None):
    """Simulate a synchronous training job with failures, checkpoints and restarts (simpy).

    n_devices: devices the job needs (a failure of any one stops it); device_mtbf (s);
    work (s of failure-free compute the job needs); checkpoint_interval τ (s of compute between
    checkpoints); checkpoint_time δ (s to save a checkpoint); restart_time R (s from a failure to
    computing again: detect, replace, reload).

    Options:
      checkpoint_stall: seconds each save stalls training (default δ, synchronous). With
        0 ≤ stall < δ the save is asynchronous: training resumes after the stall and the rest of the
        write overlaps compute; the checkpoint protects work only once the write completes, and the
        next save waits for the previous write to finish.
      hot_spares, spare_restart_time, repair_time: with a spare ready, a restart takes
        spare_restart_time instead of R; each failure takes one device (or node) out, and it returns
        to the spare pool after repair_time.
      failure_shape: Weibull shape k of the times between failures (1 = exponential; k < 1 means
        failures cluster, e.g. just after a restart); the mean stays device_mtbf / n_devices.
      max_wall_time: stop there even if unfinished (default: 100 × work or 20,000 MTBFs, whichever
        is shorter); see ``.completed``.

    Assumptions: failures form a renewal process for the whole job (also during checkpoints and
    restarts, so a restart can fail and start again); a failure loses all compute since the last
    completed checkpoint; the job saves after every interval and after the last, shorter segment.
    With the defaults this is exactly the model of :func:`expected_wall_time`.

    Returns a :class:`TrainingRun`: ``.goodput``, ``.wall_time``, ``.failures``, ``.timeline``
    (numpy start/end/state), ``.time_in``, ``.n_events``.
    """
    import simpy

    n = integer("n_devices", n_devices, minimum=1)
    m_dev = positive("device_mtbf", device_mtbf, "s")
    w = positive("work", work, "s")
    tau = positive("checkpoint_interval", checkpoint_interval, "s")
    delta = nonnegative("checkpoint_time", checkpoint_time, "s")
    r = nonnegative("restart_time", restart_time, "s")
    integer("seed", seed, minimum=0)
    stall = delta if checkpoint_stall is None else nonnegative("checkpoint_stall", checkpoint_stall, "s")
    if stall > delta:
        raise ValueError(f"checkpoint_stall ({stall} s) cannot exceed checkpoint_time ({delta} s)")
    spares = integer("hot_spares", hot_spares, minimum=0)
    if spares and spare_restart_time is None:
        raise ValueError("with hot_spares > 0, give spare_restart_time (s): the restart time when a spare is ready")
    r_spare = r if spare_restart_time is None else nonnegative("spare_restart_time", spare_restart_time, "s")
    repair = nonnegative("repair_time", repair_time, "s")
    shape = positive("failure_shape", failure_shape, "Weibull shape")
    if max_wall_time is None:   # bounded so that a hopeless setting returns quickly
        horizon = min(100.0 * w, 20_000.0 * m_dev / n)
    else:
        horizon = positive("max_wall_time", max_wall_time, "s")
    if w / tau > 5e6:
        raise ValueError(f"{w / tau:.3g} checkpoint intervals is too many to simulate: "
                         "make checkpoint_interval longer or work shorter")

    rng = np.random.default_rng(seed)
    env = simpy.Environment()
    ends, states, failure_times = [], [], []
    params = {"work": w, "interval": tau, "checkpoint_time": delta, "stall": stall, "restart_time": r,
              "spare_restart_time": r_spare, "repair_time": repair, "horizon": horizon}
    job = env.process(_training(env, params, ends, states, [0.0] * spares))
    env.process(_failures(env, job, _failure_gaps(rng, m_dev / n, shape), failure_times))
    yields, checkpoints = env.run(until=job)

    ends = np.asarray(ends, dtype=float)
    starts = np.concatenate([[0.0], ends[:-1]])
    timeline = Timeline(starts, ends, np.asarray(states, dtype=np.int8))
    done = float(np.sum(timeline.duration[timeline.state == COMPUTE]))
    failures = len(failure_times)
    params.update(n_devices=n, device_mtbf=m_dev, mtbf=m_dev / n, seed=seed, failure_shape=shape,
                  hot_spares=spares)
    # simpy events: the job's timeouts, each failure's timeout and interrupt, the pending failure
    # timeout, and the two process starts
    return TrainingRun(n_devices=n, work=w, work_done=min(done, w), wall_time=float(env.now),
                       failures=failures, checkpoints=checkpoints, completed=done >= w * (1 - 1e-9),
                       timeline=timeline, n_events=yields + 2 * failures + 3,
                       failure_times=np.asarray(failure_times, dtype=float), params=params)


def simulate_goodput(checkpoint_intervals, n_devices, device_mtbf, work, checkpoint_time, restart_time,
                     *, seeds=4, **options):
    """Mean and standard error of simulated goodput for each interval, over ``seeds`` seeds.

    Returns ``(mean, stderr)`` arrays the shape of ``checkpoint_intervals``; options go to
    :func:`simulate_training`.
    """
    taus = np.atleast_1d(positive("checkpoint_intervals", checkpoint_intervals, "s", array=True))
    k = integer("seeds", seeds, minimum=1)
    g = np.array([[simulate_training(n_devices, device_mtbf, work, t, checkpoint_time, restart_time,
                                     seed=s, **options).goodput for s in range(k)] for t in taus])
    err = g.std(axis=1, ddof=1) / math.sqrt(k) if k > 1 else np.zeros(len(taus))
    return g.mean(axis=1), err


def compare_strategies(n_devices, device_mtbf, work, strategies, *, seeds=2):
    """Simulate several checkpoint/restart strategies on the same job; one row per strategy.

    ``strategies``: ``{name: dict(checkpoint_time=…, restart_time=…, [checkpoint_interval=…],
    [other simulate_training options])}``. Without an interval each uses the exact optimum for the
    time it stalls (the checkpoint_stall when asynchronous), but never shorter than the background
    write, so saves do not queue. Returns a list of dicts: name, interval (s), goodput (mean),
    failures (mean), and the mean share of wall time in each state.
    """
    integer("seeds", seeds, minimum=1)
    rows = []
    for name, spec in strategies.items():
        spec = dict(spec)
        delta, restart = spec.pop("checkpoint_time"), spec.pop("restart_time")
        tau = spec.pop("checkpoint_interval", None)
        if tau is None:
            stall = spec.get("checkpoint_stall", delta)
            m = float(cluster_mtbf(device_mtbf, n_devices))
            tau = max(optimal_interval(max(stall, 1e-3), m), delta - stall)
        runs = [simulate_training(n_devices, device_mtbf, work, tau, delta, restart, seed=s, **spec)
                for s in range(seeds)]
        shares = {k: float(np.mean([r.timeline.fractions()[k] for r in runs])) for k in STATES}
        rows.append({"name": name, "interval": float(tau), "goodput": float(np.mean([r.goodput for r in runs])),
                     "failures": float(np.mean([r.failures for r in runs])), **shares})
    return rows


def plot_strategies(ax=None, rows=()):
    """Stacked bars: where the wall time of each strategy in :func:`compare_strategies` went."""
    fig, ax = _axes(ax, figsize=(7, 0.5 * len(rows) + 1.6))
    y = np.arange(len(rows))[::-1]
    left = np.zeros(len(rows))
    for code, state in enumerate(STATES):
        share = np.array([100 * r[state] for r in rows])
        ax.barh(y, share, left=left, color=STATE_COLORS[code], label=state)
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


def _axes(ax, figsize=(7, 4)):
    if ax is None:
        import matplotlib.pyplot as plt
        fig, ax = plt.subplots(figsize=figsize)
        return fig, ax
    return ax.figure, ax


def _no_minor_ticks(ax, x=True, y=True):
    """Log axes draw many minor ticks and labels; dropping them keeps plots fast and legible."""
    from matplotlib.ticker import NullLocator
    if x:
        ax.xaxis.set_minor_locator(NullLocator())
    if y:
        ax.yaxis.set_minor_locator(NullLocator())


def plot_mtbf_vs_scale(ax=None, device_mtbf=None, n_max=200_000, job_time=LLAMA3_DAYS * u.DAY):
    """Cluster MTBF (hours) against device count, and the chance a job of ``job_time`` sees no failure."""
    device_mtbf = llama3_mtbf()[1] if device_mtbf is None else device_mtbf
    fig, ax = _axes(ax)
    n = np.logspace(0, math.log10(n_max), 200)
    m = cluster_mtbf(device_mtbf, n)
    ax.loglog(n, m / u.HOUR, color="C0", label="cluster MTBF = device MTBF / N")
    ax.axhline(job_time / u.HOUR, color="grey", ls=":", lw=1)
    ax.text(1.3, job_time / u.HOUR * 1.2, f"job length ({u.fmt_seconds(job_time)})", color="grey")
    ax.plot([LLAMA3_GPUS], [cluster_mtbf(device_mtbf, LLAMA3_GPUS) / u.HOUR], "o", color="C3",
            label="Llama 3: 16,384 GPUs")
    ax.set(xlabel="devices in the job (N)", ylabel="mean time between failures (hours)",
           title=f"Device MTBF {device_mtbf / u.HOUR:,.0f} h: failures at scale")
    _no_minor_ticks(ax)
    ax.legend(loc="lower left")
    return fig


def plot_interruptions(ax=None, table=None):
    """Horizontal bars of the Llama 3 unexpected interruptions by cause, coloured by category."""
    t = llama3_interruptions() if table is None else table
    fig, ax = _axes(ax, figsize=(7, 5))
    order = np.argsort(t["interruptions"])
    cats = sorted(set(t["category"]))
    colors = {c: f"C{i}" for i, c in enumerate(cats)}
    y = np.arange(len(order))
    ax.barh(y, t["interruptions"][order], color=[colors[c] for c in t["category"][order]])
    ax.set_yticks(y, t["component"][order], fontsize=8)
    from matplotlib.patches import Patch
    ax.set(xlabel="unexpected interruptions in 54 days", title="Llama 3 405B: what interrupted training")
    ax.legend(handles=[Patch(color=colors[c], label=c) for c in cats], fontsize=8, loc="lower right")
    return fig


def plot_waste_vs_interval(ax=None, checkpoint_time=60.0, restart_time=300.0, mtbf=None, intervals=None,
                           simulated=None):
    """Expected goodput against the checkpoint interval (a ∩ curve; waste is the U), with Young's,
    Daly's and the exact optimum marked. ``simulated=(intervals, mean, stderr)`` adds points."""
    mtbf = llama3_mtbf()[0] if mtbf is None else mtbf
    fig, ax = _axes(ax)
    taus = np.logspace(math.log10(max(checkpoint_time, 1.0) / 5), math.log10(5 * mtbf), 300) \
        if intervals is None else np.asarray(intervals, dtype=float)
    ax.semilogx(taus / u.MINUTE, expected_goodput(taus, checkpoint_time, restart_time, mtbf), color="C0",
                label="analytic (Daly's exact model)")
    for rule, style in ((young_interval, "--"), (daly_interval, ":"), (optimal_interval, "-")):
        t = float(rule(checkpoint_time, mtbf))
        ax.axvline(t / u.MINUTE, color="grey", ls=style, lw=1,
                   label=f"{rule.__name__.replace('_interval', '')}: {t / u.MINUTE:.1f} min")
    if simulated is not None:
        st, mean, err = (np.asarray(a, dtype=float) for a in simulated)
        ax.errorbar(st / u.MINUTE, mean, yerr=err, fmt="o", color="C3", ms=4, label="simulated (mean ± s.e.)")
    ax.set(xlabel="checkpoint interval τ (minutes of compute)", ylabel="goodput (useful / wall time)",
           title=f"δ = {u.fmt_seconds(checkpoint_time)}, R = {u.fmt_seconds(restart_time)}, "
                 f"MTBF = {u.fmt_seconds(mtbf)}")
    _no_minor_ticks(ax, y=False)
    ax.legend(fontsize=8, loc="lower center")
    return fig


def plot_timeline(ax=None, run=None, t0=0.0, t1=None, unit=u.HOUR, legend=True):
    """The run's timeline as coloured bars (compute, checkpoint, lost, restart) from t0 to t1 (s);
    ▼ marks failures. ``legend=False`` puts a one-line colour key in the title instead (cheaper)."""
    fig, ax = _axes(ax, figsize=(8, 1.8))
    tl = run.timeline if isinstance(run, TrainingRun) else run
    t1 = float(tl.end[-1]) if t1 is None else t1
    tl = tl.window(t0, t1)
    for code, name in enumerate(STATES):
        sel = tl.state == code
        ax.broken_barh(np.column_stack([tl.start[sel] / unit, tl.duration[sel] / unit]), (0, 1),
                       facecolors=STATE_COLORS[code], label=name, linewidth=0)
    if isinstance(run, TrainingRun) and len(run.failure_times):
        ft = run.failure_times[(run.failure_times >= t0) & (run.failure_times <= t1)]
        ax.plot(ft / unit, np.full(len(ft), 1.08), "v", color="k", ms=4, label="failure")
    ax.set_xlim(t0 / unit, t1 / unit)
    ax.set_ylim(0, 1.2)
    ax.set_yticks([])
    ax.set_xlabel({u.HOUR: "hours", u.DAY: "days", u.MINUTE: "minutes", 1.0: "seconds"}.get(unit, "time"))
    if legend:
        ax.legend(ncol=5, fontsize=8, loc="upper center", bbox_to_anchor=(0.5, -0.35), frameon=False)
    else:
        ax.set_title("green compute · blue checkpoint · red lost · amber restart · ▼ failure", fontsize=8)
    return fig


def plot_goodput_map(ax=None, mtbf=None, checkpoint_times=None, restart_times=None, target=0.9):
    """Goodput (optimal interval) over checkpoint time × restart time, with the ``target`` contour."""
    from matplotlib.ticker import FixedLocator, FuncFormatter
    mtbf = llama3_mtbf()[0] if mtbf is None else mtbf
    d = np.logspace(0, math.log10(1800), 40) if checkpoint_times is None else np.asarray(checkpoint_times)
    r = np.logspace(1, math.log10(3600), 40) if restart_times is None else np.asarray(restart_times)
    g = goodput_map(d, r, mtbf)
    fig, ax = _axes(ax, figsize=(6, 4.5))
    mesh = ax.pcolormesh(d, r / u.MINUTE, g, shading="auto", cmap="viridis", vmin=0.5, vmax=1.0)
    fig.colorbar(mesh, ax=ax, label="goodput at the optimal interval")
    if np.any(g >= target) and np.any(g < target):
        ax.contour(d, r / u.MINUTE, g, levels=[target], colors="w", linewidths=2)
        ax.plot([], [], color="w", lw=2, label=f"goodput = {target:.0%}")
        ax.legend(loc="upper right", fontsize=8, facecolor="0.3", labelcolor="w")
    ax.set(xscale="log", yscale="log", xlabel="checkpoint time δ (s)", ylabel="restart time R (minutes)",
           title=f"Goodput at MTBF = {mtbf / u.HOUR:.2f} h")
    _no_minor_ticks(ax)
    plain = FuncFormatter(lambda v, _: f"{v:g}")
    ax.xaxis.set_major_locator(FixedLocator([1, 10, 60, 300, 1800]))
    ax.yaxis.set_major_locator(FixedLocator([0.5, 1, 2, 5, 10, 30, 60]))
    ax.xaxis.set_major_formatter(plain)
    ax.yaxis.set_major_formatter(plain)
    return fig


# ---------------------------------------------------------------------------------------------
# Explorer
# ---------------------------------------------------------------------------------------------
_WINDOW_CACHE = {}


def _window_run(n, device_mtbf, interval, checkpoint_time, restart_time, window):
    """A short seeded simulation for the explorer's timeline, cached by its parameters."""
    key = (n, device_mtbf, interval, checkpoint_time, restart_time, window)
    if key not in _WINDOW_CACHE:
        if len(_WINDOW_CACHE) > 256:
            _WINDOW_CACHE.clear()
        _WINDOW_CACHE[key] = simulate_training(n, device_mtbf, window, interval, checkpoint_time, restart_time,
                                               seed=0, max_wall_time=window)
    return _WINDOW_CACHE[key]


_EXPLORER_TAUS_MIN = np.logspace(0, math.log10(600), 160)   # the goodput curve's x (minutes)


def _build_goodput_figure(fig, window_hours):
    """Axes and artists of :func:`draw_goodput`, built once with fixed limits; later moves only
    update the artists listed in ``h["dynamic"]``."""
    from matplotlib.collections import PolyCollection
    from matplotlib.ticker import FixedLocator, NullLocator, ScalarFormatter

    ax1, ax2 = fig.subplots(2, 1, gridspec_kw={"height_ratios": [3, 1]})
    fig.subplots_adjust(hspace=0.6, bottom=0.1, top=0.93)
    x = _EXPLORER_TAUS_MIN
    h = {"window_hours": window_hours, "size": tuple(fig.get_size_inches()) + (fig.dpi,)}
    h["curve"], = ax1.semilogx(x, np.full_like(x, np.nan), color="C0")
    h["young"] = ax1.axvline(1.0, color="grey", ls="--", lw=1, label="Young")
    h["best"] = ax1.axvline(1.0, color="grey", lw=1, label="optimal")
    h["yours"], = ax1.plot([1.0], [0.0], "o", color="C3", label="yours")
    ax1.axhline(90, color="C2", ls=":", lw=1)
    ax1.set(xlim=(0.8, 750), ylim=(0, 100), yticks=[0, 20, 40, 60, 80, 90, 100], ylabel="goodput (%)")
    ax1.set_xlabel("checkpoint interval (minutes of compute)", fontsize=8, labelpad=1)
    ax1.xaxis.set_major_locator(FixedLocator([1, 3, 10, 30, 100, 300]))
    ax1.xaxis.set_major_formatter(ScalarFormatter())
    ax1.xaxis.set_minor_locator(NullLocator())
    h["title"] = ax1.set_title("", y=1.0)   # a fixed place: auto-placing reads the hidden axis
    h["legend"] = ax1.legend(fontsize=7, loc="lower left")
    # the timeline: one polygon per interval, coloured by state (one collection: one draw call)
    h["bars"] = ax2.add_collection(PolyCollection(np.zeros((0, 4, 2)), linewidth=0))
    h["failures"], = ax2.plot([], [], "v", color="k", ms=4)
    ax2.set(xlim=(0, window_hours), ylim=(0, 1.2), yticks=[])
    ax2.set_title("green compute · blue checkpoint · red lost · amber restart · ▼ failure", fontsize=8)
    ax2.set_xlabel(f"hours (one seeded simulation of the first {window_hours:.0f} h)", fontsize=8, labelpad=1)
    h["dynamic"] = [h[k] for k in ("curve", "young", "best", "yours", "title", "legend", "bars", "failures")]
    fig._labkit = h
    return h


def draw_goodput(fig, gpus, gpu_mtbf_hours, checkpoint_s, restart_min, interval_min, window_hours=24.0,
                 blit=False):
    """The explorer's drawing: expected goodput against the interval (top) and a simulated day (bottom).

    gpus, per-GPU MTBF (hours), checkpoint time (s), restart time (minutes), interval (minutes of
    compute) are the explorer's units; everything is converted to SI before calling the model.
    Retained: the first call on an empty figure builds the axes (fixed limits); later calls update
    the curve, markers, texts and timeline in place. ``blit=True`` (the explorer): also freeze the
    unchanging parts into a background picture (see :func:`labkit.explore.freeze_background`).
    """
    from matplotlib.colors import to_rgba_array

    n = max(1, int(round(gpus)))
    device_mtbf = gpu_mtbf_hours * u.HOUR
    delta, restart, tau = checkpoint_s, restart_min * u.MINUTE, interval_min * u.MINUTE
    m = float(cluster_mtbf(device_mtbf, n))
    h = getattr(fig, "_labkit", None) if fig.axes else None
    size = tuple(fig.get_size_inches()) + (fig.dpi,)
    if h is None or h["window_hours"] != window_hours or (blit and h["size"] != size):
        fig.clear()
        h = _build_goodput_figure(fig, window_hours)
        if blit:
            freeze_background(fig, h["dynamic"])
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

    window = window_hours * u.HOUR
    run = _window_run(n, device_mtbf, tau, delta, restart, window)
    tl = run.timeline
    x0, x1 = tl.start / u.HOUR, tl.end / u.HOUR
    verts = np.empty((len(tl), 4, 2))
    verts[:, :, 0] = np.column_stack([x0, x0, x1, x1])
    verts[:, :, 1] = (0, 1, 1, 0)
    h["bars"].set_verts(verts)
    h["bars"].set_facecolor(to_rgba_array(STATE_COLORS)[tl.state])
    ft = run.failure_times[run.failure_times <= window] / u.HOUR
    h["failures"].set_data(ft, np.full(len(ft), 1.08))
    share = tl.fractions()
    return (f"expected goodput {g_here:.1%} at {interval_min:.1f} min (best {g_best:.1%} at "
            f"{best / u.MINUTE:.1f} min); simulated day: {run.failures} failures, "
            + ", ".join(f"{k} {v:.0%}" for k, v in share.items()))


def explore_goodput(gpus=LLAMA3_GPUS, gpu_mtbf_hours=None, checkpoint_s=60.0, restart_min=5.0, interval_min=None):
    """Sliders: GPUs, per-GPU MTBF, checkpoint and restart time, interval → goodput and a timeline."""
    from functools import partial

    from .core.explore import explorer, slider

    gpu_mtbf_hours = round(llama3_mtbf()[1] / u.HOUR) if gpu_mtbf_hours is None else gpu_mtbf_hours
    if interval_min is None:
        m = float(cluster_mtbf(gpu_mtbf_hours * u.HOUR, gpus))
        interval_min = round(float(young_interval(checkpoint_s, m)) / u.MINUTE, 1)
    return explorer(partial(draw_goodput, blit=True), title="Checkpointing at scale: goodput and a simulated day",
                    figsize=(7.5, 5.0), retained=True,
                    gpus=slider(gpus, 1_000, 200_000, None, "GPUs", log=True, readout_format=",.0f"),
                    gpu_mtbf_hours=slider(gpu_mtbf_hours, 5_000, 500_000, None, "per-GPU MTBF (h)", log=True,
                                          readout_format=",.0f"),
                    checkpoint_s=slider(checkpoint_s, 1, 1800, None, "checkpoint time (s)", log=True),
                    restart_min=slider(restart_min, 0.5, 60, 0.5, "restart (min)"),
                    interval_min=slider(interval_min, 1, 600, None, "interval (min)", log=True))
