"""Outcomes that end a command early, as typed exceptions (the CLI maps them to exit 2)."""
from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:  # model.py costs ~30 ms of dataclass set-up: not for `course --help`
    from course.model import Where


@dataclass(frozen=True)
class Diagnostic:
    """One content problem, printed as `FILE:LINE:COL: message`."""

    where: Where
    message: str

    def __str__(self) -> str:
        return f"{self.where}: {self.message}"


class CourseError(Exception):
    """Base class: a problem the user can fix; never shown as a traceback."""


class ContentError(CourseError):
    """The course's YAML (or an answers file) has problems; all of them are listed."""

    def __init__(self, diagnostics: list[Diagnostic]):
        self.diagnostics = list(diagnostics)
        super().__init__("\n".join(str(d) for d in self.diagnostics))


class UsageError(CourseError):
    """Bad command-line input: an unknown id, a missing file, a bad option value."""
