"""Inference serving: the roofline of a decode step (why decoding uses a few percent of a GPU), the
queueing twins (M/M/1, M/D/1, M/G/1, M/M/c), a simpy decode server with static, dynamic and
continuous batching, and its explorer."""

import functools
import math
from dataclasses import dataclass

import numpy as np

from ..core.devices import datasheet
from ..core.explore import explorer, int_slider, slider
from ..core.plotting import LINESTYLES, MARKERS, log_axis, new_axes
from ..core.roofline import decode_step_time, ridge_point
from ..core.timeline import Timeline
from ..core.validate import axes as _axes_or_none
from ..core.validate import (choice, counts, finite_result, instance, integer, nonnegative, number, positive,
                             scalar_or_array, sequence)
from ._sim import events, quantile


# --- the roofline of a decode step --------------------------------------------------------------
def _device(peak_flops_per_s, bandwidth_bytes_per_s):
    """Peak and bandwidth, validated; None means the H100 SXM's datasheet figure (datasets/hardware.csv)."""
    if peak_flops_per_s is None or bandwidth_bytes_per_s is None:
        h100 = datasheet("H100")
        peak_flops_per_s = h100.peak_flops_per_s if peak_flops_per_s is None else peak_flops_per_s
        bandwidth_bytes_per_s = h100.bandwidth_bytes_per_s if bandwidth_bytes_per_s is None else bandwidth_bytes_per_s
    return (positive("peak_flops_per_s", peak_flops_per_s, "FLOP/s"),
            positive("bandwidth_bytes_per_s", bandwidth_bytes_per_s, "bytes/s"))


def decode_utilization(batch_size, n_params=7e9, *, peak_flops_per_s=None, bandwidth_bytes_per_s=None,
                       bytes_per_param=2.0, kv_bytes_per_sequence=0.0):
    """Fraction of peak FLOP/s a decode step uses: useful FLOPs / (peak × roofline step time).

    The step time is :func:`labkit.core.roofline.decode_step_time`. With BF16 weights (2 bytes per
    parameter) and no KV cache this is min(1, b / ridge point): a batch of b reads each weight once
    for 2·b FLOPs, an arithmetic intensity of b FLOP/byte — far below an H100's ≈ 295, which is why
    decoding sits in the low tens of percent. Peak and bandwidth default (None) to the H100 SXM's
    datasheet figures (``datasheet("H100")``). Accepts arrays of batch sizes.
    """
    b = positive("batch_size", batch_size, "sequences", array=True)
    n = positive("n_params", n_params, "parameters")
    peak, bw = _device(peak_flops_per_s, bandwidth_bytes_per_s)
    t = decode_step_time(b, n, peak, bw, bytes_per_param, kv_bytes_per_sequence)
    with np.errstate(under="ignore"):
        u = (2.0 * n * b / peak) / t
    return scalar_or_array(np.minimum(u, 1.0))


def plot_decode_roofline(n_params=7e9, *, kv_bytes_per_sequence=(0.0,), ax=None, peak_flops_per_s=None,
                         bandwidth_bytes_per_s=None):
    """Decode utilization vs batch size (one line per KV-cache size, up to 10), with the b / ridge point line."""
    n = positive("n_params", n_params, "parameters")
    kvs = np.atleast_1d(nonnegative("kv_bytes_per_sequence", kv_bytes_per_sequence, "bytes", array=True))
    if len(kvs) > 10:
        raise ValueError(f"kv_bytes_per_sequence must hold at most 10 sizes, got {len(kvs)}")
    default = peak_flops_per_s is None and bandwidth_bytes_per_s is None
    peak, bw = _device(peak_flops_per_s, bandwidth_bytes_per_s)
    fig, ax = new_axes(ax, figsize=(7, 4))
    b = np.unique(np.round(np.logspace(0, 10, 200, base=2) * 1).astype(int))
    b = np.unique(np.concatenate([b, np.arange(1, 1025)]))
    ic = ridge_point(peak, bw)
    curves = [decode_utilization(b, n, peak_flops_per_s=peak, bandwidth_bytes_per_s=bw, kv_bytes_per_sequence=kv)
              for kv in kvs]
    for k, (kv, u) in enumerate(zip(kvs, curves)):
        label = "roofline, no KV cache" if kv == 0 else f"roofline, {kv / 1e9:.2g} GB KV cache per sequence"
        ls = LINESTYLES[(0, 1, 3, 4, 5, 7, 0, 1, 3, 4)[k]]     # ":" is the ridge point's
        ax.plot(b, u, color=f"C{k}", ls=ls, lw=2, label=label)
    ax.plot(b, np.minimum(1, b / ic), "k:", lw=1, label=f"b / ridge point ({ic:.0f} FLOP/byte)")
    log_axis(ax, "x", ticks=4 ** np.arange(0, 6), plain=True)
    device = "H100 roofline" if default else f"{peak / 1e12:.3g} TFLOP/s, {bw / 1e12:.3g} TB/s"
    ax.set(xlabel="decode batch size b (sequences)", ylabel="fraction of peak FLOP/s", ylim=(0, 1.05),
           title=f"Decoding is memory-bound: {n / 1e9:.0f}B parameters, BF16, {device}")
    ax.legend(fontsize=8, loc="upper left")
    return fig


# --- queueing twins --------------------------------------------------------------------------
def _rho(arrival_rate, service_time):
    lam = positive("arrival_rate", arrival_rate, "requests/s", array=True)
    s = positive("service_time", service_time, "s", array=True)
    rho = lam * s
    if np.any(rho >= 1):
        raise ValueError(f"the queue is unstable: arrival_rate × service_time = {np.max(rho):.3g} ≥ 1 "
                         "(requests arrive faster than the server can finish them; the wait grows without bound)")
    return lam, s, rho


def mm1_wait(arrival_rate, service_time):
    """M/M/1 mean time in queue (s): ρ·S / (1 − ρ), ρ = λ·S (Poisson arrivals, exponential service)."""
    _, s, rho = _rho(arrival_rate, service_time)
    return rho * s / (1 - rho)


def md1_wait(arrival_rate, service_time):
    """M/D/1 mean time in queue (s): ρ·S / (2(1 − ρ)) — half of M/M/1 (fixed service time)."""
    _, s, rho = _rho(arrival_rate, service_time)
    return rho * s / (2 * (1 - rho))


def mg1_wait(arrival_rate, service_time, service_cv):
    """M/G/1 mean time in queue (Pollaczek–Khinchine): ρ·S·(1 + cv²) / (2(1 − ρ))."""
    _, s, rho = _rho(arrival_rate, service_time)
    cv = nonnegative("service_cv", service_cv, "coefficient of variation", array=True)
    with np.errstate(over="ignore"):
        out = rho * s * (1 + np.square(cv)) / (2 * (1 - rho))
    return finite_result(out, "the M/G/1 wait", "arrival_rate", "service_time", "service_cv")


def mmc_wait(arrival_rate, service_time, n_servers):
    """M/M/c mean time in queue (Erlang C): C(c, a) · S / (c − a), a = λ·S offered load in servers."""
    lam = positive("arrival_rate", arrival_rate, "requests/s")
    s = positive("service_time", service_time, "s")
    c = integer("n_servers", n_servers, minimum=1, maximum=10**6)
    a = lam * s
    if a >= c:
        raise ValueError(f"the queue is unstable: offered load arrival_rate × service_time = {a:.3g} ≥ "
                         f"n_servers = {c} (the wait grows without bound)")
    # Erlang B by the stable recursion, then Erlang C
    b = 1.0
    for k in range(1, c + 1):
        b = a * b / (k + a * b)
    erlang_c = b / (1 - (a / c) * (1 - b))
    return erlang_c * s / (c - a)


# --- the serving simulation -------------------------------------------------------------------
_POLICIES = ("static", "dynamic", "continuous")


@dataclass
class ServingResult:
    """What :func:`simulate_serving` returns. Per-request arrays are in arrival order (s)."""
    policy: str
    arrival_rate: float
    max_batch: int
    max_wait: float
    arrival: np.ndarray
    start: np.ndarray            # when the request joined a running batch
    finish: np.ndarray           # when its response was complete
    tokens: np.ndarray           # output tokens (decode steps) each request needed
    batch_start: np.ndarray      # GPU segments: a fixed batch running for some steps
    batch_end: np.ndarray
    batch_size: np.ndarray
    useful_flops: float          # 2·N per generated token, padding excluded
    peak_flops_per_s: float
    single_step_time: float      # decode step time at batch 1 (s)
    timeline: Timeline
    n_events: int
    first_token: np.ndarray = None   # when the request's first output token was ready (s)
    prompt_tokens: int = 0           # prompt tokens each request prefilled (0: prefill not modelled)
    batch_limit: int = None          # sequences that could run at once: max_batch, or fewer if the KV cache fills HBM
    prefill_start: np.ndarray = None  # GPU segments spent prefilling (s)
    prefill_end: np.ndarray = None

    @property
    def latency(self):
        return self.finish - self.arrival

    @property
    def wait(self):
        return self.start - self.arrival

    @property
    def makespan(self):
        return float(self.finish.max())

    @property
    def throughput(self):
        """Completed requests per second over the whole run, warm-up and drain included."""
        return len(self.finish) / self.makespan

    @property
    def steady_window(self):
        """(start, end) in s of the steady state: from the 10th to the 90th percentile request's arrival.

        Before it the queue fills (warm-up); after it arrivals stop and the server drains its last
        requests with smaller and smaller batches. Rates measured inside it are the steady state's.
        """
        n = len(self.arrival)
        return float(self.arrival[n // 10]), float(self.arrival[min(n - 1, (9 * n) // 10)])

    @property
    def steady_throughput(self):
        """Requests completed per second inside :attr:`steady_window` (requests/s), from its first completion to
        its last: the server's sustained rate — the offered load when it keeps up, its capacity when it
        cannot. Falls back to :attr:`throughput` when the window holds fewer than two completion times."""
        t0, t1 = self.steady_window
        done = np.sort(self.finish[(self.finish >= t0) & (self.finish < t1)])
        if len(done) < 2 or done[-1] <= done[0]:
            return self.throughput
        # from the first completion in the window to the last: batches that finish together are not cut in two
        return float(np.count_nonzero(done > done[0])) / float(done[-1] - done[0])

    @property
    def offered_rate(self):
        """Requests that arrived per second inside :attr:`steady_window`: the load this random sample
        offered (it differs from ``arrival_rate`` by Poisson noise, ≈ 1/√n)."""
        t0, t1 = self.steady_window
        if t1 <= t0:
            return self.arrival_rate
        return float(np.count_nonzero((self.arrival >= t0) & (self.arrival < t1))) / (t1 - t0)

    @property
    def ttft(self):
        """Time to first token of each request (s): queueing + prefill (or the first decode step)."""
        return self.first_token - self.arrival

    @property
    def tpot(self):
        """Time per output token after the first, of each request with more than one token (s)."""
        more = self.tokens > 1
        return (self.finish[more] - self.first_token[more]) / (self.tokens[more] - 1)

    @property
    def mean_ttft(self):
        return float(np.mean(self.ttft))

    @property
    def mean_tpot(self):
        """Mean time per output token (s); 0.0 when no request had more than one token."""
        t = self.tpot
        return float(np.mean(t)) if len(t) else 0.0

    @property
    def token_throughput(self):
        return float(self.tokens.sum()) / self.makespan

    @property
    def mean_latency(self):
        return float(np.mean(self.latency))

    @property
    def mean_wait(self):
        return float(np.mean(self.wait))

    @property
    def p50_latency(self):
        return quantile(self.latency, 0.50)

    @property
    def p99_latency(self):
        return quantile(self.latency, 0.99)

    @property
    def busy_fraction(self):
        """Share of time the GPU ran a batch — 'busy' even when a batch of 1 uses 0.3 % of it."""
        return self.timeline.utilization

    @property
    def gpu_utilization(self):
        """Useful FLOPs / (peak FLOP/s × makespan): the serving analogue of MFU."""
        return self.useful_flops / (self.peak_flops_per_s * self.makespan)

    @property
    def mean_batch(self):
        d = self.batch_end - self.batch_start
        return float(np.sum(self.batch_size * d) / np.sum(d)) if len(d) else 0.0

    def summary(self):
        return (f"{self.policy:>10}: {self.steady_throughput:6.2f} req/s, latency p50 {self.p50_latency:6.2f} s, "
                f"p99 {self.p99_latency:6.2f} s, mean batch {self.mean_batch:5.1f}, "
                f"busy {self.busy_fraction:4.0%}, FLOP utilization {self.gpu_utilization:5.1%}")


def _serve_batches(env, state, queue, max_batch, max_wait, static, step_time, tokens, rec, prefill):
    """Static / dynamic (request-level) batching: a batch runs until its longest request is done.

    With a prefill (``prefill(b)`` > 0) the batch first prefills its prompts, which yields each request's
    first token, then decodes the remaining tokens − 1; without, the first decode step yields it."""
    arrival, start, finish, segments = rec["arrival"], rec["start"], rec["finish"], rec["segments"]
    first = rec["first"]
    n = len(tokens)
    served = 0
    while served < n:
        if not queue:
            state["need"], state["event"] = 1, env.event()
            yield state["event"]
        deadline = math.inf if static else arrival[queue[0]] + max_wait
        while len(queue) < max_batch and env.now < deadline and not state["done"]:
            state["need"], state["event"] = max_batch, env.event()
            if deadline == math.inf:
                yield state["event"]
            else:
                yield env.any_of([state["event"], env.timeout(deadline - env.now)])
            state["event"] = None
        b = min(max_batch, len(queue))
        batch = [queue.popleft() for _ in range(b)]
        t0 = env.now
        pre = prefill(b)
        if pre > 0:
            yield env.timeout(pre)
            rec["prefills"].append((t0, env.now))
        t_first = env.now if pre > 0 else env.now + step_time(b)
        steps = max([tokens[i] for i in batch]) - (1 if pre > 0 else 0)
        t_decode = env.now
        if steps > 0:
            yield env.timeout(steps * step_time(b))
            segments.append((t_decode, env.now, b))
        t1 = env.now
        for i in batch:
            start[i] = t0
            first[i] = t_first
            finish[i] = t1
        served += b


def _serve_continuous(env, state, queue, max_batch, step_time, tokens, rec, prefill):
    """Continuous (iteration-level) batching: requests join and leave at every decode step.

    While the batch has room the server sleeps until the first step boundary after the next
    scheduled arrival (arrival times are drawn up front), so it needs one event per change of the
    batch rather than one per decode step.
    """
    import heapq

    arrival_at, start, finish, segments = rec["arrival"], rec["start"], rec["finish"], rec["segments"]
    first = rec["first"]
    n = len(tokens)
    fresh = ()            # joined without a prefill: first token at the end of the next step
    running = []          # heap of (decode step at which the request finishes, request)
    step = 0              # decode steps run so far
    served = admitted = 0
    while served < n:
        joined = []
        while queue and len(running) + len(joined) < max_batch:
            admitted += 1
            i = queue.popleft()
            start[i] = env.now
            joined.append(i)
        if joined and prefill(len(joined)) > 0:
            # vLLM's default: newcomers' prompts run as one prefill step, the running decodes wait for it
            t0 = env.now
            yield env.timeout(prefill(len(joined)))
            rec["prefills"].append((t0, env.now))
            for i in joined:
                first[i] = env.now
                heapq.heappush(running, (step + tokens[i] - 1, i))
            while running and running[0][0] <= step:
                finish[heapq.heappop(running)[1]] = env.now
                served += 1
        else:
            for i in joined:
                heapq.heappush(running, (step + tokens[i], i))
            fresh = joined               # their first token comes from the next decode step
        if not running:
            state["need"], state["event"] = 1, env.event()
            yield state["event"]
            continue
        b = len(running)
        tau = step_time(b)
        k = running[0][0] - step                    # steps until the first sequence finishes
        nxt = admitted + len(queue)                 # the next request to arrive
        if b < max_batch and nxt < n:               # a newcomer joins at the boundary after it arrives
            k = min(k, max(1, math.ceil((arrival_at[nxt] - env.now) / tau - 1e-9)))
        t0 = env.now
        yield env.timeout(k * tau)
        step += k
        segments.append((t0, env.now, b))
        for i in fresh:
            first[i] = t0 + tau
        fresh = ()
        while running and running[0][0] <= step:
            finish[heapq.heappop(running)[1]] = env.now
            served += 1


def _arrive(env, gaps, queue, state):
    """Poisson arrivals: each request joins the queue; wake the server when it is waiting for it."""
    timeout = env.timeout
    for i, gap in enumerate(gaps):
        yield timeout(gap)
        queue.append(i)
        ev = state["event"]
        if ev is not None and len(queue) >= state["need"]:
            state["event"] = None
            ev.succeed()
    state["done"] = True
    ev = state["event"]
    if ev is not None:
        state["event"] = None
        ev.succeed()


def simulate_serving(arrival_rate, *, max_batch=8, max_wait=0.05, policy="dynamic", n_requests=2000,
                     mean_tokens=100, tokens="geometric", n_params=7e9, bytes_per_param=2.0,
                     kv_bytes_per_sequence=0.0, peak_flops_per_s=None, bandwidth_bytes_per_s=None, seed=0,
                     prompt_tokens=0, memory_bytes=None):
    """Simulate an LLM decode server with batching; return :class:`ServingResult`.

    Requests arrive as a Poisson process (``arrival_rate`` per second) and each needs a number of
    output tokens (``tokens``: "geometric" with mean ``mean_tokens`` — memoryless, the discrete
    exponential — or "fixed"). One decode step generates a token for every sequence in the batch
    and takes the roofline time :func:`labkit.core.roofline.decode_step_time` (weights read once per step).
    Policies:

    - ``"static"``: wait until ``max_batch`` requests are queued (``max_wait`` ignored), run the
      batch until its longest request is done; every response returns at the end.
    - ``"dynamic"``: start a batch as soon as ``max_batch`` are queued *or* the oldest has waited
      ``max_wait`` seconds; otherwise as static (request-level batching, as in Triton).
    - ``"continuous"``: iteration-level scheduling (Orca, vLLM): waiting requests join at the next
      step while fewer than ``max_batch`` run, and finished ones leave at once (``max_wait`` unused).

    Prefill: with ``prompt_tokens`` > 0 each request first prefills its prompt — a forward pass over
    the prompt tokens of all requests joining together (:func:`labkit.utilization.inference.prefill_time`),
    which yields the first output token; running decodes wait for it (vLLM's default scheduler, no
    chunked prefill). With 0 (the default) prefill is not modelled and the first decode step yields the
    first token. ``ttft`` and ``tpot`` of the result are the time to first token and per output token.

    Memory: with ``memory_bytes`` (a device's HBM, bytes) the batch is also capped by the KV cache,
    :func:`labkit.utilization.inference.kv_capacity_batch` — each running sequence reserves
    ``kv_bytes_per_sequence`` (its cache at full length; it also reads that much per decode step, an
    upper bound) beside the weights in vLLM's 90 % of memory. ``batch_limit`` of the result says what
    ran. Without it memory is assumed to fit ``max_batch`` sequences. One GPU (peak and bandwidth
    default to the H100 SXM row of datasets/hardware.csv). With ``max_batch=1`` the server is an M/G/1 queue with service
    time tokens × decode_step_time(1): fixed tokens give M/D/1 (:func:`md1_wait`), geometric tokens
    ≈ M/M/1 (:func:`mm1_wait`, exact via :func:`mg1_wait` with cv² = 1 − 1/mean_tokens).
    The result's ``.timeline`` (a :class:`labkit.core.timeline.Timeline`) holds the GPU's busy and
    idle intervals.
    """
    import collections

    import simpy

    lam = positive("arrival_rate", arrival_rate, "requests/s")
    max_batch = integer("max_batch", max_batch, minimum=1, maximum=100_000)
    max_wait = nonnegative("max_wait", max_wait, "s", finite=False)
    if not isinstance(policy, str):
        raise TypeError(f"policy must be one of {', '.join(map(repr, _POLICIES))}, got {policy!r}")
    choice("policy", policy, _POLICIES)
    n = integer("n_requests", n_requests, minimum=1, maximum=5_000_000)
    mean_tokens = number("mean_tokens", mean_tokens, "tokens", minimum=1, maximum=1e6)
    if not isinstance(tokens, str):
        raise TypeError(f"tokens must be 'geometric' or 'fixed', got {tokens!r}")
    choice("tokens", tokens, ("geometric", "fixed"))
    n_params = positive("n_params", n_params, "parameters")
    bytes_per_param = positive("bytes_per_param", bytes_per_param, "bytes")
    kv_bytes_per_sequence = nonnegative("kv_bytes_per_sequence", kv_bytes_per_sequence, "bytes")
    peak, bw = _device(peak_flops_per_s, bandwidth_bytes_per_s)
    prompt = integer("prompt_tokens", prompt_tokens, minimum=0, maximum=10**6)
    batch_limit = max_batch
    if memory_bytes is not None:
        from .inference import kv_capacity_batch
        if kv_bytes_per_sequence <= 0:
            raise ValueError("kv_bytes_per_sequence must be positive when memory_bytes is given: the KV cache "
                             "is what limits the batch")
        fits = kv_capacity_batch(kv_bytes_per_sequence, n_params, memory_bytes=memory_bytes,
                                 bytes_per_param=bytes_per_param)
        if fits < 1:
            raise ValueError(f"not one sequence's KV cache ({kv_bytes_per_sequence:.3g} bytes) fits in memory_bytes "
                             "beside the weights")
        batch_limit = min(max_batch, fits)
    rng = np.random.default_rng(integer("seed", seed, minimum=0))
    if tokens == "fixed" and mean_tokens != round(mean_tokens):
        raise ValueError(f"mean_tokens must be a whole number for fixed lengths, got {mean_tokens}")
    # one validated, vectorized call: the step time of every batch size the server can run
    sizes = np.arange(1, min(batch_limit, n) + 1)
    table = np.atleast_1d(decode_step_time(sizes, n_params, peak, bw, bytes_per_param,
                                           kv_bytes_per_sequence)).tolist()
    # a prefill of k joining prompts: one forward pass over k × prompt tokens (weights once, no KV read)
    prefills = (np.atleast_1d(decode_step_time(sizes * prompt, n_params, peak, bw, bytes_per_param, 0.0)).tolist()
                if prompt else [0.0] * len(sizes))
    gaps = rng.exponential(1.0 / lam, n)
    need = np.full(n, int(mean_tokens)) if tokens == "fixed" else rng.geometric(1.0 / mean_tokens, n)
    with np.errstate(over="ignore"):
        useful_flops = 2.0 * n_params * float(need.sum() + prompt * n)
        longest = float(need.sum()) * table[-1] + float(np.sum(gaps))
    finite_result(useful_flops, "the run's FLOPs", "n_params", "mean_tokens", "n_requests")
    finite_result(longest, "the run's length", "n_params", "peak_flops_per_s", "bandwidth_bytes_per_s",
                  "kv_bytes_per_sequence", "arrival_rate")

    def step_time(b):
        return table[b - 1]

    def prefill(b):
        return prefills[b - 1]

    env = simpy.Environment()
    queue = collections.deque()
    state = {"need": 1, "event": None, "done": False}
    arrival = np.cumsum(gaps)       # the same sums simpy's clock makes, in the same order
    rec = {"arrival": arrival.tolist(), "start": [0.0] * n, "finish": [0.0] * n, "first": [0.0] * n,
           "segments": [], "prefills": []}
    need_list = need.tolist()
    env.process(_arrive(env, gaps.tolist(), queue, state))
    if policy == "continuous":
        env.process(_serve_continuous(env, state, queue, batch_limit, step_time, need_list, rec, prefill))
    else:
        env.process(_serve_batches(env, state, queue, batch_limit, max_wait, policy == "static", step_time,
                                   need_list, rec, prefill))
    env.run()
    seg = np.array(rec["segments"], dtype=float).reshape(-1, 3)
    pre = np.array(rec["prefills"], dtype=float).reshape(-1, 2)
    return ServingResult(
        policy=policy, arrival_rate=lam, max_batch=max_batch, max_wait=max_wait,
        arrival=arrival, start=np.array(rec["start"]), finish=np.array(rec["finish"]),
        tokens=need.astype(float),
        batch_start=seg[:, 0], batch_end=seg[:, 1], batch_size=seg[:, 2].astype(int),
        useful_flops=useful_flops, peak_flops_per_s=peak,
        single_step_time=step_time(1),
        timeline=Timeline.from_busy(np.concatenate([seg[:, 0], pre[:, 0]]), np.concatenate([seg[:, 1], pre[:, 1]])),
        n_events=events(env, 3 * n), first_token=np.array(rec["first"]), prompt_tokens=prompt,
        batch_limit=batch_limit, prefill_start=pre[:, 0], prefill_end=pre[:, 1])


def serving_sweep(arrival_rate, max_batches, *, policies=_POLICIES, **kwargs):
    """Run :func:`simulate_serving` for each policy and batch limit (up to 20): {policy: [results]}.

    ``kwargs`` go to :func:`simulate_serving` (``n_requests``, ``max_wait``, ``mean_tokens``, ...).
    """
    batches = np.atleast_1d(_counts_list("max_batches", max_batches, 20, maximum=100_000)).astype(int)
    policies = [choice("policies", p, _POLICIES) if isinstance(p, str) else _bad_policy(p)
                for p in sequence("policies", policies, maximum=len(_POLICIES))]
    for taken in ("max_batch", "policy"):
        if taken in kwargs:
            raise TypeError(f"serving_sweep sets {taken} itself (from max_batches and policies)")
    return {p: [simulate_serving(arrival_rate, max_batch=int(b), policy=p, **kwargs) for b in batches]
            for p in policies}


def _bad_policy(p):
    raise TypeError(f"policies must hold policy names ({', '.join(map(repr, _POLICIES))}), got {p!r}")


def _counts_list(name, value, most, maximum):
    if isinstance(value, range):
        value = list(value)
    if not isinstance(value, (list, tuple, np.ndarray)):
        raise TypeError(f"{name} must be a list of whole numbers, got {type(value).__name__} {value!r:.40}")
    out = counts(name, value, maximum=maximum)
    if len(np.atleast_1d(out)) > most:
        raise ValueError(f"{name} must hold at most {most} values, got {len(out)}")
    return out


def _results(name, value, cls, what, most=10):
    items = sequence(name, value, maximum=most)
    for r in items:
        instance(name, r, cls, what)
    return items


def plot_serving_tradeoff(sweep, fig=None):
    """Three panels against the batch limit for each policy of a :func:`serving_sweep`:
    throughput, p99 latency (p50 dashed) and FLOP utilization. Returns the figure."""
    from matplotlib.figure import Figure
    if not isinstance(sweep, dict) or not sweep:
        raise TypeError(f"sweep must be what serving_sweep returns ({{policy: [ServingResult, ...]}}), "
                        f"got {type(sweep).__name__}")
    sweep = {p: _results("sweep", rs, ServingResult, "a dict {policy: [ServingResult, ...]} from serving_sweep",
                         most=50) for p, rs in sweep.items()}
    if fig is None:
        import matplotlib.pyplot as plt
        fig = plt.figure(figsize=(9, 3.3))
    else:
        instance("fig", fig, Figure, "a matplotlib Figure or None")
    axes = [fig.add_subplot(1, 3, k + 1) for k in range(3)]
    for k, (policy, results) in enumerate(sweep.items()):
        b = [r.max_batch for r in results]
        mark = MARKERS[k % len(MARKERS)]                  # each policy its marker, beyond its colour
        axes[0].plot(b, [r.steady_throughput for r in results], "-", marker=mark, color=f"C{k}", label=policy)
        axes[1].plot(b, [r.p99_latency for r in results], "-", marker=mark, color=f"C{k}", label=f"{policy} p99")
        axes[1].plot(b, [r.p50_latency for r in results], "--", color=f"C{k}", lw=1)
        axes[2].plot(b, [r.gpu_utilization * 100 for r in results], "-", marker=mark, color=f"C{k}")
    first = next(iter(sweep.values()))[0]
    rate, offered = first.arrival_rate, first.offered_rate      # one seed: every run sees the same arrivals
    axes[0].axhline(offered, color="grey", ls=":", lw=1)
    axes[0].text(1, offered * 0.97, f"offered load ({offered:.3g} req/s\nin this sample)", color="grey",
                 fontsize=7, va="top")
    lat = [v for rs in sweep.values() for r in rs for v in (r.p50_latency, r.p99_latency)]
    log_axis(axes[1], "y", ticks=[t for t in (0.1, 0.3, 1, 3, 10, 30, 100, 300, 1000, 3000)
                                  if min(lat) / 3 <= t <= max(lat) * 3], plain=True)
    ticks = sorted({r.max_batch for rs in sweep.values() for r in rs})
    for ax, title in zip(axes, ("steady-state throughput (req/s)", "latency (s): p99, p50 dashed",
                                "FLOP utilization (% of peak)")):
        log_axis(ax, "x", ticks=ticks, plain=True)
        ax.set_xlabel("max batch")
        ax.set_title(title, fontsize=9)
    axes[0].set_ylim(bottom=0)
    axes[2].set_ylim(bottom=0)
    axes[0].legend(fontsize=7, loc="lower right")
    fig.suptitle(f"Batching at {rate:g} requests/s", fontsize=10)
    fig.subplots_adjust(left=0.07, right=0.98, bottom=0.17, top=0.82, wspace=0.35)
    return fig


# --- the serving snapshot and its explorer ------------------------------------------------------
_LATENCY_LIMITS = (0.003, 300.0)      # s: covers every explorer setting (4 ms = one decode step … ≈ 140 s)
#: The explorer's setting: requests per run, seed, and its slider ranges (min, max).
_EXPLORER_REQUESTS, _EXPLORER_SEED = 200, 1
_EXPLORER_RANGES = {"arrival_rate": (0.5, 40.0), "max_batch": (1, 64), "max_wait": (0.0, 0.5)}


def _serving_panels(ax_latency, ax_bars, policies=_POLICIES):
    """Axes and empty artists of the snapshot (fixed limits); returns the handles of what moves."""
    h = {"cdf": [], "p99": []}
    for k, policy in enumerate(policies):
        h["cdf"] += ax_latency.plot([], [], color=f"C{k}", label=policy)
        h["p99"].append(ax_latency.axvline(1.0, color=f"C{k}", ls=":", lw=1))
    log_axis(ax_latency, "x", ticks=10.0 ** np.arange(-3, 5), plain=True)
    ax_latency.set(xlabel="latency (s)", ylabel="fraction of requests", xlim=_LATENCY_LIMITS,
                   ylim=(0, 1.01), yticks=[0, 0.5, 1], yticklabels=["0", "0.5", "1"])
    ax_latency.set_title("latency CDF (dotted: p99)", fontsize=9)
    ax_latency.legend(fontsize=7, loc="upper left")
    x = np.arange(len(policies))
    h["bars"] = list(ax_bars.bar(x, np.zeros(len(policies)), 0.6, color=[f"C{k}" for k in x], alpha=0.5))
    h["labels"] = [ax_bars.text(k, 2, "", ha="center", va="bottom", fontsize=7) for k in x]
    ax_bars.axhline(100, color="grey", ls=":", lw=1)
    ax_bars.text(-0.65, 100, "100 %", color="grey", fontsize=7, ha="right", va="center")
    ax_bars.set_xticks(x, list(policies), fontsize=8)
    ax_bars.set(xlim=(-0.6, len(policies) - 0.4), ylim=(0, 125), yticks=[])
    ax_bars.set_title("GPU busy (bars) vs FLOP utilization (%)", fontsize=9)
    return h


def _show_results(h, results):
    """Put ``results`` (one per policy, in the panels' order) into the snapshot's artists."""
    for k, r in enumerate(results):
        lat = np.sort(r.latency)
        h["cdf"][k].set_data(lat, np.arange(len(lat)) / len(lat))
        h["p99"][k].set_xdata([r.p99_latency, r.p99_latency])
        busy = r.busy_fraction * 100
        h["bars"][k].set_height(busy)
        h["labels"][k].set_y(busy + 2)
        h["labels"][k].set_text(f"busy {r.busy_fraction:.0%}\nFLOPs {r.gpu_utilization:.1%}")


def plot_serving_snapshot(results, ax_latency=None, ax_bars=None):
    """Latency CDFs of several :class:`ServingResult` (up to 10; log time axis, dotted p99), and GPU busy
    time (bars) against FLOP utilization (labels). Draws into the two axes given, or a new figure;
    returns the figure."""
    results = _results("results", results, ServingResult, "a list of ServingResult (from simulate_serving)")
    ax_latency, ax_bars = _axes_or_none("ax_latency", ax_latency), _axes_or_none("ax_bars", ax_bars)
    if (ax_latency is None) != (ax_bars is None):
        missing = "ax_bars" if ax_bars is None else "ax_latency"
        raise TypeError(f"{missing} must be given too: pass both axes (ax_latency, ax_bars) or neither")
    if ax_latency is None:
        import matplotlib.pyplot as plt
        fig, (ax_latency, ax_bars) = plt.subplots(1, 2, figsize=(8, 3.6))
    h = _serving_panels(ax_latency, ax_bars, tuple(r.policy for r in results))
    _show_results(h, results)
    lo, hi = min(r.latency.min() for r in results), max(r.latency.max() for r in results)
    ax_latency.set_xlim(min(lo / 1.5, _LATENCY_LIMITS[0]), max(hi * 1.5, _LATENCY_LIMITS[1]))
    return ax_latency.figure


@functools.lru_cache(maxsize=256)
def _explorer_runs(arrival_rate, max_batch, max_wait):
    return tuple(simulate_serving(arrival_rate, max_batch=max_batch, max_wait=max_wait, policy=p,
                                  n_requests=_EXPLORER_REQUESTS, seed=_EXPLORER_SEED) for p in _POLICIES)


def _build_serving(fig):
    h = _serving_panels(fig.add_subplot(1, 2, 1), fig.add_subplot(1, 2, 2))
    h["title"] = fig.suptitle(" ", fontsize=9)
    fig.subplots_adjust(left=0.08, right=0.98, bottom=0.14, top=0.82, wspace=0.25)
    return h


def _update_serving(h, arrival_rate, max_batch, max_wait):
    runs = _explorer_runs(round(float(arrival_rate), 6), int(max_batch), round(float(max_wait), 6))
    _show_results(h, runs)
    setting = f"{arrival_rate:.3g} requests/s, max batch {int(max_batch)}, max wait {max_wait * 1e3:.0f} ms"
    h["title"].set_text(setting)
    return "\n".join([f"{setting} ({_EXPLORER_REQUESTS} requests, 7B model on an H100 roofline)"] +
                     [r.summary() for r in runs])


def serving_explorer(arrival_rate=10.0, max_batch=16, max_wait=0.05):
    """Sliders for arrival rate (0.5–40 requests/s), batch limit (1–64) and wait limit (0–0.5 s): the
    three batching policies at each setting (200 requests each, cached), latency CDFs and GPU busy."""
    ranges = _EXPLORER_RANGES
    lo, hi = ranges["arrival_rate"]
    arrival_rate = number("arrival_rate", arrival_rate, "requests/s", minimum=lo, maximum=hi)
    lo, hi = ranges["max_batch"]
    max_batch = integer("max_batch", max_batch, minimum=lo, maximum=hi)
    lo, hi = ranges["max_wait"]
    max_wait = number("max_wait", max_wait, "s", minimum=lo, maximum=hi)
    return explorer(_build_serving, _update_serving,
                    title=f"Serving: static vs dynamic vs continuous batching ({_EXPLORER_REQUESTS} requests, "
                          "7B model, H100 roofline)",
                    figsize=(8, 3.6),
                    arrival_rate=slider(arrival_rate, *ranges["arrival_rate"], 0.5, "arrival rate (req/s)"),
                    max_batch=int_slider(max_batch, *ranges["max_batch"], 1, "max batch"),
                    max_wait=slider(max_wait, *ranges["max_wait"], 0.01, "max wait (s)"))
