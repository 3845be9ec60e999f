"""The grader's side of the result channel: what the child sent, checked frame by frame.

The child speaks first ("hello": the jail is up and numpy imported; nothing of the
student's has run), then "loaded" or "load_error", then one "result" per call in
order, then "done"; the sandbox's init adds "exit" with the worker's wait status. A
frame out of that order, or one that does not match the call it answers, is a
ProtocolError: the submission wrote to the channel itself. Every text field is
untrusted and cleaned here, at the boundary (course.untrusted).

`StopReason` says why the grader stopped reading; session.py turns it, with the wait
status, into the run's Termination.
"""
from __future__ import annotations

import enum
from dataclasses import dataclass, field
from typing import Any

from course import untrusted
from course.grading.sandbox.processes import valid_wait_status
from course.grading.sandbox.records import Call, CallOutcome, CallStatus
from course.grading.sandbox.wire import ProtocolError

__all__ = ["Capture", "ResultChannel", "StopReason"]


class StopReason(enum.Enum):
    """Why the grader stopped moving bytes."""

    FINISHED = "finished"  # everything it needed arrived
    EOF = "eof"  # the result channel closed (or the init reported the worker's end) early
    TIMEOUT = "timeout"  # the wall-clock limit passed
    OUTPUT = "output"  # the submission printed more than the output cap
    PROTOCOL = "protocol"  # a malformed or out-of-place frame


class Capture:
    """First `limit` bytes of a stream; the rest is counted and dropped."""

    def __init__(self, limit: int) -> None:
        self.limit = limit
        self.kept = bytearray()
        self.dropped = 0

    def feed(self, data: bytes) -> None:
        room = self.limit - len(self.kept)
        self.kept += data[:room] if room > 0 else b""
        self.dropped += max(0, len(data) - max(room, 0))

    @property
    def total(self) -> int:
        return len(self.kept) + self.dropped

    def text(self) -> str:
        text = untrusted.clean(bytes(self.kept))
        if self.dropped:
            text += f"\n... [{self.dropped} more bytes dropped]"
        return text


@dataclass
class ResultChannel:
    """What the grader has learnt from the result channel so far."""

    calls: tuple[Call, ...]
    hello: dict | None = None
    loaded: bool | None = None
    load_error: str | None = None
    outcomes: list[CallOutcome] = field(default_factory=list)
    protocol_error: str | None = None
    memory_error: bool = False
    exited: bool = False  # the namespace's init reported the worker's end
    exit_status: int | None = None  # its wait status, as os.waitpid gives it

    @property
    def finished(self) -> bool:
        """Everything the grader needs has arrived (the "done" frame is a courtesy)."""
        if self.loaded is False:
            return True
        return self.loaded is True and len(self.outcomes) == len(self.calls)

    def accept(self, header: dict, arrays: list) -> None:
        """Check one frame against the expected sequence; ProtocolError if out of place.

        Anything unexpected inside a frame (a wrong type, a missing field) is a
        ProtocolError too, never an exception of another kind.
        """
        try:
            self._accept(header, arrays)
        except ProtocolError:
            raise
        except Exception as error:  # a forged frame must never become a traceback
            raise ProtocolError(f"malformed {untrusted.clean(repr(header.get('type')))[:40]} frame "
                                f"({type(error).__name__})") from None

    def _accept(self, header: dict, arrays: list) -> None:
        kind = header["type"]
        if self.finished or self.exited:
            return  # all we need is in; anything more (forged or not) is ignored
        if kind == "exit":
            status = header.get("status")
            if status is not None and not valid_wait_status(status):
                raise ProtocolError("the exit report holds no valid wait status")
            self.exited, self.exit_status = True, status
        elif self.hello is None:
            if kind != "hello":
                raise ProtocolError(f"expected 'hello', got {untrusted.clean(kind)[:40]!r}")
            self.hello = header
        elif self.loaded is None and kind == "loaded":
            self.loaded = True
        elif self.loaded is None and kind == "load_error":
            self.loaded = False
            self.load_error = _text_field(header, "error")
            self.memory_error |= self.load_error.startswith("MemoryError")
        elif self.loaded and kind == "result":
            self.outcomes.append(self._outcome(header, arrays))
        else:
            raise ProtocolError(f"unexpected {untrusted.clean(kind)[:40]!r} message")

    def _outcome(self, header: dict, arrays: list) -> CallOutcome:
        index = len(self.outcomes)
        if header.get("index") != index:
            raise ProtocolError(f"a result for another call where call {index} was due")
        status = header.get("status")
        slots = header.get("args_after")
        n_args = len(self.calls[index].args)
        if not isinstance(slots, list) or len(slots) != n_args:
            raise ProtocolError("'args_after' does not match the call's arguments")
        args_after = tuple(_slot(arrays, s, allow_none=True) for s in slots)
        named = header.get("kwargs_after", {})
        if not isinstance(named, dict) or not set(named) <= set(self.calls[index].kwargs):
            raise ProtocolError("'kwargs_after' does not match the call's keyword arguments")
        kwargs_after = {str(k): _slot(arrays, s) for k, s in named.items()}
        if status == "ok":
            if header.get("error") is not None:
                raise ProtocolError("an 'ok' result with an error")
            return CallOutcome(CallStatus.OK, _slot(arrays, header.get("value")), None, args_after, kwargs_after)
        if status in ("raised", "bad_return"):
            if header.get("value") is not None:
                raise ProtocolError(f"a {status!r} result with a value")
            error = _text_field(header, "error")
            if status == "raised" and error.startswith("MemoryError"):
                self.memory_error = True
            call_status = CallStatus.RAISED if status == "raised" else CallStatus.BAD_RETURN
            return CallOutcome(call_status, None, error, args_after, kwargs_after)
        raise ProtocolError("a result with an unknown status")


def _text_field(header: dict, name: str) -> str:
    value = header.get(name)
    if not isinstance(value, str):
        raise ProtocolError(f"field {name!r} is not a string")
    return untrusted.clean(value)


def _slot(arrays: list, slot: object, allow_none: bool = False) -> Any:
    if slot is None and allow_none:
        return None
    if type(slot) is not int or not 0 <= slot < len(arrays):
        raise ProtocolError("an array reference is out of range")
    return arrays[slot]
