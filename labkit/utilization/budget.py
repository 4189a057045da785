"""Why a cluster sits at 40 %: an MFU loss budget, a waterfall from peak to achieved.

:func:`achieved_step_time` is the model for any design (vectorized: a 10,000-layout sweep is one call);
:func:`mfu_waterfall` draws it for Llama 3 405B's published layouts.

Each bar is a model: the training step of chapter 02 (:func:`labkit.scaling.step_time`: compute at a
matmul efficiency, exposed tensor/pipeline/data-parallel communication, the pipeline bubble, memory per
device), the collectives of chapter 03 (:func:`labkit.interconnect.allgather_time`: context-parallel
all-gathers), and what is this chapter's own: memory-bound non-matmul kernels (:func:`nonmatmul_bytes_per_token`
on the roofline), attention kernels at long context, the recomputation memory forces, and persistently
slow GPUs (:func:`labkit.utilization.slow_node_slowdown`). Every input is cited or named as an assumption
in :data:`WATERFALL_ASSUMPTIONS`; none is fitted to the MFU it is compared with. What the models leave
unexplained is drawn as its own hatched bar, not folded into a factor. The same model, untuned, is checked
against published runs it never saw: Megatron-LM on A100s (:func:`megatron_comparison`, one layer:
:func:`megatron_layer_comparison`) and NVIDIA's Llama 3.1 runs on H100 (:func:`nvidia_h100_comparison`);
:func:`plot_step_time_validation` draws all of them.

Units: seconds, bytes, FLOP, FLOP/s; MFUs and bars are fractions of peak (0.41 = 41 %).
"""

from dataclasses import dataclass, field

import numpy as np

from ..core.devices import datasheet
from ..core.plotting import HATCHES, new_axes
from ..core.validate import choice, finite_result, flag, fraction, integer, number, positive
from ..scaling import LLAMA3_70B_PARAMS
from .stragglers import slow_node_slowdown

#: Llama 3 405B's shape (Dubey et al. 2024, arXiv:2407.21783, Table 3): 126 layers, model dimension
#: 16,384, FFN dimension 53,248, 128 attention heads, 8 key/value heads (head dimension 128), vocabulary
#: 128,256 tokens ("128K"; exact size from the released tokenizer).
LLAMA3_405B = {"n_params": 405e9, "n_layers": 126, "d_model": 16384, "d_ff": 53248, "n_heads": 128,
               "n_kv_heads": 8, "head_dim": 128, "vocab_size": 128256}

#: The three 405B layouts of Dubey et al. 2024, Table 4 (BF16, H100): GPUs, TP, CP, PP, DP, sequence
#: length, sequences per data-parallel group per step, and the published MFU. 16M tokens per step each.
#: ``imbalance_wait``: the share of the step GPUs wait for a rank whose document-masked attention has more
#: work — measured by Meta only at 131K tokens: exposed context-parallel communication was 7.64 % of the
#: elapsed time, 65.75 % of it waiting for the slowest rank (Chu et al. 2025, "Scaling Llama 3 Training with
#: Efficient Parallelism Strategies", ISCA, §7.3.2); 0 at 8K tokens (named: not measured; attention is 4 %
#: of the FLOPs there).
LLAMA3_TABLE4 = {
    "8K GPUs, 8K tokens": dict(n_devices=8192, tensor_parallel=8, context_parallel=1, pipeline_parallel=16,
                               data_parallel=64, seq_len=8192, batch_per_dp=32, published_mfu=0.43,
                               imbalance_wait=0.0),
    "16K GPUs, 8K tokens": dict(n_devices=16384, tensor_parallel=8, context_parallel=1, pipeline_parallel=16,
                                data_parallel=128, seq_len=8192, batch_per_dp=16, published_mfu=0.41,
                                imbalance_wait=0.0),
    "16K GPUs, 131K tokens": dict(n_devices=16384, tensor_parallel=8, context_parallel=16, pipeline_parallel=16,
                                  data_parallel=8, seq_len=131072, batch_per_dp=16, published_mfu=0.38,
                                  imbalance_wait=0.0764 * 0.6575),
}

#: Every input of the waterfall: value and where it comes from (cited, or named as an assumption).
WATERFALL_ASSUMPTIONS = {
    "matmul_efficiency": (794.5 / 989, "cited: best measured H100 SXM BF16 matmul, 794.5 of 989 TFLOP/s (S. Bekman, "
                                       "'Machine Learning Engineering', Maximum Achievable Matmul FLOPS table, "
                                       "github.com/stas00/ml-engineering commit 744d01e; "
                                       "labkit.scaling.MEASURED_MATMUL_EFFICIENCY). A best case: the shapes of a "
                                       "real model run slower"),
    "sustained_matmul_efficiency": (708.5 / 989, "cited: the sustained, power-saturated BF16 matmul rate, 708.5 of 989 "
                                                 "TFLOP/s at ~693 W and 1,465 MHz — 'for training-throughput "
                                                 "reasoning use MSMF' (S. Bekman, 'Machine Learning Engineering', "
                                                 "MSMF column, github.com/stas00/ml-engineering branch fast-mamf, "
                                                 "commit 082816f; labkit.scaling.SUSTAINED_MATMUL_EFFICIENCY); named: "
                                                 "measured on an H200, taken for the H100 (same GH100 die, same "
                                                 "700 W limit, at which Llama 3's GPUs ran, §3.3.1)"),
    "attention_efficiency": (0.35, "cited: FlashAttention-2 on H100 reaches about 35 % of peak (Shah et al. 2024, "
                                   "FlashAttention-3, arXiv:2407.08608, abstract); counted on the FLOPs it executes"),
    "causal_fraction": (0.5, "named assumption: a causal kernel computes only the unmasked half of QKᵀ and "
                             "attention·V (12·L·d·s FLOP per token is the whole square, PaLM App. B)"),
    "counted_attention": (0.5, "named assumption: the MFU counts the attention FLOPs actually computed, the causal "
                               "half (as FlashAttention's TFLOP/s do). Llama 3 does not say; counting the whole "
                               "square (1.0, PaLM's convention) would make the 131K run the most efficient of the "
                               "three, the opposite of Table 4"),
    "interleave": (8, "derived from the paper: virtual stages per GPU. Llama 3 uses an interleaved schedule with "
                      "bubble (PP − 1)/(V·M) and removes one layer from the first and last stages so that 'the first "
                      "model chunk on the first stage has only the embedding' (Dubey et al. 2024, §3.3.2): chunks of "
                      "one layer, V = (126 + 2)/16 = 8. V itself is not printed"),
    "recompute": ("none", "cited: 'we could pre-train Llama 3 on sequences of 8K tokens without activation "
                          "checkpointing' (Dubey et al. 2024, §3.3.2); named for the 131K row, whose GPUs also hold "
                          "8,192 tokens each (CP 16)"),
    "recompute_to_fit": (False, "cited, as above: nothing was recomputed. Chapter 02's memory model puts this layout "
                                "at 100 GB per GPU; Meta's deallocation of stage inputs and outputs is not modelled"),
    "nvlink_efficiency": (0.82, "cited: NCCL reaches ≈ 82 % of NVLink 4.0's line rate (nccl-tests issue #212, "
                                "datasets/README.md)"),
    "memory_reserve": (0.10, "named assumption: share of HBM not available to the model (CUDA context, NCCL "
                             "buffers, fragmentation); recomputation is added until the rest fits"),
    "elementwise_passes": (3.0, "named assumption: the backward pass of an element-wise kernel moves twice the "
                                "forward's bytes (forward + backward = 3 × forward)"),
    "fused_elementwise": (False, "named assumption: one kernel per element-wise operation, as eager frameworks run "
                                 "them; True counts the fusions a graph compiler makes (nonmatmul_bytes_per_token)"),
    "grad_bytes_per_param": (4, "cited: Llama 3 uses 'FP32 gradient accumulation during backward computation "
                                "over multiple micro-batches and also reduce-scatter[s] gradients in FP32 across "
                                "data parallel workers in FSDP' (Dubey et al. 2024, §3.3.2): 4 bytes per gradient "
                                "in the data-parallel reduce-scatter, and a read-add-write of the FP32 buffer per "
                                "micro-batch"),
    "fused_grad_accumulation": (False, "named assumption: each micro-batch's gradient is added into the FP32 "
                                       "buffer by its own kernel, as eager PyTorch does (Megatron-LM fuses the add "
                                       "into the weight-gradient matmul, gradient_accumulation_fusion, since "
                                       "commit 83b1e42 of 2022-02-13; Llama 3 does not say)"),
    "dp_overlap_window": ("whole step", "cited: Llama 3 overlaps 'FSDP's all-gather and reduce-scatter with other "
                                        "computation and communications, exposing only the first all-gather and last "
                                        "reduce-scatter' (Chu et al. 2025, §7.3.1)"),
    "tensor_parallel_overlap": (0.0, "cited: none of the tensor-parallel traffic hides behind matmuls — 'these "
                                     "communications are fully exposed to the critical path' (Chu et al. 2025, "
                                     "'Scaling Llama 3 Training with Efficient Parallelism Strategies', ISCA, "
                                     "§5.2); 1 hides all of it"),
    "imbalance_wait": (None, "cited per row (LLAMA3_TABLE4's imbalance_wait): at 131K tokens GPUs wait 5.0 % of the "
                             "step for the rank whose document-masked attention has the most work (Chu et al. "
                             "2025, §7.3.2: 65.75 % of an exposed 7.64 %); 0 at 8K tokens, named (not measured). "
                             "A number overrides every row"),
    "thermal_slowdown": (1.015, "cited: Llama 3 saw a 1–2 % diurnal throughput variation from temperature-driven "
                                "clock changes (Dubey et al. 2024, §3.3.4); a synchronous job runs at its warmest "
                                "GPUs' pace: the midpoint, on every step"),
    "slow_fraction": (0.0, "named assumption: no GPU is persistently slow (Llama 3 found and replaced slow hosts; "
                           "set it to see what one slow GPU in a thousand costs)"),
    "slowdown": (1.0, "named assumption: how much slower a persistently slow GPU runs (1 = not slower)"),
}


def _nonmatmul_values(d, f, kv, hd, fused):
    """Values per layer forward that the memory-bound kernels move through HBM (see nonmatmul_bytes_per_token)."""
    return 8.0 * d if fused else 12.0 * d + 3.0 * f + 2.0 * kv * hd


def nonmatmul_bytes_per_token(d_model, d_ff, n_layers, n_kv_heads, head_dim, bytes_per_value=2, passes=3.0,
                              fused_elementwise=False):
    """HBM bytes per token of the memory-bound kernels between a decoder's matmuls, all layers, forward and
    backward (bytes): two RMSNorms (read and write d each), two residual adds (read 2d, write d), the SwiGLU
    product (read 2·d_ff, write d_ff) and rotary embedding of Q and K (read and write d + kv width) —
    12·d + 3·d_ff + 2·n_kv_heads·head_dim values per layer forward, × ``passes`` (3: the backward moves
    twice the forward's bytes). Assumes unfused kernels that each read their inputs and write their output
    once, in ``bytes_per_value`` (BF16: 2). Softmax lives inside FlashAttention (no HBM traffic).

    ``fused_elementwise``: count what a graph compiler (torch.compile's TorchInductor, XLA) fuses instead —
    each residual add with the RMSNorm after it (read 2d, write the sum and the normed copy: 4·d), the SwiGLU
    product in the up-projection's epilogue and rotary in the QKV projection's: 8·d values per layer forward.
    """
    d = positive("d_model", d_model, "")
    f = positive("d_ff", d_ff, "")
    layers = integer("n_layers", n_layers, minimum=1)
    kv = integer("n_kv_heads", n_kv_heads, minimum=1)
    hd = integer("head_dim", head_dim, minimum=1)
    b = positive("bytes_per_value", bytes_per_value, "bytes")
    p = positive("passes", passes, "", maximum=100)
    values = _nonmatmul_values(d, f, kv, hd, flag("fused_elementwise", fused_elementwise))
    out = values * b * p * layers
    if not np.isfinite(out):
        raise ValueError("d_model, d_ff and bytes_per_value are too large: the bytes per token overflow")
    return float(out)


#: FlashAttention-2's share of the dense BF16 peak, per device (fraction, on the FLOPs it executes): H100
#: about 35 % (Shah et al. 2024, FlashAttention-3, arXiv:2407.08608, abstract); A100 50–73 % (Dao 2023,
#: FlashAttention-2, arXiv:2307.08691, abstract) — the low end, a named choice: training runs causal
#: forward + backward, the slower half of that range.
FLASH_ATTENTION_EFFICIENCY = {"H100": 0.35, "H200": 0.35, "A100": 0.50}
#: Named assumption for devices without a cited FlashAttention-2 rate (B200, V100 …): the H100's 35 %.
UNMEASURED_ATTENTION_EFFICIENCY = 0.35
#: NCCL reaches about 82 % of NVLink 4.0's line rate (nccl-tests issue #212; datasets/README.md): applied to
#: the intra-node line rate (given or default), a cited input, not a fit.
NVLINK_EFFICIENCY = 0.82
#: The step's losses in the order a waterfall stacks them (seconds per step in :class:`AchievedStep`).
LOSSES = ("matmuls below peak", "power-limited clocks", "attention kernels", "memory-bound kernels", "recomputation to fit memory",
          "tensor-parallel comm", "pipeline-parallel comm", "context-parallel comm", "expert-parallel comm",
          "uneven pipeline stages", "pipeline bubble", "data-parallel comm", "warm or slow GPUs",
          "document-mask imbalance")
_FIELD = dict(zip(LOSSES, ("matmul_loss", "power_limit_time", "attention_loss", "memory_bound_time", "recompute_time", "exposed_tp",
                           "exposed_pp", "exposed_cp", "exposed_ep", "imbalance_time", "bubble_time", "exposed_dp",
                           "slow_gpu_time", "imbalance_wait_time")))
_COMM = ("exposed_tp", "exposed_pp", "exposed_cp", "exposed_ep", "exposed_dp")
_OTHER = ("matmul_loss", "power_limit_time", "attention_loss", "memory_bound_time", "recompute_time", "slow_gpu_time",
          "imbalance_wait_time")


def flash_attention_efficiency(device):
    """Cited FlashAttention-2 share of peak for ``device`` (:data:`FLASH_ATTENTION_EFFICIENCY`), or the named
    :data:`UNMEASURED_ATTENTION_EFFICIENCY` for a device without a citation."""
    return FLASH_ATTENTION_EFFICIENCY.get(_device(device).short_name.split()[0], UNMEASURED_ATTENTION_EFFICIENCY)


def _device(device):
    from ..core.devices import Device
    from ..core.validate import instance, text
    if isinstance(device, str):
        return datasheet(text("device", device))
    return instance("device", device, Device, "a Device (datasheet('H100')) or a datasheet name")


@dataclass(frozen=True)
class AchievedStep:
    """One optimizer step as it runs (:func:`achieved_step_time`): seconds per cause (floats, or arrays of
    the inputs' broadcast shape). ``ideal_time`` is the counted model FLOPs at peak; every other time is a
    loss on top of it, so ``step_time`` = ideal_time + the losses of :data:`LOSSES`."""
    step_time: object
    ideal_time: object            # model FLOPs / (n_devices · peak): the MFU's numerator in seconds
    matmul_loss: object           # dense matmuls at the measured matmul efficiency, beyond peak time
    power_limit_time: object      # the same matmuls at the sustained (power-limited) rate, beyond the burst rate
    attention_loss: object        # attention kernels (and, without FlashAttention, the score matrix's HBM trips)
    memory_bound_time: object     # norms, residual adds, activation products, rotary: HBM-bound
    recompute_time: object        # forward passes recomputed (full recomputation, or the share memory forces)
    exposed_tp: object
    exposed_pp: object
    exposed_cp: object            # context-parallel all-gathers of K and V, reduce-scatters of their gradients
    exposed_ep: object
    imbalance_time: object        # the busiest stage's extra work (whole layers, the output layer) others wait for
    bubble_time: object           # (p − 1)/(v·m) of all pipelined work
    exposed_dp: object
    slow_gpu_time: object         # warm GPUs (diurnal clocks) and persistently slow ones
    imbalance_wait_time: object   # waiting at collectives for a rank with more work (unequal micro-batches)
    mfu: object
    tokens_per_second: object
    model_flops: object           # counted per step, all devices: (6·N_active + counted_attention·12·L·d·s)·tokens
    n_devices: object
    n_microbatches: object
    memory_per_device: object     # bytes, after the recomputation that memory forces
    recomputed_share: object      # share of layers fully recomputed (1 with recompute="full")
    fits_in_memory: object        # bool: memory_per_device ≤ (1 − memory_reserve) · device memory
    matmul_efficiency: object
    sustained_matmul_efficiency: object
    attention_efficiency: object

    def breakdown(self):
        """Seconds per cause in waterfall order: "compute" (model FLOPs at peak), then :data:`LOSSES`."""
        return {"compute": self.ideal_time, **{name: getattr(self, f) for name, f in _FIELD.items()}}

    @property
    def exposed_comm(self):
        """All exposed communication (s): tensor, pipeline, context, expert and data parallel."""
        return sum(getattr(self, f) for f in _COMM)

    @property
    def other_losses(self):
        """Kernels below peak, recomputation, warm/slow GPUs and the wait for ranks with more work (s)."""
        return sum(getattr(self, f) for f in _OTHER)

    def parts(self):
        """The four-way split: compute (model FLOPs at peak), exposed communication, pipeline bubble (with the
        wait for the busiest stage), other losses (kernels below peak, recomputation, warm or slow GPUs, the
        wait for ranks with more work); seconds, adding up to step_time."""
        return {"compute": self.ideal_time, "exposed communication": self.exposed_comm,
                "pipeline bubble": self.bubble_time + self.imbalance_time, "other losses": self.other_losses}

    def summary(self):
        if np.ndim(self.step_time):
            return f"AchievedStep over {np.size(self.step_time)} designs (arrays)"
        parts = ", ".join(f"{k} {v:.3g} s" for k, v in self.parts().items())
        return (f"step {self.step_time:.3g} s on {int(self.n_devices):,} devices ({parts}); MFU {self.mfu:.1%}; "
                f"{self.memory_per_device / 1e9:.0f} GB per device"
                f"{'' if self.fits_in_memory else ' — does not fit'}")

    def __str__(self):
        return self.summary()


def _busiest_stage(n_layers, p, output_layers):
    """The busiest pipeline stage's work over the mean stage's (≥ 1), in layers: whole layers, the output
    layer (``output_layers`` layers of work) on the last stage, split as evenly as whole layers allow."""
    n_layers, p = np.asarray(n_layers, dtype=float), np.asarray(p, dtype=float)
    mean = (n_layers + output_layers) / p
    best = np.full(np.broadcast(n_layers, p, output_layers).shape, np.inf)
    even = np.floor(n_layers / p)
    for shift in (-2, -1, 0, 1):                       # layers the last stage takes around the even share
        last = np.clip(even + shift, 0, n_layers)
        others = np.ceil((n_layers - last) / np.maximum(p - 1, 1))
        best = np.minimum(best, np.maximum(others, last + output_layers))
    return np.where(p > 1, best / mean, 1.0)


def achieved_step_time(n_params, n_layers, d_model, seq_len, global_batch_size, micro_batch_size=1,
                       data_parallel=1, tensor_parallel=1, pipeline_parallel=1, zero_stage=1, interleave=1, *,
                       context_parallel=1, n_active_params=None, expert_parallel=1, experts_per_token=1,
                       d_ff=None, n_heads=None, n_kv_heads=None, head_dim=128, vocab_size=None, device="H100",
                       peak_flops_per_s=None, matmul_efficiency=None, sustained_matmul_efficiency=None,
                       attention_efficiency=None,
                       flash_attention=True, intra_bandwidth_bytes_per_s=None, inter_bandwidth_bytes_per_s=None,
                       intra_latency=None, inter_latency=None, gpus_per_node=8, overlap=True,
                       recompute="selective", recompute_to_fit=True, nvlink_efficiency=NVLINK_EFFICIENCY,
                       memory_reserve=0.10, elementwise_passes=3.0, fused_elementwise=False, causal_fraction=0.5, counted_attention=0.5,
                       thermal_slowdown=1.015, slow_fraction=0.0, slowdown=1.0, grad_bytes_per_param=2,
                       fused_grad_accumulation=False, tensor_parallel_overlap=0.0, imbalance_wait=0.0,
                       dp_overlap_window="last backward"):
    """Seconds of one optimizer step as a large run achieves it, for any design: chapter 02's
    :func:`labkit.scaling.step_time` (communication, bubble, memory) with every kernel at a cited rate and
    chapter 04's losses added — an :class:`AchievedStep`. Arguments as step_time's (all numeric ones
    broadcast), plus:

    - ``matmul_efficiency`` (default: the device's measured best matmul,
      :func:`labkit.scaling.measured_matmul_efficiency`, cited) for the 6·N_active FLOP per token: a short
      burst at the boost clock. ``sustained_matmul_efficiency`` (default: the device's sustained,
      power-saturated rate, :func:`labkit.scaling.sustained_matmul_efficiency`, cited; none measured: no
      loss) is what a GPU holds at its power limit for a whole run: the difference is the "power-limited
      clocks" bar (a sustained rate above the burst rate counts as the burst rate). Pass the burst rate to
      switch it off.
    - Attention (12·L·d·s FLOP per token, fwd + bwd): with ``flash_attention`` the causal kernel executes
      ``causal_fraction`` of it at ``attention_efficiency`` (default :func:`flash_attention_efficiency`,
      cited; its backward's recomputation is inside that rate). Without it (Megatron 2021–22) the QKᵀ and
      attention·V matmuls run the whole square at the matmul efficiency and the n_heads·s² score matrix makes
      6 two-byte HBM trips per layer forward (write, fused softmax read+write, dropout read+write, read),
      ×``elementwise_passes`` for fwd + bwd; selective recomputation repeats the forward ones.
    - Memory-bound kernels: :func:`nonmatmul_bytes_per_token` with ``d_ff`` (default 4·d), ``n_kv_heads``
      (default n_heads, from d_model / head_dim) on the device's HBM roofline; ``fused_elementwise`` counts
      a graph compiler's fusions instead of one kernel per operation. Gradient accumulation is one too: each
      micro-batch's bf16 weight gradient is added into a buffer of ``grad_bytes_per_param`` per
      parameter (2 + 2·that bytes per local parameter per micro-batch; FP32 in Llama 3), unless
      ``fused_grad_accumulation``: the weight-gradient matmul adds into the buffer in its epilogue, hidden
      under its compute (Megatron-LM's ``gradient_accumulation_fusion``, on by default since 2022). The
      data-parallel reduce sends the same precision (step_time).
    - Recomputation: ``recompute="full"`` recomputes every layer's forward; otherwise, with
      ``recompute_to_fit``, the share of layers that must be fully recomputed so memory fits in
      (1 − ``memory_reserve``) of the device's HBM (interpolating step_time's "none" and "full" memory).
      A recomputed forward costs a third of the layer's fwd + bwd kernels.
    - Uneven stages: the pipeline runs at its busiest stage's pace. Layers are whole, and the last stage also
      computes the output layer (``vocab_size``·d_model weights ≈ vocab_size·d_model·n_layers / N_active
      layers of work; None: not counted): the best whole-layer split — the last stage may take fewer layers,
      as Llama 3 did (Dubey et al. 2024, §3.3.2) — sets the busiest stage's work against the mean.
    - Data-parallel traffic: step_time's, with its ``dp_overlap_window`` (``"last backward"``: behind the last
      micro-batch's backward pass; ``"whole step"``: behind all other work, one layer's bucket exposed —
      Llama 3's FSDP, Chu et al. 2025, §7.3.1).
    - Tensor-parallel traffic waits on the critical path, less the share ``tensor_parallel_overlap`` that
      runs hidden behind matmuls (0: none, as Megatron-LM ran in 2021–22; NeMo's userbuffers overlap hides
      some — no measurement says how much, and the matmuls it runs beside slow down).
    - ``context_parallel`` c: each GPU runs seq_len / c tokens of a sequence — timed as step_time's c-times
      wider data parallelism on those chunks — plus attention over the full context and the all-gather of
      K and V (and reduce-scatter of their gradients) per layer per micro-batch.
    - Links: the intra-node line rate (given or NVLink 4.0) × ``nvlink_efficiency`` (cited 0.82).
    - Warm and slow GPUs: × ``thermal_slowdown`` (cited 1–2 % diurnal, Llama 3 §3.3.4) ×
      :func:`slow_node_slowdown`'s closed form with ``slow_fraction`` and ``slowdown``.
    - Unequal micro-batches: ``imbalance_wait`` is the share of the whole step that GPUs spend waiting at
      collectives for a rank with more work (document masks make attention unequal across ranks; Meta
      measured 5 % at 131K tokens, Chu et al. 2025, §7.3.2). A measured share, not a model of the masks.

    MFU counts 6·N_active + ``counted_attention`` × 12·L·d·s FLOP per token (0.5: the causal half — named;
    papers differ). The pipeline bubble is (p − 1)/(v·m) of all pipelined work (kernels, recomputation,
    TP/PP/CP/EP communication); data-parallel traffic is step_time's exposed share. No fitted factor:
    every input is cited or named in :data:`WATERFALL_ASSUMPTIONS`. Units: s, bytes, FLOP, FLOP/s.
    """
    from ..interconnect import NCCL_STEP_LATENCY, allgather_time
    from ..scaling import (INTER_NODE_LINK, INTRA_NODE_LINK, link_bandwidth, measured_matmul_efficiency, step_time,
                           sustained_matmul_efficiency as sustained_default)
    from ..core.validate import counts, flag

    dev = _device(device)
    peak = dev.peak_flops_per_s if peak_flops_per_s is None else \
        positive("peak_flops_per_s", peak_flops_per_s, "FLOP/s", array=True)
    eff = measured_matmul_efficiency(dev) if matmul_efficiency is None else \
        fraction("matmul_efficiency", matmul_efficiency, array=True, allow_zero=False)
    if sustained_matmul_efficiency is None:
        sustained = sustained_default(dev)
        sustained = eff if sustained is None else sustained
    else:
        sustained = fraction("sustained_matmul_efficiency", sustained_matmul_efficiency, array=True, allow_zero=False)
    sustained = np.minimum(sustained, eff)          # a GPU cannot sustain more than its burst rate
    attn_eff = flash_attention_efficiency(dev) if attention_efficiency is None else \
        fraction("attention_efficiency", attention_efficiency, array=True, allow_zero=False)
    flash = flag("flash_attention", flash_attention)
    cp = counts("context_parallel", context_parallel, minimum=1)
    d = counts("d_model", d_model, minimum=1)
    hd = counts("head_dim", head_dim, minimum=1)
    heads = np.maximum(d / hd, 1.0) if n_heads is None else counts("n_heads", n_heads, minimum=1)
    kv = heads if n_kv_heads is None else counts("n_kv_heads", n_kv_heads, minimum=1)
    ffn = 4.0 * d if d_ff is None else counts("d_ff", d_ff, minimum=1)
    choice("recompute", recompute, ("none", "selective", "full"))
    to_fit = flag("recompute_to_fit", recompute_to_fit)
    link_eff = fraction("nvlink_efficiency", nvlink_efficiency, allow_zero=False)
    reserve = fraction("memory_reserve", memory_reserve, allow_one=False)
    passes = positive("elementwise_passes", elementwise_passes, "", maximum=10)
    fused = flag("fused_elementwise", fused_elementwise)
    causal = fraction("causal_fraction", causal_fraction, allow_zero=False)
    counted = fraction("counted_attention", counted_attention, allow_zero=False)
    warm = number("thermal_slowdown", thermal_slowdown, "", minimum=1, maximum=100)
    slow_f = fraction("slow_fraction", slow_fraction)
    slow_s = number("slowdown", slowdown, "", minimum=1, maximum=100)
    grad_bytes = positive("grad_bytes_per_param", grad_bytes_per_param, "bytes", maximum=8)
    fused_accumulation = flag("fused_grad_accumulation", fused_grad_accumulation)
    tp_hidden = fraction("tensor_parallel_overlap", tensor_parallel_overlap)
    wait_share = fraction("imbalance_wait", imbalance_wait, allow_one=False)
    intra = link_bandwidth(INTRA_NODE_LINK) if intra_bandwidth_bytes_per_s is None else \
        positive("intra_bandwidth_bytes_per_s", intra_bandwidth_bytes_per_s, "bytes/s", array=True)
    inter = link_bandwidth(INTER_NODE_LINK) if inter_bandwidth_bytes_per_s is None else \
        positive("inter_bandwidth_bytes_per_s", inter_bandwidth_bytes_per_s, "bytes/s", array=True)
    a_in = NCCL_STEP_LATENCY["nvlink"] if intra_latency is None else intra_latency
    a_out = NCCL_STEP_LATENCY["network"] if inter_latency is None else inter_latency
    n_layers_ = counts("n_layers", n_layers, minimum=1)
    s = positive("seq_len", seq_len, "tokens", array=True)
    gb = counts("global_batch_size", global_batch_size, minimum=1)
    dp = counts("data_parallel", data_parallel, minimum=1)
    t = counts("tensor_parallel", tensor_parallel, minimum=1)
    p = counts("pipeline_parallel", pipeline_parallel, minimum=1)
    output_layers = 0.0 if vocab_size is None else \
        counts("vocab_size", vocab_size, minimum=1) * d * n_layers_ / (
            n_params if n_active_params is None else n_active_params)
    if np.any(np.asarray(s) / np.asarray(cp) < 1):
        raise ValueError("context_parallel must be at most seq_len (each GPU needs a token of the sequence)")

    # Chapter 02's step on each GPU's chunk: context parallelism = c-times-wider data parallelism on s/c tokens
    layout = dict(n_params=n_params, n_layers=n_layers_, d_model=d, seq_len=s / cp, global_batch_size=gb * cp,
                  micro_batch_size=micro_batch_size, data_parallel=dp * cp, tensor_parallel=t, pipeline_parallel=p,
                  zero_stage=zero_stage, interleave=interleave, n_active_params=n_active_params,
                  expert_parallel=expert_parallel, experts_per_token=experts_per_token, peak_flops_per_s=peak,
                  matmul_efficiency=eff, intra_bandwidth_bytes_per_s=link_eff * intra,
                  inter_bandwidth_bytes_per_s=inter, intra_latency=a_in, inter_latency=a_out,
                  gpus_per_node=gpus_per_node, overlap=overlap, grad_bytes_per_param=grad_bytes,
                  dp_overlap_window=dp_overlap_window)
    plain = step_time(**layout, recompute="none")
    full = step_time(**layout, recompute="full")

    with np.errstate(over="ignore", invalid="ignore", divide="ignore"):
        n = plain.n_devices
        rate = n * peak
        tokens = gb * s
        attention_flops = 12.0 * n_layers_ * d * s * tokens                     # whole square, fwd + bwd
        gemm_flops = plain.model_flops - 12.0 * n_layers_ * d * (s / cp) * tokens  # step_time's 6·N_active part
        counted_flops = gemm_flops + counted * attention_flops
        ideal = counted_flops / rate
        matmuls = plain.compute_time * gemm_flops / plain.model_flops            # step_time's, less attention
        power_limited = matmuls * (eff / sustained - 1.0)                        # burst → sustained clocks
        selective = 1.0 if recompute == "selective" else 0.0
        if flash:
            attention = causal * attention_flops / (attn_eff * rate)
        else:
            scores = 6.0 * passes * (1 + selective / 3) * 2 * heads * s * tokens * n_layers_   # bytes, fwd + bwd
            attention = (1 + selective / 3) * attention_flops / (eff * rate) + scores / (n * dev.bandwidth_bytes_per_s)
        memory_bound = _nonmatmul_values(d, ffn, kv, hd, fused) * 2 * passes * n_layers_ * tokens / (
            n * dev.bandwidth_bytes_per_s)
        if not fused_accumulation:    # read the fresh bf16 weight gradient and the buffer, write the buffer
            local = np.asarray(n_params, dtype=float) / (t * p * np.asarray(expert_parallel, dtype=float))
            memory_bound = memory_bound + plain.n_microbatches * local * (2 + 2 * grad_bytes) / \
                dev.bandwidth_bytes_per_s
        budget = (1 - reserve) * dev.memory_bytes
        if recompute == "full":
            share = np.ones_like(np.asarray(plain.memory_per_device, dtype=float))
        elif to_fit:
            share = np.clip((plain.memory_per_device - budget) / (plain.memory_per_device - full.memory_per_device),
                            0.0, 1.0)
        else:
            share = np.zeros_like(np.asarray(plain.memory_per_device, dtype=float))
        kernels = matmuls + power_limited + attention + memory_bound
        recomputation = share * kernels / 3                                      # a forward is 1/3 of fwd + bwd
        memory = plain.memory_per_device - share * (plain.memory_per_device - full.memory_per_device)
        tp = (1 - tp_hidden) * (plain.exposed_tp + share * (full.exposed_tp - plain.exposed_tp))
        kv_bytes = 2 * s * kv * hd * 2 / t                                        # K and V of the whole sequence
        cp_link = np.where(t * cp <= gpus_per_node, link_eff * intra, inter), \
            np.where(t * cp <= gpus_per_node, a_in, a_out)
        per = allgather_time(kv_bytes, np.maximum(cp, 2), *cp_link)
        context = np.where(cp > 1, 2 * per * n_layers_ / p * plain.n_microbatches, 0.0)
        pipelined = plain.compute_time + plain.exposed_tp + plain.exposed_pp + plain.exposed_ep
        bubble_fraction = plain.bubble_time / pipelined                          # (p − 1)/(v·m)
        per_layer = kernels + recomputation + tp + context + plain.exposed_ep    # grows with a stage's layers
        imbalance = per_layer * (_busiest_stage(n_layers_, p, output_layers) - 1)
        work = per_layer + imbalance + plain.exposed_pp
        bubble = bubble_fraction * work
        before_slow = work + bubble + plain.exposed_dp
        some_slow = -np.expm1(n * np.log1p(-slow_f)) if slow_f < 1 else 1.0    # slow_node_slowdown's closed form
        slow = before_slow * (warm * (1 + (slow_s - 1) * some_slow) - 1)
        step = before_slow + slow
        imbalance_wait_time = step * wait_share / (1 - wait_share)           # wait_share of the final step
        step = step + imbalance_wait_time
        fields = dict(step_time=step, ideal_time=ideal, matmul_loss=matmuls - gemm_flops / rate,
                      power_limit_time=power_limited,
                      attention_loss=attention - counted * attention_flops / rate, memory_bound_time=memory_bound,
                      recompute_time=recomputation, exposed_tp=tp, exposed_pp=plain.exposed_pp, exposed_cp=context,
                      exposed_ep=plain.exposed_ep, imbalance_time=imbalance, bubble_time=bubble, exposed_dp=plain.exposed_dp,
                      slow_gpu_time=slow, imbalance_wait_time=imbalance_wait_time, mfu=ideal / step, tokens_per_second=tokens / step,
                      model_flops=counted_flops, n_devices=n, n_microbatches=plain.n_microbatches,
                      memory_per_device=memory, recomputed_share=share,
                      fits_in_memory=memory <= budget * (1 + 1e-9), matmul_efficiency=eff,
                      sustained_matmul_efficiency=sustained,
                      attention_efficiency=attn_eff)
    shape = np.broadcast(*[np.asarray(v) for v in fields.values()]).shape
    if not all(np.all(np.isfinite(np.asarray(v, dtype=float))) for v in fields.values()):
        raise ValueError("the achieved step time is not finite for these inputs: use values within the course's range")
    if not shape:
        return AchievedStep(**{k: (bool(v) if k == "fits_in_memory" else float(v)) for k, v in fields.items()})
    return AchievedStep(**{k: np.broadcast_to(v, shape).astype(bool if k == "fits_in_memory" else float)
                           for k, v in fields.items()})


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

    A view of :func:`achieved_step_time` (the same model any design gets): its losses, added one at a time
    in :data:`LOSSES` order, each a model — matmuls at ``matmul_efficiency``; attention at
    ``attention_efficiency`` on the ``causal_fraction`` of the FLOPs it executes; non-matmul kernels
    (:func:`nonmatmul_bytes_per_token` at HBM bandwidth); the recomputation needed to fit memory; exposed
    tensor, pipeline, context and data-parallel communication and the bubble (:func:`labkit.scaling.step_time`,
    :func:`labkit.interconnect.allgather_time`); warm GPUs (:func:`slow_node_slowdown`'s closed form).
    ``overrides`` replace entries of :data:`WATERFALL_ASSUMPTIONS` by name (e.g. ``interleave=2``).
    """
    if not isinstance(row, str):
        raise TypeError(f"row must be one of {', '.join(map(repr, LLAMA3_TABLE4))}, got {row!r}")
    choice("row", row, tuple(LLAMA3_TABLE4))
    unknown = set(overrides) - set(WATERFALL_ASSUMPTIONS)
    if unknown:
        raise TypeError(f"unknown assumption(s) {sorted(unknown)}: choose from {sorted(WATERFALL_ASSUMPTIONS)}")
    a = {k: _assumption(k, overrides) for k in WATERFALL_ASSUMPTIONS}
    a["interleave"] = integer("interleave", a["interleave"], minimum=1, maximum=8)
    m, c = LLAMA3_405B, LLAMA3_TABLE4[row]
    if a["imbalance_wait"] is None:
        a["imbalance_wait"] = c["imbalance_wait"]
    r = achieved_step_time(m["n_params"], m["n_layers"], m["d_model"], c["seq_len"],
                           c["batch_per_dp"] * c["data_parallel"], 1, c["data_parallel"], c["tensor_parallel"],
                           c["pipeline_parallel"], 1, a.pop("interleave"), context_parallel=c["context_parallel"],
                           d_ff=m["d_ff"], n_heads=m["n_heads"], n_kv_heads=m["n_kv_heads"], head_dim=m["head_dim"],
                           vocab_size=m["vocab_size"], device="H100", **a)
    seconds = {name: value for name, value in r.breakdown().items()
               if name != "compute" and (value > 0 or name not in ("context-parallel comm", "expert-parallel comm",
                                                          "document-mask imbalance"))}
    steps, total = [("peak", 1.0)], r.ideal_time
    for name, value in seconds.items():
        total += value
        steps.append((name, r.ideal_time / total))
    bubble_fraction = r.bubble_time / (r.step_time - r.bubble_time - r.exposed_dp - r.slow_gpu_time
                                       - r.imbalance_wait_time)
    return Waterfall(name=f"Llama 3 405B, {row}", steps=steps, published=c["published_mfu"], seconds=seconds,
                     config=dict(c, recomputed_share=r.recomputed_share, bubble_fraction=bubble_fraction,
                                 assumptions=dict(a, interleave=overrides.get("interleave",
                                                                              WATERFALL_ASSUMPTIONS["interleave"][0])),
                                 step=r))


def llama3_waterfalls(**overrides):
    """:func:`mfu_waterfall` of every layout of :data:`LLAMA3_TABLE4`, in the table's order."""
    return [mfu_waterfall(row, **overrides) for row in LLAMA3_TABLE4]


def plot_mfu_waterfall(waterfall, ax=None):
    """Bars from the peak down to the modelled MFU (losses plain, any gain dotted), the hatched gap to the published
    MFU, and both MFUs."""
    from ..core.validate import instance
    instance("waterfall", waterfall, Waterfall, "a Waterfall from mfu_waterfall")
    fig, ax = new_axes(ax, figsize=(8, 4.2))
    names = [name for name, _ in waterfall.steps[1:]]
    level = 1.0
    for k, (name, after) in enumerate(waterfall.steps[1:]):
        drop = level - after
        # a gain is hatched as well as green, so it does not differ from a loss by colour alone
        ax.bar(k, -drop * 100, bottom=level * 100, color="C3" if drop > 0 else "C2", width=0.7,
               hatch=None if drop > 0 else HATCHES[3], edgecolor="white", linewidth=0)
        label = "0%" if abs(drop) < 5e-4 else (f"−{drop:.1%}" if drop > 0 else f"+{-drop:.1%}")
        ax.text(k, level * 100 + 1, label, ha="center", fontsize=7)
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


#: Megatron-LM runs on Selene's A100s, as published: shape, layout (t = 8 everywhere, micro-batch 1,
#: 2,048-token sequences, 51,200-token vocabulary) and either the per-GPU rate (Narayanan et al. 2021,
#: Table 1, recomputation counted by their eq. 3) or the step time (Korthikanti et al. 2022, Table 5).
#: Megatron-LM fused gradient accumulation into the weight-gradient matmul from 2022-02-13 (commit 83b1e42,
#: "gradient accumulation fusion", on by default): the 2022 runs have it; the 2021 runs add each
#: micro-batch's gradient with a separate kernel, in the model's default bf16 (named).
MEGATRON_A100_RUNS = (
    dict(name="175B, 1,536 GPUs (2021)", n_params=175e9, n_layers=96, d_model=12288, global_batch_size=1536,
         pipeline_parallel=8, data_parallel=24, recompute="full", published_flops_per_s=153e12,
         fused_grad_accumulation=False, source="Narayanan et al. 2021, Table 1"),
    dict(name="1T, 3,072 GPUs (2021)", n_params=1e12, n_layers=128, d_model=25600, global_batch_size=3072,
         pipeline_parallel=64, data_parallel=6, recompute="full", published_flops_per_s=163e12,
         fused_grad_accumulation=False, source="Narayanan et al. 2021, Table 1"),
    dict(name="175B, 64 GPUs (2022)", n_params=175e9, n_layers=96, d_model=12288, global_batch_size=64,
         pipeline_parallel=8, data_parallel=1, recompute="selective", published_step_time=13.75,
         fused_grad_accumulation=True, source="Korthikanti et al. 2022, Table 5"),
    dict(name="530B, 280 GPUs (2022)", n_params=530e9, n_layers=105, d_model=20480, global_batch_size=280,
         pipeline_parallel=35, data_parallel=1, recompute="selective", published_step_time=37.83,
         fused_grad_accumulation=True, source="Korthikanti et al. 2022, Table 5"),
    dict(name="1T, 512 GPUs (2022)", n_params=1e12, n_layers=128, d_model=25600, global_batch_size=512,
         pipeline_parallel=64, data_parallel=1, recompute="selective", published_step_time=71.49,
         fused_grad_accumulation=True, source="Korthikanti et al. 2022, Table 5"),
)

#: Selene's links and kernels: NVLink 3 line rate, 8 × 200 Gb/s HDR per node, no FlashAttention (2021–22).
_SELENE = dict(device="A100", intra_bandwidth_bytes_per_s=300e9, inter_bandwidth_bytes_per_s=25e9,
               flash_attention=False, vocab_size=51200)


#: One transformer layer of Korthikanti et al.'s 22B GPT on one node (Korthikanti et al. 2022,
#: arXiv:2205.05198, §6.2, Table 4): d = 6,144, 64 heads, s = 2,048 tokens, micro-batch 4, tensor parallel 8,
#: no pipeline or data parallelism, A100 80 GB on Selene. Forward + backward seconds per layer, with
#: sequence parallelism (the element-wise kernels split over the 8 GPUs, as achieved_step_time assumes):
#: 7.2 + 11.8 ms without recomputation, 7.2 + 13.1 ms with selective recomputation.
KORTHIKANTI_LAYER = dict(d_model=6144, n_heads=64, seq_len=2048, micro_batch_size=4, tensor_parallel=8)
KORTHIKANTI_LAYER_TIMES = {"none": 7.2e-3 + 11.8e-3, "selective": 7.2e-3 + 13.1e-3}


def megatron_layer_comparison():
    """:func:`achieved_step_time` of the single layer of :data:`KORTHIKANTI_LAYER` (one node: tensor
    parallelism only, no pipeline, no data parallelism, no warm-GPU factor) against its measured times: a
    list of dicts (recompute, modelled and measured seconds). Where this disagrees, the gap is inside a layer's
    kernels and its tensor-parallel traffic — not in bubbles, stragglers or the network."""
    c = KORTHIKANTI_LAYER
    d = c["d_model"]
    rows = []
    for recompute, measured in KORTHIKANTI_LAYER_TIMES.items():
        r = achieved_step_time(12 * d * d, 1, d, c["seq_len"], c["micro_batch_size"], c["micro_batch_size"], 1,
                               c["tensor_parallel"], 1, d_ff=4 * d, n_heads=c["n_heads"], head_dim=d // c["n_heads"],
                               recompute=recompute, recompute_to_fit=False, thermal_slowdown=1.0,
                               fused_grad_accumulation=True,      # Megatron-LM in 2022 (see MEGATRON_A100_RUNS)
                               **{k: v for k, v in _SELENE.items() if k != "vocab_size"})
        rows.append(dict(recompute=recompute, modelled_s=float(r.step_time), measured_s=measured))
    return rows


def megatron_model_flops(global_batch_size, n_layers, d_model, seq_len=2048, vocab_size=51200):
    """FLOP of one iteration as Megatron-LM counts them with full recomputation (Narayanan et al. 2021,
    eq. 3): 96·B·s·L·d²·(1 + s/(6d) + V/(16·L·d))."""
    b = positive("global_batch_size", global_batch_size, "sequences")
    n_layers, d_model = integer("n_layers", n_layers, minimum=1), integer("d_model", d_model, minimum=1)
    s, v = positive("seq_len", seq_len, "tokens"), positive("vocab_size", vocab_size, "tokens")
    flops = 96 * b * s * n_layers * d_model ** 2 * (1 + s / (6 * d_model) + v / (16 * n_layers * d_model))
    return finite_result(flops, "the iteration's FLOP", "global_batch_size", "n_layers", "d_model", "seq_len",
                         "vocab_size")


def megatron_comparison():
    """:func:`achieved_step_time` of each run of :data:`MEGATRON_A100_RUNS` with the cited inputs, none tuned:
    a list of dicts (name, modelled and published seconds per step, source). A published per-GPU rate is
    turned into seconds with :func:`megatron_model_flops`."""
    rows = []
    for run in MEGATRON_A100_RUNS:
        n_devices = 8 * run["pipeline_parallel"] * run["data_parallel"]
        r = achieved_step_time(run["n_params"], run["n_layers"], run["d_model"], 2048, run["global_batch_size"], 1,
                               run["data_parallel"], 8, run["pipeline_parallel"], recompute=run["recompute"],
                               fused_grad_accumulation=run["fused_grad_accumulation"], **_SELENE)
        published = run.get("published_step_time") or megatron_model_flops(
            run["global_batch_size"], run["n_layers"], run["d_model"]) / (n_devices * run["published_flops_per_s"])
        rows.append(dict(name=run["name"], modelled_s=float(r.step_time), published_s=float(published),
                         source=run["source"]))
    return rows

#: The Llama 3.1 family's shapes (Dubey et al. 2024, Table 3; parameter counts of the released checkpoints).
LLAMA31_SHAPES = {
    "8B": dict(n_params=8_030_261_248, n_layers=32, d_model=4096, d_ff=14336, n_heads=32, n_kv_heads=8, head_dim=128,
               vocab_size=128256),
    "70B": dict(n_params=LLAMA3_70B_PARAMS, n_layers=80, d_model=8192, d_ff=28672, n_heads=64, n_kv_heads=8,
                head_dim=128, vocab_size=128256),
    "405B": LLAMA3_405B,
}

#: NVIDIA's own BF16 pre-training runs of Llama 3.1 on DGX H100 (700 W, 8 × 400 Gb/s InfiniBand per node;
#: NeMo 25.02.01 on Megatron-Core), 8,192-token sequences, micro-batch 1: layout and published seconds per
#: step (NVIDIA dgxc-benchmarking, tag v25.04.01, llama3.1/README.md, layout table and "Llama 3.1 … BF16"
#: tables; a 50-step benchmark on synthetic data, the last step's time).
NVIDIA_H100_RUNS = tuple(
    dict(name=f"Llama 3.1 {size}, {n:,} GPUs", model=size, n_devices=n, tensor_parallel=t, pipeline_parallel=p,
         context_parallel=c, interleave=v, global_batch_size=gbs, published_step_time=seconds,
         source="NVIDIA dgxc-benchmarking v25.04.01, llama3.1/README.md")
    for size, n, t, p, c, v, gbs, seconds in (
        ("8B", 8, 1, 1, 2, 1, 128, 12.27), ("8B", 128, 1, 1, 2, 1, 2048, 12.33),
        ("70B", 64, 4, 4, 2, 5, 128, 14.66), ("70B", 2048, 4, 4, 2, 5, 4096, 14.66),
        ("405B", 512, 8, 8, 2, 8, 256, 19.78), ("405B", 1024, 8, 8, 2, 8, 512, 19.84),
        ("405B", 2048, 8, 8, 2, 8, 1024, 19.87)))

#: How NeMo's performance recipes train in BF16 on Megatron-Core, as the model takes them: gradients reduced in
#: bf16 (NeMo's performance mode sets grad_reduce_in_fp32 = False since commit 78f445f, 2025-01-30, "callbacks
#: and bf16 grad"; dgxc's script sets it again for FP8 — named for the 25.02.01 container), the add fused into
#: the weight-gradient matmul (gradient_accumulation_fusion, on by default), the distributed optimizer (ZeRO-1). Named: no activation recomputation (the recipe sets none; its memory management is
#: not modelled); tensor-parallel traffic exposed unless nvidia_h100_comparison is told otherwise (NeMo
#: overlaps it with matmuls, by an amount nobody published).
_MEGATRON_CORE = dict(grad_bytes_per_param=2, fused_grad_accumulation=True, recompute="none",
                      recompute_to_fit=False)


def nvidia_h100_comparison(tensor_parallel_overlap=0.0):
    """:func:`achieved_step_time` of each run of :data:`NVIDIA_H100_RUNS` with the cited H100 inputs of the
    Llama 3 waterfall, none tuned, and Megatron-Core's training settings: a list of dicts (name, modelled and
    published seconds per step, modelled and published MFU as this model counts, source).
    ``tensor_parallel_overlap``: the share of tensor-parallel traffic NeMo's overlap hides (0: none, the
    model's default; 1: all of it, the most it can)."""
    hidden = fraction("tensor_parallel_overlap", tensor_parallel_overlap)
    rows = []
    for run in NVIDIA_H100_RUNS:
        shape = LLAMA31_SHAPES[run["model"]]
        t, p, c = run["tensor_parallel"], run["pipeline_parallel"], run["context_parallel"]
        dp = run["n_devices"] // (t * p * c)
        r = achieved_step_time(shape["n_params"], shape["n_layers"], shape["d_model"], 8192, run["global_batch_size"],
                               1, dp, t, p, 1, run["interleave"], context_parallel=c, d_ff=shape["d_ff"],
                               n_heads=shape["n_heads"], n_kv_heads=shape["n_kv_heads"], head_dim=shape["head_dim"],
                               vocab_size=shape["vocab_size"], device="H100", tensor_parallel_overlap=hidden,
                               **_MEGATRON_CORE)
        published_mfu = float(r.mfu * r.step_time / run["published_step_time"])
        rows.append(dict(name=run["name"], modelled_s=float(r.step_time), published_s=run["published_step_time"],
                         modelled_mfu=float(r.mfu), published_mfu=published_mfu, source=run["source"]))
    return rows


def plot_step_time_validation(ax=None):
    """The step-time model against every published run it is checked on, none tuned: modelled ÷ published
    seconds per step, one bar per run, grouped by source — Megatron-LM on Selene's A100s
    (:func:`megatron_comparison`), NVIDIA's Llama 3.1 runs on DGX H100 (:func:`nvidia_h100_comparison`) and
    Meta's Llama 3 405B (:func:`llama3_waterfalls`, where the ratio of step times is published ÷ modelled
    MFU). Below 1: the model is faster than the run."""
    fig, ax = new_axes(ax, figsize=(8, 4.6))
    groups = (("Megatron-LM, A100 (2021–22)", [(r["name"], r["modelled_s"] / r["published_s"])
                                              for r in megatron_comparison()]),
              ("NVIDIA, H100 (2025)", [(r["name"].replace("Llama 3.1 ", ""), r["modelled_s"] / r["published_s"])
                                       for r in nvidia_h100_comparison()]),
              ("Meta Llama 3 405B, H100 (2024)", [(w.name.replace("Llama 3 405B, ", ""), w.published / w.modelled)
                                                  for w in llama3_waterfalls()]))
    labels, positions, y = [], [], 0.0
    for k, (group, rows) in enumerate(groups):
        for i, (name, ratio) in enumerate(rows):
            ax.barh(y, ratio - 1, left=1, color=f"C{k}", hatch=HATCHES[k], edgecolor="white", linewidth=0,
                    label=group if i == 0 else None)
            ax.text(ratio + (0.004 if ratio >= 1 else -0.004), y, f"{ratio - 1:+.0%}", va="center", fontsize=7,
                    ha="left" if ratio >= 1 else "right")
            labels.append(name)
            positions.append(y)
            y += 1
        y += 0.6                                   # a gap between sources
    ax.set_yticks(positions, labels, fontsize=7)
    ax.invert_yaxis()
    ax.axvline(1, color="k", linewidth=0.8)
    ax.set_xlim(0.82, 1.12)
    ax.set_xlabel("modelled ÷ published seconds per step (1 = exact)")
    ax.set_title("One step model, no fitted factor, against published runs", fontsize=9)
    ax.legend(fontsize=7, loc="upper right")          # the top right is empty: the A100 runs are all fast
    fig.tight_layout()
    return fig

__all__ = ["achieved_step_time", "AchievedStep", "LOSSES", "FLASH_ATTENTION_EFFICIENCY", "flash_attention_efficiency",
           "NVLINK_EFFICIENCY", "LLAMA3_405B", "LLAMA3_TABLE4", "WATERFALL_ASSUMPTIONS", "nonmatmul_bytes_per_token", "Waterfall",
           "mfu_waterfall", "llama3_waterfalls", "plot_mfu_waterfall", "MEGATRON_A100_RUNS", "megatron_model_flops",
           "megatron_comparison", "KORTHIKANTI_LAYER", "KORTHIKANTI_LAYER_TIMES", "megatron_layer_comparison",
           "LLAMA31_SHAPES", "NVIDIA_H100_RUNS", "nvidia_h100_comparison", "plot_step_time_validation"]
