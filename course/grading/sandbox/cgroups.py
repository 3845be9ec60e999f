"""Memory and process caps for a sandbox as a whole: one cgroup per sandbox.

rlimits count per process (memory) or per uid (processes); a submission with six
children could hold six times the memory limit. A cgroup counts every process of the
sandbox together: `memory.max` and `pids.max` (cgroup v2) or `memory.limit_in_bytes`
and `pids.max` (the v1 memory and pids hierarchies, still the layout of many hosts).

Who can: real root (the cgroups go under `<hierarchy>/llm-course/`), or anyone whose
COURSE_SANDBOX_CGROUP names a cgroup v2 folder delegated to them with the memory and
pids controllers enabled for its children (e.g. a `systemd-run --user --scope -p
Delegate=yes` scope). Elsewhere there is no cgroup and the isolation note says that
memory and process limits are per process. COURSE_SANDBOX_CGROUP=0 turns cgroups off.

The sandbox's first process joins the cgroup itself, first thing, before it forks
anything (trusted code: no student code has run), so every process it ever starts is
inside; a sandbox that cannot join does not start. Afterwards every process in the
cgroup is killed and the cgroup removed; a cgroup left by a killed grader is removed
when its name (the slot's) is used again.
"""
from __future__ import annotations

import os
import signal
import time
from dataclasses import dataclass
from pathlib import Path

CGROUP_ENV = "COURSE_SANDBOX_CGROUP"
GROUP = "llm-course"


@dataclass(frozen=True)
class Hierarchy:
    """Where sandbox cgroups are made: v2 (one folder) or v1 (a memory and a pids folder)."""

    version: int
    memory: Path  # the parent folder for the memory controller (v2: the only folder)
    pids: Path

    def describe(self) -> str:
        return f"cgroup v{self.version}"


_probed: tuple[Hierarchy | None, str] | None = None


def hierarchy() -> tuple[Hierarchy | None, str]:
    """The usable cgroup hierarchy and "", or None and why not (probed once per process)."""
    global _probed
    if _probed is None:
        _probed = _probe()
    return _probed


def forget() -> None:
    """Probe again next time (tests that change the environment)."""
    global _probed
    _probed = None


def _mounts() -> list[tuple[str, str, set[str]]]:
    found = []
    try:
        with open("/proc/self/mounts") as f:
            for line in f:
                parts = line.split()
                if len(parts) >= 4:
                    found.append((parts[1].replace("\\040", " "), parts[2], set(parts[3].split(","))))
    except OSError:
        pass
    return found


def _probe() -> tuple[Hierarchy | None, str]:
    setting = os.environ.get(CGROUP_ENV, "").strip()
    if setting == "0":
        return None, f"cgroups are turned off ({CGROUP_ENV}=0)"
    if setting:
        folder = Path(setting)
        problem = _v2_ready(folder)
        if problem:
            return None, f"{CGROUP_ENV}={setting} is not usable: {problem}"
        return Hierarchy(2, folder, folder), ""
    if os.geteuid() != 0:
        return None, f"no cgroup delegated to this user (set {CGROUP_ENV} to a delegated cgroup v2 folder)"
    mounts = _mounts()
    for point, fstype, _ in mounts:
        if fstype == "cgroup2":
            root = Path(point)
            controllers = _read(root / "cgroup.controllers").split()
            if {"memory", "pids"} <= set(controllers):
                folder = root / GROUP
                problem = _prepare_v2(root, folder)
                if not problem:
                    return Hierarchy(2, folder, folder), ""
    memory = next((Path(p) for p, t, o in mounts if t == "cgroup" and "memory" in o), None)
    pids = next((Path(p) for p, t, o in mounts if t == "cgroup" and "pids" in o), None)
    if memory is not None and pids is not None:
        try:
            for base in (memory, pids):
                (base / GROUP).mkdir(exist_ok=True)
            return Hierarchy(1, memory / GROUP, pids / GROUP), ""
        except OSError as error:
            return None, f"cannot make cgroups ({error.strerror})"
    return None, "this machine has no cgroup hierarchy with the memory and pids controllers"


def _read(path: Path) -> str:
    try:
        return path.read_text()
    except OSError:
        return ""


def _prepare_v2(root: Path, folder: Path) -> str:
    """Enable memory and pids below the v2 root and make our folder; "" or the problem."""
    try:
        enabled = set(_read(root / "cgroup.subtree_control").split())
        if not {"memory", "pids"} <= enabled:
            (root / "cgroup.subtree_control").write_text("+memory +pids")
        folder.mkdir(exist_ok=True)
        if not {"memory", "pids"} <= set(_read(folder / "cgroup.subtree_control").split()):
            (folder / "cgroup.subtree_control").write_text("+memory +pids")
    except OSError as error:
        return f"cannot set up {folder} ({error.strerror})"
    return ""


def _v2_ready(folder: Path) -> str:
    if not folder.is_dir():
        return "not a folder"
    if not {"memory", "pids"} <= set(_read(folder / "cgroup.subtree_control").split()):
        return "its cgroup.subtree_control does not enable memory and pids"
    if not os.access(folder, os.W_OK):
        return "not writable"
    return ""


def sweep_orphans(where: Hierarchy) -> None:
    """Remove cgroups named after a grader process that no longer exists ("sbx-p<pid>-...").

    Slot-named cgroups are removed when their slot is used again; these, made where
    there are no slots, would otherwise stay (empty) after a grader was killed.
    """
    for base in {where.memory, where.pids}:
        try:
            names = [p.name for p in base.iterdir() if p.is_dir() and p.name.startswith("sbx-p")]
        except OSError:
            continue
        for name in names:
            pid = name[len("sbx-p"):].split("-", 1)[0]
            if pid.isdigit() and not os.path.exists(f"/proc/{pid}"):
                SandboxCgroup.remove_folders([base / name])


class SandboxCgroup:
    """One sandbox's cgroup: made with its caps, filled with the sandbox, then emptied and removed."""

    def __init__(self, where: Hierarchy, name: str, memory_bytes: int, processes: int) -> None:
        self.where = where
        self.name = name
        self.folders = ([where.memory / name] if where.version == 2
                        else [where.memory / name, where.pids / name])
        self.remove()  # a folder of that name left by a killed grader
        for folder in self.folders:
            folder.mkdir()
        if where.version == 2:
            folder = self.folders[0]
            folder.joinpath("memory.max").write_text(str(memory_bytes))
            _try_write(folder / "memory.swap.max", "0")
            folder.joinpath("pids.max").write_text(str(processes))
        else:
            memory, pids = self.folders
            memory.joinpath("memory.limit_in_bytes").write_text(str(memory_bytes))
            _try_write(memory / "memory.memsw.limit_in_bytes", str(memory_bytes))
            pids.joinpath("pids.max").write_text(str(processes))

    def procs_files(self) -> list[str]:
        """The files the sandbox's first process writes its pid to, to join (before it forks)."""
        return [str(folder / "cgroup.procs") for folder in self.folders]

    def contains(self, pid: int) -> bool:
        return pid in self.pids()

    def out_of_memory(self) -> bool:
        """Did the kernel kill a process of this sandbox for exceeding its memory cap?"""
        folder = self.folders[0]
        if self.where.version == 2:
            return _counter(_read(folder / "memory.events"), "oom_kill") > 0
        text = _read(folder / "memory.oom_control")
        if "oom_kill" in text:
            return _counter(text, "oom_kill") > 0
        return _read(folder / "memory.failcnt").strip() not in ("", "0")

    def pids(self) -> list[int]:
        found: set[int] = set()
        for folder in self.folders:
            found.update(int(p) for p in _read(folder / "cgroup.procs").split() if p.isdigit())
        return sorted(found)

    def kill_all(self) -> None:
        """SIGKILL every process in the cgroup (one pass: remove() waits for them to go)."""
        if self.where.version == 2 and _try_write(self.folders[0] / "cgroup.kill", "1"):
            return
        for pid in self.pids():
            try:
                os.kill(pid, signal.SIGKILL)
            except (ProcessLookupError, PermissionError):
                pass

    def remove(self) -> None:
        """Kill what is left and remove the folders (retried while dying processes leave)."""
        self.remove_folders(self.folders)

    @staticmethod
    def remove_folders(folders: list[Path]) -> None:
        for folder in folders:
            if not folder.exists():
                continue
            for attempt in range(200):
                for pid in (int(p) for p in _read(folder / "cgroup.procs").split() if p.isdigit()):
                    try:
                        os.kill(pid, signal.SIGKILL)
                    except (ProcessLookupError, PermissionError):
                        pass
                try:
                    folder.rmdir()
                    break
                except FileNotFoundError:
                    break
                except OSError:
                    time.sleep(0.001 if attempt < 50 else 0.01)


def _try_write(path: Path, text: str) -> bool:
    try:
        path.write_text(text)
        return True
    except OSError:
        return False


def _counter(text: str, name: str) -> int:
    for line in text.splitlines():
        key, _, value = line.partition(" ")
        if key == name and value.strip().isdigit():
            return int(value)
    return 0
