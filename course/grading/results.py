"""What a check produces: small typed records, one JSON shape, one HTML view.

Kept free of numpy so that reports, batch grading and notebooks can hold results
without paying for the grader's imports. Every renderer (course/reports/) reads
these records; none of them recomputes a verdict.
"""
from __future__ import annotations

from dataclasses import dataclass, field

from course.status import Status  # noqa: F401 (results carry it: `from course.grading.results import Status`)

MAX_OUTPUT_CHARS = 4000  # captured stdout/stderr kept in a result (head and tail)


EXIT_PASSED, EXIT_FAILED, EXIT_USAGE, EXIT_COULD_NOT_GRADE, EXIT_INTERRUPTED = 0, 1, 2, 3, 130


def exit_code(statuses) -> int:
    """The command's exit code for these outcomes: 3 when any could not be graded (the
    grader's failure comes first: the rest may be fine), 0 when all passed, else 1."""
    statuses = list(statuses)
    if any(s is Status.COULD_NOT_GRADE for s in statuses):
        return EXIT_COULD_NOT_GRADE
    return EXIT_PASSED if statuses and all(s is Status.PASSED for s in statuses) else EXIT_FAILED


@dataclass(frozen=True)
class CaseResult:
    """One case's verdict. `check` names the first check that failed ("" when passed)."""

    name: str
    visibility: str  # "public" | "hidden": hidden messages never show inputs or expected values
    points: float
    score: float
    passed: bool
    check: str | None  # a Check's value; None when the case passed
    message: str
    mistake: str = ""  # the known mistake this failure matches, "" when none
    advice: str = ""  # that mistake's message: what to change

    def as_dict(self) -> dict:
        return {
            "name": self.name,
            "visibility": self.visibility,
            "passed": self.passed,
            "score": float(self.score),
            "max_score": float(self.points),
            "check": self.check,
            "message": self.message,
            "mistake": self.mistake or None,
            "advice": self.advice or None,
        }


@dataclass(frozen=True)
class Isolation:
    """How strongly the child was isolated (docs/sandbox.md has the table of guarantees).

    level: "root" (namespaces, a uid of the sandbox's own), "userns" (namespaces inside a
    user namespace of its own) or "none" (rlimits, a timeout and a kill only).
    sandbox_limits: memory and processes are capped for the sandbox as a whole (cgroups),
    not only per process.
    """

    namespaces: bool
    detail: str = ""
    level: str = "none"
    sandbox_limits: bool = False

    def as_dict(self) -> dict:
        return {"namespaces": self.namespaces, "level": self.level, "sandbox_limits": self.sandbox_limits,
                "detail": self.detail}


@dataclass(frozen=True)
class Showcase:
    """What the submission's code does, shown after the grade (an exercise's `showcase` hook,
    e.g. the text a student's model generates). Never part of a grade."""

    title: str
    text: str

    def as_dict(self) -> dict:
        return {"title": self.title, "text": self.text}


@dataclass(frozen=True)
class CheckResult:
    """Everything `course check` knows about one submission of one exercise."""

    exercise: str
    status: Status
    score: float
    max_score: float
    cases: tuple[CaseResult, ...]
    load_error: str = ""  # why the submission could not be loaded at all (trimmed to the student's file)
    traceback: str = ""  # the first exception a call raised, trimmed to the student's file
    output: str = ""  # what the submission printed (trimmed); withheld when hidden cases ran
    isolation: Isolation | None = None  # None: the submission was never run (not attempted)
    seconds: float = 0.0
    advice: tuple[str, ...] = ()  # messages of the known mistakes the failures match
    hints: tuple[int, ...] = ()  # 1-based hint numbers that help with the failed cases
    submission: str = ""  # the file (or function) that was graded, for display
    notes: tuple[str, ...] = field(default=())  # anything else the student should know
    showcase: Showcase | None = None  # what the code does, after the grade (course check only)

    @property
    def passed(self) -> bool:
        return self.status is Status.PASSED

    def as_dict(self) -> dict:
        """The JSON shape of `course check --format json` (documented in the CLI contract)."""
        return {
            "exercise": self.exercise,
            "status": self.status.value,
            "passed": self.passed,
            "score": self.score,
            "max_score": self.max_score,
            "cases": [case.as_dict() for case in self.cases],
            "advice": list(self.advice),
            "hints": list(self.hints),
            "load_error": self.load_error or None,
            "traceback": self.traceback or None,
            "output": self.output,
            "isolation": self.isolation.as_dict() if self.isolation else None,
            "seconds": round(self.seconds, 3),
            "submission": self.submission,
            "notes": list(self.notes),
            "showcase": self.showcase.as_dict() if self.showcase else None,
        }




def trim_output(text: str, limit: int = MAX_OUTPUT_CHARS) -> str:
    """Head and tail of a long output, with the number of characters left out."""
    if len(text) <= limit:
        return text
    half = limit // 2
    return f"{text[:half]}\n... [{len(text) - limit} characters not shown] ...\n{text[-half:]}"
