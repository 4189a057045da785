"""Notebook-level checks on top of nbval (pytest --nbval-lax runs every cell of every notebook).

- In solutions/ every labkit check must pass: a ❌ or ⬜ there fails the cell.
- In notebooks/ (student copies) every check must say "not attempted" and the notebook must run on.

The whole run (tests, their subprocesses and nbval's kernels, which inherit the environment) keeps
labkit's progress file in a temporary folder, never in the developer's or CI's home.
"""

import atexit
import os
import shutil
import tempfile
from pathlib import Path

import pytest

_DATA_DIR = tempfile.mkdtemp(prefix="labkit-test-data-")
os.environ["LABKIT_DATA_DIR"] = _DATA_DIR
atexit.register(shutil.rmtree, _DATA_DIR, ignore_errors=True)


def _check_statuses(outputs):
    statuses = []
    for out in outputs or []:
        page = (out.get("data") or {}).get("text/html", "")
        if isinstance(page, list):
            page = "".join(page)
        for status in ("passed", "failed", "not-attempted"):
            if f"labkit-check labkit-{status}" in page:
                statuses.append(status)
    return statuses


@pytest.hookimpl(wrapper=True)
def pytest_runtest_call(item):
    result = yield
    outputs = getattr(item, "test_outputs", None)
    if outputs is None:
        return result
    folder = Path(str(item.fspath)).parent.name
    statuses = _check_statuses(outputs)
    if folder == "solutions" and any(s != "passed" for s in statuses):
        raise AssertionError(f"a check in an instructor notebook did not pass ({statuses}):\n{item.cell.source}")
    if folder == "notebooks" and any(s != "not-attempted" for s in statuses):
        raise AssertionError(f"a check in a student notebook did not say 'not attempted' ({statuses}):\n"
                             f"{item.cell.source}")
    return result
