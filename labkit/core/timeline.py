"""Timeline: what a device (or a job) did over time, the one shape for chapters 04, 05 and 06.

Intervals ``start[i]``..``end[i]`` (s), contiguous and in time order, each in ``state[i]`` (an index
into ``names``). Each state also says how hard the devices work in it and how much of that work is
kept, so energy and goodput read any timeline the same way — no state codes to know:

    utilization[k]  fraction of peak the devices run at in state k (1 computing, 0 waiting)
    useful[k]       fraction of that time's work that is kept (0 for compute later rolled back)

    Timeline.from_busy(busy_start, busy_end)   chapter 04: busy/idle from busy intervals
    Timeline(start, end, state, FAULT_STATES)  chapter 05: compute, checkpoint, lost, restart
    labkit.energy.timeline_energy(tl, ...)     chapter 06: joules of any of them
"""

from dataclasses import dataclass

import numpy as np

from .validate import finite_result, fraction, nonnegative, number, sequence


@dataclass(frozen=True)
class States:
    """The states a timeline's intervals can be in: names, and per state the utilization (fraction
    of peak the devices run at) and the useful fraction (work that is kept), each in [0, 1]."""
    names: tuple
    utilization: tuple
    useful: tuple

    def __post_init__(self):
        names = tuple(sequence("names", self.names))
        util = np.atleast_1d(fraction("utilization", list(self.utilization), array=True))
        good = np.atleast_1d(fraction("useful", list(self.useful), array=True))
        if not (len(names) == len(util) == len(good)):
            raise ValueError("names, utilization and useful must have one entry per state")
        if np.any(good > util + 1e-12):
            raise ValueError("useful must not exceed utilization in any state (kept work is done work)")
        object.__setattr__(self, "names", names)
        object.__setattr__(self, "utilization", tuple(map(float, util)))
        object.__setattr__(self, "useful", tuple(map(float, good)))

    def code(self, state):
        """The index of ``state`` (its name or its index)."""
        if isinstance(state, str):
            if state not in self.names:
                raise ValueError(f"state must be one of {', '.join(map(repr, self.names))}; got {state!r}")
            return self.names.index(state)
        if isinstance(state, (bool, np.bool_)) or not isinstance(state, (int, np.integer)) \
                or not 0 <= state < len(self.names):
            raise ValueError(f"state must be one of {', '.join(map(repr, self.names))} or its index; got {state!r}")
        return int(state)


#: Chapter 04: a GPU either computes or waits.
BUSY_IDLE = States(("idle", "busy"), (0.0, 1.0), (0.0, 1.0))
#: Chapter 05: a training job computes (kept), checkpoints (stalled), computes work a failure then
#: rolls back (lost: burns power, kept nothing) or restarts (waiting).
FAULT_STATES = States(("compute", "checkpoint", "lost", "restart"), (1.0, 0.0, 1.0, 0.0), (1.0, 0.0, 0.0, 0.0))


@dataclass(frozen=True)
class Timeline:
    """Contiguous intervals in time order: ``start``, ``end`` (s) and ``state`` (codes into ``states``)."""
    start: np.ndarray
    end: np.ndarray
    state: np.ndarray
    states: States = BUSY_IDLE

    def __post_init__(self):
        if not isinstance(self.states, States):
            raise TypeError(f"states must be a labkit.core.timeline.States, got {type(self.states).__name__}")
        start = np.atleast_1d(np.asarray(number("start", self.start, "s", array=True) if len(self.start) else
                                         np.zeros(0), dtype=float))
        end = np.atleast_1d(np.asarray(number("end", self.end, "s", array=True) if len(self.end) else
                                       np.zeros(0), dtype=float))
        state = np.atleast_1d(np.asarray(self.state)).astype(int) if len(self.state) else np.zeros(0, int)
        if not (start.shape == end.shape == state.shape) or start.ndim != 1:
            raise ValueError(f"start, end and state must be 1-D and of equal length, got "
                             f"{start.shape}, {end.shape}, {state.shape}")
        if np.any(end < start):
            raise ValueError("every interval must end at or after its start")
        if len(start) > 1 and np.any(start[1:] < end[:-1] - 1e-9 * max(1.0, float(end[-1]))):
            raise ValueError("intervals must be in time order and must not overlap")
        if np.any((state < 0) | (state >= len(self.states.names))):
            raise ValueError(f"state codes must be 0..{len(self.states.names) - 1} ({', '.join(self.states.names)})")
        for field, value in (("start", start), ("end", end), ("state", state)):
            object.__setattr__(self, field, value)

    @classmethod
    def from_busy(cls, busy_start, busy_end, makespan=None):
        """Busy/idle timeline from non-overlapping busy intervals (any order); idle fills the gaps from 0."""
        s = np.atleast_1d(nonnegative("busy_start", busy_start, "s", array=True)) if np.size(busy_start) else np.zeros(0)
        e = np.atleast_1d(nonnegative("busy_end", busy_end, "s", array=True)) if np.size(busy_end) else np.zeros(0)
        if s.shape != e.shape:
            raise ValueError("busy_start and busy_end must have equal length")
        makespan = 0.0 if makespan is None else nonnegative("makespan", makespan, "s")
        order = np.argsort(s, kind="stable")
        s, e = s[order], e[order]
        keep = e > s
        s, e = s[keep], (np.maximum.accumulate(e[keep]) if keep.any() else e[keep])
        end = float(max(e[-1] if len(e) else 0.0, makespan))
        if len(s) == 0:
            return cls(np.array([0.0]), np.array([end]), np.array([0])) if end > 0 else \
                cls(np.zeros(0), np.zeros(0), np.zeros(0, dtype=int))
        tol = 1e-12 * max(1.0, end)
        new = np.concatenate([[True], s[1:] > e[:-1] + tol])     # a busy run starts after a real gap
        first = np.flatnonzero(new)
        last = np.append(first[1:] - 1, len(s) - 1)
        bs, be = s[first], e[last]
        starts = np.empty(2 * len(bs) + 1)            # [0, bs0], [bs0, be0], [be0, bs1], ..., [be_last, end]
        ends = np.empty_like(starts)
        starts[0], ends[0] = 0.0, bs[0]
        starts[1::2], ends[1::2] = bs, be
        starts[2::2], ends[2::2] = be, np.append(bs[1:], end)
        state = np.zeros(len(starts), dtype=int)
        state[1::2] = 1
        real = ends > starts
        return cls(starts[real], ends[real], state[real])

    # --- time ---------------------------------------------------------------------------------
    @property
    def duration(self):
        """Seconds of each interval."""
        return self.end - self.start

    @property
    def makespan(self):
        """Wall time covered, from the first start to the last end (s)."""
        return float(self.end[-1] - self.start[0]) if len(self.end) else 0.0

    @property
    def names(self):
        """The name of each interval's state."""
        return np.array(self.states.names, dtype=object)[self.state]

    def time_in(self, state):
        """Total seconds in ``state`` (its name or index)."""
        return float(np.sum(self.duration[self.state == self.states.code(state)]))

    def totals(self):
        """``{state name: seconds}`` for every state."""
        return {name: self.time_in(k) for k, name in enumerate(self.states.names)}

    def fractions(self):
        """``{state name: fraction of the makespan}``."""
        total = self.makespan
        return {k: (v / total if total else 0.0) for k, v in self.totals().items()}

    def window(self, t0, t1):
        """The part between t0 and t1 (s), intervals clipped to it."""
        t0, t1 = number("t0", t0, "s"), number("t1", t1, "s")
        if t1 < t0:
            raise ValueError(f"t1 ({t1}) must not be before t0 ({t0})")
        keep = (self.end > t0) & (self.start < t1)
        return Timeline(np.clip(self.start[keep], t0, t1), np.clip(self.end[keep], t0, t1), self.state[keep],
                        self.states)

    # --- work ---------------------------------------------------------------------------------
    @property
    def interval_utilization(self):
        """Fraction of peak the devices run at in each interval."""
        return np.asarray(self.states.utilization)[self.state]

    @property
    def interval_useful(self):
        """Fraction of each interval's work that is kept."""
        return np.asarray(self.states.useful)[self.state]

    @property
    def busy(self):
        """True for intervals in which the devices compute (utilization above 0)."""
        return self.interval_utilization > 0

    @property
    def busy_time(self):
        """Seconds spent computing, weighted by utilization (s)."""
        return float(np.sum(self.duration * self.interval_utilization))

    @property
    def idle_time(self):
        """Seconds not computing (s)."""
        return self.makespan - self.busy_time

    @property
    def utilization(self):
        """Busy time / makespan: what nvidia-smi's 'utilization' measures, roughly."""
        return self.busy_time / self.makespan if self.makespan > 0 else 0.0

    @property
    def goodput(self):
        """Kept work / makespan: the fraction of wall time that produced work that was kept."""
        kept = float(np.sum(self.duration * self.interval_useful))
        return kept / self.makespan if self.makespan > 0 else 0.0

    def __len__(self):
        return len(self.start)


def stepped(busy_s, idle_s, n_cycles, utilization_busy=1.0):
    """A repeating timeline: ``busy_s`` of work at ``utilization_busy`` then ``idle_s`` idle, ``n_cycles`` times."""
    from .validate import integer, positive
    busy_s = positive("busy_s", busy_s, "s")
    idle_s = nonnegative("idle_s", idle_s, "s")
    n_cycles = integer("n_cycles", n_cycles, minimum=1, maximum=10**6)
    utilization_busy = fraction("utilization_busy", utilization_busy, allow_zero=False)
    period = busy_s + idle_s
    finite_result(period * n_cycles, "the timeline's end", "busy_s", "idle_s", "n_cycles")
    t0 = np.arange(n_cycles) * period
    start = np.column_stack([t0, t0 + busy_s]).ravel()
    end = np.column_stack([t0 + busy_s, t0 + period]).ravel()
    state = np.tile([1, 0], n_cycles)
    keep = end > start
    states = States(("idle", "busy"), (0.0, utilization_busy), (0.0, utilization_busy))
    return Timeline(start[keep], end[keep], state[keep], states)
