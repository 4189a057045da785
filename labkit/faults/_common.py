"""Chapter 05's shared constants (the Llama 3 run, the timeline's state codes and colours) and
the Weibull helpers every model uses."""

import math

from ..core.plotting import HATCHES, PALETTE
from ..core.timeline import FAULT_STATES
from ..core.validate import number

# The Llama 3 405B pre-training run: Dubey et al., "The Llama 3 Herd of Models", arXiv:2407.21783
# (2024), Section 3.3.4 and Table 5: a 54-day snapshot on 16,384 H100 GPUs with 466 job
# interruptions, 47 planned and 419 unexpected; > 90 % effective training time.
LLAMA3_GPUS = 16_384
LLAMA3_DAYS = 54
LLAMA3_UNEXPECTED = 419
LLAMA3_PLANNED = 47
LLAMA3_EFFECTIVE_TRAINING = 0.90  # "higher than 90 %"

# The run's timeline states are core's FAULT_STATES (compute, checkpoint, lost, restart); the
# simulation writes their codes, the plots colour them by name.
_COMPUTE, _CHECKPOINT, _LOST, _RESTART = (FAULT_STATES.code(k) for k in ("compute", "checkpoint", "lost", "restart"))
# Okabe–Ito green, blue, vermillion, orange, each with its own hatch (drawn white): no state is told by colour alone.
STATE_COLORS = dict(zip(FAULT_STATES.names, (PALETTE[2], PALETTE[0], PALETTE[3], PALETTE[1])))
STATE_HATCHES = dict(zip(FAULT_STATES.names, HATCHES[:4]))
#: the timeline's key in words (for titles that stand in for a legend)
STATE_KEY = "green compute · blue // checkpoint · red xx lost · orange .. restart · ▼ failure"

# Bounds that keep every call finite in time: a simulation runs at most this many seeds per point,
# and a Weibull shape outside this range is not a model of hardware failures (and overflows Γ).
_MAX_SEEDS = 1000


def _bars_path(x0, x1, y0=0.0, y1=1.0):
    """One compound matplotlib Path of the rectangles [x0, x1] × [y0, y1]: drawn (and hatched) in one
    call, where one hatched polygon each costs about 1.5 ms (an explorer's whole budget in 70 bars)."""
    import numpy as np
    from matplotlib.path import Path
    x0, x1 = np.asarray(x0, dtype=float).ravel(), np.asarray(x1, dtype=float).ravel()
    v = np.empty((len(x0), 5, 2))
    v[:, :, 0] = np.column_stack([x0, x0, x1, x1, x0])
    v[:, :, 1] = (y0, y1, y1, y0, y0)
    codes = np.tile(np.array([Path.MOVETO, Path.LINETO, Path.LINETO, Path.LINETO, Path.CLOSEPOLY],
                             dtype=Path.code_type), len(x0))
    return Path(v.reshape(-1, 2), codes)


def _set_path(patch, path):
    """Give a PathPatch a new path (``set_path`` is missing from older matplotlib)."""
    if hasattr(patch, "set_path"):
        patch.set_path(path)
    else:                                   # pragma: no cover (matplotlib < 3.8)
        patch._path = path
    patch.stale = True
_SHAPE_RANGE = (0.1, 20.0)


def _weibull_scale(mtbf, shape):
    return mtbf / math.gamma(1.0 + 1.0 / shape)


def _shape(name, value):
    lo, hi = _SHAPE_RANGE
    return number(name, value, "Weibull shape", minimum=lo, maximum=hi)
