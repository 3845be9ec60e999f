"""Mistake: never applies the mask."""
import numpy as np


def self_attention(query, key, value, mask=None):
    scores = query @ key.swapaxes(-1, -2) / np.sqrt(query.shape[-1])
    exps = np.exp(scores - np.max(scores, axis=-1, keepdims=True))
    weights = exps / np.sum(exps, axis=-1, keepdims=True)
    return weights @ value
