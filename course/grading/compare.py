"""Compare one call's output with the expected output: the only place a case is judged.

Checks run in a fixed order and stop at the first failure, so the message is about the
most basic thing that is wrong (a wrong shape makes every value wrong; saying so is
noise):

    error / return / not_run  the call raised, returned a non-array, or never ran
    shape                     "got shape (4,), expected (4, 7)"
    dtype (exact_integer)     float vs int vs bool: "expected floating-point values, got int64"
    finite                    NaN/inf where the expected output is finite
    values                    within the case's rtol/atol (exact for ints with exact_integer, bools)
    sums_to_one, non_negative, shift_invariant   properties (course.model.PROPERTY_CHECKS)
    inputs_unchanged          the caller's positional arrays are as they were sent

Messages are in the student's terms and come from the table in course.grading.checks:
a hidden case's message is that table's constant for the check that failed, never
anything computed from its inputs, expected values or the submission's behaviour.

Known mistakes: the same comparison is run on each known-mistake implementation's
output; a student failure that fails the same check with the same output (same shape,
allclose within the case's tolerance) is named after that mistake, and a failure no
mistake reproduces may still point at those failing the same telling check; every
match is named, most likely first (`match_mistakes`).
"""
from __future__ import annotations

import ast
from dataclasses import dataclass, field
from typing import Any, Mapping, Sequence

import numpy as np

from course.grading.checks import Check, message
from course.grading.sandbox.records import CallStatus
from course.model import Case, CaseTolerance

SHIFT = 10.0  # shift_invariant: f(x + SHIFT) must equal f(x)

_PRINT: dict[str, Any] = dict(threshold=24, edgeitems=3, precision=4, max_line_width=96)


@dataclass(frozen=True)
class Observed:
    """What one call produced, as the trusted parent sees it.

    Built from the sandbox's CallOutcome for a submission, or in-process for a known
    mistake (course.grading.expected). `args_after` holds each positional argument
    after the call (None where it was not an array); `kwargs_after` the keyword array
    arguments after the call, by name.
    """

    status: CallStatus
    value: np.ndarray | None = None
    error: str = ""
    args_after: tuple = ()
    kwargs_after: Mapping[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class Verdict:
    passed: bool
    check: Check | None = None  # the first check that failed, None when passed
    message: str = ""


PASSED = Verdict(True, None, "passed")


def fail(check: Check, hidden: bool, **fields: object) -> Verdict:
    """A failed verdict whose message comes from the table in course.grading.checks."""
    return Verdict(False, check, message(check, hidden, **fields))


def observed(outcome: Any) -> Observed:
    """An Observed from the sandbox's CallOutcome (or anything with the same fields)."""
    return Observed(
        status=CallStatus(getattr(outcome, "status", CallStatus.NOT_RUN)),
        value=getattr(outcome, "value", None),
        error=getattr(outcome, "error", "") or "",
        args_after=tuple(getattr(outcome, "args_after", ()) or ()),
        kwargs_after=dict(getattr(outcome, "kwargs_after", {}) or {}),
    )


def argument_names(signature: str) -> list[str]:
    """Parameter names from an exercise's signature ("softmax(x, axis=-1)" -> ["x", "axis"])."""
    try:
        tree = ast.parse(f"def {signature.strip()}:\n    pass\n")
        fn = tree.body[0]
        return [a.arg for a in fn.args.posonlyargs + fn.args.args]  # type: ignore[attr-defined]
    except (SyntaxError, IndexError, AttributeError):
        return []


# --------------------------------------------------------------------------- the comparison


def compare_case(
    case: Case,
    expected: np.ndarray,
    got: Observed,
    *,
    args: Sequence[Any] = (),
    kwargs: Mapping[str, Any] | None = None,
    shifted: Observed | None = None,
    function: str = "f",
    arg_names: Sequence[str] = (),
) -> Verdict:
    """The verdict on one call: the first failing check and its message, or PASSED.

    `args`/`kwargs` are the inputs that were sent (used by sums_to_one's axis and by
    inputs_unchanged); `shifted` is the same function's output on args[0] + SHIFT
    (shift_invariant; None when the case does not ask for it).
    """
    hidden = case.visibility == "hidden"
    kwargs = kwargs or {}
    expected = np.asarray(expected)
    if got.status is CallStatus.RAISED:
        return fail(Check.ERROR, hidden, detail=_raised(got.error))
    if got.status is CallStatus.BAD_RETURN:
        return fail(Check.RETURN, hidden, detail=_first_line(got.error) or "returned something that is not a numeric array")
    if got.status is not CallStatus.OK or got.value is None:
        reason = got.error or "the submission stopped before this call"
        if not reason.startswith(("not run", "did not return")):
            reason = f"not run: {reason}"
        return fail(Check.NOT_RUN, hidden, detail=reason)
    value = np.asarray(got.value)
    # A huge or overflowing output is a failed check, not a numpy RuntimeWarning on the student's terminal.
    with np.errstate(all="ignore"):
        exact = Check.EXACT_INTEGER in case.checks
        for step in (_shape, _dtype, _finite, _values):
            verdict = step(value, expected, case, hidden, exact, args)
            if verdict is not None:
                return verdict
        if Check.SUMS_TO_ONE in case.checks:
            verdict = _sums_to_one(value, case, hidden, kwargs.get("axis", -1))
            if verdict is not None:
                return verdict
        if Check.NON_NEGATIVE in case.checks:
            verdict = _non_negative(value, hidden)
            if verdict is not None:
                return verdict
        if Check.SHIFT_INVARIANT in case.checks and shifted is not None:
            verdict = _shift_invariant(value, shifted, case, hidden, function, arg_names)
            if verdict is not None:
                return verdict
        if Check.INPUTS_UNCHANGED in case.checks:
            # keyword arrays (e.g. a mask) are inputs too: checked after the positional ones
            names = list(arg_names[: len(args)]) + [f"argument {i + 1}" for i in range(len(arg_names), len(args))]
            verdict = _inputs_unchanged(
                tuple(args) + tuple(kwargs.values()),
                tuple(got.args_after) + tuple(got.kwargs_after.get(name) for name in kwargs),
                hidden,
                names + list(kwargs),
            )
            if verdict is not None:
                return verdict
    return PASSED


def _shape(value, expected, case, hidden, exact, args) -> Verdict | None:
    if value.shape == expected.shape:
        return None
    return fail(Check.SHAPE, hidden, got=_shape_text(value.shape), expected=_shape_text(expected.shape))


def _kind(dtype: np.dtype) -> str:
    if dtype.kind == "b":
        return "bool"
    if dtype.kind in "iu":
        return "int"
    if dtype.kind == "f":
        return "float"
    return "complex"


_KIND_WORDS = {
    "float": "floating-point values",
    "int": "integer values",
    "bool": "a boolean array (True/False)",
    "complex": "complex values",
}


def _dtype(value, expected, case, hidden, exact, args) -> Verdict | None:
    want, have = _kind(expected.dtype), _kind(value.dtype)
    if exact:
        if have == "int":
            return None
        shown = f" {_number(value[()])}" if value.ndim == 0 else ""
        return fail(Check.EXACT_INTEGER, hidden, got=f"{value.dtype}{shown}")
    if want == have:
        return None
    return fail(Check.DTYPE, hidden, expected=_KIND_WORDS[want], got=value.dtype)


def _finite(value, expected, case, hidden, exact, args) -> Verdict | None:
    if value.dtype.kind not in "fc":
        return None
    bad = ~np.isfinite(value) & np.isfinite(expected)
    if not bad.any():
        return None
    if hidden:
        return fail(Check.FINITE, hidden)
    nans, infs = int(np.isnan(value[bad]).sum()), int(np.isinf(value[bad]).sum())
    what = " and ".join(p for p in (f"{nans} NaN" if nans else "", f"{infs} inf" if infs else "") if p)
    first = _first_index(bad)
    detail = f"contains {what} where the expected output is finite"
    if value.ndim:
        detail += f" (first at {_index(first)}: got {_number(value[first])}, expected {_number(expected[first])})"
    largest = _largest_input(args)
    if largest is not None:
        detail += f"; the largest input has magnitude {largest:.3g}"
    return fail(Check.FINITE, hidden, detail=detail)


def _values(value, expected, case, hidden, exact, args) -> Verdict | None:
    if exact or expected.dtype.kind == "b":
        wrong = value != expected
        if not wrong.any():
            return None
        if hidden:
            return fail(Check.VALUES, hidden)
        if value.ndim == 0:
            detail = f"got {_number(value[()])}, expected {_number(expected[()])}"
            if value.dtype.kind in "iu" and expected.dtype.kind in "iu":
                detail += f" (off by {int(value[()]) - int(expected[()]):+,})"
            return fail(Check.VALUES, hidden, detail=detail)
        first = _first_index(wrong)
        detail = (
            f"{int(wrong.sum())} of {wrong.size} entries differ; first at {_index(first)}: "
            f"got {_number(value[first])}, expected {_number(expected[first])}"
        )
        return fail(Check.VALUES, hidden, detail=detail + _both_arrays(value, expected))
    tol = case.tolerance
    a, e = _as_float(value), _as_float(expected)
    close = np.isclose(a, e, rtol=tol.rtol, atol=tol.atol, equal_nan=True)
    if close.all():
        return None
    if hidden:
        return fail(Check.VALUES, hidden)
    detail = _worst_error(a, e, ~close) + f" (rtol {tol.rtol:g}, atol {tol.atol:g})"
    if a.ndim:
        detail += f"; {int((~close).sum())} of {close.size} entries differ" + _both_arrays(value, expected)
    return fail(Check.VALUES, hidden, detail=detail)


def _sums_to_one(value, case, hidden, axis) -> Verdict | None:
    if value.ndim == 0:
        return None
    try:
        sums = _as_float(value).sum(axis=int(axis))
    except (TypeError, ValueError, IndexError):  # numpy's AxisError is a ValueError and an IndexError
        return fail(Check.SUMS_TO_ONE, hidden, axis=axis, detail="cannot sum along it")
    atol = max(1e-6, 10 * case.tolerance.rtol + value.size * case.tolerance.atol)
    if np.allclose(sums, 1.0, rtol=0.0, atol=atol):
        return None
    if hidden:
        return fail(Check.SUMS_TO_ONE, hidden)
    low, high = float(np.min(sums)), float(np.max(sums))
    spread = f"sums are {low:.4g}" if np.isclose(low, high) else f"sums range from {low:.4g} to {high:.4g}"
    return fail(Check.SUMS_TO_ONE, hidden, axis=axis, detail=spread)


def _non_negative(value, hidden) -> Verdict | None:
    if value.dtype.kind == "b" or not (value < 0).any():
        return None
    if hidden:
        return fail(Check.NON_NEGATIVE, hidden)
    where = np.unravel_index(int(np.argmin(value)), value.shape) if value.ndim else ()
    at = f" at {_index(where)}" if value.ndim else ""
    return fail(Check.NON_NEGATIVE, hidden, detail=f"min {_number(value[where])}{at}")


def _shift_invariant(value, shifted: Observed, case, hidden, function, arg_names) -> Verdict | None:
    name = arg_names[0] if arg_names else "x"
    call = f"{function}({name} + {SHIFT:g})"
    if shifted.status is not CallStatus.OK or shifted.value is None:
        if hidden:
            return fail(Check.SHIFT_INVARIANT, hidden)
        why = _first_line(shifted.error) or "it did not return a value"
        return fail(Check.SHIFT_INVARIANT, hidden, detail=f"{call} failed: {why}")
    other = np.asarray(shifted.value)
    tol = case.tolerance
    if other.shape == value.shape and np.allclose(_as_float(other), _as_float(value), rtol=tol.rtol, atol=tol.atol,
                                                  equal_nan=True):  # NaN where f(x) has NaN: as in _values
        return None
    if hidden:
        return fail(Check.SHIFT_INVARIANT, hidden)
    if other.shape != value.shape:
        detail = f"got shape {_shape_text(other.shape)} instead of {_shape_text(value.shape)}"
    else:
        a, e = _as_float(other), _as_float(value)
        detail = _worst_error(a, e, ~np.isclose(a, e, rtol=tol.rtol, atol=tol.atol, equal_nan=True))
    return fail(Check.SHIFT_INVARIANT, hidden,
                detail=f"{call} differs from {function}({name}), which should not change: {detail}")


def _inputs_unchanged(args, after, hidden, arg_names) -> Verdict | None:
    for position, sent in enumerate(args):
        if not isinstance(sent, np.ndarray) or position >= len(after) or after[position] is None:
            continue
        now = np.asarray(after[position])
        name = arg_names[position] if position < len(arg_names) else f"argument {position + 1}"
        if now.shape == sent.shape and now.dtype == sent.dtype and np.array_equal(now, sent, equal_nan=sent.dtype.kind in "fc"):
            continue
        if hidden:
            return fail(Check.INPUTS_UNCHANGED, hidden)
        if now.shape != sent.shape or now.dtype != sent.dtype:
            return fail(Check.INPUTS_UNCHANGED, hidden,
                        detail=f"modified its input '{name}' in place (its shape or dtype changed)")
        same = now == sent
        if sent.dtype.kind in "fc":
            same |= np.isnan(now) & np.isnan(sent)
        changed = ~same
        first = _first_index(changed)
        where = f" at {_index(first)}" if sent.ndim else ""
        return fail(Check.INPUTS_UNCHANGED, hidden, detail=(
            f"modified its input '{name}' in place ({int(changed.sum())} of {changed.size} entries changed; "
            f"first{where}: was {_number(sent[first])}, now {_number(now[first])})"))
    return None


# --------------------------------------------------------------------------- known mistakes


def same_failure(case: Case, student: tuple[Verdict, Observed], mistake: tuple[Verdict, Observed]) -> bool:
    """True when the student failed this case exactly the way the mistake does."""
    (sv, so), (mv, mo) = student, mistake
    if sv.passed or mv.passed or sv.check != mv.check or so.status != mo.status:
        return False
    if so.status is CallStatus.RAISED:  # the same exception with the same message (numpy's names the shapes)
        return _first_line(so.error) == _first_line(mo.error) != ""
    if so.status is not CallStatus.OK or so.value is None or mo.value is None:
        return False
    return outputs_agree(so.value, mo.value, case.tolerance)


def outputs_agree(a: np.ndarray, b: np.ndarray, tolerance: CaseTolerance) -> bool:
    """Same shape and allclose within the case tolerance (NaN matches NaN; bools as 0/1)."""
    a, b = np.asarray(a), np.asarray(b)
    if a.shape != b.shape:
        return False
    with np.errstate(all="ignore"):  # as in compare_case: overflow is an answer, not a warning
        return bool(np.allclose(_as_float(a), _as_float(b), rtol=tolerance.rtol, atol=tolerance.atol, equal_nan=True))


# Checks specific enough that failing the same one hints at the same mistake even when the
# outputs differ (two mistakes at once give an output neither gives alone). `values` is
# left out: nearly every mistake fails it, so it says nothing about which.
TELLING_CHECKS = frozenset({Check.FINITE, Check.DTYPE, Check.EXACT_INTEGER, Check.SHAPE, Check.NON_NEGATIVE,
                            Check.SHIFT_INVARIANT, Check.INPUTS_UNCHANGED, Check.RETURN})


@dataclass(frozen=True)
class MistakeMatch:
    """A known mistake that explains a failed case: `exact` when the outputs agree, else the same telling check."""

    name: str
    exact: bool


def same_check(student: tuple[Verdict, Observed], mistake: tuple[Verdict, Observed], expected=None) -> bool:
    """True when both failed the same telling check (for an exception: of the same type), or both
    failed `values` with outputs of the same traits, which the expected output does not have
    (both sum to 1 over the whole array, where each row should: `output_traits`)."""
    (sv, so), (mv, mo) = student, mistake
    if sv.passed or mv.passed or sv.check != mv.check:
        return False
    if sv.check is Check.ERROR:
        return exception_type(so.error) == exception_type(mo.error) != ""
    if sv.check is Check.VALUES and expected is not None and so.value is not None and mo.value is not None:
        traits = output_traits(so.value)
        return bool(traits) and traits == output_traits(mo.value) and traits != output_traits(expected)
    return sv.check in TELLING_CHECKS


def output_traits(value: Any) -> frozenset[str]:
    """What an output is normalised to: the axes (or "all") along which it sums to 1, has mean 0, or
    standard deviation 1. Two wrong outputs with the same traits went wrong the same way."""
    a = np.asarray(value)
    if a.dtype.kind not in "fiu" or a.ndim == 0 or a.size < 2 or not np.all(np.isfinite(a)):
        return frozenset()
    a = a.astype(np.float64)
    traits = set()
    with np.errstate(all="ignore"):
        for axis in [*range(a.ndim), None]:
            if axis is not None and a.shape[axis] < 2:
                continue
            name = "all" if axis is None else str(axis)
            if np.allclose(a.sum(axis=axis), 1.0, rtol=0, atol=1e-6):
                traits.add(f"sums to 1 along {name}")
            if np.allclose(a.mean(axis=axis), 0.0, rtol=0, atol=1e-6):
                traits.add(f"mean 0 along {name}")
            if np.allclose(a.std(axis=axis), 1.0, rtol=0, atol=1e-3):
                traits.add(f"std 1 along {name}")
    return frozenset(traits)


def match_mistakes(
    cases: Sequence[Case],
    student: Mapping[str, tuple[Verdict, Observed]],
    mistakes: Mapping[str, Mapping[str, tuple[Verdict, Observed]]],
    expected: Mapping[str, Any] | None = None,
) -> tuple[dict[str, list[MistakeMatch]], list[str]]:
    """Every known mistake each failed case matches, and all of them ranked, most likely first.

    A case matches a mistake exactly when it fails the same way with the same output;
    a case no mistake matches exactly may match one that fails the same telling check,
    or the values check with outputs of the same traits (two mistakes made at once give
    an output neither gives alone, but each leaves its trace). Ranking: the mistakes that
    explain the most failures exactly come first, then the most failures at all, then the
    order the exercise declares them in; for a public case's matches, only public failures
    count (hidden cases never change visible text).
    """
    exact: dict[str, list[str]] = {}
    for case in cases:
        mine = student.get(case.name)
        if mine is None or mine[0].passed:
            continue
        exact[case.name] = [name for name, outcomes in mistakes.items()
                            if case.name in outcomes and same_failure(case, mine, outcomes[case.name])]
    loose: dict[str, list[str]] = {}
    for case in cases:
        mine = student.get(case.name)
        if mine is None or mine[0].passed or exact.get(case.name):
            continue
        want = (expected or {}).get(case.name)
        loose[case.name] = [name for name, outcomes in mistakes.items()
                            if case.name in outcomes and same_check(mine, outcomes[case.name], want)]
    order = {name: i for i, name in enumerate(mistakes)}

    def ranking(counted: set[str]):
        """Most failures explained exactly, then at all, among the cases `counted`; then the declared order."""
        exact_count = {name: sum(name in exact.get(c, ()) for c in counted) for name in mistakes}
        any_count = {name: exact_count[name] + sum(name in loose.get(c, ()) for c in counted) for name in mistakes}
        return (lambda name: (-exact_count[name], -any_count[name], order[name])), any_count

    rank, any_count = ranking({c.name for c in cases})
    # A public case's message is ranked on public evidence alone: what hidden cases did must not
    # change visible text, and the student edition, which has no hidden case, names the same mistake.
    rank_public, _ = ranking({c.name for c in cases if c.visibility == "public"})
    matches: dict[str, list[MistakeMatch]] = {}
    for case in cases:
        key = rank_public if case.visibility == "public" else rank
        if exact.get(case.name):
            matches[case.name] = [MistakeMatch(n, True) for n in sorted(exact[case.name], key=key)]
        elif loose.get(case.name):
            matches[case.name] = [MistakeMatch(n, False) for n in sorted(loose[case.name], key=key)]
    ranked = sorted((name for name in mistakes if any_count[name]), key=rank)
    return matches, ranked


def name_mistakes(
    cases: Sequence[Case],
    student: Mapping[str, tuple[Verdict, Observed]],
    mistakes: Mapping[str, Mapping[str, tuple[Verdict, Observed]]],
) -> dict[str, str]:
    """Case name -> the known mistake its failure matches exactly, the most likely one (match_mistakes)."""
    matches, _ = match_mistakes(cases, student, mistakes)
    return {case: found[0].name for case, found in matches.items() if found and found[0].exact}


# --------------------------------------------------------------------------- errors and display


def exception_type(error: str) -> str:
    """'ValueError' from the child's 'ValueError: message\\nTraceback ...' text."""
    head = _first_line(error)
    return head.split(":", 1)[0].strip() if head else ""


def student_line(error: str) -> str:
    """'line 7' of the innermost frame in the trimmed traceback ('' when there is none)."""
    import re

    found = re.findall(r'File "[^"]*", line (\d+)', error or "")
    return f"line {found[-1]}" if found else ""


def _raised(error: str) -> str:
    """'ValueError: bad axis (line 7)' from the child's error text (public cases only)."""
    name, line = exception_type(error) or "an exception", student_line(error)
    where = f" ({line})" if line else ""
    return f"{_first_line(error) or name}{where}"


def _first_line(text: str) -> str:
    text = (text or "").strip()
    return text.splitlines()[0].strip() if text else ""


def _as_float(a: np.ndarray) -> np.ndarray:
    a = np.asarray(a)
    if a.dtype.kind in "fc":
        return a
    return a.astype(np.float64)


def worst_entry(a: np.ndarray, e: np.ndarray, wrong: np.ndarray) -> tuple[tuple, str, float]:
    """(index, "relative" | "absolute", error) of the wrong entry with the largest error.

    The index is numpy's (from 0), as messages print it ("at [2, 5]"); the feedback
    pictures mark the same entry (course.plots.feedback), so text and picture agree.
    """
    a, e = _as_float(a), _as_float(e)
    with np.errstate(all="ignore"):
        err = np.abs(a - e)
        err = np.where(np.isnan(err), np.inf, err)
        nonzero = wrong & (e != 0) & np.isfinite(e)
        if nonzero.any():
            rel = np.where(nonzero, err / np.where(nonzero, np.abs(e), 1.0), -1.0)
            where = np.unravel_index(int(np.argmax(rel)), a.shape) if a.ndim else ()
            return tuple(int(i) for i in where), "relative", float(rel[where])
        masked = np.where(wrong, err, -1.0)
        where = np.unravel_index(int(np.argmax(masked)), a.shape) if a.ndim else ()
        return tuple(int(i) for i in where), "absolute", float(masked[where])


def named_entry(value: Any, expected: Any, case: Case, check: str) -> tuple | None:
    """The entry a failed public case's message names: the first inf/NaN for `finite`, the
    largest error for `values`; None for other checks (or a single number)."""
    value, expected = np.asarray(value), np.asarray(expected)
    if value.ndim == 0 or value.shape != expected.shape:
        return None
    if check == Check.FINITE and value.dtype.kind in "fc":
        bad = ~np.isfinite(value) & np.isfinite(expected)
        return _first_index(bad) if bad.any() else None
    if check == Check.VALUES and value.dtype.kind in "biuf" and expected.dtype.kind in "biuf":
        if Check.EXACT_INTEGER in case.checks or expected.dtype.kind == "b":
            wrong = value != expected
            return _first_index(wrong) if wrong.any() else None
        tol = case.tolerance
        wrong = ~np.isclose(_as_float(value), _as_float(expected), rtol=tol.rtol, atol=tol.atol, equal_nan=True)
        return worst_entry(value, expected, wrong)[0] if wrong.any() else None
    return None


def _worst_error(a: np.ndarray, e: np.ndarray, wrong: np.ndarray) -> str:
    """'max relative error 3.2e-01 at [2, 5]: got ..., expected ...' over the wrong entries."""
    where, kind, size = worst_entry(a, e, wrong)
    text = f"max {kind} error {size:.1e}"
    at = f" at {_index(where)}" if a.ndim else ""
    digits = _digits_to_tell_apart(a[where], e[where])
    return f"{text}{at}: got {_number(a[where], digits)}, expected {_number(e[where], digits)}"


def _digits_to_tell_apart(a: Any, e: Any) -> int:
    """Enough significant digits that two different numbers do not print the same."""
    with np.errstate(all="ignore"):
        a, e = float(np.real(a)), float(np.real(e))
        scale = max(abs(a), abs(e))
        if not np.isfinite(scale) or scale == 0 or a == e:
            return 6
        return int(min(17, max(6, np.ceil(np.log10(scale / abs(a - e))) + 2)))


def _both_arrays(value: np.ndarray, expected: np.ndarray) -> str:
    """Both arrays, trimmed; nothing when they would print the same (differences below 4 digits)."""
    if format_array(value) == format_array(expected):
        return ""
    return "\n" + _labelled("got:      ", value) + "\n" + _labelled("expected: ", expected)


def _labelled(label: str, a: np.ndarray) -> str:
    text = np.array2string(np.asarray(a), **_PRINT)
    return label + text.replace("\n", "\n" + " " * len(label))


def format_array(a: Any) -> str:
    """An array trimmed for display (public inputs in messages and reports)."""
    return np.array2string(np.asarray(a), **_PRINT)


def _shape_text(shape: tuple) -> str:
    return "() (a single number)" if shape == () else str(tuple(int(n) for n in shape))


def _index(where: tuple) -> str:
    return "[" + ", ".join(str(int(i)) for i in where) + "]"


def _first_index(mask: np.ndarray) -> tuple:
    if mask.ndim == 0:
        return ()
    return tuple(int(i) for i in np.argwhere(mask)[0])


def _number(x: Any, digits: int = 6) -> str:
    x = np.asarray(x)[()]
    if isinstance(x, (bool, np.bool_)):
        return str(bool(x))
    if isinstance(x, (int, np.integer)):
        return f"{int(x)}"
    if isinstance(x, (float, np.floating)):
        f = float(x)
        return repr(f) if (f.is_integer() and abs(f) < 1e16) else f"{f:.{digits}g}"
    return str(x)


def _largest_input(args: Sequence[Any]) -> float | None:
    sizes = [float(np.max(np.abs(a))) for a in args if isinstance(a, np.ndarray) and a.size and a.dtype.kind in "iuf"]
    return max(sizes) if sizes else None
