"""The student's exercise loop: `course exercises`, `start`, `hint`, `check [--watch]`.

Thin commands: grading is course.grading.check.check_exercise, reports are
course.reports.*, per-user state is the progress store. numpy is imported only by
the grading path, inside the functions (`course --help` must stay light).
"""
from __future__ import annotations

import os
import shlex
import sys
import time
from pathlib import Path

import click

from course.commands.common import find_exercise, pass_state, shown_command, use_color
from course.errors import UsageError
from course.reports import FORMATS

POLL_SECONDS = 0.5


# --------------------------------------------------------------------------- course exercises


@click.command()
@pass_state
def exercises(state) -> None:
    """List the exercises: id, title and your status."""
    course = state.course()
    statuses = _statuses([e.id for e in course.exercises])
    for exercise in course.exercises:
        status = statuses.get(exercise.id, "")
        public = sum(1 for c in exercise.cases if c.visibility == "public")
        cases = f"{len(exercise.cases)} cases" + (f", {public} public" if public != len(exercise.cases) else "")
        line = f"{exercise.id}  {exercise.title}  ({cases})"
        click.echo(line + (f"  [{status}]" if status else ""))


def _statuses(ids: list[str]) -> dict[str, str]:
    """Status per exercise from the progress store; {} when there is no usable store."""
    try:
        from course.progress.store import default_path, open_store

        if not default_path().exists():
            return {i: "not started" for i in ids}
        with open_store() as store:
            return {i: store.exercise_status(i) for i in ids}
    except Exception:  # listing must work without progress
        return {}


# --------------------------------------------------------------------------- course start


@click.command()
@click.argument("exercise_id", metavar="EXERCISE")
@click.option("--dir", "directory", metavar="DIR", default=".", type=click.Path(file_okay=False),
              help="Folder to write EXERCISE.py in (default: the current folder).")
@click.option("--force", is_flag=True, help="Replace an existing file with the starter (your work is lost).")
@pass_state
def start(state, exercise_id: str, directory: str, force: bool) -> None:
    """Write the starter file for EXERCISE and show its instructions."""
    from course.reading import Style

    exercise = find_exercise(state.course(), exercise_id)
    path = write_starter(exercise, Path(directory), force=force)
    remember_start(exercise.id, path)
    color = use_color()
    style = Style(color)
    click.echo(style(exercise.title, bold=True, fg="cyan"), color=color)
    click.echo(style("=" * len(exercise.title), fg="cyan"), color=color)
    click.echo(f"Write {exercise.signature}\n")
    click.echo("\n".join(render_instructions(exercise.instructions, 80, style)), color=color)
    click.echo("")
    click.echo(style("Your file: ", bold=True) + str(path), color=color)
    where = "" if _is_default_place(exercise.id, path) else " " + shlex.quote(str(path))
    click.echo(f"Check it:  {shown_command('check ' + exercise.id + where)}")
    click.echo(f"Stuck?     {shown_command('hint ' + exercise.id)}")


def render_instructions(text: str, width: int, style) -> list[str]:
    """An exercise's Markdown instructions, code examples kept verbatim."""
    from course.reading import render_markdown

    return render_markdown(text, width, style)


def write_starter(exercise, directory: Path, *, force: bool = False) -> Path:
    """Copy the exercise's starter to DIRECTORY/<id>.py; never over existing work without force."""
    target = (directory / f"{exercise.id}.py").resolve()
    if target.exists() and not force:
        raise UsageError(
            f"{target} already exists and may hold your work: check it with "
            f"`{shown_command(f'check {exercise.id} {shlex.quote(str(target))}')}`, or add --force to replace it with the starter"
        )
    try:
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(exercise.starter_path.read_text(encoding="utf-8"), encoding="utf-8")
    except OSError as error:
        raise UsageError(f"cannot write {target}: {error.strerror}") from None
    return target


def _is_default_place(exercise_id: str, path: Path) -> bool:
    return path == (Path.cwd() / f"{exercise_id}.py").resolve()


def remember_start(exercise_id: str, path: Path) -> None:
    """Record where `course start` put the file, so `course check EXERCISE` finds it (best effort)."""
    try:
        from course.progress.store import open_store

        with open_store() as store:
            store.record_start(exercise_id, path)
    except Exception as error:  # the file is written; only the default FILE is lost
        click.echo(f"warning: could not remember where the file is ({error}); pass it to `course check`", err=True)


def started_path(exercise_id: str) -> Path | None:
    """The file `course start` last wrote for the exercise (None without a usable store)."""
    try:
        from course.progress.store import default_path, open_store

        if not default_path().exists():
            return None
        with open_store() as store:
            return store.started_path(exercise_id)
    except Exception:
        return None


# --------------------------------------------------------------------------- course hint


@click.command()
@click.argument("exercise_id", metavar="EXERCISE")
@pass_state
def hint(state, exercise_id: str) -> None:
    """Show the next hint for EXERCISE (one more each time; all of them once used up)."""
    from course.progress.store import open_store
    from course.reading import Style, render_markdown

    exercise = find_exercise(state.course(), exercise_id)
    color = use_color()
    style = Style(color)
    total = len(exercise.hints)
    with open_store() as store:
        index = store.next_hint_index(exercise.id)
        if index < total:
            store.record_hint(exercise.id, index)
    if index < total:
        click.echo(style(f"Hint {index + 1} of {total}", bold=True), color=color)
        click.echo("\n".join(render_markdown(exercise.hints[index], 80, style)), color=color)
        if index + 1 < total:
            click.echo(f"\n(`{shown_command('hint ' + exercise.id)}` again for the next one)")
        return
    click.echo(style(f"All {total} hints of {exercise.id}:", bold=True), color=color)
    for number, text in enumerate(exercise.hints, 1):
        lines = render_markdown(text, 76, style)
        click.echo(f"{number}. " + "\n   ".join(lines), color=color)


# --------------------------------------------------------------------------- course check


@click.command()
@click.argument("exercise_id", metavar="EXERCISE")
@click.argument("file", metavar="[FILE]", required=False, type=click.Path(dir_okay=False))
@click.option("--format", "fmt", type=click.Choice(FORMATS), default="text", show_default=True, help="Report format.")
@click.option("--output", "output", metavar="FILE", type=click.Path(dir_okay=False),
              help="Write the report to FILE (stdout gets a one-line summary).")
@click.option("--strict", is_flag=True, help="Refuse to grade (exit 2) when the submission cannot be fully isolated.")
@click.option("--watch", is_flag=True, help="Check again each time FILE is saved (polls; Ctrl-C to stop).")
@click.option("--plots", "plots", metavar="DIR", type=click.Path(file_okay=False),
              help="Draw feedback pictures of the failing public cases into DIR (PNG).")
@click.option("--html", "html", metavar="FILE", type=click.Path(dir_okay=False),
              help="Write a self-contained HTML report (results, messages, pictures) to FILE.")
@pass_state
def check(state, exercise_id: str, file: str | None, fmt: str, output: str | None, strict: bool, watch: bool,
          plots: str | None, html: str | None) -> None:
    """Check FILE (default: the file `course start` wrote) against EXERCISE's cases.

    \b
    Exit codes: 0 every case passed; 1 something failed (or not attempted yet);
    2 usage or content error (a missing or unreadable file, an unknown exercise,
    --strict refusing); 3 could not grade (the grader failed, not the submission:
    run it again); 130 interrupted.
    """
    _check_targets(plots, html)
    from course.grading.check import start_early
    from course.grading.submission import read_submission

    try:
        path = submission_path(exercise_id, file)
    except UsageError:
        find_exercise(state.course(), exercise_id)  # a mistyped exercise is the better message
        raise
    source = read_submission(path)
    # The child starts before the whole course is loaded: its start-up overlaps the loading.
    session = start_early(state.root, exercise_id, source, filename=str(path), strict=strict)
    store = None
    try:
        course = state.course()
        exercise = find_exercise(course, exercise_id)
        options = dict(fmt=fmt, output=output, strict=strict, color=use_color() and fmt == "text" and not output,
                       plots=plots, html=html)
        store = _open_store_or_warn()
        if watch:
            status = _watch(course, exercise, path, store, options, session, source)
        else:
            status = _check_once(course, exercise, path, store, options, session, source).status
    finally:
        if session is not None:
            session.close()
        if store is not None:
            store.close()
    from course.grading.results import exit_code

    sys.exit(exit_code([status]) if status is not None else 1)


def submission_path(exercise_id: str, file: str | None) -> Path:
    """FILE, else the file `course start` wrote, else ./<exercise>.py; UsageError if none exists."""
    if file is not None:
        path = Path(file)
        if not os.path.lexists(path):  # anything else there is refused, with the reason, when read
            from course import untrusted

            raise UsageError(f"file not found: {untrusted.name(file)}")
        return path
    started = started_path(exercise_id)
    if started is not None and started.is_file():
        return started
    here = Path(f"{exercise_id}.py")
    if here.is_file():
        return here
    if started is not None:
        raise UsageError(f"{started} (written by `{shown_command('start ' + exercise_id)}`) no longer exists: pass the file to check")
    raise UsageError(
        f"no file to check: run `{shown_command('start ' + exercise_id)}` first, or pass one: "
        f"{shown_command('check ' + exercise_id + ' FILE')}"
    )


def _open_store_or_warn():
    from course.api import open_progress

    store = open_progress()
    if store is None:
        click.echo("warning: progress cannot be saved (the progress file is not usable); grading anyway", err=True)
    return store


def _check_once(course, exercise, path: Path, store, options: dict, session=None, source=None):
    from course.api import new_details
    from course.grading.check import check_exercise
    from course.grading.submission import read_submission

    if source is None:
        source = read_submission(path)
    wanted = options.get("plots") is not None or options.get("html") is not None
    details = new_details() if wanted else None
    result = check_exercise(
        course, exercise, source, filename=str(path), strict=options["strict"], progress=store, session=session,
        details=details,
    )
    _emit(result, options)
    write_extras(result, exercise, details=details, plots=options.get("plots"), html=options.get("html"),
                 to_stderr=options["fmt"] != "text" or bool(options["output"]))
    return result


def _emit(result, options: dict) -> None:
    from course.reports import render

    fmt, output, color = options["fmt"], options["output"], options["color"]
    text = render(fmt, result, color=color) if fmt == "text" else render(fmt, result)
    if output:
        try:
            Path(output).write_text(text if fmt != "text" else click.unstyle(text), encoding="utf-8")
        except OSError as error:
            raise UsageError(f"cannot write {output}: {error.strerror}") from None
        click.echo(f"{result.exercise}: {result.status.value.replace('_', ' ')}, "
                   f"{result.score:g}/{result.max_score:g} points (report: {output})")
    else:
        click.echo(text, nl=False, color=color)
    if fmt != "text":
        for note in result.notes:
            click.echo(f"note: {note}", err=True)


def _check_targets(plots: str | None, html: str | None) -> None:
    """--plots DIR and --html FILE must be writable places: say so before grading, not after."""
    if plots is not None:
        try:
            Path(plots).mkdir(parents=True, exist_ok=True)
        except OSError as error:
            raise UsageError(f"cannot create the folder {plots} for --plots: {error.strerror}") from None
    if html is not None:
        parent = Path(html).parent
        if not parent.is_dir():
            raise UsageError(f"cannot write {html}: the folder {parent} does not exist")


def write_extras(result, exercise, *, details=None, plots: str | None = None, html: str | None = None,
                 to_stderr: bool = False) -> None:
    """`--plots DIR` and `--html FILE`: the pictures and the HTML page of every check, watched or not.

    The grade is already out; a picture that fails becomes a warning, never a lost grade.
    """
    if details is None or (plots is None and html is None):
        return
    from course.api import write_feedback

    try:
        written = write_feedback(result, exercise, details, plots=plots, html=html)
    except OSError as error:
        raise UsageError(f"cannot write the pictures or the report: {error}") from None
    except Exception as error:  # drawing is an extra: report it and keep the grade's exit code
        click.echo(f"warning: pictures not drawn: {type(error).__name__}: {error}", err=True)
        return
    pictures = [path for path in written if html is None or path != Path(html)]
    if plots is not None:
        if pictures:
            summary = f"Pictures: {len(pictures)} file{'s' if len(pictures) != 1 else ''} in {plots}"
        else:
            summary = f"Pictures: none ({'every case passed' if result.passed else 'no failing public case to picture'})"
        click.echo(summary, err=to_stderr)
    for note in details.notes:
        click.echo(f"note: {note}", err=True)
    if html is not None:
        click.echo(f"HTML report: {html}", err=to_stderr)


def _stat(path: Path) -> tuple[int, int] | None:
    try:
        info = path.stat()
    except OSError:
        return None
    return info.st_mtime_ns, info.st_size


def _watch(course, exercise, path: Path, store, options: dict, session=None, source=None):
    """Check, then poll mtime and size; check again on every change. Ctrl-C ends it.

    Polling (not inotify) so it works on network drives, WSL's /mnt/c and editors that
    save by renaming. Returns the last check's Status (None when no check finished).
    """
    from course.errors import CourseError

    unicode = sys.stdout.encoding and sys.stdout.encoding.lower().replace("-", "") in ("utf8", "utf16", "utf32")
    rule = ("─" if unicode else "-") * 72
    passed = None
    seen = _stat(path)
    try:
        passed = _checked(course, exercise, path, store, options, CourseError, session, source)
        click.echo(f"\nWatching {path} for changes (Ctrl-C to stop)...")
        while True:
            time.sleep(POLL_SECONDS)
            now = _stat(path)
            if now == seen:
                continue
            time.sleep(0.05)  # let an editor finish writing, then read a stable file
            settled = _stat(path)
            if settled != now:
                continue
            seen = now
            click.echo(f"\n{rule}\n[{time.strftime('%H:%M:%S')}] {path} changed: checking again\n")
            if now is None:
                click.echo(f"{path} is gone; waiting for it to come back...")
                continue
            passed = _checked(course, exercise, path, store, options, CourseError)
            click.echo(f"\nWatching {path} for changes (Ctrl-C to stop)...")
    except KeyboardInterrupt:
        click.echo("\nstopped watching")
    return passed


def _checked(course, exercise, path, store, options, course_error, session=None, source=None):
    """One check inside --watch: a problem with the file is shown, and watching goes on."""
    from course.grading.check import SandboxRefused

    try:
        return _check_once(course, exercise, path, store, options, session, source).status
    except SandboxRefused:
        raise
    except course_error as error:
        click.echo(f"error: {error}", err=True)
        return None


COMMANDS = [exercises, start, hint, check]
