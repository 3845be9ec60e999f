"""The terminal's input language, per question kind: what a student may type at the quiz
prompt, and the canonical answer (described and scored in course.quiz.grading) it becomes,
or the reason it cannot be one, shown before the question is asked again.

A module of its own because it changes for its own reasons: another way to write a number
or a clearer reason for a typo should not touch a score, and scoring sees only the
canonical answer, never the keystrokes. Per kind (letters and words in any case):

    single      one letter, like `b` or `(b)`, or the choice's whole text
    multiple    letters, like `b d`, `b, d`, `bd` or `b and d`
    true_false  t, true, y, yes / f, false, n, no
    numeric     `42`, `1.75e11`, `175 000 000`, `1.75 x 10^11`, `175B`, the unit optional
    ordering    the items' numbers from first to last, like `2 3 1` (`231` under 10 items)
    matching    letter-number pairs, like `a2 b1 c3`, or the options' numbers in order
    text        anything, kept as typed

Empty input and input over MAX_TEXT characters are never answers. The session's own
commands (s, ?, q) are read by course.quiz.session first. Answers files have a YAML
format of their own (course.quiz.answers) and borrow only `parse_number` from here
(with its `ParseError`).
"""
from __future__ import annotations

import math
import re
from dataclasses import dataclass
from typing import TYPE_CHECKING

from course.quiz.variants import QuestionInstance

if TYPE_CHECKING:  # grading imports this module at run time; only the type alias is needed here
    from course.quiz.grading import Answer

LETTERS = "abcdefghijklmnopqrstuvwxyz"
MAX_TEXT = 1000  # characters of a typed or filed answer


@dataclass(frozen=True)
class ParseError:
    """Typed input that is not an answer; `reason` is shown and the question asked again."""

    reason: str


def normalize_text(text: str) -> str:
    """Case and runs of white space do not matter in text answers: not in a choice typed
    out in full here, not when course.quiz.grading scores a text question."""
    return " ".join(text.split()).casefold()


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
