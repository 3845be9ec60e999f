"""layer_norm's picture: the output against the expected, and each row's mean and spread.

Trusted instructor code of this exercise (course.grading.hooks): loaded in the grader,
never in the sandbox, and called for public cases only.
"""
from __future__ import annotations

from pathlib import Path

from course.plots import kit, style

CAPTIONS = {"rows": "your output against the expected, and each row's mean and standard deviation"}


def panels(case):
    return [("rows", _layer_norm_rows)]


def _layer_norm_rows(exercise, case, target: Path) -> Path | None:
    np = kit.numpy()
    expected, yours = kit.floats(case.expected), kit.floats(case.got.value)
    if yours is None or yours.shape != expected.shape or expected.ndim == 0:
        return None
    rows_e = expected.reshape(-1, expected.shape[-1])
    rows_y = yours.reshape(-1, yours.shape[-1])
    count = rows_e.shape[0]
    fig, (scatter, means, spreads) = style.new_panels(
        kit.figure_title(exercise, case, "your output against the expected, row by row"), 3, (11.0, 3.8),
        gridspec_kw={"width_ratios": (1.25, 1, 1)},
    )
    style.label(scatter, "Each output value", "Expected value", "Your value")
    finite = np.isfinite(rows_y)
    for row in range(count):
        colour = style.SERIES_COLOURS[row % len(style.SERIES_COLOURS)] if count <= 8 else style.YOURS_COLOUR
        marker = style.MARKERS[row % len(style.MARKERS)] if count <= 8 else "o"
        keep = finite[row]
        scatter.scatter(rows_e[row][keep], rows_y[row][keep], s=16, color=colour, marker=marker,
                        label=f"row {row}" if count > 1 and count <= 8 else None, zorder=3)
    span = [float(np.min(rows_e)), float(np.max(rows_e))]
    if finite.any():
        span = [min(span[0], float(np.min(rows_y[finite]))), max(span[1], float(np.max(rows_y[finite])))]
    scatter.plot(span, span, color="#444444", linestyle="--", linewidth=1, label="yours = expected", zorder=2)
    scatter.legend(loc="upper left", fontsize=7)
    rows = np.arange(count)
    with np.errstate(invalid="ignore"):
        stats = [(means, "Mean of each row", rows_e.mean(axis=1), rows_y.mean(axis=1)),
                 (spreads, "Standard deviation of each row", rows_e.std(axis=1), rows_y.std(axis=1))]
    for ax, title, e, y in stats:
        style.label(ax, title, "Row (one vector along the last axis)", title.split(" of ")[0])
        ax.plot(rows, e, linestyle="", marker="o", markersize=9, markerfacecolor="white",
                markeredgecolor=style.EXPECTED_COLOUR, markeredgewidth=1.8, label="expected")
        ax.plot(rows, y, linestyle="", marker="x", markersize=7, color=style.YOURS_COLOUR, markeredgewidth=1.8,
                label="yours")
        ax.set_xticks(rows)
        ax.set_xlim(-0.6, count - 0.4)
        ax.legend(loc="best", fontsize=7)
    style.finish(fig, kit.headline(case.message, 230))
    return style.save(fig, target)[0]

