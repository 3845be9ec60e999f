"""The grader's own process lookups (course/grading/sandbox/processes.py), on real processes."""
from __future__ import annotations

import subprocess
import sys

import pytest

from course.grading.sandbox import processes

pytestmark = pytest.mark.skipif(not sys.platform.startswith("linux"), reason="reads Linux /proc")

# A parent with two children that sleep, one of them started from a second thread (the kernel lists a
# child under the thread that forked it); it prints their pids and waits.
PARENT = """
import os, sys, threading, time
def child():
    pid = os.fork()
    if pid == 0:
        time.sleep(60)
        os._exit(0)
    return pid
pids = [child()]
thread = threading.Thread(target=lambda: pids.append(child()))
thread.start()
thread.join()
print(*pids, flush=True)
time.sleep(60)
"""


@pytest.fixture
def parent():
    process = subprocess.Popen([sys.executable, "-c", PARENT], stdout=subprocess.PIPE, text=True)
    try:
        yield process, sorted(int(pid) for pid in process.stdout.readline().split())
    finally:
        for pid, _ in processes.children_of(process.pid):
            processes.kill(pid)
        process.kill()
        process.wait()


def test_children_are_found_with_their_start_times_by_either_lookup(parent, monkeypatch):
    process, pids = parent
    listed = processes.children_of(process.pid)
    assert sorted(pid for pid, _ in listed) == pids
    assert all(started == int(processes.proc_stat(pid)[19]) for pid, started in listed)
    monkeypatch.setattr(processes, "_listed_children", lambda ppid: None)  # a kernel without children lists
    assert sorted(processes.children_of(process.pid)) == sorted(listed)


def test_a_process_that_is_gone_has_no_children():
    assert processes.children_of(2**22 + 12345) == []  # beyond pid_max: never a process
