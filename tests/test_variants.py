"""Per-student variants of value exercises: each student's numbers, drawn from the student id, the exercise
id and the course salt; the default numbers (no student id) are the ones every notebook states."""

import math
import os
import subprocess
import sys

import numpy as np
import pytest

from labkit import exercises
from labkit.exercises import FAILED, NOT_ATTEMPTED, PASSED, Mistake, ValueExercise, check, get, hint, ids, reset
from labkit.exercises import _core
from labkit.exercises._diagnose import GENERIC_FACTORS, near_miss_message
from labkit.grading import recheck

# The numbers each converted question states, and the answer they give: computed here by hand, as the
# notebooks' narrative and the published figures they are compared with assume (relative 1e-9).
DEFAULTS = {
    "02.min_gpus": ({"gpu_gb": 80}, math.ceil(16 * 70_553_706_496 / 80e9)),
    "03.h100_line_rate_time": ({"message_gb": 1, "n_devices": 8}, 2 * 7 / 8 * 1e9 / 450e9),
    "03.torus_bisection": ({"side": 8, "link_gb": 50}, 2 * 8 * 8 * 50e9),
    "03.nccl_network_steps": ({"nodes": 16}, 2 * (16 - 1)),
    "06.overhead_mw": ({"it_mw": 20}, 20 * (1.58 - 1)),
    "06.liquid_saving_kw": ({"rack_kw": 120}, 120 * (1.58 - 1.04)),
    "06.power_swing_mw": ({"n_devices": 16_384, "pue": 1.1}, 16_384 * (700 - 140) * 1.1 / 1e6),
    "04.decode_utilization": ({"batch": 32}, 32 / (989.4e12 / 3.35e12)),                  # H100 datasheet
    "04.kv_capacity": ({"context_tokens": 2048, "memory_gb": 80}, (0.9 * 80e9 - 6_738_415_616 * 2) // (2048 * 524_288)),
    "04.attention_share": ({"seq_len": 131_072}, 12 * 126 * 16384 * 131_072 / (6 * 405e9 + 12 * 126 * 16384 * 131_072)),
    "04.fp32_gradients": ({"pipeline_parallel": 16, "data_parallel": 128}, 127 / 128 * 4 * 405e9 / (8 * 16)),
    "05.young_llama3": ({"checkpoint_s": 60}, math.sqrt(2 * 60 * 54 * 24 * 3600 / 419) / 60),
    "05.fast_enough": ({"target": 0.9, "restart_min": 5},                  # δ/M = −y − ln(1 − y), y = 1 − g·e^(R/M)
                       (lambda m, y: m * (-y - math.log(1 - y)))(54 * 24 * 3600 / 419,
                                                                1 - 0.9 * math.exp(300 / (54 * 24 * 3600 / 419)))),
    "05.spares_needed": ({"n_devices": 100_000, "shortfall": 0.01}, 61),  # Erlang B: test_the_spares_default
}
VARIANT_IDS = sorted(DEFAULTS)
STUDENTS = [f"student{i:03d}" for i in range(40)]
OWN_CHAPTERS = ("00", "01", "02", "03", "04", "05", "06", "07")


@pytest.fixture(autouse=True)
def _no_student(monkeypatch):
    for name in ("JUPYTERHUB_USER", "LABKIT_COURSE_SALT", "LABKIT_NUMBERS", "NBGRADER_EXECUTION", "LABKIT_VARIANTS"):
        monkeypatch.delenv(name, raising=False)
    exercises.set_student(None)
    reset()
    yield
    exercises.set_student(None)
    reset()


def _answer(ex, student, salt=""):
    return ex.expected_for(ex.numbers_for(student, salt))


def test_every_value_exercise_of_these_chapters_has_variants_or_says_why_not():
    value = [i for i in ids() if get(i).kind == "value" and get(i).chapter in OWN_CHAPTERS]
    assert sorted(i for i in value if get(i).variants) == VARIANT_IDS
    for i in value:
        ex = get(i)
        assert bool(ex.variants) != bool(ex.no_variants), (i, "declare variants, or no_variants='why'")


@pytest.mark.parametrize("exercise_id", VARIANT_IDS)
def test_the_default_variant_is_the_question_as_the_notebook_states_it(exercise_id):
    ex = get(exercise_id)
    numbers, value = DEFAULTS[exercise_id]
    assert ex.default_numbers == numbers
    assert ex.numbers_for(None) == ex.numbers_for("") == numbers
    assert math.isclose(ex.expected, value, rel_tol=1e-9)
    assert math.isclose(ex.expected_for(numbers), value, rel_tol=1e-9)
    result = check(exercise_id, value, show=False)
    assert result.passed and "the default numbers" in result.message
    assert repr(exercises.numbers(exercise_id)).endswith("(no student id set).")


@pytest.mark.parametrize("exercise_id", VARIANT_IDS)
def test_variants_are_deterministic_inside_their_ranges_and_differ_between_students(exercise_id):
    ex = get(exercise_id)
    drawn = [ex.numbers_for(s, "salt") for s in STUDENTS]
    assert drawn == [ex.numbers_for(s, "salt") for s in STUDENTS]                  # deterministic
    assert ex.numbers_for(" Student000 ", "salt") == drawn[0]                      # ids compared stripped, casefolded
    assert ex.numbers_for("student000#2", "salt") == drawn[0]                      # a grader's duplicate suffix
    for numbers in drawn:
        assert set(numbers) == set(ex.variants)
        assert all(numbers[k] in ex.variants[k] for k in numbers)                  # inside the declared choices
        assert numbers != ex.default_numbers                                       # a named student never gets
        assert not math.isclose(ex.expected_for(numbers), ex.expected, rel_tol=ex.rtol)  # the stated answer
    assert len({tuple(sorted(n.items())) for n in drawn}) >= min(5, len(ex._table()) - 1)
    assert len({ex.expected_for(n) for n in drawn}) >= 4                          # the answers differ too
    # the salt changes the class's numbers
    assert [ex.numbers_for(s, "another salt") for s in STUDENTS] != drawn


def test_the_draw_does_not_depend_on_the_process():
    code = ("from labkit.exercises import get; ex = get('03.torus_bisection'); "
            "print(ex.numbers_for('alice', 's3cret'))")
    outs = {subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True,
                           env={**os.environ, "PYTHONHASHSEED": seed}).stdout for seed in ("1", "2")}
    assert outs == {str(get("03.torus_bisection").numbers_for("alice", "s3cret")) + "\n"}


def test_where_the_kernel_finds_the_student(monkeypatch, tmp_path):
    ex = get("03.torus_bisection")
    assert exercises.current_student() == (None, "")
    monkeypatch.setenv("JUPYTERHUB_USER", "alice")
    monkeypatch.setenv("LABKIT_COURSE_SALT", "s3cret")
    assert exercises.current_student() == ("alice", "s3cret")
    assert ex.numbers_now() == ex.numbers_for("alice", "s3cret")
    shown = exercises.numbers("03.torus_bisection")
    assert dict(shown) == ex.numbers_for("alice", "s3cret")
    assert repr(shown).startswith("03.torus_bisection: your numbers are ") and "(student alice)" in repr(shown)
    exercises.set_student("bob")                                   # an explicit choice beats the hub's id
    assert exercises.current_student() == ("bob", "s3cret")
    exercises.set_student("bob", salt="other")
    assert ex.numbers_now() == ex.numbers_for("bob", "other")
    # nbgrader autograde: the kernel runs in autograded/<student>/<assignment>/
    folder = tmp_path / "autograded" / "carol" / "03_interconnects"
    folder.mkdir(parents=True)
    monkeypatch.chdir(folder)
    monkeypatch.setenv("NBGRADER_EXECUTION", "autograde")
    assert exercises.current_student()[0] == "carol"
    monkeypatch.chdir(tmp_path)               # not nbgrader's layout: the default numbers, never the grader's id
    assert exercises.current_student()[0] is None
    monkeypatch.delenv("NBGRADER_EXECUTION")
    assert exercises.current_student()[0] == "bob"
    # the numbers a grader passes into the kernel come first; anything malformed is ignored
    given = ex.numbers_for("dave", "x")
    monkeypatch.setenv("LABKIT_NUMBERS", '{"03.torus_bisection": %s}' % str(given).replace("'", '"'))
    assert ex.numbers_now() == given
    monkeypatch.setenv("LABKIT_NUMBERS", '{"03.torus_bisection": {"side": 3, "link_gb": 50}}')
    assert ex.numbers_now() == ex.numbers_for("bob", "other")
    monkeypatch.setenv("LABKIT_NUMBERS", "not json")
    assert ex.numbers_now() == ex.numbers_for("bob", "other")
    monkeypatch.setenv("LABKIT_VARIANTS", "off")                   # a class graded without variants
    assert exercises.current_student() == (None, "other")
    assert exercises.numbers("03.torus_bisection") == ex.default_numbers
    with pytest.raises(TypeError, match="student"):
        exercises.set_student(42)
    with pytest.raises(TypeError, match="salt"):
        exercises.set_student("alice", salt=1)


def _generic_messages():
    return [m for _, _, m in GENERIC_FACTORS] + [near_miss_message(0.01), "Off by a factor of 10^"]


@pytest.mark.parametrize("exercise_id", VARIANT_IDS)
def test_check_uses_the_learners_numbers_and_a_neighbours_answer_fails_plainly(exercise_id):
    ex = get(exercise_id)
    exercises.set_student("alice", salt="s3cret")
    mine = ex.numbers_for("alice", "s3cret")
    result = check(exercise_id, _answer(ex, "alice", "s3cret"), show=False)
    assert result.passed and ex.describe_numbers(mine) in result.message and "your numbers" in result.message
    assert check(exercise_id, ..., show=False).status == NOT_ATTEMPTED
    # the default answer (what the wheel's .expected says) is wrong for a named student, and said so plainly
    stated = check(exercise_id, ex.expected, show=False)
    assert stated.status == FAILED and "the default numbers" in stated.message
    # a neighbour's answer: "the answer for other numbers", or this exercise's own mistake; no unit slip
    own = [m.message for m in ex.mistakes_for(mine)]
    neighbours = 0
    for other in STUDENTS:
        theirs = _answer(ex, other, "s3cret")
        if math.isclose(theirs, _answer(ex, "alice", "s3cret"), rel_tol=ex.rtol):
            continue
        neighbours += 1
        message = check(exercise_id, theirs, show=False).message
        assert "It is the answer for other numbers" in message or any(m in message for m in own), message
        assert not any(g in message for g in _generic_messages()), message
    assert neighbours >= 10


@pytest.mark.parametrize("exercise_id", VARIANT_IDS)
def test_each_mistake_is_diagnosed_for_a_students_numbers(exercise_id):
    ex = get(exercise_id)
    exercises.set_student("alice")
    mine = ex.numbers_for("alice")
    mistakes, want = ex.mistakes_for(mine), ex.expected_for(mine)
    for m in mistakes:
        answer = m.wrong_value if m.value is not None else want * m.factor
        result = check(exercise_id, answer, show=False)
        # a count can make two mistakes give the same number: the first that explains it is said
        first = next(k for k in mistakes if k.matches(np.array([answer]), np.array([want])))
        assert result.status == FAILED and first.message in result.message, (m.message, result.message)
        assert "{" not in m.message


def test_hints_show_the_learners_numbers(capsys):
    exercises.set_student("alice")
    mine = get("03.torus_bisection").numbers_for("alice")
    hint("03.torus_bisection")
    hint("03.torus_bisection")
    out = capsys.readouterr().out
    assert f"2·{mine['side']}·{mine['side']} links × {mine['link_gb']} GB/s" in out and "{" not in out


def test_an_exercise_without_variants_is_unchanged():
    exercises.set_student("alice")
    ex = get("03.nvlink_efficiency")
    assert ex.variants is None and ex.numbers_for("alice") == {}
    assert repr(exercises.numbers("03.nvlink_efficiency")).endswith("the same numbers for everyone, as the "
                                                                    "question states them.")
    assert check("03.nvlink_efficiency", 370 / 450, show=False).message.startswith("Correct: 0.8222")


def test_grading_outside_the_kernel_uses_the_numbers_given():
    ex = get("03.torus_bisection")
    alice, bob = ex.numbers_for("alice", "s"), ex.numbers_for("bob", "s")
    assert ex.expected_for(alice) != ex.expected_for(bob)
    report = {"kind": "plain", "value": ex.expected_for(alice)}
    assert recheck(ex, report, numbers=alice)[0] == PASSED
    status, message = recheck(ex, report, numbers=bob)
    assert status == FAILED and "It is the answer for other numbers" in message
    # no numbers given: the default ones, whatever student id this process may have
    exercises.set_student("alice", salt="s")
    assert recheck(ex, {"kind": "plain", "value": ex.expected}, numbers=None)[0] == PASSED


def test_declarations_are_validated():
    hints = ["a", "b"]
    ok = dict(expected=lambda k=2: k * 10, hints=hints, variants={"k": (1, 2, 3)})
    assert ValueExercise("99.ok", "x", **ok).default_numbers == {"k": 2}
    with pytest.raises(ValueError, match="function of the numbers"):
        ValueExercise("99.x", "x", expected=20, hints=hints, variants={"k": (1, 2)})
    with pytest.raises(ValueError, match="default"):
        ValueExercise("99.x", "x", expected=lambda k: k, hints=hints, variants={"k": (1, 2)})
    with pytest.raises(ValueError, match="must be one of its choices"):
        ValueExercise("99.x", "x", expected=lambda k=5: k, hints=hints, variants={"k": (1, 2)})
    with pytest.raises(ValueError, match="two different choices"):
        ValueExercise("99.x", "x", expected=lambda k=1: k, hints=hints, variants={"k": (1, 1)})
    with pytest.raises(ValueError, match="a mistake needs"):
        ValueExercise("99.x", "x", mistakes=[Mistake("m", value=3.0)], **ok)
    with pytest.raises(KeyError):
        ValueExercise("99.x", "x", expected=lambda k=2: k, hints=["{nope}", "b"], variants={"k": (1, 2)})
    with pytest.raises(ValueError, match="5,000"):
        ValueExercise("99.x", "x", expected=lambda a=0, b=0: a + b, hints=hints,
                      variants={"a": range(100), "b": range(100)})


def test_a_numbers_based_solution_passes_for_everyone(monkeypatch):
    """The solutions compute from numbers(): the instructor's source passes for any student id."""
    for student in ("alice", "bob", None):
        exercises.set_student(student)
        mine = exercises.numbers("03.torus_bisection")
        assert check("03.torus_bisection", 2 * mine["side"] ** 2 * mine["link_gb"] * 1e9, show=False).passed
    assert isinstance(_core.Numbers("x", {}, "", None), dict)
    assert np.isfinite(get("03.h100_line_rate_time").expected_for({"message_gb": 5, "n_devices": 2}))


def test_the_grade_command_takes_the_salt_and_can_turn_variants_off():
    import argparse

    from labkit import grading
    parser = argparse.ArgumentParser()
    grading.add_arguments(parser)
    args = parser.parse_args(["subs/", "--salt", "fall-2026", "--no-variants"])
    assert args.salt == "fall-2026" and args.no_variants
    args = parser.parse_args(["subs/"])
    assert args.salt is None and not args.no_variants
    with pytest.raises(TypeError, match="salt"):
        grading.grade(["subs/"], sandbox=False, salt=3)


def test_the_spares_default_is_erlang_b_by_hand():
    """05.spares_needed's default: the fewest spares with Erlang B(n, a) ≤ 1 %, a = a day / the 100,000-GPU MTBF."""
    a = 86400 / (54 * 24 * 3600 * 16_384 / 419 / 100_000)
    b, n = 1.0, 0
    while b > 0.01:
        n += 1
        b = a * b / (n + a * b)
    assert n == DEFAULTS["05.spares_needed"][1]


# The solution cells of solutions/04 and 05, as the notebooks write them (their own rounded constants), for
# every student: the instructor's source passes whatever the id (nbval checks one student per run).
SOLUTIONS = {
    "04.decode_utilization": lambda m: m["batch"] / (989e12 / 3.35e12),
    "04.kv_capacity": lambda m: (0.9 * m["memory_gb"] * 1e9 - 6.74e9 * 2) // (m["context_tokens"] * 524_288),
    "04.attention_share": lambda m: 12 * 126 * 16384 * m["seq_len"] / (6 * 405e9 + 12 * 126 * 16384 * m["seq_len"]),
    "05.young_llama3": lambda m: (2 * m["checkpoint_s"] * (54 * 24 / 419 * 3600)) ** 0.5 / 60,
}


def _fast_enough_solution(m):
    from labkit import faults as f
    cluster_m = f.llama3_mtbf()[0]
    deltas = np.linspace(1, 400, 8000)
    goodputs = f.expected_goodput(f.optimal_interval(deltas, cluster_m), deltas, m["restart_min"] * 60, cluster_m)
    return deltas[goodputs >= m["target"]].max()


def _spares_solution(m):
    from labkit import faults as f
    my_m = f.cluster_mtbf(f.llama3_mtbf()[1], m["n_devices"])
    n = 0
    while f.spare_shortfall(n, my_m, 86400) > m["shortfall"]:
        n += 1
    return n


SOLUTIONS.update({"05.fast_enough": _fast_enough_solution, "05.spares_needed": _spares_solution})


@pytest.mark.parametrize("exercise_id", sorted(SOLUTIONS))
def test_the_chapter_04_05_solutions_pass_for_every_variant(exercise_id):
    ex = get(exercise_id)
    for numbers, _ in ex._table():
        assert ex.grade(SOLUTIONS[exercise_id](numbers), numbers=numbers)[0] == PASSED, numbers


def test_the_numbers_command_prints_a_students_numbers(capsys, monkeypatch):
    from labkit.__main__ import main
    ex = get("04.kv_capacity")
    assert main(["numbers", "04.kv_capacity", "--student", "alice", "--salt", "s3cret"]) == 0
    out = capsys.readouterr().out
    mine = ex.numbers_for("alice", "s3cret")
    assert out.startswith("04.kv_capacity: " + ex.describe_numbers(mine)) and '"memory_gb": %d' % mine["memory_gb"] in out
    assert "answer" not in out
    monkeypatch.setenv("LABKIT_COURSE_SALT", "s3cret")               # the hub's salt is the default
    assert main(["numbers", "04.kv_capacity", "04.bubble", "--student", "Alice", "--answers"]) == 0
    captured = capsys.readouterr()
    lines = captured.out.splitlines()
    assert lines[0].startswith("04.kv_capacity: " + ex.describe_numbers(mine))
    assert lines[0].endswith(f"answer {ex.expected_for(mine):.6g}")
    assert lines[1] == "04.bubble: the same numbers for everyone, as the question states them"
    assert "no salt" not in captured.err
    monkeypatch.delenv("LABKIT_COURSE_SALT")
    assert main(["numbers", "--student", "bob"]) == 0                  # every exercise with variants
    captured = capsys.readouterr()
    listed = [line.split(":")[0] for line in captured.out.splitlines()]
    assert listed == [i for i in ids() if getattr(get(i), "variants", None)] and "no salt" in captured.err
    assert main(["numbers", "99.nope", "--student", "bob"]) == 2
    assert "99.nope" in capsys.readouterr().err
    assert main(["numbers", "04.kv_capacity", "--student", " "]) == 2
    with pytest.raises(SystemExit):                                     # the student id is required
        main(["numbers", "04.kv_capacity"])
