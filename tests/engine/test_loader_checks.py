"""The loader's own checks, each at its FILE:LINE:COL, written to kill the loader's mutants
(course/loader.py and course/diagnose.py: docs/testing.md). In-process, on the tiny course."""
from __future__ import annotations

from coursefactory import EXERCISE, LESSON, QUIZ, write_course
from course.loader import validate_course


def problems(tmp_path, **files) -> list[str]:
    root = write_course(tmp_path, **files)
    return [str(d) for d in validate_course(root, run_code=False)]


def test_the_tiny_course_has_no_problem(tmp_path):
    assert problems(tmp_path, lesson=LESSON, quiz=QUIZ, exercise=EXERCISE) == []
