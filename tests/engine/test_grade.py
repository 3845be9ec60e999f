"""`course grade SUBMISSIONS --out DIR` on real folders of real files, through the real
command and the real sandbox: right, wrong, hostile and missing submissions.

Hangs are graded against a copy of the built-in course whose time limits are cut to
one or two seconds (timeouts come from the exercise's limits), so the tests stay quick.
"""
from __future__ import annotations

import csv
import json
import os
import shutil
import signal
import subprocess
import sys
import time
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest

import courserunner
from course.grading.sandbox import isolation_available
from course.instructor.grade import html_renderer
from course.loader import load_course
from course.paths import builtin_root
from test_class_trust import _sandbox_processes

ROOT = builtin_root()
COURSE = load_course(ROOT)
EXERCISES = [e.id for e in COURSE.exercises]
N, TOTAL = len(EXERCISES), sum(c.points for e in COURSE.exercises for c in e.cases)  # every exercise, every point


def run_course(*args: str, cwd: Path, timeout: float = 300, env: dict | None = None) -> subprocess.CompletedProcess:
    """`course ARGS` in this process (tests/courserunner.py; its workers fork from here); the tests of
    what the grader's own processes do (Ctrl-C, the progress bar on a terminal) start it themselves."""
    env = dict(env or os.environ, NO_COLOR="1", PYTHONIOENCODING="utf-8")
    return courserunner.run_course(*args, cwd=cwd, env=env, timeout=timeout)


def exercise_file(exercise_id: str, name: str) -> str:
    return (ROOT / "exercises" / exercise_id / name).read_text()


def write(folder: Path, name: str, text: str) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / name
    path.write_text(text)
    return path


def short_limits_course(tmp_path: Path, seconds: float = 1) -> Path:
    """A copy of the built-in course with the wall-clock limit of every exercise that has the default
    10 seconds cut to `seconds` (tiny_gpt, whose weights take longer to send, keeps its own)."""
    root = tmp_path / "course-root"  # not "course": `python -m course` run here would import it
    for folder in ("content", "exercises"):
        shutil.copytree(ROOT / folder, root / folder, ignore=shutil.ignore_patterns("__pycache__"))
    for path in (root / "exercises").glob("*/exercise.yaml"):
        text = path.read_text()
        assert "wall_seconds: " in text
        path.write_text(text.replace("wall_seconds: 10", f"wall_seconds: {seconds}"))
    return root


def _become_subreaper() -> bool:
    """Orphans of our descendants (a sandbox a grader failed to kill) are re-parented to this
    process instead of init, so _sandbox_processes() finds them, and only ours."""
    if not sys.platform.startswith("linux"):
        return False
    import ctypes

    return ctypes.CDLL(None, use_errno=True).prctl(36, 1, 0, 0, 0) == 0  # PR_SET_CHILD_SUBREAPER


SUBREAPER = _become_subreaper()


def read_grades(out: Path) -> dict[str, dict[str, str]]:
    """Student -> row of grades.csv (the "Points Possible" row left out)."""
    with open(out / "grades.csv", newline="") as f:
        lines = [line for line in f if not line.startswith("#")]
    return {row["student"]: row for row in csv.DictReader(lines) if row["student"] != "Points Possible"}


# --------------------------------------------------------------------------- a class


@pytest.fixture(scope="module")
def graded_class(tmp_path_factory):
    """One class graded once: right, wrong, hostile, missing and unreadable submissions."""
    base = tmp_path_factory.mktemp("class")
    root = short_limits_course(base, seconds=2)
    subs = base / "submissions"
    alice = subs / "alice"  # every exercise right
    for exercise_id in EXERCISES:
        write(alice, f"{exercise_id}.py", exercise_file(exercise_id, "reference.py"))
    bob = subs / "bob"  # typical mistakes, one file only partly done, the rest missing
    write(bob, "softmax.py", exercise_file("softmax", "mistakes/no_max_subtraction.py"))
    write(bob, "param_count.py", exercise_file("param_count", "mistakes/missing_biases.py"))
    write(bob, "causal_mask.py", exercise_file("causal_mask", "starter.py"))
    write(bob, "softmx.py", "print('typo in the file name')\n")
    mallory = subs / "mallory"  # attacks the grader
    # hangs (asleep: a hang that spins the CPU is test_sandbox.py's and test_class_trust.py's)
    write(mallory, "softmax.py", "import time\ndef softmax(x, axis=-1):\n    while True:\n        time.sleep(1)\n")
    write(mallory, "self_attention.py", "import sys\nsys.exit(0)\n")
    write(mallory, "layer_norm.py", "import os\ndef layer_norm(x, gamma, beta, eps=1e-5):\n    os._exit(0)\n")
    write(mallory, "causal_mask.py", f"SECRET = open({str(alice / 'causal_mask.py')!r}).read()\n"
                                     "def causal_mask(n):\n    return SECRET\n")
    write(mallory, "positional_encoding.py",
          "def positional_encoding(n_positions, d_model):\n    while True:\n        print('x' * 100000)\n")
    (mallory / "param_count.py").symlink_to(ROOT / "exercises" / "param_count" / "reference.py")
    trudy = subs / "trudy"  # files the parent must refuse to read
    (trudy / "softmax.py").mkdir(parents=True)
    (trudy / "self_attention.py").write_bytes(b"# \xff\xfe latin-1 bytes\ndef self_attention(q, k, v, mask=None):\n    return q\n")
    (trudy / "layer_norm.py").write_bytes(b"#" * (2 << 20))
    os.mkfifo(trudy / "causal_mask.py")
    (trudy / "param_count.py").symlink_to("../alice/param_count.py")  # another student's work
    write(trudy, "helper.txt", "not a submission\n")
    (subs / "README.txt").write_text("collected on Monday\n")  # not a student
    out = base / "grades"
    env = dict(os.environ, COURSE_HOME=str(base / "home"))
    env.pop("COURSE_ROOT", None)
    done = run_course("--course", str(root), "grade", str(subs), "--out", str(out), "--jobs", "2",
                      cwd=base, env=env)
    return {"base": base, "root": root, "subs": subs, "out": out, "done": done, "env": env}


def results_of(graded_class) -> dict:
    return json.loads((graded_class["out"] / "results.json").read_text())


def result(graded_class, student: str, exercise_id: str) -> dict:
    data = results_of(graded_class)
    entry = next(s for s in data["students"] if s["student"] == student)
    return next(r for r in entry["results"] if r["exercise"] == exercise_id)


def test_a_class_is_graded_and_the_exit_code_says_something_failed(graded_class):
    done = graded_class["done"]
    assert done.returncode == 1, done.stdout + done.stderr
    assert "Traceback" not in done.stderr
    for line in (f"alice: {N}/{N} exercises passed, {TOTAL:g}/{TOTAL:g} points", f"bob: 0/{N} exercises passed",
                 f"mallory: 0/{N} exercises passed, 0/{TOTAL:g} points",
                 f"trudy: 0/{N} exercises passed, 0/{TOTAL:g} points"):
        assert line in done.stdout
    assert f"4 students (4 graded, 0 unchanged; {N + 14} files graded)" in done.stdout  # alice: all; others: 14
    assert "ignored README.txt: not a folder" in done.stderr


def test_grades_csv_has_points_and_status_per_exercise_a_maximum_and_a_total(graded_class):
    out = graded_class["out"]
    header, maxima = (out / "grades.csv").read_text().splitlines()[:2]
    assert header == ",".join(["student", *(f"{e},{e} status" for e in EXERCISES), "total"])
    maximum = {e.id: sum(c.points for c in e.cases) for e in COURSE.exercises}
    assert maxima == ",".join(["Points Possible", *(f"{maximum[e]:g}," for e in EXERCISES), f"{TOTAL:g}"])
    grades = read_grades(out)
    assert list(grades) == ["alice", "bob", "mallory", "trudy"]
    assert grades["alice"]["total"] == f"{TOTAL:g}"
    assert all(grades["alice"][e] != "0" and grades["alice"][f"{e} status"] == "passed" for e in EXERCISES)
    assert grades["bob"]["softmax"] == "6" and grades["bob"]["softmax status"] == "failed"
    # missing_biases counts the LLaMA configs right (they have no biases): their points, no other
    llama = sum(c.points for c in COURSE.exercise("param_count").cases if "llama" in c.name)
    assert llama > 0 and grades["bob"]["param_count"] == f"{llama:g}"
    assert grades["bob"]["layer_norm status"] == "not_submitted"
    assert grades["bob"]["causal_mask status"] == "not_attempted"  # the starter, unchanged
    assert grades["bob"]["total"] == f"{6 + llama:g}"
    assert grades["mallory"]["softmax status"] == "error"  # it hangs
    assert grades["trudy"]["softmax status"] == "unreadable"  # a folder, not a file
    assert all(grades[name]["total"] == "0" for name in ("mallory", "trudy"))


def test_missing_files_score_zero_as_not_submitted(graded_class):
    missing = result(graded_class, "bob", "layer_norm")
    assert missing["status"] == "not_attempted" and missing["score"] == 0
    assert missing["cases"][0]["message"] == "not submitted: there is no layer_norm.py in bob/"
    starter = result(graded_class, "bob", "causal_mask")
    assert starter["status"] == "not_attempted" and "still the starter code" in starter["cases"][0]["message"]


def test_known_mistakes_get_their_advice_in_the_batch(graded_class):
    overflow = result(graded_class, "bob", "softmax")
    assert overflow["status"] == "failed" and overflow["score"] == 6
    assert any(c["mistake"] == "no_max_subtraction" for c in overflow["cases"])
    assert "subtract" in " ".join(overflow["advice"]).lower() or "maximum" in " ".join(overflow["advice"])


def test_hostile_submissions_score_zero_with_the_reason_and_the_batch_goes_on(graded_class):
    hang = result(graded_class, "mallory", "softmax")
    assert hang["status"] == "error" and hang["cases"][0]["message"].endswith("(time limit)")
    exits = result(graded_class, "mallory", "self_attention")
    assert exits["score"] == 0 and exits["status"] in ("error", "failed")
    exits_in_call = result(graded_class, "mallory", "layer_norm")
    assert exits_in_call["score"] == 0 and exits_in_call["status"] == "error"
    flood = result(graded_class, "mallory", "positional_encoding")
    assert flood["score"] == 0 and flood["status"] == "error"
    link = result(graded_class, "mallory", "param_count")
    assert link["score"] == 0 and "symbolic link to a file outside its folder" in link["load_error"]
    # (run_course's timeout guards against a hang; how fast a class is graded: bench/grade_batch.py)


@pytest.mark.skipif(not isolation_available().namespaces, reason="needs the sandbox's namespaces")
def test_a_submission_cannot_read_another_students_file(graded_class):
    snoop = result(graded_class, "mallory", "causal_mask")
    assert snoop["status"] == "error" and snoop["score"] == 0
    assert "FileNotFoundError" in snoop["load_error"] or "PermissionError" in snoop["load_error"]


def test_files_the_grader_must_not_read_are_refused_with_the_reason(graded_class):
    assert "is a folder, not a Python file" in result(graded_class, "trudy", "softmax")["load_error"]
    assert "is not UTF-8 text (byte 0xff on line 1)" in result(graded_class, "trudy", "self_attention")["load_error"]
    assert "more than the 1,048,576 bytes" in result(graded_class, "trudy", "layer_norm")["load_error"]
    assert "is not a regular file" in result(graded_class, "trudy", "causal_mask")["load_error"]
    assert "outside its folder" in result(graded_class, "trudy", "param_count")["load_error"]


def test_stray_python_files_are_noted(graded_class):
    bob = next(s for s in results_of(graded_class)["students"] if s["student"] == "bob")
    assert bob["notes"] == ["softmx.py is not graded (no such exercise); did you mean softmax.py?"]


def test_every_student_gets_junit_and_gradescope_reports(graded_class):
    out = graded_class["out"]
    for student in ("alice", "bob", "mallory", "trudy"):
        suites = ET.parse(out / student / "junit.xml").getroot()
        assert suites.get("name") == student
        assert [s.get("name") for s in suites.findall("testsuite")] == EXERCISES
        gradescope = json.loads((out / student / "results.json").read_text())
        assert {"score", "max_score", "tests"} <= set(gradescope)
    if html_renderer() is not None:  # the HTML reports are installed: a page per student
        for student in ("alice", "bob", "mallory", "trudy"):
            page = (out / student / "report.html").read_text()
            assert student in page and "<html" in page
    alice = json.loads((out / "alice" / "results.json").read_text())
    assert alice["score"] == alice["max_score"] == TOTAL
    assert int(ET.parse(out / "alice" / "junit.xml").getroot().get("failures")) == 0
    bob = ET.parse(out / "bob" / "junit.xml").getroot()
    assert int(bob.get("failures")) > 0


def test_results_json_holds_everything_and_a_digest_per_student(graded_class):
    data = results_of(graded_class)
    assert data["partial"] is False and data["students_graded"] == data["students_total"] == 4
    assert [e["id"] for e in data["exercises"]] == EXERCISES
    for entry in data["students"]:
        assert len(entry["digest"]) == 64
        assert [r["exercise"] for r in entry["results"]] == EXERCISES
        for r in entry["results"]:
            assert {"exercise", "passed", "score", "max_score", "cases"} <= set(r)


def test_no_sandbox_is_left_running_after_a_batch(graded_class):
    assert _sandbox_processes() == []


def test_rerun_reuses_unchanged_students_and_regrades_changed_ones(graded_class, tmp_path):
    subs = tmp_path / "subs"
    shutil.copytree(graded_class["subs"] / "alice", subs / "alice")
    shutil.copytree(graded_class["subs"] / "bob", subs / "bob")
    out = tmp_path / "grades"
    env, root = graded_class["env"], str(graded_class["root"])
    assigned = ["softmax", "param_count", "causal_mask"]  # bob's three files (what reruns do is per file)
    grade = ["--course", root, "grade", str(subs), "--out", str(out)] + [f"--exercise={e}" for e in assigned]
    points = sum(c.points for e in COURSE.exercises if e.id in assigned for c in e.cases)
    first = run_course(*grade, cwd=tmp_path, env=env)
    assert first.returncode == 1 and "2 graded, 0 unchanged" in first.stdout
    again = run_course(*grade, cwd=tmp_path, env=env)
    assert f"alice: 3/3 exercises passed, {points:g}/{points:g} points (unchanged since the last run)" in again.stdout
    assert "0 graded, 2 unchanged" in again.stdout
    whole_class = read_grades(graded_class["out"])
    columns = [f"{e}{suffix}" for e in assigned for suffix in ("", " status")]
    assert {name: {c: row[c] for c in columns} for name, row in read_grades(out).items()} == \
        {name: {c: whole_class[name][c] for c in columns} for name in ("alice", "bob")}  # as in the whole class
    (subs / "bob" / "softmax.py").write_text(exercise_file("softmax", "reference.py"))
    changed = run_course(*grade, cwd=tmp_path, env=env)
    assert "1 graded, 1 unchanged" in changed.stdout
    assert read_grades(out)["bob"]["softmax"] == "9"
    forced = run_course(*grade, "--force", cwd=tmp_path, env=env)
    assert "2 graded, 0 unchanged" in forced.stdout


def test_a_class_that_passes_everything_exits_0(tmp_path, home):
    subs = tmp_path / "subs"
    for exercise_id in EXERCISES:
        write(subs / "ada", f"{exercise_id}.py", exercise_file(exercise_id, "reference.py"))
    done = run_course("grade", str(subs), "--out", str(tmp_path / "out"), "--jobs", "1", cwd=tmp_path)
    assert done.returncode == 0, done.stdout + done.stderr
    assert f"ada: {N}/{N} exercises passed, {TOTAL:g}/{TOTAL:g} points" in done.stdout


def test_a_student_folder_name_with_quotes_still_gives_valid_junit(tmp_path, home):
    subs = tmp_path / "subs"
    student = 'o"neil & <co>'
    write(subs / student, "softmax.py", exercise_file("softmax", "reference.py"))
    done = run_course("grade", str(subs), "--out", str(tmp_path / "out"), "--jobs", "1", cwd=tmp_path)
    assert done.returncode == 1, done.stdout + done.stderr  # five exercises not submitted
    root = ET.parse(tmp_path / "out" / student / "junit.xml").getroot()
    assert root.get("name") == student


# --------------------------------------------------------------------------- Ctrl-C


def test_ctrl_c_stops_cleanly_keeps_what_was_written_and_a_rerun_finishes(tmp_path):
    root = short_limits_course(tmp_path, seconds=1)
    subs = tmp_path / "subs"
    names = [f"student{i}" for i in range(6)]
    for name in names:  # each holds a worker for its 1 s limit (waiting, not spinning: no CPU burnt for it)
        write(subs / name, "softmax.py", "import time\ndef softmax(x, axis=-1):\n    time.sleep(3600)\n")
    out = tmp_path / "grades"
    env = dict(os.environ, COURSE_HOME=str(tmp_path / "home"), NO_COLOR="1")
    command = [sys.executable, "-m", "course", "--course", str(root), "grade", str(subs), "--out", str(out),
               "--jobs", "2"]
    process = subprocess.Popen(command, cwd=tmp_path, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                               text=True)
    root_line = process.stdout.readline()  # the first line names the course root
    assert root_line.startswith("course root: "), root_line + process.stderr.read()
    first = process.stdout.readline()  # a student is finished: the batch is under way
    assert first.startswith("student"), first + process.stderr.read()
    process.send_signal(signal.SIGINT)
    stdout, stderr = process.communicate(timeout=30)
    assert process.returncode == 130, stdout + stderr
    assert "Traceback" not in stderr and "interrupted:" in stderr
    time.sleep(0.2)
    assert _sandbox_processes() == []
    grades = (out / "grades.csv").read_text().splitlines()
    assert grades[0].startswith("# PARTIAL:")
    data = json.loads((out / "results.json").read_text())
    assert data["partial"] is True and 1 <= data["students_graded"] < len(names)
    graded = [s["student"] for s in data["students"]]
    assert all((out / name / "junit.xml").is_file() for name in graded)

    for name in set(names) - set(graded):  # the rest hand in a quick wrong answer: the rerun need not wait
        write(subs / name, "softmax.py", "def softmax(x, axis=-1):\n    return x\n")
    done = run_course("--course", str(root), "grade", str(subs), "--out", str(out), "--jobs", "2",
                      cwd=tmp_path, env=env)
    assert done.returncode == 1
    assert f"{len(names) - len(graded)} graded, {len(graded)} unchanged" in done.stdout
    assert not (out / "grades.csv").read_text().startswith("#")
    assert json.loads((out / "results.json").read_text())["partial"] is False


# --------------------------------------------------------------------------- progress


def test_a_terminal_gets_a_progress_bar(tmp_path, home):
    pexpect = pytest.importorskip("pexpect")
    subs = tmp_path / "subs"
    for name in ("ann", "ben"):
        write(subs / name, "softmax.py", exercise_file("softmax", "reference.py"))
    child = pexpect.spawn(sys.executable, ["-m", "course", "grade", str(subs), "--out", str(tmp_path / "out")],
                          cwd=str(tmp_path), env=dict(os.environ, NO_COLOR="1"), encoding="utf-8", timeout=120)
    child.expect("Grading")
    child.expect(pexpect.EOF)
    child.close()
    assert child.exitstatus == 1
    assert "2/2" in child.before or "100%" in child.before
    assert "ann: " not in child.before  # the bar replaces the per-student lines


# --------------------------------------------------------------------------- bad input


@pytest.mark.parametrize("make, message", [
    (lambda tmp: tmp / "nowhere", "submissions folder not found"),
    (lambda tmp: write(tmp, "file.txt", "x"), "is a file"),
])
def test_bad_submissions_folders_exit_2_without_a_traceback(tmp_path, home, make, message):
    done = run_course("grade", str(make(tmp_path)), "--out", str(tmp_path / "out"), cwd=tmp_path)
    assert done.returncode == 2
    assert message in done.stderr and "Traceback" not in done.stderr


def test_out_inside_a_students_folder_is_refused(tmp_path, home):
    write(tmp_path / "subs" / "ann", "softmax.py", "x = 1\n")
    done = run_course("grade", "subs", "--out", "subs/ann/grades", cwd=tmp_path)
    assert done.returncode == 2 and "inside a student's folder" in done.stderr


def test_out_inside_submissions_is_not_taken_for_a_student(tmp_path, home):
    write(tmp_path / "subs" / "ann", "softmax.py", exercise_file("softmax", "reference.py"))
    done = run_course("grade", "subs", "--out", "subs/_grades", cwd=tmp_path)
    assert done.returncode == 1, done.stderr
    assert "1 students" in done.stdout
    assert list(read_grades(tmp_path / "subs" / "_grades")) == ["ann"]


def test_out_must_be_given(tmp_path, home):
    (tmp_path / "subs").mkdir()
    done = run_course("grade", "subs", cwd=tmp_path)
    assert done.returncode == 2 and "--out" in done.stderr


# The GitHub Actions recipes in docs/classroom.md: tests/engine/test_ci_recipes.py (linted, options checked).
