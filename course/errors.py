"""Outcomes that end a command early, as typed exceptions (the CLI maps them to exit 2)."""
from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Where:
    """A position in a course file: FILE relative to the course root, 1-based line and column.

    Defined here, not in course.model, so that reporting a position never imports the
    models (pydantic): `course --help` and the YAML reader do without them.
    """

    file: str
    line: int = 0
    column: int = 0

    def __str__(self) -> str:
        if self.line:
            return f"{self.file}:{self.line}:{self.column}"
        return self.file


@dataclass(frozen=True)
class Diagnostic:
    """One content problem, printed as `FILE:LINE:COL: message`."""

    where: Where
    message: str

    def __str__(self) -> str:
        return f"{self.where}: {self.message}"


def did_you_mean(word: object, options) -> str:
    """"; did you mean 'x'?" for the closest of `options`, or "" (every "unknown ..." message ends so)."""
    import difflib

    close = difflib.get_close_matches(str(word), [str(option) for option in options], n=1, cutoff=0.6)
    return f"; did you mean '{close[0]}'?" if close else ""


class CourseError(Exception):
    """Base class: a problem the user can fix; never shown as a traceback."""


class ContentError(CourseError):
    """The course's YAML (or an answers file) has problems; all of them are listed."""

    def __init__(self, diagnostics: list[Diagnostic]):
        self.diagnostics = list(diagnostics)
        super().__init__("\n".join(str(d) for d in self.diagnostics))


class UsageError(CourseError):
    """Bad command-line input: an unknown id, a missing file, a bad option value."""
