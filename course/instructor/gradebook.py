"""The gradebook of `course grade`: the result records and the files written to --out.

    DIR/grades.csv                 one row per student: student, a column per exercise, total
    DIR/results.json               everything, with a sha256 of each student's files
    DIR/<student>/junit.xml        JUnit XML, one suite per exercise
    DIR/<student>/results.json     Gradescope's autograder format
    DIR/<student>/report.html      when course.reports.html exists (the pictures work)

Nothing here lays out a report itself: the per-student files are course.reports'
renderers (junit, gradescope, html), as `course check --format` writes them. Every file
is replaced atomically, so a reader, or Ctrl-C, never sees half a file; a gradebook
written after an interruption says it is partial. results.json is also what a re-run
reads back (result_from_dict) to reuse the students whose files have not changed.
"""
from __future__ import annotations

import csv
import datetime as _dt
import io
import json
import os
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable

from course import __version__
from course.grading.results import CaseResult, CheckResult, Isolation, Status
from course.model import Course, Exercise

GRADES_FILE = "grades.csv"
RESULTS_FILE = "results.json"
JUNIT_FILE = "junit.xml"
GRADESCOPE_FILE = "results.json"  # inside each student's folder: Gradescope's name
HTML_FILE = "report.html"
RESERVED_NAMES = (GRADES_FILE, RESULTS_FILE)
FORMAT = 1  # of results.json
SAVE_EVERY_SECONDS = 5.0  # results.json is rewritten at most this often while grading


# --------------------------------------------------------------------------- records


@dataclass
class StudentGrade:
    """One student's results, one per exercise in course order."""

    student: str
    digest: str
    results: list[CheckResult]
    reused: bool = False  # taken from the previous run: the files had not changed
    notes: list[str] = field(default_factory=list)

    @property
    def score(self) -> float:
        return float(sum(r.score for r in self.results))

    @property
    def max_score(self) -> float:
        return float(sum(r.max_score for r in self.results))

    @property
    def passed(self) -> int:
        return sum(1 for r in self.results if r.passed)

    def summary(self) -> str:
        """'alice: 5/6 exercises passed, 42/50 points'."""
        line = (f"{self.student}: {self.passed}/{len(self.results)} exercises passed, "
                f"{self.score:g}/{self.max_score:g} points")
        return line + (" (unchanged since the last run)" if self.reused else "")

    def as_dict(self) -> dict:
        return {
            "student": self.student,
            "digest": self.digest,
            "score": self.score,
            "max_score": self.max_score,
            "exercises_passed": self.passed,
            "notes": list(self.notes),
            "results": [r.as_dict() for r in self.results],
        }


@dataclass
class BatchResult:
    """What `grade_class` did."""

    out: Path
    exercises: tuple[str, ...]
    students: list[StudentGrade]  # in name order; only those finished when interrupted
    total_students: int
    interrupted: bool = False
    seconds: float = 0.0
    notes: list[str] = field(default_factory=list)

    @property
    def regraded(self) -> int:
        return sum(1 for s in self.students if not s.reused)

    @property
    def reused(self) -> int:
        return sum(1 for s in self.students if s.reused)

    @property
    def submissions(self) -> int:
        """Files graded in this run (missing and reused ones not counted)."""
        return sum(1 for s in self.students if not s.reused for r in s.results if not _is_missing(r))

    @property
    def all_passed(self) -> bool:
        return all(r.passed for s in self.students for r in s.results)

    @property
    def exit_code(self) -> int:
        """130 interrupted, 0 every exercise of every student passed, 1 otherwise."""
        if self.interrupted:
            return 130
        return 0 if self.all_passed and self.students else 1


def _is_missing(result: CheckResult) -> bool:
    return bool(result.cases) and result.cases[0].check == "not_submitted"


# --------------------------------------------------------------------------- results without a run


def placeholder_result(exercise: Exercise, filename: str, status: Status, check: str, message: str) -> CheckResult:
    """Zero on every case, with the reason: a file that is missing or could not be graded."""
    cases = tuple(CaseResult(c.name, c.visibility, c.points, 0.0, False, check, message) for c in exercise.cases)
    return CheckResult(
        exercise=exercise.id, status=status, score=0.0, max_score=float(sum(c.points for c in exercise.cases)),
        cases=cases, load_error=message if status is Status.ERROR else "", submission=filename,
    )


def result_from_dict(data: dict) -> CheckResult:
    """A CheckResult back from CheckResult.as_dict() (results.json of an earlier run)."""
    isolation = data.get("isolation")
    return CheckResult(
        exercise=data["exercise"],
        status=Status(data["status"]),
        score=float(data["score"]),
        max_score=float(data["max_score"]),
        cases=tuple(
            CaseResult(
                name=c["name"], visibility=c["visibility"], points=float(c["max_score"]), score=float(c["score"]),
                passed=bool(c["passed"]), check=c.get("check") or "", message=c.get("message") or "",
                mistake=c.get("mistake") or "", advice=c.get("advice") or "",
            )
            for c in data["cases"]
        ),
        load_error=data.get("load_error") or "",
        traceback=data.get("traceback") or "",
        output=data.get("output") or "",
        isolation=Isolation(bool(isolation["namespaces"]), isolation.get("detail", "")) if isolation else None,
        seconds=float(data.get("seconds") or 0.0),
        advice=tuple(data.get("advice") or ()),
        hints=tuple(int(h) for h in data.get("hints") or ()),
        submission=data.get("submission") or "",
        notes=tuple(data.get("notes") or ()),
    )



# --------------------------------------------------------------------------- writing


class Gradebook:
    """The files in --out: per-student reports as each student finishes, results.json now
    and then, and grades.csv at the end. Every file is replaced atomically."""

    def __init__(self, course: Course, out: Path, fingerprint: str, strict: bool, total: int, notes: list[str]):
        self.course, self.out, self.fingerprint, self.strict = course, out, fingerprint, strict
        self.total, self.notes = total, notes
        self.students: dict[str, StudentGrade] = {}
        self.encoded: dict[str, str] = {}  # each student's JSON, encoded once
        self.last_save = time.monotonic()
        self.html = html_renderer()

    def add(self, grade: StudentGrade) -> None:
        self.students[grade.student] = grade
        self._write_student(grade)
        self.encoded[grade.student] = json.dumps(grade.as_dict(), indent=1, ensure_ascii=False)

    def sorted_students(self) -> list[StudentGrade]:
        return [self.students[name] for name in sorted(self.students)]

    def _write_student(self, grade: StudentGrade) -> None:
        from course.reports import render

        folder = self.out / grade.student
        folder.mkdir(exist_ok=True)
        write_atomic(folder / JUNIT_FILE, render("junit", grade.results, name=grade.student))
        write_atomic(folder / GRADESCOPE_FILE, render("gradescope", grade.results))
        if self.html is not None:
            try:
                write_atomic(folder / HTML_FILE, self.html(grade.results, title=f"{self.course.title}: results",
                                                           student=grade.student))
            except Exception as error:  # the pictures are extras: a failure there costs no grade
                grade.notes.append(f"{HTML_FILE} not written: {type(error).__name__}: {error}")

    def save_if_due(self) -> None:
        if time.monotonic() - self.last_save >= SAVE_EVERY_SECONDS:
            self._save_results(partial=True)

    def _save_results(self, partial: bool) -> None:
        self.last_save = time.monotonic()
        head = json.dumps(self._results_json(partial), indent=1, ensure_ascii=False)
        students = ",\n".join(self.encoded[name] for name in sorted(self.encoded))
        write_atomic(self.out / RESULTS_FILE, head[:-2] + ',\n "students": [\n' + students + "\n ]\n}\n")

    def close(self, interrupted: bool) -> None:
        partial = interrupted or len(self.students) < self.total
        self._save_results(partial)
        write_atomic(self.out / GRADES_FILE, self._csv(partial))

    def _results_json(self, partial: bool) -> dict:
        students = self.sorted_students()
        exercises = []
        for index, exercise in enumerate(self.course.exercises):
            results = [s.results[index] for s in students]
            exercises.append({
                "id": exercise.id,
                "title": exercise.title,
                "max_score": float(sum(c.points for c in exercise.cases)),
                "submitted": sum(1 for r in results if not _is_missing(r)),
                "passed": sum(1 for r in results if r.passed),
                "mean_score": round(sum(r.score for r in results) / len(results), 4) if results else None,
            })
        return {
            "format": FORMAT,
            "partial": partial,
            "students_graded": len(students),
            "students_total": self.total,
            "written_at": _dt.datetime.now(_dt.timezone.utc).isoformat(timespec="seconds"),
            "engine_version": __version__,
            "course": self.course.title,
            "course_root": str(self.course.root),
            "edition": self.course.edition,
            "course_fingerprint": self.fingerprint,
            "strict": self.strict,
            "notes": list(self.notes),
            "exercises": exercises,
        }  # "students" is appended by _save_results

    def _csv(self, partial: bool) -> str:
        buffer = io.StringIO()
        if partial:  # a half gradebook must not be imported by mistake
            buffer.write(f"# PARTIAL: {len(self.students)} of {self.total} students graded (interrupted); "
                         f"run course grade again to finish\n")
        writer = csv.writer(buffer, lineterminator="\n")
        writer.writerow(["student", *(e.id for e in self.course.exercises), "total"])
        for grade in self.sorted_students():
            writer.writerow([grade.student, *(f"{r.score:g}" for r in grade.results), f"{grade.score:g}"])
        return buffer.getvalue()


def html_renderer() -> Callable[..., str] | None:
    """The per-student HTML page, when the HTML reports are installed.

    Hook: if `course.reports.html` exists and has `render(results, **options) -> str`
    (the renderer convention of course/reports; options title= and student=), every
    student gets DIR/<student>/report.html. Without it there is no HTML, and nothing
    else changes; a page that fails to render is a note, never a lost grade.
    """
    try:
        from course.reports import html
    except ImportError:
        return None
    render = getattr(html, "render", None)
    return render if callable(render) else None


def write_atomic(path: Path, text: str) -> None:
    """Write via a temporary file and rename: a reader (or Ctrl-C) never sees half a file."""
    temporary = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    try:
        temporary.write_text(text, encoding="utf-8")
        os.replace(temporary, path)
    except BaseException:
        try:
            temporary.unlink()
        except OSError:
            pass
        raise
