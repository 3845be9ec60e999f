"""Reading the course: `course lessons`, `course read`, `course validate`, `course schema`."""
from __future__ import annotations

import sys
from pathlib import Path

import click

from course.commands.common import find_lesson, pass_state, use_color

MAX_READING_WIDTH = 100  # prose is hard to read in longer lines


@click.command()
@pass_state
def lessons(state) -> None:
    """List the lessons: id, title and your quiz progress."""
    from course import terminal

    from course.services.courses import lesson_lines

    parts = [terminal.labelled(f"{lesson_id}  ", line) for lesson_id, line in lesson_lines(state.course())]
    click.echo(terminal.render(parts, width=terminal.columns()), nl=False)


@click.command()
@click.argument("lesson_id", metavar="LESSON")
@click.option("--width", type=click.IntRange(40, 200), default=None,
              help="Columns (default: $COLUMNS, else the terminal's; at most 100; 80 when piped).")
@click.option("--pager/--no-pager", default=None,
              help="Show through a pager ($PAGER, else less). Default: on a terminal, yes.")
@pass_state
def read(state, lesson_id: str, width: int | None, pager: bool | None) -> None:
    """Read a lesson in the terminal (through a pager on a terminal)."""
    from course import terminal
    from course.reading import render_lesson

    lesson = find_lesson(state.course(), lesson_id)
    color = use_color()
    if width is None:
        width = min(terminal.columns(), MAX_READING_WIDTH)
    text = render_lesson(lesson, width=width, color=color)
    if pager is None:
        pager = sys.stdout.isatty() and sys.stdin.isatty()
    if pager:
        click.echo_via_pager(text, color=color)
    else:
        click.echo(text, nl=False, color=color)


@click.command()
@click.argument("directory", metavar="[DIR]", required=False, type=click.Path(file_okay=False))
@pass_state
def validate(state, directory: str | None) -> None:
    """Check every content file; print each problem as FILE:LINE:COL: message."""
    from course.loader import load_course, validate_course

    if directory:
        from course.paths import RootChoice

        choice = RootChoice(Path(directory).resolve(), "--course", directory)
        click.echo(f"course root: {choice.path} (given to validate)")
    else:
        choice = state.choice
        click.echo(choice.describe())
    root = choice.path
    diagnostics = validate_course(root)
    if diagnostics:
        for diagnostic in diagnostics:
            click.echo(str(diagnostic))
        click.echo(f"{len(diagnostics)} error{'s' if len(diagnostics) != 1 else ''} in {root}", err=True)
        sys.exit(2)
    course = load_course(root)
    questions = sum(len(lesson.quiz.questions) for lesson in course.lessons if lesson.quiz)
    cases = sum(len(e.cases) for e in course.exercises)
    click.echo(
        f"ok: {root}: {len(course.lessons)} lesson(s), {questions} quiz question(s), "
        f"{len(course.exercises)} exercise(s) with {cases} case(s)"
    )


@click.command("export")
@click.argument("lesson_id", metavar="LESSON")
@click.option("--format", "fmt", type=click.Choice(["qti", "moodle"]), required=True,
              help="qti: a QTI 1.2 zip for Canvas; moodle: Moodle XML.")
@click.option("--out", "out", metavar="FILE", required=True, type=click.Path(dir_okay=False),
              help="The file to write (a .zip for qti, an .xml for moodle).")
@click.option("--variants", type=click.IntRange(1, 50), default=5, show_default=True,
              help="Fixed variants for each question with seeded parameters (one is shown to each student).")
@pass_state
def export(state, lesson_id: str, fmt: str, out: str, variants: int) -> None:
    """Export a lesson's quiz for Canvas (QTI 1.2) or Moodle (XML).

    \b
    Each question becomes the nearest kind the system has; a question with seeded
    parameters becomes a group of N fixed variants. Whatever cannot be exported is
    listed below with the reason, never left out silently.
    """
    from course.export import export_lesson

    lesson = find_lesson(state.course(), lesson_id)
    report = export_lesson(lesson, fmt, Path(out), variants=variants)
    click.echo(f"{len(report.exported)} question(s) of {lesson.id} written to {report.out} "
               f"({'Canvas QTI 1.2' if fmt == 'qti' else 'Moodle XML'}):")
    for question_id, how in report.exported.items():
        click.echo(f"  {question_id}: {how}")
    for note in report.notes:
        click.echo(f"note: {note}")
    for question_id, reason in report.skipped:
        click.echo(f"not exported: {question_id}: {reason}")
    if report.skipped:
        click.echo(f"{len(report.skipped)} question(s) not exported (see above)")


@click.command()
@click.option("--out", "out_dir", metavar="DIR", required=True, type=click.Path(file_okay=False),
              help="Folder for the schema files (created if missing).")
def schema(out_dir: str) -> None:
    """Write the JSON Schemas of course.yaml, lesson, quiz and exercise files to DIR.

    \b
    For editors: a YAML file whose first line is
      # yaml-language-server: $schema=<path to DIR>/lesson.schema.json
    gets completion, hover help and checks in VS Code's YAML extension. The schemas
    are generated from the same models `course validate` checks with (the course's own
    files point at copies shipped with the engine).
    """
    from course.errors import UsageError
    from course.schema import write_schemas

    try:
        written = write_schemas(Path(out_dir))
    except OSError as error:
        raise UsageError(f"cannot write the schemas to {out_dir}: {error.strerror or error}") from None
    for path in written:
        click.echo(str(path))


COMMANDS = [lessons, read, validate, export, schema]
