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

import functools
import math
from pathlib import Path
from typing import TYPE_CHECKING, Callable

from course.grading.diagnostics import COMPONENTS, count_parts, parameter_breakdown  # noqa: F401 (re-exported)
from course.grading.checks import Check
from course.grading.hooks import hook
from course.grading.sandbox.records import CallStatus
from course.numbers import count
from course.plots import kit, style

if TYPE_CHECKING:  # pragma: no cover
    from course.grading.details import CheckDetails
    from course.model import Exercise

# What each kind of picture shows (captions in the HTML report).
PLOT_KINDS = {
    "breakdown": "the expected parameters by component beside your total",
    "model_sizes": "your counts on the lesson's chart of published model sizes",
    "values": "expected vs your output",
    "inputs": "your function's argument before and after the call",
}
MODEL_SIZES_CHART = "parameter-growth"  # the lesson figure the model_sizes picture draws on
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


def feedback_plots(exercise: "Exercise", details: "CheckDetails", out_dir: Path | str) -> list[Path]:
    """Draw the pictures for every failing public case into `out_dir`; return the files written.

    Nothing is drawn (and [] returned) when no public case failed. A picture that cannot
    be drawn is skipped with a note in `details.notes`: pictures never cost a grade.
    """
    failing = [case for case in details.failing() if case.got is not None]
    if not failing:
        return []
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    paths: list[Path] = []
    with style.themed():
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
        elif exercise.id == "param_count":
            target = out_dir / plot_name(exercise.id, ALL_FAILING, "model_sizes")
            paths += _attempt(details, target, lambda: _model_sizes(exercise, details, failing, target))
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
    specific = {
        "param_count": [("breakdown", _param_breakdown)],
    }
    return specific.get(exercise.id, [("values", _generic_values)])


# --------------------------------------------------------------------------- helpers
# The kit's helpers under the names the param_count pictures below use.
_np, _floats, _title, _head, _count = kit.numpy, kit.floats, kit.figure_title, kit.headline, count


# --------------------------------------------------------------------------- param_count

def _student_total(case) -> float | None:
    np = _np()
    value = _floats(case.got.value)
    if value is None or value.size != 1:
        return None
    return float(np.asarray(value).reshape(()))


def _param_breakdown(exercise, case, target: Path) -> Path | None:
    config = case.args[0] if case.args and isinstance(case.args[0], dict) else None
    if config is None:
        return None
    parts = parameter_breakdown(config)
    expected = sum(parts.values())
    yours = _student_total(case)
    names = list(COMPONENTS) + ["expected total", "your total"]
    values = [float(v) for v in parts.values()] + [float(expected), yours if yours is not None else math.nan]
    colours = [style.tint(style.EXPECTED_COLOUR, 0.55)] * len(COMPONENTS) + [style.EXPECTED_COLOUR, style.YOURS_COLOUR]
    fig, ax = style.new_axes(_title(exercise, case, "expected parameters by component vs your total"),
                             "Parameters (log scale)", "Component", figsize=(7.2, 4.0))
    ax.set_xscale("log")
    drawable = [v if (math.isfinite(v) and v >= 1) else math.nan for v in values]
    rows = list(range(len(names)))[::-1]
    ax.barh(rows, [v if math.isfinite(v) else 0 for v in drawable], color=colours, height=0.65)
    low = min(v for v in drawable if math.isfinite(v))
    high = max(v for v in drawable if math.isfinite(v))
    ax.set_xlim(max(low / 3, 0.5), high * 60)
    ax.set_yticks(rows, labels=names)
    ax.grid(axis="y", visible=False)
    for row, name, value, shown in zip(rows, names, values, drawable):
        if name == "your total":
            text = _your_total_text(yours, expected, parts, _np().asarray(case.got.value).dtype.kind == "f", config)
        else:
            text = _count(value) + ("  (tied: none)" if name == "head" and value == 0 and config["arch"] == "gpt"
                                    else "  (no pooler)" if name == "head" and value == 0 else "")
        x = shown if math.isfinite(shown) else max(low / 3, 0.5)
        ax.text(x * 1.15, row, text, va="center", ha="left", fontsize=7.5,
                color=style.YOURS_COLOUR if name == "your total" else "#222222",
                fontweight="bold" if name.endswith("total") else "normal")
    settings = ", ".join(f"{k}={v}" for k, v in config.items())
    style.finish(fig, f"Config: {settings}. {_head(case.message, 230)}")
    return style.save(fig, target)[0]


def _your_total_text(yours: float | None, expected: int, parts: dict[str, int], is_float: bool = False,
                     config: dict | None = None) -> str:
    if yours is None:
        return "no single number returned"
    if not math.isfinite(yours):
        return f"{yours} (not a count)"
    gap = yours - expected
    if gap == 0:
        return f"{_count(yours)} (the expected number{', but a float' if is_float else ''})"
    relative = f"{100 * gap / expected:+.3g}%"
    text = f"{_count(yours)} ({_count(abs(gap))} {'fewer' if gap < 0 else 'more'}, {relative})"
    if config is not None and float(yours).is_integer():  # the case message's reading, in short
        same = [what.split(" (")[0] for what, size in count_parts(config) if size == abs(int(gap))]
        if same:
            text += f"\n= {' or '.join(same[:2])}: {'missing' if gap < 0 else 'counted twice'}?"
    if yours < 1:
        text += " (not drawn on a log scale)"
    return text


def _model_sizes(exercise, details, failing, target: Path) -> Path | None:
    """The lesson's model-size chart with the student's counts for the failing public configs."""
    from matplotlib.lines import Line2D

    from course.plots.figures import draw_chart, sources_line

    course = details.course
    lesson = course.lesson(exercise.lesson) if course is not None else None
    figure = lesson.figure(MODEL_SIZES_CHART) if lesson is not None else None
    if figure is None or not getattr(figure, "series", None):
        return None
    totals = [(case, _student_total(case)) for case in failing if case.args and isinstance(case.args[0], dict)]
    counts = [(case, total) for case, total in totals if total is not None]
    if not counts:
        return None
    ys = [p.y for s in figure.series for p in s.points]
    low, high = min(ys) / 30, max(ys) * 30
    shown = [(c, t) for c, t in counts if math.isfinite(t) and low <= t <= high]
    left_out = [(c, t) for c, t in counts if (c, t) not in shown]

    def extra(ax):
        entries = []
        for number, (case, total) in enumerate(shown):
            colour = (style.YOURS_COLOUR, style.OKABE_ITO["reddish_purple"], style.OKABE_ITO["orange"])[number % 3]
            dashes = ("-", "--", "-.")[number % 3]
            ax.axhline(total, color=colour, linestyle=dashes, linewidth=1.1, alpha=0.75, zorder=1)
            expected = sum(parameter_breakdown(case.args[0]).values())
            entries.append((Line2D([], [], color=colour, linestyle=dashes),
                            f"yours, {case.name}: {_count(total)} (expected {_count(expected)})"))
        return entries

    footnote = sources_line(lesson, figure)
    footnote += "." if footnote and not footnote.endswith(".") else ""
    if left_out:
        footnote += " Not on the chart (outside its range): " + "; ".join(
            f"yours for {c.name}: {_count(t)}" for c, t in left_out) + "."
    title = "param_count, failing configs: your counts on the lesson's chart of published model sizes"
    if not shown:
        title += " (none in its range)"
    return draw_chart(figure, target.with_suffix(""), footnote=footnote, extra=extra, title=title, svg=True)[0]



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
