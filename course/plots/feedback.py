"""Feedback pictures for a failing submission: what `course check --plots DIR` draws.

One or two pictures per failing *public* case, drawn in the trusted parent from the
arrays a CheckDetails holds (the inputs the parent generated, the expected outputs it
computed, the student's raw outputs and probe outcomes from the sandbox). Hidden
cases have no arrays in a CheckDetails, so they get no picture.

Which pictures explain a failure is the exercise's own knowledge: its feedback.py
(course.grading.hooks: `panels`, `exercise_panels`, `CAPTIONS`) draws them with the
shared kit (course.plots.kit). The engine itself draws only what fits any exercise:

    values   expected vs yours (heatmaps for 2-D and more, points for 1-D), for an
             exercise without its own pictures
    inputs   when the only fault is a changed argument, its values before and after

Files are named `<exercise>-<case>-<kind>.png` (`plot_name`), at least 1280 pixels wide,
each with an SVG of the same name beside it. Indices in titles are numpy's, from 0, as
in the case messages ("at [0, 3]"), and the entry a message names is the one marked.
matplotlib is imported only when something is drawn; the look comes from
course.plots.style.
"""
from __future__ import annotations

import contextlib
import functools
from pathlib import Path
from typing import TYPE_CHECKING, Callable

from course.grading.checks import Check
from course.grading.hooks import hook
from course.grading.sandbox.records import CallStatus
from course.plots import kit, style

if TYPE_CHECKING:  # pragma: no cover
    from course.grading.details import CheckDetails
    from course.model import Exercise

# What each kind of picture shows (captions in the HTML report).
PLOT_KINDS = {
    "values": "expected vs your output",
    "inputs": "your function's argument before and after the call",
}
ALL_FAILING = "failing_configs"  # the "case" part of a picture about several cases


def captions(exercise: "Exercise") -> dict[str, str]:
    """What each kind of picture of this exercise shows: ours, overridden by the exercise's own CAPTIONS."""
    return {**PLOT_KINDS, **dict(hook(exercise, "CAPTIONS") or {})}


def caption(exercise: "Exercise", kind: str) -> str:
    """What a picture of this kind shows: the exercise's own CAPTIONS first, then ours."""
    return captions(exercise).get(kind, kind)


def plot_name(exercise_id: str, case: str, kind: str) -> str:
    """The file name of one picture: exercise, case and kind."""
    return f"{exercise_id}-{case}-{kind}.png"


def plot_case(path: Path | str, exercise_id: str, case_names) -> str | None:
    """The case a picture file is about (the longest matching name), or None (an exercise-wide picture)."""
    name = Path(path).name
    matches = [case for case in case_names if name.startswith(f"{exercise_id}-{case}-")]
    return max(matches, key=len) if matches else None


def remove_old_plots(exercise: "Exercise", out_dir: Path | str) -> list[Path]:
    """Delete the pictures an earlier check of `exercise` left in `out_dir` (only files named like ours)."""
    out_dir = Path(out_dir)
    if not out_dir.is_dir():
        return []
    cases = [case.name for case in exercise.cases] + [ALL_FAILING]
    removed = []
    for path in [*out_dir.glob(f"{exercise.id}-*.png"), *out_dir.glob(f"{exercise.id}-*.svg")]:
        case = plot_case(path, exercise.id, cases)
        kinds = set(captions(exercise))
        if case is not None and path.stem[len(f"{exercise.id}-{case}-"):] in kinds:
            path.unlink()
            removed.append(path)
    return removed


def feedback_plots(exercise: "Exercise", details: "CheckDetails", out_dir: Path | str, *,
                   svg: bool = True) -> list[Path]:
    """Draw the pictures for every failing public case into `out_dir`; return the files written.

    Nothing is drawn (and [] returned) when no public case failed. A picture that cannot
    be drawn is skipped with a note in `details.notes`: pictures never cost a grade.
    svg=False writes the PNGs alone (pictures only embedded in an HTML page).
    """
    failing = [case for case in details.failing() if case.got is not None]
    if not failing:
        return []
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    paths: list[Path] = []
    with style.themed(), (contextlib.nullcontext() if svg else style.png_only()):
        for case in failing:
            for kind, draw in _drawers(exercise, case):
                target = out_dir / plot_name(exercise.id, case.name, kind)
                paths += _attempt(details, target, functools.partial(draw, exercise, case, target))
        whole = hook(exercise, "exercise_panels")
        if whole is not None:
            try:
                paths += list(whole(exercise, details, failing, out_dir) or [])
            except Exception as error:  # pictures are extras
                style.pyplot().close("all")
                details.notes.append(f"pictures of {exercise.id} not drawn: {type(error).__name__}: {error}")
    return paths


def _attempt(details, target: Path, draw: Callable[[], Path | None]) -> list[Path]:
    try:
        path = draw()
    except Exception as error:  # a picture is an extra: say so and go on
        style.pyplot().close("all")
        details.notes.append(f"{target.name} not drawn: {type(error).__name__}: {error}")
        return []
    return [path] if path is not None else []


def _drawers(exercise, case) -> list[tuple[str, Callable]]:
    """(kind, drawer) pairs for one failing case: which pictures explain this failure."""
    if case.got.status is not CallStatus.OK or case.got.value is None:
        return []  # it raised or did not run: the message and traceback say it all
    if case.check == Check.INPUTS_UNCHANGED:
        return [("inputs", _inputs)]
    panels = hook(exercise, "panels")
    if panels is not None:  # the exercise's own pictures (exercises/<id>/feedback.py)
        return list(panels(case) or []) or [("values", _generic_values)]
    return [("values", _generic_values)]


# --------------------------------------------------------------------------- helpers
# The kit's helpers under short names.
_np, _floats, _title, _head = kit.numpy, kit.floats, kit.figure_title, kit.headline


# --------------------------------------------------------------------------- any exercise

def _generic_values(exercise, case, target: Path) -> Path | None:
    np = _np()
    expected, yours = _floats(case.expected), _floats(case.got.value)
    if yours is None or yours.shape != expected.shape:
        return None
    if expected.ndim >= 2:
        return kit.table_heatmaps(exercise, case, target, "Column (last axis)", "Row", "expected vs your output",
                               signed=bool(np.min(expected) < 0))
    fig, ax = style.new_axes(_title(exercise, case, "expected vs your output"), "Entry", "Value")
    e, y = expected.reshape(-1), yours.reshape(-1)
    positions = np.arange(e.size)
    ax.plot(positions, e, linestyle="", marker="o", markersize=8, markerfacecolor="white",
            markeredgecolor=style.EXPECTED_COLOUR, markeredgewidth=1.8, label="expected")
    ax.plot(positions, np.where(np.isfinite(y), y, np.nan), linestyle="", marker="x", markersize=7,
            color=style.YOURS_COLOUR, markeredgewidth=1.8, label="yours")
    ax.legend(loc="best")
    style.finish(fig, _head(case.message, 230))
    return style.save(fig, target)[0]


# --------------------------------------------------------------------------- changed inputs


def _inputs(exercise, case, target: Path) -> Path | None:
    from course.grading.compare import argument_names

    np = _np()
    names = argument_names(exercise.signature)
    positional = [(names[i] if i < len(names) else f"argument {i + 1}", sent, after)
                  for i, (sent, after) in enumerate(zip(case.args, case.got.args_after))]
    keywords = [(name, sent, case.got.kwargs_after.get(name)) for name, sent in case.kwargs.items()]
    for name, sent, after in positional + keywords:  # keyword arrays (a mask) are inputs too
        before = _floats(sent) if isinstance(sent, np.ndarray) else None
        changed = _floats(after) if after is not None else None
        if before is None or changed is None or before.shape != changed.shape:
            continue
        if np.array_equal(before, changed, equal_nan=True):
            continue
        fig, ax = style.new_axes(_title(exercise, case, f"your function changed its argument '{name}'"),
                                 f"Element of {name} (flattened)", "Value")
        positions = np.arange(before.size)
        ax.plot(positions, before.reshape(-1), linestyle="", marker="o", markersize=7, markerfacecolor="white",
                markeredgecolor=style.EXPECTED_COLOUR, markeredgewidth=1.6, label="as sent (must stay so)")
        ax.plot(positions, changed.reshape(-1), linestyle="", marker="x", markersize=6, color=style.YOURS_COLOUR,
                markeredgewidth=1.6, label="after your call")
        ax.legend(loc="best")
        style.finish(fig, "Your output values are right, but the caller's array changed: build new arrays "
                          "(x - m) instead of updating in place (x -= m).")
        return style.save(fig, target)[0]
    return None
