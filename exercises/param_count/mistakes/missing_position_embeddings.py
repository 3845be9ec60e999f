"""Mistake: forgets the learned position embeddings (max_positions x d_model)."""


def count_parameters(config):
    d, d_ff, L = config["d_model"], config["d_ff"], config["n_layers"]
    V = config["vocab_size"]
    block = (d * 3 * d + 3 * d + d * d + d) + (d * d_ff + d_ff + d_ff * d + d) + 2 * (2 * d)
    total = V * d + L * block
    if config["arch"] == "gpt":
        total += 2 * d
        if not config.get("tied_embeddings", True):
            total += V * d
    else:
        total += config.get("type_vocab_size", 2) * d + 2 * d
        if config.get("pooler", True):
            total += d * d + d
    return int(total)
