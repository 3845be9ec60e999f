"""The reference's and the known mistakes' outputs are computed once per case in a process.

A batch worker grades many students of one exercise: the trusted code's outputs on a case
do not depend on the student, so they are remembered (course.grading.expected._remembered),
keyed by the file's size and time, the function and the case as written. These tests count
the calls the trusted code really makes (it appends a line to a file per call).
"""
from __future__ import annotations

import os

import numpy as np
import pytest

from coursefactory import write_course
from course.errors import CourseError
from course.grading.expected import case_arguments, instructor_mistake_runs, reference_outputs
from course.loader import load_course

COUNTING = """\
def double(x):
    with open({log!r}, "a") as log:
        log.write("called\\n")
    return {factor} * x
"""


def calls(log) -> int:
    return len(log.read_text().splitlines()) if log.exists() else 0


@pytest.fixture
def course(tmp_path):
    root = write_course(tmp_path / "course")
    folder = root / "exercises" / "double"
    (folder / "reference.py").write_text(COUNTING.format(log=str(tmp_path / "reference.log"), factor=2))
    (folder / "mistakes" / "triple.py").write_text(COUNTING.format(log=str(tmp_path / "mistake.log"), factor=3))
    return load_course(root)


def test_the_reference_runs_once_per_case_and_callers_get_their_own_copies(course, tmp_path):
    exercise = course.exercise("double")
    arguments = case_arguments(list(exercise.cases))
    first = reference_outputs(exercise, arguments)
    first["small"][...] = -1.0  # a caller that scribbles on its result changes nothing kept
    second = reference_outputs(exercise, arguments)
    assert calls(tmp_path / "reference.log") == len(exercise.cases) == 2
    args, _ = arguments["small"]
    np.testing.assert_array_equal(second["small"], 2 * args[0])


def test_a_changed_reference_is_run_again(course, tmp_path):
    exercise = course.exercise("double")
    arguments = case_arguments(list(exercise.cases))
    reference_outputs(exercise, arguments)
    reference = exercise.reference_path
    reference.write_text(COUNTING.format(log=str(tmp_path / "reference.log"), factor=20))
    info = reference.stat()
    os.utime(reference, ns=(info.st_atime_ns, info.st_mtime_ns + 1_000_000))  # even within one clock tick
    again = reference_outputs(exercise, arguments)
    assert calls(tmp_path / "reference.log") == 4
    np.testing.assert_array_equal(again["small"], 20 * arguments["small"][0][0])


def test_known_mistakes_run_once_per_case(course, tmp_path):
    exercise = course.exercise("double")
    arguments = case_arguments(list(exercise.cases))
    first = instructor_mistake_runs(exercise, arguments)
    second = instructor_mistake_runs(exercise, arguments)
    assert calls(tmp_path / "mistake.log") == 2
    output, shifted = second["triple"]["small"]
    assert shifted is None and output.status.value == "ok"
    np.testing.assert_array_equal(output.value, 3 * arguments["small"][0][0])
    assert first["triple"]["small"][0] is not output  # a copy each time


def test_a_reference_that_raises_is_never_remembered(course, tmp_path):
    exercise = course.exercise("double")
    log = tmp_path / "reference.log"
    exercise.reference_path.write_text(f"def double(x):\n    open({str(log)!r}, 'a').write('called\\n')\n"
                                       "    raise ValueError('broken')\n")
    arguments = case_arguments(list(exercise.cases))
    for _ in range(2):
        with pytest.raises(CourseError, match="the reference raised on case 'small': ValueError: broken"):
            reference_outputs(exercise, arguments)
    assert calls(log) == 2  # tried again the second time
