"""The gradebook of `course grade`: the result records and the files written to --out.

    DIR/grades.csv                 one row per student: points and status per exercise, total;
                                   a "Points Possible" row with the maximum of each column
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
from typing import Callable, Sequence

from course import __version__, untrusted
from course.grading.checks import Check
from course.grading.results import EXIT_INTERRUPTED, CaseResult, CheckResult, Isolation, Status, exit_code
from course.model import Course, Exercise
from course.numbers import points as _points

GRADES_FILE = "grades.csv"
RESULTS_FILE = "results.json"
JUNIT_FILE = "junit.xml"
GRADESCOPE_FILE = "results.json"  # inside each student's folder: Gradescope's name
HTML_FILE = "report.html"
RESERVED_NAMES = (GRADES_FILE, RESULTS_FILE)  # student folders of these names would clash in --out
FORMAT = 1  # of results.json
SAVE_EVERY_SECONDS = 5.0  # results.json is rewritten at most this often while grading


@dataclass(frozen=True)
class ExerciseColumn:
    """One graded exercise, as the gradebook shows it."""

    id: str
    title: str
    max_score: float


@dataclass(frozen=True)
class ClassInfo:
    """What a gradebook says about the run besides the students: the course, the graded
    exercises, the shard. `course merge` rebuilds it from the shards' results.json, so
    that the merged files are the ones a single run writes."""

    title: str
    root: str
    edition: str
    fingerprint: str
    strict: bool
    exercises: tuple[ExerciseColumn, ...]
    shard: str | None = None  # "K/N" when this run graded one shard of the class

    @classmethod
    def of(cls, course: Course, exercises, fingerprint: str, strict: bool, shard: str | None = None) -> "ClassInfo":
        columns = tuple(ExerciseColumn(e.id, e.title, float(sum(c.points for c in e.cases))) for e in exercises)
        return cls(course.title, str(course.root), course.edition, fingerprint, strict, columns, shard)


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

    @property
    def could_not_grade(self) -> bool:
        return any(r.status is Status.COULD_NOT_GRADE for r in self.results)

    def summary(self) -> str:
        """'alice: 5/6 exercises passed, 42/50 points' (names are cleaned when found)."""
        line = (f"{self.student}: {self.passed}/{len(self.results)} exercises passed, "
                f"{self.score:g}/{self.max_score:g} points")
        if self.could_not_grade:
            count = sum(1 for r in self.results if r.status is Status.COULD_NOT_GRADE)
            line += f" ({count} could not be graded)"
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
    refused: list[str] = field(default_factory=list)  # folders not graded, with the reason

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
    def could_not_grade(self) -> list[StudentGrade]:
        """Students with at least one exercise the grader could not grade (retried by a re-run)."""
        return [s for s in self.students if s.could_not_grade]

    def closing_summary(self) -> str:
        """'3 of 200 students could not be graded; run the same command again to retry them', or ""."""
        failed = len(self.could_not_grade)
        if not failed:
            return ""
        return (f"{failed} of {len(self.students)} student{'s' if len(self.students) != 1 else ''} could not be "
                f"graded; run the same command again to retry {'them' if failed != 1 else 'it'}")

    @property
    def exit_code(self) -> int:
        """130 interrupted; 3 when any could not be graded; 0 when every exercise of every
        student passed (and no folder was refused); 1 otherwise."""
        if self.interrupted:
            return EXIT_INTERRUPTED
        code = exit_code(r.status for s in self.students for r in s.results)
        return 1 if code == 0 and self.refused else code


def _is_missing(result: CheckResult) -> bool:
    return bool(result.cases) and result.cases[0].check == Check.NOT_SUBMITTED


def batch_status(result: CheckResult) -> str:
    """One word for a gradebook cell: passed, failed, error, not_attempted, not_submitted,
    unreadable or could_not_grade."""
    if result.cases and result.cases[0].check in (Check.NOT_SUBMITTED, Check.UNREADABLE):
        return str(result.cases[0].check)
    return result.status.value


# --------------------------------------------------------------------------- results without a run


def placeholder_result(exercise: Exercise, filename: str, status: Status, check: Check, message: str) -> CheckResult:
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
                passed=bool(c["passed"]), check=c.get("check", ""), message=c.get("message") or "",
                mistake=c.get("mistake") or "", advice=c.get("advice") or "",
            )
            for c in data["cases"]
        ),
        load_error=data.get("load_error") or "",
        traceback=data.get("traceback") or "",
        output=data.get("output") or "",
        isolation=Isolation(bool(isolation["namespaces"]), isolation.get("detail", ""), isolation.get("level", "none"),
                            bool(isolation.get("sandbox_limits"))) if isolation else None,
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

    def __init__(self, info: ClassInfo, out: Path, total: int, notes: list[str], refused: Sequence[str] = ()):
        self.info, self.out, self.total = info, out, total
        self.notes, self.refused = notes, list(refused)
        self.students: dict[str, StudentGrade] = {}
        self.encoded: dict[str, str] = {}  # each student's JSON, encoded once
        self.last_save = time.monotonic()
        self.html = html_renderer()

    def add(self, grade: StudentGrade, *, write_reports: bool = True) -> None:
        """Record one student and write their files; a failure there makes them could-not-grade.

        write_reports=False: the student's folder is already in --out (`course merge`)."""
        try:
            if write_reports:
                self._write_student(grade)
        except Exception as error:  # one student's files must not stop the class
            reason = f"the reports could not be written: {type(error).__name__}: {error}"
            grade = StudentGrade(grade.student, grade.digest, [_could_not_grade_like(r, reason) for r in grade.results],
                                 notes=grade.notes)
        self.students[grade.student] = grade
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
                write_atomic(folder / HTML_FILE, self.html(grade.results, title=f"{self.info.title}: results",
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
        for index, exercise in enumerate(self.info.exercises):
            results = [s.results[index] for s in students]
            exercises.append({
                "id": exercise.id,
                "title": exercise.title,
                "max_score": exercise.max_score,
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
            "course": self.info.title,
            "course_root": self.info.root,
            "edition": self.info.edition,
            "course_fingerprint": self.info.fingerprint,
            "strict": self.info.strict,
            "shard": self.info.shard,
            "notes": sorted(dict.fromkeys(self.notes)),  # sorted: a merge of shards writes the same list
            "refused": sorted(self.refused),
            "exercises": exercises,
        }  # "students" is appended by _save_results

    def _csv(self, partial: bool) -> str:
        """grades.csv: a row per student with points and status per exercise and the total.

        The second row ("Points Possible", as Canvas reads it) holds each column's maximum.
        Every text cell goes through untrusted.csv_cell, so a folder named =HYPERLINK(...)
        stays text in a spreadsheet.
        """
        buffer = io.StringIO()
        if partial:  # a half gradebook must not be imported by mistake
            buffer.write(f"# PARTIAL: {len(self.students)} of {self.total} students graded (interrupted); "
                         f"run course grade again to finish\n")
        failed = sum(1 for g in self.students.values() if g.could_not_grade)
        if failed:
            buffer.write(f"# COULD NOT GRADE: {failed} of {len(self.students)} students have exercises the grader "
                         f"could not grade (status could_not_grade, 0 points); run course grade again to retry\n")
        writer = csv.writer(buffer, lineterminator="\n")
        exercises = self.info.exercises
        header = ["student"]
        for exercise in exercises:
            header += [exercise.id, f"{exercise.id} status"]
        writer.writerow([untrusted.csv_cell(c) for c in [*header, "total"]])
        maxima = ["Points Possible"]
        for exercise in exercises:
            maxima += [_points(exercise.max_score), ""]
        maxima.append(_points(sum(e.max_score for e in exercises)))
        writer.writerow(maxima)
        for grade in self.sorted_students():
            row: list = [untrusted.csv_cell(grade.student)]
            for result in grade.results:
                row += [_points(result.score), batch_status(result)]
            writer.writerow(row + [_points(grade.score)])
        return buffer.getvalue()




def _could_not_grade_like(result: CheckResult, reason: str) -> CheckResult:
    """`result`'s exercise and cases, as could not grade with `reason` (no points)."""
    from course.grading.checks import message as check_message

    reason = untrusted.clean(reason)
    text = check_message(Check.COULD_NOT_GRADE, False, detail=reason)
    cases = tuple(CaseResult(c.name, c.visibility, c.points, 0.0, False, Check.COULD_NOT_GRADE, text)
                  for c in result.cases)
    return CheckResult(exercise=result.exercise, status=Status.COULD_NOT_GRADE, score=0.0,
                       max_score=result.max_score, cases=cases, submission=result.submission,
                       notes=(f"could not grade: {reason}; run the same command again to retry",))


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
