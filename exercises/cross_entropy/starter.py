import numpy as np


def cross_entropy(logits, targets, ignore_index=-100):
    """The language-modelling loss of a batch of next-token predictions, and its perplexity.

    logits: float array (..., V): one score per vocabulary entry at every position.
    targets: int array (...) (logits' shape without the last axis): the correct next token
        at every position, or ignore_index where there is nothing to predict (padding).
    ignore_index: the target value that marks an ignored position (default -100, as PyTorch).

    loss = the mean, over the positions that are not ignored, of -log_softmax(logits)[target]
    (natural log: nats), where log_softmax runs over the last axis and must stay finite for
    logits as large as +-1e4. perplexity = exp(loss).

    Returns [loss, perplexity]: an array of 2 floats (returning the tuple (loss, perplexity)
    works too). At least one position is not ignored.
    """
    raise NotImplementedError("cross_entropy: write your implementation here")
