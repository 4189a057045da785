"""A ring all-reduce link by link in simpy (exact by symmetry for repeating links), and the hierarchical
all-reduce's three phases simulated the same way."""

import math
from dataclasses import dataclass

import numpy as np

from .. import units as u
from ..core.validate import finite_result, fraction, integer, nonnegative, number, positive
from ._common import MAX_DEVICES, MAX_RESULT_MESSAGES, MAX_SIM_MESSAGES
from .collectives import _HIERARCHICAL_ARGS, bus_bandwidth, hierarchical_allreduce_phases, ring_allreduce_time


# ---------------------------------------------------------------------------------------------
# simpy: a ring of links, message by message
# ---------------------------------------------------------------------------------------------
@dataclass
class RingSimResult:
    """What simulate_ring_allreduce returns (times in s, bandwidths in bytes/s).

    ``busy_start[i, m]`` / ``busy_end[i, m]``: when link i (rank i → rank i+1) sent its m-th message;
    message m belongs to algorithm step ``step[m]`` and carries pipeline chunk ``chunk[m]``.
    ``utilization[i]``: the fraction of the run link i was busy.
    """
    time: float
    n: int
    nbytes: float
    chunks: int
    latency: float
    link_bandwidths_bytes_per_s: np.ndarray
    busy_start: np.ndarray
    busy_end: np.ndarray
    step: np.ndarray
    chunk: np.ndarray
    utilization: np.ndarray
    analytic_time: float
    n_events: int
    wall_seconds: float = 0.0
    simulated_links: int = 0

    @property
    def algbw(self):
        """nbytes / time (bytes/s); infinite for a run that took no time (one rank)."""
        return self.nbytes / self.time if self.time > 0 else math.inf

    @property
    def busbw(self):
        """nccl-tests' bus bandwidth of the run (bytes/s); 0 for one rank (nothing crosses a link)."""
        if self.n == 1:
            return 0.0
        return bus_bandwidth(self.nbytes, self.time, self.n) if self.time > 0 else math.inf

    @property
    def slowest_link(self):
        return int(np.argmin(self.link_bandwidths_bytes_per_s))

    def __repr__(self):
        return (f"<RingSimResult n={self.n} {u.fmt_bytes(self.nbytes)}: {u.fmt_seconds(self.time)} "
                f"(formula {u.fmt_seconds(self.analytic_time)}), busbw {u.fmt_bandwidth(self.busbw)}, "
                f"{self.n_events:,} events>")


def _run_rings(env, link_bw, steps, segment_bytes, chunks, latency, slowdown):
    """Start one simpy process per link for R independent rings; returns per-link start/duration lists.

    link_bw: (R, n) one-direction bandwidths; link (r, i) carries rank i → rank i+1 of ring r.
    Message m = step·chunks + chunk. A rank can forward (step s, chunk c) once it has received
    (s−1, c) from its upstream neighbour — the data dependency of ring reduce-scatter/all-gather.
    A link sends one message at a time, and each message occupies it for ``latency`` (the per-message
    cost α: software, NIC, first byte's flight) plus size/bandwidth; the message has arrived when that
    time is over. Returns per-link start times and busy durations, and which messages a link had to wait
    for (each such wait costs one wake-up event).
    """
    R, n = link_bw.shape
    M = steps * chunks
    chunk_bytes = segment_bytes / chunks
    starts = [[None] * n for _ in range(R)]
    ends = [[None] * n for _ in range(R)]
    arrived = [[[False] * M for _ in range(n)] for _ in range(R)]  # message m of link i reached rank i+1
    waiting = [[[None] * M for _ in range(n)] for _ in range(R)]   # link i waits for upstream message m

    def link(env, r, i):
        upstream, mine = arrived[r][(i - 1) % n], arrived[r][i]
        my_waiting, downstream_waiting = waiting[r][i], waiting[r][(i + 1) % n]
        if slowdown is None:  # no jitter: every message of this link takes as long
            durations = [latency + chunk_bytes / float(link_bw[r, i])] * M
        else:
            durations = (latency + chunk_bytes / link_bw[r, i] * slowdown[r, i]).tolist()
        start = starts[r][i] = [0.0] * M
        timeout, event = env.timeout, env.event
        last = M - chunks
        for m in range(M):
            if m >= chunks and not upstream[m - chunks]:  # steps ≥ 1 forward what came from upstream
                ev = my_waiting[m] = event()
                yield ev
            start[m] = env.now
            yield timeout(durations[m])
            if m < last:
                mine[m] = True
                pending = downstream_waiting[m + chunks]
                if pending is not None:  # the downstream link is already waiting: wake it now
                    pending.succeed()
        ends[r][i] = durations

    for r in range(R):
        for i in range(n):
            env.process(link(env, r, i))
    return starts, ends, waiting


def _simulate_rings(link_bw, steps, segment_bytes, chunks, latency, jitter, rng):
    """Run R rings (rows of link_bw) to completion: start/end arrays (R, n, M), total s, events, wall s."""
    import time as _time

    import simpy

    R, n = link_bw.shape
    M = steps * chunks
    slowdown = 1.0 + jitter * rng.exponential(1.0, size=(R, n, M)) if jitter > 0 else None
    env = simpy.Environment()
    t0 = _time.perf_counter()
    starts, ends, waiting = _run_rings(env, link_bw, steps, segment_bytes, chunks, latency, slowdown)
    env.run()
    wall = _time.perf_counter() - t0
    start = np.array(starts, dtype=float).reshape(R, n, M)
    end = start + np.array(ends, dtype=float).reshape(R, n, M)
    # transmissions + process starts + wake-ups of waiting links
    events = R * n * (M + 1) + sum(w is not None for ring in waiting for link in ring for w in link) if M else 0
    total = float(end.max()) if M else 0.0
    return start, end, total, events, wall


def ring_period(link_bandwidths_bytes_per_s):
    """The shortest repeating pattern (a count of links) in a ring's per-link bandwidths.

    A ring whose links repeat every p links (all equal: p = 1; 8-GPU nodes joined by a network hop:
    p = 8) behaves the same on every repeat: link i + p sends each message exactly when link i does.
    simulate_ring_allreduce uses that symmetry to simulate p representative links instead of n.
    """
    bws = np.atleast_1d(positive("link_bandwidths_bytes_per_s", link_bandwidths_bytes_per_s, "bytes/s",
                                 array=True)).astype(float)
    if bws.ndim != 1 or bws.size > MAX_DEVICES:
        raise ValueError(f"link_bandwidths_bytes_per_s must be a 1-D list of at most {MAX_DEVICES:,} links, "
                         f"got shape {bws.shape}")
    n = bws.size
    small = [d for d in range(1, math.isqrt(n) + 1) if n % d == 0]
    for p in sorted(set(small + [n // d for d in small])):  # the divisors of n, smallest first
        if np.array_equal(bws, np.tile(bws[:p], n // p)):
            return p
    return n


def _sim_size(messages, names):
    if messages > MAX_SIM_MESSAGES:
        raise ValueError(f"{names} ask for {messages:,} link transmissions; a simulation is limited to "
                         f"{MAX_SIM_MESSAGES:,} (use the analytic *_time functions for larger runs)")


def _jitter(jitter):
    return number("jitter", jitter, "fraction (mean extra time per transmission)", minimum=0.0, maximum=10.0)


def simulate_ring_allreduce(nbytes, n, bandwidth_bytes_per_s, latency=0.0, *, chunks=1,
                            link_bandwidths_bytes_per_s=None, jitter=0.0, seed=0):
    """Simulate a ring all-reduce link by link in simpy; returns a :class:`RingSimResult`.

    ``n`` ranks in a ring; link i carries rank i → rank i+1 at ``link_bandwidths_bytes_per_s[i]``
    (default: all ``bandwidth_bytes_per_s``). The array is cut into n segments; each of the 2(n−1) steps
    sends one segment per link, split into ``chunks`` pieces. A rank forwards a chunk only after it
    received that chunk in the previous step; a link sends one chunk at a time, and every chunk costs its
    link ``latency`` (α, per message) plus size/bandwidth. ``jitter`` > 0 slows each transmission by a
    random factor 1 + jitter·Exp(1) (seeded by ``seed``) — stragglers.

    With uniform links it reproduces ring_allreduce_time(…, chunks=chunks) exactly: 2(n−1)·chunks·α +
    2(n−1)/n·nbytes/β — more chunks pay more latency, never less. With one slow link the whole ring runs
    at that link's speed. Assumes full-duplex links and free computation (the reduction costs nothing).

    **Symmetry.** Without jitter, a ring whose link bandwidths repeat every p links (ring_period: 1 for
    uniform links, 8 for 8-GPU nodes joined by one network hop) is simulated as p representative links
    whose upstream wraps around: link i + p does exactly what link i does, so the answer is exact and a
    1,024-rank ring costs p·2(n−1)·chunks transmissions instead of n·2(n−1)·chunks. ``simulated_links``
    on the result says how many links were simulated; the per-link arrays are the representatives,
    repeated. At most :data:`MAX_SIM_MESSAGES` simulated transmissions and :data:`MAX_RESULT_MESSAGES`
    entries in the per-link arrays.
    """
    nbytes = nonnegative("nbytes", nbytes, "bytes")
    n = integer("n", n, minimum=1)
    bandwidth = positive("bandwidth_bytes_per_s", bandwidth_bytes_per_s, "bytes/s")
    latency = nonnegative("latency", latency, "s")
    chunks = integer("chunks", chunks, minimum=1, maximum=1024)
    jitter = _jitter(jitter)
    seed = integer("seed", seed, minimum=0)
    if n > MAX_DEVICES // 1000:
        raise ValueError(f"n = {n:,} ranks is beyond a simulation (use ring_allreduce_time)")
    if link_bandwidths_bytes_per_s is None:
        bws = np.full(n, bandwidth)
    else:
        bws = np.asarray(positive("link_bandwidths_bytes_per_s", link_bandwidths_bytes_per_s, "bytes/s",
                                  array=True), dtype=float)
        if bws.ndim == 0:
            bws = np.full(n, float(bws))
        if bws.shape != (n,):
            raise ValueError(f"link_bandwidths_bytes_per_s must have one entry per link (n = {n}), "
                             f"got shape {bws.shape}")
    period = n if jitter > 0 else ring_period(bws)
    _sim_size(period * 2 * (n - 1) * chunks, "n and chunks")
    if n * 2 * (n - 1) * chunks > MAX_RESULT_MESSAGES:
        raise ValueError(f"n and chunks ask for {n * 2 * (n - 1) * chunks:,} entries per result array; at most "
                         f"{MAX_RESULT_MESSAGES:,} (use fewer chunks, or ring_allreduce_time)")
    analytic = ring_allreduce_time(nbytes, n, float(bws.min()), latency, chunks=chunks)
    steps = 2 * (n - 1)
    rng = np.random.default_rng(seed)
    with np.errstate(over="ignore"):
        start, end, total, events, wall = _simulate_rings(bws[None, :period], steps, nbytes / n, chunks,
                                                          latency, jitter, rng)
    finite_result(total, "the simulated time (from nbytes, latency, link bandwidths and jitter)")
    start, end = start[0], end[0]
    if period < n:
        start, end = np.tile(start, (n // period, 1)), np.tile(end, (n // period, 1))
    busy = (end - start).sum(axis=1)
    return RingSimResult(
        time=total, n=n, nbytes=nbytes, chunks=chunks, latency=latency, link_bandwidths_bytes_per_s=bws,
        busy_start=start, busy_end=end, step=np.repeat(np.arange(steps), chunks),
        chunk=np.tile(np.arange(chunks), steps),
        utilization=np.minimum(busy / total, 1.0) if total > 0 else np.zeros(n), analytic_time=analytic,
        n_events=events, wall_seconds=wall, simulated_links=period)


def slow_link_bandwidths(n, bandwidth_bytes_per_s, slow_factor=0.25, slow_link=0):
    """Per-link bandwidths (bytes/s) of an n-link ring where link ``slow_link`` runs at ``slow_factor`` × the
    others' ``bandwidth_bytes_per_s``."""
    n = integer("n", n, minimum=1, maximum=1_000_000)
    bandwidth = positive("bandwidth_bytes_per_s", bandwidth_bytes_per_s, "bytes/s")
    slow_factor = fraction("slow_factor", slow_factor, allow_zero=False)
    slow_link = integer("slow_link", slow_link, minimum=0, maximum=n - 1)
    bws = np.full(n, bandwidth)
    bws[slow_link] *= slow_factor
    return bws


@dataclass
class HierarchicalSimResult:
    """What simulate_hierarchical_allreduce returns: total and per-phase times (s), the analytic twin."""
    time: float
    phase_times: np.ndarray
    analytic_phase_times: np.ndarray
    analytic_time: float
    gpus_per_node: int
    nodes: int
    nbytes: float
    n_events: int
    wall_seconds: float = 0.0
    phases: tuple = ("reduce-scatter in node", "all-reduce across nodes", "all-gather in node")

    @property
    def busbw(self):
        n = self.gpus_per_node * self.nodes
        if n == 1:
            return 0.0
        return bus_bandwidth(self.nbytes, self.time, n) if self.time > 0 else math.inf


def simulate_hierarchical_allreduce(nbytes, gpus_per_node, nodes, intra_bandwidth_bytes_per_s,
                                    inter_bandwidth_bytes_per_s, intra_latency=0.0, inter_latency=0.0, *,
                                    chunks=1, jitter=0.0, seed=0):
    """Simulate the three phases of hierarchical_allreduce_time in simpy, every ring link by link.

    Phase 1: ``nodes`` rings of ``gpus_per_node`` GPUs reduce-scatter over NVLink; phase 2:
    ``gpus_per_node`` rings (one per rail) of ``nodes`` GPUs all-reduce their shard over the network;
    phase 3: all-gather in each node. A phase starts when the previous one has finished everywhere
    (a barrier). Same link model and ``jitter`` as simulate_ring_allreduce.
    """
    nbytes = nonnegative("nbytes", nbytes, "bytes")
    g = integer("gpus_per_node", gpus_per_node, minimum=1)
    m = integer("nodes", nodes, minimum=1)
    b_in = positive("intra_bandwidth_bytes_per_s", intra_bandwidth_bytes_per_s, "bytes/s")
    b_out = positive("inter_bandwidth_bytes_per_s", inter_bandwidth_bytes_per_s, "bytes/s")
    a_in = nonnegative("intra_latency", intra_latency, "s")
    a_out = nonnegative("inter_latency", inter_latency, "s")
    chunks = integer("chunks", chunks, minimum=1, maximum=1024)
    jitter = _jitter(jitter)
    rng = np.random.default_rng(integer("seed", seed, minimum=0))
    _sim_size(m * g * (2 * (g - 1) + 2 * (m - 1)) * chunks, "gpus_per_node, nodes and chunks")
    analytic = np.array([float(x) for x in hierarchical_allreduce_phases(nbytes, g, m, b_in, b_out, a_in, a_out,
                                                                          chunks=chunks)])
    plan = [(np.full((m, g), b_in), g - 1, nbytes / g, a_in),            # reduce-scatter
            (np.full((g, m), b_out), 2 * (m - 1), nbytes / g / m, a_out),  # all-reduce of each shard
            (np.full((m, g), b_in), g - 1, nbytes / g, a_in)]             # all-gather
    times, events, wall = [], 0, 0.0
    for bws, steps, segment, lat in plan:
        if steps == 0:
            times.append(0.0)
            continue
        with np.errstate(over="ignore"):
            _, _, t, e, w = _simulate_rings(bws, steps, segment, chunks, lat, jitter, rng)
        times.append(t)
        events += e
        wall += w
    total = finite_result(float(sum(times)), f"the simulated time (from {_HIERARCHICAL_ARGS} and jitter)")
    return HierarchicalSimResult(time=total, phase_times=np.array(times),
                                 analytic_phase_times=analytic, analytic_time=float(analytic.sum()),
                                 gpus_per_node=g, nodes=m, nbytes=nbytes, n_events=events, wall_seconds=wall)
