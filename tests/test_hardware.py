"""labkit.hardware (chapter 01): measurements, datasets, doubling time, roofline, time to train, plots."""

import time

import numpy as np
import pytest

import labkit.hardware as hw
from labkit import units as u


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
def test_measurements_return_median_of_samples(measure, kwargs, unit):
    start = time.perf_counter()
    m = measure(**kwargs)
    assert time.perf_counter() - start < 3.0  # the limit per measurement
    assert m.unit == unit and m.value > 0 and float(m) == m.value
    assert 1 <= len(m.samples) <= kwargs["repeats"]
    assert m.value == pytest.approx(np.median(m.samples))
    assert m.spread >= 0 and m.seconds > 0 and m.counted
    assert unit.split("/")[0] in str(m) and "median" in repr(m)


def test_default_measurements_stay_under_three_seconds():
    for measure in (hw.measure_matmul_flops, hw.measure_python_flops, hw.measure_memory_bandwidth):
        start = time.perf_counter()
        measure()
        assert time.perf_counter() - start < 3.0, measure.__name__


def test_blas_beats_python_loops_by_orders_of_magnitude():
    blas = hw.measure_matmul_flops(n=256, repeats=3)
    python = hw.measure_python_flops(n=32, repeats=2)
    assert blas.value > 10 * python.value


def test_matmul_counts_two_n_cubed():
    m = hw.measure_matmul_flops(n=128, repeats=2)
    assert m.size == 128 and "2·n³" in m.counted
    m = hw.measure_memory_bandwidth(nbytes=1 << 20, repeats=2)
    assert m.size == 1 << 20 and "read + write" in m.counted


@pytest.mark.parametrize("call, error, text", [
    (lambda: hw.measure_matmul_flops(n=0), ValueError, "n"),
    (lambda: hw.measure_matmul_flops(n=10.5), TypeError, "n"),
    (lambda: hw.measure_matmul_flops(repeats=0), ValueError, "repeats"),
    (lambda: hw.measure_matmul_flops(dtype="int8"), ValueError, "dtype"),
    (lambda: hw.measure_matmul_flops(max_seconds=-1), ValueError, "max_seconds"),
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
    cm5 = hw.machine("CM-5")
    assert (cm5.year, cm5.linpack_flops_per_s, cm5.peak_flops_per_s) == (1993, 59.7e9, 131e9)
    # NVIDIA A100 datasheet: 312 TFLOP/s dense BF16, 2,039 GB/s, 400 W (exact)
    a100 = hw.machine("A100")
    assert (a100.peak_flops_per_s, a100.bandwidth_bytes_per_s, a100.power_w) == (312e12, 2.039e12, 400)
    assert hw.machine("El Capitan").linpack_flops_per_s == 1.742e18


def test_memory_capacity_and_derived_constants():
    # Vendor datasheets (datasets/README.md): HBM capacity in SI bytes (exact).
    for name, gb in (("V100", 32), ("A100", 80), ("H100 SXM", 80), ("H200", 141), ("B200", 192)):
        assert hw.machine(name).memory_bytes == gb * u.GB, name
    assert np.isnan(hw.machine("Frontier").memory_bytes)  # empty cell -> NaN
    assert hw.datasheet("H100 SXM").peak_flops_per_s == hw.machine("H100 SXM").peak_flops_per_s
    # The other chapters' datasheet constants are these rows, not copies.
    import labkit.energy as en
    import labkit.scaling as sc
    import labkit.utilization as ut
    h100 = hw.machine("H100 SXM")
    assert sc.ACCELERATORS["H100 80GB"].memory_bytes == h100.memory_bytes
    assert sc.accelerator("B200 192GB").peak_flops_per_s == hw.machine("B200").peak_flops_per_s
    assert en.GPUS["H100"] == {"peak_flops_per_s": h100.peak_flops_per_s,
                               "bandwidth_bytes_per_s": h100.bandwidth_bytes_per_s, "tdp_w": h100.power_w}
    assert (ut.H100_PEAK_FLOPS, ut.H100_HBM_BANDWIDTH) == (h100.peak_flops_per_s, h100.bandwidth_bytes_per_s)
    assert ut.TPU_V4_PEAK_FLOPS == hw.machine("TPU v4").peak_flops_per_s
    with pytest.raises(AttributeError):
        ut.H300_PEAK_FLOPS


def test_chapter_modules_import_without_reading_the_csv():
    import subprocess
    import sys
    code = ("import sys, labkit.scaling, labkit.energy, labkit.utilization; "
            "print('labkit.data' in sys.modules, 'labkit.hardware' in sys.modules)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.split() == ["False", "False"]


def test_top500_leader_until():
    assert hw.top500_leader_until(10e9) is None            # below the CM-5/1024's 59.7 GFLOP/s
    assert hw.top500_leader_until(59.7e9) == 1993
    assert hw.top500_leader_until(150e9) == 1994           # beats XP/S140 (143.4), not CP-PACS (368.2)
    assert hw.top500_leader_until(1e19) == 2024
    with pytest.raises(ValueError, match="flop_per_s"):
        hw.top500_leader_until(0)


def test_algorithms_dataset_is_cited():
    t = hw.load_algorithms()
    assert len(t) >= 15 and all(len(s) > 5 for s in t["source"]) and all(t["reference"])
    years = dict(zip(t["name"], t["year"]))
    assert years["Perceptron"] == 1958 and years["Backpropagation"] == 1986 and years["LSTM"] == 1997
    assert years["Transformer"] == 2017 and years["LeNet (CNN)"] == 1989 and years["CART decision trees"] == 1984


def test_machine_lookup():
    assert hw.machine("nvidia h100 sxm").name == "NVIDIA H100 SXM"
    assert hw.machine("Frontier").kind == "supercomputer"
    with pytest.raises(ValueError, match="choose one of"):
        hw.machine("NVIDIA")  # ambiguous
    with pytest.raises(ValueError, match="no machine"):
        hw.machine("ENIAC")
    with pytest.raises(TypeError, match="name"):
        hw.machine(100)


# --- doubling time ------------------------------------------------------------------------------
def test_doubling_time_recovers_an_exact_exponential():
    years = np.arange(1990, 2021)
    assert hw.doubling_time(years, 5e9 * 2 ** ((years - 1990) / 1.5)) == pytest.approx(1.5, rel=1e-9)
    assert hw.doubling_time([2000, 2010], [1, 1024]) == pytest.approx(1.0)
    assert hw.doubling_time([2000, 2004], [8, 2]) == pytest.approx(-2.0)  # halving: negative


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
    assert hw.machine("8800 GTX").ridge_point < 10 < 200 < hw.machine("H100 SXM").ridge_point


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


def test_roofline_is_min_of_peak_and_bandwidth_times_intensity():
    assert hw.roofline(100.0, 10.0, 2.0) == 20.0
    assert hw.roofline(100.0, 10.0, 50.0) == 100.0
    x = np.logspace(-2, 4, 50)
    y = hw.roofline(312e12, 2.039e12, x)
    assert y.shape == x.shape and np.all(np.diff(y) >= 0) and y.max() == 312e12
    assert isinstance(hw.roofline(1e12, 1e11, 3.0), float)


def test_ridge_points_match_published_figures():
    # NVIDIA A100 datasheet: 312 TFLOP/s dense BF16 / 2,039 GB/s = 153.0 FLOP/byte (tolerance 0.5 %)
    assert hw.ridge_point(312e12, 2.039e12) == pytest.approx(153, rel=0.005)
    # H100 SXM: 989 TFLOP/s dense BF16 / 3.35 TB/s ≈ 295 FLOP/byte, the figure in "How to Scale Your
    # Model" (Austin et al., GPU chapter) (tolerance 0.5 %)
    h100 = hw.machine("H100 SXM")
    assert hw.ridge_point(h100.peak_flops_per_s, h100.bandwidth_bytes_per_s) == pytest.approx(295, rel=0.005)


def test_bound_and_time():
    assert hw.bound(1 / 6, 989e12, 3.35e12) == "memory"
    assert hw.bound(1000, 989e12, 3.35e12) == "compute"
    assert hw.roofline_time(1e12, 1e9, 1e12, 1e12) == pytest.approx(1.0)     # compute-bound
    assert hw.roofline_time(1e6, 1e12, 1e12, 1e11) == pytest.approx(10.0)    # memory-bound
    assert hw.roofline_time(np.array([1e12, 2e12]), 1.0, 1e12, 1e12).shape == (2,)


def test_operation_intensity():
    assert hw.operation_intensity("matmul n×n×n", 3000) == pytest.approx(1000)       # n / 3 in bf16
    assert hw.operation_intensity("matmul n×n×n", 3000, 4) == pytest.approx(500)
    assert hw.operation_intensity("element-wise add (n² elements)", 10) == pytest.approx(1 / 6)
    assert hw.operation_intensity("matrix × vector (n×n)", 8192) == pytest.approx(1.0, rel=1e-3)
    with pytest.raises(ValueError, match="operation"):
        hw.operation_intensity("fft", 10)


@pytest.mark.parametrize("call, error, text", [
    (lambda: hw.matmul_flops(0, 2, 2), ValueError, "m"),
    (lambda: hw.matmul_flops(2, "3", 2), TypeError, "n"),
    (lambda: hw.matmul_bytes(2, 2, 2, bytes_per_element=0), ValueError, "bytes_per_element"),
    (lambda: hw.elementwise_bytes(10, n_outputs=0), ValueError, "n_outputs"),
    (lambda: hw.arithmetic_intensity(10, 0), ValueError, "nbytes"),
    (lambda: hw.arithmetic_intensity(-1, 10), ValueError, "flops"),
    (lambda: hw.roofline(-1, 1e9, 1), ValueError, "peak_flops"),
    (lambda: hw.roofline(1e12, None, 1), TypeError, "bandwidth"),
    (lambda: hw.roofline(1e12, 1e9, [1, float("nan")]), ValueError, "intensity"),
    (lambda: hw.ridge_point(1e12, 0), ValueError, "bandwidth"),
    (lambda: hw.bound(-1, 1e12, 1e9), ValueError, "intensity"),
    (lambda: hw.roofline_time(1, 1, 0, 1), ValueError, "peak_flops"),
])
def test_roofline_rejects_bad_input(call, error, text):
    with pytest.raises(error, match=text):
        call()


# --- time to train --------------------------------------------------------------------------------
def test_time_to_train_gpt3_on_v100s():
    # GPT-3: 3.14e23 FLOP (Brown et al. 2020, Table D.1) on 10,000 V100s (125 TFLOP/s FP16) at the
    # 21.3 % MFU that PaLM's Table 3 (Chowdhery et al. 2022) gives for GPT-3 -> 13.6 days; Patterson
    # et al. 2021 (Table 4) report 14.8 days of training. Tolerance 10 %.
    days = hw.time_to_train(hw.GPT3_TRAINING_FLOP, 125e12, utilization=0.213, n_devices=10_000) / u.DAY
    assert days == pytest.approx(14.8, rel=0.10)


def test_time_to_train_is_work_over_rate():
    assert hw.time_to_train(1e12, 1e9) == pytest.approx(1000)
    assert hw.time_to_train(1e12, 1e9, utilization=0.5, n_devices=4) == pytest.approx(500)
    assert hw.time_to_train(0, 1e9) == 0
    years = hw.time_to_train(hw.GPT3_TRAINING_FLOP, hw.machine("CM-5").linpack_flops_per_s) / u.YEAR
    assert years == pytest.approx(1.667e5, rel=1e-3)
    assert hw.time_to_train(np.array([1e12, 2e12]), 1e9).shape == (2,)


@pytest.mark.parametrize("kwargs, error, text", [
    ({"utilization": 40}, ValueError, "0.4"),
    ({"utilization": 0}, ValueError, "utilization"),
    ({"n_devices": 0}, ValueError, "n_devices"),
    ({"flop_per_s": 0}, ValueError, "flop_per_s"),
    ({"total_flop": -1}, ValueError, "total_flop"),
    ({"total_flop": "lots"}, TypeError, "total_flop"),
])
def test_time_to_train_rejects_bad_input(kwargs, error, text):
    args = {"total_flop": 1e20, "flop_per_s": 1e12, **kwargs}
    with pytest.raises(error, match=text):
        hw.time_to_train(**args)


# --- plots and the explorer --------------------------------------------------------------------------
def test_plots_return_figures():
    m = hw.measure_matmul_flops(n=64, repeats=1)
    fig = hw.plot_hardware(measured=m, measured_year=2025)
    ax = fig.axes[0]
    assert ax.get_yscale() == "log" and any("your machine" in t.get_text() for t in ax.get_legend().texts)
    assert any("doubles every" in t.get_text() for t in ax.get_legend().texts)
    assert hw.plot_hardware(trend_kind=None).axes
    assert hw.plot_ridge_history().axes[0].get_yscale() == "log"
    fig = hw.plot_roofline(machines=[("A100", 312e12, 2.039e12), ("CPU", 1e12, 1e11)],
                           operations=[("add", 1 / 6), ("matmul", 1000)])
    assert len(fig.axes[0].get_legend().texts) == 2
    assert len(hw.plot_algorithms().axes[0].texts) == len(hw.load_algorithms())


def test_plots_draw_into_a_given_axes():
    import matplotlib.pyplot as plt
    fig, (a, b) = plt.subplots(1, 2)
    assert hw.plot_hardware(a) is fig and hw.plot_ridge_history(b) is fig


def test_plots_reject_bad_input():
    with pytest.raises(ValueError, match="trend_kind"):
        hw.plot_hardware(trend_kind="phone")
    with pytest.raises(ValueError, match="measured"):
        hw.plot_hardware(measured=-5)


def test_roofline_explorer_updates_quickly():
    ex = hw.roofline_explorer()
    assert "compute-bound" in ex.readout  # n=1024 bf16 matmul on an A100: intensity 341 > ridge 153
    times = [ex.update(n=n) for n in (64, 256, 1024, 2048, 4096)]
    ex.update(operation="element-wise add (n² elements)")
    assert "memory-bound" in ex.readout
    ex.update(operation="matmul n×n×n", n=64, precision="fp32 (4 B)")
    assert "memory-bound" in ex.readout  # intensity 2·64/(3·4) ≈ 10.7 < 153
    assert min(times) < 1.0  # budget 100 ms (measured ~25 ms CPU); loose: test machines are shared


def _pixels(figure):
    import numpy as np
    figure.canvas.draw()
    return np.asarray(figure.canvas.buffer_rgba()).copy()


def test_roofline_explorer_moves_only_its_lines():
    ex = hw.roofline_explorer()
    ax = ex.figure.axes[0]
    ex.update(peak_flops=1e16, bandwidth=1e9, n=65536, precision="fp8 (1 B)")
    assert ex.figure.axes == [ax]  # retained: the same axes, fixed limits covering every slider
    assert ax.get_xlim() == hw._EXPLORER_X and ax.get_ylim() == hw._EXPLORER_Y
    parts = ex.figure._labkit
    (x,), (y,) = parts["point"].get_data()
    assert hw._EXPLORER_X[0] < x < hw._EXPLORER_X[1] and hw._EXPLORER_Y[0] < y < hw._EXPLORER_Y[1]
    assert parts["title"].get_text() == "matmul n×n×n, n = 65,536, fp8 (1 B)"


def test_roofline_explorer_frozen_background_matches_a_full_drawing(monkeypatch):
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    import labkit.explore
    values = dict(n=64, operation="element-wise add (n² elements)", peak_flops=1e15)
    ex = hw.roofline_explorer()
    ex.update(**values)
    pasted = _pixels(ex.figure)
    monkeypatch.setattr(labkit.explore, "freeze_background", lambda fig, moving: None)
    fig = Figure(figsize=ex.figure.get_size_inches(), dpi=ex.figure.dpi)
    FigureCanvasAgg(fig)
    hw.draw_roofline(fig, **{**ex.values, **values})
    full = _pixels(fig)
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


@pytest.mark.parametrize("kwargs", [{"peak_flops": 0}, {"operation": "fft"}, {"precision": "fp4"}, {"n": 2}])
def test_roofline_explorer_rejects_bad_input(kwargs):
    with pytest.raises((ValueError, TypeError)):
        hw.roofline_explorer(**kwargs)
