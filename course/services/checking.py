"""Check a submission against an exercise, and draw what explains its failures.

`course check`, `course.check()` in a notebook and `course demo` all come here; the
grading itself is course.grading.check.check_exercise (the one function every grader
calls, `course grade` and `course verify` included).
"""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:  # pragma: no cover
    from course.grading.details import CheckDetails
    from course.grading.results import CheckResult
    from course.model import Course, Exercise
    from course.progress.store import ProgressStore


@dataclass
class Checked:
    """One check: its result, and the arrays behind it when pictures were asked for."""

    result: "CheckResult"
    details: "CheckDetails | None" = None


def check_submission(
    course: "Course",
    exercise: "Exercise",
    *,
    source: str,
    filename: str,
    path: Path | None = None,
    strict: bool = False,
    progress: "ProgressStore | None" = None,
    session=None,
    pictures: bool = False,
    showcase: bool = False,
) -> Checked:
    """Grade `source` (the text of `path`, or a function's module) in the sandbox.

    progress: where the check is recorded (None: nowhere). session: a sandbox already
    started for this source (course.grading.check.start_early), closed here. pictures:
    keep the public cases' arrays and run the probes, for write_feedback. showcase: run the
    exercise's showcase hook after the grade (what a student's `course check` shows).
    """
    from course.grading.check import check_exercise

    details = new_details() if pictures else None
    result = check_exercise(course, exercise, source, filename=filename, strict=strict, progress=progress,
                            session=session, details=details, path=path, showcase=showcase)
    return Checked(result, details)


def check_file(course: "Course", exercise: "Exercise", path: Path, *, shown: str | None = None,
               strict: bool = False, progress: "ProgressStore | None" = None, pictures: bool = False) -> Checked:
    """Read the file (refused with a UsageError when it is no submission: too large, not text, a link...)
    and check it. `shown`: the name reports give it (default: the path as given)."""
    from course.grading.submission import read_submission

    source = read_submission(path)
    return check_submission(course, exercise, source=source, filename=shown or str(path), path=path, strict=strict,
                            progress=progress, pictures=pictures)


def new_details() -> "CheckDetails":
    """An empty collector for check_exercise(details=...): ask for it only when pictures are wanted."""
    from course.grading.details import CheckDetails

    return CheckDetails()


def draw_pictures(exercise: "Exercise", details: "CheckDetails", out_dir: Path | str, *,
                  svg: bool = True) -> list[Path]:
    """The feedback pictures of the failing public cases, drawn into out_dir (nothing when all passed);
    svg=False: the PNGs alone (for a page that embeds them)."""
    from course.plots.feedback import feedback_plots

    return feedback_plots(exercise, details, out_dir, svg=svg)


def picture_captions(exercise: "Exercise") -> dict[str, str]:
    """What each kind of the exercise's pictures shows (the HTML report's captions)."""
    from course.plots.feedback import captions

    return captions(exercise)


def write_feedback(
    result: "CheckResult",
    exercise: "Exercise",
    details: "CheckDetails",
    *,
    plots: str | Path | None = None,
    html: str | Path | None = None,
    title: str | None = None,
    student: str | None = None,
) -> list[Path]:
    """The pictures (into `plots`) and the HTML page (`html`) of one check; the files written.

    Pictures of an earlier check of the same exercise in `plots` are removed first, so
    the folder shows this check only. With `html` but no `plots`, the pictures are drawn
    in a temporary folder and only embedded.
    """
    import tempfile
    from dataclasses import replace

    from course.plots.feedback import remove_old_plots
    from course.reports.html import write_page

    written: list[Path] = []
    with tempfile.TemporaryDirectory(prefix="course-plots-") as scratch:
        folder = Path(plots) if plots is not None else Path(scratch)
        if plots is not None:
            remove_old_plots(exercise, folder)
        pictures = draw_pictures(exercise, details, folder, svg=plots is not None)  # a page embeds PNGs only
        if plots is not None:
            written += pictures
        if html is not None:
            page_result = replace(result, notes=result.notes + tuple(details.notes))
            written.append(write_page(
                html, [page_result], title=title or f"course check {exercise.id}",
                plots={exercise.id: pictures}, student=student, captions={exercise.id: picture_captions(exercise)},
            ))
    return written


def write_report_page(path: Path | str, results: list, *, title: str, plots: dict[str, list[Path]] | None = None,
                      captions: dict[str, dict[str, str]] | None = None) -> Path:
    """Several checks on one self-contained HTML page (pictures embedded), as `course demo` writes it."""
    from course.reports.html import write_page

    return write_page(path, results, title=title, plots=plots, captions=captions)


def report_text(result: "CheckResult", fmt: str = "text", *, color: bool = False) -> str:
    """The check's report in one of course.reports.FORMATS (text, json, junit, gradescope)."""
    from course.reports import render

    return render(fmt, result, color=color) if fmt == "text" else render(fmt, result)
