"""Chapter 02 — transformer scaling: parameters, FLOPs, memory, scaling laws, parallelism.

SI in and out: parameters and tokens are counts, work is FLOP, rates are FLOP/s, memory is bytes,
time is seconds. Every function validates its arguments and most accept numpy arrays, so a plot or
a widget can sweep a whole curve in one call.

Main sources (full citations in datasets/README.md and the chapter notebook):
  Kaplan et al. 2020 (C ≈ 6·N·D); Chowdhery et al. 2022, App. B (attention FLOPs 12·L·d·s per token);
  Hoffmann et al. 2022 (Chinchilla law, Approach 3); Besiroglu et al. 2024 (its refit);
  Rajbhandari et al. 2020 (ZeRO, 16 bytes per parameter); Korthikanti et al. 2022 (activation memory);
  Narayanan et al. 2021 (pipeline bubble, training time 8·T·P/(n·X)); Kwon et al. 2023 (KV cache).
"""

import math
import time
from dataclasses import dataclass

import numpy as np

from .. import units as u
from ..core.devices import datasheet, load_hardware, training_gpus
from ..core.plotting import HATCHES, LINESTYLES, log_axis, new_axes, plain_log_labels
# Re-exported: chapter 02 teaches the time of a training run and the utilization a finished run implies.
from ..core.roofline import training_time, utilization_from_run  # noqa: F401
from ..core.trend import fit_trend
from ..core.validate import (choice, counts, finite_result, flag, instance, integer, nonnegative, number, positive,
                            scalar_or_array, sequence, text)

# ---------------------------------------------------------------------------------------------
# Published constants
# ---------------------------------------------------------------------------------------------
#: Hoffmann et al. 2022, Approach 3, as printed in the paper body (rounded): L = E + A/N^α + B/D^β.
CHINCHILLA = dict(E=1.69, A=406.4, B=410.7, alpha=0.34, beta=0.28)
#: The same fit with the unrounded exponents of the paper's TeX source (quoted by Besiroglu et al. 2024).
CHINCHILLA_UNROUNDED = dict(E=1.6934, A=406.4, B=410.7, alpha=0.3392, beta=0.2849)
#: Besiroglu, Erdil, Barnett & You 2024, "Chinchilla Scaling: A replication attempt", refit of Approach 3.
BESIROGLU = dict(E=1.8172, A=482.01, B=2085.43, alpha=0.3478, beta=0.3658)
#: Kaplan et al. 2020 power-law exponents: L ∝ N^-α_N, D^-α_D, C_min^-α_C.
KAPLAN = dict(alpha_N=0.076, alpha_D=0.095, alpha_C=0.050)

#: Villalobos et al. 2024 (ICML), "Will we run out of data? Limits of LLM scaling based on human-generated
#: data": effective stock of public human-generated text ≈ 3e14 tokens (quality-filtered, multi-epoch
#: allowance included), 90 % interval 1e14–1e15; datasets grow into it between 2026 and 2032 (median 2028).
PUBLIC_TEXT_STOCK_TOKENS = 3e14
PUBLIC_TEXT_STOCK_INTERVAL = (1e14, 1e15)


#: Llama 3.1 70B's parameters (Hugging Face meta-llama/Llama-3.1-70B, safetensors total).
LLAMA3_70B_PARAMS = 70_553_706_496

#: The chapter's parallelism exercise: train a Llama-3.1-70B-like model (80 layers, d_model 8192, 64 heads,
#: 4,096-token sequences, 512 sequences per step in micro-batches of 1, selective recomputation with sequence
#: parallelism) on 64 H100s of 80 GB (plan_parallelism's default memory_bytes is one H100's, from
#: datasets/hardware.csv). Use it as ``plan_parallelism(tensor_parallel=8, pipeline_parallel=4,
#: data_parallel=2, zero_stage=1, **LLAMA3_70B_PLAN)``.
LLAMA3_70B_PLAN = dict(n_params=LLAMA3_70B_PARAMS, n_layers=80, d_model=8192, n_heads=64, seq_len=4096,
                       global_batch_size=512, micro_batch_size=1, recompute="selective", sequence_parallel=True)
#: Devices the plan is laid out on (t × p × d must equal this) and the most tensor parallelism one
#: 8-GPU NVLink node allows.
LLAMA3_70B_PLAN_DEVICES, LLAMA3_70B_PLAN_MAX_TP = 64, 8

#: The datasheet row whose memory plan_parallelism assumes by default (an H100 SXM, 80 GB).
DEFAULT_DEVICE = "H100"


# ---------------------------------------------------------------------------------------------
# Counting parameters and FLOPs
# ---------------------------------------------------------------------------------------------
#: The normalization layers transformer_params counts: LayerNorm (weight and bias), RMSNorm (weight), none.
NORMS = ("layernorm", "rmsnorm", "none")


def transformer_params(n_layers, d_model, vocab_size, d_ff=None, n_heads=None, n_kv_heads=None,
                       gated_ffn=False, tied_embeddings=True, n_positions=0, biases=True, norm="layernorm"):
    """Parameters of a decoder-only transformer (a count).

    Per layer: attention Q and O (d×d each) plus K and V (d × d·n_kv_heads/n_heads each — fewer with
    grouped-query attention); a feed-forward block of 2·d·d_ff (3·d·d_ff when gated, as SwiGLU);
    optional biases; two norms (``"layernorm"``: weight and bias, ``"rmsnorm"``: weight, ``"none"``).
    Plus token embeddings V·d (twice when the output layer is not tied to them), learned position
    embeddings n_positions·d, and a final norm. With d_ff = 4d, no biases or norms and tied embeddings
    this is the textbook 12·L·d² + V·d.
    """
    n_layers = integer("n_layers", n_layers, minimum=1)
    d = integer("d_model", d_model, minimum=1)
    vocab = integer("vocab_size", vocab_size, minimum=1)
    d_ff = 4 * d if d_ff is None else integer("d_ff", d_ff, minimum=1)
    heads = 1 if n_heads is None else integer("n_heads", n_heads, minimum=1)
    kv_heads = heads if n_kv_heads is None else integer("n_kv_heads", n_kv_heads, minimum=1, maximum=heads)
    if heads > 1 and d % heads:
        raise ValueError(f"d_model ({d}) must be divisible by n_heads ({heads})")
    if heads % kv_heads:
        raise ValueError(f"n_heads ({heads}) must be a multiple of n_kv_heads ({kv_heads})")
    gated_ffn, tied_embeddings = flag("gated_ffn", gated_ffn), flag("tied_embeddings", tied_embeddings)
    biases = flag("biases", biases)
    n_positions = integer("n_positions", n_positions, minimum=0)
    choice("norm", norm, NORMS)
    kv_dim = d * kv_heads // heads
    attention = 2 * d * d + 2 * d * kv_dim + (2 * d + 2 * kv_dim if biases else 0)
    n_in = 2 if gated_ffn else 1                        # up (and gate) projections
    ffn = (n_in + 1) * d * d_ff + ((n_in * d_ff + d) if biases else 0)
    norm_size = {"layernorm": 2 * d, "rmsnorm": d, "none": 0}[norm]
    per_layer = attention + ffn + 2 * norm_size
    embeddings = vocab * d * (1 if tied_embeddings else 2) + n_positions * d
    return n_layers * per_layer + embeddings + norm_size


def training_flops(n_params, n_tokens, n_layers=None, d_model=None, seq_len=None, full_recompute=False):
    """Training work in FLOP: 6·N·D (forward 2·N·D, backward 4·N·D), dense matmuls only.

    Give n_layers, d_model and seq_len to add self-attention's 12·L·d·s FLOP per token (Chowdhery et al.
    2022, App. B; no causal-mask saving). ``full_recompute=True`` counts the hardware FLOPs when every
    activation is recomputed (one more forward pass: 8·N·D, as in Narayanan et al. 2021).
    Accepts arrays.
    """
    n = positive("n_params", n_params, "parameters", array=True)
    tokens = nonnegative("n_tokens", n_tokens, "tokens", array=True)
    passes = 4 if flag("full_recompute", full_recompute) else 3
    with np.errstate(over="ignore", invalid="ignore"):
        per_token = 2 * n + _attention_per_token(n_layers, d_model, seq_len)
        out = per_token * tokens * passes
    return scalar_or_array(finite_result(out, "the work 6 · n_params · n_tokens (plus attention over seq_len)"))


def inference_flops_per_token(n_params, n_layers=None, d_model=None, context=None):
    """FLOP to generate one token: 2·N, plus attention over ``context`` earlier tokens (4·L·d·context)
    when n_layers, d_model and context are given. Accepts arrays."""
    n = positive("n_params", n_params, "parameters", array=True)
    with np.errstate(over="ignore", invalid="ignore"):
        out = 2 * n + _attention_per_token(n_layers, d_model, context, "context")
    return scalar_or_array(finite_result(out, "the work 2 · n_params (plus attention over the context)"))


def _attention_per_token(n_layers, d_model, seq_len, seq_name="seq_len"):
    """Forward FLOP per token of QKᵀ and attention·V: 2·2·L·d·s (0 when any argument is None)."""
    given = [v is not None for v in (n_layers, d_model, seq_len)]
    if not any(given):
        return 0.0
    if not all(given):
        raise ValueError(f"give all of n_layers, d_model and {seq_name} for the attention term, or none")
    n_layers = integer("n_layers", n_layers, minimum=1)
    d_model = integer("d_model", d_model, minimum=1)
    s = nonnegative(seq_name, seq_len, "tokens", array=True)
    with np.errstate(over="ignore"):
        out = 4.0 * n_layers * d_model * s
    return finite_result(out, f"the attention work 4 · n_layers · d_model · {seq_name}")


# ---------------------------------------------------------------------------------------------
# Memory: training state (ZeRO), activations (Korthikanti), KV cache
# ---------------------------------------------------------------------------------------------
#: The activation-recomputation options (Korthikanti et al. 2022).
RECOMPUTE = ("none", "selective", "full")


@dataclass
class MemoryBreakdown:
    """Bytes per device, by kind. ``total`` adds them up."""
    weights: float
    gradients: float
    optimizer: float
    activations: float = 0.0

    @property
    def state(self):
        """Weights + gradients + optimizer state (bytes)."""
        return self.weights + self.gradients + self.optimizer

    @property
    def total(self):
        return self.state + self.activations

    def as_dict(self):
        return {"weights": self.weights, "gradients": self.gradients,
                "optimizer": self.optimizer, "activations": self.activations}


def memory_breakdown(n_params, zero_stage=0, data_parallel=1, tensor_parallel=1, pipeline_parallel=1,
                     weight_bytes=2, grad_bytes=2, optimizer_bytes=12, seq_len=None, micro_batch_size=None,
                     d_model=None, n_layers=None, n_heads=None, recompute="none", sequence_parallel=False):
    """Training memory per device as a :class:`MemoryBreakdown` (bytes); see :func:`training_memory`."""
    n = positive("n_params", n_params, "parameters", array=True)
    stage = integer("zero_stage", zero_stage, minimum=0, maximum=3)
    dp = integer("data_parallel", data_parallel, minimum=1)
    t = integer("tensor_parallel", tensor_parallel, minimum=1)
    model_split = t * integer("pipeline_parallel", pipeline_parallel, minimum=1)
    choice("recompute", recompute, RECOMPUTE)
    sequence_parallel = flag("sequence_parallel", sequence_parallel)
    per_replica = n / model_split
    with np.errstate(over="ignore"):
        w = nonnegative("weight_bytes", weight_bytes, "bytes per parameter") * per_replica
        g = nonnegative("grad_bytes", grad_bytes, "bytes per parameter") * per_replica
        o = nonnegative("optimizer_bytes", optimizer_bytes, "bytes per parameter") * per_replica
    finite_result(w + g + o, "the training state n_params × (weight_bytes + grad_bytes + optimizer_bytes)")
    # ZeRO-DP (Rajbhandari et al. 2020): stage 1 shards the optimizer state over the data-parallel
    # group, stage 2 also the gradients, stage 3 also the weights.
    o = o / dp if stage >= 1 else o
    g = g / dp if stage >= 2 else g
    w = w / dp if stage >= 3 else w
    acts = 0.0
    shape = (seq_len, micro_batch_size, d_model, n_layers, n_heads)
    if any(v is not None for v in shape):
        if not all(v is not None for v in shape):
            raise ValueError("for activations give all of seq_len, micro_batch_size, d_model, n_layers and n_heads")
        acts = activation_memory(seq_len, micro_batch_size, d_model, n_layers, n_heads,
                                 tensor_parallel=t, recompute=recompute, sequence_parallel=sequence_parallel)
    finite_result(w + g + o + acts, "the memory (n_params and the activations' seq_len, micro_batch_size, d_model)")
    return MemoryBreakdown(scalar_or_array(w), scalar_or_array(g), scalar_or_array(o), acts)


def training_memory(n_params, zero_stage=0, data_parallel=1, tensor_parallel=1, pipeline_parallel=1,
                    weight_bytes=2, grad_bytes=2, optimizer_bytes=12, seq_len=None, micro_batch_size=None,
                    d_model=None, n_layers=None, n_heads=None, recompute="none", sequence_parallel=False):
    """Bytes of memory per device to train a model of ``n_params`` parameters.

    Default: mixed-precision Adam, 16 bytes per parameter (2 fp16 weights + 2 fp16 gradients + 12 fp32
    master weights, momentum and variance; Rajbhandari et al. 2020), the training state alone.
    Tensor and pipeline parallelism split the model evenly over tensor_parallel·pipeline_parallel
    devices; ZeRO stage 1/2/3 then shards optimizer / +gradients / +weights over ``data_parallel``.
    Give seq_len, micro_batch_size, d_model, n_layers and n_heads to add activations
    (:func:`activation_memory`). Ignores temporary buffers, fragmentation and the framework's own use.
    """
    return memory_breakdown(n_params, zero_stage, data_parallel, tensor_parallel, pipeline_parallel,
                            weight_bytes, grad_bytes, optimizer_bytes, seq_len, micro_batch_size, d_model,
                            n_layers, n_heads, recompute, sequence_parallel).total



def activation_memory_per_layer(seq_len, micro_batch_size, d_model, n_heads, tensor_parallel=1,
                                recompute="none", sequence_parallel=False):
    """Activation bytes one transformer layer keeps for the backward pass (Korthikanti et al. 2022, Table 2).

    s·b·h·(10 + 24/t + 5·a·s/(h·t)) with tensor parallelism t (34 + 5as/h at t = 1); sequence parallelism
    also splits the 10 (→ 34/t); ``"selective"`` recomputation drops the attention term 5as/(ht);
    ``"full"`` keeps only each layer's input, 2·s·b·h. Assumes 16-bit activations, 1-byte dropout masks,
    a GPT-style layer with a 4h feed-forward block, and no FlashAttention. Accepts an array of seq_len.
    """
    s = positive("seq_len", seq_len, "tokens", array=True)
    b = integer("micro_batch_size", micro_batch_size, minimum=1)
    h = integer("d_model", d_model, minimum=1)
    a = integer("n_heads", n_heads, minimum=1)
    t = integer("tensor_parallel", tensor_parallel, minimum=1)
    choice("recompute", recompute, RECOMPUTE)
    sequence_parallel = flag("sequence_parallel", sequence_parallel)
    with np.errstate(over="ignore", invalid="ignore"):
        sbh = s * b * h
        if recompute == "full":
            out = 2.0 * sbh
        else:
            linear = 34.0 / t if sequence_parallel else 10.0 + 24.0 / t
            attention = 0.0 if recompute == "selective" else 5.0 * a * s / (h * t)
            out = sbh * (linear + attention)
    return scalar_or_array(finite_result(out, "the activations (seq_len × micro_batch_size × d_model × ...)"))


def activation_memory(seq_len, micro_batch_size, d_model, n_layers, n_heads, tensor_parallel=1,
                      recompute="none", sequence_parallel=False):
    """Activation bytes per device: per layer × n_layers.

    With pipeline parallelism and the 1F1B schedule the first stage holds p micro-batches of L/p layers
    each, so its total is the same L layers' worth whatever p is (Korthikanti et al. 2022, §4.2).
    """
    n_layers = integer("n_layers", n_layers, minimum=1)
    per_layer = activation_memory_per_layer(seq_len, micro_batch_size, d_model, n_heads, tensor_parallel,
                                            recompute, sequence_parallel)
    with np.errstate(over="ignore"):
        out = n_layers * per_layer
    return scalar_or_array(finite_result(out, "the activations (n_layers × seq_len × micro_batch_size × ...)"))


def kv_cache_bytes(batch_size, seq_len, n_layers, n_kv_heads, head_dim, bytes_per_value=2):
    """Bytes of the key-value cache for inference: 2 (K and V) · batch_size · seq_len · layers · kv heads ·
    head_dim · bytes per value (2 for fp16/bf16). Grouped-query attention shrinks n_kv_heads. Accepts arrays."""
    b = positive("batch_size", batch_size, "sequences", array=True)
    s = nonnegative("seq_len", seq_len, "tokens", array=True)
    layers = integer("n_layers", n_layers, minimum=1)
    kv = integer("n_kv_heads", n_kv_heads, minimum=1)
    hd = integer("head_dim", head_dim, minimum=1)
    nbytes = positive("bytes_per_value", bytes_per_value, "bytes")
    with np.errstate(over="ignore", invalid="ignore"):
        out = 2.0 * b * s * layers * kv * hd * nbytes
    return scalar_or_array(finite_result(out, "the KV cache (batch_size × seq_len × n_layers × n_kv_heads × "
                                              "head_dim × bytes_per_value)"))


# ---------------------------------------------------------------------------------------------
# Scaling laws
# ---------------------------------------------------------------------------------------------
def _law(E, A, B, alpha, beta):
    return (nonnegative("E", E, "nats"), positive("A", A), positive("B", B),
            positive("alpha", alpha), positive("beta", beta))


def _loss(n, d, E, A, B, alpha, beta):
    n, d = np.asarray(n, dtype=float), np.asarray(d, dtype=float)    # numpy powers overflow to inf, not an error
    with np.errstate(over="ignore", under="ignore", divide="ignore", invalid="ignore"):
        return E + A / np.power(n, alpha) + B / np.power(d, beta)


def chinchilla_loss(n_params, n_tokens, E=CHINCHILLA["E"], A=CHINCHILLA["A"], B=CHINCHILLA["B"],
                    alpha=CHINCHILLA["alpha"], beta=CHINCHILLA["beta"]):
    """Predicted pre-training loss (nats per token): E + A/N^α + B/D^β.

    Defaults: Hoffmann et al. 2022, Approach 3 as printed (E 1.69, A 406.4, B 410.7, α 0.34, β 0.28),
    fitted on their MassiveText runs; pass other constants (``**BESIROGLU``) to compare. Accepts arrays.
    """
    E, A, B, alpha, beta = _law(E, A, B, alpha, beta)
    n = positive("n_params", n_params, "parameters", array=True)
    d = positive("n_tokens", n_tokens, "tokens", array=True)
    out = _loss(n, d, E, A, B, alpha, beta)
    return scalar_or_array(finite_result(out, "the loss E + A / n_params**alpha + B / n_tokens**beta"))


def isoflop_loss(total_flops, n_params, **law):
    """Loss of a model of n_params trained with total_flops (so on D = C/(6N) tokens). Accepts arrays.
    ``law``: the constants E, A, B, alpha, beta (default :data:`CHINCHILLA`)."""
    E, A, B, alpha, beta = _law(**{**CHINCHILLA, **law})
    c = positive("total_flops", total_flops, "FLOP", array=True)
    n = positive("n_params", n_params, "parameters", array=True)
    with np.errstate(over="ignore", under="ignore"):
        d = c / (6 * n)
    if np.any(np.asarray(d) <= 0) or not np.all(np.isfinite(d)):
        raise ValueError("total_flops / (6 · n_params) tokens must be a positive finite number: "
                         "check total_flops (FLOP) and n_params (parameters)")
    out = _loss(n, d, E, A, B, alpha, beta)
    return scalar_or_array(finite_result(out, "the loss for these total_flops and n_params"))


def compute_optimal(total_flops, tokens_per_param=20):
    """(n_params, n_tokens) that spend total_flops = 6·N·D with D = tokens_per_param·N.

    The Chinchilla rule of thumb (≈ 20 tokens per parameter, Hoffmann et al. 2022): N = √(C / (6·r)).
    Accepts arrays.
    """
    c = positive("total_flops", total_flops, "FLOP", array=True)
    r = positive("tokens_per_param", tokens_per_param, "tokens per parameter", maximum=1e6)
    n = np.sqrt(c / (6 * r))
    if np.any(n <= 0):
        raise ValueError("total_flops is too small for even a fraction of a parameter; use FLOP")
    return scalar_or_array(n), scalar_or_array(r * n)


def compute_optimal_law(total_flops, E=CHINCHILLA["E"], A=CHINCHILLA["A"], B=CHINCHILLA["B"],
                        alpha=CHINCHILLA["alpha"], beta=CHINCHILLA["beta"]):
    """(n_params, n_tokens) minimizing :func:`chinchilla_loss` under C = 6·N·D (closed form).

    N* = G·(C/6)^(β/(α+β)), D* = (C/6)/N*, G = (α·A / (β·B))^(1/(α+β))  (Hoffmann et al. 2022, eq. 4).
    E does not move the optimum. Accepts arrays.
    """
    E, A, B, alpha, beta = _law(E, A, B, alpha, beta)
    c = positive("total_flops", total_flops, "FLOP", array=True)
    alpha, beta = np.float64(alpha), np.float64(beta)        # numpy arithmetic: overflow gives inf, not an error
    with np.errstate(over="ignore", under="ignore", divide="ignore", invalid="ignore"):
        g = (alpha * A / (beta * B)) ** (1 / (alpha + beta))
        n = g * (c / 6) ** (beta / (alpha + beta))
        d = c / 6 / n
    for v in (n, d):
        if np.any(np.asarray(v) <= 0) or not np.all(np.isfinite(v)):
            raise ValueError("the optimum is out of range for these law constants (A, B, alpha, beta) and "
                             "total_flops: use values of the course's range")
    return scalar_or_array(n), scalar_or_array(d)


def budget_for_tokens(n_tokens, tokens_per_param=20):
    """Compute budget (FLOP) whose compute-optimal run trains on exactly n_tokens tokens.

    The inverse of :func:`compute_optimal`: D = r·N and C = 6·N·D give C = 6·D²/r. With the
    stock of public text (:data:`PUBLIC_TEXT_STOCK_TOKENS`) it is the budget past which a
    compute-optimal model runs out of human-written data. Accepts arrays.
    """
    d = positive("n_tokens", n_tokens, "tokens", array=True)
    r = positive("tokens_per_param", tokens_per_param, "tokens per parameter", maximum=1e6)
    with np.errstate(over="ignore"):
        c = 6 * np.asarray(d, dtype=float) ** 2 / r
    return scalar_or_array(finite_result(c, "the budget for these n_tokens (tokens)"))


#: Mishra et al. 2021 (NVIDIA, "Accelerating Sparse Deep Neural Networks", arXiv:2104.08378), abstract: Sparse
#: Tensor Cores run matmuls whose weights keep 2 of every 4 values at twice the dense math throughput. The
#: datasheets' "with sparsity" figures are this multiple (A100 624, H100 1,979 TFLOP/s BF16).
STRUCTURED_SPARSITY_SPEEDUP = 2.0
#: Datasheet rows with Sparse Tensor Cores (Ampere and later).
SPARSE_TENSOR_CORE_DEVICES = ("A100", "H100", "H200", "B200")


def sparse_peak_flops_per_s(device=DEFAULT_DEVICE):
    """Peak FLOP/s of ``device`` (a Device or datasheet name) on 2:4 structured-sparse matmuls: the dense
    peak (datasets/hardware.csv) × :data:`STRUCTURED_SPARSITY_SPEEDUP`. The FLOPs counted are the dense
    matmul's; half of them are skipped. ValueError for a device without Sparse Tensor Cores."""
    from ..core.devices import Device
    if isinstance(device, str):
        device = datasheet(text("device", device))
    device = instance("device", device, Device, "a Device (datasheet('H100')) or a datasheet name")
    if device.short_name.split()[0] not in SPARSE_TENSOR_CORE_DEVICES:
        raise ValueError(f"device {device.name!r} has no Sparse Tensor Cores: choose one of "
                         f"{', '.join(SPARSE_TENSOR_CORE_DEVICES)}")
    return STRUCTURED_SPARSITY_SPEEDUP * device.peak_flops_per_s


def plot_data_ceiling(table=None, tokens_per_param=20, ax=None):
    """Tokens a compute-optimal run needs against its budget, the published runs of datasets/models.csv,
    and the estimated stock of public human text (Villalobos et al. 2024) with its 90 % interval."""
    t = _models(table)
    r = positive("tokens_per_param", tokens_per_param, "tokens per parameter", maximum=1e6)
    fig, ax = new_axes(ax)
    budgets = np.logspace(20, 30, 41)
    ax.loglog(budgets, compute_optimal(budgets, r)[1], "-", color="C0",
              label=f"compute-optimal tokens ({r:g} per parameter)")
    ok = np.isfinite(t["training_flop"]) & np.isfinite(t["training_tokens"])
    ax.loglog(t["training_flop"][ok], t["training_tokens"][ok], "o", color="C2", label="published runs")
    low, high = PUBLIC_TEXT_STOCK_INTERVAL
    ax.axhspan(low, high, color="C1", alpha=0.2, label="stock of public human text, 90 % interval")
    ax.axhline(PUBLIC_TEXT_STOCK_TOKENS, color="C1", ls="--", label="stock, median estimate")
    ax.axvline(budget_for_tokens(PUBLIC_TEXT_STOCK_TOKENS, r), color="C1", linestyle=":")
    ax.set(xlabel="training compute (FLOP)", ylabel="training tokens", title="The data ceiling")
    ax.legend(loc="upper left", fontsize=8)
    return fig


def kaplan_view(total_flops, vocab_size=50257, n_positions=1024, aspect_ratio=64.0, **law):
    """The Chinchilla optimum seen through Kaplan et al.'s accounting (Pearce & Song 2024): returns
    ``(n_non_embedding, kaplan_flops)`` for each budget ``total_flops`` (FLOP, as Hoffmann et al. count it).

    The law's optimal N (all parameters, :func:`compute_optimal_law`; ``law``: its constants) is split into
    non-embedding parameters 12·L·d² and embeddings (vocab_size + n_positions)·d for a model of width d and
    d / L = ``aspect_ratio`` (Kaplan et al. found 40–100 equally good); Kaplan's compute counts only the
    former: 6·N_non-embedding·D. At small budgets embeddings are most of N, which bends a power law fitted
    to (kaplan_flops, n_non_embedding) above the law's own β/(α+β). Accepts arrays.
    """
    v = integer("vocab_size", vocab_size, minimum=1)
    positions = integer("n_positions", n_positions, minimum=0)
    aspect = positive("aspect_ratio", aspect_ratio, "d_model per layer", maximum=1e6)
    n, d_tokens = compute_optimal_law(total_flops, **law)
    n = np.asarray(n, dtype=float)
    a, b = 12.0 / aspect, float(v + positions)            # N = a·d³ + b·d, solved for d by Newton's method
    with np.errstate(over="ignore", invalid="ignore"):
        d = np.minimum(np.cbrt(n / a), n / b)
        for _ in range(60):
            d = d - (a * d**3 + b * d - n) / (3 * a * d**2 + b)
        non_embedding = a * d**3
        flops = 6 * non_embedding * np.asarray(d_tokens, dtype=float)
    finite_result([non_embedding, flops], "the non-embedding parameters", "total_flops", "vocab_size")
    if np.any(non_embedding <= 0):
        raise ValueError("total_flops is too small for a model with any non-embedding parameters")
    return scalar_or_array(non_embedding), scalar_or_array(flops)


def fit_power_law(x, y):
    """Least-squares fit of log y = log k + p·log x; returns (p, k) so that y ≈ k·x^p."""
    x = np.atleast_1d(positive("x", x, array=True, finite=True))
    y = np.atleast_1d(positive("y", y, array=True, finite=True))
    if x.ndim != 1 or y.ndim != 1 or x.shape != y.shape:
        raise ValueError(f"x and y must be 1-D and of the same length, got {x.size} and {y.size}")
    if x.size < 2 or np.ptp(np.log(x)) == 0:
        raise ValueError("fit_power_law needs at least two points with different x")
    p, log_k = np.polyfit(np.log(x), np.log(y), 1)
    with np.errstate(over="ignore"):
        k = np.exp(log_k)
    return float(p), float(finite_result(k, "the prefactor k of y = k·x^p (x and y span too many decades)"))


_SWEEP_KEYS = ("total_flops", "n_params", "n_tokens", "loss")


def _sweep(sweep):
    """A dict of equal-length arrays as :func:`simulate_isoflop_sweep` returns."""
    if not isinstance(sweep, dict) or not all(k in sweep for k in _SWEEP_KEYS):
        raise TypeError("sweep must be a dict of arrays with keys " + ", ".join(_SWEEP_KEYS)
                        + f" (what simulate_isoflop_sweep returns), got {type(sweep).__name__}")
    out = {k: np.atleast_1d(positive(f"sweep[{k!r}]", sweep[k], array=True)) for k in _SWEEP_KEYS}
    if len({v.shape for v in out.values()}) != 1 or out["loss"].ndim != 1:
        raise ValueError("sweep's arrays must be 1-D and of equal length")
    return out


def simulate_isoflop_sweep(budgets, n_sizes=9, span=30.0, noise=0.005, seed=0, **law):
    """A simulated IsoFLOP experiment (Hoffmann et al.'s Approach 2): for each compute budget, train
    ``n_sizes`` model sizes spread log-evenly over a factor ``span`` (> 1) around the law's optimum and
    record the final loss from :func:`chinchilla_loss` plus Gaussian noise (relative sd ``noise``, at
    most 0.1). Returns a dict of equal-length arrays: total_flops, n_params, n_tokens, loss. Seeded.
    """
    c = np.atleast_1d(positive("budgets", budgets, "FLOP", array=True))
    if c.ndim != 1 or c.size > 1000:
        raise ValueError(f"budgets must be a list of at most 1,000 compute budgets (FLOP), got shape {c.shape}")
    n_sizes = integer("n_sizes", n_sizes, minimum=3, maximum=10_000)
    span = positive("span", span)
    if span <= 1:
        raise ValueError(f"span must be a factor above 1 (the sizes spread over span around the optimum), got {span}")
    noise = nonnegative("noise", noise, "relative standard deviation", maximum=0.1)
    rng = np.random.default_rng(integer("seed", seed, minimum=0))
    centre, _ = compute_optimal_law(c, **law)
    factors = np.logspace(-0.5, 0.5, n_sizes) ** np.log10(span)
    n = (np.atleast_1d(centre)[:, None] * factors[None, :]).ravel()
    cc = np.repeat(c, n_sizes)
    with np.errstate(over="ignore", under="ignore"):
        n_tokens = cc / (6 * n)
    if np.any(n <= 0) or np.any(n_tokens <= 0) or not np.all(np.isfinite(n * n_tokens)):
        raise ValueError("the swept sizes fall out of range: use budgets of the course's range or a smaller span")
    loss = isoflop_loss(cc, n, **law) * (1 + noise * rng.standard_normal(n.size))
    return {"total_flops": cc, "n_params": n, "n_tokens": n_tokens, "loss": loss}


def isoflop_minima(sweep):
    """Approach 2: fit a parabola to loss vs log N for each budget of a sweep; returns (budgets, N*)."""
    sweep = _sweep(sweep)
    budgets = np.unique(sweep["total_flops"])
    best = []
    for c in budgets:
        mask = sweep["total_flops"] == c
        if np.unique(sweep["n_params"][mask]).size < 3:
            raise ValueError(f"sweep needs at least three model sizes at each budget ({c:.3g} FLOP has fewer)")
        a2, a1, _ = np.polyfit(np.log(sweep["n_params"][mask]), sweep["loss"][mask], 2)
        if a2 <= 0:
            raise ValueError(f"the losses of sweep at {c:.3g} FLOP do not curve upwards: widen the sweep or lower "
                             "the noise")
        with np.errstate(over="ignore"):
            best.append(np.exp(-a1 / (2 * a2)))
    return budgets, finite_result(np.array(best), "the best size of the sweep (its parabolas are too flat)")


# ---------------------------------------------------------------------------------------------
# Why one GPU is not enough: parallelism
# ---------------------------------------------------------------------------------------------
def min_devices(n_params, memory_bytes, bytes_per_param=16):
    """Fewest devices of ``memory_bytes`` each whose memory holds the training state alone (an integer,
    ≥ 1; ignores activations)."""
    n = positive("n_params", n_params, "parameters")
    mem = positive("memory_bytes", memory_bytes, "bytes")
    per = positive("bytes_per_param", bytes_per_param, "bytes per parameter")
    with np.errstate(over="ignore"):
        share = n * per / mem
    finite_result(share, "n_params × bytes_per_param / memory_bytes")
    return max(1, math.ceil(share - 1e-9))


def pipeline_bubble_fraction(n_stages, n_microbatches, interleave=1):
    """Share of a pipeline step lost to the fill-and-drain bubble: (p − 1)/(v·m + p − 1) for p stages,
    m micro-batches per step and v interleaved chunks per device (Narayanan et al. 2021)."""
    p = integer("n_stages", n_stages, minimum=1)
    m = integer("n_microbatches", n_microbatches, minimum=1)
    v = integer("interleave", interleave, minimum=1)
    return (p - 1) / (v * m + p - 1)


def data_parallel_bytes(n_params, data_parallel, grad_bytes=2, zero_stage=0):
    """Bytes each device sends per step to synchronize gradients over ``data_parallel`` replicas.

    A ring all-reduce of Ψ·grad_bytes sends 2·(n−1)/n of it; ZeRO stages 1 and 2 cost the same
    (reduce-scatter + all-gather), stage 3 adds one more all-gather of the weights: 1.5× (ZeRO §7).
    """
    n = positive("n_params", n_params, "parameters", array=True)
    dp = integer("data_parallel", data_parallel, minimum=1)
    grad_bytes = nonnegative("grad_bytes", grad_bytes, "bytes per value")
    stage = integer("zero_stage", zero_stage, minimum=0, maximum=3)
    factor = 3.0 if stage == 3 else 2.0
    with np.errstate(over="ignore", invalid="ignore"):
        out = factor * (dp - 1) / dp * n * grad_bytes
    return scalar_or_array(finite_result(out, "the bytes sent (n_params × grad_bytes)"))


def tensor_parallel_bytes(micro_batch_size, seq_len, d_model, n_layers, tensor_parallel, bytes_per_value=2):
    """Bytes each device sends per micro-batch for Megatron tensor parallelism over ``n_layers`` layers:
    4 all-reduces of b·s·h values per layer (2 forward, 2 backward), each a ring: 2·(t−1)/t."""
    b = integer("micro_batch_size", micro_batch_size, minimum=1)
    s = positive("seq_len", seq_len, "tokens")
    h = integer("d_model", d_model, minimum=1)
    layers = integer("n_layers", n_layers, minimum=1)
    t = integer("tensor_parallel", tensor_parallel, minimum=1)
    nbytes = positive("bytes_per_value", bytes_per_value, "bytes")
    with np.errstate(over="ignore", invalid="ignore"):
        out = 4 * layers * 2.0 * (t - 1) / t * b * s * h * nbytes
    return float(finite_result(out, "the bytes sent (micro_batch_size × seq_len × d_model × n_layers × "
                                    "bytes_per_value)"))


def pipeline_parallel_bytes(micro_batch_size, seq_len, d_model, bytes_per_value=2):
    """Bytes a pipeline stage sends per micro-batch: its output activations forward and their
    gradients backward, 2·b·s·h values (0 for the last stage's forward, ignored here)."""
    b = integer("micro_batch_size", micro_batch_size, minimum=1)
    s = positive("seq_len", seq_len, "tokens")
    h = integer("d_model", d_model, minimum=1)
    nbytes = positive("bytes_per_value", bytes_per_value, "bytes")
    with np.errstate(over="ignore", invalid="ignore"):
        out = 2.0 * b * s * h * nbytes
    return float(finite_result(out, "the bytes sent (micro_batch_size × seq_len × d_model × bytes_per_value)"))


@dataclass
class ParallelPlan:
    """What a (tensor, pipeline, data, ZeRO) layout costs per device for one training step."""
    tensor_parallel: int
    pipeline_parallel: int
    data_parallel: int
    zero_stage: int
    n_devices: int
    n_microbatches: int
    memory: MemoryBreakdown
    memory_bytes: float
    bubble_fraction: float
    tp_bytes_per_step: float
    pp_bytes_per_step: float
    dp_bytes_per_step: float
    #: The model and batch the layout was costed for (what plan_step_time passes on to step_time).
    workload: dict = None

    @property
    def fits(self):
        """True when the memory per device is within the device's memory (``memory_bytes``)."""
        return bool(self.memory.total <= self.memory_bytes)

    def summary(self):
        return (f"t={self.tensor_parallel} p={self.pipeline_parallel} d={self.data_parallel} "
                f"ZeRO-{self.zero_stage} on {self.n_devices} devices: "
                f"{u.fmt_bytes(self.memory.total)} per device of {u.fmt_bytes(self.memory_bytes)} "
                f"({'fits' if self.fits else 'does NOT fit'}), bubble {self.bubble_fraction:.1%}, "
                f"per step sends TP {u.fmt_bytes(self.tp_bytes_per_step)}, PP {u.fmt_bytes(self.pp_bytes_per_step)}, "
                f"DP {u.fmt_bytes(self.dp_bytes_per_step)}")

    def __str__(self):
        return self.summary()


# GPUs per NVLink node and the links of datasets/interconnects.csv that plan_overhead prices traffic at:
# one home, the step model's (training_step imports nothing from this package at load time).
from .training_step import GPUS_PER_NODE, INTER_NODE_LINK, INTRA_NODE_LINK  # noqa: E402


def link_bandwidth(name):
    """Per-GPU bandwidth (bytes/s) of a link of datasets/interconnects.csv, by its exact name."""
    from ..data import load
    from ..core.validate import text
    rows = load("interconnects").where(name=text("name", name))
    if len(rows) != 1:
        raise ValueError(f"no link named {name!r} in interconnects.csv")
    return float(rows["bandwidth_bytes_per_s"][0])


def plan_overhead(plan, compute_time, intra_bandwidth_bytes_per_s=None, inter_bandwidth_bytes_per_s=None,
                  gpus_per_node=GPUS_PER_NODE):
    """Seconds a parallel layout adds to each step's ``compute_time`` (s), by cause, nothing overlapped:
    ``{"bubble", "tensor", "pipeline", "data"}``. A first, pessimistic estimate (every byte at line rate,
    nothing hidden); :func:`plan_step_time` is the chapter's step model.

    The pipeline bubble idles compute · b/(1 − b) (b = ``plan.bubble_fraction``); each GPU's tensor-,
    pipeline- and data-parallel bytes per step cross NVLink while their group stays in one node of
    ``gpus_per_node`` GPUs, the network once it spans nodes (GPUs numbered tensor-fastest, Megatron's
    order). Bandwidths default to :data:`INTRA_NODE_LINK` and :data:`INTER_NODE_LINK` from interconnects.csv.
    A first estimate: real systems overlap much of the traffic with compute (chapter 03).
    """
    plan = instance("plan", plan, ParallelPlan, "a ParallelPlan from plan_parallelism()")
    compute = nonnegative("compute_time", compute_time, "s")
    nvlink = link_bandwidth(INTRA_NODE_LINK) if intra_bandwidth_bytes_per_s is None else \
        positive("intra_bandwidth_bytes_per_s", intra_bandwidth_bytes_per_s, "bytes/s")
    network = link_bandwidth(INTER_NODE_LINK) if inter_bandwidth_bytes_per_s is None else \
        positive("inter_bandwidth_bytes_per_s", inter_bandwidth_bytes_per_s, "bytes/s")
    node = integer("gpus_per_node", gpus_per_node, minimum=1, maximum=1024)
    t, p, d, b = plan.tensor_parallel, plan.pipeline_parallel, plan.data_parallel, plan.bubble_fraction

    def link(group):
        return nvlink if group <= node else network

    parts = {"bubble": compute * b / (1 - b), "tensor": plan.tp_bytes_per_step / link(t),
             "pipeline": plan.pp_bytes_per_step / link(t * p), "data": plan.dp_bytes_per_step / link(t * p * d)}
    finite_result(list(parts.values()), "the overhead", "compute_time")
    return parts


def plan_parallelism(n_params, n_layers, d_model, n_heads, seq_len, global_batch_size, micro_batch_size=1,
                     tensor_parallel=1, pipeline_parallel=1, data_parallel=1, zero_stage=0,
                     recompute="selective", sequence_parallel=True, memory_bytes=None):
    """Cost a 3D-parallel layout: memory per device, pipeline bubble, bytes sent per step and device.

    global_batch_size sequences per step are split over data_parallel replicas in micro-batches of
    micro_batch_size: m = global_batch_size / (data_parallel · micro_batch_size) micro-batches flow through
    the pipeline. ``memory_bytes``: each device's memory (default None: an H100's, from
    ``datasheet("H100").memory_bytes``, 80 GB). Assumes an even split of layers and parameters,
    mixed-precision Adam, 1F1B scheduling. :data:`LLAMA3_70B_PLAN` is the chapter's example.
    """
    n_params = positive("n_params", n_params, "parameters")
    n_layers = integer("n_layers", n_layers, minimum=1)
    d_model = integer("d_model", d_model, minimum=1)
    n_heads = integer("n_heads", n_heads, minimum=1)
    seq_len = positive("seq_len", seq_len, "tokens")
    gb = integer("global_batch_size", global_batch_size, minimum=1)
    b = integer("micro_batch_size", micro_batch_size, minimum=1)
    t = integer("tensor_parallel", tensor_parallel, minimum=1)
    p = integer("pipeline_parallel", pipeline_parallel, minimum=1)
    dp = integer("data_parallel", data_parallel, minimum=1)
    zero_stage = integer("zero_stage", zero_stage, minimum=0, maximum=3)
    choice("recompute", recompute, RECOMPUTE)
    sequence_parallel = flag("sequence_parallel", sequence_parallel)
    memory_bytes = (datasheet(DEFAULT_DEVICE).memory_bytes if memory_bytes is None
                    else positive("memory_bytes", memory_bytes, "bytes"))
    if n_layers % p:
        raise ValueError(f"n_layers ({n_layers}) must divide evenly over pipeline_parallel ({p}) stages")
    if gb % (dp * b):
        raise ValueError(f"global_batch_size ({gb}) must be a multiple of data_parallel × micro_batch_size "
                         f"({dp} × {b})")
    if n_heads % t:
        raise ValueError(f"n_heads ({n_heads}) must divide evenly over tensor_parallel ({t})")
    m = gb // (dp * b)
    memory = memory_breakdown(n_params, zero_stage, dp, t, p, seq_len=seq_len, micro_batch_size=b,
                              d_model=d_model, n_layers=n_layers, n_heads=n_heads, recompute=recompute,
                              sequence_parallel=sequence_parallel)
    return ParallelPlan(
        tensor_parallel=t, pipeline_parallel=p, data_parallel=dp, zero_stage=zero_stage, n_devices=t * p * dp,
        n_microbatches=m, memory=memory, memory_bytes=memory_bytes,
        bubble_fraction=pipeline_bubble_fraction(p, m),
        tp_bytes_per_step=m * tensor_parallel_bytes(b, seq_len, d_model, n_layers // p, t) if t > 1 else 0.0,
        pp_bytes_per_step=m * pipeline_parallel_bytes(b, seq_len, d_model // t if sequence_parallel else d_model)
        if p > 1 else 0.0,
        dp_bytes_per_step=float(data_parallel_bytes(n_params / (t * p), dp, zero_stage=zero_stage)),
        workload=dict(n_params=n_params, n_layers=n_layers, d_model=d_model, seq_len=seq_len, global_batch_size=gb,
                      micro_batch_size=b, recompute=recompute),
    )


def plan_step_time(plan, **options):
    """:func:`step_time` of a :class:`ParallelPlan`'s layout: seconds per step, MFU and the bottleneck.

    ``options`` are step_time's keyword options (``device``, ``matmul_efficiency``, ``interleave``, the
    bandwidths, ``overlap`` …); the model, batch and layout come from the plan. Sequence parallelism is
    assumed (step_time's memory and traffic model)."""
    plan = instance("plan", plan, ParallelPlan, "a ParallelPlan from plan_parallelism()")
    if not plan.workload:
        raise ValueError("plan has no workload: make it with plan_parallelism()")
    return step_time(data_parallel=plan.data_parallel, tensor_parallel=plan.tensor_parallel,
                     pipeline_parallel=plan.pipeline_parallel, zero_stage=plan.zero_stage,
                     **{**plan.workload, **options})


# ---------------------------------------------------------------------------------------------
# Recurrence versus attention: a measured demonstration
# ---------------------------------------------------------------------------------------------
#: Bounds of the measured demonstration (so a call cannot run for hours): tokens per sequence, width.
_MAX_DEMO_SEQ_LEN, _MAX_DEMO_D_MODEL = 16_384, 1024


def time_sequential_vs_parallel(seq_lens=(32, 64, 128, 256, 512, 1024), d_model=64, repeats=3, seed=0):
    """Measure, on this machine, the same arithmetic done two ways over a sequence of seq_len tokens:

    - recurrent: h_t = tanh(W·h_(t−1) + x_t), a loop of seq_len *dependent* matrix-vector steps (an RNN);
    - parallel: tanh(X·Wᵀ + X) for all tokens in one matrix product, as a transformer's per-token
      projections are computed (no step waits for another).

    Both do 2·seq_len·d² FLOP, with numpy's single-threaded einsum (not the multi-threaded BLAS, whose
    timings swing wildly on a shared machine). Returns a dict of arrays: seq_len, flop, recurrent_s,
    parallel_s (best of ``repeats``), sequential_steps (seq_len for the recurrence, 1 for the product).
    On one CPU core the product wins by a few times (one call instead of seq_len); on a GPU with
    thousands of cores the dependent steps leave almost all of them idle, and the gap is far larger.
    """
    lens = np.atleast_1d(counts("seq_lens", seq_lens, minimum=1, maximum=_MAX_DEMO_SEQ_LEN)).astype(int)
    if lens.ndim != 1 or lens.size > 32:
        raise ValueError(f"seq_lens must be a list of at most 32 sequence lengths, got shape {lens.shape}")
    d = integer("d_model", d_model, minimum=1, maximum=_MAX_DEMO_D_MODEL)
    repeats = integer("repeats", repeats, minimum=1, maximum=100)
    rng = np.random.default_rng(integer("seed", seed, minimum=0))
    w = rng.standard_normal((d, d)) / np.sqrt(d)
    recurrent, parallel = [], []
    for s in lens:
        x = rng.standard_normal((int(s), d))
        recurrent.append(_best_time(lambda: _recurrent(x, w), repeats))
        parallel.append(_best_time(lambda: np.tanh(np.einsum("ij,tj->ti", w, x) + x), repeats))
    return {"seq_len": lens, "flop": 2.0 * lens * d * d, "recurrent_s": np.array(recurrent),
            "parallel_s": np.array(parallel), "sequential_steps": lens.copy()}


def _recurrent(x, w):
    h = np.zeros(x.shape[1])
    for x_t in x:                       # each step needs the previous one: no parallelism across time
        h = np.tanh(np.einsum("ij,j->i", w, h) + x_t)
    return h


def _best_time(fn, repeats):
    best = math.inf
    for _ in range(repeats):
        start = time.perf_counter()
        fn()
        best = min(best, time.perf_counter() - start)
    return best


# ---------------------------------------------------------------------------------------------
# Plots (matplotlib is imported lazily so that `import labkit.scaling` stays fast)
# ---------------------------------------------------------------------------------------------
_RESULT_KEYS = ("seq_len", "recurrent_s", "parallel_s")


def plot_sequential_vs_parallel(result, ax=None):
    """Measured time of the recurrent loop versus the one-product version (same FLOPs), by sequence length
    (``result``: what :func:`time_sequential_vs_parallel` returns)."""
    if not isinstance(result, dict) or not all(k in result for k in _RESULT_KEYS):
        raise TypeError("result must be the dict time_sequential_vs_parallel returns (keys "
                        + ", ".join(_RESULT_KEYS) + f"), got {type(result).__name__}")
    s, rec, par = (np.atleast_1d(positive(f"result[{k!r}]", result[k], array=True)) for k in _RESULT_KEYS)
    if not s.shape == rec.shape == par.shape or s.ndim != 1:
        raise ValueError("result's arrays must be 1-D and of equal length")
    fig, ax = new_axes(ax)
    ax.loglog(s, rec * 1e3, "o-", label="recurrent: seq_len dependent steps")
    ax.loglog(s, par * 1e3, "s-", label="parallel: one matrix product")
    ax.set(xlabel="sequence length (tokens)", ylabel="time on this machine (ms)",
           title="Same FLOPs, different dependency structure")
    plain_log_labels(ax.xaxis, ax.yaxis)
    ax.legend(loc="upper left")
    return fig


def _models(table):
    """datasets/models.csv, or the given table of the same columns."""
    from ..data import Table, load
    if table is None:
        return load("models")
    return instance("table", table, Table, "a Table such as labkit.data.load('models')")


def _since(since):
    return number("since", since, "year", minimum=1900, maximum=2100)


def _enough(ok, since, what):
    if np.count_nonzero(ok) < 2:
        raise ValueError(f"since ({since:g}) leaves fewer than two {what} to fit: choose an earlier year")
    return ok


def compute_trend(table=None, since=2010):
    """Exponential fit of training compute (datasets/models.csv, years ≥ ``since``) against year:
    a :class:`labkit.core.trend.Trend` (``doubling_years``, ``factor_per_year``, ``predict``)."""
    t, since = _models(table), _since(since)
    ok = _enough(np.isfinite(t["training_flop"]) & (t["year"] >= since), since, "models with a training compute")
    return fit_trend(t["year"][ok], t["training_flop"][ok])


def gpu_peak_trend(since=2010):
    """Exponential fit of single-GPU peak FLOP/s (chapter 01's datasets/hardware.csv, kind "gpu",
    years ≥ ``since``; fp32 before tensor cores, fp16/bf16 after) — a :class:`labkit.core.trend.Trend`."""
    since = _since(since)
    t = load_hardware().where(kind="gpu")
    ok = _enough(t["year"] >= since, since, "GPUs")
    return fit_trend(t["year"][ok], t["peak_flops_per_s"][ok])


_LABELLED_MODELS = ("AlexNet", "Transformer (big)", "BERT-Large", "GPT-3", "PaLM", "LLaMA-65B", "Llama 3.1 405B",
                    "T5-11B", "BLOOM")


def _label(ax, x, y, text, x_mid):
    """Annotate a point, to its right in the left half of the plot and to its left in the right half."""
    right = x >= x_mid
    ax.annotate(text, (x, y), fontsize=7, xytext=(-6 if right else 6, -3), textcoords="offset points",
                ha="right" if right else "left")


def plot_compute_trend(table=None, since=2010, ax=None):
    """Training compute of notable models (datasets/models.csv) against year, with the fitted trend
    since ``since`` and, for comparison, the single-GPU peak trend of chapter 01 started at the same point."""
    t, since = _models(table), _since(since)
    fit, gpu = compute_trend(t, since), gpu_peak_trend(since)
    fig, ax = new_axes(ax, figsize=(8, 4.6))
    ok = np.isfinite(t["training_flop"]) & (t["year"] >= since)
    years, flop, names = t["year"][ok], t["training_flop"][ok], t["model"][ok]
    ax.semilogy(years, flop, "o", color="C0", label="training compute of a notable model")
    for y, f, name in zip(years, flop, names):
        if name in _LABELLED_MODELS:
            _label(ax, y, f, name, np.mean([years.min(), years.max()]))
    span = np.linspace(years.min(), years.max(), 30)
    ax.semilogy(span, fit.predict(span), "--", color="C0",
                label=f"fit: ×{fit.factor_per_year:.1f}/year (doubles in {fit.doubling_years * 12:.1f} months)")
    scale = fit.predict(span[0]) / gpu.predict(span[0])
    ax.semilogy(span, scale * gpu.predict(span), ":", color="C1",
                label=f"one GPU's peak FLOP/s, same start: ×{gpu.factor_per_year:.2f}/year "
                      f"(doubles in {gpu.doubling_years * 12:.0f} months)")
    ax.set(xlabel="year", ylabel="training compute (FLOP)", title="Training compute outgrew the chip")
    plain_log_labels(ax.yaxis)
    ax.legend(loc="lower right", fontsize=8)
    return fig


def plot_cluster_growth(table=None, since=2010, ax=None):
    """Accelerators used per training run (datasets/models.csv, years ≥ ``since``) against year."""
    t, since = _models(table), _since(since)
    ok = _enough(np.isfinite(t["n_devices"]) & (t["year"] >= since), since, "models with a device count")
    fig, ax = new_axes(ax)
    years = t["year"][ok]
    ax.semilogy(years, t["n_devices"][ok], "o", color="C2")
    for y, n, name, hw in zip(years, t["n_devices"][ok], t["model"][ok], t["hardware"][ok]):
        if name in _LABELLED_MODELS:
            _label(ax, y, n, f"{name}: {n:,.0f} {hw}", np.mean([years.min(), years.max()]))
    ax.set(xlabel="year", ylabel="accelerators in the training run", title="The gap is filled by clusters")
    plain_log_labels(ax.yaxis)
    return fig


def plot_growth(table=None, since=2010):
    """Side by side: :func:`plot_compute_trend` and :func:`plot_cluster_growth` (one figure, cheaper to draw)."""
    t, since = _models(table), _since(since)
    import matplotlib.pyplot as plt
    fig, (left, right) = plt.subplots(1, 2, figsize=(13, 4.6))
    try:
        plot_compute_trend(t, since, ax=left)
        plot_cluster_growth(t, since, ax=right)
    except Exception:
        plt.close(fig)
        raise
    fig.tight_layout()
    return fig


def plot_isoflop(budgets=(1e19, 1e20, 1e21, 1e22, 1e23, 1e24), sweep=None, ax=None, **law):
    """Loss against model size at fixed compute (IsoFLOP curves of the Chinchilla law), with the optimum
    of each curve; dots from a simulated ``sweep`` (:func:`simulate_isoflop_sweep`) if given."""
    budgets = np.atleast_1d(positive("budgets", budgets, "FLOP", array=True))
    if budgets.ndim != 1 or budgets.size > 20:
        raise ValueError(f"budgets must be a list of at most 20 compute budgets (FLOP), got shape {budgets.shape}")
    sweep = None if sweep is None else _sweep(sweep)
    n_opt, _ = compute_optimal_law(budgets, **law)
    curves = [(c, n_opt[i] * np.logspace(-1.3, 1.3, 120)) for i, c in enumerate(budgets)]
    losses = [isoflop_loss(c, n, **law) for c, n in curves]          # validated before anything is drawn
    fig, ax = new_axes(ax)
    for i, ((c, n), loss) in enumerate(zip(curves, losses)):
        ax.semilogx(n, loss, color=f"C{i % 10}", ls=LINESTYLES[i % len(LINESTYLES)], label=f"{c:.0e} FLOP")
        ax.semilogx([n_opt[i]], [isoflop_loss(c, n_opt[i], **law)], "k*", ms=8)
        if sweep is not None:
            m = sweep["total_flops"] == c
            ax.semilogx(sweep["n_params"][m], sweep["loss"][m], "o", color=f"C{i % 10}", ms=4)
    ax.set(xlabel="parameters N (with D = C / 6N tokens)", ylabel="predicted loss (nats/token)",
           title="IsoFLOP curves: each budget has a best model size (★)")
    plain_log_labels(ax.xaxis)
    ax.legend(fontsize=7, loc="upper right")
    return fig


_PARTS = ("weights", "gradients", "optimizer", "activations")


def plot_memory_breakdown(breakdowns, memory_bytes=None, ax=None):
    """Stacked bars of memory per device (GB) for each labelled :class:`MemoryBreakdown`
    (``breakdowns``: a dict label -> MemoryBreakdown), with a dashed line at ``memory_bytes`` if given."""
    if not isinstance(breakdowns, dict) or not breakdowns or not all(
            isinstance(b, MemoryBreakdown) for b in breakdowns.values()):
        raise TypeError("breakdowns must be a non-empty dict of label -> MemoryBreakdown (from memory_breakdown), "
                        f"got {type(breakdowns).__name__}")
    if memory_bytes is not None:
        memory_bytes = positive("memory_bytes", memory_bytes, "bytes")
    labels = [str(k) for k in breakdowns]
    heights = {part: np.array([float(np.sum(getattr(b, part))) for b in breakdowns.values()]) / u.GB
               for part in _PARTS}
    finite_result(sum(heights.values()), "the memory of breakdowns")
    fig, ax = new_axes(ax)
    bottom = np.zeros(len(labels))
    for i, part in enumerate(_PARTS):
        if np.any(heights[part] > 0):
            ax.bar(labels, heights[part], bottom=bottom, label=part, color=f"C{i}", hatch=HATCHES[i],
                   edgecolor="white", linewidth=0)          # a hatch per part: not told apart by colour alone
        bottom += heights[part]
    if memory_bytes is not None:
        ax.axhline(memory_bytes / u.GB, color="k", ls="--", lw=1)
        ax.text(len(labels) - 0.5, memory_bytes / u.GB, f" {u.fmt_bytes(memory_bytes)} per device",
                va="bottom", ha="right", fontsize=8)
    ax.set(ylabel="memory per device (GB)")
    ax.legend(fontsize=8)
    return fig


def plot_pipeline_bubble(stages=(2, 4, 8, 16, 32), max_microbatches=128, ax=None):
    """Bubble fraction (p − 1)/(m + p − 1) against micro-batches m, one curve per stage count p
    (``stages``: a list of stage counts)."""
    stages = [integer("stages", p, minimum=1, maximum=100_000) for p in sequence("stages", stages, maximum=20)]
    m = np.arange(1, integer("max_microbatches", max_microbatches, minimum=1, maximum=1_000_000) + 1)
    fig, ax = new_axes(ax)
    for p in stages:
        ax.semilogx(m, (p - 1) / (m + p - 1), label=f"p = {p} stages")
    ax.set(xlabel="micro-batches per step m", ylabel="share of time idle (bubble)",
           title="Pipeline bubble: more micro-batches hide the fill and drain")
    plain_log_labels(ax.xaxis)
    ax.legend()
    return fig


# ---------------------------------------------------------------------------------------------
# The chapter's explorer: model size, tokens and cluster → days, memory per GPU, fits or not
# ---------------------------------------------------------------------------------------------
#: The explorer's sharding choices: label -> ZeRO stage.
ZERO_STAGES = {"ZeRO-0 (plain data parallel)": 0, "ZeRO-1 (shard optimizer)": 1,
               "ZeRO-2 (+ gradients)": 2, "ZeRO-3 (+ weights)": 3}

#: Fixed axis ranges of the explorer, wide enough for its sliders (so ticks never change between moves).
_MEMORY_RANGE_GB = (1e-2, 1e5)           # 10 MB to 100 TB of training state per GPU
_DEVICE_RANGE = (1, 10**5.5)
_DAYS_RANGE = (1e-2, 1e6)                # a quarter of an hour to ~2,700 years
_CURVE_DEVICES = np.logspace(0, 5.5, 30)
#: The explorer's slider ranges.
_N_PARAMS_RANGE, _N_TOKENS_RANGE, _N_DEVICES_RANGE, _MFU_RANGE = (1e8, 2e12), (1e10, 1e14), (1, 100_000), (0.05, 0.8)


def _build_training_run(fig):
    """The explorer's two panels with fixed limits and empty artists; returns the artists a move changes.

    Text is what costs most in a redraw (each glyph is rendered anew), so labels are short, ticks few,
    and the top and right spines are left out.
    """
    fig.subplots_adjust(left=0.1, right=0.98, bottom=0.13, top=0.96, wspace=0.25)
    ax_mem, ax_time = fig.subplots(1, 2, gridspec_kw={"width_ratios": [1, 1.4]})
    log_axis(ax_mem, "y", ticks=[1e-2, 1, 1e2, 1e4], plain=True)
    bars = ax_mem.bar(np.arange(4), np.ones(4), linewidth=2)
    capacity = ax_mem.axhline(1.0, color="k", ls="--", lw=1)
    capacity_label = ax_mem.text(3.6, 1.0, "", ha="right", va="bottom", fontsize=8,
                                 bbox=dict(fc="white", ec="none", alpha=0.8, pad=1))
    ax_mem.set(xlim=(-0.6, 3.6), ylim=_MEMORY_RANGE_GB, xticks=np.arange(4),
               xticklabels=["ZeRO-0", "1", "2", "3"], ylabel="GB per GPU")
    curve, = ax_time.plot(_CURVE_DEVICES, _CURVE_DEVICES, color="C0")
    point, = ax_time.plot([1], [1], "o", ms=8, mew=2, clip_on=False)
    ax_time.axhline(30, color="grey", ls=":", lw=1)
    ax_time.text(_DEVICE_RANGE[1], 30, "a month", ha="right", va="bottom", fontsize=8, color="grey")
    ax_time.set(xlim=_DEVICE_RANGE, ylim=_DAYS_RANGE, xlabel="GPUs", ylabel="days to train")
    log_axis(ax_time, "x", ticks=[1, 1e2, 1e4], plain=True)
    log_axis(ax_time, "y", ticks=[1e-2, 1, 1e2, 1e4], plain=True)
    for ax, label_x in ((ax_mem, -0.18), (ax_time, -0.13)):
        ax.set_autoscale_on(False)
        ax.yaxis.set_label_coords(label_x, 0.5)   # placed, not fitted around the tick labels each draw
        ax.xaxis.set_label_coords(0.5, -0.1)
        ax.spines[["top", "right"]].set_visible(False)
    return dict(bars=bars, capacity=capacity, capacity_label=capacity_label, curve=curve, point=point)


def _update_training_run(h, n_params, n_tokens, gpu, n_devices, mfu, zero_stage):
    """Left, memory per GPU for each ZeRO stage (green fits, red and hatched does not; the chosen stage
    outlined; dashed: the GPU's memory); right, days to train against cluster size (the dot: your cluster,
    hollow when it does not fit; a triangle on the edge when it lies off the fixed scale). Returns the
    one-line readout.

    Memory is the training state (mixed-precision Adam) sharded over all n_devices data-parallel replicas;
    activations come on top.
    """
    device = training_gpus()[gpu]
    n_devices = int(round(n_devices))
    flops = float(training_flops(n_params, n_tokens))
    parts = [memory_breakdown(n_params, s, n_devices) for s in range(4)]
    memory_gb = device.memory_bytes / u.GB
    low = _MEMORY_RANGE_GB[0] * 1.5                    # a stub stays visible below the scale
    for s, (bar, part) in enumerate(zip(h["bars"], parts)):
        bar.set_height(max(part.total / u.GB, low))
        fits_here = part.total <= device.memory_bytes
        bar.set_facecolor("C2" if fits_here else "C3")
        bar.set_hatch("" if fits_here else "xx")     # red and hatched (a hatch takes the edge colour)
        bar.set_edgecolor("k" if s == zero_stage else "white")
        bar.set_linewidth(2 if s == zero_stage else 0)
    h["capacity"].set_ydata([memory_gb, memory_gb])
    h["capacity_label"].set_y(memory_gb)
    h["capacity_label"].set_text(f"{memory_gb:,.0f} GB")
    days = training_time(flops, _CURVE_DEVICES, device.peak_flops_per_s, mfu) / u.DAY
    here = float(training_time(flops, n_devices, device.peak_flops_per_s, mfu)) / u.DAY
    fits = parts[zero_stage].total <= device.memory_bytes
    h["curve"].set_ydata(days)
    lo, hi = _DAYS_RANGE
    shown = min(max(here, lo), hi)
    h["point"].set_data([n_devices], [shown])
    h["point"].set_marker("o" if shown == here else ("^" if here > hi else "v"))
    h["point"].set_color("C2" if fits else "C3")
    h["point"].set_markerfacecolor("C2" if fits else "white")   # hollow when it does not fit: not colour alone
    verdict = "fits" if fits else "does NOT fit: shard more (ZeRO-3) or split the model (tensor/pipeline)"
    return (f"{n_params / 1e9:,.3g}B params × {n_tokens / 1e12:,.3g}T tokens = {u.fmt_flops(flops)}; "
            f"{n_devices:,} × {gpu} at {mfu:.0%} MFU → {here:,.3g} days; "
            f"ZeRO-{zero_stage} training state per GPU {u.fmt_bytes(parts[zero_stage].total)} of "
            f"{u.fmt_bytes(device.memory_bytes)} (activations come on top) → {verdict}")


def training_run_explorer(n_params=70e9, n_tokens=1.4e12, gpu="H100 SXM", n_devices=1024, mfu=0.4, zero_stage=3):
    """The chapter's explorer: how long a training run takes and whether its state fits in GPU memory.

    Sliders for model size (``n_params``), ``n_tokens``, cluster size (``n_devices``) and ``mfu``; dropdowns
    for the GPU (``gpu``: a short name from :func:`labkit.core.devices.training_gpus`, e.g. "H100 SXM")
    and the ZeRO stage (``zero_stage``, 0–3). Returns the :class:`labkit.core.explore.Explorer`.
    """
    from ..core.explore import dropdown, explorer, slider
    n_params = number("n_params", n_params, "parameters", minimum=_N_PARAMS_RANGE[0], maximum=_N_PARAMS_RANGE[1])
    n_tokens = number("n_tokens", n_tokens, "tokens", minimum=_N_TOKENS_RANGE[0], maximum=_N_TOKENS_RANGE[1])
    gpus = list(training_gpus())
    choice("gpu", gpu, gpus)
    n_devices = number("n_devices", n_devices, "devices", minimum=_N_DEVICES_RANGE[0], maximum=_N_DEVICES_RANGE[1])
    mfu = number("mfu", mfu, "fraction", minimum=_MFU_RANGE[0], maximum=_MFU_RANGE[1])
    zero_stage = integer("zero_stage", zero_stage, minimum=0, maximum=3)
    return explorer(_build_training_run, _update_training_run, title="How long, and does it fit?", figsize=(9, 4),
                    n_params=slider(n_params, *_N_PARAMS_RANGE, None, "parameters", log=True),
                    n_tokens=slider(n_tokens, *_N_TOKENS_RANGE, None, "training tokens", log=True),
                    gpu=dropdown(gpu, gpus, "GPU"),
                    n_devices=slider(n_devices, *_N_DEVICES_RANGE, None, "GPUs", log=True),
                    mfu=slider(mfu, *_MFU_RANGE, 0.05, "MFU"),
                    zero_stage=dropdown(zero_stage, ZERO_STAGES, "sharding"))


# ---------------------------------------------------------------------------------------------
# The package's other models (one module per idea), re-exported
# ---------------------------------------------------------------------------------------------
from .training_step import (ADAM_MIXED_PRECISION, MATMUL_EFFICIENCY, MEASURED_MATMUL_EFFICIENCY, UNMEASURED_MATMUL_EFFICIENCY,  # noqa: E402,F401
                            SUSTAINED_MATMUL_EFFICIENCY, StepTime, measured_matmul_efficiency, plot_step_breakdown,
                            step_time, sustained_matmul_efficiency)
from .moe import DEEPSEEK_V3, MIXTRAL_8X7B, MIXTRAL_8X7B_PUBLISHED, moe_params  # noqa: E402,F401
