"""What a failed public case's numbers say, beyond "got X, expected Y": per exercise.

Known mistakes (course.grading.compare.match_mistakes) name failures that a declared
wrong implementation reproduces. Some failures are better read from the numbers
themselves: a parameter count that is off by exactly the size of one LayerNorm, of the
biases, or of an embedding table. `explain` adds such a reading to the case's message.

Public cases only, always: a hidden case's message is the constant of
course.grading.checks, and nothing computed from its inputs or from what the
submission returned on them may reach the student (check.py calls `explain` for
public cases alone).

Each exercise's reader is registered by the exercise's id in EXPLAINERS, so the engine
does not grow `if exercise == ...` branches; an exercise without one gets nothing.
"""
from __future__ import annotations

import math
from typing import Any, Callable, Mapping

COMPONENTS = ("embeddings", "attention", "feed-forward", "norms", "head")


def parameter_breakdown(config: Mapping[str, Any]) -> dict[str, int]:
    """The exact parameter count of a GPT-2- or BERT-style config, by component (DESIGN.md's conventions).

    embeddings: token + position (+ token-type for BERT); attention: Q, K, V and output
    projections with biases; feed-forward: d_model -> d_ff -> d_model with biases; norms:
    every LayerNorm (2 * d_model each: two per block, plus GPT-2's final one or BERT's
    embedding one); head: GPT-2's LM head when untied (tied: 0), BERT's pooler.
    """
    arch = config["arch"]
    layers, d, d_ff = int(config["n_layers"]), int(config["d_model"]), int(config["d_ff"])
    vocab, positions = int(config["vocab_size"]), int(config["max_positions"])
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
    layers, d, d_ff = int(config["n_layers"]), int(config["d_model"]), int(config["d_ff"])
    vocab, positions = int(config["vocab_size"]), int(config["max_positions"])
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


def count_offset(config: Mapping[str, Any], gap: int) -> str:
    """'1,536 fewer: exactly the size of one LayerNorm (...)'; '' when no part has that size."""
    same = [what for what, size in count_parts(config) if size == abs(gap)]
    if gap == 0 or not same:
        return ""
    verb = "left out" if gap < 0 else "counted twice"
    return f"{abs(gap):,} {'fewer' if gap < 0 else 'more'}: exactly the size of {' or of '.join(same)}: {verb}?"


def _param_count(args: tuple, kwargs: Mapping[str, Any], expected: Any, value: Any) -> str:
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
    except (KeyError, TypeError, ValueError):
        return ""


EXPLAINERS: dict[str, Callable[[tuple, Mapping[str, Any], Any, Any], str]] = {
    "param_count": _param_count,
}


def explain(exercise, args: tuple, kwargs: Mapping[str, Any], expected: Any, value: Any) -> str:
    """A reading of a failed PUBLIC case's output (never call it for a hidden case); '' when none.

    The exercise's own `explain` hook (course.grading.hooks) first, then EXPLAINERS.
    """
    from course.grading.hooks import hook

    explainer = hook(exercise, "explain") or EXPLAINERS.get(exercise.id)
    if explainer is None or value is None:
        return ""
    try:
        import numpy as np

        array = np.asarray(value)
        if array.size != 1:
            return ""
        return explainer(tuple(args), kwargs, np.asarray(expected).reshape(()).item(), array.reshape(()).item())
    except Exception:  # a reading is an extra: it must never cost a grade
        return ""
