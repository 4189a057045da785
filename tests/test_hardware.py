"""labkit.hardware (chapter 01): measurements, datasets, doubling time, roofline, time to train, plots.

The shared formulas chapter 01 teaches (roofline, ridge_point, bound, roofline_time, training_time,
fit_trend, doubling_time, device) live in labkit.core and are unit-tested in test_core.py; here they
are checked through the chapter's re-exports against the figures the chapter quotes.
"""

import numpy as np
import pytest

import labkit.hardware as hw
from labkit import units as u

FUZZ_EXAMPLES = {
    "years": [2000.0, 2005.0, 2010.0],
    "values": [1e9, 3e10, 1e12],
    "m": 4096, "k": 4096,
    "n_elements": 1e6,
    "operation": "matmul n×n×n",
    "linpack_flops_per_s": 150e9,            # a 150 GFLOP/s machine would have led the Top500 until 1994
    "measured": 60e9,
    "plot_decode_intensity.machines": [("H100", 989e12, 3.35e12)],
    "measure_machine.max_seconds": 0.3,
}


@pytest.fixture(autouse=True)
def _close_figures():
    yield
    import matplotlib.pyplot as plt
    plt.close("all")


# --- measuring this machine ----------------------------------------------------------------------
@pytest.mark.parametrize("measure, kwargs, unit", [
    (hw.measure_matmul_flops, {"n": 256, "repeats": 3}, "FLOP/s"),
    (hw.measure_python_flops, {"n": 32, "repeats": 3}, "FLOP/s"),
    (hw.measure_memory_bandwidth, {"nbytes": 16 * 2**20, "repeats": 3}, "B/s"),
])
def test_measurements_return_the_best_of_their_samples(measure, kwargs, unit):
    m = measure(**kwargs)
    assert m.unit == unit and m.value > 0 and float(m) == m.value
    assert 1 <= len(m.samples) <= kwargs["repeats"]
    assert m.value == m.samples.max() and m.median == pytest.approx(np.median(m.samples))
    assert 0 < m.steadiness <= 1 and m.spread == pytest.approx(1 - m.steadiness)
    assert m.seconds > 0 and m.counted
    assert unit.split("/")[0] in str(m) and "best of" in repr(m)


def _measurement(samples, n_threads=None):
    return hw.Measurement(max(samples), np.array(samples, dtype=float), 512, "FLOP/s", "test", 0.1, n_threads)


def test_a_noisy_measurement_says_so_in_plain_words():
    # The loaded 2-core machine: repeats from 60 down to ~7 GFLOP/s (spread ±89 % around the median)
    noisy = _measurement([60e9, 6.6e9, 20e9])
    assert noisy.value == 60e9 and noisy.steadiness == pytest.approx(0.11)
    assert "noisy" in noisy.warning and "11%" in noisy.warning and "⚠" in str(noisy)
    assert _measurement([60e9, 59.5e9, 59e9]).warning == ""                 # ±1 %: steady, no warning
    assert "only 2" in _measurement([60e9, 59e9]).warning                   # too few repeats to judge


def test_matmul_size_is_chosen_to_fill_the_time_budget():
    # Nothing fits in a microsecond: the smallest order. Half a second fits 5 products of 192² (14 MFLOP
    # each) on anything faster than 0.3 GFLOP/s. A count of sizes, not a timing.
    assert hw.measure_matmul_flops(repeats=1, max_seconds=1e-6).size == hw._MATMUL_SIZES[0]
    m = hw.measure_matmul_flops(repeats=5, max_seconds=0.5)
    assert m.size in hw._MATMUL_SIZES and m.size >= 192 and m.n_threads is None


def test_one_thread_is_measured_in_a_fresh_process(monkeypatch):
    m = hw.measure_matmul_flops(n=128, repeats=2, max_seconds=0.2, n_threads=1)
    assert m.n_threads == 1 and m.size == 128 and m.value > 0 and "1 thread" in str(m)
    import sys
    monkeypatch.setattr(sys, "executable", "/nonexistent/python")
    with pytest.raises(RuntimeError, match="fresh Python process"):
        hw.measure_matmul_flops(n=128, repeats=1, n_threads=1)


def test_the_fresh_process_is_told_to_use_one_thread(monkeypatch):
    import subprocess
    seen = {}

    def fake_run(args, env, **kwargs):
        seen.update(env)
        return subprocess.CompletedProcess(args, 0, '{"n": 64, "durations": [0.001], "seconds": 0.01}\n', "")
    monkeypatch.setattr(subprocess, "run", fake_run)
    m = hw.measure_matmul_flops(n=64, repeats=1, n_threads=1)
    assert m.value == pytest.approx(2 * 64**3 / 0.001)
    assert all(seen[v] == "1" for v in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"))


def test_measure_machine_reports_every_figure_and_the_better_blas_rate(monkeypatch):
    machine = hw.measure_machine(max_seconds=0.6)
    assert machine.matmul.value > 0 and machine.python_loops.value > 0 and machine.memory.value > 0
    assert machine.best_matmul.value == max(machine.matmul.value, machine.matmul_one_thread.value)
    assert machine.ridge_point == pytest.approx(machine.best_matmul.value / machine.memory.value)
    text = str(machine)
    assert "faster through BLAS" in text and "Ridge point" in text and "one thread" in text
    # where no process can be started (a browser-only Python), the one-thread figure is missing, not fatal
    monkeypatch.setattr(hw, "_matmul_in_fresh_process", lambda *a: (_ for _ in ()).throw(RuntimeError("no")))
    machine = hw.measure_machine(max_seconds=0.3)
    assert machine.matmul_one_thread is None and machine.note == "no" and machine.thread_speedup is None
    assert "not measured (no)" in str(machine) and machine.best_matmul is machine.matmul


def test_every_core_slower_than_one_is_flagged_and_the_one_thread_rate_used():
    # The figures: 2.97 GFLOP/s on every core of a loaded 2-core machine, 60 GFLOP/s on one.
    machine = hw.MachineMeasurement(_measurement([2.97e9, 1.0e9]), _measurement([60e9, 59.6e9], 1),
                                    _measurement([30e6, 29e6, 29e6], 1), _measurement([10e9, 9.9e9, 9.8e9]), 2)
    assert machine.best_matmul is machine.matmul_one_thread and machine.thread_speedup == pytest.approx(0.0495)
    assert machine.blas_speedup == pytest.approx(2000) and machine.ridge_point == pytest.approx(6.0)
    assert any("slower than one" in w for w in machine.warnings)
    assert "thousands of times" in str(machine) and "⚠ every core ran slower than one" in str(machine)


def test_parallel_efficiency():
    # The measurements: 123 GFLOP/s on 2 threads (n = 2048) vs 60 on one (n = 512) is 102.5 %
    # (a larger product runs nearer the peak); 2.97 on 2 threads under load is 2.5 %.
    assert hw.parallel_efficiency(123e9, 60e9, 2) == pytest.approx(1.025)
    assert hw.parallel_efficiency(2.97e9, 60e9, 2) == pytest.approx(0.02475)
    with pytest.raises(ValueError, match="n_threads"):
        hw.parallel_efficiency(1e9, 1e9, 0)


def test_history_sentences_follow_the_measurement():
    # Cray-1 peak 160 MFLOP/s (Russell 1978); Top500 #1 LINPACK (Rmax) from top500.org lists.
    low = hw.compare_with_history(3e9)
    assert "19× the Cray-1" in low and "would not have topped even the first Top500 list" in low
    at_60 = hw.compare_with_history(60e9)
    assert "375× the Cray-1" in at_60 and "until 1993" in at_60 and "Numerical Wind Tunnel" in at_60
    sr2201 = hw.compare_with_history(300e9)          # beats SR2201's 232.4 (June 1996), not CP-PACS's 368.2
    assert "until 1996" in sr2201 and "SR2201" in sr2201 and "CP-PACS" in sr2201
    assert "beats every Top500 #1" in hw.compare_with_history(1e19)
    assert "below the Cray-1" in hw.compare_with_history(1e8)
    assert hw.compare_with_history(_measurement([60e9])) == at_60
    machine = hw.MachineMeasurement(_measurement([3e9]), _measurement([60e9], 1), _measurement([3e7]),
                                    _measurement([1e10]), 2)
    assert hw.compare_with_history(machine) == at_60                # the better of the two BLAS figures


@pytest.mark.parametrize("call, error, text", [
    (lambda: hw.measure_matmul_flops(n=0), ValueError, "n"),
    (lambda: hw.measure_matmul_flops(n=10.5), TypeError, "n"),
    (lambda: hw.measure_matmul_flops(repeats=0), ValueError, "repeats"),
    (lambda: hw.measure_matmul_flops(dtype="int8"), ValueError, "dtype"),
    (lambda: hw.measure_matmul_flops(dtype=np.array([1.0, 2.0])), TypeError, "dtype"),
    (lambda: hw.measure_matmul_flops(max_seconds=-1), ValueError, "max_seconds"),
    (lambda: hw.measure_matmul_flops(n=4096), ValueError, "n"),
    (lambda: hw.measure_matmul_flops(n_threads=0), ValueError, "n_threads"),
    (lambda: hw.measure_matmul_flops(n_threads=True), TypeError, "n_threads"),
    (lambda: hw.measure_machine(max_seconds=0), ValueError, "max_seconds"),
    (lambda: hw.compare_with_history(-1), ValueError, "measured"),
    (lambda: hw.measure_python_flops(n=10_000), ValueError, "n"),
    (lambda: hw.measure_memory_bandwidth(nbytes=10), ValueError, "nbytes"),
    (lambda: hw.measure_memory_bandwidth(nbytes="64MB"), TypeError, "nbytes"),
])
def test_measurements_reject_bad_input(call, error, text):
    with pytest.raises(error, match=text):
        call()


# --- datasets -----------------------------------------------------------------------------------
def test_hardware_dataset_is_complete_and_cited():
    t = hw.load_hardware()
    assert 30 <= len(t) <= 60
    assert set(t["kind"]) == set(hw.KINDS)
    assert t["year"].min() < 1980 and t["year"].max() >= 2024
    assert np.all(t["peak_flops_per_s"] > 0)
    assert set(t["precision"]) <= {"fp64", "fp32", "fp16", "bf16", "int8"}
    for column in ("bandwidth_bytes_per_s", "power_w", "linpack_flops_per_s"):
        values = t[column]
        assert np.all(np.isnan(values) | (values > 0)), column
    assert all(isinstance(s, str) and len(s) > 15 for s in t["source"])
    top = t.where(kind="supercomputer")
    has_rmax = ~np.isnan(top["linpack_flops_per_s"])
    assert np.all(top["linpack_flops_per_s"][has_rmax] <= top["peak_flops_per_s"][has_rmax])
    assert np.all(top["year"][has_rmax] >= 1993)  # LINPACK (Rmax) given for Top500 rows only


def test_published_rows():
    # top500.org June 1993 list: CM-5/1024, Rmax 59.7 GFLOP/s, Rpeak 131 GFLOP/s (exact)
    cm5 = hw.device("CM-5")
    assert (cm5.year, cm5.linpack_flops_per_s, cm5.peak_flops_per_s) == (1993, 59.7e9, 131e9)
    # NVIDIA A100 datasheet: 312 TFLOP/s dense BF16, 2,039 GB/s, 400 W (exact)
    a100 = hw.device("A100")
    assert (a100.peak_flops_per_s, a100.bandwidth_bytes_per_s, a100.power_w) == (312e12, 2.039e12, 400)
    assert hw.device("El Capitan").linpack_flops_per_s == 1.742e18


def test_memory_capacity_comes_from_the_table():
    # Vendor datasheets (datasets/README.md): HBM capacity in SI bytes (exact).
    # B200: the DGX B200 datasheet's 1,440 GB for 8 GPUs = 180 GB each, as shipped (192 GB is the 2024
    # announcement's chip figure). TPU v2: 16 GiB per chip (Jouppi et al., CACM 2020, Table 3).
    for name, gb in (("V100", 32), ("A100", 80), ("H100 SXM", 80), ("H200", 141), ("B200", 1440 / 8)):
        assert hw.device(name).memory_bytes == gb * u.GB, name
    assert hw.device("TPU v2").memory_bytes == 16 * u.GiB
    assert hw.device("Frontier").memory_bytes is None  # an empty cell is None, never a NaN
    assert isinstance(hw.device("Cray-1"), hw.Device)


def test_tpu_v2_bandwidth_is_the_primary_sources():
    # Jouppi et al., CACM 63(7) 2020, Table 3, and Norrie et al., IEEE Micro 41(2) 2021: 700 GB/s per chip
    # (TPU v3: 900 GB/s, +30 %); 46 TFLOP/s bf16; 280 W. Exact.
    v2, v3 = hw.device("TPU v2"), hw.device("TPU v3")
    assert (v2.bandwidth_bytes_per_s, v2.peak_flops_per_s, v2.power_w) == (700e9, 46e12, 280)
    assert v3.bandwidth_bytes_per_s / v2.bandwidth_bytes_per_s == pytest.approx(1.3, abs=0.02)
    assert "Norrie" in v2.source and "CACM" in v2.source


# Every system that was Top500 #1, at its first list at #1 (top500.org, June 1993 to November 2024).
TOP500_LEADERS = ["CM-5", "Numerical Wind Tunnel", "XP/S140", "SR2201", "CP-PACS", "ASCI Red", "ASCI White",
                  "Earth Simulator", "BlueGene/L", "Roadrunner", "Jaguar", "Tianhe-1A", "K computer", "Sequoia",
                  "Titan", "Tianhe-2", "TaihuLight", "Summit", "Fugaku", "Frontier", "El Capitan"]


def test_every_top500_leader_is_in_the_table():
    t = hw.load_hardware()
    top = t.where(t["year"] >= 1993, kind="supercomputer")
    assert len(top) == len(TOP500_LEADERS)
    for name in TOP500_LEADERS:
        assert hw.device(name).kind == "supercomputer", name
    # top500.org: Hitachi SR2201/1024, June 1996, Rmax 232.4 GFLOP/s, Rpeak 1,024 x 300 MFLOP/s;
    # IBM Sequoia, June 2012, Rmax 16,324.8 TFLOP/s, Rpeak 20,132.7 TFLOP/s, 7,890 kW. Exact.
    sr2201, sequoia = hw.device("SR2201"), hw.device("Sequoia")
    assert (sr2201.year, sr2201.linpack_flops_per_s, sr2201.peak_flops_per_s) == (1996, 232.4e9, 1024 * 300e6)
    assert (sequoia.year, sequoia.linpack_flops_per_s, sequoia.power_w) == (2012, 16.3248e15, 7.89e6)
    assert sequoia.peak_flops_per_s == pytest.approx(98_304 * 16 * 1.6e9 * 8, rel=1e-5)


def test_tpu_v1_counts_int8_operations_and_stays_out_of_flop_fits():
    t = hw.load_hardware()
    v1 = hw.device("TPU v1")
    assert v1.flops_are_integer_ops and "int8" in v1.precision and "not FLOP" in v1.note
    assert [d for d in t["name"] if hw.device(d, t).flops_are_integer_ops] == ["Google TPU v1"]
    ax = hw.plot_hardware(trend_kind="accelerator").axes[0]
    floats = t.where(np.array([not p.startswith("int") for p in t["precision"]]), kind="accelerator")
    fit = hw.fit_trend(floats["year"], floats["peak_flops_per_s"])
    (line,) = ax.get_lines()
    assert np.allclose(line.get_ydata(), fit.predict(line.get_xdata()))      # TPU v1 left out of the fit
    hollow = [c for c in ax.collections if c.get_label() == hw._INTEGER_LABEL]
    assert len(hollow) == 1 and hollow[0].get_offsets().tolist() == [[2015, 92e12]]
    assert hollow[0].get_facecolors().size == 0 or hollow[0].get_facecolors()[0][3] == 0
    assert any(x.get_text() == "Google TPU v1 (int8 OPS)" for x in ax.texts)
    assert hw._INTEGER_LABEL in [x.get_text() for x in ax.get_legend().texts]


def test_alexnet_row_is_consistent_with_its_hardware():
    # models.csv: AlexNet 4.7e17 FLOP (Amodei & Hernandez 2018: 0.0054 petaflop/s-days x 8.64e19 FLOP each
    # = 4.67e17), 2 GTX 580 for 5.5 days ("five to six days", Krizhevsky et al. 2012) = 264 GPU-hours.
    # On two 1.581 TFLOP/s fp32 GPUs that work is 31 % of peak, near the 33 % "AI and Compute" assumes
    # when it estimates from GPU time. Tolerance 5 % (the 5.5 days is the middle of "five to six").
    from labkit.data import load
    row = next(r for r in load("models").rows() if r["model"] == "AlexNet")
    gtx580 = hw.device("GTX 580")
    assert row["device_hours"] == row["n_devices"] * row["training_days"] * 24 == 264
    assert row["training_flop"] == pytest.approx(0.0054 * 1e15 * 86_400, rel=0.01)
    utilization = row["training_flop"] / (row["n_devices"] * gtx580.peak_flops_per_s * row["training_days"] * u.DAY)
    assert utilization == pytest.approx(0.33, rel=0.07)


def test_chapter_modules_import_without_reading_the_csv():
    import subprocess
    import sys
    code = ("import sys, labkit.hardware, labkit.start_here; "
            "print('labkit.data' in sys.modules, 'matplotlib.pyplot' in sys.modules)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.split() == ["False", "False"]


def test_top500_leader_until():
    assert hw.top500_leader_until(10e9) is None            # below the CM-5/1024's 59.7 GFLOP/s
    assert hw.top500_leader_until(59.7e9) == 1993
    assert hw.top500_leader_until(150e9) == 1994           # beats XP/S140 (143.4), not CP-PACS (368.2)
    assert hw.top500_leader_until(1e19) == 2024
    with pytest.raises(ValueError, match="linpack_flops_per_s"):
        hw.top500_leader_until(0)
    with pytest.raises(TypeError, match="table"):
        hw.top500_leader_until(1e12, table={"year": [1993]})


def test_algorithms_dataset_is_cited():
    t = hw.load_algorithms()
    assert len(t) >= 15 and all(len(s) > 5 for s in t["source"]) and all(t["reference"])
    years = dict(zip(t["name"], t["year"]))
    assert years["Perceptron"] == 1958 and years["Backpropagation"] == 1986 and years["LSTM"] == 1997
    assert years["Transformer"] == 2017 and years["LeNet (CNN)"] == 1989 and years["CART decision trees"] == 1984


# --- doubling time ------------------------------------------------------------------------------
def test_fit_trend_predicts_and_tolerates_noise():
    rng = np.random.default_rng(1)
    years = np.linspace(1993, 2024, 40)
    values = 1e11 * 2 ** ((years - 1993) / 1.2) * 2 ** rng.normal(0, 0.3, years.size)
    fit = hw.fit_trend(years, values)
    assert fit.doubling_years == pytest.approx(1.2, rel=0.05)
    assert fit.factor_per_year == pytest.approx(2 ** (1 / fit.doubling_years))
    assert fit.predict(1993) == pytest.approx(1e11, rel=0.3)
    assert fit.predict(np.array([2000, 2001])).shape == (2,)


def test_top500_doubling_time():
    # Top500 #1, LINPACK: 59.7 GFLOP/s (June 1993) to 1.742 EFLOP/s (Nov 2024) -> two-point doubling
    # 31.4 / log2(2.92e7) = 1.26 years; the least-squares fit must agree within 10 %.
    t = hw.load_hardware()
    top = t.where(t["year"] >= 1993, kind="supercomputer")
    fit = hw.doubling_time(top["year"], top["linpack_flops_per_s"])
    two_point = 31.4 / np.log2(1.742e18 / 59.7e9)
    assert fit == pytest.approx(two_point, rel=0.10)


def test_compute_outgrew_bandwidth():
    t = hw.load_hardware()
    gpus = t.where(kind="gpu")
    assert hw.doubling_time(gpus["year"], gpus["peak_flops_per_s"]) < \
        hw.doubling_time(gpus["year"], gpus["bandwidth_bytes_per_s"])
    assert hw.device("8800 GTX").ridge_point < 10 < 200 < hw.device("H100 SXM").ridge_point


@pytest.mark.parametrize("years, values, error, text", [
    ([2000, 2001], [1, 2, 3], ValueError, "equal length"),
    ([2000], [1], ValueError, "two different years"),
    ([2000, 2000], [1, 2], ValueError, "two different years"),
    ([2000, 2001], [1, 0], ValueError, "values"),
    ([2000, float("nan")], [1, 2], ValueError, "years"),
    ("2000", [1], TypeError, "years"),
    ([2000, 2001], [3, 3], ValueError, "do not grow"),
])
def test_doubling_time_rejects_bad_input(years, values, error, text):
    with pytest.raises(error, match=text):
        hw.doubling_time(years, values)


# --- roofline -------------------------------------------------------------------------------------
def test_counting_flops_and_bytes():
    assert hw.matmul_flops(2, 3, 4) == 48
    assert hw.matmul_flops(4096, 4096, 4096) == 2 * 4096**3
    assert np.allclose(hw.matmul_flops(np.array([1, 2]), 3, 4), [24, 48])
    assert hw.matmul_bytes(2, 3, 4, bytes_per_element=2) == (8 + 12 + 6) * 2
    assert hw.elementwise_flops(1000, 5) == 5000
    assert hw.elementwise_bytes(1000, bytes_per_element=2) == 6000
    assert hw.arithmetic_intensity(hw.elementwise_flops(10), hw.elementwise_bytes(10)) == pytest.approx(1 / 6)
    # square bf16 matmul: 2n³ / (3n² × 2 B) = n / 3
    assert hw.arithmetic_intensity(hw.matmul_flops(3000, 3000, 3000), hw.matmul_bytes(3000, 3000, 3000)) == \
        pytest.approx(1000)


def test_ridge_points_the_chapter_quotes():
    # NVIDIA A100 datasheet: 312 TFLOP/s dense BF16 / 2,039 GB/s = 153.0 FLOP/byte; H100 SXM: 989.4 TFLOP/s
    # / 3.35 TB/s ≈ 295 FLOP/byte, the figure in "How to Scale Your Model" (Austin et al., GPU chapter).
    # Tolerance 0.5 %.
    for name, published in (("A100", 153), ("H100 SXM", 295)):
        d = hw.device(name)
        assert hw.ridge_point(d.peak_flops_per_s, d.bandwidth_bytes_per_s) == pytest.approx(published, rel=0.005)
    # an element-wise BF16 add (1/6 FLOP/B) is memory-bound on an H100, a 4096³ matmul compute-bound
    h100 = hw.device("H100 SXM")
    assert hw.bound(1 / 6, h100.peak_flops_per_s, h100.bandwidth_bytes_per_s) == "memory"
    assert hw.bound(hw.operation_intensity("matmul n×n×n", 4096), h100.peak_flops_per_s,
                    h100.bandwidth_bytes_per_s) == "compute"


def test_operation_intensity():
    assert hw.operation_intensity("matmul n×n×n", 3000) == pytest.approx(1000)       # n / 3 in bf16
    assert hw.operation_intensity("matmul n×n×n", 3000, 4) == pytest.approx(500)
    assert hw.operation_intensity("element-wise add (n² elements)", 10) == pytest.approx(1 / 6)
    assert hw.operation_intensity("matrix × vector (n×n)", 8192) == pytest.approx(1.0, rel=1e-3)
    with pytest.raises(ValueError, match="operation"):
        hw.operation_intensity("fft", 10)


def test_decode_attention_intensity_does_not_grow_with_the_batch():
    # Austin et al., "How to Scale Your Model", inference chapter: multi-head attention's intensity in bf16
    # is S·T/(S+T): ≈ 1 when decoding (T = 1, S ≫ 1) and T/2 in prefill (S = T); batch and head size
    # cancel, "so we're basically always memory bandwidth-bound during attention". Tolerance 0.1 %.
    batch = np.array([1, 8, 64, 512, 4096])
    decode = hw.attention_intensity(batch, 8192, 40, 40)
    assert np.allclose(decode, 8192 / 8193, rtol=1e-3) and np.ptp(decode) == 0
    assert hw.attention_intensity(16, 2048, 40, 40, n_new_tokens=2048) == pytest.approx(1024, rel=1e-3)
    # grouped-query attention (LLaMA-3 8B: 32 query heads, 8 KV heads) raises it by the group size, 4
    assert hw.attention_intensity(1, 8192, 32, 8) == pytest.approx(4, rel=1e-3)
    # ... still far below an H100's ridge (≈295) at any batch: attention stays memory-bound
    h100 = hw.device("H100 SXM")
    assert hw.bound(hw.attention_intensity(1e6, 8192, 64, 8), h100.peak_flops_per_s, h100.bandwidth_bytes_per_s) \
        == "memory"


def test_decode_weight_matmuls_reach_the_ridge_at_the_critical_batch():
    # Same chapter: with bf16 weights and activations a decode matmul's intensity is ≈ B (for B ≪ d), so it
    # turns compute-bound past B = peak/bandwidth: 240 on a TPU v5e (1.97e14 FLOP/s / 8.2e11 B/s). 1 %.
    assert hw.weight_matmul_intensity(240, 1e6, 1e6) == pytest.approx(240, rel=0.01)
    assert 1.97e14 / 8.2e11 == pytest.approx(240, rel=0.01)
    b = np.array([1, 16, 256])
    assert np.all(np.diff(hw.weight_matmul_intensity(b, 8192, 8192)) > 0)
    h100 = hw.device("H100 SXM")
    assert hw.bound(hw.weight_matmul_intensity(1, 8192, 8192), h100.peak_flops_per_s, h100.bandwidth_bytes_per_s) \
        == "memory"
    assert hw.bound(hw.weight_matmul_intensity(512, 8192, 8192), h100.peak_flops_per_s,
                    h100.bandwidth_bytes_per_s) == "compute"


def test_plot_decode_intensity_draws_both_operations_and_the_ridges():
    h100 = hw.device("H100 SXM")
    ax = hw.plot_decode_intensity(machines=[("H100", h100.peak_flops_per_s, h100.bandwidth_bytes_per_s)]).axes[0]
    matmul, attention, ridge = ax.get_lines()
    assert np.all(np.diff(matmul.get_ydata()) > 0) and np.ptp(attention.get_ydata()) == 0
    assert ridge.get_ydata()[0] == pytest.approx(h100.ridge_point)
    assert attention.get_ydata()[0] == pytest.approx(hw.attention_intensity(1, 8192, 64, 8))
    with pytest.raises(ValueError, match="batch_sizes"):
        hw.plot_decode_intensity(batch_sizes=(10, 1))


@pytest.mark.parametrize("call, error, text", [
    (lambda: hw.matmul_flops(0, 2, 2), ValueError, "m"),
    (lambda: hw.matmul_flops(2, "3", 2), TypeError, "n"),
    (lambda: hw.matmul_bytes(2, 2, 2, bytes_per_element=0), ValueError, "bytes_per_element"),
    (lambda: hw.elementwise_bytes(10, n_outputs=0), ValueError, "n_outputs"),
    (lambda: hw.arithmetic_intensity(10, 0), ValueError, "nbytes"),
    (lambda: hw.arithmetic_intensity(-1, 10), ValueError, "flops"),
    (lambda: hw.arithmetic_intensity(1e308, 1e-10), ValueError, "flops"),
    (lambda: hw.matmul_flops(1e300, 1e300, 1e300), ValueError, "m"),
    (lambda: hw.operation_intensity("matmul n×n×n", 1e300), ValueError, "n"),
    (lambda: hw.roofline(-1, 1e9, 1), ValueError, "peak_flops_per_s"),
    (lambda: hw.roofline(1e12, None, 1), TypeError, "bandwidth_bytes_per_s"),
    (lambda: hw.roofline(1e12, 1e9, [1, float("nan")]), ValueError, "intensity"),
    (lambda: hw.ridge_point(1e12, 0), ValueError, "bandwidth_bytes_per_s"),
    (lambda: hw.bound(-1, 1e12, 1e9), ValueError, "intensity"),
    (lambda: hw.roofline_time(1, 1, 0, 1), ValueError, "peak_flops_per_s"),
    (lambda: hw.attention_intensity(1, 100, 8, 16), ValueError, "n_kv_heads"),
    (lambda: hw.attention_intensity(0, 100, 8, 8), ValueError, "batch_size"),
    (lambda: hw.weight_matmul_intensity(1, 0, 10), ValueError, "d_in"),
])
def test_roofline_rejects_bad_input(call, error, text):
    with pytest.raises(error, match=text):
        call()


# --- time to train --------------------------------------------------------------------------------
def test_the_chapters_time_to_train_scenarios():
    # GPT-3: 3.14e23 FLOP (Brown et al. 2020, Table D.1). On 10,000 V100s (125 TFLOP/s FP16, from
    # hardware.csv) at the 21.3 % MFU PaLM's Table 3 gives for GPT-3: 13.6 days; Patterson et al. 2021
    # (Table 4) report 14.8 days. Tolerance 10 %.
    v100 = hw.device("V100")
    days = hw.training_time(hw.published_run("GPT-3").total_flops, 10_000, v100.peak_flops_per_s, 0.213) / u.DAY
    assert days == pytest.approx(14.8, rel=0.10)
    # On the CM-5/1024 at its LINPACK Rmax (59.7 GFLOP/s): 3.14e23 / 59.7e9 s = 166,700 years (exact).
    years = hw.training_time(hw.published_run("GPT-3").total_flops, 1, hw.device("CM-5").linpack_flops_per_s) / u.YEAR
    assert years == pytest.approx(1.667e5, rel=1e-3)


# --- plots and the explorer --------------------------------------------------------------------------
def test_plot_hardware_draws_every_row_the_fit_and_the_measurement():
    t = hw.load_hardware()
    m = hw.measure_matmul_flops(n=64, repeats=1)
    ax = hw.plot_hardware(measured=m, measured_year=2025).axes[0]
    points = np.vstack([c.get_offsets() for c in ax.collections])
    assert len(points) == len(t) + 1                                     # every row, and the star
    assert [2025, m.value] in points.tolist()
    legend = [x.get_text() for x in ax.get_legend().texts]
    assert f"your machine: {u.fmt_flop_rate(m.value)}" in legend
    top = t.where(kind="supercomputer")
    fit = hw.fit_trend(top["year"], top["peak_flops_per_s"])
    assert f"fit: doubles every {fit.doubling_years:.2f} years" in legend
    (line,) = ax.get_lines()
    assert np.allclose(line.get_ydata(), fit.predict(line.get_xdata()))
    assert ax.get_yscale() == "log" and not ax.yaxis.get_minor_locator()()  # major ticks only
    assert not hw.plot_hardware(trend_kind="none").axes[0].get_lines()


def test_plot_ridge_history_plots_peak_over_bandwidth():
    t = hw.load_hardware()
    known = t.where(~np.isnan(t["bandwidth_bytes_per_s"]))
    ax = hw.plot_ridge_history().axes[0]
    points = np.vstack([c.get_offsets() for c in ax.collections])
    assert len(points) == len(known)
    assert sorted(points[:, 1]) == pytest.approx(sorted(known["peak_flops_per_s"] / known["bandwidth_bytes_per_s"]))


def test_plot_roofline_draws_each_roof_and_places_each_operation():
    machines = [("A100", 312e12, 2.039e12), ("CPU", 1e12, 1e11)]
    ax = hw.plot_roofline(machines=machines, operations=[("add", 1 / 6), ("matmul", 1000)]).axes[0]
    roofs = [line for line in ax.get_lines() if line.get_label() in ("A100: ridge 153 FLOP/B", "CPU: ridge 10 FLOP/B")]
    assert len(roofs) == 2
    for line, (_, peak, bw) in zip(roofs, machines):
        assert np.allclose(line.get_ydata(), np.minimum(peak, bw * line.get_xdata()))
    placed = np.vstack([c.get_offsets() for c in ax.collections])
    assert placed.tolist() == [[1 / 6, 2.039e12 / 6], [1 / 6, 1e11 / 6], [1000, 312e12], [1000, 1e12]]


def test_plot_algorithms_labels_every_idea():
    t = hw.load_algorithms()
    ax = hw.plot_algorithms().axes[0]
    assert sorted(x.get_text() for x in ax.texts) == sorted(f" {n} ({int(y)})" for n, y in zip(t["name"], t["year"]))


def test_plots_draw_into_a_given_axes():
    import matplotlib.pyplot as plt
    fig, (a, b) = plt.subplots(1, 2)
    assert hw.plot_hardware(a) is fig and hw.plot_ridge_history(b) is fig
    assert a.collections and b.collections and len(fig.axes) == 2


@pytest.mark.parametrize("call, error, text", [
    (lambda: hw.plot_hardware(trend_kind="phone"), ValueError, "trend_kind"),
    (lambda: hw.plot_hardware(measured=-5), ValueError, "measured"),
    (lambda: hw.plot_hardware(measured_year="2025"), TypeError, "measured_year"),
    (lambda: hw.plot_hardware(ax="left"), TypeError, "ax"),
    (lambda: hw.plot_hardware(table=[1, 2]), TypeError, "table"),
    (lambda: hw.plot_hardware(label="Cray-1"), TypeError, "label"),
    (lambda: hw.plot_roofline(machines=[("A100", 0, 1e12)]), ValueError, "machines"),
    (lambda: hw.plot_roofline(operations=[1.0]), TypeError, "operations"),
    (lambda: hw.plot_roofline(intensity_range=(10, 1)), ValueError, "intensity_range"),
    (lambda: hw.plot_algorithms(hardware=hw.load_algorithms()), ValueError, "hardware has no column"),
])
def test_plots_reject_bad_input(call, error, text):
    with pytest.raises(error, match=text):
        call()


def test_roofline_explorer_reads_out_the_roofline():
    ex = hw.roofline_explorer()
    a100 = hw.device("A100")
    assert ex.values["peak_flops_per_s"] == a100.peak_flops_per_s       # defaults: the A100's row
    assert ex.values["bandwidth_bytes_per_s"] == a100.bandwidth_bytes_per_s
    assert "compute-bound" in ex.readout  # n=1024 bf16 matmul on an A100: intensity 341 > ridge 153
    ex.update(operation="element-wise add (n² elements)")
    assert "memory-bound" in ex.readout
    ex.update(operation="matmul n×n×n", n=64, precision="fp32 (4 B)")
    assert "memory-bound" in ex.readout  # intensity 2·64/(3·4) ≈ 10.7 < 153
    (x,), (y,) = ex.handles["point"].get_data()
    assert x == pytest.approx(64 / 6) and y == pytest.approx(hw.roofline(312e12, 2.039e12, 64 / 6))
    assert ex.handles["point"].get_color() == "C3"


def _pixels(figure):
    figure.canvas.draw()
    return np.asarray(figure.canvas.buffer_rgba()).copy()


def test_roofline_explorer_moves_only_its_lines():
    ex = hw.roofline_explorer()
    ax = ex.figure.axes[0]
    ex.update(peak_flops_per_s=1e16, bandwidth_bytes_per_s=1e9, n=65536, precision="fp8 (1 B)")
    assert ex.figure.axes == [ax]  # the same axes, fixed limits covering every slider
    assert ax.get_xlim() == hw._EXPLORER_X and ax.get_ylim() == hw._EXPLORER_Y
    (x,), (y,) = ex.handles["point"].get_data()
    assert hw._EXPLORER_X[0] < x < hw._EXPLORER_X[1] and hw._EXPLORER_Y[0] < y < hw._EXPLORER_Y[1]
    assert ex.handles["title"].get_text() == "matmul n×n×n, n = 65,536, fp8 (1 B)"


def test_roofline_explorer_frame_matches_a_full_drawing():
    # The explorer pastes a frozen background and draws only its handles; a fresh figure, built and
    # updated with the same values and drawn in full without freezing, must look the same.
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    from labkit.core.plotting import lean_figure
    values = dict(n=64, operation="element-wise add (n² elements)", peak_flops_per_s=1e15)
    ex = hw.roofline_explorer()
    ex.update(n=8192, precision="fp8 (1 B)")  # an earlier move must leave nothing behind
    ex.update(**values)
    pasted = _pixels(ex.figure)
    fig = Figure(figsize=ex.figure.get_size_inches(), dpi=ex.figure.dpi)
    FigureCanvasAgg(fig)
    handles = hw._build_roofline(fig)
    hw._update_roofline(handles, **ex.values)
    lean_figure(fig)
    full = _pixels(fig)
    assert pasted.shape == full.shape
    # Only where a moving line crosses the frame's spines or key do the two differ (lines on top).
    assert (pasted != full).any(axis=-1).mean() < 0.01


def test_roofline_explorer_saves_at_another_dpi():
    import io
    from matplotlib.image import imread
    ex = hw.roofline_explorer()
    buffer = io.BytesIO()
    ex.figure.savefig(buffer, format="png", dpi=160)  # not the frozen picture's size: the frame draws itself
    buffer.seek(0)
    image = imread(buffer)
    assert image.shape[:2] == (round(4.2 * 160), round(7.5 * 160))
    assert (image[..., :3] < 0.5).all(axis=-1).mean() > 0.008  # dark pixels (0.017 with, 0.003 without): frame, ticks and labels
    before = _pixels(ex.figure)
    ex.update(n=512)
    assert (_pixels(ex.figure) != before).any()  # back at the explorer's size, still live


@pytest.mark.parametrize("kwargs", [{"peak_flops_per_s": 0}, {"peak_flops_per_s": 1e20},
                                    {"bandwidth_bytes_per_s": True}, {"operation": "fft"}, {"precision": "fp4"},
                                    {"n": 2}])
def test_roofline_explorer_rejects_bad_input(kwargs):
    with pytest.raises((ValueError, TypeError), match=next(iter(kwargs))):
        hw.roofline_explorer(**kwargs)
