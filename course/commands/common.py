"""What every command shares: the chosen course root, loading it once, looking up ids."""
from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import click

from typing import TYPE_CHECKING

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
            from course.services.courses import load

            self._course = load(self.root)
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
    """The lesson by id or number (course.services.courses: the one lookup)."""
    from course.services.courses import find_lesson as lookup

    return lookup(course, lesson_id)


def find_exercise(course: Course, exercise_id: str) -> Exercise:
    """The exercise by id (course.services.courses: the one lookup)."""
    from course.services.courses import find_exercise as lookup

    return lookup(course, exercise_id)


def use_color(stream=None) -> bool:
    """Colour only on a terminal, and never when NO_COLOR is set (course.terminal decides)."""
    from course import terminal

    return terminal.color(stream)
