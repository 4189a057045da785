"""The input pipeline: loader workers feeding one GPU (simpy), and its analytic twin
min(1, n · step_time / load_time)."""

import math
from dataclasses import dataclass

import numpy as np

from ..core.plotting import MARKERS, PALETTE, new_axes
from ..core.timeline import Timeline
from ..core.validate import counts, finite_result, fraction, integer, nonnegative, positive, sequence, text
from ._sim import events

#: Largest coefficient of variation of a load time the model takes (gamma-distributed).
MAX_JITTER = 10.0


def input_pipeline_utilization(n_workers, load_time, step_time):
    """Analytic twin: steady loaders deliver n/load_time batches/s, the GPU eats 1/step_time.

    GPU utilization ≈ min(1, n_workers · step_time / load_time). Assumes constant load times and
    enough prefetch to cover the start; ignores the first batch's wait. Accepts arrays.
    """
    n = counts("n_workers", n_workers)
    L = positive("load_time", load_time, "s", array=True)
    s = positive("step_time", step_time, "s", array=True)
    with np.errstate(over="ignore"):
        out = np.minimum(1.0, n * s / L)
    return finite_result(out, "the utilization", "n_workers", "load_time", "step_time")


def loaders_needed(load_time, step_time, target=0.95):
    """Fewest steady loader workers that keep the GPU at least ``target`` busy (analytic twin)."""
    L = positive("load_time", load_time, "s")
    s = positive("step_time", step_time, "s")
    target = fraction("target", target, allow_zero=False)
    with np.errstate(over="ignore"):
        ratio = target * L / s
    finite_result(ratio, "the number of loaders", "load_time", "step_time")
    if ratio > 1e15:
        raise ValueError(f"load_time / step_time = {L / s:.3g}: no pool of loaders that large exists; "
                         "check the units of load_time and step_time (both in s)")
    return max(1, math.ceil(ratio - 1e-9))


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
    timeline: Timeline          # GPU busy/idle intervals over [0, makespan] (labkit.core.timeline)
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
    The result's ``.timeline`` (a :class:`labkit.core.timeline.Timeline`, states idle/busy) holds the
    GPU's busy and idle intervals, which chapter 06 prices in joules.
    """
    import simpy

    n_workers = integer("n_workers", n_workers, minimum=1)
    load_time = positive("load_time", load_time, "s")
    step_time = positive("step_time", step_time, "s")
    prefetch = integer("prefetch", prefetch, minimum=1)
    n_steps = integer("n_steps", n_steps, minimum=1, maximum=2_000_000)
    load_jitter = nonnegative("load_jitter", load_jitter, "coefficient of variation", maximum=MAX_JITTER)
    rng = np.random.default_rng(integer("seed", seed, minimum=0))
    with np.errstate(over="ignore"):
        longest = (load_time * (1 + 10 * load_jitter) + step_time) * n_steps
    finite_result(longest, "the run's length", "load_time", "step_time", "n_steps")
    if load_jitter > 0:
        shape = 1.0 / load_jitter**2
        loads = rng.gamma(shape, load_time / shape, size=n_steps)
    else:
        loads = np.full(n_steps, load_time)
    finite_result(np.sum(loads), "the run's length", "load_time", "load_jitter", "n_steps")

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
        load_times=loads, timeline=Timeline.from_busy(start, end), n_events=events(env, 4 * n_steps))


def _timeline_of(result):
    """The core Timeline of a simulation result (anything with ``.timeline``), or a Timeline itself."""
    tl = result if isinstance(result, Timeline) else getattr(result, "timeline", None)
    if not isinstance(tl, Timeline) or len(tl) == 0:
        raise TypeError(f"result must be a simulation result with a .timeline (e.g. from simulate_input_pipeline) "
                        f"or a labkit.core.timeline.Timeline, got {type(result).__name__}")
    return tl


def plot_gpu_timeline(result, ax=None, until=None, title=None):
    """Busy (green) and idle (vermillion, hatched) intervals of a result's ``.timeline`` up to ``until`` seconds."""
    tl = _timeline_of(result)
    until = None if until is None else positive("until", until, "s", finite=False)
    title = None if title is None else text("title", title)
    fig, ax = new_axes(ax, figsize=(7.5, 1.8))
    stop = tl.makespan if until is None else min(until, tl.makespan)
    keep = tl.start < stop
    for state, colour, hatch, label in ((True, PALETTE[2], "", "busy"), (False, PALETTE[3], "xx", "idle")):
        m = keep & (tl.busy == state)
        spans = [(a, min(b, stop) - a) for a, b in zip(tl.start[m], tl.end[m])]
        ax.broken_barh(spans, (0, 1), facecolor=colour, hatch=hatch, edgecolor="white", linewidth=0, label=label)
    ax.set(xlim=(0, stop), ylim=(0, 1), yticks=[], xlabel="time (s)")
    ax.set_title(title or f"GPU timeline: {tl.utilization:.0%} busy over the whole run", fontsize=10)
    ax.legend(loc="upper right", fontsize=7, ncol=2)
    return fig


def plot_loader_sweep(n_workers, load_time, step_time, *, jitters=(0.0, 0.5), prefetch=2,
                      n_steps=300, seed=0, ax=None, target=0.95):
    """Simulated GPU utilization vs number of loader workers, against the analytic twin.

    ``n_workers``: the worker counts to simulate (a list, up to 200 of them); ``jitters``: the load
    jitters (coefficients of variation) to simulate each at, up to 10 of them.
    """
    if isinstance(n_workers, range):
        n_workers = list(n_workers)
    n = np.atleast_1d(counts("n_workers", n_workers if np.ndim(n_workers) else [n_workers],
                             maximum=10**6)).astype(int)
    if len(n) > 200:
        raise ValueError(f"n_workers must hold at most 200 worker counts, got {len(n)}")
    load_time = positive("load_time", load_time, "s")
    step_time = positive("step_time", step_time, "s")
    jitters = [nonnegative("jitters", j, "coefficient of variation", maximum=MAX_JITTER)
               for j in sequence("jitters", jitters, maximum=10)]
    prefetch = integer("prefetch", prefetch, minimum=1)
    n_steps = integer("n_steps", n_steps, minimum=1, maximum=100_000)
    seed = integer("seed", seed, minimum=0)
    target = fraction("target", target)
    fig, ax = new_axes(ax, figsize=(7, 4))
    runs = [[simulate_input_pipeline(int(w), load_time, step_time, prefetch=prefetch, n_steps=n_steps,
                                     load_jitter=jit, seed=seed).gpu_utilization for w in n] for jit in jitters]
    grid = np.linspace(n.min(), n.max(), 200)
    ax.plot(grid, np.minimum(1, grid * step_time / load_time), "k-", lw=1.5,
            label="analytic: min(1, n·step/load)")
    for k, (jit, util) in enumerate(zip(jitters, runs)):
        ax.plot(n, util, MARKERS[k % len(MARKERS)], color=f"C{k}", label=f"simulated, load jitter {jit:.0%}")
    ax.axhline(target, color="grey", ls=":", lw=1)
    ax.text(n.min(), target + 0.01, f"{target:.0%}", color="grey", fontsize=8)
    ax.set(xlabel="loader workers", ylabel="GPU utilization", ylim=(0, 1.05),
           title=f"Feeding the GPU: load {load_time * 1e3:.0f} ms/batch, step {step_time * 1e3:.0f} ms")
    ax.legend(fontsize=8, loc="lower right")
    return fig
