"""No leaked answers: no cell before an exercise shows its answer or calls the function it asks for.

Each student notebook (``notebooks/*.ipynb``) is executed once, in a fresh kernel (nbclient, as
nbval does). Then, for each cell that calls ``check("<id>", ...)``, every cell *before* it is searched:

- **Values** (a ``ValueExercise``'s expected value, or a ``CustomExercise``'s passing example when it is
  one number): the text the cells show — outputs (stream, text/plain, and text/html with its tags
  removed, which shows columns the plain text leaves out) and markdown — is split into numeric tokens
  (``3.89``, ``1,289``, ``6.4e+12``; a digit run glued to a letter before it, as in ``H100`` or ``x16``,
  is not a number; a whole number ending in zeros, ``50,700``, is read both as exact and as rounded to
  its last non-zero digit). A token shows the answer x when it is x rescaled — by an SI prefix (10^3k, as
  ``3.89 ms`` for 0.00389 s), a binary prefix for bytes (2^10k), ×100 for a percentage (``35.3 %`` for
  0.353), or into another time unit (s, min, h, days, years) when the answer is a time — and *rounded to
  the token's own last digit*: |token − x·scale| ≤ half a unit of its last digit. So that chance
  coincidences do not count, the token must carry at least 3 significant digits (``3.89``, ``270``,
  ``1,024``; ``0.0039`` carries 2), or 2 when the unit of that scale follows it (``33 s``, ``6.4 TB/s``,
  ``82%`` for a fraction). A whole-number answer without a unit is a count: a token followed by a unit of
  measure (``256 MB``) is not that count, and a count below 100 (``8`` GPUs, ``15``) cannot be searched
  for by value at all — the call search below still covers the cell that would compute it. When the
  exercise's title itself states the answer (a conversion such as "an 80 GB GPU, in bytes", or a
  published figure to compare with), its value is not searched.
- **Choices** (a ``ChoiceExercise``), in outputs: the correct option's key exactly as the learner would
  type it (a whole word, case-sensitive) — anywhere when it is not an ordinary word
  (``recursive_doubling``), or on a line that also names another option's key (the options compared side
  by side: ``ring 10.2 ms, tree 100 µs``); or the option's description (``memory-bound``;
  case-insensitive) in an output that names none of the other options (a verdict, not a list of them).
- **Calls**: the source of every code cell before it must not call (``name(``, ``module.name(``) a
  function the exercise declares in ``teaches``, nor the function the learner is asked to write there
  (the name the exercise cell defines with ``def``).

Lines that check()/hint()/progress() print are not searched (a "not attempted" message lists the
options). What no text search can see (a plot that shows the answer, a note that reveals which row of a
table is wrong) is left to review.
"""

import ast
import html
import math
import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
NOTEBOOKS = sorted((ROOT / "notebooks").glob("*.ipynb"))

CHECK_CALL = re.compile(r"""\bcheck\(\s*["'](\d\d\.\w+)["']""")
NUMBER = re.compile(r"(?<![\w.])(\d{1,3}(?:,\d{3})+|\d+)(?:\.(\d+))?(?:[eE]([-+]?\d+))?(?![\d,]\d)")
TAG = re.compile(r"<[^>]+>")
# What check(), hint() and progress() print: a verdict, a hint, or a progress line.
LABKIT_LINE = re.compile(r"^\s*(✅|❌|⬜|💡|Chapter \d\d: )")

TIME_UNITS = {"s": 1.0, "min": 60.0, "h": 3600.0, "GPU-h": 3600.0, "days": 86400.0, "years": 365.25 * 86400.0}


# ---------------------------------------------------------------------------------------------
# The matchers
# ---------------------------------------------------------------------------------------------
def numbers(text):
    """(match, value, half a unit of its last digit, significant digits) per reading of each numeric
    token; a whole number ending in zeros (``50,700``) is read both as exact and as rounded there."""
    for m in NUMBER.finditer(text):
        whole, frac, exp = m.group(1).replace(",", ""), m.group(2) or "", int(m.group(3) or 0)
        digits = (whole + frac).lstrip("0")
        value = float(f"{whole}.{frac or 0}e{exp}")
        yield m, value, 0.5 * 10.0 ** (exp - len(frac)), len(digits)
        zeros = len(digits) - len(digits.rstrip("0"))
        if not frac and zeros:
            yield m, value, 0.5 * 10.0 ** (exp + zeros), len(digits) - zeros


# A unit of measure right after a number: a whole-number answer (a count) is not that number.
UNIT_AFTER = re.compile(r" ?(?:[kMGTPE]i?|[mµun])?(?:B|b|B/s|b/s|bit|s|W|J|Wh|FLOP|Hz|%)(?![\w/])")
PREFIXES = {1.0: "", 1e-3: "k", 1e-6: "M", 1e-9: "G", 1e-12: "T", 1e-15: "P", 1e-18: "E",
            1e3: "m", 1e6: "[µu]", 1e9: "n", 1e12: "p"}
IEC_PREFIXES = {2.0 ** -10: "Ki", 2.0 ** -20: "Mi", 2.0 ** -30: "Gi", 2.0 ** -40: "Ti", 2.0 ** -50: "Pi"}
TIME_NAMES = {"s": "s", "min": "min", "h": "h", "GPU-h": "(?:GPU-)?h", "days": "days?", "years": "years?"}


def renderings(expected, unit=""):
    """(value, unit pattern) pairs: the answer in each scale it could plausibly be printed in; the
    pattern is the unit that follows it there (None when the answer has no unit)."""
    out = [(expected * 100, "%")] if not unit else []
    if unit in TIME_UNITS:
        seconds = expected * TIME_UNITS[unit]
        for name, size in TIME_UNITS.items():
            out.append((seconds / size, TIME_NAMES[name]))
        out += [(seconds * s, PREFIXES[s] + "s") for s in (1e3, 1e6, 1e9)]
        return out
    base = unit.split("/")[0] if unit else ""
    for s, prefix in PREFIXES.items():
        out.append((expected * s, re.escape(unit) if s == 1 else (prefix + re.escape(unit)) if unit else None))
    if base == "B":
        out += [(expected * s, prefix + re.escape(unit)) for s, prefix in IEC_PREFIXES.items()]
    return out


def shows_number(text, expected, unit=""):
    """The first token of text that shows ``expected`` (see the module docstring), or None."""
    if expected == 0 or not math.isfinite(expected):
        return None
    targets = renderings(abs(expected), unit)
    count = not unit and float(expected).is_integer()
    if count and abs(expected) < 100:          # a small count cannot be searched for (see the module docstring)
        return None
    for match, value, half_ulp, n_digits in numbers(text):
        after = text[match.end():match.end() + 12]
        if n_digits < 2 or (count and UNIT_AFTER.match(after)):
            continue
        for target, unit_pattern in targets:
            if abs(value - target) > half_ulp * (1 + 1e-9) + 1e-12 * target:
                continue
            if n_digits >= 3:
                return match.group(0)
            unit_match = unit_pattern and re.match(rf" ?{unit_pattern}(?!\w)", after)
            if unit_match:
                return match.group(0) + unit_match.group(0)
    return None


def shows_choice(text, exercise):
    """The correct option shown as the answer (see the module docstring), or None."""
    key = exercise.answer
    description = exercise.choices[key].lower()
    other_keys = [k for k in exercise.choices if k != key]
    others = [exercise.choices[k].lower() for k in other_keys]

    def names(line, word):
        return re.search(rf"(?<![\w-]){re.escape(word)}(?![\w-])", line)

    for line in text.splitlines():
        if names(line, key) and (not key.isalpha() or any(names(line, k) for k in other_keys)):
            return key
    low = text.lower()
    if names(low, description) and not any(names(low, o) for o in others):
        return exercise.choices[key]
    return None


def calls(source, names):
    """The names among ``names`` that ``source`` calls (``name(`` or ``something.name(``), defs aside."""
    try:
        tree = ast.parse(_python(source))
    except SyntaxError:
        return sorted(n for n in names if re.search(rf"(?<![\w]){re.escape(n)}\s*\(", source)
                      and not re.search(rf"\bdef\s+{re.escape(n)}\b", source))
    found = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Call):
            f = node.func
            name = f.id if isinstance(f, ast.Name) else f.attr if isinstance(f, ast.Attribute) else None
            if name in names:
                found.add(name)
    return sorted(found)


def _python(source):
    """A cell's source with IPython's magics and shell lines commented out."""
    return "\n".join("#" + line if line.lstrip().startswith(("%", "!")) else line for line in source.split("\n"))


def defined_functions(source):
    try:
        tree = ast.parse(_python(source))
    except SyntaxError:
        return set()
    return {n.name for n in ast.walk(tree) if isinstance(n, ast.FunctionDef)}


# ---------------------------------------------------------------------------------------------
# A notebook's cells as text
# ---------------------------------------------------------------------------------------------
def _joined(value):
    return "".join(value) if isinstance(value, list) else (value or "")


def shown_text(cell):
    """What a cell shows a learner, as text: markdown, or a code cell's outputs (not its source)."""
    if cell.cell_type == "markdown":
        return _joined(cell.source)
    if cell.cell_type != "code":
        return ""
    parts = []
    for out in cell.get("outputs", []):
        if out.get("output_type") == "stream":
            parts.append(_joined(out.get("text")))
        elif out.get("output_type") in ("execute_result", "display_data"):
            data = out.get("data", {})
            if "text/html" in data and "labkit-check" not in _joined(data["text/html"]):
                page = re.sub(r"(?i)<(?:/tr|br\s*/?|/p|/li|/div)>", "\n", _joined(data["text/html"]))
                parts.append(html.unescape(TAG.sub(" ", page)))
            if "text/plain" in data:
                parts.append(_joined(data["text/plain"]))
    text = "\n".join(parts)
    return "\n".join(line for line in text.split("\n") if not LABKIT_LINE.match(line))


def find_leaks(nb):
    """One line per leak: the exercise, the cell that leaks it, and what it shows or calls."""
    from labkit.exercises import _core

    leaks = []
    cells = nb.cells
    for index, cell in enumerate(cells):
        if cell.cell_type != "code":
            continue
        for exercise_id in CHECK_CALL.findall(_joined(cell.source)):
            exercise = _core.get(exercise_id)
            taught = {t.rsplit(".", 1)[-1] for t in getattr(exercise, "teaches", ())}
            taught |= defined_functions(_joined(cell.source))
            expected = _expected_number(exercise)
            unit = getattr(exercise, "unit", "") or ""
            if expected is not None and shows_number(exercise.title, expected, unit):
                expected = None   # the question states it (a conversion, or a published figure to compare with)
            for before in range(index):
                prior = cells[before]
                text = shown_text(prior)
                if expected is not None:
                    token = shows_number(text, expected, unit)
                    if token:
                        leaks.append(f"{exercise_id}: cell {before} shows {token} (the answer is {expected:.6g})")
                if exercise.kind == "choice":
                    choice = shows_choice(text if prior.cell_type == "code" else "", exercise)
                    if choice:
                        leaks.append(f"{exercise_id}: cell {before} shows the answer {choice!r}")
                if prior.cell_type == "code" and taught:
                    for name in calls(_joined(prior.source), taught - defined_functions(_joined(prior.source))):
                        leaks.append(f"{exercise_id}: cell {before} calls {name}(), which the exercise asks you to write")
    return leaks


def _expected_number(exercise):
    if exercise.kind == "value":
        return exercise.expected
    if exercise.kind == "custom":
        example = exercise.example
        if isinstance(example, (int, float)) and not isinstance(example, bool):
            return float(example)
    return None


# ---------------------------------------------------------------------------------------------
# The matchers, tested on made-up text (so that a matcher that finds nothing cannot pass unseen)
# ---------------------------------------------------------------------------------------------
@pytest.mark.parametrize("text, expected, unit", [
    ("n = 8: 1 GB in  3.89 ms   algbw 257 GB/s", 0.0038888889, "s"),
    ("the published 30.1 % does not match 148/419 = 35.3 %", 0.35322, ""),
    ("GPT-3: 1,289 MWh", 1289.376, "MWh"),
    ("that is 1.29 GWh", 1289.376, "MWh"),
    ("restart 5 min: 90 % needs checkpoints under 33 s", 33.36, "s"),
    ("best cap 270 W", 270.1546, ""),
    ("16,384 GPUs: a failure every 3.09 h", 3.0931, "h"),
    ("16,384 GPUs: a failure every 185.6 min", 3.0931, "h"),
    ("per GPU: 5.78 years", 50677.0, "GPU-h"),
    ("bisection 6.4 TB/s (12.5 GB/s per GPU)", 6.4e12, "B/s"),
    ("compute 3.15e+23 FLOP", 3.15e23, "FLOP"),
    ("ratio 0.196 of peak", 0.19645, ""),
    ("NCCL reaches 82% of the line rate", 0.8222, ""),
    ("a ring of 3.9 ms", 0.0038888889, "s"),
    ("about 50,700 GPU-hours", 50677.0, "GPU-h"),
    ("256 GPUs keep 91 %", 256, ""),
])
def test_a_printed_answer_is_found(text, expected, unit):
    assert shows_number(text, expected, unit)


@pytest.mark.parametrize("text, expected, unit", [
    ("an H100 and an A100 on 8 GPUs", 100.4, ""),           # digits glued to letters are names
    ("x16 slot; 16 GT/s per lane", 16.2, ""),              # a two-digit number without its unit
    ("1.3 GB of gradients", 1.34, ""),                       # two digits, not the answer's own unit
    ("3.9 GB", 0.0038888889, "s"),                          # two digits and another unit
    ("256 MB per message", 256, ""),                         # a count is not a number of bytes
    ("8 GPUs per node", 8, ""),                              # one digit never counts
    ("n = 8: 1 GB in  3.91 ms", 0.0038888889, "s"),         # three digits, but not a rounding of it
    ("restart 5 min: 90 % needs checkpoints under 33 min", 33.36, "s"),
    ("cell 2,475 tokens", 247.5, ""),
])
def test_other_numbers_are_not_taken_for_the_answer(text, expected, unit):
    assert shows_number(text, expected, unit) is None


class _Choice:
    kind = "choice"
    answer = "recursive_doubling"
    choices = {"ring": "ring", "tree": "tree (pipelined double binary tree)", "recursive_doubling": "recursive doubling"}


class _Tree(_Choice):
    answer = "tree"


def test_a_shown_choice_is_found():
    assert shows_choice("8 kB: ring 10.2 ms, tree 100 µs, recursive_doubling 51.6 µs", _Choice)
    assert shows_choice("fastest: Recursive doubling", _Choice)
    assert not shows_choice("Recursive doubling: 200 ms\nring: 50 ms", _Choice)    # a list of the options
    assert not shows_choice("recursive doubling or a ring? and a tree (pipelined double binary tree)", _Choice)
    assert not shows_choice("ring all-reduce", _Choice)
    assert shows_choice("1 GB: ring 50.2 ms, tree 40.1 ms", _Tree)             # the options side by side
    assert not shows_choice("a fat-tree of 560 switches", _Tree)             # a word, not the option
    assert not shows_choice("ring 10.2 ms; recursive_doubling 200 ms", _Tree)


def test_calls_are_found_in_source_but_not_definitions():
    assert calls("x = hw.matmul_flops(2, 3, 4)", {"matmul_flops"}) == ["matmul_flops"]
    assert calls("print(matmul_flops(1, 2, 3))\n%timeit 1", {"matmul_flops"}) == ["matmul_flops"]
    assert calls("y = hw.measure_matmul_flops(n=512)", {"matmul_flops"}) == []
    assert calls("# hw.matmul_flops(1, 2, 3) in a comment", {"matmul_flops"}) == []
    assert calls("f = hw.matmul_flops", {"matmul_flops"}) == []


def test_the_search_finds_a_leak_in_a_notebook():
    import nbformat
    nb = nbformat.v4.new_notebook()
    nb.cells = [nbformat.v4.new_code_cell("print(ic.ring_allreduce_time(1e9, 8, 450e9))",
                                          outputs=[nbformat.v4.new_output("stream", text="1 GB in 3.89 ms\n")]),
                nbformat.v4.new_code_cell('predicted_time = ...\ncheck("03.h100_line_rate_time", predicted_time)'),
                nbformat.v4.new_code_cell("print(hw.matmul_flops(2, 3, 4))"),
                nbformat.v4.new_code_cell('def matmul_flops(m, n, k):\n    ...\ncheck("01.matmul_flops", matmul_flops)')]
    leaks = find_leaks(nb)
    assert any("03.h100_line_rate_time: cell 0 shows 3.89" in leak for leak in leaks), leaks
    assert any("01.matmul_flops: cell 2 calls matmul_flops()" in leak for leak in leaks), leaks
    # the question of 00.hbm_bytes is "an 80 GB GPU, in bytes": showing 80 GB before it is no leak
    nb.cells = [nbformat.v4.new_code_cell("print(u.fmt_bytes(80e9))",
                                          outputs=[nbformat.v4.new_output("stream", text="80 GB\n")]),
                nbformat.v4.new_code_cell('check("00.hbm_bytes", ...)')]
    assert find_leaks(nb) == []


# ---------------------------------------------------------------------------------------------
# Every student notebook
# ---------------------------------------------------------------------------------------------
def _executed(path):
    import nbformat
    from nbclient import NotebookClient

    nb = nbformat.read(path, as_version=4)
    kernel = (nb.metadata.get("kernelspec") or {}).get("name", "python3")
    NotebookClient(nb, timeout=300, kernel_name=kernel, allow_errors=True,
                   resources={"metadata": {"path": str(path.parent)}}).execute()
    return nb


@pytest.mark.parametrize("path", NOTEBOOKS, ids=[p.stem for p in NOTEBOOKS])
def test_no_cell_before_an_exercise_leaks_its_answer(path):
    leaks = find_leaks(_executed(path))
    assert not leaks, f"{path.name}: answers shown before their exercise:\n  " + "\n  ".join(leaks)


# ---------------------------------------------------------------------------------------------
# Exercises that tell right from wrong (issue 14, point 4)
# ---------------------------------------------------------------------------------------------
def test_zero_memory_tells_which_stage_shards_what():
    from labkit.exercises import check
    from labkit.exercises.ch02_transformer_scaling import _zero_sharding

    def right(n_params, zero_stage, n_devices):
        return _zero_sharding(n_params, zero_stage, n_devices, weights_at=3, gradients_at=2, optimizer_at=1)

    def swapped(n_params, zero_stage, n_devices):       # weights sharded at stage 2, gradients at 3
        return _zero_sharding(n_params, zero_stage, n_devices, weights_at=2, gradients_at=3, optimizer_at=1)

    def total(n_params, zero_stage, n_devices):          # the old answer: one number, the same for both
        return sum(right(n_params, zero_stage, n_devices))

    assert sum(right(7.5e9, 2, 64)) == sum(swapped(7.5e9, 2, 64))      # the total cannot tell them apart
    assert check("02.zero_memory", right, show=False).passed
    result = check("02.zero_memory", swapped, show=False)
    assert not result.passed and "Stage 2 shards the gradients, not the weights" in result.message
    assert not check("02.zero_memory", total, show=False).passed


def test_parallel_plan_wants_a_fast_step_not_just_a_fit():
    from labkit import scaling as sc
    from labkit.exercises import get
    from labkit.exercises.ch02_transformer_scaling import PLAN_TOLERANCE, fitting_plans, grade_parallel_plan
    plans = fitting_plans()
    best = min(plans.values())
    assert len(plans) > 20                                   # many layouts fit ...
    passing = {layout for layout in plans if grade_parallel_plan(layout)[0]}
    assert passing and len(passing) < len(plans)             # ... not all of them pass
    assert all(plans[layout] <= best * (1 + PLAN_TOLERANCE) for layout in passing)
    assert grade_parallel_plan(get("02.parallel_plan").example)[0]
    passed, message = grade_parallel_plan((8, 4, 2, 1))     # t = 8 inside a node is competitive (Megatron's choice)
    assert passed
    passed, message = grade_parallel_plan((2, 4, 8, 3))     # fits, but ZeRO-3 re-gathers weights per micro-batch
    assert sc.plan_parallelism(tensor_parallel=2, pipeline_parallel=4, data_parallel=8, zero_stage=3,
                               **sc.LLAMA3_70B_PLAN).fits
    assert not passed and "data-parallel" in message
    passed, message = grade_parallel_plan((1, 1, 64, 3))
    assert not passed and "Out of memory" in message
    assert not grade_parallel_plan((16, 4, 1, 0))[0]        # tensor parallelism across nodes
    assert not grade_parallel_plan((8, 4, 4, 1))[0]         # 128 GPUs, not 64
    # the grade is the stated model: step_time of the plan's layout
    assert plans[(2, 8, 4, 1)] == pytest.approx(sc.plan_step_time(
        sc.plan_parallelism(tensor_parallel=2, pipeline_parallel=8, data_parallel=4, zero_stage=1,
                            **sc.LLAMA3_70B_PLAN)).step_time)


def test_slow_link_slowdown_needs_the_simulation():
    from labkit import interconnect as ic
    from labkit.exercises import check, get
    from labkit.exercises.ch03_interconnects import SLOW_LINK_SETUP, slow_link_slowdown
    simulated = slow_link_slowdown()
    s = SLOW_LINK_SETUP
    slowest_formula = (ic.ring_allreduce_time(s["nbytes"], s["n"], s["bandwidth_bytes_per_s"] * s["slow_factor"],
                                              s["latency"])
                       / ic.ring_allreduce_time(s["nbytes"], s["n"], s["bandwidth_bytes_per_s"], s["latency"]))
    assert simulated < slowest_formula < 4                  # latency is not slowed down, and the slow link hides it
    assert check("03.slow_link_slowdown", simulated, show=False).passed
    assert check("03.slow_link_slowdown", round(simulated, 3), show=False).passed
    guess = check("03.slow_link_slowdown", 4, show=False)   # the bandwidth ratio, without simulating
    assert not guess.passed and "bandwidth ratio" in guess.message
    assert not check("03.slow_link_slowdown", 4.0 * 0.999, show=False).passed
    assert get("03.slow_link_slowdown").rtol < (4 - simulated) / simulated / 2
