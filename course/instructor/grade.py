"""Grade a whole class: `course grade SUBMISSIONS --out DIR [--jobs N] [--force]`.

SUBMISSIONS holds one folder per student with `<exercise>.py` files. Every file is
graded by course.grading.check.check_exercise, each in a fresh sandboxed child, as
`course check` grades it; nothing here judges anything. This module decides what to
grade and in which order, and hands the work to the others:

    submissions.py  reads each student's file safely, in this process
    pool.py         grades the files in parallel, in pre-forked workers (CheckPool)
    gradebook.py    the result records, and the files written to DIR (grades.csv,
                    results.json, each student's junit.xml, results.json, report.html)

Robustness: any error while grading one file scores that file 0 with the reason. Ctrl-C
(or SIGTERM) stops the workers, whose sandboxes are closed, writes what is done marked
"partial", and the command exits 130. Re-running reuses the results of students whose
files (and the course) have not changed; `force` regrades everyone.

The names of those modules used by callers and tests are re-exported here.
"""
from __future__ import annotations

import hashlib
import json
import os
import signal
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Callable, Sequence

from course import __version__
from course.errors import UsageError
from course.grading.results import CheckResult, Status
from course.instructor.gradebook import (
    FORMAT,
    GRADES_FILE,
    GRADESCOPE_FILE,
    HTML_FILE,
    JUNIT_FILE,
    RESERVED_NAMES,
    RESULTS_FILE,
    SAVE_EVERY_SECONDS,
    BatchResult,
    Gradebook,
    StudentGrade,
    html_renderer,
    placeholder_result,
    result_from_dict,
    write_atomic,
)
from course.instructor.pool import (
    AHEAD,
    AHEAD_WAIT,
    DEFAULT_JOBS,
    CheckPool,
    Interrupts,
    Task,
    check_source,
    grading_hidden_paths,
    start_sandbox,
)
from course.instructor.submissions import MAX_SOURCE_BYTES, NOT_SUBMITTED, SourceFile, decode_source, read_source
from course.model import Course, Exercise

__all__ = [
    "AHEAD", "AHEAD_WAIT", "DEFAULT_JOBS", "FORMAT", "GRADES_FILE", "GRADESCOPE_FILE", "HTML_FILE", "JUNIT_FILE",
    "MAX_SOURCE_BYTES", "NOT_SUBMITTED", "RESERVED_NAMES", "RESULTS_FILE", "SAVE_EVERY_SECONDS",
    "BatchResult", "CheckPool", "SourceFile", "StudentGrade", "Task",
    "check_source", "course_fingerprint", "decode_source", "find_students", "grade_class", "grading_hidden_paths",
    "html_renderer", "placeholder_result", "read_source", "result_from_dict", "start_sandbox", "write_atomic",
]


@dataclass(frozen=True)
class _Student:
    name: str
    folder: Path


def find_students(submissions: Path, out: Path) -> tuple[list[_Student], list[str]]:
    """Student folders in name order, and notes on what was left out and why."""
    notes, students = [], []
    out_real = os.path.realpath(out)
    for entry in sorted(submissions.iterdir(), key=lambda p: p.name):
        if entry.name.startswith("."):
            continue
        if os.path.realpath(entry) == out_real:
            continue  # the gradebook itself, written inside SUBMISSIONS
        if not entry.is_dir():
            notes.append(f"ignored {entry.name}: not a folder (each student is a folder of <exercise>.py files)")
            continue
        if entry.name in RESERVED_NAMES:
            raise UsageError(f"a student folder is named {entry.name!r}, which is also a file `course grade` "
                             f"writes in --out; rename the folder")
        students.append(_Student(entry.name, entry))
    return students, notes


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
    if not entry or entry.get("digest") != digest:
        return None
    try:
        results = [result_from_dict(r) for r in entry["results"]]
    except (KeyError, TypeError, ValueError):
        return None
    if [r.exercise for r in results] != [e.id for e in exercises]:
        return None
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
    students, notes = find_students(submissions, out)
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
        book.add(grade)
        if on_student is not None:
            on_student(grade)

    interrupted = False
    with Interrupts(KeyboardInterrupt, signal.SIGINT, signal.SIGTERM) as interrupts:
        try:
            for student in students:
                files, digest, extra = _read_student(student, exercises, submissions)
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
                        "not_submitted" if missing else "unreadable", message)
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
            hidden = grading_hidden_paths(course, submissions, out)
            pool = CheckPool(course, jobs=jobs, hidden=hidden, strict=strict)
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
    batch = BatchResult(out, tuple(e.id for e in exercises), book.sorted_students(), len(students),
                        interrupted=interrupted, seconds=time.monotonic() - started, notes=notes)
    return batch


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


def _read_student(student: _Student, exercises: Sequence[Exercise], submissions: Path
                  ) -> tuple[dict[str, SourceFile], str, list[str]]:
    """Each exercise's file, the digest of all of them, and notes (stray files)."""
    notes = []
    folder = student.folder
    if not os.path.realpath(folder).startswith(os.path.realpath(submissions) + os.sep):
        bad = SourceFile(None, "is in a student folder that is a link out of SUBMISSIONS", b"outside")
        files = {e.id: bad for e in exercises}
    else:
        files = {e.id: read_source(folder / f"{e.id}.py", folder) for e in exercises}
        expected = {f"{e.id}.py" for e in exercises}
        try:
            stray = sorted(p.name for p in folder.iterdir() if p.suffix == ".py" and p.name not in expected)
        except OSError:
            stray = []
        if stray:
            import difflib

            for name in stray:
                close = difflib.get_close_matches(name, sorted(expected), n=1)
                notes.append(f"{name} is not graded (no such exercise)" + (f"; did you mean {close[0]}?" if close else ""))
    digest = hashlib.sha256()
    for exercise in exercises:
        digest.update(f"{exercise.id}\0".encode() + hashlib.sha256(files[exercise.id].fingerprint).digest())
    return files, digest.hexdigest(), notes
