"""Run an untrusted submission in a sandbox; get back only raw arrays.

This is the grader's (trusted) side of the trust boundary described in DESIGN.md: the
submission runs in separate, limited processes that import it, call it on the inputs
they are sent and stream back, over a pipe that is not stdout, a small JSON header and
the raw bytes of each result. The grader only ever rebuilds arrays with np.frombuffer
after checking dtype and size; it never unpickles, evaluates or imports anything the
child sends, never trusts its exit code or printed text, and makes every comparison
itself (course.grading.compare).

Where each part lives:

    records.py     what callers send and get back: Limits, Call, CallOutcome, SandboxRun, ...
    probe.py       which isolation this machine gives (root / user namespaces / none)
    slots.py       a uid of its own for each concurrent sandbox (as root)
    cgroups.py     memory and process caps for each sandbox as a whole
    program.py     the child program and its first frame
    session.py     one sandbox from start to clean-up (SandboxSession)
    template.py    the warm template that forks sandboxes with numpy already imported
    channel.py     the result channel, checked frame by frame, and why reading stopped
    processes.py   killing, finding and describing processes
    wire.py        the frame format (both sides)
    values.py      argument encoding and return-value conversion (both sides)
    jail.py, calls.py, child_main.py   the child itself

Typical use, overlapping the child's start-up with the grader's own work:

    with start(source, filename="softmax.py", function="softmax") as session:
        inputs = ...; expected = ...          # meanwhile the child imports numpy
        result = session.run([Call((x,)) for x in inputs])

docs/sandbox.md lists what the sandbox guarantees at each isolation level.
"""
from __future__ import annotations

from collections.abc import Sequence

from course.grading.results import Isolation
from course.grading.sandbox.probe import NAMESPACES_ENV
from course.grading.sandbox.records import (
    HIDDEN_TERMINATION,
    Call,
    CallOutcome,
    CallStatus,
    Limits,
    SandboxError,
    SandboxRun,
    SandboxUnavailable,
    Termination,
)
from course.grading.sandbox.session import SandboxSession

__all__ = [
    "HIDDEN_TERMINATION", "NAMESPACES_ENV", "Call", "CallOutcome", "CallStatus", "Isolation", "Limits",
    "SandboxError", "SandboxRun", "SandboxSession", "SandboxUnavailable", "Termination",
    "expect_many_sessions", "isolation_available", "run", "start",
]


def expect_many_sessions() -> None:
    """This process will grade many submissions: its sandboxes fork from a warm template from the
    first on (template.expect_many_sessions). Where there are no namespaces, nothing changes."""
    from course.grading.sandbox import template

    template.expect_many_sessions()


def isolation_available() -> Isolation:
    """What isolation runs get on this machine (probed once per process and boot)."""
    from course.grading.sandbox import probe

    found = probe.probe()
    return probe.isolation(found.mode, found.reason)


def start(source: str, *, filename: str, function: str, limits: Limits = Limits(),
          strict: bool = False, template=None, cold: bool = False, modules: dict[str, str] | None = None,
          allowed: Sequence[str] = ()) -> SandboxSession:
    """Start the child now: it imports numpy and the submission while the caller works.

    strict: raise SandboxUnavailable instead of running without namespaces.
    template: a WarmTemplate (template.py) to fork the sandbox from, with numpy already
    imported; as isolated as a cold start, and much faster to start. By default, where
    namespaces are, the process's shared template (template.shared()).
    cold: start a new interpreter for this one instead (what COURSE_SANDBOX_WARM=0 does
    for every session of the process).
    modules: other files of the student's that the submission may import, name -> source;
    allowed: every name the exercise lets it import (a missing file is then named as such).
    """
    return SandboxSession(source, filename=filename, function=function, limits=limits, strict=strict,
                          template=template, cold=cold, modules=modules, allowed=allowed)


def run(source: str, *, filename: str, function: str, calls: Sequence[Call],
        limits: Limits = Limits(), strict: bool = False, modules: dict[str, str] | None = None,
        allowed: Sequence[str] = ()) -> SandboxRun:
    """start() + run() + close(). Raises SandboxError when the sandbox could not start."""
    with start(source, filename=filename, function=function, limits=limits, strict=strict,
               modules=modules, allowed=allowed) as session:
        return session.run(calls)
