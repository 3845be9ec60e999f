"""tiny_gpt's own feedback (course.grading.hooks): text <-> tokens, greedy generation, a
picture of a failing prompt, and the showcase: the text the student's model writes.

Loaded by the grader, never imported in the sandbox. Pure numpy and the standard library
at import time.

    panels     positions: the logit error at every position of a failing public prompt,
               and the next-character distribution after it, expected vs yours
    showcase   after `course check tiny_gpt`, graded or not: greedy continuations of the
               PUBLIC prompts by the student's own forward pass, next to the reference
               model's. The generation runs in the sandbox: GENERATE_SOURCE, a trusted
               greedy loop, is appended to the student's file and calls their function;
               only token ids come back. They are decoded here with the vocabulary of
               weights.npz, so whatever the student's code does, the characters shown are
               the lesson's own (weights.npz holds no control characters; a test checks).
               The reference's continuations are stored in showcase.npz
               (tools/tiny_gpt_showcase.py writes it; a test checks it against the
               reference), so the student edition, which has no reference, shows them too.
"""
from __future__ import annotations

from pathlib import Path

from course.plots.kit import headline  # the first line of a message, shortened

import numpy as np

N_NEW = 48  # characters generated after each public prompt
SHOWCASE_SECONDS = 6  # the reference writes all three continuations in ~0.3 s; the grade is already shown
SHOWCASE_FILE = "showcase.npz"
SHOWCASE_FUNCTION = "_course_showcase_generate"
CAPTIONS = {"positions": "your logits' error at each position of the prompt, and the next character after it"}

# The greedy loop, as source: appended to the student's file in the sandbox (calling their
# function) and executed here with the reference's (generate). {name}: the loop's name;
# {function}: the forward pass it calls. Standalone: numpy only, imported inside.
GENERATE_SOURCE = '''

def {name}(params, prompt_tokens, n_new):
    """Greedy decoding: append argmax({function}(params, window)[-1]) n_new times (trusted code)."""
    import numpy as _np

    context = int(params["config.context"])
    vocab_size = int(params["config.vocab_size"])
    tokens = [int(t) for t in _np.asarray(prompt_tokens).reshape(-1)]
    if not tokens:
        raise ValueError("the prompt needs at least one token")
    for _ in range(int(n_new)):
        window = _np.array(tokens[-context:], dtype=_np.int64)
        logits = _np.asarray({function}(params, window))
        if logits.shape != (len(window), vocab_size):
            raise ValueError(f"logits of shape {{logits.shape}}, expected {{(len(window), vocab_size)}}")
        last = logits[-1]
        if not _np.all(_np.isfinite(last)):
            raise ValueError("the logits are not finite")
        tokens.append(int(_np.argmax(last)))
    return _np.array(tokens, dtype=_np.int64)
'''


def vocabulary(params):
    """The characters of the vocabulary, in token-id order (weights.npz stores code points)."""
    return [chr(int(code)) for code in params["vocab"]]


def encode(params, text):
    """Token ids (int64) of `text`; every character must be in the vocabulary."""
    index = {ch: i for i, ch in enumerate(vocabulary(params))}
    missing = sorted({ch for ch in text if ch not in index})
    if missing:
        raise ValueError(f"characters not in the vocabulary: {''.join(missing)!r}")
    return np.array([index[ch] for ch in text], dtype=np.int64)


def decode(params, tokens):
    """The text of a sequence of token ids."""
    chars = vocabulary(params)
    return "".join(chars[int(t)] for t in tokens)


def generate(params, prompt_tokens, n_new, forward):
    """Greedy decoding: append argmax(forward(params, window)[-1]) `n_new` times.

    `forward(params, tokens)` returns logits (seq, vocab_size): the reference's `tiny_gpt`
    or a student's. The window is the last `config.context` tokens, the most the model's
    position embeddings cover. np.argmax takes the first of equal maxima, so the result
    is a deterministic function of the logits. Returns the prompt followed by the new
    tokens (int64). Raises ValueError when the logits have the wrong shape or are not
    finite: there is then no next token to pick. The same loop runs in the sandbox.
    """
    namespace = {"forward": forward}
    exec(GENERATE_SOURCE.format(name="greedy", function="forward"), namespace)  # our own constant source
    return namespace["greedy"](params, prompt_tokens, n_new)


def side_by_side(prompt, yours, reference, width=72):
    """The two continuations of `prompt`, one above the other, with the first difference marked.

    `yours` and `reference` are the generated texts without the prompt. Newlines are
    shown as "⏎" so each continuation stays on one line per `width` characters.
    """
    def shown(text):
        return text.replace("\n", "⏎")

    def wrapped(label, text):
        lines = [text[i: i + width] for i in range(0, len(text), width)] or [""]
        return [f"{label:<11}{lines[0]}"] + [" " * 11 + line for line in lines[1:]]

    yours, reference = shown(yours), shown(reference)
    out = [f"prompt     {shown(prompt)}"]
    out += wrapped("yours", yours)
    out += wrapped("reference", reference)
    differ = next((i for i, (a, b) in enumerate(zip(yours, reference)) if a != b), None)
    if differ is None and len(yours) == len(reference):
        out.append("identical: your model generates the reference's text")
    else:
        differ = min(len(yours), len(reference)) if differ is None else differ
        out.append(f"first difference at generated character {differ + 1}")
    return "\n".join(out)


# --------------------------------------------------------------------------- the showcase


def stored_continuations(folder) -> dict[str, np.ndarray]:
    """showcase.npz: case name -> the reference's greedy tokens (prompt + continuation); {} if absent."""
    path = Path(folder) / SHOWCASE_FILE
    try:
        with np.load(path, allow_pickle=False) as npz:
            return {name: np.array(npz[name]) for name in npz.files}
    except (OSError, ValueError):
        return {}


def showcase(exercise, public):
    """The plan of the showcase: greedy continuations of the public prompts (course.grading.hooks).

    public: case name -> (args, kwargs) of the exercise's PUBLIC cases only.
    """
    stored = stored_continuations(exercise.folder)
    prompts = []  # (case name, params, prompt tokens, reference tokens or None, n_new)
    for name, (args, kwargs) in public.items():
        params = args[0] if args else kwargs.get("params")
        tokens = args[1] if len(args) > 1 else kwargs.get("tokens")
        if not isinstance(params, dict) or tokens is None:
            continue
        prompt = np.asarray(tokens, dtype=np.int64).reshape(-1)
        reference = stored.get(name)
        if reference is not None and (len(reference) <= len(prompt)
                                      or not np.array_equal(reference[: len(prompt)], prompt)):
            reference = None  # stored for another prompt: a stale file
        n_new = len(reference) - len(prompt) if reference is not None else N_NEW
        prompts.append((name, params, prompt, reference, n_new))
    if not prompts:
        return None

    def render(outcomes) -> str:
        blocks = []
        for (_name, params, prompt, reference, n_new), outcome in zip(prompts, outcomes):
            text = decode(params, prompt)
            theirs = _continuation(params, prompt, n_new, outcome)
            if reference is None:
                blocks.append(f"prompt     {text}\nyours      {theirs if isinstance(theirs, str) else ''}\n"
                              "(the reference's text for this prompt is not available)")
            elif isinstance(theirs, str):
                blocks.append(side_by_side(text, theirs, decode(params, reference[len(prompt):]), width=64))
            else:
                ref = decode(params, reference[len(prompt):]).replace("\n", "⏎")
                blocks.append(f"prompt     {text}\nyours      ({theirs[0]})\nreference  {ref}")
        return "\n\n".join(blocks)

    return {
        "title": "What your model writes (greedy decoding of the public prompts)",
        "wrapper": GENERATE_SOURCE.format(name=SHOWCASE_FUNCTION, function=exercise.function),
        "function": SHOWCASE_FUNCTION,
        "calls": [((params, prompt, n_new), {}) for _, params, prompt, _, n_new in prompts],
        "render": render,
        "wall_seconds": SHOWCASE_SECONDS,
    }


def _continuation(params, prompt, n_new, outcome):
    """The decoded continuation (str), or (why there is none,) from one sandbox outcome.

    Only token ids are used, checked against the vocabulary and the prompt; an exception
    is named by its type alone (a Python name), never by the message the code chose.
    """
    import re

    status = getattr(outcome, "status", None)
    status = getattr(status, "value", status)
    if status == "raised":
        head = (getattr(outcome, "error", "") or "").strip().split(":", 1)[0]
        kind = head if re.fullmatch(r"[A-Za-z_][A-Za-z0-9_.]{0,60}", head or "") else "an exception"
        return (f"your model stopped with {kind}: it could not generate",)
    if status != "ok" or outcome.value is None:
        return (f"your model did not finish generating within the showcase's {SHOWCASE_SECONDS} s",)
    tokens = np.asarray(outcome.value)
    vocab_size = len(params["vocab"])
    if (tokens.dtype.kind not in "iu" or tokens.ndim != 1 or len(tokens) != len(prompt) + n_new
            or not np.array_equal(tokens[: len(prompt)], prompt) or tokens.min() < 0 or tokens.max() >= vocab_size):
        return ("the generation returned something that is not the prompt followed by token ids",)
    return decode(params, tokens[len(prompt):])


# --------------------------------------------------------------------------- picture


def panels(case):
    return [("positions", _positions)]


def _positions(exercise, case, target: Path) -> Path | None:
    from course.plots import style

    params = case.args[0] if case.args and isinstance(case.args[0], dict) else None
    expected = np.asarray(case.expected, dtype=np.float64)
    yours = np.asarray(case.got.value)
    if params is None or expected.ndim != 2 or yours.shape != expected.shape or yours.dtype.kind not in "biuf":
        return None
    yours = yours.astype(np.float64)
    prompt = np.asarray(case.args[1]).reshape(-1)
    chars = vocabulary(params)
    fig, (left, right) = style.new_panels(f"{exercise.id}, case '{case.name}': your logits, position by position",
                                          2, (11.5, 4.2), gridspec_kw={"width_ratios": (1.2, 1)})
    gap = np.where(np.isfinite(yours), np.abs(yours - expected), np.inf).max(axis=1)
    positions = np.arange(len(gap))
    finite = np.where(np.isfinite(gap), gap, np.nan)
    top = float(np.nanmax(finite)) if np.isfinite(gap).any() else 1.0
    tolerance = 1e-4 + 1e-4 * np.abs(expected).max(axis=1)
    left.bar(positions, np.nan_to_num(finite), 0.7,
             color=[style.YOURS_COLOUR if g > t else style.EXPECTED_COLOUR for g, t in zip(gap, tolerance)])
    style.label(left, "Largest logit error at each position", "Position (the character there)",
                "Largest |yours − expected|")
    if len(prompt) <= 40:
        left.set_xticks(positions, labels=[_shown(chars[int(t)]) for t in prompt])
    left.set_ylim(0, (top or 1.0) * 1.2)
    # the next character after the whole prompt: the last row's softmax
    e_probs, y_probs = _softmax(expected[-1]), _softmax(yours[-1])
    best = np.argsort(-e_probs, kind="stable")[:8]
    rows = np.arange(len(best))[::-1]
    right.barh(rows + 0.2, e_probs[best], 0.4, color=style.EXPECTED_COLOUR, label="expected")
    right.barh(rows - 0.2, np.nan_to_num(y_probs[best]), 0.4, color=style.YOURS_COLOUR, label="yours")
    right.set_yticks(rows, labels=[repr(_shown(chars[int(t)])) for t in best])
    style.label(right, "The next character after the prompt", "Probability", "Character (the expected top 8)")
    right.set_xlim(0, 1.05)
    right.legend(loc="lower right", fontsize=7.5)
    text = decode(params, prompt).replace("\n", "⏎")
    text = text if len(text) <= 80 else text[:79] + "…"
    style.finish(fig, f"Prompt: \"{text}\". Red: beyond the tolerance (rtol 1e-4, atol 1e-4). "
                      + headline(case.message, 200))
    return style.save(fig, target)[0]


def _softmax(row):
    if not np.all(np.isfinite(row)):
        return np.full(row.shape, np.nan)
    e = np.exp(row - row.max())
    return e / e.sum()


def _shown(ch: str) -> str:
    return {"\n": "⏎", " ": "␣"}.get(ch, ch)
