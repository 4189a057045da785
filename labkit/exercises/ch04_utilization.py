"""Chapter 04 — utilization: MFU and HFU, a starving input pipeline, stragglers, serving, scheduling."""

import functools
import math
import numbers

import numpy as np

from .. import utilization as ut
from ..core.devices import datasheet
from ._core import ChoiceExercise, CustomExercise, FunctionExercise, Mistake, ValueExercise, register

# ---------------------------------------------------------------------------------------------
# 04.mfu — write MFU
# ---------------------------------------------------------------------------------------------
_PEAKS = [125e12, 275e12, 312e12, 989e12]


def _mfu_case(rng):
    n = int(2 ** rng.integers(3, 15))
    peak = float(rng.choice(_PEAKS))
    fpt = 6 * 10 ** rng.uniform(9, 12)
    target = rng.uniform(0.05, 0.65)
    return {"tokens_per_second": target * n * peak / fpt, "flops_per_token": fpt, "n_devices": n,
            "peak_flops_per_s": peak}


register(FunctionExercise(
    "04.mfu",
    "Model FLOPs utilization from throughput",
    reference=ut.mfu,
    cases=_mfu_case,
    edge_cases=[{"tokens_per_second": 238.3e3, "flops_per_token": 6 * 540.35e9, "n_devices": 6144,
                 "peak_flops_per_s": 275e12},
                {"tokens_per_second": 0.0, "flops_per_token": 6e9, "n_devices": 8, "peak_flops_per_s": 989e12}],
    rtol=1e-6,
    quantity="fraction",
    teaches=("labkit.utilization.mfu.mfu", "labkit.utilization.hfu"),
    hints=[
        "MFU = FLOP/s the model needs at this throughput ÷ FLOP/s the hardware could do at peak.",
        "Numerator: tokens_per_second × flops_per_token. Denominator: n_devices × peak_flops_per_s.",
        "return tokens_per_second * flops_per_token / (n_devices * peak_flops_per_s)",
    ],
    mistakes=[
        Mistake("You divided by one device's peak only: the whole job's throughput runs on all "
                "n_devices, so divide by n_devices × peak.",
                fn=lambda t, f, n, p: t * f / p),
        Mistake("You multiplied by n_devices: the cluster's peak (n_devices × peak) belongs in the denominator.",
                fn=lambda t, f, n, p: t * f * n / p),
        Mistake("That is a percentage: return a fraction (0.46, not 46).", factor=100),
    ],
))

# ---------------------------------------------------------------------------------------------
# 04.palm_mfu — reproduce PaLM's published MFU
# ---------------------------------------------------------------------------------------------
PALM_TOKENS_PER_S = 238.3e3     # Chowdhery et al. 2022, Section 4
PALM_PARAMS = 540.35e9          # Chowdhery et al. 2022, Appendix B
PALM_CHIPS = 6144               # TPU v4 chips
PALM_PUBLISHED_MFU = 0.462      # with attention FLOPs; 0.457 without (Table 3, Section 4)


def _palm_mfu():
    return float(ut.mfu(PALM_TOKENS_PER_S, ut.model_flops_per_token(PALM_PARAMS), PALM_CHIPS,
                        datasheet("TPU v4").peak_flops_per_s))


register(ValueExercise(
    "04.palm_mfu",
    "PaLM 540B's MFU from its throughput (compare with the published 46.2 %)",
    expected=_palm_mfu,
    no_variants="PaLM's published throughput, size and chip count, compared with its published 46.2 %",
    rtol=0.004,
    quantity="fraction",
    hints=[
        "Model FLOPs per token for training are about 6 × parameters (2 forward + 4 backward).",
        "MFU = 238.3e3 × 6 × 540.35e9 / (6144 × 275e12) — about 0.46.",
    ],
    mistakes=[
        Mistake("That is the published 46.2 %, which also counts attention FLOPs (12·L·H·Q·T per token). "
                "Compute it yourself from 6·N: you should land half a point lower.", value=PALM_PUBLISHED_MFU,
                rtol=0.002),
        Mistake("That counts the forward pass only (2·N per token): training also runs the backward pass, "
                "twice the forward's work — 6·N in all.", factor=1 / 3),
        Mistake("That counts 8·N per token — the forward pass recomputed too. That is HFU; MFU counts 6·N.",
                factor=4 / 3),
        Mistake("That is a percentage: answer with a fraction (0.457, not 45.7).", factor=100),
    ],
))

# ---------------------------------------------------------------------------------------------
# 04.megatron_mfu — Megatron-LM's 52 % is an HFU
# ---------------------------------------------------------------------------------------------
MEGATRON_PARAMS = 1.008e12
MEGATRON_TFLOPS_PER_GPU = 163e12     # Narayanan et al. 2021, Table 1 (counts recomputation)


def _megatron_mfu():
    tokens_per_s_per_gpu = MEGATRON_TFLOPS_PER_GPU / (8 * MEGATRON_PARAMS)   # 8 FLOP per parameter per token
    return float(ut.mfu(tokens_per_s_per_gpu, ut.model_flops_per_token(MEGATRON_PARAMS), 1,
                        datasheet("A100").peak_flops_per_s))


register(ValueExercise(
    "04.megatron_mfu",
    "Megatron-LM's 1T-parameter run: from its published 52 % (HFU) to MFU",
    expected=_megatron_mfu,
    no_variants="Megatron-LM's published 163 TFLOP/s per GPU (Narayanan et al. 2021, Table 1)",
    rtol=0.01,
    quantity="fraction",
    hints=[
        "The 163 TFLOP/s per GPU count 8·N FLOPs per token: forward, backward (2×) and the forward again "
        "(activation recomputation). MFU counts only 6·N.",
        "MFU = 163e12 × (6/8) / 312e12.",
    ],
    mistakes=[
        Mistake("That is the published 52 % of peak, which counts the recomputed forward pass (8·N per token). "
                "Scale it by 6/8 to count model FLOPs only.", factor=4 / 3),
        Mistake("You scaled the wrong way: model FLOPs are fewer than hardware FLOPs, so MFU < HFU "
                "(multiply by 6/8, not 8/6).", factor=16 / 9),
        Mistake("That is a percentage: answer with a fraction.", factor=100),
    ],
))

# ---------------------------------------------------------------------------------------------
# 04.loader_pool — size the loader pool by simulation
# ---------------------------------------------------------------------------------------------
LOADER = dict(load_time=0.35, step_time=0.05, prefetch=2, load_jitter=0.3, n_steps=600, seed=0)
LOADER_TARGET = 0.95


@functools.lru_cache(maxsize=64)
def _loader_utilization(n_workers):
    return ut.simulate_input_pipeline(n_workers, LOADER["load_time"], LOADER["step_time"],
                                      prefetch=LOADER["prefetch"], n_steps=LOADER["n_steps"],
                                      load_jitter=LOADER["load_jitter"], seed=LOADER["seed"]).gpu_utilization


@functools.lru_cache(maxsize=1)
def loader_pool_minimum():
    """The fewest workers that keep the simulated GPU at least 95 % busy (scanning up from 1)."""
    n = 1
    while _loader_utilization(n) < LOADER_TARGET:
        n += 1
    return n


def _grade_loader_pool(answer):
    if isinstance(answer, bool) or not isinstance(answer, (numbers.Real, np.integer, np.floating)):
        return False, f"Answer with a whole number of workers; got {type(answer).__name__} {answer!r}."
    if not math.isfinite(float(answer)) or float(answer) != int(answer) or answer < 1:
        return False, f"Answer with a whole number of workers, at least 1; got {answer!r}."
    n = int(answer)
    if n > 256:
        return False, f"{n} workers is far more than this GPU needs (and than a node has cores)."
    util = _loader_utilization(n)
    steady = ut.loaders_needed(LOADER["load_time"], LOADER["step_time"], LOADER_TARGET)
    best = loader_pool_minimum()
    if util < LOADER_TARGET:
        extra = (f" Steady loaders would need {steady}; jitter makes some batches late, so you need more."
                 if n >= steady else
                 f" Even perfectly steady loaders would need ⌈0.95 × load_time / step_time⌉ = {steady}.")
        return False, f"With {n} workers the GPU is only {util:.1%} busy.{extra}"
    if n > best + 1:
        return False, (f"{n} workers keep the GPU {util:.1%} busy, but {best} already reach 95 %: every extra "
                       "worker costs a CPU core and memory for its prefetched batches. Find the smallest.")
    return True, (f"Correct: {n} workers keep the GPU {util:.1%} busy ({best} is the smallest that reaches 95 %; "
                  f"the steady-loader formula says {steady} — the difference is what jitter costs).")


register(CustomExercise(
    "04.loader_pool",
    "Size the loader pool to keep the GPU at least 95 % busy",
    grade_fn=_grade_loader_pool,
    example=lambda: loader_pool_minimum(),      # from the model itself, computed on first use
    constant=1,
    quantity="count",
    hints=[
        "Start from the steady-loader twin: utilization ≈ n · step_time / load_time, so n ≥ 0.95 × 0.35 / 0.05.",
        "Jitter makes some batches late and the GPU waits for them in order: try a few values with "
        "ut.simulate_input_pipeline(n, 0.35, 0.05, prefetch=2, load_jitter=0.3, n_steps=600).gpu_utilization "
        "and keep the smallest that reaches 0.95.",
    ],
))
# ---------------------------------------------------------------------------------------------
# 04.sync_efficiency — expected step time under stragglers
# ---------------------------------------------------------------------------------------------


def _sync_step_time(n_workers, step_time, jitter):
    return ut.expected_step_time(n_workers, step_time, jitter, distribution="exponential")


def _harmonic(n):
    return float(np.sum(1.0 / np.arange(1, int(n) + 1)))


register(FunctionExercise(
    "04.sync_step_time",
    "Expected synchronous step time: the mean of the slowest of n workers",
    reference=_sync_step_time,
    cases=lambda rng: {"n_workers": int(rng.integers(1, 5000)), "step_time": float(rng.uniform(0.1, 2.0)),
                       "jitter": float(rng.uniform(0.02, 0.6))},
    edge_cases=[{"n_workers": 1, "step_time": 1.0, "jitter": 0.2}, {"n_workers": 2, "step_time": 1.0, "jitter": 0.5},
                {"n_workers": 1024, "step_time": 0.5, "jitter": 0.1}],
    rtol=1e-6,
    quantity="time",
    teaches=("labkit.utilization.expected_step_time",),
    hints=[
        "Each worker takes step_time·(1 − jitter) plus an exponential delay of mean jitter·step_time. The step "
        "waits for the largest delay of n.",
        "The expected maximum of n exponentials of mean m is m·(1 + 1/2 + … + 1/n) = m·H_n.",
        "return step_time * (1 - jitter) + jitter * step_time * sum(1 / k for k in range(1, n_workers + 1))",
    ],
    mistakes=[
        Mistake("You used ln(n) for the harmonic number H_n = 1 + 1/2 + … + 1/n: close for large n "
                "(H_n ≈ ln n + 0.577), but not equal — sum it exactly.",
                fn=lambda n, s, j: s * (1 - j) + j * s * math.log(n)),
        Mistake("You left out the fixed part step_time·(1 − jitter) that every worker spends.",
                fn=lambda n, s, j: j * s * _harmonic(n)),
        Mistake("That is one worker's mean (step_time): a synchronous step waits for the slowest of n.",
                fn=lambda n, s, j: s),
        Mistake("You multiplied the mean delay by n: the maximum of n exponentials grows like H_n ≈ ln n, "
                "not like n.", fn=lambda n, s, j: s * (1 - j) + j * s * n),
    ],
))

# ---------------------------------------------------------------------------------------------
# 04.decode_utilization — the roofline of decoding
# ---------------------------------------------------------------------------------------------
DECODE_BATCHES = (4, 8, 12, 16, 24, 32, 40, 48, 64, 80, 96, 128)     # sequences per decode step


register(ValueExercise(
    "04.decode_utilization",
    "Fraction of an H100's peak used by a batch-32 decode step",
    expected=lambda batch=32: float(ut.decode_utilization(batch)),
    variants={"batch": DECODE_BATCHES},
    numbers_text="a batch of {batch} sequences",
    rtol=0.01,
    quantity="fraction",
    hints=[
        "One decode step reads every BF16 weight once (2 bytes per parameter) and does 2 FLOPs per parameter "
        "for each of the {batch} sequences: {batch} FLOP per byte.",
        "It is memory-bound, so utilization = intensity / ridge point = {batch} / (989e12 / 3.35e12).",
    ],
    mistakes=[
        Mistake("You counted one byte per parameter: BF16 weights take 2 bytes, so the intensity is "
                "b FLOP/byte, not 2·b.", factor=2),
        Mistake("A multiply-add is 2 FLOPs: each parameter does 2 FLOPs per sequence.", factor=0.5),
        Mistake("That is a percentage: answer with a fraction (0.11, not 11).", factor=100),
        Mistake("That is a batch of one (1 / ridge point): the batch has {batch} sequences, and each "
                "weight read serves all of them.", value=lambda batch=32: float(ut.decode_utilization(1))),
    ],
))

# ---------------------------------------------------------------------------------------------
# 04.kv_capacity — how many sequences the KV cache lets fit beside the weights
# ---------------------------------------------------------------------------------------------
KV_CONTEXT = 2048               # tokens per sequence (the question's default)
KV_MEMORY = 80e9                # bytes: one 80 GB H100 (SI GB)
KV_CONTEXTS = (512, 1024, 1536, 2048, 3072, 4096)    # tokens: Llama-2's context is at most 4,096
KV_MEMORIES_GB = (40, 48, 80, 94, 141)               # GB (SI): A100 40 GB, L40S, H100, H100 NVL, H200


def _kv_capacity(context_tokens=KV_CONTEXT, memory_gb=80, usable=ut.VLLM_MEMORY_FRACTION, bytes_per_param=2.0,
                 kv_scale=1.0, memory_unit=1e9):
    """Sequences of ``context_tokens`` Llama-2-7B tokens that fit (what the learner should find, or a slip)."""
    kv = context_tokens * ut.kv_bytes_per_token() * kv_scale
    n = ut.LLAMA2_7B["n_params"]
    return float(max(0.0, (usable * memory_gb * memory_unit - n * bytes_per_param) // kv))


register(ValueExercise(
    "04.kv_capacity",
    "Llama-2-7B sequences of 2,048 tokens whose KV cache fits beside the weights on an 80 GB H100",
    expected=lambda context_tokens=KV_CONTEXT, memory_gb=80: float(ut.kv_capacity_batch(
        context_tokens * ut.kv_bytes_per_token(), ut.LLAMA2_7B["n_params"], memory_bytes=memory_gb * 1e9)),
    variants={"context_tokens": KV_CONTEXTS, "memory_gb": KV_MEMORIES_GB},
    numbers_text="sequences of {context_tokens:,} tokens on one {memory_gb} GB GPU",
    rtol=0.005,
    quantity="count",
    hints=[
        "KV bytes per token: 2 (K and V) × 32 layers × 32 KV heads × 128 × 2 bytes (BF16); a sequence holds "
        "{context_tokens:,} of them (ut.kv_bytes_per_token, or labkit.scaling.kv_cache_bytes).",
        "Room for the cache: 0.9 × {memory_gb}e9 bytes (vLLM's default share) minus the weights, 6.74e9 × 2 bytes.",
        "Whole sequences only: round down the room divided by one sequence's cache.",
    ],
    mistakes=[
        Mistake("The weights (6.74e9 × 2 bytes ≈ 13.5 GB) stay in HBM too: subtract them before dividing.",
                value=lambda context_tokens=KV_CONTEXT, memory_gb=80: _kv_capacity(context_tokens, memory_gb,
                                                                                   bytes_per_param=0.0), rtol=0.005),
        Mistake("vLLM lets itself use 90 % of the memory (gpu_memory_utilization = 0.9); the rest holds "
                "activations and the framework.",
                value=lambda context_tokens=KV_CONTEXT, memory_gb=80: _kv_capacity(context_tokens, memory_gb,
                                                                                   usable=1.0), rtol=0.005),
        Mistake("{memory_gb} GB is {memory_gb} × 10⁹ bytes (SI), not {memory_gb} GiB.",
                value=lambda context_tokens=KV_CONTEXT, memory_gb=80: _kv_capacity(context_tokens, memory_gb,
                                                                                   memory_unit=2**30), rtol=0.005),
        Mistake("The cache holds K *and* V, each 2 bytes per value: you counted half of it.",
                value=lambda context_tokens=KV_CONTEXT, memory_gb=80: _kv_capacity(context_tokens, memory_gb,
                                                                                   kv_scale=0.5), rtol=0.005),
    ],
))

# ---------------------------------------------------------------------------------------------
# 04.attention_share — at 131K tokens attention is most of the FLOPs: count it
# ---------------------------------------------------------------------------------------------
def _attention_share(seq_len=131072, n_params=405e9, n_layers=126, d_model=16384, factor=12):
    attention = factor * n_layers * d_model * seq_len
    return attention / (6 * n_params + attention)


ATTENTION_SEQ_LENS = tuple(k * 1024 for k in (16, 20, 24, 32, 40, 48, 56, 64, 80, 96, 112, 128))   # tokens


register(ValueExercise(
    "04.attention_share",
    "Share of Llama 3 405B's training FLOPs per token that is attention, at 131,072 tokens",
    expected=lambda seq_len=131072: _attention_share(seq_len),
    variants={"seq_len": ATTENTION_SEQ_LENS},
    numbers_text="s = {seq_len:,} tokens",
    rtol=0.005,
    quantity="fraction",
    hints=[
        "Per token, the matmuls over the weights cost 6·N FLOP; attention (QKᵀ and attention·V, forward and "
        "backward) costs 12·L·d·s with L layers, model dimension d and sequence length s (PaLM, Appendix B).",
        "N = 405e9, L = 126, d = 16384, s = {seq_len}: share = 12·L·d·s / (6·N + 12·L·d·s).",
    ],
    mistakes=[
        Mistake("That is the share at 8,192 tokens (the 8K rows of the waterfall): your sequence is "
                "{seq_len:,} tokens long.", value=lambda seq_len=131072: _attention_share(seq_len=8192), rtol=0.005),
        Mistake("That is attention ÷ matmuls (a ratio): the share divides by the total, 6·N + 12·L·d·s.",
                value=lambda seq_len=131072: 12 * 126 * 16384 * seq_len / (6 * 405e9), rtol=0.005),
        Mistake("You counted the forward pass only for attention (4·L·d·s): training does forward and backward, "
                "12·L·d·s, as the 6·N does for the matmuls.",
                value=lambda seq_len=131072: _attention_share(seq_len, factor=4), rtol=0.005),
        Mistake("That is a percentage: answer with a fraction.", factor=100),
    ],
))

# ---------------------------------------------------------------------------------------------
# 04.bubble — one bar of the waterfall by hand: the pipeline bubble of the 16K-GPU row
# ---------------------------------------------------------------------------------------------
register(ValueExercise(
    "04.bubble",
    "Llama 3 405B on 16K GPUs: the bubble's idle time as a fraction of the pipelined work",
    expected=lambda: float(ut.mfu_waterfall("16K GPUs, 8K tokens").config["bubble_fraction"]),
    no_variants="one bar of the waterfall of Llama 3's published 16K-GPU configuration, which the notebook plots",
    rtol=0.005,
    quantity="fraction",
    hints=[
        "Interleaved 1F1B (chapter 02, Narayanan et al. 2021): each GPU idles (p − 1)/(v·m) of its pipelined "
        "work, p stages, v virtual stages per GPU, m micro-batches per step.",
        "p = 16; v = 8 (Llama 3's chunks hold one layer each: 126 layers + the embedding and output chunks = "
        "128 = 16 × 8); m = sequences per data-parallel group = 16 (one 8K sequence per micro-batch).",
    ],
    mistakes=[
        Mistake("That is the 8K-GPU row (32 micro-batches per group): at 16K GPUs the same 16M tokens are split "
                "over twice the groups, so each gets 16.", value=15 / (8 * 32), rtol=0.005),
        Mistake("That uses v = 4: Llama 3's model chunks hold one layer each (the first holds only the embedding "
                "once a layer is removed, §3.3.2), so each GPU runs 128 / 16 = 8 of them.", value=15 / 64,
                rtol=0.005),
        Mistake("That uses v = 7 (126 layers / 16, rounded down): the embedding and output chunks make 128 chunks, "
                "8 per GPU.", value=15 / (7 * 16), rtol=0.005),
        Mistake("Without interleaving (v = 1) the bubble would be 15/16 of the work: Llama 3 runs v = 8 virtual "
                "stages per GPU.", value=15 / 16, rtol=0.005),
        Mistake("That is the bubble's share of the whole step, (p − 1)/(v·m + p − 1): the question asks for it "
                "relative to the pipelined work, (p − 1)/(v·m).", value=15 / (128 + 15), rtol=0.005),
        Mistake("That is a percentage: answer with a fraction.", factor=100),
    ],
))

# ---------------------------------------------------------------------------------------------
# 04.fp32_gradients — the data-parallel bar's bytes: Llama 3 reduce-scatters its gradients in FP32
# ---------------------------------------------------------------------------------------------
def _fp32_reduce_bytes(pipeline_parallel=16, data_parallel=128, tensor_parallel=8, n_params=405e9,
                       bytes_per_value=4, ring=True, collective=1):
    """Bytes one GPU sends in a ring reduce-scatter of its share of the gradients (or a slip of it)."""
    share = (data_parallel - 1) / data_parallel if ring else 1.0
    return collective * share * bytes_per_value * n_params / (tensor_parallel * pipeline_parallel)


FP32_PIPELINE_STAGES = (9, 14, 16, 18, 21)   # no 8 or 32: their bf16 or all-reduce slip is the default answer
FP32_DATA_PARALLEL = (32, 64, 128)

register(ValueExercise(
    "04.fp32_gradients",
    "Bytes one GPU sends per step in Llama 3 405B's FP32 reduce-scatter of its gradients (t 8, p 16, d 128)",
    expected=lambda pipeline_parallel=16, data_parallel=128: _fp32_reduce_bytes(pipeline_parallel, data_parallel),
    variants={"pipeline_parallel": FP32_PIPELINE_STAGES, "data_parallel": FP32_DATA_PARALLEL},
    numbers_text="tensor parallel 8, pipeline parallel {pipeline_parallel}, data parallel {data_parallel}",
    rtol=0.002,
    quantity="bytes",
    hints=[
        "Each GPU holds the gradients of N / (t·p) parameters: 405e9 / (8 × {pipeline_parallel}). Llama 3 keeps "
        "and sends them in FP32, 4 bytes each (§3.3.2).",
        "A ring reduce-scatter over d = {data_parallel} replicas sends (d − 1)/d of a GPU's bytes "
        "(chapter 03, labkit.interconnect.reduce_scatter_time).",
    ],
    mistakes=[
        Mistake("That is for bf16 gradients, 2 bytes each: Llama 3 reduce-scatters them in FP32, 4 bytes.",
                value=lambda pipeline_parallel=16, data_parallel=128: _fp32_reduce_bytes(
                    pipeline_parallel, data_parallel, bytes_per_value=2), rtol=0.002),
        Mistake("That is an all-reduce (a reduce-scatter and an all-gather): ZeRO and FSDP only reduce-scatter the "
                "gradients; the all-gather moves the updated weights, in bf16.",
                value=lambda pipeline_parallel=16, data_parallel=128: _fp32_reduce_bytes(
                    pipeline_parallel, data_parallel, collective=2), rtol=0.002),
        Mistake("A ring reduce-scatter sends (d − 1)/d of the bytes, not all of them: each GPU keeps its own "
                "1/d share.",
                value=lambda pipeline_parallel=16, data_parallel=128: _fp32_reduce_bytes(
                    pipeline_parallel, data_parallel, ring=False), rtol=0.0005),
        Mistake("That counts all 405e9 parameters: tensor and pipeline parallelism leave each GPU 1/(t·p) of them.",
                value=lambda pipeline_parallel=16, data_parallel=128: _fp32_reduce_bytes(
                    pipeline_parallel, data_parallel, tensor_parallel=1 / pipeline_parallel), rtol=0.002),
        Mistake("That is in GB: answer in bytes.", factor=1e-9),
    ],
))

# ---------------------------------------------------------------------------------------------
# 04.md1_wait — the queueing twin of batch-1 serving
# ---------------------------------------------------------------------------------------------


def _md1_case(rng):
    s = float(rng.uniform(0.05, 1.0))
    return {"arrival_rate": float(rng.uniform(0.05, 0.95)) / s, "service_time": s}


register(FunctionExercise(
    "04.md1_wait",
    "Mean queueing wait of a batch-1 server with fixed service time (M/D/1)",
    reference=ut.md1_wait,
    cases=_md1_case,
    edge_cases=[{"arrival_rate": 1.0, "service_time": 0.5}, {"arrival_rate": 0.1, "service_time": 0.1}],
    rtol=1e-6,
    quantity="time",
    teaches=("labkit.utilization.md1_wait", "labkit.utilization.mg1_wait"),
    hints=[
        "Utilization ρ = arrival_rate × service_time. Waits blow up as ρ → 1: a factor 1/(1 − ρ).",
        "Pollaczek–Khinchine with no service-time variance: wait = ρ·S / (2·(1 − ρ)).",
    ],
    mistakes=[
        Mistake("That is the M/M/1 wait ρ·S/(1 − ρ): with fixed service times the wait is half of it.",
                fn=lambda lam, s: lam * s * s / (1 - lam * s)),
        Mistake("That includes the service itself (time in system). The question asks for the wait in the queue.",
                fn=lambda lam, s: lam * s * s / (2 * (1 - lam * s)) + s),
        Mistake("That is M/M/1's time in system 1/(μ − λ). Use the M/D/1 queueing wait ρ·S/(2(1 − ρ)).",
                fn=lambda lam, s: 1 / (1 / s - lam)),
    ],
))

# ---------------------------------------------------------------------------------------------
# 04.best_batching and 04.backfill — choices
# ---------------------------------------------------------------------------------------------
register(ChoiceExercise(
    "04.best_batching",
    "Why does continuous batching cut tail latency?",
    answer="leave",
    choices={
        "leave": "finished sequences leave and waiting ones join at every decode step",
        "bigger": "it runs bigger batches, so the GPU does more FLOPs per byte",
        "faster": "each decode step is faster than in static batching",
        "fewer": "it processes fewer tokens per request",
    },
    explanations={
        "leave": "With request-level batching a short request waits for the longest one in its batch, and new "
                 "requests wait for the whole batch to finish. Iteration-level scheduling (Orca, vLLM) removes "
                 "both waits — at the same or even smaller mean batch size.",
        "bigger": "In the simulation continuous batching often runs *smaller* mean batches than static "
                  "batching at the same load, yet wins: the gain is in waiting, not in arithmetic intensity.",
        "faster": "A decode step costs the same roofline time for the same batch size under every policy.",
        "fewer": "Every request still needs all of its tokens; padding is what static batching wastes.",
    },
    quantity="choice",
    hints=["Compare what a short request waits for under static batching and under continuous batching.",
           "Look at the latency CDFs: the gap is largest for short requests stuck behind long ones."],
))

register(ChoiceExercise(
    "04.backfill",
    "When may EASY backfilling start a job ahead of the head of the queue?",
    answer="reservation",
    choices={
        "reservation": "when it fits now and won't delay the head job's reservation",
        "fits": "whenever it fits in the free GPUs",
        "shorter": "whenever it is shorter than the head job",
        "never": "never: backfilling only reorders jobs of equal size",
    },
    explanations={
        "reservation": "The head job gets a reservation at the earliest time enough GPUs free up; a later job "
                       "may start now if it ends (by its estimate) before then, or uses only GPUs the head will "
                       "not need. So backfilling fills holes without starving big jobs.",
        "fits": "That is greedy first-fit: it keeps GPUs busy but can starve a large job forever, as small "
                "jobs keep grabbing the GPUs it waits for.",
        "shorter": "Length alone is not enough: a short job that needs the GPUs the head is waiting for "
                   "could still push the head back.",
        "never": "Backfilling exists to move small jobs into the holes a blocked large job leaves.",
    },
    quantity="choice",
    hints=["FIFO leaves GPUs idle while the big job at the head waits for enough of them.",
           "EASY promises the head job a start time; anything that does not break that promise may go first."],
))

# ---------------------------------------------------------------------------------------------
# 04.cloud_cost_ratio — cloud elasticity: finishing sooner costs 1 / scaling efficiency
# ---------------------------------------------------------------------------------------------


def _cloud_cost_ratio(base_time_to_result, base_machines, time_to_result, n_machines):
    return ut.scaling_tradeoff(base_time_to_result, base_machines, time_to_result, n_machines).cost_ratio


register(FunctionExercise(
    "04.cloud_cost_ratio",
    "Renting more machines for less time: how many times the first run's bill does the second cost?",
    reference=_cloud_cost_ratio,
    cases=lambda rng: (lambda n0, k: {"base_time_to_result": float(rng.uniform(600, 4e5)), "base_machines": n0,
                                      "time_to_result": float(rng.uniform(60, 4e5)), "n_machines": n0 * k})(
        int(rng.integers(1, 9)), int(rng.integers(2, 65))),
    edge_cases=[{"base_time_to_result": 104400.0, "base_machines": 1, "time_to_result": 3600.0, "n_machines": 32},
                {"base_time_to_result": 1133.0, "base_machines": 8, "time_to_result": 1086.0, "n_machines": 16},
                {"base_time_to_result": 100.0, "base_machines": 2, "time_to_result": 25.0, "n_machines": 8}],
    rtol=1e-9,
    quantity="ratio",
    teaches=("labkit.utilization.scaling_tradeoff", "labkit.utilization.rental_cost"),
    hints=[
        "At one price per machine-hour the bill is proportional to machines × hours.",
        "return (n_machines * time_to_result) / (base_machines * base_time_to_result)",
    ],
    mistakes=[
        Mistake("That is the scaling efficiency (speed-up ÷ machine ratio), or the bills divided upside down: "
                "the new run's machine-hours go on top, so cost ratio = 1 / efficiency.",
                fn=lambda t0, n0, t1, n1: (t0 / t1) / (n1 / n0)),
        Mistake("That is the speed-up (base time ÷ new time). The bill counts machine-hours: the new run also "
                "rented more machines.", fn=lambda t0, n0, t1, n1: t0 / t1),
        Mistake("That is the machine ratio alone: the new run also ran for less time.",
                fn=lambda t0, n0, t1, n1: n1 / n0),
    ],
))
