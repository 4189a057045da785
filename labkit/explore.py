"""Interactive explorers: sliders that redraw a plot, with a static plot where widgets cannot render.

    explorer(draw, peak=Slider(...), ...)

``draw(fig, **values)`` draws on a fresh matplotlib Figure and may return a short text readout.
With ``retained=True`` the figure is not cleared between updates: ``draw`` builds its axes and
artists on the first call (``if not fig.axes``) and afterwards only updates their data and texts
(``line.set_data``, ``text.set_text``) with fixed axis limits — several times faster, which is
what keeps a multi-panel explorer inside the 100 ms budget of a slider move.
The explorer is shown as one output that carries both the live widget and a PNG of the plot at its
default values: JupyterLab, Colab and Binder render the widget; a front end without widgets (nbval,
a headless run, a static viewer) shows the PNG instead.
"""

import base64
import io
import time

import numpy as np


def slider(value, min, max, step=None, description="", log=False, readout_format=None):
    """A slider spec: a float slider (log-scale when ``log``) made into a widget when one can be."""
    return {"kind": "log" if log else "float", "value": value, "min": min, "max": max,
            "step": step, "description": description, "readout_format": readout_format}


def int_slider(value, min, max, step=1, description=""):
    """An integer slider spec."""
    return {"kind": "int", "value": value, "min": min, "max": max, "step": step, "description": description}


def dropdown(value, options, description=""):
    """A choice spec: ``options`` is a list of values or a dict label -> value."""
    return {"kind": "dropdown", "value": value, "options": options, "description": description}


def _default(spec):
    return spec["value"] if isinstance(spec, dict) else getattr(spec, "value")


class Explorer:
    """A live explorer (or its static fallback). ``update(**values)`` redraws; ``last_update_s`` times it."""

    def __init__(self, draw, controls, figsize=(7.5, 4.2), dpi=80, title=None, retained=False):
        from matplotlib.backends.backend_agg import FigureCanvasAgg
        from matplotlib.figure import Figure

        if not callable(draw):
            raise TypeError("draw must be a function draw(fig, **values)")
        self.draw, self.controls, self.title, self.dpi = draw, dict(controls), title, dpi
        self.retained = retained
        self.values = {k: _default(v) for k, v in self.controls.items()}
        self.figure = Figure(figsize=figsize, dpi=dpi)
        FigureCanvasAgg(self.figure)
        self.readout = ""
        self.last_update_s = None
        self.widget = None
        self.render(**self.values)

    def render(self, **values):
        """Draw with these values and return the PNG bytes."""
        self._draw(values)
        return self.png

    def update(self, **values):
        """Redraw (what a slider move does) and return the seconds it took.

        The live widget gets a JPEG (about 1 ms to encode against 20 ms for a PNG); the static
        fallback and ``.png`` stay PNG.
        """
        self._draw(values)
        frame = self.jpeg
        if self.widget is not None:
            self._image.value = frame
            self._readout.value = self._readout_html()
        self.last_update_s = time.perf_counter() - self._started
        return self.last_update_s

    def _draw(self, values):
        self._started = time.perf_counter()
        self.values.update(values)
        fresh = not (self.retained and self.figure.axes)
        if fresh:
            self.figure.clear()
        text = self.draw(self.figure, **self.values)
        self.readout = text or ""
        if fresh:
            _lighten(self.figure)
        self.figure.canvas.draw()
        self._rgb = np.asarray(self.figure.canvas.buffer_rgba())[..., :3]
        self._encoded = {}
        self.last_update_s = time.perf_counter() - self._started

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
        import html
        return f"<div style='font-family:monospace;white-space:pre-wrap'>{html.escape(self.readout)}</div>"

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
        children += [widgets.VBox(list(made.values())), self._image, self._readout]
        self.widget = widgets.VBox(children, layout=widgets.Layout(border="1px solid #ddd", padding="6px"))
        self.widget.add_class("labkit-explorer")
        return self.widget

    def mimebundle(self):
        """The output: the live widget where it can render, else the PNG at default values."""
        bundle = {"image/png": base64.b64encode(self.png).decode("ascii"),
                  "text/plain": f"{self.title or 'Explorer'} (static view at default values; "
                                f"open in JupyterLab, Colab or Binder for live sliders)\n{self.readout}"}
        widget = self.widget or self.build_widget()
        if widget is not None and getattr(widget, "_model_id", None):
            bundle["application/vnd.jupyter.widget-view+json"] = {
                "version_major": 2, "version_minor": 0, "model_id": widget._model_id}
        return bundle

    def _ipython_display_(self):
        from IPython import get_ipython
        from IPython.display import display
        ip = get_ipython()
        if ip is not None and getattr(self, "_shown_at", None) == ip.execution_count:
            return  # explorer() already showed it in this cell
        display(self.mimebundle(), raw=True)
        self._shown_at = ip.execution_count if ip is not None else None


def freeze_background(fig, moving):
    """Blitting for retained explorers: paint everything but the ``moving`` artists once, keep that
    picture, and paste it at the start of each later render, so a slider move paints only what
    changes — axes, ticks, labels and legends (text layout) are most of a render's time.

    Call it at the end of the first (building) call of a retained ``draw``. The picture fits the
    canvas it was taken on (the explorer's: its own size and dpi); a render at another size or dpi
    (``savefig(dpi=150)``, an inline backend's tight crop) paints the frozen artists themselves.
    On a canvas that cannot copy pixels it does nothing and the figure stays fully drawn.
    """
    from matplotlib.artist import Artist

    if not hasattr(fig.canvas, "copy_from_bbox"):
        return
    keep = set(map(id, moving))
    frozen = [a for a in [*fig.texts, *fig.legends, *(c for ax in fig.axes for c in ax.get_children())]
              if id(a) not in keep and a.get_visible()]
    for a in moving:
        a.set_visible(False)
    fig.canvas.draw()
    renderer = fig.canvas.get_renderer()
    picture, size = renderer.copy_from_bbox(fig.bbox), (renderer.width, renderer.height)
    for a in moving:
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

    for a in frozen:
        a.set_visible(False)
    fig.add_artist(Background()).set_zorder(-10)


def _lighten(figure):
    """Drop minor ticks on log axes: each tick is several artists, and a log axis over a few
    decades has dozens of them — most of a redraw's time — while major ticks carry the reading."""
    from matplotlib.ticker import NullLocator
    for ax in figure.axes:
        for axis in (ax.xaxis, ax.yaxis):
            if axis.get_scale() == "log":
                axis.set_minor_locator(NullLocator())


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


def explorer(draw, title=None, figsize=(7.5, 4.2), retained=False, **controls):
    """Show an explorer: ``draw(fig, **values)`` redrawn as the controls move.

    Controls are specs from :func:`slider`, :func:`int_slider`, :func:`dropdown` (or ready widgets).
    ``retained=True``: the figure is kept between updates (see the module docstring).
    Returns the :class:`Explorer`; in a notebook it displays itself.
    """
    ex = Explorer(draw, controls, figsize=figsize, title=title, retained=retained)
    try:
        from IPython import get_ipython
        from IPython.display import display
    except ImportError:  # pragma: no cover
        return ex
    if get_ipython() is not None:
        display(ex)
    return ex
