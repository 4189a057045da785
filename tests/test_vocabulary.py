"""One name per quantity: no public function, and no notebook call, uses a name the vocabulary of
labkit/ARCHITECTURE.md retired (its "replaces" column)."""

import importlib
import inspect
import json
import re

import pytest
from test_fuzz import MODULES, ROOT, _module_functions


def retired_names():
    """{retired name: the name that replaces it}."""
    text = (ROOT / "labkit" / "ARCHITECTURE.md").read_text(encoding="utf-8").split("<!-- vocabulary", 1)[1]
    out = {}
    for line in text.splitlines():
        cells = [c.strip() for c in line.strip().strip("|").split("|")]
        if len(cells) >= 5 and cells[0].startswith("`"):
            for old in re.findall(r"`([^`]+)`", cells[4]):
                out[old] = cells[0].strip("`")
    return out


def test_the_vocabulary_table_parses():
    retired = retired_names()
    assert retired["peak_flops"] == "peak_flops_per_s" and retired["batch"] == "batch_size"
    assert not set(retired) & set(retired.values()), "a name cannot be both retired and current"


@pytest.mark.parametrize("modname", list(MODULES))
def test_public_functions_use_current_names(modname):
    importlib.import_module(modname)
    retired = retired_names()
    found = [f"{modname}.{name}({p}) -> {retired[p]}" for name, fn in _module_functions(modname)
             for p in inspect.signature(fn).parameters if p in retired]
    assert not found, "parameters with retired names:\n" + "\n".join(found)


def test_notebooks_call_labkit_with_current_names():
    retired = retired_names()
    pattern = re.compile(r"[(,]\s*(" + "|".join(map(re.escape, retired)) + r")\s*=(?!=)")
    found = []
    for path in sorted((ROOT / "solutions").glob("*.ipynb")):
        for i, cell in enumerate(json.loads(path.read_text(encoding="utf-8"))["cells"]):
            if cell["cell_type"] == "code":
                for m in pattern.finditer("".join(cell["source"])):
                    found.append(f"{path.name} cell {i}: {m.group(1)}= -> {retired[m.group(1)]}=")
    assert not found, "keyword arguments with retired names:\n" + "\n".join(found)
