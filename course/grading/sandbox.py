"""Run an untrusted submission in a child process; get back only raw arrays.

This is the parent (trusted) side of the trust boundary described in DESIGN.md.
The child is `python -I -S -c <protocol.py + _child.py>`; it imports the
submission, calls it on the inputs sent over an inherited pipe and streams back,
over another pipe, a small JSON header and the raw bytes of each result. Here we
only ever rebuild arrays with np.frombuffer after checking dtype and size; we never
unpickle, evaluate or import anything from the child, and never trust its exit code
or its printed text. Every comparison happens in the caller, not in the child.

Limits: a wall-clock deadline enforced here (SIGKILL of the process group and, in
a PID namespace, of the namespace's init so nothing survives), and rlimits the child
sets on itself before any student code runs (CPU, address space, file size, no core
files, open files). Where Linux allows it the child also runs in new PID, network
and mount namespaces with the course's files hidden, the file system read-only, a
private /tmp, and no privileges (see _child.enter_jail). Where it does not, the run
still happens with the limits above and `Isolation.detail` says what is missing;
`strict=True` refuses instead.

Typical use, overlapping the child's start-up with the parent's own work:

    with start(source, filename="softmax.py", function="softmax") as session:
        inputs = ...; expected = ...          # meanwhile the child imports numpy
        result = session.run([Call((x,)) for x in inputs])
"""
from __future__ import annotations

import enum
import fcntl
import json
import os
import selectors
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from course.grading.results import Isolation
from course.grading.protocol import (
    ARRAY_KINDS,
    MAX_CHILD_HEADER_BYTES,
    FrameReader,
    ProtocolError,
    contiguous,
    encode_frame,
)

__all__ = [
    "Call", "CallOutcome", "CallStatus", "Isolation", "Limits", "SandboxError",
    "SandboxRun", "SandboxSession", "SandboxUnavailable", "Termination",
    "isolation_available", "run", "start",
]

NAMESPACES_ENV = "COURSE_SANDBOX_NAMESPACES"
PACKAGE_DIR = Path(__file__).resolve().parents[1]  # the `course` package: always hidden
CHILD_WORKDIR = "/tmp/sandbox"  # inside the namespace's private /tmp
SUBMISSION_MODULE = "submission"
NOFILE = 64
NPROC = 64  # only when running as nobody (see _child._drop_privileges)
GRACE_SECONDS = 1.0  # after the last result: time for output to reach EOF and the child to exit
PROBE_TIMEOUT = 10.0
OUTPUT_KILL_FACTOR = 256  # output beyond 256 x output_bytes (16 MiB by default) stops the run
_TOKEN_ENV = "COURSE_SANDBOX_TOKEN"  # fallback only: finds descendants that left the group


# --------------------------------------------------------------------------- public types


@dataclass(frozen=True)
class Limits:
    """Resource limits of one run. wall_seconds counts from SandboxSession.run()."""

    wall_seconds: float = 10.0
    cpu_seconds: int = 10
    memory_bytes: int = 1 << 30  # RLIMIT_AS; numpy + OpenBLAS (1 thread) need ~256 MB
    file_bytes: int = 16 << 20  # RLIMIT_FSIZE, also sizes the private /tmp
    output_bytes: int = 64 << 10  # kept of stdout and of stderr; the rest is drained, dropped
    result_bytes: int = 64 << 20  # all arrays on the result channel together


@dataclass(frozen=True)
class Call:
    """One call of the student's function.

    Values: np.ndarray (numeric or bool), numpy scalars, None, bool, int, float, str,
    and tuples / lists / dicts (str keys) of these.
    """

    args: tuple = ()
    kwargs: Mapping[str, object] = field(default_factory=dict)


class CallStatus(enum.Enum):
    OK = "ok"
    RAISED = "raised"
    BAD_RETURN = "bad_return"
    NOT_RUN = "not_run"


@dataclass(frozen=True)
class CallOutcome:
    status: CallStatus
    value: np.ndarray | None
    error: str | None
    args_after: tuple[np.ndarray | None, ...]
    # keyword array arguments after the call (e.g. a mask), by name; absent when not arrays
    kwargs_after: Mapping[str, np.ndarray] = field(default_factory=dict)


class Termination(enum.Enum):
    COMPLETED = "completed"
    TIMEOUT = "timeout"
    CPU_LIMIT = "cpu_limit"
    MEMORY = "memory"
    KILLED = "killed"  # by a signal the sandbox did not send (segfault, abort, ...)
    EXITED_EARLY = "exited_early"
    OUTPUT_LIMIT = "output_limit"
    PROTOCOL_ERROR = "protocol_error"


@dataclass(frozen=True)
class SandboxRun:
    loaded: bool
    load_error: str | None
    outcomes: tuple[CallOutcome, ...]
    termination: Termination
    termination_detail: str
    stdout: str
    stderr: str
    isolation: Isolation
    seconds: float


class SandboxUnavailable(Exception):
    """strict=True, and this machine cannot give the child namespaces."""


class SandboxError(RuntimeError):
    """The sandbox itself failed (not the submission): e.g. the child could not import numpy."""


# --------------------------------------------------------------------------- child program


_source_lock = threading.Lock()
_child_program: str | None = None


def child_program() -> str:
    """protocol.py + _child.py as one program: the child needs no files of ours."""
    global _child_program
    with _source_lock:
        if _child_program is None:
            here = Path(__file__).resolve().parent
            parts = [(here / name).read_text(encoding="utf-8") for name in ("protocol.py", "_child.py")]
            _child_program = "\n\n".join(parts)
        return _child_program


def _numpy_site() -> str:
    """The folder holding numpy: the child runs with -S, so it is added by hand.

    Found without importing numpy, so the child can start before the parent pays for it.
    """
    import importlib.util

    spec = importlib.util.find_spec("numpy")
    if spec is None or spec.origin is None:
        raise SandboxError("numpy is not installed: the sandbox needs it")
    return str(Path(spec.origin).resolve().parent.parent)


def _child_env(home: str, token: str | None) -> dict[str, str]:
    """The whole environment of the child: nothing of the parent's leaks through."""
    env = {
        "PATH": "/usr/bin:/bin",
        "HOME": home,
        "TMPDIR": home,
        "LANG": "C.UTF-8",
        "OPENBLAS_NUM_THREADS": "1",
        "OMP_NUM_THREADS": "1",
        "MKL_NUM_THREADS": "1",
        "PYTHONDONTWRITEBYTECODE": "1",
    }
    for name in ("OPENBLAS_CORETYPE", "OPENBLAS_L2_SIZE"):  # old OpenBLAS builds crash without
        if name in os.environ:
            env[name] = os.environ[name]
    if token is not None:
        env[_TOKEN_ENV] = token
    return env


def _unshare_command(mode: str) -> list[str]:
    """`unshare` for a child in new PID, network and mount namespaces."""
    command = [_find_unshare() or "unshare", "--fork", "--pid", "--mount-proc", "--net",
               "--mount", "--kill-child"]
    if mode == "userns":
        command += ["--user", "--map-root-user"]
    return command + ["--"]


def _find_unshare() -> str | None:
    return shutil.which("unshare", path="/usr/bin:/bin:/usr/sbin:/sbin")


# --------------------------------------------------------------------------- isolation probe


@dataclass(frozen=True)
class _Probe:
    mode: str | None  # "root" (real root: become nobody), "userns", or None (fallback)
    reason: str  # why mode is None


_probe_lock = threading.Lock()
_probe_cache: _Probe | None = None


def default_hidden_paths() -> tuple[str, ...]:
    """Always hidden in a namespace: the course package and users' home folders."""
    candidates = [PACKAGE_DIR, Path.home(), Path("/root"), Path("/home")]
    return _normalize_paths(candidates)


def _normalize_paths(paths: Sequence[os.PathLike | str]) -> tuple[str, ...]:
    """Absolute, symlink-free, existing, unique paths (what mount(2) will be given)."""
    seen: list[str] = []
    for path in paths:
        real = os.path.realpath(os.path.expanduser(os.fspath(path)))
        if real != "/" and os.path.lexists(real) and real not in seen:
            seen.append(real)
    return tuple(seen)


def _probe() -> _Probe:
    """Can this process give children namespaces? Tried for real, once per boot.

    The answer is kept in memory for the process and, when namespaces work, in a small
    file keyed by the boot, the user and the Python and unshare programs, so that each
    `course check` does not pay ~50 ms to find out again. A jail that fails later anyway
    falls back at run time and forgets the file.
    """
    global _probe_cache
    with _probe_lock:
        if _probe_cache is None:
            if os.environ.get(NAMESPACES_ENV, "").strip() == "0":
                _probe_cache = _Probe(None, f"namespaces are turned off ({NAMESPACES_ENV}=0)")
            else:
                _probe_cache = _read_probe_file() or _run_probe()
                if _probe_cache.mode is not None:
                    _write_probe_file(_probe_cache)
        return _probe_cache


def _probe_file() -> Path:
    cache = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    return Path(cache) / "llm-course" / f"sandbox-probe-{os.geteuid()}.json"


def _probe_key() -> str:
    try:
        boot = Path("/proc/sys/kernel/random/boot_id").read_text().strip()
    except OSError:
        return ""  # no boot id: never trust a stored answer
    return f"{boot}|{sys.executable}|{_find_unshare()}"


def _read_probe_file() -> "_Probe | None":
    key = _probe_key()
    if not key:
        return None
    try:
        stored = json.loads(_probe_file().read_text())
    except (OSError, ValueError):
        return None
    if isinstance(stored, dict) and stored.get("key") == key and stored.get("mode") in ("root", "userns"):
        return _Probe(stored["mode"], "")
    return None


def _write_probe_file(probe: "_Probe") -> None:
    key = _probe_key()
    if not key:
        return
    path = _probe_file()
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        temporary = path.with_suffix(f".{os.getpid()}.tmp")
        temporary.write_text(json.dumps({"key": key, "mode": probe.mode}))
        os.replace(temporary, path)
    except OSError:
        pass  # a cache only: without it the next process probes again


def _forget_namespaces(reason: str) -> None:
    """A real child failed to enter the jail although the probe passed: stop trying."""
    global _probe_cache
    with _probe_lock:
        _probe_cache = _Probe(None, reason)
    try:
        _probe_file().unlink()
    except OSError:
        pass


def _run_probe() -> _Probe:
    if os.environ.get(NAMESPACES_ENV, "").strip() == "0":
        return _Probe(None, f"namespaces are turned off ({NAMESPACES_ENV}=0)")
    if not sys.platform.startswith("linux"):
        return _Probe(None, f"namespaces need Linux (this is {sys.platform})")
    if _find_unshare() is None:
        return _Probe(None, "the util-linux `unshare` program was not found")
    modes = ["root", "userns"] if os.geteuid() == 0 else ["userns"]
    errors = []
    for mode in modes:
        error = _try_mode(mode)
        if error is None:
            return _Probe(mode, "")
        errors.append(error)
    return _Probe(None, _explain_userns_failure() or errors[-1])


def _try_mode(mode: str) -> str | None:
    """Run the real jail code in probe mode; None when it worked, else why not."""
    config = _load_config("", "probe.py", "f", Limits(), mode, hidden=(), probe=True)
    in_r, in_w = os.pipe()
    out_r, out_w = os.pipe()
    try:
        proc = subprocess.Popen(
            _unshare_command(mode) + [sys.executable, "-I", "-S", "-c", child_program(),
                                      str(in_r), str(out_w)],
            stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
            pass_fds=(in_r, out_w), env=_child_env(CHILD_WORKDIR, None), cwd="/",
            start_new_session=True,
        )
    except OSError as exc:
        for fd in (in_r, in_w, out_r, out_w):
            os.close(fd)
        return f"could not run unshare: {exc}"
    os.close(in_r)
    os.close(out_w)
    try:
        os.write(in_w, b"".join(encode_frame(config)))
        os.close(in_w)
        _, err = proc.communicate(timeout=PROBE_TIMEOUT)
    except (subprocess.TimeoutExpired, OSError):
        _killpg(proc.pid)
        proc.wait()
        os.close(out_r)
        return "the namespace probe did not finish"
    reply = _read_all(out_r)
    os.close(out_r)
    reader = FrameReader(MAX_CHILD_HEADER_BYTES, 0)
    try:
        frames = reader.feed(reply)
    except ProtocolError:
        frames = []
    jail = frames[0][0].get("jail") if frames else None
    if isinstance(jail, dict) and jail.get("ok") is True:
        return None
    if isinstance(jail, dict):
        return f"the namespace could not be set up: {jail.get('error')}"
    first_line = err.decode("utf-8", "replace").strip().splitlines()[:1]
    return f"unshare failed: {first_line[0] if first_line else f'exit status {proc.returncode}'}"


def _read_all(fd: int) -> bytes:
    chunks = []
    while chunk := os.read(fd, 1 << 16):
        chunks.append(chunk)
    return b"".join(chunks)


def _explain_userns_failure() -> str | None:
    """The usual reasons an unprivileged user namespace is refused, from sysctls."""
    checks = [
        ("/proc/sys/kernel/unprivileged_userns_clone", "0",
         "user namespaces are disabled (kernel.unprivileged_userns_clone=0)"),
        ("/proc/sys/user/max_user_namespaces", "0",
         "user namespaces are disabled (user.max_user_namespaces=0)"),
        ("/proc/sys/kernel/apparmor_restrict_unprivileged_userns", "1",
         "AppArmor restricts unprivileged user namespaces"
         " (kernel.apparmor_restrict_unprivileged_userns=1)"),
    ]
    if os.geteuid() == 0:
        return None
    for path, bad, reason in checks:
        try:
            if Path(path).read_text().strip() == bad:
                return reason
        except OSError:
            continue
    return None


def _isolation(mode: str | None, hidden: tuple[str, ...], reason: str = "") -> Isolation:
    if mode is None:
        return Isolation(
            namespaces=False, hidden_paths=(),
            detail=(f"limited: {reason}; the submission could read course files, use the "
                    "network and write wherever the grader may, and processes it detaches "
                    "are only cleaned up on a best-effort basis"),
        )
    who = ("runs as user nobody without privileges" if mode == "root"
           else "runs in a user namespace without capabilities")
    return Isolation(
        namespaces=True, hidden_paths=hidden,
        detail=(f"no network, own PID namespace, read-only file system with a private /tmp, "
                f"course files hidden ({len(hidden)} paths), {who}"),
    )


def isolation_available() -> Isolation:
    """What isolation runs get on this machine (probed once per process, ~50 ms)."""
    probe = _probe()
    return _isolation(probe.mode, default_hidden_paths() if probe.mode else (), probe.reason)


# --------------------------------------------------------------------------- wire encoding


def _load_config(source: str, filename: str, function: str, limits: Limits, mode: str | None,
                 hidden: tuple[str, ...], probe: bool = False) -> dict:
    """The first frame: everything the child needs before it has any inputs."""
    jail = None
    if mode is not None:
        jail = {"hide": list(hidden), "drop": "nobody" if mode == "root" else "caps",
                "tmp_bytes": max(4 * limits.file_bytes, 16 << 20), "workdir": CHILD_WORKDIR,
                "nproc": NPROC}
    return {
        "type": "load", "probe": probe, "source": source, "filename": filename,
        "function": function, "module": SUBMISSION_MODULE, "site": [_numpy_site()], "jail": jail,
        "limits": {"cpu": int(limits.cpu_seconds), "memory": int(limits.memory_bytes),
                   "file": int(limits.file_bytes), "nofile": NOFILE,
                   "result": int(limits.result_bytes)},
    }


def _encode_value(value: object, arrays: list[np.ndarray]) -> dict:
    """One argument as JSON, its arrays appended to `arrays` (see _child.decode_value)."""
    import numpy as np

    if isinstance(value, np.ndarray):
        if value.dtype.kind not in ARRAY_KINDS or value.dtype.fields is not None:
            raise TypeError(f"cannot send an array of dtype {value.dtype} to the sandbox")
        arrays.append(contiguous(value))
        return {"array": len(arrays) - 1}
    if isinstance(value, np.generic):
        return {"scalar": _encode_value(np.asarray(value), arrays)["array"]}
    if value is None or isinstance(value, (bool, int, float, str)):
        return {"json": value}
    if isinstance(value, tuple):
        return {"tuple": [_encode_value(v, arrays) for v in value]}
    if isinstance(value, list):
        return {"list": [_encode_value(v, arrays) for v in value]}
    if isinstance(value, Mapping) and all(isinstance(k, str) for k in value):
        return {"dict": {k: _encode_value(v, arrays) for k, v in value.items()}}
    raise TypeError(f"cannot send a {type(value).__name__} to the sandbox")


def _call_frame(index: int, call: Call) -> bytes:
    arrays: list[np.ndarray] = []
    header = {
        "type": "call", "index": index,
        "args": [_encode_value(v, arrays) for v in call.args],
        "kwargs": {str(k): _encode_value(v, arrays) for k, v in call.kwargs.items()},
    }
    json.dumps(header)  # fail here, in the caller's terms, not half-way through a run
    return b"".join(encode_frame(header, arrays))


# --------------------------------------------------------------------------- output capture


class _Capture:
    """First `limit` bytes of a stream; the rest is counted and dropped."""

    def __init__(self, limit: int) -> None:
        self.limit = limit
        self.kept = bytearray()
        self.dropped = 0

    def feed(self, data: bytes) -> None:
        room = self.limit - len(self.kept)
        self.kept += data[:room] if room > 0 else b""
        self.dropped += max(0, len(data) - max(room, 0))

    @property
    def total(self) -> int:
        return len(self.kept) + self.dropped

    def text(self) -> str:
        text = self.kept.decode("utf-8", "replace")
        if self.dropped:
            text += f"\n... [{self.dropped} more bytes dropped]"
        return text


# --------------------------------------------------------------------------- run state


@dataclass
class _Progress:
    """What the parent has learnt from the result channel so far."""

    calls: tuple[Call, ...]
    hello: dict | None = None
    loaded: bool | None = None
    load_error: str | None = None
    outcomes: list[CallOutcome] = field(default_factory=list)
    protocol_error: str | None = None
    memory_error: bool = False
    exited: bool = False  # the namespace init reported the worker's end
    exit_status: int | None = None  # its wait status, as os.waitpid gives it

    @property
    def finished(self) -> bool:
        """Everything the parent needs has arrived (the "done" frame is a courtesy)."""
        if self.loaded is False:
            return True
        return self.loaded is True and len(self.outcomes) == len(self.calls)

    def accept(self, header: dict, arrays: list[np.ndarray]) -> None:
        """Check one frame against the expected sequence; ProtocolError if out of place."""
        kind = header["type"]
        if self.finished or self.exited:
            return  # all we need is in; anything more (forged or not) is ignored
        if kind == "exit":
            status = header.get("status")
            if status is not None and type(status) is not int:
                raise ProtocolError("exit status is not an int")
            self.exited, self.exit_status = True, status
        elif self.hello is None:
            if kind != "hello":
                raise ProtocolError(f"expected 'hello', got {kind!r}")
            self.hello = header
        elif self.loaded is None and kind == "loaded":
            self.loaded = True
        elif self.loaded is None and kind == "load_error":
            self.loaded = False
            self.load_error = _text_field(header, "error")
            self.memory_error |= self.load_error.startswith("MemoryError")
        elif self.loaded and kind == "result":
            self.outcomes.append(self._outcome(header, arrays))
        else:
            raise ProtocolError(f"unexpected {kind!r} message")

    def _outcome(self, header: dict, arrays: list[np.ndarray]) -> CallOutcome:
        index = len(self.outcomes)
        if header.get("index") != index:
            raise ProtocolError(f"result for call {header.get('index')!r} where {index} was due")
        status = header.get("status")
        slots = header.get("args_after")
        n_args = len(self.calls[index].args)
        if not isinstance(slots, list) or len(slots) != n_args:
            raise ProtocolError("'args_after' does not match the call's arguments")
        args_after = tuple(_slot(arrays, s, allow_none=True) for s in slots)
        named = header.get("kwargs_after", {})
        if not isinstance(named, dict) or not set(named) <= set(self.calls[index].kwargs):
            raise ProtocolError("'kwargs_after' does not match the call's keyword arguments")
        kwargs_after = {str(k): _slot(arrays, s) for k, s in named.items()}
        if status == "ok":
            if header.get("error") is not None:
                raise ProtocolError("an 'ok' result with an error")
            return CallOutcome(CallStatus.OK, _slot(arrays, header.get("value")), None, args_after, kwargs_after)
        if status in ("raised", "bad_return"):
            if header.get("value") is not None:
                raise ProtocolError(f"a {status!r} result with a value")
            error = _text_field(header, "error")
            if status == "raised" and error.startswith("MemoryError"):
                self.memory_error = True
            call_status = CallStatus.RAISED if status == "raised" else CallStatus.BAD_RETURN
            return CallOutcome(call_status, None, error, args_after, kwargs_after)
        raise ProtocolError(f"unknown result status {status!r}")


def _text_field(header: dict, name: str) -> str:
    value = header.get(name)
    if not isinstance(value, str):
        raise ProtocolError(f"field {name!r} is not a string")
    return value


def _slot(arrays: list[np.ndarray], slot: object, allow_none: bool = False) -> np.ndarray | None:
    if slot is None and allow_none:
        return None
    if type(slot) is not int or not 0 <= slot < len(arrays):
        raise ProtocolError(f"array reference {slot!r} is out of range")
    return arrays[slot]


class _JailFailed(Exception):
    """The child reported that it could not build its namespace jail."""


# --------------------------------------------------------------------------- process helpers


def _killpg(pgid: int) -> None:
    try:
        os.killpg(pgid, signal.SIGKILL)
    except (ProcessLookupError, PermissionError):
        pass


def _kill(pid: int) -> None:
    try:
        os.kill(pid, signal.SIGKILL)
    except (ProcessLookupError, PermissionError):
        pass


def _proc_stat(pid: int | str) -> list[bytes] | None:
    """Fields of /proc/PID/stat after the command name (field 3, the state, comes first)."""
    try:
        with open(f"/proc/{pid}/stat", "rb") as f:
            return f.read().rpartition(b")")[2].split()
    except OSError:
        return None


def _children_of(ppid: int) -> list[tuple[int, int]]:
    """(pid, start time) of each child of `ppid`; /proc/PID/task/*/children is not
    always compiled in, so this scans /proc."""
    found = []
    for entry in os.scandir("/proc"):
        if entry.name.isdigit():
            fields = _proc_stat(entry.name)
            if fields and len(fields) > 19 and int(fields[1]) == ppid:
                found.append((int(entry.name), int(fields[19])))
    return found


def _wait_namespace_gone(pid: int, started: int, timeout: float) -> None:
    """Wait until a killed namespace init is a zombie or gone.

    The kernel turns the init into a zombie only after every other process of its PID
    namespace has died, so this is the moment the kill is complete.
    """
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        fields = _proc_stat(pid)
        if not fields or int(fields[19]) != started or fields[0] in (b"Z", b"X"):
            return
        time.sleep(0.002)


def _pids_with_token(token: str) -> list[int]:
    """Fallback only: processes whose environment still carries this run's token."""
    needle = f"{_TOKEN_ENV}={token}".encode()
    found = []
    for entry in os.scandir("/proc"):
        if not entry.name.isdigit() or int(entry.name) == os.getpid():
            continue
        try:
            with open(f"/proc/{entry.name}/environ", "rb") as f:
                if needle in f.read().split(b"\0"):
                    found.append(int(entry.name))
        except OSError:
            continue
    return found


def _signal_phrase(signum: int) -> str:
    try:
        name = signal.Signals(signum).name
    except ValueError:
        name = f"signal {signum}"
    description = signal.strsignal(signum) or ""
    return f"{name} ({description.lower()})" if description else name


def _gib(nbytes: int) -> str:
    return f"{nbytes / (1 << 30):.1f} GiB" if nbytes >= 1 << 30 else f"{nbytes / (1 << 20):.0f} MiB"


# --------------------------------------------------------------------------- the session


class SandboxSession:
    """One child process running one submission. Use start() to make one."""

    def __init__(self, source: str, *, filename: str, function: str, limits: Limits,
                 hidden_paths: Sequence[os.PathLike | str], strict: bool) -> None:
        self._proc: subprocess.Popen | None = None
        self._in_w: int | None = None
        self._res_r: int | None = None
        self._workdir: str | None = None
        self._token: str | None = None
        self._mode: str | None = None
        self._reaped = False
        self._closed = False
        self._source, self._filename, self._function = source, filename, function
        self._limits = limits
        self._strict = strict
        self._hidden = _normalize_paths([*default_hidden_paths(), *hidden_paths])
        self._started = time.monotonic()
        self._ran = False
        probe = _probe()
        if probe.mode is None and strict:
            raise SandboxUnavailable(_isolation(None, (), probe.reason).detail)
        self._spawn(probe.mode, probe.reason)

    # -- process lifetime

    def _spawn(self, mode: str | None, reason: str) -> None:
        """Start the child and send it the submission at once (it loads while we work)."""
        self._mode = mode
        self._isolation = _isolation(mode, self._hidden, reason)
        self._token = None if mode else uuid.uuid4().hex
        self._workdir = None if mode else tempfile.mkdtemp(prefix="course-sandbox-")
        home = CHILD_WORKDIR if mode else self._workdir
        in_r, in_w = os.pipe()
        out_r, out_w = os.pipe()
        try:
            fcntl.fcntl(in_w, getattr(fcntl, "F_SETPIPE_SZ", 1031), 1 << 20)
        except OSError:
            pass  # a smaller pipe only means the source may finish sending in run()
        command = (_unshare_command(mode) if mode else []) + [
            sys.executable, "-I", "-S", "-c", child_program(), str(in_r), str(out_w)]
        self._in_w, self._res_r = in_w, out_r  # closed by close() whatever happens next
        self._reaped = False
        try:
            self._proc = subprocess.Popen(
                command, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                stderr=subprocess.PIPE, pass_fds=(in_r, out_w), env=_child_env(home, self._token),
                cwd=self._workdir or "/", start_new_session=True,
            )
        finally:
            os.close(in_r)
            os.close(out_w)
        self._status: int | None = None
        self._cpu_seconds = 0.0
        for fd in (in_w, out_r, self._proc.stdout.fileno(), self._proc.stderr.fileno()):
            os.set_blocking(fd, False)
        config = _load_config(self._source, self._filename, self._function, self._limits,
                              mode, self._hidden)
        self._outbox = bytearray(b"".join(encode_frame(config)))
        self._write_some()

    def _write_some(self) -> None:
        """Send what the pipe takes now; never block on a child that does not read."""
        while self._outbox and self._in_w is not None:
            try:
                written = os.write(self._in_w, self._outbox[: 1 << 16])
            except BlockingIOError:
                return
            except (BrokenPipeError, OSError):
                self._outbox.clear()  # the child is gone or closed its input: nothing to do
                return
            del self._outbox[:written]

    def _exited(self) -> bool:
        """Has the direct child exited? Leaves it unreaped, so its pid (our pgid) stays ours."""
        if self._reaped:
            return True
        try:
            info = os.waitid(os.P_PID, self._proc.pid, os.WEXITED | os.WNOHANG | os.WNOWAIT)
        except ChildProcessError:
            return True
        return info is not None

    def _kill_all(self) -> None:
        """SIGKILL everything the child started: process group, namespace init, stragglers."""
        if self._proc is None or self._reaped:
            return
        inits = _children_of(self._proc.pid) if self._mode is not None else []
        _killpg(self._proc.pid)  # first, so unshare does not report the init's death on stderr
        for pid, _ in inits:  # it may have left the group (setsid); all its namespace dies with it
            _kill(pid)
        for pid, started in inits:
            _wait_namespace_gone(pid, started, timeout=2.0)
        if self._token is not None:
            for _ in range(3):  # a process may fork while we look; look again
                pids = _pids_with_token(self._token)
                if not pids:
                    break
                for pid in pids:
                    _kill(pid)

    def _reap(self, timeout: float = 5.0) -> None:
        if self._proc is None or self._reaped:
            return
        end = time.monotonic() + timeout
        while True:
            try:
                pid, status, usage = os.wait4(self._proc.pid, os.WNOHANG)
            except ChildProcessError:
                self._reaped = True
                return
            if pid:
                self._reaped = True
                self._status = status
                self._cpu_seconds = usage.ru_utime + usage.ru_stime
                self._proc.returncode = os.waitstatus_to_exitcode(status)
                return
            if time.monotonic() > end:
                return  # unkillable (D state); leave it to Popen's own cleanup
            time.sleep(0.005)

    def close(self) -> None:
        """Kill everything, reap, close pipes, remove the working folder. Idempotent."""
        if self._closed:
            return
        self._closed = True
        self._shutdown()

    def _shutdown(self) -> None:
        self._kill_all()
        self._reap()
        for fd in (self._in_w, self._res_r):
            if fd is not None:
                try:
                    os.close(fd)
                except OSError:
                    pass
        self._in_w = self._res_r = None
        if self._proc is not None:
            for stream in (self._proc.stdout, self._proc.stderr):
                stream.close()
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

    # -- the run

    def run(self, calls: Sequence[Call]) -> SandboxRun:
        """Send the inputs, collect one outcome per call, then stop the child."""
        if self._ran or self._closed:
            raise RuntimeError("SandboxSession.run() may be called once, before close()")
        self._ran = True
        calls = tuple(calls)
        frames = b"".join(_call_frame(i, call) for i, call in enumerate(calls))
        frames += b"".join(encode_frame({"type": "end"}))
        try:
            try:
                return self._run_once(calls, frames)
            except _JailFailed as exc:
                reason = f"the namespace could not be set up ({exc})"
                _forget_namespaces(reason)
                self._shutdown()
                if self._strict:
                    raise SandboxUnavailable(_isolation(None, (), reason).detail) from None
                self._spawn(None, reason)
                return self._run_once(calls, frames)
        finally:
            self.close()

    def _run_once(self, calls: tuple[Call, ...], frames: bytes) -> SandboxRun:
        self._outbox += frames
        progress = _Progress(calls)
        stdout, stderr = _Capture(self._limits.output_bytes), _Capture(self._limits.output_bytes)
        stop = self._pump(progress, stdout, stderr)
        termination, detail = self._conclude(progress, stop)
        self._drain_outputs(stdout, stderr)
        load_error = progress.load_error
        if progress.loaded is None:
            load_error = f"importing the file did not finish: {detail}"
        return SandboxRun(
            loaded=progress.loaded is True,
            load_error=load_error,
            outcomes=self._outcomes(progress, termination, detail),
            termination=termination,
            termination_detail=detail,
            stdout=stdout.text(),
            stderr=stderr.text(),
            isolation=self._isolation,
            seconds=time.monotonic() - self._started,
        )

    def _pump(self, progress: _Progress, stdout: _Capture, stderr: _Capture) -> str:
        """Move bytes until the run is over; return why it stopped.

        "finished" (all results in), "eof" (result channel closed early), "timeout",
        "output" (too much printed), "protocol" (malformed frame).
        """
        limits = self._limits
        deadline = time.monotonic() + limits.wall_seconds
        output_cap = max(OUTPUT_KILL_FACTOR * limits.output_bytes, 1 << 20)
        reader = FrameReader(MAX_CHILD_HEADER_BYTES, limits.result_bytes)
        captures = {self._proc.stdout.fileno(): stdout, self._proc.stderr.fileno(): stderr}
        selector = selectors.DefaultSelector()
        try:
            for fd in captures:
                selector.register(fd, selectors.EVENT_READ)
            selector.register(self._res_r, selectors.EVENT_READ)
            writing = False
            while True:
                self._write_some()
                if bool(self._outbox) != writing:
                    writing = bool(self._outbox)
                    if writing:
                        selector.register(self._in_w, selectors.EVENT_WRITE)
                    else:
                        selector.unregister(self._in_w)
                timeout = deadline - time.monotonic()
                if timeout <= 0:
                    return "timeout"
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
                            return "output"
                        continue
                    if not data:
                        return "finished" if progress.finished else "eof"
                    reader.push(data)
                    try:
                        while (frame := reader.next_frame()) is not None:
                            progress.accept(*frame)  # one at a time: a bad frame keeps the good ones before it
                            self._check_hello(progress)
                    except ProtocolError as exc:
                        progress.protocol_error = str(exc)
                        return "protocol"
                    if progress.finished:
                        return "finished"
                    if progress.exited:
                        return "eof"
        finally:
            selector.close()

    def _check_hello(self, progress: _Progress) -> None:
        hello = progress.hello
        if hello is None or progress.loaded is not None:
            return
        jail = hello.get("jail")
        if self._mode is not None and not (isinstance(jail, dict) and jail.get("ok") is True):
            error = jail.get("error") if isinstance(jail, dict) else "no report"
            raise _JailFailed(str(error))
        if hello.get("fatal"):
            raise SandboxError(f"the sandbox child could not start: {hello['fatal']}")

    def _conclude(self, progress: _Progress, stop: str) -> tuple[Termination, str]:
        """Stop the child and name, truthfully, how the run ended."""
        limits = self._limits
        if stop in ("finished", "eof"):
            self._wait_exit(min(GRACE_SECONDS, limits.wall_seconds))
        exited = self._exited()
        self._kill_all()
        self._reap()
        if progress.hello is None and stop not in ("timeout", "output"):
            raise SandboxError("the sandbox child ended before it started: "
                               f"exit status {self._proc.returncode}")
        if stop == "protocol":
            return (Termination.PROTOCOL_ERROR,
                    f"the submission sent malformed data on the result channel ({progress.protocol_error})")
        if stop == "finished":
            if progress.memory_error:
                return Termination.MEMORY, f"memory limit ({_gib(limits.memory_bytes)}) exceeded"
            if progress.loaded is False:
                return Termination.COMPLETED, "the file could not be loaded"
            return Termination.COMPLETED, "completed"
        if stop == "timeout":
            return Termination.TIMEOUT, f"stopped after {limits.wall_seconds:.1f} s (time limit)"
        if stop == "output":
            cap = max(OUTPUT_KILL_FACTOR * limits.output_bytes, 1 << 20)
            return (Termination.OUTPUT_LIMIT,
                    f"stopped after printing more than {cap >> 20} MiB of output (output limit)")
        return self._explain_exit(progress, exited)

    def _explain_exit(self, progress: _Progress, exited: bool) -> tuple[Termination, str]:
        """The result channel closed early: say why, from the wait status we collected."""
        limits = self._limits
        if not exited:
            return (Termination.PROTOCOL_ERROR,
                    "the submission closed the result channel and kept running")
        status = progress.exit_status if progress.exited else self._status
        if progress.memory_error:
            return Termination.MEMORY, f"memory limit ({_gib(limits.memory_bytes)}) exceeded"
        if status is not None and os.WIFSIGNALED(status):
            signum = os.WTERMSIG(status)
            over_cpu = self._cpu_seconds >= limits.cpu_seconds - 0.05
            if signum == signal.SIGXCPU or (signum == signal.SIGKILL and over_cpu):
                return (Termination.CPU_LIMIT,
                        f"stopped after {limits.cpu_seconds} s of CPU time (CPU limit)")
            return Termination.KILLED, f"killed by signal {_signal_phrase(signum)}"
        code = os.WEXITSTATUS(status) if status is not None and os.WIFEXITED(status) else None
        suffix = f" (exit status {code})" if code is not None else ""
        return (Termination.EXITED_EARLY,
                f"the submission exited (sys.exit / os._exit) before returning results{suffix}")

    def _wait_exit(self, seconds: float) -> None:
        """Give a child that is done a moment to exit by itself (so its status is its own)."""
        end = time.monotonic() + seconds
        while not self._exited() and time.monotonic() < end:
            time.sleep(0.002)

    def _drain_outputs(self, stdout: _Capture, stderr: _Capture) -> None:
        """After the kill: collect what is still in the pipes (bounded: no writer is left,
        unless a detached process in the fallback mode still holds one)."""
        end = time.monotonic() + 0.2
        for stream, capture in ((self._proc.stdout, stdout), (self._proc.stderr, stderr)):
            fd = stream.fileno()
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

    def _outcomes(self, progress: _Progress, termination: Termination,
                  detail: str) -> tuple[CallOutcome, ...]:
        """The outcomes received, then NOT_RUN (with the reason) for the rest."""
        outcomes = list(progress.outcomes)
        for index in range(len(outcomes), len(progress.calls)):
            if progress.loaded is False:
                why = "not run: the submission could not be loaded"
            elif progress.loaded is None:
                why = f"not run: the submission never finished loading ({detail})"
            elif index == len(progress.outcomes):
                why = f"did not return: {detail}"
            else:
                why = f"not run: {detail}"
            n_args = len(progress.calls[index].args)
            outcomes.append(CallOutcome(CallStatus.NOT_RUN, None, why, (None,) * n_args))
        return tuple(outcomes)


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


# --------------------------------------------------------------------------- entry points


def start(source: str, *, filename: str, function: str, limits: Limits = Limits(),
          hidden_paths: Sequence[os.PathLike | str] = (), strict: bool = False) -> SandboxSession:
    """Start the child now: it imports numpy and the submission while the caller works.

    hidden_paths: folders (or files) the child must not see, in addition to the course
    package and home folders, e.g. the course root, the submissions folder, COURSE_HOME.
    strict: raise SandboxUnavailable instead of running without namespaces.
    """
    return SandboxSession(source, filename=filename, function=function, limits=limits,
                          hidden_paths=hidden_paths, strict=strict)


def run(source: str, *, filename: str, function: str, calls: Sequence[Call],
        limits: Limits = Limits(), hidden_paths: Sequence[os.PathLike | str] = (),
        strict: bool = False) -> SandboxRun:
    """start() + run() + close()."""
    with start(source, filename=filename, function=function, limits=limits,
               hidden_paths=hidden_paths, strict=strict) as session:
        return session.run(calls)
