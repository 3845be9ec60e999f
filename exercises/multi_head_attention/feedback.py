"""multi_head_attention's own feedback (course.grading.hooks): the heads, before W_o mixes them.

Loaded by the grader, never in the sandbox; called for failing PUBLIC cases only.

The output of multi-head attention is `concat(heads) @ W_o + b_o`, where W_o mixes the
heads' columns, so an error in one head shows everywhere in the output. The picture
separates them without knowing how to compute a head:

- probe `heads`: the student's function called again on the case's inputs with W_o = I
  and b_o = 0, so what comes back is the student's own heads side by side;
- the expected heads side by side come from the case's expected output alone:
  (expected - b_o) @ W_o^-1 (W_o is a random, well-conditioned square matrix).

Head h is the block of columns h*d_head:(h+1)*d_head of both. When every block agrees, the
mistake is after the heads (the output projection).
"""
from __future__ import annotations

from pathlib import Path

from course.plots.kit import headline, note_panel  # a message's first line; a panel that says why it is empty

HEADS_PROBE = "heads"
CAPTIONS = {"heads": "expected vs your heads side by side (before W_o), and the error of each head"}
MAX_CONDITION = 1e6  # W_o worse conditioned than this: its inverse would amplify rounding, no picture


def _parts(case):
    """(x, params, n_heads, other kwargs) of a case, or None when they are not as the contract says."""
    args, kwargs = tuple(case.args), dict(case.kwargs)
    names = ("x", "params", "n_heads")
    values = list(args[:3]) + [kwargs.pop(name) for name in names[len(args):] if name in kwargs]
    if len(values) < 3 or not isinstance(values[1], dict):
        return None
    return values[0], values[1], values[2], kwargs


def probes(case):
    """The student's heads: the same call with the output projection replaced by the identity."""
    import numpy as np

    parts = _parts(case)
    if parts is None:
        return {}
    params = parts[1]
    d_model = np.asarray(params["W_o"]).shape[0]
    identity = dict(params, W_o=np.eye(d_model), b_o=np.zeros(d_model))
    args, kwargs = list(case.args), dict(case.kwargs)
    if len(args) > 1:
        args[1] = identity
    else:
        kwargs["params"] = identity
    return {HEADS_PROBE: [(tuple(args), kwargs)]}


def panels(case):
    return [("heads", _heads)]


def expected_heads(case):
    """The expected heads side by side, (..., seq, d_model), from the expected output and W_o, b_o; or None."""
    import numpy as np

    parts = _parts(case)
    if parts is None:
        return None
    w_o = np.asarray(parts[1]["W_o"], dtype=np.float64)
    b_o = np.asarray(parts[1]["b_o"], dtype=np.float64)
    if w_o.ndim != 2 or w_o.shape[0] != w_o.shape[1] or np.linalg.cond(w_o) > MAX_CONDITION:
        return None
    expected = np.asarray(case.expected, dtype=np.float64)
    flat = expected.reshape(-1, w_o.shape[1]) - b_o
    return np.linalg.solve(w_o.T, flat.T).T.reshape(expected.shape)


def _heads(exercise, case, target: Path) -> Path | None:
    import numpy as np

    from course.plots import style

    parts = _parts(case)
    wanted = expected_heads(case)
    if parts is None or wanted is None or wanted.ndim < 2:
        return None
    n_heads = int(parts[2])
    *lead, seq, d_model = wanted.shape
    d_head = d_model // n_heads
    flat_wanted = wanted.reshape(-1, seq, d_model)
    probe = (case.probes.get(HEADS_PROBE) or [None])[0]
    yours, problem = None, "the extra call that shows your heads was not made"
    if probe is not None:
        outcome = probe[2]
        value = None if outcome.status != "ok" or outcome.value is None else np.asarray(outcome.value)
        if value is None:
            problem = "called with W_o = I and b_o = 0, your function " + (
                "raised an exception" if outcome.status == "raised" else "returned nothing usable")
        elif value.shape != wanted.shape or value.dtype.kind not in "biuf":
            problem = f"called with W_o = I and b_o = 0, your function returned shape {tuple(value.shape)}, " \
                      f"expected {tuple(wanted.shape)}"
        else:
            yours = value.astype(np.float64).reshape(-1, seq, d_model)
    errors = None
    index = 0
    if yours is not None:
        gap = np.where(np.isfinite(yours), np.abs(yours - flat_wanted), np.inf)
        errors = gap.reshape(gap.shape[0], seq, n_heads, d_head).max(axis=(1, 3))  # (batch, heads)
        index = int(np.argmax(errors.max(axis=1)))
    where = ""
    if lead:
        position = tuple(int(i) for i in np.unravel_index(index, tuple(lead)))
        where = f", batch index [{', '.join(str(i) for i in position)}]"
    fig, axes = style.new_panels(
        f"{exercise.id}, case '{case.name}': the {n_heads} head{'s' if n_heads != 1 else ''} side by side, "
        f"before W_o{where}", 3, (11.5, 3.9), gridspec_kw={"width_ratios": (1, 1, 0.8)})
    finite = flat_wanted[index][np.isfinite(flat_wanted[index])]
    limit = float(np.max(np.abs(finite))) if finite.size else 1.0
    image = None
    for ax, values, title in ((axes[0], flat_wanted[index], "Expected heads"),
                              (axes[1], None if yours is None else yours[index], "Your heads")):
        style.label(ax, title, f"Column (head h = columns h·{d_head} to (h+1)·{d_head} − 1)", "Position")
        if values is None:
            note_panel(ax, problem)
            continue
        image = ax.imshow(np.where(np.isfinite(values), values, np.nan), cmap=style.diverging_cmap(),
                          vmin=-limit or -1, vmax=limit or 1, aspect="auto")
        ax.grid(False)
        for h in range(1, n_heads):
            ax.axvline(h * d_head - 0.5, color="#222222", linewidth=1.2)
        if seq <= 16:
            ax.set_yticks(range(seq))
    if image is not None:
        bar = fig.colorbar(image, ax=axes[1], fraction=0.046, pad=0.03)
        bar.set_label("Value", fontsize=8)
        bar.ax.tick_params(labelsize=7)
    ax = axes[2]
    style.label(ax, "Largest error of each head", "Head", "Largest |yours − expected|")
    if errors is None:
        note_panel(ax, "nothing to compare")
        footnote = ""
    else:
        worst = errors.max(axis=0)
        shown = np.where(np.isfinite(worst), worst, 0.0)
        scale = float(np.max(shown)) or 1.0
        ax.bar(range(n_heads), shown, color=[style.YOURS_COLOUR if w > _tolerance(case, wanted) else
                                             style.EXPECTED_COLOUR for w in worst])
        for h in np.nonzero(~np.isfinite(worst))[0]:
            ax.text(h, scale * 0.05, "inf/NaN", ha="center", fontsize=7, color=style.YOURS_COLOUR, rotation=90)
        ax.set_xticks(range(n_heads))
        ax.set_ylim(0, scale * 1.2)
        if np.all(worst <= _tolerance(case, wanted)):
            footnote = "Every head is right: the difference comes after the heads (the output projection W_o, b_o). "
        else:
            wrong = int(np.sum(worst > _tolerance(case, wanted)))
            footnote = f"{wrong} of {n_heads} heads differ (red bars). "
    footnote += ("Your heads: your function called on this case's inputs with W_o = I and b_o = 0. Expected heads: "
                 "(expected output − b_o) · W_o⁻¹. Your output: " + headline(case.message, 200))
    style.finish(fig, footnote)
    return style.save(fig, target)[0]


def _tolerance(case, wanted) -> float:
    import numpy as np

    return 1e-6 * float(np.max(np.abs(wanted))) + 1e-9
