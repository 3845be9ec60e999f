"""kv_cache's own feedback (course.grading.hooks): which decoding step goes wrong.

Loaded by the grader, never in the sandbox; called for failing PUBLIC cases only.

Row j of kv_decode's result is step j: the new token at position P + j, which has seen
the P cached positions and the new tokens before it. The picture shows the error of each
step, so a mistake's pattern is visible: every step wrong (positions, the mask), the first
step right and the later ones wrong (the cache not kept), or wrong from the first step
when the cache is empty (the token not attending to itself).
"""
from __future__ import annotations

from pathlib import Path

from course.plots.kit import headline  # the first line of a message, shortened

CAPTIONS = {"steps": "the error of your logits at each decoding step (each new token)"}


def panels(case):
    return [("steps", _steps)]


def _cache_length(case) -> int | None:
    import numpy as np

    cache = case.args[1] if len(case.args) > 1 else case.kwargs.get("cache")
    if not isinstance(cache, dict) or "k.0" not in cache:
        return None
    keys = np.asarray(cache["k.0"])
    return int(keys.shape[1]) if keys.ndim == 3 else None


def _steps(exercise, case, target: Path) -> Path | None:
    import numpy as np

    from course.plots import style

    expected = np.asarray(case.expected, dtype=np.float64)
    yours = np.asarray(case.got.value)
    start = _cache_length(case)
    if start is None or expected.ndim != 2 or yours.shape != expected.shape or yours.dtype.kind not in "biuf":
        return None
    yours = yours.astype(np.float64)
    gap = np.where(np.isfinite(yours), np.abs(yours - expected), np.inf).max(axis=1)
    steps = np.arange(expected.shape[0])
    tolerance = 1e-6 * np.abs(expected).max(axis=1) + 1e-9
    wrong = gap > tolerance
    fig, ax = style.new_axes(f"{exercise.id}, case '{case.name}': your logits at each decoding step "
                             f"(cache of P = {start} positions)",
                             "Step j: the new token at position P + j", "Largest |yours − expected| logit",
                             figsize=(7.4, 4.0))
    finite = np.where(np.isfinite(gap), gap, np.nan)
    top = float(np.nanmax(finite)) if np.isfinite(gap).any() else 1.0
    top = top or 1.0
    ax.bar(steps, np.nan_to_num(finite), 0.6,
           color=[style.YOURS_COLOUR if w else style.EXPECTED_COLOUR for w in wrong])
    for j in steps[~np.isfinite(gap)]:
        ax.text(j, top * 0.05, "inf/NaN", ha="center", rotation=90, fontsize=7, color=style.YOURS_COLOUR)
    ax.set_xticks(steps, labels=[f"{j}\n(pos {start + j})" for j in steps])
    ax.set_ylim(0, top * 1.2)
    right = int(np.sum(~wrong))
    if right and wrong.any():
        first = int(np.argmax(wrong))
        pattern = f"Steps before {first} are right and step {first} is the first wrong one. " if first else \
            f"{right} of {len(steps)} steps are right. "
    else:
        pattern = "Every step is wrong. " if wrong.all() else ""
    style.finish(fig, pattern + "Red: beyond the tolerance. Your output: " + headline(case.message, 200))
    return style.save(fig, target)[0]
