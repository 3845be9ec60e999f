"""A lesson's figures as image files: `course figures` and the demo."""
from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from course.errors import UsageError

if TYPE_CHECKING:  # pragma: no cover
    from course.model import Lesson
    from course.plots.figures import RenderedFigure


def draw_figures(lesson: "Lesson", out_dir: Path | str) -> "list[RenderedFigure]":
    """Every figure of the lesson as PNG and SVG (the Graphviz diagram as its program allows) in out_dir.

    An unwritable folder or a full disk is a UsageError with the reason, not a traceback."""
    from course.plots.figures import render_lesson_figures

    try:
        return render_lesson_figures(lesson, Path(out_dir))
    except OSError as error:
        raise UsageError(f"cannot write the figures to {out_dir}: {error.strerror or error}") from error


def figure_notes(rendered: "list[RenderedFigure]") -> dict[str, str]:
    """figure id -> the first note about it (e.g. no Graphviz program: only the .dot source)."""
    notes: dict[str, str] = {}
    for item in rendered:
        if item.note:
            notes.setdefault(item.figure_id, item.note)
    return notes
