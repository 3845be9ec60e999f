import numpy as np


def self_attention(query, key, value, mask=None):
    """Scaled dot-product attention: softmax(query @ key^T / sqrt(d_k)) @ value.

    query: array (..., seq_q, d_k); key: array (..., seq_k, d_k); value: array (..., seq_k, d_v).
        The leading "..." batch axes (none, one or more) are the same for all three.
    mask: None, or a boolean array broadcastable to (..., seq_q, seq_k); True where
        query position i may attend to key position j, False where it may not.

    Returns a float array (..., seq_q, d_v): for each query, the average of the value
    rows weighted by the softmax (over the keys) of its scaled scores. Masked-out keys
    get weight exactly 0. The result must be finite even when scores reach the
    thousands. A query row whose keys are all masked gets an output of zeros (such
    rows are not in the graded cases). Do not modify the inputs in place.
    """
    raise NotImplementedError("self_attention: write your implementation here")
