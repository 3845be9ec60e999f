"""A course root: `course.yaml` (its manifest) and the loaded course.

The course's lessons may be given as a function that returns them: the course cache
(course.cache) hands them over unread, so a command that grades an exercise never builds
the lesson and quiz models.
"""
from pathlib import Path
from typing import TYPE_CHECKING, Any, Callable, ClassVar, Literal, Sequence, Union

from pydantic import Field

from course.model.base import CourseModel, FormatVersion, NonEmptyText

if TYPE_CHECKING:
    from course.model.exercises import Exercise
    from course.model.lessons import Lesson


class Manifest(CourseModel):
    """`course.yaml`: the course root's manifest (optional; without it the defaults apply)."""

    noun: ClassVar[str] = "course manifest"

    format_version: FormatVersion
    title: NonEmptyText = Field("LLM Fundamentals", description="The course's title, shown by `course lessons`.")
    edition: Literal["instructor", "student"] = Field(
        "instructor", description="`course release` writes `student`: exercises then hold `expected.npz` "
                                  "instead of `reference.py` and the known mistakes' code.")


class Course:
    """A loaded course root: its manifest, lessons (with quizzes) and exercises."""

    __slots__ = ("root", "manifest", "exercises", "_lessons")

    def __init__(self, root: Path, manifest: Manifest,
                 lessons: Union[Sequence["Lesson"], Callable[[], Sequence["Lesson"]]],
                 exercises: Sequence["Exercise"]) -> None:
        self.root = root
        self.manifest = manifest
        self.exercises: tuple["Exercise", ...] = tuple(exercises)
        self._lessons = lessons if callable(lessons) else tuple(lessons)

    @property
    def lessons(self) -> tuple["Lesson", ...]:
        """The lessons, by number (read on first use when the course came from the cache)."""
        if callable(self._lessons):
            self._lessons = tuple(self._lessons())
        return self._lessons

    @property
    def title(self) -> str:
        return self.manifest.title

    @property
    def edition(self) -> str:
        return self.manifest.edition

    def lesson(self, lesson_id: str) -> "Lesson | None":
        return next((lesson for lesson in self.lessons if lesson.id == lesson_id), None)

    def exercise(self, exercise_id: str) -> "Exercise | None":
        return next((e for e in self.exercises if e.id == exercise_id), None)

    def __repr__(self) -> str:
        lessons = "(not read yet)" if callable(self._lessons) else [lesson.id for lesson in self._lessons]
        return (f"Course(root={self.root!r}, title={self.title!r}, edition={self.edition!r}, lessons={lessons}, "
                f"exercises={[exercise.id for exercise in self.exercises]})")

    def __reduce__(self) -> Any:
        return (Course, (self.root, self.manifest, self.lessons, self.exercises))
