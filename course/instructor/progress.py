"""What `course grade` is doing right now, for an honest progress display.

A bar that counts finished students says nothing while a worker waits out a hung
submission's time limit: its estimate even drops to 00:00:00 with one student left.
The Tracker counts files as well as students and knows which files are being graded
and since when (the executors call begin/end), so the display can say "waiting on
mallory/softmax.py: 7 s of its 10 s limit" instead of pretending to be nearly done.

grade_class updates it from its own thread; the display reads snapshots from another
(course/commands/instructor.py), so every access holds the lock.
"""
from __future__ import annotations

import threading
import time
from dataclasses import dataclass
from typing import Hashable, Mapping

SLOW_SECONDS = 2.0  # a file graded for longer than this is named in the display


@dataclass(frozen=True)
class Running:
    label: str  # "mallory/softmax.py"
    seconds: float  # being graded for this long
    limit: float  # the exercise's wall-clock limit


@dataclass(frozen=True)
class Snapshot:
    students_done: int
    students_total: int
    files_done: int
    files_total: int
    elapsed: float
    running: tuple[Running, ...]  # longest first

    def remaining(self) -> float | None:
        """Seconds left at the rate so far; None before the first file is done. At least the
        time the slowest running file may still take, up to its limit (it may hang)."""
        if self.files_done == 0 or self.files_total <= self.files_done:
            return None if self.files_total > self.files_done else 0.0
        estimate = self.elapsed / self.files_done * (self.files_total - self.files_done)
        waiting = max((r.limit - r.seconds for r in self.running), default=0.0)
        return max(estimate, waiting, 0.0)

    def line(self) -> str:
        """'12/40 students, 57/200 files, 0:31 elapsed, about 1:20 left; waiting on
        mallory/softmax.py: 7 s of its 10 s limit'."""
        parts = [f"{self.students_done}/{self.students_total} students",
                 f"{self.files_done}/{self.files_total} files", f"{_clock(self.elapsed)} elapsed"]
        left = self.remaining()
        if left is None:
            parts.append("estimating the time left")
        elif self.files_done < self.files_total:
            parts.append(f"about {_clock(left)} left")
        text = ", ".join(parts)
        slow = [r for r in self.running if r.seconds >= SLOW_SECONDS]
        if slow:
            first = slow[0]
            text += f"; waiting on {first.label}: {first.seconds:.0f} s of its {first.limit:g} s limit"
            if len(slow) > 1:
                text += f" (+{len(slow) - 1} more)"
        return text


def _clock(seconds: float) -> str:
    seconds = int(round(seconds))
    hours, rest = divmod(seconds, 3600)
    return f"{hours}:{rest // 60:02d}:{rest % 60:02d}" if hours else f"{rest // 60}:{rest % 60:02d}"


class Tracker:
    """Counts and the files being graded; `labels` maps a task key to (label, time limit)."""

    def __init__(self, students_total: int = 0, files_total: int = 0,
                 labels: Mapping[Hashable, tuple[str, float]] | None = None):
        self._lock = threading.Lock()
        self.started = time.monotonic()
        self.students_total, self.files_total = students_total, files_total
        self.students_done = self.files_done = 0
        self._labels = dict(labels or {})
        self._running: dict[Hashable, float] = {}

    def plan(self, students_total: int, labels: Mapping[Hashable, tuple[str, float]], files_total: int) -> None:
        with self._lock:
            self.students_total, self.files_total = students_total, files_total
            self._labels.update(labels)

    def begin(self, key: Hashable) -> None:
        """An executor started grading this task now."""
        with self._lock:
            self._running.setdefault(key, time.monotonic())

    def end(self, key: Hashable) -> None:
        with self._lock:
            self._running.pop(key, None)

    def file_done(self, count: int = 1) -> None:
        with self._lock:
            self.files_done += count

    def student_done(self) -> None:
        with self._lock:
            self.students_done += 1

    def snapshot(self) -> Snapshot:
        now = time.monotonic()
        with self._lock:
            running = []
            for key, since in self._running.items():
                label, limit = self._labels.get(key, (str(key), 0.0))
                running.append(Running(label, now - since, limit))
            running.sort(key=lambda r: -r.seconds)
            return Snapshot(self.students_done, self.students_total, self.files_done, self.files_total,
                            now - self.started, tuple(running))
