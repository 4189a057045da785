"""Devices: one datasheet row type for every chapter.

A :class:`Device` is one row of ``datasets/hardware.csv`` (a CPU, GPU, accelerator or Top500 #1):
its dense peak FLOP/s in a named precision, memory bandwidth, memory, power and source. Chapter 01
plots the whole table; chapters 00, 02, 04 and 06 take their datasheet figures from
:func:`datasheet`, so the CSV is the one source of every hardware number in the course.

    datasheet("H100")            # cached: the row whose name contains "H100"
    datasheet("H100").peak_flops_per_s, .bandwidth_bytes_per_s, .memory_bytes, .power_w
    device("Frontier", table)    # the same lookup in a table you loaded (uncached)
"""

import functools
import math
from dataclasses import dataclass

from .validate import text

#: The training GPUs the chapters compare, as datasheet names (each matches one row of hardware.csv).
TRAINING_GPUS = ("V100", "A100", "H100", "H200", "B200")

KINDS = ("cpu", "gpu", "accelerator", "supercomputer")


@dataclass(frozen=True)
class Device:
    """One row of hardware.csv. Peak FLOP/s is dense, in ``precision``; a figure the row does not
    give (a CPU's memory, a GPU's LINPACK) is None, never a NaN that would flow into a result.

    ``bandwidth_bytes_per_s``: memory bandwidth (bytes/s). ``memory_bytes``: the device's own memory
    (HBM/GDDR, SI bytes) for GPUs and accelerators. ``power_w``: the rated board power (TDP, W).
    ``linpack_flops_per_s``: measured LINPACK Rmax for Top500 machines.
    """
    name: str
    year: int
    kind: str
    peak_flops_per_s: float
    precision: str
    bandwidth_bytes_per_s: float
    power_w: float
    linpack_flops_per_s: float
    source: str
    memory_bytes: float = None
    note: str = ""

    @property
    def ridge_point(self):
        """Peak FLOP/s ÷ memory bandwidth, in FLOP/byte (None without a bandwidth)."""
        if self.peak_flops_per_s is None or self.bandwidth_bytes_per_s is None:
            return None
        return self.peak_flops_per_s / self.bandwidth_bytes_per_s

    @property
    def short_name(self):
        """The name without the vendor: "H100 SXM" for "NVIDIA H100 SXM"."""
        for vendor in ("NVIDIA ", "Google ", "AMD ", "Intel "):
            if self.name.startswith(vendor):
                return self.name[len(vendor):]
        return self.name

    @property
    def flops_are_integer_ops(self):
        """True when the peak counts integer operations (TPU v1's int8), not floating-point ones."""
        return self.precision.startswith("int")


def load_hardware():
    """``datasets/hardware.csv`` as a :class:`labkit.data.Table` (see datasets/README.md)."""
    from ..data import load
    return load("hardware")


def device(name, table=None):
    """The row of hardware.csv whose name is ``name`` (case-insensitive) or uniquely contains it."""
    if not isinstance(name, str) or not name.strip():
        raise TypeError(f"name must be a device name such as 'A100' or 'Frontier', got {name!r}")
    from ..data import Table
    table = load_hardware() if table is None else table
    if not isinstance(table, Table) or "name" not in table.columns:
        raise TypeError(f"table must be a labkit.data.Table with a 'name' column (load_hardware()), got "
                        f"{type(table).__name__}")
    names = [str(n) for n in table["name"]]
    key = name.strip().lower()
    hits = [i for i, n in enumerate(names) if n.lower() == key] or \
           [i for i, n in enumerate(names) if key in n.lower()]
    if len(hits) != 1:
        what = "no device" if not hits else f"{len(hits)} devices"
        options = [names[i] for i in hits] if hits else names
        raise ValueError(f"{what} in hardware.csv match {name!r}; choose one of: {', '.join(options)}")
    row = {k: (None if isinstance(v, float) and math.isnan(v) else v) for k, v in table.rows()[hits[0]].items()}
    return Device(row["name"], int(row["year"]), row["kind"], row["peak_flops_per_s"], row["precision"],
                  row["bandwidth_bytes_per_s"], row["power_w"], row["linpack_flops_per_s"], row["source"],
                  row.get("memory_bytes"), row.get("note") or "")


def datasheet(name):
    """:func:`device` for library constants and defaults: the row read from hardware.csv once per
    session and cached (``datasheet("H100").peak_flops_per_s``)."""
    return _datasheet(text("name", name).strip().lower())


@functools.lru_cache(maxsize=None)
def _datasheet(key):
    return device(key, _cached_table())


@functools.lru_cache(maxsize=1)
def _cached_table():
    return load_hardware()


def training_gpus():
    """``{short name: Device}`` for :data:`TRAINING_GPUS` (V100 … B200), from hardware.csv."""
    return {d.short_name: d for d in map(datasheet, TRAINING_GPUS)}
