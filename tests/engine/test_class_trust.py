"""A class, not one student: no student, and no crowd of students, can change another's
grade, stop the batch or read what is hidden.

Each test here is one defect found by grading classes with hostile students (issue
"Class-scale trust"); each runs the real command or the real sandbox on real files.
The class-sized stress test is tests/engine/test_class_stress.py.
"""
from __future__ import annotations

import csv
import json
import os
import signal
import subprocess
import sys
import threading
import time
import unicodedata
from pathlib import Path

import numpy as np
import pytest

import courserunner
import course
from course.errors import CourseError
from course.grading import sandbox
from course.grading.sandbox import slots
from course.grading.sandbox.records import Call, Limits, Termination
from course.loader import load_course
from course.reports import render
from coursefactory import write_course

ISOLATION = sandbox.isolation_available()
needs_namespaces = pytest.mark.skipif(not ISOLATION.namespaces, reason=f"no namespaces here: {ISOLATION.detail}")
needs_root_mode = pytest.mark.skipif(ISOLATION.level != "root", reason="needs the root mode (a uid per sandbox)")
needs_cgroups = pytest.mark.skipif(not ISOLATION.sandbox_limits, reason="no cgroup for sandbox-wide limits here")
CHILD_MARKER = b"FrameReader"  # in every sandbox process's command line (the child program's text)

CORRECT = "import numpy as np\n\ndef double(x):\n    return 2 * np.asarray(x)\n"


def run_course(*args: str, cwd: Path, env: dict | None = None, timeout: float = 120) -> subprocess.CompletedProcess:
    env = dict(env or os.environ, NO_COLOR="1", PYTHONIOENCODING="utf-8")
    return courserunner.run_course(*args, cwd=cwd, env=env, timeout=timeout)


def tiny_course(root: Path, *, wall: float = 3, public_shift: bool = False, hidden_public: bool = False) -> Path:
    """The tiny test course (exercise `double`: one public case, one hidden case)."""
    write_course(root)
    path = root / "exercises" / "double" / "exercise.yaml"
    text = path.read_text().replace("tolerance: {rtol: 1.0e-9, atol: 0.0}",
                                    f"tolerance: {{rtol: 1.0e-9, atol: 0.0}}\nlimits: {{wall_seconds: {wall}}}")
    if public_shift:  # one more public call, so a hidden one comes after a public one's shifted call
        text = text.replace("      - {normal: {shape: [3, 4]}}\n", "      - {normal: {shape: [3, 4]}}\n    checks: [shift_invariant]\n")
    if hidden_public:  # the same case made public: what the student would see of it
        text = text.replace("visibility: hidden", "visibility: public")
    path.write_text(text)
    return root


def hidden_input(root: Path) -> np.ndarray:
    from course.grading.expected import case_arguments

    exercise = load_course(root).exercise("double")
    case = next(c for c in exercise.cases if c.name == "hidden_one")
    return case_arguments([case])["hidden_one"][0][0]


def leak_token(x: np.ndarray) -> str:
    """What the hostile submissions below compute from the hidden input (same formula)."""
    return "LEAK%08d" % (int(abs(float(x.flat[0])) * 1e6) % 10**8)


# --------------------------------------------------------------------------- hidden inputs stay hidden

# Each behaviour happens on the hidden input only (shape (2, 5)); `TOKEN` is computed
# from that input, so finding it anywhere a student can read means the input leaked.
LEAK_PRELUDE = '''
import os, sys, numpy as np
def token(x):
    return "LEAK%08d" % (int(abs(float(np.asarray(x).flat[0])) * 1e6) % 10**8)
def hidden(x):
    return np.asarray(x).shape == (2, 5)
'''

LEAKS = {
    "exception-message": "def double(x):\n    if hidden(x):\n        raise ValueError(token(x))\n    return 2 * x\n",
    "exception-class": ("def double(x):\n    if hidden(x):\n        raise type(token(x), (Exception,), {})()\n"
                        "    return 2 * x\n"),
    "returned-type-name": "def double(x):\n    if hidden(x):\n        return type(token(x), (), {})()\n    return 2 * x\n",
    "failed-conversion": ("class Odd:\n    def __init__(self, t):\n        self.t = t\n"
                          "    def __array__(self, *a, **k):\n        raise ValueError(self.t)\n"
                          "def double(x):\n    if hidden(x):\n        return Odd(token(x))\n    return 2 * x\n"),
    "forged-traceback": ("def double(x):\n    if hidden(x):\n        raise ValueError('fine\\nTraceback (most recent call last):\\n'\n"
                         "                         '  File \"double.py\", line 1\\n' + token(x))\n    return 2 * x\n"),
    "printed-output": ("import warnings\ndef double(x):\n    if hidden(x):\n        print(token(x), flush=True)\n"
                       "        sys.stderr.write(token(x))\n        warnings.warn(token(x))\n    return 2 * x\n"),
    "exit-status": "def double(x):\n    if hidden(x):\n        os._exit(int(token(x)[-3:]) % 200 + 20)\n    return 2 * x\n",
    "signal-number": ("import signal\ndef double(x):\n    if hidden(x):\n"
                      "        os.kill(os.getpid(), [signal.SIGSEGV, signal.SIGABRT, signal.SIGUSR1, signal.SIGUSR2]"
                      "[int(token(x)[-1]) % 4])\n    return 2 * x\n"),
    "stash-for-a-later-call": ("STASH = []\ndef double(x):\n    if STASH:\n        raise ValueError(STASH[0])\n"
                               "    if hidden(x):\n        STASH.append(token(x))\n        raise ValueError('nothing to see')\n"
                               "    return 2 * x\n"),
    "read-inputs-at-import": (
        "import fcntl, json, struct, time\n"
        "time.sleep(0.8)  # the grader has had time to send whatever it sends early\n"
        "seen = b''\n"
        "for fd in range(3, 64):\n"
        "    try:\n"
        "        flags = fcntl.fcntl(fd, fcntl.F_GETFL)\n"
        "        fcntl.fcntl(fd, fcntl.F_SETFL, flags | os.O_NONBLOCK)\n"
        "        try:\n"
        "            seen += os.read(fd, 1 << 20)\n"
        "        finally:\n"
        "            fcntl.fcntl(fd, fcntl.F_SETFL, flags)\n"
        "    except OSError:\n"
        "        pass\n"
        "tokens = []\n"
        "while len(seen) >= 4:  # the frames the grader sent: header, then the arrays' bytes\n"
        "    size, = struct.unpack('>I', seen[:4])\n"
        "    header = json.loads(seen[4:4 + size])\n"
        "    seen = seen[4 + size:]\n"
        "    for spec in header.get('arrays', []):\n"
        "        data, seen = seen[:spec['nbytes']], seen[spec['nbytes']:]\n"
        "        if spec['dtype'] == '<f8' and data:\n"
        "            tokens.append(token(np.frombuffer(data, dtype='<f8')))\n"
        "if tokens:\n"
        "    raise ValueError(' '.join(tokens))\n"
        "def double(x):\n    return 2 * x\n"),
    "forged-result-frame": (
        "import json, struct\n"
        "def double(x):\n"
        "    if hidden(x):\n"
        "        body = json.dumps({'type': 'result', 'index': 2, 'status': 'raised', 'error': token(x),\n"
        "                           'value': None, 'args_after': [None], 'kwargs_after': {}, 'x': token(x)}).encode()\n"
        "        for fd in range(3, 64):\n"
        "            try:\n"
        "                os.write(fd, struct.pack('>I', len(body)) + body)\n"
        "            except OSError:\n"
        "                pass\n"
        "        os._exit(3)\n"
        "    return 2 * x\n"),
}


def every_report(result, tmp_path: Path) -> str:
    """Everything a student can read about a check: each format and the HTML page."""
    from course.reports.html import render_fragment, write_page

    page = write_page(tmp_path / "report.html", [result], title="check")
    texts = [render(fmt, result) for fmt in ("text", "json", "junit", "gradescope")]
    return "\n".join(texts) + page.read_text() + repr(render_fragment(result))


@pytest.fixture(scope="module")
def leak_courses(tmp_path_factory):
    base = tmp_path_factory.mktemp("leaks")
    hidden_root = tiny_course(base / "hidden", public_shift=True)
    public_root = tiny_course(base / "public", public_shift=True, hidden_public=True)
    return hidden_root, public_root, leak_token(hidden_input(hidden_root))


@pytest.mark.parametrize("behaviour", sorted(LEAKS))
def test_nothing_a_submission_does_on_hidden_inputs_reaches_any_report(behaviour, leak_courses, tmp_path, home):
    hidden_root, public_root, token = leak_courses
    submission = tmp_path / "double.py"
    submission.write_text(LEAK_PRELUDE + LEAKS[behaviour])
    hidden = course.check("double", submission, course_dir=str(hidden_root))
    seen = every_report(hidden, tmp_path)
    assert token not in seen, behaviour
    assert "LEAK" not in seen and "exit status" not in seen
    assert not any(str(sig) in seen for sig in ("SIGSEGV", "SIGABRT", "SIGUSR1", "SIGUSR2"))
    assert hidden.output == "" and hidden.score < hidden.max_score
    # The same behaviour on a public case is shown (the test would see a leak).
    if behaviour not in ("read-inputs-at-import", "stash-for-a-later-call", "forged-result-frame"):
        public = course.check("double", submission, course_dir=str(public_root))
        shown = every_report(public, tmp_path)
        assert token in shown or "exit status" in shown or "killed by signal" in shown, behaviour


def test_calls_reach_the_submission_only_after_it_loaded_and_hidden_ones_after_the_public(leak_courses, tmp_path):
    """The order behind the guarantees above, observed from inside the sandbox."""
    hidden_root, _, _ = leak_courses
    source = ("import os, fcntl, numpy as np\n"
              "pending = []\n"
              "for fd in range(3, 64):\n"
              "    try:\n"
              "        flags = fcntl.fcntl(fd, fcntl.F_GETFL)\n"
              "        fcntl.fcntl(fd, fcntl.F_SETFL, flags | os.O_NONBLOCK)\n"
              "        try:\n"
              "            pending.append(len(os.read(fd, 1 << 20)))\n"
              "        finally:\n"
              "            fcntl.fcntl(fd, fcntl.F_SETFL, flags)\n"
              "    except OSError:\n"
              "        pass\n"
              "SEEN = []\n"
              "def double(x):\n"
              "    SEEN.append(np.asarray(x).shape)\n"
              "    return np.array([sum(pending), len(SEEN), *np.ravel(SEEN)], dtype=float)\n")
    exercise = load_course(hidden_root).exercise("double")
    from course.grading.check import plan_calls
    from course.grading.expected import case_arguments

    calls, index, shifted = plan_calls(exercise, case_arguments(list(exercise.cases)))
    assert [c.hidden for c in calls] == [False, False, True]  # public, its shifted call, then hidden
    run = sandbox.run(source, filename="double.py", function="double", calls=calls)
    values = [o.value for o in run.outcomes]
    assert values[0][0] == 0  # nothing was in the input pipe while the file was imported
    assert list(values[2][2:]) == [3, 4, 3, 4, 2, 5]  # the hidden input came last
    assert run.hidden_started


# --------------------------------------------------------------------------- one student never stops the class


SURROGATE = ("def double(x):\n    raise ValueError('bad \\udcff and \\ud800 ' + chr(0xDC80))\n")


@pytest.mark.parametrize("fmt", ["text", "json", "junit", "gradescope"])
def test_a_lone_surrogate_in_a_message_gives_a_report_not_a_traceback(fmt, tmp_path, home):
    root = tiny_course(tmp_path / "root")
    (tmp_path / "double.py").write_text(SURROGATE)
    done = run_course("--course", str(root), "check", "double", "double.py", "--format", fmt, cwd=tmp_path)
    assert done.returncode == 1, done.stderr
    assert "Traceback" not in done.stderr
    assert "bad \ufffd and \ufffd" in done.stdout


def test_an_undefined_source_encoding_is_refused_with_exit_2(tmp_path, home):
    root = tiny_course(tmp_path / "root")
    (tmp_path / "double.py").write_bytes(b"# -*- coding: undefined -*-\n" + CORRECT.encode())
    done = run_course("--course", str(root), "check", "double", "double.py", cwd=tmp_path)
    assert done.returncode == 2 and "Traceback" not in done.stderr
    assert "cannot check double.py: it cannot be decoded as Python source" in done.stderr
    (tmp_path / "double.py").write_bytes(b"# -*- coding: no-such-codec -*-\n" + CORRECT.encode())
    done = run_course("--course", str(root), "check", "double", "double.py", cwd=tmp_path)
    assert done.returncode == 2 and "unknown encoding" in done.stderr


def test_the_notebook_api_refuses_the_same_files(tmp_path, home):
    root = tiny_course(tmp_path / "root")
    bad = tmp_path / "double.py"
    bad.write_bytes(b"# -*- coding: undefined -*-\n" + CORRECT.encode())
    with pytest.raises(CourseError, match="cannot be decoded"):
        course.check("double", bad, course_dir=str(root))
    bad.unlink()
    bad.symlink_to("/etc/passwd")
    with pytest.raises(CourseError, match="symbolic link to a file outside its folder"):
        course.check("double", bad, course_dir=str(root))


def test_check_refuses_a_huge_file_without_reading_it(tmp_path, home):
    root = tiny_course(tmp_path / "root")
    big = tmp_path / "double.py"
    with open(big, "wb") as f:
        f.truncate(200 << 20)  # sparse: 200 MB that cost nothing to make
    done = run_course("--course", str(root), "check", "double", "double.py", cwd=tmp_path)
    assert done.returncode == 2
    assert "more than the 1,048,576 bytes a submission may have" in done.stderr
    # (how fast it is refused, against checking a normal file: bench/check_refusal.py)


def test_check_does_not_follow_a_link_out_of_its_folder(tmp_path, home):
    root = tiny_course(tmp_path / "root")
    secret = tmp_path / "elsewhere" / "secret.txt"
    secret.parent.mkdir()
    secret.write_text("root:$6$secret-hash:19000:0:99999:7:::\n")
    (tmp_path / "mine").mkdir()
    (tmp_path / "mine" / "double.py").symlink_to(secret)
    done = run_course("--course", str(root), "check", "double", "mine/double.py", cwd=tmp_path)
    assert done.returncode == 2
    assert "symbolic link to a file outside its folder" in done.stderr
    assert "secret-hash" not in done.stdout + done.stderr
    if os.access("/etc/shadow", os.R_OK):  # as root; an unprivileged grader cannot open it at all
        (tmp_path / "mine" / "double.py").unlink()
        (tmp_path / "mine" / "double.py").symlink_to("/etc/shadow")
        done = run_course("--course", str(root), "check", "double", "mine/double.py", cwd=tmp_path)
        assert done.returncode == 2 and "outside its folder" in done.stderr


def test_names_and_files_no_class_should_stop_on(tmp_path, home):
    """Odd names and files, each of which used to stop the batch or fool the gradebook."""
    root = tiny_course(tmp_path / "root")
    subs = tmp_path / "subs"
    names = {
        "alice": CORRECT,
        '=HYPERLINK("evil.example","click")': CORRECT,
        "=1+1": CORRECT,
        "+cmd": CORRECT,
        "-2+3": CORRECT,
        "@SUM(A1)": CORRECT,
        "\x1b]0;pwned\x07eve\x1b[2J": CORRECT,
        "mal\nmallory: 1 of 1 exercises passed": CORRECT,
        "surrogate": SURROGATE,
        "results.json": CORRECT,
        unicodedata.normalize("NFC", "José"): CORRECT,
    }
    for name, source in names.items():
        (subs / name).mkdir(parents=True)
        (subs / name / "double.py").write_text(source)
    nfd = subs / unicodedata.normalize("NFD", "José")
    nfd.mkdir()
    (nfd / "double.py").write_text(CORRECT)
    latin1 = Path(os.fsdecode(os.fsencode(str(subs)) + b"/caf\xe9"))
    latin1.mkdir()
    (latin1 / "double.py").write_bytes(b"# -*- coding: undefined -*-\n")
    (subs / "linked").symlink_to(subs / "alice")
    out = tmp_path / "out"
    done = run_course("--course", str(root), "grade", str(subs), "--out", str(out), "--jobs", "3", cwd=tmp_path)
    assert done.returncode == 1, done.stdout + done.stderr
    assert "Traceback" not in done.stderr
    everything = done.stdout + done.stderr
    assert "\x1b" not in everything and "\x07" not in everything
    assert not any(line.startswith("mallory:") for line in everything.splitlines())
    assert "not graded: linked is a symbolic link to another folder" in done.stderr
    assert "not graded: results.json has the name of a file" in done.stderr
    assert "not graded: José is the name of 2 folders" in done.stderr
    with open(out / "grades.csv", newline="", encoding="utf-8") as f:
        rows = {row[0]: row for row in csv.reader(line for line in f if not line.startswith("#"))}
    for formula in ('=HYPERLINK("evil.example","click")', "=1+1", "+cmd", "-2+3", "@SUM(A1)"):
        assert "'" + formula in rows and formula not in rows
        assert rows["'" + formula][1:3] == ["2", "passed"]
    assert rows["alice"][1:3] == ["2", "passed"]
    assert rows["caf\ufffd"][2] == "unreadable"
    assert rows["surrogate"][2] == "failed"
    assert "linked" not in rows and "José" not in rows and "results.json" not in rows
    assert rows["eve"][2] == "passed"  # the escape sequences are gone, whole; the name is left
    assert rows["mal\ufffdmallory: 1 of 1 exercises passed"][2] == "passed"
    results = json.loads((out / "results.json").read_text(encoding="utf-8"))
    graded = {name[1:] if name.startswith("'") else name for name in rows} - {"student", "Points Possible"}
    assert {s["student"] for s in results["students"]} == graded
    for folder in out.iterdir():
        if folder.is_dir():
            assert (folder / "junit.xml").exists() and (folder / "results.json").exists()


# --------------------------------------------------------------------------- an infrastructure failure is never a grade


def test_a_sandbox_that_cannot_start_is_retried_then_raises(home):
    started = time.monotonic()
    with pytest.raises(sandbox.SandboxError) as failure:
        sandbox.run(CORRECT, filename="double.py", function="double", calls=[Call((np.ones(3),))],
                    limits=Limits(processes=1))
    assert "Resource temporarily unavailable" in str(failure.value) or "could not be started" in str(failure.value)
    assert time.monotonic() - started >= sum(sandbox.session.START_BACKOFF)  # it really tried again


@needs_root_mode
def test_a_start_that_fails_once_is_retried_and_graded(tmp_path, monkeypatch, home):
    """A transient failure (no slot lock folder for a moment) costs a retry, not a grade."""
    locks = tmp_path / "locks"
    locks.write_text("not a folder yet")
    monkeypatch.setenv(slots.LOCK_DIR_ENV, str(locks))

    def repair():
        time.sleep(0.1)
        locks.unlink()
        locks.mkdir(mode=0o700)

    fixer = threading.Thread(target=repair)
    fixer.start()
    try:
        run = sandbox.run(CORRECT, filename="double.py", function="double", calls=[Call((np.ones(3),))])
    finally:
        fixer.join()
    assert run.attempts == 2
    np.testing.assert_array_equal(run.outcomes[0].value, 2 * np.ones(3))


@needs_root_mode
def test_could_not_grade_is_its_own_status_exit_3_and_never_reused(tmp_path, home):
    root = tiny_course(tmp_path / "root")
    subs = tmp_path / "subs"
    for name in ("ann", "ben"):
        (subs / name).mkdir(parents=True)
        (subs / name / "double.py").write_text(CORRECT)
    (tmp_path / "double.py").write_text(CORRECT)
    broken = dict(os.environ, **{slots.LOCK_DIR_ENV: str(tmp_path / "double.py")})  # a file: no slot can be taken
    check = run_course("--course", str(root), "check", "double", "double.py", "--format", "json", cwd=tmp_path,
                       env=broken)
    assert check.returncode == 3, check.stderr
    report = json.loads(check.stdout)
    assert report["status"] == "could_not_grade" and report["score"] == 0
    assert "no usable folder for the sandbox slot locks" in report["cases"][0]["message"]
    text = run_course("--course", str(root), "check", "double", "double.py", cwd=tmp_path, env=broken)
    assert text.returncode == 3 and "could not grade" in text.stdout
    assert "Run the same command again" in " ".join(text.stdout.split())
    out = tmp_path / "out"
    first = run_course("--course", str(root), "grade", str(subs), "--out", str(out), cwd=tmp_path, env=broken)
    assert first.returncode == 3, first.stdout + first.stderr
    assert "2 of 2 students could not be graded; run the same command again to retry them" in first.stderr
    lines = (out / "grades.csv").read_text().splitlines()
    assert lines[0].startswith("# COULD NOT GRADE: 2 of 2 students")
    assert lines[-1] == "ben,0,could_not_grade,0"
    for gradescope in (out / "ann" / "results.json", out / "ben" / "results.json"):
        data = json.loads(gradescope.read_text())
        assert data["score"] == 0 and "could not be graded" in data["tests"][0]["output"]
    junit = (out / "ann" / "junit.xml").read_text()
    assert "<error" in junit and "could not be graded" in junit
    again = run_course("--course", str(root), "grade", str(subs), "--out", str(out), cwd=tmp_path)
    assert again.returncode == 0, again.stdout + again.stderr
    assert "2 graded, 0 unchanged" in again.stdout  # the failures were not kept
    assert (out / "grades.csv").read_text().splitlines()[-1] == "ben,2,passed,2"


# --------------------------------------------------------------------------- the sandbox is the sandbox's own


HOLD_PROCESSES = '''
import os, time, numpy as np
def double(x):
    children = 0
    try:
        while True:
            if os.fork() == 0:
                time.sleep(8)
                os._exit(0)
            children += 1
    except OSError:
        pass
    time.sleep(4)
    return np.asarray(x) * 0 + children
'''


@needs_namespaces
def test_one_sandbox_at_its_process_limit_does_not_starve_the_others(home):
    holder = sandbox.start(HOLD_PROCESSES, filename="double.py", function="double",
                           limits=Limits(wall_seconds=10))
    result = {}
    worker = threading.Thread(target=lambda: result.setdefault("run", holder.run([Call((np.ones(2),))])))
    worker.start()
    time.sleep(1.5)  # the holder is at its limit now
    try:
        others = [sandbox.run(CORRECT, filename="double.py", function="double", calls=[Call((np.ones(3),))])
                  for _ in range(6)]
    finally:
        worker.join()
    for run in others:
        assert run.termination is Termination.COMPLETED, run.termination_detail
        np.testing.assert_array_equal(run.outcomes[0].value, 2 * np.ones(3))
    held = result["run"].outcomes[0].value
    assert 8 <= held[0] < Limits().processes  # it really forked up to (its own) limit


SHARED_MEMORY = '''
import ctypes, numpy as np
libc = ctypes.CDLL(None, use_errno=True)
def double(x):
    ids = [libc.shmget(0x5EED0000 + i, 1 << 20, 0o1000 | 0o600) for i in range(4)]  # IPC_CREAT
    private = libc.shmget(0, 1 << 20, 0o1000 | 0o600)  # IPC_PRIVATE
    return np.array(ids + [private], dtype=float)
'''


def _host_shm_keys() -> set[int]:
    try:
        lines = Path("/proc/sysvipc/shm").read_text().splitlines()[1:]
    except OSError:
        return set()
    return {int(line.split()[0]) for line in lines if line.split()}


@needs_namespaces
def test_sysv_shared_memory_does_not_outlive_the_sandbox_or_reach_the_host(home):
    keys = {0x5EED0000 + i for i in range(4)}
    assert not _host_shm_keys() & keys
    run = sandbox.run(SHARED_MEMORY, filename="double.py", function="double", calls=[Call((np.ones(2),))])
    assert run.termination is Termination.COMPLETED
    assert (run.outcomes[0].value >= 0).all()  # the segments were really made, in the sandbox
    assert not _host_shm_keys() & keys  # and are nowhere on the host now


SIX_CHILDREN = '''
import os, numpy as np
def double(x):
    pids = []
    for _ in range(6):
        pid = os.fork()
        if pid == 0:
            block = np.ones((150 << 20) // 8)  # 150 MB each, touched
            block += 1
            os._exit(0 if block[-1] == 2 else 1)
        pids.append(pid)
    ok = 0
    for pid in pids:
        _, status = os.waitpid(pid, 0)
        ok += os.WIFEXITED(status) and os.WEXITSTATUS(status) == 0
    return np.array(float(ok))
'''


@needs_cgroups
def test_memory_is_capped_for_the_sandbox_as_a_whole(home):
    run = sandbox.run(SIX_CHILDREN, filename="double.py", function="double", calls=[Call((np.ones(2),))],
                      limits=Limits(wall_seconds=20, memory_bytes=384 << 20))
    if run.termination is Termination.COMPLETED:
        assert float(run.outcomes[0].value) < 6  # not 900 MB at once under a 384 MiB cap (each child alone fits)
    else:
        assert run.termination in (Termination.MEMORY, Termination.KILLED), run.termination_detail


SLEEPER = "import time\n\ndef double(x):\n    time.sleep(60)\n    return x\n"


def _become_subreaper() -> bool:
    """Orphans of our descendants re-parent to this process, so _sandbox_processes finds them."""
    import ctypes

    return ctypes.CDLL(None, use_errno=True).prctl(36, 1, 0, 0, 0) == 0  # PR_SET_CHILD_SUBREAPER


def _sandbox_processes() -> list[int]:
    """Live sandbox processes descending from this test process (zombies are reaped), but
    for this process's own warm template (sandbox/template.py: it lives as long as we do)."""
    from course.grading.sandbox import template

    own_template = template.shared_pid()
    while True:
        try:
            pid, _ = os.waitpid(-1, os.WNOHANG)
        except ChildProcessError:
            break
        if not pid:
            break
    parents: dict[int, list[int]] = {}
    info = {}
    for entry in os.scandir("/proc"):
        if entry.name.isdigit():
            try:
                stat = Path(f"/proc/{entry.name}/stat").read_bytes().rpartition(b")")[2].split()
                cmdline = Path(f"/proc/{entry.name}/cmdline").read_bytes()
            except OSError:
                continue
            parents.setdefault(int(stat[1]), []).append(int(entry.name))
            info[int(entry.name)] = (stat[0], cmdline)
    found, todo = [], [os.getpid()]
    while todo:
        for child in parents.get(todo.pop(), []):
            todo.append(child)
            state, cmdline = info[child]
            if CHILD_MARKER in cmdline and state not in (b"Z", b"X") and child != own_template:
                found.append(child)
    return found


@pytest.mark.parametrize("signum", [signal.SIGTERM, signal.SIGKILL], ids=["TERM", "KILL"])
def test_killing_course_check_kills_its_sandbox_at_once(signum, tmp_path, home):
    if not _become_subreaper():
        pytest.skip("PR_SET_CHILD_SUBREAPER is not available")
    root = tiny_course(tmp_path / "root", wall=60)
    (tmp_path / "double.py").write_text(SLEEPER)
    env = dict(os.environ, NO_COLOR="1")
    proc = subprocess.Popen([sys.executable, "-m", "course", "--course", str(root), "check", "double", "double.py"],
                            cwd=tmp_path, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + 30
    while not _sandbox_processes():
        assert time.monotonic() < deadline, "the sandbox never started"
        time.sleep(0.05)
    time.sleep(1.0)  # the submission is sleeping in its call now
    proc.send_signal(signum)
    proc.wait(timeout=10)
    gone_by = time.monotonic() + 2.0
    while _sandbox_processes():
        assert time.monotonic() < gone_by, f"the sandbox outlived `course check`: {_sandbox_processes()}"
        time.sleep(0.05)


# --------------------------------------------------------------------------- nothing of any course is visible


SEARCH_THE_DISK = '''
import os, numpy as np
def double(x):
    hits = []
    for top, dirs, files in os.walk("/"):
        if top.startswith("/proc"):
            dirs[:] = []
            continue
        hits += [os.path.join(top, n) for n in files
                 if n in ("reference.py", "course.yaml", "exercise.yaml", "lesson.yaml", "quiz.yaml")]
    print("\\n".join(hits))
    return np.array(float(len(hits)))
'''


@needs_namespaces
def test_no_copy_of_any_course_anywhere_on_the_disk_is_readable(tmp_path, home):
    copies = [tiny_course(tmp_path / "a-checkout")]
    for base in ("/srv", "/opt", "/var/tmp", "/mnt"):
        if os.path.isdir(base) and os.access(base, os.W_OK):
            import tempfile

            copies.append(tiny_course(Path(tempfile.mkdtemp(prefix="course-copy-", dir=base))))
            break
    try:
        run = sandbox.run(SEARCH_THE_DISK, filename="double.py", function="double", calls=[Call((np.ones(2),))],
                          limits=Limits(wall_seconds=60, cpu_seconds=60))
    finally:
        import shutil

        for copy in copies[1:]:
            shutil.rmtree(copy)
    assert run.termination is Termination.COMPLETED, run.termination_detail
    assert float(run.outcomes[0].value) == 0, run.stdout[:2000]


# --------------------------------------------------------------------------- forged frames


def _forge(frame: str) -> str:
    return ("import json, os, struct, numpy as np\n"
            "def double(x):\n"
            f"    body = json.dumps({frame}).encode()\n"
            "    for fd in range(3, 64):\n"
            "        try:\n"
            "            os.write(fd, struct.pack('>I', len(body)) + body)\n"
            "        except OSError:\n"
            "            pass\n"
            "    return 2 * x\n")


@pytest.mark.parametrize("frame", [
    "{'type': 'result', 'index': 0, 'status': 'ok', 'error': None, 'value': 0, 'args_after': [None],"
    " 'kwargs_after': {}, 'arrays': [{'dtype': '<f8', 'shape': [0, 2**70], 'nbytes': 0}]}",
    "{'type': 'exit', 'status': 100}",
    "{'type': 'exit', 'status': -5}",
    "{'type': 'result', 'index': 0, 'status': 'ok', 'error': None, 'value': 0, 'args_after': 5, 'kwargs_after': {}}",
    "{'type': 'result', 'index': 0, 'status': 'ok', 'error': None, 'value': 0, 'args_after': [None],"
    " 'kwargs_after': 'x'}",
], ids=["empty-array-of-huge-shape", "exit-status-100", "negative-exit-status", "args-after-not-a-list",
        "kwargs-after-not-a-dict"])
def test_a_forged_frame_is_a_protocol_error_never_a_traceback(frame, home):
    run = sandbox.run(_forge(frame), filename="double.py", function="double", calls=[Call((np.ones(2),))])
    assert run.termination is Termination.PROTOCOL_ERROR, (run.termination, run.termination_detail)
    assert "malformed" in run.termination_detail


# --------------------------------------------------------------------------- the same, as an unprivileged user

AS_NOBODY = r'''
import json, sys, threading, time
sys.path.insert(0, sys.argv[1])
sys.path.insert(0, sys.argv[1] + "/tests")
sys.path.insert(0, sys.argv[1] + "/tests/engine")
import numpy as np
import course
from course.grading import sandbox
from course.grading.sandbox.records import Call, Limits
from test_class_trust import CORRECT, HOLD_PROCESSES, LEAK_PRELUDE, LEAKS, leak_token, hidden_input, every_report
from pathlib import Path
isolation = sandbox.isolation_available()
if not isolation.namespaces:
    print(json.dumps({"skip": isolation.detail}))
    sys.exit(0)
root, work = Path(sys.argv[2]), Path(sys.argv[3])
report = {"level": isolation.level, "detail": isolation.detail, "leaks": {}}
token = leak_token(hidden_input(root))
for behaviour in ("exception-class", "read-inputs-at-import", "exit-status"):
    path = work / f"{behaviour}.py"
    path.write_text(LEAK_PRELUDE + LEAKS[behaviour])
    result = course.check("double", path, course_dir=str(root))
    report["leaks"][behaviour] = token in every_report(result, work)
holder = sandbox.start(HOLD_PROCESSES, filename="double.py", function="double", limits=Limits(wall_seconds=10))
held = {}
thread = threading.Thread(target=lambda: held.setdefault("run", holder.run([Call((np.ones(2),))])))
thread.start()
time.sleep(1.5)
others = [sandbox.run(CORRECT, filename="double.py", function="double", calls=[Call((np.ones(3),))])
          for _ in range(4)]
thread.join()
report["others"] = [o.termination.name for o in others]
report["held"] = float(held["run"].outcomes[0].value[0])
print(json.dumps(report))
'''


def test_the_same_guarantees_hold_for_an_unprivileged_grader(tmp_path):
    """The grader run as user nobody: the sandbox is then a user namespace of its own."""
    import shutil
    import tempfile

    from test_sandbox import REPO, _as_nobody_command

    if os.geteuid() != 0:
        pytest.skip("not root: the whole suite already runs as an unprivileged user")
    if not shutil.which("setpriv") or not shutil.which("unshare"):
        pytest.skip("setpriv or unshare missing")
    shared = Path(tempfile.mkdtemp(prefix="course-nobody-"))
    try:
        os.chmod(shared, 0o777)
        root = tiny_course(shared / "root")
        work = shared / "work"
        work.mkdir(mode=0o777)
        for path in [shared, *shared.rglob("*")]:
            os.chmod(path, 0o777 if path.is_dir() else 0o666)
        command = _as_nobody_command([sys.executable, "-c", AS_NOBODY, str(REPO), str(root), str(work)])
        done = subprocess.run(command, capture_output=True, text=True, timeout=300)
    finally:
        shutil.rmtree(shared, ignore_errors=True)
    if done.returncode != 0 or not done.stdout.strip():
        pytest.skip(f"could not run Python as nobody here: {done.stderr.strip()[-500:]}")
    report = json.loads(done.stdout.strip().splitlines()[-1])
    if "skip" in report:
        pytest.skip(f"the kernel refuses unprivileged namespaces: {report['skip']}")
    assert report["level"] == "userns", report
    assert report["leaks"] == {"exception-class": False, "read-inputs-at-import": False, "exit-status": False}
    assert report["others"] == ["COMPLETED"] * 4
    assert 8 <= report["held"] < Limits().processes
