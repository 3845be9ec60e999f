"""Checking many sources in parallel: the worker pool behind `course grade` (and `course verify`).

Every source is graded by course.grading.check.check_exercise, each in a fresh
sandboxed child, as `course check` grades it; nothing here judges anything.

Speed: `course check` pays for a Python start, numpy, loading the course and a
sandboxed child. Here the course is loaded once and `jobs` worker processes are
forked from this one after numpy is imported (CheckPool), so a submission costs only
its own sandboxed child and the comparisons. The workers are processes, not threads:
check_exercise runs trusted reference code with contextlib.redirect_stdout and
warnings.catch_warnings, which swap process-wide state and are not thread-safe.

Robustness: anything a submission does in its child (crash, hang, flood, exit, attack)
is the sandbox's to report, and any error while grading one file scores that file 0
with the reason (check_source), so a batch goes on. A stopped worker (SIGTERM, sent by
CheckPool when its caller stops) closes its sandboxes first.
"""
from __future__ import annotations

import os
import signal
import sys
import threading
import time
from collections import deque
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Iterable, Iterator, cast

if TYPE_CHECKING:  # pragma: no cover
    from multiprocessing.connection import Connection

from course.errors import CourseError
from course.grading.results import CheckResult
from course.model import Course, Exercise

DEFAULT_JOBS = 2


@dataclass(frozen=True)
class Task:
    """One source to check against one exercise; `key` identifies it to the caller."""

    key: tuple
    exercise: str
    source: str
    filename: str
    modules: tuple[tuple[str, str], ...] = ()  # the student's other files it may import: (name, source)


_START = object()  # check_source: start the sandbox session here


def start_sandbox(exercise: Exercise, source: str, *, filename: str, strict: bool = False, modules=()):
    """The sandbox session for `source`, started now so that its child imports numpy and the
    submission meanwhile; None for an unchanged starter (graded without running anything)."""
    from course.grading.check import is_unchanged_starter, start_session

    if is_unchanged_starter(exercise, source):
        return None
    return start_session(exercise, source, filename, strict, modules=dict(modules))


def check_source(course: Course, exercise: Exercise, source: str, *, filename: str,
                 strict: bool = False, session=_START, modules=()) -> CheckResult:
    """check_exercise on one source; a failure of the grader is that file's "could not grade".

    session: one start_sandbox already gave for this source (it is closed here), or an
    exception it raised. A problem while grading this one file (the sandbox could not
    start, a reference raised, a bug) becomes a could-not-grade result with the reason,
    so a batch goes on; only --strict refusing to grade without isolation is raised (it
    refuses every file alike).
    """
    from course.grading.check import SandboxRefused, check_exercise, could_not_grade

    try:
        if session is _START:
            session = start_sandbox(exercise, source, filename=filename, strict=strict, modules=modules)
        if isinstance(session, BaseException):
            raise session
        return check_exercise(course, exercise, source, filename=filename, strict=strict, session=session,
                              modules=dict(modules))
    except SandboxRefused:
        raise
    except CourseError as error:
        return could_not_grade(exercise, filename, str(error))
    except Exception as error:  # a grader bug must cost one file, not the class
        return could_not_grade(exercise, filename, f"internal error: {type(error).__name__}: {error}")
    finally:
        if session is not None and not isinstance(session, BaseException) and session is not _START:
            session.close()


class _Stopped(BaseException):
    """Raised in a worker by SIGTERM: unwinds through check_exercise, closing its sandbox."""


_CLEANUP = {"close", "_shutdown", "_kill_all", "_reap", "_conclude", "_wait_exit", "_drain_outputs", "__exit__",
            "remove", "kill_all", "release"}


def _in_sandbox_cleanup(frame) -> bool:
    """Is a sandbox session being stopped (course/grading/sandbox/session.py) somewhere up this stack?"""
    while frame is not None:
        code = frame.f_code
        if code.co_name in _CLEANUP and code.co_filename.endswith(("session.py", "cgroups.py")):
            return True
        frame = frame.f_back
    return False


class Interrupts:
    """While active, `signals` raise `error`, except in the middle of a sandbox's clean-up.

    An exception raised half-way through SandboxSession.close() would leave its child
    alive (close() runs once), so a signal arriving then is remembered instead, and
    `check()` raises it once the grader is back in its own loop (a worker's, or
    grade_class's in course.instructor.grade). Only in the main thread
    (Python delivers signals there); elsewhere it does nothing.
    """

    def __init__(self, error: type[BaseException], *signals: int):
        self.error, self.signals, self.pending = error, signals, False
        self._old: dict[int, Any] = {}

    def __enter__(self) -> "Interrupts":
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


def _worker(connection, course: Course, strict: bool) -> None:
    """A pre-forked worker: numpy, the sandbox module and the course are already loaded.

    It keeps one task ahead: the next submission's sandbox is started before the current
    one is graded, so that child's start-up (Python, namespaces, numpy, the submission)
    overlaps the current run and its comparisons, as `course check` overlaps it with
    loading the course. Every submission still has its own fresh child.
    """
    from course.grading import sandbox

    signal.signal(signal.SIGINT, signal.SIG_IGN)  # the parent decides when to stop (SIGTERM)
    interrupts = Interrupts(_Stopped, signal.SIGTERM).__enter__()
    sandbox.expect_many_sessions()  # a worker grades submission after submission: warm from the first
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
                    session = start_sandbox(exercise, task.source, filename=task.filename, strict=strict,
                                            modules=task.modules)
                except Exception as error:
                    session = error
                queue.append((task, session))
            task, session = queue.popleft()
            try:
                reply: CheckResult | CourseError = check_source(
                    course, course.exercise(task.exercise), task.source, filename=task.filename, strict=strict,
                    session=session, modules=task.modules)
            except CourseError as error:  # --strict refusing: the parent stops the batch
                reply = error
            connection.send((task.key, reply))
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

    def __init__(self, course: Course, *, jobs: int = DEFAULT_JOBS, strict: bool = False, tracker=None):
        self.course, self.jobs, self.strict = course, max(1, int(jobs)), strict
        self.tracker = tracker  # course.instructor.progress.Tracker: which files are being graded
        from course.grading import sandbox

        sandbox.isolation_available()  # probe once, here: the workers inherit the answer

    def run(self, tasks: Iterable[Task]) -> Iterator[tuple[Task, CheckResult]]:
        """(task, result) pairs as they finish. Closing the iterator (or an exception in
        the caller, Ctrl-C included) stops the workers and their sandboxes."""
        if self.jobs == 1 or not hasattr(os, "fork"):
            for task in tasks:
                exercise = self.course.exercise(task.exercise)
                self._begin(task)
                result = check_source(self.course, exercise, task.source, filename=task.filename, strict=self.strict,
                                      modules=task.modules)
                self._end(task)
                yield task, result
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
                        if len(sent[worker[1]]) == 1:  # the worker grades it now (the others wait)
                            self._begin(task)
                for connection in wait([c for c, tasks in sent.items() if tasks]):
                    worker = next(w for w in workers if w[1] is connection)
                    try:
                        key, result = cast("Connection", connection).recv()  # wait() returns what it was given
                        task = sent[connection].popleft()
                    except (EOFError, OSError):  # the worker died (OOM killer, a bug): respawn
                        task = sent[connection].popleft()
                        pending.extendleft(reversed(sent.pop(connection)))  # not started: try again
                        self._retire(worker)
                        from course.grading.check import could_not_grade

                        result = could_not_grade(self.course.exercise(task.exercise), task.filename,
                                                 "the grading worker process died")
                        workers.remove(worker)
                        worker = self._spawn()
                        workers.append(worker)
                        sent[worker[1]] = deque()
                    self._end(task)
                    if sent.get(worker[1]):
                        self._begin(sent[worker[1]][0])  # the one it held ahead is being graded now
                    if isinstance(result, CourseError):
                        raise result
                    yield task, result
        finally:
            self._shutdown(workers)

    def _begin(self, task: Task) -> None:
        if self.tracker is not None:
            self.tracker.begin(task.key)

    def _end(self, task: Task) -> None:
        if self.tracker is not None:
            self.tracker.end(task.key)

    def _spawn(self):
        import multiprocessing

        for stream in (sys.stdout, sys.stderr):  # nothing buffered may be written twice
            try:
                stream.flush()
            except (OSError, ValueError):
                pass
        parent, child = multiprocessing.Pipe()
        process = multiprocessing.get_context("fork").Process(
            target=_worker, args=(child, self.course, self.strict), name="course-grade-worker",
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
        for _process, connection in workers:
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
