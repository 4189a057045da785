"""How much computing between checkpoints: Young (1974), Daly (2006) and the exact optimum."""

import numpy as np

from ..core.validate import finite_result, positive, scalar_or_array

# ---------------------------------------------------------------------------------------------
# Checkpoint intervals
# ---------------------------------------------------------------------------------------------
def young_interval(checkpoint_time, mtbf):
    """Young's (1974) checkpoint interval (s of compute between checkpoints): ``sqrt(2 δ M)``.

    δ = checkpoint_time (s), M = mtbf (s) of the whole job. First-order: good when δ ≪ M.
    """
    d = positive("checkpoint_time", checkpoint_time, "s", array=True)
    m = positive("mtbf", mtbf, "s", array=True)
    with np.errstate(over="ignore"):
        return scalar_or_array(finite_result(np.sqrt(2.0 * d) * np.sqrt(m),
                                             "young_interval sqrt(2 × checkpoint_time × mtbf)"))


def daly_interval(checkpoint_time, mtbf):
    """Daly's (2006) higher-order checkpoint interval (s of compute between checkpoints).

    ``sqrt(2δM)·[1 + ⅓·sqrt(δ/2M) + (1/9)·(δ/2M)] − δ`` for δ < 2M, else ``M``
    (J. T. Daly, Future Generation Computer Systems 22(3), 2006, 303–312).
    """
    d = positive("checkpoint_time", checkpoint_time, "s", array=True)
    m = positive("mtbf", mtbf, "s", array=True)
    with np.errstate(over="ignore", invalid="ignore"):
        x = d / (2.0 * m)
        tau = np.where(d < 2.0 * m, np.sqrt(2.0 * d) * np.sqrt(m) * (1.0 + np.sqrt(x) / 3.0 + x / 9.0) - d, m)
    return scalar_or_array(finite_result(tau, "daly_interval (from checkpoint_time and mtbf)"))


def optimal_interval(checkpoint_time, mtbf):
    """The interval (s) that maximizes :func:`expected_goodput` exactly (exponential failures).

    Setting the derivative of ``τ / (e^((τ+δ)/M) − 1)`` to zero gives ``(1 − τ/M)·e^((τ+δ)/M) = 1``,
    i.e. ``τ = M·(1 + W₀(−e^(−1−δ/M)))`` with W₀ the Lambert W function; solved here by bisection.
    It does not depend on the restart time. Young's and Daly's formulas approximate it.
    """
    d = positive("checkpoint_time", checkpoint_time, "s", array=True)
    m = positive("mtbf", mtbf, "s", array=True)
    with np.errstate(over="ignore"):
        ratio = np.asarray(d / m, dtype=float)
    lo, hi = np.zeros_like(ratio), np.ones_like(ratio)
    for _ in range(64):  # g(y) = y + δ/M + ln(1 − y) falls from δ/M > 0 at y = 0 to −∞ at y = 1
        mid = 0.5 * (lo + hi)
        above = mid + ratio + np.log1p(-mid) > 0
        lo, hi = np.where(above, mid, lo), np.where(above, hi, mid)
    return scalar_or_array(0.5 * (lo + hi) * m)
