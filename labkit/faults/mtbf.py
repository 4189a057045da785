"""Failures at scale: MTBF of N components, of a system, from an observation; Llama 3's figures."""

import numpy as np

from .. import units as u
from ..core.validate import finite_result, nonnegative, number, positive, scalar_or_array
from ._common import LLAMA3_DAYS, LLAMA3_GPUS, LLAMA3_UNEXPECTED, _shape, _weibull_scale

# ---------------------------------------------------------------------------------------------
# Failures at scale
# ---------------------------------------------------------------------------------------------
def cluster_mtbf(component_mtbf, n_components):
    """Mean time between failures (s) of N components in series: ``component_mtbf / N``.

    Assumes independent, exponentially distributed failures and that any one failure stops the
    job (synchronous training): failure rates add, so the MTBF shrinks as 1/N. Broadcasts.
    """
    m = positive("component_mtbf", component_mtbf, "s", array=True)
    n = number("n_components", n_components, "components", array=True, minimum=1)
    return scalar_or_array(finite_result(m / n, "cluster_mtbf (component_mtbf / n_components)"))


def component_mtbf(cluster_mtbf, n_components):
    """The inverse of :func:`cluster_mtbf`: per-component MTBF (s) = cluster MTBF × N."""
    m = positive("cluster_mtbf", cluster_mtbf, "s", array=True)
    n = number("n_components", n_components, "components", array=True, minimum=1)
    with np.errstate(over="ignore"):
        return scalar_or_array(finite_result(m * n, "component_mtbf (cluster_mtbf × n_components)"))


def observed_mtbf(duration, n_failures):
    """MTBF (s) estimated from an observation: ``duration / n_failures``."""
    t = positive("duration", duration, "s", array=True)
    n = positive("n_failures", n_failures, "failures", array=True)
    with np.errstate(over="ignore"):
        return scalar_or_array(finite_result(t / n, "observed_mtbf (duration / n_failures)"))


def system_mtbf(component_mtbfs, counts):
    """MTBF (s) of a system of several component kinds: ``1 / Σ counts_i / mtbf_i``.

    ``component_mtbfs[i]`` (s) is the MTBF of one component of kind i, ``counts[i]`` how many there
    are. Independent exponential failures; any failure stops the job.
    """
    m = np.atleast_1d(positive("component_mtbfs", component_mtbfs, "s", array=True))
    n = np.atleast_1d(nonnegative("counts", counts, "components", array=True))
    if m.shape != n.shape:
        raise ValueError(f"component_mtbfs and counts must have the same length, got {m.size} and {n.size}")
    with np.errstate(over="ignore"):
        rate = float(np.sum(n / m))
    if rate == 0:
        raise ValueError("counts must include at least one component")
    return float(finite_result(1.0 / rate, "system_mtbf (1 / Σ counts / component_mtbfs)"))


def probability_no_failure(duration, mtbf, shape=1.0):
    """Probability that a job running ``duration`` seconds sees no failure, given the MTBF (s).

    Exponential failures (``shape=1``): ``exp(-duration / mtbf)``. For a Weibull time to failure
    with the same mean, ``exp(-(duration / scale) ** shape)`` with ``scale = mtbf / Γ(1 + 1/shape)``
    (shape between 0.1 and 20). Broadcasts.
    """
    t = nonnegative("duration", duration, "s", array=True)
    m = positive("mtbf", mtbf, "s", array=True)
    k = _shape("shape", shape)
    with np.errstate(over="ignore"):
        return scalar_or_array(np.exp(-(t / _weibull_scale(m, k)) ** k))


def llama3_interruptions():
    """The Llama 3 paper's Table 5 (unexpected interruptions by cause) as a labkit Table."""
    from ..data import load
    return load("llama3_interruptions")


def llama3_mtbf():
    """(cluster MTBF, per-GPU MTBF) in seconds from the Llama 3 run: 54 days / 419 unexpected
    interruptions, times 16,384 GPUs. Counts every unexpected interruption (software too) as if
    each GPU caused its share."""
    m = observed_mtbf(LLAMA3_DAYS * u.DAY, LLAMA3_UNEXPECTED)
    return m, component_mtbf(m, LLAMA3_GPUS)
