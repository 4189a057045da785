"""Run one submission's kernel in a sandbox: ``kernel_manager(workdir)`` for nbclient.

A submission is untrusted code running on the instructor's machine. On Linux its kernel (ipykernel,
the grader's own Python) runs inside bubblewrap (``bwrap``, Debian package ``bubblewrap``)::

    km = kernel_manager(workdir, memory_bytes=2 * 2**30, timeout=600)   # workdir: a private copy
    try:
        nbclient.NotebookClient(nb, km=km, timeout=60, interrupt_on_timeout=True).execute()
    except nbclient.exceptions.DeadKernelError:
        why = km.kernel_stderr()                   # the kernel process's own last words, if any
    finally:
        km.shutdown_kernel(now=True)               # nbclient leaves a kernel it was given running

The manager's methods are the ordinary blocking ones; ``km.client()`` is the asynchronous client
nbclient needs. The kernel dies with the thread that started it (PR_SET_PDEATHSIG), so start and
stop it from one long-lived thread (nbclient does), and it dies if the grader is killed.

What the kernel sees (``print(sandbox.describe(workdir))`` shows the exact bwrap command):

- a read-only system: /usr (and the /bin, /lib... links to it), a few files of /etc (the loader cache,
  passwd/group, fonts, time zone; never /etc/shadow, ssl keys or resolv.conf), the Python prefix and
  virtual environment the grader runs (bound alone, even when they live in the instructor's home),
  and labkit's package and datasets (not the rest of the repository: no solutions/, no .git);
- ``workdir`` read-write, as its cwd and ``HOME``; a private, size-limited /tmp and /dev/shm;
- nothing else: not the instructor's home, not the other submissions, not the host's /tmp;
- new user, pid, ipc, uts, cgroup and network namespaces (``--unshare-all``): no network at all (only
  a loopback of its own, so no DNS either), no signals to or view of the host's processes; all
  capabilities dropped and no nested user namespaces; killed when the grader dies
  (``--die-with-parent``); a new terminal session (``--new-session``: no TIOCSTI into the terminal);
- an explicit, minimal environment (no variable of the instructor's leaks in);
- limits set before the kernel starts, which it cannot raise (no capabilities): address space
  (``memory_bytes``, RLIMIT_AS), CPU seconds and no core files; ``timeout`` kills it from outside.
  An allocation beyond ``memory_bytes`` fails: usually a ``MemoryError`` in the cell, the kernel
  alive; when the kernel's own machinery is the one that cannot allocate, the kernel dies
  (DeadKernelError) or stalls until the cell timeout. Either way the memory is never taken.

The kernel talks to the grader over ZMQ ``ipc`` sockets (filesystem sockets) in a private folder
bound into the sandbox: they cross the network namespace, which TCP on localhost could not.
Interrupts are sent as messages on the control channel (a signal could not cross the pid namespace).

``sandbox=False`` gives the same kind of kernel manager without bwrap (``--no-sandbox``): the same
cwd, environment, ipc transport and resource limits, but no isolation at all: the kernel can read and
write whatever the instructor can, reach the network, see other processes, and, run as root, raise its
own limits. Use it only for trusted notebooks or where no sandbox can start.

What stays possible inside the sandbox: using CPU until ``timeout`` or the caller's wall limit, and
memory up to ``memory_bytes`` (plus files it writes into the size-limited /tmp and /dev/shm); filling
``workdir``'s disk; forking many processes (they stay inside the pid namespace and die with it, but
no limit on their number is set); reading world-readable system files (/usr, the bound /etc files,
the Python installation, labkit's source and datasets; /proc of its own namespace, which still shows
the host's CPU and memory totals); and, where the grader runs as root, reading root-owned files among
those binds. A submission containing a ``labkit`` folder or ``labkit.py`` shadows the installed
labkit inside its own kernel (the cwd is on ``sys.path``): the grader must not trust the kernel's
labkit. ``kernel_manager`` refuses a workdir that holds the home or the grader's Python ("/", ~, the
repository), which would make them writable.
"""

import functools
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import weakref
from pathlib import Path

from jupyter_client import KernelManager
from jupyter_client.kernelspec import KernelSpec
from jupyter_core.utils import run_sync
from traitlets import DottedObjectName

from ..core import validate

__all__ = ["SandboxUnavailable", "available", "kernel_manager", "bwrap_argv", "describe"]


class SandboxUnavailable(RuntimeError):
    """No sandbox can start here; ``.reason`` says why in plain words."""

    def __init__(self, reason):
        super().__init__(f"no sandbox for the submissions' kernels: {reason}. Install bubblewrap "
                         "(Debian/Ubuntu: apt-get install bubblewrap) on Linux, or, for notebooks "
                         "you trust, run without a sandbox (--no-sandbox)")
        self.reason = reason


# The kernel starts through a tiny launcher (run outside bwrap): it sets the limits (RLIMIT_* survive
# exec and, with every capability dropped, cannot be raised inside the sandbox), dies with the grader
# (PR_SET_PDEATHSIG) and, given a wall-clock limit, stays as the kernel's parent to kill it on time.
_LAUNCHER = """\
import os, resource, signal, sys
mem, cpu, wall, cmd = sys.argv[1], sys.argv[2], sys.argv[3], sys.argv[4:]
def die_with_parent():
    try:
        import ctypes
        ctypes.CDLL(None).prctl(1, int(signal.SIGKILL))   # PR_SET_PDEATHSIG (Linux)
    except Exception:
        pass
for name, value in (("RLIMIT_AS", mem), ("RLIMIT_CPU", cpu)):
    if value != "-":
        resource.setrlimit(getattr(resource, name), (int(value), int(value)))
resource.setrlimit(resource.RLIMIT_CORE, (0, 0))
die_with_parent()
if wall == "-":
    os.execv(cmd[0], cmd)
import subprocess
child = subprocess.Popen(cmd, preexec_fn=die_with_parent)
try:
    rc = child.wait(timeout=float(wall))
    sys.exit(128 - rc if rc < 0 else rc)     # killed by signal N: 128 + N, as bwrap and shells say
except subprocess.TimeoutExpired:
    child.kill()
    child.wait()
    sys.exit(124)                            # the wall-clock limit, as coreutils' timeout says
"""

#: /etc entries a Python kernel needs (the dynamic loader, user names, fonts, time zone, MIME types,
#: Debian's Python config); nothing secret, no resolv.conf or hosts (there is no network anyway).
_ETC = ("ld.so.cache", "ld.so.conf", "ld.so.conf.d", "passwd", "group", "nsswitch.conf", "localtime",
        "timezone", "fonts", "alternatives", "mime.types", "matplotlibrc")

_SMALL_TMPFS = 256 * 2**20   # /tmp and /dev/shm when no memory limit is given
_MIN_MEMORY = 256 * 2**20    # the smallest memory_bytes accepted: below ~160 MiB no kernel starts


def _is_linux():
    return sys.platform.startswith("linux")


def _under(path, roots):
    return any(path == r or r in path.parents for r in roots)


def _pth_dirs(site_dir):
    """Folders that the .pth files of ``site_dir`` add to sys.path (e.g. editable installs)."""
    out = []
    for pth in sorted(Path(site_dir).glob("*.pth")):
        try:
            lines = pth.read_text(errors="replace").splitlines()
        except OSError:
            continue
        for line in lines:
            line = line.strip()
            if not line or line.startswith(("#", "import ", "import\t")):
                continue
            p = (Path(site_dir) / line)
            if p.is_dir():
                out.append(p.resolve())
    return out


@functools.lru_cache(maxsize=1)
def _python_paths():
    """Read-only folders the kernel's Python needs: its prefixes, site-packages, .pth folders, labkit.

    An editable install's source root (the repository) is not bound whole: only labkit's package
    folder and its datasets folder are, so a submission cannot read solutions/ or tests/.
    """
    import sysconfig

    import labkit
    from labkit.data import datasets_dir

    system = [Path("/usr")]
    paths = []

    def add(p):
        p = Path(p)
        if not p.exists():
            return
        for q in {p.absolute(), p.resolve()}:
            if not _under(q, system + paths):
                paths.append(q)

    for prefix in (sys.prefix, sys.base_prefix, sys.exec_prefix, sys.base_exec_prefix):
        add(prefix)
    site_dirs = {sysconfig.get_paths()[k] for k in ("purelib", "platlib")}
    for d in sorted(site_dirs):
        add(d)
    labkit_pkg = Path(labkit.__file__).resolve().parent
    labkit_root = labkit_pkg.parent
    for d in sorted(site_dirs):
        for extra in _pth_dirs(d):
            if extra == labkit_root:
                continue          # the checkout: bind labkit alone, below
            add(extra)
    add(labkit_pkg)
    add(datasets_dir())
    # a folder bound inside another one is redundant; keep the outermost
    return tuple(p for p in paths if not _under(p, [q for q in paths if q != p]))


def _system_args():
    args = ["--ro-bind", "/usr", "/usr"]
    for name in ("bin", "sbin", "lib", "lib32", "lib64", "libx32"):
        p = Path("/") / name
        if p.is_symlink():
            args += ["--symlink", os.readlink(p), str(p)]
        elif p.is_dir():
            args += ["--ro-bind", str(p), str(p)]
    etc = list(_ETC) + sorted(p.name for p in Path("/etc").glob("python3*"))
    for name in etc:
        args += ["--ro-bind-try", f"/etc/{name}", f"/etc/{name}"]
    return args


def _env(workdir, private_dir, sandbox):
    """The kernel's whole environment: nothing of the grader's is inherited."""
    scratch = "/tmp" if sandbox else str(private_dir)
    return {
        "PATH": os.pathsep.join(dict.fromkeys([str(Path(sys.executable).parent),
                                               "/usr/local/bin", "/usr/bin", "/bin"])),
        "LANG": "C.UTF-8",
        "HOME": str(workdir),
        "TMPDIR": scratch,
        "MPLBACKEND": "Agg",
        "MPLCONFIGDIR": str(private_dir / "matplotlib"),
        "IPYTHONDIR": str(private_dir / "ipython"),
        "XDG_CACHE_HOME": str(private_dir / "cache"),
        "LABKIT_DATA_DIR": str(workdir / ".labkit"),
        "PYTHONNOUSERSITE": "1",
        "PYTHONDONTWRITEBYTECODE": "1",
        "PYDEVD_DISABLE_FILE_VALIDATION": "1",
        # one thread per library and few malloc arenas: kernels run side by side (--jobs) and
        # RLIMIT_AS counts reserved address space, which idle threads' arenas would eat
        "OMP_NUM_THREADS": "1",
        "OPENBLAS_NUM_THREADS": "1",
        "MKL_NUM_THREADS": "1",
        "MALLOC_ARENA_MAX": "2",
    }


@functools.lru_cache(maxsize=1)
def _bwrap_version():
    """bwrap's version as a tuple ((0, 8, 0)); (0,) when it cannot say."""
    try:
        out = subprocess.run([shutil.which("bwrap") or "bwrap", "--version"], capture_output=True,
                             text=True, timeout=10).stdout
        return tuple(int(x) for x in out.split()[-1].split("."))
    except (OSError, ValueError, IndexError, subprocess.TimeoutExpired):
        return (0,)


def bwrap_argv(workdir, private_dir, env, *, readonly=(), tmpfs_bytes=_SMALL_TMPFS):
    """The bwrap command line (up to and including ``--``) for a kernel in ``workdir``."""
    recent = _bwrap_version() >= (0, 8)      # --disable-userns and --size came in bubblewrap 0.8
    size = ["--size", str(tmpfs_bytes)] if recent else []
    args = [shutil.which("bwrap") or "bwrap",
            "--unshare-all", "--unshare-user", *(["--disable-userns"] if recent else []),
            "--cap-drop", "ALL", "--die-with-parent", "--new-session", "--hostname", "sandbox"]
    args += _system_args()
    # the private /tmp first: a venv or checkout that lives under the host's /tmp (a CI clone) is then
    # bound on top of it, instead of being hidden by it
    args += ["--proc", "/proc", "--dev", "/dev",
             *size, "--tmpfs", "/dev/shm", "--remount-ro", "/dev",
             *size, "--tmpfs", "/tmp"]
    for p in _python_paths():
        args += ["--ro-bind", str(p), str(p)]
    args += ["--bind", str(workdir), str(workdir),
             "--bind", str(private_dir), str(private_dir)]
    for p in readonly:                  # after workdir: a read-only path inside it stays read-only
        args += ["--ro-bind", str(p), str(p)]
    args += ["--remount-ro", "/",
             "--chdir", str(workdir), "--clearenv"]
    for key, value in env.items():
        args += ["--setenv", key, value]
    return args + ["--"]


def _launcher_argv(memory_bytes, cpu_seconds, timeout):
    return [sys.executable, "-I", "-c", _LAUNCHER] + [
        "-" if v is None else f"{v:g}" if isinstance(v, float) else str(v)
        for v in (memory_bytes, cpu_seconds, timeout)]


_KERNEL = [sys.executable, "-m", "ipykernel_launcher", "-f", "{connection_file}"]


@functools.lru_cache(maxsize=1)
def _probe():
    if not _is_linux():
        return False, f"the sandbox (bubblewrap) needs Linux; this is {sys.platform}"
    if shutil.which("bwrap") is None:
        return False, "bubblewrap (bwrap) is not installed"
    with tempfile.TemporaryDirectory(prefix="labkit-probe-") as tmp:
        work, private = Path(tmp, "w"), Path(tmp, "k")
        work.mkdir()
        private.mkdir()
        cmd = bwrap_argv(work, private, _env(work, private, True)) + [
            sys.executable, "-c",
            "import socket, labkit\n"
            "try:\n    socket.create_connection(('1.1.1.1', 53), timeout=2)\nexcept OSError:\n"
            "    print('isolated')"]
        try:
            r = subprocess.run(cmd, capture_output=True, text=True, timeout=60,
                               env=_env(work, private, True))
        except (OSError, subprocess.TimeoutExpired) as e:
            return False, f"bwrap did not start: {e}"
    if r.returncode != 0 or r.stdout.strip() != "isolated":
        err = (r.stderr.strip().splitlines() or ["(no message)"])[-1]
        if "namespace" in err or "uid map" in err or "Operation not permitted" in err:
            return False, (f"user namespaces are disabled or restricted here ({err}); enable them "
                           "(sysctl kernel.unprivileged_userns_clone=1, user.max_user_namespaces, or "
                           "on Ubuntu 24.04 kernel.apparmor_restrict_unprivileged_userns=0)")
        return False, f"a test sandbox failed (exit {r.returncode}): {err}"
    return True, "bubblewrap works here"


def available():
    """``(True, reason)`` when a bwrap sandbox (with no network) starts here, else ``(False, reason)``.

    Probed once per process (it starts a sandboxed Python that imports labkit, about 0.3 s).
    """
    return _probe()


class _Kernel(KernelManager):
    """A KernelManager whose kernel command, environment and cwd are fixed by :func:`kernel_manager`.

    Its methods are the blocking ones (``km.shutdown_kernel(now=True)`` works anywhere), but
    ``km.client()`` is asynchronous, as nbclient needs: with a blocking client its per-cell timeout
    never fires (the blocking read of output stalls nbclient's event loop).
    """

    client_class = DottedObjectName("jupyter_client.asynchronous.AsyncKernelClient")

    def _labkit_setup(self, spec, env, workdir, private_dir, timeout):
        self._labkit_timeout = timeout
        self._labkit_spec = spec
        self._labkit_env = env
        self._labkit_workdir = workdir
        self._labkit_private = private_dir
        self._labkit_finalizer = weakref.finalize(self, shutil.rmtree, str(private_dir), True)

    @property
    def kernel_spec(self):       # never looked up by name (nbclient may set kernel_name)
        return self._labkit_spec

    async def _async_pre_start_kernel(self, **kw):
        kw["env"] = dict(self._labkit_env)      # the caller's environment never reaches the kernel
        kw["cwd"] = str(self._labkit_workdir)
        # the kernel's own stdout is a banner; its stderr (start-up failures, crashes) goes to a log
        # that kernel_stderr() reads, not to the instructor's terminal (what cells print goes over ZMQ)
        self._labkit_close_log()
        self._labkit_log = open(self._labkit_private / "kernel-stderr.log", "wb")
        kw["stdout"], kw["stderr"] = subprocess.DEVNULL, self._labkit_log
        return await super()._async_pre_start_kernel(**kw)

    def _labkit_close_log(self):
        log = getattr(self, "_labkit_log", None)
        if log is not None:
            log.close()
            self._labkit_log = None

    def kernel_exit(self):
        """How the kernel process ended, in words ("exit code 1", "killed by SIGKILL", "stopped at
        the wall-clock limit (timeout)"); None while it runs or before it started."""
        process = getattr(self.provisioner, "process", None)
        rc = None if process is None else process.poll()
        if rc is None:
            return None
        if rc == 124 and self._labkit_timeout is not None:
            return f"stopped at the wall-clock limit (timeout={self._labkit_timeout:g} s)"
        sig = -rc if rc < 0 else rc - 128 if rc > 128 else None
        if sig is not None:
            try:
                return f"killed by {signal.Signals(sig).name}"
            except ValueError:
                return f"killed by signal {sig}"
        return f"exit code {rc}"

    def kernel_stderr(self, limit=4000):
        """The last ``limit`` characters the kernel process wrote to its stderr (before ipykernel
        captures it: why a kernel failed to start), kept after the kernel is cleaned up."""
        try:
            with open(self._labkit_private / "kernel-stderr.log", "rb") as f:
                f.seek(0, os.SEEK_END)
                f.seek(max(0, f.tell() - limit))
                return f.read().decode(errors="replace")
        except OSError:
            return getattr(self, "_labkit_stderr_kept", "")[-limit:]

    async def _async_interrupt_kernel(self):
        # shutdown_kernel interrupts first; on a kernel that is already dead (or after nbclient
        # cleaned up a kernel that failed to start) there is nothing to interrupt
        if self.context.closed or not await self._async_is_alive():
            return
        await super()._async_interrupt_kernel()

    interrupt_kernel = run_sync(_async_interrupt_kernel)

    async def _async_cleanup_resources(self, restart=False):
        # shutdown_kernel ends with this too: the private socket folder goes with the kernel
        await super()._async_cleanup_resources(restart=restart)
        if not restart:
            self._labkit_close_log()
            if self._labkit_finalizer.alive:
                self._labkit_stderr_kept = self.kernel_stderr(limit=16000)
            self._labkit_finalizer()

    cleanup_resources = run_sync(_async_cleanup_resources)

    def __repr__(self):
        return f"<labkit kernel manager for {self._labkit_workdir}>"


def kernel_manager(workdir, *, sandbox=True, memory_bytes=None, readonly=(), timeout=None,
                   cpu_seconds=None, env=None):
    """A ``jupyter_client.KernelManager`` whose kernel runs sandboxed in ``workdir``.

    ``workdir``: an existing folder, a private copy of one submission: the kernel's cwd and HOME, the
    only host folder it can write. ``sandbox``: False for a plain local kernel (no isolation, see the
    module docstring). ``memory_bytes``: the kernel's address-space limit (an allocation beyond it
    fails with MemoryError, or the kernel dies), None for none. ``readonly``: more host folders or
    files to show read-only at the same path. ``timeout``: wall-clock seconds after which the kernel
    is killed from outside (it then shows as dead), None for none. ``cpu_seconds``: its CPU-time limit.
    ``env``: more ``LABKIT_*`` variables for the kernel (the student's numbers), beside the fixed ones.

    Raises SandboxUnavailable (with the reason) when ``sandbox`` is True and bwrap cannot start.
    The caller shuts the kernel down (``km.shutdown_kernel(now=True)``, which also removes its
    private socket folder); ``km.kernel_stderr()`` reads what the kernel process wrote to stderr.
    """
    if not isinstance(workdir, (str, os.PathLike)):
        raise TypeError(f"workdir must be a folder path, got {type(workdir).__name__} {workdir!r}")
    workdir = Path(workdir).resolve()
    if not workdir.is_dir():
        raise ValueError(f"workdir must be an existing folder, got {str(workdir)!r}")
    shared = [p for p in [Path.home().resolve(), *_python_paths()] if _under(p, [workdir])]
    if shared or workdir == Path(workdir.anchor):
        raise ValueError(f"workdir must be a private copy of one submission, not {str(workdir)!r}, "
                         f"which holds {str(shared[0]) if shared else 'the whole system'}")
    sandbox = validate.flag("sandbox", sandbox)
    if memory_bytes is not None:
        # a kernel needs ~160 MiB of address space just to start (Python, zmq, its threads)
        memory_bytes = validate.integer("memory_bytes", memory_bytes, minimum=_MIN_MEMORY, maximum=None)
    if timeout is not None:
        timeout = validate.positive("timeout", timeout, "s")
    if cpu_seconds is not None:
        cpu_seconds = validate.integer("cpu_seconds", cpu_seconds, minimum=1, maximum=None)
    if isinstance(readonly, (str, os.PathLike)) or not hasattr(readonly, "__iter__"):
        raise TypeError(f"readonly must be a list of paths, got {type(readonly).__name__} {readonly!r}")
    ro = []
    for p in readonly:
        if not isinstance(p, (str, os.PathLike)) or not Path(p).exists():
            raise ValueError(f"readonly must list existing paths; {p!r} is not one")
        ro.append(Path(p).resolve())
    env_extra = env
    if env_extra is not None and (not isinstance(env_extra, dict) or not all(
            isinstance(k, str) and k.startswith("LABKIT_") and isinstance(v, str) for k, v in env_extra.items())):
        raise TypeError("env must be a dict of LABKIT_* names to strings")
    if sandbox:
        ok, reason = available()
        if not ok:
            raise SandboxUnavailable(reason)

    # Sockets, connection file and the kernel's scratch config live in a short private folder:
    # a unix socket path must stay under ~100 characters, which a deep workdir could exceed.
    private_dir = Path(tempfile.mkdtemp(prefix="lk-")).resolve()
    env = _env(workdir, private_dir, sandbox)
    for key, value in (env_extra or {}).items():
        env[key] = value
    argv = _launcher_argv(memory_bytes, cpu_seconds, timeout)
    if sandbox:
        tmpfs = _SMALL_TMPFS if memory_bytes is None else min(memory_bytes, 2**30)
        argv += bwrap_argv(workdir, private_dir, env, readonly=ro, tmpfs_bytes=tmpfs)
    argv += _KERNEL
    spec = KernelSpec(argv=argv, display_name="labkit grading kernel", language="python",
                      interrupt_mode="message", env={}, metadata={})
    km = _Kernel(transport="ipc", ip=str(private_dir / "k"),
                 connection_file=str(private_dir / "kernel.json"), kernel_name="python3")
    km._labkit_setup(spec, env, workdir, private_dir, timeout)
    return km


def describe(workdir, **kwargs):
    """The kernel command :func:`kernel_manager` would run for ``workdir``, as one shell line."""
    import shlex

    km = kernel_manager(workdir, **kwargs)
    try:
        return shlex.join(km.kernel_spec.argv)
    finally:
        km.cleanup_resources()


if __name__ == "__main__":          # python -m labkit.grading.sandbox: is there a sandbox here?
    ok, why = available()
    print(("sandbox available: " if ok else "no sandbox: ") + why)
