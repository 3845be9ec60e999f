"""The cache of validated courses: used while nothing changes, never when something did."""
from __future__ import annotations

import os
import subprocess
import sys

import pytest

from coursefactory import LESSON, write_course
from course import cache
from course.errors import ContentError
from course.loader import load_course, preview_exercise


def entries(folder) -> list:
    return sorted(folder.glob("course-*.pickle"))


@pytest.fixture(autouse=True)
def cached(tmp_path, monkeypatch):
    """The test's own cache folder (the other tests share one per session: conftest.py)."""
    folder = tmp_path / "course-cache"
    monkeypatch.setenv("COURSE_CACHE", str(folder))
    return folder


def test_a_course_that_loaded_is_read_back_from_the_cache(tmp_path, cached):
    root = write_course(tmp_path / "tiny")
    first = load_course(root)
    assert len(entries(cached)) == 1
    again = cache.read_course(root.resolve(), cache.course_key(root.resolve()))
    assert again is not None and again is not first
    assert again.exercise("double").cases == first.exercise("double").cases
    assert str(again.exercise("double").cases[1].where) == str(first.exercise("double").cases[1].where)
    assert again.lesson("intro").quiz.question("how-many").answer_expr == "a * 2"


def test_a_process_reads_an_entry_once_and_again_only_when_it_was_replaced(tmp_path, cached):
    root = write_course(tmp_path / "tiny").resolve()
    load_course(root)  # validated and written
    key = cache.course_key(root)
    first = cache.read_course(root, key)
    assert cache.read_course(root, key) is first  # the same objects: not unpickled twice
    (entry,) = entries(cached)
    entry.write_bytes(entry.read_bytes())  # written again (by another process, say)
    os.utime(entry, ns=(entry.stat().st_atime_ns, entry.stat().st_mtime_ns + 10**9))  # past the clock's tick
    replaced = cache.read_course(root, key)
    assert replaced is not None and replaced is not first
    entry.write_bytes(b"damaged")
    assert cache.read_course(root, key) is None  # a damaged entry is still a miss in a process that read it


def test_an_edited_file_is_validated_again(tmp_path):
    root = write_course(tmp_path / "tiny")
    load_course(root)
    (root / "content" / "intro" / "lesson.yaml").write_text(LESSON.replace("summary: Just", "summery: Just"))
    with pytest.raises(ContentError, match="unknown key 'summery'"):
        load_course(root)


def test_a_deleted_file_is_noticed(tmp_path):
    root = write_course(tmp_path / "tiny")
    load_course(root)
    (root / "exercises" / "double" / "starter.py").unlink()
    with pytest.raises(ContentError, match="starter file 'starter.py' not found"):
        load_course(root)


def test_a_course_with_problems_is_never_cached(tmp_path, cached):
    root = write_course(tmp_path / "tiny", lesson=LESSON.replace("summary: Just", "summery: Just"))
    with pytest.raises(ContentError):
        load_course(root)
    assert entries(cached) == []


def test_a_damaged_entry_is_a_miss_not_an_error(tmp_path, cached):
    root = write_course(tmp_path / "tiny")
    load_course(root)
    [entry] = entries(cached)
    entry.write_bytes(entry.read_bytes()[:200])
    assert load_course(root).exercise("double").function == "double"


def test_course_cache_off_writes_nothing(tmp_path, cached, monkeypatch):
    monkeypatch.setenv("COURSE_CACHE", "off")
    load_course(write_course(tmp_path / "tiny"))
    assert not cached.exists()


def test_starting_a_check_early_reads_the_cache_without_importing_the_models(tmp_path):
    root = write_course(tmp_path / "tiny")
    load_course(root)
    probe = ("import sys; from course.loader import preview_exercise; "
             f"e = preview_exercise({str(root)!r}, 'double'); "
             "print(e.function, e.limits.wall_seconds, e.starter_path.name, 'pydantic' in sys.modules); "
             "print(e.hints[0], 'pydantic' in sys.modules)")
    done = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, timeout=120)
    assert done.stdout.splitlines() == ["double 10.0 starter.py False", "Multiply by two. True"], done.stderr


def test_without_a_cache_the_preview_reads_the_exercise_file(tmp_path, monkeypatch):
    monkeypatch.setenv("COURSE_CACHE", "off")
    root = write_course(tmp_path / "tiny")
    exercise = preview_exercise(root, "double")
    assert exercise.function == "double" and len(exercise.cases) == 2
    assert preview_exercise(root, "nope") is None


def test_grading_from_the_cache_does_not_build_the_lesson_and_quiz_models(tmp_path):
    root = write_course(tmp_path / "tiny")
    load_course(root)
    probe = ("import sys; from course.loader import load_course; "
             f"course = load_course({str(root)!r}); cases = course.exercise('double').cases; "
             "print(sorted(m for m in ('course.model.lessons', 'course.model.quizzes') if m in sys.modules)); "
             "print(course.lesson('intro').quiz.question('how-many').answer_expr)")
    done = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, timeout=120)
    assert done.stdout.splitlines() == ["[]", "a * 2"], done.stdout + done.stderr
