"""Executing one submission: a copy of the notebook, a fresh kernel, limits, and the grading cell last.

Limits (:class:`Limits`): ``cell_timeout`` seconds per cell (then the kernel is interrupted and the next
cell runs; a cell that ignores the interrupt is killed with its kernel, skipped, and the notebook runs
again in a fresh kernel without it — at most ``retries`` times); ``wall`` seconds for all the learner's
cells together; ``memory_bytes`` for the kernel (given to the sandbox's kernel manager); ``output_bytes``
of outputs kept in memory (the rest dropped, and said). A cell that kills its kernel (``os._exit``, the
memory limit) is skipped the same way. The grading cell runs last with its own time budget.
"""

import asyncio
import json
import re
import shutil
import signal
import subprocess
import tempfile
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

_INSTALL = re.compile(r"^(\s*)(?:[%!]\s*(?:pip|conda|mamba|uv)\b|(?:get_ipython\(\)\.run_line_magic\(\s*['\"]pip))")


@dataclass
class Limits:
    cell_timeout: float = 60.0
    wall: float = 600.0
    memory_bytes: int = 2 * 2**30
    output_bytes: int = 2 * 2**20
    retries: int = 2


@dataclass
class Executed:
    """What running a submission gave: the grading cell's printed text (None when it never ran), notes
    for the instructor, and a problem when nothing could be graded."""
    text: str = None
    notes: list = field(default_factory=list)
    problem: str = None


def read_notebook(data):
    """(notebook, None) or (None, plain reason) for a submission's bytes."""
    import nbformat
    if data is None:
        return None, "no data"
    if not data.strip():
        return None, "the file is empty"
    try:
        raw = json.loads(data.decode("utf-8-sig"))
    except UnicodeDecodeError:
        return None, "the file is not text (not a notebook saved by Jupyter)"
    except (ValueError, RecursionError) as e:
        where = f" (line {e.lineno})" if hasattr(e, "lineno") else ""
        return None, f"the file is not valid JSON{where}: not a notebook saved by Jupyter"
    if type(raw) is not dict or "cells" not in raw and "worksheets" not in raw:
        return None, "the file is JSON but not a notebook (no cells)"
    version = raw.get("nbformat")
    if version != 4:
        return None, f"the notebook has nbformat {version!r}; only nbformat 4 (Jupyter 4 and later) can be graded"
    try:
        import warnings

        from nbformat.validator import normalize
        from nbformat.v4.rwbase import rejoin_lines
        with warnings.catch_warnings():      # nbformat's notes on cell ids an older tool left out
            warnings.simplefilter("ignore")
            _, raw = normalize(raw)
            # Jupyter saves each cell's source (and text outputs) as a list of lines: join them, as nbformat.read does
            nb = rejoin_lines(nbformat.from_dict(raw))
            nbformat.validate(nb)
    except Exception as e:
        text = str(e).splitlines()[0] if str(e) else type(e).__name__
        return None, f"the notebook's structure is invalid ({text[:160]})"
    return nb, None


def prepare(nb):
    """The copy that runs: outputs cleared, install lines of the setup cell (``%pip``, ``!pip``) replaced
    by ``pass`` (no installs while grading); returns the notes on what changed."""
    notes = []
    for i, cell in enumerate(nb.cells):
        if cell.cell_type != "code":
            continue
        cell.outputs, cell.execution_count = [], None
        lines = cell.source.splitlines()
        changed = False
        for k, line in enumerate(lines):
            m = _INSTALL.match(line)
            if m:
                lines[k] = m.group(1) + "pass  # install line removed by labkit grade"
                changed = True
        if changed:
            cell.source = "\n".join(lines)
            if "setup" not in cell.get("metadata", {}).get("tags", []):
                notes.append(f"cell {i}: an install line was not run")
    return notes


def _client_class():
    from nbclient import NotebookClient

    class Client(NotebookClient):
        """nbclient with capped outputs, timed-out cells noted, and the grading cell's text kept apart."""

        def __init__(self, *a, output_cap, grading_index, **kw):
            super().__init__(*a, **kw)
            self.output_cap, self.grading_index = output_cap, grading_index
            self.kept_bytes, self.dropped_bytes, self.timed_out = 0, 0, False
            self.grading_chunks, self.grading_bytes = [], 0

        def output(self, outs, msg, display_id, cell_index):
            content = msg.get("content", {})
            if cell_index == self.grading_index:
                if msg.get("msg_type") == "stream" and content.get("name") == "stdout":
                    text = content.get("text", "")
                    if self.grading_bytes < 64 * 2**20:
                        self.grading_chunks.append(text)
                        self.grading_bytes += len(text)
                return None
            size = len(content.get("text", "")) + sum(len(str(v)) for v in (content.get("data") or {}).values())
            if self.kept_bytes + size > self.output_cap:
                self.dropped_bytes += size
                return None
            self.kept_bytes += size
            return super().output(outs, msg, display_id, cell_index)

        async def _async_handle_timeout(self, timeout, cell=None):
            self.timed_out = True
            return await super()._async_handle_timeout(timeout, cell)

    return Client


def _kill(km):
    """Kill the kernel and its process group, from anywhere."""
    import os
    process = getattr(getattr(km, "provisioner", None), "process", None)
    pid = getattr(process, "pid", None)
    if pid:
        for kill in (os.killpg, os.kill):
            try:
                kill(pid, signal.SIGKILL)
            except (OSError, ProcessLookupError):
                pass


def _exit_text(km):
    process = getattr(getattr(km, "provisioner", None), "process", None)
    code = None
    try:
        code = process.wait(timeout=2) if process is not None else None
    except Exception:
        code = None
    if code is None:
        return "stopped the kernel"
    if code < 0 or code > 128:        # killed by a signal (a wrapper such as bwrap or timeout says 128 + it)
        sig = -code if code < 0 else code - 128
        name = signal.Signals(sig).name if sig in signal.Signals._value2member_map_ else f"signal {sig}"
        extra = " (killed: over the memory limit?)" if sig == signal.SIGKILL else ""
        return f"stopped the kernel ({name}){extra}"
    return f"stopped the kernel (exit code {code}: sys.exit or os._exit?)"


_ERRORS = {"MemoryError": "ran out of memory (the limit is {memory})",
           "SystemExit": "called sys.exit() (ignored: the notebook went on)",
           "TimeoutError": "ran past {timeout} s and was interrupted",
           "KeyboardInterrupt": "ran past {timeout} s and was interrupted"}


def _error_notes(nb, grading_index, limits):
    """Plain notes on the cells that hit a limit or tried to stop the notebook."""
    notes = []
    memory = "none" if limits.memory_bytes is None else f"{limits.memory_bytes / 2**30:.3g} GiB"
    for i, cell in enumerate(nb.cells[:grading_index]):
        for out in cell.get("outputs", []) if cell.cell_type == "code" else []:
            text = _ERRORS.get(out.get("ename")) if out.get("output_type") == "error" else None
            if text:
                notes.append(f"cell {i} " + text.format(memory=memory, timeout=f"{limits.cell_timeout:g}"))
                break
    return notes


async def _responds(kc, seconds):
    """Whether the kernel answers an empty request within ``seconds`` (after an interrupt)."""
    from queue import Empty

    from jupyter_core.utils import ensure_async
    msg_id = kc.execute("", silent=True, store_history=False)
    deadline = time.monotonic() + seconds
    while True:
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            return False
        try:
            msg = await ensure_async(kc.shell_channel.get_msg(timeout=remaining))
        except Empty:
            return False
        if msg.get("parent_header", {}).get("msg_id") == msg_id:
            return True


async def _attempt(nb, grading_source, grading_timeout, skipped, deadline, limits, make_km, workdir):
    """One run in a fresh kernel: (grading text or None, culprit cell index or None, why, client)."""
    import nbformat
    from jupyter_core.utils import ensure_async
    from nbclient.exceptions import DeadKernelError

    run = nbformat.from_dict(json.loads(json.dumps(nb)))
    for i, why in skipped.items():
        run.cells[i].source = f"# cell skipped by labkit grade: it {why}"
    run.cells.append(nbformat.v4.new_code_cell(grading_source))
    grading_index = len(run.cells) - 1
    km = make_km(workdir)
    # the last resort: whatever blocks, the kernel (and so every wait on it) ends at this deadline
    watchdog = threading.Timer(max(0.0, deadline - time.monotonic()) + grading_timeout + 60, _kill, [km])
    watchdog.daemon = True
    watchdog.start()
    Client = _client_class()
    client = Client(run, km=km, timeout=int(max(1, limits.cell_timeout)), allow_errors=True,
                    interrupt_on_timeout=True, startup_timeout=120, iopub_timeout=5, shell_timeout_interval=1,
                    error_on_timeout={"ename": "TimeoutError",
                                      "evalue": f"the cell ran past {limits.cell_timeout:g} s and was interrupted"},
                    output_cap=limits.output_bytes, grading_index=grading_index, record_timing=False)
    wall_spent = None
    try:
        await client.async_start_new_kernel(cwd=str(workdir), stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        await client.async_start_new_kernel_client()
        for i, cell in enumerate(run.cells):
            if cell.cell_type != "code" or i in skipped:
                continue
            grading = i == grading_index
            if grading:
                client.timeout = int(grading_timeout)
                remaining = grading_timeout + 30
            else:
                remaining = deadline - time.monotonic()
                if remaining <= 0:           # the rest is not run; what was defined so far is still graded
                    wall_spent = i if wall_spent is None else wall_spent
                    continue
            client.timed_out = False
            try:
                await asyncio.wait_for(client.async_execute_cell(cell, i), timeout=remaining + 10)
            except DeadKernelError:
                return None, i, _exit_text(km), client
            except asyncio.TimeoutError:
                _kill(km)
                if grading:
                    return None, "grading", "the grading cell ran out of time", client
                return None, i, f"ran past the notebook's {limits.wall:g} s wall limit", client
            if client.timed_out and not await _responds(client.kc, 5):
                _kill(km)
                if grading:
                    return None, "grading", "the grading cell ran out of time", client
                return None, i, (f"ran past {limits.cell_timeout:g} s and ignored the interrupt "
                                 "(an endless loop that catches KeyboardInterrupt?)"), client
        client.error_notes = _error_notes(run, grading_index, limits)
        if wall_spent is not None:
            client.error_notes.append(f"cells from {wall_spent} on were not run: the notebook's {limits.wall:g} s "
                                      "wall limit was spent")
        return "".join(client.grading_chunks), None, None, client
    finally:
        watchdog.cancel()
        try:
            if client.kc is not None:
                client.kc.stop_channels()
        except Exception:
            pass
        try:
            await ensure_async(km.shutdown_kernel(now=True))
        except Exception:
            _kill(km)
        try:
            km.cleanup_resources()
        except Exception:
            pass


def execute(nb, grading_source, grading_timeout, limits, make_km):
    """Run ``nb`` (already prepared) and then the grading cell; an :class:`Executed`."""
    result = Executed()
    deadline = time.monotonic() + limits.wall
    skipped = {}
    workdir = Path(tempfile.mkdtemp(prefix="labkit-grade-"))
    try:
        for _attempt_number in range(limits.retries + 1):
            try:
                text, culprit, why, client = asyncio.run(
                    _attempt(nb, grading_source, grading_timeout, skipped, deadline, limits, make_km, workdir))
            except Exception as e:   # the kernel would not start, or nbclient failed: say so, never crash
                result.problem = f"the notebook could not be run ({type(e).__name__}: {str(e)[:200]})"
                return result
            if client.dropped_bytes:
                result.notes.append(f"{client.dropped_bytes / 2**20:.1f} MB of output beyond the "
                                    f"{limits.output_bytes / 2**20:.0f} MB kept was dropped")
            if culprit is None:
                result.notes[:0] = client.error_notes
                result.text = text
                return result
            if culprit == "grading":
                result.problem = why
                return result
            skipped[culprit] = why
            result.notes.append(f"cell {culprit} {why}: it was skipped")
            if deadline - time.monotonic() < 5:
                break
        result.problem = "the notebook kept stopping its kernel: " + "; ".join(
            f"cell {i} {w}" for i, w in skipped.items())
        return result
    finally:
        shutil.rmtree(workdir, ignore_errors=True)
