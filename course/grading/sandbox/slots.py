"""Per-sandbox identities: a uid of its own for every sandbox running at the same time.

Why: the kernel counts processes (RLIMIT_NPROC) per uid over the whole machine, so
sandboxes sharing one uid (the old "nobody") share one process budget: a class graded
with 20 jobs, or one student who forks, made classmates' sandboxes fail to start.

As real root every concurrent sandbox takes a numbered slot and runs as uid
UID_BASE + slot (gid the same number). A slot is held with an flock on a file in a
root-only folder, so any number of grader processes on the machine (`course check`,
`course grade` workers, CI jobs) never share one; the lock goes with the process that
held it, even when it is killed. Before a slot's uid is used, any process still
running as that uid (left by a grader that was killed) is killed, and the slot's
cgroup (see cgroups.py) is removed.

Without root, each sandbox is its own user namespace instead, which the kernel
counts apart (see jail.enter_namespaces); no slot is needed for the uid.
"""
from __future__ import annotations

import fcntl
import os
import signal
from dataclasses import dataclass
from pathlib import Path

UID_BASE_ENV = "COURSE_SANDBOX_UID_BASE"
LOCK_DIR_ENV = "COURSE_SANDBOX_LOCK_DIR"  # where the slot locks live, when /run will not do
DEFAULT_UID_BASE = 2_000_000_000  # above systemd's container ranges, below 2**31
SLOTS = 4096
LOCK_DIRS = (Path("/run/llm-course-sandbox"), Path("/tmp/.llm-course-sandbox-root"))


class NoSlot(OSError):
    """Every slot is taken (more than SLOTS sandboxes at once) or no lock folder is usable."""


@dataclass
class Slot:
    number: int
    uid: int
    _fd: int | None

    def release(self) -> None:
        if self._fd is not None:
            os.close(self._fd)  # closing the file drops its lock
            self._fd = None


def uid_base() -> int:
    text = os.environ.get(UID_BASE_ENV, "").strip()
    if text.isdigit() and 1000 <= int(text) <= (1 << 32) - 2 - SLOTS:
        return int(text)
    return DEFAULT_UID_BASE


def probe_uid() -> int:
    """The uid the isolation probe drops to: reserved, just past the slots' range."""
    return uid_base() + SLOTS


def _lock_dir() -> Path:
    chosen = os.environ.get(LOCK_DIR_ENV, "").strip()
    for folder in [Path(chosen)] if chosen else LOCK_DIRS:
        try:
            folder.mkdir(mode=0o700, exist_ok=True)
            info = folder.lstat()
        except OSError:
            continue
        # Only a folder that is really ours: a symlink or a folder others can write to could
        # be used to make a grader lock the wrong file.
        if not folder.is_symlink() and info.st_uid == os.geteuid() and not info.st_mode & 0o022:
            return folder
    where = chosen or "/run and /tmp"
    raise NoSlot(f"no usable folder for the sandbox slot locks ({where}: it must be a folder only this user "
                 f"can write to)")


_next = (os.getpid() * 97) % SLOTS  # where this process looks first: moves on with every slot taken


def acquire(sweep: bool = True) -> Slot:
    """The first free slot, locked for this process until release().

    sweep: kill any process still running as the slot's uid. Not needed where the
    slot's cgroup does it (every process of a sandbox is in its cgroup, which is
    emptied before it is made again), which saves a scan of /proc.
    """
    global _next
    folder = _lock_dir()
    base = uid_base()
    # Round the slots rather than take the lowest free one: a uid is then not used again
    # while the processes of its last sandbox may still be dying (which would count
    # against the new sandbox's process limit), and concurrent graders rarely collide.
    start = _next
    for offset in range(SLOTS):
        number = (start + offset) % SLOTS
        path = folder / f"slot-{number}"
        fd = os.open(path, os.O_RDWR | os.O_CREAT | os.O_CLOEXEC | os.O_NOFOLLOW, 0o600)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            os.close(fd)
            continue
        except OSError:
            os.close(fd)
            raise
        uid = base + number
        if sweep:
            kill_uid(uid)
        _next = (number + 1) % SLOTS
        return Slot(number, uid, fd)
    raise NoSlot(f"all {SLOTS} sandbox slots are in use")


def kill_uid(uid: int) -> int:
    """SIGKILL every process running as `uid` (leftovers of a killed grader); how many."""
    killed = 0
    for _ in range(5):  # one may fork while we look: look again until none is left
        found = [pid for pid in _pids() if _uid_of(pid) == uid]
        if not found:
            break
        for pid in found:
            try:
                os.kill(pid, signal.SIGKILL)
                killed += 1
            except (ProcessLookupError, PermissionError):
                pass
    return killed


def _pids() -> list[int]:
    try:
        return [int(name) for name in os.listdir("/proc") if name.isdigit()]
    except OSError:
        return []


def _uid_of(pid: int) -> int | None:
    """The real uid of `pid`. Not the owner of /proc/PID: a process that changed its uid is
    not dumpable, and the kernel then shows its /proc folder as root's."""
    try:
        with open(f"/proc/{pid}/status", "rb") as f:
            head = f.read(1024)
    except OSError:
        return None
    for line in head.split(b"\n"):
        if line.startswith(b"Uid:"):
            fields = line.split()
            return int(fields[1]) if len(fields) > 1 else None
    return None


def pids_of_uid_range(low: int, high: int) -> list[int]:
    """Processes running as a uid in [low, high): what tests and clean-up look for."""
    return [pid for pid in _pids() if (uid := _uid_of(pid)) is not None and low <= uid < high]
