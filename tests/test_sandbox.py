"""The grading sandbox (labkit.grading.sandbox): a submission's kernel cannot get out of its folder.

Each test runs real notebooks with nbclient in a kernel started by ``kernel_manager`` and checks
from outside (the test process) that the escape attempts changed nothing. Skipped with the reason
where bubblewrap cannot start (not Linux, not installed, user namespaces disabled). About 10 s.
"""

import json
import os
import socket
import sys
import time
import uuid
from pathlib import Path

import nbclient
import pytest
from nbclient.exceptions import CellExecutionError, DeadKernelError
from nbformat.v4 import new_code_cell, new_notebook

from labkit.grading import sandbox

OK, WHY = sandbox.available()
needs_sandbox = pytest.mark.skipif(not OK, reason=f"no sandbox here: {WHY}")
REPO = Path(__file__).resolve().parents[1]


def run(workdir, cells, *, allow_errors=True, cell_timeout=30, exits=None, **kwargs):
    """Execute ``cells`` in a kernel from kernel_manager(workdir, **kwargs); the executed notebook.
    ``exits``: a list to append how the kernel ended (km.kernel_exit()) when it died."""
    nb = new_notebook(cells=[new_code_cell(c) for c in cells])
    km = sandbox.kernel_manager(workdir, **kwargs)
    try:
        nbclient.NotebookClient(nb, km=km, timeout=cell_timeout, allow_errors=allow_errors,
                                interrupt_on_timeout=True).execute()
    except DeadKernelError:
        if exits is not None:
            exits.append(km.kernel_exit())
        raise
    finally:
        km.shutdown_kernel(now=True)
        km.cleanup_resources()
    return nb


def last_json(nb):
    """The JSON object the notebook's last cell printed."""
    texts = [o.get("text", "") for o in nb.cells[-1].outputs if o.get("output_type") == "stream"]
    errors = [f"{o['ename']}: {o['evalue']}" for c in nb.cells for o in c.outputs
              if o.get("output_type") == "error"]
    assert texts, f"the last cell printed nothing; errors: {errors}"
    return json.loads(texts[-1].strip().splitlines()[-1])


# Each attempt is reported as "ok" (it worked inside the kernel) or the exception's name.
ATTEMPT = '''
import json, os, socket
from pathlib import Path
found = {}
def attempt(name, fn):
    try:
        out = fn()
        found[name] = "ok" if out is None else ["ok", out]
    except BaseException as e:
        found[name] = type(e).__name__
def write(path, text):
    Path(path).write_text(text)
'''


@pytest.fixture
def classroom(tmp_path):
    """Two submissions side by side: alice's (the workdir) and bob's (a sibling with a file)."""
    alice, bob = tmp_path / "submitted" / "alice", tmp_path / "submitted" / "bob"
    alice.mkdir(parents=True)
    bob.mkdir(parents=True)
    (bob / "03_interconnects.ipynb").write_text('{"bob": "original"}')
    return alice, bob


@needs_sandbox
def test_escapes_fail_and_change_nothing_outside(classroom, monkeypatch):
    alice, bob = classroom
    tag = uuid.uuid4().hex[:8]
    home_probe = Path.home() / f"labkit-sandbox-probe-{tag}"
    repo_probe = REPO / f"labkit-sandbox-probe-{tag}"
    pkg_probe = REPO / "labkit" / f"sandbox-probe-{tag}.py"
    host_tmp_probe = Path("/tmp") / f"labkit-sandbox-probe-{tag}"
    bob_file = bob / "03_interconnects.ipynb"
    monkeypatch.setenv("LABKIT_TEST_SECRET", "instructor-only")
    home_before = sorted(os.listdir(Path.home()))

    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(1)
    listener.setblocking(False)
    port = listener.getsockname()[1]
    try:
        nb = run(alice, [ATTEMPT + f'''
for name, path in [("home", {str(home_probe)!r}), ("repo", {str(repo_probe)!r}),
                   ("package", {str(pkg_probe)!r}), ("host_tmp", {str(host_tmp_probe)!r}),
                   ("bob_new", {str(bob / "new.txt")!r})]:
    attempt("write_" + name, lambda path=path: write(path, "escaped"))
attempt("read_bob", lambda: Path({str(bob_file)!r}).read_text())
attempt("edit_bob", lambda: write({str(bob_file)!r}, "edited"))
attempt("list_submissions", lambda: os.listdir({str(bob.parent)!r}))
attempt("list_home", lambda: os.listdir({str(Path.home())!r}))
attempt("list_repo", lambda: sorted(os.listdir({str(REPO)!r})))
attempt("write_own", lambda: write("mine.txt", "fine"))
attempt("connect_host", lambda: socket.create_connection(("127.0.0.1", {port}), timeout=3).close())
attempt("connect_internet", lambda: socket.create_connection(("1.1.1.1", 53), timeout=3).close())
attempt("dns", lambda: socket.getaddrinfo("example.com", 443))
attempt("secret_env", lambda: os.environ["LABKIT_TEST_SECRET"])
found["home_env"], found["cwd"] = os.environ["HOME"], os.getcwd()
print(json.dumps(found))
'''])
        try:
            conn, _ = listener.accept()
            conn.close()
            got_connection = True
        except BlockingIOError:
            got_connection = False
    finally:
        listener.close()
        escaped = [p for p in (home_probe, repo_probe, pkg_probe, host_tmp_probe) if p.exists()]
        for p in escaped:                     # a failing sandbox must not litter the host
            p.unlink()
    found = last_json(nb)

    # (a), (b): no write reaches the host. A checkout under the host's /tmp (a CI clone) lies inside the
    # sandbox's private /tmp, where a write lands in that throwaway tmpfs: harmless, and `escaped` proves it
    in_private_tmp = Path("/tmp") in REPO.resolve().parents
    for name in ("home", "package", "bob_new", *(() if in_private_tmp else ("repo",))):
        assert found[f"write_{name}"] != "ok", found
    assert found["write_package"] == "OSError"                    # labkit is there, read-only
    assert escaped == []                                          # ... nor the host's /tmp:
    assert not (bob / "new.txt").exists()
    assert found["write_host_tmp"] == "ok"                        # its /tmp is a private one
    assert found["read_bob"] == "FileNotFoundError"               # (b) the other submission is absent
    assert found["edit_bob"] != "ok" and bob_file.read_text() == '{"bob": "original"}'
    assert found["list_submissions"] == ["ok", ["alice"]]
    home_inside = found["list_home"][1] if found["list_home"][0] == "ok" else []
    # only the folders leading to a bound Python (e.g. ~/.pyenv) may show; none of the home's files
    assert set(home_inside) <= {p.relative_to(Path.home()).parts[0] for p in sandbox._python_paths()
                                if Path.home() in p.parents}, home_inside
    assert sorted(os.listdir(Path.home())) == home_before
    assert "solutions" not in found["list_repo"][1] and ".git" not in found["list_repo"][1]
    assert found["write_own"] == "ok" and (alice / "mine.txt").read_text() == "fine"
    assert found["connect_host"] != "ok" and not got_connection   # (c) no network
    assert found["connect_internet"] != "ok"
    assert found["dns"] == "gaierror"
    assert found["secret_env"] == "KeyError"                      # the grader's environment stays out
    assert found["home_env"] == found["cwd"] == str(alice.resolve())


@needs_sandbox
def test_memory_limit_stops_the_allocation(tmp_path):
    limit = 768 * 2**20
    nb = run(tmp_path, [
        "import resource; print(resource.getrlimit(resource.RLIMIT_AS))",
        # raising the limit again must fail: no capability inside
        ATTEMPT + "attempt('raise', lambda: resource.setrlimit(resource.RLIMIT_AS, (2**40, 2**40)))\n"
                  "print(json.dumps(found))",
        "x = bytearray(3 * 2**30)\nx[::4096] = b'1' * len(x[::4096])",
        "print('still here')"], memory_bytes=limit)
    assert nb.cells[0].outputs[0]["text"].strip() == f"({limit}, {limit})"
    assert json.loads(nb.cells[1].outputs[0]["text"]) == {"raise": "ValueError"}
    errors = [o["ename"] for o in nb.cells[2].outputs if o["output_type"] == "error"]
    assert errors == ["MemoryError"]


@needs_sandbox
def test_memory_hog_with_no_allow_errors_is_reported(tmp_path):
    # As the grader sees it: the failed allocation is a cell error (or, when the kernel's own
    # machinery cannot allocate, a dead kernel); never 3 GiB taken from the instructor's machine.
    with pytest.raises((CellExecutionError, DeadKernelError)) as err:
        run(tmp_path, ["import numpy as np\nx = np.ones(3 * 2**27)"],
            memory_bytes=512 * 2**20, allow_errors=False)
    assert "MemoryError" in str(err.value) or isinstance(err.value, DeadKernelError)


@needs_sandbox
def test_wall_timeout_kills_the_kernel_and_says_why(tmp_path):
    exits = []
    start = time.monotonic()
    with pytest.raises(DeadKernelError):
        run(tmp_path, ["import time\ntime.sleep(60)", "print('never')"], timeout=3, cell_timeout=60,
            exits=exits)
    assert time.monotonic() - start < 20
    assert exits == ["stopped at the wall-clock limit (timeout=3 s)"]
    with pytest.raises(DeadKernelError):
        run(tmp_path, ["import os, signal\nos.kill(os.getpid(), signal.SIGKILL)"], exits=exits)
    assert exits[-1] == "killed by SIGKILL"


@needs_sandbox
def test_a_normal_notebook_checks_answers(tmp_path):
    nb = run(tmp_path, [
        "from labkit import check",
        "def matmul_flops(m, n, k):\n    return 2 * m * n * k",
        "right = check('01.matmul_flops', matmul_flops)",
        "wrong = check('01.matmul_flops', lambda m, n, k: m * n * k)",
        "import json, labkit.data\n"
        "print(json.dumps([bool(right), bool(wrong), len(labkit.data.load('hardware')) > 0]))"])
    assert last_json(nb) == [True, False, True]
    assert (tmp_path / ".labkit").is_dir()          # progress went to LABKIT_DATA_DIR in the workdir


def test_unsandboxed_kernel_gets_the_same_cwd_env_and_limits(tmp_path, monkeypatch):
    monkeypatch.setenv("LABKIT_TEST_SECRET", "instructor-only")
    nb = run(tmp_path, [
        "import os, json, resource\n"
        "print(json.dumps([os.getcwd(), os.environ['HOME'], 'LABKIT_TEST_SECRET' in os.environ,"
        " resource.getrlimit(resource.RLIMIT_AS)[0]]))"], sandbox=False, memory_bytes=2**31)
    assert last_json(nb) == [str(tmp_path.resolve()), str(tmp_path.resolve()), False, 2**31]


def test_no_sandbox_raises_with_the_reason(tmp_path, monkeypatch):
    monkeypatch.setattr(sandbox, "available", lambda: (False, "bubblewrap (bwrap) is not installed"))
    with pytest.raises(sandbox.SandboxUnavailable, match="not installed") as err:
        sandbox.kernel_manager(tmp_path)
    assert err.value.reason == "bubblewrap (bwrap) is not installed"
    assert sandbox.kernel_manager(tmp_path, sandbox=False).kernel_spec.argv[-5:-2] == \
        [sys.executable, "-m", "ipykernel_launcher"]


def test_probe_says_why(monkeypatch):
    monkeypatch.setattr(sandbox.shutil, "which", lambda name: None)
    monkeypatch.setattr(sandbox, "_is_linux", lambda: True)
    assert sandbox._probe.__wrapped__() == (False, "bubblewrap (bwrap) is not installed")
    monkeypatch.setattr(sandbox, "_is_linux", lambda: False)
    ok, why = sandbox._probe.__wrapped__()
    assert not ok and "needs Linux" in why


def test_bad_arguments_are_named(tmp_path):
    with pytest.raises(ValueError, match="workdir"):
        sandbox.kernel_manager(tmp_path / "missing", sandbox=False)
    with pytest.raises(TypeError, match="workdir"):
        sandbox.kernel_manager(42, sandbox=False)
    for shared in ("/", Path.home(), REPO):       # folders holding the home or the grader's Python
        with pytest.raises(ValueError, match="private copy"):
            sandbox.kernel_manager(shared, sandbox=False)
    with pytest.raises(TypeError, match="memory_bytes"):
        sandbox.kernel_manager(tmp_path, sandbox=False, memory_bytes="2G")
    with pytest.raises(ValueError, match="memory_bytes"):
        sandbox.kernel_manager(tmp_path, sandbox=False, memory_bytes=100 * 2**20)
    with pytest.raises(ValueError, match="timeout"):
        sandbox.kernel_manager(tmp_path, sandbox=False, timeout=0)
    with pytest.raises(TypeError, match="readonly"):
        sandbox.kernel_manager(tmp_path, sandbox=False, readonly="/usr")
    with pytest.raises(ValueError, match="readonly"):
        sandbox.kernel_manager(tmp_path, sandbox=False, readonly=[tmp_path / "missing"])
    with pytest.raises(TypeError, match="sandbox"):
        sandbox.kernel_manager(tmp_path, sandbox="no")
