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

import functools
import math
import time
from dataclasses import dataclass

import numpy as np

from . import units as u
from .core.validate import choice, fraction, integer, nonnegative, number, positive

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

#: Mixed-precision Adam (ZeRO paper §3.1): fp16 weights 2 + fp16 gradients 2 + fp32 master/momentum/variance 12.
ADAM_MIXED_PRECISION = dict(weight_bytes=2, grad_bytes=2, optimizer_bytes=12)


@dataclass(frozen=True)
class Accelerator:
    """A training accelerator: dense 16-bit peak (FLOP/s) and memory (bytes), with its source."""
    name: str
    peak_flops_per_s: float
    memory_bytes: float
    source: str


# The chapter's accelerators: our short name -> the row of datasets/hardware.csv (the cited source
# of their dense BF16/FP16 tensor peaks and memory). Read lazily: ``import labkit.scaling`` stays fast.
_ACCELERATOR_ROWS = {
    "V100 32GB": "NVIDIA V100 SXM2",
    "A100 80GB": "NVIDIA A100 SXM 80GB",
    "H100 80GB": "NVIDIA H100 SXM",
    "H200 141GB": "NVIDIA H200 SXM",
    "B200 192GB": "NVIDIA B200",
}


@functools.lru_cache(maxsize=1)
def _accelerators():
    from .hardware import datasheet
    rows = {name: datasheet(row) for name, row in _ACCELERATOR_ROWS.items()}
    return {name: Accelerator(name, m.peak_flops_per_s, m.memory_bytes, m.source) for name, m in rows.items()}


def __getattr__(name):
    # ACCELERATORS: {name: Accelerator}, dense peaks (not sparse headlines), from datasets/hardware.csv
    # on first use.
    if name == "ACCELERATORS":
        return _accelerators()
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def accelerator(name):
    """The :class:`Accelerator` called ``name`` (one of ``ACCELERATORS``: V100 32GB, A100 80GB,
    H100 80GB, H200 141GB, B200 192GB), with its figures from datasets/hardware.csv."""
    accelerators = _accelerators()
    return accelerators[choice("name", name, list(accelerators))]


# ---------------------------------------------------------------------------------------------
# Counting parameters and FLOPs
# ---------------------------------------------------------------------------------------------
def transformer_params(n_layers, d_model, vocab_size, d_ff=None, n_heads=None, n_kv_heads=None,
                       gated_ffn=False, tied_embeddings=True, n_positions=0, biases=True, norm="layernorm"):
    """Parameters of a decoder-only transformer (a count).

    Per layer: attention Q and O (d×d each) plus K and V (d × d·n_kv_heads/n_heads each — fewer with
    grouped-query attention); a feed-forward block of 2·d·d_ff (3·d·d_ff when gated, as SwiGLU);
    optional biases; two norms (``"layernorm"``: weight and bias, ``"rmsnorm"``: weight, ``None``).
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
    n_positions = integer("n_positions", n_positions, minimum=0)
    choice("norm", norm, ["layernorm", "rmsnorm", None])
    kv_dim = d * kv_heads // heads
    attention = 2 * d * d + 2 * d * kv_dim + (2 * d + 2 * kv_dim if biases else 0)
    n_in = 2 if gated_ffn else 1                        # up (and gate) projections
    ffn = (n_in + 1) * d * d_ff + ((n_in * d_ff + d) if biases else 0)
    norm_size = {"layernorm": 2 * d, "rmsnorm": d, None: 0}[norm]
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
    per_token = 2 * n + _attention_per_token(n_layers, d_model, seq_len)
    return per_token * tokens * (4 if full_recompute else 3)


def inference_flops_per_token(n_params, n_layers=None, d_model=None, context=None):
    """FLOP to generate one token: 2·N, plus attention over ``context`` earlier tokens (4·L·d·context)
    when n_layers, d_model and context are given. Accepts arrays."""
    n = positive("n_params", n_params, "parameters", array=True)
    return 2 * n + _attention_per_token(n_layers, d_model, context)


def _attention_per_token(n_layers, d_model, seq_len):
    """Forward FLOP per token of QKᵀ and attention·V: 2·2·L·d·s (0 when any argument is None)."""
    given = [v is not None for v in (n_layers, d_model, seq_len)]
    if not any(given):
        return 0.0
    if not all(given):
        raise ValueError("give all of n_layers, d_model and seq_len (or context) for the attention term, or none")
    n_layers = integer("n_layers", n_layers, minimum=1)
    d_model = integer("d_model", d_model, minimum=1)
    s = nonnegative("seq_len", seq_len, "tokens", array=True)
    return 4.0 * n_layers * d_model * s


def training_time(total_flops, n_devices, peak_flops_per_s, utilization=1.0):
    """Seconds to do ``total_flops`` on n_devices at ``utilization`` (MFU, 0–1) of each one's peak.

    Narayanan et al. 2021's estimate 8·T·P/(n·X) is ``training_time(training_flops(P, T,
    full_recompute=True), n, X)`` with X the achieved FLOP/s per GPU. Accepts arrays.
    """
    work = nonnegative("total_flops", total_flops, "FLOP", array=True)
    n = positive("n_devices", n_devices, "devices", array=True)
    peak = positive("peak_flops_per_s", peak_flops_per_s, "FLOP/s", array=True)
    mfu = fraction("utilization", utilization, array=True)
    if np.any(np.asarray(mfu) == 0):
        raise ValueError("utilization must be above 0 (a device that does no work never finishes)")
    return work / (n * peak * mfu)


def utilization_from_run(total_flops, n_devices, peak_flops_per_s, seconds):
    """Model FLOPs utilization implied by a finished run: work / (devices × peak × time)."""
    work = positive("total_flops", total_flops, "FLOP", array=True)
    n = positive("n_devices", n_devices, "devices", array=True)
    peak = positive("peak_flops_per_s", peak_flops_per_s, "FLOP/s", array=True)
    t = positive("seconds", seconds, "s", array=True)
    return work / (n * peak * t)


# ---------------------------------------------------------------------------------------------
# Memory: training state (ZeRO), activations (Korthikanti), KV cache
# ---------------------------------------------------------------------------------------------
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
                     weight_bytes=2, grad_bytes=2, optimizer_bytes=12, seq_len=None, micro_batch=None,
                     d_model=None, n_layers=None, n_heads=None, recompute="none", sequence_parallel=False):
    """Training memory per device as a :class:`MemoryBreakdown` (bytes); see :func:`training_memory`."""
    n = positive("n_params", n_params, "parameters", array=True)
    stage = integer("zero_stage", zero_stage, minimum=0, maximum=3)
    dp = integer("data_parallel", data_parallel, minimum=1)
    model_split = (integer("tensor_parallel", tensor_parallel, minimum=1)
                   * integer("pipeline_parallel", pipeline_parallel, minimum=1))
    per_replica = n / model_split
    w = nonnegative("weight_bytes", weight_bytes, "bytes per parameter") * per_replica
    g = nonnegative("grad_bytes", grad_bytes, "bytes per parameter") * per_replica
    o = nonnegative("optimizer_bytes", optimizer_bytes, "bytes per parameter") * per_replica
    # ZeRO-DP (Rajbhandari et al. 2020): stage 1 shards the optimizer state over the data-parallel
    # group, stage 2 also the gradients, stage 3 also the weights.
    o = o / dp if stage >= 1 else o
    g = g / dp if stage >= 2 else g
    w = w / dp if stage >= 3 else w
    acts = 0.0
    shape = (seq_len, micro_batch, d_model, n_layers, n_heads)
    if any(v is not None for v in shape):
        if not all(v is not None for v in shape):
            raise ValueError("for activations give all of seq_len, micro_batch, d_model, n_layers and n_heads")
        acts = activation_memory(seq_len, micro_batch, d_model, n_layers, n_heads,
                                 tensor_parallel=tensor_parallel, recompute=recompute,
                                 sequence_parallel=sequence_parallel)
    return MemoryBreakdown(w, g, o, acts)


def training_memory(n_params, zero_stage=0, data_parallel=1, tensor_parallel=1, pipeline_parallel=1,
                    weight_bytes=2, grad_bytes=2, optimizer_bytes=12, seq_len=None, micro_batch=None,
                    d_model=None, n_layers=None, n_heads=None, recompute="none", sequence_parallel=False):
    """Bytes of memory per device to train a model of ``n_params`` parameters.

    Default: mixed-precision Adam, 16 bytes per parameter (2 fp16 weights + 2 fp16 gradients + 12 fp32
    master weights, momentum and variance; Rajbhandari et al. 2020), the training state alone.
    Tensor and pipeline parallelism split the model evenly over tensor_parallel·pipeline_parallel
    devices; ZeRO stage 1/2/3 then shards optimizer / +gradients / +weights over ``data_parallel``.
    Give seq_len, micro_batch, d_model, n_layers and n_heads to add activations
    (:func:`activation_memory`). Ignores temporary buffers, fragmentation and the framework's own use.
    """
    return memory_breakdown(n_params, zero_stage, data_parallel, tensor_parallel, pipeline_parallel,
                            weight_bytes, grad_bytes, optimizer_bytes, seq_len, micro_batch, d_model,
                            n_layers, n_heads, recompute, sequence_parallel).total


RECOMPUTE = ("none", "selective", "full")


def activation_memory_per_layer(seq_len, micro_batch, d_model, n_heads, tensor_parallel=1,
                                recompute="none", sequence_parallel=False):
    """Activation bytes one transformer layer keeps for the backward pass (Korthikanti et al. 2022, Table 2).

    s·b·h·(10 + 24/t + 5·a·s/(h·t)) with tensor parallelism t (34 + 5as/h at t = 1); sequence parallelism
    also splits the 10 (→ 34/t); ``"selective"`` recomputation drops the attention term 5as/(ht);
    ``"full"`` keeps only each layer's input, 2·s·b·h. Assumes 16-bit activations, 1-byte dropout masks,
    a GPT-style layer with a 4h feed-forward block, and no FlashAttention.
    """
    s = positive("seq_len", seq_len, "tokens", array=True)
    b = integer("micro_batch", micro_batch, minimum=1)
    h = integer("d_model", d_model, minimum=1)
    a = integer("n_heads", n_heads, minimum=1)
    t = integer("tensor_parallel", tensor_parallel, minimum=1)
    choice("recompute", recompute, RECOMPUTE)
    sbh = s * b * h
    if recompute == "full":
        return 2.0 * sbh
    linear = 34.0 / t if sequence_parallel else 10.0 + 24.0 / t
    attention = 0.0 if recompute == "selective" else 5.0 * a * s / (h * t)
    return sbh * (linear + attention)


def activation_memory(seq_len, micro_batch, d_model, n_layers, n_heads, tensor_parallel=1,
                      recompute="none", sequence_parallel=False):
    """Activation bytes per device: per layer × n_layers.

    With pipeline parallelism and the 1F1B schedule the first stage holds p micro-batches of L/p layers
    each, so its total is the same L layers' worth whatever p is (Korthikanti et al. 2022, §4.2).
    """
    n_layers = integer("n_layers", n_layers, minimum=1)
    return n_layers * activation_memory_per_layer(seq_len, micro_batch, d_model, n_heads, tensor_parallel,
                                                  recompute, sequence_parallel)


def kv_cache_bytes(batch, seq_len, n_layers, n_kv_heads, head_dim, bytes_per_value=2):
    """Bytes of the key-value cache for inference: 2 (K and V) · batch · seq_len · layers · kv heads ·
    head_dim · bytes per value (2 for fp16/bf16). Grouped-query attention shrinks n_kv_heads. Accepts arrays."""
    b = positive("batch", batch, "sequences", array=True)
    s = nonnegative("seq_len", seq_len, "tokens", array=True)
    layers = integer("n_layers", n_layers, minimum=1)
    kv = integer("n_kv_heads", n_kv_heads, minimum=1)
    hd = integer("head_dim", head_dim, minimum=1)
    nbytes = positive("bytes_per_value", bytes_per_value, "bytes")
    return 2.0 * b * s * layers * kv * hd * nbytes


# ---------------------------------------------------------------------------------------------
# Scaling laws
# ---------------------------------------------------------------------------------------------
def _law(E, A, B, alpha, beta):
    return (number("E", E, "nats"), positive("A", A), positive("B", B),
            positive("alpha", alpha), positive("beta", beta))


def chinchilla_loss(n_params, n_tokens, E=CHINCHILLA["E"], A=CHINCHILLA["A"], B=CHINCHILLA["B"],
                    alpha=CHINCHILLA["alpha"], beta=CHINCHILLA["beta"]):
    """Predicted pre-training loss (nats per token): E + A/N^α + B/D^β.

    Defaults: Hoffmann et al. 2022, Approach 3 as printed (E 1.69, A 406.4, B 410.7, α 0.34, β 0.28),
    fitted on their MassiveText runs; pass other constants (``**BESIROGLU``) to compare. Accepts arrays.
    """
    E, A, B, alpha, beta = _law(E, A, B, alpha, beta)
    n = positive("n_params", n_params, "parameters", array=True)
    d = positive("n_tokens", n_tokens, "tokens", array=True)
    return E + A / n**alpha + B / d**beta


def isoflop_loss(compute_flops, n_params, **law):
    """Loss of a model of n_params trained with compute_flops (so on D = C/(6N) tokens). Accepts arrays."""
    c = positive("compute_flops", compute_flops, "FLOP", array=True)
    n = positive("n_params", n_params, "parameters", array=True)
    return chinchilla_loss(n, c / (6 * n), **law)


def compute_optimal(compute_flops, tokens_per_param=20):
    """(n_params, n_tokens) that spend compute_flops = 6·N·D with D = tokens_per_param·N.

    The Chinchilla rule of thumb (≈ 20 tokens per parameter, Hoffmann et al. 2022): N = √(C / (6·r)).
    Accepts arrays.
    """
    c = positive("compute_flops", compute_flops, "FLOP", array=True)
    r = positive("tokens_per_param", tokens_per_param, "tokens per parameter")
    n = np.sqrt(c / (6 * r))
    return n, r * n


def compute_optimal_law(compute_flops, E=CHINCHILLA["E"], A=CHINCHILLA["A"], B=CHINCHILLA["B"],
                        alpha=CHINCHILLA["alpha"], beta=CHINCHILLA["beta"]):
    """(n_params, n_tokens) minimizing :func:`chinchilla_loss` under C = 6·N·D (closed form).

    N* = G·(C/6)^(β/(α+β)), D* = (C/6)/N*, G = (α·A / (β·B))^(1/(α+β))  (Hoffmann et al. 2022, eq. 4).
    E does not move the optimum. Accepts arrays.
    """
    E, A, B, alpha, beta = _law(E, A, B, alpha, beta)
    c = positive("compute_flops", compute_flops, "FLOP", array=True)
    g = (alpha * A / (beta * B)) ** (1 / (alpha + beta))
    n = g * (c / 6) ** (beta / (alpha + beta))
    return n, c / 6 / n


def fit_power_law(x, y):
    """Least-squares fit of log y = log k + p·log x; returns (p, k) so that y ≈ k·x^p."""
    x = positive("x", x, array=True, finite=True)
    y = positive("y", y, array=True, finite=True)
    x, y = np.atleast_1d(x), np.atleast_1d(y)
    if x.shape != y.shape:
        raise ValueError(f"x and y must have the same length, got {x.size} and {y.size}")
    if x.size < 2 or np.ptp(np.log(x)) == 0:
        raise ValueError("fit_power_law needs at least two points with different x")
    p, log_k = np.polyfit(np.log(x), np.log(y), 1)
    return float(p), float(np.exp(log_k))


def simulate_isoflop_sweep(budgets, n_sizes=9, span=30.0, noise=0.005, seed=0, **law):
    """A simulated IsoFLOP experiment (Hoffmann et al.'s Approach 2): for each compute budget, train
    ``n_sizes`` model sizes spread log-evenly over a factor ``span`` around the law's optimum and
    record the final loss from :func:`chinchilla_loss` plus Gaussian noise (relative sd ``noise``).
    Returns a dict of equal-length arrays: compute_flops, n_params, n_tokens, loss. Seeded.
    """
    c = np.atleast_1d(positive("budgets", budgets, "FLOP", array=True))
    n_sizes = integer("n_sizes", n_sizes, minimum=3)
    span = positive("span", span)
    noise = nonnegative("noise", noise)
    rng = np.random.default_rng(integer("seed", seed))
    centre, _ = compute_optimal_law(c, **law)
    factors = np.logspace(-0.5, 0.5, n_sizes) ** np.log10(span)
    n = (centre[:, None] * factors[None, :]).ravel()
    cc = np.repeat(c, n_sizes)
    loss = isoflop_loss(cc, n, **law) * (1 + noise * rng.standard_normal(n.size))
    return {"compute_flops": cc, "n_params": n, "n_tokens": cc / (6 * n), "loss": loss}


def isoflop_minima(sweep):
    """Approach 2: fit a parabola to loss vs log N for each budget of a sweep; returns (budgets, N*)."""
    budgets = np.unique(sweep["compute_flops"])
    best = []
    for c in budgets:
        mask = sweep["compute_flops"] == c
        a2, a1, _ = np.polyfit(np.log(sweep["n_params"][mask]), sweep["loss"][mask], 2)
        if a2 <= 0:
            raise ValueError(f"the losses at {c:.3g} FLOP do not curve upwards: widen the sweep or lower the noise")
        best.append(np.exp(-a1 / (2 * a2)))
    return budgets, np.array(best)


# ---------------------------------------------------------------------------------------------
# Why one GPU is not enough: parallelism
# ---------------------------------------------------------------------------------------------
def min_devices(n_params, device_memory_bytes, bytes_per_param=16):
    """Fewest devices whose memory holds the training state alone (an integer, ≥ 1; ignores activations)."""
    n = positive("n_params", n_params, "parameters")
    mem = positive("device_memory_bytes", device_memory_bytes, "bytes")
    per = positive("bytes_per_param", bytes_per_param, "bytes per parameter")
    return max(1, math.ceil(n * per / mem - 1e-9))


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
    stage = integer("zero_stage", zero_stage, minimum=0, maximum=3)
    factor = 3.0 if stage == 3 else 2.0
    return factor * (dp - 1) / dp * n * nonnegative("grad_bytes", grad_bytes, "bytes per value")


def tensor_parallel_bytes(micro_batch, seq_len, d_model, n_layers, tensor_parallel, bytes_per_value=2):
    """Bytes each device sends per micro-batch for Megatron tensor parallelism over ``n_layers`` layers:
    4 all-reduces of b·s·h values per layer (2 forward, 2 backward), each a ring: 2·(t−1)/t."""
    b = integer("micro_batch", micro_batch, minimum=1)
    s = positive("seq_len", seq_len, "tokens")
    h = integer("d_model", d_model, minimum=1)
    layers = integer("n_layers", n_layers, minimum=1)
    t = integer("tensor_parallel", tensor_parallel, minimum=1)
    return 4 * layers * 2.0 * (t - 1) / t * b * s * h * positive("bytes_per_value", bytes_per_value, "bytes")


def pipeline_parallel_bytes(micro_batch, seq_len, d_model, bytes_per_value=2):
    """Bytes a pipeline stage sends per micro-batch: its output activations forward and their
    gradients backward, 2·b·s·h values (0 for the last stage's forward, ignored here)."""
    b = integer("micro_batch", micro_batch, minimum=1)
    s = positive("seq_len", seq_len, "tokens")
    h = integer("d_model", d_model, minimum=1)
    return 2.0 * b * s * h * positive("bytes_per_value", bytes_per_value, "bytes")


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
    device_memory_bytes: float
    bubble_fraction: float
    tp_bytes_per_step: float
    pp_bytes_per_step: float
    dp_bytes_per_step: float

    @property
    def fits(self):
        """True when the memory per device is within the device's memory."""
        return bool(self.memory.total <= self.device_memory_bytes)

    def summary(self):
        return (f"t={self.tensor_parallel} p={self.pipeline_parallel} d={self.data_parallel} "
                f"ZeRO-{self.zero_stage} on {self.n_devices} devices: "
                f"{u.fmt_bytes(self.memory.total)} per device of {u.fmt_bytes(self.device_memory_bytes)} "
                f"({'fits' if self.fits else 'does NOT fit'}), bubble {self.bubble_fraction:.1%}, "
                f"per step sends TP {u.fmt_bytes(self.tp_bytes_per_step)}, PP {u.fmt_bytes(self.pp_bytes_per_step)}, "
                f"DP {u.fmt_bytes(self.dp_bytes_per_step)}")

    def __str__(self):
        return self.summary()


def plan_parallelism(n_params, n_layers, d_model, n_heads, seq_len, global_batch, micro_batch=1,
                     tensor_parallel=1, pipeline_parallel=1, data_parallel=1, zero_stage=0,
                     recompute="selective", sequence_parallel=True, device_memory_bytes=80 * u.GB):
    """Cost a 3D-parallel layout: memory per device, pipeline bubble, bytes sent per step and device.

    global_batch sequences per step are split over data_parallel replicas in micro-batches of
    micro_batch: m = global_batch / (data_parallel · micro_batch) micro-batches flow through the pipeline.
    Assumes an even split of layers and parameters, mixed-precision Adam, 1F1B scheduling.
    """
    t = integer("tensor_parallel", tensor_parallel, minimum=1)
    p = integer("pipeline_parallel", pipeline_parallel, minimum=1)
    dp = integer("data_parallel", data_parallel, minimum=1)
    b = integer("micro_batch", micro_batch, minimum=1)
    gb = integer("global_batch", global_batch, minimum=1)
    n_layers = integer("n_layers", n_layers, minimum=1)
    if n_layers % p:
        raise ValueError(f"n_layers ({n_layers}) must divide evenly over pipeline_parallel ({p}) stages")
    if gb % (dp * b):
        raise ValueError(f"global_batch ({gb}) must be a multiple of data_parallel × micro_batch ({dp} × {b})")
    if n_heads % t:
        raise ValueError(f"n_heads ({n_heads}) must divide evenly over tensor_parallel ({t})")
    m = gb // (dp * b)
    memory = memory_breakdown(n_params, zero_stage, dp, t, p, seq_len=seq_len, micro_batch=b, d_model=d_model,
                              n_layers=n_layers, n_heads=n_heads, recompute=recompute,
                              sequence_parallel=sequence_parallel)
    return ParallelPlan(
        tensor_parallel=t, pipeline_parallel=p, data_parallel=dp, zero_stage=zero_stage, n_devices=t * p * dp,
        n_microbatches=m, memory=memory,
        device_memory_bytes=positive("device_memory_bytes", device_memory_bytes, "bytes"),
        bubble_fraction=pipeline_bubble_fraction(p, m),
        tp_bytes_per_step=m * tensor_parallel_bytes(b, seq_len, d_model, n_layers // p, t) if t > 1 else 0.0,
        pp_bytes_per_step=m * pipeline_parallel_bytes(b, seq_len, d_model // t if sequence_parallel else d_model)
        if p > 1 else 0.0,
        dp_bytes_per_step=float(data_parallel_bytes(n_params / (t * p), dp, zero_stage=zero_stage)),
    )


# ---------------------------------------------------------------------------------------------
# Recurrence versus attention: a measured demonstration
# ---------------------------------------------------------------------------------------------
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
    lens = np.atleast_1d(positive("seq_lens", seq_lens, "tokens", array=True)).astype(int)
    d = integer("d_model", d_model, minimum=1)
    repeats = integer("repeats", repeats, minimum=1)
    rng = np.random.default_rng(integer("seed", seed))
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
def _axes(ax, figsize=(7.5, 4.2)):
    if ax is not None:
        return ax.figure, ax
    import matplotlib.pyplot as plt
    fig, ax = plt.subplots(figsize=figsize)
    return fig, ax


def _plain_log(*axes):
    """Label log axes as plain numbers ("1,000", "1e+20") without minor labels: no mathtext, faster to draw."""
    from matplotlib.ticker import FuncFormatter, NullFormatter
    fmt = FuncFormatter(lambda v, _: (f"{v:,.0f}" if 1 <= v < 1e6 else f"{v:g}") if v > 0 else "")
    for axis in axes:
        axis.set_major_formatter(fmt)
        axis.set_minor_formatter(NullFormatter())


def plot_sequential_vs_parallel(result, ax=None):
    """Measured time of the recurrent loop versus the one-product version (same FLOPs), by sequence length."""
    fig, ax = _axes(ax)
    s = result["seq_len"]
    ax.loglog(s, result["recurrent_s"] * 1e3, "o-", label="recurrent: seq_len dependent steps")
    ax.loglog(s, result["parallel_s"] * 1e3, "s-", label="parallel: one matrix product")
    ax.set(xlabel="sequence length (tokens)", ylabel="time on this machine (ms)",
           title="Same FLOPs, different dependency structure")
    _plain_log(ax.xaxis, ax.yaxis)
    ax.legend(loc="upper left")
    return fig


def compute_trend(table=None, since=2010):
    """Exponential fit of training compute (datasets/models.csv, years ≥ ``since``) against year:
    a :class:`labkit.hardware.Trend` (``doubling_years``, ``factor_per_year``, ``predict``)."""
    from .data import load
    from .hardware import fit_trend
    t = load("models") if table is None else table
    ok = np.isfinite(t["training_flop"]) & (t["year"] >= number("since", since, "year"))
    return fit_trend(t["year"][ok], t["training_flop"][ok])


def gpu_peak_trend(since=2010):
    """Exponential fit of single-GPU peak FLOP/s (chapter 01's datasets/hardware.csv, kind "gpu",
    years ≥ ``since``; fp32 before tensor cores, fp16/bf16 after) — a :class:`labkit.hardware.Trend`."""
    from .hardware import fit_trend, load_hardware
    t = load_hardware().where(kind="gpu")
    ok = t["year"] >= number("since", since, "year")
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
    from .data import load
    t = load("models") if table is None else table
    fig, ax = _axes(ax, figsize=(8, 4.6))
    ok = np.isfinite(t["training_flop"]) & (t["year"] >= since)
    years, flop, names = t["year"][ok], t["training_flop"][ok], t["model"][ok]
    ax.semilogy(years, flop, "o", color="C0", label="training compute of a notable model")
    for y, f, name in zip(years, flop, names):
        if name in _LABELLED_MODELS:
            _label(ax, y, f, name, np.mean([years.min(), years.max()]))
    fit, gpu = compute_trend(t, since), gpu_peak_trend(since)
    span = np.linspace(years.min(), years.max(), 30)
    ax.semilogy(span, fit.predict(span), "--", color="C0",
                label=f"fit: ×{fit.factor_per_year:.1f}/year (doubles in {fit.doubling_years * 12:.1f} months)")
    scale = fit.predict(span[0]) / gpu.predict(span[0])
    ax.semilogy(span, scale * gpu.predict(span), ":", color="C1",
                label=f"one GPU's peak FLOP/s, same start: ×{gpu.factor_per_year:.2f}/year "
                      f"(doubles in {gpu.doubling_years * 12:.0f} months)")
    ax.set(xlabel="year", ylabel="training compute (FLOP)", title="Training compute outgrew the chip")
    _plain_log(ax.yaxis)
    ax.legend(loc="lower right", fontsize=8)
    return fig


def plot_cluster_growth(table=None, since=2010, ax=None):
    """Accelerators used per training run (datasets/models.csv, years ≥ ``since``) against year."""
    from .data import load
    t = load("models") if table is None else table
    fig, ax = _axes(ax)
    ok = np.isfinite(t["n_devices"]) & (t["year"] >= since)
    years = t["year"][ok]
    ax.semilogy(years, t["n_devices"][ok], "o", color="C2")
    for y, n, name, hw in zip(years, t["n_devices"][ok], t["model"][ok], t["hardware"][ok]):
        if name in _LABELLED_MODELS:
            _label(ax, y, n, f"{name}: {n:,.0f} {hw}", np.mean([years.min(), years.max()]))
    ax.set(xlabel="year", ylabel="accelerators in the training run", title="The gap is filled by clusters")
    _plain_log(ax.yaxis)
    return fig


def plot_growth(table=None, since=2010):
    """Side by side: :func:`plot_compute_trend` and :func:`plot_cluster_growth` (one figure, cheaper to draw)."""
    import matplotlib.pyplot as plt
    fig, (left, right) = plt.subplots(1, 2, figsize=(13, 4.6))
    plot_compute_trend(table, since, ax=left)
    plot_cluster_growth(table, since, ax=right)
    fig.tight_layout()
    return fig


def plot_isoflop(budgets=(1e19, 1e20, 1e21, 1e22, 1e23, 1e24), sweep=None, ax=None, **law):
    """Loss against model size at fixed compute (IsoFLOP curves of the Chinchilla law), with the optimum
    of each curve; dots from a simulated ``sweep`` if given."""
    fig, ax = _axes(ax)
    budgets = np.atleast_1d(positive("budgets", budgets, "FLOP", array=True))
    n_opt, _ = compute_optimal_law(budgets, **law)
    for i, c in enumerate(budgets):
        n = n_opt[i] * np.logspace(-1.3, 1.3, 120)
        ax.semilogx(n, isoflop_loss(c, n, **law), color=f"C{i % 10}", label=f"{c:.0e} FLOP")
        ax.semilogx([n_opt[i]], [isoflop_loss(c, n_opt[i], **law)], "k*", ms=8)
        if sweep is not None:
            m = sweep["compute_flops"] == c
            ax.semilogx(sweep["n_params"][m], sweep["loss"][m], "o", color=f"C{i % 10}", ms=4)
    ax.set(xlabel="parameters N (with D = C / 6N tokens)", ylabel="predicted loss (nats/token)",
           title="IsoFLOP curves: each budget has a best model size (★)")
    _plain_log(ax.xaxis)
    ax.legend(fontsize=7, loc="upper right")
    return fig


def plot_memory_breakdown(breakdowns, capacity_bytes=None, ax=None):
    """Stacked bars of memory per device (GB) for each labelled :class:`MemoryBreakdown`."""
    fig, ax = _axes(ax)
    labels = list(breakdowns)
    bottom = np.zeros(len(labels))
    for i, part in enumerate(("weights", "gradients", "optimizer", "activations")):
        heights = np.array([getattr(breakdowns[k], part) for k in labels]) / u.GB
        if np.any(heights > 0):
            ax.bar(labels, heights, bottom=bottom, label=part, color=f"C{i}")
        bottom += heights
    if capacity_bytes is not None:
        ax.axhline(capacity_bytes / u.GB, color="k", ls="--", lw=1)
        ax.text(len(labels) - 0.5, capacity_bytes / u.GB, f" {u.fmt_bytes(capacity_bytes)} per device",
                va="bottom", ha="right", fontsize=8)
    ax.set(ylabel="memory per device (GB)")
    ax.legend(fontsize=8)
    return fig


def plot_pipeline_bubble(stages=(2, 4, 8, 16, 32), max_microbatches=128, ax=None):
    """Bubble fraction (p − 1)/(m + p − 1) against micro-batches m, one curve per stage count p."""
    fig, ax = _axes(ax)
    m = np.arange(1, integer("max_microbatches", max_microbatches, minimum=1) + 1)
    for p in stages:
        p = integer("stages", p, minimum=1)
        ax.semilogx(m, (p - 1) / (m + p - 1), label=f"p = {p} stages")
    ax.set(xlabel="micro-batches per step m", ylabel="share of time idle (bubble)",
           title="Pipeline bubble: more micro-batches hide the fill and drain")
    _plain_log(ax.xaxis)
    ax.legend()
    return fig


# ---------------------------------------------------------------------------------------------
# The chapter's explorer: model size, tokens and cluster → days, memory per GPU, fits or not
# ---------------------------------------------------------------------------------------------
_ZERO_LABELS = {"ZeRO-0 (plain data parallel)": 0, "ZeRO-1 (shard optimizer)": 1,
                "ZeRO-2 (+ gradients)": 2, "ZeRO-3 (+ weights)": 3}


#: Fixed axis ranges of the explorer, wide enough for its sliders (so ticks never change between moves).
_MEMORY_RANGE_GB = (1e-2, 1e5)           # 10 MB to 100 TB of training state per GPU
_GPU_RANGE = (1, 10**5.5)
_DAYS_RANGE = (1e-2, 1e6)                # a quarter of an hour to ~2,700 years


def _build_training_run(fig):
    """Build the explorer's two panels once; return handles to what a slider move changes.

    Text is what costs most in a redraw (each glyph is rendered anew), so labels are short, ticks few,
    and the top and right spines are left out.
    """
    from matplotlib.ticker import FixedLocator, NullLocator
    fig.subplots_adjust(left=0.1, right=0.98, bottom=0.13, top=0.96, wspace=0.25)
    ax_mem, ax_time = fig.subplots(1, 2, gridspec_kw={"width_ratios": [1, 1.4]})
    ax_mem.set_yscale("log")
    bars = ax_mem.bar(np.arange(4), np.ones(4), linewidth=2)
    capacity = ax_mem.axhline(1.0, color="k", ls="--", lw=1)
    capacity_label = ax_mem.text(3.6, 1.0, "", ha="right", va="bottom", fontsize=8,
                                 bbox=dict(fc="white", ec="none", alpha=0.8, pad=1))
    ax_mem.set(xlim=(-0.6, 3.6), ylim=_MEMORY_RANGE_GB, xticks=np.arange(4),
               xticklabels=["ZeRO-0", "1", "2", "3"], ylabel="GB per GPU")
    ax_mem.yaxis.set_major_locator(FixedLocator([1e-2, 1, 1e2, 1e4]))
    gpus = np.logspace(0, 5.5, 30)
    curve, = ax_time.loglog(gpus, gpus, color="C0")
    point, = ax_time.plot([1], [1], "o", ms=8, clip_on=False)
    ax_time.axhline(30, color="grey", ls=":", lw=1)
    ax_time.text(_GPU_RANGE[1], 30, "a month", ha="right", va="bottom", fontsize=8, color="grey")
    ax_time.set(xlim=_GPU_RANGE, ylim=_DAYS_RANGE, xlabel="GPUs", ylabel="days to train")
    ax_time.xaxis.set_major_locator(FixedLocator([1, 1e2, 1e4]))
    ax_time.yaxis.set_major_locator(FixedLocator([1e-2, 1, 1e2, 1e4]))
    for ax, label_x in ((ax_mem, -0.18), (ax_time, -0.13)):
        ax.set_autoscale_on(False)
        ax.yaxis.set_label_coords(label_x, 0.5)   # placed, not fitted around the tick labels each draw
        ax.xaxis.set_label_coords(0.5, -0.1)
        ax.spines[["top", "right"]].set_visible(False)
        for axis in (ax.xaxis, ax.yaxis):
            if axis.get_scale() == "log":
                axis.set_minor_locator(NullLocator())
    _plain_log(ax_mem.yaxis, ax_time.xaxis, ax_time.yaxis)
    fig._labkit = dict(bars=bars, capacity=capacity, capacity_label=capacity_label, gpus=gpus,
                       curve=curve, point=point)
    from .core.explore import freeze_background
    freeze_background(fig, [*bars, capacity, capacity_label, curve, point])
    return fig._labkit


def draw_training_run(fig, n_params, n_tokens, gpu, n_gpus, mfu, zero):
    """Draw the explorer: left, memory per GPU for each ZeRO stage (green fits, red does not; the chosen
    stage outlined; dashed: the GPU's memory); right, days to train against cluster size (the dot: your
    cluster; a triangle when it lies off the fixed scale).

    Memory is the training state (mixed-precision Adam) sharded over all n_gpus data-parallel replicas;
    activations come on top. Returns a one-line readout. Retained drawing: the panels are built on the
    first call and later calls only update data, with fixed axis ranges, so a slider move stays well
    within the course's 100 ms budget.
    """
    acc = accelerator(gpu)
    n_gpus = int(round(n_gpus))
    stage = _ZERO_LABELS[zero] if isinstance(zero, str) else integer("zero", zero, minimum=0, maximum=3)
    flop = float(training_flops(n_params, n_tokens))
    h = getattr(fig, "_labkit", None) if fig.axes else None
    if h is None:
        h = _build_training_run(fig)
    parts = [memory_breakdown(n_params, s, n_gpus) for s in range(4)]
    cap_gb = acc.memory_bytes / u.GB
    low = _MEMORY_RANGE_GB[0] * 1.5                    # a stub stays visible below the scale
    for s, (bar, part) in enumerate(zip(h["bars"], parts)):
        bar.set_height(max(part.total / u.GB, low))
        bar.set_facecolor("C2" if part.total <= acc.memory_bytes else "C3")
        bar.set_edgecolor("k" if s == stage else "none")
    h["capacity"].set_ydata([cap_gb, cap_gb])
    h["capacity_label"].set_y(cap_gb)
    h["capacity_label"].set_text(f"{cap_gb:,.0f} GB")
    days = training_time(flop, h["gpus"], acc.peak_flops_per_s, mfu) / u.DAY
    here = float(training_time(flop, n_gpus, acc.peak_flops_per_s, mfu)) / u.DAY
    fits = parts[stage].total <= acc.memory_bytes
    h["curve"].set_ydata(days)
    lo, hi = _DAYS_RANGE
    shown = min(max(here, lo), hi)
    h["point"].set_data([n_gpus], [shown])
    h["point"].set_marker("o" if shown == here else ("^" if here > hi else "v"))
    h["point"].set_color("C2" if fits else "C3")
    verdict = "fits" if fits else "does NOT fit: shard more (ZeRO-3) or split the model (tensor/pipeline)"
    return (f"{n_params / 1e9:,.3g}B params × {n_tokens / 1e12:,.3g}T tokens = {u.fmt_flops(flop)}; "
            f"{n_gpus:,} × {acc.name} at {mfu:.0%} MFU → {here:,.3g} days; "
            f"ZeRO-{stage} training state per GPU {u.fmt_bytes(parts[stage].total)} of "
            f"{u.fmt_bytes(acc.memory_bytes)} (activations come on top) → {verdict}")


def explore_training_run(n_params=70e9, n_tokens=1.4e12, gpu="H100 80GB", n_gpus=1024, mfu=0.4,
                         zero="ZeRO-3 (+ weights)"):
    """Show the chapter's explorer (sliders for model size, tokens, GPUs, MFU; dropdowns for GPU and ZeRO)."""
    from .core.explore import dropdown, explorer, slider
    return explorer(draw_training_run, title="How long, and does it fit?", figsize=(9, 4), retained=True,
                    n_params=slider(n_params, 1e8, 2e12, None, "parameters", log=True),
                    n_tokens=slider(n_tokens, 1e10, 1e14, None, "training tokens", log=True),
                    gpu=dropdown(gpu, list(_accelerators()), "GPU"),
                    n_gpus=slider(n_gpus, 1, 100_000, None, "GPUs", log=True),
                    mfu=slider(mfu, 0.05, 0.8, 0.05, "MFU"),
                    zero=dropdown(zero, list(_ZERO_LABELS), "sharding"))
