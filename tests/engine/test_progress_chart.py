"""`course progress --plot FILE`: quiz scores over attempts and exercise status, as a picture,
from a real progress store filled the way the quiz and `course check` fill it.
"""
from __future__ import annotations

import json
import os
import subprocess
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest

import courserunner
import course
from course.loader import load_course
from course.paths import builtin_root
from course.plots.progress import progress_chart, quiz_history
from course.progress.store import open_store

ROOT = builtin_root()
COURSE = load_course(ROOT)
PNG_MAGIC = b"\x89PNG\r\n\x1a\n"
SVG = "{http://www.w3.org/2000/svg}"


def run_course(*args: str, cwd: Path) -> subprocess.CompletedProcess:
    env = dict(os.environ, NO_COLOR="1", PYTHONIOENCODING="utf-8")
    return courserunner.run_course(*args, cwd=cwd, env=env, timeout=120)


def assert_png(path: Path) -> None:
    import matplotlib.image

    assert path.read_bytes()[:8] == PNG_MAGIC
    pixels = matplotlib.image.imread(path)
    height, width = pixels.shape[:2]
    assert 1280 <= width <= 4000 and 250 <= height <= 3000, (width, height)


def take_quiz(store, lesson_id: str, fraction: float) -> None:
    """A finished quiz attempt scoring `fraction` of 10 points (two answers, as the session records them)."""
    attempt = store.start_attempt(lesson_id, seed=1, max_score=10.0)
    store.record_answer(attempt, "first", "a", 10 * fraction / 2, 5.0, fraction == 1.0)
    store.record_answer(attempt, "second", "b", 10 * fraction / 2, 5.0, fraction == 1.0)
    store.finish_attempt(attempt)


@pytest.fixture
def progress_made(home):
    """Three quiz attempts, a real failing check and a real passing one."""
    lesson = next(each for each in COURSE.lessons if each.quiz is not None)
    with open_store() as store:
        for fraction in (0.4, 0.6, 0.9):
            take_quiz(store, lesson.id, fraction)
        review = store.start_attempt(lesson.id, seed=2, mode="review")
        store.record_answer(review, "first", "a", 0.0, 5.0, False)
        store.finish_attempt(review)
    exercises = ROOT / "exercises"
    with open_store() as store:  # the student's own files (`course start EXERCISE --adopt FILE`)
        store.record_start("softmax", exercises / "softmax" / "mistakes" / "wrong_axis.py", adopted=True)
        store.record_start("causal_mask", exercises / "causal_mask" / "reference.py", adopted=True)
    assert not course.check("softmax", exercises / "softmax" / "mistakes" / "wrong_axis.py").passed
    assert course.check("causal_mask", exercises / "causal_mask" / "reference.py").passed
    return lesson


def test_quiz_history_has_the_finished_quiz_attempts_in_order(progress_made):
    with open_store() as store:
        history = quiz_history(store, COURSE)
    assert history[progress_made.id] == pytest.approx([40.0, 60.0, 90.0])  # the review session is not one


def test_progress_plot_writes_a_png_beside_the_usual_report(progress_made, tmp_path):
    done = run_course("progress", "--plot", "chart.png", cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    assert "Quizzes" in done.stdout and "Chart: chart.png" in done.stdout
    assert_png(tmp_path / "chart.png")
    done = run_course("progress", "--format", "json", "--plot", "again.png", cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    data = json.loads(done.stdout)  # the chart's line went to stderr
    assert {e["id"]: e["status"] for e in data["exercises"]}["softmax"] == "failing"
    assert_png(tmp_path / "again.png")


def test_progress_chart_as_svg_names_every_exercise_and_status(progress_made, tmp_path):
    with open_store() as store:
        path = progress_chart(store, COURSE, tmp_path / "chart.svg")
    root = ET.parse(path).getroot()
    words = " ".join(" ".join(t.itertext()) for t in root.iter(f"{SVG}text"))
    for exercise in COURSE.exercises:
        assert exercise.id in words
    for status in ("passed", "failing", "not started"):
        assert status in words
    assert "Quiz scores over attempts" in words and "pass mark" in words


def test_an_empty_progress_store_still_gives_a_readable_chart(home, tmp_path):
    with open_store() as store:
        path = progress_chart(store, COURSE, tmp_path / "empty.png")
    assert_png(path)


def test_progress_plot_refuses_a_file_type_it_cannot_write(home, tmp_path):
    done = run_course("progress", "--plot", "chart.pdf", cwd=tmp_path)
    assert done.returncode == 2
    assert "must end in .png or .svg" in done.stderr and "Traceback" not in done.stderr
