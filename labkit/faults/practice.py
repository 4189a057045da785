"""What practitioners plan for: checkpoint bytes and tiers, restart parts and collective timeouts,
silent data corruption, hot spares, elastic training, and Google's goodput split."""

from dataclasses import dataclass

import numpy as np

from .. import units as u
from ..core.validate import finite_result, fraction, integer, nonnegative, number, positive, scalar_or_array
from ._common import LLAMA3_DAYS, LLAMA3_GPUS
from .mtbf import llama3_interruptions, observed_mtbf

# ---------------------------------------------------------------------------------------------
# What practitioners plan for: checkpoint bytes, detection, silent corruption, spares, elastic
# training, and goodput split the way Google reports it
# ---------------------------------------------------------------------------------------------
# Llama 3's checkpoint storage (Dubey et al. 2024, arXiv:2407.21783, Sec. 3.3.1 "Storage"): Tectonic,
# 240 PB on 7,500 SSD servers, "a sustainable throughput of 2 TB/s and a peak throughput of 7 TB/s";
# each checkpoint saves every GPU's model state, "ranging from 1 MB to 4 GB per GPU".
LLAMA3_STORAGE_SUSTAINED_BYTES_PER_S = 2e12
LLAMA3_STORAGE_PEAK_BYTES_PER_S = 7e12
LLAMA3_CHECKPOINT_BYTES_PER_GPU = (1e6, 4e9)
# PyTorch's default collective timeout for NCCL process groups: 10 minutes since 2023
# (pytorch/pytorch PR #110947, "Change ProcessGroupNCCL default timeout to 10 min"; 30 min before,
# still the default of the other backends). A hung collective is noticed only when it expires.
NCCL_DEFAULT_TIMEOUT = 10 * u.MINUTE


def checkpoint_nbytes(n_params, weight_bytes=2, optimizer_bytes=12):
    """Bytes of one full training checkpoint: ``n_params × (weight_bytes + optimizer_bytes)``.

    Default: mixed-precision Adam, BF16 weights (2 bytes) and FP32 master weights, momentum and
    variance (12 bytes; Rajbhandari et al. 2020), 14 bytes per parameter: chapter 02's training
    state (:func:`labkit.scaling.training_memory`) without the gradients, which are not saved.
    Ignores the data loader's and RNG state (kilobytes to megabytes).
    """
    n = positive("n_params", n_params, "parameters", array=True)
    w = nonnegative("weight_bytes", weight_bytes, "bytes per parameter")
    o = nonnegative("optimizer_bytes", optimizer_bytes, "bytes per parameter")
    if w + o == 0:
        raise ValueError("weight_bytes + optimizer_bytes must be positive: a checkpoint saves something")
    with np.errstate(over="ignore"):
        return scalar_or_array(finite_result(n * (w + o), "checkpoint_nbytes n_params × (weight_bytes + "
                                                          "optimizer_bytes)"))


def checkpoint_write_time(nbytes, bandwidth_bytes_per_s, n_devices=1):
    """Seconds to write a checkpoint of ``nbytes`` bytes: ``nbytes / n_devices / bandwidth``.

    Two readings of the same division: a shared store (``n_devices=1``, the store's aggregate
    bandwidth, e.g. Llama 3's 2 TB/s), or every device writing its shard in parallel over its own
    link (``n_devices`` shards, ``bandwidth_bytes_per_s`` per device: PCIe to host memory, a NIC to a
    peer's memory). The checkpoint's δ is the time of the slowest tier the save waits for. Assumes
    the bandwidth is sustained for the whole write (no per-file latency, no contention beyond it).
    """
    b = positive("nbytes", nbytes, "bytes", array=True)
    bw = positive("bandwidth_bytes_per_s", bandwidth_bytes_per_s, "bytes/s", array=True)
    n = number("n_devices", n_devices, "devices", array=True, minimum=1)
    with np.errstate(over="ignore", under="ignore"):
        return scalar_or_array(finite_result(b / n / bw, "checkpoint_write_time nbytes / n_devices / "
                                                         "bandwidth_bytes_per_s"))


def llama3_checkpoint(n_params=405e9, bandwidth_bytes_per_s=LLAMA3_STORAGE_SUSTAINED_BYTES_PER_S):
    """(checkpoint bytes, bytes per GPU, write time in s) for Llama 3 405B's 16,384 GPUs writing to
    a store of ``bandwidth_bytes_per_s`` (default: Tectonic's sustained 2 TB/s). Even shards assumed;
    the paper's 1 MB–4 GB per GPU says real shards are not even."""
    total = checkpoint_nbytes(n_params)
    return total, total / LLAMA3_GPUS, checkpoint_write_time(total, bandwidth_bytes_per_s)


def checkpoint_tiers(n_params=405e9, n_devices=LLAMA3_GPUS, largest_shard_nbytes=None):
    """Where a checkpoint of an ``n_params`` model sharded over ``n_devices`` GPUs can be written,
    and how long each takes (s), from cited bandwidths: Llama 3's shared store (2 TB/s sustained,
    7 TB/s peak; Dubey et al. 2024) and, per GPU in parallel, a peer's memory over one InfiniBand NDR
    port and the GPU's own host memory over PCIe 5.0 x16 (datasets/interconnects.csv).

    A save ends when the slowest GPU is done: the largest shard (``largest_shard_nbytes``; None: the
    paper's 4 GB; 0: even shards, :func:`checkpoint_nbytes` / n_devices) over that GPU's bandwidth,
    which on the shared store is its 1/n_devices share. The first row is the store with
    even shards, for comparison. Host memory is CheckFreq's snapshot (Mohan et al. FAST 2021:
    overhead within 3.5 %, recovery in seconds); a peer's memory is Gemini's in-memory checkpoint
    (Wang et al. SOSP 2023: recovery more than 13× faster). Returns a list of dicts: tier,
    bandwidth_bytes_per_s (per GPU), shard_nbytes, seconds."""
    from ..data import load
    n = number("n_devices", n_devices, "devices", minimum=1)
    even = checkpoint_nbytes(positive("n_params", n_params, "parameters")) / n
    largest = LLAMA3_CHECKPOINT_BYTES_PER_GPU[1] if largest_shard_nbytes is None else \
        nonnegative("largest_shard_nbytes", largest_shard_nbytes, "bytes")
    shard = max(even, largest)
    links = load("interconnects")
    pcie = float(links.where(name="PCIe 5.0 x16")["bandwidth_bytes_per_s"][0])
    ndr = float(links.where(name="InfiniBand NDR")["bandwidth_bytes_per_s"][0])
    rows = [("store 2 TB/s, even shards", LLAMA3_STORAGE_SUSTAINED_BYTES_PER_S / n, even),
            ("store 2 TB/s (sustained)", LLAMA3_STORAGE_SUSTAINED_BYTES_PER_S / n, shard),
            ("store 7 TB/s (peak)", LLAMA3_STORAGE_PEAK_BYTES_PER_S / n, shard),
            ("peer CPU memory (IB NDR)", ndr, shard),
            ("own host memory (PCIe 5.0)", pcie, shard)]
    return [{"tier": name, "bandwidth_bytes_per_s": bw, "shard_nbytes": b,
             "seconds": float(checkpoint_write_time(b, bw))} for name, bw, b in rows]


def restart_time_for(detection_time, reschedule_time, nbytes, bandwidth_bytes_per_s, n_devices=1):
    """A restart's R (s) as three parts: notice the failure (``detection_time``), get healthy
    machines and start the processes (``reschedule_time``), read the checkpoint back
    (:func:`checkpoint_write_time` of ``nbytes`` at the read bandwidth). A crashed process is seen in
    seconds; a hung collective only when its timeout expires (:data:`NCCL_DEFAULT_TIMEOUT`)."""
    d = nonnegative("detection_time", detection_time, "s", array=True)
    s = nonnegative("reschedule_time", reschedule_time, "s", array=True)
    read = checkpoint_write_time(nbytes, bandwidth_bytes_per_s, n_devices)
    return scalar_or_array(finite_result(d + s + read, "restart_time_for (detection + reschedule + read)"))


# --- silent data corruption -------------------------------------------------------------------
def llama3_sdc_mtbf():
    """Mean time (s) between silent data corruptions in the Llama 3 run: 54 days / the 6 that
    interrupted it (Table 5's "Silent Data Corruption" row, read from the dataset)."""
    t = llama3_interruptions()
    return observed_mtbf(LLAMA3_DAYS * u.DAY, float(t.where(component="Silent Data Corruption")["interruptions"][0]))


def sdc_rollback(interval, detection_time):
    """Expected compute (s) an SDC costs: the job rolls back to the last checkpoint saved BEFORE the
    corruption, so it loses the part of the interval done before it (τ/2 on average) plus everything
    computed until it is noticed (``detection_time``, s of compute); checkpoints saved meanwhile
    hold corrupt state and are useless. A fail-stop failure costs τ/2; an SDC τ/2 + D.
    Assumes the corruption strikes at a uniformly random moment of computing."""
    tau = positive("interval", interval, "s", array=True)
    d = nonnegative("detection_time", detection_time, "s", array=True)
    return scalar_or_array(finite_result(tau / 2.0 + d, "sdc_rollback interval / 2 + detection_time"))


def checkpoints_to_keep(interval, detection_time):
    """How many checkpoints to retain so that one from before an SDC still exists when it is
    noticed ``detection_time`` seconds of compute later: ``ceil(D / τ) + 1``. Saves come every
    ``interval`` τ (s of compute); up to ceil(D/τ) of them land between the corruption and its
    detection and hold corrupt state, and the newest clean one must survive them (with D = 0, a
    fail-stop failure, the latest checkpoint is enough). Broadcasts."""
    tau = positive("interval", interval, "s", array=True)
    d = nonnegative("detection_time", detection_time, "s", array=True)
    with np.errstate(over="ignore"):
        ratio = finite_result(d / tau, "checkpoints_to_keep detection_time / interval")
    if np.any(ratio > 1e12):
        raise ValueError("detection_time / interval must be below 10¹² checkpoints to keep")
    keep = np.ceil(ratio) + 1
    return int(keep) if np.ndim(keep) == 0 else keep.astype(int)


def sdc_waste(interval, detection_time, restart_time, sdc_mtbf):
    """First-order fraction of time SDCs waste: ``(τ/2 + D + R) / M_sdc`` — each corruption, one per
    ``sdc_mtbf`` seconds, costs :func:`sdc_rollback` plus a restart. Add it to the fail-stop waste
    while both are small (it is the same first-order reasoning as :func:`first_order_waste`)."""
    lost = sdc_rollback(interval, detection_time)
    r = nonnegative("restart_time", restart_time, "s", array=True)
    m = positive("sdc_mtbf", sdc_mtbf, "s", array=True)
    with np.errstate(over="ignore"):
        return scalar_or_array(np.clip(finite_result((lost + r) / m, "sdc_waste"), 0.0, 1.0))


# --- hot spares ------------------------------------------------------------------------------
def spare_shortfall(n_spares, mtbf, repair_time):
    """Fraction of failures that find every hot spare still in repair (0..1): Erlang's loss formula.

    Failures arrive at random at rate 1/``mtbf`` (s, the job's); each takes a spare out of the pool
    for ``repair_time`` seconds (any distribution); a failure that finds the pool empty takes none
    and pays the slow restart. The pool is then an Erlang loss system with ``n_spares`` servers and
    offered load a = repair_time / mtbf, and the share turned away is Erlang B(n, a) (A. K. Erlang
    1917), computed by the stable recursion B(k) = a·B(k−1) / (k + a·B(k−1)). Broadcasts over mtbf
    and repair_time; ``n_spares`` is one count (0 to 100,000). The twin of :func:`simulate_training`'s
    ``hot_spares`` (``.spare_misses / .failures``).
    """
    s = integer("n_spares", n_spares, minimum=0, maximum=100_000)
    m = positive("mtbf", mtbf, "s", array=True)
    r = nonnegative("repair_time", repair_time, "s", array=True)
    with np.errstate(over="ignore", invalid="ignore"):
        a = np.asarray(finite_result(r / m, "the offered load repair_time / mtbf"), dtype=float)
    b = np.ones_like(a)
    for k in range(1, s + 1):
        b = a * b / (k + a * b)
    return scalar_or_array(np.clip(np.nan_to_num(b, nan=1.0), 0.0, 1.0))


def spares_needed(mtbf, repair_time, target=0.01):
    """Fewest hot spares (a count) for which at most a fraction ``target`` of failures finds the
    pool empty (:func:`spare_shortfall`); mtbf and repair_time in s. About the failures in repair at
    once (repair_time / mtbf, Little's law) plus a margin for bursts."""
    m = positive("mtbf", mtbf, "s")
    r = nonnegative("repair_time", repair_time, "s")
    g = fraction("target", target, allow_zero=False, allow_one=False)
    a = r / m
    if a > 50_000:
        raise ValueError(f"repair_time / mtbf = {a:.3g} failures in repair at once: too many spares to count "
                         "(at most 50,000 on average)")
    b, k = 1.0, 0
    while b > g:
        k += 1
        b = a * b / (k + a * b)
    return k


# --- elastic training --------------------------------------------------------------------------
def elastic_goodput(data_parallel, replica_mtbf, repair_time, reconfigure_time, rejoin_time=None):
    """Expected goodput (0..1) of elastic data-parallel training: a failed replica drops out, the
    others go on, and it rejoins once repaired.

    Each of the ``data_parallel`` replicas alternates up (mean ``replica_mtbf`` s) and in repair
    (mean ``repair_time`` s), independently, so it is up a fraction A = M / (M + r) of the time and
    the job does A of the full work on average (with the global batch kept by more accumulation, or,
    as torchft does, a batch that shrinks with the replicas). Each failure pauses every replica for
    ``reconfigure_time`` s (rebuilding communicators; in torchft the step in flight is discarded, so
    one step), each rejoin for ``rejoin_time`` s (None: the same; 0 when the rejoining replica copies
    the weights from a healthy peer in the background, as torchft does); there are N / (M + r) of each
    per second. Goodput = A·(1 − pauses), first order: valid while failures are rarer than the pauses
    are long (pauses ≪ 1; it is exact when failures come at regular intervals, and returns 0 once the
    pauses fill the run). Assumes a replica is a unit that fails as one (a node, or a tensor/pipeline
    group) and that the job never drops below one replica. Validated against torchft's published run
    (:func:`elastic_training_claims`).
    """
    n = integer("data_parallel", data_parallel, minimum=1)
    m = positive("replica_mtbf", replica_mtbf, "s")
    r = nonnegative("repair_time", repair_time, "s")
    c = nonnegative("reconfigure_time", reconfigure_time, "s")
    j = c if rejoin_time is None else nonnegative("rejoin_time", rejoin_time, "s")
    up = m / (m + r)
    pauses = min(1.0, n * (c + j) / (m + r))
    return float(np.clip(up * (1.0 - pauses), 0.0, 1.0))


def elastic_training_claims():
    """torchft's published elastic runs next to :func:`elastic_goodput` (datasets/elastic_training_runs.csv).

    torchft (PyTorch blog, Rice and Huang, June 2025) trained on 30 replica groups of 10 L40S GPUs and
    killed one group every 60 s (run 1) or every 15 s on average (run 2); the others went on, a killed
    group rejoined by copying weights from a healthy peer, and a failure discarded the step in flight.
    Model inputs, all published: the groups, the failure interval T, the step time (the pause a failure
    costs) and the groups participating on average, p: the injector hits each running group every p·T
    seconds (replica MTBF), and Little's law gives the time a killed group stays away, (N − p)·T. Rows
    (dicts): run, failures_per_step (step time / T), in_range (below 0.5: the first-order model
    applies), step_efficiency and training_efficiency, published and model_* (None out of range; the
    model's step efficiency is its goodput over the share of groups up). Run 2's printed training efficiency also charges its
    slower steps (15.46 s against 10.9 s); the row's published value keeps the paper's number and its
    note says so.
    """
    from ..data import load
    out = []
    for row in load("elastic_training_runs").rows():
        n, t, p, step = int(row["data_parallel"]), row["failure_interval_s"], row["participating_replicas"], row["step_time_s"]
        goodput = elastic_goodput(n, p * t, (n - p) * t, step, rejoin_time=0.0)
        in_range = step / t < 0.5          # first order: fewer than one failure every two steps
        out.append({"run": int(row["run"]), "data_parallel": n, "failure_interval_s": t, "step_time_s": step, "participating": p,
                    "failures_per_step": step / t, "in_range": in_range,
                    "step_efficiency": row["step_efficiency"],
                    "model_step_efficiency": goodput / (p / n) if in_range else None,
                    "training_efficiency": row["training_efficiency"],
                    "model_training_efficiency": goodput if in_range else None, "note": row["note"]})
    return out


# --- asynchronous and in-memory checkpoints: CheckFreq and GEMINI ------------------------------------
def checkpoint_every_steps(step_time, checkpoint_stall, checkpoint_time, max_overhead=0.035):
    """Fewest training steps between checkpoints under CheckFreq's two limits (Mohan et al., FAST 2021).

    A save is split in two: a snapshot to host memory that training waits for (``checkpoint_stall``,
    s) and the write to storage that runs in the background (``checkpoint_time``, s). Saving every k
    steps of ``step_time`` seconds costs a share stall / (k · step_time) of the compute, which must stay
    within ``max_overhead`` (CheckFreq's default bound is 5 %; its paper reports 3.5 % or less); and one
    background write must end before the next save starts: k · step_time ≥ checkpoint_time. Returns
    the larger of the two limits (at least 1 step). Assumes a steady step time and no other load on
    the host's PCIe link or the storage.
    """
    t = positive("step_time", step_time, "s")
    stall = nonnegative("checkpoint_stall", checkpoint_stall, "s")
    delta = nonnegative("checkpoint_time", checkpoint_time, "s")
    share = fraction("max_overhead", max_overhead, allow_zero=False)
    steps = max(1.0, stall / (share * t), delta / t)
    if steps > 1e12:
        raise ValueError(f"a checkpoint every {steps:.3g} steps: checkpoint_stall / (max_overhead × step_time) "
                         "and checkpoint_time / step_time must be below 10¹² steps")
    return int(np.ceil(steps * (1 - 1e-12)))


def recovery_wasted_time(checkpoint_time, interval, retrieval_time):
    """Expected time (s) one failure wastes when checkpoints are written while training goes on:
    ``checkpoint_time + interval / 2 + retrieval_time`` (GEMINI's model, Wang et al. SOSP 2023, Sec. 2.2).

    A save takes ``checkpoint_time`` and starts every ``interval`` seconds (1/f in the paper; it cannot
    be shorter than the save); a failure strikes at a uniformly random moment, and the checkpoint being
    written protects nothing yet, so the work since the start of the last completed save is lost:
    δ + τ/2 on average. Reading that checkpoint back takes ``retrieval_time``. Detection and
    rescheduling are left out, as in the paper. Broadcasts.
    """
    d = nonnegative("checkpoint_time", checkpoint_time, "s", array=True)
    tau = positive("interval", interval, "s", array=True)
    r = nonnegative("retrieval_time", retrieval_time, "s", array=True)
    if np.any(tau < d * (1 - 1e-12)):
        raise ValueError("interval must be at least checkpoint_time: a save starts only when the last one is done")
    with np.errstate(over="ignore"):
        return scalar_or_array(finite_result(d + tau / 2.0 + r, "recovery_wasted_time checkpoint_time + "
                                                                "interval / 2 + retrieval_time"))


def in_memory_recovery_speedup(frequency_gain, retrieval_speedup):
    """How many times less time each failure wastes (:func:`recovery_wasted_time`) once checkpoints go
    to CPU memory instead of remote storage, from GEMINI's two ratios (Wang et al. SOSP 2023).

    Remote storage: saves back to back (interval = checkpoint time = T, as often as its bandwidth
    allows) and read back at the same bandwidth: T + T/2 + T = 2.5 T. CPU memory: ``frequency_gain``
    times as many saves, each as long as its interval (T/g + T/(2g)), and a read ``retrieval_speedup``
    times faster (T/r). Speedup = 2.5 / (1.5/g + 1/r). Broadcasts.
    """
    g = number("frequency_gain", frequency_gain, "ratio", array=True, minimum=1)
    r = number("retrieval_speedup", retrieval_speedup, "ratio", array=True, minimum=1)
    return scalar_or_array(2.5 / (1.5 / g + 1.0 / r))


def llama3_step_time():
    """Seconds per Llama 3 405B training step on 16,384 H100s, from cited rows: the model FLOPs of one
    batch (models.csv's parameters; training_configs.csv's 2,048 × 8,192 tokens, 126 layers, model
    dimension 16,384, attention counted) over 16,384 GPUs at the published 400 TFLOP/s each
    (training_mfu.csv, the paper's Table 4). About 6.8 s."""
    from ..core.published import published_run
    from ..data import load
    from ..scaling import training_flops
    cfg = load("training_configs").where(model="Llama 3.1 405B").rows()[0]
    mfu = load("training_mfu").where(system="Llama 3 405B (16K GPUs)").rows()[0]
    tokens = cfg["global_batch_size"] * cfg["seq_len"]
    work = training_flops(published_run("Llama 3.1 405B").n_params, tokens, n_layers=cfg["n_layers"],
                          d_model=cfg["d_model"], seq_len=cfg["seq_len"])
    return float(work / (cfg["n_devices"] * mfu["achieved_flops_per_s_per_device"]))


def checkpointing_claims():
    """CheckFreq's and GEMINI's published figures next to what labkit's models give for them.

    Rows (dicts: system, claim, unit, published (SI; None where the paper gives no number), model, bound,
    basis (the sentence as printed), and published_text / model_text for people). GEMINI: MT-NLG's checkpoint to 20 Gb/s
    storage (530 B parameters × 12 bytes of FP32 weights and Adam moments ÷ 2.5 GB/s), and the
    recovery speedup :func:`in_memory_recovery_speedup` gives from the paper's 8× and 250×. CheckFreq,
    at Llama 3 scale: the stall of snapshotting the largest shard (4 GB) to host memory over PCIe 5.0
    every step, as a share of :func:`llama3_step_time`, against the paper's 3.5 % bound; and
    :func:`checkpoint_every_steps` with the store's 32.8 s write in the background. The published
    values come from datasets/checkpointing_claims.csv, each with its source.
    """
    from ..data import load
    claims = {(r["system"], r["quantity"]): r for r in load("checkpointing_claims").rows()}
    pub = {k: v["value_si"] for k, v in claims.items()}
    gem_bytes = checkpoint_nbytes(pub["MT-NLG", "n_params"], weight_bytes=4, optimizer_bytes=8)
    gem_seconds = float(checkpoint_write_time(gem_bytes, pub["GEMINI", "remote_storage_bandwidth"]))
    speedup = float(in_memory_recovery_speedup(pub["GEMINI", "frequency_gain"], pub["GEMINI", "retrieval_speedup"]))
    tiers = {r["tier"]: r["seconds"] for r in checkpoint_tiers()}
    step = llama3_step_time()
    stall, persist = tiers["own host memory (PCIe 5.0)"], tiers["store 2 TB/s (sustained)"]
    limit = pub["CheckFreq", "runtime_overhead"]
    rows = [
        ("GEMINI", "remote_checkpoint_time", "MT-NLG checkpoint to 20 Gb/s remote storage", "s", gem_seconds),
        ("GEMINI", "recovery_speedup", "faster recovery, from 8× more saves and 250× faster reads", "×", speedup),
        ("CheckFreq", "runtime_overhead", "Llama 3: 4 GB snapshot to host memory every step (share of a step)",
         "fraction", stall / step),
        ("CheckFreq", None, "Llama 3: steps between saves, 2 TB/s store written in the background", "steps",
         float(checkpoint_every_steps(step, stall, persist, limit)))]
    out = []
    for system, quantity, claim, unit, model in rows:
        c = claims.get((system, quantity))
        out.append({"system": system, "claim": claim, "unit": unit, "model": model,
                    "published": None if c is None else c["value_si"],
                    "bound": "every few iterations" if c is None else c["bound"],
                    "basis": "the paper's title: frequent, fine-grained checkpoints" if c is None else c["as_printed"],
                    "published_text": "a few (no number)" if c is None else
                    f"{_BOUND_WORDS[c['bound']]} {_fmt_claim(c['value_si'], unit)}",
                    "model_text": _fmt_claim(model, unit)})
    return out


_BOUND_WORDS = {"about": "≈", "up_to": "up to", "more_than": ">", "within": "≤"}


def _fmt_claim(value, unit):
    """A claim's value for people: s as a duration, a fraction in %, a ratio with ×, steps as a count."""
    return {"s": u.fmt_seconds, "fraction": lambda v: f"{v:.1%}", "×": lambda v: f"{v:.3g}×",
            "steps": lambda v: f"{v:.0f}"}[unit](value)


# --- goodput split --------------------------------------------------------------------------------
@dataclass
class GoodputSplit:
    """ML Productivity Goodput as Google reports it (Singh and Herrington, Google Cloud blog, "Introducing
    ML Productivity Goodput", April 2024): the product of three fractions.

    scheduling: share of the time all the resources the job needs are available to it; runtime:
    share of that time spent on training progress that is kept (checkpoints, restarts and lost
    work are its badput; :func:`expected_goodput`); program: share of the hardware's peak the
    training code extracts (its MFU; chapter 04).
    """
    scheduling: float
    runtime: float
    program: float

    @property
    def total(self):
        """scheduling × runtime × program."""
        return self.scheduling * self.runtime * self.program

    def as_dict(self):
        return {"scheduling": self.scheduling, "runtime": self.runtime, "program": self.program,
                "total": self.total}

    def __str__(self):
        return (f"goodput {self.total:.1%} = scheduling {self.scheduling:.1%} × runtime {self.runtime:.1%} "
                f"× program {self.program:.1%}")


def goodput_split(scheduling, runtime, program):
    """A :class:`GoodputSplit` from its three fractions (0..1; see there); ``.total`` is their product."""
    return GoodputSplit(fraction("scheduling", scheduling), fraction("runtime", runtime),
                        fraction("program", program))


