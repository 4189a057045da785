"""Chapter 03 — interconnects: the α-β model, collectives, a simpy ring and network topologies.

One idea a module; this package re-exports their public names (``from labkit import interconnect as ic``):

- :mod:`.alphabeta` — the α-β model of one transfer; the message size that reaches a share of a link;
- :mod:`.collectives` — ring, tree, recursive doubling and the other collectives; nccl-tests' algbw and busbw;
  the three-phase hierarchical all-reduce;
- :mod:`.nccl` — NCCL's own cost model (protocols, 2(nodes−1) network steps), in-network reduction (SHARP);
- :mod:`.ringsim` — the ring all-reduce link by link in simpy, exact by symmetry for repeating links;
- :mod:`.fabric` — a ring on an oversubscribed two-tier fat tree in simpy (contention at the uplinks);
- :mod:`.topology` — fat tree, rail-optimized fat tree, torus: bisection, diameter, oversubscription;
- :mod:`.dataparallel` — the gradient all-reduce against the backward pass; weak and strong scaling;
- :mod:`.plots`, :mod:`.explore` — the chapter's plots and its explorer; :mod:`._common` — shared checks.

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
    nccl_allreduce_time(nbytes, gpus_per_node, nodes, …)  NCCL's own cost model (protocols, hierarchy)
    sharp_allreduce_time                                in-network reduction: 2α + nbytes/β
    simulate_fat_tree_allreduce                         a ring on an oversubscribed fat tree, in simpy

Sizes follow nccl-tests (doc/PERFORMANCE.md): ``nbytes`` is the size of the whole array being reduced
(all-reduce), of the whole gathered output (all-gather), of the whole input (reduce-scatter), and of one
rank's send buffer (all-to-all). ``n`` is the number of ranks taking part in one collective,
``n_devices`` the number of GPUs in a job or network.
"""

from ._common import (ALGORITHMS, COLLECTIVES, NCCL_STEP_LATENCY, H100_NVLINK_LINE_RATE,
                      H100_RING_BUSBW_PUBLISHED, H100_NVLS_BUSBW_PUBLISHED, MAX_SIM_MESSAGES, MAX_RESULT_MESSAGES,
                      DDP_BUCKET_BYTES, MAX_BUCKETS, MAX_DEVICES)
from .alphabeta import (transfer_time, effective_bandwidth, crossover_size, size_for_bandwidth_fraction,
                        ring_allreduce_size_for_busbw)
from .collectives import (ring_allreduce_time, allreduce_time, tree_allreduce_time, reduce_scatter_time,
                          allgather_time, alltoall_time, collective_time, algorithm_bandwidth,
                          bus_bandwidth_factor, bus_bandwidth, link_efficiency, hierarchical_allreduce_phases,
                          hierarchical_allreduce_time)
from .nccl import (NCCL_ALGORITHMS, NCCL_PROTOCOLS, NCCL_MODEL_VERSION, NCCL_HW_LATENCY, NCCL_BASE_LATENCY,
                   NCCL_PROTOCOL_EFFICIENCY, nccl_bus_bandwidth, nccl_allreduce_time, nccl_allreduce_choice,
                   nccl_allreduce_busbw, nccl_size_for_busbw_fraction, SHARP_THEORETICAL_GAIN,
                   SHARP_MEASURED_GAIN_HSYM, sharp_allreduce_time, compare_allreduce_strategies)
from .ringsim import (RingSimResult, ring_period, simulate_ring_allreduce, slow_link_bandwidths,
                      HierarchicalSimResult, simulate_hierarchical_allreduce)
from .fabric import PLACEMENTS, FabricSimResult, simulate_fat_tree_allreduce
from .topology import Topology, fat_tree, rail_optimized, torus_dims, torus, compare_topologies
from .dataparallel import StepResult, data_parallel_step, ScalingResult, scaling, dp_critical_tokens_per_gpu
from .plots import (load_interconnects, plot_bandwidth_hierarchy, plot_alpha_beta, plot_allreduce_algorithms,
                    plot_busbw_vs_size, plot_allreduce_strategies, plot_oversubscription, plot_ring_timeline,
                    plot_topologies, plot_overlap, plot_scaling)
from .explore import collective_explorer

__all__ = [
    "ALGORITHMS", "COLLECTIVES", "NCCL_STEP_LATENCY", "H100_NVLINK_LINE_RATE", "H100_RING_BUSBW_PUBLISHED",
    "H100_NVLS_BUSBW_PUBLISHED", "MAX_SIM_MESSAGES", "MAX_RESULT_MESSAGES", "DDP_BUCKET_BYTES", "MAX_BUCKETS",
    "MAX_DEVICES", "transfer_time", "effective_bandwidth", "crossover_size", "size_for_bandwidth_fraction",
    "ring_allreduce_size_for_busbw", "ring_allreduce_time", "allreduce_time", "tree_allreduce_time",
    "reduce_scatter_time", "allgather_time", "alltoall_time", "collective_time", "algorithm_bandwidth",
    "bus_bandwidth_factor", "bus_bandwidth", "link_efficiency", "hierarchical_allreduce_phases",
    "hierarchical_allreduce_time", "NCCL_ALGORITHMS", "NCCL_PROTOCOLS", "NCCL_MODEL_VERSION", "NCCL_HW_LATENCY",
    "NCCL_BASE_LATENCY", "NCCL_PROTOCOL_EFFICIENCY", "nccl_bus_bandwidth", "nccl_allreduce_time",
    "nccl_allreduce_choice", "nccl_allreduce_busbw", "nccl_size_for_busbw_fraction", "SHARP_THEORETICAL_GAIN",
    "SHARP_MEASURED_GAIN_HSYM",
    "sharp_allreduce_time", "compare_allreduce_strategies", "RingSimResult", "ring_period",
    "simulate_ring_allreduce", "slow_link_bandwidths", "HierarchicalSimResult", "simulate_hierarchical_allreduce",
    "PLACEMENTS", "FabricSimResult", "simulate_fat_tree_allreduce", "Topology", "fat_tree", "rail_optimized",
    "torus_dims", "torus", "compare_topologies", "StepResult", "data_parallel_step", "ScalingResult", "scaling",
    "dp_critical_tokens_per_gpu", "load_interconnects", "plot_bandwidth_hierarchy", "plot_alpha_beta",
    "plot_allreduce_algorithms", "plot_busbw_vs_size", "plot_allreduce_strategies", "plot_oversubscription",
    "plot_ring_timeline", "plot_topologies", "plot_overlap", "plot_scaling", "collective_explorer",
]
