"""Build the course website: ``python site/build.py`` -> site/_build/html/index.html.

1. Stage a Sphinx source tree in site/_build/src: this folder's conf.py and _static/, a landing page,
   one page per chapter notebook found in notebooks/ (07_capstone or any later one is picked up by its
   NN_ prefix), the datasets' datasheet (datasets/README.md) and an API reference of labkit generated
   from its docstrings.
2. Execute each student notebook (kept in site/_build/executed/ until it, labkit or a dataset changes) (answers left as learners get them, so every check says "not
   attempted") in a fresh kernel; each figure it draws becomes an image file whose alt text is
   :func:`labkit.core.plotting.describe` of that very figure; each explorer becomes its static frame at
   the default values with "launch" links (Binder, Colab) to the live one.
3. ``sphinx-build`` with MyST-NB and the book theme (both ship their assets: nothing is downloaded).

Options: ``--out DIR`` (default site/_build/html), ``--jobs N`` (notebooks executed at once), ``--cache DIR``.
Prints the build time and the site's size.
"""

import argparse
import base64
import concurrent.futures
import hashlib
import json
import os
import re
import shutil
import subprocess
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
CHAPTER = re.compile(r"^\d\d_[A-Za-z0-9_]+\.ipynb$")
WIDGET = "application/vnd.jupyter.widget-view+json"

# Run first in every kernel (and removed from the page): each matplotlib Figure's text/plain
# representation becomes its description, which build.py turns into the image's alt text.
ALT_TEXT_HOOK = """\
import matplotlib.figure as _mf
import matplotlib.pyplot as _plt
from labkit.core.plotting import describe as _describe
_plt.close(_plt.figure())   # the inline backend starts now (it drops Figure formatters when it does)
get_ipython().display_formatter.formatters["text/plain"].for_type(
    _mf.Figure, lambda fig, p, cycle: p.text(_describe(fig)))
"""


def chapters(root=ROOT):
    """The student notebooks, in order: notebooks/NN_*.ipynb."""
    return sorted(p for p in (root / "notebooks").glob("*.ipynb") if CHAPTER.match(p.name))


def title_of(nb, fallback):
    for cell in nb["cells"]:
        if cell["cell_type"] == "markdown":
            m = re.search(r"^#\s+(.+)$", _text(cell["source"]), re.M)
            if m:
                return m.group(1).strip()
    return fallback


def _text(source):
    return "".join(source) if isinstance(source, list) else source


# --- 2. execute and turn outputs into accessible pages ---------------------------------------------
def execute(path, timeout=600):
    """The notebook at ``path`` run top to bottom in a fresh kernel of this Python (a dict)."""
    import nbclient
    import nbformat
    nb = nbformat.read(path, as_version=4)
    hook = nbformat.v4.new_code_cell(ALT_TEXT_HOOK)
    hook.metadata["labkit_site_hook"] = True
    nb.cells.insert(0, hook)
    nbclient.NotebookClient(nb, timeout=timeout, kernel_name="python3", allow_errors=False,
                            resources={"metadata": {"path": str(path.parent)}}).execute()
    nb.cells = [c for c in nb.cells if not c.metadata.get("labkit_site_hook")]
    return json.loads(nbformat.writes(nb))


def _inputs_digest(path, root=ROOT):
    """What an executed notebook depends on: the notebook, labkit's sources and the datasets."""
    h = hashlib.sha256(path.read_bytes())
    for p in sorted([*(root / "labkit").rglob("*.py"), *(root / "datasets").glob("*.csv"), Path(__file__)]):
        h.update(p.as_posix().encode() + p.read_bytes())
    return h.hexdigest()[:16]


def execute_cached(path, cache):
    """:func:`execute`, kept in ``cache`` while the notebook, labkit and the datasets are unchanged."""
    cached = Path(cache) / f"{path.stem}-{_inputs_digest(path)}.json"
    if cached.is_file():
        return json.loads(cached.read_text(encoding="utf-8"))
    nb = execute(path)
    cached.parent.mkdir(parents=True, exist_ok=True)
    for old in cached.parent.glob(f"{path.stem}-*.json"):
        old.unlink()
    cached.write_text(json.dumps(nb), encoding="utf-8")
    return nb


def _one_line(text):
    return " ".join(str(text).split()).replace("`", "'")


def _alt(output):
    """The text alternative of an image output: the explorer's metadata, else the figure's description."""
    alt = ((output.get("metadata") or {}).get("image/png") or {}).get("alt")
    if not alt:
        plain = _text(output.get("data", {}).get("text/plain", ""))
        alt = plain if plain and not plain.startswith("<Figure") else ""
        if WIDGET in output.get("data", {}) and "\n" in alt:   # an explorer's text: title, readout, description
            alt = alt.split("\n")[-1]
    return _one_line(alt) or "A figure (no description could be made)."


def launch_links(name):
    """(binder, colab) addresses of one chapter at the course's pinned ref (labkit.release)."""
    from labkit.release import _urls
    colab, binder = _urls(name)
    return binder, colab


def accessible(nb, name, figures):
    """Rewrite ``nb`` for the web: each PNG becomes an image file (in ``figures``) with alt text, each
    explorer its static frame plus launch links, the badge cell plain links. Returns the image count."""
    binder, colab = launch_links(name)
    count = 0
    for index, cell in enumerate(nb["cells"]):
        tags = cell.get("metadata", {}).get("tags", [])
        if cell["cell_type"] == "markdown" and "badges" in tags:
            cell["source"] = (f"**Run this chapter yourself:** [launch it on Binder]({binder}) · "
                              f"[open it in Colab]({colab}) · nothing to install.")
            continue
        if cell["cell_type"] != "code":
            continue
        outputs = []
        for output in cell.get("outputs", []):
            data = output.get("data") or {}
            if "image/png" not in data:
                outputs.append(output)
                continue
            count += 1
            file = figures / f"{name[:-6]}-cell{index:03d}-{count:02d}.png"
            file.write_bytes(base64.b64decode(_text(data["image/png"])))
            alt = _alt(output).replace("[", "(").replace("]", ")").replace("\\", "/")
            markdown = f"![{alt}](figures/{file.name})\n"
            if WIDGET in data:
                markdown += (f"\n*An explorer, shown here at its default settings.* Move its controls live: "
                             f"[launch this chapter on Binder]({binder}) · [open it in Colab]({colab}).\n")
            outputs.append({"output_type": "display_data", "metadata": {},
                            "data": {"text/markdown": markdown}})
        cell["outputs"] = outputs
    return count


# --- 1. the pages ---------------------------------------------------------------------------------
def landing_page(entries):
    import labkit
    binder, colab = launch_links(entries[0][0])
    rows = "\n".join(f"- [{title}](chapters/{Path(name).stem}.ipynb)" for name, title in entries)
    return f"""# AI Infrastructure Lab

**Learn to estimate how AI infrastructure behaves — and check every estimate against published figures.**
A free, hands-on Jupyter course: how long a training run takes, why a cluster sits at 40 % utilization,
what a collective costs on real links, when to checkpoint, and what a run costs in energy and carbon.

**For whom:** students and self-learners who read Python and want to reason about AI systems with
numbers, and instructors who want assignable exercises that check themselves. No GPU needed: every
chapter runs on a laptop, on Binder or on Colab.

**How it works:** each chapter is one notebook — an idea, a `labkit` call that computes it from cited
data, a plot, an explorer with sliders, an exercise checked as you go, a reflection.

**Start:** [read chapter 00 here](chapters/{Path(entries[0][0]).stem}.ipynb) ·
[run the course on Binder]({binder}) · [open chapter 00 in Colab]({colab}) ·
[get the repository]({labkit.REPO_URL})

## Chapters

{rows}

Also: [the datasets and their sources](datasets.md) · [labkit API reference](api.md)

```{{toctree}}
:hidden:
:caption: Chapters

{chr(10).join(f"chapters/{Path(name).stem}" for name, _ in entries)}
```

```{{toctree}}
:hidden:
:caption: Reference

datasets
api
```
"""


def datasheet_page(root=ROOT):
    text = (root / "datasets" / "README.md").read_text(encoding="utf-8")
    return text + "\n\nThe CSV files are in the repository's `datasets/` folder and inside the labkit wheel " \
                  "(`labkit.data.load(\"<name>\")`).\n"


def api_modules():
    """labkit's public modules, documented from their docstrings (exercise answers and the grader's
    internals are left out)."""
    import pkgutil

    import labkit
    names = ["labkit"]
    for info in pkgutil.walk_packages(labkit.__path__, "labkit."):
        parts = info.name.split(".")
        if any(p.startswith("_") for p in parts) or parts[1] in ("exercises", "grading") and len(parts) > 2:
            continue
        names.append(info.name)
    return names


def api_page():
    blocks = []
    for name in api_modules():
        blocks.append(f"## `{name}`\n\n```{{eval-rst}}\n.. automodule:: {name}\n   :no-index:\n```\n"
                      if name == "labkit" else
                      f"## `{name}`\n\n```{{eval-rst}}\n.. automodule:: {name}\n```\n")
    return ("# labkit API reference\n\nGenerated from labkit's docstrings. Every quantity is SI inside "
            "(seconds, bytes, FLOP, FLOP/s, watts, joules); `labkit.units` formats it for people.\n\n"
            + "\n".join(blocks))


def stage(src, jobs, cache, root=ROOT):
    """Write the Sphinx source tree under ``src``: pages, executed chapters, figures."""
    shutil.rmtree(src, ignore_errors=True)
    (src / "chapters" / "figures").mkdir(parents=True)
    shutil.copy(HERE / "conf.py", src / "conf.py")
    shutil.copytree(HERE / "_static", src / "_static")
    shutil.copytree(HERE / "_templates", src / "_templates")
    paths = chapters(root)
    if not paths:
        raise SystemExit(f"no chapter notebooks (NN_*.ipynb) in {root / 'notebooks'}")
    entries, figures = [], {}
    with concurrent.futures.ThreadPoolExecutor(max_workers=jobs) as pool:
        executed = dict(zip(paths, pool.map(lambda p: execute_cached(p, cache), paths)))
    for path in paths:
        nb = executed[path]
        figures[path.name] = accessible(nb, path.name, src / "chapters" / "figures")
        (src / "chapters" / path.name).write_text(json.dumps(nb, indent=1, ensure_ascii=False), encoding="utf-8")
        entries.append((path.name, title_of(nb, path.stem)))
    (src / "index.md").write_text(landing_page(entries), encoding="utf-8")
    (src / "datasets.md").write_text(datasheet_page(root), encoding="utf-8")
    (src / "api.md").write_text(api_page(), encoding="utf-8")
    return entries, figures


def size_of(folder):
    return sum(p.stat().st_size for p in Path(folder).rglob("*") if p.is_file())


def build(out=None, jobs=2, quiet=False, cache=None):
    """Stage and build the site; returns a summary dict (seconds, bytes, pages, figures)."""
    out = Path(out) if out else HERE / "_build" / "html"
    cache = Path(cache) if cache else HERE / "_build" / "executed"
    src = out.parent / "src"
    started = time.perf_counter()
    os.environ.pop("MPLBACKEND", None)      # the kernels choose Jupyter's inline backend themselves
    entries, figures = stage(src, jobs, cache)
    staged = time.perf_counter()
    cmd = [sys.executable, "-m", "sphinx", "-b", "html", "-j", str(jobs), "-q", "-E",
           "-d", str(out.parent / "doctrees"), str(src), str(out)]
    shutil.rmtree(out, ignore_errors=True)
    run = subprocess.run(cmd, capture_output=True, text=True)
    if run.returncode != 0:
        raise SystemExit(f"sphinx-build failed:\n{run.stdout[-3000:]}\n{run.stderr[-5000:]}")
    done = time.perf_counter()
    summary = {"chapters": [name for name, _ in entries], "figures": figures,
               "execute_s": round(staged - started, 1), "sphinx_s": round(done - staged, 1),
               "total_s": round(done - started, 1), "bytes": size_of(out), "out": str(out),
               "warnings": len([l for l in run.stderr.splitlines() if "WARNING" in l])}
    (out.parent / "build-summary.json").write_text(json.dumps(summary, indent=1))
    if not quiet:
        print(f"built {out / 'index.html'}: {len(entries)} chapters, {sum(figures.values())} figures, "
              f"{summary['bytes'] / 1e6:.1f} MB, in {summary['total_s']} s "
              f"(notebooks {summary['execute_s']} s, sphinx {summary['sphinx_s']} s; "
              f"{summary['warnings']} Sphinx warnings)")
    return summary


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--out", default=None, help="output folder (default site/_build/html)")
    parser.add_argument("--jobs", type=int, default=min(2, os.cpu_count() or 1),
                        help="notebooks executed at once, and Sphinx's processes")
    parser.add_argument("--cache", default=None, help="where executed notebooks are kept between builds "
                                                       "(default site/_build/executed)")
    args = parser.parse_args(argv)
    build(args.out, jobs=max(1, args.jobs), cache=args.cache)
    return 0


if __name__ == "__main__":
    sys.exit(main())
