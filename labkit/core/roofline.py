"""The roofline model and the time of work at a rate: the one home of both for every chapter.

An operation does ``flops`` FLOP and moves ``nbytes`` bytes to or from memory; a device has a peak
rate ``peak_flops_per_s`` and a memory bandwidth ``bandwidth_bytes_per_s``. Assuming compute and data
movement overlap perfectly and nothing else limits the operation (latency, caches):

    time        = max(flops / peak, nbytes / bandwidth)            roofline_time
    attainable  = min(peak, bandwidth × intensity)                 roofline
    ridge point = peak / bandwidth  (FLOP/byte)                    ridge_point

A decode step of an LLM is one such operation (:func:`decode_step_time`); a training run is work
divided by the rate a cluster sustains (:func:`training_time`). Accepts numpy arrays throughout.
"""

import numpy as np

from .validate import finite_result, fraction, nonnegative, positive, scalar_or_array


def ridge_point(peak_flops_per_s, bandwidth_bytes_per_s):
    """The intensity (FLOP/byte) where the roofline bends: peak ÷ bandwidth.

    Operations below it are memory-bound, above it compute-bound.
    """
    peak = positive("peak_flops_per_s", peak_flops_per_s, "FLOP/s", array=True)
    bw = positive("bandwidth_bytes_per_s", bandwidth_bytes_per_s, "bytes/s", array=True)
    return scalar_or_array(finite_result(np.divide(peak, bw), "the ridge point", "peak_flops_per_s", "bandwidth_bytes_per_s"))


def roofline(peak_flops_per_s, bandwidth_bytes_per_s, intensity):
    """Attainable FLOP/s = min(peak, bandwidth × intensity), vectorized over ``intensity`` (FLOP/byte)."""
    peak = positive("peak_flops_per_s", peak_flops_per_s, "FLOP/s", array=True)
    bw = positive("bandwidth_bytes_per_s", bandwidth_bytes_per_s, "bytes/s", array=True)
    intensity = nonnegative("intensity", intensity, "FLOP/byte", array=True)
    with np.errstate(over="ignore"):
        out = np.minimum(peak, np.multiply(bw, intensity))
    return scalar_or_array(finite_result(out, "the attainable rate", "bandwidth_bytes_per_s", "intensity"))


def bound(intensity, peak_flops_per_s, bandwidth_bytes_per_s):
    """"memory" when ``intensity`` (FLOP/byte) is below the ridge point, else "compute"."""
    intensity = nonnegative("intensity", intensity, "FLOP/byte")
    peak = positive("peak_flops_per_s", peak_flops_per_s, "FLOP/s")
    bw = positive("bandwidth_bytes_per_s", bandwidth_bytes_per_s, "bytes/s")
    return "memory" if intensity < ridge_point(peak, bw) else "compute"


def roofline_time(flops, nbytes, peak_flops_per_s, bandwidth_bytes_per_s):
    """Seconds an operation takes on the roofline: max(flops / peak, nbytes / bandwidth)."""
    flops = nonnegative("flops", flops, "FLOP", array=True)
    nbytes = nonnegative("nbytes", nbytes, "bytes", array=True)
    peak = positive("peak_flops_per_s", peak_flops_per_s, "FLOP/s", array=True)
    bw = positive("bandwidth_bytes_per_s", bandwidth_bytes_per_s, "bytes/s", array=True)
    with np.errstate(over="ignore"):
        out = np.maximum(np.divide(flops, peak), np.divide(nbytes, bw))
    return scalar_or_array(finite_result(out, "the time", "flops", "nbytes", "peak_flops_per_s", "bandwidth_bytes_per_s"))


def decode_step_time(batch_size, n_params, peak_flops_per_s, bandwidth_bytes_per_s, bytes_per_param=2.0,
                     kv_bytes_per_sequence=0.0):
    """Roofline time (s) of one decode step that generates one token for each of ``batch_size`` sequences.

    Work: 2·N FLOP per token. Traffic: the weights once per step (N × ``bytes_per_param``) plus each
    sequence's own KV cache (``kv_bytes_per_sequence``). Time = max(2·N·b / peak, (N·bytes_per_param +
    b·kv) / bandwidth): while memory-bound the step time barely grows with the batch. Accepts arrays.
    """
    b = positive("batch_size", batch_size, "sequences", array=True)
    n = positive("n_params", n_params, "parameters", array=True)
    bpp = positive("bytes_per_param", bytes_per_param, "bytes", array=True)
    kv = nonnegative("kv_bytes_per_sequence", kv_bytes_per_sequence, "bytes", array=True)
    with np.errstate(over="ignore"):
        flops, nbytes = 2.0 * n * b, n * bpp + b * kv
    return roofline_time(finite_result(flops, "the step's FLOPs", "batch_size", "n_params"),
                         finite_result(nbytes, "the step's bytes", "n_params", "bytes_per_param", "batch_size",
                                       "kv_bytes_per_sequence"),
                         peak_flops_per_s, bandwidth_bytes_per_s)


def training_time(total_flops, n_devices, peak_flops_per_s, utilization=1.0):
    """Seconds to do ``total_flops`` (FLOP) on ``n_devices`` devices of ``peak_flops_per_s`` each, busy a
    fraction ``utilization`` of that peak (MFU; 0.4 means 40 %): total / (n × peak × utilization).

    Assumes the work divides perfectly across devices and nothing stops (no failures, no waits).
    Narayanan et al. 2021's estimate 8·T·P/(n·X) is ``training_time(8·T·P, n, X)``. Accepts arrays.
    """
    work = nonnegative("total_flops", total_flops, "FLOP", array=True)
    n = positive("n_devices", n_devices, "devices", array=True)
    peak = positive("peak_flops_per_s", peak_flops_per_s, "FLOP/s", array=True)
    mfu = fraction("utilization", utilization, array=True, allow_zero=False)
    with np.errstate(over="ignore", under="ignore"):
        out = work / (n * peak * mfu)
    return scalar_or_array(finite_result(out, "the training time", "total_flops", "n_devices", "peak_flops_per_s", "utilization"))


def utilization_from_run(total_flops, n_devices, peak_flops_per_s, seconds):
    """Model FLOPs utilization a finished run implies: work / (devices × peak × time), a fraction.

    Refuses inputs that imply more than 100 % of peak: the work could not have been done that fast.
    """
    work = positive("total_flops", total_flops, "FLOP", array=True)
    n = positive("n_devices", n_devices, "devices", array=True)
    peak = positive("peak_flops_per_s", peak_flops_per_s, "FLOP/s", array=True)
    t = positive("seconds", seconds, "s", array=True)
    with np.errstate(over="ignore", under="ignore"):
        out = work / (n * peak * t)
    finite_result(out, "the utilization", "total_flops", "n_devices", "peak_flops_per_s", "seconds")
    if np.any(out > 1.0 + 1e-9):
        raise ValueError(f"these figures imply {np.max(out):.3g}× the devices' peak: check total_flops (FLOP), "
                         "n_devices, peak_flops_per_s (FLOP/s per device) and seconds (s), and their units")
    return scalar_or_array(out)
