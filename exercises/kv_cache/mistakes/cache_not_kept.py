"""Mistake: appends the new token's key and value for its own step but does not keep them for the next tokens."""
import numpy as np


def _layer_norm(x, gamma, beta):
    mean = x.mean(axis=-1, keepdims=True)
    var = ((x - mean) ** 2).mean(axis=-1, keepdims=True)
    return gamma * (x - mean) / np.sqrt(var + 1e-5) + beta


def _gelu(x):
    return 0.5 * x * (1.0 + np.tanh(np.sqrt(2.0 / np.pi) * (x + 0.044715 * x * x * x)))


def kv_decode(params, cache, tokens):
    p = {k: np.asarray(v, dtype=np.float64) for k, v in params.items() if not k.startswith("config.")}
    n_layers, n_heads = int(params["config.n_layers"]), int(params["config.n_heads"])
    d_model = p["tok_emb"].shape[1]
    d_head = d_model // n_heads
    start = np.asarray(cache["k.0"]).shape[1]
    cache = {name: np.asarray(value, dtype=np.float64) for name, value in cache.items()}
    rows = []
    for j, token in enumerate(np.asarray(tokens).reshape(-1)):
        x = p["tok_emb"][token] + p["pos_emb"][start + j]
        for i in range(n_layers):
            b = f"blocks.{i}."
            h = _layer_norm(x, p[b + "ln1.gamma"], p[b + "ln1.beta"])
            q, k, v = ((h @ p[b + f"attn.W_{n}"] + p[b + f"attn.b_{n}"]).reshape(n_heads, 1, d_head) for n in "qkv")
            keys = np.concatenate([cache[f"k.{i}"], k], axis=1)
            values = np.concatenate([cache[f"v.{i}"], v], axis=1)
            scores = q @ keys.swapaxes(-1, -2) / np.sqrt(d_head)
            weights = np.exp(scores - scores.max(axis=-1, keepdims=True))
            weights /= weights.sum(axis=-1, keepdims=True)
            x = x + (weights @ values).reshape(d_model) @ p[b + "attn.W_o"] + p[b + "attn.b_o"]
            h = _layer_norm(x, p[b + "ln2.gamma"], p[b + "ln2.beta"])
            x = x + _gelu(h @ p[b + "mlp.W_1"] + p[b + "mlp.b_1"]) @ p[b + "mlp.W_2"] + p[b + "mlp.b_2"]
        x = _layer_norm(x, p["ln_f.gamma"], p["ln_f.beta"])
        rows.append(x @ p["tok_emb"].T)
    return np.array(rows)
