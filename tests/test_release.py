"""One source: student notebooks are generated from solutions/ and kept in sync."""

import json
import shutil
import textwrap

import pytest

from labkit import release

ROOT = release.repo_root()


def test_notebooks_are_up_to_date():
    stale = release.stale(ROOT)
    assert not stale, ("out of date; run `python -m labkit release`: "
                       + ", ".join(str(p.relative_to(ROOT)) for p in stale))


def test_every_student_notebook_has_a_source():
    assert release.orphans(ROOT) == []
    assert sorted(p.name for p in (ROOT / "notebooks").glob("*.ipynb")) == \
        sorted(p.name for p in (ROOT / "solutions").glob("*.ipynb"))


def test_setup_cells_use_the_one_repository_url():
    assert release.setup_mismatches(ROOT) == []
    import labkit
    assert labkit.REPO_URL in release.setup_source()


def test_release_twice_changes_nothing(tmp_path):
    for name in ("solutions", "notebooks"):
        shutil.copytree(ROOT / name, tmp_path / name)
    shutil.copy(ROOT / "README.md", tmp_path / "README.md")
    (tmp_path / "labkit").mkdir()
    shutil.rmtree(tmp_path / "notebooks")
    assert release.release(tmp_path, out=open("/dev/null", "w"))
    first = {p.name: p.read_text() for p in (tmp_path / "notebooks").glob("*.ipynb")}
    assert release.release(tmp_path, out=open("/dev/null", "w")) == []
    assert first == {p.name: p.read_text() for p in (tmp_path / "notebooks").glob("*.ipynb")}


def test_student_copy_has_no_solutions_and_no_outputs():
    for path in (ROOT / "notebooks").glob("*.ipynb"):
        nb = json.loads(path.read_text())
        for cell in nb["cells"]:
            assert release.BEGIN not in cell["source"] and release.END not in cell["source"], path
            if cell["cell_type"] == "code":
                assert cell["outputs"] == [] and cell["execution_count"] is None


def test_function_body_becomes_not_implemented():
    src = textwrap.dedent("""\
        def f(x):
            \"\"\"doc\"\"\"
            ### BEGIN SOLUTION
            y = 2 * x
            return y
            ### END SOLUTION

        check("00.x", f)""")
    out = release.strip_code(src)
    assert "    # YOUR CODE HERE\n    raise NotImplementedError()" in out
    assert "2 * x" not in out and out.endswith('check("00.x", f)')


def test_top_level_region_keeps_names_defined():
    src = "### BEGIN SOLUTION\nanswer = 6 * 175e9 * 300e9\nunit, scale = 'FLOP', 1\n### END SOLUTION\ncheck('02.x', answer)"
    out = release.strip_code(src)
    assert "answer = ...  # YOUR CODE HERE" in out and "unit = ...  # YOUR CODE HERE" in out
    assert "scale = ...  # YOUR CODE HERE" in out and "175e9" not in out
    namespace = {"check": lambda *a: None}
    exec(out, namespace)  # the student copy runs
    assert namespace["answer"] is Ellipsis


def test_markdown_answers_are_replaced():
    md = "Why?\n\n### BEGIN SOLUTION\nBecause bandwidth.\n### END SOLUTION\n\nNext."
    assert release.strip_markdown(md) == "Why?\n\nYOUR ANSWER HERE\n\nNext."


def test_unmatched_marker_is_a_clear_error():
    with pytest.raises(ValueError, match="no matching"):
        release.strip_code("### BEGIN SOLUTION\nx = 1")


def test_command_line_check_mode():
    from labkit.__main__ import main
    assert main(["release", "--check"]) == 0
