"""Why a cluster sits at 40 %: an MFU loss budget, a waterfall from peak to achieved.

Each bar is a model: the training step of chapter 02 (:func:`labkit.scaling.step_time`: compute at a
matmul efficiency, exposed tensor/pipeline/data-parallel communication, the pipeline bubble, memory per
device), the collectives of chapter 03 (:func:`labkit.interconnect.allgather_time`: context-parallel
all-gathers), and what is this chapter's own: memory-bound non-matmul kernels (:func:`nonmatmul_bytes_per_token`
on the roofline), attention kernels at long context, the recomputation memory forces, and persistently
slow GPUs (:func:`labkit.utilization.slow_node_slowdown`). Every input is cited or named as an assumption
in :data:`WATERFALL_ASSUMPTIONS`; none is fitted to the MFU it is compared with. What the models leave
unexplained is drawn as its own hatched bar, not folded into a factor.

Units: seconds, bytes, FLOP, FLOP/s; MFUs and bars are fractions of peak (0.41 = 41 %).
"""

from dataclasses import dataclass, field

import numpy as np

from ..core.devices import datasheet
from ..core.plotting import new_axes
from ..core.validate import choice, fraction, integer, number, positive
from .stragglers import slow_node_slowdown

#: Llama 3 405B's shape (Dubey et al. 2024, arXiv:2407.21783, Table 3): 126 layers, model dimension
#: 16,384, FFN dimension 53,248, 128 attention heads, 8 key/value heads (head dimension 128).
LLAMA3_405B = {"n_params": 405e9, "n_layers": 126, "d_model": 16384, "d_ff": 53248, "n_heads": 128,
               "n_kv_heads": 8, "head_dim": 128}

#: The three 405B layouts of Dubey et al. 2024, Table 4 (BF16, H100): GPUs, TP, CP, PP, DP, sequence
#: length, sequences per data-parallel group per step, and the published MFU. 16M tokens per step each.
LLAMA3_TABLE4 = {
    "8K GPUs, 8K tokens": dict(n_devices=8192, tensor_parallel=8, context_parallel=1, pipeline_parallel=16,
                               data_parallel=64, seq_len=8192, batch_per_dp=32, published_mfu=0.43),
    "16K GPUs, 8K tokens": dict(n_devices=16384, tensor_parallel=8, context_parallel=1, pipeline_parallel=16,
                                data_parallel=128, seq_len=8192, batch_per_dp=16, published_mfu=0.41),
    "16K GPUs, 131K tokens": dict(n_devices=16384, tensor_parallel=8, context_parallel=16, pipeline_parallel=16,
                                  data_parallel=8, seq_len=131072, batch_per_dp=16, published_mfu=0.38),
}

#: Every input of the waterfall: value and where it comes from (cited, or named as an assumption).
WATERFALL_ASSUMPTIONS = {
    "matmul_efficiency": (0.801, "cited: best measured H100 SXM BF16 matmul, 792.1 of 989 TFLOP/s (S. Bekman, "
                                 "'Machine Learning Engineering', Maximum Achievable Matmul FLOPS table, CUDA 12.1). "
                                 "A best case: the shapes of a real model run slower"),
    "attention_efficiency": (0.35, "cited: FlashAttention-2 on H100 reaches about 35 % of peak (Shah et al. 2024, "
                                   "FlashAttention-3, arXiv:2407.08608, abstract); counted on the FLOPs it executes"),
    "causal_fraction": (0.5, "named assumption: a causal kernel computes only the unmasked half of QKᵀ and "
                             "attention·V (12·L·d·s FLOP per token is the whole square, PaLM App. B)"),
    "counted_attention": (0.5, "named assumption: the MFU counts the attention FLOPs actually computed, the causal "
                               "half (as FlashAttention's TFLOP/s do). Llama 3 does not say; counting the whole "
                               "square (1.0, PaLM's convention) would make the 131K run the most efficient of the "
                               "three, the opposite of Table 4"),
    "interleave": (4, "named assumption: virtual pipeline stages per GPU (not published; chapter 02's choice)"),
    "nvlink_efficiency": (0.82, "cited: NCCL reaches ≈ 82 % of NVLink 4.0's line rate (nccl-tests issue #212, "
                                "datasets/README.md)"),
    "memory_reserve": (0.10, "named assumption: share of HBM not available to the model (CUDA context, NCCL "
                             "buffers, fragmentation); recomputation is added until the rest fits"),
    "elementwise_passes": (3.0, "named assumption: the backward pass of an element-wise kernel moves twice the "
                                "forward's bytes (forward + backward = 3 × forward)"),
    "thermal_slowdown": (1.015, "cited: Llama 3 saw a 1–2 % diurnal throughput variation from temperature-driven "
                                "clock changes (Dubey et al. 2024, §3.3.4); a synchronous job runs at its warmest "
                                "GPUs' pace: the midpoint, on every step"),
    "slow_fraction": (0.0, "named assumption: no GPU is persistently slow (Llama 3 found and replaced slow hosts; "
                           "set it to see what one slow GPU in a thousand costs)"),
    "slowdown": (1.0, "named assumption: how much slower a persistently slow GPU runs (1 = not slower)"),
}


def nonmatmul_bytes_per_token(d_model, d_ff, n_layers, n_kv_heads, head_dim, bytes_per_value=2, passes=3.0):
    """HBM bytes per token of the memory-bound kernels between a decoder's matmuls, all layers, forward and
    backward (bytes): two RMSNorms (read and write d each), two residual adds (read 2d, write d), the SwiGLU
    product (read 2·d_ff, write d_ff) and rotary embedding of Q and K (read and write d + kv width) —
    12·d + 3·d_ff + 2·n_kv_heads·head_dim values per layer forward, × ``passes`` (3: the backward moves
    twice the forward's bytes). Assumes unfused kernels that each read their inputs and write their output
    once, in ``bytes_per_value`` (BF16: 2). Softmax lives inside FlashAttention (no HBM traffic).
    """
    d = positive("d_model", d_model, "")
    f = positive("d_ff", d_ff, "")
    layers = integer("n_layers", n_layers, minimum=1)
    kv = integer("n_kv_heads", n_kv_heads, minimum=1)
    hd = integer("head_dim", head_dim, minimum=1)
    b = positive("bytes_per_value", bytes_per_value, "bytes")
    p = positive("passes", passes, "", maximum=100)
    values = 12.0 * d + 3.0 * f + 2.0 * kv * hd
    out = values * b * p * layers
    if not np.isfinite(out):
        raise ValueError("d_model, d_ff and bytes_per_value are too large: the bytes per token overflow")
    return float(out)


@dataclass
class Waterfall:
    """An MFU loss budget. ``steps`` lists (mechanism, MFU after it is added), from the peak (1.0) down to
    the modelled MFU; ``bars`` the drop each mechanism causes (fractions of peak). ``published`` is the
    MFU the paper reports and ``unexplained`` = modelled − published (what the models leave out).
    ``seconds`` holds each mechanism's time per step (s), ``config`` the layout."""
    name: str
    steps: list
    published: float
    seconds: dict
    config: dict = field(default_factory=dict)

    @property
    def modelled(self):
        return self.steps[-1][1]

    @property
    def bars(self):
        return {name: before - after for (_, before), (name, after) in zip(self.steps, self.steps[1:])}

    @property
    def unexplained(self):
        return self.modelled - self.published

    def summary(self):
        lines = [f"{self.name}: modelled MFU {self.modelled:.1%}, published {self.published:.0%}"]
        lines += [f"  − {name:<34} {bar:6.1%}" for name, bar in self.bars.items()]
        lines.append(f"  − {'not explained by these models':<34} {self.unexplained:6.1%}")
        return "\n".join(lines)


def _assumption(name, overrides):
    return overrides.get(name, WATERFALL_ASSUMPTIONS[name][0])


def mfu_waterfall(row="16K GPUs, 8K tokens", **overrides):
    """The MFU loss budget of one Llama 3 405B layout of Dubey et al. 2024, Table 4 (``row``: a key of
    :data:`LLAMA3_TABLE4`), built from its published configuration; returns a :class:`Waterfall`.

    Mechanisms are added one at a time, each a model: matmuls at ``matmul_efficiency``; attention at
    ``attention_efficiency`` on the ``causal_fraction`` of the counted FLOPs it executes; non-matmul
    kernels (:func:`nonmatmul_bytes_per_token` at HBM bandwidth); the recomputation needed to fit memory
    (chapter 02's memory model, the share of layers fully recomputed so the rest fits); exposed tensor,
    pipeline and data-parallel communication and the bubble (:func:`labkit.scaling.step_time`);
    context-parallel all-gathers of K and V (:func:`labkit.interconnect.allgather_time`); warm GPUs
    (:func:`slow_node_slowdown`). Context parallelism over c GPUs does, per GPU, the matmuls, traffic and
    micro-batches of c-times-more data parallelism on seq_len / c tokens: that is the step chapter 02 times;
    attention over the full context and the all-gathers are added here. ``overrides`` replace entries of
    :data:`WATERFALL_ASSUMPTIONS` by name (e.g. ``interleave=2``).
    """
    from ..interconnect import allgather_time
    from ..scaling import link_bandwidth, step_time, training_flops

    if not isinstance(row, str):
        raise TypeError(f"row must be one of {', '.join(map(repr, LLAMA3_TABLE4))}, got {row!r}")
    choice("row", row, tuple(LLAMA3_TABLE4))
    unknown = set(overrides) - set(WATERFALL_ASSUMPTIONS)
    if unknown:
        raise TypeError(f"unknown assumption(s) {sorted(unknown)}: choose from {sorted(WATERFALL_ASSUMPTIONS)}")
    a = {k: _assumption(k, overrides) for k in WATERFALL_ASSUMPTIONS}
    for k in ("matmul_efficiency", "attention_efficiency", "causal_fraction", "counted_attention",
              "nvlink_efficiency"):
        a[k] = fraction(k, a[k], allow_zero=False)
    a["memory_reserve"] = fraction("memory_reserve", a["memory_reserve"], allow_one=False)
    a["slow_fraction"] = fraction("slow_fraction", a["slow_fraction"])
    a["slowdown"] = number("slowdown", a["slowdown"], "", minimum=1, maximum=100)
    a["thermal_slowdown"] = number("thermal_slowdown", a["thermal_slowdown"], "", minimum=1, maximum=100)
    a["interleave"] = integer("interleave", a["interleave"], minimum=1, maximum=7)
    a["elementwise_passes"] = positive("elementwise_passes", a["elementwise_passes"], "", maximum=10)

    m, c = LLAMA3_405B, LLAMA3_TABLE4[row]
    h100 = datasheet("H100")
    peak, hbm = h100.peak_flops_per_s, h100.bandwidth_bytes_per_s
    n, cp, tp, pp = c["n_devices"], c["context_parallel"], c["tensor_parallel"], c["pipeline_parallel"]
    chunk = c["seq_len"] // cp                        # tokens of one sequence on one GPU
    dp_equiv = c["data_parallel"] * cp                # ranks that share the weights' gradients
    sequences = c["batch_per_dp"] * c["data_parallel"]
    tokens = sequences * c["seq_len"]                 # per step, whole job
    layout = dict(n_params=m["n_params"], n_layers=m["n_layers"], d_model=m["d_model"], seq_len=chunk,
                  global_batch_size=sequences * cp, micro_batch_size=1, data_parallel=dp_equiv,
                  tensor_parallel=tp, pipeline_parallel=pp, zero_stage=1, interleave=a["interleave"],
                  matmul_efficiency=a["matmul_efficiency"],
                  intra_bandwidth_bytes_per_s=a["nvlink_efficiency"] * link_bandwidth("NVLink 4.0 (H100)"))
    plain = step_time(**layout, recompute="none")
    full = step_time(**layout, recompute="full")

    # FLOPs per step, whole job: matmuls 6·N per token; attention 12·L·d·s per token over the full context
    gemm_flops = float(training_flops(m["n_params"], tokens))
    attn_flops = float(training_flops(m["n_params"], tokens, m["n_layers"], m["d_model"], c["seq_len"])) - gemm_flops
    attn_chunk = float(training_flops(m["n_params"], tokens, m["n_layers"], m["d_model"], chunk)) - gemm_flops
    rate = n * peak
    ideal = (gemm_flops + a["counted_attention"] * attn_flops) / rate      # the MFU's numerator, at peak
    attention = attn_flops * a["causal_fraction"] / (a["attention_efficiency"] * rate)
    matmuls = plain.compute_time - attn_chunk / (a["matmul_efficiency"] * rate)   # step_time's, less its attention

    t = {"matmuls below peak": matmuls - gemm_flops / rate,
         "attention kernels": attention - a["counted_attention"] * attn_flops / rate,
         "memory-bound kernels": nonmatmul_bytes_per_token(m["d_model"], m["d_ff"], m["n_layers"], m["n_kv_heads"],
                                                           m["head_dim"], passes=a["elementwise_passes"])
         * tokens / (n * hbm)}
    budget = (1 - a["memory_reserve"]) * h100.memory_bytes
    share = float(np.clip((plain.memory_per_device - budget) / (plain.memory_per_device - full.memory_per_device),
                          0.0, 1.0))                  # of the layers, fully recomputed so the rest fits
    t["recomputation to fit memory"] = share * (full.compute_time - plain.compute_time)
    t["tensor-parallel comm"] = plain.exposed_tp + share * (full.exposed_tp - plain.exposed_tp)
    t["pipeline-parallel comm"] = plain.exposed_pp
    if cp > 1:
        # per layer and micro-batch: all-gather K and V of the whole sequence (this GPU's KV heads), forward,
        # and reduce-scatter their gradients in the backward (the same bytes): on the network (TP fills a node)
        kv_bytes = 2 * c["seq_len"] * m["n_kv_heads"] * m["head_dim"] * 2 / tp
        per = allgather_time(kv_bytes, cp, link_bandwidth("InfiniBand NDR"))
        t["context-parallel comm"] = 2 * per * m["n_layers"] / pp * plain.n_microbatches
    # the bubble idles every GPU for the same fraction of all pipelined work (chapter 02's (p − 1)/(v·m))
    bubble_fraction = plain.bubble_time / (plain.compute_time + plain.exposed_tp + plain.exposed_pp)
    t["pipeline bubble"] = bubble_fraction * (ideal + sum(t.values()))
    t["data-parallel comm"] = plain.exposed_dp
    factor = a["thermal_slowdown"] * slow_node_slowdown(n, a["slow_fraction"], a["slowdown"])
    t["warm or slow GPUs"] = (ideal + sum(t.values())) * (factor - 1)

    steps, total = [("peak", 1.0)], ideal
    for name, seconds in t.items():
        total += seconds
        steps.append((name, ideal / total))
    return Waterfall(name=f"Llama 3 405B, {row}", steps=steps, published=c["published_mfu"], seconds=t,
                     config=dict(c, recomputed_share=share, bubble_fraction=bubble_fraction, assumptions=a))


def llama3_waterfalls(**overrides):
    """:func:`mfu_waterfall` of every layout of :data:`LLAMA3_TABLE4`, in the table's order."""
    return [mfu_waterfall(row, **overrides) for row in LLAMA3_TABLE4]


def plot_mfu_waterfall(waterfall, ax=None):
    """Bars from the peak down to the modelled MFU, the hatched gap to the published MFU, and both MFUs."""
    from ..core.validate import instance
    instance("waterfall", waterfall, Waterfall, "a Waterfall from mfu_waterfall")
    fig, ax = new_axes(ax, figsize=(8, 4.2))
    names = [name for name, _ in waterfall.steps[1:]]
    level = 1.0
    for k, (name, after) in enumerate(waterfall.steps[1:]):
        drop = level - after
        ax.bar(k, -drop * 100, bottom=level * 100, color="C3" if drop > 0 else "C2", width=0.7)
        ax.text(k, level * 100 + 1, f"{drop:+.1%}".replace("+", "−", 1) if drop > 0 else f"+{-drop:.1%}",
                ha="center", fontsize=7)
        level = after
    k = len(names)
    ax.bar(k, waterfall.modelled * 100, color="C0", width=0.7)
    ax.text(k, waterfall.modelled * 100 + 1, f"{waterfall.modelled:.1%}", ha="center", fontsize=7)
    gap = waterfall.unexplained
    ax.bar(k + 1, -gap * 100, bottom=waterfall.modelled * 100, color="none", edgecolor="grey", hatch="//",
           width=0.7)
    ax.bar(k + 2, waterfall.published * 100, color="k", width=0.7)
    ax.text(k + 2, waterfall.published * 100 + 1, f"{waterfall.published:.0%}", ha="center", fontsize=7)
    labels = names + ["modelled MFU", "not modelled", "published MFU"]
    ax.set_xticks(range(len(labels)), labels, rotation=40, ha="right", fontsize=7)
    ax.set_ylim(0, 105)
    ax.set_ylabel("% of peak FLOP/s")
    ax.set_title(waterfall.name + ": where the peak goes", fontsize=9)
    fig.tight_layout()
    return fig


__all__ = ["LLAMA3_405B", "LLAMA3_TABLE4", "WATERFALL_ASSUMPTIONS", "nonmatmul_bytes_per_token", "Waterfall",
           "mfu_waterfall", "llama3_waterfalls", "plot_mfu_waterfall"]
