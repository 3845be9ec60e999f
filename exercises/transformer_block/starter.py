import numpy as np


def transformer_block(x, params, n_heads, mask=None):
    """One pre-LN Transformer block, as in GPT-2:

        h   = x + multi_head_attention(layer_norm_1(x))
        out = h + mlp(layer_norm_2(h)),   mlp(z) = gelu(z @ W_1 + b_1) @ W_2 + b_2

    x: float array (..., seq, d_model), any number of leading batch axes.
    params: dict of dicts:
        "ln1", "ln2": {"gamma", "beta"} (d_model,)       LayerNorms, eps = 1e-5
        "attn": {"W_q", "W_k", "W_v", "W_o"} (d_model, d_model) and
                {"b_q", "b_k", "b_v", "b_o"} (d_model,)   as in multi_head_attention
        "mlp": {"W_1" (d_model, d_ff), "b_1" (d_ff,), "W_2" (d_ff, d_model), "b_2" (d_model,)}
    n_heads: int dividing d_model. mask: None or boolean, broadcastable to (..., seq, seq).

    gelu is the tanh approximation: 0.5 * z * (1 + tanh(sqrt(2 / pi) * (z + 0.044715 * z**3))).
    Returns a float array of x's shape. Do not modify x in place.
    """
    raise NotImplementedError("transformer_block: write your implementation here")
