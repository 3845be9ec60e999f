"""Reference solution for the layer_norm exercise (instructor only: never shipped to students)."""
import numpy as np


def layer_norm(x, gamma, beta, eps=1e-5):
    """Normalize each vector along the last axis, then scale by gamma and shift by beta.

    Matches torch.nn.LayerNorm(d, eps): the variance is the biased one (mean of squared
    deviations, ddof=0) and eps is added inside the square root, so a constant vector
    maps to beta instead of 0/0. Statistics keep their axis (keepdims) to broadcast back
    against x for any number of leading axes; x is never modified.
    """
    x = np.asarray(x, dtype=np.float64)
    mean = np.mean(x, axis=-1, keepdims=True)
    centered = x - mean
    variance = np.mean(centered * centered, axis=-1, keepdims=True)
    x_hat = centered / np.sqrt(variance + eps)
    return gamma * x_hat + beta
