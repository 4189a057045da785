"""Checked exercises: ``check``, ``hint``, ``progress`` and the registry behind them.

Each chapter's exercises live in ``labkit/exercises/chNN_<name>.py`` and are registered on first
use, so checks work wherever labkit is installed (Colab, Binder) with no tests folder.
"""

from ._base import FAILED, NOT_ATTEMPTED, PASSED
from ._core import (CheckResult, ChoiceExercise, CustomExercise, Exercise, FunctionExercise, ValueExercise, check,
                    current_student, get, hint, ids, numbers, register, set_student)
from ._diagnose import Mistake
from ._progress import Progress, progress, reset

__all__ = ["check", "hint", "progress", "ids", "get", "register", "reset", "CheckResult", "Progress",
           "Exercise", "ValueExercise", "FunctionExercise", "ChoiceExercise", "CustomExercise",
           "Mistake", "PASSED", "FAILED", "NOT_ATTEMPTED", "numbers", "set_student", "current_student"]
