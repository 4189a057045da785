"""The repository's promises: README commands, CI, Colab-friendly floors, a fast import."""

import re
import subprocess
import sys
from pathlib import Path

try:
    import tomllib                       # Python 3.11+
except ModuleNotFoundError:              # Python 3.10: the same parser, from PyPI (the test extra installs it)
    import tomli as tomllib

from packaging.requirements import Requirement
from packaging.specifiers import SpecifierSet

ROOT = Path(__file__).resolve().parent.parent
README = (ROOT / "README.md").read_text(encoding="utf-8")


def _commands():
    blocks = re.findall(r"```bash\n(.*?)```", README, re.S)
    return [b.strip() for b in blocks if "git clone" not in b]


def test_readme_has_exactly_three_one_line_commands():
    commands = _commands()
    assert len(commands) == 3, commands
    lab, test, site = commands
    assert all("\n" not in c for c in commands)
    assert "jupyterlab" in lab and "notebooks/00_start_here.ipynb" in lab
    assert "pytest" in test
    assert '".[site]"' in site and site.endswith("site/build.py") and (ROOT / "site" / "build.py").is_file()


def test_site_extra_is_declared():
    extras = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["optional-dependencies"]
    assert {Requirement(d).name for d in extras["site"]} >= {"sphinx", "myst-nb", "sphinx-book-theme", "nbclient"}
    assert "axe-playwright-python" in {Requirement(d).name for d in extras["test"]}


def test_doctor_floors_are_pyprojects():
    from labkit._doctor import PACKAGES
    meta = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    floors = {}
    for dep in meta["dependencies"]:
        req = Requirement(dep)
        floors[req.name.lower()] = next(s.version for s in req.specifier if s.operator == ">=")
    assert {dist: low for dist, _, low, needed in PACKAGES if needed} == floors


def test_ci_runs_exactly_the_readme_test_command():
    test = _commands()[1]
    ci = (ROOT / ".ci" / "run").read_text()
    assert [line for line in ci.splitlines() if line.strip() == test], "'.ci/run' must run the README's test command verbatim"


def test_floors_admit_what_colab_preloads():
    meta = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    assert SpecifierSet(meta["requires-python"]).contains("3.12") and SpecifierSet(meta["requires-python"]).contains("3.10")
    colab = {"ipython": "7.34.0", "ipywidgets": "7.7.1", "numpy": "2.0.2", "matplotlib": "3.10.0"}
    for dep in meta["dependencies"]:
        req = Requirement(dep)
        if req.name.lower() in colab:
            assert req.specifier.contains(colab[req.name.lower()]), f"{dep} would upgrade Colab's {colab[req.name.lower()]}"
    assert {Requirement(d).name for d in meta["dependencies"]} == {"numpy", "matplotlib", "ipywidgets", "ipython", "simpy"}


def test_import_labkit_stays_light():
    code = ("import sys, labkit; heavy = [m for m in ('matplotlib.pyplot', 'simpy', 'ipywidgets', "
            "'labkit.hardware', 'labkit.scaling', 'labkit.interconnect', 'labkit.utilization', 'labkit.faults', "
            "'labkit.energy') if m in sys.modules]; print(heavy)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "[]"


def test_binder_config_installs_labkit():
    assert "pip install" in (ROOT / "binder" / "postBuild").read_text()
