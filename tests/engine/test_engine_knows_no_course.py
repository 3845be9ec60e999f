"""The engine knows no course's names: no built-in exercise, lesson or figure id in course/.

Exercise knowledge lives with the exercise (its feedback.py, course.grading.hooks); the
demo's samples live in the course's demo/ folder. This test reads every Python file of
the engine and fails on any *code* string that is one of the built-in course's ids
(`if exercise.id == "softmax"`, `{"self_attention": ...}`, `f"... {x} softmax"` alike).

What is documentation is not searched: comments; docstrings (of modules, classes and
functions: also the commands' --help text); and the text given as `description=` (a
model field's documentation, which becomes the JSON Schemas and docs/authoring.md) or
`help=` (a command option's --help). They may name the built-in course in examples
("course check softmax"), as a manual would: an example is not a branch. Identifiers
are not strings and are not searched either.
"""
from __future__ import annotations

import ast
import io
import re
import tokenize
from pathlib import Path


from course.loader import load_course
from course.paths import builtin_root

ENGINE = Path(__file__).resolve().parents[2] / "course"



def builtin_ids() -> set[str]:
    course = load_course(builtin_root())
    ids = {e.id for e in course.exercises} | {lesson.id for lesson in course.lessons}
    ids |= {figure.id for lesson in course.lessons for figure in lesson.figures}
    return ids


DOCUMENTATION_KEYWORDS = ("description", "help")


def docstring_lines(source: str) -> set[int]:
    """The lines of every docstring in `source`, and of the text given as description= or help=."""
    lines: set[int] = set()
    for node in ast.walk(ast.parse(source)):
        text = None
        if isinstance(node, (ast.Module, ast.ClassDef, ast.FunctionDef, ast.AsyncFunctionDef)) and node.body:
            first = node.body[0]
            if isinstance(first, ast.Expr) and isinstance(first.value, ast.Constant) \
                    and isinstance(first.value.value, str):
                text = first
        elif isinstance(node, ast.keyword) and node.arg in DOCUMENTATION_KEYWORDS:
            text = node.value
        if text is not None:
            lines.update(range(text.lineno, (text.end_lineno or text.lineno) + 1))
    return lines


def code_strings(source: str) -> list[tuple[int, str]]:
    """(line, text) of every string in the code: literals and the literal parts of f-strings, docstrings left out."""
    skip = docstring_lines(source)
    found = []
    string_kinds = {tokenize.STRING} | {getattr(tokenize, "FSTRING_MIDDLE", tokenize.STRING)}
    for token in tokenize.generate_tokens(io.StringIO(source).readline):
        if token.type in string_kinds and token.start[0] not in skip:
            found.append((token.start[0], token.string))
    return found


def uses(source: str, ids: set[str]) -> list[tuple[int, str]]:
    """(line, id) for each id named in a code string of `source`."""
    found = []
    for line, text in code_strings(source):
        for name in ids:
            if re.search(rf"(?<![\w-]){re.escape(name)}(?![\w-])", text):
                found.append((line, name))
    return found


def test_the_search_finds_a_branch_on_an_id_and_ignores_docstrings_and_comments():
    source = '''"""Module text may say: course check softmax."""


def pictures(exercise):
    """Help may say `course hint softmax 2`."""
    # a comment may say softmax
    option = Option(help="e.g. --exercise softmax", description="a field, e.g. softmax")
    if exercise.id == "softmax":
        return {'self_attention': 1, "x": f"see {exercise.id} and lesson-3"}
    return softmax_like
'''
    assert sorted(uses(source, {"softmax", "self_attention", "lesson-3"})) == [
        (8, "softmax"), (9, "lesson-3"), (9, "self_attention")]


def test_no_builtin_exercise_lesson_or_figure_id_in_the_engine():
    ids = builtin_ids()
    assert {"softmax", "self_attention", "layer_norm", "lesson-3", "parameter-growth", "tiny_gpt", "kv_cache"} <= ids  # it looks for them
    found = []
    for path in sorted(ENGINE.rglob("*.py")):
        relative = path.relative_to(ENGINE).as_posix()
        if relative.startswith("_builtin/"):  # an installed engine's copy of the course is the course
            continue
        for line, name in uses(path.read_text(encoding="utf-8"), ids):
            found.append(f"course/{relative}:{line}: '{name}'")
    assert not found, "the engine names the built-in course:\n" + "\n".join(found)
