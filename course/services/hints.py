"""An exercise's hints: `course hint` and `course.hint()` in a notebook."""
from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:  # pragma: no cover
    from course.hints import Hints
    from course.model import Course


def take_hint(course: "Course", exercise_id: str, number: int | None = None) -> "Hints":
    """The next hint of an exercise, or hint `number` (1-based), recorded as seen in the progress
    store when it can be opened (course.hints.take_hints)."""
    from course.hints import take_hints
    from course.services.courses import find_exercise
    from course.services.progress import open_progress

    exercise = find_exercise(course, exercise_id)
    store = open_progress()
    try:
        return take_hints(exercise, store, number)
    finally:
        if store is not None:
            store.close()
