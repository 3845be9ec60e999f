"""Spaced review with Leitner boxes, across lessons.

A question enters review the first time it is missed (wrong, partly right or
skipped) and goes to box 1, due at once. Answered right, it moves up a box and
comes back after that box's interval; missed again, it drops back to box 1. A
question answered right the first time never enters review. The boxes live in
the progress store; which questions exist comes from the loaded course, so a
question removed from the course quietly leaves review.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from course.model import Course, Lesson, Question
from course.progress.store import ProgressStore

# Days until a question in box N is due again.
INTERVALS_DAYS = {1: 0, 2: 1, 3: 3, 4: 7, 5: 21}
TOP_BOX = max(INTERVALS_DAYS)


@dataclass(frozen=True)
class DueQuestion:
    lesson: Lesson
    question: Question
    box: int
    due_at: datetime


def next_box(box: int | None, correct: bool) -> int | None:
    """The box after an answer: None means "not in review" (answered right, never missed)."""
    if not correct:
        return 1
    if box is None:
        return None
    return min(box + 1, TOP_BOX)


def record_outcome(store: ProgressStore, lesson: str, question_id: str, correct: bool, now: datetime) -> int | None:
    """Move the question to its next box; returns the new box (None: not in review)."""
    with store.transaction():
        current = store.review_box(lesson, question_id)
        box = next_box(current.box if current else None, correct)
        if box is not None:
            store.set_review_box(lesson, question_id, box, now + timedelta(days=INTERVALS_DAYS[box]))
    return box


def _find(course: Course, lesson_id: str, question_id: str) -> tuple[Lesson, Question] | None:
    lesson = course.lesson(lesson_id)
    question = lesson.quiz.question(question_id) if lesson and lesson.quiz else None
    return (lesson, question) if question else None


def due_questions(store: ProgressStore, course: Course, now: datetime, max_n: int | None = None) -> list[DueQuestion]:
    """Questions due at `now`, most overdue first (lowest box first among equals)."""
    due: list[DueQuestion] = []
    for entry in store.review_boxes():
        found = _find(course, entry.lesson, entry.question_id)
        if entry.due_at > now or found is None:
            continue
        due.append(DueQuestion(found[0], found[1], entry.box, entry.due_at))
        if max_n is not None and len(due) >= max_n:
            break
    return due


def next_due(store: ProgressStore, course: Course, now: datetime) -> datetime | None:
    """When the next question comes due, for "nothing to review until ..." messages."""
    return min(
        (b.due_at for b in store.review_boxes() if b.due_at > now and _find(course, b.lesson, b.question_id)),
        default=None,
    )
