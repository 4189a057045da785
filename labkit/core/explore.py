"""Interactive explorers: sliders that update a plot, with a static plot where widgets cannot render.

An explorer is two functions and its controls, nothing else:

    def build(fig):                      # once: axes, fixed limits, labels, empty artists
        ax = fig.add_subplot()
        ...
        return {"line": ax.plot([], [])[0], "title": ax.set_title(" ")}

    def update(h, peak, n):              # each slider move: set data and texts, return a readout
        h["line"].set_data(...)
        return f"{n} → ..."

    explorer(build, update, title="…", peak=slider(1e12, 1e9, 1e15, log=True), n=int_slider(8, 1, 64))

Every matplotlib artist held in the handles ``build`` returns (directly, or in a list, tuple or dict)
is *moving*; everything else on the figure (axes, ticks, labels, legends, grid) is *frozen*: painted
once into a background picture that each later frame pastes before drawing the moving artists
(blitting). ``update`` sets everything that moves from the values alone (whatever the previous move
was). Keep axis limits fixed; if ``update`` does change them, the explorer notices and paints the
background anew. Minor ticks of log axes are dropped. The explorer is shown as one output
carrying both the live widget and a PNG at the default values: JupyterLab, Colab and Binder render
the widget; a front end without widgets (nbval, a static viewer) shows the PNG.
"""

import base64
import io
import time

import numpy as np

from .validate import choice, flag, integer, number, positive, sequence, text


def _description(description):
    if not isinstance(description, str):
        raise TypeError(f"description must be a string (the control's label), got {description!r}")
    return description


def slider(value, min, max, step=None, description="", log=False, readout_format=None):
    """A slider spec: a float slider (log-scale when ``log``) made into a widget when one can be."""
    lo, hi = number("min", min), number("max", max)
    if flag("log", log) and lo <= 0:
        raise ValueError(f"min must be above 0 for a log slider, got {min}")
    if not lo < hi:
        raise ValueError(f"min must be below max, got min={min}, max={max}")
    value = number("value", value, minimum=lo, maximum=hi)
    if step is not None:
        step = positive("step", step, maximum=hi - lo if not log else 100)
    if readout_format is not None:
        try:
            format(0.5, text("readout_format", readout_format))
        except ValueError:
            raise ValueError(f"readout_format must be a format such as '.3g', got {readout_format!r}") from None
    return {"kind": "log" if log else "float", "value": value, "min": lo, "max": hi,
            "step": step, "description": _description(description), "readout_format": readout_format}


def int_slider(value, min, max, step=1, description=""):
    """An integer slider spec."""
    lo, hi = integer("min", min, minimum=-10**12, maximum=10**12), integer("max", max, minimum=-10**12,
                                                                           maximum=10**12)
    if not lo < hi:
        raise ValueError(f"min must be below max, got min={min}, max={max}")
    value = integer("value", value, minimum=lo, maximum=hi)
    step = integer("step", step, minimum=1, maximum=hi - lo)
    return {"kind": "int", "value": value, "min": lo, "max": hi, "step": step,
            "description": _description(description)}


def dropdown(value, options, description=""):
    """A choice spec: ``options`` is a list of values or a dict label -> value."""
    if not isinstance(options, dict):
        options = sequence("options", options)
    elif not options:
        raise ValueError("options must not be empty")
    choice("value", value, list(options.values()) if isinstance(options, dict) else options)
    return {"kind": "dropdown", "value": value, "options": options, "description": _description(description)}


def _default(spec):
    return spec["value"] if isinstance(spec, dict) else getattr(spec, "value")


def moving_artists(handles):
    """Every matplotlib artist (not an Axes or a Figure) found in ``handles``, recursively."""
    from matplotlib.artist import Artist
    from matplotlib.axes import Axes
    from matplotlib.figure import FigureBase
    found, seen = [], set()

    def visit(x):
        if id(x) in seen:
            return
        seen.add(id(x))
        if isinstance(x, (Axes, FigureBase)):
            return
        if isinstance(x, Artist):
            found.append(x)
        elif isinstance(x, dict):
            for v in x.values():
                visit(v)
        elif isinstance(x, (list, tuple)):   # includes matplotlib containers (bars, errorbars)
            for v in x:
                visit(v)
    visit(handles)
    return found


class Explorer:
    """A live explorer (or its static fallback). ``update(**values)`` redraws; ``last_update_s`` times it.

    ``handles`` is what ``build`` returned; ``figure`` the matplotlib Figure; ``readout`` the text
    ``update`` returned last; ``png`` / ``jpeg`` the current frame.
    """

    def __init__(self, build, update, controls, figsize=(7.5, 4.2), dpi=80, title=None):
        from matplotlib.backends.backend_agg import FigureCanvasAgg
        from matplotlib.figure import Figure

        if not callable(build) or not callable(update):
            raise TypeError("an explorer needs two functions: build(fig) -> handles and "
                            "update(handles, **values) -> readout")
        self.build, self.update_fn, self.controls, self.title, self.dpi = build, update, dict(controls), title, dpi
        self.values = {k: _default(v) for k, v in self.controls.items()}
        self.figure = Figure(figsize=figsize, dpi=dpi)
        FigureCanvasAgg(self.figure)
        self.handles = None
        self.readout = ""
        self.last_update_s = None
        self.widget = None
        self._limits = None
        self._draw(self.values)

    def render(self, **values):
        """Draw with these values and return the PNG bytes."""
        self._draw(values)
        return self.png

    def update(self, **values):
        """Redraw (what a slider move does) and return the seconds it took.

        The live widget gets a JPEG (about 1 ms to encode against 20 ms for a PNG); the static
        fallback and ``.png`` stay PNG.
        """
        unknown = set(values) - set(self.controls)
        if unknown:
            raise TypeError(f"unknown control(s) {', '.join(sorted(unknown))}; this explorer has "
                            f"{', '.join(self.controls)}")
        self._draw(values)
        frame = self.jpeg
        if self.widget is not None:
            self._image.value = frame
            self._readout.value = self._readout_html()
        self.last_update_s = time.perf_counter() - self._started
        return self.last_update_s

    def _axis_limits(self):
        return [(ax.get_xlim(), ax.get_ylim()) for ax in self.figure.axes]

    def _draw(self, values):
        from .plotting import lean_figure, styled
        self._started = time.perf_counter()
        self.values.update(values)
        fresh = self.handles is None
        if fresh:
            self.figure.clear()
            self.handles = styled(self.build, self.figure)   # the course's palette and line styles
        self.readout = self.update_fn(self.handles, **self.values) or ""
        if fresh:
            lean_figure(self.figure)
        if fresh or self._axis_limits() != self._limits:   # limits moved: the background is stale
            self._refreeze()
        self.figure.canvas.draw()
        self._rgb = np.asarray(self.figure.canvas.buffer_rgba())[..., :3]
        self._encoded = {}
        self.last_update_s = time.perf_counter() - self._started

    def _refreeze(self):
        for artist in getattr(self, "_background", ()):
            artist.remove()
        self._background = [a for a in [freeze_background(self.figure, moving_artists(self.handles))] if a]
        self._limits = self._axis_limits()

    def _encode(self, fmt, **options):
        if fmt not in self._encoded:
            from PIL import Image
            buffer = io.BytesIO()
            Image.fromarray(np.ascontiguousarray(self._rgb)).save(buffer, format=fmt, **options)
            self._encoded[fmt] = buffer.getvalue()
        return self._encoded[fmt]

    @property
    def png(self):
        """The current plot as PNG bytes."""
        return self._encode("png", compress_level=1)

    @property
    def jpeg(self):
        """The current plot as JPEG bytes (what the live widget shows)."""
        return self._encode("jpeg", quality=92)

    def _readout_html(self):
        # The plot's text alternative rides along, visually hidden, for screen readers. (Not the Image's
        # tooltip: with ipywidgets 8.1 in JupyterLab 4 a tooltip on an Image breaks its rendering.)
        import html
        hidden = "position:absolute;left:-10000px;width:1px;height:1px;overflow:hidden"
        return (f"<div style='font-family:monospace;white-space:pre-wrap'>{html.escape(self.readout)}</div>"
                f"<span style='{hidden}'>{html.escape(self.description())}</span>")

    def build_widget(self):
        """The ipywidgets box (controls, plot, readout); None when ipywidgets is unavailable."""
        try:
            import ipywidgets as widgets
        except Exception:
            return None
        made = {}
        for name, spec in self.controls.items():
            made[name] = spec if not isinstance(spec, dict) else _make(widgets, name, spec)
        self._image = widgets.Image(value=self.jpeg, format="jpeg")
        self._readout = widgets.HTML(value=self._readout_html())

        def on_change(change):
            if change.get("name") == "value":
                self.update(**{n: w.value for n, w in made.items()})
        for w in made.values():
            w.observe(on_change, names="value")
        children = []
        if self.title:
            children.append(widgets.HTML(f"<b>{self.title}</b>"))
        # keyboard: Tab reaches each control; arrow keys (Home/End) move a slider by one step, and
        # each key press redraws like a drag does
        children += [widgets.VBox(list(made.values())), self._image, self._readout]
        self.widget = widgets.VBox(children, layout=widgets.Layout(border="1px solid #ddd", padding="6px"))
        self.widget.add_class("labkit-explorer")
        return self.widget

    def mimebundle(self):
        """The output: the live widget where it can render, else the PNG at default values."""
        bundle = {"image/png": base64.b64encode(self.png).decode("ascii"),
                  "text/plain": f"{self.title or 'Explorer'} (static view at default values; "
                                f"open in JupyterLab, Colab or Binder for live sliders)\n{self.readout}\n"
                                f"{self.description()}"}
        widget = self.widget or self.build_widget()
        if widget is not None and getattr(widget, "_model_id", None):
            bundle["application/vnd.jupyter.widget-view+json"] = {
                "version_major": 2, "version_minor": 0, "model_id": widget._model_id}
        return bundle

    def description(self):
        """The current frame in words (:func:`labkit.core.plotting.describe`): its text alternative."""
        from .plotting import describe
        return describe(self.figure)

    def _ipython_display_(self):
        from IPython import get_ipython
        from IPython.display import display
        ip = get_ipython()
        if ip is not None and getattr(self, "_shown_at", None) == ip.execution_count:
            return  # explorer() already showed it in this cell
        display(self.mimebundle(), raw=True, metadata={"image/png": {"alt": self.description()}})
        self._shown_at = ip.execution_count if ip is not None else None


def freeze_background(fig, moving):
    """Blitting: paint everything on ``fig`` but the ``moving`` artists once, keep that picture, and
    paste it at the start of each later render, so a frame paints only what changes — axes, ticks,
    labels and legends (text layout) are most of a render's time. Returns the background artist
    (``.remove()`` it to undo), or None on a canvas that cannot copy pixels (then nothing changes).

    The picture fits the canvas it was taken on (its size and dpi); a render at another size or dpi
    (``savefig(dpi=150)``, an inline backend's tight crop) paints the frozen artists themselves.
    :class:`Explorer` calls this; chapter code does not need to.
    """
    from matplotlib.artist import Artist

    if not hasattr(fig.canvas, "copy_from_bbox"):
        return None
    keep = set(map(id, moving))
    frozen = [a for a in [*fig.texts, *fig.legends, *(c for ax in fig.axes for c in ax.get_children())]
              if id(a) not in keep and a.get_visible()]
    shown = [a for a in moving if a.get_visible()]
    for a in shown:
        a.set_visible(False)
    fig.canvas.draw()
    renderer = fig.canvas.get_renderer()
    picture, size = renderer.copy_from_bbox(fig.bbox), (renderer.width, renderer.height)
    for a in shown:
        a.set_visible(True)
    state = {"hidden": True}

    class Background(Artist):
        def get_window_extent(self, renderer=None):
            return fig.bbox  # bbox_inches="tight" keeps the whole figure

        def draw(self, renderer):
            # drawn first (lowest zorder): paste the picture, or let the frozen artists draw themselves
            fits = hasattr(renderer, "restore_region") and (renderer.width, renderer.height) == size
            if state["hidden"] != fits:
                for a in frozen:
                    a.set_visible(not fits)
                state["hidden"] = fits
            if fits:
                renderer.restore_region(picture)

        def remove(self):
            for a in frozen:
                a.set_visible(True)
            state["hidden"] = False
            super().remove()

    for a in frozen:
        a.set_visible(False)
    background = Background()
    fig.add_artist(background).set_zorder(-10)
    return background


def _make(widgets, name, spec):
    kind, label = spec["kind"], spec.get("description") or name
    style = {"description_width": "initial"}
    layout = widgets.Layout(width="480px")
    if kind == "int":
        return widgets.IntSlider(value=spec["value"], min=spec["min"], max=spec["max"], step=spec["step"],
                                 description=label, style=style, layout=layout, continuous_update=False)
    if kind == "log":
        import math
        lo, hi = math.log10(spec["min"]), math.log10(spec["max"])
        return widgets.FloatLogSlider(value=spec["value"], base=10, min=lo, max=hi,
                                      step=spec["step"] or (hi - lo) / 100, description=label, style=style,
                                      layout=layout, continuous_update=False,
                                      readout_format=spec.get("readout_format") or ".3g")
    if kind == "float":
        return widgets.FloatSlider(value=spec["value"], min=spec["min"], max=spec["max"],
                                   step=spec["step"] or (spec["max"] - spec["min"]) / 100, description=label,
                                   style=style, layout=layout, continuous_update=False,
                                   readout_format=spec.get("readout_format") or ".3g")
    if kind == "dropdown":
        return widgets.Dropdown(value=spec["value"], options=spec["options"], description=label, style=style)
    raise ValueError(f"unknown control kind {kind!r} for {name}")


def explorer(build, update, title=None, figsize=(7.5, 4.2), **controls):
    """Show an explorer: ``build(fig) -> handles`` once, ``update(handles, **values) -> readout`` on each
    control change (see the module docstring). Controls are specs from :func:`slider`,
    :func:`int_slider`, :func:`dropdown` (or ready widgets). Returns the :class:`Explorer`; in a
    notebook it displays itself.
    """
    if title is not None:
        text("title", title)
    ex = Explorer(build, update, controls, figsize=figsize, title=title)
    try:
        from IPython import get_ipython
        from IPython.display import display
    except ImportError:  # pragma: no cover
        return ex
    if get_ipython() is not None:
        display(ex)
    return ex
