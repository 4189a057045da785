"""Chapter 00's explorer: how long would GPT-3 take on N GPUs of a given generation?

Time to train = work / (devices × peak × utilization): :func:`labkit.core.roofline.training_time`,
with each GPU's peak from the cited hardware dataset (:data:`labkit.core.devices.TRAINING_GPUS`).
"""

import functools

import numpy as np

from . import units as u
from .core.published import published_run
from .core.roofline import training_time
from .core.validate import choice, integer, number, positive, text

# The explorer's fixed axes: 1 to 100,000 GPUs; a quarter of an hour to a thousand years.
_N_DEVICES = np.logspace(0, 5, 120)
_DAYS_RANGE = (1e-2, 1e6)
_UTILIZATION_RANGE = (0.05, 1.0)


def _gpt3_flops():
    """GPT-3's training compute, 3.14e23 FLOP (datasets/models.csv: Brown et al. 2020, Table D.1)."""
    return published_run("GPT-3").total_flops


def _work_label(total_flops):
    return f"GPT-3 ({total_flops:.3g} FLOP)" if total_flops == _gpt3_flops() else f"{total_flops:.3g} FLOP"


def _build_time_to_train(fig, total_flops):
    """Fixed log axes, the one-month line, and the empty curve, dot and legend that move."""
    ax = fig.add_subplot()
    ax.set(xscale="log", yscale="log", xlim=(1, 1e5), ylim=_DAYS_RANGE, xlabel="GPUs",
           ylabel=f"days to train {_work_label(total_flops)}",
           title="Time to train = work / (GPUs × peak × utilization)")
    ax.axhline(30, color="grey", ls=":", lw=1)
    ax.text(1.3, 36, "one month", color="grey")
    curve = ax.plot([], [], label=" ")[0]
    return {"curve": curve,
            "dot": ax.plot([], [], "o", color="C3")[0],
            "legend": ax.legend(loc="upper right", fontsize=8)}  # its text changes with the GPU: it moves


def _update_time_to_train(h, n_devices, utilization, gpu, total_flops):
    """Days against GPUs for this GPU and utilization, and the dot at ``n_devices``; the readout."""
    from .core.devices import training_gpus
    device = training_gpus()[gpu]
    peak = device.peak_flops_per_s
    days = training_time(total_flops, _N_DEVICES, peak, utilization) / u.DAY
    here = training_time(total_flops, n_devices, peak, utilization)
    h["curve"].set_data(_N_DEVICES, days)
    h["dot"].set_data([n_devices], [here / u.DAY])
    h["legend"].get_texts()[0].set_text(f"{device.name} ({u.fmt_flop_rate(peak)} {device.precision}), "
                                        f"{utilization:.0%} busy")
    return f"{int(n_devices):,} × {device.name} at {utilization:.0%} → {u.fmt_seconds(here)}"


def time_to_train_explorer(total_flops=None, n_devices=1024, utilization=0.4, gpu="V100 SXM2"):
    """Sliders for the number of GPUs (1 to 100,000), their utilization (5 % to 100 %) and the GPU
    generation (:data:`labkit.core.devices.TRAINING_GPUS`, by short name) → days to do ``total_flops``
    (FLOP; None: GPT-3's 3.14e23 from datasets/models.csv)."""
    from .core.devices import training_gpus
    from .core.explore import dropdown, explorer, int_slider, slider
    total_flops = _gpt3_flops() if total_flops is None else positive("total_flops", total_flops, "FLOP")
    n_devices = integer("n_devices", n_devices, minimum=1, maximum=100_000)
    utilization = number("utilization", utilization, "fraction", minimum=_UTILIZATION_RANGE[0],
                         maximum=_UTILIZATION_RANGE[1])
    gpus = training_gpus()
    gpu = choice("gpu", text("gpu", gpu), tuple(gpus))
    return explorer(functools.partial(_build_time_to_train, total_flops=total_flops),
                    functools.partial(_update_time_to_train, total_flops=total_flops),
                    title="How long would GPT-3 take?" if total_flops == _gpt3_flops() else
                    f"How long would {total_flops:.3g} FLOP take?",
                    n_devices=int_slider(n_devices, 1, 100_000, 1, "GPUs"),
                    utilization=slider(utilization, *_UTILIZATION_RANGE, 0.05, "utilization"),
                    gpu=dropdown(gpu, {d.name: name for name, d in gpus.items()}, "GPU"))
