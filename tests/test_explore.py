import base64

import pytest

from labkit.explore import Explorer, dropdown, explorer, int_slider, slider


def draw(fig, a, n, kind):
    ax = fig.add_subplot()
    ax.plot(range(n), [a * i for i in range(n)], label=kind)
    return f"a={a}, n={n}, {kind}"


CONTROLS = dict(a=slider(1.0, 0.1, 10.0, 0.1), n=int_slider(10, 2, 100), kind=dropdown("x", ["x", "y"]),
                b=slider(1e3, 1.0, 1e6, log=True))


def _draw4(fig, a, n, kind, b):
    return draw(fig, a, n, kind)


def test_static_fallback_is_a_png_at_default_values():
    ex = Explorer(_draw4, CONTROLS)
    bundle = ex.mimebundle()
    png = base64.b64decode(bundle["image/png"])
    assert png[:8] == b"\x89PNG\r\n\x1a\n"
    assert "a=1.0, n=10, x" in bundle["text/plain"]


def test_widget_is_built_with_controls():
    ex = Explorer(_draw4, CONTROLS, title="demo")
    box = ex.build_widget()
    assert box is not None and "labkit-explorer" in box._dom_classes
    kinds = {type(w).__name__ for w in box.children[1].children}
    assert kinds == {"FloatSlider", "IntSlider", "Dropdown", "FloatLogSlider"}


def test_slider_move_redraws_quickly():
    ex = Explorer(_draw4, CONTROLS)
    ex.build_widget()
    before = ex._image.value
    seconds = min(ex.update(a=5.0, n=50) for _ in range(3))
    assert ex._image.value != before and ex.readout == "a=5.0, n=50, x"
    assert seconds < 1.0  # the 100 ms budget is measured by benchmarks/notebooks.py, not here


def test_explorer_outside_ipython_returns_it():
    ex = explorer(_draw4, **CONTROLS)
    assert isinstance(ex, Explorer)


def test_bad_draw_is_a_type_error():
    with pytest.raises(TypeError, match="draw"):
        Explorer("not a function", {})


def test_retained_mode_keeps_the_figure_and_is_faster():
    import numpy as np
    x = np.linspace(0, 1, 100)
    calls = []

    def draw(fig, a):
        if not fig.axes:
            ax = fig.add_subplot()
            ax.plot(x, a * x)
            ax.set_ylim(0, 10)
            calls.append("build")
        else:
            fig.axes[0].lines[0].set_ydata(a * x)
            calls.append("update")
        return f"a={a}"

    ex = Explorer(draw, {"a": slider(1.0, 0.0, 10.0)}, retained=True)
    axes = ex.figure.axes[0]
    ex.update(a=3.0)
    assert calls == ["build", "update"] and ex.figure.axes[0] is axes
    assert ex.readout == "a=3.0"
    assert list(axes.lines[0].get_ydata()[-1:]) == [3.0]


def test_freeze_background_paints_the_same_picture():
    import io

    import numpy as np
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    from labkit.explore import freeze_background

    def build(freeze):
        fig = Figure(figsize=(4, 3), dpi=80)
        FigureCanvasAgg(fig)
        ax = fig.add_subplot()
        ax.set(xlim=(0, 10), ylim=(0, 10), title="fixed", xlabel="x")
        (line,) = ax.plot([0, 10], [0, 5])
        if freeze:
            freeze_background(fig, [line])
        line.set_ydata([0, 9])
        fig.canvas.draw()
        return fig, np.asarray(fig.canvas.buffer_rgba()).copy()

    fig, fast = build(True)
    _, full = build(False)
    differ = np.mean(np.any(fast != full, axis=-1))
    assert differ < 0.01  # only where the moving line crosses frozen artists
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png", dpi=160)  # another size: frozen artists paint themselves
    big = np.asarray(__import__("PIL.Image", fromlist=["Image"]).open(buffer).convert("L"))
    assert (big < 100).mean() > 0.005  # axes, ticks and text are there
