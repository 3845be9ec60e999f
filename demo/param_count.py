"""Lesson 3, exercise 3: how many parameters has GPT-2?"""


def count_parameters(config):
    d = config["d_model"]
    d_ff = config["d_ff"]
    layers = config["n_layers"]
    if config["arch"] == "llama":
        return count_llama(config)

    embeddings = config["vocab_size"] * d + config["max_positions"] * d
    attention = 4 * d * d           # query, key, value and output projections
    feed_forward = 2 * d * d_ff     # up to d_ff and back down
    layer_norms = 2 * 2 * d         # two per block, scale and shift
    total = embeddings + layers * (attention + feed_forward + layer_norms)

    if config["arch"] == "gpt":
        total += 2 * d              # the final LayerNorm
        if not config.get("tied_embeddings", True):
            total += config["vocab_size"] * d
    else:
        total += config.get("type_vocab_size", 2) * d + 2 * d   # token types + embedding LayerNorm
        if config.get("pooler", True):
            total += d * d
    return total


def count_llama(config):
    """LLaMA has no biases at all: RMSNorms, grouped-query attention, three SwiGLU matrices."""
    d, d_ff, layers, vocab = config["d_model"], config["d_ff"], config["n_layers"], config["vocab_size"]
    d_kv = config.get("n_kv_heads", config["n_heads"]) * (d // config["n_heads"])
    block = 2 * d * d + 2 * d * d_kv + 3 * d * d_ff + 2 * d
    head = 0 if config.get("tied_embeddings", False) else vocab * d
    return vocab * d + layers * block + d + head
