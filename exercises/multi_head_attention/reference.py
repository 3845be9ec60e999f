"""Reference solution for the multi_head_attention exercise (instructor only: never shipped to students)."""
import numpy as np


def _attention(query, key, value, mask):
    """softmax(Q K^T / sqrt(d_k)) V over (..., seq, d) arrays; masked-out keys get weight 0."""
    scores = query @ np.swapaxes(key, -1, -2) / np.sqrt(query.shape[-1])
    if mask is not None:
        scores = np.where(mask, scores, -np.inf)
    peak = np.max(scores, axis=-1, keepdims=True)
    peak = np.where(np.isfinite(peak), peak, 0.0)  # a fully masked row: weights 0, not NaN
    weights = np.exp(scores - peak)
    total = np.sum(weights, axis=-1, keepdims=True)
    weights = np.divide(weights, total, out=np.zeros_like(weights), where=total > 0)
    return weights @ value


def multi_head_attention(x, params, n_heads, mask=None):
    """Multi-head self-attention of x (..., seq, d_model) (Vaswani et al. 2017, section 3.2.2).

    q, k and v are x @ W + b; head h takes the contiguous columns h*d_head:(h+1)*d_head of
    each (d_head = d_model / n_heads). Splitting is reshape (..., seq, n_heads, d_head) then
    moving the head axis in front of seq, so the heads become one more batch axis of the
    attention; the mask (broadcastable to (..., seq, seq)) gets a head axis to broadcast
    over. Merging undoes both steps; the output projection W_o, b_o mixes the heads.
    """
    x = np.asarray(x, dtype=np.float64)
    p = {name: np.asarray(params[name], dtype=np.float64) for name in
         ("W_q", "b_q", "W_k", "b_k", "W_v", "b_v", "W_o", "b_o")}
    *lead, seq, d_model = x.shape
    n_heads = int(n_heads)
    d_head = d_model // n_heads

    def split(y):  # (..., seq, d_model) -> (..., n_heads, seq, d_head)
        return np.swapaxes(y.reshape(*lead, seq, n_heads, d_head), -2, -3)

    q = split(x @ p["W_q"] + p["b_q"])
    k = split(x @ p["W_k"] + p["b_k"])
    v = split(x @ p["W_v"] + p["b_v"])
    if mask is not None:
        mask = np.expand_dims(np.asarray(mask, dtype=bool), -3)  # (..., 1, seq, seq): every head
    heads = _attention(q, k, v, mask)                              # (..., n_heads, seq, d_head)
    merged = np.swapaxes(heads, -2, -3).reshape(*lead, seq, d_model)
    return merged @ p["W_o"] + p["b_o"]
