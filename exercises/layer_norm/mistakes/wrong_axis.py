"""Mistake: normalizes over axis 0 (across the batch) instead of the last axis."""
import numpy as np


def layer_norm(x, gamma, beta, eps=1e-5):
    mean = np.mean(x, axis=0, keepdims=True)
    variance = np.var(x, axis=0, keepdims=True)
    return gamma * (x - mean) / np.sqrt(variance + eps) + beta
