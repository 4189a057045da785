"""The explorer API (labkit.core.explore): build(fig) -> handles once, update(handles, **values) -> readout
per move; everything not held in the handles is frozen (blitted), and re-frozen when axis limits move."""

import base64
import io

import numpy as np
import pytest

from labkit.core.explore import Explorer, dropdown, explorer, int_slider, moving_artists, slider

X = np.linspace(0, 1, 50)
CONTROLS = dict(a=slider(1.0, 0.1, 10.0, 0.1), n=int_slider(10, 2, 100), kind=dropdown("x", ["x", "y"]),
                b=slider(1e3, 1.0, 1e6, log=True))
CALLS = []


def build(fig):
    ax = fig.add_subplot()
    ax.set(xlim=(0, 1), ylim=(0, 100), xlabel="x", ylabel="a·x·n", title="fixed title")
    CALLS.append("build")
    return {"ax": ax, "line": ax.plot([], [], lw=3, color="C3")[0], "label": ax.text(0.5, 90, "")}


def update(h, a, n, kind, b):
    CALLS.append("update")
    h["line"].set_data(X, a * n * X)
    h["label"].set_text(kind)
    top = 1000 if b > 1e5 else 100    # a move that rescales the axes
    if h["ax"].get_ylim() != (0, top):
        h["ax"].set_ylim(0, top)
    return f"a={a}, n={n}, {kind}"


def full_render(values):
    """The same picture drawn the plain way: a fresh figure, built, updated, drawn — no blitting."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure
    fig = Figure(figsize=(7.5, 4.2), dpi=80)
    FigureCanvasAgg(fig)
    h = build(fig)
    update(h, **values)
    from labkit.core.plotting import lean_figure
    lean_figure(fig)
    fig.canvas.draw()
    return np.asarray(fig.canvas.buffer_rgba())[..., :3].copy()


def test_static_fallback_is_a_png_at_default_values():
    bundle = Explorer(build, update, CONTROLS).mimebundle()
    assert base64.b64decode(bundle["image/png"])[:8] == b"\x89PNG\r\n\x1a\n"
    assert "a=1.0, n=10, x" in bundle["text/plain"]


def test_widget_is_built_with_controls():
    box = Explorer(build, update, CONTROLS, title="demo").build_widget()
    assert box is not None and "labkit-explorer" in box._dom_classes
    assert {type(w).__name__ for w in box.children[1].children} == {"FloatSlider", "IntSlider", "Dropdown",
                                                                    "FloatLogSlider"}


def test_build_runs_once_and_update_moves_only_the_handles():
    CALLS.clear()
    ex = Explorer(build, update, CONTROLS)
    ex.build_widget()
    before, axes = ex._image.value, ex.figure.axes[0]
    ex.update(a=5.0, n=50)
    assert CALLS == ["build", "update", "update"] and ex.figure.axes == [axes]
    assert ex._image.value != before and ex.readout == "a=5.0, n=50, x"
    assert ex.handles["line"].get_ydata()[-1] == pytest.approx(250.0)
    assert set(map(id, moving_artists(ex.handles))) == {id(ex.handles["line"]), id(ex.handles["label"])}


def test_blitted_frames_match_a_full_render():
    ex = Explorer(build, update, CONTROLS)
    for values in ({"a": 3.0, "n": 20}, {"kind": "y"}, {"b": 5e5}, {"b": 10.0, "a": 0.5}):
        ex.update(**values)
        differ = np.mean(np.any(ex._rgb != full_render(ex.values), axis=-1))
        assert differ < 0.002, (values, differ)   # the same picture, up to antialiasing at crossings


def test_limits_that_move_refreeze_the_background():
    ex = Explorer(build, update, CONTROLS)
    first = ex._background
    ex.update(b=5e5)                       # ylim 0..100 -> 0..1000: the frozen ticks would be stale
    assert ex._background is not first and ex.figure.axes[0].get_ylim() == (0, 1000)
    second = ex._background
    ex.update(a=2.0)                       # limits unchanged: the background is kept
    assert ex._background is second


def test_savefig_at_another_dpi_draws_the_frozen_artists():
    ex = Explorer(build, update, CONTROLS)
    buffer = io.BytesIO()
    ex.figure.savefig(buffer, format="png", dpi=160)
    from PIL import Image
    big = np.asarray(Image.open(buffer).convert("L"))
    assert (big < 100).mean() > 0.005  # axes, ticks and text are there


def test_explorer_outside_ipython_returns_it():
    assert isinstance(explorer(build, update, **CONTROLS), Explorer)


@pytest.mark.parametrize("args, error, text", [
    (("not a function", update, {}), TypeError, "build"),
    ((build, None, {}), TypeError, "update"),
])
def test_bad_explorers_are_clear_errors(args, error, text):
    with pytest.raises(error, match=text):
        Explorer(*args)


def test_unknown_control_is_a_clear_error():
    ex = Explorer(build, update, CONTROLS)
    with pytest.raises(TypeError, match="unknown control"):
        ex.update(zz=1)


@pytest.mark.parametrize("make", [lambda: slider(20.0, 0.1, 10.0), lambda: slider(1.0, 0.0, 10.0, log=True),
                                  lambda: int_slider(5, 10, 2), lambda: dropdown("z", ["x", "y"])])
def test_bad_control_specs_are_clear_errors(make):
    with pytest.raises(ValueError):
        make()


def test_explorer_says_what_its_plot_shows():
    """The static output and the live image carry a text alternative made from the current frame."""
    import matplotlib
    matplotlib.use("agg")
    from labkit.core.explore import Explorer, slider

    def build(fig):
        ax = fig.add_subplot()
        ax.set(xlim=(0, 10), ylim=(0, 100), xlabel="n", ylabel="cost (s)", title="Cost")
        return {"line": ax.plot([], [], label="model")[0]}

    def update(h, k):
        h["line"].set_data([0, 10], [0, 10 * k])
        return f"k = {k}"
    ex = Explorer(build, update, {"k": slider(2.0, 1.0, 10.0)})
    assert "Plot 'Cost'" in ex.description() and "'model' (solid, 2 points, y 0 to 20)" in ex.description()
    assert ex.description() in ex.mimebundle()["text/plain"]
    widget = ex.build_widget()
    if widget is not None:
        ex.update(k=5.0)
        assert "y 0 to 50" in ex._readout.value     # read out to screen readers, visually hidden
        assert not getattr(ex._image, "tooltip", None)   # a tooltip on an Image breaks it in JupyterLab 4
