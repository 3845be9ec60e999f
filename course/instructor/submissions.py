"""Reading a student's submitted file for `course grade`, safely, in the parent.

The parent reads each file itself (a regular file inside the student's folder, at most
MAX_SOURCE_BYTES, decoded as Python would), so a symlink to a reference, a FIFO, a
folder or a huge file never reaches a grader. A file that cannot be read is not an
error here: it is a SourceFile with the `problem`, which the batch scores 0 with that
reason.
"""
from __future__ import annotations

import io
import os
import stat
import tokenize
from dataclasses import dataclass
from pathlib import Path

MAX_SOURCE_BYTES = 1 << 20  # a submission is a small Python file; more is refused unread
NOT_SUBMITTED = "not submitted"


@dataclass(frozen=True)
class SourceFile:
    """A student's file as the parent read it: `source` to grade, or `problem` (why not)."""

    source: str | None
    problem: str
    fingerprint: bytes  # what the student's digest covers: the bytes, or the problem


def read_source(path: Path, folder: Path) -> SourceFile:
    """The file at `path`, if it is a regular file inside `folder` that Python can decode.

    The parent never follows a link out of the student's folder (a link to a reference
    solution or another student's file would otherwise be graded as theirs), never opens
    a FIFO or device for reading, and reads at most MAX_SOURCE_BYTES.
    """
    try:
        info = os.lstat(path)
    except FileNotFoundError:
        return SourceFile(None, NOT_SUBMITTED, b"missing")
    except OSError as error:
        return _refused(f"cannot be read: {error.strerror}")
    if stat.S_ISLNK(info.st_mode):
        target = Path(os.path.realpath(path))
        if not target.is_relative_to(os.path.realpath(folder)):
            return _refused("is a symbolic link to a file outside the student's folder")
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
        fd = os.open(path, os.O_RDONLY | getattr(os, "O_NONBLOCK", 0))
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
    except (SyntaxError, UnicodeDecodeError, LookupError) as error:
        return SourceFile(None, _undecodable(data, error), data)


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
    return f"cannot be decoded as Python source: {reason}"


def decode_source(data: bytes) -> str:
    """Text as Python reads a source file: UTF-8, or the encoding its coding line names."""
    encoding, _ = tokenize.detect_encoding(io.BytesIO(data).readline)
    text = data.decode(encoding)
    return text[1:] if text.startswith("\ufeff") else text
