"""Notebook-level checks on top of nbval (pytest --nbval-lax runs every cell of every notebook).

- In solutions/ every labkit check must pass: a ❌ or ⬜ there fails the cell.
- In notebooks/ (student copies) every check must say "not attempted" and the notebook must run on.
"""

from pathlib import Path

import pytest



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
