"""Reading the built-in lesson in the terminal, and finding the course from anywhere."""
from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

import courserunner

REPO = Path(__file__).resolve().parents[2]
ANSI = re.compile(r"\x1b\[[0-9;]*m")


def course(*args, cwd=None, env=None, timeout=60):
    return courserunner.run_course(*args, cwd=cwd or Path.cwd(), env=env, timeout=timeout)


def test_lessons_lists_lesson_3_with_its_id_first(tmp_path):
    result = course("lessons", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    first = result.stdout.splitlines()[0]
    assert first.startswith("lesson-3  Lesson 3: Basic Knowledge and Architectural Characteristics of LLMs")


def test_read_renders_the_whole_lesson_plainly_when_piped(tmp_path):
    result = course("read", "lesson-3", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    text = result.stdout
    assert not ANSI.search(text), "no colour codes when stdout is not a terminal"
    for heading in ("Development history of LLMs", "Attention", "Transformer", "Further reading"):
        assert heading.lower() in text.lower()
    # tables, code and figures are all there
    assert "Word2Vec" in text and "2013" in text and "GPT-4" in text
    assert "import numpy as np" in text
    assert "lesson-3-transformer.png" in text
    assert "course figures lesson-3 --out DIR" in text
    long_lines = [line for line in text.splitlines() if len(line) > 80 and "://" not in line]
    assert long_lines == [], "every line fits 80 columns (URLs excepted)"


def test_read_accepts_the_lesson_number_too(tmp_path):
    assert course("read", "3", cwd=tmp_path).stdout == course("read", "lesson-3", cwd=tmp_path).stdout


def test_unknown_lesson_lists_the_known_ones_and_exits_2(tmp_path):
    result = course("read", "lesson-9", cwd=tmp_path)
    assert result.returncode == 2
    assert "unknown lesson 'lesson-9'; known lessons: lesson-3" in result.stderr
    assert "Traceback" not in result.stderr


def test_read_in_a_terminal_uses_colour():
    pexpect = pytest.importorskip("pexpect")
    env = {**os.environ, "TERM": "xterm"}
    env.pop("NO_COLOR", None)
    child = pexpect.spawn(sys.executable, ["-m", "course", "read", "lesson-3", "--no-pager"], encoding="utf-8",
                          timeout=30, dimensions=(40, 80), env=env)
    output = child.read()
    child.close()
    assert "\x1b[" in output
    assert "Lesson 3" in ANSI.sub("", output)


def test_no_color_is_respected_on_a_terminal_too():
    pexpect = pytest.importorskip("pexpect")
    child = pexpect.spawn(sys.executable, ["-m", "course", "read", "lesson-3", "--no-pager"], encoding="utf-8",
                          timeout=30, dimensions=(40, 80), env={**os.environ, "TERM": "xterm", "NO_COLOR": "1"})
    output = child.read()
    child.close()
    assert "Lesson 3" in output and "\x1b[" not in output


def test_course_root_option_and_environment_select_another_course(tmp_path):
    from coursefactory import write_course

    write_course(tmp_path / "other")
    by_option = course("--course", str(tmp_path / "other"), "lessons", cwd=tmp_path)
    by_env = course("lessons", cwd=tmp_path, env={**os.environ, "COURSE_ROOT": str(tmp_path / "other")})
    for result in (by_option, by_env):
        assert result.returncode == 0, result.stderr
        assert result.stdout.startswith("intro  Lesson 1: A tiny lesson")


def test_help_does_not_import_numpy_matplotlib_or_rich(tmp_path):
    result = subprocess.run([sys.executable, "-X", "importtime", "-m", "course", "--help"], capture_output=True,
                            text=True, cwd=tmp_path, timeout=60)
    assert result.returncode == 0
    imported = {line.split("|")[-1].strip().split(".")[0] for line in result.stderr.splitlines() if "|" in line}
    assert not imported & {"numpy", "matplotlib", "rich", "markdown_it", "pygments"}, imported


@pytest.mark.slow
def test_a_plain_install_ships_the_course_and_finds_it_from_any_folder(tmp_path):
    """`pip install .` (not editable) must carry content/ and exercises/ inside the package."""
    target = tmp_path / "site"
    import importlib.util

    local_build = all(importlib.util.find_spec(name) for name in ("setuptools", "wheel"))
    isolation = ["--no-build-isolation"] if local_build else []
    build = subprocess.run(
        [sys.executable, "-m", "pip", "install", "--quiet", "--no-deps", *isolation, "--target", str(target), str(REPO)],
        capture_output=True, text=True, timeout=300,
    )
    if build.returncode != 0 and "No module named" in build.stderr:
        pytest.skip(f"cannot build here: {build.stderr.strip()[-200:]}")
    assert build.returncode == 0, build.stderr
    assert (target / "course" / "_builtin" / "content" / "lesson-3" / "lesson.yaml").is_file()
    assert (target / "course" / "_builtin" / "exercises" / "softmax" / "exercise.yaml").is_file()
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    env = {**os.environ, "PYTHONPATH": str(target)}
    env.pop("COURSE_ROOT", None)
    result = subprocess.run([sys.executable, "-c", "import course.paths as p; print(p.builtin_root())"],
                            capture_output=True, text=True, cwd=elsewhere, env=env, timeout=60)
    assert result.stdout.strip() == str(target / "course" / "_builtin")
    listing = subprocess.run([sys.executable, "-m", "course", "lessons"], capture_output=True, text=True, cwd=elsewhere, env=env, timeout=60)
    assert listing.returncode == 0, listing.stderr
    assert listing.stdout.startswith("lesson-3")
