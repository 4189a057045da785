"""Collective costs in the α-β model: ring, tree, recursive doubling, the nccl-tests bandwidths, and
the three-phase hierarchical all-reduce."""

import numpy as np

from ..core.validate import choice, integer, nonnegative, positive
from ._common import ALGORITHMS, _BUS_FACTORS, _COLLECTIVE_ARGS, _collective_name, _log2_ceil, _out, _ranks, _sized


# ---------------------------------------------------------------------------------------------
# Collectives
# ---------------------------------------------------------------------------------------------
def ring_allreduce_time(nbytes, n, bandwidth_bytes_per_s, latency=0.0, *, chunks=1):
    """Seconds for a ring all-reduce of ``nbytes`` over ``n`` ranks.

    2(n−1)·α + 2(n−1)/n · nbytes/β: a reduce-scatter then an all-gather, each n−1 steps in which every
    rank sends one n-th of the array to its neighbour. ``bandwidth_bytes_per_s`` is each rank's
    one-direction link bandwidth, ``latency`` the cost of one message (s). Assumes every link is equally
    fast. With ``chunks`` > 1 each step's piece goes as that many messages, each paying α:
    2(n−1)·chunks·α + 2(n−1)/n·nbytes/β (simulate_ring_allreduce's analytic twin).
    """
    nbytes, n, bandwidth, latency = _sized(nbytes, n, bandwidth_bytes_per_s, latency)
    chunks = integer("chunks", chunks, minimum=1, maximum=1024)
    steps = 2 * (n - 1)
    with np.errstate(over="ignore"):
        return _out(steps * chunks * latency + steps / n * nbytes / bandwidth,
                    f"the time (from {_COLLECTIVE_ARGS})")


def allreduce_time(nbytes, n, bandwidth_bytes_per_s, latency=0.0, algorithm="ring"):
    """Seconds for an all-reduce of ``nbytes`` over ``n`` ranks with one of three algorithms.

    - ``"ring"``: 2(n−1)·α + 2(n−1)/n·nbytes/β — bandwidth-optimal, latency linear in n.
    - ``"tree"``: 2⌈log₂n⌉·α + 2·nbytes/β — a pipelined (double binary) tree as NCCL uses: reduce up,
      broadcast down. Bandwidth assumption: perfect pipelining, so every GPU sends 2·nbytes in all (nbytes
      up while reducing, nbytes down while broadcasting) at the full β — about the ring's 2(n−1)/n·nbytes
      (NCCL's tuning model: tree algbw = busbw/2). Latency: α once per tree level each way. Pipeline fill
      and a per-chunk α are ignored; tree_allreduce_time adds both (about +9 % for 1 GB on 1,024 ranks).
    - ``"recursive_doubling"``: ⌈log₂n⌉ steps that each exchange the whole array:
      ⌈log₂n⌉·(α + nbytes/β) (Thakur, Rabenseifner & Gropp 2005); best for small messages.
      For n not a power of two, two extra steps fold the surplus ranks in and out.
    """
    algorithm = choice("algorithm", algorithm, ALGORITHMS)
    nbytes, n, bandwidth, latency = _sized(nbytes, n, bandwidth_bytes_per_s, latency)
    if algorithm == "ring":
        return ring_allreduce_time(nbytes, n, bandwidth, latency)
    many = np.asarray(n) > 1
    with np.errstate(over="ignore"):
        if algorithm == "tree":
            out = 2 * _log2_ceil(n) * latency + np.where(many, 2 * nbytes / bandwidth, 0.0)
        else:
            floor_log = np.floor(np.log2(n))
            steps = np.where(np.exp2(floor_log) == n, floor_log, floor_log + 2)
            out = steps * (latency + nbytes / bandwidth)
    return _out(out, f"the time (from {_COLLECTIVE_ARGS})")


def tree_allreduce_time(nbytes, n, bandwidth_bytes_per_s, latency=0.0, chunks=None):
    """Seconds for a pipelined tree all-reduce that pays for its pipeline: 2·(D + k − 1)·(α + nbytes/(k·β)).

    A binary tree of depth D = ⌈log₂n⌉ reduces ``nbytes`` up to the root and broadcasts it back down, each
    phase a pipeline of ``chunks`` = k pieces: D stages to fill it, then one piece per stage time, and every
    piece pays its α. ``chunks`` None picks the k that minimises the time, k ≈ √((D−1)·nbytes/(α·β)).
    As k → ∞ with α = 0 it becomes allreduce_time(…, "tree")'s 2·nbytes/β. Assumes each stage moves one
    piece per link at β and that the up and down phases do not overlap.
    """
    nbytes, n, bandwidth, latency = _sized(nbytes, n, bandwidth_bytes_per_s, latency)
    depth = _log2_ceil(n)
    if chunks is None:
        with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
            best = np.sqrt(np.maximum(depth - 1, 0) * nbytes / np.maximum(latency * bandwidth, 1e-300))
        k = np.clip(np.round(np.nan_to_num(best, nan=1.0, posinf=1e9)), 1, 1e9)
    else:
        k = integer("chunks", chunks, minimum=1, maximum=10**9)
    with np.errstate(over="ignore"):
        out = np.where(np.asarray(n) > 1, 2 * (depth + k - 1) * (latency + nbytes / (k * bandwidth)), 0.0)
        return _out(out, f"the time (from {_COLLECTIVE_ARGS})")


def reduce_scatter_time(nbytes, n, bandwidth_bytes_per_s, latency=0.0):
    """Seconds for a ring reduce-scatter of an ``nbytes`` array: (n−1)·α + (n−1)/n·nbytes/β.

    Each rank ends with the reduced n-th of the array. ``nbytes`` is the whole input array.
    """
    nbytes, n, bandwidth, latency = _sized(nbytes, n, bandwidth_bytes_per_s, latency)
    with np.errstate(over="ignore"):
        return _out((n - 1) * latency + (n - 1) / n * nbytes / bandwidth, f"the time (from {_COLLECTIVE_ARGS})")


def allgather_time(nbytes, n, bandwidth_bytes_per_s, latency=0.0):
    """Seconds for a ring all-gather whose gathered output is ``nbytes``: (n−1)·α + (n−1)/n·nbytes/β."""
    nbytes, n, bandwidth, latency = _sized(nbytes, n, bandwidth_bytes_per_s, latency)
    with np.errstate(over="ignore"):
        return _out((n - 1) * latency + (n - 1) / n * nbytes / bandwidth, f"the time (from {_COLLECTIVE_ARGS})")


def alltoall_time(nbytes, n, bandwidth_bytes_per_s, latency=0.0):
    """Seconds for an all-to-all where each rank sends an ``nbytes`` buffer split n ways.

    Pairwise exchange through a switch with full bisection bandwidth: n−1 rounds, each sending
    nbytes/n — (n−1)·α + (n−1)/n·nbytes/β. On an oversubscribed or torus network it is slower.
    """
    nbytes, n, bandwidth, latency = _sized(nbytes, n, bandwidth_bytes_per_s, latency)
    with np.errstate(over="ignore"):
        return _out((n - 1) * latency + (n - 1) / n * nbytes / bandwidth, f"the time (from {_COLLECTIVE_ARGS})")


def collective_time(collective, nbytes, n, bandwidth_bytes_per_s, latency=0.0, algorithm="ring"):
    """Dispatch by name: ``collective_time("allgather", 1e9, 8, 450e9)``."""
    name = _collective_name(collective)
    algorithm = choice("algorithm", algorithm, ALGORITHMS)
    if name == "allreduce":
        return allreduce_time(nbytes, n, bandwidth_bytes_per_s, latency, algorithm)
    if name in ("broadcast", "reduce"):  # pipelined ring: the root's link is the bottleneck
        nbytes, n, bandwidth, latency = _sized(nbytes, n, bandwidth_bytes_per_s, latency)
        with np.errstate(over="ignore"):
            return _out((n - 1) * latency + np.where(np.asarray(n) > 1, nbytes / bandwidth, 0.0),
                        f"the time (from {_COLLECTIVE_ARGS})")
    return {"allgather": allgather_time, "reducescatter": reduce_scatter_time,
            "alltoall": alltoall_time}[name](nbytes, n, bandwidth_bytes_per_s, latency)


def algorithm_bandwidth(nbytes, time):
    """nccl-tests' ``algbw``: nbytes / time (s), in bytes/s."""
    nbytes = nonnegative("nbytes", nbytes, "bytes", array=True)
    time = positive("time", time, "s", array=True)
    with np.errstate(over="ignore"):
        return _out(nbytes / time, "algbw (from nbytes and time)")


def bus_bandwidth_factor(n, collective="allreduce"):
    """The factor nccl-tests multiplies algbw by to get busbw (doc/PERFORMANCE.md).

    all-reduce 2(n−1)/n; reduce-scatter, all-gather, all-to-all (n−1)/n; broadcast, reduce 1.
    """
    name = _collective_name(collective)
    return _out(_BUS_FACTORS[name](_ranks(n)))


def bus_bandwidth(nbytes, time, n, collective="allreduce"):
    """nccl-tests' ``busbw`` in bytes/s: algbw × the collective's factor (see bus_bandwidth_factor).

    Bus bandwidth is what each rank's link carried, so it can be compared with the link's line rate
    whatever the number of ranks: a perfect ring all-reduce on β-links reports busbw = β.
    """
    factor = bus_bandwidth_factor(n, collective)
    return _out(algorithm_bandwidth(nbytes, time) * factor)


def link_efficiency(busbw, line_rate_bytes_per_s):
    """The fraction of a link's line rate a collective achieved: busbw / line rate (both bytes/s).

    Above 1 only when busbw no longer counts bytes on the wire (in-network reduction, NVLS).
    """
    busbw = positive("busbw", busbw, "bytes/s", array=True)
    line_rate = positive("line_rate_bytes_per_s", line_rate_bytes_per_s, "bytes/s", array=True)
    with np.errstate(over="ignore"):
        return _out(busbw / line_rate, "the efficiency (from busbw and line_rate_bytes_per_s)")


# ---------------------------------------------------------------------------------------------
# Hierarchical all-reduce (NVLink inside a node, a network across nodes)
# ---------------------------------------------------------------------------------------------
_HIERARCHICAL_ARGS = ("nbytes, gpus_per_node, nodes, intra_bandwidth_bytes_per_s, inter_bandwidth_bytes_per_s, "
                      "intra_latency and inter_latency")


def hierarchical_allreduce_phases(nbytes, gpus_per_node, nodes, intra_bandwidth_bytes_per_s,
                                  inter_bandwidth_bytes_per_s, intra_latency=0.0, inter_latency=0.0, *, chunks=1):
    """The three phase times (s) of a hierarchical all-reduce: (reduce-scatter, all-reduce, all-gather).

    1. reduce-scatter inside each node over ``gpus_per_node`` GPUs (ring on ``intra_bandwidth_bytes_per_s``);
    2. all-reduce of each GPU's 1/g shard across ``nodes`` nodes — g rings in parallel, one per NIC
       ("rail"), each on ``inter_bandwidth_bytes_per_s``;
    3. all-gather inside each node.
    Bandwidths are per GPU, one direction. Assumes the phases do not overlap. ``chunks``: messages per
    ring step, each paying its phase's latency (as ring_allreduce_time).
    """
    nbytes = nonnegative("nbytes", nbytes, "bytes", array=True)
    g = _ranks(gpus_per_node, "gpus_per_node")
    m = _ranks(nodes, "nodes")
    b_in = positive("intra_bandwidth_bytes_per_s", intra_bandwidth_bytes_per_s, "bytes/s", array=True)
    b_out = positive("inter_bandwidth_bytes_per_s", inter_bandwidth_bytes_per_s, "bytes/s", array=True)
    a_in = nonnegative("intra_latency", intra_latency, "s", array=True)
    a_out = nonnegative("inter_latency", inter_latency, "s", array=True)
    chunks = integer("chunks", chunks, minimum=1, maximum=1024)
    try:
        rs = reduce_scatter_time(nbytes, g, b_in, a_in * chunks)
        ar = ring_allreduce_time(nbytes / g, m, b_out, a_out, chunks=chunks)
        ag = allgather_time(nbytes, g, b_in, a_in * chunks)
    except ValueError:
        raise ValueError(f"the all-reduce time is not finite for these inputs ({_HIERARCHICAL_ARGS}): "
                         "use values within the course's range") from None
    return rs, ar, ag


def hierarchical_allreduce_time(nbytes, gpus_per_node, nodes, intra_bandwidth_bytes_per_s,
                                inter_bandwidth_bytes_per_s, intra_latency=0.0, inter_latency=0.0, *, chunks=1):
    """Seconds for a hierarchical all-reduce (sum of the three phases of hierarchical_allreduce_phases)."""
    rs, ar, ag = hierarchical_allreduce_phases(nbytes, gpus_per_node, nodes, intra_bandwidth_bytes_per_s,
                                               inter_bandwidth_bytes_per_s, intra_latency, inter_latency,
                                               chunks=chunks)
    with np.errstate(over="ignore"):
        return _out(np.add(np.add(rs, ar), ag), f"the time (from {_HIERARCHICAL_ARGS})")
