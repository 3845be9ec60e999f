"""Reference solution for the param_count exercise (instructor only: never shipped to students)."""


def _linear(n_in, n_out):
    """A dense layer: an n_in x n_out weight matrix and a bias of n_out."""
    return n_in * n_out + n_out


def _layer_norm(d):
    """A LayerNorm over d features: a scale (gamma) and a shift (beta)."""
    return 2 * d


def count_parameters(config):
    """Trainable parameters of a GPT-2-style ("gpt") or BERT-style ("bert") encoder/decoder stack.

    Both share the transformer block: attention (query, key and value projections,
    GPT-2 fuses them into one d -> 3d layer, plus an output projection: 4 d x d
    matrices with biases either way), a feed-forward network d -> d_ff -> d, and two
    LayerNorms. The number of heads splits d_model; it does not change the count.

    GPT-2: token and position embeddings, the blocks, a final LayerNorm; the LM head
    reuses the token embedding unless `tied_embeddings` is False.
    BERT: token, position and token-type embeddings with a LayerNorm, the blocks, and
    an optional pooler (a d x d dense layer on the first token).

    Returns a Python int: counts are exact, and Python ints never overflow.
    """
    arch = config["arch"]
    n_layers = int(config["n_layers"])
    d = int(config["d_model"])
    d_ff = int(config["d_ff"])
    vocab = int(config["vocab_size"])
    positions = int(config["max_positions"])

    attention = _linear(d, 3 * d) + _linear(d, d)
    feed_forward = _linear(d, d_ff) + _linear(d_ff, d)
    block = attention + feed_forward + 2 * _layer_norm(d)

    total = vocab * d + positions * d + n_layers * block
    if arch == "gpt":
        total += _layer_norm(d)  # final LayerNorm
        if not config.get("tied_embeddings", True):
            total += vocab * d  # separate LM head, no bias
    elif arch == "bert":
        total += int(config.get("type_vocab_size", 2)) * d + _layer_norm(d)
        if config.get("pooler", True):
            total += _linear(d, d)
    else:
        raise ValueError(f"unknown arch {arch!r}: expected 'gpt' or 'bert'")
    return int(total)
