"""`course verify`: the authoring linter that runs the content, through the real command.

The built-in course must verify clean. Copies of it, broken the way authors break
courses (a known mistake that is not one, a starter that returns something, a
reference that overflows, a mistake file that does not import, no hidden case, a quiz
question whose key cannot be written), must each be reported on one line.
"""
from __future__ import annotations

import os
import re
import shutil
import subprocess
from pathlib import Path

import pytest

import courserunner
from course.paths import builtin_root

ROOT = builtin_root()
LINE = re.compile(r"^(?P<file>[\w./-]+):(?P<line>\d+):(?P<col>\d+): (?P<message>.+)$")


def run_course(*args: str, cwd: Path, env: dict | None = None) -> subprocess.CompletedProcess:
    env = dict(env or os.environ, NO_COLOR="1", PYTHONIOENCODING="utf-8")
    env.pop("COURSE_ROOT", None)
    return courserunner.run_course(*args, cwd=cwd, env=env, timeout=600)


def copy_course(tmp_path: Path) -> Path:
    root = tmp_path / "course-root"
    for folder in ("content", "exercises"):
        shutil.copytree(ROOT / folder, root / folder, ignore=shutil.ignore_patterns("__pycache__"))
    return root


def problems(stdout: str) -> list[str]:
    return [line for line in stdout.splitlines() if LINE.match(line)]


@pytest.fixture
def env(tmp_path):
    return dict(os.environ, COURSE_HOME=str(tmp_path / "home"))


# Every known mistake of the built-in course through `course verify`, each in its own sandbox: an
# exhaustive sweep of the content, in the end-to-end tier. The README's command keeps one mistake per
# exercise through `course check` (test_check.py) and every mistake in-process
# (tests/content/test_exercise_references.py), and verify's own tests on the tiny course below.
@pytest.mark.slow
def test_the_built_in_course_verifies_clean(tmp_path, env):
    done = run_course("verify", cwd=tmp_path, env=env)
    assert done.returncode == 0, done.stdout + done.stderr
    out = done.stdout
    assert out.splitlines()[0].startswith("course root: ")
    assert out.splitlines()[1].startswith("validate: ok (1 lesson(s), 76 quiz question(s), 12 exercise(s)")
    assert "quiz lesson-3: the answer key scores full marks for seeds 0-4" in out
    assert "softmax: reference passes 9/9 cases; starter not attempted (run: not attempted); 7/7 known mistakes caught" in out
    # which case and check catch each mistake, for authors
    assert re.search(r"^  no_max_subtraction +public: large_logits \(finite\); hidden: 2 cases \(finite\); "
                     r"advice shown on 3 of 3$", out, re.M)
    assert re.search(r"^  integer_output +hidden: 1 case \(dtype\); only hidden cases catch it", out, re.M)
    assert out.rstrip().endswith("ok: no problems")
    assert problems(out) == []
    # the exercises of issue 13: every reference passes, every starter is not attempted, and every
    # known mistake is caught and named ("advice shown on n of n": each failure is recognised as it)
    for exercise_id, cases, mistakes in [("multi_head_attention", 8, 5), ("transformer_block", 8, 5),
                                         ("cross_entropy", 10, 6), ("tiny_gpt", 8, 8), ("kv_cache", 7, 4),
                                         ("sampling", 11, 6), ("param_count", 13, 12)]:
        assert (f"{exercise_id}: reference passes {cases}/{cases} cases; starter not attempted (run: not attempted); "
                f"{mistakes}/{mistakes} known mistakes caught") in out
    # every known mistake of every exercise: caught, and its advice shown on every failure it causes
    # (tests/engine/test_check.py takes one per exercise through `course check`'s own output)
    from course.loader import load_course

    lines = out.splitlines()
    for exercise in load_course(ROOT).exercises:
        block = lines[next(i for i, line in enumerate(lines) if line.startswith(f"{exercise.id}: reference passes")):]
        for mistake in exercise.mistakes:
            line = next(line for line in block if line.startswith(f"  {mistake.name} "))
            shown, caught = re.search(r"advice shown on (\d+) of (\d+)$", line).groups()
            assert shown == caught != "0", (exercise.id, line)


def test_every_authoring_problem_is_one_line_and_exit_1(tmp_path, env):
    root = copy_course(tmp_path)
    exercises = root / "exercises"
    # a "mistake" that is really right
    shutil.copyfile(exercises / "softmax" / "reference.py", exercises / "softmax" / "mistakes" / "wrong_axis.py")
    # a starter that returns something instead of raising NotImplementedError
    starter = exercises / "layer_norm" / "starter.py"
    starter.write_text(starter.read_text().replace('raise NotImplementedError("layer_norm: write your implementation here")',
                                                   "return x"))
    assert "return x" in starter.read_text()
    # every case public
    yaml_file = exercises / "causal_mask" / "exercise.yaml"
    yaml_file.write_text(yaml_file.read_text().replace("visibility: hidden", "visibility: public"))
    # a text question whose key the engine cannot write (a look-ahead, no `accept`)
    quiz = root / "content" / "lesson-3" / "quiz.yaml"
    quiz.write_text(quiz.read_text().rstrip("\n") + "\n" + (
        "  - id: look-ahead\n    kind: text\n    section: introduction\n    prompt: Type the word.\n"
        "    hint: It is 'word'.\n    explanation: It was 'word'.\n    pattern: \"(?=w)word\"\n"))

    done = run_course("--course", str(root), "verify", "softmax", "layer_norm", "causal_mask", cwd=tmp_path, env=env)
    assert done.returncode == 1, done.stdout + done.stderr
    lines = problems(done.stdout)
    assert any(line.startswith("exercises/softmax/exercise.yaml:") and
               "mistake 'wrong_axis' passes every case: add a case that catches it" in line for line in lines), lines
    assert any(line.startswith("exercises/layer_norm/exercise.yaml:") and
               "the starter, run as a student's file, is graded 'failed' instead of 'not attempted'" in line
               for line in lines), lines
    assert any("exercise 'causal_mask' has no hidden case" in line for line in lines), lines
    assert any(line.startswith("content/lesson-3/quiz.yaml:") and "the answer key for seed 0 scores 0/1 on question "
               "'look-ahead'" in line for line in lines), lines
    assert "wrong_axis" in done.stdout and "NOT CAUGHT" in done.stdout
    assert f"{len(lines)} problems" in done.stderr
    assert "Traceback" not in done.stderr


def test_broken_references_and_mistake_files_are_reported_precisely(tmp_path, env):
    root = copy_course(tmp_path)
    exercises = root / "exercises"
    shutil.copyfile(exercises / "softmax" / "mistakes" / "no_max_subtraction.py", exercises / "softmax" / "reference.py")
    (exercises / "self_attention" / "mistakes" / "no_scale.py").write_text("def self_attention(query, key,\n")
    done = run_course("--course", str(root), "verify", "softmax", "self_attention", cwd=tmp_path, env=env)
    assert done.returncode == 1, done.stdout + done.stderr
    lines = problems(done.stdout)
    assert any("the reference fails case 'large_logits' (sums_to_one): does not sum to 1" in line for line in lines), lines
    assert any("mistake 'no_scale' cannot be used:" in line and "no_scale.py" in line for line in lines), lines
    assert any("exercise 'self_attention' was not run" in line for line in lines), lines
    assert "self_attention: not run (see the problems below)" in done.stdout


def test_content_errors_stop_verify_with_exit_2(tmp_path, env):
    root = copy_course(tmp_path)
    yaml_file = root / "exercises" / "softmax" / "exercise.yaml"
    yaml_file.write_text(yaml_file.read_text().replace("points: 1\n", "points: lots\n", 1))
    done = run_course("--course", str(root), "verify", cwd=tmp_path, env=env)
    assert done.returncode == 2
    assert re.search(r"^exercises/softmax/exercise\.yaml:\d+:\d+: expected a number", done.stdout, re.M), done.stdout
    assert "Traceback" not in done.stderr


def test_verify_needs_the_instructor_edition(tmp_path, env):
    out = tmp_path / "student"
    assert run_course("release", str(out), cwd=tmp_path, env=env).returncode == 0
    done = run_course("--course", str(out), "verify", cwd=tmp_path, env=env)
    assert done.returncode == 2 and "is a student edition" in done.stderr


def test_an_unknown_exercise_is_a_usage_error(tmp_path, env):
    done = run_course("verify", "sofmax", cwd=tmp_path, env=env)
    assert done.returncode == 2 and "unknown exercise 'sofmax'" in done.stderr
