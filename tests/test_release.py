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
    with pytest.raises(release.ReleaseError, match="line 1: BEGIN SOLUTION without END SOLUTION"):
        release.strip_code("### BEGIN SOLUTION\nx = 1")


def test_several_regions_in_one_cell_are_all_hidden():
    md = "A?\n### BEGIN SOLUTION\nsecret one\n### END SOLUTION\nB?\n  ### BEGIN SOLUTION\nsecret two\n### END SOLUTION"
    assert release.strip_markdown(md) == "A?\nYOUR ANSWER HERE\nB?\nYOUR ANSWER HERE"
    code = ("def f():\n    ### BEGIN SOLUTION\n    return 1\n    ### END SOLUTION\n"
            "### BEGIN SOLUTION\nx = 2\n### END SOLUTION\nprint(x)")
    assert release.strip_code(code) == ("def f():\n    # YOUR CODE HERE\n    raise NotImplementedError()\n"
                                        "x = ...  # YOUR CODE HERE\nprint(x)")


# --- bad markers: a clear error naming file, cell and line; notebooks/ left as it was -----------------
def _cell(cell_type, source):
    cell = {"cell_type": cell_type, "metadata": {}, "source": source}
    if cell_type == "code":
        cell.update(outputs=[], execution_count=None)
    return cell


def _notebook(*cells):
    return {"cells": list(cells), "metadata": {}, "nbformat": 4, "nbformat_minor": 5}


GOOD = _notebook(_cell("markdown", "# Good\n\nWhy?\n### BEGIN SOLUTION\nBecause.\n### END SOLUTION"),
                 _cell("code", "def f(x):\n    ### BEGIN SOLUTION\n    return 2 * x\n    ### END SOLUTION"))

# (cell type, source of cell index 2 of solutions/01_bad.ipynb, line named, what is wrong)
BAD_MARKERS = {
    "nested in code": ("code", "def g():\n    ### BEGIN SOLUTION\n    a = 1\n    ### BEGIN SOLUTION\n    b = 2\n"
                       "    ### END SOLUTION\n    leak = 3\n    ### END SOLUTION",
                       4, "BEGIN SOLUTION inside another solution region"),
    "nested in markdown": ("markdown", "Q?\n### BEGIN SOLUTION\nA\n### BEGIN SOLUTION\nB\n### END SOLUTION\n"
                           "leaked answer\n### END SOLUTION",
                           4, "BEGIN SOLUTION inside another solution region"),
    "BEGIN without END in code": ("code", "x = 1\n\n### BEGIN SOLUTION\nleak = 42",
                                  3, "BEGIN SOLUTION without END SOLUTION"),
    "BEGIN without END in markdown": ("markdown", "Q?\n\n\n### BEGIN SOLUTION\nthe whole leaked answer",
                                      4, "BEGIN SOLUTION without END SOLUTION"),
    "stray END in code": ("code", "x = 1\n### END SOLUTION\ny = 2", 2, "END SOLUTION without BEGIN SOLUTION"),
    "stray END in markdown": ("markdown", "A\nB\nC\nD\n### END SOLUTION", 5, "END SOLUTION without BEGIN SOLUTION"),
    "marker lookalike in code": ("code", "def g():\n    ## BEGIN SOLUTION\n    leak = 1\n    ### END SOLUTION",
                                 2, "'## BEGIN SOLUTION' looks like a solution marker but is not exactly"),
}


def _small_repo(tmp_path, bad_text):
    """solutions/00_good + 01_bad, and a notebooks/ whose 00_good is out of date (release would rewrite it)."""
    (tmp_path / "labkit").mkdir()
    (tmp_path / "solutions").mkdir()
    (tmp_path / "notebooks").mkdir()
    (tmp_path / "solutions" / "00_good.ipynb").write_text(release.dumps(GOOD))
    (tmp_path / "solutions" / "01_bad.ipynb").write_text(bad_text)
    (tmp_path / "notebooks" / "00_good.ipynb").write_text('{"old": "student copy"}\n')
    (tmp_path / "notebooks" / "01_bad.ipynb").write_text('{"old": "other copy"}\n')
    return tmp_path


def _snapshot(folder):
    return {p.relative_to(folder): p.read_bytes() for p in sorted(folder.rglob("*"))}


def _bad_cases():
    for name, (cell_type, source, line, what) in BAD_MARKERS.items():
        bad = _notebook(_cell("markdown", "# Bad"), _cell("code", "### BEGIN SOLUTION\nok = 1\n### END SOLUTION"),
                        _cell(cell_type, source), _cell("markdown", "after"))
        yield pytest.param(release.dumps(bad), [f"solutions/01_bad.ipynb, cell index 2 ({cell_type}), line {line}: {what}"],
                           id=name)
    yield pytest.param('{"cells": [\n  {"cell_type": "code",,\n', ["solutions/01_bad.ipynb: not valid JSON (line 2, column"],
                       id="invalid JSON")


@pytest.mark.parametrize("argv", [["release"], ["release", "--check"]], ids=["release", "check"])
@pytest.mark.parametrize("bad_text, expected", list(_bad_cases()))
def test_bad_solutions_fail_naming_file_cell_and_line(tmp_path, monkeypatch, capsys, argv, bad_text, expected):
    from labkit.__main__ import main
    root = _small_repo(tmp_path, bad_text)
    before = _snapshot(root / "notebooks")
    monkeypatch.setattr(release, "repo_root", lambda: root)
    assert main(argv) == 2
    out, err = capsys.readouterr()
    for message in expected:
        assert message in err, err
    assert "Traceback" not in out + err and "wrote" not in out
    assert _snapshot(root / "notebooks") == before  # byte for byte (00_good too), and no temporary files left


def test_every_bad_file_is_reported_at_once(tmp_path):
    root = _small_repo(tmp_path, "not json")
    (root / "solutions" / "02_bad.ipynb").write_text(release.dumps(_notebook(_cell("markdown", "### END SOLUTION"))))
    assert release.validate(root) == [
        "solutions/01_bad.ipynb: not valid JSON (line 1, column 1: Expecting value)",
        "solutions/02_bad.ipynb, cell index 0 (markdown), line 1: END SOLUTION without BEGIN SOLUTION"]


def test_markers_in_a_raw_cell_are_refused(tmp_path):
    root = _small_repo(tmp_path, release.dumps(_notebook(_cell("raw", "### BEGIN SOLUTION\nx\n### END SOLUTION"))))
    assert release.validate(root) == [
        "solutions/01_bad.ipynb, cell index 0 (raw): solution markers are only handled in code and markdown cells"]


def test_command_line_error_exits_2_without_traceback(tmp_path):
    import subprocess
    import sys
    root = _small_repo(tmp_path, release.dumps(_notebook(_cell("code", "x = 1\n### BEGIN SOLUTION\nx = 2"))))
    before = _snapshot(root / "notebooks")
    script = ("import sys, pathlib, labkit.release as r; r.repo_root = lambda: pathlib.Path(sys.argv[1]); "
              "from labkit.__main__ import main; sys.exit(main(['release']))")
    run = subprocess.run([sys.executable, "-c", script, str(root)], capture_output=True, text=True, timeout=60)
    assert run.returncode == 2, run
    assert "solutions/01_bad.ipynb, cell index 0 (code), line 2: BEGIN SOLUTION without END SOLUTION" in run.stderr
    assert "Traceback" not in run.stderr
    assert _snapshot(root / "notebooks") == before


def test_good_solutions_release_atomically(tmp_path):
    root = _small_repo(tmp_path, release.dumps(GOOD))
    assert release.validate(root) == []
    written = release.release(root, out=open("/dev/null", "w"))
    assert sorted(p.name for p in written) == ["00_good.ipynb", "01_bad.ipynb"]
    assert sorted(p.name for p in (root / "notebooks").iterdir()) == ["00_good.ipynb", "01_bad.ipynb"]  # no temp files
    text = (root / "notebooks" / "00_good.ipynb").read_text()
    assert "YOUR ANSWER HERE" in text and "2 * x" not in text and "Because." not in text


def test_command_line_check_mode():
    from labkit.__main__ import main
    assert main(["release", "--check"]) == 0


def test_a_failed_write_leaves_the_old_file_whole(tmp_path, monkeypatch):
    target = tmp_path / "notebooks" / "00_x.ipynb"
    target.parent.mkdir()
    target.write_text("old\n")

    def rename_fails(src, dst):
        raise OSError("disk full")
    from labkit.core import files
    monkeypatch.setattr(files.os, "replace", rename_fails)
    with pytest.raises(OSError, match="disk full"):
        release._write(target, "new\n")
    assert target.read_text() == "old\n" and [p.name for p in target.parent.iterdir()] == ["00_x.ipynb"]
    monkeypatch.undo()
    release._write(target, "new\n")
    assert target.read_bytes() == b"new\n"


def test_files_that_are_not_notebooks_are_named(tmp_path):
    root = _small_repo(tmp_path, '{"cells": {}}')
    (root / "solutions" / "02_cell.ipynb").write_text(release.dumps({"cells": [{"source": "x"}]}))
    (root / "solutions" / "03_latin1.ipynb").write_bytes(b'{"cells": ["caf\xe9"]}')
    assert release.validate(root) == [
        "solutions/01_bad.ipynb: not a notebook (no list of cells)",
        "solutions/02_cell.ipynb, cell index 0: not a notebook cell (no cell_type)",
        "solutions/03_latin1.ipynb: not UTF-8 text (invalid continuation byte at byte 15)"]


# --- releases a class can pin: --ref / --repo -------------------------------------------------------
def _pinnable_repo(tmp_path):
    """A copy of the repository's release inputs: solutions/, notebooks/, README, labkit/__init__.py, pyproject."""
    for name in ("solutions", "notebooks"):
        shutil.copytree(ROOT / name, tmp_path / name)
    for name in ("README.md", "pyproject.toml", "labkit/__init__.py"):
        (tmp_path / name).parent.mkdir(exist_ok=True)
        shutil.copy(ROOT / name, tmp_path / name)
    return tmp_path


@pytest.fixture
def pinnable(tmp_path, monkeypatch):
    import labkit
    root = _pinnable_repo(tmp_path)
    monkeypatch.setattr(release, "repo_root", lambda: root)
    for name in ("REPO_URL", "REPO_BRANCH", "__version__"):   # the command updates the running labkit too
        monkeypatch.setattr(labkit, name, getattr(labkit, name))
    return root


def test_ref_pins_setup_cells_badges_and_readme_to_a_tag(pinnable, capsys):
    from labkit.__main__ import main
    import labkit
    root = pinnable
    assert main(["release", "--ref", "v0.2.0"]) == 0
    assert "git tag v0.2.0" in capsys.readouterr().out
    url = labkit.REPO_URL
    slug = url.removeprefix("https://github.com/")
    for path in sorted((root / "notebooks").glob("*.ipynb")):
        nb = json.loads(path.read_text())
        text = "".join(c["source"] for c in nb["cells"])
        assert f'labkit @ git+{url}@v0.2.0' in text, path.name
        assert f"colab.research.google.com/github/{slug}/blob/v0.2.0/notebooks/{path.name}" in text, path.name
        assert f"mybinder.org/v2/gh/{slug}/v0.2.0?urlpath=lab/tree/notebooks/{path.name}" in text, path.name
        assert "@main" not in text and "/blob/main/" not in text, path.name
    readme = (root / "README.md").read_text()
    assert "Course version: `v0.2.0`" in readme and "/blob/main/notebooks" not in readme
    init = (root / "labkit" / "__init__.py").read_text()
    assert 'REPO_BRANCH = "v0.2.0"' in init and '__version__ = "0.2.0"' in init
    assert 'version = "0.2.0"' in (root / "pyproject.toml").read_text()
    assert main(["release", "--check"]) == 0          # the pin persists: a later release keeps it
    assert main(["release", "--ref", "main"]) == 0     # and back to the branch (the version stays)
    text = (root / "notebooks" / "00_start_here.ipynb").read_text()
    assert "@main" in text and "v0.2.0" not in text
    assert '__version__ = "0.2.0"' in (root / "labkit" / "__init__.py").read_text()


def test_a_fork_is_one_command(pinnable):
    from labkit.__main__ import main
    root = pinnable
    assert main(["release", "--repo", "https://github.com/someone/my-course.git/", "--ref", "fall-2026"]) == 0
    init = (root / "labkit" / "__init__.py").read_text()
    assert 'REPO_URL = "https://github.com/someone/my-course"' in init and 'REPO_BRANCH = "fall-2026"' in init
    text = (root / "solutions" / "03_interconnects.ipynb").read_text()
    assert "git+https://github.com/someone/my-course@fall-2026" in text
    assert "mybinder.org/v2/gh/someone/my-course/fall-2026" in (root / "notebooks" / "03_interconnects.ipynb").read_text()
    assert 'version = "0.' in (root / "pyproject.toml").read_text()   # a branch leaves the version alone


@pytest.mark.parametrize("argv, message", [
    (["--ref", "v0.2.0 ; rm -rf /"], "ref must be a git branch or tag name"),
    (["--ref", "../main"], "ref must be a git branch or tag name"),
    (["--ref=-x"], "ref must be a git branch or tag name"),
    (["--repo", "https://gitlab.com/a/b"], "repo must look like https://github.com/OWNER/NAME"),
    (["--ref", "v1.0.0", "--check"], "--check only compares"),
])
def test_bad_ref_or_repo_is_refused_and_changes_nothing(pinnable, capsys, argv, message):
    from labkit.__main__ import main
    root = pinnable
    before = {p: p.read_bytes() for p in [root / "labkit" / "__init__.py", root / "pyproject.toml",
                                           *sorted((root / "notebooks").glob("*.ipynb"))]}
    assert main(["release", *argv]) == 2
    assert message in capsys.readouterr().err
    assert {p: p.read_bytes() for p in before} == before


def test_the_release_tag_matches_the_package_version():
    import labkit
    try:
        import tomllib
    except ModuleNotFoundError:
        import tomli as tomllib
    version = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["version"]
    assert labkit.__version__ == version
    assert release.TAG.match(f"v{version}")
    assert release.check_ref(labkit.REPO_BRANCH) == labkit.REPO_BRANCH
