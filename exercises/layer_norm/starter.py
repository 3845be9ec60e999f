import numpy as np


def layer_norm(x, gamma, beta, eps=1e-5):
    """Layer normalization over the last axis, as torch.nn.LayerNorm computes it.

    x: float array (..., d); gamma, beta: float arrays (d,); eps: a small positive float.

    For every vector along the last axis: subtract its mean, divide by
    sqrt(variance + eps) with the biased variance (divide by d, not d - 1), then
    scale by gamma and shift by beta. Returns a new float array of x's shape.
    Do not modify x, gamma or beta in place.
    """
    raise NotImplementedError("layer_norm: write your implementation here")
