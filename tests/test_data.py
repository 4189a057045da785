"""Datasets: every row cited, units in column names, and loadable from an installed wheel."""

import subprocess
import sys
import zipfile
from pathlib import Path

import numpy as np
import pytest

from labkit import data

ROOT = Path(__file__).resolve().parent.parent
NAMES = data.available()


@pytest.mark.parametrize("name", NAMES)
def test_every_row_has_a_source(name):
    table = data.load(name)
    assert len(table) > 0
    assert "source" in table.column_names, f"{name}.csv has no source column"
    empty = [i for i, s in enumerate(table["source"]) if not str(s).strip()]
    assert not empty, f"{name}.csv rows without a source: {empty}"


@pytest.mark.parametrize("name", NAMES)
def test_datasheet_mentions_each_dataset(name):
    assert f"{name}.csv" in (ROOT / "datasets" / "README.md").read_text(encoding="utf-8")


def test_table_api(tmp_path, monkeypatch):
    csv = tmp_path / "datasets"
    csv.mkdir()
    (csv / "demo.csv").write_text("# a comment line\nname,year,value_w,source\na,2020,1.5,x\nb,2021,,y\n")
    monkeypatch.setattr(data, "datasets_dir", lambda: csv)
    t = data.load("demo")
    assert len(t) == 2 and t.column_names == ["name", "year", "value_w", "source"]
    assert t["year"].dtype == float and np.isnan(t["value_w"][1])
    assert t.where(name="b")["year"].tolist() == [2021.0]
    assert t.rows()[0] == {"name": "a", "year": 2020.0, "value_w": 1.5, "source": "x"}
    assert "<table>" in t._repr_html_()
    with pytest.raises(KeyError, match="columns: name"):
        t["nope"]
    with pytest.raises(ValueError, match="available: demo"):
        data.load("missing")
    with pytest.raises(TypeError):
        data.load(3)


def test_datasets_load_from_an_installed_wheel(tmp_path):
    """Build the wheel, install it into an empty folder and load every dataset from there."""
    build = subprocess.run([sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation",
                            "-q", "-w", str(tmp_path / "dist"), str(ROOT)], capture_output=True, text=True)
    assert build.returncode == 0, build.stderr[-2000:]
    wheel = next((tmp_path / "dist").glob("labkit-*.whl"))
    names = zipfile.ZipFile(wheel).namelist()
    for name in NAMES:
        assert f"labkit/datasets/{name}.csv" in names
    target = tmp_path / "site"
    zipfile.ZipFile(wheel).extractall(target)  # what pip install does for a pure-Python wheel
    code = ("import labkit, labkit.data as d, pathlib; "
            "assert str(pathlib.Path(labkit.__file__).resolve()).startswith(%r), labkit.__file__; "
            "print(len(d.available()), sum(len(d.load(n)) for n in d.available()))" % str(target.resolve()))
    run = subprocess.run([sys.executable, "-c", code], cwd=tmp_path, capture_output=True, text=True,
                         env={"PYTHONPATH": str(target), "PATH": "/usr/bin:/bin"})
    assert run.returncode == 0, run.stderr[-2000:]
    n_sets, n_rows = map(int, run.stdout.split())
    assert n_sets == len(NAMES) and n_rows == sum(len(data.load(n)) for n in NAMES)

FUZZ_EXAMPLES = {"name": "hardware"}
