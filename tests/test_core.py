"""labkit.core: devices, roofline, timeline, trend and plotting — each checked against published
figures where it models one (tolerances stated), and for clear errors on bad input."""

import numpy as np
import pytest

from labkit.core import devices, published, roofline, timeline, trend
from labkit.core.plotting import log_axis, new_axes, no_minor_ticks

FUZZ_EXAMPLES = {
    "name": "H100",
    "published_run.name": "GPT-3",
    "years": [2000.0, 2005.0, 2010.0],
    "values": [1e9, 3e10, 1e12],
    "busy_s": 10.0, "idle_s": 5.0, "n_cycles": 3,
    "fig": lambda: __import__("matplotlib.figure", fromlist=["Figure"]).Figure(),
    "log_axis.ax": lambda: __import__("matplotlib.figure", fromlist=["Figure"]).Figure().add_subplot(),
    "value": 1.0, "min": 0.1, "max": 10.0,
    "dropdown.value": "x", "options": ["x", "y"],
    "int_slider.value": 5, "int_slider.min": 1, "int_slider.max": 10,
    "styled.function": lambda: (lambda: None),
    "seconds": 3.0e6,                        # utilization_from_run: GPT-3 on 1,024 H100s at ~10 % of peak
}


# --- devices ----------------------------------------------------------------------------------
def test_h100_datasheet_row():
    # NVIDIA H100 SXM datasheet: 989.4 TFLOP/s dense BF16, 3.35 TB/s HBM3, 80 GB, 700 W (exact).
    h100 = devices.datasheet("H100")
    assert (h100.peak_flops_per_s, h100.bandwidth_bytes_per_s, h100.memory_bytes, h100.power_w) == \
        (989.4e12, 3.35e12, 80e9, 700)
    assert h100.short_name == "H100 SXM" and h100.precision == "bf16"
    assert devices.datasheet("h100 sxm") is devices.datasheet("H100 SXM")  # cached per row


def test_training_gpus_resolve_to_one_row_each():
    gpus = devices.training_gpus()
    assert list(gpus) == ["V100 SXM2", "A100 SXM 80GB", "H100 SXM", "H200 SXM", "B200"]
    assert all(d.kind == "gpu" and d.memory_bytes > 0 for d in gpus.values())


def test_unknown_figures_are_none_not_nan():
    cray = devices.device("Cray-1")
    assert cray.memory_bytes is None
    tpu = devices.datasheet("TPU v1")
    assert tpu.flops_are_integer_ops


@pytest.mark.parametrize("name, text", [("NVIDIA", "devices in hardware.csv match"), ("Zuse Z3", "no device"),
                                        ("", "name")])
def test_device_lookup_errors_name_the_choices(name, text):
    with pytest.raises((ValueError, TypeError), match=text):
        devices.datasheet(name)


# --- published runs ---------------------------------------------------------------------------
def test_gpt3_published_run():
    # Brown et al. 2020, Table D.1: 3.14e23 FLOP, 175B parameters, 300B tokens; Patterson et al. 2021,
    # Table 4: 10,000 V100s for 14.8 days (exact, as printed).
    gpt3 = published.published_run("GPT-3")
    assert (gpt3.total_flops, gpt3.n_params, gpt3.n_tokens, gpt3.n_devices) == (3.14e23, 175e9, 300e9, 10_000)
    assert gpt3.seconds == pytest.approx(14.8 * 86400) and gpt3.hardware == "V100"
    assert published.published_run("gpt-3") is gpt3
    with pytest.raises(ValueError, match="no model named"):
        published.published_run("GPT-5")


# --- roofline ---------------------------------------------------------------------------------
def test_ridge_points_match_datasheets():
    # A100 SXM: 312 TFLOP/s over 2,039 GB/s ≈ 153 FLOP/B; H100 SXM: 989 over 3,350 ≈ 295 (±0.5 %).
    assert roofline.ridge_point(312e12, 2.039e12) == pytest.approx(153, rel=0.005)
    h100 = devices.datasheet("H100")
    assert h100.ridge_point == pytest.approx(295, rel=0.005)
    assert roofline.ridge_point(h100.peak_flops_per_s, h100.bandwidth_bytes_per_s) == h100.ridge_point


def test_roofline_and_time_agree():
    assert roofline.roofline(1e12, 1e11, [1.0, 100.0]).tolist() == [1e11, 1e12]
    assert roofline.roofline_time(1e12, 1e9, 1e12, 1e12) == pytest.approx(1.0)      # compute-bound
    assert roofline.roofline_time(1e6, 1e12, 1e12, 1e11) == pytest.approx(10.0)     # memory-bound
    assert roofline.bound(10.0, 1e12, 1e11) == "compute" and roofline.bound(1.0, 1e12, 1e11) == "memory"


def test_decode_step_reads_the_weights_once():
    # Llama-2-7B-size decode at batch 1 on an H100: 14 GB of BF16 weights / 3.35 TB/s ≈ 4.2 ms.
    h100 = devices.datasheet("H100")
    t = roofline.decode_step_time(1, 7e9, h100.peak_flops_per_s, h100.bandwidth_bytes_per_s)
    assert t == pytest.approx(14e9 / 3.35e12)
    # batch 256 with a 1k-token KV cache each (0.52 GB): memory-bound on the cache, not the weights
    t256 = roofline.decode_step_time(256, 7e9, h100.peak_flops_per_s, h100.bandwidth_bytes_per_s,
                                     kv_bytes_per_sequence=5.2e8)
    assert t256 == pytest.approx((14e9 + 256 * 5.2e8) / 3.35e12)


def test_training_time_gpt3_on_v100s():
    # Patterson et al. 2021: GPT-3 took 14.8 days on 10,000 V100s; 3.14e23 FLOP at 125 TFLOP/s needs
    # ~21 % utilization to match (PaLM's paper reports 21.3 % for GPT-3): within 1 %.
    days = roofline.training_time(3.14e23, 10_000, 125e12, 0.213) / 86400
    assert days == pytest.approx(13.6, rel=0.01)
    assert roofline.utilization_from_run(3.14e23, 10_000, 125e12, 14.8 * 86400) == pytest.approx(0.196, rel=0.01)


def test_utilization_above_peak_is_refused():
    with pytest.raises(ValueError, match="peak"):
        roofline.utilization_from_run(3.14e23, 10_000, 125e12, 3600)


# --- timeline ---------------------------------------------------------------------------------
def test_busy_idle_timeline_from_busy_intervals():
    tl = timeline.Timeline.from_busy([1.0, 2.0, 5.0], [2.0, 3.0, 6.0], makespan=8.0)
    assert tl.start.tolist() == [0, 1, 3, 5, 6] and tl.end.tolist() == [1, 3, 5, 6, 8]
    assert tl.names.tolist() == ["idle", "busy", "idle", "busy", "idle"]
    assert (tl.busy_time, tl.idle_time, tl.utilization) == (3.0, 5.0, 3 / 8)


def test_fault_timeline_goodput_counts_only_kept_work():
    tl = timeline.Timeline([0, 10, 12, 17], [10, 12, 17, 20], [0, 1, 2, 3], timeline.FAULT_STATES)
    assert tl.totals() == {"compute": 10, "checkpoint": 2, "lost": 5, "restart": 3}
    assert tl.utilization == pytest.approx(15 / 20)      # lost work burned power
    assert tl.goodput == pytest.approx(10 / 20)          # but was not kept
    assert tl.window(5, 15).totals() == {"compute": 5, "checkpoint": 2, "lost": 3, "restart": 0}


def test_stepped_timeline():
    tl = timeline.stepped(10.0, 5.0, 3, utilization_busy=0.5)
    assert len(tl) == 6 and tl.makespan == 45 and tl.busy_time == pytest.approx(15.0)


@pytest.mark.parametrize("make, text", [
    (lambda: timeline.Timeline([0, 1], [1, 0.5], [0, 1]), "end"),
    (lambda: timeline.Timeline([0, 0.5], [1, 2], [0, 1]), "overlap"),
    (lambda: timeline.Timeline([0], [1], [7]), "state"),
    (lambda: timeline.States(("a",), (0.5,), (0.9,)), "useful"),
])
def test_bad_timelines_are_clear_errors(make, text):
    with pytest.raises(ValueError, match=text):
        make()


# --- trend ------------------------------------------------------------------------------------
def test_trend_recovers_an_exact_doubling_time():
    years = np.arange(2000, 2011)
    fit = trend.fit_trend(years, 5.0 * 2 ** ((years - 2000) / 2.0))
    assert fit.doubling_years == pytest.approx(2.0) and fit.predict(2004) == pytest.approx(20.0)
    with pytest.raises(ValueError, match="two different years"):
        trend.fit_trend([2000, 2000], [1, 2])


# --- files ------------------------------------------------------------------------------------
def test_atomic_write_is_whole_or_nothing(tmp_path, monkeypatch):
    from labkit.core import files
    target = tmp_path / "sub" / "grades.csv"
    files.atomic_write(target, lambda f: f.write("a,b\n"))
    assert target.read_bytes() == b"a,b\n"

    def half_then_fail(f):
        f.write("half")
        raise OSError("disk full")
    with pytest.raises(OSError, match="disk full"):
        files.atomic_write(target, half_then_fail)
    assert target.read_bytes() == b"a,b\n" and [p.name for p in target.parent.iterdir()] == ["grades.csv"]
    files.atomic_write(target, lambda f: f.write(b"\x89PNG"), binary=True)
    assert target.read_bytes() == b"\x89PNG"


# --- plotting ---------------------------------------------------------------------------------
def test_new_axes_returns_fig_then_ax_and_checks_ax():
    fig, ax = new_axes(figsize=(4, 3))
    assert ax.figure is fig and tuple(fig.get_size_inches()) == (4, 3)
    assert new_axes(ax) == (fig, ax)
    with pytest.raises(TypeError, match="ax must be a matplotlib Axes"):
        new_axes("not axes")


def test_log_axis_has_major_ticks_only():
    from matplotlib.ticker import NullLocator
    _, ax = new_axes()
    log_axis(ax, "both", ticks={1: "1", 10: "10", 100: "100"})
    assert ax.get_xscale() == ax.get_yscale() == "log"
    assert isinstance(ax.yaxis.get_minor_locator(), NullLocator)
    assert [t.get_text() for t in ax.get_xticklabels()] == ["1", "10", "100"]
    no_minor_ticks(ax, y=False)
    assert isinstance(ax.xaxis.get_minor_locator(), NullLocator)


# --- readable by every learner: palette, line styles, a figure in words --------------------------
def test_course_style_tells_series_apart_without_colour():
    from labkit.core.plotting import LINESTYLES, PALETTE
    fig, ax = new_axes()
    lines = [ax.plot([0, 1], [k, k + 1])[0] for k in range(len(PALETTE))]
    assert [l.get_color().lower() for l in lines] == [c.lower() for c in PALETTE]   # Okabe & Ito's eight
    dashes = [(l.get_linestyle(), str(l._unscaled_dash_pattern)) for l in lines]
    assert len(set(dashes)) == len(lines) == len(LINESTYLES)                     # and a shape each
    from matplotlib.colors import to_hex
    assert to_hex("C3") == PALETTE[3].lower()        # chapters' "C0".."C7" are the palette's colours too


def test_describe_says_what_a_figure_shows():
    from labkit.core.plotting import describe
    import matplotlib.pyplot as plt
    fig, (left, right) = plt.subplots(1, 2)
    left.plot([1, 10, 100], [2.0, 4.0, 8.0], label="A100")
    left.plot([1, 10], [1.0, 1.0], linestyle="--", label="_hidden")
    left.set_xscale("log")
    left.set(title="Roofline", xlabel="FLOP per byte", ylabel="FLOP/s")
    right.bar(["x", "y"], [3, 5], label="energy")
    fig.suptitle("Two views")
    text = describe(fig)
    assert text.startswith("Figure: Two views. Plot 1 of 2 'Roofline': x axis 'FLOP per byte' (log scale)")
    assert "'A100' (solid, 3 points, y 2 to 8)" in text and "a line (dashed, 2 points, y 1)" in text
    assert "Plot 2 of 2 without a title" in text and "'energy' (2 bars, 3 to 5)" in text
    assert len(describe(fig, limit=80)) == 80
    # hatching encodes meaning in the course's plots (a stage that does not fit, a bar not modelled): say so
    bars = right.bar(["z", "w", "v"], [1, 2, 3], label="does not fit")
    bars.patches[1].set_hatch("//")
    assert "'does not fit' (3 bars, 1 hatched, 1 to 3)" in describe(fig)
    for p in bars.patches:
        p.set_hatch("xx")
    assert "'does not fit' (3 bars, all hatched, 1 to 3)" in describe(fig)
    with pytest.raises(TypeError, match="fig"):
        describe("not a figure")
