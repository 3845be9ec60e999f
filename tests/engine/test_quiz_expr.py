"""The safe arithmetic of seeded numeric answers: what it computes, what it refuses, and that it cannot hang."""
import time

import pytest

from course.quiz.expr import ExpressionError, check_expression, evaluate


@pytest.mark.parametrize(
    "text, values, expected",
    [
        ("124439808", {}, 124439808.0),
        ("1.75e11", {}, 1.75e11),
        ("d_model / n_heads", {"d_model": 768, "n_heads": 12}, 64.0),
        ("12 * n_layers * d_model ** 2", {"n_layers": 12, "d_model": 768}, 84934656.0),
        ("4 * d ** 2 + 4 * d", {"d": 512}, 1050624.0),
        ("-(a - b) + +a", {"a": 3, "b": 5}, 5.0),
        ("2 ** -1", {}, 0.5),
        ("d_k ** 0.5", {"d_k": 64}, 8.0),
        ("(1 + 2) * 3", {}, 9.0),
    ],
)
def test_evaluate_computes_arithmetic_over_parameters(text, values, expected):
    assert evaluate(text, values) == pytest.approx(expected)
    assert check_expression(text, values) is None


@pytest.mark.parametrize(
    "text, reason",
    [
        ("__import__('os').system('true')", "not allowed"),
        ("open('x')", "not allowed"),
        ("d_model.bit_length()", "not allowed"),
        ("[1, 2]", "not allowed"),
        ("lambda: 1", "not allowed"),
        ("a if a else 2", "not allowed"),
        ("7 // 2", "operator not allowed"),
        ("7 % 2", "operator not allowed"),
        ("1 << 40", "operator not allowed"),
        ("~1", "operator not allowed"),
        ("'text'", "only numbers"),
        ("True + 1", "only numbers"),
        ("1j", "only numbers"),
        ("x + 1", "unknown name 'x'"),
        ("1 +", "not an arithmetic expression"),
        ("", "empty"),
        ("1" * 600, "longer than"),
    ],
)
def test_check_expression_names_what_is_not_allowed(text, reason):
    problem = check_expression(text, ["a", "d_model"])
    assert problem is not None and reason in problem
    with pytest.raises(ExpressionError):
        evaluate(text, {"a": 1, "d_model": 2})


HANG = 10.0  # seconds: a hang guard, not a speed target (computing 9 ** 9 ** 9 would take minutes at least)


@pytest.mark.parametrize("text", ["9 ** 9 ** 9", "10 ** 10 ** 10", "2 ** 100000", "(10 ** 60) ** 60 ** 2", "1e300 * 1e300"])
def test_huge_powers_fail_fast_instead_of_hanging(text):
    start = time.perf_counter()
    with pytest.raises(ExpressionError):
        evaluate(text, {})
    assert time.perf_counter() - start < HANG  # refused before computing, not computed and then refused


@pytest.mark.parametrize(
    "text, outcome",
    [
        ("(" * 249 + "1" + ")" * 249, "nested"),  # Python's parser refuses: "too many nested parentheses"
        ("-" * 499 + "1", -1.0),
        ("1" + "+1" * 249, 250.0),
        ("2" + "**1" * 120, 2.0),  # ** is right-associative: 120 levels deep
        ("2" + " ** 1" * 120, "expression longer than 500 characters"),
    ],
)
def test_deeply_nested_expressions_give_a_value_or_a_reason_never_a_crash(text, outcome):
    if isinstance(outcome, str):
        problem = check_expression(text, [])  # what `course validate` reports at the question
        assert problem is not None and outcome in problem
        with pytest.raises(ExpressionError) as refused:
            evaluate(text, {})
        assert str(refused.value) == problem  # drawing a variant says the same
    else:
        assert check_expression(text, []) is None
        assert evaluate(text, {}) == outcome


@pytest.mark.parametrize(
    "text, values, reason",
    [
        ("a / b", {"a": 1, "b": 0}, "division by zero"),
        ("0 ** -1", {}, "division by zero"),
        ("(-8) ** 0.5", {}, "not a real number"),
    ],
)
def test_values_that_cannot_be_computed_raise_expression_error(text, values, reason):
    with pytest.raises(ExpressionError, match=reason):
        evaluate(text, values)


def test_check_expression_lists_the_declared_parameters_for_an_unknown_name():
    assert check_expression("d_modle * 2", ["d_model", "n_heads"]) == "unknown name 'd_modle' (parameters: d_model, n_heads)"
