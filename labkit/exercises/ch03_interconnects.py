"""Chapter 03 — interconnects: α-β transfers, collectives, NCCL's bus bandwidth, a simulated ring,
topologies and data-parallel scaling. References call labkit.interconnect (no formula is duplicated).

Importing this module computes nothing expensive: answers that need a simulation or a sweep are given
as functions (``expected=lambda: ...``, ``example=lambda: ...``), computed on first check and kept."""

import numpy as np

from .. import interconnect as ic
from .. import units as u
from ._core import ChoiceExercise, CustomExercise, FunctionExercise, Mistake, ValueExercise, register


# --- 03.link_transfer_time -------------------------------------------------------------------
def _link_transfer_time(nbytes, link_gbit_per_s, latency_us):
    return ic.transfer_time(nbytes, link_gbit_per_s * u.Gbps, latency_us * u.US)


register(FunctionExercise(
    "03.link_transfer_time",
    "Time to send a message over a network link quoted in Gb/s, with latency in µs",
    reference=_link_transfer_time,
    cases=lambda rng: {"nbytes": float(10 ** rng.uniform(3, 10)),
                       "link_gbit_per_s": float(rng.choice([100, 200, 400, 800])),
                       "latency_us": float(rng.uniform(0.5, 10))},
    edge_cases=[{"nbytes": 0.0, "link_gbit_per_s": 400.0, "latency_us": 5.0},
                {"nbytes": 1e9, "link_gbit_per_s": 400.0, "latency_us": 0.0},
                {"nbytes": 4096.0, "link_gbit_per_s": 200.0, "latency_us": 2.7}],
    rtol=1e-6,
    quantity="time",
    teaches=("labkit.interconnect.transfer_time",),
    hints=[
        "Time = latency + size / bandwidth (the α-β model). Work in seconds and bytes per second.",
        "Network links are quoted in bits per second: 400 Gb/s = 400e9 bits/s = 50e9 bytes/s. "
        "And 1 µs = 1e-6 s.",
        "return latency_us * 1e-6 + nbytes / (link_gbit_per_s * 1e9 / 8)",
    ],
    mistakes=[
        Mistake("Bits versus bytes: a link of 400 Gb/s moves 400e9 bits = 50e9 bytes per second. "
                "Divide the bit rate by 8 before dividing bytes by it.",
                fn=lambda nbytes, g, lat: lat * u.US + nbytes / (g * 1e9)),
        Mistake("The latency is in microseconds: multiply latency_us by 1e-6 to get seconds.",
                fn=lambda nbytes, g, lat: lat + nbytes / (g * u.Gbps)),
        Mistake("You left out the latency α: even an empty message costs latency_us microseconds.",
                fn=lambda nbytes, g, lat: nbytes / (g * u.Gbps)),
    ],
))


# --- 03.ring_allreduce -----------------------------------------------------------------------
register(FunctionExercise(
    "03.ring_allreduce",
    "Time of a ring all-reduce (α-β model)",
    reference=lambda nbytes, n, bandwidth, latency: ic.ring_allreduce_time(nbytes, n, bandwidth, latency),
    cases=lambda rng: {"nbytes": float(10 ** rng.uniform(4, 10)), "n": int(rng.choice([2, 3, 4, 8, 16, 64, 256, 1024])),
                       "bandwidth": float(10 ** rng.uniform(10, 12)), "latency": float(rng.uniform(0, 20e-6))},
    edge_cases=[{"nbytes": 1e6, "n": 1, "bandwidth": 1e10, "latency": 5e-6},
                {"nbytes": 1e9, "n": 8, "bandwidth": 50e9, "latency": 0.0},
                {"nbytes": 1e3, "n": 1024, "bandwidth": 50e9, "latency": 5e-6}],
    rtol=1e-6,
    quantity="time",
    teaches=("labkit.interconnect.ring_allreduce_time",),
    hints=[
        "A ring all-reduce is a reduce-scatter followed by an all-gather. Each has n−1 steps; in every step "
        "each rank sends one n-th of the array to its neighbour.",
        "Each step costs latency + (nbytes / n) / bandwidth. How many steps are there in all?",
        "2(n−1) steps: time = 2·(n−1)·latency + 2·(n−1)/n · nbytes / bandwidth.",
    ],
    mistakes=[
        Mistake("Off by a factor of 2: that is one pass round the ring (a reduce-scatter or an all-gather). "
                "An all-reduce goes round twice — reduce-scatter, then all-gather: 2(n−1) steps.",
                fn=lambda s, n, b, a: (n - 1) * a + (n - 1) / n * s / b),
        Mistake("Each step sends only nbytes/n, so the bandwidth term is 2(n−1)/n · nbytes/bandwidth, "
                "not 2·nbytes/bandwidth (and a single rank sends nothing at all).",
                fn=lambda s, n, b, a: 2 * (n - 1) * a + 2 * s / b),
        Mistake("Latency is paid at every step, not once: 2(n−1)·latency.",
                fn=lambda s, n, b, a: a + 2 * (n - 1) / n * s / b),
    ],
))


# --- 03.bus_bandwidth ------------------------------------------------------------------------
register(FunctionExercise(
    "03.bus_bandwidth",
    "nccl-tests' bus bandwidth of an all-reduce from its size, time and rank count",
    reference=lambda nbytes, time_s, n: ic.bus_bandwidth(nbytes, time_s, n, "allreduce"),
    cases=lambda rng: {"nbytes": float(10 ** rng.uniform(6, 10)), "time_s": float(10 ** rng.uniform(-4, -1)),
                       "n": int(rng.choice([3, 4, 8, 16, 32, 64, 512]))},
    edge_cases=[{"nbytes": 1e9, "time_s": 4.73e-3, "n": 8},
                {"nbytes": 1e9, "time_s": 0.01, "n": 2}],
    rtol=1e-6,
    quantity="bandwidth",
    teaches=("labkit.interconnect.bus_bandwidth", "labkit.interconnect.bus_bandwidth_factor"),
    hints=[
        "nccl-tests prints algbw = size / time. busbw corrects it so it can be compared with the link's "
        "line rate whatever the number of ranks.",
        "For an all-reduce each rank's link carries 2(n−1)/n × the array size, so busbw = algbw × 2(n−1)/n "
        "(nccl-tests doc/PERFORMANCE.md).",
    ],
    mistakes=[
        Mistake("That is algbw (size / time). busbw multiplies it by 2(n−1)/n for an all-reduce.",
                fn=lambda s, t, n: s / t),
        Mistake("(n−1)/n is the factor for all-gather and reduce-scatter; an all-reduce does both, so "
                "its factor is 2(n−1)/n.",
                fn=lambda s, t, n: s / t * (n - 1) / n),
        Mistake("The factor is upside down: busbw = algbw × 2(n−1)/n, which is larger than algbw.",
                fn=lambda s, t, n: s / t * n / (2 * (n - 1))),
    ],
))


# --- 03.h100_line_rate_time ------------------------------------------------------------------
register(ValueExercise(
    "03.h100_line_rate_time",
    "Predicted time of a 1 GB all-reduce on 8 H100s at the NVLink line rate",
    expected=lambda message_gb=1, n_devices=8: ic.ring_allreduce_time(message_gb * u.GB, n_devices,
                                                                      ic.H100_NVLINK_LINE_RATE),
    variants={"message_gb": (0.5, 1, 1.5, 2, 3, 5), "n_devices": (2, 4, 6, 8)},
    numbers_text="a {message_gb:g} GB all-reduce on {n_devices} H100s",
    unit="s",
    rtol=0.01,
    quantity="time",
    hints=[
        "Use the ring formula with n = {n_devices}, nbytes = {message_gb:g}e9 and bandwidth = 450e9 bytes/s; "
        "latency is negligible for messages this large.",
        "2·(n−1)/n · nbytes / bandwidth, with n = {n_devices} and nbytes = {message_gb:g}e9, bandwidth = 450e9.",
    ],
    mistakes=[
        Mistake("That is the time the published ≈370 GB/s bus bandwidth implies — the measurement. "
                "The question asks for the prediction at the 450 GB/s line rate.",
                value=lambda message_gb=1, n_devices=8: ic.ring_allreduce_time(
                    message_gb * u.GB, n_devices, ic.H100_RING_BUSBW_PUBLISHED), rtol=0.01),
        Mistake("That is 2·nbytes/bandwidth: each of the 2(n−1) steps moves only nbytes/n, so the factor is "
                "2(n−1)/n, not 2.",
                value=lambda message_gb=1, n_devices=8: 2 * message_gb * u.GB / ic.H100_NVLINK_LINE_RATE,
                rtol=0.01),
        Mistake("Half the time: did you use NVLink's 900 GB/s? That is the H100 datasheet's figure for both "
                "directions together (18 links × 25 GB/s each way, × 2). A ring sends one way on every link, so "
                "its line rate is 450 GB/s per direction. (If you did use 450 GB/s: you counted one trip round "
                "the ring — an all-reduce is a reduce-scatter plus an all-gather, 2(n−1) steps.)", factor=0.5),
        Mistake("Off by 8: 450 GB/s is already in bytes per second (NVLink is quoted in GB/s, networks in Gb/s).",
                factor=8),
    ],
))


# --- 03.nvlink_efficiency --------------------------------------------------------------------
register(ValueExercise(
    "03.nvlink_efficiency",
    "What fraction of the 450 GB/s NVLink line rate does NCCL's ring reach on 8×H100?",
    expected=lambda: ic.link_efficiency(ic.H100_RING_BUSBW_PUBLISHED, ic.H100_NVLINK_LINE_RATE),
    no_variants="two published figures (nccl-tests issue #212, the H100 datasheet)",
    rtol=0.01,
    quantity="fraction",
    hints=[
        "Bus bandwidth is directly comparable with the line rate: divide one by the other.",
        "370 GB/s busbw (nccl-tests issue #212) ÷ 450 GB/s line rate.",
    ],
    mistakes=[
        Mistake("Upside down: the fraction achieved is busbw / line rate, which is below 1.",
                value=450 / 370, rtol=0.01),
        Mistake("You divided by 900 GB/s, the H100 datasheet's NVLink figure for both directions together. A "
                "ring sends one way on every link: compare busbw with the 450 GB/s per direction.",
                value=370 / 900, rtol=0.01),
        Mistake("That is the overhead (the part lost), not the fraction achieved: 1 − that.",
                value=1 - 370 / 450, rtol=0.01),
        Mistake("You compared algbw with the line rate. algbw = busbw · n / (2(n−1)) depends on n; it is busbw "
                "that compares with the link.", value=370 * 8 / 14 / 450, rtol=0.01),
    ],
))


# --- 03.fastest_small_allreduce / 03.fastest_large_allreduce ---------------------------------
def _fastest(nbytes, n=1024, bandwidth_bytes_per_s=50 * u.GB, latency=5 * u.US):
    """The fastest all-reduce algorithm (analytic, three formula evaluations: cheap at import)."""
    times = {a: ic.allreduce_time(nbytes, n, bandwidth_bytes_per_s, latency, a) for a in ic.ALGORITHMS}
    return min(times, key=times.get)


_CHOICES = {"ring": "ring", "tree": "tree (pipelined double binary tree)",
            "recursive_doubling": "recursive doubling"}

register(ChoiceExercise(
    "03.fastest_small_allreduce",
    "Fastest algorithm for an 8 KB all-reduce on 1,024 GPUs (α = 5 µs, β = 50 GB/s)",
    answer=_fastest(8 * u.KB),
    choices=_CHOICES,
    explanations={
        "recursive_doubling": "⌈log₂1024⌉ = 10 steps of α + 8 KB/β ≈ 52 µs. For tiny messages only the "
                              "number of steps matters.",
        "ring": "The ring pays 2(n−1) = 2,046 latencies: about 10 ms for 8 KB, 200× slower than the best.",
        "tree": "Close: 2·10 latencies ≈ 100 µs. Recursive doubling needs only 10 steps (≈52 µs) — with 8 KB "
                "messages the bandwidth term is negligible.",
    },
    quantity="choice",
    hints=["For 8 KB at 50 GB/s the bandwidth term is 0.16 µs — count latencies.",
           "ring: 2(n−1) steps; tree: 2⌈log₂n⌉; recursive doubling: ⌈log₂n⌉. Use ic.allreduce_time to compare."],
))

register(ChoiceExercise(
    "03.fastest_large_allreduce",
    "Fastest algorithm for a 1 GB all-reduce on 1,024 GPUs (α = 5 µs, β = 50 GB/s)",
    answer=_fastest(1 * u.GB),
    choices=_CHOICES,
    explanations={
        "tree": "The tree moves about the same bytes as the ring (2·S/β ≈ 40 ms) but pays 20 latencies instead "
                "of 2,046 (≈10 ms): ≈40.1 ms vs ≈50.2 ms. That assumes a perfectly pipelined tree; paying its "
                "pipeline fill and α per chunk (ic.tree_allreduce_time) makes it ≈43.9 ms — still the fastest. "
                "At this scale even big messages feel the ring's linear latency — one reason NCCL switches to "
                "trees across many nodes.",
        "ring": "The ring is bandwidth-optimal (≈39.96 ms of transfer), but 2(n−1) = 2,046 steps of 5 µs add "
                "≈10 ms. Compute both with ic.allreduce_time.",
        "recursive_doubling": "Each of its 10 steps sends the whole 1 GB: ≈200 ms. Fine for tiny messages only.",
    },
    quantity="choice",
    hints=["Compute all three with ic.allreduce_time(1e9, 1024, 50e9, 5e-6, algorithm).",
           "Compare the ring's latency term 2(n−1)·α with the tree's 2⌈log₂n⌉·α; their bandwidth terms "
           "differ by only (n−1)/n."],
))


# --- 03.slow_link_slowdown -------------------------------------------------------------------
SLOW_LINK_SETUP = dict(nbytes=256 * u.MB, n=16, bandwidth_bytes_per_s=50 * u.GB, latency=2.7 * u.US,
                       slow_factor=0.25, slow_link=5)


def slow_link_slowdown(setup=SLOW_LINK_SETUP):
    """Simulated time with one slow link divided by the time with uniform links."""
    s = dict(setup)
    base = ic.simulate_ring_allreduce(s["nbytes"], s["n"], s["bandwidth_bytes_per_s"], s["latency"])
    bws = ic.slow_link_bandwidths(s["n"], s["bandwidth_bytes_per_s"], s["slow_factor"], s["slow_link"])
    slow = ic.simulate_ring_allreduce(s["nbytes"], s["n"], s["bandwidth_bytes_per_s"], s["latency"],
                                      link_bandwidths_bytes_per_s=bws)
    return slow.time / base.time


def _slow_link_chunks(chunks):
    """The slowdown simulated with ``chunks`` pipelined pieces per step (the exercise uses 1, the default)."""
    s = dict(SLOW_LINK_SETUP)
    bws = ic.slow_link_bandwidths(s["n"], s["bandwidth_bytes_per_s"], s["slow_factor"], s["slow_link"])
    args = (s["nbytes"], s["n"], s["bandwidth_bytes_per_s"], s["latency"])
    return (ic.simulate_ring_allreduce(*args, chunks=chunks, link_bandwidths_bytes_per_s=bws).time
            / ic.simulate_ring_allreduce(*args, chunks=chunks).time)


# The simulated slowdown (3.975: every message pays α + size/β, and α is not slowed by the slow link) is
# 0.6 % below the bandwidth ratio 4 that a guess without simulating gives: the tolerance must be inside that.
SLOW_LINK_RTOL = 0.002

register(ValueExercise(
    "03.slow_link_slowdown",
    "Simulate: how much slower is a 16-rank ring when one link runs at a quarter speed?",
    no_variants="a fixed simulation",
    expected=slow_link_slowdown,
    rtol=SLOW_LINK_RTOL,
    quantity="ratio",
    hints=[
        "Run ic.simulate_ring_allreduce twice — once with uniform links, once with link_bandwidths_bytes_per_s from "
        "ic.slow_link_bandwidths(16, 50e9, 0.25, 5) — and divide the two .time values (one chunk per step, the "
        "default). Keep at least three decimals: the check's tolerance is ±0.2 %.",
        "Every byte passes every link on a ring, and each rank waits for its upstream neighbour: the ring "
        "moves at the pace of its slowest link — but not exactly 4× slower: each message's latency α is not "
        "slowed down.",
    ],
    mistakes=[
        Mistake("That is the bandwidth ratio 50 / 12.5 = 4, not the simulated slowdown: each step also pays a "
                "latency of 2.7 µs that the slow link does not stretch. Run the simulation and divide the times.",
                value=4.0, rtol=1e-6),
        Mistake("That is the simulation with 2 chunks per step; this exercise uses one chunk per step (the "
                "default of ic.simulate_ring_allreduce).", value=lambda: _slow_link_chunks(2), rtol=0.002),
        Mistake("Upside down: the slow ring takes longer, so slow time / uniform time is above 1.",
                value=lambda: 1 / slow_link_slowdown(), rtol=0.02),
        Mistake("That is what averaging the link bandwidths predicts (15 links at 50 GB/s, one at 12.5). A ring "
                "is a pipeline: it runs at its slowest link, not at the average.",
                value=16 / (15 + 0.25), rtol=0.02),
    ],
))


# --- 03.torus_bisection ----------------------------------------------------------------------
register(ValueExercise(
    "03.torus_bisection",
    "Bisection bandwidth (one direction) of an 8×8×8 torus with 50 GB/s links",
    expected=lambda side=8, link_gb=50: ic.torus((side, side, side), link_gb * u.GB).bisection_bandwidth,
    variants={"side": (4, 5, 6, 7, 8, 9, 10, 12), "link_gb": (25, 40, 50, 100, 200)},
    numbers_text="{side}×{side}×{side} torus, {link_gb} GB/s links",
    unit="B/s",
    rtol=0.01,
    quantity="bandwidth",
    hints=[
        "Cut the {side}×{side}×{side} torus into two halves along one dimension. Count the links that cross "
        "the cut.",
        "Each of the {side}×{side} rows along the cut dimension is a ring: cutting a ring in half severs 2 links "
        "(one in the middle, one wrap-around). 2·{side}·{side} links × {link_gb} GB/s.",
    ],
    mistakes=[
        Mistake("Off by 2 (too small): a torus has wrap-around links, so each of the {side}×{side} rings is cut "
                "twice.", factor=0.5),
        Mistake("Off by 2 (too large): count one direction only — or did you assume full bisection (half the "
                "nodes' links)? A torus cut severs only 2·{side}·{side} links.", factor=2),
        Mistake("Bits versus bytes: 50 GB/s is bytes per second already.", factor=8),
    ],
))


# --- 03.max_gpus_weak_scaling ----------------------------------------------------------------
WEAK_SCALING_SETUP = dict(grad_bytes=2 * 1.3e9, compute_time=0.5, bandwidth_bytes_per_s=50 * u.GB, latency=5 * u.US,
                          bucket_bytes=ic.DDP_BUCKET_BYTES, algorithm="ring")
_POWERS = 2 ** np.arange(0, 17)


def weak_scaling_efficiency(n_devices, setup=WEAK_SCALING_SETUP):
    """Efficiency of the chapter's weak-scaling setup at ``n_devices`` GPUs (labkit's model)."""
    s = dict(setup)
    return float(ic.scaling([n_devices], s["grad_bytes"], s["compute_time"], s["bandwidth_bytes_per_s"], s["latency"],
                            mode="weak", bucket_bytes=s["bucket_bytes"], algorithm=s["algorithm"]).efficiency[0])


def _largest_power_of_two_at(threshold=0.9):
    ok = [int(n) for n in _POWERS if weak_scaling_efficiency(int(n)) >= threshold]
    return max(ok)


def _grade_max_gpus(answer):
    if isinstance(answer, bool) or not isinstance(answer, (int, np.integer, float)) or answer != int(answer):
        return False, f"Answer with a whole number of GPUs (a power of two); got {answer!r}."
    n = int(answer)
    if n < 1 or n & (n - 1):
        return False, f"Pick a power of two (1, 2, 4, …, 65,536); got {n}."
    eff = weak_scaling_efficiency(n)
    if eff < 0.9:
        return False, (f"At {n:,} GPUs the efficiency is only {eff:.0%}: the gradient all-reduce no longer hides "
                       "behind the backward pass. Try fewer GPUs.")
    nxt = weak_scaling_efficiency(2 * n)
    if nxt >= 0.9:
        return False, f"At {n:,} GPUs the efficiency is {eff:.0%}, and at {2 * n:,} it is still {nxt:.0%}: go further."
    return True, (f"Correct: {n:,} GPUs keep {eff:.0%}; at {2 * n:,} it drops to {nxt:.0%}. Each 25 MiB bucket's ring "
                  f"pays 2(n−1)·α of latency, so past a few hundred GPUs the buckets no longer fit in the backward pass.")


register(CustomExercise(
    "03.max_gpus_weak_scaling",
    "Largest power-of-two GPU count that keeps ≥ 90 % weak-scaling efficiency",
    grade_fn=_grade_max_gpus,
    example=lambda: _largest_power_of_two_at(0.9),
    constant=1,
    quantity="count",
    hints=[
        "Call ic.scaling(n_list, 2.6e9, 0.5, 50e9, 5e-6, mode='weak') for n_list = 1, 2, 4, … and look at "
        ".efficiency.",
        "Find the last power of two whose efficiency is still ≥ 0.9 — the step after it falls below.",
    ],
))


# --- 03.busbw_size ---------------------------------------------------------------------------
register(FunctionExercise(
    "03.busbw_size",
    "How large must a ring all-reduce be to reach a given share of the line rate in busbw?",
    reference=lambda fraction, n, bandwidth, latency: ic.ring_allreduce_size_for_busbw(fraction, n, bandwidth,
                                                                                       latency),
    cases=lambda rng: {"fraction": float(rng.choice([0.5, 0.8, 0.9, 0.95, 0.99])),
                       "n": int(rng.choice([2, 4, 8, 16, 64, 256, 1024])),
                       "bandwidth": float(10 ** rng.uniform(10, 12)), "latency": float(rng.uniform(0.5e-6, 20e-6))},
    edge_cases=[{"fraction": 0.5, "n": 2, "bandwidth": 50e9, "latency": 5e-6},
                {"fraction": 0.9, "n": 1024, "bandwidth": 50e9, "latency": 5e-6},
                {"fraction": 0.8, "n": 8, "bandwidth": 450e9, "latency": 0.6e-6}],
    rtol=1e-6,
    quantity="bytes",
    teaches=("labkit.interconnect.ring_allreduce_size_for_busbw",),
    hints=[
        "Write busbw / bandwidth for the ring: busbw = 2(n−1)/n · S / T, and T = 2(n−1)·α + 2(n−1)/n · S/β. "
        "Set the ratio equal to fraction and solve for S.",
        "The 2(n−1) cancels: busbw/β = (S/n) / (α·β + S/n). So S/n must be fraction/(1 − fraction) · α·β.",
        "return fraction / (1 - fraction) * n * latency * bandwidth",
    ],
    mistakes=[
        Mistake("That is the size for ONE link (f/(1−f)·α·β). A ring step moves only S/n per link while paying a "
                "whole α, so the ring needs n times more: multiply by n.",
                fn=lambda f, n, b, a: f / (1 - f) * a * b),
        Mistake("Solve busbw/β = f exactly: S/n = f/(1−f)·α·β, not f·α·β (at f = 0.9 that is 9·α·β, not 0.9·α·β).",
                fn=lambda f, n, b, a: f * n * a * b),
        Mistake("You counted the ring's 2(n−1) latencies against one step's S/n: they cancel against the 2(n−1) "
                "steps of the bandwidth term. S = f/(1−f)·n·α·β.",
                fn=lambda f, n, b, a: f / (1 - f) * 2 * (n - 1) * n * a * b),
    ],
))


# --- 03.nccl_network_steps -------------------------------------------------------------------
def _nccl_network_latencies(gpus_per_node=8, nodes=16):
    """Network latencies NCCL's ring model charges: its latency with only the network α, in units of α."""
    hw = ic.NCCL_HW_LATENCY[("ring", "LL")]
    n = gpus_per_node * nodes
    total = ic.nccl_allreduce_time(0.0, gpus_per_node, nodes, 450e9, 50e9, "ring", "LL")
    nvlink_steps = 2 * (n - 1) - 2 * (nodes - 1)
    return round((total - ic.NCCL_BASE_LATENCY[("ring", "LL")] - nvlink_steps * hw["nvlink"]) / hw["network"])


register(ValueExercise(
    "03.nccl_network_steps",
    "How many network latencies does NCCL's ring model charge an all-reduce on 16 nodes × 8 GPUs?",
    expected=lambda nodes=16: _nccl_network_latencies(nodes=nodes),
    variants={"nodes": (2, 4, 6, 8, 12, 16, 24, 32, 48, 64, 96, 128)},
    numbers_text="{nodes} nodes × 8 GPUs",
    rtol=0.0,
    quantity="count",
    hints=[
        "NCCL orders each ring node by node: the 8 GPUs of a node are consecutive, joined by NVLink, and the ring "
        "leaves the node once. How many of a ring's hops cross between nodes?",
        "A ring over {nodes} nodes has {nodes} node-to-node hops per trip... but NCCL's tuning.cc counts "
        "nInterSteps = 2·(nNodes − 1) for an all-reduce (a reduce-scatter pass and an all-gather pass).",
    ],
    mistakes=[
        Mistake("That is 2(n−1) for all n GPUs: the flat ring where every hop is a network hop — the ring NCCL "
                "never builds. Only the hops between nodes pay the network's α.",
                value=lambda nodes=16: 2 * (8 * nodes - 1), rtol=0.0),
        Mistake("That is 2·nNodes: older NCCL releases (v2.21) counted that; tuning.cc now counts 2·(nNodes − 1).",
                value=lambda nodes=16: 2 * nodes, rtol=0.0),
        Mistake("One pass round the ring crosses between nodes nNodes − 1 times in NCCL's count; an all-reduce "
                "makes two passes (reduce-scatter, then all-gather).", value=lambda nodes=16: nodes - 1, rtol=0.0),
        Mistake("Those are the NVLink steps (2(n−1) − 2(nNodes−1)); the question asks for the network ones.",
                value=lambda nodes=16: 2 * (8 * nodes - 1) - 2 * (nodes - 1), rtol=0.0),
    ],
))


# --- 03.oversubscribed_slowdown --------------------------------------------------------------
OVERSUBSCRIBED_SETUP = dict(nbytes=64 * u.MB, n_devices=64, bandwidth_bytes_per_s=50 * u.GB, latency=2.7 * u.US,
                            gpus_per_leaf=8, oversubscription=4, seed=0)


def oversubscribed_slowdown(placement="scattered", setup=OVERSUBSCRIBED_SETUP):
    """Simulated time on the 4:1 tree ÷ time on a full-bisection tree, same placement."""
    s = dict(setup)
    args = (s["nbytes"], s["n_devices"], s["bandwidth_bytes_per_s"], s["latency"])
    kw = dict(gpus_per_leaf=s["gpus_per_leaf"], placement=placement, seed=s["seed"])
    slow = ic.simulate_fat_tree_allreduce(*args, oversubscription=s["oversubscription"], **kw)
    full = ic.simulate_fat_tree_allreduce(*args, oversubscription=1, **kw)
    return slow.time / full.time


register(ValueExercise(
    "03.oversubscribed_slowdown",
    "Simulate: how much slower is a scattered ring on a 4:1 oversubscribed fat tree?",
    no_variants="a fixed simulation",
    expected=oversubscribed_slowdown,
    rtol=0.01,
    quantity="ratio",
    hints=[
        "Call ic.simulate_fat_tree_allreduce(64e6, 64, 50e9, 2.7e-6, gpus_per_leaf=8, placement='scattered', "
        "seed=0) twice, with oversubscription=4 and oversubscription=1, and divide the .time values.",
        "More than 4: the hops queue at the leaf uplinks, and a ring hop that waits delays the next hop too.",
    ],
    mistakes=[
        Mistake("That is the oversubscription ratio itself (the fluid bound: every leaf's crossing hops share a "
                "quarter of the ports). Simulate it: queueing costs more than the ratio.", value=4.0, rtol=0.005),
        Mistake("That is the packed placement: numbered leaf by leaf, the ring leaves each leaf once and the "
                "uplinks never queue. The question asks for placement='scattered'.",
                value=lambda: oversubscribed_slowdown("packed"), rtol=0.005),
        Mistake("Upside down: the oversubscribed tree is the slower one, so slow time / full time is above 1.",
                value=lambda: 1 / oversubscribed_slowdown(), rtol=0.02),
    ],
))
