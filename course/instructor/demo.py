"""`course demo`: the whole journey on the built-in course, non-interactively.

What a student does, in order, with the course's own commands and the sample material
shipped in course.demo_samples (so it works after a plain `pip install .`, from any
folder): list the lessons, grade a quiz answers file, check four submissions (one right,
three with typical mistakes) and show their feedback, draw the lesson's figures, write
the check reports. Everything goes under one folder (default ./course-demo), whose
`home/` is the demo's COURSE_HOME for the duration: the user's own progress is never
read or written.

The lesson list and the quiz are the real commands (`course lessons`, `course quiz
--answers`), run in this process; the checks call check_exercise and the text renderer,
as `course check` does, keeping the results for the JSON and JUnit reports. Feedback
plots and the HTML report come from the pictures modules (course.plots.feedback,
course.reports.html) when they are installed; until then the demo says so.
"""
from __future__ import annotations

import contextlib
import inspect
import os
import shutil
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable, Iterator

import click

from course.errors import UsageError

MARKER = ".course-demo"  # marks a folder the demo wrote, so a rerun may reuse it


@dataclass
class DemoReport:
    out: Path
    results: list = field(default_factory=list)  # CheckResult of each sample submission
    plots: dict[str, list[Path]] = field(default_factory=dict)  # exercise id -> feedback pictures drawn
    files: dict[str, str] = field(default_factory=dict)  # what -> where, for the closing summary


def run_demo(*, out: Path, course_dir: str | None = None, color: bool = False,
             echo: Callable[..., None] = click.echo) -> DemoReport:
    """Run the demo; everything is written under `out`. Returns what it did."""
    try:
        return _run(Path(out), course_dir, color, echo)
    except OSError as error:  # the folder went away, a full disk: say so, no traceback
        where = f" ({error.filename})" if error.filename else ""
        raise UsageError(f"the demo cannot write to {out}: {error.strerror or error}{where}") from None


def _run(out: Path, course_dir: str | None, color: bool, echo: Callable[..., None]) -> DemoReport:
    from course.demo_samples import ANSWERS, FOLDER, SUBMISSIONS
    from course.loader import load_course
    from course.paths import resolve_root

    _prepare(out)
    report = DemoReport(out=out)
    root = resolve_root(course_dir)
    course = load_course(root)
    shown = _shown(out)

    def section(number: int, title: str) -> None:
        echo("")
        echo(click.style(f"== {number}. {title} ==", bold=True, fg="cyan") if color else f"== {number}. {title} ==",
             color=color)

    def command(text: str) -> None:
        echo(click.style(f"$ {text}", bold=True) if color else f"$ {text}", color=color)

    echo(f"course demo: the student's journey through \"{course.title}\", without typing anything.")
    echo(f"Everything it writes goes to {shown}/ (your own progress is not touched).")
    with _course_home(out / "home"):
        section(1, "The lessons")
        command("course lessons")
        _run_cli(["--course", str(root), "lessons"])

        section(2, "A quiz, answered from a file")
        for lesson_id, name in ANSWERS.items():
            lesson = course.lesson(lesson_id)
            if lesson is None or lesson.quiz is None:
                continue
            answers = out / name
            shutil.copyfile(FOLDER / name, answers)
            report.files["sample quiz answers"] = f"{shown}/{name}"
            echo(f"A student's answers to the {lesson.id} quiz (mostly right) are in {shown}/{name}.")
            command(f"course quiz {lesson.id} --answers {shown}/{name}")
            _run_cli(["--course", str(root), "quiz", lesson.id, "--answers", str(answers)])

        section(3, "Checking sample submissions")
        echo("Each file runs in its own sandbox; the grader compares its outputs with the reference's.")
        folder = out / "submissions"
        folder.mkdir(exist_ok=True)
        report.files["sample submissions"] = f"{shown}/submissions/"
        draw = _feedback_plots()
        for name, (exercise_id, what) in SUBMISSIONS.items():
            exercise = course.exercise(exercise_id)
            if exercise is None:
                continue
            path = folder / name
            shutil.copyfile(FOLDER / name, path)
            echo("")
            echo(f"-- {what} --")
            command(f"course check {exercise.id} {shown}/submissions/{name}")
            result = _check(course, exercise, path, f"{shown}/submissions/{name}", out, draw, report)
            report.results.append(result)
            _show(result, color, echo)

        section(4, "Figures and reports")
        _figures(course, out, shown, command, echo, report)
        _reports(report, out, shown, echo)

    echo("")
    echo(click.style("== Where everything is ==", bold=True, fg="cyan") if color else "== Where everything is ==",
         color=color)
    for what, where in report.files.items():
        echo(f"  {where:<42} {what}")
    echo(f"  {shown + '/home/':<42} the demo's own progress (COURSE_HOME while it ran)")
    failing = sum(1 for r in report.results if not r.passed)
    if failing:
        echo(f"\n{failing} of the {len(report.results)} sample submissions fail on purpose: their feedback above is "
             "what students see.")
    echo("Next: `course read lesson-3`, then `course start softmax` and `course check softmax`.")
    return report


# --------------------------------------------------------------------------- steps


def _prepare(out: Path) -> None:
    """`out` must be new, empty, or an earlier demo's folder (which is reused)."""
    if out.exists() and not out.is_dir():
        raise UsageError(f"{out} exists and is not a folder; choose another with --out DIR")
    if out.is_dir() and any(out.iterdir()) and not (out / MARKER).exists():
        raise UsageError(f"{out} is not empty and was not written by `course demo`; choose another with --out DIR")
    try:
        out.mkdir(parents=True, exist_ok=True)
        (out / MARKER).write_text("Written by `course demo`; delete the folder when you are done with it.\n")
    except OSError as error:
        raise UsageError(f"cannot write to {out}: {error.strerror or error}") from None
    shutil.rmtree(out / "home", ignore_errors=True)  # each run starts with fresh progress


def _shown(path: Path) -> str:
    """The folder as the user would type it: relative to the current folder when inside it."""
    absolute = path.resolve()
    try:
        return absolute.relative_to(Path.cwd().resolve()).as_posix() or "."
    except ValueError:
        return str(absolute)


@contextlib.contextmanager
def _course_home(path: Path) -> Iterator[None]:
    """COURSE_HOME set to `path` for the duration; the previous value restored after."""
    previous = os.environ.get("COURSE_HOME")
    os.environ["COURSE_HOME"] = str(path.resolve())
    try:
        yield
    finally:
        if previous is None:
            os.environ.pop("COURSE_HOME", None)
        else:
            os.environ["COURSE_HOME"] = previous


def _run_cli(args: list[str]) -> int:
    """A `course` command, run in this process: the very output a student sees."""
    from course.cli import cli

    try:
        code = cli.main(args=args, prog_name="course", standalone_mode=False)
    except SystemExit as done:
        code = done.code
    return int(code or 0)


def _feedback_plots():
    """Hook for the feedback pictures: (CheckDetails, feedback_plots) when they are installed.

    They need check_exercise(details=CheckDetails()) to keep the arrays of each case;
    until check_exercise takes `details`, or when the modules are absent, None.
    """
    try:
        from course.grading.check import check_exercise
        from course.grading.details import CheckDetails
        from course.plots.feedback import feedback_plots
    except ImportError:
        return None
    if "details" not in inspect.signature(check_exercise).parameters:
        return None
    return CheckDetails, feedback_plots


def _check(course, exercise, path: Path, filename: str, out: Path, draw, report: DemoReport):
    from course.api import open_progress
    from course.grading.submission import read_submission
    from course.grading.check import check_exercise

    source = read_submission(path)
    store = open_progress()
    details = draw[0]() if draw else None
    try:
        if store is not None:  # each sample plays the student's own file (`course start --adopt`)
            store.record_start(exercise.id, path, adopted=True)
        extra = {"details": details} if details is not None else {}
        result = check_exercise(course, exercise, source, filename=filename, progress=store, path=path, **extra)
    finally:
        if store is not None:
            store.close()
    if details is not None:
        try:
            plots = draw[1](exercise, details, out / "plots")
        except Exception as error:  # pictures are extras: the demo goes on without them
            click.echo(f"note: no feedback plots for {exercise.id}: {type(error).__name__}: {error}", err=True)
            plots = []
        if plots:
            report.plots.setdefault(exercise.id, []).extend(plots)
            report.files["feedback plots"] = f"{_shown(out)}/plots/"
    return result


def _show(result, color: bool, echo) -> None:
    from course.reports import render

    echo(render("text", result, color=color), nl=False, color=color)


def _figures(course, out: Path, shown: str, command, echo, report: DemoReport) -> None:
    from course.plots.figures import render_lesson_figures

    for lesson in course.lessons:
        if not lesson.figures:
            continue
        command(f"course figures {lesson.id} --out {shown}/figures")
        try:
            rendered = render_lesson_figures(lesson, out / "figures")
        except OSError as error:
            echo(f"could not draw the figures: {error}")
            continue
        kinds = sorted({p.path.suffix.lstrip(".") for p in rendered})
        echo(f"{len({p.figure_id for p in rendered})} figures of {lesson.id} drawn as {', '.join(kinds)} "
             f"({len(rendered)} files)")
        for note in dict.fromkeys(p.note for p in rendered if p.note):
            echo(f"  note: {note}")
        report.files["lesson figures"] = f"{shown}/figures/"


def _reports(report: DemoReport, out: Path, shown: str, echo) -> None:
    from course.instructor.gradebook import html_renderer, write_atomic
    from course.reports import render

    folder = out / "reports"
    folder.mkdir(exist_ok=True)
    for result in report.results:
        stem = Path(result.submission).stem
        write_atomic(folder / f"{stem}.json", render("json", result))
        write_atomic(folder / f"{stem}.xml", render("junit", result))
    echo(f"JSON and JUnit reports of the {len(report.results)} checks: {shown}/reports/ "
         f"(as `course check ... --format json|junit --output FILE` writes them)")
    report.files["check reports (JSON, JUnit)"] = f"{shown}/reports/"
    html = html_renderer()
    if html is None:
        echo("HTML report: not in this version of the engine (course.reports.html is not installed)")
        return
    try:
        options = {"plots": report.plots} if report.plots else {}
        write_atomic(out / "report.html", html(report.results, title="course demo: the sample submissions", **options))
    except Exception as error:  # an extra: the demo has done its job without it
        echo(f"HTML report: could not be written ({type(error).__name__}: {error})")
        return
    echo(f"HTML report: {shown}/report.html")
    report.files["HTML report"] = f"{shown}/report.html"
