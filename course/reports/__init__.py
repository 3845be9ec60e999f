"""Renderers of check results: text (people), JSON, JUnit XML and Gradescope (machines).

Each module has one function, `render(result_or_results) -> str`; none of them judges
anything, they only lay out what course.grading.results holds.
"""
from __future__ import annotations

from typing import Sequence, Union

from course.grading.results import CheckResult

Results = Union[CheckResult, Sequence[CheckResult]]

FORMATS = ("text", "json", "junit", "gradescope")


def as_list(result_or_results: Results) -> list[CheckResult]:
    """One result or many, as a list (batch grading passes many)."""
    if isinstance(result_or_results, CheckResult):
        return [result_or_results]
    return list(result_or_results)


def render(fmt: str, result_or_results: Results, **options) -> str:
    """Render in the named format (one of FORMATS)."""
    import importlib

    if fmt not in FORMATS:
        raise ValueError(f"unknown report format {fmt!r}; expected one of {', '.join(FORMATS)}")
    module = importlib.import_module(f"course.reports.{fmt}")
    return module.render(result_or_results, **options)
