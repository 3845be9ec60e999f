"""Grade a whole class: `course grade SUBMISSIONS --out DIR [--jobs N] [--force]`.

SUBMISSIONS holds one folder per student with `<exercise>.py` files. Every file is
graded by course.grading.check.check_exercise, each in a fresh sandboxed child, as
`course check` grades it; nothing here judges anything. This module decides what to
grade, runs it in parallel and writes:

    DIR/grades.csv                 one row per student: student, a column per exercise, total
    DIR/results.json               everything, with a sha256 of each student's files
    DIR/<student>/junit.xml        JUnit XML, one suite per exercise
    DIR/<student>/results.json     Gradescope's autograder format
    DIR/<student>/report.html      when course.reports.html exists (the pictures work)

Speed: `course check` pays for a Python start, numpy, loading the course and a
sandboxed child. Here the course is loaded once and `--jobs` worker processes are
forked from this one after numpy is imported (CheckPool), so a submission costs only
its own sandboxed child and the comparisons. The workers are processes, not threads:
check_exercise runs trusted reference code with contextlib.redirect_stdout and
warnings.catch_warnings, which swap process-wide state and are not thread-safe.

Robustness: the parent reads each file itself (a regular file inside the student's
folder, at most MAX_SOURCE_BYTES, decoded as Python would), so a symlink to a reference,
a FIFO, a folder or a huge file never reaches a grader; anything the submission does
in its child (crash, hang, flood, exit, attack) is the sandbox's to report, and any
error while grading one file scores that file 0 with the reason. Ctrl-C (or SIGTERM)
stops the workers, whose sandboxes are closed, writes what is done marked "partial",
and the command exits 130. Re-running reuses the results of students whose files (and
the course) have not changed; `force` regrades everyone.
"""
from __future__ import annotations

import csv
import datetime as _dt
import hashlib
import io
import json
import os
import signal
import stat
import sys
import threading
import time
import tokenize
from collections import deque
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable, Iterable, Iterator, Sequence

from course import __version__
from course.errors import CourseError, UsageError
from course.grading.results import CaseResult, CheckResult, Isolation, Status
from course.model import Course, Exercise

GRADES_FILE = "grades.csv"
RESULTS_FILE = "results.json"
JUNIT_FILE = "junit.xml"
GRADESCOPE_FILE = "results.json"  # inside each student's folder: Gradescope's name
HTML_FILE = "report.html"
RESERVED_NAMES = (GRADES_FILE, RESULTS_FILE)
MAX_SOURCE_BYTES = 1 << 20  # a submission is a small Python file; more is refused unread
FORMAT = 1  # of results.json
DEFAULT_JOBS = 2
SAVE_EVERY_SECONDS = 5.0  # results.json is rewritten at most this often while grading
NOT_SUBMITTED = "not submitted"


# --------------------------------------------------------------------------- records


@dataclass(frozen=True)
class Task:
    """One source to check against one exercise; `key` identifies it to the caller."""

    key: tuple
    exercise: str
    source: str
    filename: str


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


# --------------------------------------------------------------------------- reading a submission


@dataclass(frozen=True)
class SourceFile:
    """A student's file as the parent read it: `source` to grade, or `problem` (why not)."""

    source: str | None
    problem: str
    fingerprint: bytes  # what the student's digest covers: the bytes, or the problem


def read_source(path: Path, folder: Path) -> SourceFile:
    """The file at `path`, if it is a regular file inside `folder` that Python can decode.

    The parent never follows a link out of the student's folder (a link to a reference
    solution or another student's file would otherwise be graded as theirs), never opens
    a FIFO or device for reading, and reads at most MAX_SOURCE_BYTES.
    """
    try:
        info = os.lstat(path)
    except FileNotFoundError:
        return SourceFile(None, NOT_SUBMITTED, b"missing")
    except OSError as error:
        return _refused(f"cannot be read: {error.strerror}")
    if stat.S_ISLNK(info.st_mode):
        target = Path(os.path.realpath(path))
        if not target.is_relative_to(os.path.realpath(folder)):
            return _refused("is a symbolic link to a file outside the student's folder")
        try:
            info = os.stat(path)
        except OSError:
            return _refused("is a broken symbolic link")
    if stat.S_ISDIR(info.st_mode):
        return _refused("is a folder, not a Python file")
    if not stat.S_ISREG(info.st_mode):
        return _refused("is not a regular file")
    if info.st_size > MAX_SOURCE_BYTES:
        return _refused(f"is {info.st_size:,} bytes, more than the {MAX_SOURCE_BYTES:,} bytes a submission may have")
    try:
        fd = os.open(path, os.O_RDONLY | getattr(os, "O_NONBLOCK", 0))
        try:
            if not stat.S_ISREG(os.fstat(fd).st_mode):  # replaced since lstat
                return _refused("is not a regular file")
            data = _read_at_most(fd, MAX_SOURCE_BYTES + 1)
        finally:
            os.close(fd)
    except OSError as error:
        return _refused(f"cannot be read: {error.strerror}")
    if len(data) > MAX_SOURCE_BYTES:
        return _refused(f"is more than the {MAX_SOURCE_BYTES:,} bytes a submission may have")
    try:
        return SourceFile(decode_source(data), "", data)
    except (SyntaxError, UnicodeDecodeError, LookupError) as error:
        return SourceFile(None, _undecodable(data, error), data)


def _refused(problem: str) -> SourceFile:
    return SourceFile(None, problem, problem.encode())


def _read_at_most(fd: int, limit: int) -> bytes:
    chunks, size = [], 0
    while size < limit:
        chunk = os.read(fd, min(1 << 16, limit - size))
        if not chunk:
            break
        chunks.append(chunk)
        size += len(chunk)
    return b"".join(chunks)


def _undecodable(data: bytes, error: Exception) -> str:
    try:
        data.decode("utf-8")
    except UnicodeDecodeError as bad:
        line = data[: bad.start].count(b"\n") + 1
        return (f"is not UTF-8 text (byte 0x{data[bad.start]:02x} on line {line}) and declares no other "
                f"encoding: save it as UTF-8")
    reason = error.msg if isinstance(error, SyntaxError) else str(error)
    return f"cannot be decoded as Python source: {reason}"


def decode_source(data: bytes) -> str:
    """Text as Python reads a source file: UTF-8, or the encoding its coding line names."""
    encoding, _ = tokenize.detect_encoding(io.BytesIO(data).readline)
    text = data.decode(encoding)
    return text[1:] if text.startswith("\ufeff") else text


# --------------------------------------------------------------------------- checking, in parallel


def grading_hidden_paths(course: Course, *extra: Path) -> list:
    """What a sandboxed submission must not see: the course, the engine, progress, and `extra`
    (the other students' submissions, the gradebook being written)."""
    from course.grading.check import hidden_paths

    return [*hidden_paths(course), *extra]


_START = object()  # check_source: start the sandbox session here


def start_sandbox(exercise: Exercise, source: str, *, filename: str, hidden: Sequence = (), strict: bool = False):
    """The sandbox session for `source`, started now so that its child imports numpy and the
    submission meanwhile; None for an unchanged starter (graded without running anything)."""
    from course.grading import sandbox
    from course.grading.check import SandboxRefused, is_unchanged_starter, sandbox_limits

    if is_unchanged_starter(exercise, source):
        return None
    try:
        return sandbox.start(source, filename=filename, function=exercise.function,
                             limits=sandbox_limits(exercise), hidden_paths=hidden, strict=strict)
    except sandbox.SandboxUnavailable as error:
        raise SandboxRefused(f"--strict: refusing to grade without isolation: {error}") from None


def check_source(course: Course, exercise: Exercise, source: str, *, filename: str,
                 hidden: Sequence = (), strict: bool = False, session=_START) -> CheckResult:
    """check_exercise on one source, with `hidden` paths out of the child's view.

    session: one start_sandbox already gave for this source (it is closed here), or an
    exception it raised. A problem while grading this one file (the sandbox failed, a
    reference raised) becomes an error result with the reason, so a batch goes on; only
    --strict refusing to grade without isolation is raised (it refuses every file alike).
    """
    from course.grading.check import SandboxRefused, check_exercise

    try:
        if session is _START:
            session = start_sandbox(exercise, source, filename=filename, hidden=hidden, strict=strict)
        if isinstance(session, BaseException):
            raise session
        return check_exercise(course, exercise, source, filename=filename, strict=strict, session=session)
    except SandboxRefused:
        raise
    except CourseError as error:
        return placeholder_result(exercise, filename, Status.ERROR, "grader", f"could not be graded: {error}")
    except Exception as error:  # a grader bug must cost one file, not the class
        return placeholder_result(exercise, filename, Status.ERROR, "grader",
                                  f"could not be graded (internal error: {type(error).__name__}: {error})")
    finally:
        if session is not None and not isinstance(session, BaseException) and session is not _START:
            session.close()


class _Stopped(BaseException):
    """Raised in a worker by SIGTERM: unwinds through check_exercise, closing its sandbox."""


_CLEANUP = {"close", "_shutdown", "_kill_all", "_reap", "_conclude", "_wait_exit", "_drain_outputs", "__exit__"}


def _in_sandbox_cleanup(frame) -> bool:
    """Is a sandbox session being stopped (course/grading/sandbox.py) somewhere up this stack?"""
    while frame is not None:
        code = frame.f_code
        if code.co_name in _CLEANUP and code.co_filename.endswith("sandbox.py"):
            return True
        frame = frame.f_back
    return False


class _Interrupts:
    """While active, `signals` raise `error`, except in the middle of a sandbox's clean-up.

    An exception raised half-way through SandboxSession.close() would leave its child
    alive (close() runs once), so a signal arriving then is remembered instead, and
    `check()` raises it once the grader is back in this module. Only in the main thread
    (Python delivers signals there); elsewhere it does nothing.
    """

    def __init__(self, error: type[BaseException], *signals: int):
        self.error, self.signals, self.pending, self._old = error, signals, False, {}

    def __enter__(self) -> "_Interrupts":
        if threading.current_thread() is threading.main_thread():
            self._old = {signum: signal.signal(signum, self._handle) for signum in self.signals}
        return self

    def __exit__(self, *exc) -> None:
        for signum, handler in self._old.items():
            signal.signal(signum, handler)

    def _handle(self, signum, frame) -> None:
        if _in_sandbox_cleanup(frame):
            self.pending = True
            return
        raise self.error()

    def check(self) -> None:
        if self.pending:
            self.pending = False
            raise self.error()


AHEAD = 1  # tasks a worker holds beyond the one it grades; their sandboxes start early
AHEAD_WAIT = 0.005  # seconds a worker waits for the next task before grading without it


def _worker(connection, course: Course, hidden: list, strict: bool) -> None:
    """A pre-forked worker: numpy, the sandbox module and the course are already loaded.

    It keeps one task ahead: the next submission's sandbox is started before the current
    one is graded, so that child's start-up (Python, namespaces, numpy, the submission)
    overlaps the current run and its comparisons, as `course check` overlaps it with
    loading the course. Every submission still has its own fresh child.
    """
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # the parent decides when to stop (SIGTERM)
    interrupts = _Interrupts(_Stopped, signal.SIGTERM).__enter__()
    queue: deque = deque()  # (task, session | exception | None)
    try:
        while True:
            interrupts.check()
            while not queue or (len(queue) <= AHEAD and connection.poll(AHEAD_WAIT)):
                task = connection.recv()
                if task is None:
                    return
                exercise = course.exercise(task.exercise)
                try:
                    session = start_sandbox(exercise, task.source, filename=task.filename, hidden=hidden,
                                            strict=strict)
                except Exception as error:
                    session = error
                queue.append((task, session))
            task, session = queue.popleft()
            try:
                result = check_source(course, course.exercise(task.exercise), task.source, filename=task.filename,
                                      hidden=hidden, strict=strict, session=session)
            except CourseError as error:  # --strict refusing: the parent stops the batch
                result = error
            connection.send((task.key, result))
    except (_Stopped, EOFError, BrokenPipeError, KeyboardInterrupt):
        return
    finally:
        for _, session in queue:
            if session is not None and not isinstance(session, BaseException):
                session.close()


class CheckPool:
    """`jobs` worker processes that each grade one Task at a time with check_source.

    Workers are forked from this process once the course is loaded and numpy and the
    sandbox are imported (and the sandbox has probed for namespaces), so none of that
    is paid per submission; each submission still gets a fresh sandboxed child. Each
    worker has its own pipe and holds at most 1 + AHEAD tasks (see _worker), so nothing
    queues up and nothing can deadlock. jobs=1 grades in this process, one at a time.
    """

    def __init__(self, course: Course, *, jobs: int = DEFAULT_JOBS, hidden: Sequence = (), strict: bool = False):
        self.course, self.jobs, self.hidden, self.strict = course, max(1, int(jobs)), list(hidden), strict
        from course.grading import sandbox

        sandbox.isolation_available()  # probe once, here: the workers inherit the answer

    def run(self, tasks: Iterable[Task]) -> Iterator[tuple[Task, CheckResult]]:
        """(task, result) pairs as they finish. Closing the iterator (or an exception in
        the caller, Ctrl-C included) stops the workers and their sandboxes."""
        if self.jobs == 1 or not hasattr(os, "fork"):
            for task in tasks:
                exercise = self.course.exercise(task.exercise)
                yield task, check_source(self.course, exercise, task.source, filename=task.filename,
                                         hidden=self.hidden, strict=self.strict)
            return
        yield from self._run_parallel(deque(tasks))

    def _run_parallel(self, pending: deque) -> Iterator[tuple[Task, CheckResult]]:
        from multiprocessing.connection import wait

        workers = [self._spawn() for _ in range(min(self.jobs, len(pending)))]
        sent: dict = {worker[1]: deque() for worker in workers}  # connection -> its tasks, oldest first
        try:
            while pending or any(sent.values()):
                for worker in workers:  # the one being graded, plus AHEAD whose sandbox starts early
                    while pending and len(sent[worker[1]]) <= AHEAD:
                        task = pending.popleft()
                        worker[1].send(task)
                        sent[worker[1]].append(task)
                for connection in wait([c for c, tasks in sent.items() if tasks]):
                    worker = next(w for w in workers if w[1] is connection)
                    try:
                        key, result = connection.recv()
                        task = sent[connection].popleft()
                    except (EOFError, OSError):  # the worker died (OOM killer, a bug): respawn
                        task = sent[connection].popleft()
                        pending.extendleft(reversed(sent.pop(connection)))  # not started: try again
                        self._retire(worker)
                        result = placeholder_result(
                            self.course.exercise(task.exercise), task.filename, Status.ERROR, "grader",
                            "could not be graded: the grading worker process died")
                        workers.remove(worker)
                        worker = self._spawn()
                        workers.append(worker)
                        sent[worker[1]] = deque()
                    if isinstance(result, CourseError):
                        raise result
                    yield task, result
        finally:
            self._shutdown(workers)

    def _spawn(self):
        import multiprocessing

        for stream in (sys.stdout, sys.stderr):  # nothing buffered may be written twice
            try:
                stream.flush()
            except (OSError, ValueError):
                pass
        parent, child = multiprocessing.Pipe()
        process = multiprocessing.get_context("fork").Process(
            target=_worker, args=(child, self.course, self.hidden, self.strict), name="course-grade-worker",
            daemon=True)
        process.start()
        child.close()
        return process, parent

    def _retire(self, worker) -> None:
        process, connection = worker
        connection.close()
        process.join(timeout=1)
        if process.is_alive():
            process.kill()
            process.join()

    def _shutdown(self, workers: list) -> None:
        """Idle workers are told to finish; busy ones get SIGTERM, which closes their sandbox."""
        for process, connection in workers:
            try:
                connection.send(None)
            except (OSError, ValueError):
                pass
        for process, _ in workers:
            process.join(timeout=0.05)
            if process.is_alive():
                process.terminate()
        deadline = time.monotonic() + 10
        for process, connection in workers:
            process.join(timeout=max(0.0, deadline - time.monotonic()))
            if process.is_alive():  # stuck in uninterruptible I/O: nothing else to try
                process.kill()
                process.join(timeout=1)
            connection.close()


# --------------------------------------------------------------------------- the class


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
    book = _Gradebook(course, out, fingerprint, strict, len(students), notes)
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
    with _Interrupts(KeyboardInterrupt, signal.SIGINT, signal.SIGTERM) as interrupts:
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


# --------------------------------------------------------------------------- writing


class _Gradebook:
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
        write_atomic(folder / JUNIT_FILE, _junit(grade, render("junit", grade.results)))
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


def _junit(grade: StudentGrade, text: str) -> str:
    """The JUnit report with the student named on the <testsuites> element."""
    return text.replace('<testsuites name="course check"', f'<testsuites name="{_xml_attr(grade.student)}"', 1)


def _xml_attr(text: str) -> str:
    from xml.sax.saxutils import quoteattr

    return quoteattr(text)[1:-1]


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
