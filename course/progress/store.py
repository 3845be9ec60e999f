"""The progress store: one SQLite file under COURSE_HOME holding quiz attempts and
answers, exercise checks, hints shown and review boxes.

Why it is built this way:
- Every write is one short transaction started with BEGIN IMMEDIATE: the write
  lock is taken up front, so two terminals writing at once wait for each other
  (busy_timeout) instead of failing on a lock upgrade, and nothing is lost.
- WAL journal: readers never block the writer; a process killed with SIGKILL
  loses only a transaction that had not committed. The quiz writes each answer
  as it is given, so a kill loses at most the current question.
- `PRAGMA user_version` is the schema version; MIGRATIONS[i] moves a file from
  version i to i + 1, each in its own transaction. A file from a newer engine is
  refused rather than damaged.
- sqlite3 errors (a corrupt or unreadable file, a lock held too long) become a
  StoreError naming the file: a message, never a traceback.
"""
from __future__ import annotations

import functools
import json
import os
import sqlite3
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path
from typing import Callable, Iterator, Sequence

from course.errors import CourseError
from course.status import STORED, Status

FILE_NAME = "progress.sqlite3"
BUSY_TIMEOUT_MS = 15_000

# One entry per schema version; each is a list of statements run in one transaction.
MIGRATIONS: list[Sequence[str]] = [
    # 0 -> 1: the initial schema
    (
        """CREATE TABLE quiz_attempts (
            id INTEGER PRIMARY KEY AUTOINCREMENT,
            lesson TEXT NOT NULL,
            mode TEXT NOT NULL DEFAULT 'quiz' CHECK (mode IN ('quiz', 'review')),
            seed INTEGER NOT NULL,
            started_at TEXT NOT NULL,
            finished_at TEXT,
            score REAL,
            max_score REAL,
            status TEXT NOT NULL DEFAULT 'in_progress'
                CHECK (status IN ('in_progress', 'finished', 'abandoned')))""",
        "CREATE INDEX quiz_attempts_lesson ON quiz_attempts (lesson, mode, status)",
        """CREATE TABLE quiz_answers (
            attempt_id INTEGER NOT NULL REFERENCES quiz_attempts (id) ON DELETE CASCADE,
            question_id TEXT NOT NULL,
            answer_json TEXT NOT NULL,
            score REAL NOT NULL,
            max_score REAL NOT NULL,
            correct INTEGER NOT NULL,
            hinted INTEGER NOT NULL DEFAULT 0,
            answered_at TEXT NOT NULL,
            PRIMARY KEY (attempt_id, question_id))""",
        """CREATE TABLE exercise_checks (
            id INTEGER PRIMARY KEY AUTOINCREMENT,
            exercise TEXT NOT NULL,
            checked_at TEXT NOT NULL,
            status TEXT NOT NULL CHECK (status IN ('passed', 'failing', 'not_attempted', 'error')),
            score REAL NOT NULL,
            max_score REAL NOT NULL,
            source_sha256 TEXT NOT NULL DEFAULT '')""",
        "CREATE INDEX exercise_checks_exercise ON exercise_checks (exercise, id)",
        """CREATE TABLE hints (
            exercise TEXT NOT NULL,
            hint_index INTEGER NOT NULL,
            shown_at TEXT NOT NULL)""",
        "CREATE INDEX hints_exercise ON hints (exercise)",
        """CREATE TABLE review_boxes (
            lesson TEXT NOT NULL,
            question_id TEXT NOT NULL,
            box INTEGER NOT NULL CHECK (box BETWEEN 1 AND 5),
            due_at TEXT NOT NULL,
            updated_at TEXT NOT NULL,
            PRIMARY KEY (lesson, question_id))""",
    ),
    # 1 -> 2: where `course start` wrote each exercise's file (`course check EXERCISE` checks it)
    (
        """CREATE TABLE started_files (
            exercise TEXT PRIMARY KEY,
            path TEXT NOT NULL,
            started_at TEXT NOT NULL)""",
    ),
    # 2 -> 3: progress belongs to the student's own file; quizzes resume until finished or restarted.
    # A check records which file it graded and whether that was the student's own (the file
    # `course start` wrote or `--adopt` named); checks made before this version count as own,
    # as they did. An attempt the student restarted (`course quiz --restart`) is never resumed.
    (
        "ALTER TABLE started_files ADD COLUMN adopted INTEGER NOT NULL DEFAULT 0",
        "ALTER TABLE exercise_checks ADD COLUMN path TEXT NOT NULL DEFAULT ''",
        "ALTER TABLE exercise_checks ADD COLUMN own INTEGER NOT NULL DEFAULT 1",
        "CREATE INDEX exercise_checks_own ON exercise_checks (exercise, own, id)",
        "ALTER TABLE quiz_attempts ADD COLUMN restarted INTEGER NOT NULL DEFAULT 0",
    ),
    # 3 -> 4: one vocabulary of exercise statuses (course.status.Status): a failed check is
    # stored as 'failed', the value results and reports use, no longer as 'failing'. SQLite
    # cannot change a CHECK constraint in place, so the table is rebuilt (ids kept).
    (
        """CREATE TABLE exercise_checks_4 (
            id INTEGER PRIMARY KEY AUTOINCREMENT,
            exercise TEXT NOT NULL,
            checked_at TEXT NOT NULL,
            status TEXT NOT NULL CHECK (status IN ('passed', 'failed', 'not_attempted', 'error')),
            score REAL NOT NULL,
            max_score REAL NOT NULL,
            source_sha256 TEXT NOT NULL DEFAULT '',
            path TEXT NOT NULL DEFAULT '',
            own INTEGER NOT NULL DEFAULT 1)""",
        "INSERT INTO exercise_checks_4 (id, exercise, checked_at, status, score, max_score, source_sha256, path, own)"
        " SELECT id, exercise, checked_at, CASE status WHEN 'failing' THEN 'failed' ELSE status END, score,"
        " max_score, source_sha256, path, own FROM exercise_checks",
        "DROP TABLE exercise_checks",
        "ALTER TABLE exercise_checks_4 RENAME TO exercise_checks",
        "CREATE INDEX exercise_checks_exercise ON exercise_checks (exercise, id)",
        "CREATE INDEX exercise_checks_own ON exercise_checks (exercise, own, id)",
    ),
]

CHECK_STATUSES = STORED  # the values a check may be kept with (course.status)
_TABLES = ("quiz_answers", "quiz_attempts", "exercise_checks", "hints", "review_boxes", "started_files")


class StoreError(CourseError):
    """The progress file cannot be used; the message names it and says what to do."""


def utc_now() -> datetime:
    return datetime.now(timezone.utc)


def iso(moment: datetime) -> str:
    """UTC, second precision, one fixed format: such strings sort in time order."""
    return moment.astimezone(timezone.utc).isoformat(timespec="seconds")


def parse_iso(text: str) -> datetime:
    return datetime.fromisoformat(text)


@dataclass(frozen=True)
class QuizScore:
    score: float
    max_score: float
    at: str  # finished_at, UTC ISO

    @property
    def percent(self) -> float:
        return 100 * self.score / self.max_score if self.max_score else 0.0


@dataclass(frozen=True)
class LessonSummary:
    lesson: str
    attempts: int  # finished quiz attempts
    unfinished: int  # quit (abandoned) or interrupted (still in_progress)
    best: QuizScore | None
    last: QuizScore | None


@dataclass(frozen=True)
class CheckRecord:
    """Where a recorded check stands: was the file the student's own, and which file is."""

    own: bool  # True: the check sets the exercise's status
    own_path: Path | None  # the student's own file (None: not chosen yet)


@dataclass(frozen=True)
class ReviewBox:
    lesson: str
    question_id: str
    box: int
    due_at: datetime


def _guarded(method: Callable) -> Callable:
    """sqlite3 errors inside a public method become a StoreError naming the file."""

    @functools.wraps(method)
    def wrapper(self: "ProgressStore", *args, **kwargs):
        try:
            return method(self, *args, **kwargs)
        except sqlite3.Error as error:
            raise self._error(error) from None

    return wrapper


class ProgressStore:
    """One open progress file, used by one thread; every process opens its own."""

    def __init__(
        self,
        path: Path | str,
        *,
        clock: Callable[[], datetime] = utc_now,
        migrations: Sequence[Sequence[str]] = MIGRATIONS,
    ):
        self.path = Path(path)
        self.clock = clock
        self._depth = 0
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
        except OSError as error:
            raise StoreError(f"cannot create the folder for progress {self.path.parent}: {error.strerror}") from None
        try:
            self.conn = sqlite3.connect(str(self.path), timeout=BUSY_TIMEOUT_MS / 1000, isolation_level=None)
        except sqlite3.Error as error:
            raise self._error(error) from None
        try:
            self.conn.execute(f"PRAGMA busy_timeout = {BUSY_TIMEOUT_MS}")
            self.conn.execute("PRAGMA journal_mode = WAL").fetchone()
            self.conn.execute("PRAGMA synchronous = NORMAL")
            self.conn.execute("PRAGMA foreign_keys = ON")
            self._migrate(migrations)
        except sqlite3.Error as error:
            self.conn.close()
            raise self._error(error) from None

    # ----------------------------------------------------------------- plumbing

    def _error(self, error: sqlite3.Error) -> StoreError:
        text = str(error)
        if isinstance(error, sqlite3.DatabaseError) and ("not a database" in text or "malformed" in text):
            advice = "move it aside (or run `course progress --reset --yes`) to start a new one"
            return StoreError(f"progress file {self.path} is damaged ({text}); {advice}")
        if "locked" in text or "busy" in text:
            return StoreError(f"progress file {self.path} is locked by another course process ({text}); try again")
        return StoreError(f"cannot use progress file {self.path}: {text}")

    def close(self) -> None:
        self.conn.close()

    def __enter__(self) -> "ProgressStore":
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    @contextmanager
    def transaction(self) -> Iterator[sqlite3.Connection]:
        """One write transaction; nested uses join the outermost one (all or nothing).

        Ctrl-C or any error inside rolls the whole transaction back.
        """
        if self._depth:
            self._depth += 1
            try:
                yield self.conn
            finally:
                self._depth -= 1
            return
        self.conn.execute("BEGIN IMMEDIATE")
        self._depth = 1
        try:
            yield self.conn
            self.conn.execute("COMMIT")
        except BaseException:
            if self.conn.in_transaction:
                self.conn.execute("ROLLBACK")
            raise
        finally:
            self._depth = 0

    @property
    def schema_version(self) -> int:
        return self.conn.execute("PRAGMA user_version").fetchone()[0]

    def _migrate(self, migrations: Sequence[Sequence[str]]) -> None:
        if self.schema_version > len(migrations):
            raise StoreError(
                f"progress file {self.path} has schema version {self.schema_version}, newer than this "
                f"version of course knows ({len(migrations)}): upgrade course, or set COURSE_HOME elsewhere"
            )
        while self.schema_version < len(migrations):
            with self.transaction() as conn:
                version = self.schema_version  # re-read under the lock: another process may have migrated
                if version >= len(migrations):
                    break
                for statement in migrations[version]:
                    conn.execute(statement)
                conn.execute(f"PRAGMA user_version = {version + 1}")

    def _now(self) -> str:
        return iso(self.clock())

    # ----------------------------------------------------------------- exercises

    @_guarded
    def record_check(
        self,
        exercise: str,
        status: Status | str,
        score: float,
        max_score: float,
        source_sha256: str = "",
        *,
        path: Path | str | None = None,
    ) -> CheckRecord:
        """One check: status is a kept Status (passed, failed, not_attempted, error).

        `path` is the file that was graded (None: a function's source, as a notebook sends
        it). Only a check of the student's own file (`record_start`) sets the exercise's
        status; any other is kept as an attempt. Returns which it was.
        """
        if str(status) not in CHECK_STATUSES:
            raise ValueError(f"status must be one of {CHECK_STATUSES}, not {status!r}")
        status = Status(str(status))
        with self.transaction() as conn:
            own_path = self.started_path(exercise)
            shown = _real(path) if path is not None else ""
            own = path is not None and own_path is not None and shown == _real(own_path)
            conn.execute(
                "INSERT INTO exercise_checks (exercise, checked_at, status, score, max_score, source_sha256, path, own)"
                " VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                (exercise, self._now(), status.value, score, max_score, source_sha256, shown, int(own)),
            )
        return CheckRecord(own, own_path)

    @_guarded
    def next_hint_index(self, exercise: str) -> int:
        """The index of the first hint not yet shown (0 when none has been; hints asked for
        by number may leave gaps, and the next one fills the first gap)."""
        shown = {row[0] for row in self.conn.execute("SELECT DISTINCT hint_index FROM hints WHERE exercise = ?", (exercise,))}
        index = 0
        while index in shown:
            index += 1
        return index

    @_guarded
    def record_hint(self, exercise: str, index: int) -> None:
        with self.transaction() as conn:
            conn.execute("INSERT INTO hints (exercise, hint_index, shown_at) VALUES (?, ?, ?)", (exercise, index, self._now()))

    @_guarded
    def hints_used(self, exercise: str) -> int:
        """How many different hints of the exercise were shown."""
        return self.conn.execute("SELECT COUNT(DISTINCT hint_index) FROM hints WHERE exercise = ?", (exercise,)).fetchone()[0]

    @_guarded
    def record_start(self, exercise: str, path: Path | str, *, adopted: bool = False) -> None:
        """The student's own file for the exercise: written by `course start`, or adopted
        (`course start EXERCISE --adopt FILE`). The latest one wins."""
        with self.transaction() as conn:
            conn.execute(
                "INSERT INTO started_files (exercise, path, started_at, adopted) VALUES (?, ?, ?, ?)"
                " ON CONFLICT (exercise) DO UPDATE SET path = excluded.path, started_at = excluded.started_at,"
                " adopted = excluded.adopted",
                (exercise, _real(path), self._now(), int(adopted)),
            )

    @_guarded
    def started_path(self, exercise: str) -> Path | None:
        """The student's own file for the exercise (written by `course start` or adopted), or None."""
        row = self.conn.execute("SELECT path FROM started_files WHERE exercise = ?", (exercise,)).fetchone()
        return None if row is None else Path(row[0])

    @_guarded
    def exercise_status(self, exercise: str) -> Status:
        """From the latest check of the student's own file: NOT_STARTED (no such check yet),
        NOT_ATTEMPTED, FAILED, ERROR or PASSED. Checks of other files never count."""
        row = self.conn.execute(
            "SELECT status FROM exercise_checks WHERE exercise = ? AND own = 1 ORDER BY id DESC LIMIT 1", (exercise,)
        ).fetchone()
        return Status.NOT_STARTED if row is None else Status(row[0])

    @_guarded
    def other_checks(self, exercise: str) -> dict:
        """Checks of files that are not the student's own: how many, and the latest (or None)."""
        count, = self.conn.execute(
            "SELECT COUNT(*) FROM exercise_checks WHERE exercise = ? AND own = 0", (exercise,)).fetchone()
        row = self.conn.execute(
            "SELECT status, score, max_score, path, checked_at FROM exercise_checks WHERE exercise = ? AND own = 0"
            " ORDER BY id DESC LIMIT 1", (exercise,)).fetchone()
        latest = None
        if row is not None:
            latest = {"status": Status(row[0]).standing, "score": row[1], "max_score": row[2],
                      "file": row[3] or None, "checked_at": row[4]}
        return {"count": count, "latest": latest}

    @_guarded
    def exercise_summary(self, exercise: str) -> dict:
        """Status (as `course progress` writes it: Status.standing), checks and best score of the
        student's own file; other files' checks apart."""
        status = self.exercise_status(exercise).standing
        best, checks, last_at = self.conn.execute(
            "SELECT MAX(score * 1.0 / NULLIF(max_score, 0)), COUNT(*), MAX(checked_at) FROM exercise_checks"
            " WHERE exercise = ? AND own = 1",
            (exercise,),
        ).fetchone()
        own = self.started_path(exercise)
        return {"status": status, "checks": checks, "best_fraction": best, "last_checked_at": last_at,
                "hints_used": self.hints_used(exercise), "file": str(own) if own is not None else None,
                "other_checks": self.other_checks(exercise)}

    # ----------------------------------------------------------------- quizzes

    @_guarded
    def start_attempt(self, lesson: str, seed: int, *, max_score: float | None = None, mode: str = "quiz") -> int:
        """A new attempt, in progress until finish_attempt; returns its id."""
        with self.transaction() as conn:
            cursor = conn.execute(
                "INSERT INTO quiz_attempts (lesson, mode, seed, started_at, max_score, status) VALUES (?, ?, ?, ?, ?, 'in_progress')",
                (lesson, mode, seed, self._now(), max_score),
            )
            assert cursor.lastrowid is not None  # an INSERT into a rowid table
            return cursor.lastrowid

    @_guarded
    def record_answer(
        self,
        attempt_id: int,
        question_id: str,
        answer: object,
        score: float,
        max_score: float,
        correct: bool,
        hinted: bool = False,
    ) -> None:
        """One answer (None = skipped), committed at once. Answering again replaces it."""
        with self.transaction() as conn:
            conn.execute(
                "INSERT OR REPLACE INTO quiz_answers"
                " (attempt_id, question_id, answer_json, score, max_score, correct, hinted, answered_at)"
                " VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                (attempt_id, question_id, json.dumps(answer), score, max_score, int(correct), int(hinted), self._now()),
            )

    @_guarded
    def finish_attempt(self, attempt_id: int, *, status: str = "finished") -> None:
        """Close an attempt (finished, or abandoned when the student quit); its score is the sum of its answers."""
        if status not in ("finished", "abandoned"):
            raise ValueError(f"status must be finished or abandoned, not {status!r}")
        with self.transaction() as conn:
            conn.execute(
                "UPDATE quiz_attempts SET status = ?, finished_at = ?,"
                " score = (SELECT COALESCE(SUM(score), 0) FROM quiz_answers WHERE attempt_id = quiz_attempts.id),"
                " max_score = COALESCE(max_score,"
                "   (SELECT COALESCE(SUM(max_score), 0) FROM quiz_answers WHERE attempt_id = quiz_attempts.id))"
                " WHERE id = ?",
                (status, self._now(), attempt_id),
            )

    @_guarded
    def unfinished_attempt(self, lesson: str) -> dict | None:
        """The latest quiz attempt of the lesson that was neither finished nor restarted (to resume), or None."""
        row = self.conn.execute(
            "SELECT id, seed, started_at, status FROM quiz_attempts WHERE lesson = ? AND mode = 'quiz'"
            " AND status != 'finished' AND restarted = 0 ORDER BY id DESC LIMIT 1",
            (lesson,),
        ).fetchone()
        return None if row is None else dict(zip(("id", "seed", "started_at", "status"), row))

    @_guarded
    def reopen_attempt(self, attempt_id: int) -> None:
        """A resumed attempt is in progress again (until finished, or stopped once more)."""
        with self.transaction() as conn:
            conn.execute("UPDATE quiz_attempts SET status = 'in_progress', finished_at = NULL WHERE id = ?",
                         (attempt_id,))

    @_guarded
    def close_for_restart(self, attempt_id: int) -> None:
        """The student starts over: this attempt is never resumed (its answers stay in the history)."""
        with self.transaction() as conn:
            conn.execute(
                "UPDATE quiz_attempts SET restarted = 1, status = 'abandoned',"
                " finished_at = COALESCE(finished_at, ?),"
                " score = (SELECT COALESCE(SUM(score), 0) FROM quiz_answers WHERE attempt_id = quiz_attempts.id)"
                " WHERE id = ? AND status != 'finished'",
                (self._now(), attempt_id),
            )

    @_guarded
    def attempt_answers(self, attempt_id: int) -> list[dict]:
        rows = self.conn.execute(
            "SELECT question_id, answer_json, score, max_score, correct, hinted, answered_at FROM quiz_answers"
            " WHERE attempt_id = ? ORDER BY answered_at, rowid",
            (attempt_id,),
        ).fetchall()
        return [
            {"question_id": q, "answer": json.loads(a), "score": s, "max_score": m, "correct": bool(c),
             "hinted": bool(h), "answered_at": t}
            for q, a, s, m, c, h, t in rows
        ]

    @_guarded
    def attempts(self, lesson: str | None = None) -> list[dict]:
        sql = "SELECT id, lesson, mode, seed, started_at, finished_at, score, max_score, status FROM quiz_attempts"
        rows = self.conn.execute(sql + (" WHERE lesson = ?" if lesson else "") + " ORDER BY id", (lesson,) if lesson else ()).fetchall()
        keys = ("id", "lesson", "mode", "seed", "started_at", "finished_at", "score", "max_score", "status")
        return [dict(zip(keys, row)) for row in rows]

    @_guarded
    def lesson_summary(self, lesson: str) -> LessonSummary:
        """Best and last score over finished quiz attempts (review sessions do not count)."""
        rows = self.conn.execute(
            "SELECT score, max_score, finished_at FROM quiz_attempts"
            " WHERE lesson = ? AND mode = 'quiz' AND status = 'finished' ORDER BY id",
            (lesson,),
        ).fetchall()
        unfinished = self.conn.execute(
            "SELECT COUNT(*) FROM quiz_attempts WHERE lesson = ? AND mode = 'quiz' AND status != 'finished'", (lesson,)
        ).fetchone()[0]
        scores = [QuizScore(s or 0.0, m or 0.0, t) for s, m, t in rows]
        best = max(scores, key=lambda q: q.percent, default=None)
        return LessonSummary(lesson, len(scores), unfinished, best, scores[-1] if scores else None)

    # ----------------------------------------------------------------- review boxes

    @_guarded
    def review_box(self, lesson: str, question_id: str) -> ReviewBox | None:
        row = self.conn.execute(
            "SELECT box, due_at FROM review_boxes WHERE lesson = ? AND question_id = ?", (lesson, question_id)
        ).fetchone()
        return ReviewBox(lesson, question_id, row[0], parse_iso(row[1])) if row else None

    @_guarded
    def set_review_box(self, lesson: str, question_id: str, box: int, due_at: datetime) -> None:
        with self.transaction() as conn:
            conn.execute(
                "INSERT INTO review_boxes (lesson, question_id, box, due_at, updated_at) VALUES (?, ?, ?, ?, ?)"
                " ON CONFLICT (lesson, question_id) DO UPDATE SET box = excluded.box, due_at = excluded.due_at,"
                " updated_at = excluded.updated_at",
                (lesson, question_id, box, iso(due_at), self._now()),
            )

    @_guarded
    def review_boxes(self) -> list[ReviewBox]:
        """Every question in review, the most overdue first."""
        rows = self.conn.execute("SELECT lesson, question_id, box, due_at FROM review_boxes ORDER BY due_at, box, lesson, question_id")
        return [ReviewBox(lesson, q, b, parse_iso(d)) for lesson, q, b, d in rows.fetchall()]

    # ----------------------------------------------------------------- everything

    @_guarded
    def summary(self, course) -> dict:
        """What `course progress` shows: every lesson's quiz and every exercise of `course`."""
        lessons = []
        for lesson in course.lessons:
            s = self.lesson_summary(lesson.id)
            lessons.append({"id": lesson.id, "title": lesson.title, "has_quiz": lesson.quiz is not None,
                            "attempts": s.attempts, "unfinished": s.unfinished,
                            "best": _score_json(s.best), "last": _score_json(s.last)})
        exercises = []
        for exercise in course.exercises:
            entry = {"id": exercise.id, "title": exercise.title, "hints_total": len(exercise.hints)}
            entry.update(self.exercise_summary(exercise.id))
            exercises.append(entry)
        now = self.clock()
        boxes = self.review_boxes()
        return {
            "path": str(self.path),
            "lessons": lessons,
            "exercises": exercises,
            "review": {"questions": len(boxes), "due": sum(1 for b in boxes if b.due_at <= now)},
        }

    @_guarded
    def reset(self) -> None:
        """Forget everything (the schema stays), in one transaction."""
        with self.transaction() as conn:
            for table in _TABLES:
                conn.execute(f"DELETE FROM {table}")


def _real(path: Path | str) -> str:
    """A file's canonical name (absolute, links resolved): the same file always compares equal."""
    text = str(path)
    if text.startswith("<"):  # "<function softmax>": not a file
        return text
    return os.path.realpath(os.path.expanduser(text))


def _score_json(score: QuizScore | None) -> dict | None:
    return None if score is None else {"score": score.score, "max_score": score.max_score, "at": score.at}


def default_path() -> Path:
    from course.paths import course_home

    return course_home() / FILE_NAME


def open_store(path: Path | str | None = None, **kwargs) -> ProgressStore:
    """The store at `path`, default COURSE_HOME/progress.sqlite3 (the folder is created)."""
    return ProgressStore(path or default_path(), **kwargs)


def existing_store_summary(lesson: str, path: Path | str | None = None) -> str:
    """"best 80%, last 70%" for `course lessons`; "" before any finished attempt.

    Never creates the progress file: listing lessons must not leave state behind.
    """
    target = Path(path or default_path())
    if not target.is_file():
        return ""
    with ProgressStore(target) as store:
        s = store.lesson_summary(lesson)
    if s.best is None or s.last is None:
        return ""
    return f"best {s.best.percent:.0f}%, last {s.last.percent:.0f}%"


def remove_store(path: Path | str | None = None) -> None:
    """Delete the file and its WAL side files: the way out of a damaged store (`--reset`)."""
    target = Path(path or default_path())
    for suffix in ("", "-wal", "-shm", "-journal"):
        try:
            os.remove(f"{target}{suffix}")
        except FileNotFoundError:
            pass
        except OSError as error:
            raise StoreError(f"cannot remove {target}{suffix}: {error.strerror}") from None
