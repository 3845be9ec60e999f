"""Feedback pictures for a failing submission: what `course check --plots DIR` draws.

One or two pictures per failing *public* case, drawn in the trusted parent from the
arrays a CheckDetails holds (the inputs the parent generated, the expected outputs it
computed, the student's raw outputs and probe outcomes from the sandbox). Hidden
cases have no arrays in a CheckDetails, so they get no picture.

    softmax              bars: expected vs your distribution on the worst slice, and the difference;
                         overflow: the share of finite outputs as the case's input is scaled up
    self_attention       weights: expected, your and the difference of the attention weights, mask hatched;
                         error: the output error per query position
    layer_norm           rows: your output against the expected, and each row's mean and spread
    causal_mask          matrix: the expected and your boolean matrices and the cells that differ
    positional_encoding  heatmaps: the expected and your table and the difference
    other exercises      values: expected vs yours (heatmaps for 2-D and more, points for 1-D)
    any exercise         inputs: when the only fault is a changed argument, its values before and after

Files are named `<exercise>-<case>-<kind>.png` (`plot_name`), at least 1280 pixels wide,
each with an SVG of the same name beside it. Indices in titles are numpy's, from 0, as
in the case messages ("at [0, 3]"), and the entry a message names is the one marked.
matplotlib is imported only when something is drawn; the look comes from
course.plots.style.
"""
from __future__ import annotations

import math
from pathlib import Path
from typing import TYPE_CHECKING, Any, Callable

from course.grading.hooks import hook
from course.plots import style

if TYPE_CHECKING:  # pragma: no cover
    from course.grading.details import CaseDetails, CheckDetails
    from course.model import Exercise

# What each kind of picture shows (captions in the HTML report).
PLOT_KINDS = {
    "bars": "expected vs your distribution, and where they differ",
    "overflow": "the input scale at which your output becomes inf/NaN",
    "weights": "expected vs your attention weights and their difference (mask hatched)",
    "error": "your output's error per query position",
    "rows": "your output against the expected, and each row's mean and standard deviation",
    "matrix": "expected vs your mask and the cells that differ",
    "heatmaps": "expected vs your table and their difference",
    "values": "expected vs your output",
    "inputs": "your function's argument before and after the call",
}
ALL_FAILING = "failing_configs"  # the "case" part of a picture about several cases
ANNOTATE_COLUMNS, ANNOTATE_ROWS = 10, 12  # heatmaps at most this big show each cell's value
MAX_CELLS = 64 * 64  # a student's array larger than this is not drawn cell by cell


def caption(exercise: "Exercise", kind: str) -> str:
    """What a picture of this kind shows: the exercise's own CAPTIONS first, then ours."""
    own = hook(exercise, "CAPTIONS") or {}
    return own.get(kind) or PLOT_KINDS.get(kind, kind)


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
        kinds = set(PLOT_KINDS) | set(hook(exercise, "CAPTIONS") or {})
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
                paths += _attempt(details, target, lambda: draw(exercise, case, target))
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
    if case.got.status != "ok" or case.got.value is None:
        return []  # it raised or did not run: the message and traceback say it all
    if case.check == "inputs_unchanged":
        return [("inputs", _inputs)]
    panels = hook(exercise, "panels")
    if panels is not None:  # the exercise's own pictures (exercises/<id>/feedback.py)
        return list(panels(case) or []) or [("values", _generic_values)]
    specific = {
        "softmax": [("bars", _softmax_bars), ("overflow", _softmax_overflow)],
        "self_attention": [("weights", _attention_weights), ("error", _attention_error)],
        "layer_norm": [("rows", _layer_norm_rows)],
        "causal_mask": [("matrix", _mask_matrix)],
        "positional_encoding": [("heatmaps", _encoding_heatmaps)],
    }
    return specific.get(exercise.id, [("values", _generic_values)])


# --------------------------------------------------------------------------- helpers


def _np():
    import numpy as np

    return np


def _floats(value) -> Any:
    """The array as float64, or None when it is not real numbers (complex, object)."""
    np = _np()
    array = np.asarray(value)
    if array.dtype.kind not in "biuf":
        return None
    return array.astype(np.float64)


def _title(exercise, case, what: str) -> str:
    return f"{exercise.id}, case '{case.name}': {what}"


def _head(message: str, limit: int = 110) -> str:
    """The first line of a case message, shortened for a subtitle."""
    line = (message or "").strip().splitlines()[0] if (message or "").strip() else ""
    return line if len(line) <= limit else line[: limit - 1] + "…"


def _cell_text(ax, values, fmt: Callable[[float], str], dark: Callable[[float], bool], size: float = 7) -> None:
    np = _np()
    if not _annotated(values):
        return
    for (row, column), value in np.ndenumerate(values):
        text = "NaN" if math.isnan(value) else ("inf" if math.isinf(value) else fmt(value))
        ax.text(column, row, text, ha="center", va="center", fontsize=size,
                color="white" if (math.isfinite(value) and dark(value)) else "black")


def _annotated(values) -> bool:
    return values.ndim == 2 and values.shape[1] <= ANNOTATE_COLUMNS and values.shape[0] <= ANNOTATE_ROWS


def _heatmap_axes(ax) -> None:
    ax.grid(False)
    for spine in ax.spines.values():
        spine.set_visible(False)
    ax.tick_params(length=0)


def _integer_ticks(ax, rows: int, columns: int) -> None:
    from matplotlib.ticker import MaxNLocator

    for axis, count in ((ax.xaxis, columns), (ax.yaxis, rows)):
        if count <= 16:
            axis.set_ticks(range(count))
        else:
            axis.set_major_locator(MaxNLocator(integer=True, nbins=10))


def _note(ax, text: str) -> None:
    """A panel that explains why there is nothing to draw in it."""
    ax.grid(False)
    ax.set_xticks([])
    ax.set_yticks([])
    ax.text(0.5, 0.5, style.wrap(text, 34), ha="center", va="center", fontsize=8.5, transform=ax.transAxes,
            color="#333333")


def _difference_panel(fig, ax, diff, title_prefix: str = "Yours − expected"):
    np = _np()
    finite = diff[np.isfinite(diff)]
    largest = float(np.max(np.abs(finite))) if finite.size else 0.0
    limit = largest or 1.0
    image = ax.imshow(np.where(np.isfinite(diff), diff, np.nan), cmap=style.diverging_cmap(), vmin=-limit,
                      vmax=limit, aspect="auto")
    _heatmap_axes(ax)
    _cell_text(ax, diff, lambda v: "0" if abs(v) < 0.005 else f"{v:+.2f}", lambda v: abs(v) / limit > 0.6)
    bar = fig.colorbar(image, ax=ax, fraction=0.046, pad=0.03)
    bar.set_label(title_prefix, fontsize=8)
    bar.ax.tick_params(labelsize=7)
    bad = int(np.sum(~np.isfinite(diff)))
    note = f", {bad} inf/NaN" if bad else ""
    if largest == 0 and not bad:
        return f"{title_prefix} (no difference)"
    return f"{title_prefix} (largest |difference| {largest:.3g}{note})"


# --------------------------------------------------------------------------- softmax


def _softmax_slices(array, axis: int):
    """The array as rows: each row one slice along `axis` (what must sum to 1)."""
    np = _np()
    moved = np.moveaxis(array, axis, -1)
    return moved.reshape(-1, moved.shape[-1]) if moved.ndim else moved.reshape(1, 1)


def _softmax_bars(exercise, case, target: Path) -> Path | None:
    np = _np()
    expected, yours = _floats(case.expected), _floats(case.got.value)
    if yours is None or yours.shape != expected.shape or expected.ndim == 0:
        return None
    axis = case.kwargs.get("axis", -1)
    if not isinstance(axis, int):
        return None
    rows_expected, rows_yours = _softmax_slices(expected, axis), _softmax_slices(yours, axis)
    entry = _named_entry(exercise, case)
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
        _title(exercise, case, "expected vs your distribution"), 1, (6.8, 5.2), rows=2, sharex=True,
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
        where += f": entry {_index_of(entry)} marked, as in the message"
    elif len(rows_expected) > 1:
        where += ": the one with the largest error"
    top.set_title(where, fontsize=9.5, fontweight="bold")  # the shared x axis is labelled below
    top.set_ylabel("Probability")
    finite = np.isfinite(y)
    top.bar(positions - 0.2, e, 0.4, color=style.EXPECTED_COLOUR, label=f"expected (sums to {e.sum():.3f})")
    top.bar(positions[finite] + 0.2, y[finite], 0.4, color=style.YOURS_COLOUR,
            label=f"yours (sums to {_sum_text(y)})")
    high = max(float(np.max(e)), float(np.max(y[finite])) if finite.any() else 0.0, 1e-12)
    for position in positions[~finite]:
        top.bar(position + 0.2, high, 0.4, color="white", edgecolor=style.YOURS_COLOUR, hatch="xx", linewidth=0.8)
        top.text(position + 0.2, high, _nonfinite(y[position]), ha="center", va="bottom", fontsize=7,
                 color=style.YOURS_COLOUR, fontweight="bold")
    top.set_ylim(0, high * 1.18)
    top.legend(loc="best")
    diff = np.where(finite, y - e, 0.0)
    style.label(bottom, "Where they differ", f"Entry along axis {axis}", "Yours − expected")
    bottom.bar(positions[finite], diff[finite], 0.6, color=style.YOURS_COLOUR)
    for position in positions[~finite]:
        bottom.text(position, 0, _nonfinite(y[position]), ha="center", va="center", fontsize=7,
                    color=style.YOURS_COLOUR, fontweight="bold")
    bottom.axhline(0, color="#444444", linewidth=0.8)
    span = float(np.max(np.abs(diff))) or 1.0
    bottom.set_ylim(-span * 1.25, span * 1.25)
    bottom.set_xticks(positions)
    if marked is not None:
        for ax in (top, bottom):
            ax.axvspan(marked - 0.45, marked + 0.45, color=style.tint(style.YOURS_COLOUR, 0.12), zorder=0)
        top.annotate(_index_of(entry), (marked, top.get_ylim()[1]), xytext=(0, -2), textcoords="offset points",
                     ha="center", va="top", fontsize=7.5, color=style.YOURS_COLOUR, fontweight="bold")
    style.finish(fig, _head(case.message, 230))
    return style.save(fig, target)[0]


def _named_entry(exercise, case) -> tuple | None:
    """The entry the case's message names (course.grading.compare.named_entry): the same one here."""
    from course.grading.compare import named_entry

    model = next((c for c in exercise.cases if c.name == case.name), None)
    if model is None or case.got.value is None:
        return None
    return named_entry(case.got.value, case.expected, model, case.check)


def _index_of(entry: tuple) -> str:
    """[0, 3]: numpy's index, counted from 0, written as the messages write it."""
    return "[" + ", ".join(str(int(i)) for i in entry) + "]"


def _sum_text(values) -> str:
    np = _np()
    total = float(np.sum(values))
    return f"{total:.3f}" if math.isfinite(total) else _nonfinite(total)


def _nonfinite(value: float) -> str:
    return "NaN" if math.isnan(value) else ("inf" if value > 0 else "-inf")


def _softmax_overflow(exercise, case, target: Path) -> Path | None:
    from course.grading.details import OVERFLOW_PROBE

    np = _np()
    probes = case.probes.get(OVERFLOW_PROBE)
    if not probes:
        return None
    magnitudes, finite_share, failed_calls = [], [], []
    for args, _, outcome in probes:
        magnitude = float(np.max(np.abs(args[0])))
        value = _floats(outcome.value) if outcome.status == "ok" and outcome.value is not None else None
        if value is None or value.size == 0:
            failed_calls.append(magnitude)
            continue
        magnitudes.append(magnitude)
        finite_share.append(100.0 * float(np.mean(np.isfinite(value))))
    fig, ax = style.new_axes(
        _title(exercise, case, "where your output becomes inf/NaN"),
        "Largest |logit| in the input (the case's input rescaled; log scale)", "Finite output entries (%)",
    )
    ax.set_xscale("log")
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


# --------------------------------------------------------------------------- self_attention


def attention_weights(query, key, mask=None):
    """softmax(query keyᵀ / sqrt(d_k)) with masked keys at weight 0: the expected weights of a case.

    A small trusted formula in the parent (the student edition has no reference code);
    tests check that it times `value` gives the reference's output on every public case.
    """
    np = _np()
    query, key = np.asarray(query, dtype=np.float64), np.asarray(key, dtype=np.float64)
    scores = query @ np.swapaxes(key, -1, -2) / math.sqrt(query.shape[-1])
    if mask is not None:
        scores = np.where(np.asarray(mask, dtype=bool), scores, -np.inf)
    peak = np.max(scores, axis=-1, keepdims=True)
    peak = np.where(np.isfinite(peak), peak, 0.0)
    weights = np.exp(scores - peak)
    total = weights.sum(axis=-1, keepdims=True)
    return np.divide(weights, total, out=np.zeros_like(weights), where=total > 0)


def _attention_inputs(case):
    args = case.args
    mask = case.kwargs.get("mask", args[3] if len(args) > 3 else None)
    return args[0], args[1], mask


def _worst_batch(errors) -> int:
    """The index (flattened batch axes) with the largest error; NaN/inf count as largest."""
    np = _np()
    flat = np.where(np.isfinite(errors), errors, np.inf).reshape(errors.shape[0], -1).max(axis=1)
    return int(np.argmax(flat))


def _attention_weights(exercise, case, target: Path) -> Path | None:
    from course.grading.details import WEIGHTS_PROBE

    np = _np()
    query, key, mask = _attention_inputs(case)
    expected = attention_weights(query, key, mask)
    *lead, seq_q, seq_k = expected.shape
    flat_expected = expected.reshape(-1, seq_q, seq_k)
    probe = (case.probes.get(WEIGHTS_PROBE) or [None])[0]
    yours, problem = None, "the extra call that reveals your weights was not made"
    if probe is not None:
        outcome = probe[2]
        if outcome.status != "ok" or outcome.value is None:
            problem = "called with the identity as value, your function " + (
                f"raised {_head(outcome.error, 60)}" if outcome.status == "raised" else "returned no array")
        else:
            candidate = _floats(outcome.value)
            if candidate is None or candidate.shape != expected.shape:
                shape = "an unusable array" if candidate is None else f"shape {tuple(candidate.shape)}"
                problem = f"called with the identity as value, your function returned {shape}, " \
                          f"expected weights of shape {tuple(expected.shape)}"
            else:
                yours = candidate.reshape(-1, seq_q, seq_k)
    output_expected, output_yours = _floats(case.expected), _floats(case.got.value)
    if output_yours is not None and output_yours.shape == output_expected.shape and output_expected.ndim >= 2:
        errors = np.abs(output_yours - output_expected).reshape(flat_expected.shape[0], -1)
        errors = np.where(np.isfinite(output_yours.reshape(errors.shape)), errors, np.inf)
    elif yours is not None:
        errors = np.abs(yours - flat_expected)
    else:
        errors = np.zeros(flat_expected.shape)
    index = _worst_batch(errors)
    largest = "" if not np.any(errors[index]) else " (the largest error)"
    flat_mask = None
    if mask is not None:
        try:
            flat_mask = np.broadcast_to(np.asarray(mask, dtype=bool), expected.shape).reshape(-1, seq_q, seq_k)[index]
        except ValueError:
            flat_mask = None
    where = ""
    if lead:
        position = tuple(int(i) for i in np.unravel_index(index, tuple(lead)))
        where = f", batch index {_index_text(position)}{largest}"
    fig, axes = style.new_panels(_title(exercise, case, f"attention weights{where}"), 3, (10.5, 3.9))
    _weights_panel(fig, axes[0], flat_expected[index], flat_mask, "Expected weights", colorbar=yours is None)
    if yours is None:
        style.label(axes[1], "Your weights", "Key position", "Query position")
        _note(axes[1], problem)
        style.label(axes[2], "Yours − expected", "Key position", "Query position")
        _note(axes[2], "nothing to compare")
    else:
        _weights_panel(fig, axes[1], yours[index], flat_mask, "Your weights", colorbar=True)
        title = _difference_panel(fig, axes[2], yours[index] - flat_expected[index])
        style.label(axes[2], title.replace(" (", "\n("), "Key position", "Query position")
        _hatch(axes[2], flat_mask)
        _integer_ticks(axes[2], seq_q, seq_k)
    footnote = "Each row is one query's weights over the keys; a row sums to 1."
    if flat_mask is not None:
        footnote += " Hatched cells: the mask is False there (the query may not attend to that key): weight must be 0."
    footnote += f" Your output: {_head(case.message, 230)}"
    style.finish(fig, footnote)
    return style.save(fig, target)[0]


def _weights_panel(fig, ax, weights, mask, title: str, colorbar: bool) -> None:
    np = _np()
    shown = np.where(np.isfinite(weights), weights, np.nan)
    image = ax.imshow(shown, cmap=style.SEQUENTIAL_CMAP, vmin=0.0, vmax=1.0, aspect="auto")
    _heatmap_axes(ax)
    _cell_text(ax, weights, lambda v: f"{v:.2f}", lambda v: v < 0.55)
    _hatch(ax, mask)
    style.label(ax, title, "Key position", "Query position")
    _integer_ticks(ax, *weights.shape)
    if colorbar:
        bar = fig.colorbar(image, ax=ax, fraction=0.046, pad=0.03)
        bar.set_label("Weight")
        bar.ax.tick_params(labelsize=7)


def _index_text(position: tuple[int, ...]) -> str:
    """[1] or [0, 2]: numpy's index of the batch axes, from 0, as messages write indices."""
    return _index_of(position)


def _hatch(ax, mask) -> None:
    """Hatch the cells a mask blocks (False)."""
    from matplotlib.patches import Rectangle

    np = _np()
    if mask is None:
        return
    for row, column in zip(*np.nonzero(~mask)):
        ax.add_patch(Rectangle((column - 0.5, row - 0.5), 1, 1, fill=False, hatch=style.MASKED_HATCH,
                               edgecolor="#9A9A9A", linewidth=0))


def _attention_error(exercise, case, target: Path) -> Path | None:
    np = _np()
    expected, yours = _floats(case.expected), _floats(case.got.value)
    if yours is None or yours.shape != expected.shape or expected.ndim < 2:
        return None
    *lead, seq_q, _ = expected.shape
    error = np.abs(yours - expected).max(axis=-1).reshape(-1, seq_q)
    broken = ~np.isfinite(yours).all(axis=-1).reshape(-1, seq_q)
    fig, ax = style.new_axes(_title(exercise, case, "output error per query position"),
                             "Query position", "Largest |yours − expected| over the output features")
    positions = np.arange(seq_q)
    batches = error.shape[0]
    if batches > len(style.SERIES_COLOURS) - 1:
        series = [("largest over the batch", np.where(broken.any(axis=0), np.nan, error.max(axis=0)), broken.any(axis=0))]
    else:
        series = []
        for index in range(batches):
            name = "the output" if not lead else \
                f"batch index {_index_text(tuple(int(i) for i in np.unravel_index(index, tuple(lead))))}"
            series.append((name, np.where(broken[index], np.nan, error[index]), broken[index]))
    finite_values = [v for _, values, _ in series for v in values if np.isfinite(v)]
    top = max(finite_values, default=1.0) or 1.0
    for number, (name, values, bad) in enumerate(series):
        colour, marker = style.SERIES_COLOURS[number], style.MARKERS[number]
        ax.plot(positions, values, color=colour, marker=marker, markersize=5, linewidth=1.4, label=name)
        if bad.any():
            ax.scatter(positions[bad], [top * 1.08] * int(bad.sum()), marker="X", s=50, color=colour, zorder=3)
    if any(bad.any() for _, _, bad in series):
        ax.scatter([], [], marker="X", color="#444444", label="inf/NaN in your output")
    ax.set_ylim(0, top * 1.2)
    ax.set_xticks(positions)
    ax.legend(loc="best")
    style.finish(fig, _head(case.message, 230))
    return style.save(fig, target)[0]


# --------------------------------------------------------------------------- layer_norm


def _layer_norm_rows(exercise, case, target: Path) -> Path | None:
    np = _np()
    expected, yours = _floats(case.expected), _floats(case.got.value)
    if yours is None or yours.shape != expected.shape or expected.ndim == 0:
        return None
    rows_e = expected.reshape(-1, expected.shape[-1])
    rows_y = yours.reshape(-1, yours.shape[-1])
    count = rows_e.shape[0]
    fig, (scatter, means, spreads) = style.new_panels(
        _title(exercise, case, "your output against the expected, row by row"), 3, (11.0, 3.8),
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
    style.finish(fig, _head(case.message, 230))
    return style.save(fig, target)[0]


# --------------------------------------------------------------------------- causal_mask


def _mask_matrix(exercise, case, target: Path) -> Path | None:
    from matplotlib.colors import ListedColormap
    from matplotlib.patches import Patch

    np = _np()
    expected = np.asarray(case.expected)
    yours = np.asarray(case.got.value)
    if yours.ndim != 2 or yours.size > MAX_CELLS or expected.ndim != 2:
        return None
    cmap = ListedColormap([style.NEUTRAL_COLOUR, style.EXPECTED_COLOUR])
    fig, axes = style.new_panels(_title(exercise, case, "expected vs your mask"), 3, (10.0, 3.7))
    dtype_note = "" if yours.dtype == np.bool_ else f" (dtype {yours.dtype}, not bool)"
    for ax, matrix, title in ((axes[0], expected, "Expected (bool)"), (axes[1], yours, f"Yours{dtype_note}")):
        truthy = matrix.astype(bool) if matrix.dtype.kind in "biu" else (np.nan_to_num(matrix) != 0)
        ax.imshow(truthy.astype(float), cmap=cmap, vmin=0, vmax=1, aspect="equal")
        _heatmap_axes(ax)
        if _annotated(matrix):
            for (row, column), value in np.ndenumerate(matrix):
                text = ("T" if value else "F") if matrix.dtype == np.bool_ else f"{value:g}"
                ax.text(column, row, text, ha="center", va="center", fontsize=7,
                        color="white" if truthy[row, column] else "black")
        style.label(ax, title, "Key position (column)", "Query position (row)")
        _integer_ticks(ax, *matrix.shape)
    diff_ax = axes[2]
    if yours.shape != expected.shape:
        style.label(diff_ax, "Cells that differ", "Key position (column)", "Query position (row)")
        _note(diff_ax, f"shapes differ: yours {tuple(yours.shape)}, expected {tuple(expected.shape)}")
    else:
        differ = yours.astype(bool) != expected if yours.dtype.kind in "biu" else (np.nan_to_num(yours) != 0) != expected
        diff_ax.imshow(differ.astype(float), cmap=ListedColormap(["white", style.YOURS_COLOUR]), vmin=0, vmax=1,
                       aspect="equal")
        _heatmap_axes(diff_ax)
        if _annotated(differ):
            for row, column in zip(*np.nonzero(differ)):
                diff_ax.text(column, row, "✗", ha="center", va="center", fontsize=8, color="white")
        style.label(diff_ax, f"Cells that differ: {int(differ.sum())} of {differ.size}",
                    "Key position (column)", "Query position (row)")
        _integer_ticks(diff_ax, *differ.shape)
        for spine in diff_ax.spines.values():
            spine.set_visible(True)
            spine.set_color("#888888")
        if not differ.any():
            diff_ax.text(0.5, 0.5, "none: the pattern is right", ha="center", va="center", fontsize=8.5,
                         transform=diff_ax.transAxes, color="#333333")
    legend = [Patch(color=style.EXPECTED_COLOUR, label="True: may attend"),
              Patch(color=style.NEUTRAL_COLOUR, label="False: blocked"),
              Patch(color=style.YOURS_COLOUR, label="differs from the expected")]
    style.finish(fig, _head(case.message, 230), legend_handles=legend)
    return style.save(fig, target)[0]


# --------------------------------------------------------------------------- heatmaps of tables


def _encoding_heatmaps(exercise, case, target: Path) -> Path | None:
    return _table_heatmaps(exercise, case, target, "Column (embedding dimension)", "Position",
                           "expected vs your positional encodings", signed=True, value_name="Encoding value")


def _generic_values(exercise, case, target: Path) -> Path | None:
    np = _np()
    expected, yours = _floats(case.expected), _floats(case.got.value)
    if yours is None or yours.shape != expected.shape:
        return None
    if expected.ndim >= 2:
        return _table_heatmaps(exercise, case, target, "Column (last axis)", "Row", "expected vs your output",
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


def _table_heatmaps(exercise, case, target: Path, xlabel: str, ylabel: str, what: str, *, signed: bool,
                    value_name: str = "Output value"):
    np = _np()
    expected, yours = _floats(case.expected), _floats(case.got.value)
    if yours is None or yours.shape != expected.shape or expected.ndim < 2 or expected.size > MAX_CELLS * 4:
        return None
    first = (0,) * (expected.ndim - 2)
    e, y = expected[first], yours[first]
    where = f" (first {e.shape[0]}x{e.shape[1]} slice)" if expected.ndim > 2 else ""
    fig, axes = style.new_panels(_title(exercise, case, what + where), 3, (11.0, 3.6))
    finite = np.concatenate([e.reshape(-1), y[np.isfinite(y)].reshape(-1)])
    limit = float(np.max(np.abs(finite))) or 1.0
    cmap, low = (style.diverging_cmap(), -limit) if signed else (style.SEQUENTIAL_CMAP, float(np.min(finite)))
    image = None
    for ax, values, title in ((axes[0], e, "Expected"), (axes[1], y, "Yours")):
        image = ax.imshow(np.where(np.isfinite(values), values, np.nan), cmap=cmap, vmin=low, vmax=limit,
                          aspect="auto")
        _heatmap_axes(ax)
        if signed:
            _cell_text(ax, values, lambda v: f"{v:.2f}", lambda v: abs(v) / limit > 0.6, size=6)
        else:
            _cell_text(ax, values, lambda v: f"{v:.2f}", lambda v: (v - low) / ((limit - low) or 1) < 0.55, size=6)
        style.label(ax, title, xlabel, ylabel)
        _integer_ticks(ax, *values.shape)
    bar = fig.colorbar(image, ax=axes[1], fraction=0.046, pad=0.03)
    bar.set_label(value_name, fontsize=8)
    bar.ax.tick_params(labelsize=7)
    title = _difference_panel(fig, axes[2], y - e)
    style.label(axes[2], title.replace(" (", "\n("), xlabel, ylabel)
    _integer_ticks(axes[2], *e.shape)
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
