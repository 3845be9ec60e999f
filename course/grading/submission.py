"""Reading a submitted file: one way, for `course check`, `course grade` and `course.check()`.

The grader reads the file itself, in its own process, before anything runs, with the
same rules everywhere:

- a regular file: not a folder, a FIFO or a device (never opened for reading);
- a symbolic link only to a file in the same folder as the link (a link to a reference
  solution, to /etc/shadow or to a classmate's file is refused, unread);
- at most MAX_SOURCE_BYTES (a bigger file is refused before it is read);
- decoded as Python decodes source: UTF-8, or the encoding a coding line declares; a
  coding line naming an unknown codec, bytes that do not decode, or a codec that fails
  in any other way (UnicodeError, LookupError, SyntaxError) is a refusal with a clear
  reason.

`read_source` never raises: it returns the problem, which `course grade` turns into that
student's result. `read_submission` raises SubmissionRefused (exit 2) for `course check`
and the notebook API. Names in problems are cleaned (course.untrusted).
"""
from __future__ import annotations

import io
import os
import stat
import tokenize
from dataclasses import dataclass
from pathlib import Path

from course import untrusted
from course.errors import UsageError

MAX_SOURCE_BYTES = 1 << 20  # a submission is a small Python file; more is refused unread
NOT_SUBMITTED = "not submitted"


class SubmissionRefused(UsageError):
    """The file cannot be graded as it is (its reason says why); exit code 2."""


@dataclass(frozen=True)
class SourceFile:
    """A student's file as the grader read it: `source` to grade, or `problem` (why not)."""

    source: str | None
    problem: str
    fingerprint: bytes  # what a student's digest covers: the bytes, or the problem


def read_source(path: Path, folder: Path | None = None) -> SourceFile:
    """The file at `path`, if it may be graded (see the module docstring); never raises.

    folder: where a symbolic link may point (default: the folder that holds `path`).
    """
    folder = Path(folder) if folder is not None else Path(path).parent
    try:
        info = os.lstat(path)
    except FileNotFoundError:
        return SourceFile(None, NOT_SUBMITTED, b"missing")
    except OSError as error:
        return _refused(f"cannot be read: {error.strerror}")
    if stat.S_ISLNK(info.st_mode):
        target = Path(os.path.realpath(path))
        if not target.is_relative_to(os.path.realpath(folder)):
            return _refused("is a symbolic link to a file outside its folder")
        try:
            info = os.stat(path)
        except OSError:
            return _refused("is a broken symbolic link")
    if stat.S_ISDIR(info.st_mode):
        return _refused("is a folder, not a Python file")
    if not stat.S_ISREG(info.st_mode):
        return _refused("is not a regular file")
    if info.st_size > MAX_SOURCE_BYTES:
        return _refused(f"is {info.st_size:,} bytes, more than the {MAX_SOURCE_BYTES:,} bytes a submission may have")
    try:
        fd = os.open(path, os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_CLOEXEC", 0))
        try:
            if not stat.S_ISREG(os.fstat(fd).st_mode):  # replaced since lstat
                return _refused("is not a regular file")
            data = _read_at_most(fd, MAX_SOURCE_BYTES + 1)
        finally:
            os.close(fd)
    except OSError as error:
        return _refused(f"cannot be read: {error.strerror}")
    if len(data) > MAX_SOURCE_BYTES:
        return _refused(f"is more than the {MAX_SOURCE_BYTES:,} bytes a submission may have")
    try:
        return SourceFile(decode_source(data), "", data)
    except SubmissionRefused as error:
        return SourceFile(None, str(error), data)


def read_submission(path: Path | str) -> str:
    """The text of a submission for `course check` / `course.check()`; SubmissionRefused if none."""
    path = Path(path)
    shown = untrusted.name(str(path))
    found = read_source(path)
    if found.source is not None:
        return found.source
    if found.problem == NOT_SUBMITTED:
        raise SubmissionRefused(f"file not found: {shown}")
    raise SubmissionRefused(f"cannot check {shown}: it {found.problem}")


def imported_sources(imports, folder: Path) -> dict[str, str]:
    """The student's own files an exercise lets its submission import (`imports`), read
    from `folder` with the same rules as the submission; a file that is missing or
    refused is left out (the import then fails in the sandbox, saying where it looked)."""
    found = {}
    for name in imports:
        read = read_source(Path(folder) / f"{name}.py", folder)
        if read.source is not None:
            found[name] = read.source
    return found


def check_source_text(source: str, what: str) -> str:
    """A source that did not come from a file (a notebook function): the same size cap."""
    if len(source.encode("utf-8", "surrogatepass")) > MAX_SOURCE_BYTES:
        raise SubmissionRefused(f"{what} is more than the {MAX_SOURCE_BYTES:,} bytes a submission may have")
    return source


def decode_source(data: bytes) -> str:
    """Text as Python reads a source file: UTF-8, or the encoding its coding line names.

    SubmissionRefused for anything that does not decode, whatever the codec raises.
    """
    try:
        encoding, _ = tokenize.detect_encoding(io.BytesIO(data).readline)
        text = data.decode(encoding)
    except (SyntaxError, UnicodeError, LookupError) as error:
        raise SubmissionRefused(_undecodable(data, error)) from None
    except Exception as error:  # a codec may raise anything; a refusal, never a traceback
        raise SubmissionRefused(f"cannot be decoded as Python source ({type(error).__name__})") from None
    return text[1:] if text.startswith("\ufeff") else text


def _refused(problem: str) -> SourceFile:
    return SourceFile(None, problem, problem.encode())


def _read_at_most(fd: int, limit: int) -> bytes:
    chunks, size = [], 0
    while size < limit:
        chunk = os.read(fd, min(1 << 16, limit - size))
        if not chunk:
            break
        chunks.append(chunk)
        size += len(chunk)
    return b"".join(chunks)


def _undecodable(data: bytes, error: Exception) -> str:
    try:
        data.decode("utf-8")
    except UnicodeDecodeError as bad:
        line = data[: bad.start].count(b"\n") + 1
        return (f"is not UTF-8 text (byte 0x{data[bad.start]:02x} on line {line}) and declares no other "
                f"encoding: save it as UTF-8")
    reason = error.msg if isinstance(error, SyntaxError) else str(error)
    return f"cannot be decoded as Python source: {untrusted.clean(reason)}"
