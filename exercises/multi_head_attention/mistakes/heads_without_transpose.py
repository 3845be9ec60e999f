"""Mistake: splits the heads with reshape(..., n_heads, seq, d_head), without moving an axis."""
import numpy as np


def _attention(query, key, value, mask):
    scores = query @ np.swapaxes(key, -1, -2) / np.sqrt(query.shape[-1])
    if mask is not None:
        scores = np.where(mask, scores, -np.inf)
    peak = np.max(scores, axis=-1, keepdims=True)
    peak = np.where(np.isfinite(peak), peak, 0.0)
    weights = np.exp(scores - peak)
    return weights / np.sum(weights, axis=-1, keepdims=True) @ value


def multi_head_attention(x, params, n_heads, mask=None):
    x = np.asarray(x, dtype=np.float64)
    *lead, seq, d_model = x.shape
    d_head = d_model // n_heads

    def split(y):
        return y.reshape(*lead, n_heads, seq, d_head)

    q = split(x @ params["W_q"] + params["b_q"])
    k = split(x @ params["W_k"] + params["b_k"])
    v = split(x @ params["W_v"] + params["b_v"])
    if mask is not None:
        mask = np.expand_dims(np.asarray(mask, dtype=bool), -3)
    heads = _attention(q, k, v, mask)
    merged = heads.reshape(*lead, seq, d_model)
    return merged @ params["W_o"] + params["b_o"]
