"""The analytic model (Daly 2006's exact form for exponential failures): waste, goodput, wall time."""

import math

import numpy as np

from ..core.validate import choice, finite_result, fraction, nonnegative, positive, scalar_or_array
from .intervals import daly_interval, optimal_interval, young_interval

# ---------------------------------------------------------------------------------------------
# The analytic model
# ---------------------------------------------------------------------------------------------
def _segment_time(length, restart_time, mtbf):
    """Expected wall time (s) to get ``length`` seconds done without a failure (Daly 2006)."""
    with np.errstate(over="ignore", invalid="ignore"):
        return mtbf * np.exp(restart_time / mtbf) * np.expm1(length / mtbf)


def expected_waste(interval, checkpoint_time, restart_time, mtbf):
    """Expected fraction of wall time that is not useful compute (0..1), in steady state.

    interval τ (s of compute between checkpoints), checkpoint_time δ (s the job stalls to save),
    restart_time R (s to get going again after a failure), mtbf M (s, the whole job's).
    Model (Daly 2006, exact for it): failures are a Poisson process at rate 1/M, also during
    checkpoints and restarts; a failure loses everything since the last completed checkpoint.
    Each τ + δ segment then takes ``M·e^(R/M)·(e^((τ+δ)/M) − 1)`` on average and
    ``waste = 1 − τ / that``: checkpoint overhead + rework + restarts. Broadcasts over arrays.
    For small δ, R ≪ τ ≪ M it is ≈ :func:`first_order_waste`.
    """
    tau = positive("interval", interval, "s", array=True)
    d = nonnegative("checkpoint_time", checkpoint_time, "s", array=True)
    r = nonnegative("restart_time", restart_time, "s", array=True)
    m = positive("mtbf", mtbf, "s", array=True)
    with np.errstate(over="ignore", invalid="ignore", divide="ignore"):
        waste = 1.0 - tau / _segment_time(tau + d, r, m)
    waste = np.clip(np.nan_to_num(waste, nan=1.0), 0.0, 1.0)
    return scalar_or_array(waste)


def expected_goodput(interval, checkpoint_time, restart_time, mtbf):
    """Useful compute / wall time implied by :func:`expected_waste` (``1 − waste``)."""
    return 1.0 - expected_waste(interval, checkpoint_time, restart_time, mtbf)


def first_order_waste(interval, checkpoint_time, restart_time, mtbf):
    """Young's first-order waste: ``δ/τ + τ/(2M) + R/M`` (checkpoints, half an interval of rework
    per failure, restarts). Minimized at ``τ = sqrt(2δM)``; only meaningful while it is small."""
    tau = positive("interval", interval, "s", array=True)
    d = nonnegative("checkpoint_time", checkpoint_time, "s", array=True)
    r = nonnegative("restart_time", restart_time, "s", array=True)
    m = positive("mtbf", mtbf, "s", array=True)
    with np.errstate(over="ignore", invalid="ignore"):
        return scalar_or_array(finite_result(d / tau + tau / (2.0 * m) + r / m,
                                             "first_order_waste checkpoint_time/interval + interval/(2 mtbf) "
                                             "+ restart_time/mtbf"))


def expected_wall_time(work, interval, checkpoint_time, restart_time, mtbf):
    """Expected wall time (s) to finish ``work`` seconds of compute, the analytic twin of
    :func:`simulate_training` (exponential failures, synchronous checkpoints, one checkpoint after
    every interval and after the last, shorter segment). An interval longer than the work is one
    segment. Raises ValueError when the expected time is beyond any float (failures far more
    frequent than the segments are long)."""
    w = positive("work", work, "s")
    tau = positive("interval", interval, "s")
    d = nonnegative("checkpoint_time", checkpoint_time, "s")
    r = nonnegative("restart_time", restart_time, "s")
    m = positive("mtbf", mtbf, "s")
    full = math.floor(w / tau * (1 + 1e-12))
    rest = w - full * tau
    total = full * _segment_time(tau + d, r, m) if full else 0.0
    if rest > 1e-9 * tau:
        total += _segment_time(rest + d, r, m)
    return float(finite_result(total, "the expected wall time for this work, interval, checkpoint_time, "
                                      "restart_time and mtbf (failures far more frequent than segments are long)"))


def goodput_map(checkpoint_times, restart_times, mtbf, interval="optimal"):
    """Expected goodput on a grid: rows = restart_times, columns = checkpoint_times (s).

    Each point uses the ``interval`` rule ("optimal", "daly" or "young") for its checkpoint time.
    """
    d = np.atleast_1d(positive("checkpoint_times", checkpoint_times, "s", array=True)).ravel()
    r = np.atleast_1d(nonnegative("restart_times", restart_times, "s", array=True)).ravel()
    m = positive("mtbf", mtbf, "s")
    if not isinstance(interval, str):
        raise TypeError(f"interval must be a rule's name, 'optimal', 'daly' or 'young'; got {type(interval).__name__}")
    rule = {"optimal": optimal_interval, "daly": daly_interval, "young": young_interval}[
        choice("interval", interval, ("optimal", "daly", "young"))]
    tau = np.atleast_1d(np.asarray(rule(d, m), dtype=float))
    return expected_goodput(tau[None, :], d[None, :], r[:, None], m)


def max_restart_for_goodput(target, checkpoint_time, mtbf):
    """Longest restart time (s) that still reaches goodput ``target`` at the optimal interval
    (0 when even an instant restart cannot). Exact under the :func:`expected_waste` model."""
    g = fraction("target", target, allow_zero=False, allow_one=False)
    d = positive("checkpoint_time", checkpoint_time, "s", array=True)
    m = positive("mtbf", mtbf, "s", array=True)
    tau = optimal_interval(d, m)
    best = expected_goodput(tau, d, 0.0, m)  # goodput with R = 0; R multiplies time by e^(R/M)
    with np.errstate(divide="ignore", over="ignore"):
        r = m * np.log(best / g)
    return scalar_or_array(finite_result(np.maximum(r, 0.0), "max_restart_for_goodput (from target, "
                                                               "checkpoint_time and mtbf)"))


def max_checkpoint_time(target, restart_time, mtbf):
    """Longest checkpoint time δ (s) that still reaches goodput ``target`` at the optimal interval
    (0 when even an instant checkpoint with this restart time cannot). Exact under the
    :func:`expected_waste` model, in closed form: at the optimum ``(1 − y)·e^((τ+δ)/M) = 1`` with
    ``y = τ/M``, so the goodput there is ``(1 − y)·e^(−R/M)``; reaching ``target`` needs
    ``y ≤ 1 − target·e^(R/M)``, and δ/M = −y − ln(1 − y) grows with y. Broadcasts."""
    g = fraction("target", target, allow_zero=False, allow_one=False)
    r = nonnegative("restart_time", restart_time, "s", array=True)
    m = positive("mtbf", mtbf, "s", array=True)
    with np.errstate(over="ignore", invalid="ignore"):
        y = np.clip(1.0 - g * np.exp(r / m), 0.0, None)
        small = y < 1e-4   # −y − ln(1 − y) = y²/2 + y³/3 + y⁴/4 + …, without the cancellation
        ratio = np.where(small, y * y * (0.5 + y / 3.0 + y * y / 4.0), -y - np.log1p(-y))
    return scalar_or_array(finite_result(ratio * m, "max_checkpoint_time (from target, restart_time and mtbf)"))
