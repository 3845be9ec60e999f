"""Mistake: the right pattern as 0/1 integers instead of booleans."""
import numpy as np


def causal_mask(seq_len):
    return np.tril(np.ones((seq_len, seq_len), dtype=np.int64))
