"""The course website: built from the notebooks with one command, checked in Chromium, audited by axe-core.

The build (``python site/build.py``, the README's command) needs the [site] extra (Sphinx, MyST-NB, the
book theme). When this interpreter lacks it, the test installs it into a venv of its own (kept under the
temporary folder, keyed by pyproject.toml, so once per machine), and is skipped with a reason when the
package index cannot be reached. Chromium is Debian's (``apt-get install chromium``; Playwright never
downloads a browser); pages are served from localhost and every other request is refused, so the site
must work offline. axe-core comes from the PyPI package that vendors it (axe-playwright-python, in the
test extra). ``LABKIT_SKIP_SITE=1`` skips it all; ``LABKIT_SITE_PYTHON`` names an interpreter
that has the [site] extra already.

Checked on every chapter page (chapters are found in notebooks/, so a new NN_*.ipynb is checked too):
it renders with its title and all its figures loaded, each figure with a text alternative generated
from the figure; explorers have launch links; every internal link and anchor resolves; axe-core finds
no serious or critical violation. The landing, datasheet and API pages render and link every chapter.
"""

import functools
import hashlib
import html
import http.server
import importlib.util
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import threading
import time
import urllib.parse
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
CHROMIUM = os.environ.get("LABKIT_CHROMIUM", "/usr/bin/chromium")
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync", "--no-first-run", "--disable-extensions"]
SITE_MODULES = ("sphinx", "myst_nb", "sphinx_book_theme", "nbclient", "ipykernel")
_OFFLINE = ("Could not find a version that satisfies", "No matching distribution", "Failed to establish a new "
            "connection", "Temporary failure in name resolution", "Network is unreachable", "Max retries exceeded")
CHAPTERS = sorted(p.stem for p in (ROOT / "notebooks").glob("[0-9][0-9]_*.ipynb"))


def _site_python():
    """An interpreter with labkit and the [site] extra: this one, or a venv made for the test."""
    if os.environ.get("LABKIT_SITE_PYTHON"):
        return os.environ["LABKIT_SITE_PYTHON"]
    if all(importlib.util.find_spec(m) for m in SITE_MODULES):
        return sys.executable
    key = hashlib.sha256((ROOT / "pyproject.toml").read_bytes() + str(sys.version_info[:2]).encode()).hexdigest()
    venv = Path(tempfile.gettempdir()) / f"labkit-site-venv-{key[:12]}"
    python = venv / "bin" / "python"
    if not (venv / "labkit-ready").is_file():
        shutil.rmtree(venv, ignore_errors=True)
        subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True, capture_output=True)
        run = subprocess.run([str(python), "-m", "pip", "install", "-q", "--disable-pip-version-check",
                              "-e", f"{ROOT}[site]"], capture_output=True, text=True, timeout=900)
        if run.returncode != 0:
            shutil.rmtree(venv, ignore_errors=True)
            output = run.stdout + run.stderr
            if any(s in output for s in _OFFLINE):
                pytest.skip(f"could not install the [site] extra from the package index: {output.strip()[-300:]}")
            raise AssertionError(f"pip install -e .[site] failed:\n{output[-3000:]}")
        (venv / "labkit-ready").write_text("ready\n")
    return str(python)


def _axe_source():
    """axe-core's script, from the axe-playwright-python package (test extra) that vendors it."""
    spec = importlib.util.find_spec("axe_playwright_python")
    if spec is None:
        pytest.skip("axe-playwright-python is not installed (pip install -e '.[test]'): no accessibility audit")
    return (Path(spec.origin).parent / "axe.min.js").read_text(encoding="utf-8")


@pytest.fixture(scope="module")
def site(tmp_path_factory):
    if os.environ.get("LABKIT_SKIP_SITE") == "1":
        pytest.skip("LABKIT_SKIP_SITE=1")
    python = _site_python()
    out = tmp_path_factory.mktemp("site") / "html"
    started = time.perf_counter()
    run = subprocess.run([python, str(ROOT / "site" / "build.py"), "--out", str(out)], capture_output=True,
                         text=True, timeout=1800, cwd=ROOT)
    assert run.returncode == 0, f"site build failed:\n{run.stdout[-3000:]}\n{run.stderr[-5000:]}"
    summary = json.loads((out.parent / "build-summary.json").read_text())
    print(f"\nsite: {run.stdout.strip().splitlines()[-1]} (test wall {time.perf_counter() - started:.0f} s)")
    return out, summary


@pytest.fixture(scope="module")
def served(site):
    out, _ = site
    class Quiet(http.server.SimpleHTTPRequestHandler):
        def log_message(self, *args):
            pass
    handler = functools.partial(Quiet, directory=str(out))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()


@pytest.fixture(scope="module")
def page(served):
    pytest.importorskip("playwright.sync_api", reason="Playwright is not installed (pip install playwright)")
    if not (os.path.isfile(CHROMIUM) and os.access(CHROMIUM, os.X_OK)):
        pytest.skip(f"Chromium not found at {CHROMIUM} (Debian: apt-get install chromium; or set LABKIT_CHROMIUM)")
    from playwright.sync_api import sync_playwright
    playwright = sync_playwright().start()
    browser = playwright.chromium.launch(executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS)
    try:
        context = browser.new_context(viewport={"width": 1280, "height": 900}, service_workers="block")
        context.route("**/*", lambda route: route.continue_() if route.request.url.startswith(served)
                      else route.abort())                  # the site must work offline
        yield context.new_page()
    finally:
        browser.close()
        playwright.stop()


# --- the build -------------------------------------------------------------------------------------
def test_every_chapter_is_a_page_with_its_figures(site):
    out, summary = site
    assert summary["chapters"] == [f"{c}.ipynb" for c in CHAPTERS]
    for chapter in CHAPTERS:
        assert (out / "chapters" / f"{chapter}.html").is_file()
    assert all(summary["figures"][f"{c}.ipynb"] >= 1 for c in CHAPTERS), summary["figures"]
    for name in ("index.html", "datasets.html", "api.html", "search.html"):
        assert (out / name).is_file(), name


def test_landing_page_says_what_and_for_whom_and_links_every_chapter(site):
    out, _ = site
    text = (out / "index.html").read_text(encoding="utf-8")
    assert "For whom" in text and "How it works" in text
    for chapter in CHAPTERS:
        assert f'href="chapters/{chapter}.html"' in text, chapter
    assert 'href="datasets.html"' in text and 'href="api.html"' in text


def test_datasheet_and_api_reference(site):
    out, _ = site
    datasheet = (out / "datasets.html").read_text(encoding="utf-8")
    assert "hardware.csv" in datasheet and "source" in datasheet
    api = (out / "api.html").read_text(encoding="utf-8")
    for name in ("labkit.units", "labkit.core.plotting", "labkit.core.plotting.describe", "labkit.interconnect"):
        assert f'id="{name}"' in api or f'id="module-{name}"' in api, name
    assert "ch03_interconnects" not in api          # exercise modules (their answers) stay out


def _ids(path, cache={}):
    if path not in cache:
        cache[path] = set(re.findall(r'\sid="([^"]+)"', path.read_text(encoding="utf-8")))
    return cache[path]


def test_internal_links_and_anchors_resolve(site):
    out, _ = site
    pages = [out / "index.html", out / "datasets.html", out / "api.html",
             *[out / "chapters" / f"{c}.html" for c in CHAPTERS]]
    broken, checked = [], 0
    for page in pages:
        for href in re.findall(r'<a\s[^>]*href="([^"]*)"', page.read_text(encoding="utf-8")):
            href = html.unescape(href)
            parts = urllib.parse.urlsplit(href)
            if parts.scheme or href.startswith(("//", "mailto:", "javascript:")):
                continue
            target = (page.parent / urllib.parse.unquote(parts.path)).resolve() if parts.path else page
            if target.is_dir():
                target = target / "index.html"
            checked += 1
            if not target.is_file():
                broken.append(f"{page.relative_to(out)} -> {href} (no file)")
            elif parts.fragment and target.suffix == ".html" and parts.fragment not in _ids(target):
                broken.append(f"{page.relative_to(out)} -> {href} (no anchor)")
    assert checked > 50 and not broken, "\n".join(broken[:40])


# --- in Chromium --------------------------------------------------------------------------------------
PAGE_STATE_JS = """() => {
  const figures = [...document.querySelectorAll('article img')].filter(i => i.src.includes('/_images/'));
  return {
    title: (document.querySelector('article h1') || {}).textContent || '',
    figures: figures.map(i => ({alt: i.getAttribute('alt') || '', loaded: i.complete && i.naturalWidth > 0,
                                 width: i.getBoundingClientRect().width})),
    launch: [...document.querySelectorAll('article a')].filter(a => a.href.includes('mybinder.org')).length,
    lang: document.documentElement.lang,
  };
}"""

AXE_RUN_JS = """async () => {
  const result = await axe.run(document, {resultTypes: ['violations']});
  return result.violations.map(v => ({id: v.id, impact: v.impact, nodes: v.nodes.length,
                                      help: v.help, target: v.nodes[0] && v.nodes[0].target.join(' ')}));
}"""

AUDIT = {}


@pytest.mark.parametrize("chapter", CHAPTERS)
def test_chapter_renders_in_chromium_and_passes_axe(site, served, page, chapter):
    out, summary = site
    page.goto(f"{served}/chapters/{chapter}.html", wait_until="load")
    page.wait_for_function("() => [...document.images].every(i => i.complete)", timeout=30_000)
    state = page.evaluate(PAGE_STATE_JS)
    assert state["title"].strip().startswith(chapter[:2]), state["title"]
    assert state["lang"] == "en"
    figures = state["figures"]
    assert len(figures) == summary["figures"][f"{chapter}.ipynb"] >= 1
    assert all(f["loaded"] and f["width"] > 100 for f in figures), figures
    short = [f["alt"] for f in figures if len(f["alt"]) < 30 or not f["alt"].startswith(("Plot", "Figure"))]
    assert not short, f"figures without a generated text alternative: {short}"
    assert state["launch"] >= 1, "no launch link (Binder) on the page"
    page.add_script_tag(content=_axe_source())
    violations = page.evaluate(AXE_RUN_JS)
    counts = {}
    for v in violations:
        counts[v["impact"]] = counts.get(v["impact"], 0) + v["nodes"]
    AUDIT[chapter] = counts
    print(f"\naxe-core on {chapter}: {counts or 'no violations'} "
          f"({', '.join(sorted({v['id'] for v in violations})) or '-'})")
    serious = [v for v in violations if v["impact"] in ("serious", "critical")]
    assert not serious, json.dumps(serious, indent=1)


@pytest.mark.parametrize("name", ["index", "datasets", "api"])
def test_other_pages_in_chromium_and_axe(site, served, page, name):
    page.goto(f"{served}/{name}.html", wait_until="load")
    assert "AI Infrastructure Lab" in page.title()
    page.add_script_tag(content=_axe_source())
    violations = page.evaluate(AXE_RUN_JS)
    serious = [v for v in violations if v["impact"] in ("serious", "critical")]
    print(f"\naxe-core on {name}: {[(v['id'], v['impact'], v['nodes']) for v in violations] or 'no violations'}")
    assert not serious, json.dumps(serious, indent=1)
