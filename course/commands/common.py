"""What every command shares: the chosen course root, loading it once, looking up ids."""
from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import click

from typing import TYPE_CHECKING

from course.errors import UsageError
from course import paths

if TYPE_CHECKING:  # importing the model costs ~30 ms: `course --help` does without
    from course.model import Course, Exercise, Lesson


@dataclass
class State:
    course_dir: str | None = None
    _course: Course | None = field(default=None, repr=False)
    _choice: paths.RootChoice | None = field(default=None, repr=False)

    @property
    def choice(self) -> paths.RootChoice:
        """The course root in use and how it was found (course.paths.choose_root)."""
        if self._choice is None:
            self._choice = paths.choose_root(self.course_dir)
            paths.set_active(self._choice)
        return self._choice

    @property
    def root(self) -> Path:
        return self.choice.path

    def set_course_dir(self, value: str | None) -> None:
        """`--course DIR` given after the subcommand (the same as before it)."""
        if value is None:
            return
        if self.course_dir is not None and Path(self.course_dir).resolve() != Path(value).resolve():
            raise click.UsageError(f"--course is given twice, as {self.course_dir} and as {value}: give it once")
        self.course_dir, self._choice, self._course = value, None, None

    def course(self) -> Course:
        """The course, loaded and validated once per command (ContentError → exit 2)."""
        if self._course is None:
            from course.loader import load_course

            self._course = load_course(self.root)
        return self._course


pass_state = click.make_pass_decorator(State)

COURSE_HELP = ("Course root to use (default: $COURSE_ROOT, else the nearest course.yaml above the working "
               "directory, else the built-in course).")


def course_option() -> click.Option:
    """`--course DIR` after the subcommand: `course check softmax --course X` as `course --course X check softmax`."""

    def remember(ctx: click.Context, param, value):
        if value is not None:
            ctx.ensure_object(State).set_course_dir(value)
        return value

    return click.Option(["--course"], metavar="DIR", type=click.Path(file_okay=False), expose_value=False,
                        callback=remember, help=COURSE_HELP)


def shown_command(words: str) -> str:
    """A command to print for the user to copy (with --course when it is needed here)."""
    return paths.command(words)


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
