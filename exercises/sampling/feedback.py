"""sampling's own feedback (course.grading.hooks): the distribution you built, and your draws.

Loaded by the grader, never in the sandbox; called for failing PUBLIC cases only.

    distribution  (cases without u) the expected and your distribution of the worst row,
                  tokens in order of decreasing logit: which tokens you kept or removed
    draws         (cases with u) your distribution, from one more call of your function on
                  the same logits without u (probe `distribution`), with the expected and
                  your token of every row, and the cumulative sums of the first wrong row
                  against its u: where inverse transform sampling lands
"""
from __future__ import annotations

from pathlib import Path

from course.plots.kit import headline  # the first line of a message, shortened

DISTRIBUTION_PROBE = "distribution"
CAPTIONS = {
    "distribution": "expected vs your distribution, tokens by decreasing logit (removed tokens grey)",
    "draws": "your distribution with the expected and your draws, and where each u lands on the cumulative sum",
}


def _u(case):
    if len(case.args) > 1:
        return case.args[1]
    return case.kwargs.get("u")


def probes(case):
    """For a draw case: the same call without u, which returns the student's distribution."""
    if _u(case) is None or not case.args:
        return {}
    kwargs = {name: value for name, value in case.kwargs.items() if name != "u"}
    return {DISTRIBUTION_PROBE: [((case.args[0],), kwargs)]}


def panels(case):
    return [("draws", _draws)] if _u(case) is not None else [("distribution", _distribution)]


def _floats(value):
    import numpy as np

    array = np.asarray(value)
    return array.astype(np.float64) if array.dtype.kind in "biuf" else None


def _distribution(exercise, case, target: Path) -> Path | None:
    import numpy as np

    from course.plots import style

    logits = _floats(case.args[0]) if case.args else None
    expected, yours = _floats(case.expected), _floats(case.got.value)
    if logits is None or yours is None or yours.shape != expected.shape or expected.shape != logits.shape:
        return None
    vocab = logits.shape[-1]
    rows_l, rows_e, rows_y = (a.reshape(-1, vocab) for a in (logits, expected, yours))
    error = np.where(np.isfinite(rows_y), np.abs(rows_y - rows_e), np.inf).max(axis=1)
    row = int(np.argmax(error))
    order = np.argsort(-rows_l[row], kind="stable")
    e, y = rows_e[row][order], rows_y[row][order]
    positions = np.arange(vocab)
    settings = ", ".join(f"{k}={v}" for k, v in case.kwargs.items()) or "defaults"
    where = f", row {row} (the largest error)" if len(rows_l) > 1 else ""
    fig, ax = style.new_axes(f"{exercise.id}, case '{case.name}' ({settings}){where}: expected vs your distribution",
                             "Token id (in order of decreasing logit)", "Probability", figsize=(8.0, 4.2))
    ax.bar(positions - 0.2, e, 0.4, color=style.EXPECTED_COLOUR, label=f"expected (sums to {e.sum():.3f})")
    finite = np.isfinite(y)
    ax.bar(positions[finite] + 0.2, y[finite], 0.4, color=style.YOURS_COLOUR,
           label=f"yours (sums to {np.sum(y):.3f})" if finite.all() else "yours (inf/NaN hatched)")
    high = max(float(e.max()), float(y[finite].max()) if finite.any() else 0.0, 1e-12)
    for p in positions[~finite]:
        ax.bar(p + 0.2, high, 0.4, color="white", edgecolor=style.YOURS_COLOUR, hatch="xx", linewidth=0.8)
    for p in positions[e == 0]:
        ax.axvspan(p - 0.5, p + 0.5, color=style.NEUTRAL_COLOUR, alpha=0.5, zorder=0)
    ax.set_xticks(positions, labels=[str(int(t)) for t in order])
    ax.set_ylim(0, high * 1.2)
    ax.legend(loc="upper right", fontsize=7.5)
    style.finish(fig, "Grey: tokens the expected distribution removes (probability exactly 0). "
                      + headline(case.message, 200))
    return style.save(fig, target)[0]


def _draws(exercise, case, target: Path) -> Path | None:
    import numpy as np

    from course.plots import style

    expected = np.asarray(case.expected)
    yours = np.asarray(case.got.value)
    u = _floats(_u(case))
    if u is None or yours.shape != expected.shape or yours.dtype.kind not in "biu":
        return None
    flat_e, flat_y, flat_u = expected.reshape(-1), yours.reshape(-1), u.reshape(-1)
    probe = (case.probes.get(DISTRIBUTION_PROBE) or [None])[0]
    distribution = None
    if probe is not None and probe[2].status == "ok" and probe[2].value is not None:
        candidate = _floats(probe[2].value)
        if candidate is not None and candidate.ndim >= 1 and candidate.shape[:-1] == expected.shape:
            distribution = candidate.reshape(len(flat_e), -1)
    fig, (grid, cdf) = style.new_panels(f"{exercise.id}, case '{case.name}': your draws", 2, (11.0, 4.2),
                                        gridspec_kw={"width_ratios": (1.1, 1)})
    rows = np.arange(len(flat_e))
    style.label(grid, "Your distribution, expected (○) and your (×) draws", "Token id", "Row (one draw each)")
    if distribution is not None:
        image = grid.imshow(np.where(np.isfinite(distribution), distribution, np.nan), cmap=style.SEQUENTIAL_CMAP,
                            vmin=0, vmax=1, aspect="auto")
        bar = fig.colorbar(image, ax=grid, fraction=0.046, pad=0.03)
        bar.set_label("Your probability", fontsize=8)
        bar.ax.tick_params(labelsize=7)
    grid.grid(False)
    grid.scatter(flat_e, rows, s=110, facecolors="none", edgecolors="white", linewidths=2.2, zorder=3)
    grid.scatter(flat_e, rows, s=110, facecolors="none", edgecolors=style.EXPECTED_COLOUR, linewidths=1.4, zorder=4,
                 label="expected draw")
    grid.scatter(flat_y, rows, s=50, marker="x", color=style.YOURS_COLOUR, linewidths=2, zorder=5, label="your draw")
    grid.set_yticks(rows)
    grid.legend(loc="upper right", fontsize=7, framealpha=0.9)
    wrong = np.nonzero(flat_e != flat_y)[0]
    style.label(cdf, "Cumulative sum of your distribution", "Token id", "p[0] + ... + p[i]")
    if distribution is None:
        cdf.text(0.5, 0.5, "your function without u did not return a distribution", ha="center", va="center",
                 transform=cdf.transAxes, fontsize=8.5)
        note = ""
    elif not len(wrong):
        note = "Every draw is right. "
    else:
        row = int(wrong[0])
        cumulative = np.cumsum(np.nan_to_num(distribution[row]))
        tokens = np.arange(len(cumulative))
        cdf.step(tokens, cumulative, where="post", color=style.YOURS_COLOUR, linewidth=1.5, label=f"row {row}")
        cdf.plot(tokens, cumulative, linestyle="", marker="o", markersize=4, color=style.YOURS_COLOUR)
        cdf.axhline(flat_u[row], color="#444444", linestyle=":", linewidth=1.2, label=f"u = {flat_u[row]:.4f}")
        cdf.axvline(flat_e[row], color=style.EXPECTED_COLOUR, linestyle="--", linewidth=1.2,
                    label=f"expected token {int(flat_e[row])}")
        cdf.axvline(flat_y[row], color=style.YOURS_COLOUR, linestyle="-.", linewidth=1.2,
                    label=f"your token {int(flat_y[row])}")
        cdf.set_ylim(0, 1.05)
        cdf.set_xticks(tokens)
        cdf.legend(loc="lower right", fontsize=7)
        note = (f"{len(wrong)} of {len(flat_e)} draws differ; the right panel shows row {row}. With your distribution, "
                "inverse transform sampling picks the first token id whose cumulative sum exceeds u. ")
    style.finish(fig, note + headline(case.message, 200))
    return style.save(fig, target)[0]
