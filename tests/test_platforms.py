"""The platforms the course claims, each installed for real in a venv of its own and tested there.

- **lowest**: Python 3.10 with the lowest versions pyproject.toml allows, resolved by uv's
  ``--resolution lowest-direct`` (every direct dependency at its floor, the rest as a learner's pip
  would pick). The installed versions must equal the floors, so the floors are the tested ones.
- **colab**: Python 3.12 with what Google Colab preloads (IPython 7.34, ipykernel 6.17, ipywidgets
  7.7.1, notebook 6.5, numpy 2.0, matplotlib 3.10); installing labkit there the way the setup cell
  does (pip, not editable) must add labkit and simpy and upgrade or downgrade nothing.
- **binder**: ``repo2docker --no-build`` accepts binder/.

Each profile then runs the unit tests (less the browser, grader-sandbox, nbgrader, site and
platform tests, which need tools these environments do not claim) and every notebook of notebooks/
and solutions/ under nbval, in its own interpreter. The venvs are kept under the temporary folder,
keyed by the profile, its Python and pyproject.toml, so a second run reuses them; pip's and uv's
download caches are shared. A profile is skipped with a reason when its Python is not installed
(looked up in pyenv's versions, then on PATH), when the package index cannot be reached, or with
``LABKIT_SKIP_PLATFORMS=1``.
"""

import hashlib
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import pytest

try:
    import tomllib                       # Python 3.11+
except ModuleNotFoundError:              # Python 3.10
    import tomli as tomllib

from packaging.requirements import Requirement

ROOT = Path(__file__).resolve().parent.parent
PYPROJECT = ROOT / "pyproject.toml"

#: What Colab preloads (the versions of its runtime as the issue measured it; notebook 6.5.7 because 6.5.5
#: pins pyzmq<25, which has no wheel for Python 3.12 and no longer compiles there).
COLAB_PINS = {"ipython": "7.34.0", "ipykernel": "6.17.1", "ipywidgets": "7.7.1", "notebook": "6.5.7",
              "numpy": "2.0.2", "matplotlib": "3.10.0"}
#: The test tools a profile needs to run its subset: the test extra less what only the tests left out
#: below use (a browser, JupyterLab, the grader's kernel manager).
_NOT_NEEDED = {"jupyterlab", "playwright", "jupyter-client", "jupyter-core", "axe-playwright-python"}
TEST_TOOLS = [d for d in tomllib.loads(PYPROJECT.read_text(encoding="utf-8"))["project"]["optional-dependencies"]["test"]
              if Requirement(d).name.lower().replace("_", "-") not in _NOT_NEEDED]
#: Tests that need what the profiles do not claim (a browser, bubblewrap, other tools' venvs).
NOT_IN_PROFILES = ["test_browser.py", "test_nbgrader.py", "test_sandbox.py", "test_grade.py",
                   "test_platforms.py", "test_site.py"]
UV = "uv>=0.4"
_OFFLINE = ("Could not find a version that satisfies", "No matching distribution", "Failed to fetch",
            "Failed to establish a new connection", "Temporary failure in name resolution",
            "Network is unreachable", "Max retries exceeded", "ProxyError", "dns error", "error sending request")


def _skip_requested():
    if os.environ.get("LABKIT_SKIP_PLATFORMS") == "1":
        pytest.skip("LABKIT_SKIP_PLATFORMS=1")


def find_python(version):
    """An interpreter of ``version`` ("3.10"): pyenv's newest patch release first, then PATH; else None."""
    root = Path(os.environ.get("PYENV_ROOT", Path.home() / ".pyenv")) / "versions"
    found = sorted(root.glob(f"{version}.*/bin/python{version}"),
                   key=lambda p: [int(x) for x in re.findall(r"\d+", p.parent.parent.name)])
    if found:
        return str(found[-1])
    return shutil.which(f"python{version}")


def floors():
    """{name: lowest version} of labkit's runtime dependencies, read from pyproject.toml."""
    deps = tomllib.loads(PYPROJECT.read_text(encoding="utf-8"))["project"]["dependencies"]
    out = {}
    for dep in deps:
        req = Requirement(dep)
        (low,) = [s.version for s in req.specifier if s.operator == ">="]
        out[req.name.lower()] = low
    return out


def _same_version(a, b):
    from packaging.version import Version
    return Version(a) == Version(b)


def _run(args, timeout=900, **kw):
    started = time.perf_counter()
    run = subprocess.run([str(a) for a in args], capture_output=True, text=True, timeout=timeout, **kw)
    run.seconds = time.perf_counter() - started
    return run


def _installed(python):
    """{lower-case name: version} of every distribution in ``python``'s environment."""
    code = ("import json, importlib.metadata as m; "
            "print(json.dumps({d.metadata['Name'].lower().replace('_', '-'): d.version for d in m.distributions()}))")
    run = _run([python, "-c", code], timeout=120)
    assert run.returncode == 0, run.stderr
    return json.loads(run.stdout)


def _install(python, *args, tool="uv"):
    """Install into ``python``'s venv with uv (fast) or pip (what Colab's setup cell uses); skip offline."""
    if tool == "uv":
        cmd = [python, "-m", "uv", "pip", "install", "--python", python, *args]
    else:
        cmd = [python, "-m", "pip", "install", "-q", "--disable-pip-version-check", *args]
    run = _run(cmd)
    if run.returncode != 0:
        output = run.stdout + run.stderr
        if any(s in output for s in _OFFLINE):
            pytest.skip(f"could not install from the package index: {output.strip()[-300:]}")
        raise AssertionError(f"{' '.join(map(str, cmd))} failed:\n{output[-4000:]}")
    return run


def _venv(name, python, spec):
    """(python path, fresh) of a venv for one profile with uv in it; made once per profile, Python and
    pyproject.toml (the key), reused while it says it is ready."""
    key = json.dumps([name, python, spec, PYPROJECT.read_text(encoding="utf-8")])
    venv = Path(tempfile.gettempdir()) / f"labkit-profile-{name}-{hashlib.sha256(key.encode()).hexdigest()[:12]}"
    bin_python = venv / "bin" / "python"
    if (venv / "labkit-ready").is_file():
        return str(bin_python), False
    shutil.rmtree(venv, ignore_errors=True)
    run = _run([python, "-m", "venv", venv], timeout=300)
    assert run.returncode == 0, run.stderr
    _install(str(bin_python), UV, tool="pip")
    return str(bin_python), True


def _ready(python):
    (Path(python).parent.parent / "labkit-ready").write_text("ready\n")


def _environment(tmp_path):
    """The environment a profile's tests run in: no inherited PYTHONPATH or Jupyter folders (the kernel
    nbval starts is the profile's own ipykernel), labkit's progress in a temporary folder."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("JUPYTER", "PYTHONPATH", "VIRTUAL_ENV"))}
    env.update(JUPYTER_CONFIG_DIR=str(tmp_path / "jupyter-config"), JUPYTER_DATA_DIR=str(tmp_path / "jupyter-data"),
               JUPYTER_PATH=str(tmp_path / "jupyter-data"), MPLBACKEND="agg", PYTHONDONTWRITEBYTECODE="1")
    return env


def _run_subset(python, tmp_path):
    """Unit tests and nbval of every notebook, in the profile's interpreter; returns pytest's summary."""
    ignore = [f"--ignore=tests/{name}" for name in NOT_IN_PROFILES]
    run = _run([python, "-m", "pytest", "-q", "-rfE", "--disable-warnings", "--tb=line",
                "-o", "addopts=--nbval-lax -p no:cacheprovider",
                "tests", "notebooks", "solutions", *ignore], timeout=1800, cwd=ROOT, env=_environment(tmp_path))
    lines = run.stdout.strip().splitlines() or [""]
    summary = lines[-1]
    failures = list(dict.fromkeys(l.strip() for l in lines if l.startswith(("FAILED", "ERROR"))))
    assert run.returncode == 0, (f"the profile's tests failed ({summary}):\n" + "\n".join(failures[:60])
                                 + f"\n{run.stdout[-3000:]}\n{run.stderr[-2000:]}")
    return summary, run.seconds


def test_floors_are_the_lowest_tested_versions(tmp_path):
    """Python 3.10, every direct dependency at its floor (uv --resolution lowest-direct)."""
    _skip_requested()
    base = find_python("3.10")
    if base is None:
        pytest.skip("no Python 3.10 (pyenv versions or python3.10 on PATH): the lowest-versions profile cannot run")
    started = time.perf_counter()
    python, fresh = _venv("lowest", base, ["lowest-direct", TEST_TOOLS])
    if fresh:
        _install(python, "--resolution", "lowest-direct", "-e", ROOT)
        runtime = {n: v for n, v in _installed(python).items()}
        constraints = tmp_path / "floors.txt"   # the test tools must not move what lowest-direct chose
        constraints.write_text("".join(f"{n}=={runtime[n]}\n" for n in floors()))
        _install(python, "-c", constraints, *TEST_TOOLS)
        _ready(python)
    installed = _installed(python)
    wrong = {n: (installed.get(n), low) for n, low in floors().items()
             if n not in installed or not _same_version(installed[n], low)}
    assert not wrong, f"installed (got, floor) differ from pyproject.toml's floors: {wrong}"
    ready = time.perf_counter()
    summary, seconds = _run_subset(python, tmp_path)
    print(f"\nlowest profile ({Path(base).parent.parent.name}; {', '.join(f'{n} {installed[n]}' for n in floors())}): "
          f"venv {ready - started:.0f} s, tests {seconds:.0f} s: {summary}")


def test_colab_pins_are_left_alone_and_pass(tmp_path):
    """Python 3.12 with Colab's preloaded pins; installing labkit as the setup cell does changes nothing."""
    _skip_requested()
    base = find_python("3.12")
    if base is None:
        pytest.skip("no Python 3.12 (pyenv versions or python3.12 on PATH): the Colab profile cannot run")
    started = time.perf_counter()
    python, fresh = _venv("colab", base, [COLAB_PINS, TEST_TOOLS])
    if fresh:
        pins = [f"{n}=={v}" for n, v in COLAB_PINS.items()]
        constraints = tmp_path / "colab.txt"
        constraints.write_text("\n".join(pins) + "\n")
        _install(python, "--only-binary", ":all:", *pins, *TEST_TOOLS, "-c", constraints)   # Colab compiles nothing
        _ready(python)
    before = _installed(python)
    assert {n: before.get(n) for n in COLAB_PINS} == COLAB_PINS
    setup = _install(python, ROOT, tool="pip")     # as the setup cell: %pip install "labkit @ git+...@<ref>"
    after = _installed(python)
    changed = {n: (before[n], after.get(n)) for n in before if n != "labkit" and after.get(n) != before[n]}
    added = sorted(set(after) - set(before) - {"labkit"})
    assert not changed, f"installing labkit changed what Colab preloads: {changed}"
    assert set(added) <= {"simpy"}, f"installing labkit added more than labkit and simpy: {added}"
    ready = time.perf_counter()
    summary, seconds = _run_subset(python, tmp_path)
    print(f"\ncolab profile ({Path(base).parent.parent.name}; labkit install {setup.seconds:.0f} s, added "
          f"{added + ['labkit']}, changed nothing): venv {ready - started:.0f} s, tests {seconds:.0f} s: {summary}")


def test_repo2docker_accepts_binder(tmp_path):
    """``repo2docker --no-build`` reads binder/ and writes a Dockerfile that installs labkit."""
    _skip_requested()
    python, fresh = _venv("repo2docker", sys.executable, ["jupyter-repo2docker"])
    if fresh:
        _install(python, "jupyter-repo2docker")
        _ready(python)
    r2d = Path(python).parent / "repo2docker"
    run = _run([r2d, "--no-build", "--debug", "--user-name", "jovyan", "--user-id", "1000", ROOT], timeout=300,
               cwd=tmp_path)
    output = run.stdout + run.stderr
    if run.returncode != 0 and ("docker" in output.lower() and "connect" in output.lower()):
        pytest.skip(f"repo2docker --no-build needed a Docker daemon here: {output.strip()[-300:]}")
    assert run.returncode == 0, output[-4000:]
    assert "RUN ./binder/postBuild" in output, output[-4000:]              # labkit installed from the checkout
    python = (ROOT / "binder" / "runtime.txt").read_text().strip().removeprefix("python-")
    assert f"python={python}" in output, output[:600]                      # runtime.txt's Python is used
