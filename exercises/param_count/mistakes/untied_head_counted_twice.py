"""Mistake: always counts a separate LM head, even when it is tied to the token embedding."""


def count_parameters(config):
    d, d_ff, L = config["d_model"], config["d_ff"], config["n_layers"]
    V, P = config["vocab_size"], config["max_positions"]
    block = (d * 3 * d + 3 * d + d * d + d) + (d * d_ff + d_ff + d_ff * d + d) + 2 * (2 * d)
    total = V * d + P * d + L * block
    if config["arch"] == "gpt":
        total += 2 * d
        total += V * d
    else:
        total += config.get("type_vocab_size", 2) * d + 2 * d
        if config.get("pooler", True):
            total += d * d + d
    return int(total)
