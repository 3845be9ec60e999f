"""Mistake: all the sines in the first half of the columns, all the cosines in the second."""
import numpy as np


def positional_encoding(seq_len, d_model):
    positions = np.arange(seq_len)[:, None]
    two_i = np.arange(0, d_model, 2)[None, :]
    angles = positions / np.power(10000.0, two_i / d_model)
    return np.concatenate([np.sin(angles), np.cos(angles)], axis=1)
