"""labkit.start_here (chapter 00): the time-to-train explorer."""

import numpy as np
import pytest

from labkit import start_here, units as u
from labkit.core.devices import training_gpus
from labkit.core.published import published_run
from labkit.core.roofline import training_time


@pytest.fixture(autouse=True)
def _close_figures():
    yield
    import matplotlib.pyplot as plt
    plt.close("all")


def test_explorer_offers_the_training_gpus_from_the_dataset():
    ex = start_here.time_to_train_explorer()
    options = ex.controls["gpu"]["options"]
    gpus = training_gpus()
    assert list(options.values()) == list(gpus) and ex.values["gpu"] == "V100 SXM2"
    assert options["NVIDIA A100 SXM 80GB"] == "A100 SXM 80GB"
    ex.update(gpu="A100 SXM 80GB")
    assert ex.handles["legend"].get_texts()[0].get_text() == "NVIDIA A100 SXM 80GB (312 TFLOP/s bf16), 40% busy"


def test_explorer_readout_matches_the_model():
    ex = start_here.time_to_train_explorer()
    ex.update(n_devices=10_000, utilization=0.2, gpu="V100 SXM2")
    seconds = training_time(3.14e23, 10_000, 125e12, 0.2)
    # Patterson et al. 2021, Table 4: GPT-3 took 14.8 days on 10,000 V100s -> ~20 % of peak (±5 %)
    assert seconds / u.DAY == pytest.approx(14.8, rel=0.05)
    assert ex.readout == f"10,000 × NVIDIA V100 SXM2 at 20% → {u.fmt_seconds(seconds)}"
    n, days = ex.handles["curve"].get_data()
    assert np.allclose(days, training_time(3.14e23, n, 125e12, 0.2) / u.DAY)
    assert np.all(np.diff(days) < 0)  # more GPUs, fewer days
    assert ex.handles["dot"].get_data()[0] == [10_000]
    assert ex.png[:4] == b"\x89PNG" and ex.jpeg[:2] == b"\xff\xd8"


def test_explorer_frame_matches_a_full_drawing():
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    from labkit.core.plotting import lean_figure
    ex = start_here.time_to_train_explorer()
    ex.update(n_devices=5, gpu="B200")
    ex.update(n_devices=300, utilization=0.55, gpu="H100 SXM")
    ex.figure.canvas.draw()
    pasted = np.asarray(ex.figure.canvas.buffer_rgba()).copy()
    fig = Figure(figsize=ex.figure.get_size_inches(), dpi=ex.figure.dpi)
    FigureCanvasAgg(fig)
    handles = start_here._build_time_to_train(fig, published_run("GPT-3").total_flops)
    start_here._update_time_to_train(handles, **ex.values, total_flops=published_run("GPT-3").total_flops)
    lean_figure(fig)
    fig.canvas.draw()
    full = np.asarray(fig.canvas.buffer_rgba())
    assert (pasted != full).any(axis=-1).mean() < 0.01  # anti-aliasing where lines cross frozen ones


def test_other_work_is_labelled_as_such():
    ex = start_here.time_to_train_explorer(total_flops=1e21)
    assert ex.figure.axes[0].get_ylabel() == "days to train 1e+21 FLOP"
    assert ex.title == "How long would 1e+21 FLOP take?"


@pytest.mark.parametrize("kwargs", [{"total_flops": 0}, {"n_devices": 0}, {"n_devices": 2.5},
                                    {"utilization": 40}, {"utilization": 0.01}, {"gpu": "NVIDIA V100 SXM2"},
                                    {"gpu": None}])
def test_explorer_rejects_bad_input(kwargs):
    with pytest.raises((ValueError, TypeError), match=next(iter(kwargs))):
        start_here.time_to_train_explorer(**kwargs)
