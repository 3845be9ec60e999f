"""Instructors and classrooms: `course verify`, `course release`, `course grade`, `course demo`.

Thin commands: each parses its options, calls one function of course.instructor with
keyword arguments, and formats what it returns. No numpy at import time.
"""
from __future__ import annotations

import shlex
import sys
from pathlib import Path

import click

from course.commands.common import pass_state, use_color


# --------------------------------------------------------------------------- course verify


@click.command()
@click.argument("exercise_ids", metavar="[EXERCISE]...", nargs=-1)
@click.option("--jobs", type=click.IntRange(1, 64), default=None,
              help="Sandboxes to run at once (default: the number of CPUs, at most 4).")
@pass_state
def verify(state, exercise_ids: tuple[str, ...], jobs: int | None) -> None:
    """Run the content: references pass, starters are "not attempted", known mistakes are caught.

    \b
    Validates the course first (content errors: exit 2). Then, in the real sandbox:
    every reference must pass every case; the starter, unchanged and run, must be
    graded "not attempted"; every known mistake must fail some case and be recognised
    as itself there; every exercise needs a hint, a public and a hidden case; each
    quiz's answer key must score full marks for seeds 0-4. One line per problem
    (FILE:LINE:COL: message); exit 1 when there is any. For each mistake, prints the
    cases and checks that catch it.
    """
    from course.instructor.verify import verify_course

    click.echo(state.choice.describe())
    report = verify_course(state.root, exercises=exercise_ids, jobs=jobs)
    if report.content_errors:
        for diagnostic in report.content_errors:
            click.echo(str(diagnostic))
        count = len(report.content_errors)
        click.echo(f"{count} content error{'s' if count != 1 else ''}: fix them (course validate) before verifying",
                   err=True)
        sys.exit(2)
    color = use_color()
    click.echo(f"validate: ok ({report.summary})")
    for lesson in report.quizzes:
        click.echo(f"quiz {lesson}: the answer key scores full marks for seeds 0-4")
    for entry in report.exercises:
        if not entry.ran:
            click.echo(f"{entry.id}: not run (see the problems below)")
            continue
        mistakes = f"{sum(m.caught for m in entry.mistakes)}/{len(entry.mistakes)} known mistakes caught"
        click.echo(f"{entry.id}: reference passes {entry.reference_passed}/{entry.cases} cases; "
                   f"starter {_label(entry.starter)} (run: {_label(entry.starter_run)}); "
                   f"{mistakes}")
        width = max((len(m.name) for m in entry.mistakes), default=0)
        for mistake in entry.mistakes:
            click.echo(f"  {mistake.name:<{width}}  {_catches(mistake)}")
    if report.problems:
        click.echo("")
        for problem in report.problems:
            line = str(problem)
            click.echo(click.style(line, fg="red") if color else line, color=color)
        count = len(report.problems)
        click.echo(f"{count} problem{'s' if count != 1 else ''}", err=True)
        sys.exit(1)
    click.echo("ok: no problems")


def _label(status) -> str:
    return status.label if status is not None else "?"


def _catches(mistake) -> str:
    """'public: large_logits (finite); hidden: 2 cases (finite); advice shown on 3 of 3'."""
    if not mistake.catches:
        return "NOT CAUGHT"
    public = [c for c in mistake.catches if c.visibility == "public"]
    hidden = [c for c in mistake.catches if c.visibility != "public"]
    parts = []
    if public:
        parts.append("public: " + ", ".join(f"{c.case} ({c.check})" for c in public))
    if hidden:
        checks = ", ".join(dict.fromkeys(c.check for c in hidden))
        parts.append(f"hidden: {len(hidden)} case{'s' if len(hidden) != 1 else ''} ({checks})")
    if not public:
        parts.append("only hidden cases catch it")
    parts.append(f"advice shown on {len(mistake.named_on)} of {len(mistake.catches)}")
    return "; ".join(parts)


# --------------------------------------------------------------------------- course release


@click.command()
@click.argument("out", metavar="OUT", type=click.Path(file_okay=False))
@click.option("--force", is_flag=True, help="Replace the contents of OUT (an earlier release; a .git folder is kept).")
@pass_state
def release(state, out: str, force: bool) -> None:
    """Write the student edition of the course to OUT.

    \b
    OUT gets: course.yaml (edition: student), the lessons and quizzes, and for each
    exercise its instructions, starter, hints, public cases and expected.npz (the
    reference's outputs on those cases, computed now). No reference.py, no
    known-mistake code, no hidden case. Students use it as their course root:
      course --course OUT check softmax
    """
    from course.instructor.release import release_course

    click.echo(state.choice.describe())
    report = release_course(state.course(), Path(out), force=force)
    click.echo(f"Student edition written to {report.out} ({len(report.files)} files):")
    click.echo(f"  lessons: {', '.join(report.lessons) or 'none'}")
    for exercise_id, public, hidden in report.exercises:
        click.echo(f"  {exercise_id}: {public} public case(s) with stored expected outputs; "
                   f"{hidden} hidden case(s) left out")
    for held in report.held_back:
        click.echo(f"  held back: {held} (STUDENT_EDITION = False: its pictures and readings stay with you)")
    click.echo(f"Check it: course --course {shlex.quote(str(report.out))} validate")


# --------------------------------------------------------------------------- course grade


@click.command()
@click.argument("submissions", metavar="SUBMISSIONS", type=click.Path(file_okay=False))
@click.option("--out", "out_dir", metavar="DIR", required=True, type=click.Path(file_okay=False),
              help="Folder for grades.csv, results.json and the per-student reports.")
@click.option("--jobs", type=click.IntRange(1, 64), default=2, show_default=True,
              help="Submissions graded at once (each in its own sandbox).")
@click.option("--exercise", "exercises", metavar="ID", multiple=True,
              help="Grade only this exercise (repeat for more; default: every exercise). "
                   "Files of the others are neither graded nor missed.")
@click.option("--shard", metavar="K/N",
              help="Grade only shard K of N: the students whose folder name hashes to K "
                   "(join the N outputs with `course merge`).")
@click.option("--executor", metavar="WHERE", default="local", show_default=True,
              help="local (worker processes on this machine), or a Dask scheduler: dask://HOST:PORT "
                   "or tls://HOST:PORT (needs Dask: pip install '.[dask]' in the engine's repository).")
@click.option("--force", is_flag=True, help="Regrade every student, even those whose files have not changed.")
@click.option("--strict", is_flag=True, help="Refuse to grade (exit 2) when submissions cannot be fully isolated.")
@pass_state
def grade(state, submissions: str, out_dir: str, jobs: int, exercises: tuple[str, ...], shard: str | None,
          executor: str, force: bool, strict: bool) -> None:
    """Grade a class: each folder of SUBMISSIONS is one student with <exercise>.py files.

    \b
    Writes DIR/grades.csv (a row per student: points and status per exercise, total;
    a "Points Possible" row), DIR/results.json (everything) and, per student,
    DIR/<student>/junit.xml and DIR/<student>/results.json (Gradescope). A missing
    file of a graded exercise scores 0 as "not submitted"; a file that crashes, hangs
    or attacks the grader scores 0 with the reason. A file the grader itself could not
    grade is "could not grade" (no points, never reused: run again to retry). Students
    whose files have not changed since the last run are not regraded.
    Exit codes: 0 every submission passed; 1 something failed; 2 usage or content
    error; 3 some could not be graded; 130 interrupted (what was finished is kept
    and marked partial).
    """
    from course.instructor.grade import Shard, assigned_exercises, grade_class
    from course.instructor.progress import Tracker

    click.echo(state.choice.describe())
    course = state.course()
    chosen = Shard.parse(shard) if shard else None
    if executor in ("", "local"):  # how strongly this machine isolates each submission (docs/sandbox.md)
        from course.grading.sandbox import isolation_available

        isolation = isolation_available()
        click.echo(f"sandbox isolation: {isolation.level} ({isolation.detail})", err=True)
    assigned_exercises(course, exercises)  # an unknown id: exit 2 before anything runs
    tracker = Tracker()
    reporter = _GradeProgress(tracker)
    try:
        batch = grade_class(course, Path(submissions), Path(out_dir), jobs=jobs, force=force, strict=strict,
                            exercises=exercises, shard=chosen, executor=executor, tracker=tracker,
                            on_start=reporter.start, on_student=reporter.student)
    finally:
        reporter.finish()
    _report_batch(batch, what=f"shard {chosen} of the class: " if chosen else "",
                  again="run the same command again to finish")


def _report_batch(batch, *, what: str = "", again: str = "") -> None:
    """The closing lines of `course grade` and `course merge`, and the exit code."""
    for note in batch.notes:
        click.echo(f"note: {note}", err=True)
    out = batch.out
    if batch.interrupted:
        click.echo(f"\ninterrupted: {len(batch.students)} of {batch.total_students} students graded; "
                   f"partial results in {out / 'grades.csv'} and {out / 'results.json'}; {again}", err=True)
        sys.exit(130)
    passed = sum(1 for s in batch.students if s.passed == len(s.results))
    click.echo(f"{what}{len(batch.students)} students ({batch.regraded} graded, {batch.reused} unchanged; "
               f"{batch.submissions} files graded), {passed} passed everything, {batch.seconds:.1f} s")
    if batch.refused:
        click.echo(f"{len(batch.refused)} folder{'s' if len(batch.refused) != 1 else ''} not graded "
                   f"(see the notes above)")
    click.echo(f"gradebook: {out / 'grades.csv'}")
    click.echo(f"results:   {out / 'results.json'}; per student: {out}/<student>/junit.xml, results.json"
               + (", report.html" if _has_html() else ""))
    summary = batch.closing_summary()
    if summary:
        click.echo(summary, err=True)
    sys.exit(batch.exit_code)


def _has_html() -> bool:
    from course.instructor.grade import html_renderer

    return html_renderer() is not None


class _GradeProgress:
    """On a terminal, one status line on stderr, redrawn twice a second from the tracker:
    students and files done, the time left at the rate so far, and the file a worker is
    waiting on ("waiting on mallory/softmax.py: 7 s of its 10 s limit"), so a hung
    submission shows as one instead of a frozen bar. Otherwise one plain line per student
    (stdout)."""

    REFRESH = 0.5

    def __init__(self, tracker) -> None:
        import threading

        self.tracker = tracker
        self.interactive = sys.stderr.isatty()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._lock = threading.Lock()
        self._width = 0

    def start(self, total: int) -> None:
        if self.interactive and total:
            import threading

            self._thread = threading.Thread(target=self._tick, name="grade-progress", daemon=True)
            self._thread.start()

    def _tick(self) -> None:
        while not self._stop.wait(self.REFRESH):
            self._draw()

    def _draw(self) -> None:
        import shutil

        columns = shutil.get_terminal_size((100, 24)).columns
        text = "Grading: " + self.tracker.snapshot().line()
        if len(text) >= columns:
            text = text[: max(10, columns - 2)] + "…"
        with self._lock:
            sys.stderr.write("\r" + text + " " * max(0, self._width - len(text)))
            sys.stderr.flush()
            self._width = len(text)

    def student(self, grade) -> None:
        if not self.interactive:
            click.echo(grade.summary())

    def finish(self) -> None:
        if self._thread is not None:
            self._stop.set()
            self._thread.join()
            self._thread = None
            self._draw()
            sys.stderr.write("\n")
            sys.stderr.flush()


# --------------------------------------------------------------------------- course merge


@click.command()
@click.argument("outputs", metavar="OUT...", nargs=-1, required=True, type=click.Path(file_okay=False))
@click.option("--out", "out_dir", metavar="DIR", required=True, type=click.Path(file_okay=False),
              help="Folder for the merged grades.csv, results.json and per-student reports.")
def merge(outputs: tuple[str, ...], out_dir: str) -> None:
    """Join the outputs of `course grade --shard K/N` runs into what one run writes.

    \b
    Every OUT must come from the same course (the same fingerprint), the same
    --exercise list and --strict, hold other students than the rest and be complete
    (not interrupted); with shards, every shard 1..N must be there once. DIR gets
    grades.csv, results.json and each student's folder, as one `course grade` over the
    whole class writes them. Exit codes as `course grade`'s: 0 every submission passed,
    1 something failed, 2 the outputs do not fit together, 3 some could not be graded.
    """
    from course.instructor.merge import merge_outputs

    batch = merge_outputs([Path(o) for o in outputs], Path(out_dir))
    click.echo(f"merged {len(outputs)} output{'s' if len(outputs) != 1 else ''} into {batch.out}")
    _report_batch(batch)


# --------------------------------------------------------------------------- course autograder


@click.command()
@click.argument("out", metavar="OUT.zip", type=click.Path(dir_okay=False))
@click.option("--exercise", "exercises", metavar="ID", multiple=True,
              help="Grade only this exercise (repeat for more; default: every exercise).")
@click.option("--python-version", default="3.10", show_default=True, metavar="X.Y",
              help="Python of the Gradescope image (3.10 on its Ubuntu 22.04 base image): the wheels are for it.")
@click.option("--platform", "platforms", metavar="TAG", multiple=True,
              help="Wheel platform tag of the image (repeatable; default: manylinux x86_64).")
@click.option("--engine", metavar="PATH", type=click.Path(exists=True),
              help="The engine to bundle: its source folder or a wheel (default: this engine's source).")
@click.option("--wheels", metavar="DIR", type=click.Path(exists=True, file_okay=False),
              help="Take the dependencies from this folder of wheels instead of the package index.")
@pass_state
def autograder(state, out: str, exercises: tuple[str, ...], python_version: str, platforms: tuple[str, ...],
               engine: str | None, wheels: str | None) -> None:
    """Write a Gradescope autograder zip: setup.sh, run_autograder, the course, the wheels.

    \b
    Upload OUT.zip as the assignment's autograder ("Zip file upload"). setup.sh
    installs the engine from the bundled wheels (no package index needed); each
    submission is graded in the same sandbox as `course check`, one Gradescope test
    per case, hidden cases shown only after grades are published. Students upload
    their <exercise>.py files.
    """
    from course.instructor.autograder import DEFAULT_PLATFORMS, build_autograder

    click.echo(state.choice.describe())
    made = build_autograder(state.course(), Path(out), exercises=exercises, engine=Path(engine) if engine else None,
                            python_version=python_version, platforms=platforms or DEFAULT_PLATFORMS,
                            wheels=Path(wheels) if wheels else None)
    size = made.path.stat().st_size
    click.echo(f"Gradescope autograder written to {made.path} ({size / 1e6:.1f} MB): exercises "
               f"{', '.join(made.exercises)}; {len(made.wheels)} wheels for Python {made.python}")
    click.echo("Upload it as the assignment's autograder; students submit their <exercise>.py files.")


# --------------------------------------------------------------------------- course demo


@click.command()
@click.option("--out", "out_dir", metavar="DIR", default="course-demo", show_default=True,
              type=click.Path(file_okay=False), help="Folder for everything the demo writes.")
@pass_state
def demo(state, out_dir: str) -> None:
    """The whole journey on the built-in course, non-interactively.

    \b
    Lists the lessons, grades a sample quiz answers file, checks sample submissions
    (one right, a few with typical mistakes) and prints their feedback, draws the
    lesson's figures and writes reports under DIR. Your own progress is not touched:
    the demo keeps its state in DIR/home. Exit 0 when the demo ran (the sample
    submissions' failures are part of it).
    """
    from course.demo import run_demo

    run_demo(out=Path(out_dir), course_dir=state.course_dir, color=use_color())


COMMANDS = [verify, release, grade, merge, autograder, demo]
