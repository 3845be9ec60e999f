"""self_attention's pictures and probe: the attention weights (revealed by the identity as `value`) and the error per query.

Trusted instructor code of this exercise (course.grading.hooks): loaded in the grader,
never in the sandbox, and called for public cases only. Its expected weights
(`attention_weights`) are most of the reference, so it stays with the instructor
(STUDENT_EDITION = False): a student edition draws the engine's pictures of any output.
"""
from __future__ import annotations

import math
from pathlib import Path

from course.grading.sandbox.records import CallStatus
from course.plots import kit, style

STUDENT_EDITION = False  # course release holds this file back (course.grading.hooks)
WEIGHTS_PROBE = "weights"

CAPTIONS = {
    "weights": "expected vs your attention weights and their difference (mask hatched)",
    "error": "your output's error per query position",
}


def probes(case):
    """The student's function called with the identity as `value`: its output is then its attention weights."""
    import numpy as np

    if len(case.args) < 2:
        return {}
    key = np.asarray(case.args[1])
    if key.ndim < 2:
        return {}
    seq_k = key.shape[-2]
    identity = np.broadcast_to(np.eye(seq_k), key.shape[:-2] + (seq_k, seq_k)).copy()
    return {WEIGHTS_PROBE: [((case.args[0], case.args[1], identity), dict(case.kwargs))]}


def panels(case):
    return [("weights", _attention_weights), ("error", _attention_error)]


def attention_weights(query, key, mask=None):
    """softmax(query keyᵀ / sqrt(d_k)) with masked keys at weight 0: the expected weights of a case.

    A small trusted formula in the parent (the student edition has no reference code);
    tests check that it times `value` gives the reference's output on every public case.
    """
    np = kit.numpy()
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
    np = kit.numpy()
    flat = np.where(np.isfinite(errors), errors, np.inf).reshape(errors.shape[0], -1).max(axis=1)
    return int(np.argmax(flat))


def _attention_weights(exercise, case, target: Path) -> Path | None:
    np = kit.numpy()
    query, key, mask = _attention_inputs(case)
    expected = attention_weights(query, key, mask)
    *lead, seq_q, seq_k = expected.shape
    flat_expected = expected.reshape(-1, seq_q, seq_k)
    probe = (case.probes.get(WEIGHTS_PROBE) or [None])[0]
    yours, problem = None, "the extra call that reveals your weights was not made"
    if probe is not None:
        outcome = probe[2]
        if outcome.status is not CallStatus.OK or outcome.value is None:
            problem = "called with the identity as value, your function " + (
                f"raised {kit.headline(outcome.error, 60)}" if outcome.status is CallStatus.RAISED else "returned no array")
        else:
            candidate = kit.floats(outcome.value)
            if candidate is None or candidate.shape != expected.shape:
                shape = "an unusable array" if candidate is None else f"shape {tuple(candidate.shape)}"
                problem = f"called with the identity as value, your function returned {shape}, " \
                          f"expected weights of shape {tuple(expected.shape)}"
            else:
                yours = candidate.reshape(-1, seq_q, seq_k)
    output_expected, output_yours = kit.floats(case.expected), kit.floats(case.got.value)
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
    fig, axes = style.new_panels(kit.figure_title(exercise, case, f"attention weights{where}"), 3, (10.5, 3.9))
    _weights_panel(fig, axes[0], flat_expected[index], flat_mask, "Expected weights", colorbar=yours is None)
    if yours is None:
        style.label(axes[1], "Your weights", "Key position", "Query position")
        kit.note_panel(axes[1], problem)
        style.label(axes[2], "Yours − expected", "Key position", "Query position")
        kit.note_panel(axes[2], "nothing to compare")
    else:
        _weights_panel(fig, axes[1], yours[index], flat_mask, "Your weights", colorbar=True)
        title = kit.difference_panel(fig, axes[2], yours[index] - flat_expected[index])
        style.label(axes[2], title.replace(" (", "\n("), "Key position", "Query position")
        _hatch(axes[2], flat_mask)
        kit.integer_ticks(axes[2], seq_q, seq_k)
    footnote = "Each row is one query's weights over the keys; a row sums to 1."
    if flat_mask is not None:
        footnote += " Hatched cells: the mask is False there (the query may not attend to that key): weight must be 0."
    footnote += f" Your output: {kit.headline(case.message, 230)}"
    style.finish(fig, footnote)
    return style.save(fig, target)[0]


def _weights_panel(fig, ax, weights, mask, title: str, colorbar: bool) -> None:
    np = kit.numpy()
    shown = np.where(np.isfinite(weights), weights, np.nan)
    image = ax.imshow(shown, cmap=style.SEQUENTIAL_CMAP, vmin=0.0, vmax=1.0, aspect="auto")
    kit.heatmap_axes(ax)
    kit.cell_text(ax, weights, lambda v: f"{v:.2f}", lambda v: v < 0.55)
    _hatch(ax, mask)
    style.label(ax, title, "Key position", "Query position")
    kit.integer_ticks(ax, *weights.shape)
    if colorbar:
        bar = fig.colorbar(image, ax=ax, fraction=0.046, pad=0.03)
        bar.set_label("Weight")
        bar.ax.tick_params(labelsize=7)


def _index_text(position: tuple[int, ...]) -> str:
    """[1] or [0, 2]: numpy's index of the batch axes, from 0, as messages write indices."""
    return kit.index_of(position)


def _hatch(ax, mask) -> None:
    """Hatch the cells a mask blocks (False)."""
    from matplotlib.patches import Rectangle

    np = kit.numpy()
    if mask is None:
        return
    for row, column in zip(*np.nonzero(~mask)):
        ax.add_patch(Rectangle((column - 0.5, row - 0.5), 1, 1, fill=False, hatch=style.MASKED_HATCH,
                               edgecolor="#9A9A9A", linewidth=0))


def _attention_error(exercise, case, target: Path) -> Path | None:
    np = kit.numpy()
    expected, yours = kit.floats(case.expected), kit.floats(case.got.value)
    if yours is None or yours.shape != expected.shape or expected.ndim < 2:
        return None
    *lead, seq_q, _ = expected.shape
    error = np.abs(yours - expected).max(axis=-1).reshape(-1, seq_q)
    broken = ~np.isfinite(yours).all(axis=-1).reshape(-1, seq_q)
    fig, ax = style.new_axes(kit.figure_title(exercise, case, "output error per query position"),
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
    style.finish(fig, kit.headline(case.message, 230))
    return style.save(fig, target)[0]

