"""Quizzes: grade an answers file and write its report; the answer key; take a quiz.

`course quiz --answers`, `course quiz --key` and `course demo` write the same text,
because they all write it here.
"""
from __future__ import annotations

import textwrap
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:  # pragma: no cover
    from course.model import Lesson
    from course.quiz.grading import QuizResult

WIDTH = 100  # at most; the terminal (or COLUMNS) may be narrower


def grade_answers(lesson: "Lesson", path: Path | str, *, seed: int | None = None,
                  display_name: str | None = None) -> "QuizResult":
    """Grade an answers file (question id -> answer) against the lesson's quiz (course.quiz.answers.grade_file)."""
    from course.quiz.answers import grade_file

    assert lesson.quiz is not None  # courses.find_quiz said so
    return grade_file(Path(path), lesson.quiz, seed=seed, display_name=display_name)


def answer_key(lesson: "Lesson", seed: int, *, header: str) -> str:
    """The answers file that scores full marks for `seed` (with `_seed: N`), as YAML text."""
    from course.quiz.answers import answer_key as key, dump_answers

    assert lesson.quiz is not None
    return dump_answers(key(lesson.quiz, seed), header=header, seed=seed)


def answers_json(result: "QuizResult", lesson: "Lesson") -> dict:
    """`course quiz --answers FILE --format json`."""
    from course.quiz.session import section_title

    return {
        "lesson": result.lesson,
        "seed": result.seed,
        "score": result.score,
        "max_score": result.max_score,
        "answered": result.answered,
        "question_count": result.total,
        "pass_fraction": result.pass_fraction,
        "passed": result.passed,
        "questions": [r.as_json() for r in result.results],
        "sections": [
            {"id": s.section, "title": section_title(lesson, s.section), "score": s.score, "max_score": s.max_score}
            for s in result.by_section()
        ],
        "reread": result.sections_to_reread(),
    }


def answers_text(result: "QuizResult", lesson: "Lesson", *, color: bool, width: int) -> list[str]:
    """`course quiz --answers FILE`: a line per question (✓ ◐ ✗, points, feedback), then the summary.

    Lines to print one by one (each may hold terminal styles when `color`)."""
    import click

    from course.quiz.grading import fmt_points
    from course.quiz.session import summary_lines

    width = min(width, WIDTH)
    assert lesson.quiz is not None
    lines = [f"{lesson.quiz.title} ({lesson.id}) · {len(result.results)} questions · seed {result.seed}"]
    for r in result.results:
        mark = "✓" if r.correct else ("◐" if r.score > 0 else "✗")
        head = f"{mark} {r.question_id} ({r.kind}) {fmt_points(r.score)}/{fmt_points(r.max_score)}: "
        text = textwrap.fill(head + r.feedback, width, subsequent_indent="    ", break_on_hyphens=False)
        lines.append(click.style(text, fg="green" if r.correct else "red") if color else text)
    lines.append("")
    for line, style in summary_lines(result, lesson):
        indent = "    " if line.startswith("  ") else "  "
        text = textwrap.fill(line, width, subsequent_indent=indent, break_on_hyphens=False,
                             initial_indent="", drop_whitespace=True) if len(line) > width else line
        lines.append(click.style(text, **style) if color and style else text)
    return lines
