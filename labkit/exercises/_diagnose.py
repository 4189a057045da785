"""Diagnoses: what a wrong answer's mistake probably was — an exercise's own known mistakes first,
then generic ones (a factor of 2, bits vs bytes, GB vs GiB, a power of ten, the sign, the exponent)."""

import math
from dataclasses import dataclass

import numpy as np

from ._base import _as_array, _close, _resolved


@dataclass
class Mistake:
    """A common mistake and what to say about it.

    Give exactly one of:
      factor: the wrong answer is the right one times this factor (2, 8, 1/1000, -1, ...);
      fn:     a wrong formula with the reference's signature (function exercises);
      value:  a specific wrong value (value exercises), or a function computing it on first use.
    """
    message: str
    factor: float = None
    fn: object = None
    value: float = None
    rtol: float = 0.02

    @property
    def wrong_value(self):
        """The specific wrong value; given as a function, computed on first use and kept."""
        return _resolved(self, "value")

    def matches(self, got, expected, args=None):
        try:
            if self.fn is not None:
                if args is None:
                    return False
                wrong = _as_array(self.fn(*args))
                return wrong is not None and _close(got, wrong, self.rtol)
            if self.value is not None:
                return _close(got, _as_array(self.wrong_value), self.rtol)
            if self.factor is not None:
                return _close(got, expected * self.factor, self.rtol) and not _close(got, expected, self.rtol)
        except Exception:
            return False
        return False


# Generic diagnoses, tried after an exercise's own mistakes. (factor, message)
GENERIC_FACTORS = [
    (-1, "The sign is wrong."),
    (2, "Off by a factor of 2 (too large): did you count something twice — both directions, or forward and backward?"),
    (0.5, "Off by a factor of 2 (too small): is a factor of 2 missing — forward and backward, multiply and add, both directions?"),
    (8, "Off by a factor of 8 (too large): bits versus bytes? A byte is 8 bits."),
    (1 / 8, "Off by a factor of 8 (too small): bits versus bytes? A byte is 8 bits."),
    (2**30 / 1e9, "Off by 7.4 %: GB (10⁹ bytes) versus GiB (2³⁰ bytes)?"),
    (1e9 / 2**30, "Off by 7.4 %: GiB (2³⁰ bytes) versus GB (10⁹ bytes)?"),
    (1.024, "Off by 2.4 %: KB (1000) versus KiB (1024)?"),
    (1 / 1.024, "Off by 2.4 %: KiB (1024) versus KB (1000)?"),
]


def _power_of_ten(ratio):
    if not np.isfinite(ratio) or ratio <= 0:
        return None
    k = math.log10(ratio)
    if abs(k - round(k)) < 0.01 and round(k) != 0:
        return int(round(k))
    return None


def diagnose_ratio(ratio):
    """A generic diagnosis of ``answer / expected``; None when nothing common fits."""
    for factor, message in GENERIC_FACTORS:
        if np.isfinite(ratio) and abs(ratio / factor - 1) < 0.01:
            return message
    k = _power_of_ten(ratio)
    if k is not None:
        direction = "large" if k > 0 else "small"
        return (f"Off by a factor of 10^{k} (too {direction}): check your units and prefixes "
                f"(kilo 10³, mega 10⁶, giga 10⁹, tera 10¹²; milliseconds vs seconds).")
    if np.isfinite(ratio) and ratio < 0:
        return "The sign is wrong, and the size is off too."
    return None


def diagnose_exponent(got, expected):
    """Wrong exponent: got ≈ expected**p for some simple p (square, root, inverse)."""
    with np.errstate(all="ignore"):
        if np.all(expected > 0) and np.all(got > 0) and np.all(np.abs(np.log(expected)) > 1e-3):
            p = np.log(got) / np.log(expected)
            if np.all(np.isfinite(p)) and np.ptp(p) < 0.01:
                p0 = float(np.mean(p))
                for q, name in ((-1, "the inverse"), (2, "the square"), (0.5, "the square root"),
                                (3, "the cube"), (1 / 3, "the cube root")):
                    if abs(p0 - q) < 0.01:
                        return f"Wrong exponent: your answer looks like {name} of the right one."
    return None
