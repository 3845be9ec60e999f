"""Which course a command uses: --course (before or after the command), COURSE_ROOT, the
nearest course.yaml walking up from the working folder, else the built-in course; commands
name the root they used, and every command the tool prints can be copied and run as is.
"""
from __future__ import annotations

import os
import re
import shlex
import subprocess
import sys
from pathlib import Path

import pytest

import courserunner
from coursefactory import write_course
from course import paths
from course.paths import builtin_root, choose_root

MANIFEST = "format_version: 1\ntitle: A tiny course\n"


def run(*args: str, cwd: Path, env: dict | None = None) -> subprocess.CompletedProcess:
    environment = dict(env or os.environ, NO_COLOR="1", PYTHONIOENCODING="utf-8")  # conftest unsets COURSE_ROOT
    return courserunner.run_course(*args, cwd=cwd, env=environment, timeout=300)


def run_line(line: str, cwd: Path) -> subprocess.CompletedProcess:
    """A command exactly as the tool printed it (`course ...`), run with this Python's course."""
    words = shlex.split(line)
    assert words[0] == "course", line
    return run(*words[1:], cwd=cwd)


@pytest.fixture
def fork(tmp_path) -> Path:
    root = write_course(tmp_path / "fork")
    (root / "course.yaml").write_text(MANIFEST)
    return root


def test_the_root_is_option_then_environment_then_nearest_manifest_then_builtin(tmp_path, fork):
    inside = fork / "content" / "intro"
    other = write_course(tmp_path / "other")
    assert choose_root(environ={}, cwd=inside) == paths.RootChoice(fork, paths.FROM_MANIFEST)
    assert choose_root(environ={"COURSE_ROOT": str(other)}, cwd=inside).path == other
    assert choose_root(str(other), environ={"COURSE_ROOT": str(fork)}, cwd=inside).source == paths.FROM_OPTION
    assert choose_root(environ={}, cwd=tmp_path) == paths.RootChoice(builtin_root(), paths.FROM_BUILTIN)


def test_inside_a_fork_validate_checks_the_fork_not_the_installed_copy(fork):
    quiz = fork / "content" / "intro" / "quiz.yaml"
    quiz.write_text(quiz.read_text() + "bogus_key: 1\n")
    done = run("validate", cwd=fork / "exercises")
    assert done.returncode == 2
    assert done.stdout.splitlines()[0] == (f"course root: {fork} (the nearest course.yaml above the working "
                                          f"directory)")
    assert "content/intro/quiz.yaml:" in done.stdout and "bogus_key" in done.stdout
    assert str(builtin_root()) not in done.stdout


@pytest.mark.parametrize("command", [["validate"], ["verify", "double"], ["release", "OUT"],
                                     ["grade", "subs", "--out", "grades"]])
def test_validate_verify_release_and_grade_name_their_root_on_the_first_line(tmp_path, fork, command):
    (tmp_path / "subs" / "ann").mkdir(parents=True)
    words = [str(tmp_path / "edition") if w == "OUT" else w for w in command]
    done = run(*words, "--course", str(fork), cwd=tmp_path)
    assert done.returncode in (0, 1), done.stdout + done.stderr
    assert done.stdout.splitlines()[0] == f"course root: {fork} (from --course)"
    if command[0] == "release":  # a release needs an empty folder
        words = ["release", str(tmp_path / "edition2")]
    again = run(*words, cwd=tmp_path, env=dict(os.environ, COURSE_ROOT=str(fork)))
    assert again.stdout.splitlines()[0] == f"course root: {fork} (from $COURSE_ROOT)"


def test_course_is_accepted_after_the_command_too(tmp_path, fork):
    before = run("--course", str(fork), "lessons", cwd=tmp_path)
    after = run("lessons", "--course", str(fork), cwd=tmp_path)
    assert before.returncode == after.returncode == 0
    assert before.stdout == after.stdout and "intro" in after.stdout
    twice = run("--course", str(fork), "lessons", "--course", str(tmp_path), cwd=tmp_path)
    assert twice.returncode == 2 and "--course is given twice" in twice.stderr and "Traceback" not in twice.stderr


def test_a_student_edition_works_from_inside_its_folder_with_plain_commands(tmp_path, fork):
    edition = tmp_path / "edition"
    released = run("release", str(edition), cwd=fork)
    assert released.returncode == 0, released.stdout + released.stderr
    check_it = next(line for line in released.stdout.splitlines() if line.startswith("Check it: "))
    copied = run_line(check_it.removeprefix("Check it: "), cwd=fork)  # copied as printed
    assert copied.returncode == 0, copied.stdout + copied.stderr
    assert "(from --course)" in copied.stdout

    work = edition / "work"
    work.mkdir()
    started = run("start", "double", cwd=work)
    assert started.returncode == 0, started.stderr
    line = next(text for text in started.stdout.splitlines() if text.startswith("Check it:"))
    assert line.split(":", 1)[1].strip() == "course check double"
    (work / "double.py").write_text("def double(x):\n    return 2 * x\n")
    checked = run_line("course check double", cwd=work)
    assert checked.returncode == 0, checked.stdout + checked.stderr
    assert "unknown exercise" not in checked.stderr


def test_commands_printed_with_a_chosen_root_carry_it_and_run_when_copied(tmp_path, fork):
    edition = tmp_path / "edition"
    assert run("release", str(edition), cwd=fork).returncode == 0
    home = tmp_path / "elsewhere"
    home.mkdir()
    started = run("--course", "../edition", "start", "double", cwd=home)
    assert started.returncode == 0, started.stderr
    lines = {m.group(1): m.group(2) for m in re.finditer(r"^(Check it|Stuck\?):?\s+(.*)$", started.stdout, re.M)}
    assert lines["Check it"] == "course --course ../edition check double"
    stuck = lines["Stuck?"].split(" (")[0]  # "course ... hint double (the next hint), course ... hint double N (hint N)"
    assert stuck == "course --course ../edition hint double"
    (home / "double.py").write_text("def double(x):\n    return 3 * x\n")
    checked = run_line(lines["Check it"], cwd=home)
    assert checked.returncode == 1 and "unknown exercise" not in checked.stderr
    for command in re.findall(r"`(course [^`]+)`", checked.stdout):
        assert command.startswith("course --course ../edition "), command
        assert run_line(command, cwd=home).returncode in (0, 1), command
    assert run_line(stuck, cwd=home).returncode == 0
    env_started = run("start", "double", "--force", cwd=home, env=dict(os.environ, COURSE_ROOT="../edition"))
    assert "course --course ../edition check double" in env_started.stdout


def test_help_of_every_classroom_command_imports_neither_numpy_nor_dask(tmp_path):
    for command in ([], ["grade"], ["merge"], ["autograder"], ["export"]):
        result = subprocess.run([sys.executable, "-X", "importtime", "-m", "course", *command, "--help"],
                                capture_output=True, text=True, cwd=tmp_path, timeout=60)
        assert result.returncode == 0, result.stderr[-2000:]
        imported = {line.split("|")[-1].strip().split(".")[0] for line in result.stderr.splitlines() if "|" in line}
        assert not imported & {"numpy", "matplotlib", "dask", "distributed"}, (command, imported)
