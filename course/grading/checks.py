"""Every way a case can fail, each with its public and its hidden message: one table.

A case's verdict names the first check it failed (course.grading.compare runs them in
the order below). What the student reads comes from this table only:

- a public case gets the public template, filled with the details of the failure
  ("got shape (4,), expected (4, 7)");
- a hidden case gets the hidden text, which is a constant: nothing the submission did
  on the hidden inputs (its messages, type names, tracebacks, output, shapes or
  values) can reach the student through it. That holds by construction:
  `message()` never formats a hidden text, and a test checks that none has a field.
"""
from __future__ import annotations

import enum
from dataclasses import dataclass


class Check(str, enum.Enum):
    """The name of a failed check, as reports show it (`case.check`)."""

    # the case could not be judged on its output
    NOT_SUBMITTED = "not_submitted"  # no file for this exercise (batch grading)
    UNREADABLE = "unreadable"  # the file was refused before grading (size, encoding, link, ...)
    NOT_ATTEMPTED = "not_attempted"  # still the starter, or every call raises NotImplementedError
    COULD_NOT_GRADE = "could_not_grade"  # the grader failed (the sandbox could not start, ...)
    LOAD = "load"  # importing the file failed, so no case ran
    NOT_RUN = "not_run"  # the call never returned (time limit, crash, exit)
    ERROR = "error"  # the call raised
    RETURN = "return"  # the call returned something that is not a numeric array
    # the output, in the order compare_case checks it
    SHAPE = "shape"
    DTYPE = "dtype"
    EXACT_INTEGER = "exact_integer"
    FINITE = "finite"
    VALUES = "values"
    SUMS_TO_ONE = "sums_to_one"
    NON_NEGATIVE = "non_negative"
    SHIFT_INVARIANT = "shift_invariant"
    INPUTS_UNCHANGED = "inputs_unchanged"

    def __str__(self) -> str:
        return self.value


@dataclass(frozen=True)
class Template:
    public: str  # str.format fields, filled by the check
    hidden: str  # constant text: never formatted


TEMPLATES: dict[Check, Template] = {
    Check.NOT_SUBMITTED: Template("{detail}", "not submitted"),
    Check.UNREADABLE: Template("{detail}", "the file could not be read"),
    Check.NOT_ATTEMPTED: Template("{detail}", "not attempted"),
    Check.COULD_NOT_GRADE: Template("could not be graded: {detail}", "could not be graded"),
    Check.LOAD: Template("not run: the file could not be loaded ({detail})", "not run: the file could not be loaded"),
    Check.NOT_RUN: Template("{detail}", "did not run to completion"),
    Check.ERROR: Template("raised {detail}", "raised an exception"),
    Check.RETURN: Template("{detail}: return a numpy array (or a number)",
                           "did not return a numeric array: return a numpy array (or a number)"),
    Check.SHAPE: Template("got shape {got}, expected {expected}", "wrong shape"),
    Check.DTYPE: Template("expected {expected}, got {got}", "wrong dtype"),
    Check.EXACT_INTEGER: Template("expected an exact integer (Python int), got {got}",
                                  "not an exact integer"),
    Check.FINITE: Template("{detail}", "contains NaN or inf"),
    Check.VALUES: Template("{detail}", "values differ from the expected output"),
    Check.SUMS_TO_ONE: Template("does not sum to 1 along axis {axis}: {detail}", "does not sum to 1 along the axis"),
    Check.NON_NEGATIVE: Template("contains negative values ({detail})", "contains negative values"),
    Check.SHIFT_INVARIANT: Template("{detail}", "changes when a constant is added to the input"),
    Check.INPUTS_UNCHANGED: Template("{detail}", "modified an input in place"),
}


def message(check: Check, hidden: bool, **fields: object) -> str:
    """The student-facing text of a failed check: the hidden constant, or the filled public template."""
    template = TEMPLATES[check]
    if hidden:
        return template.hidden
    return template.public.format(**fields)
