"""The interactive quiz (and review) in a terminal: one question at a time.

Each answer is graded, saved to the progress store in its own transaction and
only then explained, so a killed process loses at most the question on screen.
`q`, Ctrl-C and end of input all end the session the same way: what was answered
is kept, the attempt is marked abandoned and the summary is shown.
This module only talks to the student; reading what was typed is course.quiz.typed's
job, scoring is course.quiz.grading's.
"""
from __future__ import annotations

import re
import shutil
import textwrap
from dataclasses import dataclass, field
from typing import Callable

import click

from course.model import Lesson
from course.progress.store import ProgressStore
from course.quiz import grading, review, typed
from course.quiz.grading import AnswerResult, QuizResult, fmt_points
from course.quiz.variants import QuestionInstance, instantiate, instantiate_quiz
from course.paths import command

COMMANDS_HINT = "? hint · s skip · q quit"
_PREFORMATTED = re.compile(r"\s|[-*] |\d+\. ")  # code and list lines keep their line breaks


@dataclass
class Terminal:
    """Where the session reads and writes; styling only when asked (stdout is a tty)."""

    color: bool = False
    read: Callable[[str], str] = input
    width: int = field(default_factory=lambda: min(shutil.get_terminal_size((80, 24)).columns, 80))

    def say(self, text: str = "", **style) -> None:
        click.echo(click.style(text, **style) if self.color and style else text)

    def wrap(self, text: str, indent: str = "", **style) -> None:
        """Paragraphs re-flowed to the width; indented lines (code, lists) kept as written."""
        for paragraph in text.strip("\n").split("\n\n"):
            lines = paragraph.splitlines()
            if any(_PREFORMATTED.match(line) for line in lines):
                for line in lines:
                    self.say(indent + line, **style)
            else:
                filled = textwrap.fill(" ".join(lines), self.width - 1, initial_indent=indent, subsequent_indent=indent)
                self.say(filled, **style)

    def ask(self, prompt: str = "> ") -> str:
        return self.read(prompt)


@dataclass(frozen=True)
class Turn:
    """What the student did with one question."""

    answer: grading.Answer | None = None  # None: skipped
    hinted: bool = False
    quit: bool = False


@dataclass(frozen=True)
class SessionOutcome:
    result: QuizResult
    status: str  # "finished" | "abandoned"
    interrupted: bool  # ended by Ctrl-C
    attempt_id: int


def _clip(text: str, width: int) -> str:
    return text if len(text) <= width else text[: width - 1] + "…"


def section_title(lesson: Lesson, section_id: str) -> str:
    section = lesson.section(section_id)
    return section.title if section else section_id


# --------------------------------------------------------------------------- one question


def show_question(term: Terminal, instance: QuestionInstance, header: str) -> None:
    term.say()
    term.say(header, bold=True)
    term.wrap(instance.prompt)
    kind = instance.kind
    if kind in ("single", "multiple"):
        for letter, choice in zip(typed.LETTERS, instance.choices):
            term.say(f"  {letter}) {choice.text}")
    elif kind == "ordering":
        for number, item in enumerate(instance.items, 1):
            term.say(f"  {number}. {item}")
    elif kind == "matching":
        for letter, left in zip(typed.LETTERS, instance.lefts):
            term.say(f"  {letter}) {left}")
        term.say("  with")
        for number, right in enumerate(instance.rights, 1):
            term.say(f"  {number}. {right}")
    term.wrap(f"{typed.input_hint(instance)} · {COMMANDS_HINT}", dim=True)


def ask_turn(term: Terminal, instance: QuestionInstance) -> Turn:
    """Read until there is an answer, a skip or a quit; bad input is explained and asked again."""
    hinted = False
    while True:
        line = term.ask("> ")
        command = line.strip().lower()
        if command == "?":
            hinted = True
            term.wrap(f"Hint: {instance.question.hint or 'no hint for this question.'}", "  ", fg="cyan")
            term.say(f"  ({typed.input_hint(instance)})", dim=True)
            continue
        if command == "s":
            return Turn(None, hinted)
        if command == "q":
            return Turn(quit=True)
        parsed = typed.parse_typed(instance, line)
        if isinstance(parsed, typed.ParseError):
            term.say(f"  {parsed.reason}; try again.", fg="yellow")
            continue
        return Turn(parsed, hinted)


def _label(instance: QuestionInstance, choice_text: str) -> str:
    for letter, choice in zip(typed.LETTERS, instance.choices):
        if choice.text == choice_text:
            return f"{letter}) "
    return ""


def show_feedback(term: Terminal, instance: QuestionInstance, result: AnswerResult, lesson: Lesson) -> None:
    points = f"({fmt_points(result.score)}/{fmt_points(result.max_score)})"
    if result.correct:
        term.say(f"✓ {result.feedback} {points}", fg="green", bold=True)
    elif result.score > 0:
        term.wrap(f"◐ {result.feedback} {points}", fg="yellow", bold=True)
    else:
        term.wrap(f"✗ {result.feedback} {points}", fg="red", bold=True)
    for choice, explanation in result.notes:
        term.wrap(f"{_label(instance, choice)}{choice}: {explanation}", "  ")
    if result.explanation:
        term.wrap(f"Why: {result.explanation}", "  ")
    term.say(f"  Re-read: {section_title(lesson, result.section)} ({command('read ' + lesson.id)})", dim=True)


def record(store: ProgressStore, attempt_id: int, lesson_id: str, result: AnswerResult, hinted: bool) -> int | None:
    """Save the answer and move its review box, in one transaction; returns the new box."""
    with store.transaction():
        store.record_answer(
            attempt_id, result.question_id, result.given, result.score, result.max_score, result.correct, hinted
        )
        return review.record_outcome(store, lesson_id, result.question_id, result.correct, store.clock())


# --------------------------------------------------------------------------- a quiz


def run_quiz(*, lesson: Lesson, seed: int, store: ProgressStore, term: Terminal) -> SessionOutcome:
    """Ask every question of the lesson's quiz, saving each answer as it is given."""
    quiz = lesson.quiz
    assert quiz is not None, "the command checks that the lesson has a quiz"
    instances = instantiate_quiz(quiz, seed)
    max_score = sum(q.points for q in quiz.questions)
    attempt_id = store.start_attempt(lesson.id, seed, max_score=max_score)
    term.say(f"{quiz.title} · {len(instances)} questions · seed {seed}", bold=True)
    results: list[AnswerResult] = []
    status, interrupted = "finished", False
    try:
        for number, instance in enumerate(instances, 1):
            header = f"Question {number}/{len(instances)} · {section_title(lesson, instance.question.section)}"
            show_question(term, instance, header)
            turn = ask_turn(term, instance)
            if turn.quit:
                status = "abandoned"
                break
            result = grading.grade(instance, turn.answer)
            record(store, attempt_id, lesson.id, result, turn.hinted)
            results.append(result)
            show_feedback(term, instance, result, lesson)
    except KeyboardInterrupt:
        status, interrupted = "abandoned", True
        term.say()
    except EOFError:
        status = "abandoned"
        term.say()
    store.finish_attempt(attempt_id, status=status)
    result = QuizResult(lesson.id, seed, quiz.pass_fraction, tuple(results), max_score)
    show_summary(term, result, lesson, asked=len(instances), status=status)
    return SessionOutcome(result, status, interrupted, attempt_id)


def summary_lines(result: QuizResult, lesson: Lesson) -> list[tuple[str, dict]]:
    """The end-of-quiz report as (line, click style) pairs: score, per section, what to re-read."""
    percent = 100 * result.score / result.max_score if result.max_score else 0.0
    verdict = "passed" if result.passed else "not passed yet"
    lines: list[tuple[str, dict]] = [
        (f"Score: {fmt_points(result.score)}/{fmt_points(result.max_score)} ({percent:.0f}%) · "
         f"pass mark {100 * result.pass_fraction:.0f}% · {verdict}", {"bold": True, "fg": "green" if result.passed else "yellow"}),
    ]
    sections = result.by_section()
    if sections:
        lines.append(("By section:", {"bold": True}))
        titles = [_clip(section_title(lesson, s.section), 64) for s in sections]
        width = max(len(t) for t in titles)
        for title, s in zip(titles, sections):
            lines.append((f"  {title:<{width}}  {fmt_points(s.score)}/{fmt_points(s.max_score)}", {}))
    reread = result.sections_to_reread()
    if reread:
        lines.append((f"Re-read ({command('read ' + lesson.id)}):", {"bold": True}))
        lines.extend((f"  - {section_title(lesson, s)}", {}) for s in reread)
    return lines


def show_summary(term: Terminal, result: QuizResult, lesson: Lesson, *, asked: int, status: str) -> None:
    term.say()
    answered = len(result.results)
    skipped = sum(1 for r in result.results if r.skipped)
    if status == "abandoned":
        term.say(f"Stopped: {answered} of {asked} questions answered and saved.", bold=True)
    else:
        term.say(f"Done: {answered} questions{f', {skipped} skipped' if skipped else ''}.", bold=True)
    for line, style in summary_lines(result, lesson):
        term.say(line, **style)
    term.say(f"Same questions again: {command(f'quiz {lesson.id} --seed {result.seed}')}", dim=True)


# --------------------------------------------------------------------------- review


@dataclass(frozen=True)
class ReviewOutcome:
    asked: int
    right: int
    interrupted: bool


def run_review(
    *, due: list[review.DueQuestion], seed: int, store: ProgressStore, term: Terminal
) -> ReviewOutcome:
    """Ask the due questions like a short quiz; right answers move up a box, misses go back to box 1."""
    attempts: dict[str, int] = {}
    asked = right = 0
    interrupted = False
    try:
        for number, item in enumerate(due, 1):
            lesson = item.lesson
            instance = instantiate(item.question, seed)
            header = f"Review {number}/{len(due)} · {lesson.id} · {section_title(lesson, item.question.section)} · box {item.box}"
            show_question(term, instance, header)
            turn = ask_turn(term, instance)
            if turn.quit:
                break
            if lesson.id not in attempts:
                attempts[lesson.id] = store.start_attempt(lesson.id, seed, mode="review")
            result = grading.grade(instance, turn.answer)
            box = record(store, attempts[lesson.id], lesson.id, result, turn.hinted)
            asked += 1
            right += result.correct
            show_feedback(term, instance, result, lesson)
            days = review.INTERVALS_DAYS[box] if box else 0
            term.say(f"  → box {box}: " + (f"back in {days} day{'s' if days != 1 else ''}" if days else "due again now"), dim=True)
    except KeyboardInterrupt:
        interrupted = True
        term.say()
    except EOFError:
        term.say()
    for attempt_id in attempts.values():
        store.finish_attempt(attempt_id, status="finished")
    term.say()
    term.say(f"Reviewed {asked}: {right} right (moved up a box), {asked - right} missed (back to box 1).", bold=True)
    return ReviewOutcome(asked, right, interrupted)
