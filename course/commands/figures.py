"""Drawing a lesson's figures: `course figures LESSON --out DIR`."""
from __future__ import annotations

import click

from course.commands.common import find_lesson, pass_state

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
    from course.services.figures import draw_figures, figure_notes

    rendered = draw_figures(find_lesson(state.course(), lesson_id), out_dir)
    for item in rendered:
        click.echo(str(item.path))
    for figure_id, note in figure_notes(rendered).items():
        click.echo(f"{figure_id}: {note}", err=True)


COMMANDS = [figures]
