"""The sandboxed child: import one submission, call it on the inputs it is sent.

This is not imported by anything. The parent (sandbox.py) runs
`python -I -S -c <protocol.py source + this source> IN_FD OUT_FD`, so the child needs
neither the course package nor the student's file on disk. It may import only the
stdlib and numpy. The names ARRAY_KINDS, FrameReader, ProtocolError, contiguous,
read_frame and write_frame come from protocol.py, which the parent puts in front of
this text (the TYPE_CHECKING import below is for readers and linters only).

Order of work, and why:
 1. read the "load" frame (config + the submission's source) from the input fd;
 2. lower its own resource limits (the parent does not use preexec_fn: unsafe with threads);
 3. inside namespaces: build the mount view (course files hidden, file system
    read-only, private /tmp) and drop privileges, so the submission can undo none of it;
 4. import numpy, send "hello" (still trusted: no student code has run yet);
 5. import the submission and look up the function; send "loaded" or "load_error";
 6. for each "call" frame: call, convert the return value with np.asarray, send the
    raw bytes at once (streaming: a later timeout keeps earlier results);
 7. flush and os._exit, so a non-daemon thread cannot hold the process open.
In namespaces the process forks after step 3: the parent half stays PID 1 of the
namespace (see `supervise`) and the child half does steps 4-7.
Everything after step 5 runs alongside student code and may be tampered with; that
is fine, because the parent only ever receives values and compares them itself.
"""
import os
import sys

TYPE_CHECKING = False
if TYPE_CHECKING:  # never true when run: the parent puts protocol.py's source in front
    from course.grading.protocol import (
        ARRAY_KINDS, FrameReader, ProtocolError, contiguous, read_frame, write_frame,
    )

SUBMISSION_MODULE = "submission"
MAX_ERROR_CHARS = 6000
PARENT_FRAME_LIMIT = 1 << 62  # frames from the parent are trusted; no practical bound

# Linux constants (uapi headers); the stdlib does not expose them.
MS_RDONLY, MS_NOSUID, MS_NODEV, MS_NOEXEC = 1, 2, 4, 8
MS_REMOUNT, MS_BIND, MS_REC = 32, 4096, 16384
MS_NOATIME, MS_NODIRATIME, MS_RELATIME = 1024, 2048, 1 << 21
PR_SET_PDEATHSIG, PR_CAPBSET_DROP, PR_SET_NO_NEW_PRIVS = 1, 24, 38
PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL = 47, 4
LINUX_CAPABILITY_VERSION_3 = 0x20080522
NOBODY = 65534
O_PATH = getattr(os, "O_PATH", 0o10000000)

# statvfs f_flag bit -> mount flag; a bind remount must repeat the locked flags.
_STATVFS_TO_MS = (
    (1, MS_RDONLY), (2, MS_NOSUID), (4, MS_NODEV), (8, MS_NOEXEC),
    (1024, MS_NOATIME), (2048, MS_NODIRATIME), (4096, MS_RELATIME),
)


# --------------------------------------------------------------------------- limits


def apply_limits(limits: dict) -> None:
    """Lower this process's rlimits (never raise them above the current hard limit)."""
    import resource

    wanted = [
        (resource.RLIMIT_CPU, limits["cpu"], limits["cpu"] + 1),  # SIGXCPU, then SIGKILL
        (resource.RLIMIT_AS, limits["memory"], limits["memory"]),
        (resource.RLIMIT_FSIZE, limits["file"], limits["file"]),
        (resource.RLIMIT_CORE, 0, 0),
        (resource.RLIMIT_NOFILE, limits["nofile"], limits["nofile"]),
    ]
    for which, soft, hard in wanted:
        _, current_hard = resource.getrlimit(which)
        if current_hard != resource.RLIM_INFINITY:
            hard = min(hard, current_hard)
            soft = min(soft, hard)
        resource.setrlimit(which, (soft, hard))


# --------------------------------------------------------------------------- the jail


class _Libc:
    """The few libc calls the jail needs (ctypes: Python 3.11 has no os.mount)."""

    def __init__(self) -> None:
        import ctypes

        self.ctypes = ctypes
        self.lib = ctypes.CDLL(None, use_errno=True)
        self.lib.mount.argtypes = [ctypes.c_char_p, ctypes.c_char_p, ctypes.c_char_p,
                                   ctypes.c_ulong, ctypes.c_char_p]
        self.lib.prctl.argtypes = [ctypes.c_int, ctypes.c_ulong, ctypes.c_ulong,
                                   ctypes.c_ulong, ctypes.c_ulong]

    def _check(self, result: int, what: str) -> None:
        if result != 0:
            err = self.ctypes.get_errno()
            raise OSError(err, f"{what}: {os.strerror(err)}")

    def mount(self, source, target: str, fstype, flags: int, data=None) -> None:
        enc = lambda s: None if s is None else os.fsencode(s)  # noqa: E731
        self._check(self.lib.mount(enc(source), enc(target), enc(fstype), flags, enc(data)),
                    f"mount {target}")

    def prctl(self, option: int, arg: int = 0, arg3: int = 0) -> None:
        self._check(self.lib.prctl(option, arg, arg3, 0, 0), f"prctl({option})")

    def clear_capability_sets(self) -> None:
        """capset(2) with effective, permitted and inheritable all empty."""
        ctypes = self.ctypes

        class Header(ctypes.Structure):
            _fields_ = [("version", ctypes.c_uint32), ("pid", ctypes.c_int)]

        class Data(ctypes.Structure):
            _fields_ = [("effective", ctypes.c_uint32), ("permitted", ctypes.c_uint32),
                        ("inheritable", ctypes.c_uint32)]

        header, data = Header(LINUX_CAPABILITY_VERSION_3, 0), (Data * 2)()
        self._check(self.lib.capset(ctypes.byref(header), data), "capset")


def _unescape_mountinfo(field: str) -> str:
    """Mount points in /proc/self/mountinfo escape space, tab, newline and backslash as \\ooo."""
    import re

    return re.sub(r"\\([0-7]{3})", lambda m: chr(int(m.group(1), 8)), field)


def _mount_points() -> list:
    with open("/proc/self/mountinfo", encoding="utf-8", errors="surrogateescape") as f:
        return [_unescape_mountinfo(line.split()[4]) for line in f if len(line.split()) > 4]


def _under(path: str, root: str) -> bool:
    """True when `path` is `root` or inside it (plain string logic on absolute paths)."""
    return path == root or path.startswith(root.rstrip("/") + "/")


def _remount_flags(path: str) -> int:
    """The flags a bind remount of `path` must keep (locked ones fail with EPERM otherwise)."""
    flags = 0
    current = os.statvfs(path).f_flag
    for bit, ms in _STATVFS_TO_MS:
        if current & bit:
            flags |= ms
    return flags


def _make_read_only(libc: _Libc, path: str) -> None:
    # MS_BIND makes this a per-mount change in our mount namespace. Never drop it:
    # a plain MS_REMOUNT|MS_RDONLY as real root would make the host's file system read-only.
    libc.mount(None, path, None, MS_REMOUNT | MS_BIND | MS_RDONLY | _remount_flags(path))


def _remount_everything_read_only(libc: _Libc) -> list:
    """Make every mount read-only except /proc and /dev; return those that refused."""
    refused = []
    for point in _mount_points():
        if _under(point, "/proc") or _under(point, "/dev"):
            continue
        try:
            _make_read_only(libc, point)
        except OSError:
            refused.append(point)
    return refused


def _keep_paths(site: list) -> list:
    """Folders the child needs after the jail: Python's own files and numpy's."""
    candidates = [sys.prefix, sys.base_prefix, sys.exec_prefix, sys.base_exec_prefix,
                  os.path.dirname(os.path.realpath(sys.executable)), *site]
    keep = []
    for path in candidates:
        real = os.path.realpath(path)
        if os.path.isdir(real) and real != "/" and real not in keep:
            keep.append(real)
    return keep


def _untraversable_ancestors(paths: list) -> list:
    """Ancestors that user nobody could not pass through (e.g. /root, mode 700).

    After switching to nobody, Python still needs its stdlib; if it lives under such a
    folder, the folder is covered and the needed subfolder bound back with mode 755.
    """
    found = []
    for path in paths:
        parent = os.path.dirname(path)
        while parent not in ("/", ""):
            try:
                if not os.stat(parent).st_mode & 0o001 and parent not in found:
                    found.append(parent)
            except OSError:
                pass
            parent = os.path.dirname(parent)
    return found


def _cover(libc: _Libc, path: str, kind: str, tmp_bytes: int, keep_fds: dict) -> None:
    """Mount an empty tmpfs over `path`, then bind back the kept folders inside it.

    kind "hide": read-only, tiny; kind "scratch": writable (private /tmp and friends).
    A hidden regular file gets /dev/null bound over it (read as empty).
    """
    if not os.path.isdir(path):
        libc.mount("/dev/null", path, None, MS_BIND)
        _make_read_only(libc, path)
        return
    if kind == "hide":
        options = "size=64k,nr_inodes=1024,mode=755"
    else:
        options = f"size={tmp_bytes},nr_inodes=8192,mode=1777"
    libc.mount("sandbox", path, "tmpfs", MS_NOSUID | MS_NODEV, options)
    for kept, fd in sorted(keep_fds.items()):
        if kept != path and _under(kept, path):
            os.makedirs(kept, mode=0o755, exist_ok=True)
            libc.mount(f"/proc/self/fd/{fd}", kept, None, MS_BIND | MS_REC)
            _make_read_only(libc, kept)
    if kind == "hide":
        libc.mount(None, path, None, MS_REMOUNT | MS_RDONLY | MS_NOSUID | MS_NODEV)


def _drop_privileges(libc: _Libc, drop: str, nproc: int) -> None:
    """No capabilities, no way to regain them; as real root also become nobody.

    Order matters: the bounding set can only be cleared while we still hold
    CAP_SETPCAP, and setresuid away from 0 clears the permitted set.
    """
    import resource

    libc.prctl(PR_SET_NO_NEW_PRIVS, 1)
    with open("/proc/sys/kernel/cap_last_cap") as f:
        last_cap = int(f.read())
    for cap in range(last_cap + 1):
        libc.prctl(PR_CAPBSET_DROP, cap)
    libc.prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL)
    if drop == "nobody":
        os.setgroups([])
        os.setresgid(NOBODY, NOBODY, NOBODY)
        os.setresuid(NOBODY, NOBODY, NOBODY)
        # Counts every process of nobody on the machine, so only here does it help.
        resource.setrlimit(resource.RLIMIT_NPROC, (nproc, nproc))
    libc.clear_capability_sets()
    # Changing uid cleared the parent-death signal that `unshare --kill-child` set.
    libc.prctl(PR_SET_PDEATHSIG, 9)


def _verify_privileges(drop: str) -> None:
    """Read back /proc/self/status: refuse to go on unless everything is really dropped."""
    status = {}
    with open("/proc/self/status") as f:
        for line in f:
            key, _, value = line.partition(":")
            status[key] = value.split()
    for key in ("CapInh", "CapPrm", "CapEff", "CapBnd", "CapAmb"):
        if key in status and int(status[key][0], 16) != 0:
            raise OSError(f"capabilities remain after dropping them ({key} {status[key][0]})")
    if status.get("NoNewPrivs", ["1"])[0] != "1":
        raise OSError("no_new_privs is not set")
    if drop == "nobody" and set(status["Uid"]) != {str(NOBODY)}:
        raise OSError(f"still running as uid {status['Uid']}")


def enter_jail(jail: dict, site: list) -> dict:
    """Build the child's mount view and drop privileges; return what was achieved.

    Runs as (namespace) root inside fresh mount, PID and network namespaces, before
    any student code. Raises OSError when something that must hold does not.
    """
    libc = _Libc()
    keep = _keep_paths(site)
    refused = _remount_everything_read_only(libc)
    keep_fds = {}
    for path in keep:
        try:
            keep_fds[path] = os.open(path, O_PATH | os.O_DIRECTORY | os.O_CLOEXEC)
        except OSError:
            pass  # not reachable now, so nothing to bind back later
    covers = [(os.path.realpath(p), "scratch") for p in ("/tmp", "/var/tmp", "/dev/shm")]
    covers += [(p, "hide") for p in jail["hide"]]
    if jail["drop"] == "nobody":
        covers += [(p, "hide") for p in _untraversable_ancestors(keep)]
    done = set()
    for path, kind in sorted(covers, key=lambda c: (c[0].count("/"), c[0])):
        if path in done or path == "/" or not os.path.lexists(path):
            continue  # already covered, or inside something covered before
        _cover(libc, path, kind, jail["tmp_bytes"], keep_fds)
        done.add(path)
    for fd in keep_fds.values():
        os.close(fd)
    workdir = jail["workdir"]
    os.makedirs(workdir, mode=0o700)
    if jail["drop"] == "nobody":
        os.chown(workdir, NOBODY, NOBODY)
    os.chdir(workdir)
    _drop_privileges(libc, jail["drop"], jail["nproc"])
    _verify_privileges(jail["drop"])
    return {"ok": True, "read_only_refused": refused, "user": jail["drop"]}


# --------------------------------------------------------------------------- messages


def clip(text: str, limit: int = MAX_ERROR_CHARS) -> str:
    """Keep an error message bounded (headers to the parent must stay small)."""
    if len(text) <= limit:
        return text
    half = limit // 2
    return f"{text[:half]}\n... [{len(text) - limit} characters trimmed] ...\n{text[-half:]}"


def _safe_str(value: object) -> str:
    try:
        return str(value)
    except BaseException:  # a hostile __str__ must not take the child down
        return "<unprintable>"


def _student_frames(tb, filename: str, keep: int = 20):
    """The traceback's frames in the student's file: the first and last `keep` of them.

    Walks the chain itself (no formatting) so a million-frame RecursionError stays cheap.
    """
    import collections
    import traceback

    head, tail, total = [], collections.deque(maxlen=keep), 0
    for frame, lineno in traceback.walk_tb(tb):
        if frame.f_code.co_filename != filename:
            continue
        total += 1
        (head if len(head) < keep else tail).append((frame, lineno))
    return head, list(tail), total - len(head) - len(tail)


def describe_exception(exc: BaseException, filename: str) -> str:
    """'ValueError: msg' plus the traceback limited to frames of the student's file."""
    import traceback

    name = "MemoryError" if isinstance(exc, MemoryError) else type(exc).__name__
    message = _safe_str(exc)
    text = f"{name}: {message}" if message else name
    try:
        head, tail, skipped = _student_frames(exc.__traceback__, filename)
        if head:
            lines = "".join(traceback.StackSummary.extract(head).format())
            if skipped:
                lines += f"  [... {skipped} more frames ...]\n"
            lines += "".join(traceback.StackSummary.extract(tail).format())
            text += f"\nTraceback (most recent call last, {filename} only):\n{lines.rstrip()}"
    except BaseException:
        pass
    return clip(text)


def describe_syntax_error(exc: SyntaxError) -> str:
    """'SyntaxError: invalid syntax (line 3)' followed by Python's caret display."""
    import traceback

    head = f"{type(exc).__name__}: {exc.msg} (line {exc.lineno})"
    detail = "".join(traceback.format_exception_only(type(exc), exc)[:-1]).rstrip()
    return clip(f"{head}\n{detail}" if detail else head)


def describe_value(value: object) -> str:
    """A short phrase for what a function returned: 'None', 'a list of str', ..."""
    import numpy as np

    if value is None:
        return "None"
    if isinstance(value, (list, tuple)):
        kinds = sorted({type(v).__name__ for v in value})
        kind = type(value).__name__
        return f"a {kind} of {' and '.join(kinds)}" if kinds else f"an empty {kind}"
    if isinstance(value, np.ndarray):
        return f"an array of dtype {value.dtype}"
    name = type(value).__name__
    return f"{'an' if name[:1].lower() in 'aeiou' else 'a'} {name}"


# --------------------------------------------------------------------------- the submission


def load_submission(config: dict):
    """(function, None) or (None, error text). Student code first runs here."""
    import linecache
    import types

    source, filename, function = config["source"], config["filename"], config["function"]
    # Lets tracebacks show the student's lines although no file exists in the child.
    linecache.cache[filename] = (len(source), None, source.splitlines(True), filename)
    try:
        code = compile(source, filename, "exec", dont_inherit=True)
    except SyntaxError as exc:
        return None, describe_syntax_error(exc)
    except (ValueError, TypeError) as exc:  # e.g. null bytes in the source
        return None, f"{type(exc).__name__}: {exc}"
    module = types.ModuleType(config["module"])
    module.__file__ = filename
    sys.modules[config["module"]] = module
    sys.argv = [filename]
    try:
        exec(code, module.__dict__)
    except BaseException as exc:  # SystemExit and KeyboardInterrupt too
        text = describe_exception(exc, filename)
        if isinstance(exc, SystemExit):
            text += "\n(the file called sys.exit while being imported)"
        return None, text
    try:
        fn = module.__dict__[function]
    except KeyError:
        return None, f"the file defines no function named {function!r}"
    if not callable(fn):
        return None, f"{function!r} is not callable"
    return fn, None


def decode_value(item: dict, arrays: list):
    """Rebuild one argument the parent encoded (see sandbox._encode_value)."""
    (kind, payload), = item.items()
    if kind == "json":
        return payload
    if kind == "array":
        return arrays[payload]
    if kind == "scalar":
        return arrays[payload][()]
    if kind == "tuple":
        return tuple(decode_value(v, arrays) for v in payload)
    if kind == "list":
        return [decode_value(v, arrays) for v in payload]
    if kind == "dict":
        return {k: decode_value(v, arrays) for k, v in payload.items()}
    raise ProtocolError(f"unknown argument encoding {kind!r}")


def convert_result(value: object):
    """(plain ndarray, None) or (None, 'returned ...') following the parent's rules."""
    import numpy as np

    if value is None:
        return None, "returned None"
    try:
        if isinstance(value, int) and not isinstance(value, bool):
            try:
                return contiguous(np.array(value, dtype=np.int64)), None
            except OverflowError:
                return None, "returned an int too large for int64"
        arr = contiguous(value)
    except BaseException as exc:
        return None, (f"returned {describe_value(value)} that numpy could not convert to an array"
                      f" ({type(exc).__name__}: {_safe_str(exc)})")
    if arr.dtype.kind not in ARRAY_KINDS or arr.dtype.fields is not None:
        what = describe_value(value)
        if not isinstance(value, (np.ndarray, list, tuple, str)):
            what += f" (numpy makes it an array of dtype {arr.dtype})"
        return None, f"returned {what}"
    return arr, None


class Budget:
    """The child's share of the parent's result_bytes limit, checked before sending."""

    def __init__(self, total: int) -> None:
        self.left = total

    def take(self, nbytes: int) -> bool:
        if nbytes > self.left:
            return False
        self.left -= nbytes
        return True


def run_call(fn, header: dict, arrays: list, budget: Budget, filename: str):
    """Call the function once; return the result frame (header, arrays)."""
    import numpy as np

    args = [decode_value(v, arrays) for v in header["args"]]
    kwargs = {k: decode_value(v, arrays) for k, v in header["kwargs"].items()}
    reply = {"type": "result", "index": header["index"], "status": "ok", "error": None,
             "value": None, "args_after": [None] * len(args), "kwargs_after": {}}
    out = []
    try:
        value = fn(*args, **kwargs)
    except BaseException as exc:  # SystemExit / KeyboardInterrupt are results too
        reply.update(status="raised", error=describe_exception(exc, filename))
        value = None
    else:
        arr, problem = convert_result(value)
        if problem is None and not budget.take(arr.nbytes):
            problem = (f"returned an array of {arr.nbytes} bytes, more than is left of the"
                       f" result limit ({budget.left} bytes)")
        if problem is not None:
            reply.update(status="bad_return", error=problem)
        else:
            reply["value"] = len(out)
            out.append(arr)
    for position, arg in enumerate(args):
        if isinstance(arg, np.ndarray) and arg.dtype.kind in ARRAY_KINDS:
            after = contiguous(arg)
            if budget.take(after.nbytes):
                reply["args_after"][position] = len(out)
                out.append(after)
    for name, arg in kwargs.items():
        if isinstance(arg, np.ndarray) and arg.dtype.kind in ARRAY_KINDS:
            after = contiguous(arg)
            if budget.take(after.nbytes):
                reply["kwargs_after"][name] = len(out)
                out.append(after)
    return reply, out


def _flush_std() -> None:
    for stream in (sys.stdout, sys.stderr):
        try:
            stream.flush()
        except BaseException:
            pass


def serve(fn, config: dict, in_fd: int, out_fd: int, reader) -> None:
    """Answer "call" frames until "end" (or the parent closes the pipe)."""
    budget = Budget(config["limits"]["result"])
    while True:
        frame = read_frame(in_fd, reader)
        if frame is None or frame[0]["type"] == "end":
            return
        header, arrays = frame
        reply, out = run_call(fn, header, arrays, budget, config["filename"])
        del header, arrays, frame  # inputs must not linger where the next call could find them
        _flush_std()
        write_frame(out_fd, reply, out)
        del reply, out


def supervise(worker: int, in_fd: int, out_fd: int) -> None:
    """PID 1 of the namespace: reap, then report how the worker ended, then exit.

    Why a separate init: signals the kernel sends to a namespace's init are ignored
    unless forced (SIGXCPU from RLIMIT_CPU would be), and `unshare` cannot pass a
    SIGKILL status on. This process never runs student code, so its report of the
    worker's wait status is trustworthy (the worker could forge an earlier one, which
    only ends its own run early). When it exits, the kernel kills whatever the
    submission left in the namespace.
    """
    import signal

    signal.signal(signal.SIGINT, signal.SIG_IGN)  # its only signal with a handler
    os.close(in_fd)
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


def main() -> None:
    in_fd, out_fd = int(sys.argv[1]), int(sys.argv[2])
    for fd in (in_fd, out_fd):
        os.set_inheritable(fd, False)  # programs the submission starts do not get them
    reader = FrameReader(max_header=PARENT_FRAME_LIMIT, max_payload=PARENT_FRAME_LIMIT)
    frame = read_frame(in_fd, reader)
    if frame is None:
        os._exit(0)
    config = frame[0]
    apply_limits(config["limits"])
    sys.path.extend(config["site"])
    jail_report = None
    if config["jail"] is not None:
        try:
            jail_report = enter_jail(config["jail"], config["site"])
        except Exception as exc:
            write_frame(out_fd, {"type": "hello", "jail": {"ok": False, "error": _safe_str(exc)}})
            os._exit(0)
    if config.get("probe"):
        write_frame(out_fd, {"type": "hello", "jail": jail_report})
        os._exit(0)
    if config["jail"] is not None:
        worker = os.fork()
        if worker:
            supervise(worker, in_fd, out_fd)
    try:
        import numpy
    except BaseException as exc:
        write_frame(out_fd, {"type": "hello", "jail": jail_report,
                             "fatal": f"numpy could not be imported: {type(exc).__name__}: {exc}"})
        os._exit(0)
    write_frame(out_fd, {"type": "hello", "jail": jail_report, "numpy": numpy.__version__})
    for stream in (sys.stdout, sys.stderr):
        stream.reconfigure(line_buffering=True)  # a crash loses at most one line of output
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


if __name__ == "__main__":
    main()
