"""Grade a whole class: `course grade SUBMISSIONS --out DIR [--jobs N] [--force] [--exercise ID]...
[--shard K/N] [--executor local|dask://HOST:PORT]`.

SUBMISSIONS holds one folder per student with `<exercise>.py` files. Every file is
graded by course.grading.check.check_exercise, each in a fresh sandboxed child, as
`course check` grades it; nothing here judges anything. This module decides what to
grade and in which order, and hands the work to the others:

    submissions.py  which folders are students, under which (cleaned) names
    course.grading.submission   reads each student's file safely, in this process
    pool.py         grades the files in parallel, in pre-forked workers (CheckPool)
    cluster.py      or on a Dask cluster (DaskExecutor): the same results, the same files
    progress.py     what is being graded now, for an honest progress display
    gradebook.py    the result records, and the files written to DIR (grades.csv,
                    results.json, each student's junit.xml, results.json, report.html)
    merge.py        `course merge`: the shards' outputs joined into what one run writes

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
from dataclasses import dataclass
from pathlib import Path
from typing import AbstractSet, Callable, Sequence

from course import __version__
from course.errors import UsageError
from course.grading.checks import Check
from course.grading.results import CheckResult, Status
from course.grading.submission import NOT_SUBMITTED, SourceFile, read_source
from course.instructor.gradebook import (
    FORMAT,
    ClassInfo,
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
from course.instructor.progress import Tracker
from course.instructor.submissions import Student, find_students, shard_of
from course.model import Course, Exercise

__all__ = ["DEFAULT_JOBS", "BatchResult", "Shard", "StudentGrade", "assigned_exercises", "course_fingerprint",
           "grade_class", "html_renderer"]


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


@dataclass(frozen=True)
class Shard:
    """`--shard K/N`: this run grades the students whose folder name hashes to K of N."""

    index: int
    count: int

    @classmethod
    def parse(cls, text: str) -> "Shard":
        index, slash, count = str(text).partition("/")
        try:
            shard = cls(int(index), int(count))
        except ValueError:
            shard = None
        if not slash or shard is None or not 1 <= shard.index <= shard.count:
            raise UsageError(f"--shard {text}: expected K/N with 1 <= K <= N, e.g. --shard 1/4")
        return shard

    def __str__(self) -> str:
        return f"{self.index}/{self.count}"

    def holds(self, name: str) -> bool:
        return shard_of(name, self.count) == self.index


def assigned_exercises(course: Course, ids: Sequence[str] = ()) -> list[Exercise]:
    """The exercises to grade, in the course's order: all of them, or those of `--exercise`."""
    if not ids:
        return list(course.exercises)
    known = {e.id for e in course.exercises}
    for exercise_id in ids:
        if exercise_id not in known:
            import difflib

            close = difflib.get_close_matches(exercise_id, sorted(known), n=1)
            hint = f"; did you mean {close[0]}?" if close else f"; known exercises: {', '.join(sorted(known))}"
            raise UsageError(f"--exercise {exercise_id}: no such exercise in this course{hint}")
    return [e for e in course.exercises if e.id in set(ids)]


def make_executor(executor: str, course: Course, *, jobs: int, strict: bool, fingerprint: str, tracker=None):
    """`local` (the pre-forked pool) or a Dask scheduler's address (dask://, tcp:// or tls://)."""
    if executor in ("", "local"):
        return CheckPool(course, jobs=jobs, strict=strict, tracker=tracker)
    from course.instructor import cluster

    return cluster.DaskExecutor(executor, course, fingerprint=fingerprint, strict=strict, tracker=tracker)


def grade_class(
    course: Course,
    submissions: Path,
    out: Path,
    *,
    jobs: int = DEFAULT_JOBS,
    force: bool = False,
    strict: bool = False,
    exercises: Sequence[str] = (),
    shard: Shard | str | None = None,
    executor: str = "local",
    tracker: Tracker | None = None,
    on_student: Callable[[StudentGrade], None] | None = None,
    on_start: Callable[[int], None] | None = None,
) -> BatchResult:
    """Grade every student folder of `submissions`; write the gradebook and reports to `out`.

    exercises: the ids to grade (`--exercise`; default every exercise): files of the
    others are neither graded nor missed. shard: grade only the students of that shard
    (`--shard K/N`; `course merge` joins the shards' outputs). executor: "local" (the
    pre-forked workers) or a Dask scheduler's address (course.instructor.cluster).
    tracker: counts and the files being graded, for a progress display.
    on_start(number of students) is called once, then on_student(grade) as each student
    is finished (in the order they finish). Ctrl-C and SIGTERM end the run early with
    BatchResult.interrupted set; what was finished is written, marked partial.
    """
    started = time.monotonic()
    submissions, out = Path(submissions), Path(out)
    if isinstance(shard, str):
        shard = Shard.parse(shard)
    assigned = assigned_exercises(course, exercises)
    _check_folders(submissions, out)
    if strict and executor in ("", "local"):  # on Dask, each worker refuses for itself
        _require_isolation()
    try:
        students, refused, notes = find_students(submissions, out, RESERVED_NAMES,
                                                 select=shard.holds if shard is not None else None)
    except OSError as error:
        raise UsageError(f"cannot read the submissions folder {submissions}: {error.strerror or error}") from None
    notes += [r.note() for r in refused]
    fingerprint = course_fingerprint(course)
    info = ClassInfo.of(course, assigned, fingerprint, strict, str(shard) if shard is not None else None)
    previous, note = ({}, "") if force else _load_previous(out, fingerprint, strict)
    if note:
        notes.append(note)
    try:
        out.mkdir(parents=True, exist_ok=True)
    except OSError as error:
        raise UsageError(f"cannot create --out {out}: {error.strerror or error}") from None
    book = Gradebook(info, out, len(students), notes, [r.note() for r in refused])
    tracker = tracker if tracker is not None else Tracker()
    if on_start is not None:
        on_start(len(students))

    tasks: list[Task] = []
    waiting: dict[str, dict[str, CheckResult]] = {}  # student -> exercise -> result, while grading
    digests: dict[str, str] = {}
    student_notes: dict[str, list[str]] = {}
    known = {e.id for e in course.exercises}

    def finish(grade: StudentGrade) -> None:
        book.add(grade)  # a student whose files cannot be written becomes could-not-grade there
        tracker.student_done()
        if on_student is not None:
            on_student(grade)

    interrupted = False
    with Interrupts(KeyboardInterrupt, signal.SIGINT, signal.SIGTERM) as interrupts:
        try:
            for student in students:
                try:
                    files, digest, extra = _read_student(student, assigned, known)
                except Exception as error:  # one student's odd folder must not stop the class
                    finish(_could_not_grade_student(student.name, assigned, f"its folder could not be read: {error}"))
                    continue
                digests[student.name], student_notes[student.name] = digest, extra
                reused = _reuse(previous.get(student.name), digest, assigned)
                if reused is not None:
                    finish(reused)
                    continue
                waiting[student.name] = {}
                for exercise in assigned:
                    file, filename = files[exercise.id], f"{student.name}/{exercise.id}.py"
                    if file.source is not None:
                        imported = tuple((name, source) for name in exercise.imports if name in files
                                         for source in [files[name].source] if source is not None)
                        tasks.append(Task((student.name, exercise.id), exercise.id, file.source, filename, imported))
                        continue
                    missing = file.problem == NOT_SUBMITTED
                    message = (f"not submitted: there is no {exercise.id}.py in {student.name}/" if missing
                               else f"{filename} {file.problem}")
                    waiting[student.name][exercise.id] = placeholder_result(
                        exercise, filename, Status.NOT_ATTEMPTED if missing else Status.ERROR,
                        Check.NOT_SUBMITTED if missing else Check.UNREADABLE, message)
            order = [s.name for s in students]
            limits = {e.id: float(e.limits.wall_seconds) for e in assigned}
            tracker.plan(len(students), {t.key: (t.filename, limits[t.exercise]) for t in tasks}, len(tasks))

            def flush_ready() -> None:
                for name in order:
                    done = waiting.get(name)
                    if done is not None and len(done) == len(assigned):
                        del waiting[name]
                        grade = StudentGrade(name, digests[name], [done[e.id] for e in assigned],
                                             notes=student_notes[name])
                        finish(grade)

            flush_ready()  # students with nothing to run
            pool = make_executor(executor, course, jobs=jobs, strict=strict, fingerprint=fingerprint,
                                 tracker=tracker) if tasks else None
            results = pool.run(tasks) if pool is not None else iter(())
            try:
                for task, result in results:
                    student, exercise_id = task.key
                    waiting[student][exercise_id] = result
                    tracker.file_done()
                    flush_ready()
                    book.save_if_due()
                    interrupts.check()
            finally:
                close = getattr(results, "close", None)
                if close is not None:
                    close()
        except KeyboardInterrupt:
            interrupted = True
        except OSError as error:  # a full disk, a folder made read-only: stop, say where
            raise UsageError(f"cannot write the results to {out}: {error.strerror or error}"
                             f"{' (' + error.filename + ')' if error.filename else ''}") from None
    try:
        book.close(interrupted)
    except OSError as error:
        raise UsageError(f"cannot write the results to {out}: {error.strerror or error}") from None
    return BatchResult(out, tuple(e.id for e in assigned), book.sorted_students(), len(students),
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


def _read_student(student: Student, exercises: Sequence[Exercise],
                  known: AbstractSet[str] = frozenset()) -> tuple[dict[str, SourceFile], str, list[str]]:
    """Each exercise's file, the digest of all of them, and notes (stray files).

    known: every exercise id of the course; a file of one that is not assigned
    (`--exercise`) is left alone without a note."""
    from course import untrusted

    notes = []
    folder = student.folder
    files = {e.id: read_source(folder / f"{e.id}.py", folder) for e in exercises}
    expected = {f"{e.id}.py" for e in exercises}
    try:
        skipped = {f"{exercise_id}.py" for exercise_id in known}
        stray = sorted(n for n in os.listdir(folder) if n.endswith(".py") and n not in expected and n not in skipped)
    except OSError:
        stray = []
    if stray:
        import difflib

        for name in stray:
            shown = untrusted.name(name)
            close = difflib.get_close_matches(shown, sorted(expected | skipped), n=1)
            notes.append(f"{shown} is not graded (no such exercise)" + (f"; did you mean {close[0]}?" if close else ""))
    # The files an assigned exercise may import (its `imports`) count too, assigned or not:
    # a change there can change the grade.
    for name in sorted({name for e in exercises for name in e.imports} - set(files)):
        files[name] = read_source(folder / f"{name}.py", folder)
    digest = hashlib.sha256()
    for name in sorted(files, key=lambda n: (n not in {e.id for e in exercises}, n)):
        digest.update(f"{name}\0".encode() + hashlib.sha256(files[name].fingerprint).digest())
    return files, digest.hexdigest(), notes
