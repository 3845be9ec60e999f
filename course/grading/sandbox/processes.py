"""Process handling for the grader's side: kill, find, describe.

Linux /proc is read directly (no psutil): the grader must not depend on anything the
sandbox does not already need.
"""
from __future__ import annotations

import os
import signal
import time


def killpg(pgid: int) -> None:
    try:
        os.killpg(pgid, signal.SIGKILL)
    except (ProcessLookupError, PermissionError):
        pass


def kill(pid: int) -> None:
    try:
        os.kill(pid, signal.SIGKILL)
    except (ProcessLookupError, PermissionError):
        pass


def read_all(fd: int) -> bytes:
    chunks = []
    while chunk := os.read(fd, 1 << 16):
        chunks.append(chunk)
    return b"".join(chunks)


def proc_stat(pid: int | str) -> list[bytes] | None:
    """Fields of /proc/PID/stat after the command name (field 3, the state, comes first)."""
    try:
        with open(f"/proc/{pid}/stat", "rb") as f:
            return f.read().rpartition(b")")[2].split()
    except OSError:
        return None


def children_of(ppid: int) -> list[tuple[int, int]]:
    """(pid, start time) of each child of `ppid`.

    From /proc/PID/task/*/children where the kernel has it (a few reads per sandbox, where
    scanning /proc reads every process's stat); where it is not compiled in, from a scan.
    """
    listed = _listed_children(ppid)
    found = []
    if listed is not None:
        for pid in listed:
            fields = proc_stat(pid)
            if fields and len(fields) > 19 and int(fields[1]) == ppid:  # still ours (not exited and reused)
                found.append((pid, int(fields[19])))
        return found
    for entry in os.scandir("/proc"):
        if entry.name.isdigit():
            fields = proc_stat(entry.name)
            if fields and len(fields) > 19 and int(fields[1]) == ppid:
                found.append((int(entry.name), int(fields[19])))
    return found


def _listed_children(ppid: int) -> list[int] | None:
    """The pids the kernel lists as children of `ppid`'s threads; None where it keeps no such list."""
    pids: list[int] = []
    try:
        threads = os.listdir(f"/proc/{ppid}/task")
    except FileNotFoundError:
        return []  # gone: no children left to find
    except OSError:
        return None  # not ours to list: scan
    for thread in threads:
        try:
            with open(f"/proc/{ppid}/task/{thread}/children", "rb") as f:
                pids += [int(pid) for pid in f.read().split()]
        except FileNotFoundError:
            if not os.path.exists(f"/proc/{ppid}/task/{thread}"):
                continue  # the thread ended while we looked
            return None  # the kernel has no children lists (CONFIG_PROC_CHILDREN off)
        except OSError:
            continue
    return pids


def wait_gone(pid: int, started: int, timeout: float) -> None:
    """Wait until a killed process is a zombie or gone.

    For a namespace's init the kernel makes it a zombie only after every other process
    of its PID namespace has died, so this is the moment the kill is complete.
    """
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        fields = proc_stat(pid)
        if not fields or int(fields[19]) != started or fields[0] in (b"Z", b"X"):
            return
        time.sleep(0.002)


def pids_with_token(name: str, token: str) -> list[int]:
    """Fallback only: processes whose environment still carries this run's token."""
    needle = f"{name}={token}".encode()
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


def valid_wait_status(status: object) -> bool:
    """Is `status` something os.waitpid could have returned for an exited or killed process?"""
    if type(status) is not int or not 0 <= status < 1 << 16:
        return False
    if os.WIFEXITED(status):
        return True
    return os.WIFSIGNALED(status) and 1 <= os.WTERMSIG(status) < signal.NSIG


def signal_phrase(signum: int) -> str:
    try:
        name = signal.Signals(signum).name
    except ValueError:
        name = f"signal {signum}"
    try:
        description = signal.strsignal(signum) or ""
    except ValueError:
        description = ""
    return f"{name} ({description.lower()})" if description else name


def gib(nbytes: int) -> str:
    return f"{nbytes / (1 << 30):.1f} GiB" if nbytes >= 1 << 30 else f"{nbytes / (1 << 20):.0f} MiB"
