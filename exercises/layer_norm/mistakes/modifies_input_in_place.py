"""Mistake: centers and scales the caller's array in place."""
import numpy as np


def layer_norm(x, gamma, beta, eps=1e-5):
    x -= np.mean(x, axis=-1, keepdims=True)
    x /= np.sqrt(np.mean(x * x, axis=-1, keepdims=True) + eps)
    return gamma * x + beta
