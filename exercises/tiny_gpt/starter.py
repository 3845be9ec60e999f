import numpy as np


def tiny_gpt(params, tokens):
    """The forward pass of a tiny character-level GPT: logits for every position.

    params: dict name -> numpy array, the course's weights.npz (float32 weights). With
        V = vocab_size, T = context, D = d_model, F = d_ff, i = 0 .. n_layers - 1:
        "tok_emb" (V, D)  token embeddings, also the output layer (tied: logits = x @ tok_emb.T)
        "pos_emb" (T, D)  learned position embeddings
        "blocks.{i}.ln1.gamma", "blocks.{i}.ln1.beta"  (D,)   LayerNorm before attention
        "blocks.{i}.attn.W_q", "...W_k", "...W_v", "...W_o"  (D, D), and b_q, b_k, b_v, b_o (D,)
        "blocks.{i}.ln2.gamma", "blocks.{i}.ln2.beta"  (D,)   LayerNorm before the MLP
        "blocks.{i}.mlp.W_1" (D, F), "blocks.{i}.mlp.b_1" (F,)
        "blocks.{i}.mlp.W_2" (F, D), "blocks.{i}.mlp.b_2" (D,)
        "ln_f.gamma", "ln_f.beta"  (D,)   the final LayerNorm
        "vocab" (V,) int32 code points; "config.n_layers", "config.n_heads", "config.d_model",
        "config.d_ff", "config.context", "config.vocab_size": 0-d int32 arrays (use int(...)).
        Every weight matrix is applied as x @ W + b.
    tokens: 1-D int array of token ids (0 .. V - 1), length 1 .. T.

    Returns a float64 array (len(tokens), V): row t scores each possible next token after
    tokens[0 .. t].

    The model: x = tok_emb[tokens] + pos_emb[:seq]; then for each block
    x = x + attn(ln1(x)) and x = x + mlp(ln2(x)) (pre-LN); then the final LayerNorm and the
    tied output layer. attn is causal multi-head self-attention (heads are contiguous
    column slices of q, k and v; scores scaled by 1/sqrt(d_head)); mlp uses GELU with the
    tanh approximation; every LayerNorm uses eps = 1e-5.
    """
    raise NotImplementedError("tiny_gpt: write your implementation here")
