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

POLL_SECONDS = 0.05  # a stat() per poll: cheap, and a save is seen within 50 ms
SETTLE_SECONDS = 0.02  # then the file must stay the same this long (editors that write in steps)


# --------------------------------------------------------------------------- course exercises


@click.command()
@pass_state
def exercises(state) -> None:
    """List the exercises: id, your status, cases and title."""
    from course import terminal

    from course.services.progress import exercise_statuses

    course = state.course()
    statuses = exercise_statuses([e.id for e in course.exercises])
    rows = []
    for exercise in course.exercises:
        public = sum(1 for c in exercise.cases if c.visibility == "public")
        cases = f"{len(exercise.cases)}" + (f" ({public} public)" if public != len(exercise.cases) else "")
        status = statuses.get(exercise.id)
        rows.append((exercise.id, status.standing if status is not None else "-", cases, exercise.title))
    color = use_color()
    width = terminal.columns()
    click.echo(terminal.render([_listing(rows, color)], width=width, colour=color), nl=False, color=color)


def _listing(rows, color: bool):
    """Aligned columns, no rules: the title (last) wraps in its column when the terminal is narrow."""
    from rich import box
    from rich.table import Table

    table = Table(box=box.SIMPLE_HEAD if color else None, show_edge=False, pad_edge=False, padding=(0, 2, 0, 0),
                  header_style="bold" if color else "")
    table.add_column("exercise", no_wrap=True)
    table.add_column("status", no_wrap=True)
    table.add_column("cases", no_wrap=True)
    table.add_column("title", overflow="fold")
    for row in rows:
        table.add_row(*row)
    return table


# --------------------------------------------------------------------------- course start


@click.command()
@click.argument("exercise_id", metavar="EXERCISE")
@click.option("--dir", "directory", metavar="DIR", default=".", type=click.Path(file_okay=False),
              help="Folder to write EXERCISE.py in (default: the current folder).")
@click.option("--force", is_flag=True, help="Replace an existing file with the starter (your work is lost).")
@click.option("--adopt", "adopt", metavar="FILE", type=click.Path(dir_okay=False),
              help="Make FILE (already written) your file for EXERCISE instead of writing the starter.")
@pass_state
def start(state, exercise_id: str, directory: str, force: bool, adopt: str | None) -> None:
    """Write the starter file for EXERCISE (or adopt yours) and show its instructions.

    \b
    Your file is the one whose checks set the exercise's status (`course exercises`,
    `course progress`). Checks of other files (scratch copies, notebook functions)
    are kept as attempts but never change it.
    """
    from course import terminal

    if adopt is not None and (force or directory != "."):
        raise UsageError("--adopt FILE takes the file as it is: it goes without --dir and --force")
    exercise = find_exercise(state.course(), exercise_id)
    if adopt is not None:
        path = adopt_file(exercise, Path(adopt))
    else:
        path = write_starter(exercise, Path(directory), force=force)
    remember_start(exercise.id, path, adopted=adopt is not None)
    color = use_color()
    width = min(terminal.columns(), 100)
    parts = start_parts(exercise, path, adopted=adopt is not None, colour=color)
    click.echo(terminal.render(parts, width=width, colour=color), nl=False, color=color)


def start_parts(exercise, path: Path, *, adopted: bool, colour: bool) -> list:
    """What `course start` shows: the title, the contract, the instructions, where the file is."""
    from rich.text import Text

    from course import terminal

    where = "" if _is_default_place(exercise.id, path) else " " + shlex.quote(str(path))
    check = shown_command(f"check {exercise.id}{where}")
    mine = " (adopted: its checks set your status)" if adopted else ""
    return [
        Text(exercise.title, style="bold cyan"),
        Text("=" * len(exercise.title), style="cyan"),
        Text(f"Write {exercise.signature}"),
        "",
        terminal.markdown(exercise.instructions, colour=colour),
        "",
        terminal.unbroken(Text.assemble(("Your file: ", "bold"), str(path), mine)),
        terminal.unbroken(f"Check it:  {check}"),
        terminal.labelled("Stuck?     ", f"{shown_command('hint ' + exercise.id)} (the next hint), "
                                         f"{shown_command('hint ' + exercise.id)} N (hint N)"),
    ]


def adopt_file(exercise, path: Path) -> Path:
    """The student's own file for `exercise`: it must exist and be a regular file (it is read when checked)."""
    from course import untrusted

    if not os.path.lexists(path):
        raise UsageError(f"file not found: {untrusted.name(str(path))} "
                         f"(write it first, or let `{shown_command('start ' + exercise.id)}` write the starter)")
    if not path.is_file():
        raise UsageError(f"{untrusted.name(str(path))} is not a regular file")
    return path.resolve()


def write_starter(exercise, directory: Path, *, force: bool = False) -> Path:
    """Copy the exercise's starter to DIRECTORY/<id>.py; never over existing work without force."""
    target = (directory / f"{exercise.id}.py").resolve()
    if target.exists() and not force:
        raise UsageError(
            f"{target} already exists and may hold your work: check it with "
            f"`{shown_command(f'check {exercise.id} {shlex.quote(str(target))}')}`, make it yours with "
            f"`{shown_command(f'start {exercise.id} --adopt {shlex.quote(str(target))}')}`, or add --force to "
            f"replace it with the starter"
        )
    try:
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(exercise.starter_path.read_text(encoding="utf-8"), encoding="utf-8")
    except OSError as error:
        raise UsageError(f"cannot write {target}: {error.strerror}") from None
    return target


def _is_default_place(exercise_id: str, path: Path) -> bool:
    return path == (Path.cwd() / f"{exercise_id}.py").resolve()


def remember_start(exercise_id: str, path: Path, *, adopted: bool = False) -> None:
    """Record the student's own file (written by `course start` or adopted), so that `course check
    EXERCISE` finds it and its checks set the exercise's status (best effort)."""
    from course.services import progress

    try:
        progress.remember_start(exercise_id, path, adopted=adopted)
    except Exception as error:  # the file is there; only the default FILE and the status are lost
        click.echo(f"warning: could not remember your file ({error}); pass it to `course check`", err=True)


def started_path(exercise_id: str) -> Path | None:
    """The student's own file for the exercise (None without a usable store)."""
    from course.services import progress

    return progress.started_path(exercise_id)


# --------------------------------------------------------------------------- course hint


@click.command()
@click.argument("exercise_id", metavar="EXERCISE")
@click.argument("number", metavar="[N]", required=False, type=int)
@pass_state
def hint(state, exercise_id: str, number: int | None) -> None:
    """Show the next hint for EXERCISE, or hint N (all of them once used up)."""
    from course import terminal
    from course.services.hints import take_hint

    hints = take_hint(state.course(), exercise_id, number)
    color = use_color()
    click.echo(hints.render(width=min(terminal.columns(), 100), color=color), nl=False, color=color)


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
    session = start_early(state.root, exercise_id, source, filename=str(path), strict=strict, path=path)
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
    from course.services.progress import open_progress

    store = open_progress()
    if store is None:
        click.echo("warning: progress cannot be saved (the progress file is not usable); grading anyway", err=True)
    return store


def _check_once(course, exercise, path: Path, store, options: dict, session=None, source=None):
    from course.grading.submission import read_submission
    from course.services.checking import check_submission

    if source is None:
        source = read_submission(path)
    wanted = options.get("plots") is not None or options.get("html") is not None
    checked = check_submission(course, exercise, source=source, filename=str(path), path=path,
                               strict=options["strict"], progress=store, session=session, pictures=wanted,
                               showcase=True)
    result = checked.result
    _emit(result, options)
    write_extras(result, exercise, details=checked.details, plots=options.get("plots"), html=options.get("html"),
                 to_stderr=options["fmt"] != "text" or bool(options["output"]))
    return result


def _emit(result, options: dict) -> None:
    from course.services.checking import report_text

    fmt, output, color = options["fmt"], options["output"], options["color"]
    text = report_text(result, fmt, color=color)
    if output:
        try:
            Path(output).write_text(text if fmt != "text" else click.unstyle(text), encoding="utf-8")
        except OSError as error:
            raise UsageError(f"cannot write {output}: {error.strerror}") from None
        click.echo(f"{result.exercise}: {result.status.label}, "
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
    from course.services.checking import write_feedback

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
            summary = f"Pictures: {len(pictures)} in {plots} (PNG, and an SVG beside each)"
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
    save by renaming. Each re-check forks its sandbox from the process's warm template
    (Python and numpy already imported; as isolated as a cold start), so it takes a
    fraction of the first check. Returns the last check's Status (None when no check finished).
    """
    from course.errors import CourseError
    from course.grading import sandbox
    from course.grading.sandbox import template as warm

    if sandbox.isolation_available().namespaces and warm.warm_allowed():
        warm.shared().start()  # it imports numpy while the first check runs

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
            time.sleep(SETTLE_SECONDS)  # let an editor finish writing, then read a stable file
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
