"""Cluster scheduling: FIFO vs EASY backfilling on a job trace (simpy). Twin for single-device jobs
with exponential runtimes: the M/M/c queue (:func:`labkit.utilization.mmc_wait`, Erlang C)."""

import math
from dataclasses import dataclass

import numpy as np

from ..core.plotting import LINESTYLES, new_axes
from ..core.timeline import Timeline
from ..core.validate import choice, finite_result, fraction, instance, integer, nonnegative, positive, sequence
from ._sim import events, quantile


@dataclass
class JobTrace:
    """A job trace: submit time (s), devices (GPUs) requested, true runtime (s) and the user's estimate (s)."""
    submit: np.ndarray
    n_devices: np.ndarray
    runtime: np.ndarray
    estimate: np.ndarray

    def __len__(self):
        return len(self.submit)

    @property
    def gpu_seconds(self):
        """Device-seconds of work in the trace (GPU-seconds)."""
        return float(np.sum(self.n_devices * self.runtime))


# Job sizes: most jobs are small, a few take many GPUs (shape as in published cluster traces,
# e.g. Jeon et al. 2019 (Philly) and Hu et al. 2021 (Helios); illustrative, not fitted).
_SIZES = np.array([1, 2, 4, 8, 16, 32])
_SIZE_WEIGHTS = np.array([0.45, 0.15, 0.15, 0.13, 0.08, 0.04])


def make_job_trace(n_jobs=200, *, n_devices=64, load=0.9, mean_runtime=3600.0, runtime="lognormal",
                   runtime_sigma=1.0, sizes=None, overestimate=1.0, limit_fraction=0.0, seed=0):
    """A synthetic job trace with Poisson arrivals sized to offer ``load`` × ``n_devices`` of work.

    ``sizes``: None for a mix of 1–32 GPUs (mostly small; capped at ``n_devices``), or a whole number
    for uniform jobs. ``runtime``: "lognormal" (σ = ``runtime_sigma`` in log space) or "exponential",
    mean ``mean_runtime`` s. Runtime estimates: runtime × ``overestimate`` (1 = exact), except that a
    random ``limit_fraction`` of jobs ask for the site's limit (here the trace's longest estimate) —
    real estimates are modal like that (Tsafrir & Feitelson 2006).
    """
    n_jobs = integer("n_jobs", n_jobs, minimum=1, maximum=1_000_000)
    n_devices = integer("n_devices", n_devices, minimum=1)
    load = positive("load", load, "fraction of the cluster", maximum=100)
    mean_runtime = positive("mean_runtime", mean_runtime, "s")
    if not isinstance(runtime, str):
        raise TypeError(f"runtime must be 'lognormal' or 'exponential', got {runtime!r}")
    choice("runtime", runtime, ("lognormal", "exponential"))
    sigma = nonnegative("runtime_sigma", runtime_sigma, "", maximum=5)
    overestimate = positive("overestimate", overestimate, "")
    limit_fraction = fraction("limit_fraction", limit_fraction)
    if overestimate < 1:
        raise ValueError(f"overestimate must be at least 1 (estimates are upper bounds), got {overestimate}")
    rng = np.random.default_rng(integer("seed", seed, minimum=0))
    if sizes is None:
        ok = _SIZES <= n_devices
        weights = _SIZE_WEIGHTS[ok] / _SIZE_WEIGHTS[ok].sum()
        size = rng.choice(_SIZES[ok], size=n_jobs, p=weights)
        mean_size = float(np.sum(weights * _SIZES[ok]))
    else:
        size = np.full(n_jobs, integer("sizes", sizes, minimum=1, maximum=n_devices))
        mean_size = float(size[0])
    if runtime == "exponential":
        rt = rng.exponential(mean_runtime, n_jobs)
    else:
        rt = rng.lognormal(math.log(mean_runtime) - sigma**2 / 2, sigma, n_jobs)
    with np.errstate(over="ignore"):
        gap = mean_size * mean_runtime / (load * n_devices)   # offered device-seconds per second = load × n_devices
    finite_result(gap, "the mean time between submissions", "mean_runtime", "load", "n_devices")
    submit = np.cumsum(rng.exponential(gap, n_jobs))
    with np.errstate(over="ignore"):
        estimate = rt * overestimate
    finite_result(submit, "the submit times", "n_jobs", "load", "mean_runtime")
    finite_result(estimate, "the runtimes and estimates", "mean_runtime", "runtime_sigma", "overestimate")
    if not np.all(rt > 0):
        raise ValueError("runtime_sigma is too large for these runtimes: some runtimes round to 0 s")
    at_limit = rng.random(n_jobs) < limit_fraction
    estimate[at_limit] = estimate.max()
    return JobTrace(submit, size.astype(int), rt, estimate)


@dataclass
class SchedulerResult:
    """What :func:`simulate_scheduler` returns (times in s)."""
    policy: str
    n_devices: int
    jobs: JobTrace
    start: np.ndarray
    end: np.ndarray
    times: np.ndarray            # devices in use: a step function, value devices_in_use[i] from times[i]
    devices_in_use: np.ndarray
    timeline: Timeline           # cluster busy (any device in use) / fully idle (labkit.core.timeline)
    n_events: int

    @property
    def wait(self):
        return self.start - self.jobs.submit

    @property
    def mean_wait(self):
        return float(np.mean(self.wait))

    @property
    def p95_wait(self):
        return quantile(self.wait, 0.95)

    @property
    def makespan(self):
        return float(self.end.max())

    @property
    def utilization(self):
        """Device-seconds of work / (devices × time from first submission to last completion)."""
        span = self.makespan - float(self.jobs.submit.min())
        return self.jobs.gpu_seconds / (self.n_devices * span)

    @property
    def mean_slowdown(self):
        """Mean of (wait + runtime) / runtime: how much longer jobs took than on an empty cluster."""
        return float(np.mean((self.end - self.jobs.submit) / self.jobs.runtime))

    def utilization_until(self, t_end):
        """Mean fraction of devices in use over [first submission, t_end]."""
        t0 = float(self.jobs.submit.min())
        t_end = positive("t_end", t_end, "s")
        if t_end <= t0:
            raise ValueError(f"t_end must be after the first submission ({t0:g} s), got {t_end:g}")
        edges = np.clip(np.append(self.times, self.makespan), t0, t_end)
        return float(np.sum(self.devices_in_use * np.diff(edges)) / (self.n_devices * (t_end - t0)))


def _easy_backfill(now, free, queue, size, estimate, running):
    """Jobs (from ``queue[1:]``) that may start now without delaying the head job's reservation.

    EASY: the head gets a reservation at the "shadow time" when enough running jobs (by their
    estimated ends) will have freed its GPUs; the GPUs left over then are "extra". A later job
    may start now if it fits and either ends (by estimate) before the shadow time or uses only
    extra GPUs.
    """
    chosen, shadow, extra = [], None, 0
    for j in queue[1:]:
        g = size[j]
        if g > free:
            continue
        if shadow is None:          # the head's reservation, computed only when a candidate fits
            need, avail, shadow = size[queue[0]], free, math.inf
            for end_est, held in sorted(running.values()):
                avail += held
                if avail >= need:
                    shadow, extra = end_est, avail - need
                    break
        if now + estimate[j] <= shadow:
            chosen.append(j)
            free -= g
        elif g <= extra:
            chosen.append(j)
            free -= g
            extra -= g
        if free == 0:
            break
    return chosen


def _job(env, j, runtime, on_end):
    """One job's run: it holds its GPUs for its true runtime."""
    yield env.timeout(runtime)
    on_end(j)


def simulate_scheduler(jobs, n_devices, *, policy="fifo"):
    """Schedule a :class:`JobTrace` on ``n_devices`` GPUs; return :class:`SchedulerResult`.

    ``"fifo"``: start jobs strictly in submission order; a job that does not fit blocks all behind it.
    ``"backfill"``: EASY backfilling (Lifka 1995): the head job gets a reservation at the earliest
    time enough GPUs free up (from running jobs' *estimated* ends); later jobs may jump ahead if
    they fit now and either end (by estimate) before that reservation or use only GPUs the head
    will not need. Jobs run for their true runtime and are never preempted; GPUs are
    interchangeable (no topology or locality constraints). For single-GPU jobs with exponential
    runtimes FIFO is an M/M/c queue: twin :func:`mmc_wait`.
    """
    import simpy

    instance("jobs", jobs, JobTrace, "a JobTrace (see make_job_trace)")
    n_devices = integer("n_devices", n_devices, minimum=1)
    if not isinstance(policy, str):
        raise TypeError(f"policy must be 'fifo' or 'backfill', got {policy!r}")
    choice("policy", policy, ("fifo", "backfill"))
    _check_trace(jobs, n_devices)
    n = len(jobs)
    order = np.argsort(jobs.submit, kind="stable")
    size, runtime, estimate = jobs.n_devices.astype(int).tolist(), jobs.runtime.tolist(), jobs.estimate.tolist()
    submitted = jobs.submit.tolist()
    env = simpy.Environment()
    start, end = [math.nan] * n, [math.nan] * n
    queue = []                      # waiting jobs in submission order
    running = {}                    # job -> (estimated end, GPUs)
    free = [n_devices]
    times, in_use = [0.0], [0]
    backfill = policy == "backfill"

    def launch(j):
        start[j] = env.now
        free[0] -= size[j]
        running[j] = (env.now + estimate[j], size[j])
        env.process(_job(env, j, runtime[j], job_ended))

    def schedule():
        while queue and size[queue[0]] <= free[0]:
            launch(queue.pop(0))
        if backfill and queue and free[0] > 0:
            for j in _easy_backfill(env.now, free[0], queue, size, estimate, running):
                queue.remove(j)
                launch(j)
        if n_devices - free[0] != in_use[-1]:
            times.append(env.now)
            in_use.append(n_devices - free[0])

    def job_ended(j):
        end[j] = env.now
        free[0] += size[j]
        del running[j]
        schedule()

    def submit(env):
        for j in order.tolist():
            delay = submitted[j] - env.now
            if delay > 0:
                yield env.timeout(delay)
            queue.append(j)
            schedule()

    env.process(submit(env))
    env.run()
    t, g = np.array(times), np.array(in_use, dtype=float)
    last = np.append(t[1:] != t[:-1], True)           # keep the final value at each instant
    t, g = t[last], g[last]
    end_arr = np.array(end)
    edges = np.append(t, float(end_arr.max()))
    busy = g > 0
    return SchedulerResult(policy, n_devices, jobs, np.array(start), end_arr, t, g,
                           Timeline.from_busy(edges[:-1][busy], edges[1:][busy], edges[-1]),
                           events(env, 3 * n))


def _check_trace(jobs, n_devices):
    """A JobTrace that can run on ``n_devices``: equal lengths, finite times, whole sizes that fit."""
    try:
        cols = [np.asarray(c, dtype=float).reshape(-1) for c in (jobs.submit, jobs.n_devices, jobs.runtime,
                                                                 jobs.estimate)]
    except (TypeError, ValueError):
        raise TypeError("jobs must hold numeric arrays submit, n_devices, runtime and estimate") from None
    submit, size, runtime, estimate = cols
    if not len(submit) or not (len(submit) == len(size) == len(runtime) == len(estimate)):
        raise ValueError("jobs must hold at least one job, with submit, n_devices, runtime and estimate "
                         "of equal length")
    if len(submit) > 1_000_000:
        raise ValueError(f"jobs must hold at most 1,000,000 jobs, got {len(submit):,}")
    if not np.all(np.isfinite(submit)) or np.any(submit < 0):
        raise ValueError("jobs' submit times must be finite seconds ≥ 0")
    if np.any(size != np.round(size)) or np.any(size > n_devices) or np.any(size < 1):
        raise ValueError(f"every job in jobs must ask for a whole number of devices from 1 to n_devices = "
                         f"{n_devices}; the trace asks for {size.min():g} to {size.max():g}")
    if np.any(~(runtime > 0)) or np.any(~np.isfinite(runtime)):
        raise ValueError("jobs' runtimes must be positive finite seconds")
    if np.any(~(estimate >= runtime)) or np.any(~np.isfinite(estimate)):
        raise ValueError("jobs' estimates must be finite and at least their runtimes (estimates are upper bounds)")
    if not np.isfinite(float(np.max(submit + estimate)) + float(np.sum(runtime))):
        raise ValueError("jobs' times are too large to schedule (their sum overflows)")


def plot_scheduler(results, ax=None, until=None):
    """Devices in use over time for each :class:`SchedulerResult` (e.g. FIFO and backfilling; up to 10),
    up to ``until`` seconds (None: the whole run)."""
    results = sequence("results", results, maximum=10)
    for r in results:
        instance("results", r, SchedulerResult, "a list of SchedulerResult (from simulate_scheduler)")
    until = None if until is None else positive("until", until, "s")
    fig, ax = new_axes(ax, figsize=(7.5, 3.5))
    for k, r in enumerate(results):
        ax.step(r.times / 3600, r.devices_in_use, where="post", color=f"C{k}", ls=LINESTYLES[k % len(LINESTYLES)],
                lw=1.2, label=f"{r.policy}: utilization {r.utilization:.0%}, mean wait {r.mean_wait / 3600:.1f} h")
    ax.axhline(results[0].n_devices, color="grey", ls=":", lw=1)
    if until is not None:
        ax.set_xlim(0, until / 3600)
    ax.set(xlabel="time (h)", ylabel="GPUs in use", title=f"A {results[0].n_devices}-GPU cluster, same job trace")
    ax.legend(fontsize=8, loc="lower right")
    return fig
