"""NCCL's own cost model (src/graph/tuning.cc): protocols, the hierarchy NCCL builds, and in-network
reduction (SHARP) compared with it."""

import math

import numpy as np

from .. import units as u
from ..core.validate import choice, integer, nonnegative, positive
from ._common import NCCL_STEP_LATENCY, _COLLECTIVE_ARGS, _fraction_open, _out, _sized
from .collectives import hierarchical_allreduce_time, ring_allreduce_time


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


def nccl_size_for_busbw_fraction(fraction, gpus_per_node, nodes, intra_bandwidth_bytes_per_s,
                                 inter_bandwidth_bytes_per_s):
    """The smallest all-reduce size (bytes) of an nccl-tests sweep (8 B, 16 B, … ×2) at which NCCL's model
    reaches ``fraction`` of the bus bandwidth (nccl_bus_bandwidth) in busbw, with its fastest algorithm and
    protocol. A power of two, as all_reduce_perf -f 2 would print it; sizes up to 2⁵⁰ B are searched."""
    f = float(_fraction_open("fraction", fraction))
    _, g, m, b_in, b_out = _nccl_args(0.0, gpus_per_node, nodes, intra_bandwidth_bytes_per_s,
                                      inter_bandwidth_bytes_per_s)
    if g * m < 2:
        raise ValueError("gpus_per_node × nodes must be at least 2: one GPU has no all-reduce to measure")
    sizes = 2.0 ** np.arange(3, 51)
    reached = sizes[nccl_allreduce_busbw(sizes, g, m, b_in, b_out) >= f * nccl_bus_bandwidth(g, m, b_in, b_out)]
    if not reached.size:
        raise ValueError(f"fraction = {f:g}: NCCL's model does not reach it below 2^50 bytes")
    return float(reached[0])


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
