"""Mistake: never adds the position embeddings."""
import numpy as np


def _layer_norm(x, gamma, beta, eps=1e-5):
    mean = x.mean(axis=-1, keepdims=True)
    var = x.var(axis=-1, keepdims=True)
    return gamma * (x - mean) / np.sqrt(var + eps) + beta


def _softmax(x):
    e = np.exp(x - x.max(axis=-1, keepdims=True))
    return e / e.sum(axis=-1, keepdims=True)


def _gelu(x):
    return 0.5 * x * (1.0 + np.tanh(np.sqrt(2.0 / np.pi) * (x + 0.044715 * x * x * x)))


def _attention(x, p, b, n_heads):
    seq, d = x.shape
    dh = d // n_heads
    q, k, v = ((x @ p[b + "W_" + n] + p[b + "b_" + n]).reshape(seq, n_heads, dh).transpose(1, 0, 2) for n in "qkv")
    scores = q @ k.transpose(0, 2, 1) / np.sqrt(dh)
    scores = np.where(np.tril(np.ones((seq, seq), dtype=bool)), scores, -np.inf)
    y = (_softmax(scores) @ v).transpose(1, 0, 2).reshape(seq, d)
    return y @ p[b + "W_o"] + p[b + "b_o"]


def tiny_gpt(params, tokens):
    p = {k: np.asarray(v, dtype=np.float64) for k, v in params.items()}
    n_heads = int(params["config.n_heads"])
    x = p["tok_emb"][tokens]
    for i in range(int(params["config.n_layers"])):
        b = f"blocks.{i}."
        x = x + _attention(_layer_norm(x, p[b + "ln1.gamma"], p[b + "ln1.beta"]), p, b + "attn.", n_heads)
        h = _layer_norm(x, p[b + "ln2.gamma"], p[b + "ln2.beta"])
        x = x + _gelu(h @ p[b + "mlp.W_1"] + p[b + "mlp.b_1"]) @ p[b + "mlp.W_2"] + p[b + "mlp.b_2"]
    x = _layer_norm(x, p["ln_f.gamma"], p["ln_f.beta"])
    return x @ p["tok_emb"].T
