"""Trusted helpers for the tiny_gpt capstone's feedback: text <-> tokens, greedy generation,
and the student's generated text shown next to the reference's.

Pure numpy and the standard library, no course imports: the integration may run
`generate` in the trusted parent with the reference's forward pass, and in the sandboxed
child with the student's (sending this file's source, as the grader sends protocol.py),
so that only token ids cross the boundary. Text is always decoded here, from the
course's own vocabulary: whatever a student's model does, the characters shown are
lesson characters (no terminal escapes can come out of it).
"""
import numpy as np


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

    `forward(params, tokens)` returns logits (seq, vocab_size): the reference's
    `tiny_gpt` or a student's. The window is the last `config.context` tokens, the most
    the model's position embeddings cover. np.argmax takes the first of equal maxima,
    so the result is a deterministic function of the logits. Returns the prompt followed
    by the new tokens (int64). Raises ValueError when the logits have the wrong shape or
    are not finite: there is then no next token to pick.
    """
    context = int(params["config.context"])
    vocab_size = int(params["config.vocab_size"])
    tokens = [int(t) for t in np.asarray(prompt_tokens).reshape(-1)]
    if not tokens:
        raise ValueError("the prompt needs at least one token")
    for _ in range(n_new):
        window = np.array(tokens[-context:], dtype=np.int64)
        logits = np.asarray(forward(params, window))
        if logits.shape != (len(window), vocab_size):
            raise ValueError(f"logits of shape {logits.shape}, expected {(len(window), vocab_size)}")
        last = logits[-1]
        if not np.all(np.isfinite(last)):
            raise ValueError("the logits are not finite")
        tokens.append(int(np.argmax(last)))
    return np.array(tokens, dtype=np.int64)


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
