"""Where a quiz question gets its score: its right answer, partial credit and feedback.

What a student types at the prompt becomes an answer in course.quiz.typed; this module
sees only the result. Answers have one canonical form per kind, the same in typed input
(after course.quiz.typed.parse_typed), in answers files (course.quiz.answers), in the
answer key and in the progress store (as JSON):

    single      the chosen choice's text              "Self-attention"
    multiple    the chosen choices' texts              ["Q", "K"]
    true_false  a bool                                 true
    numeric     a number                               124439808
    ordering    every item's text, first to last       ["Word2Vec", "Transformer", ...]
    matching    left text -> right text                {"GPT-2 small": "12 layers", ...}
    text        the text as typed                      "layer normalization"

Texts, not letters, because letters depend on the seeded shuffle.

Scoring (a question is worth its `points`; `correct` means full marks):
- single, true_false: all or nothing.
- multiple: max(0, (right picks - wrong picks) / number of correct choices); so
  guessing everything scores 0, and a missing right pick costs as much as a wrong one.
- numeric: all or nothing; right when |given - expected| <= max(absolute,
  relative * |expected|); with no tolerance declared, within 1e-9 relative (float rounding).
- ordering: L / n, where n is the number of items and L the length of the longest
  run of items that are in the correct relative order (the longest increasing
  subsequence of their true positions, not necessarily adjacent). "B C A D" for
  "A B C D" has L = 3 (B C D): 3/4. Full marks only for the exact order.
- matching: the fraction of left items matched to their right.
- text: all or nothing; right when the answer, with case and runs of white space
  ignored, equals an `accept` entry, or fully matches `pattern` (case-insensitive).
A skipped question scores 0.
"""
from __future__ import annotations

import bisect
import math
import re
from dataclasses import dataclass, field
from typing import Mapping, Sequence, Union, cast

from course.model import Quiz
from course.quiz.typed import normalize_text
# Typed input lives in course.quiz.typed; these names stay importable from here so no caller breaks.
from course.quiz.typed import LETTERS, MAX_TEXT, ParseError, input_hint, labels, parse_number, parse_typed  # noqa: F401
from course.numbers import number
from course.quiz.variants import QuestionInstance, format_number, instantiate

Answer = Union[str, bool, float, int, list, dict]

DEFAULT_RELATIVE = 1e-9


# --------------------------------------------------------------------------- results


@dataclass(frozen=True)
class AnswerResult:
    """The outcome of one answer: a value to show, store or serialize, never a string to parse."""

    question_id: str
    kind: str
    section: str
    score: float
    max_score: float
    correct: bool
    feedback: str  # one line in the student's terms: what was right, what was wrong
    given: Answer | None  # canonical form; None when skipped
    expected: Answer  # canonical form of the right answer
    explanation: str = ""  # the question's explanation, shown after answering
    notes: tuple[tuple[str, str], ...] = ()  # (choice text, its explanation) worth reading

    @property
    def skipped(self) -> bool:
        return self.given is None

    def as_json(self) -> dict:
        return {
            "id": self.question_id,
            "kind": self.kind,
            "section": self.section,
            "correct": self.correct,
            "skipped": self.skipped,
            "score": self.score,
            "max_score": self.max_score,
            "feedback": self.feedback,
            "given": self.given,
            "expected": self.expected,
            "explanation": self.explanation,
            "notes": [{"choice": choice, "explanation": text} for choice, text in self.notes],
        }


@dataclass(frozen=True)
class SectionScore:
    section: str
    score: float
    max_score: float


@dataclass(frozen=True)
class QuizResult:
    lesson: str
    seed: int
    pass_fraction: float
    results: tuple[AnswerResult, ...] = field(default_factory=tuple)
    max_score: float = 0.0  # of the whole quiz, also when not every question was asked
    questions: int = 0  # questions in the quiz (0: as many as results)

    @property
    def score(self) -> float:
        return round(sum(r.score for r in self.results), 6)

    @property
    def total(self) -> int:
        """How many questions the quiz has."""
        return self.questions or len(self.results)

    @property
    def answered(self) -> int:
        """Questions answered (not skipped)."""
        return sum(1 for r in self.results if not r.skipped)

    @property
    def skipped(self) -> int:
        return sum(1 for r in self.results if r.skipped)

    @property
    def complete(self) -> bool:
        """Every question was answered or skipped: the score can be held against the pass mark."""
        return len(self.results) >= self.total

    @property
    def asked_max(self) -> float:
        """The points the questions answered or skipped were worth."""
        return round(sum(r.max_score for r in self.results), 6)

    @property
    def passed(self) -> bool:
        return self.score + 1e-9 >= self.pass_fraction * self.max_score

    def __repr__(self) -> str:
        return (f"<quiz {self.lesson}, seed {self.seed}: {self.answered} of {self.total} answered, "
                f"score {fmt_points(self.score)}/{fmt_points(self.max_score)}>")

    def by_section(self) -> list[SectionScore]:
        """Score per lesson section, in the order sections first appear."""
        totals: dict[str, list[float]] = {}
        for r in self.results:
            entry = totals.setdefault(r.section, [0.0, 0.0])
            entry[0] += r.score
            entry[1] += r.max_score
        return [SectionScore(s, round(a, 6), round(b, 6)) for s, (a, b) in totals.items()]

    def sections_to_reread(self) -> list[str]:
        """Sections with a question that did not get full marks."""
        return [s.section for s in self.by_section() if s.score + 1e-9 < s.max_score]


def fmt_points(value: float) -> str:
    """3 rather than 3.0; 2.5 stays 2.5."""
    return format_number(round(value, 2))


# --------------------------------------------------------------------------- the right answer


def expected_answer(instance: QuestionInstance) -> Answer:
    """The canonical right answer (what the answer key lists)."""
    q = instance.question
    kind = q.kind
    if kind == "single":
        return next(c.text for c in q.choices if c.correct)
    if kind == "multiple":
        return [c.text for c in q.choices if c.correct]
    if kind == "true_false":
        return bool(q.answer_bool)
    if kind == "numeric":
        assert instance.answer is not None  # a numeric question's instance has its number
        value = float(instance.answer)
        return int(value) if value.is_integer() and abs(value) < 1e16 else value
    if kind == "ordering":
        return list(q.items)
    if kind == "matching":
        return {p.left: p.right for p in q.pairs}
    if kind == "text":
        return q.accept[0] if q.accept else pattern_example(q.pattern)
    raise ValueError(f"unknown question kind {kind!r}")  # the loader admits only QUESTION_KINDS


def pattern_example(pattern: str) -> str:
    """A shortest-ish text that `pattern` accepts, for a text question given only a pattern.

    Walks the parsed regex (first branch, minimum repeats, first class member); ""
    when the pattern uses something this walk cannot produce (back references,
    look-arounds, negated classes). Authors avoid that by listing an `accept` answer.
    """
    try:
        import re._parser as sre  # Python 3.11+
    except ImportError:  # pragma: no cover - Python 3.10
        import sre_parse as sre
    c = sre  # the parser module re-exports the opcode constants
    categories = {c.CATEGORY_DIGIT: "0", c.CATEGORY_WORD: "a", c.CATEGORY_SPACE: " "}

    def walk(items) -> str:
        out = []
        for op, av in items:
            if op == c.LITERAL:
                out.append(chr(av))
            elif op == c.ANY:
                out.append("a")
            elif op == c.IN:
                first = av[0]
                if first[0] == c.LITERAL:
                    out.append(chr(first[1]))
                elif first[0] == c.RANGE:
                    out.append(chr(first[1][0]))
                elif first[0] == c.CATEGORY and first[1] in categories:
                    out.append(categories[first[1]])
                else:
                    raise ValueError("class")
            elif op in (c.MAX_REPEAT, c.MIN_REPEAT, getattr(c, "POSSESSIVE_REPEAT", None)):
                out.append(walk(av[2]) * av[0])
            elif op == c.SUBPATTERN:
                out.append(walk(av[-1]))
            elif op == getattr(c, "ATOMIC_GROUP", None):
                out.append(walk(av))
            elif op == c.BRANCH:
                out.append(walk(av[1][0]))
            elif op == c.AT:
                continue
            else:
                raise ValueError(str(op))
        return "".join(out)

    try:
        example = " ".join(walk(sre.parse(pattern)).split())
    except (ValueError, TypeError, IndexError, re.error, RecursionError):
        return ""
    return example if example and re.fullmatch(pattern, example, re.IGNORECASE) else ""


# --------------------------------------------------------------------------- grading


def grade(instance: QuestionInstance, given: Answer | None) -> AnswerResult:
    """Score one canonical answer (None = skipped) against the instance's right answer."""
    q = instance.question
    expected = expected_answer(instance)
    if given is None:
        fraction, feedback, notes = 0.0, f"Skipped. The answer: {describe(q.kind, expected, q.unit)}.", ()
    else:
        fraction, feedback, notes = _GRADERS[q.kind](instance, given, expected)
    score = round(q.points * fraction, 6)
    return AnswerResult(
        question_id=q.id,
        kind=q.kind,
        section=q.section,
        score=score,
        max_score=q.points,
        correct=given is not None and fraction >= 1.0,
        feedback=feedback,
        given=given,
        expected=expected,
        explanation=q.explanation,
        notes=tuple(notes),
    )


def grade_quiz(quiz: Quiz, answers: Mapping[str, Answer], seed: int) -> QuizResult:
    """Grade canonical answers by question id; questions without an answer count as skipped."""
    results = tuple(grade(instantiate(q, seed), answers.get(q.id)) for q in quiz.questions)
    return QuizResult(
        lesson=quiz.lesson_id,
        seed=seed,
        pass_fraction=quiz.pass_fraction,
        results=results,
        max_score=sum(q.points for q in quiz.questions),
        questions=len(quiz.questions),
    )


def describe(kind: str, answer: Answer, unit: str = "") -> str:
    """An answer in words, for feedback lines."""
    if kind == "true_false":
        return "true" if answer else "false"
    if kind == "numeric":
        return _show_number(float(cast(float, answer))) + (f" {unit}" if unit else "")
    if kind == "multiple":
        return "; ".join(f"“{a}”" for a in cast(list, answer))
    if kind == "ordering":
        return " → ".join(cast(list, answer))
    if kind == "matching":  # quoted and ↔, not →: matching items may hold arrows themselves
        return "; ".join(f"“{left}” ↔ “{right}”" for left, right in cast(dict, answer).items())
    return f"“{answer}”"


def _show_number(value: float) -> str:
    return number(value, 6, grouped=False)


def _verdict(fraction: float, detail: str, kind: str, expected: Answer, *, unit: str = "", note: str = "") -> str:
    if fraction >= 1.0:
        return "Correct."
    lead = "Partly right" if fraction > 0 else "Not quite"
    return f"{lead}{': ' + detail if detail else ''}. The answer: {describe(kind, expected, unit)}{note}."


def _choice_notes(instance: QuestionInstance, shown: set[str]) -> list[tuple[str, str]]:
    return [(c.text, c.explanation) for c in instance.question.choices if c.text in shown and c.explanation]


def _grade_single(instance, given, expected):
    fraction = 1.0 if given == expected else 0.0
    notes = _choice_notes(instance, {given, expected})
    return fraction, _verdict(fraction, f"you chose “{given}”", "single", expected), notes


def _grade_multiple(instance, given, expected):
    right_set, picked = set(expected), set(given)
    right_picks, wrong_picks = len(picked & right_set), len(picked - right_set)
    fraction = max(0.0, (right_picks - wrong_picks) / len(right_set))
    detail = f"{right_picks} of {len(right_set)} right choices picked"
    if wrong_picks:
        detail += f", {wrong_picks} wrong pick{'s' if wrong_picks > 1 else ''} (each cancels a right one)"
    notes = _choice_notes(instance, picked | right_set)
    return fraction, _verdict(fraction, detail, "multiple", expected), notes


def _grade_true_false(instance, given, expected):
    fraction = 1.0 if bool(given) == expected else 0.0
    return fraction, _verdict(fraction, "", "true_false", expected), []


def _within(given: float, expected: float, absolute: float, relative: float) -> bool:
    if not absolute and not relative:
        relative = DEFAULT_RELATIVE
    return abs(given - expected) <= max(absolute, relative * abs(expected))


def _grade_numeric(instance, given, expected):
    q = instance.question
    tol = q.tolerance
    given, expected = float(given), float(expected)
    if _within(given, expected, tol.absolute, tol.relative):
        return 1.0, "Correct.", []
    detail = f"you gave {_show_number(given)}"
    if _within(-given, expected, tol.absolute, tol.relative):
        detail += " (the sign is wrong)"
    elif given and expected and (given > 0) == (expected > 0):
        power = round(math.log10(abs(given / expected)))
        if power and _within(given / 10.0**power, expected, tol.absolute, max(tol.relative, 1e-6)):
            unit = f" ({q.unit})" if q.unit else ""
            detail += f", off by a factor of 10^{power}: check the unit{unit}"
    return 0.0, _verdict(0.0, detail, "numeric", expected, unit=q.unit, note=_tolerance_note(tol, q.unit)), []


def _tolerance_note(tol, unit: str) -> str:
    parts = []
    if tol.absolute:
        parts.append(f"±{format_number(tol.absolute)}{' ' + unit if unit else ''}")
    if tol.relative:
        parts.append(f"±{format_number(tol.relative * 100)}%")
    return f" (accepted within {' or '.join(parts)})" if parts else ""


def longest_ordered_run(positions: Sequence[int]) -> int:
    """Length of the longest strictly increasing subsequence (patience sorting, O(n log n))."""
    tails: list[int] = []
    for p in positions:
        k = bisect.bisect_left(tails, p)
        if k == len(tails):
            tails.append(p)
        else:
            tails[k] = p
    return len(tails)


def _grade_ordering(instance, given, expected):
    true_position = {item: i for i, item in enumerate(expected)}
    run = longest_ordered_run([true_position[item] for item in given])
    fraction = run / len(expected)  # 1 exactly when the whole order is right
    detail = f"the longest run in the right relative order has {run} of {len(expected)} items"
    return fraction, _verdict(fraction, detail, "ordering", expected), []


def _grade_matching(instance, given, expected):
    right = sum(1 for left, target in expected.items() if given.get(left) == target)
    fraction = right / len(expected)
    wrong = [f"“{left}” ↔ “{given[left]}”" for left in expected if left in given and given[left] != expected[left]]
    detail = f"{right} of {len(expected)} pairs right" + (f"; wrong: {'; '.join(wrong)}" if wrong else "")
    return fraction, _verdict(fraction, detail, "matching", expected), []



def _grade_text(instance, given, expected):
    q = instance.question
    typed = " ".join(str(given).split())
    accepted = {normalize_text(a) for a in q.accept}
    ok = normalize_text(typed) in accepted or bool(q.pattern and re.fullmatch(q.pattern, typed, re.IGNORECASE))
    if ok:
        return 1.0, "Correct.", []
    if expected:
        return 0.0, _verdict(0.0, f"you wrote “{typed}”", "text", expected), []
    return 0.0, f"Not quite: you wrote “{typed}”.", []


_GRADERS = {
    "single": _grade_single,
    "multiple": _grade_multiple,
    "true_false": _grade_true_false,
    "numeric": _grade_numeric,
    "ordering": _grade_ordering,
    "matching": _grade_matching,
    "text": _grade_text,
}
