"""Reference solution for the cross_entropy exercise (instructor only: never shipped to students)."""
import numpy as np


def log_softmax(logits):
    """log(softmax(logits)) over the last axis, finite for any finite logits.

    log softmax(x)_i = x_i - logsumexp(x), and logsumexp(x) = m + log(sum(exp(x - m)))
    with m = max(x): every exponent is <= 0, the sum is >= 1, so nothing overflows and
    the log never sees 0. Taking log(softmax(x)) instead fails when a probability
    underflows to 0 (a logit ~745 below the maximum): log(0) = -inf.
    """
    x = np.asarray(logits, dtype=np.float64)
    peak = np.max(x, axis=-1, keepdims=True)
    return x - peak - np.log(np.sum(np.exp(x - peak), axis=-1, keepdims=True))


def cross_entropy(logits, targets, ignore_index=-100):
    """[mean cross-entropy in nats over the kept positions, perplexity = exp(that mean)].

    logits (..., V), targets (...) of ints; a position whose target equals ignore_index
    (padding) counts neither in the sum nor in the number the sum is divided by.
    """
    log_probs = log_softmax(logits)
    targets = np.asarray(targets)
    keep = targets != ignore_index
    picked = np.take_along_axis(log_probs, np.where(keep, targets, 0)[..., None], axis=-1)[..., 0]
    loss = -np.sum(picked[keep]) / np.count_nonzero(keep)
    with np.errstate(over="ignore"):  # a loss above ~709 nats: the perplexity is inf, as it should be
        return np.array([loss, np.exp(loss)])
