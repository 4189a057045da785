"""MFU and HFU: the share of peak FLOP/s that does model work, computed from throughput the way
papers report it (PaLM, Appendix B), and the cited table of published training utilizations."""

import numpy as np

from ..core.plotting import new_axes
from ..core.validate import counts, finite_result, fraction, nonnegative, positive


def model_flops_per_token(n_params, n_layers=0, attention_width=0, seq_len=0):
    """Training FLOPs per token of a dense decoder: 6·N + 12·L·(H·Q)·T (PaLM, Appendix B).

    ``n_params`` N (non-embedding parameters in the paper's accounting), ``n_layers`` L,
    ``attention_width`` H·Q (heads × head dimension), ``seq_len`` T. Leave the last three at 0 to
    drop the attention term: 6·N is forward (2·N) plus backward (4·N). Accepts arrays.
    """
    n = positive("n_params", n_params, "parameters", array=True)
    L = nonnegative("n_layers", n_layers, "layers", array=True)
    hq = nonnegative("attention_width", attention_width, "", array=True)
    T = nonnegative("seq_len", seq_len, "tokens", array=True)
    with np.errstate(over="ignore", invalid="ignore"):
        out = 6.0 * n + 12.0 * L * hq * T
    return finite_result(out, "the FLOPs per token", "n_params", "n_layers", "attention_width", "seq_len")


def _utilization(tokens_per_second, flops_per_token, n_devices, peak_flops_per_s, what):
    tps = nonnegative("tokens_per_second", tokens_per_second, "tokens/s", array=True)
    fpt = positive("flops_per_token", flops_per_token, "FLOP/token", array=True)
    n = counts("n_devices", n_devices)
    peak = positive("peak_flops_per_s", peak_flops_per_s, "FLOP/s", array=True)
    with np.errstate(over="ignore", invalid="ignore"):
        value = tps * fpt / (n * peak)
    if np.any(~np.isfinite(value)) or np.any(np.asarray(value) > 1 + 1e-9):
        raise ValueError(f"{what} would exceed 100 % of peak ({np.max(value):.3g}): check the units — "
                         "peak_flops_per_s is per device in FLOP/s (989e12, not 989), tokens_per_second is for "
                         "the whole job, flops_per_token is FLOP per token (≈ 6 × n_params), n_devices counts "
                         "every device.")
    return value


def mfu(tokens_per_second, flops_per_token, n_devices, peak_flops_per_s):
    """Model FLOPs utilization: the FLOP/s the model needs at this throughput, over the peak.

    MFU = tokens_per_second · flops_per_token / (n_devices · peak_flops_per_s).
    ``flops_per_token`` counts the model's forward + backward work only (≈ 6·N; see
    :func:`model_flops_per_token`), never recomputation, so MFU compares systems fairly
    (Chowdhery et al. 2022, §4). Accepts numpy arrays. Returns a fraction.
    """
    return _utilization(tokens_per_second, flops_per_token, n_devices, peak_flops_per_s, "MFU")


def hfu(tokens_per_second, flops_per_token, n_devices, peak_flops_per_s, recompute=1.0):
    """Hardware FLOPs utilization: like :func:`mfu`, but counting the forward pass recomputed.

    ``flops_per_token`` is the model's forward + backward work (as for :func:`mfu`); the forward
    pass is a third of it. ``recompute`` is the fraction of the forward pass recomputed during the
    backward pass: 1 for full activation recomputation (the hardware does 8·N per token instead of
    6·N, so HFU = 4/3 · MFU), 0 for none (HFU = MFU). Megatron-LM's published "% of peak" counts
    recomputation this way (Narayanan et al. 2021, eq. 3).
    """
    r = fraction("recompute", recompute, array=True)
    fpt = positive("flops_per_token", flops_per_token, "FLOP/token", array=True)
    with np.errstate(over="ignore"):
        hardware = fpt * (1.0 + r / 3.0)
    finite_result(hardware, "the hardware FLOPs per token", "flops_per_token", "recompute")
    return _utilization(tokens_per_second, hardware, n_devices, peak_flops_per_s, "HFU")


def load_published_mfu():
    """The cited table of published training utilizations (datasets/training_mfu.csv)."""
    from ..data import load
    return load("training_mfu")


def plot_published_mfu(ax=None):
    """Horizontal bars of published MFU (HFU marked where reported) from datasets/training_mfu.csv."""
    fig, ax = new_axes(ax, figsize=(7.5, 4.8))
    t = load_published_mfu()
    labels = [f"{s} · {int(n):,} {a}" if np.isfinite(n) else f"{s} · {a}"
              for s, n, a in zip(t["system"], t["n_devices"], t["accelerator"])]
    y = np.arange(len(t))[::-1]
    m, h = t["reported_mfu"], t["reported_hfu"]
    has_m = np.isfinite(m)
    ax.barh(y[has_m], m[has_m] * 100, color="C0", label="MFU (model FLOPs)")
    only_h = ~has_m & np.isfinite(h)
    ax.barh(y[only_h], h[only_h] * 100, color="C1", alpha=0.6, hatch="..", label="HFU only (recomputation counted)")
    ax.barh(y[only_h], h[only_h] * 75, color="C0", alpha=0.5, hatch="//", label="its MFU (× 6/8)")
    both = has_m & np.isfinite(h)
    ax.plot(h[both] * 100, y[both], "|", color="C1", ms=14, mew=3, label="HFU")
    for yy, v in zip(y, np.where(has_m, m, h)):
        ax.text(v * 100 + 0.8, yy, f"{v:.1%}", va="center", fontsize=7)
    ax.set_yticks(y, labels, fontsize=7)
    ax.set_xlim(0, 70)
    ax.set_xlabel("% of peak FLOP/s")
    ax.set_title("Published training utilization (datasets/training_mfu.csv)", fontsize=10)
    # below the axes: inside, it hides the value labels of the upper rows (Gopher's)
    ax.legend(fontsize=7, loc="upper center", bbox_to_anchor=(0.4, -0.14), ncol=2, frameon=False)
    fig.tight_layout()
    return fig
