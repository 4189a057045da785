"""One source: write student notebooks from the instructor notebooks in ``solutions/``.

    python -m labkit release            # solutions/NN_*.ipynb -> notebooks/NN_*.ipynb
    python -m labkit release --check    # exit 1 when notebooks/ is out of date (what the tests run)
    python -m labkit release --sync-setup   # rewrite the setup cell of each source from REPO_URL

Solution code sits between nbgrader's ``### BEGIN SOLUTION`` and ``### END SOLUTION``. In the
student copy a region inside a function becomes ``# YOUR CODE HERE`` + ``raise NotImplementedError()``
(check() reports that as "not attempted"); a top-level region becomes ``name = ...  # YOUR CODE HERE``
for each name it assigns, so the rest of the notebook still runs. Markdown answers become
"YOUR ANSWER HERE". Outputs and execution counts are cleared. Running it twice changes nothing.
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
def strip_code(source):
    """Replace each solution region of a code cell's source with a placeholder."""
    lines = source.split("\n")
    out, i = [], 0
    while i < len(lines):
        line = lines[i]
        if line.strip() == BEGIN:
            indent = line[: len(line) - len(line.lstrip())]
            j = i + 1
            while j < len(lines) and lines[j].strip() != END:
                j += 1
            if j == len(lines):
                raise ValueError(f"a '{BEGIN}' has no matching '{END}':\n{source}")
            region = "\n".join(l[len(indent):] if l.startswith(indent) else l for l in lines[i + 1:j])
            out.extend(indent + l for l in _placeholder(region, top_level=(indent == "")))
            i = j + 1
        else:
            out.append(line)
            i += 1
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


def strip_markdown(source):
    pattern = re.compile(rf"^[ \t]*{re.escape(BEGIN)}[ \t]*$.*?^[ \t]*{re.escape(END)}[ \t]*$", re.S | re.M)
    return pattern.sub("YOUR ANSWER HERE", source)


def student_notebook(nb, name):
    """The student copy of one instructor notebook (a new dict; ``nb`` is not changed)."""
    cells = []
    for cell in nb["cells"]:
        tags = cell.get("metadata", {}).get("tags", [])
        if DROP_TAG in tags:
            continue
        source = _text(cell.get("source", ""))
        new = {"cell_type": cell["cell_type"], "metadata": {k: v for k, v in cell.get("metadata", {}).items()
                                                            if k in ("tags", "deletable", "editable")}}
        if "id" in cell:
            new["id"] = cell["id"]
        if cell["cell_type"] == "code":
            if SETUP_TAG in tags:
                source = setup_source()
            new["source"] = strip_code(source)
            new["outputs"], new["execution_count"] = [], None
        elif cell["cell_type"] == "markdown":
            if BADGE_TAG in tags:
                source = badges_markdown(name)
            new["source"] = strip_markdown(source)
        else:
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


def _notebook_plan(root):
    out = {}
    for src in sorted((root / "solutions").glob("[0-9][0-9]_*.ipynb")):
        nb = json.loads(src.read_text(encoding="utf-8"))
        out[root / "notebooks" / src.name] = dumps(student_notebook(nb, src.name))
    return out


README_BEGIN, README_END = "<!-- chapters: generated by `python -m labkit release` -->", "<!-- /chapters -->"


def readme_table(root):
    """The README's generated block: clone line, Binder badge, and a row per chapter with its badges."""
    from . import REPO_URL
    _, binder = _urls("00_start_here.ipynb")
    rows = [f"[![Binder](https://mybinder.org/badge_logo.svg)]({binder}) — the whole course in your browser, nothing to install.",
            "", "Get a copy to work on your own machine:", "", "```bash",
            f"git clone {REPO_URL}.git ai-infra-lab && cd ai-infra-lab", "```", "",
            "| # | chapter | open |", "|---|---|---|"]
    for src in sorted((root / "solutions").glob("[0-9][0-9]_*.ipynb")):
        nb = json.loads(src.read_text(encoding="utf-8"))
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


def stale(root=None):
    """Generated files that differ from what release would write (missing ones included)."""
    return [p for p, text in plan(root).items()
            if not p.is_file() or p.read_text(encoding="utf-8") != text]


def orphans(root=None):
    """Student notebooks with no instructor source."""
    root = Path(root) if root else repo_root()
    sources = {p.name for p in (root / "solutions").glob("*.ipynb")}
    return sorted(p for p in (root / "notebooks").glob("*.ipynb") if p.name not in sources)


def setup_mismatches(root=None):
    """Instructor notebooks whose tagged setup cell differs from setup_source()."""
    root = Path(root) if root else repo_root()
    bad = []
    for src in sorted((root / "solutions").glob("[0-9][0-9]_*.ipynb")):
        nb = json.loads(src.read_text(encoding="utf-8"))
        cells = [c for c in nb["cells"] if SETUP_TAG in c.get("metadata", {}).get("tags", [])]
        if len(cells) != 1 or _text(cells[0]["source"]) != setup_source():
            bad.append(src)
    return bad


def sync_setup(root=None):
    """Rewrite the tagged setup cell of each instructor notebook from REPO_URL (asked for explicitly)."""
    changed = []
    for src in setup_mismatches(root):
        nb = json.loads(src.read_text(encoding="utf-8"))
        for c in nb["cells"]:
            if SETUP_TAG in c.get("metadata", {}).get("tags", []):
                c["source"] = setup_source()
        src.write_text(dumps(nb), encoding="utf-8")
        changed.append(src)
    return changed


def release(root=None, check_only=False, out=sys.stdout):
    """Write (or with ``check_only`` just compare) the student notebooks; returns the stale paths."""
    root = Path(root) if root else repo_root()
    todo = stale(root)
    for p in todo:
        if check_only:
            print(f"out of date: {p.relative_to(root)}", file=out)
        else:
            p.parent.mkdir(parents=True, exist_ok=True)
            p.write_text(plan(root)[p], encoding="utf-8")
            print(f"wrote {p.relative_to(root)}", file=out)
    for p in orphans(root):
        print(f"note: {p.relative_to(root)} has no source in solutions/ (left alone)", file=out)
    if not todo:
        print("notebooks/ is up to date with solutions/", file=out)
    return todo
