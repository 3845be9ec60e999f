"""Reference solution for the sampling exercise (instructor only: never shipped to students)."""
import numpy as np


def _filtered_distribution(logits, temperature, top_k, top_p):
    """The renormalised next-token distribution (..., V) after temperature, top-k and top-p."""
    x = np.asarray(logits, dtype=np.float64)
    vocab = x.shape[-1]
    if temperature == 0:  # the limit T -> 0: all the probability on the first largest logit
        return np.eye(vocab)[np.argmax(x, axis=-1)]
    scaled = x / temperature
    # tokens by decreasing logit, ties by increasing index (a stable sort of -x)
    order = np.argsort(-scaled, axis=-1, kind="stable")
    rank = np.empty_like(order)
    np.put_along_axis(rank, order, np.arange(vocab), axis=-1)  # rank[i]: token i's place in that order
    keep = np.ones(x.shape, dtype=bool)
    if top_k and top_k < vocab:
        keep &= rank < top_k
    masked = np.where(keep, scaled, -np.inf)
    exps = np.exp(masked - np.max(masked, axis=-1, keepdims=True))
    probs = exps / np.sum(exps, axis=-1, keepdims=True)
    if top_p < 1.0:
        sorted_probs = np.take_along_axis(probs, order, axis=-1)
        before = np.cumsum(sorted_probs, axis=-1) - sorted_probs  # the mass ranked before each token
        keep_sorted = before < top_p                               # the token that crosses top_p stays
        keep &= np.take_along_axis(keep_sorted, rank, axis=-1)
        probs = np.where(keep, probs, 0.0)
        probs = probs / np.sum(probs, axis=-1, keepdims=True)
    return probs


def sample(logits, u=None, temperature=1.0, top_k=0, top_p=1.0):
    """Temperature, top-k and top-p (nucleus) sampling with the randomness passed in.

    Without `u`: the renormalised distribution (..., V) itself. With `u` (an array of
    uniform numbers in [0, 1), one per distribution, shape (...)): the token each u picks
    by inverse transform sampling, the first token (in vocabulary order) whose cumulative
    probability exceeds u. Rounding can leave the last cumulative sum a hair below 1; a u
    beyond it picks the last token that has any probability.
    """
    probs = _filtered_distribution(logits, float(temperature), int(top_k), float(top_p))
    if u is None:
        return probs
    u = np.asarray(u, dtype=np.float64)
    cumulative = np.cumsum(probs, axis=-1)
    picked = np.sum(cumulative <= u[..., None], axis=-1)   # how many cumulative sums are <= u
    last = probs.shape[-1] - 1 - np.argmax((probs > 0)[..., ::-1], axis=-1)
    return np.minimum(picked, last).astype(np.int64)
