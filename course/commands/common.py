"""What every command shares: the chosen course root, loading it once, looking up ids."""
from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import click

from typing import TYPE_CHECKING

from course.errors import UsageError
from course.paths import resolve_root

if TYPE_CHECKING:  # importing the model costs ~30 ms: `course --help` does without
    from course.model import Course, Exercise, Lesson


@dataclass
class State:
    course_dir: str | None = None
    _course: Course | None = field(default=None, repr=False)

    @property
    def root(self) -> Path:
        return resolve_root(self.course_dir)

    def course(self) -> Course:
        """The course, loaded and validated once per command (ContentError → exit 2)."""
        if self._course is None:
            from course.loader import load_course

            self._course = load_course(self.root)
        return self._course


pass_state = click.make_pass_decorator(State)


def find_lesson(course: Course, lesson_id: str) -> Lesson:
    lesson = course.lesson(lesson_id)
    if lesson is None:
        lesson = next((l for l in course.lessons if str(l.number) == lesson_id), None)
    if lesson is None:
        known = ", ".join(l.id for l in course.lessons) or "none"
        raise UsageError(f"unknown lesson '{lesson_id}'; known lessons: {known}")
    return lesson


def find_exercise(course: Course, exercise_id: str) -> Exercise:
    exercise = course.exercise(exercise_id)
    if exercise is None:
        known = ", ".join(e.id for e in course.exercises) or "none"
        raise UsageError(f"unknown exercise '{exercise_id}'; known exercises: {known}")
    return exercise


def use_color(stream=None) -> bool:
    """Colour only on a terminal, and never when NO_COLOR is set (course.terminal decides)."""
    from course import terminal

    return terminal.color(stream)
