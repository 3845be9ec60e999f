"""Reading the course: `course lessons`, `course read`, `course validate`, `course schema`."""
from __future__ import annotations

import shutil
import sys
from pathlib import Path

import click

from course.commands.common import find_lesson, pass_state, use_color


def _lesson_progress(lesson_id: str) -> str:
    """'best 80%, last 70%' once the student has taken the quiz; '' otherwise (or without a store)."""
    try:
        from course.progress.store import existing_store_summary
    except ImportError:
        return ""
    try:
        summary = existing_store_summary(lesson_id)
    except Exception:  # progress is a nicety here: a broken store must not stop listing lessons
        return ""
    return summary or ""


@click.command()
@pass_state
def lessons(state) -> None:
    """List the lessons: id, title and your quiz progress."""
    course = state.course()
    for lesson in course.lessons:
        questions = len(lesson.quiz.questions) if lesson.quiz else 0
        progress = _lesson_progress(lesson.id)
        line = f"{lesson.id}  Lesson {lesson.number}: {lesson.title}  ({len(lesson.sections)} sections, {questions} quiz questions"
        line += f", {progress})" if progress else ")"
        click.echo(line)


@click.command()
@click.argument("lesson_id", metavar="LESSON")
@click.option("--width", type=click.IntRange(40, 200), default=None, help="Columns (default: the terminal's, at most 100; 80 when piped).")
@click.option("--pager/--no-pager", default=False, help="Show through a pager ($PAGER).")
@pass_state
def read(state, lesson_id: str, width: int | None, pager: bool) -> None:
    """Read a lesson in the terminal."""
    from course.reading import render_lesson

    lesson = find_lesson(state.course(), lesson_id)
    color = use_color()
    if width is None:
        width = min(shutil.get_terminal_size((80, 24)).columns, 100) if sys.stdout.isatty() else 80
    text = render_lesson(lesson, width=width, color=color)
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

    root = Path(directory).resolve() if directory else state.root
    diagnostics = validate_course(root)
    if diagnostics:
        for diagnostic in diagnostics:
            click.echo(str(diagnostic))
        click.echo(f"{len(diagnostics)} error{'s' if len(diagnostics) != 1 else ''} in {root}", err=True)
        sys.exit(2)
    course = load_course(root)
    questions = sum(len(l.quiz.questions) for l in course.lessons if l.quiz)
    cases = sum(len(e.cases) for e in course.exercises)
    click.echo(
        f"ok: {root}: {len(course.lessons)} lesson(s), {questions} quiz question(s), "
        f"{len(course.exercises)} exercise(s) with {cases} case(s)"
    )


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


COMMANDS = [lessons, read, validate, schema]
