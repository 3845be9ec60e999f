"""The progress store on real SQLite files: atomic writes, concurrent writers, migrations, damaged files,
a quiz killed with SIGKILL, and the Leitner boxes of spaced review."""
from __future__ import annotations

import os
import signal
import sqlite3
import subprocess
import sys
import textwrap
import threading
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest

from course.model import Course, Lesson, Manifest
from course.progress.store import MIGRATIONS, ProgressStore, StoreError, existing_store_summary, open_store
from course.quiz import review
from course.status import Status
from test_quiz_grading import MULTIPLE, SINGLE, TRUE_FALSE, quiz_of

T0 = datetime(2024, 3, 1, 9, 0, tzinfo=timezone.utc)


class Clock:
    """A clock the test moves by hand."""

    def __init__(self, now: datetime = T0):
        self.now = now

    def __call__(self) -> datetime:
        return self.now


@pytest.fixture
def store(tmp_path):
    with ProgressStore(tmp_path / "progress.sqlite3") as opened:
        yield opened


# --------------------------------------------------------------------------- basics


def test_a_new_store_is_created_in_wal_mode_at_the_latest_schema(tmp_path, monkeypatch):
    monkeypatch.setenv("COURSE_HOME", str(tmp_path / "deep" / "home"))
    with open_store() as opened:
        assert opened.path == tmp_path / "deep" / "home" / "progress.sqlite3"
        assert opened.schema_version == len(MIGRATIONS)
        assert opened.conn.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
        tables = {row[0] for row in opened.conn.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
    assert {"quiz_attempts", "quiz_answers", "exercise_checks", "hints", "review_boxes"} <= tables


def test_exercise_status_follows_the_latest_check_of_the_own_file_and_hints_are_counted(store, tmp_path):
    mine = tmp_path / "work" / "softmax.py"
    assert store.exercise_status("softmax") is Status.NOT_STARTED
    store.record_start("softmax", mine)
    assert store.record_check("softmax", "not_attempted", 0, 5, "a" * 64, path=mine).own
    assert store.exercise_status("softmax") is Status.NOT_ATTEMPTED
    store.record_check("softmax", "failed", 2, 5, "b" * 64, path=mine)
    assert store.exercise_status("softmax").standing == "failing"
    store.record_check("softmax", "error", 0, 5, "c" * 64, path=mine)
    assert store.exercise_status("softmax").standing == "failing"
    store.record_check("softmax", "passed", 5, 5, "d" * 64, path=tmp_path / "work" / "." / "softmax.py")
    assert store.exercise_status("softmax") is Status.PASSED
    assert store.next_hint_index("softmax") == 0
    store.record_hint("softmax", store.next_hint_index("softmax"))
    store.record_hint("softmax", store.next_hint_index("softmax"))
    store.record_hint("softmax", 1)  # shown again: still two hints used
    assert (store.next_hint_index("softmax"), store.hints_used("softmax")) == (2, 2)
    store.record_hint("softmax", 3)  # asked for by number: the next one fills the gap first
    assert (store.next_hint_index("softmax"), store.hints_used("softmax")) == (2, 3)
    assert store.hints_used("self_attention") == 0
    with pytest.raises(ValueError):
        store.record_check("softmax", "great", 5, 5, "")


def test_checks_of_other_files_and_of_functions_are_attempts_that_never_change_the_status(store, tmp_path):
    mine, scratch = tmp_path / "work" / "softmax.py", tmp_path / "scratch.py"
    record = store.record_check("softmax", "passed", 5, 5, path=scratch)  # no own file yet
    assert (record.own, record.own_path) == (False, None)
    assert store.exercise_status("softmax") is Status.NOT_STARTED
    store.record_start("softmax", mine)
    store.record_check("softmax", "passed", 5, 5, path=mine)
    for path in (scratch, tmp_path / "other" / "softmax.py", None):  # a scratch file, a second folder, a function
        record = store.record_check("softmax", "failed", 1, 5, path=path)
        assert not record.own and record.own_path == mine
        assert store.exercise_status("softmax") is Status.PASSED
    summary = store.exercise_summary("softmax")
    assert (summary["status"], summary["checks"], summary["best_fraction"]) == ("passed", 1, 1.0)
    assert summary["file"] == str(mine)
    other = summary["other_checks"]
    assert other["count"] == 4 and other["latest"]["status"] == "failing" and other["latest"]["file"] is None
    adopted = tmp_path / "mine.py"
    store.record_start("softmax", adopted, adopted=True)  # `course start softmax --adopt mine.py`
    assert store.record_check("softmax", "failed", 2, 5, path=adopted).own
    assert store.exercise_status("softmax").standing == "failing"


def test_a_link_to_the_own_file_is_the_own_file(store, tmp_path):
    mine = tmp_path / "softmax.py"
    mine.write_text("x")
    (tmp_path / "link.py").symlink_to(mine)
    store.record_start("softmax", mine)
    assert store.record_check("softmax", "passed", 5, 5, path=tmp_path / "link.py").own


def test_lesson_summary_has_best_and_last_of_finished_quiz_attempts(store):
    for answers in ([1.0, 1.0], [2.0, 2.0], [1.0, 0.0]):
        attempt = store.start_attempt("lesson-3", 0, max_score=4.0)
        for number, score in enumerate(answers):
            store.record_answer(attempt, f"q{number}", "x", score, 2.0, score == 2.0)
        store.finish_attempt(attempt)
    store.start_attempt("lesson-3", 1, max_score=4.0)  # still running (or killed)
    quit_attempt = store.start_attempt("lesson-3", 2, max_score=4.0)
    store.finish_attempt(quit_attempt, status="abandoned")
    review_attempt = store.start_attempt("lesson-3", 3, mode="review")
    store.record_answer(review_attempt, "q0", "x", 2.0, 2.0, True)
    store.finish_attempt(review_attempt)
    summary = store.lesson_summary("lesson-3")
    assert (summary.attempts, summary.unfinished) == (3, 2)
    assert (summary.best.score, summary.best.max_score) == (4.0, 4.0)
    assert summary.last.score == 1.0
    assert store.lesson_summary("lesson-9").best is None
    assert existing_store_summary("lesson-3", store.path) == "best 100%, last 25%"


def test_existing_store_summary_never_creates_a_file(tmp_path):
    assert existing_store_summary("lesson-3", tmp_path / "none.sqlite3") == ""
    assert not (tmp_path / "none.sqlite3").exists()


# --------------------------------------------------------------------------- atomicity and concurrency


def test_a_failed_transaction_leaves_nothing_behind(store):
    attempt = store.start_attempt("lesson-3", 0)
    with pytest.raises(RuntimeError):
        with store.transaction():
            store.record_answer(attempt, "q1", True, 1, 1, True)
            store.record_check("softmax", "passed", 1, 1, "")
            raise RuntimeError("boom in the middle")
    with pytest.raises(KeyboardInterrupt):
        with store.transaction():
            store.record_answer(attempt, "q2", True, 1, 1, True)
            raise KeyboardInterrupt
    assert store.attempt_answers(attempt) == []
    assert store.exercise_status("softmax") is Status.NOT_STARTED
    store.record_answer(attempt, "q3", True, 1, 1, True)  # the store is still usable
    assert [a["question_id"] for a in store.attempt_answers(attempt)] == ["q3"]


WRITER = textwrap.dedent(
    """
    import sys
    from course.progress.store import ProgressStore
    path, name, count = sys.argv[1], sys.argv[2], int(sys.argv[3])
    with ProgressStore(path) as store:
        attempt = store.start_attempt("lesson-" + name, 0)
        for i in range(count):
            store.record_answer(attempt, f"q{i}", [name, i], 1, 1, True)
            store.record_check(name, "failed", i, count, "")
            store.record_hint(name, i)
    """
)


def test_processes_writing_at_the_same_time_lose_nothing(tmp_path):
    path = tmp_path / "progress.sqlite3"
    ProgressStore(path).close()
    writers = [
        subprocess.Popen([sys.executable, "-c", WRITER, str(path), f"w{n}", "150"], stderr=subprocess.PIPE, text=True)
        for n in range(4)
    ]
    for writer in writers:
        assert writer.wait(timeout=120) == 0, writer.stderr.read()
    with ProgressStore(path) as store:
        for n in range(4):
            [attempt] = store.attempts(f"lesson-w{n}")
            assert len(store.attempt_answers(attempt["id"])) == 150
            assert store.hints_used(f"w{n}") == 150
        assert store.conn.execute("SELECT COUNT(*) FROM exercise_checks").fetchone()[0] == 600


def test_two_open_stores_in_threads_interleave_without_errors(tmp_path):
    path = tmp_path / "progress.sqlite3"
    ProgressStore(path).close()
    errors: list[BaseException] = []

    def work(name: str) -> None:
        try:
            with ProgressStore(path) as store:
                for i in range(100):
                    with store.transaction():  # hold the write lock across two writes
                        store.record_check(name, "passed", i, 100, "")
                        store.record_hint(name, i)
        except BaseException as error:  # pragma: no cover - reported below
            errors.append(error)

    threads = [threading.Thread(target=work, args=(f"t{n}",)) for n in range(3)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    with ProgressStore(path) as store:
        assert [store.hints_used(f"t{n}") for n in range(3)] == [100, 100, 100]


# --------------------------------------------------------------------------- schema versions


V1_SCHEMA = """
CREATE TABLE quiz_attempts (id INTEGER PRIMARY KEY AUTOINCREMENT, lesson TEXT NOT NULL,
    mode TEXT NOT NULL DEFAULT 'quiz' CHECK (mode IN ('quiz', 'review')), seed INTEGER NOT NULL,
    started_at TEXT NOT NULL, finished_at TEXT, score REAL, max_score REAL,
    status TEXT NOT NULL DEFAULT 'in_progress' CHECK (status IN ('in_progress', 'finished', 'abandoned')));
CREATE INDEX quiz_attempts_lesson ON quiz_attempts (lesson, mode, status);
CREATE TABLE quiz_answers (attempt_id INTEGER NOT NULL REFERENCES quiz_attempts (id) ON DELETE CASCADE,
    question_id TEXT NOT NULL, answer_json TEXT NOT NULL, score REAL NOT NULL, max_score REAL NOT NULL,
    correct INTEGER NOT NULL, hinted INTEGER NOT NULL DEFAULT 0, answered_at TEXT NOT NULL,
    PRIMARY KEY (attempt_id, question_id));
CREATE TABLE exercise_checks (id INTEGER PRIMARY KEY AUTOINCREMENT, exercise TEXT NOT NULL, checked_at TEXT NOT NULL,
    status TEXT NOT NULL CHECK (status IN ('passed', 'failing', 'not_attempted', 'error')),
    score REAL NOT NULL, max_score REAL NOT NULL, source_sha256 TEXT NOT NULL DEFAULT '');
CREATE INDEX exercise_checks_exercise ON exercise_checks (exercise, id);
CREATE TABLE hints (exercise TEXT NOT NULL, hint_index INTEGER NOT NULL, shown_at TEXT NOT NULL);
CREATE INDEX hints_exercise ON hints (exercise);
CREATE TABLE review_boxes (lesson TEXT NOT NULL, question_id TEXT NOT NULL,
    box INTEGER NOT NULL CHECK (box BETWEEN 1 AND 5), due_at TEXT NOT NULL, updated_at TEXT NOT NULL,
    PRIMARY KEY (lesson, question_id));
INSERT INTO quiz_attempts VALUES (1, 'lesson-3', 'quiz', 7, '2024-01-01T10:00:00+00:00', '2024-01-01T10:20:00+00:00', 30, 40, 'finished');
INSERT INTO quiz_answers VALUES (1, 'transformer-year', '"2017"', 1, 1, 1, 0, '2024-01-01T10:01:00+00:00');
INSERT INTO exercise_checks VALUES (1, 'softmax', '2024-01-02T10:00:00+00:00', 'passed', 5, 5, 'abc');
INSERT INTO hints VALUES ('softmax', 0, '2024-01-02T09:00:00+00:00');
INSERT INTO review_boxes VALUES ('lesson-3', 'milestones-order', 2, '2024-01-03T10:00:00+00:00', '2024-01-02T10:00:00+00:00');
PRAGMA user_version = 1;
"""


def write_v1_file(path: Path) -> Path:
    """A progress file exactly as the first released schema wrote it (a frozen copy, not MIGRATIONS)."""
    conn = sqlite3.connect(path)
    conn.executescript(V1_SCHEMA)
    conn.close()
    return path


def test_a_v1_file_opens_with_its_data(tmp_path):
    path = write_v1_file(tmp_path / "progress.sqlite3")
    with ProgressStore(path) as store:
        assert store.schema_version == len(MIGRATIONS)
        assert store.lesson_summary("lesson-3").best.score == 30
        assert store.exercise_status("softmax") is Status.PASSED and store.hints_used("softmax") == 1
        assert store.review_box("lesson-3", "milestones-order").box == 2


def test_checks_of_a_v2_file_stay_its_own_after_the_migration_to_v3(tmp_path):
    path = write_v1_file(tmp_path / "progress.sqlite3")
    ProgressStore(path, migrations=MIGRATIONS[:2]).close()  # as the previous release left it
    with ProgressStore(path) as store:
        assert store.schema_version == len(MIGRATIONS)
        assert store.exercise_status("softmax") is Status.PASSED  # checked before files were told apart
        assert store.exercise_summary("softmax")["other_checks"]["count"] == 0
        assert store.unfinished_attempt("lesson-3") is None  # its one attempt was finished


def test_a_migration_to_v3_that_fails_half_way_leaves_the_v2_file(tmp_path):
    path = write_v1_file(tmp_path / "progress.sqlite3")
    ProgressStore(path, migrations=MIGRATIONS[:2]).close()
    broken = tuple(MIGRATIONS[2]) + ("THIS IS NOT SQL",)
    with pytest.raises(StoreError):
        ProgressStore(path, migrations=[*MIGRATIONS[:2], broken])
    conn = sqlite3.connect(path)
    assert conn.execute("PRAGMA user_version").fetchone()[0] == 2
    assert "own" not in [row[1] for row in conn.execute("PRAGMA table_info(exercise_checks)")]
    conn.close()
    with ProgressStore(path) as store:  # the real migration still applies afterwards
        assert store.schema_version == len(MIGRATIONS) and store.exercise_status("softmax") is Status.PASSED


def test_a_v3_files_failing_checks_are_failed_after_the_migration_to_v4(tmp_path):
    """v4 keeps one vocabulary (course.status): a check stored as 'failing' reads as FAILED, shown 'failing'."""
    path = write_v1_file(tmp_path / "progress.sqlite3")
    ProgressStore(path, migrations=MIGRATIONS[:3]).close()  # as the previous release left it
    conn = sqlite3.connect(path)
    conn.execute("INSERT INTO exercise_checks (exercise, checked_at, status, score, max_score, own)"
                 " VALUES ('layer_norm', '2024-01-01T00:00:00+00:00', 'failing', 1, 4, 1)")
    conn.commit()
    conn.close()
    with ProgressStore(path) as store:
        assert store.schema_version == 4 == len(MIGRATIONS)
        assert store.exercise_status("layer_norm") is Status.FAILED
        assert store.exercise_summary("layer_norm")["status"] == "failing"
        assert store.exercise_status("softmax") is Status.PASSED  # the other rows kept as they were
        with pytest.raises(sqlite3.IntegrityError):  # the old word is no longer a status
            store.conn.execute("INSERT INTO exercise_checks (exercise, checked_at, status, score, max_score)"
                               " VALUES ('x', 'now', 'failing', 0, 1)")
        store.record_check("layer_norm", Status.FAILED, 2, 4, "")
        assert store.conn.execute("SELECT status FROM exercise_checks ORDER BY id DESC LIMIT 1").fetchone() == ("failed",)


def test_an_unfinished_quiz_attempt_is_found_until_finished_or_restarted(store):
    assert store.unfinished_attempt("lesson-3") is None
    first = store.start_attempt("lesson-3", 7, max_score=4.0)
    store.record_answer(first, "q0", "x", 1.0, 2.0, False)
    store.finish_attempt(first, status="abandoned")
    assert store.unfinished_attempt("lesson-3")["id"] == first and store.unfinished_attempt("lesson-3")["seed"] == 7
    store.reopen_attempt(first)
    assert store.attempts("lesson-3")[0]["status"] == "in_progress"
    store.close_for_restart(first)
    assert store.unfinished_attempt("lesson-3") is None
    assert store.attempts("lesson-3")[0]["score"] == 1.0  # its answers stay in the history
    review_attempt = store.start_attempt("lesson-3", 8, mode="review")
    assert store.unfinished_attempt("lesson-3") is None and review_attempt
    second = store.start_attempt("lesson-3", 9, max_score=4.0)
    store.finish_attempt(second)
    assert store.unfinished_attempt("lesson-3") is None


def test_a_v1_file_migrates_to_a_later_schema_keeping_its_data(tmp_path):
    path = write_v1_file(tmp_path / "progress.sqlite3")
    migration_2 = ("ALTER TABLE quiz_attempts ADD COLUMN device TEXT NOT NULL DEFAULT ''",
                   "UPDATE quiz_attempts SET device = 'laptop'")
    with ProgressStore(path, migrations=[MIGRATIONS[0], migration_2]) as store:
        assert store.schema_version == 2
        assert store.conn.execute("SELECT device, score FROM quiz_attempts").fetchall() == [("laptop", 30.0)]
        assert store.attempt_answers(1)[0]["answer"] == "2017"
    with ProgressStore(path, migrations=[MIGRATIONS[0], migration_2]) as store:  # runs once only
        assert store.schema_version == 2


def test_a_failing_migration_changes_nothing(tmp_path):
    path = write_v1_file(tmp_path / "progress.sqlite3")
    broken = ("ALTER TABLE quiz_attempts ADD COLUMN device TEXT", "THIS IS NOT SQL")
    with pytest.raises(StoreError, match=str(path)):
        ProgressStore(path, migrations=[MIGRATIONS[0], broken])
    with ProgressStore(path, migrations=MIGRATIONS[:1]) as store:  # look without applying later migrations
        assert store.schema_version == 1
        columns = [row[1] for row in store.conn.execute("PRAGMA table_info(quiz_attempts)")]
        assert "device" not in columns and store.lesson_summary("lesson-3").attempts == 1


def test_a_file_from_a_newer_version_is_refused_not_damaged(tmp_path):
    path = write_v1_file(tmp_path / "progress.sqlite3")
    conn = sqlite3.connect(path)
    conn.execute("PRAGMA user_version = 9")
    conn.close()
    with pytest.raises(StoreError, match="schema version 9, newer"):
        ProgressStore(path)


# --------------------------------------------------------------------------- damaged files


def test_a_damaged_file_is_a_clear_error_naming_the_path(tmp_path):
    path = tmp_path / "progress.sqlite3"
    path.write_bytes(b"this is not a database, just some bytes " * 100)
    with pytest.raises(StoreError) as caught:
        ProgressStore(path)
    assert str(path) in str(caught.value) and "damaged" in str(caught.value)


def test_a_folder_in_place_of_the_file_is_a_clear_error(tmp_path):
    (tmp_path / "progress.sqlite3").mkdir()
    with pytest.raises(StoreError, match="progress.sqlite3"):
        ProgressStore(tmp_path / "progress.sqlite3")


def test_course_progress_on_a_damaged_file_exits_2_and_reset_recovers(tmp_path):
    from test_quiz_interactive import write_tiny_course

    root = write_tiny_course(tmp_path / "course")
    home = tmp_path / "home"
    home.mkdir()
    (home / "progress.sqlite3").write_bytes(b"garbage" * 500)
    env = dict(os.environ, COURSE_HOME=str(home))
    command = [sys.executable, "-m", "course", "--course", str(root), "progress"]
    broken = subprocess.run(command, env=env, capture_output=True, text=True, timeout=60)
    assert broken.returncode == 2
    assert str(home / "progress.sqlite3") in broken.stderr and "Traceback" not in broken.stderr
    reset = subprocess.run(command + ["--reset", "--yes"], env=env, capture_output=True, text=True, timeout=60)
    assert reset.returncode == 0, reset.stderr
    assert subprocess.run(command, env=env, capture_output=True, text=True, timeout=60).returncode == 0


# --------------------------------------------------------------------------- a killed quiz


def test_a_quiz_killed_with_sigkill_keeps_every_answer_given(tmp_path):
    pexpect = pytest.importorskip("pexpect")
    from test_quiz_interactive import right_inputs, write_tiny_course

    root = write_tiny_course(tmp_path / "course")
    inputs = right_inputs(root, seed=3)
    env = dict(os.environ, COURSE_HOME=str(tmp_path / "home"), NO_COLOR="1")
    child = pexpect.spawn(sys.executable, ["-m", "course", "--course", str(root), "quiz", "intro", "--seed", "3"],
                          env=env, encoding="utf-8", timeout=20)
    for question_id in ("pick", "static", "head-size"):
        child.expect_exact("> ")
        child.sendline(inputs[question_id])
    child.expect_exact("Question 4/5")
    child.expect_exact("> ")
    child.send("2 1")  # question 4 half typed when the process is killed
    os.kill(child.pid, signal.SIGKILL)
    child.expect(pexpect.EOF)
    child.close()
    assert child.signalstatus == signal.SIGKILL
    with ProgressStore(tmp_path / "home" / "progress.sqlite3") as store:
        [attempt] = store.attempts("intro")
        assert attempt["status"] == "in_progress"
        answers = store.attempt_answers(attempt["id"])
        assert [a["question_id"] for a in answers] == ["pick", "static", "head-size"]
        assert all(a["correct"] for a in answers)
        assert store.lesson_summary("intro").unfinished == 1


# --------------------------------------------------------------------------- spaced review


def lesson_with(lesson_id: str, *questions) -> Lesson:
    """A lesson with only a quiz (review needs nothing else of it)."""
    lesson = Lesson.model_construct(format_version=1, id=lesson_id, number=1, title=lesson_id, sections=())
    return lesson.with_quiz(quiz_of(*questions, lesson=lesson_id))


COURSE = Course(root=Path("."), manifest=Manifest(format_version=1, title="Course"),
                lessons=(lesson_with("lesson-1", SINGLE, TRUE_FALSE), lesson_with("lesson-2", MULTIPLE)), exercises=())


def test_leitner_boxes_missed_comes_back_now_right_moves_up_and_waits_longer(tmp_path):
    clock = Clock()
    with ProgressStore(tmp_path / "p.sqlite3", clock=clock) as store:
        assert review.record_outcome(store, "lesson-1", "single-q", True, clock()) is None  # right first time: no review
        assert review.due_questions(store, COURSE, clock()) == []
        review.record_outcome(store, "lesson-1", "single-q", False, clock())
        review.record_outcome(store, "lesson-2", "multiple-q", False, clock() + timedelta(minutes=1))
        due = review.due_questions(store, COURSE, clock() + timedelta(minutes=2))
        assert [(d.lesson.id, d.question.id, d.box) for d in due] == [("lesson-1", "single-q", 1), ("lesson-2", "multiple-q", 1)]
        assert len(review.due_questions(store, COURSE, clock() + timedelta(minutes=2), max_n=1)) == 1

        boxes, waits = [], []
        for _ in range(5):
            now = clock.now = review.next_due(store, COURSE, clock.now) or clock.now
            box = review.record_outcome(store, "lesson-1", "single-q", True, now)
            boxes.append(box)
            waits.append(store.review_box("lesson-1", "single-q").due_at - now)
        assert boxes == [2, 3, 4, 5, 5]
        assert waits == [timedelta(days=d) for d in (1, 3, 7, 21, 21)]
        assert "single-q" not in [d.question.id for d in review.due_questions(store, COURSE, clock.now + timedelta(days=20))]

        review.record_outcome(store, "lesson-1", "single-q", False, clock.now)  # missed again: back to box 1, due now
        assert store.review_box("lesson-1", "single-q").box == 1
        assert "single-q" in [d.question.id for d in review.due_questions(store, COURSE, clock.now)]


def test_review_skips_questions_no_longer_in_the_course(store):
    review.record_outcome(store, "lesson-1", "removed-question", False, T0)
    review.record_outcome(store, "lesson-9", "whatever", False, T0)
    assert review.due_questions(store, COURSE, T0 + timedelta(days=1)) == []
    assert review.next_due(store, COURSE, T0) is None


def test_a_started_file_is_remembered_also_in_a_migrated_v1_file(tmp_path):
    path = write_v1_file(tmp_path / "progress.sqlite3")
    with ProgressStore(path) as store:
        assert store.started_path("softmax") is None
        store.record_start("softmax", tmp_path / "a" / "softmax.py")
        store.record_start("softmax", tmp_path / "b" / "softmax.py")  # the latest start wins
    with ProgressStore(path) as store:
        assert store.started_path("softmax") == tmp_path / "b" / "softmax.py"
        assert store.exercise_status("softmax") is Status.PASSED  # v1 data kept
        store.reset()
        assert store.started_path("softmax") is None
