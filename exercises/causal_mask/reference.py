"""Reference solution for the causal_mask exercise (instructor only: never shipped to students)."""
import numpy as np


def causal_mask(seq_len):
    """True on and below the diagonal: query i may attend to every key j <= i.

    np.tril keeps the lower triangle, diagonal included (k=0); building it from a
    bool array keeps the dtype bool.
    """
    return np.tril(np.ones((seq_len, seq_len), dtype=bool))
