"""Mistake: counts only the weight matrices of the linear layers, no biases (LLaMA has none: right there)."""


def _gpt_or_bert(config):
    d, d_ff, L = config["d_model"], config["d_ff"], config["n_layers"]
    V, P = config["vocab_size"], config["max_positions"]
    block = (d * 3 * d + d * d) + (d * d_ff + d_ff * d) + 2 * (2 * d)
    total = V * d + P * d + L * block
    if config["arch"] == "gpt":
        total += 2 * d
        if not config.get("tied_embeddings", True):
            total += V * d
    else:
        total += config.get("type_vocab_size", 2) * d + 2 * d
        if config.get("pooler", True):
            total += d * d
    return total


def _llama(config):
    d, d_ff, L, V = config["d_model"], config["d_ff"], config["n_layers"], config["vocab_size"]
    n_heads = config["n_heads"]
    d_kv = config.get("n_kv_heads", n_heads) * (d // n_heads)
    block = (d * d + 2 * d * d_kv + d * d) + 3 * d * d_ff + 2 * d
    total = V * d + L * block + d
    if not config.get("tied_embeddings", False):
        total += V * d
    return total


def count_parameters(config):
    if config["arch"] == "llama":
        return int(_llama(config))
    return int(_gpt_or_bert(config))
