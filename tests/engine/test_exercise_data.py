"""Exercises that read data files (`npz` inputs) and take dicts of weights (`dict` inputs).

An upcoming exercise ships a tiny GPT's weights as an .npz; attention exercises take
dicts of weight arrays. Here: the inputs they build, the mistakes an author can make
declaring them, and the whole way through the sandbox and into a student release.
"""
from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path

import numpy as np
import pytest

import courserunner
from coursefactory import DATA_EXERCISE, write_course, write_data_exercise
from course.grading.inputs import make_arguments, make_input
from course.loader import load_course, validate_course
from course.model import input_spec


def course_with_data(tmp_path: Path, exercise: str = DATA_EXERCISE) -> Path:
    root = write_course(tmp_path / "tiny")
    write_data_exercise(root, exercise=exercise)
    return root


def run_course(*args: str, cwd: Path) -> subprocess.CompletedProcess:
    env = dict(os.environ, NO_COLOR="1")
    return courserunner.run_course(*args, cwd=cwd, env=env, timeout=300)


def problems(root: Path) -> list[str]:
    return [str(d) for d in validate_course(root, run_code=False)]


def line_of(text: str, needle: str) -> int:
    return next(n for n, line in enumerate(text.splitlines(), 1) if needle in line)


# --------------------------------------------------------------------------- the inputs


def test_an_npz_input_gives_the_whole_file_or_one_array(tmp_path):
    root = course_with_data(tmp_path)
    exercise = load_course(root).exercise("project")
    x, weights, bias = make_arguments(exercise.case("stored"))[0]
    with np.load(root / "exercises" / "project" / "weights.npz", allow_pickle=False) as stored:
        assert sorted(weights) == ["b", "w"]
        assert np.array_equal(weights["w"], stored["w"]) and np.array_equal(bias, stored["b"])
    assert x.shape == (2, 3)
    again = make_arguments(exercise.case("stored"))[0]
    assert again[1]["w"] is not weights["w"]  # fresh arrays for every call


def test_a_data_file_is_read_once_per_process_until_it_changes_and_every_call_gets_its_own_arrays(
        tmp_path, monkeypatch):
    root = course_with_data(tmp_path)
    case = load_course(root).exercise("project").case("stored")
    path = root / "exercises" / "project" / "weights.npz"
    opened = []
    real_load = np.load
    monkeypatch.setattr(np, "load", lambda *args, **kwargs: opened.append(args[0]) or real_load(*args, **kwargs))
    first = make_arguments(case)[0][1]
    first["w"][...] = 99.0  # a function that writes into its input
    second = make_arguments(case)[0][1]
    assert opened == [path]  # the file was opened once for both calls...
    assert second["w"].flags.writeable and not np.any(second["w"] == 99.0)  # ...and each got its own arrays
    np.savez(path, w=np.full((3, 4), 7.0), b=np.ones(4))  # replaced: read again
    third = make_arguments(case)[0]
    assert opened == [path, path]
    assert np.all(third[1]["w"] == 7.0) and np.all(third[2] == 1.0)


def test_an_npz_file_that_needs_pickle_is_refused_when_inputs_are_built(tmp_path):
    root = course_with_data(tmp_path)
    np.savez(root / "exercises" / "project" / "weights.npz", w=np.array([{"a": 1}], dtype=object), b=np.zeros(4))
    exercise = load_course(root).exercise("project")
    from course.errors import CourseError

    with pytest.raises(CourseError, match="without pickle"):
        make_arguments(exercise.case("stored"))


def test_each_dict_entry_draws_from_its_own_stream_so_appending_one_changes_nothing():
    two = input_spec({"dict": {"w_q": {"normal": {"shape": [4, 4]}}, "w_k": {"normal": {"shape": [4, 4]}}}})
    three = input_spec({"dict": {"w_q": {"normal": {"shape": [4, 4]}}, "w_k": {"normal": {"shape": [4, 4]}},
                                 "n_heads": 2}})
    first, second = make_input(two, seed=9, index=1), make_input(three, seed=9, index=1)
    assert list(second) == ["w_q", "w_k", "n_heads"] and second["n_heads"] == 2
    assert np.array_equal(first["w_q"], second["w_q"]) and np.array_equal(first["w_k"], second["w_k"])
    assert not np.array_equal(second["w_q"], second["w_k"])  # the entries' streams differ
    assert np.array_equal(second["w_k"], np.random.default_rng([9, 1, 1]).normal(0.0, 1.0, (4, 4)))
    nested = make_input(input_spec({"dict": {"layer": {"dict": {"w": {"normal": {"shape": [2]}}}}}}), 9, 1)
    assert np.array_equal(nested["layer"]["w"], np.random.default_rng([9, 1, 0, 0]).normal(0.0, 1.0, 2))


# --------------------------------------------------------------------------- declaring them


@pytest.mark.parametrize(
    "old, new, needle, message",
    [
        ("data: [weights.npz]", "data: [weights.npz, missing.npz]", "data:",
         "data file 'missing.npz' not found in exercises/project/"),
        ("data: [weights.npz]", "data: []", "- {npz: {file: weights.npz}}",
         "'weights.npz' is not one of the exercise's `data` files"),
        ("{npz: {file: weights.npz, key: b}}", "{npz: {file: weights.npz, key: bias}}", "key: bias",
         "'weights.npz' has no array 'bias'"),
        ("data: [weights.npz]", "data: [../weights.npz]", "data:", "must be a path inside the folder"),
        ("          scale: 2.0", "          scale: 2.0\n          bad: {normormal: {}}", "normormal",
         "unknown input generator 'normormal'; did you mean 'normal'?"),
    ],
)
def test_data_file_mistakes_are_reported_at_their_line(tmp_path, old, new, needle, message):
    text = DATA_EXERCISE.replace(old, new, 1)
    assert text != DATA_EXERCISE
    found = problems(course_with_data(tmp_path, text))
    matching = [p for p in found if message in p]
    assert matching, found
    assert matching[0].startswith(f"exercises/project/exercise.yaml:{line_of(text, needle)}:"), matching


def test_a_declared_data_file_is_not_a_stray_file(tmp_path):
    assert problems(course_with_data(tmp_path)) == []


# --------------------------------------------------------------------------- through the sandbox


def test_course_check_grades_an_exercise_that_takes_npz_arrays_and_weight_dicts(tmp_path):
    root = course_with_data(tmp_path)
    good, wrong = tmp_path / "good.py", tmp_path / "wrong.py"
    good.write_text((root / "exercises" / "project" / "reference.py").read_text())
    wrong.write_text((root / "exercises" / "project" / "mistakes" / "no_bias.py").read_text())
    passed = run_course("--course", str(root), "check", "project", str(good), "--format", "json", cwd=tmp_path)
    assert passed.returncode == 0, passed.stdout + passed.stderr
    assert json.loads(passed.stdout)["passed"] is True
    failed = run_course("--course", str(root), "check", "project", str(wrong), "--format", "json", cwd=tmp_path)
    assert failed.returncode == 1, failed.stdout + failed.stderr
    report = json.loads(failed.stdout)
    assert [case["mistake"] for case in report["cases"]] == ["no_bias"] * 3  # named on npz and dict inputs alike
    assert any("add the bias" in advice for advice in map(str, report["advice"])), report["advice"]


def test_a_student_release_ships_the_data_files_and_grades_with_them(tmp_path):
    root = course_with_data(tmp_path)
    out = tmp_path / "student"
    done = run_course("--course", str(root), "release", str(out), cwd=tmp_path)
    assert done.returncode == 0, done.stdout + done.stderr
    folder = out / "exercises" / "project"
    assert (folder / "weights.npz").read_bytes() == (root / "exercises" / "project" / "weights.npz").read_bytes()
    assert not (folder / "reference.py").exists() and not (folder / "mistakes").exists()
    text = (folder / "exercise.yaml").read_text()
    assert text.startswith("# yaml-language-server: $schema=../../schemas/exercise.schema.json\n")
    assert "hidden_drawn" not in text and "data:\n- weights.npz" in text
    assert (out / "schemas" / "exercise.schema.json").is_file()
    assert run_course("--course", str(out), "validate", cwd=tmp_path).returncode == 0
    good = tmp_path / "project.py"
    good.write_text((root / "exercises" / "project" / "reference.py").read_text())
    checked = run_course("--course", str(out), "check", "project", str(good), "--format", "json", cwd=tmp_path)
    assert checked.returncode == 0, checked.stdout + checked.stderr
    assert [c["name"] for c in json.loads(checked.stdout)["cases"]] == ["stored", "drawn"]
