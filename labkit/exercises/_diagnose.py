"""Diagnoses: what a wrong answer's mistake probably was — or nothing, when nothing fits.

A diagnosis is either right or silent. The rules:

1. **An exercise's own known mistakes first** (:class:`Mistake`). A mistake is claimed only when it
   explains *every* input the learner's function answered: a wrong formula (``fn``) must match on all
   the cases given — and a function exercise must give at least :data:`SEVERAL` of them — because two
   formulas often coincide on one input (``n = 1``, a square matrix); a wrong factor must hold on every
   case with a non-zero expected value.
2. **A near miss is a near miss**: when every answer is within :data:`NEAR` (5 %) of the expected one but
   outside the tolerance, the learner rounded early or used a rounded constant; they are told so, and no
   unit slip is suggested (a 2.4 % miss on an MTBF in hours is not "KiB versus KB"). The one exception:
   on a byte-like quantity, a ratio within 0.1 % of 1.024 is the KB/KiB slip, not rounding.
3. **Generic slips only where the quantity can have them.** Each exercise declares the kind of quantity
   it asks for (:data:`QUANTITIES`); :data:`SLIPS` says which families of generic slips each kind can
   have:

   - ``sign`` (a minus sign) and ``two`` (a factor of 2: both directions, forward and backward): every
     numeric kind;
   - ``bits`` (×8) and ``binary`` (GB/GiB, KB/KiB): byte-like kinds only — bytes, bits, bandwidth;
   - ``ten`` (a power of ten: kilo/mega/giga, ms vs s, g vs kg): kinds quoted with SI prefixes — bytes,
     bits, bandwidth, time, rate, FLOP, intensity, energy, power, mass. Never fractions, ratios or
     counts: a utilization off by 10³ is not a prefix slip, and "check your prefixes" would mislead;
   - ``percent`` (×100: a percentage where a fraction was asked): fractions only;
   - ``clock`` (×60, ×3600, ×24, ×86,400, ×365.25: seconds, minutes, hours, days, years): time only;
   - ``joules`` (×3,600, ×3.6·10⁶: J versus Wh or kWh): energy only;
   - ``exponent`` (the square, the root, the inverse): every numeric kind, but only the inverse on a
     single value (any one number is *some* power of another).

   A generic factor must hold, to 1 %, on every case with a non-zero expected value.
"""

import math
from dataclasses import dataclass

import numpy as np

from ._base import _as_array, _close, _resolved

# ---------------------------------------------------------------------------------------------
# Kinds of quantity, and the slips each can have
# ---------------------------------------------------------------------------------------------
#: The kinds of quantity an exercise may declare (``quantity=``), with what each covers.
QUANTITIES = {
    "bytes": "a number of bytes (memory, a message, a cache), in any unit of bytes",
    "bits": "a number of bits",
    "bandwidth": "bytes per second",
    "time": "a duration: seconds, minutes, hours, days, years",
    "rate": "FLOP per second",
    "flops": "a number of floating-point operations",
    "intensity": "FLOP per byte (arithmetic intensity, a ridge point)",
    "energy": "joules, watt-hours, or energy per FLOP or per token",
    "power": "watts, megawatts",
    "mass": "kilograms or tonnes (of CO2e)",
    "fraction": "a share between 0 and 1 (utilization, MFU, efficiency, waste)",
    "ratio": "a dimensionless ratio (a slowdown, a speed-up)",
    "count": "a number of things (GPUs, workers, parameters, tokens)",
    "choice": "one of a few named options",
    "other": "anything else (a layout, an hour of the day)",
}

BYTE_LIKE = frozenset({"bytes", "bits", "bandwidth"})
_SI = {"sign", "two", "ten", "exponent"}

#: The families of generic slips each kind of quantity can have (see the module's docstring).
SLIPS = {
    "bytes": _SI | {"bits", "binary"},
    "bits": _SI | {"bits", "binary"},
    "bandwidth": _SI | {"bits", "binary"},
    "time": _SI | {"clock"},
    "rate": _SI,
    "flops": _SI,
    "intensity": _SI,
    "energy": _SI | {"joules"},
    "power": _SI,
    "mass": _SI,
    "fraction": {"sign", "two", "percent", "exponent"},
    "ratio": {"sign", "two", "exponent"},
    "count": {"sign", "two", "exponent"},
    "choice": set(),
    "other": set(),
    None: {"sign"},          # not declared: only what holds for any number
}

#: A near miss: every answer within this relative distance of the expected one (5 %).
NEAR = 0.05
#: The fewest inputs on which a function exercise's mistake must match before it is claimed.
SEVERAL = 3
#: How closely a generic factor must hold (relative), and the KB/KiB ratio on a byte-like quantity.
FACTOR_RTOL = 0.01
KIB_RTOL = 0.001


def check_quantity(quantity, exercise_id="?"):
    """``quantity`` itself when it is one of :data:`QUANTITIES` (or None: undeclared); else ValueError."""
    if quantity is not None and quantity not in QUANTITIES:
        raise ValueError(f"exercise {exercise_id}: quantity must be one of {', '.join(QUANTITIES)}; "
                         f"got {quantity!r}")
    return quantity


# ---------------------------------------------------------------------------------------------
# An exercise's own mistakes
# ---------------------------------------------------------------------------------------------
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
        """Whether this mistake explains one answer (see :meth:`matches_cases` for several)."""
        return self.matches_cases([(args, got, expected)], several=1)

    def matches_cases(self, cases, several=1):
        """Whether this mistake explains every case ``(args, got, expected)``.

        A formula (``fn``) must match on all the cases, and there must be at least ``several`` of them;
        a factor must hold on every case whose expected value is non-zero, and there must be at least
        ``min(several, len(cases))`` such cases; a value is one wrong number (value exercises).
        """
        try:
            if self.fn is not None:
                if len(cases) < max(several, 1) or any(args is None for args, _, _ in cases):
                    return False
                for args, got, _ in cases:
                    wrong = _as_array(self.fn(*args))
                    if wrong is None or not _close(got, wrong, self.rtol):
                        return False
                return True
            if self.value is not None:
                wrong = _as_array(self.wrong_value)
                return all(_close(got, wrong, self.rtol) for _, got, _ in cases)
            if self.factor is not None:
                informative = 0
                for _, got, expected in cases:
                    if not _close(got, expected * self.factor, self.rtol):
                        return False
                    informative += bool(np.any(expected != 0))
                return informative >= min(several, len(cases)) and informative > 0
        except Exception:
            return False
        return False


# ---------------------------------------------------------------------------------------------
# Generic diagnoses
# ---------------------------------------------------------------------------------------------
# (family, factor, message): the ratio answer / expected these slips produce.
GENERIC_FACTORS = [
    ("sign", -1, "The sign is wrong."),
    ("percent", 100, "That looks like a percentage: answer with a fraction (0.25, not 25)."),
    ("two", 2, "Off by a factor of 2 (too large): did you count something twice — both directions, or forward "
               "and backward?"),
    ("two", 0.5, "Off by a factor of 2 (too small): is a factor of 2 missing — forward and backward, multiply and "
                 "add, both directions?"),
    ("bits", 8, "Off by a factor of 8 (too large): bits versus bytes? A byte is 8 bits."),
    ("bits", 1 / 8, "Off by a factor of 8 (too small): bits versus bytes? A byte is 8 bits."),
    ("binary", 2**30 / 1e9, "Off by 7.4 %: GB (10⁹ bytes) versus GiB (2³⁰ bytes)?"),
    ("binary", 1e9 / 2**30, "Off by 7.4 %: GiB (2³⁰ bytes) versus GB (10⁹ bytes)?"),
    ("clock", 60, "Off by a factor of 60 (too large): seconds where minutes were asked, or minutes for hours?"),
    ("clock", 1 / 60, "Off by a factor of 60 (too small): minutes where seconds were asked, or hours for minutes?"),
    ("clock", 3600, "Off by a factor of 3,600 (too large): seconds where hours were asked?"),
    ("clock", 1 / 3600, "Off by a factor of 3,600 (too small): hours where seconds were asked?"),
    ("clock", 24, "Off by a factor of 24 (too large): hours where days were asked?"),
    ("clock", 1 / 24, "Off by a factor of 24 (too small): days where hours were asked?"),
    ("clock", 86400, "Off by a factor of 86,400 (too large): seconds where days were asked?"),
    ("clock", 1 / 86400, "Off by a factor of 86,400 (too small): days where seconds were asked?"),
    ("clock", 365.25, "Off by a factor of 365 (too large): days where years were asked?"),
    ("clock", 1 / 365.25, "Off by a factor of 365 (too small): years where days were asked?"),
    ("joules", 3600, "Off by a factor of 3,600 (too large): joules where watt-hours were asked (1 Wh = 3,600 J)?"),
    ("joules", 1 / 3600, "Off by a factor of 3,600 (too small): watt-hours where joules were asked (1 Wh = 3,600 J)?"),
    ("joules", 3.6e6, "Off by a factor of 3.6·10⁶ (too large): joules where kWh were asked (1 kWh = 3.6·10⁶ J)?"),
    ("joules", 1 / 3.6e6, "Off by a factor of 3.6·10⁶ (too small): kWh where joules were asked?"),
]
_KIB = [(1.024, "Off by 2.4 %: KB (1000) versus KiB (1024)?"),
        (1 / 1.024, "Off by 2.4 %: KiB (1024) versus KB (1000)?")]


def near_miss_message(rtol=None):
    """What a near miss is told: it rounded early (no unit slip)."""
    tolerance = f" (±{_percent(rtol)})" if rtol else ""
    return f"Close, but outside the tolerance{tolerance}: did you round early? Keep more digits."


def _percent(rtol):
    return f"{rtol * 100:.2g} %"


def _power_of_ten(ratio):
    if not np.isfinite(ratio) or ratio <= 0:
        return None
    k = math.log10(ratio)
    if abs(k - round(k)) < 0.01 and round(k) != 0:
        return int(round(k))
    return None


def _ratio(cases):
    """The one ratio answer / expected that holds on every case with a non-zero expected value (to 1 %),
    with how many such cases there are; (None, n) when the ratio varies or is not finite."""
    ratios = []
    for _, got, expected in cases:
        got, expected = np.asarray(got, dtype=float).reshape(-1), np.asarray(expected, dtype=float).reshape(-1)
        if got.size != expected.size:
            return None, 0
        nonzero = expected != 0
        if np.any(got[~nonzero] != 0):
            return None, 0          # a non-zero answer where zero was expected: no single factor
        with np.errstate(all="ignore"):
            ratios.extend((got[nonzero] / expected[nonzero]).tolist())
    if not ratios:
        return None, 0
    ratios = np.array(ratios)
    if not np.all(np.isfinite(ratios)):
        return None, len(ratios)
    mean = float(np.mean(ratios))
    if np.ptp(ratios) > FACTOR_RTOL * max(1e-300, float(np.max(np.abs(ratios)))):
        return None, len(ratios)
    return mean, len(ratios)


def _is_near(cases):
    """Every answer within NEAR of the expected one (relative; zero only where zero was expected)."""
    for _, got, expected in cases:
        got, expected = np.asarray(got, dtype=float).reshape(-1), np.asarray(expected, dtype=float).reshape(-1)
        if got.size != expected.size:
            return False
        with np.errstate(all="ignore"):
            scale = np.abs(expected)
            off = np.abs(got - expected)
            ok = np.where(scale > 0, off <= NEAR * scale, off == 0)
        if not np.all(ok):
            return False
    return True


def diagnose_ratio(ratio, quantity=None):
    """A generic diagnosis of one consistent ``answer / expected`` for this kind of quantity; None when
    nothing that this kind can have fits."""
    if not np.isfinite(ratio):
        return None
    slips = SLIPS.get(quantity, set())
    for family, factor, message in GENERIC_FACTORS:
        if family in slips and abs(ratio / factor - 1) < FACTOR_RTOL:
            return message
    if "ten" in slips:
        k = _power_of_ten(ratio)
        if k is not None:
            direction = "large" if k > 0 else "small"
            return (f"Off by a factor of 10^{k} (too {direction}): check your units and prefixes "
                    f"(kilo 10³, mega 10⁶, giga 10⁹, tera 10¹²; milliseconds vs seconds).")
    if "sign" in slips and ratio < 0:
        return "The sign is wrong, and the size is off too."
    return None


def diagnose_exponent(got, expected, only_inverse=False):
    """Wrong exponent: got ≈ expected**p for some simple p (square, root, inverse); with
    ``only_inverse`` (a single value, which is always *some* power of another), only p = −1."""
    got, expected = np.asarray(got, dtype=float), np.asarray(expected, dtype=float)
    with np.errstate(all="ignore"):
        if np.all(expected > 0) and np.all(got > 0) and np.all(np.abs(np.log(expected)) > 1e-3):
            p = np.log(got) / np.log(expected)
            if np.all(np.isfinite(p)) and np.ptp(p) < 0.01:
                p0 = float(np.mean(p))
                powers = ((-1, "the inverse"), (2, "the square"), (0.5, "the square root"),
                          (3, "the cube"), (1 / 3, "the cube root"))
                for q, name in powers[:1] if only_inverse else powers:
                    if abs(p0 - q) < 0.01:
                        return f"Wrong exponent: your answer looks like {name} of the right one."
    return None


def diagnose_cases(cases, mistakes=(), quantity=None, rtol=None, several=1):
    """What a wrong answer's mistake probably was, from every case ``(args, got, expected)`` the learner's
    answer gave numbers for (the failing one first); None when nothing fits.

    ``several``: how many cases a claim needs (a function exercise: :data:`SEVERAL`; a value: 1).
    ``rtol``: the exercise's tolerance, quoted in the near-miss message.
    """
    cases = [(args, np.asarray(got, dtype=float), np.asarray(expected, dtype=float))
             for args, got, expected in cases]
    if not cases:
        return None
    for m in mistakes:
        if m.matches_cases(cases, several):
            return m.message
    enough = len(cases) >= several
    slips = SLIPS.get(quantity, set())
    ratio, informative = _ratio(cases)
    if ratio is not None and quantity in BYTE_LIKE and enough:
        for factor, message in _KIB:
            if abs(ratio / factor - 1) < KIB_RTOL:
                return message
    if _is_near(cases):
        return near_miss_message(rtol)
    if not enough:
        return None
    if ratio is not None and informative >= min(several, len(cases)):
        message = diagnose_ratio(ratio, quantity)
        if message:
            return message
    if "exponent" in slips:
        got = np.concatenate([g.reshape(-1) for _, g, _ in cases])
        expected = np.concatenate([e.reshape(-1) for _, _, e in cases])
        return diagnose_exponent(got, expected, only_inverse=got.size < SEVERAL)
    return None
