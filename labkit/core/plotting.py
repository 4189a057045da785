"""Plotting helpers shared by every chapter: one way to get axes, lean log axes, plain tick labels.

Every ``plot_*`` function in labkit takes ``ax=None`` and returns its Figure:

    fig, ax = new_axes(ax, figsize=(7, 4))    # the given axes (checked), or a new figure

Minor ticks on a log axis are many artists each and most of a redraw's time; the course draws
major ticks only (:func:`no_minor_ticks`, :func:`log_axis`). pyplot is imported on first use, so
importing a chapter module stays fast.

Readable by every learner: the first plot labkit draws puts the course's style in force
(:func:`use_course_style`): the Okabe–Ito colour-blind-safe palette (so "C0".."C7" name its colours)
*and* a line style per series, so no two series are told apart by colour alone; :func:`describe` says in words what a figure shows (its text alternative: the
course website's alt text).
"""

from .validate import axes as _check_axes
from .validate import choice, flag, instance
from .validate import figsize as _figsize

#: The course's default figure size (inches) and the margins of a fixed layout (cheaper than tight_layout).
FIGSIZE = (7.5, 4.2)
MARGINS = {"left": 0.11, "right": 0.97, "bottom": 0.13, "top": 0.9}


#: Okabe & Ito (2008), "Color Universal Design": distinguishable with any common colour-vision deficiency
#: (yellow, the lowest-contrast on white, last).
PALETTE = ("#0072B2", "#E69F00", "#009E73", "#D55E00", "#CC79A7", "#56B4E9", "#000000", "#F0E442")
#: One dash pattern per palette colour, so that series differ in shape as well as in colour.
LINESTYLES = ("-", "--", ":", "-.", (0, (5, 1, 1, 1, 1, 1)), (0, (8, 2)), (0, (1, 3)), (0, (3, 2, 1, 2)))
#: One marker per palette colour, for series drawn as points (or lines with points).
MARKERS = ("o", "s", "^", "D", "v", "P", "X", "*")
#: One hatch per state or stacked part (bars, areas, timelines), so that parts differ in pattern as well as in
#: colour; draw them with ``edgecolor="white"`` (a hatch takes the edge's colour) and ``linewidth=0``.
HATCHES = ("", "//", "xx", "..", "\\\\", "++", "--", "oo")


def style():
    """The course's rcParams: the colour-blind-safe palette paired with a line style per series."""
    from cycler import cycler
    return {"axes.prop_cycle": cycler(color=list(PALETTE)) + cycler(linestyle=list(LINESTYLES))}


_STYLED = []


def use_course_style():
    """Put the course's style in force for this session, once (later changes of your own are kept).

    Global, on purpose: the chapters name colours by their place in the cycle ("C0", "C3"), and
    matplotlib reads those from rcParams, so the palette must be there for them to be colour-blind-safe.
    """
    if not _STYLED:
        import matplotlib
        matplotlib.rcParams.update(style())
        _STYLED.append(True)


def styled(function, *args, **kwargs):
    """``function(*args, **kwargs)`` with the course's style in force (:func:`use_course_style`)."""
    if not callable(function):
        raise TypeError(f"function must be callable (what to run in the course's style), got {function!r}")
    use_course_style()
    return function(*args, **kwargs)


def new_axes(ax=None, figsize=FIGSIZE, margins=None):
    """``(fig, ax)``: the given matplotlib Axes and its figure, or a new pyplot figure of ``figsize``
    inches. ``margins`` (a dict for ``subplots_adjust``, merged over the course's :data:`MARGINS`; ``{}``
    for the course's own) fixes the layout, cheaper than ``tight_layout``."""
    ax = _check_axes("ax", ax)
    figsize = _figsize("figsize", figsize)
    if margins is not None and not isinstance(margins, dict):
        raise TypeError(f"margins must be a dict for subplots_adjust ({{}} for the course's) or None; got {margins!r}")
    if ax is not None:
        return ax.figure, ax
    import matplotlib.pyplot as plt
    use_course_style()
    fig, ax = plt.subplots(figsize=figsize)
    if margins is not None:
        fig.subplots_adjust(**{**MARGINS, **margins})
    return fig, ax


def no_minor_ticks(*axes, x=True, y=True):
    """Drop minor ticks on these axes (on log axes they cost most of a redraw and carry little)."""
    from matplotlib.ticker import NullFormatter, NullLocator
    x, y = flag("x", x), flag("y", y)
    for ax in axes:
        _check_axes("axes", ax)
        for on, axis in ((x, ax.xaxis), (y, ax.yaxis)):
            if on:
                axis.set_minor_locator(NullLocator())
                axis.set_minor_formatter(NullFormatter())


def plain_formatter():
    """Tick labels as plain numbers ("1,000", "0.01", "1e+20"): no mathtext, faster to draw."""
    from matplotlib.ticker import FuncFormatter
    return FuncFormatter(lambda v, _: (f"{v:,.0f}" if 1 <= v < 1e6 else f"{v:g}") if v > 0 else "")


def log_axis(ax, which="y", ticks=None, numticks=8, plain=False):
    """Make ``ax``'s "x" or "y" axis (or "both") logarithmic with major ticks only.

    ``ticks``: fixed tick positions (a list, or a dict position -> label); else up to ``numticks``
    decades. ``plain``: label ticks as plain numbers instead of powers of ten.
    """
    from matplotlib.ticker import FixedLocator, LogLocator
    from .validate import integer
    if _check_axes("ax", ax) is None:
        raise TypeError("ax must be a matplotlib Axes, got None")
    if not isinstance(which, str):
        raise TypeError(f"which must be 'x', 'y' or 'both', got {which!r}")
    choice("which", which, ("x", "y", "both"))
    numticks, plain = integer("numticks", numticks, minimum=2, maximum=100), flag("plain", plain)
    if ticks is not None and (isinstance(ticks, (str, bytes)) or not hasattr(ticks, "__iter__")):
        raise TypeError(f"ticks must be a list of positions, a dict position -> label, or None; got {ticks!r}")
    for name in (("x", "y") if which == "both" else (which,)):
        (ax.set_xscale if name == "x" else ax.set_yscale)("log")
        axis = ax.xaxis if name == "x" else ax.yaxis
        if isinstance(ticks, dict):
            axis.set_ticks(list(ticks), list(ticks.values()))
        elif ticks is not None:
            axis.set_major_locator(FixedLocator(list(ticks)))
        else:
            axis.set_major_locator(LogLocator(numticks=numticks))
        if plain and not isinstance(ticks, dict):
            axis.set_major_formatter(plain_formatter())
        no_minor_ticks(ax, x=name == "x", y=name == "y")


def plain_log_labels(*axis_objects):
    """Label these log axes (``ax.xaxis``, ``ax.yaxis``) with plain numbers and no minor labels."""
    from matplotlib.ticker import NullFormatter
    for axis in axis_objects:
        axis.set_major_formatter(plain_formatter())
        axis.set_minor_formatter(NullFormatter())


def lean_figure(fig):
    """Drop the minor ticks of every log axis of ``fig`` (what explorers do after building)."""
    from matplotlib.figure import FigureBase
    from matplotlib.ticker import NullLocator
    instance("fig", fig, FigureBase, "a matplotlib Figure")
    for ax in fig.axes:
        for axis in (ax.xaxis, ax.yaxis):
            if axis.get_scale() == "log":
                axis.set_minor_locator(NullLocator())


# ---------------------------------------------------------------------------------------------
# A figure in words (its text alternative)
# ---------------------------------------------------------------------------------------------
def _g(v):
    return f"{v:.0f}" if 1e3 <= abs(v) < 1e5 else f"{v:.3g}"   # years read as years


def _label(text, fallback):
    text = " ".join(str(text or "").split())
    return f"'{text}'" if text else fallback


def _axis_words(ax, name):
    axis = ax.xaxis if name == "x" else ax.yaxis
    lo, hi = sorted(ax.get_xlim() if name == "x" else ax.get_ylim())
    scale = " (log scale)" if axis.get_scale() == "log" else ""
    return f"{name} axis {_label(axis.get_label_text(), 'unlabelled')}{scale} from {_g(lo)} to {_g(hi)}"


def _range(values):
    import numpy as np
    v = np.asarray(values, dtype=float).ravel()
    v = v[np.isfinite(v)]
    return (f"{_g(v.min())}" if v.min() == v.max() else f"{_g(v.min())} to {_g(v.max())}") if v.size else "no data"


def _series_words(ax):
    """One phrase per visible series of ``ax`` (lines, scatter groups, bar groups), legend labels first."""
    from matplotlib.collections import PathCollection
    from matplotlib.container import BarContainer
    words = []
    for line in ax.get_lines():
        if not line.get_visible() or len(line.get_xdata()) == 0:
            continue
        label = line.get_label()
        name = f"'{label}'" if label and not label.startswith("_") else "a line"
        style = {"-": "solid", "--": "dashed", ":": "dotted", "-.": "dash-dot", "None": "markers", "": "markers"}.get(
            str(line.get_linestyle()), "patterned")
        n = len(line.get_xdata())
        words.append(f"{name} ({style}, {n} point{'s' if n != 1 else ''}, y {_range(line.get_ydata())})")
    for coll in ax.collections:
        if isinstance(coll, PathCollection) and coll.get_visible() and len(coll.get_offsets()):
            label = coll.get_label()
            name = f"'{label}'" if label and not label.startswith("_") else "points"
            offsets = coll.get_offsets()
            words.append(f"{name} (scatter, {len(offsets)} points, y {_range(offsets[:, 1])})")
    for bars in ax.containers:
        if isinstance(bars, BarContainer) and len(bars.patches):
            label = bars.get_label()
            name = f"'{label}'" if label and not label.startswith("_") else "bars"
            horizontal = bars.orientation == "horizontal"
            sizes = [p.get_width() if horizontal else p.get_height() for p in bars.patches]
            hatched = sum(1 for p in bars.patches if p.get_hatch())
            marks = "" if not hatched else (", all hatched" if hatched == len(sizes) else f", {hatched} hatched")
            words.append(f"{name} ({len(sizes)} {'horizontal ' if horizontal else ''}bars{marks}, {_range(sizes)})")
    if not words:
        from matplotlib.collections import LineCollection, PathCollection
        shapes = len(ax.patches) + sum(len(c.get_paths()) for c in ax.collections
                                       if not isinstance(c, (PathCollection, LineCollection)))
        if shapes:
            words.append(f"{shapes} shapes (bars, areas or boxes)")
    return words


def describe(fig, limit=1500):
    """What ``fig`` shows, in words: its title, each plot's title, axes (labels, scales, ranges) and
    series (label, line style, size, hatched bars, range of values). The text alternative of a figure for learners
    who cannot see it; at most ``limit`` characters."""
    from matplotlib.figure import FigureBase
    from .validate import integer
    instance("fig", fig, FigureBase, "a matplotlib Figure")
    limit = integer("limit", limit, minimum=80, maximum=100_000)
    plots = [ax for ax in fig.axes if ax.get_visible() and ax.axison]
    parts = []
    suptitle = getattr(fig, "_suptitle", None)
    if suptitle is not None and suptitle.get_text().strip():
        parts.append(f"Figure: {' '.join(suptitle.get_text().split())}.")
    if not plots:
        parts.append("A figure with no plots.")
    for n, ax in enumerate(plots, 1):
        title = next((t.get_text() for t in (ax.title, ax._left_title, ax._right_title) if t.get_text().strip()), "")
        head = f"Plot {n} of {len(plots)}" if len(plots) > 1 else "Plot"
        series = _series_words(ax)
        body = f"{head} {_label(title, 'without a title')}: {_axis_words(ax, 'x')}; {_axis_words(ax, 'y')}; "
        body += (f"{len(series)} series: " + "; ".join(series) if series else "no data series") + "."
        parts.append(body)
    text = " ".join(parts)
    return text if len(text) <= limit else text[: limit - 1].rstrip() + "…"
