"""Chapter 02 — transformer scaling: parameters, FLOPs, memory, scaling laws and parallelism."""

import math
import numbers

from .. import scaling as sc
from .. import units as u
from ..core.devices import datasheet
from ._core import ChoiceExercise, CustomExercise, FunctionExercise, Mistake, ValueExercise, register

# --- 1. why attention ------------------------------------------------------------------------
register(ChoiceExercise(
    "02.why_attention",
    "Why attention trains in parallel where recurrence could not",
    answer="dependency",
    choices={
        "dependency": "each recurrent step needs the previous hidden state; attention relates all positions "
                      "in a few whole-sequence matrix products",
        "fewer_flops": "attention does fewer floating-point operations than a recurrent layer",
        "smaller": "transformers have fewer parameters, so they fit in GPU memory",
        "no_backprop": "attention needs no backpropagation, so there is no backward pass",
    },
    explanations={
        "dependency": "A recurrent layer takes seq_len steps one after another (h_t needs h_(t−1)); a transformer "
                      "layer computes every position at once, so thousands of GPU cores all have work.",
        "fewer_flops": "Attention does *more* work (its score matrix grows as seq_len²); it wins on parallelism, "
                       "not on the FLOP count.",
        "smaller": "A transformer and an RNN of the same width have similar weights per layer; what differs is "
                   "whether the positions must be processed in order.",
        "no_backprop": "Transformers are trained by backpropagation too (the backward pass is 2/3 of 6·N·D); "
                       "what they avoid is the step-by-step dependency along the sequence.",
    },
    quantity="choice",
    hints=[
        "Write down what a recurrent layer needs before it can compute position t.",
        "Count the *sequential* steps per layer: seq_len for a recurrence, 1 for attention's matrix products.",
    ],
))


# --- 2. parameter count ----------------------------------------------------------------------
def _simple_params(n_layers, d_model, vocab_size):
    return sc.transformer_params(n_layers, d_model, vocab_size, biases=False, norm="none")


register(FunctionExercise(
    "02.param_count",
    "Count a transformer's parameters (12·L·d² + V·d)",
    reference=_simple_params,
    cases=lambda rng: {"n_layers": int(rng.integers(1, 97)),
                       "d_model": int(rng.choice([64, 128, 256, 512, 768, 1024, 2048, 4096, 12288])),
                       "vocab_size": int(rng.integers(1000, 260_000))},
    edge_cases=[{"n_layers": 96, "d_model": 12288, "vocab_size": 50257},
                {"n_layers": 1, "d_model": 64, "vocab_size": 256},
                {"n_layers": 12, "d_model": 768, "vocab_size": 50257}],
    rtol=1e-9,
    quantity="count",
    teaches=("labkit.scaling.transformer_params",),
    hints=[
        "A layer has attention (Q, K, V and output: four d×d matrices) and a feed-forward block "
        "(d → 4d → d: two d×4d matrices). Ignore biases and norms.",
        "Per layer 4·d² + 8·d² = 12·d². Add one vocab_size × d_model embedding table (the output layer shares it).",
        "return 12 * n_layers * d_model**2 + vocab_size * d_model",
    ],
    mistakes=[
        Mistake("You left out the embedding table: add vocab_size × d_model.",
                fn=lambda n_layers, d_model, vocab_size: 12 * n_layers * d_model**2, rtol=1e-6),
        Mistake("You counted attention only (4·d² per layer): the feed-forward block d → 4d → d adds 8·d².",
                fn=lambda n_layers, d_model, vocab_size: 4 * n_layers * d_model**2 + vocab_size * d_model, rtol=1e-6),
        Mistake("You counted the feed-forward block only (8·d²): attention's Q, K, V and output add 4·d².",
                fn=lambda n_layers, d_model, vocab_size: 8 * n_layers * d_model**2 + vocab_size * d_model, rtol=1e-6),
        Mistake("You counted the embedding twice: here the output layer is tied to (shares) the input embedding.",
                fn=lambda n_layers, d_model, vocab_size: 12 * n_layers * d_model**2 + 2 * vocab_size * d_model, rtol=1e-6),
    ],
))

# --- 3. GPT-3's training FLOPs ----------------------------------------------------------------
register(ValueExercise(
    "02.gpt3_flops",
    "GPT-3's training compute with 6·N·D",
    no_variants="GPT-3's published parameters and tokens",
    expected=lambda: sc.training_flops(175e9, 300e9),
    unit="FLOP",
    rtol=0.02,
    quantity="flops",
    hints=[
        "Each parameter does a multiply and an add per token forward (2 FLOP), and twice that backward.",
        "C ≈ 6 · N · D with N = 175 × 10⁹ parameters and D = 300 × 10⁹ tokens.",
    ],
    mistakes=[
        Mistake("That is the forward pass only (2·N·D): the backward pass costs twice as much again — 6·N·D in all.",
                factor=1 / 3),
        Mistake("That is 4·N·D: the backward pass costs *twice* the forward (gradients for activations and for weights).",
                factor=2 / 3),
        Mistake("That is N·D: each parameter costs 2 FLOP per token forward and 4 backward, 6 in all.", factor=1 / 6),
    ],
))

# --- 4. GPT-3's utilization, compared with a published figure --------------------------------
# The figures the exercise states: the V100's tensor-core FP16 peak (datasheet("V100").peak_flops_per_s,
# tested equal) and the FP32 figure of the same datasheet (hardware.csv's note), for the mistake below.
V100_PEAK = 125e12          # FLOP/s
V100_FP32 = 15.7e12         # FLOP/s


def _palm_published_gpt3_mfu():
    """The 21.3 % Chowdhery et al. (2022, Table 3) print for GPT-3 (datasets/training_mfu.csv)."""
    from ..data import load
    return float(load("training_mfu").where(system="GPT-3 175B")["reported_mfu"][0])


def _gpt3_utilization():
    return sc.utilization_from_run(3.14e23, 10_000, V100_PEAK, 14.8 * u.DAY)


register(ValueExercise(
    "02.gpt3_utilization",
    "What share of its GPUs' peak did GPT-3's training use?",
    no_variants="GPT-3's published run",
    expected=_gpt3_utilization,
    rtol=0.02,
    quantity="fraction",
    hints=[
        "Utilization = work done / (work the GPUs could have done): 3.14e23 / (GPUs × peak × seconds).",
        "10,000 GPUs × 125e12 FLOP/s × 14.8 days × 86,400 s/day; answer as a fraction (0.25, not 25).",
    ],
    mistakes=[
        Mistake("That is the 21.3 % the PaLM paper (Chowdhery et al. 2022, Table 3) publishes for GPT-3, from a "
                "per-GPU throughput, with a peak and a FLOP count the paper does not state. The exercise asks for "
                "your own estimate from the figures given — 3.14e23 FLOP over 10,000 GPUs × 125e12 FLOP/s × "
                "14.8 days — and then compares the two.", value=_palm_published_gpt3_mfu, rtol=0.005),
        Mistake("That is a percentage: answer as a fraction (0.2 for 20 %).", factor=100),
        Mistake("You forgot the 10,000 GPUs in the denominator.", factor=10_000),
        Mistake("Convert 14.8 days to seconds (× 86,400) before dividing.", factor=u.DAY),
        Mistake("You converted days to hours, not to seconds: multiply by 86,400.", factor=3600),
        Mistake("That uses the V100's FP32 peak (15.7 TFLOP/s); GPT-3 trained in mixed precision on the "
                "tensor cores, 125 TFLOP/s.", factor=V100_PEAK / V100_FP32),
    ],
))

# --- 5. compute-optimal size (rule of thumb) --------------------------------------------------
register(FunctionExercise(
    "02.compute_optimal",
    "Compute-optimal model size and tokens (20 tokens per parameter)",
    reference=lambda total_flops: sc.compute_optimal(total_flops),
    cases=lambda rng: {"total_flops": float(10 ** rng.uniform(18, 26))},
    edge_cases=[{"total_flops": 5.76e23}, {"total_flops": 1e21}],
    rtol=1e-6,
    quantity="count",
    teaches=("labkit.scaling.compute_optimal",),
    hints=[
        "Two equations, two unknowns: C = 6·N·D and D = 20·N.",
        "Substitute: C = 6·N·(20·N) = 120·N², so N = √(C/120) and D = 20·N. Return (N, D).",
    ],
    mistakes=[
        Mistake("You dropped the 6 of C = 6·N·D (so C = N·D): N = √(C/120), not √(C/20).",
                fn=lambda c: (math.sqrt(c / 20), 20 * math.sqrt(c / 20))),
        Mistake("Return (n_params, n_tokens) in that order: you swapped them.",
                fn=lambda c: (20 * math.sqrt(c / 120), math.sqrt(c / 120))),
        Mistake("C = 120·N² means N = √(C/120): you forgot the square root.",
                fn=lambda c: (c / 120, 20 * c / 120)),
    ],
))


# --- 6. a simulated IsoFLOP experiment ----------------------------------------------------------
def _law_optimum(total_flops):
    return sc.compute_optimal_law(total_flops)[0]


register(FunctionExercise(
    "02.isoflop_experiment",
    "Find the best model size for a budget by sweeping the Chinchilla law",
    reference=_law_optimum,
    cases=lambda rng: {"total_flops": float(10 ** rng.uniform(17, 26))},
    edge_cases=[{"total_flops": 5.76e23}, {"total_flops": 1e18}, {"total_flops": 1e26}],
    rtol=0.03,
    quantity="count",
    teaches=("labkit.scaling.compute_optimal_law",),
    hints=[
        "For a budget C, a model of N parameters can see D = C / (6·N) tokens. Try many N and keep the one "
        "with the lowest chinchilla_loss(N, D).",
        "n = np.logspace(6, 14, 4000); loss = chinchilla_loss(n, total_flops / (6 * n)); return n[np.argmin(loss)]",
    ],
    mistakes=[
        Mistake("That is the 20-tokens-per-parameter rule, not the optimum of this fitted law: with the printed "
                "Approach-3 constants the loss is lowest at a smaller model trained on more tokens.",
                fn=lambda c: sc.compute_optimal(c)[0], rtol=0.03),
        Mistake("You used D = C / N: training costs 6 FLOP per parameter per token, so D = C / (6·N).",
                fn=lambda c: sc.compute_optimal_law(6 * c)[0], rtol=0.03),
        Mistake("You returned the best number of tokens; the question asks for the number of parameters.",
                fn=lambda c: sc.compute_optimal_law(c)[1], rtol=0.03),
    ],
))

# --- 6b. the data ceiling ---------------------------------------------------------------------
register(ValueExercise(
    "02.data_ceiling",
    "The budget whose compute-optimal run reads the whole stock of public human text",
    no_variants="a published estimate of the stock of public text",
    expected=lambda: sc.budget_for_tokens(sc.PUBLIC_TEXT_STOCK_TOKENS),
    unit="FLOP",
    rtol=0.02,
    quantity="flops",
    hints=[
        "Compute-optimal with 20 tokens per parameter: D = 20·N, and C = 6·N·D. Here D is the stock, 3 × 10¹⁴.",
        "N = D / 20 = 1.5 × 10¹³ parameters; C = 6 · N · D.",
    ],
    mistakes=[
        Mistake("You used N = D (or C = 6·D²): at 20 tokens per parameter the model has D / 20 parameters.",
                factor=20),
        Mistake("You used N = 20·D: the ratio is 20 tokens per parameter, so N = D / 20.", factor=400),
        Mistake("That is N·D without the 6 FLOP per parameter per token.", factor=1 / 6),
    ],
))


# --- 7. GPUs to hold a 70B model's training state -----------------------------------------------
def _whole(gpus, rounding=None):
    """A number of GPUs rounded up (or with ``rounding``), as the mistakes' answers are."""
    return float((rounding or math.ceil)(gpus))


register(ValueExercise(
    "02.min_gpus",
    "How many 80 GB GPUs just to hold a 70B model's training state?",
    expected=lambda gpu_gb=80: sc.min_devices(sc.LLAMA3_70B_PARAMS, gpu_gb * u.GB),
    # memory sizes from datacenter GPUs' datasheets (A100 40 GB, H100 80 GB, H200 141 GB, B200 192 GB, ...)
    variants={"gpu_gb": (24, 32, 40, 48, 64, 80, 94, 96, 128, 141, 192, 288)},
    numbers_text="{gpu_gb} GB GPUs",
    rtol=1e-9,
    quantity="count",
    hints=[
        "Mixed-precision Adam keeps 16 bytes per parameter: 2 (weights) + 2 (gradients) + 12 (fp32 master, momentum, variance).",
        "16 × 70,553,706,496 bytes / {gpu_gb}e9 bytes per GPU, rounded *up* to a whole GPU (math.ceil).",
    ],
    mistakes=[
        Mistake("That many {gpu_gb} GB GPUs hold less than the 1,129 GB (16 bytes × 70.55e9 parameters). "
                "Either you rounded down — round up: a fraction of a GPU cannot hold the rest — or you "
                "rounded up with {gpu_gb} GiB per GPU: an \"{gpu_gb} GB\" GPU holds {gpu_gb} GB = {gpu_gb}e9 bytes "
                "(datasheets use decimal prefixes), not {gpu_gb} × 2³⁰.",
                value=lambda gpu_gb=80: _whole(16 * sc.LLAMA3_70B_PARAMS / (gpu_gb * u.GB), math.floor), rtol=1e-9),
        Mistake("That holds the fp16 weights only (2 bytes per parameter); training also keeps gradients and "
                "Adam's fp32 state: 16 bytes per parameter.",
                value=lambda gpu_gb=80: _whole(2 * sc.LLAMA3_70B_PARAMS / (gpu_gb * u.GB)), rtol=1e-9),
        Mistake("Weights and gradients (4 bytes per parameter) are not all: Adam adds 12 bytes of fp32 state.",
                value=lambda gpu_gb=80: _whole(4 * sc.LLAMA3_70B_PARAMS / (gpu_gb * u.GB)), rtol=1e-9),
        Mistake("That is the optimizer state alone (12 bytes per parameter): add 2 for weights and 2 for gradients.",
                value=lambda gpu_gb=80: _whole(12 * sc.LLAMA3_70B_PARAMS / (gpu_gb * u.GB)), rtol=1e-9),
    ],
))


# --- 8. ZeRO --------------------------------------------------------------------------------
def _zero(n_params, zero_stage, n_devices):
    """(weight, gradient, optimizer) bytes per GPU: the breakdown, so that sharding the weights where the
    gradients belong (both 2 bytes per parameter, the same total) is told apart."""
    m = sc.memory_breakdown(n_params, zero_stage=zero_stage, data_parallel=n_devices)
    return (m.weights, m.gradients, m.optimizer)


def _zero_sharding(n, s, g, weights_at, gradients_at, optimizer_at):
    """A breakdown whose weights, gradients and optimizer state are sharded from the given stages on."""
    return (2 * n / (g if s >= weights_at else 1), 2 * n / (g if s >= gradients_at else 1),
            12 * n / (g if s >= optimizer_at else 1))


register(FunctionExercise(
    "02.zero_memory",
    "Training-state bytes per GPU under ZeRO stages 0–3: (weights, gradients, optimizer)",
    reference=_zero,
    cases=lambda rng: {"n_params": float(10 ** rng.uniform(8, 12)), "zero_stage": int(rng.integers(0, 4)),
                       "n_devices": int(rng.choice([1, 2, 8, 64, 512, 4096]))},
    edge_cases=[{"n_params": 7.5e9, "zero_stage": s, "n_devices": 64} for s in range(4)]
    + [{"n_params": 1.5e9, "zero_stage": 0, "n_devices": 1}],
    rtol=1e-6,
    quantity="bytes",
    teaches=("labkit.scaling.memory_breakdown", "labkit.scaling.training_memory"),
    hints=[
        "Start from 2 (weights) + 2 (gradients) + 12 (optimizer) bytes per parameter. ZeRO divides some of "
        "these by the number of GPUs. Return the three amounts as a tuple (weights, gradients, optimizer).",
        "Stage 1 divides the 12 optimizer bytes by n_devices; stage 2 also the 2 gradient bytes; stage 3 also "
        "the 2 weight bytes.",
        "w, g, o = 2 * n_params, 2 * n_params, 12 * n_params; then o /= n_devices if zero_stage >= 1, "
        "g /= n_devices if zero_stage >= 2, w /= n_devices if zero_stage >= 3; return (w, g, o)",
    ],
    mistakes=[
        Mistake("Stage 2 shards the gradients, not the weights: ZeRO shards the optimizer state first (stage 1), "
                "then the gradients (stage 2), and the weights last (stage 3).",
                fn=lambda n, s, g: _zero_sharding(n, s, g, weights_at=2, gradients_at=3, optimizer_at=1)),
        Mistake("You divided all 16 bytes by the number of GPUs at every stage: only ZeRO-3 shards everything.",
                fn=lambda n, s, g: _zero_sharding(n, s, g, 0, 0, 0)),
        Mistake("Your answer ignores zero_stage: stage 1 shards the optimizer state, stage 2 also the gradients, "
                "stage 3 also the weights.", fn=lambda n, s, g: _zero_sharding(n, s, g, 4, 4, 4)),
        Mistake("You shard one kind too many: stage 1 shards only the optimizer (12 bytes), stage 2 adds the "
                "gradients, stage 3 the weights.", fn=lambda n, s, g: _zero(n, min(s + 1, 3), g)),
        Mistake("You left out the optimizer state: Adam keeps 12 bytes per parameter (fp32 master weights, "
                "momentum, variance).", fn=lambda n, s, g: _zero(n, s, g)[:2] + (0.0,)),
    ],
))

# --- 8b. the critical batch of data parallelism -------------------------------------------------
#: The data-parallel run of the exercise: Llama 2 7B (6,738,415,616 parameters without rotary buffers, 32 layers,
#: d_model 4,096), 4,096-token sequences, 64 H100s, one per node on InfiniBand NDR, ZeRO-1, one micro-batch of
#: ``micro_batch_size`` sequences per GPU per step.
CRITICAL_RUN = dict(n_params=6_738_415_616, n_layers=32, d_model=4096, seq_len=4096, data_parallel=64, zero_stage=1)
#: The exposed share of the step the exercise allows.
CRITICAL_SHARE = 0.05


def _critical_micro_batch(**options):
    """Smallest micro_batch_size whose exposed data-parallel time is below CRITICAL_SHARE of the step."""
    import numpy as np
    b = np.arange(1, 257)
    r = sc.step_time(global_batch_size=64 * b, micro_batch_size=b, **CRITICAL_RUN, **options)
    return int(b[np.argmax(r.exposed_dp / r.step_time < CRITICAL_SHARE)])


register(ValueExercise(
    "02.critical_batch",
    "The smallest batch per GPU that hides the gradient traffic",
    no_variants="a search over one modelled configuration, not arithmetic on the question's numbers",
    expected=_critical_micro_batch,
    rtol=1e-9,
    quantity="count",
    hints=[
        "Sweep it: sc.step_time(..., global_batch_size=64 * b, micro_batch_size=b, data_parallel=64, zero_stage=1) "
        "for b = 1, 2, 3, … (numpy arrays work) and compare exposed_dp with step_time.",
        "The all-reduce takes the same time whatever b is; the backward pass it hides behind grows with b. Chapter "
        "03's interconnect.dp_critical_tokens_per_gpu gives the crossing at peak; the GPUs run at "
        "matmul_efficiency of peak, so their backward pass is longer than at peak.",
    ],
    mistakes=[
        Mistake("That is the crossing at the GPUs' peak FLOP/s. They sustain matmul_efficiency (0.6) of it, so "
                "the backward pass takes longer and a smaller batch already hides the all-reduce.",
                value=lambda: _critical_micro_batch(matmul_efficiency=1.0), rtol=1e-9),
        Mistake("That is the batch without overlap: the step waits for the whole all-reduce after the backward "
                "pass. The exercise's run overlaps it with the backward pass (step_time's default).",
                value=lambda: _critical_micro_batch(overlap=False), rtol=1e-9),
    ],
))


# --- 9. choose a parallel layout ---------------------------------------------------------------
PLAN_DEVICES, PLAN_MAX_TP = sc.LLAMA3_70B_PLAN_DEVICES, sc.LLAMA3_70B_PLAN_MAX_TP
#: How far above the shortest step time of all the layouts that fit an answer may be: 15 %, so that every
#: layout within about one kind of overhead of the best passes (t = 8 inside a node is 12–13 % behind here).
PLAN_TOLERANCE = 0.15


def parallel_plan_step(t, p, d, z):
    """:func:`labkit.scaling.step_time` of a layout of the plan (scaling.LLAMA3_70B_PLAN on 64 H100s, its
    defaults: NVLink 4 and InfiniBand NDR, gradient traffic overlapped with the backward pass)."""
    return sc.plan_step_time(_plan(t, p, d, z))


def _plan(t, p, d, z):
    return sc.plan_parallelism(tensor_parallel=t, pipeline_parallel=p, data_parallel=d, zero_stage=z,
                               **sc.LLAMA3_70B_PLAN)


_FITTING = {}


def fitting_plans():
    """{(t, p, d, zero_stage): step time in seconds} for every layout of the plan on 64 GPUs with t ≤ 8 that
    divides the model evenly and fits in memory (computed once)."""
    if not _FITTING:
        for t in range(1, PLAN_MAX_TP + 1):
            for p in range(1, PLAN_DEVICES // t + 1):
                if PLAN_DEVICES % (t * p):
                    continue
                for z in range(4):
                    try:
                        plan = _plan(t, p, PLAN_DEVICES // (t * p), z)
                    except ValueError:
                        continue
                    if plan.fits:
                        _FITTING[(t, p, PLAN_DEVICES // (t * p), z)] = float(sc.plan_step_time(plan).step_time)
    return _FITTING


def _best_plan():
    plans = fitting_plans()
    return min(plans, key=plans.get)


def _parts(step):
    return ", ".join(f"{k} {v:.2f} s" for k, v in step.breakdown().items() if v >= 0.005)


def grade_parallel_plan(answer):
    """(passed, message) for a layout (tensor, pipeline, data, zero_stage) of scaling.LLAMA3_70B_PLAN on
    64 H100s: it must fit in memory and its step time (scaling.step_time) be within PLAN_TOLERANCE of the
    shortest of all the layouts that fit."""
    if not isinstance(answer, (tuple, list)) or len(answer) != 4 or not all(
            isinstance(v, numbers.Integral) and not isinstance(v, bool) for v in answer):
        return False, "Answer with four whole numbers: (tensor_parallel, pipeline_parallel, data_parallel, zero_stage)."
    t, p, d, z = (int(v) for v in answer)
    if min(t, p, d) < 1 or not 0 <= z <= 3:
        return False, "Each degree must be at least 1 and zero_stage one of 0, 1, 2, 3."
    if t * p * d != PLAN_DEVICES:
        return False, f"t × p × d = {t * p * d}: use exactly the {PLAN_DEVICES} GPUs."
    if t > PLAN_MAX_TP:
        return False, (f"Keep tensor parallelism within one 8-GPU NVLink node (t ≤ {PLAN_MAX_TP}): its all-reduces "
                       "sit on the critical path of every layer, and across nodes they run at a ninth of the speed.")
    try:
        plan = _plan(t, p, d, z)
    except ValueError as e:
        return False, f"That layout does not divide the model evenly: {e}."
    if not plan.fits:
        return False, (f"Out of memory: {plan.summary()}. Split the model more (t, p) or shard more (ZeRO).")
    step = sc.plan_step_time(plan)
    best = min(fitting_plans().values())
    ratio = step.step_time / best
    if ratio > 1 + PLAN_TOLERANCE:
        return False, (f"It fits, but a step takes {step.step_time:.1f} s ({_parts(step)}; MFU {step.mfu:.0%}), "
                       f"{ratio:.2f}× the fastest layout that fits ({best:.1f} s): {step.bottleneck}.")
    return True, (f"Correct: it fits and a step takes {step.step_time:.1f} s ({_parts(step)}; MFU {step.mfu:.0%}), "
                  f"within {PLAN_TOLERANCE:.0%} of the fastest layout that fits ({best:.1f} s).")


register(CustomExercise(
    "02.parallel_plan",
    "Lay out a 70B model on 64 GPUs: fit in 80 GB with a step time close to the best",
    grade_fn=grade_parallel_plan,
    example=_best_plan,
    constant=(1, 1, 64, 0),
    quantity="other",
    hints=[
        "Try it: scaling.plan_parallelism(tensor_parallel=…, pipeline_parallel=…, data_parallel=…, zero_stage=…, "
        "**scaling.LLAMA3_70B_PLAN) says whether a layout fits; scaling.plan_step_time(plan) times its step. "
        "Start from (1, 1, 64, 3): why does it not fit?",
        "Activations do not shrink with ZeRO — tensor parallelism (with sequence parallelism) divides them by t. "
        "Among the layouts that fit, the check wants a step time within 15 % of the fastest: compute at the "
        "matmul efficiency, the pipeline bubble, tensor-parallel all-reduces on NVLink, and the data-parallel "
        "traffic that the backward pass cannot hide.",
        "Look at plan_step_time(plan).breakdown() for a few candidates. ZeRO-3 gathers the weights again for every "
        "micro-batch — with 512 / d micro-batches per step that is a lot of network traffic.",
    ],
))


# --- 9b. mixture of experts: what DeepSeek-V3's GPU-hours imply ------------------------------------
#: The peak the exercise states: the H800's dense BF16 rate, the H100 SXM's (hardware.csv) — the H800 differs
#: in its NVLink and FP64, not its tensor cores.
H800_BF16_PEAK = 989.4e12


def _deepseek_utilization():
    v3 = sc.DEEPSEEK_V3
    return float(sc.training_flops(v3["n_active_params"], v3["n_tokens"])
                 / (v3["pretraining_device_hours"] * u.HOUR * H800_BF16_PEAK))


register(ValueExercise(
    "02.moe_utilization",
    "What share of its GPUs' BF16 peak did DeepSeek-V3's pre-training use?",
    no_variants="DeepSeek-V3's published run",
    expected=_deepseek_utilization,
    rtol=0.02,
    quantity="fraction",
    hints=[
        "Work done / work the GPUs could have done: 6 · N · D over GPU-hours × 3,600 s × 989.4e12 FLOP/s. "
        "Which N does a token's arithmetic use?",
        "6 × 37e9 (active) × 14.8e12 tokens / (2.664e6 pre-training H800-hours × 3,600 × 989.4e12); a fraction.",
    ],
    mistakes=[
        Mistake("Far above 1: a GPU cannot do more than its peak. You used all 671B parameters; each token is "
                "routed to a few experts and only the 37B active parameters do its arithmetic: 6·N_active·D.",
                factor=671 / 37),
        Mistake("That counts all 2.788M GPU-hours; the 14.8T tokens were trained in the 2.664M pre-training hours "
                "(the rest is context extension and post-training).", factor=2.664 / 2.788),
        Mistake("That is against the FP8 peak (twice BF16's). DeepSeek-V3 did train mostly in FP8, which is "
                "the point of the reflection below; the exercise asks for the BF16 figure.", factor=0.5),
        Mistake("That is a percentage: answer as a fraction (0.3 for 30 %).", factor=100),
    ],
))


# --- 10. KV cache ------------------------------------------------------------------------------
def _kv(batch_size, seq_len, n_layers, n_kv_heads, head_dim):
    return sc.kv_cache_bytes(batch_size, seq_len, n_layers, n_kv_heads, head_dim)


register(FunctionExercise(
    "02.kv_cache",
    "Bytes of a KV cache in bf16",
    reference=_kv,
    cases=lambda rng: {"batch_size": int(rng.integers(1, 65)), "seq_len": int(rng.choice([512, 2048, 8192, 32768, 131072])),
                       "n_layers": int(rng.integers(16, 127)), "n_kv_heads": int(rng.choice([1, 4, 8, 32, 40])),
                       "head_dim": int(rng.choice([64, 128, 256]))},
    edge_cases=[{"batch_size": 1, "seq_len": 1, "n_layers": 40, "n_kv_heads": 40, "head_dim": 128},
                {"batch_size": 1, "seq_len": 8192, "n_layers": 80, "n_kv_heads": 8, "head_dim": 128}],
    rtol=1e-9,
    quantity="bytes",
    teaches=("labkit.scaling.kv_cache_bytes",),
    hints=[
        "Every layer stores a key and a value vector of n_kv_heads × head_dim numbers for every token of every sequence.",
        "2 (K and V) × batch_size × seq_len × n_layers × n_kv_heads × head_dim × 2 bytes (bf16).",
    ],
    mistakes=[
        Mistake("Half the answer: did you store keys only (a factor 2 for K *and* V) — or count 1 byte per "
                "bf16 value instead of 2?", factor=0.5),
        Mistake("That is in bits: bf16 is 2 bytes per value.", factor=8),
        Mistake("That counts 4 bytes per value (fp32); the cache here is bf16, 2 bytes.", factor=2),
    ],
))
