"""`course demo`: the README's first command, run as users run it, from a folder of
their own, both from this checkout and after a plain (non-editable) install.
"""
from __future__ import annotations

import importlib.util
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
SECTIONS = ["== 1. The lessons ==", "== 2. A quiz, answered from a file ==", "== 3. Checking sample submissions ==",
            "== 4. Figures and reports ==", "== Where everything is =="]


def run(args: list[str], cwd: Path, env: dict, timeout: float = 300) -> subprocess.CompletedProcess:
    return subprocess.run(args, cwd=cwd, env=env, capture_output=True, text=True, timeout=timeout)


def clean_env(tmp_path: Path, **extra: str) -> dict:
    env = dict(os.environ, NO_COLOR="1", PYTHONIOENCODING="utf-8",
               COURSE_HOME=str(tmp_path / "my-real-progress"), **extra)
    env.pop("COURSE_ROOT", None)
    return env


def check_demo_output(done: subprocess.CompletedProcess, folder: Path, env: dict) -> None:
    assert done.returncode == 0, done.stdout + done.stderr
    out = done.stdout
    positions = [out.index(section) for section in SECTIONS]
    assert positions == sorted(positions)
    assert "lesson-3  Lesson 3:" in out  # the lesson list
    assert "$ course quiz lesson-3 --answers course-demo/answers-lesson-3.yaml" in out
    assert "Score: " in out and "Re-read (course read lesson-3):" in out  # the quiz, with what to re-read
    assert "softmax (course-demo/submissions/softmax.py): passed, 9/9 points" in out
    words = " ".join(out.split())  # the feedback is wrapped to the terminal's width
    assert "looks like a known mistake: exponentiates the logits without subtracting the max first" in words
    assert "looks like a known mistake: transposes the keys with .T" in words
    assert "looks like a known mistake: counts only the weight matrices of the linear layers, no biases" in words
    assert "3 of the 4 sample submissions fail on purpose" in out
    demo = folder / "course-demo"
    assert (demo / "answers-lesson-3.yaml").is_file()
    assert sorted(p.name for p in (demo / "submissions").iterdir()) == [
        "param_count.py", "self_attention.py", "softmax.py", "softmax_overflow.py"]
    figures = list((demo / "figures").glob("lesson-3-*.png"))
    assert len(figures) >= 4
    reports = sorted((demo / "reports").iterdir())
    assert [p.name for p in reports if p.suffix == ".json"] == [
        "param_count.json", "self_attention.json", "softmax.json", "softmax_overflow.json"]
    assert json.loads((demo / "reports" / "softmax.json").read_text())["passed"] is True
    if importlib.util.find_spec("course.reports.html") is not None:  # the pictures work has landed
        assert (demo / "report.html").is_file() and "course-demo/report.html" in out
        assert list((demo / "plots").glob("softmax-large_logits-*.png"))
    assert (demo / "home" / "progress.sqlite3").is_file()  # the demo's own state...
    assert not Path(env["COURSE_HOME"]).exists()  # ...and never the user's


@pytest.mark.slow  # the whole journey, as the README's first command runs it: the end-to-end tier
def test_the_demo_runs_from_any_folder_and_says_where_everything_is(tmp_path):
    env = clean_env(tmp_path)
    folder = tmp_path / "somewhere"
    folder.mkdir()
    done = run([sys.executable, "-m", "course", "demo"], folder, env)
    check_demo_output(done, folder, env)
    for where in ("course-demo/figures/", "course-demo/reports/", "course-demo/submissions/", "course-demo/home/"):
        assert where in done.stdout
    # a rerun reuses its own folder (the decision `course demo` makes before it writes anything)
    from course.demo import MARKER, _prepare

    assert (folder / "course-demo" / MARKER).is_file()
    _prepare(folder / "course-demo")
    assert not (folder / "course-demo" / "home").exists()  # each run starts with fresh progress


def test_the_demo_will_not_write_into_a_folder_it_did_not_make(tmp_path):
    env = clean_env(tmp_path)
    (tmp_path / "mine").mkdir()
    (tmp_path / "mine" / "thesis.tex").write_text("\\documentclass{article}")
    done = run([sys.executable, "-m", "course", "demo", "--out", "mine"], tmp_path, env)
    assert done.returncode == 2
    assert "not written by `course demo`" in done.stderr and "Traceback" not in done.stderr
    assert sorted(p.name for p in (tmp_path / "mine").iterdir()) == ["thesis.tex"]


@pytest.mark.slow
def test_the_demo_works_after_a_plain_install(tmp_path):
    """pip install (not editable) into a --target, then the demo from an unrelated folder:
    the sample files must have been shipped as package data."""
    source = tmp_path / "source"
    for name in ("setup.py", "pyproject.toml", "README.md", "MANIFEST.in", "course.yaml"):
        shutil.copy(REPO / name, source / name if source.exists() else _mkdir(source) / name)
    for folder in ("course", "content", "exercises", "demo"):
        shutil.copytree(REPO / folder, source / folder, ignore=shutil.ignore_patterns("__pycache__"))
    target = tmp_path / "site"
    installed = run([sys.executable, "-m", "pip", "install", "--no-deps", "--quiet", "--target", str(target),
                     str(source)], tmp_path, dict(os.environ), timeout=600)
    assert installed.returncode == 0, installed.stdout + installed.stderr
    samples = target / "course" / "_builtin" / "demo"  # the course's own demo material, shipped with it
    assert {"answers-lesson-3.yaml", "softmax.py", "softmax_overflow.py", "self_attention.py",
            "param_count.py"} <= {p.name for p in samples.iterdir()}
    assert (target / "course" / "_builtin" / "course.yaml").read_text() == (REPO / "course.yaml").read_text()
    assert {p.name for p in (target / "course" / "schemas").iterdir()} == {
        "course.schema.json", "lesson.schema.json", "quiz.schema.json", "exercise.schema.json"}

    env = clean_env(tmp_path, PYTHONPATH=str(target))
    folder = tmp_path / "elsewhere"
    folder.mkdir()
    where = run([sys.executable, "-c", "import course.paths as p; print(p.builtin_root())"], folder, env)
    assert where.stdout.split() == [str(target / "course" / "_builtin")], where.stdout + where.stderr
    done = run([sys.executable, "-m", "course", "demo"], folder, env)
    check_demo_output(done, folder, env)


def _mkdir(path: Path) -> Path:
    path.mkdir(parents=True)
    return path


@pytest.mark.parametrize("name", ["softmax.py", "softmax_overflow.py", "self_attention.py", "param_count.py"])
def test_sample_submissions_are_written_as_a_student_would_not_copied(name):
    """The samples show typical mistakes in a student's own words, not the instructor's files."""
    sample = (REPO / "demo" / name).read_text()
    instructor = [p.read_text() for p in (REPO / "exercises").rglob("*.py")]
    assert sample not in instructor
