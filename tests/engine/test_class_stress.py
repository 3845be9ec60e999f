"""A class under stress: 200 correct students graded with --jobs 16 next to 10 hostile
ones that fork up to their limit, hold memory and SysV shared memory, and ignore
SIGTERM. Every correct student passes, and afterwards nothing of any sandbox is left:
no process, no IPC object, no cgroup, no file outside the output folder.

Runs in the default suite (.ci/run), on the tiny test course so it stays well under a
minute on 2 CPUs.
"""
from __future__ import annotations

import csv
import hashlib
import os
import subprocess
import sys
import time
from pathlib import Path

import pytest

from test_class_trust import CORRECT, _become_subreaper, _sandbox_processes, tiny_course

pytestmark = pytest.mark.slow  # see pyproject.toml: the end-to-end tier

CORRECT_STUDENTS = 200
HOSTILE_STUDENTS = 10
JOBS = 16

HOSTILE = '''
import ctypes, os, signal, time, numpy as np
signal.signal(signal.SIGTERM, signal.SIG_IGN)
libc = ctypes.CDLL(None, use_errno=True)
def double(x):
    for i in range(8):
        libc.shmget(0x5EED1000 + i, 4 << 20, 0o1000 | 0o600)  # IPC_CREAT: segments that would outlive us
    hoard = np.ones((200 << 20) // 8)  # 200 MB held
    hoard += 1
    try:
        while True:
            if os.fork() == 0:
                signal.signal(signal.SIGTERM, signal.SIG_IGN)
                time.sleep(1000)
                os._exit(0)
    except OSError:
        pass  # at this sandbox's own limit
    time.sleep(1000)
    return 2 * x
'''


def _host_shm_keys() -> set[int]:
    """The keys of the host's SysV shared-memory segments (the first column of /proc/sysvipc/shm)."""
    try:
        lines = Path("/proc/sysvipc/shm").read_text().splitlines()[1:]
    except OSError:
        return set()
    return {int(line.split()[0]) for line in lines if line.split()}


HOSTILE_KEYS = {0x5EED1000 + i for i in range(8)}


def _fingerprint(folder: Path) -> str:
    digest = hashlib.sha256()
    for path in sorted(folder.rglob("*")):
        digest.update(str(path.relative_to(folder)).encode())
        if path.is_file():
            digest.update(path.read_bytes())
    return digest.hexdigest()


def test_a_class_of_200_with_10_hostile_students_graded_with_16_jobs(tmp_path):
    if not _become_subreaper():
        pytest.skip("PR_SET_CHILD_SUBREAPER is not available")
    root = tiny_course(tmp_path / "root", wall=3)
    subs = tmp_path / "subs"
    for i in range(CORRECT_STUDENTS):
        (subs / f"student{i:03d}").mkdir(parents=True)
        (subs / f"student{i:03d}" / "double.py").write_text(CORRECT)
    for i in range(HOSTILE_STUDENTS):
        (subs / f"hostile{i:02d}").mkdir(parents=True)
        (subs / f"hostile{i:02d}" / "double.py").write_text(HOSTILE)
    assert not _host_shm_keys() & HOSTILE_KEYS
    before_tmp = {p.name for p in Path("/tmp").glob("course-sandbox-*")}
    before_shm = set(os.listdir("/dev/shm")) if os.path.isdir("/dev/shm") else set()
    submitted = _fingerprint(subs)
    out = tmp_path / "out"
    env = dict(os.environ, NO_COLOR="1", COURSE_HOME=str(tmp_path / "home"))
    started = time.monotonic()
    done = subprocess.run([sys.executable, "-m", "course", "--course", str(root), "grade", str(subs),
                           "--out", str(out), "--jobs", str(JOBS)], cwd=tmp_path, env=env,
                          capture_output=True, text=True, timeout=900)
    seconds = time.monotonic() - started
    assert done.returncode == 1, done.stdout[-2000:] + done.stderr[-2000:]  # the hostile ones fail
    assert "Traceback" not in done.stderr
    with open(out / "grades.csv", newline="") as f:
        rows = {row["student"]: row for row in csv.DictReader(line for line in f if not line.startswith("#"))}
    correct = [name for name in rows if name.startswith("student")]
    assert len(correct) == CORRECT_STUDENTS
    failed = {name: rows[name]["double status"] for name in correct if rows[name]["double status"] != "passed"}
    assert failed == {}, f"correct students did not pass: {failed}"
    hostile = [rows[f"hostile{i:02d}"] for i in range(HOSTILE_STUDENTS)]
    assert all(row["double status"] == "error" and row["total"] == "0" for row in hostile)
    # Afterwards nothing of any sandbox is left. (Only what this run made is looked at:
    # other tests may run sandboxes at the same time, with the same uid range and cgroups.)
    time.sleep(0.5)
    assert _sandbox_processes() == []  # every process of this run descends from this test
    assert not _host_shm_keys() & HOSTILE_KEYS  # the hostile segments died with their sandboxes
    assert {p.name for p in Path("/tmp").glob("course-sandbox-*")} <= before_tmp
    if os.path.isdir("/dev/shm"):
        # sem.mp-*: multiprocessing's named semaphores, made by other processes of the machine
        # (the Dask workers of a test running meanwhile); the grader makes none (fork and pipes)
        left = {name for name in os.listdir("/dev/shm") if not name.startswith("sem.mp-")}
        assert left <= before_shm
    assert _fingerprint(subs) == submitted  # nothing was written among the submissions
    print(f"\n{CORRECT_STUDENTS + HOSTILE_STUDENTS} students graded with --jobs {JOBS} in {seconds:.1f} s")
