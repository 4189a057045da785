"""Chapter 03 — interconnects: the α-β model, collectives, a simpy ring and network topologies.

SI units in and out: bytes, seconds, bytes per second. A link's ``bandwidth_bytes_per_s`` is its
bandwidth in **one direction** (links are full duplex: a 450 GB/s NVLink 4 port moves 450 GB/s each way
at once). ``latency`` (α) is the fixed cost of one message or one algorithm step, in seconds.

    transfer_time(nbytes, bandwidth_bytes_per_s, latency)           α + nbytes / β
    ring_allreduce_time(nbytes, n, bandwidth_bytes_per_s, latency)  2(n−1)·α + 2(n−1)/n · nbytes / β
    allreduce_time(..., algorithm="ring"|"tree"|"recursive_doubling")
    allgather_time, reduce_scatter_time, alltoall_time
    algorithm_bandwidth, bus_bandwidth                  as nccl-tests define them
    simulate_ring_allreduce(...)                        the same ring, message by message, in simpy
    hierarchical_allreduce_time / simulate_hierarchical_allreduce
    fat_tree, rail_optimized, torus                     topologies: bisection, diameter, oversubscription
    data_parallel_step, scaling                         when does the gradient all-reduce hide behind compute?
    dp_critical_tokens_per_gpu                          the same question as a ridge point (core.roofline)

Sizes follow nccl-tests (doc/PERFORMANCE.md): ``nbytes`` is the size of the whole array being reduced
(all-reduce), of the whole gathered output (all-gather), of the whole input (reduce-scatter), and of one
rank's send buffer (all-to-all). ``n`` is the number of ranks taking part in one collective,
``n_devices`` the number of GPUs in a job or network.
"""

import math
from collections import deque
from dataclasses import dataclass, field

import numpy as np

from . import units as u
from .core.plotting import new_axes, no_minor_ticks
from .core.roofline import ridge_point
from .core.validate import (axes, choice, counts, finite_result, flag, fraction, instance, integer, nonnegative,
                            number, positive, scalar_or_array, sequence)

ALGORITHMS = ("ring", "tree", "recursive_doubling")
COLLECTIVES = ("allreduce", "allgather", "reducescatter", "alltoall", "broadcast", "reduce")

# Per-step latency NCCL's own tuning model assumes for one hop (ring algorithm, LL protocol), by link
# class: NCCL src/graph/tuning.cc, table hwLat (v2.19–2.20). A first guess for α; measure your own.
NCCL_STEP_LATENCY = {"nvlink": 0.6 * u.US, "pcie": 1.0 * u.US, "network": 2.7 * u.US}

# The 8×H100 NVLink 4 figures NCCL's maintainer gives (nccl-tests issue #212, 2024): 450 GB/s line
# rate per GPU per direction (the NVLink 4.0 row of datasets/interconnects.csv); ≈370 GB/s bus bandwidth
# with rings (protocol overhead ≈20 %); ≈480 GB/s bus bandwidth with NVLink SHARP (NVLS), whose busbw no
# longer counts bytes on the wire.
H100_NVLINK_LINE_RATE = 450 * u.GB
H100_RING_BUSBW_PUBLISHED = 370 * u.GB
H100_NVLS_BUSBW_PUBLISHED = 480 * u.GB

#: The most link transmissions one simulation may schedule (about ten seconds of SimPy on a laptop);
#: use the analytic formulas beyond it.
MAX_SIM_MESSAGES = 2_000_000
#: The most entries (links × messages) a RingSimResult's per-link arrays may hold (≈ 64 MB each).
MAX_RESULT_MESSAGES = 8_000_000
#: PyTorch DDP's default gradient bucket: bucket_cap_mb=25, which DDP multiplies by 1024·1024 (25 MiB).
DDP_BUCKET_BYTES = 25 * u.MiB
#: The most gradient buckets data_parallel_step / plot_overlap handle (one bar each in plot_overlap).
MAX_BUCKETS = 100_000
#: The largest device count the topology builders accept (torus_dims factors it).
MAX_DEVICES = 10**9

_BUS_FACTORS = {
    "allreduce": lambda n: 2 * (n - 1) / n,
    "allgather": lambda n: (n - 1) / n,
    "reducescatter": lambda n: (n - 1) / n,
    "alltoall": lambda n: (n - 1) / n,
    "broadcast": lambda n: 1.0 + 0 * n,
    "reduce": lambda n: 1.0 + 0 * n,
}


# ---------------------------------------------------------------------------------------------
# Argument helpers
# ---------------------------------------------------------------------------------------------
def _ranks(n, name="n"):
    """A number of ranks (≥ 1): an int, or an array of whole numbers returned as floats."""
    return counts(name, n, minimum=1)


def _collective_name(collective):
    if not isinstance(collective, str):
        raise TypeError(f"collective must be a name such as 'allreduce', got {collective!r}")
    key = collective.lower().replace("_", "").replace("-", "").replace(" ", "")
    return choice("collective", key, COLLECTIVES)


def _log2_ceil(n):
    return np.ceil(np.log2(np.maximum(n, 1)))


def _sized(nbytes, n, bandwidth_bytes_per_s, latency):
    return (nonnegative("nbytes", nbytes, "bytes", array=True), _ranks(n),
            positive("bandwidth_bytes_per_s", bandwidth_bytes_per_s, "bytes/s", array=True),
            nonnegative("latency", latency, "s", array=True))


_COLLECTIVE_ARGS = "nbytes, n, bandwidth_bytes_per_s and latency"


def _out(x, what="the result"):
    """A finite result as a float (0-d) or an array."""
    return scalar_or_array(finite_result(x, what))


# ---------------------------------------------------------------------------------------------
# The α-β model
# ---------------------------------------------------------------------------------------------
def transfer_time(nbytes, bandwidth_bytes_per_s, latency=0.0):
    """Seconds to send ``nbytes`` over one link: α + nbytes/β (the α-β or Hockney model).

    ``bandwidth_bytes_per_s`` one direction (a 400 Gb/s port is ``400 * units.Gbps`` = 50e9 B/s),
    ``latency`` in seconds. Arrays broadcast. Assumes nothing else shares the link.
    """
    nbytes = nonnegative("nbytes", nbytes, "bytes", array=True)
    bandwidth = positive("bandwidth_bytes_per_s", bandwidth_bytes_per_s, "bytes/s", array=True)
    latency = nonnegative("latency", latency, "s", array=True)
    with np.errstate(over="ignore"):
        return _out(latency + nbytes / bandwidth, "the time (from nbytes, bandwidth_bytes_per_s and latency)")


def effective_bandwidth(nbytes, bandwidth_bytes_per_s, latency=0.0):
    """Bytes per second a transfer of ``nbytes`` actually achieves: nbytes / (α + nbytes/β)."""
    nbytes = positive("nbytes", nbytes, "bytes", array=True)
    with np.errstate(over="ignore", under="ignore"):
        return _out(nbytes / transfer_time(nbytes, bandwidth_bytes_per_s, latency),
                    "the bandwidth (from nbytes, bandwidth_bytes_per_s and latency)")


def crossover_size(bandwidth_bytes_per_s, latency):
    """The message size (bytes) at which latency and bandwidth cost the same: α·β.

    Below it a transfer is latency-bound, above it bandwidth-bound; a message of this size reaches
    exactly half the link bandwidth (Hockney's n½).
    """
    bandwidth = positive("bandwidth_bytes_per_s", bandwidth_bytes_per_s, "bytes/s", array=True)
    latency = nonnegative("latency", latency, "s", array=True)
    with np.errstate(over="ignore"):
        return _out(latency * bandwidth, "α·β (from bandwidth_bytes_per_s and latency)")


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


# ---------------------------------------------------------------------------------------------
# Message size versus achieved bandwidth
# ---------------------------------------------------------------------------------------------
def size_for_bandwidth_fraction(fraction, bandwidth_bytes_per_s, latency):
    """The message size (bytes) at which one α-β transfer reaches ``fraction`` of its link bandwidth.

    nbytes/(α + nbytes/β) = f·β  ⇔  nbytes = f/(1−f)·α·β: half the bandwidth at α·β (Hockney's n½),
    80 % at 4·α·β, 90 % at 9·α·β, 99 % at 99·α·β. ``fraction`` in (0, 1).
    """
    f = _fraction_open("fraction", fraction)
    x = crossover_size(bandwidth_bytes_per_s, latency)
    with np.errstate(over="ignore"):
        return _out(f / (1 - f) * x, "the size (from fraction, bandwidth_bytes_per_s and latency)")


def ring_allreduce_size_for_busbw(fraction, n, bandwidth_bytes_per_s, latency):
    """The all-reduce size (bytes) at which a ring on ``n`` ranks reaches ``fraction`` of its line rate in busbw.

    busbw = 2(n−1)/n·S/T with T = 2(n−1)·α + 2(n−1)/n·S/β, so busbw/β = f when S = f/(1−f)·n·α·β: the
    single-link answer times n, because the ring pays its 2(n−1) latencies while each step moves only
    S/n. On 1,024 ranks with α = 5 µs and β = 50 GB/s, 90 % needs 9·1024·250 kB ≈ 2.3 GB.
    """
    f = _fraction_open("fraction", fraction)
    n = _ranks(n)
    x = crossover_size(bandwidth_bytes_per_s, latency)
    with np.errstate(over="ignore"):
        return _out(f / (1 - f) * n * x, "the size (from fraction, n, bandwidth_bytes_per_s and latency)")


def _fraction_open(name, value):
    """A number strictly between 0 and 1 (a share of a maximum that is approached, never reached)."""
    return fraction(name, value, array=True, allow_zero=False, allow_one=False)


# ---------------------------------------------------------------------------------------------
# NCCL's own cost model: protocols, and the hierarchy NCCL builds
# ---------------------------------------------------------------------------------------------
NCCL_ALGORITHMS = ("ring", "tree")
NCCL_PROTOCOLS = ("LL", "LL128", "Simple")
#: The NCCL release whose tuner constants labkit copies (src/graph/tuning.cc, default tuner constants).
NCCL_MODEL_VERSION = "2.30.7"
# Per-step hardware latency (s) of NCCL's tuning model, by (algorithm, protocol) and link class:
# NCCL src/graph/tuning.cc (v2.30.7), ncclTunerConstantsDefaults.hwLatencies. LL's are the α the
# chapter uses (NCCL_STEP_LATENCY); they come with LL's bandwidth, half the link's (NCCL_PROTOCOL_EFFICIENCY).
NCCL_HW_LATENCY = {
    ("ring", "LL"): {"nvlink": 0.6 * u.US, "pcie": 1.0 * u.US, "network": 2.7 * u.US},
    ("ring", "LL128"): {"nvlink": 1.9 * u.US, "pcie": 2.5 * u.US, "network": 4.0 * u.US},
    ("ring", "Simple"): {"nvlink": 3.4 * u.US, "pcie": 5.7 * u.US, "network": 14.0 * u.US},
    ("tree", "LL"): {"nvlink": 0.6 * u.US, "pcie": 1.0 * u.US, "network": 5.0 * u.US},
    ("tree", "LL128"): {"nvlink": 1.25 * u.US, "pcie": 1.9 * u.US, "network": 8.5 * u.US},
    ("tree", "Simple"): {"nvlink": 4.0 * u.US, "pcie": 4.0 * u.US, "network": 14.0 * u.US},
}
# The fixed latency of one collective call (s): tuning.cc baseLatencies (v2.30.7).
NCCL_BASE_LATENCY = {("ring", "LL"): 6.6 * u.US, ("ring", "LL128"): 14.0 * u.US, ("ring", "Simple"): 8.4 * u.US,
                     ("tree", "LL"): 6.8 * u.US, ("tree", "LL128"): 14.0 * u.US, ("tree", "Simple"): 8.4 * u.US}
# The share of the bus bandwidth each protocol delivers in NCCL's model (tuning.cc v2.30.7): LL sends a
# 4-byte flag with every 4 bytes of data (×0.5); LL128 spends 8 of 128 bytes on flags (×0.92); trees
# are derated ×0.92, and ×1/3.8 more with LL, ×120/128 with LL128 (7/9 on one node).
NCCL_PROTOCOL_EFFICIENCY = {("ring", "LL"): 0.5, ("ring", "LL128"): 0.92, ("ring", "Simple"): 1.0,
                            ("tree", "LL"): 0.92 / 3.8, ("tree", "LL128"): 0.92 * 120 / 128, ("tree", "Simple"): 0.92}

_NCCL_ARGS = ("nbytes, gpus_per_node, nodes, intra_bandwidth_bytes_per_s and inter_bandwidth_bytes_per_s")


def _nccl_options(algorithm, protocol):
    algorithm = choice("algorithm", algorithm, NCCL_ALGORITHMS + ("auto",))
    protocol = choice("protocol", protocol, NCCL_PROTOCOLS + ("auto",))
    algs = NCCL_ALGORITHMS if algorithm == "auto" else (algorithm,)
    protos = NCCL_PROTOCOLS if protocol == "auto" else (protocol,)
    return [(a, p) for a in algs for p in protos]


def _nccl_args(nbytes, gpus_per_node, nodes, intra_bandwidth_bytes_per_s, inter_bandwidth_bytes_per_s):
    return (nonnegative("nbytes", nbytes, "bytes", array=True),
            integer("gpus_per_node", gpus_per_node, minimum=1, maximum=1024),
            integer("nodes", nodes, minimum=1, maximum=1_000_000),
            positive("intra_bandwidth_bytes_per_s", intra_bandwidth_bytes_per_s, "bytes/s"),
            positive("inter_bandwidth_bytes_per_s", inter_bandwidth_bytes_per_s, "bytes/s"))


def nccl_bus_bandwidth(gpus_per_node, nodes, intra_bandwidth_bytes_per_s, inter_bandwidth_bytes_per_s):
    """The bus bandwidth (bytes/s) NCCL's model gives an all-reduce before protocol derating.

    One node: the NVLink bandwidth per GPU. Several nodes: NCCL runs one ring (channel) per NIC at once,
    so every NIC of a node carries a share: min(gpus_per_node × inter, intra) — 8 × 50 GB/s = 400 GB/s on
    a DGX H100, the "node egress" of How to Scale Your Model. Assumes one NIC per GPU (rail-optimized).
    """
    _, g, m, b_in, b_out = _nccl_args(0.0, gpus_per_node, nodes, intra_bandwidth_bytes_per_s,
                                      inter_bandwidth_bytes_per_s)
    return b_in if m == 1 else min(g * b_out, b_in)


def _nccl_latency(algorithm, protocol, g, m):
    """NCCL's latency (s) of one all-reduce call on m nodes of g GPUs (tuning.cc, intra-node = NVLink)."""
    hw = NCCL_HW_LATENCY[(algorithm, protocol)]
    n = g * m
    if algorithm == "ring":
        inter_steps = 2 * (m - 1)
        steps = 2 * (n - 1)
        return NCCL_BASE_LATENCY[(algorithm, protocol)] + (steps - inter_steps) * hw["nvlink"] + \
            inter_steps * hw["network"]
    return NCCL_BASE_LATENCY[(algorithm, protocol)] + 2 * ((g - 1) * hw["nvlink"] +
                                                           math.floor(math.log2(m)) * hw["network"])


def _nccl_algbw(algorithm, protocol, g, m, b_in, b_out):
    n = g * m
    bus = b_in if m == 1 else min(g * b_out, b_in)
    eff = NCCL_PROTOCOL_EFFICIENCY[(algorithm, protocol)]
    if (algorithm, protocol) == ("tree", "LL128") and m == 1:
        eff = 0.92 * 7 / 9
    bus *= eff
    return bus * n / (2 * (n - 1)) if algorithm == "ring" else bus / 2


def nccl_allreduce_time(nbytes, gpus_per_node, nodes, intra_bandwidth_bytes_per_s, inter_bandwidth_bytes_per_s,
                        algorithm="auto", protocol="auto"):
    """Seconds for an all-reduce of ``nbytes`` as NCCL's own tuning model predicts it (src/graph/tuning.cc).

    ``gpus_per_node`` GPUs per node on NVLink (``intra_bandwidth_bytes_per_s`` each, one direction),
    ``nodes`` nodes with one NIC per GPU (``inter_bandwidth_bytes_per_s`` each). T = latency + nbytes/algbw:

    - ring: latency = base + 2(nodes−1) network steps + the other 2(n−1) − 2(nodes−1) steps on NVLink
      (NCCL orders its rings node by node, so only 2(nodes−1) of the 2(n−1) hops leave a node);
      algbw = busbw · n / (2(n−1)).
    - tree: latency = base + 2((gpus_per_node−1) NVLink steps + ⌊log₂ nodes⌋ network steps) (a chain in
      each node, a double binary tree across nodes); algbw = busbw / 2.

    busbw = nccl_bus_bandwidth(...) × the protocol's efficiency (NCCL_PROTOCOL_EFFICIENCY), latencies
    from NCCL_HW_LATENCY / NCCL_BASE_LATENCY (v2.30.7). ``algorithm`` "ring", "tree" or "auto",
    ``protocol`` "LL", "LL128", "Simple" or "auto": "auto" takes the fastest, as NCCL's tuner does.
    Left out: NCCL's per-channel bandwidth caps, its tree correction factors for medium sizes, the ring
    "plateau" factor, NVLS/CollNet and the topology's own latency — so this is NCCL's model at line rate,
    a lower bound on a real run. Arrays of nbytes broadcast.
    """
    nbytes, g, m, b_in, b_out = _nccl_args(nbytes, gpus_per_node, nodes, intra_bandwidth_bytes_per_s,
                                           inter_bandwidth_bytes_per_s)
    options = _nccl_options(algorithm, protocol)
    if g * m == 1:
        return _out(np.zeros_like(np.asarray(nbytes, dtype=float)))
    with np.errstate(over="ignore"):
        times = [_nccl_latency(a, p, g, m) + np.asarray(nbytes) / _nccl_algbw(a, p, g, m, b_in, b_out)
                 for a, p in options]
        return _out(np.minimum.reduce(times), f"the time (from {_NCCL_ARGS})")


def nccl_allreduce_choice(nbytes, gpus_per_node, nodes, intra_bandwidth_bytes_per_s, inter_bandwidth_bytes_per_s):
    """The (algorithm, protocol) NCCL's model finds fastest for one all-reduce of ``nbytes`` (a scalar)."""
    nbytes, g, m, b_in, b_out = _nccl_args(nbytes, gpus_per_node, nodes, intra_bandwidth_bytes_per_s,
                                           inter_bandwidth_bytes_per_s)
    if np.ndim(nbytes):
        raise ValueError("nbytes must be one size here (a number), not an array")
    options = _nccl_options("auto", "auto")
    times = [nccl_allreduce_time(nbytes, g, m, b_in, b_out, a, p) for a, p in options]
    return options[int(np.argmin(times))]


def nccl_allreduce_busbw(nbytes, gpus_per_node, nodes, intra_bandwidth_bytes_per_s, inter_bandwidth_bytes_per_s,
                         algorithm="auto", protocol="auto"):
    """nccl-tests' busbw (bytes/s) of the all-reduce nccl_allreduce_time predicts: what all_reduce_perf
    would print in its busbw column for each size. 0 for one GPU (nothing crosses a link)."""
    t = nccl_allreduce_time(nbytes, gpus_per_node, nodes, intra_bandwidth_bytes_per_s, inter_bandwidth_bytes_per_s,
                            algorithm, protocol)
    n = int(gpus_per_node) * int(nodes)
    nbytes = np.asarray(nbytes, dtype=float)
    with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
        bw = np.where(np.asarray(t) > 0, nbytes / np.where(np.asarray(t) > 0, t, 1.0) * 2 * (n - 1) / n, 0.0)
    return _out(bw, f"busbw (from {_NCCL_ARGS})")


# ---------------------------------------------------------------------------------------------
# In-network reduction (SHARP)
# ---------------------------------------------------------------------------------------------
# How to Scale Your Model (Austin et al. 2025), GPU chapter: in-network reductions give "theoretically
# 2x the AllReduce bandwidth", "in practice the benefit is closer to 30%". The 8×H100 figures of
# nccl-tests issue #212 agree: NVLS (NVLink SHARP) ≈480 GB/s busbw vs ≈370 GB/s with rings, ×1.30.
SHARP_THEORETICAL_GAIN = 2.0
SHARP_MEASURED_GAIN_HSYM = 0.30


def sharp_allreduce_time(nbytes, n, bandwidth_bytes_per_s, latency=0.0):
    """Seconds for an all-reduce of ``nbytes`` over ``n`` ranks reduced inside the switch (SHARP, NVLS).

    Every rank sends its array to the switch once and receives the sum once — both directions of its
    link at the same time, pipelined — so the data crosses each link once each way: 2α + nbytes/β.
    A ring moves 2(n−1)/n·nbytes each way instead, so in-network reduction has up to 2(n−1)/n ≈ 2× the
    ring's speed, and nccl-tests' busbw (which assumes the ring's traffic) reads up to ≈2β. Assumes the
    switch reduces at line rate and has the ports for all n ranks.
    """
    nbytes, n, bandwidth, latency = _sized(nbytes, n, bandwidth_bytes_per_s, latency)
    with np.errstate(over="ignore"):
        out = np.where(np.asarray(n) > 1, 2 * latency + nbytes / bandwidth, 0.0)
        return _out(out, f"the time (from {_COLLECTIVE_ARGS})")


def compare_allreduce_strategies(nbytes, gpus_per_node, nodes, intra_bandwidth_bytes_per_s,
                                 inter_bandwidth_bytes_per_s):
    """Seconds for one all-reduce of ``nbytes`` five ways, on ``nodes`` nodes of ``gpus_per_node`` GPUs.

    Returns {name: seconds}:
    - "flat ring, one NIC": a ring over all n GPUs where every hop crosses a 50 GB/s-class NIC and pays
      NCCL's network α — the ring NCCL never builds (2(n−1) network latencies);
    - "NCCL ring": nccl_allreduce_time(algorithm="ring"), node-ordered rings on every NIC at once;
    - "NCCL tree": nccl_allreduce_time(algorithm="tree");
    - "hierarchical (RS, AR, AG)": hierarchical_allreduce_time with NCCL's LL per-step latencies;
    - "in-network (SHARP)": the switches add the arrays — NVLink SHARP inside the node, SHARP in the
      network switches — so each GPU's data crosses its links once each way: sharp_allreduce_time at the
      node's bus bandwidth (nccl_bus_bandwidth), paying one NVLink and one network α each way.
    Protocol: NCCL's best ("auto") for the NCCL rows; LL latencies (NCCL_STEP_LATENCY) for the others.
    """
    nbytes, g, m, b_in, b_out = _nccl_args(nbytes, gpus_per_node, nodes, intra_bandwidth_bytes_per_s,
                                           inter_bandwidth_bytes_per_s)
    a_in, a_out = NCCL_STEP_LATENCY["nvlink"], NCCL_STEP_LATENCY["network"]
    return {
        "flat ring, one NIC": ring_allreduce_time(nbytes, g * m, b_out, a_out),
        "NCCL ring": nccl_allreduce_time(nbytes, g, m, b_in, b_out, "ring"),
        "NCCL tree": nccl_allreduce_time(nbytes, g, m, b_in, b_out, "tree"),
        "hierarchical (RS, AR, AG)": hierarchical_allreduce_time(nbytes, g, m, b_in, b_out, a_in, a_out),
        "in-network (SHARP)": sharp_allreduce_time(nbytes, g * m, nccl_bus_bandwidth(g, m, b_in, b_out),
                                                   a_in + (a_out if m > 1 else 0.0)),
    }


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


# ---------------------------------------------------------------------------------------------
# simpy: a ring on an oversubscribed two-tier fat tree (contention at the leaf uplinks)
# ---------------------------------------------------------------------------------------------
PLACEMENTS = ("packed", "scattered")


@dataclass
class FabricSimResult:
    """What simulate_fat_tree_allreduce returns (times in s).

    ``crossing_links``: ring hops that leave their leaf switch; ``leaf_load``: the most crossing hops
    one leaf must serve per step ÷ its uplinks (above 1, its uplinks are a queue); ``analytic_time``:
    the ring formula slowed by max(1, leaf_load) — the fluid bound the simulation is checked against.
    """
    time: float
    analytic_time: float
    n_devices: int
    gpus_per_leaf: int
    uplinks_per_leaf: int
    placement: str
    nbytes: float
    crossing_links: int
    leaf_load: float
    n_events: int
    wall_seconds: float = 0.0

    @property
    def oversubscription(self):
        """Down ports : up ports of a leaf, as built (gpus_per_leaf / uplinks_per_leaf)."""
        return self.gpus_per_leaf / self.uplinks_per_leaf

    @property
    def busbw(self):
        return bus_bandwidth(self.nbytes, self.time, self.n_devices) if self.time > 0 else 0.0

    def __repr__(self):
        return (f"<FabricSimResult {self.n_devices} GPUs, {self.gpus_per_leaf} per leaf, "
                f"{self.oversubscription:g}:1, {self.placement}: {u.fmt_seconds(self.time)} "
                f"(fluid bound {u.fmt_seconds(self.analytic_time)}), {self.crossing_links} hops leave a leaf>")


def _ring_order(n, placement, rng):
    return np.arange(n) if placement == "packed" else rng.permutation(n)


def simulate_fat_tree_allreduce(nbytes, n_devices, bandwidth_bytes_per_s, latency=0.0, *, gpus_per_leaf=8,
                                oversubscription=1.0, placement="packed", seed=0):
    """Simulate a ring all-reduce on a two-tier fat tree whose leaves may be oversubscribed; simpy.

    ``n_devices`` GPUs, ``gpus_per_leaf`` on each leaf switch, every cable ``bandwidth_bytes_per_s`` one
    way. A leaf has gpus_per_leaf / ``oversubscription`` uplinks to the spines (rounded, at least one):
    1 is full bisection, 2 or 4 a 2:1 or 4:1 tree. The spines never block. A ring hop inside a leaf uses
    only the two GPUs' ports; a hop between leaves also needs one uplink of its leaf and one downlink of the
    other leaf for the whole message (cut-through), waiting in line (FIFO) when all are busy. Every message
    costs α + size/β, as in simulate_ring_allreduce (one chunk per step).

    ``placement``: "packed" numbers the ring leaf by leaf, so only one hop per leaf leaves it (what a
    topology-aware scheduler does — Llama 3's 1:7 oversubscribed aggregation layer was survivable because
    its jobs were placed this way); "scattered" orders the ranks at random (seeded), so most hops cross.
    """
    import time as _time

    import simpy

    nbytes = nonnegative("nbytes", nbytes, "bytes")
    g = integer("gpus_per_leaf", gpus_per_leaf, minimum=1, maximum=4096)
    n = integer("n_devices", n_devices, minimum=2, maximum=4096)
    if n % g:
        raise ValueError(f"n_devices = {n} must fill whole leaves of gpus_per_leaf = {g}")
    beta = positive("bandwidth_bytes_per_s", bandwidth_bytes_per_s, "bytes/s")
    alpha = nonnegative("latency", latency, "s")
    r = number("oversubscription", oversubscription, "ratio", minimum=1.0, maximum=float(g))
    placement = choice("placement", placement, PLACEMENTS)
    rng = np.random.default_rng(integer("seed", seed, minimum=0))
    steps = 2 * (n - 1)
    _sim_size(n * steps, "n_devices")
    up = max(1, int(round(g / r)))
    order = _ring_order(n, placement, rng)
    leaf = order // g
    dst_leaf = np.roll(leaf, -1)
    crossing = leaf != dst_leaf
    out_load = np.bincount(leaf[crossing], minlength=n // g)
    in_load = np.bincount(dst_leaf[crossing], minlength=n // g)
    load = float(max(out_load.max(), in_load.max())) / up if crossing.any() else 0.0
    tau = alpha + nbytes / n / beta
    with np.errstate(over="ignore"):
        analytic = finite_result(steps * tau * max(1.0, load), "the time (from nbytes, n_devices, latency and "
                                                              "bandwidth_bytes_per_s)")

    env = simpy.Environment()
    # a leaf's uplinks (and downlinks): `up` ports, free count and a FIFO of waiting hops (a semaphore)
    uplinks = [[up, deque()] for _ in range(n // g)]
    downlinks = [[up, deque()] for _ in range(n // g)]
    arrived = [[False] * steps for _ in range(n)]
    waiting = [[None] * steps for _ in range(n)]
    counts = {"events": 0, "end": 0.0}

    def acquire(pool):
        """None when a port is free (taken at once), else an event that fires when one is handed over."""
        if pool[0]:
            pool[0] -= 1
            return None
        ev = env.event()
        pool[1].append(ev)
        return ev

    def release(pool):
        if pool[1]:
            pool[1].popleft().succeed()  # the port passes straight to the next in line
        else:
            pool[0] += 1

    def link(env, i):
        upstream, mine = arrived[(i - 1) % n], arrived[i]
        my_waiting, downstream_waiting = waiting[i], waiting[(i + 1) % n]
        timeout, event = env.timeout, env.event
        cross = bool(crossing[i])
        up_pool, down_pool = uplinks[int(leaf[i])], downlinks[int(dst_leaf[i])]
        events = 0
        for m in range(steps):
            if m and not upstream[m - 1]:
                ev = my_waiting[m] = event()
                events += 1
                yield ev
            if cross:  # uplink first, then downlink: no cycle of holds, so no deadlock
                for pool in (up_pool, down_pool):
                    ev = acquire(pool)
                    if ev is not None:
                        events += 1
                        yield ev
                yield timeout(tau)
                release(up_pool)
                release(down_pool)
            else:
                yield timeout(tau)
            events += 1
            if m < steps - 1:
                mine[m] = True
                pending = downstream_waiting[m + 1]
                if pending is not None:
                    pending.succeed()
        counts["events"] += events
        counts["end"] = max(counts["end"], env.now)

    for i in range(n):
        env.process(link(env, i))
    t0 = _time.perf_counter()
    env.run()
    wall = _time.perf_counter() - t0
    total = finite_result(float(counts["end"]), "the simulated time")
    return FabricSimResult(time=total, analytic_time=float(analytic), n_devices=n, gpus_per_leaf=g,
                           uplinks_per_leaf=up, placement=placement, nbytes=nbytes,
                           crossing_links=int(crossing.sum()), leaf_load=load, n_events=counts["events"] + n,
                           wall_seconds=wall)


# ---------------------------------------------------------------------------------------------
# Topologies
# ---------------------------------------------------------------------------------------------
@dataclass
class Topology:
    """A network at a glance. Bandwidths in bytes/s, one direction.

    ``bisection_bandwidth``: what crosses the worst cut into two equal halves, one direction (bytes/s).
    ``diameter``: the most links a message crosses between two GPUs (GPU–switch links included).
    ``oversubscription``: endpoints' injection bandwidth on one side / bisection bandwidth (1 = full).
    """
    name: str
    n_devices: int
    link_bandwidth_bytes_per_s: float
    bisection_bandwidth: float
    diameter: int
    oversubscription: float
    n_switches: int = 0
    n_links: int = 0
    tiers: int = 0
    switches: dict = field(default_factory=dict)
    notes: str = ""

    @property
    def bisection_per_gpu(self):
        """Bisection bandwidth per GPU of one half (2·bisection/n): what each can send across at once."""
        return 2 * self.bisection_bandwidth / self.n_devices if self.n_devices > 1 else math.inf

    @property
    def full_bisection(self):
        return self.oversubscription <= 1 + 1e-9

    def __repr__(self):
        sw = ", ".join(f"{v} {k}" for k, v in self.switches.items())
        return (f"<Topology {self.name}: {self.n_devices:,} GPUs, "
                f"bisection {u.fmt_bandwidth(self.bisection_bandwidth)} "
                f"({u.fmt_bandwidth(self.bisection_per_gpu)} per GPU), diameter {self.diameter}, "
                f"oversubscription {self.oversubscription:.3g}:1{', ' + sw if sw else ''}>")


def _clos_above_leaves(n_devices, leaves, down, up, radix):
    """Spine (2 tiers) or aggregation + core (3 tiers) switches above ``leaves`` leaf switches."""
    if leaves <= radix:
        spines = math.ceil(leaves * up / radix)
        links_up = leaves * up
        cut = min(n_devices // 2, links_up / 2)
        return 2, {"spine": spines}, links_up, cut, 4
    leaves_per_pod = radix // 2
    pods = math.ceil(leaves / leaves_per_pod)
    if pods > radix:
        raise ValueError(f"n_devices = {n_devices:,} GPUs need more than three tiers of radix-{radix} switches; "
                         f"use a larger switch_radix")
    aggs = pods * up
    cores = math.ceil(aggs * (radix // 2) / radix)
    links_up = leaves * up + aggs * (radix // 2)
    cut = min(n_devices // 2, leaves * up / 2, aggs * (radix // 2) / 2)
    return 3, {"aggregation": aggs, "core": cores}, links_up, cut, 6


def _leaf_ports(radix, oversubscription):
    down = int(round(radix * oversubscription / (1 + oversubscription)))
    down = min(max(down, 1), radix - 1)
    return down, radix - down


def _oversubscription(value, radix):
    """Down:up port ratio of a leaf: from 1:(k−1) to (k−1):1 for radix-k switches."""
    return number("oversubscription", value, "ratio", minimum=1 / (radix - 1), maximum=radix - 1)


def _bisection(cut, b):
    with np.errstate(over="ignore"):
        return finite_result(cut * b, "the bisection bandwidth (from n_devices and link_bandwidth_bytes_per_s)")


def fat_tree(n_devices, switch_radix=64, link_bandwidth_bytes_per_s=50 * u.GB, oversubscription=1.0):
    """A folded-Clos ("fat-tree") network of radix-``switch_radix`` switches, one port per GPU.

    Leaves split their ports into down (GPUs) and up (spines) in the ratio ``oversubscription``:1
    (1 = full bisection bandwidth). Two tiers serve up to k·down GPUs (k²/2 at full bisection), three
    tiers up to k³/4. ``link_bandwidth_bytes_per_s`` is each cable's one-direction bandwidth (NDR
    400 Gb/s = 50 GB/s).
    """
    n = integer("n_devices", n_devices, minimum=2, maximum=MAX_DEVICES)
    k = integer("switch_radix", switch_radix, minimum=4, maximum=4096)
    b = positive("link_bandwidth_bytes_per_s", link_bandwidth_bytes_per_s, "bytes/s")
    r = _oversubscription(oversubscription, k)
    name = "fat-tree" if r == 1 else f"fat-tree {r:g}:1 oversubscribed"
    if n <= k:
        return Topology(name, n, b, _bisection(n // 2, b), 2, 1.0, 1, n, 1, {"leaf": 1},
                        "one switch: every GPU one hop from every other")
    down, up = _leaf_ports(k, r)
    leaves = math.ceil(n / down)
    tiers, upper, links_up, cut, diameter = _clos_above_leaves(n, leaves, down, up, k)
    switches = {"leaf": leaves, **upper}
    return Topology(name, n, b, _bisection(cut, b), diameter, (n // 2) / cut, sum(switches.values()),
                    n + links_up, tiers, switches, f"{down} GPU ports and {up} uplinks per leaf")


def rail_optimized(n_devices, gpus_per_node=8, switch_radix=64, link_bandwidth_bytes_per_s=50 * u.GB,
                   oversubscription=1.0, nvswitches_per_node=4):
    """A rail-optimized fat tree (NVIDIA DGX SuperPOD style): NIC i of every node goes to rail-i leaves.

    A "scalable unit" of ``down`` nodes gets one leaf per rail (``gpus_per_node`` leaves), so GPU i of
    any two nodes in the unit is one switch apart; other traffic hops through NVLink or the spines.
    Switch counts include the NVSwitches inside nodes. Same bisection rules as fat_tree.
    """
    n = integer("n_devices", n_devices, minimum=2, maximum=MAX_DEVICES)
    g = integer("gpus_per_node", gpus_per_node, minimum=1, maximum=1024)
    k = integer("switch_radix", switch_radix, minimum=4, maximum=4096)
    b = positive("link_bandwidth_bytes_per_s", link_bandwidth_bytes_per_s, "bytes/s")
    r = _oversubscription(oversubscription, k)
    nvs = integer("nvswitches_per_node", nvswitches_per_node, minimum=0, maximum=1024)
    nodes = math.ceil(n / g)
    down, up = _leaf_ports(k, r)
    units = math.ceil(nodes / down)
    leaves = units * g
    tiers, upper, links_up, cut, diameter = _clos_above_leaves(n, leaves, down, up, k)
    switches = {"leaf": leaves, **upper, "nvswitch": nodes * nvs}
    network = {k_: v for k_, v in switches.items() if k_ != "nvswitch"}
    return Topology("rail-optimized", n, b, _bisection(cut, b), diameter, (n // 2) / cut, sum(switches.values()),
                    n + links_up, tiers, switches,
                    f"{units} scalable units of {min(down, nodes)} nodes; same-rail GPUs of a unit are one "
                    f"switch apart; {sum(network.values())} network switches")


def torus_dims(n_devices, ndims=3):
    """Near-equal dimensions (largest first) whose product is ``n_devices`` — e.g. 1024 → (16, 8, 8)."""
    n = integer("n_devices", n_devices, minimum=1, maximum=MAX_DEVICES)
    ndims = integer("ndims", ndims, minimum=1, maximum=6)
    dims = [1] * ndims
    for p in _prime_factors(n)[::-1]:
        dims.sort()
        dims[0] *= p
    return tuple(sorted(dims, reverse=True))


def _prime_factors(n):
    out, p = [], 2
    while p * p <= n:
        while n % p == 0:
            out.append(p)
            n //= p
        p += 1
    if n > 1:
        out.append(n)
    return out


def torus(dims, link_bandwidth_bytes_per_s=50 * u.GB):
    """A k-ary torus with wrap-around links (a direct network: no switches, as in TPU pods).

    ``dims`` like (8, 8, 16); each GPU links to 2 neighbours per dimension (1 when the dimension is 2).
    Diameter Σ⌊dᵢ/2⌋; bisection = the links cut across the largest dimension (two cuts, thanks to the
    wrap-around) × link bandwidth (Dally & Towles 2004, ch. 3).
    """
    if isinstance(dims, (int, np.integer)) and not isinstance(dims, (bool, np.bool_)):
        dims = (dims,)
    if not isinstance(dims, (tuple, list)) or not dims:
        raise TypeError(f"dims must be a tuple of dimension sizes such as (8, 8, 16), got {dims!r}")
    if len(dims) > 6:
        raise ValueError(f"dims must have at most 6 dimensions, got {len(dims)}")
    dims = tuple(integer(f"dims[{i}]", d, minimum=1, maximum=MAX_DEVICES) for i, d in enumerate(dims))
    b = positive("link_bandwidth_bytes_per_s", link_bandwidth_bytes_per_s, "bytes/s")
    n = math.prod(dims)
    if n < 2:
        raise ValueError(f"a torus needs at least 2 GPUs; dims = {dims} has {n}")
    if n > MAX_DEVICES:
        raise ValueError(f"dims = {dims} make {n:,} GPUs; at most {MAX_DEVICES:,}")
    big = max(dims)
    cut_links = (n // big) * (2 if big > 2 else 1)
    neighbours = sum(2 if d > 2 else (1 if d == 2 else 0) for d in dims)
    with np.errstate(over="ignore"):
        injection = finite_result(neighbours * b, "the injection bandwidth (from link_bandwidth_bytes_per_s)")
    bisection = _bisection(cut_links, b)
    links = n * neighbours // 2
    return Topology("torus " + "×".join(map(str, dims)), n, b, bisection, sum(d // 2 for d in dims),
                    (n / 2) * neighbours / cut_links, 0, links, 0, {},
                    f"each GPU has {neighbours} links ({u.fmt_bandwidth(injection)} in all)")


def compare_topologies(n_devices, link_bandwidth_bytes_per_s=50 * u.GB, switch_radix=64, gpus_per_node=8):
    """Fat tree, rail-optimized fat tree, 2:1 oversubscribed fat tree and 3-D torus for ``n_devices`` GPUs."""
    n = integer("n_devices", n_devices, minimum=2, maximum=MAX_DEVICES)
    return [fat_tree(n, switch_radix, link_bandwidth_bytes_per_s),
            rail_optimized(n, gpus_per_node, switch_radix, link_bandwidth_bytes_per_s),
            fat_tree(n, switch_radix, link_bandwidth_bytes_per_s, oversubscription=2.0),
            torus(torus_dims(n, 3), link_bandwidth_bytes_per_s)]


# ---------------------------------------------------------------------------------------------
# Data parallelism: compute vs a bucketed gradient all-reduce
# ---------------------------------------------------------------------------------------------
@dataclass
class StepResult:
    """One data-parallel training step (s): arrays when the inputs were arrays."""
    step_time: object
    compute_time: object
    comm_time: object
    exposed_comm: object
    efficiency: object
    n_buckets: int
    bucket_time: object


_STEP_ARGS = "n_devices, grad_bytes, compute_time, bandwidth_bytes_per_s and latency"


def data_parallel_step(n_devices, grad_bytes, compute_time, bandwidth_bytes_per_s, latency=0.0, *,
                       bucket_bytes=DDP_BUCKET_BYTES, backward_fraction=2 / 3, overlap=True, algorithm="ring"):
    """Step time of data-parallel training whose gradient all-reduce overlaps the backward pass.

    Gradients (``grad_bytes`` in all) become ready uniformly during the backward pass (the last
    ``backward_fraction`` of ``compute_time``) and are all-reduced over the ``n_devices`` GPUs in equal
    buckets of about ``bucket_bytes`` (PyTorch DDP's default, bucket_cap_mb=25, is 25 MiB = 25·2²⁰ B), one after another on the network
    (``bandwidth_bytes_per_s`` per GPU, one direction). Bucket j is ready at T_fwd + (j+1)·T_bwd/B; its
    all-reduce takes t_b = allreduce_time(bucket, n, …). Then

        step = max(T_compute + t_b,  T_fwd + T_bwd/B + B·t_b)

    (the last bucket's reduction after backward, or the network busy from the first bucket on).
    Without overlap: T_compute + B·t_b. Efficiency = T_compute / step. Optimizer time is ignored.
    Arrays broadcast over n_devices, compute_time, bandwidth_bytes_per_s. At most :data:`MAX_BUCKETS`.
    """
    n = _ranks(n_devices, "n_devices")
    grad_bytes = positive("grad_bytes", grad_bytes, "bytes")
    compute = positive("compute_time", compute_time, "s", array=True)
    bandwidth = positive("bandwidth_bytes_per_s", bandwidth_bytes_per_s, "bytes/s", array=True)
    latency = nonnegative("latency", latency, "s", array=True)
    bucket_bytes = positive("bucket_bytes", bucket_bytes, "bytes")
    backward_fraction = fraction("backward_fraction", backward_fraction, allow_zero=False)
    overlap = flag("overlap", overlap)
    algorithm = choice("algorithm", algorithm, ALGORITHMS)
    ratio = grad_bytes / bucket_bytes
    if not ratio <= MAX_BUCKETS:
        raise ValueError(f"grad_bytes / bucket_bytes = {ratio:.3g} buckets; at most {MAX_BUCKETS:,} "
                         "(use larger buckets)")
    n_buckets = max(1, math.ceil(ratio - 1e-9))
    try:
        t_b = allreduce_time(grad_bytes / n_buckets, n, bandwidth, latency, algorithm)
    except ValueError:
        raise ValueError(f"the bucket all-reduce time is not finite for these inputs ({_STEP_ARGS})") from None
    backward = backward_fraction * compute
    forward = compute - backward
    with np.errstate(over="ignore"):
        if overlap:
            step = np.maximum(compute + t_b, forward + backward / n_buckets + n_buckets * np.asarray(t_b))
        else:
            step = compute + n_buckets * np.asarray(t_b)
        step = np.where(np.asarray(n) > 1, step, compute)
        comm = n_buckets * np.asarray(t_b)
    what = f"the step time (from {_STEP_ARGS})"
    finite_result(step, what)
    finite_result(comm, what)
    return StepResult(step_time=_out(step), compute_time=_out(compute), comm_time=_out(comm),
                      exposed_comm=_out(step - compute), efficiency=_out(np.minimum(compute / step, 1.0)),
                      n_buckets=n_buckets, bucket_time=_out(t_b))


@dataclass
class ScalingResult:
    """Weak or strong scaling of data parallelism over ``n_devices`` GPU counts (arrays, s)."""
    mode: str
    n_devices: np.ndarray
    step_time: np.ndarray
    compute_time: np.ndarray
    exposed_comm: np.ndarray
    efficiency: np.ndarray
    speedup: np.ndarray


def scaling(n_devices, grad_bytes, compute_time, bandwidth_bytes_per_s, latency=0.0, *, mode="weak",
            bucket_bytes=DDP_BUCKET_BYTES, backward_fraction=2 / 3, overlap=True, algorithm="ring"):
    """Data-parallel scaling over a list of GPU counts ``n_devices``.

    ``mode="weak"``: each GPU keeps its batch, so ``compute_time`` (one step on one GPU) stays;
    speedup = n × compute / step. ``mode="strong"``: the global batch is fixed, so compute per GPU is
    compute_time / n while the gradient to all-reduce stays the same; speedup = compute_time / step.
    Efficiency = speedup / n.
    """
    mode = choice("mode", mode, ("weak", "strong"))
    n = np.atleast_1d(_ranks(n_devices, "n_devices")).astype(float)
    compute_time = positive("compute_time", compute_time, "s")
    per_gpu = np.full(n.shape, compute_time) if mode == "weak" else compute_time / n
    r = data_parallel_step(n, grad_bytes, per_gpu, bandwidth_bytes_per_s, latency, bucket_bytes=bucket_bytes,
                           backward_fraction=backward_fraction, overlap=overlap, algorithm=algorithm)
    step = np.atleast_1d(np.asarray(r.step_time, dtype=float))
    speedup = n * (per_gpu / step) if mode == "weak" else compute_time / step
    return ScalingResult(mode, n, step, per_gpu, np.atleast_1d(np.asarray(r.exposed_comm, dtype=float)),
                         speedup / n, speedup)


def dp_critical_tokens_per_gpu(peak_flops_per_s, bandwidth_bytes_per_s, grad_bytes_per_param=2, n_devices=None):
    """Tokens per GPU per step above which the gradient all-reduce can hide behind the backward pass.

    Backward ≈ 4·P·T FLOP per GPU (twice the forward 2·P·T); a ring all-reduce of the gradients moves
    2(n−1)/n · P · grad_bytes_per_param bytes per link. Equal when T = (n−1)/n · grad_bytes_per_param ·
    peak_flops_per_s / (2 · bandwidth_bytes_per_s): the network's ridge point (core.roofline.ridge_point:
    FLOP per byte of gradient traffic) scaled by the gradient's bytes. With bf16 gradients (2 bytes) and
    large n, T ≈ peak / bandwidth ("How to Scale Your Model", GPU chapter: 990e12 / 400e9 ≈ 2,475 tokens
    on H100 across nodes). ``n_devices`` None means n → ∞.

    Which bandwidth: the all-reduce bandwidth one GPU sees. Across H100 nodes that is the node's egress,
    8 NICs × 50 GB/s = 400 GB/s, because NCCL's rings (or a hierarchical all-reduce) put every NIC of the
    node to work on each GPU's gradient (nccl_bus_bandwidth); a flat ring through one 50 GB/s NIC per GPU
    would need 990e12 / 50e9 = 19,800 tokens. Inside one node it is NVLink's 450 GB/s (2,200 tokens).
    """
    ridge = ridge_point(peak_flops_per_s, bandwidth_bytes_per_s)
    g = positive("grad_bytes_per_param", grad_bytes_per_param, "bytes")
    factor = 1.0 if n_devices is None else (lambda n: (n - 1) / n)(_ranks(n_devices, "n_devices"))
    with np.errstate(over="ignore"):
        return _out(factor * g * ridge / 2, "the critical batch (from peak_flops_per_s, bandwidth_bytes_per_s "
                                           "and grad_bytes_per_param)")


# ---------------------------------------------------------------------------------------------
# Data: the bandwidth hierarchy
# ---------------------------------------------------------------------------------------------
def load_interconnects():
    """datasets/interconnects.csv as a Table (bandwidth per direction in bytes/s, latency in s)."""
    from .data import load
    return load("interconnects")


# ---------------------------------------------------------------------------------------------
# Plots (pyplot imported lazily; each returns the Figure)
# ---------------------------------------------------------------------------------------------
_KIND_COLOURS = {"cache": "C4", "hbm": "C3", "nvlink": "C2", "pcie": "C1", "infiniband": "C0", "ethernet": "C7"}


def plot_bandwidth_hierarchy(table=None, ax=None):
    """One log-scale chart: bandwidth per direction by year, from on-chip cache to the data-center network.

    ``table``: a Table with the columns of datasets/interconnects.csv (default: that file).
    """
    from .data import Table
    if table is not None:
        instance("table", table, Table, "a labkit.data.Table like load_interconnects() returns, or None")
        missing = {"kind", "year", "name", "bandwidth_bytes_per_s"} - set(table.columns)
        if missing:
            raise ValueError(f"table lacks the column(s) {', '.join(sorted(missing))} of datasets/interconnects.csv")
    t = load_interconnects() if table is None else table
    fig, ax = new_axes(ax, (8, 4.6), margins={})
    for kind, colour in _KIND_COLOURS.items():
        rows = t.where(kind=kind).sort("year")
        if len(rows) == 0:
            continue
        ax.semilogy(rows["year"], rows["bandwidth_bytes_per_s"], "o-", color=colour, label=kind, ms=5)
        last = rows.rows()[-1]
        label = last["name"].split(" (")[0].replace(" x16", "")
        ax.annotate(label, (last["year"], last["bandwidth_bytes_per_s"]), fontsize=7, color=colour,
                    xytext=(5, -7 if kind == "ethernet" else 2), textcoords="offset points", va="center")
    ax.set(xlabel="year", ylabel="bandwidth, one direction (bytes/s)",
           title="The bandwidth hierarchy: each step away from the chip costs roughly 10×")
    ax.set_xlim(right=float(np.nanmax(t["year"])) + 3)
    ax.grid(True, which="major", alpha=0.3)
    ax.legend(fontsize=8, ncol=3, loc="upper left")
    no_minor_ticks(ax)
    return fig


def plot_alpha_beta(bandwidth_bytes_per_s, latency, ax=None):
    """Effective bandwidth vs message size for one link, with the α·β crossover marked."""
    bandwidth = positive("bandwidth_bytes_per_s", bandwidth_bytes_per_s, "bytes/s")
    latency = nonnegative("latency", latency, "s")
    x = crossover_size(bandwidth, latency)
    fig, ax = new_axes(ax, margins={})
    sizes = np.logspace(1, 11, 200)
    ax.loglog(sizes, effective_bandwidth(sizes, bandwidth, latency), label="effective bandwidth")
    ax.axhline(bandwidth, color="grey", ls=":", label=f"link bandwidth {u.fmt_bandwidth(bandwidth)}")
    if x > 0:
        ax.axvline(x, color="C3", ls="--", label=f"α·β = {u.fmt_bytes(x)}: half the bandwidth")
    ax.set(xlabel="message size (bytes)", ylabel="achieved bytes/s",
           title=f"α-β model: α = {u.fmt_seconds(latency)}, β = {u.fmt_bandwidth(bandwidth)}")
    ax.legend(fontsize=8)
    no_minor_ticks(ax)
    return fig


def plot_allreduce_algorithms(n, bandwidth_bytes_per_s, latency, ax=None, sizes=None):
    """All-reduce time vs message size (``sizes``, bytes) for ring, tree and recursive doubling on n ranks."""
    n = integer("n", n, minimum=1)
    bandwidth = positive("bandwidth_bytes_per_s", bandwidth_bytes_per_s, "bytes/s")
    latency = nonnegative("latency", latency, "s")
    sizes = np.logspace(2, 10, 120) if sizes is None else \
        np.atleast_1d(positive("sizes", sizes, "bytes", array=True, maximum=1e18))
    if sizes.size > 100_000:
        raise ValueError(f"sizes must hold at most 100,000 message sizes, got {sizes.size:,}")
    times = [allreduce_time(sizes, n, bandwidth, latency, alg) for alg in ALGORITHMS]
    fig, ax = new_axes(ax, margins={})
    for i, (alg, t) in enumerate(zip(ALGORITHMS, times)):
        ax.loglog(sizes, t, color=f"C{i}", label=alg)
    ax.set(xlabel="message size (bytes)", ylabel="all-reduce time (s)",
           title=f"All-reduce on {n:,} ranks, α = {u.fmt_seconds(latency)}, β = {u.fmt_bandwidth(bandwidth)}")
    ax.legend(fontsize=8)
    ax.grid(True, which="major", alpha=0.3)
    no_minor_ticks(ax)
    return fig


_BUSBW_SIZES = 2.0 ** np.arange(3, 35)  # bytes: nccl-tests' default sweep, 8 B to 16 GiB (-b 8 -e 16G -f 2)


def _busbw_ticks(ax):
    ax.set_xticks([1e3, 1e6, 1e9], ["1 kB", "1 MB", "1 GB"])
    ax.grid(True, which="major", alpha=0.3)
    no_minor_ticks(ax)


def plot_busbw_vs_size(gpus_per_node, nodes, intra_bandwidth_bytes_per_s, inter_bandwidth_bytes_per_s,
                       fractions=(0.8, 0.9), ax=None):
    """The busbw column of an all_reduce_perf run (8 B to 16 GiB, ×2 steps) as NCCL's model predicts it.

    One line per ring protocol and NCCL's pick ("auto"), a dotted line at the bus bandwidth, and the
    sizes where the pick first reaches each of ``fractions`` of it marked.
    """
    fractions = [float(_fraction_open(f"fractions[{i}]", f)) for i, f in
                 enumerate(sequence("fractions", fractions, maximum=10))]
    _, g, m, b_in, b_out = _nccl_args(0.0, gpus_per_node, nodes, intra_bandwidth_bytes_per_s,
                                      inter_bandwidth_bytes_per_s)
    if g * m < 2:
        raise ValueError("gpus_per_node × nodes must be at least 2: one GPU has no all-reduce to measure")
    peak = nccl_bus_bandwidth(g, m, b_in, b_out)
    fig, ax = new_axes(ax, (8, 4.2), margins={})
    sizes = _BUSBW_SIZES
    for i, proto in enumerate(NCCL_PROTOCOLS):
        bw = nccl_allreduce_busbw(sizes, g, m, b_in, b_out, "ring", proto)
        ax.semilogx(sizes, bw / u.GB, color=f"C{i}", lw=1, alpha=0.7, label=f"ring, {proto}")
    best = nccl_allreduce_busbw(sizes, g, m, b_in, b_out)
    ax.semilogx(sizes, best / u.GB, "k.-", lw=2, ms=4, label="NCCL's pick (ring or tree, any protocol)")
    ax.axhline(peak / u.GB, color="grey", ls=":", lw=1)
    ax.text(sizes[0], peak / u.GB, f" bus bandwidth {u.fmt_bandwidth(peak)}", va="bottom", fontsize=8, color="grey")
    for f in fractions:
        reached = sizes[best >= f * peak]
        if reached.size:
            ax.axvline(reached[0], color="C3", ls="--", lw=1)
            ax.text(reached[0], f * peak / u.GB, f"{f:.0%} at {u.fmt_bytes(reached[0])} ", fontsize=8, color="C3",
                    va="top", ha="right")
    ax.set(xlabel="all-reduce size (bytes)", ylabel="busbw (GB/s)", ylim=(0, peak / u.GB * 1.12),
           title=f"all_reduce_perf as NCCL's model predicts it: {m} node(s) × {g} GPUs")
    ax.legend(fontsize=8, loc="center left")
    _busbw_ticks(ax)
    return fig


def plot_allreduce_strategies(gpus_per_node, nodes, intra_bandwidth_bytes_per_s, inter_bandwidth_bytes_per_s,
                              ax=None):
    """busbw vs size of the five strategies of compare_allreduce_strategies (NCCL's ring and tree, the
    flat ring NCCL never builds, the three-phase hierarchy, SHARP across nodes)."""
    _, g, m, b_in, b_out = _nccl_args(0.0, gpus_per_node, nodes, intra_bandwidth_bytes_per_s,
                                      inter_bandwidth_bytes_per_s)
    n = g * m
    if n < 2:
        raise ValueError("gpus_per_node × nodes must be at least 2: one GPU has no all-reduce to compare")
    sizes = _BUSBW_SIZES
    fig, ax = new_axes(ax, (8, 4.2), margins={})
    for i, (name, t) in enumerate(compare_allreduce_strategies(sizes, g, m, b_in, b_out).items()):
        ax.semilogx(sizes, bus_bandwidth(sizes, t, n) / u.GB, color=f"C{i}", label=name)
    ax.set(xlabel="all-reduce size (bytes)", ylabel="busbw (GB/s)", ylim=(0, None),
           title=f"All-reduce on {m} nodes × {g} GPUs: NVLink {u.fmt_bandwidth(b_in)}, NIC {u.fmt_bandwidth(b_out)}")
    ax.legend(fontsize=8)
    _busbw_ticks(ax)
    return fig


def plot_oversubscription(runs, ax=None):
    """Simulated all-reduce time by leaf oversubscription, one line per placement, from FabricSimResults."""
    results = list(runs) if isinstance(runs, (list, tuple)) else [runs]
    sequence("runs", results, maximum=100)
    for i, r in enumerate(results):
        instance(f"runs[{i}]", r, FabricSimResult, "a FabricSimResult from simulate_fat_tree_allreduce")
    fig, ax = new_axes(ax, (7, 3.8), margins={})
    for i, placement in enumerate(PLACEMENTS):
        rows = sorted((r for r in results if r.placement == placement), key=lambda r: r.oversubscription)
        if rows:
            ax.plot([r.oversubscription for r in rows], [r.time * 1e3 for r in rows], "o-", color=f"C{i}",
                    label=f"{placement}: simulated")
            ax.plot([r.oversubscription for r in rows], [r.analytic_time * 1e3 for r in rows], ":", color=f"C{i}",
                    label=f"{placement}: fluid bound")
    first = results[0]
    ax.set(xlabel="leaf oversubscription (down : up ports)", ylabel="all-reduce time (ms)", ylim=(0, None),
           title=f"Ring all-reduce of {u.fmt_bytes(first.nbytes)} on {first.n_devices} GPUs, "
                 f"{first.gpus_per_leaf} per leaf")
    ax.legend(fontsize=8)
    return fig


def plot_ring_timeline(result, ax=None, max_links=16):
    """A Gantt chart of a RingSimResult: one row per link (the first ``max_links``), one bar per message,
    coloured by step."""
    import matplotlib.pyplot as plt
    instance("result", result, RingSimResult, "a RingSimResult from simulate_ring_allreduce")
    max_links = integer("max_links", max_links, minimum=1, maximum=256)
    rows = min(result.n, max_links)
    height = 0.35 * rows + 1.6
    fig, ax = new_axes(ax, (8, height), {"bottom": 0.75 / height, "top": 1 - 0.45 / height, "left": 0.08})
    steps = max(1, int(result.step.max()) + 1) if result.step.size else 1
    cmap = plt.get_cmap("viridis")
    colours = [cmap(s / max(1, steps - 1)) for s in result.step]
    bws = result.link_bandwidths_bytes_per_s
    for i in range(rows):
        starts, ends = result.busy_start[i], result.busy_end[i]
        ax.broken_barh(list(zip(starts, ends - starts)), (i - 0.4, 0.8), facecolors=colours, edgecolor="white",
                       linewidth=0.3)
        if i == result.slowest_link and bws.min() < bws.max():
            ax.text(result.time, i, " slow link", va="center", fontsize=8, color="C3")
    ax.set(xlabel="time (s)", ylabel="link (rank i → i+1)", ylim=(rows - 0.5, -0.5),
           title=f"Ring all-reduce, {result.n} ranks, {result.chunks} chunk(s)/step: "
                 f"{u.fmt_seconds(result.time)} (colour = step, 2(n−1) = {steps} steps)")
    if result.time > 0:
        ax.set_xlim(0, result.time * 1.12)
    return fig


def _switch_label(t):
    """Network switches, and the NVSwitches inside nodes separately: a fat tree's count has none."""
    nvs = t.switches.get("nvswitch", 0)
    net = t.n_switches - nvs
    return f"{net:,} network switches" + (f"\n+ {nvs:,} NVSwitches" if nvs else "")


def plot_topologies(topologies, ax=None):
    """Bisection bandwidth per GPU and diameter of several Topology objects, side by side.

    The right-hand labels count network switches; NVSwitches inside nodes (rail_optimized) are listed
    apart, so a fat tree and a rail-optimized tree of the same GPUs compare like with like.
    """
    topologies = sequence("topologies", topologies, maximum=100)
    for i, t in enumerate(topologies):
        instance(f"topologies[{i}]", t, Topology, "a Topology (from fat_tree, rail_optimized or torus)")
    axes("ax", ax)
    if ax is None:
        import matplotlib.pyplot as plt
        fig, (ax, ax2) = plt.subplots(1, 2, figsize=(9, 3.8))
        fig.subplots_adjust(left=0.24, right=0.76, bottom=0.15, top=0.9, wspace=0.1)
    else:
        fig, ax2 = ax.figure, ax.twinx()
    names = [t.name for t in topologies]
    y = np.arange(len(names))
    ax.barh(y, [t.bisection_per_gpu / u.GB for t in topologies], color="C0")
    ax.set_yticks(y, names)
    ax.invert_yaxis()
    ax.set(xlabel="bisection bandwidth per GPU (GB/s)", title=f"{topologies[0].n_devices:,} GPUs")
    ax2.barh(y, [t.diameter for t in topologies], color="C1")
    ax2.set_yticks(y, [_switch_label(t) for t in topologies])
    ax2.invert_yaxis()
    ax2.yaxis.tick_right()
    ax2.set(xlabel="diameter (links, worst case)")
    return fig


def plot_overlap(n_devices, grad_bytes, compute_time, bandwidth_bytes_per_s, latency=0.0, *,
                 bucket_bytes=DDP_BUCKET_BYTES, backward_fraction=2 / 3, ax=None):
    """The timeline of one data-parallel step: forward, backward, and the bucket all-reduces after it."""
    n_devices = integer("n_devices", n_devices, minimum=1)
    compute_time = positive("compute_time", compute_time, "s")
    bandwidth_bytes_per_s = positive("bandwidth_bytes_per_s", bandwidth_bytes_per_s, "bytes/s")
    latency = nonnegative("latency", latency, "s")
    axes("ax", ax)
    r = data_parallel_step(n_devices, grad_bytes, compute_time, bandwidth_bytes_per_s, latency,
                           bucket_bytes=bucket_bytes, backward_fraction=backward_fraction)
    backward_fraction = float(backward_fraction)
    fig, ax = new_axes(ax, (8, 2.6), {"left": 0.14, "bottom": 0.2, "top": 0.86})
    fwd = compute_time * (1 - backward_fraction)
    ax.broken_barh([(0, fwd)], (1.6, 0.8), facecolors="C0")
    ax.broken_barh([(fwd, compute_time - fwd)], (1.6, 0.8), facecolors="C1")
    ax.text(fwd / 2, 2, "forward", ha="center", va="center", color="white", fontsize=8)
    ax.text(fwd + (compute_time - fwd) / 2, 2, "backward", ha="center", va="center", color="white", fontsize=8)
    B, t_b = r.n_buckets, float(r.bucket_time)
    ready = fwd + (np.arange(B) + 1) * (compute_time - fwd) / B
    done, bars = 0.0, []
    for j in range(B):
        begin = max(ready[j], done)
        done = begin + t_b
        bars.append((begin, t_b))
    if n_devices > 1:
        ax.broken_barh(bars, (0.6, 0.8), facecolors="C2", edgecolor="white", linewidth=0.3)
    ax.axvline(float(r.step_time), color="C3", ls="--")
    ax.set_yticks([1, 2], ["all-reduce\n(buckets)", "compute"])
    ax.set(xlabel="time (s)", title=f"{n_devices:,} GPUs, {B} buckets: step {u.fmt_seconds(float(r.step_time))}, "
                                    f"efficiency {float(r.efficiency):.0%}")
    return fig


def plot_scaling(results, ax=None):
    """Scaling efficiency vs GPU count for one ScalingResult or a list of them."""
    results = list(results) if isinstance(results, (list, tuple)) else [results]
    sequence("results", results, maximum=100)
    for i, r in enumerate(results):
        instance(f"results[{i}]" if len(results) > 1 else "results", r, ScalingResult,
                 "a ScalingResult from scaling(), or a list of them")
    fig, ax = new_axes(ax, margins={})
    for r in results:
        ax.semilogx(r.n_devices, r.efficiency, "o-", ms=3, label=f"{r.mode} scaling")
    ax.axhline(0.9, color="grey", ls=":", lw=1)
    ax.set(xlabel="GPUs", ylabel="scaling efficiency", ylim=(0, 1.05), title="Data parallelism: weak vs strong scaling")
    ax.legend(fontsize=8)
    no_minor_ticks(ax)
    return fig


# ---------------------------------------------------------------------------------------------
# Explorer
# ---------------------------------------------------------------------------------------------
_EXPLORER_SIZES = np.logspace(3, 10, 50)  # bytes: the message-size axis of the explorer
# Slider ranges (SI): message 1 kB–10 GB, 2–1,024 ranks, links 1 GB/s–1 TB/s, α 0.1–100 µs.
_EXPLORER_RANGES = {"nbytes": (1e3, 1e10), "n": (2, 1024), "bandwidth_bytes_per_s": (1e9, 1e12),
                    "latency": (1e-7, 1e-4)}
# s: covers every slider setting, from ≈0.1 µs (1 kB, 2 ranks, α = 0.1 µs) to ≈110 s (recursive doubling of
# 10 GB on 1,023 ranks over 1 GB/s links)
_EXPLORER_TIME_LIMITS = (1e-7, 1e3)


def _collective_curves(n, bandwidth_bytes_per_s, latency):
    """All-reduce time (s) and busbw/line rate over the explorer's message sizes, per algorithm."""
    times = [allreduce_time(_EXPLORER_SIZES, n, bandwidth_bytes_per_s, latency, alg) for alg in ALGORITHMS]
    return times, [bus_bandwidth(_EXPLORER_SIZES, t, n) / bandwidth_bytes_per_s for t in times]


def _build_collective(fig):
    """The explorer's two panels with fixed limits and ticks; returns the artists an update moves."""
    ax1, ax2 = fig.subplots(1, 2)
    fig.subplots_adjust(left=0.09, right=0.98, bottom=0.16, top=0.9, wspace=0.28)
    h = {"time": [], "busbw": []}
    flat = np.ones_like(_EXPLORER_SIZES)
    for i, alg in enumerate(ALGORITHMS):
        h["time"].append(ax1.plot(_EXPLORER_SIZES, flat, color=f"C{i}", label=alg)[0])
        h["busbw"].append(ax2.plot(_EXPLORER_SIZES, flat, color=f"C{i}")[0])
    h["time_dot"] = ax1.plot([1e6], [1e-3], "o", color="C3", clip_on=False)[0]
    h["busbw_dot"] = ax2.plot([1e6], [0.5], "o", color="C3", clip_on=False)[0]
    ax2.axhline(1.0, color="grey", ls=":", lw=1)
    ax1.set(xscale="log", yscale="log", xlim=(1e3, 1e10), ylim=_EXPLORER_TIME_LIMITS,
            xlabel="message", ylabel="all-reduce time", title="time")
    ax2.set(xscale="log", xlim=(1e3, 1e10), ylim=(0, 1.1), xlabel="message", ylabel="busbw ÷ link line rate")
    ax1.set_yticks([1e-6, 1e-3, 1.0, 1e3], ["1 µs", "1 ms", "1 s", "1000 s"])
    ax2.set_yticks([0, 0.25, 0.5, 0.75, 1.0], ["0", "25 %", "50 %", "75 %", "100 %"])
    for ax in (ax1, ax2):
        ax.set_xticks([1e3, 1e6, 1e9], ["1 kB", "1 MB", "1 GB"])
        ax.grid(True, which="major", alpha=0.3)
    ax1.legend(fontsize=7, loc="upper left")
    h["title"] = ax2.set_title(" ", y=1.0)  # a fixed position: no title layout on each update
    return h


def _update_collective(h, nbytes, n, bandwidth_bytes_per_s, latency, algorithm):
    """Move the 50-point analytic curves, the two dots and the title; return the readout.

    busbw is shown as a fraction of the link's line rate so its axis never rescales.
    """
    bw = bandwidth_bytes_per_s
    times, busbws = _collective_curves(n, bw, latency)
    for alg, t_line, b_line, t, b in zip(ALGORITHMS, h["time"], h["busbw"], times, busbws):
        width, alpha = (2.2, 1.0) if alg == algorithm else (1.0, 0.45)
        t_line.set_ydata(t)
        b_line.set_ydata(b)
        for line in (t_line, b_line):
            line.set_linewidth(width)
            line.set_alpha(alpha)
    t_here = allreduce_time(nbytes, n, bw, latency, algorithm)
    busbw = bus_bandwidth(nbytes, t_here, n)
    h["time_dot"].set_data([nbytes], [t_here])
    h["busbw_dot"].set_data([nbytes], [busbw / bw])
    h["title"].set_text(f"bus bandwidth (line rate {u.fmt_bandwidth(bw)} dotted)")
    return (f"{algorithm} all-reduce of {u.fmt_bytes(nbytes)} on {n:,} ranks: {u.fmt_seconds(t_here)}; "
            f"algbw {u.fmt_bandwidth(nbytes / t_here)}, busbw {u.fmt_bandwidth(busbw)} "
            f"({busbw / bw:.0%} of the {u.fmt_bandwidth(bw)} link)")


def collective_explorer(nbytes=64 * u.MB, n=64, bandwidth_bytes_per_s=50 * u.GB, latency=5 * u.US,
                        algorithm="ring"):
    """Sliders: message size ``nbytes``, ranks ``n``, link bandwidth (bytes/s, one way), latency α (s) and
    the algorithm → all-reduce time and busbw. Arguments are the sliders' starting values."""
    from .core.explore import dropdown, explorer, int_slider, slider
    (lo_b, hi_b), (lo_n, hi_n), (lo_w, hi_w), (lo_a, hi_a) = _EXPLORER_RANGES.values()
    nbytes = number("nbytes", nbytes, "bytes", minimum=lo_b, maximum=hi_b)
    n = integer("n", n, minimum=lo_n, maximum=hi_n)
    bandwidth_bytes_per_s = number("bandwidth_bytes_per_s", bandwidth_bytes_per_s, "bytes/s", minimum=lo_w,
                                   maximum=hi_w)
    latency = number("latency", latency, "s", minimum=lo_a, maximum=hi_a)
    algorithm = choice("algorithm", algorithm, ALGORITHMS)
    return explorer(_build_collective, _update_collective, title="All-reduce: time and bus bandwidth",
                    figsize=(8.5, 3.8),
                    nbytes=slider(nbytes, lo_b, hi_b, None, "message (bytes)", log=True),
                    n=int_slider(n, lo_n, hi_n, 1, "ranks n"),
                    bandwidth_bytes_per_s=slider(bandwidth_bytes_per_s, lo_w, hi_w, None,
                                                 "link bytes/s (one way)", log=True),
                    latency=slider(latency, lo_a, hi_a, None, "latency α (s)", log=True),
                    algorithm=dropdown(algorithm, list(ALGORITHMS), "algorithm"))
