"""Which isolation this machine gives: tried for real, once per boot.

Modes, best first:
    root    real root: namespaces without a user namespace; each sandbox becomes a uid
            of its own (slots.py)
    userns  anyone, where the kernel allows unprivileged user namespaces: the same
            namespaces inside a user namespace of the sandbox's own
    None    neither: rlimits, a timeout and a process-group kill only (the isolation
            note says so; strict mode refuses)

The probe runs the real child program in probe mode (it builds the whole jail and
reports), so "works" means the real thing works. The answer is kept in memory for the
process and, when a mode works, in a small file keyed by the boot, the user and the
Python program, so that each `course check` does not pay ~50 ms to find out again.
"""
from __future__ import annotations

import json
import os
import subprocess
import sys
import threading
from dataclasses import dataclass
from pathlib import Path

from course.grading.results import Isolation
from course.grading.sandbox import cgroups, processes, slots
from course.grading.sandbox.program import CHILD_WORKDIR, child_env, child_program, load_config
from course.grading.sandbox.records import Limits
from course.grading.sandbox.wire import MAX_CHILD_HEADER_BYTES, FrameReader, ProtocolError, encode_frame

NAMESPACES_ENV = "COURSE_SANDBOX_NAMESPACES"
PROBE_TIMEOUT = 10.0
PROBE_FORMAT = 2  # bump when what the probe checks changes: older answers are not reused


@dataclass(frozen=True)
class Probe:
    mode: str | None  # "root", "userns", or None (fallback)
    reason: str  # why mode is None


_lock = threading.Lock()
_cache: Probe | None = None


def probe() -> Probe:
    """The isolation mode for this process (probed once; see the module docstring)."""
    global _cache
    with _lock:
        if _cache is None:
            if os.environ.get(NAMESPACES_ENV, "").strip() == "0":
                _cache = Probe(None, f"namespaces are turned off ({NAMESPACES_ENV}=0)")
            else:
                _cache = _read_file() or _run()
                if _cache.mode is not None:
                    _write_file(_cache)
        return _cache


def forget() -> None:
    """Probe again next time (tests that change the environment)."""
    global _cache
    with _lock:
        _cache = None


def isolation(mode: str | None, reason: str = "") -> Isolation:
    """The Isolation record (and its note, which students read) for a mode on this machine."""
    where, why_not = cgroups.hierarchy()
    if where is not None:
        caps = f"memory and process limits for the sandbox as a whole ({where.describe()})"
    else:
        caps = f"memory and process limits per process only ({why_not})"
    if mode is None:
        return Isolation(
            namespaces=False, level="none", sandbox_limits=where is not None,
            detail=(f"limited: {reason}; the submission could read files the grader can read, "
                    f"use the network and write wherever the grader may; {caps}"),
        )
    who = ("runs as a user of its own without privileges" if mode == "root"
           else "runs in a user namespace of its own without capabilities")
    return Isolation(
        namespaces=True, level=mode, sandbox_limits=where is not None,
        detail=(f"no network, own PID, IPC and UTS namespaces, sees only Python, numpy and its "
                f"own folder (read-only but for a private /tmp), {who}; {caps}"),
    )


# --------------------------------------------------------------------------- the stored answer


def _file() -> Path:
    cache = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    return Path(cache) / "llm-course" / f"sandbox-probe-v{PROBE_FORMAT}-{os.geteuid()}.json"


def _key() -> str:
    try:
        boot = Path("/proc/sys/kernel/random/boot_id").read_text().strip()
    except OSError:
        return ""  # no boot id: never trust a stored answer
    return f"{PROBE_FORMAT}|{boot}|{sys.executable}|{len(child_program())}"


def _read_file() -> Probe | None:
    key = _key()
    if not key:
        return None
    try:
        stored = json.loads(_file().read_text())
    except (OSError, ValueError):
        return None
    if isinstance(stored, dict) and stored.get("key") == key and stored.get("mode") in ("root", "userns"):
        return Probe(stored["mode"], "")
    return None


def _write_file(found: Probe) -> None:
    key = _key()
    if not key:
        return
    path = _file()
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        temporary = path.with_suffix(f".{os.getpid()}.tmp")
        temporary.write_text(json.dumps({"key": key, "mode": found.mode}))
        os.replace(temporary, path)
    except OSError:
        pass  # a cache only: without it the next process probes again


# --------------------------------------------------------------------------- the probe itself


def _run() -> Probe:
    if not sys.platform.startswith("linux"):
        return Probe(None, f"namespaces need Linux (this is {sys.platform})")
    modes = ["root", "userns"] if os.geteuid() == 0 else ["userns"]
    errors = []
    for mode in modes:
        error = _try_mode(mode)
        if error is None:
            return Probe(mode, "")
        errors.append(error)
    return Probe(None, _explain_userns_failure() or errors[-1])


def _try_mode(mode: str) -> str | None:
    """Run the real jail code in probe mode; None when it worked, else why not.

    The root mode drops to a uid of its own that no sandbox slot uses: whether the mode
    works must not depend on the slots (a lock folder problem is a start failure of
    one sandbox, retried, not a reason to give up the mode).
    """
    try:
        config = load_config("", "probe.py", "f", Limits(), mode,
                             uid=slots.probe_uid() if mode == "root" else None, probe=True)
        in_r, in_w = os.pipe()
        out_r, out_w = os.pipe()
        try:
            proc = subprocess.Popen(
                [sys.executable, "-I", "-S", "-c", child_program(), str(in_r), str(out_w), str(os.getpid())],
                stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
                pass_fds=(in_r, out_w), env=child_env(CHILD_WORKDIR, None), cwd="/",
                start_new_session=True,
            )
        except OSError as exc:
            for fd in (in_r, in_w, out_r, out_w):
                os.close(fd)
            return f"could not start Python: {exc}"
        os.close(in_r)
        os.close(out_w)
        try:
            os.write(in_w, b"".join(encode_frame(config)))
            os.close(in_w)
            _, err = proc.communicate(timeout=PROBE_TIMEOUT)
        except (subprocess.TimeoutExpired, OSError):
            processes.killpg(proc.pid)
            proc.wait()
            os.close(out_r)
            return "the namespace probe did not finish"
        reply = processes.read_all(out_r)
        os.close(out_r)
    except OSError as error:
        return f"the probe could not run: {error}"
    try:
        frames = FrameReader(MAX_CHILD_HEADER_BYTES, 0).feed(reply)
    except ProtocolError:
        frames = []
    hello = frames[0][0] if frames else {}
    jail = hello.get("jail")
    if isinstance(jail, dict) and jail.get("ok") is True:
        return None
    if hello.get("fatal"):
        return str(hello["fatal"])
    if isinstance(jail, dict):
        return f"the namespace could not be set up: {jail.get('error')}"
    first_line = err.decode("utf-8", "replace").strip().splitlines()[-1:]
    return f"the probe failed: {first_line[0] if first_line else f'exit status {proc.returncode}'}"


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
