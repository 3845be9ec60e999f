"""The `course` command: a thin layer over the Python API.

Each command parses its options, calls one API function with keyword arguments
and formats the result. Command modules live in course/commands/ and must not
import numpy or matplotlib at module level: `course --help` imports them all.
"""
from __future__ import annotations

import click

from course import __version__
from course.commands import common
from course.errors import ContentError, CourseError


class CourseGroup(click.Group):
    """Maps the project's typed errors to exit code 2 with a clear message, never a traceback."""

    def invoke(self, ctx: click.Context):
        try:
            return super().invoke(ctx)
        except ContentError as error:
            for diagnostic in error.diagnostics:
                click.echo(str(diagnostic), err=True)
            count = len(error.diagnostics)
            click.echo(f"{count} error{'s' if count != 1 else ''}", err=True)
            ctx.exit(2)
        except CourseError as error:
            click.echo(f"error: {error}", err=True)
            ctx.exit(2)
        except KeyboardInterrupt:
            click.echo("\ninterrupted", err=True)
            ctx.exit(130)


@click.group(cls=CourseGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.option(
    "--course",
    "course_dir",
    metavar="DIR",
    type=click.Path(file_okay=False),
    help=common.COURSE_HELP,
)
@click.version_option(__version__, prog_name="course")
@click.pass_context
def cli(ctx: click.Context, course_dir: str | None) -> None:
    """Lesson 3 of an LLM fundamentals course: read, take quizzes, solve and check exercises.

    \b
    Students:     lessons, read, quiz, review, exercises, start, hint, check, progress
    Instructors:  validate, verify, release, grade, merge, autograder, export, figures
    Everyone:     demo (the whole journey, non-interactively)

    The course root is --course DIR (before or after the command), else
    $COURSE_ROOT, else the nearest course.yaml above the working directory
    (as git finds a repository), else the built-in course.

    Exit codes: 0 success, 1 graded and something failed, 2 usage or content error,
    3 could not grade (the grader failed: run again), 130 interrupted.
    """
    ctx.obj = common.State(course_dir=course_dir)


def _register() -> None:
    from course.commands import content as content_commands
    from course.commands import exercises as exercise_commands
    from course.commands import figures as figures_commands
    from course.commands import instructor as instructor_commands
    from course.commands import quiz as quiz_commands

    for module in (content_commands, quiz_commands, exercise_commands, figures_commands, instructor_commands):
        for command in module.COMMANDS:
            command.params.append(common.course_option())  # --course after the subcommand too
            cli.add_command(command)


_register()


# One BLAS thread unless the user says otherwise: the engine's own arrays are small and its
# parallel work is processes (the workers of grade and verify, the sandboxes). OpenBLAS otherwise
# starts a thread per CPU when numpy is imported: ~80 ms of a `course check` on 2 CPUs, and
# spinning threads that compete with the sandboxes. Set before anything imports numpy.
SINGLE_THREADED_BLAS = ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS")


def main() -> None:
    import os

    for name in SINGLE_THREADED_BLAS:
        os.environ.setdefault(name, "1")
    try:
        cli(prog_name="course")
    finally:
        # The process ends here. Its long-lived objects (the models' classes, numpy, the course)
        # need no last garbage collection: freezing them spares interpreter shutdown walking
        # them all (tens of milliseconds, more than a `course check` otherwise spends on them).
        import gc

        gc.freeze()


if __name__ == "__main__":  # pragma: no cover
    main()
