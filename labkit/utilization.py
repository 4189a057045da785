"""Chapter 04 — utilization: why a cluster sits at 40 %, and what wins some of it back.

Five models, each with an analytic twin the simulation is tested against:

- **MFU / HFU** (:func:`mfu`, :func:`hfu`): the share of peak FLOP/s that does model work,
  computed from throughput the way papers report it (PaLM, Appendix B).
- **Input pipeline** (:func:`simulate_input_pipeline`, simpy): loader workers feed a GPU; the GPU
  stalls when they fall behind. Twin: :func:`input_pipeline_utilization`.
- **Stragglers** (:func:`simulate_stragglers`, numpy Monte Carlo): a synchronous step waits for the
  slowest worker. Twin: :func:`expected_step_time` (expected order statistics).
- **Serving** (:func:`simulate_serving`, simpy): static, dynamic and continuous batching of decode
  requests on a roofline GPU. Twins: :func:`mm1_wait`, :func:`md1_wait`, :func:`mg1_wait`, and
  :func:`decode_utilization` (≈ batch / critical intensity).
- **Scheduling** (:func:`simulate_scheduler`, simpy): FIFO vs EASY backfilling on a job trace.
  Twin for single-GPU jobs: :func:`mmc_wait` (Erlang C).

SI units everywhere: seconds, bytes, FLOP, FLOP/s, requests/s. Utilizations are fractions (0.4 = 40 %).

**Timelines.** Every simpy result has ``.timeline``, a :class:`Timeline` of contiguous GPU busy/idle
intervals covering ``[0, makespan]`` (numpy arrays ``start``, ``end``, ``busy``). Multiply
``timeline.duration`` by a busy or idle power to get the energy of a run, idle silicon included.
Every simpy result also has ``n_events``, the number of simpy events the run processed.
"""

import functools
import math
from dataclasses import dataclass

import numpy as np

from .core.validate import choice, fraction, integer, nonnegative, positive
from .core.explore import freeze_background

# Datasheet figures used as defaults (dense BF16), read from datasets/hardware.csv on first use (module
# __getattr__ below), so ``import labkit.utilization`` stays fast and the CSV is their one source:
#   H100_PEAK_FLOPS     FLOP/s   NVIDIA H100 SXM, dense BF16
#   H100_HBM_BANDWIDTH  bytes/s  NVIDIA H100 SXM, HBM3
#   A100_PEAK_FLOPS     FLOP/s   NVIDIA A100 SXM 80GB, dense BF16
#   TPU_V4_PEAK_FLOPS   FLOP/s   Google TPU v4, BF16
_DATASHEET = {
    "H100_PEAK_FLOPS": ("NVIDIA H100 SXM", "peak_flops_per_s"),
    "H100_HBM_BANDWIDTH": ("NVIDIA H100 SXM", "bandwidth_bytes_per_s"),
    "A100_PEAK_FLOPS": ("NVIDIA A100 SXM 80GB", "peak_flops_per_s"),
    "TPU_V4_PEAK_FLOPS": ("Google TPU v4", "peak_flops_per_s"),
}


def __getattr__(name):
    if name in _DATASHEET:
        return _datasheet(name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def _datasheet(name):
    from .hardware import datasheet
    row, column = _DATASHEET[name]
    return float(getattr(datasheet(row), column))


def _h100(peak_flops_per_s, memory_bandwidth_bytes_per_s):
    """The defaults: None means the H100 SXM's figure from datasets/hardware.csv."""
    peak = _datasheet("H100_PEAK_FLOPS") if peak_flops_per_s is None else peak_flops_per_s
    bw = _datasheet("H100_HBM_BANDWIDTH") if memory_bandwidth_bytes_per_s is None else memory_bandwidth_bytes_per_s
    return peak, bw


# =============================================================================================
# Small shared pieces
# =============================================================================================
def _count(name, value, minimum=1):
    """A whole number >= minimum, or an array of them (float arrays of whole numbers accepted)."""
    if isinstance(value, (list, tuple, np.ndarray)):
        arr = positive(name, value, "count", array=True)
        arr = np.asarray(arr, dtype=float)
        if np.any(arr != np.round(arr)) or np.any(arr < minimum):
            raise ValueError(f"{name} must hold whole numbers >= {minimum}, got {value!r}")
        return arr
    return integer(name, value, minimum=minimum)


def _events(env, fallback):
    """Number of events simpy scheduled (and, after run(), processed) in this environment."""
    counter = getattr(env, "_eid", None)
    try:
        return int(next(counter))
    except TypeError:
        return int(fallback)


@dataclass
class Timeline:
    """GPU busy/idle intervals: contiguous, in time order, covering ``[0, makespan]``.

    ``start``, ``end`` (s) and ``busy`` (bool) are numpy arrays of equal length; neighbouring
    intervals never share a state (they are merged). For an energy estimate:
    ``np.sum(timeline.duration * np.where(timeline.busy, p_busy, p_idle))`` joules, or
    ``labkit.energy.timeline_energy(tl.start, tl.end, tl.as_utilization(), ...)``.
    """
    start: np.ndarray
    end: np.ndarray
    busy: np.ndarray

    @classmethod
    def from_busy(cls, busy_start, busy_end, makespan=None):
        """Build from non-overlapping busy intervals (any order); idle fills the gaps from 0."""
        s = np.asarray(busy_start, dtype=float).reshape(-1)
        e = np.asarray(busy_end, dtype=float).reshape(-1)
        order = np.argsort(s, kind="stable")
        s, e = s[order], e[order]
        keep = e > s
        s, e = s[keep], np.maximum.accumulate(e[keep]) if keep.any() else e[keep]
        end = float(max(e[-1] if len(e) else 0.0, makespan or 0.0))
        if len(s) == 0:
            return cls(np.array([0.0]), np.array([end]), np.array([False])) if end > 0 else \
                cls(np.zeros(0), np.zeros(0), np.zeros(0, dtype=bool))
        tol = 1e-12 * max(1.0, end)
        new = np.concatenate([[True], s[1:] > e[:-1] + tol])     # a busy run starts after a real gap
        first = np.flatnonzero(new)
        last = np.append(first[1:] - 1, len(s) - 1)
        bs, be = s[first], e[last]
        # interleave idle gaps: [0, bs0], [bs0, be0], [be0, bs1], ..., [be_last, end]
        starts = np.empty(2 * len(bs) + 1)
        ends = np.empty_like(starts)
        starts[0], ends[0] = 0.0, bs[0]
        starts[1::2], ends[1::2] = bs, be
        starts[2::2], ends[2::2] = be, np.append(bs[1:], end)
        busy = np.zeros(len(starts), dtype=bool)
        busy[1::2] = True
        real = ends > starts
        return cls(starts[real], ends[real], busy[real])

    @property
    def duration(self):
        return self.end - self.start

    @property
    def makespan(self):
        return float(self.end[-1]) if len(self.end) else 0.0

    @property
    def busy_time(self):
        return float(np.sum(self.duration[self.busy]))

    @property
    def idle_time(self):
        return float(np.sum(self.duration[~self.busy]))

    @property
    def utilization(self):
        """Busy time / makespan (what nvidia-smi's 'utilization' measures, roughly)."""
        return self.busy_time / self.makespan if self.makespan > 0 else 0.0

    def as_utilization(self):
        """Per-interval utilization as floats (1.0 busy, 0.0 idle), for labkit.energy."""
        return self.busy.astype(float)

    def __len__(self):
        return len(self.start)


def _quantile(x, q):
    return float(np.quantile(x, q)) if len(x) else float("nan")


# =============================================================================================
# 1. MFU and HFU
# =============================================================================================
def model_flops_per_token(n_params, n_layers=0, attention_width=0, seq_len=0):
    """Training FLOPs per token of a dense decoder: 6·N + 12·L·(H·Q)·T (PaLM, Appendix B).

    ``n_params`` N (non-embedding parameters in the paper's accounting), ``n_layers`` L,
    ``attention_width`` H·Q (heads × head dimension), ``seq_len`` T. Leave the last three at 0 to
    drop the attention term: 6·N is forward (2·N) plus backward (4·N).
    """
    n = positive("n_params", n_params, "parameters", array=True)
    L = nonnegative("n_layers", n_layers, "layers", array=True)
    hq = nonnegative("attention_width", attention_width, "", array=True)
    T = nonnegative("seq_len", seq_len, "tokens", array=True)
    return 6.0 * n + 12.0 * L * hq * T


def _utilization(tokens_per_second, flops_per_token, n_devices, peak_flops_per_device, what):
    tps = nonnegative("tokens_per_second", tokens_per_second, "tokens/s", array=True)
    fpt = positive("flops_per_token", flops_per_token, "FLOP/token", array=True)
    n = _count("n_devices", n_devices)
    peak = positive("peak_flops_per_device", peak_flops_per_device, "FLOP/s", array=True)
    value = tps * fpt / (n * peak)
    if np.any(np.asarray(value) > 1 + 1e-9):
        raise ValueError(f"{what} would exceed 100 % of peak ({np.max(value):.3g}): check the units — "
                         "peak_flops_per_device is per device in FLOP/s (989e12, not 989), "
                         "tokens_per_second is for the whole job, n_devices counts every device.")
    return value


def mfu(tokens_per_second, flops_per_token, n_devices, peak_flops_per_device):
    """Model FLOPs utilization: the FLOP/s the model needs at this throughput, over the peak.

    MFU = tokens_per_second · flops_per_token / (n_devices · peak_flops_per_device).
    ``flops_per_token`` counts the model's forward + backward work only (≈ 6·N; see
    :func:`model_flops_per_token`), never recomputation, so MFU compares systems fairly
    (Chowdhery et al. 2022, §4). Accepts numpy arrays. Returns a fraction.
    """
    return _utilization(tokens_per_second, flops_per_token, n_devices, peak_flops_per_device, "MFU")


def hfu(tokens_per_second, flops_per_token, n_devices, peak_flops_per_device, recompute=1.0):
    """Hardware FLOPs utilization: like :func:`mfu`, but counting the forward pass recomputed.

    ``flops_per_token`` is the model's forward + backward work (as for :func:`mfu`); the forward
    pass is a third of it. ``recompute`` is the fraction of the forward pass recomputed during the
    backward pass: 1 for full activation recomputation (the hardware does 8·N per token instead of
    6·N, so HFU = 4/3 · MFU), 0 for none (HFU = MFU). Megatron-LM's published "% of peak" counts
    recomputation this way (Narayanan et al. 2021, eq. 3).
    """
    r = fraction("recompute", recompute, array=True)
    fpt = positive("flops_per_token", flops_per_token, "FLOP/token", array=True)
    return _utilization(tokens_per_second, fpt * (1.0 + r / 3.0), n_devices, peak_flops_per_device, "HFU")


def load_published_mfu():
    """The cited table of published training utilizations (datasets/training_mfu.csv)."""
    from .data import load
    return load("training_mfu")


def plot_published_mfu(ax=None):
    """Horizontal bars of published MFU (HFU marked where reported) from datasets/training_mfu.csv."""
    ax, fig = _axes(ax, (7.5, 4.2))
    t = load_published_mfu()
    labels = [f"{s} · {int(n):,} {a}" if np.isfinite(n) else f"{s} · {a}"
              for s, n, a in zip(t["system"], t["n_devices"], t["accelerator"])]
    y = np.arange(len(t))[::-1]
    m, h = t["reported_mfu"], t["reported_hfu"]
    has_m = np.isfinite(m)
    ax.barh(y[has_m], m[has_m] * 100, color="C0", label="MFU (model FLOPs)")
    only_h = ~has_m & np.isfinite(h)
    ax.barh(y[only_h], h[only_h] * 100, color="C1", alpha=0.6, label="HFU only (recomputation counted)")
    ax.barh(y[only_h], h[only_h] * 75, color="C0", alpha=0.5, hatch="//", label="its MFU (× 6/8)")
    both = has_m & np.isfinite(h)
    ax.plot(h[both] * 100, y[both], "|", color="C1", ms=14, mew=3, label="HFU")
    for yy, v in zip(y, np.where(has_m, m, h)):
        ax.text(v * 100 + 0.8, yy, f"{v:.1%}", va="center", fontsize=7)
    ax.set_yticks(y, labels, fontsize=7)
    ax.set_xlim(0, 70)
    ax.set_xlabel("% of peak FLOP/s")
    ax.set_title("Published training utilization (datasets/training_mfu.csv)", fontsize=10)
    ax.legend(fontsize=7, loc="upper right")
    fig.tight_layout()
    return fig


def _plain_log_axis(ax, which, ticks):
    """Log-scale ``ax``'s "x" or "y" axis, labelled with plain numbers at ``ticks`` (no mathtext)."""
    from matplotlib.ticker import FixedLocator, NullFormatter, NullLocator
    (ax.set_xscale if which == "x" else ax.set_yscale)("log")
    axis = ax.xaxis if which == "x" else ax.yaxis
    axis.set_major_locator(FixedLocator(list(ticks)))
    axis.set_major_formatter(_plain_formatter())
    axis.set_minor_locator(NullLocator())
    axis.set_minor_formatter(NullFormatter())


def _plain_formatter():
    from matplotlib.ticker import FuncFormatter
    return FuncFormatter(lambda v, _: f"{v:,.0f}" if v >= 1 else f"{v:g}")


def _axes(ax, figsize=(7, 4)):
    if ax is not None:
        return ax, ax.figure
    import matplotlib.pyplot as plt
    fig, ax = plt.subplots(figsize=figsize)
    return ax, fig


# =============================================================================================
# 2. Input pipeline: loader workers feeding one GPU (simpy)
# =============================================================================================
def input_pipeline_utilization(n_workers, load_time, step_time):
    """Analytic twin: steady loaders deliver n/load_time batches/s, the GPU eats 1/step_time.

    GPU utilization ≈ min(1, n_workers · step_time / load_time). Assumes constant load times and
    enough prefetch to cover the start; ignores the first batch's wait. Accepts arrays.
    """
    n = _count("n_workers", n_workers)
    L = positive("load_time", load_time, "s", array=True)
    s = positive("step_time", step_time, "s", array=True)
    return np.minimum(1.0, n * s / L)


def loaders_needed(load_time, step_time, target=0.95):
    """Fewest steady loader workers that keep the GPU at least ``target`` busy (analytic twin)."""
    L = positive("load_time", load_time, "s")
    s = positive("step_time", step_time, "s")
    target = fraction("target", target, allow_zero=False)
    return max(1, math.ceil(target * L / s - 1e-9))


@dataclass
class InputPipelineResult:
    """What :func:`simulate_input_pipeline` returns. Times in seconds."""
    n_workers: int
    load_time: float
    step_time: float
    prefetch: int
    load_jitter: float
    step_start: np.ndarray      # when each training step began
    step_end: np.ndarray        # when it ended
    stall: np.ndarray           # GPU idle time just before each step (waiting for its batch)
    load_times: np.ndarray      # the drawn load time of each batch
    timeline: Timeline          # GPU busy/idle intervals over [0, makespan]
    n_events: int

    @property
    def n_steps(self):
        return len(self.step_start)

    @property
    def makespan(self):
        return float(self.step_end[-1])

    @property
    def gpu_utilization(self):
        """Busy fraction of the GPU over the whole run, first batch's wait included."""
        return self.timeline.utilization

    @property
    def stall_time(self):
        return float(np.sum(self.stall))

    @property
    def analytic_utilization(self):
        return float(input_pipeline_utilization(self.n_workers, self.load_time, self.step_time))

    @property
    def steps_per_second(self):
        return self.n_steps / self.makespan


def _loader(env, worker, n_workers, window, load_times, ready, taken):
    """One loader worker: takes batches worker, worker+n, ... (round-robin, like PyTorch)."""
    for i in range(worker, len(load_times), n_workers):
        freed_by = i - window          # a worker may run `prefetch` batches ahead of the GPU
        if freed_by >= 0 and not taken[freed_by].triggered:
            yield taken[freed_by]
        yield env.timeout(load_times[i])
        ready[i].succeed()


def _trainer(env, step_time, ready, taken, start, end):
    """The GPU: consumes batches in order (head-of-line, like PyTorch's in-order DataLoader)."""
    for i in range(len(ready)):
        if not ready[i].triggered:
            yield ready[i]
        start[i] = env.now
        taken[i].succeed()
        yield env.timeout(step_time)
        end[i] = env.now


def simulate_input_pipeline(n_workers, load_time, step_time, *, prefetch=2, n_steps=1000,
                            load_jitter=0.0, seed=0):
    """Simulate loader workers feeding one GPU; return :class:`InputPipelineResult`.

    ``n_workers`` CPU workers each prepare one batch at a time, taking ``load_time`` seconds on
    average (gamma-distributed with coefficient of variation ``load_jitter``; 0 = constant).
    Batches are handed out round-robin and consumed in order; a worker may be at most
    ``prefetch`` batches ahead of the GPU (PyTorch's ``prefetch_factor``: at most
    prefetch · n_workers batches in flight or waiting). The GPU runs one ``step_time`` step per
    batch and stalls while its next batch is not ready.

    Assumptions: the GPU step time is constant; loading and compute never slow each other; no
    storage bottleneck behind the workers. Analytic twin: :func:`input_pipeline_utilization`.
    The result's ``.timeline`` holds the GPU busy/idle intervals (for energy, chapter 06).
    """
    import simpy

    n_workers = integer("n_workers", n_workers, minimum=1)
    load_time = positive("load_time", load_time, "s")
    step_time = positive("step_time", step_time, "s")
    prefetch = integer("prefetch", prefetch, minimum=1)
    n_steps = integer("n_steps", n_steps, minimum=1, maximum=2_000_000)
    load_jitter = nonnegative("load_jitter", load_jitter, "coefficient of variation")
    rng = np.random.default_rng(integer("seed", seed, minimum=0))
    if load_jitter > 0:
        shape = 1.0 / load_jitter**2
        loads = rng.gamma(shape, load_time / shape, size=n_steps)
    else:
        loads = np.full(n_steps, load_time)

    env = simpy.Environment()
    ready = [env.event() for _ in range(n_steps)]
    taken = [env.event() for _ in range(n_steps)]
    start, end = [0.0] * n_steps, [0.0] * n_steps
    window = prefetch * n_workers
    load_list = loads.tolist()
    for w in range(min(n_workers, n_steps)):
        env.process(_loader(env, w, n_workers, window, load_list, ready, taken))
    env.process(_trainer(env, step_time, ready, taken, start, end))
    env.run()
    start, end = np.array(start), np.array(end)
    previous_end = np.concatenate([[0.0], end[:-1]])
    return InputPipelineResult(
        n_workers=n_workers, load_time=load_time, step_time=step_time, prefetch=prefetch,
        load_jitter=load_jitter, step_start=start, step_end=end, stall=start - previous_end,
        load_times=loads, timeline=Timeline.from_busy(start, end), n_events=_events(env, 4 * n_steps))


def plot_gpu_timeline(result, ax=None, until=None, title=None):
    """Busy (green) and idle (red) intervals of a result's ``.timeline`` up to ``until`` seconds."""
    ax, fig = _axes(ax, (7.5, 1.8))
    tl = result.timeline
    stop = tl.makespan if until is None else min(float(until), tl.makespan)
    keep = tl.start < stop
    for state, colour, label in ((True, "#2da44e", "busy"), (False, "#cf222e", "idle")):
        m = keep & (tl.busy == state)
        spans = [(a, min(b, stop) - a) for a, b in zip(tl.start[m], tl.end[m])]
        ax.broken_barh(spans, (0, 1), color=colour, label=label)
    ax.set(xlim=(0, stop), ylim=(0, 1), yticks=[], xlabel="time (s)")
    ax.set_title(title or f"GPU timeline: {tl.utilization:.0%} busy over the whole run", fontsize=10)
    ax.legend(loc="upper right", fontsize=7, ncol=2)
    return fig


def plot_loader_sweep(n_workers, load_time, step_time, *, jitters=(0.0, 0.5), prefetch=2,
                      n_steps=300, seed=0, ax=None, target=0.95):
    """Simulated GPU utilization vs number of loader workers, against the analytic twin."""
    ax, fig = _axes(ax, (7, 4))
    n = np.atleast_1d(_count("n_workers", list(np.atleast_1d(n_workers)))).astype(int)
    grid = np.linspace(n.min(), n.max(), 200)
    ax.plot(grid, np.minimum(1, grid * step_time / load_time), "k-", lw=1.5,
            label="analytic: min(1, n·step/load)")
    for k, jit in enumerate(jitters):
        util = [simulate_input_pipeline(int(w), load_time, step_time, prefetch=prefetch, n_steps=n_steps,
                                        load_jitter=jit, seed=seed).gpu_utilization for w in n]
        ax.plot(n, util, "o", color=f"C{k}", label=f"simulated, load jitter {jit:.0%}")
    ax.axhline(target, color="grey", ls=":", lw=1)
    ax.text(n.min(), target + 0.01, f"{target:.0%}", color="grey", fontsize=8)
    ax.set(xlabel="loader workers", ylabel="GPU utilization", ylim=(0, 1.05),
           title=f"Feeding the GPU: load {load_time * 1e3:.0f} ms/batch, step {step_time * 1e3:.0f} ms")
    ax.legend(fontsize=8, loc="lower right")
    return fig


# =============================================================================================
# 3. Stragglers: a synchronous step waits for the slowest worker
# =============================================================================================
_DISTRIBUTIONS = ("lognormal", "normal", "exponential")


def _check_dist(distribution, jitter):
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


def _order_stat_mean(k, n_total, step_time, jitter, distribution):
    """E of the k-th smallest of n_total i.i.d. step times (mean step_time, CV jitter)."""
    if jitter == 0:
        return step_time
    if distribution == "exponential":       # exact: Rényi's representation
        shift, scale = step_time * (1 - jitter), step_time * jitter
        i = np.arange(n_total - k + 1, n_total + 1, dtype=float)
        return shift + scale * float(np.sum(1.0 / i))
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
    n = _count("n_workers", n_workers)
    step_time = positive("step_time", step_time, "s")
    jitter = nonnegative("jitter", jitter, "coefficient of variation")
    _check_dist(distribution, jitter)
    b = integer("backup_workers", backup_workers, minimum=0)
    d = integer("drop_slowest", drop_slowest, minimum=0)
    ns = np.atleast_1d(n).astype(int)
    if np.any(d >= ns):
        raise ValueError(f"drop_slowest ({d}) must be smaller than n_workers ({ns.min()})")
    out = np.array([_order_stat_mean(int(k) - d, int(k) + b, step_time, jitter, distribution) for k in ns])
    return out if np.ndim(n) else float(out[0])


def straggler_efficiency(n_workers, step_time, jitter, *, distribution="lognormal",
                         backup_workers=0, drop_slowest=0):
    """Analytic efficiency: useful worker-time / paid worker-time (see :class:`StragglerResult`)."""
    t = expected_step_time(n_workers, step_time, jitter, distribution=distribution,
                           backup_workers=backup_workers, drop_slowest=drop_slowest)
    n = np.asarray(n_workers, dtype=float)
    return (n - drop_slowest) * step_time / ((n + backup_workers) * np.asarray(t))


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
                        backup_workers=0, drop_slowest=0):
    """Synchronous data parallelism: each step waits for the slowest worker (numpy Monte Carlo).

    Every step, each of ``n_workers + backup_workers`` workers draws an independent compute time
    with mean ``step_time`` (s) and coefficient of variation ``jitter`` (``distribution``:
    "lognormal", "normal" clipped at 0, or "exponential" — a shifted exponential). The step ends
    when the ``n_workers - drop_slowest``-th fastest worker is done: plain synchronous SGD waits for
    all n; backup workers (Chen et al. 2016) let the slowest extra ones be ignored; dropping the
    slowest k discards their gradients. Communication is not modelled. Steps are independent, so
    no queue forms and no event simulation is needed. Analytic twin: :func:`expected_step_time`.
    """
    n_workers = integer("n_workers", n_workers, minimum=1)
    step_time = positive("step_time", step_time, "s")
    jitter = nonnegative("jitter", jitter, "coefficient of variation")
    _check_dist(distribution, jitter)
    n_steps = integer("n_steps", n_steps, minimum=1)
    backup_workers = integer("backup_workers", backup_workers, minimum=0)
    drop_slowest = integer("drop_slowest", drop_slowest, minimum=0)
    if drop_slowest >= n_workers:
        raise ValueError(f"drop_slowest ({drop_slowest}) must be smaller than n_workers ({n_workers})")
    total = n_workers + backup_workers
    if n_steps * total > 40_000_000:
        raise ValueError(f"n_steps × workers = {n_steps * total:,} samples is too many for memory; "
                         "use fewer steps for very large clusters")
    rng = np.random.default_rng(integer("seed", seed, minimum=0))
    times = _sample_times(rng, step_time, jitter, distribution, (n_steps, total))
    k = n_workers - drop_slowest - 1
    steps = np.partition(times, k, axis=1)[:, k] if k < total - 1 else times.max(axis=1)
    return StragglerResult(n_workers, step_time, jitter, distribution, backup_workers, drop_slowest, steps)


def plot_straggler_scaling(step_time=1.0, jitters=(0.05, 0.1, 0.2), *, n_max=16384, distribution="lognormal",
                           n_steps=100, seed=0, ax=None):
    """Efficiency vs number of workers: simulated points over the expected-maximum curve."""
    ax, fig = _axes(ax, (7, 4))
    curve = np.unique(np.round(np.logspace(0, math.log10(n_max), 24)).astype(int))
    points = 4 ** np.arange(0, int(math.log(n_max, 4) + 1e-9) + 1)
    for k, j in enumerate(jitters):
        ax.plot(curve, straggler_efficiency(curve, step_time, j, distribution=distribution), "-", color=f"C{k}",
                label=f"expected max, jitter {j:.0%}")
        sim = [simulate_stragglers(int(n), step_time, j, n_steps=max(4, min(n_steps, 400_000 // int(n))),
                                   seed=seed, distribution=distribution).efficiency for n in points]
        ax.plot(points, sim, "o", color=f"C{k}", ms=4)
    _plain_log_axis(ax, "x", points)
    ax.set(xlabel="data-parallel workers", ylabel="efficiency (mean / slowest)", ylim=(0, 1.02),
           title=f"Stragglers: every step waits for the slowest ({distribution} step times)")
    ax.legend(fontsize=8, loc="lower left", title="lines: analytic; dots: simulated", title_fontsize=8)
    return fig


# =============================================================================================
# 4. Inference serving
# =============================================================================================
def critical_intensity(peak_flops_per_s=None, memory_bandwidth_bytes_per_s=None):
    """The roofline's ridge point (FLOP/byte): peak FLOP/s over memory bandwidth (default: the H100 SXM's,
    from datasets/hardware.csv: ≈ 295)."""
    peak_flops_per_s, memory_bandwidth_bytes_per_s = _h100(peak_flops_per_s, memory_bandwidth_bytes_per_s)
    peak = positive("peak_flops_per_s", peak_flops_per_s, "FLOP/s", array=True)
    bw = positive("memory_bandwidth_bytes_per_s", memory_bandwidth_bytes_per_s, "bytes/s", array=True)
    return peak / bw


def decode_step_time(batch_size, n_params=7e9, *, peak_flops_per_s=None,
                     memory_bandwidth_bytes_per_s=None, bytes_per_param=2.0,
                     kv_bytes_per_sequence=0.0):
    """Roofline time (s) of one decode step that generates one token for each of ``batch_size``
    sequences: max(compute, memory) = max(2·N·b / peak, (N·bytes_per_param + b·kv) / bandwidth).

    Assumes weights are read once per step, each sequence reads ``kv_bytes_per_sequence`` of KV
    cache, 2·N FLOP per token, perfect overlap of compute and memory traffic. Accepts arrays.
    Peak and bandwidth default (None) to the H100 SXM's datasheet figures in datasets/hardware.csv.
    """
    peak_flops_per_s, memory_bandwidth_bytes_per_s = _h100(peak_flops_per_s, memory_bandwidth_bytes_per_s)
    b = positive("batch_size", batch_size, "sequences", array=True)
    n = positive("n_params", n_params, "parameters")
    peak = positive("peak_flops_per_s", peak_flops_per_s, "FLOP/s")
    bw = positive("memory_bandwidth_bytes_per_s", memory_bandwidth_bytes_per_s, "bytes/s")
    bpp = positive("bytes_per_param", bytes_per_param, "bytes")
    kv = nonnegative("kv_bytes_per_sequence", kv_bytes_per_sequence, "bytes")
    return np.maximum(2.0 * n * b / peak, (n * bpp + b * kv) / bw)


def decode_utilization(batch_size, n_params=7e9, *, peak_flops_per_s=None,
                       memory_bandwidth_bytes_per_s=None, bytes_per_param=2.0,
                       kv_bytes_per_sequence=0.0):
    """Fraction of peak FLOP/s a decode step uses: useful FLOPs / (peak × roofline step time).

    With BF16 weights (2 bytes per parameter) and no KV cache this is min(1, b / critical
    intensity): a batch of b reads each weight once for 2·b FLOPs, an arithmetic intensity of b
    FLOP/byte — far below an H100's ≈ 295, which is why decoding sits in the low tens of percent.
    """
    peak_flops_per_s, memory_bandwidth_bytes_per_s = _h100(peak_flops_per_s, memory_bandwidth_bytes_per_s)
    t = decode_step_time(batch_size, n_params, peak_flops_per_s=peak_flops_per_s,
                         memory_bandwidth_bytes_per_s=memory_bandwidth_bytes_per_s,
                         bytes_per_param=bytes_per_param, kv_bytes_per_sequence=kv_bytes_per_sequence)
    return 2.0 * float(n_params) * np.asarray(batch_size, dtype=float) / (float(peak_flops_per_s) * t)


def plot_decode_roofline(n_params=7e9, *, kv_bytes_per_sequence=(0.0,), ax=None,
                         peak_flops_per_s=None, memory_bandwidth_bytes_per_s=None):
    """Decode utilization vs batch size, with the b / critical-intensity line."""
    ax, fig = _axes(ax, (7, 4))
    b = np.unique(np.round(np.logspace(0, 10, 200, base=2) * 1).astype(int))
    b = np.unique(np.concatenate([b, np.arange(1, 1025)]))
    ic = float(critical_intensity(peak_flops_per_s, memory_bandwidth_bytes_per_s))
    for k, kv in enumerate(np.atleast_1d(kv_bytes_per_sequence)):
        u = decode_utilization(b, n_params, peak_flops_per_s=peak_flops_per_s,
                               memory_bandwidth_bytes_per_s=memory_bandwidth_bytes_per_s,
                               kv_bytes_per_sequence=float(kv))
        label = "roofline, no KV cache" if kv == 0 else f"roofline, {kv / 1e9:.2g} GB KV cache per sequence"
        ax.plot(b, u, color=f"C{k}", lw=2, label=label)
    ax.plot(b, np.minimum(1, b / ic), "k:", lw=1, label=f"b / critical intensity ({ic:.0f} FLOP/byte)")
    _plain_log_axis(ax, "x", 4 ** np.arange(0, 6))
    ax.set(xlabel="decode batch size b (sequences)", ylabel="fraction of peak FLOP/s", ylim=(0, 1.05),
           title=f"Decoding is memory-bound: {n_params / 1e9:.0f}B parameters, BF16, H100 roofline")
    ax.legend(fontsize=8, loc="upper left")
    return fig


# --- queueing twins --------------------------------------------------------------------------
def _rho(arrival_rate, service_time):
    lam = positive("arrival_rate", arrival_rate, "requests/s", array=True)
    s = positive("service_time", service_time, "s", array=True)
    rho = lam * s
    if np.any(rho >= 1):
        raise ValueError(f"the queue is unstable: arrival_rate × service_time = {np.max(rho):.3g} ≥ 1 "
                         "(requests arrive faster than the server can finish them; the wait grows without bound)")
    return lam, s, rho


def mm1_wait(arrival_rate, service_time):
    """M/M/1 mean time in queue (s): ρ·S / (1 − ρ), ρ = λ·S (Poisson arrivals, exponential service)."""
    _, s, rho = _rho(arrival_rate, service_time)
    return rho * s / (1 - rho)


def md1_wait(arrival_rate, service_time):
    """M/D/1 mean time in queue (s): ρ·S / (2(1 − ρ)) — half of M/M/1 (fixed service time)."""
    _, s, rho = _rho(arrival_rate, service_time)
    return rho * s / (2 * (1 - rho))


def mg1_wait(arrival_rate, service_time, service_cv):
    """M/G/1 mean time in queue (Pollaczek–Khinchine): ρ·S·(1 + cv²) / (2(1 − ρ))."""
    _, s, rho = _rho(arrival_rate, service_time)
    cv = nonnegative("service_cv", service_cv, "coefficient of variation", array=True)
    return rho * s * (1 + cv**2) / (2 * (1 - rho))


def mmc_wait(arrival_rate, service_time, n_servers):
    """M/M/c mean time in queue (Erlang C): C(c, a) · S / (c − a), a = λ·S offered load in servers."""
    lam = positive("arrival_rate", arrival_rate, "requests/s")
    s = positive("service_time", service_time, "s")
    c = integer("n_servers", n_servers, minimum=1)
    a = lam * s
    if a >= c:
        raise ValueError(f"the queue is unstable: offered load {a:.3g} ≥ {c} servers")
    # Erlang B by the stable recursion, then Erlang C
    b = 1.0
    for k in range(1, c + 1):
        b = a * b / (k + a * b)
    erlang_c = b / (1 - (a / c) * (1 - b))
    return erlang_c * s / (c - a)


# --- the serving simulation -------------------------------------------------------------------
_POLICIES = ("static", "dynamic", "continuous")


@dataclass
class ServingResult:
    """What :func:`simulate_serving` returns. Per-request arrays are in arrival order (s)."""
    policy: str
    arrival_rate: float
    max_batch: int
    max_wait: float
    arrival: np.ndarray
    start: np.ndarray            # when the request joined a running batch
    finish: np.ndarray           # when its response was complete
    tokens: np.ndarray           # output tokens (decode steps) each request needed
    batch_start: np.ndarray      # GPU segments: a fixed batch running for some steps
    batch_end: np.ndarray
    batch_size: np.ndarray
    useful_flops: float          # 2·N per generated token, padding excluded
    peak_flops_per_s: float
    single_step_time: float      # decode step time at batch 1 (s)
    timeline: Timeline
    n_events: int

    @property
    def latency(self):
        return self.finish - self.arrival

    @property
    def wait(self):
        return self.start - self.arrival

    @property
    def makespan(self):
        return float(self.finish.max())

    @property
    def throughput(self):
        """Completed requests per second over the run."""
        return len(self.finish) / self.makespan

    @property
    def token_throughput(self):
        return float(self.tokens.sum()) / self.makespan

    @property
    def mean_latency(self):
        return float(np.mean(self.latency))

    @property
    def mean_wait(self):
        return float(np.mean(self.wait))

    @property
    def p50_latency(self):
        return _quantile(self.latency, 0.50)

    @property
    def p99_latency(self):
        return _quantile(self.latency, 0.99)

    @property
    def busy_fraction(self):
        """Share of time the GPU ran a batch — 'busy' even when a batch of 1 uses 0.3 % of it."""
        return self.timeline.utilization

    @property
    def gpu_utilization(self):
        """Useful FLOPs / (peak FLOP/s × makespan): the serving analogue of MFU."""
        return self.useful_flops / (self.peak_flops_per_s * self.makespan)

    @property
    def mean_batch(self):
        d = self.batch_end - self.batch_start
        return float(np.sum(self.batch_size * d) / np.sum(d)) if len(d) else 0.0

    def summary(self):
        return (f"{self.policy:>10}: {self.throughput:6.2f} req/s, latency p50 {self.p50_latency:6.2f} s, "
                f"p99 {self.p99_latency:6.2f} s, mean batch {self.mean_batch:5.1f}, "
                f"busy {self.busy_fraction:4.0%}, FLOP utilization {self.gpu_utilization:5.1%}")


def _serve_batches(env, state, queue, max_batch, max_wait, static, step_time, tokens, rec):
    """Static / dynamic (request-level) batching: a batch runs until its longest request is done."""
    arrival, start, finish, segments = rec["arrival"], rec["start"], rec["finish"], rec["segments"]
    n = len(tokens)
    served = 0
    while served < n:
        if not queue:
            state["need"], state["event"] = 1, env.event()
            yield state["event"]
        deadline = math.inf if static else arrival[queue[0]] + max_wait
        while len(queue) < max_batch and env.now < deadline and not state["done"]:
            state["need"], state["event"] = max_batch, env.event()
            if deadline == math.inf:
                yield state["event"]
            else:
                yield env.any_of([state["event"], env.timeout(deadline - env.now)])
            state["event"] = None
        b = min(max_batch, len(queue))
        batch = [queue.popleft() for _ in range(b)]
        t0 = env.now
        yield env.timeout(max([tokens[i] for i in batch]) * step_time(b))
        t1 = env.now
        for i in batch:
            start[i] = t0
            finish[i] = t1
        segments.append((t0, t1, b))
        served += b


def _serve_continuous(env, state, queue, max_batch, step_time, tokens, rec):
    """Continuous (iteration-level) batching: requests join and leave at every decode step.

    While the batch has room the server sleeps until the first step boundary after the next
    scheduled arrival (arrival times are drawn up front), so it needs one event per change of the
    batch rather than one per decode step.
    """
    import heapq

    arrival_at, start, finish, segments = rec["arrival"], rec["start"], rec["finish"], rec["segments"]
    n = len(tokens)
    running = []          # heap of (decode step at which the request finishes, request)
    step = 0              # decode steps run so far
    served = admitted = 0
    while served < n:
        while queue and len(running) < max_batch:
            admitted += 1
            i = queue.popleft()
            start[i] = env.now
            heapq.heappush(running, (step + tokens[i], i))
        if not running:
            state["need"], state["event"] = 1, env.event()
            yield state["event"]
            continue
        b = len(running)
        tau = step_time(b)
        k = running[0][0] - step                    # steps until the first sequence finishes
        nxt = admitted + len(queue)                 # the next request to arrive
        if b < max_batch and nxt < n:               # a newcomer joins at the boundary after it arrives
            k = min(k, max(1, math.ceil((arrival_at[nxt] - env.now) / tau - 1e-9)))
        t0 = env.now
        yield env.timeout(k * tau)
        step += k
        segments.append((t0, env.now, b))
        while running and running[0][0] <= step:
            finish[heapq.heappop(running)[1]] = env.now
            served += 1


def _arrive(env, gaps, queue, state):
    """Poisson arrivals: each request joins the queue; wake the server when it is waiting for it."""
    timeout = env.timeout
    for i, gap in enumerate(gaps):
        yield timeout(gap)
        queue.append(i)
        ev = state["event"]
        if ev is not None and len(queue) >= state["need"]:
            state["event"] = None
            ev.succeed()
    state["done"] = True
    ev = state["event"]
    if ev is not None:
        state["event"] = None
        ev.succeed()


def simulate_serving(arrival_rate, *, max_batch=8, max_wait=0.05, policy="dynamic", n_requests=2000,
                     mean_tokens=100, tokens="geometric", n_params=7e9, bytes_per_param=2.0,
                     kv_bytes_per_sequence=0.0, peak_flops_per_s=None,
                     memory_bandwidth_bytes_per_s=None, seed=0):
    """Simulate an LLM decode server with batching; return :class:`ServingResult`.

    Requests arrive as a Poisson process (``arrival_rate`` per second) and each needs a number of
    output tokens (``tokens``: "geometric" with mean ``mean_tokens`` — memoryless, the discrete
    exponential — or "fixed"). One decode step generates a token for every sequence in the batch
    and takes the roofline time :func:`decode_step_time` (weights read once per step).
    Policies:

    - ``"static"``: wait until ``max_batch`` requests are queued (``max_wait`` ignored), run the
      batch until its longest request is done; every response returns at the end.
    - ``"dynamic"``: start a batch as soon as ``max_batch`` are queued *or* the oldest has waited
      ``max_wait`` seconds; otherwise as static (request-level batching, as in Triton).
    - ``"continuous"``: iteration-level scheduling (Orca, vLLM): waiting requests join at the next
      step while fewer than ``max_batch`` run, and finished ones leave at once (``max_wait`` unused).

    Assumptions: prefill is not modelled (or folded into the token count); memory always fits
    ``max_batch`` sequences; one GPU (peak and bandwidth default to the H100 SXM row of
    datasets/hardware.csv). With ``max_batch=1`` the server is an M/G/1 queue with service
    time tokens × decode_step_time(1): fixed tokens give M/D/1 (:func:`md1_wait`), geometric tokens
    ≈ M/M/1 (:func:`mm1_wait`, exact via :func:`mg1_wait` with cv² = 1 − 1/mean_tokens).
    """
    peak_flops_per_s, memory_bandwidth_bytes_per_s = _h100(peak_flops_per_s, memory_bandwidth_bytes_per_s)
    import collections

    import simpy

    lam = positive("arrival_rate", arrival_rate, "requests/s")
    max_batch = integer("max_batch", max_batch, minimum=1, maximum=100_000)
    max_wait = nonnegative("max_wait", max_wait, "s", finite=False)
    choice("policy", policy, _POLICIES)
    n = integer("n_requests", n_requests, minimum=1, maximum=5_000_000)
    mean_tokens = positive("mean_tokens", mean_tokens, "tokens")
    if mean_tokens < 1:
        raise ValueError(f"mean_tokens must be at least 1 (one decode step), got {mean_tokens}")
    choice("tokens", tokens, ("geometric", "fixed"))
    rng = np.random.default_rng(integer("seed", seed, minimum=0))
    gaps = rng.exponential(1.0 / lam, n)
    if tokens == "fixed":
        if mean_tokens != round(mean_tokens):
            raise ValueError(f"mean_tokens must be a whole number for fixed lengths, got {mean_tokens}")
        need = np.full(n, int(mean_tokens))
    else:
        need = rng.geometric(1.0 / mean_tokens, n)
    kwargs = dict(peak_flops_per_s=peak_flops_per_s, memory_bandwidth_bytes_per_s=memory_bandwidth_bytes_per_s,
                  bytes_per_param=bytes_per_param, kv_bytes_per_sequence=kv_bytes_per_sequence)
    # one validated, vectorized call: the step time of every batch size the server can run
    table = decode_step_time(np.arange(1, min(max_batch, n) + 1), n_params, **kwargs).tolist()

    def step_time(b):
        return table[b - 1]

    env = simpy.Environment()
    queue = collections.deque()
    state = {"need": 1, "event": None, "done": False}
    arrival = np.cumsum(gaps)       # the same sums simpy's clock makes, in the same order
    rec = {"arrival": arrival.tolist(), "start": [0.0] * n, "finish": [0.0] * n, "segments": []}
    need_list = need.tolist()
    env.process(_arrive(env, gaps.tolist(), queue, state))
    if policy == "continuous":
        env.process(_serve_continuous(env, state, queue, max_batch, step_time, need_list, rec))
    else:
        env.process(_serve_batches(env, state, queue, max_batch, max_wait, policy == "static", step_time,
                                   need_list, rec))
    env.run()
    seg = np.array(rec["segments"], dtype=float).reshape(-1, 3)
    return ServingResult(
        policy=policy, arrival_rate=lam, max_batch=max_batch, max_wait=max_wait,
        arrival=arrival, start=np.array(rec["start"]), finish=np.array(rec["finish"]),
        tokens=need.astype(float),
        batch_start=seg[:, 0], batch_end=seg[:, 1], batch_size=seg[:, 2].astype(int),
        useful_flops=2.0 * float(n_params) * float(need.sum()), peak_flops_per_s=float(peak_flops_per_s),
        single_step_time=step_time(1), timeline=Timeline.from_busy(seg[:, 0], seg[:, 1]),
        n_events=_events(env, 3 * n))


def serving_sweep(arrival_rate, max_batches, *, policies=_POLICIES, **kwargs):
    """Run :func:`simulate_serving` for each policy and batch limit: {policy: [results]}."""
    return {p: [simulate_serving(arrival_rate, max_batch=int(b), policy=p, **kwargs) for b in max_batches]
            for p in policies}


def plot_serving_tradeoff(sweep, fig=None):
    """Three panels against the batch limit for each policy of a :func:`serving_sweep`:
    throughput, p99 latency (p50 dashed) and FLOP utilization."""
    if fig is None:
        import matplotlib.pyplot as plt
        fig = plt.figure(figsize=(9, 3.3))
    axes = [fig.add_subplot(1, 3, k + 1) for k in range(3)]
    for k, (policy, results) in enumerate(sweep.items()):
        b = [r.max_batch for r in results]
        axes[0].plot(b, [r.throughput for r in results], "o-", color=f"C{k}", label=policy)
        axes[1].plot(b, [r.p99_latency for r in results], "o-", color=f"C{k}", label=f"{policy} p99")
        axes[1].plot(b, [r.p50_latency for r in results], "--", color=f"C{k}", lw=1)
        axes[2].plot(b, [r.gpu_utilization * 100 for r in results], "o-", color=f"C{k}")
    rate = next(iter(sweep.values()))[0].arrival_rate
    axes[0].axhline(rate, color="grey", ls=":", lw=1)
    axes[0].text(1, rate * 0.97, "offered load", color="grey", fontsize=7, va="top")
    lat = [v for rs in sweep.values() for r in rs for v in (r.p50_latency, r.p99_latency)]
    _plain_log_axis(axes[1], "y", [t for t in (0.1, 0.3, 1, 3, 10, 30, 100, 300, 1000, 3000)
                                   if min(lat) / 3 <= t <= max(lat) * 3])
    ticks = sorted({r.max_batch for rs in sweep.values() for r in rs})
    for ax, title in zip(axes, ("throughput (requests/s)", "latency (s): p99, p50 dashed",
                                "FLOP utilization (% of peak)")):
        _plain_log_axis(ax, "x", ticks)
        ax.set_xlabel("max batch")
        ax.set_title(title, fontsize=9)
    axes[0].set_ylim(bottom=0)
    axes[2].set_ylim(bottom=0)
    axes[0].legend(fontsize=7, loc="lower right")
    fig.suptitle(f"Batching at {rate:g} requests/s", fontsize=10)
    fig.subplots_adjust(left=0.07, right=0.98, bottom=0.17, top=0.82, wspace=0.35)
    return fig


_LATENCY_LIMITS = (0.003, 300.0)      # s: covers every explorer setting (4 ms = one decode step … ≈ 140 s)


def _build_serving_snapshot(ax_latency, ax_bars, policies=_POLICIES):
    """Axes and artists of :func:`plot_serving_snapshot` with fixed limits; returns their handles.

    ``h["moving"]`` lists the artists an update changes; everything else never changes.
    """
    h = {"cdf": [], "p99": [], "labels": []}
    for k, policy in enumerate(policies):
        h["cdf"] += ax_latency.plot([], [], color=f"C{k}", label=policy)
        h["p99"].append(ax_latency.axvline(1.0, color=f"C{k}", ls=":", lw=1))
    _plain_log_axis(ax_latency, "x", 10.0 ** np.arange(-3, 5))
    ax_latency.set(xlabel="latency (s)", ylabel="fraction of requests", xlim=_LATENCY_LIMITS,
                   ylim=(0, 1.01), yticks=[0, 0.5, 1], yticklabels=["0", "0.5", "1"])
    ax_latency.set_title("latency CDF (dotted: p99)", fontsize=9)
    ax_latency.legend(fontsize=7, loc="upper left")
    x = np.arange(len(policies))
    h["bars"] = list(ax_bars.bar(x, np.zeros(len(policies)), 0.6, color=[f"C{k}" for k in x], alpha=0.5))
    h["labels"] = [ax_bars.text(k, 2, "", ha="center", va="bottom", fontsize=7) for k in x]
    ax_bars.axhline(100, color="grey", ls=":", lw=1)
    ax_bars.text(-0.65, 100, "100 %", color="grey", fontsize=7, ha="right", va="center")
    ax_bars.set_xticks(x, list(policies), fontsize=8)
    ax_bars.set(xlim=(-0.6, len(policies) - 0.4), ylim=(0, 125), yticks=[])
    ax_bars.set_title("GPU busy (bars) vs FLOP utilization (%)", fontsize=9)
    h["moving"] = [*h["cdf"], *h["p99"], *h["bars"], *h["labels"]]
    return h


def _update_serving_snapshot(h, results):
    """Put ``results`` (one per policy, in the build order) into the handles of the snapshot."""
    for k, r in enumerate(results):
        lat = np.sort(r.latency)
        h["cdf"][k].set_data(lat, np.arange(len(lat)) / len(lat))
        h["p99"][k].set_xdata([r.p99_latency, r.p99_latency])
        busy = r.busy_fraction * 100
        h["bars"][k].set_height(busy)
        h["labels"][k].set_y(busy + 2)
        h["labels"][k].set_text(f"busy {r.busy_fraction:.0%}\nFLOPs {r.gpu_utilization:.1%}")


def plot_serving_snapshot(results, ax_latency, ax_bars):
    """Latency CDFs of several :class:`ServingResult` (log time axis, dotted p99), and GPU busy
    time (bars) against FLOP utilization (labels). Returns the artists' handles for updates."""
    h = _build_serving_snapshot(ax_latency, ax_bars, tuple(r.policy for r in results))
    _update_serving_snapshot(h, results)
    lo, hi = min(r.latency.min() for r in results), max(r.latency.max() for r in results)
    ax_latency.set_xlim(min(lo / 1.5, _LATENCY_LIMITS[0]), max(hi * 1.5, _LATENCY_LIMITS[1]))
    return h


@functools.lru_cache(maxsize=256)
def _explorer_runs(arrival_rate, max_batch, max_wait, n_requests, seed):
    return tuple(simulate_serving(arrival_rate, max_batch=max_batch, max_wait=max_wait, policy=p,
                                  n_requests=n_requests, seed=seed) for p in _POLICIES)


def draw_serving(fig, arrival_rate=10.0, max_batch=16, max_wait=0.05, n_requests=200, seed=1, blit=False):
    """Explorer draw function: the three batching policies at one setting (small, cached runs).

    Retained: the first call on an empty figure builds the two panels (fixed limits that cover every
    slider setting); later calls update the curves, bars, labels and title in place. ``blit=True``
    (the explorer): also freeze the unchanging parts into a background picture
    (:func:`labkit.explore.freeze_background`).
    """
    runs = _explorer_runs(round(float(arrival_rate), 6), int(max_batch), round(float(max_wait), 6),
                          int(n_requests), int(seed))
    h = getattr(fig, "_labkit", None) if fig.axes else None
    if h is None:
        h = _build_serving_snapshot(fig.add_subplot(1, 2, 1), fig.add_subplot(1, 2, 2))
        h["title"] = fig.suptitle("", fontsize=9)
        h["moving"].append(h["title"])
        fig.subplots_adjust(left=0.08, right=0.98, bottom=0.14, top=0.82, wspace=0.25)
        fig._labkit = h
        if blit:
            freeze_background(fig, h["moving"])
    _update_serving_snapshot(h, runs)
    setting = f"{arrival_rate:.3g} requests/s, max batch {int(max_batch)}, max wait {max_wait * 1e3:.0f} ms"
    h["title"].set_text(setting)
    return "\n".join([f"{setting} ({n_requests} requests, 7B model on an H100 roofline)"] +
                     [r.summary() for r in runs])


def serving_explorer(arrival_rate=10.0, max_batch=16, max_wait=0.05):
    """Sliders for arrival rate, batch limit and wait limit over :func:`draw_serving`
    (retained and blitted: ≈ 30–60 ms per slider move)."""
    from .core.explore import explorer, int_slider, slider
    return explorer(functools.partial(draw_serving, blit=True),
                    title="Serving: static vs dynamic vs continuous batching (200 requests, 7B model, H100 roofline)",
                    figsize=(8, 3.6), retained=True,
                    arrival_rate=slider(arrival_rate, 0.5, 40, 0.5, "arrival rate (req/s)"),
                    max_batch=int_slider(max_batch, 1, 64, 1, "max batch"),
                    max_wait=slider(max_wait, 0.0, 0.5, 0.01, "max wait (s)"))


# =============================================================================================
# 5. Cluster scheduling: FIFO vs EASY backfilling (simpy)
# =============================================================================================
@dataclass
class JobTrace:
    """A job trace: submit time (s), GPUs requested, true runtime (s) and the user's estimate (s)."""
    submit: np.ndarray
    gpus: np.ndarray
    runtime: np.ndarray
    estimate: np.ndarray

    def __len__(self):
        return len(self.submit)

    @property
    def gpu_seconds(self):
        return float(np.sum(self.gpus * self.runtime))


# Job sizes: most jobs are small, a few take many GPUs (shape as in published cluster traces,
# e.g. Jeon et al. 2019 (Philly) and Hu et al. 2021 (Helios); illustrative, not fitted).
_SIZES = np.array([1, 2, 4, 8, 16, 32])
_SIZE_WEIGHTS = np.array([0.45, 0.15, 0.15, 0.13, 0.08, 0.04])


def make_job_trace(n_jobs=200, *, n_gpus=64, load=0.9, mean_runtime=3600.0, runtime="lognormal",
                   runtime_sigma=1.0, sizes=None, overestimate=1.0, limit_fraction=0.0, seed=0):
    """A synthetic job trace with Poisson arrivals sized to offer ``load`` × ``n_gpus`` of work.

    ``sizes``: None for a mix of 1–32 GPUs (mostly small; capped at ``n_gpus``), or a whole number
    for uniform jobs. ``runtime``: "lognormal" (σ = ``runtime_sigma`` in log space) or "exponential",
    mean ``mean_runtime`` s. Runtime estimates: runtime × ``overestimate`` (1 = exact), except that a
    random ``limit_fraction`` of jobs ask for the site's limit (here the trace's longest estimate) —
    real estimates are modal like that (Tsafrir & Feitelson 2006).
    """
    n_jobs = integer("n_jobs", n_jobs, minimum=1, maximum=1_000_000)
    n_gpus = integer("n_gpus", n_gpus, minimum=1)
    load = positive("load", load, "fraction of the cluster")
    mean_runtime = positive("mean_runtime", mean_runtime, "s")
    choice("runtime", runtime, ("lognormal", "exponential"))
    sigma = nonnegative("runtime_sigma", runtime_sigma, "")
    overestimate = positive("overestimate", overestimate, "")
    limit_fraction = fraction("limit_fraction", limit_fraction)
    if overestimate < 1:
        raise ValueError(f"overestimate must be at least 1 (estimates are upper bounds), got {overestimate}")
    rng = np.random.default_rng(integer("seed", seed, minimum=0))
    if sizes is None:
        ok = _SIZES <= n_gpus
        weights = _SIZE_WEIGHTS[ok] / _SIZE_WEIGHTS[ok].sum()
        gpus = rng.choice(_SIZES[ok], size=n_jobs, p=weights)
        mean_gpus = float(np.sum(weights * _SIZES[ok]))
    else:
        gpus = np.full(n_jobs, integer("sizes", sizes, minimum=1, maximum=n_gpus))
        mean_gpus = float(gpus[0])
    if runtime == "exponential":
        rt = rng.exponential(mean_runtime, n_jobs)
    else:
        rt = rng.lognormal(math.log(mean_runtime) - sigma**2 / 2, sigma, n_jobs)
    rate = load * n_gpus / (mean_gpus * mean_runtime)     # offered GPU-seconds per second = load × n_gpus
    submit = np.cumsum(rng.exponential(1.0 / rate, n_jobs))
    estimate = rt * overestimate
    at_limit = rng.random(n_jobs) < limit_fraction
    estimate[at_limit] = estimate.max()
    return JobTrace(submit, gpus.astype(int), rt, estimate)


@dataclass
class SchedulerResult:
    """What :func:`simulate_scheduler` returns (times in s)."""
    policy: str
    n_gpus: int
    jobs: JobTrace
    start: np.ndarray
    end: np.ndarray
    times: np.ndarray            # GPUs in use: a step function, value gpus_in_use[i] from times[i]
    gpus_in_use: np.ndarray
    timeline: Timeline           # cluster busy (any GPU in use) / fully idle
    n_events: int

    @property
    def wait(self):
        return self.start - self.jobs.submit

    @property
    def mean_wait(self):
        return float(np.mean(self.wait))

    @property
    def p95_wait(self):
        return _quantile(self.wait, 0.95)

    @property
    def makespan(self):
        return float(self.end.max())

    @property
    def utilization(self):
        """GPU-seconds of work / (GPUs × time from first submission to last completion)."""
        span = self.makespan - float(self.jobs.submit.min())
        return self.jobs.gpu_seconds / (self.n_gpus * span)

    @property
    def mean_slowdown(self):
        """Mean of (wait + runtime) / runtime: how much longer jobs took than on an empty cluster."""
        return float(np.mean((self.end - self.jobs.submit) / self.jobs.runtime))

    def utilization_until(self, t_end):
        """Mean fraction of GPUs in use over [first submission, t_end]."""
        t0 = float(self.jobs.submit.min())
        edges = np.clip(np.append(self.times, self.makespan), t0, t_end)
        return float(np.sum(self.gpus_in_use * np.diff(edges)) / (self.n_gpus * (t_end - t0)))


def _easy_backfill(now, free, queue, gpus, estimate, running):
    """Jobs (from ``queue[1:]``) that may start now without delaying the head job's reservation.

    EASY: the head gets a reservation at the "shadow time" when enough running jobs (by their
    estimated ends) will have freed its GPUs; the GPUs left over then are "extra". A later job
    may start now if it fits and either ends (by estimate) before the shadow time or uses only
    extra GPUs.
    """
    chosen, shadow, extra = [], None, 0
    for j in queue[1:]:
        g = gpus[j]
        if g > free:
            continue
        if shadow is None:          # the head's reservation, computed only when a candidate fits
            need, avail, shadow = gpus[queue[0]], free, math.inf
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


def simulate_scheduler(jobs, n_gpus, *, policy="fifo"):
    """Schedule a :class:`JobTrace` on ``n_gpus`` GPUs; return :class:`SchedulerResult`.

    ``"fifo"``: start jobs strictly in submission order; a job that does not fit blocks all behind it.
    ``"backfill"``: EASY backfilling (Lifka 1995): the head job gets a reservation at the earliest
    time enough GPUs free up (from running jobs' *estimated* ends); later jobs may jump ahead if
    they fit now and either end (by estimate) before that reservation or use only GPUs the head
    will not need. Jobs run for their true runtime and are never preempted; GPUs are
    interchangeable (no topology or locality constraints). For single-GPU jobs with exponential
    runtimes FIFO is an M/M/c queue: twin :func:`mmc_wait`.
    """
    import simpy

    if not isinstance(jobs, JobTrace):
        raise TypeError(f"jobs must be a JobTrace (see make_job_trace), got {type(jobs).__name__}")
    n_gpus = integer("n_gpus", n_gpus, minimum=1)
    choice("policy", policy, ("fifo", "backfill"))
    if len(jobs) == 0:
        raise ValueError("the job trace is empty")
    if np.any(jobs.gpus > n_gpus) or np.any(jobs.gpus < 1):
        raise ValueError(f"every job must ask for 1 to {n_gpus} GPUs; the trace has {int(jobs.gpus.min())} "
                         f"to {int(jobs.gpus.max())}")
    if np.any(~(jobs.runtime > 0)) or np.any(~np.isfinite(jobs.runtime)):
        raise ValueError("job runtimes must be positive finite seconds")
    if np.any(~(jobs.estimate >= jobs.runtime)):
        raise ValueError("job estimates must be at least their runtimes (estimates are upper bounds)")
    n = len(jobs)
    order = np.argsort(jobs.submit, kind="stable")
    gpus, runtime, estimate = jobs.gpus.tolist(), jobs.runtime.tolist(), jobs.estimate.tolist()
    submitted = jobs.submit.tolist()
    env = simpy.Environment()
    start, end = [math.nan] * n, [math.nan] * n
    queue = []                      # waiting jobs in submission order
    running = {}                    # job -> (estimated end, GPUs)
    free = [n_gpus]
    times, in_use = [0.0], [0]
    backfill = policy == "backfill"

    def launch(j):
        start[j] = env.now
        free[0] -= gpus[j]
        running[j] = (env.now + estimate[j], gpus[j])
        env.process(_job(env, j, runtime[j], job_ended))

    def schedule():
        while queue and gpus[queue[0]] <= free[0]:
            launch(queue.pop(0))
        if backfill and queue and free[0] > 0:
            for j in _easy_backfill(env.now, free[0], queue, gpus, estimate, running):
                queue.remove(j)
                launch(j)
        if n_gpus - free[0] != in_use[-1]:
            times.append(env.now)
            in_use.append(n_gpus - free[0])

    def job_ended(j):
        end[j] = env.now
        free[0] += gpus[j]
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
    return SchedulerResult(policy, n_gpus, jobs, np.array(start), end_arr, t, g,
                           Timeline.from_busy(edges[:-1][busy], edges[1:][busy], edges[-1]),
                           _events(env, 3 * n))


def plot_scheduler(results, ax=None, until=None):
    """GPUs in use over time for each :class:`SchedulerResult` (e.g. FIFO and backfilling)."""
    ax, fig = _axes(ax, (7.5, 3.5))
    for k, r in enumerate(results):
        ax.step(r.times / 3600, r.gpus_in_use, where="post", color=f"C{k}", lw=1.2,
                label=f"{r.policy}: utilization {r.utilization:.0%}, mean wait {r.mean_wait / 3600:.1f} h")
    ax.axhline(results[0].n_gpus, color="grey", ls=":", lw=1)
    if until is not None:
        ax.set_xlim(0, until / 3600)
    ax.set(xlabel="time (h)", ylabel="GPUs in use", title=f"A {results[0].n_gpus}-GPU cluster, same job trace")
    ax.legend(fontsize=8, loc="lower right")
    return fig
