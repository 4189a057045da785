"""``labkit.doctor()``: what this environment is and what, if anything, to fix before the course."""

import html
import importlib
import importlib.metadata as md
import os
import platform
import sys
from dataclasses import dataclass, field

# (distribution, import name, minimum version, needed?) — floors match pyproject.toml
PACKAGES = [
    ("numpy", "numpy", "1.23", True),
    ("matplotlib", "matplotlib", "3.7", True),
    ("ipywidgets", "ipywidgets", "7.6.4", True),
    ("simpy", "simpy", "4.0", True),
    ("ipython", "IPython", "7.34", True),
    ("ipykernel", "ipykernel", "6.0", False),
    ("jupyterlab", "jupyterlab", "4.0", False),
    ("jupyterlab_widgets", "jupyterlab_widgets", "1.0", False),
]


@dataclass
class Report:
    """The doctor's findings: ``ok`` is True when nothing needs fixing."""
    python: str
    platform: str
    where: str
    widgets: str
    packages: dict = field(default_factory=dict)
    problems: list = field(default_factory=list)   # (problem, fix)

    @property
    def ok(self):
        return not self.problems

    def __str__(self):
        lines = [f"labkit doctor — {'all good' if self.ok else f'{len(self.problems)} problem(s)'}",
                 f"  Python     {self.python}", f"  platform   {self.platform}",
                 f"  running in {self.where}", f"  widgets    {self.widgets}", "  packages:"]
        lines += [f"    {name:<20} {version or 'not installed'}" for name, version in self.packages.items()]
        for problem, fix in self.problems:
            lines.append(f"  ✗ {problem}\n      fix: {fix}")
        return "\n".join(lines)

    def __repr__(self):
        return str(self)

    def _repr_html_(self):
        colour = "#1a7f37" if self.ok else "#cf222e"
        rows = "".join(f"<tr><td>{html.escape(k)}</td><td>{html.escape(str(v))}</td></tr>" for k, v in (
            ("Python", self.python), ("platform", self.platform), ("running in", self.where),
            ("widgets", self.widgets), *((n, v or "not installed") for n, v in self.packages.items())))
        problems = "".join(f"<li>✗ {html.escape(p)}<br><b>fix:</b> <code>{html.escape(f)}</code></li>"
                           for p, f in self.problems)
        head = "✅ all good" if self.ok else f"❌ {len(self.problems)} problem(s)"
        return (f"<div style='border-left:4px solid {colour};padding:4px 10px'><b>labkit doctor — {head}</b>"
                f"<table>{rows}</table>{'<ul>' + problems + '</ul>' if problems else ''}</div>")


def _version(dist):
    try:
        return md.version(dist)
    except md.PackageNotFoundError:
        return None


def _tuple(version):
    import re
    return tuple(int(p) for p in re.findall(r"\d+", re.match(r"[\d.]*", version).group())[:3])


def where():
    """'Google Colab', 'Binder', 'JupyterLab / Jupyter kernel', 'VS Code', 'IPython terminal' or 'plain Python'."""
    if "google.colab" in sys.modules:
        return "Google Colab"
    if any(k.startswith("BINDER_") for k in os.environ) or "binder" in os.environ.get("JUPYTERHUB_SERVICE_PREFIX", ""):
        return "Binder"
    shell = _shell()
    if shell is None:
        return "plain Python"
    if "VSCODE_PID" in os.environ or "VSCODE_CWD" in os.environ:
        return "VS Code (Jupyter kernel)"
    if shell == "ZMQInteractiveShell":
        return "JupyterLab / Jupyter kernel"
    return "IPython terminal"


def _shell():
    try:
        from IPython import get_ipython
    except ImportError:
        return None
    ip = get_ipython()
    return type(ip).__name__ if ip is not None else None


def doctor(show=True):
    """Check Python, the packages, where this runs and whether widgets will render.

    Shows the report in a notebook (or prints it) and returns it; ``report.problems`` lists each
    problem with its fix.
    """
    packages = {dist: _version(dist) for dist, *_ in PACKAGES}
    problems = []
    if sys.version_info < (3, 10):
        problems.append((f"Python {platform.python_version()} is too old for labkit (3.10 or newer needed).",
                         "install Python 3.10+ (or use Colab / Binder, which have it)"))
    for dist, module, floor, needed in PACKAGES:
        version = packages[dist]
        if version is None:
            if needed:
                problems.append((f"{dist} is not installed.", f"pip install '{dist}>={floor}'"))
            continue
        if _tuple(version) < _tuple(floor):
            problems.append((f"{dist} {version} is older than labkit needs ({floor}).",
                             f"pip install --upgrade '{dist}>={floor}'"))
        elif needed:
            try:
                importlib.import_module(module)
            except Exception as e:  # installed but broken
                problems.append((f"{dist} is installed but fails to import ({type(e).__name__}: {e}).",
                                 f"pip install --force-reinstall {dist}"))

    place = where()
    widgets = _widgets_status(place, packages, problems)

    try:
        from . import data
        data.datasets_dir()
    except FileNotFoundError as e:
        problems.append((str(e), "pip install --force-reinstall labkit"))

    if place not in ("plain Python", "IPython terminal"):
        import matplotlib
        if matplotlib.get_backend().lower() == "agg" and "MPLBACKEND" in os.environ:
            problems.append(("matplotlib draws to the non-interactive Agg backend, so plots will not show.",
                             "unset MPLBACKEND, or run %matplotlib inline"))

    report = Report(python=f"{platform.python_version()} ({sys.executable})",
                    platform=f"{platform.system()} {platform.machine()}, {os.cpu_count()} CPU(s)",
                    where=place, widgets=widgets, packages=packages, problems=problems)
    if show:
        if _shell() is not None:
            from IPython.display import display
            display(report)
        else:
            print(report)
    return report


def _widgets_status(place, packages, problems):
    if packages.get("ipywidgets") is None:
        return "no: ipywidgets is not installed (explorers fall back to static plots)"
    if place == "Google Colab":
        return "yes: Colab renders ipywidgets"
    if place in ("plain Python", "IPython terminal"):
        return "no: not in a notebook (explorers fall back to static plots)"
    major = _tuple(packages["ipywidgets"])[0]
    if major >= 8 and packages.get("jupyterlab_widgets") is None:
        problems.append(("ipywidgets 8 is installed without jupyterlab_widgets, so JupyterLab cannot draw widgets.",
                         "pip install jupyterlab_widgets, then reload the browser tab"))
        return "probably not: jupyterlab_widgets is missing"
    return ("yes, if the JupyterLab server runs in this environment (the kernel cannot see the browser; "
            "if sliders show as text, install jupyterlab_widgets where JupyterLab runs)")
