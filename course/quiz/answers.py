"""Answers files: YAML mapping question id -> answer, read for `course quiz --answers`
and written by `course quiz --key`.

The per-kind format is the canonical answer of course.quiz.grading (choice
*texts*, not letters, so a file does not depend on the seed's shuffle; only
numeric answers of seeded questions do). Every problem is reported as
FILE:LINE:COL with the reason, all at once, as a ContentError (exit 2).
A question left out, or given as `~`, counts as skipped. An answer must be whole:
an ordering lists every item, a matching maps every left item.

The file records the seed its numbers belong to as `_seed: N` (question ids never
start with `_`), as `course quiz --key` writes it. Without one, a file that answers a
numeric question whose numbers depend on the seed is refused (UsageError, exit 2):
graded against the wrong seed, a right answer would be marked wrong.
"""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Mapping

import yaml

from course.errors import ContentError, Diagnostic, UsageError
from course.model import Question, Quiz
from course.quiz.grading import Answer, QuizResult, expected_answer, grade_quiz
from course.quiz.typed import MAX_TEXT, ParseError, parse_number
from course.quiz.variants import instantiate
from course.yamlsafe import YNode, parse_file


def _unknown_id_message(question_id: str, quiz: Quiz) -> str:
    """Name the closest ids; the full list only for a short quiz (`course quiz --key` has them all)."""
    import difflib

    ids = [q.id for q in quiz.questions]
    close = difflib.get_close_matches(question_id, ids, n=3, cutoff=0.75)
    if close:
        hint = "did you mean " + " or ".join(f"'{c}'" for c in close) + "?"
    elif len(ids) <= 10:
        hint = f"quiz {quiz.lesson_id} has: {', '.join(ids)}"
    else:
        hint = f"`course quiz {quiz.lesson_id} --key` lists all {len(ids)} ids"
    return f"unknown question id '{question_id}' in quiz {quiz.lesson_id}; {hint}"


class _Problem(Exception):
    """One bad answer; becomes a Diagnostic at `where`."""

    def __init__(self, node: YNode, message: str):
        super().__init__(message)
        self.where, self.message = node.where, message


SEED_KEY = "_seed"


@dataclass(frozen=True)
class AnswersFile:
    """What an answers file holds: canonical answers by question id, and the seed it records (or None)."""

    answers: dict[str, Answer]
    seed: int | None


def load_answers(path: Path, quiz: Quiz, display_name: str | None = None) -> dict[str, Answer]:
    """Canonical answers by question id, or a ContentError listing every problem."""
    return read_answers_file(path, quiz, display_name).answers


def read_answers_file(path: Path, quiz: Quiz, display_name: str | None = None) -> AnswersFile:
    """The answers and the recorded seed, or a ContentError listing every problem."""
    name = display_name or str(path)
    root = parse_file(Path(path), name)
    if root.kind != "map":
        raise ContentError([Diagnostic(root.where, "an answers file maps question ids to answers, like `q1: true`")])
    answers: dict[str, Answer] = {}
    problems: list[Diagnostic] = []
    seed: int | None = None
    for question_id, node in root.value.items():
        if question_id == SEED_KEY:
            if node.kind == "scalar" and isinstance(node.value, int) and not isinstance(node.value, bool) \
                    and node.value >= 0:
                seed = node.value
            else:
                problems.append(Diagnostic(node.where, f"{SEED_KEY}: the seed is a whole number >= 0, like `{SEED_KEY}: 7`"))
            continue
        question = quiz.question(question_id)
        if question is None:
            where = (root.keys or {}).get(question_id, node.where)
            problems.append(Diagnostic(where, _unknown_id_message(question_id, quiz)))
            continue
        if node.kind == "scalar" and node.value is None:
            continue  # `q1: ~` or `q1:` -- skipped
        try:
            answers[question_id] = _READERS[question.kind](question, node)
        except _Problem as problem:
            problems.append(Diagnostic(problem.where, f"{question_id} ({question.kind}): {problem.message}"))
    if problems:
        raise ContentError(problems)
    return AnswersFile(answers, seed)


def seeded_questions(quiz: Quiz, ids) -> list[str]:
    """The ids among `ids` of numeric questions whose right answer depends on the seed."""
    wanted = set(ids)
    return [q.id for q in quiz.questions if q.id in wanted and q.kind == "numeric" and q.parameters]


def _text(node: YNode, what: str = "a text") -> str:
    """A scalar as written: `768` and `'768'` both give "768"."""
    if node.kind != "scalar" or node.value is None:
        raise _Problem(node, f"expected {what}, got a {_shape(node)}")
    text = node.value if isinstance(node.value, str) else node.raw
    if len(text) > MAX_TEXT:
        raise _Problem(node, f"longer than {MAX_TEXT} characters")
    return text.strip()


def _shape(node: YNode) -> str:
    return {"map": "mapping", "seq": "list"}.get(node.kind, "value")


def _one_of(node: YNode, known: tuple[str, ...], what: str) -> str:
    text = _text(node)
    if text in known:
        return text
    folded = {" ".join(k.split()).casefold(): k for k in known}
    match = folded.get(" ".join(text.split()).casefold())
    if match is None:
        listed = "; ".join(f"'{k}'" for k in known)
        raise _Problem(node, f"'{text}' is not one of the {what}: {listed}")
    return match


def _choice_texts(question: Question) -> tuple[str, ...]:
    return tuple(c.text for c in question.choices)


def _read_single(question: Question, node: YNode) -> Answer:
    if node.kind == "seq":
        raise _Problem(node, "expected one choice's text, got a list (only multiple-select questions take lists)")
    return _one_of(node, _choice_texts(question), "choices")


def _read_multiple(question: Question, node: YNode) -> Answer:
    items = node.value if node.kind == "seq" else [node]
    picked: list[str] = []
    for item in items:
        text = _one_of(item, _choice_texts(question), "choices")
        if text not in picked:
            picked.append(text)
    return picked


def _read_true_false(question: Question, node: YNode) -> Answer:
    if node.kind == "scalar" and isinstance(node.value, bool):
        return node.value
    raise _Problem(node, f"expected true or false, got '{node.raw or _shape(node)}'")


def _read_numeric(question: Question, node: YNode) -> Answer:
    if node.kind == "scalar" and isinstance(node.value, (int, float)) and not isinstance(node.value, bool):
        return node.value
    value = parse_number(_text(node, "a number"), question.unit)
    if isinstance(value, ParseError):
        raise _Problem(node, value.reason)
    return int(value) if value.is_integer() and abs(value) < 1e16 else value


def _read_ordering(question: Question, node: YNode) -> Answer:
    if node.kind != "seq":
        raise _Problem(node, f"expected the list of all {len(question.items)} items in order, got a {_shape(node)}")
    order: list[str] = []
    for item in node.value:
        text = _one_of(item, question.items, "items")
        if text in order:
            raise _Problem(item, f"'{text}' is listed twice")
        order.append(text)
    missing = [item for item in question.items if item not in order]
    if missing:
        raise _Problem(node, "every item must be placed; missing: " + "; ".join(f"'{m}'" for m in missing))
    return order


def _read_matching(question: Question, node: YNode) -> Answer:
    if node.kind != "map":
        raise _Problem(node, "expected a mapping of left item -> right item, like `GPT-2 small: 12`")
    lefts = tuple(p.left for p in question.pairs)
    rights = tuple(dict.fromkeys(p.right for p in question.pairs))
    given: dict[str, str] = {}
    for key, value in node.value.items():
        key_node = YNode("scalar", key, (node.keys or {}).get(key, value.where), "str", key, True)
        left = _one_of(key_node, lefts, "left items")
        if left in given:
            raise _Problem(key_node, f"'{left}' is matched twice")
        given[left] = _one_of(value, rights, "right items")
    missing = [left for left in lefts if left not in given]
    if missing:
        raise _Problem(node, "every item must be matched; missing: " + "; ".join(f"'{m}'" for m in missing))
    return {left: given[left] for left in lefts}


def _read_text(question: Question, node: YNode) -> Answer:
    return _text(node)


_READERS = {
    "single": _read_single,
    "multiple": _read_multiple,
    "true_false": _read_true_false,
    "numeric": _read_numeric,
    "ordering": _read_ordering,
    "matching": _read_matching,
    "text": _read_text,
}


def grade_file(path: Path, quiz: Quiz, *, seed: int | None = None, display_name: str | None = None) -> QuizResult:
    """Grade an answers file as `course quiz --answers` does.

    The seed is the one the file records (`_seed: N`), else `seed`. ContentError for a
    malformed file; UsageError when the two disagree, or when neither is there and the
    file answers a numeric question whose numbers depend on the seed.
    """
    name = display_name or str(path)
    filed = read_answers_file(path, quiz, display_name)
    if filed.seed is not None and seed is not None and filed.seed != seed:
        raise UsageError(f"{name} records {SEED_KEY}: {filed.seed}, but --seed {seed} was given: "
                         f"drop --seed, or correct the file")
    chosen = filed.seed if filed.seed is not None else seed
    if chosen is None:
        seeded = seeded_questions(quiz, filed.answers)
        if seeded:
            shown = ", ".join(seeded[:4]) + (f" and {len(seeded) - 4} more" if len(seeded) > 4 else "")
            raise UsageError(
                f"{name} answers numeric questions whose numbers depend on the seed ({shown}), but records no "
                f"seed: add `{SEED_KEY}: N` to the file (N: the seed `course quiz` showed with these questions), "
                f"or pass --seed N"
            )
        chosen = 0
    return grade_quiz(quiz, filed.answers, chosen)


def answer_key(quiz: Quiz, seed: int) -> dict[str, Answer]:
    """The right answer of every question for `seed`, in answers-file form."""
    return {q.id: expected_answer(instantiate(q, seed)) for q in quiz.questions}


def dump_answers(answers: Mapping[str, Answer], header: str = "", seed: int | None = None) -> str:
    """YAML text that `read_answers_file` reads back to the same answers (and seed), in the given order."""
    lines = [f"# {line}" if line else "#" for line in header.splitlines()]
    if seed is not None:
        lines.append(f"{SEED_KEY}: {int(seed)}")
    body = yaml.safe_dump(dict(answers), sort_keys=False, allow_unicode=True, default_flow_style=False, width=100)
    return "\n".join(lines + [body]) if lines else body
