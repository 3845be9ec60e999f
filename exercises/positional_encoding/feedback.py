"""positional_encoding's picture: the expected and the student's tables, and their difference.

Trusted instructor code of this exercise (course.grading.hooks): loaded in the grader,
never in the sandbox, and called for public cases only.
"""
from __future__ import annotations

from pathlib import Path

from course.plots import kit

CAPTIONS = {"heatmaps": "expected vs your table and their difference"}


def panels(case):
    return [("heatmaps", _encoding_heatmaps)]


def _encoding_heatmaps(exercise, case, target: Path) -> Path | None:
    return kit.table_heatmaps(exercise, case, target, "Column (embedding dimension)", "Position",
                           "expected vs your positional encodings", signed=True, value_name="Encoding value")

