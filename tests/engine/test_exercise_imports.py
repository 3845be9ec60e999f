"""A submission is one file, except for the student's own files an exercise lets it import.

self_attention may `from softmax import softmax` (its exercise.yaml says `imports: [softmax]`): the
student's softmax.py beside the submission then runs, in the same sandbox. Anything else is the
one-file rule, said plainly.
"""
from __future__ import annotations

import csv
import json
import os
import subprocess
from pathlib import Path

import numpy as np

import courserunner
from course.grading import sandbox
from course.grading.sandbox.records import Call
from coursefactory import write_course

QUADRUPLE = """\
# yaml-language-server: $schema=../../course/schemas/exercise.schema.json
format_version: 1
id: quadruple
title: Four times
lesson: intro
section: basics
function: quadruple
signature: quadruple(x)
imports: [double]
instructions: Return 4 * x (you may use your double).
hints:
  - Double twice.
cases:
  - name: small
    visibility: public
    seed: 1
    args:
      - {normal: {shape: [3]}}
  - name: secret
    visibility: hidden
    seed: 2
    args:
      - {normal: {shape: [2, 2]}}
"""

MINE_DOUBLE = "import numpy as np\n\ndef double(x):\n    return 2 * np.asarray(x)\n"
REUSES = "from double import double\n\ndef quadruple(x):\n    return double(double(x))\n"


def two_exercise_course(root: Path) -> Path:
    write_course(root)
    folder = root / "exercises" / "quadruple"
    folder.mkdir(parents=True)
    (folder / "exercise.yaml").write_text(QUADRUPLE)
    (folder / "starter.py").write_text("def quadruple(x):\n    raise NotImplementedError\n")
    (folder / "reference.py").write_text("def quadruple(x):\n    return 4 * x\n")
    lesson = root / "content" / "intro" / "lesson.yaml"
    lesson.write_text(lesson.read_text().replace("exercises: [double]", "exercises: [double, quadruple]"))
    return root


def run_course(*args: str, cwd: Path) -> subprocess.CompletedProcess:
    env = dict(os.environ, NO_COLOR="1", PYTHONIOENCODING="utf-8")
    return courserunner.run_course(*args, cwd=cwd, env=env, timeout=120)


def test_a_submission_may_import_the_students_own_file_the_exercise_allows(tmp_path, home):
    root = two_exercise_course(tmp_path / "root")
    (tmp_path / "double.py").write_text(MINE_DOUBLE)
    (tmp_path / "quadruple.py").write_text(REUSES)
    done = run_course("--course", str(root), "check", "quadruple", "quadruple.py", cwd=tmp_path)
    assert done.returncode == 0, done.stdout + done.stderr
    assert "quadruple (quadruple.py): passed, 2/2 points" in done.stdout


def test_the_imported_file_is_the_students_own_with_its_own_mistakes(tmp_path, home):
    root = two_exercise_course(tmp_path / "root")
    (tmp_path / "double.py").write_text("def double(x):\n    return 3 * x\n")
    (tmp_path / "quadruple.py").write_text(REUSES)
    done = run_course("--course", str(root), "check", "quadruple", "quadruple.py", "--format", "json", cwd=tmp_path)
    assert done.returncode == 1
    assert json.loads(done.stdout)["score"] == 0


def test_a_missing_allowed_file_is_named_and_anything_else_is_the_one_file_rule(tmp_path, home):
    root = two_exercise_course(tmp_path / "root")
    (tmp_path / "quadruple.py").write_text(REUSES)
    done = run_course("--course", str(root), "check", "quadruple", "quadruple.py", cwd=tmp_path)
    flat = " ".join(done.stdout.split())
    assert done.returncode == 1 and "Traceback (most recent call last)" not in done.stderr
    assert "lets you import your own double.py, but there is no double.py beside this file" in flat
    (tmp_path / "quadruple.py").write_text("from helpers import four\n\ndef quadruple(x):\n    return four(x)\n")
    done = run_course("--course", str(root), "check", "quadruple", "quadruple.py", cwd=tmp_path)
    flat = " ".join(done.stdout.split())
    assert "a submission is one file: 'helpers' is not available to it; of your other files it may import only " \
           "double. Put the helper functions you need inside this file." in flat
    (tmp_path / "double.py").write_text("from quadruple import quadruple\n\ndef double(x):\n    return x\n")
    done = run_course("--course", str(root), "check", "double", "double.py", cwd=tmp_path)
    assert "a submission is one file: 'quadruple' is not available to it; it may not import your other files" \
           in " ".join(done.stdout.split())


def test_an_error_in_the_imported_file_shows_its_own_lines(home):
    broken = "import numpy as np\n\ndef double(x):\n    return np.asarray(x) * undefined_name\n"
    run = sandbox.run(REUSES, filename="quadruple.py", function="quadruple", calls=[Call((np.ones(2),))],
                      modules={"double": broken}, allowed=("double",))
    error = run.outcomes[0].error
    assert error.startswith("NameError: name 'undefined_name' is not defined")
    assert 'File "quadruple.py", line 4' in error and 'File "double.py", line 4' in error


def test_grade_gives_each_student_their_own_imported_file(tmp_path, home):
    root = two_exercise_course(tmp_path / "root")
    subs = tmp_path / "subs"
    for name, double in (("ann", MINE_DOUBLE), ("bob", "def double(x):\n    return x\n")):
        (subs / name).mkdir(parents=True)
        (subs / name / "double.py").write_text(double)
        (subs / name / "quadruple.py").write_text(REUSES)
    out = tmp_path / "out"
    done = run_course("--course", str(root), "grade", str(subs), "--out", str(out), "--exercise", "quadruple",
                      cwd=tmp_path)
    assert done.returncode == 1, done.stdout + done.stderr
    with open(out / "grades.csv", newline="") as f:
        rows = {r["student"]: r for r in csv.DictReader(line for line in f if not line.startswith("#"))}
    assert rows["ann"]["quadruple status"] == "passed" and rows["bob"]["quadruple status"] == "failed"
    # bob fixes his double.py only: the unassigned file still counts, so bob is graded again
    (subs / "bob" / "double.py").write_text(MINE_DOUBLE)
    again = run_course("--course", str(root), "grade", str(subs), "--out", str(out), "--exercise", "quadruple",
                       cwd=tmp_path)
    assert again.returncode == 0, again.stdout + again.stderr
    assert "1 graded, 1 unchanged" in again.stdout


def test_an_exercise_may_import_only_exercises_that_exist(tmp_path, home):
    root = two_exercise_course(tmp_path / "root")
    path = root / "exercises" / "quadruple" / "exercise.yaml"
    path.write_text(path.read_text().replace("imports: [double]", "imports: [dubble]"))
    done = run_course("validate", str(root), cwd=tmp_path)
    assert done.returncode == 2
    assert "exercises/quadruple/exercise.yaml:9:11: exercise 'quadruple' imports unknown exercise 'dubble'" \
           in done.stdout + done.stderr
    assert "did you mean 'double'" in done.stdout + done.stderr
