"""Reference solution for the kv_cache exercise (instructor only: never shipped to students).

The model is the tiny GPT of the tiny_gpt capstone (weights named as in its weights.npz):
pre-LN blocks of causal multi-head attention and a GELU MLP, learned positions, a final
LayerNorm and a tied output layer. `kv_decode` runs it one token at a time with a cache
of every layer's keys and values; `prefill` builds such a cache from tokens (the tests use
it to show that the step-by-step logits equal the full causal pass).
"""
import numpy as np

LN_EPS = 1e-5


def _layer_norm(x, gamma, beta):
    mean = np.mean(x, axis=-1, keepdims=True)
    centered = x - mean
    variance = np.mean(centered * centered, axis=-1, keepdims=True)
    return gamma * centered / np.sqrt(variance + LN_EPS) + beta


def _gelu(x):
    # x * x * x rather than x ** 3: the same cube, but numpy's power takes a slow path for negative
    # numbers (over 100 times slower here), and the graders run this function for every case.
    return 0.5 * x * (1.0 + np.tanh(np.sqrt(2.0 / np.pi) * (x + 0.044715 * x * x * x)))


def _weights(params):
    p = {name: np.asarray(value, dtype=np.float64) for name, value in params.items()
         if not name.startswith("config.") and name != "vocab"}
    return p, int(params["config.n_layers"]), int(params["config.n_heads"])


def _step(p, n_layers, n_heads, cache, token, position):
    """One new token at `position`: its logits (V,), and the cache with its keys and values appended."""
    x = p["tok_emb"][token] + p["pos_emb"][position]          # (D,)
    d_model = x.shape[-1]
    d_head = d_model // n_heads
    cache = dict(cache)
    for i in range(n_layers):
        b = f"blocks.{i}."
        h = _layer_norm(x, p[b + "ln1.gamma"], p[b + "ln1.beta"])
        q, k, v = ((h @ p[b + f"attn.W_{n}"] + p[b + f"attn.b_{n}"]).reshape(n_heads, 1, d_head) for n in "qkv")
        keys = np.concatenate([np.asarray(cache[f"k.{i}"], dtype=np.float64), k], axis=1)   # (H, t + 1, d_head)
        values = np.concatenate([np.asarray(cache[f"v.{i}"], dtype=np.float64), v], axis=1)
        cache[f"k.{i}"], cache[f"v.{i}"] = keys, values
        # no mask: the cache holds only this token and the ones before it
        scores = q @ keys.swapaxes(-1, -2) / np.sqrt(d_head)                                # (H, 1, t + 1)
        weights = np.exp(scores - scores.max(axis=-1, keepdims=True))
        weights /= weights.sum(axis=-1, keepdims=True)
        heads = (weights @ values).reshape(d_model)                                         # heads side by side
        x = x + heads @ p[b + "attn.W_o"] + p[b + "attn.b_o"]
        h = _layer_norm(x, p[b + "ln2.gamma"], p[b + "ln2.beta"])
        x = x + _gelu(h @ p[b + "mlp.W_1"] + p[b + "mlp.b_1"]) @ p[b + "mlp.W_2"] + p[b + "mlp.b_2"]
    x = _layer_norm(x, p["ln_f.gamma"], p["ln_f.beta"])
    return x @ p["tok_emb"].T, cache


def kv_decode(params, cache, tokens):
    """Logits (len(tokens), V) of new tokens that follow the P positions whose keys and values
    are in `cache` ("k.{i}", "v.{i}": (n_heads, P, d_head) per layer i), one token at a time.

    The first new token is at position P (the cache's length), so it gets pos_emb[P]. At
    each step every layer appends the token's key and value to its cache and attends over
    all of them: the cache holds only the past and the present, so no mask is needed. The
    caller's cache is never modified (np.concatenate makes new arrays).
    """
    p, n_layers, n_heads = _weights(params)
    tokens = np.asarray(tokens).reshape(-1)
    start = np.asarray(cache["k.0"]).shape[1]
    rows = []
    for j, token in enumerate(tokens):
        logits, cache = _step(p, n_layers, n_heads, cache, int(token), start + j)
        rows.append(logits)
    return np.array(rows)


def prefill(params, tokens):
    """The cache after the model has read `tokens` from position 0 (keys and values of every layer)."""
    p, n_layers, n_heads = _weights(params)
    d_head = p["tok_emb"].shape[1] // n_heads
    cache = {f"{kind}.{i}": np.zeros((n_heads, 0, d_head)) for i in range(n_layers) for kind in "kv"}
    for position, token in enumerate(np.asarray(tokens).reshape(-1)):
        _, cache = _step(p, n_layers, n_heads, cache, int(token), position)
    return cache
