import numpy as np


def sample(logits, u=None, temperature=1.0, top_k=0, top_p=1.0):
    """Temperature, top-k and top-p (nucleus) sampling, with the random numbers passed in.

    logits: float array (..., V): one next-token distribution per leading index.
    u: None, or a float array of logits' shape without the last axis, values in [0, 1).
    temperature: >= 0; the logits are divided by it. 0 means greedy: all the probability
        on the largest logit (the first one if several are equal).
    top_k: 0 (no limit) or keep only the top_k tokens with the largest logits.
    top_p: 1.0 (no limit) or keep the smallest set of most probable tokens whose
        probability adds up to at least top_p: going down the tokens by decreasing
        probability, keep a token when the tokens before it add up to less than top_p.
    Order: temperature, then top_k, then top_p (on the distribution top_k leaves,
    renormalised). Ties in the order are broken by the smaller token id.

    Returns, when u is None: the renormalised distribution, a float array (..., V) that is
    0 for every removed token and sums to 1 along the last axis.
    When u is given: an int array of u's shape, the token each u draws by inverse
    transform sampling: the first token id i whose cumulative probability
    p[0] + ... + p[i] is greater than u.
    """
    raise NotImplementedError("sample: write your implementation here")
