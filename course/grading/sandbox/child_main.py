"""The child program's entry point: three processes, each with one job.

Child-side only; this is the last file of the program child_program.py assembles
(wire.py, values.py, jail.py, calls.py, this file), run as
`python -I -S -c <program> IN_FD OUT_FD GRADER_PID`.

With namespaces:

    outer  the process the grader started (or its warm template forked: see template()). It dies with the grader (parent-death
           signal), reads the "load" frame, joins the sandbox's cgroup (moving a process
           into a cgroup takes the kernel ~10 ms: here it does not hold up the grader),
           lowers its rlimits, enters new mount, PID,
           network, IPC and UTS namespaces (and a user namespace when not root), forks
           the init and waits for it. Nothing else.
    init   PID 1 of the sandbox's PID namespace; dies with the outer process. Builds
           the allow-listed view, drops privileges (as root: to this sandbox's own uid),
           forks the worker, then only reaps and finally reports the worker's wait
           status. When it exits the kernel kills every process left in the namespace.
    worker imports numpy, says "hello" (still trusted: no student code has run), loads
           the submission and answers the calls.

Without namespaces (the limited fallback) the outer process is the worker.

Any failure before "hello" is reported as a "fatal" hello (or a failed "jail"), so
the grader can tell "the sandbox could not start" (retry; never a grade) from anything
the submission did.
"""
import os
import sys

TYPE_CHECKING = False
if TYPE_CHECKING:  # never true when run: the grader puts the other files' source in front
    from course.grading.sandbox.calls import _flush_std, load_submission, serve
    from course.grading.sandbox.jail import (
        Libc, apply_limits, die_with_parent, enter_jail, enter_namespaces,
    )
    from course.grading.sandbox.values import _safe_str
    from course.grading.sandbox.wire import FrameReader, read_frame, write_frame

PARENT_FRAME_LIMIT = 1 << 62  # frames from the grader are trusted; no practical bound


def _fatal(out_fd: int, what: str, exc: BaseException, jail=None) -> None:
    """Tell the grader the sandbox could not start, and why; then end this process."""
    reason = f"{what}: {type(exc).__name__}: {_safe_str(exc)}"
    try:
        write_frame(out_fd, {"type": "hello", "jail": jail, "fatal": reason})
    finally:
        os._exit(0)


def supervise(worker: int, out_fd: int, backstop: int) -> None:
    """PID 1 of the namespace: reap, then report how the worker ended, then exit.

    Why a separate init: signals the kernel sends to a namespace's init are ignored
    unless it handles them, and its exit tears the whole namespace down. It never runs
    student code, so its report of the worker's wait status is trustworthy (the worker
    could forge an earlier one, which only ends its own run early). The alarm is a
    backstop for a grader that can no longer stop anything.
    """
    import signal

    signal.signal(signal.SIGINT, signal.SIG_IGN)
    signal.signal(signal.SIGALRM, lambda *_: os._exit(1))
    signal.alarm(backstop)
    status = None
    while True:
        try:
            pid, wait_status = os.waitpid(-1, 0)  # orphans are reparented here: reap them too
        except ChildProcessError:
            break
        if pid == worker:
            status = wait_status
            break
    write_frame(out_fd, {"type": "exit", "status": status})
    os._exit(0)


def work(config: dict, in_fd: int, out_fd: int, reader, jail_report) -> None:
    """The worker: numpy, "hello", the submission, the calls."""
    sys.path.extend(config["site"])  # only now: the jail's allow-list is built from sys.path
    try:
        import numpy
    except BaseException as exc:
        _fatal(out_fd, "numpy could not be imported", exc, jail_report)
    write_frame(out_fd, {"type": "hello", "jail": jail_report, "numpy": numpy.__version__})
    for stream in (sys.stdout, sys.stderr):
        stream.reconfigure(line_buffering=True)  # type: ignore[union-attr]  # a crash loses at most one line
    fn, error = load_submission(config)
    _flush_std()
    if error is not None:
        write_frame(out_fd, {"type": "load_error", "error": error})
    else:
        write_frame(out_fd, {"type": "loaded"})
        serve(fn, config, in_fd, out_fd, reader)
        _flush_std()
    write_frame(out_fd, {"type": "done"})
    os._exit(0)


def _parent_is_gone(life_fd: int) -> bool:
    """True when the outer process has already exited (its end of the pipe is closed)."""
    import select

    readable, _, _ = select.select([life_fd], [], [], 0)
    return bool(readable)


def main() -> None:
    """`python -c <program> IN_FD OUT_FD GRADER_PID`: one sandbox; or
    `python -c <program> template CONTROL_FD GRADER_PID`: a warm template (see below)."""
    if sys.argv[1] == "template":
        template(int(sys.argv[2]), int(sys.argv[3]))
    in_fd, out_fd, grader = int(sys.argv[1]), int(sys.argv[2]), int(sys.argv[3])
    libc = Libc()
    die_with_parent(libc)
    if os.getppid() != grader:  # the grader died before the line above took effect
        os._exit(0)
    sandbox(libc, in_fd, out_fd)


def sandbox(libc, in_fd: int, out_fd: int) -> None:
    """The outer process's work, from the first frame on (never returns)."""
    for fd in (in_fd, out_fd):
        os.set_inheritable(fd, False)  # programs the submission starts do not get them
    reader = FrameReader(max_header=PARENT_FRAME_LIMIT, max_payload=PARENT_FRAME_LIMIT)
    frame = read_frame(in_fd, reader)
    if frame is None:
        os._exit(0)
    config = frame[0]
    try:
        for procs in config.get("cgroup_procs", ()):  # before anything is forked: all of it is inside
            with open(procs, "w") as f:
                f.write(str(os.getpid()))
    except BaseException as exc:
        _fatal(out_fd, "the sandbox could not join its cgroup", exc)
    apply_limits(config["limits"])
    jail = config["jail"]
    if jail is None:
        work(config, in_fd, out_fd, reader, None)
    try:
        enter_namespaces(libc, jail)
    except BaseException as exc:
        _fatal(out_fd, "the namespaces could not be created", exc, {"ok": False, "error": _safe_str(exc)})
    life_r, life_w = os.pipe()
    try:
        init = os.fork()
    except BaseException as exc:
        _fatal(out_fd, "the sandbox's init could not be started", exc)
    if init:  # outer: nothing more to do than to stay alive while the init runs
        for fd in (life_r, in_fd, out_fd):
            os.close(fd)
        while True:
            try:
                os.waitpid(init, 0)
                break
            except ChildProcessError:
                break
            except InterruptedError:
                continue
        os._exit(0)
    # init
    os.close(life_w)
    die_with_parent(libc)
    if _parent_is_gone(life_r):
        os._exit(0)
    os.close(life_r)
    try:
        report = enter_jail(libc, jail, config["numpy_dirs"], exclude=config["site"])
    except BaseException as exc:
        write_frame(out_fd, {"type": "hello", "jail": {"ok": False, "error": f"{type(exc).__name__}: {_safe_str(exc)}"}})
        os._exit(0)
    if config.get("probe"):
        write_frame(out_fd, {"type": "hello", "jail": report})
        os._exit(0)
    try:
        worker = os.fork()
    except BaseException as exc:
        _fatal(out_fd, "the sandbox's worker could not be started", exc, report)
    if worker:
        os.close(in_fd)
        supervise(worker, out_fd, int(config["limits"]["backstop"]))
    die_with_parent(libc)
    work(config, in_fd, out_fd, reader, report)


def template(control_fd: int, grader: int) -> None:
    """A warm template: Python and numpy imported once, then a fresh sandbox forked per request.

    `course check --watch` keeps one, so a re-check after a save skips the interpreter's
    start and numpy's import (most of a sandbox's start-up). Each forked process is an
    outer process exactly as `main` starts one: it reads its own first frame, joins its
    own cgroup, enters new namespaces, builds its own jail and drops privileges; the
    template itself never runs student code and never sees an input.

    Protocol on the control socket (a Unix socket pair): the first message is the
    template's config (JSON: numpy's folder); "ready" is sent once numpy is imported.
    Then each message is a request: "spawn" with four file descriptors (the sandbox's
    input and result pipes, its stdout and stderr), answered with the new process's pid;
    or "release PID", after which the template reaps that (killed) process. The
    template dies with the grader, and with it every sandbox it forked.
    """
    import json
    import socket

    libc = Libc()
    die_with_parent(libc)
    if os.getppid() != grader:
        os._exit(0)
    control = socket.socket(fileno=control_fd)
    config = json.loads(control.recv(1 << 16))
    sys.path.extend(config["site"])
    import numpy  # noqa: F401  (the point of the template)
    import select  # noqa: F401  (what the forked sandboxes import later, loaded once here)
    control.sendall(b"ready")
    while True:
        try:
            message, fds, _, _ = socket.recv_fds(control, 256, 4)
        except OSError:
            os._exit(0)
        if not message:  # the grader is gone
            os._exit(0)
        words = message.decode("ascii", "replace").split()
        if words[:1] == ["release"]:
            for fd in fds:
                os.close(fd)
            _reap(int(words[1]))
            continue
        if words[:1] != ["spawn"] or len(fds) != 4:
            for fd in fds:
                os.close(fd)
            continue
        in_fd, out_fd, stdout_fd, stderr_fd = fds
        try:
            pid = os.fork()
        except OSError:
            pid = -1
        if pid == 0:
            control.close()
            os.setsid()  # its own process group and session, as a sandbox started by the grader
            os.dup2(stdout_fd, 1)
            os.dup2(stderr_fd, 2)
            for fd in (stdout_fd, stderr_fd):
                os.close(fd)
            die_with_parent(libc)
            sandbox(libc, in_fd, out_fd)
        for fd in fds:
            os.close(fd)
        control.sendall(str(pid).encode())


def _reap(pid: int) -> None:
    """Collect a released process (and any other that has ended), without blocking for long."""
    import time

    end = time.monotonic() + 2.0
    while True:
        try:
            done, _ = os.waitpid(pid, os.WNOHANG)
        except ChildProcessError:
            break
        if done or time.monotonic() > end:
            break
        time.sleep(0.001)
    while True:
        try:
            other, _ = os.waitpid(-1, os.WNOHANG)
        except ChildProcessError:
            break
        if not other:
            break


if __name__ == "__main__":
    main()
