"""`course demo`: the whole journey on a course, non-interactively.

What a student does, in order, through the service layer (course.services) that the
`course` command and the notebook API call too, with the sample material of the course
itself: its `demo/demo.yaml` names a quiz answers file and sample submissions (course
data, so the engine knows no exercise's name; the built-in course's ships inside the
package, so the demo works after a plain `pip install .`, from any folder). List the
lessons, grade the answers file, check the submissions (one right, the others with
typical mistakes) and show their feedback, draw the lesson's figures, write the
reports. Everything goes under one folder (default ./course-demo), whose `home/` is
the demo's COURSE_HOME for the duration: the user's own progress is never read or
written. A course without a demo/ folder gets the lessons, figures and nothing else.

The output is the very text the commands print (`course lessons`, `course quiz
--answers`, `course check`): each is written once, by the service both call.
"""
from __future__ import annotations

import contextlib
import os
import shutil
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable, Iterator

import click

from course.errors import UsageError

MARKER = ".course-demo"  # marks a folder the demo wrote, so a rerun may reuse it
DEMO_FOLDER, DEMO_FILE = "demo", "demo.yaml"  # the course's sample material, at its root


@dataclass
class DemoReport:
    out: Path
    results: list = field(default_factory=list)  # CheckResult of each sample submission
    plots: dict[str, list[Path]] = field(default_factory=dict)  # exercise id -> feedback pictures drawn
    files: dict[str, str] = field(default_factory=dict)  # what -> where, for the closing summary
    checked: list = field(default_factory=list)  # the Exercise of each result, in order


def run_demo(*, out: Path, course_dir: str | None = None, color: bool = False,
             echo: Callable[..., None] = click.echo) -> DemoReport:
    """Run the demo; everything is written under `out`. Returns what it did."""
    try:
        return _run(Path(out), course_dir, color, echo)
    except OSError as error:  # the folder went away, a full disk: say so, no traceback
        where = f" ({error.filename})" if error.filename else ""
        raise UsageError(f"the demo cannot write to {out}: {error.strerror or error}{where}") from None


def _run(out: Path, course_dir: str | None, color: bool, echo: Callable[..., None]) -> DemoReport:
    from course import paths, terminal
    from course.services.courses import find_quiz, lesson_lines, open_course
    from course.services.quizzes import answers_text, grade_answers

    _prepare(out)
    report = DemoReport(out=out)
    course = open_course(course_dir)
    plan = read_plan(course.root)
    shown = _shown(out)
    # Commands the demo prints for the user to copy carry the --course they need from here.
    paths.set_active(paths.RootChoice(course.root, paths.FROM_OPTION, str(course.root)))

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
        parts = [terminal.labelled(f"{lesson_id}  ", line) for lesson_id, line in lesson_lines(course)]
        echo(terminal.render(parts, width=terminal.columns()), nl=False)

        section(2, "A quiz, answered from a file")
        for lesson_id, name in plan.answers:
            lesson = course.lesson(lesson_id)
            if lesson is None or lesson.quiz is None:
                continue
            lesson = find_quiz(course, lesson_id)
            answers = out / name
            shutil.copyfile(plan.folder / name, answers)
            report.files["sample quiz answers"] = f"{shown}/{name}"
            echo(f"A student's answers to the {lesson.id} quiz (mostly right) are in {shown}/{name}.")
            command(f"course quiz {lesson.id} --answers {shown}/{name}")
            result = grade_answers(lesson, answers, display_name=str(answers))
            for line in answers_text(result, lesson, color=color, width=terminal.columns()):
                echo(line, color=color)
        if not plan.answers:
            echo("This course's demo has no sample answers (demo/demo.yaml).")

        section(3, "Checking sample submissions")
        echo("Each file runs in its own sandbox; the grader compares its outputs with the reference's.")
        folder = out / "submissions"
        folder.mkdir(exist_ok=True)
        for sample in plan.submissions:
            exercise = course.exercise(sample.exercise)
            if exercise is None:
                continue
            report.files["sample submissions"] = f"{shown}/submissions/"
            path = folder / sample.file
            shutil.copyfile(plan.folder / sample.file, path)
            echo("")
            echo(f"-- {sample.about} --")
            command(f"course check {exercise.id} {shown}/submissions/{sample.file}")
            result = _check(course, exercise, path, f"{shown}/submissions/{sample.file}", out, report, echo)
            report.results.append(result)
            report.checked.append(exercise)
            _show(result, color, echo)
        if not plan.submissions:
            echo("This course's demo has no sample submissions (demo/demo.yaml).")

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
    echo(_next_steps(course, report))
    return report


def _next_steps(course, report: DemoReport) -> str:
    """'Next: `course read L`, then `course start E` and `course check E`.' for this course's first lesson and
    first exercise checked (or listed)."""
    lesson = course.lessons[0].id if course.lessons else None
    exercise = report.checked[0].id if report.checked else (course.exercises[0].id if course.exercises else None)
    steps = [f"`course read {lesson}`"] if lesson else []
    if exercise:
        steps.append(f"`course start {exercise}` and `course check {exercise}`")
    return "Next: " + ", then ".join(steps) + "." if steps else "Next: `course lessons`."


# --------------------------------------------------------------------------- the course's demo plan


@dataclass(frozen=True)
class Sample:
    file: str  # in the course's demo/ folder
    exercise: str
    about: str  # what the demo says about it


@dataclass(frozen=True)
class DemoPlan:
    folder: Path
    answers: tuple[tuple[str, str], ...] = ()  # (lesson id, answers file)
    submissions: tuple[Sample, ...] = ()


def read_plan(root: Path) -> DemoPlan:
    """The course's demo/demo.yaml (an empty plan when the course has none); ContentError for a bad one."""
    from course.errors import ContentError, Diagnostic, Where
    from course.yamlsafe import parse_file, to_data

    folder = root / DEMO_FOLDER
    path = folder / DEMO_FILE
    if not path.is_file():
        return DemoPlan(folder)
    shown = f"{DEMO_FOLDER}/{DEMO_FILE}"
    data = to_data(parse_file(path, shown))
    problems: list[str] = []

    def entries(key: str, fields: tuple[str, ...]) -> list[dict]:
        items = data.get(key, []) if isinstance(data, dict) else None
        if not isinstance(items, list):
            problems.append(f"`{key}` must be a list")
            return []
        good = []
        for number, item in enumerate(items, 1):
            if not isinstance(item, dict) or set(item) != set(fields) or not all(
                    isinstance(item[f], str) and item[f].strip() for f in fields):
                problems.append(f"{key} entry {number} must have exactly {', '.join(fields)} (text)")
            elif not (folder / item["file"]).is_file() or Path(item["file"]).name != item["file"]:
                problems.append(f"{key} entry {number}: no file {item['file']} in {DEMO_FOLDER}/")
            else:
                good.append(item)
        return good

    if not isinstance(data, dict) or set(data) - {"format_version", "answers", "submissions"}:
        problems.append("the keys are format_version, answers and submissions")
        data = data if isinstance(data, dict) else {}
    answers = tuple((a["lesson"], a["file"]) for a in entries("answers", ("lesson", "file")))
    samples = tuple(Sample(s["file"], s["exercise"], s["about"])
                    for s in entries("submissions", ("file", "exercise", "about")))
    if problems:
        raise ContentError([Diagnostic(Where(shown, 1, 1), problem) for problem in problems])
    return DemoPlan(folder, answers, samples)


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


def _check(course, exercise, path: Path, filename: str, out: Path, report: DemoReport, echo):
    from course.services.checking import check_submission, draw_pictures
    from course.services.progress import open_progress

    from course.grading.submission import read_submission

    source = read_submission(path)
    store = open_progress()
    try:
        if store is not None:  # each sample plays the student's own file (`course start --adopt`)
            store.record_start(exercise.id, path, adopted=True)
        checked = check_submission(course, exercise, source=source, filename=filename, path=path, progress=store,
                                   pictures=True)
    finally:
        if store is not None:
            store.close()
    if checked.details is not None:
        try:
            plots = draw_pictures(exercise, checked.details, out / "plots")
        except Exception as error:  # pictures are extras: the demo goes on without them
            click.echo(f"note: no feedback plots for {exercise.id}: {type(error).__name__}: {error}", err=True)
            plots = []
        if plots:
            report.plots.setdefault(exercise.id, []).extend(plots)
            report.files["feedback plots"] = f"{_shown(out)}/plots/"
    return checked.result


def _show(result, color: bool, echo) -> None:
    from course.services.checking import report_text

    echo(report_text(result, "text", color=color), nl=False, color=color)


def _figures(course, out: Path, shown: str, command, echo, report: DemoReport) -> None:
    from course.services.figures import draw_figures, figure_notes

    for lesson in course.lessons:
        if not lesson.figures:
            continue
        command(f"course figures {lesson.id} --out {shown}/figures")
        try:
            rendered = draw_figures(lesson, out / "figures")
        except UsageError as error:
            echo(f"could not draw the figures: {error}")
            continue
        kinds = sorted({p.path.suffix.lstrip(".") for p in rendered})
        echo(f"{len({p.figure_id for p in rendered})} figures of {lesson.id} drawn as {', '.join(kinds)} "
             f"({len(rendered)} files)")
        for note in dict.fromkeys(figure_notes(rendered).values()):
            echo(f"  note: {note}")
        report.files["lesson figures"] = f"{shown}/figures/"


def _reports(report: DemoReport, out: Path, shown: str, echo) -> None:
    from course.services.checking import picture_captions, report_text, write_report_page

    folder = out / "reports"
    folder.mkdir(exist_ok=True)
    for result in report.results:
        stem = Path(result.submission).stem
        _write(folder / f"{stem}.json", report_text(result, "json"))
        _write(folder / f"{stem}.xml", report_text(result, "junit"))
    echo(f"JSON and JUnit reports of the {len(report.results)} checks: {shown}/reports/ "
         f"(as `course check ... --format json|junit --output FILE` writes them)")
    report.files["check reports (JSON, JUnit)"] = f"{shown}/reports/"
    try:
        captions = {exercise.id: picture_captions(exercise) for exercise in report.checked}
        write_report_page(out / "report.html", report.results, title="course demo: the sample submissions",
                          plots=report.plots or None, captions=captions)
    except Exception as error:  # an extra: the demo has done its job without it
        echo(f"HTML report: could not be written ({type(error).__name__}: {error})")
        return
    echo(f"HTML report: {shown}/report.html")
    report.files["HTML report"] = f"{shown}/report.html"


def _write(path: Path, text: str) -> None:
    """Write via a temporary file and rename: a reader (or Ctrl-C) never sees half a file."""
    temporary = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    temporary.write_text(text, encoding="utf-8")
    os.replace(temporary, path)
