"""The comparison of one call with the expected output: each check, its order, its wording.

Public cases may show shapes and values; hidden cases only say what kind of check failed.
These tests call course.grading.compare directly with real arrays (no sandbox needed).
"""
from __future__ import annotations

import warnings

import numpy as np
import pytest

from course.grading.checks import TEMPLATES
from course.grading.compare import (
    Observed,
    argument_names,
    compare_case,
    exception_type,
    match_mistakes, name_mistakes,
    observed,
)
from course.grading.sandbox.records import CallOutcome, CallStatus
from course.model import Case, CaseTolerance, Where

OK, RAISED, BAD_RETURN, NOT_RUN = CallStatus.OK, CallStatus.RAISED, CallStatus.BAD_RETURN, CallStatus.NOT_RUN
HIDDEN_PHRASES = {template.hidden for template in TEMPLATES.values()}


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
    assert verdict.message == "wrong dtype"


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
    assert check(hidden, np.ones(3), ok(np.ones(3), args_after=[sent - 3.0]), args=(sent,)).message == "modified an input in place"
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
    assert hidden.message == "raised an exception"  # not even the class name: it could be built from the inputs


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
    kw = dict(kw)  # the parameter is shared by every run of this test (mutmut runs it more than once)
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


# =========================================================================== the edges a student meets
# Each test below pins down one thing a student would see change if the comparison were
# edited carelessly (these are the mutants that mutmut found alive; docs/testing.md).


def named_case(name: str, **kw) -> Case:
    return make_case(**kw).model_copy(update={"name": name})


# --------------------------------------------------------------------------- tolerance boundaries


def test_values_exactly_at_the_tolerance_pass():
    case = make_case(rtol=0.0, atol=0.5)
    assert check(case, np.asarray([1.0, 2.0]), ok([1.5, 1.5])).passed
    verdict = check(case, np.asarray([1.0, 2.0]), ok([1.5, 1.4375]))
    assert verdict.check == "values" and "got 1.4375, expected 2.0" in verdict.message


def test_the_relative_tolerance_is_relative_to_the_expected_value():
    case = make_case(rtol=0.25, atol=0.0)
    assert check(case, np.asarray([2.0, 2.0]), ok([1.5, 2.5])).passed  # 0.5 = 25% of 2, not of 1.5
    assert not check(case, np.asarray([2.0]), ok([1.4999])).passed


# --------------------------------------------------------------------------- NaN and inf in the expected output


def test_nan_where_the_expected_output_has_nan_passes():
    expected = np.asarray([[0.5, 0.5], [np.nan, np.nan]])  # a row with nothing to attend to
    assert check(make_case(), expected, ok(expected.copy())).passed


def test_a_number_where_the_expected_output_has_nan_fails_on_values():
    verdict = check(make_case(), np.asarray([0.5, np.nan]), ok([0.5, 0.5]))
    assert verdict.check == "values"
    assert verdict.message.startswith("max absolute error inf at [1]: got 0.5, expected nan (rtol 1e-06, atol 1e-09)")


def test_nan_where_inf_is_expected_fails_on_values_with_an_infinite_error():
    verdict = check(make_case(), np.asarray([np.inf, 1.0]), ok([np.nan, 1.0]))
    assert verdict.check == "values"
    assert verdict.message.startswith("max absolute error inf at [0]: got nan, expected inf (rtol")


def test_a_finite_number_where_inf_is_expected_is_printed_to_six_digits():
    verdict = check(make_case(), np.asarray([np.inf]), ok([0.12345678]))
    assert verdict.message.startswith("max absolute error inf at [0]: got 0.123457, expected inf")


def test_nan_and_inf_are_counted_separately():
    verdict = check(make_case(), np.ones(4), ok([1.0, np.nan, np.inf, -np.inf]))
    assert verdict.message == "contains 1 NaN and 2 inf where the expected output is finite (first at [1]: got nan, expected 1.0)"


def test_inf_alone_is_named_as_inf():
    verdict = check(make_case(), np.full(2, 1 / 3), ok([1 / 3, np.inf]))
    assert verdict.message == "contains 1 inf where the expected output is finite (first at [1]: got inf, expected 0.333333)"


def test_a_single_nan_number_has_no_position():
    verdict = check(make_case(), np.asarray(0.5), ok(np.asarray(np.nan)))
    assert verdict.message == "contains 1 NaN where the expected output is finite"


def test_the_largest_input_counts_only_non_empty_numeric_arrays():
    args = (np.full(3, -1000.0), np.asarray([]), "relu", np.asarray([True]))
    verdict = check(make_case(), np.ones(2), ok([np.nan, 1.0]), args=args)
    assert verdict.message.endswith("; the largest input has magnitude 1e+03")
    without_arrays = check(make_case(), np.ones(2), ok([np.nan, 1.0]), args=("relu",))
    assert "largest input" not in without_arrays.message


# --------------------------------------------------------------------------- dtypes and exact integers


def test_a_real_output_for_a_complex_expected_output_names_complex_values():
    verdict = check(make_case(), np.asarray([1 + 1j]), ok([1.0]))
    assert verdict.message == "expected complex values, got float64"


def test_complex_outputs_are_compared_with_their_imaginary_part():
    verdict = check(make_case(), np.asarray([1 + 1j]), ok([1 + 2j]))
    assert verdict.check == "values"
    assert verdict.message.startswith("max relative error 7.1e-01 at [0]: got (1+2j), expected (1+1j)")


def test_exact_integer_refuses_a_float_array_without_printing_it():
    case = make_case(checks=["exact_integer"], rtol=0.0, atol=0.0)
    verdict = check(case, np.arange(3), ok(np.arange(3.0)))
    assert verdict.message == "expected an exact integer (Python int), got float64"
    hidden = check(make_case("hidden", checks=["exact_integer"]), np.arange(3), ok(np.arange(3.0)))
    assert hidden.message == "not an exact integer"


def test_exact_integer_wrong_on_a_hidden_case_shows_no_numbers():
    case = make_case("hidden", checks=["exact_integer"], rtol=0.0, atol=0.0)
    assert check(case, np.asarray(124439808), ok(np.asarray(124356864))).message == "values differ from the expected output"


def test_exact_integer_against_a_non_integer_expected_value_claims_no_offset():
    case = make_case(checks=["exact_integer"], rtol=0.0, atol=0.0)
    verdict = check(case, np.asarray(2.5), ok(np.asarray(3)))
    assert verdict.message == "got 3, expected 2.5"


def test_a_wrong_mask_entry_is_named_exactly_with_both_masks():
    expected = np.tril(np.ones((2, 2), dtype=bool))
    got = np.ones((2, 2), dtype=bool)  # sees the future
    verdict = check(make_case(), expected, ok(got))
    assert verdict.check == "values"
    assert verdict.message == (
        "1 of 4 entries differ; first at [0, 1]: got True, expected False\n"
        "got:      [[ True  True]\n"
        "           [ True  True]]\n"
        "expected: [[ True False]\n"
        "           [ True  True]]"
    )
    assert check(make_case("hidden"), expected, ok(got)).message == "values differ from the expected output"


def test_the_shape_of_a_single_number_is_spelled_out():
    verdict = check(make_case(), np.zeros(3), ok(np.asarray(0.5)))
    assert verdict.message == "got shape () (a single number), expected (3,)"


# --------------------------------------------------------------------------- how a wrong value is shown


def test_both_arrays_are_shown_aligned_under_the_worst_error():
    expected = np.asarray([[1.0, 2.0], [3.0, 4.0]])
    verdict = check(make_case(), expected, ok([[1.0, 2.0], [3.0, 5.0]]))
    assert verdict.message == (
        "max relative error 2.5e-01 at [1, 1]: got 5.0, expected 4.0 (rtol 1e-06, atol 1e-09); 1 of 4 entries differ\n"
        "got:      [[1. 2.]\n"
        "           [3. 5.]]\n"
        "expected: [[1. 2.]\n"
        "           [3. 4.]]"
    )


def test_arrays_that_would_print_the_same_are_not_shown():
    verdict = check(make_case(rtol=1e-9, atol=0.0), np.asarray([1.0, 2.0]), ok([1.0, 2.00001]))
    assert verdict.message == "max relative error 5.0e-06 at [1]: got 2.00001, expected 2.0 (rtol 1e-09, atol 0); 1 of 2 entries differ"


def test_the_worst_error_is_looked_for_among_the_wrong_entries_only():
    # entry 0 is within atol but far off relatively; entry 1 is the one that is wrong
    verdict = check(make_case(rtol=1e-6, atol=1e-3), np.asarray([1e-3, 100.0]), ok([1.9e-3, 100.5]))
    assert verdict.message.startswith("max relative error 5.0e-03 at [1]: got 100.5, expected 100.0")


def test_errors_against_zero_are_absolute():
    verdict = check(make_case(), np.zeros(3), ok([0.0, 0.5, 0.25]))
    assert verdict.message.startswith("max absolute error 5.0e-01 at [1]: got 0.5, expected 0.0 (rtol")
    single = check(make_case(), np.asarray(0.0), ok(np.asarray(0.5)))
    assert single.message == "max absolute error 5.0e-01: got 0.5, expected 0.0 (rtol 1e-06, atol 1e-09)"


def test_a_single_wrong_number_has_no_position_and_no_count():
    verdict = check(make_case(), np.asarray(2.0), ok(np.asarray(3.0)))
    assert verdict.message == "max relative error 5.0e-01: got 3.0, expected 2.0 (rtol 1e-06, atol 1e-09)"


@pytest.mark.parametrize(
    "expected, got, shown",
    [
        (1.0, 4 / 3, "got 1.33333, expected 1.0"),  # far apart: six significant digits
        (1.0, 0.9999999, "got 0.9999999, expected 1.0"),  # close: as many as it takes
        (1 / 3, 1 / 3 + 1e-6, "got 0.33333433, expected 0.33333333"),
        (1.0, 1.0000000000000002, "got 1.0000000000000002, expected 1.0"),  # one ulp: 17, the most a double needs
    ],
)
def test_numbers_are_printed_with_just_enough_digits_to_differ(expected, got, shown):
    verdict = check(make_case(rtol=0.0, atol=0.0), np.asarray([expected]), ok([got]))
    assert f"at [0]: {shown} (rtol 0, atol 0)" in verdict.message


def test_huge_values_of_opposite_signs_are_reported_without_numpy_warnings():
    """Bug found by mutation testing: numpy printed "RuntimeWarning: overflow encountered
    in subtract" on the student's terminal, from the comparison itself."""
    case = make_case(checks=["shift_invariant"])
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        verdict = check(case, np.asarray([-1e308]), ok([1e308]))
        shifted = check(case, np.asarray([1e308]), ok([1e308]), shifted=ok([-1e308]))
        student = (verdict, ok([1e308]))
        named = name_mistakes([case], {"c": student}, {"flipped": {"c": (verdict, ok([-1e308]))}})
    assert verdict.message.startswith("max relative error inf at [0]: got 1e+308, expected -1e+308")
    assert shifted.check == "shift_invariant" and named == {}


# --------------------------------------------------------------------------- property checks


def test_sums_to_one_defaults_to_the_last_axis():
    rows = np.asarray([[[0.5, 0.5], [0.9, 0.1]], [[0.2, 0.8], [0.3, 0.7]]])  # axis 1 does not sum to 1
    assert check(make_case(checks=["sums_to_one"]), rows, ok(rows), kwargs={}).passed


def test_equal_wrong_sums_are_given_once():
    halves = np.asarray([[0.25, 0.25], [0.1, 0.4]])
    verdict = check(make_case(checks=["sums_to_one"]), halves, ok(halves))
    assert verdict.message == "does not sum to 1 along axis -1: sums are 0.5"


def test_an_axis_the_output_does_not_have_is_reported():
    rows = np.asarray([[0.5, 0.5]])
    verdict = check(make_case(checks=["sums_to_one"]), rows, ok(rows), kwargs={"axis": 3})
    assert verdict.message == "does not sum to 1 along axis 3: cannot sum along it"
    hidden = check(make_case("hidden", checks=["sums_to_one"]), rows, ok(rows), kwargs={"axis": 3})
    assert hidden.message == "does not sum to 1 along the axis"


@pytest.mark.parametrize(
    "rtol, atol, row, passes",
    [
        (1e-3, 0.0, [0.5, 0.5099], True),  # drift allowed: 10 x rtol = 0.01
        (1e-3, 0.0, [0.5, 0.5101], False),
        (0.0, 1e-4, [0.01009] * 100, True),  # n x atol = 100 x 1e-4 = 0.01
        (0.0, 0.0, [0.5, 0.5000005], True),  # never less than 1e-6 (float rounding)
        (0.0, 0.0, [0.5, 0.500005], False),
    ],
)
def test_sums_may_drift_by_ten_rtol_plus_n_atol(rtol, atol, row, passes):
    value = np.asarray([row])
    verdict = check(make_case(checks=["sums_to_one"], rtol=rtol, atol=atol), value, ok(value))
    assert verdict.passed is passes, verdict.message


def test_zeros_are_not_negative():
    values = np.asarray([0.0, 0.5, 0.5])
    assert check(make_case(checks=["non_negative"]), values, ok(values)).passed


def test_non_negative_points_at_the_most_negative_entry():
    values = np.asarray([0.5, -0.1, -0.3])
    assert check(make_case(checks=["non_negative"]), values, ok(values)).message == "contains negative values (min -0.3 at [2])"
    single = check(make_case(checks=["non_negative"]), np.asarray(-0.5), ok(np.asarray(-0.5)))
    assert single.message == "contains negative values (min -0.5)"


def test_shift_invariance_names_the_function_and_its_first_argument():
    values = np.asarray([0.1, 0.9])
    case = make_case(checks=["shift_invariant"])
    verdict = compare_case(case, values, ok(values), shifted=ok([0.1, 0.5]), function="softmax", arg_names=["logits"])
    assert verdict.message == (
        "softmax(logits + 10) differs from softmax(logits), which should not change: "
        "max relative error 4.4e-01 at [1]: got 0.5, expected 0.9"
    )
    unnamed = compare_case(case, values, ok(values), shifted=ok([0.1, 0.5]))
    assert unnamed.message.startswith("f(x + 10) differs from f(x), which should not change")


def test_a_shifted_call_is_ignored_unless_the_case_asks_for_shift_invariance():
    values = np.asarray([0.1, 0.9])
    assert check(make_case(), values, ok(values), shifted=ok([0.5, 0.5])).passed


def test_a_shifted_call_that_returned_nothing_says_so():
    values = np.asarray([0.1, 0.9])
    verdict = check(make_case(checks=["shift_invariant"]), values, ok(values), shifted=Observed(OK, None, ""))
    assert verdict.message == "softmax(x + 10) failed: it did not return a value"
    hidden = check(make_case("hidden", checks=["shift_invariant"]), values, ok(values), shifted=Observed(OK, None, ""))
    assert hidden.message == "changes when a constant is added to the input"


def test_a_shifted_output_of_another_shape_is_reported():
    values = np.asarray([0.1, 0.9])
    verdict = check(make_case(checks=["shift_invariant"]), values, ok(values), shifted=ok([0.1, 0.9, 0.0]))
    assert verdict.message == (
        "softmax(x + 10) differs from softmax(x), which should not change: got shape (3,) instead of (2,)")


def test_shift_invariance_uses_the_case_tolerance_to_judge_and_to_report():
    values = np.asarray([0.1, 0.9])
    strict = make_case(checks=["shift_invariant"], rtol=1e-9, atol=0.0)
    verdict = check(strict, values, ok(values), shifted=ok(values * (1 + 1e-7)))
    assert verdict.message.endswith(": max relative error 1.0e-07 at [0]: got 0.10000001, expected 0.1")
    loose = make_case(checks=["shift_invariant"], rtol=0.0, atol=1e-3)
    assert check(loose, values, ok(values), shifted=ok(values + 1e-4)).passed
    # entry 0 is off by 5% but within atol; the error reported is the one beyond the tolerance
    small = np.asarray([0.01, 0.9])
    verdict = check(loose, small, ok(small), shifted=ok([0.0105, 0.905]))
    assert verdict.message.endswith(": max relative error 5.6e-03 at [1]: got 0.905, expected 0.9")


def test_shift_invariance_treats_nan_like_the_values_check():
    """Bug found by mutation testing: NaN where f(x) has NaN failed shift invariance, with
    the message "max absolute error -1.0e+00 ... got nan, expected nan"."""
    values = np.asarray([np.nan, 0.0])
    case = make_case(checks=["shift_invariant"])
    assert check(case, values, ok(values), shifted=ok(values.copy())).passed
    verdict = check(case, values, ok(values), shifted=ok([np.nan, 0.1]))
    assert verdict.message.endswith("which should not change: max absolute error 1.0e-01 at [1]: got 0.1, expected 0.0")


# --------------------------------------------------------------------------- inputs changed in place


def test_an_argument_beyond_the_signature_is_named_by_its_position():
    x, y = np.ones(2), np.asarray([1.0, 2.0])
    case = make_case(checks=["inputs_unchanged"])
    verdict = compare_case(case, np.ones(2), ok(np.ones(2), args_after=[x.copy(), y * 0]), args=(x, y), arg_names=["x"])
    assert verdict.message == "modified its input 'argument 2' in place (2 of 2 entries changed; first at [0]: was 1.0, now 0.0)"


def test_a_keyword_array_modified_in_place_is_named():
    x, mask = np.ones((2, 2)), np.tril(np.ones((2, 2), dtype=bool))
    changed = np.ones((2, 2), dtype=bool)
    got = Observed(OK, np.ones((2, 2)), "", (x.copy(),), {"mask": changed})
    verdict = compare_case(make_case(checks=["inputs_unchanged"]), np.ones((2, 2)), got, args=(x,), kwargs={"mask": mask},
                           arg_names=["x", "mask"])
    assert verdict.message == "modified its input 'mask' in place (1 of 4 entries changed; first at [0, 1]: was False, now True)"


def test_every_positional_array_is_checked_not_only_the_first():
    query, key = np.ones(2), np.asarray([1.0, 2.0])
    case = make_case(checks=["inputs_unchanged"])
    for after in ([query.copy(), key * 0], [None, key * 0]):  # the first untouched, or not reported
        verdict = compare_case(case, np.ones(2), ok(np.ones(2), args_after=after), args=(query, key), arg_names=["query", "key"])
        assert verdict.message.startswith("modified its input 'key' in place")


def test_arguments_that_are_not_arrays_or_not_reported_back_are_skipped():
    x = np.ones(2)
    case = make_case(checks=["inputs_unchanged"])
    assert check(case, np.ones(2), ok(np.ones(2), args_after=[x.copy(), 1]), args=(x, 1)).passed
    assert check(case, np.ones(2), ok(np.ones(2), args_after=[]), args=(x,)).passed


def test_nan_in_an_input_is_not_a_change():
    x = np.asarray([1.0, np.nan, 3.0])
    case = make_case(checks=["inputs_unchanged"])
    assert check(case, np.ones(3), ok(np.ones(3), args_after=[x.copy()]), args=(x,)).passed
    verdict = check(case, np.ones(3), ok(np.ones(3), args_after=[np.asarray([2.0, np.nan, 3.0])]), args=(x,))
    assert verdict.message == "modified its input 'x' in place (1 of 3 entries changed; first at [0]: was 1.0, now 2.0)"
    filled = check(case, np.ones(3), ok(np.ones(3), args_after=[np.asarray([1.0, 0.0, 3.0])]), args=(x,))
    assert filled.message == "modified its input 'x' in place (1 of 3 entries changed; first at [1]: was nan, now 0.0)"


@pytest.mark.parametrize("after", [np.zeros(6), np.zeros((2, 3), dtype=np.float32)])
def test_an_input_reshaped_or_recast_in_place_is_reported(after):
    x = np.zeros((2, 3))
    verdict = check(make_case(checks=["inputs_unchanged"]), np.ones(2), ok(np.ones(2), args_after=[after]), args=(x,))
    assert verdict.message == "modified its input 'x' in place (its shape or dtype changed)"


def test_a_single_number_input_changed_in_place_has_no_position():
    x = np.asarray(2.0)
    verdict = check(make_case(checks=["inputs_unchanged"]), np.ones(2), ok(np.ones(2), args_after=[np.asarray(3.0)]), args=(x,))
    assert verdict.message == "modified its input 'x' in place (1 of 1 entries changed; first: was 2.0, now 3.0)"


# --------------------------------------------------------------------------- calls that did not return, exactly


def test_a_non_array_return_on_a_hidden_case_and_without_details():
    hidden = check(make_case("hidden"), np.ones(2), Observed(BAD_RETURN, None, "returned None"))
    assert hidden.message == "did not return a numeric array: return a numpy array (or a number)"
    bare = check(make_case(), np.ones(2), Observed(BAD_RETURN, None, ""))
    assert bare.message == "returned something that is not a numeric array: return a numpy array (or a number)"


@pytest.mark.parametrize(
    "error, message",
    [
        ("did not return: stopped after 10.0 s (time limit)", "did not return: stopped after 10.0 s (time limit)"),
        ("not run: stopped after 10.0 s (time limit)", "not run: stopped after 10.0 s (time limit)"),
        ("killed by signal SIGSEGV", "not run: killed by signal SIGSEGV"),
        ("", "not run: the submission stopped before this call"),
    ],
)
def test_a_call_that_never_ran_says_why_once(error, message):
    verdict = check(make_case(), np.ones(2), Observed(NOT_RUN, None, error))
    assert (verdict.check, verdict.message) == ("not_run", message)
    assert check(make_case("hidden"), np.ones(2), Observed(NOT_RUN, None, error)).message == "did not run to completion"


def test_a_call_without_an_ok_status_is_not_judged_on_a_value_it_left_behind():
    assert check(make_case(), np.ones(2), Observed(NOT_RUN, np.ones(2), "killed")).check == "not_run"
    assert check(make_case(), np.ones(2), Observed(OK, None, "")).message == "not run: the submission stopped before this call"


def test_an_exception_without_a_message_or_a_line():
    assert check(make_case(), np.ones(2), Observed(RAISED, None, "")).message == "raised an exception"
    assert check(make_case(), np.ones(2), Observed(RAISED, None, "ValueError: bad axis")).message == "raised ValueError: bad axis"


def test_the_exception_class_is_read_from_the_first_line():
    assert exception_type("ValueError: bad: axis\nTraceback (most recent call last):") == "ValueError"
    assert exception_type("NotImplementedError") == "NotImplementedError"
    assert exception_type("  \n") == ""


def test_a_sandbox_outcome_becomes_what_the_comparison_sees():
    sent, mask = np.asarray([1.0, 2.0]), np.ones(2, dtype=bool)
    outcome = CallOutcome(status=CallStatus.OK, value=np.ones(2), error=None, args_after=[sent], kwargs_after={"mask": mask})
    seen = observed(outcome)
    assert (seen.status, seen.error, seen.kwargs_after) == (OK, "", {"mask": mask})
    assert isinstance(seen.args_after, tuple) and seen.args_after[0] is sent and seen.value is outcome.value
    raised = observed(CallOutcome(status="raised", value=None, error="ValueError: no", args_after=None, kwargs_after=None))
    assert (raised.status, raised.error, raised.args_after, raised.kwargs_after) == (RAISED, "ValueError: no", (), {})
    assert observed(object()) == Observed(NOT_RUN, None, "", (), {})


# --------------------------------------------------------------------------- known mistakes, exactly


def mistake_outcome(case, expected, got, **kw):
    return (compare_case(case, np.asarray(expected), got, **kw), got)


def test_the_mistake_that_explains_most_failures_wins_then_the_declared_order():
    c1, c2 = named_case("c1"), named_case("c2")
    expected = np.asarray([0.25, 0.75])
    flat = ok([0.5, 0.5])
    student = {c.name: mistake_outcome(c, expected, flat) for c in (c1, c2)}
    declared_first_one_case = {"c1": mistake_outcome(c1, expected, flat)}
    both_cases = {c.name: mistake_outcome(c, expected, flat) for c in (c1, c2)}
    # "zeta" is declared first, "alpha" explains more: alpha for both (not the name's order, not the declared order)
    assert name_mistakes([c1, c2], student, {"zeta": declared_first_one_case, "alpha": both_cases}) == {"c1": "alpha", "c2": "alpha"}
    # a tie goes to the mistake declared first, whatever its name
    assert name_mistakes([c1], student, {"zeta": declared_first_one_case, "alpha": dict(declared_first_one_case)}) == {"c1": "zeta"}


def test_a_public_case_names_its_mistake_on_public_evidence_alone():
    """Hidden failures may rank the advice, but never change what a public case's message names."""
    shown, hidden = named_case("shown"), named_case("hidden", visibility="hidden")
    expected = np.asarray([0.25, 0.75])
    flat = ok([0.5, 0.5])
    student = {c.name: mistake_outcome(c, expected, flat) for c in (shown, hidden)}
    public_only = {"shown": mistake_outcome(shown, expected, flat)}
    everywhere = {c.name: mistake_outcome(c, expected, flat) for c in (shown, hidden)}
    matches, ranked = match_mistakes([shown, hidden], student, {"first": public_only, "second": everywhere})
    assert [m.name for m in matches["shown"]] == ["first", "second"]  # a public tie: the declared order
    assert [m.name for m in matches["hidden"]] == ["second"]
    assert ranked == ["second", "first"]  # over every case, "second" explains more


def test_cases_without_an_outcome_or_passed_are_skipped_and_the_rest_still_named():
    missing, passed, failed = named_case("missing"), named_case("passed"), named_case("failed")
    expected = np.asarray([0.25, 0.75])
    student = {"passed": mistake_outcome(passed, expected, ok(expected)), "failed": mistake_outcome(failed, expected, ok([0.5, 0.5]))}
    mistakes = {"flat": {"failed": mistake_outcome(failed, expected, ok([0.5, 0.5]))}}
    assert name_mistakes([missing, passed, failed], student, mistakes) == {"failed": "flat"}


def test_a_mistake_is_named_only_when_the_same_check_fails():
    case = make_case(checks=["shift_invariant", "inputs_unchanged"])
    expected, sent = np.asarray([0.1, 0.9]), np.asarray([1.0, 2.0])
    right = ok(expected, args_after=[sent.copy()])
    student = mistake_outcome(case, expected, right, args=(sent,), shifted=ok([0.5, 0.5]))  # fails shift_invariant
    in_place = ok(expected, args_after=[sent * 0])
    mistake = mistake_outcome(case, expected, in_place, args=(sent,), shifted=ok(expected))  # fails inputs_unchanged
    assert (student[0].check, mistake[0].check) == ("shift_invariant", "inputs_unchanged")
    assert name_mistakes([case], {"c": student}, {"in_place": {"c": mistake}}) == {}


def test_a_time_out_or_a_bare_exception_is_never_blamed_on_a_mistake():
    case, expected = make_case(), np.ones(2)
    timed_out = Observed(NOT_RUN, None, "did not return: stopped after 10.0 s (time limit)")
    both = mistake_outcome(case, expected, timed_out)
    assert name_mistakes([case], {"c": both}, {"endless_loop": {"c": both}}) == {}
    bare = mistake_outcome(case, expected, Observed(RAISED, None, ""))
    assert name_mistakes([case], {"c": bare}, {"raises": {"c": bare}}) == {}


def test_wrong_shapes_match_a_mistake_only_when_they_are_the_same_shape():
    case, expected = make_case(), np.ones(4)
    student = mistake_outcome(case, expected, ok(np.ones(2)))
    assert name_mistakes([case], {"c": student}, {"other_shape": {"c": mistake_outcome(case, expected, ok(np.ones(3)))}}) == {}
    assert name_mistakes([case], {"c": student}, {"same_shape": {"c": mistake_outcome(case, expected, ok(np.ones(2)))}}) == {"c": "same_shape"}


def test_an_overflow_to_nan_is_named_after_the_mistake_that_overflows_the_same_way():
    case, expected = make_case(), np.asarray([0.5, 0.5])
    overflow = ok([np.nan, np.nan])
    student = mistake_outcome(case, expected, overflow)
    assert student[0].check == "finite"
    assert name_mistakes([case], {"c": student}, {"no_max_subtraction": {"c": mistake_outcome(case, expected, ok([np.nan, np.nan]))}}) == {
        "c": "no_max_subtraction"}


def test_a_mistake_must_agree_with_the_student_within_the_case_tolerance():
    expected = np.asarray([0.25, 0.75])
    strict = make_case(rtol=1e-9, atol=0.0)
    student = mistake_outcome(strict, expected, ok([0.5, 0.5]))
    assert name_mistakes([strict], {"c": student}, {"near": {"c": mistake_outcome(strict, expected, ok([0.5, 0.5000001]))}}) == {}
    loose = make_case(rtol=0.0, atol=1e-3)
    student = mistake_outcome(loose, expected, ok([0.5, 0.5]))
    assert name_mistakes([loose], {"c": student}, {"near": {"c": mistake_outcome(loose, expected, ok([0.5, 0.5004]))}}) == {"c": "near"}


# --------------------------------------------------------------------------- the entry a message names, an output's traits


def test_the_named_entry_of_a_finite_failure_is_the_first_inf_or_nan_where_a_number_is_expected():
    from course.grading.compare import named_entry

    expected = np.array([[1.0, np.nan], [2.0, 3.0]])
    got = np.array([[1.0, np.nan], [np.inf, np.nan]])  # the NaN expected at [0, 1] is not a failure
    assert named_entry(got, expected, make_case(), "finite") == (1, 0)
    assert named_entry(expected, expected, make_case(), "finite") is None
    assert named_entry(np.array([1, 2]), np.array([1.0, 2.0]), make_case(), "finite") is None  # ints are finite


def test_the_named_entry_of_a_values_failure_is_the_worst_one_as_the_message_says():
    from course.grading.compare import named_entry

    expected = np.array([[1.0, 2.0, 3.0], [4.0, 5.0, 6.0]])
    got = expected.copy()
    got[0, 2], got[1, 1] = 3.3, 5.1  # 10% off, then 2% off
    assert named_entry(got, expected, make_case(), "values") == (0, 2)
    verdict = check(make_case(), expected, ok(got))
    assert "at [0, 2]" in verdict.message
    assert named_entry(expected + 1e-12, expected, make_case(), "values") is None  # within the tolerance


def test_the_named_entry_of_exact_values_is_the_first_that_differs():
    from course.grading.compare import named_entry

    exact = make_case(checks=["exact_integer"], rtol=0.0, atol=0.0)
    assert named_entry(np.array([5, 7, 9]), np.array([5, 6, 8]), exact, "values") == (1,)
    assert named_entry(np.array([5, 6, 8]), np.array([5, 6, 8]), exact, "values") is None
    mask = np.array([[True, False], [True, True]])
    assert named_entry(~mask, mask, make_case(), "values") == (0, 0)  # booleans are compared exactly too


def test_no_entry_is_named_for_a_single_number_another_shape_or_another_check():
    from course.grading.compare import named_entry

    assert named_entry(np.float64(2.0), np.float64(1.0), make_case(), "values") is None
    assert named_entry(np.zeros(3), np.ones(4), make_case(), "values") is None
    assert named_entry(np.zeros(3), np.ones(3), make_case(), "sums_to_one") is None
    assert named_entry(np.zeros(2, dtype=complex), np.ones(2, dtype=complex), make_case(), "values") is None


def test_output_traits_say_along_which_axes_an_output_is_normalised():
    from course.grading.compare import output_traits

    rng = np.random.default_rng(0)
    rows = np.exp(rng.normal(size=(3, 4)))
    assert output_traits(rows / rows.sum(axis=1, keepdims=True)) == {"sums to 1 along 1"}
    assert output_traits(rows / rows.sum()) == {"sums to 1 along all"}
    columns = rng.normal(size=(50, 3))
    standard = (columns - columns.mean(axis=0)) / columns.std(axis=0)
    assert output_traits(standard) == {"mean 0 along 0", "std 1 along 0", "mean 0 along all", "std 1 along all"}
    assert output_traits(rows) == frozenset()


def test_output_traits_are_empty_for_outputs_that_cannot_have_them():
    from course.grading.compare import output_traits

    assert output_traits(np.float64(1.0)) == frozenset()  # a single number
    assert output_traits(np.array([1.0])) == frozenset()
    assert output_traits(np.array([0.5, np.nan])) == frozenset()
    assert output_traits(np.array([True, False])) == frozenset()
    assert output_traits(np.array([[0.25, 0.75]])) == {"sums to 1 along 1", "sums to 1 along all"}  # axis 0 has 1 row
    assert output_traits(np.array([0, 1])) == {"sums to 1 along 0", "sums to 1 along all"}  # whole numbers too
