"""Seeded numeric variants as a student reads them: numbers with thousands separators."""
from __future__ import annotations

import pytest

from course.model import Question, Where
from course.model.quizzes import NumericQuestion
from course.quiz.grading import grade, parse_typed
from course.quiz.variants import format_number, instantiate


def numeric(prompt: str, answer: str, **choices: tuple[float, ...]) -> Question:
    """A numeric question as the loader builds it from quiz.yaml (keys as written there)."""
    data = dict(id="q", kind="numeric", section="s", prompt=prompt, hint="h", explanation="e", points=1.0,
                answer=answer, parameters={name: {"choices": list(values)} for name, values in choices.items()})
    return NumericQuestion.model_validate(data).placed(Where("quiz.yaml", 1, 1))


@pytest.mark.parametrize("value, shown", [
    (0, "0"), (64, "64"), (999, "999"), (1024, "1,024"), (50257, "50,257"), (10_000_000_000, "10,000,000,000"),
    (-2048, "-2,048"), (0.076, "0.076"), (12345.5, "12,345.5"), (2.5, "2.5"), (1e20, "1e+20"),
])
def test_numbers_are_shown_with_thousands_separators(value, shown):
    assert format_number(value) == shown


def test_a_prompt_shows_large_parameter_values_separated_and_the_typed_answer_may_be_too():
    q = numeric("N = {n} parameters. What is 2N?", "2 * n", n=(10_000_000_000.0,))
    instance = instantiate(q, 0)
    assert instance.prompt == "N = 10,000,000,000 parameters. What is 2N?"
    assert "10000000000" not in instance.prompt
    assert grade(instance, parse_typed(instance, "20,000,000,000")).correct


def test_small_values_and_text_braces_are_left_alone():
    # quiz.yaml may not name an unknown parameter (validate says so); a question made in code may
    q = numeric("{d} dimensions", "d", d=(64.0,)).model_copy(update={"prompt": "{d} dimensions, {unknown} stays"})
    assert instantiate(q, 0).prompt == "64 dimensions, {unknown} stays"
