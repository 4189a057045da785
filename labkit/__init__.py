"""labkit: the helper library of the AI Infrastructure Lab course.

    from labkit import check, hint, progress

One module per chapter (``labkit.hardware``, ``labkit.scaling``, ``labkit.interconnect``,
``labkit.utilization``, ``labkit.faults``, ``labkit.energy``, ``labkit.codesign``) on a shared core (``labkit.core``: devices,
roofline, timeline, plotting, explorers, validation), SI units inside (``labkit.units``), cited
datasets (``labkit.data``) and a health check (``labkit.doctor()``). Module map and vocabulary:
labkit/ARCHITECTURE.md.
Chapter modules are imported on first use, so ``import labkit`` stays fast.
"""

import importlib

from .exercises import check, hint, progress

__version__ = "0.1.0"
REPO_URL = "https://github.com/ai-infra-lab/ai-infra-lab"  # the one place the repository URL lives
REPO_BRANCH = "main"

_LAZY = {"units", "data", "core", "hardware", "scaling", "interconnect", "utilization", "faults", "energy",
         "exercises", "release", "start_here", "codesign"}

__all__ = ["check", "hint", "progress", "doctor", "REPO_URL", "__version__", *sorted(_LAZY)]


def doctor(show=True):
    """Report Python, packages, where this runs and whether widgets will render; see labkit.doctor."""
    from ._doctor import doctor as _doctor
    return _doctor(show=show)


def __getattr__(name):
    if name in _LAZY:
        module = importlib.import_module(f".{name}", __name__)
        globals()[name] = module
        return module
    raise AttributeError(f"module 'labkit' has no attribute {name!r}")


def __dir__():
    return sorted(set(globals()) | _LAZY)
