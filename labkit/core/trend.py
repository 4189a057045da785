"""Exponential trends: fit value = value0 × 2**((year − year0) / doubling_years) by least squares on
log2(value), the way chapter 01 fits fifty years of hardware and chapter 02 fifty models' compute."""

from dataclasses import dataclass

import numpy as np

from .validate import number, positive


@dataclass(frozen=True)
class Trend:
    """An exponential fit value = 2**((year − year0) / doubling_years) × value0 (log-linear least squares)."""
    doubling_years: float
    year0: float
    value0: float

    @property
    def factor_per_year(self):
        """Growth factor per year, 2**(1 / doubling_years)."""
        return 2.0 ** (1.0 / self.doubling_years)

    def predict(self, years):
        """The fitted value at ``years`` (a number or an array)."""
        years = number("years", years, "years", array=True)
        with np.errstate(over="ignore"):
            return self.value0 * 2.0 ** ((np.asarray(years) - self.year0) / self.doubling_years)


def _series(years, values):
    years = np.atleast_1d(number("years", years, "years", array=True, minimum=-10_000, maximum=10_000))
    values = np.atleast_1d(positive("values", values, "e.g. FLOP/s", array=True))
    if years.ndim != 1 or values.shape != years.shape:
        raise ValueError(f"years and values must be 1-D and of equal length; got {years.shape} and {values.shape}")
    if len(years) < 2 or np.ptp(years) == 0:
        raise ValueError("a trend needs at least two different years")
    return years, values


def fit_trend(years, values):
    """Least-squares line through (year, log2 value): a :class:`Trend` with its doubling time."""
    years, values = _series(years, values)
    logs = np.log2(values)
    year0, log0 = float(np.mean(years)), float(np.mean(logs))
    slope = np.sum((years - year0) * (logs - log0)) / np.sum((years - year0) ** 2)  # doublings per year
    if abs(slope) < 1e-12:
        raise ValueError("the values do not grow or shrink: no doubling time")
    return Trend(float(1.0 / slope), year0, float(2.0 ** log0))


def doubling_time(years, values):
    """Years for ``values`` to double, from a least-squares fit of log2(values) against years.

    Negative when the values shrink (the halving time, with a minus sign).
    """
    return fit_trend(years, values).doubling_years
