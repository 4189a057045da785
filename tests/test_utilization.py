"""Tests for labkit.utilization (chapter 04): published figures, analytic twins, bad inputs, budgets.

Every validation states its source and tolerance next to the assertion.
"""

import math

import numpy as np
import pytest

from labkit import scaling as sc
from labkit import utilization as ut
from labkit.core.devices import datasheet
from labkit.core.roofline import decode_step_time
from labkit.core.timeline import BUSY_IDLE, Timeline
from labkit.data import load

H100 = datasheet("H100")

# Examples for the fuzz test (tests/test_fuzz.py) of parameters the vocabulary does not list.
FUZZ_EXAMPLES = {
    "service_cv": 1.0,
    "n_servers": 2,
    "title": "GPU timeline",
    "plot_gpu_timeline.result": lambda: ut.simulate_input_pipeline(2, 0.2, 0.05, n_steps=50),
    "plot_straggler_scaling.n_max": 64,
    "plot_straggler_scaling.n_steps": 20,
    "serving_sweep.max_batches": [1, 8],
    "plot_serving_tradeoff.sweep": lambda: ut.serving_sweep(5.0, [1, 4], n_requests=100),
    "plot_serving_snapshot.results": lambda: [ut.simulate_serving(5.0, policy=p, n_requests=100)
                                              for p in ("static", "continuous")],
    "simulate_scheduler.jobs": lambda: ut.make_job_trace(50, n_devices=16, seed=0),
    "plot_scheduler.results": lambda: [ut.simulate_scheduler(ut.make_job_trace(30, n_devices=16), 16)],
    "d_ff": 53248,
    "bytes_per_value": 2,
    "passes": 3.0,
    "row": "16K GPUs, 8K tokens",
    "waterfall": lambda: ut.mfu_waterfall(),
    "achieved_step_time.n_params": 70e9,
    "achieved_step_time.n_layers": 80,
    "achieved_step_time.d_model": 8192,
    "achieved_step_time.seq_len": 4096,
    "achieved_step_time.global_batch_size": 512,
    "achieved_step_time.data_parallel": 8,
    "achieved_step_time.tensor_parallel": 8,
    "achieved_step_time.pipeline_parallel": 4,
    "price_per_machine_hour": 24.48,
    "base_time_to_result": 104400.0,
    "time_to_result": 3600.0,
    "n_machines": 32,
    "base_machines": 1,
    "published_tradeoff.base_run": "goyal-8",
    "published_tradeoff.run": "goyal-256",
}


def _step(batch_size, **kw):
    """The H100 roofline's decode step time (s) of a 7B model."""
    return decode_step_time(batch_size, 7e9, H100.peak_flops_per_s, H100.bandwidth_bytes_per_s, **kw)


# =============================================================================================
# MFU and HFU against published figures
# =============================================================================================
def test_palm_mfu_from_published_throughput():
    # Chowdhery et al. 2022 (PaLM), §4 and App. B: 238.3K tokens/s on 6144 TPU v4 (275 TFLOP/s bf16,
    # Google Cloud TPU v4 docs), 540.35B parameters → MFU 45.7 % without attention, 46.2 % with.
    # Tolerance ±0.1 percentage point (the paper rounds to 0.1 %).
    assert ut.mfu(238.3e3, 6 * 540.35e9, 6144, 275e12) == pytest.approx(0.457, abs=0.001)
    with_attention = ut.model_flops_per_token(540.35e9, n_layers=118, attention_width=48 * 256, seq_len=2048)
    assert ut.mfu(238.3e3, with_attention, 6144, 275e12) == pytest.approx(0.462, abs=0.001)


def test_mt_nlg_mfu_from_published_throughput():
    # PaLM paper §4: Megatron-Turing NLG 530B, 65.43K tokens/s on 2240 A100 (312 TFLOP/s) → 29.7 % without
    # attention. Tolerance ±0.1 percentage point.
    assert ut.mfu(65.43e3, 6 * 530e9, 2240, 312e12) == pytest.approx(0.297, abs=0.001)


def test_megatron_1t_is_an_hfu_of_52_percent():
    # Narayanan et al. 2021 (SC'21), §5.1: 1T parameters (1.008e12), 450B tokens, 3072 A100 at 163 TFLOP/s
    # per GPU → 84 days; 163/312 = 52 % of peak, counting 8 FLOP per parameter per token (full recomputation).
    # We derive tokens/s from the 84 days and get the 52 % back as an HFU. Tolerance ±1 percentage point
    # (84 days is rounded to a whole day).
    tokens_per_s = 450e9 / (84 * 86400)
    h = ut.hfu(tokens_per_s, 6 * 1.008e12, 3072, 312e12, recompute=1.0)
    assert h == pytest.approx(0.52, abs=0.01)
    assert ut.mfu(tokens_per_s, 6 * 1.008e12, 3072, 312e12) == pytest.approx(0.75 * h, rel=1e-12)
    # the abstract's 502 PFLOP/s on 3072 GPUs, at 8 FLOP per parameter per token, is the same HFU
    assert ut.hfu(502e15 / (8 * 1.008e12), 6 * 1.008e12, 3072, 312e12) == pytest.approx(0.52, abs=0.005)


def test_llama3_table4_mfu_from_per_gpu_throughput():
    # Dubey et al. 2024 (Llama 3), Table 4: 430 / 400 / 380 TFLOP/s per H100 → 43 / 41 / 38 % BF16 MFU,
    # against the 989 TFLOP/s dense BF16 peak (NVIDIA H100 SXM datasheet). Tolerance ±1.1 percentage points
    # (the table prints whole TFLOP/s and whole percents; 400/989 = 40.4 % is printed as 41 %).
    n = 4.05e11
    for achieved, published in ((430e12, 0.43), (400e12, 0.41), (380e12, 0.38)):
        tokens_per_s_per_gpu = achieved / (6 * n)
        assert ut.mfu(tokens_per_s_per_gpu, 6 * n, 1, H100.peak_flops_per_s) == pytest.approx(published, abs=0.011)


def test_dataset_rows_reproduce_their_published_mfu():
    # datasets/training_mfu.csv: where a row has throughput, 6·N gives the published MFU to within
    # 0.6 percentage points (the attention FLOPs the papers add); where it has per-device FLOP/s, the
    # published MFU (or HFU) is that over the peak within 1.1 points — except GPT-3, whose 21.3 % the PaLM
    # paper derives from 24.6 TFLOP/s per V100 (19.7 % of 125 TFLOP/s) by an unstated peak: 2 points.
    t = load("training_mfu")
    assert len(t) >= 8 and all(t["source"])
    checked = 0
    for row in t.rows():
        if np.isfinite(row["tokens_per_s"]):
            got = ut.mfu(row["tokens_per_s"], 6 * row["n_params"], int(row["n_devices"]), row["peak_flops_per_s"])
            assert got == pytest.approx(row["reported_mfu"], abs=0.006), row["system"]
            checked += 1
        if np.isfinite(row["achieved_flops_per_s_per_device"]) and np.isfinite(row["peak_flops_per_s"]):
            reported = row["reported_mfu"] if np.isfinite(row["reported_mfu"]) else row["reported_hfu"]
            tolerance = 0.02 if row["system"].startswith("GPT-3") else 0.011
            assert row["achieved_flops_per_s_per_device"] / row["peak_flops_per_s"] == \
                pytest.approx(reported, abs=tolerance), row["system"]
            checked += 1
    assert checked >= 7


def test_hfu_counts_recomputation():
    args = (1e5, 6e12, 1024, 989e12)
    m = ut.mfu(*args)
    assert ut.hfu(*args, recompute=0.0) == pytest.approx(m)
    assert ut.hfu(*args, recompute=1.0) == pytest.approx(m * 4 / 3)
    # PaLM's HFU 57.8 % vs MFU 46.2 % (Chowdhery et al. 2022, Table 3): recomputing r = 3·(57.8/46.2 − 1)
    # ≈ 3/4 of the forward pass turns the one into the other
    r = 3 * (0.578 / 0.462 - 1)
    assert 0 < r < 1
    assert ut.hfu(*args, recompute=r) == pytest.approx(m * 0.578 / 0.462, rel=1e-12)
    with_attention = ut.model_flops_per_token(540.35e9, n_layers=118, attention_width=48 * 256, seq_len=2048)
    assert ut.hfu(238.3e3, with_attention, 6144, 275e12, recompute=r) == pytest.approx(0.578, abs=0.001)


def test_mfu_vectorized():
    out = ut.mfu(np.array([1e5, 2e5]), 6e12, np.array([1024, 2048]), 989e12)
    assert out.shape == (2,) and out[0] == pytest.approx(out[1])


@pytest.mark.parametrize("args, error", [
    ((-1.0, 6e9, 8, 1e15), ValueError),                  # negative throughput
    ((1e3, 0.0, 8, 1e15), ValueError),                   # zero FLOPs per token
    ((1e3, 6e9, 0, 1e15), ValueError),                   # n < 1
    ((1e3, 6e9, 1.5, 1e15), TypeError),                  # fractional device count
    ((1e3, 6e9, 8, 0.0), ValueError),                    # zero peak
    ((float("nan"), 6e9, 8, 1e15), ValueError),          # NaN
    (("fast", 6e9, 8, 1e15), TypeError),
    ((1e6, 6e12, 8, 989.0), ValueError),                 # peak in TFLOP/s → more than 100 % of peak
])
def test_mfu_bad_inputs(args, error):
    with pytest.raises(error):
        ut.mfu(*args)


def test_hfu_bad_recompute():
    with pytest.raises(ValueError, match="fraction"):
        ut.hfu(1e3, 6e9, 8, 1e15, recompute=1.5)


def test_published_mfu_plot_draws_every_row():
    t = load("training_mfu")
    fig = ut.plot_published_mfu()
    ax = fig.axes[0]
    labels = [tick.get_text() for tick in ax.get_yticklabels()]
    assert len(labels) == len(t) and all(any(s in lab for lab in labels) for s in t["system"])
    # one value label per row, each the published MFU (or HFU where only that is reported)
    shown = {txt.get_text() for txt in ax.texts}
    for m, h in zip(t["reported_mfu"], t["reported_hfu"]):
        assert f"{(m if np.isfinite(m) else h):.1%}" in shown
    widths = sorted(round(p.get_width(), 6) for p in ax.patches)
    assert round(float(np.nanmax(t["reported_mfu"])) * 100, 6) in widths
    _close(fig)


# =============================================================================================
# Input pipeline
# =============================================================================================
@pytest.mark.parametrize("n_workers, load_time, step_time", [(1, 0.4, 0.05), (4, 0.4, 0.05), (7, 0.4, 0.05),
                                                              (8, 0.4, 0.05), (12, 0.4, 0.05), (3, 0.1, 0.2)])
def test_steady_pipeline_matches_analytic_twin(n_workers, load_time, step_time):
    # Twin: utilization = min(1, n·step/load). Tolerance: 1.5 % relative, the first batch's wait
    # (load_time) over a 1000-step run plus one loader round at the end.
    r = ut.simulate_input_pipeline(n_workers, load_time, step_time, n_steps=1000)
    twin = float(ut.input_pipeline_utilization(n_workers, load_time, step_time))
    assert r.gpu_utilization == pytest.approx(twin, rel=0.015)
    assert r.analytic_utilization == twin


def test_pipeline_timeline_is_clean():
    r = ut.simulate_input_pipeline(3, 0.3, 0.05, n_steps=400, load_jitter=0.4, seed=3)
    tl = r.timeline
    assert isinstance(tl, Timeline) and tl.states == BUSY_IDLE    # the core timeline, idle 0 / busy 1
    assert tl.start[0] == 0.0 and tl.end[-1] == pytest.approx(r.makespan)
    assert np.all(tl.end > tl.start)
    assert np.allclose(tl.start[1:], tl.end[:-1])                  # contiguous
    assert np.all(tl.state[1:] != tl.state[:-1])                  # merged: states alternate
    assert tl.busy_time == pytest.approx(r.n_steps * r.step_time)  # busy = the work
    assert tl.idle_time == pytest.approx(r.stall_time)
    assert r.gpu_utilization == pytest.approx(tl.busy_time / r.makespan)
    assert np.all(r.stall >= -1e-12) and r.stall[0] > 0


def test_every_simulation_timeline_prices_the_same_way():
    # chapter 06 prices a timeline from interval_utilization and interval_useful: busy intervals count
    # fully, idle ones not at all, and the weighted time is the work each model did.
    pipe = ut.simulate_input_pipeline(2, 0.3, 0.05, n_steps=100)
    serve = ut.simulate_serving(5.0, max_batch=4, n_requests=100, seed=1)
    jobs = ut.make_job_trace(40, n_devices=16, seed=2)
    sched = ut.simulate_scheduler(jobs, 16, policy="backfill")
    for r, busy in ((pipe, 100 * 0.05), (serve, np.sum(serve.batch_end - serve.batch_start)), (sched, None)):
        tl = r.timeline
        assert isinstance(tl, Timeline) and tl.states == BUSY_IDLE
        assert set(np.unique(tl.interval_utilization)) <= {0.0, 1.0}
        assert np.array_equal(tl.interval_utilization, tl.interval_useful)
        weighted = float(np.sum(tl.duration * tl.interval_utilization))
        assert weighted == pytest.approx(tl.busy_time)
        if busy is not None:
            assert weighted == pytest.approx(busy, rel=1e-9)
    # the scheduler's cluster is busy while any device runs a job
    assert sched.timeline.makespan == pytest.approx(sched.makespan)
    assert sched.timeline.busy_time <= sched.makespan - float(jobs.submit.min()) + 1e-9


def test_jitter_costs_and_prefetch_recovers():
    base = dict(load_time=0.35, step_time=0.05, n_steps=800)
    steady = ut.simulate_input_pipeline(8, **base).gpu_utilization
    jittery = ut.simulate_input_pipeline(8, load_jitter=0.5, prefetch=1, seed=1, **base).gpu_utilization
    deep = ut.simulate_input_pipeline(8, load_jitter=0.5, prefetch=8, seed=1, **base).gpu_utilization
    assert jittery < steady - 0.02
    assert deep > jittery + 0.01
    utils = [ut.simulate_input_pipeline(n, load_jitter=0.3, **base).gpu_utilization for n in (2, 4, 6, 8)]
    assert utils == sorted(utils)


def test_pipeline_reproducible_and_counts_events():
    a = ut.simulate_input_pipeline(4, 0.3, 0.05, n_steps=200, load_jitter=0.5, seed=7)
    b = ut.simulate_input_pipeline(4, 0.3, 0.05, n_steps=200, load_jitter=0.5, seed=7)
    c = ut.simulate_input_pipeline(4, 0.3, 0.05, n_steps=200, load_jitter=0.5, seed=8)
    assert np.array_equal(a.step_start, b.step_start)
    assert not np.array_equal(a.step_start, c.step_start)
    assert 3 * 200 <= a.n_events <= 5 * 200 + 50


def test_loaders_needed():
    assert ut.loaders_needed(0.35, 0.05, 0.95) == 7      # ⌈0.95 × 7⌉
    assert ut.loaders_needed(0.4, 0.05, 1.0) == 8
    assert ut.loaders_needed(0.01, 1.0) == 1


@pytest.mark.parametrize("kwargs, error", [
    (dict(n_workers=0, load_time=0.1, step_time=0.1), ValueError),
    (dict(n_workers=2, load_time=-0.1, step_time=0.1), ValueError),
    (dict(n_workers=2, load_time=0.1, step_time=0.0), ValueError),
    (dict(n_workers=2, load_time=float("nan"), step_time=0.1), ValueError),
    (dict(n_workers=2, load_time=0.1, step_time=0.1, prefetch=0), ValueError),
    (dict(n_workers=2, load_time=0.1, step_time=0.1, load_jitter=-1), ValueError),
    (dict(n_workers=2.5, load_time=0.1, step_time=0.1), TypeError),
])
def test_pipeline_bad_inputs(kwargs, error):
    with pytest.raises(error):
        ut.simulate_input_pipeline(**kwargs)


# =============================================================================================
# Stragglers
# =============================================================================================
def test_expected_max_closed_forms():
    # Analytic checks of the order-statistic integrator: E[max of 2 normals] = μ + σ/√π,
    # E[max of 3] = μ + 3σ/(2√π) (exact); exponential: shift + scale·H_n (Rényi). Tolerance 1e-4 relative.
    s, j = 1.0, 0.1
    assert ut.expected_step_time(2, s, j, distribution="normal") == pytest.approx(1 + 0.1 / math.sqrt(math.pi), rel=1e-4)
    assert ut.expected_step_time(3, s, j, distribution="normal") == pytest.approx(
        1 + 0.3 / (2 * math.sqrt(math.pi)), rel=1e-4)
    h = sum(1 / k for k in range(1, 101))
    assert ut.expected_step_time(100, s, 0.2, distribution="exponential") == pytest.approx(0.8 + 0.2 * h, rel=1e-12)
    for dist in ("lognormal", "normal", "exponential"):
        assert ut.expected_step_time(1, 2.0, 0.1, distribution=dist) == pytest.approx(2.0, rel=1e-4)
        assert ut.expected_step_time(64, 2.0, 0.0, distribution=dist) == 2.0


@pytest.mark.parametrize("distribution", ["lognormal", "normal", "exponential"])
@pytest.mark.parametrize("n", [1, 16, 1024])
def test_straggler_simulation_matches_expected_maximum(distribution, n):
    # Twin: the expected maximum of n samples. Tolerance 1 % relative (Monte Carlo with 400–4000 steps).
    r = ut.simulate_stragglers(n, 1.0, 0.15, n_steps=max(400, 4000 // n * 4), distribution=distribution, seed=2)
    assert r.mean_step_time == pytest.approx(r.expected_step_time, rel=0.01)


@pytest.mark.parametrize("mitigation", [dict(backup_workers=16), dict(drop_slowest=16)])
@pytest.mark.parametrize("distribution", ["lognormal", "exponential"])
def test_mitigations_match_order_statistics(mitigation, distribution):
    # Twin: the (n − k)-th of n, or n-th of n + b, order statistic. Tolerance 1 % relative.
    r = ut.simulate_stragglers(512, 1.0, 0.2, n_steps=1000, distribution=distribution, seed=4, **mitigation)
    plain = ut.expected_step_time(512, 1.0, 0.2, distribution=distribution)
    assert r.mean_step_time == pytest.approx(r.expected_step_time, rel=0.01)
    assert r.expected_step_time < plain


def test_stragglers_grow_with_scale():
    eff = ut.straggler_efficiency(np.array([1, 8, 64, 512, 4096]), 1.0, 0.1)
    assert eff[0] == pytest.approx(1.0, abs=1e-4)
    assert np.all(np.diff(eff) < 0)
    # normal-like jitter: the expected maximum grows about like σ·√(2 ln n) for large n
    big = ut.expected_step_time(100_000, 1.0, 0.05, distribution="normal")
    assert (big - 1) / 0.05 == pytest.approx(math.sqrt(2 * math.log(100_000)), rel=0.15)


def test_straggler_bad_inputs():
    with pytest.raises(ValueError):
        ut.simulate_stragglers(0, 1.0, 0.1)
    with pytest.raises(ValueError):
        ut.simulate_stragglers(8, 1.0, -0.1)
    with pytest.raises(ValueError):
        ut.simulate_stragglers(8, 1.0, 0.1, drop_slowest=8)
    with pytest.raises(ValueError):
        ut.simulate_stragglers(8, 1.0, 1.5, distribution="exponential")
    with pytest.raises(ValueError):
        ut.simulate_stragglers(8, 1.0, 0.1, distribution="gamma")
    with pytest.raises(ValueError):
        ut.expected_step_time(8, float("nan"), 0.1)
    with pytest.raises(ValueError):
        ut.simulate_stragglers(100_000, 1.0, 0.1, n_steps=1000)   # too much memory: a clear error


# =============================================================================================
# Serving
# =============================================================================================
def test_ridge_point_and_decode_roofline():
    # H100 SXM datasheet: 989 TFLOP/s dense BF16, 3.35 TB/s → ≈ 295 FLOP/byte ("How to Scale Your Model").
    # Tolerance ±1 FLOP/byte.
    ridge = ut.ridge_point(H100.peak_flops_per_s, H100.bandwidth_bytes_per_s)
    assert ridge == pytest.approx(295, abs=1)
    b = np.array([1, 8, 32, 128, 256])
    assert np.allclose(ut.decode_utilization(b), b / ridge, rtol=1e-12)
    assert ut.decode_utilization(4096) == pytest.approx(1.0)
    assert np.all(ut.decode_utilization(np.array([300, 4096, 1e6])) <= 1.0)
    with_kv = ut.decode_utilization(64, kv_bytes_per_sequence=0.5e9)
    assert with_kv < ut.decode_utilization(64)
    assert _step(1) == pytest.approx(14e9 / 3.35e12)
    # the defaults are the H100's datasheet row; other devices are explicit
    a100 = datasheet("A100")
    assert ut.decode_utilization(8, peak_flops_per_s=a100.peak_flops_per_s,
                                 bandwidth_bytes_per_s=a100.bandwidth_bytes_per_s) == \
        pytest.approx(8 / a100.ridge_point, rel=1e-12)


def _pooled_wait(tokens, rho, seeds=range(5), n=20_000, **kw):
    s = 100 * float(_step(1))
    lam = rho / s
    waits = [ut.simulate_serving(lam, max_batch=1, max_wait=0.0, n_requests=n, tokens=tokens, seed=k, **kw).mean_wait
             for k in seeds]
    return float(np.mean(waits)), lam, s


def test_batch_of_one_is_md1():
    # Twin: M/D/1 mean wait ρS/(2(1−ρ)) for fixed service times. Tolerance 5 % (issue 5), pooled over
    # 5 seeds × 20,000 requests (standard error ≈ 1 %).
    wait, lam, s = _pooled_wait("fixed", 0.5)
    assert wait == pytest.approx(ut.md1_wait(lam, s), rel=0.05)


def test_batch_of_one_is_mm1():
    # Twin: M/M/1 mean wait ρS/(1−ρ). Geometric token counts are the discrete exponential: cv² = 1 − 1/100,
    # so the exact (Pollaczek–Khinchine) wait is 0.5 % below M/M/1. Tolerance 5 % (issue 5), pooled seeds.
    wait, lam, s = _pooled_wait("geometric", 0.5)
    assert wait == pytest.approx(ut.mm1_wait(lam, s), rel=0.05)
    assert wait == pytest.approx(ut.mg1_wait(lam, s, math.sqrt(1 - 1 / 100)), rel=0.05)


def test_policies_coincide_at_batch_one():
    runs = [ut.simulate_serving(2.0, max_batch=1, max_wait=0.0, policy=p, n_requests=300, seed=5)
            for p in ("static", "dynamic", "continuous")]
    for r in runs[1:]:
        assert np.allclose(r.finish, runs[0].finish)


def _per_step_reference(arrival, tokens, max_batch, tau):
    """Brute force continuous batching, one decode step at a time (no simpy, no lookahead)."""
    n = len(arrival)
    finish = np.full(n, np.nan)
    t, nxt, active, left = 0.0, 0, [], {}
    while np.isnan(finish).any():
        while nxt < n and arrival[nxt] <= t + 1e-12 and len(active) < max_batch:
            active.append(nxt)
            left[nxt] = tokens[nxt]
            nxt += 1
        if not active:
            t = max(t, arrival[nxt])
            continue
        t += tau(len(active))
        for i in list(active):
            left[i] -= 1
            if left[i] == 0:
                finish[i] = t
                active.remove(i)
        # requests that arrived during the step join at this boundary (the loop's first lines)
    return finish


def test_continuous_batching_equals_per_step_reference():
    r = ut.simulate_serving(30.0, max_batch=8, policy="continuous", n_requests=150, mean_tokens=20, seed=11)
    tau = lambda b: float(_step(b))
    ref = _per_step_reference(r.arrival, r.tokens.astype(int), 8, tau)
    assert np.allclose(r.finish, ref, rtol=1e-9, atol=1e-9)


def test_static_fills_batches_and_dynamic_bounds_the_wait():
    st = ut.simulate_serving(5.0, max_batch=8, policy="static", n_requests=400, seed=3)
    assert np.all(st.batch_size[:-1] == 8)
    # at low load the GPU is idle when the wait limit expires, so no request waits longer than max_wait
    dy = ut.simulate_serving(0.3, max_batch=8, max_wait=0.2, policy="dynamic", n_requests=300, seed=3)
    idle_start = dy.wait[np.r_[True, dy.start[1:] > dy.finish[:-1]]]
    assert np.all(idle_start <= 0.2 + 1e-9)


def test_continuous_wins_at_high_load():
    runs = {p: ut.simulate_serving(15.0, max_batch=32, max_wait=0.1, policy=p, n_requests=1500, seed=2)
            for p in ("static", "dynamic", "continuous")}
    c = runs["continuous"]
    assert c.p99_latency < min(runs["static"].p99_latency, runs["dynamic"].p99_latency)
    assert c.throughput >= 0.95 * max(r.throughput for r in runs.values())
    for r in runs.values():
        assert r.gpu_utilization <= r.busy_fraction <= 1.0
        assert r.timeline.busy_time == pytest.approx(np.sum(r.batch_end - r.batch_start))
        assert np.all(r.finish >= r.start) and np.all(r.start >= r.arrival - 1e-12)
        assert r.gpu_utilization < 0.1          # decoding a 7B model: low single-digit percent of peak
        assert r.n_events > 1500


def test_serving_bad_inputs():
    with pytest.raises(ValueError):
        ut.simulate_serving(-1.0)
    with pytest.raises(ValueError):
        ut.simulate_serving(1.0, max_batch=0)
    with pytest.raises(ValueError):
        ut.simulate_serving(1.0, policy="greedy")
    with pytest.raises(ValueError):
        ut.simulate_serving(float("nan"))
    with pytest.raises(ValueError):
        ut.simulate_serving(1.0, max_wait=-0.1)
    with pytest.raises(ValueError):
        ut.simulate_serving(1.0, bandwidth_bytes_per_s=0.0)
    with pytest.raises(ValueError, match="unstable"):
        ut.mm1_wait(10.0, 0.2)
    with pytest.raises(ValueError):
        ut.decode_utilization(0)


def test_queue_formulas():
    assert ut.md1_wait(1.0, 0.5) == pytest.approx(0.25)
    assert ut.mm1_wait(1.0, 0.5) == pytest.approx(0.5)
    assert ut.mg1_wait(1.0, 0.5, 1.0) == pytest.approx(ut.mm1_wait(1.0, 0.5))
    assert ut.mmc_wait(1.0, 0.5, 1) == pytest.approx(ut.mm1_wait(1.0, 0.5))
    # Erlang C, c = 2, a = 1: C = 1/3, wait = C·S/(c − a) = S/3
    assert ut.mmc_wait(2.0, 0.5, 2) == pytest.approx(0.5 / 3)


def _frame(fig):
    return np.asarray(fig.canvas.buffer_rgba())[..., :3].astype(int)


def test_serving_explorer_updates_its_artists_in_place():
    ex = ut.serving_explorer()
    h = ex.handles
    first = [line.get_xdata().copy() for line in h["cdf"]]
    assert all(len(x) == 200 for x in first), "the static fallback (first render) shows all three runs"
    assert ex.readout.startswith("10 requests/s, max batch 16") and "continuous" in ex.readout
    artists = [*h["cdf"], *h["p99"], *h["bars"], *h["labels"], h["title"]]
    ex.update(arrival_rate=33.3, max_batch=48, max_wait=0.2)
    assert ex.handles is h and [*h["cdf"], *h["p99"], *h["bars"], *h["labels"], h["title"]] == artists
    assert not np.array_equal(h["cdf"][0].get_xdata(), first[0])
    assert h["title"].get_text().startswith("33.3 requests/s")
    runs = ut.serving._explorer_runs(33.3, 48, 0.2)
    for k, r in enumerate(runs):
        assert np.array_equal(h["cdf"][k].get_xdata(), np.sort(r.latency))
        assert h["bars"][k].get_height() == pytest.approx(100 * r.busy_fraction)
        assert r.summary() in ex.readout


@pytest.mark.parametrize("kwargs", [dict(arrival_rate=0.1), dict(arrival_rate=50.0), dict(max_batch=0),
                                    dict(max_batch=65), dict(max_wait=-0.1), dict(max_wait=0.6)])
def test_serving_explorer_refuses_settings_off_its_sliders(kwargs):
    with pytest.raises(ValueError, match=next(iter(kwargs))):
        ut.serving_explorer(**kwargs)


def test_serving_explorer_axes_cover_every_slider_setting():
    # fixed limits (drawn once) must hold every curve and bar the sliders can produce
    lo, hi = ut.serving._LATENCY_LIMITS
    for rate in (0.5, 40.0):
        for batch in (1, 64):
            for wait in (0.0, 0.5):
                for r in ut.serving._explorer_runs(rate, batch, wait):
                    assert lo <= r.latency.min() and r.latency.max() <= hi, (rate, batch, wait, r.policy)
                    assert r.busy_fraction <= 1.0


def test_serving_explorer_frame_matches_a_fresh_render():
    # after several moves, the explorer's (blitted) frame is what a fresh figure at the last setting shows:
    # update depends on the values alone, not on the moves before
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure
    ex = ut.serving_explorer()
    ex.update(arrival_rate=2.5)
    ex.update(max_batch=40)
    ex.update(max_wait=0.3)
    fig = Figure(figsize=(8, 3.6), dpi=ex.figure.dpi)
    FigureCanvasAgg(fig)
    h = ut.serving._build_serving(fig)
    ut.serving._update_serving(h, arrival_rate=2.5, max_batch=40, max_wait=0.3)
    from labkit.core.plotting import lean_figure
    lean_figure(fig)
    fig.canvas.draw()
    differ = np.any(_frame(ex.figure) != _frame(fig), axis=-1)
    assert differ.mean() < 0.002, f"{differ.mean():.2%} of pixels differ from a fresh render"


def test_plot_serving_snapshot_widens_its_axis_for_long_tails():
    runs = [ut.simulate_serving(40.0, max_batch=1, policy=p, n_requests=1000, seed=1) for p in ("static", "continuous")]
    assert max(r.latency.max() for r in runs) > ut.serving._LATENCY_LIMITS[1]     # past the explorer's fixed axis
    fig = ut.plot_serving_snapshot(runs)
    ax_latency, ax_bars = fig.axes
    assert ax_latency.get_xlim()[1] >= max(r.latency.max() for r in runs)
    assert [line.get_label() for line in ax_latency.get_lines()[::2]] == ["static", "continuous"]
    assert [p.get_height() for p in ax_bars.patches] == pytest.approx([100 * r.busy_fraction for r in runs])
    _close(fig)
    import matplotlib.pyplot as plt
    fig, (a1, a2) = plt.subplots(1, 2)
    assert ut.plot_serving_snapshot(runs, a1, a2) is fig
    with pytest.raises(TypeError, match="ax_bars"):
        ut.plot_serving_snapshot(runs, a1)
    _close(fig)


# =============================================================================================
# Scheduling
# =============================================================================================
def _trace(submit, n_devices, runtime):
    a = np.array(runtime, dtype=float)
    return ut.JobTrace(np.array(submit, dtype=float), np.array(n_devices), a, a.copy())


def test_fifo_and_backfill_by_hand():
    # 4 GPUs. A: t=0, 3 GPUs, 10 s. B: t=1, 4 GPUs, 5 s (blocked until A ends). C: t=2, 1 GPU, 5 s.
    # D: t=3, 1 GPU, 20 s. FIFO: C and D wait behind B. EASY: C fits in the hole and ends (t=7) before B's
    # reservation (t=10), so it backfills; D would end after t=10 and B needs every GPU, so it waits.
    jobs = _trace([0, 1, 2, 3], [3, 4, 1, 1], [10, 5, 5, 20])
    fifo = ut.simulate_scheduler(jobs, 4, policy="fifo")
    easy = ut.simulate_scheduler(jobs, 4, policy="backfill")
    assert np.allclose(fifo.start, [0, 10, 15, 15])
    assert np.allclose(easy.start, [0, 10, 2, 15])
    assert easy.mean_wait < fifo.mean_wait


def test_backfill_beats_fifo_on_a_trace():
    jobs = ut.make_job_trace(300, n_devices=64, load=0.9, seed=0)
    fifo = ut.simulate_scheduler(jobs, 64, policy="fifo")
    easy = ut.simulate_scheduler(jobs, 64, policy="backfill")
    assert easy.utilization > fifo.utilization
    assert easy.mean_wait < fifo.mean_wait
    for r in (fifo, easy):
        assert np.all(r.start >= jobs.submit - 1e-9)
        assert np.allclose(r.end - r.start, jobs.runtime)
        assert r.devices_in_use.max() <= 64 and r.devices_in_use.min() >= 0
        used = np.sum(r.devices_in_use[:-1] * np.diff(r.times)) + r.devices_in_use[-1] * (r.makespan - r.times[-1])
        assert used == pytest.approx(jobs.gpu_seconds, rel=1e-9)       # GPU-seconds are conserved
        assert 0 < r.utilization <= 1 and r.n_events > 2 * len(jobs)


def test_single_gpu_fifo_is_erlang_c():
    # Twin: 1-GPU jobs, exponential runtimes, Poisson arrivals, FIFO = M/M/c. Tolerance 10 % relative,
    # pooled over 3 seeds × 10,000 jobs at 70 % load on 8 GPUs.
    waits = [ut.simulate_scheduler(ut.make_job_trace(10_000, n_devices=8, load=0.7, sizes=1, runtime="exponential",
                                                     seed=s), 8).mean_wait for s in range(3)]
    assert np.mean(waits) == pytest.approx(ut.mmc_wait(0.7 * 8 / 3600, 3600, 8), rel=0.10)


def test_scheduler_bad_inputs():
    with pytest.raises(ValueError):
        ut.simulate_scheduler(_trace([0], [8], [10]), 4)
    with pytest.raises(TypeError):
        ut.simulate_scheduler([(0, 1, 10)], 4)
    with pytest.raises(ValueError):
        ut.simulate_scheduler(_trace([0], [1], [10]), 4, policy="sjf")
    bad = _trace([0], [1], [10])
    bad.estimate = np.array([5.0])
    with pytest.raises(ValueError):
        ut.simulate_scheduler(bad, 4)
    with pytest.raises(ValueError):
        ut.make_job_trace(10, load=-1)
    with pytest.raises(ValueError):
        ut.make_job_trace(10, overestimate=0.5)


# =============================================================================================
# Timelines and plots: what is drawn
# =============================================================================================
def test_timeline_from_busy_is_the_core_one():
    tl = Timeline.from_busy([1, 2, 5], [2, 3, 6], makespan=8)
    assert np.allclose(tl.start, [0, 1, 3, 5, 6]) and np.allclose(tl.end, [1, 3, 5, 6, 8])
    assert list(tl.busy) == [False, True, False, True, False]
    assert tl.utilization == pytest.approx(3 / 8)


def test_plot_gpu_timeline_draws_busy_and_idle_spans():
    r = ut.simulate_input_pipeline(2, 0.2, 0.05, n_steps=50)
    fig = ut.plot_gpu_timeline(r, until=2.0)
    ax = fig.axes[0]
    busy, idle = ax.collections            # broken_barh: busy first, then idle
    assert ax.get_xlim() == pytest.approx((0, 2.0))
    tl = r.timeline.window(0, 2.0)
    for spans, state in ((busy, 1), (idle, 0)):
        widths = [np.ptp(path.vertices[:, 0]) for path in spans.get_paths()]
        assert len(widths) == int(np.sum(tl.state == state))
        assert sum(widths) == pytest.approx(tl.time_in(state))
    assert f"{r.gpu_utilization:.0%}" in ax.get_title()
    _close(fig)
    with pytest.raises(TypeError, match="result"):
        ut.plot_gpu_timeline(object())


def test_plot_loader_sweep_draws_the_twin_and_the_simulations():
    fig = ut.plot_loader_sweep([2, 4, 6], 0.2, 0.05, n_steps=60, jitters=(0.0,))
    twin, sim = fig.axes[0].get_lines()[:2]
    x, y = twin.get_data()
    assert np.allclose(y, np.minimum(1, x * 0.05 / 0.2))
    assert list(sim.get_xdata()) == [2, 4, 6]
    expected = [ut.simulate_input_pipeline(n, 0.2, 0.05, n_steps=60).gpu_utilization for n in (2, 4, 6)]
    assert np.allclose(sim.get_ydata(), expected)
    _close(fig)


def test_plot_straggler_scaling_draws_twin_curves_and_simulated_points():
    fig = ut.plot_straggler_scaling(jitters=(0.1,), n_max=64, n_steps=20)
    curve, points = fig.axes[0].get_lines()[:2]
    x, y = curve.get_data()
    assert np.allclose(y, ut.straggler_efficiency(x, 1.0, 0.1))
    assert list(points.get_xdata()) == [1, 4, 16, 64]
    assert np.all(np.diff(y) <= 1e-12) and y[0] == pytest.approx(1.0, abs=1e-4)
    _close(fig)


def test_plot_decode_roofline_draws_one_line_per_kv_size_and_the_ridge_line():
    fig = ut.plot_decode_roofline(kv_bytes_per_sequence=(0.0, 0.3e9))
    no_kv, kv, ridge = fig.axes[0].get_lines()[:3]
    b = no_kv.get_xdata()
    assert np.allclose(no_kv.get_ydata(), ut.decode_utilization(b))
    assert np.all(kv.get_ydata() <= no_kv.get_ydata() + 1e-12)
    assert "295" in ridge.get_label()
    _close(fig)


def test_plot_serving_tradeoff_draws_each_policy():
    sweep = ut.serving_sweep(5.0, [1, 4], n_requests=100)
    fig = ut.plot_serving_tradeoff(sweep)
    assert len(fig.axes) == 3
    throughput = [line for line in fig.axes[0].get_lines() if line.get_label() in sweep]
    assert [line.get_label() for line in throughput] == list(sweep)
    for line, results in zip(throughput, sweep.values()):
        assert list(line.get_ydata()) == pytest.approx([r.steady_throughput for r in results])
    _close(fig)


def test_plot_scheduler_draws_devices_in_use():
    r = ut.simulate_scheduler(ut.make_job_trace(30, n_devices=16), 16)
    fig = ut.plot_scheduler([r])
    step = fig.axes[0].get_lines()[0]
    assert np.allclose(step.get_ydata(), r.devices_in_use) and np.allclose(step.get_xdata(), r.times / 3600)
    assert "16-GPU" in fig.axes[0].get_title()
    _close(fig)


def _close(fig):
    import matplotlib.pyplot as plt
    plt.close(fig)


# =============================================================================================
# Inference as vLLM and Vidur reason about it: prefill vs decode, TTFT/TPOT, the KV cache in HBM
# =============================================================================================
def test_critical_batch_is_the_ridge_point_in_tokens():
    # H100 SXM datasheet (hardware.csv): 989.4 TFLOP/s BF16 dense, 3.35 TB/s → 295 FLOP/byte; BF16 weights
    # (2 bytes, 2 FLOP per parameter per token) turn compute-bound at ≈ 295 tokens per weight read. Exact.
    assert ut.critical_batch_size() == pytest.approx(H100.peak_flops_per_s / H100.bandwidth_bytes_per_s)
    assert ut.critical_batch_size(bytes_per_param=1.0) == pytest.approx(ut.critical_batch_size() / 2)
    # a 512-token prefill is compute-bound (time = FLOPs / peak), a batch-32 decode step memory-bound
    assert ut.prefill_time(512) == pytest.approx(2 * 7e9 * 512 / H100.peak_flops_per_s)
    assert ut.time_per_output_token(32) == pytest.approx(7e9 * 2 / H100.bandwidth_bytes_per_s)


def test_issue_batch_256_with_a_1k_token_cache():
    # Issue #12: with a 1k-token Llama-2-7B cache (5.2e8 bytes per sequence) a batch of 256 runs at 8.2 % of
    # peak, not the 86.7 % of the no-KV roofline, and its 133 GB of cache does not fit in 80 GB.
    assert ut.decode_utilization(256) == pytest.approx(0.867, abs=0.001)
    assert ut.decode_utilization(256, kv_bytes_per_sequence=5.2e8) == pytest.approx(0.082, abs=0.001)
    fits = ut.kv_capacity_batch(5.2e8, 7e9)              # H100 80 GB, vLLM's 90 %: (72 − 14) GB / 0.52 GB
    assert fits == 111 and 256 * 5.2e8 > H100.memory_bytes
    assert ut.kv_capacity_batch(5.2e8, 7e9, usable_fraction=1.0) == 126
    # Llama-2-7B in BF16: 2 · 32 layers · 32 heads · 128 · 2 bytes = 512 KiB per token; 1,000 tokens ≈ 5.2e8
    assert ut.kv_bytes_per_token() == 524_288
    assert 1000 * ut.kv_bytes_per_token() == pytest.approx(5.2e8, rel=0.01)


def test_vllm_paper_kv_cache_figures():
    # Kwon et al., SOSP 2023 (vLLM), §3: OPT-13B's KV cache is "800 KB" per token (2 · 5120 · 40 layers · 2
    # bytes = 819,200 B, i.e. 800 KiB) and up to "1.6 GB" for a 2,048-token request; "even if all available
    # memory was allocated to KV cache, only a few tens of requests could be accommodated". Exact / order.
    per_token = ut.kv_bytes_per_token(n_layers=40, n_kv_heads=40, head_dim=128)
    assert per_token == 819_200
    assert 2048 * per_token == pytest.approx(1.6 * 2**30, rel=0.03)
    a100 = datasheet("A100")
    all_to_kv = ut.kv_capacity_batch(2048 * per_token, 13e9, memory_bytes=a100.memory_bytes, usable_fraction=1.0)
    assert 10 <= all_to_kv < 100 and 10 <= a100.memory_bytes // (2048 * per_token) < 100
    # Figure 1 of the paper: a 13B model on a 40 GB A100 keeps 26 GB of parameters (65 %): few requests fit
    assert ut.kv_capacity_batch(2048 * per_token, 13e9, memory_bytes=40e9) < 10


def test_roofline_bounds_nemo_measured_latency():
    # NVIDIA NeMo Framework performance docs (datasets/serving_latency.csv): Llama-2-7B, 128 prompt + 20 output
    # tokens, batches 1–8 on one A100 80GB and one H100: 153.8–329.5 ms. The roofline is a lower bound on
    # every row, and real kernels at these small batches reach about half of it: roofline / measured lies in
    # [0.45, 0.60] on every row (observed 0.47–0.57; tolerance: that band).
    model, measured = ut.roofline_vs_measured()
    assert len(measured) == 8
    assert np.all(model < measured)
    assert np.all((model / measured > 0.45) & (model / measured < 0.60))
    # both grow with the batch (prefill work grows, decode barely does), as measured
    for gpu in ("A100", "H100"):
        sel = np.array([a == gpu for a in ut.load_serving_measurements()["accelerator"]])
        assert np.all(np.diff(model[sel]) > 0) and np.all(np.diff(measured[sel]) > 0)


def test_generation_latency_is_prefill_plus_decode_steps():
    kvt = ut.kv_bytes_per_token()
    t = ut.generation_latency(128, 20, 1, 7e9, kv_bytes_per_token=kvt)
    steps = sum(ut.time_per_output_token(1, 7e9, kv_bytes_per_sequence=(128 + j) * kvt) for j in range(19))
    assert t == pytest.approx(ut.prefill_time(128, 7e9) + steps)
    assert ut.generation_latency(128, 1) == pytest.approx(ut.prefill_time(128))


def test_prefill_server_with_batch_one_is_md1():
    # Twin: with prefill and max_batch 1 the service time is prefill + (tokens − 1) decode steps, fixed → M/D/1.
    # Tolerance 5 %, pooled over 5 seeds × 20,000 requests (standard error ≈ 1 %).
    s = float(ut.prefill_time(256)) + 99 * float(_step(1))
    lam = 0.5 / s
    waits = [ut.simulate_serving(lam, max_batch=1, max_wait=0.0, n_requests=20_000, tokens="fixed", seed=k,
                                 prompt_tokens=256).mean_wait for k in range(5)]
    assert np.mean(waits) == pytest.approx(ut.md1_wait(lam, s), rel=0.05)


def test_ttft_and_tpot_at_low_load():
    # Alone on the GPU a request's TTFT is its prefill and its TPOT one batch-1 decode step. Exact (1e-9).
    r = ut.simulate_serving(0.01, max_batch=8, policy="continuous", n_requests=50, prompt_tokens=512, seed=1)
    alone = r.start == r.arrival
    assert alone.sum() > 40
    assert np.allclose(r.ttft[alone], ut.prefill_time(512))
    assert r.mean_tpot == pytest.approx(float(_step(1)), rel=1e-6)
    for p in ("static", "dynamic", "continuous"):
        q = ut.simulate_serving(20.0, max_batch=16, policy=p, n_requests=300, prompt_tokens=512, seed=2)
        assert np.all(q.first_token >= q.start) and np.all(q.finish >= q.first_token - 1e-12)
        assert q.timeline.busy_time == pytest.approx(np.sum(q.batch_end - q.batch_start)
                                                     + np.sum(q.prefill_end - q.prefill_start))
        assert q.gpu_utilization <= q.busy_fraction <= 1.0


def test_kv_cache_caps_the_running_batch():
    r = ut.simulate_serving(60.0, max_batch=256, policy="continuous", n_requests=3000, prompt_tokens=512,
                            kv_bytes_per_sequence=5.2e8, memory_bytes=80e9, seed=0)
    assert r.batch_limit == ut.kv_capacity_batch(5.2e8, 7e9, memory_bytes=80e9) == 111
    assert r.batch_size.max() <= 111
    free = ut.simulate_serving(60.0, max_batch=256, policy="continuous", n_requests=3000, prompt_tokens=512,
                               kv_bytes_per_sequence=5.2e8, seed=0)
    assert free.batch_limit == 256 and free.batch_size.max() > 111
    with pytest.raises(ValueError, match="kv_bytes_per_sequence"):
        ut.simulate_serving(1.0, memory_bytes=80e9)
    with pytest.raises(ValueError, match="weights"):
        ut.kv_capacity_batch(5.2e8, 70e9)


def test_steady_throughput_is_the_offered_load_or_the_capacity():
    # Underloaded: the steady-state rate is the sample's offered load (within 3 %), while the whole-run
    # rate counts the drain and can fall below it. Overloaded (batch 1, ρ = 2): the capacity 1 / service.
    r = ut.simulate_serving(12.0, max_batch=64, policy="continuous", n_requests=2000, seed=0)
    assert r.steady_throughput == pytest.approx(r.offered_rate, rel=0.03)
    s = 100 * float(_step(1))
    over = ut.simulate_serving(2 / s, max_batch=1, max_wait=0.0, tokens="fixed", n_requests=2000, seed=0)
    assert over.steady_throughput == pytest.approx(1 / s, rel=0.02)


# =============================================================================================
# Persistent stragglers and the MFU loss budget (Llama 3 405B, Dubey et al. 2024, Table 4)
# =============================================================================================
def test_slow_node_slowdown_closed_form_and_simulation():
    assert ut.slow_node_slowdown(1024, 0.0, 1.3) == 1.0
    assert ut.slow_node_slowdown(1, 0.25, 1.4) == pytest.approx(1.1)
    assert ut.slow_node_slowdown(10**6, 0.001, 1.3) == pytest.approx(1.3)
    # Twin: with no jitter a run is slow (× slowdown) iff it drew a slow worker: the mean over 400 runs is
    # 1 + 0.3·(1 − 0.999^1024) = 1.192. Tolerance 3 %, about four standard errors.
    runs = [ut.simulate_stragglers(1024, 1.0, 0.0, n_steps=5, seed=k, slow_fraction=0.001, slowdown=1.3)
            for k in range(400)]
    assert np.mean([r.mean_step_time for r in runs]) == pytest.approx(ut.slow_node_slowdown(1024, 0.001, 1.3),
                                                                      rel=0.03)
    for r in runs[:20]:        # persistent: every step of a run is slow, or none is
        assert np.allclose(r.step_times, 1.3 if r.n_slow else 1.0)


def test_nonmatmul_bytes_of_llama3_405b():
    # (12·d + 3·d_ff + 2·n_kv·head_dim) values per layer forward, BF16, × 3 passes, × 126 layers (exact)
    per_layer = 12 * 16384 + 3 * 53248 + 2 * 8 * 128
    assert ut.nonmatmul_bytes_per_token(16384, 53248, 126, 8, 128) == per_layer * 2 * 3 * 126


def test_fused_elementwise_kernels():
    # Fused as a graph compiler does: residual add + RMSNorm (read 2d, write 2d) twice, SwiGLU and rotary in
    # matmul epilogues: 8·d values per layer forward (exact). No paper prints bytes per token; the measured
    # compiler gain the notebook cites (Ansel et al. 2024, ASPLOS, abstract: TorchInductor 1.41× training and
    # 2.27× inference geometric-mean speedup on an A100 over 180+ models) is an upper bound here: the
    # fused bar can only shrink, and the whole bar is a few % of a Llama 3 405B step.
    fused = ut.nonmatmul_bytes_per_token(16384, 53248, 126, 8, 128, fused_elementwise=True)
    assert fused == 8 * 16384 * 2 * 3 * 126
    assert ut.nonmatmul_bytes_per_token(16384, 53248, 126, 8, 128) / fused == pytest.approx(2.734375)
    plain, compiled = ut.mfu_waterfall(), ut.mfu_waterfall(fused_elementwise=True)
    # the bar also holds Llama 3's FP32 gradient accumulation, one read-add-write kernel per micro-batch
    # (16 micro-batches × 405e9/128 local parameters × (2 + 2·4) bytes at 3.35 TB/s), which the element-wise
    # fusions leave alone; fused into the weight-gradient matmul (fused_grad_accumulation) it is gone
    accumulate = 16 * 405e9 / 128 * (2 + 2 * 4) / 3.35e12
    elementwise = plain.seconds["memory-bound kernels"] - accumulate
    assert compiled.seconds["memory-bound kernels"] == pytest.approx(elementwise / 2.734375 + accumulate)
    epilogue = ut.mfu_waterfall(fused_grad_accumulation=True)
    assert epilogue.seconds["memory-bound kernels"] == pytest.approx(elementwise)
    assert plain.modelled < compiled.modelled < plain.modelled * 1.41
    with pytest.raises(TypeError):
        ut.nonmatmul_bytes_per_token(16384, 53248, 126, 8, 128, fused_elementwise="yes")


def test_waterfall_lands_near_llama3_table4():
    # Dubey et al. 2024, Table 4: 43 % (8K GPUs), 41 % (16K GPUs), 38 % (16K GPUs, 131K tokens) BF16 MFU.
    # Every input is cited or named in WATERFALL_ASSUMPTIONS, none fitted: §3.3.2 gives no activation
    # checkpointing at 8K tokens, one layer per pipeline chunk (v = 8), FP32 gradient accumulation and
    # reduce-scatter; Chu et al. 2025 (ISCA) give tensor-parallel traffic fully exposed, FSDP traffic hidden
    # but for the first all-gather and the last reduce-scatter, and the 5 % of the 131K step spent waiting for
    # document-mask imbalance; matmuls at the sustained, power-limited rate (Bekman's MSMF). Observed 49.4 /
    # 46.6 / 35.7 % (53.6 / 50.5 / 37.2 % at the burst rate; 50.1 / 47.3 / 36.0 % with bf16 gradients).
    # Tolerances: the 8K-token rows above the published MFU by at most 7 points (the same 12 % per step the
    # model is fast on Selene's runs, test_one_layer_on_one_node_is_already_optimistic, and on NVIDIA's once
    # their tensor-parallel traffic is hidden); the 131K row below it by at most 3 points (document masks also
    # skip attention work the model charges as a whole causal square); scale (8K → 16K GPUs) costs within 2 %
    # of the published ratio 43/41 (observed 1.0 %: Meta blames the drop on the bubble alone, as the model
    # does); the published order kept.
    falls = ut.llama3_waterfalls()
    for w in falls:
        assert sum(w.bars.values()) == pytest.approx(1 - w.modelled)
        assert all(bar >= 0 for bar in w.bars.values())
    for w in falls[:2]:
        assert 0 < w.modelled - w.published <= 0.07, w.summary()
    assert -0.03 <= falls[2].modelled - falls[2].published < 0, falls[2].summary()
    assert [round(w.modelled, 3) for w in falls] == [0.494, 0.466, 0.357]
    burst = ut.llama3_waterfalls(sustained_matmul_efficiency=794.5 / 989)      # the burst rate: no clock bar
    assert [round(w.modelled, 3) for w in burst] == [0.536, 0.505, 0.372]
    assert all(w.bars["power-limited clocks"] == 0 for w in burst)
    bf16 = ut.llama3_waterfalls(grad_bytes_per_param=2)                    # gradients in bf16: faster
    assert all(b.modelled > w.modelled for b, w in zip(bf16, falls))
    assert falls[0].modelled / falls[1].modelled == pytest.approx(0.43 / 0.41, rel=0.02)
    assert falls[0].modelled > falls[1].modelled > falls[2].modelled      # the published order


def test_waterfall_parts_meta_measured():
    # Chu et al. 2025 ("Scaling Llama 3 Training with Efficient Parallelism Strategies", ISCA, §7.3) measured
    # parts of the same runs: a 5 % bubble ratio when each data-parallel group has 2 × pp sequences (the 8K-GPU
    # row) and 12 % when it has pp (the 16K-GPU row) — the model's (p − 1)/(v·m) gives 5.9 % and 11.7 %
    # (tolerance 1 point); at 131K tokens exposed context-parallel communication was 7.64 % of the step, of
    # which 65.75 % was waiting for the slowest rank: the collectives themselves at most 2.62 % — the model's
    # all-gathers and reduce-scatters take 2.8 % (tolerance 0.5 point) and the wait is the measured 5.02 %.
    eight_k, sixteen_k, long = ut.llama3_waterfalls()
    assert eight_k.config["bubble_fraction"] == pytest.approx(0.05, abs=0.01)
    assert sixteen_k.config["bubble_fraction"] == pytest.approx(0.12, abs=0.01)
    step = long.config["step"]
    assert step.exposed_cp / step.step_time == pytest.approx(0.0764 * (1 - 0.6575), abs=0.005)
    assert step.imbalance_wait_time / step.step_time == pytest.approx(0.0764 * 0.6575, rel=1e-9)
    assert "document-mask imbalance" not in sixteen_k.bars        # not measured at 8K tokens: no bar, not a 0
    assert eight_k.config["step"].exposed_dp < 0.01 * eight_k.config["step"].step_time   # FSDP hidden (§7.3.1)
    with pytest.raises(ValueError, match="dp_overlap_window"):
        ut.achieved_step_time(7e9, 32, 4096, 4096, 64, dp_overlap_window="sometimes")
    with pytest.raises(ValueError, match="imbalance_wait"):
        ut.achieved_step_time(7e9, 32, 4096, 4096, 64, imbalance_wait=1.0)


def test_waterfall_separates_scale_from_sequence_length():
    eight_k, sixteen_k, long = ut.llama3_waterfalls()
    # scale (8K → 16K GPUs at 8K tokens, 16M tokens a step either way): per-GPU kernels are identical;
    # what changes is the bubble (half the micro-batches) and the data-parallel all-reduce
    for name in ("matmuls below peak", "attention kernels", "memory-bound kernels"):
        assert eight_k.bars[name] == pytest.approx(sixteen_k.bars[name], rel=1e-6)
    assert sixteen_k.config["bubble_fraction"] == pytest.approx(2 * eight_k.config["bubble_fraction"])
    assert sixteen_k.bars["pipeline bubble"] > eight_k.bars["pipeline bubble"]
    # sequence length (8K → 131K tokens on the same 16K GPUs): attention is 57 % of PaLM's FLOP count
    attn = 12 * 126 * 16384 * 131072
    assert attn / (6 * 405e9 + attn) == pytest.approx(0.572, abs=0.001)
    assert long.bars["attention kernels"] > 5 * sixteen_k.bars["attention kernels"]
    assert "context-parallel comm" in long.bars and "context-parallel comm" not in sixteen_k.bars


def test_waterfall_assumptions_can_be_changed_and_are_checked():
    base = ut.mfu_waterfall()
    assert ut.mfu_waterfall(matmul_efficiency=0.7).modelled < base.modelled
    assert ut.mfu_waterfall(slow_fraction=0.001, slowdown=1.2).modelled < base.modelled
    with pytest.raises(TypeError, match="unknown assumption"):
        ut.mfu_waterfall(fudge=0.9)
    with pytest.raises(ValueError):
        ut.mfu_waterfall(matmul_efficiency=1.5)
    with pytest.raises(ValueError):
        ut.mfu_waterfall("32K GPUs")


def test_plot_mfu_waterfall_draws_every_bar():
    import matplotlib.pyplot as plt
    w = ut.mfu_waterfall()
    fig = ut.plot_mfu_waterfall(w)
    labels = [t.get_text() for t in fig.axes[0].get_xticklabels()]
    assert len(labels) == len(w.bars) + 3 and labels[-1] == "published MFU"
    plt.close(fig)


# --- the full step model for any design (achieved_step_time): same inputs for every run, none fitted ---------
_SELENE = dict(device="A100", intra_bandwidth_bytes_per_s=300e9, inter_bandwidth_bytes_per_s=25e9,
               flash_attention=False)      # Selene: NVLink 3 line rate, 8 × 200 Gb/s HDR per node; no FlashAttention


def _megatron_flops(batch, seq_len, n_layers, d_model, vocab=51200):
    """Narayanan et al. 2021, eq. (3): FLOP per iteration as Megatron counts them (full recomputation)."""
    return 96 * batch * seq_len * n_layers * d_model ** 2 * (1 + seq_len / (6 * d_model) + vocab / (16 * n_layers * d_model))


def test_measured_matmul_efficiency_is_bekmans_table():
    # S. Bekman, ml-engineering, MAMF table (commit 744d01e): A100 SXM 271.2/312, H100 SXM 794.5/989, B200 1745/2250.
    assert sc.measured_matmul_efficiency("H100") == pytest.approx(0.803, abs=5e-4)
    assert sc.measured_matmul_efficiency("A100") == pytest.approx(0.869, abs=5e-4)
    assert sc.measured_matmul_efficiency("B200") == pytest.approx(0.776, abs=5e-4)
    assert sc.measured_matmul_efficiency("V100") == sc.UNMEASURED_MATMUL_EFFICIENCY       # named assumption


def test_sustained_matmul_efficiency_is_bekmans_msmf():
    # Bekman's MSMF column (ml-engineering, branch fast-mamf, commit 082816f): H200 SXM 708.5 of 989 TFLOP/s
    # (71.6 %), B200 SXM 1,456.3 of 2,250 (64.7 %); the H100 takes the H200's figure (named); unmeasured → None.
    assert sc.sustained_matmul_efficiency("H200") == pytest.approx(0.716, abs=5e-4)
    assert sc.sustained_matmul_efficiency("H100") == sc.sustained_matmul_efficiency("H200")
    assert sc.sustained_matmul_efficiency("B200") == pytest.approx(0.647, abs=5e-4)
    assert sc.sustained_matmul_efficiency("A100") is None
    for name in sc.SUSTAINED_MATMUL_EFFICIENCY:                  # a sustained rate never beats the burst rate
        assert sc.sustained_matmul_efficiency(name) < sc.measured_matmul_efficiency(name)
    with pytest.raises((TypeError, ValueError)):
        sc.sustained_matmul_efficiency(3)
    assert ut.flash_attention_efficiency("H100") == 0.35 and ut.flash_attention_efficiency("A100") == 0.50


def test_achieved_step_time_parts_add_up_and_the_waterfall_is_its_view():
    r = ut.achieved_step_time(405e9, 126, 16384, 8192, 2048, 1, 128, 8, 16, 1, 8, d_ff=53248, n_heads=128,
                              n_kv_heads=8, vocab_size=128256, recompute="none", recompute_to_fit=False,
                              grad_bytes_per_param=4, dp_overlap_window="whole step")
    assert sum(r.parts().values()) == pytest.approx(r.step_time)
    assert sum(r.breakdown().values()) == pytest.approx(r.step_time)
    assert tuple(r.breakdown())[1:] == ut.LOSSES
    assert r.mfu == pytest.approx(r.ideal_time / r.step_time)
    assert r.mfu == pytest.approx(ut.mfu_waterfall("16K GPUs, 8K tokens").modelled)
    assert not r.fits_in_memory and r.recomputed_share == 0 and isinstance(r.summary(), str)   # 100 GB (see docs)
    fit = ut.achieved_step_time(405e9, 126, 16384, 8192, 2048, 1, 128, 8, 16, 1, 8)     # recompute what memory forces
    assert fit.fits_in_memory and 0 < fit.recomputed_share < 1 and fit.step_time > r.step_time


def test_achieved_step_time_is_vectorized_and_matches_scalar_calls():
    t = np.array([1, 2, 4, 8]); p = np.array([[1], [4]])
    r = ut.achieved_step_time(70e9, 80, 8192, 4096, 512, 1, 8, t, p, 1)
    assert r.step_time.shape == (2, 4) and r.fits_in_memory.dtype == bool
    one = ut.achieved_step_time(70e9, 80, 8192, 4096, 512, 1, 8, 4, 4, 1)
    assert r.step_time[1, 2] == pytest.approx(one.step_time) and r.mfu[1, 2] == pytest.approx(one.mfu)


def test_uneven_stages_wait_for_the_busiest():
    # Whole layers and the output layer on the last stage: 96 layers on 8 stages + GPT-3's 51,200 × 12,288
    # output layer (0.345 layers of work) → the last stage does 12.345 of a mean 12.043 (exact arithmetic).
    r = ut.achieved_step_time(175e9, 96, 12288, 2048, 1536, 1, 24, 8, 8, 1, vocab_size=51200)
    r0 = ut.achieved_step_time(175e9, 96, 12288, 2048, 1536, 1, 24, 8, 8, 1)
    assert r0.imbalance_time == 0 and r.imbalance_time > 0
    output = 51200 * 12288 * 96 / 175e9
    from labkit.utilization.budget import _busiest_stage
    assert _busiest_stage(96, 8, output) == pytest.approx((12 + output) / ((96 + output) / 8))
    # Llama 3: 126 layers on 16 stages; the last stage takes fewer layers (Dubey et al. 2024, §3.3.2): 8 / 7.92
    assert _busiest_stage(126, 16, 0.654) == pytest.approx(8 / (126.654 / 16))


def test_full_recomputation_and_memory():
    base = dict(n_params=7e9, n_layers=32, d_model=4096, seq_len=4096, global_batch_size=64, data_parallel=8)
    small = ut.achieved_step_time(**base)
    assert small.recomputed_share == 0 and small.recompute_time == 0 and small.fits_in_memory
    full = ut.achieved_step_time(**base, recompute="full")
    assert full.recomputed_share == 1 and full.step_time > small.step_time
    slow = ut.achieved_step_time(**base, slow_fraction=0.01, slowdown=1.2)
    assert slow.step_time > small.step_time


@pytest.mark.parametrize("n_params, n_layers, d_model, batch, p, dp, published_tflops", [
    (175e9, 96, 12288, 1536, 8, 24, 153),      # Narayanan et al. 2021, Table 1: 175B, t 8, p 8, 1,536 A100
    (1e12, 128, 25600, 3072, 64, 6, 163),      # 1T, t 8, p 64, 3,072 A100
])
def test_achieved_step_time_on_megatron_2021_is_optimistic(n_params, n_layers, d_model, batch, p, dp,
                                                           published_tflops):
    # Out of sample, the same cited inputs as Llama 3 (A100's measured matmul rate, no FlashAttention in 2021;
    # gradient accumulation not yet fused into the matmul, which Megatron-LM added in 2022): per-GPU TFLOP/s
    # as Megatron counts them. The model is 13 % fast (observed 172.5 and 183.9): a 2025 best-shape matmul
    # rate against 2021 kernels on the model's own shapes. Tolerance: faster than published, by at most 25 %.
    r = ut.achieved_step_time(n_params, n_layers, d_model, 2048, batch, 1, dp, 8, p, 1, recompute="full",
                              vocab_size=51200, fused_grad_accumulation=False, **_SELENE)
    achieved = _megatron_flops(batch, 2048, n_layers, d_model) / (r.n_devices * r.step_time) / 1e12
    assert 1.0 < achieved / published_tflops < 1.25


@pytest.mark.parametrize("n_params, n_layers, d_model, batch, p, published_s", [
    (175e9, 96, 12288, 64, 8, 13.75),           # Korthikanti et al. 2022, Table 5 (selective recomputation +
    (530e9, 105, 20480, 280, 35, 37.83),        # sequence parallelism; t 8, DP 1, micro-batch 1): seconds
    (1e12, 128, 25600, 512, 64, 71.49),         # per iteration
])
def test_achieved_step_time_on_korthikanti_2022(n_params, n_layers, d_model, batch, p, published_s):
    # Out of sample: the model's step is 7.5–12 % short on all three (observed 12.09, 34.98, 65.09 s).
    # Tolerance: shorter than published, by at most 15 %.
    r = ut.achieved_step_time(n_params, n_layers, d_model, 2048, batch, 1, 1, 8, p, 1, vocab_size=51200,
                              fused_grad_accumulation=True, **_SELENE)     # Megatron-LM fused it in 2022
    assert 0.85 < r.step_time / published_s < 1.0
    assert r.fits_in_memory and r.recomputed_share == 0      # selective recomputation was enough to fit


def test_megatron_comparison_is_the_tests_above_for_the_notebook():
    # The notebook's table (ut.megatron_comparison) is the same model on the same published runs as the two tests
    # above: the eq. 3 count agrees with this file's twin, and each row is inside those tests' bands.
    assert ut.megatron_model_flops(1536, 96, 12288) == pytest.approx(_megatron_flops(1536, 2048, 96, 12288), rel=1e-12)
    rows = ut.megatron_comparison()
    assert [r["name"] for r in rows] == [run["name"] for run in ut.MEGATRON_A100_RUNS]
    for r in rows:
        assert 0.75 < r["modelled_s"] / r["published_s"] < 1.0, r      # 1/1.25 … 1 (rates) and 0.85 … 1 (times)
    with pytest.raises(ValueError, match="n_layers"):
        ut.megatron_model_flops(64, 0, 12288)


@pytest.mark.parametrize("kwargs, name", [
    (dict(context_parallel=0), "context_parallel"), (dict(context_parallel=10**6), "context_parallel"),
    (dict(flash_attention=1), "flash_attention"), (dict(attention_efficiency=1.5), "attention_efficiency"),
    (dict(recompute="some"), "recompute"), (dict(memory_reserve=1.0), "memory_reserve"),
    (dict(thermal_slowdown=0.9), "thermal_slowdown"), (dict(device="Cray-1 9000"), "device"),
])
def test_achieved_step_time_rejects_bad_input(kwargs, name):
    with pytest.raises((TypeError, ValueError), match=name):
        ut.achieved_step_time(70e9, 80, 8192, 4096, 512, 1, 8, 8, 4, **kwargs)


# --- Cloud elasticity (labkit.utilization.cloud; datasets/cloud_scaling.csv) -------------------------------

def test_goyal_scaling_efficiency_matches_the_paper():
    """Goyal et al. 2017 (arXiv:1706.02677), abstract: 8 → 256 P100s took ResNet-50 from 29 h to 1 h with
    "∼90 % scaling efficiency". The trade-off computed from the two published times: 29/32 = 90.6 %;
    tolerance ±2 points (the abstract rounds)."""
    t = ut.published_tradeoff("goyal-8", "goyal-256")
    assert t.scaling_efficiency == pytest.approx(0.90, abs=0.02)
    assert t.speedup == pytest.approx(29.0) and t.machine_ratio == 32.0
    assert t.cost_ratio == pytest.approx(1 / t.scaling_efficiency)


def test_dawnbench_cost_is_machine_hours_at_the_on_demand_price():
    """DAWNBench v1 priced fast.ai's one-p3.16xlarge ImageNet run (2:57:28) at $72.40: rental_cost at
    AWS's $24.48 per p3.16xlarge-hour reproduces it within 0.1 %. The team's own spot bill was about $25
    (Howard, fast.ai blog, 2018): a spot price near 35 % of on-demand."""
    t = ut.load_cloud_scaling()
    row = [r for r in t.rows() if r["run"] == "dawnbench-fastai-1"][0]
    assert row["time_s"] == 2 * 3600 + 57 * 60 + 28
    cost = ut.rental_cost(row["n_machines"], row["time_s"], row["price_per_machine_hour_usd"])
    assert cost == pytest.approx(row["published_cost_usd"], rel=1e-3)
    spot = [r for r in t.rows() if r["run"] == "dawnbench-fastai-1-spot"][0]
    assert spot["published_cost_usd"] / cost == pytest.approx(0.35, abs=0.01)


def test_dawnbench_doubling_at_scale_nearly_doubles_the_bill():
    """DAWNBench, September 2018 (same team, weeks apart): 8 → 16 p3.16xlarge took 18:53 → 18:06. The second
    doubling bought 4 % — 52 % efficiency, 1.92× the machine-hours."""
    t = ut.published_tradeoff("dawnbench-diux-8", "dawnbench-diux-16")
    assert t.speedup == pytest.approx(1133 / 1086)
    assert t.scaling_efficiency == pytest.approx(0.522, abs=0.001)
    assert t.cost_ratio == pytest.approx(1.917, abs=0.001)


def test_cloud_tradeoff_identities_and_errors():
    t = ut.scaling_tradeoff(100.0, 1, 100.0, 4)          # no speed-up at all
    assert t.scaling_efficiency == 0.25 and t.cost_ratio == 4.0
    assert ut.scaling_tradeoff(100.0, 2, 25.0, 8).scaling_efficiency == 1.0
    assert ut.rental_cost(4, 7200, 10.0) == pytest.approx(80.0)
    with pytest.raises(ValueError, match="n_machines"):
        ut.rental_cost(0, 1.0, 1.0)
    with pytest.raises(ValueError, match="no run named"):
        ut.published_tradeoff("goyal-8", "nope")
    with pytest.raises(ValueError, match="different benchmarks"):
        ut.published_tradeoff("goyal-8", "dawnbench-diux-16")
    with pytest.raises(TypeError, match="run names"):
        ut.published_tradeoff(8, "goyal-256")


def test_plot_cloud_scaling_draws_each_study():
    import matplotlib
    matplotlib.use("Agg")
    fig = ut.plot_cloud_scaling()
    labels = [line.get_label() for line in fig.axes[0].lines if not line.get_label().startswith("_")]
    assert len(labels) == 3 and any("Goyal" in x for x in labels)


def test_achieved_step_time_reproduces_nvidia_llama31_runs_on_h100():
    """Out of sample on H100, the same cited inputs as the Llama 3 waterfall, none tuned: NVIDIA's BF16 runs of
    Llama 3.1 8B / 70B / 405B on DGX H100 (dgxc-benchmarking v25.04.01, llama3.1/README.md: 12.27 and 12.33 s,
    14.66 and 14.66 s, 19.78 / 19.84 / 19.87 s per step). Observed +0.5 / +3.9 / −1.9 / −1.2 / −0.5 / −0.6 /
    −0.7 %. Tolerance: within 3 % for every row but one; the 8B on 128 GPUs (tensor and pipeline parallelism
    1, its step dominated by the gradient reduce-scatter over the network) may be up to 6 % slow — the model
    hides that traffic only behind the last micro-batch's backward, Megatron-Core also behind the next
    forward. The tensor-parallel traffic NeMo overlaps is exposed here: see the next test for the other reading."""
    rows = ut.nvidia_h100_comparison()
    assert len(rows) == len(ut.NVIDIA_H100_RUNS) == 7
    for row in rows:
        ratio = row["modelled_s"] / row["published_s"]
        if row["name"] == "Llama 3.1 8B, 128 GPUs":
            assert 1.0 < ratio <= 1.06, row
        else:
            assert ratio == pytest.approx(1.0, abs=0.03), row
    assert {run["model"] for run in ut.NVIDIA_H100_RUNS} == set(ut.LLAMA31_SHAPES)


def test_hidden_tensor_parallel_traffic_and_the_second_reading_of_nvidias_runs():
    # tensor_parallel_overlap hides that share of the tensor-parallel bar (exact), and nothing else moves.
    base = ut.mfu_waterfall()
    hidden = ut.mfu_waterfall(tensor_parallel_overlap=1.0)
    assert hidden.seconds["tensor-parallel comm"] == 0
    half = ut.mfu_waterfall(tensor_parallel_overlap=0.5)
    assert half.seconds["tensor-parallel comm"] == pytest.approx(base.seconds["tensor-parallel comm"] / 2)
    assert hidden.seconds["matmuls below peak"] == base.seconds["matmuls below peak"]
    # If NeMo hid all of its tensor-parallel traffic (nobody published how much it hides), the model would be
    # 11-14 % fast on NVIDIA's 70B and 405B runs (observed 0.857-0.885 modelled/published) - the same
    # offset as on Megatron-LM's 2022 A100 runs (0.879-0.925) and on Meta's 8K-token rows (0.870, 0.880), whose
    # tensor-parallel traffic is fully exposed (Chu et al. 2025, §5.2). Band 0.85-0.93 for all three: the
    # second reading the notebook states.
    big = [r["modelled_s"] / r["published_s"] for r in ut.nvidia_h100_comparison(tensor_parallel_overlap=1.0)
           if "8B" not in r["name"]]
    a100 = [r["modelled_s"] / r["published_s"] for r in ut.megatron_comparison() if "2022" in r["name"]]
    meta = [w.published / w.modelled for w in ut.llama3_waterfalls()[:2]]
    for ratios in (big, a100, meta):
        assert all(0.85 <= x <= 0.93 for x in ratios), ratios
    with pytest.raises(ValueError, match="tensor_parallel_overlap"):
        ut.nvidia_h100_comparison(tensor_parallel_overlap=1.5)


def test_plot_step_time_validation_draws_every_run():
    import matplotlib.pyplot as plt
    fig = ut.plot_step_time_validation()
    ax = fig.axes[0]
    n_runs = len(ut.MEGATRON_A100_RUNS) + len(ut.NVIDIA_H100_RUNS) + len(ut.LLAMA3_TABLE4)
    assert len(ax.patches) == len(ax.get_yticklabels()) == n_runs
    assert len(ax.get_legend().get_texts()) == 3
    widths = sorted(p.get_width() for p in ax.patches)
    assert widths[0] < -0.05 and widths[-1] > 0.05          # fast (A100, Meta's 8K rows) and slow runs both shown
    plt.close(fig)


def test_one_layer_on_one_node_is_already_optimistic():
    """Korthikanti et al. 2022 (arXiv:2205.05198), Table 4: one layer of their 22B GPT on 8 A100s (tensor
    parallel, sequence parallel, no pipeline or data parallelism) took 7.2 + 11.8 ms without recomputation and
    7.2 + 13.1 ms with selective recomputation. The same cited inputs model it at 16.6 and 17.6 ms: 0.87 of
    the measured time — the ratio of the whole multi-node runs (0.88–0.92 of Table 5's step times). So the
    model's optimism is inside a layer's kernels and its tensor-parallel traffic, not in bubbles, stragglers
    or the network. Band 0.80–0.95 of the measured time, and within 0.05 of the multi-node ratios' mean."""
    rows = ut.megatron_layer_comparison()
    assert [r["recompute"] for r in rows] == ["none", "selective"]
    ratios = [r["modelled_s"] / r["measured_s"] for r in rows]
    assert all(0.80 <= x <= 0.95 for x in ratios), ratios
    runs = [r["modelled_s"] / r["published_s"] for r in ut.megatron_comparison() if "2022" in r["name"]]
    assert abs(np.mean(ratios) - np.mean(runs)) <= 0.05
    assert rows[1]["modelled_s"] > rows[0]["modelled_s"]           # selective recomputation costs time, as measured
