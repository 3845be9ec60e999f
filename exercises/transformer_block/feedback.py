"""transformer_block's own feedback (course.grading.hooks): is the residual stream left alone?

Loaded by the grader, never in the sandbox; called for failing PUBLIC cases only.

A pre-LN block adds each sublayer's output to the stream and normalizes only the copies
the sublayers read. So with both sublayers switched off (their last projections zero:
W_o = 0, b_o = 0, W_2 = 0, b_2 = 0) a right block returns x exactly, whatever the rest of
the weights are. That expected value needs no formula, so the probe can show it:

- probe `sublayers_off`: the student's function on the case's x with those four arrays
  zeroed; the picture shows how far the result is from x, position by position;
- beside it, where the student's real output differs from the expected one.
"""
from __future__ import annotations

from pathlib import Path

from course.plots.kit import headline, note_panel  # a message's first line; a panel that says why it is empty

OFF_PROBE = "sublayers_off"
CAPTIONS = {"residual": "where your block's output differs, and what it does with both sublayers switched off"}


def _params_index(case):
    if len(case.args) > 1 and isinstance(case.args[1], dict):
        return 1
    return "params" if isinstance(case.kwargs.get("params"), dict) else None


def probes(case):
    """The block with both sublayers adding nothing: a pre-LN block must return x unchanged."""
    import numpy as np

    where = _params_index(case)
    if where is None:
        return {}
    params = case.args[where] if where == 1 else case.kwargs["params"]
    try:
        attn, mlp = dict(params["attn"]), dict(params["mlp"])
        for part, names in ((attn, ("W_o", "b_o")), (mlp, ("W_2", "b_2"))):
            for name in names:
                part[name] = np.zeros_like(np.asarray(part[name], dtype=np.float64))
    except (KeyError, TypeError):
        return {}
    off = dict(params, attn=attn, mlp=mlp)
    args, kwargs = list(case.args), dict(case.kwargs)
    if where == 1:
        args[1] = off
    else:
        kwargs["params"] = off
    return {OFF_PROBE: [(tuple(args), kwargs)]}


def panels(case):
    return [("residual", _residual)]


def _residual(exercise, case, target: Path) -> Path | None:
    import numpy as np

    from course.plots import style

    x = np.asarray(case.args[0], dtype=np.float64) if case.args else None
    expected = np.asarray(case.expected, dtype=np.float64)
    yours = np.asarray(case.got.value)
    if x is None or x.ndim < 2 or yours.shape != expected.shape or yours.dtype.kind not in "biuf":
        return None
    yours = yours.astype(np.float64)
    *lead, seq, d_model = expected.shape
    rows = int(np.prod(lead)) if lead else 1
    fig, (left, right) = style.new_panels(f"{exercise.id}, case '{case.name}': your output, and your block "
                                          "with both sublayers switched off", 2, (11.0, 3.9))
    positions = np.arange(seq)
    gap = np.where(np.isfinite(yours), np.abs(yours - expected), np.inf).reshape(rows, seq, d_model).max(axis=-1)
    _per_position(left, positions, gap, lead, style)
    style.label(left, "Your output: largest error at each position", "Position",
                "Largest |yours − expected| over the features")
    probe = (case.probes.get(OFF_PROBE) or [None])[0]
    style.label(right, "Sublayers off (W_o, b_o, W_2, b_2 = 0): distance from x", "Position",
                "Largest |your output − x| over the features")
    verdict = ""
    if probe is None or probe[2].status != "ok" or probe[2].value is None:
        note_panel(right, "the extra call with the sublayers switched off did not return an array")
    else:
        off = np.asarray(probe[2].value)
        if off.shape != x.shape or off.dtype.kind not in "biuf":
            note_panel(right, f"with the sublayers switched off your function returned shape {tuple(off.shape)}, "
                         f"expected {tuple(x.shape)}")
        else:
            moved = np.where(np.isfinite(off), np.abs(off.astype(np.float64) - x), np.inf)
            moved = moved.reshape(rows, seq, d_model).max(axis=-1)
            _per_position(right, positions, moved, lead, style)
            if np.all(moved <= 1e-9 * (1 + np.abs(x).max())):
                verdict = ("With both sublayers switched off your block returns x: the residual path is right, so "
                           "look inside the sublayers (the attention, the MLP and its GELU, the mask). ")
            else:
                verdict = ("With both sublayers switched off a pre-LN block returns x unchanged; yours does not, so "
                           "something normalizes the residual stream itself (a LayerNorm after the sum, or the sum "
                           "started from the normalized copy). ")
    style.finish(fig, verdict + "Your output: " + headline(case.message, 200))
    return style.save(fig, target)[0]


def _per_position(ax, positions, values, lead, style) -> None:
    import numpy as np

    top = float(np.max(values[np.isfinite(values)])) if np.isfinite(values).any() else 1.0
    top = top or 1.0
    many = values.shape[0] > len(style.SERIES_COLOURS) - 1
    series = [("largest over the batch", values.max(axis=0))] if many else [
        ("batch index [" + ", ".join(str(int(i)) for i in np.unravel_index(r, tuple(lead))) + "]" if lead
         else "the sequence",
         values[r]) for r in range(values.shape[0])]
    for number, (name, line) in enumerate(series):
        shown = np.where(np.isfinite(line), line, np.nan)
        ax.plot(positions, shown, color=style.SERIES_COLOURS[number], marker=style.MARKERS[number], markersize=5,
                linewidth=1.4, label=name)
        bad = ~np.isfinite(line)
        if bad.any():
            ax.scatter(positions[bad], [top * 1.08] * int(bad.sum()), marker="X", s=50,
                       color=style.SERIES_COLOURS[number], zorder=3, label="inf/NaN")
    ax.set_ylim(0, top * 1.2)
    ax.set_xticks(positions)
    ax.legend(loc="best", fontsize=7)
