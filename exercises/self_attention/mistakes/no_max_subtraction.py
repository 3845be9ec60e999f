"""Mistake: exponentiates the scores without subtracting the row maximum (overflow)."""
import numpy as np


def self_attention(query, key, value, mask=None):
    scores = query @ key.swapaxes(-1, -2) / np.sqrt(query.shape[-1])
    if mask is not None:
        scores = np.where(mask, scores, -np.inf)
    exps = np.exp(scores)
    weights = exps / np.sum(exps, axis=-1, keepdims=True)
    return weights @ value
