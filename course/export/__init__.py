"""`course export LESSON --format qti|moodle --out FILE`: a lesson's quiz for a learning management system.

    qti.py      Canvas (QTI 1.2 zip: imsmanifest.xml + the assessment, as Canvas exports it)
    moodle.py   Moodle XML

Both start from the same plan (this module): every question of the quiz becomes one or
more fixed items of the nearest kind the system has, or an entry in the report saying
why it could not be exported, never a silent gap:

    single      multiple choice, one answer           Canvas multiple_choice    Moodle multichoice
    multiple    multiple choice, several answers      multiple_answers          multichoice (single=false)
    true_false  true/false                            true_false                truefalse
    numeric     number with a tolerance               numerical (exact + range) numerical (tolerance)
    matching    match left to right                   matching                  matching
    ordering    no ordering kind: matched to 1st, 2nd, ... positions (the nearest)
    text        short answer with the accepted texts; a regular expression (`pattern`) has no
                equivalent: alone it cannot be exported, beside `accept` it is left out (reported)

A question with seeded parameters becomes a group of N fixed variants (seeds 0, 1, ...
with the distinct prompts they give), one of which each student is shown: a Canvas
question group picking 1, a Moodle category to draw a random question from.

The exported answers are the course's own (course.quiz.variants.instantiate), so a
variant's right number is the one `course quiz --key --seed N` gives.
"""
from __future__ import annotations

import html
import re
from dataclasses import dataclass, field
from pathlib import Path

from course.errors import UsageError
from course.model import Lesson, Question
from course.quiz.grading import DEFAULT_RELATIVE
from course.quiz.variants import QuestionInstance, instantiate

FORMATS = ("qti", "moodle")
DEFAULT_VARIANTS = 5
ORDINALS = ("1st", "2nd", "3rd")


@dataclass(frozen=True)
class Item:
    """One fixed question as an LMS stores it: a variant of a course question."""

    ident: str  # stable: course_<lesson>_<question>[_v<n>]
    question: Question
    instance: QuestionInstance
    kind: str  # the target kind: single, multiple, true_false, numeric, matching, text
    prompt_html: str
    pairs: tuple[tuple[str, str], ...] = ()  # matching (and ordering): (left, right)
    accept: tuple[str, ...] = ()  # text


@dataclass(frozen=True)
class Entry:
    """A course question in the export: one item, or a group of variants of it."""

    question: Question
    items: tuple[Item, ...]
    grouped: bool  # seeded parameters: pick one of the items


@dataclass
class ExportReport:
    out: Path | None = None
    fmt: str = ""
    exported: dict[str, str] = field(default_factory=dict)  # question id -> how ("single -> multiple_choice_question")
    skipped: list[tuple[str, str]] = field(default_factory=list)  # (question id, why it cannot be exported)
    notes: list[str] = field(default_factory=list)  # exported, but something of it is not


def plan(lesson: Lesson, *, variants: int = DEFAULT_VARIANTS, moodle: bool = False) -> tuple[list[Entry], ExportReport]:
    """The export of `lesson`'s quiz: entries in the quiz's order, and what could not be exported."""
    if lesson.quiz is None:
        raise UsageError(f"lesson '{lesson.id}' has no quiz to export")
    if variants < 1:
        raise UsageError("--variants must be at least 1")
    report = ExportReport()
    entries = []
    for question in lesson.quiz.questions:
        reason = _unmappable(question, moodle)
        if reason:
            report.skipped.append((question.id, reason))
            continue
        if question.kind == "text" and question.pattern:
            report.notes.append(f"{question.id}: the pattern /{question.pattern}/ is not exported (no regular "
                                f"expressions in {'Moodle' if moodle else 'Canvas'} short answers); "
                                f"the accepted answers are")
        if question.kind == "ordering":
            report.notes.append(f"{question.id}: ordering exported as matching each item to its position "
                                f"(neither system has an ordering kind that imports everywhere)")
        grouped = bool(question.parameters)
        seeds = range(variants * 4) if grouped else range(1)
        items: list[Item] = []
        prompts: set[str] = set()
        for seed in seeds:
            instance = instantiate(question, seed)
            if instance.prompt in prompts:
                continue
            prompts.add(instance.prompt)
            ident = _ident(lesson.id, question.id) + (f"_v{len(items) + 1}" if grouped else "")
            items.append(_item(ident, question, instance))
            if len(items) == (variants if grouped else 1):
                break
        if grouped and len(items) < variants:
            report.notes.append(f"{question.id}: only {len(items)} distinct variants exist (asked for {variants})")
        entries.append(Entry(question, tuple(items), grouped))
    if any(q.hint for q in lesson.quiz.questions) and not moodle:
        report.notes.append("hints are not exported: Canvas quizzes have no hints (the explanations are, as feedback)")
    return entries, report


def _unmappable(question: Question, moodle: bool) -> str:
    if question.kind == "text" and not question.accept:
        return ("a text answer checked only by the regular expression "
                f"/{question.pattern}/: short answers there accept fixed texts only")
    if moodle and question.kind in ("matching", "ordering"):
        count = len(question.pairs) if question.kind == "matching" else len(question.items)
        if count < 3:
            return f"Moodle's matching needs at least 3 answers; this one has {count}"
    return ""


def _item(ident: str, question: Question, instance: QuestionInstance) -> Item:
    prompt = markdown_html(instance.prompt)
    if question.kind == "numeric" and question.unit:
        prompt += f"<p>(in {html.escape(question.unit)})</p>"
    if question.kind == "matching":
        return Item(ident, question, instance, "matching", prompt, tuple((p.left, p.right) for p in question.pairs))
    if question.kind == "ordering":
        pairs = tuple((item, position(i + 1)) for i, item in enumerate(question.items))
        return Item(ident, question, instance, "matching", prompt, pairs)
    if question.kind == "text":
        return Item(ident, question, instance, "text", prompt, accept=question.accept)
    return Item(ident, question, instance, question.kind, prompt)


def position(number: int) -> str:
    return ORDINALS[number - 1] if number <= len(ORDINALS) else f"{number}th"


def numeric_range(item: Item) -> tuple[float, float, float]:
    """(exact, low, high): the right answer and the interval the course accepts
    (course.quiz.grading: |given - expected| <= max(absolute, relative * |expected|))."""
    assert item.instance.answer is not None  # a numeric question's instance has its number
    value = float(item.instance.answer)
    tolerance = item.question.tolerance
    margin = max(tolerance.absolute, tolerance.relative * abs(value))
    if margin == 0:
        margin = DEFAULT_RELATIVE * abs(value)
    return value, value - margin, value + margin


def number(value: float) -> str:
    """A number as text both systems parse: no thousands separators, up to 15 significant digits."""
    if float(value).is_integer() and abs(value) < 1e15:
        return str(int(value))
    return f"{value:.15g}"


def _ident(lesson_id: str, question_id: str) -> str:
    return "course_" + re.sub(r"[^A-Za-z0-9_]", "_", f"{lesson_id}_{question_id}")


_CODE = re.compile(r"`([^`]+)`")
_BOLD = re.compile(r"\*\*(.+?)\*\*")
_ITALIC = re.compile(r"(?<![*\w])\*(?!\s)(.+?)(?<!\s)\*(?![*\w])")


def markdown_html(text: str) -> str:
    """The course's inline Markdown (`code`, **bold**, *italic*, paragraphs) as escaped HTML."""
    paragraphs = [p.strip() for p in re.split(r"\n\s*\n", text.strip()) if p.strip()]
    out = []
    for paragraph in paragraphs:
        escaped = html.escape(" ".join(paragraph.split()), quote=False)
        escaped = _CODE.sub(r"<code>\1</code>", escaped)
        escaped = _BOLD.sub(r"<strong>\1</strong>", escaped)
        escaped = _ITALIC.sub(r"<em>\1</em>", escaped)
        out.append(f"<p>{escaped}</p>")
    return "".join(out)


def export_lesson(lesson: Lesson, fmt: str, out: Path, *, variants: int = DEFAULT_VARIANTS,
                  title: str = "") -> ExportReport:
    """Write `lesson`'s quiz to `out` in `fmt` (qti: a .zip for Canvas; moodle: an .xml file)."""
    if fmt not in FORMATS:
        raise UsageError(f"--format {fmt}: expected one of {', '.join(FORMATS)}")
    out = Path(out)
    if not out.parent.is_dir():
        raise UsageError(f"cannot write {out}: the folder {out.parent} does not exist")
    entries, report = plan(lesson, variants=variants, moodle=fmt == "moodle")
    title = title or lesson.quiz.title
    if fmt == "qti":
        from course.export import qti

        data = qti.write(lesson, entries, title)
    else:
        from course.export import moodle

        data = moodle.write(lesson, entries, title).encode("utf-8")
    temporary = out.with_name(f".{out.name}.tmp")
    try:
        temporary.write_bytes(data)
        temporary.replace(out)
    except OSError as error:
        temporary.unlink(missing_ok=True)
        raise UsageError(f"cannot write {out}: {error.strerror or error}") from None
    report.out, report.fmt = out, fmt
    for entry in entries:
        target = TARGETS[fmt][entry.items[0].kind]
        how = f"{entry.question.kind} -> {target}"
        if entry.grouped:
            how += f", a group of {len(entry.items)} variants"
        report.exported[entry.question.id] = how
    return report


TARGETS = {
    "qti": {"single": "multiple_choice_question", "multiple": "multiple_answers_question",
            "true_false": "true_false_question", "numeric": "numerical_question",
            "matching": "matching_question", "text": "short_answer_question"},
    "moodle": {"single": "multichoice", "multiple": "multichoice", "true_false": "truefalse",
               "numeric": "numerical", "matching": "matching", "text": "shortanswer"},
}
