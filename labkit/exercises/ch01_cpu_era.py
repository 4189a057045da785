"""Chapter 01 — the CPU era and the move to accelerators: checked exercises.

References call labkit.hardware (and the core functions it re-exports: roofline, ridge_point,
doubling_time, training_time, device), so each formula lives in one place.
"""

import numpy as np

from .. import hardware as hw
from .. import units as u
from ._core import ChoiceExercise, FunctionExercise, Mistake, ValueExercise, register

# --- 1. a one-line calculation --------------------------------------------------------------
CM5_RMAX = 59.7e9  # CM-5/1024, Top500 #1 of June 1993 (LINPACK Rmax); hardware.csv
CM5_RPEAK = 131.0e9


def _gpt3_on_cm5_years():
    cm5 = hw.device("CM-5")
    return hw.training_time(hw.published_run("GPT-3").total_flops, 1, cm5.linpack_flops_per_s) / u.YEAR


register(ValueExercise(
    "01.gpt3_on_cm5_years",
    "GPT-3's training compute on the 1993 Top500 #1, in years",
    no_variants="published figures: GPT-3's compute and the CM-5's LINPACK",
    expected=_gpt3_on_cm5_years,
    unit="years",
    rtol=0.01,
    quantity="time",
    hints=[
        "Time is work divided by rate: 3.14e23 FLOP divided by the CM-5's LINPACK speed, 59.7 GFLOP/s.",
        "That gives seconds; a year is 365.25 × 86,400 s (labkit.units.YEAR).",
        "years = 3.14e23 / 59.7e9 / (365.25 * 86400)",
    ],
    mistakes=[
        Mistake("That is in days: divide by 365.25 more to get years.", factor=365.25, rtol=0.005),
        Mistake("That is in seconds: divide by labkit.units.YEAR (about 3.16e7 s) to get years.",
                factor=u.YEAR, rtol=0.005),
        Mistake("You used the CM-5's peak (Rpeak, 131 GFLOP/s); the question asks for its measured "
                "LINPACK speed (Rmax, 59.7 GFLOP/s).", factor=CM5_RMAX / CM5_RPEAK, rtol=0.005),
    ],
))


# --- 2. count the work of a matrix product --------------------------------------------------
def _matmul_cases(rng):
    return {"m": int(rng.integers(1, 9000)), "n": int(rng.integers(1, 9000)), "k": int(rng.integers(1, 9000))}


register(FunctionExercise(
    "01.matmul_flops",
    "FLOP of an (m×k)·(k×n) matrix product",
    reference=hw.matmul_flops,
    cases=_matmul_cases,
    edge_cases=[{"m": 1, "n": 1, "k": 1}, {"m": 4096, "n": 4096, "k": 4096}, {"m": 1, "n": 12288, "k": 12288},
                {"m": 2048, "n": 1, "k": 7}],
    rtol=1e-9,
    quantity="flops",
    teaches=("labkit.hardware.matmul_flops",),
    hints=[
        "C has m×n entries; each is a dot product of length k.",
        "A dot product of length k is k multiplies and k adds (about 2k FLOP).",
        "return 2 * m * n * k",
    ],
    mistakes=[
        Mistake("You counted only the multiplies (or only the multiply-adds): each of the k terms is a "
                "multiply *and* an add, 2 FLOP.", fn=lambda m, n, k: m * n * k),
        Mistake("That is 2·n³: use all three sizes, 2·m·n·k — the matrices need not be square.",
                fn=lambda m, n, k: 2 * n**3),
        Mistake("You added the sizes; the work multiplies: m·n outputs, each k multiply-adds.",
                fn=lambda m, n, k: 2 * (m + n + k)),
    ],
))


# --- 3. fit a doubling time -------------------------------------------------------------------
def _trend_cases(rng):
    size = int(rng.integers(5, 25))
    years = np.sort(rng.uniform(1970, 2025, size)).round(1)
    doubling = rng.uniform(0.8, 4.0)
    values = 10 ** rng.uniform(3, 12) * 2 ** ((years - years[0]) / doubling) * 2 ** rng.normal(0, 0.4, size)
    return {"years": years, "values": values}


def _ln_fit(years, values):
    slope = np.polyfit(years, np.log(values), 1)[0]
    return 1 / slope


def _log10_fit(years, values):
    slope = np.polyfit(years, np.log10(values), 1)[0]
    return 1 / slope


def _slope(years, values):
    return np.polyfit(years, np.log2(values), 1)[0]


def _two_points(years, values):
    return (years[-1] - years[0]) / np.log2(values[-1] / values[0])


register(FunctionExercise(
    "01.doubling_time",
    "Fit a doubling time (years) by least squares on log2(values)",
    reference=hw.doubling_time,
    cases=_trend_cases,
    edge_cases=[{"years": np.array([2000.0, 2001.0]), "values": np.array([1.0, 2.0])},
                {"years": np.array([1993.0, 2003.0, 2013.0]), "values": np.array([1e11, 1e14, 1e17])}],
    rtol=1e-6,
    quantity="time",
    teaches=("labkit.hardware.doubling_time", "labkit.core.trend.doubling_time"),
    hints=[
        "Exponential growth is a straight line on a log scale: fit a line to (year, log2(value)).",
        "np.polyfit(years, np.log2(values), 1) returns [slope, intercept]; the slope is doublings per year.",
        "slope = np.polyfit(years, np.log2(values), 1)[0]; return 1 / slope",
    ],
    mistakes=[
        Mistake("Too large by 1/ln 2 ≈ 1.44: you fitted the natural log, whose slope is e-foldings per "
                "year. Use np.log2 (or multiply by ln 2).", fn=_ln_fit, rtol=1e-4),
        Mistake("Too large by 1/log10(2) ≈ 3.3: you fitted log10, whose slope is decades per year. Use "
                "np.log2.", fn=_log10_fit, rtol=1e-4),
        Mistake("That is the slope — doublings per year. The doubling time is its inverse, 1 / slope.",
                fn=_slope, rtol=1e-4),
        Mistake("You used only the first and last points. A least-squares fit uses every point, so one "
                "odd machine moves it less.", fn=_two_points, rtol=1e-4),
    ],
))


# --- 4. apply the fit to the Top500 leaders ----------------------------------------------------
def _top500_rows():
    rows = hw.load_hardware().where(kind="supercomputer")
    return rows.where(rows["year"] >= 1993)


def _top500_doubling():
    rows = _top500_rows()
    return hw.doubling_time(rows["year"], rows["linpack_flops_per_s"])


def _with(column=None, all_rows=False, since=1993):
    rows = hw.load_hardware() if all_rows else hw.load_hardware().where(kind="supercomputer")
    rows = rows.where(rows["year"] >= since)
    return hw.doubling_time(rows["year"], rows[column or "linpack_flops_per_s"])


register(ValueExercise(
    "01.top500_doubling_years",
    "Doubling time of the Top500 #1's LINPACK speed, 1993–2024",
    no_variants="a fit to the published Top500 list",
    expected=_top500_doubling,
    unit="years",
    rtol=0.005,
    quantity="time",
    hints=[
        "Take the rows of hardware.csv with kind == 'supercomputer' and year ≥ 1993 (the Top500 era).",
        "Fit on the measured LINPACK column, linpack_flops_per_s, with your doubling_time (or labkit's).",
        "t = hw.load_hardware(); top = t.where(t['year'] >= 1993, kind='supercomputer'); "
        "hw.doubling_time(top['year'], top['linpack_flops_per_s'])",
    ],
    mistakes=[
        Mistake("You fitted the peak column (Rpeak); the question asks for the measured LINPACK speed "
                "(Rmax, linpack_flops_per_s).", value=_with("peak_flops_per_s"), rtol=0.002),
        Mistake("You fitted the peak column and kept the pre-Top500 Crays (1976, 1985): use year ≥ 1993 "
                "and the LINPACK column.", value=_with("peak_flops_per_s", since=0), rtol=0.002),
        Mistake("You fitted every machine in the table (CPUs, GPUs, TPUs too): keep kind == "
                "'supercomputer'.", value=_with("peak_flops_per_s", all_rows=True, since=0), rtol=0.002),
    ],
))


# --- 5. the roofline itself ----------------------------------------------------------------------
def _roofline_cases(rng):
    return {"peak_flops_per_s": 10 ** rng.uniform(9, 16), "bandwidth_bytes_per_s": 10 ** rng.uniform(9, 13),
            "intensity": 10 ** rng.uniform(-2, 4)}


register(FunctionExercise(
    "01.roofline",
    "Attainable FLOP/s on the roofline",
    reference=hw.roofline,
    cases=_roofline_cases,
    edge_cases=[{"peak_flops_per_s": 312e12, "bandwidth_bytes_per_s": 2.039e12, "intensity": 0.25},
                {"peak_flops_per_s": 312e12, "bandwidth_bytes_per_s": 2.039e12, "intensity": 1000.0},
                {"peak_flops_per_s": 1e12, "bandwidth_bytes_per_s": 1e11, "intensity": 10.0},
                {"peak_flops_per_s": 1e12, "bandwidth_bytes_per_s": 1e11, "intensity": 0.0}],
    rtol=1e-9,
    quantity="rate",
    teaches=("labkit.hardware.roofline", "labkit.core.roofline.roofline"),
    hints=[
        "Two limits: the arithmetic units (peak FLOP/s) and memory, which delivers bandwidth × intensity "
        "FLOP/s (bytes per second × FLOP per byte).",
        "The slower limit wins: take the minimum of the two.",
        "return min(peak_flops_per_s, bandwidth_bytes_per_s * intensity)",
    ],
    mistakes=[
        Mistake("You returned the memory limit alone: cap it at the peak, min(peak, bandwidth × intensity).",
                fn=lambda p, b, i: b * i),
        Mistake("You took the larger of the two limits: the operation runs at the *slower* one, "
                "min(peak, bandwidth × intensity).", fn=lambda p, b, i: max(p, b * i)),
        Mistake("Memory delivers bandwidth × intensity FLOP/s (bytes/s × FLOP/byte), not bandwidth ÷ "
                "intensity.", fn=lambda p, b, i: min(p, b / i) if i else 0.0),
    ],
))


# --- 6. compare an estimate with a published figure ----------------------------------------------
def _h100_ridge():
    h100 = hw.device("H100 SXM")
    return hw.ridge_point(h100.peak_flops_per_s, h100.bandwidth_bytes_per_s)


register(ValueExercise(
    "01.h100_ridge",
    "H100 ridge point from its datasheet (in FLOP/byte)",
    no_variants="the H100 datasheet's figures",
    expected=_h100_ridge,
    unit="FLOP/byte",
    rtol=0.01,
    quantity="intensity",
    hints=[
        "The ridge point is peak FLOP/s divided by memory bandwidth in bytes/s.",
        "H100 SXM: 989.4 TFLOP/s dense BF16 and 3.35 TB/s: both in SI (FLOP/s and bytes/s) before dividing.",
        "989.4e12 / 3.35e12",
    ],
    mistakes=[
        Mistake("You used the sparse headline (1,979 TFLOP/s): dense matrix math peaks at 989.4 TFLOP/s.",
                value=1979e12 / 3.35e12, rtol=0.005),
        Mistake("You used the A100's datasheet (312 TFLOP/s, 2,039 GB/s): that ridge is ≈153; the question "
                "is about the H100.", value=312e12 / 2.039e12, rtol=0.005),
        Mistake("You divided bandwidth by peak: the ridge is FLOP per byte, peak ÷ bandwidth.",
                value=3.35e12 / 989.4e12, rtol=0.005),
    ],
))


# --- 7. compute- or memory-bound? -----------------------------------------------------------------
register(ChoiceExercise(
    "01.elementwise_bound",
    "Adding two BF16 vectors on an H100: compute- or memory-bound?",
    answer="memory",
    choices={"memory": "memory-bound", "compute": "compute-bound", "neither": "neither: it depends on n"},
    explanations={
        "memory": "1 FLOP per 6 bytes (two 2-byte inputs read, one written): intensity ≈ 0.17 FLOP/B, "
                  "about 1,800× below the H100's ridge of ≈295. The tensor cores wait on HBM.",
        "compute": "An add does 1 FLOP for 6 bytes moved (intensity ≈ 0.17 FLOP/B), far below the ridge "
                   "(≈295 FLOP/B): memory sets the pace, not the arithmetic units.",
        "neither": "Unlike a matrix product, an element-wise add's intensity does not grow with n: it is "
                   "1 FLOP per 6 bytes at every size, always below the ridge.",
    },
    quantity="choice",
    hints=[
        "Count the FLOP and the bytes per element: one add; two BF16 inputs read and one output written.",
        "Intensity = 1 / 6 FLOP per byte. Compare it with the H100's ridge point (≈295 FLOP/byte).",
    ],
))


# --- 8. every core vs one: how well do the cores share a matrix product? ---------------------------
def _efficiency_cases(rng):
    n = int(rng.choice([2, 4, 8, 16, 64, 128]))
    one = 10 ** rng.uniform(9, 11)
    return {"all_threads_flops_per_s": one * n * rng.uniform(0.05, 1.0), "one_thread_flops_per_s": one,
            "n_threads": n}


register(FunctionExercise(
    "01.parallel_efficiency",
    "Parallel efficiency of a measured BLAS rate on every core, as a fraction",
    reference=hw.parallel_efficiency,
    cases=_efficiency_cases,
    edge_cases=[{"all_threads_flops_per_s": 123e9, "one_thread_flops_per_s": 60e9, "n_threads": 2},
                {"all_threads_flops_per_s": 2.97e9, "one_thread_flops_per_s": 60e9, "n_threads": 2},
                {"all_threads_flops_per_s": 1e12, "one_thread_flops_per_s": 1e12, "n_threads": 1}],
    rtol=1e-9,
    quantity="fraction",
    teaches=("labkit.hardware.parallel_efficiency",),
    hints=[
        "Perfect scaling: n threads run n times as fast as one. Efficiency compares what you got with that.",
        "Divide the all-thread rate by n_threads × the one-thread rate.",
        "return all_threads_flops_per_s / (n_threads * one_thread_flops_per_s)",
    ],
    mistakes=[
        Mistake("That is the speed-up (all ÷ one). Efficiency divides it by the number of threads as well: "
                "a speed-up of 2 on 2 threads is 100 %.", fn=lambda a, o, n: a / o),
        Mistake("Upside down: efficiency is what you got (the all-thread rate) over what perfect scaling "
                "promised (n_threads × the one-thread rate).", fn=lambda a, o, n: n * o / a),
        Mistake("That is in percent: return a fraction (0.4 for 40 %).", fn=lambda a, o, n: 100 * a / (n * o)),
    ],
))


# --- 9. batching a decode step: which operations does it help? --------------------------------------
register(ChoiceExercise(
    "01.decode_attention_batch",
    "Decoding with 8× the batch: what happens to the arithmetic intensity of attention?",
    answer="unchanged",
    choices={"up": "it rises about 8×, like the weight matmuls'", "unchanged": "it stays the same",
             "down": "it falls"},
    explanations={
        "unchanged": "Each sequence reads its own KV cache: 8× the sequences is 8× the FLOP and 8× the bytes, "
                     "so FLOP per byte stays put (≈1 in bf16 with one KV head per query head). Only the weight "
                     "matmuls, which share one read of the weights across the batch, climb toward the ridge.",
        "up": "That is true of the weight matmuls, which read the weights once for the whole batch. Attention "
              "reads a separate KV cache for every sequence, so its bytes grow with the batch as fast as its "
              "FLOP do.",
        "down": "Nothing is read less per FLOP either: FLOP and bytes both grow 8×, so the ratio stays the same.",
    },
    quantity="choice",
    hints=[
        "Count per sequence: a new token's attention does ~4·S·N·h FLOP and reads that sequence's own K and V "
        "(2·S·K·h numbers).",
        "Does anything in attention get read once and shared by the whole batch, as the weights are in a matmul?",
    ],
))
