"""Per-user progress: quiz attempts and answers, exercise checks, hints, review boxes."""
from course.progress.store import (
    LessonSummary,
    ProgressStore,
    QuizScore,
    ReviewBox,
    StoreError,
    default_path,
    open_store,
    remove_store,
)

__all__ = [
    "LessonSummary",
    "ProgressStore",
    "QuizScore",
    "ReviewBox",
    "StoreError",
    "default_path",
    "open_store",
    "remove_store",
]
