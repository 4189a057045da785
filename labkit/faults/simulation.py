"""The SimPy training run: failures, checkpoints (sync or async), restarts, hot spares, Weibull
failures that renew at restarts, silent corruptions; sweeps over intervals, seeds and strategies."""

import math
from dataclasses import dataclass, field

import numpy as np

from .. import units as u
from ..core.plotting import new_axes
from ..core.timeline import FAULT_STATES, Timeline
from ..core.validate import choice, fraction, integer, nonnegative, positive, sequence
from ._common import (STATE_COLORS, STATE_HATCHES, _CHECKPOINT, _COMPUTE, _LOST, _MAX_SEEDS, _RESTART, _shape,
                      _weibull_scale)
from .intervals import optimal_interval

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
        ax.barh(y, share, left=left, color=STATE_COLORS[state], hatch=STATE_HATCHES[state], edgecolor="white",
                linewidth=0, label=state)
        left += share
    ax.set_yticks(y, [f"{r['name']} ({r['goodput']:.0%})" for r in rows], fontsize=8)
    ax.set(xlim=(0, 100), xlabel="share of wall time (%)")
    ax.legend(ncol=4, fontsize=8, loc="lower center", bbox_to_anchor=(0.5, 1.0), frameon=False)
    return fig
