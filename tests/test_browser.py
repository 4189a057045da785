"""Browser test: every student notebook runs in JupyterLab, in Chromium, with a live explorer.

One JupyterLab server (127.0.0.1, a free port, no token) serves a temporary copy of ``notebooks/``;
one headless Chromium (Debian's, driven by Playwright) opens each notebook in turn, waits for the
kernel's "Idle", runs Run → Run All Cells, and asserts that no error output is shown and that the
chapter's explorer renders as a live ipywidgets element (``.labkit-explorer`` with its controls and
plot) which redraws when a slider moves. The repository is never written to.

    .venv/bin/python -m pytest tests/test_browser.py -q          # run it
    .venv/bin/python -m pytest -m "not browser" ...               # leave it out

Skipped with a reason when Playwright, JupyterLab or Chromium is missing (CI installs Chromium with
``apt-get install chromium``; never ``playwright install``). Environment knobs:
``LABKIT_CHROMIUM`` (browser path, default /usr/bin/chromium) and ``LABKIT_BROWSER_SCREENSHOTS``
(a folder: save a screenshot of every notebook, passing or not). A failing notebook's screenshot is
saved under a temporary folder whose path is printed.
"""

import json
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
NOTEBOOKS = sorted(p for p in (ROOT / "notebooks").glob("*.ipynb"))
CHROMIUM = os.environ.get("LABKIT_CHROMIUM", "/usr/bin/chromium")
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync", "--disable-default-apps", "--no-first-run",
                 "--no-default-browser-check", "--disable-extensions", "--mute-audio"]
SERVER_START_S = 120      # JupyterLab up and answering
KERNEL_IDLE_S = 120       # notebook opened, kernel started and idle
RUN_ALL_S = 300           # Run All finished (budget is 10 s per notebook: this is only a hang guard)
WIDGET_S = 60             # widget views rendered / redrawn after a slider move
# Lab settings for a fresh, quiet, deterministic UI: every cell in the DOM (no virtual scrolling),
# no news or update checks (the machine has no network), no autosave surprises.
LAB_SETTINGS = {
    "@jupyterlab/notebook-extension/tracker": {"windowingMode": "none"},
    "@jupyterlab/apputils-extension/notification": {"fetchNews": "false", "checkForUpdates": False},
    "@jupyterlab/docmanager-extension/plugin": {"autosave": False},
}


pytestmark = pytest.mark.browser


def _free_port():
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _http(url, method="GET", timeout=5):
    request = urllib.request.Request(url, method=method)
    with urllib.request.urlopen(request, timeout=timeout) as response:
        body = response.read()
    return json.loads(body) if body else None


def _tail(path, n=4000):
    try:
        return Path(path).read_text(errors="replace")[-n:]
    except OSError:
        return ""


class Lab:
    """A JupyterLab server on a temporary copy of notebooks/; ``url`` is its base URL."""

    def __init__(self, workdir):
        self.workdir = Path(workdir)
        self.root = self.workdir / "root"
        shutil.copytree(ROOT / "notebooks", self.root, ignore=shutil.ignore_patterns(".ipynb_checkpoints"))
        settings = self.workdir / "lab-settings"
        for plugin, values in LAB_SETTINGS.items():
            target = settings / f"{plugin}.jupyterlab-settings"
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_text(json.dumps(values))
        env = dict(os.environ)
        env.update({  # everything Jupyter writes goes under workdir; no user config leaks in
            "JUPYTER_CONFIG_DIR": str(self.workdir / "config"), "JUPYTER_DATA_DIR": str(self.workdir / "data"),
            "JUPYTER_RUNTIME_DIR": str(self.workdir / "runtime"), "JUPYTERLAB_SETTINGS_DIR": str(settings),
            "JUPYTERLAB_WORKSPACES_DIR": str(self.workdir / "workspaces"),
            "PYDEVD_DISABLE_FILE_VALIDATION": "1",
        })
        env.pop("JUPYTER_TOKEN", None)
        self.env = env
        self.port = _free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        cmd = [sys.executable, "-m", "jupyterlab", "--no-browser", "--ServerApp.ip=127.0.0.1",
               f"--ServerApp.port={self.port}", "--ServerApp.port_retries=0",
               "--IdentityProvider.token=", "--ServerApp.password=", "--ServerApp.disable_check_xsrf=True",
               f"--ServerApp.root_dir={self.root}", "--LabApp.news_url=None",
               "--LabApp.check_for_updates_class=jupyterlab.NeverCheckForUpdate"]
        if hasattr(os, "geteuid") and os.geteuid() == 0:
            cmd.append("--allow-root")
        self.log = self.workdir / "jupyterlab.log"
        self._log_file = open(self.log, "wb")
        self.process = subprocess.Popen(cmd, cwd=self.root, env=env, stdout=self._log_file,
                                        stderr=subprocess.STDOUT, start_new_session=True)

    def wait_ready(self):
        deadline = time.monotonic() + SERVER_START_S
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"JupyterLab exited ({self.process.returncode}):\n{_tail(self.log)}")
            try:
                _http(f"{self.url}/api/status", timeout=2)
                return self
            except (urllib.error.URLError, OSError, ValueError):
                time.sleep(0.5)
        raise RuntimeError(f"JupyterLab did not answer in {SERVER_START_S} s:\n{_tail(self.log)}")

    def shutdown_kernels(self):
        """Shut down every session's kernel (one notebook's kernel must not eat the next one's memory)."""
        try:
            for session in _http(f"{self.url}/api/sessions") or []:
                _http(f"{self.url}/api/sessions/{session['id']}", method="DELETE", timeout=30)
        except (urllib.error.URLError, OSError, ValueError) as exc:
            print(f"could not shut down kernels: {exc}")

    def stop(self):
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)  # jupyter_server shuts its kernels down on SIGTERM
            try:
                self.process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                pass
        try:  # the server's own process group (it and its kernels), by its id
            os.killpg(self.process.pid, signal.SIGKILL)
        except (ProcessLookupError, PermissionError):
            pass
        self.process.wait(timeout=10)
        self._log_file.close()


def _requirements():
    pytest.importorskip("playwright.sync_api", reason="Playwright is not installed (pip install playwright)")
    pytest.importorskip("jupyterlab", reason="JupyterLab is not installed (pip install jupyterlab)")
    if not (os.path.isfile(CHROMIUM) and os.access(CHROMIUM, os.X_OK)):
        pytest.skip(f"Chromium not found at {CHROMIUM} (Debian: apt-get install chromium; "
                    "or set LABKIT_CHROMIUM); never 'playwright install' here")


@pytest.fixture(scope="module")
def lab():
    _requirements()
    # Build matplotlib's font cache now, so a first-run "building the font cache" warning on stderr
    # cannot show up as an error output in the first notebook.
    subprocess.run([sys.executable, "-c", "import matplotlib.font_manager"], check=False, timeout=300)
    workdir = tempfile.mkdtemp(prefix="labkit-browser-")
    server = None
    try:
        server = Lab(workdir)
        yield server.wait_ready()
    finally:
        if server is not None:
            server.stop()
        shutil.rmtree(workdir, ignore_errors=True)


@pytest.fixture(scope="module")
def browser(lab):
    from playwright.sync_api import sync_playwright

    profile = tempfile.mkdtemp(prefix="labkit-chromium-")
    playwright = sync_playwright().start()
    context = None
    try:
        context = playwright.chromium.launch_persistent_context(
            profile, executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS,
            viewport={"width": 1280, "height": 900}, service_workers="block")
        context.set_default_timeout(WIDGET_S * 1000)
        yield context
    finally:
        if context is not None:
            context.close()
        playwright.stop()
        shutil.rmtree(profile, ignore_errors=True)


# --- what the page shows --------------------------------------------------------------------------

KERNEL_IDLE = re.compile(r"\|\s*Idle\b")

RUN_STATE_JS = """() => {
  const prompts = [...document.querySelectorAll('.jp-Notebook .jp-CodeCell .jp-InputPrompt')]
      .map(p => p.textContent.trim());
  const idle = [...document.querySelectorAll('.jp-StatusBar-TextItem')]
      .some(e => /\\|\\s*Idle\\b/.test(e.textContent));
  return {idle, running: prompts.filter(t => t.includes('*')).length,
          executed: prompts.filter(t => /\\[\\d+\\]/.test(t)).length, cells: prompts.length};
}"""

FINISHED_JS = """() => {
  const prompts = [...document.querySelectorAll('.jp-Notebook .jp-CodeCell .jp-InputPrompt')]
      .map(p => p.textContent.trim());
  const idle = [...document.querySelectorAll('.jp-StatusBar-TextItem')]
      .some(e => /\\|\\s*Idle\\b/.test(e.textContent));
  return idle && prompts.length > 0 && !prompts.some(t => t.includes('*'))
      && prompts.some(t => /\\[\\d+\\]/.test(t));
}"""

ERRORS_JS = """() => [...document.querySelectorAll(
    '.jp-Notebook .jp-OutputArea-output[data-mime-type="application/vnd.jupyter.stderr"]')]
  .map(e => e.innerText.slice(0, 3000))"""

WIDGET_TROUBLE_JS = """() => [...document.querySelectorAll('.jp-Notebook .jp-OutputArea-output')]
  .map(e => e.innerText)
  .filter(t => /Error displaying widget|Loading widget|static view at default values/.test(t))
  .map(t => t.slice(0, 500))"""

EXPLORERS_JS = """() => [...document.querySelectorAll('.jp-Notebook .labkit-explorer')].map(e => {
  const img = e.querySelector('img');
  return {controls: e.querySelectorAll('.widget-slider, .widget-dropdown, .jupyter-widgets select').length,
          image: !!img && img.complete && img.naturalWidth > 0, src: img ? img.src : null};
})"""


# What only the kernel changes in the first explorer: its plot (a new blob URL per image) and its
# HTML widgets (title, readout); a slider's own number changes in the browser alone.
KERNEL_DRAWN_JS = """() => { const e = document.querySelector('.jp-Notebook .labkit-explorer');
  if (!e) return null;
  const img = e.querySelector('img');
  return (img ? img.src : '') + '|' + [...e.querySelectorAll('.widget-html')].map(h => h.innerText).join('|');
}"""


def _expected_code_cells(notebook):
    cells = json.loads(notebook.read_text(encoding="utf-8"))["cells"]
    return sum(1 for c in cells if c["cell_type"] == "code" and "".join(c["source"]).strip())


def _screenshot(page, notebook, folder, scroll_to=None):
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"{notebook.stem}.png"
    try:
        if scroll_to is not None and page.locator(scroll_to).count():
            page.locator(scroll_to).first.scroll_into_view_if_needed(timeout=5000)
        page.screenshot(path=str(path))
        return path
    except Exception as exc:  # a screenshot must never hide the real failure
        print(f"screenshot failed: {exc}")
        return None


def _run_all(page):
    """Run → Run All Cells, from the menu bar, as a learner would."""
    page.locator(".lm-MenuBar-item", has_text=re.compile(r"^\s*Run\s*$")).first.click()
    page.locator(".lm-Menu-content .lm-Menu-itemLabel", has_text=re.compile(r"^\s*Run All Cells\s*$")).first.click()


def _move_first_slider(page):
    """Press End on the first explorer's first slider handle (a real user's move); False if none.
    End, not one arrow step: a one-step move can redraw a byte-identical plot."""
    handle = page.locator(".jp-Notebook .labkit-explorer .widget-slider .noUi-handle").first
    if not handle.count():
        return False
    handle.scroll_into_view_if_needed()
    handle.focus()
    page.keyboard.press("End")
    return True


@pytest.mark.parametrize("notebook", NOTEBOOKS, ids=[p.stem for p in NOTEBOOKS])
def test_student_notebook_runs_in_jupyterlab(lab, browser, notebook):
    page = browser.new_page()
    messages = []
    page.on("pageerror", lambda exc: messages.append(f"page error: {exc}"))
    started = time.monotonic()
    failed = True
    try:
        page.goto(f"{lab.url}/lab/tree/{notebook.name}?reset", wait_until="domcontentloaded")
        page.locator(".jp-Notebook .jp-CodeCell").first.wait_for(timeout=KERNEL_IDLE_S * 1000)
        page.locator(".jp-StatusBar-TextItem", has_text=KERNEL_IDLE).first.wait_for(timeout=KERNEL_IDLE_S * 1000)

        _run_all(page)
        deadline = time.monotonic() + RUN_ALL_S
        while True:  # finished = idle, nothing queued, something ran; and still so a moment later
            page.wait_for_function(FINISHED_JS, timeout=max(1, deadline - time.monotonic()) * 1000)
            page.wait_for_timeout(1500)
            if page.evaluate(FINISHED_JS):
                break
        state = page.evaluate(RUN_STATE_JS)

        errors = page.evaluate(ERRORS_JS)
        assert not errors, f"{notebook.name}: error output shown in JupyterLab:\n" + "\n---\n".join(errors)
        expected = _expected_code_cells(notebook)
        assert state["executed"] == expected, (
            f"{notebook.name}: {state['executed']} of {expected} code cells ran (Run All stopped early?)")

        page.locator(".jp-Notebook .labkit-explorer").first.wait_for(timeout=WIDGET_S * 1000)
        page.wait_for_function("() => [...document.querySelectorAll('.jp-Notebook .labkit-explorer img')]"
                               ".every(i => i.complete && i.naturalWidth > 0)", timeout=WIDGET_S * 1000)
        explorers = page.evaluate(EXPLORERS_JS)
        assert explorers, f"{notebook.name}: no live explorer (.labkit-explorer) in the page"
        for i, ex in enumerate(explorers):
            assert ex["controls"] >= 1, f"{notebook.name}: explorer {i} shows no slider or dropdown"
            assert ex["image"], f"{notebook.name}: explorer {i} shows no plot image"
        trouble = page.evaluate(WIDGET_TROUBLE_JS)
        assert not trouble, f"{notebook.name}: a widget did not render live:\n" + "\n---\n".join(trouble)

        # Live means the kernel answers: move a slider and the kernel redraws (new plot or readout).
        before = page.evaluate(KERNEL_DRAWN_JS)
        if _move_first_slider(page):
            page.wait_for_function(f"before => ({KERNEL_DRAWN_JS})() !== before", arg=before,
                                   timeout=WIDGET_S * 1000)
            page.wait_for_function(FINISHED_JS, timeout=WIDGET_S * 1000)
            errors = page.evaluate(ERRORS_JS)
            assert not errors, f"{notebook.name}: error after moving a slider:\n" + "\n---\n".join(errors)
        failed = False
        print(f"{notebook.name}: {state['executed']} cells, {len(explorers)} live explorer(s), "
              f"{time.monotonic() - started:.1f} s in the browser")
    finally:
        keep = os.environ.get("LABKIT_BROWSER_SCREENSHOTS")
        if failed or keep:
            folder = keep or tempfile.mkdtemp(prefix="labkit-browser-shots-")
            target = ".jp-Notebook .jp-OutputArea-output[data-mime-type='application/vnd.jupyter.stderr']"
            if not page.locator(target).count():
                target = ".jp-Notebook .labkit-explorer"
            path = _screenshot(page, notebook, folder, scroll_to=target)
            if path:
                print(f"screenshot of {notebook.name}: {path}")
        if failed and messages:
            print("\n".join(messages[:20]))
        page.close()
        lab.shutdown_kernels()
