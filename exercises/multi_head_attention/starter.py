import numpy as np


def multi_head_attention(x, params, n_heads, mask=None):
    """Multi-head self-attention: n_heads scaled dot-product attentions side by side.

    x: float array (..., seq, d_model), any number of leading batch axes.
    params: dict with "W_q", "W_k", "W_v", "W_o" (d_model, d_model) and
        "b_q", "b_k", "b_v", "b_o" (d_model,); every projection is y @ W + b.
    n_heads: an int that divides d_model; d_head = d_model // n_heads.
    mask: None, or a boolean array broadcastable to (..., seq, seq), True where query i
        may attend to key j; the same mask applies to every head.

    q, k, v = the three projections of x. Head h uses the columns h*d_head to
    (h+1)*d_head of q, k and v and computes softmax(q_h k_h^T / sqrt(d_head)) v_h. The
    heads' outputs are put side by side again in the same column order (back to
    (..., seq, d_model)) and projected with W_o and b_o.

    Returns a float array of x's shape. Do not modify x in place.
    """
    raise NotImplementedError("multi_head_attention: write your implementation here")
