"""Running the learner's code: a time limit, and the learner's errors turned into verdicts."""

import signal
import threading

from ._base import FAILED, Answer, _fmt_args


class _Timeout(Exception):
    pass


class _NotAttempted(Exception):
    pass


def _call(fn, args, timeout):
    """Call fn(*args) with a time limit; learner's errors become verdicts, never exceptions."""
    try:
        return _with_time_limit(fn, args, timeout)
    except NotImplementedError:
        raise _NotAttempted() from None
    except _Timeout:
        raise _Timeout(f"Your function ran longer than {timeout:g} s on one input "
                       f"({_fmt_args(args)}): an endless loop, or a loop over something huge?") from None
    except RecursionError:
        raise Answer(FAILED, "Your function recursed too deeply (RecursionError).") from None
    except Exception as e:
        raise Answer(FAILED, f"Your function raised {type(e).__name__}: {e} — on input {_fmt_args(args)}.") from None
    except BaseException as e:  # KeyboardInterrupt, SystemExit
        raise Answer(FAILED, f"Your function was interrupted ({type(e).__name__}).") from None


def _with_time_limit(fn, args, timeout):
    use_alarm = hasattr(signal, "setitimer") and threading.current_thread() is threading.main_thread()
    if use_alarm:
        def on_alarm(signum, frame):
            raise _Timeout()
        previous = signal.signal(signal.SIGALRM, on_alarm)
        signal.setitimer(signal.ITIMER_REAL, timeout)
        try:
            return fn(*args)
        finally:
            signal.setitimer(signal.ITIMER_REAL, 0)
            signal.signal(signal.SIGALRM, previous)
    box = {}

    def target():
        try:
            box["value"] = fn(*args)
        except BaseException as e:  # re-raised in the caller's thread
            box["error"] = e
    worker = threading.Thread(target=target, daemon=True)
    worker.start()
    worker.join(timeout)
    if worker.is_alive():
        raise _Timeout()
    if "error" in box:
        raise box["error"]
    return box.get("value")
