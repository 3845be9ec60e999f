"""param_count's own feedback (course.grading.hooks): readings and pictures of a wrong count.

Loaded by the grader, never in the sandbox, and called for failing PUBLIC cases only.
It knows the course's conventions (the exercise's instructions) well enough to split a
count into components, which is what makes a wrong total readable:

    explain          "1,536 fewer: exactly the size of one LayerNorm ...: left out?"
    panels           breakdown: the expected count by component beside the student's total
    exercise_panels  model_sizes: the lesson's chart of published model sizes with the
                     student's counts for the failing configs drawn on it
    CAPTIONS         what those pictures show (HTML report)

Splitting any config's count into parts is computing the count: this file is the answer,
so it stays with the instructor (STUDENT_EDITION = False). A student edition grades
param_count the same, without these readings and pictures.
"""
from __future__ import annotations

import math
from pathlib import Path
from typing import Any, Mapping

STUDENT_EDITION = False  # course release holds this file back (course.grading.hooks)
COMPONENTS = ("embeddings", "attention", "feed-forward", "norms", "head")
MODEL_SIZES_CHART = "parameter-growth"  # the lesson figure the model_sizes picture draws on
CAPTIONS = {
    "breakdown": "the expected parameters by component beside your total",
    "model_sizes": "your counts on the lesson's chart of published model sizes",
}


# --------------------------------------------------------------------------- the count, in parts


def _ints(config: Mapping[str, Any]) -> tuple[int, int, int, int]:
    return int(config["n_layers"]), int(config["d_model"]), int(config["d_ff"]), int(config["vocab_size"])


def _kv_width(config: Mapping[str, Any]) -> int:
    """LLaMA's key (and value) projection width: n_kv_heads heads of d_model / n_heads."""
    n_heads = int(config["n_heads"])
    return int(config.get("n_kv_heads", n_heads)) * (int(config["d_model"]) // n_heads)


def parameter_breakdown(config: Mapping[str, Any]) -> dict[str, int]:
    """The exact parameter count of a config, by component (the exercise's conventions).

    embeddings: token + position (+ token-type for BERT; LLaMA: token only); attention: the
    Q, K, V and output projections (with biases for GPT-2 and BERT; LLaMA's K and V have
    n_kv_heads heads); feed-forward: d_model -> d_ff -> d_model with biases, or LLaMA's three
    SwiGLU matrices; norms: every LayerNorm (2 * d_model) or RMSNorm (d_model); head: an
    untied output layer (tied: 0), or BERT's pooler.
    """
    arch = config["arch"]
    layers, d, d_ff, vocab = _ints(config)
    if arch == "llama":
        attention = layers * (2 * d * d + 2 * d * _kv_width(config))
        feed_forward = layers * 3 * d * d_ff
        norms = layers * 2 * d + d
        embeddings = vocab * d
        head = 0 if config.get("tied_embeddings", False) else vocab * d
        return dict(zip(COMPONENTS, (embeddings, attention, feed_forward, norms, head)))
    positions = int(config["max_positions"])
    attention = layers * 4 * (d * d + d)
    feed_forward = layers * (d * d_ff + d_ff + d_ff * d + d)
    norms = layers * 2 * (2 * d) + 2 * d
    if arch == "gpt":
        embeddings = (vocab + positions) * d
        head = 0 if config.get("tied_embeddings", True) else vocab * d
    elif arch == "bert":
        embeddings = (vocab + positions + int(config.get("type_vocab_size", 2))) * d
        head = d * d + d if config.get("pooler", True) else 0
    else:
        raise ValueError(f"unknown arch {arch!r}")
    return dict(zip(COMPONENTS, (embeddings, attention, feed_forward, norms, head)))


def count_parts(config: Mapping[str, Any]) -> list[tuple[str, int]]:
    """(what, size) of the pieces a count can miss or count twice, in the student's words, smallest first.

    Sizes that coincide (one LayerNorm and two d_model biases are both 2·d_model) are all
    listed: the message names each, and the student knows which one they wrote.
    """
    layers, d, d_ff, vocab = _ints(config)
    if config["arch"] == "llama":
        return _llama_parts(config)
    positions = int(config["max_positions"])
    bert = config["arch"] == "bert"
    final = "the embedding one" if bert else "the final one"
    parts = [
        (f"one LayerNorm (2·d_model: a scale and a shift), such as {final}", 2 * d),
        ("one LayerNorm per block (n_layers·2·d_model)", layers * 2 * d),
        ("both LayerNorms of every block (n_layers·4·d_model)", layers * 4 * d),
        ("every LayerNorm (n_layers·4·d_model + 2·d_model)", layers * 4 * d + 2 * d),
        ("one d_model bias", d),
        ("the attention biases (Q, K, V and output: n_layers·4·d_model)", layers * 4 * d),
        ("the feed-forward biases (n_layers·(d_ff + d_model))", layers * (d_ff + d)),
        ("every bias of the blocks (n_layers·(5·d_model + d_ff))", layers * (5 * d + d_ff)),
        ("the position embeddings (max_positions·d_model)", positions * d),
        ("the token embeddings (vocab_size·d_model)" if bert else
         "the token embeddings, or an LM head that is tied to them (vocab_size·d_model)", vocab * d),
    ]
    if bert:
        parts += [
            ("the token-type embeddings (type_vocab_size·d_model)", int(config.get("type_vocab_size", 2)) * d),
            ("the pooler (d_model·d_model + d_model)", d * d + d),
            ("every bias, the pooler's too (n_layers·(5·d_model + d_ff) + d_model)", layers * (5 * d + d_ff) + d),
        ]
    return sorted(((what, size) for what, size in parts if size > 0), key=lambda part: part[1])


def _llama_parts(config: Mapping[str, Any]) -> list[tuple[str, int]]:
    layers, d, d_ff, vocab = _ints(config)
    kv = _kv_width(config)
    parts = [
        ("one RMSNorm (d_model: a scale only), such as the final one", d),
        ("one RMSNorm per block (n_layers·d_model)", layers * d),
        ("every RMSNorm (n_layers·2·d_model + d_model), or the shifts LayerNorms would add", layers * 2 * d + d),
        ("one feed-forward matrix of every block (n_layers·d_model·d_ff)", layers * d * d_ff),
        ("the output layer, or the token embeddings (vocab_size·d_model)", vocab * d),
    ]
    if kv < d:
        parts.append(("what grouped-query attention saves: the key and value projections beyond "
                      "n_kv_heads heads (n_layers·2·d_model·(d_model − n_kv_heads·d_head))", layers * 2 * d * (d - kv)))
    if "max_positions" in config:
        parts.append(("a position table (max_positions·d_model), which rotary positions do not have",
                      int(config["max_positions"]) * d))
    return sorted(((what, size) for what, size in parts if size > 0), key=lambda part: part[1])


def count_offset(config: Mapping[str, Any], gap: int) -> str:
    """'1,536 fewer: exactly the size of one LayerNorm (...)'; '' when no part has that size."""
    same = [what for what, size in count_parts(config) if size == abs(gap)]
    if gap == 0 or not same:
        return ""
    verb = "left out" if gap < 0 else "counted twice"
    return f"{abs(gap):,} {'fewer' if gap < 0 else 'more'}: exactly the size of {' or of '.join(same)}: {verb}?"


# --------------------------------------------------------------------------- hooks


def explain(args: tuple, kwargs: Mapping[str, Any], expected: Any, value: Any) -> str:
    """A reading of a failed public case's count: which part of the model the gap is the size of."""
    config = args[0] if args and isinstance(args[0], Mapping) else kwargs.get("config")
    if not isinstance(config, Mapping):
        return ""
    try:
        got, want = float(value), float(expected)
    except (TypeError, ValueError):
        return ""
    if not (math.isfinite(got) and got.is_integer()):
        return ""
    try:
        return count_offset(config, int(got) - int(want))
    except (KeyError, TypeError, ValueError, ZeroDivisionError):
        return ""


def panels(case) -> list:
    """One picture per failing public config: its expected count by component and your total."""
    return [("breakdown", _breakdown)]


def exercise_panels(exercise, details, failing, out_dir) -> list[Path]:
    """Once per check: the lesson's model-size chart with your counts for the failing configs."""
    from course.plots.feedback import ALL_FAILING, plot_name

    target = Path(out_dir) / plot_name(exercise.id, ALL_FAILING, "model_sizes")
    drawn = _model_sizes(exercise, details, failing, target)
    return [drawn] if drawn is not None else []


# --------------------------------------------------------------------------- pictures


def _count(n: float) -> str:
    from course.numbers import count

    return count(n)


def _head(message: str, limit: int = 230) -> str:
    from course.plots.kit import headline

    return headline(message, limit)


def _student_total(case) -> float | None:
    import numpy as np

    value = np.asarray(case.got.value)
    if value.dtype.kind not in "biuf" or value.size != 1:
        return None
    return float(value.astype(np.float64).reshape(()))


def _config(case) -> dict | None:
    if case.args and isinstance(case.args[0], dict):
        return case.args[0]
    config = case.kwargs.get("config")
    return config if isinstance(config, dict) else None


def _breakdown(exercise, case, target: Path) -> Path | None:
    from course.plots import style
    from course.plots.kit import log_scale

    config = _config(case)
    if config is None:
        return None
    parts = parameter_breakdown(config)
    expected = sum(parts.values())
    yours = _student_total(case)
    names = list(COMPONENTS) + ["expected total", "your total"]
    values = [float(v) for v in parts.values()] + [float(expected), yours if yours is not None else math.nan]
    colours = [style.tint(style.EXPECTED_COLOUR, 0.55)] * len(COMPONENTS) + [style.EXPECTED_COLOUR, style.YOURS_COLOUR]
    fig, ax = style.new_axes(f"{exercise.id}, case '{case.name}': expected parameters by component vs your total",
                             "Parameters (log scale)", "Component", figsize=(7.2, 4.0))
    log_scale(ax, "x")
    drawable = [v if (math.isfinite(v) and v >= 1) else math.nan for v in values]
    rows = list(range(len(names)))[::-1]
    ax.barh(rows, [v if math.isfinite(v) else 0 for v in drawable], color=colours, height=0.65)
    low = min(v for v in drawable if math.isfinite(v))
    high = max(v for v in drawable if math.isfinite(v))
    ax.set_xlim(max(low / 3, 0.5), high * 60)
    ax.set_yticks(rows, labels=names)
    ax.grid(axis="y", visible=False)
    is_float = yours is not None and getattr(case.got.value, "dtype", None) is not None \
        and case.got.value.dtype.kind == "f"
    for row, name, value, shown in zip(rows, names, values, drawable):
        if name == "your total":
            text = _your_total_text(yours, expected, is_float, config)
        else:
            text = _count(value) + _empty_part_note(name, value, config)
        x = shown if math.isfinite(shown) else max(low / 3, 0.5)
        ax.text(x * 1.15, row, text, va="center", ha="left", fontsize=7.5,
                color=style.YOURS_COLOUR if name == "your total" else "#222222",
                fontweight="bold" if name.endswith("total") else "normal")
    settings = ", ".join(f"{k}={v}" for k, v in config.items())
    style.finish(fig, f"Config: {settings}. {_head(case.message)}")
    return style.save(fig, target)[0]


def _empty_part_note(name: str, value: float, config: Mapping[str, Any]) -> str:
    if name != "head" or value != 0:
        return ""
    return "  (no pooler)" if config["arch"] == "bert" else "  (tied: none)"


def _your_total_text(yours: float | None, expected: int, is_float: bool, config: Mapping[str, Any]) -> str:
    if yours is None:
        return "no single number returned"
    if not math.isfinite(yours):
        return f"{yours} (not a count)"
    gap = yours - expected
    if gap == 0:
        return f"{_count(yours)} (the expected number{', but a float' if is_float else ''})"
    relative = f"{100 * gap / expected:+.3g}%"
    text = f"{_count(yours)} ({_count(abs(gap))} {'fewer' if gap < 0 else 'more'}, {relative})"
    if float(yours).is_integer():  # the case message's reading, in short
        same = [what.split(" (")[0] for what, size in count_parts(config) if size == abs(int(gap))]
        if same:
            text += f"\n= {' or '.join(same[:2])}: {'missing' if gap < 0 else 'counted twice'}?"
    if yours < 1:
        text += " (not drawn on a log scale)"
    return text


def _model_sizes(exercise, details, failing, target: Path) -> Path | None:
    """The lesson's model-size chart with the student's counts for the failing public configs."""
    from matplotlib.lines import Line2D

    from course.plots import style
    from course.plots.figures import draw_chart, sources_line

    course = details.course
    lesson = course.lesson(exercise.lesson) if course is not None else None
    figure = lesson.figure(MODEL_SIZES_CHART) if lesson is not None else None
    if figure is None or not getattr(figure, "series", None):
        return None
    counts = [(case, _student_total(case)) for case in failing if _config(case) is not None]
    counts = [(case, total) for case, total in counts if total is not None]
    if not counts:
        return None
    ys = [p.y for s in figure.series for p in s.points]
    low, high = min(ys) / 30, max(ys) * 30
    shown = [(c, t) for c, t in counts if math.isfinite(t) and low <= t <= high]
    left_out = [(c, t) for c, t in counts if (c, t) not in shown]

    def extra(ax):
        entries = []
        for number, (case, total) in enumerate(shown):
            colour = (style.YOURS_COLOUR, style.OKABE_ITO["reddish_purple"], style.OKABE_ITO["orange"])[number % 3]
            dashes = ("-", "--", "-.")[number % 3]
            ax.axhline(total, color=colour, linestyle=dashes, linewidth=1.1, alpha=0.75, zorder=1)
            expected = sum(parameter_breakdown(_config(case)).values())
            entries.append((Line2D([], [], color=colour, linestyle=dashes),
                            f"yours, {case.name}: {_count(total)} (expected {_count(expected)})"))
        return entries

    footnote = sources_line(lesson, figure)
    footnote += "." if footnote and not footnote.endswith(".") else ""
    if left_out:
        footnote += " Not on the chart (outside its range): " + "; ".join(
            f"yours for {c.name}: {_count(t)}" for c, t in left_out) + "."
    title = f"{exercise.id}, failing configs: your counts on the lesson's chart of published model sizes"
    if not shown:
        title += " (none in its range)"
    return draw_chart(figure, target.with_suffix(""), footnote=footnote, extra=extra, title=title, svg=True)[0]
