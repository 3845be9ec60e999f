"""Reference solution for the softmax exercise (instructor only: never shipped to students)."""
import numpy as np


def softmax(x, axis=-1):
    """Softmax of `x` along `axis`, stable for any finite input.

    Subtracting the maximum along `axis` leaves the result unchanged (softmax is
    invariant to adding a constant to every logit) but makes the largest exponent
    exp(0) = 1: nothing overflows, and the denominator is at least 1, so it never
    becomes 0 either. Integer inputs are converted to float64; `x` is never modified.
    """
    x = np.asarray(x)
    if not np.issubdtype(x.dtype, np.floating):
        x = x.astype(np.float64)
    shifted = x - np.max(x, axis=axis, keepdims=True)  # a new array: x is left as it was
    exps = np.exp(shifted)
    return exps / np.sum(exps, axis=axis, keepdims=True)
