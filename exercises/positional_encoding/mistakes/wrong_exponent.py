"""Mistake: uses the pair index i over d_model as the exponent (i/d_model, not 2i/d_model)."""
import numpy as np


def positional_encoding(seq_len, d_model):
    positions = np.arange(seq_len)[:, None]
    i = np.arange(d_model // 2)[None, :]
    angles = positions / np.power(10000.0, i / d_model)
    encoding = np.empty((seq_len, d_model))
    encoding[:, 0::2] = np.sin(angles)
    encoding[:, 1::2] = np.cos(angles)
    return encoding
