"""Seeded variants: turn a Question into the concrete QuestionInstance a student sees.

Every random choice (parameter values, the order of choices, items and match
targets) comes from `random.Random(f"{seed}:{question.id}")`, so one question's
draw depends only on the seed and its own id: adding, removing or reordering other
questions never changes it, and the same seed always shows the same quiz (which is
what lets `--key --seed N` and `--answers --seed N` agree).
"""
from __future__ import annotations

import random
import re
from dataclasses import dataclass, field
from typing import Mapping

from course.errors import ContentError, Diagnostic
from course.model import Choice, Question, Quiz
from course.numbers import number
from course.quiz.expr import ExpressionError, evaluate

_PLACEHOLDER = re.compile(r"\{([A-Za-z_][A-Za-z0-9_]*)\}")


@dataclass(frozen=True)
class QuestionInstance:
    """One question as shown for one seed.

    choices: single/multiple, shuffled; shown as a), b), ...
    items: ordering, shuffled; shown numbered 1, 2, ...
    lefts / rights: matching; lefts in the author's order shown as a), b), ...,
        rights de-duplicated and shuffled, shown numbered 1, 2, ...
    answer: numeric only, the value computed from `values`.
    """

    question: Question
    seed: int
    prompt: str
    values: Mapping[str, float] = field(default_factory=dict)
    choices: tuple[Choice, ...] = ()
    items: tuple[str, ...] = ()
    lefts: tuple[str, ...] = ()
    rights: tuple[str, ...] = ()
    answer: float | None = None

    @property
    def id(self) -> str:
        return self.question.id

    @property
    def kind(self) -> str:
        return self.question.kind


def format_number(value: float) -> str:
    """A number as a person reads it in a prompt (course.numbers.number: 10,000,000,000, not
    10000000000). Typed answers accept the separators back (course.quiz.typed.parse_number)."""
    return number(value)


def draw_values(question: Question, rng: random.Random) -> dict[str, float]:
    """One value per parameter: from its `choices`, or from [low, high] by `step`."""
    values: dict[str, float] = {}
    for parameter in question.parameters:
        if parameter.choices:
            value = rng.choice(parameter.choices)
        elif parameter.step > 0:
            steps = int((parameter.high - parameter.low) / parameter.step + 1e-9)
            value = round(parameter.low + rng.randint(0, steps) * parameter.step, 10)
        else:
            value = rng.uniform(parameter.low, parameter.high)
        values[parameter.name] = int(value) if float(value).is_integer() else float(value)
    return values


def _fill(prompt: str, values: Mapping[str, float]) -> str:
    """Replace `{name}` for known parameters only; other braces are left as written."""
    return _PLACEHOLDER.sub(
        lambda m: format_number(values[m.group(1)]) if m.group(1) in values else m.group(0), prompt
    )


def _shuffled(rng: random.Random, items: tuple, *, avoid_identity: bool) -> tuple:
    """A seeded permutation; for orderings never the answer itself (that would give it away)."""
    order = list(items)
    rng.shuffle(order)
    if avoid_identity and len(order) > 1 and order == list(items):
        order = order[1:] + order[:1]
    return tuple(order)


def instantiate(question: Question, seed: int) -> QuestionInstance:
    """The concrete question for `seed`; a formula that fails for the drawn values is a ContentError."""
    rng = random.Random(f"{seed}:{question.id}")
    values = draw_values(question, rng)
    kind = question.kind
    answer = None
    if kind == "numeric":
        try:
            answer = evaluate(question.answer_expr, values)
        except ExpressionError as error:
            drawn = ", ".join(f"{k}={format_number(v)}" for k, v in values.items())
            detail = f" with {drawn}" if drawn else ""
            raise ContentError([Diagnostic(question.where, f"answer of '{question.id}'{detail}: {error}")]) from None
    rights: tuple[str, ...] = ()
    if kind == "matching":
        rights = _shuffled(rng, tuple(dict.fromkeys(p.right for p in question.pairs)), avoid_identity=False)
    return QuestionInstance(
        question=question,
        seed=seed,
        prompt=_fill(question.prompt, values),
        values=values,
        choices=_shuffled(rng, question.choices, avoid_identity=False) if kind in ("single", "multiple") else (),
        items=_shuffled(rng, question.items, avoid_identity=True) if kind == "ordering" else (),
        lefts=tuple(p.left for p in question.pairs) if kind == "matching" else (),
        rights=rights,
        answer=answer,
    )


def instantiate_quiz(quiz: Quiz, seed: int) -> list[QuestionInstance]:
    """Every question of the quiz for `seed`, in the quiz's order."""
    return [instantiate(question, seed) for question in quiz.questions]
