"""Mistake: uses 4 * d_model for the feed-forward width instead of config["d_ff"]."""


def count_parameters(config):
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
    return int(total)
