"""Running the learner's code where limits hold, and keeping the checking code honest.

**Function answers** run in a forked child process on POSIX (Linux, macOS; Colab and Binder are Linux):
the child inherits the learner's function, calls it on every input with stdout/stderr going to a capped
sink, and sends back plain data only (per input: a list of floats, converted strictly in the child, or
an error's type name and a truncated message). The parent enforces a per-input budget and a total
deadline and kills the child (SIGKILL) when it runs over, so a loop that swallows exceptions, cancels
timers or runs in C (``sum(range(10**11))``) ends in a clean ❌. The parent installs no signal handler
or timer and leaves the learner's timers and threads as they were; whatever the child changes
(monkeypatching, numpy's state, the inputs) dies with it. References are computed in the parent, and only
the parent's comparison decides a verdict.

*Own work only*: in the child a profile hook (``sys.setprofile`` and ``threading.setprofile``) watches for
a call into the exercise's reference or a function the exercise ``teaches``; the first such call ends the
run with "your function calls `labkit....`, which is what this exercise asks you to write".

Where ``os.fork`` does not exist (Windows), :func:`run_function` falls back to calling the function in a
thread of the kernel with a timeout. That is weaker: a function that never returns keeps its thread
running after the ❌, and whatever it changes in the kernel stays changed (the integrity check below still
refuses every later ✅ when it touches the checking code).

**Integrity**: :func:`seal` records, when the exercise system is imported, the identity of every
function and class the verdict depends on (the exercise modules' functions, the Exercise classes'
methods, their code objects, numpy's, math's and a few builtins); :func:`tampered` compares them at each
check, together with each registered exercise's verdict fields. Once anything was replaced, every later
check in that kernel answers "the checking code was modified" until the kernel restarts.

A check inside the learner's own kernel cannot stop a determined learner from reading the expected value
(through ``inspect``/``gc``, or from the registry) or from undoing these checks; it makes that hard. Graded
work must be checked outside the learner's kernel (``python -m labkit grade``), never from a notebook's ✅.
"""

import builtins
import functools
import importlib
import json
import math
import os
import signal
import sys
import threading
import time
import types
import warnings

import numpy as np

from ._base import _NUMPY_NUMBERS, _strict_floats, _type_name

_CAN_FORK = hasattr(os, "fork") and hasattr(os, "killpg") and sys.platform != "emscripten"
_OUTPUT_CAP = 4000          # characters of the function's printed output kept (and 300 shown)
_MESSAGE_CAP = 300          # characters of an error message kept
_READ_CAP = 64 * 2**20      # bytes the parent reads from the child at most

# Kinds of outcome, one per input the function was called on.
VALUE, NONE, ELLIPSIS, NOT_IMPLEMENTED, ERROR, NOT_NUMBER = "value", "none", "ellipsis", "not_implemented", "error", "not_number"


class _Timeout(Exception):
    pass


class _NotAttempted(Exception):
    pass


class Run:
    """What running a function on its inputs gave.

    ``outcomes``: one tuple per input run, in order: ``(VALUE, floats)``, ``(NONE,)``, ``(ELLIPSIS,)``,
    ``(NOT_IMPLEMENTED,)``, ``(ERROR, type_name, message)``, ``(NOT_NUMBER, description)``.
    ``stop``: None when every input ran (or the run stopped at a non-value outcome); else
    ``("timeout", index)`` (one input ran past the budget), ``("too_slow", index)`` (the total deadline),
    ``("forbidden", name)`` (own-work tripwire), ``("died", text)`` (the child ended without a result),
    ``("interrupted",)``. ``printed``: characters printed in all; ``head``: the first of them.
    """

    def __init__(self):
        self.outcomes, self.stop, self.printed, self.head = [], None, 0, ""


# ---------------------------------------------------------------------------------------------
# Own work: what a learner's function may not call
# ---------------------------------------------------------------------------------------------
_FORBIDDEN_CACHE = {}     # id(exercise) -> (exercise, {id(code or callable): (kept object, name)})


def _unwrap(obj, seen=None):
    """The callables behind obj: itself, a partial's func, __wrapped__ chains, a bound method's function."""
    seen = [] if seen is None else seen
    for _ in range(20):
        if obj is None or any(obj is s for s in seen):
            return seen
        seen.append(obj)
        if isinstance(obj, functools.partial):
            _unwrap(obj.func, seen)
            return seen
        if isinstance(obj, types.MethodType):
            obj = obj.__func__
            continue
        obj = getattr(obj, "__wrapped__", None)
    return seen


def _resolve_dotted(name):
    """labkit.hardware.matmul_flops -> the object, importing the longest module prefix."""
    parts = name.split(".")
    for k in range(len(parts), 0, -1):
        try:
            obj = importlib.import_module(".".join(parts[:k]))
        except ImportError:
            continue
        for attr in parts[k:]:
            obj = getattr(obj, attr)
        return obj
    raise ImportError(name)


def forbidden(exercise):
    """{id: (object, name)} of the code objects and callables an answer to this exercise may not call:
    the reference's and those of every function named in ``exercise.teaches``."""
    cached = _FORBIDDEN_CACHE.get(id(exercise))
    if cached is not None and cached[0] is exercise:
        return cached[1]
    table = {}

    def add(obj, name):
        for o in _unwrap(obj):
            table.setdefault(id(o), (o, name))
            code = getattr(o, "__code__", None) if isinstance(o, types.FunctionType) else None
            if code is not None:
                table.setdefault(id(code), (code, name))
            if isinstance(o, type):   # a class: its __init__ and __call__
                for attr in ("__init__", "__new__", "__call__"):
                    f = o.__dict__.get(attr)
                    if isinstance(f, types.FunctionType):
                        table.setdefault(id(f.__code__), (f.__code__, name))

    for name in getattr(exercise, "teaches", ()):
        try:
            add(_resolve_dotted(name), name)
        except Exception:   # a wrong name is the chapter's bug, caught by the tests; never the learner's
            pass
    reference = getattr(exercise, "reference", None)
    if reference is not None:
        module = getattr(reference, "__module__", "") or ""
        qualname = getattr(reference, "__qualname__", "") or ""
        public = module.startswith("labkit.") and not module.startswith("labkit.exercises") and "<" not in qualname
        add(reference, f"{module}.{qualname}" if public else "this exercise's reference solution")
    _FORBIDDEN_CACHE[id(exercise)] = (exercise, table)
    return table


def own_work_message(name):
    shown = f"`{name}`" if name.startswith("labkit.") else name
    allowed = "" if name.startswith("labkit.units") else " (labkit.units and constants are fine)"
    return (f"Your function calls {shown}, which is what this exercise asks you to write: compute it "
            f"yourself{allowed}.")


def direct_violation(answer, table):
    """The forbidden name when the answer *is* a forbidden callable (or a partial/bound method of one),
    found without running any of the answer's code."""
    obj = answer
    for _ in range(20):
        hit = table.get(id(obj))
        if hit is not None and hit[0] is obj:
            return hit[1]
        t = type(obj)
        if t is functools.partial:
            obj = obj.func
        elif t is types.MethodType:
            obj = obj.__func__
        else:
            return None
    return None


# ---------------------------------------------------------------------------------------------
# Running a function
# ---------------------------------------------------------------------------------------------
class _Sink:
    """A stand-in for stdout/stderr that keeps the first characters and counts the rest."""

    def __init__(self, cap=_OUTPUT_CAP):
        self.cap, self.head, self.count = cap, [], 0
        self.kept = 0

    def write(self, text):
        if type(text) is not str:
            text = "" if text is None else "?"
        self.count += len(text)
        if self.kept < self.cap:
            part = text[:self.cap - self.kept]
            self.head.append(part)
            self.kept += len(part)
        return len(text)

    def flush(self):
        pass

    def isatty(self):
        return False

    def writable(self):
        return True

    def text(self):
        return "".join(self.head)


def _outcome(result):
    """The plain-data outcome of one call's result (strict: no code of the result's own runs)."""
    if result is None:
        return [NONE]
    if result is Ellipsis:
        return [ELLIPSIS]
    floats = _strict_floats(result)
    if floats is None:
        return [NOT_NUMBER, _describe_result(result)]
    return [VALUE, floats]


def _describe_result(value):
    from ._base import _safe_describe
    try:
        return _safe_describe(value)
    except Exception:
        return f"an object of type {_type_name(value)}"


def _error_outcome(error):
    name = _type_name(error)
    if issubclass(type(error), NotImplementedError):
        return [NOT_IMPLEMENTED]
    try:
        text = str(error)
    except BaseException:
        text = ""
    if type(text) is not str:
        text = ""
    return [ERROR, name, text[:_MESSAGE_CAP]]


def run_function(fn, inputs, timeout, total_timeout, forbid=None, use_fork=None):
    """Call ``fn(*args)`` for each ``args`` in ``inputs`` under limits; returns a :class:`Run`.

    ``timeout``: seconds one input may take; ``total_timeout``: seconds for all of them; ``forbid``: the
    table of :func:`forbidden`. Runs in a forked child where os.fork exists (``use_fork`` None), else in a
    thread (see the module's docstring for what that cannot guarantee).
    """
    forbid = forbid or {}
    if use_fork is None:
        use_fork = _CAN_FORK
    if use_fork:
        return _run_forked(fn, inputs, timeout, total_timeout, forbid)
    return _run_threaded(fn, inputs, timeout, total_timeout, forbid)


def _tripwire_for(forbid, on_hit):
    table = {k: v[1] for k, v in forbid.items()}
    get = table.get

    def tripwire(frame, event, arg):
        if event == "call":
            name = get(id(frame.f_code))
        elif event == "c_call":
            name = get(id(arg))
        else:
            return
        if name is not None:
            on_hit(name)
    return tripwire


def _run_forked(fn, inputs, timeout, total_timeout, forbid):
    run = Run()
    read_end, write_end = os.pipe()
    with warnings.catch_warnings():          # Python 3.12+ warns about fork() in a threaded process
        warnings.simplefilter("ignore", DeprecationWarning)
        pid = os.fork()
    if pid == 0:                             # the child: never returns
        _child(read_end, write_end, fn, inputs, forbid)
    os.close(write_end)
    try:
        try:
            os.setpgid(pid, pid)
        except OSError:
            pass
        _collect(run, pid, read_end, inputs, timeout, total_timeout)
    except KeyboardInterrupt:                # an interrupt of the check itself (Kernel → Interrupt)
        run.stop = ("interrupted",)
    finally:
        _end_child(pid)
        os.close(read_end)
    return run


def _end_child(pid):
    for target, kill in ((pid, os.killpg), (pid, os.kill)):
        try:
            kill(target, signal.SIGKILL)
        except OSError:
            pass
    try:
        os.waitpid(pid, 0)
    except OSError:     # already reaped, or SIGCHLD ignored in this kernel
        pass


def _collect(run, pid, fd, inputs, timeout, total_timeout):
    """Read the child's messages until it is done, dies or runs over its time."""
    start = time.monotonic()
    deadline_total = start + total_timeout
    deadline_input = start + timeout
    buffer, received = b"", 0
    poller = select_poll(fd)
    while True:
        now = time.monotonic()
        wait = min(deadline_total, deadline_input) - now
        if wait <= 0:
            index = len(run.outcomes)
            run.stop = ("too_slow", index) if now >= deadline_total else ("timeout", index)
            return
        if not poller(wait):
            continue
        chunk = os.read(fd, 1 << 16)
        if not chunk:
            run.stop = run.stop or ("died", _exit_text(pid))
            return
        received += len(chunk)
        if received > _READ_CAP:
            run.stop = ("died", "it sent back far too much data")
            return
        buffer += chunk
        while b"\n" in buffer:
            line, buffer = buffer.split(b"\n", 1)
            message = _parse(line)
            if message is None:
                run.stop = ("died", "its results could not be read")
                return
            kind = message[0]
            if kind == "end":
                run.printed, run.head = message[1], message[2]
                return
            if kind == "forbidden":
                run.stop = ("forbidden", message[1])
                return
            run.outcomes.append(tuple(message))
            deadline_input = time.monotonic() + timeout
            if len(run.outcomes) > len(inputs):
                run.stop = ("died", "its results could not be read")
                return


def select_poll(fd):
    """A function wait(seconds) -> True when fd is readable (poll where it exists, else select)."""
    import select
    if hasattr(select, "poll"):
        p = select.poll()
        p.register(fd, select.POLLIN | select.POLLHUP | select.POLLERR)
        return lambda seconds: bool(p.poll(max(0, int(math.ceil(seconds * 1000)))))
    return lambda seconds: bool(select.select([fd], [], [], seconds)[0])


def _exit_text(pid):
    status, until = None, time.monotonic() + 1.0
    while time.monotonic() < until:
        try:
            done, status = os.waitpid(pid, os.WNOHANG)
        except OSError:
            return "it stopped the process it ran in"
        if done:
            break
        status = None
        time.sleep(0.005)
    if status is None:
        return "it stopped the process it ran in"
    if os.WIFSIGNALED(status):
        return f"it stopped the process it ran in (signal {os.WTERMSIG(status)})"
    if os.WIFEXITED(status):
        return f"it stopped the process it ran in (exit code {os.WEXITSTATUS(status)})"
    return "it stopped the process it ran in"


def _parse(line):
    """A message from the child, validated: ['value', [floats]], ['error', name, text], ... or None."""
    try:
        message = json.loads(line.decode("utf-8"))
    except (ValueError, UnicodeDecodeError, RecursionError):
        return None
    if type(message) is not list or not message or type(message[0]) is not str:
        return None
    kind, rest = message[0], message[1:]
    if kind == VALUE and len(rest) == 1 and type(rest[0]) is list and all(type(v) is float for v in rest[0]):
        return message
    if kind in (NONE, ELLIPSIS, NOT_IMPLEMENTED) and not rest:
        return message
    if kind == ERROR and len(rest) == 2 and all(type(v) is str for v in rest):
        return [kind, rest[0][:60], rest[1][:_MESSAGE_CAP]]
    if kind in (NOT_NUMBER, "forbidden") and len(rest) == 1 and type(rest[0]) is str:
        return [kind, rest[0][:200]]
    if kind == "end" and len(rest) == 2 and type(rest[0]) is int and type(rest[1]) is str:
        return [kind, rest[0], rest[1][:_OUTPUT_CAP]]
    return None


def _child(read_end, write_end, fn, inputs, forbid):
    """The forked child: run fn on every input, send plain data, and _exit (no atexit, no finalizers)."""
    try:
        os.close(read_end)
        try:
            os.setpgid(0, 0)
        except OSError:
            pass
        # Our pipe on a known fd; stdin, stdout and stderr on /dev/null; every other inherited fd (the
        # kernel's ZMQ sockets, files) closed, so nothing here can write into the parent's channels.
        out = os.dup2(write_end, 3) if write_end != 3 else 3
        devnull = os.open(os.devnull, os.O_RDWR)
        for std in (0, 1, 2):
            os.dup2(devnull, std)
        _close_inherited(4)
        sink = _Sink()
        sys.stdout = sys.stderr = sink
        sys.stdin = None
        builtins.input = _no_input
        _quiet_ipython()

        def send(message):
            data = (json.dumps(message, allow_nan=True) + "\n").encode("utf-8")
            while data:
                data = data[os.write(out, data):]

        def on_hit(name):
            sys.setprofile(None)
            send(["forbidden", name])
            os._exit(0)

        tripwire = _tripwire_for(forbid, on_hit)
        threading.setprofile(tripwire)
        for args in inputs:
            try:
                sys.setprofile(tripwire)
                result = fn(*args)
                sys.setprofile(None)
                message = _outcome(result)
            except BaseException as error:   # SystemExit, KeyboardInterrupt, GeneratorExit too
                sys.setprofile(None)
                message = _error_outcome(error)
            send(message)
            if message[0] != VALUE:
                break
        send(["end", sink.count, sink.text()[:_OUTPUT_CAP]])
    except BaseException:
        pass
    finally:
        os._exit(0)


def _close_inherited(lowest):
    """Close every fd from ``lowest`` up: the open ones listed in /dev/fd where it exists (Linux, macOS),
    else a bounded range."""
    try:
        fds = [int(name) for name in os.listdir("/dev/fd") if name.isdigit()]
    except OSError:
        try:
            top = min(os.sysconf("SC_OPEN_MAX"), 65536)
        except (AttributeError, ValueError, OSError):
            top = 4096
        os.closerange(lowest, top)
        return
    for fd in fds:
        if fd >= lowest:
            try:
                os.close(fd)
            except OSError:
                pass


def _no_input(*args, **kwargs):
    raise EOFError("input() is not available while check() runs your function")


def _quiet_ipython():
    """In the child: IPython's display goes nowhere (its channels belong to the parent)."""
    shell = sys.modules.get("IPython")
    if shell is None:
        return
    try:
        ip = shell.get_ipython()
        if ip is not None:
            ip.display_pub.publish = lambda *a, **k: None
            ip.display_pub.clear_output = lambda *a, **k: None
    except Exception:
        pass


def _run_threaded(fn, inputs, timeout, total_timeout, forbid):
    """The fallback without fork: one thread per input, joined with a timeout (see the module docstring)."""
    run = Run()
    sink = _Sink()
    hits = []
    tripwire = _tripwire_for(forbid, hits.append)
    start = time.monotonic()
    saved = sys.stdout, sys.stderr
    sys.stdout = sys.stderr = sink
    try:
        for index, args in enumerate(inputs):
            box = {}

            def target(args=args, box=box):
                sys.setprofile(tripwire)
                try:
                    box["result"] = fn(*args)
                except BaseException as error:
                    box["error"] = error
                finally:
                    sys.setprofile(None)
            worker = threading.Thread(target=target, daemon=True, name="labkit-check")
            worker.start()
            budget = min(timeout, start + total_timeout - time.monotonic())
            worker.join(max(0.0, budget))
            if hits:
                run.stop = ("forbidden", hits[0])
                break
            if worker.is_alive():
                run.stop = ("too_slow", index) if budget < timeout else ("timeout", index)
                break
            message = _error_outcome(box["error"]) if "error" in box else _outcome(box.get("result"))
            run.outcomes.append(tuple(message))
            if message[0] != VALUE:
                break
    finally:
        sys.stdout, sys.stderr = saved
    run.printed, run.head = sink.count, sink.text()
    return run


# ---------------------------------------------------------------------------------------------
# The comparison that decides a verdict (pure Python, on private references)
# ---------------------------------------------------------------------------------------------
def _make_same():
    _abs, _isnan, _len, _zip, _float = abs, math.isnan, len, zip, float

    def same(got, expected, rtol, atol=0.0):
        """True when two flat lists of floats agree elementwise within atol + rtol·|expected| (NaN = NaN)."""
        if got is None or expected is None or _len(got) != _len(expected):
            return False
        rtol, atol = _float(rtol), _float(atol)
        for g, e in _zip(got, expected):
            if _isnan(g) or _isnan(e):
                if not (_isnan(g) and _isnan(e)):
                    return False
            elif g != e and not _abs(g - e) <= atol + rtol * _abs(e):
                return False
        return True
    return same


same = _make_same()


# ---------------------------------------------------------------------------------------------
# Integrity: what the verdict depends on has not been replaced
# ---------------------------------------------------------------------------------------------
_MISSING = object()
_BUILTINS = ("abs", "all", "any", "bool", "callable", "dict", "enumerate", "float", "getattr", "hasattr", "id",
             "int", "isinstance", "issubclass", "len", "list", "max", "min", "object", "range", "repr", "round",
             "setattr", "sorted", "str", "sum", "tuple", "type", "zip")
_TAMPERED_MESSAGE = ("The checking code was modified in this kernel ({what}): restart the kernel "
                     "(Kernel → Restart) to check answers.")
_VERDICT_FIELDS = ("reference", "cases", "edge_cases", "n_random", "rtol", "atol", "answer", "choices",
                   "grade_fn", "teaches")


class _State:
    __slots__ = ("entries", "functions", "exercises", "tampered", "expected")

    def __init__(self):
        self.entries, self.functions, self.exercises, self.tampered, self.expected = [], [], {}, None, {}


_STATE = _State()


def _function_state(f):
    cells = tuple(c.cell_contents if _cell_full(c) else _MISSING for c in (f.__closure__ or ()))
    return (f, f.__code__, f.__defaults__, f.__kwdefaults__, cells)


def _cell_full(cell):
    try:
        cell.cell_contents
    except ValueError:
        return False
    return True


def _watch_mapping(owner, mapping, label, functions):
    for key, value in list(mapping.items()):
        if callable(value) or isinstance(value, (types.ModuleType, property, staticmethod, classmethod)):
            _STATE.entries.append((owner, key, value, f"{label}.{key}"))
            for f in (value, getattr(value, "fget", None), getattr(value, "__func__", None)):
                if isinstance(f, types.FunctionType):
                    functions.append((f"{label}.{key}", _function_state(f)))


def seal(*modules):
    """Record what the verdict depends on: call once, when the exercise system has been imported."""
    functions = []
    for module in modules:
        name = module.__name__
        _watch_mapping(module, vars(module), name, functions)
        for value in list(vars(module).values()):
            if isinstance(value, type) and getattr(value, "__module__", None) == name:
                _watch_mapping(value, vars(value), f"{name}.{value.__name__}", functions)
    for module, names in ((np, None), (math, None), (builtins, _BUILTINS)):
        mapping = vars(module) if names is None else {n: vars(module)[n] for n in names}
        _watch_mapping(module, mapping, module.__name__, functions)
    _STATE.functions.extend(functions)


def _exercise_fields(ex):
    d = vars(ex)
    fields = {k: d.get(k, _MISSING) for k in _VERDICT_FIELDS}
    for key in ("reference", "grade_fn"):
        f = fields[key]
        if isinstance(f, types.FunctionType):
            fields[key + ".code"] = _function_state(f)
    for key in ("_expected",):
        if key in d:
            fields[key] = d[key]
    return fields


def expected_value(ex):
    """A value exercise's expected answer, computed from the function or value it was registered with
    (a learner's later setattr cannot change it)."""
    kept = _STATE.expected.get(id(ex))
    if kept is not None and kept[0] is ex:
        return kept[1]
    record = _STATE.exercises.get(ex.id)
    original = record[1].get("_expected", _MISSING) if record and record[0] is ex else vars(ex).get("_expected")
    computed = original() if callable(original) else original
    floats = _strict_floats(computed)
    value = floats[0] if floats and len(floats) == 1 else math.nan
    _STATE.expected[id(ex)] = (ex, value)
    if callable(original) and vars(ex).get("_expected") is original:
        ex._expected = computed           # so that the exercise's own property does not compute it again
    return value


def _registry_problem(registry):
    for exercise_id, ex in list(registry.items()):
        record = _STATE.exercises.get(exercise_id)
        if record is None:
            _STATE.exercises[exercise_id] = (ex, _exercise_fields(ex))
            continue
        kept, fields = record
        if ex is not kept:
            return f"exercise {exercise_id} was replaced"
        now = _exercise_fields(ex)
        for key, value in fields.items():
            current = now.get(key, _MISSING)
            if key == "_expected":
                if current is value:
                    continue
                if callable(value) and _strict_floats(current) == [expected_value(ex)]:
                    continue
                return f"{exercise_id}'s expected answer"
            if key.endswith(".code"):
                if current == _MISSING or any(a is not b for a, b in zip(current[1:4], value[1:4])) or \
                        len(current[4]) != len(value[4]) or any(a is not b for a, b in zip(current[4], value[4])):
                    return f"{exercise_id}'s {key[:-5]}"
                continue
            if current is not value:
                return f"{exercise_id}.{key}"
    return None


def _internals_problem():
    for owner, key, value, label in _STATE.entries:
        if vars(owner).get(key, _MISSING) is not value:
            return label
    for label, (f, code, defaults, kwdefaults, cells) in _STATE.functions:
        if f.__code__ is not code or f.__defaults__ is not defaults or f.__kwdefaults__ is not kwdefaults:
            return label
        closure = f.__closure__ or ()
        if len(closure) != len(cells) or any((c.cell_contents if _cell_full(c) else _MISSING) is not v
                                             for c, v in zip(closure, cells)):
            return label
    return None


def tampered(registry):
    """None while the checking code is as sealed; else the message every check gives from now on."""
    if _STATE.tampered is None:
        try:
            what = _internals_problem() or _registry_problem(registry)
        except Exception as e:   # something so broken that it cannot even be compared
            what = f"{type(e).__name__}"
        if what is not None:
            _STATE.tampered = _TAMPERED_MESSAGE.format(what=what)
    return _STATE.tampered


NOT_PLAIN = object()


def plain_answer(value, _depth=0):
    """A value or choice answer as plain Python data (str, bool, int, float, tuples of them), built from
    exact types only; NOT_PLAIN when it is anything else (an object whose methods would run)."""
    t = type(value)
    if t in (str, bool, int, float) or value is None:
        return value
    if t in _NUMPY_NUMBERS:
        return value.item()
    if t is np.bool_:
        return bool(value)
    if t is np.ndarray:
        if value.dtype.kind not in "biuf" or value.size > 1000:
            return NOT_PLAIN
        items = value.tolist()
        return tuple(items) if type(items) is list and value.ndim == 1 else (items if value.ndim == 0 else NOT_PLAIN)
    if (t is list or t is tuple) and _depth < 2 and len(value) <= 1000:
        out = tuple(plain_answer(v, _depth + 1) for v in value)
        return NOT_PLAIN if any(v is NOT_PLAIN for v in out) else out
    return NOT_PLAIN


def flag(show):
    """``show`` read as a flag without running code of the object's own (no __bool__ of a learner's)."""
    if show is True or show is False or show is None:
        return bool(show)
    if type(show) is int:
        return show != 0
    return True
