"""Small pieces the chapter's simulations share (private)."""

import numpy as np


def events(env, fallback):
    """Number of events simpy scheduled (and, after run(), processed) in this environment."""
    counter = getattr(env, "_eid", None)
    try:
        return int(next(counter))
    except TypeError:
        return int(fallback)


def quantile(x, q):
    """The q-quantile of x (a result always holds at least one value)."""
    return float(np.quantile(x, q))
