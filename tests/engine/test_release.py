"""`course release OUT`: the student edition holds no reference code and no hidden case,
loads as a course root, and grades public cases exactly as the instructor edition does.

The release is written once per module with the real command; the built-in course's
own references and known-mistake files are the submissions.
"""
from __future__ import annotations

import json
import os
import shutil
import subprocess
import zipfile
from pathlib import Path

import numpy as np
import pytest

import courserunner
import schemacheck
from course.grading.check import check_exercise
from course.loader import EXPECTED_FILE, load_course
from course.paths import builtin_root

ROOT = builtin_root()
COURSE = load_course(ROOT)
# Graded on both editions: each exercise's reference and first known mistake in the README's test command;
# every other known mistake in the end-to-end tier (each is checked in the quick tier all the same, by
# test_the_release_rebuilds_the_known_mistakes_observations: the stored observations it is named by).
SUBMISSIONS = [(e.id, "reference", e.reference) for e in COURSE.exercises] + [
    (e.id, m.name, m.file) if index == 0 else pytest.param(e.id, m.name, m.file, marks=pytest.mark.slow)
    for e in COURSE.exercises for index, m in enumerate(e.mistakes)
]
KNOWN_MISTAKE = "; looks like a known mistake: "


def run_course(*args: str, cwd: Path, env: dict | None = None) -> subprocess.CompletedProcess:
    env = dict(env or os.environ, NO_COLOR="1", PYTHONIOENCODING="utf-8")
    return courserunner.run_course(*args, cwd=cwd, env=env, timeout=300)


@pytest.fixture(scope="module")
def release(tmp_path_factory):
    base = tmp_path_factory.mktemp("release")
    env = dict(os.environ, COURSE_HOME=str(base / "home"))
    env.pop("COURSE_ROOT", None)
    done = run_course("release", "student-edition", cwd=base, env=env)
    assert done.returncode == 0, done.stdout + done.stderr
    return {"out": base / "student-edition", "base": base, "env": env, "stdout": done.stdout}


@pytest.fixture(scope="module")
def student_course(release):
    return load_course(release["out"])


def files_of(folder: Path) -> list[Path]:
    return sorted(p for p in folder.rglob("*") if p.is_file())


# --------------------------------------------------------------------------- what is in OUT


def test_release_writes_a_student_course_root_that_validates(release):
    out = release["out"]
    assert "Student edition written to" in release["stdout"]
    done = run_course("--course", str(out), "validate", cwd=release["base"], env=release["env"])
    assert done.returncode == 0, done.stdout + done.stderr
    assert f"{len(load_course(builtin_root()).exercises)} exercise(s)" in done.stdout
    assert "edition: student" in (out / "course.yaml").read_text()


# param_count's feedback.py splits any config's count into parts; self_attention's computes the weights
HELD_BACK = ("param_count", "self_attention")


def test_release_holds_exactly_the_allowed_files(release):
    out = release["out"]
    names = {p.relative_to(out).as_posix() for p in files_of(out)}
    expected = {"course.yaml", "README.md"} | {f"schemas/{kind}.schema.json" for kind in ("course", "lesson", "quiz",
                                                                                       "exercise")}
    for lesson in COURSE.lessons:
        expected.add(f"content/{lesson.id}/lesson.yaml")
        if lesson.quiz:
            expected.add(f"content/{lesson.id}/quiz.yaml")
    for exercise in COURSE.exercises:
        for name in ("exercise.yaml", exercise.starter, EXPECTED_FILE, *exercise.data):
            expected.add(f"exercises/{exercise.id}/{name}")
        if (exercise.folder / "feedback.py").is_file() and exercise.id not in HELD_BACK:
            expected.add(f"exercises/{exercise.id}/feedback.py")  # pictures, readings and showcase: public code
    assert names == expected
    assert "exercises/softmax/feedback.py" in names
    for exercise_id in HELD_BACK:  # their feedback.py computes the answer: it stays with the instructor
        assert f"held back: exercises/{exercise_id}/feedback.py (STUDENT_EDITION = False" in release["stdout"]
    assert not any(part in ("mistakes", "__pycache__") for p in files_of(out) for part in p.parts)


def test_every_yaml_file_of_the_release_names_a_schema_of_the_release_and_validates_against_it(release):
    out = release["out"]
    prefix = "# yaml-language-server: $schema="
    by_schema: dict[Path, list[Path]] = {}
    for path in sorted(out.rglob("*.yaml")):
        first = path.read_text(encoding="utf-8").splitlines()[0]
        assert first.startswith(prefix), path
        schema = (path.parent / first[len(prefix):]).resolve()
        assert schema.is_file() and schema.parent == (out / "schemas").resolve(), path
        by_schema.setdefault(schema, []).append(path)
    assert len(by_schema) == 4
    for schema, paths in by_schema.items():
        done = schemacheck.check_jsonschema(schema, paths)
        assert done.returncode == 0, done.stdout + done.stderr


def _published_text() -> str:
    """What students are meant to read anyway: lessons, quizzes, starters, and the instructions,
    hints and mistake advice of every exercise."""
    parts = [p.read_text() for p in (ROOT / "content").rglob("*.yaml")]
    for exercise in COURSE.exercises:
        parts += [exercise.starter_path.read_text(), exercise.instructions, exercise.signature, *exercise.hints]
        parts += [f"{m.description}\n{m.message}" for m in exercise.mistakes]
    return "\n".join(parts)


def test_no_line_of_any_reference_or_known_mistake_is_in_the_release(release):
    secret_files = [e.reference_path for e in COURSE.exercises] + [
        e.folder / m.file for e in COURSE.exercises for m in e.mistakes]
    published = _published_text()
    secret = {line.strip() for path in secret_files for line in path.read_text().splitlines()
              if len(line.strip()) >= 12 and line.strip() not in published}
    assert len(secret) > 100  # the check has teeth
    for path in files_of(release["out"]):
        data = path.read_bytes()
        if path.suffix == ".npz":  # a zip: look inside every member too
            with zipfile.ZipFile(path) as archive:
                data += b"".join(archive.read(name) for name in archive.namelist())
        text = data.decode("utf-8", "replace")
        if path.suffix == ".npz":  # stored error texts are UTF-32 inside the zip: read them as text
            with np.load(path, allow_pickle=False) as stored:
                text += "\n".join(str(stored[key]) for key in stored.files if stored[key].dtype.kind == "U")
        leaked = [line for line in secret if line in text]
        assert not leaked, f"{path}: {leaked[:3]}"


def test_no_hidden_case_is_in_the_release(release, student_course):
    texts = {}
    for path in files_of(release["out"]):
        texts[path] = path.read_bytes().decode("utf-8", "replace")
        if path.suffix == ".npz":
            texts[path] += "\n".join(zipfile.ZipFile(path).namelist())
    for exercise in COURSE.exercises:
        hidden = [c for c in exercise.cases if c.visibility == "hidden"]
        assert hidden
        for case in hidden:
            for path, text in texts.items():
                assert case.name not in text, f"hidden case {case.name} named in {path}"
                if case.description:
                    assert case.description not in text, f"hidden case {case.name} described in {path}"
        released = student_course.exercise(exercise.id)
        assert [c.name for c in released.cases] == [c.name for c in exercise.cases if c.visibility == "public"]


def test_expected_outputs_load_without_pickle_and_match_the_reference(release, student_course):
    from course.grading.expected import case_arguments, expected_outputs

    for exercise in COURSE.exercises:
        public = [c for c in exercise.cases if c.visibility == "public"]
        with np.load(release["out"] / "exercises" / exercise.id / EXPECTED_FILE, allow_pickle=False) as stored:
            keys = set(stored.files)
            assert {f"case/{c.name}" for c in public} <= keys
            reference = expected_outputs(COURSE, exercise, case_arguments(public))
            for case in public:
                np.testing.assert_array_equal(stored[f"case/{case.name}"], reference[case.name])


def test_released_exercises_keep_everything_a_student_needs(student_course):
    for exercise in COURSE.exercises:
        released = student_course.exercise(exercise.id)
        assert (released.instructions, released.hints, released.signature, released.function) == (
            exercise.instructions, exercise.hints, exercise.signature, exercise.function)
        assert released.limits == exercise.limits
        assert [(m.name, m.description, m.message) for m in released.mistakes] == [
            (m.name, m.description, m.message) for m in exercise.mistakes]
        for mine, theirs in zip(released.cases, (c for c in exercise.cases if c.visibility == "public")):
            assert (mine.seed, mine.points, mine.tolerance, mine.checks, mine.hint, mine.description) == (
                theirs.seed, theirs.points, theirs.tolerance, theirs.checks, theirs.hint, theirs.description)
            assert [(a.kind, dict(a.params)) for a in mine.args] == [(a.kind, dict(a.params)) for a in theirs.args]


def test_expected_npz_holds_scalars_errors_and_inputs_changed_in_place(release):
    def stored(exercise_id: str) -> dict:
        with np.load(release["out"] / "exercises" / exercise_id / EXPECTED_FILE, allow_pickle=False) as data:
            return {key: data[key] for key in data.files}

    for exercise in COURSE.exercises:
        assert {array.dtype.kind for array in stored(exercise.id).values()} <= set("biufcU")
    param_count = stored("param_count")
    for mistake in COURSE.exercise("param_count").mistakes:
        assert param_count[f"mistake/{mistake.name}/gpt2_small"].shape == ()  # 0-d stays 0-d
    softmax = stored("softmax")
    error = softmax["mistake/no_keepdims/matrix_rows/error"]
    assert error.dtype.kind == "U" and error.shape == () and str(error).startswith("ValueError: ")
    assert "mistake/no_keepdims/matrix_rows" not in softmax
    assert "mistake/no_keepdims/small_vector/shifted" in softmax  # small_vector asks for shift_invariant
    assert "mistake/modifies_input_in_place/matrix_rows/args_after/0" in softmax
    assert not any("/args_after/" in key for key in softmax if key.startswith("mistake/wrong_axis/"))
    assert "mistake/transpose_t/batch_of_sequences/error" in stored("self_attention")


def _same_observed(mine, theirs) -> bool:
    def same(a, b) -> bool:
        if a is None or b is None:
            return a is b
        a, b = np.asarray(a), np.asarray(b)
        return a.shape == b.shape and a.dtype == b.dtype and np.array_equal(a, b, equal_nan=a.dtype.kind in "fc")

    if mine is None or theirs is None:
        return mine is theirs
    return (mine.status, mine.error) == (theirs.status, theirs.error) and same(mine.value, theirs.value) and (
        len(mine.args_after) == len(theirs.args_after)
        and all(same(a, b) for a, b in zip(mine.args_after, theirs.args_after))
        and mine.kwargs_after.keys() == theirs.kwargs_after.keys()
        and all(same(mine.kwargs_after[k], theirs.kwargs_after[k]) for k in mine.kwargs_after))


def test_the_release_rebuilds_the_known_mistakes_observations(student_course):
    from course.grading.expected import case_arguments, instructor_mistake_runs, mistake_runs

    for exercise in COURSE.exercises:
        released = student_course.exercise(exercise.id)
        arguments = case_arguments(list(released.cases))
        theirs = instructor_mistake_runs(exercise, arguments)
        mine = mistake_runs(student_course, released, arguments)
        assert list(mine) == list(theirs)
        for mistake, per_case in theirs.items():
            assert list(mine[mistake]) == list(per_case), (exercise.id, mistake)
            for case, (output, shifted) in per_case.items():
                assert _same_observed(mine[mistake][case][0], output), (exercise.id, mistake, case)
                assert _same_observed(mine[mistake][case][1], shifted), (exercise.id, mistake, case, "shifted")


def test_verify_refuses_the_release_and_validate_accepts_it(release):
    done = run_course("--course", str(release["out"]), "verify", cwd=release["base"], env=release["env"])
    assert done.returncode == 2 and "is a student edition" in done.stderr and "Traceback" not in done.stderr
    done = run_course("--course", str(release["out"]), "validate", cwd=release["base"], env=release["env"])
    assert done.returncode == 0, done.stdout + done.stderr


# --------------------------------------------------------------------------- same verdicts


def _public(result) -> list[tuple]:
    return [(c.name, c.passed, c.check, c.message, c.mistake, c.advice) for c in result.cases
            if c.visibility == "public"]


def _without_mistake_names(rows: list[tuple]) -> list[tuple]:
    return [(name, passed, check, message.split(KNOWN_MISTAKE)[0]) for name, passed, check, message, _, _ in rows]


@pytest.mark.parametrize("exercise_id, name, file", SUBMISSIONS,
                         ids=[f"{p[0]}-{p[1]}" if isinstance(p, tuple) else f"{p.values[0]}-{p.values[1]}"
                              for p in SUBMISSIONS])
def test_the_release_grades_public_cases_like_the_instructor_edition(student_course, exercise_id, name, file):
    exercise = COURSE.exercise(exercise_id)
    source = (exercise.folder / file).read_text()
    instructor = _public(check_exercise(COURSE, exercise, source, filename=f"{exercise_id}.py"))
    student = _public(check_exercise(student_course, student_course.exercise(exercise_id), source,
                                     filename=f"{exercise_id}.py"))
    assert [row[:3] for row in student] == [row[:3] for row in instructor]  # verdicts: passed, check
    if exercise_id == "param_count":  # its readings ("exactly the size of every bias") are held back
        instructor = [(*row[:3], _without_reading(row[3]), *row[4:]) for row in instructor]
        student = [(*row[:3], _without_reading(row[3]), *row[4:]) for row in student]
    assert _without_mistake_names(student) == _without_mistake_names(instructor)  # messages
    assert student == instructor  # and the same known mistakes named, with the same advice


def _without_reading(message: str) -> str:
    """The message without a param_count reading ("; 82,944 fewer: exactly ...")."""
    head, _, rest = message.partition("\n")
    parts = [p for p in head.split("; ") if not (" fewer: " in p or " more: " in p)]
    return "; ".join(parts) + (f"\n{rest}" if rest else "")


def test_course_check_on_the_release_gives_the_instructor_verdicts(release, tmp_path):
    """The command students run, against the release, as JSON; the same file on the instructor edition."""
    out, env = release["out"], release["env"]
    for name in ("reference.py", "mistakes/no_max_subtraction.py", "mistakes/wrong_axis.py"):
        submission = tmp_path / "softmax.py"
        submission.write_text((ROOT / "exercises" / "softmax" / name).read_text())
        student = run_course("--course", str(out), "check", "softmax", str(submission), "--format", "json",
                             cwd=tmp_path, env=env)
        instructor = run_course("check", "softmax", str(submission), "--format", "json", cwd=tmp_path, env=env)
        assert student.returncode == instructor.returncode, student.stderr + instructor.stderr
        mine, theirs = json.loads(student.stdout), json.loads(instructor.stdout)
        public = [c for c in theirs["cases"] if c["visibility"] == "public"]
        assert [(c["name"], c["passed"], c["check"], c["message"], c["mistake"]) for c in mine["cases"]] == [
            (c["name"], c["passed"], c["check"], c["message"], c["mistake"]) for c in public]


def test_the_release_draws_the_instructor_editions_pictures(release, tmp_path):
    """The exercise's feedback.py ships: a student's failing check gets the same pictures on the release."""
    out, env = release["out"], release["env"]
    submission = tmp_path / "softmax.py"
    submission.write_text((ROOT / "exercises" / "softmax" / "mistakes" / "no_max_subtraction.py").read_text())
    drawn = {}
    for edition, course_args in (("student", ["--course", str(out)]), ("instructor", [])):
        folder = tmp_path / edition
        done = run_course(*course_args, "check", "softmax", str(submission), "--plots", str(folder), cwd=tmp_path,
                          env=env)
        assert done.returncode == 1, done.stdout + done.stderr
        drawn[edition] = sorted(p.name for p in folder.glob("*.png"))
    assert any(name.endswith("-overflow.png") for name in drawn["student"])  # softmax's own picture
    assert drawn["student"] == drawn["instructor"]


# --------------------------------------------------------------------------- OUT and --force


def test_a_non_empty_out_is_refused_without_force(release, tmp_path):
    out = tmp_path / "out"
    out.mkdir()
    (out / "notes.txt").write_text("mine")
    done = run_course("release", str(out), cwd=tmp_path, env=release["env"])
    assert done.returncode == 2 and "is not empty" in done.stderr and "Traceback" not in done.stderr
    assert (out / "notes.txt").read_text() == "mine"


def test_force_replaces_an_earlier_release_and_keeps_its_git_folder(release, tmp_path):
    out = tmp_path / "out"
    (out / ".git").mkdir(parents=True)
    (out / ".git" / "HEAD").write_text("ref: refs/heads/main\n")
    (out / "stale.txt").write_text("from an older release")
    done = run_course("release", str(out), "--force", cwd=tmp_path, env=release["env"])
    assert done.returncode == 0, done.stderr
    assert (out / ".git" / "HEAD").is_file() and not (out / "stale.txt").exists()
    assert (out / "course.yaml").is_file()
    assert not any(p.name.startswith(".out.release-") for p in tmp_path.iterdir())  # no staging folder left


def test_an_empty_git_clone_is_an_empty_out(release, tmp_path):
    out = tmp_path / "clone"
    (out / ".git").mkdir(parents=True)
    done = run_course("release", str(out), cwd=tmp_path, env=release["env"])
    assert done.returncode == 0, done.stderr


def test_a_student_edition_cannot_be_released_again(release, tmp_path):
    done = run_course("--course", str(release["out"]), "release", str(tmp_path / "again"), cwd=tmp_path,
                      env=release["env"])
    assert done.returncode == 2 and "already a student edition" in done.stderr


def test_out_inside_the_course_is_refused(release, tmp_path):
    root = tmp_path / "course-root"  # a copy: a failing check must not write into the real course
    for folder in ("content", "exercises"):
        shutil.copytree(ROOT / folder, root / folder, ignore=shutil.ignore_patterns("__pycache__"))
    done = run_course("--course", str(root), "release", str(root / "exercises" / "student"), cwd=tmp_path,
                      env=release["env"])
    assert done.returncode == 2 and "inside the course's exercises/ folder" in done.stderr
    assert not (root / "exercises" / "student").exists()
