"""Checked exercises: ``check``, ``hint``, ``progress`` and the registry behind them.

Each chapter's exercises live in ``labkit/exercises/chNN_<name>.py`` and are registered on first
use, so checks work wherever labkit is installed (Colab, Binder) with no tests folder.
"""

from ._core import (FAILED, NOT_ATTEMPTED, PASSED, CheckResult, ChoiceExercise, CustomExercise,
                    Exercise, FunctionExercise, Mistake, Progress, ValueExercise, check, get, hint,
                    ids, progress, register, reset)

__all__ = ["check", "hint", "progress", "ids", "get", "register", "reset", "CheckResult", "Progress",
           "Exercise", "ValueExercise", "FunctionExercise", "ChoiceExercise", "CustomExercise",
           "Mistake", "PASSED", "FAILED", "NOT_ATTEMPTED"]
