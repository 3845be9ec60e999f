"""Reference solution for the tiny_gpt capstone (instructor only: never shipped to students).

The forward pass of a small GPT-2-style, character-level model, assembled from the pieces
the earlier exercises teach: softmax, layer norm, the causal mask, scaled dot-product
attention, multi-head attention and a GELU MLP. The weights are tools/train_tiny_gpt.py's
weights.npz (its docstring and dev/tiny_gpt/README.md list every array).
"""
import numpy as np

LN_EPS = 1e-5


def softmax(x, axis=-1):
    """exp(x) / sum(exp(x)), after subtracting the maximum so that nothing overflows."""
    exps = np.exp(x - np.max(x, axis=axis, keepdims=True))
    return exps / np.sum(exps, axis=axis, keepdims=True)


def layer_norm(x, gamma, beta, eps=LN_EPS):
    """Normalize each vector along the last axis (biased variance), then scale and shift."""
    mean = np.mean(x, axis=-1, keepdims=True)
    centered = x - mean
    variance = np.mean(centered * centered, axis=-1, keepdims=True)
    return gamma * centered / np.sqrt(variance + eps) + beta


def causal_mask(seq_len):
    """True where query i may attend to key j, i.e. j <= i."""
    return np.tril(np.ones((seq_len, seq_len), dtype=bool))


def attention(query, key, value, mask):
    """softmax(Q K^T / sqrt(d_k)) V over (..., seq, d) arrays; masked-out keys get weight 0."""
    d_k = query.shape[-1]
    scores = query @ key.swapaxes(-1, -2) / np.sqrt(d_k)
    scores = np.where(mask, scores, -np.inf)
    return softmax(scores, axis=-1) @ value


def multi_head_attention(x, p, prefix, n_heads):
    """Causal multi-head self-attention of x (seq, d_model) with the weights named prefix + "W_q" etc.

    Each projection is (d_model, d_model); head h uses the contiguous columns
    h*d_head:(h+1)*d_head of q, k and v. Splitting is reshape (seq, n_heads, d_head) then
    moving the head axis first, so that `attention` sees heads as a batch axis; merging
    undoes both steps before the output projection W_o.
    """
    seq, d_model = x.shape
    d_head = d_model // n_heads

    def split_heads(y):  # (seq, d_model) -> (n_heads, seq, d_head)
        return y.reshape(seq, n_heads, d_head).transpose(1, 0, 2)

    q = split_heads(x @ p[prefix + "W_q"] + p[prefix + "b_q"])
    k = split_heads(x @ p[prefix + "W_k"] + p[prefix + "b_k"])
    v = split_heads(x @ p[prefix + "W_v"] + p[prefix + "b_v"])
    heads = attention(q, k, v, causal_mask(seq))               # (n_heads, seq, d_head)
    merged = heads.transpose(1, 0, 2).reshape(seq, d_model)   # back to (seq, d_model)
    return merged @ p[prefix + "W_o"] + p[prefix + "b_o"]


def gelu(x):
    """GELU, tanh approximation (as GPT-2): 0.5 x (1 + tanh(sqrt(2/pi) (x + 0.044715 x^3)))."""
    # x * x * x rather than x ** 3: the same cube, but numpy's power takes a slow path for negative
    # numbers (over 100 times slower here), and the graders run this function for every case.
    return 0.5 * x * (1.0 + np.tanh(np.sqrt(2.0 / np.pi) * (x + 0.044715 * x * x * x)))


def mlp(x, p, prefix):
    """The position-wise feed-forward network d_model -> d_ff -> d_model."""
    return gelu(x @ p[prefix + "W_1"] + p[prefix + "b_1"]) @ p[prefix + "W_2"] + p[prefix + "b_2"]


def tiny_gpt(params, tokens):
    """Logits (seq, vocab_size), float64, of the tiny GPT for a 1-D array of token ids.

    Pre-LN blocks: x = x + attn(ln1(x)), then x = x + mlp(ln2(x)); a final LayerNorm; the
    LM head is the token embedding matrix transposed (tied). Row t of the result scores
    every possible next token after tokens[0..t]. The float32 weights are converted to
    float64 first, so that the arithmetic adds no float32 rounding of its own.
    """
    p = {name: np.asarray(value, dtype=np.float64) for name, value in params.items()
         if not name.startswith("config.") and name != "vocab"}
    n_layers = int(params["config.n_layers"])
    n_heads = int(params["config.n_heads"])
    tokens = np.asarray(tokens)
    context, vocab_size = p["pos_emb"].shape[0], p["tok_emb"].shape[0]
    if tokens.ndim != 1 or not 1 <= len(tokens) <= context:
        raise ValueError(f"tokens must be a 1-D array of 1 to {context} ids, got shape {tokens.shape}")
    if tokens.min() < 0 or tokens.max() >= vocab_size:
        raise ValueError(f"token ids must be in 0 .. {vocab_size - 1}")

    x = p["tok_emb"][tokens] + p["pos_emb"][: len(tokens)]   # (seq, d_model)
    for i in range(n_layers):
        b = f"blocks.{i}."
        x = x + multi_head_attention(layer_norm(x, p[b + "ln1.gamma"], p[b + "ln1.beta"]), p, b + "attn.", n_heads)
        x = x + mlp(layer_norm(x, p[b + "ln2.gamma"], p[b + "ln2.beta"]), p, b + "mlp.")
    x = layer_norm(x, p["ln_f.gamma"], p["ln_f.beta"])
    return x @ p["tok_emb"].T                                 # (seq, vocab_size)
