"""Mistake: multiplies the logits by the temperature instead of dividing by it."""
import numpy as np


def _distribution(logits, temperature, top_k, top_p):
    x = np.asarray(logits, dtype=np.float64)
    vocab = x.shape[-1]
    if temperature == 0:
        return np.eye(vocab)[np.argmax(x, axis=-1)]
    scaled = x * temperature
    order = np.argsort(-scaled, axis=-1, kind="stable")
    rank = np.argsort(order, axis=-1)
    keep = np.ones(x.shape, dtype=bool)
    if top_k and top_k < vocab:
        keep &= rank < top_k
    masked = np.where(keep, scaled, -np.inf)
    exps = np.exp(masked - np.max(masked, axis=-1, keepdims=True))
    probs = exps / np.sum(exps, axis=-1, keepdims=True)
    if top_p < 1.0:
        sorted_probs = np.take_along_axis(probs, order, axis=-1)
        before = np.cumsum(sorted_probs, axis=-1) - sorted_probs
        keep &= np.take_along_axis(before < top_p, rank, axis=-1)
        probs = np.where(keep, probs, 0.0)
        probs = probs / np.sum(probs, axis=-1, keepdims=True)
    return probs


def sample(logits, u=None, temperature=1.0, top_k=0, top_p=1.0):
    probs = _distribution(logits, float(temperature), int(top_k), float(top_p))
    if u is None:
        return probs
    cumulative = np.cumsum(probs, axis=-1)
    picked = np.sum(cumulative <= np.asarray(u)[..., None], axis=-1)
    return np.minimum(picked, probs.shape[-1] - 1).astype(np.int64)
