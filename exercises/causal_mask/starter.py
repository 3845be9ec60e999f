import numpy as np


def causal_mask(seq_len):
    """The causal (look-ahead) attention mask for a sequence of `seq_len` tokens.

    seq_len: a positive int.

    Returns a boolean array of shape (seq_len, seq_len) whose entry [i, j] is True
    when query position i may attend to key position j, that is when j <= i
    (a token sees itself and earlier tokens, never later ones). The dtype must be
    bool, not 0/1 integers.
    """
    raise NotImplementedError("causal_mask: write your implementation here")
