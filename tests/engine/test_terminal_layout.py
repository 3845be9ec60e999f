"""What the terminal shows, as a student sees it: widths, wrapping, colour, the pager.

Each test is one layout defect found by a student (issue 12), checked on the real
command's output: piped, under COLUMNS, or in a pseudo-terminal (pexpect).
"""
from __future__ import annotations

import os
import re
import sys
import textwrap
from pathlib import Path

import pytest

from course import terminal
from course.loader import load_course
from course.model import TableBlock
from course.paths import builtin_root
from course.reading import render_lesson

import courserunner

ANSI = re.compile(r"\x1b\[[0-9;]*m")
LESSON = load_course(builtin_root()).lesson("lesson-3")


def course(*args, env=None, cwd=None, timeout=60):
    environment = {**os.environ, **(env or {})}
    environment.pop("COURSE_ROOT", None)
    return courserunner.run_course(*args, env=environment, cwd=cwd or Path.cwd(), timeout=timeout)


def long_lines(text: str, width: int) -> list[str]:
    return [line for line in ANSI.sub("", text).splitlines() if len(line) > width and "://" not in line]


def table_words() -> set[str]:
    words = set()
    for section in LESSON.sections:
        for block in section.blocks:
            if isinstance(block, TableBlock):
                for row in (block.columns, *block.rows):
                    words.update(word for cell in row for word in str(cell).split() if len(word) <= 18)
    return words


@pytest.mark.parametrize("columns", [60, 80, 100])
def test_piped_read_follows_columns(columns):
    done = course("read", "lesson-3", env={"COLUMNS": str(columns)})
    assert done.returncode == 0, done.stderr
    assert long_lines(done.stdout, columns) == []
    assert max(len(line) for line in done.stdout.splitlines() if "://" not in line) > columns - 8  # the room is used


@pytest.mark.parametrize("width", [60, 80])
def test_tables_never_split_a_word_that_fits(width):
    text = render_lesson(LESSON, width=width)
    tokens = set(text.split())
    split = sorted(word for word in table_words() if word not in text)
    assert split == [], f"split across lines at {width} columns: {split[:10]}"
    assert "self-attention" in tokens or "self-attention," in tokens


def test_colour_codes_do_not_count_towards_the_width():
    coloured = render_lesson(LESSON, width=80, color=True)
    assert "\x1b[" in coloured
    assert long_lines(coloured, 80) == []
    key_terms = ANSI.sub("", coloured).split("Key terms", 1)[1].split("Sources", 1)[0]
    # a key term's first line, bold term and all, fills the line as the plain text does
    assert max(len(line) for line in key_terms.splitlines()) >= 76


def test_an_illustration_is_announced_once():
    text = render_lesson(LESSON, width=80)
    assert "Illustration: Illustration:" not in text
    assert "[Illustration: self-attention weights for one head]" in text
    assert "[Figure: Published parameter counts, 2017-2023 (log scale)]" in text


def test_markdown_is_rendered_not_shown_raw():
    from course.model import MarkdownBlock

    text = " ".join(render_lesson(LESSON, width=80).split())
    prose = " ".join(block.text for section in LESSON.sections for block in section.blocks
                     if isinstance(block, MarkdownBlock))
    bold = re.findall(r"\*\*([^*]+)\*\*", prose)
    headings = re.findall(r"^### (.+)$", prose, re.M)
    assert bold or headings
    for words in bold:
        assert f"**{words}**" not in text and " ".join(words.split()) in text
    for heading in headings:
        assert f"### {heading}" not in text and heading.strip() in text
    assert "`param_count`" in text  # plain text keeps inline code recognisable


def test_columns_and_terminal_width_rules(monkeypatch):
    monkeypatch.setenv("COLUMNS", "123")
    assert terminal.columns() == 123
    monkeypatch.setenv("COLUMNS", "oops")
    assert terminal.columns(default=77) == 77  # not a terminal here (pytest captures stdout)
    monkeypatch.setenv("NO_COLOR", "")
    assert terminal.color() is False


def test_read_opens_a_pager_on_a_terminal(tmp_path):
    pexpect = pytest.importorskip("pexpect")
    seen = tmp_path / "paged.txt"
    pager = tmp_path / "pager.py"
    pager.write_text(f"import sys\nopen({str(seen)!r}, 'w').write(sys.stdin.read())\nprint('PAGER RAN')\n")
    env = {**os.environ, "PAGER": f"{sys.executable} {pager}", "TERM": "xterm", "NO_COLOR": "1"}
    child = pexpect.spawn(sys.executable, ["-m", "course", "read", "lesson-3"], env=env, encoding="utf-8",
                          timeout=60, dimensions=(40, 80))
    output = child.read()
    child.close()
    assert child.exitstatus == 0
    assert "PAGER RAN" in output and "Lesson 3" not in output  # the lesson went to the pager, not the screen
    paged = seen.read_text()
    assert paged.startswith("Lesson 3: ") and "Key terms" in paged
    assert long_lines(paged, 80) == []


def test_exercises_columns_line_up_at_any_width():
    for columns in ("60", "100"):
        done = course("exercises", env={"COLUMNS": columns})
        header, *rows = done.stdout.splitlines()
        starts = [header.index(name) for name in ("status", "cases", "title")]
        for row in rows:
            if row.startswith(" "):  # a wrapped title: only spaces before the title column
                assert row[: starts[2]].strip() == "", row
                continue
            assert all(row[at - 1] == " " and row[at] != " " for at in starts), row
        assert long_lines(done.stdout, int(columns)) == []


# --------------------------------------------------------------------------- the quiz in a terminal

LONG_CHOICE = ("the model attends to the tokens on the right context as well as on the left context, which is "
               "how an encoder reads its input")
QUIZ = f"""
format_version: 1
lesson: intro
title: Tiny quiz
pass_fraction: 0.6
questions:
  - id: pick
    kind: single
    section: basics
    prompt: Which sentence describes bidirectional attention and what it means for the gradients during training?
    hint: Think of an encoder.
    explanation: Encoders see both sides of each token, and gradients reach every position through attention.
    choices:
      - {{text: "{LONG_CHOICE}", correct: true, explanation: "An encoder reads the whole input at once, so its attention is not masked and every gradient flows both ways."}}
      - {{text: only to the left, correct: false}}
  - id: match
    kind: matching
    section: basics
    prompt: Match each input → output example to its task.
    hint: What stands right of each arrow?
    explanation: A label for the whole text is sentiment; the same text in another language is translation.
    pairs:
      - {{left: "\\"The battery died.\\" → negative", right: Sentiment analysis}}
      - {{left: "\\"Where is it?\\" → \\"Wo ist es?\\"", right: Machine translation}}
"""


@pytest.mark.parametrize("columns", [80, 100])
def test_quiz_choices_and_feedback_wrap_at_words_with_a_hanging_indent(tmp_path, columns):
    pexpect = pytest.importorskip("pexpect")
    from coursefactory import write_course

    root = write_course(tmp_path / "course", quiz=textwrap.dedent(QUIZ).lstrip())
    env = {**os.environ, "COURSE_HOME": str(tmp_path / "home"), "NO_COLOR": "1", "COLUMNS": str(columns)}
    child = pexpect.spawn(sys.executable, ["-m", "course", "--course", str(root), "quiz", "intro", "--seed", "1"],
                          env=env, encoding="utf-8", timeout=30, dimensions=(60, columns))
    child.expect_exact("> ")
    screen = child.before
    letter = next(line.strip()[0] for line in screen.splitlines() if line.strip().startswith(("a) the", "b) the")))
    child.sendline(letter)
    child.expect_exact("> ")
    screen += child.before
    from course.quiz.variants import instantiate

    match = instantiate(load_course(root).lesson("intro").quiz.question("match"), 1)
    right = {p.left: p.right for p in match.question.pairs}
    wrong = " ".join(f"{'ab'[i]}{2 - match.rights.index(right[left])}" for i, left in enumerate(match.lefts))
    child.sendline(wrong)  # both pairs swapped: the feedback names them
    child.expect(pexpect.EOF)
    screen += child.before
    lines = screen.replace("\r", "").splitlines()
    assert all(len(line) <= columns for line in lines), [line for line in lines if len(line) > columns]
    words = " ".join(" ".join(lines).split())
    assert LONG_CHOICE in words  # no word was cut ("righ/t", "gr/adients")
    first = next(i for i, line in enumerate(lines) if line.lstrip().startswith(f"{letter}) the model"))
    assert lines[first + 1].startswith(" " * 5) and lines[first + 1][5] != " "  # under the choice's first word
    assert "→ negative” ↔ “" in words or "→ negative” ↔ “Sentiment analysis”" in words
    assert "negative → Sentiment" not in words  # no arrow nested in an arrow


def test_course_check_does_without_rich(tmp_path):
    """rich costs ~0.1 s to import: the check path (report included) must not pay it."""
    import subprocess

    (tmp_path / "softmax.py").write_text((Path(builtin_root()) / "exercises/softmax/reference.py").read_text())
    env = {**os.environ, "COURSE_HOME": str(tmp_path / "home")}
    done = subprocess.run([sys.executable, "-X", "importtime", "-m", "course", "check", "softmax", "softmax.py"],
                          capture_output=True, text=True, cwd=tmp_path, env=env, timeout=120)
    assert done.returncode == 0, done.stdout + done.stderr[-2000:]
    imported = {line.split("|")[-1].strip().split(".")[0] for line in done.stderr.splitlines() if "|" in line}
    assert "numpy" in imported  # the measurement works
    assert not imported & {"rich", "markdown_it", "pygments"}, imported & {"rich", "markdown_it", "pygments"}
