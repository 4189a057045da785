"""Chapter 07 — capstone: estimate a training run by hand, then design one that meets a brief."""

from .. import units as u
from ._core import ChoiceExercise, CustomExercise, Mistake, ValueExercise, register

#: The design brief's default cluster, used by the hand estimates (labkit.codesign.BRIEF has the limits).
N_GPUS, TP, PP = 4096, 8, 4


def _brief():
    from .. import codesign as cd
    return cd.BRIEF


def _h100():
    from ..core.devices import datasheet
    return datasheet("H100")


# --------------------------------------------------------------------------------------- 1. FLOPs
def _total_flops():
    from ..scaling import training_flops
    b = _brief()
    return float(training_flops(b["model"], b["n_tokens"]))


register(ValueExercise(
    "07.total_flops",
    "Training FLOPs of the brief's compute-optimal model (6·N·D)",
    no_variants="the capstone's brief: one design whose numbers the whole notebook builds on",
    expected=_total_flops,
    unit="FLOP",
    rtol=0.02,
    quantity="flops",
    hints=["Chapter 02: training costs about 6 FLOP per parameter per token (2 forward, 4 backward).",
           "6 × codesign.BRIEF['model'] × codesign.BRIEF['n_tokens']."],
    mistakes=[Mistake("That is the forward pass only (2·N·D): the backward pass costs twice as much again.",
                      factor=1 / 3),
              Mistake("N·D leaves out the 6: each parameter costs 2 FLOP (multiply and add) forward and 4 backward "
                      "per token.", factor=1 / 6)],
))


# --------------------------------------------------------------------------------------- 2. ideal days
def _ideal_days():
    return _total_flops() / (N_GPUS * _h100().peak_flops_per_s) / u.DAY


register(ValueExercise(
    "07.ideal_days",
    "Days to train it on 4,096 H100s at 100 % of the dense BF16 peak",
    no_variants="the capstone's brief: one design whose numbers the whole notebook builds on",
    expected=_ideal_days,
    unit="days",
    rtol=0.02,
    quantity="time",
    hints=["Time = FLOPs / (GPUs × peak FLOP/s); the H100's dense BF16 peak is datasheet('H100').peak_flops_per_s.",
           "Divide seconds by 86,400 for days."],
    mistakes=[Mistake("That is in seconds: divide by 86,400.", factor=u.DAY),
              Mistake("That is in hours: divide by 24.", factor=24),
              Mistake("You used the sparse peak (2× the dense one): training runs dense.", factor=0.5)],
))


# --------------------------------------------------------------------------------------- 3. bubble
def _bubble():
    from ..scaling import pipeline_bubble_fraction
    b = _brief()
    dp = N_GPUS // (TP * PP)
    m = round(_global_batch() / dp)
    return pipeline_bubble_fraction(PP, m)


def _global_batch():
    """Sequences per step for the brief's model (codesign's default: 4 Mi tokens of 4,096-token sequences)."""
    from .. import codesign as cd
    return round(cd.DEFAULT_BATCH_TOKENS / cd.DEFAULT_SEQ_LEN)


register(ValueExercise(
    "07.bubble_fraction",
    "Share of a step lost to the pipeline bubble: 4 stages, 1,024 sequences per step over 128 replicas, micro-batch 1",
    no_variants="the capstone's brief: one design whose numbers the whole notebook builds on",
    expected=_bubble,
    unit="fraction",
    rtol=0.01,
    quantity="fraction",
    hints=["Each replica gets 1,024 / 128 = 8 micro-batches per step.",
           "Chapter 02: the bubble's share is (p − 1) / (m + p − 1) for p stages and m micro-batches."],
    mistakes=[Mistake("(p − 1)/m is the bubble relative to the useful time; as a share of the step it is "
                      "(p − 1)/(m + p − 1).", value=3 / 8, rtol=0.01)],
))


# --------------------------------------------------------------------------------------- 4. MTBF
def _mtbf_hours():
    from ..faults import cluster_mtbf, llama3_mtbf
    return float(cluster_mtbf(llama3_mtbf()[1], N_GPUS)) / u.HOUR


register(ValueExercise(
    "07.cluster_mtbf_hours",
    "Hours between failures of 4,096 GPUs that fail as often as Llama 3's (419 in 54 days on 16,384)",
    no_variants="the capstone's brief: one design whose numbers the whole notebook builds on",
    expected=_mtbf_hours,
    unit="hours",
    rtol=0.02,
    quantity="time",
    hints=["Chapter 05: 54 days / 419 failures is the MTBF of 16,384 GPUs; one GPU's is 16,384 times longer.",
           "4,096 GPUs fail a quarter as often as 16,384: MTBF = (54 × 24 / 419) × 16,384 / 4,096 hours."],
    mistakes=[Mistake("That is the MTBF of Llama 3's 16,384 GPUs: a quarter of the GPUs fail a quarter as often.",
                      factor=0.25),
              Mistake("That is in days: multiply by 24.", factor=1 / 24)],
))


# --------------------------------------------------------------------------------------- 5. checkpoint
def _checkpoint_s():
    from .. import codesign as cd
    from ..faults import checkpoint_nbytes, checkpoint_write_time
    return float(checkpoint_write_time(checkpoint_nbytes(_brief()["model"]), cd.STORAGE_BANDWIDTH_BYTES_PER_S))


register(ValueExercise(
    "07.checkpoint_seconds",
    "Seconds to write one checkpoint (14 bytes per parameter) at 2 TB/s",
    no_variants="the capstone's brief: one design whose numbers the whole notebook builds on",
    expected=_checkpoint_s,
    unit="s",
    rtol=0.02,
    quantity="time",
    hints=["A checkpoint holds bf16 weights (2 bytes) and fp32 master weights, momentum and variance (12 bytes).",
           "seconds = parameters × 14 bytes / 2e12 bytes/s."],
    mistakes=[Mistake("You used bits: 2 TB/s is 2 × 10¹² bytes per second.", factor=8),
              Mistake("That counts the weights alone (2 bytes per parameter); the optimizer state is saved too.",
                      factor=1 / 7)],
))


# --------------------------------------------------------------------------------------- 6. peak power
def _peak_mw():
    from .. import codesign as cd
    d = _h100()
    return N_GPUS * d.power_w * (1 + cd.HOST_POWER_FRACTION) * 1.1 / u.MW


register(ValueExercise(
    "07.peak_power_mw",
    "Peak facility power of 4,096 H100s (700 W each, +10 % host power) at PUE 1.1, in MW",
    no_variants="the capstone's brief: one design whose numbers the whole notebook builds on",
    expected=_peak_mw,
    unit="MW",
    rtol=0.01,
    quantity="power",
    hints=["Per GPU: 700 W × 1.1 for its share of the host; the facility multiplies IT power by its PUE.",
           "4,096 × 700 × 1.1 × 1.1 W; 1 MW = 10⁶ W."],
    mistakes=[Mistake("You left out the PUE (× 1.1): cooling and power delivery draw on top of the IT load.",
                      factor=1 / 1.1),
              Mistake("That is in watts: divide by 10⁶.", factor=1e6),
              Mistake("That is in kW: divide by 1,000.", factor=1e3)],
))


# --------------------------------------------------------------------------------------- 7. GPT-3's MFU
def _gpt3_mfu():
    from ..core.devices import datasheet
    from ..core.published import published_run
    from ..core.roofline import utilization_from_run
    run = published_run("GPT-3")
    return float(utilization_from_run(run.total_flops, run.n_devices, datasheet("V100").peak_flops_per_s,
                                      run.seconds))


register(ValueExercise(
    "07.gpt3_mfu",
    "GPT-3's average utilization from its published figures: 3.14e23 FLOP, 10,000 V100s, 14.8 days",
    no_variants="GPT-3's published figures",
    expected=_gpt3_mfu,
    unit="fraction",
    rtol=0.02,
    quantity="fraction",
    hints=["Utilization = FLOPs done / (GPUs × peak FLOP/s × seconds); the V100's dense FP16 peak is 125 TFLOP/s.",
           "14.8 days = 14.8 × 86,400 s."],
    mistakes=[Mistake("Write it as a fraction (0.2 means 20 %), not a percentage.", factor=100),
              Mistake("Off by 24: the 14.8 are days — multiply by 86,400, not 3,600.", factor=24)],
))


# --------------------------------------------------------------------------------------- 8. the lever
def _lever_effects():
    """Carbon (kg) of the brief's default design and of the same design with each lever pulled."""
    from .. import codesign as cd
    b = _brief()
    base = dict(device="H100", n_devices=N_GPUS, tensor_parallel=TP, pipeline_parallel=PP)
    run = lambda **kw: cd.plan(b["model"], b["n_tokens"], **{**base, **kw}).carbon_kg   # noqa: E731
    return {"none": run(), "cap": run(cap_w=0.7 * _h100().power_w), "start hour": run(start_hour=12),
            "pipeline": run(pipeline_parallel=2), "grid": run(grid_g_per_kwh=57.0)}


def _best_lever():
    effects = _lever_effects()
    return min(("cap", "start hour", "pipeline", "grid"), key=effects.get)


register(ChoiceExercise(
    "07.biggest_lever",
    "Which single change cuts the default design's carbon the most?",
    answer="grid",
    choices={"cap": "cap every GPU at 70 % of its TDP", "start hour": "start at noon instead of midnight",
             "pipeline": "use 2 pipeline stages instead of 4", "grid": "train on France's grid (57 g/kWh)"},
    explanations={
        "grid": "Carbon is energy × grid intensity: California's April mean is about 5× France's 57 g/kWh, so "
                "siting cuts the carbon by about four fifths — more than any efficiency lever.",
        "cap": "A cap saves energy (the clock drops faster than the power) but a few tenths at most.",
        "start hour": "A run of days spans every hour of the day, so its start hour barely matters.",
        "pipeline": "Fewer stages shrink the bubble, but at this size the step's other losses take its place "
                    "and the energy moves by about a percent.",
    },
    quantity="other",
    hints=["Try each with codesign.plan(..., cap_w=…, start_hour=…, pipeline_parallel=…, grid_g_per_kwh=…).carbon_kg.",
           "Efficiency levers change the energy by tens of percent; the grid's intensity changes by a factor."],
))


# --------------------------------------------------------------------------------------- 9. the design
DESIGN_FIELDS = ("device", "n_devices", "tensor_parallel", "pipeline_parallel", "cap_fraction", "start_hour",
                 "wall_clock_days", "energy_mwh", "carbon_t")
OWN_NUMBERS_RTOL = 0.15


def _design_plan(device, n_devices, tensor_parallel, pipeline_parallel, cap_fraction, start_hour):
    from .. import codesign as cd
    from ..core.devices import datasheet
    b = _brief()
    return cd.plan(b["model"], b["n_tokens"], device, n_devices, tensor_parallel, pipeline_parallel,
                   cap_w=cap_fraction * datasheet(device).power_w, start_hour=start_hour,
                   deadline_s=b["deadline_s"], power_budget_w=b["power_budget_w"], carbon_cap_kg=b["carbon_cap_kg"],
                   max_devices=b["max_devices"])


def grade_design(answer):
    """(device, n_devices, tensor_parallel, pipeline_parallel, cap_fraction, start_hour, wall_clock_days,
    energy_mwh, carbon_t): the design must meet the brief by labkit's model and the learner's own three
    numbers must agree with it within 15 %."""
    if not isinstance(answer, tuple) or len(answer) != len(DESIGN_FIELDS) or not isinstance(answer[0], str):
        return False, "Answer with a tuple: (" + ", ".join(DESIGN_FIELDS) + "), the device a name like 'H100'."
    device, n, tp, pp, cap, hour, days, mwh, tonnes = answer
    if not all(isinstance(v, (int, float)) and not isinstance(v, bool) for v in answer[1:]):
        return False, "Every field after the device must be a number."
    try:
        p = _design_plan(device, int(n), int(tp), int(pp), float(cap), float(hour))
    except (TypeError, ValueError) as e:
        return False, f"labkit cannot plan this design: {e}"
    if not p.feasible:
        return False, "The design misses the brief: " + "; ".join(p.reasons) + "."
    model = {"wall clock (days)": (days, p.wall_clock_s / u.DAY), "energy (MWh)": (mwh, p.energy_j / u.MWh),
             "carbon (t)": (tonnes, p.carbon_kg / 1000)}
    off = [f"{k}: yours {mine:,.4g}, labkit's {ref:,.4g}" for k, (mine, ref) in model.items()
           if not abs(mine - ref) <= OWN_NUMBERS_RTOL * abs(ref)]
    if off:
        return False, "The design meets the brief, but your own numbers disagree with labkit's by more than 15 %: " \
                      + "; ".join(off) + "."
    return True, (f"The design meets every limit ({p.wall_clock_s / u.DAY:.1f} days, peak "
                  f"{p.peak_power_w / u.MW:.2f} MW, {p.carbon_kg / 1000:.0f} t CO2e) and your numbers agree.")


def _example_design():
    p = _design_plan("H100", 4096, 8, 2, 0.7, 12)
    return ("H100", 4096, 8, 2, 0.7, 12, p.wall_clock_s / u.DAY, p.energy_j / u.MWh, p.carbon_kg / 1000)


register(CustomExercise(
    "07.design",
    "A design that meets the brief (deadline, power, pod, carbon), with your own estimates of it",
    grade_fn=grade_design,
    example=_example_design,
    constant=("H100", 1024, 8, 1, 1.0, 0, 1.0, 1.0, 1.0),
    quantity="other",
    hints=["Start from the explorer: the right-hand bars must all stay left of the dashed line.",
           "Carbon is the tightest limit for the default design: cap the power, shrink the bubble (fewer pipeline "
           "stages) or pick a more efficient GPU. Several designs pass.",
           "Your numbers: wall clock = steps × step time / goodput; energy = GPUs × days × power × PUE; carbon = "
           "energy × grid intensity. Compare with codesign.plan(...).summary()."],
))

