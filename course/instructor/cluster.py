"""`course grade --executor dask://HOST:PORT`: grading past one machine, on Dask distributed.

Each submission's check is one Dask task. The task carries the submission's text and
the course's fingerprint (course.instructor.grade.course_fingerprint), not a path: the
workers need no shared filesystem, only their own copy of the course, which they find
as every `course` command does (COURSE_ROOT, else the nearest course.yaml above the
folder they were started in). A worker whose course has another fingerprint (another
course, a changed exercise, another engine version) refuses the task, and that file is
"could not grade" with the reason: never a grade from the wrong course.

On the worker, grading is the local pool's own worker loop (course.instructor.pool:
_worker and check_source), in a helper process the Dask worker starts once: the same
check_exercise, the same sandbox and limits as `course check`, with the next
submission's sandbox starting while the current one is graded. The helper is a process
of its own, not a thread of the Dask worker, because check_exercise swaps process-wide
state (stdout redirection, warning filters) and a sandbox's parent-death signal belongs
to the thread that started it.

Only the client writes files: results come back as CheckResult.as_dict() and go into
the same gradebook as a local run's, so grades.csv and results.json are the same. A
worker that dies has its tasks run again elsewhere by the scheduler; a task whose
workers died too often (Dask's KilledWorker) is "could not grade", retried by the next
run. Start workers with --nthreads 2 (one grading, one starting) and as many
--nworkers as CPUs.
"""
from __future__ import annotations

import itertools
import os
import socket
import subprocess
import sys
import threading
import uuid
from collections import deque
from pathlib import Path
from typing import Any, Iterable, Iterator

from course.errors import UsageError
from course.grading.results import CheckResult
from course.instructor.pool import Task
from course.model import Course

SCHEMES = ("dask", "tcp", "tls")
CONNECT_SECONDS = 10
IN_FLIGHT_PER_THREAD = 2  # tasks on the cluster per worker thread: enough to keep every worker busy


class WrongCourse(RuntimeError):
    """A worker was sent a task for a course it does not have (raised on the worker)."""


def scheduler_address(executor: str) -> str:
    """dask://HOST:PORT -> tcp://HOST:PORT; tcp:// and tls:// as they are; UsageError otherwise."""
    scheme, sep, rest = executor.partition("://")
    if not sep or scheme not in SCHEMES or not rest:
        raise UsageError(f"--executor {executor}: expected local, dask://HOST:PORT or tls://HOST:PORT")
    return f"{'tcp' if scheme == 'dask' else scheme}://{rest}"


# --------------------------------------------------------------------------- the client


class DaskExecutor:
    """Runs Tasks on a Dask cluster; yields (task, CheckResult) as they finish, like CheckPool."""

    def __init__(self, executor: str, course: Course, *, fingerprint: str, strict: bool = False, tracker=None):
        self.address = scheduler_address(executor)
        self.course, self.fingerprint, self.strict, self.tracker = course, fingerprint, strict, tracker
        try:
            import distributed  # noqa: F401
        except ImportError:
            raise UsageError("--executor dask needs Dask distributed: pip install '.[dask]' in the engine's "
                             "repository (or: pip install 'dask[distributed]')") from None

    def _connect(self):
        import logging

        from distributed import Client

        logging.getLogger("distributed").setLevel(logging.ERROR)  # its reconnect chatter is not ours to print
        try:
            return Client(self.address, timeout=CONNECT_SECONDS, set_as_default=False)
        except (OSError, TimeoutError, ValueError) as error:
            raise UsageError(f"cannot reach the Dask scheduler at {self.address}: {error}") from None

    def run(self, tasks: Iterable[Task]) -> Iterator[tuple[Task, CheckResult]]:
        from distributed import as_completed

        client = self._connect()
        pending = deque(tasks)
        in_flight: dict = {}
        batch = uuid.uuid4().hex[:12]
        numbers = itertools.count()
        finished = as_completed(loop=client.loop)
        try:
            window = self._window(client)
            while pending or in_flight:
                while pending and len(in_flight) < window:
                    task = pending.popleft()
                    future = client.submit(grade_task, self._payload(task), key=f"course-grade-{batch}-{next(numbers)}",
                                           pure=False)
                    in_flight[future] = task
                    finished.add(future)
                    if self.tracker is not None:
                        self.tracker.begin(task.key)  # queued on the cluster counts as being graded
                future = next(finished)
                task = in_flight.pop(future)
                if self.tracker is not None:
                    self.tracker.end(task.key)
                yield task, self._result(future, task)
        finally:
            if in_flight:
                try:
                    client.cancel(list(in_flight))
                except Exception:  # the scheduler is gone: nothing to cancel
                    pass
            client.close()

    def _window(self, client) -> int:
        try:
            threads = sum(client.nthreads().values())
        except Exception:
            threads = 0
        return max(8, IN_FLIGHT_PER_THREAD * threads)

    def _payload(self, task: Task) -> dict:
        return {"fingerprint": self.fingerprint, "exercise": task.exercise, "source": task.source,
                "filename": task.filename, "modules": [list(m) for m in task.modules], "strict": self.strict}

    def _result(self, future, task: Task) -> CheckResult:
        from course.grading.check import SandboxRefused, could_not_grade
        from course.instructor.gradebook import result_from_dict

        exercise = self.course.exercise(task.exercise)
        try:
            data = future.result()
        except SandboxRefused:
            raise  # --strict refusing to grade without isolation: it refuses every file alike
        except WrongCourse as error:
            return could_not_grade(exercise, task.filename, str(error))
        except Exception as error:
            name = type(error).__name__
            if name == "KilledWorker":
                reason = "the Dask workers grading it died, one after another (Dask's KilledWorker)"
            else:
                reason = f"the Dask task failed: {name}: {error}"
            return could_not_grade(exercise, task.filename, reason)
        return result_from_dict(data)


# --------------------------------------------------------------------------- the worker

_lock = threading.Lock()
_course: tuple[Path, str] | None = None  # this worker's course root and fingerprint
_helpers: dict[bool, "_Helper"] = {}


def grade_task(payload: dict) -> dict:
    """The Dask task: grade one submission on this worker; CheckResult.as_dict()."""
    root, fingerprint = _worker_course()
    if payload["fingerprint"] != fingerprint:
        raise WrongCourse(
            f"the Dask worker on {socket.gethostname()} (pid {os.getpid()}) has the course {root}, fingerprint "
            f"{fingerprint[:12]}, not the course of this task ({payload['fingerprint'][:12]}): start the workers in "
            f"the same course's folder (or with COURSE_ROOT set to it) with the same engine version")
    with _lock:
        helper = _helpers.get(payload["strict"])
        if helper is None or not helper.alive():
            helper = _helpers[payload["strict"]] = _Helper(root, payload["strict"])
    outcome = helper.check(Task((uuid.uuid4().hex,), payload["exercise"], payload["source"], payload["filename"],
                                tuple((name, text) for name, text in payload.get("modules", ()))))
    if isinstance(outcome, BaseException):
        raise outcome
    return outcome.as_dict()


def _worker_course() -> tuple[Path, str]:
    """This worker's course, found as the `course` command finds it, and its fingerprint (once)."""
    global _course
    with _lock:
        if _course is None:
            from course.instructor.grade import course_fingerprint
            from course.loader import load_course
            from course.paths import resolve_root

            course = load_course(resolve_root())
            _course = (course.root, course_fingerprint(course))
        return _course


class _Helper:
    """A grading process of this worker: pool._worker over a socket, results routed by key."""

    def __init__(self, root: Path, strict: bool):
        from multiprocessing.connection import Connection

        mine, theirs = socket.socketpair()
        self.process = subprocess.Popen(
            [sys.executable, "-m", "course.instructor.cluster", str(theirs.fileno()), str(root), "1" if strict else "0"],
            pass_fds=(theirs.fileno(),), stdin=subprocess.DEVNULL)
        theirs.close()
        self.connection = Connection(mine.detach())
        self.send_lock = threading.Lock()
        self.waiting: dict = {}  # task key -> [event, outcome]
        self.broken: BaseException | None = None
        threading.Thread(target=self._read, name="course-grade-helper-reader", daemon=True).start()

    def alive(self) -> bool:
        return self.broken is None and self.process.poll() is None

    def check(self, task: Task):
        done = threading.Event()
        slot: list[Any] = [done, None]  # [set when the reply came, the reply]
        with self.send_lock:
            if self.broken is not None:
                return self.broken
            self.waiting[task.key] = slot
            try:
                self.connection.send(task)
            except OSError as error:
                self.waiting.pop(task.key, None)
                return RuntimeError(f"the grading helper process is gone: {error}")
        done.wait()
        return slot[1]

    def _read(self) -> None:
        try:
            while True:
                key, result = self.connection.recv()
                slot = self.waiting.pop(key, None)
                if slot is not None:
                    slot[1] = result
                    slot[0].set()
        except (EOFError, OSError) as error:
            self.broken = RuntimeError(f"the grading helper process died ({type(error).__name__})")
            with self.send_lock:
                for slot in self.waiting.values():
                    slot[1] = self.broken
                    slot[0].set()
                self.waiting.clear()


def _helper_main(fd: int, root: str, strict: bool) -> None:
    """The helper: load the course once, import the grader, then the local pool's worker loop."""
    from multiprocessing.connection import Connection

    from course.grading import sandbox
    from course.instructor.pool import _worker
    from course.loader import load_course

    course = load_course(Path(root))
    import numpy  # noqa: F401  (paid once here, not per submission)

    sandbox.isolation_available()
    _worker(Connection(fd), course, strict)


if __name__ == "__main__":  # started by _Helper: python -m course.instructor.cluster FD ROOT STRICT
    _helper_main(int(sys.argv[1]), sys.argv[2], sys.argv[3] == "1")
