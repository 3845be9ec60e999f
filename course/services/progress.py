"""The student's progress store, opened the forgiving way the front ends want it.

Grading, hints and listings go on without progress when the store cannot be used:
these functions say None, {} or "" then, and the front end decides whether to warn.
"""
from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:  # pragma: no cover
    from course.progress.store import ProgressStore
    from course.status import Status


def open_progress() -> "ProgressStore | None":
    """The student's progress store, or None when it cannot be opened (grading goes on)."""
    try:
        from course.progress.store import open_store

        return open_store()
    except Exception:
        return None


def lesson_progress(lesson_id: str) -> str:
    """'best 80%, last 70%' once the student has taken the quiz; '' otherwise (or without a store).

    Never creates the progress file: listing lessons must not leave state behind."""
    try:
        from course.progress.store import existing_store_summary

        return existing_store_summary(lesson_id) or ""
    except Exception:  # progress is a nicety here: a broken store must not stop listing lessons
        return ""


def exercise_statuses(ids: list[str]) -> "dict[str, Status]":
    """Each exercise's status from the store ({} when there is no usable store); never creates the file."""
    from course.status import Status

    try:
        from course.progress.store import default_path, open_store

        if not default_path().exists():
            return {i: Status.NOT_STARTED for i in ids}
        with open_store() as store:
            return {i: store.exercise_status(i) for i in ids}
    except Exception:  # listing must work without progress
        return {}


def remember_start(exercise_id: str, path: Path, *, adopted: bool = False) -> None:
    """Record the student's own file (written by `course start` or adopted), so that `course check
    EXERCISE` finds it and its checks set the exercise's status. Raises what the store raises."""
    from course.progress.store import open_store

    with open_store() as store:
        store.record_start(exercise_id, path, adopted=adopted)


def started_path(exercise_id: str) -> Path | None:
    """The student's own file for the exercise (None without a usable store)."""
    try:
        from course.progress.store import default_path, open_store

        if not default_path().exists():
            return None
        with open_store() as store:
            return store.started_path(exercise_id)
    except Exception:
        return None
