"""Mistake: computes log(sum(exp(x))) without subtracting the maximum first."""
import numpy as np


def _log_softmax(logits):
    x = np.asarray(logits, dtype=np.float64)
    return x - np.log(np.sum(np.exp(x), axis=-1, keepdims=True))


def cross_entropy(logits, targets, ignore_index=-100):
    log_probs = _log_softmax(logits)
    targets = np.asarray(targets)
    keep = targets != ignore_index
    picked = np.take_along_axis(log_probs, np.where(keep, targets, 0)[..., None], axis=-1)[..., 0]
    loss = -np.sum(picked[keep]) / np.count_nonzero(keep)
    return np.array([loss, np.exp(loss)])
