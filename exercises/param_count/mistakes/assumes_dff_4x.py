"""Mistake: uses 4 * d_model for the feed-forward width instead of config["d_ff"]."""


def _gpt_or_bert(config):
    d, L = config["d_model"], config["n_layers"]
    d_ff = 4 * d
    V, P = config["vocab_size"], config["max_positions"]
    block = (d * 3 * d + 3 * d + d * d + d) + (d * d_ff + d_ff + d_ff * d + d) + 2 * (2 * d)
    total = V * d + P * d + L * block
    if config["arch"] == "gpt":
        total += 2 * d
        if not config.get("tied_embeddings", True):
            total += V * d
    else:
        total += config.get("type_vocab_size", 2) * d + 2 * d
        if config.get("pooler", True):
            total += d * d + d
    return total


def _llama(config):
    d, L, V = config["d_model"], config["n_layers"], config["vocab_size"]
    d_ff = 4 * d
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
