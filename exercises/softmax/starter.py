import numpy as np


def softmax(x, axis=-1):
    """Numerically stable softmax of `x` along `axis`.

    x: a numpy array of any shape (float or integer values).
    axis: the axis to normalize over (default: the last one; negative values count from the end).

    Returns a new float array of x's shape: non-negative, summing to 1 along `axis`,
    exp(x) / sum(exp(x)) mathematically, but finite for any finite x (logits of
    1000 or -1000 included). Do not modify x in place.
    """
    raise NotImplementedError("softmax: write your implementation here")
