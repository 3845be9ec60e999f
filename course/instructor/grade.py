"""Grade a whole class: `course grade SUBMISSIONS --out DIR [--jobs N] [--force]`.

SUBMISSIONS holds one folder per student with `<exercise>.py` files. Every file is
graded by course.grading.check.check_exercise, each in a fresh sandboxed child, as
`course check` grades it; nothing here judges anything. This module decides what to
grade and in which order, and hands the work to the others:

    submissions.py  which folders are students, under which (cleaned) names
    course.grading.submission   reads each student's file safely, in this process
    pool.py         grades the files in parallel, in pre-forked workers (CheckPool)
    gradebook.py    the result records, and the files written to DIR (grades.csv,
                    results.json, each student's junit.xml, results.json, report.html)

Robustness: one student never stops the batch. Any failure while reading, grading or
writing one student becomes that student's "could not grade" result with the reason;
the others are graded and every output file is written. "Could not grade" is never
points and never reused: a re-run grades those students again. Ctrl-C (or SIGTERM)
stops the workers, whose sandboxes are closed, writes what is done marked "partial",
and the command exits 130. Re-running reuses the results of students whose files (and
the course) have not changed; `force` regrades everyone.
"""
from __future__ import annotations

import hashlib
import json
import os
import signal
import time
from pathlib import Path
from typing import Callable, Sequence

from course import __version__
from course.errors import UsageError
from course.grading.checks import Check
from course.grading.results import CheckResult, Status
from course.grading.submission import NOT_SUBMITTED, SourceFile, read_source
from course.instructor.gradebook import (
    FORMAT,
    RESERVED_NAMES,
    RESULTS_FILE,
    BatchResult,
    Gradebook,
    StudentGrade,
    html_renderer,
    placeholder_result,
    result_from_dict,
)
from course.instructor.pool import DEFAULT_JOBS, CheckPool, Interrupts, Task
from course.instructor.submissions import Student, find_students
from course.model import Course, Exercise

__all__ = ["DEFAULT_JOBS", "BatchResult", "StudentGrade", "course_fingerprint", "grade_class", "html_renderer"]


def course_fingerprint(course: Course) -> str:
    """Changes when the engine or anything an exercise is graded with changes (a regrade is due)."""
    digest = hashlib.sha256(f"engine {__version__}\nedition {course.edition}\n".encode())
    for exercise in course.exercises:
        for path in sorted(p for p in exercise.folder.rglob("*") if p.is_file() and "__pycache__" not in p.parts):
            digest.update(f"{exercise.id}/{path.relative_to(exercise.folder).as_posix()}\n".encode())
            digest.update(hashlib.sha256(path.read_bytes()).digest())
    return digest.hexdigest()


def _load_previous(out: Path, fingerprint: str, strict: bool) -> tuple[dict[str, dict], str]:
    """Student -> their entry in the previous results.json, if it can be reused; and a note."""
    path = out / RESULTS_FILE
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        return {}, ""
    except (OSError, ValueError):
        return {}, f"the previous {RESULTS_FILE} could not be read: regrading everyone"
    if not isinstance(data, dict) or data.get("format") != FORMAT:
        return {}, f"the previous {RESULTS_FILE} is not from this version: regrading everyone"
    if data.get("course_fingerprint") != fingerprint or bool(data.get("strict")) != strict:
        return {}, "the course (or --strict) changed since the last run: regrading everyone"
    previous = {}
    for entry in data.get("students") or []:
        if isinstance(entry, dict) and isinstance(entry.get("student"), str):
            previous[entry["student"]] = entry
    return previous, ""


def _reuse(entry: dict | None, digest: str, exercises: Sequence[Exercise]) -> StudentGrade | None:
    """The previous run's grade if the files are the same and every result is a real grade."""
    if not entry or entry.get("digest") != digest:
        return None
    try:
        results = [result_from_dict(r) for r in entry["results"]]
    except (KeyError, TypeError, ValueError):
        return None
    if [r.exercise for r in results] != [e.id for e in exercises]:
        return None
    if any(r.status is Status.COULD_NOT_GRADE for r in results):
        return None  # the grader failed last time: try again, never keep that
    return StudentGrade(entry["student"], digest, results, reused=True, notes=list(entry.get("notes") or []))


def grade_class(
    course: Course,
    submissions: Path,
    out: Path,
    *,
    jobs: int = DEFAULT_JOBS,
    force: bool = False,
    strict: bool = False,
    on_student: Callable[[StudentGrade], None] | None = None,
    on_start: Callable[[int], None] | None = None,
) -> BatchResult:
    """Grade every student folder of `submissions`; write the gradebook and reports to `out`.

    on_start(number of students) is called once, then on_student(grade) as each student
    is finished (in the order they finish). Ctrl-C and SIGTERM end the run early with
    BatchResult.interrupted set; what was finished is written, marked partial.
    """
    started = time.monotonic()
    submissions, out = Path(submissions), Path(out)
    _check_folders(submissions, out)
    if strict:
        _require_isolation()
    try:
        students, refused, notes = find_students(submissions, out, RESERVED_NAMES)
    except OSError as error:
        raise UsageError(f"cannot read the submissions folder {submissions}: {error.strerror or error}") from None
    notes += [r.note() for r in refused]
    exercises = list(course.exercises)
    fingerprint = course_fingerprint(course)
    previous, note = ({}, "") if force else _load_previous(out, fingerprint, strict)
    if note:
        notes.append(note)
    try:
        out.mkdir(parents=True, exist_ok=True)
    except OSError as error:
        raise UsageError(f"cannot create --out {out}: {error.strerror or error}") from None
    book = Gradebook(course, out, fingerprint, strict, len(students), notes)
    if on_start is not None:
        on_start(len(students))

    tasks: list[Task] = []
    waiting: dict[str, dict[str, CheckResult]] = {}  # student -> exercise -> result, while grading
    digests: dict[str, str] = {}
    student_notes: dict[str, list[str]] = {}

    def finish(grade: StudentGrade) -> None:
        book.add(grade)  # a student whose files cannot be written becomes could-not-grade there
        if on_student is not None:
            on_student(grade)

    interrupted = False
    with Interrupts(KeyboardInterrupt, signal.SIGINT, signal.SIGTERM) as interrupts:
        try:
            for student in students:
                try:
                    files, digest, extra = _read_student(student, exercises)
                except Exception as error:  # one student's odd folder must not stop the class
                    finish(_could_not_grade_student(student.name, exercises, f"its folder could not be read: {error}"))
                    continue
                digests[student.name], student_notes[student.name] = digest, extra
                reused = _reuse(previous.get(student.name), digest, exercises)
                if reused is not None:
                    finish(reused)
                    continue
                waiting[student.name] = {}
                for exercise in exercises:
                    file, filename = files[exercise.id], f"{student.name}/{exercise.id}.py"
                    if file.source is not None:
                        tasks.append(Task((student.name, exercise.id), exercise.id, file.source, filename))
                        continue
                    missing = file.problem == NOT_SUBMITTED
                    message = (f"not submitted: there is no {exercise.id}.py in {student.name}/" if missing
                               else f"{filename} {file.problem}")
                    waiting[student.name][exercise.id] = placeholder_result(
                        exercise, filename, Status.NOT_ATTEMPTED if missing else Status.ERROR,
                        Check.NOT_SUBMITTED if missing else Check.UNREADABLE, message)
            order = [s.name for s in students]

            def flush_ready() -> None:
                for name in order:
                    done = waiting.get(name)
                    if done is not None and len(done) == len(exercises):
                        del waiting[name]
                        grade = StudentGrade(name, digests[name], [done[e.id] for e in exercises],
                                             notes=student_notes[name])
                        finish(grade)

            flush_ready()  # students with nothing to run
            pool = CheckPool(course, jobs=jobs, strict=strict)
            results = pool.run(tasks)
            try:
                for task, result in results:
                    student, exercise_id = task.key
                    waiting[student][exercise_id] = result
                    flush_ready()
                    book.save_if_due()
                    interrupts.check()
            finally:
                results.close()
        except KeyboardInterrupt:
            interrupted = True
        except OSError as error:  # a full disk, a folder made read-only: stop, say where
            raise UsageError(f"cannot write the results to {out}: {error.strerror or error}"
                             f"{' (' + error.filename + ')' if error.filename else ''}") from None
    try:
        book.close(interrupted)
    except OSError as error:
        raise UsageError(f"cannot write the results to {out}: {error.strerror or error}") from None
    return BatchResult(out, tuple(e.id for e in exercises), book.sorted_students(), len(students),
                       interrupted=interrupted, seconds=time.monotonic() - started, notes=notes,
                       refused=[r.note() for r in refused])


def _could_not_grade_student(name: str, exercises: Sequence[Exercise], reason: str) -> StudentGrade:
    from course import untrusted
    from course.grading.check import could_not_grade

    results = [could_not_grade(e, f"{name}/{e.id}.py", untrusted.clean(reason)) for e in exercises]
    return StudentGrade(name, "", results)


def _check_folders(submissions: Path, out: Path) -> None:
    if not submissions.exists():
        raise UsageError(f"submissions folder not found: {submissions}")
    if not submissions.is_dir():
        raise UsageError(f"{submissions} is not a folder (SUBMISSIONS holds one folder per student)")
    if out.exists() and not out.is_dir():
        raise UsageError(f"--out {out} exists and is not a folder")
    sub, dest = Path(os.path.realpath(submissions)), Path(os.path.realpath(out))
    if dest == sub:
        raise UsageError("--out must not be the submissions folder itself: use e.g. --out grades")
    if dest.is_relative_to(sub) and dest.parent != sub:
        raise UsageError(f"--out {out} is inside a student's folder; put it beside SUBMISSIONS")


def _require_isolation() -> None:
    from course.grading import sandbox
    from course.grading.check import SandboxRefused

    isolation = sandbox.isolation_available()
    if not isolation.namespaces:
        raise SandboxRefused(f"--strict: refusing to grade without isolation: {isolation.detail}")


def _read_student(student: Student, exercises: Sequence[Exercise]) -> tuple[dict[str, SourceFile], str, list[str]]:
    """Each exercise's file, the digest of all of them, and notes (stray files)."""
    from course import untrusted

    notes = []
    folder = student.folder
    files = {e.id: read_source(folder / f"{e.id}.py", folder) for e in exercises}
    expected = {f"{e.id}.py" for e in exercises}
    try:
        stray = sorted(n for n in os.listdir(folder) if n.endswith(".py") and n not in expected)
    except OSError:
        stray = []
    if stray:
        import difflib

        for name in stray:
            shown = untrusted.name(name)
            close = difflib.get_close_matches(shown, sorted(expected), n=1)
            notes.append(f"{shown} is not graded (no such exercise)" + (f"; did you mean {close[0]}?" if close else ""))
    digest = hashlib.sha256()
    for exercise in exercises:
        digest.update(f"{exercise.id}\0".encode() + hashlib.sha256(files[exercise.id].fingerprint).digest())
    return files, digest.hexdigest(), notes
