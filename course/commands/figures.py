"""Drawing a lesson's figures: `course figures LESSON --out DIR`."""
from __future__ import annotations

from pathlib import Path

import click

from course.commands.common import find_lesson, pass_state
from course.errors import UsageError

DEFAULT_OUT = "figures"


@click.command()
@click.argument("lesson_id", metavar="LESSON")
@click.option(
    "--out", "out_dir", metavar="DIR", default=DEFAULT_OUT, show_default=True,
    type=click.Path(file_okay=False), help="Folder for the image files (created if needed).",
)
@pass_state
def figures(state, lesson_id: str, out_dir: str) -> None:
    """Draw every figure of a lesson as PNG and SVG files (charts, heatmaps, the Graphviz diagram).

    Prints each file written, one per line. Notes (e.g. no Graphviz program found,
    so only the .dot source was written) go to stderr; the exit code is still 0.
    Set COURSE_GRAPHVIZ_DOT to choose the Graphviz program.
    """
    from course.plots.figures import render_lesson_figures

    lesson = find_lesson(state.course(), lesson_id)
    try:
        rendered = render_lesson_figures(lesson, Path(out_dir))
    except OSError as error:  # an unwritable folder, a full disk: exit 2 with the reason, not a traceback
        raise UsageError(f"cannot write the figures to {out_dir}: {error.strerror or error}") from error
    notes: dict[str, str] = {}
    for item in rendered:
        click.echo(str(item.path))
        if item.note:
            notes.setdefault(item.figure_id, item.note)
    for figure_id, note in notes.items():
        click.echo(f"{figure_id}: {note}", err=True)


COMMANDS = [figures]
