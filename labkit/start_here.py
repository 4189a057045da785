"""Chapter 00's explorer: how long would GPT-3 take on N GPUs of a given generation?"""

import numpy as np

from . import units as u

GPT3_TRAINING_FLOP = 3.14e23  # Brown et al. 2020, Table D.1
GPU_NAMES = ("V100 SXM2", "A100 SXM 80GB", "H100 SXM")  # rows of datasets/hardware.csv


def gpus():
    """{name: Machine} for three GPU generations, from the cited hardware dataset."""
    from .hardware import machine
    return {m.name: m for m in (machine(n) for n in GPU_NAMES)}


def _draw(fig, gpus, utilization, gpu, machines, total_flop):
    from .hardware import time_to_train
    peak = machines[gpu].peak_flops_per_s
    n = np.logspace(0, 5, 120)
    days = time_to_train(total_flop, peak, utilization, n) / u.DAY
    here = float(time_to_train(total_flop, peak, utilization, gpus)) / u.DAY
    label = f"{gpu} ({u.fmt_flop_rate(peak)} {machines[gpu].precision}), {utilization:.0%} busy"
    if not fig.axes:  # first call: build the figure once; later calls only move data (retained mode)
        ax = fig.add_subplot()
        ax.set(xscale="log", yscale="log", xlim=(1, 1e5), ylim=(1e-2, 1e6), xlabel="GPUs",
               ylabel="days to train GPT-3 (3.14e23 FLOP)",
               title="Time to train = work / (GPUs × peak × utilization)")
        ax.axhline(30, color="grey", ls=":", lw=1)
        ax.text(1.3, 36, "one month", color="grey")
        fig._labkit = {"curve": ax.plot(n, days, label=label)[0],
                       "dot": ax.plot([gpus], [here], "o", color="C3")[0],
                       "legend": ax.legend(loc="upper right", fontsize=8)}
        from .core.explore import freeze_background
        freeze_background(fig, list(fig._labkit.values()))
    else:
        parts = fig._labkit
        parts["curve"].set_ydata(days)
        parts["dot"].set_data([gpus], [here])
        parts["legend"].get_texts()[0].set_text(label)
    return f"{gpus:,} × {gpu} at {utilization:.0%} → {u.fmt_seconds(here * u.DAY)}"


def time_to_train_explorer(total_flop=GPT3_TRAINING_FLOP, gpus_default=1024, utilization=0.4,
                           gpu="NVIDIA V100 SXM2"):
    """Sliders for GPUs, utilization and GPU generation → days to do ``total_flop`` (FLOP)."""
    from .core.explore import dropdown, explorer, int_slider, slider
    machines = gpus()

    def draw(fig, gpus, utilization, gpu):
        return _draw(fig, gpus, utilization, gpu, machines, total_flop)
    return explorer(draw, title="How long would GPT-3 take?", retained=True,
                    gpus=int_slider(gpus_default, 1, 100_000, 1, "GPUs"),
                    utilization=slider(utilization, 0.05, 1.0, 0.05, "utilization"),
                    gpu=dropdown(gpu, list(machines), "GPU"))
