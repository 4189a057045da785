"""A ring all-reduce on a two-tier fat tree whose leaves may be oversubscribed, in simpy: contention at
the leaf uplinks is the point."""

from heapq import heapreplace
from dataclasses import dataclass

import numpy as np

from .. import units as u
from ..core.validate import choice, finite_result, integer, nonnegative, number, positive
from .collectives import bus_bandwidth
from .ringsim import _sim_size


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
    other leaf for the whole message (cut-through): it books the earliest-free port of each, first come first
    served, and waits until both are free (a port is held only while it carries the message). Every message
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
    # each leaf's uplinks and downlinks: when each of its `up` ports is next free (a heap). A hop between
    # leaves books the earliest-free port of both at once, first come first served, for its whole transfer
    uplinks = [[0.0] * up for _ in range(n // g)]
    downlinks = [[0.0] * up for _ in range(n // g)]
    arrived = [[False] * steps for _ in range(n)]
    waiting = [[None] * steps for _ in range(n)]
    counts = {"events": 0, "end": 0.0}

    def link(env, i):
        upstream, mine = arrived[(i - 1) % n], arrived[i]
        my_waiting, downstream_waiting = waiting[i], waiting[(i + 1) % n]
        timeout, event = env.timeout, env.event
        cross = bool(crossing[i])
        up_ports, down_ports = uplinks[int(leaf[i])], downlinks[int(dst_leaf[i])]
        waits = 0
        for m in range(steps):
            if m and not upstream[m - 1]:
                ev = my_waiting[m] = event()
                waits += 1
                yield ev
            if cross:
                now = env.now
                end = max(now, up_ports[0], down_ports[0]) + tau
                heapreplace(up_ports, end)
                heapreplace(down_ports, end)
                yield timeout(end - now)
            else:
                yield timeout(tau)
            if m < steps - 1:
                mine[m] = True
                pending = downstream_waiting[m + 1]
                if pending is not None:
                    pending.succeed()
        counts["events"] += waits  # the waits; the transmissions are counted below
        counts["end"] = max(counts["end"], env.now)

    for i in range(n):
        env.process(link(env, i))
    t0 = _time.perf_counter()
    env.run()
    wall = _time.perf_counter() - t0
    total = finite_result(float(counts["end"]), "the simulated time")
    return FabricSimResult(time=total, analytic_time=float(analytic), n_devices=n, gpus_per_leaf=g,
                           uplinks_per_leaf=up, placement=placement, nbytes=nbytes,
                           crossing_links=int(crossing.sum()), leaf_load=load,
                           n_events=counts["events"] + n * steps + n,  # waits, transmissions, process starts
                           wall_seconds=wall)
