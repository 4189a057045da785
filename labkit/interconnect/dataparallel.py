"""Data parallelism: compute against a bucketed gradient all-reduce, weak and strong scaling, and the
critical batch per GPU."""

import math
from dataclasses import dataclass

import numpy as np

from ..core.roofline import ridge_point
from ..core.validate import choice, finite_result, flag, fraction, nonnegative, positive
from ._common import ALGORITHMS, DDP_BUCKET_BYTES, MAX_BUCKETS, _out, _ranks
from .collectives import allreduce_time


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
