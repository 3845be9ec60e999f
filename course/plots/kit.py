"""The drawing kit of feedback pictures: what the engine's pictures and an exercise's own
feedback.py (course.grading.hooks) share.

A picture of one failing public case is drawn from a CaseDetails (course.grading.details):
`case.args`, `case.kwargs`, `case.expected`, `case.got` (status, value, error) and
`case.probes`. These helpers give every picture the same look and the same words:
titles "<exercise>, case '<name>': what", the case message's first line as a footnote,
indices written as the messages write them ("[0, 3]"), cells annotated when the array
is small enough to read. matplotlib is imported only when something is drawn.
"""
from __future__ import annotations

import math
from pathlib import Path
from typing import Any, Callable

from course.numbers import count, power_of_ten, short  # noqa: F401 (the kit's number formats are the engine's)
from course.plots import style

ANNOTATE_COLUMNS, ANNOTATE_ROWS = 10, 12  # heatmaps at most this big show each cell's value
MAX_CELLS = 64 * 64  # a student's array larger than this is not drawn cell by cell


def numpy():
    import numpy

    return numpy


def floats(value) -> Any:
    """The array as float64, or None when it is not real numbers (complex, object)."""
    np = numpy()
    array = np.asarray(value)
    if array.dtype.kind not in "biuf":
        return None
    return array.astype(np.float64)


def figure_title(exercise, case, what: str) -> str:
    return f"{exercise.id}, case '{case.name}': {what}"


def headline(message: str, limit: int = 110) -> str:
    """The first line of a case message, shortened for a subtitle."""
    line = (message or "").strip().splitlines()[0] if (message or "").strip() else ""
    return line if len(line) <= limit else line[: limit - 1] + "…"


def cell_text(ax, values, fmt: Callable[[float], str], dark: Callable[[float], bool], size: float = 7) -> None:
    np = numpy()
    if not annotated(values):
        return
    for (row, column), value in np.ndenumerate(values):
        text = "NaN" if math.isnan(value) else ("inf" if math.isinf(value) else fmt(value))
        ax.text(column, row, text, ha="center", va="center", fontsize=size,
                color="white" if (math.isfinite(value) and dark(value)) else "black")


def annotated(values) -> bool:
    return values.ndim == 2 and values.shape[1] <= ANNOTATE_COLUMNS and values.shape[0] <= ANNOTATE_ROWS


def heatmap_axes(ax) -> None:
    ax.grid(False)
    for spine in ax.spines.values():
        spine.set_visible(False)
    ax.tick_params(length=0)


def integer_ticks(ax, rows: int, columns: int) -> None:
    from matplotlib.ticker import MaxNLocator

    for axis, ticks in ((ax.xaxis, columns), (ax.yaxis, rows)):
        if ticks <= 16:
            axis.set_ticks(range(ticks))
        else:
            axis.set_major_locator(MaxNLocator(integer=True, nbins=10))


def log_scale(ax, which: str) -> None:
    """A log scale on `which` axis ("x" or "y"), its powers of ten written 10⁶ in plain text."""
    from matplotlib.ticker import FuncFormatter

    (ax.set_xscale if which == "x" else ax.set_yscale)("log")
    axis = ax.xaxis if which == "x" else ax.yaxis
    axis.set_major_formatter(FuncFormatter(lambda value, _: power_of_ten(value)))


def note_panel(ax, text: str) -> None:
    """A panel that explains why there is nothing to draw in it."""
    ax.grid(False)
    ax.set_xticks([])
    ax.set_yticks([])
    ax.text(0.5, 0.5, style.wrap(text, 34), ha="center", va="center", fontsize=8.5, transform=ax.transAxes,
            color="#333333")


def difference_panel(fig, ax, diff, title_prefix: str = "Yours − expected"):
    np = numpy()
    finite = diff[np.isfinite(diff)]
    largest = float(np.max(np.abs(finite))) if finite.size else 0.0
    limit = largest or 1.0
    image = ax.imshow(np.where(np.isfinite(diff), diff, np.nan), cmap=style.diverging_cmap(), vmin=-limit,
                      vmax=limit, aspect="auto")
    heatmap_axes(ax)
    cell_text(ax, diff, lambda v: "0" if abs(v) < 0.005 else f"{v:+.2f}", lambda v: abs(v) / limit > 0.6)
    bar = fig.colorbar(image, ax=ax, fraction=0.046, pad=0.03)
    bar.set_label(title_prefix, fontsize=8)
    bar.ax.tick_params(labelsize=7)
    bad = int(np.sum(~np.isfinite(diff)))
    note = f", {bad} inf/NaN" if bad else ""
    if largest == 0 and not bad:
        return f"{title_prefix} (no difference)"
    return f"{title_prefix} (largest |difference| {largest:.3g}{note})"



def named_entry(exercise, case) -> tuple | None:
    """The entry the case's message names (course.grading.compare.named_entry): the same one here."""
    from course.grading.compare import named_entry as entry_named

    model = next((c for c in exercise.cases if c.name == case.name), None)
    if model is None or case.got.value is None:
        return None
    return entry_named(case.got.value, case.expected, model, case.check)


def index_of(entry: tuple) -> str:
    """[0, 3]: numpy's index, counted from 0, written as the messages write it."""
    return "[" + ", ".join(str(int(i)) for i in entry) + "]"


def sum_text(values) -> str:
    np = numpy()
    total = float(np.sum(values))
    return f"{total:.3f}" if math.isfinite(total) else nonfinite(total)


def nonfinite(value: float) -> str:
    return "NaN" if math.isnan(value) else ("inf" if value > 0 else "-inf")




def table_heatmaps(exercise, case, target: Path, xlabel: str, ylabel: str, what: str, *, signed: bool,
                    value_name: str = "Output value"):
    np = numpy()
    expected, yours = floats(case.expected), floats(case.got.value)
    if yours is None or yours.shape != expected.shape or expected.ndim < 2 or expected.size > MAX_CELLS * 4:
        return None
    first = (0,) * (expected.ndim - 2)
    e, y = expected[first], yours[first]
    where = f" (first {e.shape[0]}x{e.shape[1]} slice)" if expected.ndim > 2 else ""
    fig, axes = style.new_panels(figure_title(exercise, case, what + where), 3, (11.0, 3.6))
    finite = np.concatenate([e.reshape(-1), y[np.isfinite(y)].reshape(-1)])
    limit = float(np.max(np.abs(finite))) or 1.0
    cmap, low = (style.diverging_cmap(), -limit) if signed else (style.SEQUENTIAL_CMAP, float(np.min(finite)))
    image = None
    for ax, values, title in ((axes[0], e, "Expected"), (axes[1], y, "Yours")):
        image = ax.imshow(np.where(np.isfinite(values), values, np.nan), cmap=cmap, vmin=low, vmax=limit,
                          aspect="auto")
        heatmap_axes(ax)
        if signed:
            cell_text(ax, values, lambda v: f"{v:.2f}", lambda v: abs(v) / limit > 0.6, size=6)
        else:
            cell_text(ax, values, lambda v: f"{v:.2f}", lambda v: (v - low) / ((limit - low) or 1) < 0.55, size=6)
        style.label(ax, title, xlabel, ylabel)
        integer_ticks(ax, *values.shape)
    bar = fig.colorbar(image, ax=axes[1], fraction=0.046, pad=0.03)
    bar.set_label(value_name, fontsize=8)
    bar.ax.tick_params(labelsize=7)
    title = difference_panel(fig, axes[2], y - e)
    style.label(axes[2], title.replace(" (", "\n("), xlabel, ylabel)
    integer_ticks(axes[2], *e.shape)
    style.finish(fig, headline(case.message, 230))
    return style.save(fig, target)[0]

