"""The course in use, and the one lookup of an exercise or a lesson by its id.

Every front end says "unknown exercise 'x'; known exercises: ..." the same way,
because every front end comes here.
"""
from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from course.errors import UsageError

if TYPE_CHECKING:  # importing the models costs ~30 ms: `course --help` does without
    from course.model import Course, Exercise, Lesson


def open_course(course_dir: str | None = None) -> "Course":
    """The course at --course DIR, else $COURSE_ROOT, else the nearest course.yaml, else the built-in one
    (course.paths); loaded and validated (ContentError when it has mistakes)."""
    from course.paths import resolve_root

    return load(resolve_root(course_dir))


def load(root: Path) -> "Course":
    """The course at `root`, loaded and validated once (from the cache when it has not changed)."""
    from course.loader import load_course

    return load_course(root)


def find_exercise(course: "Course", exercise_id: str) -> "Exercise":
    """The exercise with this id; UsageError naming the known ones otherwise."""
    exercise = course.exercise(exercise_id)
    if exercise is None:
        known = ", ".join(e.id for e in course.exercises) or "none"
        raise UsageError(f"unknown exercise '{exercise_id}'; known exercises: {known}")
    return exercise


def find_lesson(course: "Course", lesson_id: str) -> "Lesson":
    """The lesson with this id, or with this number ("3"); UsageError naming the known ones otherwise."""
    lesson = course.lesson(lesson_id)
    if lesson is None:
        lesson = next((each for each in course.lessons if str(each.number) == str(lesson_id)), None)
    if lesson is None:
        known = ", ".join(each.id for each in course.lessons) or "none"
        raise UsageError(f"unknown lesson '{lesson_id}'; known lessons: {known}")
    return lesson


def find_quiz(course: "Course", lesson_id: str) -> "Lesson":
    """The lesson, which must have a quiz."""
    lesson = find_lesson(course, lesson_id)
    if lesson.quiz is None:
        raise UsageError(f"lesson '{lesson.id}' has no quiz")
    return lesson


def lesson_lines(course: "Course") -> list[tuple[str, str]]:
    """What `course lessons` lists: (lesson id, "Lesson N: title  (S sections, Q quiz questions[, progress])")."""
    from course.services.progress import lesson_progress

    lines = []
    for lesson in course.lessons:
        questions = len(lesson.quiz.questions) if lesson.quiz else 0
        progress = lesson_progress(lesson.id)
        line = f"Lesson {lesson.number}: {lesson.title}  ({len(lesson.sections)} sections, {questions} quiz questions"
        line += f", {progress})" if progress else ")"
        lines.append((lesson.id, line))
    return lines
