"""Mistake: never passes the mask to the attention."""
import numpy as np

LN_EPS = 1e-5


def _layer_norm(x, p):
    mean = np.mean(x, axis=-1, keepdims=True)
    centered = x - mean
    variance = np.mean(centered * centered, axis=-1, keepdims=True)
    return np.asarray(p["gamma"], dtype=np.float64) * centered / np.sqrt(variance + LN_EPS) + p["beta"]


def _attention(query, key, value, mask):
    scores = query @ np.swapaxes(key, -1, -2) / np.sqrt(query.shape[-1])
    if mask is not None:
        scores = np.where(mask, scores, -np.inf)
    peak = np.max(scores, axis=-1, keepdims=True)
    peak = np.where(np.isfinite(peak), peak, 0.0)
    weights = np.exp(scores - peak)
    total = np.sum(weights, axis=-1, keepdims=True)
    return np.divide(weights, total, out=np.zeros_like(weights), where=total > 0) @ value


def _multi_head_attention(x, p, n_heads, mask):
    *lead, seq, d_model = x.shape
    d_head = d_model // n_heads

    def split(y):
        return np.swapaxes(y.reshape(*lead, seq, n_heads, d_head), -2, -3)

    q, k, v = (split(x @ np.asarray(p["W_" + n], dtype=np.float64) + p["b_" + n]) for n in "qkv")
    if mask is not None:
        mask = np.expand_dims(np.asarray(mask, dtype=bool), -3)
    heads = _attention(q, k, v, mask)
    merged = np.swapaxes(heads, -2, -3).reshape(*lead, seq, d_model)
    return merged @ np.asarray(p["W_o"], dtype=np.float64) + p["b_o"]


def gelu(x):
    return 0.5 * x * (1.0 + np.tanh(np.sqrt(2.0 / np.pi) * (x + 0.044715 * x * x * x)))


def _mlp(x, p):
    hidden = gelu(x @ np.asarray(p["W_1"], dtype=np.float64) + p["b_1"])
    return hidden @ np.asarray(p["W_2"], dtype=np.float64) + p["b_2"]


def transformer_block(x, params, n_heads, mask=None):
    x = np.asarray(x, dtype=np.float64)
    h = x + _multi_head_attention(_layer_norm(x, params["ln1"]), params["attn"], int(n_heads), None)
    return h + _mlp(_layer_norm(h, params["ln2"]), params["mlp"])
