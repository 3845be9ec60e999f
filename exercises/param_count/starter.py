def count_parameters(config):
    """The number of trainable parameters of a GPT-2-, BERT- or LLaMA-style transformer.

    config: a dict with
        arch: "gpt", "bert" or "llama"
        n_layers, d_model, n_heads, d_ff, vocab_size: ints; max_positions: an int
            (gpt and bert; llama may have it, but its rotary positions have no parameters)
        gpt only:   tied_embeddings (default True; False adds an LM head of
                    vocab_size x d_model weights, no bias)
        bert only:  type_vocab_size (default 2), pooler (default True: a
                    d_model x d_model dense layer with bias)
        llama only: n_kv_heads (default n_heads), tied_embeddings (default False)

    gpt and bert: learned token and position embeddings; every linear layer has a bias;
    every LayerNorm has a scale and a shift (2 * d_model). GPT: 2 LayerNorms per block
    plus a final one. BERT: an embedding LayerNorm plus 2 per block.
    llama: no biases; RMSNorm (a scale only, d_model) twice per block and once at the
    end; key and value projections of n_kv_heads heads of d_model / n_heads columns;
    a SwiGLU feed-forward network of three matrices; an untied output layer by default.

    Returns a Python int (not a float, even an integral one).
    GPT-2 small gives 124439808; BERT-base gives 109482240; LLaMA-7B gives 6738415616.
    """
    raise NotImplementedError("count_parameters: write your implementation here")
