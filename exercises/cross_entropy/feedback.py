"""cross_entropy's own feedback (course.grading.hooks): the loss and perplexity you returned,
and the logit scale at which your loss stops being a number.

Loaded by the grader, never in the sandbox; called for failing PUBLIC cases only.

    perplexity  your (loss, perplexity) point against the expected one, on the curves
                perplexity = e^loss (nats, right) and 2^loss (what a loss in bits would
                give): a point on the wrong curve, or left or right of the expected one,
                says which half is wrong
    stability   (when the output is not finite) the case's logits rescaled so that the
                largest |logit| goes from 1 to 10,000, each sent to your function: where
                your loss becomes inf/NaN. The exact loss is finite at every scale (it
                grows in proportion to the scale), so a right function stays finite.
"""
from __future__ import annotations

import math
from pathlib import Path

from course.plots.kit import headline, log_scale  # a message's first line, shortened; a log axis in plain text

SCALES = tuple(round(10 ** (k / 6), 6) for k in range(0, 25))  # 1 .. 10,000, 6 per decade
STABILITY_PROBE = "stability"
CAPTIONS = {
    "perplexity": "your loss and perplexity against the expected ones, on the curves e^loss and 2^loss",
    "stability": "the logit scale at which your loss becomes inf/NaN",
}


def probes(case):
    """For a non-finite output: the case's logits rescaled, so the picture can show where it breaks."""
    import numpy as np

    if case.check != "finite" or not case.args:
        return {}
    logits = np.asarray(case.args[0], dtype=np.float64)
    peak = float(np.max(np.abs(logits))) if logits.size else 0.0
    if peak == 0.0 or not math.isfinite(peak):
        return {}
    rest = tuple(case.args[1:])
    return {STABILITY_PROBE: [((logits / peak * scale,) + rest, dict(case.kwargs)) for scale in SCALES]}


def panels(case):
    drawn = [("perplexity", _perplexity)]
    if case.check == "finite":
        drawn.append(("stability", _stability))
    return drawn


def _pair(value):
    import numpy as np

    if value is None:
        return None
    array = np.asarray(value)
    if array.dtype.kind not in "biuf" or array.size != 2:
        return None
    return tuple(float(v) for v in array.astype(np.float64).reshape(-1))


def _perplexity(exercise, case, target: Path) -> Path | None:
    import numpy as np

    from course.plots import style

    expected, yours = _pair(case.expected), _pair(case.got.value)
    if expected is None or yours is None:
        return None
    fig, (bars, plane) = style.new_panels(f"{exercise.id}, case '{case.name}': your loss and perplexity",
                                          2, (11.0, 4.0), gridspec_kw={"width_ratios": (0.8, 1.2)})
    style.label(bars, "Loss (nats)", "Result", "Mean cross-entropy over the kept positions")
    for position, (_name, value, colour) in enumerate((("expected", expected[0], style.EXPECTED_COLOUR),
                                                      ("yours", yours[0], style.YOURS_COLOUR))):
        if math.isfinite(value):
            bars.bar(position, value, 0.6, color=colour)
            bars.text(position, value, f"{value:.6g}", ha="center", va="bottom", fontsize=8)
        else:
            bars.text(position, 0, f"{value}", ha="center", va="bottom", fontsize=9, color=colour, fontweight="bold")
    bars.set_xticks([0, 1], labels=["expected", "yours"])
    finite_losses = [v for v in (expected[0], yours[0]) if math.isfinite(v)]
    high = max(finite_losses + [1e-9]) * 1.3 + 1e-9
    if min(finite_losses, default=0.0) < 0:
        bars.set_ylim(min(finite_losses) * 1.3, high)
    else:
        bars.set_ylim(0, high)
    style.label(plane, "Perplexity against loss", "Loss", "Perplexity (log scale)")
    log_scale(plane, "y")
    top = max([v for v in (expected[0], yours[0]) if math.isfinite(v)] + [1.0]) * 1.25
    losses = np.linspace(0, top, 200)
    with np.errstate(over="ignore"):
        plane.plot(losses, np.exp(losses), color=style.EXPECTED_COLOUR, linewidth=1.5,
                   label="e^loss (the loss in nats: right)")
        plane.plot(losses, 2.0 ** losses, color="#777777", linestyle="--", linewidth=1.2,
                   label="2^loss (right only for a loss in bits)")
    plane.plot([expected[0]], [expected[1]], linestyle="", marker="o", markersize=10, markerfacecolor="white",
               markeredgecolor=style.EXPECTED_COLOUR, markeredgewidth=2, label="expected")
    if all(math.isfinite(v) for v in yours) and yours[1] > 0:
        plane.plot([yours[0]], [yours[1]], linestyle="", marker="x", markersize=9, color=style.YOURS_COLOUR,
                   markeredgewidth=2, label="yours")
        note = ""
    else:
        note = f" Yours, ({yours[0]}, {yours[1]}), cannot be drawn here."
    plane.legend(loc="upper left", fontsize=7)
    style.finish(fig, f"Expected: loss {expected[0]:.6g}, perplexity {expected[1]:.6g}; yours: loss {yours[0]:.6g}, "
                      f"perplexity {yours[1]:.6g}.{note} {headline(case.message, 200)}")
    return style.save(fig, target)[0]


def _stability(exercise, case, target: Path) -> Path | None:
    import numpy as np

    from course.plots import style

    calls = case.probes.get(STABILITY_PROBE)
    if not calls:
        return None
    scales, finite, failed = [], [], []
    for args, _, outcome in calls:
        scale = float(np.max(np.abs(np.asarray(args[0]))))
        pair = _pair(outcome.value) if outcome.status == "ok" else None
        if pair is None:
            failed.append(scale)
            continue
        scales.append(scale)
        finite.append(1.0 if math.isfinite(pair[0]) else 0.0)
    fig, ax = style.new_axes(f"{exercise.id}, case '{case.name}': where your loss stops being a number",
                             "Largest |logit| (the case's logits rescaled; log scale)", "Your loss is finite")
    log_scale(ax, "x")
    ax.plot(scales, finite, color=style.YOURS_COLOUR, marker="o", markersize=4, linewidth=1.5,
            drawstyle="steps-post", label="your cross_entropy")
    if failed:
        ax.scatter(failed, [0] * len(failed), marker="X", color="black", zorder=3,
                   label="no result (raised, or not a pair of numbers)")
    overflow = math.log(np.finfo(np.float64).max)
    ax.axvline(overflow, color="black", linestyle=":", linewidth=1.2, label=f"exp(x) overflows above x ≈ {overflow:.0f}")
    own = float(np.max(np.abs(np.asarray(case.args[0], dtype=np.float64))))
    ax.axvline(own, color=style.OKABE_ITO["bluish_green"], linestyle="--", linewidth=1.2,
               label=f"this case: |logits| up to {own:,.0f}")
    broken = [s for s, ok in zip(scales, finite) if not ok]
    if broken:
        ax.axvspan(min(broken), max(scales + failed), color=style.tint(style.YOURS_COLOUR, 0.15), zorder=0,
                   label=f"inf/NaN from |logits| ≈ {min(broken):,.0f}")
    ax.set_yticks([0, 1], labels=["no", "yes"])
    ax.set_ylim(-0.15, 1.15)
    ax.legend(loc="lower left", fontsize=7)
    style.finish(fig, "The exact loss is finite at every scale: compute log(sum(exp(x))) as m + log(sum(exp(x - m))) "
                      "with m the largest logit, and never take the log of a probability that may be 0.")
    return style.save(fig, target)[0]
