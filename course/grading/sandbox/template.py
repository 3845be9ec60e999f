"""A warm sandbox template: Python and numpy started once, a fresh sandbox forked per check.

A sandbox's start-up is mostly a new interpreter and numpy's import (~0.1 s of CPU); a
template pays that once per grading process. From its third session on, every session
of a process forks from the process's shared template (for_new_session(): the re-checks
of `course check --watch`, a notebook), and from the first in a process that expects
many (expect_many_sessions(): the workers of `course grade` and `course verify`), unless
the caller asks for a cold start or COURSE_SANDBOX_WARM=0 says so for the process. It
is the child program started in template mode (child_main.template): it imports numpy
and then, per request, forks an outer process that does everything a freshly started
one does (reads its own first frame, joins its own cgroup, enters new namespaces,
builds its own jail, drops privileges), so each check is as isolated as a cold one.
The template runs no student code and never sees an input; it dies with the grader,
and every sandbox it forked dies with it.

    with WarmTemplate() as template:
        session = sandbox.start(source, ..., template=template)

Only where the machine gives namespaces (a forked sandbox's init reports the worker's
wait status; without namespaces sessions start cold). A template that has died is
replaced on the next spawn.

The shared template is started by a thread that lives as long as the process (_Keeper):
the kernel sends the parent-death signal when the *thread* that forked a child ends, so
a template started by a short-lived worker thread would die, and take the sandboxes it
forked with it, while other threads still used it. A process forked from a grader (a
`course grade` worker) gets a template of its own on first use.
"""
from __future__ import annotations

import os
import subprocess
import sys
import threading
from typing import TYPE_CHECKING, Callable, TypeVar

if TYPE_CHECKING:  # pragma: no cover
    import socket

# json, queue and socket are imported where used: every grading process imports this module
# (session.py asks it for the template of each session), and `course check` starts one sandbox.

from course.grading.sandbox import processes
from course.grading.sandbox.program import CHILD_WORKDIR, child_env, child_program, numpy_paths

READY_TIMEOUT = 30.0
WARM_ENV = "COURSE_SANDBOX_WARM"  # "0": every session of the process starts cold

T = TypeVar("T")


class TemplateFailed(OSError):
    """The template could not start or answer (the session then counts as one that could not start)."""


class WarmTemplate:
    """One template process and its control socket (thread-safe: one request at a time)."""

    def __init__(self, keeper: "_Keeper | None" = None) -> None:
        self._lock = threading.Lock()
        self._keeper = keeper  # the thread that starts the template process (None: the caller's)
        self._proc: subprocess.Popen | None = None
        self._control: "socket.socket | None" = None

    @property
    def pid(self) -> int | None:
        """The template process's pid while it runs (tests tell it from a left-over sandbox)."""
        proc = self._proc
        return proc.pid if proc is not None and proc.poll() is None else None

    def start(self) -> None:
        """Start the template now (it imports numpy meanwhile); spawn() waits until it is ready."""
        with self._lock:
            self._start()

    def _start(self) -> None:
        import json
        import socket

        if self._proc is not None and self._proc.poll() is None:
            return
        self._stop()
        mine, theirs = socket.socketpair(socket.AF_UNIX, socket.SOCK_SEQPACKET)  # one message each
        def launch() -> subprocess.Popen:
            return subprocess.Popen(
                [sys.executable, "-I", "-S", "-c", child_program(), "template", str(theirs.fileno()),
                 str(os.getpid())],
                stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                pass_fds=(theirs.fileno(),), env=child_env(CHILD_WORKDIR, None), cwd="/",
                start_new_session=True,
            )

        try:
            self._proc = self._keeper.call(launch) if self._keeper is not None else launch()
        except BaseException:
            mine.close()
            raise
        finally:
            theirs.close()
        self._control = mine
        site, _ = numpy_paths()
        mine.sendall(json.dumps({"site": site}).encode())
        self._ready = False

    def _wait_ready(self) -> None:
        if self._ready:
            return
        assert self._control is not None
        self._control.settimeout(READY_TIMEOUT)
        try:
            answer = self._control.recv(16)
        except OSError as error:
            raise TemplateFailed(f"the warm sandbox template did not start: {error}") from None
        finally:
            self._control.settimeout(None)
        if answer != b"ready":
            raise TemplateFailed("the warm sandbox template did not start (it could not import numpy)")
        self._ready = True

    def spawn(self, in_r: int, out_w: int) -> tuple[int, int, int]:
        """Fork a sandbox's outer process on these pipes; (its pid, its stdout, its stderr) to read."""
        import socket

        with self._lock:
            for attempt in (1, 2):  # a template that died is replaced once
                self._start()
                out_r, out_w2 = os.pipe()
                err_r, err_w = os.pipe()
                try:
                    self._wait_ready()
                    assert self._control is not None
                    socket.send_fds(self._control, [b"spawn"], [in_r, out_w, out_w2, err_w])
                    answer = self._control.recv(32)
                except OSError as error:
                    for fd in (out_r, err_r):
                        os.close(fd)
                    self._stop()
                    if attempt == 2:
                        raise TemplateFailed(f"the warm sandbox template failed: {error}") from None
                    continue
                finally:
                    os.close(out_w2)
                    os.close(err_w)
                pid = int(answer) if answer.strip().lstrip(b"-").isdigit() else -1
                if pid <= 0:
                    os.close(out_r)
                    os.close(err_r)
                    raise TemplateFailed("the warm sandbox template could not fork a sandbox")
                return pid, out_r, err_r
        raise AssertionError("unreachable")

    def release(self, pid: int) -> None:
        """The grader is done with `pid` (killed): the template may reap it now."""
        with self._lock:
            if self._control is None:
                return
            try:
                self._control.sendall(f"release {pid}".encode())
            except OSError:
                pass

    def close(self) -> None:
        with self._lock:
            self._stop()

    def _stop(self) -> None:
        if self._control is not None:
            self._control.close()
            self._control = None
        if self._proc is not None:
            processes.killpg(self._proc.pid)  # its forked sandboxes are in sessions of their own:
            self._proc.wait()                 # they die with it through their parent-death signal
            self._proc = None

    def _disown(self) -> None:
        """In a forked child: drop the parent's template without touching it (it is the parent's)."""
        if self._control is not None:
            self._control.close()
        self._control, self._proc = None, None

    def __enter__(self) -> "WarmTemplate":
        self.start()
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()


class _Keeper:
    """A daemon thread that runs what it is given, for as long as the process lives.

    The shared template is started here, so its parent-death signal fires when the
    process ends, not when whichever thread first needed a sandbox ends."""

    def __init__(self) -> None:
        import queue

        self._requests: queue.SimpleQueue = queue.SimpleQueue()
        threading.Thread(target=self._serve, name="course-sandbox-template", daemon=True).start()

    def _serve(self) -> None:
        while True:
            function, answer = self._requests.get()
            try:
                answer.put((True, function()))
            except BaseException as error:  # handed to the caller, who raises it
                answer.put((False, error))

    def call(self, function: Callable[[], T]) -> T:
        import queue

        answer: queue.SimpleQueue = queue.SimpleQueue()
        self._requests.put((function, answer))
        ok, value = answer.get()
        if not ok:
            raise value
        return value


_shared: WarmTemplate | None = None
_shared_lock = threading.Lock()
_sessions = 0  # sessions of this process so far (for_new_session)
_many = False  # this process runs many sessions (expect_many_sessions): its first forks from the template


def warm_allowed() -> bool:
    """False when COURSE_SANDBOX_WARM=0 asks every session of this process to start cold."""
    return os.environ.get(WARM_ENV, "").strip() != "0"


def shared() -> WarmTemplate:
    """This process's warm template, created on first use (its process starts on first spawn)."""
    global _shared
    with _shared_lock:
        if _shared is None:
            _shared = WarmTemplate(keeper=_Keeper())
        return _shared


def for_new_session() -> WarmTemplate | None:
    """The template a new session of this process forks from, or None: start it cold.

    A process's first session starts cold: its start overlaps the caller's work, and a
    process that runs one check (`course check`) pays for no template. The second
    starts cold too, and starts the shared template meanwhile; every later session forks
    from it. A template started earlier (--watch) is used at once, and so is one in a
    process that expects many sessions (expect_many_sessions)."""
    global _sessions
    with _shared_lock:
        _sessions += 1
        nth, template, many = _sessions, _shared, _many
    if template is not None:
        return template
    if many:
        template = shared()
        template.start()  # the first session waits for it about as long as a cold start takes
        return template
    if nth == 2:
        shared().start()  # it imports numpy while the second session runs cold
    return None


def expect_many_sessions() -> None:
    """This process will run many sessions (a worker of `course grade` or `course verify`): its
    first forks from the template too. Starting the template costs what one cold start costs, so
    a worker that grades one submission pays nothing more, and each further one saves a cold start
    (Python and numpy) until the third, where the template would have been used anyway."""
    global _many
    with _shared_lock:
        _many = True


def shared_pid() -> int | None:
    """The pid of this process's shared template while it runs, else None."""
    template = _shared
    return template.pid if template is not None else None


def _forget_in_child() -> None:
    """After fork: the parent's template and lock are the parent's; this process starts its own."""
    global _shared, _shared_lock, _sessions, _many
    if _shared is not None:
        _shared._disown()
    _shared, _shared_lock, _sessions, _many = None, threading.Lock(), 0, False


os.register_at_fork(after_in_child=_forget_in_child)
