"""The comparison of one call with the expected output: each check, its order, its wording.

Public cases may show shapes and values; hidden cases only say what kind of check failed.
These tests call course.grading.compare directly with real arrays (no sandbox needed).
"""
from __future__ import annotations

import numpy as np
import pytest

from course.grading.compare import (
    BAD_RETURN,
    NOT_RUN,
    OK,
    RAISED,
    Observed,
    argument_names,
    compare_case,
    name_mistakes,
)
from course.model import Case, CaseTolerance, Where

HIDDEN_PHRASES = {
    "wrong shape",
    "wrong dtype (expected floating-point values)",
    "wrong dtype (expected integer values)",
    "wrong dtype (expected a boolean array (True/False))",
    "wrong dtype (expected an exact integer)",
    "contains NaN or inf",
    "values differ from the expected output",
    "does not sum to 1 along the axis",
    "contains negative values",
    "changes when a constant is added to the input",
    "fails when a constant is added to the input",
    "input modified in place (x)",
}


def make_case(visibility="public", checks=(), rtol=1e-6, atol=1e-9, kwargs=None) -> Case:
    where = Where("exercises/t/exercise.yaml", 1, 1)
    specs = {k: {"value": v} for k, v in (kwargs or {}).items()}
    return Case(name="c", visibility=visibility, points=1.0, kwargs=specs, tolerance=CaseTolerance(rtol=rtol, atol=atol),
                checks=tuple(checks)).placed(where)


def ok(value, args_after=()) -> Observed:
    return Observed(OK, np.asarray(value), "", tuple(args_after))


def check(case, expected, got, **kw):
    return compare_case(case, np.asarray(expected), got, function="softmax", arg_names=["x", "axis"], **kw)


# --------------------------------------------------------------------------- shape


def test_wrong_shape_names_both_shapes_on_a_public_case():
    verdict = check(make_case(), np.zeros((4, 7)), ok(np.zeros(4)))
    assert (verdict.passed, verdict.check) == (False, "shape")
    assert verdict.message == "got shape (4,), expected (4, 7)"


def test_wrong_shape_on_a_hidden_case_shows_no_shape():
    verdict = check(make_case("hidden"), np.zeros((4, 7)), ok(np.zeros(4)))
    assert verdict.message == "wrong shape"


def test_shape_is_checked_before_dtype():
    verdict = check(make_case(), np.zeros((2, 2)), ok(np.zeros(3, dtype=np.int64)))
    assert verdict.check == "shape"


# --------------------------------------------------------------------------- dtype


def test_integer_output_for_float_expected_fails_the_dtype_check():
    verdict = check(make_case(), np.full(3, 0.5), ok(np.zeros(3, dtype=np.int64)))
    assert verdict.check == "dtype"
    assert verdict.message == "expected floating-point values, got int64"


def test_dtype_failure_on_a_hidden_case_names_only_the_expected_kind():
    verdict = check(make_case("hidden"), np.full(3, 0.5), ok(np.zeros(3, dtype=np.int64)))
    assert verdict.message == "wrong dtype (expected floating-point values)"


def test_float32_output_is_accepted_for_float64_expected():
    assert check(make_case(rtol=1e-5), np.full(3, 0.5), ok(np.full(3, 0.5, dtype=np.float32))).passed


def test_a_mask_must_be_boolean():
    expected = np.tril(np.ones((3, 3), dtype=bool))
    verdict = check(make_case(), expected, ok(expected.astype(np.int64)))
    assert verdict.message == "expected a boolean array (True/False), got int64"


def test_exact_integer_refuses_an_integral_float():
    case = make_case(checks=["exact_integer"], rtol=0.0, atol=0.0)
    verdict = check(case, np.asarray(124439808), ok(np.asarray(124439808.0)))
    assert verdict.check == "exact_integer"
    assert verdict.message == "expected an exact integer (Python int), got float64 124439808.0"


def test_exact_integer_wrong_count_says_how_far_off():
    case = make_case(checks=["exact_integer"], rtol=0.0, atol=0.0)
    verdict = check(case, np.asarray(124439808), ok(np.asarray(124356864)))
    assert verdict.check == "values"
    assert verdict.message == "got 124356864, expected 124439808 (off by -82,944)"


def test_exact_integer_is_exact_even_with_a_tolerance():
    case = make_case(checks=["exact_integer"], rtol=1e-3, atol=10)
    assert not check(case, np.asarray(1000), ok(np.asarray(1001))).passed


# --------------------------------------------------------------------------- finiteness


def test_nan_where_the_expected_output_is_finite_is_reported_before_values():
    expected = np.full((2, 3), 1 / 3)
    got = expected.copy()
    got[1, 2] = np.nan
    verdict = check(make_case(), expected, ok(got), args=(np.full((2, 3), 1000.0),))
    assert verdict.check == "finite"
    assert verdict.message.startswith("contains 1 NaN where the expected output is finite (first at [1, 2]")
    assert "largest input has magnitude 1e+03" in verdict.message


def test_nan_on_a_hidden_case():
    verdict = check(make_case("hidden"), np.ones(2), ok([np.inf, 1.0]))
    assert verdict.message == "contains NaN or inf"


# --------------------------------------------------------------------------- values


def test_values_report_the_worst_relative_error_and_where():
    expected = np.ones((4, 7))
    got = expected.copy()
    got[2, 5] = 1.32
    verdict = check(make_case(), expected, ok(got))
    assert verdict.check == "values"
    first_line = verdict.message.splitlines()[0]
    assert first_line.startswith("max relative error 3.2e-01 at [2, 5]: got 1.32, expected 1.0")
    assert "1 of 28 entries differ" in first_line
    assert "got:" in verdict.message and "expected:" in verdict.message


def test_values_are_compared_with_a_tolerance_never_exactly():
    assert check(make_case(), np.asarray([0.3]), ok([0.1 + 0.2])).passed
    assert not check(make_case(rtol=1e-12, atol=0.0), np.asarray([0.3]), ok([0.3 + 1e-9])).passed


def test_close_numbers_are_printed_with_enough_digits_to_differ():
    verdict = check(make_case(), np.asarray([-1.674931]), ok([-1.674937]))
    assert "got -1.674937, expected -1.674931" in verdict.message


def test_values_on_a_hidden_case_show_no_numbers():
    verdict = check(make_case("hidden"), np.asarray([0.25, 0.75]), ok([0.5, 0.5]))
    assert verdict.message == "values differ from the expected output"


def test_large_public_arrays_are_trimmed_for_display():
    expected = np.arange(1000.0)
    verdict = check(make_case(), expected, ok(expected + 1))
    assert "..." in verdict.message
    assert len(verdict.message) < 1000


# --------------------------------------------------------------------------- properties


def test_sums_to_one_uses_the_axis_keyword():
    rows = np.asarray([[0.2, 0.8], [0.6, 0.4]])  # rows sum to 1, columns do not
    case = make_case(checks=["sums_to_one"], kwargs={"axis": 0})
    verdict = check(case, rows, ok(rows), kwargs={"axis": 0})
    assert verdict.check == "sums_to_one"
    assert verdict.message == "does not sum to 1 along axis 0: sums range from 0.8 to 1.2"
    assert check(make_case(checks=["sums_to_one"]), rows, ok(rows), kwargs={}).passed


def test_non_negative():
    values = np.asarray([-0.1, 1.1])
    verdict = check(make_case(checks=["non_negative"]), values, ok(values))
    assert verdict.message == "contains negative values (min -0.1 at [0])"
    assert check(make_case("hidden", checks=["non_negative"]), values, ok(values)).message == "contains negative values"


def test_shift_invariance_compares_with_the_students_own_result():
    values = np.asarray([0.1, 0.9])
    case = make_case(checks=["shift_invariant"])
    assert check(case, values, ok(values), shifted=ok(values)).passed
    verdict = check(case, values, ok(values), shifted=ok([0.5, 0.5]))
    assert verdict.check == "shift_invariant"
    assert verdict.message.startswith("softmax(x + 10) differs from softmax(x), which should not change")
    raised = Observed(RAISED, None, "FloatingPointError: overflow")
    assert "softmax(x + 10) failed: FloatingPointError: overflow" in check(case, values, ok(values), shifted=raised).message


def test_inputs_modified_in_place_are_caught():
    sent = np.asarray([1.0, 2.0, 3.0])
    case = make_case(checks=["inputs_unchanged"])
    verdict = check(case, np.ones(3), ok(np.ones(3), args_after=[sent - 3.0]), args=(sent,))
    assert verdict.check == "inputs_unchanged"
    assert verdict.message == "modified its input 'x' in place (3 of 3 entries changed; first at [0]: was 1.0, now -2.0)"
    hidden = make_case("hidden", checks=["inputs_unchanged"])
    assert check(hidden, np.ones(3), ok(np.ones(3), args_after=[sent - 3.0]), args=(sent,)).message == "input modified in place (x)"
    assert check(case, np.ones(3), ok(np.ones(3), args_after=[sent.copy()]), args=(sent,)).passed


def test_properties_come_after_values():
    expected = np.asarray([0.5, 0.5])
    verdict = check(make_case(checks=["sums_to_one", "inputs_unchanged"]), expected, ok([0.9, 0.9]))
    assert verdict.check == "values"


# --------------------------------------------------------------------------- calls that did not return


def test_a_raised_exception_shows_its_message_and_the_students_line():
    error = 'ValueError: operands could not be broadcast\nTraceback (most recent call last, s.py only):\n  File "s.py", line 8, in softmax\n    return a / b'
    public = check(make_case(), np.ones(2), Observed(RAISED, None, error))
    assert public.check == "error"
    assert public.message == "raised ValueError: operands could not be broadcast (line 8)"
    hidden = check(make_case("hidden"), np.ones(2), Observed(RAISED, None, error))
    assert hidden.message == "raised ValueError (line 8)"


def test_a_non_array_return_value_is_reported():
    verdict = check(make_case(), np.ones(2), Observed(BAD_RETURN, None, "returned None"))
    assert (verdict.check, verdict.message) == ("return", "returned None: return a numpy array (or a number)")


def test_a_call_that_never_ran_says_why():
    verdict = check(make_case(), np.ones(2), Observed(NOT_RUN, None, "did not return: stopped after 10.0 s (time limit)"))
    assert verdict.check == "not_run"
    assert "time limit" in verdict.message


# --------------------------------------------------------------------------- hidden wording, all at once


@pytest.mark.parametrize(
    "expected, got, kw",
    [
        (np.zeros((4, 7)), ok(np.zeros(4)), {}),
        (np.full(3, 0.5), ok(np.zeros(3, dtype=np.int64)), {}),
        (np.ones(2), ok([np.nan, 1.0]), {}),
        (np.asarray([0.123456, 0.876544]), ok([0.5, 0.5]), {}),
        (np.asarray([0.25, 0.25]), ok([0.25, 0.25]), {"checks": ["sums_to_one"]}),
        (np.asarray([-0.5, 1.5]), ok([-0.5, 1.5]), {"checks": ["non_negative"]}),
        (np.asarray([0.1, 0.9]), ok([0.1, 0.9]), {"checks": ["shift_invariant"], "shifted": ok([0.3, 0.7])}),
        (np.ones(3), ok(np.ones(3), args_after=[np.zeros(3)]), {"checks": ["inputs_unchanged"], "args": (np.full(3, 7.25),)}),
    ],
)
def test_hidden_case_messages_come_from_the_hidden_catalogue(expected, got, kw):
    checks = kw.pop("checks", ())
    verdict = check(make_case("hidden", checks=checks), expected, got, **kw)
    assert not verdict.passed
    assert verdict.message in HIDDEN_PHRASES


# --------------------------------------------------------------------------- known mistakes


def test_a_failure_is_named_after_the_mistake_that_fails_the_same_way():
    case = make_case()
    expected = np.asarray([0.25, 0.75])
    student = {"c": (check(case, expected, ok([0.5, 0.5])), ok([0.5, 0.5]))}
    mistakes = {
        "flat": {"c": (check(case, expected, ok([0.5, 0.5 + 1e-12])), ok([0.5, 0.5 + 1e-12]))},
        "other": {"c": (check(case, expected, ok([0.1, 0.9])), ok([0.1, 0.9]))},
    }
    assert name_mistakes([case], student, mistakes) == {"c": "flat"}


def test_a_mistake_that_passes_a_case_is_never_named_for_it():
    case = make_case(checks=["inputs_unchanged"])
    expected = np.ones(2)
    sent = np.asarray([1.0, 2.0])
    student_got = ok(expected, args_after=[np.zeros(2)])
    student = {"c": (check(case, expected, student_got, args=(sent,)), student_got)}
    harmless = ok(expected, args_after=[sent.copy()])  # right output, inputs untouched
    in_place = ok(expected, args_after=[np.zeros(2)])
    mistakes = {
        "harmless": {"c": (check(case, expected, harmless, args=(sent,)), harmless)},
        "in_place": {"c": (check(case, expected, in_place, args=(sent,)), in_place)},
    }
    assert name_mistakes([case], student, mistakes) == {"c": "in_place"}


def test_argument_names_come_from_the_signature():
    assert argument_names("softmax(x, axis=-1)") == ["x", "axis"]
    assert argument_names("self_attention(query, key, value, mask=None)") == ["query", "key", "value", "mask"]
    assert argument_names("not a signature(") == []


def test_raising_is_matched_to_a_mistake_only_with_the_same_error():
    case = make_case()
    expected = np.ones((3, 5))
    broadcast = Observed(RAISED, None, "ValueError: operands could not be broadcast together with shapes (3,5) (3,)")
    other = Observed(RAISED, None, "ValueError: something else")
    mistakes = {"no_keepdims": {"c": (check(case, expected, broadcast), broadcast)}}
    assert name_mistakes([case], {"c": (check(case, expected, other), other)}, mistakes) == {}
    assert name_mistakes([case], {"c": (check(case, expected, broadcast), broadcast)}, mistakes) == {"c": "no_keepdims"}
