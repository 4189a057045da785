"""Network topologies at a glance: fat tree, rail-optimized fat tree, torus."""

import math
from dataclasses import dataclass, field

import numpy as np

from .. import units as u
from ..core.validate import finite_result, integer, number, positive
from ._common import MAX_DEVICES


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
