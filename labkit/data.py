"""The course's cited datasets: ``load("hardware")`` -> a small column table.

The CSV files live in ``datasets/`` of the repository and ship inside the wheel as
``labkit/datasets``, so they load the same from a checkout, Colab or Binder. Every row has a
``source``; units are in the column names (``peak_flops_per_s``, ``bandwidth_bytes_per_s``).
Empty cells are NaN in numeric columns.
"""

import csv
import html
from pathlib import Path

import numpy as np

_HERE = Path(__file__).resolve().parent


def datasets_dir():
    """Where the CSV files are: inside the installed package, else the checkout's datasets/."""
    for candidate in (_HERE / "datasets", _HERE.parent / "datasets"):
        if candidate.is_dir():
            return candidate
    raise FileNotFoundError("labkit's datasets are missing: reinstall labkit "
                            "(pip install --force-reinstall labkit) or run from a full checkout.")


def available():
    """Names of the datasets that can be loaded."""
    return sorted(p.stem for p in datasets_dir().glob("*.csv"))


def path(name):
    """The path of dataset ``name`` (without .csv)."""
    if not isinstance(name, str):
        raise TypeError(f"name must be a dataset name such as 'hardware', got {name!r}")
    p = datasets_dir() / f"{name.removesuffix('.csv')}.csv"
    if not p.is_file():
        raise ValueError(f"no dataset named {name!r}; available: {', '.join(available())}")
    return p


class Table:
    """Columns of equal length: ``t["year"]`` is a numpy array; ``t.rows()`` a list of dicts."""

    def __init__(self, columns, name=""):
        self.columns = dict(columns)
        self.name = name
        lengths = {len(v) for v in self.columns.values()}
        if len(lengths) > 1:
            raise ValueError(f"columns of {name or 'table'} have different lengths: {lengths}")

    def __len__(self):
        return len(next(iter(self.columns.values()))) if self.columns else 0

    def __getitem__(self, column):
        if isinstance(column, str):
            if column not in self.columns:
                raise KeyError(f"{self.name or 'table'} has no column {column!r}; "
                               f"columns: {', '.join(self.columns)}")
            return self.columns[column]
        mask = np.asarray(column)
        return Table({k: v[mask] for k, v in self.columns.items()}, self.name)

    def __iter__(self):
        return iter(self.rows())

    @property
    def column_names(self):
        return list(self.columns)

    def rows(self):
        """Every row as a dict, in file order."""
        return [{k: _py(v[i]) for k, v in self.columns.items()} for i in range(len(self))]

    def where(self, mask=None, **equal):
        """Rows where ``mask`` is True and each ``column=value`` holds: ``t.where(kind="GPU")``."""
        keep = np.ones(len(self), dtype=bool) if mask is None else np.asarray(mask, dtype=bool)
        for column, value in equal.items():
            keep &= self[column] == value
        return self[keep]

    def sort(self, column):
        """A copy sorted by ``column``."""
        order = np.argsort(self[column], kind="stable")
        return self[order]

    def __repr__(self):
        return f"<Table {self.name!r}: {len(self)} rows × {len(self.columns)} columns: {', '.join(self.columns)}>"

    def _repr_html_(self, max_rows=12):
        head = "".join(f"<th>{html.escape(c)}</th>" for c in self.columns)
        body = []
        for row in self.rows()[:max_rows]:
            body.append("<tr>" + "".join(f"<td>{html.escape(_cell(v))}</td>" for v in row.values()) + "</tr>")
        more = f"<p>… {len(self) - max_rows} more rows</p>" if len(self) > max_rows else ""
        return f"<table><thead><tr>{head}</tr></thead><tbody>{''.join(body)}</tbody></table>{more}"


def load(name):
    """Load ``datasets/<name>.csv`` as a :class:`Table` (numeric columns as float arrays)."""
    with open(path(name), newline="", encoding="utf-8") as f:
        reader = csv.DictReader(line for line in f if not line.startswith("#"))
        raw = {k: [] for k in reader.fieldnames}
        for row in reader:
            for k in raw:
                raw[k].append((row.get(k) or "").strip())
    return Table({k: _column(v) for k, v in raw.items()}, name)


def _column(values):
    try:
        return np.array([float(v) if v != "" else np.nan for v in values], dtype=float)
    except ValueError:
        return np.array(values, dtype=object)


def _py(v):
    return v.item() if isinstance(v, np.generic) else v


def _cell(v):
    if isinstance(v, float):
        return "" if np.isnan(v) else f"{v:.4g}"
    return str(v)
