"""Mistake: cosines in the even columns and sines in the odd ones."""
import numpy as np


def positional_encoding(seq_len, d_model):
    positions = np.arange(seq_len)[:, None]
    two_i = np.arange(0, d_model, 2)[None, :]
    angles = positions / np.power(10000.0, two_i / d_model)
    encoding = np.empty((seq_len, d_model))
    encoding[:, 0::2] = np.cos(angles)
    encoding[:, 1::2] = np.sin(angles)
    return encoding
