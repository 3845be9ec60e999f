"""Mistake: takes the softmax over the queries (axis -2) instead of over the keys."""
import numpy as np


def self_attention(query, key, value, mask=None):
    scores = query @ key.swapaxes(-1, -2) / np.sqrt(query.shape[-1])
    if mask is not None:
        scores = np.where(mask, scores, -np.inf)
    exps = np.exp(scores - np.max(scores, axis=-2, keepdims=True))
    weights = exps / np.sum(exps, axis=-2, keepdims=True)
    return weights @ value
