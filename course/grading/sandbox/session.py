"""One sandbox, from start to clean-up: the grader's side of one submission's run.

    session = SandboxSession(source, filename=..., function=..., limits=...)
    ...                                   # the child starts up meanwhile
    run = session.run([Call(...), ...])   # then everything of it is gone

Start: a slot (a uid of its own, as root; slots.py), a cgroup with the sandbox's
memory and process caps where the machine has one (cgroups.py), the child program
(program.py) started with an empty environment in a new session and sent its first
frame (it joins the cgroup first thing). The child's start-up (namespaces, numpy, the submission)
overlaps whatever the caller does before run().

Run: calls are sent only once the submission has loaded, so nothing it runs at import
can read them; a hidden call only once every call before it has returned, so no
public result can depend on hidden inputs. Results are read as they stream (a later
timeout keeps earlier results), under a wall-clock deadline and an output cap.

Could not start: a sandbox that fails before its "hello" (fork refused, out of memory,
the jail could not be built) is no fault of the submission, which has not run yet. It
is retried with back-off; if it still cannot start, run() raises SandboxError, which
callers report as "could not grade", never as a grade.

Stop: SIGKILL of the namespace's init (the kernel then kills the whole PID namespace),
of the process group, and of everything in the cgroup; reap; remove the cgroup,
release the slot, close the pipes. If the grader itself is killed, the parent-death
signal chain (outer -> init -> worker) and the init's alarm do the same.
"""
from __future__ import annotations

import fcntl
import os
import selectors
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Sequence
from typing import IO, cast

from course.grading.sandbox import cgroups, probe, processes, slots
from course.grading.sandbox import template as warm
from course.grading.sandbox.channel import Capture, ResultChannel, StopReason
from course.grading.sandbox.program import (
    CHILD_WORKDIR,
    TOKEN_ENV,
    NumpyMissing,
    child_env,
    child_program,
    load_config,
)
from course.grading.sandbox.records import (
    HIDDEN_TERMINATION,
    Call,
    CallOutcome,
    CallStatus,
    Limits,
    SandboxError,
    SandboxRun,
    SandboxUnavailable,
    Termination,
)
from course.grading.sandbox.values import encode_value
from course.grading.sandbox.wire import MAX_CHILD_HEADER_BYTES, FrameReader, ProtocolError, encode_frame

GRACE_SECONDS = 1.0  # after an early end of the result channel: time for the child to exit by itself
OUTPUT_KILL_FACTOR = 256  # output beyond 256 x output_bytes (16 MiB by default) stops the run
START_ATTEMPTS = 3
START_BACKOFF = (0.2, 1.0)  # seconds before the second and the third attempt
_REDACTED = (Termination.KILLED, Termination.EXITED_EARLY, Termination.PROTOCOL_ERROR)


class _StartFailed(Exception):
    """The sandbox could not start (before its "hello"); the submission has not run."""


class SandboxSession:
    """One child process tree running one submission. Use sandbox.start() to make one."""

    def __init__(self, source: str, *, filename: str, function: str, limits: Limits,
                 strict: bool = False, template=None, cold: bool = False,
                 modules: dict[str, str] | None = None, allowed: Sequence[str] = ()) -> None:
        self._source, self._filename, self._function = source, filename, function
        self._modules, self._allowed = dict(modules or {}), tuple(allowed)
        self._limits = limits
        self._child: _Child | None = None
        self._in_w: int | None = None
        self._res_r: int | None = None
        self._workdir: str | None = None
        self._token: str | None = None
        self._slot: slots.Slot | None = None
        self._cgroup: cgroups.SandboxCgroup | None = None
        self._spawn_error: str | None = None
        self._reaped = True
        self._closed = False
        self._ran = False
        self._status: int | None = None
        self._cpu_seconds = 0.0
        self._outbox = bytearray()
        self._started = time.monotonic()
        found = probe.probe()
        if found.mode is None and strict:
            raise SandboxUnavailable(probe.isolation(None, found.reason).detail)
        self._mode, self._reason = found.mode, found.reason
        self._isolation = probe.isolation(found.mode, found.reason)
        # A warm template forks sandboxes only where namespaces are: there the init reports
        # the worker's wait status, which the template's children cannot give the grader.
        if template is None and not cold and found.mode is not None and warm.warm_allowed():
            template = warm.for_new_session()
        self._template = template if found.mode is not None else None
        self._spawn()

    # -- start

    def _spawn(self) -> None:
        """Start the child and send it the submission at once (it loads while we work).

        Never raises for a start that fails: the failure is kept and run() retries.
        """
        self._spawn_error = None
        self._reaped = True
        self._status, self._cpu_seconds = None, 0.0
        try:
            self._spawn_child()
        except (OSError, NumpyMissing) as error:
            self._spawn_error = f"{type(error).__name__}: {error}"
            self._shutdown()

    def _spawn_child(self) -> None:
        mode = self._mode
        where, _ = cgroups.hierarchy()
        if mode == "root":
            self._slot = slots.acquire(sweep=where is None)
        if where is not None:
            if self._slot is None:
                cgroups.sweep_orphans(where)
            name = f"sbx-{self._slot.number}" if self._slot else f"sbx-p{os.getpid()}-{uuid.uuid4().hex[:8]}"
            self._cgroup = cgroups.SandboxCgroup(where, name, self._limits.memory_bytes, self._limits.processes)
        self._token = None if mode else uuid.uuid4().hex
        workdir = None if mode else tempfile.mkdtemp(prefix="course-sandbox-")
        self._workdir = workdir
        home = CHILD_WORKDIR if workdir is None else workdir
        config = load_config(self._source, self._filename, self._function, self._limits, mode,
                             uid=self._slot.uid if self._slot else None,
                             cgroup_procs=self._cgroup.procs_files() if self._cgroup else (),
                             modules=self._modules, allowed=self._allowed)
        in_r, in_w = os.pipe()
        out_r, out_w = os.pipe()
        self._in_w, self._res_r = in_w, out_r  # closed by _shutdown whatever happens next
        try:
            fcntl.fcntl(in_w, getattr(fcntl, "F_SETPIPE_SZ", 1031), 1 << 20)
        except OSError:
            pass  # a smaller pipe only means the source may finish sending in run()
        try:
            if self._template is not None:
                self._child = _ForkedChild(self._template, in_r, out_w)
            else:
                self._child = _StartedChild(in_r, out_w, env=child_env(home, self._token), cwd=self._workdir or "/")
        finally:
            os.close(in_r)
            os.close(out_w)
        self._reaped = False
        for fd in (in_w, out_r, self._child.stdout_fd, self._child.stderr_fd):
            os.set_blocking(cast(int, fd), False)  # the child's output pipes are open until it is closed
        self._outbox = bytearray(b"".join(encode_frame(config)))
        self._write_some()

    def _write_some(self) -> None:
        """Send what the pipe takes now; never block on a child that does not read."""
        while self._outbox and self._in_w is not None:
            try:
                written = os.write(self._in_w, self._outbox[: 1 << 16])
            except BlockingIOError:
                return
            except OSError:
                self._outbox.clear()  # the child is gone or closed its input: nothing to do
                return
            del self._outbox[:written]

    # -- the run

    def run(self, calls: Sequence[Call]) -> SandboxRun:
        """Send the inputs, collect one outcome per call, then stop everything.

        Raises SandboxError when the sandbox could not start after START_ATTEMPTS.
        """
        if self._ran or self._closed:
            raise RuntimeError("SandboxSession.run() may be called once, before close()")
        self._ran = True
        calls = tuple(calls)
        frames = [(call.hidden, _call_frame(i, call)) for i, call in enumerate(calls)]
        try:
            for attempt in range(1, START_ATTEMPTS + 1):
                try:
                    if self._spawn_error is not None:
                        raise _StartFailed(self._spawn_error)
                    return self._run_once(calls, frames, attempt)
                except _StartFailed as failure:
                    self._shutdown()
                    if attempt == START_ATTEMPTS:
                        raise SandboxError(f"the sandbox could not start ({failure})") from None
                    if "namespace" in str(failure) or "jail" in str(failure):
                        probe.forget()  # let the next process find out afresh
                    time.sleep(START_BACKOFF[attempt - 1])
                    self._started = time.monotonic()
                    self._spawn()
            raise AssertionError("unreachable")
        finally:
            self.close()

    def _run_once(self, calls: tuple[Call, ...], frames: list[tuple[bool, bytes]], attempt: int) -> SandboxRun:
        channel = ResultChannel(calls)
        sender = _CallSender(frames)
        stdout, stderr = Capture(self._limits.output_bytes), Capture(self._limits.output_bytes)
        stop = self._pump(channel, sender, stdout, stderr)
        termination, detail = self._conclude(channel, stop, stderr)
        self._drain_outputs(stdout, stderr)
        if sender.hidden_started and termination in _REDACTED:
            detail = HIDDEN_TERMINATION[termination]
        load_error = channel.load_error
        if channel.loaded is None:
            load_error = f"importing the file did not finish: {detail}"
        return SandboxRun(
            loaded=channel.loaded is True,
            load_error=load_error,
            outcomes=self._outcomes(channel, detail),
            termination=termination,
            termination_detail=detail,
            stdout=stdout.text(),
            stderr=stderr.text(),
            isolation=self._isolation,
            seconds=time.monotonic() - self._started,
            hidden_started=sender.hidden_started,
            attempts=attempt,
        )

    def _pump(self, channel: ResultChannel, sender: "_CallSender", stdout: Capture, stderr: Capture) -> StopReason:
        """Move bytes until the run is over; return why it stopped."""
        limits = self._limits
        deadline = time.monotonic() + limits.wall_seconds
        output_cap = max(OUTPUT_KILL_FACTOR * limits.output_bytes, 1 << 20)
        reader = FrameReader(MAX_CHILD_HEADER_BYTES, limits.result_bytes)
        child = cast(_Child, self._child)  # spawned by __init__
        captures = {cast(int, child.stdout_fd): stdout, cast(int, child.stderr_fd): stderr}
        selector = selectors.DefaultSelector()
        try:
            for fd in captures:
                selector.register(fd, selectors.EVENT_READ)
            selector.register(cast(int, self._res_r), selectors.EVENT_READ)
            writing = False
            while True:
                self._outbox += sender.release(channel)
                self._write_some()
                if bool(self._outbox) != writing:
                    writing = bool(self._outbox)
                    if writing:
                        selector.register(cast(int, self._in_w), selectors.EVENT_WRITE)
                    else:
                        selector.unregister(cast(int, self._in_w))
                timeout = deadline - time.monotonic()
                if timeout <= 0:
                    return StopReason.TIMEOUT
                for key, _ in selector.select(timeout):
                    fd = key.fd
                    if fd == self._in_w:
                        continue  # written at the top of the loop
                    try:
                        data = os.read(fd, 1 << 16)
                    except BlockingIOError:
                        continue
                    if fd in captures:
                        if not data:
                            selector.unregister(fd)
                            continue
                        captures[fd].feed(data)
                        if stdout.total + stderr.total > output_cap:
                            return StopReason.OUTPUT
                        continue
                    if not data:
                        return StopReason.FINISHED if channel.finished else StopReason.EOF
                    reader.push(data)
                    try:
                        while (frame := reader.next_frame()) is not None:
                            channel.accept(*frame)  # one at a time: a bad frame keeps the good ones before it
                            self._check_hello(channel)
                    except ProtocolError as exc:
                        if channel.hello is None:
                            raise _StartFailed(f"malformed start-up message: {exc}") from None
                        channel.protocol_error = str(exc)
                        return StopReason.PROTOCOL
                    if channel.finished:
                        return StopReason.FINISHED
                    if channel.exited:
                        return StopReason.EOF
        finally:
            selector.close()

    def _check_hello(self, channel: ResultChannel) -> None:
        hello = channel.hello
        if hello is None or channel.loaded is not None:
            return
        if hello.get("fatal"):
            raise _StartFailed(str(hello["fatal"]))
        jail = hello.get("jail")
        if self._mode is not None and not (isinstance(jail, dict) and jail.get("ok") is True):
            error = jail.get("error") if isinstance(jail, dict) else "no report"
            raise _StartFailed(f"the jail could not be set up: {error}")

    def _conclude(self, channel: ResultChannel, stop: StopReason, stderr: Capture) -> tuple[Termination, str]:
        """Stop the child and name, truthfully, how the run ended."""
        limits = self._limits
        if stop is StopReason.EOF:  # its own exit status says why: give it a moment to have one
            self._wait_exit(min(GRACE_SECONDS, limits.wall_seconds))
        exited = self._exited()
        self._kill_all()
        self._reap()
        if channel.hello is None:
            if stop is StopReason.TIMEOUT:
                raise _StartFailed(f"it did not start within {limits.wall_seconds:.1f} s")
            if stop is not StopReason.OUTPUT:
                raise _StartFailed(_first_error_line(stderr.text()) or f"exit status {cast(_Child, self._child).returncode}")
        out_of_memory = self._cgroup is not None and self._cgroup.out_of_memory()
        if stop is StopReason.PROTOCOL:
            return (Termination.PROTOCOL_ERROR,
                    f"the submission sent malformed data on the result channel ({channel.protocol_error})")
        if stop is StopReason.FINISHED:
            if channel.memory_error or out_of_memory:
                return Termination.MEMORY, f"memory limit ({processes.gib(limits.memory_bytes)}) exceeded"
            if channel.loaded is False:
                return Termination.COMPLETED, "the file could not be loaded"
            return Termination.COMPLETED, "completed"
        if stop is StopReason.TIMEOUT:
            return Termination.TIMEOUT, f"stopped after {limits.wall_seconds:.1f} s (time limit)"
        if stop is StopReason.OUTPUT:
            cap = max(OUTPUT_KILL_FACTOR * limits.output_bytes, 1 << 20)
            return (Termination.OUTPUT_LIMIT,
                    f"stopped after printing more than {cap >> 20} MiB of output (output limit)")
        return self._explain_exit(channel, exited, out_of_memory)

    def _explain_exit(self, channel: ResultChannel, exited: bool, out_of_memory: bool) -> tuple[Termination, str]:
        """The result channel closed early: say why, from the wait status we collected."""
        limits = self._limits
        if not exited and not channel.exited:
            return (Termination.PROTOCOL_ERROR,
                    "the submission closed the result channel and kept running")
        status = channel.exit_status if channel.exited else self._status
        if channel.memory_error or out_of_memory:
            return Termination.MEMORY, f"memory limit ({processes.gib(limits.memory_bytes)}) exceeded"
        if status is not None and os.WIFSIGNALED(status):
            signum = os.WTERMSIG(status)
            over_cpu = self._cpu_seconds >= limits.cpu_seconds - 0.05
            if signum == signal.SIGXCPU or (signum == signal.SIGKILL and over_cpu):
                return (Termination.CPU_LIMIT,
                        f"stopped after {limits.cpu_seconds} s of CPU time (CPU limit)")
            return Termination.KILLED, f"killed by signal {processes.signal_phrase(signum)}"
        code = os.WEXITSTATUS(status) if status is not None and os.WIFEXITED(status) else None
        suffix = f" (exit status {code})" if code is not None else ""
        return (Termination.EXITED_EARLY,
                f"the submission exited (sys.exit / os._exit) before returning results{suffix}")

    def _outcomes(self, channel: ResultChannel, detail: str) -> tuple[CallOutcome, ...]:
        """The outcomes received, then NOT_RUN (with the reason) for the rest."""
        outcomes = list(channel.outcomes)
        for index in range(len(outcomes), len(channel.calls)):
            if channel.loaded is False:
                why = "not run: the submission could not be loaded"
            elif channel.loaded is None:
                why = f"not run: the submission never finished loading ({detail})"
            elif index == len(channel.outcomes):
                why = f"did not return: {detail}"
            else:
                why = f"not run: {detail}"
            n_args = len(channel.calls[index].args)
            outcomes.append(CallOutcome(CallStatus.NOT_RUN, None, why, (None,) * n_args))
        return tuple(outcomes)

    # -- stopping

    def _wait_exit(self, seconds: float) -> None:
        """Give a child that is done a moment to exit by itself (so its status is its own)."""
        end = time.monotonic() + seconds
        while not self._exited() and time.monotonic() < end:
            time.sleep(0.002)

    def _exited(self) -> bool:
        """Has the outer process exited? (Left unreaped, so its pid, our pgid, stays ours.)"""
        if self._reaped or self._child is None:
            return True
        return self._child.exited()

    def _kill_all(self) -> None:
        """SIGKILL everything the child started: namespace init, process group, cgroup, stragglers."""
        if self._child is not None and not self._reaped:
            inits = processes.children_of(self._child.pid) if self._mode is not None else []
            for pid, _ in inits:  # the init first: all its namespace dies with it
                processes.kill(pid)
            processes.killpg(self._child.pid)
            for pid, started in inits:
                processes.wait_gone(pid, started, timeout=2.0)
        if self._cgroup is not None:
            self._cgroup.kill_all()
        if self._token is not None:
            for _ in range(3):  # a process may fork while we look; look again
                pids = processes.pids_with_token(TOKEN_ENV, self._token)
                if not pids:
                    break
                for pid in pids:
                    processes.kill(pid)

    def _reap(self, timeout: float = 5.0) -> None:
        if self._child is None or self._reaped:
            return
        reaped = self._child.reap(timeout)
        if reaped is not None:
            self._reaped = True
            self._status, self._cpu_seconds = reaped

    def _drain_outputs(self, stdout: Capture, stderr: Capture) -> None:
        """After the kill: collect what is still in the pipes (bounded: no writer is left,
        unless a detached process in the fallback mode still holds one)."""
        if self._child is None:
            return
        end = time.monotonic() + 0.2
        for fd, capture in ((self._child.stdout_fd, stdout), (self._child.stderr_fd, stderr)):
            if fd is None:
                continue
            while time.monotonic() < end and capture.total < (1 << 24):
                try:
                    data = os.read(fd, 1 << 16)
                except BlockingIOError:
                    time.sleep(0.002)
                    continue
                except OSError:
                    break
                if not data:
                    break
                capture.feed(data)

    def close(self) -> None:
        """Kill everything, reap, remove the cgroup, free the slot, close pipes. Idempotent."""
        if self._closed:
            return
        self._closed = True
        self._shutdown()

    def _shutdown(self) -> None:
        self._kill_all()
        self._reap()
        if self._cgroup is not None:
            self._cgroup.remove()
            self._cgroup = None
        if self._slot is not None:
            self._slot.release()
            self._slot = None
        for fd in (self._in_w, self._res_r):
            if fd is not None:
                try:
                    os.close(fd)
                except OSError:
                    pass
        self._in_w = self._res_r = None
        if self._child is not None:
            self._child.close()
        if self._workdir is not None:
            _remove_tree(self._workdir)
            self._workdir = None

    def __enter__(self) -> SandboxSession:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    def __del__(self) -> None:
        try:
            self.close()
        except Exception:
            pass


class _Child:
    """The sandbox's outer process, as the grader holds it."""

    pid: int
    stdout_fd: int | None
    stderr_fd: int | None
    returncode: int | None = None

    def exited(self) -> bool:
        raise NotImplementedError

    def reap(self, timeout: float) -> tuple[int | None, float] | None:
        """(wait status or None, CPU seconds) once it is gone; None if it is still there."""
        raise NotImplementedError

    def close(self) -> None:
        for name in ("stdout_fd", "stderr_fd"):
            fd = getattr(self, name)
            if fd is not None:
                try:
                    os.close(fd)
                except OSError:
                    pass
                setattr(self, name, None)


class _StartedChild(_Child):
    """`python -I -S -c <program>` started by the grader: its own child, in a new session."""

    def __init__(self, in_r: int, out_w: int, *, env: dict, cwd: str) -> None:
        command = [sys.executable, "-I", "-S", "-c", child_program(), str(in_r), str(out_w), str(os.getpid())]
        self._proc = subprocess.Popen(
            command, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
            pass_fds=(in_r, out_w), env=env, cwd=cwd, start_new_session=True,
        )
        self.pid = self._proc.pid
        stdout, stderr = cast(IO[bytes], self._proc.stdout), cast(IO[bytes], self._proc.stderr)  # PIPEs: not None
        self.stdout_fd = os.dup(stdout.fileno())
        self.stderr_fd = os.dup(stderr.fileno())
        stdout.close()
        stderr.close()

    def exited(self) -> bool:
        try:
            info = os.waitid(os.P_PID, self.pid, os.WEXITED | os.WNOHANG | os.WNOWAIT)
        except ChildProcessError:
            return True
        return info is not None

    def reap(self, timeout: float) -> tuple[int | None, float] | None:
        end = time.monotonic() + timeout
        while True:
            try:
                pid, status, usage = os.wait4(self.pid, os.WNOHANG)
            except ChildProcessError:
                return None, 0.0
            if pid:
                self.returncode = self._proc.returncode = os.waitstatus_to_exitcode(status)
                return status, usage.ru_utime + usage.ru_stime
            if time.monotonic() > end:
                return None  # unkillable (D state); leave it to Popen's own clean-up
            time.sleep(0.005)


class _ForkedChild(_Child):
    """An outer process forked by a warm template (template.py); the template reaps it."""

    def __init__(self, template, in_r: int, out_w: int) -> None:
        self._template = template
        self.pid, self.stdout_fd, self.stderr_fd = template.spawn(in_r, out_w)

    def exited(self) -> bool:
        fields = processes.proc_stat(self.pid)
        return not fields or fields[0] in (b"Z", b"X")

    def reap(self, timeout: float) -> tuple[int | None, float] | None:
        end = time.monotonic() + timeout
        while not self.exited():
            if time.monotonic() > end:
                return None
            time.sleep(0.002)
        self._template.release(self.pid)  # a zombie until now: its pid could not be reused
        return None, 0.0


class _CallSender:
    """Releases call frames in order: none before the submission has loaded, and a hidden
    call's only once every call before it has returned."""

    def __init__(self, frames: list[tuple[bool, bytes]]) -> None:
        self.frames = frames
        self.next = 0
        self.ended = False
        self.hidden_started = False

    def release(self, channel: ResultChannel) -> bytes:
        if channel.loaded is not True or self.ended:
            return b""
        out = bytearray()
        while self.next < len(self.frames):
            hidden, frame = self.frames[self.next]
            if hidden and len(channel.outcomes) < self.next:
                break
            out += frame
            self.hidden_started |= hidden
            self.next += 1
        if self.next == len(self.frames):
            out += b"".join(encode_frame({"type": "end"}))
            self.ended = True
        return bytes(out)


def _call_frame(index: int, call: Call) -> bytes:
    import json

    arrays: list = []
    header = {
        "type": "call", "index": index,
        "args": [encode_value(v, arrays) for v in call.args],
        "kwargs": {str(k): encode_value(v, arrays) for k, v in call.kwargs.items()},
    }
    json.dumps(header)  # fail here, in the caller's terms, not half-way through a run
    return b"".join(encode_frame(header, arrays))


def _first_error_line(text: str) -> str:
    """The line that says what went wrong in a Python traceback (its last), else the first."""
    lines = [line.strip() for line in text.splitlines() if line.strip()]
    for line in reversed(lines):
        if "Error" in line.split(":", 1)[0] or line.startswith(("Fatal", "fatal")):
            return line[:300]
    return lines[0][:300] if lines else ""


def _remove_tree(path: str) -> None:
    """rmtree that also handles folders the submission made unreadable."""
    def fix_and_retry(function, failed_path, _exc_info):
        try:
            os.chmod(os.path.dirname(failed_path), 0o700)
            os.chmod(failed_path, 0o700)
            function(failed_path)
        except OSError:
            pass

    shutil.rmtree(path, onerror=fix_and_retry)
