"""SI units inside, people's units outside.

Every quantity inside labkit is in SI base units: seconds, bytes, FLOP, FLOP/s, watts, joules.
Multiply by a constant here to bring a number in (``80 * GB``), divide to take it out
(``t / HOUR``), and use the ``fmt_*`` functions to show it to a person.

Decimal (SI) prefixes are powers of 1000: a GB is 10**9 bytes, as in datasheets.
Binary (IEC) prefixes are powers of 1024: a GiB is 2**30 bytes, as memory reports.
A GiB is about 7.4 % larger than a GB; a byte is 8 bits (network links are quoted in bits/s).
"""

import math

from .core.validate import finite_result, flag, integer, number, positive

# --- decimal prefixes -------------------------------------------------------------------
KILO, MEGA, GIGA, TERA, PETA, EXA, ZETTA = 1e3, 1e6, 1e9, 1e12, 1e15, 1e18, 1e21
MILLI, MICRO, NANO = 1e-3, 1e-6, 1e-9

# --- data (bytes) ------------------------------------------------------------------------
BYTE = 1
BIT = 1 / 8
KB, MB, GB, TB, PB, EB = KILO, MEGA, GIGA, TERA, PETA, EXA
KiB, MiB, GiB, TiB, PiB, EiB = (float(2**(10 * i)) for i in range(1, 7))
# network rates are quoted in bits per second
Kbps, Mbps, Gbps, Tbps = KILO * BIT, MEGA * BIT, GIGA * BIT, TERA * BIT

# --- time (seconds) ----------------------------------------------------------------------
SECOND = 1.0
MS, US, NS = MILLI, MICRO, NANO
MINUTE = 60.0
HOUR = 3600.0
DAY = 86400.0
WEEK = 7 * DAY
YEAR = 365.25 * DAY  # Julian year

# --- compute (FLOP, FLOP/s) --------------------------------------------------------------
FLOP = 1.0
GFLOP, TFLOP, PFLOP, EFLOP = GIGA, TERA, PETA, EXA
GFLOPS, TFLOPS, PFLOPS, EFLOPS = GIGA, TERA, PETA, EXA  # FLOP per second

# --- power (W) and energy (J) ------------------------------------------------------------
W = WATT = 1.0
kW, MW, GW = KILO, MEGA, GIGA
J = JOULE = 1.0
kJ, MJ, GJ = KILO, MEGA, GIGA
Wh = 3600.0
kWh, MWh, GWh = KILO * Wh, MEGA * Wh, GIGA * Wh

# --- mass (kg), for carbon ---------------------------------------------------------------
KG = 1.0
TONNE = 1000.0

_SI_PREFIXES = [(1e24, "Y"), (1e21, "Z"), (1e18, "E"), (1e15, "P"), (1e12, "T"), (1e9, "G"),
                (1e6, "M"), (1e3, "k"), (1.0, ""), (1e-3, "m"), (1e-6, "µ"), (1e-9, "n"),
                (1e-12, "p")]
_IEC_PREFIXES = [(2.0**60, "Ei"), (2.0**50, "Pi"), (2.0**40, "Ti"), (2.0**30, "Gi"),
                 (2.0**20, "Mi"), (2.0**10, "Ki"), (1.0, "")]


def _as_number(value, name):
    """A real number to format: not NaN (a NaN would print as a figure); ±inf prints as ∞."""
    return number(name, value, finite=False)


def _digits(digits):
    return integer("digits", digits, minimum=1, maximum=15)


def _scaled(value, unit, prefixes, digits):
    if math.isinf(value):
        return f"{'-' if value < 0 else ''}∞ {unit}"
    if value == 0:
        return f"0 {unit}"
    magnitude = abs(value)
    for factor, prefix in prefixes:
        if magnitude >= factor * (1 - 0.5 * 10 ** -digits):
            break
    else:
        factor, prefix = prefixes[-1]
    return f"{_sig(value / factor, digits)} {prefix}{unit}"


def _sig(x, digits):
    """x with `digits` significant digits, without trailing zeros or scientific notation."""
    if x == 0:
        return "0"
    decimals = max(0, digits - 1 - int(math.floor(math.log10(abs(x)))))
    text = f"{x:,.{decimals}f}"
    if "." in text:
        text = text.rstrip("0").rstrip(".")
    return text


def fmt_si(value, unit="", digits=3):
    """A number with an SI prefix: ``fmt_si(3.2e12, "FLOP/s") -> '3.2 TFLOP/s'``."""
    if not isinstance(unit, str):
        raise TypeError(f"unit must be a string such as 'FLOP/s', got {unit!r}")
    return _scaled(_as_number(value, "value"), unit, _SI_PREFIXES, _digits(digits))


def fmt_bytes(nbytes, binary=False, digits=3):
    """Bytes for people: decimal by default (``'80 GB'``), IEC with ``binary=True`` (``'74.5 GiB'``)."""
    nbytes, digits = _as_number(nbytes, "nbytes"), _digits(digits)
    if flag("binary", binary):
        return _scaled(nbytes, "B", _IEC_PREFIXES, digits)
    return _scaled(nbytes, "B", [p for p in _SI_PREFIXES if p[0] >= 1], digits)


def fmt_bandwidth(bandwidth_bytes_per_s, digits=3):
    """Bytes per second for people: ``fmt_bandwidth(2.039e12) -> '2.04 TB/s'``."""
    return _scaled(_as_number(bandwidth_bytes_per_s, "bandwidth_bytes_per_s"), "B/s",
                   [p for p in _SI_PREFIXES if p[0] >= 1], _digits(digits))


def fmt_flops(flops, digits=3):
    """An amount of work: ``fmt_flops(3.14e23) -> '314 ZFLOP'`` (dense FLOP)."""
    return _scaled(_as_number(flops, "flops"), "FLOP", [p for p in _SI_PREFIXES if p[0] >= 1], _digits(digits))


def fmt_flop_rate(flops_per_s, digits=3):
    """A compute rate: ``fmt_flop_rate(3.12e14) -> '312 TFLOP/s'``."""
    return _scaled(_as_number(flops_per_s, "flops_per_s"), "FLOP/s",
                   [p for p in _SI_PREFIXES if p[0] >= 1], _digits(digits))


def fmt_power(power_w, digits=3):
    """Power: ``fmt_power(3.3e6) -> '3.3 MW'``."""
    return _scaled(_as_number(power_w, "power_w"), "W", _SI_PREFIXES, _digits(digits))


def fmt_energy(energy_j, digits=3):
    """Energy in watt-hours, as utilities bill it: ``fmt_energy(4.63e12) -> '1.29 GWh'``."""
    energy_j = _as_number(energy_j, "energy_j")
    return _scaled(energy_j / Wh, "Wh", _SI_PREFIXES[:9], _digits(digits))


def fmt_seconds(seconds, digits=3):
    """A duration in the largest unit that reads well: ``'850 ns'``, ``'2.5 h'``, ``'14.8 days'``."""
    s, digits = _as_number(seconds, "seconds"), _digits(digits)
    if math.isinf(s):
        return f"{'-' if s < 0 else ''}∞ s"
    sign, s = ("-" if s < 0 else ""), abs(s)
    if s == 0:
        return "0 s"
    if s < 60:
        return sign + _scaled(s, "s", [p for p in _SI_PREFIXES if p[0] <= 1], digits)
    for size, name in ((YEAR, "years"), (DAY, "days"), (HOUR, "h"), (MINUTE, "min")):
        if s >= size:
            shown = _sig(s / size, digits)
            if shown == "1" and name in ("years", "days"):
                name = name[:-1]                     # "1 day", not "1 days"
            return f"{sign}{shown} {name}"
    return f"{sign}{_sig(s, digits)} s"  # pragma: no cover


def convert(value, from_unit, to_unit):
    """Convert between two unit constants of this module, e.g. ``convert(1, TB, GiB)``."""
    value = number("value", value)
    from_unit, to_unit = (positive(n, v) for n, v in (("from_unit", from_unit), ("to_unit", to_unit)))
    return finite_result(value * from_unit / to_unit, "the converted value (value, from_unit, to_unit)")
