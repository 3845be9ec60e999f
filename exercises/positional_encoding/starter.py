import numpy as np


def positional_encoding(seq_len, d_model):
    """Sinusoidal positional encodings of Vaswani et al. (2017), section 3.5.

    seq_len: number of positions (a positive int); d_model: the embedding size
    (a positive even int).

    Returns a float array PE of shape (seq_len, d_model) with, for every position pos
    and every i in 0 .. d_model/2 - 1:
        PE[pos, 2i]     = sin(pos / 10000 ** (2i / d_model))
        PE[pos, 2i + 1] = cos(pos / 10000 ** (2i / d_model))
    (sines in the even columns, cosines in the odd ones, angles in radians).
    """
    raise NotImplementedError("positional_encoding: write your implementation here")
