"""Chapter 05 exercises: failures at scale, checkpoint intervals, goodput (labkit.faults)."""

import functools
import math

from .. import faults
from .. import units as u
from ._core import ChoiceExercise, CustomExercise, FunctionExercise, Mistake, ValueExercise, register

_DAYS, _GPUS = faults.LLAMA3_DAYS, faults.LLAMA3_GPUS
_UNEXPECTED, _ALL = faults.LLAMA3_UNEXPECTED, faults.LLAMA3_UNEXPECTED + faults.LLAMA3_PLANNED


def _cluster_hours():
    return faults.llama3_mtbf()[0] / u.HOUR


def _gpu_hours():
    return faults.llama3_mtbf()[1] / u.HOUR


register(FunctionExercise(
    "05.cluster_mtbf",
    "Cluster MTBF from the MTBF of one component",
    reference=lambda component_mtbf, n_components: float(faults.cluster_mtbf(component_mtbf, n_components)),
    cases=lambda rng: {"component_mtbf": 10 ** rng.uniform(4, 9), "n_components": int(rng.integers(1, 200_000))},
    edge_cases=[{"component_mtbf": 50_000 * u.HOUR, "n_components": 16_384},
                {"component_mtbf": 3600.0, "n_components": 1}],
    rtol=1e-6,
    quantity="time",
    teaches=("labkit.faults.cluster_mtbf", "labkit.faults.system_mtbf", "labkit.faults.observed_mtbf"),
    hints=[
        "Failure rates add: N components that each fail at rate 1/M fail together at rate N/M.",
        "The MTBF is the inverse of the rate: component_mtbf / n_components (seconds in, seconds out).",
    ],
    mistakes=[
        Mistake("You multiplied by N: more components fail MORE often, so the MTBF must shrink — divide.",
                fn=lambda component_mtbf, n_components: component_mtbf * n_components),
        Mistake("That is in hours: keep seconds (labkit is SI inside), don't divide by 3600.",
                fn=lambda component_mtbf, n_components: component_mtbf / n_components / u.HOUR),
        Mistake("You divided by √N: rates add linearly, so divide by N itself.",
                fn=lambda component_mtbf, n_components: component_mtbf / math.sqrt(n_components)),
    ],
))

register(ValueExercise(
    "05.llama3_cluster_mtbf",
    "Llama 3's cluster MTBF in hours (compare with the paper)",
    expected=_cluster_hours,
    no_variants="Llama 3's published 54 days and 419 interruptions, compared with the paper's figure",
    rtol=0.01,
    unit="h",
    quantity="time",
    hints=[
        f"Mean time between failures = observed time / number of failures: {_DAYS} days and "
        f"{_UNEXPECTED} unexpected interruptions.",
        f"Convert the 54 days to hours first (× 24), then divide by {_UNEXPECTED}; answer in hours.",
    ],
    mistakes=[
        Mistake(f"You counted all {_ALL} interruptions; the 47 planned ones (maintenance) are not failures — "
                f"use the {_UNEXPECTED} unexpected ones.", value=_DAYS * 24 / _ALL),
        Mistake("That is failures per hour, the inverse: MTBF is time divided by failures.",
                value=_UNEXPECTED / (_DAYS * 24)),
        Mistake("That is in seconds: the question asks for hours (divide by 3600).", factor=u.HOUR),
        Mistake("That is in days: multiply by 24 for hours.", factor=1 / 24),
        Mistake("You divided by the 16,384 GPUs as well: the cluster MTBF is the time between the job's "
                "interruptions, no per-GPU scaling.", factor=1 / _GPUS),
    ],
))

register(ValueExercise(
    "05.per_gpu_mtbf",
    "Llama 3's MTBF per GPU in GPU-hours",
    expected=_gpu_hours,
    no_variants="Llama 3's published run (54 days, 419 interruptions, 16,384 GPUs)",
    rtol=0.01,
    unit="GPU-h",
    quantity="time",
    hints=[
        "Invert cluster_mtbf: if cluster MTBF = per-GPU MTBF / N, then per-GPU MTBF = cluster MTBF × N.",
        f"Cluster MTBF in hours (≈ 3.1 h) × {_GPUS:,} GPUs.",
    ],
    mistakes=[
        Mistake("You divided by the number of GPUs: one GPU fails far LESS often than the whole cluster — "
                "multiply by N.", factor=1 / _GPUS ** 2),
        Mistake(f"You used all {_ALL} interruptions; only the {_UNEXPECTED} unexpected ones are failures.",
                value=_DAYS * 24 / _ALL * _GPUS),
        Mistake("That is in GPU-seconds: divide by 3600 for GPU-hours.", factor=u.HOUR),
        Mistake("You used 54 as hours: 54 days is 1,296 hours.", factor=1 / 24),
    ],
))

register(ChoiceExercise(
    "05.table_check",
    "Which row of the Llama 3 table disagrees with itself?",
    answer="faulty_gpu",
    choices={"faulty_gpu": "Faulty GPU", "hbm3": "GPU HBM3 Memory", "software_bug": "Software Bug",
             "none": "none: every percentage matches its count"},
    explanations={
        "faulty_gpu": "148 / 419 = 35.3 %, but the table prints 30.1 %; the printed shares add up to only "
                      "94.9 %, while the counts add up to exactly 419. Quote the counts.",
        "hbm3": "72 / 419 = 17.2 %: this row is consistent.",
        "software_bug": "54 / 419 = 12.9 %: this row is consistent.",
        "none": "Recompute each share as count / 419 and compare: one row is off by about 5 points.",
    },
    quantity="choice",
    hints=["Compute interruptions / 419 for every row (one line with numpy) and subtract published_percent / 100.",
           "Also add up the published percentages: a full table should total 100 %."],
))

register(FunctionExercise(
    "05.young_interval",
    "Young's checkpoint interval",
    reference=lambda checkpoint_time, mtbf: float(faults.young_interval(checkpoint_time, mtbf)),
    cases=lambda rng: {"checkpoint_time": 10 ** rng.uniform(0, 3.5), "mtbf": 10 ** rng.uniform(3.5, 6)},
    edge_cases=[{"checkpoint_time": 60.0, "mtbf": 3 * u.HOUR}, {"checkpoint_time": 1.0, "mtbf": 2.0}],
    rtol=1e-6,
    quantity="time",
    teaches=("labkit.faults.young_interval",),
    hints=[
        "Waste per unit time ≈ δ/τ (saving) + τ/(2M) (on average half an interval is redone per failure). "
        "Set the derivative with respect to τ to zero.",
        "−δ/τ² + 1/(2M) = 0 gives τ = √(2·δ·M): return math.sqrt(2 * checkpoint_time * mtbf).",
    ],
    mistakes=[
        Mistake("You forgot the factor 2 in Young's formula: τ = √(2·δ·M), not √(δ·M). The 2 comes from "
                "losing half an interval per failure on average.",
                fn=lambda checkpoint_time, mtbf: math.sqrt(checkpoint_time * mtbf)),
        Mistake("Missing square root: τ = √(2·δ·M).",
                fn=lambda checkpoint_time, mtbf: 2 * checkpoint_time * mtbf),
        Mistake("δ and M belong together under the root as a product, τ = √(2·δ·M), not a ratio.",
                fn=lambda checkpoint_time, mtbf: math.sqrt(2 * checkpoint_time / mtbf)),
        Mistake("You put the 2 in the wrong place: τ = √(2·δ·M), not √(δ·M / 2).",
                fn=lambda checkpoint_time, mtbf: math.sqrt(checkpoint_time * mtbf / 2)),
    ],
))


YOUNG_CHECKPOINT_S = (15, 20, 30, 45, 60, 90, 120, 180, 240, 300, 420, 600)    # seconds per checkpoint


def _young_llama3_minutes(checkpoint_s=60):
    return float(faults.young_interval(checkpoint_s, faults.llama3_mtbf()[0])) / u.MINUTE


register(ValueExercise(
    "05.young_llama3",
    "Young's interval for Llama 3 with a one-minute checkpoint, in minutes",
    expected=_young_llama3_minutes,
    variants={"checkpoint_s": YOUNG_CHECKPOINT_S},
    numbers_text="a checkpoint that takes {checkpoint_s} s",
    rtol=0.01,
    unit="min",
    quantity="time",
    hints=[
        "Use the cluster's MTBF (≈ 3.1 h): the job stops when any GPU fails. Put δ and M in the same unit.",
        "In seconds: τ = √(2 × {checkpoint_s} s × 11,135 s); then divide by 60 for minutes.",
    ],
    mistakes=[
        Mistake("You mixed units: δ in minutes and M in hours under one square root. Convert both to "
                "seconds first, then the result back to minutes.",
                value=lambda checkpoint_s=60: math.sqrt(2 * checkpoint_s / u.MINUTE * _DAYS * 24 / _UNEXPECTED)),
        Mistake("That is in seconds: divide by 60 for minutes.", factor=u.MINUTE),
        Mistake("You forgot the factor 2 in Young's formula: τ = √(2·δ·M).", factor=1 / math.sqrt(2)),
        Mistake("You used the per-GPU MTBF: the job stops when ANY of the 16,384 GPUs fails, so use the "
                "cluster's MTBF.", factor=math.sqrt(_GPUS)),
    ],
))

register(FunctionExercise(
    "05.first_order_waste",
    "Young's first-order waste: saving + rework + restarts",
    reference=lambda interval, checkpoint_time, restart_time, mtbf:
        float(faults.first_order_waste(interval, checkpoint_time, restart_time, mtbf)),
    cases=lambda rng: {"interval": 10 ** rng.uniform(2.5, 4), "checkpoint_time": 10 ** rng.uniform(0, 2.5),
                       "restart_time": 10 ** rng.uniform(1, 3), "mtbf": 10 ** rng.uniform(4, 6)},
    edge_cases=[{"interval": 1800.0, "checkpoint_time": 60.0, "restart_time": 0.0, "mtbf": 3 * u.HOUR}],
    rtol=1e-6,
    quantity="fraction",
    teaches=("labkit.faults.first_order_waste",),
    hints=[
        "Three terms, each a fraction of time: saving costs δ every τ; each failure (1 per M seconds) redoes "
        "on average half an interval and pays a restart R.",
        "waste = δ/τ + (τ/2)/M + R/M.",
    ],
    mistakes=[
        Mistake("Rework is half an interval on average (a failure strikes anywhere in it): τ/(2M), not τ/M.",
                fn=lambda interval, checkpoint_time, restart_time, mtbf:
                    checkpoint_time / interval + interval / mtbf + restart_time / mtbf),
        Mistake("You left out the restarts: each failure also costs R, i.e. R/M of the time.",
                fn=lambda interval, checkpoint_time, restart_time, mtbf:
                    checkpoint_time / interval + interval / (2 * mtbf)),
        Mistake("You left out the checkpoints themselves: saving costs δ every τ, i.e. δ/τ.",
                fn=lambda interval, checkpoint_time, restart_time, mtbf:
                    interval / (2 * mtbf) + restart_time / mtbf),
    ],
))


FAST_TARGETS = (0.8, 0.85, 0.88, 0.9, 0.92)       # goodput to reach
FAST_RESTART_MIN = (1, 2, 3, 4, 5, 6, 8, 10)       # minutes per restart


def _max_checkpoint_s(target=0.9, restart_min=5):
    return float(faults.max_checkpoint_time(target, restart_min * u.MINUTE, faults.llama3_mtbf()[0]))


register(ValueExercise(
    "05.fast_enough",
    "Longest checkpoint that keeps Llama 3 above 90 % goodput (5-minute restarts)",
    expected=_max_checkpoint_s,
    variants={"target": FAST_TARGETS, "restart_min": FAST_RESTART_MIN},
    numbers_text="{target:.0%} goodput, {restart_min}-minute restarts",
    rtol=0.05,
    unit="s",
    quantity="time",
    hints=[
        "For a given δ, checkpoint at optimal_interval(δ, M) and compute expected_goodput(τ, δ, {restart_min} * 60, M); "
        "goodput falls as δ grows.",
        "Try δ = 5, 10, 20, 40, 80, 160 s (or bisect, or use np.linspace and look for where goodput crosses "
        "{target}).",
    ],
    mistakes=[
        Mistake("That is the limit with instant restarts: the {restart_min}-minute restarts take their share too.",
                value=lambda target=0.9, restart_min=5: faults.max_checkpoint_time(target, 0.0,
                                                                                  faults.llama3_mtbf()[0])),
        Mistake("That is in minutes: the answer is in seconds.", factor=1 / u.MINUTE),
    ],
))


def _interval_grade(answer):
    try:
        tau = float(answer)
    except (TypeError, ValueError):
        return False, f"Answer with an interval in seconds (a number), got {answer!r}."
    if not math.isfinite(tau) or tau <= 0:
        return False, f"An interval must be a positive number of seconds, got {answer!r}."
    big = _big()
    d, r, m = big["checkpoint_time"], big["restart_time"], big["mtbf"]
    best_tau = faults.optimal_interval(d, m)
    best = faults.expected_goodput(best_tau, d, r, m)
    got = faults.expected_goodput(tau, d, r, m)
    if got >= best - 0.005:
        return True, (f"{tau / 60:.1f} min gives {got:.1%} goodput, within half a point of the best "
                      f"({best:.1%} at {best_tau / 60:.1f} min).")
    side = "short (too much time saving)" if tau < best_tau else "long (too much work redone after each failure)"
    hint = " Did you give minutes? The answer is in seconds." if 0.5 < tau * 60 / best_tau < 2 else ""
    return False, f"{tau:.0f} s gives {got:.1%} goodput against {best:.1%} possible: too {side}.{hint}"


@functools.lru_cache(maxsize=None)
def _big():
    """The 100,000-GPU scenario of the notebook: Llama 3's per-GPU MTBF, in-memory checkpoints, fast
    restarts (computed on first check, not at import)."""
    big = {"n_devices": 100_000, "checkpoint_time": 10.0, "restart_time": 2 * u.MINUTE}
    big["mtbf"] = float(faults.cluster_mtbf(faults.llama3_mtbf()[1], big["n_devices"]))
    return big


register(CustomExercise(
    "05.best_interval_sim",
    "Pick a checkpoint interval for 100,000 GPUs from a simulated sweep",
    grade_fn=_interval_grade,
    example=lambda: float(faults.optimal_interval(_big()["checkpoint_time"], _big()["mtbf"])),
    constant=6 * u.HOUR,
    quantity="time",
    hints=[
        "Sweep intervals with simulate_goodput (a handful from 1 to 30 minutes, in seconds) and pick the one "
        "with the highest mean goodput.",
        "The curve is flat near its top: anything within half a point of the best passes. Young's "
        "√(2δM) with the cluster's MTBF (≈ 30 min here) lands close.",
    ],
))


# ---------------------------------------------------------------------------------------------
# What practitioners plan for (issue 12)
# ---------------------------------------------------------------------------------------------
register(ChoiceExercise(
    "05.seed_spread",
    "Seed 0 saw 380 failures where about 422 were expected: what does that say?",
    answer="chance",
    choices={"chance": "nothing: one run is one draw, and 380 lies inside the spread over seeds",
             "bug": "the simulation loses failures: a bug",
             "restarts": "failures during restarts are not counted, so every run sees fewer",
             "weibull": "the failures are not exponential, so the Poisson figure does not apply"},
    explanations={
        "chance": "Right: a Poisson count with mean 422 has a standard deviation of about 21; 380 is two standard "
                  "deviations low, which about one draw in twenty or forty is (over the notebook's 20 seeds the "
                  "counts run from 380 to 473). Compare many runs (or one very long one) with the formula, never one.",
        "bug": "Look at the histogram: other seeds give more than 422. A bug would shift every seed.",
        "restarts": "Failures during restarts are counted (a restart can fail), and other seeds exceed 422.",
        "weibull": "This run uses exponential failures (failure_shape=1); the spread is chance alone.",
    },
    quantity="choice",
    hints=["How far is 380 from 422 in standard deviations (√422 ≈ 21)?",
           "Where does seed 0's line fall in the histogram of many seeds?"],
))

register(FunctionExercise(
    "05.checkpoint_write_time",
    "Checkpoint time from bytes and bandwidth",
    reference=lambda nbytes, bandwidth_bytes_per_s, n_devices:
        float(faults.checkpoint_write_time(nbytes, bandwidth_bytes_per_s, n_devices)),
    cases=lambda rng: {"nbytes": 10 ** rng.uniform(9, 13), "bandwidth_bytes_per_s": 10 ** rng.uniform(8, 12.5),
                       "n_devices": int(rng.integers(1, 20_000))},
    edge_cases=[{"nbytes": 5.67e12, "bandwidth_bytes_per_s": 2e12, "n_devices": 1},
                {"nbytes": 5.67e12, "bandwidth_bytes_per_s": 63e9, "n_devices": 16_384}],
    rtol=1e-6,
    quantity="time",
    teaches=("labkit.faults.checkpoint_write_time",),
    hints=[
        "Each of the n_devices writes its shard, nbytes / n_devices bytes, at bandwidth_bytes_per_s, all at once.",
        "return nbytes / n_devices / bandwidth_bytes_per_s (bytes ÷ bytes/s = seconds).",
    ],
    mistakes=[
        Mistake("You forgot that the shards are written in parallel: divide by n_devices too.",
                fn=lambda nbytes, bandwidth_bytes_per_s, n_devices: nbytes / bandwidth_bytes_per_s),
        Mistake("You treated the bandwidth as bits per second: it is bytes per second already (no factor 8).",
                fn=lambda nbytes, bandwidth_bytes_per_s, n_devices: 8 * nbytes / n_devices / bandwidth_bytes_per_s),
        Mistake("Each device writes nbytes / n_devices: divide by n_devices, don't multiply.",
                fn=lambda nbytes, bandwidth_bytes_per_s, n_devices: nbytes * n_devices / bandwidth_bytes_per_s),
    ],
))

register(FunctionExercise(
    "05.checkpoints_to_keep",
    "How many checkpoints to keep when corruption is noticed late",
    reference=lambda interval, detection_time: int(faults.checkpoints_to_keep(interval, detection_time)),
    cases=lambda rng: {"interval": float(rng.integers(5, 240)) * 60.0 + rng.uniform(0, 59),
                       "detection_time": float(rng.uniform(0, 48)) * 3600.0},
    edge_cases=[{"interval": 3600.0, "detection_time": 0.0}, {"interval": 3600.0, "detection_time": 7200.0},
                {"interval": 1800.0, "detection_time": 1799.0}],
    rtol=0.0,
    quantity="count",
    teaches=("labkit.faults.checkpoints_to_keep",),
    hints=[
        "A corruption at a random moment is noticed detection_time later. How many saves can land in between, "
        "at one every interval? All of those hold corrupt state; you also need the newest clean save before it.",
        "Up to ceil(detection_time / interval) saves fall in the window; keep one more: "
        "math.ceil(detection_time / interval) + 1 (with no delay, the latest checkpoint is enough).",
    ],
    mistakes=[
        Mistake("Off by one: those saves can ALL be corrupt. Keep one more, the newest save from before the "
                "corruption.", fn=lambda interval, detection_time: math.ceil(detection_time / interval)),
        Mistake("Rounding down misses the save that lands inside a window shorter than a whole interval: "
                "use ceil(D / τ) + 1.",
                fn=lambda interval, detection_time: math.floor(detection_time / interval) + 1),
    ],
))


SPARES_GPUS = (25_000, 50_000, 75_000, 100_000, 150_000, 200_000)
SPARES_SHORTFALL = (0.005, 0.01, 0.02, 0.05)     # share of failures that may find no spare


def _big_mtbf(n_devices=100_000):
    return float(faults.cluster_mtbf(faults.llama3_mtbf()[1], n_devices))


def _spares(n_devices=100_000, shortfall=0.01):
    return float(faults.spares_needed(_big_mtbf(n_devices), u.DAY, shortfall))


def _notebook_64(n_devices=100_000, shortfall=0.01):
    """The notebook's 64 spares as a slip, only where 64 is more than the answer (else it names nothing)."""
    return 64.0 if _spares(n_devices, shortfall) < 64 else -1.0


register(ValueExercise(
    "05.spares_needed",
    "Hot spares for 100,000 GPUs: how many keep 99 % of failures on the fast path?",
    expected=_spares,
    variants={"n_devices": SPARES_GPUS, "shortfall": SPARES_SHORTFALL},
    numbers_text="{n_devices:,} GPUs, at most {shortfall:.1%} of failures without a spare",
    rtol=0.0,
    unit="spares",
    quantity="count",
    hints=[
        "f.spare_shortfall(n, mtbf, repair_time) is the share of failures that find no spare. Try n = 10, 20, 30, … "
        "with the {n_devices:,}-GPU MTBF (f.cluster_mtbf(gpu_m, {n_devices})) and a day of repair.",
        "Find the smallest n with f.spare_shortfall(n, mtbf, u.DAY) <= {shortfall} (a loop, or f.spares_needed).",
    ],
    mistakes=[
        Mistake("That is the average number in repair (Little's law: failures per day × days): with exactly that "
                "many spares, bursts empty the pool far too often. Add a margin until ≤ {shortfall:.1%}.",
                value=lambda n_devices=100_000, shortfall=0.01: round(u.DAY / _big_mtbf(n_devices))),
        Mistake("That is the notebook's 64, which more than meets the target; what is the fewest that does?",
                value=_notebook_64),
    ],
))


def _split_total():
    m = faults.llama3_mtbf()[0]
    runtime = faults.expected_goodput(faults.optimal_interval(30.0, m), 30.0, 5 * u.MINUTE, m)
    return faults.goodput_split(0.95, runtime, 0.40).total


register(ValueExercise(
    "05.goodput_split",
    "Google's goodput for a Llama-3-like run: scheduling 95 %, runtime from the model, program 40 %",
    expected=_split_total,
    no_variants="Google's published goodput split applied to the notebook's Llama 3 model, which the narrative builds on",
    rtol=0.01,
    unit="",
    quantity="fraction",
    hints=[
        "Runtime goodput: f.expected_goodput(f.optimal_interval(30, cluster_m), 30, 300, cluster_m).",
        "ML productivity goodput is the PRODUCT scheduling × runtime × program (a fraction, not a percent).",
    ],
    mistakes=[
        Mistake("You added the losses (1 − 5 % − runtime loss − 60 %): the three multiply, each applying to what "
                "the previous one left.",
                value=lambda: 1 - 0.05 - (1 - _split_total() / 0.95 / 0.40) - 0.60),
        Mistake("You left out the program goodput (the MFU): multiply by 0.40 too.",
                value=lambda: _split_total() / 0.40),
        Mistake("You left out the scheduling goodput: multiply by 0.95 too.", value=lambda: _split_total() / 0.95),
    ],
))


def _timeout_cost(timeout=None):
    timeout = faults.NCCL_DEFAULT_TIMEOUT if timeout is None else timeout
    m = faults.llama3_mtbf()[0]
    tau = faults.optimal_interval(30.0, m)
    nbytes = faults.checkpoint_nbytes(405e9)
    bandwidth = faults.LLAMA3_STORAGE_SUSTAINED_BYTES_PER_S

    def goodput(detect):
        r = faults.restart_time_for(detect, 2 * u.MINUTE, nbytes, bandwidth)
        return faults.expected_goodput(tau, 30.0, r, m)
    return goodput(60.0) - goodput(timeout)


register(ValueExercise(
    "05.timeout_cost",
    "What PyTorch's default NCCL timeout costs Llama 3 if every failure is a hang",
    expected=_timeout_cost,
    no_variants="PyTorch's default NCCL timeout and Llama 3's published storage bandwidth and failure rate",
    rtol=0.03,
    unit="",
    quantity="fraction",
    hints=[
        "R = f.restart_time_for(detection_time, 2 * u.MINUTE, total, f.LLAMA3_STORAGE_SUSTAINED_BYTES_PER_S) for "
        "detection_time = 60 s and f.NCCL_DEFAULT_TIMEOUT; then f.expected_goodput(τ, 30, R, cluster_m) with "
        "τ = f.optimal_interval(30, cluster_m).",
        "Answer the difference of the two goodputs as a fraction (about 0.04), not in percent.",
    ],
    mistakes=[
        Mistake("That is the cost of the OLD 30-minute default (PyTorch before PR #110947, 2023); the default is now 10 minutes "
                "(f.NCCL_DEFAULT_TIMEOUT).", value=lambda: _timeout_cost(1800.0)),
    ],
))

register(ChoiceExercise(
    "05.elastic_or_restart",
    "Replicas of 1,024 GPUs, away a day after each failure: elastic, or checkpoint/restart?",
    answer="restart",
    choices={"elastic": "elastic training: carry on with fewer replicas",
             "restart": "checkpoint/restart (δ 1 min, R 5 min) at the optimal interval",
             "same": "about the same"},
    explanations={
        "restart": "Right: a 1,024-GPU replica fails every 50,677 / 1,024 ≈ 49 hours and is then away 24 hours, so "
                   "it is up only about two thirds of the time, and the job runs at two thirds of full speed; "
                   "checkpoint/restart keeps about 87 %. Elastic training pays off with small replicas or fast "
                   "replacement (a spare).",
        "elastic": "Work out one replica's availability: MTBF (per-GPU MTBF / 1,024) over MTBF + a day of repair.",
        "same": "Compute both: elastic_goodput(16, gpu_m / 1024, u.DAY, 60) against expected_goodput at the optimum.",
    },
    quantity="choice",
    hints=["One 1,024-GPU replica fails every gpu_m / 1,024 seconds and is gone a day each time: what share of "
           "the time is it up?",
           "Compare f.elastic_goodput(16, gpu_m / 1024, u.DAY, 60.0) with "
           "f.expected_goodput(f.optimal_interval(60, cluster_m), 60, 300, cluster_m)."],
))


def _gemini_ratios():
    """GEMINI's published ratios (datasets/checkpointing_claims.csv): saves g× as often, reads r× faster."""
    from ..data import load
    t = load("checkpointing_claims")
    return tuple(float(t.where(system="GEMINI", quantity=q)["value_si"][0]) for q in ("frequency_gain", "retrieval_speedup"))


def _gemini_speedup():
    return float(faults.in_memory_recovery_speedup(*_gemini_ratios()))


register(ValueExercise(
    "05.gemini_speedup",
    "GEMINI's \"more than 13×\" faster recovery, from its 8× more saves and 250× faster reads",
    expected=_gemini_speedup,
    rtol=0.01,
    unit="×",
    no_variants="the question's numbers are GEMINI's published ratios, and the answer is compared with its 13×",
    quantity="ratio",
    teaches=("labkit.faults.in_memory_recovery_speedup",),
    hints=[
        "Measure every time in units of T, the time to save (or read back) the checkpoint on remote storage. "
        "There the saves run back to back (τ = δ = T): wasted = T + T/2 + T.",
        "In CPU memory a save comes 8× as often and is no longer than its interval (δ = τ = T/8), and the read is "
        "250× faster (T/250): wasted = T/8 + T/16 + T/250. Divide the first by the second.",
    ],
    mistakes=[
        Mistake("You left out the save in flight (δ): the checkpoint being written protects nothing yet, so the "
                "work since the START of the last completed save is lost — δ + τ/2, not τ/2.",
                value=lambda: 1.5 / (1 / 16 + 1 / 250)),
        Mistake("You left out the read-back in memory (T/250): small, but it is part of the waste.",
                value=lambda: 2.5 / (1 / 8 + 1 / 16)),
        Mistake("That is only the gain from saving more often; the faster read-back counts too.", value=8.0),
        Mistake("That is only the faster read-back; a failure also loses the work since the last save.", value=250.0),
        Mistake("Ratios of separate terms do not multiply: add up each system's waste (save in flight + half an "
                "interval + read-back), then divide.", value=2000.0),
    ],
))
