"""The interactive quiz (and review) in a terminal: one question at a time.

The attempt itself (its seed, the questions left, saving each answer before it is
explained, resuming an unfinished attempt) is a course.quiz.run.QuizRun; this module
only talks to the student. `q`, Ctrl-C and end of input all end the session the same
way: what was answered is kept, the attempt stays resumable and the summary is shown.
Reading what was typed is course.quiz.typed's job, scoring is course.quiz.grading's.

Every line goes through rich (course.terminal): choices, feedback and explanations
are wrapped at words to the terminal's width with a hanging indent, and colour codes
never count towards the width.
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any, Callable

from course import terminal
from course.model import Lesson
from course.progress.store import ProgressStore
from course.quiz import grading, review, typed
from course.quiz.grading import AnswerResult, QuizResult, fmt_points
from course.paths import command
from course.quiz.run import QuizRun, record
from course.quiz.variants import QuestionInstance, instantiate

COMMANDS_HINT = "? hint · s skip · q quit (your answers are kept)"
MAX_WIDTH = 100  # longer lines are hard to read
_PREFORMATTED = re.compile(r"\s|[-*] |\d+\. ")  # code and list lines keep their line breaks


def _default_width() -> int:
    return min(terminal.columns(), MAX_WIDTH)


@dataclass
class Terminal:
    """Where the session reads and writes; styled only when asked (stdout is a terminal)."""

    color: bool = False
    read: Callable[[str], str] = input
    width: int = field(default_factory=_default_width)
    file: Any = None

    def __post_init__(self) -> None:
        self._printer = terminal.Printer(self.file, width=self.width, colour=self.color)

    def say(self, text: Any = "", **style) -> None:
        """One paragraph (or any rich renderable), wrapped at words to the width."""
        self._printer.print(terminal.text(text) if isinstance(text, str) and text else text, style=_rich_style(style))

    def item(self, label: str, text: str, **style) -> None:
        """`label` then `text`, continuation lines under the text's first word: `  a) a long choice`."""
        self._printer.print(terminal.labelled(label, text), style=_rich_style(style))

    def wrap(self, text: str, indent: str = "", **style) -> None:
        """Paragraphs re-flowed to the width; indented lines (code, lists) kept as written (and folded)."""
        for paragraph in text.strip("\n").split("\n\n"):
            lines = paragraph.splitlines()
            if any(_PREFORMATTED.match(line) for line in lines):
                for line in lines:
                    self.say(terminal.text(indent + line, indent=0, hanging=len(indent) + 2), **style)
            else:
                self.say(terminal.text(" ".join(lines), indent=len(indent)), **style)

    def ask(self, prompt: str = "> ") -> str:
        return self.read(prompt)


def _rich_style(style: dict) -> str:
    """click-style keywords (bold=True, fg="green", dim=True) as a rich style string."""
    words = [name for name in ("bold", "dim", "italic", "underline") if style.get(name)]
    if style.get("fg"):
        words.append(style["fg"])
    return " ".join(words)


@dataclass(frozen=True)
class Turn:
    """What the student did with one question."""

    answer: grading.Answer | None = None  # None: skipped
    hinted: bool = False
    quit: bool = False


@dataclass(frozen=True)
class SessionOutcome:
    result: QuizResult
    status: str  # "finished" | "stopped"
    interrupted: bool  # ended by Ctrl-C
    attempt_id: int | None  # None: nothing was answered, so no attempt was stored


def _clip(text: str, width: int) -> str:
    return text if len(text) <= width else text[: width - 1] + "…"


def points(value: float) -> str:
    """'1 point', '2.5 points', '0 points'."""
    return f"{fmt_points(value)} point{'' if fmt_points(value) == '1' else 's'}"


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
            term.item(f"  {letter}) ", choice.text)
    elif kind == "ordering":
        for number, item in enumerate(instance.items, 1):
            term.item(f"  {number}. ", item)
    elif kind == "matching":
        for letter, left in zip(typed.LETTERS, instance.lefts):
            term.item(f"  {letter}) ", left)
        term.say("  with")
        for number, right in enumerate(instance.rights, 1):
            term.item(f"  {number}. ", right)
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
            term.say(terminal.text(f"({typed.input_hint(instance)})", indent=2), dim=True)
            continue
        if command == "s":
            return Turn(None, hinted)
        if command == "q":
            return Turn(quit=True)
        parsed = typed.parse_typed(instance, line)
        if isinstance(parsed, typed.ParseError):
            term.say(terminal.text(f"{parsed.reason}; try again.", indent=2), fg="yellow")
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
        term.item("✓ ", f"{result.feedback} {points}", fg="green", bold=True)
    elif result.score > 0:
        term.item("◐ ", f"{result.feedback} {points}", fg="yellow", bold=True)
    else:
        term.item("✗ ", f"{result.feedback} {points}", fg="red", bold=True)
    for choice, explanation in result.notes:
        term.item("  ", f"{_label(instance, choice)}{choice}: {explanation}")
    if result.explanation:
        term.item("  Why: ", result.explanation)
    term.item("  ", f"Re-read: {section_title(lesson, result.section)} ({command('read ' + lesson.id)})", dim=True)


# --------------------------------------------------------------------------- a quiz


def run_quiz(*, lesson: Lesson, store: ProgressStore, term: Terminal, seed: int | None = None,
             restart: bool = False, new_seed: Callable[[], int] | None = None) -> SessionOutcome:
    """Ask the questions of the lesson's quiz not answered yet, saving each answer as it is given.

    An unfinished attempt is resumed (same seed, same order, from the first question
    not answered); `restart` starts over. UsageError for a seed that contradicts the
    unfinished attempt's (course.quiz.run.QuizRun.open).
    """
    run = QuizRun.open(lesson, store, seed=seed, restart=restart, new_seed=new_seed)
    quiz = lesson.quiz
    term.say(f"{quiz.title} · {run.total} questions · seed {run.seed}", bold=True)
    if run.resumed:
        done = run.total - len(run.pending())
        first = run.next()
        where = f"going on at question {first[0]}" if first else "nothing left to answer"
        term.say(f"Resuming your unfinished attempt: {done} of {run.total} answered, {where} "
                 f"(`{command('quiz ' + lesson.id + ' --restart')}` starts over).", dim=True)
    status, interrupted = "finished", False
    try:
        for number, instance in run.pending():
            header = f"Question {number}/{run.total} · {section_title(lesson, instance.question.section)}"
            show_question(term, instance, header)
            turn = ask_turn(term, instance)
            if turn.quit:
                status = "stopped"
                break
            answered = run.answer(instance, turn.answer, hinted=turn.hinted)
            show_feedback(term, instance, answered, lesson)
    except KeyboardInterrupt:
        status, interrupted = "stopped", True
        term.say()
    except EOFError:
        status = "stopped"
        term.say()
    if not run.finished:
        status = "stopped"
        run.stop()
    result = run.result()
    show_summary(term, result, lesson, status=status, saved=run.attempt_id is not None)
    return SessionOutcome(result, status, interrupted, run.attempt_id)


def summary_lines(result: QuizResult, lesson: Lesson) -> list[tuple[str, dict]]:
    """The report of a quiz as (line, click style) pairs: the score, per section, what to re-read.

    Counts say what they count: "N of M answered, X points of P", P being what the
    questions answered or skipped were worth. A quiz left unfinished gets no percentage
    and no verdict: the pass mark is for the whole quiz.
    """
    skipped = f" ({result.skipped} skipped)" if result.skipped else ""
    counted = f"{result.answered} of {result.total} answered{skipped}"
    if result.complete:
        percent = 100 * result.score / result.max_score if result.max_score else 0.0
        verdict = "passed" if result.passed else "not passed yet"
        head = (f"Score: {counted}, {points(result.score)} of {fmt_points(result.max_score)} "
                f"({percent:.0f}%) · pass mark {100 * result.pass_fraction:.0f}% · {verdict}")
        style = {"bold": True, "fg": "green" if result.passed else "yellow"}
    else:
        head = (f"Score so far: {counted}, {points(result.score)} of {fmt_points(result.asked_max)} "
                f"(the quiz has {fmt_points(result.max_score)}; the pass mark counts once it is finished)")
        style = {"bold": True}
    lines: list[tuple[str, dict]] = [(head, style)]
    sections = result.by_section()
    if sections:
        sizes: dict[str, int] = {}
        for question in lesson.quiz.questions if lesson.quiz else ():
            sizes[question.section] = sizes.get(question.section, 0) + 1
        lines.append(("By section:", {"bold": True}))
        titles = [_clip(section_title(lesson, s.section), 48) for s in sections]
        width = max(len(t) for t in titles)
        for title, s in zip(titles, sections):
            answered = sum(1 for r in result.results if r.section == s.section and not r.skipped)
            total = sizes.get(s.section, answered)
            lines.append((f"  {title:<{width}}  {answered} of {total} answered, "
                          f"{points(s.score)} of {fmt_points(s.max_score)}", {}))
    reread = result.sections_to_reread()
    if reread:
        lines.append((f"Re-read ({command('read ' + lesson.id)}):", {"bold": True}))
        lines.extend((f"  - {section_title(lesson, s)}", {}) for s in reread)
    return lines


def show_summary(term: Terminal, result: QuizResult, lesson: Lesson, *, status: str, saved: bool = True) -> None:
    term.say()
    skipped = f", {result.skipped} skipped" if result.skipped else ""
    if not saved:
        term.say("Stopped before the first answer: nothing was saved (that is not an attempt).", bold=True)
        term.say(f"Same questions again: {command(f'quiz {lesson.id} --seed {result.seed}')}", dim=True)
        return
    if status == "stopped":
        left = result.total - len(result.results)
        term.say(f"Stopped: {result.answered} of {result.total} answered{skipped}, all saved; {left} to go.",
                 bold=True)
    else:
        term.say(f"Done: {result.answered} of {result.total} answered{skipped}.", bold=True)
    for line, style in summary_lines(result, lesson):
        if line.startswith("  "):
            term.item("  ", line[2:], **style)
        else:
            term.item("", line, **style)
    if status == "stopped":
        term.say(f"Go on where you stopped: {command('quiz ' + lesson.id)} (same seed {result.seed}); "
                 f"start over: {command('quiz ' + lesson.id + ' --restart')}", dim=True)
    else:
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
            term.say(terminal.text(f"→ box {box}: " + (f"back in {days} day{'s' if days != 1 else ''}"
                                                       if days else "due again now"), indent=2), dim=True)
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
