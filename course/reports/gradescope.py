"""`--format gradescope`: Gradescope's autograder results.json.

https://gradescope-autograders.readthedocs.io/en/latest/specs/ - top level `score`,
`output`, `tests`; each test `name`, `score`, `max_score`, `status`, `output` and
`visibility`. Public cases are "visible". Hidden cases are "after_published": the
student sees them (name and kind of failure only: our hidden messages never hold
inputs or expected values) once the instructor publishes grades, as Gradescope's
own hidden-test convention; "hidden" would hide them from the student for good.
The submission's printed output is never shown to students (`stdout_visibility`).
"""
from __future__ import annotations

import json

from course.grading.results import CheckResult
from course.reports import Results, as_list

VISIBILITY = {"public": "visible", "hidden": "after_published"}


def render(result_or_results: Results) -> str:
    results = as_list(result_or_results)
    several = len(results) > 1
    tests = []
    for result in results:
        for case in result.cases:
            tests.append(_test(result, case, several))
    summary = [_summary(r) for r in results]
    data = {
        "score": sum(r.score for r in results),
        "max_score": sum(r.max_score for r in results),
        "execution_time": round(sum(r.seconds for r in results), 3),
        "output": "\n\n".join(summary),
        "visibility": "visible",
        "stdout_visibility": "hidden",
        "tests": tests,
    }
    return json.dumps(data, indent=2, ensure_ascii=False) + "\n"


def _test(result: CheckResult, case, several: bool) -> dict:
    output = case.message
    if case.advice:
        output += "\n\n" + case.advice
    return {
        "name": f"{result.exercise}: {case.name}" if several else case.name,
        "score": case.score,
        "max_score": case.points,
        "status": "passed" if case.passed else "failed",
        "output": output,
        "visibility": VISIBILITY.get(case.visibility, "after_published"),
    }


def _summary(result: CheckResult) -> str:
    lines = [f"{result.exercise}: {result.status.value.replace('_', ' ')}, {result.score:g}/{result.max_score:g}"]
    for text in (result.load_error, result.traceback):
        if text:
            lines.append(text)
    lines += list(result.advice) + list(result.notes)
    return "\n".join(lines)
