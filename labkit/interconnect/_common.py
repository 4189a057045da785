"""Shared constants and argument checks of labkit.interconnect (one validation path for every door)."""

import numpy as np

from .. import units as u
from ..core.validate import choice, counts, finite_result, fraction, nonnegative, positive, scalar_or_array


ALGORITHMS = ("ring", "tree", "recursive_doubling")
COLLECTIVES = ("allreduce", "allgather", "reducescatter", "alltoall", "broadcast", "reduce")

# Per-step latency NCCL's own tuning model assumes for one hop (ring algorithm, LL protocol), by link
# class: NCCL src/graph/tuning.cc, table hwLat (the same in v2.19 and v2.30.7). A first guess for α;
# measure your own. LL sends a flag with every 4 bytes of data, so NCCL's model halves its bandwidth:
# pair these with β/2, or take another protocol's pair from nccl.NCCL_HW_LATENCY.
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


def _fraction_open(name, value):
    """A number strictly between 0 and 1 (a share of a maximum that is approached, never reached)."""
    return fraction(name, value, array=True, allow_zero=False, allow_one=False)
