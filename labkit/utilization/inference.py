"""Serving an LLM as vLLM and Vidur reason about it: a request's **prefill** (its whole prompt in one
forward pass: many tokens per weight read, compute-bound) and its **decode** (one token per step per
sequence: memory-bound), time to first token (TTFT) and time per output token (TPOT), and the batch
the KV cache lets fit in HBM (weights + KV cache ≤ memory).

Every time here is the roofline time of :func:`labkit.core.roofline.decode_step_time` (a forward pass
over ``tokens`` tokens reads the weights once and does 2·N FLOP per token), and every KV size is
:func:`labkit.scaling.kv_cache_bytes`: no second copy of either formula. The roofline is a lower bound;
:func:`load_serving_measurements` holds published latencies to compare it with (measured ≈ 1.8–2.1×
the roofline for Llama-2-7B at batches 1–8 on A100 and H100: real kernels at small batch reach about
half the HBM bandwidth).
"""

import numpy as np

from ..core.devices import datasheet
from ..core.plotting import LINESTYLES, MARKERS, log_axis, new_axes
from ..core.roofline import decode_step_time, ridge_point
from ..core.validate import finite_result, fraction, integer, nonnegative, positive, scalar_or_array
from ..scaling import kv_cache_bytes
from .serving import _device, decode_utilization

#: Llama-2-7B's shape (Touvron et al. 2023, arXiv:2307.09288, Table 1 and the released config): 32 layers,
#: 32 heads of 128 (no grouped-query attention at 7B), 6,738,415,616 parameters (Hugging Face
#: meta-llama/Llama-2-7b-hf).
LLAMA2_7B = {"n_params": 6.738415616e9, "n_layers": 32, "n_kv_heads": 32, "head_dim": 128}

#: Share of HBM vLLM lets itself use by default (``gpu_memory_utilization=0.9``, vLLM engine arguments);
#: the rest is left to activations, CUDA graphs and the framework. A named assumption.
VLLM_MEMORY_FRACTION = 0.9


def kv_bytes_per_token(n_layers=32, n_kv_heads=32, head_dim=128, bytes_per_value=2):
    """KV-cache bytes one token holds: :func:`labkit.scaling.kv_cache_bytes` for one sequence of one token.

    Llama-2-7B's defaults in BF16: 2 · 32 · 32 · 128 · 2 = 524,288 bytes (512 KiB).
    """
    return float(kv_cache_bytes(1, 1, n_layers, n_kv_heads, head_dim, bytes_per_value))


def critical_batch_size(peak_flops_per_s=None, bandwidth_bytes_per_s=None, bytes_per_param=2.0):
    """Tokens per weight read at which a forward pass turns compute-bound: ridge point × bytes_per_param / 2.

    A forward pass over t tokens does 2·N·t FLOP and reads N·bytes_per_param bytes of weights, an
    intensity of 2·t / bytes_per_param FLOP/byte. Above this t (a prompt's prefill, ≈ 295 tokens on an
    H100 in BF16) the weight matmuls are compute-bound; decode runs one token per sequence, so its batch
    must reach it — and each sequence's KV cache read keeps decode attention memory-bound at ANY batch
    (that traffic is per sequence, not shared). Peak and bandwidth default (None) to the H100 SXM's.
    """
    peak, bw = _device(peak_flops_per_s, bandwidth_bytes_per_s)
    bpp = positive("bytes_per_param", bytes_per_param, "bytes")
    with np.errstate(over="ignore"):
        out = float(ridge_point(peak, bw)) * bpp / 2.0
    return finite_result(out, "the critical batch size", "peak_flops_per_s", "bandwidth_bytes_per_s", "bytes_per_param")


def prefill_time(prompt_tokens, n_params=7e9, *, batch_size=1, peak_flops_per_s=None,
                 bandwidth_bytes_per_s=None, bytes_per_param=2.0):
    """Roofline time (s) of prefilling ``batch_size`` prompts of ``prompt_tokens`` tokens in one forward pass.

    That is the time to first token of a request that does not queue. It is a forward pass over
    batch_size × prompt_tokens tokens: :func:`decode_step_time` with that many tokens and no KV read.
    Assumptions: attention FLOPs (4·L·d·context per token, ≈ 2 % of 2·N at 1k tokens for a 7B model) and
    the KV-cache write are left out. Peak and bandwidth default to the H100 SXM's. Accepts arrays.
    """
    p = positive("prompt_tokens", prompt_tokens, "tokens", array=True)
    b = positive("batch_size", batch_size, "sequences", array=True)
    n = positive("n_params", n_params, "parameters")
    peak, bw = _device(peak_flops_per_s, bandwidth_bytes_per_s)
    with np.errstate(over="ignore"):
        tokens = finite_result(np.multiply(p, b), "the prefill's tokens", "prompt_tokens", "batch_size")
        finite_result(2.0 * n * tokens, "the prefill's FLOPs", "prompt_tokens", "batch_size", "n_params")
    return scalar_or_array(decode_step_time(tokens, n, peak, bw, bytes_per_param, 0.0))


def time_per_output_token(batch_size, n_params=7e9, *, kv_bytes_per_sequence=0.0, peak_flops_per_s=None,
                          bandwidth_bytes_per_s=None, bytes_per_param=2.0):
    """Roofline time (s) between two output tokens of a sequence decoding in a batch of ``batch_size``:
    one decode step, :func:`decode_step_time` (weights once + each sequence's own KV cache).

    ``kv_bytes_per_sequence`` is the cache each sequence reads this step (bytes; context × bytes per
    token). Peak and bandwidth default to the H100 SXM's. Accepts arrays of batch sizes.
    """
    n = positive("n_params", n_params, "parameters")
    peak, bw = _device(peak_flops_per_s, bandwidth_bytes_per_s)
    return scalar_or_array(decode_step_time(batch_size, n, peak, bw, bytes_per_param, kv_bytes_per_sequence))


def kv_capacity_batch(kv_bytes_per_sequence, n_params=7e9, *, memory_bytes=None, bytes_per_param=2.0,
                      usable_fraction=VLLM_MEMORY_FRACTION):
    """Most sequences whose KV caches fit beside the weights: ⌊(usable_fraction · memory − N · bytes_per_param)
    / kv_bytes_per_sequence⌋ (an integer, 0 when not even one fits).

    ``memory_bytes`` defaults (None) to the H100 SXM's 80 GB; ``usable_fraction`` to vLLM's default
    0.9 (the rest: activations, CUDA graphs, the framework). Raises ValueError if the weights alone do
    not fit. Assumes one device holds the whole model (no tensor parallelism).
    """
    kv = positive("kv_bytes_per_sequence", kv_bytes_per_sequence, "bytes")
    n = positive("n_params", n_params, "parameters")
    mem = datasheet("H100").memory_bytes if memory_bytes is None else positive("memory_bytes", memory_bytes, "bytes")
    bpp = positive("bytes_per_param", bytes_per_param, "bytes")
    usable = fraction("usable_fraction", usable_fraction, allow_zero=False)
    weights = n * bpp
    free = usable * mem - weights
    if not np.isfinite(weights) or free < 0:
        raise ValueError(f"the weights ({weights / 1e9:.3g} GB = n_params × bytes_per_param) do not fit in "
                         f"usable_fraction × memory_bytes = {usable * mem / 1e9:.3g} GB: split the model over "
                         "devices (tensor parallelism) or quantize it")
    return int(min(free // kv, 2**53))


def generation_latency(prompt_tokens, output_tokens, batch_size=1, n_params=7e9, *, kv_bytes_per_token=0.0,
                       peak_flops_per_s=None, bandwidth_bytes_per_s=None, bytes_per_param=2.0):
    """Roofline time (s) to serve a static batch end to end: one prefill of ``batch_size`` prompts, which
    yields each sequence's first token, then output_tokens − 1 decode steps whose KV read grows by
    ``kv_bytes_per_token`` per sequence per step (context = prompt + tokens so far).

    This is what a benchmark such as NVIDIA NeMo's "average latency" times (see
    :func:`load_serving_measurements`). A lower bound: real kernels do not reach the roofline.
    """
    p = integer("prompt_tokens", prompt_tokens, minimum=1, maximum=10**7)
    out = integer("output_tokens", output_tokens, minimum=1, maximum=10**7)
    b = positive("batch_size", batch_size, "sequences")
    kvt = nonnegative("kv_bytes_per_token", kv_bytes_per_token, "bytes")
    n = positive("n_params", n_params, "parameters")
    bytes_per_param = positive("bytes_per_param", bytes_per_param, "bytes")
    peak, bw = _device(peak_flops_per_s, bandwidth_bytes_per_s)
    ttft = prefill_time(p, n, batch_size=b, peak_flops_per_s=peak, bandwidth_bytes_per_s=bw,
                        bytes_per_param=bytes_per_param)
    if out == 1:
        return float(ttft)
    context = p + np.arange(out - 1, dtype=float)
    with np.errstate(over="ignore"):
        steps = decode_step_time(b, n, peak, bw, bytes_per_param,
                                 finite_result(context * kvt, "the KV read", "kv_bytes_per_token"))
        total = float(ttft) + float(np.sum(steps))
    return finite_result(total, "the latency", "output_tokens", "n_params")


# --- published measurements ---------------------------------------------------------------------
def load_serving_measurements():
    """Published end-to-end serving latencies (datasets/serving_latency.csv, every row cited)."""
    from ..data import load
    return load("serving_latency")


def roofline_vs_measured():
    """For each row of :func:`load_serving_measurements`: (roofline latency s, measured latency s).

    The roofline is :func:`generation_latency` on the row's GPU datasheet (hardware.csv), its model's
    parameters and KV bytes per token, batch, prompt and output lengths. Returns two numpy arrays.
    """
    t = load_serving_measurements()
    model, meas = [], []
    for row in t.rows():
        d = datasheet(row["accelerator"])
        model.append(generation_latency(int(row["prompt_tokens"]), int(row["output_tokens"]),
                                        int(row["batch_size"]), row["n_params"],
                                        kv_bytes_per_token=row["kv_bytes_per_token"],
                                        peak_flops_per_s=d.peak_flops_per_s,
                                        bandwidth_bytes_per_s=d.bandwidth_bytes_per_s))
        meas.append(row["latency_s"])
    return np.array(model), np.array(meas)


def plot_serving_validation(ax=None):
    """Measured (points) against roofline (lines) latency by batch size, one colour, marker and line style per GPU."""
    fig, ax = new_axes(ax, figsize=(6.5, 3.8))
    t = load_serving_measurements()
    model, meas = roofline_vs_measured()
    for k, gpu in enumerate(dict.fromkeys(t["accelerator"])):
        sel = np.array([a == gpu for a in t["accelerator"]])
        b = t["batch_size"][sel]
        # each GPU its marker and line style as well as its colour
        ax.plot(b, meas[sel] * 1e3, MARKERS[k % len(MARKERS)], ls="none", color=f"C{k}",
                label=f"{gpu}: measured (NeMo)")
        ax.plot(b, model[sel] * 1e3, ls=LINESTYLES[k % len(LINESTYLES)], color=f"C{k}",
                label=f"{gpu}: roofline (labkit)")
        ratio = np.mean(model[sel] / meas[sel])
        ax.text(b[-1] * 1.05, meas[sel][-1] * 1e3, f"roofline = {ratio:.0%}\nof measured", fontsize=7,
                color=f"C{k}", va="center")
    log_axis(ax, "x", ticks=sorted(set(t["batch_size"].astype(int))), plain=True)
    ax.set_xlim(0.8, 16)
    ax.set(xlabel="batch size (sequences)", ylabel="latency (ms)", ylim=(0, None))
    ax.set_title("Llama-2-7B, 128 prompt + 20 output tokens: roofline vs measured", fontsize=9)
    ax.legend(fontsize=7, loc="upper left")
    fig.tight_layout()
    return fig


def plot_kv_capacity(n_params=7e9, kv_bytes_per_sequence=5.2e8, *, memory_bytes=None, ax=None):
    """Decode utilization vs batch with and without the KV cache, and the batch where weights + KV fill HBM.

    Defaults: a 7B model, 5.2e8 bytes of KV per sequence (≈ 1k tokens of Llama-2-7B), an H100's
    80 GB, vLLM's 90 % usable. Batches beyond the capacity are shaded: they do not fit.
    """
    n = positive("n_params", n_params, "parameters")
    kv = positive("kv_bytes_per_sequence", kv_bytes_per_sequence, "bytes")
    cap = kv_capacity_batch(kv, n, memory_bytes=memory_bytes)
    fig, ax = new_axes(ax, figsize=(7, 4))
    b = np.unique(np.round(np.logspace(0, 11, 300, base=2)).astype(int))
    ax.plot(b, decode_utilization(b, n), "C0", ls="-", lw=2, label="no KV cache (weights only)")
    ax.plot(b, decode_utilization(b, n, kv_bytes_per_sequence=kv), "C3", ls="--", lw=2,
            label=f"{kv / 1e9:.2g} GB of KV cache per sequence")
    ax.axvspan(max(cap, 1), b[-1], color="grey", alpha=0.2)
    ax.axvline(max(cap, 1), color="grey", lw=1)
    ax.text(max(cap, 1) * 1.1, 0.32, f"HBM full beyond {cap} sequences:\nweights + KV > memory", fontsize=8,
            va="top")
    ax.axvline(critical_batch_size(), color="k", ls=":", lw=1)
    ax.text(critical_batch_size() * 1.1, 0.5, f"critical batch\n{critical_batch_size():.0f}", fontsize=7)
    log_axis(ax, "x", ticks=4 ** np.arange(0, 6), plain=True)
    ax.set(xlabel="decode batch size (sequences)", ylabel="fraction of peak FLOP/s", ylim=(0, 1.05),
           xlim=(1, b[-1]))
    ax.set_title(f"Decoding {n / 1e9:.0f}B parameters on an H100: the KV cache caps the batch", fontsize=9)
    ax.legend(fontsize=8, loc="upper left")
    return fig


__all__ = ["LLAMA2_7B", "VLLM_MEMORY_FRACTION", "kv_bytes_per_token", "critical_batch_size", "prefill_time",
           "time_per_output_token", "kv_capacity_batch", "generation_latency", "load_serving_measurements",
           "roofline_vs_measured", "plot_serving_validation", "plot_kv_capacity"]
