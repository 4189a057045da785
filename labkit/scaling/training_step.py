"""A training step in seconds: compute, pipeline bubble and the communication a parallel layout adds.

:func:`step_time` turns a (data, tensor, pipeline, expert) parallel layout of a transformer into the time
of one optimizer step, with the α-β collectives of chapter 03 (:mod:`labkit.interconnect`, imported,
not copied) for the traffic and a named matmul efficiency for the compute. Every numeric argument
broadcasts (numpy arrays), so a sweep of thousands of layouts is one call.

Sources: Narayanan et al. 2021 (Megatron-LM: tensor-parallel all-reduces, the pipeline bubble
(p − 1)/(v·m), the scatter/gather of pipeline sends); Korthikanti et al. 2022 (sequence parallelism,
selective recomputation, activation memory, Table 3/5 runs used in the tests); Rajbhandari et al. 2020
(ZeRO); Lepikhin et al. 2021 and Fedus et al. 2022 (expert parallelism's all-to-all); Dubey et al. 2024
(Llama 3, Table 4: the 405B layouts and their MFU, used in the tests).
"""

from dataclasses import dataclass

import numpy as np

from .. import units as u
from ..core.devices import Device, datasheet
from ..core.validate import choice, counts, flag, fraction, instance, nonnegative, positive, text

#: An *effective* efficiency, and the one fitted constant of this model: the share of a device's dense peak
#: its transformer kernels — matmuls at the model's own shapes, attention, and the memory-bound softmax,
#: norm and activation kernels between them — sustain together when nothing waits for communication.
#: Fitted on ONE set of runs only, Narayanan et al. 2021, Table 1 (A100, 175B and 1T, full recomputation):
#: 0.61 reproduces both runs' per-GPU TFLOP/s on average (0.6: 0.997 and 0.972 of them), rounded to 0.6.
#: Held out (tests/test_scaling.py): Korthikanti et al. 2022's A100 runs and Llama 3 405B's H100 runs
#: (Dubey et al. 2024, Table 4), each within 15 %. One value for every device and width is the model's
#: main simplification. For cited kernel rates per device and each loss named, use chapter 04's
#: ``labkit.utilization.achieved_step_time`` (it passes :func:`measured_matmul_efficiency` here).
MATMUL_EFFICIENCY = 0.6

#: Best measured dense BF16 matmul rate as a share of the datasheet peak, per device: S. Bekman, "Machine
#: Learning Engineering", compute/accelerator/README.md, "Maximum Achievable Matmul FLOPS comparison table"
#: (github.com/stas00/ml-engineering, commit 744d01e, 2026-08): A100 SXM 271.2 of 312 TFLOP/s, H100 SXM
#: 794.5 of 989 ("H200 is the same"), B200 SXM 1,745 of 2,250. A best shape found by search: a real
#: model's shapes run at or below it. Keys are datasheet short names' first word.
MEASURED_MATMUL_EFFICIENCY = {"A100": 271.2 / 312, "H100": 794.5 / 989, "H200": 794.5 / 989, "B200": 1745.0 / 2250}
#: Named assumption for a device the table has not measured (V100, TPUs, CPUs …): the mean of its three
#: NVIDIA SXM generations (A100, H100, B200), 0.816.
UNMEASURED_MATMUL_EFFICIENCY = (271.2 / 312 + 794.5 / 989 + 1745.0 / 2250) / 3

#: Sustained (power-saturated) dense BF16 matmul rate as a share of the datasheet peak: Bekman's "Maximum
#: Sustainable Matmul FLOPS" (MSMF), measured after the GPU has soaked at its power limit and the clock has
#: settled — "for training-throughput reasoning use MSMF" (S. Bekman, "Machine Learning Engineering",
#: compute/accelerator/README.md, github.com/stas00/ml-engineering branch fast-mamf, commit 082816f,
#: 2026-08): H200 SXM 708.5 of 989 TFLOP/s at ~693 W and 1,465 MHz; B200 SXM 1,456.3 of 2,250 at ~994 W and
#: 1,339 MHz. H100: a named assumption, the H200's figure (the same GH100 die and 700 W limit; its own MSMF is
#: not yet measured). Devices without a figure have no sustained rate (the burst rate above stands).
SUSTAINED_MATMUL_EFFICIENCY = {"H100": 708.5 / 989, "H200": 708.5 / 989, "B200": 1456.3 / 2250}


def sustained_matmul_efficiency(device):
    """The cited sustained (power-limited) matmul efficiency of ``device`` from
    :data:`SUSTAINED_MATMUL_EFFICIENCY`, or None where none is measured (A100, V100, TPUs …): a fraction of
    the dense BF16 peak, at or below :func:`measured_matmul_efficiency`'s burst rate."""
    return SUSTAINED_MATMUL_EFFICIENCY.get(_table_key(device))


def _table_key(device):
    """The key of ``device`` (a Device or a datasheet name) in the per-device tables above: its short name's
    first word ("H100", "A100")."""
    if isinstance(device, str):
        device = datasheet(text("device", device))
    device = instance("device", device, Device, "a Device (datasheet('H100')) or a datasheet name")
    return device.short_name.split()[0]


def measured_matmul_efficiency(device):
    """The cited best matmul efficiency of ``device`` (a Device or a datasheet name) from
    :data:`MEASURED_MATMUL_EFFICIENCY`, or :data:`UNMEASURED_MATMUL_EFFICIENCY` (a named assumption) for a
    device Bekman's table does not list. A fraction of the dense BF16 peak."""
    return MEASURED_MATMUL_EFFICIENCY.get(_table_key(device), UNMEASURED_MATMUL_EFFICIENCY)

#: GPUs one NVLink domain holds (an 8-GPU HGX/DGX node): a collective inside it runs on NVLink.
GPUS_PER_NODE = 8
#: Links of datasets/interconnects.csv the defaults take their line rates from (per GPU, one direction).
INTRA_NODE_LINK, INTER_NODE_LINK = "NVLink 4.0 (H100)", "InfiniBand NDR"
#: Bytes of one activation, gradient or weight value on the wire (bf16).
WIRE_BYTES = 2
#: The recomputation options (Korthikanti et al. 2022): what is recomputed in the backward pass.
RECOMPUTE = ("none", "selective", "full")
#: Mixed-precision Adam (ZeRO paper §3.1), bytes per parameter: fp16/bf16 weights 2 + gradients 2 + fp32
#: master weights, momentum and variance 12 (step_time's grad_bytes_per_param replaces the 2 for gradients).
ADAM_MIXED_PRECISION = dict(weight_bytes=2, grad_bytes=2, optimizer_bytes=12)

# Collectives per layer per micro-batch: tensor parallelism's 2 forward + 2 backward all-reduces
# (Megatron f/g operators; with sequence parallelism each is a reduce-scatter + all-gather, the same
# bytes); full recomputation repeats the 2 forward ones. An MoE layer's dispatch + combine all-to-all,
# forward and backward, likewise.
_PER_LAYER = {"none": 4, "selective": 4, "full": 6}
# Share of the compute that is the backward pass (4 of 6 FLOP per parameter-token; 6 of 8 with full
# recomputation, whose extra forward runs inside the backward).
_BACKWARD_SHARE = {"none": 2 / 3, "selective": 2 / 3, "full": 3 / 4}

_KINDS = ("compute", "bubble", "tensor parallel", "pipeline parallel", "data parallel", "expert parallel")


@dataclass(frozen=True)
class StepTime:
    """One optimizer step of a parallel layout, per device. Times in s (floats, or arrays of the
    broadcast shape of the inputs); ``exposed_*`` is communication the step waits for, after overlap."""
    step_time: object
    compute_time: object
    bubble_time: object
    exposed_tp: object
    exposed_pp: object
    exposed_dp: object
    exposed_ep: object
    dp_comm_time: object          # data-parallel traffic before overlap (s)
    mfu: object                   # model FLOPs / (n_devices · peak · step_time)
    hfu: object                   # the same with recomputed FLOPs counted
    tokens_per_second: object
    model_flops: object           # model FLOP per step (6·N_active·tokens + attention), all devices
    n_devices: object
    n_microbatches: object        # m = global_batch_size / (data_parallel · micro_batch_size)
    memory_per_device: object     # bytes: training state (ZeRO-sharded) + activations in flight
    matmul_efficiency: object

    @property
    def exposed_comm(self):
        """All exposed communication (s): tensor + pipeline + data + expert parallel."""
        return self.exposed_tp + self.exposed_pp + self.exposed_dp + self.exposed_ep

    def breakdown(self):
        """Seconds per cause, in the order a waterfall stacks them: compute, bubble, then each kind of
        exposed communication. They add up to ``step_time``."""
        return dict(zip(_KINDS, (self.compute_time, self.bubble_time, self.exposed_tp, self.exposed_pp,
                                 self.exposed_dp, self.exposed_ep)))

    @property
    def bottleneck(self):
        """A plain-language diagnosis of the largest loss (a string; an array of strings for arrays)."""
        parts = {k: np.asarray(v, dtype=float) for k, v in self.breakdown().items()}
        if np.ndim(self.step_time) == 0:
            return _diagnose({k: float(v) for k, v in parts.items()}, float(self.step_time))
        shape = np.shape(self.step_time)
        flat = {k: np.broadcast_to(v, shape).ravel() for k, v in parts.items()}
        steps = np.ravel(self.step_time)
        out = [_diagnose({k: float(v[i]) for k, v in flat.items()}, float(steps[i])) for i in range(steps.size)]
        return np.array(out, dtype=object).reshape(shape)

    def summary(self):
        if np.ndim(self.step_time):
            return f"StepTime over {np.size(self.step_time)} layouts (arrays)"
        parts = ", ".join(f"{k} {u.fmt_seconds(v)}" for k, v in self.breakdown().items() if v > 0)
        return (f"step {u.fmt_seconds(self.step_time)} on {int(self.n_devices):,} devices ({parts}); "
                f"MFU {self.mfu:.1%}, {self.tokens_per_second:,.0f} tokens/s; {self.bottleneck}")

    def __str__(self):
        return self.summary()


_ADVICE = {
    "bubble": "the pipeline bubble (p − 1)/(v·m): more micro-batches per step (smaller micro_batch_size or "
              "fewer data-parallel replicas), more interleaving, or fewer pipeline stages",
    "tensor parallel": "tensor-parallel all-reduces on the critical path: keep tensor_parallel inside the "
                       "NVLink domain, or lower it (each device's slice of a layer is too thin)",
    "pipeline parallel": "pipeline sends between stages: fewer stages or less interleaving",
    "data parallel": "data-parallel traffic the backward pass cannot hide: the batch per replica is below the "
                     "critical size (raise it, or lower data_parallel), ZeRO-3 gathers the weights again for "
                     "every micro-batch (use ZeRO-1/2 when the state fits), or overlap is off",
    "expert parallel": "expert-parallel all-to-alls: keep the expert group inside the NVLink domain or route "
                       "to fewer experts",
}


def _diagnose(parts, step):
    compute = parts["compute"]
    worst = max(_KINDS[1:], key=lambda k: parts[k])
    if parts[worst] <= 0.1 * step:
        return f"compute-bound: {compute / step:.0%} of the step is computing at the matmul efficiency"
    return f"{parts[worst] / step:.0%} of the step is lost to {_ADVICE[worst]}"


def _link_time(within_node, intra, inter):
    return np.where(within_node, intra, inter)


def _device_peak(device, peak_flops_per_s):
    if peak_flops_per_s is not None:
        return positive("peak_flops_per_s", peak_flops_per_s, "FLOP/s", array=True)
    if isinstance(device, str):
        return datasheet(text("device", device)).peak_flops_per_s
    return instance("device", device, Device, "a Device (datasheet('H100')) or a datasheet name").peak_flops_per_s


def _link_default(value, name, link):
    if value is not None:
        return positive(name, value, "bytes/s", array=True)
    from . import link_bandwidth
    return link_bandwidth(link)


def step_time(n_params, n_layers, d_model, seq_len, global_batch_size, micro_batch_size=1, data_parallel=1,
              tensor_parallel=1, pipeline_parallel=1, zero_stage=1, interleave=1, *, n_active_params=None,
              expert_parallel=1, experts_per_token=1, device="H100", peak_flops_per_s=None,
              matmul_efficiency=MATMUL_EFFICIENCY, intra_bandwidth_bytes_per_s=None,
              inter_bandwidth_bytes_per_s=None, intra_latency=None, inter_latency=None,
              gpus_per_node=GPUS_PER_NODE, overlap=True, recompute="selective",
              grad_bytes_per_param=ADAM_MIXED_PRECISION["grad_bytes"], dp_overlap_window="last backward"):
    """Seconds of one optimizer step of a transformer trained with a (data, tensor, pipeline, expert)
    parallel layout, and where they go: a :class:`StepTime`.

    Layout: ``n_devices = data_parallel · tensor_parallel · pipeline_parallel``; each step takes
    ``global_batch_size`` sequences of ``seq_len`` tokens, split over the data-parallel replicas in
    m = global_batch_size / (data_parallel · micro_batch_size) micro-batches (gradient accumulation;
    m must be ≥ 1, and is used as an average when it is not whole). Expert parallelism borrows
    ``expert_parallel`` of the data-parallel ranks (it must divide into data_parallel's range: ≤ it).
    Every numeric argument broadcasts (numpy arrays), so a whole sweep is one call.

    Assumptions, each a named input or a cited rule:

    - **Compute**: model FLOP per step = (6·N_active + 12·L·d·s)·tokens (Kaplan's 6·N·D plus self-attention,
      Chowdhery et al. 2022 App. B, no causal-mask saving) — the MFU numerator. Recomputation adds the
      attention core's forward (``"selective"``, 4·L·d·s per token; FlashAttention's backward does the
      same) or a whole forward pass (``"full"``, ×4/3): hardware FLOPs. The devices sustain
      ``matmul_efficiency`` × peak on them (:data:`MATMUL_EFFICIENCY`: an effective value fitted on Narayanan
      et al. 2021 alone, standing for every kernel below peak; pass :func:`measured_matmul_efficiency` for
      the matmuls alone, as chapter 04's ``achieved_step_time`` does, and add the other losses), evenly
      balanced across pipeline stages (embeddings and the loss layer are not modelled separately).
    - **Tensor parallelism**: 4 all-reduces of micro_batch_size·seq_len·d_model bf16 values per layer per
      micro-batch (6 with full recomputation), ring algorithm, on the critical path (no overlap, as in
      Megatron-LM 2021–22); on NVLink while tensor_parallel ≤ ``gpus_per_node``, else on the network.
    - **Pipeline**: 1F1B schedule; the bubble idles each device for (p − 1)/(v·m) of its pipelined work
      (compute and tensor/pipeline/expert communication) with v = ``interleave`` virtual stages per device
      (Narayanan et al. 2021). Each micro-batch crosses 2·v stage boundaries per device (forward and
      backward), each send b·s·d/t bf16 values (the scatter/gather optimization), on the network once
      tensor_parallel · pipeline_parallel exceeds a node. No context parallelism.
    - **Data parallelism / ZeRO**: gradients of the device's N/(t·p·ep) parameters, ``grad_bytes_per_param``
      each (2: bf16; 4: FP32, as Llama 3 reduces them); weights in bf16. ZeRO-0: one ring all-reduce of the
      gradients; ZeRO-1/2: reduce-scatter of gradients + all-gather of updated weights; ZeRO-3 (FSDP): every
      micro-batch all-gathers the weights in its forward and again in its backward and reduce-scatters its
      gradients (m times). The data-parallel group is on NVLink only when
      the whole job fits in one node. With ``overlap`` the traffic hides behind the backward pass of the
      last micro-batch (ZeRO-0–2) or behind each micro-batch's compute (ZeRO-3) in buckets of one layer
      each, and the last bucket is always exposed; without it, all of it waits. ``dp_overlap_window=
      "whole step"`` hides ZeRO-0–2's traffic bucket by bucket behind all other work, exposing one layer's
      bucket only (the first all-gather and the last reduce-scatter: Llama 3's FSDP, Chu et al. 2025,
      ISCA, §7.3.1).
    - **Expert parallelism** (MoE, every layer): a dispatch and a combine all-to-all of the device's
      tokens, ``experts_per_token`` copies of each, forward and backward, per layer per micro-batch, on the
      critical path (no overlap: DeepSeek-V3's DualPipe hides it; this model does not).
    - **Links**: α-β model (:mod:`labkit.interconnect`). Defaults: line rates of :data:`INTRA_NODE_LINK` and
      :data:`INTER_NODE_LINK` (datasets/interconnects.csv, per GPU, one direction; real rings reach ≈ 80 %,
      nccl-tests issue #212) and NCCL's per-step latencies. Pass measured bus bandwidths for a closer fit.
    - **Memory** (``memory_per_device``): 16 bytes per parameter (mixed-precision Adam; the gradient in
      ``grad_bytes_per_param``, so 18 with FP32 gradients) over t·p·ep devices,
      ZeRO-sharded over data_parallel; activations with sequence parallelism and FlashAttention,
      34·s·b·d/t bytes per layer (2·s·b·d/t with full recomputation; Korthikanti et al. 2022 without the
      5·a·s/d score term FlashAttention never stores), min(p, m) micro-batches of L/p layers in flight on
      the first stage, ×(1 + (p − 1)/(p·v)) when interleaved. Temporary buffers are ignored.

    ``device``: a :class:`labkit.core.devices.Device` or a datasheet name ("H100", "A100");
    ``peak_flops_per_s`` overrides its dense peak. MFU = model FLOPs / (n_devices · peak · step_time).
    """
    n_params = positive("n_params", n_params, "parameters", array=True)
    n_active = n_params if n_active_params is None else \
        positive("n_active_params", n_active_params, "parameters", array=True)
    if np.any(np.asarray(n_active) > np.asarray(n_params)):
        raise ValueError("n_active_params must be at most n_params (an MoE activates a subset of its parameters)")
    n_layers = counts("n_layers", n_layers, minimum=1)
    d_model = counts("d_model", d_model, minimum=1)
    seq_len = positive("seq_len", seq_len, "tokens", array=True)
    gb = counts("global_batch_size", global_batch_size, minimum=1)
    b = counts("micro_batch_size", micro_batch_size, minimum=1)
    dp = counts("data_parallel", data_parallel, minimum=1)
    t = counts("tensor_parallel", tensor_parallel, minimum=1)
    p = counts("pipeline_parallel", pipeline_parallel, minimum=1)
    stage = counts("zero_stage", zero_stage, minimum=0, maximum=3)
    v = counts("interleave", interleave, minimum=1)
    ep = counts("expert_parallel", expert_parallel, minimum=1)
    k = counts("experts_per_token", experts_per_token, minimum=1)
    peak = _device_peak(device, peak_flops_per_s)
    eff = fraction("matmul_efficiency", matmul_efficiency, array=True, allow_zero=False)
    intra = _link_default(intra_bandwidth_bytes_per_s, "intra_bandwidth_bytes_per_s", INTRA_NODE_LINK)
    inter = _link_default(inter_bandwidth_bytes_per_s, "inter_bandwidth_bytes_per_s", INTER_NODE_LINK)
    from .. import interconnect as ic          # chapter 03's collectives, imported when first used
    a_in = ic.NCCL_STEP_LATENCY["nvlink"] if intra_latency is None else \
        nonnegative("intra_latency", intra_latency, "s", array=True)
    a_out = ic.NCCL_STEP_LATENCY["network"] if inter_latency is None else \
        nonnegative("inter_latency", inter_latency, "s", array=True)
    node = counts("gpus_per_node", gpus_per_node, minimum=1, maximum=1024)
    overlap = flag("overlap", overlap)
    choice("recompute", recompute, RECOMPUTE)
    grad_bytes = positive("grad_bytes_per_param", grad_bytes_per_param, "bytes", maximum=8)
    whole_step = choice("dp_overlap_window", dp_overlap_window, ("last backward", "whole step")) == "whole step"
    if np.any(np.asarray(gb) < np.asarray(dp) * np.asarray(b)):
        raise ValueError("global_batch_size must be at least data_parallel × micro_batch_size "
                         "(each replica needs one micro-batch per step)")
    if np.any(np.asarray(p) * np.asarray(v) > np.asarray(n_layers) + 2):
        # + 2: the first and last chunks may hold only the embedding and the output layer (Llama 3, §3.3.2)
        raise ValueError("pipeline_parallel × interleave must be at most n_layers + 2 (each virtual stage needs a "
                         "layer, or the embedding or output layer)")
    if np.any(np.asarray(ep) > np.asarray(dp)):
        raise ValueError("expert_parallel must be at most data_parallel (experts are spread over data-parallel "
                         "ranks)")

    try:
        fields = _step(n_params, n_active, n_layers, d_model, seq_len, gb, b, dp, t, p, stage, v, ep, k, peak, eff,
                       (intra, a_in), (inter, a_out), node, overlap, recompute, grad_bytes, whole_step)
    except ValueError:          # a collective of chapter 03 refused an overflowing size or time
        fields = None
    if fields is not None:
        shape = np.broadcast(*[np.asarray(x) for x in fields.values()]).shape
        if all(np.all(np.isfinite(np.asarray(x, dtype=float))) for x in fields.values()):
            return StepTime(**{name: float(value) if not shape else np.broadcast_to(value, shape).astype(float)
                               for name, value in fields.items()})
    raise ValueError("the step time is not finite for these inputs (n_params, n_layers, d_model, seq_len, "
                     "global_batch_size, micro_batch_size, the layout, peak_flops_per_s, the bandwidths and "
                     "intra_latency / inter_latency): use values within the course's range")


def _step(n_params, n_active, n_layers, d_model, seq_len, gb, b, dp, t, p, stage, v, ep, k, peak, eff, intra_link,
          inter_link, node, overlap, recompute, grad_bytes=WIRE_BYTES, whole_step=False):
    """The step time's parts (see step_time): a dict of StepTime's fields, arrays or floats."""
    from ..interconnect import allgather_time, allreduce_time, alltoall_time, reduce_scatter_time, transfer_time
    intra, a_in = intra_link
    inter, a_out = inter_link
    with np.errstate(over="ignore", invalid="ignore", divide="ignore"):
        n_devices = dp * t * p
        m = gb / (dp * b)
        tokens = gb * seq_len
        attention = 12.0 * n_layers * d_model * seq_len                    # FLOP per token, fwd + bwd
        model_flops = (6.0 * n_active + attention) * tokens
        extra = {"none": 0.0, "selective": attention / 3 * tokens, "full": model_flops / 3}[recompute]
        hardware_flops = model_flops + extra
        compute = hardware_flops / (n_devices * peak * eff)

        layers = n_layers / p                                                # per device
        per_layer = _PER_LAYER[recompute]
        activation = b * seq_len * d_model * WIRE_BYTES                      # one micro-batch's layer output
        tp_link = _link_time(t <= node, intra, inter), _link_time(t <= node, a_in, a_out)
        tp = per_layer * layers * m * allreduce_time(activation, t, *tp_link)
        pp_link = _link_time(t * p <= node, intra, inter), _link_time(t * p <= node, a_in, a_out)
        pp = np.where(p > 1, 2 * v * m * transfer_time(activation / t, *pp_link), 0.0)
        ep_link = _link_time(t * ep <= node, intra, inter), _link_time(t * ep <= node, a_in, a_out)
        ep_time = per_layer * layers * m * alltoall_time(activation * k / t, ep, *ep_link)
        bubble = (p - 1) / (v * m) * (compute + tp + pp + ep_time)

        dp_link = _link_time(n_devices <= node, intra, inter), _link_time(n_devices <= node, a_in, a_out)
        local_params = n_params / (t * p * ep)
        grads, weights = local_params * grad_bytes, local_params * WIRE_BYTES
        sharded = reduce_scatter_time(grads, dp, *dp_link) + allgather_time(weights, dp, *dp_link)
        per_step = np.where(stage == 0, allreduce_time(grads, dp, *dp_link), sharded)
        per_microbatch = reduce_scatter_time(grads, dp, *dp_link) + 2 * allgather_time(weights, dp, *dp_link)
        zero3 = stage == 3
        dp_comm = np.where(zero3, m * per_microbatch, per_step)
        if overlap:
            # ZeRO-3 hides each micro-batch's traffic behind that micro-batch's compute; ZeRO-0-2 hide the
            # step's traffic behind the last micro-batch's backward. One layer's bucket is always left over.
            backward = _BACKWARD_SHARE[recompute] * compute / m
            beyond = np.where(zero3, m * np.maximum(per_microbatch - compute / m, 0.0),
                              0.0 if whole_step else np.maximum(per_step - backward, 0.0))
            exposed_dp = np.minimum(beyond + dp_comm / np.maximum(layers, 1.0), dp_comm)
        else:
            exposed_dp = dp_comm
        exposed_dp = np.where(dp > 1, exposed_dp, 0.0)
        dp_comm = np.where(dp > 1, dp_comm, 0.0)

        step = compute + bubble + tp + pp + ep_time + exposed_dp
        mfu = model_flops / (n_devices * peak * step)
        hfu = hardware_flops / (n_devices * peak * step)
        memory = _memory_per_device(n_params, t, p, dp, ep, stage, b, seq_len, d_model, n_layers, m, v, recompute,
                                    grad_bytes)

    return dict(step_time=step, compute_time=compute, bubble_time=bubble, exposed_tp=tp, exposed_pp=pp,
                exposed_dp=exposed_dp, exposed_ep=ep_time, dp_comm_time=dp_comm, mfu=mfu, hfu=hfu,
                tokens_per_second=tokens / step, model_flops=model_flops, n_devices=n_devices,
                n_microbatches=m, memory_per_device=memory, matmul_efficiency=eff)


def _memory_per_device(n_params, t, p, dp, ep, stage, b, seq_len, d_model, n_layers, m, v, recompute,
                       grad_bytes=WIRE_BYTES):
    """Bytes per device: ZeRO-sharded training state and the first stage's activations (see step_time)."""
    state = (ADAM_MIXED_PRECISION["weight_bytes"], grad_bytes, ADAM_MIXED_PRECISION["optimizer_bytes"])
    w, g, o = (x * n_params / (t * p * ep) for x in state)
    o = np.where(stage >= 1, o / dp, o)
    g = np.where(stage >= 2, g / dp, g)
    w = np.where(stage >= 3, w / dp, w)
    per_layer = (2.0 if recompute == "full" else 34.0) * seq_len * b * d_model / t
    in_flight = np.minimum(p, m) / p * n_layers
    interleaved = np.where(v > 1, 1 + (p - 1) / (p * v), 1.0)
    return w + g + o + per_layer * in_flight * interleaved


_COLOURS = {"compute": "C2", "bubble": "C7", "tensor parallel": "C0", "pipeline parallel": "C4",
            "data parallel": "C3", "expert parallel": "C1"}
#: A hatch per kind as well, so that no part is told apart by colour alone.
_HATCHES = {"compute": "", "bubble": "..", "tensor parallel": "//", "pipeline parallel": "\\\\",
            "data parallel": "xx", "expert parallel": "++"}


def plot_step_breakdown(steps, ax=None):
    """Stacked horizontal bars: each labelled :class:`StepTime` (``steps``: a dict label -> StepTime of one
    layout each) split into compute, bubble and each kind of exposed communication, in seconds, with its MFU."""
    from ..core.plotting import new_axes
    if not isinstance(steps, dict) or not steps or len(steps) > 40 or not all(
            isinstance(s, StepTime) and np.ndim(s.step_time) == 0 for s in steps.values()):
        raise TypeError("steps must be a dict of at most 40 label -> StepTime (one layout each, from step_time), "
                        f"got {type(steps).__name__}")
    height = 0.45 * len(steps) + 1.6                     # inches: room for the legend above, the axis below
    fig, ax = new_axes(ax, figsize=(8.5, height), margins={"left": 0.2, "bottom": 0.55 / height,
                                                           "top": 1 - 0.6 / height})
    labels = [str(k) for k in steps]
    y = np.arange(len(labels))[::-1]
    left = np.zeros(len(labels))
    for kind in _KINDS:
        width = np.array([s.breakdown()[kind] for s in steps.values()])
        if np.any(width > 0):
            ax.barh(y, width, left=left, color=_COLOURS[kind], hatch=_HATCHES[kind], edgecolor="white",
                    linewidth=0, label=kind)
        left += width
    for yi, s in zip(y, steps.values()):
        ax.text(s.step_time, yi, f" MFU {s.mfu:.0%}", va="center", fontsize=8)
    ax.set(yticks=y, yticklabels=labels, xlabel="seconds per step", xlim=(0, 1.15 * left.max()))
    ax.legend(fontsize=8, ncol=3, loc="lower center", bbox_to_anchor=(0.5, 1.0), frameon=False)
    return fig
