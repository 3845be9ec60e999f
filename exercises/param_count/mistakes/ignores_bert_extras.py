"""Mistake: counts BERT like GPT-2: no token-type embeddings and no pooler."""


def count_parameters(config):
    d, d_ff, L = config["d_model"], config["d_ff"], config["n_layers"]
    V, P = config["vocab_size"], config["max_positions"]
    block = (d * 3 * d + 3 * d + d * d + d) + (d * d_ff + d_ff + d_ff * d + d) + 2 * (2 * d)
    total = V * d + P * d + L * block + 2 * d
    if config["arch"] == "gpt" and not config.get("tied_embeddings", True):
        total += V * d
    return int(total)
