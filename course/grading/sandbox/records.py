"""The sandbox's public records: what a caller sends (Limits, Call) and gets back.

No numpy at import time: reports and batch grading hold these without the grader's
imports.
"""
from __future__ import annotations

import enum
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from course.grading.results import Isolation

if TYPE_CHECKING:  # pragma: no cover
    import numpy as np

__all__ = ["Call", "CallOutcome", "CallStatus", "Isolation", "Limits", "SandboxError",
           "SandboxRun", "SandboxUnavailable", "Termination"]


@dataclass(frozen=True)
class Limits:
    """Resource limits of one sandbox. wall_seconds counts from SandboxSession.run().

    memory_bytes and processes cap the whole sandbox (all its processes together) where
    the machine has cgroups for it; memory_bytes is also every process's address-space
    limit, so without cgroups it is per process (the isolation note says which).
    """

    wall_seconds: float = 10.0
    cpu_seconds: int = 10
    memory_bytes: int = 1 << 30  # numpy + OpenBLAS (1 thread) need ~256 MB of address space
    file_bytes: int = 16 << 20  # RLIMIT_FSIZE, also sizes the private /tmp
    output_bytes: int = 64 << 10  # kept of stdout and of stderr; the rest is drained, dropped
    result_bytes: int = 64 << 20  # all arrays on the result channel together
    processes: int = 64  # processes and threads of the sandbox together


@dataclass(frozen=True)
class Call:
    """One call of the student's function.

    Values: np.ndarray (numeric or bool), numpy scalars, None, bool, int, float, str,
    and tuples / lists / dicts (str keys) of these.

    hidden: the call's inputs must not reach the submission before every earlier call
    has returned, and nothing the submission does afterwards may be shown in detail
    (see SandboxRun.hidden_started).
    """

    args: tuple = ()
    kwargs: Mapping[str, object] = field(default_factory=dict)
    hidden: bool = False


class CallStatus(str, enum.Enum):
    """How one call ended, as the grader saw it."""

    OK = "ok"  # it returned a numeric array (or a number)
    RAISED = "raised"  # it raised an exception (SystemExit and KeyboardInterrupt included)
    BAD_RETURN = "bad_return"  # it returned something that is not a numeric array
    NOT_RUN = "not_run"  # it never ran, or never returned (time limit, crash, ...)

    def __str__(self) -> str:
        return self.value


@dataclass(frozen=True)
class CallOutcome:
    status: CallStatus
    value: "np.ndarray | None"
    error: str | None
    args_after: tuple[Any, ...]
    # keyword array arguments after the call (e.g. a mask), by name; absent when not arrays
    kwargs_after: Mapping[str, Any] = field(default_factory=dict)


class Termination(str, enum.Enum):
    """How the sandbox's run ended."""

    COMPLETED = "completed"
    TIMEOUT = "timeout"
    CPU_LIMIT = "cpu_limit"
    MEMORY = "memory"
    KILLED = "killed"  # by a signal the sandbox did not send (segfault, abort, ...)
    EXITED_EARLY = "exited_early"
    OUTPUT_LIMIT = "output_limit"
    PROTOCOL_ERROR = "protocol_error"

    def __str__(self) -> str:
        return self.value


# What is said about a run that ended early once hidden inputs had been sent: the
# detail (a signal number, an exit status, a malformed frame's content) is chosen by
# the submission and could carry what it read, so only the kind is named.
HIDDEN_TERMINATION = {
    Termination.COMPLETED: "completed",
    Termination.TIMEOUT: "stopped at the time limit",
    Termination.CPU_LIMIT: "stopped at the CPU limit",
    Termination.MEMORY: "stopped at the memory limit",
    Termination.KILLED: "killed by a signal",
    Termination.EXITED_EARLY: "exited before returning every result",
    Termination.OUTPUT_LIMIT: "stopped for printing too much",
    Termination.PROTOCOL_ERROR: "sent malformed data on the result channel",
}


@dataclass(frozen=True)
class SandboxRun:
    loaded: bool
    load_error: str | None
    outcomes: tuple[CallOutcome, ...]
    termination: Termination
    termination_detail: str
    stdout: str
    stderr: str
    isolation: Isolation
    seconds: float
    hidden_started: bool = False  # inputs of a hidden call reached the submission
    attempts: int = 1  # sandboxes started for this run (more when a start failed and was retried)


class SandboxUnavailable(Exception):
    """strict=True, and this machine cannot give the child namespaces."""


class SandboxError(RuntimeError):
    """The sandbox itself failed, not the submission: it could not start after retries.

    A grade must never come from this: callers report "could not grade".
    """
