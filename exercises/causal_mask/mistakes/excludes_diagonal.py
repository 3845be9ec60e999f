"""Mistake: a strictly lower triangle, so a token may not attend to itself."""
import numpy as np


def causal_mask(seq_len):
    return np.tril(np.ones((seq_len, seq_len), dtype=bool), k=-1)
