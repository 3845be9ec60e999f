"""The loader: every kind of authoring mistake is reported at its FILE:LINE:COL, all in one run."""
from __future__ import annotations

import subprocess
import sys

import pytest

from coursefactory import EXERCISE, LESSON, QUIZ, write_course
from course.errors import ContentError
from course.loader import load_course, validate_course
from course.model import ChartFigure, FigureRef, MarkdownBlock


def line_of(text: str, needle: str, occurrence: int = 1) -> int:
    """1-based line number of the n-th line containing `needle`."""
    found = 0
    for number, line in enumerate(text.splitlines(), 1):
        if needle in line:
            found += 1
            if found == occurrence:
                return number
    raise AssertionError(f"{needle!r} not in text")


def problems(tmp_path, **files) -> list[str]:
    """What `course validate` reports for the tiny course with `files` replaced (examples not run)."""
    root = write_course(tmp_path, **files)
    return [str(d) for d in validate_course(root, run_code=False)]


DISPLAY = {"lesson": "content/intro/lesson.yaml", "quiz": "content/intro/quiz.yaml",
           "exercise": "exercises/double/exercise.yaml"}


def assert_reported_at_line(tmp_path, kind: str, base: str, old: str, new: str, needle: str, message: str) -> None:
    """Break one file of the tiny course; `message` must be reported at the line holding `needle`."""
    assert old in base
    text = base.replace(old, new, 1)
    found = problems(tmp_path, **{kind: text})
    line = line_of(text, needle)
    matching = [p for p in found if message in p]
    assert matching, f"{message!r} not in {found}"
    assert matching[0].startswith(f"{DISPLAY[kind]}:{line}:"), matching


def test_the_tiny_course_loads_into_typed_objects(tmp_path):
    course = load_course(write_course(tmp_path))
    lesson = course.lesson("intro")
    assert lesson.title == "A tiny lesson"
    assert isinstance(lesson.sections[0].blocks[0], MarkdownBlock)
    assert isinstance(lesson.sections[0].blocks[3], FigureRef)
    figure = lesson.figure("growth")
    assert isinstance(figure, ChartFigure) and figure.y.scale == "log"
    assert figure.series[0].points[0].y == 110000000
    assert lesson.quiz.question("how-many").answer_expr == "a * 2"
    exercise = course.exercise("double")
    assert exercise.cases[0].args[0].kind == "normal"
    assert exercise.cases[0].args[0].params["shape"] == (3, 4)
    assert exercise.cases[1].args[0].params["scale"] == 10.0
    # a case without its own tolerance is graded with the exercise's, as the author wrote it
    assert exercise.cases[1].tolerance.rtol == 1e-9 and exercise.cases[1].tolerance.atol == 0.0
    assert exercise.mistakes[0].file == "mistakes/triple.py"  # the default file of a known mistake
    assert exercise.where.file == "exercises/double/exercise.yaml"
    assert str(exercise.cases[1].where) == f"exercises/double/exercise.yaml:{line_of(EXERCISE, '- name: hidden_one')}:5"


def test_the_shipped_course_is_valid():
    from course.paths import builtin_root

    assert [str(d) for d in validate_course(builtin_root())] == []


@pytest.mark.parametrize(
    "old, new, needle, message",
    [
        ("title: A tiny lesson", "title: A tiny lesson\ntitle: again", "title: again", "duplicate key 'title' (first defined at line 4)"),
        ("summary: Just", "summery: Just", "summery", "unknown key 'summery' in lesson; did you mean 'summary'?"),
        ("    title: Basics\n", "", "  - id: basics", "missing required key 'title' in section"),
        ("number: 1", "number: one", "number: one", "expected a whole number, got text 'one'"),
        ("number: 1", "number: 0777", "number: 0777", "'0777' is read as the octal number 511"),
        ("term: Softmax", "term: no", "term: no", "'no' is read as the boolean false by YAML 1.1: quote it"),
        ("year: 2018, url", "year: 2018-01-01, url", "year: 2018-01-01", "'2018-01-01' is read as a date"),
        ("y: 110000000", "y: 1.1e8", "y: 1.1e8", "'1.1e8' is read as text by YAML 1.1"),
        ("y: 110000000", "y: -5", "y: -5", "y = -5 cannot be drawn on a log-scale axis"),
        ("      - figure: growth", "      - figure: grwth", "figure: grwth", "unknown figure 'grwth'; did you mean 'growth'?"),
        ("exercises: [double]", "exercises: [dobule]", "exercises: [dobule]", "lists unknown exercise 'dobule'; did you mean 'double'?"),
        ("summary: Just enough", "summary: !!python/object/apply:os.system [ls]\nx: Just enough", "summary: !!python", "Python tags are not allowed"),
        ("sources: [paper]", "sources: [papr]", "- id: growth", "cites unknown source 'papr'"),
        ("            - [\"2017\", Transformer]", "            - [\"2017\"]", "- [\"2017\"]", "row has 1 cells but the table has 2 columns"),
        ("      - figure: growth", "      - figure: growth\n        markdown: hi", "- figure: growth", "a block has exactly one of"),
    ],
)
def test_lesson_errors_are_reported_at_their_line(tmp_path, old, new, needle, message):
    assert_reported_at_line(tmp_path, "lesson", LESSON, old, new, needle, message)


@pytest.mark.parametrize(
    "old, new, needle, message",
    [
        ("seed: 1", "seed: -1", "seed: -1", "must be between 0 and 4.29497e+09"),
        ("tolerance: {rtol: 1.0e-9, atol: 0.0}", "tolerance: {rtol: 1e-9, atol: 0.0}", "tolerance:", "'1e-9' is read as text by YAML 1.1 (it needs a dot in the mantissa and a sign in the exponent): write 1.0e-9"),
        ("tolerance: {rtol: 1.0e-9, atol: 0.0}", "tolerance: {rtol: 1.0e-9, atol: -1.0}", "tolerance:", "must be at least 0, got -1.0"),
        ("{normal: {shape: [3, 4]}}", "{normal: {shape: [100000, 100000]}}", "shape: [100000", "has 10,000,000,000 elements"),
        ("{normal: {shape: [3, 4]}}", "{normormal: {shape: [3, 4]}}", "normormal", "unknown input generator 'normormal'; did you mean 'normal'?"),
        ("  - name: small\n    visibility: public", "  - name: small\n    visibility: public\n    hint: 3", "- name: small", "points at hint 3 but the exercise has 1 hint(s)"),
        ("  - name: hidden_one", "  - name: small  # again", "# again", "duplicate case name 'small'"),
        ("    message: multiply by two, not three", "    message: multiply by two, not three\n    file: mistakes/nope.py", "- name: triple", "mistake 'triple' file 'mistakes/nope.py' not found"),
        ("visibility: hidden", "visibility: secret", "visibility: secret", "'secret' is not one of: public, hidden"),
        ("lesson: intro\nsection", "lesson: outro\nsection", "format_version", "names unknown lesson 'outro'; did you mean 'intro'?"),
    ],
)
def test_exercise_errors_are_reported_at_their_line(tmp_path, old, new, needle, message):
    assert_reported_at_line(tmp_path, "exercise", EXERCISE, old, new, needle, message)


@pytest.mark.parametrize(
    "old, new, needle, message",
    [
        ("      - {text: wrong, correct: false}", "      - {text: wrong, correct: true}", "choices:", "needs exactly one correct choice, has 2"),
        ("section: basics\n    prompt: Which", "section: basis\n    prompt: Which", "id: pick-one", "names unknown section 'basis'; did you mean 'basics'?"),
        ("answer: a * 2", "answer: __import__('os').system('ls')", "answer: __import__", "invalid answer expression"),
        ("answer: a * 2", "answer: b * 2", "answer: b", "invalid answer expression"),
        ("kind: numeric", "kind: numerical", "kind: numerical", "'numerical' is not one of: single, multiple"),
        ("tolerance: {absolute: 0.5}", "tolerance: {absolute: 0.5, relative: 0.1}", "tolerance:", "give exactly one of `absolute` or `relative`"),
        ('prompt: "What is {a} times 2?"', 'prompt: "What is {b} times 2?"', "What is {b}", "prompt uses {b} but the question has no such parameter"),
        ("lesson: intro", "lesson: other", "lesson: other", "quiz names lesson 'other' but sits beside lesson 'intro'"),
    ],
)
def test_quiz_errors_are_reported_at_their_line(tmp_path, old, new, needle, message):
    assert_reported_at_line(tmp_path, "quiz", QUIZ, old, new, needle, message)


@pytest.mark.parametrize(
    "text, position, message",
    [
        ("", "1:1", "file is empty"),
        ("# only a comment\n", "1:1", "file is empty"),
        ("- a\n- b\n", "1:1", "the top level of a lesson file must be a mapping of keys, got a list"),
        ("id: x\n\ttitle: y\n", "2:1", "tab character in indentation"),
        ("id: [unclosed\ntitle: x\n", "2:", "YAML syntax error"),
        ("a: &a [*a]\n", "1:4", "recursive alias"),
    ],
)
def test_broken_files_are_reported_without_a_traceback(tmp_path, text, position, message):
    found = problems(tmp_path, lesson=text)
    matching = [p for p in found if message in p]
    assert matching, found
    assert matching[0].startswith(f"content/intro/lesson.yaml:{position}")


def test_an_alias_bomb_is_rejected_at_the_alias_that_crosses_the_budget(tmp_path):
    levels = ['a: &a ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]']
    for previous, name in zip("abcdefgh", "bcdefghi"):
        levels.append(f"{name}: &{name} [" + ",".join([f"*{previous}"] * 9) + "]")
    bomb = "\n".join(levels) + "\n"
    assert len(bomb) < 2048
    found = problems(tmp_path, lesson=bomb)
    # f holds 9 aliases of e (66,430 values each): its second one takes the file past 100,000
    line = line_of(bomb, "f: &f")
    column = bomb.splitlines()[line - 1].index("*e", bomb.splitlines()[line - 1].index("*e") + 1) + 1
    assert [p for p in found if "an alias bomb?" in p] == [
        f"content/intro/lesson.yaml:{line}:{column}: document expands to more than 100,000 values through "
        "aliases: an alias bomb? (the budget is crossed here)"]


def test_a_large_block_style_alias_bomb_is_rejected_at_its_alias(tmp_path):
    text = "a: &a [1, 2, 3, 4, 5, 6, 7, 8, 9, 10]\nb: &b\n" + "  - *a\n" * 10 + "c: &c\n" + "  - *b\n" * 10
    text += "d: &d\n" + "  - *c\n" * 10 + "e:\n" + "".join(f"  k{i}: *d\n" for i in range(20))
    found = [p for p in problems(tmp_path, lesson=text) if "alias bomb" in p]
    # d holds 11,111 values: the tenth alias of it under e crosses 100,000
    assert found and found[0].startswith(f"content/intro/lesson.yaml:{line_of(text, 'k9: *d')}:7:"), found


def test_every_error_of_every_file_is_listed_in_one_run(tmp_path):
    found = problems(
        tmp_path,
        lesson=LESSON.replace("summary: Just", "summery: Just"),
        quiz=QUIZ.replace("kind: numeric", "kind: numerical"),
        exercise=EXERCISE.replace("seed: 1", "seed: -1"),
    )
    files = {p.split(":")[0] for p in found}
    assert files == {"content/intro/lesson.yaml", "content/intro/quiz.yaml", "exercises/double/exercise.yaml"}


def test_load_course_raises_content_error_with_all_diagnostics(tmp_path):
    write_course(tmp_path, lesson=LESSON.replace("summary: Just", "summery: Just"))
    with pytest.raises(ContentError) as error:
        load_course(tmp_path)
    assert "unknown key 'summery'" in str(error.value)


def test_validate_command_prints_file_line_col_and_exits_2(tmp_path):
    text = LESSON.replace("number: 1", "number: 0777")
    write_course(tmp_path, lesson=text)
    result = subprocess.run([sys.executable, "-m", "course", "validate", str(tmp_path)], capture_output=True, text=True, timeout=60)
    assert result.returncode == 2
    assert f"content/intro/lesson.yaml:{line_of(text, 'number: 0777')}:9: expected a whole number" in result.stdout
    assert "Traceback" not in result.stdout + result.stderr


def test_validate_command_accepts_a_good_course(tmp_path):
    write_course(tmp_path)
    result = subprocess.run([sys.executable, "-m", "course", "validate", str(tmp_path)], capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "1 lesson(s)" in result.stdout


def test_a_missing_course_folder_is_a_content_error(tmp_path):
    result = subprocess.run([sys.executable, "-m", "course", "--course", str(tmp_path / "nope"), "lessons"], capture_output=True, text=True, timeout=60)
    assert result.returncode == 2
    assert "course folder not found" in result.stderr
    assert "Traceback" not in result.stderr


# --------------------------------------------------------------------------- checks the suite once let slip

GRAPH = """\
  - id: flow
    kind: graph
    title: Flow
    nodes: [{id: a}, {id: b}]
    clusters:
      - {id: c1, nodes: [a]}
      - {id: c2, nodes: [a, b]}  # a again
"""


@pytest.mark.parametrize(
    "kind, old, new, needle, message",
    [
        ("quiz", "a: {choices: [1, 2, 3]}", "a: {range: [5, 2]}", "a: {range", "range low 5 is above high 2"),
        ("quiz", "tolerance: {absolute: 0.5}", "tolerance: {}", "tolerance: {}", "give exactly one of `absolute` or `relative`"),
        ("exercise", "{normal: {shape: [3, 4]}}", "{integers: {shape: [3], low: 2, high: 2}}", "integers:",
         "low (2) must be below high (2)"),
        ("exercise", "{normal: {shape: [3, 4]}}", "{uniform: {shape: [3], low: 2.0, high: 1.0}}", "uniform:",
         "low (2) must be below high (1)"),
        ("exercise", "{normal: {shape: [3, 4]}}", "{mask: {shape: [4], pattern: causal}}", "mask:",
         "a mask needs at least two axes (..., seq_q, seq_k)"),
        ("lesson", "figures:\n", "figures:\n" + GRAPH, "# a again", "node 'a' is already in cluster 'c1'"),
        ("lesson", "format_version: 1", "format_version: 2", "format_version",
         "format_version 2 is newer than this engine reads (1): update the course engine"),
        ("exercise", "format_version: 1", "format_version: 0", "format_version",
         "format_version 0 is older than this engine reads (1): migrate the file to format_version 1"),
    ],
)
def test_an_author_is_told_about_inconsistent_values(tmp_path, kind, old, new, needle, message):
    base = {"lesson": LESSON, "quiz": QUIZ, "exercise": EXERCISE}[kind]
    assert_reported_at_line(tmp_path, kind, base, old, new, needle, message)


IMAGE = "  - {id: sketch, kind: image, title: A sketch, file: FILE}\n"


def test_an_image_outside_the_lesson_folder_is_refused(tmp_path):
    (tmp_path / "secret.png").write_bytes(b"\x89PNG")
    text = LESSON.replace("figures:\n", "figures:\n" + IMAGE.replace("FILE", "../../secret.png"), 1)
    found = problems(tmp_path, lesson=text)
    assert any(p.startswith(f"content/intro/lesson.yaml:{line_of(text, 'id: sketch')}:")
               and "must be a path inside the folder" in p for p in found), found


def test_an_image_linked_from_outside_the_lesson_folder_is_refused(tmp_path):
    write_course(tmp_path)
    (tmp_path / "secret.png").write_bytes(b"\x89PNG")
    (tmp_path / "content" / "intro" / "sketch.png").symlink_to(tmp_path / "secret.png")
    text = LESSON.replace("figures:\n", "figures:\n" + IMAGE.replace("FILE", "sketch.png"), 1)
    found = problems(tmp_path, lesson=text)
    assert f"content/intro/lesson.yaml:{line_of(text, 'id: sketch')}:5: image file 'sketch.png' is outside the " \
           "lesson folder" in found, found


def test_an_image_in_the_lesson_folder_is_accepted_and_missing_one_is_not(tmp_path):
    text = LESSON.replace("figures:\n", "figures:\n" + IMAGE.replace("FILE", "sketch.png"), 1)
    missing = problems(tmp_path, lesson=text)
    assert any("image file 'sketch.png' not found in content/intro/" in p for p in missing), missing
    (tmp_path / "content" / "intro" / "sketch.png").write_bytes(b"\x89PNG")
    assert problems(tmp_path, lesson=text) == []


def test_null_values_mean_the_default_as_before(tmp_path):
    """`summary:` with nothing after it loads as if the key were absent; a required key is still required."""
    assert problems(tmp_path, lesson=LESSON.replace("summary: Just enough to test the engine.", "summary:")) == []
    text = LESSON.replace("title: A tiny lesson", "title:")
    assert problems(tmp_path, lesson=text) == [
        f"content/intro/lesson.yaml:{line_of(text, 'title:')}:7: expected text, got nothing (null)"]
