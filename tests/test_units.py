import math

import pytest

from labkit import units as u


def test_prefixes_decimal_and_binary():
    assert u.GB == 1e9 and u.TB == 1e12 and u.PB == 1e15
    assert u.GiB == 2**30 and u.TiB == 2**40 and u.PiB == 2**50
    assert u.GiB / u.GB == pytest.approx(1.073741824)
    assert u.Gbps == 1e9 / 8  # bits per second -> bytes per second


def test_time_power_energy():
    assert u.HOUR == 3600 and u.DAY == 86400 and u.YEAR == pytest.approx(365.25 * 86400)
    assert u.kWh == 3.6e6 and u.MWh == 3.6e9
    assert u.kW == 1e3 and u.MW == 1e6


@pytest.mark.parametrize("fn,value,text", [
    (u.fmt_bytes, 80e9, "80 GB"),
    (u.fmt_bandwidth, 2.039e12, "2.04 TB/s"),
    (u.fmt_flops, 3.14e23, "314 ZFLOP"),
    (u.fmt_flop_rate, 312e12, "312 TFLOP/s"),
    (u.fmt_power, 3.3e6, "3.3 MW"),
    (u.fmt_energy, 1287 * 3.6e9, "1.29 GWh"),
    (u.fmt_seconds, 14.8 * 86400, "14.8 days"),
    (u.fmt_seconds, 2.5e-6, "2.5 µs"),
    (u.fmt_seconds, 0.0, "0 s"),
    (u.fmt_seconds, 90.0, "1.5 min"),
    (u.fmt_seconds, 86400.0, "1 day"),            # singular, not "1 days"
    (u.fmt_seconds, 2 * 86400.0, "2 days"),
])
def test_formatting(fn, value, text):
    assert fn(value) == text


def test_binary_bytes_and_si():
    assert u.fmt_bytes(80e9, binary=True) == "74.5 GiB"
    assert u.fmt_si(0.004, "s") == "4 ms"
    assert u.fmt_bytes(999.9e9) == "1 TB"  # rounding carries to the next prefix
    with pytest.raises(ValueError, match="nbytes must not be NaN"):  # a NaN would print as a figure
        u.fmt_bytes(float("nan"))


def test_convert():
    assert u.convert(1, u.TB, u.GiB) == pytest.approx(931.3225746)
    assert u.convert(1, u.DAY, u.HOUR) == 24


@pytest.mark.parametrize("bad", ["80", None, [1, 2], True])
def test_bad_input_is_a_clear_type_error(bad):
    with pytest.raises(TypeError, match="must be a number"):
        u.fmt_bytes(bad)


def test_convert_rejects_zero_unit():
    with pytest.raises(ValueError, match="to_unit"):
        u.convert(1, u.GB, 0)
    assert math.isclose(u.convert(8, u.BIT, u.BYTE), 1)

FUZZ_EXAMPLES = {"value": 3.2e12, "from_unit": 1e12, "to_unit": 2**30, "flops": 3.14e23, "flops_per_s": 3.12e14,
                 "bandwidth_bytes_per_s": 2.039e12}
