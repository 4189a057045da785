"""Plotting helpers shared by every chapter: one way to get axes, lean log axes, plain tick labels.

Every ``plot_*`` function in labkit takes ``ax=None`` and returns its Figure:

    fig, ax = new_axes(ax, figsize=(7, 4))    # the given axes (checked), or a new figure

Minor ticks on a log axis are many artists each and most of a redraw's time; the course draws
major ticks only (:func:`no_minor_ticks`, :func:`log_axis`). pyplot is imported on first use, so
importing a chapter module stays fast.
"""

from .validate import axes as _check_axes
from .validate import choice, flag, instance
from .validate import figsize as _figsize

#: The course's default figure size (inches) and the margins of a fixed layout (cheaper than tight_layout).
FIGSIZE = (7.5, 4.2)
MARGINS = {"left": 0.11, "right": 0.97, "bottom": 0.13, "top": 0.9}


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
