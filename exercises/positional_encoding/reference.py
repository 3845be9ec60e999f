"""Reference solution for the positional_encoding exercise (instructor only: never shipped to students)."""
import numpy as np


def positional_encoding(seq_len, d_model):
    """PE[pos, 2i] = sin(pos / 10000^(2i/d_model)), PE[pos, 2i+1] = cos(same angle).

    Each pair of columns (2i, 2i+1) is one frequency; the wavelengths grow
    geometrically from 2*pi to 10000*2*pi. The angles form an outer product of the
    positions (a column) and the frequencies (a row); sines and cosines are then
    interleaved by strided assignment. d_model is even by contract.
    """
    positions = np.arange(seq_len, dtype=np.float64)[:, None]       # (seq_len, 1)
    two_i = np.arange(0, d_model, 2, dtype=np.float64)[None, :]     # (1, d_model/2)
    angles = positions / np.power(10000.0, two_i / d_model)        # (seq_len, d_model/2)
    encoding = np.empty((seq_len, d_model), dtype=np.float64)
    encoding[:, 0::2] = np.sin(angles)
    encoding[:, 1::2] = np.cos(angles)
    return encoding
