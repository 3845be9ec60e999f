"""The arrays behind a check, kept for the feedback pictures: `check_exercise(details=...)`.

A `CheckDetails` is an empty collector the caller makes only when it wants pictures
(`course check --plots/--html`, a per-student page); without one, grading does no
extra work. check_exercise fills it in the trusted parent with what it already has:
the inputs it generated, the expected outputs it computed and the student's raw
outputs that came back from the sandbox.

Hidden cases: only their names are kept. Their inputs, expected values and outputs
never enter a CheckDetails, so no picture drawn from one can reveal them.

Probes: a few extra calls of the student's function that show *how* a failing public
case fails (an attention function called with the identity as `value` returns its
attention weights; a softmax fed its input scaled up shows where exp overflows). The
exercise's feedback.py decides them (its `probes` hook, course.grading.hooks). They are
sent only for failing public cases, after grading, through the same sandbox (a second
run with the same limits and hidden paths), so they cannot change a grade.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:  # pragma: no cover
    from course.grading.compare import Observed
    from course.model import Course, Exercise


@dataclass
class CaseDetails:
    """One public case: what was sent, what was expected, what came back, and the verdict."""

    name: str
    args: tuple
    kwargs: dict
    expected: Any  # np.ndarray
    got: "Observed"
    passed: bool
    check: str  # the first check that failed ("" when passed)
    message: str
    mistake: str = ""  # the known mistake it matched, "" when none
    probes: dict[str, list[tuple[tuple, dict, "Observed"]]] = field(default_factory=dict)  # kind -> calls


@dataclass
class CheckDetails:
    """Filled by check_exercise; read by course.plots.feedback.feedback_plots."""

    exercise: str = ""
    course: "Course | None" = None  # for lesson data the pictures use (the model-size chart)
    cases: dict[str, CaseDetails] = field(default_factory=dict)  # public cases, in the exercise's order
    hidden: tuple[str, ...] = ()  # names of the hidden cases: nothing else about them is kept
    notes: list[str] = field(default_factory=list)  # e.g. why the probes could not run

    def failing(self) -> list[CaseDetails]:
        return [case for case in self.cases.values() if not case.passed]


def probe_arguments(exercise: "Exercise", case: CaseDetails) -> dict[str, list[tuple[tuple, dict]]]:
    """The extra calls worth making for one failing public case: kind -> [(args, kwargs), ...].

    The exercise's own `probes` hook (course.grading.hooks) decides; without one, none.
    """
    from course.grading.hooks import hook

    if case.passed or not case.args:
        return {}
    probes = hook(exercise, "probes")
    if probes is None:
        return {}
    try:
        return dict(probes(case) or {})
    except Exception:  # a probe is an extra: it never costs a grade
        return {}
