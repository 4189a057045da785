"""Cloud elasticity: renting more machines for less time, and what the scaling efficiency costs.

On a cloud billed per machine-hour, n machines for t/n hours cost what one machine costs for t hours —
if the job scaled perfectly. It does not: chapters 03 and 04 are the reasons. This module turns two
measured runs of the same job into the trade a learner faces when renting (:func:`scaling_tradeoff`):
how much sooner the answer comes, and how much more it costs. The runs are published time-to-accuracy
results (``datasets/cloud_scaling.csv``: Goyal et al. 2017, DAWNBench 2018).

Units: seconds, machines (whole), US dollars and dollars per machine-hour.
"""

from dataclasses import dataclass

import numpy as np

from ..core.plotting import LINESTYLES, MARKERS, PALETTE, new_axes
from ..core.validate import counts, finite_result, integer, nonnegative, positive

SECONDS_PER_HOUR = 3600.0


def rental_cost(n_machines, time_to_result, price_per_machine_hour):
    """Dollars to rent ``n_machines`` for ``time_to_result`` seconds at ``price_per_machine_hour`` dollars each
    per hour, billed per second (as AWS bills its GPU instances). Accepts arrays."""
    n = counts("n_machines", n_machines, minimum=1)
    t = nonnegative("time_to_result", time_to_result, "s", array=True)
    price = nonnegative("price_per_machine_hour", price_per_machine_hour, "dollars per machine-hour", array=True)
    with np.errstate(over="ignore", invalid="ignore"):
        out = n * t / SECONDS_PER_HOUR * price
    return finite_result(out, "the rental cost", "n_machines", "time_to_result", "price_per_machine_hour")


@dataclass(frozen=True)
class ScalingTradeoff:
    """Two runs of one job on ``base_machines`` and ``n_machines``: ``speedup`` (base time ÷ time),
    ``machine_ratio`` (n ÷ base), ``scaling_efficiency`` (speedup ÷ machine_ratio: 1 = perfect) and
    ``cost_ratio`` (machine-hours, hence dollars at one price, ÷ the base run's = 1 / scaling_efficiency)."""
    speedup: float
    machine_ratio: float
    scaling_efficiency: float
    cost_ratio: float

    def summary(self):
        return (f"{self.machine_ratio:g}× the machines: {self.speedup:.3g}× sooner, scaling efficiency "
                f"{self.scaling_efficiency:.1%}, so {self.cost_ratio:.3g}× the machine-hours (and dollars)")

    def __str__(self):
        return self.summary()


def scaling_tradeoff(base_time_to_result, base_machines, time_to_result, n_machines):
    """What renting ``n_machines`` instead of ``base_machines`` buys, from the measured times of the same
    job (seconds): a :class:`ScalingTradeoff`. At one price per machine-hour the cost ratio is
    1 / scaling efficiency — a job that scales at 50 % costs twice as much to finish sooner."""
    t0 = positive("base_time_to_result", base_time_to_result, "s")
    n0 = integer("base_machines", base_machines, minimum=1)
    t1 = positive("time_to_result", time_to_result, "s")
    n1 = integer("n_machines", n_machines, minimum=1)
    speedup = t0 / t1
    ratio = n1 / n0
    efficiency = speedup / ratio
    cost = n1 * t1 / (n0 * t0)
    finite_result(np.array([speedup, efficiency, cost]), "the trade-off", "base_time_to_result", "time_to_result")
    return ScalingTradeoff(speedup=float(speedup), machine_ratio=float(ratio), scaling_efficiency=float(efficiency),
                           cost_ratio=float(cost))


def load_cloud_scaling():
    """The cited runs of ``datasets/cloud_scaling.csv`` (Goyal et al. 2017; DAWNBench 2018)."""
    from ..data import load
    return load("cloud_scaling")


def _run(table, name):
    rows = [r for r in table.rows() if r["run"] == name]
    if not rows:
        raise ValueError(f"no run named {name!r} in cloud_scaling.csv; runs: {', '.join(table['run'])}")
    return rows[0]


def published_tradeoff(base_run, run):
    """:func:`scaling_tradeoff` between two rows of ``datasets/cloud_scaling.csv``, named by their ``run``
    (e.g. ``published_tradeoff("goyal-8", "goyal-256")``)."""
    if not isinstance(base_run, str) or not isinstance(run, str):
        raise TypeError(f"base_run and run must be run names from cloud_scaling.csv, got {base_run!r} and {run!r}")
    t = load_cloud_scaling()
    a, b = _run(t, base_run), _run(t, run)
    if a["benchmark"] != b["benchmark"]:
        raise ValueError(f"{base_run!r} and {run!r} ran different benchmarks: their times do not compare")
    return scaling_tradeoff(a["time_s"], int(a["n_machines"]), b["time_s"], int(b["n_machines"]))


def plot_cloud_scaling(ax=None):
    """Time to result against machine-hours (8-GPU machines) for the published runs. Lines join runs of
    one study at one time (same code, more machines); a dashed vertical guide is perfect scaling from its
    study's first run (same machine-hours at any machine count). DAWNBench's April 2018 single machine is
    drawn alone: the September runs also changed the software, so the step to them mixes both."""
    fig, ax = new_axes(ax, figsize=(7, 4.2))
    t = load_cloud_scaling()
    groups = {"Goyal et al. 2017 (P100 DGX-1s)": ("goyal-8", "goyal-256"),
              "DAWNBench, Sep 2018 (AWS p3.16xlarge, V100)": ("dawnbench-diux-8", "dawnbench-diux-16"),
              "DAWNBench, Apr 2018 (one p3.16xlarge; older code)": ("dawnbench-fastai-1",)}
    for i, (label, names) in enumerate(groups.items()):
        rows = [_run(t, n) for n in names]
        hours = np.array([r["time_s"] for r in rows]) / SECONDS_PER_HOUR
        machine_hours = hours * np.array([r["n_machines"] for r in rows])
        ax.plot(machine_hours, hours, marker=MARKERS[i], color=PALETTE[i], ls=LINESTYLES[0] if len(rows) > 1 else "",
                label=label)
        for r, x, y in zip(rows, machine_hours, hours):
            ax.annotate(f"{int(r['n_machines'])} machine{'s' if r['n_machines'] > 1 else ''}", (x, y),
                        textcoords="offset points", xytext=(6, 4), fontsize=8)
        if len(rows) > 1:
            ax.plot([machine_hours[0]] * 2, [hours.min() / 2, hours.max() * 1.5], ls=LINESTYLES[1], color=PALETTE[i],
                    lw=0.8)
    ax.set_xscale("log")
    ax.set_yscale("log")
    ax.set_xlabel("machine-hours rented (the cost, at one price per machine-hour)")
    ax.set_ylabel("hours to result")
    ax.set_title("More machines: sooner, and dearer by 1 / scaling efficiency")
    ax.legend(loc="upper center", bbox_to_anchor=(0.5, -0.18), fontsize=8, ncol=1)
    return fig
