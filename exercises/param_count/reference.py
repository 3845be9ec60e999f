"""Reference solution for the param_count exercise (instructor only: never shipped to students)."""


def _linear(n_in, n_out, bias=True):
    """A dense layer: an n_in x n_out weight matrix, and a bias of n_out unless bias is False."""
    return n_in * n_out + (n_out if bias else 0)


def _layer_norm(d):
    """A LayerNorm over d features: a scale (gamma) and a shift (beta)."""
    return 2 * d


def _rms_norm(d):
    """An RMSNorm over d features: a scale only (no mean is subtracted, so there is no shift)."""
    return d


def _gpt_or_bert(config, arch):
    """GPT-2 and BERT share the transformer block: attention (query, key and value projections,
    GPT-2 fuses them into one d -> 3d layer, plus an output projection: 4 d x d matrices with
    biases either way), a feed-forward network d -> d_ff -> d, and two LayerNorms.

    GPT-2: token and position embeddings, the blocks, a final LayerNorm; the LM head reuses
    the token embedding unless `tied_embeddings` is False.
    BERT: token, position and token-type embeddings with a LayerNorm, the blocks, and an
    optional pooler (a d x d dense layer on the first token).
    """
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
    else:
        total += int(config.get("type_vocab_size", 2)) * d + _layer_norm(d)
        if config.get("pooler", True):
            total += _linear(d, d)
    return total


def _llama(config):
    """LLaMA: no biases anywhere; RMSNorm (a scale only) before each sublayer and once at the end;
    grouped-query attention (the key and value projections have n_kv_heads heads of
    d_head = d_model / n_heads columns each); a SwiGLU feed-forward network of three
    matrices (gate and up: d -> d_ff; down: d_ff -> d); rotary positions, which have no
    parameters; an output layer of its own unless `tied_embeddings` is True.
    """
    n_layers = int(config["n_layers"])
    d = int(config["d_model"])
    d_ff = int(config["d_ff"])
    vocab = int(config["vocab_size"])
    n_heads = int(config["n_heads"])
    n_kv_heads = int(config.get("n_kv_heads", n_heads))
    d_kv = n_kv_heads * (d // n_heads)  # the width of the key (and of the value) projection

    attention = 2 * _linear(d, d, bias=False) + 2 * _linear(d, d_kv, bias=False)  # W_q, W_o; W_k, W_v
    feed_forward = 2 * _linear(d, d_ff, bias=False) + _linear(d_ff, d, bias=False)
    block = attention + feed_forward + 2 * _rms_norm(d)

    total = vocab * d + n_layers * block + _rms_norm(d)
    if not config.get("tied_embeddings", False):
        total += vocab * d  # the output layer (LLaMA's is not tied)
    return total


def count_parameters(config):
    """Trainable parameters of a GPT-2-style ("gpt"), BERT-style ("bert") or LLaMA-style
    ("llama") transformer described by `config`.

    The number of heads splits d_model; it changes the count only through LLaMA's
    grouped-query attention (n_kv_heads < n_heads shrinks the key and value projections).
    Returns a Python int: counts are exact, and Python ints never overflow.
    """
    arch = config["arch"]
    if arch in ("gpt", "bert"):
        return int(_gpt_or_bert(config, arch))
    if arch == "llama":
        return int(_llama(config))
    raise ValueError(f"unknown arch {arch!r}: expected 'gpt', 'bert' or 'llama'")
