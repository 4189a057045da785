"""The exercise system: every registered exercise, and check/hint/progress themselves."""

import itertools
import math
import time

import numpy as np
import pytest

import labkit
from labkit import check, hint, progress
from labkit.exercises import (FAILED, NOT_ATTEMPTED, PASSED, ChoiceExercise, CustomExercise,
                              FunctionExercise, ValueExercise, get, ids, reset)

ALL = ids()


@pytest.fixture(autouse=True)
def _fresh(monkeypatch):
    monkeypatch.delenv("JUPYTERHUB_USER", raising=False)     # the default numbers of variant exercises
    reset()
    yield
    reset()


def _replay(ex, fn):
    """An answer that gives fn's outputs on the check's inputs, in order, computed here beforehand: the
    check refuses an answer that calls the reference or a function the exercise teaches (own work only)."""
    outputs = [fn(*case.values()) for case in ex.inputs()]
    calls = itertools.count()   # each check runs the answer in a fresh child process, from zero
    return lambda *args: outputs[next(calls)]


def _passing_answer(ex):
    if isinstance(ex, FunctionExercise):
        return _replay(ex, ex.reference)
    if isinstance(ex, ValueExercise):
        return ex.expected
    if isinstance(ex, ChoiceExercise):
        return ex.answer
    if isinstance(ex, CustomExercise):
        return ex.example
    raise AssertionError(f"unknown exercise kind {type(ex)}")


def _constant_answers(ex):
    if isinstance(ex, FunctionExercise):
        first = ex.inputs()[len(ex.edge_cases)]  # a random case's reference output, hard-coded
        value = ex.reference(*first.values())
        return [lambda *args, v=value: v, lambda *args: 0.0, lambda *args: 1.0]
    if isinstance(ex, ValueExercise):
        return [0.0, 1.0, 42.0, ex.expected * 1.5]
    if isinstance(ex, ChoiceExercise):
        return [k for k in ex.choices if k != ex.answer]
    return [ex.constant]


def test_registry_covers_each_chapter_with_enough_exercises():
    assert len(ALL) == len(set(ALL))
    chapters = {get(i).chapter for i in ALL}
    assert "00" in chapters
    for ch in chapters - {"00"}:
        assert len(ids(ch)) >= 5, f"chapter {ch} has fewer than 5 exercises"


@pytest.mark.parametrize("exercise_id", ALL)
def test_reference_passes(exercise_id):
    ex = get(exercise_id)
    result = check(exercise_id, _passing_answer(ex), show=False)
    assert result.passed, result.message
    assert result and result.status == PASSED


@pytest.mark.parametrize("exercise_id", ALL)
def test_constant_answer_is_rejected(exercise_id):
    for answer in _constant_answers(get(exercise_id)):
        result = check(exercise_id, answer, show=False)
        assert not result and result.status == FAILED, (answer, result.message)


@pytest.mark.parametrize("exercise_id", ALL)
def test_unfinished_answer_is_not_attempted(exercise_id):
    assert check(exercise_id, ..., show=False).status == NOT_ATTEMPTED
    if isinstance(get(exercise_id), FunctionExercise):
        def unfinished(*args):
            raise NotImplementedError()
        assert check(exercise_id, unfinished, show=False).status == NOT_ATTEMPTED


@pytest.mark.parametrize("exercise_id", ALL)
def test_hints_are_progressive(exercise_id, capsys):
    ex = get(exercise_id)
    assert len(ex.hints) >= 2
    for k in range(len(ex.hints) + 1):
        hint(exercise_id)
    out = capsys.readouterr().out
    assert f"Hint 1 of {len(ex.hints)}" in out and "last hint" in out


@pytest.mark.parametrize("exercise_id", [i for i in ALL if get(i).mistakes])
def test_each_mistake_is_diagnosed(exercise_id):
    """A learner making exactly that mistake gets that mistake's message."""
    ex = get(exercise_id)
    for m in ex.mistakes:
        if isinstance(ex, FunctionExercise):
            if m.fn is not None:
                answer = _replay(ex, m.fn)
            else:
                answer = _replay(ex, lambda *a, f=m.factor: np.asarray(ex.reference(*a), dtype=float) * f)
        else:
            answer = m.wrong_value if m.value is not None else ex.expected * m.factor
        result = check(exercise_id, answer, show=False)
        assert result.status == FAILED
        assert m.message in result.message, (m.message, result.message)


# --- check() never raises, whatever the answer ------------------------------------------------
def _raises(*a):
    raise RuntimeError("boom")


def _nan(*a):
    return float("nan")


def _string(*a):
    return "forty-two"


def _no_return(*a):
    pass


@pytest.mark.parametrize("answer", [None, "a string", 3 + 4j, [1, 2, 3], {"a": 1}, float("nan"), math.inf,
                                    _raises, _nan, _string, _no_return, print, object()])
@pytest.mark.parametrize("exercise_id", ["00.hbm_bytes", "00.gb_to_gib", "00.gb_or_gib"])
def test_check_never_raises(exercise_id, answer):
    result = check(exercise_id, answer, show=False)
    assert result.status in (FAILED, NOT_ATTEMPTED)
    assert isinstance(result.message, str) and result.message
    assert not result


def test_slow_function_is_stopped():
    def forever(n_gb):
        while True:
            pass
    start = time.perf_counter()
    result = check("00.gb_to_gib", forever, show=False)
    assert time.perf_counter() - start < 5
    assert result.status == FAILED and "longer than" in result.message


def test_specific_messages():
    assert "forget `return`" in check("00.gb_to_gib", _no_return, show=False).message
    assert "NaN" in check("00.gb_to_gib", _nan, show=False).message
    assert "RuntimeError" in check("00.gb_to_gib", _raises, show=False).message
    assert "hard-coded" in check("00.gb_to_gib", lambda n: 74.5, show=False).message
    assert "bits" in check("00.hbm_bytes", 80e9 * 8, show=False).message
    assert "10^3" in check("00.days_to_train", lambda f, r: f / r / 86.4, show=False).message
    assert "sign" in check("00.gb_to_gib", lambda n: -n * 1e9 / 2**30, show=False).message


def test_unknown_id_lists_the_chapter():
    result = check("00.nope", 1, show=False)
    assert result.status == FAILED and "00.hbm_bytes" in result.message
    assert "Known ids" in check("zz", 1, show=False).message
    assert "strings" in check(42, 1, show=False).message


def test_ids_narrow_by_chapter():
    assert ids(0) == ids("00") == [i for i in ALL if i.startswith("00.")]
    with pytest.raises(ValueError):
        ids("zero")


def test_progress_tracks_this_kernel():
    check("00.hbm_bytes", 80e9, show=False)
    check("00.gb_or_gib", "gb", show=False)
    p = progress()
    assert p.chapters["00"]["00.hbm_bytes"] == PASSED
    assert p.chapters["00"]["00.gb_or_gib"] == FAILED
    assert p.chapters["00"]["00.gb_to_gib"] == NOT_ATTEMPTED
    assert p.counts("00")[PASSED] == 1
    assert "Chapter 00: 1/4 passed" in str(p) and "<table" in p._repr_html_()
    assert set(progress(0).chapters) == {"00"}


def test_check_shows_its_result(capsys):
    r = check("00.hbm_bytes", 80e9)
    assert capsys.readouterr().out.startswith("✅ 00.hbm_bytes")
    assert "labkit-passed" in r._repr_html_()


def test_exercise_definitions_are_validated():
    with pytest.raises(ValueError, match="two hints"):
        ValueExercise("99.x", "x", expected=1, hints=["only one"])
    with pytest.raises(ValueError, match="NN.name"):
        ValueExercise("nodot", "x", expected=1, hints=["a", "b"])


def test_top_level_api():
    assert labkit.check is check and labkit.hint is hint and labkit.progress is progress


def test_check_loads_only_its_chapter_and_ids_stay_in_order():
    import subprocess
    import sys
    code = ("import sys, labkit; labkit.check('01.matmul_flops', None, show=False); "
            "print(sorted(m for m in sys.modules if m.startswith('labkit.exercises.ch'))); "
            "ids = labkit.exercises.ids(); print(ids == sorted(ids, key=lambda i: i[:2]))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout.split("\n")
    assert out[0] == "['labkit.exercises.ch01_cpu_era']"
    assert out[1] == "True"
