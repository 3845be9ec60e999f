"""`course check` and `course.check(...)` as students and CI use them: real subprocesses,
real files, the real sandbox and the real exercises (their references, starters and
known-mistake files are the submissions).
"""
from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import sys
import textwrap
import time
import xml.etree.ElementTree as ET
from pathlib import Path

import numpy as np
import pytest

import course
import courserunner
from course.errors import CourseError
from course.status import Status
from course.loader import load_course
from course.paths import builtin_root
from coursefactory import EXERCISE as TINY_EXERCISE

ROOT = builtin_root()
COURSE = load_course(ROOT)
# One known mistake per exercise through `course check`'s JSON: every mistake of the built-in course is
# recognised as itself, with its advice, on every failure it causes, by `course verify` (the same
# grading path; tests/engine/test_verify.py::test_the_built_in_course_verifies_clean, in the end-to-end tier).
MISTAKES = [(e.id, e.mistakes[0].name) for e in COURSE.exercises if e.mistakes]


def run_course(*args: str, cwd: Path, timeout: float = 120) -> subprocess.CompletedProcess:
    env = dict(os.environ, NO_COLOR="1", PYTHONIOENCODING="utf-8")
    return courserunner.run_course(*args, cwd=cwd, env=env, timeout=timeout)


def exercise_file(exercise_id: str, name: str) -> Path:
    return ROOT / "exercises" / exercise_id / name


def copy_submission(source: Path, folder: Path, exercise_id: str) -> Path:
    target = folder / f"{exercise_id}.py"
    target.write_text(source.read_text())
    return target


def words(text: str) -> str:
    """White space collapsed, so wrapped text compares with the original."""
    return " ".join(text.split())


# --------------------------------------------------------------------------- the happy path


def test_a_correct_softmax_passes_with_exit_0(tmp_path, home):
    submission = copy_submission(exercise_file("softmax", "reference.py"), tmp_path, "softmax")
    done = run_course("check", "softmax", str(submission), cwd=tmp_path)
    assert done.returncode == 0, done.stdout + done.stderr
    assert "passed, 9/9 points" in done.stdout
    assert done.stdout.count("✓") == 9


@pytest.mark.parametrize("exercise_id", [e.id for e in COURSE.exercises])
def test_every_reference_passes_through_the_api(exercise_id, home):
    result = course.check(exercise_id, exercise_file(exercise_id, "reference.py"))
    assert result.passed, [c.message for c in result.cases if not c.passed]
    assert result.score == result.max_score


# --------------------------------------------------------------------------- the heart: known mistakes


@pytest.mark.parametrize("exercise_id, mistake_name", MISTAKES, ids=[f"{e}-{m}" for e, m in MISTAKES])
def test_each_known_mistake_fails_with_exit_1_and_its_advice(exercise_id, mistake_name, tmp_path, home):
    exercise = COURSE.exercise(exercise_id)
    mistake = next(m for m in exercise.mistakes if m.name == mistake_name)
    submission = copy_submission(exercise.folder / mistake.file, tmp_path, exercise_id)
    done = run_course("check", exercise_id, str(submission), "--format", "json", cwd=tmp_path)
    assert done.returncode == 1, done.stdout + done.stderr
    report = json.loads(done.stdout)
    assert report["passed"] is False
    assert report["status"] == "failed"
    assert mistake.message in report["advice"], f"{mistake_name} was not recognised: {report['advice']}"
    failed = {case["name"]: case["mistake"] for case in report["cases"] if not case["passed"]}
    assert set(failed.values()) == {mistake_name}, f"failures not all named {mistake_name}: {failed}"


def test_the_text_report_shows_the_known_mistakes_advice(tmp_path, home):
    exercise = COURSE.exercise("softmax")
    mistake = next(m for m in exercise.mistakes if m.name == "no_max_subtraction")
    submission = copy_submission(exercise.folder / mistake.file, tmp_path, "softmax")
    done = run_course("check", "softmax", str(submission), cwd=tmp_path)
    assert done.returncode == 1
    assert "Known mistake" in done.stdout
    assert words(mistake.message) in words(done.stdout)
    assert "large_logits: contains" in done.stdout
    assert "Stuck? Hint" in done.stdout and "`course hint softmax 2` shows hint 2" in done.stdout


# --------------------------------------------------------------------------- not attempted


def test_an_unchanged_starter_is_not_attempted_and_nothing_runs(tmp_path, home):
    submission = copy_submission(exercise_file("softmax", "starter.py"), tmp_path, "softmax")
    done = run_course("check", "softmax", str(submission), "--format", "json", cwd=tmp_path)
    assert done.returncode == 1
    report = json.loads(done.stdout)
    assert report["status"] == "not_attempted"
    assert report["isolation"] is None  # never ran
    assert all(c["message"].startswith("not attempted") for c in report["cases"])
    text = run_course("check", "softmax", str(submission), cwd=tmp_path).stdout
    assert "not attempted, 0/9 points" in text
    assert "✗" not in text  # not reported as nine failures


@pytest.mark.parametrize("exercise_id", [e.id for e in COURSE.exercises])
def test_every_starter_is_not_attempted_unchanged_and_when_run(exercise_id, tmp_path, home):
    exercise = COURSE.exercise(exercise_id)
    starter = exercise.starter_path.read_text()
    (tmp_path / f"{exercise_id}.py").write_text(starter)
    unchanged = course.check(exercise_id, tmp_path / f"{exercise_id}.py")
    assert unchanged.status is Status.NOT_ATTEMPTED and unchanged.isolation is None  # nothing ran
    (tmp_path / f"{exercise_id}.py").write_text(starter + "\n\nEDITED = True\n")  # now it really runs
    run = course.check(exercise_id, tmp_path / f"{exercise_id}.py")
    assert run.status is Status.NOT_ATTEMPTED and run.score == 0, [c.message for c in run.cases]
    assert run.showcase is None


def test_a_starter_with_only_comments_changed_is_still_not_attempted(tmp_path, home):
    starter = exercise_file("softmax", "starter.py").read_text()
    edited = "# my solution, soon\n" + starter.replace("    raise NotImplementedError", "    # TODO\n\n    raise NotImplementedError")
    (tmp_path / "softmax.py").write_text(edited)
    result = course.check("softmax", tmp_path / "softmax.py")
    assert result.status is Status.NOT_ATTEMPTED


def test_a_function_that_still_raises_not_implemented_is_not_attempted(tmp_path, home):
    (tmp_path / "softmax.py").write_text("def softmax(x, axis=-1):\n    raise NotImplementedError('later')\n")
    result = course.check("softmax", tmp_path / "softmax.py")
    assert result.status is Status.NOT_ATTEMPTED
    assert "still raises NotImplementedError" in result.cases[0].message


# --------------------------------------------------------------------------- broken submissions


def test_a_syntax_error_is_an_error_grade_with_the_students_line(tmp_path, home):
    (tmp_path / "softmax.py").write_text("import numpy as np\n\ndef softmax(x, axis=-1)\n    return x\n")
    done = run_course("check", "softmax", "softmax.py", cwd=tmp_path)
    assert done.returncode == 1
    assert "softmax (softmax.py): error, 0/9 points" in done.stdout
    assert "SyntaxError" in done.stdout and "(line 3)" in done.stdout
    assert "Traceback" not in done.stderr
    report = json.loads(run_course("check", "softmax", "softmax.py", "--format", "json", cwd=tmp_path).stdout)
    assert report["status"] == "error" and report["score"] == 0
    assert all(not c["passed"] and "could not be loaded" in c["message"] for c in report["cases"])


def test_a_file_without_the_function_is_an_error_grade(tmp_path, home):
    (tmp_path / "softmax.py").write_text("def soft_max(x, axis=-1):\n    return x\n")
    done = run_course("check", "softmax", "softmax.py", cwd=tmp_path)
    assert done.returncode == 1
    assert "defines no function named 'softmax'" in done.stdout


def test_an_import_error_shows_the_traceback_of_the_students_file(tmp_path, home):
    (tmp_path / "softmax.py").write_text("import numpy as np\nimport torch_not_installed\n\ndef softmax(x, axis=-1):\n    return x\n")
    result = course.check("softmax", tmp_path / "softmax.py")
    assert result.status is Status.ERROR
    assert "ModuleNotFoundError" in result.load_error
    assert 'softmax.py", line 2' in result.load_error


def test_a_raising_submission_fails_with_a_traceback_trimmed_to_the_students_file(tmp_path, home):
    (tmp_path / "softmax.py").write_text(textwrap.dedent("""\
        import numpy as np


        def helper(values):
            return values[99]


        def softmax(x, axis=-1):
            return helper(np.asarray(x))
        """))
    done = run_course("check", "softmax", "softmax.py", cwd=tmp_path)
    assert done.returncode == 1
    assert "small_vector: raised IndexError" in done.stdout
    assert 'File "softmax.py", line 9, in softmax' in done.stdout
    assert 'File "softmax.py", line 5, in helper' in done.stdout
    assert "return values[99]" in done.stdout
    assert "numpy" not in done.stdout.split("First error")[1]  # no frames from numpy or the grader
    assert "_child" not in done.stdout and "sandbox" not in done.stdout


def test_an_endless_loop_is_stopped_by_the_time_limit(tmp_path, home):
    """On the tiny course, with a wall limit of 1 s (the built-in exercises allow 10 s)."""
    from coursefactory import write_course

    root = write_course(tmp_path / "tiny", exercise=TINY_EXERCISE.replace("tolerance:", "limits: {wall_seconds: 1}\ntolerance:"))
    (tmp_path / "double.py").write_text("def double(x):\n    while True:\n        pass\n")
    started = time.monotonic()
    result = course.check("double", tmp_path / "double.py", course_dir=str(root))
    assert time.monotonic() - started < 20  # a hang guard: the 1 s wall limit plus slack, not a speed target
    assert result.status is Status.ERROR
    assert any("limit" in note for note in result.notes)
    assert all(not c.passed for c in result.cases)


# --------------------------------------------------------------------------- usage errors


def test_a_missing_file_exits_2_without_a_traceback(tmp_path, home):
    done = run_course("check", "softmax", "nowhere.py", cwd=tmp_path)
    assert done.returncode == 2
    assert "file not found: nowhere.py" in done.stderr
    assert "Traceback" not in done.stderr + done.stdout


def test_an_unknown_exercise_exits_2_without_a_traceback(tmp_path, home):
    (tmp_path / "x.py").write_text("def f(): pass\n")
    done = run_course("check", "sofmax", "x.py", cwd=tmp_path)
    assert done.returncode == 2
    assert "unknown exercise 'sofmax'" in done.stderr
    assert "Traceback" not in done.stderr + done.stdout


def test_a_mistyped_exercise_without_a_file_says_the_exercise_is_unknown(tmp_path, home):
    done = run_course("check", "sofmax", cwd=tmp_path)
    assert done.returncode == 2
    assert "unknown exercise 'sofmax'" in done.stderr


def test_check_without_a_file_and_without_start_exits_2(tmp_path, home):
    done = run_course("check", "softmax", cwd=tmp_path)
    assert done.returncode == 2
    assert "course start softmax" in done.stderr


def test_strict_refuses_to_grade_without_namespaces(tmp_path, home, monkeypatch):
    submission = copy_submission(exercise_file("softmax", "reference.py"), tmp_path, "softmax")
    monkeypatch.setenv("COURSE_SANDBOX_NAMESPACES", "0")
    done = run_course("check", "softmax", str(submission), "--strict", cwd=tmp_path)
    assert done.returncode == 2
    assert "refusing to grade without isolation" in done.stderr
    assert "Traceback" not in done.stderr
    relaxed = run_course("check", "softmax", str(submission), cwd=tmp_path)
    assert relaxed.returncode == 0
    assert "Note: isolation limited" in relaxed.stdout


# --------------------------------------------------------------------------- report formats


def test_json_report_has_the_documented_keys(tmp_path, home):
    submission = copy_submission(exercise_file("softmax", "mistakes/wrong_axis.py"), tmp_path, "softmax")
    done = run_course("check", "softmax", str(submission), "--format", "json", cwd=tmp_path)
    report = json.loads(done.stdout)
    for key in ("exercise", "passed", "score", "max_score", "cases", "status", "advice", "isolation"):
        assert key in report
    assert report["exercise"] == "softmax" and report["max_score"] == 9
    for case in report["cases"]:
        assert {"name", "passed", "message", "visibility", "check"} <= set(case)
    assert isinstance(report["passed"], bool)


def test_junit_report_parses_and_has_one_testcase_per_case(tmp_path, home):
    (tmp_path / "softmax.py").write_text(
        "import numpy as np\ndef softmax(x, axis=-1):\n    print('\\x1b[31m<&> \\x00 weird')\n    return np.asarray(x) * 0.0\n"
    )
    out = tmp_path / "report.xml"
    done = run_course("check", "softmax", "softmax.py", "--format", "junit", "--output", str(out), cwd=tmp_path)
    assert done.returncode == 1
    assert "report: " in done.stdout
    tree = ET.parse(out)
    cases = tree.getroot().findall(".//testcase")
    assert [c.get("name") for c in cases] == [c.name for c in COURSE.exercise("softmax").cases]
    assert all(c.find("failure") is not None for c in cases)


def test_junit_marks_a_file_that_does_not_load_as_errors(tmp_path, home):
    (tmp_path / "softmax.py").write_text("def softmax(x, axis=-1) return x\n")
    done = run_course("check", "softmax", "softmax.py", "--format", "junit", cwd=tmp_path)
    suite = ET.fromstring(done.stdout).find("testsuite")
    assert suite.get("errors") == "9" and suite.get("failures") == "0"


def test_gradescope_report_has_its_keys_and_visibilities(tmp_path, home):
    submission = copy_submission(exercise_file("softmax", "mistakes/no_max_subtraction.py"), tmp_path, "softmax")
    done = run_course("check", "softmax", str(submission), "--format", "gradescope", cwd=tmp_path)
    report = json.loads(done.stdout)
    assert report["score"] == 6
    assert len(report["tests"]) == 9
    for test in report["tests"]:
        assert {"name", "score", "max_score", "output", "visibility"} <= set(test)
    visibility = {t["name"]: t["visibility"] for t in report["tests"]}
    assert visibility["small_vector"] == "visible"
    assert visibility["equal_large_rows"] == "after_published"


def test_hidden_case_messages_never_show_hidden_inputs_or_expected_values(tmp_path, home):
    """A submission that fails every case in many ways; hidden messages must name the check only."""
    from course.grading.expected import case_arguments, expected_outputs

    (tmp_path / "softmax.py").write_text(textwrap.dedent("""\
        import numpy as np


        def softmax(x, axis=-1):
            x = np.asarray(x, dtype=float)
            if x.ndim == 3:
                raise ValueError(f"cannot handle {x.shape} {x.ravel()[:3]}")
            if x.shape[0] == 3:
                return x[:, :2]
            return np.exp(x) * 1.5
        """))
    report = json.loads(run_course("check", "softmax", "softmax.py", "--format", "json", cwd=tmp_path).stdout)
    exercise = COURSE.exercise("softmax")
    hidden = [c for c in exercise.cases if c.visibility == "hidden"]
    arguments = case_arguments(hidden)
    expected = expected_outputs(COURSE, exercise, arguments)
    for case in report["cases"]:
        if case["visibility"] != "hidden":
            continue
        message = re.split(r"; (?:looks like|perhaps) a known mistake", case["message"])[0]  # constant names
        assert not case["passed"]
        assert re.fullmatch(r"wrong shape|contains NaN or inf|values differ from the expected output|raised an exception", message), message
        args, _ = arguments[case["name"]]
        secrets = {f"{v:.4g}" for v in np.ravel(args[0])[:5]} | {f"{v:.4g}" for v in np.ravel(expected[case["name"]])[:5]}
        secrets |= {str(args[0].shape), str(expected[case["name"]].shape)}
        assert not any(s in case["message"] for s in secrets if len(s) > 1), (case["name"], case["message"])
    # Only hidden cases raised: no traceback at all (its message, its class and its line
    # are the submission's behaviour on hidden inputs), and no printed output.
    assert report["traceback"] is None
    assert "cannot handle" not in json.dumps(report)
    assert report["output"] == ""


def test_public_case_messages_show_shapes_and_values(tmp_path, home):
    (tmp_path / "softmax.py").write_text("import numpy as np\ndef softmax(x, axis=-1):\n    return np.zeros(4)\n")
    result = course.check("softmax", tmp_path / "softmax.py")
    small = next(c for c in result.cases if c.name == "matrix_rows")
    assert small.message == "got shape (4,), expected (3, 5)"


def test_the_text_report_falls_back_to_ascii_and_strips_control_characters(tmp_path, home):
    (tmp_path / "softmax.py").write_text(
        "import numpy as np\ndef softmax(x, axis=-1):\n    raise ValueError('\\x1b[2J\\x1b[31mgotcha')\n"
    )
    env = dict(os.environ, NO_COLOR="1", PYTHONIOENCODING="ascii")
    done = subprocess.run([sys.executable, "-m", "course", "check", "softmax", "softmax.py"],
                          cwd=tmp_path, env=env, capture_output=True, text=True, encoding="ascii", errors="replace")
    assert done.returncode == 1
    assert "FAIL small_vector: raised ValueError:" in done.stdout
    assert "\x1b" not in done.stdout


# --------------------------------------------------------------------------- start, hint, check FILE default


def test_start_writes_the_starter_and_refuses_to_overwrite_without_force(tmp_path, home):
    done = run_course("start", "softmax", cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    written = tmp_path / "softmax.py"
    assert written.read_text() == exercise_file("softmax", "starter.py").read_text()
    assert str(written) in done.stdout
    assert "Numerically stable softmax" in done.stdout
    assert "    softmax(np.array([1.0, 2.0, 3.0]))" in done.stdout  # code examples kept as code
    written.write_text("my work\n")
    again = run_course("start", "softmax", cwd=tmp_path)
    assert again.returncode == 2
    assert "already exists" in again.stderr and "--force" in again.stderr
    assert written.read_text() == "my work\n"
    forced = run_course("start", "softmax", "--force", cwd=tmp_path)
    assert forced.returncode == 0
    assert written.read_text() == exercise_file("softmax", "starter.py").read_text()


def test_check_without_file_uses_the_started_file(tmp_path, home):
    work = tmp_path / "work"
    assert run_course("start", "softmax", "--dir", str(work), cwd=tmp_path).returncode == 0
    done = run_course("check", "softmax", cwd=tmp_path)
    assert done.returncode == 1
    assert "not attempted" in done.stdout
    (work / "softmax.py").write_text(exercise_file("softmax", "reference.py").read_text())
    assert run_course("check", "softmax", cwd=tmp_path).returncode == 0


def test_hints_come_one_at_a_time_and_are_recorded(tmp_path, home):
    exercise = COURSE.exercise("softmax")
    first = run_course("hint", "softmax", cwd=tmp_path)
    second = run_course("hint", "softmax", cwd=tmp_path)
    assert first.returncode == 0 and second.returncode == 0
    assert "Hint 1 of 4" in first.stdout and words(exercise.hints[0]).replace("`", "")[:40] in words(first.stdout).replace("`", "")
    assert "Hint 2 of 4" in second.stdout
    from course.progress.store import open_store

    with open_store() as store:
        assert store.hints_used("softmax") == 2


def test_exercises_lists_every_exercise_with_its_status_in_aligned_columns(tmp_path, home):
    submission = copy_submission(exercise_file("softmax", "reference.py"), tmp_path, "softmax")
    assert run_course("start", "softmax", "--adopt", str(submission), cwd=tmp_path).returncode == 0
    run_course("check", "softmax", str(submission), cwd=tmp_path)
    done = run_course("exercises", cwd=tmp_path)
    assert done.returncode == 0
    header, *rows = done.stdout.splitlines()
    assert header.split() == ["exercise", "status", "cases", "title"]
    rows = [row for row in rows if not row.startswith(" ")]  # a long title wraps in its column
    assert {row.split()[0] for row in rows} == {e.id for e in COURSE.exercises}
    columns = [header.index(name) for name in ("status", "cases", "title")]
    for row in rows:  # every column starts where its heading does
        assert all(row[at - 1] == " " and row[at] != " " for at in columns), row
    softmax = next(row for row in rows if row.startswith("softmax "))
    assert softmax[columns[0]:].startswith("passed ")


def test_checks_are_recorded_in_the_progress_store(tmp_path, home):
    submission = copy_submission(exercise_file("softmax", "mistakes/wrong_axis.py"), tmp_path, "softmax")
    run_course("start", "softmax", "--adopt", str(submission), cwd=tmp_path)
    run_course("check", "softmax", str(submission), cwd=tmp_path)
    from course.progress.store import open_store

    with open_store() as store:
        assert store.exercise_status("softmax") is Status.FAILED


def test_a_broken_progress_store_does_not_lose_the_grade(tmp_path, home):
    home.mkdir(parents=True)
    (home / "progress.sqlite3").write_bytes(b"this is not a database" * 100)
    submission = copy_submission(exercise_file("softmax", "reference.py"), tmp_path, "softmax")
    done = run_course("check", "softmax", str(submission), cwd=tmp_path)
    assert done.returncode == 0
    assert "passed, 9/9 points" in done.stdout
    assert "progress" in done.stderr + done.stdout


# --------------------------------------------------------------------------- --watch


def test_watch_checks_again_when_the_file_changes(tmp_path, home):
    submission = copy_submission(exercise_file("softmax", "mistakes/wrong_axis.py"), tmp_path, "softmax")
    env = dict(os.environ, NO_COLOR="1", PYTHONIOENCODING="utf-8", PYTHONUNBUFFERED="1")
    process = subprocess.Popen(
        [sys.executable, "-m", "course", "check", "softmax", str(submission), "--watch"],
        cwd=tmp_path, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
    )
    seen: list[str] = []

    def read_until(needle: str, timeout: float = 60) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            line = process.stdout.readline()
            if not line:
                break
            seen.append(line)
            if needle in line:
                return
        raise AssertionError(f"{needle!r} not seen in:\n{''.join(seen)}")

    try:
        read_until("failed, 7/9 points")
        read_until("Watching")
        time.sleep(0.2)
        submission.write_text(exercise_file("softmax", "reference.py").read_text())
        read_until("changed: checking again")
        read_until("passed, 9/9 points")
        read_until("Watching")
        process.send_signal(signal.SIGINT)
        assert process.wait(timeout=30) == 0  # Ctrl-C: the exit code of the last check
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()
        process.stdout.close()
    assert "Traceback" not in "".join(seen)


# --------------------------------------------------------------------------- the Python API


def test_course_check_accepts_a_function(home, tmp_path):
    module = tmp_path / "nb_cell.py"
    module.write_text(textwrap.dedent("""\
        import numpy as np
        EPS = 0.0

        def _stable(x, axis):
            return x - np.max(x, axis=axis, keepdims=True)

        def my_softmax(x, axis=-1):
            x = np.asarray(x, dtype=float)
            e = np.exp(_stable(x, axis)) + EPS
            return e / e.sum(axis=axis, keepdims=True)
        """))
    sys.path.insert(0, str(tmp_path))
    try:
        import nb_cell
    finally:
        sys.path.remove(str(tmp_path))
    result = course.check("softmax", nb_cell.my_softmax)
    assert result.passed, [c.message for c in result.cases]


def test_course_check_refuses_a_closure(home):
    scale = 1.0

    def softmax(x, axis=-1):
        return x * scale

    with pytest.raises(CourseError, match="enclosing function"):
        course.check("softmax", softmax)


def test_course_check_refuses_a_lambda(home):
    with pytest.raises(CourseError, match="lambda"):
        course.check("softmax", lambda x, axis=-1: x)


def test_course_check_on_a_missing_file_or_unknown_exercise(home, tmp_path):
    with pytest.raises(CourseError, match="file not found"):
        course.check("softmax", tmp_path / "nope.py")
    with pytest.raises(CourseError, match="unknown exercise"):
        course.check("nope", tmp_path / "nope.py")


def test_a_result_renders_as_an_escaped_table_in_jupyter(home, tmp_path):
    (tmp_path / "softmax.py").write_text("import numpy as np\ndef softmax(x, axis=-1):\n    raise ValueError('<b>bold</b>')\n")
    html = course.check("softmax", tmp_path / "softmax.py")._repr_html_()
    assert "<table>" in html and html.count('<tr class="failed">') == 9
    assert "<b>bold</b>" not in html and "&lt;b&gt;bold&lt;/b&gt;" in html


def test_import_course_and_help_stay_free_of_numpy(tmp_path):
    code = "import sys, course, course.cli; assert 'numpy' not in sys.modules, 'numpy imported'; print(callable(course.check))"
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "True"


# --------------------------------------------------------------------------- a student release


HIDDEN_CASE = """\
  - name: hidden_one
    visibility: hidden
    seed: 2
    args:
      - {normal: {shape: [2, 5], scale: 10.0}}
"""
# The tiny course's exercise without its hidden case: what a release would keep.
STUDENT_EXERCISE = TINY_EXERCISE.replace(HIDDEN_CASE, "")


def test_a_student_release_grades_from_stored_vectors(tmp_path, home):
    from coursefactory import write_course

    from course.grading.expected import write_expected
    from course.loader import EXPECTED_FILE

    instructor = write_course(tmp_path / "instructor", exercise=STUDENT_EXERCISE)
    exercise = load_course(instructor).exercise("double")
    student = write_course(tmp_path / "student", exercise=STUDENT_EXERCISE)
    folder = student / "exercises" / "double"
    stored = write_expected(exercise, folder / EXPECTED_FILE)
    assert set(stored) == {"case/small", "mistake/triple/small"}
    (folder / "reference.py").unlink()
    (folder / "mistakes" / "triple.py").unlink()
    (student / "course.yaml").write_text("format_version: 1\ntitle: Tiny\nedition: student\n")
    (tmp_path / "double.py").write_text("def double(x):\n    return x + x\n")
    (tmp_path / "triple.py").write_text("def double(x):\n    return 3 * x\n")
    good = run_course("--course", str(student), "check", "double", "double.py", cwd=tmp_path)
    assert good.returncode == 0, good.stdout + good.stderr
    bad = run_course("--course", str(student), "check", "double", "triple.py", "--format", "json", cwd=tmp_path)
    report = json.loads(bad.stdout)
    assert report["advice"] == ["multiply by two, not three"]


# --------------------------------------------------------------------------- one BLAS thread

THREADS_AFTER_A_CHECK = textwrap.dedent('''
    import os, sys
    from course.cli import main
    sys.argv = ["course", "check", "softmax", sys.argv[1]]
    try:
        main()
    except SystemExit:
        pass
    status = dict(line.split(":", 1) for line in open("/proc/self/status") if ":" in line)
    print(status["Threads"].strip(), os.environ.get("OPENBLAS_NUM_THREADS"), file=sys.stderr)
''')


@pytest.mark.skipif(not Path("/proc/self/status").exists(), reason="counts threads in /proc")
def test_course_runs_numpy_on_one_blas_thread_unless_told_otherwise(tmp_path, home):
    submission = copy_submission(COURSE.exercise("softmax").folder / "reference.py", tmp_path, "softmax")
    env = {k: v for k, v in os.environ.items() if not k.endswith("_NUM_THREADS")}
    found = {}
    for setting in (None, "2"):
        run_env = dict(env, **({"OPENBLAS_NUM_THREADS": setting} if setting else {}))
        done = subprocess.run([sys.executable, "-c", THREADS_AFTER_A_CHECK, str(submission)], cwd=tmp_path,
                              env=run_env, capture_output=True, text=True, timeout=120)
        assert "passed, 9/9 points" in done.stdout, done.stdout + done.stderr
        found[setting] = done.stderr.split()[-2:]
    assert found[None] == ["1", "1"]  # numpy imported, the check done: no BLAS thread was started
    assert found["2"][1] == "2" and int(found["2"][0]) >= 2  # the user's own setting is kept
