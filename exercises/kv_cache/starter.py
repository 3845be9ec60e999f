import numpy as np


def kv_decode(params, cache, tokens):
    """Incremental decoding with a KV cache: logits of new tokens, one token at a time.

    params: dict name -> array, a tiny GPT in the layout of the tiny_gpt exercise:
        "tok_emb" (V, D), "pos_emb" (T, D); for each layer i "blocks.{i}.ln1.gamma/beta",
        "blocks.{i}.attn.W_q/W_k/W_v/W_o" (D, D) and "b_q/b_k/b_v/b_o" (D,),
        "blocks.{i}.ln2.gamma/beta", "blocks.{i}.mlp.W_1" (D, F), "b_1" (F,), "W_2" (F, D), "b_2" (D,);
        "ln_f.gamma", "ln_f.beta"; "config.n_layers", "config.n_heads" (ints).
    cache: dict with "k.{i}" and "v.{i}" for every layer i, each (n_heads, P, d_head): the
        keys and values that layer i's attention computed for the P earlier positions
        0 .. P-1 (head h = columns h*d_head:(h+1)*d_head of k = x @ W_k + b_k). P may be 0.
    tokens: 1-D int array of n new token ids, at positions P .. P+n-1 (P + n <= T).

    Process the new tokens one at a time. For each: embed it (token + position P + j),
    and in every layer compute its q, k, v, append k and v to that layer's cache, attend
    with q over all the cached keys and values (no mask needed), then the output
    projection, the residuals and the MLP as in the tiny GPT; finally ln_f and the tied
    output layer. Keep what you appended for the next token.

    Returns a float array (n, V): row j scores the token after tokens[j]. Do not modify
    the caller's cache arrays (build new ones, e.g. with np.concatenate).
    """
    raise NotImplementedError("kv_decode: write your implementation here")
