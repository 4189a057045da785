"""Stragglers: a synchronous step waits for the slowest worker (numpy Monte Carlo), and its
analytic twin, the expected order statistic (:func:`expected_step_time`)."""

import math
from dataclasses import dataclass

import numpy as np

from ..core.plotting import LINESTYLES, MARKERS, log_axis, new_axes
from ..core.validate import choice, counts, finite_result, fraction, integer, nonnegative, number, positive, sequence

#: Largest coefficient of variation of a worker's step time the model takes.
MAX_JITTER = 10.0
#: Most workers (and backup workers) the analytic twin integrates over: a billion.
MAX_WORKERS = 10**9
#: Most step-time samples (steps × workers) one simulation draws (memory: 8 bytes each).
MAX_SAMPLES = 40_000_000
_EULER_GAMMA = 0.5772156649015329


_DISTRIBUTIONS = ("lognormal", "normal", "exponential")


def _check_dist(distribution, jitter):
    if not isinstance(distribution, str):
        raise TypeError(f"distribution must be one of {', '.join(map(repr, _DISTRIBUTIONS))}, got {distribution!r}")
    choice("distribution", distribution, _DISTRIBUTIONS)
    if distribution == "exponential" and jitter > 1:
        raise ValueError("jitter must be at most 1 for the 'exponential' distribution "
                         "(a shifted exponential with standard deviation jitter · step_time)")


def _sample_times(rng, step_time, jitter, distribution, size):
    if jitter == 0:
        return np.full(size, step_time)
    if distribution == "lognormal":
        s2 = math.log1p(jitter**2)
        return rng.lognormal(math.log(step_time) - s2 / 2, math.sqrt(s2), size)
    if distribution == "normal":
        return np.maximum(0.0, rng.normal(step_time, jitter * step_time, size))
    return step_time * (1 - jitter) + rng.exponential(jitter * step_time, size)


_SQRT2 = math.sqrt(2.0)
_erfc = np.frompyfunc(math.erfc, 1, 1)


def _normal_cdf_sf(z):
    """Φ(z) and 1 − Φ(z), each accurate in its own tail."""
    cdf = 0.5 * _erfc(-z / _SQRT2).astype(float)
    sf = 0.5 * _erfc(z / _SQRT2).astype(float)
    return cdf, sf


def _harmonic(n):
    """H_n = 1 + 1/2 + … + 1/n (exact sum below 10^5, the asymptotic series above: error < 1e-20)."""
    if n < 100_000:
        return float(np.sum(1.0 / np.arange(1, n + 1, dtype=float))) if n > 0 else 0.0
    return math.log(n) + _EULER_GAMMA + 1 / (2 * n) - 1 / (12 * n**2) + 1 / (120 * n**4)


def _order_stat_mean(k, n_total, step_time, jitter, distribution):
    """E of the k-th smallest of n_total i.i.d. step times (mean step_time, CV jitter)."""
    if jitter == 0:
        return step_time
    if distribution == "exponential":       # exact: Rényi's representation
        shift, scale = step_time * (1 - jitter), step_time * jitter
        if k < 100_000:
            i = np.arange(n_total - k + 1, n_total + 1, dtype=float)
            return shift + scale * float(np.sum(1.0 / i))
        return shift + scale * (_harmonic(n_total) - _harmonic(n_total - k))
    z_edge = math.sqrt(2 * math.log(n_total * 1e8)) + 1.0
    if distribution == "lognormal":
        s = math.sqrt(math.log1p(jitter**2))
        mu = math.log(step_time) - s * s / 2
        x = np.exp(mu + s * np.linspace(-z_edge, z_edge, 2001))
        z = (np.log(x) - mu) / s
    else:  # normal clipped at zero
        lo = max(0.0, step_time * (1 - jitter * z_edge))
        x = np.linspace(lo, step_time * (1 + jitter * z_edge), 2001)
        z = (x - step_time) / (jitter * step_time)
    F, S = _normal_cdf_sf(z)
    with np.errstate(divide="ignore"):
        logF, logS = np.log(F), np.log(S)
    # P(k-th smallest <= x) = P(Binomial(n_total, F) >= k); sum the shorter side in log space.
    if n_total - k <= k - 1:
        j = np.arange(k, n_total + 1, dtype=float)
        upper = True
    else:
        j = np.arange(0, k, dtype=float)
        upper = False
    if len(j) > 4096:
        raise ValueError("too many order-statistic terms: keep drop_slowest + backup_workers below 4096")
    logc = (math.lgamma(n_total + 1) - np.array([math.lgamma(v + 1) for v in j])
            - np.array([math.lgamma(n_total - v + 1) for v in j]))
    with np.errstate(invalid="ignore"):
        a = np.where(j[None, :] == 0, 0.0, j[None, :] * logF[:, None])         # F**0 = 1 even where F = 0
        b = np.where(j[None, :] == n_total, 0.0, (n_total - j)[None, :] * logS[:, None])
        terms = np.exp(logc[None, :] + a + b)
    G = terms.sum(axis=1) if upper else 1.0 - terms.sum(axis=1)
    G = np.clip(G, 0.0, 1.0)
    # E[Y] = x0 + ∫_{x0}^{x_end} (1 - G) dx, for Y >= x0 (G(x0) ≈ 0 by construction of the grid)
    y = 1.0 - G
    return float(x[0] + np.sum(0.5 * (y[1:] + y[:-1]) * np.diff(x)))


def expected_step_time(n_workers, step_time, jitter, *, distribution="lognormal",
                       backup_workers=0, drop_slowest=0):
    """Analytic twin of :func:`simulate_stragglers`: the expected synchronous step time.

    Each of ``n_workers + backup_workers`` workers takes an i.i.d. time with mean ``step_time`` and
    coefficient of variation ``jitter``; the step ends when the ``n_workers - drop_slowest``-th
    fastest finishes. With no mitigation that is the expected maximum of n samples
    (for the shifted exponential: step_time·(1 − jitter) + jitter·step_time·H_n, H_n the harmonic
    number; for normal jitter roughly step_time·(1 + jitter·√(2 ln n)) for large n).
    Computed by numerical integration of the order statistic's distribution. ``n_workers`` may
    be an array.
    """
    n, step_time, jitter, b, d = _twin_args(n_workers, step_time, jitter, distribution, backup_workers,
                                            drop_slowest)
    ns = np.atleast_1d(n).astype(int)
    out = np.array([_order_stat_mean(int(k) - d, int(k) + b, step_time, jitter, distribution) for k in ns])
    finite_result(out, "the expected step time", "step_time", "jitter", "n_workers")
    return out if np.ndim(n) else float(out[0])


def _twin_args(n_workers, step_time, jitter, distribution, backup_workers, drop_slowest):
    n = counts("n_workers", n_workers, maximum=MAX_WORKERS)
    step_time = positive("step_time", step_time, "s")
    jitter = nonnegative("jitter", jitter, "coefficient of variation", maximum=MAX_JITTER)
    _check_dist(distribution, jitter)
    b = integer("backup_workers", backup_workers, minimum=0, maximum=MAX_WORKERS)
    d = integer("drop_slowest", drop_slowest, minimum=0, maximum=MAX_WORKERS)
    if np.ndim(n) and len(n) > 10_000:
        raise ValueError(f"n_workers must hold at most 10,000 worker counts, got {len(n):,}")
    if np.any(d >= np.atleast_1d(n)):
        raise ValueError(f"drop_slowest ({d}) must be smaller than n_workers ({int(np.min(n))})")
    return n, step_time, jitter, b, d


def straggler_efficiency(n_workers, step_time, jitter, *, distribution="lognormal",
                         backup_workers=0, drop_slowest=0):
    """Analytic efficiency: useful worker-time / paid worker-time (see :class:`StragglerResult`)."""
    n, step_time, jitter, b, d = _twin_args(n_workers, step_time, jitter, distribution, backup_workers,
                                            drop_slowest)
    t = expected_step_time(n, step_time, jitter, distribution=distribution, backup_workers=b, drop_slowest=d)
    return (np.asarray(n, dtype=float) - d) * step_time / ((np.asarray(n, dtype=float) + b) * np.asarray(t))


def slow_node_slowdown(n_workers, slow_fraction, slowdown):
    """Expected slowdown (≥ 1) of a synchronous job whose workers are each, independently, persistently slow
    with probability ``slow_fraction``, running ``slowdown`` times slower: 1 + (slowdown − 1)·(1 − (1 − f)^n).

    Persistent, not per step: a slow worker (a bad host, a throttled GPU, a flaky link; MegaScale, Jiang et
    al. 2024, §5) slows every step until someone finds and replaces it, so the job runs at its pace
    whenever at least one of the n workers is slow. Per-step jitter is :func:`expected_step_time`.
    """
    n = integer("n_workers", n_workers, minimum=1, maximum=MAX_WORKERS)
    f = fraction("slow_fraction", slow_fraction)
    s = number("slowdown", slowdown, "", minimum=1.0, maximum=1e6)
    some_slow = -math.expm1(n * math.log1p(-f)) if f < 1 else 1.0
    return 1.0 + (s - 1.0) * some_slow


@dataclass
class StragglerResult:
    """What :func:`simulate_stragglers` returns.

    ``efficiency`` = (gradients used · step_time) / (workers paid for · mean step time): 1 when
    nobody ever waits. Dropping the k slowest uses n − k gradients; backup workers are paid for
    but their gradients are surplus.
    """
    n_workers: int
    step_time: float
    jitter: float
    distribution: str
    backup_workers: int
    drop_slowest: int
    step_times: np.ndarray       # each synchronous step's duration (s)
    slow_fraction: float = 0.0   # share of workers persistently slow (drawn once per run)
    slow_factor: float = 1.0     # how many times slower they run
    n_slow: int = 0              # slow workers this run drew

    @property
    def mean_step_time(self):
        return float(np.mean(self.step_times))

    @property
    def efficiency(self):
        used = self.n_workers - self.drop_slowest
        paid = self.n_workers + self.backup_workers
        return used * self.step_time / (paid * self.mean_step_time)

    @property
    def slowdown(self):
        """Mean step time / a worker's mean compute time."""
        return self.mean_step_time / self.step_time

    @property
    def expected_step_time(self):
        return expected_step_time(self.n_workers, self.step_time, self.jitter, distribution=self.distribution,
                                  backup_workers=self.backup_workers, drop_slowest=self.drop_slowest)


def simulate_stragglers(n_workers, step_time, jitter, *, n_steps=200, seed=0, distribution="lognormal",
                        backup_workers=0, drop_slowest=0, slow_fraction=0.0, slowdown=1.0):
    """Synchronous data parallelism: each step waits for the slowest worker (numpy Monte Carlo).

    Every step, each of ``n_workers + backup_workers`` workers draws an independent compute time
    with mean ``step_time`` (s) and coefficient of variation ``jitter`` (``distribution``:
    "lognormal", "normal" clipped at 0, or "exponential" — a shifted exponential). The step ends
    when the ``n_workers - drop_slowest``-th fastest worker is done: plain synchronous SGD waits for
    all n; backup workers (Chen et al. 2016) let the slowest extra ones be ignored; dropping the
    slowest k discards their gradients. Communication is not modelled. Steps are independent, so
    no queue forms and no event simulation is needed. Analytic twin: :func:`expected_step_time`.

    Persistent stragglers: each worker is, with probability ``slow_fraction``, slow for the whole run —
    every one of its step times is ``slowdown`` times longer (a bad host, a throttled GPU; MegaScale,
    Jiang et al. 2024). Their twin, without jitter, is :func:`slow_node_slowdown` (the expectation over runs).
    """
    n_workers = integer("n_workers", n_workers, minimum=1, maximum=MAX_SAMPLES)
    step_time = positive("step_time", step_time, "s")
    jitter = nonnegative("jitter", jitter, "coefficient of variation", maximum=MAX_JITTER)
    _check_dist(distribution, jitter)
    n_steps = integer("n_steps", n_steps, minimum=1, maximum=MAX_SAMPLES)
    backup_workers = integer("backup_workers", backup_workers, minimum=0, maximum=MAX_SAMPLES)
    drop_slowest = integer("drop_slowest", drop_slowest, minimum=0, maximum=MAX_SAMPLES)
    if drop_slowest >= n_workers:
        raise ValueError(f"drop_slowest ({drop_slowest}) must be smaller than n_workers ({n_workers})")
    total = n_workers + backup_workers
    if n_steps * total > MAX_SAMPLES:
        raise ValueError(f"n_steps × workers = {n_steps * total:,} samples is too many for memory; "
                         "use fewer steps for very large clusters")
    slow_fraction = fraction("slow_fraction", slow_fraction)
    slowdown = number("slowdown", slowdown, "", minimum=1.0, maximum=1e6)
    rng = np.random.default_rng(integer("seed", seed, minimum=0))
    times = _sample_times(rng, step_time, jitter, distribution, (n_steps, total))
    slow = np.zeros(total, dtype=bool)
    if slow_fraction > 0 and slowdown > 1:
        slow = rng.random(total) < slow_fraction          # drawn once: the same workers every step
        times[:, slow] *= slowdown
    k = n_workers - drop_slowest - 1
    steps = np.partition(times, k, axis=1)[:, k] if k < total - 1 else times.max(axis=1)
    finite_result(steps, "the step times", "step_time", "jitter")
    return StragglerResult(n_workers, step_time, jitter, distribution, backup_workers, drop_slowest, steps,
                           slow_fraction, slowdown, int(slow.sum()))




def plot_straggler_scaling(step_time=1.0, jitters=(0.05, 0.1, 0.2), *, n_max=16384, distribution="lognormal",
                           n_steps=100, seed=0, ax=None):
    """Efficiency vs number of workers: simulated points over the expected-maximum curve.

    Worker counts 1 … ``n_max`` (at most 2^20); each simulated point draws at most 400,000 step times.
    """
    step_time = positive("step_time", step_time, "s")
    jitters = [nonnegative("jitters", j, "coefficient of variation", maximum=MAX_JITTER)
               for j in sequence("jitters", jitters, maximum=10)]
    for j in jitters:
        _check_dist(distribution, j)
    n_max = integer("n_max", n_max, minimum=2, maximum=2**20)
    n_steps = integer("n_steps", n_steps, minimum=1, maximum=100_000)
    seed = integer("seed", seed, minimum=0)
    fig, ax = new_axes(ax, figsize=(7, 4))
    curve = np.unique(np.round(np.logspace(0, math.log10(n_max), 24)).astype(int))
    points = 4 ** np.arange(0, int(math.log(n_max, 4) + 1e-9) + 1)
    for k, j in enumerate(jitters):
        ax.plot(curve, straggler_efficiency(curve, step_time, j, distribution=distribution), color=f"C{k}",
                ls=LINESTYLES[k % len(LINESTYLES)],
                label=f"expected max, jitter {j:.0%}")
        sim = [simulate_stragglers(int(n), step_time, j, n_steps=max(4, min(n_steps, 400_000 // int(n))),
                                   seed=seed, distribution=distribution).efficiency for n in points]
        ax.plot(points, sim, MARKERS[k % len(MARKERS)], color=f"C{k}", ms=4)
    log_axis(ax, "x", ticks=points, plain=True)
    ax.set(xlabel="data-parallel workers", ylabel="efficiency (mean / slowest)", ylim=(0, 1.02),
           title=f"Stragglers: every step waits for the slowest ({distribution} step times)")
    ax.legend(fontsize=8, loc="lower left", title="lines: analytic; dots: simulated", title_fontsize=8)
    return fig
