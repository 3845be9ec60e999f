"""`--format gradescope`: Gradescope's autograder results.json.

https://gradescope-autograders.readthedocs.io/en/latest/specs/ - top level `score`,
`output`, `tests`; each test `name`, `score`, `max_score`, `status`, `output` and
`visibility`. Public cases are "visible". Hidden cases are "after_published": the
student sees them (name and kind of failure only: our hidden messages never hold
inputs or expected values) once the instructor publishes grades, as Gradescope's
own hidden-test convention; "hidden" would hide them from the student for good.
The submission's printed output is never shown to students (`stdout_visibility`).

Outputs are Markdown (`output_format: md`, on the whole and on every test): what
the grader wrote is prose, and everything that came from the submission (messages,
tracebacks, printed values) sits in a fenced code block whose fence is longer than
any run of backticks inside it, so a submission cannot write Markdown or HTML into
the page.
"""
from __future__ import annotations

import json
import re

from course.grading.results import CheckResult
from course.reports import Results, as_list

VISIBILITY = {"public": "visible", "hidden": "after_published"}
FORMAT = "md"


def render(result_or_results: Results, *, output: str = "", extra_tests: list[dict] | None = None) -> str:
    """The results.json text. output: Markdown put before the per-exercise summary;
    extra_tests: tests to list first (the autograder's "could not find your file")."""
    results = as_list(result_or_results)
    several = len(results) > 1
    tests = list(extra_tests or [])
    for result in results:
        for case in result.cases:
            tests.append(_test(result, case, several))
    summary = [_summary(r) for r in results]
    data = {
        "score": sum(r.score for r in results),
        "max_score": sum(r.max_score for r in results),
        "execution_time": round(sum(r.seconds for r in results), 3),
        "output": "\n\n".join(([output] if output else []) + summary),
        "output_format": FORMAT,
        "test_output_format": FORMAT,
        "visibility": "visible",
        "stdout_visibility": "hidden",
        "tests": tests,
    }
    return json.dumps(data, indent=2, ensure_ascii=False) + "\n"


def code_block(text: str) -> str:
    """Untrusted text as a Markdown code block it cannot break out of."""
    longest = max((len(run) for run in re.findall(r"`+", text)), default=0)
    fence = "`" * max(3, longest + 1)
    return f"{fence}text\n{text.rstrip()}\n{fence}"


def _test(result: CheckResult, case, several: bool) -> dict:
    output = code_block(case.message) if case.message else ""
    if case.advice:
        output += "\n\n" + code_block(case.advice)
    return {
        "name": f"{result.exercise}: {case.name}" if several else case.name,
        "score": case.score,
        "max_score": case.points,
        "status": "passed" if case.passed else "failed",
        "output": output,
        "output_format": FORMAT,
        "visibility": VISIBILITY.get(case.visibility, "after_published"),
    }


def _summary(result: CheckResult) -> str:
    lines = [f"**{result.exercise}**: {result.status.label}, {result.score:g}/{result.max_score:g}"]
    for text in (result.load_error, result.traceback):
        if text:
            lines.append(code_block(text))
    extra = list(result.advice) + list(result.notes)
    if extra:
        lines.append(code_block("\n".join(extra)))
    return "\n\n".join(lines)
