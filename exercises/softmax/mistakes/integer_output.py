"""Mistake: casts the result back to the input's dtype (all zeros for integer logits)."""
import numpy as np


def softmax(x, axis=-1):
    x = np.asarray(x)
    exps = np.exp(x - np.max(x, axis=axis, keepdims=True))
    return (exps / np.sum(exps, axis=axis, keepdims=True)).astype(x.dtype)
