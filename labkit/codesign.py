"""Chapter 07 — capstone: co-design a training run (devices, layout, checkpoints, power, timing).

``plan(model, n_tokens, device, n_devices, tensor_parallel, pipeline_parallel, ...)`` composes the
chapter modules into one estimate; it holds no second copy of any of their models:

- the step (chapter 02, ``labkit.scaling.step_time``): compute at the kernels' share of peak, the
  tensor-, pipeline- and data-parallel traffic priced with chapter 03's collectives on the node's NVLink
  and network, the pipeline bubble, memory per device (split by kind with ``memory_breakdown``);
- failures and checkpoints (chapter 05, ``labkit.faults``): the job's MTBF from the per-GPU MTBF of the
  Llama 3 run, checkpoint bytes and write time, the optimal interval and the expected goodput (Daly);
- power, energy and carbon (chapter 06, ``labkit.energy``): a power cap slows the compute part of a step
  (``dvfs_clock``) and sets the GPU's draw (``busy_power``), the facility multiplies IT power by its PUE,
  and carbon follows the grid's hours (``job_carbon``).

What is capstone logic lives here: the composition, the constraints (deadline, power envelope, carbon
cap, pod size), cost, the sweep over a grid of designs and its Pareto front. SI units inside; carbon in
kg CO2e, grid intensity in g CO2e/kWh, money in the currency of the prices given.
"""

import functools
import math
from dataclasses import dataclass, field

import numpy as np

from . import units as u
from .core.devices import datasheet
from .core.plotting import HATCHES, PALETTE
from .core.validate import (choice, counts, finite_result, instance, integer, nonnegative, number, positive, sequence,
                            text)
from .scaling import MATMUL_EFFICIENCY, RECOMPUTE   # chapter 02's effective share of peak (0.6, fitted on Narayanan et al. 2021 Table 1; Korthikanti 2022 and Llama 3 held out)

# ---------------------------------------------------------------------------------------------
# Assumptions (each one a number the learner can change through plan()'s arguments)
# ---------------------------------------------------------------------------------------------

#: Host power per accelerator, as a fraction of its TDP: chapter 06's average (Patterson et al. 2021, Table 4).
from .energy import HOST_POWER_FRACTION  # noqa: E402

#: Storage write bandwidth for checkpoints (bytes/s): chapter 05's Llama 3 figure, Meta's Tectonic file
#: system sustaining 2 TB/s (Llama Team 2024, arXiv:2407.21783, Section 3.3.1). A checkpoint's bytes are
#: chapter 05's ``faults.checkpoint_nbytes`` (14 per parameter; BLOOM's was 2.3 TB for 176B).
STORAGE_BANDWIDTH_BYTES_PER_S = 2e12

#: Seconds to detect a failure, replace the node and reload the last checkpoint. Assumption (chapter 05's
#: example): Llama 3 reports most of its 419 interruptions handled by automation, with no restart time.
RESTART_TIME_S = 600.0

#: Prices, assumptions to be replaced by the learner's: an H100-class GPU-hour rented in 2024–25 cost
#: about $2–4 in the cloud; industrial electricity about $0.08 per kWh.
PRICE_PER_DEVICE_HOUR = 2.5
PRICE_PER_KWH = 0.08

#: The node each GPU sits in: (NVLink inside an 8-GPU node, one network port per GPU), names of
#: datasets/interconnects.csv. Only GPUs with an NVLink generation there can be planned.
NODE_LINKS = {
    "V100 SXM2": ("NVLink 2.0 (V100)", "InfiniBand EDR"),
    "A100 SXM 80GB": ("NVLink 3.0 (A100)", "InfiniBand HDR"),
    "H100 SXM": ("NVLink 4.0 (H100)", "InfiniBand NDR"),
    "H200 SXM": ("NVLink 4.0 (H100)", "InfiniBand NDR"),
    "B200": ("NVLink 5.0 (B200)", "InfiniBand XDR"),
}
GPUS_PER_NODE = 8

#: d_model / n_layers for a model given only by its parameter count: GPT-3 175B has 12,288 / 96 = 128
#: (Brown et al. 2020, Table 2.1); heads of 128 dimensions.
ASPECT_RATIO, HEAD_DIM = 128, 128
#: Tokens per optimizer step for a model given only by its parameter count (Llama 3 405B: 16M).
DEFAULT_BATCH_TOKENS, DEFAULT_SEQ_LEN = 4 * 2**20, 4096

_MAX_DEVICES = 1_000_000


# ---------------------------------------------------------------------------------------------
# Inputs: the model, its published configuration, the device and its node
# ---------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class Workload:
    """What is trained: parameters, tokens and the shape the memory and traffic depend on."""
    name: str
    n_params: float
    n_tokens: float
    n_layers: int
    d_model: int
    n_heads: int
    seq_len: int
    global_batch_size: int


def training_configs():
    """``datasets/training_configs.csv``: published shapes and parallel layouts of large runs."""
    from .data import load
    return load("training_configs")


def training_config(name):
    """One row of training_configs.csv as a dict (counts as ints), by model name (case-insensitive)."""
    return dict(_config(text("name", name).strip().lower()))


@functools.lru_cache(maxsize=None)
def _config(key):
    rows = training_configs().rows()
    hits = [r for r in rows if str(r["model"]).lower() == key]
    if not hits:
        raise ValueError(f"no model named {key!r} in training_configs.csv; choose one of: "
                         f"{', '.join(r['model'] for r in rows)}")
    r = dict(hits[0])
    for k in ("n_layers", "d_model", "n_heads", "seq_len", "global_batch_size", "micro_batch_size", "n_devices",
              "tensor_parallel", "pipeline_parallel", "data_parallel", "zero_stage"):
        r[k] = int(r[k])
    return tuple(r.items())


def model_shape(n_params):
    """(n_layers, d_model, n_heads) of a GPT-style model of ``n_params`` parameters: 12·L·d² = N with
    d = 128·L (GPT-3's aspect ratio), d rounded to a multiple of 1,024 so that the heads of 128 dimensions
    come in multiples of 8 (any tensor-parallel degree up to a node divides them)."""
    n = positive("n_params", n_params, "parameters", maximum=1e14)
    layers = max(1, round((n / (12 * ASPECT_RATIO**2)) ** (1 / 3)))
    d = max(8 * HEAD_DIM, 8 * HEAD_DIM * round(math.sqrt(n / (12 * layers)) / (8 * HEAD_DIM)))
    return layers, d, d // HEAD_DIM


def _workload(model, n_tokens, seq_len, global_batch_size):
    """What is trained. A name of training_configs.csv brings its published shape and batch; any other
    models.csv name, or a parameter count, gets :func:`model_shape` and 4 Mi-token batches of 4,096."""
    cfg = None
    if isinstance(model, str):
        from .core.published import published_run
        names = {str(r).lower() for r in training_configs()["model"]}
        run = published_run(model)
        cfg = training_config(run.model) if run.model.lower() in names else None
        name, n_params = run.model, run.n_params
        if n_params is None:
            raise ValueError(f"models.csv gives no parameter count for {run.model!r}; pass a count as model")
        if n_tokens is None:
            n_tokens = run.n_tokens
    else:
        n_params = positive("model", model, "parameters (a count, or a name of models.csv)", maximum=1e14)
        name = f"{n_params / 1e9:,.3g}B"
    n_params = positive("model", n_params, "parameters", maximum=1e14)
    if n_tokens is None:
        raise ValueError(f"n_tokens (training tokens) is required: models.csv gives none for {name}")
    tokens = positive("n_tokens", n_tokens, "tokens", maximum=1e16)
    if cfg is not None:
        shape = (cfg["n_layers"], cfg["d_model"], cfg["n_heads"])
        seq = cfg["seq_len"] if seq_len is None else seq_len
        batch = cfg["global_batch_size"] if global_batch_size is None else global_batch_size
    else:
        shape = model_shape(n_params)
        seq = DEFAULT_SEQ_LEN if seq_len is None else integer("seq_len", seq_len, minimum=1, maximum=10**7)
        batch = max(1, round(DEFAULT_BATCH_TOKENS / seq)) if global_batch_size is None else global_batch_size
    seq = integer("seq_len", seq, minimum=1, maximum=10**7)
    batch = integer("global_batch_size", batch, minimum=1, maximum=10**9)
    return Workload(name, float(n_params), float(tokens), *shape, seq, batch)


def _device(device):
    d = datasheet(text("device", device))
    if d.short_name not in NODE_LINKS or d.memory_bytes is None or d.power_w is None:
        raise ValueError(f"device must be a training GPU with an NVLink node in interconnects.csv: one of "
                         f"{', '.join(NODE_LINKS)}; got {device!r} ({d.name})")
    return d


def _links(dev, intra, inter):
    from .scaling import link_bandwidth
    nv, net = NODE_LINKS[dev.short_name]
    intra = link_bandwidth(nv) if intra is None else positive("intra_bandwidth_bytes_per_s", intra, "bytes/s")
    inter = link_bandwidth(net) if inter is None else positive("inter_bandwidth_bytes_per_s", inter, "bytes/s")
    return intra, inter


# ---------------------------------------------------------------------------------------------
# One step: chapter 02's layout priced on the node's links
# ---------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class Step:
    """One optimizer step on the whole cluster (s per step, per device), before failures and power caps."""
    compute: float          # model FLOPs at the dense peak
    other: float            # kernels below peak and recomputation: step_time's compute − model FLOPs at peak
    communication: float    # tensor- and pipeline-parallel traffic + the data-parallel all-reduce not hidden
    bubble: float           # pipeline fill and drain
    memory: object          # scaling.MemoryBreakdown per device
    memory_bytes: float
    n_microbatches: int
    global_batch_size: int
    flops: float            # model FLOPs of one step (whole cluster)

    @property
    def fits(self):
        return bool(self.memory.total <= self.memory_bytes)


def _check_layout(w, n_devices, tp, pp):
    if n_devices % (tp * pp):
        raise ValueError(f"n_devices ({n_devices:,}) must be a multiple of tensor_parallel × pipeline_parallel "
                         f"({tp} × {pp} = {tp * pp})")
    if pp > w.n_layers:
        raise ValueError(f"pipeline_parallel ({pp}) must be at most the {w.name} model's {w.n_layers} layers")
    if w.n_heads % tp:
        raise ValueError(f"tensor_parallel ({tp}) must divide the {w.name} model's {w.n_heads} attention heads")
    if tp > GPUS_PER_NODE:
        raise ValueError(f"tensor_parallel ({tp}) must stay inside one {GPUS_PER_NODE}-GPU NVLink node")


def _rounded_batch(w, dp, micro_batch_size):
    """The global batch rounded up to whole micro-batches per data-parallel replica (sequences)."""
    return np.ceil(w.global_batch_size / (dp * micro_batch_size)) * dp * micro_batch_size


def _steps(w, dev, n, tp, pp, micro_batch_size, zero_stage, efficiency, intra, inter, interleave, recompute):
    """Chapter 02's step model (``scaling.step_time``) for arrays of layouts (n, tp, pp): returns its
    result and the global batch each layout runs."""
    from .scaling import step_time
    n, tp, pp = (np.asarray(x, dtype=float) for x in (n, tp, pp))
    dp = n // (tp * pp)
    batch = _rounded_batch(w, dp, micro_batch_size)
    r = step_time(w.n_params, w.n_layers, w.d_model, w.seq_len, batch, micro_batch_size, dp, tp, pp, zero_stage,
                  interleave, device=dev, matmul_efficiency=efficiency, intra_bandwidth_bytes_per_s=intra,
                  inter_bandwidth_bytes_per_s=inter, gpus_per_node=GPUS_PER_NODE, recompute=recompute)
    return r, batch


def _step(w, dev_name, n_devices, tp, pp, micro_batch_size, zero_stage, efficiency, intra, inter,
          interleave=1, recompute="selective"):
    """One layout's :class:`Step`, with the memory split by kind (state from ``scaling.memory_breakdown``,
    activations the rest of step_time's memory per device)."""
    from .scaling import MemoryBreakdown, memory_breakdown
    dev = datasheet(dev_name)
    r, batch = _steps(w, dev, n_devices, tp, pp, micro_batch_size, zero_stage, efficiency, intra, inter,
                      interleave, recompute)
    f = lambda x: float(np.asarray(x, dtype=float).reshape(-1)[0])   # noqa: E731
    model_compute = f(r.model_flops) / (n_devices * dev.peak_flops_per_s)
    state = memory_breakdown(w.n_params, zero_stage, n_devices // (tp * pp), tp, pp)
    memory = MemoryBreakdown(state.weights, state.gradients, state.optimizer,
                             max(0.0, f(r.memory_per_device) - state.state))
    return Step(model_compute, f(r.compute_time) - model_compute, f(r.exposed_comm), f(r.bubble_time),
                memory, dev.memory_bytes, int(round(f(r.n_microbatches))), int(f(batch)), f(r.model_flops))


# ---------------------------------------------------------------------------------------------
# The plan
# ---------------------------------------------------------------------------------------------
@dataclass
class Plan:
    """One design's estimate. Times in s, energy in J (facility), power in W (facility), carbon in kg
    CO2e, cost in the currency of the prices. ``breakdown``: seconds of one step by cause."""
    model: str
    device: str
    n_devices: int
    tensor_parallel: int
    pipeline_parallel: int
    data_parallel: int
    step_time_s: float
    breakdown: dict
    mfu: float
    goodput: float
    n_steps: int
    wall_clock_s: float
    device_hours: float
    energy_j: float
    it_energy_j: float
    peak_power_w: float
    carbon_kg: float
    cost: float
    fits_in_memory: bool
    memory: object
    memory_bytes: float
    checkpoint_time_s: float
    interval_s: float
    mtbf_s: float
    expected_failures: float
    clock: float
    bottleneck: str
    reasons: list = field(default_factory=list)

    @property
    def feasible(self):
        """True when the design fits in memory and meets every constraint given to :func:`plan`."""
        return not self.reasons

    def budget(self):
        """Where the facility energy goes (J, adding up to ``energy_j``): useful compute, kernels below
        peak, communication, pipeline bubble, failures and checkpoints, cooling and power delivery."""
        return _budget(self)

    def summary(self):
        verdict = "feasible" if self.feasible else "INFEASIBLE: " + "; ".join(self.reasons)
        return (f"{self.model} on {self.n_devices:,} × {self.device} (TP {self.tensor_parallel} × PP "
                f"{self.pipeline_parallel} × DP {self.data_parallel}): step {self.step_time_s:.3g} s, MFU "
                f"{self.mfu:.0%}, goodput {self.goodput:.0%}, {self.wall_clock_s / u.DAY:,.1f} days, "
                f"{self.device_hours:,.0f} device-hours, {u.fmt_energy(self.energy_j)}, peak "
                f"{u.fmt_power(self.peak_power_w)}, {self.carbon_kg / 1000:,.1f} t CO2e, cost {self.cost:,.3g}; "
                f"{self.bottleneck}. {verdict}")

    def __str__(self):
        return self.summary()


_BUDGET_PARTS = ("useful compute", "below-peak kernels", "communication", "pipeline bubble",
                 "failures and checkpoints", "cooling and power delivery")


def _budget(p):
    it = p.it_energy_j
    step_share = p.goodput * it    # energy of the steps that were kept; the rest is lost to failures
    total_step = sum(p.breakdown.values())
    parts = [step_share * p.breakdown[k] / total_step for k in ("compute", "other", "communication", "bubble")]
    return dict(zip(_BUDGET_PARTS, parts + [it - step_share, p.energy_j - it]))


def _grid(grid_g_per_kwh):
    if grid_g_per_kwh is None:
        from .energy import grid_intensity_profile
        return grid_intensity_profile()
    g = nonnegative("grid_g_per_kwh", grid_g_per_kwh, "g CO2e/kWh", array=True, maximum=10_000)
    g = np.atleast_1d(np.asarray(g, dtype=float))
    if g.ndim != 1 or g.size > 10_000:
        raise ValueError("grid_g_per_kwh must be one intensity or an hourly profile (a 1-D array, ≤ 10,000 hours)")
    return g


def plan(model, n_tokens=None, device="H100", n_devices=1024, tensor_parallel=8, pipeline_parallel=1, *,
         micro_batch_size=1, seq_len=None, global_batch_size=None, zero_stage=1, interval=None,
         storage_bandwidth_bytes_per_s=STORAGE_BANDWIDTH_BYTES_PER_S, restart_time=RESTART_TIME_S,
         device_mtbf=None, cap_w=None, pue=1.1, grid_g_per_kwh=None, start_hour=0.0,
         price_per_device_hour=PRICE_PER_DEVICE_HOUR, price_per_kwh=PRICE_PER_KWH,
         interleave=1, recompute="selective", matmul_efficiency=MATMUL_EFFICIENCY, host_power_w=None,
         intra_bandwidth_bytes_per_s=None, inter_bandwidth_bytes_per_s=None, deadline_s=None, power_budget_w=None,
         carbon_cap_kg=None, max_devices=None):
    """Estimate a training run end to end and judge it against the constraints given.

    ``model``: a name of models.csv (with datasets/training_configs.csv's published shape and batch for
    "GPT-3", "BLOOM", "OPT-175B" and "Llama 3.1 405B"; its tokens unless ``n_tokens`` is given) or a parameter
    count (shape from :func:`model_shape`; then ``n_tokens`` is required). ``device``: a GPU of :data:`NODE_LINKS`
    (datasheet name). Layout: ``tensor_parallel`` (inside one node) × ``pipeline_parallel`` × data
    parallel = ``n_devices``; the global batch rounds up to whole micro-batches per replica.
    Checkpoints: ``interval`` (s of compute between checkpoints; default the optimal one for the
    checkpoint time = parameters × 14 bytes / ``storage_bandwidth_bytes_per_s``); failures at the per-GPU
    ``device_mtbf`` (s; default the Llama 3 run's, chapter 05) cost ``restart_time`` each. Power:
    ``cap_w`` per device (W; slows the compute part of a step, chapter 06), ``host_power_w`` per device
    (default 10 % of TDP), ``pue``. Carbon: ``grid_g_per_kwh`` a constant or an hourly profile (default:
    California's mean April day, chapter 06) from ``start_hour``. Constraints (None: none): ``deadline_s``,
    ``power_budget_w`` (facility peak), ``carbon_cap_kg``, ``max_devices`` (devices in the pod).

    Parallel degrees that do not divide raise ValueError; a design that does not fit in memory or breaks
    a constraint comes back with ``feasible`` False and its ``reasons``.
    """
    w = _workload(model, n_tokens, seq_len, global_batch_size)
    dev = _device(device)
    n = integer("n_devices", n_devices, minimum=1, maximum=_MAX_DEVICES)
    tp = integer("tensor_parallel", tensor_parallel, minimum=1, maximum=1024)
    pp = integer("pipeline_parallel", pipeline_parallel, minimum=1, maximum=1024)
    mb = integer("micro_batch_size", micro_batch_size, minimum=1, maximum=4096)
    zero = integer("zero_stage", zero_stage, minimum=0, maximum=3)
    eff = number("matmul_efficiency", matmul_efficiency, "fraction", minimum=0.01, maximum=1.0)
    v = integer("interleave", interleave, minimum=1, maximum=128)
    choice("recompute", recompute, RECOMPUTE)
    intra, inter = _links(dev, intra_bandwidth_bytes_per_s, inter_bandwidth_bytes_per_s)
    _check_layout(w, n, tp, pp)
    if v > 1 and (pp == 1 or math.ceil(w.n_layers / pp) % v):
        raise ValueError(f"interleave ({v}) needs pipeline_parallel > 1 and must divide the layers per stage "
                         f"({math.ceil(w.n_layers / pp)})")
    step = _step(w, dev.name, n, tp, pp, mb, zero, float(eff), float(intra), float(inter), v, recompute)
    settings = _settings(dev, w, interval, storage_bandwidth_bytes_per_s, restart_time, device_mtbf, cap_w, pue,
                         grid_g_per_kwh, start_hour, price_per_device_hour, price_per_kwh, host_power_w)
    limits = _limits(deadline_s, power_budget_w, carbon_cap_kg, max_devices)
    ev = _evaluate(step.compute + step.other, step.communication, step.bubble, n, settings)
    return _plan_result(w, dev, n, tp, pp, step, ev, settings, limits)


def _settings(dev, w, interval, storage_bw, restart_time, device_mtbf, cap_w, pue, grid, start_hour,
              price_per_device_hour, price_per_kwh, host_power_w):
    from .energy import IDLE_POWER_FRACTION, MAX_PUE, STATIC_POWER_FRACTION
    from .faults import checkpoint_nbytes, checkpoint_write_time, llama3_mtbf
    s = dict(
        interval=None if interval is None else positive("interval", interval, "s", maximum=1e9),
        checkpoint_time=float(checkpoint_write_time(checkpoint_nbytes(w.n_params), positive(
            "storage_bandwidth_bytes_per_s", storage_bw, "bytes/s", maximum=1e15))),
        restart_time=nonnegative("restart_time", restart_time, "s", maximum=1e7),
        device_mtbf=llama3_mtbf()[1] if device_mtbf is None else positive("device_mtbf", device_mtbf, "s"),
        tdp=dev.power_w, static=STATIC_POWER_FRACTION * dev.power_w, idle=IDLE_POWER_FRACTION * dev.power_w,
        cap=dev.power_w if cap_w is None else positive("cap_w", cap_w, "W", array=True),
        pue=number("pue", pue, "ratio", minimum=1.0, maximum=MAX_PUE), grid=_grid(grid),
        start_hour=nonnegative("start_hour", start_hour, "hours", array=True, maximum=1e6),
        price_hour=nonnegative("price_per_device_hour", price_per_device_hour, "per device-hour", maximum=1e6),
        price_kwh=nonnegative("price_per_kwh", price_per_kwh, "per kWh", maximum=1e3),
        host=HOST_POWER_FRACTION * dev.power_w if host_power_w is None else
        nonnegative("host_power_w", host_power_w, "W", maximum=1e6),
    )
    if np.any(np.asarray(s["cap"]) <= s["static"]) or np.any(np.asarray(s["cap"]) > s["tdp"]):
        raise ValueError(f"cap_w must lie above the static power ({s['static']:.0f} W) and at most the "
                         f"{dev.short_name}'s TDP ({s['tdp']:.0f} W), got {cap_w!r}")
    return s


def _limits(deadline_s, power_budget_w, carbon_cap_kg, max_devices):
    return dict(deadline=None if deadline_s is None else positive("deadline_s", deadline_s, "s"),
                power=None if power_budget_w is None else positive("power_budget_w", power_budget_w, "W"),
                carbon=None if carbon_cap_kg is None else nonnegative("carbon_cap_kg", carbon_cap_kg, "kg CO2e"),
                devices=None if max_devices is None else integer("max_devices", max_devices, minimum=1,
                                                                  maximum=_MAX_DEVICES))


def _evaluate(busy, communication, bubble, n, s):
    """Step time under the cap, failures and checkpoints; broadcasts over arrays of layouts (busy,
    communication, bubble in s per step; n devices) and of the cap, interval and start hour (the sweep)."""
    from .energy import busy_power, dvfs_clock
    from .faults import cluster_mtbf, expected_goodput, optimal_interval
    clock = dvfs_clock(s["cap"], s["tdp"], s["static"])
    step_time = busy / clock + communication + bubble
    mtbf = cluster_mtbf(s["device_mtbf"], n)
    interval = optimal_interval(s["checkpoint_time"], mtbf) if s["interval"] is None else s["interval"]
    goodput = expected_goodput(interval, s["checkpoint_time"], s["restart_time"], mtbf)
    goodput = np.maximum(goodput, 1e-6)   # a design that never finishes gets a huge, finite wall clock
    return dict(clock=clock, step_time=step_time, mtbf=mtbf, interval=interval, goodput=goodput,
                busy_power=busy_power(s["tdp"], s["cap"], s["static"]))   # chapter 06: what a capped GPU draws


def _finish(ev, n_steps, n, s):
    """Wall clock, energy, power, carbon and cost from an :func:`_evaluate` result (arrays broadcast)."""
    from .energy import job_carbon
    with np.errstate(over="ignore"):
        wall = n_steps * ev["step_time"] / ev["goodput"]
        restarts = np.minimum(wall / ev["mtbf"] * s["restart_time"], wall)  # expected seconds spent restarting
        busy_power = ev["busy_power"] + s["host"]   # a synchronous job keeps every GPU at its (capped) power
        idle_power = s["idle"] + s["host"]
        it_energy = n * ((wall - restarts) * busy_power + restarts * idle_power)
        energy = it_energy * s["pue"]
        peak = n * busy_power * s["pue"]
        avg_it_power = it_energy / np.maximum(wall, 1e-9)
        carbon = job_carbon(np.asarray(s["start_hour"]) * u.HOUR, wall, avg_it_power, s["grid"], pue=s["pue"])
        device_hours = n * wall / u.HOUR
        cost = device_hours * s["price_hour"] + energy / u.kWh * s["price_kwh"]
    return dict(wall=wall, energy=energy, it_energy=it_energy, peak=peak, carbon=carbon,
                device_hours=device_hours, cost=cost, failures=wall / ev["mtbf"])


def _n_steps(w, global_batch_size):
    return math.ceil(w.n_tokens / (global_batch_size * w.seq_len) - 1e-9)


def _bottleneck(step, breakdown, goodput, fits):
    if not fits:
        return "memory: the model state and activations do not fit; raise tensor or pipeline parallelism or ZeRO"
    total = sum(breakdown.values())
    share = {k: v / total for k, v in breakdown.items()}
    lost = 1 - goodput
    worst = max(("communication", "bubble", "other"), key=share.get)
    if lost > share[worst] and lost > 0.1:
        return (f"failures: {lost:.0%} of the wall clock is lost to checkpoints, rework and restarts; "
                "checkpoint faster or use fewer, more reliable devices")
    if share["compute"] >= 0.5 and share[worst] < 0.2:
        return (f"compute-bound: {share['compute']:.0%} of each step is model math at peak; the rest is kernels "
                "below peak — only faster chips, lower precision or better kernels help")
    what = {"communication": "exposed communication: the layout's traffic does not hide behind compute — keep "
                             "tensor parallelism inside a node, use fewer data-parallel replicas or a faster network",
            "bubble": "pipeline bubble: too few micro-batches per pipeline — use fewer stages, a smaller "
                      "micro-batch or a larger global batch",
            "other": "kernels below peak: the math runs below the chip's dense peak"}[worst]
    return f"{what} ({share[worst]:.0%} of the step)"


def _plan_result(w, dev, n, tp, pp, step, ev, settings, limits):
    n_steps = _n_steps(w, step.global_batch_size)
    f = {k: float(np.asarray(v).reshape(-1)[0]) for k, v in _finish(ev, n_steps, n, settings).items()}
    step_time = float(ev["step_time"])
    breakdown = {"compute": step.compute, "other": (step.compute + step.other) / float(ev["clock"]) - step.compute,
                 "communication": step.communication, "bubble": step.bubble}
    finite_result([step_time, f["wall"], f["energy"], f["carbon"], f["cost"]], "the plan (from its arguments)")
    goodput = float(ev["goodput"])
    floor = w.n_tokens / (step.global_batch_size * w.seq_len) * step.compute   # every step at 100 % of peak
    reasons = _reasons(step.fits, step.memory.total, step.memory_bytes, n, f, limits, floor)
    return Plan(w.name, dev.short_name, n, tp, pp, n // (tp * pp), step_time, breakdown,
                step.compute / step_time, goodput, n_steps, f["wall"], f["device_hours"], f["energy"],
                f["it_energy"], f["peak"], f["carbon"], f["cost"], step.fits, step.memory, step.memory_bytes,
                settings["checkpoint_time"], float(ev["interval"]), float(ev["mtbf"]), f["failures"],
                float(ev["clock"]), _bottleneck(step, breakdown, goodput, step.fits), reasons)


def _reasons(fits, memory_total, memory_bytes, n, f, limits, floor_s=0.0):
    reasons = []
    if not fits:
        reasons.append(f"does not fit: {u.fmt_bytes(memory_total)} per device of {u.fmt_bytes(memory_bytes)}")
    if limits["devices"] is not None and n > limits["devices"]:
        reasons.append(f"{n:,} devices, more than the {limits['devices']:,} in the pod")
    if limits["deadline"] is not None and f["wall"] > limits["deadline"]:
        physics = (f" — physics forbids it on {n:,} of these GPUs: even at 100 % of peak the model FLOPs take "
                   f"{floor_s / u.DAY:,.1f} days" if floor_s > limits["deadline"] else "")
        reasons.append(f"misses the deadline: {f['wall'] / u.DAY:,.1f} days > {limits['deadline'] / u.DAY:,.1f}{physics}")
    if limits["power"] is not None and f["peak"] > limits["power"]:
        reasons.append(f"peak facility power {u.fmt_power(f['peak'])} > the {u.fmt_power(limits['power'])} envelope")
    if limits["carbon"] is not None and f["carbon"] > limits["carbon"]:
        reasons.append(f"{f['carbon'] / 1000:,.1f} t CO2e > the cap of {limits['carbon'] / 1000:,.1f} t")
    return reasons


# ---------------------------------------------------------------------------------------------
# Published runs, re-planned from their configurations
# ---------------------------------------------------------------------------------------------
def published_plan(name, **overrides):
    """:func:`plan` of a run of training_configs.csv from its published configuration (device, count,
    micro-batch, layout, ZeRO stage, network, recomputation, interleaving); ``overrides`` replace any argument."""
    c = training_config(name)
    args = dict(device=c["hardware"], n_devices=c["n_devices"], micro_batch_size=c["micro_batch_size"],
                tensor_parallel=c["tensor_parallel"],
                pipeline_parallel=c["pipeline_parallel"], zero_stage=c["zero_stage"],
                inter_bandwidth_bytes_per_s=c["inter_bandwidth_bytes_per_s"], recompute=c["recompute"],
                interleave=int(c["interleave"]))
    args.update(overrides)
    return plan(c["model"], **args)


@dataclass(frozen=True)
class Check:
    """One quantity of one published run: labkit's estimate against the published figure."""
    run: str
    quantity: str
    model: float
    published: float
    low: float      # the tolerance band, in the quantity's unit
    high: float
    unit: str
    source: str

    @property
    def ratio(self):
        return self.model / self.published

    @property
    def within(self):
        return bool(self.low <= self.model <= self.high)


def _band(value, rtol):
    return value * (1 - rtol), value * (1 + rtol)


def _published_device_hours(name):
    from .data import load
    rows = [r for r in load("models").rows() if r["model"] == name]
    return float(rows[0]["device_hours"])


def validation():
    """Every end-to-end check against a published run, as a list of :class:`Check` (the chapter's
    validation table; tests/test_codesign.py asserts each is within its band)."""
    from .core.published import published_run
    from .faults import LLAMA3_DAYS, LLAMA3_EFFECTIVE_TRAINING, LLAMA3_UNEXPECTED
    rows = []
    # GPT-3 at Patterson et al.'s site: PUE 1.10, 429 g/kWh, and the 10 % host power that makes 330 W per V100.
    g = published_plan("GPT-3", pue=1.10, grid_g_per_kwh=429.0)
    gpt3 = published_run("GPT-3")
    patterson = "Patterson et al. 2021, arXiv:2104.10350, Table 4"
    rows += [Check("GPT-3", "wall clock (days)", g.wall_clock_s / u.DAY, gpt3.seconds / u.DAY,
                   *_band(gpt3.seconds / u.DAY, 0.15), "days", patterson),
             Check("GPT-3", "facility energy (MWh)", g.energy_j / u.MWh, 1287.0, *_band(1287.0, 0.15), "MWh",
                   patterson),
             Check("GPT-3", "carbon (t CO2e)", g.carbon_kg / 1000, 552.1, *_band(552.1, 0.15), "t", patterson)]
    # BLOOM as Luccioni et al. counted it: GPU-hours × 400 W TDP, no host, no PUE (their "dynamic" energy).
    b = published_plan("BLOOM", host_power_w=0.0, pue=1.0, grid_g_per_kwh=57.0)
    bloom = published_run("BLOOM")
    luccioni = "Luccioni, Viguier & Ligozat 2023, JMLR 24(253), Table 4; BigScience 2022, arXiv:2211.05100"
    # ±25 %: the published hours are the calendar of a public machine (restarts, hangs, a shared file
    # system, a batch ramp-up, CUDA_LAUNCH_BLOCKING=1 in its launch script) that the model does not cover; it
    # comes out about 16 % short.
    rows += [Check("BLOOM", "device-hours", b.device_hours, 1_082_990.0, *_band(1_082_990.0, 0.25), "GPU-h",
                   luccioni),
             Check("BLOOM", "GPU energy (MWh)", b.it_energy_j / u.MWh, 433.0, *_band(433.0, 0.25), "MWh", luccioni),
             Check("BLOOM", "wall clock (days)", b.wall_clock_s / u.DAY, bloom.seconds / u.DAY,
                   *_band(bloom.seconds / u.DAY, 0.25), "days", luccioni)]
    # Llama 3 405B on 16,384 H100s: MFU 38-43 % (Table 4, across its layouts), interruptions in 54 days.
    ll = published_plan("Llama 3.1 405B")
    meta = "Llama Team 2024, arXiv:2407.21783, Table 4 (MFU) and Section 3.3.4 (interruptions)"
    rows += [Check("Llama 3.1 405B", "MFU", ll.mfu, 0.405, 0.38 - 0.05, 0.43 + 0.05, "fraction", meta),
             Check("Llama 3.1 405B", "unexpected interruptions in 54 days", LLAMA3_DAYS * u.DAY / ll.mtbf_s,
                   float(LLAMA3_UNEXPECTED), *_band(LLAMA3_UNEXPECTED, 0.01), "count", meta),
             Check("Llama 3.1 405B", "effective training time (goodput)", ll.goodput, LLAMA3_EFFECTIVE_TRAINING,
                   LLAMA3_EFFECTIVE_TRAINING, 1.0, "fraction", meta + " (\"higher than 90 %\")")]
    # Its GPU-hours (model card, models.csv), although the real run also had a long-context stage.
    hours = _published_device_hours("Llama 3.1 405B")
    rows += [Check("Llama 3.1 405B", "GPU-hours", ll.device_hours, hours, *_band(hours, 0.15), "GPU-h",
                   "Llama 3.1 model card (30.84M GPU-hours), datasets/models.csv")]
    # OPT-175B trained with FSDP. Chapter 02's ZeRO-3 re-gathers the weights for each of the step's nine
    # micro-batches over 25 GB/s (35 s exposed per step, MFU 17 %); keeping the gathered weights through
    # the step's micro-batches — ZeRO-2's traffic, what FSDP does without resharding — gives 147 TFLOP/s.
    o = published_plan("OPT-175B", zero_stage=2)
    opt = "Zhang et al. 2022, arXiv:2205.01068, Section 2.4 (147 TFLOP/s per A100 80GB, 312 TFLOP/s peak)"
    rows += [Check("OPT-175B", "MFU (FSDP without resharding: ZeRO-2 traffic)", o.mfu, 147e12 / 312e12,
                   *_band(147e12 / 312e12, 0.10), "fraction", opt)]
    return rows


# ---------------------------------------------------------------------------------------------
# The sweep and its Pareto front
# ---------------------------------------------------------------------------------------------
OBJECTIVES = ("wall_clock_s", "energy_j", "cost", "carbon_kg")


def pareto_front(objectives):
    """Boolean mask of the rows of ``objectives`` (n designs × k objectives, all minimized) that no other
    row dominates (no worse in every objective and better in one). Rows sorted by their sum can only be
    dominated by rows before them, so one pass against the growing front suffices."""
    x = np.asarray(number("objectives", objectives, array=True, finite=True), dtype=float)
    if x.ndim != 2 or x.shape[0] > 1_000_000 or x.shape[1] > 16:
        raise ValueError("objectives must be a 2-D array: one row per design, one column per objective (≤ 16)")
    scale = np.maximum(np.abs(x).max(axis=0), 1e-300)
    order = np.lexsort((np.arange(len(x)), (x / scale).sum(axis=1)))
    mask = np.zeros(len(x), dtype=bool)
    front = np.empty((0, x.shape[1]))
    for i in order:
        p = x[i]
        if front.size and np.any(np.all(front <= p, axis=1) & np.any(front < p, axis=1)):
            continue
        if front.size and np.any(np.all(front == p, axis=1)):
            continue   # an exact duplicate of a front design: keep the first only
        mask[i] = True
        front = np.vstack([front, p])
    return mask


@dataclass
class Sweep:
    """Every design of a grid (``columns``: equal-length arrays, one entry per design), whether it is
    ``feasible`` and whether it is on the Pareto ``front`` of time, energy, cost and carbon among the
    feasible ones."""
    columns: dict
    feasible: np.ndarray
    front: np.ndarray

    def __len__(self):
        return len(self.feasible)

    def __getitem__(self, name):
        return self.columns[name]

    def rows(self, mask=None):
        """The designs (all, or those of a boolean ``mask``) as dicts, fastest first."""
        idx = np.flatnonzero(np.ones(len(self), bool) if mask is None else mask)
        idx = idx[np.argsort(self.columns["wall_clock_s"][idx])]
        return [{k: (v[i].item() if hasattr(v[i], "item") else v[i]) for k, v in self.columns.items()} for i in idx]

    def best(self, objective="carbon_kg"):
        """The feasible design with the least of ``objective`` (a dict), or None when none is feasible."""
        choice("objective", objective, OBJECTIVES)
        if not self.feasible.any():
            return None
        idx = np.flatnonzero(self.feasible)
        return self.rows(np.isin(np.arange(len(self)), idx[np.argmin(self.columns[objective][idx])]))[0]


def _layouts(w, n_devices, tensor_parallel, pipeline_parallel):
    """The valid (n, tp, pp) combinations of the grid; those whose degrees do not divide are left out."""
    found = []
    for n in n_devices:
        for tp in tensor_parallel:
            for pp in pipeline_parallel:
                try:
                    _check_layout(w, int(n), int(tp), int(pp))
                except ValueError:
                    continue
                found.append((int(n), int(tp), int(pp)))
    return np.array(found, dtype=float).reshape(-1, 3)


def sweep(model, n_tokens=None, devices=("H100",), n_devices=(1024, 2048, 4096, 8192),
          tensor_parallel=(1, 2, 4, 8), pipeline_parallel=(1, 2, 4, 8), intervals=None,
          cap_fractions=(1.0, 0.85, 0.7), start_hours=(0, 6, 12, 18), *, micro_batch_size=1, seq_len=None,
          global_batch_size=None, zero_stage=1, recompute="selective", matmul_efficiency=MATMUL_EFFICIENCY,
          storage_bandwidth_bytes_per_s=STORAGE_BANDWIDTH_BYTES_PER_S, restart_time=RESTART_TIME_S,
          device_mtbf=None, pue=1.1, grid_g_per_kwh=None, price_per_device_hour=PRICE_PER_DEVICE_HOUR,
          price_per_kwh=PRICE_PER_KWH, deadline_s=None, power_budget_w=None, carbon_cap_kg=None, max_devices=None):
    """:func:`plan` over every combination of ``devices`` × ``n_devices`` × ``tensor_parallel`` ×
    ``pipeline_parallel`` × checkpoint ``intervals`` (s; None: the optimal one) × ``cap_fractions`` (of each
    device's TDP) × ``start_hours``, vectorized: one step model per layout (combinations whose degrees do
    not divide are left out), then numpy over the rest. Returns a :class:`Sweep` whose ``front`` marks the
    Pareto-optimal feasible designs (time, energy, cost, carbon; constraints as in :func:`plan`).
    ``price_per_device_hour``: one price for every device, or a dict ``{device name: price}`` naming each
    of ``devices`` as given (a faster GPU usually rents for more; with one price the cost axis favours it).
    """
    w = _workload(model, n_tokens, seq_len, global_batch_size)
    names = list(sequence("devices", devices, maximum=16))
    devices = [_device(d) for d in names]
    prices = _device_prices(price_per_device_hour, names)
    n_devices = counts("n_devices", list(sequence("n_devices", n_devices, maximum=64)), maximum=_MAX_DEVICES)
    tps = counts("tensor_parallel", list(sequence("tensor_parallel", tensor_parallel, maximum=16)), maximum=1024)
    pps = counts("pipeline_parallel", list(sequence("pipeline_parallel", pipeline_parallel, maximum=32)),
                 maximum=1024)
    caps = np.asarray(number("cap_fractions", list(sequence("cap_fractions", cap_fractions, maximum=64)),
                             "fraction of TDP", array=True, minimum=0.35, maximum=1.0), dtype=float)
    hours = np.asarray(number("start_hours", list(sequence("start_hours", start_hours, maximum=48)), "hours",
                              array=True, minimum=0, maximum=1e6), dtype=float)
    ivals = None if intervals is None else np.asarray(
        positive("intervals", list(sequence("intervals", intervals, maximum=64)), "s", array=True, maximum=1e9))
    mb = integer("micro_batch_size", micro_batch_size, minimum=1, maximum=4096)
    zero = integer("zero_stage", zero_stage, minimum=0, maximum=3)
    choice("recompute", recompute, RECOMPUTE)
    eff = float(number("matmul_efficiency", matmul_efficiency, "fraction", minimum=0.01, maximum=1.0))
    limits = _limits(deadline_s, power_budget_w, carbon_cap_kg, max_devices)
    layouts = _layouts(w, n_devices, tps, pps)
    parts = []
    for dev, price in zip(devices, prices):
        if len(layouts):
            steps = _steps(w, dev, layouts[:, 0], layouts[:, 1], layouts[:, 2], mb, zero, eff,
                           *_links(dev, None, None), 1, recompute)
            parts.append(_sweep_device(w, dev, layouts, steps, caps, ivals, hours, limits, dict(
                storage_bw=storage_bandwidth_bytes_per_s, restart_time=restart_time, device_mtbf=device_mtbf,
                pue=pue, grid=grid_g_per_kwh, price_hour=price, price_kwh=price_per_kwh)))
    if not parts:
        raise ValueError("no layout of the grid is valid: tensor_parallel × pipeline_parallel must divide "
                         "n_devices, tensor_parallel must divide the heads and stay within a node")
    columns = {k: np.concatenate([p[k] for p in parts]) for k in parts[0]}
    feasible = columns.pop("feasible")
    finite_result([columns[k] for k in OBJECTIVES], "the sweep's objectives")
    front = np.zeros(len(feasible), dtype=bool)
    if feasible.any():
        front[np.flatnonzero(feasible)] = pareto_front(np.column_stack([columns[k][feasible] for k in OBJECTIVES]))
    return Sweep(columns, feasible, front)


def _device_prices(price_per_device_hour, names):
    """One price per device of the sweep, from a number or a dict keyed by the names given."""
    if isinstance(price_per_device_hour, dict):
        missing = [n for n in names if n not in price_per_device_hour]
        if missing:
            raise ValueError(f"price_per_device_hour has no price for {', '.join(map(repr, missing))}; give one for "
                             f"each of devices, keyed as given")
        return [price_per_device_hour[n] for n in names]
    return [price_per_device_hour] * len(names)


def _sweep_device(w, dev, layouts, steps, caps, intervals, hours, limits, o):
    """All designs of one device: axes (layout, cap, interval, start hour), flattened."""
    r, batch = steps
    n_int = 1 if intervals is None else len(intervals)
    s = _settings(dev, w, None, o["storage_bw"], o["restart_time"], o["device_mtbf"], None, o["pue"], o["grid"],
                  0.0, o["price_hour"], o["price_kwh"], None)
    s["cap"] = np.maximum(caps * dev.power_w, s["static"] * 1.001)[None, :, None, None]
    s["interval"] = None if intervals is None else intervals[None, None, :, None]
    s["start_hour"] = hours[None, None, None, :]
    col = lambda a: np.asarray(a, dtype=float).reshape(-1)[:, None, None, None]   # noqa: E731
    n = col(layouts[:, 0])
    ev = _evaluate(col(r.compute_time), col(r.exposed_comm), col(r.bubble_time), n, s)
    n_steps = np.ceil(w.n_tokens / (col(batch) * w.seq_len) - 1e-9)
    out = _finish(ev, n_steps, n, s)
    shape = (len(layouts), len(caps), n_int, len(hours))
    full = lambda a: np.broadcast_to(np.asarray(a, dtype=float), shape).reshape(-1)   # noqa: E731
    fits = col(r.memory_per_device) <= dev.memory_bytes
    feasible = np.broadcast_to(fits, shape)
    if limits["devices"] is not None:
        feasible = feasible & (n <= limits["devices"])
    for key, value in (("deadline", out["wall"]), ("power", out["peak"]), ("carbon", out["carbon"])):
        if limits[key] is not None:
            feasible = feasible & (value <= limits[key])
    compute = col(r.model_flops) / (n * dev.peak_flops_per_s)
    return {"device": np.full(int(np.prod(shape)), dev.short_name, dtype=object),
            "n_devices": full(n).astype(int), "tensor_parallel": full(col(layouts[:, 1])).astype(int),
            "pipeline_parallel": full(col(layouts[:, 2])).astype(int),
            "cap_w": full(s["cap"]), "interval_s": full(ev["interval"]), "start_hour": full(s["start_hour"]),
            "step_time_s": full(ev["step_time"]), "mfu": full(compute / ev["step_time"]),
            "goodput": full(ev["goodput"]), "wall_clock_s": full(out["wall"]),
            "device_hours": full(out["device_hours"]), "energy_j": full(out["energy"]),
            "peak_power_w": full(out["peak"]), "carbon_kg": full(out["carbon"]), "cost": full(out["cost"]),
            "fits_in_memory": full(fits).astype(bool), "feasible": np.broadcast_to(feasible, shape).reshape(-1).copy()}


# ---------------------------------------------------------------------------------------------
# Plots and the explorer
# ---------------------------------------------------------------------------------------------
# Okabe–Ito colours (green compute, yellow other, blue communication, orange bubble, vermillion failures,
# pink cooling), each part with its own hatch so that no part is told apart by colour alone.
_STEP_COLORS = {"compute": PALETTE[2], "other": PALETTE[7], "communication": PALETTE[0], "bubble": PALETTE[1]}
_STEP_HATCHES = dict(zip(_STEP_COLORS, HATCHES))
_BUDGET_COLORS = (PALETTE[2], PALETTE[7], PALETTE[0], PALETTE[1], PALETTE[3], PALETTE[4])


def plot_budget(plans, ax=None):
    """Stacked bars: where each plan's facility energy goes (MWh), by :meth:`Plan.budget`'s parts."""
    from .core.plotting import new_axes
    plans = list(sequence("plans", plans, maximum=20))
    for p in plans:
        instance("plans", p, Plan, "a Plan from plan()")
    fig, ax = new_axes(ax)
    bottom = np.zeros(len(plans))
    for k, color, hatch in zip(_BUDGET_PARTS, _BUDGET_COLORS, HATCHES):
        v = np.array([p.budget()[k] / u.MWh for p in plans])
        ax.bar(range(len(plans)), v, bottom=bottom, color=color, hatch=hatch, edgecolor="white", linewidth=0, label=k)
        bottom += v
    ax.set_xticks(range(len(plans)), [f"{p.model}\n{p.n_devices:,} {p.device}" for p in plans], fontsize=8)
    ax.set_ylabel("facility energy (MWh)")
    ax.legend(fontsize=7, frameon=False, loc="upper left")
    return fig


def plot_pareto(result, ax=None):
    """The sweep's designs: wall clock (days) against facility energy (MWh), coloured by carbon; feasible
    designs solid, the Pareto front ringed."""
    from .core.plotting import new_axes
    result = instance("result", result, Sweep, "a Sweep from sweep()")
    fig, ax = new_axes(ax)
    days, mwh = result["wall_clock_s"] / u.DAY, result["energy_j"] / u.MWh
    ok = result.feasible
    ax.scatter(days[~ok], mwh[~ok], s=4, color="0.85", label="infeasible")
    sc = ax.scatter(days[ok], mwh[ok], s=6, c=result["carbon_kg"][ok] / 1000, cmap="viridis", label="feasible")
    ax.scatter(days[result.front], mwh[result.front], s=40, facecolors="none", edgecolors="C3", label="Pareto front")
    if ok.any():
        fig.colorbar(sc, ax=ax, label="t CO2e")
    ax.set(xscale="log", yscale="log", xlabel="wall clock (days)", ylabel="facility energy (MWh)")
    ax.legend(fontsize=7, frameon=False)
    return fig


#: The explorer's choices.
_EXPLORER_TP, _EXPLORER_PP = (1, 2, 4, 8), (1, 2, 4, 8, 16)


def _build_codesign(fig):
    fig.subplots_adjust(left=0.16, right=0.97, bottom=0.14, top=0.9, wspace=0.45)
    ax_step, ax_limits = fig.subplots(1, 2)
    bars = {k: ax_step.barh([0], [0.0], left=[0.0], color=c, hatch=_STEP_HATCHES[k], edgecolor="white", linewidth=0,
                            label=k)[0] for k, c in _STEP_COLORS.items()}
    ax_step.set(xlim=(0, 1), ylim=(-0.6, 0.6), yticks=[], xlabel="share of one step")
    ax_step.legend(fontsize=7, frameon=False, loc="upper center", ncols=2, bbox_to_anchor=(0.5, 1.25))
    names = ("wall clock", "peak power", "carbon")
    limit_bars = ax_limits.barh(range(3), [0.0] * 3, color="C0", edgecolor="white", linewidth=0)
    ax_limits.axvline(1.0, color="k", ls="--", lw=1)
    ax_limits.set(xlim=(0, 2), yticks=range(3), yticklabels=names, xlabel="share of the brief's limit")
    for ax in (ax_step, ax_limits):
        ax.set_autoscale_on(False)
        ax.spines[["top", "right"]].set_visible(False)
    return dict(bars=bars, limits=list(limit_bars))


def _update_codesign(h, brief, device, n_devices, tensor_parallel, pipeline_parallel, interval_min, cap_fraction,
                     start_hour):
    dev = _device(device)
    try:
        p = plan(brief["model"], brief["n_tokens"], device, int(round(n_devices)), int(tensor_parallel),
                 int(pipeline_parallel), interval=None if interval_min <= 0 else interval_min * 60.0,
                 cap_w=max(cap_fraction, 0.35) * dev.power_w, start_hour=start_hour,
                 deadline_s=brief["deadline_s"], power_budget_w=brief["power_budget_w"],
                 carbon_cap_kg=brief["carbon_cap_kg"], max_devices=brief["max_devices"])
    except ValueError as e:
        for b in h["bars"].values():
            b.set_width(0.0)
        for b in h["limits"]:
            b.set_width(0.0)
        return f"not a valid layout: {e}"
    total, left = p.step_time_s, 0.0
    for k, b in h["bars"].items():
        share = p.breakdown[k] / total
        b.set_x(left)
        b.set_width(share)
        left += share
    ratios = (p.wall_clock_s / brief["deadline_s"], p.peak_power_w / brief["power_budget_w"],
              p.carbon_kg / brief["carbon_cap_kg"])
    for b, r in zip(h["limits"], ratios):
        b.set_width(min(r, 2.0))
        b.set_facecolor("C2" if r <= 1 else "C3")
        b.set_hatch("" if r <= 1 else "xx")          # over the limit: hatched as well as red
    return p.summary()


def codesign_explorer(brief=None, device="H100", n_devices=4096, tensor_parallel=8, pipeline_parallel=4,
                      interval_min=0.0, cap_fraction=1.0, start_hour=0):
    """The chapter's dashboard: device, count, layout, checkpoint interval (minutes; 0 = optimal), power cap
    (fraction of TDP) and start hour for the design ``brief`` (default :data:`BRIEF`); left, one step's
    breakdown; right, wall clock, peak power and carbon as shares of the brief's limits."""
    from .core.explore import dropdown, explorer, int_slider, slider
    brief = dict(BRIEF if brief is None else instance("brief", brief, dict, "a dict like codesign.BRIEF"))
    devices = list(NODE_LINKS)
    dev = _device(device)
    choice("tensor_parallel", tensor_parallel, _EXPLORER_TP)
    choice("pipeline_parallel", pipeline_parallel, _EXPLORER_PP)
    update = (lambda h, **kw: _update_codesign(h, brief, **kw))
    return explorer(_build_codesign, update, title="Co-design: one step, and the brief's limits", figsize=(9, 3.6),
                    device=dropdown(dev.short_name, devices, "GPU"),
                    n_devices=slider(number("n_devices", n_devices, "devices", minimum=8, maximum=32768), 8, 32768,
                                     None, "GPUs", log=True),
                    tensor_parallel=dropdown(tensor_parallel, list(_EXPLORER_TP), "tensor parallel"),
                    pipeline_parallel=dropdown(pipeline_parallel, list(_EXPLORER_PP), "pipeline parallel"),
                    interval_min=slider(number("interval_min", interval_min, "minutes", minimum=0, maximum=600),
                                        0, 600, 5, "checkpoint every (min, 0 = optimal)"),
                    cap_fraction=slider(number("cap_fraction", cap_fraction, "fraction of TDP", minimum=0.4,
                                               maximum=1.0), 0.4, 1.0, 0.05, "power cap (× TDP)"),
                    start_hour=int_slider(integer("start_hour", start_hour, minimum=0, maximum=23), 0, 23, 1,
                                          "start hour"))


def _brief():
    """The chapter's design brief: a compute-optimal model for 1e24 FLOP (Chinchilla's 20 tokens per
    parameter, chapter 02) within 14 days, a 4 MW facility, a pod of 8,192 GPUs and 150 t CO2e."""
    from .scaling import compute_optimal
    n_params, n_tokens = compute_optimal(1e24)
    return dict(model=float(n_params), n_tokens=float(n_tokens), deadline_s=14 * u.DAY, power_budget_w=4e6,
                carbon_cap_kg=150_000.0, max_devices=8192)


BRIEF = _brief()


def plot_validation(checks=None, ax=None):
    """Each published quantity as labkit's estimate ÷ the published figure (1 = exact), with its test band."""
    from .core.plotting import new_axes
    checks = validation() if checks is None else list(sequence("checks", checks, maximum=100))
    for c in checks:
        instance("checks", c, Check, "Check rows from validation()")
    fig, ax = new_axes(ax, figsize=(7.5, 0.32 * len(checks) + 1.0))
    y = np.arange(len(checks))[::-1]
    ax.hlines(y, [c.low / c.published for c in checks], [c.high / c.published for c in checks], color="0.8", lw=6,
              label="test band")
    ax.plot([c.ratio for c in checks], y, "o", color="C0", label="labkit ÷ published")
    ax.axvline(1.0, color="k", lw=1, ls="--")
    ax.set_yticks(y, [f"{c.run}: {c.quantity}" for c in checks], fontsize=7)
    ax.set_xlabel("labkit's estimate ÷ the published figure")
    ax.legend(fontsize=7, frameon=False, loc="lower right")
    return fig
