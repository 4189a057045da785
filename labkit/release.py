"""One source: write student notebooks from the instructor notebooks in ``solutions/``.

    python -m labkit release            # solutions/NN_*.ipynb -> notebooks/NN_*.ipynb
    python -m labkit release --check    # exit 1 when notebooks/ is out of date (what the tests run)
    python -m labkit release --sync-setup   # rewrite the setup cell of each source from REPO_URL
    python -m labkit release --nbgrader DIR # an nbgrader course tree, DIR/source/<chapter>/ (see nbgrader())
    python -m labkit release --otter DIR    # otter-grader master notebooks, DIR/<chapter>/ (see otter())
    python -m labkit release --ref v0.2.0   # setup cells, badges and README point at a tag (or a branch)
    python -m labkit release --repo https://github.com/ME/FORK --ref main   # a fork, in one command

Which copy of the course the setup cell installs and the badges open is ``labkit.REPO_URL`` at
``labkit.REPO_BRANCH`` (a branch or a tag; ``main`` by default). ``--ref`` / ``--repo`` rewrite those
two lines of labkit/__init__.py, then the setup cells, then the notebooks and the README. A release
tag is ``v`` + the package's version (``v0.2.0``), and ``--ref v0.2.0`` sets that version too.

Solution code sits between nbgrader's ``### BEGIN SOLUTION`` and ``### END SOLUTION``. In the
student copy a region inside a function becomes ``# YOUR CODE HERE`` + ``raise NotImplementedError()``
(check() reports that as "not attempted"); a top-level region becomes ``name = ...  # YOUR CODE HERE``
for each name it assigns, so the rest of the notebook still runs. Markdown answers become
"YOUR ANSWER HERE". Outputs and execution counts are cleared. Running it twice changes nothing.

Every solution notebook is read and checked before anything is written: a file that is not valid
JSON, a BEGIN inside another region, a BEGIN without its END, a stray END, or a line that looks like a
marker but is not exactly one (its region would not be hidden) raises ``ReleaseError`` naming the
file, the cell index (counting from 0, as in the notebook's list of cells) and the line in that cell;
then nothing in notebooks/ changes. Each file is written whole (a temporary file, then a rename).
"""

import ast
import json
import re
import sys
from pathlib import Path

BEGIN, END = "### BEGIN SOLUTION", "### END SOLUTION"
SETUP_TAG = "setup"
BADGE_TAG = "badges"
DROP_TAG = "solution-only"


def repo_root():
    """The checkout holding solutions/ (release is an instructor tool: it needs the repository)."""
    here = Path(__file__).resolve().parent.parent
    if (here / "solutions").is_dir():
        return here
    cwd = Path.cwd()
    for p in (cwd, *cwd.parents):
        if (p / "solutions").is_dir() and (p / "labkit").is_dir():
            return p
    raise FileNotFoundError("release needs a checkout of the course repository (a folder with solutions/)")


# ---------------------------------------------------------------------------------------------
# Which copy of the course a class gets: labkit.REPO_URL at labkit.REPO_BRANCH (a branch or a tag)
# ---------------------------------------------------------------------------------------------
#: A release tag: ``v`` and the package's version (``v0.2.0`` is labkit 0.2.0).
TAG = re.compile(r"^v(\d+)\.(\d+)\.(\d+)$")
_REF = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._/-]*$")
_URL = re.compile(r"^https://github\.com/[A-Za-z0-9][A-Za-z0-9-]*/[A-Za-z0-9._-]+$")


def check_ref(ref):
    """``ref`` if it is a usable git branch or tag name, else ValueError naming it."""
    if not isinstance(ref, str):
        raise TypeError(f"ref must be a branch or tag name (a string), got {ref!r}")
    if (not _REF.match(ref) or ".." in ref or "//" in ref or ref.endswith((".", "/", ".lock"))):
        raise ValueError(f"ref must be a git branch or tag name such as 'main' or 'v0.2.0', got {ref!r}")
    return ref


def check_repo_url(url):
    """``url`` without a trailing slash or .git if it is a GitHub repository's address, else ValueError."""
    if not isinstance(url, str):
        raise TypeError(f"repo must be a GitHub repository's https address (a string), got {url!r}")
    url = url.strip().rstrip("/").removesuffix(".git")
    if not _URL.match(url):
        raise ValueError(f"repo must look like https://github.com/OWNER/NAME (Colab and Binder open GitHub "
                         f"repositories), got {url!r}")
    return url


def _rewrite(path, pattern, replacement, what):
    text = path.read_text(encoding="utf-8")
    new, count = re.subn(pattern, replacement, text, count=1, flags=re.M)
    if count != 1:
        raise ReleaseError(f"{path}: found no {what} to rewrite")
    if new != text:
        _write(path, new)
        return True
    return False


def set_source(ref=None, repo_url=None, root=None):
    """Point the course at ``repo_url`` and ``ref``: rewrite ``REPO_URL`` / ``REPO_BRANCH`` in
    labkit/__init__.py (and the running labkit), and for a release tag ``vX.Y.Z`` the version in
    pyproject.toml and ``labkit.__version__``. Returns the files changed. Run :func:`sync_setup` and
    :func:`release` next (``python -m labkit release --ref/--repo`` does all three)."""
    import labkit
    root = Path(root) if root else repo_root()
    ref = check_ref(ref) if ref is not None else None
    repo_url = check_repo_url(repo_url) if repo_url is not None else None
    init, changed = root / "labkit" / "__init__.py", []
    if repo_url is not None:
        if _rewrite(init, r'^REPO_URL = "[^"]*"', f'REPO_URL = "{repo_url}"', "REPO_URL line"):
            changed.append(init)
        labkit.REPO_URL = repo_url
    if ref is not None:
        if _rewrite(init, r'^REPO_BRANCH = "[^"]*"', f'REPO_BRANCH = "{ref}"', "REPO_BRANCH line"):
            changed.append(init)
        labkit.REPO_BRANCH = ref
        tag = TAG.match(ref)
        if tag:
            version = ".".join(tag.groups())
            if _rewrite(init, r'^__version__ = "[^"]*"', f'__version__ = "{version}"', "__version__ line"):
                changed.append(init)
            pyproject = root / "pyproject.toml"
            if pyproject.is_file() and _rewrite(pyproject, r'^version = "[^"]*"', f'version = "{version}"',
                                                "[project] version line"):
                changed.append(pyproject)
            labkit.__version__ = version
    return sorted(set(changed))


def _urls(name):
    from . import REPO_BRANCH, REPO_URL
    slug = REPO_URL.removeprefix("https://github.com/").rstrip("/")
    colab = f"https://colab.research.google.com/github/{slug}/blob/{REPO_BRANCH}/notebooks/{name}"
    binder = f"https://mybinder.org/v2/gh/{slug}/{REPO_BRANCH}?urlpath=lab/tree/notebooks/{name}"
    return colab, binder


def badges_markdown(name):
    """The 'Open in Colab / Binder' badges of one student notebook."""
    colab, binder = _urls(name)
    return (f"[![Open In Colab](https://colab.research.google.com/assets/colab-badge.svg)]({colab}) "
            f"[![Binder](https://mybinder.org/badge_logo.svg)]({binder})")


def setup_source():
    """The setup cell every notebook starts with: installs labkit on Colab, does nothing elsewhere."""
    from . import REPO_BRANCH, REPO_URL
    return (
        "# Setup: on Google Colab this installs labkit from the course repository, without upgrading\n"
        "# anything Colab preloads; everywhere else (JupyterLab, Binder) labkit is already installed.\n"
        "import sys\n"
        "if \"google.colab\" in sys.modules:\n"
        f"    %pip install -q \"labkit @ git+{REPO_URL}@{REPO_BRANCH}\"\n"
        "    from google.colab import output\n"
        "    output.enable_custom_widget_manager()"
    )


# ---------------------------------------------------------------------------------------------
class ReleaseError(ValueError):
    """Solutions that cannot be released safely; the message names each file, cell and line."""


_LOOKALIKE = re.compile(r"\b(BEGIN|END)[ \t]+SOLUTION\b", re.I)


def _regions(source, where=""):
    """The solution regions of one cell's source, as (begin, end) line indices of their markers.

    Raises ReleaseError naming ``where`` and the 1-based line for a nested BEGIN, a BEGIN without
    END, a stray END, or a line that looks like a marker but is not exactly one.
    """
    def fail(n, what):
        raise ReleaseError(f"{where + ', ' if where else ''}line {n + 1}: {what}")

    regions, start = [], None
    for n, line in enumerate(source.split("\n")):
        marker = line.strip()
        if marker == BEGIN:
            if start is not None:
                fail(n, f"BEGIN SOLUTION inside another solution region (that one begins on line {start + 1})")
            start = n
        elif marker == END:
            if start is None:
                fail(n, "END SOLUTION without BEGIN SOLUTION")
            regions.append((start, n))
            start = None
        elif _LOOKALIKE.search(line):
            fail(n, f"{marker!r} looks like a solution marker but is not exactly '{BEGIN}' or '{END}' "
                    "(its region would not be hidden)")
    if start is not None:
        fail(start, "BEGIN SOLUTION without END SOLUTION")
    return regions


def strip_code(source, where=""):
    """Replace each solution region of a code cell's source with a placeholder."""
    lines = source.split("\n")
    out, i = [], 0
    for b, e in _regions(source, where):
        out.extend(lines[i:b])
        line = lines[b]
        indent = line[: len(line) - len(line.lstrip())]
        region = "\n".join(l[len(indent):] if l.startswith(indent) else l for l in lines[b + 1:e])
        out.extend(indent + l for l in _placeholder(region, top_level=(indent == "")))
        i = e + 1
    out.extend(lines[i:])
    return "\n".join(out)


def _placeholder(region, top_level):
    if not top_level:
        return ["# YOUR CODE HERE", "raise NotImplementedError()"]
    try:
        tree = ast.parse(region)
    except SyntaxError:
        tree = None
    names = []
    for node in (tree.body if tree else []):
        targets = node.targets if isinstance(node, ast.Assign) else (
            [node.target] if isinstance(node, (ast.AnnAssign, ast.AugAssign)) else [])
        for t in targets:
            for n in ast.walk(t):
                if isinstance(n, ast.Name) and n.id not in names:
                    names.append(n.id)
    if not names:
        return ["# YOUR CODE HERE"]
    return [f"{n} = ...  # YOUR CODE HERE" for n in names]


def strip_markdown(source, where=""):
    """Replace each solution region of a markdown cell (markers included) with 'YOUR ANSWER HERE'."""
    lines = source.split("\n")
    out, i = [], 0
    for b, e in _regions(source, where):
        out.extend(lines[i:b])
        out.append("YOUR ANSWER HERE")
        i = e + 1
    out.extend(lines[i:])
    return "\n".join(out)


def student_notebook(nb, name, where=None):
    """The student copy of one instructor notebook (a new dict; ``nb`` is not changed).

    ``where`` names the source in errors (default: ``name``).
    """
    where = where or name
    cells = []
    for index, cell in enumerate(nb["cells"]):
        if not isinstance(cell, dict) or "cell_type" not in cell:
            raise ReleaseError(f"{where}, cell index {index}: not a notebook cell (no cell_type)")
        tags = cell.get("metadata", {}).get("tags", [])
        if DROP_TAG in tags:
            continue
        here = f"{where}, cell index {index} ({cell['cell_type']})"
        source = _text(cell.get("source", ""))
        new = {"cell_type": cell["cell_type"], "metadata": {k: v for k, v in cell.get("metadata", {}).items()
                                                            if k in ("tags", "deletable", "editable")}}
        if "id" in cell:
            new["id"] = cell["id"]
        if cell["cell_type"] == "code":
            if SETUP_TAG in tags:
                source = setup_source()
            new["source"] = strip_code(source, here)
            new["outputs"], new["execution_count"] = [], None
        elif cell["cell_type"] == "markdown":
            if BADGE_TAG in tags:
                source = badges_markdown(name)
            new["source"] = strip_markdown(source, here)
        else:
            if _regions(source, here):
                raise ReleaseError(f"{here}: solution markers are only handled in code and markdown cells")
            new["source"] = source
        cells.append(new)
    metadata = {k: nb.get("metadata", {})[k] for k in ("kernelspec", "language_info") if k in nb.get("metadata", {})}
    metadata["kernelspec"] = {"display_name": "Python 3 (ipykernel)", "language": "python", "name": "python3"}
    metadata["language_info"] = {"name": "python"}
    return {"cells": cells, "metadata": metadata, "nbformat": 4, "nbformat_minor": max(5, nb.get("nbformat_minor", 5))}


def _text(source):
    return "".join(source) if isinstance(source, list) else source


def dumps(nb):
    """Serialize as nbformat does (1-space indent, sorted keys), so files diff cleanly."""
    return json.dumps(nb, indent=1, sort_keys=True, ensure_ascii=False) + "\n"


def _shown(path, root):
    try:
        return Path(path).relative_to(root).as_posix()
    except ValueError:
        return Path(path).as_posix()


def _load(src, root):
    """One solution notebook as a dict; ReleaseError naming the file when it is not a notebook."""
    where = _shown(src, root)
    try:
        nb = json.loads(Path(src).read_text(encoding="utf-8"))
    except json.JSONDecodeError as e:
        raise ReleaseError(f"{where}: not valid JSON (line {e.lineno}, column {e.colno}: {e.msg})") from None
    except UnicodeDecodeError as e:
        raise ReleaseError(f"{where}: not UTF-8 text ({e.reason} at byte {e.start})") from None
    if not isinstance(nb, dict) or not isinstance(nb.get("cells"), list):
        raise ReleaseError(f"{where}: not a notebook (no list of cells)")
    return nb


def _sources(root):
    return sorted((root / "solutions").glob("[0-9][0-9]_*.ipynb"))


def _build(root):
    """({student path: text}, [problem, ...]) for every solution notebook, nothing written."""
    built, problems = {}, []
    for src in _sources(root):
        try:
            built[root / "notebooks" / src.name] = dumps(student_notebook(_load(src, root), src.name,
                                                                          _shown(src, root)))
        except ReleaseError as e:
            problems.append(str(e))
    return built, problems


def validate(root=None):
    """Every problem in solutions/ that would stop a release, one line each (an empty list: none)."""
    return _build(Path(root) if root else repo_root())[1]


def _notebook_plan(root):
    built, problems = _build(root)
    if problems:
        raise ReleaseError("cannot release; notebooks/ was left unchanged:\n  " + "\n  ".join(problems))
    return built


README_BEGIN, README_END = "<!-- chapters: generated by `python -m labkit release` -->", "<!-- /chapters -->"


def readme_table(root):
    """The README's generated block: clone line, Binder badge, and a row per chapter with its badges."""
    from . import REPO_URL
    _, binder = _urls("00_start_here.ipynb")
    from . import REPO_BRANCH
    rows = [f"[![Binder](https://mybinder.org/badge_logo.svg)]({binder}) — the whole course in your browser, nothing to install.",
            "", "Get a copy to work on your own machine:", "", "```bash",
            f"git clone {REPO_URL}.git ai-infra-lab && cd ai-infra-lab", "```", "",
            f"Course version: `{REPO_BRANCH}` — the badges below and each notebook's setup cell use "
            f"`labkit @ git+{REPO_URL}@{REPO_BRANCH}` (see *Releases a class can pin*).", "",
            "| # | chapter | open |", "|---|---|---|"]
    for src in _sources(root):
        nb = _load(src, root)
        title = src.stem
        for c in nb["cells"]:
            m = re.search(r"^#\s+(.+)$", _text(c["source"]), re.M) if c["cell_type"] == "markdown" else None
            if m:
                title = m.group(1).strip()
                break
        rows.append(f"| {src.name[:2]} | [{title}](notebooks/{src.name}) | {badges_markdown(src.name)} |")
    return "\n".join(rows)


def plan(root=None):
    """{path: new text} for every student notebook, and the README's chapter table."""
    root = Path(root) if root else repo_root()
    out = _notebook_plan(root)
    readme = root / "README.md"
    if readme.is_file():
        text = readme.read_text(encoding="utf-8")
        if README_BEGIN in text and README_END in text:
            head, rest = text.split(README_BEGIN, 1)
            _, tail = rest.split(README_END, 1)
            out[readme] = f"{head}{README_BEGIN}\n{readme_table(root)}\n{README_END}{tail}"
    return out


def stale(root=None, planned=None):
    """Generated files that differ from what release would write (missing ones included)."""
    planned = plan(root) if planned is None else planned
    return [p for p, text in planned.items()
            if not p.is_file() or p.read_text(encoding="utf-8") != text]


def _write(path, text):
    """Write ``text`` to ``path`` whole or not at all (:func:`labkit.core.files.atomic_write`)."""
    from .core.files import atomic_write
    atomic_write(path, lambda f: f.write(text))


def orphans(root=None):
    """Student notebooks with no instructor source."""
    root = Path(root) if root else repo_root()
    sources = {p.name for p in (root / "solutions").glob("*.ipynb")}
    return sorted(p for p in (root / "notebooks").glob("*.ipynb") if p.name not in sources)


def setup_mismatches(root=None):
    """Instructor notebooks whose tagged setup cell differs from setup_source().

    A file that is not a notebook is left out here: release reports it, with every other problem.
    """
    root = Path(root) if root else repo_root()
    bad = []
    for src in _sources(root):
        try:
            nb = _load(src, root)
        except ReleaseError:
            continue
        cells = [c for c in nb["cells"] if SETUP_TAG in c.get("metadata", {}).get("tags", [])]
        if len(cells) != 1 or _text(cells[0]["source"]) != setup_source():
            bad.append(src)
    return bad


def sync_setup(root=None):
    """Rewrite the tagged setup cell of each instructor notebook from REPO_URL (asked for explicitly)."""
    changed = []
    root = Path(root) if root else repo_root()
    for src in setup_mismatches(root):
        nb = _load(src, root)
        for c in nb["cells"]:
            if SETUP_TAG in c.get("metadata", {}).get("tags", []):
                c["source"] = setup_source()
        _write(src, dumps(nb))
        changed.append(src)
    return changed


def nbgrader(out_dir, root=None, out=sys.stdout):
    """Write an nbgrader course tree from solutions/ under ``out_dir``: answer cells, a locked test cell
    per exercise worth its points, reflections graded by hand (labkit.grading.nbgrader_export)."""
    from .grading.nbgrader_export import export
    return export(out_dir, root=root, out=out)


def otter(out_dir, root=None, out=sys.stdout):
    """Write otter-grader master notebooks (``otter assign``'s input) from solutions/ under ``out_dir``."""
    from .grading.nbgrader_export import export
    return export(out_dir, root=root, out=out, fmt="otter")


def release(root=None, check_only=False, out=sys.stdout):
    """Write (or with ``check_only`` just compare) the student notebooks; returns the stale paths.

    Raises ReleaseError, listing every problem in solutions/, before writing anything.
    """
    root = Path(root) if root else repo_root()
    planned = plan(root)  # reads and checks every source first: on a ReleaseError nothing is written
    todo = stale(root, planned)
    for p in todo:
        if check_only:
            print(f"out of date: {p.relative_to(root)}", file=out)
        else:
            _write(p, planned[p])
            print(f"wrote {p.relative_to(root)}", file=out)
    for p in orphans(root):
        print(f"note: {p.relative_to(root)} has no source in solutions/ (left alone)", file=out)
    if not todo:
        print("notebooks/ is up to date with solutions/", file=out)
    return todo
