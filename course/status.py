"""An exercise's status: one enum, with the value results and the progress store keep and
the words people read.

    member            value (JSON, CSV, the store)   label (a check's report)   standing (`course exercises`)
    PASSED            passed                         passed                     passed
    FAILED            failed                         failed                     failing
    ERROR             error                          error                      failing
    NOT_ATTEMPTED     not_attempted                  not attempted              not attempted
    COULD_NOT_GRADE   could_not_grade                could not grade            (never stored)
    NOT_STARTED       not_started                    not started                not started (no check yet)

A check's report says what one check found ("failed"); the listing of exercises says
where the student stands with their own file ("failing": an error counts as failing
too). Both come from here. Kept free of imports: `course --help` may pass through.
"""
from __future__ import annotations

from enum import Enum


class Status(str, Enum):
    """The outcome of checking one exercise, and where a student stands with it."""

    PASSED = "passed"  # every case passed
    FAILED = "failed"  # it ran, and at least one case failed
    NOT_ATTEMPTED = "not_attempted"  # still the starter, or every call raised NotImplementedError
    ERROR = "error"  # does not load (syntax error, import error, missing function) or the child crashed
    COULD_NOT_GRADE = "could_not_grade"  # the grader failed, not the submission: never a grade, retry
    NOT_STARTED = "not_started"  # progress only: no check of the student's own file yet (never a check's outcome)

    def __str__(self) -> str:
        return self.value

    @property
    def label(self) -> str:
        """How a check's report writes it: 'passed', 'failed', 'not attempted', 'could not grade'."""
        return self.value.replace("_", " ")

    @property
    def standing(self) -> str:
        """How the list of exercises and `course progress` write it: 'failing' for a failed or erroring check."""
        return "failing" if self in (Status.FAILED, Status.ERROR) else self.label

    @property
    def kept(self) -> bool:
        """Whether a check with this outcome is kept in the progress store (it says something about the work)."""
        return self not in (Status.COULD_NOT_GRADE, Status.NOT_STARTED)


STORED = tuple(status.value for status in Status if status.kept)  # what the store's status column may hold
