"""Reference solution for the self_attention exercise (instructor only: never shipped to students)."""
import numpy as np


def self_attention(query, key, value, mask=None):
    """Scaled dot-product attention (Vaswani et al. 2017, eq. 1), with any leading batch axes.

    weights = softmax(query @ key^T / sqrt(d_k)) over the keys; output = weights @ value.

    - `swapaxes(-1, -2)` transposes only the last two axes, so batch axes stay put
      (`.T` would reverse all of them).
    - Masked-out scores become -inf *before* the softmax, so their weight is exactly 0.
    - The row maximum is subtracted before `np.exp`: scores in the thousands do not
      overflow. A row with every key masked has maximum -inf; it is shifted by 0
      instead, its exponentials are all 0, and its weights (hence its output) are
      defined as zeros rather than 0/0 = NaN.
    """
    query = np.asarray(query, dtype=np.float64)
    key = np.asarray(key, dtype=np.float64)
    value = np.asarray(value, dtype=np.float64)
    d_k = query.shape[-1]

    scores = query @ key.swapaxes(-1, -2) / np.sqrt(d_k)  # (..., seq_q, seq_k)
    if mask is not None:
        scores = np.where(np.asarray(mask, dtype=bool), scores, -np.inf)

    row_max = np.max(scores, axis=-1, keepdims=True)
    row_max = np.where(np.isfinite(row_max), row_max, 0.0)  # fully masked rows
    exps = np.exp(scores - row_max)
    totals = np.sum(exps, axis=-1, keepdims=True)
    weights = np.divide(exps, totals, out=np.zeros_like(exps), where=totals > 0)
    return weights @ value
