"""A warm sandbox template: Python and numpy started once, a fresh sandbox forked per check.

`course check --watch` re-checks a file on every save. A sandbox's start-up is mostly
a new interpreter and numpy's import (~0.1 s of CPU); a template pays that once. It
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
"""
from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import threading

from course.grading.sandbox import processes
from course.grading.sandbox.program import CHILD_WORKDIR, child_env, child_program, numpy_paths

READY_TIMEOUT = 30.0


class TemplateFailed(OSError):
    """The template could not start or answer (the session then counts as one that could not start)."""


class WarmTemplate:
    """One template process and its control socket (thread-safe: one request at a time)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._proc: subprocess.Popen | None = None
        self._control: socket.socket | None = None

    def start(self) -> None:
        """Start the template now (it imports numpy meanwhile); spawn() waits until it is ready."""
        with self._lock:
            self._start()

    def _start(self) -> None:
        if self._proc is not None and self._proc.poll() is None:
            return
        self._stop()
        mine, theirs = socket.socketpair(socket.AF_UNIX, socket.SOCK_SEQPACKET)  # one message each
        try:
            self._proc = subprocess.Popen(
                [sys.executable, "-I", "-S", "-c", child_program(), "template", str(theirs.fileno()),
                 str(os.getpid())],
                stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                pass_fds=(theirs.fileno(),), env=child_env(CHILD_WORKDIR, None), cwd="/",
                start_new_session=True,
            )
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

    def __enter__(self) -> "WarmTemplate":
        self.start()
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()
