"""Published training runs: one row of ``datasets/models.csv`` as a :class:`PublishedRun`.

The course checks its estimates against these figures (GPT-3's 3.14e23 FLOP on 10,000 V100s in 14.8
days), so they are read from the cited dataset, never typed again in a module:

    published_run("GPT-3").total_flops     # 3.14e23 FLOP (Brown et al. 2020, Table D.1)
"""

import functools
import math
from dataclasses import dataclass

from .validate import text


@dataclass(frozen=True)
class PublishedRun:
    """A notable model's training run; a figure the row does not give is None.

    ``total_flops`` (FLOP, dense), ``seconds`` of training (wall clock), ``n_devices`` accelerators
    of kind ``hardware``; ``flop_basis`` says whether the FLOPs are the paper's own ("published") or
    computed here as 6·N·D ("6ND").
    """
    model: str
    year: int
    n_params: float
    n_tokens: float
    total_flops: float
    flop_basis: str
    hardware: str
    n_devices: float
    seconds: float
    source: str


def published_run(name):
    """The row of models.csv whose model is ``name`` (case-insensitive), read once and cached."""
    return _published_run(text("name", name).strip().lower())


@functools.lru_cache(maxsize=None)
def _published_run(key):
    from ..data import load
    rows = load("models").rows()
    hits = [r for r in rows if str(r["model"]).lower() == key]
    if len(hits) != 1:
        raise ValueError(f"no model named {key!r} in models.csv; choose one of: "
                         f"{', '.join(str(r['model']) for r in rows)}")
    r = {k: (None if isinstance(v, float) and math.isnan(v) else v) for k, v in hits[0].items()}
    days = r["training_days"]
    return PublishedRun(r["model"], int(r["year"]), r["n_params"], r["training_tokens"], r["training_flop"],
                        r["flop_basis"], r["hardware"], r["n_devices"], None if days is None else days * 86400.0,
                        r["source"])
