"""`course validate` sees every file and runs the examples (rustlings' `dev check`, for this course format).

Files nobody declared are reported as FILE:1:1; a runnable example that raises is reported
at the line of the lesson file that raised, with the exception's first line, by `course
validate` and by `course verify`.
"""
from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import courserunner
from coursefactory import LESSON, write_course
from course.loader import validate_course


def run_course(*args: str, cwd: Path) -> subprocess.CompletedProcess:
    return courserunner.run_course(*args, cwd=cwd, env=dict(os.environ, NO_COLOR="1"), timeout=300)


def line_of(text: str, needle: str) -> int:
    return next(n for n, line in enumerate(text.splitlines(), 1) if needle in line)


def validate(root: Path, cwd: Path) -> tuple[int, list[str]]:
    done = run_course("validate", str(root), cwd=cwd)
    assert "Traceback" not in done.stdout + done.stderr
    lines = done.stdout.splitlines()
    if lines and lines[0].startswith("course root: "):  # validate names the root it used first
        lines = lines[1:]
    return done.returncode, lines


# --------------------------------------------------------------------------- files nobody declared


def test_validate_reports_a_known_mistake_file_no_mistake_declares(tmp_path):
    root = write_course(tmp_path / "tiny")
    (root / "exercises" / "double" / "mistakes" / "undeclared.py").write_text("def double(x):\n    return x\n")
    code, lines = validate(root, tmp_path)
    assert code == 2
    assert lines[0].startswith("exercises/double/mistakes/undeclared.py:1:1: known-mistake file that no mistake in "
                               "exercises/double/exercise.yaml declares"), lines
    assert "(name: undeclared)" in lines[0]


def test_validate_reports_stray_files_in_exercise_and_lesson_folders(tmp_path):
    root = write_course(tmp_path / "tiny")
    (root / "exercises" / "double" / "NOTES.txt").write_text("todo: harder cases")
    (root / "content" / "intro" / "NOTES.txt").write_text("todo: a figure")
    (root / "content" / "intro" / "drafts").mkdir()
    (root / "content" / "intro" / "drafts" / "old.yaml").write_text("id: old")
    code, lines = validate(root, tmp_path)
    assert code == 2
    reported = [line.split(": ", 1)[0] for line in lines]
    assert reported == ["content/intro/NOTES.txt:1:1", "content/intro/drafts/old.yaml:1:1",
                        "exercises/double/NOTES.txt:1:1"]
    assert all("no declaration uses this file" in line for line in lines)


def test_declared_files_feedback_hooks_and_bytecode_are_not_reported(tmp_path):
    root = write_course(tmp_path / "tiny")
    folder = root / "exercises" / "double"
    (folder / "feedback.py").write_text("# a per-exercise hook, planned\n")
    (folder / "__pycache__").mkdir()
    (folder / "__pycache__" / "reference.cpython-311.pyc").write_bytes(b"\0")
    (root / "content" / "intro" / "__pycache__").mkdir()
    (root / "content" / "intro" / "__pycache__" / "x.pyc").write_bytes(b"\0")
    assert [str(d) for d in validate_course(root, run_code=False)] == []


def test_a_reference_left_in_a_student_edition_is_reported(tmp_path):
    root = write_course(tmp_path / "tiny")
    done = run_course("--course", str(root), "release", str(tmp_path / "student"), cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    leaked = tmp_path / "student" / "exercises" / "double" / "reference.py"
    leaked.write_text((root / "exercises" / "double" / "reference.py").read_text())
    found = [str(d) for d in validate_course(tmp_path / "student", run_code=False)]
    assert len(found) == 1 and found[0].startswith("exercises/double/reference.py:1:1: no declaration uses this file")


# --------------------------------------------------------------------------- runnable examples

RAISING = LESSON.replace("""            print(1 + 1)
""", """            import numpy as np
            print(np.arange(3))
            values = {"a": 1}
            print(values["b"])
""")


def test_validate_runs_runnable_examples_and_reports_one_that_raises_at_its_line(tmp_path):
    root = write_course(tmp_path / "tiny", lesson=RAISING)
    code, lines = validate(root, tmp_path)
    assert code == 2
    line = line_of(RAISING, 'print(values["b"])')
    assert lines == [f"content/intro/lesson.yaml:{line}:13: runnable example failed: KeyError: 'b'"]


def test_a_runnable_example_with_a_syntax_error_is_reported_at_its_line(tmp_path):
    text = LESSON.replace("            print(1 + 1)\n", "            print(1 + 1)\n            print(2 +)\n")
    root = write_course(tmp_path / "tiny", lesson=text)
    found = [str(d) for d in validate_course(root)]
    assert len(found) == 1 and found[0].startswith(
        f"content/intro/lesson.yaml:{line_of(text, 'print(2 +)')}:13: runnable example failed: SyntaxError"), found


def test_examples_that_run_are_not_reported_and_other_languages_are_not_run(tmp_path):
    text = LESSON.replace("          language: python\n", "          language: bash\n")
    text = text.replace("            print(1 + 1)\n", "            exit 1\n")
    root = write_course(tmp_path / "tiny", lesson=text)
    assert [str(d) for d in validate_course(root)] == []
    assert [str(d) for d in validate_course(write_course(tmp_path / "other"))] == []


def test_validate_without_runnable_examples_starts_no_sandbox(tmp_path):
    root = write_course(tmp_path / "tiny", lesson=LESSON.replace("          runnable: true\n", ""))
    probe = ("import sys; from course.loader import validate_course; "
             f"print(validate_course({str(root)!r}), 'course.grading.sandbox' in sys.modules)")
    done = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, timeout=120)
    assert done.stdout.split() == ["[]", "False"], done.stdout + done.stderr


def test_course_verify_reports_a_raising_example_too(tmp_path):
    root = write_course(tmp_path / "tiny", lesson=RAISING)
    done = run_course("--course", str(root), "verify", cwd=tmp_path)
    assert done.returncode == 2, done.stdout + done.stderr
    line = line_of(RAISING, 'print(values["b"])')
    assert f"content/intro/lesson.yaml:{line}:13: runnable example failed: KeyError: 'b'" in done.stdout
    assert "Traceback" not in done.stdout + done.stderr
