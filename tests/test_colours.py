"""Colour-blind-readable plots (issue 15, item 4): every chapter plot of the modules listed below draws in
the Okabe–Ito palette (labkit.core.plotting.PALETTE) or neutral greys, and no two series of one plot are
told apart by colour alone (line style, marker or hatch differ as well).

Each public ``plot_*`` function (and each explorer) is called with its defaults, filled in from the
chapter's FUZZ_EXAMPLES where it has required arguments (the same base call tests/test_fuzz.py makes).
"""

import inspect

import numpy as np
import pytest

from labkit.core.plotting import PALETTE

from test_fuzz import MODULES, _examples, _module_functions, _value, vocabulary

# module -> which of its functions this test covers (the modules whose plots have had the colour pass)
COVERED = {
    "labkit.faults": None,                                   # all
    "labkit.energy": None,
    "labkit.codesign": None,
    "labkit.utilization": None,          # serving, scheduler, pipeline, stragglers, mfu, budget, inference
    "labkit.interconnect": None,         # plots, explore (fabric, ringsim, the models: no plots of their own)
    "labkit.start_here": None,
    "labkit.scaling": None,
    "labkit.hardware": None,
}
# Not covered yet, each with its reason.
NOT_COVERED = {}                       # every chapter module with plots is covered
# Second calls with more series on one plot than the defaults draw: name -> arguments over the base call.
MORE_SERIES = {
    "labkit.energy.plot_wait_carbon": {"waiting_powers_w": (0.0, 2e5, 1e6)},
    "labkit.utilization.plot_decode_roofline": {"kv_bytes_per_sequence": (0.0, 1e9, 4e9)},
    "labkit.utilization.plot_straggler_scaling": {"jitters": (0.05, 0.1, 0.2, 0.4), "n_max": 64, "n_steps": 20},
    "labkit.energy.plot_power_cap": {"compute_fractions": (1.0, 0.5, 0.2), "optimistic": True},
    "labkit.scaling.plot_isoflop": {"budgets": (1e19, 1e20, 1e21, 1e22, 1e23, 1e24, 1e25, 1e26), "sweep": None},
    "labkit.hardware.plot_roofline": {"machines": [("CPU", 3e12, 3e11), ("A100", 312e12, 2.039e12),
                                                   ("H100", 989e12, 3.35e12)],
                                      "operations": [("add", 1 / 12), ("matmul", 341.0)]},
}
# Sequential colour maps that read in order for colour-blind readers (viridis family).
COLORMAPS = {"viridis", "cividis", "magma", "inferno", "plasma", "Greys", "gray", "binary"}


def _rgb(c):
    from matplotlib.colors import to_rgba
    return np.asarray(to_rgba(c))[:3]


def _allowed(c):
    from matplotlib.colors import to_rgba
    rgba = to_rgba(c)
    if rgba[3] == 0:
        return True                                            # invisible
    r, g, b = rgba[:3]
    if max(r, g, b) - min(r, g, b) < 0.02:
        return True                                            # neutral grey, black, white
    if any(np.abs(_rgb(p) - (r, g, b)).max() < 0.01 for p in PALETTE):
        return True
    return np.abs(_sequential() - (r, g, b)).max(axis=1).min() < 0.01     # a step of a sequential map


def _sequential():
    """Colours of the colour-blind-safe sequential maps (a plot may pick steps of one: "colour = step")."""
    import matplotlib
    return np.vstack([matplotlib.colormaps[name](np.linspace(0, 1, 256))[:, :3]
                      for name in sorted(COLORMAPS)])


def _colours(artist):
    """(what, colour) for every colour ``artist`` paints with."""
    from matplotlib.collections import Collection
    from matplotlib.lines import Line2D
    from matplotlib.patches import Patch
    from matplotlib.text import Text
    if isinstance(artist, Line2D):
        yield "line", artist.get_color()
        if artist.get_marker() not in (None, "None", "", " "):
            yield "marker face", artist.get_markerfacecolor()
            yield "marker edge", artist.get_markeredgecolor()
    elif isinstance(artist, Collection):
        if artist.get_array() is not None:                     # colour-mapped: its map is checked instead
            return
        for c in artist.get_facecolors():
            yield "collection face", c
        for c in artist.get_edgecolors():
            yield "collection edge", c
    elif isinstance(artist, Patch):
        yield "patch face", artist.get_facecolor()
        yield "patch edge", artist.get_edgecolor()
    elif isinstance(artist, Text) and artist.get_text().strip():
        yield "text", artist.get_color()


def _shape(handle):
    """What tells ``handle`` (a legend handle or a line) apart without its colour."""
    from matplotlib.lines import Line2D
    from matplotlib.patches import Patch
    if isinstance(handle, Line2D):
        ls = handle.get_linestyle()
        dashes = "none" if ls in ("None", " ", "") else repr(handle._unscaled_dash_pattern)
        marker = handle.get_marker()
        return ("line", dashes, "none" if marker in (None, "None", "", " ") else str(marker))
    if isinstance(handle, Patch):
        outline = repr(handle._unscaled_dash_pattern) if handle.get_linewidth() else ""
        return ("patch", handle.get_hatch() or "", outline)
    return ("other", type(handle).__name__, id(handle))            # anything else: not judged


def check_figure(fig):
    """Problems found in ``fig``, as lines of text."""
    from matplotlib.collections import Collection
    from matplotlib.lines import Line2D
    from matplotlib.patches import Patch
    from matplotlib.text import Text
    problems = []
    for n, ax in enumerate(fig.axes):
        where = f"axes {n} ({ax.get_title() or ax.get_ylabel()!r})"
        for artist in ax.findobj(lambda a: isinstance(a, (Line2D, Collection, Patch, Text))):
            if artist is ax.patch or not artist.get_visible():
                continue
            if isinstance(artist, Collection) and artist.get_array() is not None:
                cmap = artist.get_cmap()
                name = cmap.name.removesuffix("_r")
                listed = getattr(cmap, "colors", None)              # a contour's own colours: checked as colours
                if name not in COLORMAPS and not (listed is not None and all(map(_allowed, listed))):
                    problems.append(f"{where}: colour map {name!r} is not colour-blind-safe")
                continue
            for what, c in _colours(artist):
                if not _allowed(c):
                    problems.append(f"{where}: {what} {tuple(round(float(v), 3) for v in _rgb(c))} of "
                                    f"{type(artist).__name__} {artist.get_label()!r} is off the palette")
        # labelled lines, and legend entries, must differ in shape, not only in colour
        lines = [l for l in ax.get_lines() if l.get_visible() and not l.get_label().startswith("_")]
        legend = ax.get_legend()
        entries = []
        if legend is not None:
            handles = getattr(legend, "legend_handles", None) or getattr(legend, "legendHandles", [])
            entries = [(t.get_text(), h) for t, h in zip(legend.get_texts(), handles) if h is not None]
        for kind, items in (("line", [(l.get_label(), l) for l in lines]), ("legend entry", entries)):
            seen = {}
            for label, h in items:
                key = _shape(h)
                if key in seen and seen[key] != label:
                    problems.append(f"{where}: {kind} {label!r} looks like {seen[key]!r} but for its colour {key}")
                seen.setdefault(key, label)
    return sorted(set(problems))


def _cases():
    vocab = vocabulary()
    for modname, submodules in COVERED.items():
        local = _examples(MODULES[modname])
        for fname, fn in _module_functions(modname):
            if not (fname.startswith("plot_") or fname.endswith("_explorer")):
                continue
            if submodules is not None and fn.__module__ not in submodules:
                continue
            kwargs = {}
            for p in inspect.signature(fn).parameters.values():
                if p.kind in (p.VAR_POSITIONAL, p.VAR_KEYWORD):
                    continue
                for key in (f"{fname}.{p.name}", p.name):
                    if key in local:
                        kwargs[p.name] = local[key]
                        break
                else:
                    if p.default is inspect.Parameter.empty:
                        kwargs[p.name] = vocab[p.name]
            yield pytest.param(fn, kwargs, id=f"{modname}.{fname}")
            if f"{modname}.{fname}" in MORE_SERIES:
                yield pytest.param(fn, {**kwargs, **MORE_SERIES[f"{modname}.{fname}"]},
                                   id=f"{modname}.{fname}:more-series")


@pytest.mark.parametrize("fn, kwargs", list(_cases()))
def test_plot_is_colour_blind_readable(fn, kwargs):
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    try:
        out = fn(**{k: _value(v) for k, v in kwargs.items()})
        fig = out.figure if hasattr(out, "figure") else out
        fig.canvas.draw()
        problems = check_figure(fig)
        assert not problems, f"{fn.__module__}.{fn.__name__}:\n" + "\n".join(problems)
    finally:
        plt.close("all")


def test_check_finds_colour_only_series():
    """The check itself: off-palette hues and two series told apart by colour alone are found."""
    import matplotlib
    matplotlib.use("Agg")
    from matplotlib.figure import Figure
    fig = Figure()
    ax = fig.subplots()
    ax.plot([0, 1], [0, 1], color="red", ls="-", label="a")
    ax.plot([0, 1], [1, 0], color=PALETTE[0], ls="-", label="b")
    ax.legend()
    problems = "\n".join(check_figure(fig))
    assert "off the palette" in problems and "but for its colour" in problems
    fig = Figure()
    ax = fig.subplots()
    ax.plot([0, 1], [0, 1], color=PALETTE[1], ls="-", label="a")
    ax.plot([0, 1], [1, 0], color=PALETTE[0], ls="--", label="b")
    ax.bar([0], [1], color="0.7", hatch="//", label="c")
    ax.legend()
    assert check_figure(fig) == []


def test_waterfall_gain_differs_from_loss_by_hatch():
    """A step that raises the MFU (green) is hatched; losses (vermillion) are plain: not colour alone."""
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    from labkit.utilization import Waterfall, plot_mfu_waterfall
    w = Waterfall(name="made up", steps=[("peak", 1.0), ("a loss", 0.6), ("a gain", 0.7)], published=0.5,
                  seconds={})
    try:
        fig = plot_mfu_waterfall(w)
        loss, gain = fig.axes[0].patches[:2]
        assert not loss.get_hatch() and gain.get_hatch()
        assert check_figure(fig) == []
    finally:
        plt.close("all")


def test_training_run_explorer_marks_a_misfit_by_shape():
    """The training-run explorer's stages that do not fit are hatched as well as red, and the dot is hollow."""
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    from labkit.scaling import training_run_explorer
    try:
        ex = training_run_explorer(n_params=405e9, n_devices=16, gpu="H100 SXM", zero_stage=0)
        assert "does NOT fit" in ex.readout
        red = [np.allclose(_rgb(bar.get_facecolor()), _rgb(PALETTE[3])) for bar in ex.handles["bars"]]
        assert red[0] and [bar.get_hatch() == "xx" for bar in ex.handles["bars"]] == red   # hatched iff red
        point = ex.handles["point"]
        assert point.get_markerfacecolor() != point.get_markeredgecolor()           # hollow: does not fit
        ex.update(n_params=1e9, n_devices=1024, zero_stage=3)
        assert "fits" in ex.readout and not ex.handles["bars"][3].get_hatch()
        assert point.get_markerfacecolor() == point.get_markeredgecolor()           # filled: fits
    finally:
        plt.close("all")


def test_roofline_explorer_marks_the_bound_by_shape():
    """The roofline explorer's operation: a circle when memory-bound, a square when compute-bound (and red/green)."""
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    from labkit.hardware import roofline_explorer
    try:
        ex = roofline_explorer()
        assert "compute-bound" in ex.readout
        compute = ex.handles["point"].get_marker()
        ex.update(operation="element-wise add (n² elements)")
        assert "memory-bound" in ex.readout and ex.handles["point"].get_marker() != compute
    finally:
        plt.close("all")
