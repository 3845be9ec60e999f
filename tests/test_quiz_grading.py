"""Scoring every question kind (right, wrong, partly right, unparsable input) and seeded variants."""
from __future__ import annotations

import pytest

from course.errors import ContentError
from typing import get_args

from course.model import QUESTION_KINDS, Question, Quiz, Where
from course.quiz.grading import (
    LETTERS,
    ParseError,
    grade,
    grade_quiz,
    input_hint,
    longest_ordered_run,
    parse_number,
    parse_typed,
    pattern_example,
)
from course.quiz.variants import instantiate, instantiate_quiz

KINDS = {get_args(kind.model_fields["kind"].annotation)[0]: kind for kind in QUESTION_KINDS}


def question(kind: str, **fields) -> Question:
    """A question of `kind` as the loader builds it from quiz.yaml (keys as written there)."""
    base = dict(id=f"{kind}-q", kind=kind, section="basics", prompt=f"A {kind} question", hint="think",
                explanation="because", points=1.0)
    base.update(fields)
    return KINDS[kind].model_validate(base).placed(Where("quiz.yaml", 3, 5))


def choice(text: str, correct: bool, explanation: str = "") -> dict:
    return {"text": text, "correct": correct, "explanation": explanation}


SINGLE = question("single", choices=(
    choice("Transformer", True, "It is built from attention."),
    choice("LSTM", False, "That is recurrent."),
    choice("CNN", False),
    choice("768", False, "A number as text."),
))
MULTIPLE = question("multiple", choices=(
    choice("Query", True),
    choice("Key", True),
    choice("Value", True),
    choice("Pooler", False, "Only BERT has one."),
    choice("Dropout mask", False),
))
TRUE_FALSE = question("true_false", answer=True)
NUMERIC = question(
    "numeric", prompt="d_model={d_model}, n_heads={n_heads}: head size?", answer="d_model / n_heads",
    tolerance={"absolute": 0.5}, unit="dimensions",
    parameters={"d_model": {"choices": [512.0, 768.0, 1024.0]}, "n_heads": {"choices": [8.0, 16.0]}},
)
RELATIVE = question("numeric", id="gpt3", answer="175e9", tolerance={"relative": 0.05}, unit="parameters")
SCALED_UNIT = question("numeric", id="millions", answer="85", tolerance={"relative": 0.01}, unit="million parameters")
ORDERING = question("ordering", items=("Word2Vec", "Seq2seq", "Transformer", "BERT"))
MATCHING = question("matching", pairs=(
    {"left": "BERT-base", "right": "12 layers"},
    {"left": "BERT-large", "right": "24 layers"},
    {"left": "GPT-3", "right": "96 layers"},
))
TEXT = question("text", accept=("layer normalization", "LayerNorm"), pattern=r"layer[ -]?norm(ali[sz]ation)?")
PATTERN_ONLY = question("text", id="pattern-only", accept=(), pattern=r"(?:long short[- ]term memory|lstm)s?")


def quiz_of(*questions: Question, lesson: str = "lesson-x", pass_fraction: float = 0.7) -> Quiz:
    return Quiz(format_version=1, lesson=lesson, title="Quiz", pass_fraction=pass_fraction,
                questions=questions).placed(Where("quiz.yaml"))


def typed(q: Question, text: str, seed: int = 0):
    """Grade what a student types, as the interactive quiz does."""
    instance = instantiate(q, seed)
    answer = parse_typed(instance, text)
    assert not isinstance(answer, ParseError), answer
    return grade(instance, answer)


def letter_of(q: Question, text: str, seed: int = 0) -> str:
    instance = instantiate(q, seed)
    return LETTERS[[c.text for c in instance.choices].index(text)]


def number_of(items: tuple[str, ...], text: str) -> str:
    return str(items.index(text) + 1)


def unparsable(q: Question, text: str, seed: int = 0) -> str:
    result = parse_typed(instantiate(q, seed), text)
    assert isinstance(result, ParseError), result
    return result.reason


# --------------------------------------------------------------------------- single


def test_single_right_letter_scores_full_marks_with_explanation():
    result = typed(SINGLE, letter_of(SINGLE, "Transformer"))
    assert (result.score, result.max_score, result.correct) == (1.0, 1.0, True)
    assert result.feedback == "Correct."
    assert ("Transformer", "It is built from attention.") in result.notes
    assert result.explanation == "because"


def test_single_wrong_letter_scores_zero_and_explains_the_pick():
    result = typed(SINGLE, letter_of(SINGLE, "LSTM").upper() + ")")
    assert (result.score, result.correct) == (0.0, False)
    assert "you chose “LSTM”" in result.feedback and "“Transformer”" in result.feedback
    assert ("LSTM", "That is recurrent.") in result.notes


def test_single_has_no_partial_credit_for_two_letters():
    assert "one answer" in unparsable(SINGLE, "a b")


def test_single_accepts_the_choice_text_itself():
    assert typed(SINGLE, "transformer").correct


@pytest.mark.parametrize("text", ["z", "1", "ab?", "the first one"])
def test_single_unparsable_input_gives_a_reason(text):
    assert "letter" in unparsable(SINGLE, text)


# --------------------------------------------------------------------------- multiple


def multiple_letters(*texts: str) -> str:
    return " ".join(letter_of(MULTIPLE, t) for t in texts)


def test_multiple_all_right_picks_score_full_marks():
    result = typed(MULTIPLE, multiple_letters("Value", "Query", "Key"))
    assert result.correct and result.score == 1.0


@pytest.mark.parametrize(
    "picks, expected",
    [
        (("Query", "Key"), 2 / 3),  # two of three right, none wrong
        (("Query", "Key", "Pooler"), 1 / 3),  # a wrong pick cancels a right one
        (("Query", "Key", "Value", "Pooler"), 2 / 3),
        (("Query", "Pooler", "Dropout mask"), 0.0),  # never below zero
        (("Query", "Key", "Value", "Pooler", "Dropout mask"), 1 / 3),  # ticking everything does not pay
        (("Pooler",), 0.0),
    ],
)
def test_multiple_partial_credit_is_right_minus_wrong_over_number_right(picks, expected):
    result = typed(MULTIPLE, multiple_letters(*picks))
    assert result.score == pytest.approx(expected)
    assert not result.correct
    assert ("Partly right" if expected else "Not quite") in result.feedback


def test_multiple_accepts_commas_runs_and_and():
    a, b = letter_of(MULTIPLE, "Query"), letter_of(MULTIPLE, "Key")
    for text in (f"{a},{b}", f"{a}{b}", f"{a} and {b}", f"{a.upper()}, {b.upper()}", f"{a} {b} {a}"):
        assert typed(MULTIPLE, text).given == typed(MULTIPLE, f"{a} {b}").given


@pytest.mark.parametrize("text, reason", [("a x", "'x' is not a choice"), ("1 2", "not a choice"), (",", "at least one letter")])
def test_multiple_unparsable_input_gives_a_reason(text, reason):
    assert reason in unparsable(MULTIPLE, text)


# --------------------------------------------------------------------------- true/false


@pytest.mark.parametrize("text", ["t", "T", "true", "yes", "y"])
def test_true_false_right(text):
    assert typed(TRUE_FALSE, text).correct


@pytest.mark.parametrize("text", ["f", "false", "No", "n"])
def test_true_false_wrong_says_what_is_true(text):
    result = typed(TRUE_FALSE, text)
    assert not result.correct and result.score == 0.0 and "The answer: true" in result.feedback


@pytest.mark.parametrize("text", ["maybe", "1", "tf"])
def test_true_false_unparsable(text):
    assert "t (true) or f (false)" in unparsable(TRUE_FALSE, text)


# --------------------------------------------------------------------------- numeric


def numeric_instance(seed: int = 0):
    return instantiate(NUMERIC, seed)


def test_numeric_right_within_absolute_tolerance_for_the_drawn_values():
    instance = numeric_instance(3)
    expected = instance.values["d_model"] / instance.values["n_heads"]
    assert instance.answer == expected
    assert f"d_model={instance.values['d_model']}" in instance.prompt
    for text in (str(expected), str(expected + 0.4), f"{expected:g} dimensions"):
        assert grade(instance, parse_typed(instance, text)).correct


def test_numeric_outside_tolerance_gets_nothing_and_the_answer():
    instance = numeric_instance(3)
    result = grade(instance, instance.answer + 0.6)
    assert result.score == 0.0 and not result.correct
    assert "accepted within ±0.5 dimensions" in result.feedback


@pytest.mark.parametrize("text", ["175e9", "1.75e11", "175 000 000 000", "175,000,000,000", "175B", "1.75 x 10^11", "170e9", "183.7e9"])
def test_numeric_relative_tolerance_and_the_ways_people_type_numbers(text):
    assert typed(RELATIVE, text).correct


def test_numeric_near_miss_is_wrong_and_a_power_of_ten_slip_is_named():
    assert not typed(RELATIVE, "160e9").correct
    result = typed(RELATIVE, "175e6")
    assert not result.correct and "factor of 10^-3" in result.feedback and "check the unit (parameters)" in result.feedback
    assert "the sign is wrong" in typed(RELATIVE, "-175e9").feedback


@pytest.mark.parametrize("text", ["85", "85M", "85 million", "0.085B", "85 million parameters"])
def test_numeric_scaled_units_take_typed_scales(text):
    assert typed(SCALED_UNIT, text).correct


@pytest.mark.parametrize(
    "text, reason",
    [("lots", "is not a number"), ("1,5", "use a dot for decimals"), ("nan", "not a finite number"), ("1e999", "not a finite number"), ("12 34", "is not a number")],
)
def test_numeric_unparsable(text, reason):
    assert reason in unparsable(RELATIVE, text)


def test_numeric_without_tolerance_is_exact_up_to_float_rounding():
    exact = question("numeric", answer="0.1 + 0.2")
    instance = instantiate(exact, 0)
    assert grade(instance, 0.3).correct
    assert not grade(instance, 0.3001).correct


def test_parse_number_keeps_integers_exact():
    assert parse_number("124 439 808") == 124439808


# --------------------------------------------------------------------------- ordering


def test_ordering_exact_order_scores_full_marks():
    instance = instantiate(ORDERING, 0)
    text = " ".join(number_of(instance.items, item) for item in ORDERING.items)
    assert grade(instance, parse_typed(instance, text)).correct


@pytest.mark.parametrize(
    "order, run",
    [
        (("Seq2seq", "Transformer", "Word2Vec", "BERT"), 3),  # Seq2seq Transformer BERT
        (("Word2Vec", "Seq2seq", "BERT", "Transformer"), 3),
        (("BERT", "Transformer", "Seq2seq", "Word2Vec"), 1),  # reversed: any single item is "in order"
        (("Seq2seq", "Word2Vec", "BERT", "Transformer"), 2),
    ],
)
def test_ordering_partial_credit_is_longest_correctly_ordered_run_over_n(order, run):
    instance = instantiate(ORDERING, 0)
    text = " ".join(number_of(instance.items, item) for item in order)
    result = grade(instance, parse_typed(instance, text))
    assert result.score == pytest.approx(run / 4)
    assert not result.correct
    assert f"{run} of 4 items" in result.feedback


def test_longest_ordered_run_is_the_longest_increasing_subsequence():
    assert longest_ordered_run([0, 1, 2, 3]) == 4
    assert longest_ordered_run([3, 0, 1, 2]) == 3
    assert longest_ordered_run([2, 0, 3, 1, 4]) == 3
    assert longest_ordered_run([]) == 0


def test_ordering_shuffle_never_shows_the_answer():
    for seed in range(50):
        assert instantiate(ORDERING, seed).items != ORDERING.items


@pytest.mark.parametrize(
    "text, reason",
    [("1 2 3", "type 4 numbers"), ("1 2 3 5", "no item 5"), ("1 1 2 3", "1 appears twice"), ("a b c d", "not a number"), ("0 1 2 3", "no item 0")],
)
def test_ordering_unparsable(text, reason):
    assert reason in unparsable(ORDERING, text)


def test_ordering_accepts_digits_run_together_and_commas():
    instance = instantiate(ORDERING, 0)
    assert parse_typed(instance, "4321") == parse_typed(instance, "4, 3, 2, 1") == list(reversed(instance.items))


# --------------------------------------------------------------------------- matching


def matching_text(assign: dict[str, str], seed: int = 0, letters: bool = True) -> str:
    instance = instantiate(MATCHING, seed)
    numbers = [number_of(instance.rights, assign[left]) for left in instance.lefts]
    if not letters:
        return " ".join(numbers)
    return " ".join(f"{LETTERS[i]}{n}" for i, n in enumerate(numbers))


RIGHT_PAIRS = {p.left: p.right for p in MATCHING.pairs}


@pytest.mark.parametrize("letters", [True, False])
def test_matching_all_pairs_right(letters):
    assert typed(MATCHING, matching_text(RIGHT_PAIRS, letters=letters)).correct


def test_matching_partial_credit_is_the_fraction_of_pairs_right():
    swapped = dict(RIGHT_PAIRS, **{"BERT-base": "24 layers", "BERT-large": "12 layers"})
    result = typed(MATCHING, matching_text(swapped))
    assert result.score == pytest.approx(1 / 3) and not result.correct
    assert "1 of 3 pairs right" in result.feedback and "BERT-base → 24 layers" in result.feedback


def test_matching_all_wrong_scores_zero():
    wrong = {"BERT-base": "96 layers", "BERT-large": "12 layers", "GPT-3": "24 layers"}
    assert typed(MATCHING, matching_text(wrong)).score == 0.0


def test_matching_pairs_in_any_order_and_with_separators():
    instance = instantiate(MATCHING, 0)
    forward = matching_text(RIGHT_PAIRS).split()
    assert parse_typed(instance, ", ".join(reversed(forward))) == parse_typed(instance, " ".join(forward))
    assert parse_typed(instance, " ".join(f"{t[0]}-{t[1:]}" for t in forward)) == parse_typed(instance, " ".join(forward))


@pytest.mark.parametrize(
    "text, reason",
    [("a1 b2", "missing: c"), ("a1 a2 b3", "a is matched twice"), ("a1 b2 d3", "no item d"), ("a1 b2 c9", "no option 9"),
     ("1 2", "type 3 numbers"), ("hello", "type pairs like")],
)
def test_matching_unparsable(text, reason):
    assert reason in unparsable(MATCHING, text)


# --------------------------------------------------------------------------- text


@pytest.mark.parametrize("text", ["Layer Normalization", "  layer   normalization ", "layernorm", "LAYER-NORMALISATION"])
def test_text_accepts_normalized_answers_and_the_pattern(text):
    assert typed(TEXT, text).correct


@pytest.mark.parametrize("text", ["batch normalization", "layer normalization please", "norm"])
def test_text_near_misses_score_nothing(text):
    result = typed(TEXT, text)
    assert result.score == 0.0 and "“layer normalization”" in result.feedback


def test_text_empty_input_is_asked_again():
    assert "type an answer" in unparsable(TEXT, "   ")


def test_text_with_only_a_pattern_has_a_model_answer_for_the_key():
    example = pattern_example(PATTERN_ONLY.pattern)
    assert example and grade(instantiate(PATTERN_ONLY, 0), example).correct


# --------------------------------------------------------------------------- skipping, hints, variants


@pytest.mark.parametrize("q", [SINGLE, MULTIPLE, TRUE_FALSE, NUMERIC, ORDERING, MATCHING, TEXT])
def test_skipped_questions_score_zero_and_show_the_answer(q):
    result = grade(instantiate(q, 0), None)
    assert result.skipped and result.score == 0.0 and not result.correct
    assert result.feedback.startswith("Skipped. The answer:")
    assert input_hint(instantiate(q, 0))


def test_points_scale_the_score():
    heavy = question("multiple", points=3.0, choices=MULTIPLE.choices)
    instance = instantiate(heavy, 0)
    assert grade(instance, ["Query", "Key"]).score == pytest.approx(2.0)


def test_variants_are_stable_per_seed_and_question_and_vary_across_seeds():
    draws = {seed: instantiate(NUMERIC, seed).values for seed in range(30)}
    assert draws[7] == instantiate(NUMERIC, 7).values
    assert len({tuple(v.items()) for v in draws.values()}) > 1
    renamed = question("numeric", id="other", answer=NUMERIC.answer_expr,
                       parameters={p.name: p for p in NUMERIC.parameters})
    assert [instantiate(renamed, s).values for s in range(30)] != list(draws.values())


def test_range_parameters_stay_on_the_step_grid():
    q = question("numeric", prompt="{n} tokens", answer="n ** 2", parameters={"n": {"range": [4, 32], "step": 4}})
    values = {instantiate(q, seed).values["n"] for seed in range(100)}
    assert values <= set(range(4, 33, 4)) and len(values) > 3
    assert all(isinstance(v, int) for v in values)
    assert instantiate(q, 1).prompt == f"{instantiate(q, 1).values['n']} tokens"


def test_a_formula_that_fails_for_drawn_values_is_a_content_error_at_the_question():
    q = question("numeric", answer="1 / (n - 4)", parameters={"n": {"choices": [4.0]}})
    with pytest.raises(ContentError) as caught:
        instantiate(q, 0)
    assert "quiz.yaml:3:5" in str(caught.value) and "n=4" in str(caught.value) and "division by zero" in str(caught.value)


def test_grade_quiz_sums_scores_and_breaks_them_down_by_section():
    quiz = quiz_of(SINGLE, question("true_false", id="tf2", section="other", answer=False), pass_fraction=0.5)
    result = grade_quiz(quiz, {"single-q": "Transformer", "tf2": True}, seed=0)
    assert (result.score, result.max_score, result.passed) == (1.0, 2.0, True)
    assert [(s.section, s.score) for s in result.by_section()] == [("basics", 1.0), ("other", 0.0)]
    assert result.sections_to_reread() == ["other"]
    assert len(instantiate_quiz(quiz, 0)) == 2
