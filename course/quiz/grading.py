"""Where a quiz question gets its score, and how what a student types becomes an answer.

Answers have one canonical form per kind, the same in typed input (after
`parse_typed`), in answers files (course.quiz.answers), in the answer key and in
the progress store (as JSON):

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
from typing import Mapping, Sequence, Union

from course.model import Quiz
from course.quiz.variants import QuestionInstance, format_number, instantiate

Answer = Union[str, bool, float, int, list, dict]

LETTERS = "abcdefghijklmnopqrstuvwxyz"
MAX_TEXT = 1000  # characters of a typed or filed answer
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

    @property
    def score(self) -> float:
        return round(sum(r.score for r in self.results), 6)

    @property
    def passed(self) -> bool:
        return self.score + 1e-9 >= self.pass_fraction * self.max_score

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
        import sre_parse as sre  # type: ignore[no-redef]
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
    )


def describe(kind: str, answer: Answer, unit: str = "") -> str:
    """An answer in words, for feedback lines."""
    if kind == "true_false":
        return "true" if answer else "false"
    if kind == "numeric":
        return _show_number(float(answer)) + (f" {unit}" if unit else "")
    if kind == "multiple":
        return "; ".join(f"“{a}”" for a in answer)
    if kind == "ordering":
        return " → ".join(answer)
    if kind == "matching":
        return "; ".join(f"{left} → {right}" for left, right in answer.items())
    return f"“{answer}”"


def _show_number(value: float) -> str:
    if value.is_integer() and abs(value) < 1e16:
        return f"{int(value):,}"
    return f"{value:.6g}"


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
    wrong = [f"{left} → {given[left]}" for left in expected if left in given and given[left] != expected[left]]
    detail = f"{right} of {len(expected)} pairs right" + (f"; wrong: {'; '.join(wrong)}" if wrong else "")
    return fraction, _verdict(fraction, detail, "matching", expected), []


def normalize_text(text: str) -> str:
    """Case and runs of white space do not matter in text answers."""
    return " ".join(text.split()).casefold()


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


# --------------------------------------------------------------------------- typed input


@dataclass(frozen=True)
class ParseError:
    """Typed input that is not an answer; `reason` is shown and the question asked again."""

    reason: str


def labels(count: int) -> str:
    """The letters a), b), ... for `count` options."""
    return LETTERS[:count]


def _letter_range(count: int) -> str:
    return f"a to {LETTERS[count - 1]}" if count > 1 else "a"


def input_hint(instance: QuestionInstance) -> str:
    """How to type an answer to this question, with an example sized to it."""
    kind = instance.kind
    if kind == "single":
        return f"type one letter ({_letter_range(len(instance.choices))}), like `b`"
    if kind == "multiple":
        return "type every letter that applies, like `b d`"
    if kind == "true_false":
        return "type t (true) or f (false)"
    if kind == "numeric":
        unit = f" (in {instance.question.unit})" if instance.question.unit else ""
        return f"type a number{unit}, like `42`, `1.75e11` or `175 000 000`"
    if kind == "ordering":
        n = len(instance.items)
        example = " ".join(str(k) for k in list(range(2, n + 1)) + [1])
        return f"order: the numbers from first to last, like `{example}`"
    if kind == "matching":
        n = len(instance.lefts)
        example = " ".join(f"{LETTERS[i]}{(i + 1) % len(instance.rights) + 1}" for i in range(min(n, 3)))
        return f"match: a letter and a number per pair, like `{example}`, or the {n} numbers in order"
    return "type your answer"


def parse_typed(instance: QuestionInstance, text: str) -> Answer | ParseError:
    """What the student typed, as a canonical answer, or why it cannot be one."""
    text = text.strip()
    if not text:
        return ParseError("type an answer (or s to skip, ? for a hint)")
    if len(text) > MAX_TEXT:
        return ParseError(f"that is longer than {MAX_TEXT} characters")
    return _PARSERS[instance.kind](instance, text)


def _parse_single(instance: QuestionInstance, text: str) -> Answer | ParseError:
    choices = instance.choices
    token = text.lower().strip("()[]. ")
    if len(token) == 1 and token in labels(len(choices)):
        return choices[LETTERS.index(token)].text
    by_text = [c.text for c in choices if normalize_text(c.text) == normalize_text(text)]
    if by_text:
        return by_text[0]
    letters = _letters(instance, text)
    if isinstance(letters, list) and len(letters) > 1:
        return ParseError("this question has one answer: type one letter")
    return ParseError(f"type one letter from {_letter_range(len(choices))}")


def _letters(instance: QuestionInstance, text: str) -> list[int] | ParseError:
    """Letters separated by spaces, commas or 'and' (or run together, like `bd`) as indexes."""
    valid = labels(len(instance.choices))
    picked: list[int] = []
    for token in re.split(r"[\s,;/+&]+|\band\b", text.lower()):
        token = token.strip("()[].")
        if not token:
            continue
        if not token.isalpha() or any(letter not in valid for letter in token):
            return ParseError(f"'{token}' is not a choice: use letters from {_letter_range(len(valid))}")
        picked.extend(LETTERS.index(letter) for letter in token if LETTERS.index(letter) not in picked)
    if not picked:
        return ParseError("type at least one letter (or s to skip)")
    return picked


def _parse_multiple(instance: QuestionInstance, text: str) -> Answer | ParseError:
    picked = _letters(instance, text)
    if isinstance(picked, ParseError):
        return picked
    return [instance.choices[i].text for i in sorted(picked)]


_TRUE = {"t", "true", "y", "yes"}
_FALSE = {"f", "false", "n", "no"}


def _parse_true_false(instance: QuestionInstance, text: str) -> Answer | ParseError:
    word = text.lower().strip(".!")
    if word in _TRUE:
        return True
    if word in _FALSE:
        return False
    return ParseError("type t (true) or f (false)")


_GROUPED = re.compile(r"[-+]?\d{1,3}(?:[ ,_'\u00a0\u2009\u202f]\d{3})+(?:\.\d+)?(?:e[-+]?\d+)?")
_TIMES_TEN = re.compile(r"(.+?)\s*(?:x|×|\*|·)\s*10\s*(?:\^|\*\*)\s*([-+]?\d+)")
_SCALE = {"k": 1e3, "thousand": 1e3, "m": 1e6, "million": 1e6, "b": 1e9, "bn": 1e9, "billion": 1e9, "t": 1e12, "trillion": 1e12}
_SCALE_WORDS = {"thousand", "million", "billion", "trillion"}
_SCALED = re.compile(r"(.+?)\s*(k|thousand|m|million|bn|b|billion|t|trillion)", re.IGNORECASE)


def parse_number(text: str, unit: str = "") -> float | ParseError:
    """A number as people type it: 175e9, 1.75e11, 175 000 000 000, 175,000,000,000,
    1.75 x 10^11, 175B (k, M, B, T and their words), optionally followed by the unit.

    When the unit itself is scaled ("million parameters"), a typed scale converts to
    it: "85M", "85 million" and "0.085B" all mean 85 (million parameters).
    """
    s = text.strip().lower()
    words = unit.lower().split()
    unit_scale = _SCALE.get(words[0], 1.0) if len(words) > 0 and words[0] in _SCALE_WORDS else 1.0
    for tail in (" ".join(words), " ".join(words[1:]) if unit_scale != 1.0 else ""):
        if tail and s.endswith(tail) and len(s) > len(tail):
            s = s[: -len(tail)].strip()
            break
    scale = 1.0
    times_ten, scaled = _TIMES_TEN.fullmatch(s), _SCALED.fullmatch(s)
    if times_ten:
        exponent = int(times_ten.group(2))
        s, scale = times_ten.group(1), (10.0**exponent if abs(exponent) < 300 else math.inf)
    elif scaled:
        s, scale = scaled.group(1), _SCALE[scaled.group(2)] / unit_scale
    if _GROUPED.fullmatch(s):
        s = re.sub(r"[ ,_'\u00a0\u2009\u202f]", "", s)
    elif re.fullmatch(r"[-+]?\d+,\d+", s):
        return ParseError(f"'{text.strip()}': use a dot for decimals, like {s.replace(',', '.')}")
    try:
        value = float(s) * scale
    except ValueError:
        return ParseError(f"'{text.strip()}' is not a number: type digits, like `1.75e11` or `175 000 000 000`")
    if not math.isfinite(value):
        return ParseError(f"'{text.strip()}' is not a finite number")
    return value


def _parse_numeric(instance: QuestionInstance, text: str) -> Answer | ParseError:
    value = parse_number(text, instance.question.unit)
    if isinstance(value, ParseError):
        return value
    return int(value) if value.is_integer() and abs(value) < 1e16 else value


def _numbers(text: str, count: int, limit: int, what: str) -> list[int] | ParseError:
    """`count` numbers from 1 to `limit`, space/comma separated or (when all < 10) run together.

    `what` names one numbered thing ("item", "option") in the reasons.
    """
    tokens = [t for t in re.split(r"[\s,;]+", text.strip()) if t]
    if len(tokens) == 1 and tokens[0].isdigit() and len(tokens[0]) == count and limit < 10:
        tokens = list(tokens[0])
    numbers = []
    for token in tokens:
        if not token.isdigit():
            return ParseError(f"'{token}' is not a number: type the numbers shown next to the {what}s")
        number = int(token)
        if not 1 <= number <= limit:
            return ParseError(f"there is no {what} {number}: use the numbers 1 to {limit}")
        numbers.append(number)
    if len(numbers) != count:
        return ParseError(f"type {count} numbers; you typed {len(numbers)}")
    return numbers


def _parse_ordering(instance: QuestionInstance, text: str) -> Answer | ParseError:
    n = len(instance.items)
    numbers = _numbers(text, n, n, "item")
    if isinstance(numbers, ParseError):
        return numbers
    seen: set[int] = set()
    for number in numbers:
        if number in seen:
            missing = ", ".join(str(k) for k in range(1, n + 1) if k not in numbers)
            return ParseError(f"{number} appears twice (missing: {missing}); use each number once")
        seen.add(number)
    return [instance.items[k - 1] for k in numbers]


_PAIR = re.compile(r"([a-z])\s*[-:=>)]*\s*(\d+)")


def _parse_matching(instance: QuestionInstance, text: str) -> Answer | ParseError:
    lefts, rights = instance.lefts, instance.rights
    lowered = text.lower()
    if not re.search(r"[a-z]", lowered):
        numbers = _numbers(lowered, len(lefts), len(rights), "option")
        if isinstance(numbers, ParseError):
            return numbers
        return {left: rights[k - 1] for left, k in zip(lefts, numbers)}
    if not re.fullmatch(r"(?:\s*[a-z]\s*[-:=>)]*\s*\d+\s*[,;]?)+\s*", lowered):
        return ParseError(f"type pairs like `a2 b1`: a letter (a to {LETTERS[len(lefts) - 1]}) then a number (1 to {len(rights)})")
    answer: dict[str, str] = {}
    for letter, digits in _PAIR.findall(lowered):
        index, number = LETTERS.index(letter), int(digits)
        if index >= len(lefts):
            return ParseError(f"there is no item {letter}: use the letters {_letter_range(len(lefts))}")
        if not 1 <= number <= len(rights):
            return ParseError(f"there is no option {number}: use the numbers 1 to {len(rights)}")
        if lefts[index] in answer:
            return ParseError(f"{letter} is matched twice: match each letter once")
        answer[lefts[index]] = rights[number - 1]
    missing = [LETTERS[i] for i, left in enumerate(lefts) if left not in answer]
    if missing:
        return ParseError(f"match every item (missing: {', '.join(missing)})")
    return {left: answer[left] for left in lefts}


def _parse_text(instance: QuestionInstance, text: str) -> Answer | ParseError:
    return text


_PARSERS = {
    "single": _parse_single,
    "multiple": _parse_multiple,
    "true_false": _parse_true_false,
    "numeric": _parse_numeric,
    "ordering": _parse_ordering,
    "matching": _parse_matching,
    "text": _parse_text,
}
