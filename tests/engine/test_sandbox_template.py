"""The warm template behind `course check --watch`: faster, and exactly as isolated.

Each sandbox the template forks must be what a cold one is: its own namespaces, jail,
uid and cgroup; the same verdicts on hostile submissions; nothing left afterwards; and
it must die with the grader.
"""
from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import numpy as np
import pytest

from course.grading import sandbox
from course.grading.sandbox.records import Call, CallStatus, Limits, Termination
from course.grading.sandbox.template import WarmTemplate
from test_class_trust import SEARCH_THE_DISK, _become_subreaper, _sandbox_processes, tiny_course

ISOLATION = sandbox.isolation_available()
pytestmark = pytest.mark.skipif(not ISOLATION.namespaces, reason=f"no namespaces here: {ISOLATION.detail}")

INSIDE = '''
import os, socket, numpy as np
def f(x):
    status = dict(line.split(":", 1) for line in open("/proc/self/status") if ":" in line)
    caps = sum(int(status[k].strip(), 16) for k in ("CapInh", "CapPrm", "CapEff", "CapBnd", "CapAmb"))
    try:
        socket.create_connection(("1.1.1.1", 53), timeout=1).close()
        network = 1
    except OSError:
        network = 0
    try:
        open("/usr/sandbox-probe", "w")
        writable = 1
    except OSError:
        writable = 0
    uid = int(status["Uid"].split()[0])
    cgroup = open("/proc/self/cgroup").read()
    return np.array([caps, int(status["NoNewPrivs"]), network, writable, os.getpid(), uid,
                     "llm-course/sbx-" in cgroup, os.uname().nodename == "sandbox",
                     len(os.listdir("/proc")) < 10])
'''


@pytest.fixture(scope="module")
def template():
    with WarmTemplate() as warm:
        yield warm


def run(source: str, calls, template=None, **limits) -> sandbox.SandboxRun:
    """One run forked from `template`, or started cold when it is None."""
    with sandbox.start(source, filename="f.py", function="f", limits=Limits(**limits), template=template,
                       cold=template is None) as session:
        return session.run(calls)


def test_a_forked_sandbox_is_as_isolated_as_a_cold_one(template, home):
    cold = run(INSIDE, [Call((1,))])
    warm = run(INSIDE, [Call((1,))], template)
    for result in (cold, warm):
        assert result.termination is Termination.COMPLETED, result.stderr
    cold_values, warm_values = cold.outcomes[0].value, warm.outcomes[0].value
    # no capabilities, no_new_privs, no network, read-only /usr, PID 2 in its own namespace
    assert warm_values[:5].tolist() == cold_values[:5].tolist() == [0, 1, 0, 0, 2]
    assert warm_values[6:].tolist() == cold_values[6:].tolist()
    if ISOLATION.level == "root":
        assert warm_values[5] >= 2_000_000_000  # a uid of its own (a slot's)


def test_a_forked_sandbox_sees_no_course_either(template, home, tmp_path):
    tiny_course(tmp_path / "a-course")
    found = run(SEARCH_THE_DISK.replace("def double", "def f"), [Call((np.ones(2),))], template,
                wall_seconds=60, cpu_seconds=60)
    assert found.termination is Termination.COMPLETED
    assert float(found.outcomes[0].value) == 0, found.stdout[:2000]


@pytest.mark.parametrize("body, termination", [
    ("import time\ndef f(x):\n    time.sleep(3600)\n", Termination.TIMEOUT),
    ("import os\ndef f(x):\n    os._exit(7)\n", Termination.EXITED_EARLY),
    ("import os, signal\ndef f(x):\n    os.kill(os.getpid(), signal.SIGSEGV)\n", Termination.KILLED),
    ("def f(x):\n    return bytearray(8 << 30)\n", Termination.MEMORY),
])
def test_hostile_submissions_end_the_same_way_warm_or_cold(body, termination, template, home):
    for warm in (None, template):
        result = run(body, [Call((1,))], warm, wall_seconds=1, cpu_seconds=2)
        assert result.termination is termination, (warm, result.termination_detail)
        assert result.outcomes[0].status is not CallStatus.OK


def test_many_checks_in_a_row_leave_nothing_behind(template, home):
    if not _become_subreaper():
        pytest.skip("PR_SET_CHILD_SUBREAPER is not available")
    source = "import os, time, numpy as np\ndef f(x):\n    if os.fork() == 0:\n        time.sleep(100)\n    return np.asarray(x) * 2\n"
    for _ in range(5):
        result = run(source, [Call((np.ones(3),))], template)
        np.testing.assert_array_equal(result.outcomes[0].value, 2 * np.ones(3))
    # the template itself is one process of ours; no sandbox (and no forked sleeper) is left
    assert [pid for pid in _sandbox_processes() if pid != template._proc.pid] == []


def test_a_dead_template_is_replaced(home):
    with WarmTemplate() as warm:
        first = run("import numpy as np\ndef f(x):\n    return np.asarray(x)\n", [Call((np.ones(2),))], warm)
        os.kill(warm._proc.pid, signal.SIGKILL)
        warm._proc.wait()
        again = run("import numpy as np\ndef f(x):\n    return np.asarray(x) + 1\n", [Call((np.ones(2),))], warm)
    np.testing.assert_array_equal(first.outcomes[0].value, np.ones(2))
    np.testing.assert_array_equal(again.outcomes[0].value, 2 * np.ones(2))


GRADER = textwrap.dedent('''
    import sys, time
    sys.path.insert(0, sys.argv[1])
    import numpy as np
    from course.grading import sandbox
    from course.grading.sandbox.template import WarmTemplate
    template = WarmTemplate()
    template.start()
    session = sandbox.start("import time\\ndef f(x):\\n    time.sleep(100)\\n", filename="f.py", function="f",
                            template=template)
    print("started", flush=True)
    session.run([sandbox.Call((1,))])
''')


def test_the_template_and_its_sandboxes_die_with_the_grader(tmp_path):
    if not _become_subreaper():
        pytest.skip("PR_SET_CHILD_SUBREAPER is not available")
    repo = str(Path(__file__).resolve().parents[2])
    before = set(_sandbox_processes())  # e.g. another test's template
    grader = subprocess.Popen([sys.executable, "-c", GRADER, repo], stdout=subprocess.PIPE, text=True)
    assert grader.stdout.readline().strip() == "started"
    deadline = time.monotonic() + 20
    while len(set(_sandbox_processes()) - before) < 4:  # template, outer, init, worker
        assert time.monotonic() < deadline, _sandbox_processes()
        time.sleep(0.05)
    grader.kill()
    grader.wait()
    grader.stdout.close()
    gone_by = time.monotonic() + 2.0
    while set(_sandbox_processes()) - before:
        assert time.monotonic() < gone_by, f"left after the grader died: {set(_sandbox_processes()) - before}"
        time.sleep(0.05)


def test_without_namespaces_sessions_start_cold(monkeypatch, home):
    from course.grading.sandbox import probe

    monkeypatch.setenv(sandbox.NAMESPACES_ENV, "0")
    probe.forget()
    try:
        with WarmTemplate() as warm:
            session = sandbox.start("import numpy as np\ndef f(x):\n    return np.asarray(x)\n", filename="f.py",
                                    function="f", template=warm)
            assert session._template is None
            result = session.run([Call((np.ones(2),))])
        assert not result.isolation.namespaces
        np.testing.assert_array_equal(result.outcomes[0].value, np.ones(2))
    finally:
        monkeypatch.undo()
        probe.forget()


# What the scripts below share: check(value) runs one session and says whether it was forked from a
# template; in_a_forked_child(values) runs checks in a process forked from this one, as a grader's worker.
CHECKS = textwrap.dedent('''
    import json, os, sys, threading
    sys.path.insert(0, sys.argv[1])
    from course.grading import sandbox
    from course.grading.sandbox import template

    def check(value):
        with sandbox.start("def f(x):\\n    return x + 1\\n", filename="f.py", function="f") as session:
            warm = session._template is not None
            run = session.run([sandbox.Call((value,))])
        return {"warm": warm, "value": int(run.outcomes[0].value), "template": template.shared_pid()}

    def in_a_forked_child(values):
        reader, writer = os.pipe()
        child = os.fork()
        if child == 0:
            os.close(reader)
            os.write(writer, json.dumps([check(v) for v in values]).encode())
            os._exit(0)
        os.close(writer)
        found = json.loads(os.read(reader, 1 << 16))
        os.waitpid(child, 0)
        return found
''')

SESSIONS = textwrap.dedent('''
    report = {}
    # the first three sessions from a thread that then ends: the template must outlive it
    worker = threading.Thread(target=lambda: report.__setitem__("thread", [check(i) for i in range(3)]))
    worker.start()
    worker.join()
    report["main"] = [check(10), check(11)]
    report["forked"] = in_a_forked_child([20, 21, 22])  # a forked grader gets a template of its own
    report["after"] = [check(30)]
    print(json.dumps(report))
''')


def _report(script: str, env: dict) -> dict:
    import json

    repo = str(Path(__file__).resolve().parents[2])
    done = subprocess.run([sys.executable, "-c", CHECKS + script, repo], env=env, capture_output=True, text=True,
                          timeout=120)
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout)


def test_a_process_forks_its_sessions_from_its_own_template_from_the_third_on(home):
    report = _report(SESSIONS, dict(os.environ))
    sessions = report["thread"] + report["main"] + report["after"]
    assert [s["value"] for s in sessions] == [1, 2, 3, 11, 12, 31]
    # cold, cold (the template starts meanwhile), then forked, also after the starting thread ended
    assert [s["warm"] for s in sessions] == [False, False, True, True, True, True]
    ours = report["thread"][2]["template"]
    assert ours and report["main"][0]["template"] == report["after"][0]["template"] == ours  # one template
    forked = report["forked"]
    assert [s["value"] for s in forked] == [21, 22, 23]
    assert [s["warm"] for s in forked] == [False, False, True]
    assert forked[2]["template"] not in (None, ours)  # its own, not the parent's


MANY = textwrap.dedent('''
    sandbox.expect_many_sessions()  # what a `course grade` worker says first
    report = {"many": [check(i) for i in range(3)]}
    report["forked"] = in_a_forked_child([10, 11, 12])  # a process forked from it has said nothing yet
    print(json.dumps(report))
''')


def test_a_process_that_expects_many_sessions_forks_them_all_from_its_template(home):
    """A grading worker (CheckPool) starts its template at once: no cold start at all."""
    report = _report(MANY, dict(os.environ))
    assert [(s["value"], s["warm"]) for s in report["many"]] == [(1, True), (2, True), (3, True)]
    assert [(s["value"], s["warm"]) for s in report["forked"]] == [(11, False), (12, False), (13, True)]


def test_course_sandbox_warm_0_starts_every_session_cold(home):
    report = _report(SESSIONS, dict(os.environ, COURSE_SANDBOX_WARM="0"))
    sessions = report["thread"] + report["main"] + report["forked"] + report["after"]
    assert [s["value"] for s in sessions] == [1, 2, 3, 11, 12, 21, 22, 23, 31]
    assert not any(s["warm"] for s in sessions)
    assert all(s["template"] is None for s in sessions)
