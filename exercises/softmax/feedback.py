"""softmax's pictures and probes: bars of a slice, and the scale where exp overflows.

Trusted instructor code of this exercise (course.grading.hooks): loaded in the grader,
never in the sandbox, and called for public cases only.
"""
from __future__ import annotations

import math
from pathlib import Path

from course.grading.checks import Check
from course.grading.sandbox.records import CallStatus
from course.plots import kit, style

OVERFLOW_PROBE = "overflow"
# the overflow probe: the case's input rescaled so that its largest |logit| is each of these
OVERFLOW_MAGNITUDES = tuple(round(10 ** (k / 8), 6) for k in range(0, 33))  # 1 .. 10,000, 8 per decade

CAPTIONS = {
    "bars": "expected vs your distribution, and where they differ",
    "overflow": "the input scale at which your output becomes inf/NaN",
}


def probes(case):
    """A failing `finite` check: the case's input scaled up step by step, to show where exp overflows."""
    import numpy as np

    if case.check != Check.FINITE or not case.args:
        return {}
    x = np.asarray(case.args[0], dtype=np.float64)
    peak = float(np.max(np.abs(x))) if x.size else 0.0
    if peak == 0.0 or not np.isfinite(peak):
        return {}
    direction = x / peak
    return {OVERFLOW_PROBE: [((direction * m,), dict(case.kwargs)) for m in OVERFLOW_MAGNITUDES]}


def panels(case):
    """Bars of the worst slice; and, when the overflow probe ran, where the output stops being finite."""
    return [("bars", _softmax_bars), ("overflow", _softmax_overflow)]


def _softmax_slices(array, axis: int):
    """The array as rows: each row one slice along `axis` (what must sum to 1)."""
    np = kit.numpy()
    moved = np.moveaxis(array, axis, -1)
    return moved.reshape(-1, moved.shape[-1]) if moved.ndim else moved.reshape(1, 1)


def _softmax_bars(exercise, case, target: Path) -> Path | None:
    np = kit.numpy()
    expected, yours = kit.floats(case.expected), kit.floats(case.got.value)
    if yours is None or yours.shape != expected.shape or expected.ndim == 0:
        return None
    axis = case.kwargs.get("axis", -1)
    if not isinstance(axis, int):
        return None
    rows_expected, rows_yours = _softmax_slices(expected, axis), _softmax_slices(yours, axis)
    entry = kit.named_entry(exercise, case)
    axis = axis % expected.ndim
    if entry is not None:  # the slice holding the entry the message names, as numpy indexes it
        rest = entry[:axis] + entry[axis + 1:]
        worst = int(np.ravel_multi_index(rest, expected.shape[:axis] + expected.shape[axis + 1:])) if rest else 0
        marked = entry[axis]
    else:
        error = np.where(np.isfinite(rows_yours), np.abs(rows_yours - rows_expected), np.inf).max(axis=1)
        worst, marked = int(np.argmax(error)), None
    e, y = rows_expected[worst], rows_yours[worst]
    positions = np.arange(e.size)
    fig, (top, bottom) = style.new_panels(
        kit.figure_title(exercise, case, "expected vs your distribution"), 1, (6.8, 5.2), rows=2, sharex=True,
        gridspec_kw={"height_ratios": (2.2, 1)},
    )
    if len(rows_expected) == 1:
        where = f"the whole vector (axis {axis})"
    else:
        index = tuple(np.unravel_index(worst, expected.shape[:axis] + expected.shape[axis + 1:]))
        cut = list(index[:axis]) + [":"] + list(index[axis:])
        line = {0: "column", 1: "row"}.get(axis, "slice") if expected.ndim == 2 else "slice"
        where = f"{line} [{', '.join(str(i) for i in cut)}] of {len(rows_expected)} (each sums to 1)"
    if marked is not None:
        where += f": entry {kit.index_of(entry)} marked, as in the message"
    elif len(rows_expected) > 1:
        where += ": the one with the largest error"
    top.set_title(where, fontsize=9.5, fontweight="bold")  # the shared x axis is labelled below
    top.set_ylabel("Probability")
    finite = np.isfinite(y)
    top.bar(positions - 0.2, e, 0.4, color=style.EXPECTED_COLOUR, label=f"expected (sums to {e.sum():.3f})")
    top.bar(positions[finite] + 0.2, y[finite], 0.4, color=style.YOURS_COLOUR,
            label=f"yours (sums to {kit.sum_text(y)})")
    high = max(float(np.max(e)), float(np.max(y[finite])) if finite.any() else 0.0, 1e-12)
    for position in positions[~finite]:
        top.bar(position + 0.2, high, 0.4, color="white", edgecolor=style.YOURS_COLOUR, hatch="xx", linewidth=0.8)
        top.text(position + 0.2, high, kit.nonfinite(y[position]), ha="center", va="bottom", fontsize=7,
                 color=style.YOURS_COLOUR, fontweight="bold")
    top.set_ylim(0, high * 1.18)
    top.legend(loc="best")
    diff = np.where(finite, y - e, 0.0)
    style.label(bottom, "Where they differ", f"Entry along axis {axis}", "Yours − expected")
    bottom.bar(positions[finite], diff[finite], 0.6, color=style.YOURS_COLOUR)
    for position in positions[~finite]:
        bottom.text(position, 0, kit.nonfinite(y[position]), ha="center", va="center", fontsize=7,
                    color=style.YOURS_COLOUR, fontweight="bold")
    bottom.axhline(0, color="#444444", linewidth=0.8)
    span = float(np.max(np.abs(diff))) or 1.0
    bottom.set_ylim(-span * 1.25, span * 1.25)
    bottom.set_xticks(positions)
    if marked is not None:
        for ax in (top, bottom):
            ax.axvspan(marked - 0.45, marked + 0.45, color=style.tint(style.YOURS_COLOUR, 0.12), zorder=0)
        top.annotate(kit.index_of(entry), (marked, top.get_ylim()[1]), xytext=(0, -2), textcoords="offset points",
                     ha="center", va="top", fontsize=7.5, color=style.YOURS_COLOUR, fontweight="bold")
    style.finish(fig, kit.headline(case.message, 230))
    return style.save(fig, target)[0]




def _softmax_overflow(exercise, case, target: Path) -> Path | None:
    np = kit.numpy()
    probes = case.probes.get(OVERFLOW_PROBE)
    if not probes:
        return None
    magnitudes, finite_share, failed_calls = [], [], []
    for args, _, outcome in probes:
        magnitude = float(np.max(np.abs(args[0])))
        value = kit.floats(outcome.value) if outcome.status is CallStatus.OK and outcome.value is not None else None
        if value is None or value.size == 0:
            failed_calls.append(magnitude)
            continue
        magnitudes.append(magnitude)
        finite_share.append(100.0 * float(np.mean(np.isfinite(value))))
    fig, ax = style.new_axes(
        kit.figure_title(exercise, case, "where your output becomes inf/NaN"),
        "Largest |logit| in the input (the case's input rescaled; log scale)", "Finite output entries (%)",
    )
    kit.log_scale(ax, "x")
    ax.plot(magnitudes, finite_share, color=style.YOURS_COLOUR, marker="o", markersize=4, linewidth=1.5,
            label="your softmax")
    if failed_calls:
        ax.scatter(failed_calls, [0] * len(failed_calls), marker="X", color="black", zorder=3,
                   label="no result (your function raised or was stopped)")
    overflow = math.log(np.finfo(np.float64).max)
    ax.axvline(overflow, color="black", linestyle=":", linewidth=1.2, label=f"exp(x) overflows above x ≈ {overflow:.1f}")
    own = float(np.max(np.abs(np.asarray(case.args[0], dtype=np.float64))))
    ax.axvline(own, color=style.OKABE_ITO["bluish_green"], linestyle="--", linewidth=1.2,
               label=f"this case: |logits| up to {own:,.0f}")
    broken = [m for m, share in zip(magnitudes, finite_share) if share < 100.0]
    if broken:
        ax.axvspan(min(broken), max(magnitudes), color=style.tint(style.YOURS_COLOUR, 0.15), zorder=0,
                   label=f"inf/NaN from |logits| ≈ {min(broken):,.0f}")
    ax.set_ylim(-5, 105)
    ax.set_xlim(min(magnitudes + failed_calls) / 1.3, max(magnitudes + failed_calls) * 1.3)
    ax.legend(loc="lower left")
    style.finish(fig, "A stable softmax stays 100% finite at every scale: subtract each slice's maximum before exp.")
    return style.save(fig, target)[0]

