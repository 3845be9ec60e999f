"""The sandbox against real subprocesses: ordinary submissions and hostile ones.

Every hostile test checks three things: the outcome is not OK and the reason given is
the true one; the run ends in bounded time; nothing is left behind. "Nothing left
behind" is checked honestly from outside: each hostile submission prints, at import,
the identity of its processes (pid and PID-namespace inode); afterwards no process
may remain in that namespace (or with that pid when there are no namespaces).
Those printed lines are test instrumentation only: the grader never believes stdout.
"""
from __future__ import annotations

import json
import os
import re
import shlex
import shutil
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path

import numpy as np
import pytest

from course.grading import sandbox
from course.grading.sandbox import probe
from course.grading.sandbox.wire import (
    MAX_CHILD_HEADER_BYTES,
    FrameReader,
    ProtocolError,
    encode_frame,
)
from course.grading.sandbox import (
    Call,
    CallStatus,
    Limits,
    SandboxUnavailable,
    Termination,
)

REPO = Path(__file__).resolve().parents[2]
PACKAGE_DIR = REPO / "course"
FAST = Limits(wall_seconds=2.0, cpu_seconds=4)
DEADLINE = Limits(wall_seconds=1.0, cpu_seconds=4)  # for runs that must end at the time limit: 1 s of waiting each
SLACK = 3.0  # seconds a run may take beyond its wall limit (start-up, kill, reap)

# Printed at import by every hostile submission, read back by assert_no_survivors.
IDENTIFY = '''
import os as _os
def _identify(tag="main"):
    try:
        _ns = _os.readlink("/proc/self/ns/pid")
    except OSError:
        _ns = "?"
    print(f"SANDBOX-IDENT {tag} pid={_os.getpid()} pidns={_ns}", flush=True)
_identify()
'''

SOFTMAX = '''
import numpy as np

def softmax(x, axis=-1):
    shifted = x - np.max(x, axis=axis, keepdims=True)
    e = np.exp(shifted)
    return e / np.sum(e, axis=axis, keepdims=True)
'''


def reference_softmax(x: np.ndarray, axis: int = -1) -> np.ndarray:
    e = np.exp(x - x.max(axis=axis, keepdims=True))
    return e / e.sum(axis=axis, keepdims=True)


def sample(shape=(3, 5), seed=0) -> np.ndarray:
    return np.random.default_rng(seed).normal(size=shape)


# --------------------------------------------------------------------------- helpers


def timed_run(source: str, calls, *, function: str = "softmax", limits: Limits = FAST,
              filename: str = "softmax.py", **kwargs) -> sandbox.SandboxRun:
    """sandbox.run, asserting it ends within the wall limit plus a little."""
    started = time.monotonic()
    result = sandbox.run(source, filename=filename, function=function, calls=calls,
                         limits=limits, **kwargs)
    elapsed = time.monotonic() - started
    assert elapsed < limits.wall_seconds + SLACK, f"run took {elapsed:.1f} s"  # a hang guard, not a speed target
    return result


def hostile(body: str) -> str:
    return IDENTIFY + body


def _identities(run: sandbox.SandboxRun) -> list[tuple[int, str]]:
    found = re.findall(r"SANDBOX-IDENT \S+ pid=(\d+) pidns=(\S+)", run.stdout)
    assert found, f"the hostile submission did not identify itself: {run.stdout[:300]!r}"
    return [(int(pid), ns) for pid, ns in found]


def _alive(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_bytes().rpartition(b")")[2].split()[0]
    except (OSError, IndexError):
        return False
    return state not in (b"Z", b"X")


def _members_of(pidns: str) -> list[int]:
    members = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                if os.readlink(entry / "ns" / "pid") == pidns and _alive(int(entry.name)):
                    members.append(int(entry.name))
            except OSError:
                continue
    return members


def assert_no_survivors(run: sandbox.SandboxRun, marker: str | None = None) -> None:
    """No process of the run is left: none in its PID namespace, none with its pids,
    none with `marker` in its command line. Killing is asynchronous only in the
    fallback mode, so allow a moment there."""
    deadline = time.monotonic() + 2.0
    while True:
        left = []
        for pid, ns in _identities(run):
            if run.isolation.namespaces:
                left += _members_of(ns)
            elif _alive(pid):
                left.append(pid)
        if marker:
            left += _with_marker(marker)
        if not left or time.monotonic() > deadline:
            break
        time.sleep(0.05)
    assert not left, f"processes survived the run: {left}"


def _with_marker(marker: str) -> list[int]:
    found = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                if marker.encode() in (entry / "cmdline").read_bytes() and _alive(int(entry.name)):
                    found.append(int(entry.name))
            except OSError:
                continue
    return found


@pytest.fixture
def namespaces() -> sandbox.Isolation:
    isolation = sandbox.isolation_available()
    if not isolation.namespaces:
        pytest.skip(f"namespaces unavailable here: {isolation.detail}")
    return isolation


@pytest.fixture
def fallback(monkeypatch):
    """Force the no-namespace path, as COURSE_SANDBOX_NAMESPACES=0 does for users."""
    monkeypatch.setenv(sandbox.NAMESPACES_ENV, "0")
    probe.forget()
    yield
    monkeypatch.undo()
    probe.forget()


# --------------------------------------------------------------------------- ordinary cases


def test_correct_softmax_returns_the_right_float64_array():
    x = sample()
    run = timed_run(SOFTMAX, [Call((x,)), Call((x,), {"axis": 0})])
    assert run.loaded and run.load_error is None
    assert run.termination is Termination.COMPLETED
    for outcome, axis in zip(run.outcomes, (-1, 0)):
        assert outcome.status is CallStatus.OK
        assert type(outcome.value) is np.ndarray and outcome.value.dtype == np.float64
        np.testing.assert_allclose(outcome.value, reference_softmax(x, axis), rtol=1e-12)
        assert outcome.value.flags.writeable and outcome.value.flags.owndata
        np.testing.assert_array_equal(outcome.args_after[0], x)
    assert run.stdout == "" and run.stderr == ""


@pytest.mark.parametrize(
    "returned, dtype, expected",
    [("3", np.int64, 3), ("2.5", np.float64, 2.5), ("True", np.bool_, True)],
)
def test_python_scalars_arrive_as_0d_arrays(returned, dtype, expected):
    run = timed_run(f"def f(x):\n    return {returned}\n", [Call((1,))], function="f")
    value = run.outcomes[0].value
    assert run.outcomes[0].status is CallStatus.OK
    assert value.shape == () and value.dtype == dtype and value[()] == expected
    assert run.outcomes[0].args_after == (None,)  # not an array argument


@pytest.mark.parametrize(
    "returned, message",
    [
        ("None", "returned None"),
        ("['a', 'b']", "returned a list of str"),
        ("2 ** 70", "returned an int too large for int64"),
        ("{'a': 1}", "returned a dict (numpy makes it an array of dtype object)"),
    ],
)
def test_unusable_return_values_are_bad_returns(returned, message):
    run = timed_run(f"def f(x):\n    return {returned}\n", [Call((1,))], function="f")
    outcome = run.outcomes[0]
    assert outcome.status is CallStatus.BAD_RETURN
    assert outcome.value is None and outcome.error == message
    assert run.termination is Termination.COMPLETED


def test_exception_in_the_call_is_raised_with_a_trimmed_traceback():
    source = "import numpy as np\n\ndef helper(x):\n    raise ValueError('bad axis')\n\ndef softmax(x, axis=-1):\n    return helper(x)\n"
    run = timed_run(source, [Call((sample(),))])
    outcome = run.outcomes[0]
    assert outcome.status is CallStatus.RAISED
    assert outcome.error.startswith("ValueError: bad axis\n")
    assert 'File "softmax.py", line 7, in softmax' in outcome.error
    assert 'File "softmax.py", line 4, in helper' in outcome.error
    assert "raise ValueError('bad axis')" in outcome.error  # the student's line is shown
    for foreign in ("_child", "protocol", "<string>", "sandbox"):
        assert foreign not in outcome.error


def test_syntax_error_at_import_is_a_load_error_with_the_line():
    run = timed_run("import numpy as np\n\ndef softmax(x:\n    return x\n", [Call((1,))])
    assert not run.loaded
    assert run.load_error.startswith("SyntaxError: ") and "(line 3)" in run.load_error.splitlines()[0]
    assert run.outcomes[0].status is CallStatus.NOT_RUN
    assert run.outcomes[0].error == "not run: the submission could not be loaded"


def test_missing_or_uncallable_function_is_a_load_error():
    run = timed_run("def soft_max(x):\n    return x\n", [Call((1,))])
    assert not run.loaded and run.load_error == "the file defines no function named 'softmax'"
    run = timed_run("softmax = 3\n", [Call((1,))])
    assert not run.loaded and run.load_error == "'softmax' is not callable"


def test_in_place_modification_is_visible_in_args_after():
    x = sample()
    original = x.copy()
    run = timed_run("def softmax(x, axis=-1):\n    x *= 2\n    return x\n", [Call((x, 0.5))])
    outcome = run.outcomes[0]
    np.testing.assert_array_equal(x, original)  # the parent's array is untouched
    np.testing.assert_array_equal(outcome.args_after[0], 2 * original)
    assert outcome.args_after[1] is None


def test_timeout_in_the_third_of_five_calls_keeps_the_first_two():
    source = "import time\ndef f(i):\n    if i == 2:\n        time.sleep(3600)\n    return i * 10\n"
    run = timed_run(source, [Call((i,)) for i in range(5)], function="f", limits=DEADLINE)
    assert run.termination is Termination.TIMEOUT
    assert run.termination_detail == "stopped after 1.0 s (time limit)"
    assert [o.status for o in run.outcomes] == [CallStatus.OK] * 2 + [CallStatus.NOT_RUN] * 3
    assert [int(o.value) for o in run.outcomes[:2]] == [0, 10]
    assert run.outcomes[2].error == "did not return: stopped after 1.0 s (time limit)"
    assert run.outcomes[3].error == "not run: stopped after 1.0 s (time limit)"


def test_session_overlaps_start_up_with_the_parents_work():
    session = sandbox.start(SOFTMAX, filename="softmax.py", function="softmax", limits=FAST)
    with session:
        x = sample()
        expected = reference_softmax(x)  # the parent's work, while the child loads
        time.sleep(0.3)
        run = session.run([Call((x,))])
        with pytest.raises(RuntimeError):
            session.run([Call((x,))])
    np.testing.assert_allclose(run.outcomes[0].value, expected)
    assert run.seconds >= 0.3  # the child started with the session, before the parent's work
    # How much of the start-up the overlap hides is a speed question: bench/sandbox_start.py.


def test_inputs_of_many_kinds_reach_the_function():
    config = {"arch": "gpt", "n_layers": 2, "tied_embeddings": True, "pdrop": None}
    source = (
        "import numpy as np\n"
        "def f(a, s, cfg, axes, mask=None):\n"
        "    assert isinstance(s, np.float32) and isinstance(axes, tuple)\n"
        "    assert cfg == {'arch': 'gpt', 'n_layers': 2, 'tied_embeddings': True, 'pdrop': None}\n"
        "    return np.array([a.sum(), s, len(axes), mask.sum()], dtype=np.float64)\n"
    )
    mask = np.tril(np.ones((3, 3), dtype=bool))
    run = timed_run(source, [Call((np.arange(4), np.float32(1.5), config, (0, 1)), {"mask": mask})],
                    function="f")
    assert run.outcomes[0].status is CallStatus.OK, run.outcomes[0].error
    np.testing.assert_array_equal(run.outcomes[0].value, [6, 1.5, 2, 6])


def test_large_results_cross_intact():
    x = np.random.default_rng(1).normal(size=(256, 1024))  # 2 MiB each way
    run = timed_run("def f(x):\n    return x[::-1, ::2] * 3\n", [Call((x,))], function="f")
    np.testing.assert_array_equal(run.outcomes[0].value, x[::-1, ::2] * 3)


def test_results_over_the_result_limit_are_refused():
    limits = Limits(wall_seconds=2.0, cpu_seconds=4, result_bytes=1 << 20)
    run = timed_run("import numpy as np\ndef f(x):\n    return np.zeros(1 << 18)\n", [Call((1,))],
                    function="f", limits=limits)
    assert run.outcomes[0].status is CallStatus.BAD_RETURN
    assert "more than is left of the result limit" in run.outcomes[0].error


def test_output_over_the_cap_is_trimmed_and_the_run_goes_on():
    source = "import sys\ndef f(x):\n    sys.stdout.write('y' * 1_000_000)\n    print('ERR', file=sys.stderr)\n    return x\n"
    run = timed_run(source, [Call((7,))], function="f")
    assert run.outcomes[0].status is CallStatus.OK and int(run.outcomes[0].value) == 7
    kept, marker = run.stdout.split("\n... [")
    assert kept == "y" * (64 << 10)
    assert marker == f"{1_000_000 - (64 << 10)} more bytes dropped]"
    assert run.stderr == "ERR\n"


# --------------------------------------------------------------------------- exits and interrupts


@pytest.mark.parametrize(
    "statement, load_error",
    [
        ("import sys\nsys.exit(0)", "SystemExit: 0"),
        ("raise SystemExit", "SystemExit"),
        ("raise KeyboardInterrupt", "KeyboardInterrupt"),
    ],
)
def test_exit_or_interrupt_at_import_is_a_load_error(statement, load_error):
    run = timed_run(hostile(statement + "\ndef softmax(x):\n    return x\n"), [Call((1,))])
    assert not run.loaded
    assert run.load_error.splitlines()[0] == load_error
    assert run.termination is Termination.COMPLETED
    assert run.outcomes[0].status is CallStatus.NOT_RUN
    assert_no_survivors(run)


def test_os_exit_at_import_exits_early():
    run = timed_run(hostile("import os\nos._exit(0)\ndef softmax(x):\n    return x\n"), [Call((1,))])
    assert not run.loaded
    assert run.termination is Termination.EXITED_EARLY
    assert run.termination_detail.startswith(
        "the submission exited (sys.exit / os._exit) before returning results")
    assert "did not finish" in run.load_error
    assert_no_survivors(run)


@pytest.mark.parametrize(
    "statement, error",
    [
        ("import sys; sys.exit(0)", "SystemExit: 0"),
        ("raise SystemExit", "SystemExit"),
        ("raise KeyboardInterrupt", "KeyboardInterrupt"),
    ],
)
def test_exit_or_interrupt_in_the_call_is_raised(statement, error):
    source = hostile(f"def softmax(x):\n    if x == 0:\n        {statement}\n    return x\n")
    run = timed_run(source, [Call((0,)), Call((1,))])
    first, second = run.outcomes
    assert first.status is CallStatus.RAISED and first.error.splitlines()[0] == error
    assert second.status is CallStatus.OK and int(second.value) == 1  # the child went on
    assert run.termination is Termination.COMPLETED
    assert_no_survivors(run)


def test_os_exit_in_the_call_exits_early_and_later_calls_are_not_run():
    source = hostile("import os\ndef softmax(x):\n    if x == 1:\n        os._exit(0)\n    return x\n")
    run = timed_run(source, [Call((0,)), Call((1,)), Call((2,))])
    assert run.termination is Termination.EXITED_EARLY
    assert run.outcomes[0].status is CallStatus.OK
    assert [o.status for o in run.outcomes[1:]] == [CallStatus.NOT_RUN] * 2
    assert run.outcomes[1].error.startswith("did not return: the submission exited")
    assert_no_survivors(run)


# --------------------------------------------------------------------------- lying and cheating


def test_fake_success_printed_to_stdout_changes_nothing():
    fake = json.dumps({"passed": True, "score": 10, "max_score": 10})
    source = hostile(
        "import numpy as np, sys\n"
        f"print({fake!r})\nprint('All tests passed!')\n"
        "sys.stdout.buffer.write(b'\\x00\\x00\\x00\\x0f{\"type\":\"done\"}')\n"
        "def softmax(x, axis=-1):\n    print('PASSED')\n    return np.zeros_like(x)\n"
    )
    x = sample()
    run = timed_run(source, [Call((x,))])
    assert fake in run.stdout and "All tests passed!" in run.stdout  # kept as text, nothing more
    np.testing.assert_array_equal(run.outcomes[0].value, np.zeros_like(x))
    assert not np.allclose(run.outcomes[0].value, reference_softmax(x))
    assert_no_survivors(run)


def test_monkeypatching_numpy_and_builtins_is_harmless():
    source = hostile(
        "import builtins, numpy as np\n"
        "np.allclose = lambda *a, **k: True\n"
        "np.array_equal = lambda *a, **k: True\n"
        "np.isclose = lambda *a, **k: True\n"
        "np.testing.assert_allclose = lambda *a, **k: None\n"
        "try:\n    np.ndarray.__eq__ = lambda self, other: True\nexcept TypeError:\n    pass\n"
        "builtins.all = lambda *a, **k: True\n"
        "builtins.any = lambda *a, **k: True\n"
        "builtins.abs = lambda *a, **k: 0\n"
        "def softmax(x, axis=-1):\n    return np.full_like(x, 0.25)\n"
    )
    x = sample()
    run = timed_run(source, [Call((x,))])
    value = run.outcomes[0].value
    assert run.outcomes[0].status is CallStatus.OK
    np.testing.assert_array_equal(value, np.full_like(x, 0.25))  # the real value arrived
    assert not np.allclose(value, reference_softmax(x))  # and the parent's numpy is its own
    assert_no_survivors(run)


def test_ndarray_subclass_with_lying_methods_arrives_as_plain_bytes():
    source = hostile(
        "import numpy as np\n"
        "class Liar(np.ndarray):\n"
        "    def __eq__(self, other): return True\n"
        "    def __array_function__(self, *a, **k): return True\n"
        "    def __array_ufunc__(self, *a, **k): return True\n"
        "    def __array__(self, *a, **k): return np.full(self.shape, 0.2)\n"
        "def softmax(x, axis=-1):\n    return np.zeros(x.shape).view(Liar)\n"
    )
    x = sample()
    run = timed_run(source, [Call((x,))])
    value = run.outcomes[0].value
    assert type(value) is np.ndarray
    assert value.shape == x.shape and not np.allclose(value, reference_softmax(x))
    assert_no_survivors(run)


def test_objects_with_lying_dunder_methods():
    source = hostile(
        "import numpy as np\n"
        "class ArrayLiar:\n"
        "    def __array__(self, dtype=None, copy=None): return np.ones(3)\n"
        "    def __eq__(self, other): return True\n"
        "    def __array_function__(self, *a, **k): return True\n"
        "class EqLiar:\n"
        "    def __eq__(self, other): return True\n"
        "    def __ne__(self, other): return False\n"
        "def f(i):\n    return ArrayLiar() if i == 0 else EqLiar()\n"
    )
    run = timed_run(source, [Call((0,)), Call((1,))], function="f")
    first, second = run.outcomes
    np.testing.assert_array_equal(first.value, np.ones(3))  # whatever bytes arrive are compared
    assert second.status is CallStatus.BAD_RETURN
    assert second.error == "returned an EqLiar (numpy makes it an array of dtype object)"
    assert_no_survivors(run)


def test_searching_memory_for_expected_values_finds_nothing():
    """The cheat: compute nothing, find the reference's answer in the process instead.

    To know whether an answer is there, this submission computes the correct one
    itself and looks for any other array with those values (in every container gc
    knows, in every caller frame), for modules named like a reference or the course,
    and for caller variables named like expected values. The child never had them.
    """
    source = hostile(
        "import gc, sys, numpy as np\n"
        "def looks_expected(item, x, target):\n"
        "    return (isinstance(item, np.ndarray) and item is not target and item is not x\n"
        "            and item.shape == x.shape and np.allclose(item, target))\n"
        "def softmax(x, axis=-1):\n"
        "    e = np.exp(x - x.max(axis=axis, keepdims=True))\n"
        "    target = e / e.sum(axis=axis, keepdims=True)\n"
        "    arrays = 0\n"
        "    for obj in gc.get_objects():\n"
        "        items = obj.values() if isinstance(obj, dict) else obj if isinstance(obj, (list, tuple)) else ()\n"
        "        arrays += sum(looks_expected(item, x, target) for item in list(items))\n"
        "    suspicious = 0\n"
        "    frame = sys._getframe(1)\n"
        "    while frame is not None:\n"
        "        for name, value in frame.f_locals.items():\n"
        "            if any(w in name.lower() for w in ('expect', 'reference', 'answer', 'want')):\n"
        "                suspicious += 1\n"
        "            arrays += looks_expected(value, x, target)\n"
        "        frame = frame.f_back\n"
        "    modules = sum(1 for m in list(sys.modules) if 'reference' in m or m.split('.')[0] == 'course')\n"
        "    files = sum(1 for m in list(sys.modules.values())\n"
        "                if 'course' in str(getattr(m, '__file__', '') or '').split('/'))\n"
        "    return np.array([arrays, suspicious, modules, files], dtype=float)\n"
    )
    x = sample()
    run = timed_run(source, [Call((x,)), Call((x * 2,))])
    for outcome in run.outcomes:
        assert outcome.status is CallStatus.OK, outcome.error
        np.testing.assert_array_equal(outcome.value, [0, 0, 0, 0])
    assert_no_survivors(run)


def test_garbage_on_the_result_channel_is_a_protocol_error():
    source = hostile(
        "import os\n"
        "for name in os.listdir('/proc/self/fd'):\n"
        "    if int(name) > 2:\n"
        "        try:\n"
        "            os.write(int(name), b'\\xff\\xff\\xff\\xff garbage')\n"
        "        except OSError:\n"
        "            pass\n"
        "def softmax(x):\n    return x\n"
    )
    run = timed_run(source, [Call((1,))])
    assert run.termination is Termination.PROTOCOL_ERROR
    assert "malformed data on the result channel" in run.termination_detail
    assert run.outcomes[0].status is CallStatus.NOT_RUN
    assert_no_survivors(run)


def test_reading_course_files_by_absolute_path_finds_nothing(namespaces):
    reference_dir = _scratch_dir_outside_tmp()
    try:
        reference = reference_dir / "exercises" / "softmax" / "reference.py"
        reference.parent.mkdir(parents=True)
        reference.write_text(SOFTMAX)
        targets = [reference, reference_dir, PACKAGE_DIR / "grading" / "sandbox" / "session.py",
                   REPO / "pyproject.toml"]
        source = hostile(
            "import os, numpy as np\n"
            f"TARGETS = {[str(t) for t in targets]!r}\n"
            "def softmax(x, axis=-1):\n"
            "    seen = []\n"
            "    for path in TARGETS:\n"
            "        try:\n"
            "            seen.append(len(os.listdir(path)) if os.path.isdir(path) else len(open(path).read()))\n"
            "        except OSError:\n"
            "            seen.append(0)\n"
            "    return np.array(seen, dtype=float)\n"
        )
        run = timed_run(source, [Call((sample(),))])  # nothing is named: the view is an allow-list
    finally:
        shutil.rmtree(reference_dir)
    np.testing.assert_array_equal(run.outcomes[0].value, [0, 0, 0, 0])
    assert_no_survivors(run)


def _scratch_dir_outside_tmp() -> Path:
    """A folder the sandbox does not hide by itself (so hiding it is the test's doing)."""
    for base in ("/srv", "/opt", "/var/lib", "/run", "/mnt"):
        if os.path.isdir(base) and os.access(base, os.W_OK):
            return Path(tempfile.mkdtemp(prefix="course-test-ref-", dir=base))
    pytest.skip("no writable folder outside /tmp and the home folders")


# --------------------------------------------------------------------------- resource abuse


@pytest.mark.parametrize(
    "body",
    [
        "def softmax(x):\n    while True:\n        pass\n",
        "import signal, time\nsignal.signal(signal.SIGTERM, signal.SIG_IGN)\n"
        "def softmax(x):\n    while True:\n        time.sleep(1)\n",
        "import time\ndef softmax(x):\n    time.sleep(1000)\n",
    ],
    ids=["infinite-loop", "ignore-sigterm-loop", "sleep"],
)
def test_endless_calls_are_stopped_at_the_deadline(body):
    run = timed_run(hostile(body), [Call((1,))], limits=DEADLINE)
    assert run.termination is Termination.TIMEOUT
    assert run.termination_detail == "stopped after 1.0 s (time limit)"
    assert run.outcomes[0].status is CallStatus.NOT_RUN
    assert_no_survivors(run)


def test_endless_import_is_stopped_at_the_deadline():
    run = timed_run(hostile("import time\ntime.sleep(3600)\n"), [Call((1,))], limits=DEADLINE)
    assert run.termination is Termination.TIMEOUT and not run.loaded
    assert run.load_error == "importing the file did not finish: stopped after 1.0 s (time limit)"
    assert_no_survivors(run)


def test_cpu_limit_is_reported_as_such():
    limits = Limits(wall_seconds=6.0, cpu_seconds=1)
    run = timed_run(hostile("def softmax(x):\n    while True:\n        pass\n"), [Call((1,))],
                    limits=limits)
    assert run.termination is Termination.CPU_LIMIT
    assert run.termination_detail == "stopped after 1 s of CPU time (CPU limit)"
    assert run.seconds < 5.0  # correctness, not speed: the 1 s CPU limit, not the 6 s wall limit, ended it
    assert_no_survivors(run)


@pytest.mark.parametrize("where", ["call", "import"])
def test_allocating_many_gigabytes_hits_the_memory_limit(where):
    allocate = "np.ones(10**10)"
    body = (f"import numpy as np\ndef softmax(x):\n    return {allocate}\n" if where == "call"
            else f"import numpy as np\nBIG = {allocate}\ndef softmax(x):\n    return x\n")
    run = timed_run(hostile(body), [Call((1,))])
    assert run.termination is Termination.MEMORY
    assert run.termination_detail == "memory limit (1.0 GiB) exceeded"
    error = run.outcomes[0].error if where == "call" else run.load_error
    assert error.startswith("MemoryError: Unable to allocate 74.5 GiB")
    assert_no_survivors(run)


def test_huge_output_is_bounded_and_ends_the_run():
    source = hostile("import sys\ndef softmax(x):\n    for _ in range(300):\n        sys.stdout.write('x' * 1_000_000)\n    return x\n")
    run = timed_run(source, [Call((1,))])
    assert run.termination is Termination.OUTPUT_LIMIT
    assert "output limit" in run.termination_detail
    assert len(run.stdout) < (64 << 10) + 100 and "more bytes dropped]" in run.stdout
    assert run.outcomes[0].status is CallStatus.NOT_RUN
    assert_no_survivors(run)


def test_segfault_is_reported_as_a_signal():
    run = timed_run(hostile("import ctypes\ndef softmax(x):\n    return ctypes.string_at(0)\n"), [Call((1,))])
    assert run.termination is Termination.KILLED
    assert run.termination_detail == "killed by signal SIGSEGV (segmentation fault)"
    assert run.outcomes[0].error == "did not return: killed by signal SIGSEGV (segmentation fault)"
    assert_no_survivors(run)


@pytest.mark.parametrize(
    "body",
    [
        # Python-level: 3.11 keeps these frames off the C stack, so it ends in RecursionError
        "def deep(n):\n    return deep(n + 1) + 1\n",
        # C-level (repr calls repr): this one exhausts the C stack
        "class Loop:\n    def __repr__(self):\n        return repr(self)\n"
        "def deep(n):\n    return repr(Loop())\n",
    ],
    ids=["python-recursion", "c-recursion"],
)
def test_unbounded_recursion_is_reported_truthfully(body):
    limits = Limits(wall_seconds=8.0, cpu_seconds=10)
    # 200,000 frames: far past the default 1,000 and past what fits a C stack, at a fifth of a million's CPU
    source = hostile("import sys\nsys.setrecursionlimit(2 * 10**5)\n" + body + "def softmax(x):\n    return deep(0)\n")
    run = timed_run(source, [Call((1,))], limits=limits)
    outcome = run.outcomes[0]
    if run.termination is Termination.COMPLETED:
        assert outcome.status is CallStatus.RAISED
        assert outcome.error.startswith("RecursionError: maximum recursion depth exceeded")
        assert len(outcome.error) < 7000  # 200,000 frames, summarised
    else:  # on a busy machine 200,000 frames may take longer than the wall limit: that is true too
        assert run.termination in (Termination.KILLED, Termination.MEMORY, Termination.TIMEOUT), run.termination_detail
        assert run.termination_detail.startswith(("killed by signal SIGSEGV", "memory limit", "stopped after 8.0 s"))
        assert outcome.status is CallStatus.NOT_RUN
    assert_no_survivors(run)


def test_a_non_daemon_thread_does_not_hold_the_run_open():
    source = hostile(
        "import threading, time, numpy as np\n"
        "threading.Thread(target=lambda: time.sleep(1000)).start()\n"
        "def spin():\n    while True:\n        pass\n"
        "threading.Thread(target=spin).start()\n"
        "def softmax(x, axis=-1):\n    return np.asarray(x) * 2\n"
    )
    started = time.monotonic()
    run = timed_run(source, [Call((np.arange(3.0),))])
    assert time.monotonic() - started < FAST.wall_seconds  # a hang guard: the threads did not hold it to the deadline
    assert run.termination is Termination.COMPLETED
    np.testing.assert_array_equal(run.outcomes[0].value, [0, 2, 4])
    assert_no_survivors(run)


DAEMON = '''
import os, sys, time, numpy as np
MARKER = "{marker}"
first = os.fork()
if first == 0:
    os.setsid()
    if os.fork() == 0:
        try:
            _identify("daemon")  # exec keeps the pid
            # the interpreter is all the sandbox has to exec (its real path: no venv in the view)
            python = os.path.realpath(sys.executable)
            os.execv(python, [python, "-S", "-c", "import time; time.sleep(1000)", MARKER])
        finally:
            os._exit(0)  # never fall back into the sandbox's own code in a forked copy
    os._exit(0)
os.waitpid(first, 0)

def daemon_alive():
    for name in os.listdir("/proc"):
        try:
            if name.isdigit() and MARKER.encode() in open(f"/proc/{{name}}/cmdline", "rb").read():
                return True
        except OSError:
            pass
    return False

def softmax(x, axis=-1):
    for _ in range(100):
        if daemon_alive():
            return np.array(1.0)
        time.sleep(0.01)
    return np.array(0.0)
'''


def _daemon_source() -> tuple[str, str]:
    marker = f"course-sandbox-daemon-{uuid.uuid4().hex}"
    return hostile(DAEMON.format(marker=marker)), marker


def test_detached_grandchild_is_killed(namespaces):
    source, marker = _daemon_source()
    run = timed_run(source, [Call((1,))])
    assert run.outcomes[0].status is CallStatus.OK
    assert float(run.outcomes[0].value) == 1.0  # the daemon really ran during the call
    assert run.stdout.count("SANDBOX-IDENT") == 2
    assert_no_survivors(run, marker)


def test_writing_outside_its_folder_leaves_nothing(namespaces, tmp_path):
    name = f"course-sandbox-write-{uuid.uuid4().hex}"
    targets = [Path("/tmp") / name, Path("/var/tmp") / name, Path("/dev/shm") / name,
               Path.cwd() / name, Path.home() / name, tmp_path / name, REPO / name]
    source = hostile(
        "import os, numpy as np\n"
        f"TARGETS = {[str(t) for t in targets]!r} + [os.path.join(os.getcwd(), {name!r})]\n"
        "def softmax(x, axis=-1):\n"
        "    wrote = []\n"
        "    for path in TARGETS:\n"
        "        try:\n"
        "            with open(path, 'w') as f:\n"
        "                f.write('owned')\n"
        "            wrote.append(1.0)\n"
        "        except OSError:\n"
        "            wrote.append(0.0)\n"
        "    return np.array(wrote)\n"
    )
    run = timed_run(source, [Call((1,))])
    assert run.outcomes[0].status is CallStatus.OK
    assert run.outcomes[0].value[-1] == 1.0  # its own folder is writable
    for target in targets:
        assert not target.exists(), f"{target} was written"
    assert_no_survivors(run)


# --------------------------------------------------------------------------- isolation modes


def test_isolation_as_probed(namespaces):
    assert namespaces.namespaces
    assert namespaces.level in ("root", "userns")
    assert "no network" in namespaces.detail and "own PID, IPC and UTS namespaces" in namespaces.detail
    assert probe.probe() is probe.probe()  # probed once per process: asking again does not probe again
    assert sandbox.isolation_available() == namespaces  # (how cheap that is: bench/sandbox_start.py)


def test_inside_the_namespace(namespaces):
    """The child runs without privileges, without network, in a read-only file system."""
    source = (
        "import os, socket, numpy as np\n"
        "def f(x):\n"
        "    status = dict(line.split(':', 1) for line in open('/proc/self/status') if ':' in line)\n"
        "    caps = sum(int(status[k].strip(), 16) for k in ('CapInh', 'CapPrm', 'CapEff', 'CapBnd', 'CapAmb'))\n"
        "    try:\n"
        "        socket.create_connection(('1.1.1.1', 53), timeout=1).close()\n"
        "        network = 1\n"
        "    except OSError:\n"
        "        network = 0\n"
        "    try:\n"
        "        open('/usr/course-sandbox-probe', 'w')\n"
        "        writable_usr = 1\n"
        "    except OSError:\n"
        "        writable_usr = 0\n"
        "    return np.array([caps, int(status['NoNewPrivs']), network, writable_usr, os.getpid(),\n"
        "                     len(os.listdir('/proc')) > 0, sorted(os.environ) == sorted(ENV)])\n"
        "ENV = ['PATH', 'HOME', 'TMPDIR', 'LANG', 'OPENBLAS_NUM_THREADS', 'OMP_NUM_THREADS',\n"
        "       'MKL_NUM_THREADS', 'PYTHONDONTWRITEBYTECODE']\n"
    )
    run = timed_run(source, [Call((1,))], function="f")
    caps, no_new_privs, network, writable_usr, pid, _, env_ok = run.outcomes[0].value
    assert (caps, no_new_privs, network, writable_usr) == (0, 1, 0, 0)
    assert pid == 2  # PID 1 is the sandbox's own init
    extra = {"OPENBLAS_CORETYPE", "OPENBLAS_L2_SIZE"} & set(os.environ)
    assert env_ok or extra


def test_fallback_without_namespaces_still_grades_and_says_so(fallback):
    isolation = sandbox.isolation_available()
    assert not isolation.namespaces
    assert "limited" in isolation.detail and "COURSE_SANDBOX_NAMESPACES=0" in isolation.detail
    x = sample()
    run = timed_run(SOFTMAX, [Call((x,))])
    np.testing.assert_allclose(run.outcomes[0].value, reference_softmax(x))
    assert run.isolation == isolation
    with pytest.raises(SandboxUnavailable):
        sandbox.start(SOFTMAX, filename="softmax.py", function="softmax", strict=True)


def test_fallback_timeout_kills_a_detached_grandchild(fallback):
    source, marker = _daemon_source()
    source = source.replace("def softmax(x, axis=-1):\n", "def softmax(x, axis=-1):\n    if x == 1:\n        time.sleep(3600)\n")
    run = timed_run(source, [Call((0,)), Call((1,))])
    assert float(run.outcomes[0].value) == 1.0
    assert run.termination is Termination.TIMEOUT
    assert not run.isolation.namespaces
    assert_no_survivors(run, marker)


def test_fallback_working_folder_is_fresh_and_removed(fallback):
    source = "import os, numpy as np\ndef f(x):\n    open('left-behind', 'w').write('x')\n    print(os.getcwd() == os.environ['HOME'], os.listdir('.'))\n    return np.array(1)\n"
    run = timed_run(source, [Call((1,))], function="f")
    assert run.stdout.startswith("True ['left-behind']")
    folders = [p for p in Path(tempfile.gettempdir()).glob("course-sandbox-*")
               if (p / "left-behind").exists()]
    assert folders == []


UNPRIVILEGED_SCRIPT = r'''
import json, sys
sys.path.insert(0, sys.argv[1])
import numpy as np
from course.grading import sandbox
isolation = sandbox.isolation_available()
if not isolation.namespaces:
    print(json.dumps({"skip": isolation.detail}))
    sys.exit(0)
source = """
import os, numpy as np
def softmax(x, axis=-1):
    status = dict(line.split(':', 1) for line in open('/proc/self/status') if ':' in line)
    caps = sum(int(status[k].strip(), 16) for k in ('CapInh', 'CapPrm', 'CapEff', 'CapBnd', 'CapAmb'))
    e = np.exp(x - x.max(axis=axis, keepdims=True))
    hidden = os.path.exists(%r)
    return np.concatenate([(e / e.sum(axis=axis, keepdims=True)).ravel(), [caps, hidden]])
""" % (sys.argv[1] + "/course/grading/sandbox/session.py",)
x = np.arange(6.0).reshape(2, 3)
run = sandbox.run(source, filename="softmax.py", function="softmax", calls=[sandbox.Call((x,))])
print(json.dumps({"detail": run.isolation.detail, "termination": run.termination.name,
                  "value": run.outcomes[0].value.tolist(), "error": run.outcomes[0].error}))
'''


def test_unprivileged_user_gets_a_user_namespace():
    """Run the grader itself as user nobody, so the sandbox must use `unshare --user`.

    The Python in use may live under a folder nobody cannot enter (here: /root); a
    private mount namespace of the test (not of the sandbox) makes just that
    installation reachable, without changing anything on the machine.
    """
    if os.geteuid() != 0:
        pytest.skip("not root: every other test already runs the unprivileged path")
    if not (shutil.which("setpriv") and shutil.which("unshare")):
        pytest.skip("setpriv or unshare missing")
    command = _as_nobody_command([sys.executable, "-c", UNPRIVILEGED_SCRIPT, str(REPO)])
    result = subprocess.run(command, capture_output=True, text=True, timeout=60)
    if result.returncode != 0 or not result.stdout.strip():
        pytest.skip(f"could not run Python as nobody here: {result.stderr.strip()[-300:]}")
    report = json.loads(result.stdout.strip().splitlines()[-1])
    if "skip" in report:
        pytest.skip(f"the kernel refuses unprivileged namespaces: {report['skip']}")
    assert report["termination"] == "COMPLETED", report
    assert "user namespace of its own" in report["detail"] and "no network" in report["detail"]
    value = np.array(report["value"])
    np.testing.assert_allclose(value[:6], reference_softmax(np.arange(6.0).reshape(2, 3)).ravel())
    assert value[6:].tolist() == [0, 0]  # no capabilities; course package invisible


def _as_nobody_command(argv: list[str]) -> list[str]:
    """setpriv to nobody, inside a private mount namespace where the Python install is reachable."""
    blocked = _blocked_ancestors(os.path.realpath(sys.base_prefix))
    steps = ["set -e"]
    if blocked:
        prefix = os.path.realpath(sys.base_prefix)
        steps += [
            "stage=$(mktemp -d)",
            f"mount --bind '{prefix}' \"$stage\"",
            f"mount -t tmpfs -o mode=755 test-cover '{blocked}'",
            f"mkdir -p '{prefix}'",
            f"mount --bind \"$stage\" '{prefix}'",
        ]
    quoted = " ".join(shlex.quote(a) for a in argv)
    steps.append("exec setpriv --reuid=65534 --regid=65534 --clear-groups "
                 f"env -i PATH=/usr/bin:/bin HOME=/ LANG=C.UTF-8 {quoted}")
    return ["unshare", "--mount", "--propagation", "private", "--", "sh", "-c", "\n".join(steps)]


def _blocked_ancestors(path: str) -> str | None:
    """The outermost ancestor of `path` that others may not enter, if any."""
    parts = Path(path).parts
    for i in range(2, len(parts)):
        ancestor = Path(*parts[:i])
        if not os.stat(ancestor).st_mode & 0o001:
            return str(ancestor)
    return None


# --------------------------------------------------------------------------- wire format checks


def _frame(header: dict, payload: bytes = b"") -> bytes:
    body = json.dumps(header).encode()
    return len(body).to_bytes(4, "big") + body + payload


@pytest.mark.parametrize(
    "spec",
    [
        {"dtype": "|O8", "shape": [1], "nbytes": 8},
        {"dtype": "|V8", "shape": [1], "nbytes": 8},
        {"dtype": "<U2", "shape": [1], "nbytes": 8},
        {"dtype": "<M8", "shape": [1], "nbytes": 8},
        {"dtype": "<f8", "shape": [2], "nbytes": 8},
        {"dtype": "<f8", "shape": [-1], "nbytes": 8},
        {"dtype": "<f8", "shape": [1] * 33, "nbytes": 8},
        {"dtype": "<f8", "shape": [True], "nbytes": 8},
        {"dtype": "<f8", "shape": [1], "nbytes": 8, "extra": 1},
        {"dtype": [["a", "<f8"]], "shape": [1], "nbytes": 8},
    ],
)
def test_reader_rejects_dishonest_array_descriptions(spec):
    reader = FrameReader(MAX_CHILD_HEADER_BYTES, 1 << 20)
    with pytest.raises(ProtocolError):
        reader.feed(_frame({"type": "result", "arrays": [spec]}, b"\0" * 8))


def test_reader_bounds_headers_and_payloads():
    with pytest.raises(ProtocolError):
        FrameReader(MAX_CHILD_HEADER_BYTES, 1 << 20).feed((1 << 20).to_bytes(4, "big"))
    with pytest.raises(ProtocolError):
        FrameReader(MAX_CHILD_HEADER_BYTES, 1 << 20).feed(
            _frame({"type": "r", "arrays": [{"dtype": "<f8", "shape": [1 << 18], "nbytes": 1 << 21}]}))
    with pytest.raises(ProtocolError):
        FrameReader(MAX_CHILD_HEADER_BYTES, 1 << 20).feed(_frame({"no": "type"}))
    with pytest.raises(ProtocolError):
        nested = ("[" * 100_000).encode()
        FrameReader(1 << 20, 1 << 20).feed(len(nested).to_bytes(4, "big") + nested)


def test_reader_rebuilds_arrays_in_pieces():
    arrays = [np.arange(6, dtype=">i4").reshape(2, 3), np.array(True), np.zeros((0, 4)),
              np.array([1 + 2j], dtype=np.complex64)]
    data = b"".join(encode_frame({"type": "result"}, arrays))
    reader = FrameReader(MAX_CHILD_HEADER_BYTES, 1 << 20)
    frames = []
    for i in range(0, len(data), 7):  # as a pipe might deliver it
        frames += reader.feed(data[i : i + 7])
    (header, rebuilt), = frames
    assert header["type"] == "result"
    for original, copy in zip(arrays, rebuilt):
        assert copy.dtype == original.dtype and copy.shape == original.shape
        np.testing.assert_array_equal(copy, original)
        assert copy.flags.writeable
