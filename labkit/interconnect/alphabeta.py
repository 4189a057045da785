"""The α-β (Hockney) model of one transfer, and how large a message must be to reach a share of a link."""

import numpy as np

from ..core.validate import nonnegative, positive
from ._common import _fraction_open, _out, _ranks


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
