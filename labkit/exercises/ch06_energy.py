"""Chapter 06 — energy: PUE, training energy and carbon, idle silicon, batching, power caps, cleaner hours."""

import functools
import math

import numpy as np

from .. import energy as en
from .. import units as u
from ._core import ChoiceExercise, CustomExercise, FunctionExercise, Mistake, ValueExercise, register

# --------------------------------------------------------------------------------------- overhead
IT_LOAD_W, INDUSTRY_PUE = 20 * u.MW, 1.58   # Uptime Institute industry average for 2023 (datasets/pue.csv)


def _overhead_mw(it_mw=IT_LOAD_W / u.MW):
    return float(en.facility_power(it_mw * u.MW, INDUSTRY_PUE) - it_mw * u.MW) / u.MW


register(ValueExercise(
    "06.overhead_mw",
    "Cooling and power-delivery overhead of a 20 MW IT load at PUE 1.58, in MW",
    expected=_overhead_mw,
    variants={"it_mw": tuple(range(5, 105, 5))},
    numbers_text="a {it_mw} MW IT load",
    unit="MW",
    rtol=0.01,
    quantity="power",
    hints=[
        "PUE = total facility power / IT power, so the facility draws IT × PUE.",
        "The overhead is what the facility draws beyond the IT load: IT × PUE − IT = IT × (PUE − 1).",
        "{it_mw} × (1.58 − 1) = ? (in MW)",
    ],
    mistakes=[
        Mistake("That is the whole facility (IT + overhead). Subtract the IT load itself.",
                value=lambda it_mw=20: it_mw * INDUSTRY_PUE, rtol=0.005),
        Mistake("You divided by the PUE. The facility draws IT × PUE; the overhead is IT × (PUE − 1).",
                value=lambda it_mw=20: it_mw / INDUSTRY_PUE, rtol=0.005),
        Mistake("That is in watts; the question asks for megawatts (1 MW = 10⁶ W).", factor=1e6),
    ],
))

# --------------------------------------------------------------------------------------- GPT-3 energy
GPT3 = dict(n_devices=10_000, days=14.8, avg_power_w=330.0, pue=1.10, grid_g_per_kwh=429.0)  # Patterson 2021, Table 4


def _gpt3_energy_j():
    return float(en.training_energy(GPT3["n_devices"], GPT3["days"] * u.DAY, GPT3["avg_power_w"], GPT3["pue"]))


register(ValueExercise(
    "06.gpt3_energy_mwh",
    "GPT-3's training energy in MWh from Patterson et al.'s inputs (published: 1,287 MWh)",
    no_variants="Patterson et al.'s published inputs",
    expected=lambda: _gpt3_energy_j() / u.MWh,
    unit="MWh",
    rtol=0.01,
    quantity="energy",
    hints=[
        "Energy = number of GPUs × hours × average power per GPU × PUE.",
        "14.8 days is 14.8 × 24 hours; W × h gives Wh; 1 MWh = 10⁶ Wh.",
        "10,000 × 355.2 h × 330 W × 1.10 = … Wh; divide by 10⁶.",
    ],
    mistakes=[
        Mistake("Off by 10 %: you left out the PUE (1.10) — or used the V100's 300 W TDP instead of the "
                "330 W average system power per GPU that Patterson et al. list (host included).", factor=1 / 1.1),
        Mistake("That is in kWh, not MWh: divide by 1,000 more.", factor=1e3),
        Mistake("That is in Wh (watts × hours): divide by 10⁶ to get MWh.", factor=1e6),
        Mistake("That is in joules: 1 MWh = 3.6 × 10⁹ J.", factor=3.6e9),
        Mistake("Off by 24: 14.8 is in days — multiply by 24 to get hours.", factor=1 / 24),
        Mistake("Too large by 1.1 twice: apply the PUE once.", factor=1.1),
    ],
))

# --------------------------------------------------------------------------------------- carbon function


def _carbon_kg(energy_j, grid_g_per_kwh):
    return float(en.carbon_emissions(energy_j, grid_g_per_kwh))


register(FunctionExercise(
    "06.carbon_kg",
    "Emissions (kg CO2e) of an energy in joules on a grid of g CO2e/kWh",
    reference=_carbon_kg,
    cases=lambda rng: {"energy_j": 10 ** rng.uniform(6, 13), "grid_g_per_kwh": rng.uniform(20, 900)},
    edge_cases=[{"energy_j": 3.6e6, "grid_g_per_kwh": 1000.0}, {"energy_j": 0.0, "grid_g_per_kwh": 400.0},
                {"energy_j": 1287 * u.MWh, "grid_g_per_kwh": 429.0}],
    rtol=1e-6,
    atol=1e-12,
    unit="kg",
    quantity="mass",
    teaches=("labkit.energy.carbon_emissions",),
    hints=[
        "Grid intensity is per kWh, so first turn joules into kWh: 1 kWh = 3.6 × 10⁶ J.",
        "kWh × g/kWh gives grams; 1 kg = 1,000 g.",
        "return energy_j / 3.6e6 * grid_g_per_kwh / 1000",
    ],
    mistakes=[
        Mistake("You multiplied joules by g/kWh directly: convert joules to kWh first (÷ 3.6 × 10⁶).",
                fn=lambda energy_j, grid_g_per_kwh: energy_j * grid_g_per_kwh / 1000),
        Mistake("Off by 1,000 (too large): grams rather than kilograms — or Wh rather than kWh.", factor=1e3),
        Mistake("Off by 1,000 (too small): did you divide by 1,000 twice?", factor=1e-3),
    ],
))


def _gpt3_tonnes():
    return float(en.carbon_emissions(_gpt3_energy_j(), GPT3["grid_g_per_kwh"])) / u.TONNE


register(ValueExercise(
    "06.gpt3_tonnes",
    "GPT-3's training emissions in tonnes CO2e at 429 g/kWh (published: 552 t)",
    no_variants="Patterson et al.'s published inputs",
    expected=_gpt3_tonnes,
    unit="t",
    rtol=0.01,
    quantity="mass",
    hints=[
        "Take your energy in kWh and multiply by 429 g/kWh to get grams.",
        "1 tonne = 1,000 kg = 10⁶ g. About 1.29 × 10⁶ kWh × 429 g/kWh = … g.",
    ],
    mistakes=[
        Mistake("That is in kilograms: divide by 1,000 for tonnes.", factor=1e3),
        Mistake("That is in grams: divide by 10⁶ for tonnes.", factor=1e6),
        Mistake("Off by 10 %: include the PUE (1.10) in the energy — cooling draws from the same grid.",
                factor=1 / 1.1),
        Mistake("Off by 1,000 (too small): 1,287 MWh is 1.287 × 10⁶ kWh, not 1,287 kWh.", factor=1e-3),
    ],
))

# --------------------------------------------------------------------------------------- idle silicon


def _jpf(utilization, idle_power_w, max_power_w, peak_flops_per_s):
    return float(en.joules_per_flop(utilization, idle_power_w, max_power_w, peak_flops_per_s))


def _jpf_cases(rng):
    max_power_w = rng.uniform(250, 1000)
    return {"utilization": rng.uniform(0.05, 1.0), "idle_power_w": max_power_w * rng.uniform(0.05, 0.6),
            "max_power_w": max_power_w, "peak_flops_per_s": 10 ** rng.uniform(13.5, 15.5)}


register(FunctionExercise(
    "06.joules_per_flop",
    "Energy per useful FLOP of a device busy a fraction of the time",
    reference=_jpf,
    cases=_jpf_cases,
    edge_cases=[{"utilization": 1.0, "idle_power_w": 100.0, "max_power_w": 700.0, "peak_flops_per_s": 989e12},
                {"utilization": 0.4, "idle_power_w": 140.0, "max_power_w": 700.0, "peak_flops_per_s": 989e12},
                {"utilization": 0.1, "idle_power_w": 0.0, "max_power_w": 400.0, "peak_flops_per_s": 312e12}],
    rtol=1e-6,
    atol=0.0,
    unit="J/FLOP",
    quantity="energy",
    teaches=("labkit.energy.joules_per_flop",),
    hints=[
        "Power at utilization u is linear: idle + (max − idle) × u. Useful FLOP/s is u × peak.",
        "Energy per FLOP = power / FLOP rate (W ÷ FLOP/s = J/FLOP).",
        "return (idle_power_w + (max_power_w - idle_power_w) * utilization) / (utilization * peak_flops_per_s)",
    ],
    mistakes=[
        Mistake("You used max_power_w / peak_flops_per_s: that is the figure at 100 % utilization. At "
                "utilization u the device still draws idle power while it waits, and does only u × peak useful "
                "FLOP/s.",
                fn=lambda utilization, idle_power_w, max_power_w, peak_flops_per_s: max_power_w / peak_flops_per_s),
        Mistake("You divided by the peak FLOP rate, not the useful rate u × peak.",
                fn=lambda utilization, idle_power_w, max_power_w, peak_flops_per_s:
                (idle_power_w + (max_power_w - idle_power_w) * utilization) / peak_flops_per_s),
        Mistake("Power at utilization u is idle + (max − idle) × u, not idle + max × u.",
                fn=lambda utilization, idle_power_w, max_power_w, peak_flops_per_s:
                (idle_power_w + max_power_w * utilization) / (utilization * peak_flops_per_s)),
        Mistake("You left out the idle power: a waiting GPU still draws it.",
                fn=lambda utilization, idle_power_w, max_power_w, peak_flops_per_s:
                (max_power_w - idle_power_w) / peak_flops_per_s),
    ],
))

# --------------------------------------------------------------------------------------- energy per token


def _ept(batch_size, n_params, peak_flops_per_s, bandwidth_bytes_per_s, power_w):
    return float(en.inference_energy_per_token(batch_size, n_params, peak_flops_per_s, bandwidth_bytes_per_s,
                                               power_w))


register(FunctionExercise(
    "06.energy_per_token",
    "Energy per generated token of a decode step (BF16 weights, roofline)",
    reference=_ept,
    cases=lambda rng: {"batch_size": int(round(2 ** rng.uniform(0, 11))), "n_params": 10 ** rng.uniform(9, 11),
                       "peak_flops_per_s": 10 ** rng.uniform(14, 15.3),
                       "bandwidth_bytes_per_s": 10 ** rng.uniform(12, 12.9), "power_w": rng.uniform(300, 1000)},
    edge_cases=[{"batch_size": 1, "n_params": 8e9, "peak_flops_per_s": 989e12, "bandwidth_bytes_per_s": 3.35e12,
                 "power_w": 700.0},
                {"batch_size": 4096, "n_params": 8e9, "peak_flops_per_s": 989e12, "bandwidth_bytes_per_s": 3.35e12,
                 "power_w": 700.0},
                {"batch_size": 64, "n_params": 70e9, "peak_flops_per_s": 312e12, "bandwidth_bytes_per_s": 2.039e12,
                 "power_w": 400.0}],
    rtol=1e-6,
    unit="J",
    quantity="energy",
    teaches=("labkit.energy.inference_energy_per_token",),
    hints=[
        "One decode step makes one token per sequence in the batch. It takes the longer of: compute time "
        "2 × n_params × batch_size / peak_flops_per_s, and memory time n_params × 2 bytes / bandwidth_bytes_per_s.",
        "Energy per step = power × step time; divide by the batch size to get energy per token.",
        "t = max(2*n_params*batch_size/peak_flops_per_s, 2*n_params/bandwidth_bytes_per_s); "
        "return power_w * t / batch_size",
    ],
    mistakes=[
        Mistake("That is the energy of the whole step: divide by the batch size — the step makes one token per "
                "sequence.",
                fn=lambda batch_size, n_params, peak_flops_per_s, bandwidth_bytes_per_s, power_w:
                power_w * max(2 * n_params * batch_size / peak_flops_per_s, 2 * n_params / bandwidth_bytes_per_s)),
        Mistake("You used only the compute time. Small batches are memory-bound: reading the weights takes longer.",
                fn=lambda batch_size, n_params, peak_flops_per_s, bandwidth_bytes_per_s, power_w:
                power_w * 2 * n_params / peak_flops_per_s),
        Mistake("You used only the memory time. Large batches become compute-bound: take the max of the two.",
                fn=lambda batch_size, n_params, peak_flops_per_s, bandwidth_bytes_per_s, power_w:
                power_w * 2 * n_params / bandwidth_bytes_per_s / batch_size),
        Mistake("Weights are 2 bytes each in BF16: memory traffic is n_params × 2 bytes.",
                fn=lambda batch_size, n_params, peak_flops_per_s, bandwidth_bytes_per_s, power_w:
                power_w * max(2 * n_params * batch_size / peak_flops_per_s, n_params / bandwidth_bytes_per_s)
                / batch_size),
    ],
))

# --------------------------------------------------------------------------------------- power cap
CAP = dict(max_power_w=700.0, static_power_w=en.IDLE_POWER_FRACTION * 700.0,  # H100 TDP; the chapter's static
           compute_fraction=0.5)                                                # (= idle) power, 140 W


def _cap_energy(cap):
    return float(en.power_cap_tradeoff(cap, CAP["max_power_w"], CAP["static_power_w"], CAP["compute_fraction"])[1])


def _grade_cap(answer):
    try:
        cap = float(answer)
    except (TypeError, ValueError):
        return False, f"Answer with a power cap in watts (a number); got {answer!r}."
    if not math.isfinite(cap):
        return False, "Answer with a finite number of watts."
    if cap > CAP["max_power_w"] * 1.001:
        return False, f"{cap:g} W is above the 700 W TDP: a cap there does nothing. Look below 700 W."
    if cap <= CAP["static_power_w"]:
        return False, f"{cap:g} W is at or below the static power ({CAP['static_power_w']:g} W): the clock would stop."
    if cap < CAP["static_power_w"] + 0.05 * (CAP["max_power_w"] - CAP["static_power_w"]):
        return False, f"{cap:g} W is below the lowest cap the model allows (static + 5 % of the dynamic range)."
    best = en.optimal_power_cap(**CAP)
    e_best, e_you = _cap_energy(best), _cap_energy(cap)
    if e_you <= e_best * 1.005:
        t = en.power_cap_tradeoff(cap, CAP["max_power_w"], CAP["static_power_w"], CAP["compute_fraction"])[0]
        return True, (f"{cap:.0f} W uses {1 - e_you:.0%} less energy than no cap, for a {t - 1:.0%} longer run "
                      f"(the model's optimum is {best:.0f} W).")
    return False, (f"At {cap:.0f} W the run uses {e_you:.3f}× the uncapped energy; a better cap gets "
                   f"{e_best:.3f}×. Sweep the cap with labkit.energy.power_cap_tradeoff and look for the minimum.")


register(CustomExercise(
    "06.energy_cap",
    "The energy-optimal power cap for half-memory-bound work on a 700 W GPU (the chapter's DVFS assumptions)",
    grade_fn=_grade_cap,
    example=lambda: float(en.optimal_power_cap(**CAP)),
    constant=700.0,
    quantity="power",
    hints=[
        "Use labkit.energy.power_cap_tradeoff(caps, 700, 140, compute_fraction=0.5) on an array of caps "
        "from about 170 W to 700 W; it returns (time_ratio, energy_ratio) under the chapter's assumptions "
        "(voltage floor, memory-bound phases below TDP).",
        "Pick the cap with the smallest energy_ratio (numpy's argmin). It lies below 700 W, near where the clock "
        "reaches the voltage floor.",
    ],
))

# --------------------------------------------------------------------------------------- cleaner hours
JOB_HOURS, JOB_POWER_W = 3, 1 * u.MW


@functools.lru_cache(maxsize=1)
def _profile():
    return en.grid_intensity_profile()


def _start_carbon(hour):
    return float(en.job_carbon(hour * u.HOUR, JOB_HOURS * u.HOUR, JOB_POWER_W, _profile()))


def _best_start():
    return int(np.argmin([_start_carbon(h) for h in range(24)]))


def _grade_start(answer):
    if isinstance(answer, bool) or not isinstance(answer, (int, float, np.integer, np.floating)):
        return False, f"Answer with a local hour, a whole number from 0 to 23; got {answer!r}."
    if not float(answer).is_integer() or not 0 <= answer <= 23:
        return False, f"Answer with a whole hour from 0 to 23; got {answer!r}."
    hour = int(answer)
    kg = [_start_carbon(h) for h in range(24)]
    best = int(np.argmin(kg))
    if kg[hour] <= kg[best] * 1.01:
        worst = int(np.argmax(kg))
        return True, (f"Starting at {hour}:00 the job emits {kg[hour] / 1000:.2f} t CO2e; starting at {worst}:00 "
                      f"it would emit {kg[worst] / 1000:.2f} t — {1 - kg[hour] / kg[worst]:.0%} less.")
    return False, (f"Starting at {hour}:00 the job emits {kg[hour] / 1000:.2f} t CO2e; another start does "
                   f"{kg[best] / 1000:.2f} t. Compute the carbon for every start hour 0..23 and take the smallest.")


register(CustomExercise(
    "06.greenest_start",
    "The start hour that minimizes a 3-hour job's emissions on California's April grid",
    grade_fn=_grade_start,
    example=_best_start,
    constant=19,
    quantity="other",
    hints=[
        "profile = labkit.energy.grid_intensity_profile(); then labkit.energy.job_carbon(start_s, 3 * 3600, 1e6, "
        "profile) gives the kg CO2e for one start time.",
        "Try every whole hour 0..23 (start_s = hour × 3600) and keep the one with the least carbon. "
        "Solar power peaks around midday.",
    ],
))

# --------------------------------------------------------------------------------------- the bigger lever


def _rel_jpf(utilization, pue, idle_fraction=0.5):
    return pue * float(en.joules_per_flop(utilization, idle_fraction, 1.0, 1.0))


_BASE, _PUE, _UTIL = _rel_jpf(0.4, 1.5), _rel_jpf(0.4, 1.1), _rel_jpf(0.8, 1.5)

register(ChoiceExercise(
    "06.bigger_lever",
    "Which cuts energy per useful FLOP more: a better facility or busier GPUs?",
    answer="utilization",
    choices={"pue": "move the cluster from PUE 1.5 to PUE 1.1",
             "utilization": "raise utilization from 40 % to 80 %",
             "same": "they save the same"},
    explanations={
        "utilization": (f"With idle power at half the maximum, doubling utilization cuts energy per useful FLOP "
                        f"by {1 - _UTIL / _BASE:.0%}; the better PUE cuts it by {1 - _PUE / _BASE:.0%}."),
        "pue": (f"A PUE of 1.1 instead of 1.5 saves {1 - _PUE / _BASE:.0%} — but going from 40 % to 80 % busy "
                f"saves {1 - _UTIL / _BASE:.0%}, because the idle half of the power is spread over twice the work."),
        "same": (f"Compute both: PUE saves {1 - _PUE / _BASE:.0%}, utilization {1 - _UTIL / _BASE:.0%}."),
    },
    quantity="choice",
    hints=[
        "Energy per useful FLOP ∝ PUE × (idle + (max − idle) × u) / u. Take max = 1 and idle = 0.5 (Barroso & "
        "Hölzle's 2007 server drew about half its peak power when idle).",
        "Base: 1.5 × (0.5 + 0.5 × 0.4) / 0.4. Compare 1.1 × (same) with 1.5 × (0.5 + 0.5 × 0.8) / 0.8.",
    ],
))

# --------------------------------------------------------------------------------------- measured power limits
ZEUS_SWEEP = ("A40", "ResNet-50 (ImageNet)")


def _zeus_sweep():
    return next(r for r in en.power_limit_sweeps() if (r["gpu"], r["workload"]) == ZEUS_SWEEP)


def _sweep_pick(key):
    def pick():
        sweep = _zeus_sweep()
        return float(sweep["power_limit_w"][int(np.argmin(sweep[key]))]) if key else float(sweep["power_limit_w"][-1])
    return pick


register(ValueExercise(
    "06.measured_best_cap",
    "The power limit (W) with the least energy per epoch in Zeus's measured A40 ResNet-50 sweep",
    no_variants="a measured sweep (Zeus, A40)",
    expected=_sweep_pick("energy_ratio"),
    unit="W",
    rtol=0.001,
    quantity="power",
    hints=[
        "load('power_limit_sweeps').where(gpu='A40', workload='ResNet-50 (ImageNet)') gives one row per power limit "
        "with time_per_epoch_s and average_power_w.",
        "Energy per epoch = average power × time per epoch; take the power limit of the row where it is smallest.",
    ],
    mistakes=[
        Mistake("That limit draws the least power, but each epoch takes so much longer that it uses more energy: "
                "compare power × time.", value=_sweep_pick("average_power_w")),
        Mistake("That is the fastest setting (the highest limit), not the one with the least energy.",
                value=_sweep_pick(None)),
    ],
))

# --------------------------------------------------------------------------------------- power swings
SWING = dict(n_devices=16_384, busy_power_w=700.0, pue=1.10)    # Llama 3 405B's 16K H100s; a PUE of 1.10


def _swing_mw(n_devices=SWING["n_devices"], pue=SWING["pue"]):
    idle = en.IDLE_POWER_FRACTION * SWING["busy_power_w"]
    return float(en.power_swing(n_devices, SWING["busy_power_w"], idle, pue)) / u.MW


register(ValueExercise(
    "06.power_swing_mw",
    "How many MW the facility's power drops when 16,384 H100s stop together for a checkpoint",
    expected=_swing_mw,
    variants={"n_devices": (4_096, 8_192, 16_384, 24_576, 32_768), "pue": (1.1, 1.2, 1.3, 1.4)},
    numbers_text="{n_devices:,} H100s, PUE {pue:.2f}",
    unit="MW",
    rtol=0.01,
    quantity="power",
    hints=[
        "Each GPU goes from 700 W to its idle power (20 % of 700 W); the facility adds the PUE on top.",
        "Swing = GPUs × (busy − idle) × PUE = {n_devices:,} × (700 − 140) W × {pue:.2f}; 1 MW = 10⁶ W.",
    ],
    mistakes=[
        Mistake("You left out the PUE: cooling and power delivery follow the IT load (× {pue:.2f}).",
                value=lambda n_devices=16_384, pue=1.1: _swing_mw(n_devices, pue) / pue, rtol=0.005),
        Mistake("A waiting GPU does not fall to zero: it still draws its idle power (140 W).",
                value=lambda n_devices=16_384, pue=1.1: n_devices * 700 * pue / u.MW),
        Mistake("A waiting GPU does not fall to zero (it draws 140 W), and the facility adds the PUE.",
                value=lambda n_devices=16_384, pue=1.1: n_devices * 700 / u.MW),
        Mistake("That is in watts: divide by 10⁶ for MW.", factor=1e6),
        Mistake("That is in kW: divide by 1,000 for MW.", factor=1e3),
    ],
))

# --------------------------------------------------------------------------------------- waiting costs carbon
WAIT = dict(duration_s=4 * u.HOUR, power_w=1 * u.MW, release_s=18 * u.HOUR, max_delay_s=18 * u.HOUR,
            waiting_power_w=0.2 * u.MW)


def _wait_tonnes(waiting_power_w=WAIT["waiting_power_w"], total=True):
    kw = dict(WAIT, waiting_power_w=waiting_power_w)
    plan = en.carbon_aware_schedule(_profile(), kw.pop("duration_s"), kw.pop("power_w"), **kw)
    return float(plan.scheduled_kg[0] if total else plan.scheduled_kg[0] - plan.waiting_kg[0]) / 1000


def _wait_ignored_then_paid():
    plan = en.carbon_aware_schedule(_profile(), WAIT["duration_s"], WAIT["power_w"], release_s=WAIT["release_s"],
                                    max_delay_s=WAIT["max_delay_s"])
    waiting = en.job_carbon(WAIT["release_s"], plan.delay_s[0], WAIT["waiting_power_w"], _profile())
    return (float(plan.scheduled_kg[0]) + float(waiting)) / 1000


register(ValueExercise(
    "06.waiting_carbon_t",
    "Tonnes CO2e of the best plan for a 4-hour 1 MW job whose reserved GPUs draw 0.2 MW while it waits",
    no_variants="a schedule searched on a grid-intensity trace",
    expected=_wait_tonnes,
    unit="t",
    rtol=0.01,
    quantity="mass",
    hints=[
        "en.carbon_aware_schedule(profile, 4 * 3600, 1e6, release_s=18 * 3600, max_delay_s=18 * 3600, "
        "waiting_power_w=0.2e6) weighs each start's carbon plus the carbon of the power held while waiting.",
        "plan.scheduled_kg[0] is in kg (waiting included); 1 t = 1,000 kg.",
    ],
    mistakes=[
        Mistake("That plan waits for the midday trough as if waiting were free: the reserved GPUs' 0.2 MW "
                "for the hours of waiting is left out.", value=lambda: _wait_tonnes(0.0)),
        Mistake("That is the midday plan with its waiting counted afterwards: waiting that long costs more than "
                "the cleaner hours save. Let the scheduler count the waiting power when it chooses.",
                value=_wait_ignored_then_paid),
        Mistake("That is in kilograms: divide by 1,000 for tonnes.", factor=1e3),
    ],
))

# --------------------------------------------------------------------------------------- liquid cooling
RACK_W = 120e3   # a GB200 NVL72 rack's compute trays (datasets/system_power.csv)


def _pue_of(series):
    from ..data import load
    return float(load("pue").where(series=series).sort("year")["pue"][-1])


def _liquid_saving_kw(rack_kw=RACK_W / 1e3):
    industry, liquid = _pue_of("industry_survey"), _pue_of("liquid_cooled_hpc")
    return float(en.facility_power(rack_kw * 1e3, industry) - en.facility_power(rack_kw * 1e3, liquid)) / 1e3


register(ValueExercise(
    "06.liquid_saving_kw",
    "kW of facility power a 120 kW rack saves at the liquid-cooled PUE 1.04 instead of the industry's 1.58",
    expected=_liquid_saving_kw,
    variants={"rack_kw": (20, 30, 40, 50, 60, 72, 80, 100, 120, 132, 150, 200)},
    numbers_text="a {rack_kw} kW rack",
    unit="kW",
    rtol=0.01,
    quantity="power",
    hints=[
        "The facility draws IT × PUE; the difference between two facilities is IT × (PUE₁ − PUE₂).",
        "{rack_kw} kW × (1.58 − 1.04) = ? kW",
    ],
    mistakes=[
        Mistake("That is the whole facility at PUE 1.58; subtract what the liquid-cooled facility draws.",
                value=lambda rack_kw=120: rack_kw * _pue_of("industry_survey")),
        Mistake("That is the overhead at PUE 1.58 alone; the liquid-cooled facility still has 4 % overhead.",
                value=lambda rack_kw=120: rack_kw * (_pue_of("industry_survey") - 1)),
        Mistake("That is in watts: divide by 1,000 for kW.", factor=1e3),
    ],
))
