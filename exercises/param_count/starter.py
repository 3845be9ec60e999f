def count_parameters(config):
    """The number of trainable parameters of a GPT-2-style or BERT-style transformer.

    config: a dict with
        arch: "gpt" or "bert"
        n_layers, d_model, n_heads, d_ff, vocab_size, max_positions: ints
        gpt only:  tied_embeddings (default True; False adds an LM head of
                   vocab_size x d_model weights, no bias)
        bert only: type_vocab_size (default 2), pooler (default True: a
                   d_model x d_model dense layer with bias)

    Conventions: learned token and position embeddings; every linear layer has a bias;
    every LayerNorm has a scale and a shift (2 * d_model). GPT: 2 LayerNorms per block
    plus a final one. BERT: an embedding LayerNorm plus 2 per block.

    Returns a Python int (not a float, even an integral one).
    GPT-2 small gives 124439808; BERT-base gives 109482240.
    """
    raise NotImplementedError("count_parameters: write your implementation here")
