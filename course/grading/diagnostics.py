"""What a failed public case's numbers say, beyond "got X, expected Y": per exercise.

Known mistakes (course.grading.compare.match_mistakes) name failures that a declared
wrong implementation reproduces. Some failures are better read from the numbers
themselves: a parameter count that is off by exactly the size of one LayerNorm, of the
biases, or of an embedding table. `explain` adds such a reading to the case's message.

Public cases only, always: a hidden case's message is the constant of
course.grading.checks, and nothing computed from its inputs or from what the
submission returned on them may reach the student (check.py calls `explain` for
public cases alone).

The reading itself belongs to the exercise: its feedback.py's `explain` hook
(course.grading.hooks), so the engine knows no exercise's name; an exercise without
one gets nothing.
"""
from __future__ import annotations

from typing import Any, Mapping


def explain(exercise, args: tuple, kwargs: Mapping[str, Any], expected: Any, value: Any) -> str:
    """A reading of a failed PUBLIC case's output (never call it for a hidden case); '' when none.

    The exercise's own `explain` hook (course.grading.hooks).
    """
    from course.grading.hooks import hook

    explainer = hook(exercise, "explain")
    if explainer is None or value is None:
        return ""
    try:
        import numpy as np

        array = np.asarray(value)
        if array.size != 1:
            return ""
        return explainer(tuple(args), kwargs, np.asarray(expected).reshape(()).item(), array.reshape(()).item())
    except Exception:  # a reading is an extra: it must never cost a grade
        return ""
